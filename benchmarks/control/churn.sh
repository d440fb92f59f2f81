#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# control/churn.sh BUILD_DIR CSV RUNS SECONDS: forwarding rate while 10,000
# pair changes per second stream in (issue "Benchmarks", item 5). In the
# integration topology, duet-caller pushes calls through duetd as fast as
# it can (--rate max) for SECONDS, alternately without and with churn.py
# rewriting 80 other pairs (the test topology has 200 endpoints) at 10,000 changes/s; the figure is the
# relayed rate duetd reports (heartbeat fwd_pkts over the window).
# Appends rows to CSV. On a 2-core machine the callers, Redis and the
# churn writer share the control thread's core: the dip includes that.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
export DUET_SOURCE_ROOT=$src DUET_BUILD_ROOT=$1
CSV=$2 RUNS=$3 SECS=$4
DUET_TAP=0
# shellcheck source=../../tools/lab/lib.sh
source "$src/tools/lab/lib.sh"
duet_init
RELAY_ID=bench
CALLER=$DUET_BUILD_ROOT/app/duet-caller/duet-caller
duet_start_all stats_interval_ms=500 max_pairs=4096
ids=()
for i in $(seq 1 80); do
	duet_ctl create --id "bg$i" >/dev/null || break
	ids+=("bg$i")
done
duet_pair_create load
gen=$("$CALLER" --gen-keys passthrough --json)
ka=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["a_in"])' "$gen")
kb=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["b_in"])' "$gen")

# window CHURN RUN: relayed packets per second over SECS seconds.
window() {
	local churn=$1 run=$2 p0 p1 t0 t1 cpid=''
	"$CALLER" --a-netns "$NS_A" --b-netns "$NS_B" --a-bind "$DUET_A_IP:42000" \
		--b-bind "$DUET_B_IP:42000" --a-relay "$PAIR_A" --b-relay "$PAIR_B" \
		--a-key-out "$ka" --a-key-in "$kb" --b-key-out "$kb" --b-key-in "$ka" \
		--rate max --decode-calls 0 --duration $((SECS + 2)) --timeout $((SECS + 20)) \
		--json >"$DUET_TMP/caller-$churn-$run.json" 2>&1 &
	local lpid=$!
	sleep 1
	p0=$(duet_relay_stat fwd_pkts) t0=$(date +%s.%N)
	if [[ $churn == churn ]]; then
		python3 "$here/churn.py" "$DUET_REDIS_SOCK" "$RELAY_ID" "$SECS" 10000 "${ids[@]}" \
			>"$DUET_TMP/churn-$run.out" &
		cpid=$!
	fi
	sleep "$SECS"
	p1=$(duet_relay_stat fwd_pkts) t1=$(date +%s.%N)
	[[ -n $cpid ]] && wait "$cpid"
	wait "$lpid"
	awk -v a="$p0" -v b="$p1" -v s="$t0" -v e="$t1" 'BEGIN {printf "%.0f\n", (b - a) / (e - s)}'
}

for run in $(seq 1 "$RUNS"); do
	quiet=$(window quiet "$run")
	busy=$(window churn "$run")
	changes=$(cat "$DUET_TMP/churn-$run.out" 2>/dev/null || echo 0)
	echo "control,churn,10000,fwd_pps_quiet,$quiet,pps,$run" >>"$CSV"
	echo "control,churn,10000,fwd_pps_churn,$busy,pps,$run" >>"$CSV"
	echo "control,churn,10000,changes_written_per_s,$((changes / SECS)),1/s,$run" >>"$CSV"
	awk -v q="$quiet" -v b="$busy" -v r="$run" \
		'BEGIN {if (q > 0) printf "control,churn,10000,fwd_dip_pct,%.2f,%%,%s\n", (1 - b / q) * 100, r}' >>"$CSV"
done
duetd_stop TERM
