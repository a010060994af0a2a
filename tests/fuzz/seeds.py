#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Seed corpora for the fuzz targets, written into OUTDIR.

Usage: seeds.py TARGET OUTDIR      (TARGET: pkt, fmt, cfg, options, cmdfile)

pkt: every frame of tests/data/sample.pcap (real frames), then crafted ones:
  each base frame cut at every offset, IPv4 IHL 0..4, total lengths larger
  than the frame and smaller than the header, IPv6 payload lengths past the
  frame, extension-header chains (long, looping back to hop-by-hop, past the
  payload, truncated), VLAN stacks of 1 to 6 tags, ICMP and ICMPv6 errors
  quoting UDP, TCP, an echo and a fragment, a zero-length frame, jumbo
  frames, length fields of 0 (TSO/GRO captures, a jumbogram) and an IPv6
  TCP frame cut at 64 bytes. Tunnels (issue 15): VXLAN (with an inner VLAN),
  GENEVE with options, GRE with checksum, key and sequence, NVGRE, IPv4-in-IPv4
  and IPv6-in-IPv6, VXLAN inside VXLAN, each cut at every offset, and malformed
  ones (no I flag, GENEVE options past the payload, GRE version 1).
fmt / cfg / options: the good examples of the documentation and every bad
  input of tests/e2e/bad_inputs.tsv.
cmdfile: the prompt's commands as a --cmdline-file, CRLF endings, comments,
  lines of the longest length and one byte more, the long comment whose tail
  an earlier reader ran as a command, control and NUL bytes.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SAMPLE = os.path.join(ROOT, "tests", "data", "sample.pcap")
BAD = os.path.join(ROOT, "tests", "e2e", "bad_inputs.tsv")

MAC = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01"
ALL_FIELDS = ("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} "
              "${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} "
              "${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} "
              "${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${sublocation-type} "
              "${sublocation-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} "
              "${flow-direction} ${traffic-path} ${pkt-srcport} ${pkt-dstport} ${tcp-flags-all}")
DEFAULT = ("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} "
           "${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}")


def pcap_frames(path):
    data = open(path, "rb").read()
    magic = struct.unpack_from("<I", data)[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack_from(end + "IIII", data, off)
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return out


def ipv4(proto, l4, ihl=5, total=None, frag=0, opts=b""):
    hdr_len = ihl * 4 if ihl >= 5 else 20
    opts = (opts + bytes(40))[:max(0, hdr_len - 20)]
    total = total if total is not None else 20 + len(opts) + len(l4)
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total & 0xFFFF, 1, frag, 64, proto, 0,
                     bytes([10, 0, 0, 1]), bytes([192, 0, 2, 10]))
    return ip + opts + l4


def ipv6(nh, payload, plen=None):
    plen = plen if plen is not None else len(payload)
    return (struct.pack("!IHBB", 0x60000000, plen & 0xFFFF, nh, 64)
            + bytes.fromhex("20010db8000000010000000000000010")
            + bytes.fromhex("20010db8000000020000000000000080") + payload)


def eth(etype, body, vlans=()):
    tags = b"".join(struct.pack("!HH", tpid, vid) for tpid, vid in vlans)
    if vlans:
        first = vlans[0][0]
        inner = [t for t, _ in vlans[1:]] + [etype]
        tags = b"".join(struct.pack("!HH", vid, nxt) for (_, vid), nxt in zip(vlans, inner))
        return MAC + struct.pack("!H", first) + tags + body
    return MAC + struct.pack("!H", etype) + body


TCP = struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 0x50, 0x02, 65535, 0, 0)
TCP_OPTS = struct.pack("!HHIIBBHHH", 40000, 443, 1, 0, 0x80, 0x12, 65535, 0, 0) + bytes(12)
UDP = struct.pack("!HHHH", 53000, 53, 8 + 12, 0) + bytes(12)


def ext(nh, length_units=0, body=None):
    """A generic IPv6 extension header (hop-by-hop, routing, dest options)."""
    size = (length_units + 1) * 8
    return bytes([nh, length_units]) + (body or bytes(size - 2))


INNER_MAC = b"\x02\xaa\x00\x00\x00\x07\x02\xaa\x00\x00\x00\x05"


def udp_to(dport, payload):
    return struct.pack("!HHHH", 50000, dport, 8 + len(payload), 0) + payload


def vxlan(vni, inner, flags=0x08):
    return struct.pack("!B3xI", flags, vni << 8) + inner


def geneve(vni, proto, inner, opt_words=0, version=0):
    return (struct.pack("!BBHI", version << 6 | opt_words, 0, proto, vni << 8)
            + bytes(4 * opt_words) + inner)


def gre(proto, inner, key=None, csum=False, seq=False, flags=0):
    flags |= (0x8000 if csum else 0) | (0x2000 if key is not None else 0) | (0x1000 if seq else 0)
    hdr = struct.pack("!HH", flags, proto)
    if csum:
        hdr += bytes(4)
    if key is not None:
        hdr += struct.pack("!I", key)
    if seq:
        hdr += struct.pack("!I", 7)
    return hdr + inner


def tunnel_seeds():
    inner_v4 = INNER_MAC + b"\x08\x00" + ipv4(6, TCP)
    inner_vlan = INNER_MAC + b"\x81\x00\x00\x64\x08\x00" + ipv4(17, UDP)
    return {
        "vxlan": eth(0x0800, ipv4(17, udp_to(4789, vxlan(100, inner_v4)))),
        "vxlan-8472-vlan": eth(0x86DD, ipv6(17, udp_to(8472, vxlan(7, inner_vlan)))),
        "geneve-opts": eth(0x0800, ipv4(17, udp_to(6081, geneve(5, 0x6558, inner_v4, 2)))),
        "geneve-ip": eth(0x0800, ipv4(17, udp_to(6081, geneve(5, 0x0800, ipv4(6, TCP))))),
        "gre-key-csum-seq": eth(0x0800, ipv4(47, gre(0x0800, ipv4(6, TCP), key=42, csum=True,
                                                     seq=True))),
        "nvgre": eth(0x0800, ipv4(47, gre(0x6558, inner_v4, key=0xabcd01))),
        "ipip": eth(0x0800, ipv4(4, ipv4(6, TCP))),
        "ip6ip6": eth(0x86DD, ipv6(41, ipv6(17, UDP))),
        "vxlan-in-vxlan": eth(0x0800, ipv4(17, udp_to(4789, vxlan(
            1, INNER_MAC + b"\x08\x00" + ipv4(17, udp_to(4789, vxlan(2, inner_v4))))))),
    }


def pkt_seeds():
    seeds = {}
    for i, fr in enumerate(pcap_frames(SAMPLE)):
        seeds[f"sample-{i:03d}"] = fr
    base = {
        "v4-tcp": eth(0x0800, ipv4(6, TCP)),
        "v4-tcp-opts": eth(0x0800, ipv4(6, TCP_OPTS, ihl=6, opts=b"\x94\x04\x00\x00")),
        "v4-udp-qinq": eth(0x0800, ipv4(17, UDP), vlans=((0x88A8, 100), (0x8100, 200))),
        "v4-frag-first": eth(0x0800, ipv4(17, UDP, frag=0x2000)),
        "v4-frag-later": eth(0x0800, ipv4(17, bytes(16), frag=0x0002)),
        "v6-ext-tcp": eth(0x86DD, ipv6(0, ext(60) + ext(43, 0) + ext(6) + TCP)),
        "v6-frag-udp": eth(0x86DD, ipv6(44, bytes([17, 0, 0, 1, 0, 0, 0, 7]) + UDP)),
        "v6-ah-icmp": eth(0x86DD, ipv6(51, bytes([58, 1]) + bytes(10) + bytes(8))),
        # ICMP errors quoting what they are about (forward mode translates both).
        "v4-icmp-unreach-udp": eth(0x0800, ipv4(1, bytes([3, 3, 0, 0, 0, 0, 0, 0])
                                                + ipv4(17, UDP))),
        "v4-icmp-ttl-echo": eth(0x0800, ipv4(1, bytes([11, 0, 0, 0, 0, 0, 0, 0])
                                             + ipv4(1, bytes([8, 0, 0, 0, 0x12, 0x34, 0, 1])))),
        "v6-icmp-unreach-tcp": eth(0x86DD, ipv6(58, bytes([1, 4, 0, 0, 0, 0, 0, 0])
                                                + ipv6(6, TCP))),
        "v6-icmp-too-big-frag": eth(0x86DD, ipv6(58, bytes([2, 0, 0, 0, 0, 0, 5, 0x28])
                                                 + ipv6(44, bytes([17, 0, 0, 1, 0, 0, 0, 7])
                                                        + UDP))),
    }
    base.update({f"tun-{k}": v for k, v in tunnel_seeds().items()})
    for name, fr in base.items():
        seeds[name] = fr
        for k in range(len(fr)):
            seeds[f"{name}-cut{k:03d}"] = fr[:k]
    for ihl in range(5):
        seeds[f"v4-ihl{ihl}"] = eth(0x0800, ipv4(6, TCP, ihl=ihl))
    seeds["v4-total-past-frame"] = eth(0x0800, ipv4(6, TCP, total=1500))
    seeds["v4-total-below-header"] = eth(0x0800, ipv4(6, TCP, total=12))
    seeds["v4-total-below-l4"] = eth(0x0800, ipv4(6, TCP, total=24))
    seeds["v4-bad-version"] = eth(0x0800, b"\x65" + ipv4(6, TCP)[1:])
    seeds["v6-plen-past-frame"] = eth(0x86DD, ipv6(6, TCP, plen=9000))
    seeds["v6-plen-zero"] = eth(0x86DD, ipv6(6, TCP, plen=0))
    # Segmentation offload super-packets captured before the stack set the
    # length (TSO, GRO, BIG TCP), a jumbogram, and an empty IPv6 packet.
    seeds["v4-tso-total-zero"] = eth(0x0800, ipv4(6, TCP + bytes(4000), total=0))
    seeds["v6-tso-plen-zero"] = eth(0x86DD, ipv6(6, TCP + bytes(4000), plen=0))
    seeds["v6-jumbogram"] = eth(0x86DD, ipv6(0, bytes([17, 0, 0xC2, 4, 0, 1, 0, 0]) + UDP,
                                             plen=0))
    seeds["v6-no-next-header"] = eth(0x86DD, ipv6(59, b"", plen=0)) + bytes(6)
    # tcpdump -s 64: the TCP header cut after the ports.
    seeds["v6-tcp-snaplen-64"] = eth(0x86DD, ipv6(6, TCP_OPTS + bytes(100)))[:64]
    chain = b"".join(ext(60) for _ in range(12)) + TCP
    seeds["v6-long-chain"] = eth(0x86DD, ipv6(60, chain))
    seeds["v6-loop-to-hbh"] = eth(0x86DD, ipv6(0, ext(60) + ext(0) + ext(60) + TCP))
    seeds["v6-ext-past-payload"] = eth(0x86DD, ipv6(60, ext(6, 200) [:16], plen=16))
    seeds["v6-ext-truncated"] = eth(0x86DD, ipv6(60, ext(6, 4)))[:14 + 40 + 20]
    seeds["v6-frag-later"] = eth(0x86DD, ipv6(44, bytes([6, 0, 0, 0x18, 0, 0, 0, 9]) + bytes(8)))
    for n in range(1, 7):
        tags = tuple((0x8100 if i else 0x88A8, 10 + i) for i in range(n))
        seeds[f"vlan-stack-{n}"] = eth(0x0800, ipv4(17, UDP), vlans=tags)
    seeds["vlan-9100-arp"] = eth(0x0806, bytes(28), vlans=((0x9100, 5),))
    seeds["tun-vxlan-no-i-flag"] = eth(0x0800, ipv4(17, udp_to(4789, vxlan(1, b"", flags=0))))
    seeds["tun-geneve-options-past"] = eth(0x0800, ipv4(17, udp_to(6081, geneve(
        5, 0x6558, bytes(8), opt_words=63))))
    seeds["tun-gre-v1"] = eth(0x0800, ipv4(47, gre(0x880B, bytes(20), key=1, flags=1)))
    seeds["zero-length"] = b""
    seeds["jumbo-v4"] = eth(0x0800, ipv4(17, struct.pack("!HHHH", 1, 2, 8980, 0) + bytes(8972)))
    seeds["jumbo-v6"] = eth(0x86DD, ipv6(17, struct.pack("!HHHH", 1, 2, 8960, 0) + bytes(8952)))
    return seeds


def bad_rows(kind):
    out = []
    for line in open(BAD):
        if line.startswith("#") or not line.strip():
            continue
        k, inp, _ = line.rstrip("\n").split("\t")
        if k == kind:
            # As the e2e test writes them: text files in UTF-8.
            out.append(inp.encode().decode("unicode_escape").encode("utf-8"))
    return out


def fmt_seeds():
    rec = bytes(range(256))
    meta = b"\0".join([b"123456789010", b"eni-1235b8ca123456789", b"vpc-1", b"subnet-1",
                       b"i-1", b"eu-west-1", b"euw1-az1", b"wavelength", b"wlid",
                       b"AMAZON", b"S3"])
    seeds = {"default": DEFAULT.encode() + b"\0" + rec + meta,
             "all-fields": ALL_FIELDS.encode() + b"\0" + rec + meta,
             "all-fields-zero": ALL_FIELDS.encode() + b"\0" + bytes(256)}
    for i, f in enumerate(bad_rows("format")):
        seeds[f"bad-{i:02d}"] = f + b"\0" + rec
    return seeds


GOOD_CONF = (b"# dpflow\n[dpflow]\nwindow = 60\noutput = -\naccount-id = 123456789010\n"
             b"log-format = \"" + ALL_FIELDS.encode() + b"\"\n\n"
             b"[interface eni-1235b8ca123456789]\nport = 0\nvpc-id = vpc-abcdefab012345678\n"
             b"subnet-id = subnet-aaaaaaaa012345678\ninstance-id = i-01234567890123456\n")


def cfg_seeds():
    seeds = {"good": GOOD_CONF, "empty": b"", "crlf": GOOD_CONF.replace(b"\n", b"\r\n")}
    for i, c in enumerate(bad_rows("config")):
        seeds[f"bad-{i:02d}"] = c
    # The driver profiles are read with '#' comments after values too.
    profiles = os.path.join(ROOT, "drivers-cfg")
    for name in sorted(os.listdir(profiles)):
        if name.endswith(".ini"):
            with open(os.path.join(profiles, name), "rb") as f:
                seeds[f"profile-{name[:-4]}"] = f.read()
    return seeds


def options_seeds():
    import shlex
    seeds = {"config-good": b"\x01" + GOOD_CONF}
    for i, c in enumerate(bad_rows("config")):
        seeds[f"config-bad-{i:02d}"] = b"\x01" + c
    good = ["--replay x.pcap --rxq 4 --window 60 --output /var/log/dpflow --compress gzip",
            "--clock wall --account-id 123456789010 --interface-id eni-1 --region eu-west-1",
            "--flows-per-core 1024 --shards-per-core 4 --hold-mb 8 --stats-period 10 -h",
            "--log-format '" + ALL_FIELDS + "'"]
    for i, a in enumerate(good):
        seeds[f"args-good-{i}"] = b"\x00" + b"\0".join(x.encode() for x in shlex.split(a))
    for i, a in enumerate(bad_rows("args")):
        try:
            words = shlex.split(a.decode("latin-1"))
        except ValueError:
            continue
        seeds[f"args-bad-{i:02d}"] = b"\x00" + b"\0".join(w.encode("latin-1") for w in words)
    return seeds


CLI_CMDS = ["wait", "show flows oldest limit 10000", "show flows proto udp",
            "show flows iface eni-1235b8ca123456789 limit 1", "show window", "show lcores",
            "show flow-table", "show config", "show port info all", "show port stats 0",
            "clear port stats all", "nat show", "acl show", "help set", "bogus",
            "set window 10", "set log-format " + ALL_FIELDS, "flush", "stop", "start", "quit"]


def cmdfile_seeds():
    good = "".join(c + "\n" for c in CLI_CMDS).encode()
    return {
        "good": good,
        "crlf": good.replace(b"\n", b"\r\n"),
        "comments-blanks": b"# a comment\n\n   \n\t# indented comment\n  show window\n",
        "no-final-newline": b"show window\nquit",
        "empty": b"",
        # The longest line, with and without a CR, and one byte more.
        "line-max": b"#" + b"x" * 4095 + b"\nshow window\n",
        "line-max-crlf": b"#" + b"x" * 4095 + b"\r\nshow window\n",
        "line-too-long": b"#" + b"x" * 4096 + b"\nshow window\n",
        # The comment whose tail an fgets() loop ran as a command.
        "long-comment-tail": b"# " + b"y" * 8189 + b" set window 10\nshow window\n",
        "control-bytes": b"show \x1b[2Jwindow\nshow\x07 config\r\nx\\y\x7f\n",
        "nul-byte": b"show window\nshow \x00config\n",
        "cr-inside": b"show\rwindow\n",
    }


TARGETS = {"pkt": pkt_seeds, "fmt": fmt_seeds, "cfg": cfg_seeds, "options": options_seeds,
           "cmdfile": cmdfile_seeds}

if __name__ == "__main__":
    target, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    seeds = TARGETS[target]()
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} {target} seeds in {out}")
