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

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "duet_rtp.h"
#include "duet_srtp.h"

/** A session and how to use it. Made and freed by the control thread. */
struct duet_srtp_sess {
	srtp_t s;		/**< the libsrtp2 session */
	uint8_t rtp_auth_only;	/**< RTP side only checks the tag (verify, AES-CM suites) */
	uint8_t suite;		/**< enum duet_srtp_suite */
};

/** Most SRTP streams (SSRCs) one direction may hold ([security] srtp_max_ssrc). */
#define DUET_SRTP_MAX_SSRC 16

/** An SSRC a direction has a libsrtp2 stream for, and when it last authenticated. */
struct duet_srtp_ssrc {
	uint64_t last_tsc; /**< TSC of its last authentic packet */
	uint32_t ssrc;	   /**< host order */
	uint32_t reserved;
};

/** One direction of a pair: packets arriving at one leg. */
struct duet_srtp_ctx {
	uint32_t busy;			/**< owner flag, see the file comment */
	uint16_t n_ssrc;		/**< entries in ssrcs (owner only) */
	uint16_t reserved;
	struct duet_srtp_sess *in;	/**< sender's key (`<leg>_in`): verify and rekey */
	struct duet_srtp_sess *in_prev; /**< sender's previous key, until prev_until_tsc */
	struct duet_srtp_sess *out;	/**< receiver's key (`<peer>_out`): rekey */
	uint64_t prev_until_tsc;	/**< in_prev is tried until this TSC */
	/** The SSRCs libsrtp2 holds streams for (owner only): the cap on them
	 * is what bounds a keyed pair's memory under an SSRC sweep. */
	struct duet_srtp_ssrc ssrcs[DUET_SRTP_MAX_SSRC];
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
	DUET_SRTP_SSRC_LIMIT, /**< a new SSRC, and every stream slot is taken by a live one */
};

/** duet_srtp_admit(): a new SSRC with room for it. */
#define DUET_SRTP_ADMIT_NEW (-1)

/** Most bytes SRTP/SRTCP protection adds: a 16-byte GCM tag and the 4-byte
 * SRTCP index (duet never uses an MKI, which SRTP_MAX_TRAILER_LEN allows). */
#define DUET_SRTP_MAX_OVERHEAD (16 + 4)
/** Largest packet the fast path handles (bigger ones are BAD). */
#define DUET_SRTP_MAX_PKT 2048
/** Size of the per-lcore scratch buffer the fast path needs (32-bit aligned). */
#define DUET_SRTP_SCRATCH (DUET_SRTP_MAX_PKT + 64)

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
 * RFC 5761 demultiplexing on a shared port, as lib/rtp defines it
 * (DUET_RTCP_PT_MIN..MAX); the version was checked by whoever let the
 * packet get here, or libsrtp2 refuses it. Needs len >= 2.
 */
static inline bool
duet_srtp_is_rtcp(const uint8_t *p)
{
	return p[1] >= DUET_RTCP_PT_MIN && p[1] <= DUET_RTCP_PT_MAX;
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

/* Drop a stream from a session, if it has one for the SSRC. */
static inline void
duet_srtp_sess_drop_stream(struct duet_srtp_sess *x, uint32_t ssrc)
{
	if (x != NULL)
		(void)srtp_remove_stream(x->s, htonl(ssrc));
}

/* The SSRC a packet carries (RTP: bytes 8..11, RTCP: 4..7); len >= 12. */
static inline uint32_t
duet_srtp_ssrc_of(const uint8_t *p)
{
	const uint8_t *sp = duet_srtp_is_rtcp(p) ? p + 4 : p + 8;

	return (uint32_t)sp[0] << 24 | (uint32_t)sp[1] << 16 | (uint32_t)sp[2] << 8 | sp[3];
}

/**
 * The SSRC cap, before any crypto: may this packet's SSRC use (or get) a
 * libsrtp2 stream in this direction? A known SSRC may. A new one may while
 * fewer than max streams exist; when all are taken, it may only if the
 * stream silent the longest has been silent for more than `silence` TSC
 * cycles, and that stream (*victim) is removed once the new packet has
 * authenticated (duet_srtp_admitted()): a sender without the key evicts
 * nothing and, since libsrtp2 only makes a stream for an authentic
 * packet, fills nothing either. The caller holds the direction.
 * @param victim out: the entry to remove after authentication, or -1
 * @return the SSRC's index, DUET_SRTP_ADMIT_NEW, or -ENOSPC (refuse:
 *         DUET_SRTP_SSRC_LIMIT). Packets too short to carry an SSRC get
 *         DUET_SRTP_ADMIT_NEW: verify and rekey refuse them as DUET_SRTP_BAD.
 */
static inline int
duet_srtp_admit(const struct duet_srtp_ctx *d, const uint8_t *p, int len, unsigned int max,
		uint64_t now, uint64_t silence, int *victim)
{
	unsigned int i, oldest = 0;
	uint32_t ssrc;

	*victim = -1;
	if (len < 12)
		return DUET_SRTP_ADMIT_NEW;
	ssrc = duet_srtp_ssrc_of(p);
	for (i = 0; i < d->n_ssrc; i++) {
		if (d->ssrcs[i].ssrc == ssrc)
			return (int)i;
		if ((int64_t)(d->ssrcs[i].last_tsc - d->ssrcs[oldest].last_tsc) < 0)
			oldest = i;
	}
	if (max > DUET_SRTP_MAX_SSRC)
		max = DUET_SRTP_MAX_SSRC;
	if (d->n_ssrc < max)
		return DUET_SRTP_ADMIT_NEW;
	if (d->n_ssrc == 0 || (int64_t)(now - d->ssrcs[oldest].last_tsc) <= (int64_t)silence)
		return -ENOSPC;
	*victim = (int)oldest;
	return DUET_SRTP_ADMIT_NEW;
}

/**
 * After an authentic packet: note its SSRC's time, or record the new SSRC,
 * first removing the silent stream duet_srtp_admit() chose from every
 * session of the direction (libsrtp2 frees it here: rare, a full table and
 * a silent stream, and libsrtp2 allocates for a new SSRC on this path
 * anyway). The caller holds the direction.
 * @param removed incremented for each stream removed
 */
static inline void
duet_srtp_admitted(struct duet_srtp_ctx *d, int idx, int victim, const uint8_t *p, int len,
		   uint64_t now, uint64_t *removed)
{
	if (idx >= 0) {
		d->ssrcs[idx].last_tsc = now;
		return;
	}
	if (victim >= 0 && victim < d->n_ssrc) {
		uint32_t old = d->ssrcs[victim].ssrc;

		duet_srtp_sess_drop_stream(d->in, old);
		duet_srtp_sess_drop_stream(d->in_prev, old);
		duet_srtp_sess_drop_stream(d->out, old);
		d->ssrcs[victim] = d->ssrcs[--d->n_ssrc];
		(*removed)++;
	}
	if (len < 12 || d->n_ssrc >= DUET_SRTP_MAX_SSRC)
		return;
	d->ssrcs[d->n_ssrc].ssrc = duet_srtp_ssrc_of(p);
	d->ssrcs[d->n_ssrc].last_tsc = now;
	d->n_ssrc++;
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

/*
 * Unprotect a copy of the packet in `scratch` with the sender's current
 * session, then (on an auth failure only) with its previous one while the
 * rotation grace lasts. libsrtp2 wants 32-bit aligned packets, and an
 * mbuf's UDP payload sits 2 bytes off that (14 + 20 + 8 = 42): the scratch
 * buffer is aligned, the mbuf is never touched here. On DUET_SRTP_OK *len
 * is the plaintext length in scratch.
 */
static inline enum duet_srtp_verdict
duet_srtp_open(struct duet_srtp_ctx *d, bool rtcp, const uint8_t *p, int *len, uint8_t *scratch,
	       uint64_t now_tsc)
{
	const struct duet_srtp_sess *in = __atomic_load_n(&d->in, __ATOMIC_ACQUIRE);
	const struct duet_srtp_sess *prev;
	enum duet_srtp_verdict v;
	int l = *len;

	if (in == NULL)
		return DUET_SRTP_NO_KEY;
	memcpy(scratch, p, (size_t)l);
	v = duet_srtp_unprotect(in, rtcp, scratch, &l);
	/* Any failure may be an old-key packet: with another suite the new
	 * session may call it malformed (SRTCP's E bit is elsewhere), and
	 * its replay check runs before authentication. */
	if (v != DUET_SRTP_OK) {
		prev = __atomic_load_n(&d->in_prev, __ATOMIC_ACQUIRE);
		if (prev != NULL &&
		    (int64_t)(now_tsc - __atomic_load_n(&d->prev_until_tsc, __ATOMIC_RELAXED)) < 0) {
			enum duet_srtp_verdict pv;

			l = *len;
			memcpy(scratch, p, (size_t)l);
			pv = duet_srtp_unprotect(prev, rtcp, scratch, &l);
			if (pv == DUET_SRTP_OK || pv == DUET_SRTP_REPLAY)
				v = pv;
		}
	}
	if (v == DUET_SRTP_OK)
		*len = l;
	return v;
}

/* Overwrite n bytes of scratch so no plaintext outlives the packet. */
static inline void
duet_srtp_wipe(uint8_t *scratch, int n)
{
	memset(scratch, 0, (size_t)n);
	__asm__ __volatile__("" : : "r"(scratch) : "memory");
}

/**
 * Verify mode: authenticate the packet and check its replay window; the
 * packet itself is never changed. The check runs on an aligned copy in
 * `scratch` (this lcore's, DUET_SRTP_SCRATCH bytes, 32-bit aligned): for
 * AES-CM RTP with an authentication-only session (nothing is decrypted);
 * GCM RTP and SRTCP can only be checked by decrypting, and the copy is
 * wiped at once. The caller holds the direction (duet_srtp_ctx_take).
 */
static inline enum duet_srtp_verdict
duet_srtp_verify(struct duet_srtp_ctx *d, const uint8_t *p, int len, uint8_t *scratch,
		 uint64_t now_tsc)
{
	enum duet_srtp_verdict v;
	int l = len;

	if (len < 12 || len > DUET_SRTP_MAX_PKT)
		return DUET_SRTP_BAD;
	v = duet_srtp_open(d, duet_srtp_is_rtcp(p), p, &l, scratch, now_tsc);
	duet_srtp_wipe(scratch, len);
	return v;
}

/**
 * Rekey mode: decrypt with the sender's key and encrypt with the
 * receiver's, through the aligned `scratch` copy, and write the result
 * back at p. `cap` is the room at p (the new packet may be longer: suites
 * differ in tag length). On DUET_SRTP_OK *len is the new length. The
 * caller holds the direction.
 */
static inline enum duet_srtp_verdict
duet_srtp_rekey(struct duet_srtp_ctx *d, uint8_t *p, int *len, int cap, uint8_t *scratch,
		uint64_t now_tsc)
{
	const struct duet_srtp_sess *out = __atomic_load_n(&d->out, __ATOMIC_ACQUIRE);
	enum duet_srtp_verdict v;
	srtp_err_status_t st;
	bool rtcp;
	int l = *len, orig = *len;

	if (l < 12 || l > DUET_SRTP_MAX_PKT)
		return DUET_SRTP_BAD;
	if (out == NULL)
		return DUET_SRTP_NO_KEY;
	rtcp = duet_srtp_is_rtcp(p);
	v = duet_srtp_open(d, rtcp, p, &l, scratch, now_tsc);
	if (v != DUET_SRTP_OK)
		goto out;
	if (l + DUET_SRTP_MAX_OVERHEAD > cap) {
		v = DUET_SRTP_BAD;
		goto out;
	}
	st = rtcp ? srtp_protect_rtcp(out->s, scratch, &l) : srtp_protect(out->s, scratch, &l);
	if (st != srtp_err_status_ok) {
		v = DUET_SRTP_PROTECT;
		goto out;
	}
	memcpy(p, scratch, (size_t)l);
	*len = l;
out:
	/* Plaintext and new packet both fit in what came plus the overhead. */
	duet_srtp_wipe(scratch, orig + DUET_SRTP_MAX_OVERHEAD);
	return v;
}

#endif /* DUET_SRTP_FP_H */
