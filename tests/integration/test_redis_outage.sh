#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_redis_outage: Redis dies (SIGKILL) in the middle of a call and comes
# back from its AOF. The call loses no packet; a pair created and another
# deleted right after Redis returns are applied once duetd reconnects; a
# pair that went idle during the outage is ended and deleted once Redis is
# back (duetd queued the writes). Then Redis comes back empty (new data
# dir): duetd does a full resync, holds the pairs Redis no longer has
# until `duetctl resync --confirm` ends them, re-seeds the free set, and
# forwards a pair created in the new Redis.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_start_all

B=$DUET_B_IP
A=$DUET_A_IP
N=1000 # 10 s at 100 packets/s each way

duet_pair_create o1
O1A=$PAIR_A O1B=$PAIR_B
duet_pair_create o2
O2A=$PAIR_A O2B=$PAIR_B
duet_require "latch o1" duet_latch o1 "$A:40071" "$O1A" "$B:40071" "$O1B"
duet_require "latch o2" duet_latch o2 "$A:40072" "$O2A" "$B:40072" "$O2B"
reconnects0=$(duet_relay_stat redis_reconnects)

# The call: a paced stream both ways across the outage.
duet_talk_both c "$A:40071" "$O1A" "$B:40071" "$O1B" $N 100 --linger 3
sleep 1
# o3 never hears a client, so it idles out 2 s after its creation: while
# Redis is down.
duet_pair_create o3 --idle-ms 2000
O3A=$PAIR_A O3B=$PAIR_B
duet_check "o3 loaded" duet_wait 3 duet_stat_is o3 state waiting
duet_redis_kill
duet_diag "redis-server killed"
sleep 4 # o3 idles out meanwhile; duetd's reconnect backoff grows past a second
duet_check "duetd still running with Redis down" duetd_alive
duet_redis_start "$DUET_REDIS_DIR"
# A control plane acts the moment Redis is back, before duetd has noticed.
# duetd's heartbeat lapsed while Redis was down, so pair_create.lua would
# refuse the relay (test_restart checks that); this is a provisioning
# create, which reaches duetd once it reconnects.
duet_pair_create o4 --no-relay-check
O4A=$PAIR_A O4B=$PAIR_B
duet_check "duetctl delete o2 while duetd is cut off" duet_quiet duet_ctl delete o2
duet_diag "redis-server restarted; o4 created, o2 deleted"

duet_talk_wait c
duet_check_eq "A->B: all $N packets of the call arrived across the outage" "$N 0" \
	"$(duet_json c-b 'd["recv"]["matched"]') $(duet_json c-b 'd["recv"]["missing_count"]')"
duet_check_eq "B->A: all $N packets of the call arrived across the outage" "$N 0" \
	"$(duet_json c-a 'd["recv"]["matched"]') $(duet_json c-a 'd["recv"]["missing_count"]')"
duet_check "duetd counted a reconnect" duet_wait 10 duet_relay_ge redis_reconnects $((reconnects0 + 1))
duet_check "heartbeat is back in the restarted Redis" duet_wait 5 duet_relay_ge updated_ms 1

duet_check "o4 (created while duetd was cut off) is loaded" duet_wait 5 duet_stat_is o4 state waiting
duet_check "latch o4" duet_latch o4 "$A:40074" "$O4A" "$B:40074" "$O4B"
duet_peer_bg r4 "$NS_B" recv --bind "$B:40074" --count 20 --timeout 20 --tag o4
duet_peer "$NS_A" send --bind "$A:40074" --to "$O4A" --count 20 --rate 50 --tag o4 >/dev/null
duet_peer_wait r4
duet_check_eq "o4 forwards" 20 "$(duet_json r4 'd["recv"]["matched"]')"

duet_check "o2 (deleted while duetd was cut off) ended: deleted" duet_wait 5 duet_ended_is o2 reason deleted
duet_listen r2 "$NS_B" "$B:40072"
duet_peer "$NS_A" send --bind "$A:40072" --to "$O2A" --count 10 --rate 50 --tag o2 >/dev/null
duet_listen_end r2
duet_check_eq "o2 no longer forwards" 0 "$(duet_json r2 'd["recv"]["received"]')"

duet_check "o3 (idle during the outage) ended: idle" duet_wait 5 duet_ended_is o3 reason idle
duet_check "o3's record deleted after reconnect" duet_wait 5 \
	bash -c "[[ \$(redis-cli -s '$DUET_REDIS_SOCK' EXISTS '$(duet_key pair:o3)') == 0 ]]"
duet_check_eq "o3's endpoints free again" "1 1" \
	"$(rcli SISMEMBER "$(duet_key free)" "$O3A") $(rcli SISMEMBER "$(duet_key free)" "$O3B")"

# --- Redis comes back empty: full resync ----------------------------------------
# o5's endpoints, written by hand into the new Redis, must not be o1's or
# o4's (drawn at random from the free set): a held pair yields endpoints
# that a new record claims, which would leave one pair held, not two.
free_ep() { # LEG PORT: the first endpoint of LEG at or above PORT that o1 and o4 do not use
	local p=$2 e
	while e=$(duet_ep "$1" $p); [[ " $O1A $O1B $O4A $O4B " == *" $e "* ]]; do p=$((p + 1)); done
	echo "$e"
}
O5A=$(free_ep a 20078) O5B=$(free_ep b 20079)
reconnects1=$(duet_relay_stat redis_reconnects)
duet_redis_kill
sleep 1
duet_redis_start "$DUET_TMP/redis-empty"
duet_pair_put o5 "$O5A" "$O5B"
duet_check "duetd reconnects to the empty Redis" duet_wait 10 duet_relay_ge redis_reconnects $((reconnects1 + 1))
duet_check "o5 (in the new Redis) is loaded" duet_wait 5 duet_stat_is o5 state waiting
duet_check "latch o5" duet_latch o5 "$A:40075" "$O5A" "$B:40075" "$O5B"
duet_peer_bg r5 "$NS_B" recv --bind "$B:40075" --count 20 --timeout 20 --tag o5
duet_peer "$NS_A" send --bind "$A:40075" --to "$O5A" --count 20 --rate 50 --tag o5 >/dev/null
duet_peer_wait r5
duet_check_eq "o5 forwards" 20 "$(duet_json r5 'd["recv"]["matched"]')"

# Every installed pair is gone from the new Redis: the safety valve holds
# them (test_resync_hold) until the control plane confirms.
duet_check "o1 and o4, absent from the new Redis, are held" duet_wait 5 duet_relay_ge resync_held 2
duet_check "duetctl resync --confirm" duet_quiet duet_ctl resync --confirm
duet_check "o1 ended once confirmed" duet_wait 5 duet_ended_is o1 reason deleted
duet_listen r1 "$NS_B" "$B:40071"
duet_peer "$NS_A" send --bind "$A:40071" --to "$O1A" --count 10 --rate 50 --tag o1-after >/dev/null
duet_listen_end r1
duet_check_eq "o1, absent from the new Redis, no longer forwards" 0 "$(duet_json r1 'd["recv"]["received"]')"
duet_check "relay pairs = 1 after the resync" duet_wait 3 bash -c \
	"[[ \$(redis-cli -s '$DUET_REDIS_SOCK' HGET '$(duet_key relay)' pairs) == 1 ]]"
total=$(((DUET_PORT_MAX - DUET_PORT_MIN + 1) * 2))
duet_check_eq "free re-seeded in the new Redis (all but o5's endpoints)" $((total - 2)) \
	"$(rcli SCARD "$(duet_key free)")"

duet_check_stop TERM
