#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs every benchmark of doc/performance.md and writes the tables.
#
#   tools/bench/run.sh                  everything (about 40 minutes on 2 vCPUs)
#   QUICK=1 tools/bench/run.sh          fewer cells and repetitions (about 8 minutes)
#   tools/bench/run.sh datapath merge   only the named sections
#
# Sections: machine datapath merge writer scaling memory sidebyside profile clock conn ibm
#           gzip ibmwrite ibmrx ab connrx vxlan
#           startup replay64 livedelay rss fastsbs sbsphases floors (issue 16: the whole
#           program)
#
# Environment:
#   BENCH_DATA  large files and results, never in the repository (default /work/bench-data)
#   BUILD       build directory (default build-bench: the project's default buildtype)
#   REPS        repetitions per cell (default 5; the tables show median, min and max)
#   ROUNDS      side-by-side rounds, dpflow and the peers alternating (default 5)
#   EAL_MEM     --no-huge -m value in MB for the benchmarks (default 2048)
#   HUGE=1      use the hugepages already reserved instead of --no-huge
#   CPUS        CPU list for EAL (default: the last CPU for one-core runs, all for the rest)
#   AB_BUILD    section ab: a build directory of the base commit (its bench_merge and
#               bench_conn alternate with this tree's, ROUNDS times)
#   BASE        a dpflow binary to compare with (startup, replay64, livedelay, rss, fastsbs
#               alternate it with this tree's, run by run), e.g. one built from an older commit
#
# Side by side needs the peers (apt-get install softflowd pmacct nfdump
# argus-server argus-client: done here when missing) and the capture
# $BENCH_DATA/big.pcap (10M packets, 1M flows, 4.7 GB: generated here in
# about a minute when missing, with its truth file).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BENCH_DATA=${BENCH_DATA:-/work/bench-data}
BUILD=${BUILD:-build-bench}
QUICK=${QUICK:-0}
REPS=${REPS:-$([ "$QUICK" = 1 ] && echo 3 || echo 5)}
ROUNDS=${ROUNDS:-$([ "$QUICK" = 1 ] && echo 1 || echo 5)}
EAL_MEM=${EAL_MEM:-2048}
PEERS_SH=${PEERS_SH:-$ROOT/../shared/bench/run_peers.sh}
FLOWCMP=${FLOWCMP:-$ROOT/../shared/bench/flowcmp.py}
NCPU=$(nproc)
LAST_CPU=$((NCPU - 1))
SECTIONS=${*:-machine datapath merge writer scaling memory sidebyside profile clock conn ibm startup replay64 livedelay rss fastsbs sbsphases floors}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$BENCH_DATA/results/$STAMP}
mkdir -p "$OUT"

if [ "${HUGE:-0}" = 1 ]; then
	EAL_MEMOPT=(--socket-mem "$EAL_MEM" --in-memory)
else
	EAL_MEMOPT=(--no-huge -m "$EAL_MEM" --no-shconf)
fi
EAL1=("${EAL_MEMOPT[@]}" --no-pci -l "${CPUS:-$LAST_CPU}" --log-level=lib.eal:error)
# The whole program (memory, side by side): main lcore (pipeline) and one RX
# lcore floating over every CPU, as the peers' threads do. Pinned to a CPU
# that another busy-polling process also holds, an RX lcore that yields when
# idle gets the CPU back only a time slice later.
SBS_LCORES=${SBS_LCORES:-"(0-1)@(0-$LAST_CPU)"}

log() { echo "[$(date +%H:%M:%S)] $*" | tee -a "$OUT/run.log" >&2; }
# Print a command, then run it with stdout appended to a result file.
run_to() {
	local file=$1
	shift
	echo "CMD $*" >>"$OUT/$file"
	"$@" >>"$OUT/$file" 2>>"$OUT/$file.err"
}

build() {
	if [ ! -f "$BUILD/build.ninja" ]; then
		meson setup "$BUILD" -Dtests=false -Dbench=true >/dev/null
	fi
	ninja -C "$BUILD" >/dev/null
	B=$BUILD/tools/bench
	DPFLOW=$BUILD/app/dpflow
}

section_machine() {
	{
		echo "date: $(date -u +%FT%TZ)"
		echo "commit: $(git rev-parse --short HEAD) $(git diff --quiet || echo '(with local changes)')"
		echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
		echo "cpus: $NCPU"
		echo "cpu MHz (/proc/cpuinfo): $(grep -m1 'cpu MHz' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
		echo "caches: $(lscpu | grep -E '^L[123]' | sed 's/  */ /g' | tr '\n' ';')"
		echo "memory: $(free -g | awk '/Mem:/ {print $2 " GB"}')"
		echo "kernel: $(uname -r)"
		echo "dpdk: $(pkg-config --modversion libdpdk)"
		echo "compiler: $(cc --version | head -1)"
		echo "cflags (DPDK): $(pkg-config --cflags libdpdk | tr ' ' '\n' | grep -E '^-m' | tr '\n' ' ')"
		echo "buildtype: $(meson introspect --buildoptions "$BUILD" | python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"][0])')"
		echo "eal memory: ${EAL_MEMOPT[*]}"
		echo "hugepages: $(grep -E 'HugePages_Total|Hugepagesize' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
		echo "transparent hugepages: $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
		echo "load average at start: $(cat /proc/loadavg)"
	} >"$OUT/machine.txt"
	"$B/bench_datapath" "${EAL1[@]}" -- --flows 1024 --packets 1024 --reps 1 2>/dev/null |
		grep MACHINE >>"$OUT/machine.txt"
	cat "$OUT/machine.txt" >&2
}

section_datapath() {
	local fams=(4 6) protos=(tcp udp) flows=(1024 65536 1048576 4194304) dists=(uniform zipf)
	local packets=4000000
	[ "$QUICK" = 1 ] && protos=(tcp) && packets=2000000
	for fam in "${fams[@]}"; do
		for proto in "${protos[@]}"; do
			for n in "${flows[@]}"; do
				for dist in "${dists[@]}"; do
					# rte_hash side by side on TCP; UDP differs only in the parser.
					local table=dpf
					[ "$proto" = tcp ] && table=both
					log "datapath IPv$fam $proto $n flows $dist ($table)"
					run_to datapath.txt "$B/bench_datapath" "${EAL1[@]}" -- \
						--family "$fam" --proto "$proto" --flows "$n" --dist "$dist" \
						--packets "$packets" --reps "$REPS" --table "$table"
				done
			done
		done
	done
	# Frames flushed from the caches before each pass: DMA to DRAM without DDIO.
	for n in 65536 1048576; do
		log "datapath IPv4 tcp $n flows uniform, cold frames"
		run_to datapath.txt "$B/bench_datapath" "${EAL1[@]}" -- --family 4 --flows "$n" \
			--packets "$packets" --reps "$REPS" --table both --cold
	done
}

section_merge() {
	log "merge 1M flows, 4 shards"
	run_to merge.txt "$B/bench_merge" "${EAL1[@]}" -- --flows 1000000 --shards 4 --reps "$REPS"
	[ "$QUICK" = 1 ] && return
	log "merge 1M flows, 4 shards, all IPv6 (every key sorted on several levels)"
	run_to merge.txt "$B/bench_merge" "${EAL1[@]}" -- --flows 1000000 --shards 4 \
		--v6-share 1 --reps "$REPS"
	log "merge 4M flows, 4 shards"
	run_to merge.txt "$B/bench_merge" "${EAL1[@]}" -- --flows 4000000 --shards 4 --reps "$REPS"
}

section_writer() {
	local cases=format,none,zstd-1,zstd1,zstd3,zstd6,zstd9,gzip6
	[ "$QUICK" = 1 ] && cases=format,none,zstd1,zstd3
	log "writer 1M records: $cases"
	run_to writer.txt "$B/bench_writer" "${EAL1[@]}" -- --records 1000000 --reps "$REPS" \
		--cases "$cases"
}

# Mpps of the RX cores through the real program, net_pcap replaying from memory.
section_conn() {
	log "connection pass, 1M connections"
	run_to conn.txt "$B/bench_conn" "${EAL1[@]}" -- --conns 1000000 --reps "$REPS"
}

# The RX core with connection records off and on (the restart check and the
# segments' room, --conn-timeout), and plain against VXLAN frames (--vxlan,
# issue 15): the per-core benchmark, alternating, ROUNDS times.
section_connrx() {
	local r n
	for r in $(seq "$ROUNDS"); do
		for n in 65536 1048576; do
			echo "CONNRX round=$r flows=$n mode=off load=$(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/connrx.txt"
			run_to connrx.txt "$B/bench_datapath" "${EAL1[@]}" -- --flows "$n" --reps 3 --packets 4000000
			echo "CONNRX round=$r flows=$n mode=on load=$(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/connrx.txt"
			run_to connrx.txt "$B/bench_datapath" "${EAL1[@]}" -- --flows "$n" --reps 3 --packets 4000000 \
				--conn-timeout 300
		done
	done
}

section_vxlan() {
	local r a
	for r in $(seq "$ROUNDS"); do
		for a in "" --vxlan; do
			echo "VXLAN round=$r frames=${a:-plain} load=$(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/vxlan.txt"
			run_to vxlan.txt "$B/bench_datapath" "${EAL1[@]}" -- --family 4 --flows 65536 --reps 5 \
				--table dpf $a
		done
	done
}

section_scaling() {
	local dir=$BENCH_DATA/scaling q n rep
	mkdir -p "$dir"
	for q in 0 1 2 3; do
		[ -f "$dir/q$q.pcap" ] || python3 tools/bench/mkpcap.py "$dir/q$q.pcap" --packets 1024 \
			--flows 1024 --first-flow $((q * 1024))
	done
	for rep in $(seq "$REPS"); do
		for n in 1 2 4; do
			local vdev="net_pcap0" lcores last=$n secs=6
			for q in $(seq 0 $((n - 1))); do vdev="$vdev,rx_pcap=$dir/q$q.pcap"; done
			vdev="$vdev,infinite_rx=1"
			# Main lcore (pipeline) plus n RX lcores, floating over every CPU.
			lcores="(0-$last)@(0-$LAST_CPU)"
			log "scaling: $n RX cores, run $rep"
			rm -rf "$dir/out"
			echo "CMD timeout -s INT $secs $DPFLOW ${EAL_MEMOPT[*]} --no-pci --lcores '$lcores' --log-level=lib.eal:error --vdev '$vdev' -- --rxq $n --clock wall --stats-period 1 --output $dir/out" >>"$OUT/scaling.txt"
			timeout -s INT $secs "$DPFLOW" "${EAL_MEMOPT[@]}" --no-pci --lcores "$lcores" \
				--log-level=lib.eal:error --vdev "$vdev" -- --rxq "$n" --clock wall \
				--stats-period 1 --output "$dir/out" 2>&1 |
				awk -v n="$n" -v rep="$rep" '
					/^dpflow: rx .*pps/ { gsub(/[()]/, ""); v[++k] = $5 }
					/^conservation:/ { c = $2 }
					END {
						# The first line has no rate, the second includes start-up.
						for (i = 3; i <= k; i++) printf "SAMPLE bench=scaling cores=%d rep=%d pps=%s conservation=%s\n", n, rep, v[i], c
					}' >>"$OUT/scaling.txt" || true
		done
	done
}

# Resident memory of the real program holding 1M flows (the side-by-side capture).
section_memory() {
	ensure_capture
	local name bin
	while read -r name bin; do
		memory_once "$BENCH_DATA/big.pcap" "$name" "$bin"
	done < <(variants)
	ensure_mid_capture
	while read -r name bin; do
		memory_once "$BENCH_DATA/mid.pcap" "$name" "$bin"
	done < <(variants)
}

memory_once() { # capture variant binary
	local cap=$1 variant=$2 DPFLOW=$3
	local dir=$BENCH_DATA/memory
	rm -rf "$dir" && mkdir -p "$dir/out"
	log "memory: dpflow ($variant) on $cap"
	echo "CMD $DPFLOW ${EAL_MEMOPT[*]} --no-pci --lcores '$SBS_LCORES' --log-level=lib.eal:error -- --replay $cap --flows-per-core 1048576 --output $dir/out" >>"$OUT/memory.txt"
	"$DPFLOW" "${EAL_MEMOPT[@]}" --no-pci --lcores "$SBS_LCORES" --log-level=lib.eal:error -- \
		--replay "$cap" --flows-per-core 1048576 --output "$dir/out" \
		2>"$dir/stderr" &
	local pid=$! max_anon=0 max_shmem=0 max_file=0 flows=0 line a s f
	# Sample until exit: RssAnon + RssShmem is the program's memory (EAL's
	# --no-huge memory is a memfd, so shmem); RssFile is the mapped capture.
	while kill -0 "$pid" 2>/dev/null; do
		if line=$(grep -E '^(RssAnon|RssFile|RssShmem):' "/proc/$pid/status" 2>/dev/null | awk '{print $2}' | tr '\n' ' '); then
			read -r a f s <<<"$line" || true
			[ -n "${a:-}" ] && [ "$a" -gt "$max_anon" ] && max_anon=$a
			[ -n "${s:-}" ] && [ "$s" -gt "$max_shmem" ] && max_shmem=$s
			[ -n "${f:-}" ] && [ "$f" -gt "$max_file" ] && max_file=$f
		fi
		sleep 0.05
	done
	wait "$pid" || true
	flows=$(awk '/^total flows-created:/ {print $3}' "$dir/stderr")
	echo "RESULT bench=memory capture=$(basename "$cap") variant=$variant flows=$flows rss_anon_kb=$max_anon rss_shmem_kb=$max_shmem rss_file_kb=$max_file" >>"$OUT/memory.txt"
	grep -E '^conservation:' "$dir/stderr" >>"$OUT/memory.txt" || true
}

# $BENCH_DATA/NAME.pcap and its truth, generated when missing: NAME PACKETS FLOWS SIZE
ensure_gencap() {
	if [ ! -f "$BENCH_DATA/$1.pcap" ] || [ ! -f "$BENCH_DATA/$1.truth.tsv" ]; then
		log "generating $BENCH_DATA/$1.pcap ($2 packets, $3 flows, $4)"
		python3 tools/gencap.py random "$BENCH_DATA/$1.pcap" --truth "$BENCH_DATA/$1.truth.tsv" \
			--packets "$2" --flows "$3"
	fi
}

ensure_capture() { ensure_gencap big 10000000 1000000 "4.7 GB"; }

ensure_peers() {
	local missing=() p
	for p in softflowd pmacct nfdump argus-server argus-client; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing peers: ${missing[*]}"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -q >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >&2
}

# dpflow on the capture; its records converted to the canon TSV and compared.
dpflow_once() {
	local round=$1 dir=$BENCH_DATA/sidebyside/dpflow t0 t1
	rm -rf "$dir" && mkdir -p "$dir/out"
	# Page cache warm for everyone: each tool reads the same cached file.
	echo "CMD $DPFLOW ${EAL_MEMOPT[*]} --no-pci --lcores '$SBS_LCORES' --log-level=lib.eal:error -- --replay $BENCH_DATA/big.pcap --flows-per-core 1048576 --output $dir/out" >>"$OUT/sidebyside.txt"
	t0=$(date +%s.%N)
	"$DPFLOW" "${EAL_MEMOPT[@]}" --no-pci --lcores "$SBS_LCORES" --log-level=lib.eal:error -- \
		--replay "$BENCH_DATA/big.pcap" --flows-per-core 1048576 --output "$dir/out" \
		2>"$dir/stderr"
	t1=$(date +%s.%N)
	find "$dir/out" -name '*.log.zst' -print0 | xargs -0 zstdcat |
		awk '$1 != "version" && $14 == "OK" {print $8 "\t" $4 "\t" $6 "\t" $5 "\t" $7 "\t" $9 "\t" $10}' \
			>"$dir/canon.tsv"
	python3 "$FLOWCMP" "$BENCH_DATA/big.truth.tsv" canon "$dir/canon.tsv" >"$dir/flowcmp.txt"
	awk -v t0="$t0" -v t1="$t1" -v r="$round" '
		/^keys:/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); k[kv[1]] = kv[2] } }
		/^truth:/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); t[kv[1]] = kv[2] } }
		/^tool :/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); g[kv[1]] = kv[2] } }
		END { printf "SAMPLE bench=sidebyside tool=dpflow round=%d wall_s=%.3f matched=%s missing=%s extra=%s exact=%s packets=%s truth_packets=%s\n", r, t1 - t0, k["matched"], k["missing"], k["extra"], k["exact(pkts&bytes)"], g["packets"], t["packets"] }' \
		"$dir/flowcmp.txt" >>"$OUT/sidebyside.txt"
	grep -E '^(conservation|total rx-packets|pipeline merge-ms-max|replay)' "$dir/stderr" |
		sed "s/^/dpflow round $round: /" >>"$OUT/sidebyside.txt"
}

peers_once() {
	local round=$1 dir=$BENCH_DATA/sidebyside/peers
	echo "CMD $PEERS_SH $BENCH_DATA/big.pcap $BENCH_DATA/big.truth.tsv $dir" >>"$OUT/sidebyside.txt"
	"$PEERS_SH" "$BENCH_DATA/big.pcap" "$BENCH_DATA/big.truth.tsv" "$dir" >"$OUT/peers.round$round.txt" 2>&1 || true
	python3 - "$OUT/peers.round$round.txt" "$round" >>"$OUT/sidebyside.txt" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
rnd = sys.argv[2]
# Each block: "== name ...", then flowcmp's lines; timings at the end.
names = {"nfpcapd": "nfpcapd", "softflowd": "softflowd", "pmacctd print": "pmacctd-print",
         "pmacctd nfprobe": "pmacctd-nfprobe", "argus": "argus"}
keys = {}
for block in text.split("== ")[1:]:
    head = block.splitlines()[0]
    tool = next((v for k, v in names.items() if head.startswith(k)), head.split()[0])
    m = re.search(r"keys: matched=(\d+) missing=(\d+) extra=(\d+) exact\(pkts&bytes\)=(\d+)", block)
    t = re.search(r"truth: .*packets=(\d+)", block)
    g = re.search(r"tool : .*packets=(\d+)", block)
    keys[tool] = (m.groups() if m else ("-", "-", "-", "-")) + (
        g.group(1) if g else "-", t.group(1) if t else "-")
walls = {}
for m in re.finditer(r"wall ([0-9.]+) s \(rc=\d+\): (\S+)(.*)", text):
    cmd = m.group(2) + m.group(3)
    tool = ("nfpcapd" if cmd.startswith("nfpcapd") else "softflowd" if cmd.startswith("softflowd")
            else "argus" if cmd.startswith("argus") else "pmacctd-print" if "pmacctd.conf" in cmd
            else "pmacctd-nfprobe" if "pmnp.conf" in cmd else cmd.split()[0])
    walls[tool] = float(m.group(1))
for tool, w in walls.items():
    k = keys.get(tool, ("-",) * 6)
    print("SAMPLE bench=sidebyside tool=%s round=%s wall_s=%.3f matched=%s missing=%s extra=%s exact=%s"
          " packets=%s truth_packets=%s" % (tool, rnd, w, *k))
EOF
}

# --ibm-output on and off, side by side (alternating rounds): the RX core's
# rate must not change, since the connection pass runs in the writer thread.
# net_pcap with infinite_rx (its mbufs hold the file: 1024 frames, as in scaling), 1024 flows, 2 s windows so that the IBM exporter
# works during the run.
section_ibm() {
	local dir=$BENCH_DATA/ibm r mode
	mkdir -p "$dir"
	[ -f "$dir/q.pcap" ] || python3 tools/bench/mkpcap.py "$dir/q.pcap" --packets 1024 \
		--flows 1024
	for r in $(seq "$ROUNDS"); do
		for mode in off on; do
			local extra=()
			[ "$mode" = on ] && extra=(--ibm-output "$dir/ibm")
			rm -rf "$dir/out" "$dir/ibm"
			log "ibm side by side round $r: --ibm-output $mode"
			echo "CMD timeout -s INT 8 $DPFLOW ${EAL_MEMOPT[*]} --no-pci --lcores '(0-1)@(0-$LAST_CPU)' --vdev net_pcap0,rx_pcap=$dir/q.pcap,infinite_rx=1 -- --clock wall --window 2 --stats-period 1 --output $dir/out ${extra[*]}" >>"$OUT/ibm.txt"
			timeout -s INT 8 "$DPFLOW" "${EAL_MEMOPT[@]}" --no-pci --lcores "(0-1)@(0-$LAST_CPU)" \
				--log-level=lib.eal:error --vdev "net_pcap0,rx_pcap=$dir/q.pcap,infinite_rx=1" \
				-- --clock wall --window 2 --stats-period 1 --output "$dir/out" "${extra[@]}" 2>&1 |
				awk -v mode="$mode" -v r="$r" '
					/^dpflow: rx .*pps/ { gsub(/[()]/, ""); v[++k] = $5 }
					/^ibm flow-logs:/ { f = $3 }
					END { for (i = 3; i <= k; i++) printf "SAMPLE bench=ibm ibm=%s round=%d pps=%s flow_logs=%s\n", mode, r, v[i], f }' \
				>>"$OUT/ibm.txt" || true
		done
	done
}

# The capture of the IBM sections: 2M packets, 200k flows over 20 s.
ensure_ibmrx() {
	[ -f "$BENCH_DATA/ibmrx.pcap" ] && return
	log "generating $BENCH_DATA/ibmrx.pcap"
	python3 tools/gencap.py random "$BENCH_DATA/ibmrx.pcap" --packets 2000000 --flows 200000 \
		--pps 100000 >/dev/null
}

# gzip implementations and levels on one IBM object of that capture (~95k flow logs).
section_gzip() {
	local dir=$BENCH_DATA/gzip obj
	ensure_ibmrx
	rm -rf "$dir"
	mkdir -p "$dir"
	"$DPFLOW" "${EAL_MEMOPT[@]}" --no-pci --lcores "(0-1)@(0-$LAST_CPU)" --log-level=lib.eal:error \
		-- --replay "$BENCH_DATA/ibmrx.pcap" --output "$dir/out" --ibm-output "$dir/ibm" \
		--flows-per-core 262144 >/dev/null 2>&1
	obj=$(find "$dir/ibm" -name 00000000.gz | head -1)
	gzip -dc "$obj" >"$dir/object.json"
	log "gzip: zlib, libdeflate, igzip on $(stat -c %s "$dir/object.json") bytes of JSON"
	run_to gzip.txt "$B/bench_gzip" --reps "$REPS" "$dir/object.json"
}

# IBM objects written by dpflow (JSON + gzip + files, the writer's CPU time:
# ibm write-cpu-us) at --ibm-compress-level 1 (igzip) and 6 (libdeflate), alternating.
section_ibmwrite() {
	local dir=$BENCH_DATA/ibmwrite r lvl
	ensure_ibmrx
	for r in $(seq "$ROUNDS"); do
		for lvl in 1 6; do
			rm -rf "$dir"
			mkdir -p "$dir"
			echo "CMD $DPFLOW ${EAL_MEMOPT[*]} --no-pci --lcores (0-1)@(0-$LAST_CPU) -- --replay $BENCH_DATA/ibmrx.pcap --output $dir/out --ibm-output $dir/ibm --flows-per-core 262144 --ibm-compress-level $lvl" >>"$OUT/ibmwrite.txt"
			"$DPFLOW" "${EAL_MEMOPT[@]}" --no-pci --lcores "(0-1)@(0-$LAST_CPU)" \
				--log-level=lib.eal:error -- --replay "$BENCH_DATA/ibmrx.pcap" --output "$dir/out" \
				--ibm-output "$dir/ibm" --flows-per-core 262144 --ibm-compress-level "$lvl" 2>&1 \
				>/dev/null | awk -v lvl="$lvl" -v r="$r" '
					/^ibm flow-logs:/ { f = $3 }
					/^ibm write-cpu-us:/ { w = $3 }
					END { printf "SAMPLE bench=ibmwrite level=%s round=%d flow_logs=%s write_cpu_us=%s klogs_per_cpu_s=%.0f\n", lvl, r, f, w, f / w * 1000 }' \
				>>"$OUT/ibmwrite.txt"
			echo "SIZE level=$lvl round=$r ibm_bytes=$(du -sb "$dir/ibm" | cut -f1)" >>"$OUT/ibmwrite.txt"
		done
	done
}

# The RX core with --ibm-output on and off, alternating: a packet-clock replay
# of the IBM capture, 2 s windows (ten connection passes during the run), the
# RX lcore alone on the last CPU, the pipeline, writer and replay threads on
# the first. The RX core's cycles per packet: its busy-cycles counter (TSC
# cycles of the polls that received packets) / rx-packets; the run's rate =
# packets / wall time (bound by the first CPU, which the writer shares).
section_ibmrx() {
	local dir=$BENCH_DATA/ibmrx r mode t0 t1
	ensure_ibmrx
	cat "$BENCH_DATA/ibmrx.pcap" >/dev/null
	for r in $(seq "$ROUNDS"); do
		for mode in off on; do
			local extra=()
			[ "$mode" = on ] && extra=(--ibm-output "$dir/ibm")
			rm -rf "$dir"
			mkdir -p "$dir"
			echo "CMD $DPFLOW ${EAL_MEMOPT[*]} --no-pci --lcores 0@0,1@$LAST_CPU -- --replay $BENCH_DATA/ibmrx.pcap --window 2 --flows-per-core 262144 --output $dir/out ${extra[*]}" >>"$OUT/ibmrx.txt"
			t0=$(date +%s.%N)
			"$DPFLOW" "${EAL_MEMOPT[@]}" --no-pci --lcores "0@0,1@$LAST_CPU" --log-level=lib.eal:error \
				-- --replay "$BENCH_DATA/ibmrx.pcap" --window 2 --flows-per-core 262144 \
				--output "$dir/out" "${extra[@]}" >/dev/null 2>"$dir/stderr"
			t1=$(date +%s.%N)
			awk -v mode="$mode" -v r="$r" -v t0="$t0" -v t1="$t1" '
				/^total rx-packets:/ { p = $3 }
				/^total busy-cycles:/ { c = $3 }
				/^replay ring-full-waits:/ { w = $3 }
				/^ibm flow-logs:/ { f = $3 }
				END { printf "SAMPLE bench=ibmrx ibm=%s round=%d packets=%s rx_cycles_per_pkt=%.1f wall_s=%.3f mpps=%.3f ring_full_waits=%s flow_logs=%s load=%s\n", mode, r, p, c / p, t1 - t0, p / (t1 - t0) / 1e6, w, f, LOAD }' \
				LOAD="$(cut -d' ' -f1 /proc/loadavg)" "$dir/stderr" >>"$OUT/ibmrx.txt"
		done
	done
}

# This tree against a build of the base commit (AB_BUILD), alternating: the
# merge of 1M and 4M flows and the connection pass.
section_ab() {
	local r v bdir
	[ -n "${AB_BUILD:-}" ] || { log "ab: no AB_BUILD, skipped"; return; }
	for r in $(seq "$ROUNDS"); do
		for v in base this; do
			bdir=$BUILD
			[ "$v" = base ] && bdir=$AB_BUILD
			log "ab round $r: $v"
			for f in 1000000 4000000; do
				echo "AB round=$r build=$v load=$(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/ab.txt"
				run_to ab.txt "$bdir/tools/bench/bench_merge" "${EAL1[@]}" -- --flows "$f" --shards 4 \
					--reps "$REPS"
			done
			echo "AB round=$r build=$v load=$(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/ab.txt"
			run_to ab.txt "$bdir/tools/bench/bench_conn" "${EAL1[@]}" -- --conns 1000000 --reps 3
		done
	done
}

section_sidebyside() {
	ensure_capture
	ensure_peers
	[ -x "$PEERS_SH" ] || [ -f "$PEERS_SH" ] || { log "no $PEERS_SH: side by side skipped"; return; }
	local r
	# Read the capture once so every tool starts with it in the page cache.
	cat "$BENCH_DATA/big.pcap" >/dev/null
	echo "PACKETS $(($(wc -l <"$BENCH_DATA/big.truth.tsv") - 1)) uniflows in truth; 10000000 packets" >>"$OUT/sidebyside.txt"
	for r in $(seq "$ROUNDS"); do
		log "side by side round $r: dpflow"
		dpflow_once "$r"
		log "side by side round $r: peers"
		peers_once "$r"
	done
}

# Where the cycles go: perf sampling (cpu-clock works on VMs without PMU
# counters) and callgrind instruction counts, both on the 1M-flow cell.
# The wall clock's discipline over a simulated day (lib/clock, no EAL):
# the issue's skew, then this machine's (EAL's rounded rate against the
# measured one).
section_clock() {
	log "clock: 24 h simulated"
	run_to clock.txt "$B/bench_clock" --hours 24
	run_to clock.txt "$B/bench_clock" --hours 24 --true-mhz 2596.146 --nominal-mhz 2600
}

section_profile() {
	local args=(--family 4 --flows 1048576 --packets 4000000 --reps 2 --table dpf)
	if perf record -e cpu-clock -o /dev/null true >/dev/null 2>&1; then
		log "profile: perf record"
		echo "CMD perf record -e cpu-clock -F 4000 -- $B/bench_datapath ${EAL1[*]} -- ${args[*]}" >"$OUT/profile.perf.txt"
		perf record -q -e cpu-clock -F 4000 -o "$OUT/perf.data" -- "$B/bench_datapath" \
			"${EAL1[@]}" -- "${args[@]}" >/dev/null 2>&1
		# User-space symbols: the kernel's share is the first touch of the table's pages.
		perf report -i "$OUT/perf.data" --no-children --sort sym --stdio 2>/dev/null |
			grep -v '^#' | grep '%' | grep '\[\.\]' | head -15 >>"$OUT/profile.perf.txt"
		perf annotate -i "$OUT/perf.data" --stdio -s dpf_ft_lookup_or_insert_burst 2>/dev/null \
			>"$OUT/profile.annotate.txt" || true
	fi
	if command -v valgrind >/dev/null; then
		log "profile: callgrind (instruction counts)"
		local cargs=(--family 4 --flows 65536 --packets 1000000 --reps 1 --table dpf)
		echo "CMD valgrind --tool=callgrind $B/bench_datapath ${EAL1[*]} -- ${cargs[*]}" >"$OUT/profile.callgrind.txt"
		echo "PACKETS $((65536 + 1000000))" >>"$OUT/profile.callgrind.txt"
		valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" "$B/bench_datapath" \
			"${EAL1[@]}" -- "${cargs[@]}" >/dev/null 2>&1 || true
		callgrind_annotate --inclusive=yes "$OUT/callgrind.out" 2>/dev/null |
			grep -E 'process_burst|flush_burst|record|dpf_|rte_pktmbuf|rte_mempool' |
			head -20 >>"$OUT/profile.callgrind.txt" || true
	fi
}

# ---------------------------------------------------------------- issue 16: the whole program
# The binaries to alternate: this tree's, and $BASE when given.
variants() {
	echo "new $DPFLOW"
	if [ -n "${BASE:-}" ]; then echo "base $BASE"; fi
}

# Start to exit on the 88-packet sample (median of 10 per variant, alternating),
# and when each phase ended (--log-level=dpflow.main:debug; binaries before
# issue 16 print no phases).
section_startup() {
	local dir=$BENCH_DATA/startup r name bin t0 t1
	mkdir -p "$dir"
	for r in $(seq 10); do
		while read -r name bin; do
			rm -rf "$dir/out"
			echo "CMD $bin --no-huge -m 512 --no-pci --no-shconf --lcores '(0-1)@(0-$LAST_CPU)' --log-level=lib.eal:error --log-level=dpflow.main:debug -- --replay tests/data/sample.pcap --output $dir/out" >>"$OUT/startup.txt"
			t0=$(date +%s%N)
			"$bin" --no-huge -m 512 --no-pci --no-shconf --lcores "(0-1)@(0-$LAST_CPU)" \
				--log-level=lib.eal:error --log-level=dpflow.main:debug -- \
				--replay tests/data/sample.pcap --output "$dir/out" >/dev/null 2>"$dir/stderr"
			t1=$(date +%s%N)
			awk -v v="$name" -v r="$r" -v w="$(((t1 - t0) / 1000))" '
				/timing:/ { sub(/^dpflow: timing: /, ""); n = split($0, a, " at "); gsub(/ /, "_", a[1]); p = p " " a[1] "=" a[2] + 0 }
				END { printf "SAMPLE bench=startup variant=%s round=%d wall_ms=%.1f%s\n", v, r, w / 1000, p }' \
				"$dir/stderr" >>"$OUT/startup.txt"
		done < <(variants)
	done
	echo "LOAD $(cat /proc/loadavg)" >>"$OUT/startup.txt"
}

# The replay source feeding one RX core: 20M 64-byte frames (65536 flows, one
# 60 s window), packet clock. Rate = frames / (last start step .. every
# window flushed), the phase in which packets move.
section_replay64() {
	local dir=$BENCH_DATA/replay64 r name bin
	mkdir -p "$dir"
	[ -f "$dir/r64.pcap" ] || python3 tools/bench/mkpcap.py "$dir/r64.pcap" --packets 20000000 \
		--flows 65536
	cat "$dir/r64.pcap" >/dev/null
	for r in $(seq "$REPS"); do
		while read -r name bin; do
			rm -rf "$dir/out"
			echo "CMD $bin --no-huge -m 2048 --no-pci --no-shconf --lcores '(0-1)@(0-$LAST_CPU)' --log-level=lib.eal:error --log-level=dpflow.main:debug -- --replay $dir/r64.pcap --window 60 --output $dir/out" >>"$OUT/replay64.txt"
			"$bin" --no-huge -m 2048 --no-pci --no-shconf --lcores "(0-1)@(0-$LAST_CPU)" \
				--log-level=lib.eal:error --log-level=dpflow.main:debug -- \
				--replay "$dir/r64.pcap" --window 60 --output "$dir/out" >/dev/null 2>"$dir/stderr" || true
			awk -v v="$name" -v r="$r" '
				/timing: start step [0-9]+ / { a = $(NF - 1) }  # the last step
				/timing: every window flushed/ { b = $(NF - 1) }
				/^total rx-packets:/ { n = $3 }
				/^conservation:/ { c = $2 }
				END { if (b > a) printf "SAMPLE bench=replay64 variant=%s round=%d packets=%d phase_ms=%.1f mpps=%.2f conservation=%s\n", v, r, n, b - a, n / (b - a) / 1000, c }' \
				"$dir/stderr" >>"$OUT/replay64.txt"
		done < <(variants)
	done
	echo "LOAD $(cat /proc/loadavg)" >>"$OUT/replay64.txt"
}

# The live path: 1 s wall-clock windows over net_pcap (infinite_rx, 1024 flows),
# records on stdout (file names are per 5-minute slot, so files are published
# every 5 minutes only; the window's way to the writer is the same). For each
# window: when its first record reached the reader, minus the window's end
# (the record's `end` field is the second of the window's last packet, so with
# 1 s windows the window ends one second after it).
section_livedelay() {
	local dir=$BENCH_DATA/live r name bin
	mkdir -p "$dir"
	[ -f "$dir/q.pcap" ] || python3 tools/bench/mkpcap.py "$dir/q.pcap" --packets 1024 --flows 1024
	for r in $(seq 3); do
		while read -r name bin; do
			echo "CMD timeout -s INT 10 $bin --no-huge -m 1024 --no-pci --no-shconf --lcores '(0-1)@(0-$LAST_CPU)' --log-level=lib.eal:error --vdev net_pcap0,rx_pcap=$dir/q.pcap,infinite_rx=1 -- --clock wall --window 1 --output -" >>"$OUT/livedelay.txt"
			timeout -s INT 10 "$bin" --no-huge -m 1024 --no-pci --no-shconf \
				--lcores "(0-1)@(0-$LAST_CPU)" --log-level=lib.eal:error \
				--vdev "net_pcap0,rx_pcap=$dir/q.pcap,infinite_rx=1" -- --clock wall --window 1 \
				--output - 2>/dev/null | python3 -c '
import sys, time
seen = {}
for line in sys.stdin:
    now = time.time()
    f = line.split()
    if len(f) < 12 or not f[11].isdigit():
        continue
    seen.setdefault(int(f[11]), now)
# The first window starts mid-second and the last is flushed by the stop.
for end in sorted(seen)[1:-1]:
    print("SAMPLE bench=livedelay variant=%s round=%s delay_ms=%.1f" % (sys.argv[1], sys.argv[2], (seen[end] - end - 1) * 1000))
' "$name" "$r" >>"$OUT/livedelay.txt" || true
		done < <(variants)
	done
	echo "LOAD $(cat /proc/loadavg)" >>"$OUT/livedelay.txt"
}

ensure_mid_capture() { ensure_gencap mid 2000000 200000 "0.9 GB"; }

# Peak RSS (/usr/bin/time -v: resident anonymous, shared and file pages; a
# mapped capture counts, a read() one does not) on the 2M-packet capture,
# dpflow with --flows-per-core 1048576 and the peers reading the same file.
section_rss() {
	ensure_mid_capture
	ensure_peers
	local dir=$BENCH_DATA/rss cap=$BENCH_DATA/mid.pcap r name bin
	rm -rf "$dir" && mkdir -p "$dir"
	cat "$cap" >/dev/null
	rss_of() { # name command...
		local n=$1
		shift
		echo "CMD $*" >>"$OUT/rss.txt"
		/usr/bin/time -v "$@" >/dev/null 2>"$dir/$n.time" || true
		awk -v n="$n" '/Maximum resident set size/ { m = $NF } /Elapsed \(wall clock\)/ { w = $NF }
			END { printf "SAMPLE bench=rss tool=%s maxrss_kb=%d wall=%s\n", n, m, w }' \
			"$dir/$n.time" >>"$OUT/rss.txt"
	}
	for r in $(seq 3); do
		while read -r name bin; do
			rm -rf "$dir/out"
			rss_of "dpflow-$name" "$bin" --no-huge -m 2048 --no-pci --no-shconf \
				--lcores "(0-1)@(0-$LAST_CPU)" --log-level=lib.eal:error -- --replay "$cap" \
				--flows-per-core 1048576 --output "$dir/out"
		done < <(variants)
		rm -rf "$dir/nf" && mkdir -p "$dir/nf"
		rss_of nfpcapd nfpcapd -r "$cap" -w "$dir/nf" -e 300,60
		rss_of argus argus -F /dev/null -P 0 -S 60 -r "$cap" -w "$dir/out.argus"
		rm -f "$dir/out.argus"
		# softflowd exports to a port nobody listens on: its memory is its flow table.
		rss_of softflowd softflowd -d -r "$cap" -n 127.0.0.1:19999 -v 9 -6 -m 2000000 -c none \
			-p "$dir/softflowd.pid"
		printf 'daemonize: false\npcap_savefile: %s\naggregate: src_host, dst_host, src_port, dst_port, proto\nplugins: print[p]\nprint_output[p]: csv\nprint_output_file[p]: %s/pm.csv\nprint_refresh_time[p]: 3600\nprint_cache_entries[p]: 65521\nplugin_buffer_size: 1024000\nplugin_pipe_size: 1024000000\n' \
			"$cap" "$dir" >"$dir/pmacctd.conf"
		rss_of pmacctd pmacctd -f "$dir/pmacctd.conf"
	done
	echo "LOAD $(cat /proc/loadavg)" >>"$OUT/rss.txt"
}

# dpflow and the fastest exact peer (nfpcapd), alternating, on the 2M- and the
# 10M-packet captures: wall time, and every round's per-flow totals against the
# generator's truth (flowcmp.py). One RX core, packet clock, one 60 s window.
sbs_dpflow() { # variant binary capture truth
	local name=$1 bin=$2 cap=$3 truth=$4 dir=$BENCH_DATA/fastsbs/dpflow t0 t1
	rm -rf "$dir" && mkdir -p "$dir/out"
	echo "CMD $bin --no-huge -m 2048 --no-pci --no-shconf --lcores '(0-1)@(0-$LAST_CPU)' --log-level=lib.eal:error -- --replay $cap --window 60 --flows-per-core 1048576 --output $dir/out" >>"$OUT/fastsbs.txt"
	t0=$(date +%s%N)
	"$bin" --no-huge -m 2048 --no-pci --no-shconf --lcores "(0-1)@(0-$LAST_CPU)" \
		--log-level=lib.eal:error -- --replay "$cap" --window 60 --flows-per-core 1048576 \
		--output "$dir/out" >/dev/null 2>"$dir/stderr" || true
	t1=$(date +%s%N)
	find "$dir/out" -name '*.log.zst' -print0 | xargs -0 zstdcat |
		awk '$1 != "version" && $14 == "OK" {print $8 "\t" $4 "\t" $6 "\t" $5 "\t" $7 "\t" $9 "\t" $10}' \
			>"$dir/canon.tsv"
	python3 "$FLOWCMP" "$truth" canon "$dir/canon.tsv" >"$dir/flowcmp.txt" || true
	sbs_line "dpflow-$name" "$(((t1 - t0) / 1000000))" "$dir/flowcmp.txt" "$cap"
}

sbs_nfpcapd() { # capture truth
	local cap=$1 truth=$2 dir=$BENCH_DATA/fastsbs/nfpcapd t0 t1
	rm -rf "$dir" && mkdir -p "$dir/nf"
	echo "CMD nfpcapd -r $cap -w $dir/nf -e 300,60" >>"$OUT/fastsbs.txt"
	t0=$(date +%s%N)
	nfpcapd -r "$cap" -w "$dir/nf" -e 300,60 >/dev/null 2>&1 || true
	t1=$(date +%s%N)
	nfdump -6 -R "$dir/nf" -q -N -o 'fmt:%pr|%sa|%sp|%da|%dp|%pkt|%byt' >"$dir/nf.txt" 2>/dev/null || true
	python3 "$FLOWCMP" "$truth" nfdump "$dir/nf.txt" >"$dir/flowcmp.txt" || true
	sbs_line nfpcapd "$(((t1 - t0) / 1000000))" "$dir/flowcmp.txt" "$cap"
}

sbs_line() { # tool wall_ms flowcmp-output capture
	awk -v tool="$1" -v ms="$2" -v cap="$(basename "$4")" '
		/^keys:/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); k[kv[1]] = kv[2] } }
		/^truth:/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); t[kv[1]] = kv[2] } }
		/^tool :/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); g[kv[1]] = kv[2] } }
		END { printf "SAMPLE bench=fastsbs capture=%s tool=%s wall_s=%.3f matched=%s missing=%s extra=%s exact=%s packets=%s truth_packets=%s load1=%s\n", cap, tool, ms / 1000, k["matched"], k["missing"], k["extra"], k["exact(pkts&bytes)"], g["packets"], t["packets"], load }' \
		load="$(cut -d' ' -f1 /proc/loadavg)" "$3" >>"$OUT/fastsbs.txt"
}

section_fastsbs() {
	ensure_capture
	ensure_mid_capture
	ensure_peers
	local r cap name bin
	for cap in mid big; do
		cat "$BENCH_DATA/$cap.pcap" >/dev/null
		for r in $(seq "$ROUNDS"); do
			log "fast side by side $cap round $r"
			while read -r name bin; do
				sbs_dpflow "$name" "$bin" "$BENCH_DATA/$cap.pcap" "$BENCH_DATA/$cap.truth.tsv"
			done < <(variants)
			sbs_nfpcapd "$BENCH_DATA/$cap.pcap" "$BENCH_DATA/$cap.truth.tsv"
		done
	done
	echo "LOAD $(cat /proc/loadavg)" >>"$OUT/fastsbs.txt"
}

# Where dpflow's wall time goes on the side-by-side captures (fastsbs's
# command, --log-level=dpflow.main:debug phase marks): EAL start, the other
# start steps, the packets (until the RX core received the last one), the
# last window's merge and write, publishing the files, the stop, and the rest
# to the process's end (rte_eal_cleanup(), exit); with /usr/bin/time's CPU
# time and page faults. The new binary only (older ones print fewer marks).
section_sbsphases() {
	ensure_capture
	ensure_mid_capture
	local dir=$BENCH_DATA/sbsphases cap r n
	mkdir -p "$dir"
	for cap in mid big; do
		cat "$BENCH_DATA/$cap.pcap" >/dev/null
		n=$REPS
		[ "$cap" = big ] && n=$(((REPS + 1) / 2))
		for r in $(seq "$n"); do
			rm -rf "$dir/out"
			echo "CMD $DPFLOW --no-huge -m 2048 --no-pci --no-shconf --lcores '(0-1)@(0-$LAST_CPU)' --log-level=lib.eal:error --log-level=dpflow.main:debug -- --replay $BENCH_DATA/$cap.pcap --window 60 --flows-per-core 1048576 --output $dir/out" >>"$OUT/sbsphases.txt"
			t0=$(date +%s%N)
			/usr/bin/time -f "TIME %U %S %R %F" -o "$dir/time" "$DPFLOW" --no-huge -m 2048 \
				--no-pci --no-shconf --lcores "(0-1)@(0-$LAST_CPU)" --log-level=lib.eal:error \
				--log-level=dpflow.main:debug -- --replay "$BENCH_DATA/$cap.pcap" --window 60 \
				--flows-per-core 1048576 --output "$dir/out" >/dev/null 2>"$dir/stderr" || true
			t1=$(date +%s%N)
			cat "$dir/time" >>"$dir/stderr"
			awk -v cap="$cap" -v r="$r" -v w="$(((t1 - t0) / 1000000))" \
				-v load="$(cut -d' ' -f1 /proc/loadavg)" '
				/timing: EAL started/ { e = $(NF - 1) }
				/timing: start step [0-9]+ / { s = $(NF - 1) }  # the last step
				/timing: every packet received/ { p = $(NF - 1) }
				/timing: every window flushed/ { f = $(NF - 1) }
				/timing: files published/ { u = $(NF - 1) }
				/timing: stopped/ { x = $(NF - 1) }
				/^TIME / { cpu = $2 + $3; sys = $3; minflt = $4; majflt = $5 }
				END { if (p > 0) printf "SAMPLE bench=sbsphases capture=%s round=%d wall_ms=%d eal_ms=%.1f start_ms=%.1f packets_ms=%.1f merge_write_ms=%.1f publish_ms=%.1f stop_ms=%.1f exit_ms=%.1f cpu_s=%.2f sys_s=%.2f minflt=%d majflt=%d load1=%s\n", cap, r, w, e, s - e, p - s, f - p, u - f, x - u, w - x, cpu, sys, minflt, majflt, load }' \
				"$dir/stderr" >>"$OUT/sbsphases.txt"
		done
	done
	echo "LOAD $(cat /proc/loadavg)" >>"$OUT/sbsphases.txt"
}

# The floors of a run on the 2M-packet capture, each measured alone: the RX
# core at 200K flows with frames not in any cache (64-byte frames), the merge
# of 200K flows from one shard, formatting and zstd level 3 of 200K records,
# and reading the capture from the page cache: mapped as the replay reads it
# and its variants (bench_mapread.c), and dd's 1 MiB reads.
section_floors() {
	ensure_mid_capture
	local cap=$BENCH_DATA/mid.pcap
	log "floors: RX core, merge, writer at 200K flows; reading mid.pcap"
	run_to floors.txt "$B/bench_datapath" "${EAL1[@]}" -- --family 4 --flows 200000 \
		--packets 2000000 --reps "$REPS" --table dpf --cold
	run_to floors.txt "$B/bench_datapath" "${EAL1[@]}" -- --family 4 --flows 200000 \
		--packets 2000000 --reps "$REPS" --table dpf
	run_to floors.txt "$B/bench_merge" "${EAL1[@]}" -- --flows 200000 --shards 1 --reps "$REPS"
	run_to floors.txt "$B/bench_writer" "${EAL1[@]}" -- --records 200000 --reps "$REPS" \
		--cases format,zstd3
	cat "$cap" >/dev/null
	for mode in map map-keep map-huge map-pop read; do
		run_to floors.txt "$B/bench_mapread" "$cap" "$mode" --reps "$REPS"
	done
	for r in $(seq "$REPS"); do
		echo "CMD dd if=$cap of=/dev/null bs=1M" >>"$OUT/floors.txt"
		/usr/bin/time -f "TIME %e %U %S" dd if="$cap" of=/dev/null bs=1M 2>&1 |
			awk -v r="$r" '/^TIME / { printf "SAMPLE bench=floors case=dd round=%d wall_s=%s cpu_s=%.2f\n", r, $2, $3 + $4 }' >>"$OUT/floors.txt"
	done
	echo "LOAD $(cat /proc/loadavg)" >>"$OUT/floors.txt"
}

build
log "results in $OUT"
start=$(date +%s)
for s in $SECTIONS; do
	"section_$s"
done
echo "load average at end: $(cat /proc/loadavg)" >>"$OUT/machine.txt"
python3 tools/bench/report.py "$OUT" >"$OUT/tables.md"
log "done in $(($(date +%s) - start)) s: $OUT/tables.md"
