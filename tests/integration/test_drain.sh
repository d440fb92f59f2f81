#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_drain: draining a relay before maintenance (issue 12, item 7). A
# call's two kernel UDP clients talk through duetd; `duetctl relay drain`
# sets duet:{R}:drain and waits until duetd's heartbeat says draining 1
# with the one live pair. While it drains, a new pair is refused
# (duetctl create exits 1, pair_create.lua answers DRAINING, nothing is
# taken from the free set), and the live call keeps forwarding: packets
# are counted during the drain and every packet arrives. `duetctl relay
# undrain` clears the flag, the heartbeat says draining 0, and a create
# works again. A flag set while duetd is down holds from its start. Past
# max_pairs, a create is refused by pair_create.lua (FULL), or, provisioned
# past that check, rejected by duetd (pair table full): duetctl create
# exits 1 with the reason and deletes the pair again (issue 12, item 7).
# The figures are printed as TAP diagnostics.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_need_bins duetctl
duet_start_all

A=$DUET_A_IP:40000
B=$DUET_B_IP:40000
RATE=50
N=500 # 10 s at 50 packets/s each way: the whole drain happens inside the call

# relay_says FIELD VALUE: the heartbeat's FIELD is VALUE.
relay_says() { [[ $(duet_relay_stat "$1") == "$2" ]]; }
# pkts ID: packets the relay counted from both clients of pair ID.
pkts() { echo $(($(duet_stat "$1" a_pkts) + $(duet_stat "$1" b_pkts))); }

duet_pair_create live
AEP=$PAIR_A BEP=$PAIR_B
duet_require "duetd reports pair live" duet_wait 5 duet_stat_is live state waiting
duet_require "latch both legs of live" duet_latch live "$A" "$AEP" "$B" "$BEP"
duet_check_eq "heartbeat before the drain: draining 0" 0 "$(duet_relay_stat draining)"

# The call talks for 8 s, both ways at once.
duet_talk_both call "$A" "$AEP" "$B" "$BEP" $N $RATE
sleep 1

# --- drain --------------------------------------------------------------------
duet_settle
before=$(pkts live)
t_before=$(duet_relay_stat updated_ms)
t0=$(date +%s%3N)
out=$(duet_ctl relay drain 2>&1)
rc=$?
t_drain=$(($(date +%s%3N) - t0))
duet_check_eq "duetctl relay drain: exit 0" 0 "$rc" || duet_diag "$out"
duet_check_eq "duetctl relay drain: says the relay drains its 1 live pair" \
	"relay $RELAY_ID draining: 1 live pairs" "$out"
duet_diag "relay drain returned after $t_drain ms (waiting for the heartbeat)"
since=$(rcli GET "$(duet_key drain)")
duet_check_match "drain flag holds the ms time the drain began" '^[0-9]{13}$' "$since"
duet_check_eq "heartbeat: draining 1, pairs 1" "1 1" \
	"$(duet_relay_stat draining) $(duet_relay_stat pairs)"
out=$(duet_ctl relay drain --no-wait 2>&1)
duet_check_eq "a second drain keeps the time the first began" "$since" \
	"$(rcli GET "$(duet_key drain)")" || duet_diag "$out"

# A new pair is refused, by duetctl and by the script any control plane runs.
free_before=$(rcli SCARD "$(duet_key free)")
events_before=$(rcli XLEN "$(duet_key events)")
out=$(duet_ctl create --id late --a-ip "$DUET_RELAY_IP_A" --b-ip "$DUET_RELAY_IP_B" 2>&1)
rc=$?
duet_check_eq "create while draining: exit 1" 1 "$rc"
duet_check_match "create while draining: says the relay is draining" \
	"create late: relay $RELAY_ID is draining: it takes no new pairs" "$out"
script=$(rcli EVAL "$(cat "$DUET_SRC_ROOT/lib/contract/lua/pair_create.lua")" 5 \
	"$(duet_key free)" "$(duet_key alloc)" "$(duet_key pair:late2)" "$(duet_key events)" \
	"$(duet_key relay)" late2 100000 2>&1)
duet_check_eq "pair_create.lua while draining: DRAINING" \
	"DRAINING relay $RELAY_ID is draining: it takes no new pairs" "$script"
duet_check_eq "the refused creates took nothing and announced nothing" \
	"$free_before $events_before 0 0" \
	"$(rcli SCARD "$(duet_key free)") $(rcli XLEN "$(duet_key events)") $(rcli EXISTS "$(duet_key pair:late)") $(rcli EXISTS "$(duet_key pair:late2)")"
out=$(duet_ctl relay 2>&1)
duet_check_match "duetctl relay shows draining 1 and the flag" \
	"draining +1.*drain flag set at $since ms" "$(tr '\n' ' ' <<<"$out")"
out=$(duet_ctl --json capacity 2>&1)
duet_check_eq "duetctl capacity: draining 1, pairs 1, room 0" "1 1 0" \
	"$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["draining"], d["pairs"], d["room"])' "$out" 2>&1)"

# The live call goes on while the relay drains.
sleep 2
duet_settle
during=$(pkts live)
t_during=$(duet_relay_stat updated_ms)
duet_diag "live call during the drain: $((during - before)) packets forwarded in $((t_during - t_before)) ms (both ways at $RATE packets/s each)"
duet_check_ge "the live call kept forwarding during the drain (at least 2 s of it)" \
	$((2 * 2 * RATE)) $((during - before))
duet_check_eq "the live call is still active" active "$(duet_stat live state)"

# --- undrain ------------------------------------------------------------------
out=$(duet_ctl relay undrain 2>&1)
rc=$?
duet_check_eq "duetctl relay undrain: exit 0" 0 "$rc" || duet_diag "$out"
duet_check_eq "duetctl relay undrain: accepting pairs" "relay $RELAY_ID accepting pairs" "$out"
duet_check_eq "drain flag gone" 0 "$(rcli EXISTS "$(duet_key drain)")"
duet_check_eq "heartbeat: draining 0" 0 "$(duet_relay_stat draining)"
out=$(duet_ctl --json create --id late --a-ip "$DUET_RELAY_IP_A" --b-ip "$DUET_RELAY_IP_B" 2>&1)
duet_check_eq "create after undrain: exit 0, duetd took the pair at once (no warning)" "0 0" \
	"$? $(grep -c warning <<<"$out")" || duet_diag "$out"
duet_check "duetd takes the new pair" duet_wait 5 duet_stat_is late state waiting

duet_talk_wait call
duet_check_eq "A->B: B received all $N across drain and undrain" "$N 0" \
	"$(duet_json call-b 'd["recv"]["matched"]') $(duet_json call-b 'd["recv"]["missing_count"]')"
duet_check_eq "B->A: A received all $N across drain and undrain" "$N 0" \
	"$(duet_json call-a 'd["recv"]["matched"]') $(duet_json call-a 'd["recv"]["missing_count"]')"
duet_settle
duet_diag "live call: $(pkts live) packets counted in all, $N sent each way after the latch"

# A drain flag set while duetd is down holds from its start.
duet_check_stop TERM
out=$(duet_ctl relay drain 2>&1)
duet_check_eq "drain with duetd stopped: exit 0 and says duetd is not running" \
	"0 1" "$? $(grep -c 'duetd is not running' <<<"$out")" || duet_diag "$out"
duetd_start || duet_bail "duetd did not start again"
duet_check "a duetd started with the flag set reports draining 1" duet_wait 5 relay_says draining 1
out=$(duet_ctl create --id after-start 2>&1)
duet_check_eq "create on a relay that started draining: exit 1" 1 "$?" || duet_diag "$out"
duet_check "undrain after the restart" duet_quiet duet_ctl relay undrain
duet_check_stop TERM

# --- past max_pairs: refused by the script, or rejected by duetd ---------------
# live and late fill a table of 2. pair_create.lua refuses a third (FULL);
# provisioned past the check, it reaches duetd, which rejects it (pair
# table full), and create reports that and deletes it again.
duet_conf_write max_pairs=2
duetd_start || duet_bail "duetd did not start with max_pairs 2"
duet_check "duetd loads both pairs into its table of 2" duet_wait 5 relay_says pairs 2
free_before=$(rcli SCARD "$(duet_key free)")
out=$(duet_ctl create --id over 2>&1)
duet_check_eq "create past max_pairs: exit 1, relay full" "1 1" \
	"$? $(grep -c "relay $RELAY_ID is full: 2 pairs of capacity 2" <<<"$out")" || duet_diag "$out"
out=$(duet_ctl create --id over --no-relay-check 2>&1)
rc=$?
duet_diag "create past max_pairs with --no-relay-check: $out"
duet_check_eq "create that duetd rejects: exit 1, rejected: pair table full" "1 1" \
	"$rc $(grep -c "create over: rejected: pair table full (2 pairs)" <<<"$out")"
duet_check_eq "the rejected pair is deleted again, its endpoints free" "0 $free_before" \
	"$(rcli EXISTS "$(duet_key pair:over)") $(rcli SCARD "$(duet_key free)")"
duet_check_eq "the table still holds live and late" "2 waiting waiting" \
	"$(duet_relay_stat pairs) $(duet_stat live state) $(duet_stat late state)"
duet_check_stop TERM
