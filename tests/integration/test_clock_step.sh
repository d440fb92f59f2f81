#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_clock_step: duetd schedules on CLOCK_MONOTONIC and the TSC, never on
# the wall clock (issue 10, deliver 9). duetd runs under Debian's
# libfaketime with CLOCK_MONOTONIC left real (FAKETIME_DONT_FAKE_MONOTONIC)
# and its wall clock read from a file this test rewrites: an hour forward,
# then an hour behind real time (a step back of two hours). Through both:
#   - the heartbeat keeps its rhythm: updated_ms changes every stats round
#     (its value follows the stepped clock, as a timestamp written out
#     should), and the relay hash never lapses;
#   - a pair that talks (idle_ms 6000) is never ended: a step is not silence;
#   - a silent pair (idle_ms 20000) ends idle 20 s after its creation, not
#     at the forward step and not an hour late after the step back; its
#     ended entry's duration_ms (CLOCK_MONOTONIC) says 20 s.
# The idle times leave room for a slow machine: talk's is longer than the
# set-up between its latch and its call, quiet's than everything up to the
# check that it has not ended yet.
#   - `expires` is wall clock by design: a pair expiring in 30 minutes ends
#     right after the step forward, with reason expired.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_need_bins duetctl duetd

FT_LIB=
for f in /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 \
	/usr/lib/*/faketime/libfaketimeMT.so.1; do
	[[ -e $f ]] && FT_LIB=$f && break
done
[[ -n $FT_LIB ]] || duet_bail "needs Debian's faketime (apt-get install faketime)"
FT_FILE=$DUET_TMP/faketime
echo "+0" >"$FT_FILE"
# duetd alone runs under libfaketime (the lab's DUETD is what it starts).
wrap=$DUET_TMP/duetd-faketime
printf '#!/bin/sh\nexec env LD_PRELOAD=%q FAKETIME_TIMESTAMP_FILE=%q FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 %q "$@"\n' \
	"$FT_LIB" "$FT_FILE" "$DUETD" >"$wrap"
chmod +x "$wrap"
DUETD=$wrap
duet_start_all

# step OFFSET: duetd's wall clock becomes real time plus OFFSET ("+3600").
step() {
	echo "$1" >"$FT_FILE"
	duet_diag "wall clock of duetd: real $1 s"
}
# beats SECONDS: how many times updated_ms changed, sampled every 50 ms,
# and whether the relay hash was ever missing ("beats missing").
beats() {
	local end=$((SECONDS + $1)) last='' now n=0 missing=0
	while ((SECONDS < end)); do
		now=$(duet_relay_stat updated_ms)
		[[ -z $now ]] && missing=$((missing + 1))
		[[ -n $now && $now != "$last" ]] && { [[ -n $last ]] && n=$((n + 1)); last=$now; }
		sleep 0.05
	done
	echo "$n $missing"
}
# Stats rounds every DUET_STATS_MS (200 ms), 15 in 3 s; a round waits for
# the last one to finish, and libfaketime reads its file on every wall-clock
# call, so a loaded machine sees fewer. At least one a second is the rhythm
# kept; a heartbeat scheduled on the wall clock stalls for the whole hour.
MIN_BEATS=3

read -r n missing < <(beats 3)
duet_check_ge "real clock: the heartbeat changes every stats round ($n in 3 s)" "$MIN_BEATS" "$n"

A=$DUET_A_IP:40400 B=$DUET_B_IP:40400
duet_pair_create talk --idle-ms 6000
TA=$PAIR_A TB=$PAIR_B
duet_require "latch talk" duet_latch talk "$A" "$TA" "$B" "$TB"
# Stamped before the create: duetd cannot have the pair earlier, so the
# wait below is never shorter than the pair's life. (Stamped after it,
# duetctl's own run time, ~0.1 s, came off the wait: CI once saw 7994 ms.)
QUIET_MS=20000
t_quiet=$(date +%s%3N)
duet_pair_create quiet --idle-ms $QUIET_MS
duet_pair_create exp --expires $(($(date +%s) + 1800))
duet_require "quiet and exp loaded" duet_wait 5 bash -c \
	"[[ \$(redis-cli -s '$DUET_REDIS_SOCK' HGET '$(duet_key stats:quiet)' state) == waiting && \$(redis-cli -s '$DUET_REDIS_SOCK' HGET '$(duet_key stats:exp)' state) == waiting ]]"
# talk: 12 s at 20 packets/s each way, across both steps.
duet_talk_both c "$A" "$TA" "$B" "$TB" 240 20

sleep 1
# Read before the step: a round stamped just after it could otherwise
# already be in Redis when we read, and the difference would be seconds.
hb_before=$(duet_relay_stat updated_ms)
step +3600
read -r n missing < <(beats 3)
duet_check_ge "an hour forward: the heartbeat keeps its rhythm ($n changes in 3 s)" "$MIN_BEATS" "$n"
duet_check_eq "an hour forward: the relay hash never lapsed" 0 "$missing"
hb_after=$(duet_relay_stat updated_ms)
duet_check_ge "an hour forward: updated_ms carries the stepped clock" $((hb_before + 3000000)) "$hb_after"
duet_check "an hour forward: exp ends, reason expired (expires is wall clock)" \
	duet_wait 5 duet_ended_is exp reason expired
duet_check_eq "an hour forward: quiet (idle $((QUIET_MS / 1000)) s, created $((($(date +%s%3N) - t_quiet) / 1000)) s ago) is not ended" \
	"" "$(duet_ended quiet reason)"

hb_before=$(duet_relay_stat updated_ms)
step -3600
read -r n missing < <(beats 3)
duet_check_ge "two hours back: the heartbeat keeps its rhythm ($n changes in 3 s)" "$MIN_BEATS" "$n"
duet_check_eq "two hours back: the relay hash never lapsed" 0 "$missing"
hb_after=$(duet_relay_stat updated_ms)
duet_check "two hours back: updated_ms carries the stepped clock" \
	test "$hb_after" -lt "$((hb_before - 3000000))"

# talk's checks come right after its last packet, within its idle_ms.
duet_talk_wait c
duet_check_eq "talk: every packet arrived both ways across both steps" "240 240" \
	"$(duet_json c-b 'd["recv"]["matched"]') $(duet_json c-a 'd["recv"]["matched"]')"
duet_check_eq "talk: never ended" "" "$(duet_ended talk reason)"
duet_check_match "talk: still installed" '^(active|waiting)$' "$(duet_stat talk state)"

duet_check "quiet ends idle" duet_wait 30 duet_ended_is quiet reason idle
waited=$(($(date +%s%3N) - t_quiet))
dur=$(duet_ended quiet duration_ms)
duet_diag "quiet: seen ended $waited ms after its create (test's clock), duration_ms $dur"
# When the test saw it is no measure of when it ended (it looks after the
# step back's checks): only the lower bound is checked here.
duet_check "quiet was not seen ended before its $QUIET_MS ms of idle" \
	test "$waited" -ge "$QUIET_MS"
# duetd times idle_ms on the TSC, at the rate it measures against
# CLOCK_MONOTONIC (DPDK's estimate can be off on a VM, 0.15 % on ours; an
# estimate 1 % low would end a pair 0.2 s early); duration_ms is
# CLOCK_MONOTONIC's. So a
# pair idle for 20 s lived 20 s by the monotonic clock (1 ms allows for
# the two stamps' truncation to whole ms), and at most a few idle rounds
# (100 ms each) more.
duet_check "quiet's duration_ms is the monotonic clock's: its $QUIET_MS ms of idle, not less, not hours" \
	test "${dur:-0}" -ge $((QUIET_MS - 1)) -a "${dur:-0}" -le $((QUIET_MS + 4000))

step +0
duet_check_stop TERM
