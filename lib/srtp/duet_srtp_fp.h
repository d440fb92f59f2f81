/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SRTP on the relay's fast path: authenticate (verify mode) or decrypt and
 * re-encrypt (rekey mode) one packet of one direction of a pair. Inline, for
 * worker lcores: no allocation, lock, syscall or log here. (libsrtp2 itself
 * allocates once per new SSRC, after that SSRC's first packet
 * authenticates: see docs/design.md.)
 *
 * Ownership: a direction (the packets that arrive at one leg) has one
 * struct duet_srtp_ctx. Its sessions are used only by the lcore holding its
 * `busy` flag, taken with one compare-and-swap and never waited for: RSS
 * keeps a client's flow on one queue, so in steady state one worker takes
 * it every time; a second worker that meets a held flag (a flow moving
 * between queues) drops the packet as `srtp_busy`. The control thread only
 * publishes new sessions (atomic pointer stores) and frees old ones after
 * an RCU grace period; it never uses a session.
 */
#ifndef DUET_SRTP_FP_H
#define DUET_SRTP_FP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "duet_srtp.h"

/** A session and how to use it. Made and freed by the control thread. */
struct duet_srtp_sess {
	srtp_t s;		/**< the libsrtp2 session */
	uint8_t rtp_auth_only;	/**< RTP side only checks the tag (verify, AES-CM suites) */
	uint8_t suite;		/**< enum duet_srtp_suite */
};

/** One direction of a pair: packets arriving at one leg. */
struct duet_srtp_ctx {
	uint32_t busy;			/**< owner flag, see the file comment */
	uint32_t reserved;
	struct duet_srtp_sess *in;	/**< sender's key (`<leg>_in`): verify and rekey */
	struct duet_srtp_sess *in_prev; /**< sender's previous key, until prev_until_tsc */
	struct duet_srtp_sess *out;	/**< receiver's key (`<peer>_out`): rekey */
	uint64_t prev_until_tsc;	/**< in_prev is tried until this TSC */
} __attribute__((aligned(64)));

/** What happened to a packet. */
enum duet_srtp_verdict {
	DUET_SRTP_OK = 0,   /**< authentic (and re-protected in rekey) */
	DUET_SRTP_AUTH,	    /**< tag wrong: forged, tampered or wrong key */
	DUET_SRTP_REPLAY,   /**< index seen before or older than the window */
	DUET_SRTP_BAD,	    /**< too short or not SRTP/SRTCP at all */
	DUET_SRTP_BUSY,	    /**< another lcore holds the direction */
	DUET_SRTP_PROTECT,  /**< re-protect failed (rekey) */
	DUET_SRTP_NO_KEY,   /**< no session (should not happen in a keyed mode) */
};

/** Most bytes SRTP/SRTCP protection adds (tag + SRTCP index). */
#define DUET_SRTP_MAX_OVERHEAD (SRTP_MAX_TRAILER_LEN + 4)
/** Largest packet the fast path handles (bigger ones are BAD). */
#define DUET_SRTP_MAX_PKT 2048

/** Take the direction, or false when another lcore holds it. */
static inline bool
duet_srtp_ctx_take(struct duet_srtp_ctx *d)
{
	uint32_t zero = 0;

	return __atomic_compare_exchange_n(&d->busy, &zero, 1, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

/** Give the direction back. */
static inline void
duet_srtp_ctx_give(struct duet_srtp_ctx *d)
{
	__atomic_store_n(&d->busy, 0, __ATOMIC_RELEASE);
}

/**
 * RFC 5761 demultiplexing on a shared port: the second byte of RTCP is a
 * packet type 192..223 (200 SR, 201 RR, ...), which as an RTP marker+PT
 * would be PT 64..95, never used for RTP. Needs len >= 2.
 */
static inline bool
duet_srtp_is_rtcp(const uint8_t *p)
{
	return p[1] >= 192 && p[1] <= 223;
}

static inline enum duet_srtp_verdict
duet_srtp_status(srtp_err_status_t st)
{
	if (st == srtp_err_status_ok)
		return DUET_SRTP_OK;
	if (duet_srtp_is_replay(st))
		return DUET_SRTP_REPLAY;
	if (st == srtp_err_status_auth_fail || st == srtp_err_status_cipher_fail)
		return DUET_SRTP_AUTH;
	return DUET_SRTP_BAD;
}

/* Unprotect p in place with session x; len updated on success. */
static inline enum duet_srtp_verdict
duet_srtp_unprotect(const struct duet_srtp_sess *x, bool rtcp, uint8_t *p, int *len)
{
	srtp_err_status_t st;

	if (rtcp)
		st = srtp_unprotect_rtcp(x->s, p, len);
	else
		st = srtp_unprotect(x->s, p, len);
	return duet_srtp_status(st);
}

/* The sender's current session, then (on an auth failure only) its previous
 * one while the rotation grace lasts. */
static inline enum duet_srtp_verdict
duet_srtp_unprotect_any(struct duet_srtp_ctx *d, bool rtcp, uint8_t *p, int *len,
			const uint8_t *orig, uint64_t now_tsc)
{
	const struct duet_srtp_sess *in = __atomic_load_n(&d->in, __ATOMIC_ACQUIRE);
	const struct duet_srtp_sess *prev;
	enum duet_srtp_verdict v;
	int l = *len;

	if (in == NULL)
		return DUET_SRTP_NO_KEY;
	v = duet_srtp_unprotect(in, rtcp, p, &l);
	if (v != DUET_SRTP_AUTH)
		goto out;
	prev = __atomic_load_n(&d->in_prev, __ATOMIC_ACQUIRE);
	if (prev == NULL || (int64_t)(now_tsc - __atomic_load_n(&d->prev_until_tsc, __ATOMIC_RELAXED)) >= 0)
		goto out;
	/* libsrtp2 leaves the bytes alone when the tag is wrong, but be sure:
	 * start the second try from the original packet. */
	if (orig != p)
		memcpy(p, orig, (size_t)*len);
	l = *len;
	v = duet_srtp_unprotect(prev, rtcp, p, &l);
out:
	if (v == DUET_SRTP_OK)
		*len = l;
	return v;
}

/**
 * Verify mode: authenticate the packet and check its replay window; the
 * packet itself is never changed. AES-CM RTP is checked in place with an
 * authentication-only session (no decryption at all); GCM RTP and every
 * SRTCP packet can only be checked by decrypting, which happens in
 * `scratch` (this lcore's, DUET_SRTP_MAX_PKT bytes) and is wiped at once.
 * The caller holds the direction (duet_srtp_ctx_take).
 */
static inline enum duet_srtp_verdict
duet_srtp_verify(struct duet_srtp_ctx *d, uint8_t *p, int len, uint8_t *scratch,
		 uint64_t now_tsc)
{
	const struct duet_srtp_sess *in = __atomic_load_n(&d->in, __ATOMIC_ACQUIRE);
	enum duet_srtp_verdict v;
	bool rtcp;
	int l = len;

	if (len < 12 || len > DUET_SRTP_MAX_PKT)
		return DUET_SRTP_BAD;
	if (in == NULL)
		return DUET_SRTP_NO_KEY;
	rtcp = duet_srtp_is_rtcp(p);
	if (!rtcp && in->rtp_auth_only && d->in_prev == NULL)
		return duet_srtp_unprotect(in, false, p, &l);
	memcpy(scratch, p, (size_t)len);
	v = duet_srtp_unprotect_any(d, rtcp, scratch, &l, p, now_tsc);
	memset(scratch, 0, (size_t)len);
	__asm__ __volatile__("" : : "r"(scratch) : "memory");
	return v;
}

/**
 * Rekey mode: decrypt with the sender's key and encrypt with the
 * receiver's, in place. `cap` is the room at p (the new packet may be
 * longer: suites differ in tag length). On DUET_SRTP_OK *len is the new
 * length. The caller holds the direction.
 */
static inline enum duet_srtp_verdict
duet_srtp_rekey(struct duet_srtp_ctx *d, uint8_t *p, int *len, int cap, uint8_t *scratch,
		uint64_t now_tsc)
{
	const struct duet_srtp_sess *out = __atomic_load_n(&d->out, __ATOMIC_ACQUIRE);
	enum duet_srtp_verdict v;
	srtp_err_status_t st;
	bool rtcp;
	int l = *len;

	if (l < 12 || l > DUET_SRTP_MAX_PKT)
		return DUET_SRTP_BAD;
	if (out == NULL)
		return DUET_SRTP_NO_KEY;
	rtcp = duet_srtp_is_rtcp(p);
	/* Keep the original for a second try with the previous key only when
	 * one is in its grace period. */
	if (__atomic_load_n(&d->in_prev, __ATOMIC_RELAXED) != NULL) {
		memcpy(scratch, p, (size_t)l);
		v = duet_srtp_unprotect_any(d, rtcp, p, &l, scratch, now_tsc);
		memset(scratch, 0, (size_t)*len);
	} else {
		v = duet_srtp_unprotect_any(d, rtcp, p, &l, p, now_tsc);
	}
	if (v != DUET_SRTP_OK)
		return v;
	if (l + DUET_SRTP_MAX_OVERHEAD > cap) {
		memset(p, 0, (size_t)l); /* plaintext never lingers in an mbuf */
		return DUET_SRTP_BAD;
	}
	st = rtcp ? srtp_protect_rtcp(out->s, p, &l) : srtp_protect(out->s, p, &l);
	if (st != srtp_err_status_ok) {
		memset(p, 0, (size_t)l);
		return DUET_SRTP_PROTECT;
	}
	*len = l;
	return DUET_SRTP_OK;
}

#endif /* DUET_SRTP_FP_H */
