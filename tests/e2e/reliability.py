#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Reliability end-to-end tests (doc/reliability.md): overload, full and
unwritable output directories, stops and kills, NIC counters, conservation
under load, bad input, and the security rules on output files.

Usage: reliability.py CASE    (meson runs one test per case; exit 77 = skipped)
Environment: as e2e.py (DPFLOW, GENCAP, DATA); helpers come from e2e.py.

No case depends on timing for its verdict: cases that need the program in a
state (output blocked, records lost, a temporary on disk) wait for the log
line or the file that shows it, with a generous time limit, then check
counts that must hold exactly.
"""
import errno
import gzip
import json
import os
import re
import shlex
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402  (e2e.main: the __main__ of every script)
from e2e import (DATA, DPFLOW, EAL, EAL1, EAL4, META, SAMPLE, SAMPLE_EXPECT, SKIP,  # noqa: E402
                 Fail, check, counters, diff_text, expect_same, gencap, render, run)

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1700000000                  # aligned to every window length used here
WAIT = 90                        # seconds to wait for a state before failing


class Skip(Exception):
    pass


# ---------------------------------------------------------------- captures

def ipv4_udp(src, dst, sport, dport, payload=0):
    """An Ethernet/IPv4/UDP frame (padded to 60 bytes); IP total length
    28 + payload. Checksums are left 0: dpflow does not read them."""
    ip_len = 28 + payload
    frame = (b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
             + struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, 0, 0, 64, 17, 0, src, dst)
             + struct.pack("!HHHH", sport, dport, 8 + payload, 0) + bytes(payload))
    return frame + bytes(max(0, 60 - len(frame)))


ARP = (b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01\x08\x06" + bytes(46))
TRUNC_IPV4 = b"\x02" * 12 + b"\x08\x00" + b"\x45\x00\x00"          # 17 bytes


def a4(x):
    return struct.pack("!I", x)


def write_pcap(path, packets):
    """packets: iterable of (t_us, frame) in file order."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        out = []
        for t, fr in packets:
            out.append(struct.pack("<IIII", t // 1000000, t % 1000000, len(fr), len(fr)))
            out.append(fr)
            if len(out) >= 65536:
                f.write(b"".join(out))
                out = []
        f.write(b"".join(out))


def flood_pcap(path, n_flows, port_base=0):
    """n_flows UDP flows of one packet each: for net_pcap's infinite_rx,
    which replays them forever (its mbuf pool takes about 2500 frames)."""
    write_pcap(path, ((T0 * 1000000 + i, ipv4_udp(a4(0x0A010000 + port_base + i),
                                                   a4(0xC0000201), 1024 + i, 53))
                      for i in range(n_flows)))


def rows_of(text):
    """Records of a v2 output as lists of fields (header dropped)."""
    return [l.split(" ") for l in text.splitlines()[1:]]


def read_file(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt").read()
    if path.endswith(".zst"):
        p = subprocess.run(["zstd", "-dcq", path], capture_output=True, text=True)
        check(p.returncode == 0, f"{path} does not decompress: {p.stderr}")
        return p.stdout
    return open(path).read()


def all_files(d):
    """Every file and symlink under d, hidden ones included (glob skips those)."""
    out = []
    for root, dirs, files in os.walk(d):
        out += [os.path.join(root, f) for f in files]
        out += [os.path.join(root, x) for x in dirs if os.path.islink(os.path.join(root, x))]
    return sorted(out)


def published(d):
    """Published files under d (names not starting with '.'), and temporaries."""
    paths = all_files(d)
    pub = [p for p in paths if not os.path.basename(p).startswith(".")]
    tmp = [p for p in paths if os.path.basename(p).startswith(".")]
    return pub, tmp


def check_files_complete(d):
    """Every published file decompresses whole, starts with the header and
    has well-formed lines; returns all record rows."""
    pub, _ = published(d)
    rows = []
    for p in pub:
        lines = read_file(p).splitlines()
        check(len(lines) >= 1, f"{p}: empty")
        n = len(lines[0].split(" "))
        check(lines[0].startswith("version "), f"{p}: no header")
        for l in lines[1:]:
            f = l.split(" ")
            check(len(f) == n and all(f), f"{p}: malformed line {l!r}")
            rows.append(f)
    return rows


# ---------------------------------------------------------------- live runs

class Live:
    """dpflow in the background; stderr read line by line so a case can wait
    for the line that shows a state."""

    def __init__(self, eal, opts, prefix=()):
        self.cmd = list(prefix) + [DPFLOW] + eal + ["--"] + opts
        self.p = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        self.err = []
        self.out = []
        self.cv = threading.Condition()
        self.threads = [threading.Thread(target=self._read, args=(self.p.stderr, self.err)),
                        threading.Thread(target=self._read, args=(self.p.stdout, self.out))]
        for t in self.threads:
            t.daemon = True
            t.start()

    def _read(self, stream, into):
        for line in stream:
            with self.cv:
                into.append(line)
                self.cv.notify_all()
        with self.cv:
            self.cv.notify_all()

    def wait_for(self, pattern, timeout=WAIT, start=0):
        """Index of the first stderr line from `start` matching pattern."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for i in range(start, len(self.err)):
                    if rx.search(self.err[i]):
                        return i
                if self.p.poll() is not None and all(not t.is_alive() for t in self.threads):
                    raise Fail(f"dpflow exited ({self.p.returncode}) before {pattern!r}:\n"
                               + "".join(self.err[-30:]))
                left = deadline - time.monotonic()
                if left <= 0:
                    self.kill()
                    raise Fail(f"no {pattern!r} within {timeout} s:\n" + "".join(self.err[-30:]))
                self.cv.wait(min(left, 1.0))

    def wait_until(self, predicate, what, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.p.poll() is not None:
                raise Fail(f"dpflow exited ({self.p.returncode}) before {what}:\n"
                           + "".join(self.err[-30:]))
            if time.monotonic() > deadline:
                self.kill()
                raise Fail(f"not {what} within {timeout} s")
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM, timeout=WAIT):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Fail(f"dpflow did not stop within {timeout} s after {sig!r}")
        for t in self.threads:
            t.join(timeout)
        return self.p.returncode, "".join(self.out), "".join(self.err)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def flood_eal(pcaps):
    """EAL options for net_pcap ports replaying captures forever (a live feed).
    Three lcores: main, one RX core, and the pipeline on its own, so that the
    main loop (progress lines, signals) runs even while the pipeline waits."""
    eal = EAL + ["--lcores", "(0-2)@(0-1)"]
    for i, p in enumerate(pcaps):
        eal += ["--vdev", f"net_pcap{i},rx_pcap={p},infinite_rx=1"]
    return eal


class Tmpfs:
    """A small tmpfs that the case can fill; skipped where mounting is impossible."""

    def __init__(self, size):
        self.dir = tempfile.mkdtemp(prefix="dpflow-tmpfs.")
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                            self.dir], capture_output=True, text=True)
        if p.returncode != 0:
            os.rmdir(self.dir)
            raise Skip(f"cannot mount a tmpfs here ({p.stderr.strip()}): needs root "
                       "or CAP_SYS_ADMIN")

    def fill(self):
        """Take every free byte; returns the filler's path."""
        path = os.path.join(self.dir, "filler")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        chunk = bytes(1 << 16)
        try:
            while True:
                os.write(fd, chunk)
        except OSError:
            pass
        finally:
            os.close(fd)
        return path

    def close(self):
        subprocess.run(["umount", "-l", self.dir], capture_output=True)
        try:
            os.rmdir(self.dir)
        except OSError:
            pass


def writer_accounting(c, files_rows):
    """Every row the pipeline emitted is in a published file or counted lost."""
    offered = (int(c["pipeline records"]) + int(c["pipeline nodata-rows"])
               + int(c["pipeline skipdata-rows"]))
    lost = int(c["writer lost-lines"])
    check(len(files_rows) + lost == offered,
          f"rows in files {len(files_rows)} + lost {lost} != rows emitted {offered}")
    return lost


# ---------------------------------------------------------------- overload

def case_table_full_exact():
    """Flow table full: flows that were in the table before it filled keep
    exact counts (against the generator's model), the new flows' packets are
    counted as lost and reported by one SKIPDATA row for that interface and
    window, and the table holds exactly its configured size."""
    W, E, F, CAP, RXQ = 10, 300, 8000, 1000, 2
    pkts, model = [], {}
    base = T0 * 1000000

    def early(e, t, payload):
        key = ("10.0.%d.%d" % (e >> 8, e & 255), 1000 + e)
        w = (t - base) // (W * 1000000)
        m = model.setdefault((w, key), [0, 0])
        m[0] += 1
        m[1] += 28 + payload
        return (t, ipv4_udp(a4(0x0A000000 + e), a4(0xC0000201), 1000 + e, 53, payload))

    # Window 0: early flows, then a flood of new flows, then the early flows again.
    for e in range(E):
        pkts.append(early(e, base + e, e % 40))
    t = base + 1000000
    for i in range(F):
        pkts.append((t + i * 100, ipv4_udp(a4(0x0A020000 + i), a4(0xC0000202), 2000 + i % 50000,
                                           80)))
    pkts.append((t + F * 100, ARP))
    pkts.append((t + F * 100 + 1, TRUNC_IPV4))
    t = base + 5000000
    for k in range(7):
        for e in range(E):
            if k < 1 + e % 7:
                pkts.append(early(e, t + k * 10000 + e, (e * 3 + k) % 100))
    # Window 1: a fresh table; everything fits, no SKIPDATA.
    t = base + W * 1000000
    for e in range(E):
        pkts.append(early(e, t + e, 7))
    for i in range(500):
        pkts.append((t + 100000 + i, ipv4_udp(a4(0x0A030000 + i), a4(0xC0000203), 3000, 80)))
    with tempfile.TemporaryDirectory() as d:
        pcap = os.path.join(d, "full.pcap")
        write_pcap(pcap, pkts)
        rc, out, err = run(EAL4, ["--replay", pcap, "--window", str(W), "--output", "-",
                                  "--rxq", str(RXQ), "--flows-per-core", str(CAP)] + META)
    check(rc == 0, f"exit {rc}: {err[-2000:]}")
    c = counters(err)
    rows = rows_of(out)
    ok = [r for r in rows if r[13] == "OK"]
    skip = [r for r in rows if r[13] == "SKIPDATA"]
    # One SKIPDATA row: the interface of the replay port, window 0 only.
    check(len(skip) == 1, f"one SKIPDATA row expected, got {len(skip)}")
    check(skip[0][2] == META[3] and int(skip[0][10]) == T0 and int(skip[0][11]) == T0 + W,
          f"SKIPDATA row for the wrong interface or window: {skip[0]}")
    check(all(r[3:10] == ["-"] * 7 for r in skip), "SKIPDATA rows carry no flow fields")
    # Early flows: exact packets and bytes in both windows.
    got = {}
    for r in ok:
        w = (int(r[10]) - T0) // W
        got[(w, (r[3], int(r[5])))] = [int(r[8]), int(r[9])]
    for k, v in model.items():
        check(got.get(k) == v, f"flow {k}: model {v}, dpflow {got.get(k)}")
    # The tables held exactly their configured size in window 0, nothing more.
    w0 = [r for r in ok if int(r[10]) < T0 + W]
    check(len(w0) == RXQ * CAP, f"window 0: {len(w0)} flows kept, tables hold {RXQ * CAP}")
    w1 = [r for r in ok if int(r[10]) >= T0 + W]
    check(len(w1) == E + 500, f"window 1 has every flow: {len(w1)}")
    lost = int(c["total lost-table-full"])
    flood_kept = len(w0) - E
    check(lost == F - flood_kept, f"lost-table-full {lost} != flood flows not kept {F - flood_kept}")
    check(int(c["total lost-no-table"]) == 0, "no overrun with the packet clock")
    check(int(c["pipeline lost-packets"]) == lost, "the SKIPDATA row reports every lost packet")
    rec = sum(int(r[8]) for r in ok)
    others = int(c["total not-ip"]) + int(c["total malformed"])
    check(others == 2, f"one ARP and one truncated frame: {others}")
    check(rec + lost + others == len(pkts), f"conservation: {rec}+{lost}+{others} != {len(pkts)}")
    check(c["conservation"] == "ok", "dpflow's conservation line")
    check(int(c["total flows-created"]) == len(ok), "one flow created per record")
    print(f"  window 0: {len(w0)} flows kept ({E} early, exact), {lost} packets of "
          f"{F - flood_kept} new flows lost-table-full, 1 SKIPDATA row")


def case_overload_packet_clock_waits():
    """A writer far slower than the RX cores, with the packet clock (replay):
    the RX cores wait for the pipeline on purpose, so nothing is lost and the
    output is the model's, record for record."""
    W, N = 1, 6
    pkts, model = [], {}
    base = T0 * 1000000
    for w in range(N):
        for i in range(6000):
            t = base + w * 1000000 + i * 100
            src = a4(0x0A100000 + w * 8192 + i)
            pkts.append((t, ipv4_udp(src, a4(0xC0000201), 1000 + i % 30000, 53, i % 64)))
            model[(w, ".".join(map(str, src)), 1000 + i % 30000)] = 28 + i % 64
    with tempfile.TemporaryDirectory() as d:
        pcap = os.path.join(d, "slow.pcap")
        write_pcap(pcap, pkts)
        rc, out, err = run(EAL4, ["--replay", pcap, "--window", str(W), "--output", "-",
                                  "--rxq", "2", "--shards-per-core", "2",
                                  "--test-writer-delay", "15"] + META, timeout=300)
    check(rc == 0, f"exit {rc}: {err[-2000:]}")
    c = counters(err)
    for k in ("total lost-table-full", "total lost-no-table", "total late",
              "pipeline skipdata-rows", "writer lost-lines"):
        check(int(c[k]) == 0, f"{k} = {c[k]}: nothing may be lost with the packet clock")
    got = {}
    for r in rows_of(out):
        check(r[13] == "OK", f"unexpected row {r}")
        got[((int(r[10]) - T0) // W, r[3], int(r[5]))] = int(r[9])
    check(got == model, f"records differ from the model ({len(got)} vs {len(model)})")
    print(f"  backpressure: replay ring-full-waits {c['replay ring-full-waits']}")


def case_overload_wall_clock_counts():
    """A writer far slower than the RX cores, with the wall clock: the RX
    core never waits; windows it cannot keep (no free table) are counted as
    lost-no-table and reported by SKIPDATA rows; nothing is silently lost."""
    with tempfile.TemporaryDirectory() as d:
        pcaps = []
        for i in range(2):
            pcaps.append(os.path.join(d, f"feed{i}.pcap"))
            flood_pcap(pcaps[-1], 2000, port_base=i * 4096)
        live = Live(flood_eal(pcaps), ["--clock", "wall", "--window", "1", "--output", "-",
                                       "--shards-per-core", "2", "--stats-period", "1",
                                       "--test-writer-delay", "1000"] + META)
        live.wait_for(r"^dpflow: rx .* lost [1-9]")
        rc, out, err = live.stop()
    check(rc == 0, f"exit {rc}: {err[-2000:]}")
    c = counters(err)
    lost = int(c["total lost-no-table"]) + int(c["total lost-table-full"])
    check(int(c["total lost-no-table"]) > 0, "the overrun was counted as lost-no-table")
    check(int(c["pipeline lost-packets"]) == lost,
          f"SKIPDATA rows report {c['pipeline lost-packets']} of {lost} lost packets")
    rows = rows_of(out)
    skip = [r for r in rows if r[13] == "SKIPDATA"]
    check(len(skip) == int(c["pipeline skipdata-rows"]) and skip, "SKIPDATA rows in the output")
    rec = sum(int(r[8]) for r in rows if r[13] == "OK")
    others = int(c["total not-ip"]) + int(c["total malformed"]) + int(c["total late"])
    check(rec + lost + others == int(c["total rx-packets"]),
          f"conservation: {rec} + {lost} + {others} != {c['total rx-packets']}")
    check(c["conservation"] == "ok", "dpflow's conservation line")
    for p in range(2):
        check(c[f"port {p} nic-ipackets"] == c[f"port {p} rx-packets"],
              f"port {p}: the NIC's count equals dpflow's")
    print(f"  rx {c['total rx-packets']}, in records {rec}, lost-no-table "
          f"{c['total lost-no-table']}, SKIPDATA rows {len(skip)}, windows "
          f"{c['pipeline windows']}")


# ---------------------------------------------------------------- output errors

def output_run(d, pcaps, extra=(), prefix=()):
    return Live(flood_eal(pcaps), ["--clock", "wall", "--window", "1", "--output", d,
                                   "--stats-period", "1"] + list(extra) + META, prefix=prefix)


def feeds(d, n=2):
    out = []
    for i in range(n):
        out.append(os.path.join(d, f"feed{i}.pcap"))
        flood_pcap(out[-1], 2000, port_base=i * 4096)
    return out


def case_disk_full():
    """The output file system fills up mid-run: a clear log line, records
    held in memory and retried; space returns, everything is written, nothing
    lost, the run goes on."""
    fs = Tmpfs("4m")
    try:
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(fs.dir, "out")
            live = output_run(out, feeds(d), ["--compress", "none"])
            live.wait_for(r"^dpflow: rx .* records [1-9]")
            filler = fs.fill()
            i = live.wait_for(r"^dpflow: output: .*: No space left on device; holding records "
                              r"in memory \(up to 64 MB, --hold-mb\) and retrying")
            # Held for a while: two more windows go into memory.
            live.wait_for(r"^dpflow: rx ", start=i + 1)
            j = live.wait_for(r"^dpflow: rx ", start=i + 1)
            live.wait_for(r"^dpflow: rx ", start=j + 1)
            os.unlink(filler)
            live.wait_for(r"^dpflow: output: writable again after [0-9.]+ s; held records "
                          r"written, 0 lost meanwhile", start=i)
            live.wait_for(r"^dpflow: rx ", start=j + 1)
            rc, _, err = live.stop()
            check(rc == 0, f"exit {rc}: {err[-2000:]}")
            c = counters(err)
            rows = check_files_complete(out)
            _, tmp = published(out)
            check(not tmp, f"temporaries left: {tmp}")
            check(writer_accounting(c, rows) == 0, "nothing lost")
            check(int(c["writer outages"]) == 1, "one outage")
            check(int(c["writer held-bytes-max"]) > 128 * 1024, "records were held in memory")
            check(sum(int(r[8]) for r in rows if r[13] == "OK") ==
                  int(c["total logged-packets"]), "every logged packet is in a file")
            m = re.search(r"writable again after ([0-9.]+) s", err)
            print(f"  outage {m.group(1)} s, held up to {c['writer held-bytes-max']} bytes, "
                  f"{len(rows)} rows published, 0 lost, {c['writer retries']} retries")
    finally:
        fs.close()


def case_ibm_disk_full():
    """The IBM objects' file system fills up mid-run: a clear log line, the
    objects held in memory and retried; space returns, every window's object
    is published whole, nothing lost, no temporary left."""
    fs = Tmpfs("4m")
    try:
        with tempfile.TemporaryDirectory() as d:
            ibm = os.path.join(fs.dir, "ibm")
            live = output_run(os.path.join(d, "out"), feeds(d),
                              ["--compress", "none", "--ibm-output", ibm])
            live.wait_for(r"^dpflow: rx .* records [1-9]")
            filler = fs.fill()
            i = live.wait_for(r"^dpflow: ibm-output: .*: No space left on device; holding "
                              r"objects in memory \(up to 64 MB, --hold-mb\) and retrying")
            j = live.wait_for(r"^dpflow: rx ", start=i + 1)
            live.wait_for(r"^dpflow: rx ", start=j + 1)
            os.unlink(filler)
            live.wait_for(r"^dpflow: ibm-output: writable again after [0-9.]+ s; held "
                          r"objects written", start=i)
            live.wait_for(r"^dpflow: rx ", start=j + 1)
            rc, _, err = live.stop()
            check(rc == 0, f"exit {rc}: {err[-2000:]}")
            c = counters(err)
            check(c["ibm objects-failed"] == "0" and c["ibm flow-logs-lost"] == "0",
                  f"lost: {c['ibm objects-failed']} objects")
            check(int(c["ibm outages"]) == 1 and c["ibm held-bytes"] == "0", "one outage")
            names, starts, logs = [], [], 0
            for root, _, files in os.walk(ibm):
                for n in files:
                    names.append(n)
                    with open(os.path.join(root, n), "rb") as f:
                        o = json.loads(gzip.decompress(f.read()))
                    starts.append((o["network_interface_id"], o["capture_start_time"]))
                    logs += len(o["flow_logs"])
            check(not [n for n in names if n.startswith(".")], f"temporaries left: {names}")
            check(len(names) == int(c["ibm objects"]), f"{len(names)} objects on disk, "
                  f"{c['ibm objects']} counted")
            check(logs == int(c["ibm flow-logs"]), "every flow log is in an object")
            # One object a window and interface (few flows): no window missing.
            for eni in {e for e, _ in starts}:
                secs = sorted(calendar_seconds(t) for e, t in starts if e == eni)
                check(len(secs) > 3 and secs == list(range(secs[0], secs[0] + len(secs))),
                      f"{eni}: windows {secs}")
            print(f"  {len(names)} objects, {logs} flow logs, 0 lost, outage of "
                  f"{re.search(r'writable again after ([0-9.]+) s', err).group(1)} s")
    finally:
        fs.close()


def calendar_seconds(rfc3339):
    import calendar
    return calendar.timegm(time.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ"))


def case_disk_full_hold_limit_and_stop():
    """The disk stays full: once --hold-mb is reached records are counted as
    lost (and said so); a stop retries for 5 s, then counts what is held as
    lost, removes its temporaries and exits non-zero. Every row emitted is in
    a published file or in writer lost-lines."""
    fs = Tmpfs("4m")
    try:
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(fs.dir, "out")
            live = output_run(out, feeds(d), ["--compress", "none", "--hold-mb", "1"])
            live.wait_for(r"^dpflow: rx .* records [1-9]")
            fs.fill()
            i = live.wait_for(r"No space left on device; holding records in memory "
                              r"\(up to 1 MB")
            live.wait_for(r"^dpflow: output: 1 MB held, the --hold-mb limit: records are now "
                          r"counted as lost", start=i)
            rc, _, err = live.stop()
            check("dpflow: output: still blocked after 5 s at stop: " in err,
                  "the stop gives up after its retries, and says so")
            check(rc != 0, "records were lost: the exit status says so")
            c = counters(err)
            rows = check_files_complete(out)
            _, tmp = published(out)
            check(not tmp, f"temporaries left: {tmp}")
            lost = writer_accounting(c, rows)
            check(lost > 0, "records were lost and counted")
            check(c["conservation"] == "ok", "the RX side lost nothing")
            print(f"  {len(rows)} rows published, {lost} counted in writer lost-lines, "
                  f"exit status {rc}")
    finally:
        fs.close()


def case_unwritable_dir():
    """The output directory is not writable (EACCES): held and retried, then
    written once the permission is back. Run without CAP_DAC_OVERRIDE so that
    permissions apply to root as to anyone."""
    prefix = []
    if os.geteuid() == 0:
        if subprocess.run(["which", "setpriv"], capture_output=True).returncode != 0:
            raise Skip("root without setpriv: cannot drop CAP_DAC_OVERRIDE")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search",
                  "--inh-caps=-dac_override,-dac_read_search"]
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out")
        os.mkdir(out, 0o555)
        live = output_run(out, feeds(d), ["--compress", "gzip"], prefix=prefix)
        i = live.wait_for(r"^dpflow: output: .*/out/AWSLogs: Permission denied; holding records")
        live.wait_for(r"^dpflow: rx .* records [1-9]", start=i)
        os.chmod(out, 0o755)
        live.wait_for(r"^dpflow: output: writable again .* 0 lost meanwhile", start=i)
        rc, _, err = live.stop()
        check(rc == 0, f"exit {rc}: {err[-2000:]}")
        c = counters(err)
        rows = check_files_complete(out)
        check(writer_accounting(c, rows) == 0, "nothing lost")
        check(sum(int(r[8]) for r in rows if r[13] == "OK") == int(c["total logged-packets"]),
              "every logged packet is in a file")


def case_readonly_fs():
    """The output file system is read-only (EROFS): held and retried, then
    written once it is read-write again. (A file system with files open for
    writing cannot be made read-only, so it is read-only from the start.)"""
    fs = Tmpfs("16m")
    try:
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(fs.dir, "out")
            os.mkdir(out)
            p = subprocess.run(["mount", "-o", "remount,ro", fs.dir], capture_output=True,
                               text=True)
            if p.returncode != 0:
                raise Skip(f"cannot remount read-only: {p.stderr.strip()}")
            live = output_run(out, feeds(d, 1))
            i = live.wait_for(r"^dpflow: output: .*/out/AWSLogs: Read-only file system; "
                              r"holding records")
            live.wait_for(r"^dpflow: rx .* records [1-9]", start=i)
            p = subprocess.run(["mount", "-o", "remount,rw", fs.dir], capture_output=True,
                               text=True)
            check(p.returncode == 0, f"remount rw: {p.stderr}")
            live.wait_for(r"^dpflow: output: writable again .* 0 lost meanwhile", start=i)
            rc, _, err = live.stop()
            check(rc == 0, f"exit {rc}: {err[-2000:]}")
            rows = check_files_complete(out)
            check(writer_accounting(counters(err), rows) == 0, "nothing lost")
    finally:
        fs.close()


def case_fsync_fails_thin_disk():
    """Thin-provisioned storage runs out: ext4 on a loop device whose sparse
    image lives on a tmpfs too small for it. write() succeeds, the kernel's
    writeback fails, and fsync at publish reports it. dpflow abandons the
    file (its pages may be gone), removes the temporary, counts its records
    as lost and exits non-zero: nothing partial is ever published."""
    for tool in ("losetup", "mkfs.ext4"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            raise Skip(f"{tool} not installed")
    back = Tmpfs("6m")
    loop, mnt = None, tempfile.mkdtemp(prefix="dpflow-ext4.")
    try:
        img = os.path.join(back.dir, "img")
        with open(img, "wb") as f:
            f.truncate(64 << 20)
        subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True, capture_output=True)
        p = subprocess.run(["losetup", "-f", "--show", img], capture_output=True, text=True)
        if p.returncode != 0:
            raise Skip(f"no loop device: {p.stderr.strip()}")
        loop = p.stdout.strip()
        p = subprocess.run(["mount", "-o", "errors=continue", loop, mnt], capture_output=True,
                           text=True)
        if p.returncode != 0:
            loop_dev, loop = loop, None
            subprocess.run(["losetup", "-d", loop_dev])
            raise Skip(f"cannot mount ext4 on a loop device: {p.stderr.strip()}")
        # Most of the backing space goes to a file that does reach the disk.
        fd = os.open(os.path.join(mnt, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            for _ in range(80):
                os.write(fd, os.urandom(1 << 16))
            os.fsync(fd)
        finally:
            os.close(fd)
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(mnt, "out")
            live = output_run(out, feeds(d), ["--compress", "none"])
            i = live.wait_for(r"^dpflow: rx .* records [1-9]")
            live.wait_for(r"^dpflow: rx .* records [1-9]", start=i + 1)
            rc, _, err = live.stop()
        c = counters(err)
        check(rc != 0, "records were lost: the exit status says so")
        check("dpflow: output: publishing the last files failed" in err, "logged")
        check(int(c["writer files-abandoned"]) >= 1, "the file was given up")
        rows = check_files_complete(out)
        _, tmp = published(out)
        if tmp:
            # ext4 aborts its journal on such errors and turns read-only: then
            # even the removal fails, and the next start sees a leftover.
            try:
                os.close(os.open(os.path.join(out, "probe"), os.O_CREAT | os.O_WRONLY, 0o600))
                raise Fail(f"temporaries left on a writable file system: {tmp}")
            except OSError as e:
                check(e.errno == errno.EROFS, f"temporaries left: {tmp} ({e})")
        lost = writer_accounting(c, rows)
        check(lost > 0, "its records were counted as lost")
        print(f"  fsync failed at publish: {c['writer files-abandoned']} file(s) abandoned, "
              f"{lost} records counted lost, {len(rows)} published, temporaries left "
              f"{len(tmp)} ({'file system now read-only' if tmp else 'removed'})")
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)
        if loop:
            subprocess.run(["losetup", "-d", loop], capture_output=True)
        os.rmdir(mnt)
        back.close()


def case_symlink_attack():
    """A symbolic link an attacker placed in the output tree is never
    followed: nothing is written where it points; once it is gone the held
    records land where they belong."""
    with tempfile.TemporaryDirectory() as d:
        out, victim = os.path.join(d, "out"), os.path.join(d, "victim")
        os.makedirs(out)
        os.makedirs(victim)
        os.symlink(victim, os.path.join(out, "AWSLogs"))
        live = output_run(out, feeds(d, 1))
        i = live.wait_for(r"^dpflow: output: .*/out/AWSLogs: Too many levels of symbolic links "
                          r"\(a symbolic link: dpflow never follows one below --output\); "
                          r"holding records")
        live.wait_for(r"^dpflow: rx .* records [1-9]", start=i)
        check(os.listdir(victim) == [], "nothing written through the link")
        os.unlink(os.path.join(out, "AWSLogs"))
        live.wait_for(r"^dpflow: output: writable again", start=i)
        rc, _, err = live.stop()
        check(rc == 0, f"exit {rc}: {err[-2000:]}")
        check(os.listdir(victim) == [], "nothing written through the link")
        rows = check_files_complete(out)
        check(writer_accounting(counters(err), rows) == 0, "nothing lost")
        for p in all_files(out):
            st = os.stat(p)
            check(st.st_mode & 0o777 == 0o640, f"{p}: mode {oct(st.st_mode & 0o777)}")
        for root, dirs, _ in os.walk(os.path.join(out, "AWSLogs")):
            for x in dirs:
                m = os.stat(os.path.join(root, x)).st_mode & 0o777
                check(m == 0o750, f"{x}: directory mode {oct(m)}")


# ---------------------------------------------------------------- stops

def case_sigint_flush():
    """SIGINT flushes the open window and publishes every file: each logged
    packet is in a complete file, no temporary is left, exit 0."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out")
        live = output_run(out, feeds(d, 1), ["--window", "60"])
        live.wait_for(r"^dpflow: rx [1-9]")
        rc, _, err = live.stop(signal.SIGINT)
        check(rc == 0, f"exit {rc}: {err[-2000:]}")
        c = counters(err)
        rows = check_files_complete(out)
        _, tmp = published(out)
        check(not tmp, f"temporaries left: {tmp}")
        check(int(c["pipeline records"]) > 0, "the open window had records")
        print(f"  {len(rows)} rows of the open window published at SIGINT")
        check(sum(int(r[8]) for r in rows if r[13] == "OK") == int(c["total logged-packets"]),
              "every logged packet of the open window is in a file")
        check(c["conservation"] == "ok", "conservation after SIGINT")


def case_sigkill_leftovers():
    """SIGKILL mid-write leaves no partial file under a published name; the
    next start finishes the leftover temporary (its complete records are
    published, the temporary goes)."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out")
        live = output_run(out, feeds(d))

        def tmp_has_data():
            _, tmp = published(out)
            return any(os.path.getsize(p) > 0 for p in tmp)
        live.wait_until(tmp_has_data, "a temporary with data on disk")
        live.p.send_signal(signal.SIGKILL)
        live.p.wait(WAIT)
        pub, tmp = published(out)
        check(tmp, "the killed run left its temporary")
        check_files_complete(out)   # anything published before the kill is whole
        before = len(check_files_complete(out))
        rc, _, err = run(EAL1, ["--replay", SAMPLE, "--window", "60", "--output", out] + META)
        check(rc == 0, f"restart: exit {rc}: {err[-2000:]}")
        m = re.search(r"dpflow: output: leftovers of an earlier run in \S+: (\d+) finished "
                      r"\((\d+) records kept\), (\d+) without records removed", err)
        check(m is not None, f"the restart reports the leftovers: {err[-1500:]}")
        c = counters(err)
        check(int(m.group(1)) + int(m.group(3)) == len(tmp), "every leftover handled")
        check(int(m.group(2)) > 0, "the leftover's complete records were kept")
        check(int(c["writer leftovers-records"]) == int(m.group(2)), "counter")
        _, tmp_after = published(out)
        check(not tmp_after, f"temporaries left after the restart: {tmp_after}")
        rows = check_files_complete(out)
        check(len(rows) == before + int(m.group(2)) + int(c["writer lines"]),
              "published rows = before + recovered + the restart's own")
        print(f"  killed with {len(tmp)} temporaries; the restart finished {m.group(1)} "
              f"({m.group(2)} records kept), removed {m.group(3)}")


# ---------------------------------------------------------------- counters

def case_nic_counters():
    """The NIC's own counters (ipackets, imissed, ierrors, rx_nombuf) are
    printed per port next to dpflow's, and agree with them."""
    eal = EAL1 + ["--vdev", f"net_pcap0,rx_pcap={SAMPLE}"]
    rc, _, err = run(eal, ["--window", "60", "--output", "-", "--idle-exit", "1"] + META)
    check(rc == 0, f"exit {rc}: {err[-2000:]}")
    c = counters(err)
    for k in ("nic-ipackets", "nic-imissed", "nic-ierrors", "nic-rx-nombuf"):
        check(f"port 0 {k}" in c, f"port 0 {k} is reported")
    check(c["port 0 nic-ipackets"] == c["port 0 rx-packets"] == c["total rx-packets"],
          "the NIC received what dpflow counted")
    for k in ("nic-imissed", "nic-ierrors", "nic-rx-nombuf"):
        check(c[f"port 0 {k}"] == "0", f"no NIC loss on a file: {k}")
    print(f"  net_pcap: nic-ipackets {c['port 0 nic-ipackets']} = rx-packets, imissed/ierrors/"
          "rx-nombuf 0")
    rc, _, err = run(EAL4, ["--replay", SAMPLE, "--window", "60", "--output", "-", "--rxq",
                            "4"] + META)
    c = counters(err)
    check(rc == 0 and c["port 0 nic-ipackets"] == c["total rx-packets"],
          "the replay port's counters agree with the RX cores'")


def case_conservation_load():
    """Millions of packets through the replay source, four RX cores, tables
    that overflow in every window, non-IP, malformed and out-of-order frames:
    every packet of the capture is in a record or in exactly one named counter."""
    n, flows = 2000000, 150000
    with tempfile.TemporaryDirectory() as d:
        pcap = os.path.join(d, "load.pcap")
        frames = [ipv4_udp(a4(0x0A400000 + f), a4(0xAC100000 + f % 97), 1024 + f % 50000,
                           53 + f % 3, f % 32) for f in range(flows)]
        hdr = struct.Struct("<IIII")
        with open(pcap, "wb") as fh:
            fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            x, buf = 12345, []
            for i in range(n):
                t = T0 * 1000000 + i * 5          # 200k pps: 2 s windows of 400k packets
                x = (x * 1103515245 + 12345) & 0x7FFFFFFF
                if i % 100 == 7:
                    fr = ARP
                elif i % 100 == 53:
                    fr = TRUNC_IPV4
                else:
                    fr = frames[x % flows]
                if i % 50000 == 49999:
                    t -= 2500000                  # back into the previous window: late
                buf.append(hdr.pack(t // 1000000, t % 1000000, len(fr), len(fr)))
                buf.append(fr)
                if len(buf) >= 131072:
                    fh.write(b"".join(buf))
                    buf = []
            fh.write(b"".join(buf))
        rc, out, err = run(EAL4, ["--replay", pcap, "--window", "2", "--output", "-",
                                  "--rxq", "4", "--flows-per-core", "8192"] + META, timeout=600)
    check(rc == 0, f"exit {rc}: {err[-2000:]}")
    c = counters(err)
    rows = rows_of(out)
    rec = sum(int(r[8]) for r in rows if r[13] == "OK")
    lost = int(c["total lost-table-full"]) + int(c["total lost-no-table"])
    named = (int(c["total not-ip"]) + int(c["total malformed"]) + int(c["total late"])
             + int(c["replay late"]))
    check(lost > 0 and sum(r[13] == "SKIPDATA" for r in rows) > 0, "the tables overflowed")
    check(int(c["total not-ip"]) == n // 100 and int(c["total malformed"]) == n // 100,
          "every non-IP and malformed frame counted once")
    check(int(c["replay late"]) + int(c["total late"]) > 0, "out-of-order packets were counted")
    check(rec + lost + named == n,
          f"conservation: records {rec} + lost {lost} + named {named} != {n} packets")
    check(int(c["total rx-packets"]) + int(c["replay late"]) == n, "every packet read arrived")
    check(int(c["pipeline lost-packets"]) == lost, "every lost packet reported by SKIPDATA")
    check(rec == int(c["total logged-packets"]), "records hold every logged packet")
    per_core = [int(v) for k, v in c.items() if re.fullmatch(r"core \d+ rx-packets", k)]
    check(len(per_core) == 4 and min(per_core) > 0, f"four RX cores took part: {per_core}")
    print(f"  {n} packets: records {rec}, lost {lost}, named {named}")


# ---------------------------------------------------------------- time

def gencap_module():
    """tools/gencap.py as a module: its Model is the independent reference."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("gencap", os.environ["GENCAP"])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def model_rows(window, packets):
    """The v2 rows gencap's model expects for packets [(t_us, src, dst, sport,
    dport, payload)] of IPv4/UDP frames as ipv4_udp() builds them."""
    g = gencap_module()
    m = g.Model(window)
    for t, src, dst, sport, dport, payload in packets:
        m.note_flow(t, 4, a4(src), a4(dst), 17, sport, dport, 28 + payload)
    res = m.result()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        path = f.name
    try:
        g.write_expect(path, res)
        p = subprocess.run([sys.executable, os.environ["GENCAP"], "render", path] + META,
                           capture_output=True, text=True, check=True)
    finally:
        os.unlink(path)
    return p.stdout, res


def frames_of(packets):
    return [(t, ipv4_udp(a4(s), a4(d), sp, dp, pl)) for t, s, d, sp, dp, pl in packets]


def write_pcap_raw(path, records, nanosecond=False):
    """Classic pcap; records: (seconds, fraction, frame) written as given
    (microsecond magic, or nanosecond magic a1b23c4d)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D if nanosecond else 0xA1B2C3D4, 2, 4, 0, 0,
                            65535, 1))
        for sec, frac, fr in records:
            f.write(struct.pack("<IIII", sec, frac, len(fr), len(fr)) + fr)


def write_pcapng(path, ifaces, packets):
    """pcapng: one section; ifaces: [(tsresol digits, tsoffset seconds)],
    packets: (interface, timestamp in the interface's units, frame)."""
    def block(kind, body):
        body += bytes(-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", kind, n) + body + struct.pack("<I", n)

    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    for resol, offset in ifaces:
        opts = struct.pack("<HHB3x", 9, 1, resol)
        if offset:
            opts += struct.pack("<HHq", 14, 8, offset)
        opts += struct.pack("<HH", 0, 0)
        out.append(block(1, struct.pack("<HHI", 1, 0, 65535) + opts))
    for iface, ts, fr in packets:
        out.append(block(6, struct.pack("<IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(fr),
                                        len(fr)) + fr))
    with open(path, "wb") as f:
        f.write(b"".join(out))


def normal_packets(n, t0=T0, step_us=1000000, base=0x0A000001):
    """n packets of n different UDP flows, one every step_us from t0."""
    return [(t0 * 1000000 + i * step_us, base + i, 0x0A0000FE, 1000 + i % 60000, 53, i % 40)
            for i in range(n)]


def replay_both(pcap, opts):
    """--replay with 1 and 4 RX cores: the outputs must be identical."""
    out = []
    for eal, rxq in ((EAL1, "1"), (EAL4, "4")):
        rc, o, e = run(eal, ["--replay", pcap, "--output", "-", "--rxq", rxq] + opts + META,
                       timeout=120)
        check(rc == 0, f"--rxq {rxq}: exit {rc}: {e[-2000:]}")
        check(counters(e)["conservation"] == "ok", f"--rxq {rxq}: conservation: {e[-1500:]}")
        out.append((o, e))
    check(out[0][0] == out[1][0], "--rxq 1 and --rxq 4 differ: "
          + diff_text(out[0][0], out[1][0]))
    return out[0]


def case_bad_time_replay():
    """Implausible packet times (doc/records.md "Implausible times") are
    counted `replay bad-time`, named once in a message, and not logged: a
    0-stamped first packet does not anchor the run, a packet from 2106 after
    normal traffic, pcapng times made negative by if_tsoffset and a pcapng
    packet from the year 2603 (past what ns in 64 bits hold) neither wrap nor
    flood. The records equal gencap's model of the plausible packets, with
    --rxq 1 and --rxq 4 alike."""
    W = 600
    good = normal_packets(50)
    want, _ = model_rows(W, good)
    frames = frames_of(good)
    bad = ipv4_udp(a4(0x0B000001), a4(0x0B000002), 7, 7)
    cases = []
    with tempfile.TemporaryDirectory() as d:
        # 1. the first packet stamped 0, as in the report (51 packets)
        p = os.path.join(d, "zero_first.pcap")
        write_pcap(p, [(0, bad)] + frames)
        cases.append(("0-stamped first packet", p, 1, r"packet 1: time 0 s \(1970-01-01T00:00:00Z\)"
                      r" is before the capture's first window by more than 86400 s"))
        # 2. one packet stamped in 2106 after normal traffic
        p = os.path.join(d, "y2106.pcap")
        write_pcap(p, frames + [(4200000000 * 1000000, bad)])
        cases.append(("a packet from 2106 after normal traffic", p, 1,
                      r"packet 51: time 4200000000 s \(2103-02-04T02:40:00Z\) is ahead of this "
                      r"host's clock by more than 86400 s"))
        # 3. pcapng, a second interface whose if_tsoffset makes its times negative
        p = os.path.join(d, "tsoffset.pcapng")
        write_pcapng(p, [(6, 0), (6, -2000000000)],
                     [(0, t, fr) for t, fr in frames[:25]]
                     + [(1, 5 * 1000000 + k, bad) for k in range(3)]
                     + [(0, t, fr) for t, fr in frames[25:]])
        cases.append(("pcapng if_tsoffset -2000000000 s", p, 3,
                      r"packet 26: time -1999999995 s is not a time between 1970-01-01 and "
                      r"2554-07-21"))
        # 4. pcapng (microsecond units), a first packet in the year 2603
        p = os.path.join(d, "y2603.pcapng")
        t2603 = 20003000000 * 1000000          # 2603-11-...: ns overflow 64 bits
        write_pcapng(p, [(6, 0)], [(0, t2603, bad)] + [(0, t, fr) for t, fr in frames])
        cases.append(("pcapng packet in 2603 first", p, 1,
                      r"packet 1: time 20003000000 s is not a time between"))
        # 5. nanosecond classic pcap: seconds at the 32-bit limit, a fraction past 1e9
        p = os.path.join(d, "ns.pcap")
        recs = [(t // 1000000, (t % 1000000) * 1000, fr) for t, fr in frames]
        write_pcap_raw(p, recs[:10] + [(0xFFFFFFF0, 0, bad), (T0 + 20, 4000000000, bad)]
                       + recs[10:], nanosecond=True)
        cases.append(("nanosecond pcap: 2106 seconds, fraction 4e9 ns", p, 2,
                      r"packet 11: time 4294967280 s .* is ahead of this host's clock"))
        for what, pcap, n_bad, msg in cases:
            out, err = replay_both(pcap, ["--window", str(W)])
            c = counters(err)
            rows = len(out.splitlines()) - 1
            check("18446743" not in out and "NODATA" not in out,
                  f"{what}: wrapped or flooded: {rows} rows, "
                  f"{out.count(' NODATA')} NODATA, want {len(want.splitlines()) - 1}")
            expect_same(want, out, what)
            check(int(c.get("replay bad-time", -1)) == n_bad,
                  f"{what}: replay bad-time {c.get('replay bad-time')}, want {n_bad}")
            check(int(c["replay read"]) == 50 + n_bad, f"{what}: read {c['replay read']}")
            check(int(c["total rx-packets"]) == 50, f"{what}: rx {c['total rx-packets']}")
            check(re.search(r"dpflow: --replay \S+: " + msg, err) is not None,
                  f"{what}: no message naming the packet: {err[-1500:]}")
            print(f"  {what}: {rows} rows (model {len(want.splitlines()) - 1}), "
                  f"replay bad-time {c['replay bad-time']}, --rxq 1 = --rxq 4")


def case_bad_time_net_pcap():
    """The same rule on a net_pcap port (no replay thread): the RX core
    counts `bad-time` (reference: the median of its first burst), the
    output equals gencap's model, conservation holds."""
    W = 600
    good = normal_packets(50)
    want, _ = model_rows(W, good)
    frames = frames_of(good)
    bad = ipv4_udp(a4(0x0B000001), a4(0x0B000002), 7, 7)
    with tempfile.TemporaryDirectory() as d:
        for what, pkts, n_bad in (("0-stamped first packet", [(0, bad)] + frames, 1),
                                  ("a packet from 2106 last", frames
                                   + [(4200000000 * 1000000, bad)], 1)):
            p = os.path.join(d, "in.pcap")
            write_pcap(p, pkts)
            rc, out, err = run(EAL1 + ["--vdev", f"net_pcap0,rx_pcap={p}"],
                               ["--window", str(W), "--output", "-", "--idle-exit", "1"] + META)
            check(rc == 0, f"{what}: exit {rc}: {err[-2000:]}")
            c = counters(err)
            check(out.count(" NODATA") == 0, f"{what}: {out.count(' NODATA')} NODATA rows")
            expect_same(want, out, what)
            check(int(c.get("total bad-time", -1)) == n_bad,
                  f"{what}: bad-time {c.get('total bad-time')}")
            check(c["conservation"] == "ok", f"{what}: conservation")
            check(int(c["conservation nic-ipackets"]) == len(pkts), f"{what}: NIC count")
            print(f"  net_pcap, {what}: {len(out.splitlines()) - 1} rows, bad-time "
                  f"{c['total bad-time']}")


def checker():
    """The shared record checker, or None (then the check is skipped, said so)."""
    for p in (os.environ.get("CHECK_RECORDS", ""),
              os.path.join(HERE, "..", "..", "..", "..", "shared", "tools", "check-records")):
        if p and os.path.exists(p):
            return p
    return None


def check_records_strict(path, window):
    chk = checker()
    if chk is None:
        print("  (check-records not found: not run)")
        return
    p = subprocess.run([sys.executable, chk, "--window", str(window), path],
                       capture_output=True, text=True)
    check(p.returncode == 0, f"check-records {path}:\n{p.stdout[-2000:]}")


def case_time_gaps():
    """A capture from 2019 replayed today with gaps of 30 minutes and 3
    hours: NODATA rows for every window of the short gap, two for the long
    one (its first and last window), the rest counted in pipeline
    gap-windows; equal to gencap's model, --rxq 1 = --rxq 4, check-records
    clean. A gap longer than --max-time-gap makes what follows bad-time;
    a larger --max-time-gap logs it."""
    W, T2019 = 60, 1546300800
    blocks = []
    for start in (0, 1800, 1800 + 3 * 3600):
        blocks += normal_packets(100, T2019 + start, 500000, 0x0A000001 + start)
    want, res = model_rows(W, blocks)
    with tempfile.TemporaryDirectory() as d:
        pcap = os.path.join(d, "gaps.pcap")
        write_pcap(pcap, frames_of(blocks))
        out, err = replay_both(pcap, ["--window", str(W)])
        c = counters(err)
        expect_same(want, out, "gaps")
        nodata = out.count(" NODATA")
        check(int(c["pipeline gap-windows"]) == res["gap_windows"] > 0,
              f"gap-windows {c['pipeline gap-windows']}, model {res['gap_windows']}")
        check(int(c["replay bad-time"]) == 0, "a 2019 capture is plausible")
        # The second block ends in the window 00:30; the third starts at 03:30.
        check(re.search(r"dpflow: no packet from 2019-01-01T00:31:00Z to 2019-01-01T03:30:00Z "
                        r"\(179 windows\): NODATA rows for its first and last window, the 177 "
                        r"between counted in pipeline gap-windows", err) is not None,
              f"gap message: {err[-1500:]}")
        path = os.path.join(d, "out.log")
        with open(path, "w") as f:
            f.write(out)
        check_records_strict(path, W)
        print(f"  2019 capture, gaps 30 min and 3 h: {len(out.splitlines()) - 1} rows, "
              f"{nodata} NODATA, gap-windows {c['pipeline gap-windows']}, = model")
        # A gap of two days: past the default --max-time-gap (one day).
        late = normal_packets(20, T2019 + 2 * 86400 + 3600, 1000000, 0x0C000001)
        write_pcap(pcap, frames_of(blocks[:100] + late))
        out, err = replay_both(pcap, ["--window", str(W)])
        c = counters(err)
        check(int(c["replay bad-time"]) == 20, f"bad-time {c['replay bad-time']}")
        expect_same(model_rows(W, blocks[:100])[0], out, "after a 2-day gap")
        out, err = replay_both(pcap, ["--window", str(W), "--max-time-gap", str(3 * 86400)])
        c = counters(err)
        check(int(c["replay bad-time"]) == 0, "--max-time-gap 3 days takes the gap")
        expect_same(model_rows(W, blocks[:100] + late)[0], out, "--max-time-gap 3 days")
        print(f"  2-day gap: 20 packets bad-time by default; with --max-time-gap 259200 "
              f"logged, gap-windows {c['pipeline gap-windows']}")


# ---------------------------------------------------------------- stops (bounded)

STOPPED = re.compile(r"^dpflow: stopped ([0-9.]+) s after the signal$", re.M)


def long_emission_pcap(path, n, step_us):
    """The first packet stamped 0, then n packets step_us apart: a long,
    legitimate emission with window 1 (2 s apart: a record and a NODATA row
    each) after the bad packet, which made the flood of the report when it
    anchored the run."""
    bad = ipv4_udp(a4(0x0B000001), a4(0x0B000002), 7, 7)
    write_pcap(path, [(0, bad)] + frames_of(normal_packets(n, T0, step_us)))


def case_stop_bounded():
    """SIGTERM and SIGINT during a long emission of records and NODATA rows
    (a slow writer, --test-writer-delay 2) stop the run within 2 s of
    dpflow's own measure (`stopped N s after the signal`; the wall time is
    allowed 5 s on this loaded machine), flushing what was read: every
    packet read is in a record or a named counter, every file complete.
    The files go to a tmpfs where one can be mounted: publishing a file
    fsyncs it, and on this shared machine an fsync on the root disk was seen
    to wait more than 5 s for other programs' writes, which is the disk's
    time, not dpflow's."""
    try:
        fs = Tmpfs("256m")
    except Skip as e:
        print(f"  ({e}: files on the root disk)")
        fs = None
    with tempfile.TemporaryDirectory() as d:
        nodata, dense = os.path.join(d, "nodata.pcap"), os.path.join(d, "dense.pcap")
        long_emission_pcap(nodata, 30000, 2000000)
        # Files: 4 packets a window, so that the packets queued at the stop
        # (the replay rings hold 8192) span a few 5-minute files, not 55.
        long_emission_pcap(dense, 100000, 250000)
        outdir = os.path.join(fs.dir if fs else d, "out")
        try:
            stop_bounded_runs(((signal.SIGTERM, "-", nodata), (signal.SIGINT, outdir, dense)))
        finally:
            if fs:
                fs.close()


def stop_bounded_runs(runs):
    """Each run: (signal, --output, capture); the checks of case_stop_bounded."""
    for sig, output, pcap in runs:
        live = Live(EAL4, ["--replay", pcap, "--window", "1", "--rxq", "2", "--output",
                           output, "--test-writer-delay", "2", "--stats-period", "1"]
                    + META)
        # Writing is under way: rows out, or files on disk.
        live.wait_for(r"^dpflow: rx .* records [1-9]")
        t0 = time.monotonic()
        live.p.send_signal(sig)
        try:
            live.p.wait(5)
        except subprocess.TimeoutExpired:
            live.kill()
            raise Fail(f"{sig!r}: still running 5 s after the signal:\n"
                       + "".join(live.err[-10:]))
        wall = time.monotonic() - t0
        for t in live.threads:
            t.join(WAIT)
        err = "".join(live.err)
        m = STOPPED.search(err)
        check(live.p.returncode == 0, f"{sig!r}: exit {live.p.returncode}: {err[-2000:]}")
        check(m is not None, f"{sig!r}: no stop time reported: {err[-1500:]}")
        check(float(m.group(1)) <= 2.0, f"{sig!r}: stopped {m.group(1)} s after the signal")
        c = counters(err)
        check(c["conservation"] == "ok", f"{sig!r}: conservation")
        check(int(c["total lost-no-table"]) == 0, f"{sig!r}: lost-no-table at the stop")
        check(int(c["replay read"]) == int(c["replay bad-time"]) + int(c["replay late"])
              + int(c["total rx-packets"]), f"{sig!r}: a packet read is in no counter")
        if output == "-":
            rows = rows_of("".join(live.out))
        else:
            rows = check_files_complete(output)
            check(not published(output)[1], f"{sig!r}: temporaries left")
        check(sum(int(r[8]) for r in rows if r[13] == "OK") ==
              int(c["total logged-packets"]), f"{sig!r}: a logged packet is in no row")
        print(f"  {signal.Signals(sig).name} to {'stdout' if output == '-' else 'files'}: "
              f"stopped {m.group(1)} s after the signal by its own measure, {wall:.2f} s "
              f"wall; read {c['replay read']} (bad-time {c['replay bad-time']}), rows "
              f"{len(rows)}")


def source_conserved(c, what):
    """replay read = late + bad-time + rx-packets; every read packet arrived."""
    read = int(c["replay read"])
    late, bad = int(c.get("replay late", 0)), int(c.get("replay bad-time", 0))
    rx = int(c["total rx-packets"])
    check(read == late + bad + rx,
          f"{what}: replay read {read} != late {late} + bad-time {bad} + rx-packets {rx} "
          f"(enqueued {c.get('replay enqueued')})")


def case_stop_conservation():
    """A stop with a slow writer (the report: packets read but still queued
    were in no counter, and 11 of 18 stops lost packets as lost-no-table):
    several SIGTERM/SIGINT at random moments of a 4-core replay; each time
    `replay read = replay late + replay bad-time + rx-packets`, nothing is
    lost-no-table, the only SKIPDATA rows are the cut window's, and every
    logged packet is in a record."""
    import random
    seed = int(os.environ.get("DPF_FAULT_SEED", "20231114"))
    rng = random.Random(seed)
    W = 2
    with tempfile.TemporaryDirectory() as d:
        pcap = os.path.join(d, "stop.pcap")
        frames = [ipv4_udp(a4(0x0A500000 + f), a4(0xAC100001), 1024 + f % 50000, 53, f % 32)
                  for f in range(4000)]
        # 200 windows of 2000 packets: about 8 s of writing at 5 ms a batch.
        write_pcap(pcap, ((T0 * 1000000 + i * 1000, frames[(i * 7919) % 4000])
                          for i in range(400000)))
        print(f"  seed {seed} (DPF_FAULT_SEED)")
        for trial in range(5):
            sig = signal.SIGINT if trial == 4 else signal.SIGTERM
            delay = rng.uniform(0.2, 2.0)
            live = Live(EAL4, ["--replay", pcap, "--window", str(W), "--rxq", "4", "--output",
                               "-", "--test-writer-delay", "5"] + META)
            live.wait_for(r"^dpflow: window ")
            time.sleep(delay)
            rc, out, err = live.stop(sig)
            check(rc == 0, f"trial {trial}: exit {rc}: {err[-2000:]}")
            c = counters(err)
            source_conserved(c, f"trial {trial}")
            check(int(c["replay enqueued"]) == int(c["port 0 rx-packets"]),
                  f"trial {trial}: enqueued {c['replay enqueued']} != port rx "
                  f"{c['port 0 rx-packets']}")
            check(int(c["total lost-no-table"]) == 0 and int(c["total lost-table-full"]) == 0,
                  f"trial {trial}: lost at the stop: {c['total lost-no-table']} no-table")
            rows = rows_of(out)
            skip = [r for r in rows if r[13] == "SKIPDATA"]
            last = max(int(r[10]) for r in rows) // W * W if rows else None
            check(all(int(r[10]) == last for r in skip),
                  f"trial {trial}: SKIPDATA rows for other windows than the cut one: {skip}")
            check(sum(int(r[8]) for r in rows if r[13] == "OK") == int(c["total logged-packets"])
                  == int(c["total rx-packets"]), f"trial {trial}: packets not in records")
            check(c["conservation"] == "ok", f"trial {trial}: conservation")
            m = STOPPED.search(err)
            check(m is not None, f"trial {trial}: the run ended before the signal")
            print(f"  trial {trial}: {signal.Signals(sig).name} at {delay:.2f} s: read "
                  f"{c['replay read']} = rx {c['total rx-packets']}, logged in records, "
                  f"lost 0, cut window marked: {bool(skip)}, stopped {m.group(1)} s after")


# ---------------------------------------------------------------- faults

def window_groups(lines, W):
    """Record lines (v2) by window (from the start field), each list sorted."""
    g = {}
    for line in lines:
        g.setdefault(int(line.split(" ", 11)[10]) // W * W, []).append(line)
    return {w: sorted(v) for w, v in g.items()}


def fault_signals(compress):
    """Signals at random moments while files are written (SIGKILL mostly,
    SIGINT and SIGTERM too), then a restart with the same --output: the
    windows each run published (recovered leftovers counting as the killed
    run's) are each equal to an uninterrupted run's window, or marked by a
    SKIPDATA row; the killed run's cut window is never published partly."""
    import random
    seed = int(os.environ.get("DPF_FAULT_SEED", "20231114"))
    rng = random.Random(seed * 7 + len(compress))
    W, per_window, n_windows = 2, 30000, 8
    sigs = [signal.SIGKILL, signal.SIGKILL, signal.SIGKILL, signal.SIGINT, signal.SIGTERM]
    with tempfile.TemporaryDirectory() as d:
        pcap = os.path.join(d, "fault.pcap")
        pkts = []
        for w in range(n_windows):
            for i in range(per_window):
                t = (T0 + w * W) * 1000000 + i * (W * 1000000 // per_window)
                pkts.append((t, ipv4_udp(a4(0x0A000000 + w * 65536 + i), a4(0xC0000201),
                                         1024 + i % 60000, 53, i % 50)))
        write_pcap(pcap, pkts)
        opts = ["--replay", pcap, "--window", str(W), "--compress", compress] + META
        # stdout is never compressed (--compress with --output - is refused).
        rc, ref_out, err = run(EAL1, opts[:4] + META + ["--output", "-"], timeout=300)
        check(rc == 0, f"reference run: {err[-2000:]}")
        ref = window_groups(ref_out.splitlines()[1:], W)
        check(len(ref) == n_windows, f"reference has {len(ref)} windows")
        print(f"  seed {seed} (DPF_FAULT_SEED), {compress}, {n_windows} windows of "
              f"{per_window} records")
        for trial, sig in enumerate(sigs):
            out = os.path.join(d, f"out{trial}")
            live = Live(EAL1, opts + ["--output", out, "--test-writer-delay", "3"])

            def writing():
                return any(os.path.getsize(p) > 0 for p in published(out)[1])
            live.wait_until(writing, "a temporary with data")
            delay = rng.uniform(0.0, 2.5)
            time.sleep(delay)
            if sig == signal.SIGKILL:
                live.kill()
            else:
                live.stop(sig)
            pub_kill, tmp_kill = published(out)
            finals = {os.path.join(os.path.dirname(p), re.sub(
                r"\.([0-9]+\.)?tmp$", "", os.path.basename(p)[1:])) for p in tmp_kill}
            rc, _, err = run(EAL1, opts + ["--output", out], timeout=300)
            check(rc == 0, f"trial {trial}: restart: exit {rc}: {err[-2000:]}")
            c = counters(err)
            pub_all, tmp_all = published(out)
            check(not tmp_all, f"trial {trial}: temporaries left: {tmp_all}")
            killed_files = [p for p in pub_all if p in pub_kill or p in finals]
            restart_files = [p for p in pub_all if p not in killed_files]

            def rows_in(files):
                lines = []
                for p in files:
                    lines += read_file(p).splitlines()[1:]
                return lines
            if trial == 0:
                # What recovery wrote passes the shared checker too.
                for p in killed_files:
                    check_records_strict(p, W)
            got_restart = window_groups(rows_in(restart_files), W)
            check(got_restart == ref, f"trial {trial}: the restart's windows differ")
            whole = marked = 0
            for w, rows in window_groups(rows_in(killed_files), W).items():
                if any(r.endswith(" SKIPDATA") for r in rows):
                    ok_rows = [r for r in rows if not r.endswith(" SKIPDATA")]
                    check(set(ok_rows) <= set(ref[w]), f"trial {trial}: window {w}: rows not "
                          "in the uninterrupted run")
                    marked += 1
                else:
                    check(rows == ref.get(w), f"trial {trial}: window {w} published with "
                          f"{len(rows)} of its {len(ref.get(w, []))} rows and no SKIPDATA row")
                    whole += 1
            print(f"  trial {trial}: {signal.Signals(sig).name} {delay:.2f} s into writing: "
                  f"killed run published {whole} whole windows, {marked} marked SKIPDATA; "
                  f"restart recovered {c['writer leftovers-records']} records, dropped "
                  f"{c['writer leftovers-dropped']} of the cut window; union = uninterrupted")


def case_fault_signals_zstd():
    fault_signals("zstd")


def case_fault_signals_none():
    fault_signals("none")


# ---------------------------------------------------------------- bad input

def bad_inputs():
    """tests/e2e/bad_inputs.tsv: kind, input, the exact error line."""
    out = []
    with open(os.path.join(HERE, "bad_inputs.tsv")) as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            kind, inp, msg = line.rstrip("\n").split("\t")
            dec = lambda s: s.encode().decode("unicode_escape")  # noqa: E731
            out.append((n, kind, dec(inp), dec(msg)))
    return out


# Rows whose input is the text of a file: the option that reads it, and the
# placeholder of its path in the message.
FILE_KINDS = {"config": ("--config", "$CONF"), "cmdfile": ("--cmdline-file", "$CMDS")}


def case_bad_inputs():
    """Each hand-written bad input gets exactly its documented error line,
    a non-zero exit, and nothing on stdout."""
    from concurrent.futures import ThreadPoolExecutor

    with tempfile.TemporaryDirectory() as d:
        def one(item):
            n, kind, inp, msg = item
            if kind == "args":
                opts = shlex.split(inp)
            elif kind == "format":
                opts = ["--replay", SAMPLE, "--log-format", inp]
            elif kind in FILE_KINDS:
                option, var = FILE_KINDS[kind]
                path = os.path.join(d, f"bad{n}.{kind}")
                with open(path, "w") as f:
                    f.write(inp)
                opts = [option, path, "--replay", SAMPLE]
                msg = msg.replace(var, path)
            else:
                return f"bad_inputs.tsv:{n}: unknown kind {kind}"
            opts = [o.replace("$DATA", DATA).replace("$TMP", d) for o in opts]
            msg = msg.replace("$DATA", DATA).replace("$TMP", d)
            rc, out, err = run(EAL1, opts, timeout=60)
            lines = [l for l in err.splitlines() if l.startswith("dpflow: ")]
            if rc == 0:
                return f"bad_inputs.tsv:{n}: exit 0 for {inp!r}"
            if out != "":
                return f"bad_inputs.tsv:{n}: stdout not empty"
            if lines != [msg]:
                return f"bad_inputs.tsv:{n}: {inp!r}\n  want: {msg}\n  got:  {lines}"
            return None

        table = bad_inputs()
        with ThreadPoolExecutor(4) as pool:
            problems = [p for p in pool.map(one, table) if p]
    check(not problems, "\n".join(problems))
    print(f"  {len(table)} bad inputs, each with its exact message")


def case_cmdline_file_hostile():
    """--cmdline-file lines are read whole before the run: a line longer than
    the limit is an error naming FILE:LINE (never split into commands: the
    tail of this long comment is 'set window 10'), nothing runs; the longest
    allowed line keeps the next line's number right; control bytes are
    escaped when echoed, never written raw to the terminal."""
    with tempfile.TemporaryDirectory() as d:
        long_path = os.path.join(d, "long.cmds")
        with open(long_path, "w") as f:
            f.write("# " + "y" * 8189 + " set window 10\nshow window\n")
        rc, out, err = run(EAL1, ["--replay", SAMPLE, "--output", "-",
                                  "--cmdline-file", long_path], timeout=60)
        lines = [l for l in err.splitlines() if l.startswith("dpflow: ")]
        check(rc != 0, f"a line of 8203 bytes: exit {rc}, output {out[-300:]!r}")
        check(lines == [f"dpflow: --cmdline-file {long_path}:1: line longer than 4096 bytes"],
              f"the long line named: {lines}")
        check(out == "", "nothing ran")

        ok_path = os.path.join(d, "ok.cmds")
        with open(ok_path, "wb") as f:
            f.write(b"#" + b"x" * 4095 + b"\r\nshow \x1b[2Jwindow\n\n  show window\r\n")
        rc, out, err = run(EAL1, ["--replay", SAMPLE, "--output", os.path.join(d, "out"),
                                  "--window", "60", "--cmdline-file", ok_path], timeout=60)
        check(rc == 0, f"exit {rc}: {err[-2000:]}")
        check("\x1b" not in out and "\x07" not in out, "no raw control byte on stdout")
        check("dpflow> show \\x1b[2Jwindow\n" in out, f"echo escaped: {out[:400]!r}")
        check(f"{ok_path}:2: error: " in out, f"the bad command named by its line: {out[:600]!r}")
        echoes = [l for l in out.splitlines() if l.startswith("dpflow> ")]
        check(echoes == ["dpflow> show \\x1b[2Jwindow", "dpflow> show window"],
              f"exactly the two commands ran: {echoes}")
        # Set either way: before the first packet there is no window yet.
        check("window-seconds-set: 60" in out, "show window on line 4 ran")
    print("  8203-byte line refused with FILE:1, 4096-byte line accepted, ESC escaped")


def case_rxq_more_than_queues():
    """--rxq 3 on a net_pcap port (one queue per rx_pcap=): dpflow says it
    runs one RX core, starts no RX lcore without a queue, and reads and logs
    every packet of the file exactly as the model has it."""
    with tempfile.TemporaryDirectory() as d:
        pcap, expect = os.path.join(d, "r.pcap"), os.path.join(d, "r.json")
        gencap("random", pcap, "--expect", expect, "--packets", "200", "--flows", "40",
               "--pps", "20", "--window", "2")
        eal = EAL + ["--lcores", "(0-4)@(0-1)", "--vdev", f"net_pcap0,rx_pcap={pcap}"]
        rc, out, err = run(eal, ["--rxq", "3", "--window", "2", "--output", "-",
                                 "--idle-exit", "2"] + META, timeout=120)
        check(rc == 0, f"exit {rc}: {err[-2000:]}")
        check("dpflow: --rxq 3: no port has more than 1 RX queue: running 1 RX core "
              "(lcores 2, 3 left idle)" in err.splitlines(), f"capping announced: {err[-1500:]}")
        rx_lines = [l for l in err.splitlines() if re.match(r"dpflow: lcore \d+: RX", l)]
        check(rx_lines == ["dpflow: lcore 1: RX port 0 queue 0"],
              f"one RX lcore, with a queue: {rx_lines}")
        c = counters(err)
        check(c["total rx-packets"] == "200" and c["conservation"] == "ok",
              f"every packet read: {c.get('total rx-packets')}")
        expect_same(render(expect), out, "records")
    print("  --rxq 3 on one queue: 1 RX core announced, 200 of 200 packets logged")


def case_capture_artefacts():
    """What common captures do to headers, against gencap's model: tcpdump
    -s 64 cuts IPv6 TCP inside its header (the ports are kept, flags 0);
    TSO/GSO super-packets captured on the sender have IP length fields of 0
    (logged with the bytes captured); both together."""
    with tempfile.TemporaryDirectory() as d:
        pcap, expect = os.path.join(d, "a.pcap"), os.path.join(d, "a.json")
        for extra in (["--snaplen", "64"], ["--tso"], ["--tso", "--snaplen", "64"]):
            gencap("scenario", pcap, "--expect", expect, *extra)
            rc, out, err = run(EAL1, ["--replay", pcap, "--window", "60", "--output", "-"]
                               + META, timeout=120)
            check(rc == 0, f"{extra}: exit {rc}: {err[-2000:]}")
            expect_same(render(expect), out, f"records of the scenario with {' '.join(extra)}")
            model = json.load(open(expect))
            c = counters(err)
            check(int(c["total not-ip"]) == model["not_ip"]
                  and int(c["total malformed"]) == model["malformed"],
                  f"{extra}: malformed {c['total malformed']}, model {model['malformed']}")
            v6_tcp = [l for l in out.splitlines() if ":" in l.split(" ")[3] and l.split(" ")[7] == "6"]
            check(len(v6_tcp) >= 2, f"{extra}: IPv6 TCP logged")
    print("  snap length 64, TSO super-packets, both: records and counters as modelled")


def case_fragments_rxq_determinism():
    """20 000 interleaved fragmented datagrams, 5000 open at a time, more
    than the fragment cache holds: --rxq 1, 2 and 4 give byte-identical
    records and the same frag-evicted / frag-without-first counts; records
    differ from the model (an unbounded cache) only by later fragments moved
    to ports 0, exactly frag-without-first of them."""
    with tempfile.TemporaryDirectory() as d:
        pcap, expect = os.path.join(d, "f.pcap"), os.path.join(d, "f.json")
        gencap("fragments", pcap, "--expect", expect, "--datagrams", "20000", "--open", "5000")
        outs, cnts = {}, {}
        for q in (1, 2, 4):
            rc, out, err = run(EAL4, ["--replay", pcap, "--rxq", str(q), "--window", "60",
                                      "--output", "-"] + META, timeout=300)
            check(rc == 0, f"--rxq {q}: exit {rc}: {err[-2000:]}")
            outs[q], cnts[q] = out, counters(err)
        for q in (2, 4):
            check(outs[q] == outs[1], f"--rxq {q} differs from --rxq 1: "
                  f"{len(outs[q].splitlines())} lines against {len(outs[1].splitlines())}")
            for k in ("total frag-evicted", "total frag-without-first"):
                check(cnts[q][k] == cnts[1][k], f"{k}: {cnts[q][k]} with --rxq {q}, "
                      f"{cnts[1][k]} with --rxq 1")
        evicted, without = int(cnts[1]["total frag-evicted"]), int(cnts[1]["total frag-without-first"])
        check(evicted > 0 and without > 0, "the cache overflowed: the case means something")
        model = json.load(open(expect))["records"]
        want, got = {}, {}
        for r in model:
            k = (r["srcaddr"], r["dstaddr"])
            w = want.setdefault(k, [0, 0, 0])
            w[0] += r["packets"]
            w[1] += r["bytes"]
            w[2] += r["packets"] if r["srcport"] == 0 else 0
        for r in rows_of(outs[1]):
            g = got.setdefault((r[3], r[4]), [0, 0, 0])
            g[0] += int(r[8])
            g[1] += int(r[9])
            g[2] += int(r[8]) if r[5] == "0" else 0
        check({k: v[:2] for k, v in got.items()} == {k: v[:2] for k, v in want.items()},
              "packets and bytes per address pair as the model has them")
        check(sum(v[2] for v in want.values()) == 0, "the model gives every fragment its ports")
        check(sum(v[2] for v in got.values()) == without,
              f"packets logged with ports 0 = frag-without-first ({without})")
    print(f"  --rxq 1, 2, 4 identical ({len(outs[1].splitlines()) - 1} records); "
          f"frag-evicted {evicted}, frag-without-first {without}")


def case_link_types():
    """The same packets captured as Ethernet, Linux cooked SLL and SLL2, and
    raw IP, in classic pcap and pcapng: --replay gives the model's records
    for each, byte for byte (4 RX cores); the scenario (non-IP, VLAN tags,
    malformed frames) gives the same records and counters as SLL and SLL2.
    net_pcap ports refuse what is not Ethernet, naming the file or interface."""
    with tempfile.TemporaryDirectory() as d:
        pcap, expect = os.path.join(d, "r.pcap"), os.path.join(d, "r.json")
        gencap("random", pcap, "--expect", expect, "--packets", "5000", "--flows", "1000",
               "--v6-share", "0.3")
        want = render(expect)
        for lt in ("ethernet", "sll", "sll2", "raw"):
            for ng in ([], ["--pcapng"]):
                conv = os.path.join(d, f"r.{lt}{'.pcapng' if ng else ''}")
                gencap("convert", pcap, conv, "--linktype", lt, *ng)
                rc, out, err = run(EAL4, ["--replay", conv, "--rxq", "4", "--window", "60",
                                          "--output", "-"] + META, timeout=300)
                check(rc == 0, f"{lt} {ng}: exit {rc}: {err[-1500:]}")
                expect_same(want, out, f"records of the {lt} capture {ng}")
        model = json.load(open(SAMPLE_EXPECT))
        want = render(SAMPLE_EXPECT)
        for lt in ("sll", "sll2"):
            conv = os.path.join(d, f"sample.{lt}")
            gencap("convert", SAMPLE, conv, "--linktype", lt)
            rc, out, err = run(EAL1, ["--replay", conv, "--window", "60", "--output", "-"]
                               + META, timeout=120)
            check(rc == 0, f"sample {lt}: exit {rc}: {err[-1500:]}")
            expect_same(want, out, f"records of the sample as {lt}")
            c = counters(err)
            check(int(c["total not-ip"]) == model["not_ip"]
                  and int(c["total malformed"]) == model["malformed"],
                  f"sample {lt}: not-ip {c['total not-ip']}, malformed {c['total malformed']}")
        # The documented limit of copied frames: 2048 bytes of mbuf, so a TSO
        # super-packet (IPv6, 4404 bytes) in a cooked capture counts 2034.
        tso, tso_json = os.path.join(d, "tso.pcap"), os.path.join(d, "tso.json")
        gencap("scenario", tso, "--expect", tso_json, "--tso")
        gencap("convert", tso, tso + ".sll", "--linktype", "sll")
        got = {}
        for path in (tso, tso + ".sll"):
            rc, out, err = run(EAL1, ["--replay", path, "--window", "60", "--output", "-"]
                               + META, timeout=120)
            check(rc == 0, f"{path}: exit {rc}: {err[-1500:]}")
            got[path] = [r[9] for r in rows_of(out) if r[5:7] == ["50100", "443"]]
        check(got[tso] == ["4404"] and got[tso + ".sll"] == ["2034"],
              f"TSO super-packet bytes, Ethernet / SLL: {got}")
        # Any other link type is refused, named (802.11 here).
        wifi = os.path.join(d, "wifi.pcap")
        with open(wifi, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 105))
        rc, out, err = run(EAL1, ["--replay", wifi, "--output", "-"], timeout=120)
        check(rc != 0 and f"dpflow: --replay {wifi}: link type 105 (IEEE802_11), not one "
              "dpflow reads: Ethernet, Linux cooked (SLL, SLL2) or raw IP" in err.splitlines(),
              f"802.11 capture: exit {rc}: {err[-600:]}")
        for lt, name in (("sll", "LINUX_SLL (Linux cooked v1)"), ("raw", "RAW (Raw IP)")):
            conv = os.path.join(d, f"r.{lt}")
            rc, out, err = run(EAL1 + ["--vdev", f"net_pcap0,rx_pcap={conv}"],
                               ["--output", "-", "--idle-exit", "1"], timeout=300)
            line = (f"dpflow: port 0 (net_pcap): rx_pcap={conv}: link type {name}, not "
                    "Ethernet; replay the file with --replay, which reads Linux cooked (SLL, "
                    "SLL2) and raw IP captures")
            check(rc != 0 and line in err.splitlines() and out == "",
                  f"net_pcap on {lt}: exit {rc}: {err[-800:]}")
    print("  Ethernet, SLL, SLL2, raw IP (pcap and pcapng): identical records; "
          "net_pcap refuses cooked and raw files")


def case_link_types_live():
    """Real captures of the same traffic: tcpdump on the interface
    (Ethernet), on 'any' as Linux cooked SLL and as SLL2 (libpcap 1.10's
    default for 'any'), in a namespace lab; --replay gives the same records for the three. net_pcap
    on iface=any is refused."""
    sys.path.insert(0, HERE)
    import lab as labmod
    labmod.require_lab()

    def capture(lab, ns, iface, name, extra=()):
        out = lab.path(name)
        err = open(lab.path(name + ".err"), "w+")
        # Only the test's own traffic: the interfaces' multicast listener
        # reports may go out before the last capture starts listening.
        p = lab.popen(["tcpdump", "-i", iface, "-w", out, "-U", "-n", "-s", "0",
                       "--immediate-mode", "-B", "16384"] + list(extra)
                      + ["host", "10.9.0.1", "or", "host", "2001:db8:9::1"],
                      ns=ns, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.time() + WAIT
        while time.time() < deadline:
            err.seek(0)
            if "listening on" in err.read():
                return p, out
            check(p.poll() is None, f"tcpdump -i {iface} exited")
            time.sleep(0.05)
        raise Fail(f"tcpdump -i {iface} did not start")

    with labmod.Lab("lnk") as lab:
        a, b = lab.netns("a"), lab.netns("b")
        lab.veth(a, "eth0", b, "eth0")
        for ns, v4, v6 in ((a, "10.9.0.1/24", "2001:db8:9::1/64"),
                           (b, "10.9.0.2/24", "2001:db8:9::2/64")):
            lab.addr(ns, "eth0", v4)
            lab.addr(ns, "eth0", v6)
        lab.neigh(a, "eth0", "10.9.0.2", lab.mac(b, "eth0"))
        lab.neigh(a, "eth0", "2001:db8:9::2", lab.mac(b, "eth0"))
        lab.neigh(b, "eth0", "10.9.0.1", lab.mac(a, "eth0"))
        lab.neigh(b, "eth0", "2001:db8:9::1", lab.mac(a, "eth0"))
        caps = [capture(lab, a, "eth0", "eth.pcap"),
                capture(lab, a, "any", "sll.pcap", ["-y", "LINUX_SLL"]),
                capture(lab, a, "any", "sll2.pcap", ["-y", "LINUX_SLL2"])]
        labmod.sh(["ping", "-c", "3", "-i", "0.2", "10.9.0.2"], ns=a)
        labmod.sh(["ping", "-6", "-c", "3", "-i", "0.2", "2001:db8:9::2"], ns=a)
        labmod.sh([sys.executable, "-c",
                   "import socket\n"
                   "for fam, dst in ((socket.AF_INET, '10.9.0.2'), "
                   "(socket.AF_INET6, '2001:db8:9::2')):\n"
                   "    s = socket.socket(fam, socket.SOCK_DGRAM)\n"
                   "    for i in range(5): s.sendto(bytes(100 + i), (dst, 5353))\n"], ns=a)
        paths = []
        for p, path in caps:
            lab.stop(p)
            paths.append(path)
        links = [struct.unpack_from("<I", open(x, "rb").read(), 20)[0] for x in paths]
        check(links == [1, 113, 276], f"capture link types {links}")
        outs = []
        for path in paths:
            rc, out, err = run(EAL1, ["--replay", path, "--window", "60", "--output", "-"]
                               + META, timeout=120)
            check(rc == 0, f"{path}: exit {rc}: {err[-1500:]}")
            outs.append(out)
        check(len(rows_of(outs[0])) >= 4, f"the traffic was logged: {outs[0]}")
        check(outs[1] == outs[0] and outs[2] == outs[0],
              "SLL and SLL2 captures give the Ethernet capture's records:\n"
              + "\n".join(o[-600:] for o in outs))
        rc, out, err = run(EAL1 + ["--vdev", "net_pcap0,iface=any"],
                           ["--output", "-", "--idle-exit", "1"], timeout=300)
        check(rc != 0 and "dpflow: port 0 (net_pcap): iface=any: Linux cooked frames, not "
              "Ethernet; name one Ethernet interface per port" in err.splitlines(),
              f"net_pcap iface=any: exit {rc}: {err[-800:]}")
        # A tun interface delivers raw IP frames: af_packet on it is refused.
        labmod.sh(["ip", "tuntap", "add", "dev", "tun0", "mode", "tun"], ns=a)
        labmod.sh(["ip", "link", "set", "tun0", "up"], ns=a)
        p = subprocess.run(["ip", "netns", "exec", a, DPFLOW] + EAL1
                           + ["--vdev", "net_af_packet0,iface=tun0", "--", "--output", "-",
                              "--idle-exit", "1"], capture_output=True, text=True, timeout=300)
        check(p.returncode != 0 and "dpflow: port 0 (net_af_packet): iface=tun0: link type "
              "ARPHRD 65534, not Ethernet; dpflow reads Ethernet ports" in p.stderr.splitlines(),
              f"af_packet on tun0: exit {p.returncode}: {p.stderr[-800:]}")
    print(f"  tcpdump -i eth0 / -i any -y LINUX_SLL / -i any -y LINUX_SLL2: the same "
          f"{len(rows_of(outs[0]))} records")


def case_rule_and_memory_limits():
    """The documented limits, each named: the 4097th ACL or NAT rule of a
    configuration file by its file:line; a connection table or masquerade
    session table EAL cannot hold as out of memory, with the option to lower."""
    with tempfile.TemporaryDirectory() as d:
        for kind, rule in (("acl", "allow udp 10.0.0.0/8 any any {}"),
                           ("nat", "static 10.{}.{}.0/24 192.{}.{}.0/24")):
            path = os.path.join(d, f"{kind}.conf")
            with open(path, "w") as f:
                f.write(f"[dpflow]\nwindow = 60\n[{kind}]\n")
                for i in range(4097):
                    f.write("rule = " + (rule.format(1 + i % 60000) if kind == "acl" else
                                         rule.format(i // 256, i % 256, i // 256, i % 256))
                            + "\n")
            rc, out, err = run(EAL1, ["--replay", SAMPLE, "--output", "-", "--config", path],
                               timeout=120)
            want = (f"dpflow: {path}:4100: {kind} rule 4097: more than 4096 "
                    f"{kind.upper()} rules (the limit)")
            check(rc != 0 and want in err.splitlines(), f"{kind}: exit {rc}: {err[-600:]}")
            check(out == "", f"{kind}: nothing logged")
    rc, out, err = run(EAL1, ["--replay", SAMPLE, "--output", "-", "--acl-stateful", "yes",
                              "--acl-rule", "allow any any any any any",
                              "--conntrack-per-core", "16777216"], timeout=120)
    want = ("dpflow: RX core 0: connection table of 16777216 connections: Cannot allocate "
            "memory; lower --conntrack-per-core or give EAL more memory (-m)")
    check(rc != 0 and want in err.splitlines(), f"conntrack: exit {rc}: {err[-600:]}")
    rc, out, err = run(EAL1 + ["--vdev", "net_null0", "--vdev", "net_null1"],
                       ["--forward", "0:1", "--output", "-",
                        "--nat-sessions-per-core", "16777216"], timeout=120)
    want = ("dpflow: masquerade ICMP table of 16777216 sessions: out of memory; lower "
            "--nat-sessions-per-core or give EAL more memory (-m)")
    check(rc != 0 and want in err.splitlines(), f"nat sessions: exit {rc}: {err[-600:]}")
    print("  4097th ACL and NAT rules named by file:line; conntrack and NAT session "
          "tables out of memory named")


# ---------------------------------------------------------------- security

def case_control_sockets():
    """Every unix socket the running process has bound is reachable by its
    owner only: mode 0600, or in a directory only its owner can enter."""
    with tempfile.TemporaryDirectory() as d:
        live = output_run(os.path.join(d, "out"), feeds(d, 1))
        live.wait_for(r"^dpflow: rx ")
        inodes = set()
        for fd in os.listdir(f"/proc/{live.p.pid}/fd"):
            try:
                m = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(f"/proc/{live.p.pid}/fd/{fd}"))
            except OSError:
                continue
            if m:
                inodes.add(m.group(1))
        paths = []
        with open("/proc/net/unix") as f:
            next(f)
            for line in f:
                parts = line.split()
                if len(parts) >= 8 and parts[6] in inodes and parts[7].startswith("/"):
                    paths.append(parts[7])
        modes = []
        for p in paths:
            # Abstract or already gone: nothing on the file system to reach.
            try:
                modes.append((p, os.stat(p).st_mode & 0o777,
                              os.stat(os.path.dirname(p)).st_mode & 0o777))
            except FileNotFoundError:
                pass
        rc, _, err = live.stop()
        check(rc == 0, f"exit {rc}")
    for p, mode, parent in modes:
        check(mode & 0o077 == 0 or parent & 0o077 == 0,
              f"{p}: mode {oct(mode)} in a directory of mode {oct(parent)}: others can connect")
    print("  bound unix sockets: " + (", ".join(f"{p} {oct(m)} in a {oct(d)} directory"
                                                 for p, m, d in modes) or "none"))


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}

if __name__ == "__main__":
    e2e.main(CASES, skip=Skip)
