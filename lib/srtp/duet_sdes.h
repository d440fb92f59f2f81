/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SDES crypto attribute values (RFC 4568): the key fields of a pair record
 * (`a_in`, `a_out`, `b_in`, `b_out`) and duet-caller's --key arguments, in
 * the form "SUITE inline:BASE64(master key || master salt)[|LIFETIME]".
 * Pure parsing and formatting: no libsrtp2, no EAL. Runs on whichever thread
 * reads a record (duetd's control thread, duetctl, duet-caller). The parsed
 * key is secret: callers wipe it with duet_sdes_wipe() when done.
 */
#ifndef DUET_SDES_H
#define DUET_SDES_H

#include <stddef.h>
#include <stdint.h>

#include "duet_secure_zero.h" /* lib/util: callers wipe keys and key text with it */

/** The SRTP crypto suites duet speaks. */
enum duet_srtp_suite {
	DUET_SRTP_AES_CM_128_HMAC_SHA1_80 = 0,
	DUET_SRTP_AES_CM_128_HMAC_SHA1_32,
	DUET_SRTP_AEAD_AES_128_GCM,
	DUET_SRTP_AEAD_AES_256_GCM,
	DUET_SRTP_SUITE_COUNT,
};

/** Longest master key + salt of any suite (AES-256: 32 + 12). */
#define DUET_SDES_KEY_MAX 46
/** Longest formatted value: suite name, " inline:", base64 of the key. */
#define DUET_SDES_TEXT_MAX 96

/** A parsed crypto attribute value. Secret: wipe after use. */
struct duet_sdes {
	enum duet_srtp_suite suite; /**< the crypto suite */
	uint8_t key_len;            /**< master key + salt length for the suite */
	uint8_t key[DUET_SDES_KEY_MAX]; /**< master key, then master salt */
};

/**
 * Parse an SDES crypto attribute value.
 *
 * Accepts "SUITE inline:KEY" with an optional "|LIFETIME" (2^N or a decimal
 * number of packets; checked, then ignored), base64 with or without padding.
 * Refuses an MKI ("|n:len"), more than one key, session parameters, unknown
 * suites and keys of the wrong length, with a reason. Never logs the key.
 *
 * @param s    the value (NUL-terminated)
 * @param out  the parsed key (left zeroed on error)
 * @param why  on error, a static description of what is wrong (may be NULL)
 * @return 0, or -EINVAL
 */
int duet_sdes_parse(const char *s, struct duet_sdes *out, const char **why);

/**
 * Format a key back into "SUITE inline:BASE64" (padded base64).
 *
 * @return 0, or -ENOSPC if len is too small
 */
int duet_sdes_format(const struct duet_sdes *k, char *buf, size_t len);

/** The RFC 4568 name of a suite, or NULL for an unknown value. */
const char *duet_srtp_suite_name(enum duet_srtp_suite s);

/** Parse a suite name; 0 or -EINVAL. */
int duet_srtp_suite_parse(const char *name, enum duet_srtp_suite *out);

/** Master key + salt length of a suite (30, 28 or 44). */
unsigned int duet_srtp_suite_key_len(enum duet_srtp_suite s);

/** Authentication tag length the suite adds to each SRTP packet. */
unsigned int duet_srtp_suite_tag_len(enum duet_srtp_suite s);

/**
 * Make a fresh random key for a suite (getrandom(2)).
 * @return 0, -EINVAL for an unknown suite, or -errno from getrandom
 */
int duet_sdes_generate(enum duet_srtp_suite s, struct duet_sdes *out);

/** Overwrite a key so the compiler cannot elide it. */
void duet_sdes_wipe(struct duet_sdes *k);

#endif /* DUET_SDES_H */
