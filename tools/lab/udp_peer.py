#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""udp_peer: the client side of duet's integration tests and demo.

Runs as an ordinary kernel process inside a test network namespace (never
inside duetd) and plays a media client: it sends RTP-shaped UDP packets that
carry a tag and a sequence number, receives what the relay forwards, and
reports in JSON what arrived, from which source addresses, and which
sequence numbers are missing. It also makes the junk a relay must drop: raw
IP packets of another protocol, TCP SYNs, and hand-built Ethernet frames with
one defect each.

Every loop is bounded in packets and in seconds, so a broken relay makes a
test fail, never hang. Standard library only.

IPv4 and IPv6 alike: an IPv6 socket address is written [ADDR]:PORT, as
duetd writes endpoints, and the reports' "sources" are written the same
way (ADDR in its shortest form). The frame mode is IPv4 only.

Modes:
  send   --bind IP:PORT --to IP:PORT --count N --rate PPS --tag X
  recv   --bind IP:PORT --count N --timeout S [--tag X]
  talk   --bind IP:PORT --to IP:PORT --count N --rate PPS --tag X
         [--expect N --expect-tag Y]   (send and receive on one socket)
  rawip  --bind IP --to IP --proto P --count N
  tcpsyn --bind IP --to IP:PORT --count N
  frame  --iface IF --dst-mac MAC --src IP:PORT --to IP:PORT --kind K --count N
  ping   --bind IP --to IP --count N   (ICMP or ICMPv6 echo; no ping binary needed)

Starting and stopping together, however slowly each process starts:
--ready-file (created once bound), --go-file (send/talk start sending only
once it exists; --delay adds seconds), --stop-file (recv/talk finish soon
after it appears).
"""
import argparse
import json
import os
import select
import signal
import socket
import struct
import sys
import time
import zlib

MAGIC = b"DUET"
RTP = struct.Struct("!BBHII")  # V/P/X/CC, M/PT, sequence, timestamp, SSRC
MIN_PAYLOAD = RTP.size + len(MAGIC) + 1 + 4
MAX_SECONDS = 3600.0  # no mode may run longer than this, whatever it is asked

stop_requested = False


def on_signal(signum, frame):
    # Ctrl-C or SIGTERM ends the run early but still prints the report, so
    # the demo can show what got through.
    global stop_requested
    stop_requested = True


def parse_ep(text, need_port=True):
    """'a.b.c.d:port' or '[v6]:port' -> (ip, port), the address in its
    shortest form; refuses anything else by name."""
    host, sep, port = text.rpartition(":")
    if not need_port and not sep:
        host, port = text, "0"
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not an IPv4 address:port or an [IPv6 address]:port")
    if host.startswith("[") and host.endswith("]"):
        try:
            return fmt_ip6(host[1:-1]), int(port)
        except OSError:
            raise argparse.ArgumentTypeError(f"'{text}' has no valid IPv6 address") from None
    try:
        socket.inet_aton(host)
    except OSError:
        raise argparse.ArgumentTypeError(
            f"'{text}' has no valid IPv4 address (IPv6: [ADDR]:PORT)") from None
    return host, int(port)


def fmt_ip6(text):
    return socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, text))


def parse_ip(text):
    """An IPv4 or IPv6 address (no brackets, no port)."""
    try:
        socket.inet_aton(text)
        return text
    except OSError:
        pass
    try:
        return fmt_ip6(text)
    except OSError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an IPv4 or IPv6 address") from None


def family_of(ip):
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def fmt_ep(ep):
    """(ip, port[, flow, scope]) as duetd writes an endpoint."""
    if ":" in ep[0]:
        return f"[{ep[0]}]:{ep[1]}"
    return f"{ep[0]}:{ep[1]}"


def fill_bytes(seq, n):
    # Deterministic filler, so the receiver can tell a corrupted payload.
    return bytes(((seq * 7 + i) & 0xFF) for i in range(n))


def build_payload(tag, seq, size):
    tag_b = tag.encode()[:64]
    ssrc = zlib.crc32(tag_b)
    head = RTP.pack(0x80, 111, seq & 0xFFFF, (seq * 960) & 0xFFFFFFFF, ssrc)
    head += MAGIC + bytes([len(tag_b)]) + tag_b + struct.pack("!I", seq)
    return head + fill_bytes(seq, max(0, size - len(head)))


def parse_payload(data):
    """(tag, seq, intact) or None when the payload is not ours."""
    if len(data) < MIN_PAYLOAD or data[RTP.size:RTP.size + 4] != MAGIC:
        return None
    off = RTP.size + 4
    tag_len = data[off]
    off += 1
    if len(data) < off + tag_len + 4:
        return None
    tag = data[off:off + tag_len].decode(errors="replace")
    off += tag_len
    (seq,) = struct.unpack("!I", data[off:off + 4])
    off += 4
    return tag, seq, data[off:] == fill_bytes(seq, len(data) - off)


class Tally:
    """What one socket received; 'matched' counts distinct wanted sequences."""

    def __init__(self, expect, expect_tag):
        self.expect = expect
        self.expect_tag = expect_tag
        self.received = 0
        self.sources = {}
        self.tags = {}
        self.seen = set()
        self.duplicates = 0
        self.corrupt = 0
        self.foreign = 0
        self.other_tag = 0
        self.reordered = 0
        self.last_seq = -1
        self.first_rx = None
        self.last_rx = None

    def add(self, data, src):
        now = time.time()
        self.first_rx = self.first_rx or now
        self.last_rx = now
        self.received += 1
        key = fmt_ep(src)
        self.sources[key] = self.sources.get(key, 0) + 1
        parsed = parse_payload(data)
        if parsed is None:
            self.foreign += 1
            return
        tag, seq, intact = parsed
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if self.expect_tag is not None and tag != self.expect_tag:
            self.other_tag += 1
            return
        if not intact:
            self.corrupt += 1
        if seq in self.seen:
            self.duplicates += 1
            return
        self.seen.add(seq)
        if seq < self.last_seq:
            self.reordered += 1
        self.last_seq = max(self.last_seq, seq)

    @property
    def matched(self):
        return len(self.seen)

    def done(self):
        return self.expect > 0 and self.matched >= self.expect

    def report(self):
        missing = [s for s in range(self.expect) if s not in self.seen]
        return {
            "received": self.received,
            "matched": self.matched,
            "expected": self.expect,
            "expect_tag": self.expect_tag,
            "missing_count": len(missing),
            "missing": missing[:200],
            "sources": self.sources,
            "tags": self.tags,
            "duplicates": self.duplicates,
            "corrupt": self.corrupt,
            "foreign": self.foreign,
            "other_tag": self.other_tag,
            "reordered": self.reordered,
            "seq_min": min(self.seen) if self.seen else None,
            "seq_max": max(self.seen) if self.seen else None,
            "first_rx": self.first_rx,
            "last_rx": self.last_rx,
        }


def udp_socket(bind, ttl=None):
    fam = family_of(bind[0])
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    if ttl is not None:
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, ttl)
        else:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    s.bind(bind)
    s.setblocking(False)
    return s


def mark_ready(path):
    # Written only after bind(), so a test can start the other side then.
    if path:
        with open(path + ".tmp", "w") as f:
            f.write(f"{os.getpid()}\n")
        os.rename(path + ".tmp", path)


def drain(sock, tally):
    while True:
        try:
            data, src = sock.recvfrom(65535)
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionRefusedError:
            # An ICMP port unreachable from an earlier send; not a packet.
            continue
        tally.add(data, src)


def wait_go(sock, args, tally):
    """With --go-file, receive (into tally) until the file exists, so peers
    started one after the other begin sending together; then --delay more
    seconds. Bounded by --go-timeout."""
    path = getattr(args, "go_file", None)
    delay_end = None
    end = time.monotonic() + args.go_timeout
    while not stop_requested and time.monotonic() < end:
        now = time.monotonic()
        if delay_end is None and (not path or os.path.exists(path)):
            delay_end = now + args.delay
        if delay_end is not None and now >= delay_end:
            return True
        if tally is None:
            time.sleep(0.005)
            continue
        readable, _, _ = select.select([sock], [], [], 0.005)
        if readable:
            drain(sock, tally)
    return False


def run_io(sock, args, to, count, tally):
    """Send count packets at args.rate to `to` (if any) while receiving into
    tally; then keep receiving until tally is done, linger runs out after
    the last send, or the overall timeout passes."""
    if to is not None and not wait_go(sock, args, tally):
        print(f"udp_peer: --go-file {args.go_file} did not appear within "
              f"{args.go_timeout} s; sending nothing", file=sys.stderr)
        count = 0
    start = time.monotonic()
    rate = max(args.rate, 0.001)
    sent = errors = 0
    deadline = start + min(args.timeout, MAX_SECONDS)
    last_send = start
    stop_file = getattr(args, "stop_file", None)
    while not stop_requested:
        now = time.monotonic()
        if now >= deadline:
            break
        if stop_file and os.path.exists(stop_file):
            # Told to finish: take what is still in flight, then stop.
            deadline = min(deadline, now + 0.3)
            stop_file = None
        if sent + errors >= count:
            if tally is None or tally.done() or now >= last_send + args.linger:
                break
            wake = min(deadline, last_send + args.linger)
        else:
            due = start + (sent + errors) / rate
            if now >= due:
                try:
                    sock.sendto(build_payload(args.tag, args.start_seq + sent + errors,
                                              args.size), to)
                    sent += 1
                except OSError:
                    # No ARP answer or an ICMP error: count it and move on,
                    # the receiver's report shows the gap.
                    errors += 1
                last_send = time.monotonic()
                continue
            wake = min(deadline, due)
        if tally is None:
            time.sleep(max(0.0, min(wake - now, 0.05)))
            continue
        if stop_file:
            wake = min(wake, now + 0.05)  # look for the stop file often
        try:
            readable, _, _ = select.select([sock], [], [], max(0.0, wake - now))
        except InterruptedError:
            continue
        if readable:
            drain(sock, tally)
    return sent, errors, time.monotonic() - start


def cmd_send(args):
    sock = udp_socket(args.bind, args.ttl)
    mark_ready(args.ready_file)
    sent, errors, secs = run_io(sock, args, args.to, args.count, None)
    return {"mode": "send", "bind": fmt_ep(args.bind), "to": fmt_ep(args.to),
            "sent": sent, "send_errors": errors, "seconds": round(secs, 3)}


def cmd_recv(args):
    sock = udp_socket(args.bind)
    mark_ready(args.ready_file)
    tally = Tally(args.count, args.tag)
    args.linger = args.timeout
    _, _, secs = run_io(sock, args, None, 0, tally)
    return {"mode": "recv", "bind": fmt_ep(args.bind), "seconds": round(secs, 3),
            "recv": tally.report()}


def cmd_talk(args):
    sock = udp_socket(args.bind, args.ttl)
    mark_ready(args.ready_file)
    expect = args.count if args.expect is None else args.expect
    tally = Tally(expect, args.expect_tag)
    sent, errors, secs = run_io(sock, args, args.to, args.count, tally)
    return {"mode": "talk", "bind": fmt_ep(args.bind), "to": fmt_ep(args.to),
            "sent": sent, "send_errors": errors, "seconds": round(secs, 3),
            "recv": tally.report()}


def cmd_rawip(args):
    s = socket.socket(family_of(args.bind), socket.SOCK_RAW, args.proto)
    s.bind((args.bind, 0))
    sent = 0
    for i in range(min(args.count, 100000)):
        s.sendto(build_payload(args.tag, i, args.size), (args.to, 0))
        sent += 1
        time.sleep(1.0 / max(args.rate, 0.001))
    return {"mode": "rawip", "proto": args.proto, "sent": sent}


def cmd_tcpsyn(args):
    # A connect with a timeout shorter than the kernel's first SYN
    # retransmission (1 s) puts exactly one SYN on the wire per attempt.
    attempts = answered = 0
    for _ in range(min(args.count, 1000)):
        s = socket.socket(family_of(args.bind), socket.SOCK_STREAM)
        s.settimeout(args.syn_timeout)
        s.bind((args.bind, 0))
        attempts += 1
        try:
            s.connect(args.to)
            answered += 1
        except ConnectionRefusedError:
            answered += 1
        except OSError:
            pass
        finally:
            s.close()
    return {"mode": "tcpsyn", "attempts": attempts, "answered": answered}


def cmd_ping(args):
    # A raw ICMP socket sees every echo reply to this host, so replies are
    # matched by our identifier and sequence. ICMPv6: the kernel fills in
    # the checksum (it covers a pseudo-header) and hands us no IP header.
    v6 = family_of(args.bind) == socket.AF_INET6
    if v6 != (family_of(args.to) == socket.AF_INET6):
        raise SystemExit("udp_peer ping: --bind and --to are of different families")
    if v6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    req_type, reply_type = (128, 129) if v6 else (8, 0)
    s.bind((args.bind, 0))
    s.setblocking(False)
    ident = os.getpid() & 0xFFFF
    replies, rtts = 0, []
    for seq in range(min(args.count, 1000)):
        if stop_requested:
            break
        body = struct.pack("!d", time.time()) + fill_bytes(seq, 48)
        hdr = struct.pack("!BBHHH", req_type, 0, 0, ident, seq)
        if not v6:
            hdr = hdr[:2] + struct.pack("!H", csum16(hdr + body)) + hdr[4:]
        t0 = time.monotonic()
        s.sendto(hdr + body, (args.to, 0))
        deadline = t0 + args.wait
        got = False
        while not got and time.monotonic() < deadline:
            r, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            data, src = s.recvfrom(65535)
            icmp = data if v6 else data[(data[0] & 0x0F) * 4:]
            if len(icmp) < 8 or (parse_ip(src[0]) if v6 else src[0]) != args.to:
                continue
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
            if typ == reply_type and rid == ident and rseq == seq and icmp[8:] == body:
                got = True
                replies += 1
                rtts.append(round((time.monotonic() - t0) * 1000.0, 3))
        rest = t0 + args.interval - time.monotonic()
        if rest > 0 and seq + 1 < args.count:
            time.sleep(rest)
    return {"mode": "ping", "to": args.to, "sent": min(args.count, 1000),
            "replies": replies, "rtt_ms": rtts}


def csum16(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


FRAME_KINDS = ("good", "ip_cksum", "ip_frag", "ttl1", "udp_len", "ip_len", "ip_hlen",
               "vlan", "ethertype", "udp_cksum")


def build_frame(kind, src_mac, dst_mac, src, dst, payload, ttl):
    """Ethernet + IPv4 + UDP with exactly one defect named by kind."""
    udp_len = 8 + len(payload)
    src_ip, dst_ip = socket.inet_aton(src[0]), socket.inet_aton(dst[0])
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", src[1], dst[1], udp_len, 0) + payload
    ucs = csum16(pseudo + udp) or 0xFFFF
    if kind == "udp_cksum":
        ucs ^= 0x5A5A
    udp = udp[:6] + struct.pack("!H", ucs) + udp[8:]
    if kind == "udp_len":
        # UDP claims more bytes than the IP datagram holds.
        udp = udp[:4] + struct.pack("!H", udp_len + 40) + udp[6:]
    frag = 0x2000 if kind == "ip_frag" else 0x4000  # MF set, or DF
    ihl_byte = 0x44 if kind == "ip_hlen" else 0x45
    total = 20 + len(udp) + (100 if kind == "ip_len" else 0)
    ip = struct.pack("!BBHHHBBH4s4s", ihl_byte, 0, total, 0x1234, frag,
                     1 if kind == "ttl1" else ttl, 17, 0, src_ip, dst_ip)
    ics = csum16(ip)
    if kind == "ip_cksum":
        ics ^= 0x0101
    ip = ip[:10] + struct.pack("!H", ics) + ip[12:]
    eth_type = b"\x88\xb5" if kind == "ethertype" else b"\x08\x00"
    eth = dst_mac + src_mac
    if kind == "vlan":
        eth += b"\x81\x00" + struct.pack("!H", 100)
    return eth + eth_type + ip + udp


def mac_bytes(text):
    parts = text.split(":")
    if len(parts) != 6:
        raise argparse.ArgumentTypeError(f"'{text}' is not a MAC address")
    try:
        return bytes(int(p, 16) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a MAC address") from None


def cmd_frame(args):
    with open(f"/sys/class/net/{args.iface}/address") as f:
        src_mac = mac_bytes(f.read().strip())
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((args.iface, 0))
    sent = 0
    for i in range(min(args.count, 100000)):
        frame = build_frame(args.kind, src_mac, args.dst_mac, args.src, args.to,
                            build_payload(args.tag, args.start_seq + i, args.size), args.ttl or 64)
        s.send(frame)
        sent += 1
        time.sleep(1.0 / max(args.rate, 0.001))
    return {"mode": "frame", "kind": args.kind, "sent": sent}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)

    def common(p, sender=True, paced=False):
        p.add_argument("--json", action="store_true", help="print the report as JSON")
        p.add_argument("--ready-file", help="file created once the socket is bound")
        p.add_argument("--tag", default="duet", help="tag carried in every payload")
        p.add_argument("--size", type=int, default=172, help="UDP payload bytes (default 172)")
        if sender:
            p.add_argument("--count", type=int, required=True, help="packets to send")
            p.add_argument("--rate", type=float, default=50.0, help="packets per second")
            p.add_argument("--start-seq", type=int, default=0)
            p.add_argument("--ttl", type=int, help="IP TTL of sent packets")
        if paced:
            p.add_argument("--go-file", help="start sending only once this file exists")
            p.add_argument("--go-timeout", type=float, default=30.0,
                           help="seconds to wait for --go-file (default 30)")
            p.add_argument("--delay", type=float, default=0.0,
                           help="seconds to wait (after --go-file) before sending")

    p = sub.add_parser("send", help="send paced packets")
    common(p, paced=True)
    p.add_argument("--bind", type=parse_ep, required=True)
    p.add_argument("--to", type=parse_ep, required=True)
    p.add_argument("--timeout", type=float, default=None)
    p.set_defaults(func=cmd_send, linger=0.0)

    p = sub.add_parser("recv", help="receive until count or timeout")
    common(p, sender=False)
    p.add_argument("--bind", type=parse_ep, required=True)
    p.add_argument("--count", type=int, required=True,
                   help="distinct sequences to wait for (0: run until timeout)")
    p.add_argument("--timeout", type=float, required=True)
    p.add_argument("--stop-file", help="finish 0.3 s after this file appears")
    p.add_argument("--rate", type=float, default=1.0)
    p.set_defaults(func=cmd_recv, start_seq=0, ttl=None)

    p = sub.add_parser("talk", help="send and receive on one socket")
    common(p, paced=True)
    p.add_argument("--bind", type=parse_ep, required=True)
    p.add_argument("--to", type=parse_ep, required=True)
    p.add_argument("--expect", type=int, help="distinct sequences to receive (default: --count)")
    p.add_argument("--expect-tag", help="count only packets with this tag")
    p.add_argument("--stop-file", help="finish 0.3 s after this file appears")
    p.add_argument("--linger", type=float, default=2.0,
                   help="seconds to keep receiving after the last send")
    p.add_argument("--timeout", type=float, default=None)
    p.set_defaults(func=cmd_talk)

    p = sub.add_parser("rawip", help="raw IP packets of another protocol")
    common(p)
    p.add_argument("--bind", type=parse_ip, required=True)
    p.add_argument("--to", type=parse_ip, required=True)
    p.add_argument("--proto", type=int, default=253)
    p.set_defaults(func=cmd_rawip)

    p = sub.add_parser("tcpsyn", help="TCP connection attempts (one SYN each)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--bind", type=parse_ip, required=True)
    p.add_argument("--to", type=parse_ep, required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--syn-timeout", type=float, default=0.3)
    p.set_defaults(func=cmd_tcpsyn)

    p = sub.add_parser("ping", help="ICMP echo requests, one at a time")
    p.add_argument("--json", action="store_true")
    p.add_argument("--bind", type=parse_ip, required=True)
    p.add_argument("--to", type=parse_ip, required=True)
    p.add_argument("--count", type=int, default=3)
    p.add_argument("--wait", type=float, default=1.0, help="seconds to wait for each reply")
    p.add_argument("--interval", type=float, default=0.2)
    p.set_defaults(func=cmd_ping)

    p = sub.add_parser("frame", help="hand-built Ethernet frames with one defect")
    common(p)
    p.add_argument("--iface", required=True)
    p.add_argument("--dst-mac", type=mac_bytes, required=True)
    p.add_argument("--src", type=parse_ep, required=True)
    p.add_argument("--to", type=parse_ep, required=True)
    p.add_argument("--kind", choices=FRAME_KINDS, required=True)
    p.set_defaults(func=cmd_frame)

    args = ap.parse_args()
    for name in ("count", "size"):
        if getattr(args, name, 0) is not None and getattr(args, name, 0) < 0:
            ap.error(f"--{name} must not be negative")
    if getattr(args, "size", MIN_PAYLOAD) < MIN_PAYLOAD:
        ap.error(f"--size must be at least {MIN_PAYLOAD}")
    if getattr(args, "timeout", 0) is None:
        # Long enough for the sends plus the linger, and bounded anyway.
        args.timeout = args.count / max(args.rate, 0.001) + getattr(args, "linger", 0) + 5
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    report = args.func(args)
    rc = 0
    if args.mode == "ping" and report["replies"] == 0:
        rc = 1
    if args.json:
        print(json.dumps(report, sort_keys=True))
    else:
        print(" ".join(f"{k}={v}" for k, v in report.items() if k != "recv"))
        if "recv" in report:
            r = report["recv"]
            print(f"received={r['received']} matched={r['matched']}/{r['expected']} "
                  f"missing={r['missing_count']} sources={','.join(r['sources']) or '-'}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
