#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build dpflow with warnings as errors and run every test (unit and
# end-to-end), ending with meson's test summary. Needs no hugepages and no NIC.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/deps.sh
dpf_install_deps

BUILD=${BUILD:-build-test}
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" -Dwerror=true -Dbuildtype=debugoptimized -Dtests=true
fi
ninja -C "$BUILD"
meson test -C "$BUILD" --print-errorlogs --num-processes 2 "$@"
