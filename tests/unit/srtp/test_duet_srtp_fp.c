/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/srtp/duet_srtp_fp.h and duet_srtp_life.h: the key
 * lifetimes a direction enforces (RFC 4568 |LIFETIME, RFC 3711 9.2) in
 * verify and rekey, across a rotation and its grace, and the SRTCP that
 * ffmpeg sends under AES_CM_128_HMAC_SHA1_32 (a 32-bit tag where RFC 4568
 * has 80). A direction is a struct duet_srtp_ctx with the relay's own
 * sessions, driven packet by packet as a worker drives it
 * (test_srtp_relay). The RFC clients are libsrtp2 sessions with a policy
 * written out in srtp_client.c; ffmpeg's SRTCP is built here from RFC 3711
 * with OpenSSL (AES-CM key derivation and encryption, HMAC-SHA1) in
 * libavformat's layout, so the relay's own libsrtp2 policy for it is not
 * mirrored by its test. No EAL. Test process only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "duet_sdes.h"
#include "duet_srtpe.h"
#include "duet_srtp.h"
#include "duet_srtp_fp.h"
#include "duet_srtp_life.h"
#include "srtp_client.h"

/* test_duet_srtp_fp_burst: the same tests on the burst engine (srtp_engine.c),
 * where a few internals differ (no libsrtp2 session, no layout to learn). */
#ifdef DUET_TEST_ENGINE_BURST
#define ON_BURST_ENGINE 1
#else
#define ON_BURST_ENGINE 0
#endif

#define SSRC 0x5eed0002u
#define NOW 1000000u	 /* TSC the tests run at */
#define SILENCE 1000000u /* SSRC cap: silent this long is evictable */
#define GRACE 500000u	 /* TSC a previous key stays in a rotation */

static void
teardown(void)
{
	test_srtp_clients_free();
}

static void
setup(void)
{
	cr_assert_eq(duet_srtp_init(), 0);
}

TestSuite(srtp_fp, .init = setup, .fini = teardown);

/* ---- a direction of the relay ----------------------------------------------- */


/* A rotation as lib/pair does it: the new key is `in`, the old one
 * in_prev until NOW + GRACE. */
static void
dir_rotate(struct duet_srtp_ctx *d, const struct duet_sdes *k)
{
	duet_srtp_sess_free(d->in_prev);
	d->in_prev = d->in;
	d->prev_until_tsc = NOW + GRACE;
	d->in = duet_srtp_sess_new(k, DUET_SRTP_INBOUND, d->out == NULL);
	cr_assert_not_null(d->in);
}

static enum duet_srtp_verdict
relay(struct duet_srtp_ctx *d, struct test_srtp_pkt *p)
{
	return test_srtp_relay(d, d->out != NULL, p, NOW, SILENCE);
}

/* Seal RTP (or SRTCP) seq with tx and relay it: the verdict. */
static enum duet_srtp_verdict
relay_seq(struct duet_srtp_ctx *d, srtp_t tx, bool rtcp, uint16_t seq)
{
	struct test_srtp_pkt p;

	test_srtp_seal(tx, rtcp, SSRC, seq, &p);
	return relay(d, &p);
}

static struct duet_sdes
key_text(const char *text)
{
	struct duet_sdes k;
	const char *why = NULL;

	cr_assert_eq(duet_sdes_parse(text, &k, &why), 0, "%s: %s", text, why);
	return k;
}

/* A random key of suite with a lifetime tail ("|2^4", "|16", or ""). */
static struct duet_sdes
key_with(enum duet_srtp_suite suite, const char *lifetime)
{
	struct duet_sdes k = test_srtp_key(suite);
	char text[DUET_SDES_TEXT_MAX + 32];

	cr_assert_eq(duet_sdes_format(&k, text, sizeof(text)), 0);
	strcat(text, lifetime);
	k = key_text(text);
	duet_secure_zero(text, sizeof(text));
	return k;
}

/* ---- duet_srtp_life.h ------------------------------------------------------- */

Test(srtp_fp, life_limits_are_the_lifetime_or_rfc3711_maxima)
{
	struct duet_srtp_life l;

	duet_srtp_life_init(&l, 0);
	cr_assert_eq(l.limit[0], 1ULL << 48, "no lifetime: 2^48 SRTP packets");
	cr_assert_eq(l.limit[1], 1ULL << 31, "no lifetime: 2^31 SRTCP packets");
	cr_assert_eq(duet_srtp_life_remaining(&l), 1ULL << 31);
	duet_srtp_life_init(&l, 16);
	cr_assert_eq(l.limit[0], 16);
	cr_assert_eq(l.limit[1], 16);
	duet_srtp_life_init(&l, 1ULL << 40);
	cr_assert_eq(l.limit[0], 1ULL << 40);
	cr_assert_eq(l.limit[1], 1ULL << 31, "SRTCP never past 2^31");
	cr_assert_eq(l.used[0] + l.used[1] + l.expired, 0);
}

Test(srtp_fp, life_take_counts_up_to_the_limit_then_refuses)
{
	struct duet_srtp_life l;
	unsigned int i;

	duet_srtp_life_init(&l, 3);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(duet_srtp_life_remaining(&l), 3 - i);
		cr_assert(duet_srtp_life_take(&l, false), "packet %u", i);
	}
	cr_assert_not(duet_srtp_life_take(&l, false));
	cr_assert_not(duet_srtp_life_take(&l, false));
	cr_assert_eq(l.used[0], 3, "a refused packet is not used");
	cr_assert_eq(duet_srtp_life_expired(&l), 2);
	cr_assert_eq(duet_srtp_life_remaining(&l), 0);
	/* SRTCP has its own count. */
	cr_assert(duet_srtp_life_take(&l, true));
	cr_assert_eq(l.used[1], 1);
	/* The same key with a longer lifetime: the count goes on under it. */
	duet_srtp_life_set(&l, 5);
	cr_assert_eq(duet_srtp_life_remaining(&l), 2);
	cr_assert(duet_srtp_life_take(&l, false));
	cr_assert(duet_srtp_life_take(&l, false));
	cr_assert_not(duet_srtp_life_take(&l, false));
	cr_assert_eq(l.used[0], 5);
	cr_assert_eq(duet_srtp_life_expired(&l), 3);
}

/* ---- lifetimes on the fast path --------------------------------------------- */

/* The two forms of one lifetime: exactly 16 SRTP packets pass, the 17th
 * and every later one is refused and counted, in every suite. */
Test(srtp_fp, verify_forwards_exactly_the_lifetime_then_refuses_as_expired)
{
	static const char *const forms[] = {"|2^4", "|16"};
	unsigned int f, s, i;

	for (f = 0; f < 2; f++) {
		for (s = 0; s < DUET_SRTP_SUITE_COUNT; s++) {
			struct duet_sdes k = key_with(s, forms[f]);
			srtp_t tx = test_srtp_client(&k, true);
			struct duet_srtp_ctx *d = test_srtp_dir_new(&k, NULL);

			cr_assert_eq(k.lifetime, 16);
			for (i = 0; i < 16; i++)
				cr_assert_eq(relay_seq(d, tx, false, (uint16_t)(100 + i)), DUET_SRTP_OK,
					     "%s suite %u: packet %u", forms[f], s, i);
			cr_assert_eq(duet_srtp_life_remaining(&d->in->life), 0);
			cr_assert_eq(duet_srtp_life_expired(&d->in->life), 0);
			for (i = 16; i < 20; i++)
				cr_assert_eq(relay_seq(d, tx, false, (uint16_t)(100 + i)),
					     DUET_SRTP_KEY_EXPIRED, "%s suite %u: packet %u",
					     forms[f], s, i);
			cr_assert_eq(duet_srtp_life_expired(&d->in->life), 4);
			cr_assert_eq(d->in->life.used[0], 16);
			test_srtp_dir_free(d);
		}
	}
}

/* SRTP and SRTCP count apart (RFC 3711 9.2: two limits); the SRTCP past
 * the lifetime is refused while SRTP goes on, and the other way round. */
Test(srtp_fp, srtcp_and_srtp_count_apart)
{
	struct duet_sdes k = key_with(CM80, "|2^2");
	srtp_t tx = test_srtp_client(&k, true);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&k, NULL);
	unsigned int i;

	for (i = 1; i <= 4; i++)
		cr_assert_eq(relay_seq(d, tx, true, (uint16_t)i), DUET_SRTP_OK, "SRTCP %u", i);
	cr_assert_eq(relay_seq(d, tx, true, 5), DUET_SRTP_KEY_EXPIRED);
	for (i = 1; i <= 4; i++)
		cr_assert_eq(relay_seq(d, tx, false, (uint16_t)i), DUET_SRTP_OK, "SRTP %u", i);
	cr_assert_eq(relay_seq(d, tx, false, 5), DUET_SRTP_KEY_EXPIRED);
	cr_assert_eq(d->in->life.used[0], 4);
	cr_assert_eq(d->in->life.used[1], 4);
	cr_assert_eq(duet_srtp_life_expired(&d->in->life), 2);
	test_srtp_dir_free(d);
}

/* Only packets that authenticate use a key up: forgeries and replays
 * before the limit leave the 16 genuine packets their room. */
Test(srtp_fp, forgeries_and_replays_do_not_use_the_key)
{
	struct duet_sdes k = key_with(CM80, "|16");
	struct duet_sdes wrong = test_srtp_key(CM80);
	srtp_t tx = test_srtp_client(&k, true);
	srtp_t forger = test_srtp_client(&wrong, true);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&k, NULL);
	struct test_srtp_pkt first;
	unsigned int i;

	test_srtp_seal(tx, false, SSRC, 1, &first);
	cr_assert_eq(relay(d, &first), DUET_SRTP_OK);
	for (i = 0; i < 10; i++) {
		cr_assert_eq(relay_seq(d, forger, false, (uint16_t)(50 + i)), DUET_SRTP_AUTH);
		cr_assert_eq(relay(d, &first), DUET_SRTP_REPLAY);
	}
	for (i = 2; i <= 16; i++)
		cr_assert_eq(relay_seq(d, tx, false, (uint16_t)i), DUET_SRTP_OK, "packet %u", i);
	cr_assert_eq(relay_seq(d, tx, false, 17), DUET_SRTP_KEY_EXPIRED);
	/* Past the lifetime nothing is checked: a forgery is refused the same. */
	cr_assert_eq(relay_seq(d, forger, false, 90), DUET_SRTP_KEY_EXPIRED);
	cr_assert_eq(duet_srtp_life_expired(&d->in->life), 2);
	test_srtp_dir_free(d);
}

/* No lifetime given: RFC 3711's maxima, 2^48 SRTP and 2^31 SRTCP (the
 * counts are moved near them by hand). */
Test(srtp_fp, without_a_lifetime_the_rfc3711_maxima_apply)
{
	struct duet_sdes k = test_srtp_key(CM80);
	srtp_t tx = test_srtp_client(&k, true);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&k, NULL);

	cr_assert_eq(k.lifetime, 0);
	d->in->life.used[0] = (1ULL << 48) - 1;
	d->in->life.used[1] = (1ULL << 31) - 1;
	cr_assert_eq(relay_seq(d, tx, false, 1), DUET_SRTP_OK);
	cr_assert_eq(relay_seq(d, tx, false, 2), DUET_SRTP_KEY_EXPIRED);
	cr_assert_eq(relay_seq(d, tx, true, 1), DUET_SRTP_OK);
	cr_assert_eq(relay_seq(d, tx, true, 2), DUET_SRTP_KEY_EXPIRED);
	test_srtp_dir_free(d);
}

/*
 * A rotation: the new key counts from 0; the previous key keeps its count
 * through the grace, is refused (as expired, unchecked) once it is used
 * up, and the current key's packets are not held up by it.
 */
Test(srtp_fp, rotation_restarts_the_count_and_the_grace_key_keeps_its_own)
{
	struct duet_sdes k1 = key_with(CM80, "|2^4");
	struct duet_sdes k2 = key_with(CM32, "|16");
	srtp_t tx1 = test_srtp_client(&k1, true);
	srtp_t tx2 = test_srtp_client(&k2, true);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&k1, NULL);
	unsigned int i;

	for (i = 0; i < 10; i++)
		cr_assert_eq(relay_seq(d, tx1, false, (uint16_t)(200 + i)), DUET_SRTP_OK);
	dir_rotate(d, &k2);
	cr_assert_eq(duet_srtp_life_remaining(&d->in->life), 16, "a new key starts at 0");
	cr_assert_eq(duet_srtp_life_remaining(&d->in_prev->life), 6, "the old one goes on");
	/* Old-key packets still on their way: 6 more, then it is used up. */
	for (i = 10; i < 16; i++)
		cr_assert_eq(relay_seq(d, tx1, false, (uint16_t)(200 + i)), DUET_SRTP_OK, "old %u", i);
	cr_assert_eq(relay_seq(d, tx1, false, 216), DUET_SRTP_KEY_EXPIRED);
	cr_assert_eq(duet_srtp_life_expired(&d->in_prev->life), 1, "counted on the old key");
	cr_assert_eq(duet_srtp_life_expired(&d->in->life), 0, "not on the new one");
	/* The new key's 16 pass, the 17th does not. */
	for (i = 0; i < 16; i++)
		cr_assert_eq(relay_seq(d, tx2, false, (uint16_t)(300 + i)), DUET_SRTP_OK, "new %u", i);
	cr_assert_eq(relay_seq(d, tx2, false, 316), DUET_SRTP_KEY_EXPIRED);
	cr_assert_eq(duet_srtp_life_expired(&d->in->life), 1);
	/* The new key used up, the old one in its grace with room: an
	 * old-key packet still passes (and a new-key one does not). */
	d->in_prev->life.used[0] = 0;
	cr_assert_eq(relay_seq(d, tx1, false, 217), DUET_SRTP_OK);
	cr_assert_eq(relay_seq(d, tx2, false, 317), DUET_SRTP_KEY_EXPIRED);
	cr_assert_eq(duet_srtp_life_expired(&d->in->life), 2);
	test_srtp_dir_free(d);
}

/* A new key (count 0) from a rotation lets a used-up direction work
 * again: what the control plane does on `<key>_expired`. */
Test(srtp_fp, a_new_key_lets_an_expired_direction_work_again)
{
	struct duet_sdes k1 = key_with(GCM128, "|16");
	struct duet_sdes k2 = key_with(GCM128, "|16");
	srtp_t tx1 = test_srtp_client(&k1, true);
	srtp_t tx2 = test_srtp_client(&k2, true);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&k1, NULL);
	unsigned int i;

	for (i = 0; i < 16; i++)
		cr_assert_eq(relay_seq(d, tx1, false, (uint16_t)i), DUET_SRTP_OK);
	for (i = 16; i < 30; i++)
		cr_assert_eq(relay_seq(d, tx1, false, (uint16_t)i), DUET_SRTP_KEY_EXPIRED);
	dir_rotate(d, &k2);
	for (i = 30; i < 46; i++)
		cr_assert_eq(relay_seq(d, tx2, false, (uint16_t)i), DUET_SRTP_OK, "new key %u", i);
	cr_assert_eq(relay_seq(d, tx2, false, 46), DUET_SRTP_KEY_EXPIRED);
	test_srtp_dir_free(d);
}

/*
 * Rekey: the receiver's key counts what the relay protects with it. The
 * 16 it protected open at the receiver; the 17th is refused before the
 * sender's key is even tried (the sender's count does not move).
 */
Test(srtp_fp, rekey_out_key_counts_what_it_protects)
{
	unsigned int s, i;

	for (s = 0; s < DUET_SRTP_SUITE_COUNT; s++) {
		struct duet_sdes kin = test_srtp_key(CM80);
		struct duet_sdes kout = key_with(s, "|2^4");
		srtp_t tx = test_srtp_client(&kin, true);
		srtp_t rx = test_srtp_client(&kout, false);
		struct duet_srtp_ctx *d = test_srtp_dir_new(&kin, &kout);
		struct test_srtp_pkt p;

		for (i = 0; i < 16; i++) {
			test_srtp_seal(tx, false, SSRC, (uint16_t)(400 + i), &p);
			cr_assert_eq(relay(d, &p), DUET_SRTP_OK, "suite %u packet %u", s, i);
			cr_assert(test_srtp_opens(rx, &p), "suite %u: receiver opens %u", s, i);
		}
		test_srtp_seal(tx, false, SSRC, 416, &p);
		cr_assert_eq(relay(d, &p), DUET_SRTP_KEY_EXPIRED);
		cr_assert_eq(d->out->life.used[0], 16);
		cr_assert_eq(duet_srtp_life_expired(&d->out->life), 1);
		cr_assert_eq(d->in->life.used[0], 16, "the sender's key was not used");
		cr_assert_eq(duet_srtp_life_expired(&d->in->life), 0);
		/* SRTCP has its own count on the out key too. */
		test_srtp_seal(tx, true, SSRC, 1, &p);
		cr_assert_eq(relay(d, &p), DUET_SRTP_OK);
		cr_assert(test_srtp_opens(rx, &p));
		cr_assert_eq(d->out->life.used[1], 1);
		test_srtp_dir_free(d);
	}
}

/* And the sender's key of a rekey direction counts as in verify. */
Test(srtp_fp, rekey_in_key_expires_as_in_verify)
{
	struct duet_sdes kin = key_with(CM32, "|16");
	struct duet_sdes kout = test_srtp_key(GCM256);
	srtp_t tx = test_srtp_client(&kin, true);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&kin, &kout);
	unsigned int i;

	for (i = 0; i < 16; i++)
		cr_assert_eq(relay_seq(d, tx, false, (uint16_t)(500 + i)), DUET_SRTP_OK);
	cr_assert_eq(relay_seq(d, tx, false, 516), DUET_SRTP_KEY_EXPIRED);
	cr_assert_eq(duet_srtp_life_expired(&d->in->life), 1);
	cr_assert_eq(d->out->life.used[0], 16, "the 17th was never protected");
	test_srtp_dir_free(d);
}

/* ---- ffmpeg's SRTCP under AES_CM_128_HMAC_SHA1_32 -------------------------- */

/* AES-128 in counter mode: out ^= keystream from the 16-byte iv on. */
static void
aes_ctr(const uint8_t key[16], const uint8_t iv[16], uint8_t *buf, int len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0;

	cr_assert_not_null(c);
	cr_assert_eq(EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, key, iv), 1);
	cr_assert_eq(EVP_EncryptUpdate(c, buf, &n, buf, len), 1);
	cr_assert_eq(n, len);
	EVP_CIPHER_CTX_free(c);
}

/* RFC 3711 4.3.1 with a key derivation rate of 0: the session key of
 * `label` (SRTCP: 3 encryption, 4 authentication, 5 salt). */
static void
derive(const struct duet_sdes *k, uint8_t label, uint8_t *out, int len)
{
	uint8_t iv[16] = {0};

	memcpy(iv, k->key + 16, 14);
	iv[7] ^= label;
	memset(out, 0, (size_t)len);
	aes_ctr(k->key, iv, out, len);
}

/*
 * An SRTCP sender report from ssrc with SRTCP index `index`, protected as
 * libavformat's srtp.c does under AES_CM_128_HMAC_SHA1_32: encrypted from
 * byte 8 (RFC 3711 3.4, E = 1), the E+index word, then the HMAC-SHA1 of
 * all that truncated to 4 bytes (where RFC 4568 wants 10).
 */
static void
seal_ffmpeg_srtcp(const struct duet_sdes *k, uint32_t ssrc, uint32_t index,
		  struct test_srtp_pkt *p)
{
	uint8_t ekey[16], akey[20], salt[14], iv[16] = {0}, mac[20];
	unsigned int maclen = 0;
	int i;

	cr_assert_eq(k->suite, CM32);
	memset(p, 0, sizeof(*p));
	p->wire[0] = 0x80;
	p->wire[1] = 200;
	p->wire[3] = 6; /* 28 bytes */
	for (i = 0; i < 4; i++)
		p->wire[4 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	for (i = 8; i < 28; i++)
		p->wire[i] = (uint8_t)(index * 7 + (uint32_t)i);
	p->len = 28;
	memcpy(p->plain, p->wire, 28);
	p->plain_len = 28;
	derive(k, 3, ekey, sizeof(ekey));
	derive(k, 4, akey, sizeof(akey));
	derive(k, 5, salt, sizeof(salt));
	/* IV = salt * 2^16 ^ SSRC * 2^64 ^ index * 2^16. */
	memcpy(iv, salt, 14);
	for (i = 0; i < 4; i++) {
		iv[4 + i] ^= p->wire[4 + i];
		iv[10 + i] ^= (uint8_t)(index >> (24 - 8 * i));
	}
	aes_ctr(ekey, iv, p->wire + 8, 20);
	for (i = 0; i < 4; i++)
		p->wire[28 + i] = (uint8_t)((0x80000000u | index) >> (24 - 8 * i));
	cr_assert_not_null(HMAC(EVP_sha1(), akey, sizeof(akey), p->wire, 32, mac, &maclen));
	cr_assert_eq(maclen, 20);
	memcpy(p->wire + 32, mac, 4);
	p->len = 36;
}

/* The layout itself is what libsrtp2 makes with a 32-bit SRTCP tag (so
 * seal_ffmpeg_srtcp is RFC 3711 SRTCP with a short tag, nothing else). */
Test(srtp_fp, ffmpeg_layout_is_rfc3711_srtcp_with_a_32_bit_tag)
{
	struct duet_sdes k = test_srtp_key(CM32);
	struct test_srtp_pkt p;
	srtp_policy_t pol;
	srtp_t rx = NULL;
	uint8_t buf[TEST_SRTP_PKT_CAP] __attribute__((aligned(8)));
	int len;

	memset(&pol, 0, sizeof(pol));
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol.rtp);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol.rtcp);
	pol.ssrc.type = ssrc_any_inbound;
	pol.key = k.key;
	pol.window_size = 128;
	cr_assert_eq(srtp_create(&rx, &pol), srtp_err_status_ok);
	seal_ffmpeg_srtcp(&k, SSRC, 0, &p);
	memcpy(buf, p.wire, (size_t)p.len);
	len = p.len;
	cr_assert_eq(srtp_unprotect_rtcp(rx, buf, &len), srtp_err_status_ok);
	cr_assert_eq(len, p.plain_len);
	cr_assert_eq(memcmp(buf, p.plain, (size_t)len), 0);
	srtp_dealloc(rx);
}

/*
 * Verify, AES_CM_128_HMAC_SHA1_32: ffmpeg's SRTCP (index from 0, as
 * ffmpeg counts) authenticates, and so does RFC 4568's 80-bit SRTCP of the
 * same key; a tampered 32-bit packet fails both layouts; a replay of
 * either layout is a replay; the SRTCP index shows in the stream state.
 */
Test(srtp_fp, verify_accepts_ffmpeg_srtcp_and_still_refuses_forgeries_and_replays)
{
	struct duet_sdes k = test_srtp_key(CM32);
	srtp_t tx = test_srtp_client(&k, true);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&k, NULL);
	struct test_srtp_pkt f0, f1, bad, rfc;
	struct duet_srtp_ssrc_state st;
	unsigned int i;

	if (ON_BURST_ENGINE)
		cr_assert_eq(d->in->e_flags, DUET_SRTPE_SRTCP_TAG_EITHER, "both layouts tried");
	else
		cr_assert_not_null(d->in->s32, "inbound _32 sessions hold the 32-bit layout");
	seal_ffmpeg_srtcp(&k, SSRC, 0, &f0);
	cr_assert_eq(relay(d, &f0), DUET_SRTP_OK, "ffmpeg's first SR (index 0)");
	seal_ffmpeg_srtcp(&k, SSRC, 1, &f1);
	cr_assert_eq(relay(d, &f1), DUET_SRTP_OK);
	cr_assert_eq(relay(d, &f0), DUET_SRTP_REPLAY, "replayed 32-bit SRTCP");
	cr_assert_eq(relay(d, &f1), DUET_SRTP_REPLAY);
	for (i = 0; i < 4; i++) {
		enum duet_srtp_verdict fv;

		seal_ffmpeg_srtcp(&k, SSRC, 2, &bad);
		if (i == 0)
			bad.wire[bad.len - 1] ^= 0x01; /* tag */
		else if (i == 1)
			bad.wire[12] ^= 0x80; /* ciphertext */
		else if (i == 2)
			bad.wire[bad.len - 5] ^= 0x01; /* index */
		else
			bad.wire[1] = 201; /* header */
		fv = relay(d, &bad);
		cr_assert_eq(fv, DUET_SRTP_AUTH, "forgery %u: verdict %d", i, fv);
	}
	/* The index word alone changed to a fresh one: still a forgery. */
	seal_ffmpeg_srtcp(&k, SSRC, 1, &bad);
	bad.wire[bad.len - 5] = 9;
	cr_assert_eq(relay(d, &bad), DUET_SRTP_AUTH);
	st.srtcp_in = 0;
	cr_assert_eq(duet_srtp_ctx_read(d, &st, 1, NULL), 1);
	cr_assert_eq(st.has & DUET_SRTP_HAS_SRTCP_IN, DUET_SRTP_HAS_SRTCP_IN);
	cr_assert_eq(st.srtcp_in, 1, "the 32-bit layout's index: %u", st.srtcp_in);
	/* On libsrtp2 the session learnt its sender's layout: RFC 4568's
	 * 80-bit SRTCP is not tried any more under this key (a client has one
	 * layout). The burst engine tries both, in one window: index 1 again
	 * is a replay in either layout. */
	if (!ON_BURST_ENGINE)
		cr_assert_eq(d->in->srtcp_layout, DUET_SRTP_LAYOUT_32);
	test_srtp_seal(tx, true, SSRC, 1, &rfc);
	cr_assert_neq(relay(d, &rfc), DUET_SRTP_OK);
	/* Genuine ffmpeg packets count against the key's SRTCP lifetime. */
	cr_assert_eq(d->in->life.used[1], 2);
	test_srtp_dir_free(d);
}

/*
 * The 32-bit tag is the first 4 bytes of the 80-bit one over the same
 * bytes: an RFC SRTCP packet cut by 6 bytes is a valid packet of ffmpeg's
 * layout with the same index. Once an RFC packet authenticated, the session
 * tries the RFC layout only, so the cut copy (anyone who saw the packet can
 * make it) is refused and uses nothing of the key's lifetime; an RFC client
 * of a _32 key is not affected otherwise.
 */
Test(srtp_fp, a_cut_copy_of_an_rfc_srtcp_packet_is_not_accepted_again)
{
	struct duet_sdes k = test_srtp_key(CM32);
	srtp_t tx = test_srtp_client(&k, true);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&k, NULL);
	struct test_srtp_pkt rfc, cut, rfc2;

	test_srtp_seal(tx, true, SSRC, 1, &rfc);
	cut = rfc;
	cut.len -= 6;
	cr_assert_eq(relay(d, &rfc), DUET_SRTP_OK);
	if (!ON_BURST_ENGINE)
		cr_assert_eq(d->in->srtcp_layout, DUET_SRTP_LAYOUT_RFC);
	cr_assert_neq(relay(d, &cut), DUET_SRTP_OK, "the cut copy is a replay of the same packet");
	cr_assert_eq(relay(d, &rfc), DUET_SRTP_REPLAY);
	test_srtp_seal(tx, true, SSRC, 2, &rfc2);
	cr_assert_eq(relay(d, &rfc2), DUET_SRTP_OK, "the RFC client goes on");
	cr_assert_eq(d->in->life.used[1], 2, "only the genuine packets count");
	test_srtp_dir_free(d);
}

/* Only AES_CM_128_HMAC_SHA1_32 has the second layout: a 32-bit SRTCP tag
 * under AES_CM_128_HMAC_SHA1_80 is a forgery, outbound sessions never get
 * one. */
Test(srtp_fp, only_the_32_bit_suite_inbound_takes_the_short_srtcp_tag)
{
	struct duet_sdes k80 = test_srtp_key(CM80);
	struct duet_sdes k32 = test_srtp_key(CM32);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&k80, NULL);
	struct duet_srtp_sess *out = duet_srtp_sess_new(&k32, DUET_SRTP_OUTBOUND, false);
	struct test_srtp_pkt f;
	enum duet_srtp_verdict v;

	cr_assert_null(d->in->s32);
	cr_assert_not_null(out);
	cr_assert_null(out->s32);
	/* ffmpeg's layout with the _80 suite's key bytes. */
	k80.suite = CM32;
	seal_ffmpeg_srtcp(&k80, SSRC, 0, &f);
	/* Malformed (an E flag out of place) or a wrong tag, as the RFC
	 * layout reads it. */
	v = relay(d, &f);
	cr_assert(v == DUET_SRTP_AUTH || v == DUET_SRTP_BAD, "verdict %d", v);
	duet_srtp_sess_free(out);
	test_srtp_dir_free(d);
}

/* Rekey: ffmpeg's SRTCP in, RFC SRTCP (80-bit tag) out to the receiver. */
Test(srtp_fp, rekey_reprotects_ffmpeg_srtcp_with_the_rfc_layout)
{
	struct duet_sdes kin = test_srtp_key(CM32);
	struct duet_sdes kout = test_srtp_key(CM32);
	srtp_t rx = test_srtp_client(&kout, false);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&kin, &kout);
	struct test_srtp_pkt p;

	seal_ffmpeg_srtcp(&kin, SSRC, 0, &p);
	cr_assert_eq(relay(d, &p), DUET_SRTP_OK);
	cr_assert_eq(p.len, p.plain_len + 4 + 10, "E+index and an 80-bit tag");
	cr_assert(test_srtp_opens(rx, &p), "an RFC receiver opens it");
	seal_ffmpeg_srtcp(&kin, SSRC, 0, &p);
	cr_assert_eq(relay(d, &p), DUET_SRTP_REPLAY);
	test_srtp_dir_free(d);
}

/* After a restart, the restored SRTCP floor holds for ffmpeg's layout. */
Test(srtp_fp, restored_srtcp_floor_applies_to_the_32_bit_layout)
{
	struct duet_sdes k = test_srtp_key(CM32);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&k, NULL);
	struct duet_srtp_ssrc_state st;
	struct test_srtp_pkt p;

	memset(&st, 0, sizeof(st));
	st.ssrc = SSRC;
	st.srtcp_in = 5;
	st.has = DUET_SRTP_HAS_SRTCP_IN;
	cr_assert_eq(duet_srtp_ctx_restore(d, &k, NULL, &st, NOW), 0);
	seal_ffmpeg_srtcp(&k, SSRC, 3, &p);
	cr_assert_eq(relay(d, &p), DUET_SRTP_REPLAY, "below the floor");
	seal_ffmpeg_srtcp(&k, SSRC, 5, &p);
	cr_assert_eq(relay(d, &p), DUET_SRTP_REPLAY, "at the floor");
	seal_ffmpeg_srtcp(&k, SSRC, 6, &p);
	cr_assert_eq(relay(d, &p), DUET_SRTP_OK, "above it");
	test_srtp_dir_free(d);
}

/*
 * A new SSRC whose packet authenticated but could not be relayed (no room
 * to re-protect it) keeps its replay window: a packet without the key,
 * from yet another new SSRC, does not reset it, so the same packet sent
 * again is a replay (libsrtp2 keeps the stream inside its session; the
 * burst engine keeps the fresh stream unless the newcomer authenticates).
 */
Test(srtp_fp, a_packet_without_the_key_does_not_reset_a_new_ssrcs_window)
{
	static uint8_t scratch[DUET_SRTP_SCRATCH] __attribute__((aligned(64)));
	struct duet_sdes kin = test_srtp_key(CM80), kout = test_srtp_key(CM80);
	struct duet_sdes kother = test_srtp_key(CM80);
	srtp_t tx = test_srtp_client(&kin, true), forger = test_srtp_client(&kother, true);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&kin, &kout);
	struct test_srtp_pkt x, x2, y;
	int len;

	test_srtp_seal(tx, false, SSRC, 10, &x);
	x2 = x;
	len = x.len;
	cr_assert(duet_srtp_ctx_take(d));
	cr_assert_eq(duet_srtp_rekey(d, x.wire, &len, x.len, scratch, NOW), DUET_SRTP_BAD,
		     "authentic, but no room to re-protect it");
	duet_srtp_ctx_give(d);
	cr_assert_eq(d->n_ssrc, 0, "not admitted");
	test_srtp_seal(forger, false, SSRC + 1, 11, &y);
	cr_assert_eq(relay(d, &y), DUET_SRTP_AUTH);
	cr_assert_eq(relay(d, &x2), DUET_SRTP_REPLAY, "the same packet again");
	cr_assert_eq(relay_seq(d, tx, false, 11), DUET_SRTP_OK, "the next one goes through");
	test_srtp_dir_free(d);
}

#if ON_BURST_ENGINE
/*
 * Burst engine: an SSRC evicted from a full table (silent, and a new SSRC
 * authenticated) keeps its streams under its keys. Back, its old packets
 * are still replays, and a packet that repeats one of its sequence numbers
 * (a keyed sender can make one) is refused rather than protected a second
 * time under the receiver's key with the same index. After
 * DUET_SRTP_E_GONE evictions under the same keys, no more: a new SSRC is
 * refused while the table is full.
 */
Test(srtp_fp, an_evicted_ssrc_that_comes_back_goes_on_where_it_was)
{
	struct duet_sdes kin = test_srtp_key(CM80), kout = test_srtp_key(GCM128);
	srtp_t tx = test_srtp_client(&kin, true), tx2 = test_srtp_client(&kin, true);
	srtp_t rx = test_srtp_client(&kout, false);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&kin, &kout);
	struct test_srtp_pkt p, old2, again3;
	uint64_t t = NOW;
	uint32_t next = SSRC + 100;
	unsigned int i, g;

	for (i = 1; i <= 3; i++) {
		test_srtp_seal(tx, false, SSRC, (uint16_t)i, &p);
		if (i == 2)
			old2 = p;
		cr_assert_eq(test_srtp_relay(d, true, &p, t, SILENCE), DUET_SRTP_OK);
		cr_assert(test_srtp_opens(rx, &p));
	}
	/* Fill the table, then one more: SSRC, silent longest, is evicted. */
	t += 2 * SILENCE;
	for (i = 0; i < DUET_SRTP_MAX_SSRC; i++, next++) {
		test_srtp_seal(tx, false, next, 1, &p);
		cr_assert_eq(test_srtp_relay(d, true, &p, t, SILENCE), DUET_SRTP_OK, "ssrc %u", i);
	}
	cr_assert_lt(duet_srtp_find(d, SSRC), 0, "evicted");
	cr_assert_eq(d->out->e_n_gone, 1);
	t += 2 * SILENCE;
	cr_assert_eq(test_srtp_relay(d, true, &old2, t, SILENCE), DUET_SRTP_REPLAY,
		     "a packet from before the eviction");
	test_srtp_seal(tx2, false, SSRC, 3, &again3);
	cr_assert_eq(test_srtp_relay(d, true, &again3, t, SILENCE), DUET_SRTP_REPLAY,
		     "index 3 again, from the key holder");
	test_srtp_seal(tx, false, SSRC, 4, &p);
	cr_assert_eq(test_srtp_relay(d, true, &p, t, SILENCE), DUET_SRTP_OK, "it goes on");
	cr_assert(test_srtp_opens(rx, &p), "the receiver follows it");
	cr_assert_geq(duet_srtp_find(d, SSRC), 0);
	cr_assert_eq(d->out->e_n_gone, 1, "SSRC is back; the SSRC it evicted is kept");
	/* More evictions up to DUET_SRTP_E_GONE kept streams, then none. */
	for (g = d->out->e_n_gone; g < DUET_SRTP_E_GONE; g++, next++) {
		t += 2 * SILENCE;
		test_srtp_seal(tx, false, next, 1, &p);
		cr_assert_eq(test_srtp_relay(d, true, &p, t, SILENCE), DUET_SRTP_OK);
	}
	cr_assert_eq(d->out->e_n_gone, DUET_SRTP_E_GONE);
	t += 2 * SILENCE;
	test_srtp_seal(tx, false, next, 1, &p);
	cr_assert_eq(test_srtp_relay(d, true, &p, t, SILENCE), DUET_SRTP_SSRC_LIMIT);
	test_srtp_dir_free(d);
}
#endif
