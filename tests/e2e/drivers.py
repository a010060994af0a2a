#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end tests of the driver profiles (drivers-cfg/, doc/drivers-cfg.md):
the real program on net_pcap and on the replay source's net_ring port, with
the shipped profiles and with --drivers-cfg copies of them.

Usage: drivers.py CASE    (meson runs one test per case)
Environment: DPFLOW (binary), DATA (tests/data), PROFILES (source drivers-cfg).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

DPFLOW = os.environ["DPFLOW"]
DATA = os.environ["DATA"]
PROFILES = os.environ["PROFILES"]
SAMPLE = os.path.join(DATA, "sample.pcap")
EAL = ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--log-level=lib.eal:error",
       # The exit summary whole, lines of value 0 too: these tests read them.
       "--log-level=dpflow.control:debug"]
EAL1 = EAL + ["-l", "0-1"]
EAL4 = EAL + ["--lcores", "(0-3)@(0-1)"]
PCAP = ["--vdev", f"net_pcap0,rx_pcap={SAMPLE}"]
RSS_NONE = ("rss_hash: requested ipv4 ipv6 tcp udp sctp, configured none "
            "(the device reports no RSS hash types")


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def run(eal, opts, timeout=60):
    p = subprocess.run([DPFLOW] + eal + ["--"] + opts, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def notes(err, port, driver):
    """The start-up lines of one port, without the 'dpflow: port N (drv): ' prefix."""
    prefix = f"dpflow: port {port} ({driver}): "
    return [l[len(prefix):] for l in err.splitlines() if l.startswith(prefix)]


def records(out):
    return [l for l in out.splitlines()[1:] if l]


def copy_profiles(d):
    dst = os.path.join(d, "profiles")
    shutil.copytree(PROFILES, dst)
    return dst


def edit(path, replace=None, append=None):
    with open(path) as f:
        text = f.read()
    for old, new in (replace or []):
        check(old in text, f"{path}: no line '{old}' to replace")
        text = text.replace(old, new)
    if append:
        text += append
    with open(path, "w") as f:
        f.write(text)
    return text


def line_of(text, needle):
    for i, l in enumerate(text.splitlines(), 1):
        if needle in l:
            return i
    raise Fail(f"'{needle}' not in the profile")


# ---------------------------------------------------------------- cases

def case_net_pcap_notes():
    """net_pcap cannot do RSS: the start-up note says so, once; its profile's
    timestamp-unix-us quirk puts the port on the packet clock; --rxq 2 on one
    rx_pcap= names the devargs."""
    rc, out, err = run(EAL1 + PCAP, ["--window", "60", "--output", "-", "--idle-exit", "1"])
    check(rc == 0, f"exit {rc}: {err[-2000:]}")
    n = notes(err, 0, "net_pcap")
    check(any(re.fullmatch(r"driver profile .*/net_pcap\.ini", l) for l in n),
          f"the profile in use is not named: {n}")
    rss = [l for l in n if l.startswith("rss_hash:")]
    check(rss == [RSS_NONE + ")"], f"rss note: {rss}")
    check("packet clock" in err, "net_pcap (timestamp-unix-us) runs on the packet clock")
    check(len(records(out)) > 0, "no records")
    # Masking by capabilities must not cost a packet.
    check("conservation: ok" in err, "conservation")

    rc, out, err = run(EAL4 + PCAP, ["--rxq", "2", "--window", "60", "--output", "-",
                                     "--idle-exit", "1"])
    check(rc == 0, f"--rxq 2 exit {rc}: {err[-2000:]}")
    q = [l for l in notes(err, 0, "net_pcap") if l.startswith("rx_queues:")]
    check(len(q) == 1 and q[0].startswith("rx_queues: requested 2, configured 1 (device maximum; "
                                          "queues-from-devargs: ")
          and "one rx_pcap=" in q[0], f"queue note: {q}")


def case_replay_notes():
    """The replay source's ring port: no RSS either, and the note says who
    hashes instead (the software-rss quirk); records as usual."""
    rc, out, err = run(EAL4, ["--replay", SAMPLE, "--rxq", "2", "--window", "60",
                              "--output", "-"])
    check(rc == 0, f"exit {rc}: {err[-2000:]}")
    n = notes(err, 0, "net_ring")
    check(any(re.fullmatch(r"driver profile .*/net_ring\.ini", l) for l in n),
          f"the profile in use is not named: {n}")
    rss = [l for l in n if l.startswith("rss_hash:")]
    check(len(rss) == 1 and rss[0].startswith(RSS_NONE + "; software-rss: the replay source "
                                              "computes the symmetric Toeplitz hash in software"),
          f"rss note: {rss}")
    check("rx_queues:" not in err, "two rings give two queues: no queue note")
    check(len(records(out)) > 0, "no records")


def case_override():
    """--drivers-cfg DIR (and drivers-cfg in --config) replaces the shipped
    folder: its profile is used and masked like any other."""
    with tempfile.TemporaryDirectory() as d:
        prof = copy_profiles(d)
        edit(os.path.join(prof, "net_pcap.ini"),
             replace=[("rx_offloads = timestamp", "rx_offloads = timestamp scatter")])
        for how in ("option", "config"):
            if how == "option":
                opts = ["--drivers-cfg", prof]
            else:
                conf = os.path.join(d, "dpflow.conf")
                with open(conf, "w") as f:
                    f.write(f"[dpflow]\ndrivers-cfg = {prof}\n")
                opts = ["--config", conf]
            rc, out, err = run(EAL1 + PCAP, opts + ["--window", "60", "--output", "-",
                                                    "--idle-exit", "1"])
            check(rc == 0, f"{how}: exit {rc}: {err[-2000:]}")
            n = notes(err, 0, "net_pcap")
            check(f"driver profile {prof}/net_pcap.ini" in n, f"{how}: profile line: {n}")
            off = [l for l in n if l.startswith("rx_offloads:")]
            check(len(off) == 1 and off[0].startswith(
                "rx_offloads: requested timestamp scatter, configured timestamp (")
                  and "the device does not offer scatter" in off[0], f"{how}: offload note: {off}")

        # A driver without a file of its own gets default.ini, without net_pcap's quirks:
        # then --clock packet has no capture time to use, and says so.
        os.unlink(os.path.join(prof, "net_pcap.ini"))
        rc, out, err = run(EAL1 + PCAP, ["--drivers-cfg", prof, "--clock", "packet",
                                         "--output", "-"])
        check(rc != 0, "--clock packet without the timestamp-unix-us quirk: exit 0")
        check(f"driver profile {prof}/default.ini (no {prof}/net_pcap.ini)" in
              notes(err, 0, "net_pcap"), f"fallback line: {err[-800:]}")
        check("--clock packet: port 0 gives no capture time" in err, err[-800:])
        check(out == "", "records printed")


def case_bad_profile():
    """A bad profile stops dpflow with the file and line of the problem."""
    with tempfile.TemporaryDirectory() as d:
        prof = copy_profiles(d)
        pcap_ini = os.path.join(prof, "net_pcap.ini")
        pristine = open(pcap_ini).read()
        bad = [
            ("net_pcap.ini", None, "colour = red\n", "colour",
             "unknown key 'colour' (keys: rx_desc,"),
            ("net_pcap.ini", ("rx_desc = 1024", "rx_desc = lots"), None, "rx_desc = lots",
             "rx_desc 'lots': not a number"),
            ("net_pcap.ini", ("mtu = 1500", "mtu = 99999"), None, "mtu = 99999",
             "mtu '99999': out of range 68..65535"),
            ("net_pcap.ini", ("rss_hash = ipv4 ipv6 tcp udp sctp", "rss_hash = ipv4 icmp"), None,
             "rss_hash = ipv4 icmp", "rss_hash 'ipv4 icmp': unknown name 'icmp'"),
            ("net_pcap.ini", ("quirks = timestamp-unix-us", "quirks = timestamp-unix-ms"), None,
             "quirks =", "quirks 'timestamp-unix-ms queues-from-devargs link-from-devargs': "
             "unknown name "
             "'timestamp-unix-ms' (known: timestamp-unix-us,"),
            ("net_pcap.ini", ("promiscuous = yes", "promiscuous yes"), None, "promiscuous yes",
             "expected 'key = value'"),
            ("default.ini", ("tx_desc = 512", "tx_desc = 512\ntx_desc = 256"), None,
             "tx_desc = 256", "'tx_desc' set twice"),
        ]
        for name, rep, app, needle, msg in bad:
            path = os.path.join(prof, name)
            keep = open(path).read()
            text = edit(path, replace=[rep] if rep else None, append=app)
            line = line_of(text, needle)
            rc, out, err = run(EAL1 + PCAP, ["--drivers-cfg", prof, "--output", "-"])
            with open(path, "w") as f:
                f.write(keep)
            want = f"{path}:{line}: {msg}"
            check(rc != 0, f"{name} {needle!r}: exit 0")
            check(want in err, f"{name} {needle!r}: want {want!r}, got: {err[-600:]}")
            check(out == "", f"{name} {needle!r}: records printed")
        check(open(pcap_ini).read() == pristine, "profile restored")

        rc, out, err = run(EAL1 + PCAP, ["--drivers-cfg", os.path.join(d, "nonexistent")])
        check(rc != 0 and f"--drivers-cfg {d}/nonexistent: No such file or directory" in err,
              f"missing directory: {err[-400:]}")


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}

if __name__ == "__main__":
    name = sys.argv[1]
    try:
        CASES[name]()
    except Fail as e:
        print(f"FAIL {name}: {e}")
        sys.exit(1)
    print(f"PASS {name}")
