#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""create_latency.py: time from a control plane's pair_create.lua call to
the first packet duetd forwards for the new pair (issue "Benchmarks", item
5). Sequential creates paced at up to RATE per second: each creates a pair
(leg b pinned to B's listening socket), then A sends a probe to leg a's
endpoint every 50 us until B receives one, then the pair is deleted with
pair_delete.lua. Sockets are opened inside the caller namespaces (setns).
Prints CSV rows (control,create_to_forward,RATE,<metric>,...) for run RUN.

usage: create_latency.py SOCK RELAY NS_A NS_B A_IP B_IP RELAY_IP_A RELAY_IP_B
                         COUNT RATE RUN LUA_DIR"""

import ctypes
import os
import select
import struct
import socket
import statistics
import sys
import time

(sock_path, relay, ns_a, ns_b, a_ip, b_ip, rip_a, rip_b, count, rate, run,
 lua_dir) = sys.argv[1:13]
count, rate = int(count), float(rate)
libc = ctypes.CDLL("libc.so.6", use_errno=True)
CLONE_NEWNET = 0x40000000


def in_netns(ns, fn):
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    fd = os.open("/var/run/netns/" + ns, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + ns)
        return fn()
    finally:
        libc.setns(own, CLONE_NEWNET)
        os.close(fd)
        os.close(own)


def udp(ip, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, port))
    s.setblocking(False)
    return s


class Redis:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.s.sendall(b"".join(out))
        return self.read()

    def read(self):
        line = self.f.readline().rstrip(b"\r\n")
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode()
        if t == b"*":
            return [self.read() for _ in range(int(rest))]
        raise RuntimeError("bad reply %r" % line)


r = Redis(sock_path)
sha_c = r.cmd("SCRIPT", "LOAD", open(os.path.join(lua_dir, "pair_create.lua")).read())
sha_d = r.cmd("SCRIPT", "LOAD", open(os.path.join(lua_dir, "pair_delete.lua")).read())
K = lambda k: "duet:{%s}:%s" % (relay, k)
sa = in_netns(ns_a, lambda: udp(a_ip, 0))
sb = in_netns(ns_b, lambda: udp(b_ip, 41000))
lat, timeouts = [], 0
t_start = time.monotonic()
for i in range(count):
    pid = "lat-%s-%d" % (run, i)
    due = t_start + i / rate
    now = time.monotonic()
    if now < due:
        time.sleep(due - now)
    t0 = time.monotonic()
    a, _b = r.cmd("EVALSHA", sha_c, 5, K("free"), K("alloc"), K("pair:" + pid), K("events"),
                  K("relay"), pid, 10000, "mode", "passthrough", "a_ip", rip_a, "b_ip", rip_b,
                  "b_src", "%s:41000" % b_ip)
    host, port = a.rsplit(":", 1)
    # An RTP-looking probe (version 2, PT 111): duetd latches a leg only on
    # plausible RTP/RTCP.
    probe = struct.pack("!BBHII", 0x80, 111, i & 0xFFFF, i * 960, 0x5EED0000 | (i & 0xFFFF))
    probe += pid.encode()
    got = None
    while time.monotonic() - t0 < 0.5:
        sa.sendto(probe, (host, int(port)))
        if select.select([sb], [], [], 0.00005)[0]:
            try:
                while True:
                    data = sb.recv(2048)
                    if data == probe:
                        got = time.monotonic()
            except BlockingIOError:
                pass
            if got:
                break
    if got:
        lat.append((got - t0) * 1000.0)
    else:
        timeouts += 1
    r.cmd("EVALSHA", sha_d, 4, K("free"), K("alloc"), K("pair:" + pid), K("events"), pid, 10000)
    # Drain late probes of this pair before the next one.
    time.sleep(0.002)
    try:
        while sb.recv(2048):
            pass
    except BlockingIOError:
        pass
elapsed = time.monotonic() - t_start
lat.sort()


def pct(p):
    return lat[min(len(lat) - 1, int(round(p / 100.0 * (len(lat) - 1))))] if lat else float("nan")


row = lambda m, v, u: print("control,create_to_forward,%d,%s,%.4f,%s,%s" % (rate, m, v, u, run))
row("p50_ms", pct(50), "ms")
row("p99_ms", pct(99), "ms")
row("max_ms", lat[-1] if lat else float("nan"), "ms")
row("achieved_creates_per_s", count / elapsed, "1/s")
row("timeouts", timeouts, "count")
