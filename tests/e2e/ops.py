#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end tests of appliance operation (doc/operations.md): signals,
the progress line, the NUMA report, the example configuration and the man
page.

Usage: ops.py CASE    (meson runs one test per case; exit 77 = skipped)
Environment: DPFLOW (binary), DATA (tests/data), SRC (the source tree).

No case passes or fails on timing: a run is steered by what dpflow prints
or writes (a temporary file appears, a progress line reports the packets),
and every wait has a generous deadline only so that a hang ends as a
failure that says what was awaited.
"""
import glob
import os
import queue
import re
import signal
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

DPFLOW = os.environ["DPFLOW"]
DATA = os.environ["DATA"]
SRC = os.environ["SRC"]
EAL = ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--log-level=lib.eal:error",
       # The exit summary whole, lines of value 0 too: these tests read them.
       "--log-level=dpflow.control:debug",
       "-l", "0-1"]
SAMPLE = os.path.join(DATA, "sample.pcap")
SKIP = 77
DEADLINE = 60.0
PROGRESS = re.compile(r"dpflow: rx (\d+) pkts \((\d+) pps\), flows (\d+), lost (\d+), "
                      r"windows (\d+), records (\d+), files (\d+)")


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def run(eal, opts, timeout=120):
    p = subprocess.run([DPFLOW] + eal + ["--"] + opts, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def counters(stderr):
    out = {}
    for line in stderr.splitlines():
        m = re.fullmatch(r"([a-z0-9 -]+): (\S+)", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


class Proc:
    """dpflow in the background, its stderr collected line by line."""

    def __init__(self, eal, opts):
        self.p = subprocess.Popen([DPFLOW] + eal + ["--"] + opts, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.err = []
        self.out = []
        self.pumps = [threading.Thread(target=self._pump, args=(self.p.stderr, self.err, True),
                                       daemon=True),
                      threading.Thread(target=self._pump, args=(self.p.stdout, self.out, False),
                                       daemon=True)]
        for t in self.pumps:
            t.start()

    def _pump(self, stream, keep, notify):
        for line in stream:
            keep.append(line)
            if notify:
                self.lines.put(line)

    def stderr(self):
        return "".join(self.err)

    def alive(self, what):
        rc = self.p.poll()
        check(rc is None, f"dpflow exited ({rc}) while waiting for {what}: "
                          f"{self.stderr()[-2000:]}")

    def wait_for(self, what, cond):
        """Poll cond() until true; fail naming `what` if dpflow ends first."""
        end = time.monotonic() + DEADLINE
        while not cond():
            self.alive(what)
            check(time.monotonic() < end, f"no {what} after {DEADLINE:.0f} s: "
                                          f"{self.stderr()[-2000:]}")
            time.sleep(0.05)

    def wait_line(self, what, match):
        """The first stderr line from now on for which match(line) is true."""
        end = time.monotonic() + DEADLINE
        while True:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                self.alive(what)
                check(time.monotonic() < end, f"no {what} after {DEADLINE:.0f} s: "
                                              f"{self.stderr()[-2000:]}")
                continue
            if match(line):
                return line

    def wait(self):
        """Exit status, once dpflow has ended and all its output is read."""
        rc = self.p.wait(timeout=DEADLINE)
        for t in self.pumps:
            t.join(timeout=DEADLINE)
        return rc

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def files_under(d):
    """Every regular file under d, hidden ones (temporaries) included."""
    return sorted(os.path.join(root, f) for root, _, names in os.walk(d) for f in names)


def published(d):
    return [p for p in files_under(d) if not os.path.basename(p).startswith(".")]


def temporaries(d):
    return [p for p in files_under(d) if os.path.basename(p).startswith(".")]


def slot_of(path):
    return re.search(r"_(\d{8}T\d{4}Z)_[0-9a-f]{8}\.log", path).group(1)


def help_text():
    rc, out, err = run(EAL, ["--help"], timeout=60)
    check(rc == 0, f"--help: exit {rc}: {err[-500:]}")
    return out


def help_options(text):
    """{name: default or None} for every --name in `dpflow -- --help`, plus
    the single-letter options as '-x'."""
    opts = {}
    for line in text.splitlines():
        m = re.match(r"\s+(?:-(\w), )?--([a-z0-9][a-z0-9-]*)\b", line)
        if not m:
            m1 = re.match(r"\s+-(\w)\b", line)
            if m1:
                opts["-" + m1.group(1)] = None
            continue
        d = re.search(r"\(default ([^)]*)\)\s*$", line)
        opts[m.group(2)] = d.group(1) if d else None
        if m.group(1):
            opts["-" + m.group(1)] = None
    check(len(opts) > 20, f"--help lists too few options to be the option table: {opts}")
    return opts


# ------------------------------------------------------------ a pcap by hand

T0 = 1700000100  # a multiple of 300 (a file slot) and of 60 (a window)


def udp_frame(sport, dport, payload=b"x" * 18):
    udp_len = 8 + len(payload)
    total = 20 + udp_len
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    csum = sum(struct.unpack("!10H", ip))
    csum = (csum & 0xFFFF) + (csum >> 16)
    csum = (csum & 0xFFFF) + (csum >> 16)
    ip = ip[:10] + struct.pack("!H", ~csum & 0xFFFF) + ip[12:]
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    return eth + ip + udp


def pcap_header():
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)


def pcap_record(t, frame):
    sec = int(t)
    usec = int(round((t - sec) * 1e6))
    return struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame


def phase_packets(times):
    return b"".join(pcap_record(t, udp_frame(1000 + i % 16, 53)) for i, t in enumerate(times))


# Phase 1: exactly 256 packets (one replay chunk, so all of them are
# enqueued before the replay blocks on the fifo): windows 0 and 1 of slot
# T0, and the start of window 2, which closes windows 0 and 1. Their records
# go to the open file of slot T0, which no window end publishes before
# T0 + 300. Phase 2: the rest of slot T0 and the start of the next slot.
PHASE1 = [T0 + i * 0.5 for i in range(240)] + [T0 + 125 + i for i in range(16)]
PHASE2 = [T0 + 130 + i * 0.6 for i in range(256)] + [T0 + 310 + i for i in range(8)]


def open_fifo_writer(path, proc):
    """Open the fifo once dpflow has opened it for reading (no blocking open:
    if dpflow fails first, the test must say so, not hang)."""
    end = time.monotonic() + DEADLINE
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as e:
            if e.errno != 6:  # ENXIO: no reader yet
                raise
            proc.alive("dpflow to open the --replay fifo")
            check(time.monotonic() < end, "dpflow never opened the --replay fifo")
            time.sleep(0.05)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "wb", buffering=0)


# ---------------------------------------------------------------- cases

def case_sighup_rotation():
    """SIGHUP mid-run publishes the open file (its slot has not ended), the run
    goes on into new files (one of them for the same slot), every record is
    in exactly one file, published files are never touched again, and the
    progress line reports the published file at once."""
    with tempfile.TemporaryDirectory() as d:
        fifo, full = os.path.join(d, "live.pcap"), os.path.join(d, "full.pcap")
        out = os.path.join(d, "out")
        os.mkfifo(fifo)
        with open(full, "wb") as f:
            f.write(pcap_header() + phase_packets(PHASE1) + phase_packets(PHASE2))
        opts = ["--window", "60", "--output", out, "--compress", "none",
                "--account-id", "123456789010", "--stats-period", "1"]
        rc, want, err = run(EAL, ["--replay", full, "--window", "60", "--output", "-",
                                  "--account-id", "123456789010"])
        check(rc == 0, f"reference run: exit {rc}: {err[-2000:]}")
        header, want_rows = want.splitlines()[0], sorted(want.splitlines()[1:])

        proc = Proc(EAL, ["--replay", fifo] + opts)
        try:
            w = open_fifo_writer(fifo, proc)
            w.write(pcap_header() + phase_packets(PHASE1))
            proc.wait_for("open file (hidden temporary) for windows 0-1",
                          lambda: len(temporaries(out)) > 0)
            check(published(out) == [],
                  f"a file was published before SIGHUP: {published(out)}")
            # The file open now must be published under its final name. (The
            # writer may still be writing windows 0-1: those rows then open a
            # new temporary after the rotation, which is fine.)
            open_now = temporaries(out)
            check(len(open_now) == 1, f"one slot, one open file: {open_now}")
            # The temporary is .<final>.<lines whole at the last window end>.tmp
            final = os.path.join(os.path.dirname(open_now[0]),
                                 re.sub(r"\.[0-9]+\.tmp$", "",
                                        os.path.basename(open_now[0])[1:]))
            proc.p.send_signal(signal.SIGHUP)
            proc.wait_for(f"{final} published by SIGHUP", lambda: os.path.exists(final))
            proc.wait_line("SIGHUP message", lambda l: "SIGHUP: open files published: 1;" in l)
            proc.wait_line("progress line counting the published file",
                           lambda l: PROGRESS.search(l) is not None
                           and int(PROGRESS.search(l).group(7)) >= 1)
            proc.alive("the run to go on after SIGHUP")
            first = published(out)
            check(first == [final] and slot_of(final) == "20231114T2215Z",
                  f"SIGHUP should publish the one open file, of slot T0: {first}")
            first_text = open(first[0]).read()
            first_rows = first_text.splitlines()
            check(first_rows[0] == header and len(first_rows) > 1,
                  f"published file is not header + records: {first_rows[:3]}")
            w.write(phase_packets(PHASE2))
            w.close()
            rc = proc.wait()
        finally:
            proc.kill()
        err = proc.stderr()
        check(rc == 0, f"exit {rc} at the end of the fifo: {err[-2000:]}")
        paths = published(out)
        check(temporaries(out) == [], f"temporary left: {temporaries(out)}")
        check(len(paths) > len(first), f"no file after the rotation: {paths}")
        same_slot = [p for p in paths if slot_of(p) == slot_of(first[0])]
        check(len(same_slot) == 2,
              f"the rotated slot should continue in a second file: {same_slot}")
        check(open(first[0]).read() == first_text, "a published file changed afterwards")
        rows = []
        for p in paths:
            lines = open(p).read().splitlines()
            check(lines[0] == header, f"{p} does not start with the header")
            rows += lines[1:]
        check(sorted(rows) == want_rows,
              f"files hold other records than an uninterrupted run: "
              f"{len(rows)} rows, want {len(want_rows)}")
        c = counters(err)
        check(int(c["writer files"]) == len(paths), "writer files counter")
        check(int(c["total rx-packets"]) == len(PHASE1) + len(PHASE2), "packets received")
        check(c["conservation"] == "ok", "conservation after a rotation")


def case_sigterm_flush():
    """SIGTERM on a live-style run (net_pcap, no --idle-exit) once the progress
    line shows every packet received: exit 0, the open windows flushed into
    published files holding exactly the records of a replay run. Also checks
    the progress line: its fields and a non-zero rate on its first line with
    packets."""
    rc, want, err = run(EAL, ["--replay", SAMPLE, "--window", "60", "--output", "-"])
    check(rc == 0, f"reference run: exit {rc}: {err[-2000:]}")
    total = int(counters(err)["total rx-packets"])
    flows = int(counters(err)["total flows-created"])
    header, want_rows = want.splitlines()[0], sorted(want.splitlines()[1:])
    with tempfile.TemporaryDirectory() as d:
        eal = EAL + ["--vdev", f"net_pcap0,rx_pcap={SAMPLE}"]
        proc = Proc(eal, ["--window", "60", "--output", d, "--compress", "none",
                          "--stats-period", "1"])
        try:
            first_rx = proc.wait_line("progress line with packets",
                                      lambda l: PROGRESS.search(l) is not None
                                      and int(PROGRESS.search(l).group(1)) > 0)
            m = PROGRESS.search(first_rx)
            check(int(m.group(2)) > 0, f"first progress line with packets shows no rate: "
                                       f"{first_rx.strip()}")
            line = first_rx
            if int(m.group(1)) != total:
                line = proc.wait_line(f"progress line with rx {total}",
                                      lambda l: PROGRESS.search(l) is not None
                                      and int(PROGRESS.search(l).group(1)) == total)
            m = PROGRESS.search(line)
            check(int(m.group(3)) == flows, f"progress flows {m.group(3)}, want {flows}")
            check(int(m.group(4)) == 0, "progress line: nothing lost")
            proc.p.send_signal(signal.SIGTERM)
            rc = proc.wait()
        finally:
            proc.kill()
        err = proc.stderr()
        check(rc == 0, f"exit {rc} after SIGTERM: {err[-2000:]}")
        check(temporaries(d) == [], f"temporary left after SIGTERM: {temporaries(d)}")
        paths = published(d)
        check(len(paths) >= 1, "SIGTERM did not publish the open window")
        rows = []
        for p in paths:
            lines = open(p).read().splitlines()
            check(lines[0] == header, f"{p} does not start with the header")
            rows += lines[1:]
        check(sorted(rows) == want_rows, f"after SIGTERM the files hold {len(rows)} rows, "
                                         f"a replay run {len(want_rows)}")
        c = counters(err)
        check(c["conservation"] == "ok", "conservation after SIGTERM")
        check(int(c["writer files"]) == len(paths), "writer files counter")


def case_numa_report():
    """Start-up lines give the machine's nodes with their cpus (as the kernel
    lists them), each port's node, and no remote-lcore warning when every
    lcore and port share a node."""
    nodes = {}
    for nd in glob.glob("/sys/devices/system/node/node[0-9]*"):
        cpus = open(os.path.join(nd, "cpulist")).read().strip()
        if cpus:
            nodes[int(nd.rsplit("node", 1)[1])] = cpus
    if not nodes:
        raise Skip("no /sys/devices/system/node: cannot tell the expected nodes")

    def cpu_set(text):
        s = set()
        for part in text.split(","):
            a, _, b = part.partition("-")
            s |= set(range(int(a), int(b or a) + 1))
        return s

    rc, out, err = run(EAL, ["--replay", SAMPLE, "--window", "60", "--output", "-"])
    check(rc == 0, f"exit {rc}: {err[-2000:]}")
    got = {int(m.group(1)): m.group(2)
           for m in re.finditer(r"^dpflow: numa: node (\d+): cpus (\d[0-9-]*(?:,\d[0-9-]*)*)", err, re.M)}
    check(set(got) >= set(nodes), f"numa nodes printed {sorted(got)}, kernel has {sorted(nodes)}")
    for n, cpus in nodes.items():
        check(cpu_set(got[n]) == cpu_set(cpus), f"node {n}: cpus {got[n]}, kernel says {cpus}")
    check(re.search(r"^dpflow: numa: port 0 \(\S+\): node \d+$", err, re.M) is not None,
          f"port 0's node is not reported: {err[:1500]}")
    if len(nodes) == 1:
        check("cross NUMA nodes" not in err, "remote-lcore warning on a one-node machine")


def case_example_config():
    """tools/dpflow.conf.example parses and runs (with a replay and an output
    override); every key it shows, commented out or not, is a real option."""
    example = os.path.join(SRC, "tools", "dpflow.conf.example")
    opts = help_options(help_text())
    section = None
    keys = []
    for n, line in enumerate(open(example), 1):
        s = line.strip()
        m = re.fullmatch(r"#?\s*\[(\w+)(?: [^\]]+)?\]", s)
        if m:
            section = m.group(1)
            continue
        m = re.fullmatch(r"#?\s*([a-z][a-z0-9-]*)\s*=.*", s)
        if m and section == "dpflow":
            keys.append((n, m.group(1)))
    check(len(keys) >= 10, f"the example shows only {len(keys)} [dpflow] settings")
    for n, k in keys:
        check(k in opts and k != "config", f"{example}:{n}: '{k}' is not a setting of --help")
    with tempfile.TemporaryDirectory() as d:
        # The overrides a lab box needs: one RX lcore, no /var/log.
        rc, out, err = run(EAL, ["--config", example, "--replay", SAMPLE, "--output", d,
                                 "--rxq", "1"])
        check(rc == 0, f"example config: exit {rc}: {err[-2000:]}")
        paths = published(d)
        check(len(paths) >= 1, f"example config wrote no file: {err[-1000:]}")
        check(all("/AWSLogs/123456789010/vpcflowlogs/eu-west-1/" in p for p in paths),
              f"the example's account-id and region should name the path: {paths[:2]}")
        check(counters(err)["conservation"] == "ok", "conservation with the example config")


def rendered_man():
    """The page as plain text, 200 columns wide (one tag per line), after
    checking that groff renders it without a warning at usual widths and
    that `man -l` shows it."""
    groff = shutil.which("groff")
    if groff is None:
        raise Skip("groff is not installed")
    page = os.path.join(SRC, "doc", "dpflow.8")
    for width in (65, 78, 100, 200):
        p = subprocess.run([groff, "-man", "-Tascii", "-ww", "-rHY=0", f"-rLL={width}n", page],
                           capture_output=True, text=True)
        check(p.returncode == 0, f"groff failed: {p.stderr}")
        check(p.stderr.strip() == "",
              f"groff warns about doc/dpflow.8 at {width} columns:\n{p.stderr}")
    if shutil.which("man"):
        m = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True,
                           env=dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat"))
        check(m.returncode == 0 and m.stderr.strip() == "" and "DPFLOW(8)" in m.stdout,
              f"man -l doc/dpflow.8: exit {m.returncode}: {m.stderr[-500:]}")
    # -Tascii overstrikes bold and underline; keep the plain characters.
    return re.sub(r".\x08", "", p.stdout)


def man_block(text, heading):
    """Lines under a heading of the rendered page (a section, unindented, or a
    subsection, indented 3) up to the next heading of either kind."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == heading and re.match(r"^( {3})?\S", line):
            block = []
            for nxt in lines[i + 1:]:
                if re.match(r"^( {3})?\S", nxt):
                    if not line.startswith(" ") and nxt.startswith("   "):
                        block.append(nxt)  # a subsection of the section
                        continue
                    break
                block.append(nxt)
            return block
    raise Fail(f"man page has no heading {heading!r}")


def man_entries(lines):
    """{option: text} of the tagged paragraphs in lines, where a tag is an
    indented line starting with -x or --name (aliases: '-h, --help').
    Long options are keyed without their dashes, short ones as '-x'."""
    def key(opt):
        return opt[2:] if opt.startswith("--") else opt

    entries, cur = {}, None
    for line in lines:
        h = re.match(r"^ {7}(-\w|--[a-z0-9-]+)\b", line)
        if h:
            names = re.findall(r"(?:^|, )(--[a-z0-9][a-z0-9-]*|-\w)\b", line.strip())
            cur = key(names[0])
            for n in names:
                entries.setdefault(key(n), "")
        elif re.match(r"^ {3}\S", line):
            cur = None
        if cur is not None:
            entries[cur] += " " + line.strip()
    return entries


def case_man_page():
    """doc/dpflow.8 renders without groff warnings, has the usual sections,
    documents every option of `dpflow -- --help` with its default, and lists
    no setting that --help does not know."""
    text = rendered_man()
    for sec in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "SIGNALS",
                "FILES", "EXIT STATUS", "SEE ALSO"):
        check(re.search(rf"^{sec}$", text, re.M), f"man page lacks section {sec}")
    opts = help_options(help_text())
    doc = man_entries(man_block(text, "OPTIONS"))
    for name, default in opts.items():
        shown = name if name.startswith("-") and len(name) == 2 else "--" + name
        check(name in doc, f"option {shown} of --help is not in doc/dpflow.8 OPTIONS")
        if default is not None:
            body = re.sub(r"\s+", " ", doc[name])
            check(re.search(rf"[Dd]efault:? {re.escape(default)}\b", body) is not None,
                  f"doc/dpflow.8: {shown}: default {default!r} (from --help) not stated: "
                  f"{body[:300]}")
    # The settings subsection must not keep an option the table dropped.
    settings = man_entries(man_block(text, "Settings"))
    check(len(settings) > 20, f"Settings subsection has only {sorted(settings)}")
    for name in settings:
        check(name in opts, f"doc/dpflow.8 documents --{name}, which --help does not list")


def case_help_version():
    """--help and --version (-h/-V after "--") are answered before EAL starts:
    no EAL option, no hugepages, nothing from EAL on stderr, exit 0; the
    version is meson's project version and the DPDK it was built with."""
    with open(os.path.join(SRC, "meson.build")) as f:
        want = re.search(r"project\([^)]*?version:\s*'([^']+)'", f.read(), re.S).group(1)
    dpdk = subprocess.run(["pkg-config", "--modversion", "libdpdk"], capture_output=True,
                          text=True).stdout.strip()
    # Memory that EAL cannot have: if it started, it would fail (or print).
    for argv in (["--help"], ["-h"], ["--", "--help"], ["--", "-h"],
                 ["--", "--window", "5", "--help"], ["-l", "0", "--", "--help"]):
        p = subprocess.run([DPFLOW] + argv, capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, f"{argv}: exit {p.returncode}: {p.stderr[-500:]}")
        check("--flows-per-core N" in p.stdout and "--version" in p.stdout,
              f"{argv}: usage on stdout: {p.stdout[:300]!r}")
        check(p.stderr == "", f"{argv}: EAL started (stderr {p.stderr[-300:]!r})")
    for argv in (["--version"], ["--", "--version"], ["--", "-V"]):
        p = subprocess.run([DPFLOW] + argv, capture_output=True, text=True, timeout=60)
        check(p.returncode == 0 and p.stderr == "", f"{argv}: exit {p.returncode} {p.stderr!r}")
        check(p.stdout.startswith(f"dpflow {want} "), f"{argv}: {p.stdout!r}, want {want}")
        check(not dpdk or dpdk.split(".")[:2] == p.stdout.split("DPDK ")[1].split(".")[:2],
              f"{argv}: DPDK version {p.stdout!r}, pkg-config says {dpdk}")
    # A value that reads "--help" is a value, not the option.
    p = subprocess.run([DPFLOW] + EAL + ["--", "--log-format", "--help"], capture_output=True,
                       text=True, timeout=60)
    check(p.returncode != 0 and "usage" not in p.stdout, f"--log-format --help: {p.stdout!r}")


def case_systemd_unit():
    """tools/dpflow.service passes `systemd-analyze verify` without a word
    (with ExecStart pointing at the built binary and dpflow(8) findable), and
    has what operations.md promises: Type=simple, EAL options from an
    EnvironmentFile, Restart=on-failure, SIGTERM to stop, SIGHUP to reload."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        raise Skip("systemd-analyze is not installed")
    unit_src = open(os.path.join(SRC, "tools", "dpflow.service")).read()
    settings = {}
    for line in unit_src.splitlines():
        m = re.fullmatch(r"([A-Za-z]+)=(.*)", line)
        if m:
            settings.setdefault(m.group(1), []).append(m.group(2))
    want = {"Type": "simple", "Restart": "on-failure", "KillSignal": "SIGTERM"}
    for k, v in want.items():
        check(settings.get(k) == [v], f"dpflow.service: {k}={settings.get(k)}, want {v}")
    check(any("kill -HUP $MAINPID" in v for v in settings.get("ExecReload", [])),
          f"dpflow.service: ExecReload should send SIGHUP: {settings.get('ExecReload')}")
    check(any(v.lstrip("-") == "/etc/default/dpflow" for v in settings.get("EnvironmentFile", [])),
          "dpflow.service: no EnvironmentFile=/etc/default/dpflow")
    start = settings.get("ExecStart", [""])[0].split()
    check("$DPFLOW_EAL" in start and start.index("$DPFLOW_EAL") < start.index("--")
          and "--config" in start, f"dpflow.service: ExecStart {start}")
    defaults = open(os.path.join(SRC, "tools", "dpflow.default")).read()
    check(re.search(r"^DPFLOW_EAL=", defaults, re.M), "tools/dpflow.default sets no DPFLOW_EAL")

    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "man", "man8"))
        shutil.copy(os.path.join(SRC, "doc", "dpflow.8"), os.path.join(d, "man", "man8"))
        env = dict(os.environ, MANPATH=os.path.join(d, "man"), SYSTEMD_LOG_COLOR="0")

        def verify(text, name):
            path = os.path.join(d, name)
            with open(path, "w") as f:
                f.write(text)
            p = subprocess.run([analyze, "verify", path], capture_output=True, text=True,
                               env=env, cwd=d)
            return p.returncode, (p.stdout + p.stderr).strip()

        # The checker must be able to fail here, or its silence means nothing.
        rc, msg = verify("[Service]\nType=simple\nExecStart=/bin/true\nNoSuchKey=1\n",
                         "probe.service")
        if "NoSuchKey" not in msg:
            raise Skip(f"systemd-analyze verify does not report unknown keys here: {msg!r}")
        text = re.sub(r"^ExecStart=\S+", "ExecStart=" + os.path.abspath(DPFLOW), unit_src,
                      flags=re.M)
        rc, msg = verify(text, "dpflow.service")
        check(rc == 0 and msg == "", f"systemd-analyze verify dpflow.service: exit {rc}:\n{msg}")


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}

if __name__ == "__main__":
    name = sys.argv[1]
    try:
        CASES[name]()
    except Skip as e:
        print(f"SKIP {name}: {e}")
        sys.exit(SKIP)
    except Fail as e:
        print(f"FAIL {name}: {e}")
        sys.exit(1)
    print(f"PASS {name}")
