/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/pkt/duet_pkt_fp.h: the in-place rewrites, byte-exact
 * against known frames (pkt_fixtures.h, checked with tshark), the relayed
 * frame's own IP header (IPv4: options stripped, the relay's TTL and DSCP,
 * ID 0, DF; IPv6: extension headers stripped, the relay's hop limit and
 * traffic class, flow label 0; length from the UDP length) against a
 * reference model built from scratch, for IPv4 and IPv6 and across them
 * (the headers grow or shrink), and the incremental UDP and ICMP checksums
 * against a full recomputation over many seeded random packets; the
 * neighbour advertisement and ICMPv6 echo reply duet answers with. Plain
 * test process, no EAL.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duet_pkt_fp.h"
#include "pkt_fixtures.h"
#include "pkt_ref.h"

#define ROUNDS 4000
#define IP 14	      /* IP header offset, in the input and the relayed frame */
#define UDP (IP + 20) /* UDP header offset in a frame relayed toward IPv4 */
#define UDP6 (IP + 40) /* and toward IPv6 */
#define HEADROOM 64   /* bytes in front of the input: IPv4 to IPv6 needs 20 */

static const uint8_t port_mac[6] = {2, 0, 0, 0, 0, 0xaa};
static const uint8_t gw_mac[6] = {2, 0, 0, 0, 0, 0xbb};
/* The relay's header fields the *_relayed fixtures were generated with. */
static const struct duet_pkt_egress fx_egress = {.ttl = FX_EGRESS_TTL, .tos = FX_EGRESS_TOS};

/* The input goes at frame, HEADROOM bytes into room[], as into an mbuf. */
static uint8_t room[HEADROOM + 1600];
static uint8_t *const frame = room + HEADROOM;
static uint8_t orig[1600]; /* the input as it was: the rewrite overwrites frame */
static uint8_t want[1600];

/* A relayed frame: where it starts in frame[] and how long it is. */
struct relayed {
	uint8_t *p; /* frame + shift */
	size_t len; /* Ethernet + 20 or 40 + UDP length */
	int shift;  /* what the rewrite returned */
};

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

static void
addr6(struct duet_addr *a, const char *ip, uint16_t port)
{
	cr_assert_eq(duet_addr_parse_ip(ip, a), 0);
	cr_assert_eq(a->family, DUET_AF_INET6);
	a->port = htons(port);
}

/*
 * Rewrite the UDP frame in frame[] that parsed as *pi toward from's family,
 * and check what the rewrite tells its caller: the new frame starts where
 * the input's IP header and the new one differ by (shift: the options' or
 * extension headers' length, plus 20 from IPv6 to IPv4, less 20 from IPv4
 * to IPv6), duet_pkt_rewrite_shift() said so first, and pi now describes
 * the new frame (a bare IP header, same UDP length). Nothing is written in
 * front of the new frame.
 */
static struct relayed
rewrite(struct duet_pkt_info *pi, const struct duet_addr *from, const struct duet_addr *to,
	const struct duet_pkt_egress *eg, bool offload)
{
	int hlen_in = (int)(pi->l4_off - pi->l3_off);
	int hlen_out = from->family == DUET_AF_INET6 ? 40 : 20;
	int want_shift = hlen_in - hlen_out;
	unsigned int ulen = pi->l4_len;
	struct relayed r;
	const uint8_t *q;

	cr_assert_eq(duet_pkt_rewrite_shift(pi, from->family), want_shift);
	memset(room, 0xcc, HEADROOM);
	r.shift = duet_pkt_rewrite_udp(frame, pi, from, to, port_mac, gw_mac, eg, offload);
	cr_assert_eq(r.shift, want_shift, "shift %d, want %d", r.shift, want_shift);
	cr_assert_geq(r.shift, -HEADROOM);
	cr_assert_eq(pi->l3_off, IP);
	cr_assert_eq(pi->l4_off, IP + hlen_out);
	cr_assert_eq(pi->l4_len, ulen);
	cr_assert_eq(pi->ip_total, hlen_out + ulen);
	r.p = frame + r.shift;
	r.len = (size_t)pi->l4_off + pi->l4_len;
	for (q = room; q < r.p && q < frame; q++)
		cr_assert_eq(*q, 0xcc, "wrote %td bytes before the new frame", r.p - q);
	return r;
}

/* Leg B's endpoint and client the relayed fixtures were generated with, in
 * either family: 192.0.2.1:20002 to 198.51.100.20:5004, or
 * [2001:db8:2::1]:20002 to [2001:db8:100::20]:5004. */
static void
leg_b(uint8_t family, struct duet_addr *from, struct duet_addr *to)
{
	if (family == DUET_AF_INET6) {
		addr6(from, "2001:db8:2::1", 20002);
		addr6(to, "2001:db8:100::20", 5004);
	} else {
		addr4(from, "192.0.2.1", 20002);
		addr4(to, "198.51.100.20", 5004);
	}
}

/* Relay the UDP frame of len bytes in frame[] the way the fixtures expect,
 * toward leg B in `family`. The input is kept in orig[]. */
static struct relayed
relay_loaded_to(uint8_t family, size_t len, const struct duet_pkt_egress *eg, bool offload)
{
	struct duet_pkt_info pi;
	struct duet_addr from, to;

	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0, "frame refused: %s",
		     duet_drop_name((enum duet_drop)pi.drop));
	cr_assert_eq(pi.kind, DUET_PKT_UDP);
	memcpy(orig, frame, len);
	leg_b(family, &from, &to);
	return rewrite(&pi, &from, &to, eg, offload);
}

static struct relayed
relay_loaded(size_t len, const struct duet_pkt_egress *eg, bool offload)
{
	return relay_loaded_to(DUET_AF_INET4, len, eg, offload);
}

static struct relayed
relay_fixture_to(uint8_t family, const uint8_t *fx, size_t len, const struct duet_pkt_egress *eg,
		 bool offload)
{
	memcpy(frame, fx, len);
	return relay_loaded_to(family, len, eg, offload);
}

static struct relayed
relay_fixture(const uint8_t *fx, size_t len, const struct duet_pkt_egress *eg, bool offload)
{
	return relay_fixture_to(DUET_AF_INET4, fx, len, eg, offload);
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
	struct relayed r = relay_fixture(fx_udp_plain, sizeof(fx_udp_plain), &fx_egress, false);

	cr_assert_eq(r.shift, 0);
	cr_assert_eq(r.len, sizeof(fx_udp_plain_relayed));
	assert_bytes(r.p, fx_udp_plain_relayed, r.len);
}

Test(pkt_fp, rewrite_udp4_strips_ip_options)
{
	struct relayed r = relay_fixture(fx_udp_opts, sizeof(fx_udp_opts), &fx_egress, false);
	struct duet_pkt_info pi;

	cr_assert_eq(r.shift, 4, "the router alert option is 4 bytes");
	cr_assert_eq(r.len, sizeof(fx_udp_opts) - 4);
	cr_assert_eq(r.len, sizeof(fx_udp_opts_relayed));
	assert_bytes(r.p, fx_udp_opts_relayed, r.len);
	/* Nothing of the options is left: the frame is the one a sender
	 * without them gets. */
	cr_assert_eq(memcmp(r.p, fx_udp_plain_relayed, r.len), 0);
	cr_assert_eq(duet_pkt_parse(r.p, r.len, 0, &pi), 0);
	cr_assert_eq(pi.l4_off, UDP, "IHL 5");
	cr_assert_eq(pi.ip_total, 60);
}

Test(pkt_fp, rewrite_udp4_ends_the_frame_at_the_odd_length_datagram)
{
	struct relayed r = relay_fixture(fx_udp_padded, sizeof(fx_udp_padded), &fx_egress, false);

	/* 5 bytes of payload: the 13 bytes of Ethernet padding are dropped. */
	cr_assert_eq(r.len, IP + 20 + 8 + 5);
	cr_assert_eq(r.len, sizeof(fx_udp_padded_relayed));
	assert_bytes(r.p, fx_udp_padded_relayed, r.len);
	cr_assert_eq(ref_get16(r.p + IP + 2), 20 + 8 + 5);
}

Test(pkt_fp, bytes_past_ip_total_length_are_not_in_the_new_frame)
{
	struct duet_pkt_info pi;
	struct relayed r;

	/* Options, then 26 bytes of junk after the datagram. */
	memcpy(frame, fx_udp_opts, sizeof(fx_udp_opts));
	memset(frame + sizeof(fx_udp_opts), 0xee, 26);
	r = relay_loaded(sizeof(fx_udp_opts) + 26, &fx_egress, false);

	cr_assert_eq(r.len, IP + 20 + 40, "Ethernet + 20 + UDP length");
	cr_assert_eq(ref_get16(r.p + IP + 2), 20 + 40, "total length from the UDP length");
	assert_bytes(r.p, fx_udp_opts_relayed, r.len);
	/* The frame cut there stands on its own. */
	cr_assert_eq(duet_pkt_parse(r.p, r.len, 0, &pi), 0);
	cr_assert_eq(pi.ip_total, 60);
	cr_assert(ref_udp_ok(r.p + IP, r.p + UDP));
}

/*
 * A random valid IPv4/UDP frame in frame[]: options of random length and
 * content, payload 0..1400 bytes (odd lengths too), random TOS, ID, TTL
 * and DF, sometimes Ethernet padding, checksums computed from scratch.
 * Returns the frame length.
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
	ip[8] = (uint8_t)(1 + ref_rand(seed) % 255);
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

/* Any [media] ttl (1..255) and dscp (0..63 or keep). */
static void
random_egress(uint64_t *seed, struct duet_pkt_egress *eg)
{
	uint64_t r = ref_rand(seed);

	eg->ttl = (uint8_t)(1 + r % 255);
	eg->tos = (uint8_t)((r >> 8) % 64 << 2);
	eg->keep_dscp = (r >> 16) % 4 == 0;
}

/* The input's DSCP and ECN byte, read from its header: IPv4 TOS, or the
 * IPv6 traffic class across the version and flow label nibbles. */
static uint8_t
in_tclass(const uint8_t *in_ip)
{
	if ((in_ip[0] >> 4) == 6)
		return (uint8_t)((in_ip[0] & 0x0f) << 4 | in_ip[1] >> 4);
	return in_ip[1];
}

/*
 * What the rewrite of orig[] (parsed as *pi) toward from's family must
 * produce, built from scratch in want[]: Ethernet to the gateway, a bare
 * IP header of the relay's (IPv4: 20 bytes, TTL and DSCP, ID 0, DF; IPv6:
 * 40 bytes, hop limit and traffic class, flow label 0), the UDP datagram
 * (and only it) with new ports and a checksum computed from scratch, unless
 * it had none and stays in IPv4. Returns the new frame's length.
 */
static size_t
expected_rewrite(const struct duet_pkt_info *pi, const struct duet_addr *from,
		 const struct duet_addr *to, const struct duet_pkt_egress *eg, bool offload)
{
	const uint8_t *in_ip = orig + pi->l3_off, *in_udp = orig + pi->l4_off;
	uint16_t ulen = ref_get16(in_udp + 4);
	bool out6 = from->family == DUET_AF_INET6;
	uint8_t *ip = want + IP, *udp = want + (out6 ? UDP6 : UDP);
	uint8_t tc = eg->keep_dscp ? (uint8_t)(in_tclass(in_ip) & 0xfc) : eg->tos;

	memcpy(want, gw_mac, 6);
	memcpy(want + 6, port_mac, 6);
	if (out6) {
		ref_put16(want + 12, 0x86dd);
		ip[0] = (uint8_t)(0x60 | tc >> 4);
		ip[1] = (uint8_t)(tc << 4);
		ip[2] = 0;
		ip[3] = 0;
		ref_put16(ip + 4, ulen);
		ip[6] = 17;
		ip[7] = eg->ttl;
		memcpy(ip + 8, from->ip, 16);
		memcpy(ip + 24, to->ip, 16);
	} else {
		ref_put16(want + 12, 0x0800);
		ip[0] = 0x45;
		ip[1] = tc;
		ref_put16(ip + 2, (uint16_t)(20 + ulen));
		ref_put16(ip + 4, 0);
		ref_put16(ip + 6, 0x4000);
		ip[8] = eg->ttl;
		ip[9] = 17;
		memcpy(ip + 12, from->ip, 4);
		memcpy(ip + 16, to->ip, 4);
		ref_ip4_fix(ip);
		if (offload)
			ref_put16(ip + 10, 0);
	}
	memcpy(udp, in_udp, ulen);
	memcpy(udp, &from->port, 2);
	memcpy(udp + 2, &to->port, 2);
	if (ref_get16(in_udp + 6) != 0 || out6)
		ref_put16(udp + 6, ref_udp_cksum_any(ip, udp));
	return (size_t)(udp - want) + ulen;
}

Test(pkt_fp, rewrite_udp4_keeps_zero_udp_checksum)
{
	struct relayed r = relay_fixture(fx_udp_nocksum, sizeof(fx_udp_nocksum), &fx_egress, false);
	uint64_t seed = 0x0c5;
	struct duet_pkt_egress eg;
	struct duet_pkt_info pi;
	struct duet_addr from, to;
	int round;

	assert_bytes(r.p, fx_udp_nocksum_relayed, r.len);
	cr_assert_eq(ref_get16(r.p + UDP + 6), 0);
	/* Whatever the options, addresses and header fields. */
	for (round = 0; round < 500; round++) {
		size_t len = random_udp(&seed, false);

		cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0, "round %d", round);
		random_addr4(&seed, &from);
		random_addr4(&seed, &to);
		random_egress(&seed, &eg);
		r = rewrite(&pi, &from, &to, &eg, round % 2);
		cr_assert_eq(ref_get16(r.p + UDP + 6), 0, "round %d", round);
	}
}

Test(pkt_fp, rewrite_udp4_leaves_ip_checksum_to_offload)
{
	struct relayed r = relay_fixture(fx_udp_plain, sizeof(fx_udp_plain), &fx_egress, true);

	memcpy(want, fx_udp_plain_relayed, r.len);
	want[IP + 10] = 0;
	want[IP + 11] = 0;
	assert_bytes(r.p, want, r.len);
	/* Options or not: the header the NIC fills is the same 20 bytes. */
	r = relay_fixture(fx_udp_unusual_ip, sizeof(fx_udp_unusual_ip), &fx_egress, true);
	assert_bytes(r.p, want, r.len);
}

struct fixture {
	const uint8_t *p;
	size_t len;
};

#define FIXTURE(x) {fx_##x, sizeof(fx_##x)}
static const struct fixture udp_inputs[] = {
	FIXTURE(udp_plain),   FIXTURE(udp_opts),       FIXTURE(udp_padded),
	FIXTURE(udp_nocksum), FIXTURE(udp_unusual_ip),
};
#define N_UDP_INPUTS (sizeof(udp_inputs) / sizeof(udp_inputs[0]))

Test(pkt_fp, ip_header_checksum_verifies_after_rewrite_and_is_zero_with_offload)
{
	static const struct duet_pkt_egress egs[] = {
		{.ttl = 1, .tos = 0}, {.ttl = 64, .tos = 46 << 2}, {.ttl = 255, .tos = 63 << 2},
		{.ttl = 200, .tos = 0x28, .keep_dscp = 1},
	};
	uint8_t hdr[20];
	size_t i, e;

	for (i = 0; i < N_UDP_INPUTS; i++) {
		for (e = 0; e < sizeof(egs) / sizeof(egs[0]); e++) {
			struct duet_pkt_info pi;
			struct relayed r = relay_fixture(udp_inputs[i].p, udp_inputs[i].len,
							 &egs[e], false);

			cr_assert(ref_ip4_ok(r.p + IP), "input %zu, egress %zu", i, e);
			/* duet's own parser agrees. */
			cr_assert_eq(duet_pkt_parse(r.p, r.len, 0, &pi), 0, "input %zu, egress %zu",
				     i, e);
			memcpy(hdr, r.p + IP, 20);

			r = relay_fixture(udp_inputs[i].p, udp_inputs[i].len, &egs[e], true);
			cr_assert_eq(ref_get16(r.p + IP + 10), 0, "input %zu, egress %zu", i, e);
			/* Zero is the only difference: the NIC's sum will be ours. */
			ref_ip4_fix(r.p + IP);
			cr_assert_eq(memcmp(r.p + IP, hdr, 20), 0, "input %zu, egress %zu", i, e);
		}
	}
}

Test(pkt_fp, ttl_tos_id_and_df_are_the_relays_whatever_the_input_had)
{
	static const uint8_t ttls[] = {1, 64, 255};
	static const uint8_t dscps[] = {0, 46, 63};
	struct relayed r;
	size_t i, t, d;

	/* TTL 2, EF with ECN CE, ID 0xbeef, DF clear and 8 bytes of options
	 * leave as the plain frame does: nothing of that header is left. */
	r = relay_fixture(fx_udp_unusual_ip, sizeof(fx_udp_unusual_ip), &fx_egress, false);
	cr_assert_eq(r.shift, 8);
	cr_assert_eq(r.len, sizeof(fx_udp_plain_relayed));
	assert_bytes(r.p, fx_udp_plain_relayed, r.len);

	for (i = 0; i < N_UDP_INPUTS; i++) {
		for (t = 0; t < sizeof(ttls); t++) {
			for (d = 0; d < sizeof(dscps); d++) {
				struct duet_pkt_egress eg = {.ttl = ttls[t],
							     .tos = (uint8_t)(dscps[d] << 2)};
				const uint8_t *ip;

				r = relay_fixture(udp_inputs[i].p, udp_inputs[i].len, &eg, false);
				ip = r.p + IP;
				cr_assert_eq(ip[0], 0x45, "input %zu", i);
				cr_assert_eq(ip[1], dscps[d] << 2, "input %zu: TOS 0x%02x", i,
					     ip[1]);
				cr_assert_eq(ref_get16(ip + 4), 0, "input %zu: ID", i);
				cr_assert_eq(ref_get16(ip + 6), 0x4000, "input %zu: DF, offset 0",
					     i);
				cr_assert_eq(ip[8], ttls[t], "input %zu: TTL %u", i, ip[8]);
				cr_assert_eq(ip[9], 17, "input %zu", i);
			}
		}
	}
}

Test(pkt_fp, keep_dscp_keeps_the_callers_dscp_and_clears_ecn)
{
	/* tos is what a configured DSCP would give; keep_dscp overrides it. */
	const struct duet_pkt_egress keep = {.ttl = FX_EGRESS_TTL, .tos = FX_EGRESS_TOS,
					     .keep_dscp = 1};
	struct relayed r;
	unsigned int tos;

	r = relay_fixture(fx_udp_unusual_ip, sizeof(fx_udp_unusual_ip), &keep, false);
	assert_bytes(r.p, fx_udp_unusual_ip_relayed_keep, r.len);
	cr_assert_eq(r.p[IP + 1], 0xb8, "EF kept, CE cleared");

	for (tos = 0; tos < 256; tos++) {
		memcpy(frame, fx_udp_opts, sizeof(fx_udp_opts));
		frame[IP + 1] = (uint8_t)tos;
		ref_ip4_fix(frame + IP);
		r = relay_loaded(sizeof(fx_udp_opts), &keep, false);
		cr_assert_eq(r.p[IP + 1], tos & 0xfc, "TOS 0x%02x went out as 0x%02x", tos,
			     r.p[IP + 1]);
		cr_assert_eq(r.p[IP + 8], FX_EGRESS_TTL, "TTL is still the relay's");
		cr_assert(ref_ip4_ok(r.p + IP));
	}
}

/* The whole relayed frame, against the reference built from scratch, for
 * random frames, addresses and egress settings. */
Test(pkt_fp, incremental_udp_checksum_equals_full_recomputation)
{
	uint64_t seed = 0x5eed1234abcdULL;
	struct duet_pkt_egress eg;
	struct duet_pkt_info pi;
	struct duet_addr from, to;
	int round;

	for (round = 0; round < ROUNDS; round++) {
		bool with_cksum = round % 8 != 0;
		bool offload = round % 5 == 0;
		size_t len = random_udp(&seed, with_cksum), want_len;
		struct relayed r;

		cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0, "round %d: %s", round,
			     duet_drop_name((enum duet_drop)pi.drop));
		memcpy(orig, frame, len);
		random_addr4(&seed, &from);
		random_addr4(&seed, &to);
		random_egress(&seed, &eg);
		want_len = expected_rewrite(&pi, &from, &to, &eg, offload);
		r = rewrite(&pi, &from, &to, &eg, offload);
		cr_assert_eq(r.len, want_len, "round %d", round);
		cr_assert_eq(memcmp(r.p, want, r.len), 0, "round %d differs", round);
		if (with_cksum)
			cr_assert(ref_udp_ok(r.p + IP, r.p + UDP), "round %d", round);
		if (!offload)
			cr_assert(ref_ip4_ok(r.p + IP), "round %d", round);
	}
}

/*
 * Pick the first payload word so that the relayed datagram's checksum
 * computes to zero, which must go out as 0xffff (zero means "none").
 */
Test(pkt_fp, computed_zero_udp_checksum_is_sent_as_all_ones)
{
	uint64_t seed = 99;
	struct duet_pkt_egress eg;
	struct duet_pkt_info pi;
	struct duet_addr from, to;
	int round;

	for (round = 0; round < 200; round++) {
		size_t len;
		uint8_t *ip, *udp;
		uint32_t s;
		struct relayed r;

		do
			len = random_udp(&seed, true);
		while (duet_pkt_parse(frame, len, 0, &pi) != 0 || pi.l4_len < 10);
		ip = frame + pi.l3_off;
		udp = frame + pi.l4_off;
		random_addr4(&seed, &from);
		random_addr4(&seed, &to);
		random_egress(&seed, &eg);
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

		r = rewrite(&pi, &from, &to, &eg, false);
		cr_assert_eq(ref_get16(r.p + UDP + 6), 0xffff, "round %d: 0x%04x", round,
			     ref_get16(r.p + UDP + 6));
		cr_assert(ref_udp_ok(r.p + IP, r.p + UDP));
	}
}

/* The reverse: a sender's computed zero (sent as 0xffff) is updated right. */
Test(pkt_fp, all_ones_udp_checksum_is_updated)
{
	uint64_t seed = 4242;
	struct duet_pkt_egress eg;
	struct duet_pkt_info pi;
	struct duet_addr from, to;
	int round;

	for (round = 0; round < 200; round++) {
		size_t len, want_len;
		uint8_t *ip, *udp;
		struct relayed r;

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

		memcpy(orig, frame, len);
		random_addr4(&seed, &from);
		random_addr4(&seed, &to);
		random_egress(&seed, &eg);
		want_len = expected_rewrite(&pi, &from, &to, &eg, false);
		r = rewrite(&pi, &from, &to, &eg, false);
		cr_assert_eq(r.len, want_len);
		cr_assert_eq(memcmp(r.p, want, r.len), 0, "round %d differs", round);
	}
}

Test(pkt_fp, corrupted_payload_still_fails_udp_checksum_after_rewrite)
{
	uint64_t seed = 0xbadc0ffeeULL;
	struct duet_pkt_egress eg;
	struct duet_pkt_info pi;
	struct duet_addr from, to;
	int round;

	for (round = 0; round < ROUNDS; round++) {
		size_t len;
		uint8_t *udp;
		size_t at;
		struct relayed r;

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
		random_egress(&seed, &eg);
		r = rewrite(&pi, &from, &to, &eg, false);
		cr_assert_not(ref_udp_ok(r.p + IP, r.p + UDP), "round %d: corruption hidden",
			      round);
	}
}

/*
 * SRTP rekey path: a payload 4 bytes shorter. The resize touches only the
 * UDP length; the rewrite takes the IP total length from it, and the full
 * UDP checksum over the new frame verifies.
 */
Test(pkt_fp, resize_sets_only_udp_length_and_rewrite_derives_ip_total)
{
	struct duet_pkt_info pi, again;
	struct duet_addr from, to;
	size_t len = load(fx_udp_opts, sizeof(fx_udp_opts), DUET_PKT_UDP, &pi);
	size_t ulen_off = pi.l4_off + 4u;
	struct relayed r;

	memcpy(orig, frame, len);
	duet_pkt_udp_resize(frame, &pi, 36);
	cr_assert_eq(pi.l4_len, 36);
	cr_assert_eq(ref_get16(frame + ulen_off), 36);
	cr_assert_eq(memcmp(frame, orig, ulen_off), 0, "IP total length and all before untouched");
	cr_assert_eq(memcmp(frame + ulen_off + 2, orig + ulen_off + 2, len - ulen_off - 2), 0);

	addr4(&from, "192.0.2.1", 20002);
	addr4(&to, "198.51.100.20", 5004);
	r = rewrite(&pi, &from, &to, &fx_egress, false);
	cr_assert_eq(r.len, IP + 20 + 36);
	cr_assert_eq(ref_get16(r.p + IP + 2), 20 + 36);
	cr_assert(ref_ip4_ok(r.p + IP));
	duet_pkt_udp_cksum_full(r.p, &pi);
	cr_assert(ref_udp_ok(r.p + IP, r.p + UDP));
	cr_assert_eq(duet_pkt_parse(r.p, r.len, 0, &again), 0);
	cr_assert_eq(again.l4_len, 36);
	cr_assert_eq(again.ip_total, 56);
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

/*
 * The partial sum adds 32-bit words and leaves the fold for the end: for
 * every length and alignment, with any starting sum, its fold must be the
 * RFC 1071 sum of big-endian 16-bit words that the reference computes
 * (byte-swapped: the fast path sums in host order), and the incremental
 * change must equal adding the new words and the old words' complements.
 */
Test(pkt_fp, the_word_sum_folds_to_the_rfc1071_sum_at_any_length_and_offset)
{
	uint64_t seed = 0x0dd5eedULL;
	uint8_t buf[160], before[32], after[32];
	int round;

	for (round = 0; round < ROUNDS; round++) {
		size_t off = (size_t)(ref_rand(&seed) % 8), len = (size_t)(ref_rand(&seed) % 150);
		size_t n = 2 * (size_t)(ref_rand(&seed) % 16), i;
		uint16_t init = (uint16_t)ref_rand(&seed), got, want;
		uint32_t ref;

		for (i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)ref_rand(&seed);
		/* Every byte equal is a sum made of carries alone: test it too. */
		if (round % 97 == 0)
			memset(buf, round % 2 ? 0xff : 0, sizeof(buf));
		got = duet_pkt_fold(duet_pkt_sum(buf + off, len, init));
		ref = ref_sum(buf + off, len, rte_be_to_cpu_16(init));
		want = rte_cpu_to_be_16((uint16_t)ref);
		cr_assert_eq(got, want, "round %d: len %zu off %zu: %04x, want %04x", round, len,
			     off, got, want);

		for (i = 0; i < n; i++) {
			before[i] = (uint8_t)ref_rand(&seed);
			after[i] = (uint8_t)ref_rand(&seed);
		}
		ref = rte_be_to_cpu_16(init);
		for (i = 0; i < n; i += 2) {
			ref += (uint16_t)~(before[i] << 8 | before[i + 1]);
			ref += (uint16_t)(after[i] << 8 | after[i + 1]);
		}
		while (ref >> 16)
			ref = (ref & 0xffff) + (ref >> 16);
		got = duet_pkt_fold(duet_pkt_sum_change(init, before, after, n));
		/* Ones' complement has two zeros: 0 and 0xffff are the same sum. */
		if ((got == 0 || got == 0xffff) && (ref == 0 || ref == 0xffff))
			continue;
		cr_assert_eq(got, rte_cpu_to_be_16((uint16_t)ref), "round %d: change over %zu bytes",
			     round, n);
	}
}

/* IPv6 and the bridge between the families. */

Test(pkt_fp, rewrite_udp6_to_udp6_matches_known_frame)
{
	struct relayed r = relay_fixture_to(DUET_AF_INET6, fx_udp6_plain, sizeof(fx_udp6_plain),
					    &fx_egress, false);

	cr_assert_eq(r.shift, 0);
	cr_assert_eq(r.len, sizeof(fx_udp6_relayed));
	assert_bytes(r.p, fx_udp6_relayed, r.len);
	cr_assert(ref_udp_ok_any(r.p + IP, r.p + UDP6));
}

/* The IPv4 twin of the same datagram gives the same IPv6 frame: 20 bytes
 * more of header, in the headroom in front of the input. */
Test(pkt_fp, rewrite_udp4_to_udp6_matches_known_frame)
{
	struct relayed r = relay_fixture_to(DUET_AF_INET6, fx_udp_plain, sizeof(fx_udp_plain),
					    &fx_egress, false);

	cr_assert_eq(r.shift, -20);
	cr_assert_eq(r.len, sizeof(fx_udp6_relayed));
	assert_bytes(r.p, fx_udp6_relayed, r.len);
	cr_assert(ref_udp_ok_any(r.p + IP, r.p + UDP6));
}

Test(pkt_fp, rewrite_udp6_to_udp4_matches_known_frame)
{
	struct relayed r = relay_fixture_to(DUET_AF_INET4, fx_udp6_plain, sizeof(fx_udp6_plain),
					    &fx_egress, false);

	cr_assert_eq(r.shift, 20);
	cr_assert_eq(r.len, sizeof(fx_udp_plain_relayed));
	assert_bytes(r.p, fx_udp_plain_relayed, r.len);
	cr_assert(ref_udp_ok_any(r.p + IP, r.p + UDP));
	cr_assert(ref_ip4_ok(r.p + IP));
}

Test(pkt_fp, rewrite_udp6_with_hop_by_hop_drops_it_toward_either_family)
{
	struct relayed r = relay_fixture_to(DUET_AF_INET4, fx_udp6_hbh, sizeof(fx_udp6_hbh),
					    &fx_egress, false);

	cr_assert_eq(r.shift, 20 + 8);
	assert_bytes(r.p, fx_udp_plain_relayed, sizeof(fx_udp_plain_relayed));
	cr_assert_eq(r.len, sizeof(fx_udp_plain_relayed));
	r = relay_fixture_to(DUET_AF_INET6, fx_udp6_hbh, sizeof(fx_udp6_hbh), &fx_egress, false);
	cr_assert_eq(r.shift, 8);
	cr_assert_eq(r.len, sizeof(fx_udp6_relayed));
	assert_bytes(r.p, fx_udp6_relayed, r.len);
}

Test(pkt_fp, rewrite_udp4_with_options_to_udp6_matches_known_frame)
{
	struct relayed r = relay_fixture_to(DUET_AF_INET6, fx_udp_opts, sizeof(fx_udp_opts),
					    &fx_egress, false);

	cr_assert_eq(r.shift, -16, "4 bytes of options, 20 bytes more of header");
	cr_assert_eq(r.len, sizeof(fx_udp6_relayed));
	assert_bytes(r.p, fx_udp6_relayed, r.len);
	/* 8 bytes of options, ECN CE, TTL 2: nothing of it crosses. */
	r = relay_fixture_to(DUET_AF_INET6, fx_udp_unusual_ip, sizeof(fx_udp_unusual_ip),
			     &fx_egress, false);
	cr_assert_eq(r.shift, -12);
	assert_bytes(r.p, fx_udp6_relayed, sizeof(fx_udp6_relayed));
}

/* IPv6 makes the checksum mandatory (RFC 8200 8.1): a datagram an IPv4
 * sender left without one gets one computed toward IPv6, and the same
 * datagram stays without one toward IPv4. */
Test(pkt_fp, zero_udp4_checksum_is_computed_toward_ipv6_and_kept_toward_ipv4)
{
	struct relayed r = relay_fixture_to(DUET_AF_INET6, fx_udp_nocksum, sizeof(fx_udp_nocksum),
					    &fx_egress, false);

	cr_assert_eq(r.len, sizeof(fx_udp6_relayed));
	assert_bytes(r.p, fx_udp6_relayed, r.len);
	cr_assert_neq(ref_get16(r.p + UDP6 + 6), 0);
	cr_assert(ref_udp_ok_any(r.p + IP, r.p + UDP6));
	r = relay_fixture_to(DUET_AF_INET4, fx_udp_nocksum, sizeof(fx_udp_nocksum), &fx_egress,
			     false);
	assert_bytes(r.p, fx_udp_nocksum_relayed, r.len);
	cr_assert_eq(ref_get16(r.p + UDP + 6), 0);
}

Test(pkt_fp, bridged_frames_end_at_the_datagram)
{
	struct duet_pkt_info pi;
	struct relayed r;

	/* IPv4 with 13 bytes of Ethernet padding to IPv6: the padding is gone. */
	r = relay_fixture_to(DUET_AF_INET6, fx_udp_padded, sizeof(fx_udp_padded), &fx_egress,
			     false);
	cr_assert_eq(r.len, IP + 40 + 8 + 5);
	cr_assert_eq(r.len, sizeof(fx_udp6_padded_relayed));
	assert_bytes(r.p, fx_udp6_padded_relayed, r.len);
	/* IPv6 with junk after its payload to IPv4 and to IPv6. */
	memcpy(frame, fx_udp6_plain, sizeof(fx_udp6_plain));
	memset(frame + sizeof(fx_udp6_plain), 0xee, 21);
	r = relay_loaded_to(DUET_AF_INET4, sizeof(fx_udp6_plain) + 21, &fx_egress, false);
	cr_assert_eq(r.len, sizeof(fx_udp_plain_relayed));
	assert_bytes(r.p, fx_udp_plain_relayed, r.len);
	cr_assert_eq(duet_pkt_parse(r.p, r.len, 0, &pi), 0);
	memcpy(frame, fx_udp6_plain, sizeof(fx_udp6_plain));
	memset(frame + sizeof(fx_udp6_plain), 0xee, 21);
	r = relay_loaded_to(DUET_AF_INET6, sizeof(fx_udp6_plain) + 21, &fx_egress, false);
	cr_assert_eq(r.len, sizeof(fx_udp6_relayed));
	assert_bytes(r.p, fx_udp6_relayed, r.len);
}

/* Every UDP fixture, either family out, several egress settings: the new
 * frame parses back with the relay's addresses, hop limit and class. */
Test(pkt_fp, bridged_frame_parses_back_with_the_relays_addresses_and_header_fields)
{
	static const struct fixture inputs[] = {
		FIXTURE(udp_plain),  FIXTURE(udp_opts),	 FIXTURE(udp_padded), FIXTURE(udp_nocksum),
		FIXTURE(udp_unusual_ip), FIXTURE(udp6_plain), FIXTURE(udp6_hbh),
	};
	static const struct duet_pkt_egress egs[] = {
		{.ttl = 1, .tos = 0}, {.ttl = 64, .tos = 46 << 2}, {.ttl = 255, .tos = 63 << 2},
	};
	static const uint8_t families[] = {DUET_AF_INET4, DUET_AF_INET6};
	size_t i, e, f;

	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		for (e = 0; e < sizeof(egs) / sizeof(egs[0]); e++) {
			for (f = 0; f < 2; f++) {
				struct duet_pkt_info pi;
				struct duet_addr from, to;
				struct relayed r = relay_fixture_to(families[f], inputs[i].p,
								    inputs[i].len, &egs[e], false);
				const uint8_t *ip = r.p + IP;

				leg_b(families[f], &from, &to);
				cr_assert_eq(duet_pkt_parse(r.p, r.len, 0, &pi), 0,
					     "input %zu egress %zu family %u: %s", i, e,
					     families[f], duet_drop_name((enum duet_drop)pi.drop));
				cr_assert_eq(pi.kind, DUET_PKT_UDP);
				cr_assert(duet_addr_equal(&pi.src, &from), "input %zu", i);
				cr_assert(duet_addr_equal(&pi.dst, &to), "input %zu", i);
				cr_assert_eq(pi.ttl, egs[e].ttl, "input %zu", i);
				cr_assert_eq(pi.tclass, egs[e].tos, "input %zu", i);
				cr_assert_eq((size_t)IP + pi.ip_total, r.len, "input %zu", i);
				if (families[f] == DUET_AF_INET6) {
					cr_assert_eq(ip[0] >> 4, 6);
					cr_assert_eq(ip[1] & 0x0f, 0, "flow label 0");
					cr_assert_eq(ip[2], 0);
					cr_assert_eq(ip[3], 0);
					cr_assert_eq(ip[6], 17);
					cr_assert_eq(pi.l4_off, UDP6);
				} else {
					cr_assert_eq(ip[0], 0x45);
					cr_assert(ref_ip4_ok(ip));
				}
			}
		}
	}
}

Test(pkt_fp, keep_dscp_carries_the_callers_dscp_across_families_and_clears_ecn)
{
	const struct duet_pkt_egress keep = {.ttl = FX_EGRESS_TTL, .tos = FX_EGRESS_TOS,
					     .keep_dscp = 1};
	struct relayed r;
	unsigned int tc;

	for (tc = 0; tc < 256; tc++) {
		/* IPv6 in, either family out. */
		memcpy(frame, fx_udp6_plain, sizeof(fx_udp6_plain));
		frame[IP] = (uint8_t)(0x60 | tc >> 4);
		frame[IP + 1] = (uint8_t)((tc & 0x0f) << 4 | 0x0a); /* flow label's top bits */
		r = relay_loaded_to(DUET_AF_INET6, sizeof(fx_udp6_plain), &keep, false);
		cr_assert_eq(r.p[IP], 0x60 | (tc & 0xfc) >> 4, "class 0x%02x", tc);
		cr_assert_eq(r.p[IP + 1], (tc & 0x0c) << 4, "class 0x%02x, flow label 0", tc);
		cr_assert_eq(r.p[IP + 7], FX_EGRESS_TTL);
		memcpy(frame, fx_udp6_plain, sizeof(fx_udp6_plain));
		frame[IP] = (uint8_t)(0x60 | tc >> 4);
		frame[IP + 1] = (uint8_t)((tc & 0x0f) << 4);
		r = relay_loaded_to(DUET_AF_INET4, sizeof(fx_udp6_plain), &keep, false);
		cr_assert_eq(r.p[IP + 1], tc & 0xfc, "class 0x%02x went out as TOS 0x%02x", tc,
			     r.p[IP + 1]);
		cr_assert(ref_ip4_ok(r.p + IP));
		/* IPv4 in, IPv6 out. */
		memcpy(frame, fx_udp_plain, sizeof(fx_udp_plain));
		frame[IP + 1] = (uint8_t)tc;
		ref_ip4_fix(frame + IP);
		r = relay_loaded_to(DUET_AF_INET6, sizeof(fx_udp_plain), &keep, false);
		cr_assert_eq(in_tclass(r.p + IP), tc & 0xfc, "TOS 0x%02x went out as class 0x%02x",
			     tc, in_tclass(r.p + IP));
	}
}

/*
 * A random valid IPv6/UDP frame in frame[]: random traffic class, flow
 * label and hop limit, sometimes a hop-by-hop header of 8 to 32 bytes,
 * payload 0..1400 bytes, sometimes Ethernet padding, the checksum computed
 * from scratch (never zero: IPv6 requires one). Returns the frame length.
 */
static size_t
random_udp6(uint64_t *seed)
{
	size_t hbh = ref_rand(seed) % 3 == 0 ? 8 * (1 + ref_rand(seed) % 4) : 0;
	size_t plen = ref_rand(seed) % 1401;
	size_t pad = ref_rand(seed) % 4 == 0 ? ref_rand(seed) % 20 : 0;
	uint8_t *ip = frame + 14, *udp = ip + 40 + hbh;
	size_t i, len = 14 + 40 + hbh + 8 + plen;

	for (i = 0; i < len + pad; i++)
		frame[i] = (uint8_t)ref_rand(seed);
	frame[12] = 0x86;
	frame[13] = 0xdd;
	ip[0] = (uint8_t)(0x60 | (ip[0] & 0x0f));
	ref_put16(ip + 4, (uint16_t)(hbh + 8 + plen));
	ip[7] = (uint8_t)(1 + ref_rand(seed) % 255);
	if (hbh != 0) {
		ip[6] = 0;
		ip[40] = 17;
		ip[41] = (uint8_t)(hbh / 8 - 1);
	} else {
		ip[6] = 17;
	}
	ref_put16(udp + 4, (uint16_t)(8 + plen));
	ref_put16(udp + 6, ref_udp_cksum_any(ip, udp));
	return len + pad;
}

static void
random_addr6(uint64_t *seed, struct duet_addr *a)
{
	uint64_t r = ref_rand(seed);
	size_t i;

	memset(a, 0, sizeof(*a));
	a->family = DUET_AF_INET6;
	a->port = (uint16_t)r;
	for (i = 0; i < 16; i++)
		a->ip[i] = (uint8_t)ref_rand(seed);
}

/* A random UDP frame of either family (IPv4 sometimes without checksum)
 * parsed into *pi and kept in orig[], and random addresses of either family
 * to relay it with. Returns the frame length. */
static size_t
random_bridge(uint64_t *seed, int round, struct duet_pkt_info *pi, struct duet_addr *from,
	      struct duet_addr *to)
{
	bool in6 = round % 2 == 0, out6 = round % 4 < 2 ? round % 8 < 4 : round % 8 >= 4;
	size_t len = in6 ? random_udp6(seed) : random_udp(seed, ref_rand(seed) % 8 != 0);

	cr_assert_eq(duet_pkt_parse(frame, len, 0, pi), 0, "round %d: %s", round,
		     duet_drop_name((enum duet_drop)pi->drop));
	memcpy(orig, frame, len);
	if (out6) {
		random_addr6(seed, from);
		random_addr6(seed, to);
	} else {
		random_addr4(seed, from);
		random_addr4(seed, to);
	}
	return len;
}

/* The whole bridged frame, against the reference built from scratch, for
 * random frames of either family toward either family. */
Test(pkt_fp, bridged_udp_checksum_equals_full_recomputation)
{
	uint64_t seed = 0xb41d6e;
	struct duet_pkt_egress eg;
	struct duet_pkt_info pi;
	struct duet_addr from, to;
	unsigned int seen[2][2] = {{0}};
	int round;

	for (round = 0; round < ROUNDS; round++) {
		bool offload = round % 5 == 0;
		size_t want_len;
		bool in6, out6;
		struct relayed r;

		random_bridge(&seed, round, &pi, &from, &to);
		in6 = pi.src.family == DUET_AF_INET6;
		out6 = from.family == DUET_AF_INET6;
		seen[in6][out6]++;
		random_egress(&seed, &eg);
		want_len = expected_rewrite(&pi, &from, &to, &eg, offload);
		r = rewrite(&pi, &from, &to, &eg, offload);
		cr_assert_eq(r.len, want_len, "round %d", round);
		cr_assert_eq(memcmp(r.p, want, r.len), 0, "round %d (v%d to v%d) differs", round,
			     in6 ? 6 : 4, out6 ? 6 : 4);
		if (ref_get16(r.p + pi.l4_off + 6) != 0)
			cr_assert(ref_udp_ok_any(r.p + IP, r.p + pi.l4_off), "round %d", round);
		else
			cr_assert(!in6 && !out6, "round %d: zero checksum in IPv6", round);
	}
	cr_assert(seen[0][0] && seen[0][1] && seen[1][0] && seen[1][1], "every direction ran");
}

Test(pkt_fp, corrupted_payload_still_fails_udp_checksum_after_bridging)
{
	uint64_t seed = 0xc0ffee6;
	struct duet_pkt_egress eg;
	struct duet_pkt_info pi;
	struct duet_addr from, to;
	int round;

	for (round = 0; round < ROUNDS; round++) {
		size_t len, at;
		struct relayed r;

		do
			len = random_bridge(&seed, round, &pi, &from, &to);
		while (pi.l4_len <= 8 || ref_get16(frame + pi.l4_off + 6) == 0);
		/* One bit flipped in transit, before duet sees it. */
		at = pi.l4_off + 8 + ref_rand(&seed) % (pi.l4_len - 8u);
		frame[at] ^= (uint8_t)(1u << ref_rand(&seed) % 8);
		cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0);
		random_egress(&seed, &eg);
		r = rewrite(&pi, &from, &to, &eg, false);
		cr_assert_not(ref_udp_ok_any(r.p + IP, r.p + pi.l4_off),
			      "round %d: corruption hidden", round);
	}
}

/* Across families too, a checksum that computes to zero goes out as
 * 0xffff: the payload's first word is picked to make it so. */
Test(pkt_fp, bridged_checksum_that_computes_to_zero_is_sent_as_all_ones)
{
	uint64_t seed = 0x2e40;
	struct duet_pkt_egress eg;
	struct duet_pkt_info pi;
	struct duet_addr from, to;
	int round;

	for (round = 0; round < 400; round++) {
		size_t len, want_len;
		uint8_t *udp, *wudp;
		uint32_t s;
		struct relayed r;

		do
			len = random_bridge(&seed, round, &pi, &from, &to);
		while (pi.l4_len < 10 || ref_get16(frame + pi.l4_off + 6) == 0);
		random_egress(&seed, &eg);
		udp = frame + pi.l4_off;
		/* The relayed datagram's sum with its checksum and word 0 zero. */
		ref_put16(orig + pi.l4_off + 8, 0);
		want_len = expected_rewrite(&pi, &from, &to, &eg, false);
		wudp = want + want_len - pi.l4_len;
		ref_put16(wudp + 6, 0);
		s = ref_udp_sum_any(want + IP, wudp);
		ref_put16(udp + 8, (uint16_t)(0xffff - s));
		ref_put16(udp + 6, ref_udp_cksum_any(frame + IP, udp));
		cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0);

		r = rewrite(&pi, &from, &to, &eg, false);
		cr_assert_eq(ref_get16(r.p + pi.l4_off + 6), 0xffff, "round %d: 0x%04x", round,
			     ref_get16(r.p + pi.l4_off + 6));
		cr_assert(ref_udp_ok_any(r.p + IP, r.p + pi.l4_off), "round %d", round);
	}
}

/* SRTP rekey toward IPv6: resize, bridge, then the full checksum and the
 * offload pseudo-header sum take the IPv6 pseudo-header. */
Test(pkt_fp, cksum_full_and_phdr_use_the_pseudo_header_of_the_new_family)
{
	struct duet_pkt_info pi;
	struct duet_addr from, to;
	struct relayed r;
	uint32_t phdr;
	size_t len = load(fx_udp_plain, sizeof(fx_udp_plain), DUET_PKT_UDP, &pi);

	memcpy(orig, frame, len);
	duet_pkt_udp_resize(frame, &pi, 36);
	leg_b(DUET_AF_INET6, &from, &to);
	r = rewrite(&pi, &from, &to, &fx_egress, false);
	cr_assert_eq(r.len, IP + 40 + 36);
	cr_assert_eq(ref_get16(r.p + IP + 4), 36, "payload length from the UDP length");
	duet_pkt_udp_cksum_full(r.p, &pi);
	cr_assert(ref_udp_ok_any(r.p + IP, r.p + UDP6));
	/* Offload: the field holds the pseudo-header's sum, not inverted. */
	duet_pkt_udp_cksum_phdr(r.p, &pi);
	phdr = ref_sum(r.p + IP + 8, 32, 36 + 17);
	cr_assert_eq(ref_get16(r.p + UDP6 + 6), phdr, "0x%04x, want 0x%04x",
		     ref_get16(r.p + UDP6 + 6), phdr);
	/* And back to IPv4 it is the IPv4 pseudo-header again. */
	len = load(fx_udp6_plain, sizeof(fx_udp6_plain), DUET_PKT_UDP, &pi);
	leg_b(DUET_AF_INET4, &from, &to);
	r = rewrite(&pi, &from, &to, &fx_egress, false);
	duet_pkt_udp_cksum_phdr(r.p, &pi);
	phdr = ref_sum(r.p + IP + 12, 8, 40 + 17);
	cr_assert_eq(ref_get16(r.p + UDP + 6), phdr);
	duet_pkt_udp_cksum_full(r.p, &pi);
	assert_bytes(r.p, fx_udp_plain_relayed, r.len);
}

/* Neighbour discovery answers. */

Test(pkt_fp, ns_to_na_answers_with_our_mac_byte_exact)
{
	struct duet_pkt_info pi;
	size_t len;

	load(fx_ndp_ns, sizeof(fx_ndp_ns), DUET_PKT_NDP_NS, &pi);
	memset(frame + sizeof(fx_ndp_ns), 0x5a, 16);
	/* The solicitation's link-layer option wins over its Ethernet source. */
	frame[6] = 0x42;
	len = duet_pkt_ns_to_na(frame, &pi, port_mac);
	cr_assert_eq(len, DUET_PKT_NA_LEN);
	cr_assert_eq(len, sizeof(fx_ndp_ns_na));
	assert_bytes(frame, fx_ndp_ns_na, len);
	cr_assert_eq(frame[len], 0x5a, "wrote past the advertisement");
	/* What the fixture says, checked apart: from the target to the
	 * solicitor, S and O, our MAC as target link-layer address, a
	 * checksum that verifies. */
	cr_assert(ref_icmp6_ok(frame + IP, frame + IP + 40, 32));
	cr_assert_eq(memcmp(frame + IP + 8, fx_ndp_ns + IP + 40 + 8, 16), 0);
	cr_assert_eq(memcmp(frame + IP + 24, fx_ndp_ns + IP + 8, 16), 0);
	cr_assert_eq(frame[IP + 7], 255);
	cr_assert_eq(frame[IP + 40 + 4], 0x60);
	cr_assert_eq(frame[IP + 40 + 24], 2);
	cr_assert_eq(memcmp(frame + IP + 40 + 26, port_mac, 6), 0);
	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0);
	cr_assert_eq(pi.kind, DUET_PKT_NDP_NA);
	cr_assert_eq(pi.nd_flags, 0x60);
	cr_assert_eq(memcmp(frame + pi.nd_lladdr, port_mac, 6), 0);
}

Test(pkt_fp, ns_to_na_without_lladdr_goes_to_the_ethernet_source)
{
	static const uint8_t sender[6] = {2, 0, 0, 0, 0, 0x42};
	struct duet_pkt_info pi;
	size_t len;

	memcpy(frame, fx_ndp_ns, sizeof(fx_ndp_ns));
	memcpy(frame + 6, sender, 6);
	ref_put16(frame + IP + 4, 24);
	ref_icmp6_fix(frame + IP, frame + IP + 40, 24);
	cr_assert_eq(duet_pkt_parse(frame, IP + 40 + 24, 0, &pi), 0);
	cr_assert_eq(pi.nd_lladdr, 0);
	len = duet_pkt_ns_to_na(frame, &pi, port_mac);
	cr_assert_eq(memcmp(frame, sender, 6), 0);
	cr_assert_eq(memcmp(frame + 6, fx_ndp_ns_na + 6, len - 6), 0,
		     "the rest as with the option");
}

Test(pkt_fp, dad_ns_to_na_goes_to_all_nodes_with_solicited_clear)
{
	struct duet_pkt_info pi;
	size_t len;

	load(fx_ndp_ns_dad, sizeof(fx_ndp_ns_dad), DUET_PKT_NDP_NS, &pi);
	len = duet_pkt_ns_to_na(frame, &pi, port_mac);
	cr_assert_eq(len, sizeof(fx_ndp_ns_dad_na));
	assert_bytes(frame, fx_ndp_ns_dad_na, len);
	cr_assert(ref_icmp6_ok(frame + IP, frame + IP + 40, 32));
	cr_assert_eq(frame[IP + 40 + 4] & 0x40, 0, "solicited flag clear");
	/* A multicast advertisement with S clear passes RFC 4861 7.1.2. */
	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0);
	cr_assert_eq(pi.kind, DUET_PKT_NDP_NA);
	cr_assert_eq(pi.nd_flags, 0x20);
}

Test(pkt_fp, ns_behind_hop_by_hop_gets_the_same_answer)
{
	struct duet_pkt_info pi;
	uint8_t msg[32];
	size_t len;

	memcpy(frame, fx_ndp_ns, sizeof(fx_ndp_ns));
	memcpy(msg, frame + IP + 40, 32);
	memcpy(frame + IP + 48, msg, 32);
	memcpy(frame + IP + 40, "\x3a\x00\x01\x04\x00\x00\x00\x00", 8);
	frame[IP + 6] = 0;
	ref_put16(frame + IP + 4, 40);
	cr_assert_eq(duet_pkt_parse(frame, sizeof(fx_ndp_ns) + 8, 0, &pi), 0);
	cr_assert_eq(pi.kind, DUET_PKT_NDP_NS);
	len = duet_pkt_ns_to_na(frame, &pi, port_mac);
	cr_assert_eq(len, sizeof(fx_ndp_ns_na));
	assert_bytes(frame, fx_ndp_ns_na, len);
}

Test(pkt_fp, icmp6_echo_reply_is_byte_exact)
{
	struct duet_pkt_info pi;
	size_t len = load(fx_icmp6_echo, sizeof(fx_icmp6_echo), DUET_PKT_ICMP_ECHO, &pi);

	duet_pkt_icmp6_to_reply(frame, &pi);
	assert_bytes(frame, fx_icmp6_echo_reply, len);
	cr_assert(ref_icmp6_ok(frame + IP, frame + IP + 40, pi.l4_len));
	/* A reply is not an echo request: duet would not answer it again. */
	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), -ENOTSUP);
	cr_assert_eq(pi.drop, DUET_DROP_ICMP_OTHER);
}

/* Random echo requests, some corrupted, some behind a hop-by-hop header,
 * some whose reply sums to zero: the reply verifies exactly when the
 * request did, and is the request with addresses and MACs swapped. */
Test(pkt_fp, icmp6_reply_checksum_stays_as_right_or_wrong_as_the_request)
{
	uint64_t seed = 0x1c36;
	struct duet_pkt_info pi;
	int round;

	for (round = 0; round < ROUNDS; round++) {
		size_t len = random_udp6(&seed), n;
		uint8_t *ip = frame + IP, *icmp;
		bool corrupt = round % 3 == 0, zero = round % 7 == 1;

		if (ip[6] == 0)
			ip[40] = 58;
		else
			ip[6] = 58;
		icmp = ip + 40 + (ip[6] == 0 ? (ip[41] + 1u) * 8 : 0);
		n = ref_get16(ip + 4) - (size_t)(icmp - ip - 40);
		icmp[0] = 129;
		icmp[1] = 0;
		if (zero) {
			/* The reply's sum with the checksum zero comes to 0xffff. */
			ref_put16(icmp + 2, 0);
			ref_put16(icmp + 4, 0);
			ref_put16(icmp + 4, (uint16_t)(0xffff - ref_l4_sum6(ip, icmp, n, 58)));
		}
		icmp[0] = 128;
		ref_icmp6_fix(ip, icmp, n);
		if (corrupt)
			icmp[n - 1] ^= 0x10;
		cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0, "round %d", round);
		cr_assert_eq(pi.kind, DUET_PKT_ICMP_ECHO);
		memcpy(orig, frame, len);

		duet_pkt_icmp6_to_reply(frame, &pi);
		cr_assert_eq(ref_icmp6_ok(ip, icmp, n), !corrupt, "round %d", round);
		if (zero && !corrupt)
			cr_assert_eq(ref_get16(icmp + 2), 0xffff, "round %d", round);
		cr_assert_eq(memcmp(frame, orig + 6, 6), 0);
		cr_assert_eq(memcmp(frame + 6, orig, 6), 0);
		cr_assert_eq(memcmp(ip + 8, orig + IP + 24, 16), 0);
		cr_assert_eq(memcmp(ip + 24, orig + IP + 8, 16), 0);
		cr_assert_eq(ip[7], 64);
		cr_assert_eq(icmp[0], 129);
		cr_assert_eq(memcmp(icmp + 4, orig + (icmp - frame) + 4, n - 4), 0);
	}
}

Test(pkt_fp, icmp6_cksum_set_verifies_from_scratch)
{
	uint64_t seed = 0x1c6;
	int round;

	for (round = 0; round < ROUNDS; round++) {
		size_t n = 4 + ref_rand(&seed) % 200, i;
		uint8_t *ip = frame + IP, *icmp = ip + 40;

		for (i = 0; i < 40 + n; i++)
			ip[i] = (uint8_t)ref_rand(&seed);
		duet_pkt_icmp6_cksum_set(ip, icmp, n);
		cr_assert(ref_icmp6_ok(ip, icmp, n), "round %d, %zu bytes", round, n);
	}
}
