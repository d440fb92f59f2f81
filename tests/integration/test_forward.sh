#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_forward: the relay's main job. A pair's two clients talk through
# duetd in both directions at once; every packet arrives, intact, and each
# client only ever sees its own relay endpoint as the source (never the
# other client's address). The per-pair stats and the relay heartbeat
# count what went through, list every drop reason of duet_drop.def, and
# never carry a client address. duetd stops cleanly on SIGTERM.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
# 1400-byte datagrams at full speed are not voice: lift the per-leg byte
# limit (abuse_flood tests the policer).
duet_start_all security.max_kbps=0

A=$DUET_A_IP:40000
B=$DUET_B_IP:40000
N=300

duet_pair_create f1
AEP=$PAIR_A BEP=$PAIR_B
duet_require "duetd reports pair f1 as waiting" duet_wait 5 duet_stat_is f1 state waiting
duet_check_eq "f1: mode in stats" passthrough "$(duet_stat f1 mode)"
duet_check_eq "f1: both legs waiting before any packet" "waiting waiting" \
	"$(duet_stat f1 a_state) $(duet_stat f1 b_state)"
duet_require "latch both legs of f1" duet_latch f1 "$A" "$AEP" "$B" "$BEP"
duet_check "f1 becomes active" duet_wait 3 duet_stat_is f1 state active

# Both directions at once, 100 packets/s each.
duet_talk_both t "$A" "$AEP" "$B" "$BEP" $N 100
duet_talk_wait t
duet_check_eq "A->B: B received all $N" "$N 0" \
	"$(duet_json t-b 'd["recv"]["matched"]') $(duet_json t-b 'd["recv"]["missing_count"]')"
duet_check_eq "B->A: A received all $N" "$N 0" \
	"$(duet_json t-a 'd["recv"]["matched"]') $(duet_json t-a 'd["recv"]["missing_count"]')"
duet_check_eq "B sees only its relay endpoint as source" "[\"$BEP\"]" \
	"$(duet_json t-b 'list(d["recv"]["sources"])')"
duet_check_eq "A sees only its relay endpoint as source" "[\"$AEP\"]" \
	"$(duet_json t-a 'list(d["recv"]["sources"])')"
duet_check_eq "payloads intact, no duplicates (both sides)" "0 0 0 0" \
	"$(duet_json t-b 'd["recv"]["corrupt"]') $(duet_json t-b 'd["recv"]["duplicates"]') $(duet_json t-a 'd["recv"]["corrupt"]') $(duet_json t-a 'd["recv"]["duplicates"]')"

# Big packets too (1400-byte payload, near the veth MTU).
duet_peer_bg bigb "$NS_B" recv --bind "$B" --count 50 --timeout 20 --tag big
duet_peer "$NS_A" send --bind "$A" --to "$AEP" --count 50 --rate 200 --size 1400 --tag big >/dev/null
duet_peer_wait bigb
duet_check_eq "1400-byte payloads: all 50 arrive intact" "50 0" \
	"$(duet_json bigb 'd["recv"]["matched"]') $(duet_json bigb 'd["recv"]["corrupt"]')"

# Stats: leg a sent 1 (latch, dropped) + N + 50; leg b 1 (latch) + N.
duet_wait 5 duet_stat_ge f1 b_pkts $((N + 1)) >/dev/null
duet_settle
a_pkts=$(duet_stat f1 a_pkts)
duet_check_match "f1 a_pkts counts A's packets ($((N + 50)) forwarded, +1 if the dropped latch packet counts)" \
	"^($((N + 50))|$((N + 51)))$" "$a_pkts"
duet_check_eq "f1 b_pkts counts B's packets" $((N + 1)) "$(duet_stat f1 b_pkts)"
duet_check_ge "f1 a_bytes at least the payload bytes" $((N * 172 + 50 * 1400)) "$(duet_stat f1 a_bytes)"
duet_check_eq "f1 drop counters: peer_unlatched a=1 b=0, src a=0 b=0" "1 0 0 0" \
	"$(duet_stat f1 a_drop_peer_unlatched) $(duet_stat f1 b_drop_peer_unlatched) $(duet_stat f1 a_drop_src) $(duet_stat f1 b_drop_src)"
# RTP statistics the relay measures in passthrough (headers are clear text).
duet_check_ge "f1 b_rtp_expected: B's stream of $N counted" $N "$(duet_stat f1 b_rtp_expected)"
duet_check_eq "f1 rtp_lost 0 both legs (nothing lost on veths)" "0 0" \
	"$(duet_stat f1 a_rtp_lost) $(duet_stat f1 b_rtp_lost)"
duet_check_match "f1 a_jitter_us is a number" '^[0-9]+$' "$(duet_stat f1 a_jitter_us)"
now_ms=$(($(date +%s%N) / 1000000))
last=$(duet_stat f1 a_last_ms)
duet_check "f1 a_last_ms is a recent unix ms time" \
	bash -c "[[ '$last' =~ ^[0-9]+\$ ]] && (( $now_ms - $last < 15000 && $last <= $now_ms + 1000 ))"
duet_check "f1 created_ms and updated_ms set" \
	bash -c "[[ '$(duet_stat f1 created_ms)' =~ ^[0-9]{13}\$ && '$(duet_stat f1 updated_ms)' =~ ^[0-9]{13}\$ ]]"
stats_all=$(rcli HGETALL "$(duet_key stats:f1)")
duet_check "stats hash carries no client address" \
	bash -c "! grep -Eq '192\.0\.2\.1[01]|198\.51\.100\.1[01]' <<<'$stats_all'"

# Relay heartbeat.
duet_check_ge "relay fwd_pkts counts both directions" $((2 * N + 51)) "$(duet_relay_stat fwd_pkts)"
duet_check_ge "relay rx_pkts >= fwd_pkts" "$(duet_relay_stat fwd_pkts)" "$(duet_relay_stat rx_pkts)"
duet_check_eq "relay pairs" 1 "$(duet_relay_stat pairs)"
duet_check_eq "relay workers" "$DUET_WORKERS" "$(duet_relay_stat workers)"
duet_check_eq "relay drop_peer_unlatched" 1 "$(duet_relay_stat drop_peer_unlatched)"
missing=
for reason in $(sed -n 's/^DUET_DROP([A-Z_0-9]*, *"\([a-z_0-9]*\)".*/\1/p' "$DUET_SRC_ROOT/lib/stats/duet_drop.def"); do
	[[ -n $(duet_relay_stat "drop_$reason") ]] || missing+=" drop_$reason"
done
duet_check_eq "relay hash has drop_<reason> for every reason in duet_drop.def" "" "$missing"
missing=
for f in version started_ms updated_ms fwd_bytes rx_pps fwd_pps drops redis_reconnects rejected; do
	[[ -n $(duet_relay_stat "$f") ]] || missing+=" $f"
done
duet_check_eq "relay hash has every contract field" "" "$missing"
ttl=$(rcli PTTL "$(duet_key relay)")
duet_check "relay hash expires (PTTL 1..3000 ms)" bash -c "(( $ttl > 0 && $ttl <= 3000 ))"

duet_check_stop TERM
