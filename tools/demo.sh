#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build dpflow and replay the bundled sample capture through the software-RSS
# source with packet-clock windows: the header and v2 records go to stdout,
# the counters to stderr. Ends by itself; needs no hugepages and no NIC.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/deps.sh
dpf_install_deps

BUILD=${BUILD:-build}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" -Dbuildtype=release -Dtests=false >&2
ninja -C "$BUILD" >&2

exec "$BUILD/app/dpflow" --no-huge -m 512 --no-pci --no-shconf -l 0-1 --log-level=lib.eal:error \
	-- --replay tests/data/sample.pcap --window 60 --output - \
	--account-id 123456789010 --interface-id eni-1235b8ca123456789
