#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_ipv6_bridge: a call between an IPv4 caller and an IPv6 caller
# (issue 14, item 4), with the lab in DUET_FAMILY=46: A's side IPv4
# (relay 192.0.2.1, client 192.0.2.10), B's side IPv6 (relay
# 2001:db8:b::1, client 2001:db8:b::10). duetctl creates a passthrough
# pair with leg a on 192.0.2.1:P and leg b on [2001:db8:b::1]:Q; kernel
# sockets on each side talk through it: every packet crosses families in
# both directions (IPv4 grows into IPv6 toward B, IPv6 shrinks into IPv4
# toward A), arrives intact (payloads of 172, 173 and 1400 bytes), and
# each client sees only its own relay endpoint as the source, of its own
# family. tshark on both client veths checks every datagram the relay
# sent: UDP checksum present and good on both wires (recomputed across the
# families), the IPv4 header checksum good, TTL / hop limit [media] ttl,
# source and destination the relay endpoint and the client. The relay
# hash counts no drop but the latching packet and the IPv6 client's MLD
# reports (icmp_other).
set -u
export DUET_FAMILY=46
source "$(dirname "$0")/../../tools/lab/lib.sh"
source "$(dirname "$0")/abuse_lib.sh"
duet_init
abuse_init
RELAY_TTL=57
duet_start_all media.ttl=$RELAY_TTL security.max_kbps=0
RMAC_A=$(abuse_relay_mac a)
RMAC_B=$(abuse_relay_mac b)

A=$(duet_hostport "$DUET_A_IP" 40000)
B=$(duet_hostport "$DUET_B_IP" 40000)
duet_check_eq "the lab: A IPv4, B IPv6" "192.0.2.10:40000 [2001:db8:b::10]:40000" "$A $B"
N=200

duet_pair_create br
AEP=$PAIR_A BEP=$PAIR_B
duet_check_match "leg a on IPv4 192.0.2.1" '^192\.0\.2\.1:[0-9]+$' "$AEP"
duet_check_match "leg b on IPv6 2001:db8:b::1" '^\[2001:db8:b::1\]:[0-9]+$' "$BEP"
duet_require "duetd loads the bridged pair (waiting)" duet_wait 5 duet_stat_is br state waiting

duet_capture_start capa "$NS_A" "$IF_A" "udp and ether src $RMAC_A" 5000 120
duet_capture_start capb "$NS_B" "$IF_B" "udp and ether src $RMAC_B" 5000 120

duet_require "latch both legs (A over IPv4, B over IPv6)" duet_latch br "$A" "$AEP" "$B" "$BEP"
duet_check "br becomes active" duet_wait 3 duet_stat_is br state active

total=0
for size in 172 173 1400; do
	duet_talk_both "s$size" "$A" "$AEP" "$B" "$BEP" $N 200 --size "$size"
	duet_talk_wait "s$size"
	total=$((total + N))
	duet_check_eq "$size-byte payloads, IPv4 A -> IPv6 B: all $N intact" "$N 0 0" \
		"$(duet_json "s$size-b" 'd["recv"]["matched"]') $(duet_json "s$size-b" 'd["recv"]["corrupt"]') $(duet_json "s$size-b" 'd["recv"]["duplicates"]')"
	duet_check_eq "$size-byte payloads, IPv6 B -> IPv4 A: all $N intact" "$N 0 0" \
		"$(duet_json "s$size-a" 'd["recv"]["matched"]') $(duet_json "s$size-a" 'd["recv"]["corrupt"]') $(duet_json "s$size-a" 'd["recv"]["duplicates"]')"
	duet_check_eq "$size: B (IPv6) sees only its relay endpoint, in brackets" "[\"$BEP\"]" \
		"$(duet_json "s$size-b" 'list(d["recv"]["sources"])')"
	duet_check_eq "$size: A (IPv4) sees only its relay endpoint" "[\"$AEP\"]" \
		"$(duet_json "s$size-a" 'list(d["recv"]["sources"])')"
done

abuse_capture_stop capa
abuse_capture_stop capb

# check_wire NAME WHERE CLIENT RELAY_EP MIN: what tshark saw the relay send.
check_wire() {
	local name=$1 where=$2 client=$3 rep=$4 min=$5 fields n
	fields=$(duet_capture_udp "$name")
	n=$(grep -c . <<<"$fields")
	duet_check_ge "$where: tshark captured the relay's $min datagrams" "$min" "$n"
	duet_check_eq "$where: every UDP checksum present and good" "$n" \
		"$(awk -F'\t' '$6 == 1' <<<"$fields" | wc -l)"
	duet_check_eq "$where: TTL / hop limit is the relay's $RELAY_TTL on every packet" "$n" \
		"$(awk -F'\t' -v h=$RELAY_TTL '$5 == h' <<<"$fields" | wc -l)"
	duet_check_eq "$where: every packet from $rep to $client" "$n" \
		"$(awk -F'\t' '{ s = $1; d = $3; if (s ~ /:/) s = "[" s "]"; if (d ~ /:/) d = "[" d "]"; print s ":" $2, d ":" $4 }' <<<"$fields" |
			grep -cxF "$rep $client")"
	bad=$(awk -F'\t' -v h=$RELAY_TTL '$6 != 1 || $5 != h' <<<"$fields" | head -3)
	[[ -z $bad ]] || duet_diag "$where: first bad packets (src sport dst dport ttl udpck): $bad"
}
check_wire capb "at B (IPv6 wire)" "$B" "$BEP" $((3 * N))
check_wire capa "at A (IPv4 wire)" "$A" "$AEP" $((3 * N))
duet_check_eq "at A: no IPv6 datagram on the IPv4 side, no IPv4 on the IPv6 side" "0 0" \
	"$(abuse_count capa ipv6) $(abuse_count capb ip)"
n=$(abuse_count capa 'udp')
duet_check_eq "at A: every IPv4 header checksum good" "$n" "$(abuse_count capa 'udp && ip.checksum.status == 1')"

duet_settle
duet_check_eq "br b_pkts counts B's packets" $((1 + total)) "$(duet_stat br b_pkts)"
duet_check_match "br a_pkts counts A's packets (+1 if the dropped latch packet counts)" \
	"^($total|$((total + 1)))$" "$(duet_stat br a_pkts)"
others=
for reason in $(sed -n 's/^DUET_DROP([A-Z_0-9]*, *"\([a-z_0-9]*\)".*/\1/p' "$DUET_SRC_ROOT/lib/stats/duet_drop.def"); do
	case $reason in peer_unlatched | icmp_other) continue ;; esac
	v=$(abuse_drop "$reason")
	((v == 0)) || others+=" drop_$reason=$v"
done
duet_check_eq "no drop but peer_unlatched and icmp_other (MLD)" "" "$others"
duet_check_eq "relay drop_peer_unlatched" 1 "$(duet_relay_stat drop_peer_unlatched)"

duet_check_stop TERM
