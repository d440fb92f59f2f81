#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_restart: Redis is the truth across duetd restarts. A pair created
# while duetd is stopped is forwarded once it starts (full load); a pair
# deleted while it was stopped is not; the free set is re-seeded with every
# configured endpoint that is not allocated. duetd exits 0 on SIGTERM and
# on SIGINT.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_start_all

A=$DUET_A_IP:40060
B=$DUET_B_IP:40060
total=$(((DUET_PORT_MAX - DUET_PORT_MIN + 1) * 2))

duet_check_eq "duetd seeded every configured endpoint into free" "$total" "$(rcli SCARD "$(duet_key free)")"

duet_pair_create s1
S1A=$PAIR_A S1B=$PAIR_B
duet_require "latch s1" duet_latch s1 "$A" "$S1A" "$B" "$S1B"

duet_check_stop TERM
# A control plane's create is refused at once after a clean stop (the
# heartbeat says stopped_ms), and after the heartbeat lapses; nothing is
# taken from the free set.
free_before=$(rcli SCARD "$(duet_key free)")
out=$(duet_ctl create --id s0 2>&1)
rc=$?
duet_check_eq "create on a stopped relay: exit 1, NORELAY ... was stopped" \
	"1 1" "$rc $(printf '%s' "$out" | grep -c "relay $RELAY_ID was stopped")" || duet_diag "$out"
duet_check "heartbeat lapses after stop" duet_wait 6 \
	bash -c "[[ \$(redis-cli -s '$DUET_REDIS_SOCK' EXISTS '$(duet_key relay)') == 0 ]]"
out=$(duet_ctl create --id s0 2>&1)
rc=$?
duet_check_eq "create on a relay without a heartbeat: exit 1, NORELAY ... no fresh heartbeat" \
	"1 1" "$rc $(printf '%s' "$out" | grep -c "relay $RELAY_ID has no fresh heartbeat")" ||
	duet_diag "$out"
duet_check_eq "the refused creates took nothing" "$free_before 0" \
	"$(rcli SCARD "$(duet_key free)") $(rcli EXISTS "$(duet_key pair:s0)")"

# While duetd is down: s1 goes, s2 comes (provisioned on purpose).
# s2 first, so it cannot be given the endpoints s1 frees.
duet_pair_create s2 --no-relay-check
S2A=$PAIR_A S2B=$PAIR_B
duet_check "duetctl delete s1 with duetd down" duet_quiet duet_ctl delete s1
# An endpoint the config no longer has must be pruned from free on start.
rcli SADD "$(duet_key free)" "$DUET_RELAY_IP_A:29999" 192.0.2.77:20000 >/dev/null

duet_require "duetd starts again" duetd_start
duet_require "s2, created while duetd was down, is loaded" duet_wait 5 duet_stat_is s2 state waiting
duet_require "latch s2" duet_latch s2 "$A" "$S2A" "$B" "$S2B"
duet_talk_both t "$A" "$S2A" "$B" "$S2B" 50 100
duet_talk_wait t
duet_check_eq "s2 forwards both ways" "50 50" \
	"$(duet_json t-a 'd["recv"]["matched"]') $(duet_json t-b 'd["recv"]["matched"]')"

duet_listen rb "$NS_B" "$B"
duet_peer "$NS_A" send --bind "$A" --to "$S1A" --count 10 --rate 50 --tag s1 >/dev/null
duet_listen_end rb
duet_check_eq "s1, deleted while duetd was down, is not forwarded" 0 "$(duet_json rb 'd["recv"]["received"]')"
duet_check "s1's packets counted as no_endpoint" duet_wait 3 duet_relay_ge drop_no_endpoint 10

duet_check_eq "free re-seeded: all endpoints but s2's" $((total - 2)) "$(rcli SCARD "$(duet_key free)")"
duet_check_eq "s2's endpoints are not free" "0 0" \
	"$(rcli SISMEMBER "$(duet_key free)" "$S2A") $(rcli SISMEMBER "$(duet_key free)" "$S2B")"
duet_check_eq "endpoints outside the config pruned from free" "0 0" \
	"$(rcli SISMEMBER "$(duet_key free)" "$DUET_RELAY_IP_A:29999") $(rcli SISMEMBER "$(duet_key free)" 192.0.2.77:20000)"
duet_check_eq "relay pairs = 1" 1 "$(duet_relay_stat pairs)"

duet_check_stop INT
