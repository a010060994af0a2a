#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""connmodel.py - an independent model of dpflow's connection records.

Written from the text of issue 13 ("Connection records"), not from dpflow's
C code, packet by packet: it reads a classic pcap (Ethernet, optional 802.1Q
tags, IPv4 / IPv6 without extension headers, TCP and UDP) and prints, per
capture window, the IBM Cloud VPC flow logs the issue defines:

- a connection is (protocol, unordered endpoint pair) on the one logged
  interface; its first packet names the initiator and the target;
- a packet begins a new connection when none exists, when the existing one
  has been idle longer than --conn-timeout, or when it is a TCP SYN without
  ACK and the existing connection has terminated;
- a TCP connection terminates on a RST from either side or once both sides
  have sent a FIN; later packets still belong to it;
- per window, one flow log per connection and action with packets in it:
  start_time / end_time = first / last packet of the connection in the
  window, per-window and cumulative bytes (IP total length) and packets from
  the initiator and the target, was_initiated, was_terminated, direction O
  when the initiator is one of the interface's addresses.

Other protocols are not logged (counted in "other_packets").

Usage:
  connmodel.py CAPTURE.pcap --window SEC [--conn-timeout SEC]
               [--reject-src ADDR]... [--iface-addr CIDR]... [--trustgrid NODE]
Prints JSON: {"windows": {"<window start>": [flow log, ...]}, "other_packets": N,
"not_modelled": N (TCP/UDP packets whose ports were not captured: fragments,
cut headers; this model does not follow dpflow's rules for them)}.
--reject-src: packets sent from ADDR are rejected (an ACL that drops them).
--trustgrid NODE: print {"<window start>": [row, ...]} instead, the rows of
`show connections` (Trustgrid's columns), NODE being the interface-id.
"""
import argparse
import ipaddress
import json
import struct
import sys
import time

FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10


def rfc3339(sec):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sec))


def packets(path):
    """(t_us, family, src, dst, proto, sport, dport, ip_len, tcp_flags) per IP packet."""
    data = open(path, "rb").read()
    magic = struct.unpack_from("<I", data)[0]
    if magic != 0xA1B2C3D4:
        sys.exit("connmodel: %s: not a little-endian microsecond pcap" % path)
    off = 24
    while off + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack_from("<IIII", data, off)
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        etype, l3 = struct.unpack_from("!H", frame, 12)[0], 14
        while etype in (0x8100, 0x88A8):
            etype, l3 = struct.unpack_from("!H", frame, l3 + 2)[0], l3 + 4
        if etype == 0x0800:
            ihl = (frame[l3] & 15) * 4
            ip_len = struct.unpack_from("!H", frame, l3 + 2)[0]
            proto, fam = frame[l3 + 9], 4
            src, dst = frame[l3 + 12:l3 + 16], frame[l3 + 16:l3 + 20]
            l4 = l3 + ihl
        elif etype == 0x86DD:
            ip_len = 40 + struct.unpack_from("!H", frame, l3 + 4)[0]
            proto, fam = frame[l3 + 6], 6
            src, dst = frame[l3 + 8:l3 + 24], frame[l3 + 24:l3 + 40]
            l4 = l3 + 40
        else:
            continue
        sport = dport = flags = 0
        if proto in (6, 17) and len(frame) < l4 + (20 if proto == 6 else 8):
            # Fragments, cut headers: outside this model (its captures have none).
            yield (sec * 1000000 + usec, None, None, None, None, 0, 0, 0, 0)
            continue
        if proto in (6, 17):
            sport, dport = struct.unpack_from("!HH", frame, l4)
        if proto == 6:
            flags = frame[l4 + 13]
        yield (sec * 1000000 + usec, fam, ipaddress.ip_address(src),
               ipaddress.ip_address(dst), proto, sport, dport, ip_len, flags)


class Conn:
    def __init__(self, t, src, sport, dst, dport):
        self.initiator = (src, sport)
        self.target = (dst, dport)
        self.start = t
        self.last = t
        self.fins = set()
        self.terminated = False
        # cumulative [bytes_i, packets_i, bytes_t, packets_t] per action
        self.cum = {"accepted": [0, 0, 0, 0], "rejected": [0, 0, 0, 0]}
        self.win = None  # the window being summed: its start, and per action counters
        self.logs = []


def model(path, window, timeout, reject, iface_nets):
    res = model_raw(path, window, timeout, reject)
    out = {str(w): [] for w in res["window_starts"]}
    for c in res["conns"]:
        for win in c.logs:
            for action, a in sorted(win["acts"].items()):
                out[str(win["start"])].append(flow_log(c, win, action, a, iface_nets))
    return {"windows": out, "other_packets": res["other_packets"],
            "not_modelled": res["not_modelled"]}


def model_raw(path, window, timeout, reject):
    """Every connection (in the order of its first packet) and its windows."""
    conns = {}      # key -> current Conn
    done = []       # every Conn ever
    other = not_modelled = 0
    first_w = last_w = None
    for t, fam, src, dst, proto, sport, dport, ip_len, flags in packets(path):
        w = t // 1000000 // window * window
        first_w = w if first_w is None else first_w
        last_w = w
        if fam is None:
            not_modelled += 1
            continue
        if proto not in (6, 17):
            other += 1
            continue
        key = (proto, frozenset([(src, sport), (dst, dport)]))
        c = conns.get(key)
        bare_syn = proto == 6 and flags & SYN and not flags & ACK
        if (c is None or t - c.last > timeout * 1000000 or
                (c.terminated and bare_syn)):
            c = Conn(t, src, sport, dst, dport)
            c.proto, c.fam = proto, fam
            conns[key] = c
            done.append(c)
        action = "rejected" if src in reject else "accepted"
        if c.win is None or c.win["start"] != w:
            c.win = {"start": w, "first": t, "last": t, "acts": {}}
            c.logs.append(c.win)
        c.win["last"] = t
        if proto == 6:
            c.win.setdefault("flags", {}).setdefault(action, 0)
            c.win["flags"][action] |= flags
        from_init = (src, sport) == c.initiator
        acts = c.win["acts"].setdefault(action, [0, 0, 0, 0])
        cum = c.cum[action]
        i = 0 if from_init else 2
        for arr in (acts, cum):
            arr[i] += ip_len
            arr[i + 1] += 1
        c.win.setdefault("cum", {})[action] = list(cum)
        if proto == 6:
            if flags & RST:
                c.terminated = True
            if flags & FIN:
                c.fins.add(from_init)
                if len(c.fins) == 2:
                    c.terminated = True
        c.win["terminated"] = c.terminated
        c.last = t
    starts = [] if first_w is None else list(range(first_w, last_w + 1, window))
    return {"window_starts": starts, "conns": done, "other_packets": other,
            "not_modelled": not_modelled}


def flow_log(c, win, action, a, iface_nets):
    cum = win["cum"][action]
    ini = c.initiator[0]
    return {
        "start_time": rfc3339(win["first"] // 1000000),
        "end_time": rfc3339(win["last"] // 1000000),
        "connection_start_time": rfc3339(c.start // 1000000),
        "direction": "O" if any(ini in n for n in iface_nets if n.version == ini.version)
        else "I",
        "action": action,
        "initiator_ip": str(ini),
        "target_ip": str(c.target[0]),
        "initiator_port": c.initiator[1],
        "target_port": c.target[1],
        "transport_protocol": c.proto,
        "ether_type": "IPv6" if c.fam == 6 else "IPv4",
        "was_initiated": c.logs[0] is win,
        "was_terminated": win["terminated"],
        "bytes_from_initiator": a[0],
        "packets_from_initiator": a[1],
        "bytes_from_target": a[2],
        "packets_from_target": a[3],
        "cumulative_bytes_from_initiator": cum[0],
        "cumulative_packets_from_initiator": cum[1],
        "cumulative_bytes_from_target": cum[2],
        "cumulative_packets_from_target": cum[3],
    }


TG_FLAGS = (("SYN", SYN), ("ACK", ACK), ("FIN", FIN), ("RST", RST), ("PSH", 0x08),
            ("URG", 0x20))


def tg_time(us):
    return time.strftime("%m/%d/%Y %I:%M:%S %p", time.gmtime(us // 1000000))


def tg_rows(path, window, timeout, reject, iface_nets, node):
    """Trustgrid's view of the same flow logs: {window start: [row, ...]}, a
    row per connection and action, columns named as at dpflow's prompt. The
    interface (node) is the Source Node when the initiator is one of its
    addresses, the Dest Node otherwise; bytes are the initiator's sent and
    received; TCP Flags the names of every flag either side sent."""
    res = model_raw(path, window, timeout, reject)
    out = {}
    for w in res["window_starts"]:
        out[str(w)] = []
    for c in res["conns"]:
        for win in c.logs:
            for action, a in sorted(win["acts"].items()):
                log = flow_log(c, win, action, a, iface_nets)
                bits = win.get("flags", {}).get(action, 0)
                names = ",".join(n for n, b in TG_FLAGS if bits & b)
                outbound = log["direction"] == "O"
                out[str(win["start"])].append({
                    "Start Time": tg_time(win["first"]),
                    "Start Time (ms)": str(win["first"] // 1000),
                    "End Time": tg_time(win["last"]),
                    "End Time (ms)": str(win["last"] // 1000),
                    "Protocol": "TCP" if c.proto == 6 else "UDP",
                    "Source Node": node if outbound else "-",
                    "Source IP": log["initiator_ip"],
                    "Source Port": str(log["initiator_port"]),
                    "Dest Node": "-" if outbound else node,
                    "Dest IP": log["target_ip"],
                    "Dest Port": str(log["target_port"]),
                    "Sent Bytes": str(a[0]),
                    "Recv Bytes": str(a[2]),
                    "TCP Flags": names or "-",
                })
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("capture")
    ap.add_argument("--window", type=int, required=True)
    ap.add_argument("--conn-timeout", type=int, default=300)
    ap.add_argument("--reject-src", action="append", default=[])
    ap.add_argument("--iface-addr", action="append", default=[])
    ap.add_argument("--trustgrid", metavar="NODE",
                    help="print Trustgrid's rows instead (show connections' columns); NODE "
                    "is the interface-id")
    a = ap.parse_args(argv)
    reject = {ipaddress.ip_address(x) for x in a.reject_src}
    nets = [ipaddress.ip_network(x, strict=False) for x in a.iface_addr]
    if a.trustgrid is not None:
        res = tg_rows(a.capture, a.window, a.conn_timeout, reject, nets, a.trustgrid)
    else:
        res = model(a.capture, a.window, a.conn_timeout, reject, nets)
    json.dump(res, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
