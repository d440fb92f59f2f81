#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_abuse_arp: the gateway MAC is learned only from a reply to duetd's
# own request (issue 8, item 6). duetd's B-side port has gateway
# 198.51.100.11, an address of B's namespace, so B's kernel answers
# duetd's ARP request for it. Leg b is pinned to a client duetd has never
# heard from, so the relay sends its media to the gateway's MAC. From B's
# namespace a raw sender then claims the gateway's address with a bogus
# MAC: unsolicited unicast ARP replies, gratuitous ARP (request and reply
# forms, broadcast), and ARP requests from the gateway's address. After
# each, tshark at B shows the relay's media still addressed to the real
# gateway MAC, B's socket still receives it, and the unsolicited claims are
# counted as drop_arp_unsolicited. The ARP requests are still answered.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
source "$(dirname "$0")/abuse_lib.sh"
duet_init
abuse_init
GW=$DUET_B_IP2
duet_start_all "port1.gateway=$GW"

RMAC_B=$(abuse_relay_mac b)
GWMAC=$(abuse_if_mac "$NS_B" "$IF_B") # B's kernel answers for $GW with its own MAC
BOGUS=02:00:00:00:be:ef
A=$DUET_A_IP:40040
PIN=$DUET_B_IP:40040
N=10

duet_pair_create g1 --b-src "$PIN"
AEP=$PAIR_A
duet_require "pair g1 installed, leg b pinned" duet_wait 5 duet_stat_is g1 b_state latched

# The gateway's MAC comes from B's reply to duetd's request at start: wait
# until A's packets reach the pinned client through it (at most 10 s).
duet_peer_bg warm "$NS_B" recv --bind "$PIN" --count 1 --timeout 10 --tag arp-warmup
for ((i = 0; i < 40; i++)); do
	kill -0 "${DUET_BG[warm]}" 2>/dev/null || break
	duet_peer "$NS_A" send --bind "$A" --to "$AEP" --count 1 --tag arp-warmup >/dev/null
	sleep 0.25
done
duet_peer_wait warm
duet_require "A's media reaches the pinned client via the gateway MAC" \
	test "$(duet_json warm 'd["recv"]["matched"]')" == 1
sleep 1.5 # past the 1 s in which duetd takes a reply to its request

duet_capture_start cap "$NS_B" "$IF_B" "ether src $RMAC_B or arp" 5000 120
duet_listen rb "$NS_B" "$PIN"

# media PHASE: A sends N packets tagged arp-PHASE toward the pinned client.
media() {
	duet_peer "$NS_A" send --bind "$A" --to "$AEP" --count $N --rate 100 --tag "arp-$1" >/dev/null
	sleep 0.3
}

declare -a PHASES=(before reply garp gwreq)
media before
d0=$(abuse_drop arp_unsolicited)
# 1. Unsolicited unicast replies: "the gateway is at BOGUS".
abuse_raw "$NS_B" arp --iface "$IF_B" --src-mac "$BOGUS" --op reply --spa "$GW" \
	--tha "$RMAC_B" --tpa "$DUET_RELAY_IP_B" --eth-dst "$RMAC_B" --count 3 --rate 20
media reply
duet_settle
d1=$(abuse_drop arp_unsolicited)
duet_check_eq "3 unsolicited ARP replies claiming the gateway: drop_arp_unsolicited +3" 3 $((d1 - d0))

# 2. Gratuitous ARP, both forms, broadcast.
abuse_raw "$NS_B" arp --iface "$IF_B" --src-mac "$BOGUS" --op request --spa "$GW" --tpa "$GW" \
	--count 3 --rate 20
abuse_raw "$NS_B" arp --iface "$IF_B" --src-mac "$BOGUS" --op reply --spa "$GW" --tpa "$GW" \
	--tha ff:ff:ff:ff:ff:ff --count 3 --rate 20
media garp
duet_settle
d2=$(abuse_drop arp_unsolicited)
duet_check_eq "6 gratuitous ARPs claiming the gateway: drop_arp_unsolicited +6" 6 $((d2 - d1))

# 3. ARP requests for the relay's address from the gateway's IP with the
# bogus MAC: answered, but they teach nothing.
abuse_raw "$NS_B" arp --iface "$IF_B" --src-mac "$BOGUS" --op request --spa "$GW" \
	--tpa "$DUET_RELAY_IP_B" --count 3 --rate 20
media gwreq
duet_listen_end rb
abuse_capture_stop cap

for ph in "${PHASES[@]}"; do
	f="udp contains \"arp-$ph\" && ip.dst == ${PIN%:*} && udp.dstport == ${PIN##*:}"
	duet_check_eq "$ph: the relay's $N frames toward the pinned client go to the real gateway MAC" \
		"$N $N" "$(abuse_count cap "$f") $(abuse_count cap "$f && eth.dst == $GWMAC")"
	duet_check_eq "$ph: B's socket got all $N" $N "$(duet_json rb "d['recv']['tags'].get('arp-$ph', 0)")"
done
duet_check_eq "no relayed frame ever went to the bogus MAC" 0 "$(abuse_count cap "udp && eth.dst == $BOGUS")"
duet_check_eq "the ARP requests from the gateway's IP were answered (3 replies)" 3 \
	"$(abuse_count cap "arp.opcode == 2 && eth.src == $RMAC_B && arp.dst.proto_ipv4 == $GW")"
# When did duetd ask for the gateway during the capture? (A bogus claim
# within 1 s of duetd's own request may win by design; there should be none.)
asked=$(abuse_tshark cap "arp.opcode == 1 && eth.src == $RMAC_B && arp.dst.proto_ipv4 == $GW" \
	frame.time_relative | tr '\n' ' ')
duet_diag "duetd's ARP requests for $GW during the capture (s): ${asked:-none}"
duet_check_stop TERM
