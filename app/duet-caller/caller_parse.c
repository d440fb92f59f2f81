/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet-caller's argument parsers (see caller_parse.h): addresses in
 * lib/addr's grammar (IPv4 and IPv6, the text duetd prints and writes to
 * Redis) turned into socket addresses, and back into text for messages.
 * Main thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "caller_parse.h"
#include "duet_addr.h"
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

/* A lib/addr address as a socket address. */
static void
to_sockaddr(const struct duet_addr *d, struct sockaddr_storage *out, socklen_t *len)
{
	memset(out, 0, sizeof(*out));
	if (d->family == DUET_AF_INET6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;

		a6->sin6_family = AF_INET6;
		a6->sin6_port = d->port;
		memcpy(&a6->sin6_addr, d->ip, 16);
		*len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)out;

		a4->sin_family = AF_INET;
		a4->sin_port = d->port;
		memcpy(&a4->sin_addr, d->ip, 4);
		*len = sizeof(*a4);
	}
}

int
caller_parse_addr(const char *s, bool allow_port0, struct sockaddr_storage *out, socklen_t *len)
{
	char text[CALLER_ADDR_STRLEN + 1];
	struct duet_addr d;
	size_t n;

	if (s == NULL)
		return -EINVAL;
	/* lib/addr's grammar, the one duetd prints endpoints in. It refuses
	 * port 0 (no endpoint has it); a bind address may ask the kernel for
	 * a port, so ":0" is parsed as ":1" and set back. */
	n = strlen(s);
	if (allow_port0 && n >= 2 && n < sizeof(text) && strcmp(s + n - 2, ":0") == 0) {
		memcpy(text, s, n + 1);
		text[n - 1] = '1';
		if (duet_addr_parse(text, &d) != 0)
			return -EINVAL;
		d.port = 0;
	} else if (duet_addr_parse(s, &d) != 0) {
		return -EINVAL;
	}
	to_sockaddr(&d, out, len);
	return 0;
}

int
caller_canonical_ip(const char *s, char *buf, size_t len)
{
	struct duet_addr d;

	if (s == NULL || duet_addr_parse_ip(s, &d) != 0)
		return -EINVAL;
	/* Port 0: the IP alone, as duetd writes a_ip/b_ip. */
	return duet_addr_format(&d, buf, len) == 0 ? 0 : -ENOSPC;
}

int
caller_ip_family(const char *ip)
{
	struct duet_addr d;

	if (ip == NULL || duet_addr_parse_ip(ip, &d) != 0)
		return 0;
	return d.family == DUET_AF_INET6 ? AF_INET6 : AF_INET;
}

const char *
caller_family_name(int family)
{
	return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "no family";
}

bool
caller_addr_is_any(const struct sockaddr_storage *a)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &any6,
			      sizeof(any6)) == 0;
	return false;
}

bool
caller_addr_is_v4mapped(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 &&
	       IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)a)->sin6_addr);
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
