#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_caller: duet-caller checked against itself, with no relay: leg a's
# relay address is leg b's bound address and back (--a-relay/--b-relay, the
# two legs in network namespaces P-a and P-b joined by a veth on
# 192.0.2.0/24, built with the lab's helpers in tools/lab/lib.sh; root is
# needed). It checks realtime pacing with the audio check, --rate max, every
# SRTP suite, wrong keys, a key rotation mid-call (--rotate-after), a
# sequence number wrap (and libsrtp's ROC) at --rate max, many calls, one leg
# per process, --create through a private redis-server, and the refusal of
# bad arguments. Prints TAP; exit 0 when every check passed. It never skips:
# a missing redis-server (or any other tool the lab needs) is a failure.
#
#   bash tests/integration/test_caller.sh [BUILD_DIR]
#   (default: $DUET_BUILD_ROOT as meson sets it, else build)
#
# DUET_KEEP=1 keeps the JSON reports in the temporary directory it names.
set -u
if [[ $# -gt 0 ]]; then
	DUET_BUILD_ROOT=$1
	unset DUET_CALLER
fi
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_need_bins duet-caller
B=$DUET_CALLER

# Where the legs live: two namespaces joined by a veth, nothing else.
duet_prefix_pick
NS_A=$DUET_P-a NS_B=$DUET_P-b IF_A=${DUET_P}a0 IF_B=${DUET_P}b0
A_IP=192.0.2.10 B_IP=192.0.2.20
duet_netns_add "$NS_A" "$NS_B"
duet_veth_add "$IF_A" "$NS_A" "$IF_B" "$NS_B"
ip -n "$NS_A" addr add "$A_IP/24" dev "$IF_A"
ip -n "$NS_B" addr add "$B_IP/24" dev "$IF_B"
ip -n "$NS_A" link set "$IF_A" up
ip -n "$NS_B" link set "$IF_B" up
duet_diag "legs in namespaces $NS_A ($A_IP) and $NS_B ($B_IP)"
NS=(--a-netns "$NS_A" --b-netns "$NS_B")
WIRE=("${NS[@]}" --a-bind "$A_IP:40000" --b-bind "$B_IP:50000"
	--a-relay "$B_IP:50000" --b-relay "$A_IP:40000")

# show NAME: the figures of a run ($DUET_TMP/NAME.json) as TAP comments.
show() {
	duet_diag "$(python3 - "$DUET_TMP/$1.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
for d in ("a_to_b", "b_to_a"):
    x = j[d]
    jit = x["jitter_ms"] or {}
    dl = x["delay_ms"] or {}
    print("  %s: sent %s recv %s lost %s reord %s dup %s jitter avg %s max %s ms, "
          "delay avg %s p99 %s max %s ms, auth fail %s, rtcp %s/%s, audio %s (%s samples)" % (
          d, x["sent"], x["received"], x["lost"], x["reordered"], x["duplicated"],
          jit.get("avg"), jit.get("max"), dl.get("avg"), dl.get("p99"), dl.get("max"),
          x["srtp_auth_fail"], x["rtcp_sent"], x["rtcp_received"], x["audio_check"],
          x["samples_compared"]))
print("  %s s, %s packets/s received, audio check %s" % (
      j["duration_s"], j["throughput_pps"], j["audio_check"]))
EOF
)"
}

# run NAME EXPECTED-EXIT ARGS...: run duet-caller with --json into NAME.json.
run() {
	local name=$1 want=$2 rc
	shift 2
	"$B" --json "$@" >"$DUET_TMP/$name.json" 2>"$DUET_TMP/$name.err"
	rc=$?
	duet_check_eq "$name: exit $want" "$want" "$rc" ||
		duet_diag "$(head -c 300 "$DUET_TMP/$name.err")"
}

# 1. Realtime, 5 s, both ways, 50 packets/s per leg (less the DTX frames).
run realtime 0 "${WIRE[@]}" --duration 5 --require-audio-check
show realtime
duet_check_report "realtime: audio check pass" realtime 'j["audio_check"] == "pass"'
duet_check_report "realtime: nothing lost, reordered or duplicated" realtime \
	'all(j[d]["lost"] == 0 and j[d]["reordered"] == 0 and j[d]["duplicated"] == 0 and j[d]["received"] == j[d]["sent"] for d in ("a_to_b", "b_to_a"))'
duet_check_report "realtime: 200..250 packets per leg in 5 s" realtime \
	'all(200 <= j[d]["sent"] <= 250 for d in ("a_to_b", "b_to_a"))'
# RFC 3550's estimate (1/16 gain): one scheduling stall of ~80 ms in a
# loaded VM's caller near the end lifts it to ~5 ms with no fault of the
# relay; 20 ms still catches a relay that queues or bunches packets.
duet_check_report "realtime: jitter under 20 ms" realtime \
	'all(j[d]["jitter_ms"]["max"] < 20 for d in ("a_to_b", "b_to_a"))'
duet_check_report "realtime: RTCP both ways, RTT measured" realtime \
	'all(j[d]["rtcp_received"] >= 5 and j[d]["rtcp_bye_received"] == 1 and j[d]["rtcp_rtt_ms"] is not None for d in ("a_to_b", "b_to_a"))'

# 2. DTX off: exactly 50 packets/s.
run dtx_off 0 "${WIRE[@]}" --duration 2 --dtx off --bitrate 32000 --require-audio-check
duet_check_report "dtx off: 100 packets in 2 s per leg, audio pass" dtx_off \
	'j["audio_check"] == "pass" and all(j[d]["sent"] == 100 for d in ("a_to_b", "b_to_a"))'

# 3. --rate max: decoded, and payload check only.
run max_decoded 0 "${WIRE[@]}" --rate max --duration 3 --require-audio-check
show max_decoded
duet_check_report "rate max (decoded): nothing lost, audio pass" max_decoded \
	'j["audio_check"] == "pass" and all(j[d]["lost"] == 0 for d in ("a_to_b", "b_to_a"))'
run max_bytes 0 "${WIRE[@]}" --rate max --duration 3 --decode-calls 0
show max_bytes
duet_check_report "rate max (bytes compared): nothing lost, no payload mismatch" max_bytes \
	'j["audio_check"] == "skipped-no-decode" and all(j[d]["lost"] == 0 and j[d]["payload_mismatch"] == 0 for d in ("a_to_b", "b_to_a"))'

# 4. Every suite.
for s in AES_CM_128_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_32 AEAD_AES_128_GCM AEAD_AES_256_GCM; do
	run "suite_$s" 0 "${WIRE[@]}" --suite "$s" --duration 1 --require-audio-check
	duet_check_report "$s: audio pass, nothing lost" "suite_$s" \
		"j['suite'] == '$s' and j['audio_check'] == 'pass' and all(j[d]['lost'] == 0 for d in ('a_to_b', 'b_to_a'))"
done
duet_check_report "the 32-bit tag makes packets 6 bytes shorter than the 80-bit one" \
	suite_AES_CM_128_HMAC_SHA1_32 \
	"j['a_to_b']['sent_bytes'] + 6 * j['a_to_b']['sent'] == json.load(open('$DUET_TMP/suite_AES_CM_128_HMAC_SHA1_80.json'))['a_to_b']['sent_bytes']"

# 5. Wrong keys: every packet fails authentication; the check cannot pass.
eval "$("$B" --gen-keys rekey)"
run wrong_keys 3 "${WIRE[@]}" --duration 1 --require-audio-check \
	--a-key-out "$a_in" --a-key-in "$a_out" --b-key-out "$b_in" --b-key-in "$b_out"
show wrong_keys
duet_check_report "wrong keys: every RTP packet counted as an auth failure" wrong_keys \
	'all(j[d]["srtp_auth_fail"] == j[d]["sent"] > 0 and j[d]["received"] == 0 for d in ("a_to_b", "b_to_a"))'
duet_check_report "wrong keys: SRTCP failures counted too" wrong_keys \
	'all(j[d]["srtcp_auth_fail"] == j[d]["rtcp_sent"] > 0 for d in ("a_to_b", "b_to_a"))'
duet_check_report "wrong keys: audio check not pass" wrong_keys 'j["audio_check"] != "pass"'
eval "$("$B" --gen-keys passthrough)"
k2=$("$B" --gen-keys passthrough | sed -n "s/^a_in='\(.*\)'$/\1/p")
run one_wrong_key 3 "${WIRE[@]}" --duration 1 --require-audio-check \
	--a-key-out "$k2" --a-key-in "$a_out" --b-key-out "$b_in" --b-key-in "$b_out"
duet_check_report "one wrong key: a->b fails, b->a passes" one_wrong_key \
	'j["a_to_b"]["srtp_auth_fail"] == j["a_to_b"]["sent"] and j["b_to_a"]["audio_check"] == "pass" and j["audio_check"] == "skipped-loss"'
run right_keys 0 "${WIRE[@]}" --duration 1 --require-audio-check \
	--a-key-out "$a_in" --a-key-in "$a_out" --b-key-out "$b_in" --b-key-in "$b_out"
duet_check_report "keys given on the command line: audio pass" right_keys 'j["audio_check"] == "pass"'

# 5b. A key rotation mid-call: from packet 100 on each leg protects with its
# second key (another suite); the receivers take both keys.
eval "$("$B" --gen-keys passthrough)"
K1=(--a-key-out "$a_in" --a-key-in "$a_out" --b-key-out "$b_in" --b-key-in "$b_out")
eval "$("$B" --gen-keys passthrough --suite AEAD_AES_128_GCM)"
run rotate 0 "${WIRE[@]}" "${K1[@]}" --a-key-out2 "$a_in" --a-key-in2 "$a_out" \
	--b-key-out2 "$b_in" --b-key-in2 "$b_out" --rotate-after 100 --packets 300 --rate max \
	--require-audio-check
duet_check_report "rotation mid-call: 200 of 300 packets under the second key, nothing lost" rotate \
	'all(j[d]["sent_key2"] == j[d]["received_key2"] == 200 and j[d]["lost"] == 0 and j[d]["rtcp_received"] == j[d]["rtcp_sent"] for d in ("a_to_b", "b_to_a"))'
run rotate_no_in2 3 "${WIRE[@]}" "${K1[@]}" --a-key-out2 "$a_in" --rotate-after 100 \
	--packets 300 --rate max --drain-ms 300 --require-audio-check
duet_check_report "rotation mid-call: a receiver without the second key fails on it" rotate_no_in2 \
	'j["a_to_b"]["srtp_auth_fail"] == 200 and j["a_to_b"]["received"] == 100 and j["b_to_a"]["sent_key2"] == 0'

# 6. Sequence wrap at --rate max: 65000 + 2000 crosses 65535 -> 0; libsrtp
# must roll its ROC over on both sides and decoding must go on.
run seq_wrap 0 "${WIRE[@]}" --seq-start 65000 --packets 2000 --rate max --require-audio-check
show seq_wrap
duet_check_report "seq wrap: 2000 packets each way, one cycle counted" seq_wrap \
	'all(j[d]["received"] == 2000 and j[d]["seq_cycles"] == 1 and j[d]["srtp_auth_fail"] == 0 and j[d]["srtp_replay_fail"] == 0 for d in ("a_to_b", "b_to_a"))'
duet_check_report "seq wrap: audio pass across the wrap" seq_wrap \
	'j["audio_check"] == "pass" and j["audio_samples_compared"] == 2 * 2000 * 960'

# 7. Many calls at once (ports increment per call).
run calls_100 0 "${WIRE[@]}" --calls 100 --duration 3 --require-audio-check
show calls_100
duet_check_report "100 calls: nothing lost, audio pass on the decoded ones" calls_100 \
	'j["audio_check"] == "pass" and j["decode_calls"] == 10 and all(j[d]["lost"] == 0 and j[d]["payload_mismatch"] == 0 for d in ("a_to_b", "b_to_a"))'

# 8. One leg per process (as for interop), keys from --gen-keys.
eval "$("$B" --gen-keys passthrough --suite AEAD_AES_128_GCM)"
"$B" --json --leg b "${NS[@]:2}" --b-bind "$B_IP:50000" --b-relay "$A_IP:40000" \
	--b-key-out "$b_in" --b-key-in "$b_out" --duration 2 >"$DUET_TMP/leg_b.json" \
	2>"$DUET_TMP/leg_b.err" &
leg_b=$!
DUET_BG_PIDS+=("$leg_b")
"$B" --json --leg a "${NS[@]:0:2}" --a-bind "$A_IP:40000" --a-relay "$B_IP:50000" \
	--a-key-out "$a_in" --a-key-in "$a_out" --duration 2 >"$DUET_TMP/leg_a.json" \
	2>"$DUET_TMP/leg_a.err"
rc_a=$?
wait "$leg_b"
rc_b=$?
DUET_BG_PIDS=() # reaped: the EXIT trap must not signal a reused PID
duet_check_eq "one leg per process: both exit 0" 0/0 "$rc_a/$rc_b"
duet_check_report "leg a alone: receives b, no reference for the audio" leg_a \
	'j["b_to_a"]["received"] > 50 and j["b_to_a"]["srtp_auth_fail"] == 0 and j["audio_check"] == "skipped-no-reference" and j["a_to_b"]["rr_lost"] is not None'
duet_check_report "leg b alone: receives a" leg_b \
	'j["a_to_b"]["received"] > 50 and j["a_to_b"]["srtp_auth_fail"] == 0 and j["a_to_b"]["sent"] is None'

# 9. --create through pair_create.lua / pair_delete.lua on a private redis.
RELAY_ID=chk
duet_redis_start
# One free endpoint per service address, so the hints pick them: leg a's
# endpoint is where b listens and back (the wire is the relay).
rcli SADD "$(duet_key free)" "$B_IP:50000" "$A_IP:40000" >/dev/null
A_HINT=$B_IP B_HINT=$A_IP
# No duetd publishes a heartbeat for relay chk: pair_create.lua refuses,
# and nothing is taken.
out=$("$B" --redis "unix:$DUET_REDIS_SOCK" --relay "$RELAY_ID" --create --id-prefix chk \
	--a-ip "$A_HINT" --b-ip "$B_HINT" "${NS[@]}" --duration 1 2>&1 >/dev/null)
rc=$?
duet_check_eq "--create on a relay without a heartbeat: exit 1, NORELAY, free set untouched" \
	"1 1 2 0" "$rc $(printf '%s' "$out" | grep -c 'NORELAY relay chk has no fresh heartbeat') \
$(rcli SCARD "$(duet_key free)") $(rcli EXISTS "$(duet_key pair:chk-0)")" || duet_diag "$out"
# --no-relay-check: the wire is the relay here.
"$B" --json --redis "unix:$DUET_REDIS_SOCK" --relay "$RELAY_ID" --create --id-prefix chk \
	--no-relay-check \
	--a-ip "$A_HINT" --b-ip "$B_HINT" "${NS[@]}" --a-bind "$B_HINT:40000" \
	--b-bind "$A_HINT:50000" --duration 2 --suite AEAD_AES_256_GCM \
	--require-audio-check >"$DUET_TMP/redis.json" 2>"$DUET_TMP/redis.err" &
caller=$!
DUET_BG_PIDS+=("$caller")
sleep 1
# The default mode is passthrough: the relay holds no key (duetd refuses a
# passthrough record with one); the legs are bound to given ports, so they
# are pinned. caller_create covers every mode through duetd.
duet_check_eq "--create: passthrough pair written pinned, without keys" "a a_src b b_src mode " \
	"$(rcli HKEYS "$(duet_key pair:chk-0)" | LC_ALL=C sort | tr '\n' ' ')"
# Break duet-caller's Redis link mid-call (as a Redis restart or failover
# would): its end-of-call delete reconnects and still frees the pair.
rcli CLIENT KILL TYPE normal >/dev/null
wait "$caller"
rc=$?
DUET_BG_PIDS=()
duet_check_eq "--create: exit 0" 0 "$rc" || duet_diag "$(cat "$DUET_TMP/redis.err")"
duet_check_report "--create: audio pass through the endpoints Redis gave" redis \
	'j["mode"] == "redis" and j["audio_check"] == "pass"'
duet_check_eq "--create: pair deleted and endpoints freed at the end" "0 2" \
	"$(rcli EXISTS "$(duet_key pair:chk-0)") $(rcli SCARD "$(duet_key free)")"

# 10. Bad input: one line naming the argument, exit 2 (usage) or 1 (runtime).
bad() {
	local want=$1 pattern=$2 out rc
	shift 2
	# In leg a's namespace: whatever a refused call sends stays there.
	out=$(ip netns exec "$NS_A" "$B" "$@" 2>&1 >/dev/null)
	rc=$?
	if [[ $rc == "$want" ]] && printf '%s' "$out" | head -1 | grep -q -- "$pattern"; then
		duet_ok "refused ($rc): $*"
	else
		duet_not_ok "refused ($want): $*" "exit $rc, want $want, first line to name $pattern: $out"
	fi
}
printf 'RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x03\x00\x01\x00' >"$DUET_TMP/float.wav"
bad 2 "--suite" --direct --suite AES_999
bad 2 "--a-key-out" --direct --a-key-out "AES_CM_128_HMAC_SHA1_80 inline:AAAA"
bad 2 "--calls" --direct --calls 0
bad 2 "--duration" --direct --duration 1.5s
bad 2 "--a-relay" --a-relay 192.0.2.1 --b-relay 192.0.2.1:1
bad 2 "--audio" --direct --audio "$DUET_TMP/missing.wav"
bad 2 "--audio" --direct --audio "$DUET_TMP/float.wav"
bad 2 "--seq-start" --direct --seq-start 65536
bad 2 "--rotate-after" --direct --rotate-after 5
bad 2 "--a-key-out2" --direct --a-key-out "$a_in" --a-key-in "$a_out" --b-key-out "$b_in" \
	--b-key-in "$b_out" --a-key-out2 "$a_in"
bad 2 "--relay" --create --relay 'no spaces'
bad 2 "--no-relay-check" --direct --no-relay-check
bad 1 "--redis" --create --relay r1 --redis "$B_IP:1"
bad 1 "--a-bind" --direct --a-bind 203.0.113.7:4000 --b-bind "$A_IP:0"
bad 1 "--a-relay" --a-relay "$B_IP:9" --b-relay "$B_IP:9" --a-bind "$A_IP:0" \
	--b-bind "$A_IP:0" --duration 0.5 --drain-ms 100
bad 1 "--timeout" --direct --a-bind "$A_IP:0" --b-bind "$A_IP:0" --duration 3 --timeout 0.5
