#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# control/run.sh BUILD_DIR OUT_DIR quick|full: the control plane and memory
# benchmarks (issue "Benchmarks", items 5 and 6).
#  - load: N pairs already in Redis (written as a control plane writes
#    them), duetd started: seconds until its heartbeat says all N are
#    installed (the fast path reads the table the moment a pair is in it).
#  - memory: bytes per pair from duetd's own accounting (heartbeat fields
#    mem_dpdk_bytes + mem_heap_bytes: DPDK heaps and the C heap, where
#    libsrtp2 sessions live), (with N pairs, max_pairs N) minus (no pair,
#    max_pairs 1), divided by N: passthrough at 1,000,000, verify and rekey
#    at 100,000.
#  - create_to_forward: pair_create.lua call to the first packet forwarded
#    for the new pair, p50/p99 (latency.sh, in network namespaces).
#  - churn (CONTROL_KERNEL_CHURN=1 only): relayed packets/s with and
#    without 10,000 pair changes/s with kernel callers sharing duetd's CPU
#    (churn.sh, in network namespaces). Goal C3 is measured by
#    memif/run.sh's churn variant instead, with duetd alone on its core.
#  - restart_forwarding: SIGKILL during a live call with the load's N pairs in Redis,
#    restart: milliseconds until the call forwards both ways again, and
#    seconds until all N pairs are back (restart.sh, in network namespaces).
# duetd runs on two net_null ports (no traffic is needed here) with a
# private redis-server on a unix socket, on hugepages when the harness has
# them (a row control,env,0,hugepages says), else --no-huge. Writes
# OUT_DIR/control.csv.
# environment (smoke runs): CONTROL_RUNS (5), CONTROL_LOAD_N (1,000,000),
# CONTROL_LOAD_RUNS (2 quick, 5 full), CONTROL_KEYED_N (20,000 quick,
# 100,000 full), CONTROL_RESTART_N (200,000 quick, 1,000,000 full),
# CONTROL_LAT_COUNT (200 quick, 2000 full), CONTROL_PARTS ("latency
# restart memory": which parts run).
set -uo pipefail
BUILD=$1 OUT=$2 SETTING=${3:-quick}
here=$(cd "$(dirname "$0")" && pwd)
DUETD=$BUILD/app/duetd/duetd
# Both settings load the 1,000,000 pairs goals C1 and M1 name (quick twice,
# about 30 s each); quick keeps the keyed tables and the restart small.
RUNS=${CONTROL_RUNS:-5}
LOAD_N=${CONTROL_LOAD_N:-1000000}
if [[ $SETTING == full ]]; then
	LOAD_RUNS=${CONTROL_LOAD_RUNS:-5} KEYED_N=${CONTROL_KEYED_N:-100000}
	RESTART_N=${CONTROL_RESTART_N:-1000000}
else
	LOAD_RUNS=${CONTROL_LOAD_RUNS:-2} KEYED_N=${CONTROL_KEYED_N:-20000}
	RESTART_N=${CONTROL_RESTART_N:-200000}
fi
PARTS=${CONTROL_PARTS:-latency restart memory}
# shellcheck source=../hugepages.sh
source "$here/../hugepages.sh"
# Hugepages for every duetd here when the harness has room for the largest
# table (about 1.1 KB a pair at 1,000,000 in the last full run, twice over).
CTL_HUGE=0
huge_usable $((512 + LOAD_N / 512)) && CTL_HUGE=1
# The lab (latency.sh, churn.sh, restart.sh) starts duetd with DUET_EAL_MEM.
DUET_EAL_MEM=$(huge_eal $CTL_HUGE 512)
export DUET_EAL_MEM
TMP=$(mktemp -d /tmp/duet-bench-control.XXXXXX)
SOCK=$TMP/redis.sock
R=bench
REDIS_PID='' DUETD_PID=''
CSV=$OUT/control.csv
mkdir -p "$OUT" || exit 1

cleanup() {
	[[ -n $DUETD_PID ]] && kill -KILL "$DUETD_PID" 2>/dev/null
	[[ -n $REDIS_PID ]] && kill -KILL "$REDIS_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP" "/var/run/dpdk/bench-ctl-$$"
}
trap cleanup EXIT

rcli() { redis-cli -s "$SOCK" "$@"; }

redis_start() {
	rm -f "$SOCK"
	redis-server --port 0 --unixsocket "$SOCK" --dir "$TMP" --save '' --appendonly no \
		--logfile "$TMP/redis.log" --daemonize no &
	REDIS_PID=$!
	for _ in $(seq 100); do [[ $(rcli PING 2>/dev/null) == PONG ]] && return 0; sleep 0.1; done
	echo "redis-server did not start" >&2
	exit 1
}

redis_stop() {
	kill -KILL "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=''
}

# conf MAX_PAIRS: 16 service addresses per port, ports 1024..65535.
conf() {
	local a0='' a1='' i
	for i in $(seq 1 16); do a0+="${a0:+, }192.0.2.$i"; a1+="${a1:+, }198.51.100.$i"; done
	cat >"$TMP/duetd.conf" <<CONF
[relay]
id = $R
workers = 1
max_pairs = $1
idle_timeout_ms = 0
stats_interval_ms = 1000
heartbeat_ttl_ms = 60000
idle_poll_us = 100
[media]
port_min = 1024
port_max = 65535
[redis]
address = unix:$SOCK
connect_timeout_ms = 1000
[port net_null0]
addresses = $a0
[port net_null1]
addresses = $a1
CONF
}

duetd_start() {
	# shellcheck disable=SC2046 # a list of EAL options
	"$DUETD" -l 0,1 $(huge_eal $CTL_HUGE 8192) --no-pci --file-prefix "bench-ctl-$$" --log-level=error \
		--vdev net_null0 --vdev net_null1 -- -c "$TMP/duetd.conf" >>"$TMP/duetd.log" 2>&1 &
	DUETD_PID=$!
}

duetd_stop() {
	kill -TERM "$DUETD_PID" 2>/dev/null
	for _ in $(seq 300); do kill -0 "$DUETD_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$DUETD_PID" 2>/dev/null
	wait "$DUETD_PID" 2>/dev/null
	DUETD_PID=''
}

hb() { rcli HGET "duet:{$R}:relay" "$1" 2>/dev/null; }

# wait_pairs N TIMEOUT_S: until the heartbeat says N pairs; prints seconds
# since duetd started (0.01 s resolution), or nothing on timeout.
wait_pairs() {
	local n=$1 limit=$2 t0=$3 now
	while :; do
		now=$(date +%s.%N)
		[[ $(hb pairs) == "$n" ]] && { awk -v a="$now" -v b="$t0" 'BEGIN {printf "%.2f\n", a - b}'; return 0; }
		awk -v a="$now" -v b="$t0" -v l="$limit" 'BEGIN {exit !(a - b > l)}' && return 1
		sleep 0.01
	done
}

# mem_total: DPDK heaps + C heap from the heartbeat, once it is fresh.
mem_total() {
	local u0 d h
	u0=$(hb updated_ms)
	for _ in $(seq 50); do [[ $(hb updated_ms) != "$u0" ]] && break; sleep 0.1; done
	d=$(hb mem_dpdk_bytes) h=$(hb mem_heap_bytes)
	[[ -n $d && -n $h ]] && echo $((d + h))
}

echo "benchmark,variant,x,metric,value,unit,run" >"$CSV"
echo "control,env,0,hugepages,$CTL_HUGE,flag,1" >>"$CSV"
row() { echo "control,$1,$2,$3,$4,$5,$6" >>"$CSV"; }

# baseline: no pair, a table of one.
baseline() {
	redis_start
	conf 1
	duetd_start
	wait_pairs 0 60 "$(date +%s.%N)" >/dev/null || { echo "baseline: duetd did not start" >&2; tail "$TMP/duetd.log" >&2; }
	mem_total
	duetd_stop
	redis_stop
}

# one MODE N RUN: load N pairs of MODE into a fresh Redis, start duetd, time
# the load, read its memory.
one() {
	local mode=$1 n=$2 run=$3 t0 secs mem
	redis_start
	python3 "$here/gen_pairs.py" "$R" "$n" "$mode" | rcli --pipe >/dev/null || echo "redis --pipe failed" >&2
	conf "$n"
	t0=$(date +%s.%N)
	duetd_start
	if secs=$(wait_pairs "$n" 600 "$t0"); then
		[[ $mode == passthrough ]] && row load "$n" seconds_to_forwarding "$secs" s "$run"
		mem=$(mem_total)
		if [[ -n $mem && -n $BASE ]]; then
			row "memory_$mode" "$n" bytes_per_pair $(((mem - BASE) / n)) B "$run"
		fi
		echo "$mode $n run $run: loaded in $secs s, memory $mem B (baseline $BASE B)"
	else
		echo "$mode $n run $run: not all pairs loaded in 600 s (pairs=$(hb pairs))" >&2
		tail -n 20 "$TMP/duetd.log" >&2
	fi
	duetd_stop
	redis_stop
}

# Create to first packet forwarded (sequential creates, up to 1,000/s).
LAT_COUNT=${CONTROL_LAT_COUNT:-200}
[[ $SETTING == full ]] && LAT_COUNT=${CONTROL_LAT_COUNT:-2000}
if [[ " $PARTS " == *" latency "* ]]; then
	bash "$here/latency.sh" "$BUILD" "$CSV" "$RUNS" "$LAT_COUNT" || echo "latency.sh failed" >&2
fi
# Forwarding rate without and with 10,000 pair changes per second, kernel
# callers beside duetd (the old measure, harness-limited: C3 is memif's).
if [[ ${CONTROL_KERNEL_CHURN:-0} == 1 ]]; then
	CHURN_S=4
	[[ $SETTING == full ]] && CHURN_S=15
	bash "$here/churn.sh" "$BUILD" "$CSV" "$RUNS" "$CHURN_S" || echo "churn.sh failed" >&2
fi
# SIGKILL during a call, restart: until the call forwards again, with
# RESTART_N pairs in Redis.
if [[ " $PARTS " == *" restart "* ]]; then
	bash "$here/restart.sh" "$BUILD" "$CSV" "$RUNS" "$RESTART_N" || echo "restart.sh failed" >&2
fi

if [[ " $PARTS " == *" memory "* ]]; then
	BASE=$(baseline)
	echo "baseline memory: $BASE B"
	for run in $(seq 1 "$LOAD_RUNS"); do
		one passthrough "$LOAD_N" "$run"
	done
	for run in $(seq 1 "$RUNS"); do
		one verify "$KEYED_N" "$run"
		one rekey "$KEYED_N" "$run"
	done
fi
echo "wrote $CSV"
