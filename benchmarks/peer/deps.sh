#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# benchmarks/peer/deps.sh: what the peer benchmark needs from Debian:
# rtpengine (package rtpengine-daemon: the userspace daemon; its kernel
# module package is only recommended and is not installed). The benchmark
# runs its own rtpengine in the foreground with a private command line, so
# the system service that the package installs is stopped and disabled
# here, whether or not this script installed it. Called by
# benchmarks/bench.sh; safe to run again. Root only.
set -euo pipefail

[[ $(id -u) == 0 ]] || {
	echo "peer deps: needs root (apt-get)" >&2
	exit 1
}

if ! command -v rtpengine >/dev/null; then
	# The package's maintainer script would start the service: forbid that
	# for the install (policy-rc.d exit 101 = "not allowed"), unless the
	# machine already has such a policy.
	policy=''
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
	fi
	rc=0
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		rtpengine-daemon >/dev/null || {
		apt-get update -qq >/dev/null &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				rtpengine-daemon >/dev/null
	} || rc=$?
	[[ -n $policy ]] && rm -f "$policy"
	((rc == 0)) || {
		echo "peer deps: apt-get install rtpengine-daemon failed" >&2
		exit 1
	}
fi

# Never leave the system service running or enabled (rtpengine.service is
# an alias of rtpengine-daemon.service).
unit=rtpengine-daemon
if [[ -d /run/systemd/system ]]; then
	systemctl disable --now "$unit.service" >/dev/null 2>&1 || true
else
	systemctl disable "$unit.service" >/dev/null 2>&1 ||
		rm -f "/etc/systemd/system/multi-user.target.wants/$unit.service"
	if [[ -x /etc/init.d/$unit ]]; then
		/etc/init.d/"$unit" stop >/dev/null 2>&1 || true
	fi
fi
update-rc.d "$unit" disable >/dev/null 2>&1 || true
command -v rtpengine >/dev/null
echo "peer deps: $(rtpengine --version 2>&1 | head -n 1) installed; system service stopped and disabled"
