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
/** Longest formatted value: suite name, " inline:", base64 of the key,
 * "|" and the longest lifetime (15 digits). */
#define DUET_SDES_TEXT_MAX 112

/** Longest key lifetime an SDES value may give (RFC 3711 9.2: a master
 * key protects at most 2^48 SRTP packets). */
#define DUET_SDES_LIFETIME_MAX (1ULL << 48)

/** A parsed crypto attribute value. Secret: wipe after use. */
struct duet_sdes {
	enum duet_srtp_suite suite; /**< the crypto suite */
	uint8_t key_len;            /**< master key + salt length for the suite */
	uint8_t lifetime_log2;      /**< N when the lifetime was written "2^N", else 0 */
	uint8_t key[DUET_SDES_KEY_MAX]; /**< master key, then master salt */
	/** The key lifetime (RFC 4568 6.1 "|LIFETIME"): how many SRTP
	 * packets, and how many SRTCP packets, the key may protect, 1..2^48;
	 * 0 when the value gave none (then RFC 3711's maximum applies: 2^48
	 * SRTP and 2^31 SRTCP packets). Enforced by lib/srtp's fast path
	 * (duet_srtp_life.h). */
	uint64_t lifetime;
};

/**
 * Parse an SDES crypto attribute value.
 *
 * Accepts "SUITE inline:KEY" with an optional "|LIFETIME" (2^N with N
 * 1..48, or a decimal number of packets 1..2^48: out->lifetime, and
 * out->lifetime_log2 for the 2^N form), base64 with or without padding.
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
 * Format a key back into "SUITE inline:BASE64" (padded base64), then
 * "|2^N" or "|COUNT" when it has a lifetime (in the form it was parsed
 * from), so that duet_sdes_parse() gives the same struct back.
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
