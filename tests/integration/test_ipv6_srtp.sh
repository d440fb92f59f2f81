#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_ipv6_srtp: Opus over SRTP through duetd over IPv6 and across the
# families (issue 14), played by duet-caller (both legs in one process, leg
# a in A's namespace, leg b in B's, so the audio check compares what each
# side decodes with what the other sent, sample for sample). The lab runs
# in DUET_FAMILY=dual: each port has its IPv4 and its IPv6 service address,
# each client both families, and each client is its port's gateway and
# gateway6 (duetd resolves them by ARP and by its own neighbour
# solicitation), so pinned legs are reachable before they speak.
#
# 1. IPv6 pairs (both legs on [2001:db8:x::1]:P, clients [2001:db8:x::10]:P)
#    in passthrough, verify and rekey, AES_CM_128_HMAC_SHA1_80, and rekey
#    with AEAD_AES_256_GCM: 100 packets each way in realtime with SRTCP,
#    audio pass, nothing lost, no SRTP failure at either caller; duetd
#    counted every packet each leg sent (RTP + SRTCP), no auth or replay
#    drop.
# 2. Bridged pairs, leg a on IPv4 (192.0.2.1), leg b on IPv6
#    (2001:db8:b::1), in the three modes; and leg a on IPv6, leg b on IPv4
#    in verify and rekey: the same checks.
# The relay hash shows no SRTP drop and no no_headroom drop at the end.
set -u
export DUET_FAMILY=dual
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
CALLER=${DUET_CALLER:-$DUET_BUILD_ROOT/app/duet-caller/duet-caller}
[[ -x $CALLER ]] || duet_bail "duet-caller not built: $CALLER (set DUET_BUILD_ROOT or DUET_CALLER)"
duet_need_bins duetctl
duet_start_all "port0.gateway=$DUET_A_IP4" "port1.gateway=$DUET_B_IP4" \
	"port0.gateway6=$DUET_A_IP6" "port1.gateway6=$DUET_B_IP6" security.max_pps=0 security.max_kbps=0
duet_check_srtp_engine
duet_check "duetd resolved both IPv6 gateways by neighbour discovery (nd_learned >= 2)" \
	duet_wait 10 duet_relay_ge nd_learned 2

GOOD=$DUET_CALLER_GOOD
N=100

# keys_of JSON: shell assignments K_AIN K_AOUT K_BIN K_BOUT and PAIR_A,
# PAIR_B from duetctl's JSON; eval them.
keys_of() {
	python3 -c '
import json, shlex, sys
d = json.loads(sys.argv[1])
for var, f in (("PAIR_A", "a"), ("PAIR_B", "b"), ("K_AIN", "a_in"), ("K_AOUT", "a_out"),
               ("K_BIN", "b_in"), ("K_BOUT", "b_out")):
    print("%s=%s" % (var, shlex.quote(d.get(f, ""))))' "$1"
}

# create ID MODE SUITE A_RELAY_IP B_RELAY_IP A_CLIENT B_CLIENT: the pair,
# through duetctl, legs pinned to the clients; KEYARGS gets duet-caller's
# key options (passthrough: the callers' own end-to-end keys).
create() {
	local id=$1 mode=$2 suite=$3 arelay=$4 brelay=$5 ca=$6 cb=$7 out gen
	out=$(duet_ctl --json create --id "$id" --a-ip "$arelay" --b-ip "$brelay" --mode "$mode" \
		--suite "$suite" --a-src "$ca" --b-src "$cb") || {
		duet_not_ok "$id: duetctl create --a-ip $arelay --b-ip $brelay --mode $mode" "$out"
		return 1
	}
	eval "$(keys_of "$out")"
	case $mode in
	passthrough)
		gen=$("$CALLER" --gen-keys passthrough --suite "$suite" --json)
		K_AIN=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["a_in"])' "$gen")
		K_BIN=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["b_in"])' "$gen")
		KEYARGS=(--a-key-out "$K_AIN" --a-key-in "$K_BIN" --b-key-out "$K_BIN" --b-key-in "$K_AIN") ;;
	verify) KEYARGS=(--a-key-out "$K_AIN" --a-key-in "$K_BIN" --b-key-out "$K_BIN" --b-key-in "$K_AIN") ;;
	rekey) KEYARGS=(--a-key-out "$K_AIN" --a-key-in "$K_AOUT" --b-key-out "$K_BIN" --b-key-in "$K_BOUT") ;;
	esac
	if ! duet_wait 5 duet_stat_is "$id" mode "$mode"; then
		duet_not_ok "$id: duetd loaded the pair" "$(rcli HGETALL "$(duet_key "stats:$id")" | tr '\n' ' ')"
		return 1
	fi
	duet_diag "$id: a=$PAIR_A b=$PAIR_B mode=$mode suite=$suite"
}

# call_bg NAME A_BIND B_BIND [duet-caller options]; call_wait NAME reads
# the report into R_* (duet_caller_report). Bounded by --timeout.
declare -A CALL_PID=()
call_bg() {
	local name=$1 abind=$2 bbind=$3
	shift 3
	"$CALLER" --json --a-netns "$NS_A" --b-netns "$NS_B" --a-bind "$abind" --b-bind "$bbind" \
		--a-relay "$PAIR_A" --b-relay "$PAIR_B" --timeout 30 "$@" \
		>"$DUET_TMP/$name.json" 2>"$DUET_TMP/$name.err" &
	CALL_PID[$name]=$!
	DUET_BG_PIDS+=($!)
}
call_wait() {
	wait "${CALL_PID[$1]}"
	R_RC=$?
	[[ $R_RC == 0 ]] || duet_diag "$1: duet-caller exited $R_RC: $(head -c 300 "$DUET_TMP/$1.err")"
	duet_caller_report "$1"
}

pair_line() {
	local f out=
	for f in a_pkts b_pkts a_drop_auth b_drop_auth a_drop_replay b_drop_replay; do
		out+="$f=$(duet_stat "$1" "$f") "
	done
	echo "${out% }"
}
expect_pair() {
	duet_wait 5 duet_stat_ge "$1" b_pkts "$3"
	duet_wait 2 duet_stat_ge "$1" a_pkts "$2"
	duet_check_eq "$4" "a_pkts=$2 b_pkts=$3 a_drop_auth=0 b_drop_auth=0 a_drop_replay=0 b_drop_replay=0" \
		"$(pair_line "$1")"
}

# run_calls SPEC...: each SPEC "ID MODE SUITE AFAM BFAM K" makes a pair
# with leg a on side A's relay address of family AFAM (4 or 6), leg b on
# B's of BFAM, clients on port 41000+K of that family; all calls run at
# once, then each is checked.
run_calls() {
	local spec id mode suite af bf k arelay brelay ca cb
	local -a ids=() descs=()
	for spec in "$@"; do
		read -r id mode suite af bf k <<<"$spec"
		if [[ $af == 6 ]]; then
			arelay=$DUET_RELAY_IP6_A ca=$(duet_hostport "$DUET_A_IP6" $((41000 + k)))
		else
			arelay=$DUET_RELAY_IP4_A ca=$(duet_hostport "$DUET_A_IP4" $((41000 + k)))
		fi
		if [[ $bf == 6 ]]; then
			brelay=$DUET_RELAY_IP6_B cb=$(duet_hostport "$DUET_B_IP6" $((41000 + k)))
		else
			brelay=$DUET_RELAY_IP4_B cb=$(duet_hostport "$DUET_B_IP4" $((41000 + k)))
		fi
		create "$id" "$mode" "$suite" "$arelay" "$brelay" "$ca" "$cb" || continue
		call_bg "$id" "$ca" "$cb" "${KEYARGS[@]}" --suite "$suite" --packets $N --rate realtime \
			--rtcp-interval-ms 400
		ids+=("$id")
		descs+=("$mode $suite, leg a IPv$af, leg b IPv$bf")
	done
	for k in "${!ids[@]}"; do
		id=${ids[k]}
		call_wait "$id"
		duet_check_eq "${descs[k]}: $N packets each way, audio pass, nothing lost ($R_SAMPLES samples)" \
			"exit=0 sent=$N/$N $GOOD" "exit=$R_RC sent=$R_SENT $R_OUTCOME"
		duet_check_eq "${descs[k]}: every SRTCP report through" "$R_RTCP_SENT" "$R_RTCP_RECV"
		expect_pair "$id" "$R_PKTS_A" "$R_PKTS_B" \
			"${descs[k]}: duetd counted every packet (RTP + SRTCP), no auth/replay drop"
	done
}

# 1. IPv6 on both legs.
run_calls "v6-pass passthrough AES_CM_128_HMAC_SHA1_80 6 6 1" \
	"v6-verify verify AES_CM_128_HMAC_SHA1_80 6 6 2" \
	"v6-rekey rekey AES_CM_128_HMAC_SHA1_80 6 6 3" \
	"v6-rekey-gcm rekey AEAD_AES_256_GCM 6 6 4"

# 2. Across the families.
run_calls "br-pass passthrough AES_CM_128_HMAC_SHA1_80 4 6 11" \
	"br-verify verify AES_CM_128_HMAC_SHA1_80 4 6 12" \
	"br-rekey rekey AES_CM_128_HMAC_SHA1_80 4 6 13" \
	"rb-verify verify AEAD_AES_128_GCM 6 4 14" \
	"rb-rekey rekey AES_CM_128_HMAC_SHA1_32 6 4 15"

duet_settle
duet_check_eq "relay: no srtp_auth, srtp_replay, srtp_bad or no_headroom drop" "0 0 0 0" \
	"$(duet_relay_stat drop_srtp_auth) $(duet_relay_stat drop_srtp_replay) $(duet_relay_stat drop_srtp_bad) $(duet_relay_stat drop_no_headroom)"
duet_check_srtp_batches
duet_check_stop TERM
