#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_srtp_crash: keyed calls survive a duetd crash (issue 10, item 1).
# In verify and in rekey, a duet-caller call whose RTP sequence numbers
# start at 65300 wraps (ROC 1) a few seconds in; duetd writes each SRTP
# stream's ROC and highest sequence to the pair's stats hash (a_srtp_in,
# ...). duetd gets SIGKILL and is restarted: it continues every stream from
# there, so the call goes on within 2 s of the restart with no
# authentication drop, at the relay or at the phones, and every packet the
# phones decode after the outage matches what was sent, sample for sample
# (duet-caller's payload and PCM comparison). Packets captured on the wire
# before the crash and replayed after it, from the caller's own address,
# are dropped as replays and reach nobody.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
source "$DUET_INTEG_DIR/abuse_lib.sh"
duet_init
abuse_init
CALLER=${DUET_CALLER:-$DUET_BUILD_ROOT/app/duet-caller/duet-caller}
[[ -x $CALLER ]] || duet_bail "duet-caller not built: $CALLER (set DUET_BUILD_ROOT or DUET_CALLER)"
duet_start_all "port0.gateway=$DUET_A_IP" "port1.gateway=$DUET_B_IP"

REPLAYS=20

# crash_round MODE N: one call in MODE, duetd killed and restarted mid-call.
crash_round() {
	local mode=$1 n=$2 name=sc-$1 id abind started restarted gap field st json
	id=sc$n-0
	abind=$DUET_A_IP:$((42000 + n))
	# The first 2 s of what A sends, for the replays after the crash.
	duet_capture_start "cap$n" "$NS_A" "$IF_A" "udp and src host $DUET_A_IP and src port $((42000 + n))" \
		400 4
	"$CALLER" --json --redis "unix:$DUET_REDIS_SOCK" --relay "$RELAY_ID" --create \
		--id-prefix "sc$n" --mode "$mode" --suite AES_CM_128_HMAC_SHA1_80 --seq-start 65300 \
		--a-ip "$DUET_RELAY_IP_A" --b-ip "$DUET_RELAY_IP_B" \
		--a-netns "$NS_A" --b-netns "$NS_B" \
		--a-bind "$abind" --b-bind "$DUET_B_IP:$((52000 + n))" \
		--duration 16 --timeout 60 >"$DUET_TMP/$name.json" 2>"$DUET_TMP/$name.err" &
	local pid=$!
	DUET_BG_PIDS+=("$pid")
	duet_require "$mode: pair $id created" duet_wait 10 duet_stat_is "$id" state active
	sleep 1.5 # 75 more packets of A's into the capture
	abuse_capture_stop "cap$n"
	# 236 packets at 50/s to the wrap, then a stats round.
	duet_check "$mode: the stats hash shows leg a's stream past the wrap (ROC 1)" duet_wait 12 \
		bash -c "redis-cli -s '$DUET_REDIS_SOCK' HGET '$(duet_key "stats:$id")' a_srtp_in | grep -q '^[0-9]*:1:'"
	for field in a_srtp_in b_srtp_in a_srtp_out b_srtp_out; do
		st=$(duet_stat "$id" "$field")
		duet_diag "$mode: before the crash $field=$st"
	done

	kill -KILL "$DUETD_PID"
	wait "$DUETD_PID" 2>/dev/null
	DUETD_PID=
	started=$(date +%s%3N)
	duet_require "$mode: duetd restarts" duetd_start
	duet_check "$mode: the call forwards again within 2 s of the restart" duet_wait 2 \
		duet_relay_ge fwd_pkts 20
	restarted=$(date +%s%3N)
	gap=$((restarted - started))
	duet_diag "srtp_crash $mode: restart to forwarding ${gap} ms (including duetd's start)"

	# Replays of pre-crash packets, from A's own address and port.
	local before after
	before=$(abuse_drop srtp_replay)
	abuse_tshark "cap$n" "udp" udp.payload | head -n $REPLAYS >"$DUET_TMP/cap$n.hex"
	duet_check_eq "$mode: $REPLAYS pre-crash packets captured" $REPLAYS "$(grep -c . "$DUET_TMP/cap$n.hex")"
	local hex
	while read -r hex; do
		abuse_raw "$NS_A" udp --iface "$IF_A" --dst-mac "$(abuse_relay_mac a)" --src "$abind" \
			--to "$(rcli HGET "$(duet_key "pair:$id")" a)" --count 1 --payload hex \
			--hex "${hex//:/}" || break
	done <"$DUET_TMP/cap$n.hex"
	duet_check "$mode: every replay dropped as srtp_replay" duet_wait 5 duet_relay_ge drop_srtp_replay \
		$((before + REPLAYS))

	wait "$pid"
	json=$DUET_TMP/$name.json
	duet_check_eq "$mode: duetd (restarted) dropped no packet for authentication" 0 \
		"$(abuse_drop srtp_auth)"
	duet_check_eq "$mode: both streams wrapped" "1/1" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("%d/%d" % (d["a_to_b"]["seq_cycles"] or 0, d["b_to_a"]["seq_cycles"] or 0))' "$json")"
	# What the phones saw: no SRTP failure, no replayed packet delivered,
	# every decoded packet equal to what was sent; the loss is the outage.
	duet_check_eq "$mode: phones: srtp failures, duplicates, payload/pcm mismatches, decode errors" \
		"0 0 0 0 0 0 0 0 0 0" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
out = []
for f in ("srtp_auth_fail", "duplicated", "payload_mismatch", "pcm_mismatch", "decode_errors"):
    out += [d["a_to_b"].get(f) or 0, d["b_to_a"].get(f) or 0]
print(" ".join(str(x) for x in out))' "$json")"
	local lost
	lost=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(max(d["a_to_b"]["sent"] - d["a_to_b"]["received"], d["b_to_a"]["sent"] - d["b_to_a"]["received"]))' "$json")
	duet_diag "$mode: packets lost to the outage (worst direction): $lost"
	duet_check "$mode: loss is the outage only (< 1.5 s of packets)" test "$lost" -lt 75
}

crash_round verify 1
crash_round rekey 2
duet_check_stop TERM
