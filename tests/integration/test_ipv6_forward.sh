#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_ipv6_forward: the relay's main job over IPv6 (issue 14), with the
# lab in DUET_FAMILY=6: relay 2001:db8:a::1 and 2001:db8:b::1, clients
# 2001:db8:a::10 and 2001:db8:b::10, kernel IPv6 UDP sockets. The clients'
# kernels find the relay's MAC by neighbour discovery, which only duetd
# answers (IPv6 is off in the relay namespace).
#
# A passthrough pair created by duetctl on IPv6 endpoints ([2001:db8:a::1]:P)
# carries 300 packets each way at once, then payloads of 173 (odd) and 1400
# bytes: every packet arrives intact, and each client sees only its own
# relay endpoint as the source. tshark on both client veths checks every
# UDP datagram the relay sent: UDP checksum present and good (mandatory in
# IPv6), hop limit [media] ttl (50, not the senders' 64), traffic class
# DSCP 46 (EF), flow label 0, from the relay endpoint to the client.
# Neighbour discovery: duetd answered the clients' solicitations
# (nd_replies > 0 in the relay hash), and ping -6 to each relay address is
# answered (icmp_replies). No drop but the latching packet and the kernels'
# MLD reports (drop_icmp_other). duetd stops cleanly.
set -u
export DUET_FAMILY=6
source "$(dirname "$0")/../../tools/lab/lib.sh"
source "$(dirname "$0")/abuse_lib.sh"
duet_init
abuse_init
RELAY_HLIM=50
duet_start_all media.ttl=$RELAY_HLIM security.max_kbps=0
RMAC_A=$(abuse_relay_mac a)
RMAC_B=$(abuse_relay_mac b)

A=$(duet_hostport "$DUET_A_IP" 40000)
B=$(duet_hostport "$DUET_B_IP" 40000)
N=300

duet_pair_create f6
AEP=$PAIR_A BEP=$PAIR_B
duet_check_match "duetctl gave leg a an IPv6 endpoint on 2001:db8:a::1" '^\[2001:db8:a::1\]:[0-9]+$' "$AEP"
duet_check_match "duetctl gave leg b an IPv6 endpoint on 2001:db8:b::1" '^\[2001:db8:b::1\]:[0-9]+$' "$BEP"
duet_require "duetd reports pair f6 as waiting" duet_wait 5 duet_stat_is f6 state waiting

# Everything the relay sends toward either client, from now on.
duet_capture_start capa "$NS_A" "$IF_A" "udp and ether src $RMAC_A" 5000 120
duet_capture_start capb "$NS_B" "$IF_B" "udp and ether src $RMAC_B" 5000 120

duet_require "latch both legs of f6" duet_latch f6 "$A" "$AEP" "$B" "$BEP"
duet_check "f6 becomes active" duet_wait 3 duet_stat_is f6 state active

duet_talk_both t "$A" "$AEP" "$B" "$BEP" $N 100
duet_talk_wait t
duet_check_eq "A->B over IPv6: B received all $N" "$N 0" \
	"$(duet_json t-b 'd["recv"]["matched"]') $(duet_json t-b 'd["recv"]["missing_count"]')"
duet_check_eq "B->A over IPv6: A received all $N" "$N 0" \
	"$(duet_json t-a 'd["recv"]["matched"]') $(duet_json t-a 'd["recv"]["missing_count"]')"
duet_check_eq "B sees only its relay endpoint as source" "[\"$BEP\"]" \
	"$(duet_json t-b 'list(d["recv"]["sources"])')"
duet_check_eq "A sees only its relay endpoint as source" "[\"$AEP\"]" \
	"$(duet_json t-a 'list(d["recv"]["sources"])')"
duet_check_eq "payloads intact, no duplicates (both sides)" "0 0 0 0" \
	"$(duet_json t-b 'd["recv"]["corrupt"]') $(duet_json t-b 'd["recv"]["duplicates"]') $(duet_json t-a 'd["recv"]["corrupt"]') $(duet_json t-a 'd["recv"]["duplicates"]')"

# Odd and near-MTU payloads, both ways (1400 + 8 + 40 = 1448 bytes of IPv6).
for size in 173 1400; do
	duet_talk_both "s$size" "$A" "$AEP" "$B" "$BEP" 50 200 --size "$size"
	duet_talk_wait "s$size"
	duet_check_eq "$size-byte payloads: all 50 arrive intact both ways" "50 0 50 0" \
		"$(duet_json "s$size-b" 'd["recv"]["matched"]') $(duet_json "s$size-b" 'd["recv"]["corrupt"]') $(duet_json "s$size-a" 'd["recv"]["matched"]') $(duet_json "s$size-a" 'd["recv"]["corrupt"]')"
done
SENT_EACH=$((N + 100)) # each side: N + 50 + 50 (plus, at A, B's latch packet)

abuse_capture_stop capa
abuse_capture_stop capb

# check_wire NAME WHERE CLIENT RELAY_EP MIN: what tshark saw the relay send.
check_wire() {
	local name=$1 where=$2 client=$3 rep=$4 min=$5 fields n tc
	fields=$(duet_capture_udp "$name")
	n=$(grep -c . <<<"$fields")
	duet_check_ge "$where: tshark captured the relay's $min datagrams" "$min" "$n"
	duet_check_eq "$where: every UDP checksum present and good" "$n" \
		"$(awk -F'\t' '$6 == 1' <<<"$fields" | wc -l)"
	duet_check_eq "$where: hop limit is the relay's $RELAY_HLIM on every packet" "$n" \
		"$(awk -F'\t' -v h=$RELAY_HLIM '$5 == h' <<<"$fields" | wc -l)"
	duet_check_eq "$where: every packet from $rep to $client" "$n" \
		"$(awk -F'\t' -v s="$rep" -v d="$client" '"[" $1 "]:" $2 == s && "[" $3 "]:" $4 == d' <<<"$fields" | wc -l)"
	tc=$(tshark -r "$DUET_TMP/$name.pcap" -Y udp -T fields -E separator=/t -e ipv6.tclass \
		-e ipv6.flow 2>/dev/null | python3 -c '
import collections, sys
c = collections.Counter("tclass=%d flow=%d" % tuple(int(x, 16) for x in l.split("\t"))
                        for l in sys.stdin if l.strip())
print(", ".join("%s x%d" % kv for kv in sorted(c.items())))')
	duet_check_eq "$where: traffic class 184 (DSCP 46, ECN 0) and flow label 0 on every packet" \
		"tclass=184 flow=0 x$n" "$tc"
	bad=$(awk -F'\t' -v h=$RELAY_HLIM '$6 != 1 || $5 != h' <<<"$fields" | head -3)
	[[ -z $bad ]] || duet_diag "$where: first bad packets (src sport dst dport hlim udpck): $bad"
}
check_wire capb "at B" "$B" "$BEP" $SENT_EACH
check_wire capa "at A" "$A" "$AEP" $SENT_EACH

# Neighbour discovery and echo.
duet_check_ge "duetd answered the clients' neighbour solicitations (nd_replies)" 2 \
	"$(duet_relay_stat nd_replies)"
icmp0=$(abuse_drop icmp_other)
rep0=$(duet_relay_stat icmp_replies)
out=$(ip netns exec "$NS_A" ping -6 -c 3 -W 1 -i 0.2 "$DUET_RELAY_IP_A" 2>&1)
duet_check_match "ping -6 $DUET_RELAY_IP_A: 3 echoes answered" ' 3 received' "$out"
out=$(ip netns exec "$NS_B" ping -6 -c 3 -W 1 -i 0.2 "$DUET_RELAY_IP_B" 2>&1)
duet_check_match "ping -6 $DUET_RELAY_IP_B: 3 echoes answered" ' 3 received' "$out"
duet_settle
duet_check_ge "relay icmp_replies counts the 6 echo replies" $((rep0 + 6)) "$(duet_relay_stat icmp_replies)"

# Per-pair and relay counters.
duet_settle
duet_check_eq "f6 b_pkts counts B's packets" $((1 + N + 100)) "$(duet_stat f6 b_pkts)"
duet_check_match "f6 a_pkts counts A's packets (+1 if the dropped latch packet counts)" \
	"^($((N + 100))|$((N + 101)))$" "$(duet_stat f6 a_pkts)"
duet_check_eq "f6 drop counters: peer_unlatched a=1 b=0, src a=0 b=0" "1 0 0 0" \
	"$(duet_stat f6 a_drop_peer_unlatched) $(duet_stat f6 b_drop_peer_unlatched) $(duet_stat f6 a_drop_src) $(duet_stat f6 b_drop_src)"
duet_check_ge "relay fwd_pkts counts both directions" $((2 * (N + 100) + 1)) "$(duet_relay_stat fwd_pkts)"
# Every drop but the latching packet and the kernels' MLD reports (ICMPv6
# type 143, counted as icmp_other) must be 0.
others=
for reason in $(sed -n 's/^DUET_DROP([A-Z_0-9]*, *"\([a-z_0-9]*\)".*/\1/p' "$DUET_SRC_ROOT/lib/stats/duet_drop.def"); do
	case $reason in peer_unlatched | icmp_other) continue ;; esac
	v=$(abuse_drop "$reason")
	((v == 0)) || others+=" drop_$reason=$v"
done
duet_check_eq "no drop but peer_unlatched and icmp_other (MLD)" "" "$others"
duet_check_eq "relay drop_peer_unlatched" 1 "$(duet_relay_stat drop_peer_unlatched)"
duet_diag "drop_icmp_other (MLD reports of the clients' kernels): $(abuse_drop icmp_other) ($icmp0 before the pings)"
stats_all=$(rcli HGETALL "$(duet_key stats:f6)")
duet_check "stats hash carries no client address" \
	bash -c "! grep -Eq '2001:db8:[ab]::1[01]' <<<'$stats_all'"

duet_check_stop TERM
