#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build dpflow with warnings as errors and run every test (unit, end-to-end,
# fuzz-corpus replays), ending with meson's test summary. Then the same
# suite again in a second build made with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer (any report fails its test), where each fuzz
# target also runs under libFuzzer for a few seconds (doc/reliability.md).
# Needs no hugepages and no NIC.
#
#   tools/test.sh [meson test args]     e.g. --suite unit, or a test name
#   DPF_SANITIZE=0 tools/test.sh        skip the sanitizer build
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/deps.sh
if [ "${DPF_SANITIZE:-1}" = 1 ]; then
	# clang for the sanitizer and fuzzing build (libFuzzer ships with clang-rt).
	DPF_PACKAGES="$DPF_PACKAGES clang-14 libclang-rt-14-dev llvm-14"
fi
dpf_install_deps

BUILD=${BUILD:-build-test}
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" -Dwerror=true -Dbuildtype=debugoptimized -Dtests=true
fi
ninja -C "$BUILD"
meson test -C "$BUILD" --print-errorlogs --num-processes 2 "$@"

[ "${DPF_SANITIZE:-1}" = 1 ] || exit 0
SAN_BUILD=${SAN_BUILD:-build-san}
if [ ! -f "$SAN_BUILD/build.ninja" ]; then
	# -Wformat=2: every printf-style format is a literal (no packet or config
	# byte can become a format). fuzzer-no-link: coverage for libFuzzer.
	CC=clang-14 meson setup "$SAN_BUILD" -Dwerror=true -Dbuildtype=debugoptimized \
		-Dtests=true -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true \
		"-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer -Wformat=2"
fi
ninja -C "$SAN_BUILD"
# Symbolized reports; leaks are checked too (DPDK's own memory is not malloc's).
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer-14 || true)}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:halt_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
meson test -C "$SAN_BUILD" --print-errorlogs --num-processes 2 "$@"
