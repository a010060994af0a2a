#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs the Debian 12 packages dpflow needs to build and test, when missing.
# Sourced by tools/test.sh and tools/demo.sh.
DPF_PACKAGES="gcc meson ninja-build pkg-config python3 zstd dpdk-dev libdpdk-dev libnuma-dev
libzstd-dev zlib1g-dev libdeflate-dev libisal-dev libcmocka-dev libpcap-dev libcurl4-openssl-dev libssl-dev
libmicrohttpd-dev tcpdump ethtool iproute2 iputils-ping curl prometheus"
# nfcapd and nfdump: the IPFIX collector of tests/e2e/export.py ipfix_nfcapd.
DPF_PACKAGES="$DPF_PACKAGES nfdump"
# tshark: the tunnel dissectors tests/e2e/overlay.py and overlay_smoke.py check gencap's
# tunnels and --decap against.
DPF_PACKAGES="$DPF_PACKAGES tshark"

dpf_install_deps() {
	local missing=()
	local p
	for p in $DPF_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}" >&2
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -q >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >&2
}
