#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_pinned: a pinned leg (a_src in the pair hash) is latched from the
# start to that exact address and port: the other side can talk first (its
# packets reach the pinned client once duetd knows a MAC toward it: the
# client's own, or the port's gateway), and packets from any other source
# (other IP, or same IP and other port) are dropped and counted, even after
# a long silence. A new put that changes a_src moves the pin.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_start_all relatch_silence_ms=1000

A=$DUET_A_IP:40000
B=$DUET_B_IP:40000

duet_pair_create p1 --a-src "$A"
AEP=$PAIR_A BEP=$PAIR_B
duet_require "duetd knows pair p1" duet_wait 5 duet_stat_is p1 a_state latched
duet_check_eq "pinned leg latched from the start, leg b waiting" "latched waiting" \
	"$(duet_stat p1 a_state) $(duet_stat p1 b_state)"

# 1. B talks first. The pinned client has never sent, so duetd has no MAC
# for it, and this port has no gateway: counted as no_next_hop.
duet_listen ra0 "$NS_A" "$A"
duet_peer "$NS_B" send --bind "$B" --to "$BEP" --count 5 --rate 50 --tag early >/dev/null
duet_listen_end ra0
duet_check_eq "no gateway, client never heard: nothing delivered" 0 "$(duet_json ra0 'd["recv"]["received"]')"
duet_check "and counted as no_next_hop" duet_wait 3 duet_relay_ge drop_no_next_hop 5
duet_check_eq "no peer_unlatched drop on leg b (leg a is pinned)" 0 "$(duet_stat p1 b_drop_peer_unlatched)"
# Once A has sent (its MAC learnt), B's packets reach it.
duet_peer_bg rb0 "$NS_B" recv --bind "$B" --count 1 --timeout 20 --tag hello
duet_peer "$NS_A" send --bind "$A" --to "$AEP" --count 1 --tag hello >/dev/null
duet_peer_wait rb0
duet_check_eq "pinned client's first packet reaches B" 1 "$(duet_json rb0 'd["recv"]["matched"]')"
duet_peer_bg ra "$NS_A" recv --bind "$A" --count 5 --timeout 20 --tag fromb
duet_peer "$NS_B" send --bind "$B" --to "$BEP" --count 5 --rate 50 --tag fromb >/dev/null
duet_peer_wait ra
duet_check_eq "then B's packets reach the pinned client" 5 "$(duet_json ra 'd["recv"]["matched"]')"
duet_check_eq "A sees only its relay endpoint" "[\"$AEP\"]" "$(duet_json ra 'list(d["recv"]["sources"])')"

# 2-4. Strangers: other IP, same IP other port, other IP after a silence.
duet_listen rb "$NS_B" "$B"
duet_peer "$NS_A" send --bind "$DUET_A_IP2:40000" --to "$AEP" --count 5 --rate 50 --tag other-ip >/dev/null
duet_peer "$NS_A" send --bind "$DUET_A_IP:40001" --to "$AEP" --count 5 --rate 50 --tag other-port >/dev/null
sleep 1.5 # longer than relatch_silence_ms: a latched leg would re-latch now
duet_peer "$NS_A" send --bind "$DUET_A_IP2:40000" --to "$AEP" --count 5 --rate 50 --tag after-silence >/dev/null
duet_listen_end rb
duet_check_eq "B received nothing from strangers" 0 "$(duet_json rb 'd["recv"]["received"]')"
duet_wait 5 duet_stat_ge p1 a_drop_src 15
duet_settle
duet_check_eq "15 stranger packets: a_drop_src=15" 15 "$(duet_stat p1 a_drop_src)"
duet_check_eq "relay drop_src_rejected=15" 15 "$(duet_relay_stat drop_src_rejected)"
duet_check_eq "leg a still latched" latched "$(duet_stat p1 a_state)"

# 5. The pinned client itself goes through.
duet_peer_bg rb2 "$NS_B" recv --bind "$B" --count 10 --timeout 20 --tag froma
duet_peer "$NS_A" send --bind "$A" --to "$AEP" --count 10 --rate 50 --tag froma >/dev/null
duet_peer_wait rb2
duet_check_eq "pinned client's packets reach B" 10 "$(duet_json rb2 'd["recv"]["matched"]')"

# 6. Re-pin to A2 with a new put of the same pair.
duet_pair_put p1 "$AEP" "$BEP" a_src "$DUET_A_IP2:40000"
# The control loop reads the events between its stats rounds: once a
# whole round has run since the put, the put is applied.
duet_settle
duet_listen rb3 "$NS_B" "$B" --tag froma2
duet_peer "$NS_A" send --bind "$DUET_A_IP2:40000" --to "$AEP" --count 10 --rate 50 --tag froma2 >/dev/null
duet_peer "$NS_A" send --bind "$A" --to "$AEP" --count 4 --rate 50 --tag oldpin >/dev/null
duet_listen_end rb3
duet_check_eq "after re-pin, the new address goes through, the old one does not" "10 0" \
	"$(duet_json rb3 'd["recv"]["matched"]') $(duet_json rb3 'd["recv"]["tags"].get("oldpin", 0)')"
duet_peer_bg ra2 "$NS_A" recv --bind "$DUET_A_IP2:40000" --count 3 --timeout 20 --tag fromb3
duet_peer "$NS_B" send --bind "$B" --to "$BEP" --count 3 --rate 50 --tag fromb3 >/dev/null
duet_peer_wait ra2
duet_check_eq "B's packets go to the new pin" 3 "$(duet_json ra2 'd["recv"]["matched"]')"

duet_check_stop TERM

# 7. With a gateway configured (the client hosts act as routers here), a
# pinned client is reachable before it ever sends: duetd ARPs for the
# gateway and sends there.
duet_conf_write relatch_silence_ms=1000 "port0.gateway=$DUET_A_IP" "port1.gateway=$DUET_B_IP"
duet_require "duetd restarts with gateways" duetd_start
duet_pair_create p2 --a-src "$DUET_A_IP2:40032"
P2A=$PAIR_A P2B=$PAIR_B
duet_require "duetd knows pair p2" duet_wait 5 duet_stat_is p2 a_state latched
sleep 1 # the gateway's ARP answer
duet_peer_bg ra3 "$NS_A" recv --bind "$DUET_A_IP2:40032" --count 5 --timeout 20 --tag gw
duet_peer "$NS_B" send --bind "$DUET_B_IP:40032" --to "$P2B" --count 5 --rate 50 --tag gw >/dev/null
duet_peer_wait ra3
duet_check_eq "via the gateway: B's first packets reach a pinned client that never sent" 5 \
	"$(duet_json ra3 'd["recv"]["matched"]')"
duet_check_stop TERM
