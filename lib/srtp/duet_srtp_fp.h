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
 *
 * Stream tracking (for a restart, issue 10): per SSRC the direction also
 * keeps how far its streams got (struct duet_srtp_track: the highest RTP
 * packet index authenticated and re-protected, the highest SRTCP index),
 * written by the holder of `busy` only, and read by the control thread
 * (duet_srtp_state.c) under `state_seq`, a seqcount the holder makes odd
 * around every change it makes to the SSRC table or to a stream's ROC. A
 * restored stream carries a floor: a packet whose index (RFC 3711 3.3.1,
 * estimated against the highest) is at or below it is a replay, whatever
 * libsrtp2's window, empty after the restart, would say. The cost per
 * packet: one more scan of the (usually one-entry) SSRC table, the index
 * estimate, one compare against the floor of a restored stream and one
 * relaxed store of the new highest index.
 *
 * Key lifetimes (duet_srtp_life.h): each session counts the packets its
 * key authenticated (inbound) or protected (outbound, rekey), SRTP and
 * SRTCP apart, in its `life`, written by the holder of `busy`. A key whose
 * count of a kind reached its lifetime takes no packet of that kind any
 * more: the packet is refused as DUET_SRTP_KEY_EXPIRED before any crypto
 * (so the key holder cannot add streams under it either). A rotation makes
 * a new session, whose count starts at 0; the previous key keeps its count
 * through the grace.
 *
 * SRTCP under AES_CM_128_HMAC_SHA1_32 (ffmpeg): RFC 4568 gives SRTCP the
 * 80-bit tag under this suite; libavformat tags it with 32 bits. An inbound
 * session of this suite also holds `s32`, the same key with a 32-bit SRTCP
 * tag: an SRTCP packet that fails the RFC layout is tried with it (the
 * E+index word then sits 8 bytes from the end, not 14). The 32-bit tag is
 * the first 4 bytes of the same HMAC over the same bytes, so an RFC packet
 * cut by 6 bytes is a valid packet of the other layout, and the two
 * libsrtp2 sessions keep separate replay windows: were both layouts tried
 * for the whole life of the key, anyone who saw a packet could have it
 * accepted twice. So the session learns its sender's layout from the
 * first SRTCP packet that authenticates (srtcp_layout) and tries only that
 * one from then on: a client uses one implementation for all its streams.
 * A forgery fails both layouts; a replay or a cut copy fails the one layout
 * tried.
 *
 * The burst engine (lib/srtpe; a session with `ek`): the same rules, the
 * same tracks, lifetimes and grace, with the engine's own streams instead
 * of libsrtp2's. A session holds one struct duet_srtpe_stream per entry of
 * the direction's SSRC table (`est`, by the same index: an eviction moves
 * them as it moves the table) and one more for an SSRC that is not in the
 * table yet (DUET_SRTP_E_FRESH), kept until the SSRC is admitted or
 * another new SSRC comes. A restored stream is the engine's stream set to
 * the restored index with a full window, so its floor needs no check of
 * its own. Both SRTCP layouts of AES_CM_128_HMAC_SHA1_32 share the
 * engine's one SRTCP window, so both are tried for the key's whole life.
 * The packets go through the manager of the calling thread
 * (duet_srtp_mgr, duet_srtp_lcore_init()); the worker submits a whole
 * burst's steady-state packets together (duet_worker_fp.h), every other
 * packet goes through duet_srtp_verify()/duet_srtp_rekey() alone.
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
#include "duet_srtp_life.h"
#include "duet_srtpe.h"

/** The burst engine's manager of this thread (duet_srtp_lcore_init()),
 * NULL until then. */
extern __thread IMB_MGR *duet_srtp_mgr;

/** Burst engine: SSRCs evicted from a direction whose streams a session
 * keeps (so one that comes back goes on where it was: no replay of its old
 * packets, no index protected twice under the receiver's key). */
#define DUET_SRTP_E_GONE 4

/** A session and how to use it. Made and freed by the control thread;
 * `life` counts as the file comment says. */
struct duet_srtp_sess {
	srtp_t s;		/**< the libsrtp2 session */
	srtp_t s32;		/**< inbound AES_CM_128_HMAC_SHA1_32 only: the same key with
				     a 32-bit SRTCP tag (ffmpeg's layout), else NULL */
	uint32_t id;		/**< unique in the process, never 0: whose streams a track describes */
	uint8_t rtp_auth_only;	/**< RTP side only checks the tag (verify, AES-CM suites) */
	uint8_t suite;		/**< enum duet_srtp_suite */
	uint8_t srtcp_tail;	/**< bytes from an SRTCP packet's end to its E+index word */
	/** With s32: the SRTCP layout the sender uses, DUET_SRTP_LAYOUT_*,
	 * learnt from its first authentic SRTCP packet (owner writes). */
	uint8_t srtcp_layout;
	uint8_t verify_only;	/**< inbound session of a verify pair */
	uint8_t e_flags;	/**< burst engine: SRTCP packet flags (DUET_SRTPE_SRTCP_TAG_EITHER) */
	uint8_t e_has_fresh;	/**< burst engine: est[DUET_SRTP_E_FRESH] is e_fresh_ssrc's (owner) */
	uint8_t e_n_gone;	/**< burst engine: entries of e_gone (owner) */
	uint32_t e_fresh_ssrc;	/**< burst engine: see e_has_fresh */
	/** Burst engine: SSRCs evicted under this key; e_gone[i]'s stream is
	 * est[DUET_SRTP_E_GONE0 + i] (owner). */
	uint32_t e_gone[DUET_SRTP_E_GONE];
	struct duet_srtpe_key *ek;	/**< burst engine: the session keys; NULL on libsrtp2 */
	void (*e_release)(void *p);	/**< burst engine: frees the session's block */
	/** Burst engine: [DUET_SRTP_E_STREAMS] streams, by the direction's
	 * SSRC table entry, then DUET_SRTP_E_FRESH (owner writes). */
	struct duet_srtpe_stream *est;
	struct duet_srtp_life life; /**< the key's use in this direction */
};

/** Bytes from the end of an SRTCP packet with a 32-bit tag to its E+index
 * word (s32's layout). */
#define DUET_SRTP_SRTCP_TAIL_32 (4 + 4)

/* struct duet_srtp_sess.srtcp_layout */
#define DUET_SRTP_LAYOUT_UNKNOWN 0 /**< no SRTCP packet authenticated yet: try both */
#define DUET_SRTP_LAYOUT_RFC 1	   /**< RFC 4568's 80-bit tag only */
#define DUET_SRTP_LAYOUT_32 2	   /**< the 32-bit tag (s32) only */

/** Most SRTP streams (SSRCs) one direction may hold ([security] srtp_max_ssrc). */
#define DUET_SRTP_MAX_SSRC 16
/** Burst engine: index in a session's est of the stream of an SSRC not yet
 * in the direction's table. */
#define DUET_SRTP_E_FRESH DUET_SRTP_MAX_SSRC
/** Burst engine: index in a session's est of the first evicted stream. */
#define DUET_SRTP_E_GONE0 (DUET_SRTP_E_FRESH + 1)
/** Burst engine: streams a session holds. */
#define DUET_SRTP_E_STREAMS (DUET_SRTP_MAX_SSRC + 1 + DUET_SRTP_E_GONE)

/** An SSRC a direction has a libsrtp2 stream for, and when it last authenticated. */
struct duet_srtp_ssrc {
	uint64_t last_tsc; /**< TSC of its last authentic packet */
	uint32_t ssrc;	   /**< host order */
	uint32_t reserved;
};

/* duet_srtp_stream.flags, and duet_srtp_track.srtcp_flags */
#define DUET_SRTP_STREAM_HI 0x1	     /**< hi is set */
#define DUET_SRTP_STREAM_FLOOR 0x2   /**< floor is set (a restored stream) */
#define DUET_SRTP_STREAM_PENDING 0x4 /**< restored, and libsrtp2's stream has not
					  taken a packet since: it is told each
					  packet's ROC (srtp_set_stream_roc) */

/**
 * How far the RTP stream of one SSRC in one session got. Indexes are RFC
 * 3711 packet indexes, ROC << 16 | SEQ. A session that replaces this one
 * (a key rotation) starts its stream afresh, and so does this.
 */
struct duet_srtp_stream {
	uint64_t hi;	/**< highest index authenticated (inbound) or protected (outbound) */
	uint64_t floor; /**< restored: indexes <= this are replays, and never protected */
	uint32_t id;	/**< duet_srtp_sess.id of the session whose stream this is, 0 none */
	uint32_t flags; /**< DUET_SRTP_STREAM_* */
};

/**
 * How far one SSRC's streams got in a direction (the entry of the same
 * index in duet_srtp_ctx.ssrcs): its RTP stream in the inbound and in the
 * outbound session, and the SRTCP index of the inbound one (which goes
 * with in.id). Written by the direction's holder; the control thread reads
 * under state_seq, the hi fields with relaxed loads (they also move
 * outside it).
 */
struct duet_srtp_track {
	struct duet_srtp_stream in;  /**< in the sender's session (`in`) */
	struct duet_srtp_stream out; /**< in the receiver's session (`out`, rekey) */
	uint32_t srtcp_hi;	     /**< highest SRTCP index authenticated */
	uint32_t srtcp_floor;	     /**< restored: SRTCP indexes <= this are replays */
	uint32_t srtcp_flags;	     /**< DUET_SRTP_STREAM_HI, _FLOOR */
	uint32_t reserved;
} __attribute__((aligned(64))); /* one cache line per SSRC */

/** One direction of a pair: packets arriving at one leg. The first cache
 * line holds what every packet reads: the flag, the sessions, state_seq;
 * a packet of a known SSRC then reads its ssrcs entry (the scan) and its
 * track line. 1408 bytes. */
struct duet_srtp_ctx {
	uint32_t busy;			/**< owner flag, see the file comment */
	uint16_t n_ssrc;		/**< entries in ssrcs (owner writes, under state_seq) */
	uint16_t reserved;
	struct duet_srtp_sess *in;	/**< sender's key (`<leg>_in`): verify and rekey */
	struct duet_srtp_sess *in_prev; /**< sender's previous key, until prev_until_tsc */
	struct duet_srtp_sess *out;	/**< receiver's key (`<peer>_out`): rekey */
	uint64_t prev_until_tsc;	/**< in_prev is tried until this TSC */
	/** Seqcount over n_ssrc, ssrcs and track (owner writes: odd while
	 * inside). It moves on every new or removed SSRC and every ROC change,
	 * so it also says that the streams' state changed. */
	uint32_t state_seq;
	uint32_t fresh_ssrc;		/**< owner scratch: the SSRC `fresh` is of */
	/** Owner scratch: what the last authentic packet of an SSRC not yet
	 * in the table did to its streams, for duet_srtp_admitted(). */
	struct duet_srtp_track fresh;
	/** The SSRCs libsrtp2 holds streams for (owner only): the cap on them
	 * is what bounds a keyed pair's memory under an SSRC sweep. */
	struct duet_srtp_ssrc ssrcs[DUET_SRTP_MAX_SSRC];
	struct duet_srtp_track track[DUET_SRTP_MAX_SSRC]; /**< per entry of ssrcs */
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
	DUET_SRTP_KEY_EXPIRED, /**< the key is past its lifetime (refused before any crypto) */
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

/* Drop a stream from a session, if it has one for the SSRC. The burst
 * engine's streams go with their table entries (duet_srtp_sess_move()). */
static inline void
duet_srtp_sess_drop_stream(struct duet_srtp_sess *x, uint32_t ssrc)
{
	if (x == NULL || x->ek != NULL)
		return;
	(void)srtp_remove_stream(x->s, htonl(ssrc));
	if (x->s32 != NULL)
		(void)srtp_remove_stream(x->s32, htonl(ssrc));
}

/* Burst engine: index in x->e_gone of ssrc, or -1. */
static inline int
duet_srtp_gone_find(const struct duet_srtp_sess *x, uint32_t ssrc)
{
	unsigned int g;

	for (g = 0; g < x->e_n_gone; g++)
		if (x->e_gone[g] == ssrc)
			return (int)g;
	return -1;
}

/* Burst engine: forget ssrc's kept stream (it is back in the table). */
static inline void
duet_srtp_gone_drop(struct duet_srtp_sess *x, uint32_t ssrc)
{
	int g = duet_srtp_gone_find(x, ssrc);
	unsigned int last;

	if (g < 0)
		return;
	last = --x->e_n_gone;
	if ((unsigned int)g != last) {
		x->e_gone[g] = x->e_gone[last];
		x->est[DUET_SRTP_E_GONE0 + g] = x->est[DUET_SRTP_E_GONE0 + last];
	}
}

/* Burst engine: the stream ssrc starts with in x when it is not in the
 * table: its own if it was evicted under this key, else a fresh one. */
static inline void
duet_srtp_e_start(const struct duet_srtp_sess *x, uint32_t ssrc, struct duet_srtpe_stream *s)
{
	int g = duet_srtp_gone_find(x, ssrc);

	if (g >= 0)
		*s = x->est[DUET_SRTP_E_GONE0 + g];
	else
		duet_srtpe_stream_init(s);
}

/* The direction's sessions, read once: in, in_prev (NULL when it is
 * `in` itself) and out. A rotation may move `in` to in_prev meanwhile: a
 * caller that works on every session uses one reading throughout, so that
 * no session is met twice. */
static inline void
duet_srtp_ctx_sessions(const struct duet_srtp_ctx *d, struct duet_srtp_sess *x[3])
{
	x[0] = __atomic_load_n(&d->in, __ATOMIC_ACQUIRE);
	x[1] = __atomic_load_n(&d->in_prev, __ATOMIC_ACQUIRE);
	x[2] = __atomic_load_n(&d->out, __ATOMIC_ACQUIRE);
	if (x[1] == x[0])
		x[1] = NULL;
}

/* Burst engine: the stream of ssrc, not in the direction's table, as x
 * has it (into *s): the fresh one if it is ssrc's (a packet of it went
 * through), else where ssrc starts (duet_srtp_e_start()). */
static inline void
duet_srtp_e_pending(const struct duet_srtp_sess *x, uint32_t ssrc, struct duet_srtpe_stream *s)
{
	if (x->e_has_fresh && x->e_fresh_ssrc == ssrc)
		*s = x->est[DUET_SRTP_E_FRESH];
	else
		duet_srtp_e_start(x, ssrc, s);
}

/* Burst engine: may the direction evict an SSRC? Not while one of its
 * sessions keeps DUET_SRTP_E_GONE evicted streams already (an evicted
 * stream is never forgotten under its key: a key rotation starts afresh). */
static inline bool
duet_srtp_gone_full(const struct duet_srtp_ctx *d)
{
	struct duet_srtp_sess *x[3];
	unsigned int j;

	duet_srtp_ctx_sessions(d, x);
	for (j = 0; j < 3; j++)
		if (x[j] != NULL && x[j]->ek != NULL && x[j]->e_n_gone >= DUET_SRTP_E_GONE)
			return true;
	return false;
}

/* Burst engine: table entry `victim` (ssrc) is evicted: x keeps its
 * stream, if it took any packet. */
static inline void
duet_srtp_sess_evict(struct duet_srtp_sess *x, unsigned int victim, uint32_t ssrc)
{
	int g;

	if (x == NULL || x->ek == NULL || x->est[victim].flags == 0)
		return;
	g = duet_srtp_gone_find(x, ssrc);
	if (g < 0) {
		if (x->e_n_gone >= DUET_SRTP_E_GONE)
			return; /* duet_srtp_admit() refused the eviction then */
		g = x->e_n_gone++;
		x->e_gone[g] = ssrc;
	}
	x->est[DUET_SRTP_E_GONE0 + g] = x->est[victim];
}

/* Burst engine: the table entry `from` moved to `to` (an eviction fills
 * the victim's entry with the last one). */
static inline void
duet_srtp_sess_move(struct duet_srtp_sess *x, unsigned int to, unsigned int from)
{
	if (x == NULL || x->ek == NULL || to == from)
		return;
	x->est[to] = x->est[from];
}

/* Burst engine: ssrc got table entry n; its stream is the fresh one if
 * the session has it, else a new one. */
static inline void
duet_srtp_sess_admit(struct duet_srtp_sess *x, unsigned int n, uint32_t ssrc)
{
	if (x == NULL || x->ek == NULL)
		return;
	duet_srtp_e_pending(x, ssrc, &x->est[n]);
	if (x->e_fresh_ssrc == ssrc)
		x->e_has_fresh = 0;
	duet_srtp_gone_drop(x, ssrc);
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
 * packet, fills nothing either. On the burst engine, the evicted SSRC's
 * streams are kept under their keys (DUET_SRTP_E_GONE of them a session)
 * so that it goes on where it was if it comes back; while a session keeps
 * that many, nothing more is evicted until a key rotation (the packet is
 * refused). The caller holds the direction.
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
	if (duet_srtp_gone_full(d))
		return -ENOSPC;
	*victim = (int)oldest;
	return DUET_SRTP_ADMIT_NEW;
}

/* Enter and leave the writer side of state_seq (the direction's holder). */
static inline void
duet_srtp_track_begin(struct duet_srtp_ctx *d)
{
	__atomic_store_n(&d->state_seq, d->state_seq + 1, __ATOMIC_RELAXED);
	/* The odd count must be visible before any store it covers. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void
duet_srtp_track_end(struct duet_srtp_ctx *d)
{
	__atomic_store_n(&d->state_seq, d->state_seq + 1, __ATOMIC_RELEASE);
}

/**
 * RFC 3711 3.3.1: the packet index of sequence number seq in a stream
 * whose highest index is hi, guessed exactly as libsrtp2 2.5 guesses it
 * (srtp_rdbx_estimate_index: ROC 0 while hi <= 2^15, since a fresh
 * stream's highest index is 0). Any thread.
 */
static inline uint64_t
duet_srtp_estimate(uint64_t hi, uint16_t seq)
{
	uint32_t roc = (uint32_t)(hi >> 16);
	int s_l = (uint16_t)hi;

	if (hi <= 0x8000)
		return seq;
	if (s_l < 0x8000) {
		if ((int)seq - s_l > 0x8000)
			roc--;
	} else if (s_l - 0x8000 > (int)seq) {
		roc++;
	}
	return (uint64_t)roc << 16 | seq;
}

/* Index of ssrc in the direction's table, or -1. */
static inline int
duet_srtp_find(const struct duet_srtp_ctx *d, uint32_t ssrc)
{
	unsigned int i;

	for (i = 0; i < d->n_ssrc; i++)
		if (d->ssrcs[i].ssrc == ssrc)
			return (int)i;
	return -1;
}

/**
 * After an authentic packet: note its SSRC's time, or record the new SSRC
 * (with what the packet did to its streams), first removing the silent
 * stream duet_srtp_admit() chose from every session of the direction
 * (libsrtp2 frees it here: rare, a full table and a silent stream, and
 * libsrtp2 allocates for a new SSRC on this path anyway). The caller holds
 * the direction.
 * @param removed incremented for each stream removed
 */
static inline void
duet_srtp_admitted(struct duet_srtp_ctx *d, int idx, int victim, const uint8_t *p, int len,
		   uint64_t now, uint64_t *removed)
{
	struct duet_srtp_sess *x[3];
	unsigned int j;
	uint32_t ssrc;
	uint16_t n;

	if (idx >= 0) {
		d->ssrcs[idx].last_tsc = now;
		return;
	}
	if (len < 12)
		return;
	ssrc = duet_srtp_ssrc_of(p);
	n = d->n_ssrc;
	/* One reading of the sessions for every step below: a session met
	 * twice would have its new entry started twice (the second time
	 * without the stream the first took). One published later is new:
	 * all fresh anyway. */
	duet_srtp_ctx_sessions(d, x);
	duet_srtp_track_begin(d);
	if (victim >= 0 && victim < n) {
		uint32_t old = d->ssrcs[victim].ssrc;

		n--;
		for (j = 0; j < 3; j++) {
			duet_srtp_sess_drop_stream(x[j], old);
			duet_srtp_sess_evict(x[j], (unsigned int)victim, old);
			duet_srtp_sess_move(x[j], (unsigned int)victim, n);
		}
		d->ssrcs[victim] = d->ssrcs[n];
		d->track[victim] = d->track[n];
		(*removed)++;
	}
	if (n < DUET_SRTP_MAX_SSRC) {
		d->ssrcs[n].ssrc = ssrc;
		d->ssrcs[n].last_tsc = now;
		if (d->fresh_ssrc == ssrc)
			d->track[n] = d->fresh;
		else
			memset(&d->track[n], 0, sizeof(d->track[n]));
		for (j = 0; j < 3; j++)
			duet_srtp_sess_admit(x[j], n, ssrc);
		n++;
	}
	__atomic_store_n(&d->n_ssrc, n, __ATOMIC_RELAXED);
	duet_srtp_track_end(d);
}

/* The sender's previous key while its grace lasts, else NULL. */
static inline struct duet_srtp_sess *
duet_srtp_prev_live(const struct duet_srtp_ctx *d, uint64_t now_tsc)
{
	struct duet_srtp_sess *prev = __atomic_load_n(&d->in_prev, __ATOMIC_ACQUIRE);

	if (prev == NULL ||
	    (int64_t)(now_tsc - __atomic_load_n(&d->prev_until_tsc, __ATOMIC_RELAXED)) >= 0)
		return NULL;
	return prev;
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

/* A packet as the stream tracking sees it. */
struct duet_srtp_pkt {
	uint32_t ssrc;
	uint16_t seq; /* RTP sequence number */
	uint8_t rtcp;
	int track; /* its entry in the direction's table, or -1 */
};

/* Burst engine: the stream packet k works on in x: its table entry's,
 * or, for an SSRC not in the table, a copy in *tmp of its pending stream
 * (duet_srtp_e_pending()), kept by duet_srtp_e_keep() only once the
 * packet went through: a packet that fails changes nothing of x. Owner. */
static inline struct duet_srtpe_stream *
duet_srtp_e_stream(const struct duet_srtp_sess *x, const struct duet_srtp_pkt *k,
		   struct duet_srtpe_stream *tmp)
{
	if (k->track >= 0)
		return &x->est[k->track];
	duet_srtp_e_pending(x, k->ssrc, tmp);
	return tmp;
}

/* Burst engine: packet k went through on stream s (duet_srtp_e_stream()):
 * a copy becomes x's pending stream for k's SSRC. */
static inline void
duet_srtp_e_keep(struct duet_srtp_sess *x, const struct duet_srtp_pkt *k,
		 const struct duet_srtpe_stream *s)
{
	if (k->track >= 0)
		return;
	x->est[DUET_SRTP_E_FRESH] = *s;
	x->e_fresh_ssrc = k->ssrc;
	x->e_has_fresh = 1;
}

/* Burst engine: the RTP index of sequence number seq in stream s, as the
 * engine (and libsrtp2) estimates it. */
static inline uint64_t
duet_srtp_e_index(const struct duet_srtpe_stream *s, uint16_t seq)
{
	return (s->flags & DUET_SRTPE_STREAM_RTP) ? duet_srtp_estimate(s->rtp_index, seq) : seq;
}

/* Burst engine: the operation session x does on a packet it opens. */
static inline enum duet_srtpe_op
duet_srtp_e_open_op(const struct duet_srtp_sess *x, bool rtcp)
{
	if (rtcp)
		return x->verify_only ? DUET_SRTPE_SRTCP_VERIFY : DUET_SRTPE_SRTCP_UNPROTECT;
	return x->verify_only ? DUET_SRTPE_RTP_VERIFY : DUET_SRTPE_RTP_UNPROTECT;
}

/* Burst engine: fill one entry of a burst. */
static inline void
duet_srtp_e_fill(struct duet_srtpe_pkt *e, const struct duet_srtp_sess *x,
		 struct duet_srtpe_stream *s, enum duet_srtpe_op op, uint8_t *p, int len, int cap)
{
	e->key = x->ek;
	e->stream = s;
	e->p = p;
	e->len = (uint32_t)len;
	e->cap = (uint32_t)cap;
	e->op = (uint8_t)op;
	e->flags = x->e_flags;
	e->verdict = DUET_SRTPE_BAD;
	e->reserved = 0;
}

/* Burst engine: one packet alone through this thread's manager; *len is
 * the new length on DUET_SRTP_OK. */
static inline enum duet_srtp_verdict
duet_srtp_e_one(const struct duet_srtp_sess *x, struct duet_srtpe_stream *s,
		enum duet_srtpe_op op, uint8_t *p, int *len, int cap)
{
	struct duet_srtpe_pkt e;

	if (duet_srtp_mgr == NULL)
		return DUET_SRTP_BAD;
	duet_srtp_e_fill(&e, x, s, op, p, *len, cap);
	(void)duet_srtpe_burst(duet_srtp_mgr, &e, 1);
	if (e.verdict == DUET_SRTPE_OK)
		*len = (int)e.len;
	return (enum duet_srtp_verdict)e.verdict;
}

/* Burst engine's duet_srtp_try(): open k with x on a copy in scratch
 * (verify: authenticate and check only). *index: the packet's RTP index,
 * or the stream's highest SRTCP index after an authentic SRTCP packet. */
static inline enum duet_srtp_verdict
duet_srtp_e_try(struct duet_srtp_sess *x, const struct duet_srtp_pkt *k, const uint8_t *p,
		int *len, uint8_t *scratch, uint64_t *index)
{
	/* An SSRC not in the table works on a copy, kept only if the packet
	 * authenticates: a packet without the key never resets the stream of
	 * another new SSRC that did. */
	struct duet_srtpe_stream tmp, *s = duet_srtp_e_stream(x, k, &tmp);
	enum duet_srtp_verdict v;
	int l = *len;

	*index = k->rtcp ? 0 : duet_srtp_e_index(s, k->seq);
	memcpy(scratch, p, (size_t)l);
	v = duet_srtp_e_one(x, s, duet_srtp_e_open_op(x, k->rtcp), scratch, &l, l);
	if (v == DUET_SRTP_OK) {
		duet_srtp_e_keep(x, k, s);
		if (k->rtcp)
			*index = s->srtcp_index;
		*len = l;
	}
	return v;
}

/* The SRTCP index (31 bits) of p when its E+index word sits `tail` bytes
 * from its end, or -1 when p is too short to carry one (libsrtp2 refuses
 * it then). */
static inline int64_t
duet_srtp_srtcp_index_at(unsigned int tail, const uint8_t *p, int len)
{
	const uint8_t *w;

	if (len < 8 + (int)tail)
		return -1;
	w = p + len - tail;
	return ((uint32_t)w[0] << 24 | (uint32_t)w[1] << 16 | (uint32_t)w[2] << 8 | w[3]) &
	       0x7fffffffu;
}

/* The SRTCP index of p as session x's suite lays it out (RFC), or -1. */
static inline int64_t
duet_srtp_srtcp_index(const struct duet_srtp_sess *x, const uint8_t *p, int len)
{
	return duet_srtp_srtcp_index_at(x->srtcp_tail, p, len);
}

/*
 * Before session x handles k (RTP): the packet's index in the stream of x
 * that s describes (*index), and the checks of a restored stream: at or
 * below the floor is a replay (refused before unprotecting; never
 * protected); while libsrtp2's restored stream waits for its first packet
 * it is told the ROC, so a sequence that wrapped while duetd was down is
 * followed too. When s describes no stream of x (s NULL: a new SSRC, or
 * another session's), x's stream is fresh (libsrtp2 made it, or will, from
 * the session's template), so its index is the sequence number.
 */
/* The index of RTP sequence number seq in track stream s, as session id
 * reckons it: estimated against the highest if s is id's, else seq (a
 * fresh stream). */
static inline uint64_t
duet_srtp_track_index(const struct duet_srtp_stream *s, uint32_t id, uint16_t seq)
{
	return s->id == id && (s->flags & DUET_SRTP_STREAM_HI) ? duet_srtp_estimate(s->hi, seq)
							       : seq;
}

static inline enum duet_srtp_verdict
duet_srtp_stream_check(const struct duet_srtp_stream *s, const struct duet_srtp_sess *x,
		       const struct duet_srtp_pkt *k, uint64_t *index)
{
	if (s == NULL || s->id != x->id) {
		*index = k->seq;
		return DUET_SRTP_OK;
	}
	*index = duet_srtp_track_index(s, x->id, k->seq);
	if ((s->flags & DUET_SRTP_STREAM_FLOOR) && *index <= s->floor)
		return DUET_SRTP_REPLAY;
	if (s->flags & DUET_SRTP_STREAM_PENDING)
		(void)srtp_set_stream_roc(x->s, k->ssrc, (uint32_t)(*index >> 16));
	return DUET_SRTP_OK;
}

/* Before the sender's session x opens k: the index (SRTCP: the one the
 * packet carries, its E+index word `tail` bytes from the end) and the
 * floor, as duet_srtp_stream_check(). */
static inline enum duet_srtp_verdict
duet_srtp_in_check(const struct duet_srtp_ctx *d, const struct duet_srtp_sess *x,
		   unsigned int tail, const struct duet_srtp_pkt *k, const uint8_t *p, int len,
		   uint64_t *index)
{
	const struct duet_srtp_track *e = k->track >= 0 ? &d->track[k->track] : NULL;
	int64_t i;

	if (!k->rtcp)
		return duet_srtp_stream_check(e != NULL ? &e->in : NULL, x, k, index);
	i = duet_srtp_srtcp_index_at(tail, p, len);
	*index = (uint64_t)i;
	if (e != NULL && e->in.id == x->id && (e->srtcp_flags & DUET_SRTP_STREAM_FLOOR) &&
	    i >= 0 && i <= (int64_t)e->srtcp_floor)
		return DUET_SRTP_REPLAY;
	return DUET_SRTP_OK;
}

/* Raise a highest index the control thread reads: relaxed, or under
 * state_seq when the ROC changes (so the change is seen and counted). */
static inline void
duet_srtp_raise(struct duet_srtp_ctx *d, uint64_t *hi, uint64_t index)
{
	if (index <= *hi)
		return;
	if ((index >> 16) == (*hi >> 16)) {
		__atomic_store_n(hi, index, __ATOMIC_RELAXED);
		return;
	}
	duet_srtp_track_begin(d);
	__atomic_store_n(hi, index, __ATOMIC_RELAXED);
	duet_srtp_track_end(d);
}

/* Session `id` handled a packet at `index` of stream s: move it on, or
 * start it (a first packet, or a new session), under state_seq when the
 * track is in the table (live) rather than the scratch `fresh`. */
static inline void
duet_srtp_stream_note(struct duet_srtp_ctx *d, struct duet_srtp_stream *s, uint32_t id,
		      bool live, uint64_t index)
{
	if (live && s->id == id && (s->flags & (DUET_SRTP_STREAM_HI | DUET_SRTP_STREAM_PENDING)) ==
					   DUET_SRTP_STREAM_HI) {
		duet_srtp_raise(d, &s->hi, index);
		return;
	}
	if (live)
		duet_srtp_track_begin(d);
	if (s->id != id) {
		s->id = id;
		s->flags = 0;
	}
	if (!(s->flags & DUET_SRTP_STREAM_HI) || index > s->hi)
		__atomic_store_n(&s->hi, index, __ATOMIC_RELAXED);
	s->flags = (s->flags | DUET_SRTP_STREAM_HI) & ~DUET_SRTP_STREAM_PENDING;
	if (live)
		duet_srtp_track_end(d);
}

/*
 * The sender's session x (current: it is the direction's `in`, not
 * in_prev) authenticated k at `index`: move the track. A track of another
 * session starts afresh at `in`'s streams and ignores any other session;
 * a new SSRC's goes to the scratch `fresh` for duet_srtp_admitted().
 */
static inline void
duet_srtp_in_note(struct duet_srtp_ctx *d, const struct duet_srtp_sess *x, bool current,
		  const struct duet_srtp_pkt *k, uint64_t index)
{
	bool live = k->track >= 0;
	struct duet_srtp_track *e;

	if (!live) {
		memset(&d->fresh, 0, sizeof(d->fresh));
		d->fresh_ssrc = k->ssrc;
	}
	e = live ? &d->track[k->track] : &d->fresh;
	if (e->in.id != x->id) {
		if (!current)
			return;
		/* The SRTCP index goes with the inbound session too. */
		if (live)
			duet_srtp_track_begin(d);
		e->in.id = x->id;
		e->in.flags = 0;
		e->srtcp_flags = 0;
		if (live)
			duet_srtp_track_end(d);
	}
	if (!k->rtcp) {
		duet_srtp_stream_note(d, &e->in, x->id, live, index);
	} else if (e->srtcp_flags & DUET_SRTP_STREAM_HI) {
		if ((uint32_t)index > e->srtcp_hi)
			__atomic_store_n(&e->srtcp_hi, (uint32_t)index, __ATOMIC_RELAXED);
	} else {
		if (live)
			duet_srtp_track_begin(d);
		e->srtcp_hi = (uint32_t)index;
		e->srtcp_flags |= DUET_SRTP_STREAM_HI;
		if (live)
			duet_srtp_track_end(d);
	}
}

/*
 * Open k with the sender's session x on a copy in `scratch`, after the
 * checks of duet_srtp_in_check(): *len in, the opened length out (on
 * DUET_SRTP_OK), *index the packet's index. libsrtp2 wants 32-bit aligned
 * packets, and an mbuf's UDP payload sits 2 bytes off that (14 + 20 + 8 =
 * 42): the scratch buffer is aligned, the mbuf is never touched here.
 * SRTCP that fails the suite's RFC layout is tried again in s32's layout
 * when x has one (see the file comment): the index and floor are then read
 * where that layout keeps them.
 */
static inline enum duet_srtp_verdict
duet_srtp_try(const struct duet_srtp_ctx *d, struct duet_srtp_sess *x,
	      const struct duet_srtp_pkt *k, const uint8_t *p, int *len, uint8_t *scratch,
	      uint64_t *index)
{
	uint8_t layout = x->s32 != NULL && k->rtcp ? x->srtcp_layout : DUET_SRTP_LAYOUT_RFC;
	enum duet_srtp_verdict v = DUET_SRTP_BAD, v32;
	uint64_t i32;
	int l = *len;

	if (x->ek != NULL)
		return duet_srtp_e_try(x, k, p, len, scratch, index);
	if (layout != DUET_SRTP_LAYOUT_32) {
		v = duet_srtp_in_check(d, x, x->srtcp_tail, k, p, l, index);
		if (v == DUET_SRTP_OK) {
			memcpy(scratch, p, (size_t)l);
			v = duet_srtp_unprotect(x, k->rtcp, scratch, &l);
		}
		if (v == DUET_SRTP_OK && layout == DUET_SRTP_LAYOUT_UNKNOWN)
			x->srtcp_layout = DUET_SRTP_LAYOUT_RFC;
	}
	if (v != DUET_SRTP_OK && layout != DUET_SRTP_LAYOUT_RFC) {
		l = *len;
		v32 = duet_srtp_in_check(d, x, DUET_SRTP_SRTCP_TAIL_32, k, p, l, &i32);
		if (v32 == DUET_SRTP_OK) {
			memcpy(scratch, p, (size_t)l);
			v32 = duet_srtp_status(srtp_unprotect_rtcp(x->s32, scratch, &l));
		}
		/* The RFC attempt read its E+index word from inside this
		 * layout's ciphertext (libsrtp2 calls a wrong E flag
		 * malformed): this layout's verdict counts unless it is the
		 * one that cannot parse the packet. */
		if (v32 == DUET_SRTP_OK || v32 == DUET_SRTP_REPLAY || v == DUET_SRTP_BAD) {
			v = v32;
			*index = i32;
		}
		if (v32 == DUET_SRTP_OK)
			x->srtcp_layout = DUET_SRTP_LAYOUT_32;
	}
	if (v == DUET_SRTP_OK)
		*len = l;
	return v;
}

/*
 * Open the packet with the sender's current session, then (on a failure
 * only) with its previous one while the rotation grace lasts; a key past
 * its lifetime is not tried (duet_srtp_life.h) and the packet is
 * DUET_SRTP_KEY_EXPIRED unless another key opens it. On DUET_SRTP_OK *len
 * is the plaintext length in scratch, the key's use is counted and the
 * packet's streams are tracked. k is filled in for the caller (len >= 12).
 */
static inline enum duet_srtp_verdict
duet_srtp_open(struct duet_srtp_ctx *d, bool rtcp, const uint8_t *p, int *len, uint8_t *scratch,
	       uint64_t now_tsc, struct duet_srtp_pkt *k)
{
	struct duet_srtp_sess *in = __atomic_load_n(&d->in, __ATOMIC_ACQUIRE);
	struct duet_srtp_sess *prev;
	enum duet_srtp_verdict v;
	uint64_t index;
	int l = *len;

	if (in == NULL)
		return DUET_SRTP_NO_KEY;
	k->ssrc = duet_srtp_ssrc_of(p);
	k->seq = (uint16_t)(p[2] << 8 | p[3]);
	k->rtcp = rtcp;
	k->track = duet_srtp_find(d, k->ssrc);
	if (!duet_srtp_life_left(&in->life, rtcp)) {
		v = DUET_SRTP_KEY_EXPIRED;
	} else {
		v = duet_srtp_try(d, in, k, p, &l, scratch, &index);
		if (v == DUET_SRTP_OK) {
			duet_srtp_life_use(&in->life, rtcp);
			duet_srtp_in_note(d, in, true, k, index);
		}
	}
	/* Any failure may be an old-key packet: with another suite the new
	 * session may call it malformed (SRTCP's E bit is elsewhere), and
	 * its replay check runs before authentication. */
	if (v != DUET_SRTP_OK) {
		prev = duet_srtp_prev_live(d, now_tsc);
		if (prev != NULL) {
			enum duet_srtp_verdict pv;

			if (!duet_srtp_life_left(&prev->life, rtcp)) {
				/* Unchecked, as the current key's would be. */
				pv = DUET_SRTP_KEY_EXPIRED;
				if (v == DUET_SRTP_AUTH || v == DUET_SRTP_BAD) {
					duet_srtp_life_refuse(&prev->life);
					v = pv;
				}
			} else {
				l = *len;
				pv = duet_srtp_try(d, prev, k, p, &l, scratch, &index);
				if (pv == DUET_SRTP_OK) {
					duet_srtp_life_use(&prev->life, rtcp);
					duet_srtp_in_note(d, prev, false, k, index);
				}
				if (pv == DUET_SRTP_OK || pv == DUET_SRTP_REPLAY)
					v = pv;
			}
		}
	}
	if (v == DUET_SRTP_KEY_EXPIRED && !duet_srtp_life_left(&in->life, rtcp))
		duet_srtp_life_refuse(&in->life);
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
 * Verify mode: authenticate the packet and check its replay window (and a
 * restored stream's floor) and its key's lifetime; the packet itself is
 * never changed. The check
 * runs on an aligned copy in `scratch` (this lcore's, DUET_SRTP_SCRATCH
 * bytes, 32-bit aligned): for AES-CM RTP with an authentication-only
 * session (nothing is decrypted); GCM RTP and SRTCP can only be checked by
 * decrypting, and the copy is wiped at once. The caller holds the
 * direction (duet_srtp_ctx_take).
 */
static inline enum duet_srtp_verdict
duet_srtp_verify(struct duet_srtp_ctx *d, const uint8_t *p, int len, uint8_t *scratch,
		 uint64_t now_tsc)
{
	struct duet_srtp_pkt k;
	enum duet_srtp_verdict v;
	int l = len;

	if (len < 12 || len > DUET_SRTP_MAX_PKT)
		return DUET_SRTP_BAD;
	v = duet_srtp_open(d, duet_srtp_is_rtcp(p), p, &l, scratch, now_tsc, &k);
	duet_srtp_wipe(scratch, len);
	return v;
}

/**
 * Rekey mode: decrypt with the sender's key and encrypt with the
 * receiver's, through the aligned `scratch` copy, and write the result
 * back at p. A receiver's key past its lifetime refuses the packet
 * (DUET_SRTP_KEY_EXPIRED) before the sender's is tried. `cap` is the room
 * at p (the new packet may be longer: suites differ in tag length). On DUET_SRTP_OK *len is the new length. The
 * caller holds the direction.
 */
static inline enum duet_srtp_verdict
duet_srtp_rekey(struct duet_srtp_ctx *d, uint8_t *p, int *len, int cap, uint8_t *scratch,
		uint64_t now_tsc)
{
	struct duet_srtp_sess *out = __atomic_load_n(&d->out, __ATOMIC_ACQUIRE);
	struct duet_srtp_pkt k;
	enum duet_srtp_verdict v;
	srtp_err_status_t st;
	uint64_t index = 0;
	bool rtcp;
	int l = *len, orig = *len;

	if (l < 12 || l > DUET_SRTP_MAX_PKT)
		return DUET_SRTP_BAD;
	if (out == NULL)
		return DUET_SRTP_NO_KEY;
	rtcp = duet_srtp_is_rtcp(p);
	/* The receiver's key past its lifetime: nothing to open for. */
	if (!duet_srtp_life_left(&out->life, rtcp)) {
		duet_srtp_life_refuse(&out->life);
		return DUET_SRTP_KEY_EXPIRED;
	}
	v = duet_srtp_open(d, rtcp, p, &l, scratch, now_tsc, &k);
	if (v != DUET_SRTP_OK)
		goto out;
	if (l + DUET_SRTP_MAX_OVERHEAD > cap) {
		v = DUET_SRTP_BAD;
		goto out;
	}
	if (out->ek != NULL) {
		struct duet_srtpe_stream otmp, *os = duet_srtp_e_stream(out, &k, &otmp);

		index = rtcp ? 0 : duet_srtp_e_index(os, k.seq);
		v = duet_srtp_e_one(out, os,
				    rtcp ? DUET_SRTPE_SRTCP_PROTECT : DUET_SRTPE_RTP_PROTECT,
				    scratch, &l, DUET_SRTP_SCRATCH);
		if (v == DUET_SRTP_OK)
			duet_srtp_e_keep(out, &k, os);
		/* An index that went out before (a restored stream's floor, or
		 * a replay across a key rotation) is a replay, as on libsrtp2. */
		if (v != DUET_SRTP_OK) {
			v = v == DUET_SRTP_REPLAY ? DUET_SRTP_REPLAY : DUET_SRTP_PROTECT;
			goto out;
		}
	} else {
		/* SRTCP carries its own index, which the new stream starts
		 * again (libsrtp2 has no call to set it): nothing to track. */
		if (!rtcp) {
			v = duet_srtp_stream_check(k.track >= 0 ? &d->track[k.track].out : NULL,
						   out, &k, &index);
			if (v != DUET_SRTP_OK)
				goto out;
		}
		st = rtcp ? srtp_protect_rtcp(out->s, scratch, &l)
			  : srtp_protect(out->s, scratch, &l);
		if (st != srtp_err_status_ok) {
			v = DUET_SRTP_PROTECT;
			goto out;
		}
	}
	duet_srtp_life_use(&out->life, rtcp);
	if (!rtcp)
		duet_srtp_stream_note(d, k.track >= 0 ? &d->track[k.track].out : &d->fresh.out,
				      out->id, k.track >= 0, index);
	memcpy(p, scratch, (size_t)l);
	*len = l;
out:
	/* Plaintext and new packet both fit in what came plus the overhead. */
	duet_srtp_wipe(scratch, orig + DUET_SRTP_MAX_OVERHEAD);
	return v;
}

/*
 * Batches (burst engine). A worker gathers the steady-state packets of a
 * burst, opens them all with one duet_srtpe_burst() call and, in rekey,
 * seals the authentic ones with a second. A packet joins a batch only
 * when nothing but the crypto can go wrong with it in a way the one-at-a-
 * time path would handle differently: its direction is held by the
 * worker, it is RTP of an SSRC already in the direction's table, the
 * sender has no previous key in its grace period, and the keys it needs
 * have life left. Everything else goes through duet_srtp_verify() or
 * duet_srtp_rekey(), after the batch so far (the worker flushes first).
 * The outcome is the one-at-a-time path's: same verdicts, counts, tracks
 * and lifetimes, in the packets' order (a key that runs out inside a
 * batch refuses the packets past its end as DUET_SRTP_KEY_EXPIRED). Two
 * differences, both on the safe side: a packet whose crypto ran before
 * its key was found spent has moved its replay window (it is dropped all
 * the same), and a seal counts against the receiver's key as it is
 * prepared, so one that fails (a replay toward the receiver) may refuse a
 * later packet of the same batch at the very end of the key's life.
 */

/** A packet of a batch, as the SRTP side keeps it between the steps. */
struct duet_srtp_bpkt {
	struct duet_srtp_ctx *d;
	struct duet_srtp_sess *in;  /**< the sender's current key */
	struct duet_srtp_sess *out; /**< the receiver's key (rekey and sealed), else NULL */
	struct duet_srtp_pkt k;
	uint64_t index_out;	    /**< rekey: the packet's index toward the receiver */
};

/**
 * May this packet (len bytes at p, cap writable) join a batch, and if so
 * fill its engine entry e (opened in place: verified, or unprotected when
 * seal) and b. The caller holds d. seal: rekey, and the packet is to be
 * re-protected toward the receiver. Worker lcore.
 */
static inline bool
duet_srtp_batch_open(struct duet_srtp_ctx *d, uint8_t *p, int len, bool seal, uint64_t now_tsc,
		     struct duet_srtp_bpkt *b, struct duet_srtpe_pkt *e)
{
	struct duet_srtp_sess *in = __atomic_load_n(&d->in, __ATOMIC_ACQUIRE);
	struct duet_srtp_sess *out = NULL;
	int track;

	if (len < 12 || len > DUET_SRTP_MAX_PKT || duet_srtp_is_rtcp(p) || in == NULL ||
	    in->ek == NULL || !duet_srtp_life_left(&in->life, false))
		return false;
	if (duet_srtp_prev_live(d, now_tsc) != NULL)
		return false;
	if (seal) {
		out = __atomic_load_n(&d->out, __ATOMIC_ACQUIRE);
		if (out == NULL || out->ek == NULL || !duet_srtp_life_left(&out->life, false))
			return false;
	}
	track = duet_srtp_find(d, duet_srtp_ssrc_of(p));
	if (track < 0)
		return false;
	b->d = d;
	b->in = in;
	b->out = out;
	b->k.ssrc = duet_srtp_ssrc_of(p);
	b->k.seq = (uint16_t)(p[2] << 8 | p[3]);
	b->k.rtcp = 0;
	b->k.track = track;
	b->index_out = 0;
	duet_srtp_e_fill(e, in, &in->est[track],
			 seal ? DUET_SRTPE_RTP_UNPROTECT : DUET_SRTPE_RTP_VERIFY, p, len, len);
	/* The batch runs after the rest of the burst: start the loads of the
	 * keys' first lines and the streams now (duet_srtpe_burst() asks for
	 * the rest; asking for every key line of a burst here measured slower:
	 * more lines than the core keeps in flight). */
	__builtin_prefetch(in->ek, 0, 3);
	__builtin_prefetch(&in->est[track], 1, 3);
	if (out != NULL) {
		__builtin_prefetch(out->ek, 0, 3);
		__builtin_prefetch(&out->est[track], 1, 3);
	}
	return true;
}

/**
 * After the engine opened a batch: the verdict of entry e, in batch order.
 * On DUET_SRTP_OK the key's use is counted and the stream tracked; *len is
 * the opened length. The caller wipes a packet
 * that was unprotected and is not sent. Worker lcore, holding b->d.
 */
static inline enum duet_srtp_verdict
duet_srtp_batch_opened(struct duet_srtp_bpkt *b, const struct duet_srtpe_pkt *e, int *len)
{
	struct duet_srtp_ctx *d = b->d;
	uint64_t index;

	if (e->verdict != DUET_SRTPE_OK)
		return (enum duet_srtp_verdict)e->verdict;
	/* The receiver's key past its lifetime refuses the packet before the
	 * sender's is charged, as duet_srtp_rekey() does (earlier packets of
	 * the batch are counted in it already: duet_srtp_batch_seal()). */
	if (b->out != NULL && !duet_srtp_life_left(&b->out->life, false)) {
		duet_srtp_life_refuse(&b->out->life);
		return DUET_SRTP_KEY_EXPIRED;
	}
	if (!duet_srtp_life_left(&b->in->life, false)) {
		duet_srtp_life_refuse(&b->in->life);
		return DUET_SRTP_KEY_EXPIRED;
	}
	duet_srtp_life_use(&b->in->life, false);
	index = duet_srtp_track_index(&d->track[b->k.track].in, b->in->id, b->k.seq);
	duet_srtp_in_note(d, b->in, true, &b->k, index);
	*len = (int)e->len;
	return DUET_SRTP_OK;
}

/** A packet of the batch went through (opened, and sealed in rekey): its
 * SSRC was heard now, as duet_srtp_admitted() notes it. */
static inline void
duet_srtp_batch_done(struct duet_srtp_bpkt *b, uint64_t now_tsc)
{
	b->d->ssrcs[b->k.track].last_tsc = now_tsc;
}

/**
 * Rekey, an opened packet of len bytes at p with cap writable: fill e to
 * seal it toward the receiver, or refuse it (its key past its lifetime,
 * no room). Worker lcore, holding b->d.
 */
static inline enum duet_srtp_verdict
duet_srtp_batch_seal(struct duet_srtp_bpkt *b, uint8_t *p, int len, int cap,
		     struct duet_srtpe_pkt *e)
{
	struct duet_srtp_sess *out = b->out;

	if (!duet_srtp_life_left(&out->life, false)) {
		duet_srtp_life_refuse(&out->life);
		return DUET_SRTP_KEY_EXPIRED;
	}
	if (len + DUET_SRTP_MAX_OVERHEAD > cap)
		return DUET_SRTP_BAD;
	b->index_out = duet_srtp_track_index(&b->d->track[b->k.track].out, out->id, b->k.seq);
	duet_srtp_e_fill(e, out, &out->est[b->k.track], DUET_SRTPE_RTP_PROTECT, p, len, cap);
	/* Counted now, so the batch's later packets see it; taken back if
	 * the seal fails (duet_srtp_batch_sealed()). */
	duet_srtp_life_use(&out->life, false);
	return DUET_SRTP_OK;
}

/** After the engine sealed: DUET_SRTP_OK (the key's use counted, the
 * stream tracked, *len the new length), DUET_SRTP_REPLAY (the index went
 * out before) or DUET_SRTP_PROTECT. */
static inline enum duet_srtp_verdict
duet_srtp_batch_sealed(struct duet_srtp_bpkt *b, const struct duet_srtpe_pkt *e, int *len)
{
	if (e->verdict != DUET_SRTPE_OK) {
		__atomic_store_n(&b->out->life.used[0], b->out->life.used[0] - 1, __ATOMIC_RELAXED);
		return e->verdict == DUET_SRTPE_REPLAY ? DUET_SRTP_REPLAY : DUET_SRTP_PROTECT;
	}
	duet_srtp_stream_note(b->d, &b->d->track[b->k.track].out, b->out->id, true, b->index_out);
	*len = (int)e->len;
	return DUET_SRTP_OK;
}

#endif /* DUET_SRTP_FP_H */
