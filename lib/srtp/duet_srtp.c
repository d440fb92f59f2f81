/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session setup and teardown, on libsrtp2 or on the burst engine (see
 * duet_srtp.h), and each thread's engine manager. Slow path only: the
 * control thread in duetd, worker lcores at launch and exit, setup code
 * in duet-caller and the tests.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "duet_secure_zero.h"
#include "duet_srtp.h"
#include "duet_srtp_fp.h"
#include "duet_srtpe.h"

__thread IMB_MGR *duet_srtp_mgr;

/* Written once at start, before any session or worker exists. */
static enum duet_srtp_engine engine_kind = DUET_SRTP_ENGINE_LIBSRTP2;

bool
duet_srtp_engine_cpu_ok(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul");
}

int
duet_srtp_engine_set(enum duet_srtp_engine e)
{
	if (e == DUET_SRTP_ENGINE_BURST && !duet_srtp_engine_cpu_ok())
		return -ENOTSUP;
	if (e != DUET_SRTP_ENGINE_BURST && e != DUET_SRTP_ENGINE_LIBSRTP2)
		return -EINVAL;
	__atomic_store_n(&engine_kind, e, __ATOMIC_RELAXED);
	return 0;
}

enum duet_srtp_engine
duet_srtp_engine_get(void)
{
	return __atomic_load_n(&engine_kind, __ATOMIC_RELAXED);
}

int
duet_srtp_lcore_init(void)
{
	if (duet_srtp_mgr != NULL)
		return 0;
	return duet_srtpe_mgr_create(DUET_SRTPE_ARCH_AUTO, &duet_srtp_mgr);
}

void
duet_srtp_lcore_fini(void)
{
	duet_srtpe_mgr_free(duet_srtp_mgr);
	duet_srtp_mgr = NULL;
}

static pthread_once_t srtp_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t srtp_init_status;

static void
init_once(void)
{
	srtp_init_status = srtp_init();
}

int
duet_srtp_init(void)
{
	pthread_once(&srtp_once, init_once);
	return srtp_init_status == srtp_err_status_ok ? 0 : -EIO;
}

void
duet_srtp_policy(const struct duet_sdes *k, enum duet_srtp_dir dir, srtp_policy_t *p)
{
	memset(p, 0, sizeof(*p));
	switch (k->suite) {
	case DUET_SRTP_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		break;
	case DUET_SRTP_AES_CM_128_HMAC_SHA1_32:
		/* RFC 4568: SRTCP keeps the 80-bit tag under this suite.
		 * (duet_srtp_sess_new() adds ffmpeg's 32-bit layout inbound.) */
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
		break;
	case DUET_SRTP_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
		break;
	case DUET_SRTP_AEAD_AES_256_GCM:
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtcp);
		break;
	default:
		break;
	}
	p->ssrc.type = dir == DUET_SRTP_INBOUND ? ssrc_any_inbound : ssrc_any_outbound;
	p->key = (unsigned char *)(uintptr_t)k->key;
	p->window_size = DUET_SRTP_WINDOW;
	/* Never protect one index twice: with two different payloads that
	 * reuses a nonce (and, for GCM, gives the authentication key away).
	 * The relay's inbound replay check already drops a repeated index;
	 * across a key rotation (two inbound windows) protect refuses it. */
	p->allow_repeat_tx = 0;
	p->next = NULL;
}

int
duet_srtp_session_new(const struct duet_sdes *k, enum duet_srtp_dir dir, srtp_t *out)
{
	srtp_policy_t p;
	srtp_err_status_t st;

	*out = NULL;
	if (duet_srtp_init() != 0)
		return -EIO;
	if (duet_srtp_suite_key_len(k->suite) == 0 || k->key_len != duet_srtp_suite_key_len(k->suite))
		return -EINVAL;
	duet_srtp_policy(k, dir, &p);
	st = srtp_create(out, &p);
	if (st == srtp_err_status_ok)
		return 0;
	*out = NULL;
	return st == srtp_err_status_alloc_fail ? -ENOMEM : -EINVAL;
}

void
duet_srtp_session_free(srtp_t s)
{
	if (s != NULL)
		srtp_dealloc(s);
}

/* Ids of fast-path sessions: 0 is "none" in a track. */
static uint32_t sess_last_id;

void
duet_srtp_sess_policy(const struct duet_sdes *k, enum duet_srtp_dir dir, bool auth_only,
		      srtp_policy_t *p)
{
	duet_srtp_policy(k, dir, p);
	/* The HMAC covers the ciphertext: checking it needs no decryption. */
	if (auth_only)
		p->rtp.sec_serv = sec_serv_auth;
}

/* libsrtp2's status as an errno. */
static int
status_errno(srtp_err_status_t st)
{
	return st == srtp_err_status_alloc_fail ? ENOMEM : EINVAL;
}

static void *(*e_alloc)(size_t size);
static void (*e_release)(void *p);

void
duet_srtp_set_alloc(void *(*alloc)(size_t size), void (*release)(void *p))
{
	if (alloc == NULL || release == NULL)
		alloc = NULL, release = NULL;
	__atomic_store_n(&e_alloc, alloc, __ATOMIC_RELAXED);
	__atomic_store_n(&e_release, release, __ATOMIC_RELAXED);
}

/* The default: the C library's heap. */
static void *
heap_alloc(size_t size)
{
	return aligned_alloc(64, size);
}

/* Bytes before a burst-engine session's keys: the session, whole lines. */
#define SESS_HEAD ((sizeof(struct duet_srtp_sess) + 63) & ~(size_t)63)

/* A session, zeroed: on the burst engine one 64-byte-aligned block, the
 * session, then its keys, then its streams, so the lines a packet reads
 * are a few and neighbours. */
static struct duet_srtp_sess *
sess_alloc(const struct duet_sdes *k, bool engine)
{
	void *(*alloc)(size_t size) = __atomic_load_n(&e_alloc, __ATOMIC_RELAXED);
	void (*release)(void *p) = __atomic_load_n(&e_release, __ATOMIC_RELAXED);
	size_t ksz, total;
	uint8_t *blk;
	struct duet_srtp_sess *x;

	if (!engine)
		return calloc(1, sizeof(struct duet_srtp_sess));
	if (alloc == NULL || release == NULL) {
		alloc = heap_alloc;
		release = free;
	}
	ksz = duet_srtpe_key_size(k->suite);
	total = SESS_HEAD + ksz + sizeof(struct duet_srtpe_stream) * DUET_SRTP_E_STREAMS;
	total = (total + 63) & ~(size_t)63;
	blk = alloc(total);
	if (blk == NULL || ((uintptr_t)blk & 63) != 0) {
		if (blk != NULL)
			release(blk);
		return NULL;
	}
	memset(blk, 0, total);
	x = (struct duet_srtp_sess *)(void *)blk;
	x->e_release = release;
	x->ek = (struct duet_srtpe_key *)(void *)(blk + SESS_HEAD);
	x->est = (struct duet_srtpe_stream *)(void *)(blk + SESS_HEAD + ksz);
	return x;
}

/* The burst engine's part of a session: its keys (its block is x's). */
static int
sess_engine_new(struct duet_srtp_sess *x, const struct duet_sdes *k, enum duet_srtp_dir dir)
{
	int rc;

	rc = duet_srtp_lcore_init();
	if (rc != 0)
		return rc;
	rc = duet_srtpe_key_init(duet_srtp_mgr, k, x->ek);
	if (rc != 0)
		return rc;
	/* Both SRTCP layouts of this suite share one replay window in the
	 * engine, so a cut copy is a replay whichever layout reads it. */
	if (dir == DUET_SRTP_INBOUND && k->suite == DUET_SRTP_AES_CM_128_HMAC_SHA1_32)
		x->e_flags = DUET_SRTPE_SRTCP_TAG_EITHER;
	return 0;
}

struct duet_srtp_sess *
duet_srtp_sess_new(const struct duet_sdes *k, enum duet_srtp_dir dir, bool verify_only)
{
	struct duet_srtp_sess *x;
	srtp_err_status_t st;
	srtp_policy_t p;
	bool gcm;

	if (duet_srtp_init() != 0) {
		errno = EIO;
		return NULL;
	}
	if (duet_srtp_suite_key_len(k->suite) == 0 || k->key_len != duet_srtp_suite_key_len(k->suite)) {
		errno = EINVAL;
		return NULL;
	}
	x = sess_alloc(k, duet_srtp_engine_get() == DUET_SRTP_ENGINE_BURST);
	if (x == NULL)
		return NULL;
	gcm = k->suite == DUET_SRTP_AEAD_AES_128_GCM || k->suite == DUET_SRTP_AEAD_AES_256_GCM;
	x->rtp_auth_only = verify_only && dir == DUET_SRTP_INBOUND && !gcm;
	x->suite = (uint8_t)k->suite;
	/* SRTCP's E+index word: before the 80-bit tag (RFC 3711 3.4), or
	 * last with AEAD, whose tag is inside the ciphertext (RFC 7714 9). */
	x->srtcp_tail = gcm ? 4 : 10 + 4;
	do
		x->id = __atomic_add_fetch(&sess_last_id, 1, __ATOMIC_RELAXED);
	while (x->id == 0);
	duet_srtp_life_init(&x->life, k->lifetime);
	x->verify_only = verify_only && dir == DUET_SRTP_INBOUND;
	if (x->ek != NULL) {
		int rc = sess_engine_new(x, k, dir);

		if (rc != 0) {
			duet_srtp_sess_free(x);
			errno = -rc;
			return NULL;
		}
		return x;
	}
	duet_srtp_sess_policy(k, dir, x->rtp_auth_only, &p);
	st = srtp_create(&x->s, &p);
	if (st != srtp_err_status_ok) {
		free(x);
		errno = status_errno(st);
		return NULL;
	}
	/* ffmpeg's SRTCP under this suite: the same key, a 32-bit tag (see
	 * duet_srtp_fp.h). Made here, once, so the fast path only uses it. */
	if (dir == DUET_SRTP_INBOUND && k->suite == DUET_SRTP_AES_CM_128_HMAC_SHA1_32) {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtcp);
		st = srtp_create(&x->s32, &p);
		if (st != srtp_err_status_ok) {
			srtp_dealloc(x->s);
			free(x);
			errno = status_errno(st);
			return NULL;
		}
	}
	return x;
}

void
duet_srtp_sess_free(struct duet_srtp_sess *x)
{
	void (*release)(void *p) = free;

	if (x == NULL)
		return;
	/* A burst-engine session's keys are inside its own block, which
	 * goes back where it came from. */
	if (x->ek != NULL) {
		duet_srtpe_key_wipe(x->ek);
		release = x->e_release;
	}
	if (x->s != NULL)
		srtp_dealloc(x->s);
	if (x->s32 != NULL)
		srtp_dealloc(x->s32);
	duet_secure_zero(x, sizeof(*x));
	release(x);
}
