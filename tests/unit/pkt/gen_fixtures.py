#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Generate tests/unit/pkt/pkt_fixtures.h: hand-built frames for the lib/pkt
unit tests, and the frames the rewrites must produce from them.

This is an independent reference: checksums here are computed from scratch
(RFC 1071, full recomputation), never incrementally, so the C tests compare
duet's incremental updates against a different method. Run by hand when a
fixture changes; `--pcap FILE` also writes every frame to a pcap so tshark can
vouch for the checksums:

    python3 tests/unit/pkt/gen_fixtures.py --pcap /tmp/pkt.pcap
    tshark -r /tmp/pkt.pcap -o ip.check_checksum:TRUE \
        -o udp.check_checksum:TRUE -V | grep -i -E 'checksum.*(bad|good)'

(tshark checks ICMPv6 checksums, neighbour discovery's included, by default.)
"""
import argparse
import os
import socket
import struct
import sys


def cksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(s):
    return bytes(int(x) for x in s.split("."))


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def eth(dst, src, etype, payload, pad=True):
    f = mac(dst) + mac(src) + struct.pack("!H", etype) + payload
    if pad and len(f) < 60:
        f += b"\0" * (60 - len(f))
    return f


def ipv4(src, dst, proto, l4, ttl=64, ident=0x1234, flags=0x4000, opts=b"", tos=0xB8):
    ihl = 5 + len(opts) // 4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, ihl * 4 + len(l4), ident, flags,
                      ttl, proto, 0, ip4(src), ip4(dst)) + opts
    hdr = hdr[:10] + struct.pack("!H", cksum(hdr)) + hdr[12:]
    return hdr + l4


def udp(src, dst, sport, dport, payload, with_cksum=True):
    ulen = 8 + len(payload)
    u = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    if with_cksum:
        pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, ulen)
        c = cksum(pseudo + u) or 0xFFFF
        u = u[:6] + struct.pack("!H", c) + u[8:]
    return u


def ip6(s):
    return socket.inet_pton(socket.AF_INET6, s)


def ipv6(src, dst, nh, payload, hops=64, tclass=0, flow=0):
    # The fixed header alone; payload is whatever follows it (extension
    # headers, then the upper layer).
    return struct.pack("!IHBB16s16s", 6 << 28 | tclass << 20 | flow, len(payload), nh, hops,
                       ip6(src), ip6(dst)) + payload


def udp6(src, dst, sport, dport, payload, with_cksum=True):
    # RFC 8200 8.1: pseudo-header of 16-byte addresses, 32-bit length,
    # 24 zero bits and next header 17.
    ulen = 8 + len(payload)
    u = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    if with_cksum:
        pseudo = ip6(src) + ip6(dst) + struct.pack("!IxxxB", ulen, 17)
        c = cksum(pseudo + u) or 0xFFFF
        u = u[:6] + struct.pack("!H", c) + u[8:]
    return u


def icmp6(src, dst, typ, code, body):
    # RFC 4443 2.3: the checksum covers the same pseudo-header, next header 58.
    m = struct.pack("!BBH", typ, code, 0) + body
    pseudo = ip6(src) + ip6(dst) + struct.pack("!IxxxB", len(m), 58)
    return m[:2] + struct.pack("!H", cksum(pseudo + m)) + m[4:]


def icmp_echo(typ, ident, seq, payload):
    m = struct.pack("!BBHHH", typ, 0, 0, ident, seq) + payload
    return m[:2] + struct.pack("!H", cksum(m)) + m[4:]


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, mac(sha), ip4(spa), mac(tha),
                       ip4(tpa))


# Addresses: a client of leg A (198.51.100.10:40000) sends to leg A's endpoint
# (203.0.113.5:30000); duet relays it out of leg B's endpoint (192.0.2.1:20002)
# to leg B's client (198.51.100.20:5004).
PORT_MAC = "02:00:00:00:00:aa"
GW_MAC = "02:00:00:00:00:bb"
CLIENT_MAC = "02:00:00:00:00:02"
RTP = bytes.fromhex("80 00 04 d2 00 01 e2 40 de ad be ef".replace(" ", "")) + bytes(range(20))
ROUTER_ALERT = bytes.fromhex("94040000")
# Router alert, three NOPs and an end of list: 8 bytes of options.
LONG_OPTS = ROUTER_ALERT + bytes.fromhex("01010100")

# The relay's own header fields on relayed frames ([media] ttl and dscp),
# chosen unlike every input's (TTL 64 or 2, TOS 0xb8 or 0xbb, ID 0x1234 or
# 0xbeef), so a field carried over from the input shows in a byte compare.
EGRESS_TTL = 57
EGRESS_DSCP = 34  # AF41
EGRESS_TOS = EGRESS_DSCP << 2


GW6_MAC = "02:00:00:00:00:fe"
US6 = "2001:db8:2::1"              # leg B's endpoint, and the address NDP asks for
GW6 = "2001:db8:2::a:bcde:f012"    # the IPv6 gateway: low 24 bits de:f0:12
SNM_US = "ff02::1:ff00:1"          # solicited-node group of US6
SNM_GW = "ff02::1:ffde:f012"       # and of GW6


def lladdr_opt(typ, m):
    # Source (1) or target (2) link-layer address option, 8 bytes.
    return bytes([typ, 1]) + mac(m)


def udp6_frame(payload, with_cksum=True, ext=()):
    # ext: (next header value, body) pairs, each an 8-byte extension header
    # (a fragment header when the body is None), in order before UDP.
    src, dst = "2001:db8:100::10", "2001:db8:113::5"
    l4 = udp6(src, dst, 40000, 30000, payload, with_cksum)
    nhs = [n for n, _ in ext] + [17]
    hdrs = b""
    for i, (_, body) in enumerate(ext):
        if body is None:
            body = struct.pack("!HI", 0x0001, 0xABCD)  # offset 0, M set; identification
        hdrs += bytes([nhs[i + 1], 0]) + body
    return eth(PORT_MAC, CLIENT_MAC, 0x86DD,
               ipv6(src, dst, nhs[0], hdrs + l4, hops=64, tclass=0xB8, flow=0x12345))


def relayed6(payload, with_cksum=True):
    u = udp6("2001:db8:2::1", "2001:db8:100::20", 20002, 5004, payload, with_cksum)
    return eth(GW_MAC, PORT_MAC, 0x86DD,
               ipv6("2001:db8:2::1", "2001:db8:100::20", 17, u, hops=EGRESS_TTL,
                    tclass=EGRESS_TOS), pad=False)


def udp_frame(payload, opts=b"", ttl=64, with_cksum=True, tos=0xB8, ident=0x1234, flags=0x4000):
    u = udp("198.51.100.10", "203.0.113.5", 40000, 30000, payload, with_cksum)
    return eth(PORT_MAC, CLIENT_MAC, 0x0800,
               ipv4("198.51.100.10", "203.0.113.5", 17, u, ttl=ttl, ident=ident, flags=flags,
                    opts=opts, tos=tos))


def relayed(payload, with_cksum=True, tos=EGRESS_TOS):
    # What the rewrite must produce, whatever the input's IP header held:
    # the same UDP payload with new addresses and ports, under the relay's
    # own 20-byte header (no options; egress TOS and TTL, ID 0, DF, total
    # length 20 + UDP length) and a fresh Ethernet header. The frame ends
    # where the datagram does: no Ethernet padding (the NIC pads). Every
    # checksum computed from scratch.
    u = udp("192.0.2.1", "198.51.100.20", 20002, 5004, payload, with_cksum)
    return eth(GW_MAC, PORT_MAC, 0x0800,
               ipv4("192.0.2.1", "198.51.100.20", 17, u, ttl=EGRESS_TTL, ident=0, flags=0x4000,
                    tos=tos),
               pad=False)


def build():
    fx = []
    fx.append(("udp_plain", udp_frame(RTP)))
    fx.append(("udp_plain_relayed", relayed(RTP)))
    fx.append(("udp_opts", udp_frame(RTP, ROUTER_ALERT)))
    fx.append(("udp_opts_relayed", relayed(RTP)))
    fx.append(("udp_padded", udp_frame(b"\x01\x02\x03\x04\x05")))
    fx.append(("udp_padded_relayed", relayed(b"\x01\x02\x03\x04\x05")))
    fx.append(("udp_nocksum", udp_frame(RTP, with_cksum=False)))
    fx.append(("udp_nocksum_relayed", relayed(RTP, with_cksum=False)))
    # Everything the relay must not pass on: TTL 2, EF with ECN CE (0xbb),
    # ID 0xbeef, DF clear, 8 bytes of options. Relayed it is udp_plain_relayed;
    # with [media] dscp = keep, the caller's DSCP (EF) with ECN cleared.
    fx.append(("udp_unusual_ip", udp_frame(RTP, LONG_OPTS, ttl=2, tos=0xBB, ident=0xBEEF,
                                           flags=0)))
    fx.append(("udp_unusual_ip_relayed_keep", relayed(RTP, tos=0xB8)))

    fx.append(("arp_request", eth("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:fe", 0x0806,
                                  arp(1, "02:00:00:00:00:fe", "192.0.2.254", "00:00:00:00:00:00",
                                      "192.0.2.1"))))
    # Reply as duet sends it: 42 bytes, the NIC pads to the Ethernet minimum.
    fx.append(("arp_reply", eth("02:00:00:00:00:fe", PORT_MAC, 0x0806,
                                arp(2, PORT_MAC, "192.0.2.1", "02:00:00:00:00:fe", "192.0.2.254"),
                                pad=False)))
    # duet's own request for its gateway, padded to 60.
    fx.append(("arp_gw_request", eth("ff:ff:ff:ff:ff:ff", PORT_MAC, 0x0806,
                                     arp(1, PORT_MAC, "192.0.2.1", "00:00:00:00:00:00",
                                         "192.0.2.254"))))

    ping = bytes(range(0x10, 0x10 + 56))
    fx.append(("icmp_echo", eth(PORT_MAC, CLIENT_MAC, 0x0800,
                                ipv4("198.51.100.20", "192.0.2.1", 1,
                                     icmp_echo(8, 0x4242, 1, ping), ttl=63, ident=0xabcd))))
    fx.append(("icmp_echo_reply", eth(CLIENT_MAC, PORT_MAC, 0x0800,
                                      ipv4("192.0.2.1", "198.51.100.20", 1,
                                           icmp_echo(0, 0x4242, 1, ping), ttl=64,
                                           ident=0xabcd))))

    # Identifier 0, sequence 0, no data: the reply is all zeros but for its
    # checksum, which must be 0xffff (found by the fuzzer).
    fx.append(("icmp_echo_zero", eth(PORT_MAC, CLIENT_MAC, 0x0800,
                                     ipv4("198.51.100.20", "192.0.2.1", 1, icmp_echo(8, 0, 0, b""),
                                          ttl=63, ident=0xabce))))
    fx.append(("icmp_echo_zero_reply", eth(CLIENT_MAC, PORT_MAC, 0x0800,
                                           ipv4("192.0.2.1", "198.51.100.20", 1,
                                                icmp_echo(0, 0, 0, b""), ttl=64, ident=0xabce))))

    v6 = struct.pack("!IHBB16s16s", 0x60000000, 8, 17, 64, b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\1",
                     b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\2") + struct.pack("!HHHH", 1, 2, 8, 0)
    # 802.1Q, VLAN 100, around the same datagram: ports are untagged.
    plain = udp_frame(RTP)
    fx.append(("udp_vlan", plain[:12] + bytes.fromhex("81000064") + plain[12:]))
    fx.append(("ipv6_udp", eth(PORT_MAC, CLIENT_MAC, 0x86DD, v6)))

    # IPv6. A client of leg A (2001:db8:100::10 port 40000) sends to leg A's
    # endpoint ([2001:db8:113::5]:30000); duet relays it out of leg B's
    # endpoint ([2001:db8:2::1]:20002) to leg B's client
    # ([2001:db8:100::20]:5004): the IPv6 twin of the IPv4 addresses above,
    # with the same ports and payload, so one relayed frame is the answer
    # for an IPv4 and an IPv6 input alike.
    fx.append(("udp6_plain", udp6_frame(RTP)))
    # One hop-by-hop header (router alert, then PadN of 0 bytes): skipped.
    fx.append(("udp6_hbh", udp6_frame(RTP, ext=[(0, bytes.fromhex("050200000100"))])))
    # A sender that left the checksum zero: mandatory in IPv6.
    fx.append(("udp6_nocksum", udp6_frame(RTP, with_cksum=False)))
    # Fragment header (first fragment, more to come), routing header (type
    # 0, no segments left), destination options (PadN): not relayed.
    fx.append(("udp6_frag", udp6_frame(RTP, ext=[(44, None)])))
    fx.append(("udp6_routing", udp6_frame(RTP, ext=[(43, bytes.fromhex("000000000000"))])))
    fx.append(("udp6_dstopts", udp6_frame(RTP, ext=[(60, bytes.fromhex("010400000000"))])))
    # Relayed toward IPv6, from an IPv4 or an IPv6 input: the relay's hop
    # limit and traffic class, flow label 0.
    fx.append(("udp6_relayed", relayed6(RTP)))
    fx.append(("udp6_padded_relayed", relayed6(b"\x01\x02\x03\x04\x05")))

    # Neighbour discovery: the gateway asks for our address, to its
    # solicited-node group, with its link-layer address; we answer.
    fx.append(("ndp_ns", eth("33:33:ff:00:00:01", GW6_MAC, 0x86DD,
                             ipv6(GW6, SNM_US, 58, icmp6(GW6, SNM_US, 135, 0,
                                  bytes(4) + ip6(US6) + lladdr_opt(1, GW6_MAC)), hops=255))))
    fx.append(("ndp_ns_na", eth(GW6_MAC, PORT_MAC, 0x86DD,
                                ipv6(US6, GW6, 58, icmp6(US6, GW6, 136, 0,
                                     bytes.fromhex("60000000") + ip6(US6) +
                                     lladdr_opt(2, PORT_MAC)), hops=255), pad=False)))
    # Duplicate address detection: from ::, no link-layer option; the
    # answer goes to all nodes with the solicited flag clear.
    fx.append(("ndp_ns_dad", eth("33:33:ff:00:00:01", GW6_MAC, 0x86DD,
                                 ipv6("::", SNM_US, 58, icmp6("::", SNM_US, 135, 0,
                                      bytes(4) + ip6(US6)), hops=255))))
    fx.append(("ndp_ns_dad_na", eth("33:33:00:00:00:01", PORT_MAC, 0x86DD,
                                    ipv6(US6, "ff02::1", 58, icmp6(US6, "ff02::1", 136, 0,
                                         bytes.fromhex("20000000") + ip6(US6) +
                                         lladdr_opt(2, PORT_MAC)), hops=255), pad=False)))
    # The gateway's answer to our solicitation: router, solicited, override.
    fx.append(("ndp_na", eth(PORT_MAC, GW6_MAC, 0x86DD,
                             ipv6(GW6, US6, 58, icmp6(GW6, US6, 136, 0,
                                  bytes.fromhex("e0000000") + ip6(GW6) + lladdr_opt(2, GW6_MAC)),
                                  hops=255))))
    # Our solicitation of the gateway, as duet_pkt_build_ns() must build it.
    fx.append(("ndp_gw_ns", eth("33:33:ff:de:f0:12", PORT_MAC, 0x86DD,
                                ipv6(US6, SNM_GW, 58, icmp6(US6, SNM_GW, 135, 0,
                                     bytes(4) + ip6(GW6) + lladdr_opt(1, PORT_MAC)), hops=255),
                                pad=False)))
    fx.append(("icmp6_echo", eth(PORT_MAC, CLIENT_MAC, 0x86DD,
                                 ipv6("2001:db8:100::20", US6, 58,
                                      icmp6("2001:db8:100::20", US6, 128, 0,
                                            struct.pack("!HH", 0x4242, 1) + ping), hops=63))))
    fx.append(("icmp6_echo_reply", eth(CLIENT_MAC, PORT_MAC, 0x86DD,
                                       ipv6(US6, "2001:db8:100::20", 58,
                                            icmp6(US6, "2001:db8:100::20", 129, 0,
                                                  struct.pack("!HH", 0x4242, 1) + ping),
                                            hops=64))))
    return fx


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, (_, data) in enumerate(frames):
            f.write(struct.pack("<IIII", i, 0, len(data), len(data)) + data)


def write_header(path, frames):
    out = ["/* SPDX-License-Identifier: BSD-3-Clause */",
           "/*",
           " * Known frames for the lib/pkt unit tests, generated by gen_fixtures.py",
           " * (checksums computed from scratch there and checked with tshark). Do not",
           " * edit by hand: change the script and run it again.",
           " */",
           "#ifndef PKT_FIXTURES_H",
           "#define PKT_FIXTURES_H",
           "",
           "#include <stdint.h>",
           "",
           "/* The relay's TTL and TOS (DSCP << 2) the *_relayed frames carry. */",
           "#define FX_EGRESS_TTL %d" % EGRESS_TTL,
           "#define FX_EGRESS_TOS 0x%02x" % EGRESS_TOS,
           ""]
    for name, data in frames:
        out.append("static const uint8_t fx_%s[%d] = {" % (name, len(data)))
        for i in range(0, len(data), 12):
            out.append("\t" + " ".join("0x%02x," % b for b in data[i:i + 12]))
        out.append("};")
        out.append("")
    out.append("#endif /* PKT_FIXTURES_H */")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pcap", help="also write the frames to this pcap file")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "pkt_fixtures.h"))
    args = ap.parse_args()
    frames = build()
    write_header(args.out, frames)
    if args.pcap:
        write_pcap(args.pcap, frames)
    return 0


if __name__ == "__main__":
    sys.exit(main())
