/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_parse: the shared text parsers (see duet_parse.h): whole numbers,
 * ports and Redis addresses (one server, Sentinels or cluster seed nodes).
 * Pure, callable from any thread; used by the control thread and the
 * command-line tools.
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

/* n characters of letters, digits, '.', '-' and '_' only. */
static bool
name_chars(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

/* A DNS name, loosely: what getaddrinfo could resolve, no spaces or junk. */
static bool
valid_hostname(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 253 && s[0] != '.' && s[0] != '-' && name_chars(s, n);
}

static int
fail(const char **why, const char *what)
{
	if (why != NULL)
		*why = what;
	return -EINVAL;
}

/* "host:port" or "[v6]:port", NUL-terminated, into host and port. */
static int
parse_tcp(const char *s, char host[DUET_REDIS_ADDR_HOST_MAX], uint16_t *port, const char **why)
{
	unsigned char ip[16];
	const char *colon, *hs;
	size_t hl;

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
	if (hl == 0 || hl >= DUET_REDIS_ADDR_HOST_MAX)
		return fail(why, "host is empty or too long");
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (s[0] == '[') {
		if (inet_pton(AF_INET6, host, ip) != 1)
			return fail(why, "not an IPv6 address inside [ ]");
	} else if (all_digits_and_dots(host)) {
		if (inet_pton(AF_INET, host, ip) != 1)
			return fail(why, "not a valid IPv4 address");
	} else if (!valid_hostname(host)) {
		return fail(why, "not a valid host name");
	}
	if (duet_parse_port(colon + 1, DUET_PARSE_PORT_LEADING_ZEROS, port) != 0)
		return fail(why, "TCP port must be 1..65535");
	return 0;
}

/* "NODE,NODE,..." into a->nodes. */
static int
parse_nodes(const char *s, struct duet_redis_addr *a, const char **why)
{
	/* A node is a host (at most 255) and a port: brackets, colon and up
	 * to 5 digits (more leading zeros make it too long: refused). */
	char one[DUET_REDIS_ADDR_HOST_MAX + 16];
	const char *end;
	size_t n;

	for (;;) {
		end = strchr(s, ',');
		n = end != NULL ? (size_t)(end - s) : strlen(s);
		if (n == 0)
			return fail(why, "empty node in the list (host:port,host:port,...)");
		if (a->n_nodes == DUET_REDIS_ADDR_NODES_MAX)
			return fail(why, "more than 8 nodes");
		if (n >= sizeof(one))
			return fail(why, "host is empty or too long");
		memcpy(one, s, n);
		one[n] = '\0';
		if (strncmp(one, "unix:", 5) == 0 || one[0] == '/')
			return fail(why, "Sentinels and cluster nodes are host:port, not unix sockets");
		if (strchr(one, ':') == NULL)
			return fail(why, "expected host:port or [IPv6]:port for each node");
		if (parse_tcp(one, a->nodes[a->n_nodes].host, &a->nodes[a->n_nodes].port, why) !=
		    0)
			return -EINVAL;
		a->n_nodes++;
		if (end == NULL)
			return 0;
		s = end + 1;
	}
}

/* A Sentinel master name: what sentinel.conf takes, minus the odd ones. */
static bool
valid_master_name(const char *s, size_t n)
{
	return n > 0 && n < DUET_REDIS_ADDR_NAME_MAX && name_chars(s, n);
}

/* "sentinel:PORT" and "cluster:PORT" name a host called sentinel or
 * cluster, as they did before those prefixes meant anything. */
static bool
is_plain_port(const char *s)
{
	if (s[0] == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int
duet_parse_redis_addr(const char *s, struct duet_redis_addr *out, const char **why)
{
	struct duet_redis_addr a;

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
	if (strncmp(s, "sentinel:", 9) == 0 && !is_plain_port(s + 9)) {
		const char *at = strchr(s + 9, '@');

		if (at == NULL)
			return fail(why, "expected sentinel:NAME@host:port,host:port,...");
		if (!valid_master_name(s + 9, (size_t)(at - (s + 9))))
			return fail(why, "Sentinel master name must be 1..64 characters of "
					 "[A-Za-z0-9._-]");
		memcpy(a.master_name, s + 9, (size_t)(at - (s + 9)));
		a.kind = DUET_REDIS_ADDR_SENTINEL;
		if (parse_nodes(at + 1, &a, why) != 0)
			return -EINVAL;
		*out = a;
		return 0;
	}
	if (strncmp(s, "cluster:", 8) == 0 && !is_plain_port(s + 8)) {
		a.kind = DUET_REDIS_ADDR_CLUSTER;
		if (parse_nodes(s + 8, &a, why) != 0)
			return -EINVAL;
		*out = a;
		return 0;
	}
	if (parse_tcp(s, a.host, &a.port, why) != 0)
		return -EINVAL;
	*out = a;
	return 0;
}
