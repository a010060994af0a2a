#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end tests of the interactive prompt, its commands and telemetry.

Usage: cli.py CASE     Environment as for e2e.py.
"""
import csv
import datetime
import io
import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import time

import e2e  # noqa: E402  (e2e.main: the __main__ of every script)
from e2e import (DPFLOW, EAL1, META, SAMPLE, SAMPLE_EXPECT, Fail, check, check_records,  # noqa: E402
                 counters, expect_same, render, run)


def cmdfile_run(commands, extra=(), eal=EAL1):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "cmds")
        with open(path, "w") as f:
            f.write("\n".join(commands) + "\n")
        rc, out, err = run(eal, ["--replay", SAMPLE, "--window", "60", "--output",
                                 os.path.join(d, "out"), "--cmdline-file", path] + META +
                           list(extra))
        return rc, out, err, d


def sections(out):
    """Output split per command: {index: (command, [lines])}."""
    res, cur = [], None
    for line in out.splitlines():
        if line.startswith("dpflow> "):
            cur = (line[8:], [])
            res.append(cur)
        elif cur is not None:
            cur[1].append(line)
    return res


def expected_rows():
    """The model's OK rows in output order, as v2 lines (no header)."""
    return [l for l in render(SAMPLE_EXPECT).splitlines()[1:] if l.endswith(" OK")]


def case_cmdline_file():
    """Every command through --cmdline-file on the sample capture: output
    checked against the model; bad commands named with file:line."""
    cmds = ["wait", "show flows oldest limit 10000", "show flows limit 5",
            "show flows proto udp", "show flows src 10.0.0.1 oldest",
            "show flows port 443 oldest", "show flows action REJECT",
            "show flows iface eni-1235b8ca123456789 limit 1",
            "show flows iface eni-nosuch", "show flows proto xyz", "show flows proto udp proto tcp",
            "show window", "show lcores", "show flow-table", "show config",
            "show port info all", "show port stats 0", "show port xstats all",
            "clear port stats all", "show port stats 9",
            "nat show", "acl show", "help set", "bogus", "show", "set window 0",
            "set log-format ${srcaddr} ${bogus}", "stop", "start", "quit"]
    rc, out, err, d = cmdfile_run(cmds)
    check(rc == 0, f"exit {rc}: {err[-2000:]}")
    sec = sections(out)
    check([c for c, _ in sec] == cmds, f"commands echoed in order: {[c for c, _ in sec]}")
    by = {c: lines for c, lines in sec}
    want = expected_rows()

    def rows(cmd):
        lines = by[cmd]
        check(lines[0].startswith("flows: "), f"{cmd}: {lines[:2]}")
        check(lines[2].startswith("version account-id"), f"{cmd}: header")
        return lines[3:]

    check(rows("show flows oldest limit 10000") == want, "oldest first == output order")
    check(rows("show flows limit 5") == list(reversed(want))[:5], "newest first, limit")
    check(rows("show flows proto udp") == [r for r in reversed(want) if r.split()[7] == "17"],
          "proto filter")
    check(rows("show flows src 10.0.0.1 oldest") ==
          [r for r in want if r.split()[3] == "10.0.0.1"], "src filter")
    check(rows("show flows port 443 oldest") ==
          [r for r in want if "443" in (r.split()[5], r.split()[6])], "port filter")
    check(rows("show flows action REJECT") == [], "action filter")
    check(len(rows("show flows iface eni-1235b8ca123456789 limit 1")) == 1, "iface by id")
    check(by["show flows iface eni-nosuch"] == ["error: iface 'eni-nosuch': no such interface"],
          "unknown interface named")
    check(by["show flows proto xyz"][0].startswith("error: proto 'xyz'"), "bad proto named")
    check(by["show flows proto udp proto tcp"] ==
          ["error: filter 'proto' given twice ('udp', then 'tcp'): give it once"],
          f"repeated filter: {by['show flows proto udp proto tcp']}")
    w = dict(l.split(": ", 1) for l in by["show window"])
    check(w["clock"] == "packet" and w["window-seconds"] == "60", f"show window: {w}")
    # The wall clock's discipline runs whatever the packet clock: its error
    # and the measured TSC rate are shown (lib/clock, doc/operations.md).
    check(int(w["clock-error-max-ns"]) < 1_000_000 and int(w["clock-tsc-hz"]) > 0
          and int(w["clock-samples"]) >= 2 and "clock-error-ns" in w and "clock-steps" in w,
          f"show window clock lines: {w}")
    check(any(l.startswith("rx-lcore 1 queues: port0/q0") for l in by["show lcores"]),
          "show lcores")
    ft = dict(l.split(": ", 1) for l in by["show flow-table"])
    check(ft["core 1 capacity"] == "65536" and ft["core 1 flows-created"] == "45",
          f"show flow-table: {ft}")
    cfg = dict(l.split(": ", 1) for l in by["show config"] if ": " in l)
    check(cfg["window"] == "60" and cfg["account-id"] == "123456789010", "show config")
    st = dict(l.split(": ", 1) for l in by["show port stats 0"])
    check(st["port 0 rx-packets"] == "88" and st["port 0 nic-ipackets"] == "88", f"stats: {st}")
    check(any("driver: net_ring" in l for l in by["show port info all"]), "port info")
    check(by["show port stats 9"][0].startswith("error: port '9'"), "bad port named")
    check(by["nat show"] == ["nat rules: 0"], "nat show")
    check(by["help set"] == ["set window SEC: window length 1..3600 from the next boundary "
                             "(show window: window-seconds-set)",
                             "set log-format FMT: AWS format string from the next window boundary"],
          f"help set: {by['help set']}")
    check(re.match(r".*:24: error: unknown command 'bogus'", by["bogus"][0]) is not None,
          f"bogus: {by['bogus']}")
    check("bad arguments in 'show'" in by["show"][0], "incomplete command named")
    check(by["set window 0"] == ["error: window '0': expected 1..3600 seconds"], "set window 0")
    check("unknown field 'bogus'" in by["set log-format ${srcaddr} ${bogus}"][0], "bad format")
    check(by["stop"][0] == "polling: no" and by["start"][0] == "polling: yes", "stop/start")
    check(counters(err)["conservation"] == "ok", "conservation")


def case_export_csv():
    """export flows csv: header, every column checked against the records;
    start/end both as MM/DD/YYYY HH:MM:SS AM/PM (UTC) and epoch ms."""
    with tempfile.TemporaryDirectory() as d2:
        path = os.path.join(d2, "flows.csv")
        rc, out, err, d = cmdfile_run(["wait", f"export flows csv {path} oldest",
                                       f"export flows csv {path}", "quit"])
        check(rc == 0, f"exit {rc}: {err[-1000:]}")
        sec = sections(out)
        check(sec[1][1] == [f"exported: {len(expected_rows())}", f"file: {path}"],
              f"export: {sec[1][1]}")
        check("never overwrites" in sec[2][1][0], "a second export to the same file refused")
        with open(path) as f:
            rows = list(csv.DictReader(f))
    check(list(rows[0].keys()) == [
        "interface-id", "pkt-srcaddr", "pkt-srcport", "pkt-dstaddr", "pkt-dstport", "srcaddr",
        "srcport", "dstaddr", "dstport", "protocol", "packets", "bytes", "action", "start", "end",
        "start-ms", "end-ms"], f"header: {list(rows[0].keys())}")
    want = [l.split() for l in expected_rows()]
    check(len(rows) == len(want), f"{len(rows)} rows, want {len(want)}")
    for r, w in zip(rows, want):
        check((r["interface-id"], r["pkt-srcaddr"], r["pkt-dstaddr"], r["pkt-srcport"],
               r["pkt-dstport"], r["protocol"], r["packets"], r["bytes"], r["action"]) ==
              (w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9], w[12]), f"row {r} vs {w}")
        check((r["srcaddr"], r["dstaddr"]) == (w[3], w[4]), "post view (no NAT)")
        for col, sec_ in (("start", w[10]), ("end", w[11])):
            t = datetime.datetime.fromtimestamp(int(sec_), datetime.timezone.utc)
            check(r[col] == t.strftime("%m/%d/%Y %I:%M:%S %p"), f"{col} text {r[col]}")
            check(r[col + "-ms"] == str(int(sec_) * 1000), f"{col}-ms {r[col + '-ms']}")
    # RFC 4180: a field with a comma or a quote is quoted, its quotes doubled,
    # every record ends with CRLF; Python's csv module reads it back whole.
    odd = 'eni-a,b"c'
    with tempfile.TemporaryDirectory() as d2:
        path = os.path.join(d2, "odd.csv")
        rc, out, err, d = cmdfile_run(["wait", f"export flows csv {path} oldest", "quit"],
                                      extra=["--interface-id", odd])
        check(rc == 0, f"odd interface-id: exit {rc}: {err[-1000:]}")
        with open(path, newline="") as f:
            raw = f.read()
    check(raw.count("\r\n") == raw.count("\n") == len(want) + 1,
          f"{raw.count(chr(10))} lines, {raw.count(chr(13) + chr(10))} CRLF, want {len(want) + 1}")
    table = list(csv.reader(io.StringIO(raw, newline="")))
    check(all(len(r) == 17 for r in table), f"column counts {sorted({len(r) for r in table})}")
    check([r[0] for r in table[1:]] == [odd] * len(want),
          f"interface-id read back as {sorted({r[0] for r in table[1:]})}")


class Pty:
    """dpflow on a real pseudo-terminal."""

    def __init__(self, args, stderr_on_tty=False):
        self.master, slave = pty.openpty()
        self.p = subprocess.Popen([DPFLOW] + args, stdin=slave, stdout=slave,
                                  stderr=slave if stderr_on_tty else subprocess.PIPE,
                                  close_fds=True)
        os.close(slave)
        self.buf = b""

    def read_until(self, pattern, timeout=90):
        end = time.time() + timeout
        while time.time() < end:
            m = re.search(pattern.encode(), self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            r, _, _ = select.select([self.master], [], [], 0.2)
            if r:
                try:
                    self.buf += os.read(self.master, 65536)
                except OSError:
                    break
        raise Fail(f"timed out waiting for {pattern!r}; got {self.buf[-500:]!r}")

    def send(self, s):
        os.write(self.master, s.encode())

    def exchange(self, steps):
        """Each (keys, pattern): type the keys, wait for the pattern."""
        for keys, pattern in steps:
            self.send(keys)
            self.read_until(pattern)

    def close(self):
        try:
            out, err = self.p.communicate(timeout=60)
        finally:
            os.close(self.master)
        return self.p.returncode, err.decode() if err is not None else ""


def case_pty_prompt():
    """The prompt on a real terminal: completion, help, a bad command, a
    command's output, quit flushing and exiting 0."""
    with tempfile.TemporaryDirectory() as d:
        t = Pty(EAL1 + ["--", "--replay", SAMPLE, "--window", "60", "--output",
                        os.path.join(d, "o"), "-i"] + META)
        t.read_until(r"dpflow> ")
        t.send("sho\t")
        t.read_until(r"show ")                      # completed
        t.send("wi\t")
        t.read_until(r"window")
        t.send("\r")
        # Set either way: before the replay's first packet there is no window yet.
        t.read_until(r"window-seconds-set: 60")
        # Errors start with error: and name the problem (doc/cli.md), as in
        # --cmdline-file; never librte_cmdline's own "Command not found".
        t.send("frobnicate\r")
        t.read_until(r"error: unknown command 'frobnicate'")
        t.send("show bogus\r")
        t.read_until(r"error: bad arguments in 'show bogus'")
        t.send("help flush\r")
        t.read_until(r"flush: write what the open window holds now; the window stays open")
        t.send("wait\r")
        t.read_until(r"records: 45")
        t.send("show flows limit 1\r")
        t.read_until(r"flows: 1")
        t.send("quit\r")
        rc, err = t.close()
    check(rc == 0, f"exit {rc}: {err[-1000:]}")
    check(counters(err)["conservation"] == "ok", "conservation")


def case_pty_log_redraw():
    """A log record from another thread while a command is half typed (the
    writer's SIGHUP notice): the typed line is erased first, the record is
    written on a line of its own, then the prompt and the typed text come
    back, and the command completes as typed."""
    with tempfile.TemporaryDirectory() as d:
        t = Pty(EAL1 + ["--", "--replay", SAMPLE, "--window", "60", "--output",
                        os.path.join(d, "o"), "-i"] + META, stderr_on_tty=True)
        try:
            t.read_until(r"dpflow> ")
            # The terminal is the prompt's (keys one by one, no echo) before
            # the prompt shows: keys typed at once are echoed once, by it.
            check(not termios.tcgetattr(t.master)[3] & (termios.ICANON | termios.ECHO),
                  "the prompt showed before it took the terminal (the terminal echoes "
                  "what is typed now, and the prompt again)")
            t.send("show win")
            t.read_until(r"show win")               # the prompt's own echo: all read
            t.p.send_signal(signal.SIGHUP)
            m = t.read_until(r"(\r\x1b\[K)?dpflow: SIGHUP: open files published: \d+; "
                             r"new ones follow\r?\n")
            check(m.group(1) is not None,
                  f"the typed line was not erased before the record: {m.group(0)!r}")
            # Redrawn: the prompt and the text typed so far, nothing else before it.
            t.read_until(r"^[^\n]*dpflow> show win")
            t.send("dow\r")
            t.read_until(r"window-seconds-set: 60")
            t.send("quit\r")
        except BaseException:
            t.p.kill()  # no quit was typed: it would wait at the prompt
            raise
        finally:
            rc, _ = t.close()
    check(rc == 0, f"exit {rc}")


def case_records_only_stdout():
    """--output - with --cmdline-file or -i: stdout carries the records only
    (byte for byte the model's output, and check-records passes); the echoed
    commands and answers go to the terminal (-i on one) or stderr; set
    log-format is refused with the reason, since one stream has one header."""
    want = render(SAMPLE_EXPECT)
    refusal = "error: log-format: not changed: the records go to stdout (--output -)"
    fmt = "set log-format ${srcaddr} ${dstaddr}"
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "cmds")
        with open(path, "w") as f:
            f.write(f"show window\n{fmt}\nbogus\nwait\nshow flows limit 2\n")
        p = subprocess.run([DPFLOW] + EAL1 + ["--", "--replay", SAMPLE, "--window", "60",
                                              "--output", "-", "--cmdline-file", path] + META,
                           capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        check(p.returncode == 0, f"cmdline-file: exit {p.returncode}: {p.stderr[-2000:]}")
        expect_same(want, p.stdout, "--cmdline-file --output - stdout")
        check_records_text(p.stdout)
        check("dpflow> show window" in p.stderr and "window-seconds-set: 60" in p.stderr,
              f"echo and answer on stderr: {p.stderr[:1000]}")
        check(f"dpflow> {fmt}\n{refusal}" in p.stderr, f"refusal with reason: {p.stderr[:2000]}")
        check("error: unknown command 'bogus'" in p.stderr, "bad command named on stderr")
        # -i, commands from a pipe: no terminal, so stderr.
        p = subprocess.run([DPFLOW] + EAL1 + ["--", "--replay", SAMPLE, "--window", "60",
                                              "--output", "-", "-i"] + META,
                           input=f"show window\n{fmt}\nwait\nquit\n", capture_output=True,
                           text=True, timeout=120)
        check(p.returncode == 0, f"-i piped: exit {p.returncode}: {p.stderr[-2000:]}")
        expect_same(want, p.stdout, "-i --output - stdout (stdin a pipe)")
        check(refusal in p.stderr and "records: 45" in p.stderr, f"-i piped: {p.stderr[:2000]}")
    # -i on a terminal, stdout a pipe: the prompt talks on the terminal.
    master, slave = pty.openpty()
    proc = subprocess.Popen([DPFLOW] + EAL1 + ["--", "--replay", SAMPLE, "--window", "60",
                                               "--output", "-", "-i"] + META,
                            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            close_fds=True)
    os.close(slave)
    t = Pty.__new__(Pty)
    t.master, t.p, t.buf = master, proc, b""
    try:
        t.exchange([("", r"dpflow> "), ("show window\r", r"window-seconds-set: 60"),
                    (fmt + "\r", re.escape(refusal)), ("wait\r", r"records: 45")])
        t.send("quit\r")
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    check(proc.returncode == 0, f"-i tty: exit {proc.returncode}: {err[-1000:]}")
    expect_same(want, out.decode(), "-i --output - stdout (stdin a terminal)")
    check(counters(err.decode())["conservation"] == "ok", "conservation")


def case_stats_period_prompt():
    """--stats-period with -i is refused before the run, naming both and what
    to use instead (its lines would break the typed line; testpmd shows
    periodic stats only without -i), from the command line or a config file;
    with --cmdline-file alone it runs and prints progress lines."""
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "c.conf")
        with open(conf, "w") as f:
            f.write("[dpflow]\nstats-period = 5\n")
        for extra in (["--stats-period", "1"], ["--config", conf]):
            p = subprocess.run([DPFLOW] + EAL1 + ["--", "--replay", SAMPLE, "--output", "-",
                                                  "-i"] + extra + META,
                               input="quit\n", capture_output=True, text=True, timeout=120)
            check(p.returncode != 0, f"{extra}: -i with --stats-period ran")
            check(re.search(r"--stats-period \d+ and -i: .*break the line being typed",
                            p.stderr) is not None and "show window" in p.stderr,
                  f"{extra}: reason named: {p.stderr[-800:]}")
            check(p.stdout == "", f"{extra}: nothing on stdout")
        rc, out, err, _ = cmdfile_run(["wait"], ["--stats-period", "1"])
        check(rc == 0, f"--cmdline-file with --stats-period: exit {rc}: {err[-1000:]}")


def case_window_and_docs_agree():
    """show config names drivers-cfg once (the directory in use); set window
    before the first packet (packet clock) does not name a 1970 boundary;
    after set window, show window gives the open window's own length (its
    bounds' difference) and the length set apart; stop and flush mean in
    help, doc/cli.md and the man page what the code does."""
    cmds = ["show config", "wait", "set window 120", "show window"]
    rc, out, err, _ = cmdfile_run(cmds)
    check(rc == 0, f"exit {rc}: {err[-1000:]}")
    by = {c: lines for c, lines in sections(out)}
    dc = [l for l in by["show config"] if l.startswith("drivers-cfg:")]
    check(len(dc) == 1 and dc[0].endswith(")"), f"drivers-cfg lines: {dc}")
    w = dict(l.split(": ", 1) for l in by["show window"])
    length = int(w["window-end"]) - int(w["window-start"])
    check(int(w["window-seconds"]) == length == 60 and w["window-seconds-set"] == "120",
          f"show window after set window 120: {w}")
    with tempfile.TemporaryDirectory() as d:
        empty = os.path.join(d, "empty.pcap")
        with open(empty, "wb") as f:    # a pcap header, no packet: the clock never starts
            f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
        path = os.path.join(d, "cmds")
        with open(path, "w") as f:
            f.write("set window 120\nshow window\n")
        rc, out, err = run(EAL1 + ["--vdev", f"net_pcap0,rx_pcap={empty}"],
                           ["--output", os.path.join(d, "o"), "--idle-exit", "1",
                            "--cmdline-file", path] + META)
    check(rc == 0, f"empty capture: exit {rc}: {err[-1000:]}")
    by = {c: lines for c, lines in sections(out)}
    check(not any(l.startswith("takes-effect-at:") for l in by["set window 120"]) and
          "takes-effect: with the first window" in "\n".join(by["set window 120"]),
          f"set window before the first packet: {by['set window 120']}")
    w = by["show window"]
    check("window: none yet (the packet clock starts with the first packet)" in w and
          "window-seconds-set: 120" in w and not any(l.startswith("window-start") for l in w),
          f"show window before the first packet: {w}")
    # The words of help, doc/cli.md and the man page agree with the code:
    # flush leaves the window open; stop flushes nothing.
    src = os.path.join(os.environ["DATA"], "..", "..")
    rc, out, err, _ = cmdfile_run(["help flush", "help stop"])
    by = {c: lines for c, lines in sections(out)}
    check("the window stays open" in by["help flush"][0], f"help flush: {by['help flush']}")
    check("nothing is flushed" in by["help stop"][0], f"help stop: {by['help stop']}")
    with open(os.path.join(src, "doc", "cli.md")) as f:
        md = f.read()
    check(re.search(r"\| `flush` \|[^\n]*the window stays open", md) is not None, "cli.md flush")
    with open(os.path.join(src, "doc", "dpflow.8")) as f:
        man = f.read()
    stop = re.search(r"^\.B stop\n(.*?)^\.TP", man, re.M | re.S).group(1)
    flush = re.search(r"^\.B flush\n(.*?)^\.TP", man, re.M | re.S).group(1)
    check("flushed" not in stop.replace("nothing is flushed", ""), f"man page stop: {stop}")
    check("stays open" in flush and "Close the open window" not in flush, f"man flush: {flush}")


def case_filter_completion_and_time():
    """Tab completes show flows' filter keywords after any number of filter
    words (not where a value is due); since/until take readable UTC times
    (or Unix seconds) and keep the flows active in that span, as the model
    says; a bad time is named."""
    want = expected_rows()
    since, until = 1700000040, 1700000130   # 2023-11-14T22:14:00Z, 22:15:30Z
    span = [r for r in want if int(r.split()[11]) >= since and int(r.split()[10]) <= until]
    check(0 < len(span) < len(want), f"the span must split the sample: {len(span)}")
    cmds = ["wait", "show flows since 2023-11-14T22:14:00Z until 2023-11-14T22:15:30 oldest "
            "limit 10000", f"show flows since {since} until {until} oldest limit 10000",
            "show flows since 2023-11-14T22:15:31 until 2023-11-14T22:14:00",
            "show flows until noon"]
    rc, out, err, _ = cmdfile_run(cmds)
    check(rc == 0, f"exit {rc}: {err[-1000:]}")
    by = {c: lines for c, lines in sections(out)}
    check(by[cmds[1]][3:] == span, f"ISO span: {by[cmds[1]][:6]} want {span[:3]}")
    check(by[cmds[2]][3:] == span, "Unix seconds span")
    check(by[cmds[3]] == ["error: until '2023-11-14T22:14:00': since is after until"],
          f"{by[cmds[3]]}")
    check(by[cmds[4]][0].startswith("error: until 'noon': expected a UTC time"), f"{by[cmds[4]]}")
    udp = [r for r in want if r.split()[7] == "17"]
    with tempfile.TemporaryDirectory() as d:
        t = Pty(EAL1 + ["--", "--replay", SAMPLE, "--window", "60", "--output",
                        os.path.join(d, "o"), "-i"] + META)
        # Each Tab's pattern is the completed rest of the word; had one not
        # completed, the line would not parse: the answer proves them all.
        # After a keyword that takes a value, Tab offers no keyword.
        t.exchange([("", r"dpflow> "), ("wait\r", r"records: 45"),
                    ("show flows pr\t", r"oto "), ("udp ol\t", r"dest "), ("li\t", r"mit "),
                    ("100 si\t", r"nce "),
                    ("2023-11-14T22:13:00Z\r", rf"flows: {len(udp)}\r?\n"),
                    ("show flows port p\t\r", r"error: port 'p': expected 0..65535")])
        t.send("quit\r")
        rc, err = t.close()
    check(rc == 0, f"exit {rc}: {err[-1000:]}")


def case_connections_completion():
    """Tab completes show connections and its own filter keywords (not the
    flow filters'); with --connections yes the command answers at the
    prompt. (Rows against the model: tests/e2e/conn.py tg_connections.)"""
    with tempfile.TemporaryDirectory() as d:
        t = Pty(EAL1 + ["--", "--replay", SAMPLE, "--window", "60", "--output",
                        os.path.join(d, "o"), "--connections", "yes", "-i"] + META)
        # Each Tab's pattern is the completed rest of the word; a keyword of
        # show flows only (action) is not offered: its line would not parse.
        t.exchange([("", r"dpflow> "), ("wait\r", r"records: 45"),
                    ("show conn\t", r"ections "), ("pro\t", r"to "), ("tcp fl\t", r"ags "),
                    ("SYN dst-n\t", r"ode "), (f"{META[3]} ol\t", r"dest "),
                    ("\r", r"connections: [1-9]\d*\r?\n"),
                    ("show connections act\t\r", r"error: unknown filter 'act'"),
                    ("show connections sport p\t\r", r"error: sport 'p': expected 0..65535")])
        t.send("quit\r")
        rc, err = t.close()
    check(rc == 0, f"exit {rc}: {err[-1000:]}")


def check_records_text(text):
    """The shared checker (CHECK_RECORDS) on a record stream, when present."""
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
        f.write(text)
    try:
        check_records(f.name, 60)
    finally:
        os.unlink(f.name)


def case_set_window_next_boundary():
    """set window takes effect at the next boundary (wall clock): windows
    before it keep the old length, windows after it have the new one."""
    with tempfile.TemporaryDirectory() as d:
        t = Pty(EAL1 + ["--vdev", f"net_pcap0,rx_pcap={SAMPLE}", "--", "--clock", "wall",
                        "--window", "2", "--output", "-", "-i"] + META)
        t.read_until(r"dpflow> ")
        t.send("set window 1\r")
        m = t.read_until(r"takes-effect-at: (\d+)")
        at = int(m.group(1))
        while time.time() < at + 3.5:
            time.sleep(0.2)
        t.send("quit\r")
        # The records go to the terminal (stdout): collect what is left.
        end = time.time() + 30
        while t.p.poll() is None and time.time() < end:
            r, _, _ = select.select([t.master], [], [], 0.2)
            if r:
                try:
                    t.buf += os.read(t.master, 65536)
                except OSError:
                    break
        rc, err = t.close()
    check(rc == 0, f"exit {rc}: {err[-1000:]}")
    rows = [l.split() for l in t.buf.decode(errors="replace").splitlines()
            if l.strip().endswith("NODATA")]
    rows = [(int(r[10]), int(r[11])) for r in rows]
    check(any(s >= at for s, e in rows), f"no window after the switch at {at}: {rows}")
    for s, e in rows:
        want = 2 if s < at else 1
        check(e - s == want, f"window [{s}, {e}) should last {want} s (switch at {at})")
    check(any(e - s == 2 for s, e in rows) or min(s for s, _ in rows) >= at,
          "windows before the switch keep 2 s")


TELEMETRY_CLIENT = "/usr/bin/dpdk-telemetry.py"


def telemetry_query(prefix, cmds):
    """The stock client's answers to cmds: {command: dictionary}."""
    if not os.path.exists(TELEMETRY_CLIENT):
        print("SKIP: dpdk-telemetry.py not installed")
        sys.exit(77)
    q = subprocess.run([sys.executable, TELEMETRY_CLIENT, "-f", prefix],
                       input="".join(c + "\n" for c in cmds),
                       capture_output=True, text=True, timeout=30)
    docs = {}
    for line in q.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            docs.update(json.loads(line))
    check(set(docs) >= set(cmds), f"answers: {q.stdout[-500:]} {q.stderr[-300:]}")
    return docs


def telemetry_eal(prefix):
    return ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix,
            "--log-level=lib.eal:error", "-l", "0-1"]


TELEMETRY_CMDS = ["/dpflow/stats", "/dpflow/ports", "/dpflow/window", "/dpflow/flow_table",
                  "/dpflow/exporters", "/dpflow/interfaces", "/dpflow/conservation"]


def case_telemetry():
    """The stock dpdk-telemetry.py client reads /dpflow/* commands: the same
    counters as the exit summary, the exporters' and conservation's too, and
    per-interface packets, bytes and flows equal to the model's records."""
    prefix = "dpftel%d" % os.getpid()
    collector = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    collector.bind(("127.0.0.1", 0))
    ipfix = "udp://127.0.0.1:%d" % collector.getsockname()[1]
    with tempfile.TemporaryDirectory() as d, collector:
        t = Pty(telemetry_eal(prefix) + ["--", "--replay", SAMPLE, "--window", "60",
                                         "--output", os.path.join(d, "o"), "--ipfix", ipfix,
                                         "-i"] + META)
        t.read_until(r"dpflow> ")
        t.send("wait\r")
        t.read_until(r"records: 45")
        docs = telemetry_query(prefix, TELEMETRY_CMDS)
        t.send("quit\r")
        rc, err = t.close()
        collector.setblocking(False)
        datagrams = 0
        while select.select([collector], [], [], 0)[0]:
            collector.recv(65536)
            datagrams += 1
    check(rc == 0, f"exit {rc}")
    c = counters(err)
    ix = docs["/dpflow/exporters"]["ipfix"]
    check(ix["records"] == len(expected_rows()) == int(c["ipfix records"]) and
          0 < ix["messages"] <= datagrams, f"exporters: ipfix {ix}, {datagrams} datagrams")
    s = docs["/dpflow/stats"]
    check(s["rx_packets"] == 88 and s["logged_packets"] == 78 and s["records"] == 45 and
          s["not_ip"] == 6 and s["malformed"] == 4 and s["nodata_rows"] == 2, f"stats: {s}")
    check(docs["/dpflow/ports"]["port0"]["rx_packets"] == 88, "ports")
    check(docs["/dpflow/window"]["window_seconds"] == 60, "window")
    # The error of the last sample may be a realtime jump being followed;
    # the largest error while slewing may not exceed 1 ms.
    w = docs["/dpflow/window"]
    check(w["clock_tsc_hz"] > 0 and isinstance(w["clock_error_us"], int)
          and w["clock_error_max_ns"] < 1_000_000, f"window: clock: {w}")
    check(docs["/dpflow/flow_table"]["lcore1"]["capacity"] == 65536, "flow_table")
    # After wait every record is written: the writer's counters are final.
    wr = docs["/dpflow/exporters"]["writer"]
    check(wr["files"] == int(c["writer files"]) and wr["lines"] == int(c["writer lines"])
          and wr["lost_lines"] == 0, f"exporters: writer {wr} vs summary")
    cons = docs["/dpflow/conservation"]
    check(cons["ok"] == 1 and cons["received"] == int(c["conservation received"]) == 88 and
          cons["accounted"] == 88 and cons["logged_in_records"] == 78 and
          cons["replay_read"] == int(c["conservation replay-read"]),
          f"conservation: {cons}")
    ok = [l.split() for l in expected_rows()]
    ifc = docs["/dpflow/interfaces"]["iface0"]
    check(ifc["id"] == "eni-1235b8ca123456789" and ifc["port"] == 0 and
          ifc["packets"] == sum(int(r[8]) for r in ok) and
          ifc["bytes"] == sum(int(r[9]) for r in ok) and ifc["flows"] == len(ok),
          f"interfaces: {ifc} vs the model's {len(ok)} records")


def case_telemetry_shared_prefix():
    """A second instance with the same --file-prefix (--no-shconf lets it
    start) gets no telemetry socket from DPDK 22.11: dpflow says so, naming
    the owner; the first instance does not warn and keeps answering."""
    prefix = "dpfshr%d" % os.getpid()
    eal = telemetry_eal(prefix) + ["--no-shconf"]
    with tempfile.TemporaryDirectory() as d:
        first = Pty(eal + ["--", "--replay", SAMPLE, "--window", "60",
                           "--output", os.path.join(d, "o1"), "-i"] + META)
        try:
            first.read_until(r"dpflow> ")
            rc2, _, err2 = run(eal, ["--replay", SAMPLE, "--window", "60",
                                     "--output", os.path.join(d, "o2")] + META)
            docs = telemetry_query(prefix, ["/dpflow/stats"])
        finally:
            first.send("quit\r")
            rc1, err1 = first.close()
    check(rc1 == 0 and rc2 == 0, f"exits {rc1} {rc2}: {err2[-800:]}")
    want = (f"telemetry: /var/run/dpdk/{prefix}/dpdk_telemetry.v2 belongs to process "
            f"{first.p.pid}, which has the same --file-prefix")
    check(want in err2, f"the second instance's warning: {err2[:1500]}")
    check("telemetry:" not in err1, f"the first instance warned: {err1[:800]}")
    check("rx_packets" in docs["/dpflow/stats"], "the first instance still answers")


def stats_of(lines):
    return dict(l.split(": ", 1) for l in lines if ": " in l)


def frame_lengths(path):
    """Frame lengths of a classic pcap (the reference for bytes per packet)."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" or data[:4] == b"\x4d\x3c\xb2\xa1" else ">"
    off, lens = 24, []
    while off + 16 <= len(data):
        incl, orig = struct.unpack(endian + "II", data[off + 8:off + 16])
        lens.append(incl)
        off += 16 + incl
    return lens


def case_port_rates():
    """show port stats gives testpmd's rates since its previous call: with
    the replay finished, the next call's rates are 0; on a port receiving
    without pause (net_pcap infinite_rx) they become positive, and bits per
    packet lie between the capture's smallest and largest frame."""
    rc, out, err, _ = cmdfile_run(["wait", "show port stats 0", "show port stats 0", "quit"])
    check(rc == 0, f"exit {rc}: {err[-1000:]}")
    sec = sections(out)
    first, second = stats_of(sec[1][1]), stats_of(sec[2][1])
    for k in ("rx-pps", "rx-bps", "tx-pps", "tx-bps", "rates-over-sec"):
        check(f"port 0 {k}" in first and f"port 0 {k}" in second, f"{k} missing: {first}")
    check(int(first["port 0 rx-pps"]) > 0, f"88 packets since start-up: {first}")
    check(all(second[f"port 0 {k}"] == "0" for k in ("rx-pps", "rx-bps", "tx-pps", "tx-bps")),
          f"no traffic since the previous call: {second}")
    lens = frame_lengths(SAMPLE)
    with tempfile.TemporaryDirectory() as d:
        t = Pty(EAL1 + ["--vdev", f"net_pcap0,rx_pcap={SAMPLE},infinite_rx=1", "--",
                        "--clock", "wall", "--output", os.path.join(d, "o"), "-i"] + META)
        try:
            t.read_until(r"dpflow> ")
            st, end = {}, time.time() + 120
            while time.time() < end:
                t.send("show port stats 0\r")
                m = t.read_until(r"rx-pps: (\d+)\r?\n.*rx-bps: (\d+)")
                pps, bps = int(m.group(1)), int(m.group(2))
                if pps >= 1000:
                    break
        finally:
            t.send("quit\r")
            t.close()
    check(pps >= 1000, f"rx-pps stayed {pps} while the port received")
    per = bps / 8 / pps
    check(min(lens) * 0.99 <= per <= max(lens) * 1.01,
          f"bytes per packet {per:.1f} outside the capture's {min(lens)}..{max(lens)}")


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}

if __name__ == "__main__":
    e2e.main(CASES)
