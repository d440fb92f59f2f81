#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_abuse_martian: the source policy (issue 8, item 1). A raw AF_PACKET
# sender in A's namespace spoofs one source of every refused class into an
# unlatched passthrough leg whose peer leg is latched: 0.0.0.0, 0.0.0.0/8,
# 127.0.0.1, 224.0.0.1, 239.0.0.0/8, 240.0.0.1, 255.255.255.255,
# 169.254.1.1, both of the relay's own service addresses, and A's real
# address with UDP source port 0. For each: the leg stays waiting, the
# peer's media that follows is not sent toward the spoofed address (tshark
# on both client-side veths counts 0 frames from the relay to it), the
# spoofed packets reach nobody, and drop_src_denied counts every one.
# Afterwards a real client latches the same pair and media flows both
# ways. A pin (a_src) in any of those classes is rejected. Then, with
# [security] denied_peers = 192.0.2.8/29, 203.0.113.7 and allowed_peers =
# 192.0.2.10: spoofed and real sources in the denied set do not latch and
# are counted, pins there are rejected, and the allowed exception latches,
# can be pinned and carries media.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
source "$(dirname "$0")/abuse_lib.sh"
duet_init
abuse_init
duet_start_all relatch_silence_ms=1000

RMAC_A=$(abuse_relay_mac a)
RMAC_B=$(abuse_relay_mac b)
N=5 # spoofed packets per class, and peer packets that follow them

# --- 1. Pins in a refused class are rejected. Fixed endpoints 20080..,
# reserved before any pair is created, one pair each, so a pin wrongly
# accepted cannot make the next record fail for an endpoint conflict.
declare -a PIN_SRC=(0.0.0.0:4000 0.1.2.3:4000 127.0.0.1:4000 224.0.0.1:4000 239.1.2.3:4000
	240.0.0.1:4000 255.255.255.255:4000 169.254.1.1:4000 "$DUET_RELAY_IP_A:4000"
	"$DUET_RELAY_IP_B:4000" "$DUET_A_IP:0")
# Ports 20093..20095 are kept for the pins of section 4.
rcli SREM "$(duet_key free)" "$(duet_ep a 20093)" "$(duet_ep b 20093)" "$(duet_ep a 20094)" \
	"$(duet_ep b 20094)" "$(duet_ep a 20095)" "$(duet_ep b 20095)" >/dev/null
for k in "${!PIN_SRC[@]}"; do
	duet_pair_put "pin$k" "$(duet_ep a $((20080 + k)))" "$(duet_ep b $((20080 + k)))" a_src "${PIN_SRC[$k]}"
done
for k in "${!PIN_SRC[@]}"; do
	src=${PIN_SRC[$k]}
	if duet_wait 5 duet_stat_is "pin$k" state rejected; then
		reason=$(duet_stat "pin$k" reason)
		duet_check_match "pin a_src $src rejected, the reason names a_src" 'a_src' "$reason"
		# shellcheck disable=SC2016 # $1 and $2 are bash -c's own arguments
		duet_check "pin $src: the reason does not quote the address" \
			bash -c '[[ $1 != *"$2"* ]]' _ "$reason" "${src%:*}"
	else
		duet_not_ok "pin a_src $src rejected" \
			"state '$(duet_stat "pin$k" state)' a_state '$(duet_stat "pin$k" a_state)'"
	fi
done

# --- 2. Spoofed sources of every refused class into an unlatched leg.
# Everything the relay sends toward either client side is captured.
duet_capture_start capa "$NS_A" "$IF_A" "udp and ether src $RMAC_A" 20000 180
duet_capture_start capb "$NS_B" "$IF_B" "udp and ether src $RMAC_B" 20000 180

# class name | spoofed source IP:PORT
declare -a CLS_NAME=("0.0.0.0" "0.0.0.0/8" "127.0.0.1" "224.0.0.1" "239.0.0.0/8" "240.0.0.1"
	"255.255.255.255" "169.254.1.1" "relay's own $DUET_RELAY_IP_A" "relay's own $DUET_RELAY_IP_B"
	"UDP source port 0")
declare -a CLS_SRC=(0.0.0.0:40100 0.1.2.3:40101 127.0.0.1:40102 224.0.0.1:40103 239.1.2.3:40104
	240.0.0.1:40105 255.255.255.255:40106 169.254.1.1:40107 "$DUET_RELAY_IP_A:40108"
	"$DUET_RELAY_IP_B:40109" "$DUET_A_IP:0")
declare -a CLS_AEP CLS_BEP
for k in "${!CLS_SRC[@]}"; do
	id=m$k name=${CLS_NAME[$k]} src=${CLS_SRC[$k]}
	bsrc=$DUET_B_IP:$((41000 + k))
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
	duet_check_eq "$name spoofed into an unlatched leg: leg a stays waiting" waiting \
		"$(duet_stat "$id" a_state)"
	duet_check_eq "$name: drop_src_denied +$N" $N $(($(abuse_drop src_denied) - denied0))
done

# --- 3. A real client still latches one of those pairs, and media flows.
A=$DUET_A_IP:40200 B1=$DUET_B_IP:41000
duet_check "real client A latches pair m0 after the spoofing" \
	duet_latch m0 "$A" "${CLS_AEP[0]}" "$B1" "${CLS_BEP[0]}"
duet_talk_both legit "$A" "${CLS_AEP[0]}" "$B1" "${CLS_BEP[0]}" 20 100
duet_talk_wait legit
duet_check_eq "m0: A and B each get all 20 of the other's packets" "20 20" \
	"$(duet_json legit-a 'd["recv"]["matched"]') $(duet_json legit-b 'd["recv"]["matched"]')"
abuse_capture_stop capa
abuse_capture_stop capb

duet_check_ge "the capture at A saw the relay's media to the real client" 20 \
	"$(abuse_count capa "ip.dst == $DUET_A_IP && udp.srcport == ${CLS_AEP[0]##*:}")"
for k in "${!CLS_SRC[@]}"; do
	src=${CLS_SRC[$k]}
	f="ip.dst == ${src%:*} && udp.dstport == ${src##*:}"
	duet_check_eq "${CLS_NAME[$k]}: 0 frames from the relay toward it" "0 0" \
		"$(abuse_count capa "$f") $(abuse_count capb "$f")"
done
duet_check_eq "no spoofed packet was relayed to B or A" "0 0" \
	"$(abuse_count capb 'udp contains "spoof-"') $(abuse_count capa 'udp contains "spoof-"')"
duet_check_stop TERM

# --- 4. [security] denied_peers with an allowed_peers exception.
duet_conf_write relatch_silence_ms=1000 "security.denied_peers=192.0.2.8/29, 203.0.113.7" \
	"security.allowed_peers=$DUET_A_IP"
duet_require "duetd starts with [security] denied_peers and allowed_peers" duetd_start

# Pins: inside the denied set rejected, the exception accepted.
duet_pair_put pind0 "$(duet_ep a 20093)" "$(duet_ep b 20093)" a_src "192.0.2.12:4000"
duet_pair_put pind1 "$(duet_ep a 20094)" "$(duet_ep b 20094)" a_src "203.0.113.7:4000"
duet_pair_put pinok "$(duet_ep a 20095)" "$(duet_ep b 20095)" a_src "$DUET_A_IP:4000"
for id in pind0 pind1; do
	if duet_wait 5 duet_stat_is "$id" state rejected; then
		duet_check_match "$id: pin inside denied_peers rejected, the reason names a_src" 'a_src' \
			"$(duet_stat "$id" reason)"
	else
		duet_not_ok "$id: pin inside denied_peers rejected" "state '$(duet_stat "$id" state)'"
	fi
done
duet_check "pin on the allowed_peers exception accepted (leg a latched)" \
	duet_wait 5 duet_stat_is pinok a_state latched

duet_capture_start capa2 "$NS_A" "$IF_A" "udp and ether src $RMAC_A" 5000 120
declare -a DEN_NAME=("192.0.2.12 (in 192.0.2.8/29, spoofed)" "203.0.113.7 (bare address, spoofed)"
	"$DUET_A_IP2 (in 192.0.2.8/29, a real socket)")
declare -a DEN_SRC=(192.0.2.12:40300 203.0.113.7:40301 "$DUET_A_IP2:40302")
for k in "${!DEN_SRC[@]}"; do
	id=d$k src=${DEN_SRC[$k]} bsrc=$DUET_B_IP:$((41100 + k))
	duet_pair_create "$id"
	duet_require "pair $id installed" duet_wait 5 duet_stat_is "$id" state waiting
	duet_peer "$NS_B" send --bind "$bsrc" --to "$PAIR_B" --count 1 --tag blatch >/dev/null
	duet_wait 5 duet_stat_is "$id" b_state latched || duet_diag "$id: leg b did not latch"
	denied0=$(abuse_drop src_denied)
	if ((k < 2)); then
		abuse_raw "$NS_A" udp --iface "$IF_A" --dst-mac "$RMAC_A" --src "$src" --to "$PAIR_A" \
			--count $N --rate 200 --tag "denied-$k"
	else
		duet_peer "$NS_A" send --bind "$src" --to "$PAIR_A" --count $N --rate 200 --tag "denied-$k" >/dev/null
	fi
	sleep 0.2
	duet_peer "$NS_B" send --bind "$bsrc" --to "$PAIR_B" --count $N --rate 200 --tag "todenied-$k" >/dev/null
	duet_settle
	duet_check_eq "${DEN_NAME[$k]}: leg a stays waiting" waiting "$(duet_stat "$id" a_state)"
	duet_check_eq "${DEN_NAME[$k]}: drop_src_denied +$N" $N $(($(abuse_drop src_denied) - denied0))
	DEN_F[k]="ip.dst == ${src%:*} && udp.dstport == ${src##*:}"
done

# The exception inside the denied CIDR latches and carries media.
duet_pair_create ok1
OKA=$PAIR_A OKB=$PAIR_B
duet_require "pair ok1 installed" duet_wait 5 duet_stat_is ok1 state waiting
duet_check "$DUET_A_IP (allowed_peers exception inside 192.0.2.8/29) latches" \
	duet_latch ok1 "$DUET_A_IP:40310" "$OKA" "$DUET_B_IP:41110" "$OKB"
duet_talk_both ok "$DUET_A_IP:40310" "$OKA" "$DUET_B_IP:41110" "$OKB" 20 100
duet_talk_wait ok
duet_check_eq "ok1: A and B each get all 20 of the other's packets" "20 20" \
	"$(duet_json ok-a 'd["recv"]["matched"]') $(duet_json ok-b 'd["recv"]["matched"]')"
abuse_capture_stop capa2
duet_check_ge "the capture at A saw the relay's media to the allowed client" 20 \
	"$(abuse_count capa2 "ip.dst == $DUET_A_IP && udp.srcport == ${OKA##*:}")"
for k in "${!DEN_SRC[@]}"; do
	duet_check_eq "${DEN_NAME[$k]}: 0 frames from the relay toward it" 0 "$(abuse_count capa2 "${DEN_F[$k]}")"
done

duet_check_stop TERM
