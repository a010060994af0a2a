#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""gencap.py - test captures for dpflow, with an independent model of its output.

Python 3 standard library only. Writes classic pcap files (magic a1b2c3d4,
version 2.4, LINKTYPE_ETHERNET, microsecond timestamps, snap length 65535
unless --snaplen says otherwise). Every IPv4 header checksum and every
TCP / UDP / ICMP / ICMPv6 / IGMP checksum is right; SCTP carries a correct
CRC32c (the scenario's malformed frames aside). Frames shorter than 60 bytes
are padded to 60 with zeros, as on the wire (dpflow must count the IP total
length, never the frame length).

Usage
-----
  gencap.py scenario OUT.pcap --expect OUT.expect.json [--window 60]
            [--start 1700000000] [--snaplen 65535] [--tso]
  gencap.py random OUT.pcap [--expect OUT.expect.json] [--truth OUT.tsv]
            --packets N --flows F [--seed 1] [--v6-share 0.2] [--window 60]
            [--start 1700000000] [--pps 100000] [--zipf 1.1] [--snaplen 65535]
  gencap.py fragments OUT.pcap [--expect OUT.expect.json] --datagrams N
            [--open 1000] [--seed 1] [--v6-share 0.3] [--window 60]
            [--start 1700000000]
  gencap.py overlay OUT.pcap [--expect OUT.expect.json] [--config OUT.conf]
            [--truth OUT.tsv] [--decap all|none|vxlan,geneve,gre,ipip]
            [--unmatched log|drop] [--vxlan-ports 4789,8472] [--window 60]
            [--start 1700000000] [--flows 0] [--seed 1]
  gencap.py convert IN.pcap OUT --linktype ethernet|sll|sll2|raw [--pcapng]
  gencap.py render EXPECT.json [--format 'FMT'] [--account-id A]
            [--interface-id I] [--vpc-id V] [--subnet-id S] [--instance-id I]
            [--region R] [--az-id Z] [--sublocation-type T]
            [--sublocation-id L] [--ext-version 2]

Regenerate the committed sample:
  tools/gencap.py scenario tests/data/sample.pcap --expect tests/data/sample.expect.json

scenario
  A deterministic hand-built capture: TCP handshake + data + FIN teardown in
  both directions (IPv4 with TCP options, IPv6), a RST-terminated connection,
  a SYN scan (one flow with a retransmitted SYN, a RST answer from a closed
  port), DNS over UDP, ICMP echo, ICMPv6 echo and neighbour solicitation to a
  multicast address, an IPv6 packet with hop-by-hop + destination-options
  headers, IPv4 with options (IGMP with Router Alert), 802.1Q and QinQ
  (0x88a8 outer, 0x8100 inner) frames of a flow that is also seen untagged,
  IPv4 fragments (in order; later fragments only; the last fragment before the
  first), an IPv6 fragmented datagram, a TCP frame cut by snap length, SCTP,
  GRE, non-IP frames (ARP, VLAN-tagged ARP, LLDP), malformed frames (truncated
  IPv4 header, IHL 4, truncated TCP header, a 10-byte frame), flows crossing a
  window boundary (with packets at the last and first microsecond of the two
  windows), one empty window, and a last window holding only non-IP frames.
  The first packet is at --start exactly; timestamps strictly increase. The
  layout adapts to any --window (1..3600): the windows after the first part
  are computed from the window boundaries. --snaplen (64 or more) cuts every
  frame, as tcpdump -s does; the model follows dpflow's documented rule
  (doc/records.md): a packet whose IP header (options, extension headers
  before L4) is cut is malformed; one whose TCP / UDP / SCTP header is cut
  keeps its ports if their 4 bytes were captured (else malformed), and a
  TCP header cut before its flags byte counts flags 0. --tso adds
  segmentation offload super-packets (IPv4 total length 0, IPv6 payload
  length 0, up to 5 852 bytes), modelled with the bytes captured from the IP
  header on as their length.

random
  N packets over about F unidirectional flows: F/2 conversations (TCP 70 %,
  UDP 25 %, ICMP 5 %; IPv6 share --v6-share), each opened by a packet in each
  direction (SYN / SYN-ACK, request / response, echo request / reply), then
  more packets in both directions picked by Zipf popularity (--zipf S over
  conversation ranks; 0 = uniform). TCP data packets carry ACK or PSH-ACK,
  now and then FIN, RST or URG/ECE/CWR. Frames of 60..1514 bytes; packet i
  at --start + floor(i * 1e6 / --pps) microseconds (strictly increasing up to
  1M pps). Clients: 10.1.0.0/16, 10.128.0.0/9 (ICMP), 2001:db8:1::/48,
  2001:db8:2::/48 (ICMPv6); servers 172.16.0.0/22 and 2001:db8:100::/48.
  Same arguments, same bytes. Streams to disk: 10M packets / 1M flows takes
  about 50 s and 170 MB here (per-flow arrays, no per-packet state).
  --truth writes the TSV read by ../shared/bench/flowcmp.py (its truth
  columns): header line, then per 5-tuple over the whole capture
      flow<TAB>src<TAB>dst<TAB>proto<TAB>sport<TAB>dport<TAB>packets<TAB>bytes
  (flow is a row number; bytes are IP total lengths). --expect writes the
  per-window model as for scenario (keeps per-window state: small N only).

fragments
  N UDP datagrams (72 bytes: ports from 1024.., payload 64) in three
  fragments each (24, 24 and 24 bytes of UDP), IPv4 and IPv6 (--v6-share),
  sources among 4000 hosts, destinations among 49: datagram i's first
  fragment at step i, its middle one at step i + open/2, its last at step
  i + open (10 us a step), so about --open datagrams are open at a time. The
  model (--expect) gives every later fragment its first fragment's ports, as
  an unbounded cache would.

overlay
  Tenant traffic in tunnels, as a hypervisor uplink sees it: VXLAN (UDP
  4789, and 8472 when --vxlan-ports has it), VXLAN over an IPv6 underlay,
  GENEVE with options, GRE with key (one with checksum and sequence number),
  NVGRE (VSID = the key's upper 24 bits; a GRE key of the same number
  is another flow), GRE without key, IPv4-in-IPv4 and
  IPv6-in-IPv4; GRE, GENEVE, IPv4-in-IPv6 and IPv6-in-IPv6 over an IPv6
  underlay too. Tenants A (VNI 100) and B (VNI 200) run the same inner
  connection 10.0.0.1:40000 -> 10.0.0.2:80; each direction leaves its VTEP
  with its own outer source port (an RFC 7348 hash of the inner headers); a
  client moves to another VTEP mid-connection (records keep the earliest
  packet's tunnel-src); two packets of one flow share a timestamp (the tie
  goes to the lower outer source). Tenant B's interfaces match the inner
  source MAC, destination MAC, inner VLAN, then the VNI alone. Also: a VNI
  with no tenant interface, VXLAN on an uplink VLAN whose section says decap
  = no, a VXLAN inside VXLAN (logged as the inner UDP flow to 4789),
  underlay packets, a second window, GENEVE carrying IPv4 without Ethernet,
  a GRE key above 2^24 (unmatched), GRE carrying MPLS and an outer IPv4
  fragmented VXLAN packet (both never opened: logged by the outer header,
  the fragments by the fragment rule), VXLAN on an outer VLAN without a
  section, an outer IPv4 header with options, an IPv6 underlay with a
  hop-by-hop header, a UDP datagram shorter than its IP payload, VXLAN-GBP
  flags and group policy id (ignored), inner QinQ (the outermost inner tag
  matches `vlan`), a VXLAN frame cut by the capture in the inner TCP header
  (logged with the inner IP length, flags 0) and one cut in the VXLAN
  header, and one frame per malformed reason (truncated-tunnel x4,
  bad-tunnel-header x4, bad-geneve-options, truncated-ipv4,
  truncated-ethernet and bad-ipv4-ihl inside tunnels, ARP inside VXLAN =
  not-ip). --flows N adds N random conversations (--seed) from the next
  window on: every tunnel type and tenant, overlapping inner addresses, IPv6
  inside, equal timestamps (ties) and VTEP moves (the earliest-packet rule).
  The capture never depends on the options but --flows and --seed; the model
  does: --decap (the tunnel types dpflow opens), --unmatched (a tunnel of no
  tenant interface is logged by its outer header, or counted unmatched and
  dropped), --vxlan-ports. --config writes the [dpflow] unmatched /
  vxlan-ports and the [interface] sections the model assumes (OVL_IFACES;
  --decap goes on dpflow's command line). --truth writes per frame what a
  dissector must see (tests/e2e/overlay.py checks it against tshark). The
  expect JSON gains: interface_id on every row; tunnel_type, tunnel_id ('-'
  for ipip and keyless GRE), tunnel_nvgre (the id is an NVGRE VSID, not a
  GRE key), tunnel_src, tunnel_dst on decapsulated records
  (bytes = the inner IP length); NODATA rows per interface and window
  (--inner-dir writes each tenant interface's inner packets as a plain
  capture, for tools/connmodel.py); malformed_by_reason, dropped (unmatched)
  and tally (tunnel-unmatched; tunnel-TYPE-packets and tunnel-TYPE-bytes:
  the packets logged as their inner flow and their inner IP bytes).

convert
  Writes the frames of a gencap capture as another link type would hold
  them: Linux cooked SLL or SLL2 (what tcpdump -i any writes: the source MAC
  as the link-layer address, the ethertype as the protocol, the rest of the
  frame, VLAN tags included, after the cooked header) or raw IP (the IP
  packet alone; frames that are not IP are left out), as classic pcap or
  pcapng (--pcapng). Timestamps and original lengths follow the frames; the
  model of the input capture stays the model of the output.

render
  Prints the header line and the expected record lines of EXPECT.json for an
  AWS format string (default: the version 2 default format). version: 2 for
  the default format, else the highest version of the selected fields; our
  extension fields pkt-srcport, pkt-dstport, tcp-flags-all, tunnel-type,
  tunnel-id, tunnel-src, tunnel-dst count as
  --ext-version (default 2, as lib/fmt/dpf_fmt.h and check-records have it).
  srcaddr = pkt-srcaddr, srcport = pkt-srcport (no NAT); action ACCEPT;
  flow-direction, traffic-path and the aws-service fields '-'; metadata not
  given '-'; NODATA rows print '-' for every flow field and the window bounds
  as start / end. account-id defaults to 'unknown', interface-id to
  'eni-00000000000000000' (a row's own interface_id wins); tunnel-* are '-'
  for records not decapsulated.

The model (expect JSON)
  {"window": W, "packets_total": N, "not_ip": a, "malformed": b,
   "records": [ {flow record}, {NODATA row}, ... ]}
  - flow = (srcaddr, dstaddr, srcport, dstport, protocol) as in the packet,
    unidirectional, ACCEPT, interface 0; VLAN tags do not change it.
  - window index = floor(t_us / (W * 1e6)), windows aligned to Unix time.
  - per (window, flow): packets; bytes = sum of IP total length (IPv4 total
    length, IPv6 payload length + 40, full length for snap-cut frames);
    start / end = floor(min / max t in seconds); tcp_flags = OR of
    (flags & 7) | (16 if SYN and ACK); tcp_flags_all = OR of flag bytes.
  - ports: TCP / UDP / SCTP; 0 for ICMP, ICMPv6, GRE, IGMP, ... A later IP
    fragment (offset > 0) takes the ports of its datagram's first fragment
    (same family, src, dst, protocol, id) when that one came earlier in the
    capture, else 0.
  - non-IP frames count in not_ip, malformed frames in malformed; neither is
    logged, both are in packets_total and in the window range.
  - NODATA row (start = window start, end = start + W) for every window from
    the first packet's to the last packet's with no flow record, except in a
    run of more than GAP_NODATA_WINDOWS (60) such windows between two windows
    with packets: only its first and last window get a NODATA row; the
    windows between are counted in "gap_windows" (dpflow's pipeline
    gap-windows, doc/records.md).
  - order: windows by time; records by (family 4 before 6, src bytes, dst
    bytes, protocol, srcport, dstport).
  Flow records: window_start, srcaddr, dstaddr, srcport, dstport, protocol,
  packets, bytes, start, end, tcp_flags, tcp_flags_all, type, log_status "OK".
  NODATA rows: window_start, log_status "NODATA", start, end.
  Addresses are written as Python's ipaddress str() (the scenario uses no
  IPv4-mapped IPv6 address, where that form and inet_ntop's may differ).
"""

import argparse
import bisect
import ipaddress
import itertools
import json
import random as _random
import re
import struct
import sys
import time
from array import array

PCAP_GLOBAL = struct.Struct("<IHHiIII")
PCAP_REC = struct.Struct("<IIII")
LINKTYPE_ETHERNET = 1
US = 1_000_000
# doc/records.md: longer runs of windows without a packet get 2 NODATA rows.
GAP_NODATA_WINDOWS = 60

ETH_IPV4, ETH_IPV6, ETH_ARP, ETH_VLAN, ETH_QINQ, ETH_LLDP = (
    0x0800, 0x86DD, 0x0806, 0x8100, 0x88A8, 0x88CC)
FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 1, 2, 4, 8, 16, 32, 64, 128


# ---------------------------------------------------------------- checksums

def _sum16(data):
    if len(data) & 1:
        data += b"\0"
    return sum(struct.unpack("!%dH" % (len(data) // 2), data))


def _fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def inet_csum(data):
    return ~_fold(_sum16(data)) & 0xFFFF


def pseudo(src, dst, proto, length):
    if len(src) == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!I3xB", length, proto)


def l4_csum(src, dst, proto, seg, udp=False):
    c = inet_csum(pseudo(src, dst, proto, len(seg)) + seg)
    if udp and c == 0:
        c = 0xFFFF
    return c


_CRC32C = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC32C.append(_c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


# ------------------------------------------------------------ L4 builders

def tcp_seg(src, dst, sport, dport, seq, ack, flags, payload=b"", opts=b"",
            win=64240):
    assert len(opts) % 4 == 0
    off = (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags,
                    win, 0, 0) + opts
    seg = h + payload
    c = l4_csum(src, dst, 6, seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp_dgram(src, dst, sport, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = l4_csum(src, dst, 17, seg, udp=True)
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def icmp4(typ, code, rest, payload=b""):
    m = struct.pack("!BBH", typ, code, 0) + rest + payload
    return m[:2] + struct.pack("!H", inet_csum(m)) + m[4:]


def icmp6(src, dst, typ, code, body):
    m = struct.pack("!BBH", typ, code, 0) + body
    c = l4_csum(src, dst, 58, m)
    return m[:2] + struct.pack("!H", c) + m[4:]


def sctp_pkt(sport, dport, vtag, chunks):
    p = struct.pack("!HHII", sport, dport, vtag, 0) + chunks
    return p[:8] + struct.pack("<I", crc32c(p)) + p[12:]


def sctp_chunk(typ, flags, value):
    ch = struct.pack("!BBH", typ, flags, 4 + len(value)) + value
    return ch + b"\0" * (-len(ch) % 4)


# ------------------------------------------------------------ L3 builders

def ipv4_hdr(src, dst, proto, payload_len, ident, ttl=64, ff=0x4000, opts=b"",
             tos=0, ihl=None, total_len=None):
    assert len(opts) % 4 == 0
    hl = 20 + len(opts)
    if ihl is None:
        ihl = hl // 4
    if total_len is None:
        total_len = hl + payload_len
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, total_len, ident, ff,
                    ttl, proto, 0, src, dst) + opts
    return h[:10] + struct.pack("!H", inet_csum(h)) + h[12:]


def ipv6_hdr(src, dst, nh, payload_len, hlim=64, flow=0):
    return struct.pack("!IHBB16s16s", (6 << 28) | flow, payload_len, nh, hlim,
                       src, dst)


def ether(dst, src, etype, body, vlans=(), pad=True):
    """vlans: (tpid, vid) outermost first."""
    f = bytes.fromhex(dst.replace(":", "")) + bytes.fromhex(src.replace(":", ""))
    for tpid, vid in vlans:
        f += struct.pack("!HH", tpid, vid & 0xFFF)
    f += struct.pack("!H", etype) + body
    if pad and len(f) < 60:
        f += b"\0" * (60 - len(f))
    return f


def A(s):
    return ipaddress.ip_address(s).packed


# ------------------------------------------------------------------ model

class Model:
    """Independent model of dpflow's records for one logged interface."""

    def __init__(self, window, ifaces=None):
        """ifaces: the interface ids of a run with several logged interfaces
        (every flow names its interface, each one gets its NODATA rows);
        None: one interface, records without an interface_id."""
        self.window = window
        self.wus = window * US
        self.ifaces = ifaces
        self.recs = {}
        self.frag = {}
        self.total = self.not_ip = self.malformed = 0
        self.reasons = {}      # malformed reason -> packets
        self.dropped = {}      # other named counters a packet ends in (unmatched)
        self.tally = {}        # side counters that do not own a packet
        self.first = self.last = None
        self.seen_windows = set()

    def _seen(self, t):
        self.total += 1
        self.seen_windows.add(t // self.wus)
        if self.first is None or t < self.first:
            self.first = t
        if self.last is None or t > self.last:
            self.last = t

    def note_not_ip(self, t):
        self._seen(t)
        self.not_ip += 1

    def note_malformed(self, t, reason=None):
        self._seen(t)
        self.malformed += 1
        if reason is not None:
            self.reasons[reason] = self.reasons.get(reason, 0) + 1

    def note_dropped(self, t, counter):
        """A packet not logged that ends in the named counter."""
        self._seen(t)
        self.dropped[counter] = self.dropped.get(counter, 0) + 1

    def count(self, name, n=1):
        self.tally[name] = self.tally.get(name, 0) + n

    def note_flow(self, t, fam, src, dst, proto, sport, dport, iplen, flags=0,
                  frag=None, iface="", tunnel=None):
        """frag: None, ('first', id) or ('later', id). iface: the logged
        interface (with ifaces). tunnel: None, or (type, id text, outer
        source, outer destination) of a decapsulated packet: the flow key
        holds type and id (an NVGRE VSID as 'vsid:N': a GRE key and a VSID
        of one number are two flows, printed alike); the record keeps the
        outer addresses of its earliest packet (ties: the lower outer
        source)."""
        self._seen(t)
        if frag is not None:
            fk = (fam, src, dst, proto, frag[1])
            if frag[0] == "first":
                self.frag[fk] = (sport, dport)
            else:
                sport, dport = self.frag.get(fk, (0, 0))
        if proto not in (6, 17, 132):
            sport = dport = 0
        if proto != 6:
            flags = 0
        ttype, tid = tunnel[:2] if tunnel else ("", "")
        k = (t // self.wus, iface, ttype, tid, fam, src, dst, proto, sport, dport)
        r = self.recs.get(k)
        aws = (flags & 7) | (16 if flags & 0x12 == 0x12 else 0)
        outer = (t, tunnel[2], tunnel[3]) if tunnel else None
        if r is None:
            self.recs[k] = [1, iplen, t, t, aws, flags, outer]
        else:
            if outer is not None and outer[:2] < r[6][:2]:
                r[6] = outer
            r[0] += 1
            r[1] += iplen
            if t < r[2]:
                r[2] = t
            if t > r[3]:
                r[3] = t
            r[4] |= aws
            r[5] |= flags

    def _empty_windows(self, busy):
        """Windows that get a NODATA row, and the count of those that do not:
        every window from the first packet's to the last packet's without a
        flow record, runs of more than GAP_NODATA_WINDOWS reduced to their
        first and last window."""
        rows, gap = [], 0
        for a, b in zip(busy, busy[1:]):
            n = b - a - 1
            if n <= GAP_NODATA_WINDOWS:
                rows += range(a + 1, b)
            else:
                rows += [a + 1, b - 1]
                gap += n - 2
        return rows, gap

    def _record(self, ws, k):
        _, iface, ttype, tid, fam, src, dst, proto, sp, dp = k
        r = self.recs[k]
        rec = {"window_start": ws}
        if self.ifaces is not None:
            rec["interface_id"] = iface
        rec.update({
            "srcaddr": str(ipaddress.ip_address(src)),
            "dstaddr": str(ipaddress.ip_address(dst)),
            "srcport": sp, "dstport": dp, "protocol": proto,
            "packets": r[0], "bytes": r[1],
            "start": r[2] // US, "end": r[3] // US,
            "tcp_flags": r[4], "tcp_flags_all": r[5],
            "type": "IPv%d" % fam, "log_status": "OK"})
        if ttype:
            rec.update({"tunnel_type": ttype, "tunnel_id": tid.split(":")[-1],
                        "tunnel_nvgre": tid.startswith("vsid:"),
                        "tunnel_src": str(ipaddress.ip_address(r[6][1])),
                        "tunnel_dst": str(ipaddress.ip_address(r[6][2]))})
        return rec

    def result(self):
        out = []
        gap = 0
        if self.first is not None:
            by_win = {}
            for k in sorted(self.recs):
                by_win.setdefault(k[0], []).append(k)
            # Windows with any packet (a record, or only non-IP / malformed
            # frames: those get NODATA too, but bound the gaps).
            busy = sorted(set(by_win) | self.seen_windows)
            empty, gap = self._empty_windows(busy)
            for w in sorted(set(by_win) | set(empty) | self.seen_windows):
                ws = w * self.window
                keys = by_win.get(w, [])
                out += [self._record(ws, k) for k in keys]
                nodata = {"window_start": ws, "log_status": "NODATA",
                          "start": ws, "end": ws + self.window}
                if self.ifaces is None:
                    if not keys:
                        out.append(nodata)
                    continue
                busy_if = {k[1] for k in keys}
                out += [dict(nodata, interface_id=i) for i in self.ifaces
                        if i not in busy_if]
        res = {"window": self.window, "packets_total": self.total,
               "not_ip": self.not_ip, "malformed": self.malformed,
               "gap_windows": gap, "records": out}
        if self.ifaces is not None:
            res["malformed_by_reason"] = dict(sorted(self.reasons.items()))
            res["dropped"] = dict(sorted(self.dropped.items()))
            res["tally"] = dict(sorted(self.tally.items()))
        return res


def write_expect(path, res):
    with open(path, "w") as f:
        f.write("{\n")
        for k in ("window", "packets_total", "not_ip", "malformed", "gap_windows"):
            f.write(' "%s": %d,\n' % (k, res[k]))
        for k in ("malformed_by_reason", "dropped", "tally"):
            if k in res:
                f.write(' "%s": %s,\n' % (k, json.dumps(res[k])))
        f.write(' "records": [\n')
        n = len(res["records"])
        for i, r in enumerate(res["records"]):
            f.write("  " + json.dumps(r) + (",\n" if i + 1 < n else "\n"))
        f.write(" ]\n}\n")


def pcap_header(snaplen):
    return PCAP_GLOBAL.pack(0xA1B2C3D4, 2, 4, 0, 0, snaplen, LINKTYPE_ETHERNET)


# --------------------------------------------------------------- scenario

MAC_C, MAC_S, MAC_R = "02:00:0a:00:00:01", "02:00:c0:00:02:0a", "02:00:0a:00:00:fe"
BCAST = "ff:ff:ff:ff:ff:ff"


def host_mac(addr):
    """A locally administered MAC per host: 02:00 + the address's last 4 bytes."""
    return "02:00:" + ":".join("%02x" % b for b in addr[-4:])


class Scenario:
    def __init__(self, model, snaplen):
        self.m = model
        self.snaplen = snaplen
        self.frames = []     # (t_us, captured bytes, original length)
        self.ident = 0x1000

    def _add(self, t, frame, caplen=None):
        if self.frames:
            assert t > self.frames[-1][0], "timestamps must strictly increase"
        cap = frame[:min(caplen or len(frame), self.snaplen)]
        self.frames.append((t, cap, len(frame)))
        return len(cap)

    @staticmethod
    def _cut(captured, l3, hdr_len, proto, later):
        """What a capture cut does to an IP packet whose IP header (with
        IPv4 options or the IPv6 extension headers before L4) is hdr_len
        bytes at l3: None when it is malformed, else whether its TCP flags
        were captured. The IP header must be whole; a transport header that
        has ports (or ICMP's type and code) needs its first 4 bytes; TCP
        flags are byte 13 of the header."""
        if captured < l3 + hdr_len:
            return None
        l4 = l3 + hdr_len
        if not later and proto in (1, 6, 17, 58, 132, 136) and captured < l4 + 4:
            return None
        return not (proto == 6 and captured < l4 + 14)

    def _id(self):
        self.ident = (self.ident + 1) & 0xFFFF
        return self.ident

    # raw frames with their classification
    def not_ip(self, t, frame):
        self._add(t, frame)
        self.m.note_not_ip(t)

    def malformed(self, t, frame, caplen=None):
        self._add(t, frame, caplen)
        self.m.note_malformed(t)

    # IP packets: l4 is the IP payload as carried by this packet
    def _ip(self, t, fam, s, d, frame, l3, hdr_len, proto, ports, flags, frag, caplen,
            iplen):
        """iplen None: the length field is 0 (a TSO super-packet): the model
        counts the bytes captured from the IP header on."""
        captured = self._add(t, frame, caplen)
        later = frag is not None and frag[0] == "later"
        flags_known = self._cut(captured, l3, hdr_len, proto, later)
        if flags_known is None:
            self.m.note_malformed(t)
            return
        self.m.note_flow(t, fam, s, d, proto, ports[0], ports[1],
                         captured - l3 if iplen is None else iplen,
                         flags if flags_known else 0, frag)

    def ip4(self, t, src, dst, proto, l4, ports=(0, 0), flags=0, ident=None,
            ff=0x4000, opts=b"", vlans=(), caplen=None, frag=None, ttl=64,
            mac=None, tso=False):
        s, d = A(src), A(dst)
        mac = mac or (host_mac(d), host_mac(s))
        ip = ipv4_hdr(s, d, proto, len(l4), self._id() if ident is None else ident,
                      ttl=ttl, ff=ff, opts=opts, total_len=0 if tso else None) + l4
        self._ip(t, 4, s, d, ether(mac[0], mac[1], ETH_IPV4, ip, vlans), 14 + 4 * len(vlans),
                 20 + len(opts), proto, ports, flags, frag, caplen, None if tso else len(ip))

    def ip6(self, t, src, dst, nh, body, proto, ports=(0, 0), flags=0,
            vlans=(), caplen=None, frag=None, hlim=64, mac=None, l4_at=0, tso=False):
        """l4_at: bytes of extension headers in body before the L4 header
        (for a later fragment, up to the end of the fragment header)."""
        s, d = A(src), A(dst)
        mac = mac or (host_mac(d), host_mac(s))
        ip = ipv6_hdr(s, d, nh, 0 if tso else len(body), hlim) + body
        self._ip(t, 6, s, d, ether(mac[0], mac[1], ETH_IPV6, ip, vlans), 14 + 4 * len(vlans),
                 40 + l4_at, proto, ports, flags, frag, caplen, None if tso else len(ip))

    def tcp(self, t, src, dst, sp, dp, flags, seq, ack, payload=b"", opts=b"",
            **kw):
        seg = tcp_seg(A(src), A(dst), sp, dp, seq, ack, flags, payload, opts)
        if ":" in src:
            self.ip6(t, src, dst, 6, seg, 6, (sp, dp), flags, **kw)
        else:
            self.ip4(t, src, dst, 6, seg, (sp, dp), flags, **kw)

    def udp(self, t, src, dst, sp, dp, payload, **kw):
        seg = udp_dgram(A(src), A(dst), sp, dp, payload)
        if ":" in src:
            self.ip6(t, src, dst, 17, seg, 17, (sp, dp), **kw)
        else:
            kw.setdefault("ff", 0)
            self.ip4(t, src, dst, 17, seg, (sp, dp), **kw)

    def ping(self, t, src, dst, reply, ident, seq, payload, **kw):
        if ":" in src:
            m = icmp6(A(src), A(dst), 129 if reply else 128, 0,
                      struct.pack("!HH", ident, seq) + payload)
            self.ip6(t, src, dst, 58, m, 58, **kw)
        else:
            m = icmp4(0 if reply else 8, 0, struct.pack("!HH", ident, seq), payload)
            self.ip4(t, src, dst, 1, m, ff=0, **kw)


def dns_name(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


def dns_query(qid, name):
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + dns_name(name) + \
        struct.pack("!HH", 1, 1)


def dns_answer(qid, name, addr):
    return struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + dns_name(name) + \
        struct.pack("!HH", 1, 1) + struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + A(addr)


def text(n, seed):
    base = ("dpflow test payload %d " % seed).encode()
    return (base * (n // len(base) + 1))[:n]


SYN_OPTS = bytes.fromhex("020405b4" "0402" "080a0001e24000000000" "01" "030307")
SYNACK_OPTS = bytes.fromhex("020405b4" "0402" "080a00a1b2c30001e240" "01" "030307")


def build_scenario(start, window, snaplen, tso=False):
    m = Model(window)
    sc = Scenario(m, snaplen)
    W = window * US
    t = start * US

    def at(dt_us):
        nonlocal t
        t += dt_us
        return t

    # ---- part 1: one of everything, starting at --start exactly
    # ARP request: the first packet of the capture is not IP
    arp = struct.pack("!HHBBH6s4s6s4s", 1, ETH_IPV4, 6, 4, 1,
                      bytes.fromhex("02000a000001"), A("10.0.0.1"), b"\0" * 6,
                      A("10.0.0.254"))
    sc.not_ip(t, ether(BCAST, MAC_C, ETH_ARP, arp))
    arp_r = struct.pack("!HHBBH6s4s6s4s", 1, ETH_IPV4, 6, 4, 2,
                        bytes.fromhex("02000a0000fe"), A("10.0.0.254"),
                        bytes.fromhex("02000a000001"), A("10.0.0.1"))
    sc.not_ip(at(150), ether(MAC_C, MAC_R, ETH_ARP, arp_r))

    # TCP connection A: 10.0.0.1:40000 -> 192.0.2.10:80, handshake with
    # options, data both ways (one server segment cut by snap length), FIN
    # teardown from both sides. Spans ~2 s so start != end.
    c, s, cp, spt = "10.0.0.1", "192.0.2.10", 40000, 80
    cs, ss = 1000, 5000
    sc.tcp(at(1000), c, s, cp, spt, SYN, cs, 0, opts=SYN_OPTS)
    sc.tcp(at(310), s, c, spt, cp, SYN | ACK, ss, cs + 1, opts=SYNACK_OPTS)
    cs += 1; ss += 1
    sc.tcp(at(290), c, s, cp, spt, ACK, cs, ss)
    req = b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n"
    sc.tcp(at(120), c, s, cp, spt, PSH | ACK, cs, ss, req)
    cs += len(req)
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 1960\r\n\r\n" + text(500 - 41, 1)
    sc.tcp(at(400), s, c, spt, cp, ACK, ss, cs, resp)
    ss += len(resp)
    # snap-length cut (a full-size segment): IP total length 1500, only 128 bytes captured
    sc.tcp(at(15), s, c, spt, cp, ACK, ss, cs, text(1460, 2), caplen=128)
    ss += 1460
    sc.tcp(at(200), c, s, cp, spt, ACK, cs, ss)
    sc.tcp(at(1_300_000), s, c, spt, cp, PSH | ACK, ss, cs, text(41, 3))
    ss += 41
    sc.tcp(at(250), c, s, cp, spt, ACK, cs, ss)
    sc.tcp(at(700_000), c, s, cp, spt, FIN | ACK, cs, ss)
    cs += 1
    sc.tcp(at(300), s, c, spt, cp, FIN | ACK, ss, cs)
    ss += 1
    sc.tcp(at(280), c, s, cp, spt, ACK, cs, ss)

    # long-lived TCP connection E (crosses windows later): handshake now
    ec, es, ecp, esp = "10.0.0.7", "198.51.100.80", 41000, 8443
    ecs, ess = 70000, 90000
    sc.tcp(at(10_000), ec, es, ecp, esp, SYN, ecs, 0, opts=SYN_OPTS)
    sc.tcp(at(400), es, ec, esp, ecp, SYN | ACK, ess, ecs + 1, opts=SYNACK_OPTS)
    ecs += 1; ess += 1
    sc.tcp(at(380), ec, es, ecp, esp, ACK, ecs, ess)

    # connection B ended by RST: 10.0.0.2:40001 -> 192.0.2.11:443
    c, s, cp, spt = "10.0.0.2", "192.0.2.11", 40001, 443
    cs, ss = 300, 800
    sc.tcp(at(50_000), c, s, cp, spt, SYN, cs, 0, opts=SYN_OPTS)
    sc.tcp(at(250), s, c, spt, cp, SYN | ACK, ss, cs + 1, opts=SYNACK_OPTS)
    cs += 1; ss += 1
    sc.tcp(at(240), c, s, cp, spt, ACK, cs, ss)
    sc.tcp(at(100), c, s, cp, spt, PSH | ACK, cs, ss, text(517, 4))
    cs += 517
    sc.tcp(at(900), s, c, spt, cp, RST | ACK, ss, cs)

    # SYN scan from 203.0.113.66: port 22 twice (retransmission), 23 (closed:
    # RST-ACK answer), 3389 (no answer)
    sc.tcp(at(100_000), "203.0.113.66", "10.0.0.1", 55555, 22, SYN, 7777, 0)
    sc.tcp(at(50), "203.0.113.66", "10.0.0.1", 55555, 23, SYN, 7777, 0)
    sc.tcp(at(90), "10.0.0.1", "203.0.113.66", 23, 55555, RST | ACK, 0, 7778)
    sc.tcp(at(60), "203.0.113.66", "10.0.0.1", 55555, 3389, SYN, 7777, 0)
    sc.tcp(at(1_000_000), "203.0.113.66", "10.0.0.1", 55555, 22, SYN, 7777, 0)

    # DNS over UDP
    sc.udp(at(30_000), "10.0.0.1", "198.51.100.53", 53000, 53,
           dns_query(0x1234, "www.example.com"))
    sc.udp(at(12_000), "198.51.100.53", "10.0.0.1", 53, 53000,
           dns_answer(0x1234, "www.example.com", "192.0.2.10"))

    # ICMP echo, two requests and two replies
    for i in range(2):
        sc.ping(at(200_000), "10.0.0.1", "192.0.2.10", False, 0x77, i + 1, text(56, 5))
        sc.ping(at(800), "192.0.2.10", "10.0.0.1", True, 0x77, i + 1, text(56, 5))

    # IGMPv2 report with an IPv4 option (Router Alert, IHL 6), TTL 1
    igmp = struct.pack("!BBH4s", 0x16, 0, 0, A("239.1.1.1"))
    igmp = igmp[:2] + struct.pack("!H", inet_csum(igmp)) + igmp[4:]
    sc.ip4(at(5_000), "10.0.0.1", "239.1.1.1", 2, igmp, ff=0, ttl=1,
           opts=b"\x94\x04\x00\x00", mac=("01:00:5e:01:01:01", MAC_C))

    # IPv6 TCP connection with FIN teardown
    c6, s6, cp, spt = "2001:db8:0:1::10", "2001:db8:2::80", 50000, 443
    cs, ss = 11, 22
    sc.tcp(at(40_000), c6, s6, cp, spt, SYN, cs, 0, opts=SYN_OPTS)
    sc.tcp(at(350), s6, c6, spt, cp, SYN | ACK, ss, cs + 1, opts=SYNACK_OPTS)
    cs += 1; ss += 1
    sc.tcp(at(330), c6, s6, cp, spt, ACK, cs, ss)
    sc.tcp(at(100), c6, s6, cp, spt, PSH | ACK, cs, ss, text(300, 6))
    cs += 300
    sc.tcp(at(2_000), s6, c6, spt, cp, PSH | ACK, ss, cs, text(600, 7))
    ss += 600
    sc.tcp(at(150), c6, s6, cp, spt, FIN | ACK, cs, ss)
    cs += 1
    sc.tcp(at(350), s6, c6, spt, cp, FIN | ACK, ss, cs)
    ss += 1
    sc.tcp(at(330), c6, s6, cp, spt, ACK, cs, ss)

    # ICMPv6: echo request / reply (the second reply on 802.1Q VLAN 300),
    # neighbour solicitation to a solicited-node multicast address
    sc.ping(at(20_000), c6, s6, False, 0x42, 1, text(32, 8))
    sc.ping(at(400), s6, c6, True, 0x42, 1, text(32, 8))
    sc.ping(at(1_000_000), c6, s6, False, 0x42, 2, text(32, 8))
    sc.ping(at(400), s6, c6, True, 0x42, 2, text(32, 8), vlans=((ETH_VLAN, 300),))
    ns_dst = "ff02::1:ff00:80"
    ns = icmp6(A(c6), A(ns_dst), 135, 0, b"\0\0\0\0" + A(s6) +
               b"\x01\x01" + bytes.fromhex("020000000010"))
    sc.ip6(at(3_000), c6, ns_dst, 58, ns, 58, hlim=255,
           mac=("33:33:ff:00:00:80", host_mac(A(c6))))

    # IPv6 UDP behind hop-by-hop (Router Alert + PadN) and destination
    # options (PadN) headers; destination with two equal zero runs
    d6 = "2001:db8:0:0:1:0:0:1"
    udp6 = udp_dgram(A(c6), A(d6), 40404, 9999, text(64, 9))
    hbh = bytes([60, 0, 5, 2, 0, 0, 1, 0])
    dst_opts = bytes([17, 0, 1, 4, 0, 0, 0, 0])
    sc.ip6(at(10_000), c6, d6, 0, hbh + dst_opts + udp6, 17, (40404, 9999), l4_at=16)

    # one UDP flow seen on 802.1Q VLAN 100, on QinQ (0x88a8 200 / 0x8100
    # 100) and untagged: one record, three packets
    for vl in (((ETH_VLAN, 100),), ((ETH_QINQ, 200), (ETH_VLAN, 100)), ()):
        sc.udp(at(7_000), "10.1.0.5", "10.1.0.6", 1234, 5678, text(100, 10), vlans=vl)
    # ICMP echo over QinQ only
    sc.ping(at(3_000), "10.2.0.1", "10.2.0.2", False, 9, 1, text(24, 11),
            vlans=((ETH_QINQ, 201), (ETH_VLAN, 101)))
    sc.ping(at(500), "10.2.0.2", "10.2.0.1", True, 9, 1, text(24, 11),
            vlans=((ETH_QINQ, 201), (ETH_VLAN, 101)))
    # VLAN-tagged ARP is still not IP
    sc.not_ip(at(2_000), ether(BCAST, MAC_C, ETH_ARP, arp, vlans=((ETH_VLAN, 100),)))

    # IPv4 fragments of one UDP datagram (1200 bytes of UDP), in order
    fs, fd = A("10.0.0.3"), A("192.0.2.20")
    dg = udp_dgram(fs, fd, 5000, 6000, text(1192, 12))
    for off, chunk, mf in ((0, dg[:480], True), (480, dg[480:960], True),
                           (960, dg[960:], False)):
        sc.ip4(at(1_000 if off else 20_000), "10.0.0.3", "192.0.2.20", 17, chunk,
               (5000, 6000) if off == 0 else (0, 0), ident=0x1234,
               ff=(0x2000 if mf else 0) | (off // 8),
               frag=("first" if off == 0 else "later", 0x1234))
    # later fragments only (the first one was never seen): ports 0
    lost = udp_dgram(A("10.0.0.4"), A("192.0.2.21"), 5001, 6001, text(1052, 13))
    sc.ip4(at(15_000), "10.0.0.4", "192.0.2.21", 17, lost[480:960],
           ident=0x4321, ff=0x2000 | 60, frag=("later", 0x4321))
    sc.ip4(at(1_000), "10.0.0.4", "192.0.2.21", 17, lost[960:],
           ident=0x4321, ff=120, frag=("later", 0x4321))
    # the last fragment before the first: the last gets ports 0, the first
    # carries the ports
    ooo = udp_dgram(A("10.0.0.9"), A("192.0.2.22"), 7777, 8888, text(992, 16))
    sc.ip4(at(9_000), "10.0.0.9", "192.0.2.22", 17, ooo[800:], ident=0x0BAD,
           ff=100, frag=("later", 0x0BAD))
    sc.ip4(at(700), "10.0.0.9", "192.0.2.22", 17, ooo[:800], (7777, 8888),
           ident=0x0BAD, ff=0x2000, frag=("first", 0x0BAD))

    # IPv6 fragmented UDP datagram (712 bytes of UDP): first + last
    f6d = "2001:db8:2::53"
    dg6 = udp_dgram(A(c6), A(f6d), 33000, 9997, text(704, 17))
    fid = 0xABCDEF01
    sc.ip6(at(20_000), c6, f6d, 44,
           struct.pack("!BBHI", 17, 0, (0 << 3) | 1, fid) + dg6[:512], 17,
           (33000, 9997), frag=("first", fid), l4_at=8)
    sc.ip6(at(1_000), c6, f6d, 44,
           struct.pack("!BBHI", 17, 0, (512 // 8) << 3, fid) + dg6[512:], 17,
           frag=("later", fid), l4_at=8)

    # SCTP INIT / INIT ACK
    sa, sb = "10.0.0.5", "192.0.2.30"
    init = sctp_chunk(1, 0, struct.pack("!IIHHI", 0x11223344, 65536, 10, 10, 1))
    sc.ip4(at(30_000), sa, sb, 132, sctp_pkt(49152, 2905, 0, init), (49152, 2905))
    cookie = struct.pack("!HH", 7, 4 + 16) + text(16, 18)
    init_ack = sctp_chunk(2, 0, struct.pack("!IIHHI", 0x55667788, 65536, 10, 10, 1)
                          + cookie)
    sc.ip4(at(600), sb, sa, 132, sctp_pkt(2905, 49152, 0x11223344, init_ack),
           (2905, 49152))

    # GRE (protocol 47) carrying an IPv4 ICMP echo: the flow is the outer one
    for i in range(2):
        inner_icmp = icmp4(8, 0, struct.pack("!HH", 3, i + 1), text(32, 19))
        inner = ipv4_hdr(A("172.16.0.1"), A("172.16.0.2"), 1, len(inner_icmp),
                         0x2000 + i, ff=0) + inner_icmp
        sc.ip4(at(25_000 if i == 0 else 1_000), "10.0.0.6", "192.0.2.40", 47,
               struct.pack("!HH", 0, ETH_IPV4) + inner)

    # LLDP (not IP)
    lldp = (struct.pack("!H", (1 << 9) | 7) + b"\x04" + bytes.fromhex("02000a000001")
            + struct.pack("!H", (2 << 9) | 5) + b"\x05" + b"eth0"
            + struct.pack("!H", (3 << 9) | 2) + struct.pack("!H", 120)
            + struct.pack("!H", 0))
    sc.not_ip(at(40_000), ether("01:80:c2:00:00:0e", MAC_C, ETH_LLDP, lldp))

    if tso:
        # Segmentation offload super-packets captured on the sending host
        # (TSO, GSO, BIG TCP): IPv4 total length 0, IPv6 payload length 0;
        # each is logged with the bytes captured from the IP header on.
        c, s, cp, spt = "10.0.0.1", "192.0.2.10", 40100, 80
        sc.ip4(at(5_000), c, s, 6, tcp_seg(A(c), A(s), cp, spt, 1, 1, SYN, opts=SYN_OPTS),
               (cp, spt), SYN)
        for i, n in enumerate((2896, 5792)):
            seg = tcp_seg(A(c), A(s), cp, spt, 2 + i * 2896, 1, ACK, text(n, 30 + i))
            sc.ip4(at(40), c, s, 6, seg, (cp, spt), ACK, tso=True)
        seg = tcp_seg(A(c6), A(s6), 50100, 443, 1, 1, PSH | ACK, text(4344, 32))
        sc.ip6(at(60), c6, s6, 6, seg, 6, (50100, 443), PSH | ACK, tso=True)

    # malformed frames
    # truncated IPv4 header: 10 of 20 bytes, a runt frame of 24 bytes
    bad = ipv4_hdr(A("10.0.0.1"), A("192.0.2.10"), 17, 8, 1)[:10]
    sc.malformed(at(10_000), ether(MAC_S, MAC_C, ETH_IPV4, bad, pad=False))
    # IHL 4 (< 5)
    udp_b = udp_dgram(A("10.0.0.1"), A("192.0.2.10"), 1, 2, b"")
    bad = ipv4_hdr(A("10.0.0.1"), A("192.0.2.10"), 17, 8, 2, ihl=4, total_len=28)
    sc.malformed(at(1_000), ether(MAC_S, MAC_C, ETH_IPV4, bad + udp_b))
    # truncated TCP header: IP total length 30 (10 bytes of TCP), padded to 60
    seg = tcp_seg(A("10.0.0.1"), A("192.0.2.10"), 40000, 80, 1, 0, SYN)[:10]
    bad = ipv4_hdr(A("10.0.0.1"), A("192.0.2.10"), 6, 10, 3)
    sc.malformed(at(1_000), ether(MAC_S, MAC_C, ETH_IPV4, bad + seg))

    # ---- part 2: flows crossing a window boundary B
    B = (t // W + 2) * W
    sc.tcp(B - W // 2, ec, es, ecp, esp, PSH | ACK, ecs, ess, text(200, 20))
    ecs += 200
    sc.udp(B - W // 2 + 500, "10.0.0.8", "192.0.2.50", 514, 514,
           b"<13>Nov 14 22:13:20 host app: window before")
    sc.ping(B - W // 4, c6, s6, False, 0x42, 3, text(32, 8))
    sc.tcp(B - 1, es, ec, esp, ecp, PSH | ACK, ess, ecs, text(700, 21))
    ess += 700
    sc.tcp(B, ec, es, ecp, esp, ACK, ecs, ess)
    sc.tcp(B + W // 4, es, ec, esp, ecp, PSH | ACK, ess, ecs, text(90, 22))
    ess += 90
    sc.udp(B + W // 4 + 300, "10.0.0.8", "192.0.2.50", 514, 514,
           b"<13>Nov 14 22:13:21 host app: window after")
    sc.ping(B + W // 4 + 600, c6, s6, False, 0x42, 4, text(32, 8))
    sc.ping(B + W // 4 + 900, s6, c6, True, 0x42, 4, text(32, 8))

    # ---- part 3: window [B + W, B + 2W) is empty; then E ends, more DNS,
    # a 10-byte frame
    t = B + 2 * W + W // 10
    sc.tcp(t, ec, es, ecp, esp, FIN | ACK, ecs, ess)
    ecs += 1
    sc.tcp(at(500), es, ec, esp, ecp, FIN | ACK, ess, ecs)
    ess += 1
    sc.tcp(at(450), ec, es, ecp, esp, ACK, ecs, ess)
    sc.udp(at(2_000), "10.0.0.1", "198.51.100.53", 53001, 53,
           dns_query(0x5678, "example.org"))
    sc.udp(at(9_000), "198.51.100.53", "10.0.0.1", 53, 53001,
           dns_answer(0x5678, "example.org", "192.0.2.11"))
    sc.malformed(at(3_000), bytes.fromhex("ffffffffffff02000000"))

    # ---- part 4: a last window with non-IP frames only (NODATA)
    t = B + 3 * W + W // 5
    sc.not_ip(t, ether("01:80:c2:00:00:0e", MAC_C, ETH_LLDP, lldp))
    sc.not_ip(at(1_000), ether(MAC_C, MAC_R, ETH_ARP, arp_r))
    return sc, m


def write_frames(path, frames, snaplen):
    with open(path, "wb") as f:
        f.write(pcap_header(snaplen))
        for t, cap, orig in frames:
            f.write(PCAP_REC.pack(t // US, t % US, len(cap), orig))
            f.write(cap)


def cmd_scenario(a):
    if a.snaplen < 64:
        sys.exit("gencap: --snaplen below 64 would cut link-layer headers (not modelled)")
    sc, m = build_scenario(a.start, a.window, a.snaplen, a.tso)
    write_frames(a.out, sc.frames, a.snaplen)
    res = m.result()
    if a.expect:
        write_expect(a.expect, res)
    rec = res["records"]
    nod = sum(1 for r in rec if r["log_status"] == "NODATA")
    print("gencap: %d packets, %d records (%d NODATA) in %d windows, not_ip %d, "
          "malformed %d" % (res["packets_total"], len(rec), nod,
                            len({r["window_start"] for r in rec}), res["not_ip"],
                            res["malformed"]), file=sys.stderr)


# -------------------------------------------------------------- fragments

def cmd_fragments(a):
    """Interleaved fragmented UDP datagrams: datagram i sends its first
    fragment at step i, its middle one at step i + open/2 and its last at
    step i + open, so about --open datagrams are incomplete at any time.
    Sources are spread over many addresses so that datagrams spread over RSS
    queues (NICs hash fragments on the addresses only)."""
    if a.datagrams < 1 or a.open < 2:
        sys.exit("gencap: --datagrams must be positive and --open at least 2")
    rng = _random.Random(a.seed)
    m = Model(a.window)
    dgs = []
    for i in range(a.datagrams):
        v6 = rng.random() < a.v6_share
        h = rng.randrange(1, 4000)
        if v6:
            src = A("2001:db8:1::%x" % h)
            dst = A("2001:db8:100::%x" % rng.randrange(1, 50))
            ident = rng.getrandbits(32)
        else:
            src = A("10.1.%d.%d" % (h >> 8, h & 0xFF))
            dst = A("172.16.0.%d" % rng.randrange(1, 50))
            ident = rng.getrandbits(16)
        sp, dp = rng.randrange(1024, 65536), rng.choice(UDP_PORTS)
        dg = udp_dgram(src, dst, sp, dp, text(64, i))
        dgs.append((v6, src, dst, ident, sp, dp, dg))
    # Steps: (step, order, datagram, fragment index); at one step, later
    # fragments of older datagrams go before the first of the new one.
    events = []
    half = a.open // 2
    for i in range(a.datagrams):
        events += [(i, 1, i, 0), (i + half, 0, i, 1), (i + a.open, 0, i, 2)]
    events.sort()
    t = a.start * US
    out = open(a.out, "wb")
    out.write(pcap_header(65535))
    for _, _, i, k in events:
        v6, src, dst, ident, sp, dp, dg = dgs[i]
        chunk = dg[24 * k:24 * (k + 1)] if k < 2 else dg[48:]
        more = k < 2
        if v6:
            body = struct.pack("!BBHI", 17, 0, (3 * k) << 3 | more, ident) + chunk
            frame = ether("02:00:00:00:00:02", "02:00:00:00:00:01", ETH_IPV6,
                          ipv6_hdr(src, dst, 44, len(body)) + body)
            iplen = 40 + len(body)
        else:
            ip = ipv4_hdr(src, dst, 17, len(chunk), ident, ff=(0x2000 if more else 0) | (3 * k))
            frame = ether("02:00:00:00:00:02", "02:00:00:00:00:01", ETH_IPV4, ip + chunk)
            iplen = len(ip) + len(chunk)
        out.write(PCAP_REC.pack(t // US, t % US, len(frame), len(frame)) + frame)
        m.note_flow(t, 6 if v6 else 4, src, dst, 17, sp if k == 0 else 0, dp if k == 0 else 0,
                    iplen, frag=("first" if k == 0 else "later", ident))
        t += 10
    out.close()
    if a.expect:
        write_expect(a.expect, m.result())
    print("gencap: %d datagrams, %d fragments, %d open at a time" %
          (a.datagrams, len(events), a.open), file=sys.stderr)


# ---------------------------------------------------------------- overlay
#
# Tunnel headers as the RFCs lay them out: VXLAN (RFC 7348), GENEVE
# (RFC 8926), GRE (RFC 2784 with RFC 2890's key and sequence number), NVGRE
# (RFC 7637: GRE with key, protocol 0x6558, VSID = upper 24 bits of the key),
# IP-in-IP (protocol 4) and IPv6-in-IPv4 (protocol 41). The model follows
# /work/notes/overlay-spec.md (doc/records.md "Overlays" once written).

VXLAN_PORT, GENEVE_PORT = 4789, 6081
ETH_TEB = 0x6558          # transparent Ethernet bridging (GENEVE, NVGRE)
TUNNEL_TYPES = ("vxlan", "geneve", "gre", "ipip")


def vxlan_hdr(vni, flags=0x08):
    """flags 0x08: the I flag (VNI valid); the rest reserved (zero)."""
    return struct.pack("!B3xI", flags, vni << 8)


def geneve_opt(cls, typ, data):
    assert len(data) % 4 == 0 and len(data) <= 124
    return struct.pack("!HBB", cls, typ, len(data) // 4) + data


def geneve_hdr(vni, proto, opts=b"", ver=0, opt_words=None):
    """opt_words: the Opt Len field (4-byte words), by default that of opts."""
    if opt_words is None:
        assert len(opts) % 4 == 0
        opt_words = len(opts) // 4
    return struct.pack("!BBHI", ver << 6 | opt_words, 0, proto, vni << 8) + opts


def gre_hdr(proto, payload, key=None, seq=None, csum=False, ver=0, routing=False):
    """A GRE header for payload: checksum (covering header and payload, with
    Reserved1 0; RFC 1701's offset when only routing is set), key, sequence."""
    flags = ((0x8000 if csum else 0) | (0x4000 if routing else 0) |
             (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0) | ver)
    h = struct.pack("!HH", flags, proto)
    if csum or routing:
        h += b"\0\0\0\0"
    if key is not None:
        h += struct.pack("!I", key)
    if seq is not None:
        h += struct.pack("!I", seq)
    if csum:
        c = inet_csum(h + payload)
        h = h[:4] + struct.pack("!H", c) + h[6:]
    return h


class Pkt:
    """An IP packet and the flow it belongs to."""

    def __init__(self, src, dst, proto, l4, ports=(0, 0), flags=0, ident=0, ff=0x4000,
                 opts=b"", hbh=False):
        """opts: IPv4 options; hbh: an IPv6 hop-by-hop header (PadN) first."""
        s, d = A(src), A(dst)
        self.fam = 6 if ":" in src else 4
        self.src, self.dst, self.proto = s, d, proto
        self.ports, self.flags = ports, flags
        if self.fam == 6 and hbh:
            ext = bytes([proto, 0, 1, 4, 0, 0, 0, 0])
            self.ip = ipv6_hdr(s, d, 0, len(ext) + len(l4)) + ext + l4
        elif self.fam == 6:
            self.ip = ipv6_hdr(s, d, proto, len(l4)) + l4
        else:
            self.ip = ipv4_hdr(s, d, proto, len(l4), ident, ff=ff, opts=opts) + l4
        self.etype = ETH_IPV6 if self.fam == 6 else ETH_IPV4

    def key(self):
        return (self.fam, self.src, self.dst, self.proto) + tuple(self.ports)


def vtep_sport(inner):
    """RFC 7348 section 5: the source port is a hash of the inner headers,
    in the dynamic range; so the two directions of one inner connection
    leave with different outer source ports."""
    k = inner.src + inner.dst + struct.pack("!BHH", inner.proto, *inner.ports)
    return 49152 + crc32c(k) % 16384


# The interfaces of the overlay run: (id, settings). Tenant interfaces have
# a vni; port 0 is the replayed capture. Written by --config.
OVL_IFACES = (
    ("eni-underlay", {}),                                       # the uplink
    ("eni-uplink-v7", {"vlan": 7, "decap": "no"}),              # underlay kept outer
    ("eni-tenant-a", {"vni": 100}),                             # tenant A
    ("eni-tenant-b", {"vni": 200}),                             # tenant B, the rest
    ("eni-b-web", {"vni": 200, "mac": "02:bb:00:00:00:10"}),    # tenant B vNICs
    ("eni-b-db", {"vni": 200, "mac": "02:bb:00:00:00:20"}),
    ("eni-b-vlan30", {"vni": 200, "vlan": 30}),                 # inner VLAN 30
    ("eni-alt-port", {"vni": 300}),                             # VXLAN on port 8472
    ("eni-geneve", {"vni": 5000}),
    ("eni-gre-key", {"vni": 1234}),
    ("eni-nvgre", {"vni": 7000}),
    ("eni-plain-tunnels", {"vni": 0}),                          # IP-in-IP, keyless GRE
    ("eni-idle", {"vni": 999}),                                 # never sees traffic
)


def ovl_config(unmatched, vxlan_ports):
    out = ["# tools/gencap.py overlay: the interfaces its model assumes",
           "# (--decap is given on the command line)",
           "[dpflow]", "unmatched = %s" % unmatched,
           "vxlan-ports = %s" % ",".join(map(str, vxlan_ports)), ""]
    for name, kv in OVL_IFACES:
        out.append("[interface %s]" % name)
        out.append("port = 0")
        for k in ("vni", "mac", "vlan", "decap"):
            if k in kv:
                out.append("%s = %s" % (k, kv[k]))
        out.append("")
    return "\n".join(out)


class OverlayScenario(Scenario):
    """Frames on port 0 and their fate under the spec, for a decap set, an
    unmatched policy and the VXLAN ports. Also keeps, per frame, what an
    independent decoder (tshark) must see: the tunnel, its id and the inner
    flow of every well-formed tunnel, whatever dpflow is told to open."""

    def __init__(self, model, decap, unmatched, vxlan_ports):
        super().__init__(model, 65535)
        self.decap, self.unmatched = decap, unmatched
        self.vxlan_ports = vxlan_ports
        self.truth = []
        self.nondecreasing = False      # the random part: equal timestamps allowed
        self.tenant_frames = {}         # interface -> [(t, inner frame)] (--inner-dir)

    def _add(self, t, frame, caplen=None):
        if self.nondecreasing and self.frames and t == self.frames[-1][0]:
            self.frames.append((t, frame, len(frame)))
            return len(frame)
        return super()._add(t, frame, caplen)

    # --- interface matching (doc/configuration.md, overlay spec)
    @staticmethod
    def _match(cands, macs, vlan):
        """Source MAC, then destination MAC, then VLAN, then the section
        with neither."""
        for mac in (macs[1], macs[0]):
            for name, kv in cands:
                if kv.get("mac") == mac:
                    return name, kv
        for name, kv in cands:
            if "mac" not in kv and kv.get("vlan") == vlan and vlan is not None:
                return name, kv
        for name, kv in cands:
            if "mac" not in kv and "vlan" not in kv:
                return name, kv
        return None, None

    def _outer_iface(self, macs, vlan):
        return self._match([x for x in OVL_IFACES if "vni" not in x[1]], macs, vlan)

    def _tenant(self, tid, macs, vlan):
        return self._match([x for x in OVL_IFACES if x[1].get("vni") == tid], macs, vlan)[0]

    # --- frames
    def frame(self, t, outer, tun=None, macs=None, vlan=None, equal_time=False, opened=True,
              caplen=None):
        """outer: the outer Pkt. tun: None for a plain packet, else a dict:
        type, id (None: no id: ipip, keyless GRE), bad (a malformed tunnel
        header's reason), inner (a Pkt), inner_bad (the inner frame's reason,
        or 'not-ip'), inner_macs (dst, src) and inner_vlan when the tunnel
        carries Ethernet, flags_cut (the capture cut the inner TCP flags),
        outer_only (why a tunnel is never opened: 'fragment', 'gre-proto')
        with outer_frag (the outer IPv4 fragment: ('first' | 'later', id)).
        opened False: a UDP port that is not VXLAN's in this run (the truth
        still says VXLAN: tshark is told the port). caplen: the capture's
        cut."""
        macs = macs or (host_mac(outer.dst), host_mac(outer.src))
        vlans = ((ETH_VLAN, vlan),) if vlan is not None else ()
        f = ether(macs[0], macs[1], outer.etype, outer.ip, vlans)
        if equal_time:
            assert t == self.frames[-1][0]
            self.frames.append((t, f, len(f)))
        else:
            self._add(t, f, caplen)
        self._truth(outer, tun)
        oif, okv = self._outer_iface(macs, vlan)
        # decap: the outer interface's own, else the port default's, else yes
        decap = okv.get("decap", self._outer_iface((None, None), None)[1].get("decap", "yes"))
        m = self.m
        if tun is not None and tun.get("outer_only"):
            m.note_flow(t, outer.fam, outer.src, outer.dst, outer.proto, outer.ports[0],
                        outer.ports[1], len(outer.ip), iface=oif, frag=tun.get("outer_frag"))
            return
        if (tun is not None and opened and tun["type"] in self.decap and decap != "no"):
            if tun.get("bad"):
                m.note_malformed(t, tun["bad"])
                return
            if tun.get("inner_bad") == "not-ip":
                m.note_not_ip(t)
                return
            if tun.get("inner_bad"):
                m.note_malformed(t, tun["inner_bad"])
                return
            tid = tun["id"] or 0
            ten = self._tenant(tid, tun.get("inner_macs") or (None, None),
                               tun.get("inner_vlan"))
            if ten is not None:
                p = tun["inner"]
                # packets logged as their inner flow, and their inner bytes
                m.count("tunnel-%s-packets" % tun["type"])
                m.count("tunnel-%s-bytes" % tun["type"], len(p.ip))
                self.tenant_frames.setdefault(ten, []).append(
                    (t, ether(host_mac(p.dst), host_mac(p.src), p.etype, p.ip)))
                m.note_flow(t, p.fam, p.src, p.dst, p.proto, p.ports[0], p.ports[1],
                            len(p.ip), 0 if tun.get("flags_cut") else p.flags, iface=ten,
                            tunnel=(tun["type"], "-" if tun["id"] is None else
                                    ("vsid:" if tun.get("nvgre") else "") + str(tid),
                                    outer.src, outer.dst))
                return
            m.count("tunnel-unmatched")
            if self.unmatched == "drop":
                m.note_dropped(t, "unmatched")
                return
        m.note_flow(t, outer.fam, outer.src, outer.dst, outer.proto, outer.ports[0],
                    outer.ports[1], len(outer.ip), outer.flags, iface=oif)

    def _truth(self, outer, tun):
        n = len(self.frames)
        if tun is None or tun.get("bad") or tun.get("inner_bad") or tun.get("outer_only"):
            kind = ("outer" if tun is None else "outer:" + tun["outer_only"]
                    if tun.get("outer_only") else "bad:" + (tun.get("bad") or tun["inner_bad"]))
            self.truth.append((n, kind, "-", "-") + self._flow(outer))
            return
        tid = "-" if tun["id"] is None else str(tun["id"])
        self.truth.append((n, "tunnel", tun["type"], tid) + self._flow(tun["inner"]))

    @staticmethod
    def _flow(p):
        return (str(ipaddress.ip_address(p.src)), str(ipaddress.ip_address(p.dst)),
                p.proto, p.ports[0], p.ports[1], len(p.ip))

    # --- encapsulations: each returns nothing, logs through frame()
    def _udp_outer(self, osrc, odst, sport, dport, payload, opts=b"", hbh=False, trailer=b""):
        """trailer: bytes in the IP payload after the UDP datagram (its
        length field says less than the IP one)."""
        seg = udp_dgram(A(osrc), A(odst), sport, dport, payload) + trailer
        return Pkt(osrc, odst, 17, seg, (sport, dport), ident=self._id(), ff=0, opts=opts,
                   hbh=hbh)

    def vxlan(self, t, vteps, vni, inner, macs, vlan=None, port=VXLAN_PORT, sport=None,
              outer_vlan=None, flags=0x08, equal_time=False, caplen=None, inner_vlans=None,
              reserved=0, outer=None, **kw):
        """inner: a Pkt, or the raw bytes after the inner Ethernet header
        (with etype=, and inner_bad= saying what they are). caplen: the
        capture keeps that many bytes of the frame; the model then follows
        the outer rule (Scenario._cut) for the inner packet, or says
        truncated-tunnel when the cut is inside the VXLAN header.
        inner_vlans: the inner tags (outermost first; vlan is then the id
        the model matches: the outermost); reserved: VXLAN's 16 reserved
        bits after the flags (RFC 7348: ignored on receipt; VXLAN-GBP's
        group policy id); outer: _udp_outer's keywords (opts, hbh,
        trailer)."""
        etype = kw.pop("etype", None)
        if isinstance(inner, Pkt):
            body, etype = inner.ip, inner.etype
        else:
            body = inner
        vl = inner_vlans or (((ETH_VLAN, vlan),) if vlan is not None else ())
        eth = ether(macs[0], macs[1], etype, body, vl, pad=False)
        if sport is None:
            sport = vtep_sport(inner) if isinstance(inner, Pkt) else 50000
        hdr = vxlan_hdr(vni, flags)
        hdr = hdr[:1] + struct.pack("!H", reserved) + hdr[3:]
        outer = self._udp_outer(vteps[0], vteps[1], sport, port, hdr + eth, **(outer or {}))
        if caplen is not None:
            vx = 14 + 4 * (outer_vlan is not None) + (40 if outer.fam == 6 else 20) + 8
            l3 = vx + 8 + 14 + 4 * (vlan is not None)
            if caplen < vx + 8:
                kw["bad"] = "truncated-tunnel"
            else:
                known = self._cut(caplen, l3, 40 if inner.fam == 6 else 20, inner.proto, False)
                assert known is not None, "an inner cut that is malformed: not modelled"
                kw["flags_cut"] = not known
        self.frame(t, outer, dict(type="vxlan", id=vni, inner=inner, inner_macs=macs,
                                  inner_vlan=vlan, **kw),
                   vlan=outer_vlan, equal_time=equal_time, opened=port in self.vxlan_ports,
                   caplen=caplen)

    def geneve(self, t, vteps, vni, inner, macs, opts=b"", vlan=None, **kw):
        """macs None: the GENEVE protocol type is the inner IP's (no inner
        Ethernet)."""
        if macs is None:
            eth, proto = inner.ip, inner.etype
        else:
            vl = ((ETH_VLAN, vlan),) if vlan is not None else ()
            eth, proto = ether(macs[0], macs[1], inner.etype, inner.ip, vl, pad=False), ETH_TEB
        hdr = geneve_hdr(vni, proto, opts, kw.pop("ver", 0), kw.pop("opt_words", None))
        outer = self._udp_outer(vteps[0], vteps[1], vtep_sport(inner), GENEVE_PORT,
                                hdr + eth)
        self.frame(t, outer, dict(type="geneve", id=vni, inner=inner, inner_macs=macs,
                                  inner_vlan=vlan, **kw))

    def gre(self, t, ends, inner, key=None, seq=None, csum=False, macs=None, **kw):
        """GRE carrying an IP packet, or Ethernet (NVGRE) when macs is given:
        the tunnel id is then the VSID (the key's upper 24 bits)."""
        if "proto" in kw:                       # another payload (MPLS): never opened
            payload, proto, tid = kw.pop("payload"), kw.pop("proto"), key
        elif macs is not None:
            payload, proto = ether(macs[0], macs[1], inner.etype, inner.ip, pad=False), ETH_TEB
            tid = key >> 8
        else:
            payload, proto, tid = inner.ip, inner.etype, key
        hdr = gre_hdr(proto, payload, key, seq, csum, kw.pop("ver", 0), kw.pop("routing", False))
        outer = Pkt(ends[0], ends[1], 47, hdr + payload, ident=self._id())
        self.frame(t, outer, dict(type="gre", id=tid, inner=inner, inner_macs=macs,
                                  nvgre=macs is not None, **kw))

    def ipip(self, t, ends, inner, **kw):
        outer = Pkt(ends[0], ends[1], 4 if inner.fam == 4 else 41, inner.ip, ident=self._id())
        self.frame(t, outer, dict(type="ipip", id=None, inner=inner, **kw))


def build_overlay(start, window, decap, unmatched, vxlan_ports, flows=0, seed=1):
    """The overlay capture (see the overlay subcommand's help)."""
    m = Model(window, [name for name, _ in OVL_IFACES])
    sc = OverlayScenario(m, decap, unmatched, vxlan_ports)
    W = window * US
    t = start * US

    def at(dt_us):
        nonlocal t
        t += dt_us
        return t

    def tcp(src, dst, sp, dp, flags, seq, ack, payload=b""):
        return Pkt(src, dst, 6, tcp_seg(A(src), A(dst), sp, dp, seq, ack, flags, payload),
                   (sp, dp), flags, sc._id())

    def udp(src, dst, sp, dp, payload):
        return Pkt(src, dst, 17, udp_dgram(A(src), A(dst), sp, dp, payload), (sp, dp),
                   ident=sc._id(), ff=0)

    def ping(src, dst, reply, ident, seq, payload):
        if ":" in src:
            return Pkt(src, dst, 58, icmp6(A(src), A(dst), 129 if reply else 128, 0,
                                           struct.pack("!HH", ident, seq) + payload))
        return Pkt(src, dst, 1, icmp4(0 if reply else 8, 0, struct.pack("!HH", ident, seq),
                                      payload), ident=sc._id(), ff=0)

    V1, V2, V3, V9 = "192.168.1.1", "192.168.1.2", "192.168.1.3", "192.168.1.9"
    V6A, V6B = "2001:db8:ff::1", "2001:db8:ff::2"
    A1, A2 = "02:aa:00:00:00:01", "02:aa:00:00:00:02"
    B_WEB, B_DB, B_OTHER = "02:bb:00:00:00:10", "02:bb:00:00:00:20", "02:bb:00:00:00:30"
    GW = "02:ee:00:00:00:01"

    # ---- underlay: BGP between the VTEPs, logged on the uplink
    sc.frame(t, tcp(V1, V2, 40179, 179, SYN, 1, 0))
    sc.frame(at(200), tcp(V2, V1, 179, 40179, SYN | ACK, 9, 2))

    # ---- tenant A (VNI 100) and tenant B (VNI 200): the same inner
    # connection 10.0.0.1:40000 -> 10.0.0.2:80 in both; each direction
    # leaves its VTEP with its own outer source port.
    c, s = "10.0.0.1", "10.0.0.2"
    for vni, cm, smac in ((100, A1, A2), (200, B_WEB, B_DB)):
        cs, ss = 100 + vni, 900 + vni
        fwd, rev = (V1, V2), (V2, V1)
        sc.vxlan(at(1_000), fwd, vni, tcp(c, s, 40000, 80, SYN, cs, 0), (smac, cm))
        sc.vxlan(at(300), rev, vni, tcp(s, c, 80, 40000, SYN | ACK, ss, cs + 1), (cm, smac))
        cs += 1; ss += 1
        sc.vxlan(at(300), fwd, vni, tcp(c, s, 40000, 80, ACK, cs, ss), (smac, cm))
        req = b"GET / HTTP/1.1\r\nHost: tenant%d\r\n\r\n" % vni
        sc.vxlan(at(100), fwd, vni, tcp(c, s, 40000, 80, PSH | ACK, cs, ss, req), (smac, cm))
        cs += len(req)
        sc.vxlan(at(900), rev, vni, tcp(s, c, 80, 40000, PSH | ACK, ss, cs, text(700, vni)),
                 (cm, smac))
        ss += 700
        # the client VM moved: its next packet comes from another VTEP (the
        # record keeps the earliest packet's tunnel-src)
        sc.vxlan(at(500_000), (V3, V2), vni, tcp(c, s, 40000, 80, FIN | ACK, cs, ss),
                 (smac, cm))
        sc.vxlan(at(300), (V2, V3), vni, tcp(s, c, 80, 40000, FIN | ACK, ss, cs + 1),
                 (cm, smac))

    # tenant A: two packets of one flow at the same microsecond from two
    # VTEPs, the higher address first in the file: the lower one is the
    # record's tunnel-src, whatever the order cores see them in
    q = udp("10.0.0.1", "10.0.0.9", 5353, 53, dns_query(0x4242, "a.tenant"))
    sc.vxlan(at(20_000), (V9, V2), 100, q, (A2, A1))
    sc.vxlan(t, (V3, V2), 100, udp("10.0.0.1", "10.0.0.9", 5353, 53,
                                   dns_query(0x4243, "a.tenant")), (A2, A1), equal_time=True)
    # tenant A over an IPv6 underlay: ICMP echo both ways
    sc.vxlan(at(10_000), (V6A, V6B), 100, ping("10.0.0.1", "10.0.0.2", False, 7, 1,
                                                text(56, 40)), (A2, A1))
    sc.vxlan(at(400), (V6B, V6A), 100, ping("10.0.0.2", "10.0.0.1", True, 7, 1,
                                             text(56, 40)), (A1, A2))
    # tenant A's connection over GENEVE VNI 100 too: the same interface,
    # another flow (the tunnel type is part of the key)
    sc.geneve(at(5_000), (V1, V2), 100, tcp(c, s, 40000, 80, ACK, 500, 600), (A2, A1))
    # a tunnel inside the tunnel: logged as the inner UDP flow to 4789
    inner_vx = vxlan_hdr(555) + ether(B_OTHER, A1, ETH_IPV4,
                                      udp("172.31.0.1", "172.31.0.2", 1, 2, b"deep").ip,
                                      pad=False)
    sc.vxlan(at(5_000), (V1, V2), 100, udp("10.0.0.5", "10.0.0.6", 40123, VXLAN_PORT,
                                           inner_vx), (A2, A1))

    # ---- tenant B on the inner MACs and VLAN: src MAC first, then dst MAC,
    # then the inner VLAN, then the VNI-only interface
    o = "10.0.0.3"
    sc.vxlan(at(3_000), (V1, V2), 200, udp(o, c, 6000, 6001, text(40, 41)),
             (B_WEB, B_OTHER))                                   # ingress of web
    sc.vxlan(at(300), (V1, V2), 200, udp("10.30.0.5", "10.30.0.6", 7000, 7001,
                                         text(80, 42)), (GW, B_OTHER), vlan=30)  # VLAN 30
    sc.vxlan(at(300), (V1, V2), 200, udp("10.30.0.5", s, 7000, 7002, text(20, 43)),
             (B_DB, B_OTHER), vlan=30)                           # dst MAC beats VLAN
    sc.vxlan(at(300), (V2, V1), 200, udp(o, "10.0.0.4", 6000, 6003, text(30, 44)),
             (GW, B_OTHER))                                      # VNI only
    sc.vxlan(at(300), (V2, V1), 200, udp(o, "10.0.0.4", 6000, 6003, text(30, 45)),
             (GW, B_OTHER), vlan=31)                             # other VLAN: VNI only

    # ---- VXLAN on a port given by --vxlan-ports (Linux's old 8472)
    sc.vxlan(at(2_000), (V1, V2), 300, udp("10.3.0.1", "10.3.0.2", 123, 123, text(48, 46)),
             (A2, A1), port=8472)
    sc.vxlan(at(400), (V2, V1), 300, udp("10.3.0.2", "10.3.0.1", 123, 123, text(48, 47)),
             (A1, A2), port=8472)

    # ---- GENEVE VNI 5000 with options, inner IPv6 TCP both ways
    g1, g2 = "2001:db8:a::1", "2001:db8:a::2"
    opts = geneve_opt(0x0102, 0x80, b"\x00\x00\x00\x2a") + \
        geneve_opt(0xFFFF, 0x01, text(8, 48))
    sc.geneve(at(2_000), (V1, V2), 5000, tcp(g1, g2, 33000, 443, SYN, 1, 0), (A2, A1), opts)
    sc.geneve(at(300), (V2, V1), 5000, tcp(g2, g1, 443, 33000, SYN | ACK, 7, 2), (A1, A2),
              opts)
    sc.geneve(at(300), (V1, V2), 5000, tcp(g1, g2, 33000, 443, ACK, 2, 8), (A2, A1))

    # ---- GRE with key 1234 (one packet with checksum and sequence number
    # too), NVGRE VSID 7000, GRE without key, IP-in-IP, IPv6-in-IPv4
    E1, E2 = "192.168.2.1", "192.168.2.2"
    sc.gre(at(2_000), (E1, E2), udp("172.16.5.1", "172.16.5.2", 7000, 7001, text(64, 49)),
           key=1234)
    sc.gre(at(300), (E1, E2), udp("172.16.5.1", "172.16.5.2", 7000, 7001, text(100, 50)),
           key=1234, seq=2, csum=True)
    sc.gre(at(300), (E2, E1), udp("172.16.5.2", "172.16.5.1", 7001, 7000, text(10, 51)),
           key=1234, seq=9)
    n1, n2 = "10.70.0.1", "10.70.0.2"
    sc.gre(at(2_000), (E1, E2), tcp(n1, n2, 50022, 22, SYN, 5, 0), key=7000 << 8 | 0x11,
           macs=(A2, A1))
    sc.gre(at(300), (E2, E1), tcp(n2, n1, 22, 50022, SYN | ACK, 70, 6),
           key=7000 << 8 | 0xC3, macs=(A1, A2))
    # a GRE key of 7000 and the NVGRE VSID 7000 with one inner tuple: the
    # same tenant interface, two flows (the id kinds differ), printed alike
    sc.gre(at(300), (E1, E2), tcp(n1, n2, 50022, 22, ACK, 6, 71), key=7000)
    p1, p2 = "172.20.0.1", "172.20.0.2"
    sc.gre(at(2_000), (E1, E2), ping(p1, p2, False, 3, 1, text(32, 52)))
    sc.gre(at(300), (E2, E1), ping(p2, p1, True, 3, 1, text(32, 52)))
    sc.ipip(at(2_000), (E1, E2), udp(p1, p2, 9000, 9001, text(24, 53)))
    sc.ipip(at(300), (E1, E2), ping("2001:db8:6::1", "2001:db8:6::2", False, 4, 1,
                                     text(16, 54)))

    # ... and the same tunnels over an IPv6 underlay: GRE with key (next
    # header 47), IPv4-in-IPv6 (4), IPv6-in-IPv6 (41), GENEVE
    sc.gre(at(300), (V6A, V6B), udp("172.16.5.1", "172.16.5.2", 7000, 7002, text(20, 82)),
           key=1234)
    sc.ipip(at(300), (V6A, V6B), udp(p1, p2, 9000, 9002, text(21, 83)))
    sc.ipip(at(300), (V6A, V6B), ping("2001:db8:6::1", "2001:db8:6::2", False, 4, 2,
                                       text(22, 84)))
    sc.geneve(at(300), (V6A, V6B), 5000, tcp(g1, g2, 33001, 443, SYN, 1, 0), (A2, A1), opts)

    # ---- a VNI without a tenant interface: logged by the outer header
    # (unmatched = log) or counted and dropped (unmatched = drop)
    u1, u2 = "10.42.0.1", "10.42.0.2"
    sc.vxlan(at(2_000), (V1, V2), 4242, tcp(u1, u2, 1111, 2222, SYN, 1, 0), (A2, A1))
    sc.vxlan(at(300), (V2, V1), 4242, tcp(u2, u1, 2222, 1111, SYN | ACK, 1, 2), (A1, A2))
    # ---- VXLAN on the uplink VLAN 7 whose section says decap = no
    sc.vxlan(at(2_000), (V1, V2), 100, udp("10.0.0.1", "10.0.0.2", 8000, 8001, text(30, 55)),
             (A2, A1), outer_vlan=7)

    def raw_udp(dport, payload, sport=50000):
        return sc._udp_outer(V1, V2, sport, dport, payload)
    cut = udp("10.0.0.1", "10.0.0.2", 1, 2, b"cut")          # what the cut ones would carry

    # ---- more cases of the spec's clarifications (h-ovl, 07:58)
    # GENEVE carrying IPv4 without Ethernet (protocol type 0x0800)
    sc.geneve(at(2_000), (V1, V2), 5000, udp("10.50.0.1", "10.50.0.2", 500, 4500,
                                             text(60, 70)), None)
    # a GRE key above 16777215 (not NVGRE): no tenant interface can match it
    sc.gre(at(300), (E1, E2), udp("172.16.9.1", "172.16.9.2", 1, 2, text(12, 71)),
           key=0x12345678)
    # GRE carrying MPLS: not opened, logged by its outer header
    mpls = struct.pack("!I", (16 << 12) | 0x100 | 64) + udp("10.60.0.1", "10.60.0.2", 3, 4,
                                                             text(20, 72)).ip
    sc.gre(at(300), (E1, E2), None, proto=0x8847, payload=mpls, outer_only="gre-proto")
    # VNI 300, headers around the tunnel the parser must walk: an outer IPv4
    # header with options (IHL 6), an IPv6 underlay with a hop-by-hop
    # header, a UDP datagram shorter than its IP payload (the trailer is not
    # the tunnel's), the VXLAN-GBP G flag and group policy id (reserved bits
    # a receiver ignores, RFC 7348)
    q1, q2 = "10.3.0.1", "10.3.0.2"
    sc.vxlan(at(300), (V1, V2), 300, udp(q1, q2, 20001, 53, text(30, 77)), (A2, A1),
             outer=dict(opts=b"\x94\x04\x00\x00"))
    sc.vxlan(at(300), (V6A, V6B), 300, udp(q1, q2, 20002, 53, text(31, 78)), (A2, A1),
             outer=dict(hbh=True))
    sc.vxlan(at(300), (V1, V2), 300, udp(q1, q2, 20003, 53, text(32, 79)), (A2, A1),
             outer=dict(trailer=b"\xee" * 20))
    sc.vxlan(at(300), (V1, V2), 300, udp(q1, q2, 20004, 53, text(33, 80)), (A2, A1),
             flags=0x88, reserved=0x1234)
    # inner QinQ: the outermost inner tag (30) is the one `vlan` matches
    sc.vxlan(at(300), (V1, V2), 200, udp("10.30.0.7", "10.30.0.8", 7003, 7004, text(18, 81)),
             (GW, B_OTHER), vlan=30, inner_vlans=((ETH_QINQ, 30), (ETH_VLAN, 99)))
    # VXLAN on an outer VLAN no section names: the port's uplink, opened
    sc.vxlan(at(300), (V1, V2), 200, udp(o, "10.0.0.4", 6000, 6004, text(16, 73)),
             (GW, B_OTHER), outer_vlan=8)
    # VXLAN cut by the capture (tcpdump -s 96): the inner TCP header keeps
    # its ports, not its flags byte: logged with the inner IP length, flags 0
    big = tcp(c, s, 40001, 80, PSH | ACK, 1, 1, text(1400, 74))
    sc.vxlan(at(300), (V1, V2), 100, big, (A2, A1), caplen=96)
    # ... and a capture cut inside the VXLAN header: truncated-tunnel
    sc.vxlan(at(300), (V1, V2), 100, udp(c, s, 15, 16, text(40, 75)), (A2, A1), caplen=46)
    # an outer IPv4 fragmented VXLAN packet (first fragment, then the rest):
    # never opened, logged by the outer header with the fragment rule
    ident = sc._id()
    dg = udp_dgram(A(V1), A(V2), 50123, VXLAN_PORT, vxlan_hdr(100) + ether(
        A2, A1, ETH_IPV4, udp(c, s, 17, 18, text(600, 76)).ip, pad=False))
    sc.frame(at(300), Pkt(V1, V2, 17, dg[:400], (50123, VXLAN_PORT), ident=ident, ff=0x2000),
             dict(type="vxlan", id=100, outer_only="fragment", outer_frag=("first", ident),
                  inner=cut))
    sc.frame(at(300), Pkt(V1, V2, 17, dg[400:], ident=ident, ff=400 // 8),
             dict(type="vxlan", id=100, outer_only="fragment", outer_frag=("later", ident),
                  inner=cut))

    # ---- malformed tunnels, one reason each
    # VXLAN header cut by the UDP length (4 of 8 bytes; Ethernet padding after)
    sc.frame(at(2_000), raw_udp(VXLAN_PORT, vxlan_hdr(100)[:4]),
             dict(type="vxlan", id=100, bad="truncated-tunnel", inner=cut))
    # GENEVE header cut (6 of 8 bytes)
    sc.frame(at(300), raw_udp(GENEVE_PORT, geneve_hdr(5000, ETH_TEB)[:6]),
             dict(type="geneve", id=5000, bad="truncated-tunnel", inner=cut))
    # GRE with the K bit and no room for the key
    sc.frame(at(300), Pkt(E1, E2, 47, struct.pack("!HH", 0x2000, ETH_IPV4), ident=sc._id()),
             dict(type="gre", id=None, bad="truncated-tunnel", inner=cut))
    # VXLAN without the I flag
    sc.vxlan(at(300), (V1, V2), 100, udp(c, s, 3, 4, text(20, 56)), (A2, A1), flags=0,
             bad="bad-tunnel-header")
    # GENEVE version 1
    sc.geneve(at(300), (V1, V2), 5000, udp(g1, g2, 5, 6, text(20, 57)), (A2, A1), ver=1,
              bad="bad-tunnel-header")
    # GRE version 1 and GRE with the routing bit
    sc.gre(at(300), (E1, E2), udp(p1, p2, 7, 8, text(20, 58)), key=1234, ver=1,
           bad="bad-tunnel-header")
    sc.gre(at(300), (E1, E2), udp(p1, p2, 9, 10, text(20, 59)), routing=True,
           bad="bad-tunnel-header")
    # GENEVE options longer than the UDP payload (Opt Len 63 words: 252 bytes)
    sc.geneve(at(300), (V1, V2), 5000, udp(g1, g2, 11, 12, text(8, 60)), (A2, A1),
              geneve_opt(0x0102, 0x80, text(12, 61)), opt_words=63, bad="bad-geneve-options")
    # inner IPv4 header cut (10 of 20 bytes), inner Ethernet cut (10 of 14
    # bytes), ARP inside VXLAN, inner IPv4 with IHL 4 inside IP-in-IP
    sc.vxlan(at(300), (V1, V2), 100, udp(c, s, 13, 14, b"x").ip[:10], (A2, A1),
             etype=ETH_IPV4, inner_bad="truncated-ipv4")
    sc.frame(at(300), raw_udp(VXLAN_PORT, vxlan_hdr(100) + bytes.fromhex("02aa00000002")
                              + b"\x02\xaa\x00\x00"),
             dict(type="vxlan", id=100, inner_bad="truncated-ethernet", inner=cut))
    arp = struct.pack("!HHBBH6s4s6s4s", 1, ETH_IPV4, 6, 4, 1, bytes.fromhex(A1.replace(":", "")),
                      A("10.0.0.1"), b"\0" * 6, A("10.0.0.2"))
    sc.vxlan(at(300), (V1, V2), 100, arp, (BCAST, A1), etype=ETH_ARP, inner_bad="not-ip")
    bad_ihl = ipv4_hdr(A(p1), A(p2), 17, 8, 77, ihl=4, total_len=28) + \
        udp_dgram(A(p1), A(p2), 1, 2, b"")
    sc.frame(at(300), Pkt(E1, E2, 4, bad_ihl, ident=sc._id()),
             dict(type="ipip", id=None, inner_bad="bad-ipv4-ihl", inner=cut))

    # ---- the next window: tenant A and GENEVE go on, tenant B's
    # connection crosses the boundary; the other interfaces get NODATA
    B = (t // W + 1) * W
    sc.vxlan(B - 1, (V1, V2), 200, udp(o, "10.0.0.4", 6000, 6003, text(30, 62)), (GW, B_OTHER))
    sc.vxlan(B, (V1, V2), 200, udp(o, "10.0.0.4", 6000, 6003, text(31, 63)), (GW, B_OTHER))
    t = B + W // 3
    sc.vxlan(t, (V2, V1), 100, tcp(c, s, 40000, 80, ACK, 999, 999), (A2, A1))
    sc.geneve(at(1_000), (V1, V2), 5000, tcp(g1, g2, 33000, 443, FIN | ACK, 2, 8), (A2, A1),
              opts)
    sc.frame(at(1_000), udp(V1, V2, 3784, 3784, text(24, 64)))   # BFD on the underlay
    if flows:
        # ---- --flows: random conversations from the next window on
        t = (t // W + 1) * W + 1
        overlay_random(sc, t, flows, seed, dict(tcp=tcp, udp=udp, ping=ping))
    return sc, m


def overlay_random(sc, t, flows, seed, mk):
    """flows conversations in the tenants of OVL_IFACES (and the unmatched
    VNI), inner addresses drawn from one small range for every tenant (they
    overlap), 1..12 packets each, interleaved; about one packet in four
    shares the previous one's timestamp (ties), one in twenty comes from a
    VTEP other than its direction's (a move: the earliest-packet rule)."""
    rng = _random.Random(seed)
    sc.nondecreasing = True
    vteps = ["192.168.1.%d" % i for i in range(1, 9)]
    web, db, other, gw = ("02:bb:00:00:00:10", "02:bb:00:00:00:20", "02:bb:00:00:00:30",
                          "02:ee:00:00:00:01")
    kinds = ("vxlan100", "vxlan200mac", "vxlan200vlan", "vxlan200", "vxlan300", "vxlan4242",
             "geneve", "gre", "nvgre", "ipip")
    pkts = []
    for i in range(flows):
        kind = rng.choice(kinds)
        proto = rng.choice((6, 6, 17, 1))
        if rng.random() < 0.2:
            cl = "2001:db8:7::%x" % rng.randrange(1, 64)
            sv = "2001:db8:7::%x" % rng.randrange(64, 128)
        else:
            cl = "10.0.%d.%d" % (rng.randrange(2), rng.randrange(1, 64))
            sv = "10.0.%d.%d" % (rng.randrange(2), rng.randrange(64, 128))
        cp, sp = rng.randrange(1024, 65536), rng.choice((80, 443, 53, 8080, 5432))
        va, vb = rng.sample(vteps, 2)
        n = rng.randrange(1, 13)
        at = rng.random()
        for k in range(n):
            pkts.append((at + k * rng.random() * 0.01, i, k, n, kind, proto, cl, sv, cp, sp,
                         va, vb))
    pkts.sort()
    for _, i, k, n, kind, proto, cl, sv, cp, sp, va, vb in pkts:
        d = k % 2                                   # 0: client -> server
        src, dst = (cl, sv) if d == 0 else (sv, cl)
        ps = (cp, sp) if d == 0 else (sp, cp)
        if proto == 6:
            fl = SYN if k == 0 else SYN | ACK if k == 1 else FIN | ACK if k == n - 1 else \
                PSH | ACK
            inner = mk["tcp"](src, dst, ps[0], ps[1], fl, 1000 + k, 2000 + k,
                              text(rng.randrange(0, 400), i))
        elif proto == 17:
            inner = mk["udp"](src, dst, ps[0], ps[1], text(rng.randrange(1, 300), i))
        else:
            inner = mk["ping"](src, dst, d == 1, i & 0xFFFF, k, text(rng.randrange(8, 64), i))
        ends = (va, vb) if d == 0 else (vb, va)
        if rng.random() < 0.05:
            ends = tuple(rng.sample(vteps, 2))
        # (a reply never shares its opener's time: which one began an IBM
        # connection would be a tie, which issue 13 does not define)
        if rng.random() >= 0.25 or k == 1:
            t += rng.choice((1, 3, 10, 100, 1000, 3000))
        mac = (gw, other)
        if kind.startswith("vxlan"):
            vni = {"vxlan100": 100, "vxlan300": 300, "vxlan4242": 4242}.get(kind, 200)
            vlan = 30 if kind == "vxlan200vlan" else None
            if kind == "vxlan200mac":
                mac = (db, web) if d == 0 else (web, db)
            sc.vxlan(t, ends, vni, inner, mac, vlan=vlan,
                     port=8472 if kind == "vxlan300" and i % 2 else VXLAN_PORT)
        elif kind == "geneve":
            sc.geneve(t, ends, 5000, inner, mac if i % 3 else None)
        elif kind == "gre":
            sc.gre(t, ends, inner, key=1234, seq=k if i % 2 else None)
        elif kind == "nvgre":
            sc.gre(t, ends, inner, key=7000 << 8 | (i & 0xFF), macs=mac)
        else:
            sc.ipip(t, ends, inner)


def parse_decap(text):
    """--decap as dpflow takes it: none, all, or a comma list of types."""
    if text == "none":
        return set()
    if text == "all":
        return set(TUNNEL_TYPES)
    words = text.split(",")
    for w in words:
        if w not in TUNNEL_TYPES:
            sys.exit("gencap: --decap: unknown tunnel type '%s' (none, all, or %s)"
                     % (w, ",".join(TUNNEL_TYPES)))
    return set(words)


def cmd_overlay(a):
    try:
        ports = sorted({int(p) for p in a.vxlan_ports.split(",")})
    except ValueError:
        sys.exit("gencap: --vxlan-ports: expected P[,P...]")
    if not all(0 < p < 65536 for p in ports) or GENEVE_PORT in ports:
        sys.exit("gencap: --vxlan-ports: UDP ports 1..65535 other than GENEVE's 6081")
    if a.window < 10:
        sys.exit("gencap: overlay needs --window 10 or more (its first part spans ~1 s)")
    if a.flows < 0:
        sys.exit("gencap: --flows must be 0 or more")
    sc, m = build_overlay(a.start, a.window, parse_decap(a.decap), a.unmatched, ports,
                          a.flows, a.seed)
    write_frames(a.out, sc.frames, 65535)
    res = m.result()
    if a.expect:
        write_expect(a.expect, res)
    if a.config:
        with open(a.config, "w") as f:
            f.write(ovl_config(a.unmatched, ports))
    if a.inner_dir:
        # what each tenant interface would see on a plain port (whole
        # frames, the capture cut undone): input for tools/connmodel.py
        for name, frames in sc.tenant_frames.items():
            write_frames("%s/%s.pcap" % (a.inner_dir, name),
                         [(t, f, len(f)) for t, f in frames], 65535)
    if a.truth:
        with open(a.truth, "w") as f:
            f.write("frame\tkind\ttunnel\tid\tsrc\tdst\tproto\tsport\tdport\tiplen\n")
            for row in sc.truth:
                f.write("\t".join(map(str, row)) + "\n")
    rec = res["records"]
    print("gencap: %d packets, %d records (%d NODATA), not_ip %d, malformed %d %s"
          % (res["packets_total"], len(rec),
             sum(1 for r in rec if r["log_status"] == "NODATA"), res["not_ip"],
             res["malformed"], json.dumps(res["malformed_by_reason"])), file=sys.stderr)


# ---------------------------------------------------------------- convert

LINKTYPES = {"ethernet": 1, "raw": 101, "sll": 113, "sll2": 276}


def read_pcap(path):
    """(snaplen, linktype, [(t_us, captured bytes, original length)]) of a
    classic microsecond pcap file in little-endian order (what gencap writes)."""
    data = open(path, "rb").read()
    magic, _, _, _, _, snaplen, linktype = PCAP_GLOBAL.unpack_from(data)
    if magic != 0xA1B2C3D4:
        sys.exit("gencap: %s: not a little-endian microsecond pcap file" % path)
    off, out = PCAP_GLOBAL.size, []
    while off + PCAP_REC.size <= len(data):
        sec, usec, incl, orig = PCAP_REC.unpack_from(data, off)
        off += PCAP_REC.size
        out.append((sec * US + usec, data[off:off + incl], orig))
        off += incl
    return snaplen, linktype, out


def relink(frame, linktype):
    """The frame as a capture of linktype would hold it, or None when that
    link type cannot carry it (raw IP: frames that are not IP). SLL and
    SLL2 keep the Ethernet payload after the ethertype (VLAN tags included,
    as libpcap re-inserts them after the cooked header), with the source MAC
    as the link-layer address and the ethertype as the protocol. A frame too
    short for an Ethernet header becomes a cooked header cut as short."""
    if linktype == "ethernet":
        return frame
    if linktype == "raw":
        off = 12
        while len(frame) >= off + 2 and struct.unpack_from("!H", frame, off)[0] in (
                ETH_VLAN, ETH_QINQ, 0x9100):
            off += 4
        if len(frame) < off + 2 or struct.unpack_from("!H", frame, off)[0] not in (
                ETH_IPV4, ETH_IPV6):
            return None
        return frame[off + 2:]
    if len(frame) < 14:
        return frame
    src, proto, rest = frame[6:12], frame[12:14], frame[14:]
    if linktype == "sll":
        # packet type 0 (to us), ARPHRD_ETHER, address length 6, address, protocol
        return struct.pack("!HHH", 0, 1, 6) + src + b"\0\0" + proto + rest
    # SLL2: protocol, reserved, interface index, ARPHRD_ETHER, packet type,
    # address length, address
    return proto + struct.pack("!HIHBB", 0, 2, 1, 0, 6) + src + b"\0\0" + rest


def pcapng_block(typ, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", typ, n) + body + struct.pack("<I", n)


def cmd_convert(a):
    snaplen, linktype, frames = read_pcap(a.inp)
    if linktype != LINKTYPE_ETHERNET:
        sys.exit("gencap: %s: convert reads Ethernet captures" % a.inp)
    lt = LINKTYPES[a.linktype]
    out = open(a.out, "wb")
    if a.pcapng:
        # Section header, one interface (microsecond timestamps: the default).
        out.write(pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        out.write(pcapng_block(1, struct.pack("<HHI", lt, 0, snaplen)))
    else:
        out.write(PCAP_GLOBAL.pack(0xA1B2C3D4, 2, 4, 0, 0, snaplen, lt))
    kept = 0
    for t, cap, orig in frames:
        f = relink(cap, a.linktype)
        if f is None:
            continue
        o = max(0, orig - len(cap) + len(f))
        if a.pcapng:
            out.write(pcapng_block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF,
                                                  len(f), o) + f))
        else:
            out.write(PCAP_REC.pack(t // US, t % US, len(f), o) + f)
        kept += 1
    out.close()
    print("gencap: %d of %d frames as %s%s" % (kept, len(frames), a.linktype,
                                              " (pcapng)" if a.pcapng else ""),
          file=sys.stderr)


# ----------------------------------------------------------------- random

TCP_PORTS = (443, 443, 443, 80, 80, 8080, 22, 25, 3306, 5432, 6379, 8443)
UDP_PORTS = (53, 53, 53, 123, 514, 161, 443, 443, 1194, 5060)
HOSTS = 65521          # client hosts per family (prime)
SERVERS = 1000


def cmd_random(a):
    N, F = a.packets, a.flows
    if N < 1 or F < 1:
        sys.exit("gencap: --packets and --flows must be positive")
    if a.snaplen < 128:
        sys.exit("gencap: --snaplen below 128 would cut headers")
    rng = _random.Random(a.seed)
    rnd = rng.random
    C = (F + 1) // 2                       # conversations
    NU = 2 * C                             # unidirectional flows
    ST = 80                                # template stride
    tmpl = bytearray(NU * ST)
    tmv = memoryview(tmpl)
    hlen = bytearray(NU)                   # header bytes incl. Ethernet
    fam6 = bytearray(NU)                   # 1 for IPv6
    proto = bytearray(NU)
    ipbase = array("I", bytes(4 * NU))
    l4base = array("I", bytes(4 * NU))
    seqs = array("I", bytes(4 * NU))
    pk = array("Q", bytes(8 * NU))
    by = array("Q", bytes(8 * NU))
    opened = bytearray(C)

    # payload template and its prefix one's-complement sums
    P = bytes(rng.getrandbits(8) for _ in range(1600))
    pmv = memoryview(P)
    psum = [0] * 1601
    acc = 0
    for L in range(1, 1601):
        if L & 1:
            psum[L] = acc + (P[L - 1] << 8)
        else:
            acc += (P[L - 2] << 8) | P[L - 1]
            psum[L] = acc

    # frame sizes: IMIX-like mixture over 64..1514
    sizes = []
    for _ in range(4096):
        x = rnd()
        if x < 0.45:
            sizes.append(64 + int(rnd() * 64))
        elif x < 0.6:
            sizes.append(128 + int(rnd() * 512))
        elif x < 0.7:
            sizes.append(576)
        elif x < 0.8:
            sizes.append(640 + int(rnd() * 760))
        else:
            sizes.append(1400 + int(rnd() * 115))

    # Zipf ranks, scattered over conversation ids by a multiplicative map
    if a.zipf > 0:
        cum = list(itertools.accumulate((k + 1) ** -a.zipf for k in range(C)))
        ztot = cum[-1]
    else:
        cum = None
    PM = 2654435761 % C if C > 1 else 1
    while C > 1 and _gcd(PM, C) != 1:
        PM += 1

    mac_c = bytes.fromhex("020000000001")
    mac_s = bytes.fromhex("020000000002")

    def open_conv(c):
        x = rnd()
        pr = 6 if x < 0.70 else 17 if x < 0.95 else 1
        v6 = rnd() < a.v6_share
        srv = int(rnd() * SERVERS)
        if pr == 1:
            cport = 0
            sport = 0
            icmp_id = c & 0xFFFF
        else:
            h = c % HOSTS
            cport = 1024 + ((c // HOSTS) * 7919 + h * 13) % 64000
            ports = TCP_PORTS if pr == 6 else UDP_PORTS
            sport = ports[int(rnd() * len(ports))]
        if v6:
            cl = (0x20010DB8 << 96) | ((2 if pr == 1 else 1) << 80) | \
                (1 + (c if pr == 1 else c % HOSTS))
            sv = (0x20010DB8 << 96) | (0x100 << 80) | (srv + 1)
            ca, sa = cl.to_bytes(16, "big"), sv.to_bytes(16, "big")
        else:
            if pr == 1:
                ca = (0x0A800001 + c % 0x7FFFFE).to_bytes(4, "big")
            else:
                ca = (0x0A010001 + c % HOSTS).to_bytes(4, "big")
            sa = (0xAC100000 + srv + 1).to_bytes(4, "big")
        for d in (0, 1):
            u = 2 * c + d
            src, dst = (ca, sa) if d == 0 else (sa, ca)
            sp, dp = (cport, sport) if d == 0 else (sport, cport)
            eth = (mac_s + mac_c) if d == 0 else (mac_c + mac_s)
            if v6:
                nh = 58 if pr == 1 else pr
                l3 = eth + b"\x86\xdd" + ipv6_hdr(src, dst, nh, 0)
                ps = _sum16(src + dst) + nh
            else:
                ff = 0x4000 if pr == 6 else 0
                l3 = eth + b"\x08\x00" + struct.pack(
                    "!BBHHHBBH4s4s", 0x45, 0, 0, 0, ff, 64, pr, 0, src, dst)
                ipbase[u] = 0x4500 + ff + (64 << 8 | pr) + _sum16(src + dst)
                ps = _sum16(src + dst) + pr
            if pr == 6:
                l4 = struct.pack("!HHIIHHHH", sp, dp, 0, 0, 0, 502, 0, 0)
                l4base[u] = ps + sp + dp + 502
                seqs[u] = rng.getrandbits(32)
            elif pr == 17:
                l4 = struct.pack("!HHHH", sp, dp, 0, 0)
                l4base[u] = ps + sp + dp
            else:
                typ = (128 if d == 0 else 129) if v6 else (8 if d == 0 else 0)
                l4 = struct.pack("!BBHHH", typ, 0, 0, icmp_id, 0)
                l4base[u] = (typ << 8) + icmp_id + (ps if v6 else 0)
            h = l3 + l4
            tmpl[u * ST:u * ST + len(h)] = h
            hlen[u] = len(h)
            fam6[u] = v6
            proto[u] = 58 if v6 and pr == 1 else pr
        opened[c] = 1

    model = Model(a.window) if a.expect else None
    keys = {} if model is not None else None

    def key_of(u):
        o = u * ST
        v6 = fam6[u]
        if v6:
            src, dst = bytes(tmpl[o + 22:o + 38]), bytes(tmpl[o + 38:o + 54])
            l4o = o + 54
        else:
            src, dst = bytes(tmpl[o + 26:o + 30]), bytes(tmpl[o + 30:o + 34])
            l4o = o + 34
        pr = proto[u]
        sp, dp = (struct.unpack_from("!HH", tmpl, l4o) if pr in (6, 17) else (0, 0))
        return (6 if v6 else 4, src, dst, pr, sp, dp)

    CHUNK = 1 << 22
    buf = bytearray(CHUNK + 4096)
    pack_into = struct.pack_into
    t0 = a.start * US
    pps = a.pps
    out = open(a.out, "wb")
    out.write(pcap_header(a.snaplen))
    snap = a.snaplen
    zeros = bytes(64)
    off = 0
    i = 0
    unopened = C
    nxt = 0
    pending = []
    tstart = time.time()
    while i < N:
        R = N - i
        if unopened and rnd() * R < 2 * unopened:
            while opened[nxt]:
                nxt += 1
            c = nxt
            open_conv(c)
            unopened -= 1
            pending = [(2 * c, 0), (2 * c + 1, 1)]
        else:
            if cum is not None:
                r = bisect.bisect(cum, rnd() * ztot)
                if r >= C:
                    r = C - 1
            else:
                r = int(rnd() * C)
            c = (r * PM) % C
            if not opened[c]:
                open_conv(c)
                unopened -= 1
                pending = [(2 * c, 0), (2 * c + 1, 1)]
            else:
                pending = [(2 * c + (rnd() < 0.55), 2)]
        for u, kind in pending:
            if i >= N:
                break
            pr = proto[u]
            hl = hlen[u]
            # kind 0: opener, 1: reply, 2: data
            if kind == 2:
                fl = int(rnd() * 65536)
                if fl < 8192:
                    pl = 0
                else:
                    pl = sizes[fl & 4095] - hl
                    if pl < 0:
                        pl = 0
                if pr == 6:
                    flags = (ACK | PSH) if pl else ACK
                    if fl < 300:
                        flags |= FIN
                    elif fl < 360:
                        flags = RST | ACK
                    elif fl < 380:
                        flags |= URG | ECE | CWR
            elif pr == 6:
                pl = 0
                flags = SYN if kind == 0 else SYN | ACK
            else:
                pl = sizes[int(rnd() * 4096)] - hl
                if pl < 0:
                    pl = 0
            flen = hl + pl
            wlen = flen if flen >= 60 else 60
            caplen = wlen if wlen <= snap else snap
            t = t0 + (i * US) // pps
            pack_into("<IIII", buf, off, t // US, t % US, caplen, wlen)
            o = off + 16
            b = u * ST
            buf[o:o + hl] = tmv[b:b + hl]
            if pl:
                buf[o + hl:o + flen] = pmv[:pl]
            if flen < 60:
                buf[o + flen:o + 60] = zeros[:60 - flen]
            iplen = flen - 14
            if fam6[u]:
                pack_into(">H", buf, o + 18, iplen - 40)
                l4o = o + 54
                l4len = iplen - 40
            else:
                ipid = i & 0xFFFF
                s = ipbase[u] + iplen + ipid
                s = (s & 0xFFFF) + (s >> 16)
                s = (s & 0xFFFF) + (s >> 16)
                pack_into(">HH", buf, o + 16, iplen, ipid)
                pack_into(">H", buf, o + 24, s ^ 0xFFFF)
                l4o = o + 34
                l4len = iplen - 20
            if pr == 6:
                seq = seqs[u]
                ack = seqs[u ^ 1] if kind else 0
                fw = 0x5000 | flags
                s = (l4base[u] + l4len + (seq >> 16) + (seq & 0xFFFF) + (ack >> 16)
                     + (ack & 0xFFFF) + fw + psum[pl])
                s = (s & 0xFFFF) + (s >> 16)
                s = (s & 0xFFFF) + (s >> 16)
                pack_into(">IIH", buf, l4o + 4, seq, ack, fw)
                pack_into(">H", buf, l4o + 16, s ^ 0xFFFF)
                seqs[u] = (seq + pl + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF
            elif pr == 17:
                s = l4base[u] + 2 * l4len + psum[pl]
                s = (s & 0xFFFF) + (s >> 16)
                s = (s & 0xFFFF) + (s >> 16)
                pack_into(">HH", buf, l4o + 4, l4len, (s ^ 0xFFFF) or 0xFFFF)
                flags = 0
            else:
                sq = (seqs[u] + 1) & 0xFFFF
                seqs[u] = sq
                s = l4base[u] + sq + psum[pl] + (l4len if fam6[u] else 0)
                s = (s & 0xFFFF) + (s >> 16)
                s = (s & 0xFFFF) + (s >> 16)
                pack_into(">H", buf, l4o + 2, s ^ 0xFFFF)
                pack_into(">H", buf, l4o + 6, sq)
                flags = 0
            off = o + caplen
            pk[u] += 1
            by[u] += iplen
            if model is not None:
                k = keys.get(u)
                if k is None:
                    k = keys[u] = key_of(u)
                model.note_flow(t, k[0], k[1], k[2], k[3], k[4], k[5], iplen, flags)
            i += 1
            if off >= CHUNK:
                out.write(memoryview(buf)[:off])
                off = 0
    out.write(memoryview(buf)[:off])
    out.close()
    t_pcap = time.time() - tstart

    nflows = 0
    if a.truth:
        with open(a.truth, "w") as f:
            f.write("flow\tsrc\tdst\tproto\tsport\tdport\tpackets\tbytes\n")
            lines = []
            for u in range(NU):
                if pk[u]:
                    nflows += 1
                    fam, src, dst, pr, sp, dp = key_of(u)
                    lines.append("%d\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n" % (
                        nflows, ipaddress.ip_address(src), ipaddress.ip_address(dst),
                        pr, sp, dp, pk[u], by[u]))
                    if len(lines) >= 65536:
                        f.write("".join(lines))
                        lines = []
            f.write("".join(lines))
    else:
        nflows = sum(1 for x in pk if x)
    if model is not None:
        write_expect(a.expect, model.result())
    print("gencap: %d packets, %d flows (%d conversations opened), pcap in %.1f s"
          % (N, nflows, C - unopened, t_pcap), file=sys.stderr)


def _gcd(x, y):
    while y:
        x, y = y, x % y
    return x


# ----------------------------------------------------------------- render

FIELD_VERSION = {
    "version": 2, "account-id": 2, "interface-id": 2, "srcaddr": 2, "dstaddr": 2,
    "srcport": 2, "dstport": 2, "protocol": 2, "packets": 2, "bytes": 2,
    "start": 2, "end": 2, "action": 2, "log-status": 2,
    "vpc-id": 3, "subnet-id": 3, "instance-id": 3, "tcp-flags": 3, "type": 3,
    "pkt-srcaddr": 3, "pkt-dstaddr": 3,
    "region": 4, "az-id": 4, "sublocation-type": 4, "sublocation-id": 4,
    "pkt-src-aws-service": 5, "pkt-dst-aws-service": 5, "flow-direction": 5,
    "traffic-path": 5,
}
EXTENSIONS = ("pkt-srcport", "pkt-dstport", "tcp-flags-all",
              "tunnel-type", "tunnel-id", "tunnel-src", "tunnel-dst")
DEFAULT_FORMAT = ("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} "
                  "${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} "
                  "${end} ${action} ${log-status}")
# flow field -> expect JSON key (None: constant)
FLOW_VALUE = {
    "srcaddr": "srcaddr", "dstaddr": "dstaddr", "srcport": "srcport",
    "dstport": "dstport", "protocol": "protocol", "packets": "packets",
    "bytes": "bytes", "tcp-flags": "tcp_flags", "type": "type",
    "pkt-srcaddr": "srcaddr", "pkt-dstaddr": "dstaddr", "pkt-srcport": "srcport",
    "pkt-dstport": "dstport", "tcp-flags-all": "tcp_flags_all",
    "tunnel-type": "tunnel_type", "tunnel-id": "tunnel_id", "tunnel-src": "tunnel_src",
    "tunnel-dst": "tunnel_dst",
}
META = ("vpc-id", "subnet-id", "instance-id", "region", "az-id",
        "sublocation-type", "sublocation-id")


def parse_format(fmt):
    toks = fmt.split(" ")
    fields = []
    for i, tok in enumerate(toks, 1):
        mm = re.fullmatch(r"\$\{([^}]*)\}", tok)
        if not mm:
            sys.exit("gencap: bad token '%s' at position %d" % (tok, i))
        f = mm.group(1)
        if f not in FIELD_VERSION and f not in EXTENSIONS:
            sys.exit("gencap: unknown field '%s' at position %d" % (f, i))
        if f in fields:
            sys.exit("gencap: duplicate field '%s' at position %d" % (f, i))
        fields.append(f)
    return fields


def cmd_render(a):
    fmt = a.format if a.format is not None else DEFAULT_FORMAT
    fields = parse_format(fmt)
    if fields == parse_format(DEFAULT_FORMAT):
        version = 2
    else:
        version = max(FIELD_VERSION.get(f, a.ext_version) for f in fields)
    with open(a.expect) as f:
        exp = json.load(f)
    meta = {"account-id": a.account_id, "interface-id": a.interface_id}
    for k in META:
        v = getattr(a, k.replace("-", "_"))
        meta[k] = v if v else "-"
    out = [" ".join(fields)]
    for r in exp["records"]:
        ok = r["log_status"] == "OK"
        vals = []
        for f in fields:
            if f == "version":
                v = version
            elif f == "interface-id":
                v = r.get("interface_id", meta[f])
            elif f in meta:
                v = meta[f]
            elif f in ("start", "end", "log-status"):
                v = r[f.replace("-", "_")]
            elif f == "action":
                v = "ACCEPT" if ok else "-"
            elif f in FLOW_VALUE:
                # tunnel-*: '-' for a packet logged by its outer header
                v = r.get(FLOW_VALUE[f], "-") if ok else "-"
            else:       # aws-service, flow-direction, traffic-path
                v = "-"
            vals.append(str(v))
        out.append(" ".join(vals))
    sys.stdout.write("\n".join(out) + "\n")


# ------------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("scenario", help="hand-built capture covering the parser's cases")
    p.add_argument("out")
    p.add_argument("--expect", required=True)
    p.add_argument("--window", type=int, default=60)
    p.add_argument("--start", type=int, default=1700000000)
    p.add_argument("--snaplen", type=int, default=65535)
    p.add_argument("--tso", action="store_true",
                   help="add TSO/GSO super-packets (IP length fields 0)")

    p = sub.add_parser("random", help="many flows, for scale tests and benchmarks")
    p.add_argument("out")
    p.add_argument("--expect")
    p.add_argument("--truth")
    p.add_argument("--packets", type=int, required=True)
    p.add_argument("--flows", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--v6-share", type=float, default=0.2)
    p.add_argument("--window", type=int, default=60)
    p.add_argument("--start", type=int, default=1700000000)
    p.add_argument("--pps", type=int, default=100000)
    p.add_argument("--zipf", type=float, default=1.1)
    p.add_argument("--snaplen", type=int, default=65535)

    p = sub.add_parser("fragments", help="interleaved fragmented datagrams")
    p.add_argument("out")
    p.add_argument("--expect")
    p.add_argument("--datagrams", type=int, required=True)
    p.add_argument("--open", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--v6-share", type=float, default=0.3)
    p.add_argument("--window", type=int, default=60)
    p.add_argument("--start", type=int, default=1700000000)

    p = sub.add_parser("overlay", help="VXLAN, GENEVE, GRE, IP-in-IP tenant traffic")
    p.add_argument("out")
    p.add_argument("--expect")
    p.add_argument("--config", help="write the [interface] sections the model assumes")
    p.add_argument("--truth", help="per frame: what a decoder must see (TSV)")
    p.add_argument("--inner-dir", help="write DIR/<interface>.pcap: each tenant's inner frames")
    p.add_argument("--decap", default="all", help="none, all or vxlan,geneve,gre,ipip")
    p.add_argument("--unmatched", default="log", choices=("log", "drop"))
    p.add_argument("--vxlan-ports", default="4789,8472")
    p.add_argument("--flows", type=int, default=0,
                   help="random conversations after the fixed part (0: none)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--window", type=int, default=60)
    p.add_argument("--start", type=int, default=1700000000)

    p = sub.add_parser("convert", help="an Ethernet capture in another link type")
    p.add_argument("inp")
    p.add_argument("out")
    p.add_argument("--linktype", required=True, choices=sorted(LINKTYPES))
    p.add_argument("--pcapng", action="store_true")

    p = sub.add_parser("render", help="expected record lines for a format string")
    p.add_argument("expect")
    p.add_argument("--format")
    p.add_argument("--account-id", default="unknown")
    p.add_argument("--interface-id", default="eni-00000000000000000")
    for k in META:
        p.add_argument("--" + k)
    p.add_argument("--ext-version", type=int, default=2, choices=(2, 3),
                   help="version counted for pkt-srcport, pkt-dstport, tcp-flags-all")

    a = ap.parse_args(argv)
    if a.cmd not in ("render", "convert") and not 1 <= a.window <= 3600:
        sys.exit("gencap: --window must be 1..3600")
    if a.cmd == "random" and a.pps < 1:
        sys.exit("gencap: --pps must be positive")
    {"scenario": cmd_scenario, "random": cmd_random, "fragments": cmd_fragments,
     "overlay": cmd_overlay, "convert": cmd_convert, "render": cmd_render}[a.cmd](a)


if __name__ == "__main__":
    main()
