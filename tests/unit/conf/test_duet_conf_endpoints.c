/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/conf/duet_conf_endpoints.c: the endpoint space of a
 * loaded config (endpoints_two_ports.conf: two ports, three IPv4 service
 * addresses, UDP ports 20000..20002; endpoints_mixed_families.conf: the same
 * shape with IPv6 addresses beside and instead of IPv4).
 * duet_conf_endpoint_port finds the serving port, and enumeration with
 * duet_conf_endpoint_at agrees with it in a stable order. No EAL.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include "duet_conf.h"

static void
two_port_conf(struct duet_conf *c)
{
	char err[DUET_CONF_ERR_MAX];

	cr_assert_eq(duet_conf_load(DUET_TWO_PORTS_CONF, c, err, sizeof(err)), 0, "%s", err);
}

Test(conf_endpoints, endpoint_port_finds_the_serving_port)
{
	struct duet_conf c;
	struct duet_addr ep;

	two_port_conf(&c);
	duet_addr_set4(&ep, htonl(0xc6336401), htons(20001));
	cr_assert_eq(duet_conf_endpoint_port(&c, &ep), 1);
	duet_addr_set4(&ep, htonl(0xc0000202), htons(20000));
	cr_assert_eq(duet_conf_endpoint_port(&c, &ep), 0);
	duet_addr_set4(&ep, htonl(0xc0000202), htons(20003));
	cr_assert_eq(duet_conf_endpoint_port(&c, &ep), -ERANGE);
	duet_addr_set4(&ep, htonl(0xc0000202), htons(19999));
	cr_assert_eq(duet_conf_endpoint_port(&c, &ep), -ERANGE);
	duet_addr_set4(&ep, htonl(0xc0000203), htons(20000));
	cr_assert_eq(duet_conf_endpoint_port(&c, &ep), -ENOENT);
}

Test(conf_endpoints, endpoint_enumeration_round_trips_with_endpoint_port)
{
	struct duet_conf c;
	struct duet_addr ep, prev, want;
	uint64_t i, n;

	two_port_conf(&c);
	n = duet_conf_endpoint_count(&c);
	cr_assert_eq(n, 9);
	for (i = 0; i < n; i++) {
		cr_assert_eq(duet_conf_endpoint_at(&c, i, &ep), 0);
		cr_assert_eq(duet_conf_endpoint_port(&c, &ep), i < 6 ? 0 : 1, "endpoint %lu",
			     (unsigned long)i);
		cr_assert_eq(ntohs(ep.port), 20000 + i % 3);
		if (i > 0)
			cr_assert(!duet_addr_equal(&ep, &prev));
		prev = ep;
	}
	/* stable order: ports, then addresses, then UDP ports ascending */
	cr_assert_eq(duet_conf_endpoint_at(&c, 3, &ep), 0);
	duet_addr_set4(&want, htonl(0xc0000202), htons(20000));
	cr_assert(duet_addr_equal(&ep, &want));
	cr_assert_eq(duet_conf_endpoint_at(&c, 8, &ep), 0);
	duet_addr_set4(&want, htonl(0xc6336401), htons(20002));
	cr_assert(duet_addr_equal(&ep, &want));
	cr_assert_eq(duet_conf_endpoint_at(&c, n, &ep), -ERANGE);
}

static struct duet_addr
ep_of(const char *text)
{
	struct duet_addr a;

	cr_assert_eq(duet_addr_parse(text, &a), 0, "%s", text);
	return a;
}

Test(conf_endpoints, ipv6_endpoints_are_found_and_enumerated_beside_ipv4)
{
	static const char *const want[] = {
		"192.0.2.1:20000",	"192.0.2.1:20001",	"192.0.2.1:20002",
		"[2001:db8::1]:20000",	"[2001:db8::1]:20001",	"[2001:db8::1]:20002",
		"[2001:db8:1::5]:20000", "[2001:db8:1::5]:20001", "[2001:db8:1::5]:20002",
	};
	struct duet_conf c;
	char err[DUET_CONF_ERR_MAX], text[DUET_ADDR_STRLEN];
	struct duet_addr ep;
	uint64_t i;

	cr_assert_eq(duet_conf_load(DUET_MIXED_CONF, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(duet_conf_endpoint_count(&c), 9);
	for (i = 0; i < 9; i++) {
		cr_assert_eq(duet_conf_endpoint_at(&c, i, &ep), 0);
		cr_assert_eq(duet_addr_format(&ep, text, sizeof(text)), 0);
		cr_assert_str_eq(text, want[i], "endpoint %lu", (unsigned long)i);
		cr_assert_eq(duet_conf_endpoint_port(&c, &ep), i < 6 ? 0 : 1, "endpoint %s", text);
	}
	ep = ep_of("[2001:db8:1::5]:20001");
	cr_assert_eq(duet_conf_endpoint_port(&c, &ep), 1);
	ep = ep_of("[2001:db8::1]:20003");
	cr_assert_eq(duet_conf_endpoint_port(&c, &ep), -ERANGE);
	ep = ep_of("[2001:db8::2]:20000");
	cr_assert_eq(duet_conf_endpoint_port(&c, &ep), -ENOENT);
	/* An IPv4 address whose bytes begin an IPv6 service address is no match. */
	ep = ep_of("32.1.13.184:20000"); /* 20 01 0d b8 */
	cr_assert_eq(duet_conf_endpoint_port(&c, &ep), -ENOENT);
}

Test(conf_endpoints, endpoint_count_is_zero_without_config)
{
	struct duet_conf c;
	struct duet_addr ep;

	duet_conf_defaults(&c);
	cr_assert_eq(duet_conf_endpoint_count(&c), 0);
	cr_assert_eq(duet_conf_endpoint_at(&c, 0, &ep), -ERANGE);
}
