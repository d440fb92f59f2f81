#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_abuse_relatch: latching on evidence in passthrough (issue 8, item
# 2), with relatch_silence_ms = 300. A leg latched to client A, silent
# longer than that, meets an intruder X from another address while B keeps
# talking:
#   relatch = ssrc (the default): X with another SSRC is refused
#     (src_rejected) and B's media still goes to A; X with A's SSRC (a phone
#     that moved) takes the leg, B's media then goes to X; a same-SSRC
#     packet from elsewhere before the silence is refused;
#   relatch = any: X with another SSRC takes the leg;
#   relatch = never: not even A's SSRC re-latches;
# set relay-wide ([relay] relatch) and per pair (record field relatch,
# which overrides the relay's). Empty, short (< 12 bytes) and non-RTP
# datagrams never latch a waiting leg and never re-latch a silent one
# (not_rtp); an RTCP sender report may latch. X is a raw AF_PACKET sender
# (raw_send.py), so its SSRC is chosen; A and B are kernel sockets.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
source "$(dirname "$0")/abuse_lib.sh"
duet_init
abuse_init
SILENCE_MS=300
duet_start_all relatch_silence_ms=$SILENCE_MS
RMAC_A=$(abuse_relay_mac a)
N=10

# relatch_try NAME ID K XPORT XSSRC_TAG EXPECT [raw_send payload options...]
# Pair ID on endpoints port 20000+K (both legs), A at 192.0.2.10:40000+10K,
# B at 198.51.100.10:40000+10K. Both latch and talk, A falls silent for
# 2x the silence, then X (192.0.2.11:XPORT) sends N packets carrying the
# SSRC of udp_peer tag XSSRC_TAG while B sends N more. EXPECT: takes (X
# gets the leg: B hears X, X hears B, A hears nothing), or the drop reason
# that must count X's N packets when it does not (A keeps hearing B).
relatch_try() {
	local name=$1 id=$2 k=$3 xport=$4 xtag=$5 expect=$6
	shift 6
	local aep bep a b x go src0 cnt0 rej0
	aep=$(duet_ep a $((20000 + k))) bep=$(duet_ep b $((20000 + k)))
	a=$DUET_A_IP:$((40000 + 10 * k)) b=$DUET_B_IP:$((40000 + 10 * k)) x=$DUET_A_IP2:$xport

	# A fresh pair latches first (whichever side spoke first would lose
	# its first packet to peer_unlatched).
	if [[ $(duet_stat "$id" state) != active ]]; then
		duet_require "$name: latch pair $id" duet_latch "$id" "$a" "$aep" "$b" "$bep"
	fi
	duet_talk_both "$name-l" "$a" "$aep" "$b" "$bep" $N 100
	duet_talk_wait "$name-l"
	duet_check_eq "$name: A and B latch and talk (all $N each way)" "$N $N" \
		"$(duet_json "$name-l-a" 'd["recv"]["matched"]') $(duet_json "$name-l-b" 'd["recv"]["matched"]')"
	sleep "$(awk -v ms=$SILENCE_MS 'BEGIN { printf "%.3f", 2 * ms / 1000 }')"

	duet_settle
	src0=$(abuse_stat "$id" a_drop_src) rej0=$(abuse_drop src_rejected)
	[[ $expect == takes ]] || cnt0=$(abuse_drop "$expect")
	duet_listen "$name-ra" "$NS_A" "$a" --tag "$name-b"
	duet_listen "$name-rx" "$NS_A" "$x" --tag "$name-b"
	go=$(duet_go_file "$name")
	# B listens from now on, but sends only once X's N packets are all on
	# the wire (and 0.2 s more for duetd to take them): a loaded machine
	# must not let B's media overtake X's first packet.
	duet_peer_bg "$name-b" "$NS_B" talk --bind "$b" --to "$bep" --count $N --rate 100 \
		--tag "$name-b" --expect 0 --linger 1.5 --go-file "$go" --delay 0.2
	abuse_raw "$NS_A" udp --iface "$IF_A" --dst-mac "$RMAC_A" --src "$x" --to "$aep" \
		--count $N --rate 100 --tag "$name-x" --ssrc "$(abuse_ssrc "$xtag")" "$@"
	duet_go "$name"
	duet_peer_wait "$name-b"
	duet_listen_end "$name-ra"
	duet_listen_end "$name-rx"
	duet_settle
	if [[ $expect == takes ]]; then
		duet_check_eq "$name: X takes the leg: B hears all $N of X's packets" $N \
			"$(duet_json "$name-b" 'd["recv"]["tags"].get("'"$name-x"'", 0)')"
		duet_check_eq "$name: B's media follows to X (all $N), none to A" "$N 0" \
			"$(duet_json "$name-rx" 'd["recv"]["matched"]') $(duet_json "$name-ra" 'd["recv"]["received"]')"
		duet_check_eq "$name: re-latching is no drop (a_drop_src unchanged)" 0 \
			$(($(abuse_stat "$id" a_drop_src) - src0))
	else
		duet_check_eq "$name: X does not take the leg: B hears nothing" 0 \
			"$(duet_json "$name-b" 'd["recv"]["received"]')"
		duet_check_eq "$name: B's media still goes to A (all $N), none to X" "$N 0" \
			"$(duet_json "$name-ra" 'd["recv"]["matched"]') $(duet_json "$name-rx" 'd["recv"]["received"]')"
		duet_check_eq "$name: drop_$expect +$N" $N $(($(abuse_drop "$expect") - cnt0))
		if [[ $expect == src_rejected ]]; then
			duet_check_eq "$name: a_drop_src +$N" $N $(($(abuse_stat "$id" a_drop_src) - src0))
		fi
	fi
}

# pair_k ID K [FIELD VALUE ...]: passthrough pair on port 20000+K of both
# service addresses.
pair_k() {
	local id=$1 k=$2
	shift 2
	duet_pair_put "$id" "$(duet_ep a $((20000 + k)))" "$(duet_ep b $((20000 + k)))" "$@"
	duet_require "pair $id installed" duet_wait 5 duet_stat_is "$id" state waiting
}

# --- 1. relatch = ssrc, the default.
pair_k r1 1
# Before the silence, even A's own SSRC from another address is refused.
duet_require "latch pair r1" duet_latch r1 "$DUET_A_IP:40010" "$(duet_ep a 20001)" "$DUET_B_IP:40010" "$(duet_ep b 20001)"
duet_listen r1e-b "$NS_B" "$DUET_B_IP:40010" --tag r1-early
duet_peer_bg r1-keep "$NS_A" send --bind "$DUET_A_IP:40010" --to "$(duet_ep a 20001)" --count 60 \
	--rate 50 --tag r1-l-froma
sleep 0.4
rej0=$(abuse_drop src_rejected)
abuse_raw "$NS_A" udp --iface "$IF_A" --dst-mac "$RMAC_A" --src "$DUET_A_IP2:40014" \
	--to "$(duet_ep a 20001)" --count 5 --rate 100 --tag r1-early --ssrc "$(abuse_ssrc r1-l-froma)"
duet_peer_wait r1-keep
duet_listen_end r1e-b
duet_settle
duet_check_eq "ssrc: A's SSRC from elsewhere while A talks: B hears none of it" 0 \
	"$(duet_json r1e-b 'd["recv"]["matched"]')"
duet_check_eq "ssrc: ... and drop_src_rejected +5" 5 $(($(abuse_drop src_rejected) - rej0))

# A stranger with another SSRC after the silence: refused.
relatch_try ssrc-stranger r1 1 40011 stranger src_rejected
# A's SSRC from a new address after the silence: the phone moved.
relatch_try ssrc-moved r1 1 40012 ssrc-moved-l-froma takes

# --- 2. Per pair, in a relay whose default is ssrc.
pair_k r2 2 relatch any
relatch_try pair-any r2 2 40021 stranger2 takes
pair_k r3 3 relatch never
relatch_try pair-never r3 3 40031 pair-never-l-froma src_rejected
duet_pair_put r4 "$(duet_ep a 20004)" "$(duet_ep b 20004)" relatch sometimes
if duet_wait 5 duet_stat_is r4 state rejected; then
	duet_check_match "relatch 'sometimes' rejected, the reason names relatch" 'relatch' "$(duet_stat r4 reason)"
else
	duet_not_ok "a record with relatch 'sometimes' is rejected" "state '$(duet_stat r4 state)'"
fi

# --- 3. What is not RTP never latches a waiting leg (leg b latched first,
# so a wrong latch would forward to B).
pair_k r5 5
duet_peer "$NS_B" send --bind "$DUET_B_IP:40050" --to "$(duet_ep b 20005)" --count 1 --tag r5-b >/dev/null
duet_wait 5 duet_stat_is r5 b_state latched || duet_diag "r5: leg b did not latch"
duet_listen r5-b "$NS_B" "$DUET_B_IP:40050"
notrtp0=$(abuse_drop not_rtp)
for spec in "empty" "short --size 8" "short --size 11" "stun" "hex --hex 000102030405060708090a0b0c0d0e0f" \
	"hex --hex 40000001000000000000000000000000"; do
	# shellcheck disable=SC2086 # spec is a payload kind and its options
	abuse_raw "$NS_A" udp --iface "$IF_A" --dst-mac "$RMAC_A" --src "$DUET_A_IP:40050" \
		--to "$(duet_ep a 20005)" --count 2 --rate 100 --payload $spec
done
duet_settle
duet_check_eq "empty, 8 and 11 bytes, STUN, version 0 and 1: leg a stays waiting" waiting \
	"$(duet_stat r5 a_state)"
duet_check_eq "drop_not_rtp +12" 12 $(($(abuse_drop not_rtp) - notrtp0))
# An RTCP sender report (version 2, 28 bytes) is evidence enough.
abuse_raw "$NS_A" udp --iface "$IF_A" --dst-mac "$RMAC_A" --src "$DUET_A_IP:40050" \
	--to "$(duet_ep a 20005)" --count 1 --payload rtcp
duet_check "an RTCP sender report latches leg a" duet_wait 3 duet_stat_is r5 a_state latched
duet_listen_end r5-b
duet_check_eq "B received only the RTCP report, none of the non-RTP datagrams" 1 \
	"$(duet_json r5-b 'd["recv"]["received"]')"
duet_check_stop TERM

# --- 4. relatch = any relay-wide; per pair ssrc overrides it.
duet_conf_write relatch_silence_ms=$SILENCE_MS relatch=any
duet_require "duetd starts with [relay] relatch = any" duetd_start
pair_k r6 6
relatch_try any-stranger r6 6 40061 stranger6 takes
pair_k r7 7 relatch ssrc
relatch_try any-pair-ssrc r7 7 40071 stranger7 src_rejected
pair_k r8 8
relatch_try any-not-rtp r8 8 40081 stranger8 not_rtp --payload stun
duet_check_stop TERM

# --- 5. relatch = never relay-wide; per pair any overrides it.
duet_conf_write relatch_silence_ms=$SILENCE_MS relatch=never
duet_require "duetd starts with [relay] relatch = never" duetd_start
pair_k r9 9
relatch_try never-moved r9 9 40091 never-moved-l-froma src_rejected
pair_k r10 10 relatch any
relatch_try never-pair-any r10 10 40101 stranger10 takes
duet_check_stop TERM
