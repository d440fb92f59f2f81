#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_latch: how a leg learns its client. The first packet to a leg's
# endpoint latches the leg to its source; while the other leg has no client
# yet, packets are dropped as peer_unlatched. Once latched, a packet from
# another source is dropped as src_rejected while the latched client keeps
# talking, and re-latches the leg only after the latched client has been
# silent for relatch_silence_ms (1000 ms here); the return path follows.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
# A2 is a second host, not the same phone on a new network (udp_peer gives
# each tag its own SSRC): this test is about the latch and silence rule
# itself, with relatch = any; abuse_relatch covers the ssrc and never
# policies.
duet_start_all relatch_silence_ms=1000 relatch=any

A=$DUET_A_IP:40000
A2=$DUET_A_IP2:40002
B=$DUET_B_IP:40000

duet_pair_create l1
AEP=$PAIR_A BEP=$PAIR_B
duet_require "duetd knows pair l1" duet_wait 5 duet_stat_is l1 state waiting

# 1. Leg b unlatched: A's packets latch leg a and are dropped.
duet_peer "$NS_A" send --bind "$A" --to "$AEP" --count 5 --rate 50 --tag early >/dev/null
duet_wait 5 duet_stat_ge l1 a_drop_peer_unlatched 5
duet_settle
duet_check_eq "5 packets to an unlatched peer: a_drop_peer_unlatched=5" 5 "$(duet_stat l1 a_drop_peer_unlatched)"
duet_check_eq "relay drop_peer_unlatched=5" 5 "$(duet_relay_stat drop_peer_unlatched)"
duet_check_eq "leg a latched, leg b waiting, pair waiting" "latched waiting waiting" \
	"$(duet_stat l1 a_state) $(duet_stat l1 b_state) $(duet_stat l1 state)"

# 2. B's first packet latches leg b and reaches A's latched address.
duet_peer_bg ra "$NS_A" recv --bind "$A" --count 3 --timeout 20 --tag fromb
duet_peer "$NS_B" send --bind "$B" --to "$BEP" --count 3 --rate 50 --tag fromb >/dev/null
duet_peer_wait ra
duet_check_eq "B's first packets reach A (latched from A's first packet)" 3 "$(duet_json ra 'd["recv"]["matched"]')"
duet_check "pair l1 active" duet_wait 3 duet_stat_is l1 state active

# 3. While A keeps talking (3 s), packets from A2 (0.5 s in) are rejected
# and go nowhere.
duet_listen rb "$NS_B" "$B" --tag froma
go=$(duet_go_file hijack)
duet_peer_bg ta "$NS_A" send --bind "$A" --to "$AEP" --count 150 --rate 50 --tag froma --go-file "$go"
duet_peer_bg hj "$NS_A" send --bind "$A2" --to "$AEP" --count 10 --rate 10 --tag hijack \
	--go-file "$go" --delay 0.5
duet_go hijack
duet_peer_wait ta
duet_peer_wait hj
duet_listen_end rb
duet_check_eq "B got all 150 of A's packets during the hijack attempt" 150 "$(duet_json rb 'd["recv"]["matched"]')"
duet_check_eq "B got none of the hijacker's packets" 0 "$(duet_json rb 'd["recv"]["tags"].get("hijack", 0)')"
duet_wait 5 duet_stat_ge l1 a_drop_src 10
duet_settle
duet_check_eq "hijack before silence: a_drop_src=10" 10 "$(duet_stat l1 a_drop_src)"
duet_check_eq "relay drop_src_rejected=10" 10 "$(duet_relay_stat drop_src_rejected)"

# 4. After relatch_silence_ms of silence from A, A2 re-latches leg a.
sleep 1.5
duet_peer_bg rb2 "$NS_B" recv --bind "$B" --count 50 --timeout 20 --tag relatched
duet_peer "$NS_A" send --bind "$A2" --to "$AEP" --count 50 --rate 50 --tag relatched >/dev/null
duet_peer_wait rb2
duet_check_eq "after the silence, A2 re-latches: B gets all 50 (first one included)" 50 \
	"$(duet_json rb2 'd["recv"]["matched"]')"
duet_check_eq "B still sees only its relay endpoint" "[\"$BEP\"]" "$(duet_json rb2 'list(d["recv"]["sources"])')"
duet_check_eq "re-latch is no drop: a_drop_src still 10" 10 "$(duet_stat l1 a_drop_src)"

# 5. The return path moved to A2, and now A (the old client) is the
# stranger: rejected while A2 keeps talking (2 s from go; A's 5 packets
# from 0.5 s to 1 s, after A2's first packets: A2 too has been silent
# longer than relatch_silence_ms, so whoever sends first would latch).
go=$(duet_go_file swap)
duet_peer_bg a2 "$NS_A" talk --bind "$A2" --to "$AEP" --count 100 --rate 50 --tag a2 \
	--expect 20 --expect-tag fromb2 --go-file "$go"
duet_peer_bg olda "$NS_A" talk --bind "$A" --to "$AEP" --count 5 --rate 10 --tag old \
	--expect 0 --expect-tag fromb2 --linger 3 --go-file "$go" --delay 0.5
duet_peer_bg b3 "$NS_B" talk --bind "$B" --to "$BEP" --count 20 --rate 20 --tag fromb2 \
	--expect 100 --expect-tag a2 --linger 4 --go-file "$go"
duet_go swap
duet_peer_wait a2
duet_peer_wait olda
duet_peer_wait b3
duet_check_eq "B's packets now go to A2: all 20" 20 "$(duet_json a2 'd["recv"]["matched"]')"
duet_check_eq "the old client gets nothing" 0 "$(duet_json olda 'd["recv"]["received"]')"
duet_check_eq "B gets all 100 from A2 and none from the old client" "100 0" \
	"$(duet_json b3 'd["recv"]["matched"]') $(duet_json b3 'd["recv"]["tags"].get("old", 0)')"
duet_wait 5 duet_stat_ge l1 a_drop_src 15
duet_settle
duet_check_eq "old client rejected: a_drop_src=15" 15 "$(duet_stat l1 a_drop_src)"
duet_check_eq "leg b never rejected anything" 0 "$(duet_stat l1 b_drop_src)"

duet_check_stop TERM
