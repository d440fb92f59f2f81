/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the address and number parsers every duet program shares:
 * duet_addr_parse and duet_addr_parse_ip (lib/addr: endpoints and pins from
 * Redis, config addresses), duet_parse_u64, duet_parse_port and
 * duet_parse_redis_addr (lib/util: config values, --redis options). Any
 * byte string, cut at its first NUL, is given to all of them, and the
 * target checks what each claims: an accepted address formats to text that
 * parses back to it, and is the only spelling (endpoints are compared as
 * text in Redis); a number has one spelling; the port flags only ever widen
 * what is accepted; a Redis address is a unix path or a host and port,
 * never both. Built with clang's -fsanitize=fuzzer (tests/fuzz/meson.build).
 * Test process only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duet_addr.h"
#include "duet_parse.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_addr(const char *s)
{
	struct duet_addr a, b;
	char text[DUET_ADDR_STRLEN];

	if (duet_addr_parse(s, &a) == 0) {
		CHECK(a.family == DUET_AF_INET4 || a.family == DUET_AF_INET6);
		CHECK(a.reserved == 0 && a.port != 0);
		if (a.family == DUET_AF_INET4)
			CHECK(memcmp(a.ip + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) == 0);
		CHECK(duet_addr_format(&a, text, sizeof(text)) == 0);
		CHECK(duet_addr_parse(text, &b) == 0 && duet_addr_equal(&a, &b));
		/* One spelling: what was accepted is what formatting gives,
		 * but for IPv6, whose text has several spellings. */
		if (a.family == DUET_AF_INET4)
			CHECK(strcmp(text, s) == 0);
		/* Too small a buffer is refused, never overrun. */
		CHECK(duet_addr_format(&a, text, strlen(text)) == -ENOSPC);
	}
	if (duet_addr_parse_ip(s, &a) == 0) {
		CHECK(a.family == DUET_AF_INET4 || a.family == DUET_AF_INET6);
		CHECK(a.reserved == 0 && a.port == 0);
		CHECK(duet_addr_format(&a, text, sizeof(text)) == 0);
		CHECK(duet_addr_parse_ip(text, &b) == 0 && duet_addr_equal(&a, &b));
	}
}

static void
check_numbers(const char *s)
{
	char text[24];
	uint64_t v, w;
	uint16_t port[4];
	int ok[4];
	unsigned int f;

	if (duet_parse_u64(s, 0, UINT64_MAX, &v) == 0) {
		snprintf(text, sizeof(text), "%" PRIu64, v);
		CHECK(strcmp(text, s) == 0);
		CHECK(duet_parse_u64(s, v, v, &w) == 0 && w == v);
		if (v < UINT64_MAX)
			CHECK(duet_parse_u64(s, v + 1, UINT64_MAX, &w) != 0);
		if (v > 0)
			CHECK(duet_parse_u64(s, 0, v - 1, &w) != 0);
	} else {
		CHECK(duet_parse_u64(s, 0, UINT64_MAX, &w) != 0);
	}
	for (f = 0; f < 4; f++)
		ok[f] = duet_parse_port(s, f, &port[f]) == 0;
	/* Each flag only adds spellings, and values keep their meaning. */
	for (f = 0; f < 4; f++) {
		if (!ok[f])
			continue;
		CHECK(ok[f | DUET_PARSE_PORT_ZERO] && port[f | DUET_PARSE_PORT_ZERO] == port[f]);
		CHECK(ok[f | DUET_PARSE_PORT_LEADING_ZEROS] &&
		      port[f | DUET_PARSE_PORT_LEADING_ZEROS] == port[f]);
		CHECK(port[f] != 0 || (f & DUET_PARSE_PORT_ZERO));
	}
	/* The strict form is the u64 grammar in 1..65535. */
	CHECK(ok[0] == (duet_parse_u64(s, 1, 65535, &v) == 0));
	if (ok[0])
		CHECK(v == port[0]);
}

/* A TCP host and port as parsed: terminated, an IP literal or a name (no
 * blank or slash), a port. */
static void
check_host(const char *host, size_t size, uint16_t port)
{
	size_t i;

	CHECK(memchr(host, '\0', size) != NULL);
	CHECK(host[0] != '\0' && port != 0);
	for (i = 0; host[i] != '\0'; i++)
		CHECK(host[i] > ' ' && host[i] < 127 && host[i] != '/');
}

static void
check_redis_addr(const char *s)
{
	struct duet_redis_addr a;
	const char *why = NULL;
	size_t i;

	if (duet_parse_redis_addr(s, &a, &why) != 0) {
		CHECK(why != NULL && why[0] != '\0');
		return;
	}
	CHECK(memchr(a.unix_path, '\0', sizeof(a.unix_path)) != NULL);
	CHECK(memchr(a.host, '\0', sizeof(a.host)) != NULL);
	if (a.kind != DUET_REDIS_ADDR_SERVER) {
		/* Sentinels or cluster seeds: the nodes carry the addresses. */
		CHECK(a.kind == DUET_REDIS_ADDR_SENTINEL || a.kind == DUET_REDIS_ADDR_CLUSTER);
		CHECK(a.unix_path[0] == '\0' && a.host[0] == '\0');
		CHECK(a.n_nodes >= 1 && a.n_nodes <= DUET_REDIS_ADDR_NODES_MAX);
		CHECK((a.kind == DUET_REDIS_ADDR_SENTINEL) == (a.master_name[0] != '\0'));
		for (i = 0; i < a.n_nodes; i++)
			check_host(a.nodes[i].host, sizeof(a.nodes[i].host), a.nodes[i].port);
		return;
	}
	CHECK(a.n_nodes == 0 && a.master_name[0] == '\0');
	if (a.unix_path[0] != '\0') {
		CHECK(a.unix_path[0] == '/' && a.host[0] == '\0' && a.port == 0);
		return;
	}
	check_host(a.host, sizeof(a.host), a.port);
	if (strchr(a.host, ':') != NULL)
		CHECK(s[0] == '[');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[320];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;

	memcpy(s, data, n);
	s[n] = '\0';
	check_addr(s);
	check_numbers(s);
	check_redis_addr(s);
	return 0;
}
