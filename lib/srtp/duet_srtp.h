/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SRTP sessions: one SRTP+SRTCP session per direction of a key, built
 * from a parsed SDES value, on libsrtp2 or on lib/srtpe's burst engine
 * (duet_srtp_engine_set(), once, before any session is made). Sessions
 * are made and freed on a slow path
 * (duetd's control thread, duet-caller's setup); using one is confined to a
 * single thread at a time (libsrtp2 sessions are not thread-safe): in duetd
 * the rule is written in docs/design.md and enforced by lib/pair's
 * direction owner flag.
 */
#ifndef DUET_SRTP_H
#define DUET_SRTP_H

#include <stdbool.h>
#include <stdint.h>
#include <srtp2/srtp.h>

#include "duet_sdes.h"

/** Which way a session works. */
enum duet_srtp_dir {
	DUET_SRTP_INBOUND = 0,  /**< unprotect (authenticate, replay check, decrypt) */
	DUET_SRTP_OUTBOUND = 1, /**< protect */
};

/** Replay window (packets) of every inbound session duet makes. */
#define DUET_SRTP_WINDOW 1024

/**
 * Initialise libsrtp2 once per process. Safe to call more than once.
 * @return 0, or -EIO if libsrtp2 refused
 */
int duet_srtp_init(void);

/**
 * Fill a libsrtp2 policy for a key: any SSRC, both SRTP and SRTCP, the
 * suite's RTP tag (SRTCP always uses the 80-bit tag for the HMAC suites, as
 * RFC 4568 says). The policy points into k: keep k alive until the session
 * is made.
 */
void duet_srtp_policy(const struct duet_sdes *k, enum duet_srtp_dir dir, srtp_policy_t *p);

/**
 * Make a session for one key and direction.
 * @param out  the session; NULL on error
 * @return 0, -EINVAL for a key libsrtp2 refuses, -ENOMEM
 */
int duet_srtp_session_new(const struct duet_sdes *k, enum duet_srtp_dir dir, srtp_t *out);

/** Free a session (libsrtp2 wipes its keys). NULL is a no-op. */
void duet_srtp_session_free(srtp_t s);

/** Which implementation the fast-path sessions use ([srtp] engine). */
enum duet_srtp_engine {
	DUET_SRTP_ENGINE_LIBSRTP2 = 0, /**< libsrtp2, one packet at a time */
	DUET_SRTP_ENGINE_BURST,	       /**< lib/srtpe on intel-ipsec-mb, bursts */
};

/** True when this CPU has what the burst engine needs (AES-NI and
 * PCLMULQDQ). Any thread. */
bool duet_srtp_engine_cpu_ok(void);

/**
 * Choose the implementation of the fast-path sessions made from now on
 * (duet_srtp_sess_new()). Process-wide; set it once at start, before any
 * session exists: a direction's sessions must all be of one kind.
 * @return 0, or -ENOTSUP for the burst engine on a CPU without AES-NI
 */
int duet_srtp_engine_set(enum duet_srtp_engine e);

/** The implementation new sessions get. Any thread. */
enum duet_srtp_engine duet_srtp_engine_get(void);

/**
 * Give the calling thread its burst-engine manager (an IMB_MGR, see
 * duet_srtp_fp.h's duet_srtp_mgr): every worker lcore calls it before it
 * handles a packet of a burst-engine session; duet_srtp_sess_new() calls
 * it for the control thread. No-op when the thread has one. Slow path.
 * @return 0, -ENOTSUP (CPU), -ENOMEM
 */
int duet_srtp_lcore_init(void);

/** Free the calling thread's manager (none: no-op). Slow path, when the
 * thread handles no more packets. */
void duet_srtp_lcore_fini(void);

/**
 * Where burst-engine session blocks come from: alloc(size) returns size
 * bytes, 64-byte aligned, or NULL; release frees one. Until set (or set to
 * NULL, NULL): aligned_alloc and free. lib/pair gives DPDK's heap when it
 * makes a pair table, so that duetd's keys and streams sit on hugepages
 * (fewer TLB misses with many pairs). A session keeps the release it was
 * made with, so changing this later is safe. Slow path.
 */
void duet_srtp_set_alloc(void *(*alloc)(size_t size), void (*release)(void *p));

struct duet_srtp_sess;

/**
 * Make a fast-path session (struct duet_srtp_sess, duet_srtp_fp.h), its
 * key-lifetime count started at 0 with k->lifetime, of the kind
 * duet_srtp_engine_get() says. On libsrtp2, an inbound session of
 * AES_CM_128_HMAC_SHA1_32 also gets a second libsrtp2 session whose SRTCP
 * tag is 32 bits (ffmpeg's layout, tried when the RFC's 80-bit one fails);
 * on the burst engine, the session, its keys (struct duet_srtpe_key) and
 * one stream per entry of the direction's SSRC table (and one for an SSRC
 * not in it yet) are a single 64-byte-aligned allocation.
 * @param verify_only  inbound session for verify mode: for the AES-CM
 *                     suites its RTP side only checks the tag and never
 *                     decrypts (SRTCP and GCM still need to decrypt)
 * @return the session, or NULL with errno set (EINVAL, ENOMEM). Slow path.
 */
struct duet_srtp_sess *duet_srtp_sess_new(const struct duet_sdes *k, enum duet_srtp_dir dir,
					  bool verify_only);

/** Free a fast-path session. NULL is a no-op. Slow path, after RCU. */
void duet_srtp_sess_free(struct duet_srtp_sess *x);

/**
 * The policy duet_srtp_sess_new() makes a session with (duet_srtp_policy(),
 * and the RTP side authentication-only when auth_only), for a stream added
 * to it later. Points into k, as duet_srtp_policy(). Any thread.
 */
void duet_srtp_sess_policy(const struct duet_sdes *k, enum duet_srtp_dir dir, bool auth_only,
			   srtp_policy_t *p);

struct duet_srtp_ctx;

/* struct duet_srtp_ssrc_state.has */
#define DUET_SRTP_HAS_RTP_IN 0x1   /**< rtp_in is set */
#define DUET_SRTP_HAS_RTP_OUT 0x2  /**< rtp_out is set */
#define DUET_SRTP_HAS_SRTCP_IN 0x4 /**< srtcp_in is set */

/**
 * How far one SSRC's streams got in a direction: what a restart needs to
 * continue them (not secret). RTP indexes are RFC 3711 packet indexes,
 * ROC << 16 | SEQ.
 */
struct duet_srtp_ssrc_state {
	uint64_t rtp_in;   /**< highest RTP index authenticated from the sender */
	uint64_t rtp_out;  /**< highest RTP index protected toward the receiver (rekey) */
	uint32_t ssrc;	   /**< host order */
	uint32_t srtcp_in; /**< highest SRTCP index authenticated from the sender */
	uint32_t has;	   /**< DUET_SRTP_HAS_* */
	uint32_t reserved;
};

/**
 * Read how far each SSRC's streams of a direction got, as its current
 * sessions (`in`, `out`) hold them; SSRCs with nothing to say of the
 * current sessions (only seen under a previous key) are left out. A
 * consistent copy (seqcount); the highest indexes may be a few packets
 * old by the time the caller looks. Control thread (or any thread that
 * keeps d's sessions from being replaced meanwhile), while the workers run.
 * @param out  up to max entries (DUET_SRTP_MAX_SSRC is always enough)
 * @param gen  (may be NULL) the direction's change count: it moves when an
 *             SSRC comes or goes and when a stream's ROC changes
 * @return the number of entries, -ENOSPC when more than max, -EBUSY when a
 *         worker stayed inside its writer side throughout (try again later)
 */
int duet_srtp_ctx_read(const struct duet_srtp_ctx *d, struct duet_srtp_ssrc_state *out,
		       unsigned int max, uint32_t *gen);

/** The change count duet_srtp_ctx_read() gives, alone: one load. Any thread. */
uint32_t duet_srtp_ctx_gen(const struct duet_srtp_ctx *d);

/**
 * Make a direction continue one SSRC's streams from where a previous run
 * left them (issue 10: a restart). The inbound session gets a stream for
 * the SSRC (an ssrc_specific one with the same key) whose ROC is that of
 * st->rtp_in, and duet's floor, so that every RTP packet whose index is
 * <= rtp_in (and SRTCP packet <= srtcp_in) is a replay for good; in rekey
 * the outbound session's stream continues at rtp_out's ROC, and no index
 * <= rtp_out is protected again. The first packets after a restore are
 * estimated against the restored index (RFC 3711 3.3.1), so a sequence
 * that wrapped meanwhile is followed too.
 * Control thread, before d is reachable by any worker (its pair's
 * endpoints unpublished).
 * @param in_key   the key of d->in (the sender's)
 * @param out_key  the key of d->out (rekey), or NULL
 * @param now_tsc  the SSRC counts as heard from now (SSRC cap, silence)
 * @return 0; -EEXIST SSRC already there; -ENOSPC DUET_SRTP_MAX_SSRC taken;
 *         -EINVAL nothing to restore, an rtp_out without d->out, a key
 *         that is not the session's; -ENOMEM. On error d is unchanged.
 */
int duet_srtp_ctx_restore(struct duet_srtp_ctx *d, const struct duet_sdes *in_key,
			  const struct duet_sdes *out_key, const struct duet_srtp_ssrc_state *st,
			  uint64_t now_tsc);

/** True when a libsrtp2 status is a replay (rather than an auth) failure. */
static inline bool
duet_srtp_is_replay(srtp_err_status_t st)
{
	return st == srtp_err_status_replay_fail || st == srtp_err_status_replay_old;
}

#endif /* DUET_SRTP_H */
