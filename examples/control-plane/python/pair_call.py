#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""pair_call.py: a reference control plane for duet, on python3-redis.

One call, start to end, the way a matchmaking service does it through
Redis (docs/redis-contract.md is the contract; this file only uses it):

  1. pick a relay among the candidates by their heartbeats (duet:{R}:relay);
  2. create the pair with pair_create.lua, falling back to the next relay
     when one cannot take it;
  3. print the two endpoints, one for each caller;
  4. wait for the pair's entry in duet:{R}:ended (the relay ended it);
  5. if it has not ended by --timeout, delete it with pair_delete.lua.

    pair_call.py --redis unix:/run/redis/redis.sock --idle-ms 30000 \\
        r1=192.0.2.1,198.51.100.1 r2

A candidate is a relay id, optionally with the service addresses that leg a
and leg b must use (the a_ip and b_ip hints of pair_create.lua). Output on
stdout, one "key value" line each: relay, id, a, b, then delete (deleted,
or gone: only after --timeout) and ended (the reason, and the counters).
Choices and errors go to stderr. Exit 0 once the call is over, 1 if no
relay took it or Redis failed, 2 on a bad argument.
"""
import argparse
import os
import secrets
import sys
import time

import redis

MAXLEN = "100000"  # events stream length, trimmed with MAXLEN ~ (as duetctl)
# Errors after which another relay may well succeed. EXISTS is not among
# them: a pair id names one call, it must not be tried on a second relay.
NEXT_RELAY = ("NOFREE", "NORELAY", "FULL", "DRAINING")
HERE = os.path.dirname(os.path.abspath(__file__))
LUA_DIRS = [os.environ.get("DUET_LUA_DIR", ""), "/usr/share/duet/lua",
            os.path.join(HERE, "../../../lib/contract/lua")]


def key(relay, name):
    # Every key of relay R is duet:{R}:<name>; {R} is a cluster hash tag.
    return "duet:{%s}:%s" % (relay, name)


def log(*what):
    print(*what, file=sys.stderr, flush=True)


class Scripts:
    """The contract's Lua scripts: SCRIPT LOAD once, EVALSHA after."""

    def __init__(self, r, lua_dir):
        self.r = r
        self.src = {}
        self.sha = {}
        for name in ("pair_create", "pair_delete"):
            with open(os.path.join(lua_dir, name + ".lua")) as f:
                self.src[name] = f.read()
            self.sha[name] = r.script_load(self.src[name])

    def run(self, name, keys, args):
        try:
            return self.r.evalsha(self.sha[name], len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:
            # Redis restarted or someone ran SCRIPT FLUSH: load it again.
            self.sha[name] = self.r.script_load(self.src[name])
            return self.r.evalsha(self.sha[name], len(keys), *keys, *args)


def room(hb, now_ms, max_age_ms):
    """Free pair slots the heartbeat hash hb announces, or why there are none."""
    if not hb:
        return "no heartbeat (duetd down, or cut off from this Redis)"
    if "stopped_ms" in hb:
        return "stopped"
    try:
        age = now_ms - int(hb["updated_ms"])
        free = int(hb["capacity"]) - int(hb["pairs"])
        endpoints_free = int(hb["endpoints_free"])
    except (KeyError, ValueError):
        return "heartbeat without updated_ms, capacity, pairs, endpoints_free"
    if age > max_age_ms:
        return "stale heartbeat (%d ms old)" % age
    if hb.get("draining") == "1":  # a missing field means not draining
        return "draining"
    if free <= 0 or endpoints_free < 2:
        return "full (%d free slots, %d free endpoints)" % (free, endpoints_free)
    return free


def pick_relays(r, candidates, max_age_ms):
    """The usable candidates, most free slots first."""
    now_ms = int(time.time() * 1000)
    usable = []
    for relay, hints in candidates:
        verdict = room(r.hgetall(key(relay, "relay")), now_ms, max_age_ms)
        log("relay %s: %s" % (relay, verdict if isinstance(verdict, str)
                              else "%d free slots" % verdict))
        if not isinstance(verdict, str):
            usable.append((verdict, relay, hints))
    usable.sort(key=lambda u: -u[0])  # stable: ties keep the given order
    return [(relay, hints) for _, relay, hints in usable]


def create(scripts, relay, hints, pair_id, fields):
    """pair_create.lua on one relay: (a, b), or an error text."""
    keys = [key(relay, "free"), key(relay, "alloc"), key(relay, "pair:" + pair_id),
            key(relay, "events"), key(relay, "relay")]
    args = [pair_id, MAXLEN, *fields]
    for leg, ip in zip(("a_ip", "b_ip"), hints):
        if ip:  # "r1=,198.51.100.1" hints leg b only
            args += [leg, ip]
    try:
        a, b = scripts.run("pair_create", keys, args)
        return a, b
    except redis.exceptions.ResponseError as e:
        return str(e)


def wait_ended(r, relay, pair_id, after, deadline):
    """The pair's entry in duet:{R}:ended (a dict) once duetd writes it,
    reading from stream id `after` on; None at the deadline."""
    stream = key(relay, "ended")
    while True:
        left_ms = int((deadline - time.monotonic()) * 1000)
        if left_ms <= 0:
            return None
        # BLOCK 0 would wait forever: at least 1 ms.
        for _, entries in r.xread({stream: after}, count=100, block=max(left_ms, 1)) or []:
            for entry_id, fields in entries:
                after = entry_id
                if fields.get("id") == pair_id:
                    return fields


def main():
    p = argparse.ArgumentParser(description="Pair two callers on a duet relay.")
    p.add_argument("relays", nargs="+", metavar="RELAY[=A_IP,B_IP]")
    p.add_argument("--redis", default="127.0.0.1:6379", help="host:port or unix:/path")
    p.add_argument("--id", default="call-" + secrets.token_hex(6), help="pair id")
    p.add_argument("--idle-ms", type=int, help="end the pair after this much silence")
    p.add_argument("--timeout", type=float, default=3600,
                   help="seconds to wait for the end before deleting the pair")
    p.add_argument("--max-age-ms", type=int, default=5000,
                   help="oldest heartbeat (updated_ms) that counts as fresh")
    p.add_argument("--lua-dir", help="where pair_create.lua and pair_delete.lua are")
    opt = p.parse_args()
    candidates = []
    for c in opt.relays:
        relay, _, ips = c.partition("=")
        candidates.append((relay, ips.split(",") if ips else []))
    lua_dir = next((d for d in ([opt.lua_dir] if opt.lua_dir else LUA_DIRS)
                    if d and os.path.exists(os.path.join(d, "pair_create.lua"))), None)
    if lua_dir is None:
        p.error("pair_create.lua not found: give --lua-dir")
    if opt.redis.startswith("unix:") or opt.redis.startswith("/"):
        r = redis.Redis(unix_socket_path=opt.redis.removeprefix("unix:"), decode_responses=True)
    else:
        host, _, port = opt.redis.rpartition(":")
        r = redis.Redis(host=host.strip("[]"), port=int(port), decode_responses=True)

    # The pair's own fields (mode defaults to passthrough: no keys needed).
    fields = ["mode", "passthrough"]
    if opt.idle_ms is not None:
        fields += ["idle_ms", str(opt.idle_ms)]

    try:
        scripts = Scripts(r, lua_dir)
        for relay, hints in pick_relays(r, candidates, opt.max_age_ms):
            # Read the ended stream's last id before the create: the pair's
            # entry, however fast it comes, is after it.
            last = r.xrevrange(key(relay, "ended"), count=1)
            after = last[0][0] if last else "0-0"
            got = create(scripts, relay, hints, opt.id, fields)
            if isinstance(got, tuple):
                break
            log("relay %s refused pair %s: %s" % (relay, opt.id, got))
            if not got.startswith(NEXT_RELAY):
                return 1
        else:
            log("no relay could take pair %s" % opt.id)
            return 1
        a, b = got
        # What the signalling tells each caller: send your media here.
        print("relay %s\nid %s\na %s\nb %s" % (relay, opt.id, a, b), flush=True)

        deadline = time.monotonic() + opt.timeout
        ended = wait_ended(r, relay, opt.id, after, deadline)
        if ended is None:
            # The call outlived --timeout: end it. Naming its endpoints
            # leaves alone a pair created again under the id meanwhile.
            log("pair %s: no end within %g s, deleting it" % (opt.id, opt.timeout))
            keys = [key(relay, n) for n in ("free", "alloc", "pair:" + opt.id, "events")]
            done = scripts.run("pair_delete", keys, [opt.id, MAXLEN, a, b])
            print("delete %s" % ("deleted" if done == 1 else "gone"), flush=True)
            if done == 1:
                # duetd writes its call record for the pair we ended.
                ended = wait_ended(r, relay, opt.id, after, time.monotonic() + 5)
        # Else nothing to delete: after idle or expired duetd deletes the
        # record itself, after deleted it is gone, and after replaced the
        # record is whatever the writer who changed it made it.
        if ended is not None:
            print("ended %s duration_ms=%s a_pkts=%s b_pkts=%s" % (
                ended.get("reason"), ended.get("duration_ms"), ended.get("a_pkts"),
                ended.get("b_pkts")), flush=True)
        return 0
    except redis.exceptions.RedisError as e:
        log("redis: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
