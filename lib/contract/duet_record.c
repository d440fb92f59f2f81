/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_record: the pair record's vocabulary (see duet_record.h). Pure C,
 * any thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "duet_record.h"

static const char *const mode_names[DUET_MODE_COUNT] = {
	[DUET_MODE_PASSTHROUGH] = "passthrough",
	[DUET_MODE_VERIFY] = "verify",
	[DUET_MODE_REKEY] = "rekey",
};

static const char *const srtp_fields[DUET_KEY_COUNT] = {
	[DUET_KEY_A_IN] = DUET_FIELD_A_SRTP_IN,
	[DUET_KEY_A_OUT] = DUET_FIELD_A_SRTP_OUT,
	[DUET_KEY_B_IN] = DUET_FIELD_B_SRTP_IN,
	[DUET_KEY_B_OUT] = DUET_FIELD_B_SRTP_OUT,
};

static const char *const key_fields[DUET_KEY_COUNT] = {
	[DUET_KEY_A_IN] = DUET_FIELD_A_IN,
	[DUET_KEY_A_OUT] = DUET_FIELD_A_OUT,
	[DUET_KEY_B_IN] = DUET_FIELD_B_IN,
	[DUET_KEY_B_OUT] = DUET_FIELD_B_OUT,
};

int
duet_record_endpoint_parse(const char *s, struct duet_addr *out, char *canon)
{
	char text[DUET_ADDR_STRLEN];
	struct duet_addr ep;

	if (s == NULL || duet_addr_parse(s, &ep) != 0 ||
	    duet_addr_format(&ep, text, sizeof(text)) != 0)
		return -EINVAL;
	if (canon != NULL)
		memcpy(canon, text, sizeof(text));
	if (strcmp(s, text) != 0)
		return -EILSEQ;
	if (out != NULL)
		*out = ep;
	return 0;
}

const char *
duet_mode_name(unsigned int mode)
{
	return mode < DUET_MODE_COUNT ? mode_names[mode] : NULL;
}

int
duet_mode_parse(const char *s, uint8_t *mode)
{
	unsigned int i;

	for (i = 0; s != NULL && i < DUET_MODE_COUNT; i++) {
		if (strcmp(s, mode_names[i]) == 0) {
			*mode = (uint8_t)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
duet_mode_list(void)
{
	return "passthrough, verify, rekey";
}

const char *
duet_key_field(unsigned int k)
{
	return k < DUET_KEY_COUNT ? key_fields[k] : NULL;
}

int
duet_key_field_index(const char *name, size_t len)
{
	unsigned int k;

	for (k = 0; name != NULL && k < DUET_KEY_COUNT; k++)
		if (strlen(key_fields[k]) == len && memcmp(name, key_fields[k], len) == 0)
			return (int)k;
	return -1;
}

bool
duet_mode_takes_key(unsigned int mode, unsigned int k)
{
	if (k >= DUET_KEY_COUNT)
		return false;
	switch (mode) {
	case DUET_MODE_VERIFY:
		return k == DUET_KEY_A_IN || k == DUET_KEY_B_IN;
	case DUET_MODE_REKEY:
		return true;
	default:
		return false;
	}
}

bool
duet_record_id_ok(const char *id)
{
	size_t i, n;

	if (id == NULL)
		return false;
	n = strlen(id);
	if (n == 0 || n > DUET_RECORD_ID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!duet_record_id_char(id[i]))
			return false;
	return true;
}

const char *
duet_record_srtp_field(unsigned int k)
{
	return k < DUET_KEY_COUNT ? srtp_fields[k] : NULL;
}

/* An _out key: streams the relay protects, whose SRTCP index it sets. */
static bool
key_is_out(unsigned int k)
{
	return k == DUET_KEY_A_OUT || k == DUET_KEY_B_OUT;
}

int
duet_record_srtp_format(const struct duet_srtp_stream_state *s, unsigned int n, unsigned int k,
			char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i;
	int w;

	if (k >= DUET_KEY_COUNT)
		return -EINVAL;
	if (len == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		const struct duet_srtp_stream_state *x = &s[i];
		bool srtcp = x->has_srtcp && !key_is_out(k);
		char rtp[24] = "-:-";

		if (x->key != k || (!x->has_rtp && !srtcp))
			continue;
		if (x->has_rtp)
			snprintf(rtp, sizeof(rtp), "%" PRIu32 ":%u", x->roc, (unsigned int)x->seq);
		if (srtcp)
			w = snprintf(buf + used, len - used, "%s%" PRIu32 ":%s:%" PRIu32,
				     used != 0 ? "," : "", x->ssrc, rtp, x->srtcp & 0x7fffffffu);
		else
			w = snprintf(buf + used, len - used, "%s%" PRIu32 ":%s", used != 0 ? "," : "",
				     x->ssrc, rtp);
		if (w < 0 || (size_t)w >= len - used) {
			buf[used] = '\0';
			return -ENOSPC;
		}
		used += (size_t)w;
	}
	return (int)used;
}

/* The refusal reason, when the caller wants one. */
static int
srtp_refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen != 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* One canonical decimal number of s[*i..end) up to max, or "-" (*dash set,
 * only when dash_ok), ending at ':' ',' or end. Advances *i past it. */
static int
srtp_number(const char *s, size_t end, size_t *i, uint64_t max, bool dash_ok, uint64_t *v,
	    bool *dash)
{
	size_t start = *i;
	uint64_t x = 0;

	*dash = false;
	if (start < end && s[start] == '-') {
		if (!dash_ok)
			return -1;
		*dash = true;
		*i = start + 1;
		return 0;
	}
	while (*i < end && s[*i] >= '0' && s[*i] <= '9') {
		x = x * 10 + (uint64_t)(s[*i] - '0');
		if (x > max)
			return -1;
		(*i)++;
	}
	if (*i == start || (s[start] == '0' && *i - start > 1))
		return -1;
	*v = x;
	return 0;
}

int
duet_record_srtp_parse(const char *s, size_t len, unsigned int k,
		       struct duet_srtp_stream_state *out, unsigned int max, char *why,
		       size_t whylen)
{
	const char *field = duet_record_srtp_field(k);
	unsigned int n = 0, j;
	size_t i = 0;

	if (field == NULL)
		return srtp_refuse(why, whylen, "no srtp field for key %u", k);
	if (s == NULL && len != 0)
		return srtp_refuse(why, whylen, "%s: no value", field);
	if (len > DUET_RECORD_SRTP_TEXT_MAX)
		return srtp_refuse(why, whylen, "%s: %zu bytes, more than %d", field, len,
				   DUET_RECORD_SRTP_TEXT_MAX);
	if (max > DUET_RECORD_SRTP_STREAMS_MAX)
		max = DUET_RECORD_SRTP_STREAMS_MAX;
	while (i < len) {
		struct duet_srtp_stream_state x;
		uint64_t v[4] = {0, 0, 0, 0};
		bool dash[4] = {false, false, false, false};
		static const uint64_t lim[4] = {UINT32_MAX, UINT32_MAX, UINT16_MAX, 0x7fffffffu};
		unsigned int parts = 0;

		if (n == max)
			return srtp_refuse(why, whylen, "%s: more than %u streams", field, max);
		for (;;) {
			if (srtp_number(s, len, &i, lim[parts], parts == 1 || parts == 2, &v[parts],
					&dash[parts]) != 0)
				return srtp_refuse(why, whylen,
						   "%s: stream %u: part %u is not a number in range",
						   field, n + 1, parts + 1);
			parts++;
			if (i == len || s[i] == ',')
				break;
			if (s[i] != ':' || parts == 4)
				return srtp_refuse(why, whylen,
						   "%s: stream %u: unexpected byte 0x%02x at %zu",
						   field, n + 1, (unsigned char)s[i], i);
			i++;
		}
		if (parts < 3)
			return srtp_refuse(why, whylen,
					   "%s: stream %u: want ssrc:roc:seq[:srtcp]", field, n + 1);
		if (dash[1] != dash[2])
			return srtp_refuse(why, whylen, "%s: stream %u: roc and seq go together",
					   field, n + 1);
		if (dash[1] && parts == 3)
			return srtp_refuse(why, whylen, "%s: stream %u: says nothing", field,
					   n + 1);
		if (parts == 4 && key_is_out(k))
			return srtp_refuse(why, whylen, "%s: stream %u: SRTCP index on an out key",
					   field, n + 1);
		memset(&x, 0, sizeof(x));
		x.ssrc = (uint32_t)v[0];
		x.key = (uint8_t)k;
		x.has_rtp = !dash[1];
		x.roc = (uint32_t)v[1];
		x.seq = (uint16_t)v[2];
		x.has_srtcp = parts == 4;
		x.srtcp = (uint32_t)v[3];
		for (j = 0; j < n; j++)
			if (out[j].ssrc == x.ssrc)
				return srtp_refuse(why, whylen, "%s: SSRC %" PRIu32 " twice", field,
						   x.ssrc);
		out[n++] = x;
		if (i < len) {
			i++; /* the comma */
			if (i == len)
				return srtp_refuse(why, whylen, "%s: empty stream after a comma",
						   field);
		}
	}
	return (int)n;
}
