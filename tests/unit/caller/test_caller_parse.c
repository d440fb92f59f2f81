/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of app/duet-caller/caller_parse.c: the seconds and address
 * parsers behind duet-caller's options, IPv4 and IPv6 (lib/addr's grammar,
 * plus port 0 for bind addresses), and the address predicates the option
 * checks use. Whole numbers are duet_parse_u64,
 * tested in tests/unit/util/test_duet_parse.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>

#include <criterion/criterion.h>

#include "caller_parse.h"

Test(caller_parse, seconds_with_up_to_three_decimals)
{
	uint64_t ms = 0;

	cr_assert_eq(caller_parse_seconds("5", 0, UINT64_MAX, &ms), 0);
	cr_assert_eq(ms, 5000);
	cr_assert_eq(caller_parse_seconds("0.5", 0, UINT64_MAX, &ms), 0);
	cr_assert_eq(ms, 500);
	cr_assert_eq(caller_parse_seconds("2.125", 0, UINT64_MAX, &ms), 0);
	cr_assert_eq(ms, 2125);
	cr_assert_eq(caller_parse_seconds("10.02", 0, UINT64_MAX, &ms), 0);
	cr_assert_eq(ms, 10020);
	cr_assert_eq(caller_parse_seconds("1.", 0, UINT64_MAX, &ms), -EINVAL);
	cr_assert_eq(caller_parse_seconds(".5", 0, UINT64_MAX, &ms), -EINVAL);
	cr_assert_eq(caller_parse_seconds("1.2345", 0, UINT64_MAX, &ms), -EINVAL);
	cr_assert_eq(caller_parse_seconds("1.2.3", 0, UINT64_MAX, &ms), -EINVAL);
	cr_assert_eq(caller_parse_seconds("1e3", 0, UINT64_MAX, &ms), -EINVAL);
	cr_assert_eq(caller_parse_seconds("-1", 0, UINT64_MAX, &ms), -EINVAL);
	cr_assert_eq(caller_parse_seconds("0.01", 20, 1000, &ms), -EINVAL, "below min");
	cr_assert_eq(caller_parse_seconds("2", 20, 1000, &ms), -EINVAL, "above max");
}

Test(caller_parse, ipv4_and_ipv6_addresses)
{
	struct sockaddr_storage a;
	socklen_t len = 0;
	char text[CALLER_ADDR_STRLEN];

	cr_assert_eq(caller_parse_addr("192.0.2.10:4000", false, &a, &len), 0);
	cr_assert_eq(a.ss_family, AF_INET);
	cr_assert_eq(len, sizeof(struct sockaddr_in));
	cr_assert_eq(caller_addr_port(&a), 4000);
	caller_format_addr(&a, text, sizeof(text));
	cr_assert_str_eq(text, "192.0.2.10:4000");
	cr_assert_eq(caller_parse_addr("[2001:DB8::1]:5004", false, &a, &len), 0);
	cr_assert_eq(a.ss_family, AF_INET6);
	cr_assert_eq(len, sizeof(struct sockaddr_in6));
	caller_addr_set_port(&a, 6000);
	caller_format_addr(&a, text, sizeof(text));
	cr_assert_str_eq(text, "[2001:db8::1]:6000");
}

Test(caller_parse, port_zero_only_where_allowed)
{
	struct sockaddr_storage a;
	socklen_t len;

	cr_assert_eq(caller_parse_addr("127.0.0.1:0", true, &a, &len), 0);
	cr_assert_eq(caller_addr_port(&a), 0);
	cr_assert_eq(caller_parse_addr("127.0.0.1:0", false, &a, &len), -EINVAL);
}

Test(caller_parse, ipv6_port_zero_for_binds_only)
{
	struct sockaddr_storage a;
	socklen_t len = 0;
	char text[CALLER_ADDR_STRLEN];

	cr_assert_eq(caller_parse_addr("[::]:0", true, &a, &len), 0);
	cr_assert_eq(a.ss_family, AF_INET6);
	cr_assert_eq(len, sizeof(struct sockaddr_in6));
	cr_assert_eq(caller_addr_port(&a), 0);
	caller_format_addr(&a, text, sizeof(text));
	cr_assert_str_eq(text, "[::]:0");
	cr_assert_eq(caller_parse_addr("[2001:db8::1]:0", false, &a, &len), -EINVAL);
	/* Only a whole port of 0 is the bind case, not a port ending in 0. */
	cr_assert_eq(caller_parse_addr("[2001:db8::1]:20", true, &a, &len), 0);
	cr_assert_eq(caller_addr_port(&a), 20);
	cr_assert_eq(caller_parse_addr("192.0.2.1:10", true, &a, &len), 0);
	cr_assert_eq(caller_addr_port(&a), 10);
	cr_assert_eq(caller_parse_addr("192.0.2.1:00", true, &a, &len), -EINVAL);
	cr_assert_eq(caller_parse_addr(":0", true, &a, &len), -EINVAL);
	cr_assert_eq(caller_parse_addr("[]:0", true, &a, &len), -EINVAL);
}

Test(caller_parse, wildcard_and_v4_mapped_predicates)
{
	struct sockaddr_storage a;
	socklen_t len;

	cr_assert_eq(caller_parse_addr("[::]:0", true, &a, &len), 0);
	cr_assert(caller_addr_is_any(&a));
	cr_assert_eq(caller_parse_addr("0.0.0.0:5", true, &a, &len), 0);
	cr_assert(caller_addr_is_any(&a));
	cr_assert_not(caller_addr_is_v4mapped(&a));
	cr_assert_eq(caller_parse_addr("[::1]:5", true, &a, &len), 0);
	cr_assert_not(caller_addr_is_any(&a));
	cr_assert_not(caller_addr_is_v4mapped(&a));
	cr_assert_eq(caller_parse_addr("[::ffff:192.0.2.1]:5", true, &a, &len), 0);
	cr_assert(caller_addr_is_v4mapped(&a));
	cr_assert_not(caller_addr_is_any(&a));
}

Test(caller_parse, ip_family_of_bare_addresses)
{
	cr_assert_eq(caller_ip_family("192.0.2.1"), AF_INET);
	cr_assert_eq(caller_ip_family("2001:db8::1"), AF_INET6);
	cr_assert_eq(caller_ip_family("[2001:db8::1]"), 0);
	cr_assert_eq(caller_ip_family("192.0.2.1:80"), 0);
	cr_assert_eq(caller_ip_family(NULL), 0);
	cr_assert_str_eq(caller_family_name(AF_INET), "IPv4");
	cr_assert_str_eq(caller_family_name(AF_INET6), "IPv6");
}

Test(caller_parse, refuses_malformed_addresses)
{
	static const char *const bad[] = { "", "192.0.2.1", "192.0.2.1:", "192.0.2.1:65536",
					   "192.0.2.1:-1", "192.0.2:80", "host.example:80",
					   "2001:db8::1:80", "[2001:db8::1]80", "[2001:db8::1:80",
					   "[192.0.2.1]:80", ":80", "192.0.2.1:08", "[]:80",
					   "[2001:db8::1]:080", "[2001:db8::1]", "[fe80::1%lo]:80",
					   "[2001:db8::1]:80x", "[[2001:db8::1]]:80" };
	struct sockaddr_storage a;
	socklen_t len;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(caller_parse_addr(bad[i], true, &a, &len), -EINVAL, "accepted '%s'",
			     bad[i]);
	cr_assert_eq(caller_parse_addr(NULL, true, &a, &len), -EINVAL);
}

Test(caller_parse, canonical_ip_text)
{
	char buf[CALLER_ADDR_STRLEN];

	cr_assert_eq(caller_canonical_ip("2001:DB8:0::1", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "2001:db8::1");
	cr_assert_eq(caller_canonical_ip("192.0.2.1", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "192.0.2.1");
	cr_assert_eq(caller_canonical_ip("192.0.2.1:80", buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(caller_canonical_ip("192.0.2", buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(caller_canonical_ip("192.0.2.1", buf, 4), -ENOSPC);
}
