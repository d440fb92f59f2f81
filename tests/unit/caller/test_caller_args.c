/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of app/duet-caller/caller_args.c: caller_args_parse on whole
 * command lines, for the address options of both families (issue 14): IPv6
 * relay endpoints, bind addresses and --a-ip/--b-ip hints accepted, a leg
 * per family (a bridged call), bad addresses refused with exit 2 and a
 * message naming the option and the value, and a bind of the other family
 * than its relay endpoint refused. Each parse runs with stderr captured.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "caller.h"

#define MAX_ARGS 32

static char err_text[4096];

/* caller_args_parse on {"duet-caller", args..., NULL}; stderr goes to
 * err_text. The copies stay allocated: the options point into them. */
static int
parse(struct caller_opts *o, const char *const *args)
{
	char *argv[MAX_ARGS + 2];
	int argc = 0, saved, rc;
	FILE *tmp = tmpfile();
	size_t n;

	cr_assert_not_null(tmp);
	argv[argc++] = strdup("duet-caller");
	while (*args != NULL && argc <= MAX_ARGS)
		argv[argc++] = strdup(*args++);
	argv[argc] = NULL;
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	cr_assert_geq(saved, 0);
	dup2(fileno(tmp), STDERR_FILENO);
	optind = 0; /* glibc: start over */
	rc = caller_args_parse(o, argc, argv);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(err_text, 1, sizeof(err_text) - 1, tmp);
	err_text[n] = '\0';
	fclose(tmp);
	return rc;
}

static void
assert_v6(const struct sockaddr_storage *a, const char *ip, uint16_t port)
{
	char text[CALLER_ADDR_STRLEN], want[CALLER_ADDR_STRLEN];

	cr_assert_eq(a->ss_family, AF_INET6);
	snprintf(want, sizeof(want), "[%s]:%u", ip, port);
	caller_format_addr(a, text, sizeof(text));
	cr_assert_str_eq(text, want);
}

/* Refused with exit 2 and a message holding every string in want. */
static void
assert_refused(const char *const *args, const char *const *want)
{
	struct caller_opts o;

	cr_assert_eq(parse(&o, args), CALLER_EXIT_USAGE, "accepted; stderr: %s", err_text);
	for (; *want != NULL; want++)
		cr_expect_not_null(strstr(err_text, *want), "'%s' not in: %s", *want, err_text);
}

Test(caller_args, ipv6_relay_endpoints_accepted_with_v6_default_binds)
{
	static const char *const args[] = { "--a-relay", "[2001:db8::1]:20000", "--b-relay",
					    "[2001:DB8::1]:20002", NULL };
	struct caller_opts o;

	cr_assert_eq(parse(&o, args), -1, "stderr: %s", err_text);
	assert_v6(&o.relay[0], "2001:db8::1", 20000);
	assert_v6(&o.relay[1], "2001:db8::1", 20002);
	cr_assert_eq(o.relay_len[0], sizeof(struct sockaddr_in6));
	/* No --*-bind: the wildcard of the relay endpoint's family. */
	assert_v6(&o.bind[0], "::", 0);
	assert_v6(&o.bind[1], "::", 0);
	cr_assert_eq(o.bind_len[1], sizeof(struct sockaddr_in6));
}

Test(caller_args, ipv6_bind_accepted)
{
	static const char *const args[] = { "--a-bind", "[2001:db8::10]:31000", "--a-relay",
					    "[2001:db8::1]:20000", "--b-bind", "[::]:0",
					    "--b-relay", "[2001:db8::1]:20002", NULL };
	struct caller_opts o;

	cr_assert_eq(parse(&o, args), -1, "stderr: %s", err_text);
	assert_v6(&o.bind[0], "2001:db8::10", 31000);
	assert_v6(&o.bind[1], "::", 0);
}

Test(caller_args, one_leg_per_family_is_a_bridged_call)
{
	static const char *const args[] = { "--a-relay", "192.0.2.1:20000", "--b-bind",
					    "[2001:db8::20]:0", "--b-relay",
					    "[2001:db8::1]:20002", NULL };
	struct caller_opts o;

	cr_assert_eq(parse(&o, args), -1, "stderr: %s", err_text);
	cr_assert_eq(o.relay[0].ss_family, AF_INET);
	cr_assert_eq(o.bind[0].ss_family, AF_INET, "leg a's default bind follows its relay");
	cr_assert_eq(o.relay[1].ss_family, AF_INET6);
	cr_assert_eq(o.bind[1].ss_family, AF_INET6);
}

Test(caller_args, bare_ipv6_hints_with_create)
{
	static const char *const args[] = { "--create", "--relay", "r1", "--a-ip",
					    "2001:DB8:0::1", "--b-ip", "192.0.2.1", NULL };
	struct caller_opts o;

	cr_assert_eq(parse(&o, args), -1, "stderr: %s", err_text);
	cr_assert_str_eq(o.ip_hint[0], "2001:db8::1");
	cr_assert_str_eq(o.ip_hint[1], "192.0.2.1");
}

Test(caller_args, malformed_ipv6_endpoints_refused)
{
	static const char *const bad[] = {
		"2001:db8::1:20000",	 /* no brackets: where does the port start? */
		"[2001:db8::1]",	 /* no port */
		"[2001:db8::1]:",	 /* empty port */
		"[2001:db8::1]20000",	 /* no colon */
		"[2001:db8::1:20000",	 /* no closing bracket */
		"[2001:db8::g]:20000",	 /* not hex */
		"[192.0.2.1]:20000",	 /* IPv4 in brackets */
		"[2001:db8::1]:020000", /* one spelling per port */
		"[2001:db8::1]:65536",
		"[2001:db8::1]:0",	 /* a relay endpoint has a port */
		"[fe80::1%lo]:20000",	 /* no scope ids */
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *args[] = { "--a-relay", bad[i], "--b-relay", "192.0.2.1:20002", NULL };
		const char *want[] = { "--a-relay", bad[i], "[IPv6]:PORT", NULL };

		assert_refused(args, want);
	}
}

Test(caller_args, malformed_ipv6_bind_and_hint_refused)
{
	static const char *const bind[] = { "--a-bind", "[::]", "--a-relay",
					    "[2001:db8::1]:20000", "--b-relay",
					    "[2001:db8::1]:20002", NULL };
	static const char *const bind_want[] = { "--a-bind", "'[::]'", NULL };
	static const char *const hint[] = { "--create", "--relay", "r1", "--b-ip",
					    "[2001:db8::1]", NULL };
	static const char *const hint_want[] = { "--b-ip", "'[2001:db8::1]'", "no brackets",
						 NULL };

	assert_refused(bind, bind_want);
	assert_refused(hint, hint_want);
}

Test(caller_args, ipv4_mapped_addresses_refused)
{
	static const char *const relay[] = { "--a-relay", "[::ffff:192.0.2.1]:20000",
					     "--b-relay", "192.0.2.1:20002", NULL };
	static const char *const relay_want[] = { "--a-relay", "IPv4-mapped", NULL };
	static const char *const bind[] = { "--a-bind", "[::ffff:192.0.2.9]:0", "--a-relay",
					    "[2001:db8::1]:20000", "--b-relay",
					    "[2001:db8::1]:20002", NULL };
	static const char *const bind_want[] = { "--a-bind", "IPv4-mapped", NULL };

	assert_refused(relay, relay_want);
	assert_refused(bind, bind_want);
}

Test(caller_args, bind_of_the_other_family_refused)
{
	static const char *const v4_bind[] = { "--a-bind", "192.0.2.5:0", "--a-relay",
					       "[2001:db8::1]:20000", "--b-relay",
					       "[2001:db8::1]:20002", NULL };
	static const char *const v4_want[] = { "--a-bind 192.0.2.5:0 is IPv4",
					       "--a-relay [2001:db8::1]:20000 is IPv6", NULL };
	static const char *const v6_bind[] = { "--a-relay", "192.0.2.1:20000", "--b-bind",
					       "[2001:db8::20]:0", "--b-relay",
					       "192.0.2.1:20002", NULL };
	static const char *const v6_want[] = { "--b-bind [2001:db8::20]:0 is IPv6",
					       "--b-relay 192.0.2.1:20002 is IPv4", NULL };

	assert_refused(v4_bind, v4_want);
	assert_refused(v6_bind, v6_want);
}

Test(caller_args, create_hint_of_the_other_family_than_the_bind_refused)
{
	static const char *const args[] = { "--create", "--relay", "r1", "--a-bind",
					    "192.0.2.5:0", "--a-ip", "2001:db8::1", NULL };
	static const char *const want[] = { "--a-ip 2001:db8::1 is IPv6",
					    "--a-bind 192.0.2.5:0 is IPv4", NULL };
	static const char *const same[] = { "--create", "--relay", "r1", "--a-bind",
					    "[2001:db8::5]:0", "--a-ip", "2001:db8::1", NULL };
	struct caller_opts o;

	assert_refused(args, want);
	cr_assert_eq(parse(&o, same), -1, "stderr: %s", err_text);
}

Test(caller_args, direct_default_bind_follows_the_other_legs_family)
{
	static const char *const v6[] = { "--direct", "--a-bind", "[::1]:30000", NULL };
	static const char *const v4[] = { "--direct", NULL };
	struct caller_opts o;

	cr_assert_eq(parse(&o, v6), -1, "stderr: %s", err_text);
	assert_v6(&o.bind[0], "::1", 30000);
	assert_v6(&o.bind[1], "::1", 0);
	cr_assert_eq(parse(&o, v4), -1, "stderr: %s", err_text);
	cr_assert_eq(o.bind[0].ss_family, AF_INET);
	cr_assert_eq(o.bind[1].ss_family, AF_INET);
}

Test(caller_args, direct_legs_of_two_families_refused)
{
	static const char *const args[] = { "--direct", "--a-bind", "[::1]:30000", "--b-bind",
					    "127.0.0.1:0", NULL };
	static const char *const want[] = { "--a-bind is IPv6", "--b-bind is IPv4", NULL };
	static const char *const wildcard[] = { "--direct", "--a-bind", "[::]:30000", NULL };
	static const char *const wildcard_want[] = { "--a-bind", "wildcard", NULL };

	assert_refused(args, want);
	assert_refused(wildcard, wildcard_want);
}
