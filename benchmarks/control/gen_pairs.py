#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""gen_pairs.py RELAY N MODE: the Redis protocol (for redis-cli --pipe) of N
pair records as a control plane writes them (hash, alloc entries; no
events: duetd loads them with its start-up SCAN), on endpoints of the
benchmark config: 16 addresses per port, UDP ports 1024..65535. Keyed modes
get random keys per pair. Used by benchmarks/control/run.sh only."""

import base64
import os
import sys

relay, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
PORTS = 65535 - 1024 + 1
out = sys.stdout.buffer


def cmd(*args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(parts)


def key(suite=b"AES_CM_128_HMAC_SHA1_80"):
    return suite + b" inline:" + base64.b64encode(os.urandom(30))


buf = []
for i in range(n):
    host, port = 1 + i // PORTS, 1024 + i % PORTS
    a, b = "192.0.2.%d:%d" % (host, port), "198.51.100.%d:%d" % (host, port)
    pid = "p%d" % i
    fields = ["a", a, "b", b, "mode", mode]
    if mode in ("verify", "rekey"):
        fields += ["a_in", key(), "b_in", key()]
    if mode == "rekey":
        fields += ["a_out", key(), "b_out", key()]
    buf.append(cmd("HSET", "duet:{%s}:pair:%s" % (relay, pid), *fields))
    buf.append(cmd("HSET", "duet:{%s}:alloc" % relay, a, pid, b, pid))
    if len(buf) >= 20000:
        out.write(b"".join(buf))
        buf = []
out.write(b"".join(buf))
