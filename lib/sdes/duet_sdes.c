/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SDES crypto attribute parsing and formatting (see duet_sdes.h). Strict:
 * anything this relay would not act on exactly as written is refused with
 * a reason rather than guessed at. Any thread; no allocation.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "duet_sdes.h"

static const struct {
	const char *name;
	unsigned int key_len;
	unsigned int tag_len;
} suites[DUET_SRTP_SUITE_COUNT] = {
	[DUET_SRTP_AES_CM_128_HMAC_SHA1_80] = {"AES_CM_128_HMAC_SHA1_80", 30, 10},
	[DUET_SRTP_AES_CM_128_HMAC_SHA1_32] = {"AES_CM_128_HMAC_SHA1_32", 30, 4},
	[DUET_SRTP_AEAD_AES_128_GCM] = {"AEAD_AES_128_GCM", 28, 16},
	[DUET_SRTP_AEAD_AES_256_GCM] = {"AEAD_AES_256_GCM", 44, 16},
};

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const char *
duet_srtp_suite_name(enum duet_srtp_suite s)
{
	if ((unsigned int)s >= DUET_SRTP_SUITE_COUNT)
		return NULL;
	return suites[s].name;
}

unsigned int
duet_srtp_suite_key_len(enum duet_srtp_suite s)
{
	return (unsigned int)s < DUET_SRTP_SUITE_COUNT ? suites[s].key_len : 0;
}

unsigned int
duet_srtp_suite_tag_len(enum duet_srtp_suite s)
{
	return (unsigned int)s < DUET_SRTP_SUITE_COUNT ? suites[s].tag_len : 0;
}

static int
suite_lookup(const char *name, size_t len, enum duet_srtp_suite *out)
{
	for (unsigned int i = 0; i < DUET_SRTP_SUITE_COUNT; i++) {
		if (strlen(suites[i].name) == len && memcmp(suites[i].name, name, len) == 0) {
			*out = (enum duet_srtp_suite)i;
			return 0;
		}
	}
	return -EINVAL;
}

int
duet_srtp_suite_parse(const char *name, enum duet_srtp_suite *out)
{
	if (name == NULL)
		return -EINVAL;
	return suite_lookup(name, strlen(name), out);
}

void
duet_sdes_wipe(struct duet_sdes *k)
{
	duet_secure_zero(k, sizeof(*k));
}

static int
b64_value(char c)
{
	const char *p = c != '\0' ? strchr(b64_alphabet, c) : NULL;

	return p != NULL ? (int)(p - b64_alphabet) : -1;
}

/* Decode len characters of base64 (padding optional but, when present,
 * exact). Returns the byte count or -EINVAL. */
static int
b64_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
	size_t pad = 0, n = 0;
	uint32_t acc = 0;
	unsigned int bits = 0;

	while (pad < 2 && len > 0 && s[len - 1] == '=') {
		len--;
		pad++;
	}
	if (pad > 0 && (len + pad) % 4 != 0)
		return -EINVAL;
	if (len % 4 == 1)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(s[i]);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -EINVAL;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero: one text, one key. */
	if ((acc & ((1u << bits) - 1)) != 0)
		return -EINVAL;
	return (int)n;
}

static size_t
b64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	return o;
}

/* A lifetime: "2^N" (N 1..48) or a decimal packet count (1..2^48). On
 * success *count is the number of packets and *log2 N (0 for a count). */
static bool
lifetime_parse(const char *s, size_t len, uint64_t *count, uint8_t *log2)
{
	unsigned long long v = 0;
	size_t i = 0;

	if (len > 2 && s[0] == '2' && s[1] == '^')
		i = 2;
	if (i == len)
		return false;
	for (size_t j = i; j < len; j++) {
		if (s[j] < '0' || s[j] > '9' || v > DUET_SDES_LIFETIME_MAX)
			return false;
		v = v * 10 + (unsigned int)(s[j] - '0');
	}
	if (i == 2) {
		if (v < 1 || v > 48)
			return false;
		*log2 = (uint8_t)v;
		*count = 1ULL << v;
		return true;
	}
	if (v < 1 || v > DUET_SDES_LIFETIME_MAX)
		return false;
	*log2 = 0;
	*count = v;
	return true;
}

static int
fail(const char **why, const char *msg, struct duet_sdes *out)
{
	duet_sdes_wipe(out);
	if (why != NULL)
		*why = msg;
	return -EINVAL;
}

int
duet_sdes_parse(const char *s, struct duet_sdes *out, const char **why)
{
	static const char inl[] = "inline:";
	uint8_t buf[DUET_SDES_KEY_MAX + 3];
	const char *sp, *key, *end, *bar;
	int n;

	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0')
		return fail(why, "empty", out);
	sp = strchr(s, ' ');
	if (sp == NULL)
		return fail(why, "not 'SUITE inline:KEY'", out);
	if (suite_lookup(s, (size_t)(sp - s), &out->suite) != 0)
		return fail(why, "unknown crypto suite (AES_CM_128_HMAC_SHA1_80, "
				 "AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM)",
			    out);
	key = sp + 1;
	if (strncmp(key, inl, sizeof(inl) - 1) != 0)
		return fail(why, "key parameter is not 'inline:'", out);
	key += sizeof(inl) - 1;
	end = key + strcspn(key, " ;");
	if (*end == ';')
		return fail(why, "more than one key is not supported", out);
	if (*end == ' ')
		return fail(why, "session parameters are not supported", out);
	bar = memchr(key, '|', (size_t)(end - key));
	if (bar != NULL) {
		const char *lt = bar + 1;
		const char *bar2 = memchr(lt, '|', (size_t)(end - lt));

		if (bar2 != NULL || memchr(lt, ':', (size_t)(end - lt)) != NULL)
			return fail(why, "an MKI is not supported", out);
		if (!lifetime_parse(lt, (size_t)(end - lt), &out->lifetime, &out->lifetime_log2))
			return fail(why, "bad key lifetime (2^N or a packet count)", out);
		end = bar;
	}
	n = b64_decode(key, (size_t)(end - key), buf, sizeof(buf));
	if (n < 0) {
		duet_secure_zero(buf, sizeof(buf));
		return fail(why, "key is not valid base64", out);
	}
	if ((unsigned int)n != suites[out->suite].key_len) {
		duet_secure_zero(buf, sizeof(buf));
		return fail(why, "key || salt has the wrong length for the suite", out);
	}
	out->key_len = (uint8_t)n;
	memcpy(out->key, buf, (size_t)n);
	duet_secure_zero(buf, sizeof(buf));
	return 0;
}

int
duet_sdes_format(const struct duet_sdes *k, char *buf, size_t len)
{
	const char *name = duet_srtp_suite_name(k->suite);
	char life[24] = "";
	size_t nl, ll, need, o;

	if (name == NULL || k->key_len == 0 || k->key_len > DUET_SDES_KEY_MAX ||
	    k->lifetime > DUET_SDES_LIFETIME_MAX ||
	    (k->lifetime_log2 != 0 &&
	     (k->lifetime_log2 > 48 || k->lifetime != 1ULL << k->lifetime_log2)))
		return -EINVAL;
	if (k->lifetime_log2 != 0)
		snprintf(life, sizeof(life), "|2^%u", (unsigned int)k->lifetime_log2);
	else if (k->lifetime != 0)
		snprintf(life, sizeof(life), "|%llu", (unsigned long long)k->lifetime);
	nl = strlen(name);
	ll = strlen(life);
	need = nl + 8 + (k->key_len + 2) / 3 * 4 + ll + 1;
	if (need > len)
		return -ENOSPC;
	memcpy(buf, name, nl);
	memcpy(buf + nl, " inline:", 8);
	o = nl + 8 + b64_encode(k->key, k->key_len, buf + nl + 8);
	memcpy(buf + o, life, ll + 1);
	return 0;
}

int
duet_sdes_generate(enum duet_srtp_suite s, struct duet_sdes *out)
{
	size_t got = 0;

	memset(out, 0, sizeof(*out));
	if ((unsigned int)s >= DUET_SRTP_SUITE_COUNT)
		return -EINVAL;
	out->suite = s;
	out->key_len = (uint8_t)suites[s].key_len;
	while (got < out->key_len) {
		ssize_t n = getrandom(out->key + got, out->key_len - got, 0);

		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			duet_sdes_wipe(out);
			return -e;
		}
		got += (size_t)n;
	}
	return 0;
}
