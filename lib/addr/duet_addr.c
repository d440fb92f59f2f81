/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_addr: text <-> address conversion for config files, Redis records and
 * the CLI. Control thread only (it is not on any packet path).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

#include "duet_addr.h"
#include "duet_parse.h"

int
duet_addr_parse_ip(const char *s, struct duet_addr *out)
{
	struct duet_addr a;

	if (s == NULL || out == NULL)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, a.ip) == 1)
		a.family = DUET_AF_INET4;
	else if (inet_pton(AF_INET6, s, a.ip) == 1)
		a.family = DUET_AF_INET6;
	else
		return -EINVAL;
	*out = a;
	return 0;
}

int
duet_addr_parse(const char *s, struct duet_addr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *hs;
	size_t hl;
	struct duet_addr a;
	uint16_t port;

	if (s == NULL || out == NULL)
		return -EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		hs = s + 1;
		hl = (size_t)(close - hs);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -EINVAL; /* bare v6 needs brackets */
		hs = s;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (duet_addr_parse_ip(host, &a) != 0)
		return -EINVAL;
	if (s[0] == '[' && a.family != DUET_AF_INET6)
		return -EINVAL;
	/* One spelling per port: Redis's free set and alloc hash compare
	 * endpoints as text, so "020003" would not be 20003 there. */
	if (duet_parse_port(colon + 1, 0, &port) != 0)
		return -EINVAL;
	a.port = htons(port);
	*out = a;
	return 0;
}

int
duet_addr_format(const struct duet_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	int n;

	if (a == NULL || buf == NULL)
		return -EINVAL;
	if (a->family == DUET_AF_INET4)
		inet_ntop(AF_INET, a->ip, ip, sizeof(ip));
	else if (a->family == DUET_AF_INET6)
		inet_ntop(AF_INET6, a->ip, ip, sizeof(ip));
	else
		return -EINVAL;
	if (a->port == 0)
		n = snprintf(buf, len, "%s", ip);
	else if (a->family == DUET_AF_INET6)
		n = snprintf(buf, len, "[%s]:%u", ip, ntohs(a->port));
	else
		n = snprintf(buf, len, "%s:%u", ip, ntohs(a->port));
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return 0;
}
