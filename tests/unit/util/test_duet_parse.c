/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/util/duet_parse.c: the shared whole-number, port and
 * Redis-address parsers that duetd's config, lib/addr, lib/redis, duetctl,
 * duet-caller and duet_contract all call.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duet_parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Each of bad[] is refused over the widest range and leaves *out alone. */
static void
refuses_each(const char *const *bad, size_t n)
{
	uint64_t v = 7;
	size_t i;

	for (i = 0; i < n; i++)
		cr_expect_eq(duet_parse_u64(bad[i], 0, UINT64_MAX, &v), -EINVAL, "accepted '%s'",
			     bad[i]);
	cr_assert_eq(v, 7, "left alone on error");
}

Test(parse, accepts_zero_and_the_range_ends)
{
	uint64_t v = 7;

	cr_assert_eq(duet_parse_u64("0", 0, 10, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(duet_parse_u64("10", 0, 10, &v), 0, "max itself is in range");
	cr_assert_eq(v, 10);
	cr_assert_eq(duet_parse_u64("1", 1, 10, &v), 0, "min itself is in range");
	cr_assert_eq(v, 1);
	cr_assert_eq(duet_parse_u64("65535", 0, 65535, &v), 0);
	cr_assert_eq(v, 65535);
	cr_assert_eq(duet_parse_u64("1700000000123", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 1700000000123ull);
}

Test(parse, accepts_uint64_max)
{
	uint64_t v = 7;

	cr_assert_eq(duet_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(duet_parse_u64("18446744073709551615", UINT64_MAX, UINT64_MAX, &v), 0);
	cr_assert_eq(v, UINT64_MAX);
}

Test(parse, refuses_overflow_past_uint64_max)
{
	static const char *const big[] = { "18446744073709551616", "18446744073709551620",
					   "99999999999999999999", "184467440737095516150" };

	refuses_each(big, N(big));
}

Test(parse, refuses_signs_blanks_and_other_characters)
{
	/* '/' and ':' sit just below '0' and just above '9' in ASCII. */
	static const char *const bad[] = { "-1", "+1", "-0", " 1", "1 ", "\t1", "1\n", "1x",
					   "x1", "1a", "0x10", "1.0", "1e3", "1,000", "1_000",
					   "1/", "1:", "\xd9\xa1" /* Arabic-Indic digit one */ };

	refuses_each(bad, N(bad));
}

Test(parse, refuses_empty_string_and_null)
{
	uint64_t v = 7;

	cr_assert_eq(duet_parse_u64("", 0, UINT64_MAX, &v), -EINVAL);
	cr_assert_eq(duet_parse_u64(NULL, 0, UINT64_MAX, &v), -EINVAL);
	cr_assert_eq(v, 7, "left alone on error");
}

Test(parse, refuses_leading_zeros_but_not_zero_itself)
{
	static const char *const bad[] = { "00", "01", "007", "0300", "018446744073709551615" };
	uint64_t v = 7;

	refuses_each(bad, N(bad));
	cr_assert_eq(duet_parse_u64("0", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 0);
}

Test(parse, refuses_below_min_and_above_max)
{
	uint64_t v = 7;

	cr_assert_eq(duet_parse_u64("0", 1, 10, &v), -EINVAL, "below min");
	cr_assert_eq(duet_parse_u64("11", 1, 10, &v), -EINVAL, "above max");
	cr_assert_eq(duet_parse_u64("65536", 0, 65535, &v), -EINVAL, "above max");
	cr_assert_eq(duet_parse_u64("18446744073709551614", UINT64_MAX, UINT64_MAX, &v), -EINVAL,
		     "below a min of UINT64_MAX");
	cr_assert_eq(duet_parse_u64("5", 6, 4, &v), -EINVAL, "empty range");
	cr_assert_eq(v, 7, "left alone on error");
}

/* ---- ports ---- */

Test(parse, port_accepts_1_to_65535)
{
	uint16_t p = 7;

	cr_assert_eq(duet_parse_port("1", 0, &p), 0);
	cr_assert_eq(p, 1);
	cr_assert_eq(duet_parse_port("6379", 0, &p), 0);
	cr_assert_eq(p, 6379);
	cr_assert_eq(duet_parse_port("65535", 0, &p), 0);
	cr_assert_eq(p, 65535);
}

Test(parse, port_refuses_zero_unless_asked)
{
	uint16_t p = 7;

	cr_assert_eq(duet_parse_port("0", 0, &p), -EINVAL);
	cr_assert_eq(p, 7, "left alone on error");
	cr_assert_eq(duet_parse_port("0", DUET_PARSE_PORT_ZERO, &p), 0);
	cr_assert_eq(p, 0);
	cr_assert_eq(duet_parse_port("00", DUET_PARSE_PORT_ZERO | DUET_PARSE_PORT_LEADING_ZEROS,
				     &p), 0);
	cr_assert_eq(p, 0);
	cr_assert_eq(duet_parse_port("000", DUET_PARSE_PORT_LEADING_ZEROS, &p), -EINVAL,
		     "zero written long is still zero");
}

Test(parse, port_takes_leading_zeros_only_when_asked)
{
	uint16_t p = 7;

	cr_assert_eq(duet_parse_port("080", 0, &p), -EINVAL, "one spelling per value");
	cr_assert_eq(duet_parse_port("080", DUET_PARSE_PORT_LEADING_ZEROS, &p), 0);
	cr_assert_eq(p, 80);
	cr_assert_eq(duet_parse_port("0000065535", DUET_PARSE_PORT_LEADING_ZEROS, &p), 0);
	cr_assert_eq(p, 65535);
	cr_assert_eq(duet_parse_port("0065536", DUET_PARSE_PORT_LEADING_ZEROS, &p), -EINVAL);
}

Test(parse, port_refuses_signs_blanks_range_and_junk)
{
	static const char *const bad[] = { "", "65536", "99999999", "-1", "+1", " 1", "1 ",
					   "12a", "0x10", "1.0", "\xef\xbc\x96" /* fullwidth six */ };
	unsigned int flags[] = { 0, DUET_PARSE_PORT_ZERO | DUET_PARSE_PORT_LEADING_ZEROS };
	uint16_t p = 7;
	size_t i, f;

	for (f = 0; f < N(flags); f++)
		for (i = 0; i < N(bad); i++)
			cr_expect_eq(duet_parse_port(bad[i], flags[f], &p), -EINVAL,
				     "accepted '%s' (flags %u)", bad[i], flags[f]);
	cr_assert_eq(duet_parse_port(NULL, 0, &p), -EINVAL);
	cr_assert_eq(p, 7, "left alone on error");
}

/* ---- Redis addresses ---- */

Test(parse, redis_addr_accepts_the_documented_forms)
{
	struct duet_redis_addr a;

	cr_assert_eq(duet_parse_redis_addr("unix:/run/redis/redis.sock", &a, NULL), 0);
	cr_assert_str_eq(a.unix_path, "/run/redis/redis.sock");
	cr_assert_str_eq(a.host, "");
	cr_assert_eq(a.port, 0);
	cr_assert_eq(duet_parse_redis_addr("/tmp/r.sock", &a, NULL), 0, "bare path, as unix:");
	cr_assert_str_eq(a.unix_path, "/tmp/r.sock");
	cr_assert_eq(duet_parse_redis_addr("192.0.2.10:6379", &a, NULL), 0);
	cr_assert_str_eq(a.unix_path, "");
	cr_assert_str_eq(a.host, "192.0.2.10");
	cr_assert_eq(a.port, 6379);
	cr_assert_eq(duet_parse_redis_addr("[2001:db8::10]:65535", &a, NULL), 0);
	cr_assert_str_eq(a.host, "2001:db8::10");
	cr_assert_eq(a.port, 65535);
	cr_assert_eq(duet_parse_redis_addr("redis-1.example_net:1", &a, NULL), 0);
	cr_assert_str_eq(a.host, "redis-1.example_net");
	cr_assert_eq(a.port, 1);
	cr_assert_eq(duet_parse_redis_addr("localhost:06379", &a, NULL), 0,
		     "leading zeros: configs that load today keep loading");
	cr_assert_eq(a.port, 6379);
}

/* An address the parser must refuse, and the reason it must give. */
struct bad_addr {
	const char *text, *why;
};

static void
refused_with_reasons(const struct bad_addr *bad, size_t n)
{
	struct duet_redis_addr a;
	const char *why;
	size_t i;

	for (i = 0; i < n; i++) {
		why = NULL;
		cr_expect_eq(duet_parse_redis_addr(bad[i].text, &a, &why), -EINVAL,
			     "accepted '%s'", bad[i].text);
		cr_expect_str_eq(why != NULL ? why : "(none)", bad[i].why, "'%s'", bad[i].text);
	}
}

Test(parse, redis_addr_refuses_with_a_reason)
{
	static const struct bad_addr bad[] = {
		{"", "expected unix:/path, host:port or [IPv6]:port"},
		{"host", "expected unix:/path, host:port or [IPv6]:port"},
		{"unix:", "unix socket path must be absolute"},
		{"unix:run/redis.sock", "unix socket path must be absolute"},
		{"::1:6379", "an IPv6 address needs brackets, e.g. [::1]:6379"},
		{"[::1]", "expected [IPv6]:port"},
		{"[::1]6379", "expected [IPv6]:port"},
		{"[]:1", "host is empty or too long"},
		{":6379", "host is empty or too long"},
		{"[127.0.0.1]:1", "not an IPv6 address inside [ ]"},
		{"[::zz]:1", "not an IPv6 address inside [ ]"},
		{"192.0.2.300:6379", "not a valid IPv4 address"},
		{"999.1.1.1:1", "not a valid IPv4 address"},
		{"ho st:1", "not a valid host name"},
		{"ho!st:1", "not a valid host name"},
		{"-host:1", "not a valid host name"},
		{"host:", "TCP port must be 1..65535"},
		{"host:0", "TCP port must be 1..65535"},
		{"host:65536", "TCP port must be 1..65535"},
		{"host:+1", "TCP port must be 1..65535"},
		{"host: 1", "TCP port must be 1..65535"},
		{"host:0x10", "TCP port must be 1..65535"},
	};
	struct duet_redis_addr a;

	refused_with_reasons(bad, N(bad));
	cr_assert_eq(duet_parse_redis_addr(NULL, &a, NULL), -EINVAL);
}

Test(parse, redis_addr_unix_path_must_fit_sun_path)
{
	struct duet_redis_addr a;
	char path[200];
	const char *why = NULL;

	/* sun_path holds 107 characters plus NUL. */
	memset(path, 'x', sizeof(path));
	path[0] = '/';
	path[108] = '\0';
	cr_assert_eq(duet_parse_redis_addr(path, &a, &why), -EINVAL);
	cr_assert_str_eq(why, "unix socket path longer than 107 characters");
	path[107] = '\0';
	cr_assert_eq(duet_parse_redis_addr(path, &a, NULL), 0);
	cr_assert_eq(strlen(a.unix_path), 107);
}

Test(parse, redis_addr_host_name_at_most_253)
{
	struct duet_redis_addr a;
	char text[300];

	memset(text, 'h', 253);
	strcpy(text + 253, ":1");
	cr_assert_eq(duet_parse_redis_addr(text, &a, NULL), 0);
	memset(text, 'h', 254);
	strcpy(text + 254, ":1");
	cr_assert_eq(duet_parse_redis_addr(text, &a, NULL), -EINVAL);
}

Test(parse, redis_addr_server_form_is_kind_server)
{
	struct duet_redis_addr a;

	cr_assert_eq(duet_parse_redis_addr("192.0.2.10:6379", &a, NULL), 0);
	cr_assert_eq(a.kind, DUET_REDIS_ADDR_SERVER);
	cr_assert_eq(a.n_nodes, 0);
	cr_assert_str_eq(a.master_name, "");
	cr_assert_eq(duet_parse_redis_addr("unix:/tmp/r.sock", &a, NULL), 0);
	cr_assert_eq(a.kind, DUET_REDIS_ADDR_SERVER);
}

Test(parse, redis_addr_sentinel_form)
{
	struct duet_redis_addr a;

	cr_assert_eq(duet_parse_redis_addr("sentinel:duet-main@192.0.2.1:26379,[2001:db8::2]:26380,"
					   "s3.example.net:026381",
					   &a, NULL),
		     0);
	cr_assert_eq(a.kind, DUET_REDIS_ADDR_SENTINEL);
	cr_assert_str_eq(a.master_name, "duet-main");
	cr_assert_eq(a.n_nodes, 3);
	cr_assert_str_eq(a.nodes[0].host, "192.0.2.1");
	cr_assert_eq(a.nodes[0].port, 26379);
	cr_assert_str_eq(a.nodes[1].host, "2001:db8::2");
	cr_assert_eq(a.nodes[1].port, 26380);
	cr_assert_str_eq(a.nodes[2].host, "s3.example.net");
	cr_assert_eq(a.nodes[2].port, 26381);
	cr_assert_str_eq(a.unix_path, "");
	cr_assert_str_eq(a.host, "", "the server fields stay empty");
	cr_assert_eq(a.port, 0);

	cr_assert_eq(duet_parse_redis_addr("sentinel:m@h:1", &a, NULL), 0, "one Sentinel is enough");
	cr_assert_eq(a.n_nodes, 1);
}

Test(parse, redis_addr_cluster_form)
{
	struct duet_redis_addr a;

	cr_assert_eq(duet_parse_redis_addr("cluster:192.0.2.1:7000,192.0.2.2:7001", &a, NULL), 0);
	cr_assert_eq(a.kind, DUET_REDIS_ADDR_CLUSTER);
	cr_assert_str_eq(a.master_name, "");
	cr_assert_eq(a.n_nodes, 2);
	cr_assert_str_eq(a.nodes[1].host, "192.0.2.2");
	cr_assert_eq(a.nodes[1].port, 7001);
	cr_assert_eq(duet_parse_redis_addr("cluster:[::1]:7000", &a, NULL), 0);
	cr_assert_eq(a.n_nodes, 1);
	cr_assert_str_eq(a.nodes[0].host, "::1");
}

Test(parse, redis_addr_host_named_sentinel_or_cluster_is_still_a_host)
{
	struct duet_redis_addr a;

	cr_assert_eq(duet_parse_redis_addr("sentinel:26379", &a, NULL), 0);
	cr_assert_eq(a.kind, DUET_REDIS_ADDR_SERVER);
	cr_assert_str_eq(a.host, "sentinel");
	cr_assert_eq(a.port, 26379);
	cr_assert_eq(duet_parse_redis_addr("cluster:7000", &a, NULL), 0);
	cr_assert_eq(a.kind, DUET_REDIS_ADDR_SERVER);
	cr_assert_str_eq(a.host, "cluster");
	cr_assert_eq(a.port, 7000);
}

Test(parse, redis_addr_sentinel_and_cluster_refused_with_a_reason)
{
	static const struct bad_addr bad[] = {
		{"sentinel:m", "expected sentinel:NAME@host:port,host:port,..."},
		{"sentinel:h:1,h:2", "expected sentinel:NAME@host:port,host:port,..."},
		{"sentinel:@h:1", "Sentinel master name must be 1..64 characters of [A-Za-z0-9._-]"},
		{"sentinel:a b@h:1", "Sentinel master name must be 1..64 characters of [A-Za-z0-9._-]"},
		{"sentinel:m@", "empty node in the list (host:port,host:port,...)"},
		{"sentinel:m@h:1,", "empty node in the list (host:port,host:port,...)"},
		{"sentinel:m@h:1,,h:2", "empty node in the list (host:port,host:port,...)"},
		{"sentinel:m@h", "expected host:port or [IPv6]:port for each node"},
		{"sentinel:m@h:0", "TCP port must be 1..65535"},
		{"sentinel:m@unix:/tmp/s.sock", "Sentinels and cluster nodes are host:port, not unix "
						"sockets"},
		{"sentinel:m@/tmp/s.sock", "Sentinels and cluster nodes are host:port, not unix "
					   "sockets"},
		{"cluster:", "empty node in the list (host:port,host:port,...)"},
		{"cluster:h:1,x y:2", "not a valid host name"},
		{"cluster:::1:7000", "an IPv6 address needs brackets, e.g. [::1]:6379"},
		{"cluster:192.0.2.300:1", "not a valid IPv4 address"},
		{"cluster:h:1,h:2,h:3,h:4,h:5,h:6,h:7,h:8,h:9", "more than 8 nodes"},
	};
	struct duet_redis_addr a;
	char name[80];

	refused_with_reasons(bad, N(bad));
	cr_assert_eq(duet_parse_redis_addr("cluster:h:1,h:2,h:3,h:4,h:5,h:6,h:7,h:8", &a, NULL), 0,
		     "eight nodes fit");
	cr_assert_eq(a.n_nodes, 8);

	/* A master name of 64 characters fits, 65 do not. */
	strcpy(name, "sentinel:");
	memset(name + 9, 'm', 64);
	strcpy(name + 9 + 64, "@h:1");
	cr_assert_eq(duet_parse_redis_addr(name, &a, NULL), 0);
	cr_assert_eq(strlen(a.master_name), 64);
	strcpy(name, "sentinel:");
	memset(name + 9, 'm', 65);
	strcpy(name + 9 + 65, "@h:1");
	cr_assert_eq(duet_parse_redis_addr(name, &a, NULL), -EINVAL);
}
