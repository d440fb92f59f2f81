/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/srtpe's burst API (duet_srtpe_burst.c, duet_srtpe_fp.h)
 * with packets from libsrtp2 senders: bursts that mix streams, suites and
 * operations; duplicates and forgeries inside one burst; verify leaving
 * every byte alone; the SRTCP 32-bit tag option; GCM's unencrypted SRTCP;
 * what protect refuses; the ROC across a wrap; the key wipe. (Every suite
 * and edge against libsrtp2 at length: srtpe_diff.) Test process only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <srtp2/srtp.h>

#include "duet_srtpe.h"
#include "duet_srtpe_fp.h"
#include "srtp_policy.h"

#define CAP 512
#define NSUITES DUET_SRTP_SUITE_COUNT
#define CM32 DUET_SRTP_AES_CM_128_HMAC_SHA1_32

struct pkt {
	uint8_t b[CAP] __attribute__((aligned(16)));
	uint32_t len;
	uint8_t plain[CAP];
	uint32_t plain_len;
	bool rtcp;
};

static IMB_MGR *mgr;

static void
setup(void)
{
	cr_assert_eq(srtp_init(), srtp_err_status_ok);
	cr_assert_eq(duet_srtpe_mgr_create(DUET_SRTPE_ARCH_SSE, &mgr), 0);
}

static void
teardown(void)
{
	duet_srtpe_mgr_free(mgr);
}

TestSuite(srtpe, .init = setup, .fini = teardown);

static struct duet_sdes
key_of(unsigned int suite, uint8_t seed)
{
	struct duet_sdes k;
	unsigned int i;

	memset(&k, 0, sizeof(k));
	k.suite = (enum duet_srtp_suite)suite;
	k.key_len = (uint8_t)duet_srtp_suite_key_len(k.suite);
	for (i = 0; i < k.key_len; i++)
		k.key[i] = (uint8_t)(seed * 7 + i * 31 + 3);
	return k;
}

/* A key in an allocation of its suite's size only (576 bytes for AES-CM):
 * under ASan, every test here shows the engine reads and writes nothing
 * past it. */
static struct duet_srtpe_key *
engine_key(const struct duet_sdes *k)
{
	struct duet_srtpe_key *x = aligned_alloc(64, duet_srtpe_key_size(k->suite));

	cr_assert_not_null(x);
	cr_assert_eq(duet_srtpe_key_init(mgr, k, x), 0);
	return x;
}

/* A libsrtp2 sender (window 128). rtcp_tag32: SRTCP tagged with 32 bits
 * under _32, as ffmpeg does; rtcp_plain: GCM SRTCP unencrypted (E = 0). */
static srtp_t
sender(const struct duet_sdes *k, bool rtcp_tag32, bool rtcp_plain)
{
	srtp_policy_t p;
	srtp_t s = NULL;

	memset(&p, 0, sizeof(p));
	test_srtp_policy_suite(k, &p);
	if (rtcp_tag32 && (k->suite == CM32 || k->suite == DUET_SRTP_AES_CM_128_HMAC_SHA1_80))
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtcp);
	if (rtcp_plain)
		p.rtcp.sec_serv = sec_serv_auth;
	p.ssrc.type = ssrc_any_outbound;
	p.key = (unsigned char *)(uintptr_t)k->key;
	p.window_size = 128;
	cr_assert_eq(srtp_create(&s, &p), srtp_err_status_ok);
	return s;
}

/* An RTP packet (one CSRC when csrc, a header extension when ext) or an
 * RTCP receiver report, protected by tx. */
static void
seal(srtp_t tx, bool rtcp, uint32_t ssrc, uint16_t seq, uint32_t payload, struct pkt *p)
{
	uint32_t h, i;
	int len;

	memset(p, 0, sizeof(*p));
	p->rtcp = rtcp;
	if (rtcp) {
		p->b[0] = 0x80;
		p->b[1] = 201;
		p->b[3] = 1;
		duet_srtpe_put32(p->b + 4, ssrc);
		h = 8;
	} else {
		p->b[0] = seq & 1 ? 0x91 : 0x80; /* odd: a CSRC and an extension */
		p->b[1] = 111;
		p->b[2] = (uint8_t)(seq >> 8);
		p->b[3] = (uint8_t)seq;
		duet_srtpe_put32(p->b + 4, 160u * seq);
		duet_srtpe_put32(p->b + 8, ssrc);
		h = 12;
		if (seq & 1) {
			duet_srtpe_put32(p->b + 12, 0xc5c5c5c5);
			p->b[16] = 0xbe;
			p->b[17] = 0xde;
			p->b[19] = 1;
			duet_srtpe_put32(p->b + 20, 0x10aa0000);
			h = 24;
		}
	}
	for (i = 0; i < payload; i++)
		p->b[h + i] = (uint8_t)(seq * 3 + i * 7 + ssrc);
	p->plain_len = h + payload;
	memcpy(p->plain, p->b, p->plain_len);
	len = (int)p->plain_len;
	cr_assert_eq(rtcp ? srtp_protect_rtcp(tx, p->b, &len) : srtp_protect(tx, p->b, &len),
		     srtp_err_status_ok);
	p->len = (uint32_t)len;
}

static struct duet_srtpe_pkt
entry(const struct duet_srtpe_key *k, struct duet_srtpe_stream *s, struct pkt *p, bool verify)
{
	uint8_t op = p->rtcp ? (verify ? DUET_SRTPE_SRTCP_VERIFY : DUET_SRTPE_SRTCP_UNPROTECT)
			     : (verify ? DUET_SRTPE_RTP_VERIFY : DUET_SRTPE_RTP_UNPROTECT);

	return (struct duet_srtpe_pkt){
		.key = k, .stream = s, .p = p->b, .len = p->len, .cap = CAP, .op = op};
}

static void
assert_plain(const struct duet_srtpe_pkt *x, const struct pkt *p)
{
	cr_assert_eq(x->verdict, DUET_SRTPE_OK);
	cr_assert_eq(x->len, p->plain_len);
	cr_assert_arr_eq(x->p, p->plain, p->plain_len);
}

/* Four keys, one per suite, two SSRCs each, RTP and SRTCP: one burst of
 * 40 (two runs of the manager) takes them all, in any mix. */
Test(srtpe, burst_mixes_streams_suites_and_operations)
{
	static struct pkt pk[40];
	struct duet_srtpe_pkt x[40];
	struct duet_srtpe_key *ek[NSUITES];
	struct duet_srtpe_stream st[NSUITES][2];
	srtp_t tx[NSUITES];
	struct duet_sdes k;
	unsigned int i, s;

	for (s = 0; s < NSUITES; s++) {
		k = key_of(s, (uint8_t)s);
		ek[s] = engine_key(&k);
		tx[s] = sender(&k, false, false);
		duet_srtpe_stream_init(&st[s][0]);
		duet_srtpe_stream_init(&st[s][1]);
	}
	for (i = 0; i < 40; i++) {
		s = i % NSUITES;
		seal(tx[s], i % 5 == 4, 0x1000 + s * 2 + (i / 4) % 2, (uint16_t)(65530 + i), 20 + i * 9,
		     &pk[i]);
		x[i] = entry(ek[s], &st[s][(i / 4) % 2], &pk[i], false);
	}
	cr_assert_eq(duet_srtpe_burst(mgr, x, 40), 40);
	for (i = 0; i < 40; i++)
		assert_plain(&x[i], &pk[i]);
	/* The sequence crossed 65535 -> 0: the ROC moved. */
	cr_assert_eq(st[0][0].rtp_index >> 16, 1);
	cr_assert(st[0][0].flags & DUET_SRTPE_STREAM_RTP);
	cr_assert(st[0][0].flags & DUET_SRTPE_STREAM_SRTCP);
	for (s = 0; s < NSUITES; s++) {
		srtp_dealloc(tx[s]);
		duet_srtpe_key_wipe(ek[s]);
		free(ek[s]);
	}
}

/* A second copy in the same burst is a replay; a forgery ahead of the real
 * packet in the same burst does not cost the real one its place. */
Test(srtpe, duplicates_and_forgeries_inside_one_burst)
{
	static struct pkt a, a2, f, b, c, c2, r1, r1b;
	struct duet_srtpe_pkt x[8];
	struct duet_srtpe_stream st;
	struct duet_srtpe_key *ek;
	struct duet_sdes k;
	unsigned int s;
	srtp_t tx;

	for (s = 0; s < NSUITES; s++) {
		k = key_of(s, 40);
		ek = engine_key(&k);
		tx = sender(&k, false, false);
		duet_srtpe_stream_init(&st);
		seal(tx, false, 7, 100, 50, &a);
		a2 = a;
		seal(tx, false, 7, 101, 50, &b);
		f = b;
		f.b[f.len - 1] ^= 0x40; /* forged: the tag's last bit */
		seal(tx, false, 7, 102, 0, &c);
		c2 = c;
		seal(tx, true, 7, 0, 12, &r1);
		r1b = r1;
		x[0] = entry(ek, &st, &a, false);
		x[1] = entry(ek, &st, &a2, false);
		x[2] = entry(ek, &st, &f, false);
		x[3] = entry(ek, &st, &b, false);
		x[4] = entry(ek, &st, &c, false);
		x[5] = entry(ek, &st, &r1, false);
		x[6] = entry(ek, &st, &c2, false);
		x[7] = entry(ek, &st, &r1b, false);
		cr_assert_eq(duet_srtpe_burst(mgr, x, 8), 4, "suite %u", s);
		assert_plain(&x[0], &a);
		cr_assert_eq(x[1].verdict, DUET_SRTPE_REPLAY, "suite %u", s);
		cr_assert_eq(x[2].verdict, DUET_SRTPE_AUTH, "suite %u", s);
		assert_plain(&x[3], &b);
		assert_plain(&x[4], &c);
		assert_plain(&x[5], &r1);
		cr_assert_eq(x[6].verdict, DUET_SRTPE_REPLAY, "suite %u", s);
		cr_assert_eq(x[7].verdict, DUET_SRTPE_REPLAY, "suite %u", s);
		cr_assert_eq(st.rtp_index, 102);
		cr_assert_eq(st.srtcp_index, 1);
		srtp_dealloc(tx);
		duet_srtpe_key_wipe(ek);
		free(ek);
	}
}

/* verify authenticates and moves the window, and leaves every byte as it
 * was: authentic, forged, replayed, RTP and SRTCP, all suites. */
Test(srtpe, verify_leaves_every_byte_alone)
{
	static struct pkt p[6], before[6];
	struct duet_srtpe_pkt x[6];
	struct duet_srtpe_stream st;
	struct duet_srtpe_key *ek;
	struct duet_sdes k;
	unsigned int s, i;
	srtp_t tx;

	for (s = 0; s < NSUITES; s++) {
		k = key_of(s, 9);
		ek = engine_key(&k);
		tx = sender(&k, false, false);
		duet_srtpe_stream_init(&st);
		seal(tx, false, 9, 1, 300, &p[0]);
		seal(tx, false, 9, 2, 1, &p[1]);
		seal(tx, true, 9, 0, 40, &p[2]);
		p[3] = p[0]; /* replay */
		seal(tx, false, 9, 3, 10, &p[4]);
		p[4].b[12] ^= 1; /* forged */
		seal(tx, true, 9, 0, 40, &p[5]);
		p[5].b[9] ^= 0x80; /* forged SRTCP */
		for (i = 0; i < 6; i++) {
			before[i] = p[i];
			x[i] = entry(ek, &st, &p[i], true);
		}
		cr_assert_eq(duet_srtpe_burst(mgr, x, 6), 3, "suite %u", s);
		for (i = 0; i < 6; i++) {
			cr_assert_eq(x[i].len, before[i].len, "suite %u pkt %u", s, i);
			cr_assert_arr_eq(p[i].b, before[i].b, CAP, "suite %u pkt %u", s, i);
		}
		cr_assert_eq(x[0].verdict, DUET_SRTPE_OK);
		cr_assert_eq(x[3].verdict, DUET_SRTPE_REPLAY);
		cr_assert_eq(x[4].verdict, DUET_SRTPE_AUTH);
		cr_assert_eq(x[5].verdict, DUET_SRTPE_AUTH);
		/* The one-packet form says the same. */
		cr_assert_eq(duet_srtpe_rtp_verify(mgr, ek, &st, p[1].b, p[1].len),
			     DUET_SRTPE_REPLAY);
		cr_assert_arr_eq(p[1].b, before[1].b, CAP);
		srtp_dealloc(tx);
		duet_srtpe_key_wipe(ek);
		free(ek);
	}
}

Test(srtpe, key_wipe_zeroes_the_key)
{
	struct duet_sdes k = key_of(DUET_SRTP_AEAD_AES_256_GCM, 1);
	struct duet_srtpe_key *ek = engine_key(&k);
	const uint8_t *b = (const uint8_t *)ek;
	size_t i, nonzero = 0;

	cr_assert_eq(duet_srtpe_key_size(k.suite), sizeof(*ek));
	for (i = 0; i < sizeof(*ek); i++)
		nonzero += b[i] != 0;
	cr_assert_gt(nonzero, 1000);
	duet_srtpe_key_wipe(ek);
	for (i = 0; i < sizeof(*ek); i++)
		cr_assert_eq(b[i], 0, "byte %zu", i);
	free(ek);
	k = key_of(DUET_SRTP_AES_CM_128_HMAC_SHA1_80, 1);
	ek = engine_key(&k);
	b = (const uint8_t *)ek;
	nonzero = 0;
	for (i = 0; i < duet_srtpe_key_size(k.suite); i++)
		nonzero += b[i] != 0;
	cr_assert_gt(nonzero, 400);
	duet_srtpe_key_wipe(ek);
	for (i = 0; i < duet_srtpe_key_size(k.suite); i++)
		cr_assert_eq(b[i], 0, "byte %zu", i);
	free(ek);
}

/* An AES-CM key given only duet_srtpe_key_size() bytes: key_init, every
 * operation and the wipe stay inside them (the bytes after are a guard;
 * under ASan, engine_key()'s exact allocation shows the same), and the
 * wipe clears them all. */
Test(srtpe, aes_cm_key_in_its_own_size_works_and_is_wiped)
{
	static struct pkt pk[4], out;
	unsigned int s;

	for (s = 0; s < 2; s++) {
		struct duet_sdes k = key_of(s, 9);
		size_t size = duet_srtpe_key_size(s), i;
		uint8_t *mem = aligned_alloc(64, size + 64);
		struct duet_srtpe_key *ek = (struct duet_srtpe_key *)mem;
		struct duet_srtpe_stream in, in_v, o;
		struct duet_srtpe_pkt x[4], v[4];
		srtp_t tx = sender(&k, false, false);

		cr_assert_eq(size, 576);
		cr_assert_not_null(mem);
		memset(mem, 0xa5, size + 64);
		cr_assert_eq(duet_srtpe_key_init(mgr, &k, ek), 0);
		duet_srtpe_stream_init(&in);
		duet_srtpe_stream_init(&in_v);
		duet_srtpe_stream_init(&o);
		for (i = 0; i < 4; i++) {
			seal(tx, i == 3, 0x4242, (uint16_t)(100 + i), 40 + 30 * (uint32_t)i, &pk[i]);
			x[i] = entry(ek, &in, &pk[i], false);
		}
		/* Verify, then unprotect, then protect again under the key. */
		for (i = 0; i < 4; i++) {
			v[i] = entry(ek, &in_v, &pk[i], true);
			duet_srtpe_prefetch(ek, &in_v, (enum duet_srtpe_op)v[i].op);
		}
		cr_assert_eq(duet_srtpe_burst(mgr, v, 4), 4);
		cr_assert_eq(duet_srtpe_burst(mgr, x, 4), 4);
		for (i = 0; i < 4; i++)
			assert_plain(&x[i], &pk[i]);
		memcpy(&out, &pk[0], sizeof(out));
		out.len = out.plain_len;
		cr_assert_eq(duet_srtpe_rtp_protect(mgr, ek, &o, out.b, &out.len, CAP),
			     DUET_SRTPE_OK);
		cr_assert_eq(out.len, pk[0].plain_len + (s == 0 ? 10 : 4));
		for (i = size; i < size + 64; i++)
			cr_assert_eq(mem[i], 0xa5, "guard byte %zu", i - size);
		duet_srtpe_key_wipe(ek);
		for (i = 0; i < size; i++)
			cr_assert_eq(mem[i], 0, "byte %zu", i);
		for (i = size; i < size + 64; i++)
			cr_assert_eq(mem[i], 0xa5, "guard byte %zu after the wipe", i - size);
		srtp_dealloc(tx);
		free(mem);
	}
}

/* ffmpeg tags SRTCP with 32 bits under AES_CM_128_HMAC_SHA1_32: only the
 * option takes it, and the option still takes RFC 4568's 80 bits. */
Test(srtpe, srtcp_32bit_tag_only_with_the_either_option)
{
	static struct pkt t32[3], t80, dup, forged, cp;
	struct duet_srtpe_pkt x[3];
	struct duet_srtpe_stream st, st2;
	struct duet_sdes k = key_of(CM32, 5), k80 = key_of(DUET_SRTP_AES_CM_128_HMAC_SHA1_80, 5);
	struct duet_srtpe_key *ek = engine_key(&k), *ek80 = engine_key(&k80);
	srtp_t ff = sender(&k, true, false), rfc = sender(&k, false, false);
	srtp_t ff80 = sender(&k80, true, false);
	unsigned int i;
	uint32_t len;

	for (i = 0; i < 3; i++)
		seal(ff, true, 77, 0, 24 + i, &t32[i]);
	cr_assert_eq(t32[0].len, t32[0].plain_len + 4 + 4, "a 32-bit SRTCP tag");
	seal(rfc, true, 78, 0, 24, &t80);
	cr_assert_eq(t80.len, t80.plain_len + 4 + 10);

	/* Without the option: refused, and the stream does not move. */
	duet_srtpe_stream_init(&st);
	cp = t32[0];
	len = cp.len;
	cr_assert_neq(duet_srtpe_srtcp_unprotect(mgr, ek, &st, cp.b, &len, 0), DUET_SRTPE_OK);
	cr_assert_eq(st.srtcp_index, 0);
	cr_assert_eq(st.flags, 0);

	/* With it: the 32-bit tag, the 80-bit tag, a replay, a forgery. */
	cp = t32[0];
	len = cp.len;
	cr_assert_eq(duet_srtpe_srtcp_unprotect(mgr, ek, &st, cp.b, &len,
						DUET_SRTPE_SRTCP_TAG_EITHER),
		     DUET_SRTPE_OK);
	cr_assert_eq(len, t32[0].plain_len);
	cr_assert_arr_eq(cp.b, t32[0].plain, len);
	dup = t32[0];
	len = dup.len;
	cr_assert_eq(duet_srtpe_srtcp_unprotect(mgr, ek, &st, dup.b, &len,
						DUET_SRTPE_SRTCP_TAG_EITHER),
		     DUET_SRTPE_REPLAY);
	forged = t32[1];
	forged.b[12] ^= 4;
	len = forged.len;
	cr_assert_eq(duet_srtpe_srtcp_unprotect(mgr, ek, &st, forged.b, &len,
						DUET_SRTPE_SRTCP_TAG_EITHER),
		     DUET_SRTPE_AUTH);
	duet_srtpe_stream_init(&st2);
	cp = t80;
	len = cp.len;
	cr_assert_eq(duet_srtpe_srtcp_unprotect(mgr, ek, &st2, cp.b, &len,
						DUET_SRTPE_SRTCP_TAG_EITHER),
		     DUET_SRTPE_OK);
	cr_assert_arr_eq(cp.b, t80.plain, t80.plain_len);
	/* verify with the option leaves the bytes alone. */
	cp = t32[1];
	len = cp.len;
	cr_assert_eq(duet_srtpe_srtcp_verify(mgr, ek, &st, cp.b, len, DUET_SRTPE_SRTCP_TAG_EITHER),
		     DUET_SRTPE_OK);
	cr_assert_arr_eq(cp.b, t32[1].b, t32[1].len);

	/* Two of one stream in one burst: which reading the first takes is
	 * known only after its tag, the second is decided after it. */
	duet_srtpe_stream_init(&st);
	for (i = 0; i < 3; i++) {
		x[i] = entry(ek, &st, &t32[i < 2 ? i : 0], false);
		x[i].flags = DUET_SRTPE_SRTCP_TAG_EITHER;
	}
	dup = t32[0];
	x[2].p = dup.b;
	cr_assert_eq(duet_srtpe_burst(mgr, x, 3), 2);
	assert_plain(&x[0], &t32[0]);
	assert_plain(&x[1], &t32[1]);
	cr_assert_eq(x[2].verdict, DUET_SRTPE_REPLAY);

	/* The option means nothing under _80: its SRTCP tag is 80 bits. */
	seal(ff80, true, 79, 0, 24, &cp);
	cr_assert_eq(cp.len, cp.plain_len + 4 + 4);
	duet_srtpe_stream_init(&st);
	len = cp.len;
	cr_assert_neq(duet_srtpe_srtcp_unprotect(mgr, ek80, &st, cp.b, &len,
						 DUET_SRTPE_SRTCP_TAG_EITHER),
		      DUET_SRTPE_OK);

	srtp_dealloc(ff);
	srtp_dealloc(rfc);
	srtp_dealloc(ff80);
	duet_srtpe_key_wipe(ek);
	duet_srtpe_key_wipe(ek80);
	free(ek);
	free(ek80);
}

/* RFC 7714 9.3: GCM SRTCP sent unencrypted (E = 0) is authenticated over
 * the whole packet; libsrtp2 takes it, so does the engine. */
Test(srtpe, gcm_srtcp_without_encryption)
{
	static struct pkt p, q;
	struct duet_srtpe_stream st;
	unsigned int s;
	uint32_t len;

	for (s = DUET_SRTP_AEAD_AES_128_GCM; s <= DUET_SRTP_AEAD_AES_256_GCM; s++) {
		struct duet_sdes k = key_of(s, 3);
		struct duet_srtpe_key *ek = engine_key(&k);
		srtp_t tx = sender(&k, false, true);

		duet_srtpe_stream_init(&st);
		seal(tx, true, 5, 0, 64, &p);
		cr_assert_eq(p.b[p.len - 4] & 0x80, 0, "E = 0");
		cr_assert_arr_eq(p.b, p.plain, p.plain_len, "not encrypted");
		q = p;
		cr_assert_eq(duet_srtpe_srtcp_verify(mgr, ek, &st, q.b, q.len, 0), DUET_SRTPE_OK);
		cr_assert_arr_eq(q.b, p.b, CAP);
		duet_srtpe_stream_init(&st);
		len = q.len;
		cr_assert_eq(duet_srtpe_srtcp_unprotect(mgr, ek, &st, q.b, &len, 0), DUET_SRTPE_OK);
		cr_assert_eq(len, p.plain_len);
		cr_assert_arr_eq(q.b, p.plain, len);
		q = p;
		q.b[20] ^= 2;
		duet_srtpe_stream_init(&st);
		len = q.len;
		cr_assert_eq(duet_srtpe_srtcp_unprotect(mgr, ek, &st, q.b, &len, 0), DUET_SRTPE_AUTH);
		srtp_dealloc(tx);
		duet_srtpe_key_wipe(ek);
		free(ek);
	}
}

/* Protect refuses: no room, an index it protected before, the end of the
 * SRTCP index, a GCM key of another code path, nonsense. */
Test(srtpe, protect_refusals)
{
	uint8_t b[CAP] __attribute__((aligned(16)));
	struct duet_srtpe_stream st;
	struct duet_srtpe_key *ek;
	struct duet_sdes k;
	struct duet_srtpe_pkt x;
	IMB_MGR *other = NULL;
	unsigned int s;
	uint32_t len;

	for (s = 0; s < NSUITES; s++) {
		k = key_of(s, 11);
		ek = engine_key(&k);
		duet_srtpe_stream_init(&st);
		memset(b, 0, sizeof(b));
		b[0] = 0x80;
		b[3] = 9;
		len = 100;
		cr_assert_eq(duet_srtpe_rtp_protect(mgr, ek, &st, b, &len, 100 + ek->rtp_tag_len - 1),
			     DUET_SRTPE_BAD);
		cr_assert_eq(len, 100);
		cr_assert_eq(duet_srtpe_rtp_protect(mgr, ek, &st, b, &len, CAP), DUET_SRTPE_OK);
		cr_assert_eq(len, 100u + ek->rtp_tag_len);
		len = 100;
		b[3] = 9;
		cr_assert_eq(duet_srtpe_rtp_protect(mgr, ek, &st, b, &len, CAP), DUET_SRTPE_REPLAY);
		len = 11;
		cr_assert_eq(duet_srtpe_rtp_protect(mgr, ek, &st, b, &len, CAP), DUET_SRTPE_BAD);
		b[0] = 0x8f; /* 15 CSRCs: 72 bytes of header */
		len = 70;
		cr_assert_eq(duet_srtpe_rtp_protect(mgr, ek, &st, b, &len, CAP), DUET_SRTPE_BAD);
		st.srtcp_index = DUET_SRTPE_SRTCP_INDEX_MAX - 1;
		len = 8;
		cr_assert_eq(duet_srtpe_srtcp_protect(mgr, ek, &st, b, &len, CAP), DUET_SRTPE_OK);
		cr_assert_eq(duet_srtpe_get32(b + (ek->gcm_key_len ? len - 4 : 8)),
			     DUET_SRTPE_SRTCP_E | DUET_SRTPE_SRTCP_INDEX_MAX);
		len = 8;
		cr_assert_eq(duet_srtpe_srtcp_protect(mgr, ek, &st, b, &len, CAP), DUET_SRTPE_BAD);
		len = 7;
		st.srtcp_index = 0;
		cr_assert_eq(duet_srtpe_srtcp_protect(mgr, ek, &st, b, &len, CAP), DUET_SRTPE_BAD);
		x = (struct duet_srtpe_pkt){.key = ek, .stream = &st, .p = b, .len = 40, .cap = CAP,
					    .op = DUET_SRTPE_OP_COUNT};
		cr_assert_eq(duet_srtpe_burst(mgr, &x, 1), 0);
		cr_assert_eq(x.verdict, DUET_SRTPE_BAD);
		x.op = DUET_SRTPE_RTP_UNPROTECT;
		x.key = NULL;
		cr_assert_eq(duet_srtpe_burst(mgr, &x, 1), 0);
		cr_assert_eq(x.verdict, DUET_SRTPE_BAD);
		duet_srtpe_key_wipe(ek);
		free(ek);
	}
	if (duet_srtpe_mgr_create(DUET_SRTPE_ARCH_AVX512, &other) == 0 ||
	    duet_srtpe_mgr_create(DUET_SRTPE_ARCH_AVX2, &other) == 0) {
		k = key_of(DUET_SRTP_AEAD_AES_128_GCM, 2);
		ek = engine_key(&k); /* made with the SSE manager */
		duet_srtpe_stream_init(&st);
		memset(b, 0, sizeof(b));
		b[0] = 0x80;
		len = 40;
		cr_assert_eq(duet_srtpe_rtp_protect(other, ek, &st, b, &len, CAP), DUET_SRTPE_BAD);
		cr_assert_eq(duet_srtpe_rtp_protect(mgr, ek, &st, b, &len, CAP), DUET_SRTPE_OK);
		duet_srtpe_mgr_free(other);
		duet_srtpe_key_wipe(ek);
		free(ek);
	}
}

/* The engine protects, libsrtp2's receiver opens, across a sequence wrap,
 * on every code path this CPU has (their GCM key data differ). */
Test(srtpe, engine_protects_what_libsrtp2_opens_on_every_code_path)
{
	static const enum duet_srtpe_arch arch[] = {DUET_SRTPE_ARCH_SSE, DUET_SRTPE_ARCH_AVX2,
						    DUET_SRTPE_ARCH_AVX512};
	uint8_t b[CAP] __attribute__((aligned(16)));
	unsigned int a, s, i;

	for (a = 0; a < 3; a++) {
		IMB_MGR *m;

		if (duet_srtpe_mgr_create(arch[a], &m) != 0)
			continue;
		for (s = 0; s < NSUITES; s++) {
			struct duet_sdes k = key_of(s, (uint8_t)(a + 20));
			struct duet_srtpe_key *ek = aligned_alloc(64, sizeof(*ek));
			struct duet_srtpe_stream st;
			srtp_policy_t p;
			srtp_t rx = NULL;

			cr_assert_eq(duet_srtpe_key_init(m, &k, ek), 0);
			memset(&p, 0, sizeof(p));
			if (s == CM32)
				srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
			else if (s == DUET_SRTP_AES_CM_128_HMAC_SHA1_80)
				srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
			else if (s == DUET_SRTP_AEAD_AES_128_GCM)
				srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
			else
				srtp_crypto_policy_set_aes_gcm_256_16_auth(&p.rtp);
			if (s == CM32 || s == DUET_SRTP_AES_CM_128_HMAC_SHA1_80)
				srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
			else
				p.rtcp = p.rtp;
			p.ssrc.type = ssrc_any_inbound;
			p.key = k.key;
			p.window_size = 128;
			cr_assert_eq(srtp_create(&rx, &p), srtp_err_status_ok);
			duet_srtpe_stream_init(&st);
			for (i = 0; i < 6; i++) {
				uint16_t seq = (uint16_t)(65533 + i);
				uint32_t len = 60 + i;
				srtp_err_status_t st_l;
				int l;

				memset(b, (int)i, sizeof(b));
				b[0] = 0x80;
				b[1] = 0;
				b[2] = (uint8_t)(seq >> 8);
				b[3] = (uint8_t)seq;
				duet_srtpe_put32(b + 8, 0x5eed);
				cr_assert_eq(duet_srtpe_rtp_protect(m, ek, &st, b, &len, CAP),
					     DUET_SRTPE_OK);
				l = (int)len;
				st_l = srtp_unprotect(rx, b, &l);
				cr_assert_eq(st_l, srtp_err_status_ok, "arch %u suite %u seq %u: %d",
					     m->used_arch, s, seq, st_l);
				cr_assert_eq(l, 60 + (int)i);
			}
			cr_assert_eq(st.rtp_index, 0x10002);
			srtp_dealloc(rx);
			duet_srtpe_key_wipe(ek);
			free(ek);
		}
		duet_srtpe_mgr_free(m);
	}
}

/*
 * A key that duet_srtpe_key_init() did not make, or that was wiped (a stale
 * pointer, an ignored error), takes no packet: with every length 0 it would
 * take any bytes as authentic under a 0-byte tag and write the ROC past the
 * packet. Every operation says BAD and writes nothing past an exactly sized
 * packet (ASan sees a write past the heap copy).
 */
Test(srtpe, a_zeroed_or_wiped_key_takes_no_packet)
{
	struct duet_sdes k = key_of(DUET_SRTP_AES_CM_128_HMAC_SHA1_80, 3);
	struct duet_srtpe_key *ek = engine_key(&k);
	struct duet_srtpe_key *zero = aligned_alloc(64, sizeof(*zero));
	const struct duet_srtpe_key *keys[2] = {zero, ek};
	unsigned int i, op;

	cr_assert_not_null(zero);
	memset(zero, 0, sizeof(*zero));
	duet_srtpe_key_wipe(ek);
	for (i = 0; i < 2; i++) {
		for (op = 0; op < DUET_SRTPE_OP_COUNT; op++) {
			struct duet_srtpe_stream st;
			uint32_t len = 40;
			uint8_t *p = malloc(len);
			enum duet_srtpe_verdict v;

			cr_assert_not_null(p);
			memset(p, 0x11, len);
			p[0] = 0x80;
			p[1] = op >= DUET_SRTPE_SRTCP_PROTECT ? 200 : 111;
			duet_srtpe_stream_init(&st);
			v = duet_srtpe_one(mgr, keys[i], &st, p, &len, len, (enum duet_srtpe_op)op,
					   DUET_SRTPE_SRTCP_TAG_EITHER);
			cr_assert_eq(v, DUET_SRTPE_BAD, "key %u op %u: verdict %d", i, op, v);
			cr_assert_eq(st.flags, 0, "key %u op %u: the stream moved", i, op);
			free(p);
		}
	}
	free(zero);
	free(ek);
}
