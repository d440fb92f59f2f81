/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libsrtp2 session setup and teardown (see duet_srtp.h). Slow path only:
 * the control thread in duetd, setup code in duet-caller and the tests.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "duet_srtp.h"
#include "duet_srtp_fp.h"

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
	x = calloc(1, sizeof(*x));
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
	if (x == NULL)
		return;
	srtp_dealloc(x->s);
	if (x->s32 != NULL)
		srtp_dealloc(x->s32);
	free(x);
}
