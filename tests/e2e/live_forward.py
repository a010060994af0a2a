#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Forward mode as a NAT box between real kernel stacks (issue 10).

Topology, built per case by tests/e2e/lab.py (namespaces and veth pairs, all
offloads off):

    [in] eth0 ---veth--- pin [dp: dpflow --forward 0:1] pout ---veth--- eth0 [out]
    10.99.0.1/24                 port 0        port 1            203.0.113.100/24
    fd88::1/64                                                   (.101, .102 too)
                                                                 2001:db8:1::100/64

dpflow forwards Ethernet frames like testpmd's io engine: it never changes a
MAC address, it only rewrites IP headers (NAT). So there is no router: every
address is "on link" through static neighbour entries that name the MAC of
the host on the far side of dpflow.
- in: routes 203.0.113.0/24 and 2001:db8:1::/64 out of eth0; the outside
  host's addresses resolve (static entries) to out's MAC.
- out: routes the inside prefixes (10.99.0.0/24, fd88::/64) and the NAT's
  outside addresses (100.64.0.0/16 of the static and dnat rules,
  2001:db8:64::/64, and the masquerade addresses 203.0.113.1 and
  2001:db8:1::1) out of eth0; all of them resolve to in's MAC.
A frame from in to out thus carries out's MAC; dpflow (port 0) translates its
IP header and sends it on port 1, where out takes it as its own. Replies go
the other way.

Real traffic crosses it: curl downloads from `python3 -m http.server`
(byte-identical), ping and ping -6 with and without fragments (-s 3000), UDP
echo, TCP connections refused with RST, a long-lived TCP trickle, and ICMP
port-unreachable errors for every NAT kind (a connected UDP socket only sees
ECONNREFUSED when the error's embedded header names it: the kernel checks).

tcpdump on both wires (in's eth0 and out's eth0) is the reference. A frame's
source MAC tells its direction: on the inside wire, frames from in's MAC are
what arrived at dpflow's port 0, the others what dpflow sent out of port 0;
the same on the outside wire. Per flow, the records' pre-NAT view
(pkt-srcaddr/pkt-dstaddr/pkt-srcport/pkt-dstport) must equal what arrived,
and the post-NAT view (srcaddr/dstaddr/srcport/dstport) what the far side
received, with exact packet, byte and tcp-flag totals. The model knows what
net_af_packet does to fragments: its fanout socket reassembles IPv4, so
dpflow sees (and logs) one packet where the wire carried fragments, and
dpflow fragments it again to the peer port's MTU; IPv6 fragments arrive as
they are.

Usage: live_forward.py CASE      (meson: suites live and e2e; exit 77 = skipped)
       live_forward.py agent ... (run inside a namespace by the cases)
"""
import hashlib
import ipaddress
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

IN4, IN6 = "10.99.0.1", "fd88::1"
OUT4, OUT6 = "203.0.113.100", "2001:db8:1::100"
OUT4_B, OUT4_C = "203.0.113.101", "203.0.113.102"  # clients of the inbound rules
MASQ4, MASQ6 = "203.0.113.1", "2001:db8:1::1"
STATIC_IN4, STATIC_OUT4 = "10.99.0.0/24", "100.64.0.0/24"
STATIC_IN6, STATIC_OUT6 = "fd88::/64", "2001:db8:64::/64"
NAT4, NAT6 = "100.64.0.1", "2001:db8:64::1"       # in's static outside addresses
DNAT4 = "100.64.1.10"                              # dnat public address
HTTP_PORT, ECHO_PORT, CLOSED_PORT = 8000, 7007, 9
DNAT_CLOSED_INSIDE = 19   # not CLOSED_PORT: every datagram from IN4:19 is a port-forward reply
DNAT_HTTP, DNAT_UDP, DNAT_CLOSED = 8080, 7070, 9090

FIELDS = ("interface-id", "pkt-srcaddr", "pkt-dstaddr", "pkt-srcport", "pkt-dstport",
          "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes",
          "tcp-flags", "action", "log-status")
FORMAT = " ".join("${%s}" % f for f in FIELDS)
DOWNLOAD_BYTES = 3 * 1024 * 1024


# ---------------------------------------------------------------- agent
# Subcommands run inside a namespace (ip netns exec NS python3 this agent ...);
# each exits 0 when its exchange succeeded.

def agent(args):
    cmd = args[0]
    if cmd == "batch":
        return agent_batch(json.loads(args[1]))
    if cmd == "echo":
        return agent_echo(int(args[1]))
    if cmd == "udp-echo":
        return agent_udp_echo(args[1], int(args[2]), int(args[3]), int(args[4]),
                              args[5] if len(args) > 5 else None)
    if cmd == "udp-refused":
        return agent_udp_refused(args[1], int(args[2]), args[3] if len(args) > 3 else None)
    if cmd == "tcp-refused":
        return agent_tcp_refused(args[1], int(args[2]))
    if cmd == "trickle":
        return agent_trickle(args[1], int(args[2]), float(args[3]))
    raise SystemExit(f"unknown agent command {cmd}")


def agent_batch(ops):
    """Run every [name, command, args...] at once (one process, one thread
    each: a loaded machine starts one Python, not twenty); prints the
    failures, exits 1 if any."""
    failures = []

    def one(op):
        name, args = op[0], [str(a) for a in op[1:]]
        try:
            agent(args)
        except BaseException as e:  # SystemExit included: the op's own verdict
            failures.append(f"{name}: {type(e).__name__}: {e}")
    threads = [threading.Thread(target=one, args=(op,)) for op in ops]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for f in failures:
        print(f)
    return 1 if failures else 0


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def agent_echo(port):
    """UDP and TCP echo on port, both families (dual-stack sockets)."""
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    u.bind(("::", port))
    t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("::", port))
    t.listen(16)

    def udp():
        while True:
            data, peer = u.recvfrom(65535)
            u.sendto(data, peer)

    def conn(c):
        with c:
            while True:
                data = c.recv(65536)
                if not data:
                    return
                c.sendall(data)

    threading.Thread(target=udp, daemon=True).start()
    print("ready", flush=True)
    while True:
        c, _ = t.accept()
        threading.Thread(target=conn, args=(c,), daemon=True).start()


def agent_udp_echo(host, port, count, size, bind=None):
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    if bind:
        s.bind((bind, 0))
    s.settimeout(30)
    s.connect((host, port))
    for i in range(count):
        msg = bytes([i % 256]) * size
        s.send(msg)
        if s.recv(65535) != msg:
            raise SystemExit(f"udp echo {i}: wrong reply")
    return 0


def agent_udp_refused(host, port, bind=None):
    """A connected UDP socket learns ECONNREFUSED only from an ICMP error whose
    embedded header is its own datagram (addresses and ports)."""
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    if bind:
        s.bind((bind, 0))
    s.settimeout(30)
    s.connect((host, port))
    s.send(b"anyone there?")
    try:
        s.recv(100)
    except ConnectionRefusedError:
        return 0
    except socket.timeout:
        raise SystemExit(f"udp to {host}:{port}: no port unreachable within 30 s")
    raise SystemExit(f"udp to {host}:{port}: got a reply")


def agent_tcp_refused(host, port):
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.settimeout(30)
    try:
        s.connect((host, port))
    except ConnectionRefusedError:
        return 0
    raise SystemExit(f"tcp to {host}:{port}: connected")


def agent_trickle(host, port, seconds):
    s = socket.create_connection((host, port), timeout=30)
    end = time.time() + seconds
    i = 0
    while time.time() < end:
        msg = b"trickle %06d\n" % i
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            chunk = s.recv(len(msg) - len(got))
            if not chunk:
                raise SystemExit("trickle: connection closed")
            got += chunk
        if got != msg:
            raise SystemExit("trickle: wrong echo")
        i += 1
        time.sleep(0.25)
    # Both FINs exchanged (and the last ACK sent) before the exchange ends.
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass
    s.close()
    return 0


# ---------------------------------------------------------------- cases

if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "agent":
    sys.exit(agent(sys.argv[2:]))

import lab  # noqa: E402  (after the agent: namespaces only need the lines above)
from e2e import Fail, check, counters  # noqa: E402
from lab import Lab, pcap_frames, parse_frame, records  # noqa: E402

SELF = os.path.abspath(__file__)


def build(lb):
    inn, dp, out = lb.netns("in"), lb.netns("dp"), lb.netns("out")
    lb.veth(inn, "eth0", dp, "pin")
    lb.veth(dp, "pout", out, "eth0")
    for ns in (inn, dp, out):
        for k in ("net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
                  "net.ipv4.conf.eth0.rp_filter=0"):
            lab.sh(["sysctl", "-qw", k], ns=ns, check=False)
    # dpflow's ports carry no address of their own: no ARP, ND or IPv6 there.
    for ifname in ("pin", "pout"):
        lab.sh(["sysctl", "-qw", f"net.ipv6.conf.{ifname}.disable_ipv6=1"], ns=dp, check=False)
        lab.sh(["ip", "link", "set", ifname, "arp", "off"], ns=dp)
    in_mac, out_mac = lb.mac(inn, "eth0"), lb.mac(out, "eth0")
    lb.addr(inn, "eth0", IN4 + "/24")
    lb.addr(inn, "eth0", IN6 + "/64")
    for a in (OUT4, OUT4_B, OUT4_C):
        lb.addr(out, "eth0", a + "/24")
    lb.addr(out, "eth0", OUT6 + "/64")
    lab.sh(["ip", "route", "add", "203.0.113.0/24", "dev", "eth0"], ns=inn)
    lab.sh(["ip", "-6", "route", "add", "2001:db8:1::/64", "dev", "eth0"], ns=inn)
    for a in (OUT4, OUT4_B, OUT4_C, OUT6):
        lb.neigh(inn, "eth0", a, out_mac)
    for net in ("10.99.0.0/24", "100.64.0.0/16"):
        lab.sh(["ip", "route", "add", net, "dev", "eth0"], ns=out)
    for net in ("fd88::/64", "2001:db8:64::/64"):
        lab.sh(["ip", "-6", "route", "add", net, "dev", "eth0"], ns=out)
    for a in (IN4, NAT4, DNAT4, MASQ4, IN6, NAT6, MASQ6):
        lb.neigh(out, "eth0", a, in_mac)
    return inn, dp, out, in_mac, out_mac


class Exchanges:
    """Runs client commands in namespaces in parallel; collects failures.
    agent() queues an exchange of this file's agent; start() runs each
    namespace's queue in one agent process."""

    def __init__(self, lb):
        self.lb = lb
        self.threads = []
        self.failures = []
        self.batches = {}

    def run(self, name, ns, cmd, timeout=240):
        def go():
            try:
                p = lab.sh(cmd, ns=ns, check=False, timeout=timeout)
                if p.returncode != 0:
                    self.failures.append(f"{name}: exit {p.returncode}: "
                                         f"{(p.stderr + p.stdout).strip()[-400:]}")
            except subprocess.TimeoutExpired:
                self.failures.append(f"{name}: no end within {timeout} s")
        t = threading.Thread(target=go)
        t.start()
        self.threads.append(t)

    def agent(self, name, ns, *args):
        self.batches.setdefault(ns, []).append([name] + [str(a) for a in args])

    def start(self):
        for ns, ops in self.batches.items():
            self.run(f"agent in {ns}", ns,
                     [sys.executable, SELF, "agent", "batch", json.dumps(ops)], timeout=240)
        self.batches = {}

    def wait(self):
        for t in self.threads:
            t.join()
        self.threads = []


def start_servers(lb, ns, www):
    lb.popen([sys.executable, "-m", "http.server", "--bind", "::", str(HTTP_PORT),
              "--directory", www], ns=ns, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    echo = lb.popen([sys.executable, SELF, "agent", "echo", str(ECHO_PORT)], ns=ns,
                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    check(echo.stdout.readline().strip() == "ready", "echo server did not start")
    # http.server listens once it answers locally.
    deadline = time.time() + 20
    while time.time() < deadline:
        if lab.sh(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{HTTP_PORT}/"],
                  ns=ns, check=False).returncode == 0:
            return
        time.sleep(0.1)
    raise Fail("http.server did not start")


def download(ex, name, ns, url, path, digest):
    def go():
        p = lab.sh(["curl", "-s", "-S", "-g", "--max-time", "150", "-o", path, url], ns=ns,
                   check=False, timeout=180)
        if p.returncode != 0:
            ex.failures.append(f"{name}: curl exit {p.returncode}: {p.stderr.strip()}")
            return
        with open(path, "rb") as f:
            got = hashlib.sha256(f.read()).hexdigest()
        if got != digest:
            ex.failures.append(f"{name}: download differs from the served file")
    t = threading.Thread(target=go)
    t.start()
    ex.threads.append(t)


def pings(ex, ns, host, tag):
    v6 = ["-6"] if ":" in host else []
    ex.run(f"ping {tag}", ns, ["ping"] + v6 + ["-n", "-c", "3", "-i", "0.2", "-W", "20", host])
    ex.run(f"ping -s 3000 {tag}", ns,
           ["ping"] + v6 + ["-n", "-c", "2", "-i", "0.3", "-W", "20", "-s", "3000", host])


# ---------------------------------------------------------------- the model

def reassemble_v4(packets_frames):
    """What net_af_packet's fanout (PACKET_FANOUT_FLAG_DEFRAG) gives dpflow:
    each complete set of IPv4 fragments becomes one packet (the first
    fragment's header, the sum of the payloads, the time of the last); an
    incomplete set never arrives. IPv6 fragments are left alone."""
    out, pending = [], {}
    for p, fr in packets_frames:
        if p.family != 4 or p.frag_id is None:
            out.append(p)
            continue
        k = (p.src, p.dst, p.proto, p.frag_id)
        ihl = (fr[14] & 15) * 4
        d = pending.setdefault(k, {"parts": {}, "first": None, "ihl": 20, "end": None})
        d["parts"][p.frag_off] = p.ip_len - ihl
        if p.frag_off == 0:
            d["first"], d["ihl"] = p, ihl
        if not p.more_frags:
            d["end"] = p.frag_off + p.ip_len - ihl
        if d["first"] is not None and d["end"] is not None:
            covered, off = 0, 0
            while off in d["parts"]:
                covered, off = off + d["parts"][off], off + d["parts"][off]
            if covered == d["end"]:
                whole = d["first"]
                whole.ip_len = d["ihl"] + d["end"]
                whole.frag_id, whole.frag_off, whole.more_frags = None, 0, False
                whole.t_ns = p.t_ns
                out.append(whole)
                del pending[k]
    return out


def wire(path, mac):
    """(packets sent by mac, packets sent by the others) of a capture, as
    dpflow's af_packet ports see them (IPv4 reassembled)."""
    sent, received = [], []
    mac_b = bytes.fromhex(mac.replace(":", ""))
    for t, fr in pcap_frames(path):
        p = parse_frame(t, fr)
        if p.family is None:
            continue
        (sent if fr[6:12] == mac_b else received).append((p, fr))
    return reassemble_v4(sent), reassemble_v4(received)


def multicast(addr):
    return ipaddress.ip_address(addr).is_multicast


def arrived_count(path, mac):
    """Frames sent by mac as net_af_packet delivers them (IPv4 fragment sets
    as one frame, once complete), non-IP frames included."""
    mac_b = bytes.fromhex(mac.replace(":", ""))
    n, ip = 0, []
    for t, fr in pcap_frames(path):
        if fr[6:12] != mac_b:
            continue
        p = parse_frame(t, fr)
        if p.family is None:
            n += 1
        else:
            ip.append((p, fr))
    return n + len(reassemble_v4(ip))


def capture(lb, ns, ifname, name, timeout=120):
    """lab's tcpdump(), then a wait until it listens: lab gives up waiting
    after 10 s, and a loaded machine can take longer to start it; a capture
    that starts late misses the first packets of the exchanges."""
    cap = lb.tcpdump(ns, ifname, name)
    deadline = time.time() + timeout
    while time.time() < deadline:
        cap.err_file.seek(0)
        err = cap.err_file.read()
        if "listening on" in err:
            return cap
        if cap.poll() is not None:
            raise Fail(f"tcpdump on {ns} {ifname} exited {cap.returncode}: {err.strip()}")
        time.sleep(0.05)
    cap.err_file.seek(0)
    raise Fail(f"tcpdump on {ns} {ifname} did not start within {timeout} s: "
               f"{cap.err_file.read().strip()!r}")


def counts(p, paths_macs):
    """(progress lines' rx counts of dpflow so far, frames the captures hold
    as dpflow's ports receive them)."""
    want = sum(arrived_count(path, mac) for path, mac in paths_macs)
    p.err_file.seek(0)
    got = [int(n) for n in re.findall(r"dpflow: rx (\d+) pkts", p.err_file.read())]
    return got, want


def quiet(p, paths_macs, timeout=60):
    """Wait for a moment when nothing moves: dpflow's last two progress lines
    (--stats-period 1) agree and the captures hold what they held a second
    ago. Returns (dpflow's rx, the captures' count) then: between two quiet
    moments both count the same frames. (Before the captures start, the
    kernels' MLD reports reach dpflow only: absolute counts never agree.)"""
    deadline, last = time.time() + timeout, None
    while time.time() < deadline:
        time.sleep(1)
        got, want = counts(p, paths_macs)
        if len(got) >= 2 and got[-1] == got[-2] and last == (got[-1], want):
            return got[-1], want
        last = (got[-1], want) if got else None
    raise Fail(f"dpflow and the captures never came to rest within {timeout} s "
               f"(rx {got[-1:] if got else '?'}, captured {want})")


def dump_threads(p):
    """What dpflow's threads are doing (state, kernel wait channel, syscall)."""
    for task in sorted(os.listdir(f"/proc/{p.pid}/task")):
        info = []
        for f in ("comm", "wchan", "syscall"):
            try:
                with open(f"/proc/{p.pid}/task/{task}/{f}") as fh:
                    info.append(fh.read().strip().split(" ")[0])
            except OSError:
                info.append("?")
        with open(f"/proc/{p.pid}/task/{task}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        print(f"dpflow thread {task}: {info[0]} state {state} wchan {info[1]} "
              f"syscall {info[2]}", file=sys.stderr)


def settle(p, paths_macs, base, timeout=60):
    """Wait until dpflow has read every frame that reached its ports since the
    quiet moment base: as many as the captures gained, at rest. A loaded
    machine may run dpflow late; a stop before then would leave frames in
    its rings that the captures have."""
    deadline = time.time() + timeout
    stable, got, want, dumped = 0, [], 0, False
    while time.time() < deadline:
        time.sleep(1)
        got, want = counts(p, paths_macs)
        done = got and got[-1] - base[0] == want - base[1]
        if not done and not dumped and time.time() > deadline - timeout + 10:
            dump_threads(p)
            dumped = True
        stable = stable + 1 if done else 0
        if stable >= 2:
            return
    print(f"settle: dpflow read {got[-1] - base[0] if got else '?'} frames since the start, "
          f"the captures hold {want - base[1]}", file=sys.stderr)


def model_flows(packets):
    """(family, src, dst, proto, sport, dport) -> [packets, bytes, aws flags].
    Multicast (the kernels' MLD reports) is no exchange of the test: left out
    here and in the records alike."""
    return {k[1:]: v for k, v in lab.flow_totals(packets).items() if not multicast(k[3])}


def record_views(rows, iface):
    """The records of one interface, summed over windows: pre-NAT view and
    post-NAT view, each -> [packets, bytes, flags]; and the verdicts."""
    pre, post, verdicts = {}, {}, {}
    for r in rows:
        if r["log-status"] != "OK" or r["interface-id"] != iface or multicast(r["pkt-dstaddr"]):
            continue
        fam = 6 if ":" in r["pkt-srcaddr"] else 4
        proto = int(r["protocol"])
        kpre = (fam, r["pkt-srcaddr"], r["pkt-dstaddr"], proto, int(r["pkt-srcport"]),
                int(r["pkt-dstport"]))
        kpost = (fam, r["srcaddr"], r["dstaddr"], proto, int(r["srcport"]), int(r["dstport"]))
        verdicts[kpre] = verdicts.get(kpre, set()) | {r["action"]}
        if r["action"] != "ACCEPT":
            continue
        for d, k in ((pre, kpre), (post, kpost)):
            v = d.setdefault(k, [0, 0, 0])
            v[0] += int(r["packets"])
            v[1] += int(r["bytes"])
            v[2] |= int(r["tcp-flags"])
    return pre, post, verdicts


def diff(want, got, what):
    lines = []
    for k in sorted(set(want) | set(got), key=str):
        if want.get(k) != got.get(k):
            lines.append(f"  {k}: wire {want.get(k)} records {got.get(k)}")
    check(not lines, f"{what}:\n" + "\n".join(lines[:40]))


def csum(data):
    """RFC 1071 one's-complement sum, folded (0xffff over a correct message)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def pseudo(src, dst, proto, length):
    if len(src) == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!I3xB", length, proto)


def check_icmp_errors(path, sender_mac):
    """Every ICMP error the far side received from dpflow: outer IPv4 header,
    ICMP(v6) checksum, quoted IPv4 header checksum, quoted UDP checksum when
    the datagram is quoted whole, and the quote's source is the outer
    destination (the error goes back to the quoted packet's sender).
    Returns how many were checked."""
    n = 0
    mac_b = bytes.fromhex(sender_mac.replace(":", ""))
    for _, fr in pcap_frames(path):
        if fr[6:12] == mac_b:
            continue
        et = struct.unpack("!H", fr[12:14])[0]
        if et == 0x0800 and fr[23] == 1 and fr[14 + (fr[14] & 15) * 4] in (3, 11, 12):
            ihl = (fr[14] & 15) * 4
            ip, icmp = fr[14:14 + ihl], fr[14 + ihl:14 + struct.unpack("!H", fr[16:18])[0]]
            check(csum(ip) == 0xffff, "ICMP error: outer IPv4 header checksum")
            check(csum(icmp) == 0xffff, "ICMP error: ICMP checksum")
            q = icmp[8:]
            qihl = (q[0] & 15) * 4
            check(csum(q[:qihl]) == 0xffff, "ICMP error: quoted IPv4 header checksum")
            check(q[12:16] == ip[16:20], "ICMP error: quoted source is not the outer destination")
            qlen = struct.unpack("!H", q[2:4])[0]
            if q[9] == 17 and len(q) >= qlen and struct.unpack("!H", q[qihl + 6:qihl + 8])[0]:
                udp = q[qihl:qlen]
                check(csum(pseudo(q[12:16], q[16:20], 17, len(udp)) + udp) == 0xffff,
                      "ICMP error: quoted UDP checksum")
            n += 1
        elif et == 0x86dd and fr[20] == 58 and fr[54] in (1, 3):
            ip6 = fr[14:54]
            icmp = fr[54:54 + struct.unpack("!H", fr[18:20])[0]]
            check(csum(pseudo(ip6[8:24], ip6[24:40], 58, len(icmp)) + icmp) == 0xffff,
                  "ICMPv6 error: checksum")
            q = icmp[8:]
            check(q[8:24] == ip6[24:40], "ICMPv6 error: quoted source is not the outer destination")
            qlen = 40 + struct.unpack("!H", q[4:6])[0]
            if q[6] == 17 and len(q) >= qlen:
                udp = q[40:qlen]
                check(csum(pseudo(q[8:24], q[24:40], 17, len(udp)) + udp) == 0xffff,
                      "ICMPv6 error: quoted UDP checksum")
            n += 1
    return n


def verify(rows, in_cap, out_cap, in_mac, out_mac):
    in_sent, in_recv = wire(in_cap, in_mac)     # in->dp, dp->in
    out_sent, out_recv = wire(out_cap, out_mac)  # out->dp, dp->out
    for iface, arrived, far in (("eni-port0", in_sent, out_recv),
                                ("eni-port1", out_sent, in_recv)):
        pre, post, verdicts = record_views(rows, iface)
        rejected = {k: v for k, v in verdicts.items() if v != {"ACCEPT"}}
        check(not rejected, f"{iface}: flows not (only) ACCEPT: {rejected}")
        diff(model_flows(arrived), pre, f"{iface}: pre-NAT view vs what arrived")
        diff(model_flows(far), post, f"{iface}: post-NAT view vs what the far side received")
    # Port unreachables reach in (v4, v6) and, with port forwards, out.
    errors = check_icmp_errors(in_cap, in_mac) + check_icmp_errors(out_cap, out_mac)
    check(errors >= 2, f"{errors} ICMP errors crossed dpflow")


# ---------------------------------------------------------------- a case

NAT_RULES = {
    "none": [],
    "static_dnat": [f"static {STATIC_IN4} {STATIC_OUT4}", f"static {STATIC_IN6} {STATIC_OUT6}",
                    f"dnat tcp {DNAT4}:{DNAT_HTTP} {IN4}:{HTTP_PORT}",
                    f"dnat udp {DNAT4}:{DNAT_UDP} {IN4}:{ECHO_PORT}",
                    f"dnat udp {DNAT4}:{DNAT_CLOSED} {IN4}:{DNAT_CLOSED_INSIDE}"],
    "masquerade": [f"masquerade 10.99.0.0/24 {MASQ4} 20000-29999",
                   f"masquerade fd88::/64 {MASQ6} 20000-29999"],
}


def traffic(lb, kind, inn, out, www_digest):
    ex = Exchanges(lb)
    for fam, host in ((4, OUT4), (6, OUT6)):
        url_host = f"[{host}]" if fam == 6 else host
        download(ex, f"download v{fam}", inn, f"http://{url_host}:{HTTP_PORT}/blob",
                 lb.path(f"got{fam}"), www_digest)
        pings(ex, inn, host, f"v{fam}")
        ex.agent(f"udp echo v{fam}", inn, "udp-echo", host, ECHO_PORT, 5, 200)
        ex.agent(f"udp echo 2000 bytes v{fam}", inn, "udp-echo", host, ECHO_PORT, 2, 2000)
        ex.agent(f"rst v{fam}", inn, "tcp-refused", host, CLOSED_PORT)
        ex.agent(f"port unreachable v{fam}", inn, "udp-refused", host, CLOSED_PORT)
        ex.agent(f"trickle v{fam}", inn, "trickle", host, ECHO_PORT, 3)
    for i in range(6):   # more flows: some replies hash to the other queue
        ex.agent(f"udp echo flow {i}", inn, "udp-echo", OUT4, ECHO_PORT, 2, 64)
    if kind == "static_dnat":
        # Inbound: port forwards to the inside host, and static inbound.
        download(ex, "download dnat", out, f"http://{DNAT4}:{DNAT_HTTP}/blob",
                 lb.path("gotdnat"), www_digest)
        ex.agent("udp echo dnat", out, "udp-echo", DNAT4, DNAT_UDP, 5, 300, OUT4_B)
        ex.agent("port unreachable dnat", out, "udp-refused", DNAT4, DNAT_CLOSED, OUT4_B)
        ex.agent("port unreachable static inbound", out, "udp-refused", NAT4, CLOSED_PORT,
                 OUT4_C)
        ex.agent("port unreachable static inbound v6", out, "udp-refused", NAT6, CLOSED_PORT)
        ex.agent("rst static inbound", out, "tcp-refused", NAT4, CLOSED_PORT)
    ex.start()
    ex.wait()
    return ex.failures


def run_case(kind, nq):
    lab.require_lab()
    if not lab.DPFLOW:
        print("skip: DPFLOW not set", file=sys.stderr)
        sys.exit(lab.SKIP)
    with Lab(f"fw{kind[:2]}{nq}") as lb:
        inn, dp, out, in_mac, out_mac = build(lb)
        www = lb.path("www")
        os.mkdir(www)
        blob = os.urandom(DOWNLOAD_BYTES)
        with open(os.path.join(www, "blob"), "wb") as f:
            f.write(blob)
        digest = hashlib.sha256(blob).hexdigest()
        start_servers(lb, out, www)
        if kind == "static_dnat":
            start_servers(lb, inn, www)
        # framesz: room for the datagrams the fanout socket reassembles.
        vdevs = [f"net_af_packet0,iface=pin,qpairs={nq},blocksz=8192,framesz=4096,"
                 f"framecnt=4096",
                 f"net_af_packet1,iface=pout,qpairs={nq},blocksz=8192,framesz=4096,"
                 f"framecnt=4096"]
        opts = ["--forward", "0:1", "--rxq", str(nq), "--clock", "wall", "--window", "10",
                "--output", "-", "--log-format", FORMAT, "--stats-period", "1"]
        for r in NAT_RULES[kind]:
            opts += ["--nat-rule", r]
        # Floating lcores (the pipeline on the main one): a loaded machine may
        # starve one CPU for seconds, and the scheduler can then move them.
        lcores = "(0-1)@(0-1)" if nq == 1 else "(0-2)@(0-1)"
        # dpflow first, then the captures: nothing but multicast moves before
        # the traffic starts, and every exchange ends before they stop.
        p = lb.dpflow(dp, vdevs, opts, lcores=lcores)
        in_cap = capture(lb, inn, "eth0", "in.pcap")
        out_cap = capture(lb, out, "eth0", "out.pcap")
        wires = ((in_cap.pcap_path, in_mac), (out_cap.pcap_path, out_mac))
        t0 = time.time()
        base = quiet(p, wires)
        t1 = time.time()
        failures = traffic(lb, kind, inn, out, digest)
        t2 = time.time()
        settle(p, wires, base)
        # Where the time went, for a machine slower than expected.
        print(f"phases: quiet {t1 - t0:.1f} s, traffic {t2 - t1:.1f} s, "
              f"settle {time.time() - t2:.1f} s")
        in_path = lb.stop_tcpdump(in_cap)
        out_path = lb.stop_tcpdump(out_cap)
        rc, stdout, stderr = lb.dpflow_result(p)
        with open(lb.path("records.log"), "w") as f:
            f.write(stdout)
        with open(lb.path("dpflow.err"), "w") as f:
            f.write(stderr)
        try:
            check(rc == 0, f"dpflow exit {rc}: {stderr[-3000:]}")
            c = counters(stderr)
            check(not failures, "exchanges failed:\n  " + "\n  ".join(failures) +
                  "\ncounters: " + ", ".join(f"{k}={c.get('total ' + k)}" for k in
                                             ("nat-dropped", "tx-dropped", "malformed",
                                              "acl-dropped")))
            check(c.get("conservation") == "ok", "conservation: " + str(c.get("conservation")))
            rows = records(stdout, FIELDS)
            verify(rows, in_path, out_path, in_mac, out_mac)
            for k in ("nat-dropped", "tx-dropped", "malformed"):
                check(c.get("total " + k) == "0", f"total {k}: {c.get('total ' + k)}")
            if kind == "masquerade" and nq > 1:
                # net_af_packet's fanout spreads the queues: shared sessions,
                # and replies did reach the core that does not hold theirs.
                check(c.get("nat sessions") == "shared", f"nat sessions: {c.get('nat sessions')}")
                check(int(c.get("nat remote-session-hits", 0)) > 0, "no reply crossed cores")
        except Fail:
            os.environ["DPF_LAB_KEEP"] = "1"
            print(f"lab files kept in {lb.dir}", file=sys.stderr)
            raise


CASES = {f"{k}_{nq}q": (k, nq) for k in ("none", "static_dnat", "masquerade") for nq in (1, 2)}

if __name__ == "__main__":
    name = sys.argv[1]
    try:
        run_case(*CASES[name])
    except Fail as e:
        print(f"FAIL {name}: {e}")
        sys.exit(1)
    print(f"PASS {name}")
