/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libsrtp2 wrapper: one SRTP+SRTCP session per direction of a key, built
 * from a parsed SDES value. Sessions are made and freed on a slow path
 * (duetd's control thread, duet-caller's setup); using one is confined to a
 * single thread at a time (libsrtp2 sessions are not thread-safe): in duetd
 * the rule is written in docs/design.md and enforced by lib/pair's
 * direction owner flag.
 */
#ifndef DUET_SRTP_H
#define DUET_SRTP_H

#include <stdbool.h>
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

struct duet_srtp_sess;

/**
 * Make a fast-path session (struct duet_srtp_sess, duet_srtp_fp.h).
 * @param verify_only  inbound session for verify mode: for the AES-CM
 *                     suites its RTP side only checks the tag and never
 *                     decrypts (SRTCP and GCM still need to decrypt)
 * @return the session, or NULL with errno set (EINVAL, ENOMEM). Slow path.
 */
struct duet_srtp_sess *duet_srtp_sess_new(const struct duet_sdes *k, enum duet_srtp_dir dir,
					  bool verify_only);

/** Free a fast-path session. NULL is a no-op. Slow path, after RCU. */
void duet_srtp_sess_free(struct duet_srtp_sess *x);

/** True when a libsrtp2 status is a replay (rather than an auth) failure. */
static inline bool
duet_srtp_is_replay(srtp_err_status_t st)
{
	return st == srtp_err_status_replay_fail || st == srtp_err_status_replay_old;
}

#endif /* DUET_SRTP_H */
