#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A smoke test of --decap (issue 15), with tshark's decoders as the reference.

A capture of VXLAN (IPv4 underlay) and GENEVE (IPv6 underlay) packets of two
tenants, one VNI without a tenant interface and one tenant without traffic
goes through dpflow; the records must be what tshark reads inside the
tunnels: per tenant interface and inner 5-tuple, the packets, the inner IP
bytes, the VNI and the outer addresses of the earliest packet; a tenant
section with the inner MAC wins over the one of the VNI alone. The same with
--rxq 4. The full model comparison lives in tests/e2e/overlay.py (h-ovlmodel);
this one only needs tshark.

Usage: overlay_smoke.py CASE   (CASE: vxlan_geneve_tenants)
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

DPFLOW = os.environ["DPFLOW"]
EAL = ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--log-level=lib.eal:error"]
SKIP = 77
T0 = 1700000000
FMT = ("${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} "
       "${bytes} ${log-status} ${tunnel-type} ${tunnel-id} ${tunnel-src} ${tunnel-dst}")
CONF = """[dpflow]
decap = vxlan geneve

[interface eni-underlay]
port = 0

[interface eni-tenant-a]
port = 0
vni = 100

[interface eni-tenant-b]
port = 0
vni = 200

# One vNIC of VNI 200 by its inner source MAC: it wins over the VNI's section.
[interface eni-tenant-b-vm]
port = 0
vni = 200
mac = 02:00:00:00:00:01

[interface eni-idle]
port = 0
vni = 999
"""
TENANT = {100: "eni-tenant-a", 200: "eni-tenant-b-vm"}
IDLE = ("eni-idle", "eni-tenant-b")


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def ip4(src, dst, proto, payload):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                       bytes(src), bytes(dst)) + payload


def ip6(src_last, dst_last, nh, payload):
    base = bytes.fromhex("20010db80000000000000000000000")
    return (struct.pack("!IHBB", 0x60000000, len(payload), nh, 64) + base + bytes([src_last])
            + base + bytes([dst_last]) + payload)


def tcp(sp, dp, flags, data):
    return struct.pack("!HHIIBBHHH", sp, dp, 1, 0, 0x50, flags, 65535, 0, 0) + data


def udp(sp, dp, data):
    return struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data


def eth(etype, body):
    return bytes([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]) + struct.pack("!H", etype) + body


def inner(src, dst, sp, dp, flags, n):
    return eth(0x0800, ip4(src, dst, 6, tcp(sp, dp, flags, b"x" * n)))


def frames():
    """(time offset, frame): VNI 100 both directions with VTEP source ports
    that differ, VNI 200 over GENEVE/IPv6, VNI 300 without a tenant."""
    a, b = [10, 0, 0, 1], [10, 0, 0, 2]
    out = []
    for i in range(6):
        fwd = i % 2 == 0
        body = inner(a if fwd else b, b if fwd else a, 40000 if fwd else 80,
                     80 if fwd else 40000, 0x02 if i == 0 else 0x10, 10 + i)
        vx = struct.pack("!B3xI", 0x08, 100 << 8) + body
        o_src, o_dst = ([192, 168, 0, 1], [192, 168, 0, 2]) if fwd else \
            ([192, 168, 0, 2], [192, 168, 0, 1])
        out.append((i, eth(0x0800, ip4(o_src, o_dst, 17, udp(50000 + 7 * i, 4789, vx)))))
    for i in range(3):
        gn = struct.pack("!BBHI", 1, 0, 0x6558, 200 << 8) + bytes(4) + \
            inner([172, 16, 0, 5], [172, 16, 0, 6], 5555, 443, 0x10, 100)
        out.append((10 + i, eth(0x86DD, ip6(1 + i, 9, 17, udp(60000 + i, 6081, gn)))))
    vx = struct.pack("!B3xI", 0x08, 300 << 8) + inner(a, b, 1, 2, 0x02, 0)
    out.append((20, eth(0x0800, ip4([192, 168, 0, 7], [192, 168, 0, 8], 17,
                                    udp(1234, 4789, vx)))))
    return out


def write_pcap(path):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for dt, fr in frames():
            f.write(struct.pack("<IIII", T0 + dt, 0, len(fr), len(fr)) + fr)


def tshark_expect(pcap):
    """The records, from tshark's VXLAN and GENEVE decoders."""
    fields = ["frame.time_epoch", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "ip.len",
              "tcp.srcport", "tcp.dstport", "vxlan.vni", "geneve.vni"]
    cmd = ["tshark", "-r", pcap, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    recs, unmatched = {}, []
    for line in out.splitlines():
        t, src, dst, src6, dst6, ilen, sp, dp, vni_vx, vni_gn = line.split("\t")
        vni = int(vni_vx or vni_gn, 0)
        srcs, dsts, lens = src.split("|"), dst.split("|"), ilen.split("|")
        # The inner IPv4 header is the last one; the outer is IPv6 when there is one.
        o_src, o_dst = (src6, dst6) if src6 else (srcs[0], dsts[0])
        if vni not in TENANT:
            unmatched.append((o_src, o_dst))
            continue
        key = (TENANT[vni], srcs[-1], dsts[-1], sp, dp)
        r = recs.setdefault(key, {"packets": 0, "bytes": 0, "vni": vni, "first": None})
        r["packets"] += 1
        r["bytes"] += int(lens[-1])
        if r["first"] is None or float(t) < r["first"][0]:
            r["first"] = (float(t), o_src, o_dst)
    return recs, unmatched


def dpflow_records(pcap, conf, rxq):
    eal = EAL + (["-l", "0-1"] if rxq == 1 else ["--lcores", "(0-5)@(0-1)"])
    cmd = [DPFLOW] + eal + ["--", "--replay", pcap, "--config", conf, "--window", "60",
                            "--rxq", str(rxq), "--log-format", FMT]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    check(p.returncode == 0, f"dpflow --rxq {rxq}: exit {p.returncode}: {p.stderr[-1500:]}")
    check("conservation: ok" in p.stderr, f"--rxq {rxq}: conservation: {p.stderr[-1500:]}")
    return p.stdout.splitlines()[1:], p.stderr


def case_vxlan_geneve_tenants():
    if shutil.which("tshark") is None:
        print("SKIP: tshark not installed (tools/deps.sh)")
        return SKIP
    with tempfile.TemporaryDirectory() as d:
        pcap, conf = os.path.join(d, "ovl.pcap"), os.path.join(d, "ovl.conf")
        write_pcap(pcap)
        with open(conf, "w") as f:
            f.write(CONF)
        want, unmatched = tshark_expect(pcap)
        check(len(want) == 3 and len(unmatched) == 1, f"tshark read {want} {unmatched}")
        lines1, err1 = dpflow_records(pcap, conf, 1)
        lines4, _ = dpflow_records(pcap, conf, 4)
        check(lines1 == lines4, f"--rxq 1 and 4 differ:\n{lines1}\n{lines4}")
        got, nodata = {}, set()
        for ln in lines1:
            f = ln.split()
            if f[8] != "OK":
                check(f[8] == "NODATA", f"a status row other than NODATA: {ln}")
                nodata.add(f[0])
                continue
            if f[0] == "eni-underlay":
                # The VNI without a tenant: its outer UDP flow (unmatched = log).
                check((f[1], f[2], f[4], f[9]) == (*unmatched[0], "4789", "-"),
                      f"unmatched tunnel: {ln}")
                continue
            got[(f[0], f[1], f[2], f[3], f[4])] = f
        check(nodata == set(IDLE), f"NODATA rows of {sorted(nodata)}, want {sorted(IDLE)}")
        check(set(got) == set(want), f"flows: dpflow {sorted(got)}, tshark {sorted(want)}")
        for k, w in want.items():
            f = got[k]
            typ = "vxlan" if w["vni"] == 100 else "geneve"
            check((f[5], int(f[6]), int(f[7]), f[9], int(f[10]), f[11], f[12]) ==
                  ("6", w["packets"], w["bytes"], typ, w["vni"], w["first"][1], w["first"][2]),
                  f"{k}: dpflow {f}, tshark {w}")
        check("total tunnel-unmatched: 1" in err1, "tunnel-unmatched counter")
        check("total tunnel-vxlan-packets: 6" in err1, "tunnel-vxlan-packets counter")
        check("total tunnel-geneve-packets: 3" in err1, "tunnel-geneve-packets counter")
    return 0


CASES = {"vxlan_geneve_tenants": case_vxlan_geneve_tenants}


def main():
    name = sys.argv[1]
    try:
        rc = CASES[name]()
    except Fail as e:
        print(f"FAIL {name}: {e}")
        return 1
    if rc == 0:
        print(f"PASS {name}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
