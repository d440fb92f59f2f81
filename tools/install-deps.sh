#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs what duet needs on Debian 12 to build, test and run the demo:
# Debian packages (apt-get; clang, its libFuzzer runtime and llvm-symbolizer
# for `make fuzz`), and libsrtp2 2.5.0 from Debian's own source
# package, unpacked with its Debian patches into subprojects/libsrtp2, which
# meson builds statically against OpenSSL (Debian's binary libsrtp2 is built
# on NSS, far too slow for a relay; it stays installed for the benchmarks).
# The source package is kept in /var/cache/duet, so after the first run this
# needs no network, in this checkout or any other clone on the machine.
# Idempotent: when everything is present it touches nothing. Run as root
# (CI and the README's commands do).
set -euo pipefail
cd "$(dirname "$0")/.."

SRTP_PKG=libsrtp2
SRTP_VERSION=2.5.0
SRTP_CACHE=${DUET_SRC_CACHE:-/var/cache/duet}/$SRTP_PKG
SRTP_DIR=subprojects/libsrtp2

pkgs=(
	build-essential make meson ninja-build pkg-config python3
	dpdk dpdk-dev libdpdk-dev libsrtp2-dev libhiredis-dev libopus-dev libcriterion-dev
	redis-server redis-tools redis-sentinel
	iproute2 ethtool iputils-ping procps jq tshark libcap2-bin
	libssl-dev libipsec-mb-dev dpkg-dev ffmpeg python3-matplotlib faketime
	clang libclang-rt-dev llvm
	libmicrohttpd-dev libsystemd-dev systemd curl prometheus python3-redis
	scdoc man-db debhelper lintian
)
# Node.js for the Node example control plane (examples/control-plane):
# Debian's nodejs and npm, unless a node and npm are there already (a
# NodeSource nodejs carries its own npm and conflicts with Debian's).
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

# libsrtp2_source: unpack Debian's libsrtp2 source package (fetched once
# into the cache, deb-src lines enabled first if need be) into SRTP_DIR.
libsrtp2_source() {
	if [ -f "$SRTP_DIR/meson.build" ] && [ -f "$SRTP_DIR/.duet-from-debian" ]; then
		return 0
	fi
	if ! ls "$SRTP_CACHE"/${SRTP_PKG}_${SRTP_VERSION}-*.dsc >/dev/null 2>&1; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "install-deps: need root to fetch Debian's $SRTP_PKG source package" >&2
			exit 1
		fi
		enable_deb_src
		mkdir -p "$SRTP_CACHE"
		# apt's sandbox user cannot write a root-owned cache dir: fetch as root.
		(cd "$SRTP_CACHE" && apt-get source -qq --download-only \
			-o APT::Sandbox::User=root "$SRTP_PKG")
	fi
	local dsc
	dsc=$(ls "$SRTP_CACHE"/${SRTP_PKG}_${SRTP_VERSION}-*.dsc | sort -V | tail -n 1)
	local tmp
	tmp=$(mktemp -d)
	# dpkg-source leaves the orig tarball beside what it unpacks: do it in a
	# temp dir and move only the tree.
	dpkg-source --no-check -x "$dsc" "$tmp/src" >/dev/null
	basename "$dsc" >"$tmp/src/.duet-from-debian"
	rm -rf "$SRTP_DIR"
	mkdir -p subprojects
	mv "$tmp/src" "$SRTP_DIR"
	rm -rf "$tmp"
	echo "install-deps: unpacked $(basename "$dsc") into $SRTP_DIR"
}

# enable_deb_src: add deb-src twins of the deb822 Debian sources, once.
enable_deb_src() {
	local out=/etc/apt/sources.list.d/duet-deb-src.sources
	if grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		return 0
	fi
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$out"
	elif [ -f /etc/apt/sources.list ]; then
		sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >/etc/apt/sources.list.d/duet-deb-src.list
	else
		echo "install-deps: no Debian apt sources found to derive deb-src lines from" >&2
		exit 1
	fi
	apt-get update -qq
}

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	libsrtp2_source
	exit 0
fi
echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: need root to apt-get install (run as root or with sudo)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the answer does not matter here.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
libsrtp2_source
