/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/pkt/duet_pkt_fp.h: the in-place rewrites, byte-exact
 * against known frames (pkt_fixtures.h, checked with tshark), the relayed
 * frame's own IPv4 header (options stripped, the relay's TTL and DSCP, ID 0,
 * DF, length from the UDP length) against a reference model built from
 * scratch, and the incremental UDP and ICMP checksums against a full
 * recomputation over many seeded random packets. Plain test process, no EAL.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duet_pkt_fp.h"
#include "pkt_fixtures.h"
#include "pkt_ref.h"

#define ROUNDS 4000
#define IP 14	      /* IPv4 header offset, in the input and the relayed frame */
#define UDP (IP + 20) /* UDP header offset in a relayed frame */

static const uint8_t port_mac[6] = {2, 0, 0, 0, 0, 0xaa};
static const uint8_t gw_mac[6] = {2, 0, 0, 0, 0, 0xbb};
/* The relay's header fields the *_relayed fixtures were generated with. */
static const struct duet_pkt_egress fx_egress = {.ttl = FX_EGRESS_TTL, .tos = FX_EGRESS_TOS};

static uint8_t frame[1600];
static uint8_t orig[1600]; /* the input as it was: the rewrite overwrites frame */
static uint8_t want[1600];

/* A relayed frame: where it starts in frame[] and how long it is. */
struct relayed {
	uint8_t *p;	/* frame + shift */
	size_t len;	/* Ethernet + 20 + UDP length */
	uint16_t shift; /* what the rewrite returned */
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

/*
 * Rewrite the UDP frame in frame[] that parsed as *pi, and check what the
 * rewrite tells its caller: the new frame starts the options' length in
 * (shift), and pi now describes it (IHL 5, same UDP length).
 */
static struct relayed
rewrite(struct duet_pkt_info *pi, const struct duet_addr *from, const struct duet_addr *to,
	const struct duet_pkt_egress *eg, bool offload)
{
	unsigned int opts = pi->l4_off - pi->l3_off - 20u;
	unsigned int ulen = pi->l4_len;
	struct relayed r;

	r.shift = duet_pkt_rewrite_udp4(frame, pi, from, to, port_mac, gw_mac, eg, offload);
	cr_assert_eq(r.shift, opts, "shift %u, want the options' %u bytes", r.shift, opts);
	cr_assert_eq(pi->l3_off, IP);
	cr_assert_eq(pi->l4_off, UDP);
	cr_assert_eq(pi->l4_len, ulen);
	cr_assert_eq(pi->ip_total, 20 + ulen);
	r.p = frame + r.shift;
	r.len = (size_t)pi->l4_off + pi->l4_len;
	return r;
}

/* Relay the UDP frame of len bytes in frame[] the way the fixtures expect:
 * out of leg B's endpoint 192.0.2.1:20002 to its client 198.51.100.20:5004.
 * The input is kept in orig[]. */
static struct relayed
relay_loaded(size_t len, const struct duet_pkt_egress *eg, bool offload)
{
	struct duet_pkt_info pi;
	struct duet_addr from, to;

	cr_assert_eq(duet_pkt_parse(frame, len, 0, &pi), 0, "frame refused: %s",
		     duet_drop_name((enum duet_drop)pi.drop));
	cr_assert_eq(pi.kind, DUET_PKT_UDP);
	memcpy(orig, frame, len);
	addr4(&from, "192.0.2.1", 20002);
	addr4(&to, "198.51.100.20", 5004);
	return rewrite(&pi, &from, &to, eg, offload);
}

static struct relayed
relay_fixture(const uint8_t *fx, size_t len, const struct duet_pkt_egress *eg, bool offload)
{
	memcpy(frame, fx, len);
	return relay_loaded(len, eg, offload);
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

/*
 * What the rewrite of orig[] (parsed as *pi) must produce, built from
 * scratch in want[]: Ethernet to the gateway, a 20-byte IPv4 header of the
 * relay's, the UDP datagram (and only it) with new ports and, unless it had
 * none, a checksum computed from scratch. Returns the new frame's length.
 */
static size_t
expected_rewrite(const struct duet_pkt_info *pi, const struct duet_addr *from,
		 const struct duet_addr *to, const struct duet_pkt_egress *eg, bool offload)
{
	const uint8_t *in_ip = orig + pi->l3_off, *in_udp = orig + pi->l4_off;
	uint16_t ulen = ref_get16(in_udp + 4);
	uint8_t *ip = want + IP, *udp = want + UDP;

	memcpy(want, gw_mac, 6);
	memcpy(want + 6, port_mac, 6);
	ref_put16(want + 12, 0x0800);
	ip[0] = 0x45;
	ip[1] = eg->keep_dscp ? (uint8_t)(in_ip[1] & 0xfc) : eg->tos;
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
	memcpy(udp, in_udp, ulen);
	memcpy(udp, &from->port, 2);
	memcpy(udp + 2, &to->port, 2);
	if (ref_get16(in_udp + 6) != 0)
		ref_put16(udp + 6, ref_udp_cksum(ip, udp));
	return UDP + (size_t)ulen;
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
	duet_pkt_udp4_resize(frame, &pi, 36);
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
	duet_pkt_udp4_cksum_full(r.p, &pi);
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
