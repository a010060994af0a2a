#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Soak test (doc/reliability.md): dpflow on the replay source, fed without end
# by a streamer that loops a generated capture with ever-increasing
# timestamps, so windows keep closing and files keep being published. Every
# SAMPLE seconds it records RSS (VmRSS, VmHWM), open files, threads and
# dpflow's progress counters; published files are counted and removed so the
# disk stays small. At the end: SIGTERM, the summary counters, and a verdict:
# memory must be flat after warm-up (RSS within SOAK_RSS_SLACK_KB of the
# first sample after warm-up) and open files bounded. Not part of CI.
#
#   tools/soak.sh [MINUTES] [REPORT]      default 30 minutes, report on stdout
#   SOAK_SAMPLE=60 SOAK_WARMUP=2 SOAK_RSS_SLACK_KB=1024 SOAK_RXQ=2 tools/soak.sh 30
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-30}
REPORT=${2:-}
SAMPLE=${SOAK_SAMPLE:-60}
WARMUP=${SOAK_WARMUP:-2}          # samples ignored for the verdict
SLACK_KB=${SOAK_RSS_SLACK_KB:-1024}
RXQ=${SOAK_RXQ:-2}
BUILD=${BUILD:-build}

[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" -Dbuildtype=release -Dtests=false >&2
ninja -C "$BUILD" >&2
WORK=$(mktemp -d /tmp/dpflow-soak.XXXXXX)
DPF_PID=
FEED_PID=
trap 'kill $DPF_PID $FEED_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

# 200k packets over 20k flows (Zipf), 4 s of capture time per loop.
python3 tools/gencap.py random "$WORK/base.pcap" --packets 200000 --flows 20000 \
	--seed 7 --window 10 --pps 50000 2>/dev/null
cat > "$WORK/feed.py" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
hdr, recs, off = data[:24], [], 24
while off + 16 <= len(data):
    s, u, incl, orig = struct.unpack_from("<IIII", data, off)
    recs.append((s, u, data[off + 8:off + 16 + incl]))
    off += 16 + incl
span = recs[-1][0] - recs[0][0] + 1
out = sys.stdout.buffer
out.write(hdr)
loop = 0
try:
    while True:
        shift = loop * span
        out.write(b"".join(struct.pack("<II", s + shift, u) + rest for s, u, rest in recs))
        loop += 1
except BrokenPipeError:
    pass
PY
mkdir -p "$WORK/out"
mkfifo "$WORK/feed"
python3 "$WORK/feed.py" "$WORK/base.pcap" > "$WORK/feed" &
FEED_PID=$!
lcores="(0-$((RXQ + 1)))@(0-$(($(nproc) - 1)))"
"$BUILD/app/dpflow" --no-huge -m 1024 --no-pci --no-shconf --lcores "$lcores" \
	--log-level=lib.eal:error -- --replay "$WORK/feed" --rxq "$RXQ" --window 10 \
	--output "$WORK/out" --stats-period "$SAMPLE" --stats-detail --account-id 123456789010 \
	--region eu-west-1 2> "$WORK/stderr" &
DPF_PID=$!

{
	echo "# dpflow soak: $MINUTES min, sample every $SAMPLE s, --rxq $RXQ, $(date -u +%FT%TZ)"
	printf "%-6s %-9s %-9s %-6s %-7s %-12s %-10s %-8s %-9s %-8s %-10s\n" min rss_kb hwm_kb fds threads \
		rx_pkts flows lost windows records files_pub
} > "$WORK/report"

end=$(( $(date +%s) + MINUTES * 60 ))
start=$(date +%s)
published=0
rss_list=()
fds_list=()
while [ "$(date +%s)" -lt "$end" ]; do
	sleep "$SAMPLE"
	kill -0 $DPF_PID 2>/dev/null || { echo "dpflow died" >&2; tail -20 "$WORK/stderr" >&2; exit 1; }
	rss=$(awk '/^VmRSS/ {print $2}' /proc/$DPF_PID/status)
	hwm=$(awk '/^VmHWM/ {print $2}' /proc/$DPF_PID/status)
	thr=$(awk '/^Threads/ {print $2}' /proc/$DPF_PID/status)
	fds=$(ls /proc/$DPF_PID/fd | wc -l)
	line=$(grep '^dpflow: rx ' "$WORK/stderr" | tail -1 || true)
	rx=$(sed -n 's/^dpflow: rx \([0-9]*\) pkts.*/\1/p' <<< "$line")
	flows=$(sed -n 's/.*flows \([0-9]*\),.*/\1/p' <<< "$line")
	lost=$(sed -n 's/.*lost \([0-9]*\),.*/\1/p' <<< "$line")
	windows=$(sed -n 's/.*windows \([0-9]*\),.*/\1/p' <<< "$line")
	records=$(sed -n 's/.*records \([0-9]*\),.*/\1/p' <<< "$line")
	# Published files are counted and removed: the disk stays small.
	n=$(find "$WORK/out" -type f ! -name '.*' | wc -l)
	published=$((published + n))
	find "$WORK/out" -type f ! -name '.*' -delete
	printf "%-6s %-9s %-9s %-6s %-7s %-12s %-10s %-8s %-9s %-8s %-10s\n" \
		$(( ($(date +%s) - start) / 60 )) "$rss" "$hwm" "$fds" "$thr" "${rx:-0}" "${flows:-0}" \
		"${lost:-0}" "${windows:-0}" "${records:-0}" "$published" >> "$WORK/report"
	rss_list+=("$rss")
	fds_list+=("$fds")
done

kill -TERM $DPF_PID
wait $DPF_PID && rc=0 || rc=$?
kill $FEED_PID 2>/dev/null || true
{
	echo "# exit status $rc; summary counters:"
	grep -E '^(total (rx-packets|logged-packets|lost-table-full|lost-no-table|late|malformed|not-ip)|pipeline (windows|records)|writer (lines|files|errors|lost-lines|outages)|conservation)' \
		"$WORK/stderr" | sed 's/^/#   /'
	n=${#rss_list[@]}
	if [ "$n" -le "$WARMUP" ]; then
		echo "# verdict: too short for a verdict ($n samples, warm-up $WARMUP)"
	else
		base=${rss_list[$WARMUP]}
		max=$base
		min=$base
		for ((i = WARMUP; i < n; i++)); do
			((${rss_list[$i]} > max)) && max=${rss_list[$i]}
			((${rss_list[$i]} < min)) && min=${rss_list[$i]}
		done
		# Open files move with the files open in a slot (temporary and its
		# directory): bounded, not constant.
		fmin=${fds_list[$WARMUP]}
		fmax=$fmin
		for ((i = WARMUP; i < n; i++)); do
			((${fds_list[$i]} > fmax)) && fmax=${fds_list[$i]}
			((${fds_list[$i]} < fmin)) && fmin=${fds_list[$i]}
		done
		fds_ok=yes
		[ $((fmax - fmin)) -le 4 ] || fds_ok=no
		growth=$((${rss_list[$((n - 1))]} - base))
		verdict=FLAT
		{ [ $((max - base)) -gt "$SLACK_KB" ] || [ "$fds_ok" = no ]; } && verdict=GROWING
		echo "# after warm-up ($WARMUP samples): rss ${base} kB -> ${rss_list[$((n - 1))]} kB" \
			"(growth ${growth} kB, range ${min}..${max} kB, slack ${SLACK_KB} kB)," \
			"open files ${fmin}..${fmax} (bounded: $fds_ok)"
		echo "# verdict: memory $verdict"
	fi
} >> "$WORK/report"
cat "$WORK/report"
[ -z "$REPORT" ] || cp "$WORK/report" "$REPORT"
grep -q "verdict: memory FLAT" "$WORK/report"
