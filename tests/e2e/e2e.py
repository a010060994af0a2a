#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end tests: run the real dpflow on captures and compare its output
with the capture generator's independent model (tools/gencap.py).

Usage: e2e.py CASE    (meson runs one test per case; exit 77 = skipped)
Environment: DPFLOW (binary), GENCAP (tools/gencap.py), DATA (tests/data),
CHECK_RECORDS (shared checker; cases that need it skip when it is absent).
"""
import glob
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

DPFLOW = os.environ["DPFLOW"]
GENCAP = os.environ["GENCAP"]
DATA = os.environ["DATA"]
CHECK = os.environ.get("CHECK_RECORDS", "")
EAL = ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--log-level=lib.eal:error",
       # The exit summary whole, lines of value 0 too: these tests read them.
       "--log-level=dpflow.control:debug"]
EAL1 = EAL + ["-l", "0-1"]
EAL4 = EAL + ["--lcores", "(0-5)@(0-1)"]
META = ["--account-id", "123456789010", "--interface-id", "eni-1235b8ca123456789"]
SKIP = 77
SAMPLE = os.path.join(DATA, "sample.pcap")
SAMPLE_EXPECT = os.path.join(DATA, "sample.expect.json")
ALL_FIELDS = ("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} "
              "${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} "
              "${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} "
              "${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${sublocation-type} "
              "${sublocation-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} "
              "${flow-direction} ${traffic-path} ${pkt-srcport} ${pkt-dstport} ${tcp-flags-all}")
ALL_META = ["--vpc-id", "vpc-abcdefab012345678", "--subnet-id", "subnet-aaaaaaaa012345678",
            "--instance-id", "i-01234567890123456", "--region", "eu-west-1",
            "--az-id", "euw1-az1"]


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def run(eal, opts, timeout=120, stdin=None):
    cmd = [DPFLOW] + eal + ["--"] + opts
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=stdin)
    return p.returncode, p.stdout, p.stderr


def counters(stderr):
    """The `key: value` summary dpflow prints at exit."""
    out = {}
    for line in stderr.splitlines():
        m = re.fullmatch(r"([a-z0-9 -]+): (\S+)", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def render(expect, fmt=None, extra=()):
    cmd = [sys.executable, GENCAP, "render", expect] + META + list(extra)
    if fmt:
        cmd += ["--format", fmt]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def gencap(*args):
    subprocess.run([sys.executable, GENCAP] + list(args), check=True, capture_output=True)


def check_records(path, window=None):
    if not CHECK or not os.path.exists(CHECK):
        return
    cmd = [sys.executable, CHECK] + (["--window", str(window)] if window else []) + [path]
    p = subprocess.run(cmd, capture_output=True, text=True)
    check(p.returncode == 0, f"check-records {path}:\n{p.stdout[-2000:]}")


def diff_text(want, got):
    w, g = want.splitlines(), got.splitlines()
    for i in range(max(len(w), len(g))):
        a = w[i] if i < len(w) else "<missing>"
        b = g[i] if i < len(g) else "<missing>"
        if a != b:
            return f"line {i + 1}:\n  want: {a}\n  got:  {b}\n({len(w)} lines wanted, {len(g)} got)"
    return "identical"


def expect_same(want, got, what):
    check(want == got, f"{what} differs from the model: {diff_text(want, got)}")


# ---------------------------------------------------------------- cases

def case_scenario_v2():
    """Every header case of the sample capture, default format, one RX core."""
    rc, out, err = run(EAL1, ["--replay", SAMPLE, "--window", "60", "--output", "-"] + META)
    check(rc == 0, f"exit {rc}: {err[-2000:]}")
    expect_same(render(SAMPLE_EXPECT), out, "v2 output")
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
        f.write(out)
    check_records(f.name, 60)
    os.unlink(f.name)


def case_scenario_all_fields():
    """A custom format with every field of versions 2-5 and our extensions."""
    rc, out, err = run(EAL1, ["--replay", SAMPLE, "--window", "60", "--output", "-",
                              "--log-format", ALL_FIELDS] + META + ALL_META)
    check(rc == 0, f"exit {rc}: {err[-2000:]}")
    expect_same(render(SAMPLE_EXPECT, ALL_FIELDS, ALL_META), out, "all-fields output")
    first = out.splitlines()[1].split(" ")
    check(first[0] == "5", f"version of an all-fields format must be 5, got {first[0]}")
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
        f.write(out)
    check_records(f.name, 60)
    os.unlink(f.name)


def case_determinism():
    """--rxq 1 and --rxq 4 give byte-identical output, equal to the model."""
    with tempfile.TemporaryDirectory() as d:
        pcap, exp = os.path.join(d, "r.pcap"), os.path.join(d, "r.json")
        gencap("random", pcap, "--expect", exp, "--packets", "200000", "--flows", "20000",
               "--seed", "11", "--window", "5", "--pps", "20000")
        base = ["--replay", pcap, "--window", "5", "--output", "-",
                "--log-format", ALL_FIELDS] + META
        rc1, out1, err1 = run(EAL1, base)
        check(rc1 == 0, f"rxq 1 exit {rc1}: {err1[-2000:]}")
        rc4, out4, err4 = run(EAL4, base + ["--rxq", "4"])
        check(rc4 == 0, f"rxq 4 exit {rc4}: {err4[-2000:]}")
        check(out1 == out4, "rxq 1 and rxq 4 differ: " + diff_text(out1, out4))
        # Every RX core received part of the capture: the spread was real.
        c4 = counters(err4)
        per_core = [int(v) for k, v in c4.items() if re.fullmatch(r"core \d+ rx-packets", k)]
        check(len(per_core) == 4 and min(per_core) > 0, f"RSS spread over 4 cores: {per_core}")
        # Each core's busy cycles (doc/performance.md): some for every core
        # that received packets, and the total their sum.
        busy = {k: int(v) for k, v in c4.items() if re.fullmatch(r"core \d+ busy-cycles", k)}
        check(len(busy) == 4 and min(busy.values()) > 0 and
              int(c4.get("total busy-cycles", "0")) == sum(busy.values()),
              f"busy-cycles: {busy}, total {c4.get('total busy-cycles')}")
        expect_same(render(exp, ALL_FIELDS), out1, "random-capture output")


def case_conservation():
    """Records' packets + counted non-logged packets == packets in the capture,
    with a table small enough to overflow (SKIPDATA) and several cores."""
    with tempfile.TemporaryDirectory() as d:
        pcap, exp = os.path.join(d, "c.pcap"), os.path.join(d, "c.json")
        gencap("random", pcap, "--expect", exp, "--packets", "100000", "--flows", "30000",
               "--seed", "5", "--window", "10", "--pps", "10000")
        total = json.load(open(exp))["packets_total"]
        rc, out, err = run(EAL4, ["--replay", pcap, "--window", "10", "--output", "-",
                                  "--rxq", "4", "--flows-per-core", "2000"] + META)
        check(rc == 0, f"exit {rc}: {err[-2000:]}")
        c = counters(err)
        rows = [l.split(" ") for l in out.splitlines()[1:]]
        rec_pkts = sum(int(r[8]) for r in rows if r[13] == "OK")
        skip = [r for r in rows if r[13] == "SKIPDATA"]
        check(len(skip) > 0, "a full table must produce SKIPDATA rows")
        lost = int(c["total lost-table-full"]) + int(c["total lost-no-table"])
        check(lost > 0, "the table was sized to overflow")
        others = int(c["total not-ip"]) + int(c["total malformed"]) + int(c["total late"])
        check(rec_pkts + lost + others == total,
              f"conservation: records {rec_pkts} + lost {lost} + other {others} != {total}")
        check(int(c["total rx-packets"]) == total, "every packet of the capture was received")
        check(c["conservation"] == "ok", "dpflow's own conservation line says ok")
        # Flows already in the table keep counting: the model's per-flow totals for
        # flows that were logged are never exceeded, and most flows made it.
        check(int(c["pipeline skipdata-rows"]) == len(skip), "SKIPDATA rows counted")


def case_loss_summary():
    """The exit summary ends readable: packets, records, files, and the loss
    to a full flow table with its share and --flows-per-core named, the
    numbers from the capture model and the records (not dpflow's counters);
    counters of value 0 only with --stats-detail; a warning on stderr as soon
    as the loss shows, before the summary; --exit-status-on-loss exits 3 on
    a lossy run and 0 on a clean one."""
    plain = [a for a in EAL1 if not a.startswith("--log-level=dpflow")]
    with tempfile.TemporaryDirectory() as d:
        pcap, exp = os.path.join(d, "c.pcap"), os.path.join(d, "c.json")
        gencap("random", pcap, "--expect", exp, "--packets", "6000", "--flows", "600",
               "--seed", "9", "--window", "60", "--pps", "1000")
        model = json.load(open(exp))
        check(model["not_ip"] == 0 and model["malformed"] == 0, f"model: {model.keys()}")
        total = model["packets_total"]
        base = ["--replay", pcap, "--window", "60", "--output", "-", "--flows-per-core", "150"]
        rc, out, err = run(plain, base + META)
        check(rc == 0, f"lossy run without --exit-status-on-loss: exit {rc}: {err[-2000:]}")
        rows = [l.split(" ") for l in out.splitlines()[1:]]
        logged = sum(int(r[8]) for r in rows if r[13] == "OK")
        lost = total - logged
        check(lost > 0, "the table was sized to overflow")
        lines = err.splitlines()
        summ = [l for l in lines if l.startswith("summary: ")]
        check(summ and summ[0] == (
            f"summary: {total} packets received, {logged} in records "
            f"({100 * logged / total:.1f}%); records {sum(1 for r in rows if r[13] == 'OK')}, "
            f"windows 1, files 0"), f"first summary line: {summ[:1]}")
        want = (f"summary: LOST {lost} packets ({100 * lost / total:.1f}%): new flows found "
                f"their RX core's flow table full; avoid with a larger --flows-per-core "
                f"(it is 150)")
        check(want in summ, f"loss line {want!r} not in {summ}")
        check(summ[-1] == "summary: packets or records were LOST; counters add up "
              "(conservation ok)", f"last line: {summ[-1]}")
        check(lines[-len(summ):] == summ, "the readable summary ends the output")
        warn = [i for i, l in enumerate(lines)
                if re.match(r"dpflow: window \d+: losing packets: \d+ so far, new flows found "
                            r"their RX core's flow table full; avoid with a larger "
                            r"--flows-per-core", l)]
        check(len(warn) == 1 and warn[0] < lines.index(summ[0]),
              f"one warning before the summary: {warn}, {err[-1500:]}")
        check("total late: 0" not in lines and "total lost-table-full: " + str(lost) in lines,
              "zero-valued lines left out by default, the loss kept")
        rc, out2, err2 = run(plain, base + META + ["--stats-detail", "--exit-status-on-loss"])
        check(rc == 3, f"--exit-status-on-loss on a lossy run: exit {rc}")
        check(out2 == out, "same records")
        check("total late: 0" in err2.splitlines(), "--stats-detail prints the zeros")
        rc, out3, err3 = run(plain, ["--replay", pcap, "--window", "60", "--output", "-",
                                     "--exit-status-on-loss"] + META)
        check(rc == 0, f"--exit-status-on-loss on a clean run: exit {rc}: {err3[-1000:]}")
        check("summary: no loss; counters add up (conservation ok)" in err3.splitlines() and
              "LOST" not in err3 and "losing" not in err3, f"clean run: {err3[-600:]}")


def files_under(d):
    return sorted(p for p in glob.glob(os.path.join(d, "**", "*"), recursive=True)
                  if os.path.isfile(p))


def read_any(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt").read()
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dcq", path], capture_output=True, text=True,
                              check=True).stdout
    return open(path).read()


def case_files():
    """--output DIR: AWS object layout, every compression, complete files only,
    contents equal to the stdout records, and check-records clean."""
    rc, want, err = run(EAL1, ["--replay", SAMPLE, "--window", "60", "--output", "-"] + META)
    check(rc == 0, f"stdout run exit {rc}")
    header, want_rows = want.splitlines()[0], want.splitlines()[1:]
    for comp, ext in (("zstd", ".log.zst"), ("gzip", ".log.gz"), ("none", ".log")):
        with tempfile.TemporaryDirectory() as d:
            rc, out, err = run(EAL1, ["--replay", SAMPLE, "--window", "60", "--output", d,
                                      "--compress", comp, "--region", "eu-west-1",
                                      "--flow-log-id", "fl-0123abcd"] + META)
            check(rc == 0, f"{comp}: exit {rc}: {err[-2000:]}")
            check(out == "", f"{comp}: nothing on stdout in file mode")
            paths = files_under(d)
            check(len(paths) >= 1, f"{comp}: no file written")
            rows = []
            for p in paths:
                rel = os.path.relpath(p, d)
                m = re.fullmatch(r"AWSLogs/123456789010/vpcflowlogs/eu-west-1/(\d{4})/(\d\d)/(\d\d)/"
                                 r"123456789010_vpcflowlogs_eu-west-1_fl-0123abcd_"
                                 r"(\d{8})T(\d{4})Z_([0-9a-f]{8})" + re.escape(ext), rel)
                check(m is not None, f"{comp}: name not in the AWS layout: {rel}")
                check(m.group(1) + m.group(2) + m.group(3) == m.group(4),
                      f"{comp}: folder date and name date differ: {rel}")
                check(int(m.group(5)[2:]) % 5 == 0, f"{comp}: not a 5-minute slot: {rel}")
                lines = read_any(p).splitlines()
                check(lines[0] == header, f"{comp}: {rel} does not start with the header")
                rows += lines[1:]
                check_records(p, 60)
            check(sorted(rows) == sorted(want_rows),
                  f"{comp}: files hold other records than stdout")
            check(not any(os.path.basename(p).startswith(".") for p in paths),
                  f"{comp}: temporary file left behind")
            c = counters(err)
            check(int(c["writer files"]) == len(paths), f"{comp}: files counter")


def case_net_pcap():
    """The real PMD path: net_pcap vdev, pcap time from the dynamic field,
    --idle-exit ends the run; same records as the replay source."""
    rc, want, _ = run(EAL1, ["--replay", SAMPLE, "--window", "60", "--output", "-"] + META)
    check(rc == 0, "replay run")
    eal = EAL1 + ["--vdev", f"net_pcap0,rx_pcap={SAMPLE}"]
    rc, out, err = run(eal, ["--window", "60", "--output", "-", "--idle-exit", "1"] + META)
    check(rc == 0, f"net_pcap exit {rc}: {err[-2000:]}")
    check("packet clock" in err, "net_pcap ports default to the packet clock")
    expect_same(want, out, "net_pcap output")


def case_signal_flush():
    """SIGTERM flushes the open window: a live-style run on net_pcap without
    --idle-exit is stopped by a signal once its progress line shows every
    packet received, and still logs every packet it got."""
    import select
    eal = EAL1 + ["--vdev", f"net_pcap0,rx_pcap={SAMPLE}"]
    with tempfile.TemporaryDirectory() as d:
        cmd = [DPFLOW] + eal + ["--", "--window", "60", "--output", d, "--compress", "none",
                                "--stats-period", "1"] + META
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        seen, deadline = b"", time.time() + 60
        # Steered by dpflow's own progress line, not by a sleep.
        while b"rx 88 pkts" not in seen and time.time() < deadline and p.poll() is None:
            r, _, _ = select.select([p.stderr], [], [], 0.5)
            if r:
                seen += os.read(p.stderr.fileno(), 65536)
        check(b"rx 88 pkts" in seen, f"progress line never showed 88 packets: {seen[-500:]!r}")
        p.send_signal(signal.SIGTERM)
        out, rest = p.communicate(timeout=60)
        err = (seen + rest).decode(errors="replace")
        check(p.returncode == 0, f"exit {p.returncode} after SIGTERM: {err[-2000:]}")
        paths = files_under(d)
        check(len(paths) >= 1, "the open window was not flushed to a file")
        c = counters(err)
        check(c["conservation"] == "ok", "conservation after a signal")
        logged = sum(int(l.split(" ")[8]) for p_ in paths for l in read_any(p_).splitlines()[1:]
                     if l.endswith(" OK"))
        check(logged == int(c["total logged-packets"]) == 78, "every logged packet is in a file")


def case_wall_clock():
    """--clock wall: windows follow the TSC-calibrated wall clock; every empty
    window up to the stop gets a NODATA row, all rows are window-aligned."""
    eal = EAL1 + ["--vdev", f"net_pcap0,rx_pcap={SAMPLE}"]
    t0 = int(time.time())
    rc, out, err = run(eal, ["--clock", "wall", "--window", "1", "--idle-exit", "3",
                             "--output", "-"] + META)
    t1 = int(time.time())
    check(rc == 0, f"exit {rc}: {err[-2000:]}")
    check("wall clock" in err, "the clock is reported")
    rows = [l.split(" ") for l in out.splitlines()[1:]]
    ok = [r for r in rows if r[13] == "OK"]
    nodata = [r for r in rows if r[13] == "NODATA"]
    check(sum(int(r[8]) for r in ok) == int(counters(err)["total logged-packets"]),
          "every logged packet is in a record")
    for r in ok:
        check(t0 <= int(r[10]) <= t1 + 1, f"wall-clock record time {r[10]} outside the run")
    check(len(nodata) >= 2, f"idle windows must give NODATA rows, got {len(nodata)}")
    starts = [int(r[10]) for r in nodata]
    check(all(b > a for a, b in zip(starts, starts[1:])), "windows in time order")
    for r in nodata:
        check(int(r[11]) - int(r[10]) == 1, "NODATA rows span one window")
    # Between the first and last window every second appears, with data or NODATA.
    windows = sorted({int(r[10]) for r in nodata} | {int(r[10]) for r in ok})
    check(windows == list(range(windows[0], windows[-1] + 1)), f"a window is missing: {windows}")
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
        f.write(out)
    check_records(f.name, 1)
    os.unlink(f.name)


def case_bad_options():
    """Bad input gets a clear message naming the problem and a non-zero exit."""
    cases = [
        (["--window", "0"], "window '0': out of range"),
        (["--window", "abc"], "window 'abc': not a number"),
        (["--rxq", "9"], "needs 9 worker lcores"),
        (["--clock", "sundial"], "clock 'sundial'"),
        (["--compress", "lz4"], "compress 'lz4'"),
        (["--log-format", "${version} ${nosuch}"], "nosuch"),
        (["--log-format", "${srcaddr} ${srcaddr}"], "duplicate"),
        (["--account-id", "has space"], "account-id 'has space'"),
        (["--bogus"], "unknown option '--bogus'"),
        (["--window"], "needs a value"),
        (["--replay", "/nonexistent.pcap"], "/nonexistent.pcap"),
        (["stray"], "unexpected argument 'stray'"),
        ([], "no port to poll"),
    ]
    for opts, msg in cases:
        rc, out, err = run(EAL1, opts, timeout=60)
        check(rc != 0, f"{opts}: exit 0 on bad input")
        check(msg in err, f"{opts}: message should contain {msg!r}, got: {err[-500:]}")
        check(out == "", f"{opts}: nothing on stdout")
    rc, out, err = run(EAL1, ["--help"])
    check(rc == 0 and "--replay FILE" in out and "--flows-per-core N" in out, "--help")


def case_config_file():
    """--config: [dpflow] settings and an [interface] section; errors name the line."""
    with tempfile.TemporaryDirectory() as d:
        good = os.path.join(d, "good.conf")
        with open(good, "w") as f:
            f.write("# dpflow test\n[dpflow]\nwindow = 60\noutput = -\n"
                    "account-id = 123456789010\n"
                    f"log-format = \"{ALL_FIELDS}\"\n\n"
                    "[interface eni-1235b8ca123456789]\nport = 0\n"
                    "vpc-id = vpc-abcdefab012345678\nsubnet-id = subnet-aaaaaaaa012345678\n"
                    "instance-id = i-01234567890123456\n")
        rc, out, err = run(EAL1, ["--config", good, "--replay", SAMPLE,
                                  "--region", "eu-west-1", "--az-id", "euw1-az1"])
        check(rc == 0, f"good config: exit {rc}: {err[-2000:]}")
        expect_same(render(SAMPLE_EXPECT, ALL_FIELDS, ALL_META), out, "config-file output")
        bad = [
            ("[dpflow]\nwindow = 60\nwindo = 5\n", ":3: unknown setting 'windo'"),
            ("[dpflow]\nwindow = 99999\n", ":2: window '99999': out of range"),
            ("[dpflow]\njust words\n", ":2: expected 'key = value'"),
            ("[interface eni-1]\nport = 0\ncolour = red\n", ":3: unknown key 'colour'"),
            ("[interface eni-1]\nvpc-id = x\n", "has no 'port = N'"),
            ("[interface eni-1]\nport = 7\n", "port 7 does not exist"),
            ("[bogus]\n", ":1: unknown section [bogus]"),
            ("[nat]\nrule = static 10.0.0.1/24 100.64.0.0/24\n",
             ":2: nat rule 'static 10.0.0.1/24 100.64.0.0/24': '10.0.0.1/24': host bits set"),
            ("[nat]\nrule = static 10.0.0.0/24 100.64.0.0/24\nrule = static 10.0.0.0/25 100.65.0.0/25\n",
             ":3: nat rule 2: static inside prefix overlaps rule 1's"),
            ("[nat]\nrule = dnat icmp 1.2.3.4:1 10.0.0.1:1\n", ":2: nat rule"),
            ("[nat]\nrule = masquerade 10.0.0.0/8 192.0.2.1\n", "needs forward mode"),
            ("[acl]\nrule = allow tcp 10.0.0.0/8 any any 99999\n", ":2: acl rule"),
            ("[acl]\ncolour = red\n", ":2: unknown key 'colour' in [acl]"),
            ("[acl]\ndefault = maybe\n", ":2: acl-default 'maybe'"),
            ("[interface eni-1]\nport = 0\nvlan = 5000\n", ":3: vlan '5000': expected 0..4095"),
            ("[interface eni-1]\nport = 0\nmac = zz\n", ":3: mac 'zz'"),
            ("[interface eni-1]\nport = 0\naddresses = 10.0.0.300/24\n",
             ":3: addresses: '10.0.0.300/24'"),
            ("[interface eni-1]\nport = 0\nvlan = 7\n[interface eni-2]\nport = 0\nvlan = 7\n",
             ":4: [interface eni-2] matches the same packets as [interface eni-1]"),
            ("[dpflow\n", ":1: section header"),
        ]
        for text, msg in bad:
            path = os.path.join(d, "bad.conf")
            with open(path, "w") as f:
                f.write(text)
            rc, out, err = run(EAL1, ["--config", path, "--replay", SAMPLE])
            check(rc != 0, f"bad config {text!r}: exit 0")
            check(msg in err, f"bad config {text!r}: want {msg!r}, got: {err[-400:]}")
            check(out == "", f"bad config {text!r}: printed records")


def tso_frame(sport, caplen):
    """An Ethernet IPv4 TCP frame of caplen bytes whose IPv4 total length is
    0, as a capture before TCP segmentation offload holds it."""
    import struct
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 1, 0, 64, 6, 0, bytes([10, 0, 0, 1]),
                     bytes([10, 0, 0, 2]))
    tcp = struct.pack("!HHIIBBHHH", sport, 80, 1, 0, 0x50, 0x10, 65535, 0, 0)
    head = eth + ip + tcp
    return head + bytes(caplen - len(head))


def case_long_frame():
    """Frames of a mapped Ethernet capture are attached to their mbufs, not
    copied; one longer than an mbuf can point at (64 KiB) is cut at the
    mbuf's 2048 bytes, as a copied frame is (doc/records.md): a super-packet
    of 70000 bytes counts 2048 - 14 bytes, one of 3000 bytes counts 2986."""
    import struct
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "long.pcap")
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
            for i, (sport, caplen) in enumerate(((1001, 70000), (1002, 3000))):
                frame = tso_frame(sport, caplen)
                f.write(struct.pack("<IIII", 1700000000 + i, 0, len(frame), len(frame)))
                f.write(frame)
        rc, out, err = run(EAL1, ["--replay", path, "--output", "-"] + META)
        check(rc == 0, f"exit {rc}: {err[-2000:]}")
        got = {}
        for line in out.splitlines():
            fl = line.split()
            if len(fl) >= 10 and fl[5].isdigit():
                got[int(fl[5])] = (int(fl[8]), int(fl[9]))
        check(got.get(1001) == (1, 2048 - 14), f"70000-byte frame: (packets, bytes) {got.get(1001)}")
        check(got.get(1002) == (1, 3000 - 14), f"3000-byte frame: (packets, bytes) {got.get(1002)}")


def case_long_capture():
    """A capture longer than the replay keeps mapped (its pages are given
    back 64 MB behind the reader, app/ports/replay.c): every packet is still
    logged, each flow with its own count. tools/bench/mkpcap.py's frame i
    belongs to flow i % F (TCP without payload: IPv4 total length 40, the
    rest of the 60-byte frame is padding)."""
    packets, flows = 1_600_000, 1000
    mkpcap = os.path.join(os.path.dirname(GENCAP), "bench", "mkpcap.py")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "long.pcap")
        subprocess.run([sys.executable, mkpcap, path, "--packets", str(packets), "--flows",
                        str(flows)], check=True, capture_output=True)
        check(os.path.getsize(path) > (64 + 16) << 20, "capture too short to release pages")
        rc, out, err = run(EAL1, ["--replay", path, "--window", "3600", "--output", "-",
                                  "--flows-per-core", "4096"] + META, timeout=600)
        check(rc == 0, f"exit {rc}: {err[-2000:]}")
        counts = []
        for line in out.splitlines():
            fl = line.split()
            if len(fl) >= 10 and fl[8].isdigit():
                counts.append((int(fl[8]), int(fl[9])))
        check(len(counts) == flows, f"{len(counts)} records, {flows} flows")
        each = packets // flows
        bad = [c for c in counts if c != (each, each * 40)]
        check(not bad, f"{len(bad)} flows with other counts than ({each}, {each * 40}): {bad[:3]}")



def case_phase_marks():
    """--log-level=dpflow.main:debug marks each phase of a replay once, in
    order (tools/bench/run.sh sbsphases reads them): the start steps, the
    replay's last packet read, the RX cores' last packet received, every
    window flushed, the files published, the stop; the run's records are
    those of a run without the marks."""
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "plain")
        marked = os.path.join(tmp, "marked")
        rc, _, err = run(EAL1, ["--replay", SAMPLE, "--output", plain] + META)
        check(rc == 0, f"exit {rc}: {err[-2000:]}")
        rc, _, err = run(EAL1 + ["--log-level=dpflow.main:debug"],
                         ["--replay", SAMPLE, "--output", marked] + META)
        check(rc == 0, f"exit {rc}: {err[-2000:]}")
        marks = re.findall(r"timing: (.+?) at ([0-9.]+) ms", err)
        names = [m[0] for m in marks if not m[0].startswith("start step")]
        want = ["EAL started, options read", "replay read every packet", "every packet received",
                "every window flushed", "files published", "stopped"]
        check(names == want, f"phase marks {names}, want {want}")
        times = [float(m[1]) for m in marks]
        check(times == sorted(times), f"marks out of time order: {marks}")

        def records(root):
            rows = []
            for d, _, files in os.walk(root):
                for n in files:
                    p = subprocess.run(["zstd", "-dcq", os.path.join(d, n)], capture_output=True,
                                       text=True, check=True)
                    rows += p.stdout.splitlines()[1:]
            return sorted(rows)
        got, want_rows = records(marked), records(plain)
        check(got and got == want_rows, f"{len(got)} records with the marks, {len(want_rows)} without")

CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}


def main(cases, fail=Fail, skip=None):
    """A test script's __main__: run the case sys.argv[1] names and say
    PASS, FAIL (exit 1) or SKIP (exit 77, only with a skip exception)."""
    name = sys.argv[1] if len(sys.argv) == 2 else None
    if name not in cases:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(cases)}")
    try:
        cases[name]()
    except Exception as e:
        if skip is not None and isinstance(e, skip):
            print(f"SKIP {name}: {e}")
            sys.exit(SKIP)
        if not isinstance(e, fail):
            raise
        print(f"FAIL {name}: {e}")
        sys.exit(1)
    print(f"PASS {name}")

if __name__ == "__main__":
    main(CASES)
