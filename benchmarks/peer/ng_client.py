#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""ng_client: sets up calls on rtpengine through its ng control protocol,
for the peer benchmark (benchmarks/peer/run.sh).

The ng protocol is bencoded dictionaries over UDP, each message prefixed
with a cookie and a space; the answer carries the same cookie. A call is
an `offer` (caller A's SDP: where A receives) and an `answer` (callee B's
SDP). rtpengine rewrites each SDP to name one of its own media ports: the
offer's reply is what B must send to, the answer's reply what A must send
to. Media then flows A -> rtpengine -> B and back, in userspace when
rtpengine runs without its kernel module (--table=-1).

Client ports match udp_gen: A of call i on client_base + 4i, B on
client_base + 4i + 2, all on rtpengine's own address, the IP of --ng
(run.sh: 198.51.100.1 on the loopback of a private network namespace).

    ng_client.py --ng IP:PORT ping [--wait S]
    ng_client.py --ng IP:PORT setup --calls N --client-base PORT --out FILE
    ng_client.py --ng IP:PORT delete --calls N

`setup` writes one line per call, 'A_TARGET_PORT B_TARGET_PORT', for
udp_gen --targets. Requests go out in windows of up to 64 in flight and are
retried on timeout; any error reply stops it with a message naming the call.
"""
import argparse
import os
import re
import socket
import sys
import time

# ---------------------------------------------------------------- bencode


def bencode(v):
    if isinstance(v, bool):
        raise TypeError("bencode has no booleans")
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, (list, tuple)):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        out = b"d"
        for k in sorted(v, key=lambda k: k.encode() if isinstance(k, str) else k):
            out += bencode(k) + bencode(v[k])
        return out + b"e"
    raise TypeError(f"cannot bencode {type(v).__name__}")


def bdecode(data, i=0):
    """Decode one value at data[i:]; returns (value, next index). Strings
    come back as str when they are UTF-8, else bytes."""
    c = data[i:i + 1]
    if c == b"i":
        j = data.index(b"e", i)
        return int(data[i + 1:j]), j + 1
    if c == b"l":
        i += 1
        out = []
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i += 1
        out = {}
        while data[i:i + 1] != b"e":
            k, i = bdecode(data, i)
            v, i = bdecode(data, i)
            out[k] = v
        return out, i + 1
    if c.isdigit():
        j = data.index(b":", i)
        n = int(data[i:j])
        s = data[j + 1:j + 1 + n]
        if len(s) != n:
            raise ValueError("truncated string")
        try:
            return s.decode(), j + 1 + n
        except UnicodeDecodeError:
            return s, j + 1 + n
    raise ValueError(f"bad bencode at {i}: {data[i:i + 10]!r}")


# ---------------------------------------------------------------- ng


class Ng:
    def __init__(self, addr, timeout=1.0, retries=5):
        host, port = addr.rsplit(":", 1)
        self.addr = (host, int(port))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(0.05)
        self.timeout = timeout
        self.retries = retries
        self.n = 0
        self.prefix = "%x" % os.getpid()

    def many(self, requests, window=64):
        """Send dict requests, at most `window` in flight; returns replies
        in request order. Unanswered requests are resent after `timeout`."""
        replies = [None] * len(requests)
        pending = {}  # cookie -> [index, payload, sent_at, tries]
        nxt = 0
        while nxt < len(requests) or pending:
            while nxt < len(requests) and len(pending) < window:
                self.n += 1
                cookie = f"{self.prefix}_{self.n}"
                payload = cookie.encode() + b" " + bencode(requests[nxt])
                self.sock.sendto(payload, self.addr)
                pending[cookie] = [nxt, payload, time.monotonic(), 1]
                nxt += 1
            try:
                data, _ = self.sock.recvfrom(65536)
                cookie, _, body = data.partition(b" ")
                ent = pending.pop(cookie.decode(errors="replace"), None)
                if ent is not None:
                    replies[ent[0]], _ = bdecode(body)
            except socket.timeout:
                pass
            now = time.monotonic()
            for cookie, ent in list(pending.items()):
                if now - ent[2] >= self.timeout:
                    if ent[3] >= self.retries:
                        raise TimeoutError(f"no reply from rtpengine at {self.addr[0]}:{self.addr[1]} "
                                           f"to request {ent[0]} after {ent[3]} tries")
                    self.sock.sendto(ent[1], self.addr)
                    ent[2] = now
                    ent[3] += 1
        return replies


def sdp(ip, port, session):
    return ("v=0\r\n"
            f"o=- {session} 1 IN IP4 {ip}\r\n"
            "s=duet-bench\r\n"
            f"c=IN IP4 {ip}\r\n"
            "t=0 0\r\n"
            f"m=audio {port} RTP/AVP 111\r\n"
            "a=rtpmap:111 opus/48000/2\r\n"
            "a=sendrecv\r\n")


def media_port(reply, what):
    if not isinstance(reply, dict) or reply.get("result") != "ok":
        raise RuntimeError(f"{what}: rtpengine refused: {reply!r}"[:300])
    m = re.search(r"^m=audio (\d+) ", reply.get("sdp", ""), re.M)
    if m is None:
        raise RuntimeError(f"{what}: no m=audio line in the SDP rtpengine returned")
    return int(m.group(1))


FLAGS = {"ICE": "remove", "replace": ["origin", "session-connection"],
         "transport-protocol": "RTP/AVP"}


def cmd_setup(ng, args):
    calls = range(args.calls)
    offers = [dict(FLAGS, command="offer", **{"call-id": f"bench-{i}", "from-tag": f"a{i}",
                                              "sdp": sdp(ng.addr[0], args.client_base + 4 * i, i)})
              for i in calls]
    b_ports = [media_port(r, f"offer of call bench-{i}") for i, r in zip(calls, ng.many(offers))]
    answers = [dict(FLAGS, command="answer", **{"call-id": f"bench-{i}", "from-tag": f"a{i}",
                                                "to-tag": f"b{i}",
                                                "sdp": sdp(ng.addr[0], args.client_base + 4 * i + 2, i)})
               for i in calls]
    a_ports = [media_port(r, f"answer of call bench-{i}") for i, r in zip(calls, ng.many(answers))]
    with open(args.out, "w") as f:
        for a, b in zip(a_ports, b_ports):
            f.write(f"{a} {b}\n")
    print(f"ng_client: {args.calls} calls set up", file=sys.stderr)


def cmd_delete(ng, args):
    reqs = [{"command": "delete", "call-id": f"bench-{i}", "from-tag": f"a{i}"}
            for i in range(args.calls)]
    bad = [r for r in ng.many(reqs) if not isinstance(r, dict) or r.get("result") != "ok"]
    if bad:
        print(f"ng_client: {len(bad)} deletes refused, first: {bad[0]!r}"[:300], file=sys.stderr)
        return 1
    return 0


def cmd_ping(ng, args):
    end = time.monotonic() + args.wait
    while True:
        try:
            ng.retries = 1
            r = ng.many([{"command": "ping"}])[0]
            if isinstance(r, dict) and r.get("result") == "pong":
                return 0
        except TimeoutError:
            pass
        if time.monotonic() >= end:
            print("ng_client: rtpengine does not answer ping", file=sys.stderr)
            return 1
        time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ng", required=True, help="rtpengine's ng address, IP:PORT")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ping")
    p.add_argument("--wait", type=float, default=10.0)
    p = sub.add_parser("setup")
    p.add_argument("--calls", type=int, required=True)
    p.add_argument("--client-base", type=int, required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("delete")
    p.add_argument("--calls", type=int, required=True)
    args = ap.parse_args()
    ng = Ng(args.ng, timeout=0.5 if args.cmd == "ping" else 1.0)
    try:
        if args.cmd == "ping":
            return cmd_ping(ng, args)
        if args.cmd == "setup":
            cmd_setup(ng, args)
            return 0
        return cmd_delete(ng, args)
    except (RuntimeError, TimeoutError, OSError) as e:
        print(f"ng_client: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
