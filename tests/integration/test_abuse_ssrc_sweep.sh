#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_abuse_ssrc_sweep (issue 8, SSRC cap): a key holder cannot make duetd
# allocate SRTP streams without bound.
#
# A verify pair made by duetctl (AES_CM_128_HMAC_SHA1_80 keys); the
# policer is off for it (record fields max_pps 0, max_kbps 0) so that only
# the SSRC cap decides, and relatch_silence_ms is 5000 so that no stream
# can go silent long enough to be removed during the sweep; [security]
# srtp_max_ssrc = 4.
#
# B latches leg b with one authentic packet. A first sends 10,000 packets
# with a wrong key (dropped: they neither authenticate nor latch; they warm
# up whatever a burst of 10,000 frames touches in duetd: mempool, rings,
# so that the memory figures below see the sweep only), then the sweep: 10,000
# AUTHENTIC SRTP packets (a_in, the right key), each with its own SSRC, at
# 10,000 packets/s (abuse_send srtp). Checks:
#   - at most 4 distinct SSRCs, and at most 4 packets, reach B;
#   - drop_srtp_ssrc_limit counts the rest (10,000 - what B got, ~9,996),
#     and no packet was refused as a forgery (a_drop_auth unchanged);
#   - duetd's memory grows by less than 1 MiB, both its C heap
#     (mem_heap_bytes: mallinfo2 over all arenas, where libsrtp2 allocates
#     its streams, on the worker lcore) and its resident set (VmRSS in
#     /proc/PID/status; VmData is shown too). Why 1 MiB: libsrtp2 2.5.0
#     clones a stream from the session's template for each new SSRC; the
#     clone shares the template's cipher and HMAC contexts and costs about
#     384 B of heap (replay window and stream state; measured on the code
#     before the cap: 10,000 SSRCs grew the heap by 3.84 MB and VmRSS by
#     3.84 MB). With the cap the pair holds at most 4 streams per direction,
#     about 3 KB; 1 MiB leaves 300 times that for allocator and Redis-reply
#     noise, and is under a third of what 10,000 uncapped streams take
#     (a cap that let 2,700 streams in would fail it);
#   - after relatch_silence_ms of silence a legitimate call on the same
#     pair and addresses (duet-caller, verify keys) works: nothing lost,
#     audio check pass; the sweep's streams were removed for it
#     (srtp_streams_removed).
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
source "$DUET_INTEG_DIR/tools/abuse_tools.sh"
duet_init
abuse_tools_need
duet_need_bins duetd duetctl

SWEEP=10000          # packets, each with its own SSRC
SWEEP_PPS=10000
MAX_SSRC=4           # [security] srtp_max_ssrc (duetd's default too)
SILENCE_MS=5000      # relatch_silence_ms: streams silent this long may go
HEAP_BOUND=$((1024 * 1024))
A=$DUET_A_IP:40000
B=$DUET_B_IP:40000

duet_start_all "relatch_silence_ms=$SILENCE_MS" "security.srtp_max_ssrc=$MAX_SSRC" \
	"port0.gateway=$DUET_A_IP" "port1.gateway=$DUET_B_IP"

# The pair, with the keys duetctl makes, as a control plane would.
out=$(duet_ctl --json create --id sweep --a-ip "$DUET_RELAY_IP_A" --b-ip "$DUET_RELAY_IP_B" \
	--mode verify --suite AES_CM_128_HMAC_SHA1_80) || duet_bail "duetctl create sweep failed: $out"
eval "$(python3 -c '
import json, shlex, sys
d = json.loads(sys.argv[1])
for var, f in (("SA", "a"), ("SB", "b"), ("K_AIN", "a_in"), ("K_BIN", "b_in")):
    print("%s=%s" % (var, shlex.quote(d[f])))' "$out")"
rcli HSET "$(duet_key pair:sweep)" max_pps 0 max_kbps 0 >/dev/null
duet_event put sweep
duet_require "duetd loaded the verify pair" duet_wait 5 duet_stat_is sweep mode verify

# Keys go to abuse_send in files (never on a command line).
(
	umask 077
	printf '%s\n' "$K_AIN" >"$DUET_TMP/a_in.key"
	printf '%s\n' "$K_BIN" >"$DUET_TMP/b_in.key"
	"$DUET_CALLER" --json --gen-keys verify |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["a_in"])' >"$DUET_TMP/wrong.key"
)

# Leg b: one authentic packet from B (nothing to forward it to yet).
abuse_send_run latch_b "$NS_B" srtp --bind "$B" --to "$SB" --key-file "$DUET_TMP/b_in.key" \
	--count 1 --ssrc 3000000000 --seconds 5
duet_require "leg b latched by one authentic packet" duet_wait 5 duet_stat_is sweep b_state latched

abuse_send_bg at_b "$NS_B" count --bind "$B" --seconds 60 --count $((SWEEP * 2))
abuse_send_run warmup "$NS_A" srtp --bind "$A" --to "$SA" --key-file "$DUET_TMP/wrong.key" \
	--count "$SWEEP" --rate "$SWEEP_PPS" --same-ssrc --ssrc 1000 --seconds 30
duet_settle
duet_check_eq "the wrong-key warm-up latched nothing" waiting "$(duet_stat sweep a_state)"

lim0=$(abuse_relay_num drop_srtp_ssrc_limit) auth0=$(abuse_pair_num sweep a_drop_auth)
removed0=$(abuse_relay_num srtp_streams_removed)
rss0=$(duetd_proc_kb VmRSS) data0=$(duetd_proc_kb VmData)
heap0=$(duet_relay_stat mem_heap_bytes)

abuse_send_run sweep "$NS_A" srtp --bind "$A" --to "$SA" --key-file "$DUET_TMP/a_in.key" \
	--count "$SWEEP" --rate "$SWEEP_PPS" --ssrc 100000 --seconds 30
swept_at=$SECONDS
duet_settle
sleep 0.5 # frames in flight to B
abuse_count_end at_b

sent=$(duet_json sweep 'd["sent"]') secs=$(duet_json sweep 'd["seconds"]')
duet_diag "sweep: $sent authentic packets, $(duet_json sweep 'd["ssrcs"]') SSRCs, in $secs s"
duet_check_eq "the sweep sent $SWEEP authentic packets with distinct SSRCs" "$SWEEP $SWEEP 0" \
	"$sent $(duet_json sweep 'd["ssrcs"]') $(duet_json sweep 'd["protect_fail"]')"
duet_check "the sweep took less than relatch_silence_ms (no stream could age out during it)" \
	python3 -c "import sys; sys.exit(0 if float('$secs') * 1000 < $SILENCE_MS else 1)"

got=$(duet_json at_b 'd["packets"]') distinct=$(duet_json at_b 'd["distinct_ssrc"]')
duet_diag "B received $got packets with $distinct distinct SSRCs"
abuse_check_within "at most $MAX_SSRC distinct SSRCs reached B" 1 "$MAX_SSRC" "$distinct"
abuse_check_within "at most $MAX_SSRC packets reached B" 1 "$MAX_SSRC" "$got"

lim=$(($(abuse_relay_num drop_srtp_ssrc_limit) - lim0))
auth=$(($(abuse_pair_num sweep a_drop_auth) - auth0))
duet_diag "duetd: drop_srtp_ssrc_limit $lim, sweep a_drop_auth $auth"
duet_check "the relay heartbeat has drop_srtp_ssrc_limit" abuse_relay_has drop_srtp_ssrc_limit
duet_check_eq "drop_srtp_ssrc_limit counts every packet past the cap ($SWEEP - what B got)" \
	$((sent - got)) "$lim"
duet_check_eq "no sweep packet was refused as a forgery (a_drop_auth)" 0 "$auth"

rss1=$(duetd_proc_kb VmRSS) data1=$(duetd_proc_kb VmData)
heap1=$(duet_relay_stat mem_heap_bytes)
heap=$((heap1 - heap0)) rss=$(((rss1 - rss0) * 1024)) data=$(((data1 - data0) * 1024))
duet_diag "duetd memory growth over the sweep: heap (mem_heap_bytes) $heap B, VmRSS $rss B," \
	"VmData $data B; bound $HEAP_BOUND B"
duet_diag "that is $((heap / SWEEP)) B of heap per swept SSRC"
abuse_check_within "duetd's heap grew by less than 1 MiB over the sweep" \
	-1000000000 $((HEAP_BOUND - 1)) "$heap"
abuse_check_within "duetd's resident set grew by less than 1 MiB over the sweep" \
	-1000000000 $((HEAP_BOUND - 1)) "$rss"

# The sweep's streams are silent now; after relatch_silence_ms a new
# stream may take their place: a real call from the same addresses.
wait_s=$((swept_at + SILENCE_MS / 1000 + 1 - SECONDS))
((wait_s > 0)) && sleep "$wait_s"
abuse_call_bg legit "$A" "$B" "$SA" "$SB" --a-key-out "$K_AIN" --a-key-in "$K_BIN" \
	--b-key-out "$K_BIN" --b-key-in "$K_AIN" --packets 100 --rate realtime --timeout 30 \
	--require-audio-check
abuse_call_wait legit
duet_settle
duet_diag "legitimate call: $(abuse_call_figures legit)"
duet_check_eq "a legitimate call on the swept pair: nothing lost, no SRTP failure, audio check pass" \
	"$ABUSE_CALL_GOOD" "$(abuse_call_outcome legit)"
duet_check "the relay heartbeat has srtp_streams_removed" abuse_relay_has srtp_streams_removed
duet_check_ge "srtp_streams_removed counted silent sweep streams removed (for the call's new SSRC)" \
	1 $(($(abuse_relay_num srtp_streams_removed) - removed0))

duet_check_stop TERM
