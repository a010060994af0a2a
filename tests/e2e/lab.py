#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The live lab: network namespaces, veth pairs and bridges built by a test,
real kernel stacks on both sides, dpflow on net_af_packet ports, tcpdump on
the same wires as the reference.

A Lab owns everything it creates: namespaces (deleted at close, which also
removes their interfaces), and processes it started (ended by PID, never by
name). close() runs on normal exit, on an exception, at interpreter exit and
on SIGTERM/SIGINT (meson's timeout), so a failing test leaves nothing behind.
Meson's timeout sends SIGTERM to the test's process group and SIGKILL half
a second later: on a signal the namespaces go first and the processes are
killed without waiting for them (close(fast=True)).

Traffic only ever flows between namespaces the lab created.

    with Lab("mon") as lab:
        a, b, sw = lab.netns("a"), lab.netns("b"), lab.netns("sw")
        lab.veth(a, "eth0", sw, "pa")
        ...

pcap_packets() is an independent reader of the captures tcpdump writes
(written apart from the C parser): the reference for records.
"""
import atexit
import ipaddress
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
DPFLOW = os.environ.get("DPFLOW", "")
EAL = ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--log-level=lib.eal:error",
       # The exit summary whole, lines of value 0 too: these tests read them.
       "--log-level=dpflow.control:debug"]

_labs = []


def _cleanup_all(*_):
    for lab in list(_labs):
        lab.close()


def _on_signal(sig, _frame):
    for lab in list(_labs):
        lab.close(fast=True)
    sys.exit(128 + sig)


atexit.register(_cleanup_all)
signal.signal(signal.SIGTERM, _on_signal)


def require_lab():
    """Exit 77 unless this machine can build a lab (root, netns, veth,
    tcpdump, ip). Only what the machine truly lacks is a reason to skip."""
    if os.geteuid() != 0:
        print("skip: the live lab needs root (network namespaces)", file=sys.stderr)
        sys.exit(SKIP)
    for tool in ("ip", "tcpdump"):
        if shutil.which(tool) is None:
            print(f"skip: {tool} is not installed (tools/deps.sh installs it)",
                  file=sys.stderr)
            sys.exit(SKIP)
    probe = f"dpfprobe{os.getpid()}"
    p = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"skip: cannot create a network namespace: {p.stderr.strip()}",
              file=sys.stderr)
        sys.exit(SKIP)
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)


def sh(cmd, check=True, ns=None, **kw):
    """Run a command (a list), in namespace ns when given."""
    if ns is not None:
        cmd = ["ip", "netns", "exec", ns] + list(cmd)
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


class Lab:
    """Namespaces and processes of one test, all removed by close()."""

    def __init__(self, tag):
        # Names unique per process: tests run in parallel.
        self.tag = f"d{os.getpid() % 100000}{tag[:4]}"
        self.namespaces = []
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix=f"dpflab-{tag}-")
        self.closed = False
        _labs.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def path(self, name):
        return os.path.join(self.dir, name)

    # ---------------------------------------------------------- topology

    def netns(self, name):
        ns = f"{self.tag}{name}"
        sh(["ip", "netns", "add", ns])
        self.namespaces.append(ns)
        sh(["ip", "link", "set", "lo", "up"], ns=ns)
        # Quiet links: no DAD delay, no router advertisements, and no
        # link-local addresses (so no MLD reports or router solicitations
        # appear in the middle of a test). Global addresses still work.
        # MLD reports for the solicited-node groups of new addresses go out
        # within a millisecond instead of being repeated over a second or
        # so, which would land in the middle of a capture.
        for k in ("net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
                  "net.ipv6.conf.all.accept_ra=0", "net.ipv6.conf.default.accept_ra=0",
                  "net.ipv6.conf.default.addr_gen_mode=1",
                  "net.ipv6.conf.all.addr_gen_mode=1",
                  "net.ipv6.conf.default.mldv1_unsolicited_report_interval=1",
                  "net.ipv6.conf.default.mldv2_unsolicited_report_interval=1"):
            sh(["sysctl", "-qw", k], ns=ns, check=False)
        return ns

    def veth(self, ns_a, if_a, ns_b, if_b, mtu=1500, offloads=False):
        """A veth pair between two namespaces, both ends up. Offloads (checksum,
        TSO, GSO, GRO) are off unless asked for: a frame on the wire is then
        exactly what tcpdump and af_packet see."""
        tmp_a, tmp_b = f"{self.tag}x{len(self.procs)}{if_a}"[:15], f"{self.tag}y{if_b}"[:15]
        sh(["ip", "link", "add", tmp_a, "type", "veth", "peer", "name", tmp_b])
        sh(["ip", "link", "set", tmp_a, "netns", ns_a, "name", if_a])
        sh(["ip", "link", "set", tmp_b, "netns", ns_b, "name", if_b])
        for ns, ifname in ((ns_a, if_a), (ns_b, if_b)):
            sh(["ip", "link", "set", ifname, "mtu", str(mtu)], ns=ns)
            if not offloads:
                self.offloads_off(ns, ifname)
            sh(["ip", "link", "set", ifname, "up"], ns=ns)

    def offloads_off(self, ns, ifname):
        if shutil.which("ethtool") is None:
            raise RuntimeError("ethtool is not installed (tools/deps.sh installs it)")
        for feat in ("tx", "rx", "tso", "gso", "gro", "sg"):
            sh(["ethtool", "-K", ifname, feat, "off"], ns=ns, check=False)

    def bridge(self, ns, name, ports):
        sh(["ip", "link", "add", name, "type", "bridge"], ns=ns)
        sh(["ip", "link", "set", name, "type", "bridge", "stp_state", "0",
            "forward_delay", "0", "ageing_time", "30000", "mcast_snooping", "0"], ns=ns)
        sh(["sysctl", "-qw", f"net.ipv6.conf.{name}.disable_ipv6=1"], ns=ns, check=False)
        for p in ports:
            sh(["ip", "link", "set", p, "master", name], ns=ns)
        sh(["ip", "link", "set", name, "up"], ns=ns)

    def addr(self, ns, ifname, cidr):
        args = ["ip"] + (["-6"] if ":" in cidr else []) + ["addr", "add", cidr, "dev", ifname]
        if ":" in cidr:
            args.append("nodad")
        sh(args, ns=ns)

    def route(self, ns, dest, via):
        sh(["ip"] + (["-6"] if ":" in dest else []) + ["route", "add", dest, "via", via],
           ns=ns)

    def neigh(self, ns, ifname, ip, mac):
        """A static neighbour entry: no ARP/ND exchange in the middle of a test."""
        sh(["ip", "neigh", "replace", ip, "lladdr", mac, "dev", ifname, "nud", "permanent"],
           ns=ns)

    def mac(self, ns, ifname):
        p = sh(["cat", f"/sys/class/net/{ifname}/address"], ns=ns)
        return p.stdout.strip()

    # --------------------------------------------------------- processes

    def popen(self, cmd, ns=None, **kw):
        """Start a process (ended by PID at close)."""
        if ns is not None:
            cmd = ["ip", "netns", "exec", ns] + list(cmd)
        p = subprocess.Popen(cmd, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGINT, timeout=20):
        """Signal one process this lab started and wait for it."""
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def tcpdump(self, ns, ifname, name, direction=None):
        """Capture ifname into lab.path(name); returns a handle for
        stop_tcpdump(). Waits until tcpdump listens."""
        out = self.path(name)
        cmd = ["tcpdump", "-i", ifname, "-w", out, "-U", "-n", "-s", "0",
               "--immediate-mode", "-B", "16384"]
        if direction:
            cmd += ["-Q", direction]
        err = open(self.path(name + ".err"), "w+")
        p = self.popen(cmd, ns=ns, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.time() + 10
        while time.time() < deadline:
            err.seek(0)
            if "listening on" in err.read():
                break
            if p.poll() is not None:
                err.seek(0)
                raise RuntimeError(f"tcpdump on {ifname}: {err.read()}")
            time.sleep(0.02)
        p.pcap_path = out
        p.err_file = err
        return p

    def stop_tcpdump(self, p):
        """Stop a capture; returns its path once tcpdump has flushed it and
        reported no kernel drop."""
        self.stop(p, signal.SIGINT)
        p.err_file.seek(0)
        err = p.err_file.read()
        for line in err.splitlines():
            if line.endswith("packets dropped by kernel") and not line.startswith("0 "):
                raise RuntimeError(f"tcpdump lost packets: {err}")
        return p.pcap_path

    def dpflow(self, ns, vdevs, opts, lcores="0-1", eal_extra=(), stdout=None,
               start_timeout=120):
        """Start dpflow in ns on net_af_packet ports; returns when its start-up
        line says it runs. vdevs: devargs strings, e.g.
        'net_af_packet0,iface=pa,qpairs=2'."""
        cores = ["--lcores", lcores] if lcores.startswith("(") else ["-l", lcores]
        cmd = [DPFLOW] + EAL + cores
        for v in vdevs:
            cmd += ["--vdev", v]
        cmd += list(eal_extra) + ["--"] + list(opts)
        tag = len(self.procs)
        outf = open(self.path(f"dpflow{tag}.out"), "w+") if stdout is None else stdout
        errf = open(self.path(f"dpflow{tag}.err"), "w+")
        p = self.popen(cmd, ns=ns, stdout=outf, stderr=errf)
        p.out_file, p.err_file = outf, errf
        # Generous: a sanitizer build on a loaded machine has taken over 30 s.
        deadline = time.time() + start_timeout
        while time.time() < deadline:
            errf.seek(0)
            text = errf.read()
            if "dpflow: window " in text:
                break
            if p.poll() is not None:
                raise RuntimeError(f"dpflow exited {p.returncode} at start:\n{text[-3000:]}")
            time.sleep(0.05)
        else:
            errf.seek(0)
            raise RuntimeError(f"dpflow did not start within {start_timeout} s:\n"
                               f"{errf.read()[-3000:]}")
        return p

    def dpflow_result(self, p, sig=signal.SIGINT, timeout=30):
        """Stop dpflow (SIGINT by default); returns (rc, stdout, stderr)."""
        rc = self.stop(p, sig, timeout)
        p.out_file.seek(0)
        p.err_file.seek(0)
        return rc, p.out_file.read(), p.err_file.read()

    # ------------------------------------------------------------ close

    def close(self, fast=False):
        """End the processes (gracefully, a few seconds each), then delete
        the namespaces. fast: the namespaces first (a namespace whose
        processes still run loses its name at once and goes with them), then
        SIGKILL without waiting: what fits in meson's half second."""
        if self.closed:
            return
        self.closed = True
        if fast:
            for ns in reversed(self.namespaces):
                subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            for p in self.procs:
                if p.poll() is None:
                    p.kill()
            self.namespaces = []
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    p.terminate()
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for ns in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        if self in _labs:
            _labs.remove(self)
        if os.environ.get("DPF_LAB_KEEP") is None:
            shutil.rmtree(self.dir, ignore_errors=True)


class StallWatch:
    """The longest this process waited to run: a thread sleeps `tick` at a
    time and keeps the largest overshoot (CLOCK_MONOTONIC). On a loaded
    machine dpflow's RX cores wait like this thread does, and stamp the
    packets in their ring that much later than the kernel did; tolerances
    for late stamps follow late_ns().

        stalls = StallWatch().start()
        ...
        stalls.stop()
        tolerance = stalls.late_ns()
    """

    def __init__(self, tick=0.02):
        self.tick = tick
        self.max_gap_ns = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            t = time.monotonic_ns()
            time.sleep(self.tick)
            gap = time.monotonic_ns() - t - int(self.tick * 1e9)
            self.max_gap_ns = max(self.max_gap_ns, gap)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def late_ns(self, floor_ns=500_000_000):
        """A packet's stamp may follow its kernel time by this much: half a
        second, or three times the longest stall seen plus a quarter second
        (a busy-polling thread that used its time slice waits longer for
        the CPU than a thread waking from sleep)."""
        return max(floor_ns, 3 * self.max_gap_ns + 250_000_000)


# ------------------------------------------------------------- captures

def pcap_frames(path):
    """(time in ns, frame bytes) of a classic pcap file (either byte order,
    micro- or nanosecond), Ethernet link type only."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        e = "<"
    else:
        e = ">"
        magic = struct.unpack(">I", data[:4])[0]
    if magic not in (0xa1b2c3d4, 0xa1b23c4d):
        raise ValueError(f"{path}: not a classic pcap file")
    nano = magic == 0xa1b23c4d
    link = struct.unpack(e + "I", data[20:24])[0] & 0x03ffffff
    if link != 1:
        raise ValueError(f"{path}: link type {link}, not Ethernet")
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        t = sec * 1_000_000_000 + (frac if nano else frac * 1000)
        out.append((t, data[off:off + caplen]))
        off += caplen
    return out


class Packet:
    """What a flow log needs of one frame (None fields when not IP)."""
    __slots__ = ("t_ns", "family", "src", "dst", "proto", "sport", "dport", "ip_len",
                 "flags", "frag_id", "frag_off", "more_frags", "icmp_type", "frame_len",
                 "hdr_len")

    def __init__(self, t_ns, frame_len):
        self.t_ns = t_ns
        self.frame_len = frame_len
        self.family = None
        self.src = self.dst = None
        self.proto = self.sport = self.dport = 0
        self.ip_len = 0
        self.flags = 0
        self.frag_id = None
        self.frag_off = 0
        self.more_frags = False
        self.icmp_type = None
        self.hdr_len = 0

    def key(self):
        return (self.family, self.src, self.dst, self.proto, self.sport, self.dport)

    def __repr__(self):
        return (f"<{self.t_ns} v{self.family} {self.src}:{self.sport} > {self.dst}:"
                f"{self.dport} p{self.proto} len {self.ip_len}>")


_V6_EXT = (0, 43, 60, 51)  # hop-by-hop, routing, destination options, AH


def parse_frame(t_ns, fr):
    """Independent Ethernet/VLAN/IPv4/IPv6/L4 reader for the lab's traffic."""
    p = Packet(t_ns, len(fr))
    if len(fr) < 14:
        return p
    et, off = struct.unpack("!H", fr[12:14])[0], 14
    while et in (0x8100, 0x88a8) and len(fr) >= off + 4:
        et, off = struct.unpack("!H", fr[off + 2:off + 4])[0], off + 4
    if et == 0x0800 and len(fr) >= off + 20:
        ihl = (fr[off] & 0x0f) * 4
        p.family = 4
        p.hdr_len = ihl
        p.ip_len = struct.unpack("!H", fr[off + 2:off + 4])[0]
        ff = struct.unpack("!H", fr[off + 6:off + 8])[0]
        p.frag_off = (ff & 0x1fff) * 8
        p.more_frags = bool(ff & 0x2000)
        if p.frag_off or p.more_frags:
            p.frag_id = struct.unpack("!H", fr[off + 4:off + 6])[0]
        p.proto = fr[off + 9]
        p.src = str(ipaddress.IPv4Address(fr[off + 12:off + 16]))
        p.dst = str(ipaddress.IPv4Address(fr[off + 16:off + 20]))
        l4 = off + ihl
    elif et == 0x86dd and len(fr) >= off + 40:
        p.family = 6
        p.hdr_len = 40
        p.ip_len = 40 + struct.unpack("!H", fr[off + 4:off + 6])[0]
        nh = fr[off + 6]
        p.src = str(ipaddress.IPv6Address(fr[off + 8:off + 24]))
        p.dst = str(ipaddress.IPv6Address(fr[off + 24:off + 40]))
        l4 = off + 40
        while True:
            if nh in _V6_EXT and len(fr) >= l4 + 2:
                hl = (fr[l4 + 1] + 2) * 4 if nh == 51 else (fr[l4 + 1] + 1) * 8
                nh, l4 = fr[l4], l4 + hl
            elif nh == 44 and len(fr) >= l4 + 8:
                fo = struct.unpack("!H", fr[l4 + 2:l4 + 4])[0]
                p.frag_off = fo & 0xfff8
                p.more_frags = bool(fo & 1)
                p.frag_id = struct.unpack("!I", fr[l4 + 4:l4 + 8])[0]
                nh, l4 = fr[l4], l4 + 8
            else:
                break
        p.proto = nh
    else:
        return p
    if p.frag_off:
        return p  # a later fragment: no transport header
    if p.proto in (6, 17, 132) and len(fr) >= l4 + 4:
        p.sport, p.dport = struct.unpack("!HH", fr[l4:l4 + 4])
        if p.proto == 6 and len(fr) >= l4 + 14:
            p.flags = fr[l4 + 13]
    elif p.proto in (1, 58) and len(fr) >= l4 + 1:
        p.icmp_type = fr[l4]
    return p


def pcap_packets(path):
    return [parse_frame(t, fr) for t, fr in pcap_frames(path)]


def aws_tcp_flags(flags):
    """The AWS tcp-flags value of one TCP flag byte: FIN 1, SYN 2, RST 4,
    SYN-ACK 18; other flags alone 0."""
    return (flags & 7) | (16 if flags & 0x12 == 0x12 else 0)


def flow_keys(packets):
    """(packet, key) for every IP packet, key = (family, src, dst, proto,
    sport, dport) as dpflow's records have it: later fragments take their
    first fragment's ports, protocols without ports have 0."""
    first_ports = {}
    out = []
    for p in packets:
        if p.family is None:
            continue
        sport, dport = p.sport, p.dport
        if p.frag_id is not None:
            fk = (p.family, p.src, p.dst, p.proto, p.frag_id)
            if p.frag_off == 0:
                first_ports[fk] = (sport, dport)
            else:
                sport, dport = first_ports.get(fk, (0, 0))
        if p.proto not in (6, 17, 132):
            sport = dport = 0
        out.append((p, (p.family, p.src, p.dst, p.proto, sport, dport)))
    return out


def flow_totals(packets, window=None):
    """Per flow (and per window when window is given, in seconds): packets,
    bytes, AWS tcp-flags. Later fragments take their first fragment's ports,
    as dpflow's records do. Keys: (window_start or None, family, src, dst,
    proto, sport, dport)."""
    tot = {}
    for p, key in flow_keys(packets):
        w = None if window is None else (p.t_ns // 1_000_000_000) // window * window
        r = tot.setdefault((w,) + key, [0, 0, 0])
        r[0] += 1
        r[1] += p.ip_len
        r[2] |= aws_tcp_flags(p.flags if p.proto == 6 else 0)
    return tot


def reassemble_ipv4(packets):
    """What DPDK's af_packet PMD hands dpflow for a capture of the same wire:
    its fanout group has PACKET_FANOUT_FLAG_DEFRAG, so the kernel reassembles
    IPv4 fragments first. Each IPv4 datagram whose fragments were all
    captured becomes one packet, where and when its last fragment arrived,
    with the datagram's IP total length and its first fragment's ports,
    flags and ICMP type. A datagram missing a fragment never reaches the
    ring (the kernel drops it when reassembly times out): it is left out.
    IPv6 fragments stay as they are. Returns (packets, datagrams
    reassembled, incomplete datagrams left out)."""
    groups = {}
    for i, p in enumerate(packets):
        if p.family == 4 and p.frag_id is not None:
            groups.setdefault((p.src, p.dst, p.proto, p.frag_id), []).append(i)
    replace, drop, done, incomplete = {}, set(), 0, 0
    for idx in groups.values():
        frags = sorted((packets[i] for i in idx), key=lambda f: f.frag_off)
        end, ok = 0, True
        for f in frags:
            if f.frag_off != end:
                ok = False
            end = f.frag_off + f.ip_len - f.hdr_len
        ok = ok and not frags[-1].more_frags and frags[0].frag_off == 0
        drop.update(idx)
        if not ok:
            incomplete += 1
            continue
        first, last = frags[0], packets[max(idx)]
        d = Packet(last.t_ns, first.frame_len)
        for a in ("family", "src", "dst", "proto", "sport", "dport", "flags", "icmp_type",
                  "hdr_len"):
            setattr(d, a, getattr(first, a))
        d.ip_len = first.hdr_len + end
        replace[max(idx)] = d
        done += 1
    out = [replace.get(i, p) for i, p in enumerate(packets) if i not in drop or i in replace]
    return out, done, incomplete


NS = 1_000_000_000


def check_records(rows, packets, window, late_ns=500_000_000, early_ns=2_000_000, quiet=None,
                  loose=None):
    """Compare dpflow's rows for one interface with the packets it saw,
    timed by the kernel (tcpdump's timestamps; reassemble_ipv4() first for
    an af_packet port). Returns a list of problems; empty when every row is
    exact.

    rows: dicts with srcaddr dstaddr srcport dstport protocol packets bytes
    start end tcp-flags log-status, and tcp-flags-all when the format has
    it. window: seconds.

    dpflow stamps a packet when an RX core takes it from the ring: after
    the kernel's timestamp by up to late_ns (polling, a loaded machine) and
    off by the wall clock's error (early_ns) either way. A packet that close
    to a window boundary may be in either window, one that close to a
    second boundary may give either second; everything else is exact:
    - per flow over the run: packets, bytes, tcp-flags;
    - per flow and window: the flow's packets in time order, cut by the
      rows' packet counts in window order, each in a window it can be
      stamped in; the row's bytes and flags those packets' sums; its start
      and end seconds ones its first and last packet can be stamped in;
    - a NODATA row for a window exactly when it has no OK row, and windows
      from the first to the last row all present; with a list as `quiet`,
      the windows no packet could be stamped in are appended to it and
      must have NODATA rows.
    loose(key) -> True: only the flow's totals are compared (a flow sent
    before dpflow was polling: each packet is stamped by the time the
    flow's last packet is, at the latest).
    """
    problems = []
    wl = window * NS

    def span(t, unit):
        return range((t - early_ns) // unit, (t + late_ns) // unit + 1)

    expected = {}
    for p, key in flow_keys(packets):
        expected.setdefault(key, []).append(p)
    got = {}
    ok_windows, nodata_windows = set(), set()
    for r in rows:
        if r["log-status"] == "NODATA":
            nodata_windows.add(int(r["start"]))
            continue
        if r["log-status"] != "OK":
            problems.append(f"row {r}: log-status {r['log-status']}")
            continue
        fam = 6 if ":" in r["srcaddr"] else 4
        key = (fam, r["srcaddr"], r["dstaddr"], int(r["protocol"]), int(r["srcport"]),
               int(r["dstport"]))
        got.setdefault(key, []).append(r)
        ok_windows.add(int(r["start"]) // window * window)
    for key in sorted(set(got) - set(expected), key=str):
        problems.append(f"flow {key}: dpflow has rows {got[key]}, the capture no packet")
    for key, pkts in sorted(expected.items(), key=lambda kv: str(kv[0])):
        pkts.sort(key=lambda p: p.t_ns)
        rs = sorted(got.get(key, []), key=lambda r: int(r["start"]))
        n, b = sum(int(r["packets"]) for r in rs), sum(int(r["bytes"]) for r in rs)
        fl = 0
        for r in rs:
            fl |= int(r["tcp-flags"])
        want_fl = 0
        for p in pkts:
            want_fl |= aws_tcp_flags(p.flags if p.proto == 6 else 0)
        if (n, b, fl) != (len(pkts), sum(p.ip_len for p in pkts), want_fl):
            problems.append(f"flow {key}: dpflow {n} packets {b} bytes flags {fl}, capture "
                            f"{len(pkts)} packets {sum(p.ip_len for p in pkts)} bytes "
                            f"flags {want_fl}")
            continue
        if loose is not None and loose(key):
            continue
        i, last_w = 0, None
        for r in rs:
            w = int(r["start"]) // window * window
            block = pkts[i:i + int(r["packets"])]
            i += len(block)
            where = f"flow {key} window {w}"
            if w == last_w:
                problems.append(f"{where}: two rows for one window")
            last_w = w
            bad = [p for p in block if w * NS // wl not in span(p.t_ns, wl)]
            if bad:
                problems.append(f"{where}: packets at {[p.t_ns for p in bad]} cannot be "
                                f"stamped in it (row {r})")
            bb = sum(p.ip_len for p in block)
            f_aws = f_all = 0
            for p in block:
                f = p.flags if p.proto == 6 else 0
                f_aws |= aws_tcp_flags(f)
                f_all |= f
            if int(r["bytes"]) != bb or int(r["tcp-flags"]) != f_aws or (
                    "tcp-flags-all" in r and int(r["tcp-flags-all"]) != f_all):
                problems.append(f"{where}: row {r}, the capture's packets give bytes {bb} "
                                f"tcp-flags {f_aws} tcp-flags-all {f_all}")
            in_w = range(w, w + window)
            if (int(r["start"]) not in span(block[0].t_ns, NS)
                    or int(r["end"]) not in span(block[-1].t_ns, NS)
                    or int(r["end"]) not in in_w):
                problems.append(f"{where}: start {r['start']} end {r['end']}, the capture's "
                                f"first and last packets at {block[0].t_ns} {block[-1].t_ns}")
    if quiet is not None:
        # Windows no packet can be stamped in: NODATA rows.
        lo = min(ok_windows | nodata_windows, default=0) // window
        hi = max(ok_windows | nodata_windows, default=0) // window
        # A loose flow's packets are stamped by the time its last one is.
        busy, loose_last = set(), {}
        for p, key in flow_keys(packets):
            busy.update(span(p.t_ns, wl))
            if loose is not None and loose(key):
                loose_last[key] = p.t_ns
        for key, t in loose_last.items():
            first = min(p.t_ns for p in expected[key])
            busy.update(range(span(first, wl)[0], span(t, wl)[-1] + 1))
        quiet.extend(w * window for w in range(lo, hi + 1) if w not in busy)
        missing = [w for w in quiet if w not in nodata_windows]
        if missing:
            problems.append(f"windows without traffic and without a NODATA row: {missing}")
    both = ok_windows & nodata_windows
    if both:
        problems.append(f"windows with OK and NODATA rows: {sorted(both)}")
    allw = ok_windows | nodata_windows
    if allw and sorted(allw) != list(range(min(allw), max(allw) + 1, window)):
        problems.append(f"windows missing between {min(allw)} and {max(allw)}: "
                        f"{sorted(set(range(min(allw), max(allw) + 1, window)) - allw)}")
    return problems


def records(out, fields):
    """dpflow's stdout rows as dicts, for a format of the given field names
    (the header line is checked)."""
    lines = out.splitlines()
    if not lines or lines[0].split() != list(fields):
        raise ValueError(f"unexpected header: {lines[:1]}")
    return [dict(zip(fields, l.split())) for l in lines[1:] if l.strip()]
