#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_relay_lease: one duetd per relay id (issue 10, bug 1). A second
# duetd started with the first one's relay id, on the same Redis, serving
# only one of its two addresses and with a short idle timeout, must not
# prune the first one's endpoints from the free set, must not end the
# first one's live pair, and must not write the heartbeat: it waits for the
# relay-id lease and says so. When the first one stops cleanly the second
# takes over; a duetd killed with SIGKILL and started again takes over its
# dead predecessor's lease at once instead of waiting for it to lapse.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
# The lease lives heartbeat_ttl_ms after its holder's last renewal: 15 s,
# so that the SIGKILLed duetd's lease is surely still there when its
# successor, on a slow machine, gets to the lease step (the take-over is
# what is tested, not a lapse).
duet_start_all heartbeat_ttl_ms=15000

A=$DUET_A_IP:40070
B=$DUET_B_IP:40070
total=$(((DUET_PORT_MAX - DUET_PORT_MIN + 1) * 2))
free_key=$(duet_key free)
lease_key=$(duet_key lease)

duet_check_eq "the first duetd holds the lease under its own pid" "$DUETD_PID" \
	"$(rcli GET "$lease_key" | cut -d: -f2)"
duet_check_eq "its heartbeat names the same token" "$(rcli GET "$lease_key")" \
	"$(duet_relay_stat lease)"

duet_pair_create live
LA=$PAIR_A LB=$PAIR_B
duet_require "latch live" duet_latch live "$A" "$LA" "$B" "$LB"
duet_check_eq "free holds every endpoint but live's" $((total - 2)) "$(rcli SCARD "$free_key")"

# The second duetd: same relay id, only port 0's address (on a null
# device in the relay namespace), idle timeout 500 ms. Without the lease
# it prunes port 1's 100 endpoints and idles out `live`.
CONF2=$DUET_TMP/duetd2.conf
LOG2=$DUET_TMP/duetd2.log
sed -e 's/^idle_timeout_ms = .*/idle_timeout_ms = 500/' \
	-e 's/^\[port net_af_packet0\]/[port net_null0]/' \
	-e '/^\[port net_af_packet1\]/,$d' "$DUET_CONF" >"$CONF2"
# The first duetd serves metrics on this namespace's 127.0.0.1:9465.
printf '[metrics]\nlisten = off\n' >>"$CONF2"
# shellcheck disable=SC2086 # DUET_EAL_MEM is a list of options
ip netns exec "$NS_R" "$DUETD" -l 0,1 $DUET_EAL_MEM --file-prefix "duet-$DUET_P-2" --no-pci \
	--vdev net_null0 -- -c "$CONF2" >"$LOG2" 2>&1 &
D2=$!
DUET_BG_PIDS+=("$D2")

duet_check "the second duetd says who holds the relay id" duet_wait 10 \
	grep -q "relay id $RELAY_ID is held by another duetd ([^:]*:$DUETD_PID:" "$LOG2"
# Longer than its idle timeout and several of its stats rounds.
duet_talk_both t "$A" "$LA" "$B" "$LB" 100 50
duet_talk_wait t
duet_check "the second duetd is still running (waiting, not gone)" kill -0 "$D2"
duet_check_eq "live still forwards both ways while it waits" "100 100" \
	"$(duet_json t-a 'd["recv"]["matched"]') $(duet_json t-b 'd["recv"]["matched"]')"
duet_check_eq "free set untouched: port 1's endpoints not pruned" $((total - 2)) \
	"$(rcli SCARD "$free_key")"
duet_check_eq "live's hash is still there" 1 "$(rcli EXISTS "$(duet_key pair:live)")"
duet_check_eq "live was not ended" "" "$(duet_ended live reason)"
duet_check_eq "the heartbeat is the first duetd's" "$(rcli GET "$lease_key")" \
	"$(duet_relay_stat lease)"
duet_check_eq "the lease is still the first duetd's" "$DUETD_PID" \
	"$(rcli GET "$lease_key" | cut -d: -f2)"

# A clean stop gives the lease back: the second takes over at once and
# now runs the relay id with its own configuration.
duet_check_stop TERM
duet_check "the second duetd takes the lease after the first stops" duet_wait 5 \
	grep -q "relay $RELAY_ID: lease taken, starting" "$LOG2"
duet_check "the lease names the second duetd" duet_wait 3 \
	bash -c "[[ \$(redis-cli -s '$DUET_REDIS_SOCK' GET '$lease_key' | cut -d: -f2) == $D2 ]]"
# Not in $(...): only this shell can wait for its child.
kill -TERM "$D2"
wait "$D2"
duet_check_eq "the second duetd exits 0 on SIGTERM" 0 "$?"
duet_check_eq "and gives the lease back" 0 "$(rcli EXISTS "$lease_key")"

# A crash: the lease of a SIGKILLed duetd is still live in Redis; the
# next duetd on this host sees that its holder is dead and takes it.
duet_require "duetd starts again" duetd_start
old=$DUETD_PID
kill -KILL "$DUETD_PID"
wait "$DUETD_PID" 2>/dev/null
DUETD_PID=
duet_check_eq "the dead duetd's lease is still in Redis" "$old" \
	"$(rcli GET "$lease_key" | cut -d: -f2)"
t0=$(date +%s%N)
duet_require "duetd starts after the crash" duetd_start
t1=$(date +%s%N)
duet_diag "restart after SIGKILL to heartbeat: $(((t1 - t0) / 1000000)) ms (lease ttl 15000 ms)"
duet_check "it took over the dead duetd's lease" \
	grep -q "took over the lease of [^:]*:$old:" "$DUETD_LOG"
duet_check_eq "the lease names the new duetd" "$DUETD_PID" \
	"$(rcli GET "$lease_key" | cut -d: -f2)"
duet_require "latch live again" duet_latch live "$A" "$LA" "$B" "$LB"

duet_check_stop TERM
