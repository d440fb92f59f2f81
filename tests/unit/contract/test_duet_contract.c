/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/contract/duet_contract.c: pair records, events entries and
 * stream ids, good and hostile. Pure C, no EAL, no Redis.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "duet_contract.h"

static struct duet_conf conf;
static char why[DUET_CONTRACT_WHY_MAX];
static struct duet_pair_spec spec;

static void
setup(void)
{
	duet_conf_defaults(&conf);
	snprintf(conf.relay_id, sizeof(conf.relay_id), "r1");
	conf.port_min = 20000;
	conf.port_max = 29999;
	conf.idle_timeout_ms = 30000;
	conf.n_ports = 2;
	snprintf(conf.ports[0].name, sizeof(conf.ports[0].name), "net_af_packet0");
	cr_assert_eq(duet_addr_parse_ip("192.0.2.1", &conf.ports[0].addrs[0]), 0);
	cr_assert_eq(duet_addr_parse_ip("192.0.2.2", &conf.ports[0].addrs[1]), 0);
	conf.ports[0].n_addrs = 2;
	snprintf(conf.ports[1].name, sizeof(conf.ports[1].name), "net_af_packet1");
	cr_assert_eq(duet_addr_parse_ip("198.51.100.1", &conf.ports[1].addrs[0]), 0);
	conf.ports[1].n_addrs = 1;
	memset(why, 0, sizeof(why));
	memset(&spec, 0xa5, sizeof(spec));
}

TestSuite(contract, .init = setup);

#define F(n, v) ((struct duet_contract_field){(n), (v)})
#define X16 "xxxxxxxxxxxxxxxx"
#define A16 "AAAAAAAAAAAAAAAA"
#define N(arr) (sizeof(arr) / sizeof((arr)[0]))

static int
parse(const char *id, const struct duet_contract_field *f, size_t n)
{
	return duet_contract_parse_pair(id, f, n, &conf, &spec, why, sizeof(why));
}

/* The record is refused and the reason is exactly `expect`. */
static void
refused_with(const char *id, const struct duet_contract_field *f, size_t n, const char *expect)
{
	cr_assert_eq(parse(id, f, n), -EINVAL, "accepted, expected '%s'", expect);
	cr_assert_str_eq(why, expect);
}

Test(contract, minimal_record_gives_spec_with_relay_defaults)
{
	struct duet_contract_field f[] = {F("a", "192.0.2.1:20000"), F("b", "198.51.100.1:29999"),
					  F("mode", "passthrough")};
	struct duet_addr a;

	cr_assert_eq(parse("call-1", f, N(f)), 0, "%s", why);
	cr_assert_str_eq(spec.id, "call-1");
	cr_assert_eq(spec.mode, DUET_MODE_PASSTHROUGH);
	duet_addr_set4(&a, inet_addr("192.0.2.1"), htons(20000));
	cr_assert(duet_addr_equal(&spec.ep[0], &a));
	duet_addr_set4(&a, inet_addr("198.51.100.1"), htons(29999));
	cr_assert(duet_addr_equal(&spec.ep[1], &a));
	cr_assert_eq(spec.port_idx[0], 0);
	cr_assert_eq(spec.port_idx[1], 1);
	cr_assert_eq(spec.pin[0].family, DUET_AF_NONE);
	cr_assert_eq(spec.pin[1].family, DUET_AF_NONE);
	cr_assert_eq(spec.idle_ms, 30000, "absent idle_ms takes the relay default");
	cr_assert_eq(spec.expires, 0);
}

Test(contract, full_record_with_pins_idle_expires_and_extra_fields)
{
	struct duet_contract_field f[] = {
		F("mode", "passthrough"),     F("a", "192.0.2.2:25000"),
		F("b", "192.0.2.2:25001"),    F("a_src", "203.0.113.7:4000"),
		F("b_src", "203.0.113.8:4002"), F("idle_ms", "0"),
		F("expires", "1900000000"),   F("a_note", "AES_CM_128_HMAC_SHA1_80 inline:x"),
		F("future_field", "whatever"),
	};
	struct duet_addr p;

	cr_assert_eq(parse("A.b_c:d-9", f, N(f)), 0, "%s", why);
	duet_addr_set4(&p, inet_addr("203.0.113.7"), htons(4000));
	cr_assert(duet_addr_equal(&spec.pin[0], &p));
	duet_addr_set4(&p, inet_addr("203.0.113.8"), htons(4002));
	cr_assert(duet_addr_equal(&spec.pin[1], &p));
	cr_assert_eq(spec.idle_ms, 0, "explicit 0 means never idle out");
	cr_assert_eq(spec.expires, 1900000000ull);
	cr_assert_eq(spec.port_idx[0], 0);
}

Test(contract, empty_optional_fields_are_absent)
{
	struct duet_contract_field f[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20001"),
					  F("mode", "passthrough"), F("a_src", ""),
					  F("idle_ms", ""), F("expires", "")};

	cr_assert_eq(parse("x", f, N(f)), 0, "%s", why);
	cr_assert_eq(spec.pin[0].family, DUET_AF_NONE);
	cr_assert_eq(spec.idle_ms, 30000);
	cr_assert_eq(spec.expires, 0);
}

Test(contract, idle_ms_and_expires_at_their_maximum)
{
	struct duet_contract_field f[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20001"),
					  F("mode", "passthrough"), F("idle_ms", "86400000"),
					  F("expires", "253402300799")};

	cr_assert_eq(parse("x", f, N(f)), 0, "%s", why);
	cr_assert_eq(spec.idle_ms, 86400000u);
	cr_assert_eq(spec.expires, 253402300799ull);
}

Test(contract, missing_and_empty_required_fields)
{
	struct duet_contract_field no_a[] = {F("b", "192.0.2.1:20001"), F("mode", "passthrough")};
	struct duet_contract_field no_b[] = {F("a", "192.0.2.1:20001"), F("mode", "passthrough")};
	struct duet_contract_field no_mode[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20001")};
	struct duet_contract_field empty_a[] = {F("a", ""), F("b", "192.0.2.1:20001"),
						F("mode", "passthrough")};
	struct duet_contract_field empty_mode[] = {F("a", "192.0.2.1:20000"),
						   F("b", "192.0.2.1:20001"), F("mode", "")};

	refused_with("x", no_a, N(no_a), "missing field a");
	refused_with("x", no_b, N(no_b), "missing field b");
	refused_with("x", no_mode, N(no_mode), "missing field mode");
	refused_with("x", empty_a, N(empty_a), "field a is empty");
	refused_with("x", empty_mode, N(empty_mode), "field mode is empty");
	refused_with("x", NULL, 0, "missing field a");
}

Test(contract, endpoint_not_ip_port)
{
	const char *bad[] = {"192.0.2.1:70000", "192.0.2.1", "192.0.2.1:", ":20000",
			     "192.0.2.1:0", "192.0.2.1:-5", " 192.0.2.1:20000", "192.0.2.1:20000 ",
			     "192.0.2.1:+2000", "relay.example:20000", "192.0.2.256:20000",
			     "[192.0.2.1]:20000", "2001:db8::1:20000"};
	size_t i;

	for (i = 0; i < N(bad); i++) {
		struct duet_contract_field f[] = {F("a", "192.0.2.1:20000"), F("b", bad[i]),
						  F("mode", "passthrough")};
		char expect[128];

		snprintf(expect, sizeof(expect), "field b: '%s' is not an ip:port", bad[i]);
		refused_with("x", f, N(f), expect);
	}
}

/* The free set and alloc hash compare endpoints as text: a second spelling
 * of a port would name an endpoint they do not know. Pins take the same
 * parser, so one spelling there too. */
Test(contract, a_port_with_a_leading_zero_is_refused)
{
	struct duet_contract_field ep[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:020003"),
					   F("mode", "passthrough")};
	struct duet_contract_field pin[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20003"),
					    F("mode", "passthrough"),
					    F("a_src", "203.0.113.7:04000")};

	refused_with("x", ep, N(ep), "field b: '192.0.2.1:020003' is not an ip:port");
	refused_with("x", pin, N(pin), "field a_src: value is not an ip:port");
}

Test(contract, endpoint_not_ours_or_outside_media_range)
{
	struct duet_contract_field other_ip[] = {F("a", "192.0.2.9:20000"),
						 F("b", "192.0.2.1:20001"), F("mode", "passthrough")};
	struct duet_contract_field low[] = {F("a", "192.0.2.1:19999"), F("b", "192.0.2.1:20001"),
					    F("mode", "passthrough")};
	struct duet_contract_field high[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:30000"),
					     F("mode", "passthrough")};

	refused_with("x", other_ip, N(other_ip),
		     "field a: endpoint 192.0.2.9:20000 is not a service address of this relay");
	refused_with("x", low, N(low), "field a: port 19999 outside media range 20000-29999");
	refused_with("x", high, N(high), "field b: port 30000 outside media range 20000-29999");
}

Test(contract, ipv6_endpoint_refused_while_service_addresses_are_v4)
{
	struct duet_contract_field f[] = {F("a", "[2001:db8::1]:20000"), F("b", "192.0.2.1:20001"),
					  F("mode", "passthrough")};

	refused_with("x", f, N(f),
		     "field a: endpoint [2001:db8::1]:20000 is not a service address of this "
		     "relay");
}

/* Dual stack: IPv6 service addresses beside the IPv4 ones, as [port]
 * addresses allows (one of each family on each port). */
static void
add_v6_addresses(void)
{
	cr_assert_eq(duet_addr_parse_ip("2001:db8::1", &conf.ports[0].addrs[2]), 0);
	conf.ports[0].n_addrs = 3;
	cr_assert_eq(duet_addr_parse_ip("2001:db8:1::1", &conf.ports[1].addrs[1]), 0);
	conf.ports[1].n_addrs = 2;
}

Test(contract, ipv6_endpoints_parse_on_a_dual_stack_relay)
{
	struct duet_contract_field f[] = {F("a", "[2001:db8::1]:20000"),
					  F("b", "[2001:db8:1::1]:29999"),
					  F("mode", "passthrough")};
	struct duet_addr want;

	add_v6_addresses();
	cr_assert_eq(parse("v6", f, N(f)), 0, "%s", why);
	cr_assert_eq(duet_addr_parse("[2001:db8::1]:20000", &want), 0);
	cr_assert(duet_addr_equal(&spec.ep[0], &want));
	cr_assert_eq(duet_addr_parse("[2001:db8:1::1]:29999", &want), 0);
	cr_assert(duet_addr_equal(&spec.ep[1], &want));
	cr_assert_eq(spec.ep[0].family, DUET_AF_INET6);
	cr_assert_eq(spec.port_idx[0], 0);
	cr_assert_eq(spec.port_idx[1], 1);
	cr_assert_eq(spec.pin[0].family, DUET_AF_NONE);
}

/* The free set, the alloc hash and a guarded delete compare endpoints as
 * text: a record must name an endpoint the way duetd writes it. */
Test(contract, ipv6_endpoint_spelled_otherwise_than_duetd_writes_it_is_refused)
{
	static const char *const other[] = {"[2001:DB8::1]:20000", "[2001:db8:0::1]:20000",
					    "[2001:db8:0:0:0:0:0:1]:20000"};
	size_t i;

	add_v6_addresses();
	for (i = 0; i < N(other); i++) {
		struct duet_contract_field f[] = {F("a", other[i]), F("b", "192.0.2.1:20001"),
						  F("mode", "passthrough")};
		char expect[160];

		snprintf(expect, sizeof(expect),
			 "field a: '%s' is not written as duetd writes endpoints "
			 "([2001:db8::1]:20000)",
			 other[i]);
		refused_with("x", f, N(f), expect);
	}
}

Test(contract, ipv6_pin_on_an_ipv6_leg_parses_in_any_spelling)
{
	struct duet_contract_field f[] = {F("a", "[2001:db8::1]:20000"),
					  F("b", "[2001:db8:1::1]:20001"), F("mode", "passthrough"),
					  F("a_src", "[2001:db8:ffff::7]:4000"),
					  F("b_src", "[2001:DB8:FFFF:0::8]:4002")};
	struct duet_addr want;

	add_v6_addresses();
	cr_assert_eq(parse("p6", f, N(f)), 0, "%s", why);
	cr_assert_eq(duet_addr_parse("[2001:db8:ffff::7]:4000", &want), 0);
	cr_assert(duet_addr_equal(&spec.pin[0], &want));
	cr_assert_eq(duet_addr_parse("[2001:db8:ffff::8]:4002", &want), 0);
	cr_assert(duet_addr_equal(&spec.pin[1], &want));
}

Test(contract, ipv4_pin_on_an_ipv6_leg_is_refused_with_the_family_rule)
{
	struct duet_contract_field a[] = {F("a", "[2001:db8::1]:20000"), F("b", "192.0.2.1:20001"),
					  F("mode", "passthrough"), F("a_src", "203.0.113.7:4000")};
	struct duet_contract_field b[] = {F("a", "192.0.2.1:20000"), F("b", "[2001:db8::1]:20001"),
					  F("mode", "passthrough"), F("b_src", "203.0.113.7:4000")};

	add_v6_addresses();
	refused_with("x", a, N(a), "field a_src: address family differs from endpoint a");
	refused_with("x", b, N(b), "field b_src: address family differs from endpoint b");
}

/* A leg's family is its endpoint's: leg a on IPv4 and leg b on IPv6 is a
 * pair duetd bridges, each pin of its own leg's family. */
Test(contract, mixed_family_pair_parses_with_a_pin_of_each_family)
{
	struct duet_contract_field f[] = {F("a", "192.0.2.1:20000"),
					  F("b", "[2001:db8:1::1]:20001"),
					  F("mode", "passthrough"), F("a_src", "203.0.113.7:4000"),
					  F("b_src", "[2001:db8:ffff::8]:4002")};
	struct duet_contract_field rev[] = {F("a", "[2001:db8::1]:20000"),
					    F("b", "198.51.100.1:20001"), F("mode", "passthrough")};

	add_v6_addresses();
	cr_assert_eq(parse("mix", f, N(f)), 0, "%s", why);
	cr_assert_eq(spec.ep[0].family, DUET_AF_INET4);
	cr_assert_eq(spec.ep[1].family, DUET_AF_INET6);
	cr_assert_eq(spec.pin[0].family, DUET_AF_INET4);
	cr_assert_eq(spec.pin[1].family, DUET_AF_INET6);
	cr_assert_eq(spec.port_idx[1], 1);
	cr_assert_eq(parse("mix-rev", rev, N(rev)), 0, "%s", why);
	cr_assert_eq(spec.ep[0].family, DUET_AF_INET6);
	cr_assert_eq(spec.ep[1].family, DUET_AF_INET4);
}

Test(contract, ipv6_pin_that_is_a_service_address_or_not_unicast_is_refused)
{
	static const char *const pins[] = {"[2001:db8:1::1]:4000", "[::1]:4000", "[ff02::1]:4000",
					   "[::]:4000"};
	static const char *const expect[] = {"field a_src: is a service address of this relay",
					     "field a_src: not a unicast address",
					     "field a_src: not a unicast address",
					     "field a_src: not a unicast address"};
	size_t i;

	add_v6_addresses();
	for (i = 0; i < N(pins); i++) {
		struct duet_contract_field f[] = {F("a", "[2001:db8::1]:20000"),
						  F("b", "192.0.2.1:20001"),
						  F("mode", "passthrough"), F("a_src", pins[i])};

		refused_with("x", f, N(f), expect[i]);
	}
}

Test(contract, same_endpoint_twice)
{
	struct duet_contract_field f[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20000"),
					  F("mode", "passthrough")};

	refused_with("x", f, N(f), "field a and b are the same endpoint");
}

Test(contract, modes)
{
	struct duet_contract_field foo[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20001"),
					    F("mode", "foo")};
	struct duet_contract_field verify[] = {F("a", "192.0.2.1:20000"),
					       F("b", "192.0.2.1:20001"), F("mode", "verify")};
	struct duet_contract_field rekey[] = {F("a", "192.0.2.1:20000"),
					      F("b", "192.0.2.1:20001"), F("mode", "rekey")};
	struct duet_contract_field upper[] = {F("a", "192.0.2.1:20000"),
					      F("b", "192.0.2.1:20001"), F("mode", "PASSTHROUGH")};

	refused_with("x", foo, N(foo), "mode 'foo' unknown (passthrough, verify, rekey)");
	refused_with("x", verify, N(verify), "mode verify needs field a_in");
	refused_with("x", rekey, N(rekey), "mode rekey needs field a_in");
	refused_with("x", upper, N(upper), "mode 'PASSTHROUGH' unknown (passthrough, verify, rekey)");
}

Test(contract, numbers_must_be_plain_unsigned_decimal)
{
	const char *bad[] = {"abc", "-1", "+5", " 5", "5 ", "1e3", "0x10", "5.0", "١"};
	size_t i;

	for (i = 0; i < N(bad); i++) {
		struct duet_contract_field f[] = {F("a", "192.0.2.1:20000"),
						  F("b", "192.0.2.1:20001"),
						  F("mode", "passthrough"), F("idle_ms", bad[i])};
		struct duet_contract_field g[] = {F("a", "192.0.2.1:20000"),
						  F("b", "192.0.2.1:20001"),
						  F("mode", "passthrough"), F("expires", bad[i])};
		char q[64], expect[128];

		duet_contract_quote(bad[i], q, sizeof(q));
		snprintf(expect, sizeof(expect), "field idle_ms: '%s' is not a number", q);
		refused_with("x", f, N(f), expect);
		snprintf(expect, sizeof(expect), "field expires: '%s' is not a number", q);
		refused_with("x", g, N(g), expect);
	}
}

Test(contract, numbers_out_of_range)
{
	struct duet_contract_field idle[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20001"),
					     F("mode", "passthrough"), F("idle_ms", "86400001")};
	struct duet_contract_field huge[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20001"),
					     F("mode", "passthrough"),
					     F("idle_ms", "99999999999999999999999999")};
	struct duet_contract_field ms[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20001"),
					   F("mode", "passthrough"), F("expires", "1900000000000")};

	refused_with("x", idle, N(idle), "field idle_ms: '86400001' above the maximum 86400000");
	refused_with("x", huge, N(huge),
		     "field idle_ms: '99999999999999999999999999' above the maximum 86400000");
	refused_with("x", ms, N(ms),
		     "field expires: '1900000000000' is not unix seconds (after year 9999; "
		     "milliseconds?)");
}

Test(contract, pins_are_checked_without_quoting_the_client)
{
	struct {
		const char *pin;
		const char *expect;
	} cases[] = {
		{"203.0.113.7", "field a_src: value is not an ip:port"},
		{"203.0.113.7:0", "field a_src: value is not an ip:port"},
		{"[2001:db8::7]:4000", "field a_src: address family differs from endpoint a"},
		{"0.0.0.0:4000", "field a_src: not a unicast address"},
		{"224.0.0.1:4000", "field a_src: not a unicast address"},
		{"255.255.255.255:4000", "field a_src: not a unicast address"},
		{"127.0.0.1:4000", "field a_src: not a unicast address"},
		{"192.0.2.2:5000", "field a_src: is a service address of this relay"},
		{"192.0.2.1:20005", "field a_src: is a service address of this relay"},
	};
	size_t i;

	for (i = 0; i < N(cases); i++) {
		struct duet_contract_field f[] = {F("a", "192.0.2.1:20000"),
						  F("b", "192.0.2.1:20001"),
						  F("mode", "passthrough"), F("a_src", cases[i].pin)};

		refused_with("x", f, N(f), cases[i].expect);
	}
}

Test(contract, b_src_checked_against_leg_b)
{
	struct duet_contract_field f[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20001"),
					  F("mode", "passthrough"), F("b_src", "nonsense")};

	refused_with("x", f, N(f), "field b_src: value is not an ip:port");
}

Test(contract, field_given_twice_is_refused)
{
	struct duet_contract_field f[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20001"),
					  F("mode", "passthrough"), F("a", "192.0.2.1:20002")};

	refused_with("x", f, N(f), "field a given twice");
}

Test(contract, field_names_are_case_sensitive)
{
	struct duet_contract_field f[] = {F("A", "192.0.2.1:20000"), F("b", "192.0.2.1:20001"),
					  F("mode", "passthrough")};

	refused_with("x", f, N(f), "missing field a");
}

Test(contract, ids)
{
	char long_id[DUET_RECORD_ID_MAX + 2];
	struct duet_contract_field f[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20001"),
					  F("mode", "passthrough")};

	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	/* The id is cut to 48 characters in the reason. */
	refused_with(long_id, f, N(f),
		     "pair id '" X16 X16 X16 "...' longer than 64 characters");
	long_id[DUET_RECORD_ID_MAX] = '\0';
	cr_assert_eq(parse(long_id, f, N(f)), 0, "64 characters is allowed: %s", why);
	cr_assert_str_eq(spec.id, long_id);
	refused_with("", f, N(f), "pair id is empty");
	refused_with(NULL, f, N(f), "pair id is empty");
	refused_with("a b", f, N(f),
		     "pair id 'a b' has a character outside [A-Za-z0-9._:-] at position 2");
	refused_with("a/b", f, N(f),
		     "pair id 'a/b' has a character outside [A-Za-z0-9._:-] at position 2");
	refused_with("x*", f, N(f),
		     "pair id 'x*' has a character outside [A-Za-z0-9._:-] at position 2");
	refused_with("\x1b[2Jx", f, N(f),
		     "pair id '?[2Jx' has a character outside [A-Za-z0-9._:-] at position 1");
}

Test(contract, long_hostile_values_are_cut_and_sanitised_in_reasons)
{
	char big[100000];
	struct duet_contract_field f[] = {F("a", big), F("b", "192.0.2.1:20001"),
					  F("mode", "passthrough")};

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[3] = '\n';
	cr_assert_eq(parse("x", f, N(f)), -EINVAL);
	cr_assert_str_eq(why, "field a: 'AAA?AAAAAAAAAAAA" A16 A16 "...' is not an ip:port");
	cr_assert_lt(strlen(why), sizeof(why) - 1);
}

Test(contract, refusal_leaves_output_untouched)
{
	struct duet_contract_field f[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20000"),
					  F("mode", "passthrough")};
	struct duet_pair_spec before;

	memcpy(&before, &spec, sizeof(spec));
	cr_assert_eq(parse("x", f, N(f)), -EINVAL);
	cr_assert_eq(memcmp(&before, &spec, sizeof(spec)), 0);
}

Test(contract, why_may_be_null_or_tiny)
{
	struct duet_contract_field f[] = {F("a", "nope"), F("b", "192.0.2.1:20001"),
					  F("mode", "passthrough")};
	char tiny[8];

	cr_assert_eq(duet_contract_parse_pair("x", f, N(f), &conf, &spec, NULL, 0), -EINVAL);
	cr_assert_eq(duet_contract_parse_pair("x", f, N(f), &conf, &spec, tiny, sizeof(tiny)),
		     -EINVAL);
	cr_assert_str_eq(tiny, "field a");
}

Test(contract, null_field_names_and_values_are_tolerated)
{
	struct duet_contract_field f[] = {F(NULL, "zz"), F("a", "192.0.2.1:20000"),
					  F("b", "192.0.2.1:20001"), F("mode", "passthrough"),
					  F("idle_ms", NULL)};

	cr_assert_eq(parse("x", f, N(f)), 0, "%s", why);
	cr_assert_eq(spec.idle_ms, 30000);
}

Test(contract, events)
{
	struct duet_contract_field put[] = {F("op", "put"), F("id", "call-1")};
	struct duet_contract_field del[] = {F("id", "call-2"), F("op", "del"), F("x", "y")};
	struct duet_contract_field bad_op[] = {F("op", "upsert"), F("id", "call-1")};
	struct duet_contract_field no_id[] = {F("op", "put")};
	struct duet_contract_field bad_id[] = {F("op", "del"), F("id", "a b")};
	struct duet_contract_field no_op[] = {F("id", "x")};
	enum duet_contract_op op;
	char id[DUET_RECORD_ID_MAX + 1];

	cr_assert_eq(duet_contract_parse_event(put, N(put), &op, id, why, sizeof(why)), 0);
	cr_assert_eq(op, DUET_CONTRACT_OP_PUT);
	cr_assert_str_eq(id, "call-1");
	cr_assert_eq(duet_contract_parse_event(del, N(del), &op, id, why, sizeof(why)), 0);
	cr_assert_eq(op, DUET_CONTRACT_OP_DEL);
	cr_assert_str_eq(id, "call-2");
	cr_assert_eq(duet_contract_parse_event(bad_op, N(bad_op), &op, id, why, sizeof(why)),
		     -EINVAL);
	cr_assert_str_eq(why, "op 'upsert' unknown (put, del)");
	cr_assert_eq(duet_contract_parse_event(no_id, N(no_id), &op, id, why, sizeof(why)),
		     -EINVAL);
	cr_assert_str_eq(why, "missing field id");
	cr_assert_eq(duet_contract_parse_event(no_op, N(no_op), &op, id, why, sizeof(why)),
		     -EINVAL);
	cr_assert_str_eq(why, "missing field op");
	cr_assert_eq(duet_contract_parse_event(bad_id, N(bad_id), &op, id, why, sizeof(why)),
		     -EINVAL);
	cr_assert_str_eq(why, "pair id 'a b' has a character outside [A-Za-z0-9._:-] at position 2");
}

Test(contract, event_with_a_repeated_field_is_malformed)
{
	struct duet_contract_field two_ops[] = {F("op", "put"), F("op", "del"), F("id", "p1")};
	struct duet_contract_field two_ids[] = {F("op", "del"), F("id", "p1"), F("id", "p2")};
	struct duet_contract_field same_twice[] = {F("op", "del"), F("id", "p1"), F("op", "del")};
	struct duet_contract_field no_text[] = {F("op", NULL), F("id", "p1")};
	enum duet_contract_op op = DUET_CONTRACT_OP_PUT;
	char id[DUET_RECORD_ID_MAX + 1] = "untouched";

	cr_assert_eq(duet_contract_parse_event(two_ops, N(two_ops), &op, id, why, sizeof(why)),
		     -EINVAL);
	cr_assert_str_eq(why, "field op given twice");
	cr_assert_eq(duet_contract_parse_event(two_ids, N(two_ids), &op, id, why, sizeof(why)),
		     -EINVAL);
	cr_assert_str_eq(why, "field id given twice");
	/* Even the same value twice: the entry was not written by the contract. */
	cr_assert_eq(duet_contract_parse_event(same_twice, N(same_twice), &op, id, why,
					       sizeof(why)),
		     -EINVAL);
	cr_assert_str_eq(why, "field op given twice");
	cr_assert_eq(duet_contract_parse_event(no_text, N(no_text), &op, id, why, sizeof(why)),
		     -EINVAL);
	cr_assert_str_eq(why, "field op: value is not text");
	cr_assert_eq(op, DUET_CONTRACT_OP_PUT);
	cr_assert_str_eq(id, "untouched");
}

Test(contract, stream_ids_parse_and_order)
{
	struct duet_contract_stream_id x, y;

	cr_assert_eq(duet_contract_stream_id_parse("0-0", &x), 0);
	cr_assert_eq(x.ms, 0);
	cr_assert_eq(x.seq, 0);
	cr_assert_eq(duet_contract_stream_id_parse("1700000000123-7", &y), 0);
	cr_assert_eq(y.ms, 1700000000123ull);
	cr_assert_eq(y.seq, 7);
	cr_assert_lt(duet_contract_stream_id_cmp(&x, &y), 0);
	cr_assert_gt(duet_contract_stream_id_cmp(&y, &x), 0);
	cr_assert_eq(duet_contract_stream_id_parse("1700000000123-10", &x), 0);
	cr_assert_gt(duet_contract_stream_id_cmp(&x, &y), 0, "numeric, not text, order");
	cr_assert_eq(duet_contract_stream_id_parse("18446744073709551615-18446744073709551615",
						   &x),
		     0);
	cr_assert_eq(x.ms, UINT64_MAX);
	cr_assert_eq(duet_contract_stream_id_cmp(&x, &x), 0);

	cr_assert_eq(duet_contract_stream_id_parse("5", &x), -EINVAL);
	cr_assert_eq(duet_contract_stream_id_parse("-5", &x), -EINVAL);
	cr_assert_eq(duet_contract_stream_id_parse("5-", &x), -EINVAL);
	cr_assert_eq(duet_contract_stream_id_parse("5-x", &x), -EINVAL);
	cr_assert_eq(duet_contract_stream_id_parse("5-1-2", &x), -EINVAL);
	cr_assert_eq(duet_contract_stream_id_parse("18446744073709551616-0", &x), -EINVAL);
	cr_assert_eq(duet_contract_stream_id_parse(NULL, &x), -EINVAL);
}

Test(contract, quote)
{
	char buf[64], small[6];

	cr_assert_str_eq(duet_contract_quote("abc", buf, sizeof(buf)), "abc");
	cr_assert_str_eq(duet_contract_quote("a\tb\x7f\xc3\xa9", buf, sizeof(buf)), "a?b???");
	cr_assert_str_eq(duet_contract_quote("abcdefgh", small, sizeof(small)), "ab...");
	cr_assert_str_eq(duet_contract_quote(NULL, buf, sizeof(buf)), "(null)");
}

/* ---- resume or reload after a reconnect ---- */

static struct duet_contract_stream_id
sid(uint64_t ms, uint64_t seq)
{
	return (struct duet_contract_stream_id){ms, seq};
}

/* A Redis 7 stream with entries 100-0 .. 105-0 added (6), nothing removed. */
static struct duet_contract_stream_info
stream7(void)
{
	struct duet_contract_stream_info i = {
		.exists = true,
		.length = 6,
		.last_generated = sid(105, 0),
		.has_max_deleted = true,
		.max_deleted = sid(0, 0),
		.has_entries_added = true,
		.entries_added = 6,
		.has_first = true,
		.first = sid(100, 0),
	};

	return i;
}

static bool
resume(const struct duet_contract_stream_info *i, struct duet_contract_stream_id at,
       uint64_t added, const char **why)
{
	struct duet_contract_stream_pos p = {.id = at, .has_added = true, .added = added};

	return duet_contract_stream_can_resume(i, &p, why);
}

Test(contract, resume_when_nothing_was_lost)
{
	struct duet_contract_stream_info i = stream7();
	const char *why = "unset";

	cr_assert(resume(&i, sid(105, 0), 6, &why), "caught up");
	cr_assert_null(why);
	cr_assert(resume(&i, sid(102, 0), 3, &why), "behind, nothing trimmed");
	/* Entries we had read were trimmed; ours too; the rest is all there. */
	i.length = 3;
	i.first = sid(103, 0);
	cr_assert(resume(&i, sid(102, 0), 3, &why), "%s", why);
	/* An XDEL of an entry we had read does not matter. */
	i = stream7();
	i.max_deleted = sid(101, 0);
	i.length = 5;
	cr_assert(resume(&i, sid(103, 0), 4, &why));
}

Test(contract, reload_when_unread_entries_were_trimmed)
{
	struct duet_contract_stream_info i = stream7();
	const char *why = NULL;

	/* We read up to 102 (3 added); 103 was trimmed, 104 and 105 remain. */
	i.length = 2;
	i.first = sid(104, 0);
	cr_assert_not(resume(&i, sid(102, 0), 3, &why));
	cr_assert_str_eq(why, "events we had not read were trimmed");
	/* XTRIM MAXLEN 0: all gone, nothing left to compare. */
	i.length = 0;
	i.has_first = false;
	cr_assert_not(resume(&i, sid(102, 0), 3, &why));
	/* Without entries-added (Redis 6) a head past us is a loss. */
	i = stream7();
	i.has_entries_added = false;
	i.has_max_deleted = false;
	i.length = 3;
	i.first = sid(103, 0);
	cr_assert_not(resume(&i, sid(102, 0), 3, &why));
	/* ... but a head at or before us is fine there too. */
	i.first = sid(101, 0);
	cr_assert(resume(&i, sid(102, 0), 3, &why));
}

Test(contract, reload_when_unread_entries_were_deleted)
{
	struct duet_contract_stream_info i = stream7();
	const char *why = NULL;

	i.max_deleted = sid(104, 0);
	i.length = 5;
	cr_assert_not(resume(&i, sid(102, 0), 3, &why));
	cr_assert_str_eq(why, "events we had not read were deleted");
}

Test(contract, reload_when_the_stream_is_older_or_gone)
{
	struct duet_contract_stream_info i = stream7();
	struct duet_contract_stream_info none = {.exists = false};
	const char *why = NULL;

	cr_assert_not(resume(&i, sid(106, 0), 7, &why), "Redis came back from an older copy");
	cr_assert_str_eq(why, "events stream is older than our position (Redis lost data)");
	cr_assert_not(resume(&i, sid(105, 1), 7, &why));
	cr_assert_not(resume(&none, sid(105, 0), 6, &why));
	cr_assert_str_eq(why, "events stream is gone");
	cr_assert(resume(&none, sid(0, 0), 0, &why), "never saw a stream: nothing to miss");
}

#define K80 "AES_CM_128_HMAC_SHA1_80 inline:ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CB"
#define KGCM "AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw=="

Test(contract, keyed_modes_take_exactly_their_key_fields)
{
	struct duet_contract_field verify[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20001"),
					       F("mode", "verify"), F("a_in", K80), F("b_in", KGCM)};
	struct duet_contract_field rekey[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20001"),
					      F("mode", "rekey"),	   F("a_in", K80),
					      F("a_out", KGCM),		   F("b_in", K80),
					      F("b_out", K80)};
	struct duet_contract_field rekey_nob[] = {F("a", "192.0.2.1:20000"),
						  F("b", "192.0.2.1:20001"), F("mode", "rekey"),
						  F("a_in", K80), F("a_out", K80), F("b_in", K80)};
	struct duet_contract_field verify_out[] = {F("a", "192.0.2.1:20000"),
						   F("b", "192.0.2.1:20001"), F("mode", "verify"),
						   F("a_in", K80), F("b_in", K80), F("a_out", K80)};
	struct duet_contract_field pass_key[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20001"),
						 F("mode", "passthrough"), F("a_in", K80)};
	struct duet_contract_field bad_key[] = {F("a", "192.0.2.1:20000"), F("b", "192.0.2.1:20001"),
						F("mode", "verify"), F("a_in", K80),
						F("b_in", "AES_CM_128_HMAC_SHA1_80 inline:c2VjcmV0")};
	struct duet_contract_field bad_suite[] = {F("a", "192.0.2.1:20000"),
						  F("b", "192.0.2.1:20001"), F("mode", "verify"),
						  F("a_in", "NULL_HMAC inline:c2VjcmV0c2VjcmV0"),
						  F("b_in", K80)};
	struct duet_pair_spec spec;
	char why[DUET_CONTRACT_WHY_MAX];

	cr_assert_eq(duet_contract_parse_pair("v", verify, N(verify), &conf, &spec, why,
					      sizeof(why)),
		     0, "%s", why);
	cr_assert_eq(spec.mode, DUET_MODE_VERIFY);
	cr_assert_eq(spec.key[DUET_KEY_A_IN].suite, DUET_SRTP_AES_CM_128_HMAC_SHA1_80);
	cr_assert_eq(spec.key[DUET_KEY_A_IN].key_len, 30);
	cr_assert_eq(spec.key[DUET_KEY_B_IN].suite, DUET_SRTP_AEAD_AES_128_GCM);
	cr_assert_eq(spec.key[DUET_KEY_B_IN].key[27], 27);
	cr_assert_eq(spec.key[DUET_KEY_A_OUT].key_len, 0);
	cr_assert_eq(duet_contract_parse_pair("r", rekey, N(rekey), &conf, &spec, why, sizeof(why)),
		     0, "%s", why);
	cr_assert_eq(spec.key[DUET_KEY_A_OUT].suite, DUET_SRTP_AEAD_AES_128_GCM);
	cr_assert_eq(spec.key[DUET_KEY_B_OUT].key_len, 30);
	duet_secure_zero(&spec, sizeof(spec));

	refused_with("x", rekey_nob, N(rekey_nob), "mode rekey needs field b_out");
	refused_with("x", verify_out, N(verify_out), "mode verify takes no field a_out");
	refused_with("x", pass_key, N(pass_key),
		     "mode passthrough takes no field a_in (the relay must not hold end-to-end keys)");
	/* The reason never quotes the key. */
	refused_with("x", bad_key, N(bad_key), "field b_in: key || salt has the wrong length for the suite");
	refused_with("x", bad_suite, N(bad_suite),
		     "field a_in: unknown crypto suite (AES_CM_128_HMAC_SHA1_80, "
		     "AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM)");
}

/* ---- issue 8: relatch, max_pps, max_kbps, pins under the source policy ---- */

Test(contract, relatch_and_limits_default_to_the_relay_and_can_be_set)
{
	struct duet_contract_field plain[] = {F("a", "192.0.2.1:20000"),
					      F("b", "198.51.100.1:20002"), F("mode", "passthrough")};
	struct duet_contract_field set[] = {F("a", "192.0.2.1:20000"), F("b", "198.51.100.1:20002"),
					    F("mode", "passthrough"), F("relatch", "never"),
					    F("max_pps", "0"), F("max_kbps", "100000000")};
	struct duet_contract_field empty[] = {F("a", "192.0.2.1:20000"),
					      F("b", "198.51.100.1:20002"), F("mode", "passthrough"),
					      F("relatch", ""), F("max_pps", ""), F("max_kbps", "")};

	conf.relatch = DUET_RELATCH_ANY;
	conf.security.max_pps = 321;
	conf.security.max_kbps = 654;
	cr_assert_eq(parse("p", plain, N(plain)), 0, "%s", why);
	cr_assert_eq(spec.relatch, DUET_RELATCH_ANY);
	cr_assert_eq(spec.max_pps, 321);
	cr_assert_eq(spec.max_kbps, 654);
	cr_assert_eq(parse("p", empty, N(empty)), 0, "%s", why);
	cr_assert_eq(spec.relatch, DUET_RELATCH_ANY, "an empty field is an absent one");
	cr_assert_eq(spec.max_pps, 321);
	cr_assert_eq(parse("p", set, N(set)), 0, "%s", why);
	cr_assert_eq(spec.relatch, DUET_RELATCH_NEVER);
	cr_assert_eq(spec.max_pps, 0, "0 lifts the packet limit for this pair");
	cr_assert_eq(spec.max_kbps, 100000000);
}

Test(contract, bad_relatch_and_limits_are_refused_by_name)
{
	struct duet_contract_field f[] = {F("a", "192.0.2.1:20000"), F("b", "198.51.100.1:20002"),
					  F("mode", "passthrough"), F("relatch", "SSRC")};

	refused_with("p", f, N(f), "field relatch: 'SSRC' unknown (ssrc, any, never)");
	f[3] = F("max_pps", "10000001");
	refused_with("p", f, N(f), "field max_pps: '10000001' above the maximum 10000000");
	f[3] = F("max_pps", "-1");
	refused_with("p", f, N(f), "field max_pps: '-1' is not a number");
	f[3] = F("max_kbps", "1e6");
	refused_with("p", f, N(f), "field max_kbps: '1e6' is not a number");
	f[3] = F("max_kbps", "99999999999999999999999");
	refused_with("p", f, N(f),
		     "field max_kbps: '99999999999999999999999' above the maximum 100000000");
}

Test(contract, pins_in_a_martian_class_or_denied_peers_are_refused_without_the_address)
{
	static const char *const martian[] = {"0.1.2.3:4000", "169.254.9.9:4000",
					       "240.0.0.1:4000", "192.0.2.10:0"};
	struct duet_contract_field f[] = {F("a", "192.0.2.1:20000"), F("b", "198.51.100.1:20002"),
					  F("mode", "passthrough"), F("a_src", NULL)};
	struct duet_cidr c;
	size_t i;

	for (i = 0; i < N(martian); i++) {
		f[3] = F("a_src", martian[i]);
		cr_assert_eq(parse("p", f, N(f)), -EINVAL, "pin %s accepted", martian[i]);
		cr_assert(strstr(why, "field a_src") != NULL, "%s: %s", martian[i], why);
		cr_assert(strstr(why, martian[i]) == NULL, "the reason quotes the client: %s", why);
	}
	cr_assert_eq(duet_cidr_parse("203.0.113.0/24", &c, NULL), 0);
	cr_assert_eq(duet_policy_add_cidr(&conf.policy, &c, false), 0);
	f[3] = F("a_src", "203.0.113.9:4000");
	refused_with("p", f, N(f),
		     "field a_src: refused by the source policy (in [security] denied_peers "
		     "203.0.113.0/24)");
	f[3] = F("a_src", "192.0.2.10:4000");
	cr_assert_eq(parse("p", f, N(f)), 0, "%s", why);
}
