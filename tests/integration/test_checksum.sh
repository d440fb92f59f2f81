#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_checksum: what duetd puts on the wire, checked by tshark on the
# clients' side of the veths. After the rewrite (new source, destination,
# ports; TTL decremented) every forwarded packet must carry a correct IPv4
# header checksum and a correct (non-zero) UDP checksum, in both
# directions, for even and odd payload lengths and near-MTU packets.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
command -v tshark >/dev/null || duet_bail "needs tshark (apt-get install tshark)"
# A TTL that is neither default nor either sender's; near-MTU packets at
# 200/s are not voice, so no byte limit.
RELAY_TTL=61
duet_start_all media.ttl=$RELAY_TTL security.max_kbps=0

A=$DUET_A_IP:40098
B=$DUET_B_IP:40098
duet_pair_create c1
AEP=$PAIR_A BEP=$PAIR_B
duet_require "latch c1" duet_latch c1 "$A" "$AEP" "$B" "$BEP"

# 100 + 51 + 49 packets each way: payloads of 172, 173 (odd) and 1400 bytes.
TOTAL=200
duet_capture_start capb "$NS_B" "$IF_B" "udp and src host $DUET_RELAY_IP_B and src port ${BEP##*:}" $TOTAL 40
duet_capture_start capa "$NS_A" "$IF_A" "udp and src host $DUET_RELAY_IP_A and src port ${AEP##*:}" $TOTAL 40
for spec in "100 172" "51 173" "49 1400"; do
	read -r n size <<<"$spec"
	# TTLs: A sends with 50, B with 40 (set per side below).
	duet_peer_bg "s$size-b" "$NS_B" talk --bind "$B" --to "$BEP" --count "$n" --size "$size" \
		--rate 200 --ttl 40 --tag "b$size" --expect-tag "a$size" --linger 1 --go-file "$DUET_TMP/go$size"
	duet_peer_bg "s$size-a" "$NS_A" talk --bind "$A" --to "$AEP" --count "$n" --size "$size" \
		--rate 200 --ttl 50 --tag "a$size" --expect-tag "b$size" --linger 1 --go-file "$DUET_TMP/go$size"
	touch "$DUET_TMP/go$size"
	duet_talk_wait "s$size"
	duet_check_eq "size $size: all $n arrive both ways" "$n $n" \
		"$(duet_json "s$size-a" 'd["recv"]["matched"]') $(duet_json "s$size-b" 'd["recv"]["matched"]')"
done
duet_capture_wait capb
duet_capture_wait capa

check_capture() { # NAME WHERE TTL DST
	local fields n
	fields=$(duet_capture_fields "$1")
	n=$(grep -c . <<<"$fields")
	duet_check_eq "$2: tshark captured $TOTAL forwarded packets" $TOTAL "$n"
	duet_check_eq "$2: IPv4 header checksums all good" "$n" "$(awk -F'\t' '$6 == 1' <<<"$fields" | wc -l)"
	duet_check_eq "$2: UDP checksums all present and good" "$n" "$(awk -F'\t' '$7 == 1' <<<"$fields" | wc -l)"
	duet_check_eq "$2: TTL is the relay's $3, not the sender's" "$n" \
		"$(awk -F'\t' -v t="$3" '$5 == t' <<<"$fields" | wc -l)"
	duet_check_eq "$2: all addressed to the client $4" "$n" \
		"$(awk -F'\t' -v d="$4" '$3 ":" $4 == d' <<<"$fields" | wc -l)"
	bad=$(awk -F'\t' '$6 != 1 || $7 != 1' <<<"$fields" | head -3)
	[[ -z $bad ]] || duet_diag "first bad packets (src sport dst dport ttl ipck udpck): $bad"
}
check_capture capb "at B" $RELAY_TTL "$B"
check_capture capa "at A" $RELAY_TTL "$A"

duet_check_stop TERM
