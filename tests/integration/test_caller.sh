#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_caller: duet-caller checked against itself, with no relay: leg a's
# relay address is leg b's bound address and back (--a-relay/--b-relay, the
# two legs in network namespaces <run>-a and <run>-b joined by a veth on
# 192.0.2.0/24; root is needed). It checks realtime
# pacing with the audio check, --rate max, every SRTP suite, wrong keys, a
# key rotation mid-call (--rotate-after), a sequence number wrap (and
# libsrtp's ROC) at --rate max, many calls, one leg per process, --create through a private redis-server (when installed), and
# the refusal of bad arguments. Prints TAP; exit 0 when every check passed.
#
#   bash tests/integration/test_caller.sh [BUILD_DIR]
#   (default: $DUET_BUILD_ROOT as meson sets it, else build)
#
# DUET_KEEP=1 keeps the JSON reports in the temporary directory it names.
set -u
BUILD=${1:-${DUET_BUILD_ROOT:-build}}
B=$BUILD/app/duet-caller/duet-caller
RUN=dc-$$
TMP=$(mktemp -d /tmp/duet-caller-check.XXXXXX)
REDIS_PID=
N=0
FAILS=0

cleanup() {
	[ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null
	ip netns del "$RUN-a" 2>/dev/null
	ip netns del "$RUN-b" 2>/dev/null
	if [ "${DUET_KEEP:-0}" = 1 ]; then echo "# kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAILS=$((FAILS + 1)); echo "not ok $N - $1"; }

# expect FILE DESCRIPTION PYTHON-EXPRESSION: the expression over the JSON
# report j must be true.
expect() {
	if python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
		"$1" "$3" 2>/dev/null; then
		ok "$2"
	else
		not_ok "$2 [$3]"
	fi
}

# show FILE: the figures of a run as TAP comments.
show() {
	python3 - "$1" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
for d in ("a_to_b", "b_to_a"):
    x = j[d]
    jit = x["jitter_ms"] or {}
    dl = x["delay_ms"] or {}
    print("#   %s: sent %s recv %s lost %s reord %s dup %s jitter avg %s max %s ms, "
          "delay avg %s p99 %s max %s ms, auth fail %s, rtcp %s/%s, audio %s (%s samples)" % (
          d, x["sent"], x["received"], x["lost"], x["reordered"], x["duplicated"],
          jit.get("avg"), jit.get("max"), dl.get("avg"), dl.get("p99"), dl.get("max"),
          x["srtp_auth_fail"], x["rtcp_sent"], x["rtcp_received"], x["audio_check"],
          x["samples_compared"]))
print("#   %s s, %s packets/s received, audio check %s" % (
      j["duration_s"], j["throughput_pps"], j["audio_check"]))
EOF
}

# run NAME EXPECTED-EXIT ARGS...: run duet-caller with --json into NAME.json.
run() {
	local name=$1 want=$2 rc
	shift 2
	"$B" --json "$@" >"$TMP/$name.json" 2>"$TMP/$name.err"
	rc=$?
	if [ "$rc" = "$want" ]; then
		ok "$name: exit $rc"
	else
		not_ok "$name: exit $rc, want $want ($(head -c 300 "$TMP/$name.err"))"
	fi
}

[ -x "$B" ] || { echo "Bail out! $B not built"; exit 1; }

# Where the legs live: two namespaces joined by a veth, nothing else.
if [ "$(id -u)" != 0 ]; then
	echo "Bail out! needs root (network namespaces, veth); run the tests as root"
	exit 1
fi
if ip netns add "$RUN-a" && ip netns add "$RUN-b"; then
	ip link add "$RUN-va" netns "$RUN-a" type veth peer name "$RUN-vb" netns "$RUN-b"
	ip -n "$RUN-a" addr add 192.0.2.10/24 dev "$RUN-va"
	ip -n "$RUN-b" addr add 192.0.2.20/24 dev "$RUN-vb"
	for s in a b; do
		ip -n "$RUN-$s" link set lo up
		ip -n "$RUN-$s" link set "$RUN-v$s" up
	done
	A_IP=192.0.2.10 B_IP=192.0.2.20
	NS=(--a-netns "$RUN-a" --b-netns "$RUN-b")
	echo "# legs in namespaces $RUN-a ($A_IP) and $RUN-b ($B_IP)"
else
	echo "Bail out! cannot create network namespaces $RUN-a and $RUN-b"
	exit 1
fi
WIRE=("${NS[@]}" --a-bind "$A_IP:40000" --b-bind "$B_IP:50000"
	--a-relay "$B_IP:50000" --b-relay "$A_IP:40000")

# 1. Realtime, 5 s, both ways, 50 packets/s per leg (less the DTX frames).
run realtime 0 "${WIRE[@]}" --duration 5 --require-audio-check
show "$TMP/realtime.json"
expect "$TMP/realtime.json" "realtime: audio check pass" 'j["audio_check"] == "pass"'
expect "$TMP/realtime.json" "realtime: nothing lost, reordered or duplicated" \
	'all(j[d]["lost"] == 0 and j[d]["reordered"] == 0 and j[d]["duplicated"] == 0 and j[d]["received"] == j[d]["sent"] for d in ("a_to_b", "b_to_a"))'
expect "$TMP/realtime.json" "realtime: 200..250 packets per leg in 5 s" \
	'all(200 <= j[d]["sent"] <= 250 for d in ("a_to_b", "b_to_a"))'
expect "$TMP/realtime.json" "realtime: jitter under 5 ms" \
	'all(j[d]["jitter_ms"]["max"] < 5 for d in ("a_to_b", "b_to_a"))'
expect "$TMP/realtime.json" "realtime: RTCP both ways, RTT measured" \
	'all(j[d]["rtcp_received"] >= 5 and j[d]["rtcp_bye_received"] == 1 and j[d]["rtcp_rtt_ms"] is not None for d in ("a_to_b", "b_to_a"))'

# 2. DTX off: exactly 50 packets/s.
run dtx_off 0 "${WIRE[@]}" --duration 2 --dtx off --bitrate 32000 --require-audio-check
expect "$TMP/dtx_off.json" "dtx off: 100 packets in 2 s per leg, audio pass" \
	'j["audio_check"] == "pass" and all(j[d]["sent"] == 100 for d in ("a_to_b", "b_to_a"))'

# 3. --rate max: decoded, and payload check only.
run max_decoded 0 "${WIRE[@]}" --rate max --duration 3 --require-audio-check
show "$TMP/max_decoded.json"
expect "$TMP/max_decoded.json" "rate max (decoded): nothing lost, audio pass" \
	'j["audio_check"] == "pass" and all(j[d]["lost"] == 0 for d in ("a_to_b", "b_to_a"))'
run max_bytes 0 "${WIRE[@]}" --rate max --duration 3 --decode-calls 0
show "$TMP/max_bytes.json"
expect "$TMP/max_bytes.json" "rate max (bytes compared): nothing lost, no payload mismatch" \
	'j["audio_check"] == "skipped-no-decode" and all(j[d]["lost"] == 0 and j[d]["payload_mismatch"] == 0 for d in ("a_to_b", "b_to_a"))'

# 4. Every suite.
for s in AES_CM_128_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_32 AEAD_AES_128_GCM AEAD_AES_256_GCM; do
	run "suite_$s" 0 "${WIRE[@]}" --suite "$s" --duration 1 --require-audio-check
	expect "$TMP/suite_$s.json" "$s: audio pass, nothing lost" \
		"j['suite'] == '$s' and j['audio_check'] == 'pass' and all(j[d]['lost'] == 0 for d in ('a_to_b', 'b_to_a'))"
done
expect "$TMP/suite_AES_CM_128_HMAC_SHA1_32.json" "the 32-bit tag makes packets 6 bytes shorter than the 80-bit one" \
	"j['a_to_b']['sent_bytes'] + 6 * j['a_to_b']['sent'] == json.load(open('$TMP/suite_AES_CM_128_HMAC_SHA1_80.json'))['a_to_b']['sent_bytes']"

# 5. Wrong keys: every packet fails authentication; the check cannot pass.
eval "$("$B" --gen-keys rekey)"
run wrong_keys 3 "${WIRE[@]}" --duration 1 --require-audio-check \
	--a-key-out "$a_in" --a-key-in "$a_out" --b-key-out "$b_in" --b-key-in "$b_out"
show "$TMP/wrong_keys.json"
expect "$TMP/wrong_keys.json" "wrong keys: every RTP packet counted as an auth failure" \
	'all(j[d]["srtp_auth_fail"] == j[d]["sent"] > 0 and j[d]["received"] == 0 for d in ("a_to_b", "b_to_a"))'
expect "$TMP/wrong_keys.json" "wrong keys: SRTCP failures counted too" \
	'all(j[d]["srtcp_auth_fail"] == j[d]["rtcp_sent"] > 0 for d in ("a_to_b", "b_to_a"))'
expect "$TMP/wrong_keys.json" "wrong keys: audio check not pass" 'j["audio_check"] != "pass"'
eval "$("$B" --gen-keys passthrough)"
k2=$("$B" --gen-keys passthrough | sed -n "s/^a_in='\(.*\)'$/\1/p")
run one_wrong_key 3 "${WIRE[@]}" --duration 1 --require-audio-check \
	--a-key-out "$k2" --a-key-in "$a_out" --b-key-out "$b_in" --b-key-in "$b_out"
expect "$TMP/one_wrong_key.json" "one wrong key: a->b fails, b->a passes" \
	'j["a_to_b"]["srtp_auth_fail"] == j["a_to_b"]["sent"] and j["b_to_a"]["audio_check"] == "pass" and j["audio_check"] == "skipped-loss"'
run right_keys 0 "${WIRE[@]}" --duration 1 --require-audio-check \
	--a-key-out "$a_in" --a-key-in "$a_out" --b-key-out "$b_in" --b-key-in "$b_out"
expect "$TMP/right_keys.json" "keys given on the command line: audio pass" 'j["audio_check"] == "pass"'

# 5b. A key rotation mid-call: from packet 100 on each leg protects with its
# second key (another suite); the receivers take both keys.
eval "$("$B" --gen-keys passthrough)"
K1=(--a-key-out "$a_in" --a-key-in "$a_out" --b-key-out "$b_in" --b-key-in "$b_out")
eval "$("$B" --gen-keys passthrough --suite AEAD_AES_128_GCM)"
run rotate 0 "${WIRE[@]}" "${K1[@]}" --a-key-out2 "$a_in" --a-key-in2 "$a_out" \
	--b-key-out2 "$b_in" --b-key-in2 "$b_out" --rotate-after 100 --packets 300 --rate max \
	--require-audio-check
expect "$TMP/rotate.json" "rotation mid-call: 200 of 300 packets under the second key, nothing lost" \
	'all(j[d]["sent_key2"] == j[d]["received_key2"] == 200 and j[d]["lost"] == 0 and j[d]["rtcp_received"] == j[d]["rtcp_sent"] for d in ("a_to_b", "b_to_a"))'
run rotate_no_in2 3 "${WIRE[@]}" "${K1[@]}" --a-key-out2 "$a_in" --rotate-after 100 \
	--packets 300 --rate max --drain-ms 300 --require-audio-check
expect "$TMP/rotate_no_in2.json" "rotation mid-call: a receiver without the second key fails on it" \
	'j["a_to_b"]["srtp_auth_fail"] == 200 and j["a_to_b"]["received"] == 100 and j["b_to_a"]["sent_key2"] == 0'

# 6. Sequence wrap at --rate max: 65000 + 2000 crosses 65535 -> 0; libsrtp
# must roll its ROC over on both sides and decoding must go on.
run seq_wrap 0 "${WIRE[@]}" --seq-start 65000 --packets 2000 --rate max --require-audio-check
show "$TMP/seq_wrap.json"
expect "$TMP/seq_wrap.json" "seq wrap: 2000 packets each way, one cycle counted" \
	'all(j[d]["received"] == 2000 and j[d]["seq_cycles"] == 1 and j[d]["srtp_auth_fail"] == 0 and j[d]["srtp_replay_fail"] == 0 for d in ("a_to_b", "b_to_a"))'
expect "$TMP/seq_wrap.json" "seq wrap: audio pass across the wrap" \
	'j["audio_check"] == "pass" and j["audio_samples_compared"] == 2 * 2000 * 960'

# 7. Many calls at once (ports increment per call).
run calls_100 0 "${WIRE[@]}" --calls 100 --duration 3 --require-audio-check
show "$TMP/calls_100.json"
expect "$TMP/calls_100.json" "100 calls: nothing lost, audio pass on the decoded ones" \
	'j["audio_check"] == "pass" and j["decode_calls"] == 10 and all(j[d]["lost"] == 0 and j[d]["payload_mismatch"] == 0 for d in ("a_to_b", "b_to_a"))'

# 8. One leg per process (as for interop), keys from --gen-keys.
eval "$("$B" --gen-keys passthrough --suite AEAD_AES_128_GCM)"
"$B" --json --leg b "${NS[@]:2}" --b-bind "$B_IP:50000" --b-relay "$A_IP:40000" \
	--b-key-out "$b_in" --b-key-in "$b_out" --duration 2 >"$TMP/leg_b.json" 2>"$TMP/leg_b.err" &
LEG_B=$!
"$B" --json --leg a "${NS[@]:0:2}" --a-bind "$A_IP:40000" --a-relay "$B_IP:50000" \
	--a-key-out "$a_in" --a-key-in "$a_out" --duration 2 >"$TMP/leg_a.json" 2>"$TMP/leg_a.err"
rc_a=$?
wait "$LEG_B"
rc_b=$?
[ "$rc_a" = 0 ] && [ "$rc_b" = 0 ] && ok "one leg per process: both exit 0" ||
	not_ok "one leg per process: exit $rc_a/$rc_b"
expect "$TMP/leg_a.json" "leg a alone: receives b, no reference for the audio" \
	'j["b_to_a"]["received"] > 50 and j["b_to_a"]["srtp_auth_fail"] == 0 and j["audio_check"] == "skipped-no-reference" and j["a_to_b"]["rr_lost"] is not None'
expect "$TMP/leg_b.json" "leg b alone: receives a" \
	'j["a_to_b"]["received"] > 50 and j["a_to_b"]["srtp_auth_fail"] == 0 and j["a_to_b"]["sent"] is None'

# 9. --create through pair_create.lua / pair_delete.lua on a private redis.
if command -v redis-server >/dev/null; then
	redis-server --port 0 --unixsocket "$TMP/redis.sock" --save '' --appendonly no \
		--logfile "$TMP/redis.log" &
	REDIS_PID=$!
	for _ in $(seq 50); do [ -S "$TMP/redis.sock" ] && break; sleep 0.1; done
	RC="redis-cli -s $TMP/redis.sock"
	# One free endpoint per service address, so the hints pick them: leg
	# a's endpoint is where b listens and back (the wire is the relay).
	$RC SADD 'duet:{chk}:free' "$B_IP:50000" "$A_IP:40000" >/dev/null
	A_HINT=$B_IP B_HINT=$A_IP
	"$B" --json --redis "unix:$TMP/redis.sock" --relay chk --create --id-prefix chk \
		--a-ip "$A_HINT" --b-ip "$B_HINT" "${NS[@]}" --a-bind "$B_HINT:40000" \
		--b-bind "$A_HINT:50000" --duration 2 --suite AEAD_AES_256_GCM \
		--require-audio-check >"$TMP/redis.json" 2>"$TMP/redis.err" &
	CALLER=$!
	sleep 1
	fields=$($RC HKEYS 'duet:{chk}:pair:chk-0' | LC_ALL=C sort | tr '\n' ' ')
	# The default mode is passthrough: the relay holds no key (duetd
	# refuses a passthrough record with one); the legs are bound to given
	# ports, so they are pinned. caller_create covers every mode through
	# duetd.
	[ "$fields" = "a a_src b b_src mode " ] && ok "--create: passthrough pair written pinned, without keys" ||
		not_ok "--create: pair fields '$fields'"
	wait "$CALLER" && ok "--create: exit 0" || not_ok "--create: exit $? ($(cat "$TMP/redis.err"))"
	expect "$TMP/redis.json" "--create: audio pass through the endpoints Redis gave" \
		'j["mode"] == "redis" and j["audio_check"] == "pass"'
	[ "$($RC EXISTS 'duet:{chk}:pair:chk-0')" = 0 ] && [ "$($RC SCARD 'duet:{chk}:free')" = 2 ] &&
		ok "--create: pair deleted and endpoints freed at the end" ||
		not_ok "--create: pair left behind"
else
	for i in 1 2 3 4; do not_ok "--create: redis-server not installed (tools/install-deps.sh)"; done
fi

# 10. Bad input: one line naming the argument, exit 2 (usage) or 1 (runtime).
bad() {
	local want=$1 pattern=$2 out rc
	shift 2
	# In leg a's namespace: whatever a refused call sends stays there.
	out=$(ip netns exec "$RUN-a" "$B" "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = "$want" ] && printf '%s' "$out" | head -1 | grep -q -- "$pattern"; then
		ok "refused ($rc): $*"
	else
		not_ok "refused: $* -> exit $rc: $out"
	fi
}
printf 'RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x03\x00\x01\x00' >"$TMP/float.wav"
bad 2 "--suite" --direct --suite AES_999
bad 2 "--a-key-out" --direct --a-key-out "AES_CM_128_HMAC_SHA1_80 inline:AAAA"
bad 2 "--calls" --direct --calls 0
bad 2 "--duration" --direct --duration 1.5s
bad 2 "--a-relay" --a-relay 192.0.2.1 --b-relay 192.0.2.1:1
bad 2 "--audio" --direct --audio "$TMP/missing.wav"
bad 2 "--audio" --direct --audio "$TMP/float.wav"
bad 2 "--seq-start" --direct --seq-start 65536
bad 2 "--rotate-after" --direct --rotate-after 5
bad 2 "--a-key-out2" --direct --a-key-out "$a_in" --a-key-in "$a_out" --b-key-out "$b_in" \
	--b-key-in "$b_out" --a-key-out2 "$a_in"
bad 2 "--relay" --create --relay 'no spaces'
bad 1 "--redis" --create --relay r1 --redis "$B_IP:1"
bad 1 "--a-bind" --direct --a-bind 203.0.113.7:4000 --b-bind "$A_IP:0"
bad 1 "--a-relay" --a-relay "$B_IP:9" --b-relay "$B_IP:9" --a-bind "$A_IP:0" \
	--b-bind "$A_IP:0" --duration 0.5 --drain-ms 100
bad 1 "--timeout" --direct --a-bind "$A_IP:0" --b-bind "$A_IP:0" --duration 3 --timeout 0.5

echo "1..$N"
echo "# $FAILS of $N checks failed"
[ "$FAILS" = 0 ]
