#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""raw_send: hand-built Ethernet frames for duet's abuse tests.

Runs inside a test network namespace (`ip netns exec NS python3 raw_send.py
...`) and writes whole frames on an interface through an AF_PACKET socket,
so the test chooses every field a spoofer controls: the source MAC, IP and
UDP port (0 included), TTL, IP ID, TOS (DSCP and ECN), DF, IP options, bytes
past the IP total length, and the payload: an RTP v2 header with a chosen
SSRC and sequence (with udp_peer.py's tag format after it, so a udp_peer
receiver counts the packets by tag), an RTCP sender report, a STUN binding
request (not RTP), an empty or short datagram, or any bytes in hex. It
also makes ICMP echo requests and ARP requests and replies (unsolicited,
gratuitous) with any sender and target. IPv6 too: udp with [ADDR]:PORT
addresses builds Ethernet/IPv6/UDP (--ttl is the hop limit, --tos the
traffic class; the IPv4-only fields are refused), and ns / na build
neighbour solicitations and advertisements (RFC 4861) with any source,
target, hop limit and flags.

Every run is bounded: at most 1,000,000 frames, at --rate frames per
second, for at most --max-seconds seconds. Standard library only.

Kinds:
  udp   --iface IF --dst-mac MAC --src IP:PORT --to IP:PORT --count N
        [--payload rtp|rtcp|stun|empty|short|hex] [--ssrc N] [--seq N] [--tag X]
        [--size N] [--hex HEX] [--ttl N] [--ip-id N] [--tos N] [--df]
        [--ip-options HEX] [--trailer N] [--payload-log FILE]
  icmp  --iface IF --dst-mac MAC --src IP --to IP --count N [--ident N]
  arp   --iface IF --op request|reply --sha MAC --spa IP --tpa IP [--tha MAC]
        [--eth-src MAC] [--eth-dst MAC] --count N
  ns    --iface IF --src IP6 --target IP6 [--to IP6] [--eth-dst MAC] [--hlim N]
        [--no-lladdr] [--code N] --count N   (--to: the target's solicited-node
        group by default)
  na    --iface IF --src IP6 --target IP6 [--to IP6] [--eth-dst MAC] [--hlim N]
        [--flags RSO letters] [--tll MAC|none] --count N   (--to: ff02::1)
"""
import argparse
import json
import os
import socket
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                                "lab"))
from udp_peer import MAGIC, csum16, fill_bytes, mac_bytes  # noqa: E402 (one payload format)

MAX_FRAMES = 1000000
RTP_HLEN = 12
BROADCAST = b"\xff" * 6


def parse_ip(text):
    try:
        return socket.inet_aton(text)
    except OSError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an IPv4 address") from None


def parse_ip6(text):
    try:
        return socket.inet_pton(socket.AF_INET6, text)
    except OSError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an IPv6 address") from None


def parse_ep(text):
    """'a.b.c.d:port' or '[v6]:port' with port 0..65535 (0 is a spoofer's
    choice too): (4- or 16-byte address, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not an IPv4 address:port or [IPv6]:port")
    if host.startswith("[") and host.endswith("]"):
        return parse_ip6(host[1:-1]), int(port)
    return parse_ip(host), int(port)


def solicited_node(ip6):
    """ff02::1:ffXX:XXXX for a 16-byte address."""
    return bytes.fromhex("ff02" + "00" * 9 + "01ff") + ip6[13:]


def multicast_mac(ip6):
    """The Ethernet group address of an IPv6 multicast group (RFC 2464)."""
    return b"\x33\x33" + ip6[12:]


def ip6_header(src, dst, nh, payload_len, hlim, tclass=0):
    return struct.pack("!IHBB16s16s", (6 << 28) | (tclass << 20), payload_len, nh, hlim, src, dst)


def l4_csum6(src, dst, nh, body):
    return csum16(src + dst + struct.pack("!IxxxB", len(body), nh) + body)


def parse_int(text):
    """Decimal or 0x hex."""
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


def parse_hex(text):
    try:
        return bytes.fromhex(text.replace(":", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not hex bytes") from None


def ssrc_of(tag):
    # udp_peer.py's SSRC for a tag, so a kernel client and a raw frame can
    # carry the same one.
    return zlib.crc32(tag.encode()[:64])


def rtp_payload(args, i):
    """RTP v2 header (PT 111, chosen SSRC, seq) + udp_peer's tag format."""
    seq = args.start_seq + i
    tag_b = args.tag.encode()[:64]
    ssrc = ssrc_of(args.tag) if args.ssrc is None else args.ssrc
    head = struct.pack("!BBHII", 0x80, args.pt, (args.seq + i) & 0xFFFF,
                       (seq * 960) & 0xFFFFFFFF, ssrc & 0xFFFFFFFF)
    if args.size is not None and args.size < RTP_HLEN + len(MAGIC) + 1 + len(tag_b) + 4:
        # Too small for the tag: a bare RTP header and filler.
        return head[:args.size] if args.size < RTP_HLEN else head + fill_bytes(seq, args.size - RTP_HLEN)
    head += MAGIC + bytes([len(tag_b)]) + tag_b + struct.pack("!I", seq)
    size = 172 if args.size is None else args.size
    return head + fill_bytes(seq, max(0, size - len(head)))


def build_payload(args, i):
    kind = args.payload
    if kind == "rtp":
        return rtp_payload(args, i)
    if kind == "rtcp":
        # Sender report without report blocks: 28 bytes, PT 200 (RFC 3550).
        ssrc = ssrc_of(args.tag) if args.ssrc is None else args.ssrc
        return struct.pack("!BBHIIIIII", 0x80, 200, 6, ssrc & 0xFFFFFFFF,
                           0, 0, 0, i, i * 172)
    if kind == "stun":
        # STUN binding request: the first two bits are 00, so never RTP.
        return struct.pack("!HHI", 0x0001, 0, 0x2112A442) + bytes(range(1, 13))
    if kind == "empty":
        return b""
    if kind == "short":
        # Looks like the start of an RTP v2 header but is below 12 bytes.
        n = 8 if args.size is None else args.size
        return (struct.pack("!BBH", 0x80, args.pt, i & 0xFFFF) + b"\x11" * 16)[:n]
    return args.hex


def build_udp_frame(args, src_mac, i, payload):
    src_ip, src_port = args.src
    dst_ip, dst_port = args.to
    udp_len = 8 + len(payload)
    if len(src_ip) == 16:
        udp = struct.pack("!HHHH", src_port, dst_port, udp_len, 0) + payload
        ucs = l4_csum6(src_ip, dst_ip, 17, udp) or 0xFFFF
        udp = udp[:6] + struct.pack("!H", ucs) + udp[8:]
        ip = ip6_header(src_ip, dst_ip, 17, udp_len, args.ttl, args.tos)
        return args.dst_mac + src_mac + b"\x86\xdd" + ip + udp + args.trailer_bytes
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", src_port, dst_port, udp_len, 0) + payload
    ucs = csum16(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", ucs) + udp[8:]
    opts = args.ip_options
    ihl = 5 + len(opts) // 4
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, args.tos, 4 * ihl + udp_len,
                     (args.ip_id + (i if args.ip_id_step else 0)) & 0xFFFF,
                     0x4000 if args.df else 0, args.ttl, 17, 0, src_ip, dst_ip) + opts
    ip = ip[:10] + struct.pack("!H", csum16(ip)) + ip[12:]
    return args.dst_mac + src_mac + b"\x08\x00" + ip + udp + args.trailer_bytes


def build_icmp_frame(args, src_mac, i):
    body = fill_bytes(i, 56)
    icmp = struct.pack("!BBHHH", 8, 0, 0, args.ident, (args.seq + i) & 0xFFFF) + body
    icmp = icmp[:2] + struct.pack("!H", csum16(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, args.tos, 20 + len(icmp), args.ip_id & 0xFFFF,
                     0x4000 if args.df else 0, args.ttl, 1, 0, args.src, args.to)
    ip = ip[:10] + struct.pack("!H", csum16(ip)) + ip[12:]
    return args.dst_mac + src_mac + b"\x08\x00" + ip + icmp + args.trailer_bytes


def build_arp_frame(args, src_mac):
    op = 1 if args.op == "request" else 2
    sha = args.sha or src_mac
    eth_src = args.eth_src or sha
    eth_dst = args.eth_dst or BROADCAST
    tha = args.tha if args.tha is not None else b"\0" * 6
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sha, args.spa, tha, args.tpa)
    frame = eth_dst + eth_src + b"\x08\x06" + arp
    return frame + b"\0" * max(0, 60 - len(frame))


def build_nd_frame(args, src_mac):
    """A neighbour solicitation (ns) or advertisement (na), RFC 4861."""
    if args.kind == "ns":
        dst = args.to or solicited_node(args.target)
        body = struct.pack("!BBHI16s", 135, args.code, 0, 0, args.target)
        if not args.no_lladdr:
            body += struct.pack("!BB6s", 1, 1, src_mac)
    else:
        dst = args.to or parse_ip6("ff02::1")
        flags = 0
        for c in args.flags.upper():
            flags |= {"R": 0x80, "S": 0x40, "O": 0x20}[c]
        body = struct.pack("!BBHB3x16s", 136, args.code, 0, flags, args.target)
        if args.tll != "none":
            body += struct.pack("!BB6s", 2, 1, mac_bytes(args.tll) if args.tll else src_mac)
    body = body[:2] + struct.pack("!H", l4_csum6(args.src, dst, 58, body)) + body[4:]
    if args.eth_dst is not None:
        eth_dst = args.eth_dst
    elif dst[0] == 0xFF:
        eth_dst = multicast_mac(dst)
    else:
        raise SystemExit("raw_send: a unicast --to needs --eth-dst")
    return eth_dst + src_mac + b"\x86\xdd" + ip6_header(args.src, dst, 58, len(body), args.hlim) + body


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="kind", required=True)

    def common(p):
        p.add_argument("--iface", required=True, help="interface to write frames on")
        p.add_argument("--count", type=int, required=True, help=f"frames (<= {MAX_FRAMES})")
        p.add_argument("--rate", type=float, default=100.0, help="frames per second")
        p.add_argument("--max-seconds", type=float, default=30.0,
                       help="stop after this many seconds whatever is left (default 30)")
        p.add_argument("--src-mac", type=mac_bytes, help="source MAC (default: the interface's)")
        p.add_argument("--json", action="store_true", help="print the report as JSON")

    def ip_fields(p):
        p.add_argument("--dst-mac", type=mac_bytes, required=True, help="the relay port's MAC")
        p.add_argument("--ttl", type=int, default=64)
        p.add_argument("--ip-id", type=parse_int, default=0x1234)
        p.add_argument("--ip-id-step", action="store_true", help="IP ID + frame index")
        p.add_argument("--tos", type=parse_int, default=0, help="TOS byte: DSCP << 2 | ECN")
        p.add_argument("--df", action="store_true", help="set Don't Fragment")
        p.add_argument("--trailer", type=int, default=0,
                       help="junk bytes after the IP datagram (past the IP total length)")
        p.add_argument("--trailer-byte", type=parse_int, default=0xA5)
        p.add_argument("--seq", type=parse_int, default=0, help="first RTP / ICMP sequence")

    p = sub.add_parser("udp", help="Ethernet/IPv4/UDP frames")
    common(p)
    ip_fields(p)
    p.add_argument("--src", type=parse_ep, required=True, help="source IP:PORT (any)")
    p.add_argument("--to", type=parse_ep, required=True)
    p.add_argument("--ip-options", type=parse_hex, default=b"",
                   help="IPv4 options in hex, a multiple of 4 bytes, <= 40")
    p.add_argument("--payload", choices=("rtp", "rtcp", "stun", "empty", "short", "hex"),
                   default="rtp")
    p.add_argument("--hex", type=parse_hex, default=b"", help="payload bytes for --payload hex")
    p.add_argument("--tag", default="raw", help="udp_peer tag carried after the RTP header")
    p.add_argument("--ssrc", type=parse_int, help="RTP SSRC (default: udp_peer's for --tag)")
    p.add_argument("--pt", type=int, default=111, help="RTP payload type (default 111)")
    p.add_argument("--start-seq", type=int, default=0, help="first udp_peer sequence")
    p.add_argument("--size", type=int, help="UDP payload bytes (rtp: default 172; short: 8)")
    p.add_argument("--payload-log", help="append each payload sent, in hex, one per line")

    p = sub.add_parser("icmp", help="ICMP echo requests")
    common(p)
    ip_fields(p)
    p.add_argument("--src", type=parse_ip, required=True)
    p.add_argument("--to", type=parse_ip, required=True)
    p.add_argument("--ident", type=parse_int, default=0x4455)

    p = sub.add_parser("arp", help="ARP requests and replies")
    common(p)
    p.add_argument("--op", choices=("request", "reply"), required=True)
    p.add_argument("--sha", type=mac_bytes, help="sender hardware address (default: --src-mac)")
    p.add_argument("--spa", type=parse_ip, required=True, help="sender protocol address")
    p.add_argument("--tha", type=mac_bytes, help="target hardware address (default zero)")
    p.add_argument("--tpa", type=parse_ip, required=True, help="target protocol address")
    p.add_argument("--eth-src", type=mac_bytes, help="Ethernet source (default: --sha)")
    p.add_argument("--eth-dst", type=mac_bytes, help="Ethernet destination (default broadcast)")

    for kind in ("ns", "na"):
        p = sub.add_parser(kind, help="IPv6 neighbour " + (
            "solicitations" if kind == "ns" else "advertisements"))
        common(p)
        p.add_argument("--src", type=parse_ip6, required=True, help="IPv6 source (:: allowed)")
        p.add_argument("--target", type=parse_ip6, required=True, help="target address")
        p.add_argument("--to", type=parse_ip6,
                       help="IPv6 destination (ns: the target's solicited-node group; na: ff02::1)")
        p.add_argument("--eth-dst", type=mac_bytes, help="Ethernet destination (default: the "
                       "group address of a multicast --to; a unicast --to needs it)")
        p.add_argument("--hlim", type=int, default=255, help="hop limit (RFC 4861 wants 255)")
        p.add_argument("--code", type=int, default=0, help="ICMPv6 code (RFC 4861 wants 0)")
        if kind == "ns":
            p.add_argument("--no-lladdr", action="store_true",
                           help="no source link-layer address option")
        else:
            p.add_argument("--flags", default="O", help="R, S and O letters (default O)")
            p.add_argument("--tll", help="target link-layer address option: a MAC (default: "
                           "the interface's) or none")

    args = ap.parse_args()
    if not 0 <= args.count <= MAX_FRAMES:
        ap.error(f"--count must be 0..{MAX_FRAMES}")
    if args.rate <= 0 or args.max_seconds <= 0:
        ap.error("--rate and --max-seconds must be positive")
    if args.kind in ("ns", "na"):
        if not 0 <= args.hlim <= 255 or not 0 <= args.code <= 255:
            ap.error("--hlim and --code must be 0..255")
        if args.kind == "na" and args.flags.strip("RSOrso"):
            ap.error("--flags takes the letters R, S and O")
    elif args.kind != "arp":
        if not 1 <= args.ttl <= 255:
            ap.error("--ttl must be 1..255")
        if not 0 <= args.tos <= 255 or not 0 <= args.trailer <= 1000:
            ap.error("--tos must be 0..255 and --trailer 0..1000")
        args.trailer_bytes = bytes([args.trailer_byte & 0xFF]) * args.trailer
    if args.kind == "udp":
        if len(args.src[0]) != len(args.to[0]):
            ap.error("--src and --to must be of one family")
        if len(args.src[0]) == 16 and (args.ip_options or args.df or args.ip_id_step):
            ap.error("--ip-options, --df and --ip-id-step are IPv4 only")
        if len(args.ip_options) % 4 or len(args.ip_options) > 40:
            ap.error("--ip-options must be a multiple of 4 bytes, at most 40")
        if args.size is not None and not 0 <= args.size <= 1400:
            ap.error("--size must be 0..1400")

    ifname = args.iface
    src_mac = args.src_mac
    if src_mac is None:
        with open(f"/sys/class/net/{ifname}/address") as f:
            src_mac = mac_bytes(f.read().strip())
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((ifname, 0))

    log = open(args.payload_log, "a") if getattr(args, "payload_log", None) else None
    start = time.monotonic()
    deadline = start + args.max_seconds
    sent = 0
    frame_len = 0
    while sent < args.count:
        now = time.monotonic()
        if now >= deadline:
            break
        due = start + sent / args.rate
        if now < due:
            time.sleep(min(due - now, deadline - now))
            continue
        if args.kind == "udp":
            payload = build_payload(args, sent)
            frame = build_udp_frame(args, src_mac, sent, payload)
            if log:
                log.write(payload.hex() + "\n")
        elif args.kind == "icmp":
            frame = build_icmp_frame(args, src_mac, sent)
        elif args.kind in ("ns", "na"):
            frame = build_nd_frame(args, src_mac)
        else:
            frame = build_arp_frame(args, src_mac)
        s.send(frame)
        frame_len = len(frame)
        sent += 1
    if log:
        log.close()
    report = {"kind": args.kind, "iface": ifname, "sent": sent, "asked": args.count,
              "frame_len": frame_len, "seconds": round(time.monotonic() - start, 3)}
    if args.json:
        print(json.dumps(report, sort_keys=True))
    else:
        print(" ".join(f"{k}={v}" for k, v in report.items()))
    # Asked for more than the time bound allowed: say so by the exit status.
    return 0 if sent == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
