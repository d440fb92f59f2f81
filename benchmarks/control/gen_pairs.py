#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""gen_pairs.py RELAY N MODE [options]: the Redis protocol (for redis-cli
--pipe) of N pair records p0..p<N-1> as a control plane writes them (hash,
alloc entries; no events: duetd loads them with its start-up SCAN). By
default on the endpoints of the benchmark config: addresses .1 to .16 of
192.0.2.0/24 (leg a) and 198.51.100.0/24 (leg b), UDP ports 1024..65535,
pair i on the same host and port on both sides. --first-host and --ports
move them (the lab's topology has its clients on .10 and .11). Keyed modes
get random keys per pair. Used by benchmarks/control (run.sh, restart.sh)
and tests/integration/test_crash.sh."""

import argparse
import base64
import os
import sys

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("relay")
ap.add_argument("n", type=int)
ap.add_argument("mode", choices=("passthrough", "verify", "rekey"))
ap.add_argument("--first-host", type=int, default=1,
                help="last octet of the first address; one more per full port range")
ap.add_argument("--ports", default="1024-65535", help="UDP port range MIN-MAX")
args = ap.parse_args()
port_min, port_max = (int(p) for p in args.ports.split("-"))
PORTS = port_max - port_min + 1
if not 1 <= port_min <= port_max <= 65535:
    ap.error("--ports must be MIN-MAX within 1..65535")
if args.first_host < 1 or args.first_host + (args.n - 1) // PORTS > 254:
    ap.error("%d pairs from host .%d do not fit in the /24 at %d ports per address"
             % (args.n, args.first_host, PORTS))
relay, n, mode = args.relay, args.n, args.mode
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
    host, port = args.first_host + i // PORTS, port_min + i % PORTS
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
