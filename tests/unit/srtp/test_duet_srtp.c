/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/srtp/duet_srtp.c: libsrtp2 sessions made by the wrapper,
 * driven with real RTP and RTCP packets. An OUTBOUND session protects, an
 * INBOUND one made from the same key unprotects; the tests check what comes
 * back and how libsrtp2 refuses forgeries, replays and packets older than
 * duet's replay window. Test process only.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duet_sdes.h"
#include "duet_srtp.h"

#define NSUITES DUET_SRTP_SUITE_COUNT
#define RTP_HLEN 12
#define RTP_PT 111
#define PAYLOAD_LEN 160
#define SSRC 0x11223344u
#define RTCP_SR_LEN 28
/* SRTCP adds the E flag + index word before the tag. */
#define SRTCP_INDEX_LEN 4

/* Room for the largest packet here plus what libsrtp2 may append. */
#define BUF_LEN (RTP_HLEN + PAYLOAD_LEN + SRTP_MAX_TRAILER_LEN)

static const unsigned int rtp_tag_lens[NSUITES] = {10, 4, 16, 16};
/* RFC 4568: SRTCP keeps the 80-bit tag under AES_CM_128_HMAC_SHA1_32. */
static const unsigned int rtcp_tag_lens[NSUITES] = {10, 10, 16, 16};

static struct duet_sdes
make_key(unsigned int suite, uint8_t seed)
{
	struct duet_sdes k;
	unsigned int i;

	memset(&k, 0, sizeof(k));
	k.suite = (enum duet_srtp_suite)suite;
	k.key_len = (uint8_t)duet_srtp_suite_key_len(k.suite);
	for (i = 0; i < k.key_len; i++)
		k.key[i] = (uint8_t)(seed + i * 29);
	return k;
}

static srtp_t
session(const struct duet_sdes *k, enum duet_srtp_dir dir)
{
	srtp_t s = NULL;

	cr_assert_eq(duet_srtp_session_new(k, dir, &s), 0, "suite %d dir %d", k->suite, dir);
	cr_assert_not_null(s);
	return s;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* A payload that differs per sequence number, so swapped packets show. */
static void
fill_payload(uint8_t *p, size_t len, uint16_t seq)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seq * 7 + i * 13 + 1);
}

/* RTP v2, no padding/extension/CSRC, PT 111; returns the length. */
static int
rtp_packet(uint8_t *buf, uint32_t ssrc, uint16_t seq, uint32_t ts, const uint8_t *payload,
	   size_t plen)
{
	memset(buf, 0, BUF_LEN);
	buf[0] = 0x80;
	buf[1] = RTP_PT;
	put16(buf + 2, seq);
	put32(buf + 4, ts);
	put32(buf + 8, ssrc);
	memcpy(buf + RTP_HLEN, payload, plen);
	return (int)(RTP_HLEN + plen);
}

/* An RTP packet with the per-seq payload and ts = seq * 960 (20 ms Opus). */
static int
voice_packet(uint8_t *buf, uint16_t seq)
{
	uint8_t payload[PAYLOAD_LEN];

	fill_payload(payload, sizeof(payload), seq);
	return rtp_packet(buf, SSRC, seq, (uint32_t)seq * 960u, payload, sizeof(payload));
}

/* An RTCP sender report with no report blocks; returns the length. */
static int
rtcp_sr(uint8_t *buf, uint32_t ssrc, uint32_t packets)
{
	memset(buf, 0, BUF_LEN);
	buf[0] = 0x80;
	buf[1] = 200;
	put16(buf + 2, RTCP_SR_LEN / 4 - 1);
	put32(buf + 4, ssrc);
	put32(buf + 8, 0xe8a1b2c3u);
	put32(buf + 12, 0x40000000u);
	put32(buf + 16, packets * 960u);
	put32(buf + 20, packets);
	put32(buf + 24, packets * PAYLOAD_LEN);
	return RTCP_SR_LEN;
}

/* Protect an RTP packet in place; asserts success and the tag length. */
static int
protect(srtp_t s, uint8_t *buf, int len, unsigned int suite)
{
	int plain = len;
	srtp_err_status_t st = srtp_protect(s, buf, &len);

	cr_assert_eq(st, srtp_err_status_ok, "suite %u: protect returned %d", suite, st);
	cr_assert_eq(len, plain + (int)rtp_tag_lens[suite], "suite %u", suite);
	return len;
}

static srtp_err_status_t
unprotect_copy(srtp_t s, const uint8_t *wire, int len, uint8_t *out, int *out_len)
{
	memcpy(out, wire, (size_t)len);
	*out_len = len;
	return srtp_unprotect(s, out, out_len);
}

/* Unprotect a copy of wire; asserts it comes back as the given plaintext. */
static void
expect_plain(srtp_t s, const uint8_t *wire, int len, const uint8_t *plain, int plain_len,
	     unsigned int suite)
{
	uint8_t buf[BUF_LEN];
	int n;
	srtp_err_status_t st = unprotect_copy(s, wire, len, buf, &n);

	cr_assert_eq(st, srtp_err_status_ok, "suite %u: unprotect returned %d", suite, st);
	cr_assert_eq(n, plain_len, "suite %u", suite);
	cr_assert_eq(memcmp(buf, plain, (size_t)n), 0, "suite %u: plaintext differs", suite);
}

static srtp_err_status_t
unprotect_status(srtp_t s, const uint8_t *wire, int len)
{
	uint8_t buf[BUF_LEN];
	int n;

	return unprotect_copy(s, wire, len, buf, &n);
}

Test(srtp, init_is_idempotent)
{
	cr_assert_eq(duet_srtp_init(), 0);
	cr_assert_eq(duet_srtp_init(), 0);
}

Test(srtp, policy_follows_suite_and_direction)
{
	unsigned int s;

	for (s = 0; s < NSUITES; s++) {
		struct duet_sdes k = make_key(s, 1);
		srtp_policy_t in, out;

		duet_srtp_policy(&k, DUET_SRTP_INBOUND, &in);
		duet_srtp_policy(&k, DUET_SRTP_OUTBOUND, &out);
		cr_assert_eq(in.ssrc.type, ssrc_any_inbound);
		cr_assert_eq(out.ssrc.type, ssrc_any_outbound);
		cr_assert_eq(in.allow_repeat_tx, 0);
		cr_assert_eq(out.allow_repeat_tx, 0, "an index is never protected twice");
		cr_assert_eq(in.window_size, DUET_SRTP_WINDOW);
		cr_assert_eq(out.window_size, DUET_SRTP_WINDOW);
		cr_assert_eq(in.key, k.key);
		cr_assert_null(in.next);
		cr_assert_eq(in.rtp.cipher_key_len, (int)k.key_len, "suite %u", s);
		cr_assert_eq(in.rtcp.cipher_key_len, (int)k.key_len, "suite %u", s);
		cr_assert_eq(in.rtp.auth_tag_len, (int)duet_srtp_suite_tag_len(k.suite));
		cr_assert_eq(in.rtp.auth_tag_len, (int)rtp_tag_lens[s], "suite %u", s);
		cr_assert_eq(in.rtcp.auth_tag_len, (int)rtcp_tag_lens[s], "suite %u", s);
		cr_assert_eq(in.rtp.sec_serv, sec_serv_conf_and_auth);
		cr_assert_eq(in.rtcp.sec_serv, sec_serv_conf_and_auth);
	}
}

Test(srtp, protect_then_unprotect_round_trips_each_suite)
{
	unsigned int s;

	for (s = 0; s < NSUITES; s++) {
		struct duet_sdes k = make_key(s, (uint8_t)(0x40 + s));
		srtp_t out = session(&k, DUET_SRTP_OUTBOUND);
		srtp_t in = session(&k, DUET_SRTP_INBOUND);
		uint8_t plain[BUF_LEN], wire[BUF_LEN];
		int plen = voice_packet(plain, 4711);
		int wlen;

		memcpy(wire, plain, sizeof(wire));
		wlen = protect(out, wire, plen, s);
		/* The header travels in clear, the payload does not. */
		cr_assert_eq(memcmp(wire, plain, RTP_HLEN), 0, "suite %u", s);
		cr_assert_neq(memcmp(wire + RTP_HLEN, plain + RTP_HLEN, PAYLOAD_LEN), 0, "suite %u",
			      s);
		expect_plain(in, wire, wlen, plain, plen, s);
		duet_srtp_session_free(out);
		duet_srtp_session_free(in);
	}
}

/* Known answers from libsrtp2's own validation (test/srtp_driver.c,
 * srtp_validate and srtp_validate_gcm): SSRC 0xcafebabe, seq 0x1234, 16
 * bytes of 0xab; an SR with 16 bytes of 0xab. HMAC-SHA1-32 is the same
 * packet with the tag cut to 4 bytes, its SRTCP the HMAC-SHA1-80 one (RFC
 * 4568). No such vector is at hand for AEAD_AES_256_GCM. */
static const uint8_t kat_rtp_plain[28] = {
	0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab,
	0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
};
static const uint8_t kat_rtcp_plain[24] = {
	0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab, 0xab, 0xab,
	0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
};
static const uint8_t kat_key_cm[30] = {
	0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41,
	0x39, 0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
};
static const uint8_t kat_srtp_cm[38] = {
	0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0x4e,
	0x55, 0xdc, 0x4c, 0xe7, 0x99, 0x78, 0xd8, 0x8c, 0xa4, 0xd2, 0x15, 0x94, 0x9d,
	0x24, 0x02, 0xb7, 0x8d, 0x6a, 0xcc, 0x99, 0xea, 0x17, 0x9b, 0x8d, 0xbb,
};
static const uint8_t kat_srtcp_cm[38] = {
	0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0x71, 0x28, 0x03, 0x5b, 0xe4,
	0x87, 0xb9, 0xbd, 0xbe, 0xf8, 0x90, 0x41, 0xf9, 0x77, 0xa5, 0xa8, 0x80, 0x00,
	0x00, 0x01, 0x99, 0x3e, 0x08, 0xcd, 0x54, 0xd6, 0xc1, 0x23, 0x07, 0x98,
};
static const uint8_t kat_key_gcm[28] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
	0x0e, 0x0f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
};
static const uint8_t kat_srtp_gcm[44] = {
	0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0xc5, 0x00, 0x2e,
	0xde, 0x04, 0xcf, 0xdd, 0x2e, 0xb9, 0x11, 0x59, 0xe0, 0x88, 0x0a, 0xa0, 0x6e, 0xd2, 0x97,
	0x68, 0x26, 0xf7, 0x96, 0xb2, 0x01, 0xdf, 0x31, 0x31, 0xa1, 0x27, 0xe8, 0xa3, 0x92,
};
static const uint8_t kat_srtcp_gcm[44] = {
	0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0xc9, 0x8b, 0x8b, 0x5d, 0xf0, 0x39, 0x2a,
	0x55, 0x85, 0x2b, 0x6c, 0x21, 0xac, 0x8e, 0x70, 0x25, 0xc5, 0x2c, 0x6f, 0xbe, 0xa2, 0xb3,
	0xb4, 0x46, 0xea, 0x31, 0x12, 0x3b, 0xa8, 0x8c, 0xe6, 0x1e, 0x80, 0x00, 0x00, 0x01,
};

static void
check_known_answer(unsigned int suite, const uint8_t *key, const uint8_t *srtp, int srtp_len,
		   const uint8_t *srtcp, int srtcp_len)
{
	struct duet_sdes k;
	srtp_t out, in;
	uint8_t buf[BUF_LEN];
	int len;

	memset(&k, 0, sizeof(k));
	k.suite = (enum duet_srtp_suite)suite;
	k.key_len = (uint8_t)duet_srtp_suite_key_len(k.suite);
	memcpy(k.key, key, k.key_len);
	out = session(&k, DUET_SRTP_OUTBOUND);
	in = session(&k, DUET_SRTP_INBOUND);

	memcpy(buf, kat_rtp_plain, sizeof(kat_rtp_plain));
	len = protect(out, buf, sizeof(kat_rtp_plain), suite);
	cr_assert_eq(len, srtp_len, "suite %u", suite);
	cr_assert_eq(memcmp(buf, srtp, (size_t)len), 0, "suite %u: SRTP differs", suite);
	expect_plain(in, srtp, srtp_len, kat_rtp_plain, sizeof(kat_rtp_plain), suite);

	memcpy(buf, kat_rtcp_plain, sizeof(kat_rtcp_plain));
	len = sizeof(kat_rtcp_plain);
	cr_assert_eq(srtp_protect_rtcp(out, buf, &len), srtp_err_status_ok);
	cr_assert_eq(len, srtcp_len, "suite %u", suite);
	cr_assert_eq(memcmp(buf, srtcp, (size_t)len), 0, "suite %u: SRTCP differs", suite);
	memcpy(buf, srtcp, (size_t)srtcp_len);
	len = srtcp_len;
	cr_assert_eq(srtp_unprotect_rtcp(in, buf, &len), srtp_err_status_ok);
	cr_assert_eq(len, (int)sizeof(kat_rtcp_plain));
	cr_assert_eq(memcmp(buf, kat_rtcp_plain, sizeof(kat_rtcp_plain)), 0);
	duet_srtp_session_free(out);
	duet_srtp_session_free(in);
}

Test(srtp, outbound_matches_known_answers)
{
	check_known_answer(DUET_SRTP_AES_CM_128_HMAC_SHA1_80, kat_key_cm, kat_srtp_cm, 38,
			   kat_srtcp_cm, 38);
	check_known_answer(DUET_SRTP_AES_CM_128_HMAC_SHA1_32, kat_key_cm, kat_srtp_cm, 32,
			   kat_srtcp_cm, 38);
	check_known_answer(DUET_SRTP_AEAD_AES_128_GCM, kat_key_gcm, kat_srtp_gcm, 44,
			   kat_srtcp_gcm, 44);
}

Test(srtp, different_key_fails_auth)
{
	unsigned int s;

	for (s = 0; s < NSUITES; s++) {
		struct duet_sdes k = make_key(s, 7), other = make_key(s, 7);
		srtp_t out, in;
		uint8_t wire[BUF_LEN];
		int wlen;
		srtp_err_status_t st;

		/* One bit of the master salt is enough. */
		other.key[other.key_len - 1] ^= 0x01;
		out = session(&k, DUET_SRTP_OUTBOUND);
		in = session(&other, DUET_SRTP_INBOUND);
		wlen = protect(out, wire, voice_packet(wire, 100), s);
		st = unprotect_status(in, wire, wlen);
		cr_assert_eq(st, srtp_err_status_auth_fail, "suite %u: %d", s, st);
		cr_assert_not(duet_srtp_is_replay(st));
		duet_srtp_session_free(out);
		duet_srtp_session_free(in);
	}
}

Test(srtp, flipped_payload_byte_fails_auth)
{
	unsigned int s;

	for (s = 0; s < NSUITES; s++) {
		struct duet_sdes k = make_key(s, 9);
		srtp_t out = session(&k, DUET_SRTP_OUTBOUND);
		srtp_t in = session(&k, DUET_SRTP_INBOUND);
		uint8_t plain[BUF_LEN], wire[BUF_LEN];
		int plen, wlen;
		srtp_err_status_t st;

		plen = voice_packet(plain, 200);
		memcpy(wire, plain, sizeof(wire));
		wlen = protect(out, wire, plen, s);
		wire[RTP_HLEN + 40] ^= 0x80;
		st = unprotect_status(in, wire, wlen);
		cr_assert_eq(st, srtp_err_status_auth_fail, "suite %u: %d", s, st);
		/* The forgery did not spend the index: the real packet still passes. */
		wire[RTP_HLEN + 40] ^= 0x80;
		expect_plain(in, wire, wlen, plain, plen, s);
		duet_srtp_session_free(out);
		duet_srtp_session_free(in);
	}
}

Test(srtp, same_packet_twice_is_replay)
{
	unsigned int s;

	for (s = 0; s < NSUITES; s++) {
		struct duet_sdes k = make_key(s, 11);
		srtp_t out = session(&k, DUET_SRTP_OUTBOUND);
		srtp_t in = session(&k, DUET_SRTP_INBOUND);
		uint8_t plain[BUF_LEN], wire[BUF_LEN];
		int plen, wlen;
		srtp_err_status_t st;

		plen = voice_packet(plain, 300);
		memcpy(wire, plain, sizeof(wire));
		wlen = protect(out, wire, plen, s);
		expect_plain(in, wire, wlen, plain, plen, s);
		st = unprotect_status(in, wire, wlen);
		cr_assert_eq(st, srtp_err_status_replay_fail, "suite %u: %d", s, st);
		cr_assert(duet_srtp_is_replay(st));
		duet_srtp_session_free(out);
		duet_srtp_session_free(in);
	}
}

Test(srtp, packet_older_than_window_is_replay_old)
{
	/* Newest 3000 after a jump from 1000: 1900 is 1100 back. The window
	 * is 1024 packets (libsrtp2's default would be 128): 1977 (1023 back)
	 * and 2000 are still in it, 1976 (1024 back) is not. */
	static const struct {
		uint16_t seq;
		srtp_err_status_t st;
	} steps[] = {
		{1000, srtp_err_status_ok},          {3000, srtp_err_status_ok},
		{1900, srtp_err_status_replay_old},  {1976, srtp_err_status_replay_old},
		{1977, srtp_err_status_ok},          {2000, srtp_err_status_ok},
		{2000, srtp_err_status_replay_fail}, {2999, srtp_err_status_ok},
		{3001, srtp_err_status_ok},
	};
	/* Protected in rising order: an outbound session refuses, as
	 * replay_old, to protect an index older than its own window. */
	static const uint16_t sent[] = {1000, 1900, 1976, 1977, 2000, 2999, 3000, 3001};
	uint8_t wire[sizeof(sent) / sizeof(sent[0])][BUF_LEN];
	int wlen[sizeof(sent) / sizeof(sent[0])];
	unsigned int s, i, j;

	for (s = 0; s < NSUITES; s++) {
		struct duet_sdes k = make_key(s, 13);
		srtp_t out = session(&k, DUET_SRTP_OUTBOUND);
		srtp_t in = session(&k, DUET_SRTP_INBOUND);

		for (j = 0; j < sizeof(sent) / sizeof(sent[0]); j++)
			wlen[j] = protect(out, wire[j], voice_packet(wire[j], sent[j]), s);
		for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
			srtp_err_status_t st;

			for (j = 0; j < sizeof(sent) / sizeof(sent[0]); j++)
				if (sent[j] == steps[i].seq)
					break;
			cr_assert_lt(j, sizeof(sent) / sizeof(sent[0]));
			st = unprotect_status(in, wire[j], wlen[j]);

			cr_assert_eq(st, steps[i].st, "suite %u seq %u: %d, wanted %d", s,
				     steps[i].seq, st, steps[i].st);
			cr_assert_eq(duet_srtp_is_replay(st), st != srtp_err_status_ok);
		}
		duet_srtp_session_free(out);
		duet_srtp_session_free(in);
	}
}

Test(srtp, srtcp_round_trips_and_refuses_forgery_and_replay)
{
	unsigned int s;

	for (s = 0; s < NSUITES; s++) {
		struct duet_sdes k = make_key(s, 17), other = make_key(s, 18);
		srtp_t out = session(&k, DUET_SRTP_OUTBOUND);
		srtp_t in = session(&k, DUET_SRTP_INBOUND);
		srtp_t stranger = session(&other, DUET_SRTP_INBOUND);
		uint8_t plain[BUF_LEN], wire[BUF_LEN], buf[BUF_LEN];
		int plen = rtcp_sr(plain, SSRC, 50);
		int wlen = plen, n;
		srtp_err_status_t st;

		memcpy(wire, plain, sizeof(wire));
		st = srtp_protect_rtcp(out, wire, &wlen);
		cr_assert_eq(st, srtp_err_status_ok, "suite %u: %d", s, st);
		cr_assert_eq(wlen, plen + SRTCP_INDEX_LEN + (int)rtcp_tag_lens[s], "suite %u", s);
		/* First 8 bytes clear (header + SSRC), the sender info encrypted. */
		cr_assert_eq(memcmp(wire, plain, 8), 0);
		cr_assert_neq(memcmp(wire + 8, plain + 8, (size_t)plen - 8), 0);

		memcpy(buf, wire, sizeof(buf));
		n = wlen;
		st = srtp_unprotect_rtcp(stranger, buf, &n);
		cr_assert_eq(st, srtp_err_status_auth_fail, "suite %u: %d", s, st);

		memcpy(buf, wire, sizeof(buf));
		buf[12] ^= 0x04;
		n = wlen;
		st = srtp_unprotect_rtcp(in, buf, &n);
		cr_assert_eq(st, srtp_err_status_auth_fail, "suite %u: %d", s, st);

		memcpy(buf, wire, sizeof(buf));
		n = wlen;
		st = srtp_unprotect_rtcp(in, buf, &n);
		cr_assert_eq(st, srtp_err_status_ok, "suite %u: %d", s, st);
		cr_assert_eq(n, plen);
		cr_assert_eq(memcmp(buf, plain, (size_t)plen), 0, "suite %u", s);

		memcpy(buf, wire, sizeof(buf));
		n = wlen;
		st = srtp_unprotect_rtcp(in, buf, &n);
		cr_assert_eq(st, srtp_err_status_replay_fail, "suite %u: %d", s, st);
		cr_assert(duet_srtp_is_replay(st));

		duet_srtp_session_free(out);
		duet_srtp_session_free(in);
		duet_srtp_session_free(stranger);
	}
}

Test(srtp, sequence_wrap_carries_the_rollover_counter)
{
	enum { FIRST = 65530, COUNT = 17 }; /* 65530..65535, then 0..10 */
	unsigned int s, i;

	for (s = 0; s < NSUITES; s++) {
		struct duet_sdes k = make_key(s, 19);
		srtp_t out = session(&k, DUET_SRTP_OUTBOUND);
		srtp_t in = session(&k, DUET_SRTP_INBOUND);
		srtp_t late = session(&k, DUET_SRTP_INBOUND);
		uint8_t plain[COUNT][BUF_LEN], wire[COUNT][BUF_LEN];
		int plen[COUNT], wlen[COUNT];
		uint32_t roc;

		for (i = 0; i < COUNT; i++) {
			uint16_t seq = (uint16_t)(FIRST + i);

			plen[i] = voice_packet(plain[i], seq);
			memcpy(wire[i], plain[i], BUF_LEN);
			wlen[i] = protect(out, wire[i], plen[i], s);
			cr_assert_eq(srtp_get_stream_roc(out, SSRC, &roc), srtp_err_status_ok);
			cr_assert_eq(roc, seq >= FIRST ? 0u : 1u, "suite %u seq %u roc %u", s, seq,
				     roc);
		}
		for (i = 0; i < COUNT; i++)
			expect_plain(in, wire[i], wlen[i], plain[i], plen[i], s);
		cr_assert_eq(srtp_get_stream_roc(in, SSRC, &roc), srtp_err_status_ok);
		cr_assert_eq(roc, 1u, "suite %u", s);
		/* The ROC is in the cipher input: a receiver that joins after the
		 * wrap, guessing ROC 0, cannot read seq 0. */
		cr_assert_eq(unprotect_status(late, wire[6], wlen[6]), srtp_err_status_auth_fail,
			     "suite %u", s);
		duet_srtp_session_free(out);
		duet_srtp_session_free(in);
		duet_srtp_session_free(late);
	}
}

Test(srtp, outbound_refuses_to_protect_an_index_twice)
{
	unsigned int s;

	/* Protecting one index twice with two payloads would reuse a nonce
	 * (for GCM it gives the authentication key away): the relay's
	 * outbound sessions refuse it, in every suite. */
	for (s = 0; s < NSUITES; s++) {
		struct duet_sdes k = make_key(s, 23);
		srtp_t out = session(&k, DUET_SRTP_OUTBOUND);
		uint8_t wire[BUF_LEN];
		int len;

		len = voice_packet(wire, 5);
		cr_assert_eq(srtp_protect(out, wire, &len), srtp_err_status_ok, "suite %u", s);
		len = voice_packet(wire, 5);
		wire[20] ^= 0xff; /* another payload, same index */
		cr_assert_eq(srtp_protect(out, wire, &len), srtp_err_status_replay_fail, "suite %u",
			     s);
		duet_srtp_session_free(out);
	}
}

Test(srtp, session_new_rejects_key_length_not_matching_suite)
{
	unsigned int s;

	for (s = 0; s < NSUITES; s++) {
		struct duet_sdes k = make_key(s, 31);
		srtp_t sess = (srtp_t)(uintptr_t)1;
		unsigned int good = k.key_len;

		k.key_len = (uint8_t)(good - 1);
		cr_assert_eq(duet_srtp_session_new(&k, DUET_SRTP_INBOUND, &sess), -EINVAL);
		cr_assert_null(sess);
		k.key_len = (uint8_t)(good + 1);
		sess = (srtp_t)(uintptr_t)1;
		cr_assert_eq(duet_srtp_session_new(&k, DUET_SRTP_OUTBOUND, &sess), -EINVAL);
		cr_assert_null(sess);
		k.key_len = 0;
		cr_assert_eq(duet_srtp_session_new(&k, DUET_SRTP_OUTBOUND, &sess), -EINVAL);
		cr_assert_null(sess);
		k.key_len = (uint8_t)good;
		cr_assert_eq(duet_srtp_session_new(&k, DUET_SRTP_OUTBOUND, &sess), 0);
		cr_assert_not_null(sess);
		duet_srtp_session_free(sess);
	}
	{
		/* A 44-byte key under a 30-byte suite: the mismatch the check exists for. */
		struct duet_sdes k = make_key(DUET_SRTP_AEAD_AES_256_GCM, 31);
		srtp_t sess = (srtp_t)(uintptr_t)1;

		k.suite = DUET_SRTP_AES_CM_128_HMAC_SHA1_80;
		cr_assert_eq(duet_srtp_session_new(&k, DUET_SRTP_INBOUND, &sess), -EINVAL);
		cr_assert_null(sess);
		k.suite = DUET_SRTP_SUITE_COUNT;
		cr_assert_eq(duet_srtp_session_new(&k, DUET_SRTP_INBOUND, &sess), -EINVAL);
		cr_assert_null(sess);
	}
}

Test(srtp, session_from_parsed_sdes_text_interoperates)
{
	/* The path duetd takes: text -> duet_sdes_parse -> session. */
	struct duet_sdes k;
	const char *why = NULL;
	srtp_t out, in;
	uint8_t plain[BUF_LEN], wire[BUF_LEN];
	int plen, wlen;

	cr_assert_eq(duet_sdes_parse("AEAD_AES_256_GCM inline:RG+axfAbRnGcx/IdSHOeyfQfSnWgy/YhTHe"
				     "izfgjTnmkz/olUHum0fwnUn0=|2^31", &k, &why), 0, "%s", why);
	out = session(&k, DUET_SRTP_OUTBOUND);
	in = session(&k, DUET_SRTP_INBOUND);
	duet_sdes_wipe(&k);
	plen = voice_packet(plain, 1);
	memcpy(wire, plain, sizeof(wire));
	wlen = protect(out, wire, plen, DUET_SRTP_AEAD_AES_256_GCM);
	expect_plain(in, wire, wlen, plain, plen, DUET_SRTP_AEAD_AES_256_GCM);
	duet_srtp_session_free(out);
	duet_srtp_session_free(in);
}

Test(srtp, is_replay_names_only_replay_statuses)
{
	cr_assert(duet_srtp_is_replay(srtp_err_status_replay_fail));
	cr_assert(duet_srtp_is_replay(srtp_err_status_replay_old));
	cr_assert_not(duet_srtp_is_replay(srtp_err_status_ok));
	cr_assert_not(duet_srtp_is_replay(srtp_err_status_auth_fail));
	cr_assert_not(duet_srtp_is_replay(srtp_err_status_bad_param));
	duet_srtp_session_free(NULL);
}
