/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of lib/addr/duet_addr.c: text forms of relay and client addresses. */
#include <arpa/inet.h>
#include <errno.h>

#include <criterion/criterion.h>

#include "duet_addr.h"

Test(addr, parses_ipv4_with_port)
{
	struct duet_addr a;

	cr_assert_eq(duet_addr_parse("192.0.2.1:20000", &a), 0);
	cr_assert_eq(a.family, DUET_AF_INET4);
	cr_assert_eq(ntohs(a.port), 20000);
	cr_assert_eq(a.ip[0], 192);
	cr_assert_eq(a.ip[3], 1);
	cr_assert_eq(a.ip[4], 0);
}

Test(addr, parses_bracketed_ipv6)
{
	struct duet_addr a;

	cr_assert_eq(duet_addr_parse("[2001:db8::1]:5004", &a), 0);
	cr_assert_eq(a.family, DUET_AF_INET6);
	cr_assert_eq(ntohs(a.port), 5004);
	cr_assert_eq(a.ip[0], 0x20);
	cr_assert_eq(a.ip[15], 1);
}

Test(addr, refuses_malformed_text)
{
	static const char *const bad[] = {
		"", "192.0.2.1", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536", "192.0.2.1:-1",
		"192.0.2.1:80x", "192.0.2:80", "2001:db8::1:80", "[192.0.2.1]:80", "[2001:db8::1]80",
		"[2001:db8::1:80", "host.example:80", ":80", "192.0.2.1: 80", " 192.0.2.1:80",
	};
	struct duet_addr a;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(duet_addr_parse(bad[i], &a), -EINVAL, "accepted '%s'", bad[i]);
	cr_assert_eq(duet_addr_parse(NULL, &a), -EINVAL);
}

/* Redis's free set and alloc hash compare endpoints as text, so an endpoint
 * has one spelling: "020003" would name 20003 yet never match it there. */
Test(addr, port_with_a_leading_zero_is_refused)
{
	static const char *const bad[] = { "192.0.2.1:020003", "192.0.2.1:00080",
					   "[2001:db8::1]:05004", "192.0.2.1:00" };
	struct duet_addr a;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(duet_addr_parse(bad[i], &a), -EINVAL, "accepted '%s'", bad[i]);
	cr_assert_eq(duet_addr_parse("192.0.2.1:20003", &a), 0);
	cr_assert_eq(ntohs(a.port), 20003);
	cr_assert_eq(duet_addr_parse("192.0.2.1:10", &a), 0, "a zero that is not leading");
	cr_assert_eq(ntohs(a.port), 10);
}

Test(addr, formats_round_trip)
{
	static const char *const good[] = { "192.0.2.1:20000", "[2001:db8::7]:65535",
					    "203.0.113.255:1" };
	char buf[DUET_ADDR_STRLEN];
	struct duet_addr a;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		cr_assert_eq(duet_addr_parse(good[i], &a), 0);
		cr_assert_eq(duet_addr_format(&a, buf, sizeof(buf)), 0);
		cr_assert_str_eq(buf, good[i]);
	}
	cr_assert_eq(duet_addr_format(&a, buf, 4), -ENOSPC);
}

Test(addr, ip_only_form_has_port_zero)
{
	char buf[DUET_ADDR_STRLEN];
	struct duet_addr a;

	cr_assert_eq(duet_addr_parse_ip("198.51.100.7", &a), 0);
	cr_assert_eq(a.port, 0);
	cr_assert_eq(duet_addr_format(&a, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "198.51.100.7");
	cr_assert_eq(duet_addr_parse_ip("198.51.100.7:1", &a), -EINVAL);
}

Test(addr, equality_covers_family_ip_and_port)
{
	struct duet_addr x, y;

	duet_addr_parse("192.0.2.1:1000", &x);
	duet_addr_parse("192.0.2.1:1000", &y);
	cr_assert(duet_addr_equal(&x, &y));
	duet_addr_parse("192.0.2.1:1001", &y);
	cr_assert_not(duet_addr_equal(&x, &y));
	cr_assert(duet_addr_same_ip(&x, &y));
	duet_addr_set4(&y, htonl(0xC0000201), htons(1000));
	cr_assert(duet_addr_equal(&x, &y));
}
