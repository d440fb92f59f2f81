#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_ipv6_ndp: duetd's neighbour discovery (issue 14, item 2), with the
# lab in DUET_FAMILY=6 and port 0's gateway6 = client A (2001:db8:a::10).
# raw_send.py writes hand-built neighbour solicitations and advertisements
# from A's namespace, each with its own Ethernet source (so the answers to
# each step can be told apart in the capture on A's veth):
#
# 1. NS for the relay's address 2001:db8:a::1 to its solicited-node group
#    (ff02::1:ff00:1), and the same NS unicast to the relay: every one
#    answered by a solicited NA (S and O set, R clear, hop limit 255) from
#    the relay's MAC, to the solicitation's source and MAC, with the
#    relay's MAC in the target link-layer option; nd_replies counts them.
# 2. NS for an address that is not the relay's (2001:db8:a::99): no answer,
#    ndp_other counts each. NS with hop limit 254, and NS with ICMPv6 code
#    1 (RFC 4861 wants 255 and 0): no answer, ndp_bad counts each.
# 3. gateway6: duetd resolved 2001:db8:a::10 by its own NS (nd_learned >=
#    1); a leg pinned to an off-link peer (2001:db8:ff::5) gets B's media
#    through the gateway: every frame to it carries A's MAC.
# 4. Unsolicited NAs claiming the gateway with another MAC (unicast to the
#    relay with S and O set, and to ff02::1 with O alone), more than the 1 s
#    window after duetd's last NS: ndp_unsolicited counts each, nd_learned
#    does not move, and the off-link peer's media still goes to A's real
#    MAC (no frame to the claimed one). An NA for an address that is neither
#    the gateway nor ours counts as ndp_other.
# 5. Two pairs whose leg b is pinned to an on-link client that has not
#    sent anything (B, on port 1's /64, which has no gateway6): duetd asks
#    the link for it with its own NS, learns B's MAC from B's kernel's
#    answer (nd_learned) into both legs, and A's packets reach B on both
#    pairs before B ever speaks, none dropped as no_next_hop.
set -u
export DUET_FAMILY=6
source "$(dirname "$0")/../../tools/lab/lib.sh"
source "$(dirname "$0")/abuse_lib.sh"
duet_init
abuse_init
T_START=$SECONDS
duet_start_all "port0.gateway6=$DUET_A_IP" relatch_silence_ms=1000
RMAC_A=$(abuse_relay_mac a)
AMAC=$(abuse_if_mac "$NS_A" "$IF_A")
N=5

# ns_step NAME SRC_MAC [raw_send ns options]: N solicitations from A's
# namespace with Ethernet source SRC_MAC (and that MAC in the source
# link-layer option).
ns_step() {
	local mac=$1
	shift
	abuse_raw "$NS_A" ns --iface "$IF_A" --src-mac "$mac" --count $N --rate 50 "$@"
}

# --- 1 and 2: solicitations.
duet_capture_start nd "$NS_A" "$IF_A" "icmp6 and ether src $RMAC_A" 2000 60
rep0=$(duet_relay_stat nd_replies)
M1=02:00:5e:00:53:01 M2=02:00:5e:00:53:02 M3=02:00:5e:00:53:03 M4=02:00:5e:00:53:04 M5=02:00:5e:00:53:05
ns_step $M1 --src "$DUET_A_IP2" --target "$DUET_RELAY_IP_A"
ns_step $M2 --src "$DUET_A_IP2" --target "$DUET_RELAY_IP_A" --to "$DUET_RELAY_IP_A" --eth-dst "$RMAC_A"
other0=$(abuse_drop ndp_other) bad0=$(abuse_drop ndp_bad)
ns_step $M3 --src "$DUET_A_IP2" --target 2001:db8:a::99
ns_step $M4 --src "$DUET_A_IP2" --target "$DUET_RELAY_IP_A" --hlim 254
ns_step $M5 --src "$DUET_A_IP2" --target "$DUET_RELAY_IP_A" --code 1
duet_settle
abuse_capture_stop nd

# na_fields MAC: the NAs the relay sent to MAC, one line each: target,
# IPv6 destination, hop limit, R S O flags, target link-layer address.
na_fields() {
	abuse_tshark nd "eth.dst == $1 && icmpv6.type == 136" icmpv6.nd.na.target_address ipv6.dst \
		ipv6.hlim icmpv6.nd.na.flag.r icmpv6.nd.na.flag.s icmpv6.nd.na.flag.o icmpv6.opt.linkaddr |
		sort | uniq -c | sed 's/^ *//' | tr '\t' ' '
}
# (tshark prints the R, S, O flags as 0 / 1.)
want="$N $DUET_RELAY_IP_A $DUET_A_IP2 255 0 1 1 $RMAC_A"
duet_check_eq "NS to the solicited-node group: $N solicited NAs from the relay's MAC, target link-layer option its MAC" \
	"$want" "$(na_fields $M1)"
duet_check_eq "NS unicast to the relay: $N solicited NAs" "$want" "$(na_fields $M2)"
duet_check_ge "relay nd_replies counts them" $((rep0 + 2 * N)) "$(duet_relay_stat nd_replies)"
duet_check_eq "NS for 2001:db8:a::99 (not ours): no answer, ndp_other +$N" "0 $N" \
	"$(abuse_count nd "eth.dst == $M3") $(($(abuse_drop ndp_other) - other0))"
duet_check_eq "NS with hop limit 254 and NS with code 1: no answer, ndp_bad +$((2 * N))" "0 0 $((2 * N))" \
	"$(abuse_count nd "eth.dst == $M4") $(abuse_count nd "eth.dst == $M5") $(($(abuse_drop ndp_bad) - bad0))"

# --- 3. The gateway, resolved by duetd's own solicitation.
duet_check "duetd resolved gateway6 $DUET_A_IP (nd_learned >= 1)" duet_wait 10 duet_relay_ge nd_learned 1
learned0=$(duet_relay_stat nd_learned)
OFF=$(duet_hostport 2001:db8:ff::5 4000)
B=$(duet_hostport "$DUET_B_IP" 40000)
duet_pair_create gw --a-src "$OFF"
duet_require "pair gw: leg a pinned to the off-link peer $OFF" duet_wait 5 duet_stat_is gw a_state latched

# offlink NAME TAG: B sends N packets to leg b; capture what leaves toward A.
offlink() {
	duet_capture_start "$1" "$NS_A" "$IF_A" "udp and ether src $RMAC_A" 1000 60
	duet_peer "$NS_B" send --bind "$B" --to "$PAIR_B" --count $N --rate 100 --tag "$2" >/dev/null
	duet_settle
	abuse_capture_stop "$1"
}
offlink off1 before
duet_check_eq "B's media to the off-link peer: $N frames to A's MAC (the gateway's)" \
	"$N $AMAC 2001:db8:ff::5" "$(abuse_tshark off1 udp eth.dst ipv6.dst | sort | uniq -c | sed 's/^ *//' | tr '\t' ' ')"

# --- 4. Unsolicited advertisements claiming the gateway.
FAKE=02:00:5e:00:53:66
age=$((SECONDS - T_START))
((age < 50)) || duet_diag "warning: ${age}s since duetd started: its 60 s gateway6 refresh may be near"
sleep 1.5 # past the 1 s window of duetd's last solicitation
uns0=$(abuse_drop ndp_unsolicited) other0=$(abuse_drop ndp_other)
abuse_raw "$NS_A" na --iface "$IF_A" --src-mac "$FAKE" --src "$DUET_A_IP" --target "$DUET_A_IP" \
	--to "$DUET_RELAY_IP_A" --eth-dst "$RMAC_A" --flags SO --count $N --rate 50
abuse_raw "$NS_A" na --iface "$IF_A" --src-mac "$FAKE" --src "$DUET_A_IP" --target "$DUET_A_IP" \
	--flags O --count $N --rate 50
abuse_raw "$NS_A" na --iface "$IF_A" --src-mac "$FAKE" --src "$DUET_A_IP2" --target "$DUET_A_IP2" \
	--to "$DUET_RELAY_IP_A" --eth-dst "$RMAC_A" --flags SO --count $N --rate 50
duet_settle
duet_check_eq "unsolicited NAs claiming the gateway (unicast S+O, to ff02::1 O): ndp_unsolicited +$((2 * N))" \
	$((2 * N)) $(($(abuse_drop ndp_unsolicited) - uns0))
duet_check_eq "NA for $DUET_A_IP2 (neither the gateway nor ours): ndp_other +$N" \
	$N $(($(abuse_drop ndp_other) - other0))
duet_check_eq "nd_learned did not move" "$learned0" "$(duet_relay_stat nd_learned)"
offlink off2 after
duet_check_eq "after them, B's media to the off-link peer still goes to A's real MAC" \
	"$N $AMAC 2001:db8:ff::5" "$(abuse_tshark off2 udp eth.dst ipv6.dst | sort | uniq -c | sed 's/^ *//' | tr '\t' ' ')"
duet_check_eq "no frame to the claimed MAC $FAKE" 0 "$(abuse_count off2 "eth.dst == $FAKE")"

# --- 5. Pinned on-link clients that have not spoken: duetd asks the link.
# Two pairs pin leg b to B at once (one question, both legs learn).
learned1=$(duet_relay_stat nd_learned) nnh0=$(abuse_drop no_next_hop)
A1=$(duet_hostport "$DUET_A_IP" 40001)
for k in 1 2; do
	PINB[k]=$(duet_hostport "$DUET_B_IP" $((40000 + k)))
	duet_pair_create "ol$k" --b-src "${PINB[k]}"
	OLA[k]=$PAIR_A
done
for k in 1 2; do
	duet_require "pair ol$k: leg b pinned to B's on-link address" \
		duet_wait 5 duet_stat_is "ol$k" b_state latched
done
duet_check "duetd learnt B's MAC from the answer to its own NS (nd_learned +1)" \
	duet_wait 5 duet_relay_ge nd_learned $((learned1 + 1))
for k in 1 2; do
	duet_peer_bg "olb$k" "$NS_B" recv --bind "${PINB[k]}" --count $N --timeout 10 --tag "ol$k"
	duet_peer "$NS_A" send --bind "$A1" --to "${OLA[k]}" --count $N --rate 100 --tag "ol$k" >/dev/null
	duet_peer_wait "olb$k"
	duet_check_eq "pair ol$k: B, pinned and silent, receives all $N of A's packets" "$N" \
		"$(duet_json "olb$k" 'd["recv"]["matched"]')"
done
duet_check_eq "none dropped for want of a next hop" 0 $(($(abuse_drop no_next_hop) - nnh0))

duet_check_stop TERM
