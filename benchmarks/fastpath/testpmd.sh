#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# testpmd.sh: the anchor for bench_fastpath. dpdk-testpmd forwards between
# two net_ring ports in one process (--vdev net_ring0 --vdev net_ring1: what
# a port transmits comes back on its own rx ring, so port 0 -> port 1 and
# port 1 -> port 0 make a loop) in --forward-mode=5tswap (parse Ethernet/
# IPv4/UDP, swap MACs, addresses and ports: the least a relay does), on one
# forwarding lcore, with 4 bursts of 32 Opus-sized frames per port in
# flight (`start tx_first 4`). Nothing is allocated or freed per packet.
#
# A window is `start`, SECONDS of forwarding, `stop`. Its cost per packet is
# the forwarding thread's CPU time (/proc/.../schedstat: only while it was on
# a CPU, so another task taking the CPU does not count) over the packets
# forwarded in the window; testpmd's own --record-core-cycles figure (busy
# TSC cycles per packet, which does count time preempted inside a burst) is
# printed beside it as busy_cycles_per_pkt.
#
# usage:
#   testpmd.sh RUN [SECONDS]           one testpmd, one window, then quit
#   testpmd.sh start DIR               start testpmd in the background (state in DIR)
#   testpmd.sh window DIR [SECONDS]    one window of the running testpmd
#   testpmd.sh stop DIR                quit it
# Every window prints CSV rows like bench_fastpath's on stdout:
#   fastpath,testpmd_5tswap,0,ns_per_pkt,<v>,ns,<run>
# (run: RUN, or the window's number since start). A window that follows a
# bench_fastpath run (FASTPATH_AFTER=variant,pairs,run, set by its
# --between) also prints its cost under that run's name, so that a ratio
# can pair each duet run with the testpmd window right after it:
#   fastpath,testpmd_5tswap_after_<variant>,<pairs>,ns_per_pkt,<v>,ns,<run> Bounded: testpmd is
# killed FASTPATH_TESTPMD_LIMIT seconds (default 900) after it started.
# environment: FASTPATH_CPU (CPU of the forwarding lcore, default the last
# one we may use), FASTPATH_EAL_MEM (default "--no-huge -m 1024"),
# FASTPATH_TESTPMD_PKT_LEN (frame bytes, default 164), TESTPMD (the binary).
set -uo pipefail

testpmd=${TESTPMD:-dpdk-testpmd}
mem=${FASTPATH_EAL_MEM:---no-huge -m 1024}
# Ethernet + IPv4 + UDP + RTP 12 + 110, the middle of Opus's 60..160 bytes.
pkt_len=${FASTPATH_TESTPMD_PKT_LEN:-164}
limit=${FASTPATH_TESTPMD_LIMIT:-900}

die() {
	echo "testpmd.sh: $*" >&2
	exit 1
}

# Wait until testpmd's output holds at least `count` lines matching
# `pattern` (at most `secs` s).
wait_for() {
	local dir=$1 pattern=$2 count=$3 secs=$4 i c
	for ((i = 0; i < secs * 20; i++)); do
		c=$(grep -c -- "$pattern" "$dir/out" 2>/dev/null)
		((${c:-0} >= count)) && return 0
		kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
		sleep 0.05
	done
	echo "testpmd.sh: no '$pattern' from testpmd; its output ends:" >&2
	tail -n 30 "$dir/out" >&2
	return 1
}

cmd_start() {
	local dir=$1 cpus fwd_cpu main_cpu pid t worker=
	mkdir -p "$dir" || die "cannot make $dir"
	read -r -a cpus < <(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0)))')
	fwd_cpu=${FASTPATH_CPU:-${cpus[-1]}}
	main_cpu=${cpus[0]}
	[[ $main_cpu == "$fwd_cpu" && ${#cpus[@]} -gt 1 ]] && main_cpu=${cpus[1]}
	rm -f "$dir/in"
	mkfifo "$dir/in" || die "cannot make $dir/in"
	: >"$dir/out"
	# stdbuf: testpmd's replies must reach the file as they are printed.
	# shellcheck disable=SC2086
	timeout -k 5 "$limit" stdbuf -oL "$testpmd" --lcores "0@$main_cpu,1@$fwd_cpu" $mem \
		--no-pci --no-telemetry --file-prefix "fastpath-testpmd-$$" --vdev net_ring0 \
		--vdev net_ring1 --log-level '*:error' -- -i --forward-mode=5tswap --nb-cores=1 \
		--txpkts="$pkt_len" --total-num-mbufs=8192 <"$dir/in" >"$dir/out" 2>&1 &
	echo $! >"$dir/pid"
	echo "fastpath-testpmd-$$" >"$dir/prefix"
	# Keep the fifo open for writing (else testpmd reads end-of-file)
	# with a sleeper holding it; commands are appended by `window`.
	sleep "$limit" >"$dir/in" &
	echo $! >"$dir/holder"
	wait_for "$dir" "testpmd> " 1 60 || return 1
	# timeout -> stdbuf exec's testpmd, so testpmd is timeout's child.
	pid=$(pgrep -P "$(cat "$dir/pid")" | head -n 1)
	for t in /proc/"$pid"/task/*; do
		[[ $(cat "$t/comm" 2>/dev/null) == rte-worker-1 ]] && worker=$t
	done
	[[ -n $worker ]] || { echo "testpmd.sh: no rte-worker-1 thread in testpmd $pid" >&2; return 1; }
	echo "$worker" >"$dir/worker"
	echo 0 >"$dir/windows"
	echo "set record-core-cycles on" >>"$dir/in"
}

cmd_window() {
	local dir=$1 secs=${2:-1} run=${3:-} n r0 r1 t0 t1 pkts busy mhz
	[[ -f $dir/worker ]] || die "no testpmd started in $dir"
	n=$(($(cat "$dir/windows") + 1))
	echo "$n" >"$dir/windows"
	run=${run:-$n}
	r0=$(awk '{print $1}' "$(cat "$dir/worker")/schedstat")
	t0=$(date +%s.%N)
	# testpmd frees what its rx queues hold at each start: put the frames
	# in flight again every time.
	echo "start tx_first 4" >>"$dir/in"
	sleep "$secs"
	echo "stop" >>"$dir/in"
	wait_for "$dir" "CPU cycles/packet=" "$n" 30 || return 1
	t1=$(date +%s.%N)
	r1=$(awk '{print $1}' "$(cat "$dir/worker")/schedstat")
	# This window's block is the last one: RX-packets of all ports, and
	# testpmd's busy cycles per packet and TSC MHz.
	pkts=$(awk '/Accumulated forward statistics/ {acc = 1} acc && /RX-packets:/ {v = $2; acc = 0} END {print v}' "$dir/out")
	read -r busy mhz < <(sed -n 's/.*CPU cycles\/packet=\([0-9.]*\).* at \([0-9]*\) MHz.*/\1 \2/p' "$dir/out" | tail -n 1)
	[[ -n $pkts && $pkts != 0 && -n $busy ]] || {
		tail -n 40 "$dir/out" >&2
		die "no packet count from testpmd"
	}
	awk -v run="$run" -v pkts="$pkts" -v cpu_ns="$((r1 - r0))" -v busy="$busy" -v mhz="$mhz" \
		-v wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" \
		-v after="${FASTPATH_AFTER:-}" 'BEGIN {
		ns = cpu_ns / pkts
		if (split(after, a, ",") == 3)
			printf "fastpath,testpmd_5tswap_after_%s,%s,ns_per_pkt,%.3f,ns,%s\n", a[1], a[2], ns, a[3]
		printf "fastpath,testpmd_5tswap,0,ns_per_pkt,%.3f,ns,%s\n", ns, run
		printf "fastpath,testpmd_5tswap,0,cycles_per_pkt,%.3f,tsc_cycles,%s\n", ns * mhz / 1e3, run
		printf "fastpath,testpmd_5tswap,0,mpps,%.3f,Mpps,%s\n", 1e3 / ns, run
		printf "fastpath,testpmd_5tswap,0,busy_cycles_per_pkt,%.3f,tsc_cycles,%s\n", busy, run
		printf "fastpath,testpmd_5tswap,0,packets,%d,packets,%s\n", pkts, run
		printf "fastpath,testpmd_5tswap,0,cpu_share,%.3f,ratio,%s\n", cpu_ns / 1e9 / wall, run
		printf "  testpmd 5tswap window %s: %.1f ns/pkt of CPU time (%.2f Mpps per core), busy %.1f cycles/pkt at %d MHz, %d packets, thread on a CPU %.0f%% of %.2f s\n", run, ns, 1e3 / ns, busy, mhz, pkts, cpu_ns / 1e7 / wall, wall > "/dev/stderr"
	}'
}

cmd_stop() {
	local dir=$1 pid
	[[ -f $dir/pid ]] || return 0
	pid=$(cat "$dir/pid")
	echo "quit" >>"$dir/in" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null
	[[ -f $dir/holder ]] && kill "$(cat "$dir/holder")" 2>/dev/null
	wait 2>/dev/null
	# DPDK leaves its runtime directory behind: ours, by the name we gave.
	[[ -s $dir/prefix ]] && rm -rf "/var/run/dpdk/$(cat "$dir/prefix")"
	rm -f "$dir/pid" "$dir/holder" "$dir/worker" "$dir/in" "$dir/prefix"
}

case ${1:-} in
start) cmd_start "${2:?usage: testpmd.sh start DIR}" ;;
window) cmd_window "${2:?usage: testpmd.sh window DIR [SECONDS]}" "${3:-1}" ;;
stop) cmd_stop "${2:?usage: testpmd.sh stop DIR}" ;;
'' | -h | --help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
*)
	run=$1
	secs=${2:-2}
	dir=$(mktemp -d /tmp/fastpath-testpmd.XXXXXX)
	trap 'cmd_stop "$dir"; rm -rf "$dir"' EXIT
	cmd_start "$dir" || exit 1
	cmd_window "$dir" "$secs" "$run"
	;;
esac
