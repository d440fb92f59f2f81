#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_ipv6_martian: the source policy's IPv6 classes (issue 14, item 5),
# test_abuse_martian's approach with the lab in DUET_FAMILY=6 and
# [security] denied_peers = 2001:db8:dead::/48. A raw AF_PACKET sender in
# A's namespace spoofs one source of every refused class into an unlatched
# passthrough leg whose peer leg is latched: :: (unspecified), ::1
# (loopback), ff02::1 (multicast), fe80::1 (link-local), ::ffff:192.0.2.10
# (IPv4-mapped), the relay's own 2001:db8:a::1 and 2001:db8:b::1,
# 2001:db8:dead::7 (inside denied_peers), and A's real address with UDP
# source port 0. For each: the leg stays waiting, drop_src_denied counts
# every packet, and the peer's media that follows is not sent toward the
# spoofed address (tshark on both client veths counts 0 frames from the
# relay to it; none of the spoofed packets reaches anyone). A pin (a_src)
# in any of those classes is rejected. A real client then latches one of
# the pairs and media flows both ways.
# Last, with [security] ipv6_link_local_peers = yes, fe80::1 is an allowed
# client: spoofed into a fresh leg it latches it, and B's media goes to
# fe80::1 (captured at A); ::1 stays refused.
set -u
export DUET_FAMILY=6
source "$(dirname "$0")/../../tools/lab/lib.sh"
source "$(dirname "$0")/abuse_lib.sh"
duet_init
abuse_init
DENIED=2001:db8:dead::/48
duet_start_all relatch_silence_ms=1000 "security.denied_peers=$DENIED"
RMAC_A=$(abuse_relay_mac a)
RMAC_B=$(abuse_relay_mac b)
N=5

# class name | spoofed source address (port 40100 + index; the last one is
# A's real address with UDP source port 0).
declare -a CLS_NAME=(":: (unspecified)" "::1 (loopback)" "ff02::1 (multicast)" "fe80::1 (link-local)"
	"::ffff:192.0.2.10 (IPv4-mapped)" "relay's own $DUET_RELAY_IP_A" "relay's own $DUET_RELAY_IP_B"
	"2001:db8:dead::7 (denied_peers $DENIED)" "UDP source port 0")
declare -a CLS_IP=(:: ::1 ff02::1 fe80::1 ::ffff:192.0.2.10 "$DUET_RELAY_IP_A" "$DUET_RELAY_IP_B"
	2001:db8:dead::7 "$DUET_A_IP")
declare -a CLS_SRC
for k in "${!CLS_IP[@]}"; do
	CLS_SRC[k]=$(duet_hostport "${CLS_IP[k]}" $((40100 + k)))
done
last=$((${#CLS_IP[@]} - 1))
CLS_SRC[last]=$(duet_hostport "$DUET_A_IP" 0)

# --- 1. Pins in a refused class are rejected (fixed endpoints 20080..).
for k in "${!CLS_SRC[@]}"; do
	pin=${CLS_SRC[k]}
	((k == last)) || pin=$(duet_hostport "${CLS_IP[k]}" 4000)
	duet_pair_put "pin$k" "$(duet_ep a $((20080 + k)))" "$(duet_ep b $((20080 + k)))" a_src "$pin"
done
for k in "${!CLS_SRC[@]}"; do
	if duet_wait 5 duet_stat_is "pin$k" state rejected; then
		duet_check_match "pin a_src in ${CLS_NAME[k]} rejected, the reason names a_src" 'a_src' \
			"$(duet_stat "pin$k" reason)"
	else
		duet_not_ok "pin a_src in ${CLS_NAME[k]} rejected" \
			"state '$(duet_stat "pin$k" state)' a_state '$(duet_stat "pin$k" a_state)'"
	fi
done

# --- 2. Spoofed sources of every class into an unlatched leg.
duet_capture_start capa "$NS_A" "$IF_A" "udp and ether src $RMAC_A" 20000 180
duet_capture_start capb "$NS_B" "$IF_B" "udp and ether src $RMAC_B" 20000 180
declare -a CLS_AEP CLS_BEP
for k in "${!CLS_SRC[@]}"; do
	id=m$k src=${CLS_SRC[k]}
	bsrc=$(duet_hostport "$DUET_B_IP" $((41000 + k)))
	duet_pair_create "$id"
	CLS_AEP[k]=$PAIR_A CLS_BEP[k]=$PAIR_B
	duet_require "pair $id installed" duet_wait 5 duet_stat_is "$id" state waiting
	# Leg b latched first: once leg a had a client, B's media would go there.
	duet_peer "$NS_B" send --bind "$bsrc" --to "$PAIR_B" --count 1 --tag blatch >/dev/null
	duet_wait 5 duet_stat_is "$id" b_state latched || duet_diag "$id: leg b did not latch"
	denied0=$(abuse_drop src_denied)
	abuse_raw "$NS_A" udp --iface "$IF_A" --dst-mac "$RMAC_A" --src "$src" --to "$PAIR_A" \
		--count $N --rate 200 --tag "spoof-$k"
	sleep 0.2
	duet_peer "$NS_B" send --bind "$bsrc" --to "$PAIR_B" --count $N --rate 200 --tag "tomartian-$k" >/dev/null
	duet_settle
	duet_check_eq "${CLS_NAME[k]} spoofed into an unlatched leg: leg a stays waiting" waiting \
		"$(duet_stat "$id" a_state)"
	duet_check_eq "${CLS_NAME[k]}: drop_src_denied +$N" $N $(($(abuse_drop src_denied) - denied0))
done

# --- 3. A real client still latches one of those pairs, and media flows.
A=$(duet_hostport "$DUET_A_IP" 40200) B1=$(duet_hostport "$DUET_B_IP" 41000)
duet_check "real client A latches pair m0 after the spoofing" \
	duet_latch m0 "$A" "${CLS_AEP[0]}" "$B1" "${CLS_BEP[0]}"
duet_talk_both legit "$A" "${CLS_AEP[0]}" "$B1" "${CLS_BEP[0]}" 20 100
duet_talk_wait legit
duet_check_eq "m0: A and B each get all 20 of the other's packets" "20 20" \
	"$(duet_json legit-a 'd["recv"]["matched"]') $(duet_json legit-b 'd["recv"]["matched"]')"
abuse_capture_stop capa
abuse_capture_stop capb

duet_check_ge "the capture at A saw the relay's media to the real client" 20 \
	"$(abuse_count capa "ipv6.dst == $DUET_A_IP && udp.dstport == 40200")"
for k in "${!CLS_SRC[@]}"; do
	f="ipv6.dst == ${CLS_IP[k]} && udp.dstport == $(duet_ep_port "${CLS_SRC[k]}")"
	duet_check_eq "${CLS_NAME[k]}: 0 frames from the relay toward it" "0 0" \
		"$(abuse_count capa "$f") $(abuse_count capb "$f")"
done
duet_check_eq "no spoofed packet was relayed to B or A" "0 0" \
	"$(abuse_count capb 'udp contains "spoof-"') $(abuse_count capa 'udp contains "spoof-"')"
duet_check_stop TERM

# --- 4. [security] ipv6_link_local_peers = yes opens fe80::/10, only it.
duet_conf_write relatch_silence_ms=1000 "security.denied_peers=$DENIED" security.ipv6_link_local_peers=yes
duet_require "duetd starts with ipv6_link_local_peers = yes" duetd_start
duet_capture_start capll "$NS_A" "$IF_A" "udp and ether src $RMAC_A" 5000 120
# ll ID SRC NAME EXPECT(latched|waiting)
ll() {
	local id=$1 src=$2 name=$3 expect=$4 bsrc
	bsrc=$(duet_hostport "$DUET_B_IP" 41200)
	duet_pair_create "$id"
	duet_require "pair $id installed" duet_wait 5 duet_stat_is "$id" state waiting
	duet_peer "$NS_B" send --bind "$bsrc" --to "$PAIR_B" --count 1 --tag blatch >/dev/null
	duet_wait 5 duet_stat_is "$id" b_state latched || duet_diag "$id: leg b did not latch"
	abuse_raw "$NS_A" udp --iface "$IF_A" --dst-mac "$RMAC_A" --src "$src" --to "$PAIR_A" \
		--count $N --rate 200 --tag "ll-$id"
	sleep 0.2
	duet_peer "$NS_B" send --bind "$bsrc" --to "$PAIR_B" --count $N --rate 200 --tag "to-$id" >/dev/null
	duet_settle
	duet_check_eq "ipv6_link_local_peers = yes: $name: leg a $expect" "$expect" "$(duet_stat "$id" a_state)"
}
ll ll1 "[fe80::1]:40300" "fe80::1 latches" latched
ll ll2 "[::1]:40301" "::1 still refused" waiting
abuse_capture_stop capll
duet_check_eq "fe80::1's leg: B's $N packets go to [fe80::1]:40300" $N \
	"$(abuse_count capll 'ipv6.dst == fe80::1 && udp.dstport == 40300 && udp contains "to-ll1"')"
duet_check_eq "::1: 0 frames toward it" 0 "$(abuse_count capll 'ipv6.dst == ::1')"
duet_check_stop TERM
