#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# benchmarks/lib.sh: helpers the benchmark scripts share (memif/run.sh and
# peer/run.sh source it): stopping our own children, a process's CPU time,
# and the machine's load from other processes before a measurement. Shell
# functions only; no state of its own.

# stop PID: SIGTERM, SIGKILL after 5 s; only our own children, by PID.
stop() {
	local pid=$1 i
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# cpu_ticks PID: utime + stime of the process (all threads), clock ticks.
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# busy_pct SECONDS: percent of all CPUs busy over SECONDS, from /proc/stat:
# load from processes that are not ours, taken before each measurement.
busy_pct() {
	local a b
	a=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat)
	sleep "$1"
	b=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y);
		d = y[2] - x[2]; printf "%.1f", (d > 0 ? 100 * (y[1] - x[1]) / d : 0) }'
}

# quiet_busy: wait (at most QUIET_WAIT seconds, default 5) until the
# machine's load from others is below QUIET_MAX percent (default 15);
# prints the last sample.
quiet_busy() {
	local end=$((SECONDS + ${QUIET_WAIT:-5})) b
	while :; do
		b=$(busy_pct 0.5)
		if awk -v b="$b" -v m="${QUIET_MAX:-15}" 'BEGIN { exit !(b < m) }' || ((SECONDS >= end)); then
			echo "$b"
			return 0
		fi
		sleep 1
	done
}
