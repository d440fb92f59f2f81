/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/pkt/duet_pkt_fp.h: the in-place rewrites, byte-exact
 * against known frames (pkt_fixtures.h, checked with tshark), and the
 * incremental UDP and ICMP checksums against a full recomputation over many
 * seeded random packets. Plain test process, no EAL.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duet_pkt_fp.h"
#include "pkt_fixtures.h"
#include "pkt_ref.h"

#define ROUNDS 4000

static const uint8_t port_mac[6] = {2, 0, 0, 0, 0, 0xaa};
static const uint8_t gw_mac[6] = {2, 0, 0, 0, 0, 0xbb};

static uint8_t frame[1600];
static uint8_t want[1600];

static void
addr4(struct duet_addr *a, const char *ip, uint16_t port)
{
	cr_assert_eq(duet_addr_parse_ip(ip, a), 0);
	a->port = htons(port);
}

/* Parse a fixture copied into frame, asserting it is accepted as `kind`. */
static size_t
load(const uint8_t *fx, size_t len, int kind, struct duet_pkt_info *pi)
{
	memcpy(frame, fx, len);
	cr_assert_eq(duet_pkt_parse(frame, len, 0, pi), 0, "fixture refused: %s",
		     duet_drop_name((enum duet_drop)pi->drop));
	cr_assert_eq(pi->kind, kind);
	return len;
}

/* Relay a fixture the way the tests' fixtures expect: out of leg B's
 * endpoint 192.0.2.1:20002 to its client 198.51.100.20:5004. */
static size_t
relay_fixture(const uint8_t *fx, size_t len, bool offload)
{
	struct duet_pkt_info pi;
	struct duet_addr from, to;

	load(fx, len, DUET_PKT_UDP, &pi);
	addr4(&from, "192.0.2.1", 20002);
	addr4(&to, "198.51.100.20", 5004);
	duet_pkt_rewrite_udp4(frame, &pi, &from, &to, port_mac, gw_mac, offload);
	return len;
}

static void
assert_bytes(const uint8_t *got, const uint8_t *exp, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		cr_assert_eq(got[i], exp[i], "byte %zu is 0x%02x, want 0x%02x", i, got[i], exp[i]);
}

Test(pkt_fp, rewrite_udp4_matches_known_frame)
{
	size_t len = relay_fixture(fx_udp_plain, sizeof(fx_udp_plain), false);

	cr_assert_eq(len, sizeof(fx_udp_plain_relayed));
	assert_bytes(frame, fx_udp_plain_relayed, len);
}

Test(pkt_fp, rewrite_udp4_keeps_ip_options)
{
	size_t len = relay_fixture(fx_udp_opts, sizeof(fx_udp_opts), false);

	assert_bytes(frame, fx_udp_opts_relayed, len);
}

Test(pkt_fp, rewrite_udp4_odd_length_and_padding_untouched)
{
	size_t len = relay_fixture(fx_udp_padded, sizeof(fx_udp_padded), false);

	assert_bytes(frame, fx_udp_padded_relayed, len);
}

Test(pkt_fp, rewrite_udp4_keeps_zero_udp_checksum)
{
	size_t len = relay_fixture(fx_udp_nocksum, sizeof(fx_udp_nocksum), false);

	assert_bytes(frame, fx_udp_nocksum_relayed, len);
	cr_assert_eq(ref_get16(frame + 34 + 6), 0);
}

Test(pkt_fp, rewrite_udp4_leaves_ip_checksum_to_offload)
{
	size_t len = relay_fixture(fx_udp_plain, sizeof(fx_udp_plain), true);

	memcpy(want, fx_udp_plain_relayed, len);
	want[14 + 10] = 0;
	want[14 + 11] = 0;
	assert_bytes(frame, want, len);
}

/*
 * A random valid IPv4/UDP frame in frame[]: options of random length and
 * content, payload 0..1400 bytes (odd lengths too), sometimes Ethernet
 * padding, checksums computed from scratch. Returns the frame length.
 */
static size_t
random_udp(uint64_t *seed, bool with_cksum)
{
	size_t ihl = 5 + ref_rand(seed) % 11;
	size_t plen = ref_rand(seed) % 1401;
	size_t pad = ref_rand(seed) % 4 == 0 ? ref_rand(seed) % 20 : 0;
	uint8_t *ip = frame + 14, *udp = ip + ihl * 4;
	size_t i, len = 14 + ihl * 4 + 8 + plen;

	for (i = 0; i < len + pad; i++)
		frame[i] = (uint8_t)ref_rand(seed);
	frame[12] = 0x08;
	frame[13] = 0x00;
	ip[0] = (uint8_t)(0x40 | ihl);
	ref_put16(ip + 2, (uint16_t)(ihl * 4 + 8 + plen));
	ip[6] &= 0x40; /* DF or nothing: never a fragment */
	ip[7] = 0;
	ip[8] = (uint8_t)(2 + ref_rand(seed) % 254);
	ip[9] = 17;
	ref_ip4_fix(ip);
	ref_put16(udp + 4, (uint16_t)(8 + plen));
	ref_put16(udp + 6, with_cksum ? ref_udp_cksum(ip, udp) : 0);
	return len + pad;
}

static void
random_addr4(uint64_t *seed, struct duet_addr *a)
{
	uint64_t r = ref_rand(seed);

	duet_addr_set4(a, (uint32_t)r, (uint16_t)(r >> 32));
}

/* What the rewrite must produce, built from scratch in want[]. */
static void
expected_rewrite(size_t len, const struct duet_pkt_info *pi, const struct duet_addr *from,
		 const struct duet_addr *to, bool offload)
{
	uint8_t *ip = want + pi->l3_off, *udp = want + pi->l4_off;
	bool had_cksum = ref_get16(udp + 6) != 0;

	memcpy(want, gw_mac, 6);
	memcpy(want + 6, port_mac, 6);
	memcpy(ip + 12, from->ip, 4);
	memcpy(ip + 16, to->ip, 4);
	ip[8]--;
	ref_ip4_fix(ip);
	if (offload)
		ref_put16(ip + 10, 0);
	memcpy(udp, &from->port, 2);
	memcpy(udp + 2, &to->port, 2);
	if (had_cksum)
		ref_put16(udp + 6, ref_udp_cksum(ip, udp));
	(void)len;
}

Test(pkt_fp, incremental_udp_checksum_equals_full_recomputation)
{
	uint64_t seed = 0x5eed1234abcdULL;
	struct duet_pkt_info pi;
	struct duet_addr from, to;
	int round;

	for (round = 0; round < ROUNDS; round++) {
		bool with_cksum = round % 8 != 0;
		bool offload = round % 5 == 0;
		size_t len = random_udp(&seed, with_cksum);

		cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0, "round %d: %s", round,
			     duet_drop_name((enum duet_drop)pi.drop));
		random_addr4(&seed, &from);
		random_addr4(&seed, &to);
		memcpy(want, frame, len);
		expected_rewrite(len, &pi, &from, &to, offload);
		duet_pkt_rewrite_udp4(frame, &pi, &from, &to, port_mac, gw_mac, offload);
		cr_assert_eq(memcmp(frame, want, len), 0, "round %d differs", round);
		if (with_cksum)
			cr_assert(ref_udp_ok(frame + pi.l3_off, frame + pi.l4_off), "round %d",
				  round);
	}
}

/*
 * Pick the first payload word so that the relayed datagram's checksum
 * computes to zero, which must go out as 0xffff (zero means "none").
 */
Test(pkt_fp, computed_zero_udp_checksum_is_sent_as_all_ones)
{
	uint64_t seed = 99;
	struct duet_pkt_info pi;
	struct duet_addr from, to;
	int round;

	for (round = 0; round < 200; round++) {
		size_t len;
		uint8_t *ip, *udp;
		uint32_t s;

		do
			len = random_udp(&seed, true);
		while (duet_pkt_parse(frame, len, 0, &pi) != 0 || pi.l4_len < 10);
		ip = frame + pi.l3_off;
		udp = frame + pi.l4_off;
		random_addr4(&seed, &from);
		random_addr4(&seed, &to);
		/* Sum of the relayed datagram with checksum and word 0 zero. */
		memcpy(want, frame, len);
		memcpy(want + pi.l3_off + 12, from.ip, 4);
		memcpy(want + pi.l3_off + 16, to.ip, 4);
		memcpy(want + pi.l4_off, &from.port, 2);
		memcpy(want + pi.l4_off + 2, &to.port, 2);
		ref_put16(want + pi.l4_off + 6, 0);
		ref_put16(want + pi.l4_off + 8, 0);
		s = ref_udp_sum(want + pi.l3_off, want + pi.l4_off);
		ref_put16(udp + 8, (uint16_t)(0xffff - s));
		ref_put16(udp + 6, ref_udp_cksum(ip, udp));

		duet_pkt_rewrite_udp4(frame, &pi, &from, &to, port_mac, gw_mac, false);
		cr_assert_eq(ref_get16(udp + 6), 0xffff, "round %d: 0x%04x", round,
			     ref_get16(udp + 6));
		cr_assert(ref_udp_ok(ip, udp));
	}
}

/* The reverse: a sender's computed zero (sent as 0xffff) is updated right. */
Test(pkt_fp, all_ones_udp_checksum_is_updated)
{
	uint64_t seed = 4242;
	struct duet_pkt_info pi;
	struct duet_addr from, to;
	int round;

	for (round = 0; round < 200; round++) {
		size_t len;
		uint8_t *ip, *udp;

		do
			len = random_udp(&seed, true);
		while (duet_pkt_parse(frame, len, 0, &pi) != 0 || pi.l4_len < 10);
		ip = frame + pi.l3_off;
		udp = frame + pi.l4_off;
		ref_put16(udp + 6, 0);
		ref_put16(udp + 8, 0);
		ref_put16(udp + 8, (uint16_t)(0xffff - ref_udp_sum(ip, udp)));
		ref_put16(udp + 6, ref_udp_cksum(ip, udp));
		cr_assert_eq(ref_get16(udp + 6), 0xffff);

		random_addr4(&seed, &from);
		random_addr4(&seed, &to);
		memcpy(want, frame, len);
		expected_rewrite(len, &pi, &from, &to, false);
		duet_pkt_rewrite_udp4(frame, &pi, &from, &to, port_mac, gw_mac, false);
		cr_assert_eq(memcmp(frame, want, len), 0, "round %d differs", round);
	}
}

Test(pkt_fp, corrupted_payload_still_fails_udp_checksum_after_rewrite)
{
	uint64_t seed = 0xbadc0ffeeULL;
	struct duet_pkt_info pi;
	struct duet_addr from, to;
	int round;

	for (round = 0; round < ROUNDS; round++) {
		size_t len;
		uint8_t *udp;
		size_t at;

		do
			len = random_udp(&seed, true);
		while (duet_pkt_parse(frame, len, 0, &pi) != 0 || pi.l4_len <= 8);
		udp = frame + pi.l4_off;
		/* One bit flipped in transit, before duet sees it. */
		at = 8 + ref_rand(&seed) % (pi.l4_len - 8u);
		udp[at] ^= (uint8_t)(1u << ref_rand(&seed) % 8);
		cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0);
		random_addr4(&seed, &from);
		random_addr4(&seed, &to);
		duet_pkt_rewrite_udp4(frame, &pi, &from, &to, port_mac, gw_mac, false);
		cr_assert_not(ref_udp_ok(frame + pi.l3_off, udp), "round %d: corruption hidden",
			      round);
	}
}

Test(pkt_fp, arp_reply_is_byte_exact)
{
	struct duet_pkt_info pi;
	struct duet_addr ours, requester;
	size_t len;

	load(fx_arp_request, sizeof(fx_arp_request), DUET_PKT_ARP, &pi);
	len = duet_pkt_arp_to_reply(frame, &pi, port_mac);
	cr_assert_eq(len, sizeof(fx_arp_reply));
	assert_bytes(frame, fx_arp_reply, len);
	/* The request's padding is left alone, not overrun. */
	assert_bytes(frame + len, fx_arp_request + len, sizeof(fx_arp_request) - len);

	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0);
	cr_assert_eq(pi.arp_op, 2);
	addr4(&ours, "192.0.2.1", 0);
	addr4(&requester, "192.0.2.254", 0);
	cr_assert(duet_addr_equal(&pi.src, &ours));
	cr_assert(duet_addr_equal(&pi.dst, &requester));
	cr_assert_eq(memcmp(pi.src_mac, port_mac, 6), 0);
}

Test(pkt_fp, icmp_echo_reply_is_byte_exact)
{
	struct duet_pkt_info pi;
	size_t len = load(fx_icmp_echo, sizeof(fx_icmp_echo), DUET_PKT_ICMP_ECHO, &pi);

	duet_pkt_icmp_to_reply(frame, &pi);
	assert_bytes(frame, fx_icmp_echo_reply, len);
	/* A reply is not an echo request: duet would not answer it again. */
	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), -ENOTSUP);
	cr_assert_eq(pi.drop, DUET_DROP_ICMP_OTHER);
}

/* The reply is all zeros but its checksum: 0x0000 would not check out. */
Test(pkt_fp, icmp_reply_of_all_zeros_gets_all_ones_checksum)
{
	struct duet_pkt_info pi;
	size_t len = load(fx_icmp_echo_zero, sizeof(fx_icmp_echo_zero), DUET_PKT_ICMP_ECHO, &pi);

	duet_pkt_icmp_to_reply(frame, &pi);
	assert_bytes(frame, fx_icmp_echo_zero_reply, len);
	cr_assert_eq(ref_get16(frame + pi.l4_off + 2), 0xffff);
}

/* Random echo requests, with options and odd lengths, answered right. */
Test(pkt_fp, icmp_reply_checksum_equals_full_recomputation)
{
	uint64_t seed = 0x1c3b;
	struct duet_pkt_info pi;
	int round;

	for (round = 0; round < ROUNDS; round++) {
		size_t len = random_udp(&seed, false);
		uint8_t *ip = frame + 14, *icmp;
		bool corrupt = round % 3 == 0;
		bool zero = round % 7 == 1; /* reply checksum computes to zero */
		size_t n;

		ip[9] = 1;
		ref_ip4_fix(ip);
		icmp = frame + 14 + (ip[0] & 0x0f) * 4;
		n = ref_get16(ip + 2) - (size_t)(ip[0] & 0x0f) * 4;
		icmp[0] = 0;
		icmp[1] = 0;
		ref_put16(icmp + 2, 0);
		if (zero) {
			ref_put16(icmp + 4, 0);
			ref_put16(icmp + 4, (uint16_t)(0xffff - ref_sum(icmp, n, 0)));
		}
		icmp[0] = 8;
		ref_put16(icmp + 2, (uint16_t)~ref_sum(icmp, n, 0));
		if (corrupt)
			icmp[n - 1] ^= 0x10;
		cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0, "round %d", round);
		cr_assert_eq(pi.kind, DUET_PKT_ICMP_ECHO);

		memcpy(want, frame + 6, 6);
		memcpy(want + 6, frame, 6);
		memcpy(want + 12, frame + 12, len - 12);
		memcpy(want + 14 + 12, frame + 14 + 16, 4);
		memcpy(want + 14 + 16, frame + 14 + 12, 4);
		want[14 + 8] = 64;
		ref_ip4_fix(want + 14);
		want[pi.l4_off] = 0;
		if (!corrupt) {
			uint16_t c;

			ref_put16(want + pi.l4_off + 2, 0);
			c = (uint16_t)~ref_sum(want + pi.l4_off, n, 0);
			ref_put16(want + pi.l4_off + 2, c == 0 ? 0xffff : c);
			if (zero)
				cr_assert_eq(c, 0, "round %d: zero case not set up", round);
		}

		duet_pkt_icmp_to_reply(frame, &pi);
		if (corrupt) {
			cr_assert_neq(ref_sum(icmp, n, 0), 0xffff, "round %d: corruption hidden",
				      round);
			memcpy(want + pi.l4_off + 2, icmp + 2, 2);
		}
		cr_assert_eq(memcmp(frame, want, len), 0, "round %d differs", round);
		cr_assert(ref_ip4_ok(ip));
		if (!corrupt)
			cr_assert_eq(ref_sum(icmp, n, 0), 0xffff, "round %d", round);
	}
}
