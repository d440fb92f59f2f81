#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""churn.py SOCK RELAY SECONDS RATE IDS...: write RATE pair changes per
second for SECONDS, as a control plane does (HSET of the record, then XADD
op put), round-robin over the given existing pair ids (their idle_ms
changes, so duetd applies an in-place update). Pipelined in batches every
10 ms. Prints the number of changes written. Used by control/churn.sh."""

import socket
import sys
import time

path, relay, seconds, rate = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
ids = sys.argv[5:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)


def cmd(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


written = 0
t0 = time.monotonic()
batch = max(1, rate // 100)
sink = bytearray()
s.setblocking(False)
while time.monotonic() - t0 < seconds:
    due = t0 + written / rate
    now = time.monotonic()
    if now < due:
        time.sleep(due - now)
    buf = []
    for k in range(batch):
        pid = ids[(written + k) % len(ids)]
        buf.append(cmd("HSET", "duet:{%s}:pair:%s" % (relay, pid), "idle_ms",
                       600000 + (written + k) % 1000))
        buf.append(cmd("XADD", "duet:{%s}:events" % relay, "MAXLEN", "~", 100000, "*",
                       "op", "put", "id", pid))
    data = b"".join(buf)
    s.setblocking(True)
    s.sendall(data)
    s.setblocking(False)
    try:
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
    except BlockingIOError:
        pass
    written += batch
print(written)
