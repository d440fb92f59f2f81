#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_crash: a passthrough relay survives kill -9 at scale (issue 10,
# deliver 2). 10,000 pairs sit in Redis before duetd starts (pipelined, as
# a control plane's bulk load would leave them), plus one live call made
# with duetctl. While that call and three of the 10,000 talk at voice rate
# (50 packets/s each way, kernel UDP sockets in the client namespaces),
# duetd gets SIGKILL and is started again. The live call must forward both
# ways within 2 s of the restart (the time is printed as a diagnostic),
# the other three too, every pair must be back, and the crash must have
# ended or rejected nothing.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_need_bins duetd duetctl

N=10000
GEN=$DUET_SRC_ROOT/benchmarks/control/gen_pairs.py
PROBE=$DUET_SRC_ROOT/benchmarks/control/restart_probe.py
# Ports 20000..29999 for the N pairs, 30000..30099 for the live call's.
DUET_PORT_MIN=20000
DUET_PORT_MAX=30099

duet_topo_up
duet_redis_start
python3 "$GEN" "$RELAY_ID" "$N" passthrough --ports 20000-29999 | rcli --pipe >/dev/null ||
	duet_bail "loading $N pairs into Redis failed"
duet_check_eq "$N pair records in Redis" "$N" "$(rcli EVAL \
	"return #redis.call('KEYS', ARGV[1])" 0 "$(duet_key 'pair:*')")"
# No idle timeout: only the crash may end a pair here.
duet_conf_write max_pairs=16384 idle_timeout_ms=0
duetd_start || duet_bail "duetd did not start"
duet_require "duetd installed the $N pairs" duet_wait 30 duet_relay_ge pairs "$N"
# duetd seeds the free set once the pairs forward: 100 endpoints a side.
free_n=$(((DUET_PORT_MAX - DUET_PORT_MIN + 1 - N) * 2))
duet_require "duetd seeded the $free_n free endpoints" duet_wait 30 bash -c \
	"[[ \$(redis-cli -s '$DUET_REDIS_SOCK' SCARD '$(duet_key free)') == $free_n ]]"

duet_pair_create live
LA=$PAIR_A LB=$PAIR_B
duet_require "latch the live call" duet_latch live "$DUET_A_IP:40100" "$LA" "$DUET_B_IP:40100" "$LB"
duet_check "relay pairs = $N + the live call" duet_wait 5 duet_relay_ge pairs $((N + 1))
rejected0=$(duet_relay_stat rejected)

# crash_ends SIDE: the client ends of the calls on SIDE (a or b): the live
# call from the clients' first addresses, pairs p0, p4321 and p9999 from
# their second.
crash_ends() {
	local side=$1 ip ip2 relay ep
	if [[ $side == a ]]; then ip=$DUET_A_IP ip2=$DUET_A_IP2 relay=$DUET_RELAY_IP_A ep=$LA
	else ip=$DUET_B_IP ip2=$DUET_B_IP2 relay=$DUET_RELAY_IP_B ep=$LB; fi
	echo "live,$ip:40100,$ep"
	for i in 0 4321 9999; do echo "p$i,$ip2:$((41000 + i)),$relay:$((20000 + i))"; done
}

# At most 30 s of calls; stopped once the restart is measured.
GO=$(duet_go_file calls)
for side in a b; do
	ns=$NS_A
	[[ $side == b ]] && ns=$NS_B
	rm -f "$DUET_TMP/calls-$side.ready"
	# shellcheck disable=SC2046 # one argument per flow
	ip netns exec "$ns" python3 "$PROBE" run --side "$side" --out "$DUET_TMP/calls-$side.json" \
		--ready-file "$DUET_TMP/calls-$side.ready" --go-file "$GO" \
		--stop-file "$DUET_TMP/calls.stop" --count 1500 --rate 50 --timeout 40 \
		$(crash_ends "$side") 2>"$DUET_TMP/calls-$side.err" &
	DUET_BG[calls-$side]=$!
	DUET_BG_PIDS+=($!)
	duet_wait 10 test -e "$DUET_TMP/calls-$side.ready" ||
		duet_bail "probe $side not ready: $(cat "$DUET_TMP/calls-$side.err")"
done
duet_go calls
sleep 2

t_kill=$(date +%s.%N)
kill -KILL "$DUETD_PID"
wait "$DUETD_PID" 2>/dev/null
DUETD_PID=
echo "=== duetd killed (SIGKILL) $(date +%T.%N)" >>"$DUETD_LOG"
sleep 0.5
t_start=$(date +%s.%N)
duet_require "duetd starts again after SIGKILL" duetd_start
# The calls forward again well within this; then stop them.
sleep 2.5
touch "$DUET_TMP/calls.stop"
for side in a b; do
	wait "${DUET_BG[calls-$side]}" ||
		duet_diag "probe $side exited $?: $(cat "$DUET_TMP/calls-$side.err")"
done

# One line a call: NAME BEFORE_AB BEFORE_BA AB_MS BA_MS (restart_probe.py).
gaps=$(python3 "$PROBE" gap --since "$t_start" --until "$t_kill" \
	"$DUET_TMP/calls-a.json" "$DUET_TMP/calls-b.json") || duet_diag "no probe reports"
duet_diag "per call: packets a->b, b->a before the kill; ms from restart to the first a->b, b->a"
duet_diag "$gaps"
read -r _ before_ab before_ba ab_ms ba_ms < <(grep '^live ' <<<"$gaps")
: "${before_ab:=0}" "${before_ba:=0}" "${ab_ms:=-1}" "${ba_ms:=-1}"
live_ms=$((ab_ms > ba_ms ? ab_ms : ba_ms))
duet_check "the live call forwarded both ways before the kill" \
	test "$before_ab" -gt 0 -a "$before_ba" -gt 0
((ab_ms >= 0 && ba_ms >= 0)) && duet_diag "crash: restart to forwarding $live_ms ms"
duet_check "the live call forwards both ways within 2 s of the restart" \
	test "$ab_ms" -ge 0 -a "$ba_ms" -ge 0 -a "$live_ms" -lt 2000
others=$(awk '$1 != "live" && $2 > 0 && $3 > 0 && $4 >= 0 && $5 >= 0 { print $1 }' <<<"$gaps")
duet_check_eq "the other calls forwarded both ways before the kill and again after it" \
	"p0 p4321 p9999" "$(sort <<<"$others" | xargs)"

duet_check "all $N + 1 pairs are back" duet_wait 10 bash -c \
	"[[ \$(redis-cli -s '$DUET_REDIS_SOCK' HGET '$(duet_key relay)' pairs) == $((N + 1)) ]]"
duet_check_eq "nothing ended by the crash" 0 "$(rcli XLEN "$(duet_key ended)")"
duet_check_eq "nothing rejected before or after the crash" "0 0" \
	"$rejected0 $(duet_relay_stat rejected)"
duet_check_eq "the live call's record is intact" "$LA $LB passthrough" \
	"$(rcli HMGET "$(duet_key pair:live)" a b mode | xargs)"
duet_check_eq "and still owns its endpoints" "live live" \
	"$(rcli HMGET "$(duet_key alloc)" "$LA" "$LB" | xargs)"

duet_check_stop TERM
