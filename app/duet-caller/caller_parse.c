/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet-caller's argument parsers (see caller_parse.h). Main thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "caller_parse.h"
#include "duet_parse.h"

int
caller_parse_seconds(const char *s, uint64_t min_ms, uint64_t max_ms, uint64_t *ms)
{
	char whole[24];
	const char *dot;
	uint64_t sec, frac = 0;
	size_t n, i;

	if (s == NULL)
		return -EINVAL;
	dot = strchr(s, '.');
	n = dot != NULL ? (size_t)(dot - s) : strlen(s);
	if (n == 0 || n >= sizeof(whole))
		return -EINVAL;
	memcpy(whole, s, n);
	whole[n] = '\0';
	if (duet_parse_u64(whole, 0, UINT64_MAX / 1000 - 1, &sec) != 0)
		return -EINVAL;
	if (dot != NULL) {
		const char *f = dot + 1;
		size_t fl = strlen(f);

		if (fl == 0 || fl > 3)
			return -EINVAL;
		for (i = 0; i < 3; i++) {
			if (i < fl && (f[i] < '0' || f[i] > '9'))
				return -EINVAL;
			frac = frac * 10 + (i < fl ? (uint64_t)(f[i] - '0') : 0);
		}
	}
	sec = sec * 1000 + frac;
	if (sec < min_ms || sec > max_ms)
		return -EINVAL;
	*ms = sec;
	return 0;
}

int
caller_parse_addr(const char *s, bool allow_port0, struct sockaddr_storage *out, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *port_s;
	uint16_t port;
	size_t hl;

	if (s == NULL)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		hl = (size_t)(close - s - 1);
		port_s = close + 2;
		if (hl == 0 || hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		*len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)out;

		colon = strrchr(s, ':');
		if (colon == NULL)
			return -EINVAL;
		hl = (size_t)(colon - s);
		port_s = colon + 1;
		if (hl == 0 || hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		*len = sizeof(*a4);
	}
	if (duet_parse_port(port_s, allow_port0 ? DUET_PARSE_PORT_ZERO : 0, &port) != 0) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	caller_addr_set_port(out, port);
	return 0;
}

int
caller_canonical_ip(const char *s, char *buf, size_t len)
{
	unsigned char raw[16];
	int af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;

	if (inet_pton(af, s, raw) != 1)
		return -EINVAL;
	if (inet_ntop(af, raw, buf, (socklen_t)len) == NULL)
		return -ENOSPC;
	return 0;
}

uint16_t
caller_addr_port(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	return ntohs(((const struct sockaddr_in *)a)->sin_port);
}

void
caller_addr_set_port(struct sockaddr_storage *a, uint16_t port)
{
	if (a->ss_family == AF_INET6)
		((struct sockaddr_in6 *)a)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)a)->sin_port = htons(port);
}

void
caller_format_addr(const struct sockaddr_storage *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (a->ss_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, ip, sizeof(ip)) != NULL)
		snprintf(buf, len, "[%s]:%u", ip, caller_addr_port(a));
	else if (a->ss_family == AF_INET &&
		 inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, ip, sizeof(ip)) != NULL)
		snprintf(buf, len, "%s:%u", ip, caller_addr_port(a));
	else
		snprintf(buf, len, "?");
}
