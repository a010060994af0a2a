#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end tests of overlay networks (issue 15): VXLAN, GENEVE, GRE /
NVGRE and IP-in-IP tenant traffic decapsulated per tenant interface.

The capture, its interfaces (a config file) and the expected records come
from `tools/gencap.py overlay`, an independent model written from the
overlay spec and the RFCs (7348, 8926, 2784/2890, 7637); the generator is
itself checked against tshark's dissectors (case tshark). dpflow's records
(a custom format with the tunnel-* fields) must equal the model's, line for
line after sorting; its malformed reasons, not-ip and unmatched counters
must equal the model's; --rxq 1 and --rxq 4 must give byte-identical
output.

Cases: tshark (the generator against tshark), records, determinism,
random_rxq (3000 random conversations), decap_none, decap_subset,
vxlan_ports, unmatched_drop (the model's variants), default_format
(check-records), bad_config, acl_inner, nat_inner (verdicts and NAT views
on the inner flow), ibm_inner (connection records against
tools/connmodel.py), doc_example (doc/records.md's VXLAN example),
ipfix_tshark (--ipfix records against the model, read by tshark), and the
live lab: live_vxlan, live_vxlan_2q (kernel VXLAN devices between
namespaces, tcpdump as the reference; root and network namespaces needed,
exit 77 without them).

Usage: overlay.py CASE    Environment as for e2e.py.
"""
import collections
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402
from e2e import (EAL1, EAL4, GENCAP, Fail, check, check_records, counters,  # noqa: E402
                 diff_text, render, run)

WINDOW = 60
FMT = ("${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} "
       "${packets} ${bytes} ${start} ${end} ${tcp-flags} ${tcp-flags-all} ${type} ${tunnel-type} "
       "${tunnel-id} ${tunnel-src} ${tunnel-dst} ${log-status}")
ACCOUNT = ["--account-id", "123456789010"]


class Skip(Exception):
    pass


class Capture:
    """gencap overlay's capture, model, config and per-frame truth in a
    temporary directory; the capture bytes never depend on the options."""

    def __init__(self, d, decap="all", unmatched="log", vxlan_ports="4789,8472", flows=0,
                 window=WINDOW):
        self.window = window
        self.pcap = os.path.join(d, "overlay.pcap")
        self.expect = os.path.join(d, f"overlay-{decap}-{unmatched}-{vxlan_ports}.json")
        self.conf = os.path.join(d, f"overlay-{unmatched}-{vxlan_ports}.conf")
        self.truth = os.path.join(d, "overlay.tsv")
        self.inner = os.path.join(d, "inner")
        os.makedirs(self.inner, exist_ok=True)
        self.decap = decap
        subprocess.run([sys.executable, GENCAP, "overlay", self.pcap, "--expect", self.expect,
                        "--config", self.conf, "--truth", self.truth, "--decap", decap,
                        "--inner-dir", self.inner,
                        "--unmatched", unmatched, "--vxlan-ports", vxlan_ports,
                        "--window", str(window), "--flows", str(flows), "--seed", "7"],
                       check=True, capture_output=True)
        self.model = json.load(open(self.expect))

    def run(self, eal=EAL1, extra=(), fmt=FMT):
        opts = ["--config", self.conf, "--replay", self.pcap, "--window", str(self.window),
                "--output", "-", "--decap", self.decap] + ACCOUNT + list(extra)
        if fmt:
            opts += ["--log-format", fmt]
        rc, out, err = run(eal, opts)
        check(rc == 0, f"dpflow --decap {self.decap} exit {rc}: {err[-2500:]}")
        return out, err

    def want(self, fmt=FMT):
        return render(self.expect, fmt, ACCOUNT)


def same_sorted(want, got, what):
    """Header line equal, then the records equal as sorted lists."""
    w, g = want.splitlines(), got.splitlines()
    check(w[:1] == g[:1], f"{what}: header: want {w[:1]} got {g[:1]}")
    ws, gs = sorted(w[1:]), sorted(g[1:])
    if ws != gs:
        missing = [x for x in ws if x not in gs]
        extra = [x for x in gs if x not in ws]
        raise Fail(f"{what}: records differ from the model\n  missing (model has, dpflow "
                   f"not):\n    " + "\n    ".join(missing[:20]) +
                   "\n  unexpected (dpflow has, model not):\n    " + "\n    ".join(extra[:20]))


def check_counters(cap, err, what):
    """Every malformed reason, not-ip, unmatched and the conservation line."""
    c = counters(err)
    m = cap.model
    check(c.get("conservation") == "ok", f"{what}: conservation: {c.get('conservation')}")
    check(int(c.get("total rx-packets", -1)) == m["packets_total"],
          f"{what}: rx-packets {c.get('total rx-packets')} != {m['packets_total']}")
    check(int(c.get("total not-ip", -1)) == m["not_ip"],
          f"{what}: not-ip {c.get('total not-ip')} != model {m['not_ip']}")
    check(int(c.get("total malformed", -1)) == m["malformed"],
          f"{what}: malformed {c.get('total malformed')} != model {m['malformed']}")
    got = {k[len("total malformed-"):]: int(v) for k, v in c.items()
           if k.startswith("total malformed-")}
    check(got == m["malformed_by_reason"],
          f"{what}: malformed reasons {got} != model {m['malformed_by_reason']}")
    want_unmatched = m["dropped"].get("unmatched", 0)
    check(int(c.get("total unmatched", 0)) == want_unmatched,
          f"{what}: unmatched {c.get('total unmatched')} != model {want_unmatched}")
    # Per interface (a tenant's: its VNI's decapsulated packets and inner bytes)
    per_iface = collections.Counter()
    for r in m["records"]:
        if r["log_status"] == "OK":
            per_iface[(r["interface_id"], "logged-packets")] += r["packets"]
            per_iface[(r["interface_id"], "logged-bytes")] += r["bytes"]
    got_iface = {(i, n): int(v) for i, n, v in
                 re.findall(r"^interface (\S+) port \d+ (logged-packets|logged-bytes): (\d+)$",
                            err, re.M) if int(v) != 0}
    check(got_iface == dict(per_iface),
          f"{what}: per-interface counters {got_iface} != model {dict(per_iface)}")
    # tunnel-TYPE-packets / -bytes: logged as the inner flow; tunnel-unmatched
    for name in ["tunnel-unmatched"] + [f"tunnel-{t}-{u}" for t in ("vxlan", "geneve", "gre",
                                                                    "ipip")
                                        for u in ("packets", "bytes")]:
        want = m["tally"].get(name, 0)
        check(int(c.get("total " + name, 0)) == want,
              f"{what}: {name} {c.get('total ' + name)} != model {want}")


# ---------------------------------------------------------------- cases

def against_model(what, **capture_kw):
    """Run dpflow on the overlay capture for one model variant: records
    equal to the model's after sorting, counters equal to the model's.
    Returns (capture, stdout)."""
    with tempfile.TemporaryDirectory() as d:
        cap = Capture(d, **capture_kw)
        out, err = cap.run()
        same_sorted(cap.want(), out, what)
        check_counters(cap, err, what)
        return cap, out


def case_records():
    """--decap all: every tenant interface's inner flows (tunnel-* fields),
    the underlay's own and unmatched packets by their outer header, NODATA
    per interface; the malformed reasons and not-ip counts of the model."""
    against_model("--decap all")


def case_determinism():
    """--rxq 1 and --rxq 4 give byte-identical records (the earliest packet's
    tunnel-src, the tie to the lower outer source, whatever core saw it)."""
    with tempfile.TemporaryDirectory() as d:
        cap = Capture(d)
        out1, err1 = cap.run(EAL1)
        out4, err4 = cap.run(EAL4, ["--rxq", "4"])
        check(out1 == out4, "rxq 1 and rxq 4 differ: " + diff_text(out1, out4))
        per_core = [int(v) for k, v in counters(err4).items()
                    if re.fullmatch(r"core \d+ rx-packets", k)]
        check(len(per_core) == 4 and min(per_core) > 0, f"RSS spread over 4 cores: {per_core}")
        same_sorted(cap.want(), out4, "--rxq 4")
        check_counters(cap, err4, "--rxq 4")


def case_random_rxq():
    """3000 random conversations in every tunnel type and tenant (gencap
    overlay --flows): equal timestamps, VTEP moves, overlapping inner
    addresses, three 10 s windows; --rxq 1 and --rxq 4 byte-identical and
    equal to the model, counters too."""
    with tempfile.TemporaryDirectory() as d:
        cap = Capture(d, flows=3000, window=10)
        check(cap.model["packets_total"] > 15000, f"packets: {cap.model['packets_total']}")
        out1, err1 = cap.run(EAL1)
        out4, err4 = cap.run(EAL4, ["--rxq", "4"])
        check(out1 == out4, "rxq 1 and rxq 4 differ: " + diff_text(out1, out4))
        same_sorted(cap.want(), out1, "random overlay")
        check_counters(cap, err1, "random overlay, --rxq 1")
        check_counters(cap, err4, "random overlay, --rxq 4")


def case_decap_none():
    """--decap none: today's records, every tunnel by its outer header, and
    no tunnel counter moves (the uplink sections alone: a tenant section
    with --decap none is refused, naming the section and --decap)."""
    with tempfile.TemporaryDirectory() as d:
        cap = Capture(d, decap="none")
        rc, out, err = run(EAL1, ["--config", cap.conf, "--replay", cap.pcap, "--decap", "none"])
        check(rc != 0 and "[interface eni-tenant-a] vni = 100" in err and "--decap" in err,
              f"tenant sections with --decap none: exit {rc}: {err[-400:]}")
        check(out == "", "refused, yet printed records")
        # the config without its tenant sections
        text = open(cap.conf).read()
        sections = re.split(r"\n(?=\[)", text)
        keep = [x for x in sections if "\nvni = " not in x]
        check(len(keep) < len(sections) and any("eni-uplink-v7" in x for x in keep),
              f"sections kept: {keep}")
        with open(cap.conf, "w") as f:
            f.write("\n".join(keep))
        outer = {"interface-id", "eni-underlay", "eni-uplink-v7"}
        out, err = cap.run()
        want = "".join(l + "\n" for l in cap.want().splitlines() if l.split(" ")[1] in outer)
        same_sorted(want, out, "--decap none")
        check_counters(cap, err, "--decap none")
        rows = [l.split(" ") for l in out.splitlines()[1:]]
        check(all(r[14] == "-" for r in rows), "tunnel-type '-' everywhere with --decap none")


def case_decap_subset():
    """--decap vxlan,gre: GENEVE and IP-in-IP stay outer flows on the uplink."""
    against_model("--decap vxlan,gre", decap="vxlan,gre")


def case_vxlan_ports():
    """--vxlan-ports 4789 (config): the VNI 300 traffic to UDP 8472 is a
    plain UDP flow of the uplink."""
    against_model("vxlan-ports = 4789", vxlan_ports="4789")


def case_unmatched_drop():
    """unmatched = drop: the VNI without a tenant interface is counted
    (unmatched, tunnel-unmatched) and not logged; conservation holds."""
    cap, _ = against_model("unmatched = drop", unmatched="drop")
    check(cap.model["dropped"].get("unmatched", 0) > 0, "the model drops something")


def case_default_format():
    """The default (v2) format: the tenant records as AWS consumers read
    them; ../shared/tools/check-records accepts the file."""
    with tempfile.TemporaryDirectory() as d:
        cap = Capture(d)
        out, _ = cap.run(fmt=None)
        same_sorted(cap.want(fmt=None), out, "default format")
        path = os.path.join(d, "default.log")
        with open(path, "w") as f:
            f.write(out)
        check_records(path, WINDOW)     # where ../shared/tools/check-records exists


def case_bad_config():
    """Bad overlay settings are refused with a message naming them."""
    with tempfile.TemporaryDirectory() as d:
        cap = Capture(d)
        rc, out, err = run(EAL1, ["--replay", cap.pcap, "--decap", "vxlan,bogus"])
        check(rc != 0 and "bogus" in err, f"--decap vxlan,bogus: exit {rc}: {err[-400:]}")
        rc, out, err = run(EAL1, ["--replay", cap.pcap, "--vxlan-ports", "70000"])
        check(rc != 0 and "70000" in err, f"--vxlan-ports 70000: exit {rc}: {err[-400:]}")
        # The IPFIX templates of --decap take 756 bytes: a smaller message cannot hold them.
        rc, out, err = run(EAL1, ["--replay", cap.pcap, "--decap", "all", "--ipfix",
                                  "udp://127.0.0.1:9", "--ipfix-message-size", "700"])
        check(rc != 0 and "--ipfix-message-size 700" in err and "756" in err,
              f"--ipfix-message-size 700 with --decap: exit {rc}: {err[-400:]}")
        for text, word in (("[interface eni-x]\nport = 0\nvni = 16777216\n", "16777216"),
                           ("[interface eni-x]\nport = 0\nvni = ten\n", "ten"),
                           ("[interface eni-x]\nport = 0\ndecap = maybe\n", "maybe")):
            path = os.path.join(d, "bad.conf")
            with open(path, "w") as f:
                f.write(text)
            rc, out, err = run(EAL1, ["--config", path, "--replay", cap.pcap])
            check(rc != 0 and word in err and ":3:" in err,
                  f"{text!r}: exit {rc}, want a message naming line 3 and {word!r}: "
                  f"{err[-400:]}")
            check(out == "", f"{text!r}: printed records")


# --------------------------------------------------- tshark cross-check

TSHARK_FIELDS = ("frame.number", "frame.protocols", "vlan.id", "ip.flags.mf", "ip.frag_offset",
                 "ip.src", "ip.dst", "ip.len", "ip.hdr_len",
                 "ipv6.src", "ipv6.dst", "ipv6.plen", "tcp.srcport", "tcp.dstport",
                 "udp.srcport", "udp.dstport", "vxlan.vni", "vxlan.flag_i", "geneve.vni",
                 "geneve.version", "gre.key", "gre.proto", "gre.flags.version",
                 "gre.flags.routing", "_ws.malformed", "_ws.short", "_ws.expert.severity")
TUNNELS = {"vxlan", "geneve", "gre"}
L4 = {"tcp", "udp", "icmp", "icmpv6"}
PROTO = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}


def tshark_frames(pcap):
    if shutil.which("tshark") is None:
        raise Skip("tshark is not installed (tools/deps.sh installs it)")
    # Fragments one by one, as dpflow sees them (it never reassembles).
    cmd = ["tshark", "-r", pcap, "-n", "-o", "ip.defragment:FALSE",
           "-d", "udp.port==8472,vxlan", "-T", "fields",
           "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in TSHARK_FIELDS:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"tshark: {p.stderr[-500:]}")
    frames = {}
    for line in p.stdout.splitlines():
        v = line.split("\t")
        check(len(v) == len(TSHARK_FIELDS), f"tshark line: {line!r}")
        d = {k: (x.split(",") if x else []) for k, x in zip(TSHARK_FIELDS, v)}
        frames[int(v[0])] = d
    return frames


def tshark_inner(f):
    """What tshark decoded in one frame: (tunnel type, id text, inner flow
    with the inner IP length) for a one-level tunnel with an inner IP and
    L4 header, else None. The inner IP is the second IP layer; its L4 the
    layer after it."""
    protos = f["frame.protocols"][0].split(":")
    ips = [i for i, p in enumerate(protos) if p in ("ip", "ipv6")]
    if len(ips) < 2:
        return None
    o, n = ips[0], ips[1]
    between = protos[o + 1:n]
    if not between:
        ttype, tid = "ipip", "-"
    elif "vxlan" in between:
        ttype, tid = "vxlan", str(int(f["vxlan.vni"][0]))
    elif "geneve" in between:
        ttype, tid = "geneve", str(int(f["geneve.vni"][0], 0))
    elif "gre" in between:
        ttype = "gre"
        if not f["gre.key"]:
            tid = "-"
        elif int(f["gre.proto"][0], 0) == 0x6558:       # NVGRE: the VSID
            tid = str(int(f["gre.key"][0], 0) >> 8)
        else:
            tid = str(int(f["gre.key"][0], 0))
    else:
        return None
    fam = protos[n]
    k = protos[:n].count(fam)                   # index among this family's layers
    if len(f[fam + ".src"]) <= k:
        return None                             # a cut inner header: no address
    if fam == "ip":
        src, dst = f["ip.src"][k], f["ip.dst"][k]
        iplen = int(f["ip.len"][k])
    else:
        src, dst = f["ipv6.src"][k], f["ipv6.dst"][k]
        iplen = 40 + int(f["ipv6.plen"][k])
    l4 = protos[n + 1] if n + 1 < len(protos) else None
    if l4 not in L4:
        return None
    sp = dp = 0
    if l4 in ("tcp", "udp"):
        j = protos[:n + 1].count(l4)
        sp, dp = int(f[l4 + ".srcport"][j]), int(f[l4 + ".dstport"][j])
    return ttype, tid, (src, dst, PROTO[l4], sp, dp), iplen


def bad_evidence(f, reason):
    """tshark's own view of a frame the model calls malformed."""
    protos = f["frame.protocols"][0].split(":")
    malformed = bool(f["_ws.malformed"])
    error = any(int(x) >= 0x800000 for x in f["_ws.expert.severity"])
    if reason == "truncated-tunnel":
        return (malformed or bool(f["_ws.short"])) and protos[-1] in TUNNELS
    if reason == "bad-tunnel-header":
        return (f["vxlan.flag_i"][:1] == ["0"] or f["vxlan.flag_i"][:1] == ["False"]
                or any(int(x, 0) != 0 for x in f["geneve.version"][:1])
                or any(int(x, 0) != 0 for x in f["gre.flags.version"][:1])
                or f["gre.flags.routing"][:1] in (["1"], ["True"]))
    if reason == "bad-geneve-options":
        return malformed and protos[-1] == "geneve"
    if reason == "truncated-ethernet":
        return malformed and protos[-1] == "eth"
    if reason == "truncated-ipv4":
        return malformed and protos[-1] == "ip"
    if reason == "bad-ipv4-ihl":
        return error and protos[-1] == "ip" and protos.count("ip") == 2
    if reason == "not-ip":
        return "arp" in protos
    return False


def outer_evidence(f, why):
    """tshark's view of a tunnel the spec never opens."""
    protos = f["frame.protocols"][0].split(":")
    if why == "fragment":
        return f["ip.flags.mf"][:1] in (["1"], ["True"]) or f["ip.frag_offset"][:1] not in (
            [], ["0"])
    if why == "gre-proto":
        return "gre" in protos and "mpls" in protos
    return False


def read_truth(path):
    rows = []
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            rows.append(dict(zip(head, line.rstrip("\n").split("\t"))))
    return rows


def case_tshark():
    """The generator against tshark's dissectors: every tunnel frame decodes
    (per tshark) to the tunnel type, VNI / key / VSID and inner flow the
    generator meant; the model's per-inner-flow totals (packets, bytes =
    inner IP length) equal tshark's; the unmatched VNI is one the config
    gives no tenant interface; each malformed frame shows its fault to
    tshark too."""
    with tempfile.TemporaryDirectory() as d:
        cap = Capture(d, flows=500)
        frames = tshark_frames(cap.pcap)
        truth = read_truth(cap.truth)
        check(len(frames) == len(truth) == cap.model["packets_total"],
              f"frames: tshark {len(frames)}, truth {len(truth)}, "
              f"model {cap.model['packets_total']}")
        tenant_vnis = set()
        for line in open(cap.conf):
            if line.startswith("vni = "):
                tenant_vnis.add(line.split("=")[1].strip())
        seen = collections.Counter()            # tshark's inner flows: packets, bytes
        seen_bytes = collections.Counter()
        unmatched = decap_no = 0
        for row in truth:
            n = int(row["frame"])
            f = frames[n]
            got = tshark_inner(f)
            if row["kind"] == "tunnel":
                want = (row["tunnel"], row["id"], (row["src"], row["dst"], int(row["proto"]),
                                                   int(row["sport"]), int(row["dport"])),
                        int(row["iplen"]))
                check(got == want, f"frame {n}: tshark sees {got}, the generator meant {want}")
                if f["frame.protocols"][0].startswith("eth:ethertype:vlan") and \
                        f["vlan.id"][0] == "7":
                    decap_no += 1               # eni-uplink-v7 (decap = no)
                    continue
                if got[1] not in tenant_vnis and got[1] != "-":
                    unmatched += 1
                    continue
                key = (got[0], got[1]) + got[2]
                seen[key] += 1
                seen_bytes[key] += got[3]
            elif row["kind"].startswith("bad:"):
                reason = row["kind"][4:]
                check(bad_evidence(f, reason), f"frame {n}: the model says {reason}; tshark: "
                      f"{f['frame.protocols']} malformed={f['_ws.malformed']} "
                      f"expert={f['_ws.expert.severity']}")
            elif row["kind"].startswith("outer:"):
                check(outer_evidence(f, row["kind"][6:]), f"frame {n}: {row['kind']}: tshark "
                      f"{f['frame.protocols']}")
            else:
                check(got is None, f"frame {n}: tshark sees a tunnel {got} in a plain packet")
        # the model's decapsulated records, summed over windows and interfaces
        model, model_bytes = collections.Counter(), collections.Counter()
        for r in cap.model["records"]:
            if r["log_status"] != "OK" or "tunnel_type" not in r:
                continue
            key = (r["tunnel_type"], r["tunnel_id"], r["srcaddr"], r["dstaddr"], r["protocol"],
                   r["srcport"], r["dstport"])
            model[key] += r["packets"]
            model_bytes[key] += r["bytes"]
        check(model == seen, f"inner flows: model {sorted(model.items())}\n"
              f"tshark {sorted(seen.items())}")
        check(model_bytes == seen_bytes, "inner bytes: model %s\ntshark %s" % (
            sorted((model_bytes - seen_bytes).items()), sorted((seen_bytes - model_bytes).items())))
        check(unmatched == cap.model["tally"]["tunnel-unmatched"] > 0,
              f"unmatched tunnel frames: tshark {unmatched}, model "
              f"{cap.model['tally']['tunnel-unmatched']}")
        check(decap_no > 0, "the capture has a tunnel on the decap = no uplink")
        reasons = collections.Counter(r["kind"][4:] for r in truth if r["kind"].startswith("bad:"))
        want = dict(cap.model["malformed_by_reason"], **{"not-ip": cap.model["not_ip"]})
        check(dict(reasons) == want, f"malformed frames {dict(reasons)} != model {want}")
        for need in ("vxlan", "geneve", "gre", "ipip"):
            check(any(k[0] == need for k in model), f"no {need} inner flow in the capture")


def case_ibm_inner():
    """IBM connection records of tenant interfaces are the inner
    connections: for every tenant interface, its objects (vnic-id = the
    interface) hold what tools/connmodel.py, the independent connection
    model, gives for the inner packets gencap says that interface logs
    (--inner-dir), with 300 random conversations besides the fixed part."""
    import gzip
    connmodel = os.path.join(os.path.dirname(GENCAP), "connmodel.py")
    with tempfile.TemporaryDirectory() as d:
        cap = Capture(d, flows=300, window=10)
        ibm = os.path.join(d, "ibm")
        cap.run(extra=["--ibm-output", ibm, "--conn-timeout", "300"], fmt=None)
        got = collections.defaultdict(list)         # (interface, window start) -> logs
        for root, _, names in os.walk(ibm):
            if "ibm_vpc_flowlogs_v1" not in root:
                continue                            # the Trustgrid day files
            for n in names:
                m = re.search(r"/vnic-id=([^/]+)/", os.path.join(root, n))
                check(m is not None, f"object outside the IBM layout: {root}/{n}")
                o = json.loads(gzip.decompress(open(os.path.join(root, n), "rb").read()))
                check(o["network_interface_id"] == m.group(1), f"{n}: {o['network_interface_id']}")
                got[(m.group(1), o["capture_start_time"])] += o["flow_logs"]
        want = {}
        tenants = sorted(f[:-5] for f in os.listdir(cap.inner))
        check(len(tenants) >= 8, f"tenant captures: {tenants}")
        for name in tenants:
            p = subprocess.run([sys.executable, connmodel, os.path.join(cap.inner, name + ".pcap"),
                                "--window", str(cap.window), "--conn-timeout", "300"],
                               capture_output=True, text=True, check=True)
            res = json.loads(p.stdout)
            check(res["not_modelled"] == 0, f"{name}: connmodel skipped packets")
            for w, logs in res["windows"].items():
                if logs:
                    t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(w)))
                    want[(name, t)] = logs
        norm = lambda logs: sorted(json.dumps(x, sort_keys=True) for x in logs)
        got = {k: v for k, v in got.items() if v and k[0] in tenants}   # not the underlay
        check(sorted(got) == sorted(want),
              f"(interface, window) with flow logs: dpflow {sorted(set(got) - set(want))[:5]} "
              f"model {sorted(set(want) - set(got))[:5]}")
        for k in sorted(want):
            g, w = norm(got[k]), norm(want[k])
            check(g == w, f"{k}: {len(g)} flow logs, the model {len(w)}\n  dpflow only: "
                  f"{[x for x in g if x not in w][:3]}\n  model only:  "
                  f"{[x for x in w if x not in g][:3]}")
        n = sum(len(v) for v in want.values())
        check(n > 100, f"only {n} flow logs")


ACL_FMT = FMT.replace("${log-status}", "${action} ${log-status}")
ACL_RULES = ["--acl-rule", "deny tcp any any any 80",
             "--acl-rule", "deny udp 10.0.0.0/8 any any 4789",
             "--acl-rule", "deny udp 192.168.1.0/24 any any 6081"]


def acl_verdict(src, proto, dport):
    """The three rules above, first match wins, default allow."""
    import ipaddress
    if proto == 6 and dport == 80:
        return "REJECT"
    if proto == 17 and dport == 4789 and ipaddress.ip_address(src) in \
            ipaddress.ip_network("10.0.0.0/8"):
        return "REJECT"
    if proto == 17 and dport == 6081 and ipaddress.ip_address(src) in \
            ipaddress.ip_network("192.168.1.0/24"):
        return "REJECT"
    return "ACCEPT"


def case_acl_inner():
    """ACL verdicts apply to the inner flow: both tenants' TCP to port 80 and
    the VXLAN packet inside tenant A's tunnel are REJECT; the rule on
    GENEVE's outer header (UDP 6081 from the VTEPs) rejects nothing, since
    every GENEVE packet is logged as its inner flow, and the underlay's own
    VXLAN traffic (unmatched VNI, decap = no uplink) stays ACCEPT."""
    with tempfile.TemporaryDirectory() as d:
        cap = Capture(d)
        out, err = cap.run(extra=ACL_RULES, fmt=ACL_FMT)
        want = cap.want(ACL_FMT).splitlines()
        fixed = [want[0]]
        for line in want[1:]:
            f = line.split(" ")
            if f[-1] == "OK":
                f[-2] = acl_verdict(f[2], int(f[6]), int(f[5]))
            fixed.append(" ".join(f))
        rejects = [l for l in fixed if " REJECT " in l]
        check(len(rejects) >= 4 and any(" vxlan 200 " in l for l in rejects)
              and any(" 4789 17 " in l and " vxlan 100 " in l for l in rejects),
              f"the model rejects tenant flows: {rejects}")
        same_sorted("\n".join(fixed) + "\n", out, "ACL on inner flows")
        check_counters(cap, err, "ACL on inner flows")


NAT_FMT = FMT.replace("${srcaddr} ${dstaddr}",
                      "${pkt-srcaddr} ${pkt-dstaddr} ${srcaddr} ${dstaddr}")


def case_nat_inner():
    """NAT views apply to the inner flow: with `static 10.0.0.1/32
    100.64.0.1/32` every tenant flow from 10.0.0.1 (both tenants: NAT
    rules are the node's) has srcaddr 100.64.0.1 and keeps pkt-srcaddr
    10.0.0.1; a flow to 100.64.0.1 would be translated back; the outer
    addresses of tunnels and the underlay's flows are untouched."""
    with tempfile.TemporaryDirectory() as d:
        cap = Capture(d)
        out, err = cap.run(extra=["--nat-rule", "static 10.0.0.1/32 100.64.0.1/32"], fmt=NAT_FMT)
        want = cap.want(NAT_FMT).splitlines()
        fixed, n = [want[0]], 0
        for line in want[1:]:
            f = line.split(" ")            # version interface pkt-src pkt-dst src dst ...
            if f[-1] == "OK" and f[4] == "10.0.0.1":
                f[4], n = "100.64.0.1", n + 1
            if f[-1] == "OK" and f[5] == "100.64.0.1":
                f[5] = "10.0.0.1"
            fixed.append(" ".join(f))
        check(n >= 5, f"the model has {n} flows from 10.0.0.1")
        same_sorted("\n".join(fixed) + "\n", out, "NAT on inner flows")
        check_counters(cap, err, "NAT on inner flows")


DOC_FMT = ("${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} "
           "${bytes} ${start} ${tunnel-type} ${tunnel-id} ${tunnel-src} ${tunnel-dst} "
           "${log-status}")
DOC_IFACES = ("eni-tenant-a", "eni-b-web")


def case_doc_example():
    """doc/records.md's VXLAN example (the block after '<!-- test:
    overlay-example -->') is what dpflow prints for the overlay capture, for
    the two tenant interfaces it shows, and what the model says."""
    doc = os.path.join(os.path.dirname(GENCAP), "..", "doc", "records.md")
    with open(doc) as f:
        m = re.search(r"<!-- test: overlay-example -->\s*```[a-z]*\n(.*?)```", f.read(), re.S)
    check(m is not None, f"{doc} has no '<!-- test: overlay-example -->' block")
    block = m.group(1).splitlines()
    keep = lambda lines: [l for l in lines if l.split(" ")[0] in DOC_IFACES + ("interface-id",)]
    with tempfile.TemporaryDirectory() as d:
        cap = Capture(d)
        out, _ = cap.run(fmt=DOC_FMT)
        got = keep(out.splitlines())
        check(block == got, "doc/records.md's overlay example is not what dpflow prints: "
              + diff_text("\n".join(block), "\n".join(got)))
        want = keep(cap.want(DOC_FMT).splitlines())
        check(sorted(block) == sorted(want), "doc/records.md's overlay example is not the "
              "model's: " + diff_text("\n".join(sorted(want)), "\n".join(sorted(block))))


# ---------------------------------------------------- IPFIX with --decap

class UdpCollector:
    """A UDP socket on the loopback keeping every datagram (a thread reads
    it), for --ipfix udp://127.0.0.1:PORT."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.dgrams, self.idle = [], 0
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while self.sock is not None:
            try:
                self.dgrams.append(self.sock.recv(65535))
                self.idle = 0
            except socket.timeout:
                self.idle += 1
            except OSError:
                return

    def close(self):
        """Once dpflow has exited: wait for a quiet second, then stop."""
        deadline = time.time() + 30
        self.idle = 0
        while self.idle < 5 and time.time() < deadline:
            time.sleep(0.1)
        sock, self.sock = self.sock, None
        self.thread.join(timeout=5)
        sock.close()
        return self.dgrams


def write_udp_pcap(path, dgrams, dport):
    """The datagrams as a pcap of raw IPv4 / UDP packets (linktype 101)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
        for i, d in enumerate(dgrams):
            udp = struct.pack("!HHHH", 40000, dport, 8 + len(d), 0) + d
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                             bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(ip), len(ip)) + ip)


def tshark_ipfix(pcap, port):
    """Every data record tshark's IPFIX (cflow) dissector decodes, as
    (set id, {field: value}); a subTemplateList as field 'list': (semantic,
    template id, [{field: value} of each sub-record])."""
    p = subprocess.run(["tshark", "-r", pcap, "-n", "-d", f"udp.port=={port},cflow", "-T", "pdml"],
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"tshark: {p.stderr[-500:]}")
    check("_ws.malformed" not in p.stdout and "_ws.expert" not in p.stdout,
          "tshark finds the IPFIX messages malformed")

    def fields(el):
        out = {}
        for c in el:
            name = c.get("name")
            if name == "cflow.timedelta":
                for t in c:
                    out.setdefault(t.get("name"), int(t.get("value")[:8], 16))
            elif name == "cflow.subtemplate_list":
                items = [fields(i) for i in c if i.get("show", "").startswith("List Item")]
                sem = [int(i.get("show")) for i in c if i.get("name") == "cflow.subtemplate_semantic"]
                tid = [int(i.get("show")) for i in c if i.get("name") == "cflow.subtemplate_id"]
                out["list"] = (sem[0], tid[0], items)
            elif name:
                out[name] = c.get("show")
        return out

    recs, set_id = [], None
    for proto in ET.fromstring(p.stdout).iter("proto"):
        if proto.get("name") != "cflow":
            continue
        for el in proto.iter("field"):
            if el.get("name") == "cflow.flowset_id":
                set_id = int(el.get("show"))
            elif el.get("name") == "" and el.get("show", "").startswith("Flow "):
                recs.append((set_id, fields(el)))
    return recs


def ipfix_want(r):
    """What the IPFIX record of a model record holds (dpf_ipfix.h, doc/scale-out.md)."""
    v6 = r["type"] == "IPv6"
    key = (r["interface_id"], r["srcaddr"], r["dstaddr"], r["srcport"], r["dstport"],
           r["protocol"], r["packets"], r["bytes"], r["start"], r["end"])
    if "tunnel_type" not in r:
        return key + (257 if v6 else 256, None, None, None)
    t, tid = r["tunnel_type"], r["tunnel_id"]
    if t == "vxlan" or (t == "gre" and r["tunnel_nvgre"]):
        tmpl, ident = 259, ("layer2SegmentId", (1 if t == "vxlan" else 2) << 56 | int(tid))
    elif t == "gre" and tid != "-":
        tmpl, ident = 261, ("greKey", int(tid))
    else:
        tmpl, ident = 263, None
    outer6 = ":" in r["tunnel_src"]
    # allOf (3), one record of the outer family's sub-template
    outer = (3, 266 if outer6 else 265, ((r["tunnel_src"], r["tunnel_dst"]),))
    return key + (tmpl + v6, ident[0] if ident else None, ident[1] if ident else None, outer)


def ipfix_got(set_id, f, names):
    """The same view of a record as tshark decoded it."""
    v6 = "cflow.srcaddrv6" in f
    a = "cflow.srcaddrv6" if v6 else "cflow.srcaddr"
    b = "cflow.dstaddrv6" if v6 else "cflow.dstaddr"
    ident = (("layer2SegmentId", int(f["cflow.layer2_segment_id"]))
             if "cflow.layer2_segment_id" in f else
             ("greKey", int(f["cflow.gre_key"])) if "cflow.gre_key" in f else (None, None))
    outer = None
    if "list" in f:
        sem, tid, items = f["list"]
        outer = (sem, tid, tuple((i.get("cflow.srcaddr", i.get("cflow.srcaddrv6")),
                                  i.get("cflow.dstaddr", i.get("cflow.dstaddrv6")))
                                 for i in items))
    return (names.get(int(f["cflow.inputint"]), f["cflow.inputint"]), f[a], f[b],
            int(f.get("cflow.srcport", 0)), int(f.get("cflow.dstport", 0)),
            int(f["cflow.protocol"]), int(f["cflow.packets"]), int(f["cflow.octets"]),
            f["cflow.abstimestart"], f["cflow.abstimeend"], set_id) + ident + (outer,)


def case_ipfix_tshark():
    """--decap with --ipfix: tshark's IPFIX dissector decodes every record
    as the model says: the inner flow (addresses, ports, protocol, packets,
    bytes, start, end, the tenant interface by its interfaceName option
    record); VXLAN and NVGRE in 259 / 260 with layer2SegmentId (type 0x01 /
    0x02, the VNI / VSID), a GRE key in 261 / 262 with greKey, GENEVE, keyless
    GRE and IP-in-IP in 263 / 264; every tunnel's outer addresses (the
    earliest packet's) as a subTemplateList, allOf, of one record of 265
    (IPv4) or 266 (IPv6); the underlay's own flows in 256 / 257. The
    capture: gencap overlay's scenario and 3000 random conversations (every
    tunnel type, both families inside and outside)."""
    if shutil.which("tshark") is None:
        raise Skip("tshark is not installed (tools/deps.sh installs it)")
    with tempfile.TemporaryDirectory() as d:
        cap = Capture(d, flows=3000)
        col = UdpCollector()
        try:
            out, err = cap.run(extra=["--ipfix", f"udp://127.0.0.1:{col.port}",
                                      "--ipfix-interface-names", "yes"])
        finally:
            dgrams = col.close()
        c = counters(err)
        ok = [r for r in cap.model["records"] if r["log_status"] == "OK"]
        check(int(c.get("ipfix records", -1)) == len(ok) and
              int(c.get("ipfix records-dropped", -1)) == 0,
              f"dpflow sent {c.get('ipfix records')} IPFIX records, the model has {len(ok)}")
        pcap = os.path.join(d, "ipfix.pcap")
        write_udp_pcap(pcap, dgrams, col.port)
        recs = tshark_ipfix(pcap, col.port)
        names = {int(f["cflow.inputint"]): f["cflow.if_name"] for s, f in recs if s == 258}
        got = sorted((ipfix_got(s, f, names) for s, f in recs if s != 258), key=repr)
        want = sorted((ipfix_want(r) for r in ok), key=repr)
        kinds = collections.Counter(w[10] for w in want)
        check(all(kinds[t] > 0 for t in (256, 259, 260, 261, 262, 263, 264)),
              f"the model covers the templates: {dict(kinds)}")
        check(any(w[13] and w[13][1] == 266 for w in want) and
              any(w[13] and w[13][1] == 265 for w in want), "IPv4 and IPv6 outer addresses")
        if got != want:
            missing = [x for x in want if x not in got]
            extra = [x for x in got if x not in want]
            raise Fail(f"IPFIX records differ from the model ({len(got)} vs {len(want)})\n"
                       "  missing:\n    " + "\n    ".join(map(repr, missing[:10])) +
                       "\n  unexpected:\n    " + "\n    ".join(map(repr, extra[:10])))
        print(f"ok: {len(got)} records, templates {dict(kinds)}")


# ------------------------------------------------------------- live lab

LIVE_WINDOW = 10
LIVE_FIELDS = ["interface-id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol",
               "packets", "bytes", "start", "end", "tcp-flags", "tcp-flags-all",
               "tunnel-type", "tunnel-id", "tunnel-src", "tunnel-dst", "log-status"]
U_A, U_B = "192.168.77.1", "192.168.77.2"     # the underlay (VTEPs)
T_A, T_B = "10.0.0.1", "10.0.0.2"             # both tenants' inner addresses
LIVE_PORTS = {"echo": 7007, "sink": 7008, "warm": 7009}   # live.py's echo and sink ports

# In a tenant namespace of a: n UDP echoes and a TCP connection sending n
# chunks of 300 bytes.
LIVE_CLIENT = r"""
import socket, sys
host, n = sys.argv[1], int(sys.argv[2])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(5)
for i in range(n):
    u.sendto(bytes(50 + i), (host, %d))
    assert len(u.recvfrom(65535)[0]) == 50 + i
c = socket.create_connection((host, %d), timeout=10)
for i in range(n):
    c.sendall(b"t" * 300)
c.close()
""" % (LIVE_PORTS["echo"], LIVE_PORTS["sink"])

def vxlan_decode(t_ns, fr, lab):
    """The tcpdump capture read apart from dpflow: (VNI, outer source,
    outer destination, inner Packet) for an IPv4 / UDP 4789 frame with a
    whole VXLAN header (I flag set), else (None, outer Packet)."""
    outer = lab.parse_frame(t_ns, fr)
    if outer.family != 4 or outer.proto != 17 or outer.dport != 4789:
        return None, outer
    l4 = 14 + outer.hdr_len
    vx = fr[l4 + 8:l4 + 16]
    if len(vx) < 8 or not vx[0] & 0x08:
        return None, outer
    vni = int.from_bytes(vx[4:7], "big")
    return (vni, outer.src, outer.dst), lab.parse_frame(t_ns, fr[l4 + 16:])


def case_live_vxlan():
    """One af_packet queue (see live_vxlan_q)."""
    live_vxlan_q(1)


def case_live_vxlan_2q():
    """Two af_packet queues (--rxq 2): the kernel's fanout spreads the
    tunnels over two RX cores; the records are the same."""
    live_vxlan_q(2)


def live_vxlan_q(qpairs):
    """Real kernel VXLAN between two hosts (namespaces a and b, a bridge in
    sw), two tenants with the same inner addresses 10.0.0.1 / 10.0.0.2 on
    VNI 100 and VNI 200 (each VXLAN device moved into its tenant's own
    namespace); ping, UDP echo and TCP through both. dpflow on the bridge
    port's af_packet with --decap vxlan; tcpdump on the same port is the
    reference, its frames decoded here: every tenant row equals the inner
    packets of its VNI (lab.check_records: per flow and window), with
    tunnel-type vxlan, the VNI, and the VTEPs of the flow's first packet."""
    import signal
    import time
    import lab
    import live                 # its servers: UDP echo and TCP sink, dual-stack
    from lab import Lab, sh
    lab.DPFLOW = e2e.DPFLOW
    check((live.ECHO_PORT, live.SINK_PORT) == (LIVE_PORTS["echo"], LIVE_PORTS["sink"]),
          "live.py's server ports")
    lab.require_lab()
    for tool in ("ping", "ethtool"):
        check(shutil.which(tool) is not None, f"{tool} is not installed (tools/deps.sh)")
    with Lab("ovl") as L:
        a, b, sw = L.netns("a"), L.netns("b"), L.netns("sw")
        L.veth(a, "eth0", sw, "pa")
        L.veth(b, "eth0", sw, "pb")
        L.bridge(sw, "br0", ["pa", "pb"])
        L.addr(a, "eth0", U_A + "/24")
        L.addr(b, "eth0", U_B + "/24")
        L.neigh(a, "eth0", U_B, L.mac(b, "eth0"))
        L.neigh(b, "eth0", U_A, L.mac(a, "eth0"))
        tenants = {}
        for vni in (100, 200):
            names = {}
            for host, local, remote, inner in ((a, U_A, U_B, T_A), (b, U_B, U_A, T_B)):
                ns = L.netns(f"{'a' if host == a else 'b'}{vni}")
                dev = f"vx{vni}"
                r = sh(["ip", "link", "add", dev, "type", "vxlan", "id", str(vni), "local",
                        local, "remote", remote, "dstport", "4789", "dev", "eth0"], ns=host,
                       check=False)
                if r.returncode != 0 and re.search(r"Unknown device type|not supported",
                                                   r.stderr, re.I):
                    raise Skip(f"this kernel has no VXLAN devices: {r.stderr.strip()}")
                check(r.returncode == 0, f"ip link add {dev} type vxlan: {r.stderr}")
                # The device keeps its UDP socket in the host's namespace.
                sh(["ip", "link", "set", dev, "netns", ns], ns=host)
                sh(["sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1"], ns=ns,
                   check=False)
                L.offloads_off(ns, dev)
                sh(["ip", "link", "set", dev, "up"], ns=ns)
                L.addr(ns, dev, inner + "/24")
                names[inner] = (ns, L.mac(ns, dev))
            for inner, peer in ((T_A, T_B), (T_B, T_A)):
                L.neigh(names[inner][0], f"vx{vni}", peer, names[peer][1])
            tenants[vni] = (names[T_A][0], names[T_B][0])
        for vni, (_, nb) in tenants.items():
            L.popen(["python3", "-c", live.SERVERS], ns=nb)
            live.wait_listening(nb, live.SINK_PORT)
            live.wait_listening(nb, live.ECHO_PORT, udp=True)
        conf = L.path("live.conf")
        with open(conf, "w") as f:
            f.write("[interface eni-uplink]\nport = 0\n"
                    "[interface eni-tenant100]\nport = 0\nvni = 100\n"
                    "[interface eni-tenant200]\nport = 0\nvni = 200\n")
        td = L.tcpdump(sw, "pa", "pa.pcap")
        stalls = lab.StallWatch().start()
        fmt = " ".join("${%s}" % x for x in LIVE_FIELDS)
        dp = L.dpflow(sw, ["net_af_packet0,iface=pa" + (f",qpairs={qpairs}" if qpairs > 1
                                                          else "")],
                      ["--config", conf, "--decap", "vxlan", "--clock", "wall", "--window",
                       str(LIVE_WINDOW), "--output", "-", "--log-format", fmt,
                       "--stats-period", "1", "--rxq", str(qpairs)],
                      lcores=f"(0-{qpairs})@(0-1)")
        warm = L.popen(["python3", "-c", live.WARM_UP, U_B, str(LIVE_PORTS["warm"]),
                        str(LIVE_PORTS["warm"])], ns=a)
        deadline = time.time() + 120
        try:
            while True:
                dp.err_file.seek(0)
                if re.search(r"^dpflow: rx [1-9]", dp.err_file.read(), re.M):
                    break
                check(dp.poll() is None and time.time() < deadline,
                      "dpflow counted no warm-up packet")
                time.sleep(0.05)
        finally:
            L.stop(warm, signal.SIGTERM)
        for vni, (na, nb) in tenants.items():
            n = 3 if vni == 100 else 5          # the tenants' counts differ
            r = sh(["ping", "-q", "-c", str(n), "-i", "0.2", "-W", "3", T_B], ns=na,
                   check=False)
            check(r.returncode == 0, f"ping over VNI {vni}: {r.stdout}{r.stderr}")
            r = sh(["python3", "-c", LIVE_CLIENT, T_B, str(n)], ns=na, check=False,
                   timeout=60)
            check(r.returncode == 0, f"UDP/TCP over VNI {vni}: {r.stderr}")
        time.sleep(0.5)
        pcap = L.stop_tcpdump(td)
        rc, out, err = L.dpflow_result(dp, signal.SIGINT)
        stalls.stop()
        check(rc == 0, f"dpflow exit {rc}:\n{err[-3000:]}")
        c = counters(err)
        check(c.get("conservation") == "ok", f"conservation: {c.get('conservation')}")
        rows = lab.records(out, LIVE_FIELDS)

        by_vni, outer_pkts, first_vtep = {100: [], 200: []}, [], {}
        for t_ns, fr in lab.pcap_frames(pcap):
            tun, p = vxlan_decode(t_ns, fr, lab)
            if tun is None:
                outer_pkts.append(p)
                continue
            check(tun[0] in by_vni, f"VNI {tun[0]} in the capture")
            by_vni[tun[0]].append(p)
            if p.family is not None:
                first_vtep.setdefault((tun[0], p.src, p.dst, p.proto), tun[1:])
        late = stalls.late_ns()
        problems = []
        for vni, pkts in by_vni.items():
            check(sum(1 for p in pkts if p.proto == 6) >= 6 and
                  sum(1 for p in pkts if p.proto == 1) >= 6,
                  f"VNI {vni}: TCP and ICMP through the tunnel: {len(pkts)} packets")
            mine = [r for r in rows if r["interface-id"] == f"eni-tenant{vni}"]
            problems += [f"VNI {vni}: {x}" for x in
                         lab.check_records(mine, pkts, LIVE_WINDOW, late_ns=late)]
            for r in mine:
                if r["log-status"] != "OK":
                    continue
                vt = first_vtep.get((vni, r["srcaddr"], r["dstaddr"], int(r["protocol"])))
                want = ("vxlan", str(vni)) + (vt or ("?", "?"))
                got = (r["tunnel-type"], r["tunnel-id"], r["tunnel-src"], r["tunnel-dst"])
                if got != want:
                    problems.append(f"VNI {vni}: row {r}: tunnel fields {got}, want {want}")
        up = [r for r in rows if r["interface-id"] == "eni-uplink"]
        problems += ["uplink: " + x for x in lab.check_records(
            up, outer_pkts, LIVE_WINDOW, late_ns=late,
            loose=lambda k: LIVE_PORTS["warm"] in (k[4], k[5]))]
        check(not problems, "records differ from the capture:\n" + "\n".join(problems[:20]))
        check(not any(r["tunnel-type"] != "-" for r in up), "uplink rows are outer flows")
        inner_total = sum(len(v) for v in by_vni.values())
        check(int(c["conservation received"]) == inner_total + len(outer_pkts),
              f"dpflow received {c['conservation received']}, the wire carried "
              f"{inner_total + len(outer_pkts)}")
        if qpairs > 1:
            per_core = [int(v) for k, v in c.items() if re.fullmatch(r"core \d+ rx-packets", k)]
            check(len(per_core) == qpairs and min(per_core) > 0,
                  f"the fanout spread the frames over {qpairs} cores: {per_core}")
        print(f"ok: {len(rows)} rows; VNI 100 {len(by_vni[100])} and VNI 200 "
              f"{len(by_vni[200])} inner packets, {len(outer_pkts)} underlay")


CASES = {n[5:]: f for n, f in globals().items() if n.startswith("case_")}

if __name__ == "__main__":
    e2e.main(CASES, Fail, Skip)
