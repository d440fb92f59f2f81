#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_reject: bad pair records from the control plane are refused one by
# one (stats state rejected, a reason, a log line naming the pair) while a
# good pair keeps flowing without loss. A refused record's endpoints are not
# used; a later valid put of the same id replaces the rejection. No client
# address appears in duetd's log.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_start_all

GA=$(duet_ep a 20080) GB=$(duet_ep b 20081)
A=$DUET_A_IP:40080
B=$DUET_B_IP:40080
N=500 # 5 s at 100 packets/s

duet_pair_put g1 "$GA" "$GB"
duet_require "latch g1" duet_latch g1 "$A" "$GA" "$B" "$GB"
duet_settle
rejected0=$(duet_relay_stat rejected)
nend0=$(duet_relay_stat drop_no_endpoint)

duet_talk_both g "$A" "$GA" "$B" "$GB" $N 100

# id | fields | what the reason must mention (extended regex, any case)
duet_pair_raw m_mode a "$(duet_ep a 20082)" b "$(duet_ep b 20083)" mode foo
duet_pair_raw m_verify a "$(duet_ep a 20082)" b "$(duet_ep b 20083)" mode verify
duet_pair_raw m_nomode a "$(duet_ep a 20082)" b "$(duet_ep b 20083)"
duet_pair_raw m_range a "$DUET_RELAY_IP_A:30000" b "$(duet_ep b 20084)" mode passthrough
duet_pair_raw m_notsvc a 203.0.113.1:20085 b "$(duet_ep b 20085)" mode passthrough
duet_pair_raw m_used a "$GA" b "$(duet_ep b 20086)" mode passthrough
duet_pair_raw m_same a "$(duet_ep a 20087)" b "$(duet_ep a 20087)" mode passthrough
duet_pair_raw m_nob a "$(duet_ep a 20088)" mode passthrough
duet_pair_raw m_emptyb a "$(duet_ep a 20088)" b "" mode passthrough
duet_pair_raw m_badep a "192.0.2.1:abc" b "$(duet_ep b 20089)" mode passthrough
duet_pair_raw m_idle a "$(duet_ep a 20090)" b "$(duet_ep b 20091)" mode passthrough idle_ms abc
duet_pair_raw m_idlemax a "$(duet_ep a 20090)" b "$(duet_ep b 20091)" mode passthrough idle_ms 86400001
duet_pair_raw m_src a "$(duet_ep a 20092)" b "$(duet_ep b 20093)" mode passthrough a_src nonsense
duet_pair_raw m_expires a "$(duet_ep a 20094)" b "$(duet_ep b 20095)" mode passthrough expires soon
# SRTP keys: a passthrough relay must hold none; a keyed mode needs valid ones.
duet_pair_raw m_passkey a "$(duet_ep a 20098)" b "$(duet_ep b 20099)" mode passthrough \
	a_in "AES_CM_128_HMAC_SHA1_80 inline:$(head -c 30 /dev/urandom | base64 -w0)"
duet_pair_raw m_badkey a "$(duet_ep a 20098)" b "$(duet_ep b 20099)" mode verify \
	a_in "AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQta2V5" b_in "AEAD_AES_128_GCM inline:!!"
# Unknown fields are no reason to refuse.
duet_pair_raw ok_extra a "$(duet_ep a 20096)" b "$(duet_ep b 20097)" mode passthrough \
	note x future_field 1

declare -A why=(
	[m_mode]='mode' [m_verify]="^mode verify needs field a_in$" [m_nomode]='mode'
	[m_range]='range|port' [m_notsvc]='service|address' [m_used]='use|g1|taken|owned'
	[m_same]='same|use|twice|both' [m_nob]='\bb\b|missing|required' [m_emptyb]='\bb\b|empty|missing|required'
	[m_badep]='address|endpoint|\ba\b' [m_idle]='idle_ms' [m_idlemax]='idle_ms'
	[m_src]='a_src' [m_expires]='expires'
	[m_passkey]='^mode passthrough takes no field a_in' [m_badkey]='^field a_in: key \|\| salt has the wrong length'
)
for id in $(printf '%s\n' "${!why[@]}" | sort); do
	if duet_wait 5 duet_stat_is "$id" state rejected; then
		duet_check_match "$id rejected: reason says why" "${why[$id]}" "$(duet_stat "$id" reason)"
	else
		duet_not_ok "$id rejected" "state '$(duet_stat "$id" state)' reason '$(duet_stat "$id" reason)'"
	fi
done
duet_check "m_badkey: the reason never quotes the key" bash -c "! grep -q c2hvcnQta2V5 <<<'$(duet_stat m_badkey reason)'"
duet_check "ok_extra (unknown fields) accepted" duet_wait 5 duet_stat_is ok_extra state waiting
duet_check "log names a rejected pair" grep -q "pair m_mode rejected: " "$DUETD_LOG"
duet_check "relay counts the rejections" duet_wait 5 duet_relay_ge rejected $((rejected0 + ${#why[@]}))

duet_talk_wait g
duet_check_eq "g1 kept flowing: B got all $N" "$N 0" \
	"$(duet_json g-b 'd["recv"]["matched"]') $(duet_json g-b 'd["recv"]["missing_count"]')"
duet_check_eq "g1 kept flowing: A got all $N" "$N 0" \
	"$(duet_json g-a 'd["recv"]["matched"]') $(duet_json g-a 'd["recv"]["missing_count"]')"
duet_check_eq "g1 still active" active "$(duet_stat g1 state)"

# A refused record's endpoint is not live.
duet_listen ra "$NS_A" "$A"
duet_peer "$NS_B" send --bind "$B" --to "$(duet_ep b 20084)" --count 5 --rate 50 --tag m_range >/dev/null
duet_listen_end ra
duet_check_eq "m_range's b endpoint forwards nothing" 0 "$(duet_json ra 'd["recv"]["received"]')"
duet_check "and counts no_endpoint" duet_wait 3 duet_relay_ge drop_no_endpoint $((nend0 + 5))

# A valid put replaces the rejection.
duet_pair_put m_mode "$(duet_ep a 20082)" "$(duet_ep b 20083)"
duet_check "m_mode fixed: state waiting" duet_wait 5 duet_stat_is m_mode state waiting
duet_check "latch m_mode" duet_latch m_mode "$DUET_A_IP:40082" "$(duet_ep a 20082)" "$DUET_B_IP:40082" "$(duet_ep b 20083)"
duet_peer_bg rm "$NS_B" recv --bind "$DUET_B_IP:40082" --count 10 --timeout 20 --tag fixed
duet_peer "$NS_A" send --bind "$DUET_A_IP:40082" --to "$(duet_ep a 20082)" --count 10 --rate 50 --tag fixed >/dev/null
duet_peer_wait rm
duet_check_eq "m_mode forwards after the fix" 10 "$(duet_json rm 'd["recv"]["matched"]')"

duet_check "no client address in duetd's log" \
	bash -c "! grep -E '192\.0\.2\.1[01]|198\.51\.100\.1[01]' '$DUETD_LOG'"
duet_check_stop TERM
