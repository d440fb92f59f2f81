/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * srtp_policy.h: the libsrtp2 crypto policy of each of duet's suites,
 * written out here from RFC 3711/4568/7714 rather than taken from lib/srtp,
 * so that a wrong suite mapping in duet is not mirrored by its own tests.
 * Shared by the tests that hold libsrtp2 sessions beside duet's
 * (tests/unit/srtp, tests/unit/pair, tests/unit/srtpe). Test thread.
 */
#ifndef DUET_TEST_SRTP_POLICY_H
#define DUET_TEST_SRTP_POLICY_H

#include <srtp2/srtp.h>

#include "duet_sdes.h"

/** Set p->rtp and p->rtcp for k's suite: SRTCP keeps the 80-bit tag under
 * AES_CM_128_HMAC_SHA1_32 (RFC 4568). The rest of p is the caller's. */
void test_srtp_policy_suite(const struct duet_sdes *k, srtp_policy_t *p);

#endif /* DUET_TEST_SRTP_POLICY_H */
