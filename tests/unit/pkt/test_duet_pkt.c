/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the frame parser (lib/pkt/duet_pkt_parse_fp.h, called as
 * duet_pkt_parse()) against known frames
 * (pkt_fixtures.h, checked with tshark) and a bad frame for every drop
 * reason it can give, the raw checksum and the ARP request builder. Plain
 * test process, no EAL.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duet_pkt.h"
#include "pkt_fixtures.h"
#include "pkt_ref.h"

#define IP 14 /* IPv4 header offset in the fixtures */

static uint8_t frame[1600];

/* Copy a fixture into the writable frame buffer. */
static size_t
load(const uint8_t *fx, size_t len)
{
	memcpy(frame, fx, len);
	return len;
}

/* Parse frame[0..len) and check it fails with this errno and reason. */
static void
expect_drop(size_t len, int ip_cksum_good, int err, enum duet_drop reason)
{
	struct duet_pkt_info pi;
	int rc = duet_pkt_parse(frame, len, ip_cksum_good, &pi);

	cr_assert_eq(rc, err, "rc %d, want %d (drop %s, want %s)", rc, err,
		     duet_drop_name((enum duet_drop)pi.drop), duet_drop_name(reason));
	cr_assert_eq(pi.drop, reason, "drop %s, want %s", duet_drop_name((enum duet_drop)pi.drop),
		     duet_drop_name(reason));
}

static void
expect_addr4(const struct duet_addr *a, const char *ip, uint16_t port)
{
	struct duet_addr want;

	cr_assert_eq(duet_addr_parse_ip(ip, &want), 0);
	want.port = htons(port);
	cr_assert(duet_addr_equal(a, &want), "address is not %s port %u", ip, port);
}

Test(pkt, parses_udp_with_addresses_ports_and_offsets)
{
	static const uint8_t client_mac[6] = {2, 0, 0, 0, 0, 2};
	struct duet_pkt_info pi;
	size_t len = load(fx_udp_plain, sizeof(fx_udp_plain));

	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0);
	cr_assert_eq(pi.kind, DUET_PKT_UDP);
	cr_assert_eq(pi.l3_off, 14);
	cr_assert_eq(pi.l4_off, 34);
	cr_assert_eq(pi.l4_len, 8 + 32);
	cr_assert_eq(pi.ip_total, 20 + 8 + 32);
	cr_assert_eq(pi.ttl, 64);
	cr_assert_eq(memcmp(pi.src_mac, client_mac, 6), 0);
	expect_addr4(&pi.src, "198.51.100.10", 40000);
	expect_addr4(&pi.dst, "203.0.113.5", 30000);
}

Test(pkt, skips_ipv4_options)
{
	struct duet_pkt_info pi;
	size_t len = load(fx_udp_opts, sizeof(fx_udp_opts));

	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0);
	cr_assert_eq(pi.kind, DUET_PKT_UDP);
	cr_assert_eq(pi.l4_off, 14 + 24);
	cr_assert_eq(pi.ip_total, 24 + 8 + 32);
	expect_addr4(&pi.dst, "203.0.113.5", 30000);
}

Test(pkt, accepts_ethernet_padding_after_ip_total_length)
{
	struct duet_pkt_info pi;
	size_t len = load(fx_udp_padded, sizeof(fx_udp_padded));

	cr_assert_eq(len, 60);
	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0);
	cr_assert_eq(pi.ip_total, 20 + 8 + 5);
	cr_assert_eq(pi.l4_len, 8 + 5);
}

Test(pkt, accepts_udp_without_checksum)
{
	struct duet_pkt_info pi;
	size_t len = load(fx_udp_nocksum, sizeof(fx_udp_nocksum));

	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0);
	cr_assert_eq(pi.kind, DUET_PKT_UDP);
}

Test(pkt, every_truncation_is_too_short_or_bad_length)
{
	size_t len;

	for (len = 0; len < sizeof(fx_udp_plain); len++) {
		load(fx_udp_plain, len);
		/* Until the IPv4 header fits the frame is too short; after,
		 * the total length points past the end of the frame. */
		if (len < 14 + 20)
			expect_drop(len, 0, -EINVAL, DUET_DROP_TOO_SHORT);
		else
			expect_drop(len, 0, -EINVAL, DUET_DROP_IP_LEN);
	}
}

Test(pkt, refuses_vlan_tags)
{
	size_t len = load(fx_udp_vlan, sizeof(fx_udp_vlan));

	expect_drop(len, 0, -ENOTSUP, DUET_DROP_VLAN);
	frame[12] = 0x88; /* 802.1ad service tag */
	frame[13] = 0xa8;
	expect_drop(len, 0, -ENOTSUP, DUET_DROP_VLAN);
}

Test(pkt, refuses_other_ethertypes)
{
	size_t len = load(fx_udp_plain, sizeof(fx_udp_plain));

	frame[12] = 0x88; /* LLDP */
	frame[13] = 0xcc;
	expect_drop(len, 0, -ENOTSUP, DUET_DROP_ETHERTYPE);
}

Test(pkt, parses_arp_request)
{
	static const uint8_t requester[6] = {2, 0, 0, 0, 0, 0xfe};
	struct duet_pkt_info pi;
	size_t len = load(fx_arp_request, sizeof(fx_arp_request));

	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0);
	cr_assert_eq(pi.kind, DUET_PKT_ARP);
	cr_assert_eq(pi.arp_op, 1);
	cr_assert_eq(pi.l3_off, 14);
	cr_assert_eq(memcmp(pi.src_mac, requester, 6), 0);
	expect_addr4(&pi.src, "192.0.2.254", 0);
	expect_addr4(&pi.dst, "192.0.2.1", 0);
}

Test(pkt, parses_arp_reply_sender_as_source)
{
	static const uint8_t sender[6] = {2, 0, 0, 0, 0, 0xaa};
	struct duet_pkt_info pi;
	size_t len = load(fx_arp_reply, sizeof(fx_arp_reply));

	frame[6] = 0x42; /* Ethernet source differs: the ARP sender wins */
	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0);
	cr_assert_eq(pi.arp_op, 2);
	cr_assert_eq(memcmp(pi.src_mac, sender, 6), 0);
	expect_addr4(&pi.src, "192.0.2.1", 0);
}

Test(pkt, refuses_short_or_foreign_arp)
{
	size_t len = load(fx_arp_request, sizeof(fx_arp_request));

	expect_drop(14 + 27, 0, -EINVAL, DUET_DROP_TOO_SHORT);
	frame[14 + 4] = 8; /* hardware address length */
	expect_drop(len, 0, -ENOTSUP, DUET_DROP_ARP_OTHER);
	load(fx_arp_request, len);
	frame[14 + 2] = 0x86; /* protocol type IPv6 */
	frame[14 + 3] = 0xdd;
	expect_drop(len, 0, -ENOTSUP, DUET_DROP_ARP_OTHER);
	load(fx_arp_request, len);
	frame[14 + 1] = 6; /* IEEE 802 hardware */
	expect_drop(len, 0, -ENOTSUP, DUET_DROP_ARP_OTHER);
	load(fx_arp_request, len);
	frame[14 + 7] = 3; /* RARP request opcode */
	expect_drop(len, 0, -ENOTSUP, DUET_DROP_ARP_OTHER);
}

Test(pkt, refuses_wrong_ip_version)
{
	size_t len = load(fx_udp_plain, sizeof(fx_udp_plain));

	frame[IP] = 0x65;
	ref_ip4_fix(frame + IP);
	expect_drop(len, 0, -EINVAL, DUET_DROP_IP_VERSION);
}

Test(pkt, refuses_bad_header_length)
{
	size_t len = load(fx_udp_plain, sizeof(fx_udp_plain));

	frame[IP] = 0x44; /* 16 bytes: below the minimum */
	expect_drop(len, 0, -EINVAL, DUET_DROP_IP_HLEN);
	/* 60 bytes of header but only 40 bytes after Ethernet. */
	len = 14 + 40;
	frame[IP] = 0x4f;
	expect_drop(len, 1, -EINVAL, DUET_DROP_IP_HLEN);
}

Test(pkt, refuses_bad_total_length)
{
	size_t len = load(fx_udp_plain, sizeof(fx_udp_plain));

	ref_put16(frame + IP + 2, 19); /* below the header */
	ref_ip4_fix(frame + IP);
	expect_drop(len, 0, -EINVAL, DUET_DROP_IP_LEN);
	ref_put16(frame + IP + 2, (uint16_t)(len - 14 + 1)); /* past the frame */
	ref_ip4_fix(frame + IP);
	expect_drop(len, 0, -EINVAL, DUET_DROP_IP_LEN);
}

Test(pkt, checks_ip_header_checksum_unless_nic_did)
{
	struct duet_pkt_info pi;
	size_t len = load(fx_udp_plain, sizeof(fx_udp_plain));

	frame[IP + 11] ^= 0x01;
	expect_drop(len, 0, -EINVAL, DUET_DROP_IP_CKSUM);
	cr_assert_eq(duet_pkt_parse(frame, len, 1, &pi), 0);
	/* A corrupted address with the old checksum fails too. */
	load(fx_udp_plain, len);
	frame[IP + 15] ^= 0x80;
	expect_drop(len, 0, -EINVAL, DUET_DROP_IP_CKSUM);
}

Test(pkt, checks_checksum_over_options)
{
	size_t len = load(fx_udp_opts, sizeof(fx_udp_opts));

	frame[IP + 21] ^= 0x01; /* inside the router alert option */
	expect_drop(len, 0, -EINVAL, DUET_DROP_IP_CKSUM);
}

Test(pkt, refuses_fragments_but_not_dont_fragment)
{
	struct duet_pkt_info pi;
	size_t len = load(fx_udp_plain, sizeof(fx_udp_plain));

	cr_assert_eq(frame[IP + 6], 0x40, "fixture has DF set");
	frame[IP + 6] = 0x20; /* MF, offset 0: first fragment */
	ref_ip4_fix(frame + IP);
	expect_drop(len, 0, -ENOTSUP, DUET_DROP_IP_FRAG);
	frame[IP + 6] = 0x00;
	frame[IP + 7] = 0x01; /* offset 8 bytes, last fragment */
	ref_ip4_fix(frame + IP);
	expect_drop(len, 0, -ENOTSUP, DUET_DROP_IP_FRAG);
	frame[IP + 6] = 0x00;
	frame[IP + 7] = 0x00;
	ref_ip4_fix(frame + IP);
	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0);
}

Test(pkt, refuses_other_ip_protocols)
{
	struct duet_pkt_info pi;
	size_t len = load(fx_udp_plain, sizeof(fx_udp_plain));

	frame[IP + 9] = 6; /* TCP */
	ref_ip4_fix(frame + IP);
	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), -ENOTSUP);
	cr_assert_eq(pi.drop, DUET_DROP_PROTO);
}

Test(pkt, refuses_udp_length_not_matching_ip)
{
	size_t len = load(fx_udp_plain, sizeof(fx_udp_plain));

	ref_put16(frame + 34 + 4, 7); /* below the UDP header */
	expect_drop(len, 0, -EINVAL, DUET_DROP_UDP_LEN);
	ref_put16(frame + 34 + 4, 39); /* one short of the IP payload */
	expect_drop(len, 0, -EINVAL, DUET_DROP_UDP_LEN);
	ref_put16(frame + 34 + 4, 41); /* one past it */
	expect_drop(len, 0, -EINVAL, DUET_DROP_UDP_LEN);
}

Test(pkt, refuses_ip_payload_shorter_than_udp_header)
{
	size_t len = load(fx_udp_plain, sizeof(fx_udp_plain));

	ref_put16(frame + IP + 2, 20 + 7);
	ref_ip4_fix(frame + IP);
	expect_drop(len, 0, -EINVAL, DUET_DROP_TOO_SHORT);
}

Test(pkt, parses_icmp_echo_request)
{
	struct duet_pkt_info pi;
	size_t len = load(fx_icmp_echo, sizeof(fx_icmp_echo));

	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0);
	cr_assert_eq(pi.kind, DUET_PKT_ICMP_ECHO);
	cr_assert_eq(pi.ttl, 63);
	cr_assert_eq(pi.l4_off, 34);
	cr_assert_eq(pi.l4_len, 8 + 56);
	expect_addr4(&pi.src, "198.51.100.20", 0);
	expect_addr4(&pi.dst, "192.0.2.1", 0);
}

Test(pkt, refuses_other_or_short_icmp)
{
	size_t len = load(fx_icmp_echo_reply, sizeof(fx_icmp_echo_reply));

	expect_drop(len, 0, -ENOTSUP, DUET_DROP_ICMP_OTHER); /* echo reply */
	len = load(fx_icmp_echo, sizeof(fx_icmp_echo));
	frame[34 + 1] = 1; /* echo request with a non-zero code */
	expect_drop(len, 0, -ENOTSUP, DUET_DROP_ICMP_OTHER);
	frame[34 + 1] = 0;
	ref_put16(frame + IP + 2, 20 + 7); /* echo header cut short */
	ref_ip4_fix(frame + IP);
	expect_drop(len, 0, -EINVAL, DUET_DROP_ICMP_OTHER);
}

Test(pkt, refuses_ipv6_after_checking_its_version)
{
	struct duet_pkt_info pi;
	size_t len = load(fx_ipv6_udp, sizeof(fx_ipv6_udp));

	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), -ENOTSUP);
	cr_assert_eq(pi.drop, DUET_DROP_IPV6);
	frame[14] = 0x40;
	expect_drop(len, 0, -EINVAL, DUET_DROP_IP_VERSION);
	expect_drop(14 + 39, 0, -EINVAL, DUET_DROP_TOO_SHORT);
}

Test(pkt, too_short_for_ethernet_or_ipv4_header)
{
	load(fx_udp_plain, sizeof(fx_udp_plain));
	expect_drop(13, 0, -EINVAL, DUET_DROP_TOO_SHORT);
	expect_drop(14 + 19, 1, -EINVAL, DUET_DROP_TOO_SHORT);
}

Test(pkt, cksum_raw_matches_rfc1071_example)
{
	/* RFC 1071 section 3: these bytes sum to 0xddf2 (big-endian words). */
	static const uint8_t data[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	uint16_t s = duet_pkt_cksum_raw(data, sizeof(data), 0);
	uint8_t be[2];

	memcpy(be, &s, 2);
	cr_assert_eq(be[0], 0xdd);
	cr_assert_eq(be[1], 0xf2);
}

Test(pkt, cksum_raw_handles_odd_length_and_initial_sum)
{
	uint8_t buf[301];
	uint64_t seed = 7;
	uint16_t s, part;
	size_t n;

	for (n = 0; n < sizeof(buf); n++)
		buf[n] = (uint8_t)ref_rand(&seed);
	for (n = 0; n <= sizeof(buf); n++) {
		uint8_t be[2];

		s = duet_pkt_cksum_raw(buf, n, 0);
		memcpy(be, &s, 2);
		/* Folding can give 0xffff or 0 for the same value; neither
		 * method here starts from zero with non-zero data. */
		cr_assert_eq(ref_get16(be), n ? ref_sum(buf, n, 0) : 0, "length %zu", n);
		if (n >= 2 && n % 2 == 0) {
			part = duet_pkt_cksum_raw(buf, n / 2 & ~(size_t)1, 0);
			cr_assert_eq(duet_pkt_cksum_raw(buf + (n / 2 & ~(size_t)1),
							n - (n / 2 & ~(size_t)1), part),
				     s, "split sum, length %zu", n);
		}
	}
}

Test(pkt, builds_arp_request_byte_exact)
{
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 0xaa};
	const uint8_t sip[4] = {192, 0, 2, 1}, tip[4] = {192, 0, 2, 254};
	uint32_t sip_be, tip_be;
	struct duet_pkt_info pi;
	size_t len;

	memset(frame, 0x5a, 64);
	memcpy(&sip_be, sip, 4);
	memcpy(&tip_be, tip, 4);
	len = duet_pkt_build_arp_request(frame, mac, sip_be, tip_be);
	cr_assert_eq(len, sizeof(fx_arp_gw_request));
	cr_assert_eq(memcmp(frame, fx_arp_gw_request, len), 0);
	cr_assert_eq(frame[60], 0x5a, "wrote past 60 bytes");
	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0);
	cr_assert_eq(pi.kind, DUET_PKT_ARP);
	cr_assert_eq(pi.arp_op, 1);
}

/* Every fixture the parser accepts or refuses, for the tests below. */
static const struct {
	const uint8_t *fx;
	size_t len;
} all_fx[] = {
	{fx_udp_plain, sizeof(fx_udp_plain)},	      {fx_udp_opts, sizeof(fx_udp_opts)},
	{fx_udp_padded, sizeof(fx_udp_padded)},	      {fx_udp_nocksum, sizeof(fx_udp_nocksum)},
	{fx_udp_unusual_ip, sizeof(fx_udp_unusual_ip)}, {fx_arp_request, sizeof(fx_arp_request)},
	{fx_arp_reply, sizeof(fx_arp_reply)},	      {fx_icmp_echo, sizeof(fx_icmp_echo)},
	{fx_icmp_echo_zero, sizeof(fx_icmp_echo_zero)}, {fx_icmp_echo_reply, sizeof(fx_icmp_echo_reply)},
	{fx_udp_vlan, sizeof(fx_udp_vlan)},	      {fx_ipv6_udp, sizeof(fx_ipv6_udp)},
};

/* The parser clears nothing up front: a result must not depend on what the
 * struct held before. Parsed over all-zero and all-0xa5 structs, an
 * accepted frame gives the same bytes in every field but `drop`, a refused
 * one the same reason. */
Test(pkt, the_result_does_not_depend_on_what_the_struct_held)
{
	struct duet_pkt_info z, p;
	size_t i, accepted = 0;
	int rz, rp;

	for (i = 0; i < sizeof(all_fx) / sizeof(all_fx[0]); i++) {
		load(all_fx[i].fx, all_fx[i].len);
		memset(&z, 0, sizeof(z));
		memset(&p, 0xa5, sizeof(p));
		rz = duet_pkt_parse(frame, all_fx[i].len, 0, &z);
		rp = duet_pkt_parse(frame, all_fx[i].len, 0, &p);
		cr_assert_eq(rz, rp, "fixture %zu", i);
		if (rz != 0) {
			cr_assert_eq(z.drop, p.drop, "fixture %zu", i);
			continue;
		}
		accepted++;
		cr_assert(ref_info_eq(&z, &p), "fixture %zu: a field was left as it was", i);
	}
	cr_assert_eq(accepted, 9);
}
