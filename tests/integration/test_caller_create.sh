#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_caller_create: `duet-caller --create` as docs/duet-caller.md shows it
# (--redis ADDR --relay R --create --mode M --suite S), through the real
# duetd, in every mode and suite. duet-caller writes the pair with
# pair_create.lua, duetd loads it from the events stream, and one call
# (both legs, in A's and B's namespaces) runs through the endpoints Redis
# handed out, with the audio check (the legs are bound to given ports, so
# duet-caller pins them and no first packet is lost to an unlatched
# peer). Each record must carry exactly the key fields its mode takes (the words of lib/contract/duet_record.h): before
# that module, passthrough and verify records carried keys duetd refuses,
# so those calls were dropped as no_endpoint.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
CALLER=${DUET_CALLER:-$DUET_BUILD_ROOT/app/duet-caller/duet-caller}
[[ -x $CALLER ]] || duet_bail "duet-caller not built: $CALLER (set DUET_BUILD_ROOT or DUET_CALLER)"
# Both gateways point at the clients, so a leg is reachable before it spoke.
duet_start_all "port0.gateway=$DUET_A_IP" "port1.gateway=$DUET_B_IP"
duet_check_srtp_engine

want_fields() { # MODE: the record's fields, sorted, as HKEYS gives them
	# (a_src/b_src: duet-caller pins legs bound to a given address and port)
	case $1 in
	passthrough) echo "a a_src b b_src mode" ;;
	verify) echo "a a_in a_src b b_in b_src mode" ;;
	rekey) echo "a a_in a_out a_src b b_in b_out b_src mode" ;;
	esac
}

n=0
for mode in passthrough verify rekey; do
	for suite in AES_CM_128_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_32 AEAD_AES_128_GCM AEAD_AES_256_GCM; do
		n=$((n + 1))
		name=$mode-$suite
		prefix=cc$n
		rej0=$(rcli HGET "$(duet_key relay)" rejected)
		# Leg a's endpoint on the relay address that faces A, b's on B's.
		"$CALLER" --json --redis "unix:$DUET_REDIS_SOCK" --relay "$RELAY_ID" --create \
			--id-prefix "$prefix" --mode "$mode" --suite "$suite" \
			--a-ip "$DUET_RELAY_IP_A" --b-ip "$DUET_RELAY_IP_B" \
			--a-netns "$NS_A" --b-netns "$NS_B" \
			--a-bind "$DUET_A_IP:$((41000 + n))" --b-bind "$DUET_B_IP:$((51000 + n))" \
			--duration 2 --timeout 30 --require-audio-check \
			>"$DUET_TMP/$name.json" 2>"$DUET_TMP/$name.err" &
		pid=$!
		DUET_BG_PIDS+=("$pid")
		fields=
		for _ in $(seq 50); do
			fields=$(rcli HKEYS "$(duet_key pair:"$prefix"-0)" | LC_ALL=C sort | xargs)
			[[ -n $fields ]] && break
			sleep 0.1
		done
		duet_check_eq "$name: the record carries the keys $mode takes" "$(want_fields "$mode")" "$fields"
		wait "$pid"
		rc=$?
		[[ $rc == 0 ]] || duet_diag "$name: duet-caller exited $rc: $(head -c 300 "$DUET_TMP/$name.err")"
		duet_check_eq "$name: duet-caller exit 0" 0 "$rc"
		got=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["relay_mode"], j["audio_check"], j["a_to_b"]["lost"], j["b_to_a"]["lost"])' \
			"$DUET_TMP/$name.json" 2>/dev/null)
		duet_check_eq "$name: through duetd, audio pass, nothing lost" \
			"$mode pass 0 0" "$got"
		duet_check_eq "$name: duetd rejected no record" "$rej0" "$(rcli HGET "$(duet_key relay)" rejected)"
	done
done
duet_check_srtp_batches
duet_check_stop TERM
