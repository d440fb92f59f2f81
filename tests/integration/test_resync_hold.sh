#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_resync_hold: the mass-loss safety valve (issue 10, item 5). Redis
# loses every record mid-call, twice: FLUSHALL, then a restart without
# persistence (an empty data dir). Each time duetd's reload would end every
# installed pair, more than resync_hold_percent (default 50 %), so it holds
# them: the call goes on without losing a packet, the heartbeat says
# resync_held, the held endpoints stay out of the free set, and new pairs
# are created and forward meanwhile. `duetctl resync --confirm` ends the
# held pairs (ended entry, reason deleted) and frees their endpoints.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_start_all

A=$DUET_A_IP
B=$DUET_B_IP
N=600 # 12 s at 50 packets/s each way
free_key=$(duet_key free)

# hold_round NAME PORT WHAT CMD...: a call on pair NAME (clients on PORT);
# mid-call CMD loses Redis's data; checks the valve; confirms.
hold_round() {
	local name=$1 port=$2 what=$3 ca cb na nb held
	shift 3
	duet_pair_create "$name"
	ca=$PAIR_A cb=$PAIR_B
	duet_require "latch $name" duet_latch "$name" "$A:$port" "$ca" "$B:$port" "$cb"
	duet_talk_both "t$name" "$A:$port" "$ca" "$B:$port" "$cb" $N 50 --linger 3
	sleep 2
	"$@"
	duet_diag "$what"
	duet_check "$what: the heartbeat says resync_held" duet_wait 10 duet_relay_ge resync_held 1
	held=$(duet_relay_stat resync_held)
	duet_check_eq "$what: $name's record is gone from Redis" 0 \
		"$(rcli EXISTS "$(duet_key "pair:$name")")"
	duet_check "$what: duetd logged the hold" grep -q "holding them, still forwarding" "$DUETD_LOG"
	duet_check_eq "$what: $name's endpoints are not handed out again" "0 0" \
		"$(rcli SISMEMBER "$free_key" "$ca") $(rcli SISMEMBER "$free_key" "$cb")"

	# A new pair, created in the emptied Redis, forwards meanwhile.
	duet_check "$what: the free set is seeded again" duet_wait 10 \
		bash -c "(( \$(redis-cli -s '$DUET_REDIS_SOCK' SCARD '$free_key') > 0 ))"
	duet_pair_create "n$name"
	na=$PAIR_A nb=$PAIR_B
	duet_check "$what: new pair n$name loaded" duet_wait 5 duet_stat_is "n$name" state waiting
	duet_check "$what: latch n$name" duet_latch "n$name" "$A:$((port + 1))" "$na" "$B:$((port + 1))" "$nb"

	duet_talk_wait "t$name"
	duet_check_eq "$what: A->B all $N packets of the held call arrived" "$N 0" \
		"$(duet_json "t$name-b" 'd["recv"]["matched"]') $(duet_json "t$name-b" 'd["recv"]["missing_count"]')"
	duet_check_eq "$what: B->A all $N packets of the held call arrived" "$N 0" \
		"$(duet_json "t$name-a" 'd["recv"]["matched"]') $(duet_json "t$name-a" 'd["recv"]["missing_count"]')"
	duet_check_eq "$what: $name was not ended while held" "" "$(duet_ended "$name" reason)"

	# The control plane confirms the loss: the held pairs end.
	duet_check "$what: duetctl resync --confirm" duet_quiet duet_ctl resync --confirm
	duet_check "$what: $name ended: deleted" duet_wait 5 duet_ended_is "$name" reason deleted
	duet_check "$what: resync_held back to 0" duet_wait 5 bash -c \
		"[[ \$(redis-cli -s '$DUET_REDIS_SOCK' HGET '$(duet_key relay)' resync_held) == 0 ]]"
	duet_check "$what: $name's endpoints are free again" duet_wait 5 bash -c \
		"[[ \$(redis-cli -s '$DUET_REDIS_SOCK' SMISMEMBER '$free_key' '$ca' '$cb' | tr '\n' ' ') == '1 1 ' ]]"
	duet_listen "r$name" "$NS_B" "$B:$port"
	duet_peer "$NS_A" send --bind "$A:$port" --to "$ca" --count 10 --rate 50 --tag after >/dev/null
	duet_listen_end "r$name"
	duet_check_eq "$what: $name no longer forwards" 0 "$(duet_json "r$name" 'd["recv"]["received"]')"
	duet_check_eq "$what: n$name is still installed" waiting "$(duet_stat "n$name" state | sed 's/active/waiting/')"
	duet_diag "$what: $held pair(s) were held"
}

flushall() { rcli FLUSHALL >/dev/null; }
empty_restart() {
	duet_redis_kill
	duet_redis_start "$DUET_TMP/redis-empty"
}

hold_round c1 40081 "FLUSHALL" flushall
hold_round c2 40083 "Redis restarted without its data" empty_restart

duet_check_stop TERM
