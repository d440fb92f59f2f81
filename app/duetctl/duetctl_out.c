/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duetctl output: a small streaming JSON writer (numbers from Redis are
 * written as JSON numbers when they are plain decimal) and a terminal-safe
 * text printer. Values come from Redis, where anyone with write access may have
 * put any bytes, so JSON strings are escaped and forced to valid UTF-8, and
 * text output never passes control characters through.
 */
#include <inttypes.h>
#include <string.h>

#include "duetctl.h"

#define DECIMAL_DIGITS_MAX 20 /* UINT64_MAX has 20 digits */

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs,
 * no surrogates, nothing past U+10FFFF), or 0 if it is not one. */
static size_t
utf8_seq_len(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	/* The second byte's range is narrower after these leads. */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

static void
json_escaped(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	fputc('"', f);
	while (i < len) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n':
				fputs("\\n", f);
				break;
			case '\r':
				fputs("\\r", f);
				break;
			case '\t':
				fputs("\\t", f);
				break;
			default:
				fprintf(f, "\\u%04x", c);
			}
			i++;
		} else if ((n = utf8_seq_len(p + i, len - i)) != 0) {
			fwrite(p + i, 1, n, f);
			i += n;
		} else {
			/* Invalid byte: the replacement character keeps the
			 * document parseable and shows something was there. */
			fputs("\\ufffd", f);
			i++;
		}
	}
	fputc('"', f);
}

void
duetctl_json_init(struct duetctl_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

/* Separator before a value or key at the current level. */
static void
json_sep(struct duetctl_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = true;
}

void
duetctl_json_open(struct duetctl_json *j, char bracket)
{
	json_sep(j);
	fputc(bracket, j->f);
	if (j->depth + 1 < sizeof(j->need_comma) / sizeof(j->need_comma[0]))
		j->depth++;
	j->need_comma[j->depth] = false;
}

void
duetctl_json_close(struct duetctl_json *j, char bracket)
{
	fputc(bracket, j->f);
	if (j->depth > 0)
		j->depth--;
}

void
duetctl_json_key(struct duetctl_json *j, const char *key, size_t len)
{
	json_sep(j);
	json_escaped(j->f, key, len);
	fputc(':', j->f);
	j->after_key = true;
}

void
duetctl_json_str(struct duetctl_json *j, const char *s, size_t len)
{
	json_sep(j);
	if (s == NULL)
		fputs("null", j->f);
	else
		json_escaped(j->f, s, len);
}

void
duetctl_json_kv(struct duetctl_json *j, const char *key, const char *s)
{
	duetctl_json_key(j, key, strlen(key));
	duetctl_json_str(j, s, s != NULL ? strlen(s) : 0);
}

void
duetctl_json_u64(struct duetctl_json *j, uint64_t v)
{
	json_sep(j);
	fprintf(j->f, "%" PRIu64, v);
}

void
duetctl_json_ku64(struct duetctl_json *j, const char *key, uint64_t v)
{
	duetctl_json_key(j, key, strlen(key));
	duetctl_json_u64(j, v);
}

void
duetctl_json_kbool(struct duetctl_json *j, const char *key, bool v)
{
	duetctl_json_key(j, key, strlen(key));
	json_sep(j);
	fputs(v ? "true" : "false", j->f);
}

bool
duetctl_is_decimal(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > DECIMAL_DIGITS_MAX || (s[0] == '0' && len > 1))
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

void
duetctl_json_num_or_str(struct duetctl_json *j, const char *s, size_t len)
{
	if (!duetctl_is_decimal(s, len)) {
		duetctl_json_str(j, s, len);
		return;
	}
	/* Digits only: nothing to escape. */
	json_sep(j);
	fwrite(s, 1, len, j->f);
}

void
duetctl_json_end(struct duetctl_json *j)
{
	fputc('\n', j->f);
}

void
duetctl_print_text(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		n = utf8_seq_len(p + i, len - i);
		/* C0 and C1 controls (U+0080..U+009F is C2 80..C2 9F) and
		 * invalid bytes could steer a terminal: show '?' instead. */
		if (n == 0 || (n == 1 && (p[i] < 0x20 || p[i] == 0x7f)) ||
		    (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			fputc('?', f);
			i += n != 0 ? n : 1;
			continue;
		}
		fwrite(p + i, 1, n, f);
		i += n;
	}
}
