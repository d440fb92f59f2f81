/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/sdes/duet_sdes.c: SDES crypto attribute values (RFC 4568)
 * parsed, refused with a reason, and formatted back; the suite tables. The
 * expected base64 texts were computed independently (Python's base64 module)
 * from the key bytes key_byte() makes, so a decoder bug cannot hide behind a
 * matching encoder bug. Test process only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duet_sdes.h"

#define NSUITES DUET_SRTP_SUITE_COUNT
/* b64_padded[0], for building hostile values around a good key. */
#define KEY80 "ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T+B1C"

static const char *const names[NSUITES] = {
	"AES_CM_128_HMAC_SHA1_80",
	"AES_CM_128_HMAC_SHA1_32",
	"AEAD_AES_128_GCM",
	"AEAD_AES_256_GCM",
};

static const unsigned int key_lens[NSUITES] = {30, 30, 28, 44};
static const unsigned int tag_lens[NSUITES] = {10, 4, 16, 16};

/* base64(key_byte(s, 0 .. key_len - 1)), padded, from Python. */
static const char *const b64_padded[NSUITES] = {
	"ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T+B1C",
	"Iklwl77lDDNagajP9h1Ea5K54AcuVXyjyvEYP2aN",
	"M1yFrtcAKVJ7pM32H0hxmsPsFT5nkLniCzRdhg==",
	"RG+axfAbRnGcx/IdSHOeyfQfSnWgy/YhTHeizfgjTnmkz/olUHum0fwnUn0=",
};

/* A different pattern per suite, so a key decoded for the wrong suite shows. */
static uint8_t
key_byte(unsigned int s, unsigned int i)
{
	return (uint8_t)(0x11 * (s + 1) + i * (37 + 2 * s));
}

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A plain padded base64 encoder for inputs of any length (wrong key
 * lengths); checked against the Python texts in encoder_matches_python. */
static void
b64(const uint8_t *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		out[o++] = b64_chars[in[i] >> 2];
		out[o++] = b64_chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = b64_chars[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		out[o++] = b64_chars[in[i + 2] & 63];
	}
	if (len - i == 1) {
		out[o++] = b64_chars[in[i] >> 2];
		out[o++] = b64_chars[(in[i] & 3) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		out[o++] = b64_chars[in[i] >> 2];
		out[o++] = b64_chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = b64_chars[(in[i + 1] & 15) << 2];
		out[o++] = '=';
	}
	out[o] = '\0';
}

/* "SUITE inline:" + base64 of n pattern bytes of suite s + tail. */
static void
make_value(char *buf, size_t cap, unsigned int s, unsigned int n, const char *tail)
{
	uint8_t key[64];
	char text[100];
	unsigned int i;

	cr_assert_leq(n, sizeof(key));
	for (i = 0; i < n; i++)
		key[i] = key_byte(s, i);
	b64(key, n, text);
	cr_assert_lt((size_t)snprintf(buf, cap, "%s inline:%s%s", names[s], text, tail), cap);
}

static void
assert_key_is_pattern(const struct duet_sdes *k, unsigned int s)
{
	unsigned int i;

	cr_assert_eq(k->suite, (enum duet_srtp_suite)s);
	cr_assert_eq(k->key_len, key_lens[s]);
	for (i = 0; i < key_lens[s]; i++)
		cr_assert_eq(k->key[i], key_byte(s, i), "suite %u byte %u: %#x", s, i, k->key[i]);
	for (; i < DUET_SDES_KEY_MAX; i++)
		cr_assert_eq(k->key[i], 0, "suite %u byte %u past the key is %#x", s, i, k->key[i]);
}

static bool
all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len-- > 0)
		if (*b++ != 0)
			return false;
	return true;
}

/* Refused, with a reason containing `reason`, and out left zeroed. */
static void
assert_refused(const char *s, const char *reason)
{
	struct duet_sdes k;
	const char *why = NULL;

	memset(&k, 0xa5, sizeof(k));
	cr_assert_eq(duet_sdes_parse(s, &k, &why), -EINVAL, "accepted '%.120s'", s ? s : "(null)");
	cr_assert_not_null(why, "no reason for '%.120s'", s ? s : "(null)");
	cr_assert_not_null(strstr(why, reason), "'%.120s': reason '%s', wanted '%s'",
			   s ? s : "(null)", why, reason);
	cr_assert(all_zero(&k, sizeof(k)), "output not zeroed after refusing '%.120s'",
		  s ? s : "(null)");
}

Test(sdes, encoder_matches_python)
{
	uint8_t key[DUET_SDES_KEY_MAX];
	char text[100];
	unsigned int s, i;

	for (s = 0; s < NSUITES; s++) {
		for (i = 0; i < key_lens[s]; i++)
			key[i] = key_byte(s, i);
		b64(key, key_lens[s], text);
		cr_assert_str_eq(text, b64_padded[s]);
	}
}

Test(sdes, parses_each_suite_from_known_bytes)
{
	struct duet_sdes k;
	char v[200];
	const char *why = NULL;
	unsigned int s;

	for (s = 0; s < NSUITES; s++) {
		snprintf(v, sizeof(v), "%s inline:%s", names[s], b64_padded[s]);
		memset(&k, 0xa5, sizeof(k));
		cr_assert_eq(duet_sdes_parse(v, &k, &why), 0, "'%s' refused: %s", v, why);
		assert_key_is_pattern(&k, s);
	}
}

Test(sdes, format_then_parse_round_trips)
{
	struct duet_sdes k, back;
	char text[DUET_SDES_TEXT_MAX], want[200];
	unsigned int s, i;

	for (s = 0; s < NSUITES; s++) {
		memset(&k, 0, sizeof(k));
		k.suite = (enum duet_srtp_suite)s;
		k.key_len = (uint8_t)key_lens[s];
		for (i = 0; i < key_lens[s]; i++)
			k.key[i] = key_byte(s, i);
		cr_assert_eq(duet_sdes_format(&k, text, sizeof(text)), 0);
		snprintf(want, sizeof(want), "%s inline:%s", names[s], b64_padded[s]);
		cr_assert_str_eq(text, want);
		cr_assert_eq(duet_sdes_parse(text, &back, NULL), 0);
		cr_assert_eq(memcmp(&k, &back, sizeof(k)), 0, "suite %u changed on the way", s);
	}
}

Test(sdes, format_reports_short_buffer_and_bad_key)
{
	struct duet_sdes k;
	char text[DUET_SDES_TEXT_MAX];
	size_t need;

	cr_assert_eq(duet_sdes_parse("AEAD_AES_256_GCM inline:RG+axfAbRnGcx/IdSHOeyfQfSnWgy/YhTHeiz"
				     "fgjTnmkz/olUHum0fwnUn0=", &k, NULL), 0);
	need = strlen("AEAD_AES_256_GCM inline:") + strlen(b64_padded[3]) + 1;
	cr_assert_lt(need, sizeof(text));
	cr_assert_eq(duet_sdes_format(&k, text, need - 1), -ENOSPC);
	cr_assert_eq(duet_sdes_format(&k, text, need), 0);
	cr_assert_eq(strlen(text), need - 1);

	k.key_len = 0;
	cr_assert_eq(duet_sdes_format(&k, text, sizeof(text)), -EINVAL);
	k.key_len = DUET_SDES_KEY_MAX + 1;
	cr_assert_eq(duet_sdes_format(&k, text, sizeof(text)), -EINVAL);
	k.key_len = 44;
	k.suite = DUET_SRTP_SUITE_COUNT;
	cr_assert_eq(duet_sdes_format(&k, text, sizeof(text)), -EINVAL);
}

Test(sdes, accepts_base64_with_or_without_padding)
{
	struct duet_sdes k;
	char v[200], bare[100];
	const char *why = NULL;
	unsigned int s;

	for (s = 0; s < NSUITES; s++) {
		size_t n = strlen(b64_padded[s]);

		memcpy(bare, b64_padded[s], n + 1);
		while (n > 0 && bare[n - 1] == '=')
			bare[--n] = '\0';
		snprintf(v, sizeof(v), "%s inline:%s", names[s], bare);
		cr_assert_eq(duet_sdes_parse(v, &k, &why), 0, "'%s' refused: %s", v, why);
		assert_key_is_pattern(&k, s);
	}
	/* The GCM keys are the ones that need padding at all. */
	cr_assert_eq(duet_sdes_parse("AEAD_AES_128_GCM inline:"
				     "M1yFrtcAKVJ7pM32H0hxmsPsFT5nkLniCzRdhg", &k, NULL), 0);
	assert_key_is_pattern(&k, 2);
	cr_assert_eq(duet_sdes_parse("AEAD_AES_256_GCM inline:RG+axfAbRnGcx/IdSHOeyfQfSnWgy/YhTHeiz"
				     "fgjTnmkz/olUHum0fwnUn0", &k, NULL), 0);
	assert_key_is_pattern(&k, 3);
}

Test(sdes, refuses_wrong_padding)
{
	/* One '=' short, one too many, padding on a key that needs none. */
	assert_refused("AEAD_AES_128_GCM inline:M1yFrtcAKVJ7pM32H0hxmsPsFT5nkLniCzRdhg=", "base64");
	assert_refused("AEAD_AES_128_GCM inline:M1yFrtcAKVJ7pM32H0hxmsPsFT5nkLniCzRdhg===",
		       "base64");
	assert_refused("AEAD_AES_256_GCM inline:RG+axfAbRnGcx/IdSHOeyfQfSnWgy/YhTHeizfgjTnmkz/ol"
		       "UHum0fwnUn0==", "base64");
	assert_refused("AES_CM_128_HMAC_SHA1_80 inline:ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T+B1C=",
		       "base64");
	assert_refused("AES_CM_128_HMAC_SHA1_80 inline:ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T+B1C==",
		       "base64");
	/* Padding in the middle. */
	assert_refused("AEAD_AES_128_GCM inline:M1yF=tcAKVJ7pM32H0hxmsPsFT5nkLniCzRdhg==",
		       "base64");
}

Test(sdes, parses_lifetime_into_the_key)
{
	static const struct {
		const char *text;
		uint64_t count;
		uint8_t log2;
	} lifetimes[] = {
		{"|2^31", 1ULL << 31, 31}, {"|1048576", 1048576, 0}, {"|2^1", 2, 1},
		{"|2^48", 1ULL << 48, 48}, {"|1", 1, 0}, {"|281474976710656", 1ULL << 48, 0},
		{"|2^4", 16, 4}, {"|16", 16, 0}, {"|016", 16, 0}, {"|2^04", 16, 4},
	};
	struct duet_sdes k;
	char v[200];
	const char *why = NULL;
	unsigned int s, i;

	for (s = 0; s < NSUITES; s++) {
		for (i = 0; i < sizeof(lifetimes) / sizeof(lifetimes[0]); i++) {
			make_value(v, sizeof(v), s, key_lens[s], lifetimes[i].text);
			memset(&k, 0xa5, sizeof(k));
			cr_assert_eq(duet_sdes_parse(v, &k, &why), 0, "'%s' refused: %s", v, why);
			assert_key_is_pattern(&k, s);
			cr_assert_eq(k.lifetime, lifetimes[i].count, "'%s': lifetime %llu", v,
				     (unsigned long long)k.lifetime);
			cr_assert_eq(k.lifetime_log2, lifetimes[i].log2, "'%s'", v);
		}
		/* None given: 0, RFC 3711's maximum applies. */
		make_value(v, sizeof(v), s, key_lens[s], "");
		memset(&k, 0xa5, sizeof(k));
		cr_assert_eq(duet_sdes_parse(v, &k, NULL), 0);
		cr_assert_eq(k.lifetime, 0);
		cr_assert_eq(k.lifetime_log2, 0);
	}
}

Test(sdes, format_keeps_the_lifetime_in_its_form)
{
	static const char *const forms[][2] = {
		{"|2^4", "|2^4"}, {"|16", "|16"}, {"|016", "|16"}, {"|2^48", "|2^48"},
		{"|281474976710656", "|281474976710656"}, {"|2^04", "|2^4"},
	};
	struct duet_sdes k, back;
	char v[200], text[DUET_SDES_TEXT_MAX], want[200];
	unsigned int s, i;

	for (s = 0; s < NSUITES; s++) {
		for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
			make_value(v, sizeof(v), s, key_lens[s], forms[i][0]);
			cr_assert_eq(duet_sdes_parse(v, &k, NULL), 0, "%s", v);
			cr_assert_eq(duet_sdes_format(&k, text, sizeof(text)), 0);
			snprintf(want, sizeof(want), "%s inline:%s%s", names[s], b64_padded[s],
				 forms[i][1]);
			cr_assert_str_eq(text, want);
			cr_assert_eq(duet_sdes_parse(text, &back, NULL), 0);
			cr_assert_eq(memcmp(&k, &back, sizeof(k)), 0, "'%s' changed on the way", v);
		}
	}
	/* The longest value fits DUET_SDES_TEXT_MAX. */
	make_value(v, sizeof(v), 3, key_lens[3], "|281474976710656");
	cr_assert_eq(duet_sdes_parse(v, &k, NULL), 0);
	cr_assert_eq(duet_sdes_format(&k, text, sizeof(text)), 0);
	cr_assert_eq(duet_sdes_format(&k, text, strlen(text)), -ENOSPC);
	/* A lifetime that cannot be written back is refused. */
	k.lifetime = (1ULL << 48) + 1;
	k.lifetime_log2 = 0;
	cr_assert_eq(duet_sdes_format(&k, text, sizeof(text)), -EINVAL);
	k.lifetime = 17;
	k.lifetime_log2 = 4;
	cr_assert_eq(duet_sdes_format(&k, text, sizeof(text)), -EINVAL);
}

Test(sdes, refuses_bad_lifetime)
{
	static const char *const bad[] = {
		"|2^0", "|2^49", "|2^64", "|0", "|garbage", "|", "|2^", "|-1", "|+5", "|2^31x",
		"|281474976710657", "|99999999999999999999999999", "|2^99999999999999999999",
		"|3^31", "|10^6", "|1 048576",
	};
	char v[200];
	unsigned int s, i;

	for (s = 0; s < NSUITES; s++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			make_value(v, sizeof(v), s, key_lens[s], bad[i]);
			/* A space ends the key parameter: session params. */
			assert_refused(v, strchr(bad[i], ' ') ? "session parameters" : "lifetime");
		}
	}
}

Test(sdes, refuses_an_mki)
{
	char v[200];
	unsigned int s;

	for (s = 0; s < NSUITES; s++) {
		make_value(v, sizeof(v), s, key_lens[s], "|2^20|1:4");
		assert_refused(v, "MKI");
		make_value(v, sizeof(v), s, key_lens[s], "|1:4");
		assert_refused(v, "MKI");
		/* A second field without the ':' is still in the MKI's place. */
		make_value(v, sizeof(v), s, key_lens[s], "|2^20|1");
		assert_refused(v, "MKI");
	}
}

Test(sdes, refuses_two_keys)
{
	char v[300], second[200];
	unsigned int s;

	for (s = 0; s < NSUITES; s++) {
		make_value(second, sizeof(second), s, key_lens[s], "");
		/* value;inline:KEY, the second key as RFC 4568 writes it. */
		make_value(v, sizeof(v), s, key_lens[s], "");
		strcat(v, ";");
		strcat(v, strchr(second, ' ') + 1);
		assert_refused(v, "more than one key");
	}
	assert_refused("AES_CM_128_HMAC_SHA1_80 inline:" KEY80 "|2^31;inline:" KEY80 "|2^31",
		       "more than one key");
}

Test(sdes, refuses_session_parameters)
{
	static const char *const params[] = {
		" KDR=1", " UNENCRYPTED_SRTP", " UNAUTHENTICATED_SRTP", " FEC_ORDER=FEC_SRTP",
		" ", " WSH=64",
	};
	char v[200];
	unsigned int s, i;

	for (s = 0; s < NSUITES; s++) {
		for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
			make_value(v, sizeof(v), s, key_lens[s], params[i]);
			assert_refused(v, "session parameters");
		}
		make_value(v, sizeof(v), s, key_lens[s], "|2^31 KDR=1");
		assert_refused(v, "session parameters");
	}
}

Test(sdes, refuses_wrong_key_length_per_suite)
{
	char v[200];
	unsigned int s;

	for (s = 0; s < NSUITES; s++) {
		make_value(v, sizeof(v), s, key_lens[s] - 1, "");
		assert_refused(v, "wrong length");
		make_value(v, sizeof(v), s, key_lens[s] + 1, "");
		assert_refused(v, "wrong length");
	}
	/* A 256-bit key under a 128-bit suite, and the other way round. */
	assert_refused("AEAD_AES_128_GCM inline:RG+axfAbRnGcx/IdSHOeyfQfSnWgy/YhTHeizfgjTnmkz/olUHu"
		       "m0fwnUn0=", "wrong length");
	assert_refused("AEAD_AES_256_GCM inline:M1yFrtcAKVJ7pM32H0hxmsPsFT5nkLniCzRdhg==",
		       "wrong length");
	assert_refused("AES_CM_128_HMAC_SHA1_80 inline:", "wrong length");
	assert_refused("AES_CM_128_HMAC_SHA1_80 inline:|2^31", "wrong length");
}

Test(sdes, refuses_malformed_values_with_a_reason)
{
	static const struct {
		const char *s;
		const char *reason;
	} bad[] = {
		{"", "empty"},
		{"AES_CM_128_HMAC_SHA1_80", "SUITE inline:KEY"},
		{"AES_CM_128_HMAC_SHA1_80inline:ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T+B1C",
		 "SUITE inline:KEY"},
		{"AES_CM_128_HMAC_SHA1_80\tinline:ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T+B1C",
		 "SUITE inline:KEY"},
		{"AES_CM_128_HMAC_SHA1_81 inline:ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T+B1C",
		 "unknown crypto suite"},
		{"F8_128_HMAC_SHA1_80 inline:ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T+B1C",
		 "unknown crypto suite"},
		{"aes_cm_128_hmac_sha1_80 inline:ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T+B1C",
		 "unknown crypto suite"},
		{"aead_aes_128_gcm inline:M1yFrtcAKVJ7pM32H0hxmsPsFT5nkLniCzRdhg==",
		 "unknown crypto suite"},
		{"AES_CM_128_HMAC_SHA1 inline:ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T+B1C",
		 "unknown crypto suite"},
		{" AES_CM_128_HMAC_SHA1_80 inline:ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T+B1C",
		 "unknown crypto suite"},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T+B1C",
		 "unknown crypto suite"},
		{"AES_CM_128_HMAC_SHA1_80 " KEY80, "key parameter"},
		{"AES_CM_128_HMAC_SHA1_80 INLINE:ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T+B1C",
		 "key parameter"},
		{"AES_CM_128_HMAC_SHA1_80 inline ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T+B1C",
		 "key parameter"},
		{"AES_CM_128_HMAC_SHA1_80  inline:ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T+B1C",
		 "key parameter"},
		{"AES_CM_128_HMAC_SHA1_80 ", "key parameter"},
		{"AES_CM_128_HMAC_SHA1_80 inline:ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T-B1C",
		 "base64"},
		{"AES_CM_128_HMAC_SHA1_80 inline:ETZbgKXK7xQ5XoOozfIXPGGGq9D1Gj9kia7T_B1C",
		 "base64"},
		{"AES_CM_128_HMAC_SHA1_80 inline:" KEY80 "\n", "base64"},
		{"AES_CM_128_HMAC_SHA1_80 inline:" KEY80 "\r", "base64"},
		{"AES_CM_128_HMAC_SHA1_80 inline:ETZbgKXK7xQ5XoOozf.XPGGGq9D1Gj9kia7T+B1C",
		 "base64"},
		{"AES_CM_128_HMAC_SHA1_80 inline:ETZbgKXK7xQ5XoOozf\xc3\xa9XPGGGq9D1Gj9kia7T+B1",
		 "base64"},
		/* 41 characters: one too many for any whole number of bytes. */
		{"AES_CM_128_HMAC_SHA1_80 inline:" KEY80 "A", "base64"},
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(bad[i].s, bad[i].reason);
}

Test(sdes, refuses_null_and_survives_null_why)
{
	struct duet_sdes k;

	assert_refused(NULL, "empty");
	memset(&k, 0xa5, sizeof(k));
	cr_assert_eq(duet_sdes_parse("AES_CM_128_HMAC_SHA1_80 inline:nope", &k, NULL), -EINVAL);
	cr_assert(all_zero(&k, sizeof(k)));
}

Test(sdes, refuses_nonzero_trailing_bits)
{
	/* 28 bytes leave 4 spare bits in the 38th character, 44 bytes leave 2
	 * in the 59th: "hg" -> "hh" / "hv" and "n0" -> "n1" / "n3" name the
	 * same bytes with stray bits set. */
	assert_refused("AEAD_AES_128_GCM inline:M1yFrtcAKVJ7pM32H0hxmsPsFT5nkLniCzRdhh==",
		       "base64");
	assert_refused("AEAD_AES_128_GCM inline:M1yFrtcAKVJ7pM32H0hxmsPsFT5nkLniCzRdhv", "base64");
	assert_refused("AEAD_AES_256_GCM inline:RG+axfAbRnGcx/IdSHOeyfQfSnWgy/YhTHeizfgjTnmkz/olUHu"
		       "m0fwnUn1=", "base64");
	assert_refused("AEAD_AES_256_GCM inline:RG+axfAbRnGcx/IdSHOeyfQfSnWgy/YhTHeizfgjTnmkz/olUHu"
		       "m0fwnUn3", "base64");
}

Test(sdes, stops_at_an_embedded_nul)
{
	static const char valid_then_junk[] =
		"AES_CM_128_HMAC_SHA1_32 inline:Iklwl77lDDNagajP9h1Ea5K54AcuVXyjyvEYP2aN\0 KDR=1;x";
	static const char nul_in_suite[] =
		"AES_CM_128_HMAC_SHA1_32\0inline:Iklwl77lDDNagajP9h1Ea5K54AcuVXyjyvEYP2aN";
	static const char nul_in_key[] =
		"AES_CM_128_HMAC_SHA1_32 inline:Iklwl77lDDNagajP9h1E\0a5K54AcuVXyjyvEYP2aN";
	struct duet_sdes k;

	cr_assert_eq(duet_sdes_parse(valid_then_junk, &k, NULL), 0);
	assert_key_is_pattern(&k, 1);
	assert_refused(nul_in_suite, "SUITE inline:KEY");
	assert_refused(nul_in_key, "wrong length");
}

Test(sdes, refuses_10kb_values)
{
	const size_t n = 10 * 1024;
	char *v = malloc(n + 200);
	size_t pre;

	cr_assert_not_null(v);
	/* A key of 10 KB of base64. */
	pre = (size_t)sprintf(v, "AES_CM_128_HMAC_SHA1_80 inline:");
	memset(v + pre, 'A', n);
	v[pre + n] = '\0';
	assert_refused(v, "base64");
	/* A 10 KB lifetime. */
	pre = (size_t)sprintf(v, "AES_CM_128_HMAC_SHA1_80 inline:%s|", b64_padded[0]);
	memset(v + pre, '9', n);
	v[pre + n] = '\0';
	assert_refused(v, "lifetime");
	/* A 10 KB suite name. */
	memset(v, 'A', n);
	sprintf(v + n, " inline:%s", b64_padded[0]);
	assert_refused(v, "unknown crypto suite");
	/* 10 KB of session parameters after a valid key. */
	pre = (size_t)sprintf(v, "AES_CM_128_HMAC_SHA1_80 inline:%s ", b64_padded[0]);
	memset(v + pre, 'K', n);
	v[pre + n] = '\0';
	assert_refused(v, "session parameters");
	free(v);
}

Test(sdes, zeroes_output_after_a_good_parse_then_a_bad_one)
{
	struct duet_sdes k;
	char v[200];

	make_value(v, sizeof(v), 3, key_lens[3], "");
	cr_assert_eq(duet_sdes_parse(v, &k, NULL), 0);
	assert_key_is_pattern(&k, 3);
	/* A key whose base64 decodes, with the wrong length: the decoded bytes
	 * must not be left behind in out either. */
	make_value(v, sizeof(v), 3, key_lens[3] - 1, "");
	cr_assert_eq(duet_sdes_parse(v, &k, NULL), -EINVAL);
	cr_assert(all_zero(&k, sizeof(k)));
}

Test(sdes, wipe_zeroes_key_and_buffers)
{
	struct duet_sdes k;
	char secret[64];

	memset(&k, 0xa5, sizeof(k));
	duet_sdes_wipe(&k);
	cr_assert(all_zero(&k, sizeof(k)));
	memset(secret, 'x', sizeof(secret));
	duet_secure_zero(secret + 8, 16);
	cr_assert_eq(secret[7], 'x');
	cr_assert(all_zero(secret + 8, 16));
	cr_assert_eq(secret[24], 'x');
	duet_secure_zero(NULL, 0);
}

Test(sdes, suite_tables)
{
	enum duet_srtp_suite e;
	unsigned int s;

	for (s = 0; s < NSUITES; s++) {
		cr_assert_str_eq(duet_srtp_suite_name((enum duet_srtp_suite)s), names[s]);
		e = DUET_SRTP_SUITE_COUNT;
		cr_assert_eq(duet_srtp_suite_parse(names[s], &e), 0);
		cr_assert_eq(e, (enum duet_srtp_suite)s);
		cr_assert_eq(duet_srtp_suite_key_len((enum duet_srtp_suite)s), key_lens[s]);
		cr_assert_eq(duet_srtp_suite_tag_len((enum duet_srtp_suite)s), tag_lens[s]);
		cr_assert_leq(key_lens[s], DUET_SDES_KEY_MAX);
		cr_assert_lt(strlen(names[s]) + 8 + (key_lens[s] + 2) / 3 * 4, DUET_SDES_TEXT_MAX);
	}
	cr_assert_eq(DUET_SRTP_AES_CM_128_HMAC_SHA1_80, 0);
	cr_assert_null(duet_srtp_suite_name(DUET_SRTP_SUITE_COUNT));
	cr_assert_null(duet_srtp_suite_name((enum duet_srtp_suite)-1));
	cr_assert_eq(duet_srtp_suite_key_len(DUET_SRTP_SUITE_COUNT), 0);
	cr_assert_eq(duet_srtp_suite_key_len((enum duet_srtp_suite)-1), 0);
	cr_assert_eq(duet_srtp_suite_tag_len(DUET_SRTP_SUITE_COUNT), 0);
	cr_assert_eq(duet_srtp_suite_tag_len((enum duet_srtp_suite)-1), 0);
}

Test(sdes, suite_parse_refuses_near_names)
{
	static const char *const bad[] = {
		"", "aes_cm_128_hmac_sha1_80", "AES_CM_128_HMAC_SHA1", "AES_CM_128_HMAC_SHA1_80 ",
		" AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_800", "AEAD_AES_192_GCM",
		"AES_256_CM_HMAC_SHA1_80", "F8_128_HMAC_SHA1_80", "AEAD_AES_128_GCM_8",
	};
	enum duet_srtp_suite e;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(duet_srtp_suite_parse(bad[i], &e), -EINVAL, "accepted '%s'", bad[i]);
	cr_assert_eq(duet_srtp_suite_parse(NULL, &e), -EINVAL);
}
