#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end tests of virtual interfaces, NAT views, ACL verdicts and
forward mode: small hand-built captures (tools/gencap.py's packet builders),
a command line, and the records (and transmitted packets) they must give.

Usage: nat.py CASE     Environment as for e2e.py.
"""
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.environ["GENCAP"]))
import gencap as g  # noqa: E402
import e2e  # noqa: E402  (e2e.main: the __main__ of every script)
from e2e import (EAL1, EAL4, Fail, check, check_records, counters, diff_text,  # noqa: E402
                 run)

T0 = 1_700_000_000 * 1_000_000  # µs, inside a 60 s window
VIEW = ("${version} ${interface-id} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-srcport} "
        "${pkt-dstport} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} "
        "${packets} ${action} ${flow-direction} ${log-status}")


class Capture:
    """Frames with strictly increasing timestamps (1 ms apart)."""

    def __init__(self):
        self.frames = []
        self.t = T0
        self.ident = 1

    def add(self, frame):
        self.t += 1000
        self.frames.append((self.t, frame, len(frame)))

    def tcp(self, src, sp, dst, dp, flags=0x10, payload=b"", mac=None, vlans=()):
        seg = g.tcp_seg(g.A(src), g.A(dst), sp, dp, 1000, 2000, flags, payload)
        self._ip(src, dst, 6, seg, mac, vlans)

    def udp(self, src, sp, dst, dp, payload=b"x" * 20, mac=None, vlans=()):
        seg = g.udp_dgram(g.A(src), g.A(dst), sp, dp, payload)
        self._ip(src, dst, 17, seg, mac, vlans)

    def ping(self, src, dst, reply, ident, mac=None):
        m = g.icmp4(0 if reply else 8, 0, struct.pack("!HH", ident, 1), b"ping" * 8)
        self._ip(src, dst, 1, m, mac, ())

    def _ip(self, src, dst, proto, l4, mac, vlans):
        s, d = g.A(src), g.A(dst)
        self.ident += 1
        ip = g.ipv4_hdr(s, d, proto, len(l4), self.ident, ff=0) + l4
        mac = mac or (g.host_mac(d), g.host_mac(s))
        self.add(g.ether(mac[0], mac[1], g.ETH_IPV4, ip, vlans))

    def write(self, path):
        g.write_frames(path, self.frames, 65535)


def records(out):
    """Rows of a VIEW-format output, minus the version and log-status columns."""
    lines = out.splitlines()
    check(lines and lines[0].startswith("version interface-id pkt-srcaddr"),
          f"header: {lines[:1]}")
    return [l for l in lines[1:]]


def expect_rows(got, want, what):
    check(got == want, f"{what}:\n" + diff_text("\n".join(want), "\n".join(got)))


def run_capture(cap, eal, opts, name="c.pcap"):
    d = tempfile.mkdtemp()
    path = os.path.join(d, name)
    cap.write(path)
    rc, out, err = run(eal, ["--replay", path, "--window", "60", "--output", "-",
                             "--log-format", VIEW, "--interface-id", "eni-test"] + opts)
    check(rc == 0, f"exit {rc}: {err[-3000:]}")
    with open(os.path.join(d, "out.log"), "w") as f:
        f.write(out)
    check_records(os.path.join(d, "out.log"), 60)
    return out, err


# ---------------------------------------------------------------- cases

def case_trustgrid():
    """Client 192.168.100.1 reaches 10.100.1.1 through Node1 (outbound NAT of the
    client to 10.100.2.1) and Node2 (remote source mapped to the local
    172.16.1.100, destination 10.100.1.1 to the server 172.16.1.20)."""
    n1 = Capture()
    n1.tcp("192.168.100.1", 40000, "10.100.1.1", 22, flags=0x02)
    n1.tcp("10.100.1.1", 22, "10.100.2.1", 40000, flags=0x12)
    n1.tcp("192.168.100.1", 40000, "10.100.1.1", 22, payload=b"ssh")
    out, _ = run_capture(n1, EAL1, ["--nat-rule", "static 192.168.100.1/32 10.100.2.1/32"])
    expect_rows(records(out), [
        "5 eni-test 10.100.1.1 10.100.2.1 22 40000 10.100.1.1 192.168.100.1 22 40000 6 1 ACCEPT - OK",
        "5 eni-test 192.168.100.1 10.100.1.1 40000 22 10.100.2.1 10.100.1.1 40000 22 6 2 ACCEPT - OK",
    ], "node 1")

    n2 = Capture()
    n2.tcp("10.100.2.1", 40000, "10.100.1.1", 22, flags=0x02)
    n2.tcp("172.16.1.20", 22, "172.16.1.100", 40000, flags=0x12)
    n2.tcp("10.100.2.1", 40000, "10.100.1.1", 22, payload=b"ssh")
    out, err = run_capture(n2, EAL1, ["--nat-rule", "static 10.100.2.1/32 172.16.1.100/32",
                                      "--nat-rule", "static 172.16.1.20/32 10.100.1.1/32"])
    expect_rows(records(out), [
        "5 eni-test 10.100.2.1 10.100.1.1 40000 22 172.16.1.100 172.16.1.20 40000 22 6 2 ACCEPT - OK",
        "5 eni-test 172.16.1.20 172.16.1.100 22 40000 10.100.1.1 10.100.2.1 22 40000 6 1 ACCEPT - OK",
    ], "node 2")
    c = counters(err)
    check(c["nat rule 1 packets"] == "3" and c["nat rule 2 packets"] == "3",
          f"per-rule counters: {c.get('nat rule 1 packets')} / {c.get('nat rule 2 packets')}")


def case_aws_nat_gateway():
    """The AWS NAT-gateway example: instance 10.0.1.5 reaches 203.0.113.5 through
    a NAT whose address is 10.0.0.220. The probe on the NAT's interface sees the
    four packets of an exchange; each record shows both views."""
    cap = Capture()
    cap.tcp("10.0.1.5", 45000, "203.0.113.5", 80, flags=0x02)     # instance -> NAT
    cap.tcp("10.0.0.220", 45000, "203.0.113.5", 80, flags=0x02)   # NAT -> destination
    cap.tcp("203.0.113.5", 80, "10.0.0.220", 45000, flags=0x12)   # destination -> NAT
    cap.tcp("203.0.113.5", 80, "10.0.1.5", 45000, flags=0x12)     # NAT -> instance
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "nat.conf")
        with open(conf, "w") as f:
            f.write("[interface eni-natgw]\nport = 0\naddresses = 10.0.0.220/32\n"
                    "[nat]\nrule = static 10.0.1.5/32 10.0.0.220/32\n")
        out, _ = run_capture(cap, EAL1, ["--config", conf])
    expect_rows(records(out), [
        "5 eni-natgw 10.0.0.220 203.0.113.5 45000 80 10.0.0.220 203.0.113.5 45000 80 6 1 ACCEPT egress OK",
        "5 eni-natgw 10.0.1.5 203.0.113.5 45000 80 10.0.0.220 203.0.113.5 45000 80 6 1 ACCEPT - OK",
        "5 eni-natgw 203.0.113.5 10.0.0.220 80 45000 203.0.113.5 10.0.1.5 80 45000 6 1 ACCEPT ingress OK",
        "5 eni-natgw 203.0.113.5 10.0.1.5 80 45000 203.0.113.5 10.0.1.5 80 45000 6 1 ACCEPT - OK",
    ], "NAT gateway records")


def case_dnat():
    """A port forward: the public address:port becomes the server's, and the
    server's replies show the public one as their post-NAT source."""
    cap = Capture()
    cap.tcp("198.51.100.7", 50000, "203.0.113.10", 443, flags=0x02)
    cap.tcp("10.0.0.5", 8443, "198.51.100.7", 50000, flags=0x12)
    cap.tcp("198.51.100.7", 50001, "203.0.113.10", 444, flags=0x02)  # no rule: unchanged
    out, _ = run_capture(cap, EAL1, ["--nat-rule", "dnat tcp 203.0.113.10:443 10.0.0.5:8443"])
    expect_rows(records(out), [
        "5 eni-test 10.0.0.5 198.51.100.7 8443 50000 203.0.113.10 198.51.100.7 443 50000 6 1 ACCEPT - OK",
        "5 eni-test 198.51.100.7 203.0.113.10 50000 443 198.51.100.7 10.0.0.5 50000 8443 6 1 ACCEPT - OK",
        "5 eni-test 198.51.100.7 203.0.113.10 50001 444 198.51.100.7 203.0.113.10 50001 444 6 1 ACCEPT - OK",
    ], "dnat")


MAC_A, MAC_B = "02:aa:00:00:00:01", "02:bb:00:00:00:02"
GW = "02:00:00:00:00:fe"


def case_interfaces():
    """Several vNICs on one port: by source MAC (egress), destination MAC
    (ingress), VLAN, the port default; flow-direction from the addresses;
    NODATA per interface; unmatched = drop counts what matches nothing."""
    cap = Capture()
    cap.udp("10.0.0.1", 1000, "8.8.8.8", 53, mac=(GW, MAC_A))            # A egress
    cap.udp("8.8.8.8", 53, "10.0.0.1", 1000, mac=(MAC_A, GW))            # A ingress
    cap.udp("10.0.0.2", 2000, "10.0.0.1", 3000, mac=(MAC_A, MAC_B))      # B egress (src MAC first)
    cap.udp("10.9.0.1", 4000, "10.9.0.2", 5000, mac=(GW, GW), vlans=((0x8100, 100),))  # VLAN 100
    cap.udp("10.7.0.1", 6000, "10.7.0.2", 7000, mac=(GW, GW))            # default / unmatched
    base = ("[interface eni-a]\nport = 0\nmac = %s\naddresses = 10.0.0.1/32\n"
            "[interface eni-b]\nport = 0\nmac = %s\naddresses = 10.0.0.2/24\n"
            "[interface eni-v100]\nport = 0\nvlan = 100\n" % (MAC_A, MAC_B))
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "if.conf")
        with open(conf, "w") as f:
            f.write(base + "[interface eni-default]\nport = 0\naddresses = 10.7.0.1\n")
        out, err = run_capture(cap, EAL1, ["--config", conf])
        expect_rows(records(out), [
            "5 eni-a 8.8.8.8 10.0.0.1 53 1000 8.8.8.8 10.0.0.1 53 1000 17 1 ACCEPT ingress OK",
            "5 eni-a 10.0.0.1 8.8.8.8 1000 53 10.0.0.1 8.8.8.8 1000 53 17 1 ACCEPT egress OK",
            "5 eni-b 10.0.0.2 10.0.0.1 2000 3000 10.0.0.2 10.0.0.1 2000 3000 17 1 ACCEPT egress OK",
            "5 eni-v100 10.9.0.1 10.9.0.2 4000 5000 10.9.0.1 10.9.0.2 4000 5000 17 1 ACCEPT - OK",
            "5 eni-default 10.7.0.1 10.7.0.2 6000 7000 10.7.0.1 10.7.0.2 6000 7000 17 1 ACCEPT egress OK",
        ], "interfaces with a default")
        # Without a default interface and with unmatched = drop: counted, not logged.
        with open(conf, "w") as f:
            f.write("[dpflow]\nunmatched = drop\n" + base +
                    "[interface eni-idle]\nport = 0\nvlan = 200\n")
        out, err = run_capture(cap, EAL1, ["--config", conf])
        rows = records(out)
        check(not any("10.7.0.1" in r for r in rows), "unmatched packet was logged")
        check("5 eni-idle - - - - - - - - - - - - NODATA" in rows,
              f"an interface without traffic gets NODATA: {rows}")
        c = counters(err)
        check(c["total unmatched"] == "1", f"unmatched counter: {c.get('total unmatched')}")
        check(c["conservation"] == "ok", "conservation with unmatched packets")


def acl_capture():
    cap = Capture()
    cap.tcp("192.0.2.1", 80, "10.0.0.1", 40001, flags=0x12)   # reply before the request
    cap.tcp("10.0.0.1", 40001, "192.0.2.1", 80, flags=0x02)   # allowed by rule 1
    cap.tcp("192.0.2.1", 80, "10.0.0.1", 40001, flags=0x12)   # reply: stateful accepts
    cap.tcp("10.0.0.1", 40002, "192.0.2.1", 22, flags=0x02)   # default deny
    cap.tcp("192.0.2.1", 22, "10.0.0.1", 40002, flags=0x14)   # reply to a rejected one
    cap.udp("10.0.0.1", 5353, "192.0.2.53", 53)               # explicit deny
    return cap


ACL_RULES = ["--acl-rule", "deny udp any any any 53",
             "--acl-rule", "allow tcp 10.0.0.0/8 any any 80",
             "--acl-default", "deny"]


def case_acl_stateful():
    """First match wins, default deny, REJECT records; in stateful mode the
    replies to an accepted connection are accepted, and a tuple seen both
    rejected and accepted in one window gives two records."""
    out, err = run_capture(acl_capture(), EAL1, ACL_RULES + ["--acl-stateful", "yes"])
    expect_rows(records(out), [
        "5 eni-test 10.0.0.1 192.0.2.1 40001 80 10.0.0.1 192.0.2.1 40001 80 6 1 ACCEPT - OK",
        "5 eni-test 10.0.0.1 192.0.2.1 40002 22 10.0.0.1 192.0.2.1 40002 22 6 1 REJECT - OK",
        "5 eni-test 10.0.0.1 192.0.2.53 5353 53 10.0.0.1 192.0.2.53 5353 53 17 1 REJECT - OK",
        "5 eni-test 192.0.2.1 10.0.0.1 22 40002 192.0.2.1 10.0.0.1 22 40002 6 1 REJECT - OK",
        "5 eni-test 192.0.2.1 10.0.0.1 80 40001 192.0.2.1 10.0.0.1 80 40001 6 1 ACCEPT - OK",
        "5 eni-test 192.0.2.1 10.0.0.1 80 40001 192.0.2.1 10.0.0.1 80 40001 6 1 REJECT - OK",
    ], "stateful ACL")
    c = counters(err)
    check(c["total acl-reply-accepted"] == "1", "one reply accepted by state")
    check(c["acl rule 1 packets"] == "1" and c["acl rule 2 packets"] == "1",
          "per-rule counters")
    check(c["acl default packets"] == "4", f"default: {c['acl default packets']}")
    # Stateless: both replies are rejected (one record of 2 packets).
    out, _ = run_capture(acl_capture(), EAL1, ACL_RULES)
    rows = records(out)
    check("5 eni-test 192.0.2.1 10.0.0.1 80 40001 192.0.2.1 10.0.0.1 80 40001 6 2 REJECT - OK"
          in rows and not any(" 80 40001 6 1 ACCEPT" in r for r in rows),
          f"stateless replies: {rows}")


# ------------------------------------------------ forward mode + masquerade

KEY = bytes([0x6d, 0x5a] * 20)


def toeplitz(data):
    """The Toeplitz hash with the symmetric key, bit by bit (reference)."""
    k = int.from_bytes(KEY, "big")
    klen = len(KEY) * 8
    h = 0
    for i, byte in enumerate(data):
        for b in range(8):
            if byte & (0x80 >> b):
                bit = i * 8 + b
                h ^= (k >> (klen - 32 - bit)) & 0xFFFFFFFF
    return h


def queue(src, dst, sp, dp, nq):
    h = toeplitz(g.A(src) + g.A(dst) + struct.pack("!HH", sp, dp))
    return (h % 128) % nq


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    out, off = [], 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack_from("<IIII", data, off)
        out.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return out


def verify_checksums(frame):
    """Recompute the IPv4 and TCP/UDP checksums of a transmitted frame."""
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    check(g.inet_csum(ip[:ihl]) == 0, "IPv4 header checksum")
    tot = struct.unpack("!H", ip[2:4])[0]
    proto = ip[9]
    l4 = ip[ihl:tot]
    if proto in (6, 17):
        s = g._sum16(g.pseudo(ip[12:16], ip[16:20], proto, len(l4)) + l4)
        check(g._fold(s) == 0xFFFF, f"L4 checksum of proto {proto}")
    return (proto, ip[12:16], ip[16:20]) + struct.unpack("!HH", l4[:4])


def case_masquerade_forward():
    """Masquerade in forward mode with 4 RX cores: outbound packets leave with
    the outside address and a port whose reply hashes back to the same core;
    every reply is de-translated; checksums are right; the post-NAT view of
    every record equals the headers that were transmitted."""
    masquerade_forward(acl=False)


def case_masquerade_stateful_acl():
    """The same behind a default-deny stateful ACL that only allows the inside
    network out: replies pass because their session exists; a packet to the
    outside address without a session is rejected and not transmitted."""
    masquerade_forward(acl=True)


def masquerade_forward(acl):
    nq, lo, hi, outside = 4, 20000, 20999, "192.0.2.1"
    cap = Capture()
    flows = [("10.0.%d.%d" % (i // 50, i % 50 + 1), 30000 + i, "198.51.100.%d" % (i % 7 + 1),
              80 if i % 2 else 53, 6 if i % 2 else 17) for i in range(120)]
    # The ports dpflow must choose: per core, in capture order, the first port
    # of the range (from a cursor) whose reply lands on that core.
    cursor, used, mapping = [0] * nq, set(), {}
    for (src, sp, dst, dp, proto) in flows:
        q = queue(src, dst, sp, dp, nq)
        for t in range(hi - lo + 1):
            p = lo + (cursor[q] + t) % (hi - lo + 1)
            if queue(dst, outside, dp, p, nq) == q and (proto, dst, dp, p) not in used:
                used.add((proto, dst, dp, p))
                cursor[q] = (p - lo + 1) % (hi - lo + 1)
                mapping[(src, sp)] = p
                break
    for (src, sp, dst, dp, proto) in flows:
        (cap.tcp if proto == 6 else cap.udp)(src, sp, dst, dp)
    for (src, sp, dst, dp, proto) in flows:
        (cap.tcp if proto == 6 else cap.udp)(dst, dp, outside, mapping[(src, sp)])
    cap.ping("10.0.0.1", "198.51.100.1", False, 4242)
    # To the outside address without a session: dropped, and logged as
    # REJECT (by the ACL's verdict with stateful ACL, by NAT without).
    cap.tcp("198.51.100.9", 80, outside, 29999, flags=0x12)
    # Port 0 (net_pcap, tx_pcap only) never receives: only the replay port's
    # software RSS spreads packets, so the steered ports hold (auto would
    # share the sessions, since net_pcap has no RSS).
    opts = ["--rxq", str(nq), "--forward", "1:0", "--nat-sessions", "per-core",
            "--nat-rule", f"masquerade 10.0.0.0/16 {outside} {lo}-{hi}"]
    if acl:
        opts += ["--acl-rule", "allow any 10.0.0.0/16 any any any",
                 "--acl-default", "deny", "--acl-stateful", "yes"]
    with tempfile.TemporaryDirectory() as d:
        txs = [os.path.join(d, "tx%d.pcap" % q) for q in range(nq)]
        vdev = "net_pcap0," + ",".join("tx_pcap=" + t for t in txs)
        out, err = run_capture(cap, EAL4 + ["--vdev", vdev], opts)
        sent = [f for t in txs for f in read_pcap(t)]
    c = counters(err)
    if acl:
        check(c["total acl-reply-accepted"] == str(len(flows)),
              f"replies accepted by session: {c['total acl-reply-accepted']}")
        check(c["total acl-dropped"] == "1", "the packet without a session is dropped")
    check(any(r.endswith("6 1 REJECT - OK") and " 29999 " in r for r in records(out)),
          "REJECT record for the packet without a session")
    check(not any(r.endswith("ACCEPT - OK") and " 29999 " in r for r in records(out)),
          "the packet without a session was logged as ACCEPT")
    check(c["nat no-session"] == "1", f"replies without a session: {c['nat no-session']}")
    check(c["total nat-dropped"] == ("0" if acl else "1") and c["total tx-dropped"] == "0",
          f"nat-dropped {c['total nat-dropped']}, tx-dropped {c['total tx-dropped']}")
    check(c["conservation"] == "ok", "conservation")
    check(len(sent) == 2 * len(flows) + 1, f"{len(sent)} packets transmitted")
    tuples = set()
    for f in sent:
        if f[14 + 9] in (6, 17):
            tuples.add(verify_checksums(f))
    for (src, sp, dst, dp, proto) in flows:
        p = mapping[(src, sp)]
        check((proto, g.A(outside), g.A(dst), p, dp) in tuples,
              f"{src}:{sp} -> {dst}:{dp} not sent as {outside}:{p}")
        check((proto, g.A(dst), g.A(src), dp, sp) in tuples,
              f"reply to {src}:{sp} not de-translated")
    # Records: post-NAT view == what was sent.
    rows = [r.split(" ") for r in records(out)]
    for r in rows:
        if r[-1] != "OK" or r[10] not in ("6", "17") or r[12] != "ACCEPT":
            continue
        t = (int(r[10]), g.A(r[6]), g.A(r[7]), int(r[8]), int(r[9]))
        check(t in tuples, f"record post view {r[6:11]} was not transmitted")
    icmp = [f for f in sent if f[14 + 9] == 1]
    check(len(icmp) == 1 and icmp[0][14 + 12:14 + 16] == g.A(outside),
          "ICMP echo leaves with the outside address")


def frag4(src, dst, proto, l4, ident, size=1480):
    """The IPv4 fragments of one datagram (payload l4)."""
    out, off = [], 0
    while off < len(l4):
        chunk, more = l4[off:off + size], off + size < len(l4)
        out.append(g.ipv4_hdr(g.A(src), g.A(dst), proto, len(chunk), ident,
                              ff=(0x2000 if more else 0) | off // 8) + chunk)
        off += size
    return out


def frag6(src, dst, nh, l4, ident, size=1448):
    """The IPv6 fragments of one datagram (payload l4), fragment header only."""
    out, off = [], 0
    while off < len(l4):
        chunk, more = l4[off:off + size], off + size < len(l4)
        out.append(g.ipv6_hdr(g.A(src), g.A(dst), 44, 8 + len(chunk)) +
                   struct.pack("!BBHI", nh, 0, off | int(more), ident) + chunk)
        off += size
    return out


def ip_frames(frames):
    """(family, src bytes, frag id, offset, more, proto, payload) of IP frames."""
    out = []
    for f in frames:
        et = struct.unpack("!H", f[12:14])[0]
        if et == 0x0800:
            ip = f[14:]
            ihl, tot = (ip[0] & 15) * 4, struct.unpack("!H", ip[2:4])[0]
            ff = struct.unpack("!H", ip[6:8])[0]
            out.append((4, ip[12:16], ip[16:20], struct.unpack("!H", ip[4:6])[0],
                        (ff & 0x1fff) * 8, bool(ff & 0x2000), ip[9], ip[ihl:tot]))
        elif et == 0x86dd:
            ip = f[14:]
            plen, nh = struct.unpack("!H", ip[4:6])[0], ip[6]
            body = ip[40:40 + plen]
            if nh == 44:
                fo, ident = struct.unpack("!HI", body[2:8])
                out.append((6, ip[8:24], ip[24:40], ident, fo & 0xfff8, bool(fo & 1), body[0],
                            body[8:]))
            else:
                out.append((6, ip[8:24], ip[24:40], None, 0, False, nh, body))
    return out


def case_masquerade_fragments():
    """IP fragments that reach dpflow unreassembled (a replay, net_pcap) under
    masquerade, with the sessions shared by 2 RX cores: every fragment of a
    datagram leaves translated like its first (UDP by its ports, ICMP and
    ICMPv6 echo by their identifier: later fragments only change address);
    each reassembled datagram's checksum is right for the outside address; a
    later fragment whose first fragment never came is dropped, counted and
    logged as REJECT, never sent with the inside address."""
    out4, out6 = "192.0.2.1", "2001:db8::1"
    cap = Capture()
    mac = (g.host_mac(g.A("198.51.100.1")), g.host_mac(g.A("10.0.0.5")))
    big = bytes(range(256)) * 12  # 3072 bytes: three fragments
    dgrams = [
        frag4("10.0.0.5", "198.51.100.1", 17,
              g.udp_dgram(g.A("10.0.0.5"), g.A("198.51.100.1"), 4000, 53, big), 0x101),
        frag4("10.0.0.5", "198.51.100.1", 1,
              g.icmp4(8, 0, struct.pack("!HH", 0x1111, 1), big), 0x102),
        frag6("fd00::5", "2001:db8:1::100", 58,
              g.icmp6(g.A("fd00::5"), g.A("2001:db8:1::100"), 128, 0,
                      struct.pack("!HH", 0x2222, 1) + big), 0x103),
        frag6("fd00::5", "2001:db8:1::100", 17,
              g.udp_dgram(g.A("fd00::5"), g.A("2001:db8:1::100"), 4001, 53, big), 0x104),
    ]
    for frags in dgrams:
        for ip in frags:
            cap.add(g.ether(mac[0], mac[1], g.ETH_IPV4 if ip[0] >> 4 == 4 else 0x86dd, ip))
    # Later fragments whose first fragment never came.
    cap.add(g.ether(mac[0], mac[1], g.ETH_IPV4,
                    frag4("10.0.0.6", "198.51.100.1", 17, b"\0" * 8 + big, 0x201)[1]))
    cap.add(g.ether(mac[0], mac[1], 0x86dd,
                    frag6("fd00::6", "2001:db8:1::100", 17, b"\0" * 8 + big, 0x202)[1]))
    with tempfile.TemporaryDirectory() as d:
        txs = [os.path.join(d, "tx%d.pcap" % q) for q in range(2)]
        vdev = "net_pcap0," + ",".join("tx_pcap=" + t for t in txs)
        out, err = run_capture(cap, EAL4 + ["--vdev", vdev], [
            "--rxq", "2", "--forward", "1:0", "--nat-sessions", "shared",
            "--nat-rule", f"masquerade 10.0.0.0/16 {out4}",
            "--nat-rule", f"masquerade fd00::/64 {out6}"])
        sent = ip_frames([f for t in txs for f in read_pcap(t)])
    c = counters(err)
    check(c["conservation"] == "ok", "conservation")
    for fam, src, *_ in sent:
        check(src in (g.A(out4), g.A(out6)), f"sent with source {src.hex()} (not translated)")
    check(len(sent) == 12, f"{len(sent)} fragments sent, want 12")
    check(c["total nat-dropped"] == "2", f"nat-dropped {c['total nat-dropped']}")
    rows = records(out)
    for orphan in ("10.0.0.6 198.51.100.1", "fd00::6 2001:db8:1::100"):
        check(any(f" {orphan} 0 0 {orphan} 0 0 17 1 REJECT " in r for r in rows),
              f"no REJECT record for the orphan fragment {orphan}: {rows}")
    # Reassemble what was sent: each datagram whole, its checksum right for
    # the outside address (the first fragment's checksum covers them all).
    whole = {}
    for fam, src, dst, ident, off, more, proto, payload in sent:
        whole.setdefault((fam, ident, proto, src, dst), {})[off] = payload
    check(len(whole) == 4, f"{len(whole)} datagrams sent, want 4")
    for (fam, ident, proto, src, dst), parts in whole.items():
        data = b"".join(parts[o] for o in sorted(parts))
        if proto == 1:
            ok = g.inet_csum(data) == 0
        else:
            ok = g._fold(g._sum16(g.pseudo(src, dst, proto, len(data)) + data)) == 0xFFFF
        check(ok, f"datagram {ident:#x} (protocol {proto}): checksum wrong after translation")
        check(len(data) == len(big) + 8, f"datagram {ident:#x}: {len(data)} bytes")


def case_forward_mtu():
    """Forward mode sends what the peer port can carry: an IPv4 datagram above
    its MTU (1500) leaves as fragments (rte_ip_frag; headers and checksums
    right, the data whole), while one with DF set and an IPv6 one (only its
    source may fragment it) are counted as tx-too-big and not logged; the
    records count what was sent."""
    cap = Capture()
    mac = (g.host_mac(g.A("198.51.100.1")), g.host_mac(g.A("10.0.0.5")))
    big = bytes(range(256)) * 12
    udp4 = g.udp_dgram(g.A("10.0.0.5"), g.A("198.51.100.1"), 4000, 53, big)
    cap.add(g.ether(mac[0], mac[1], g.ETH_IPV4,
                    g.ipv4_hdr(g.A("10.0.0.5"), g.A("198.51.100.1"), 17, len(udp4), 7, ff=0)
                    + udp4))
    cap.add(g.ether(mac[0], mac[1], g.ETH_IPV4,
                    g.ipv4_hdr(g.A("10.0.0.5"), g.A("198.51.100.2"), 17, len(udp4), 8,
                               ff=0x4000) + udp4))
    udp6 = g.udp_dgram(g.A("fd00::5"), g.A("2001:db8::9"), 4000, 53, big)
    cap.add(g.ether(mac[0], mac[1], 0x86dd, g.ipv6_hdr(g.A("fd00::5"), g.A("2001:db8::9"), 17,
                                                       len(udp6)) + udp6))
    cap.udp("10.0.0.5", 4001, "198.51.100.1", 53)
    with tempfile.TemporaryDirectory() as d:
        tx = os.path.join(d, "tx.pcap")
        out, err = run_capture(cap, EAL1 + ["--vdev", "net_pcap0,tx_pcap=" + tx],
                               ["--forward", "1:0"])
        raw = read_pcap(tx)
    sent = ip_frames(raw)
    c = counters(err)
    rows = records(out)
    check(not any("198.51.100.2" in r or "2001:db8::9" in r for r in rows),
          f"packets not sent were logged: {rows}")
    check(c["conservation"] == "ok", "conservation")
    check(c.get("total tx-fragmented") == "1" and c.get("total tx-too-big") == "2",
          f"tx-fragmented {c.get('total tx-fragmented')}, tx-too-big {c.get('total tx-too-big')}")
    frags = [x for x in sent if x[3] == 7]
    check(len(frags) == 3 and len(sent) == 4, f"sent {len(sent)} frames, {len(frags)} fragments")
    for f in raw:
        check(len(f) - 14 <= 1500, f"a frame of {len(f)} bytes left a port of MTU 1500")
        check(g.inet_csum(f[14:14 + (f[14] & 15) * 4]) == 0, "fragment header checksum")
    data = b"".join(x[7] for x in sorted(frags, key=lambda x: x[4]))
    check(data == udp4, "the fragments do not carry the datagram")
    check([x[5] for x in sorted(frags, key=lambda x: x[4])] == [True, True, False],
          "more-fragments flags")
    check("5 eni-port1 10.0.0.5 198.51.100.1 4000 53 10.0.0.5 198.51.100.1 4000 53 17 1 ACCEPT "
          "- OK" in rows, f"the fragmented datagram is one packet: {rows}")


def case_forward_short_frame():
    """A frame shorter than its IP total length (cut by the capture here; by
    an af_packet ring frame on a live port) cannot be sent whole: forward
    mode neither sends nor logs it and counts it (short-frames); monitor mode
    logs it with its full length, as before."""
    cap = Capture()
    cap.udp("10.0.0.1", 1000, "10.0.0.2", 2000, payload=b"y" * 400)
    cap.udp("10.0.0.1", 1001, "10.0.0.2", 2000)
    t, frame, _ = cap.frames[0]
    cap.frames[0] = (t, frame[:100], len(frame))
    with tempfile.TemporaryDirectory() as d:
        tx = os.path.join(d, "tx.pcap")
        out, err = run_capture(cap, EAL1 + ["--vdev", "net_pcap0,tx_pcap=" + tx],
                               ["--forward", "1:0"])
        raw = read_pcap(tx)
        mon_out, mon_err = run_capture(cap, EAL1, [])
    c = counters(err)
    check(c.get("total short-frames") == "1", f"short-frames {c.get('total short-frames')}")
    check(c["conservation"] == "ok", "conservation")
    check(len(raw) == 1 and struct.unpack("!H", raw[0][34:36])[0] == 1001,
          f"{len(raw)} frames sent")
    check(not any(" 1000 2000 " in r for r in records(out)), "the cut frame was logged")
    check(any(" 1000 2000 10.0.0.1 10.0.0.2 1000 2000 17 1 " in r for r in records(mon_out)),
          "monitor mode logs the cut frame")


def case_forward_tx_refused():
    """A packet the peer port refuses is not logged: 200 datagrams arrive on a
    net_pcap port and go to the replay port, whose TX rings nobody drains
    (63 fit); the record counts 63, tx-dropped the rest, conservation holds."""
    cap = Capture()
    for _ in range(200):
        cap.udp("10.0.0.1", 1000, "10.0.0.2", 2000)
    with tempfile.TemporaryDirectory() as d:
        rx, empty = os.path.join(d, "rx.pcap"), os.path.join(d, "empty.pcap")
        cap.write(rx)
        Capture().write(empty)
        rc, out, err = run(EAL1 + ["--vdev", "net_pcap0,rx_pcap=" + rx],
                           ["--replay", empty, "--forward", "0:1", "--output", "-",
                            "--window", "60", "--log-format", VIEW])
    check(rc == 0, f"exit {rc}: {err[-2000:]}")
    c = counters(err)
    sent, refused = int(c["total tx-packets"]), int(c["total tx-dropped"])
    check(sent + refused == 200 and refused > 0, f"sent {sent}, refused {refused}")
    check(c["conservation"] == "ok", "conservation")
    rows = [r for r in records(out) if not r.endswith("NODATA")]
    check(rows == [f"5 eni-port0 10.0.0.1 10.0.0.2 1000 2000 10.0.0.1 10.0.0.2 1000 2000 17 "
                   f"{sent} ACCEPT - OK"], f"records: {rows}")


def case_forward_static_dnat():
    """Forward mode with static and dnat rules and an ACL: every accepted
    packet is transmitted with exactly its record's post-NAT view (checksums
    recomputed), rejected ones are not transmitted."""
    cap = Capture()
    for i in range(20):
        cap.tcp("10.0.0.%d" % (i + 1), 40000 + i, "198.51.100.7", 443, flags=0x18,
                payload=b"x" * i)                                   # static outbound
        cap.udp("198.51.100.7", 53, "100.64.0.%d" % (i + 1), 5000 + i)  # static inbound
        cap.tcp("198.51.100.9", 50000 + i, "203.0.113.10", 443, flags=0x02)  # dnat
        cap.tcp("10.0.0.50", 8443, "198.51.100.9", 50000 + i, flags=0x12)   # dnat reply
        cap.udp("10.0.0.%d" % (i + 1), 6000, "198.51.100.8", 9999)  # denied
    with tempfile.TemporaryDirectory() as d:
        txs = [os.path.join(d, "tx%d.pcap" % q) for q in range(2)]
        vdev = "net_pcap0," + ",".join("tx_pcap=" + t for t in txs)
        out, err = run_capture(cap, EAL4 + ["--vdev", vdev], [
            "--rxq", "2", "--forward", "1:0",
            "--nat-rule", "static 10.0.0.0/24 100.64.0.0/24",
            "--nat-rule", "dnat tcp 203.0.113.10:443 10.0.0.50:8443",
            "--acl-rule", "deny udp any any any 9999"])
        sent = [f for t in txs for f in read_pcap(t)]
    check(len(sent) == 80, f"{len(sent)} packets transmitted, want 80")
    tuples = {}
    for f in sent:
        t = verify_checksums(f)
        tuples[t] = tuples.get(t, 0) + 1
    rows = [r.split(" ") for r in records(out)]
    seen = 0
    for r in rows:
        if r[-1] != "OK":
            continue
        t = (int(r[10]), g.A(r[6]), g.A(r[7]), int(r[8]), int(r[9]))
        if r[12] == "REJECT":
            check(t not in tuples, f"rejected flow {r[2:6]} was transmitted")
            continue
        check(tuples.get(t) == int(r[11]),
              f"record {r[2:12]}: post view transmitted {tuples.get(t)} times")
        seen += int(r[11])
    check(seen == 80, f"accepted packets in records: {seen}")
    c = counters(err)
    check(c["total acl-dropped"] == "20" and c["total nat-translated"] == "80",
          f"counters: {c['total acl-dropped']} dropped, {c['total nat-translated']} translated")


def case_nat_acl_determinism():
    """--rxq 1 and --rxq 4 still give byte-identical records with static NAT,
    a port forward and a stateful ACL (monitor mode)."""
    with tempfile.TemporaryDirectory() as d:
        pcap = os.path.join(d, "r.pcap")
        subprocess.run([sys.executable, os.environ["GENCAP"], "random", pcap, "--packets",
                        "60000", "--flows", "6000", "--seed", "21", "--window", "5",
                        "--pps", "10000"], check=True, capture_output=True)
        opts = ["--replay", pcap, "--window", "5", "--output", "-", "--log-format", VIEW,
                "--nat-rule", "static 10.1.0.0/16 100.64.0.0/16",
                "--nat-rule", "static 172.16.0.0/24 100.65.0.0/24",
                "--acl-rule", "allow tcp 10.0.0.0/8 any any 1-1023",
                "--acl-rule", "deny udp any any any any",
                "--acl-default", "deny", "--acl-stateful", "yes"]
        rc1, out1, err1 = run(EAL1, opts)
        check(rc1 == 0, f"rxq 1: {err1[-2000:]}")
        rc4, out4, err4 = run(EAL4, opts + ["--rxq", "4"])
        check(rc4 == 0, f"rxq 4: {err4[-2000:]}")
        check(out1 == out4, "rxq 1 and 4 differ: " + diff_text(out1, out4))
        rows = [r.split(" ") for r in out1.splitlines()[1:]]
        check(any(r[12] == "REJECT" for r in rows) and any(r[12] == "ACCEPT" for r in rows),
              "both verdicts present")
        check(any(r[2] != r[6] for r in rows if r[-1] == "OK"), "some flows were translated")


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}

if __name__ == "__main__":
    e2e.main(CASES)
