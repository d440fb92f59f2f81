/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_cidr: IP prefixes as text (see duet_cidr.h): the parser of the
 * config's [security] denied_peers and allowed_peers entries and of the
 * source policy's built-in classes, and the formatter its messages use.
 * Main thread (config load) and control thread; never on a packet path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duet_cidr.h"

int
duet_cidr_parse(const char *s, struct duet_cidr *out, const char **why)
{
	char ip[DUET_ADDR_STRLEN];
	const char *slash, *bad = NULL;
	struct duet_addr a;
	unsigned long len;
	unsigned int max, full, rest, i;
	size_t n;
	char *end;

	if (s == NULL || *s == '\0') {
		bad = "empty";
		goto err;
	}
	slash = strchr(s, '/');
	n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(ip)) {
		bad = "not an IP address";
		goto err;
	}
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (duet_addr_parse_ip(ip, &a) != 0) {
		bad = "not an IP address";
		goto err;
	}
	max = a.family == DUET_AF_INET4 ? 32 : 128;
	len = max;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9' || (slash[1] == '0' && slash[2] != '\0')) {
			bad = "prefix length is not a decimal number";
			goto err;
		}
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0') {
			bad = "prefix length is not a decimal number";
			goto err;
		}
		if (len > max) {
			bad = a.family == DUET_AF_INET4 ? "prefix length above 32" :
							  "prefix length above 128";
			goto err;
		}
	}
	memset(out, 0, sizeof(*out));
	out->family = a.family;
	out->len = (uint8_t)len;
	memcpy(out->ip, a.ip, sizeof(out->ip));
	full = (unsigned int)len / 8u;
	rest = (unsigned int)len % 8u;
	for (i = full; i < 16; i++) {
		uint8_t keep = (i == full && rest != 0) ? (uint8_t)(0xffu << (8u - rest)) : 0;

		if ((a.ip[i] & (uint8_t)~keep) != 0) {
			bad = "host bits set past the prefix length";
			goto err;
		}
	}
	return 0;
err:
	if (why != NULL)
		*why = bad;
	return -EINVAL;
}

int
duet_cidr_format(const struct duet_cidr *c, char *buf, size_t len)
{
	struct duet_addr a;
	char ip[DUET_ADDR_STRLEN];
	int w;

	memset(&a, 0, sizeof(a));
	a.family = c->family;
	memcpy(a.ip, c->ip, sizeof(a.ip));
	if (duet_addr_format(&a, ip, sizeof(ip)) != 0)
		return -EINVAL;
	w = snprintf(buf, len, "%s/%u", ip, c->len);
	return w < 0 || (size_t)w >= len ? -ENOSPC : 0;
}
