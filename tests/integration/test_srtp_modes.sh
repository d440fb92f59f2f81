#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_srtp_modes: Opus over SRTP through duetd in every mode and suite,
# played by duet-caller (both legs in one process, legs in the A and B
# namespaces, so the audio check compares what B decodes with what A sent,
# sample for sample). For each pair duetd's own counters must show every
# packet (RTP and SRTCP) and no auth or replay drop.
#
# 1. passthrough, verify and rekey x the four suites: 100 packets each way
#    in realtime (the four suites of a mode at once), audio "pass", nothing
#    lost; a_pkts/b_pkts equal what each leg sent (RTP and SRTCP).
# 2. rekey with four different suites on the four keys (A sends AES-CM-80
#    and hears AES-CM-32, B sends GCM-256 and hears GCM-128), with SRTCP
#    reports both ways.
# 3. ROC rollover: sequence numbers from 65000, 2000 packets each way at
#    --rate max in verify and rekey: one wrap, audio pass, no relay drop.
# 4. Key rotation on a live verify pair: the control plane rewrites a_in and
#    b_in (HSET + XADD put) while a call with the old keys is running. The
#    pair stays (same creation time, latches and counters, no ended entry);
#    the running call, still on the old keys, keeps passing (the 10 s grace);
#    a call with the new keys from the same addresses passes with no
#    re-latch; after the grace (6.) the old keys get nothing through.
# 5. The phones switch keys mid-call (duet-caller --rotate-after) after the
#    control plane rotated them, to another suite, in verify (a_in and b_in)
#    and rekey (all four keys): nothing lost across the switch, every SRTCP
#    report through, no drop at the relay.
#
# Legs a and b of the pairs in 1-3 are pinned to the callers' addresses, so
# no packet is lost to latching (next hops known: each client is its port's
# gateway). The pairs of 4 and 5 latch as a control plane's would.
#
# The receivers only ever see relay addresses: duet-caller's sockets are
# connected to their relay endpoints, so nothing else is read;
# test_forward and test_srtp_attacks check the sources with udp_peer.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
CALLER=${DUET_CALLER:-$DUET_BUILD_ROOT/app/duet-caller/duet-caller}
[[ -x $CALLER ]] || duet_bail "duet-caller not built: $CALLER (set DUET_BUILD_ROOT or DUET_CALLER)"
# The ROC runs send 2000 packets each way as fast as they can: no policer
# here (abuse_flood tests it).
duet_start_all "port0.gateway=$DUET_A_IP" "port1.gateway=$DUET_B_IP" security.max_pps=0 \
	security.max_kbps=0
duet_check_srtp_engine

SUITES=(AES_CM_128_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_32 AEAD_AES_128_GCM AEAD_AES_256_GCM)
A=$DUET_A_IP:40000
B=$DUET_B_IP:40000
T0=$SECONDS

# keys_of JSON: shell assignments K_AIN K_AOUT K_BIN K_BOUT (and PAIR_A,
# PAIR_B when given) from duetctl's or duet-caller's JSON; eval them.
keys_of() {
	python3 -c '
import json, shlex, sys
d = json.loads(sys.argv[1])
for var, f in (("PAIR_A", "a"), ("PAIR_B", "b"), ("K_AIN", "a_in"), ("K_AOUT", "a_out"),
               ("K_BIN", "b_in"), ("K_BOUT", "b_out")):
    if f in d or var.startswith("K_"):
        print("%s=%s" % (var, shlex.quote(d.get(f, ""))))' "$1"
}

# create ID MODE [duetctl create options]: the pair, through duetctl as a
# control plane would; K_* get its keys, PAIR_A/PAIR_B its endpoints, and
# KEYARGS duet-caller's key options for them (verify: end to end, b opens
# what a sends with a_in; rekey: each leg opens with its own out key).
create() {
	local id=$1 mode=$2 out
	shift 2
	out=$(duet_ctl --json create --id "$id" --a-ip "$DUET_RELAY_IP_A" --b-ip "$DUET_RELAY_IP_B" \
		--mode "$mode" "$@") || duet_bail "duetctl create $id failed: $out"
	eval "$(keys_of "$out")"
	keyargs "$mode"
	duet_wait 5 duet_stat_is "$id" mode "$mode" ||
		duet_bail "duetd did not load pair $id: $(rcli HGETALL "$(duet_key "stats:$id")" | tr '\n' ' ')"
}

keyargs() {
	case $1 in
	verify) KEYARGS=(--a-key-out "$K_AIN" --a-key-in "$K_BIN" --b-key-out "$K_BIN" --b-key-in "$K_AIN") ;;
	rekey) KEYARGS=(--a-key-out "$K_AIN" --a-key-in "$K_AOUT" --b-key-out "$K_BIN" --b-key-in "$K_BOUT") ;;
	*) KEYARGS=() ;;
	esac
}

# call NAME A_BIND B_BIND [duet-caller options]: one call through
# PAIR_A/PAIR_B, legs in NS_A/NS_B, report in $DUET_TMP/NAME.json, read
# into R_* (see duet_caller_report in lib.sh). call_bg starts it in the background, call_wait
# ends it and reads the report. Always bounded by --timeout.
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
call() {
	call_bg "$@"
	call_wait "$1"
}

GOOD=$DUET_CALLER_GOOD

# pair_line ID: duetd's per-pair counters, one line.
pair_line() {
	local f out=
	for f in a_pkts b_pkts a_drop_auth b_drop_auth a_drop_replay b_drop_replay; do
		out+="$f=$(duet_stat "$1" "$f") "
	done
	echo "${out% }"
}

# expect_pair ID A_PKTS B_PKTS DESC: wait for duetd to publish those counts;
# then they must be exactly that, with no auth or replay drop.
expect_pair() {
	duet_wait 5 duet_stat_ge "$1" b_pkts "$3"
	duet_wait 2 duet_stat_ge "$1" a_pkts "$2"
	duet_check_eq "$4" "a_pkts=$2 b_pkts=$3 a_drop_auth=0 b_drop_auth=0 a_drop_replay=0 b_drop_replay=0" \
		"$(pair_line "$1")"
}

# gen_keys MODE SUITE: duet-caller's random relay keys into K_*.
gen_keys() {
	eval "$(keys_of "$("$CALLER" --json --gen-keys "$1" --suite "$2")")"
}

# ---------------------------------------------------------------------------
# 1. Every mode x every suite; per mode the four suites' calls run at once,
# each on its own pair and client ports.
N=100
for mode in passthrough verify rekey; do
	ids=()
	for k in "${!SUITES[@]}"; do
		suite=${SUITES[k]}
		id=m-$mode-${suite,,}
		id=${id//_/-}
		ids+=("$id")
		ca=$DUET_A_IP:$((40100 + k)) cb=$DUET_B_IP:$((40100 + k))
		if [[ $mode == passthrough ]]; then
			create "$id" passthrough --a-src "$ca" --b-src "$cb"
		else
			create "$id" "$mode" --suite "$suite" --a-src "$ca" --b-src "$cb"
		fi
		# passthrough: the callers make their own end-to-end keys of the suite.
		call_bg "$id" "$ca" "$cb" "${KEYARGS[@]}" --suite "$suite" --packets $N --rate realtime
	done
	for k in "${!SUITES[@]}"; do
		suite=${SUITES[k]} id=${ids[k]}
		call_wait "$id"
		duet_check_eq "$mode $suite: $N packets each way, audio pass, nothing lost ($R_SAMPLES samples compared)" \
			"exit=0 sent=$N/$N suite=$suite $GOOD" "exit=$R_RC sent=$R_SENT suite=$R_SUITE $R_OUTCOME"
		expect_pair "$id" "$R_PKTS_A" "$R_PKTS_B" \
			"$mode $suite: duetd counted every packet (RTP + SRTCP), no auth/replay drop"
	done
done
duet_diag "mode x suite matrix: $((SECONDS - T0)) s"

# ---------------------------------------------------------------------------
# 2. rekey with a different suite on every key.
gen_keys rekey AES_CM_128_HMAC_SHA1_80
ain=$K_AIN
gen_keys rekey AES_CM_128_HMAC_SHA1_32
aout=$K_AOUT
gen_keys rekey AEAD_AES_256_GCM
bin=$K_BIN
gen_keys rekey AEAD_AES_128_GCM
create mixed rekey --a-in "$ain" --a-out "$aout" --b-in "$bin" --b-out "$K_BOUT" \
	--a-src "$A" --b-src "$B"
duet_check_eq "mixed-suite record stored as given" \
	"AES_CM_128_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_32 AEAD_AES_256_GCM AEAD_AES_128_GCM" \
	"$(rcli HMGET "$(duet_key pair:mixed)" a_in a_out b_in b_out | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//')"
call mixed "$A" "$B" "${KEYARGS[@]}" --packets 100 --rate realtime --rtcp-interval-ms 400
duet_check_eq "rekey CM-80/CM-32 <-> GCM-256/GCM-128: audio pass, nothing lost, all SRTCP through" \
	"exit=0 rtcp=$R_RTCP_SENT $GOOD" "exit=$R_RC rtcp=$R_RTCP_RECV $R_OUTCOME"
expect_pair mixed "$R_PKTS_A" "$R_PKTS_B" "rekey mixed suites: duetd counted every packet, no auth/replay drop"

# ---------------------------------------------------------------------------
# 3. ROC rollover: 65000 + 2000 crosses the 16-bit wrap; the relay's
# sessions (and in rekey its outbound one) must follow the ROC.
for mode in verify rekey; do
	for suite in AES_CM_128_HMAC_SHA1_80 AEAD_AES_256_GCM; do
		id=roc-$mode-${suite:0:6}
		id=${id//_/-}
		create "$id" "$mode" --suite "$suite" --a-src "$A" --b-src "$B"
		auth0=$(duet_relay_stat drop_srtp_auth) replay0=$(duet_relay_stat drop_srtp_replay)
		call "$id" "$A" "$B" "${KEYARGS[@]}" --seq-start 65000 --packets 2000 --rate max
		duet_check_eq "ROC $mode $suite: seq 65000 + 2000 each way, one wrap, audio pass, nothing lost" \
			"exit=0 sent=2000/2000 wraps=1/1 $GOOD" "exit=$R_RC sent=$R_SENT wraps=$R_WRAPS $R_OUTCOME"
		expect_pair "$id" "$R_PKTS_A" "$R_PKTS_B" \
			"ROC $mode $suite: duetd forwarded every packet across the wrap, no auth/replay drop"
		duet_check_eq "ROC $mode $suite: relay srtp_auth/srtp_replay unchanged" "$auth0 $replay0" \
			"$(duet_relay_stat drop_srtp_auth) $(duet_relay_stat drop_srtp_replay)"
	done
done
duet_diag "up to ROC: $((SECONDS - T0)) s"

# ---------------------------------------------------------------------------
# 4. Key rotation on a live, latched verify pair.

# call_running NAME ID A_BIND B_BIND [options]: call_bg, then wait until
# duetd has counted 20 of its packets from A, so what follows happens
# while it runs.
call_running() {
	local name=$1 id=$2 base
	shift 2
	base=$(duet_stat "$id" a_pkts)
	call_bg "$name" "$@"
	duet_wait 10 duet_stat_ge "$id" a_pkts $((base + 20)) ||
		duet_diag "$name: duetd did not see its packets within 10 s"
}

# rotate ID MODE: write K_* into the pair (HSET, then XADD put).
rotate() {
	if [[ $2 == rekey ]]; then
		rcli HSET "$(duet_key "pair:$1")" a_in "$K_AIN" a_out "$K_AOUT" b_in "$K_BIN" \
			b_out "$K_BOUT" >/dev/null
	else
		rcli HSET "$(duet_key "pair:$1")" a_in "$K_AIN" b_in "$K_BIN" >/dev/null
	fi
	duet_event put "$1"
}

RA=$DUET_A_IP:40010
RB=$DUET_B_IP:40010
create rot verify
ROT_A=$PAIR_A ROT_B=$PAIR_B
OLD=("${KEYARGS[@]}")
# Latch both legs the usual way: a short call (its first packets from A
# meet an unlatched leg b and are dropped; that is latching, not the test).
call rot-latch "$RA" "$RB" "${OLD[@]}" --packets 10 --rate realtime --drain-ms 300
duet_require "rotation pair latched by a first call" duet_wait 3 duet_stat_is rot state active
created=$(duet_stat rot created_ms)
pkts0=$(duet_stat rot a_pkts) pkts_b0=$(duet_stat rot b_pkts)

# A 4 s call on the old keys; the keys change about 0.5 s into it.
call_running rot-old rot "$RA" "$RB" "${OLD[@]}" --duration 4 --rate realtime
pkts_at=$(duet_stat rot a_pkts)
gen_keys verify AES_CM_128_HMAC_SHA1_80
rotate rot verify
rotated=$SECONDS
keyargs verify
NEW=("${KEYARGS[@]}")
call_wait rot-old
duet_check_eq "call on the old keys, running across the rotation (10 s grace): audio pass, nothing lost" \
	"exit=0 $GOOD" "exit=$R_RC $R_OUTCOME"
duet_check "old-key call sent 4 s of audio (got $R_SENT)" test "${R_SENT%/*}" -ge 160
expect_pair rot $((pkts0 + R_PKTS_A)) $((pkts_b0 + R_PKTS_B)) \
	"rotation: counters kept counting (from $pkts0, $pkts_at at the rotation), no drop"
duet_check_eq "rotated pair kept: state active, same created_ms, no ended entry" \
	"active $created ''" "$(duet_stat rot state) $(duet_stat rot created_ms) '$(duet_ended rot reason)'"

# The new keys from the same addresses: still latched, so nothing is lost
# from the first packet on.
pkts_mid=$(duet_stat rot a_pkts) pkts_b_mid=$(duet_stat rot b_pkts)
call rot-new "$RA" "$RB" "${NEW[@]}" --packets 100 --rate realtime
duet_check_eq "call with the new keys, same addresses: audio pass, nothing lost" \
	"exit=0 sent=100/100 $GOOD" "exit=$R_RC sent=$R_SENT $R_OUTCOME"
expect_pair rot $((pkts_mid + R_PKTS_A)) $((pkts_b_mid + R_PKTS_B)) \
	"new-key call: counters continue (no reset), no auth/replay drop"

# ---------------------------------------------------------------------------
# 5. The phones move to the new keys in the middle of a call (duet-caller
# --rotate-after): keys rotated in Redis about 0.4 s into a 4 s call, each
# leg switches at its packet 125 (2.5 s), the receivers take both keys.
# Nothing may be lost across the switch, SRTCP included: old-key SRTCP
# sent between the rotation and the switch is inside the grace.
# live NAME MODE SUITE1 SUITE2 PORT: the whole run on a fresh pair.
live() {
	local name=$1 mode=$2 s1=$3 s2=$4 port=$5 a0 b0 want_rx x
	local LA=$DUET_A_IP:$port LB=$DUET_B_IP:$port
	local -a old
	create "$name" "$mode" --suite "$s1"
	old=("${KEYARGS[@]}")
	call "$name-latch" "$LA" "$LB" "${old[@]}" --packets 10 --rate realtime --drain-ms 300
	duet_require "$name: pair latched by a first call" duet_wait 3 duet_stat_is "$name" state active
	a0=$(duet_stat "$name" a_pkts) b0=$(duet_stat "$name" b_pkts)
	gen_keys "$mode" "$s2"
	keyargs "$mode"
	# The same options for the second keys: --a-key-out2 ...
	local -a new=()
	for x in "${KEYARGS[@]}"; do
		[[ $x == --?-key-* ]] && x+=2
		new+=("$x")
	done
	call_running "$name" "$name" "$LA" "$LB" "${old[@]}" "${new[@]}" \
		--rotate-after 125 --packets 200 --rate realtime --rtcp-interval-ms 250
	rotate "$name" "$mode"
	call_wait "$name"
	# verify: what a leg opens with its second key is exactly what the
	# other sent with its second key. rekey: the relay re-protects with the
	# new a_out/b_out from the rotation on, before the phones switch.
	want_rx=75/75
	[[ $mode == rekey ]] && want_rx=more
	[[ $mode == rekey && $R_KEY2_RECV =~ ^([0-9]+)/([0-9]+)$ ]] &&
		((BASH_REMATCH[1] > 75 && BASH_REMATCH[1] < 200 && BASH_REMATCH[2] > 75 &&
			BASH_REMATCH[2] < 200)) && R_KEY2_RECV=more
	duet_check_eq "$mode $s1 -> $s2, keys switched mid-call: audio pass, nothing lost" \
		"exit=0 sent_key2=75/75 received_key2=$want_rx $GOOD" \
		"exit=$R_RC sent_key2=$R_KEY2_SENT received_key2=$R_KEY2_RECV $R_OUTCOME"
	duet_wait 5 duet_stat_ge "$name" b_pkts $((b0 + R_PKTS_B))
	duet_check_eq "$mode $s1 -> $s2: every SRTCP report arrived, duetd forwarded all, dropped none" \
		"rtcp=$R_RTCP_SENT $(pair_line_want $((a0 + R_PKTS_A)) $((b0 + R_PKTS_B)))" \
		"rtcp=$R_RTCP_RECV $(pair_line "$name")"
}
pair_line_want() {
	echo "a_pkts=$1 b_pkts=$2 a_drop_auth=0 b_drop_auth=0 a_drop_replay=0 b_drop_replay=0"
}
live live-v verify AEAD_AES_128_GCM AES_CM_128_HMAC_SHA1_80 40020
live live-r rekey AES_CM_128_HMAC_SHA1_32 AEAD_AES_256_GCM 40030

# ---------------------------------------------------------------------------
# 6. Back to the pair of 4: after the grace the old keys are refused, both
# legs' packets dropped as auth.
wait_s=$((rotated + 11 - SECONDS))
((wait_s > 0)) && sleep "$wait_s"
PAIR_A=$ROT_A PAIR_B=$ROT_B
auth_a0=$(duet_stat rot a_drop_auth) auth_b0=$(duet_stat rot b_drop_auth)
call rot-stale "$RA" "$RB" "${OLD[@]}" --packets 25 --rate realtime --drain-ms 300
duet_check_eq "old keys 11 s after the rotation: nothing gets through (exit 1)" \
	"exit=1 missing=25/25" "exit=$R_RC $(echo "$R_OUTCOME" | grep -o 'missing=[0-9/]*')"
want_a=$((auth_a0 + R_PKTS_A)) want_b=$((auth_b0 + R_PKTS_B))
duet_wait 5 duet_stat_ge rot b_drop_auth "$want_b"
duet_check_eq "old keys after the grace: every packet counted in a_drop_auth/b_drop_auth" \
	"$want_a $want_b" "$(duet_stat rot a_drop_auth) $(duet_stat rot b_drop_auth)"
duet_diag "total: $((SECONDS - T0)) s"

duet_check_srtp_batches
duet_check_stop TERM
