#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_end: the ways a pair ends. `duetctl delete` (reason deleted), a
# control plane's own del event (deleted), silence longer than the pair's
# idle_ms (idle: duetd deletes the record itself with pair_delete.lua) and
# the expires time (expired). Each time forwarding stops, the endpoints go
# back to the free set, and duet:{R}:ended gets an entry with the reason
# and the pair's final counters. Traffic keeps an idle_ms pair alive.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_need_bins duetctl
duet_start_all

B=$DUET_B_IP:40000

# exchange NAME A_BIND AEP B_BIND BEP COUNT [RATE]: COUNT packets each way;
# prints "a-received b-received".
exchange() {
	local name=$1
	duet_talk_both "$name" "$2" "$3" "$4" "$5" "$6" "${7:-100}" --linger 1
	duet_talk_wait "$name"
	echo "$(duet_json "$name-a" 'd["recv"]["matched"]') $(duet_json "$name-b" 'd["recv"]["matched"]')"
}

# gone NAME A_BIND AEP: A sends 10 to the old endpoint; B hears nothing.
# Prints what B received.
gone() {
	duet_listen "$1-after" "$NS_B" "$B"
	duet_peer "$NS_A" send --bind "$2" --to "$3" --count 10 --rate 50 --tag "$1-after" >/dev/null
	duet_listen_end "$1-after"
	duet_json "$1-after" 'd["recv"]["received"]'
}

# --- duetctl delete ------------------------------------------------------------
A=$DUET_A_IP:40050
duet_pair_create d1
AEP=$PAIR_A BEP=$PAIR_B
duet_require "latch d1" duet_latch d1 "$A" "$AEP" "$B" "$BEP"
duet_check_eq "d1 forwards 20 each way" "20 20" "$(exchange d1 "$A" "$AEP" "$B" "$BEP" 20)"
duet_settle
nend0=$(duet_relay_stat drop_no_endpoint)
duet_check "duetctl delete d1 succeeds" duet_quiet duet_ctl delete d1
duet_check "ended entry for d1 with reason deleted" duet_wait 5 duet_ended_is d1 reason deleted
duet_check_eq "ended d1 counts A's 20 forwarded (+1 if the latch drop counts)" 1 \
	"$(p=$(duet_ended d1 a_pkts); [[ $p == 20 || $p == 21 ]] && echo 1 || echo "a_pkts=$p")"
duet_check_eq "ended d1 b_pkts: latch + 20" 21 "$(duet_ended d1 b_pkts)"
duet_check_eq "ended d1 a_drop_peer_unlatched" 1 "$(duet_ended d1 a_drop_peer_unlatched)"
missing=
for f in created_ms ended_ms duration_ms a_bytes b_bytes a_drop_src b_drop_src b_drop_peer_unlatched; do
	[[ -n $(duet_ended d1 "$f") ]] || missing+=" $f"
done
duet_check_eq "ended d1 has every contract field" "" "$missing"
# duration_ms is measured on CLOCK_MONOTONIC (a wall-clock step does not
# change it), created_ms and ended_ms are wall-clock stamps: with no step
# in between they agree within the stamps' own spread: the wall-clock
# stamps are the control loop's, read at the start of a poll that may then
# wait on Redis (an fsync on a slow disk), so 300 ms.
duet_check "ended_ms - created_ms = duration_ms (within 300 ms)" bash -c \
	"d=\$(( $(duet_ended d1 ended_ms) - $(duet_ended d1 created_ms) - $(duet_ended d1 duration_ms) )); (( d >= -300 && d <= 300 ))"
duet_check_eq "d1: forwarding stopped" 0 "$(gone d1 "$A" "$AEP")"
duet_settle
duet_check_eq "d1: packets to its endpoint now count as no_endpoint" $((nend0 + 10)) \
	"$(duet_relay_stat drop_no_endpoint)"
duet_check_eq "d1: stats state ended, reason deleted" "ended deleted" \
	"$(duet_stat d1 state) $(duet_stat d1 reason)"
ttl=$(rcli TTL "$(duet_key stats:d1)")
duet_check "d1: ended stats hash expires (TTL 1..3600)" bash -c "(( $ttl > 0 && $ttl <= 3600 ))"
duet_check_eq "d1: endpoints back in free" "1 1" \
	"$(rcli SISMEMBER "$(duet_key free)" "$AEP") $(rcli SISMEMBER "$(duet_key free)" "$BEP")"

# --- a control plane's del event ---------------------------------------------------
A=$DUET_A_IP:40054
duet_pair_create r1
AEP=$PAIR_A BEP=$PAIR_B
duet_require "latch r1" duet_latch r1 "$A" "$AEP" "$B" "$BEP"
duet_pair_rm r1
duet_check "r1: ended with reason deleted after a del event" duet_wait 5 duet_ended_is r1 reason deleted
duet_check_eq "r1: forwarding stopped" 0 "$(gone r1 "$A" "$AEP")"

# --- idle -----------------------------------------------------------------------
A=$DUET_A_IP:40052
duet_pair_create i1 --idle-ms 4000
AEP=$PAIR_A BEP=$PAIR_B
duet_require "latch i1" duet_latch i1 "$A" "$AEP" "$B" "$BEP"
duet_check_eq "i1 forwards 10 each way" "10 10" "$(exchange i1 "$A" "$AEP" "$B" "$BEP" 10)"
duet_check "i1: ended with reason idle within 8 s of silence" duet_wait 8 duet_ended_is i1 reason idle
dur=$(duet_ended i1 duration_ms)
duet_check_ge "i1: lived at least its idle time" 4000 "$dur"
duet_check "i1: duetd deleted the record (pair_delete.lua)" duet_wait 3 \
	bash -c "[[ \$(redis-cli -s '$DUET_REDIS_SOCK' EXISTS '$(duet_key pair:i1)') == 0 ]]"
duet_check_eq "i1: its del event is in the stream" "op del id i1" \
	"$(rcli XREVRANGE "$(duet_key events)" + - COUNT 1 | tail -n 4 | xargs)"
duet_check_eq "i1: endpoints back in free, not in alloc" "1 1 0" \
	"$(rcli SISMEMBER "$(duet_key free)" "$AEP") $(rcli SISMEMBER "$(duet_key free)" "$BEP") $(rcli HEXISTS "$(duet_key alloc)" "$AEP")"
duet_check_eq "i1: forwarding stopped" 0 "$(gone i1 "$A" "$AEP")"

# --- traffic keeps an idle_ms pair alive ---------------------------------------------
A=$DUET_A_IP:40056
duet_pair_create i2 --idle-ms 4000
AEP=$PAIR_A BEP=$PAIR_B
duet_require "latch i2" duet_latch i2 "$A" "$AEP" "$B" "$BEP"
duet_check_eq "i2: 10 s of traffic (idle_ms 4000) all forwarded" "200 200" \
	"$(exchange i2 "$A" "$AEP" "$B" "$BEP" 200 20)"
duet_check_eq "i2: not ended while talking" "" "$(duet_ended i2 reason)"
duet_check "i2: ends idle once quiet" duet_wait 8 duet_ended_is i2 reason idle

# --- expires --------------------------------------------------------------------
A=$DUET_A_IP:40058
# Expires 7 to 8 s from now (date +%s truncates): room for the latch on a
# slow machine.
duet_pair_create e1 --expires $(($(date +%s) + 8))
AEP=$PAIR_A BEP=$PAIR_B
duet_require "latch e1" duet_latch e1 "$A" "$AEP" "$B" "$BEP"
duet_check "e1: ends with reason expired" duet_wait 15 duet_ended_is e1 reason expired
duet_check "e1: duetd deleted the record" duet_wait 3 \
	bash -c "[[ \$(redis-cli -s '$DUET_REDIS_SOCK' EXISTS '$(duet_key pair:e1)') == 0 ]]"
duet_check_eq "e1: forwarding stopped" 0 "$(gone e1 "$A" "$AEP")"

duet_check "no pairs left (heartbeat's pairs 0)" duet_wait 5 bash -c \
	"[[ \$(redis-cli -s '$DUET_REDIS_SOCK' HGET '$(duet_key relay)' pairs) == 0 ]]"
duet_check_stop TERM
