#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_ipv6_relatch: re-latching after silence across the families (issue
# 14): a leg's family is its endpoint's, so only a client of that family
# can take it. The lab runs in DUET_FAMILY=dual (each port has 192.0.2.1 /
# 198.51.100.1 and 2001:db8:a::1 / 2001:db8:b::1; each client both
# families) with relatch_silence_ms = 300 and [relay] relatch = any, so
# only the family can stand in the way. For each pair, A and B latch and
# talk, A falls silent for twice the silence, then an intruder X sends 10
# packets while B sends 10:
#
# 1. An IPv4 leg (192.0.2.1:20010): X = [2001:db8:a::11] sends to the
#    relay's IPv6 address with the leg's port number ([2001:db8:a::1]:20010),
#    a different endpoint with no pair: it does not take the leg (B hears
#    nothing from X), drop_no_endpoint counts X's packets, and B's media
#    still goes to A (all 10, none to X). Then X = 192.0.2.11, the leg's
#    family, takes it (relatch = any): B hears X, B's media goes to X.
# 2. An IPv6 leg ([2001:db8:a::1]:20020): X = 192.0.2.11 to 192.0.2.1:20020
#    is refused the same way (no_endpoint, B's media still to A); then X =
#    [2001:db8:a::11]:40021 takes it as an IPv4 leg would: B hears X, B's
#    media goes to X, A hears nothing.
# 3. A bridged pair (leg a IPv4, leg b IPv6 at [2001:db8:b::1]:20030): B's
#    leg, silent, is not taken by 198.51.100.11 sending to 198.51.100.1:20030
#    and is taken by [2001:db8:b::11]:40031.
set -u
export DUET_FAMILY=dual
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
SILENCE_MS=300
duet_start_all relatch_silence_ms=$SILENCE_MS relatch=any
N=10

# try NAME ID SIDE AEP BEP A B X XTO EXPECT: pair ID latched by A (on
# AEP) and B (on BEP) talks; then SIDE's client (a: A, b: B) falls silent,
# and X sends N packets to XTO while the other client keeps sending.
# EXPECT: takes (X gets the leg), or no_endpoint (X is refused and counted,
# the silent client still gets the media).
try() {
	local name=$1 id=$2 side=$3 aep=$4 bep=$5 a=$6 b=$7 x=$8 xto=$9 expect=${10}
	local quiet talker tns qns tep cnt0 go
	if [[ $side == a ]]; then
		quiet=$a talker=$b tns=$NS_B qns=$NS_A tep=$bep
	else
		quiet=$b talker=$a tns=$NS_A qns=$NS_B tep=$aep
	fi
	if [[ $(duet_stat "$id" state) != active ]]; then
		duet_require "$name: latch pair $id" duet_latch "$id" "$a" "$aep" "$b" "$bep"
	fi
	duet_talk_both "$name-l" "$a" "$aep" "$b" "$bep" $N 100
	duet_talk_wait "$name-l"
	duet_check_eq "$name: A and B talk through $id (all $N each way)" "$N $N" \
		"$(duet_json "$name-l-a" 'd["recv"]["matched"]') $(duet_json "$name-l-b" 'd["recv"]["matched"]')"
	sleep "$(awk -v ms=$SILENCE_MS 'BEGIN { printf "%.3f", 2 * ms / 1000 }')"
	duet_settle
	cnt0=$(duet_relay_stat drop_no_endpoint)
	duet_listen "$name-rq" "$qns" "$quiet" --tag "$name-t"
	go=$(duet_go_file "$name")
	# The talker listens from now on but sends only 0.3 s after X started
	# (X's 10 packets take 0.1 s): its media must not overtake X's first
	# packet.
	duet_peer_bg "$name-t" "$tns" talk --bind "$talker" --to "$tep" --count $N --rate 100 \
		--tag "$name-t" --expect 0 --linger 1.5 --go-file "$go" --delay 0.3
	duet_peer_bg "$name-x" "$qns" talk --bind "$x" --to "$xto" --count $N --rate 100 \
		--tag "$name-x" --expect 0 --linger 2 --timeout 10
	duet_go "$name"
	duet_peer_wait "$name-t"
	duet_peer_wait "$name-x"
	duet_listen_end "$name-rq"
	duet_settle
	if [[ $expect == takes ]]; then
		duet_check_eq "$name: X $x takes the leg: the talker hears all $N of X's packets" $N \
			"$(duet_json "$name-t" 'd["recv"]["tags"].get("'"$name-x"'", 0)')"
		duet_check_eq "$name: the talker's media follows to X (all $N), none to the silent client" "$N 0" \
			"$(duet_json "$name-x" 'd["recv"]["tags"].get("'"$name-t"'", 0)') $(duet_json "$name-rq" 'd["recv"]["received"]')"
	else
		duet_check_eq "$name: X $x to $xto does not take the leg: the talker hears nothing" 0 \
			"$(duet_json "$name-t" 'd["recv"]["received"]')"
		duet_check_eq "$name: the talker's media still goes to the silent client (all $N), none to X" "$N 0" \
			"$(duet_json "$name-rq" 'd["recv"]["matched"]') $(duet_json "$name-x" 'd["recv"]["received"]')"
		duet_check_eq "$name: drop_no_endpoint +$N" $N $(($(duet_relay_stat drop_no_endpoint) - cnt0))
	fi
}

# pair ID AEP BEP
pair() {
	duet_pair_put "$1" "$2" "$3"
	duet_require "pair $1 installed ($2 / $3)" duet_wait 5 duet_stat_is "$1" state waiting
}

# --- 1. An IPv4 leg.
pair p4 "$(duet_ep a 20010)" "$(duet_ep b 20010)"
A4=$DUET_A_IP4:40010 B4=$DUET_B_IP4:40010
try v4-by-v6 p4 a "$(duet_ep a 20010)" "$(duet_ep b 20010)" "$A4" "$B4" \
	"$(duet_hostport "$DUET_A_IP6_2" 40011)" "$(duet_ep6 a 20010)" no_endpoint
try v4-by-v4 p4 a "$(duet_ep a 20010)" "$(duet_ep b 20010)" "$A4" "$B4" \
	"$DUET_A_IP4_2:40012" "$(duet_ep a 20010)" takes

# --- 2. An IPv6 leg.
pair p6 "$(duet_ep6 a 20020)" "$(duet_ep6 b 20020)"
A6=$(duet_hostport "$DUET_A_IP6" 40020) B6=$(duet_hostport "$DUET_B_IP6" 40020)
try v6-by-v4 p6 a "$(duet_ep6 a 20020)" "$(duet_ep6 b 20020)" "$A6" "$B6" \
	"$DUET_A_IP4_2:40021" "$(duet_ep a 20020)" no_endpoint
try v6-by-v6 p6 a "$(duet_ep6 a 20020)" "$(duet_ep6 b 20020)" "$A6" "$B6" \
	"$(duet_hostport "$DUET_A_IP6_2" 40022)" "$(duet_ep6 a 20020)" takes

# --- 3. A bridged pair: B's IPv6 leg.
pair p46 "$(duet_ep a 20030)" "$(duet_ep6 b 20030)"
A46=$DUET_A_IP4:40030 B46=$(duet_hostport "$DUET_B_IP6" 40030)
try br-by-v4 p46 b "$(duet_ep a 20030)" "$(duet_ep6 b 20030)" "$A46" "$B46" \
	"$DUET_B_IP4_2:40031" "$(duet_ep b 20030)" no_endpoint
try br-by-v6 p46 b "$(duet_ep a 20030)" "$(duet_ep6 b 20030)" "$A46" "$B46" \
	"$(duet_hostport "$DUET_B_IP6_2" 40032)" "$(duet_ep6 b 20030)" takes

duet_check_stop TERM
