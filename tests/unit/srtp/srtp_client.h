/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * srtp_client.h: the SRTP clients of the unit tests that drive the relay's
 * sessions with real packets (tests/unit/srtp, tests/unit/pair): libsrtp2
 * sessions made with srtp_create and a policy written out here from RFC
 * 3711/4568/7714 rather than taken from lib/srtp, so that a wrong suite
 * mapping in duet is not mirrored by its own test, and the packets they
 * send and open. Called from the test's own thread; a failure fails the
 * current test (cr_assert).
 */
#ifndef DUET_TEST_SRTP_CLIENT_H
#define DUET_TEST_SRTP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <srtp2/srtp.h>

#include "duet_sdes.h"
#include "duet_srtp_fp.h"

#define CM80 DUET_SRTP_AES_CM_128_HMAC_SHA1_80
#define CM32 DUET_SRTP_AES_CM_128_HMAC_SHA1_32
#define GCM128 DUET_SRTP_AEAD_AES_128_GCM
#define GCM256 DUET_SRTP_AEAD_AES_256_GCM

/** A new random key of suite, made as duetctl makes them. */
struct duet_sdes test_srtp_key(enum duet_srtp_suite suite);

/** Room for any test packet and its trailer. */
#define TEST_SRTP_PKT_CAP 512

/**
 * A client's session for key k: a sender protects with it, a receiver
 * opens what the relay sent (replay window 128, as most phones have). The
 * SRTCP tag stays 80 bits under AES_CM_128_HMAC_SHA1_32 (RFC 4568).
 * Freed by test_srtp_clients_free().
 */
srtp_t test_srtp_client(const struct duet_sdes *k, bool sender);

/** Free every client session made so far (a .fini hook). */
void test_srtp_clients_free(void);

/** A packet as a client sent it, and its plaintext; 32-bit aligned, as
 * libsrtp2 wants. */
struct test_srtp_pkt {
	uint8_t wire[TEST_SRTP_PKT_CAP] __attribute__((aligned(8)));
	int len;
	uint8_t plain[TEST_SRTP_PKT_CAP];
	int plain_len;
};

/** RTP (PT 111, 80 payload bytes that differ per seq) or, rtcp true, an
 * empty sender report, protected with the client session tx. */
void test_srtp_seal(srtp_t tx, bool rtcp, uint32_t ssrc, uint16_t seq, struct test_srtp_pkt *p);

/** Does the client session rx open p as the relay left it to p's
 * plaintext? (RTP or SRTCP by the payload type.) */
bool test_srtp_opens(srtp_t rx, const struct test_srtp_pkt *p);

/**
 * Relay p through direction d at TSC now as a worker does it
 * (duet_worker_srtp_in): take the direction, the SSRC cap (all
 * DUET_SRTP_MAX_SSRC streams, evicting one silent for `silence`), verify
 * or (rekey) re-protect in place, note the SSRC, give the direction back.
 */
enum duet_srtp_verdict test_srtp_relay(struct duet_srtp_ctx *d, bool rekey,
				       struct test_srtp_pkt *p, uint64_t now, uint64_t silence);

/** A relay direction with duet's sessions: `in` (the sender's key) and, for
 * rekey, `out` (the receiver's); verify when out is NULL. */
struct duet_srtp_ctx *test_srtp_dir_new(const struct duet_sdes *in, const struct duet_sdes *out);

/** Free a direction of test_srtp_dir_new() and its sessions. */
void test_srtp_dir_free(struct duet_srtp_ctx *d);

#endif /* DUET_TEST_SRTP_CLIENT_H */
