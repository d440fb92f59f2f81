#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_junk: what is not media is dropped and counted under its own
# reason, and nothing of it reaches the other side: UDP to a port with no
# pair or outside the media range (no_endpoint), other IP protocols and
# TCP (proto), and hand-built frames with one defect each (bad IP checksum,
# TTL 1, bad lengths, VLAN tag, unknown ethertype). ICMP echo to
# a service address is answered; ARP for any other address is not. A
# well-formed hand-built frame goes through, so the defect frames are
# known to fail for their defect alone.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_start_all

A=$DUET_A_IP:40000
B=$DUET_B_IP:40000
duet_pair_create j1
AEP=$PAIR_A BEP=$PAIR_B
duet_require "duetd knows pair j1" duet_wait 5 duet_stat_is j1 state waiting
duet_require "latch both legs of j1" duet_latch j1 "$A" "$AEP" "$B" "$BEP"

# Drop counters before the junk, after the latch has been published.
duet_settle
declare -A before
reasons=$(sed -n 's/^DUET_DROP([A-Z_0-9]*, *"\([a-z_0-9]*\)".*/\1/p' "$DUET_SRC_ROOT/lib/stats/duet_drop.def")
for r in $reasons; do
	before[$r]=$(duet_relay_stat "drop_$r")
done
drops_before=$(duet_relay_stat drops)
a_pkts_before=$(duet_stat j1 a_pkts)

# Everything below is watched for at B's client.
duet_listen rb "$NS_B" "$B"

duet_peer "$NS_A" send --bind "$A" --to "$DUET_RELAY_IP_A:20099" --count 7 --rate 100 --tag unalloc >/dev/null
duet_peer "$NS_A" send --bind "$A" --to "$DUET_RELAY_IP_A:5000" --count 3 --rate 100 --tag outrange >/dev/null
duet_peer "$NS_A" rawip --bind "$DUET_A_IP" --to "$DUET_RELAY_IP_A" --proto 253 --count 5 --rate 100 >/dev/null
syn=$(duet_peer "$NS_A" tcpsyn --bind "$DUET_A_IP" --to "$AEP" --count 2 --json)

mac=$(ip -n "$NS_A" neigh show "$DUET_RELAY_IP_A" dev "$IF_A" | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }')
duet_check_match "client A learnt the relay's MAC by ARP" '^([0-9a-f]{2}:){5}[0-9a-f]{2}$' "$mac"
# No lone IP fragment here: net_af_packet's socket asks the kernel to
# reassemble fragments (PACKET_FANOUT_FLAG_DEFRAG), so an incomplete one
# never reaches duetd; the unit tests of lib/pkt cover ip_frag.
declare -A kinds=([ip_cksum]=ip_cksum [ttl1]=ip_ttl [udp_len]=udp_len
	[ip_len]=ip_len [ip_hlen]=ip_hlen [vlan]=vlan [ethertype]=ethertype)
for kind in "${!kinds[@]}"; do
	duet_peer "$NS_A" frame --iface "$IF_A" --dst-mac "$mac" --src "$A" --to "$AEP" \
		--kind "$kind" --count 4 --rate 100 --tag "bad-$kind" >/dev/null
done
duet_peer "$NS_A" frame --iface "$IF_A" --dst-mac "$mac" --src "$A" --to "$AEP" \
	--kind good --count 3 --rate 100 --tag frame-good >/dev/null

# ICMP and ARP.
duet_check_eq "ping $DUET_RELAY_IP_A from A: 3 of 3 answered" 3 \
	"$(duet_peer "$NS_A" ping --bind "$DUET_A_IP" --to "$DUET_RELAY_IP_A" --count 3 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["replies"])')"
duet_check_eq "ping $DUET_RELAY_IP_B from B: 3 of 3 answered" 3 \
	"$(duet_peer "$NS_B" ping --bind "$DUET_B_IP" --to "$DUET_RELAY_IP_B" --count 3 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["replies"])')"
duet_check "no answer for 192.0.2.2 (not a service address)" \
	bash -c "! ip netns exec $NS_A python3 $DUET_UDP_PEER ping --bind $DUET_A_IP --to 192.0.2.2 --count 1 --wait 1 >/dev/null 2>&1"

duet_listen_end rb
duet_check_eq "B received exactly the 3 good frames and nothing else" '{"frame-good": 3}' \
	"$(duet_json rb 'd["recv"]["tags"]')"
duet_check_eq "B saw no foreign payload" 0 "$(duet_json rb 'd["recv"]["foreign"]')"
duet_check_eq "TCP SYNs got no answer (no RST, no SYN-ACK)" 0 \
	"$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["answered"])' "$syn" 2>/dev/null || echo '?')"

duet_settle
delta() { echo $(($(duet_relay_stat "drop_$1") - ${before[$1]:-0})); }
duet_check_eq "UDP to an unallocated port and outside the range: no_endpoint +10" 10 "$(delta no_endpoint)"
duet_check_eq "IP proto 253 x5 and TCP SYN x2: proto +7" 7 "$(delta proto)"
for kind in "${!kinds[@]}"; do
	duet_check_eq "frame $kind x4: drop_${kinds[$kind]} +4" 4 "$(delta "${kinds[$kind]}")"
done
duet_check_eq "j1 a_pkts grew by the 3 good frames only" $((a_pkts_before + 3)) "$(duet_stat j1 a_pkts)"
duet_check_ge "relay drops total grew by all of it" $((drops_before + 10 + 7 + 28)) "$(duet_relay_stat drops)"
duet_check_eq "nothing counted as src_rejected" 0 "$(delta src_rejected)"

duet_check_stop TERM
