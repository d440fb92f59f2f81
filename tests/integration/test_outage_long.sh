#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_outage_long: nothing lost in a long outage (issue 10, item 6). Redis
# is stopped while 50,000 pairs idle out. duetd parks what ended in a
# compact ring (its outbox holds 65,536 writes, four per ended pair, so it
# alone would have dropped most of them). After Redis returns, the ended
# stream holds every one of them (or the heartbeat's ended_lost says how
# many not), their hashes are deleted and their endpoints are free again.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init

N=${OUTAGE_PAIRS:-50000}
PMIN=10000
PMAX=$((PMIN + N + 99))
DUET_PORT_MIN=$PMIN
DUET_PORT_MAX=$PMAX
duet_need_bins duetd
duet_topo_up
duet_redis_start

# N pairs as a control plane's scripts leave them: the hash and both alloc
# entries. Leg a on port 0's address, leg b on port 1's, idle_ms 10000
# (long enough for a slow machine to load them and seed the free set
# before any idles out).
python3 - "$RELAY_ID" "$DUET_RELAY_IP_A" "$DUET_RELAY_IP_B" "$PMIN" "$N" <<'EOF' |
import sys
relay, ipa, ipb, pmin, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
out = sys.stdout.buffer
def cmd(*args):
    out.write(b"*%d\r\n" % len(args))
    for a in args:
        a = a.encode()
        out.write(b"$%d\r\n%s\r\n" % (len(a), a))
for i in range(n):
    pid, a, b = "L%d" % i, "%s:%d" % (ipa, pmin + i), "%s:%d" % (ipb, pmin + i)
    cmd("HSET", "duet:{%s}:pair:%s" % (relay, pid), "a", a, "b", b, "mode", "passthrough",
        "idle_ms", "10000")
    cmd("HSET", "duet:{%s}:alloc" % relay, a, pid, b, pid)
EOF
	rcli --pipe >"$DUET_TMP/pipe.log" 2>&1
# Pair hashes of the relay (KEYS, in the test's own Redis).
pair_count() { rcli EVAL "return #redis.call('KEYS', ARGV[1])" 0 "$(duet_key 'pair:*')"; }
duet_check_eq "$N pair hashes written" "$N" "$(pair_count)"

duet_conf_write max_pairs=$((N + 100)) idle_timeout_ms=60000
duetd_start || duet_bail "duetd did not start"
duet_require "duetd loaded all $N pairs" duet_wait 30 duet_relay_ge pairs "$N"
duet_check "the free set is seeded (all but the pairs' endpoints)" duet_wait 20 bash -c \
	"[[ \$(redis-cli -s '$DUET_REDIS_SOCK' SCARD '$(duet_key free)') == 200 ]]"

# Redis goes away before the pairs idle out (10 s after they were loaded).
duet_redis_kill
t_down=$(date +%s)
duet_diag "redis-server killed; waiting for the $N pairs to idle out"
sleep 17
duet_check "duetd is still running" duetd_alive
t_up_ms=$(date +%s%3N)
duet_redis_start "$DUET_REDIS_DIR"
duet_diag "redis-server back after $(($(date +%s) - t_down)) s"

duet_check "duetd writes its heartbeat again" duet_wait 20 duet_relay_ge updated_ms 1
duet_check "every parked ended pair is written out" duet_wait 60 bash -c \
	"[[ \$(redis-cli -s '$DUET_REDIS_SOCK' HGET '$(duet_key relay)' ended_waiting) == 0 ]]"
lost=$(duet_relay_stat ended_lost)
duet_check_eq "no ended pair was lost (ended_lost)" 0 "$lost"
duet_check_eq "relay pairs = 0" 0 "$(duet_relay_stat pairs)"
duet_check "the ended stream holds all $N, reason idle" duet_wait 30 bash -c \
	"[[ \$(redis-cli -s '$DUET_REDIS_SOCK' XLEN '$(duet_key ended)') -ge $N ]]"
# Distinct pairs that ended idle while Redis was away (ended_ms before it
# came back): all of them went through the parking.
idle=$(rcli --json XRANGE "$(duet_key ended)" - + | python3 -c '
import json, sys
up = int(sys.argv[1])
ids = set()
for _, f in json.load(sys.stdin):
    d = dict(zip(f[::2], f[1::2])) if isinstance(f, list) else f
    if d.get("reason") == "idle" and d.get("id", "").startswith("L") and int(d["ended_ms"]) < up:
        ids.add(d["id"])
print(len(ids))' "$t_up_ms")
duet_check_eq "distinct pairs in the stream that ended idle during the outage" "$((N - lost))" "$idle"
pairs_gone() { [[ $(pair_count) == 0 ]]; }
duet_check "their hashes are deleted" duet_wait 30 pairs_gone
duet_check_eq "their endpoints are free again" "$(((PMAX - PMIN + 1) * 2))" \
	"$(rcli SCARD "$(duet_key free)")"
duet_check_eq "alloc is empty" 0 "$(rcli HLEN "$(duet_key alloc)")"

duet_check_stop TERM
