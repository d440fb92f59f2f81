/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of lib/addr/duet_cidr.c and duet_cidr.h: IP prefixes as text
 * (the [security] denied_peers/allowed_peers grammar) and the prefix match.
 * Plain C, no EAL. What the source policy does with prefixes is tested in
 * tests/unit/policy. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duet_cidr.h"

Test(cidr, parses_prefixes_and_bare_addresses)
{
	struct duet_cidr c;
	char buf[DUET_CIDR_STRLEN];
	const char *why = NULL;

	cr_assert_eq(duet_cidr_parse("192.0.2.128/25", &c, &why), 0, "%s", why);
	cr_assert_eq(c.family, DUET_AF_INET4);
	cr_assert_eq(c.len, 25);
	cr_assert_eq(c.ip[3], 128);
	cr_assert_eq(duet_cidr_parse("203.0.113.7", &c, &why), 0, "%s", why);
	cr_assert_eq(c.len, 32, "a bare address is a host prefix");
	cr_assert_eq(duet_cidr_parse("0.0.0.0/0", &c, &why), 0, "%s", why);
	cr_assert_eq(c.len, 0);
	cr_assert_eq(duet_cidr_parse("2001:db8::/32", &c, &why), 0, "%s", why);
	cr_assert_eq(c.family, DUET_AF_INET6);
	cr_assert_eq(c.len, 32);
	cr_assert_eq(duet_cidr_format(&c, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "2001:db8::/32");
	cr_assert_eq(duet_cidr_parse("198.51.100.0/24", &c, &why), 0, "%s", why);
	cr_assert_eq(duet_cidr_format(&c, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "198.51.100.0/24");
	cr_assert_eq(duet_cidr_format(&c, buf, 4), -ENOSPC);
}

Test(cidr, refuses_malformed_text_with_a_reason)
{
	static const char *const bad[] = {
		"", "/24", "192.0.2.0/", "192.0.2.0/33", "192.0.2.0/-1", "192.0.2.0/024",
		"192.0.2.0/2x", "192.0.2.1/24", "192.0.2.0/24/1", "192.0.2/24", "host/24",
		" 192.0.2.0/24", "192.0.2.0 /24", "2001:db8::/129", "2001:db8::1/64",
		"192.0.2.0/99999999999999999999",
	};
	struct duet_cidr c;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		cr_assert_eq(duet_cidr_parse(bad[i], &c, &why), -EINVAL, "'%s' accepted", bad[i]);
		cr_assert_not_null(why, "'%s' refused without a reason", bad[i]);
	}
	cr_assert_eq(duet_cidr_parse(NULL, &c, NULL), -EINVAL);
}

Test(cidr, match_honours_the_prefix_bits)
{
	struct duet_cidr c, all;
	struct duet_addr in, out, v6;

	cr_assert_eq(duet_cidr_parse("192.0.2.128/25", &c, NULL), 0);
	cr_assert_eq(duet_cidr_parse("0.0.0.0/0", &all, NULL), 0);
	cr_assert_eq(duet_addr_parse("192.0.2.200:1", &in), 0);
	cr_assert_eq(duet_addr_parse("192.0.2.127:1", &out), 0);
	cr_assert_eq(duet_addr_parse("[2001:db8::1]:1", &v6), 0);
	cr_assert(duet_cidr_match(&c, &in));
	cr_assert_not(duet_cidr_match(&c, &out));
	cr_assert_not(duet_cidr_match(&c, &v6), "a prefix matched another family");
	cr_assert(duet_cidr_match(&all, &out));
	cr_assert_eq(duet_cidr_parse("198.51.100.7/32", &c, NULL), 0);
	cr_assert(duet_cidr_match(&c, &(struct duet_addr){0}) == false);
}
