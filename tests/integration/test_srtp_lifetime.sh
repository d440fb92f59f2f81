#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_srtp_lifetime: SDES key lifetimes (RFC 4568 "|LIFETIME") enforced by
# duetd, and the control plane's answer to an expired key, a rotation.
# duet-caller plays both phones (legs pinned, so no packet is lost to
# latching; no RTCP, so every packet is SRTP and the counts are exact).
#
# 1. A verify pair whose a_in says |16, created with duetctl from a keys
#    file (the record keeps the lifetime): A sends 30 packets, exactly 16
#    reach B, the other 14 are dropped and counted as srtp_key_expired
#    (relay heartbeat) and in the stats hash (a_in_expired 14, a_in_left 0),
#    none as srtp_auth; B's direction (b_in, no lifetime) is untouched.
# 2. The control plane rotates a_in (duetctl update --keys-file, |2^4 this
#    time): the stats hash shows the new key unused (a_in_left 16,
#    a_in_expired 0); packets under the old, used-up key during the 10 s
#    grace are refused as expired; 12 packets under the new key all reach B.
# 3. Rekey: the relay's b_out says |2^4: 16 of A's 20 packets reach B,
#    re-protected; b_out_expired 4, a_in (no lifetime) counted nothing.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
CALLER=${DUET_CALLER:-$DUET_BUILD_ROOT/app/duet-caller/duet-caller}
[[ -x $CALLER ]] || duet_bail "duet-caller not built: $CALLER (set DUET_BUILD_ROOT or DUET_CALLER)"
duet_start_all "port0.gateway=$DUET_A_IP" "port1.gateway=$DUET_B_IP"
duet_check_srtp_engine

A=$DUET_A_IP:43000
B=$DUET_B_IP:43000

# keys_of JSON: shell assignments K_AIN K_AOUT K_BIN K_BOUT from
# duet-caller's --gen-keys JSON; eval them.
keys_of() {
	python3 -c '
import json, shlex, sys
d = json.loads(sys.argv[1])
for var, f in (("K_AIN", "a_in"), ("K_AOUT", "a_out"), ("K_BIN", "b_in"), ("K_BOUT", "b_out")):
    print("%s=%s" % (var, shlex.quote(d.get(f, ""))))' "$1"
}
gen_keys() {
	eval "$(keys_of "$("$CALLER" --json --gen-keys "$1" --suite "$2")")"
}

# keys_file NAME FIELD VALUE ...: a duetctl keys file (never on a command line).
keys_file() {
	local f=$DUET_TMP/$1.keys
	shift
	: >"$f"
	chmod 600 "$f"
	while (($# >= 2)); do
		printf '%s %s\n' "$1" "$2" >>"$f"
		shift 2
	done
	echo "$f"
}

# call NAME [duet-caller options]: one bounded call through PAIR_A/PAIR_B,
# legs in NS_A/NS_B, no RTCP; report read into R_* (lib.sh).
call() {
	local name=$1
	shift
	"$CALLER" --json --a-netns "$NS_A" --b-netns "$NS_B" --a-bind "$A" --b-bind "$B" \
		--a-relay "$PAIR_A" --b-relay "$PAIR_B" --rate realtime --rtcp-interval-ms 0 \
		--drain-ms 500 --timeout 30 "$@" >"$DUET_TMP/$name.json" 2>"$DUET_TMP/$name.err"
	R_RC=$?
	duet_caller_report "$name"
	duet_diag "$name: exit $R_RC sent $R_SENT recv $R_RECV"
}

# relay_num FIELD: a relay heartbeat counter, 0 when absent.
relay_num() {
	local v
	v=$(duet_relay_stat "$1")
	echo "${v:-0}"
}

# fields ID FIELD...: "FIELD=VALUE ..." of the pair's stats hash.
fields() {
	local id=$1 f out=
	shift
	for f in "$@"; do
		out+="$f=$(duet_stat "$id" "$f") "
	done
	echo "${out% }"
}

# ---------------------------------------------------------------------------
# 1. a_in|16 in verify.
gen_keys verify AES_CM_128_HMAC_SHA1_80
KA1="$K_AIN|16" KB=$K_BIN
kf=$(keys_file life1 a_in "$KA1" b_in "$KB")
out=$(duet_ctl --json create --id life --a-ip "$DUET_RELAY_IP_A" --b-ip "$DUET_RELAY_IP_B" \
	--mode verify --keys-file "$kf" --a-src "$A" --b-src "$B") ||
	duet_bail "duetctl create life failed: $out"
PAIR_A=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["a"])' "$out")
PAIR_B=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["b"])' "$out")
duet_require "pair life loaded, verify" duet_wait 5 duet_stat_is life mode verify
stored=$(rcli HGET "$(duet_key pair:life)" a_in)
duet_check_eq "the record keeps a_in's lifetime as written" "|16" "|${stored##*|}"
duet_check "the stats hash shows a_in unused: a_in_left 16, a_in_expired 0" duet_wait 5 \
	bash -c "[[ \$(redis-cli -s '$DUET_REDIS_SOCK' HMGET '$(duet_key stats:life)' a_in_left a_in_expired | tr '\n' ' ') == '16 0 ' ]]"
duet_check_eq "b_in has no lifetime: RFC 3711's SRTCP maximum left, nothing expired" \
	"b_in_left=2147483648 b_in_expired=0" "$(fields life b_in_left b_in_expired)"
exp0=$(relay_num drop_srtp_key_expired) auth0=$(relay_num drop_srtp_auth)

call life1 --a-key-out "$KA1" --a-key-in "$KB" --b-key-out "$KB" --b-key-in "$KA1" --packets 30
duet_check_eq "A sent 30, B sent 30" "30/30" "$R_SENT"
duet_check_eq "exactly 16 of A's packets reached B; all of B's reached A" "16/30" "$R_RECV"
duet_wait 5 duet_stat_is life a_in_expired 14
duet_settle
duet_check_eq "stats hash: 16 forwarded from a, 14 refused under a_in, a_in used up" \
	"a_pkts=16 a_in_expired=14 a_in_left=0 a_drop_auth=0 a_drop_replay=0" \
	"$(fields life a_pkts a_in_expired a_in_left a_drop_auth a_drop_replay)"
duet_check_eq "stats hash: b's direction untouched" "b_pkts=30 b_in_expired=0" \
	"$(fields life b_pkts b_in_expired)"
duet_check_eq "relay: 14 more drop_srtp_key_expired, no srtp_auth" "14 0" \
	"$(($(relay_num drop_srtp_key_expired) - exp0)) $(($(relay_num drop_srtp_auth) - auth0))"
duet_check_match "duetctl drops explains srtp_key_expired" 'drop_srtp_key_expired +.*lifetime' \
	"$(duet_ctl drops 2>&1)"

# ---------------------------------------------------------------------------
# 2. The control plane rotates a_in.
gen_keys verify AES_CM_128_HMAC_SHA1_32
KA2="$K_AIN|2^4"
kf=$(keys_file life2 a_in "$KA2")
duet_check "duetctl update life --keys-file: a new a_in" duet_quiet duet_ctl update life --keys-file "$kf"
duet_check "after the rotation the stats hash shows the new key: a_in_left 16, a_in_expired 0" \
	duet_wait 5 bash -c "[[ \$(redis-cli -s '$DUET_REDIS_SOCK' HMGET '$(duet_key stats:life)' a_in_left a_in_expired | tr '\n' ' ') == '16 0 ' ]]"
created=$(duet_stat life created_ms)
pkts1=$(duet_stat life a_pkts) exp1=$(relay_num drop_srtp_key_expired)

# The old key, used up, inside its 10 s grace: still refused as expired.
call life-old --a-key-out "$KA1" --a-key-in "$KB" --b-key-out "$KB" --b-key-in "$KA1" --packets 5
duet_check_eq "old key in the grace, past its lifetime: nothing of A's reaches B" "0/5" "$R_RECV"
call life2 --a-key-out "$KA2" --a-key-in "$KB" --b-key-out "$KB" --b-key-in "$KA2" --packets 12
duet_check_eq "new key: every packet each way (12/12)" "12/12" "$R_RECV"
duet_settle
duet_check_eq "stats hash: 12 more forwarded from a, the new key used 12 of 16, none expired" \
	"a_pkts=$((pkts1 + 12)) a_in_left=4 a_in_expired=0 a_drop_auth=0" \
	"$(fields life a_pkts a_in_left a_in_expired a_drop_auth)"
duet_check_eq "relay: the old key's 5 counted as srtp_key_expired" 5 \
	"$(($(relay_num drop_srtp_key_expired) - exp1))"
duet_check_eq "the rotation kept the pair (same created_ms, state active)" "$created active" \
	"$(duet_stat life created_ms) $(duet_stat life state)"

# ---------------------------------------------------------------------------
# 3. Rekey: b_out, the relay's key toward B, says |2^4.
gen_keys rekey AEAD_AES_128_GCM
RA=$K_AIN RAO=$K_AOUT RB=$K_BIN RBO="$K_BOUT|2^4"
kf=$(keys_file rk a_in "$RA" a_out "$RAO" b_in "$RB" b_out "$RBO")
A=$DUET_A_IP:43010 B=$DUET_B_IP:43010
out=$(duet_ctl --json create --id rk --a-ip "$DUET_RELAY_IP_A" --b-ip "$DUET_RELAY_IP_B" \
	--mode rekey --keys-file "$kf" --a-src "$A" --b-src "$B") ||
	duet_bail "duetctl create rk failed: $out"
PAIR_A=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["a"])' "$out")
PAIR_B=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["b"])' "$out")
duet_require "pair rk loaded, rekey" duet_wait 5 duet_stat_is rk mode rekey
exp2=$(relay_num drop_srtp_key_expired)
call rk --a-key-out "$RA" --a-key-in "$RAO" --b-key-out "$RB" --b-key-in "$RBO" --packets 20
duet_check_eq "rekey: 16 of A's packets re-protected for B, all of B's for A" "16/20" "$R_RECV"
duet_wait 5 duet_stat_is rk b_out_expired 4
duet_settle
duet_check_eq "rekey stats hash: b_out used up and 4 refused; a_in only counted" \
	"a_pkts=16 b_out_left=0 b_out_expired=4 a_in_expired=0 a_drop_auth=0" \
	"$(fields rk a_pkts b_out_left b_out_expired a_in_expired a_drop_auth)"
duet_check_eq "relay: 4 more drop_srtp_key_expired" 4 "$(($(relay_num drop_srtp_key_expired) - exp2))"

duet_check_srtp_batches
duet_check_stop TERM
