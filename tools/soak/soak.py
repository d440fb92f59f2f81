#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""soak.py: the Python half of tools/soak/soak.sh (see docs/soak.md).

  soak.py churn SOCK RELAY OUT.tsv [--rate 50] [--hold 2] [--seconds S]
          [--modes passthrough,verify,rekey] [--suite S] [--a-ip IP --b-ip IP]
          [--prefix churn] [--max-live N]
      Create pairs with pair_create.lua at RATE per second, as a control
      plane does, each in the next mode of --modes with fresh keys, and
      delete each with pair_delete.lua HOLD seconds later; so RATE creates
      and RATE deletes per second once the first HOLD has passed. Redis
      errors (it is being restarted) are counted and the loop goes on,
      reconnecting; a pair whose delete failed is retried. Stops after
      SECONDS or on SIGTERM, deleting what it still holds. One line per pair
      to OUT.tsv: id mode created_ms deleted_ms. Prints a JSON summary.

  soak.py ended SOCK RELAY OUT.tsv
      Follow duet:{R}:ended from its start (XREAD BLOCK), across Redis
      restarts, until SIGTERM (then read what is left). One line per entry:
      stream_id id reason created_ms ended_ms. duetd trims the stream to
      about 100000 entries, fewer than an hour of churn makes: this keeps
      them all.

  soak.py sweep SOCK RELAY
      Delete every pair record still in Redis (pair_delete.lua): what a
      caller whose delete met a Redis restart left behind. Prints the ids.

  soak.py ethstats TELEMETRY_SOCK
      duetd's ethdev counters (received, missed, sent, errors) through
      DPDK's telemetry socket, as JSON.

  soak.py report DIR
      Read what soak.sh left in DIR (samples.csv, events.tsv, rounds.tsv,
      churn.tsv, ended.tsv, calls/*.json) and write DIR/report.md,
      DIR/summary.json and, when matplotlib is importable, DIR/memory.png.

Only the standard library (and matplotlib for the plot): Redis is spoken
over its unix socket in RESP, like benchmarks/control/churn.py.
"""

import argparse
import base64
import csv
import glob
import json
import os
import signal
import socket
import sys
import time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LUA_DIR = os.path.join(SRC, "lib", "contract", "lua")
EVENTS_MAXLEN = "100000"  # lib/redis/duet_redis.h DUET_REDIS_EVENTS_MAXLEN
# Key bytes (key || salt) per suite: lib/srtp/duet_sdes.c.
SUITE_KEY_LEN = {
    "AES_CM_128_HMAC_SHA1_80": 30,
    "AES_CM_128_HMAC_SHA1_32": 30,
    "AEAD_AES_128_GCM": 28,
    "AEAD_AES_256_GCM": 44,
}
# Key fields per mode, relay's view: lib/contract/duet_record.h.
MODE_KEYS = {
    "passthrough": (),
    "verify": ("a_in", "b_in"),
    "rekey": ("a_in", "a_out", "b_in", "b_out"),
}

stopping = False


def on_term(_sig, _frm):
    global stopping
    stopping = True


class RedisError(Exception):
    """An error reply (-ERR ...)."""


class Resp:
    """A RESP2 client over a unix socket: just enough for the soak."""

    def __init__(self, path, timeout=2.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _bulk(self, n):
        while len(self.buf) < n + 2:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data.decode()

    def _reply(self):
        line = self._line()
        t, rest = line[:1], line[1:].decode()
        if t == b"+":
            return rest
        if t == b"-":
            return RedisError(rest)
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._bulk(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise ConnectionError("bad RESP reply %r" % line[:40])

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.s.sendall(b"".join(out))
        r = self._reply()
        if isinstance(r, RedisError):
            raise r
        return r


def connect(path):
    try:
        return Resp(path)
    except OSError:
        return None


def now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------------------
# churn


class Scripts:
    """pair_create.lua / pair_delete.lua by SHA, loaded again after NOSCRIPT
    (a restarted Redis has an empty script cache)."""

    def __init__(self):
        self.src = {}
        for name in ("pair_create", "pair_delete"):
            with open(os.path.join(LUA_DIR, name + ".lua")) as f:
                self.src[name] = f.read()
        self.sha = {}

    def run(self, r, name, keys, args):
        for attempt in (0, 1):
            if name not in self.sha or attempt == 1:
                self.sha[name] = r.call("SCRIPT", "LOAD", self.src[name])
            try:
                return r.call("EVALSHA", self.sha[name], len(keys), *keys, *args)
            except RedisError as e:
                if not str(e).startswith("NOSCRIPT") or attempt == 1:
                    raise
        return None


def sdes(suite):
    return "%s inline:%s" % (suite, base64.b64encode(os.urandom(SUITE_KEY_LEN[suite])).decode())


def cmd_churn(a):
    relay = a.relay
    keys = lambda pid: ("duet:{%s}:free" % relay, "duet:{%s}:alloc" % relay,
                        "duet:{%s}:pair:%s" % (relay, pid), "duet:{%s}:events" % relay)
    # pair_create.lua also reads the relay's heartbeat (pair_delete.lua
    # takes the four above).
    create_keys = lambda pid: keys(pid) + ("duet:{%s}:relay" % relay,)
    modes = a.modes.split(",")
    for m in modes:
        if m not in MODE_KEYS:
            sys.exit("churn: unknown mode %r" % m)
    if a.suite not in SUITE_KEY_LEN:
        sys.exit("churn: unknown suite %r" % a.suite)
    scripts = Scripts()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    out = open(a.out, "a", buffering=1)
    r = None
    live = []  # (due_s, id, mode, created_ms), in creation order
    n = 0
    maybe = []  # creates whose reply was lost with the connection
    st = {"created": 0, "deleted": 0, "create_errors": 0, "delete_errors": 0,
          "nofree": 0, "reconnects": 0, "created_reply_lost": 0, "last_error": ""}
    t0 = time.monotonic()
    end = t0 + a.seconds if a.seconds > 0 else float("inf")

    def fail(e, what):
        nonlocal r
        st[what] += 1
        st["last_error"] = str(e)[:120]
        if not isinstance(e, RedisError):
            if r is not None:
                r.close()
            r = None

    def delete_due(tnow, everything=False):
        nonlocal r
        while live and (everything or live[0][0] <= tnow):
            due, pid, mode, cms = live[0]
            if r is None:
                return False
            try:
                scripts.run(r, "pair_delete", keys(pid), (pid, EVENTS_MAXLEN))
            except (OSError, ConnectionError, RedisError) as e:
                fail(e, "delete_errors")
                return False
            live.pop(0)
            st["deleted"] += 1
            out.write("%s\t%s\t%d\t%d\n" % (pid, mode, cms, now_ms()))
        return True

    next_create = t0
    while not stopping and time.monotonic() < end:
        tnow = time.monotonic()
        if r is None:
            r = connect(a.sock)
            if r is None:
                time.sleep(0.1)
                continue
            st["reconnects"] += 1
            try:
                for pid, mode, cms in maybe:
                    if r.call("EXISTS", keys(pid)[2]) == 1:
                        live.append((tnow + a.hold, pid, mode, cms))
                        st["created"] += 1
                        st["create_errors"] -= 1
                        st["created_reply_lost"] += 1
                maybe.clear()
            except (OSError, ConnectionError, RedisError) as e:
                fail(e, "create_errors")
                continue
        delete_due(tnow)
        if tnow >= next_create and r is not None and len(live) < a.max_live:
            mode = modes[n % len(modes)]
            pid = "%s-%d" % (a.prefix, n)
            fields = ["mode", mode]
            if a.a_ip:
                fields += ["a_ip", a.a_ip]
            if a.b_ip:
                fields += ["b_ip", a.b_ip]
            for k in MODE_KEYS[mode]:
                fields += [k, sdes(a.suite)]
            try:
                scripts.run(r, "pair_create", create_keys(pid), [pid, EVENTS_MAXLEN] + fields)
                live.append((tnow + a.hold, pid, mode, now_ms()))
                st["created"] += 1
                n += 1
            except RedisError as e:
                # EXISTS cannot happen (fresh ids); NOFREE: the long calls
                # hold the endpoints; NORELAY: duetd's heartbeat expired
                # while it was down (the SIGKILL). Move on to the next id.
                if str(e).startswith("NOFREE"):
                    st["nofree"] += 1
                n += 1
                fail(e, "create_errors")
            except (OSError, ConnectionError) as e:
                # Redis may have run the script and died before the reply:
                # look again once it is back.
                maybe.append((pid, mode, now_ms()))
                n += 1
                fail(e, "create_errors")
            next_create += 1.0 / a.rate
            # Never run to catch up after an outage: a burst is no load of
            # this shape.
            if next_create < tnow - 1.0:
                next_create = tnow
        else:
            time.sleep(max(0.0, min(next_create, live[0][0] if live else next_create) - tnow,
                           0.0) or 0.002)
    # Give back what is still held (within 15 s: Redis may be down).
    give_up = time.monotonic() + 15
    while live and time.monotonic() < give_up:
        if r is None:
            r = connect(a.sock)
            if r is None:
                time.sleep(0.2)
                continue
        delete_due(time.monotonic(), everything=True)
    st["left_undeleted"] = len(live)
    for _due, pid, mode, cms in live:
        out.write("%s\t%s\t%d\t0\n" % (pid, mode, cms))
    out.close()
    print(json.dumps(st))


def cmd_sweep(a):
    """Delete every pair record still in Redis (pair_delete.lua), as a
    control plane cleaning up would: the pairs of a caller whose own delete
    met a Redis restart. Prints the ids."""
    r = Resp(a.sock)
    scripts = Scripts()
    prefix = "duet:{%s}:pair:" % a.relay
    ids, cur = [], "0"
    while True:
        cur, keys = r.call("SCAN", cur, "MATCH", prefix + "*", "COUNT", 1000)
        ids += [k[len(prefix):] for k in keys]
        if cur == "0":
            break
    for pid in ids:
        scripts.run(r, "pair_delete", ("duet:{%s}:free" % a.relay, "duet:{%s}:alloc" % a.relay,
                                       prefix + pid, "duet:{%s}:events" % a.relay),
                    (pid, EVENTS_MAXLEN))
    print(json.dumps({"swept": ids}))


def cmd_ethstats(a):
    """duetd's ethdev counters through DPDK's telemetry socket: packets
    the kernel or the PMD lost before duetd saw them (imissed, ierrors,
    rx_nombuf) and transmit errors, which duetd's own drop counters do not
    see. Prints JSON, {} when the socket does not answer."""
    out = {}
    try:
        t = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        t.settimeout(2)
        t.connect(a.sock)
        t.recv(16384)
        t.send(b"/ethdev/list")
        ports = json.loads(t.recv(16384).decode())["/ethdev/list"]
        for p in ports:
            t.send(("/ethdev/stats,%d" % p).encode())
            st = json.loads(t.recv(65536).decode())["/ethdev/stats"]
            out[str(p)] = {k: st.get(k) for k in ("ipackets", "opackets", "imissed", "ierrors",
                                                  "oerrors", "rx_nombuf")}
    except (OSError, ValueError, KeyError):
        pass
    print(json.dumps(out))


# ---------------------------------------------------------------------------
# ended


def cmd_ended(a):
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    key = "duet:{%s}:ended" % a.relay
    out = open(a.out, "a", buffering=1)
    last = "0-0"
    r = None
    drain_until = None
    while True:
        if stopping and drain_until is None:
            drain_until = time.monotonic() + 3
        if drain_until is not None and time.monotonic() > drain_until:
            break
        if r is None:
            r = connect(a.sock)
            if r is None:
                time.sleep(0.2)
                continue
        try:
            rep = r.call("XREAD", "COUNT", 2000, "BLOCK", 200, "STREAMS", key, last)
        except (OSError, ConnectionError, RedisError):
            r.close()
            r = None
            continue
        if not rep:
            if drain_until is not None:
                break
            continue
        for _stream, entries in rep:
            for eid, flat in entries:
                f = dict(zip(flat[::2], flat[1::2]))
                out.write("%s\t%s\t%s\t%s\t%s\n" % (eid, f.get("id", ""), f.get("reason", ""),
                                                    f.get("created_ms", ""), f.get("ended_ms", "")))
                last = eid
    out.close()


# ---------------------------------------------------------------------------
# report


def read_tsv(path, ncols):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) >= ncols:
                rows.append(p)
    return rows


def overlaps(a0, a1, windows):
    return any(a0 < w1 and w0 < a1 for _k, w0, w1 in windows)


def fmt_n(x):
    return "{:,}".format(x)


def linear_slope(xs, ys):
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


def solve3(m, v):
    """Solve the 3x3 system m x = v (Gaussian elimination); None if singular."""
    a = [list(map(float, m[i])) + [float(v[i])] for i in range(3)]
    for c in range(3):
        piv = max(range(c, 3), key=lambda r: abs(a[r][c]))
        if abs(a[piv][c]) < 1e-12:
            return None
        a[c], a[piv] = a[piv], a[c]
        for r in range(3):
            if r != c:
                f = a[r][c] / a[c][c]
                a[r] = [x - f * y for x, y in zip(a[r], a[c])]
    return [a[i][3] / a[i][i] for i in range(3)]


def fit_pairs_time(pairs, ts, ys):
    """Least squares y = a + b * pairs + c * t: (b, c). With the pairs
    constant, y = a + c * t: (None, c)."""
    n = len(ys)
    if n < 3:
        return None, None
    if max(pairs) - min(pairs) < 10:
        return None, linear_slope(ts, ys)
    cols = ([1.0] * n, pairs, ts)
    m = [[sum(x * y for x, y in zip(cols[i], cols[j])) for j in range(3)] for i in range(3)]
    v = [sum(x * y for x, y in zip(cols[i], ys)) for i in range(3)]
    r = solve3(m, v)
    if r is None:
        return None, linear_slope(ts, ys)
    return r[1], r[2]


def cmd_report(a):
    d = a.dir
    meta = json.load(open(os.path.join(d, "meta.json")))
    t0 = meta["start_ms"]
    margin = meta.get("outage_margin_ms", 3000)
    # Outage windows: from the kill to the service being back, plus a margin.
    events = read_tsv(os.path.join(d, "events.tsv"), 3)
    windows, open_at = [], {}
    for kind, what, ms in events:
        ms = int(ms)
        if what == "down":
            open_at[kind] = ms
        elif what == "up" and kind in open_at:
            windows.append((kind, open_at.pop(kind) - margin, ms + margin))
    for kind, ms in open_at.items():
        windows.append((kind, ms - margin, 1 << 62))
    duetd_windows = [w for w in windows if w[0] == "duetd"]

    # Samples.
    samples = []
    with open(os.path.join(d, "samples.csv")) as f:
        for row in csv.DictReader(f):
            samples.append(row)

    def num(row, k):
        v = row.get(k, "")
        return int(v) if v not in ("", None) and v.lstrip("-").isdigit() else None

    # Calls (duet-caller rounds).
    rounds = read_tsv(os.path.join(d, "rounds.tsv"), 7)
    calls = {"all": [0, 0], "clean": [0, 0], "outage": [0, 0]}
    pkts = {"clean": [0, 0], "outage": [0, 0]}
    late = {"clean": 0, "outage": 0}
    overloaded = False
    jitter_max = [0.0]
    by_mode = {}
    created_ids = {}  # id -> (created_ms, ended_by_ms or 0)
    failed_rounds = []
    for lane, mode, rnd, ncalls, s_ms, e_ms, rc in rounds:
        s_ms, e_ms, ncalls = int(s_ms), int(e_ms), int(ncalls)
        path = os.path.join(d, "calls", "%s-r%s.json" % (lane, rnd))
        try:
            j = json.load(open(path))
        except (OSError, ValueError):
            failed_rounds.append((lane, rnd, rc, "no JSON report"))
            continue
        where = "outage" if overlaps(s_ms, e_ms, windows) else "clean"
        bm = by_mode.setdefault(mode, [0, 0])
        detail = j.get("calls_detail") or []
        if rc not in ("0", "3"):
            try:
                why = open(path[:-5] + ".err").readline().strip()[:100]
            except OSError:
                why = ""
            failed_rounds.append((lane, rnd, rc, "exit %s%s" % (rc, ": " + why if why else "")))
        for c in detail:
            # A call not decoded (duet-caller decodes --decode-calls of
            # them) passes byte for byte: "skipped-no-decode" comes only
            # after every packet arrived in order with its payload intact.
            ok = all((c.get(x) or {}).get("audio_check") in ("pass", "skipped-no-decode")
                     for x in ("a_to_b", "b_to_a"))
            for k in ("all", where):
                calls[k][0] += 1
                calls[k][1] += ok
            bm[0] += 1
            bm[1] += ok
            if c.get("pair"):
                created_ids[c["pair"]] = (s_ms, e_ms)
        for x in ("a_to_b", "b_to_a"):
            dd = j.get(x) or {}
            pkts[where][0] += dd.get("sent") or 0
            pkts[where][1] += dd.get("lost") or 0
            late[where] += dd.get("send_late") or 0
            jit = (dd.get("jitter_ms") or {}).get("max")
            if jit is not None and where == "clean":
                jitter_max[0] = max(jitter_max[0], jit)

    # Churn and ended records.
    churn = read_tsv(os.path.join(d, "churn.tsv"), 4)
    for pid, _mode, cms, dms in churn:
        created_ids[pid] = (int(cms), int(dms))
    ended = read_tsv(os.path.join(d, "ended.tsv"), 5)
    ended_by_id = {}
    reasons = {}
    for _eid, pid, reason, c_ms, e_ms in ended:
        ended_by_id.setdefault(pid, []).append((reason, c_ms, e_ms))
        reasons[reason] = reasons.get(reason, 0) + 1
    missing_outage, missing = [], []
    for pid, (cms, dms) in created_ids.items():
        if pid in ended_by_id:
            continue
        # Pairs duetd could not see: deleted while it was down (the killed
        # duetd never saw the delete, the restarted one never saw the pair),
        # or made and deleted while it was away from Redis (never installed).
        if any(dms and w0 <= dms <= w1 for _k, w0, w1 in duetd_windows) or any(
                dms and w0 <= cms and dms <= w1 for _k, w0, w1 in windows):
            missing_outage.append(pid)
        else:
            missing.append(pid)
    dup = sum(1 for v in ended_by_id.values() if len(v) > 1)
    # The same entry twice (same times): duetd's outbox sent it again after
    # a Redis restart lost the reply (at-least-once, docs/redis-contract.md).
    replayed = sum(1 for v in ended_by_id.values() if len(v) > 1 and len(set(v)) == 1)
    unknown = sum(1 for pid in ended_by_id if pid not in created_ids)

    # Heap per churned pair, per segment between disruptions (from warm-up
    # after the start or the service's return to the next disruption): the
    # heap moves with the pairs alive (call rounds start and end), so fit
    # heap = a + b * pairs + c * t; c is the drift, and c over the segment's
    # churn rate is what each churned pair leaves behind. The same for RSS.
    warm_ms = meta.get("warmup_ms", 30000)
    # The fit ends where the first lane started no more rounds: after it the
    # pairs alive are churn only, a mix the fit does not model.
    last_end = {}
    for lane, _m, _r, _n, _s, e_ms, _rc in rounds:
        last_end[lane] = max(last_end.get(lane, 0), int(e_ms))
    load_end = min(last_end.values()) if last_end else 1 << 62
    cuts = [t0] + sorted(int(ms) for _k, what, ms in events if what == "down" and
                         int(ms) < load_end) + [load_end]
    segs = []
    for i in range(len(cuts) - 1):
        lo, hi = cuts[i], cuts[i + 1]
        back = [int(ms) for _k, what, ms in events if what == "up" and lo <= int(ms) < hi]
        start = (max(back) if back else lo) + warm_ms
        pts = [s for s in samples if start <= int(s["unix_ms"]) < hi - margin and
               num(s, "mem_heap_bytes") is not None and num(s, "rss_kb") is not None and
               num(s, "pairs") is not None and
               not overlaps(int(s["unix_ms"]), int(s["unix_ms"]) + 1, windows)]
        if len(pts) < 4:
            continue
        m0, m1 = int(pts[0]["unix_ms"]), int(pts[-1]["unix_ms"])
        churned = sum(1 for _pid, _m, _c, dms in churn if m0 <= int(dms) <= m1)
        churned += sum(int(n) for _l, _m, _r, n, _s, e_ms, _rc in rounds if m0 <= int(e_ms) <= m1)
        # Steady state: the samples with every round running (pairs at the
        # segment's usual count); the heap of a pair is not one number (a
        # call's has SRTP streams, a churned one none), so samples taken
        # while a round was between its calls are left out when enough
        # others remain.
        counts = {}
        for x in pts:
            counts[num(x, "pairs")] = counts.get(num(x, "pairs"), 0) + 1
        usual = max(counts, key=lambda k: (counts[k], k))
        tol = max(5, usual // 30)
        steady = [x for x in pts if abs(num(x, "pairs") - usual) <= tol]
        if len(steady) >= max(4, len(pts) // 2):
            pts = steady
            m0, m1 = int(pts[0]["unix_ms"]), int(pts[-1]["unix_ms"])
            churned = sum(1 for _pid, _m, _c, dms in churn if m0 <= int(dms) <= m1)
            churned += sum(int(n) for _l, _m, _r, n, _s, e_ms, _rc in rounds
                           if m0 <= int(e_ms) <= m1)
        ts = [(int(s["unix_ms"]) - m0) / 1000 for s in pts]
        pairs = [num(s, "pairs") for s in pts]
        heap = [num(s, "mem_heap_bytes") for s in pts]
        rss = [num(s, "rss_kb") * 1024 for s in pts]
        hb, hc = fit_pairs_time(pairs, ts, heap)
        rb, rc_ = fit_pairs_time(pairs, ts, rss)
        dur = ts[-1] - ts[0]
        segs.append({
            "from_s": round((m0 - t0) / 1000), "to_s": round((m1 - t0) / 1000),
            "samples": len(pts), "pairs_min": min(pairs), "pairs_max": max(pairs),
            "heap0": heap[0], "heap1": heap[-1], "rss0_kb": rss[0] // 1024,
            "rss1_kb": rss[-1] // 1024, "pairs_churned": churned,
            "heap_per_live_pair": hb, "heap_drift_bps": hc, "rss_drift_bps": rc_,
            "heap_drift": hc * dur if hc is not None else None,
            "rss_drift": rc_ * dur if rc_ is not None else None,
            "heap_per_pair": hc * dur / churned if churned and hc is not None else None,
            "rss_per_pair": rc_ * dur / churned if churned and rc_ is not None else None,
        })
    fitted = [s for s in segs if s["heap_per_pair"] is not None]
    best = None
    if fitted:
        churned = sum(s["pairs_churned"] for s in fitted)
        best = {
            "pairs_churned": churned,
            "heap_drift": sum(s["heap_drift"] for s in fitted),
            "rss_drift": sum(s["rss_drift"] for s in fitted),
            "seconds": sum(s["to_s"] - s["from_s"] for s in fitted),
        }
        best["heap_per_pair"] = best["heap_drift"] / churned if churned else None
        best["rss_per_pair"] = best["rss_drift"] / churned if churned else None

    # Totals from the heartbeat.
    fwd = 0
    prev = None
    for s in samples:
        v = num(s, "fwd_pkts")
        if v is None:
            continue
        if prev is not None and v >= prev:
            fwd += v - prev
        elif prev is not None:
            fwd += v  # duetd restarted: its counters start again at 0
        prev = v
    rss_vals = [num(s, "rss_kb") for s in samples if num(s, "rss_kb") is not None]
    cs, stop, sweep, eth = {}, {}, [], {}
    try:
        eth = json.load(open(os.path.join(d, "ethdev_final.json")))
    except (OSError, ValueError):
        pass
    try:
        sweep = json.load(open(os.path.join(d, "sweep.json")))["swept"]
    except (OSError, ValueError, KeyError):
        pass
    for name in ("churn.json", "stop.json"):
        try:
            v = json.load(open(os.path.join(d, name)))
        except (OSError, ValueError):
            v = {}
        if name == "churn.json":
            cs = v
        else:
            stop = v

    summary = {
        "seconds": meta["seconds"], "calls_per_mode": meta["calls"],
        "calls_made": calls["all"][0], "calls_passed": calls["all"][1],
        "calls_made_clean": calls["clean"][0], "calls_passed_clean": calls["clean"][1],
        "calls_made_outage": calls["outage"][0], "calls_passed_outage": calls["outage"][1],
        "by_mode": by_mode,
        "pkts_sent_clean": pkts["clean"][0], "pkts_lost_clean": pkts["clean"][1],
        "pkts_sent_outage": pkts["outage"][0], "pkts_lost_outage": pkts["outage"][1],
        "fwd_pkts": fwd, "pairs_created": len(created_ids), "ended_entries": len(ended),
        "ended_reasons": reasons, "ended_missing": len(missing),
        "ended_missing_outage": len(missing_outage), "ended_duplicate_ids": dup,
        "ended_unknown_ids": unknown, "swept_at_end": len(sweep), "churn": cs, "segments": segs,
        "heap_bytes_per_churned_pair": best["heap_per_pair"] if best else None,
        "rss_bytes_per_churned_pair": best["rss_per_pair"] if best else None,
        "rss_kb_min": min(rss_vals) if rss_vals else None,
        "rss_kb_max": max(rss_vals) if rss_vals else None,
        "failed_rounds": failed_rounds, "windows": windows,
        "send_late_clean": late["clean"], "overloaded": overloaded, "jitter_max_ms_clean": jitter_max[0],
        "duetd_rc": stop.get("duetd_rc"), "ethdev": eth, "asan_reports": stop.get("asan_reports"),
    }
    json.dump(summary, open(os.path.join(d, "summary.json"), "w"), indent=1)
    plotted = plot(d, samples, windows, t0)

    pct = lambda a_, b_: "%.4f %%" % (100.0 * a_ / b_) if b_ else "-"
    L = []
    L.append("# duet soak, %s" % time.strftime("%Y-%m-%d %H:%M", time.localtime(t0 / 1000)))
    L.append("")
    L.append("Command: `%s` (%s s; %d calls per mode at voice rate, churn %s pairs/s held "
             "%s s; duetd `%s`%s%s)." % (
                 meta["command"], meta["seconds"], meta["calls"], meta["churn_rate"],
                 meta["churn_hold"], meta["duetd"],
                 "; af_packet rings " + meta["af_packet"] if meta.get("af_packet") else "",
                 "; duetd's environment " + meta["duetd_env"] if meta.get("duetd_env") else ""))
    L.append("")
    L.append("Disruptions (window = down .. back up, +/- %d s):" % (margin // 1000))
    L.append("")
    for kind, w0, w1 in windows:
        L.append("- %s: %d s .. %s s" % (kind, (w0 + margin - t0) // 1000,
                                          (w1 - margin - t0) // 1000 if w1 < 1 << 61 else "end"))
    L.append("")
    L.append("| figure | value |")
    L.append("|---|---|")
    L.append("| calls passed the audio check / made (all; up to 10 a round decoded and "
             "compared sample for sample, the rest byte for byte) | %s / %s |" % (
        fmt_n(calls["all"][1]), fmt_n(calls["all"][0])))
    L.append("| ... outside the outage windows | %s / %s |" % (
        fmt_n(calls["clean"][1]), fmt_n(calls["clean"][0])))
    L.append("| ... overlapping an outage window | %s / %s |" % (
        fmt_n(calls["outage"][1]), fmt_n(calls["outage"][0])))
    for m in sorted(by_mode):
        L.append("| ... %s | %s / %s |" % (m, fmt_n(by_mode[m][1]), fmt_n(by_mode[m][0])))
    L.append("| RTP packets lost outside the outage windows | %s of %s (%s) |" % (
        fmt_n(pkts["clean"][1]), fmt_n(pkts["clean"][0]), pct(pkts["clean"][1], pkts["clean"][0])))
    L.append("| RTP packets lost in calls overlapping an outage | %s of %s (%s) |" % (
        fmt_n(pkts["outage"][1]), fmt_n(pkts["outage"][0]),
        pct(pkts["outage"][1], pkts["outage"][0])))
    L.append("| RTP packets sent more than 2 ms late (clean rounds; the callers kept up?) | %s (%s) |"
             % (fmt_n(late["clean"]), pct(late["clean"], pkts["clean"][0])))
    # Late sends alone are a busy sender, not a broken call; half of them
    # late, or jitter a jitter buffer would not hide, is a machine short
    # of CPU.
    if pkts["clean"][0] and (late["clean"] > pkts["clean"][0] / 2 or jitter_max[0] > 20):
        overloaded = True
    L.append("| largest jitter a receiver measured (clean rounds) | %.2f ms |" % jitter_max[0])
    L.append("| packets duetd forwarded (heartbeat fwd_pkts, summed over restarts) | %s |"
             % fmt_n(fwd))
    L.append("| pairs created (calls + churn) | %s |" % fmt_n(len(created_ids)))
    L.append("| ended records | %s (%s) |" % (fmt_n(len(ended)), ", ".join(
        "%s %s" % (k, fmt_n(v)) for k, v in sorted(reasons.items()))))
    L.append("| created pairs without an ended record | %s (+ %s that duetd could not see: "
             "deleted while it was down, or made and deleted while it was away from Redis) |"
             % (fmt_n(len(missing)), fmt_n(len(missing_outage))))
    L.append("| ids ended twice (of which the same entry replayed) / ended but not created here "
             "| %s (%s) / %s |" % (dup, replayed, unknown))
    L.append("| pairs still in Redis at the end, deleted by the sweep | %s |" % len(sweep))
    L.append("| churn: created / deleted / create errors (NOFREE) / delete errors | %s / %s / "
             "%s (%s) / %s |" % tuple(fmt_n(cs.get(k, 0)) for k in (
                 "created", "deleted", "create_errors", "nofree", "delete_errors")))
    L.append("| duetd's exit status at the final SIGTERM | %s |" % stop.get("duetd_rc", "-"))
    if meta.get("asan"):
        L.append("| ASan/LSan/UBSan reports in duetd's log | %s |" % stop.get("asan_reports", "-"))
    relay = {}
    try:
        for line in open(os.path.join(d, "relay_final.txt")):
            k, _, v = line.rstrip("\n").partition(" ")
            relay[k] = v
    except OSError:
        pass
    drops = ", ".join("%s %s" % (k[5:], fmt_n(int(v))) for k, v in sorted(relay.items())
                      if k.startswith("drop_") and v.isdigit() and int(v) > 0)
    L.append("| duetd's drops since its restart, by reason (final heartbeat) | %s |" % (drops or "none"))
    if eth:
        L.append("| duetd's ports since its restart (DPDK telemetry): received, missed (ring "
                 "full, never seen by duetd), sent, send errors | %s |" % "; ".join(
                     "port %s: %s, %s, %s, %s" % (p, fmt_n(v["ipackets"] or 0),
                                                  fmt_n((v["imissed"] or 0) + (v["ierrors"] or 0) +
                                                        (v["rx_nombuf"] or 0)),
                                                  fmt_n(v["opackets"] or 0), fmt_n(v["oerrors"] or 0))
                     for p, v in sorted(eth.items())))
    L.append("| duetd RSS min / max | %s / %s kB |" % (
        fmt_n(summary["rss_kb_min"] or 0), fmt_n(summary["rss_kb_max"] or 0)))
    if best and meta.get("asan"):
        L.append("| heap bytes per churned pair | n/a under ASan (see below) |")
    elif best:
        L.append("| **heap bytes per churned pair** (fit over %d s, %s pairs churned) | **%.1f** "
                 "(mem_heap_bytes drift %+.0f B) |" % (best["seconds"], fmt_n(best["pairs_churned"]),
                                                       best["heap_per_pair"], best["heap_drift"]))
        L.append("| RSS bytes per churned pair (same fit) | %.1f (drift %+.0f kB) |" % (
            best["rss_per_pair"], best["rss_drift"] / 1024))
    L.append("")
    if overloaded:
        L.append("**The callers did not keep up**: half their packets left more than "
                 "2 ms late, or a receiver measured over 20 ms of jitter, so the machine was "
                 "short of CPU (other jobs, or too many calls: %d per "
                 "mode). Loss figures then measure the machine as much as duetd; run again on "
                 "an idle machine or with a lower SOAK_CALLS." % meta["calls"])
        L.append("")
    if meta.get("asan"):
        L.append("ASan build: mem_heap_bytes is 0 (ASan's allocator bypasses glibc's mallinfo2) "
                 "and RSS includes ASan's quarantine and shadow memory, so the memory figures "
                 "say nothing about duetd here; the leak check at the final SIGTERM does.")
        L.append("")
    if segs:
        L.append("Memory between disruptions (from %d s after each (re)start, samples with "
                 "every round running; fit y = a + b * pairs + c * t):" % (warm_ms // 1000))
        L.append("")
        L.append("| from .. to (s) | pairs | mem_heap_bytes first -> last | heap per live pair (b) "
                 "| heap drift (c) | RSS first -> last | RSS drift | churned | heap B / churned pair |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        f1 = lambda x, u="": "-" if x is None else "%.1f%s" % (x, u)
        for s in segs:
            L.append("| %d .. %d | %d..%d | %s -> %s | %s | %s | %s -> %s kB | %s | %s | %s |" % (
                s["from_s"], s["to_s"], s["pairs_min"], s["pairs_max"], fmt_n(s["heap0"]),
                fmt_n(s["heap1"]), f1(s["heap_per_live_pair"], " B"), f1(s["heap_drift_bps"], " B/s"),
                fmt_n(s["rss0_kb"]), fmt_n(s["rss1_kb"]), f1(s["rss_drift_bps"], " B/s"),
                fmt_n(s["pairs_churned"]), f1(s["heap_per_pair"])))
        L.append("")
    if failed_rounds:
        L.append("Caller rounds that did not finish cleanly: " + "; ".join(
            "%s r%s (%s)" % (ln, rn, why) for ln, rn, _rc, why in failed_rounds))
        L.append("")
    if plotted:
        L.append("![duetd memory](memory.png)")
        L.append("")
    L.append("Raw: samples.csv (every %s s), events.tsv, rounds.tsv, calls/*.json, churn.tsv, "
             "ended.tsv, summary.json." % meta["sample_s"])
    with open(os.path.join(d, "report.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    print("\n".join(L))


def plot(d, samples, windows, t0):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    xs, rss, heap, dpdk, pairs = [], [], [], [], []
    for s in samples:
        if not s.get("rss_kb"):
            continue
        xs.append((int(s["unix_ms"]) - t0) / 1000)
        rss.append(int(s["rss_kb"]) / 1024)
        heap.append(int(s["mem_heap_bytes"]) / 1048576 if s.get("mem_heap_bytes") else None)
        pairs.append(int(s["pairs"]) if s.get("pairs") else None)
    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(10, 6))
    ax1.plot(xs, rss, label="RSS (MiB)")
    ax1.set_ylabel("duetd RSS, MiB")
    ax1b = ax1.twinx()
    ax1b.plot(xs, [p if p is not None else float("nan") for p in pairs], color="grey",
              lw=0.6, label="pairs")
    ax1b.set_ylabel("pairs")
    ax2.plot(xs, [h if h is not None else float("nan") for h in heap], color="C1")
    ax2.set_ylabel("mem_heap_bytes, MiB")
    ax2.set_xlabel("seconds since start")
    for ax in (ax1, ax2):
        for kind, w0, w1 in windows:
            ax.axvspan((w0 - t0) / 1000, min((w1 - t0) / 1000, xs[-1] if xs else 0),
                       color="red" if kind == "duetd" else "orange", alpha=0.2)
    ax1.set_title("duetd memory under soak (red: duetd killed, orange: Redis restarted)")
    fig.tight_layout()
    fig.savefig(os.path.join(d, "memory.png"), dpi=90)
    return True


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("churn")
    c.add_argument("sock")
    c.add_argument("relay")
    c.add_argument("out")
    c.add_argument("--rate", type=float, default=50)
    c.add_argument("--hold", type=float, default=2)
    c.add_argument("--seconds", type=float, default=0)
    c.add_argument("--modes", default="passthrough,verify,rekey")
    c.add_argument("--suite", default="AES_CM_128_HMAC_SHA1_80")
    c.add_argument("--a-ip", default="")
    c.add_argument("--b-ip", default="")
    c.add_argument("--prefix", default="churn")
    c.add_argument("--max-live", type=int, default=1000)
    e = sub.add_parser("ended")
    e.add_argument("sock")
    e.add_argument("relay")
    e.add_argument("out")
    w = sub.add_parser("sweep")
    w.add_argument("sock")
    w.add_argument("relay")
    t = sub.add_parser("ethstats")
    t.add_argument("sock")
    r = sub.add_parser("report")
    r.add_argument("dir")
    a = p.parse_args()
    {"churn": cmd_churn, "ended": cmd_ended, "sweep": cmd_sweep, "ethstats": cmd_ethstats,
     "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
