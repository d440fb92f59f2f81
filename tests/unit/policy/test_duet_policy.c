/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of lib/policy/duet_policy.c and duet_policy_fp.h: the
 * built-in classes, own addresses, denied_peers and allowed_peers, and the
 * relatch policy names. Plain C, no EAL. The CIDR syntax itself is tested
 * in tests/unit/addr/test_duet_cidr.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duet_policy.h"
#include "duet_policy_fp.h"

static struct duet_addr
addr(const char *ip, uint16_t port)
{
	struct duet_addr a;

	cr_assert_eq(duet_addr_parse_ip(ip, &a), 0, "%s", ip);
	a.port = htons(port);
	return a;
}

static struct duet_cidr
cidr(const char *s)
{
	struct duet_cidr c;
	const char *why = NULL;

	cr_assert_eq(duet_cidr_parse(s, &c, &why), 0, "%s: %s", s, why ? why : "");
	return c;
}

/* Every built-in class, at both ends and inside: never a client. */
Test(policy, every_builtin_class_is_refused)
{
	static const char *const martians[] = {
		"0.0.0.0",	 "0.255.255.255", "127.0.0.1",	   "127.255.255.254",
		"169.254.0.1",	 "169.254.255.255", "224.0.0.1",   "239.255.255.250",
		"240.0.0.1",	 "255.255.255.255",
	};
	struct duet_policy p;
	size_t i;

	duet_policy_init(&p);
	for (i = 0; i < sizeof(martians) / sizeof(martians[0]); i++) {
		struct duet_addr a = addr(martians[i], 4000);
		char why[96];

		cr_assert_eq(duet_policy_check(&p, &a), DUET_POLICY_BUILTIN, "%s allowed",
			     martians[i]);
		cr_assert_eq(duet_policy_check_ip(&p, &a), DUET_POLICY_BUILTIN);
		duet_policy_explain(&p, &a, why, sizeof(why));
		cr_assert(strstr(why, "/") != NULL, "%s: reason '%s' names no class", martians[i],
			  why);
	}
	/* Their neighbours are ordinary unicast. */
	cr_assert_eq(duet_policy_check(&p, &(struct duet_addr){0}), DUET_POLICY_FAMILY);
	{
		static const char *const fine[] = {"1.0.0.1", "126.255.255.255", "128.0.0.1",
						   "169.253.255.255", "169.255.0.1", "223.255.255.255",
						   "192.0.2.10", "198.51.100.10", "203.0.113.1"};

		for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
			struct duet_addr a = addr(fine[i], 4000);

			cr_assert_eq(duet_policy_check(&p, &a), DUET_POLICY_OK, "%s refused",
				     fine[i]);
		}
	}
}

Test(policy, udp_port_zero_is_refused_but_not_for_icmp)
{
	struct duet_policy p;
	struct duet_addr a = addr("192.0.2.10", 0);

	duet_policy_init(&p);
	cr_assert_eq(duet_policy_check(&p, &a), DUET_POLICY_PORT0);
	cr_assert_eq(duet_policy_check_ip(&p, &a), DUET_POLICY_OK);
}

Test(policy, the_relays_own_addresses_are_refused_on_any_port)
{
	struct duet_policy p;
	struct duet_addr own = addr("192.0.2.1", 20000), probe = addr("192.0.2.1", 4000);
	struct duet_addr other = addr("192.0.2.2", 4000);

	duet_policy_init(&p);
	cr_assert_eq(duet_policy_add_own(&p, &own), 0);
	cr_assert_eq(duet_policy_check(&p, &probe), DUET_POLICY_OWN);
	cr_assert_eq(duet_policy_check_ip(&p, &probe), DUET_POLICY_OWN);
	cr_assert_eq(duet_policy_check(&p, &other), DUET_POLICY_OK);
}

Test(policy, denied_peers_are_refused_unless_an_allowed_peer_excepts_them)
{
	struct duet_policy p;
	struct duet_cidr d = cidr("203.0.113.0/24"), al = cidr("203.0.113.64/26");
	struct duet_addr in = addr("203.0.113.5", 4000), ex = addr("203.0.113.70", 4000);
	struct duet_addr outside = addr("198.51.100.5", 4000);
	char why[96];

	duet_policy_init(&p);
	cr_assert_eq(duet_policy_add_cidr(&p, &d, false), 0);
	cr_assert_eq(duet_policy_check(&p, &in), DUET_POLICY_DENIED);
	cr_assert_eq(duet_policy_check(&p, &ex), DUET_POLICY_DENIED);
	duet_policy_explain(&p, &in, why, sizeof(why));
	cr_assert(strstr(why, "203.0.113.0/24") != NULL, "reason '%s'", why);
	cr_assert_eq(duet_policy_add_cidr(&p, &al, true), 0);
	cr_assert_eq(duet_policy_check(&p, &in), DUET_POLICY_DENIED);
	cr_assert_eq(duet_policy_check(&p, &ex), DUET_POLICY_OK);
	cr_assert_eq(duet_policy_check(&p, &outside), DUET_POLICY_OK);
}

Test(policy, allowed_peers_never_open_a_builtin_class)
{
	struct duet_policy p;
	struct duet_cidr d = cidr("0.0.0.0/0"), al = cidr("127.0.0.0/8");
	struct duet_addr lo = addr("127.0.0.1", 4000);

	duet_policy_init(&p);
	cr_assert_eq(duet_policy_add_cidr(&p, &d, false), 0);
	cr_assert_eq(duet_policy_add_cidr(&p, &al, true), 0);
	cr_assert_eq(duet_policy_check(&p, &lo), DUET_POLICY_BUILTIN);
}

Test(policy, the_cidr_lists_are_bounded)
{
	struct duet_policy p;
	struct duet_cidr c = cidr("198.51.100.0/24");
	unsigned int i;

	duet_policy_init(&p);
	for (i = 0; i < DUET_POLICY_MAX_CIDRS; i++)
		cr_assert_eq(duet_policy_add_cidr(&p, &c, false), 0);
	cr_assert_eq(duet_policy_add_cidr(&p, &c, false), -ENOSPC);
}

Test(policy, relatch_names_round_trip_and_unknown_ones_are_refused)
{
	uint8_t r = 99;

	cr_assert_eq(duet_relatch_parse("ssrc", &r), 0);
	cr_assert_eq(r, DUET_RELATCH_SSRC);
	cr_assert_eq(duet_relatch_parse("any", &r), 0);
	cr_assert_eq(r, DUET_RELATCH_ANY);
	cr_assert_eq(duet_relatch_parse("never", &r), 0);
	cr_assert_eq(r, DUET_RELATCH_NEVER);
	cr_assert_str_eq(duet_relatch_name(DUET_RELATCH_SSRC), "ssrc");
	cr_assert_null(duet_relatch_name(3));
	cr_assert_eq(duet_relatch_parse("SSRC", &r), -EINVAL);
	cr_assert_eq(duet_relatch_parse("", &r), -EINVAL);
	cr_assert_eq(duet_relatch_parse(NULL, &r), -EINVAL);
}

Test(policy, every_ipv6_builtin_class_is_refused_and_named)
{
	static const struct {
		const char *ip, *cls;
	} martians[] = {
		{"::", "unspecified"},		{"::1", "loopback"},
		{"::ffff:192.0.2.10", "ipv4-mapped"}, {"::ffff:0.0.0.1", "ipv4-mapped"},
		{"ff02::1", "multicast"},	{"ff0e::1234", "multicast"},
		{"fe80::1", "link-local"},	{"febf:ffff::1", "link-local"},
	};
	static const char *const fine[] = {"2001:db8::10", "::2", "::fffe:0:1", "fec0::1",
					   "fe7f::1", "fe00::1", "2001:db8:a::1"};
	struct duet_policy p;
	size_t i;

	duet_policy_init(&p);
	for (i = 0; i < sizeof(martians) / sizeof(martians[0]); i++) {
		struct duet_addr a = addr(martians[i].ip, 4000);
		char why[96];

		cr_assert_eq(duet_policy_check(&p, &a), DUET_POLICY_BUILTIN, "%s allowed",
			     martians[i].ip);
		duet_policy_explain(&p, &a, why, sizeof(why));
		cr_assert(strstr(why, martians[i].cls) != NULL, "%s: reason '%s', want %s",
			  martians[i].ip, why, martians[i].cls);
	}
	for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		struct duet_addr a = addr(fine[i], 4000);

		cr_assert_eq(duet_policy_check(&p, &a), DUET_POLICY_OK, "%s refused", fine[i]);
	}
}

Test(policy, ipv6_link_local_opens_only_when_asked_and_nothing_else_does)
{
	struct duet_policy p;
	struct duet_addr ll = addr("fe80::1", 4000), mc = addr("ff02::1", 4000);
	struct duet_addr v4ll = addr("169.254.0.1", 4000);

	duet_policy_init_ex(&p, true);
	cr_assert_eq(duet_policy_check(&p, &ll), DUET_POLICY_OK);
	cr_assert_eq(duet_policy_check(&p, &mc), DUET_POLICY_BUILTIN);
	cr_assert_eq(duet_policy_check(&p, &v4ll), DUET_POLICY_BUILTIN,
		     "the IPv6 switch does not open IPv4 link-local");
	duet_policy_init_ex(&p, false);
	cr_assert_eq(duet_policy_check(&p, &ll), DUET_POLICY_BUILTIN);
}

Test(policy, denied_peers_in_ipv6_cidr_are_refused)
{
	struct duet_policy p;
	struct duet_cidr c = cidr("2001:db8:bad::/48");
	struct duet_addr in = addr("2001:db8:bad:1::5", 4000), out = addr("2001:db8:bae::5", 4000);
	struct duet_addr v4 = addr("32.1.13.184", 4000); /* 2001:0db8 as IPv4 bytes */

	duet_policy_init(&p);
	cr_assert_eq(duet_policy_add_cidr(&p, &c, false), 0);
	cr_assert_eq(duet_policy_check(&p, &in), DUET_POLICY_DENIED);
	cr_assert_eq(duet_policy_check(&p, &out), DUET_POLICY_OK);
	cr_assert_eq(duet_policy_check(&p, &v4), DUET_POLICY_OK, "a v6 CIDR never matches IPv4");
}

Test(policy, an_ipv4_address_carried_in_nat64_or_6to4_is_checked_as_ipv4)
{
	struct duet_policy p;
	struct duet_cidr c = cidr("198.51.100.0/24");
	struct duet_addr own;
	static const struct {
		const char *ip;
		enum duet_policy_verdict v;
	} cases[] = {
		{"64:ff9b::7f00:1", DUET_POLICY_BUILTIN},	 /* 127.0.0.1 */
		{"64:ff9b::e000:1", DUET_POLICY_BUILTIN},	 /* 224.0.0.1 */
		{"64:ff9b::c633:6405", DUET_POLICY_DENIED},	 /* 198.51.100.5 */
		{"64:ff9b::c000:201", DUET_POLICY_OWN},	 /* 192.0.2.1, ours */
		{"64:ff9b::cb00:710a", DUET_POLICY_OK},	 /* 203.0.113.10 */
		{"2002:7f00:1::1", DUET_POLICY_BUILTIN},	 /* 6to4 of 127.0.0.1 */
		{"2002:cb00:710a::1", DUET_POLICY_OK},	 /* 6to4 of 203.0.113.10 */
		{"64:ff9c::7f00:1", DUET_POLICY_OK},	 /* not the prefix */
	};
	size_t i;

	duet_policy_init(&p);
	cr_assert_eq(duet_policy_add_cidr(&p, &c, false), 0);
	own = addr("192.0.2.1", 0);
	cr_assert_eq(duet_policy_add_own(&p, &own), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct duet_addr a = addr(cases[i].ip, 4000);
		char why[160];

		cr_assert_eq(duet_policy_check(&p, &a), cases[i].v, "%s: %d, want %d", cases[i].ip,
			     duet_policy_check(&p, &a), cases[i].v);
		if (cases[i].v == DUET_POLICY_BUILTIN) {
			duet_policy_explain(&p, &a, why, sizeof(why));
			cr_assert(strstr(why, "carries an IPv4 address") != NULL &&
					  (strstr(why, "127.0.0.0/8") != NULL ||
					   strstr(why, "224.0.0.0/4") != NULL),
				  "%s: '%s'", cases[i].ip, why);
		}
	}
}
