#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write small captures of minimum-size frames for the benchmarks.

mkpcap.py OUT --packets N --flows F [--family 4|6] [--proto tcp|udp] [--first-flow K]

Frame i belongs to flow K + (i % F): a distinct client address and port
towards one of 97 servers, 64 bytes on the wire for IPv4 (60 without FCS),
the smallest valid frame for IPv6. One timestamp per microsecond from
1700000000 s. Several files with different --first-flow values hold
disjoint flows (one file per net_pcap queue).
"""
import argparse
import struct


def frame(flow, family, proto):
    eth_v4 = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00"
    eth_v6 = b"\x02" * 6 + b"\x04" * 6 + b"\x86\xdd"
    sport = 1024 + (flow * 2654435761 >> 16) % 60000
    if proto == 6:
        l4 = struct.pack("!HHIIBBHHH", sport, 443, 0, 0, 5 << 4, 0x10, 502, 0, 0)
    else:
        l4 = struct.pack("!HHHH", sport, 53, 8, 0)
    if family == 4:
        total = 60 - 14 if proto == 17 else 20 + len(l4)
        if proto == 17:
            l4 = struct.pack("!HHHH", sport, 53, total - 20, 0) + b"\0" * (total - 28)
        src = 0x0A000000 | (flow & 0xFFFFFF)
        dst = 0xAC100001 + flow % 97
        ip = struct.pack("!BBHHHBBHII", 0x45, 0, total, 0, 0x4000, 64, proto, 0, src, dst)
        f = eth_v4 + ip + l4
        return f + b"\0" * (60 - len(f))
    src = bytes.fromhex("20010db8000000000000000000000000")[:12] + struct.pack("!I", flow)
    dst = bytes.fromhex("20010db8000100000000000000000000")[:15] + bytes([1 + flow % 97])
    ip = struct.pack("!IHBB", 6 << 28, len(l4), proto, 64) + src + dst
    return eth_v6 + ip + l4


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--packets", type=int, required=True)
    ap.add_argument("--flows", type=int, required=True)
    ap.add_argument("--family", type=int, choices=(4, 6), default=4)
    ap.add_argument("--proto", choices=("tcp", "udp"), default="tcp")
    ap.add_argument("--first-flow", type=int, default=0)
    a = ap.parse_args()
    proto = 6 if a.proto == "tcp" else 17
    frames = [frame(a.first_flow + i, a.family, proto) for i in range(min(a.flows, a.packets))]
    with open(a.out, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(a.packets):
            f = frames[i % len(frames)]
            out.write(struct.pack("<IIII", 1700000000 + i // 1000000, i % 1000000, len(f), len(f)))
            out.write(f)


if __name__ == "__main__":
    main()
