/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_parse: the shared text parsers (see duet_parse.h): whole numbers,
 * ports and Redis server addresses. Pure, callable from any thread; used
 * by the control thread and the command-line tools.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "duet_parse.h"

int
duet_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	/* "0" alone is zero; "007" is refused so one value has one spelling. */
	if (s == NULL || s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -EINVAL;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned int)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
duet_parse_port(const char *s, unsigned int flags, uint16_t *out)
{
	uint64_t v;

	if (s == NULL)
		return -EINVAL;
	/* Leading zeros change no value; past them the one number grammar
	 * applies ("00" is zero, "0x10" and "+1" stay refused). */
	if (flags & DUET_PARSE_PORT_LEADING_ZEROS)
		while (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			s++;
	if (duet_parse_u64(s, (flags & DUET_PARSE_PORT_ZERO) ? 0 : 1, 65535, &v) != 0)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

static bool
all_digits_and_dots(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s) && *s != '.')
			return false;
	return true;
}

/* A DNS name, loosely: what getaddrinfo could resolve, no spaces or junk. */
static bool
valid_hostname(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

static int
fail(const char **why, const char *what)
{
	if (why != NULL)
		*why = what;
	return -EINVAL;
}

int
duet_parse_redis_addr(const char *s, struct duet_redis_addr *out, const char **why)
{
	struct duet_redis_addr a;
	unsigned char ip[16];
	const char *colon, *hs;
	size_t hl;

	if (s == NULL || out == NULL)
		return fail(why, "no address");
	memset(&a, 0, sizeof(a));
	if (strncmp(s, "unix:", 5) == 0 || s[0] == '/') {
		const char *path = s[0] == '/' ? s : s + 5;

		if (path[0] != '/')
			return fail(why, "unix socket path must be absolute");
		if (strlen(path) >= sizeof(a.unix_path))
			return fail(why, "unix socket path longer than 107 characters");
		strcpy(a.unix_path, path);
		*out = a;
		return 0;
	}
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return fail(why, "expected [IPv6]:port");
		hs = s + 1;
		hl = (size_t)(close - hs);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return fail(why, "expected unix:/path, host:port or [IPv6]:port");
		if (memchr(s, ':', (size_t)(colon - s)) != NULL)
			return fail(why, "an IPv6 address needs brackets, e.g. [::1]:6379");
		hs = s;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(a.host))
		return fail(why, "host is empty or too long");
	memcpy(a.host, hs, hl);
	a.host[hl] = '\0';
	if (s[0] == '[') {
		if (inet_pton(AF_INET6, a.host, ip) != 1)
			return fail(why, "not an IPv6 address inside [ ]");
	} else if (all_digits_and_dots(a.host)) {
		if (inet_pton(AF_INET, a.host, ip) != 1)
			return fail(why, "not a valid IPv4 address");
	} else if (!valid_hostname(a.host)) {
		return fail(why, "not a valid host name");
	}
	if (duet_parse_port(colon + 1, DUET_PARSE_PORT_LEADING_ZEROS, &a.port) != 0)
		return fail(why, "TCP port must be 1..65535");
	*out = a;
	return 0;
}
