#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_restart_accounting: a restart keeps each call's accounting. A call
# runs, duetd is stopped (SIGTERM) and started again: the pair's stats hash
# keeps its created_ms and counts on from where it was, and the ended entry
# written when the call is deleted covers the whole call (created_ms,
# packets and bytes of both sides of the restart, a duration from the
# first install). A pair whose id was deleted and created again on other
# endpoints while duetd was down starts from zero. (Created again on the
# same endpoints and mode, it cannot be told from its record rewritten in
# place, and would continue: a known gap, see the issue note.)
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_start_all

A=$DUET_A_IP:40080
B=$DUET_B_IP:40080
A2=$DUET_A_IP:40081
B2=$DUET_B_IP:40081

duet_pair_create r1
R1A=$PAIR_A R1B=$PAIR_B
duet_require "latch r1" duet_latch r1 "$A" "$R1A" "$B" "$R1B"
duet_talk_both t1 "$A" "$R1A" "$B" "$R1B" 40 100
duet_talk_wait t1
duet_pair_create r2
R2A=$PAIR_A R2B=$PAIR_B
duet_require "latch r2" duet_latch r2 "$A2" "$R2A" "$B2" "$R2B"
duet_settle
created=$(duet_stat r1 created_ms)
a_pkts=$(duet_stat r1 a_pkts) b_pkts=$(duet_stat r1 b_pkts)
a_bytes=$(duet_stat r1 a_bytes) b_bytes=$(duet_stat r1 b_bytes)
r2_created=$(duet_stat r2 created_ms)
duet_check_ge "r1 counted the first part of the call" 40 "$a_pkts"

# 7 more packets right before the stop, with no stats round between: the
# clean stop's last round writes them.
duet_peer "$NS_A" send --bind "$A" --to "$R1A" --count 7 --rate 1000 >/dev/null
duet_check_stop TERM
duet_check_eq "the clean stop wrote what was counted since the last round (a_pkts + 7)" \
	$((a_pkts + 7)) "$(duet_stat r1 a_pkts)"
a_pkts=$(duet_stat r1 a_pkts) a_bytes=$(duet_stat r1 a_bytes)
# While duetd is down, r2 is deleted and created again: another call, on
# other endpoints (r9 takes the ones r2 gave back).
duet_check "duetctl delete r2 with duetd down" duet_quiet duet_ctl delete r2
duet_pair_create r9 --no-relay-check
duet_pair_create r2 --no-relay-check
R2A=$PAIR_A R2B=$PAIR_B
sleep 0.5
t_start=$(date +%s%3N)
duet_require "duetd starts again" duetd_start
duet_require "r1's stats hash is written again" duet_wait 5 bash -c \
	"[[ \$(redis-cli -s '$DUET_REDIS_SOCK' HGET '$(duet_key stats:r1)' updated_ms) -gt $t_start ]]"
duet_check_eq "r1 keeps its created_ms across the restart" "$created" "$(duet_stat r1 created_ms)"
duet_check_eq "r1's counters continue from where they were" "$a_pkts $b_pkts $a_bytes $b_bytes" \
	"$(duet_stat r1 a_pkts) $(duet_stat r1 b_pkts) $(duet_stat r1 a_bytes) $(duet_stat r1 b_bytes)"
duet_require "the new r2's stats hash is written" duet_wait 5 bash -c \
	"[[ \$(redis-cli -s '$DUET_REDIS_SOCK' HGET '$(duet_key stats:r2)' updated_ms) -gt $t_start ]]"
duet_check "the new r2 has a created_ms of its own" test "$(duet_stat r2 created_ms)" -gt "$r2_created"
duet_check_eq "the new r2 starts from zero" "0 $R2A $R2B" \
	"$(duet_stat r2 a_pkts) $(duet_stat r2 a) $(duet_stat r2 b)"

# The call goes on (the legs latch again: clients' addresses are kept in
# memory only), and its stats hash counts up.
duet_require "latch r1 again" duet_latch r1 "$A" "$R1A" "$B" "$R1B"
duet_settle
a_mid=$(duet_stat r1 a_pkts) b_mid=$(duet_stat r1 b_pkts)
duet_check_ge "the latch counts on from before the restart" "$a_pkts" "$a_mid"
duet_talk_both t2 "$A" "$R1A" "$B" "$R1B" 30 100
duet_talk_wait t2
duet_check_eq "r1 forwards both ways after the restart" "30 30" \
	"$(duet_json t2-a 'd["recv"]["matched"]') $(duet_json t2-b 'd["recv"]["matched"]')"
duet_settle
duet_check_eq "r1's stats hash counts up" "$((a_mid + 30)) $((b_mid + 30))" \
	"$(duet_stat r1 a_pkts) $(duet_stat r1 b_pkts)"

duet_check "duetctl delete r1" duet_quiet duet_ctl delete r1
duet_require "r1's ended entry is written" duet_wait 5 duet_ended_is r1 reason deleted
duet_check_eq "the ended entry has the first install's created_ms" "$created" \
	"$(duet_ended r1 created_ms)"
duet_check_eq "the ended entry counts the whole call" "$((a_mid + 30)) $((b_mid + 30))" \
	"$(duet_ended r1 a_pkts) $(duet_ended r1 b_pkts)"
duet_check_ge "the ended entry's bytes cover both parts" $((a_bytes + 1)) "$(duet_ended r1 a_bytes)"
ended_ms=$(duet_ended r1 ended_ms) duration=$(duet_ended r1 duration_ms)
duet_check_ge "the ended entry's duration covers the whole call" \
	$((ended_ms - created - 100)) "$duration"

duet_check_stop TERM
