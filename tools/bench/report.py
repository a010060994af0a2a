#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Build the markdown tables of doc/performance.md from a tools/bench/run.sh
results directory: report.py DIR > DIR/tables.md

Every result file holds `CMD ...` lines (the exact command) followed by the
`SAMPLE` / `RESULT key=value ...` lines that command printed.
"""
import os
import re
import shlex
import statistics
import sys

PACKETS_SIDE_BY_SIDE = 10_000_000


def parse(path):
    """[(cmd, kind, {key: value})] in file order."""
    out, cmd = [], ""
    if not os.path.exists(path):
        return out
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("CMD "):
            cmd = line[4:]
            continue
        m = re.match(r"^(SAMPLE|RESULT) (.*)$", line)
        if not m:
            continue
        kv = dict(re.findall(r'(\S+?)=("[^"]*"|\S+)', m.group(2)))
        out.append((cmd, m.group(1), kv))
    return out


def args_of(cmd):
    """The benchmark's own arguments (after EAL's '--')."""
    parts = shlex.split(cmd)
    return " ".join(parts[parts.index("--") + 1:]) if "--" in parts else cmd


def spread(vals, fmt="%.1f"):
    med = statistics.median(vals)
    return (fmt % med) + " (" + (fmt % min(vals)) + "–" + (fmt % max(vals)) + ")"


def f(x):
    return float(x)


def datapath(d):
    rows = parse(os.path.join(d, "datapath.txt"))
    res = [(c, kv) for c, k, kv in rows if k == "RESULT"]
    if not res:
        return
    base = None
    by = {}
    for c, kv in res:
        key = (kv["family"], kv["proto"], int(kv["flows"]), kv["dist"], kv["cold"])
        by.setdefault(key, {})[kv["table"]] = (c, kv)
        if base is None:
            parts = shlex.split(c)
            base = " ".join(parts[:parts.index("--") + 1]) if "--" in parts else c
    print("### Per-core data path\n")
    print("Command: `%s ARGS` (ARGS in the last column). Cycles are TSC cycles per"
          " packet inside `process_burst()`: per repetition the median over its"
          " 1024-packet passes (passes during which the OS ran something else on the CPU"
          " drop out; `mean` keeps them), then median (min–max) over the repetitions."
          " Mpps = TSC Hz / cycles.\n" % base)
    print("| frame | flows | popularity | cold | dpf cycles/pkt | dpf Mpps | rte_hash cycles/pkt |"
          " rte_hash Mpps | dpf / rte_hash | dpf mean cycles | dpf new flows Mpps | ARGS |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for key in sorted(by, key=lambda k: (k[4], k[0], k[1], k[2], k[3])):
        fam, proto, flows, dist, cold = key
        t = by[key]
        c, kv = t.get("dpf", (None, None))
        if kv is None:
            continue
        frame = "IPv%s %s %s B" % (fam, proto.upper(), kv["frame"])
        dpf_c = "%s (%s–%s)" % (kv["cycles_med"], kv["cycles_min"], kv["cycles_max"])
        dpf_m = "%s (%s–%s)" % (kv["mpps_med"], kv["mpps_min"], kv["mpps_max"])
        rh_c = rh_m = ratio = "–"
        if "rte_hash" in t:
            r = t["rte_hash"][1]
            rh_c = "%s (%s–%s)" % (r["cycles_med"], r["cycles_min"], r["cycles_max"])
            rh_m = "%s (%s–%s)" % (r["mpps_med"], r["mpps_min"], r["mpps_max"])
            ratio = "%.2f×" % (f(kv["mpps_med"]) / f(r["mpps_med"]))
        zs = " s=%s" % kv["zipf_s"] if dist == "zipf" else ""
        print("| %s | %d | %s%s | %s | %s | %s | %s | %s | %s | %s | %s | `%s` |" % (
            frame, flows, dist, zs, "yes" if cold == "1" else "no", dpf_c, dpf_m, rh_c, rh_m,
            ratio, kv.get("mean_cycles_med", "–"), kv["insert_mpps_med"], args_of(c)))
    print()
    # Targets.
    print("Targets (IPv4 TCP, warm frames):\n")
    print("| target | measured (median) | met |")
    print("|---|---|---|")
    for flows, need in ((65536, 20.0), (1048576, 10.0)):
        for dist in ("uniform", "zipf"):
            t = by.get(("4", "tcp", flows, dist, "0"), {}).get("dpf")
            if t:
                m = f(t[1]["mpps_med"])
                print("| ≥ %.0f Mpps at %d flows, %s | %.2f Mpps | %s |" % (
                    need, flows, dist, m, "yes" if m >= need else "no (gap %.1f Mpps)" % (need - m)))
    worst = None
    for key, t in by.items():
        fam, proto, flows, dist, cold = key
        if fam != "6" or cold != "0" or "dpf" not in t:
            continue
        v4 = by.get(("4", proto, flows, dist, cold), {}).get("dpf")
        if not v4:
            continue
        r = f(t["dpf"][1]["mpps_med"]) / f(v4[1]["mpps_med"])
        if worst is None or r < worst[0]:
            worst = (r, key)
    if worst:
        r, (fam, proto, flows, dist, cold) = worst
        print("| IPv6 ≥ 70%% of IPv4 (worst cell: %s, %d flows, %s) | %.0f%% | %s |" % (
            proto, flows, dist, 100 * r, "yes" if r >= 0.7 else "no"))
    print()


def merge(d):
    res = [(c, kv) for c, k, kv in parse(os.path.join(d, "merge.txt")) if k == "RESULT"]
    if not res:
        return
    print("### Window merge\n")
    print("Time of `dpf_merge_window()` (gather, sort, sum, emit into 256-row batches);"
          " median (min–max) over the repetitions. Wall time includes the time slices other"
          " processes took on a shared machine; CPU time is the merging thread's own.\n")
    print("| flows | shards | in two shards | IPv6 share | wall ms | CPU ms | Mflows/s (wall) |"
          " ≤ 250 ms | command |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c, kv in res:
        ms = f(kv["merge_ms_med"])
        cpu = "%s (%s–%s)" % (kv["cpu_ms_med"], kv["cpu_ms_min"], kv["cpu_ms_max"]) \
            if "cpu_ms_med" in kv else "–"
        print("| %s | %s | %s | %s | %s (%s–%s) | %s | %s | %s | `%s` |" % (
            kv["flows"], kv["shards"], kv["dup_share"], kv["v6_share"], kv["merge_ms_med"],
            kv["merge_ms_min"], kv["merge_ms_max"], cpu, kv["mflows_per_s"],
            ("yes" if ms <= 250 else "no") if kv["flows"] == "1000000" else "–", c))
    print()


def writer(d):
    res = [(c, kv) for c, k, kv in parse(os.path.join(d, "writer.txt")) if k == "RESULT"]
    if not res:
        return
    print("### Writer\n")
    print("Command: `%s`. Records per second through `dpf_fmt_record()` +"
          " `dpf_sink_write()` (files in the AWS layout on tmpfs, publish included), one"
          " thread; median (min–max). `format` is formatting alone.\n" % res[0][0])
    print("| case | M records/s (wall) | M records per CPU second | output bytes/record |"
          " ≥ 3M records/s |")
    print("|---|---|---|---|---|")
    for c, kv in res:
        m = f(kv["mrec_per_s_med"])
        cpu = "%s (%s–%s)" % (kv["mrec_per_cpu_s_med"], kv["mrec_per_cpu_s_min"],
                              kv["mrec_per_cpu_s_max"]) if "mrec_per_cpu_s_med" in kv else "–"
        print("| %s | %s (%s–%s) | %s | %s | %s |" % (
            kv["case"], kv["mrec_per_s_med"], kv["mrec_per_s_min"], kv["mrec_per_s_max"], cpu,
            kv["bytes_per_record"], "yes" if m >= 3 else "no"))
    print()


def scaling(d):
    rows = parse(os.path.join(d, "scaling.txt"))
    by, cmds, bad = {}, {}, 0
    for c, k, kv in rows:
        n = int(kv["cores"])
        by.setdefault(n, []).append(f(kv["pps"]) / 1e6)
        cmds.setdefault(n, c)
        bad += kv.get("conservation") != "ok"
    if not by:
        return
    print("### Through the real program (net_pcap `infinite_rx=1`, from memory)\n")
    print("Per-second rates from `--stats-period 1`, start-up seconds dropped, all runs"
          " pooled; median (min–max). 64-byte IPv4 TCP, 1024 flows per queue.%s\n" % (
              "" if bad == 0 else " **%d samples without conservation ok**" % bad))
    print("| RX cores | total Mpps | Mpps per RX core | command |")
    print("|---|---|---|---|")
    for n in sorted(by):
        v = by[n]
        print("| %d | %s | %s | `%s` |" % (n, spread(v, "%.2f"), spread([x / n for x in v], "%.2f"),
                                         cmds[n]))
    print()


def memory(d):
    res = [(c, kv) for c, k, kv in parse(os.path.join(d, "memory.txt")) if k == "RESULT"]
    dp = [(c, kv) for c, k, kv in parse(os.path.join(d, "datapath.txt")) if k == "RESULT"]
    if not res and not dp:
        return
    print("### Memory\n")
    if dp:
        seen = {}
        for c, kv in dp:
            seen[(kv["table"], int(kv["flows"]))] = kv["table_bytes_per_flow"]
        print("Flow table bytes per flow of capacity, measured as the growth of the DPDK heap"
              " when the table is created (rte_hash: sized 1.25×, plus the same entry array"
              " of key and counters).\n")
        print("| flows | dpf | rte_hash |")
        print("|---|---|---|")
        for n in sorted({k[1] for k in seen}):
            print("| %d | %s | %s |" % (n, seen.get(("dpf", n), "–"), seen.get(("rte_hash", n), "–")))
        print()
    for c, kv in res:
        anon, shm, fil = int(kv["rss_anon_kb"]), int(kv["rss_shmem_kb"]), int(kv["rss_file_kb"])
        print("dpflow%s holding %s flows%s: peak RssAnon %.0f MB + RssShmem %.0f MB (EAL memory) ="
              " **%.0f MB**; RssFile %.0f MB is the mapped capture. Command: `%s`\n" % (
                  " (" + kv["variant"] + ")" if "variant" in kv else "", kv["flows"],
                  " of " + kv["capture"] if "capture" in kv else "",
                  anon / 1024, shm / 1024, (anon + shm) / 1024, fil / 1024, c))


def sidebyside(d):
    rows = parse(os.path.join(d, "sidebyside.txt"))
    by, cmd = {}, {}
    for c, k, kv in rows:
        if k != "SAMPLE":
            continue
        by.setdefault(kv["tool"], []).append(kv)
        cmd.setdefault(kv["tool"], c)
    if not by:
        return
    print("### Side by side (10M packets, 1M flows, 4.7 GB capture, page-cached)\n")
    print("Wall time per run, median (min–max) over the rounds, dpflow and the peers"
          " alternating; packets per second = 10M / median wall time. Totals: per-5-tuple"
          " packets and bytes against the generator's truth (flowcmp.py), every round.\n")
    print("| tool | wall s | Mpps | keys matched / missing / extra | packets counted | exact keys |"
          " complete in every round | exact in every round |")
    print("|---|---|---|---|---|---|---|---|")

    def complete(x):
        return x["missing"] == "0" and x.get("packets", "-") == x.get("truth_packets", "?")

    def exact(x):
        return complete(x) and x["exact"] == x["matched"] and x["extra"] == "0"

    med = {}
    for tool, v in sorted(by.items(), key=lambda t: statistics.median(f(x["wall_s"]) for x in t[1])):
        walls = [f(x["wall_s"]) for x in v]
        med[tool] = statistics.median(walls)
        last = v[-1]
        print("| %s | %s | %.2f | %s / %s / %s | %s of %s | %s | %s | %s |" % (
            tool, spread(walls, "%.2f"), PACKETS_SIDE_BY_SIDE / med[tool] / 1e6, last["matched"],
            last["missing"], last["extra"], last.get("packets", "-"), last.get("truth_packets", "-"),
            last["exact"], "yes" if all(complete(x) for x in v) else "no",
            "yes" if all(exact(x) for x in v) else "no"))
    print()
    if "dpflow" in med:
        peers = {t: w for t, w in med.items() if t != "dpflow"}
        done = {t: w for t, w in peers.items() if all(complete(x) for x in by[t])}
        ex = {t: w for t, w in peers.items() if all(exact(x) for x in by[t])}
        for label, group in (("fastest peer that counted every packet", done),
                             ("fastest peer with exact totals", ex),
                             ("fastest peer, complete or not", peers)):
            if group:
                t = min(group, key=group.get)
                print("- dpflow vs %s (%s): **%.1f×** the packet rate (target ≥ 10×)" % (
                    label, t, group[t] / med["dpflow"]))
        print("\nCommands: `%s`; peers: `%s`.\n" % (cmd.get("dpflow", ""),
                                                    next((cmd[t] for t in peers), "")))


def load_of(path):
    """The LOAD line a section wrote at its end (/proc/loadavg)."""
    if not os.path.exists(path):
        return "-"
    for line in open(path):
        if line.startswith("LOAD "):
            return " ".join(line.split()[1:4])
    return "-"


def by_key(rows, key):
    out = {}
    for c, k, kv in rows:
        if k == "SAMPLE":
            out.setdefault(kv[key], []).append((c, kv))
    return out


def open_section(d, name, key, title):
    """The SAMPLE rows of DIR/name.txt grouped by key; when there are any, the
    section's title and load average are printed."""
    path = os.path.join(d, name + ".txt")
    groups = by_key(parse(path), key)
    if groups:
        print("### %s\n" % title)
        print("Load average at the end (1, 5, 15 min): %s\n" % load_of(path))
    return groups


def startup(d):
    groups = open_section(d, "startup", "variant", "Start to exit (88-packet sample)")
    if not groups:
        return
    print("| variant | wall ms, median (min–max) | runs | command |")
    print("|---|---|---|---|")
    for v, rows in sorted(groups.items()):
        print("| %s | %s | %d | `%s` |" % (v, spread([f(kv["wall_ms"]) for _, kv in rows]),
                                          len(rows), rows[0][0]))
    new = groups.get("new", [])
    phases = [k for k in (new[0][1] if new else {}) if k not in
              ("bench", "variant", "round", "wall_ms")]
    if phases:
        print("\nPhases of `new` (ms after main(), median (min–max)):\n")
        print("| phase ended | at ms |")
        print("|---|---|")
        for ph in phases:
            print("| %s | %s |" % (ph.replace("_", " "), spread([f(kv[ph]) for _, kv in new])))
    print()


def simple(d, name, title, key, metric, unit):
    groups = open_section(d, name, title=title, key=key)
    if not groups:
        return
    print("| %s | %s, median (min–max) | samples | command |" % (key, unit))
    print("|---|---|---|---|")
    for v, rows in sorted(groups.items()):
        print("| %s | %s | %d | `%s` |" % (v, spread([f(kv[metric]) for _, kv in rows], "%.2f"),
                                          len(rows), rows[0][0]))
    print()


def fastsbs(d):
    path = os.path.join(d, "fastsbs.txt")
    rows = [(c, kv) for c, k, kv in parse(path) if k == "SAMPLE"]
    if not rows:
        return
    print("### dpflow and nfpcapd side by side\n")
    print("Load average at the end (1, 5, 15 min): %s\n" % load_of(path))
    print("| capture | tool | wall s, median (min–max) | load (1 min) min–max | exact in every round"
          " | rounds | command |")
    print("|---|---|---|---|---|---|---|")
    caps = {}
    for c, kv in rows:
        caps.setdefault(kv["capture"], {}).setdefault(kv["tool"], []).append((c, kv))
    for cap, tools in sorted(caps.items()):
        med = {}
        for tool, v in sorted(tools.items()):
            walls = [f(kv["wall_s"]) for _, kv in v]
            loads = [f(kv["load1"]) for _, kv in v]
            med[tool] = statistics.median(walls)
            exact = all(kv["missing"] == "0" and kv["extra"] == "0" and kv["exact"] == kv["matched"]
                        and kv["packets"] == kv["truth_packets"] for _, kv in v)
            print("| %s | %s | %s | %.2f–%.2f | %s | %d | `%s` |" % (
                cap, tool, spread(walls, "%.3f"), min(loads), max(loads),
                "yes" if exact else "no", len(v), v[0][0]))
        for tool in sorted(t for t in med if t.startswith("dpflow") and "nfpcapd" in med):
            print("| %s | %s / nfpcapd | **%.1f×** | | | | |" % (cap, tool, med["nfpcapd"] / med[tool]))
    print()


SBS_PHASES = [
    ("eal_ms", "EAL started, options read (from main())"),
    ("start_ms", "the other start steps (tables, ports, threads)"),
    ("packets_ms", "packets: to the RX core's last one"),
    ("merge_write_ms", "the last window's merge and write, after the last packet"),
    ("publish_ms", "files published (fsync, rename)"),
    ("stop_ms", "threads and ports stopped"),
    ("exit_ms", "rte_eal_cleanup(), exit, and exec to main()"),
    ("wall_ms", "**wall, start to exit**"),
    ("cpu_s", "CPU time, user + system (s)"),
    ("sys_s", "of which system (s)"),
    ("minflt", "minor page faults"),
    ("load1", "load average (1 min)"),
]


def sbsphases(d):
    groups = open_section(d, "sbsphases", "capture", "Where the wall time goes, phase by phase")
    if not groups:
        return
    caps = sorted(groups)
    print("| phase | " + " | ".join("%s, median (min–max), %d runs" % (c, len(groups[c]))
                                     for c in caps) + " |")
    print("|---|" + "---|" * len(caps))
    for key, title in SBS_PHASES:
        cells = []
        for c in caps:
            vals = [f(kv[key]) for _, kv in groups[c]]
            cells.append(spread(vals, "%.0f" if key in ("wall_ms", "minflt") else "%.2f"
                                if key.endswith("_s") or key == "load1" else "%.1f"))
        print("| %s | %s |" % (title, " | ".join(cells)))
    print("\nCommand (%s): `%s`\n" % (caps[0], groups[caps[0]][0][0]))


def floors(d):
    path = os.path.join(d, "floors.txt")
    rows = parse(path)
    if not rows:
        return
    print("### Floors on the 2M-packet capture, each measured alone\n")
    print("Load average at the end (1, 5, 15 min): %s\n" % load_of(path))
    print("| what | result | command |")
    print("|---|---|---|")
    for c, k, kv in rows:
        if k != "RESULT":
            continue
        if kv["bench"] == "datapath":
            r = "%s cycles a packet (%s Mpps), cold frames: %s" % (kv["cycles_med"], kv["mpps_med"],
                                                                   kv["cold"])
        elif kv["bench"] == "merge":
            r = "%s ms wall, %s ms CPU (median)" % (kv["merge_ms_med"], kv["cpu_ms_med"])
        elif kv["bench"] == "mapread":
            r = "%s: %s s wall, %s s CPU (%s s system), median" % (
                kv["mode"], kv["wall_s_med"], kv["cpu_s_med"], kv["sys_s_med"])
        elif kv["bench"] == "writer":
            r = "%s: %s M records per CPU-second" % (kv["case"], kv["mrec_per_cpu_s_med"])
        else:
            continue
        print("| %s | %s | `%s` |" % (kv["bench"], r, c))
    dd = [(c, kv) for c, k, kv in rows if k == "SAMPLE" and kv.get("case") == "dd"]
    if dd:
        print("| read the capture (page cache) | %s s wall, %s s CPU | `%s` |" % (
            spread([f(kv["wall_s"]) for _, kv in dd], "%.2f"),
            spread([f(kv["cpu_s"]) for _, kv in dd], "%.2f"), dd[0][0]))
    print()


def clock(d):
    res = [(c, kv) for c, k, kv in parse(os.path.join(d, "clock.txt")) if k == "RESULT"]
    if not res:
        return
    print("### Wall clock over a simulated day\n")
    print("| command | max abs error outside step settling (us) | p99 (us) | backwards |"
          " old conversion at the end (s) |")
    print("|---|---|---|---|---|")
    for c, kv in res:
        print("| `%s` | %s | %s | %s | %s |" % (c, kv["max_abs_error_us"], kv["p99_us"],
                                             kv["backwards"], kv["old_error_s"]))
    print()


def main():
    d = sys.argv[1]
    m = os.path.join(d, "machine.txt")
    if os.path.exists(m):
        print("### Machine\n\n```\n" + open(m).read().rstrip() + "\n```\n")
    datapath(d)
    merge(d)
    writer(d)
    scaling(d)
    memory(d)
    sidebyside(d)
    clock(d)
    startup(d)
    simple(d, "replay64", "Replay source feeding one RX core (20M 64-byte frames)", "variant", "mpps",
           "Mpps")
    simple(d, "livedelay", "Wall-clock window end to its records written (1 s windows, stdout)", "variant",
           "delay_ms", "ms")
    simple(d, "rss", "Peak RSS on the 2M-packet capture (/usr/bin/time -v)", "tool", "maxrss_kb",
           "max RSS KB")
    fastsbs(d)
    sbsphases(d)
    floors(d)
    p = os.path.join(d, "profile.perf.txt")
    if os.path.exists(p):
        lines = open(p).read().splitlines()
        print("### Profile: perf (cpu-clock samples, user space)\n\nCommand: `%s`\n\n```\n%s\n```\n"
              % (lines[0][4:], "\n".join(lines[1:])))
    p = os.path.join(d, "profile.callgrind.txt")
    if os.path.exists(p):
        lines = open(p).read().splitlines()
        pk = int(lines[1].split()[1]) if len(lines) > 1 and lines[1].startswith("PACKETS") else 0
        print("### Profile: callgrind (instructions, inclusive)\n\nCommand: `%s`\n" % lines[0][4:])
        print("| function | instructions | per packet |")
        print("|---|---|---|")
        seen = set()
        for l in lines[2:]:
            m = re.match(r"\s*([0-9,]+) \([^)]*\)\s+(?:\S+:)?(\S+?)(?: \[.*\])?$", l)
            if not m or "=>" in l:
                continue
            name = m.group(2).split(":")[-1]
            if name in seen:
                continue
            seen.add(name)
            n = int(m.group(1).replace(",", ""))
            print("| `%s` | %d | %s |" % (name, n, "%.0f" % (n / pk) if pk else "–"))
        print()


if __name__ == "__main__":
    main()
