#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Installs what duet needs on Debian 12 to build, test and run the demo.
# Idempotent: when every package is present it touches nothing (and needs no
# network). Run as root (CI and the README's commands do).
set -euo pipefail

pkgs=(
	build-essential make meson ninja-build pkg-config python3
	dpdk dpdk-dev libdpdk-dev libsrtp2-dev libhiredis-dev libopus-dev libcriterion-dev
	redis-server redis-tools
	iproute2 ethtool iputils-ping procps jq tshark libcap2-bin
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
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
