/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the contract's Lua scripts (lib/contract/lua/):
 * pair_create.lua, pair_delete.lua and endpoints_seed.lua, run through
 * lib/redis (duet_redis_script) against a real redis-server that each test
 * starts on a unix socket in its own temporary directory and always stops
 * (the fixture in tests/unit/redis_server.c, used through
 * tests/unit/redis_cmd.c). What each script writes; that every refusal
 * answers its error and changes nothing at all, not even one write undone
 * (snapshot()); and that concurrent creates never hand out an endpoint
 * twice.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "duet_redis.h"
#include "../redis_cmd.h"

#define MAXLEN "1000"

/* ---------------------------------------------------------------------- */
/* The contract's arguments, snapshots and refusals                       */

static const char *
pair_key(const char *id)
{
	static char ring[4][DUET_REDIS_KEY_MAX];
	static unsigned int next;
	char *k = ring[next++ % 4];

	duet_redis_key(k, DUET_REDIS_KEY_MAX, TEST_RELAY, "pair:", id);
	return k;
}

/* How many keys script s takes: pair_create.lua also reads the relay's
 * heartbeat hash. */
static int
nkeys(enum duet_redis_script s)
{
	return s == DUET_SCRIPT_PAIR_CREATE ? DUET_REDIS_CREATE_NKEYS : DUET_REDIS_DELETE_NKEYS;
}

/* The first arguments of pair script s: the contract's keys for id, the id
 * and the events max length. Returns their count, nkeys(s) + 2. */
static int
pair_argv(const char **argv, enum duet_redis_script s, const char *id, const char *maxlen)
{
	int n = 0;

	test_relay_keys_init();
	argv[n++] = test_keys.free;
	argv[n++] = test_keys.alloc;
	argv[n++] = pair_key(id);
	argv[n++] = test_keys.events;
	if (s == DUET_SCRIPT_PAIR_CREATE)
		argv[n++] = test_keys.relay;
	argv[n++] = id;
	argv[n++] = maxlen;
	return n;
}

/* What duetd does when it comes up: offer n endpoints and publish its
 * heartbeat (capacity 100), so pair_create.lua has a relay to use. */
static void
relay_up(struct duet_redis *r, int n, const char *const *eps)
{
	cr_assert_eq(test_relay_seed(r, n, eps), n);
	test_relay_heartbeat(r, 100);
}

/* pair_create.lua or pair_delete.lua with the contract's keys; fields are
 * extra field/value strings for create, NULL-terminated. */
static redisReply *
run_pair_script(struct duet_redis *r, enum duet_redis_script s, const char *id, ...)
{
	const char *argv[32];
	const char *f;
	va_list ap;
	int n;

	n = pair_argv(argv, s, id, MAXLEN);
	va_start(ap, id);
	while ((f = va_arg(ap, const char *)) != NULL && n < 32)
		argv[n++] = f;
	va_end(ap);
	return duet_redis_script(r, s, nkeys(s), n, argv);
}

static bool
is_one_of_four(const char *ep)
{
	size_t i;

	for (i = 0; i < 4; i++)
		if (strcmp(ep, test_four_eps[i]) == 0)
			return true;
	return false;
}

static int
cmp_cstr(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

#define SNAPSHOT_MAX 32768

/* Every key of the relay, in name order, each rendered by its type, then
 * Redis's count of writes since it started (rdb_changes_since_last_save;
 * the fixture never saves). Two equal snapshots prove that nothing
 * changed: the same data, and no write at all, not even one undone. */
static const char *
snapshot(struct duet_redis *r)
{
	static char out[2][SNAPSHOT_MAX];
	static unsigned int next;
	char *s = out[next++ % 2];
	const char *names[64], *type, *body, *writes;
	redisReply *keys;
	size_t i, len = 0;

	keys = redisCommand(r->ctx, "KEYS duet:{%s}:*", TEST_RELAY);
	cr_assert(keys != NULL && keys->type == REDIS_REPLY_ARRAY && keys->elements <= 64);
	for (i = 0; i < keys->elements; i++)
		names[i] = keys->element[i]->str;
	qsort(names, keys->elements, sizeof(names[0]), cmp_cstr);
	for (i = 0; i < keys->elements; i++) {
		type = test_redis_query(r, "TYPE %s", names[i]);
		if (strcmp(type, "set") == 0)
			body = test_redis_query(r, "SORT %s ALPHA", names[i]);
		else if (strcmp(type, "hash") == 0)
			body = test_redis_query(r, "HGETALL %s", names[i]);
		else if (strcmp(type, "stream") == 0)
			body = test_redis_query(r, "XRANGE %s - +", names[i]);
		else
			body = test_redis_query(r, "GET %s", names[i]);
		len += (size_t)snprintf(s + len, SNAPSHOT_MAX - len, "%s %s=%s\n", type, names[i],
					body);
		cr_assert_lt(len, (size_t)SNAPSHOT_MAX, "snapshot truncated");
	}
	freeReplyObject(keys);
	writes = strstr(test_redis_query(r, "INFO persistence"), "rdb_changes_since_last_save:");
	cr_assert_not_null(writes);
	snprintf(s + len, SNAPSHOT_MAX - len, "%.*s", (int)strcspn(writes, "\r\n"), writes);
	return s;
}

/* Run script s on argv (its nkeys keys first) and assert that it changed
 * nothing and answered exactly the error want. */
static void
assert_refused_argv(struct duet_redis *r, enum duet_redis_script s, int nkeys, int argc,
		    const char **argv, const char *want)
{
	char before[SNAPSHOT_MAX], got[512];
	redisReply *rep;

	snprintf(before, sizeof(before), "%s", snapshot(r));
	rep = duet_redis_script(r, s, nkeys, argc, argv);
	cr_assert_not_null(rep, "%s", r->errstr);
	test_redis_render(rep, got, sizeof(got));
	freeReplyObject(rep);
	cr_assert_str_eq(snapshot(r), before,
			 "the call refused with '%s' (reply '%s') changed Redis", want, got);
	cr_assert_eq(strncmp(got, "ERR:", 4), 0, "expected '%s', got reply '%s'", want, got);
	cr_assert_str_eq(got + 4, want);
}

/* The same for the usual call: the contract's keys for id, MAXLEN, then
 * field/value strings, NULL-terminated. */
static void
assert_refused(struct duet_redis *r, enum duet_redis_script s, const char *want, const char *id,
	       ...)
{
	const char *argv[32];
	const char *f;
	va_list ap;
	int n;

	n = pair_argv(argv, s, id, MAXLEN);
	va_start(ap, id);
	while ((f = va_arg(ap, const char *)) != NULL && n < 32)
		argv[n++] = f;
	va_end(ap);
	assert_refused_argv(r, s, nkeys(s), n, argv, want);
}

/* The refusal tests' fixture: a private redis-server, a connection to it
 * (busy) and a relay in use there. Four endpoints are seeded and pair
 * "live" made by the script, so free (two left), alloc, live's hash and
 * events all exist. */
static struct duet_redis busy;

static void
start_busy_relay(void)
{
	redisReply *rep;

	test_redis_start();
	test_redis_connect(&busy);
	relay_up(&busy, 4, test_four_eps);
	rep = run_pair_script(&busy, DUET_SCRIPT_PAIR_CREATE, "live", "idle_ms", "5000", NULL);
	cr_assert_eq(rep->type, REDIS_REPLY_ARRAY);
	freeReplyObject(rep);
}

static void
stop_busy_relay(void)
{
	duet_redis_close(&busy);
	test_redis_stop();
}

/* What both pair scripts check before their first write. Each helper
 * asserts every case is refused with nothing changed; id names a pair that
 * the script would otherwise create or delete. */

/* Any key count but the script's. The first case is the issue's: one key
 * short, then id and max length, wrote (create) or deleted (delete) and
 * then failed at XADD for want of the events key. */
static void
assert_key_count_checked(struct duet_redis *r, enum duet_redis_script s, const char *id)
{
	const int nk = nkeys(s);
	const int counts[] = {nk - 1, nk - 2, nk + 1};
	const char *full[8], *argv[10];
	char want[64];
	size_t c;
	int i;

	snprintf(want, sizeof(want), "BADARG script takes %d keys", nk);
	pair_argv(full, s, id, MAXLEN);
	for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		const int k = counts[c];

		for (i = 0; i < k && i < nk; i++)
			argv[i] = full[i];
		for (; i < k; i++)
			argv[i] = "duet:{" TEST_RELAY "}:more";
		argv[k] = id;
		argv[k + 1] = MAXLEN;
		assert_refused_argv(r, s, k, k + 2, argv, want);
	}
}

#define MAXLEN_REFUSED "BADARG events max length must be an integer from 1 to 999999999999999"

/* Any events max length outside 1..999999999999999, the largest one the
 * scripts promise (Redis itself takes up to 2^63 - 1); then the largest is
 * taken. The first case is the issue's: it passed the old pattern check,
 * and XADD refused it after everything else was written. */
static void
assert_max_length_checked(struct duet_redis *r, enum duet_redis_script s, const char *id)
{
	static const char *const bad[] = {
		"99999999999999999999999999", "9223372036854775808", "1000000000000000",
		"0", "-1", "+5", "010", "1e3", " 1", "",
	};
	const char *argv[8];
	redisReply *rep;
	size_t i;
	int n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = pair_argv(argv, s, id, bad[i]);
		assert_refused_argv(r, s, nkeys(s), n, argv, MAXLEN_REFUSED);
	}
	n = pair_argv(argv, s, id, "999999999999999");
	rep = duet_redis_script(r, s, nkeys(s), n, argv);
	cr_assert_not_null(rep, "%s", r->errstr);
	cr_assert_neq(rep->type, REDIS_REPLY_ERROR, "%s", rep->str);
	freeReplyObject(rep);
}

/* The id, and keys that are not id's and one relay's. */
static void
assert_id_and_keys_checked(struct duet_redis *r, enum duet_redis_script s, const char *id)
{
	static const char bad_id[] = "BADARG pair id must be 1..64 characters of [A-Za-z0-9._:-]";
	char want[128], long_id[66];
	const char *argv[8];
	const int nk = nkeys(s);
	int n;

	assert_refused(r, s, bad_id, "", NULL);
	assert_refused(r, s, bad_id, "x y", NULL);
	memset(long_id, 'i', 65);
	long_id[65] = '\0';
	assert_refused(r, s, bad_id, long_id, NULL);

	n = pair_argv(argv, s, id, MAXLEN);
	argv[2] = pair_key("other");
	snprintf(want, sizeof(want), "BADARG KEYS[3] is not the pair key of %s", id);
	assert_refused_argv(r, s, nk, n, argv, want);

	n = pair_argv(argv, s, id, MAXLEN);
	argv[0] = "duet:{t2}:free";
	assert_refused_argv(r, s, nk, n, argv, "BADARG KEYS[1] must be duet:{" TEST_RELAY "}:free");
	argv[0] = test_keys.alloc;
	argv[1] = test_keys.free;
	assert_refused_argv(r, s, nk, n, argv, "BADARG KEYS[1] must be duet:{" TEST_RELAY "}:free");
	n = pair_argv(argv, s, id, MAXLEN);
	argv[3] = "duet:{" TEST_RELAY "}:event";
	assert_refused_argv(r, s, nk, n, argv,
			    "BADARG KEYS[4] must be duet:{" TEST_RELAY "}:events");

	if (s == DUET_SCRIPT_PAIR_CREATE) {
		n = pair_argv(argv, s, id, MAXLEN);
		argv[4] = "duet:{t2}:relay";
		assert_refused_argv(r, s, nk, n, argv,
				    "BADARG KEYS[5] must be duet:{" TEST_RELAY "}:relay");
	}

	/* ARGV[2] missing altogether. */
	n = pair_argv(argv, s, id, MAXLEN);
	assert_refused_argv(r, s, nk, n - 1, argv, MAXLEN_REFUSED);
}

/* Keys a write would fail on: free, alloc, events (or create's relay
 * hash) holding another type
 * (the real key set aside meanwhile), and an events stream that has
 * handed out its last entry ID. Needs start_busy_relay(). */
static void
assert_unusable_keys_refused(struct duet_redis *r, enum duet_redis_script s, const char *id)
{
	static const struct {
		const char *key;
		const char *fill;
		const char *want;
	} cases[] = {
		{test_keys.free, "HSET %s x y", "BADARG KEYS[1] holds a hash, not a set"},
		{test_keys.alloc, "SADD %s x", "BADARG KEYS[2] holds a set, not a hash"},
		{test_keys.events, "SET %s x", "BADARG KEYS[4] holds a string, not a stream"},
		{test_keys.events,
		 "XADD %s 18446744073709551615-18446744073709551615 op put id old",
		 "BADARG KEYS[4] has no entry ID left"},
		{test_keys.relay, "SADD %s x", "BADARG KEYS[5] holds a set, not a hash"},
	};
	static const char aside[] = "duet:{" TEST_RELAY "}:aside";
	const char *argv[8];
	size_t i;
	int n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* pair_delete.lua takes no relay key. */
		if (cases[i].key == test_keys.relay && s != DUET_SCRIPT_PAIR_CREATE)
			continue;
		cr_assert_str_eq(test_redis_query(r, "RENAME %s %s", cases[i].key, aside), "OK");
		test_redis_query(r, cases[i].fill, cases[i].key);
		n = pair_argv(argv, s, id, MAXLEN);
		assert_refused_argv(r, s, nkeys(s), n, argv, cases[i].want);
		test_redis_query(r, "DEL %s", cases[i].key);
		cr_assert_str_eq(test_redis_query(r, "RENAME %s %s", aside, cases[i].key), "OK");
	}
}

/* ---------------------------------------------------------------------- */
/* pair_create.lua                                                        */

Test(contract_lua, create_takes_two_distinct_free_endpoints, .init = test_redis_start,
     .fini = test_redis_stop)
{
	struct duet_redis r;
	redisReply *rep;
	char a[64], b[64], entry[256];

	test_redis_connect(&r);
	relay_up(&r, 4, test_four_eps);
	rep = run_pair_script(&r, DUET_SCRIPT_PAIR_CREATE, "call-1", "a_src", "203.0.113.9:4000",
			      "idle_ms", "5000", NULL);
	cr_assert_not_null(rep, "%s", r.errstr);
	cr_assert_eq(rep->type, REDIS_REPLY_ARRAY, "reply: %s", rep->str);
	cr_assert_eq(rep->elements, 2);
	snprintf(a, sizeof(a), "%s", rep->element[0]->str);
	snprintf(b, sizeof(b), "%s", rep->element[1]->str);
	freeReplyObject(rep);

	cr_assert_str_neq(a, b);
	cr_assert(is_one_of_four(a), "a=%s was never free", a);
	cr_assert(is_one_of_four(b), "b=%s was never free", b);
	cr_assert_str_eq(test_redis_query(&r, "SCARD %s", test_keys.free), "2");
	cr_assert_str_eq(test_redis_query(&r, "SISMEMBER %s %s", test_keys.free, a), "0");
	cr_assert_str_eq(test_redis_query(&r, "SISMEMBER %s %s", test_keys.free, b), "0");
	cr_assert_str_eq(test_redis_query(&r, "HGET %s %s", test_keys.alloc, a), "call-1");
	cr_assert_str_eq(test_redis_query(&r, "HGET %s %s", test_keys.alloc, b), "call-1");
	cr_assert_str_eq(test_redis_query(&r, "HLEN %s", test_keys.alloc), "2");

	cr_assert_str_eq(test_redis_query(&r, "HGET %s a", pair_key("call-1")), a);
	cr_assert_str_eq(test_redis_query(&r, "HGET %s b", pair_key("call-1")), b);
	cr_assert_str_eq(test_redis_query(&r, "HGET %s mode", pair_key("call-1")), "passthrough");
	cr_assert_str_eq(test_redis_query(&r, "HGET %s a_src", pair_key("call-1")),
			 "203.0.113.9:4000");
	cr_assert_str_eq(test_redis_query(&r, "HGET %s idle_ms", pair_key("call-1")), "5000");

	cr_assert_str_eq(test_redis_query(&r, "XLEN %s", test_keys.events), "1");
	snprintf(entry, sizeof(entry), "%s",
		 test_redis_query(&r, "XRANGE %s - +", test_keys.events));
	cr_assert_not_null(strstr(entry, ",op,put,id,call-1"), "entry: %s", entry);
	duet_redis_close(&r);
}

Test(contract_lua, create_keeps_a_given_mode, .init = test_redis_start, .fini = test_redis_stop)
{
	struct duet_redis r;
	redisReply *rep;

	test_redis_connect(&r);
	relay_up(&r, 4, test_four_eps);
	rep = run_pair_script(&r, DUET_SCRIPT_PAIR_CREATE, "m1", "mode", "verify", NULL);
	cr_assert_not_null(rep, "%s", r.errstr);
	cr_assert_eq(rep->type, REDIS_REPLY_ARRAY);
	freeReplyObject(rep);
	/* The script stores; duetd is the one that rejects unsupported modes. */
	cr_assert_str_eq(test_redis_query(&r, "HGET %s mode", pair_key("m1")), "verify");
	duet_redis_close(&r);
}

Test(contract_lua, create_takes_each_leg_on_the_service_address_asked_for, .init = test_redis_start,
     .fini = test_redis_stop)
{
	static const char *mixed[] = {"192.0.2.1:10000", "192.0.2.1:10002", "198.51.100.1:10000",
				      "198.51.100.1:10002"};
	struct duet_redis r;
	redisReply *rep;
	int i;

	test_redis_connect(&r);
	relay_up(&r, 4, mixed);
	/* Twice, so a lucky random pick cannot pass for the hint working. */
	for (i = 0; i < 2; i++) {
		const char *id = i == 0 ? "h0" : "h1";

		rep = run_pair_script(&r, DUET_SCRIPT_PAIR_CREATE, id, "a_ip", "198.51.100.1",
				      "b_ip", "192.0.2.1", NULL);
		cr_assert_not_null(rep, "%s", r.errstr);
		cr_assert_eq(rep->type, REDIS_REPLY_ARRAY, "%s",
			     rep->type == REDIS_REPLY_ERROR ? rep->str : "");
		cr_assert_eq(strncmp(rep->element[0]->str, "198.51.100.1:", 13), 0, "a=%s",
			     rep->element[0]->str);
		cr_assert_eq(strncmp(rep->element[1]->str, "192.0.2.1:", 10), 0, "b=%s",
			     rep->element[1]->str);
		freeReplyObject(rep);
		/* The hints are consumed, not stored in the pair hash. */
		cr_assert_str_eq(test_redis_query(&r, "HEXISTS %s a_ip", pair_key(id)), "0");
	}
	/* That address is used up: refused, nothing changed. */
	test_relay_seed(&r, 1, mixed);
	cr_assert_str_eq(test_redis_query(&r, "SCARD %s", test_keys.free), "0");
	assert_refused(&r, DUET_SCRIPT_PAIR_CREATE, "NOFREE no free endpoint on 198.51.100.1", "h2",
		       "a_ip", "198.51.100.1", NULL);
	assert_refused(&r, DUET_SCRIPT_PAIR_CREATE, "BADARG field a_ip is not an IP address", "h3",
		       "a_ip", "1.2.3.x", NULL);
	duet_redis_close(&r);
}

/* A dual-stack relay: the free set holds "[v6]:port" endpoints beside
 * "ip:port" ones. [2001:db8::10] shares a prefix with [2001:db8::1] as
 * text, so a match that forgot the brackets would take it. */
static const char *const dual[] = {"192.0.2.1:10000", "192.0.2.1:10002", "[2001:db8::1]:10000",
				   "[2001:db8::1]:10002", "[2001:db8::10]:10000",
				   "[2001:db8::10]:10002"};

Test(contract_lua, create_takes_an_ipv6_endpoint_on_the_address_asked_for,
     .init = test_redis_start, .fini = test_redis_stop)
{
	/* The hint in duetd's spelling, bracketed, and in another spelling. */
	static const char *const hint[] = {"2001:db8::1", "[2001:DB8:0::1]"};
	struct duet_redis r;
	redisReply *rep;
	char a[64], b[64];
	int i;

	test_redis_connect(&r);
	relay_up(&r, 6, dual);
	for (i = 0; i < 2; i++) {
		const char *id = i == 0 ? "v6-0" : "v6-1";

		/* A bridged pair: leg a on IPv6, leg b on IPv4. */
		rep = run_pair_script(&r, DUET_SCRIPT_PAIR_CREATE, id, "a_ip", hint[i], "b_ip",
				      "192.0.2.1", NULL);
		cr_assert_not_null(rep, "%s", r.errstr);
		cr_assert_eq(rep->type, REDIS_REPLY_ARRAY, "%s",
			     rep->type == REDIS_REPLY_ERROR ? rep->str : "");
		snprintf(a, sizeof(a), "%s", rep->element[0]->str);
		snprintf(b, sizeof(b), "%s", rep->element[1]->str);
		freeReplyObject(rep);
		cr_assert_eq(strncmp(a, "[2001:db8::1]:", 14), 0, "a=%s", a);
		cr_assert_eq(strncmp(b, "192.0.2.1:", 10), 0, "b=%s", b);
		cr_assert_str_eq(test_redis_query(&r, "HGET %s %s", test_keys.alloc, a), id);
		cr_assert_str_eq(test_redis_query(&r, "HGET %s a", pair_key(id)), a);
		cr_assert_str_eq(test_redis_query(&r, "SISMEMBER %s %s", test_keys.free, a), "0");
	}
	/* Both of [2001:db8::1] are taken; [2001:db8::10] is not that address. */
	assert_refused(&r, DUET_SCRIPT_PAIR_CREATE, "NOFREE no free endpoint on 2001:db8::1",
		       "v6-2", "a_ip", "2001:db8::1", NULL);
	cr_assert_str_eq(test_redis_query(&r, "SCARD %s", test_keys.free), "2");
	/* A delete named by the IPv6 endpoint gives it back to free. */
	rep = run_pair_script(&r, DUET_SCRIPT_PAIR_DELETE, "v6-1", a, b, NULL);
	cr_assert(rep != NULL && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1);
	freeReplyObject(rep);
	cr_assert_str_eq(test_redis_query(&r, "SISMEMBER %s %s", test_keys.free, a), "1");
	cr_assert_str_eq(test_redis_query(&r, "HEXISTS %s %s", test_keys.alloc, a), "0");
	duet_redis_close(&r);
}

Test(contract_lua, create_refuses_a_hint_that_is_not_an_ip_address_and_changes_nothing,
     .init = start_busy_relay, .fini = stop_busy_relay)
{
	static const char *const bad[] = {"192.0.2.1:10000", "[192.0.2.1]", "192.0.02.1",
					  "192.0.2.256", ":::", "1::2::3", "2001:db8::1]",
					  "[2001:db8::1", "2001:db8::g", "2001:db8:1:2:3:4:5:6:7",
					  "[2001:db8::1]:10000", "*", ""};
	char want[64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want), "BADARG field %s is not an IP address",
			 i % 2 ? "b_ip" : "a_ip");
		assert_refused(&busy, DUET_SCRIPT_PAIR_CREATE, want, "x", i % 2 ? "b_ip" : "a_ip",
			       bad[i], NULL);
	}
}

/* A pin has its leg's family, so a pinned leg without a hint must get an
 * endpoint of the pin's family, whatever the random pick meets first. */
Test(contract_lua, create_gives_a_pinned_leg_an_endpoint_of_its_pins_family,
     .init = test_redis_start, .fini = test_redis_stop)
{
	/* Two IPv4 endpoints among fourteen IPv6 ones, and the other way. */
	static char v6[14][32], v4[14][32];
	const char *few4[16], *few6[16];
	struct duet_redis r;
	redisReply *rep;
	int i;

	for (i = 0; i < 14; i++) {
		snprintf(v6[i], sizeof(v6[i]), "[2001:db8::1]:%d", 10000 + 2 * i);
		snprintf(v4[i], sizeof(v4[i]), "192.0.2.1:%d", 10000 + 2 * i);
		few4[i] = v6[i];
		few6[i] = v4[i];
	}
	few4[14] = "192.0.2.1:20000";
	few4[15] = "192.0.2.1:20002";
	few6[14] = "[2001:db8::1]:20000";
	few6[15] = "[2001:db8::1]:20002";

	test_redis_connect(&r);
	relay_up(&r, 16, few4);
	for (i = 0; i < 2; i++) {
		const char *id = i == 0 ? "p4-0" : "p4-1";

		rep = run_pair_script(&r, DUET_SCRIPT_PAIR_CREATE, id, "a_src", "203.0.113.9:4000",
				      "b_src", "[2001:db8:ffff::9]:4000", NULL);
		cr_assert_eq(rep->type, REDIS_REPLY_ARRAY, "%s",
			     rep->type == REDIS_REPLY_ERROR ? rep->str : "");
		cr_assert_eq(strncmp(rep->element[0]->str, "192.0.2.1:2000", 14), 0, "a=%s",
			     rep->element[0]->str);
		cr_assert_eq(rep->element[1]->str[0], '[', "b=%s", rep->element[1]->str);
		freeReplyObject(rep);
	}
	assert_refused(&r, DUET_SCRIPT_PAIR_CREATE,
		       "NOFREE no free IPv4 endpoint for the pin a_src", "p4-2", "a_src",
		       "203.0.113.9:4000", NULL);
	test_redis_query(&r, "DEL %s %s", test_keys.free, test_keys.alloc);

	relay_up(&r, 16, few6);
	for (i = 0; i < 2; i++) {
		const char *id = i == 0 ? "p6-0" : "p6-1";

		rep = run_pair_script(&r, DUET_SCRIPT_PAIR_CREATE, id, "a_src", "203.0.113.9:4000",
				      "b_src", "[2001:db8:ffff::9]:4000", NULL);
		cr_assert_eq(rep->type, REDIS_REPLY_ARRAY, "%s",
			     rep->type == REDIS_REPLY_ERROR ? rep->str : "");
		cr_assert_eq(strncmp(rep->element[1]->str, "[2001:db8::1]:2000", 18), 0, "b=%s",
			     rep->element[1]->str);
		freeReplyObject(rep);
	}
	assert_refused(&r, DUET_SCRIPT_PAIR_CREATE,
		       "NOFREE no free IPv6 endpoint for the pin b_src", "p6-2", "b_src",
		       "[2001:db8:ffff::9]:4000", NULL);
	duet_redis_close(&r);
}

/* One endpoint of each family and leg b pinned to IPv6: leg b chooses
 * first, or leg a, taking any, would take b's only one half the time. */
Test(contract_lua, create_lets_the_pinned_leg_choose_first, .init = test_redis_start,
     .fini = test_redis_stop)
{
	/* IPv6 first: a small set's SRANDMEMBER may well answer in this order. */
	static const char *const one_each[] = {"[2001:db8::1]:10000", "192.0.2.1:10000"};
	struct duet_redis r;
	redisReply *rep;
	int round;

	test_redis_connect(&r);
	relay_up(&r, 2, one_each);
	for (round = 0; round < 12; round++) {
		rep = run_pair_script(&r, DUET_SCRIPT_PAIR_CREATE, "f", "b_src",
				      "[2001:db8:ffff::9]:4000", NULL);
		cr_assert_eq(rep->type, REDIS_REPLY_ARRAY, "round %d: %s", round,
			     rep->type == REDIS_REPLY_ERROR ? rep->str : "");
		cr_assert_str_eq(rep->element[0]->str, one_each[1]);
		cr_assert_str_eq(rep->element[1]->str, one_each[0]);
		freeReplyObject(rep);
		rep = run_pair_script(&r, DUET_SCRIPT_PAIR_DELETE, "f", NULL);
		cr_assert_eq(rep->integer, 1);
		freeReplyObject(rep);
	}
	duet_redis_close(&r);
}

/* Another writer's spelling of an endpoint ("[2001:DB8::1]:10000") is not
 * the one duetd seeds, pairs and deletes by: never handed out. */
Test(contract_lua, create_never_hands_out_a_member_not_spelled_as_duetd_writes_it,
     .init = test_redis_start, .fini = test_redis_stop)
{
	static const char *const junk[] = {"[2001:DB8::1]:10000", "[2001:db8:0::1]:10002",
					   "2001:db8::1:10004", "[2001:db8::1]", "192.0.2.1:010000",
					   "nonsense"};
	struct duet_redis r;
	redisReply *rep;
	size_t i;
	int round, leg;

	test_redis_connect(&r);
	test_relay_heartbeat(&r, 100);
	test_relay_keys_init();
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		test_redis_query(&r, "SADD %s %s", test_keys.free, junk[i]);
	for (round = 0; round < 8; round++) {
		test_redis_query(&r, "SADD %s %s %s", test_keys.free, dual[0], dual[2]);
		rep = run_pair_script(&r, DUET_SCRIPT_PAIR_CREATE, "fresh", NULL);
		cr_assert_eq(rep->type, REDIS_REPLY_ARRAY, "%s",
			     rep->type == REDIS_REPLY_ERROR ? rep->str : "");
		for (leg = 0; leg < 2; leg++)
			cr_assert(strcmp(rep->element[leg]->str, dual[0]) == 0 ||
					  strcmp(rep->element[leg]->str, dual[2]) == 0,
				  "leg %d got %s", leg, rep->element[leg]->str);
		freeReplyObject(rep);
		test_redis_query(&r, "DEL %s %s", pair_key("fresh"), test_keys.alloc);
		test_redis_query(&r, "SREM %s %s %s", test_keys.free, dual[0], dual[2]);
	}
	duet_redis_close(&r);
}

Test(contract_lua, create_of_existing_id_fails_exists_and_changes_nothing, .init = start_busy_relay,
     .fini = stop_busy_relay)
{
	assert_refused(&busy, DUET_SCRIPT_PAIR_CREATE, "EXISTS pair live exists", "live", "a_src",
		       "203.0.113.1:1", NULL);
	/* Whatever the key holds. */
	test_redis_query(&busy, "SET %s x", pair_key("str"));
	assert_refused(&busy, DUET_SCRIPT_PAIR_CREATE, "EXISTS pair str exists", "str", NULL);
}

Test(contract_lua, create_without_two_usable_endpoints_fails_nofree_and_changes_nothing,
     .init = test_redis_start, .fini = test_redis_stop)
{
	static const char *eps[] = {"192.0.2.1:10000", "198.51.100.1:10000", "198.51.100.1:10002"};
	static const char fewer[] = "NOFREE fewer than 2 free endpoints";
	static const char none_on[] = "NOFREE no free endpoint on 198.51.100.1";
	struct duet_redis r;

	test_redis_connect(&r);
	test_relay_heartbeat(&r, 100);
	assert_refused(&r, DUET_SCRIPT_PAIR_CREATE, fewer, "n", NULL);
	test_relay_seed(&r, 1, eps);
	assert_refused(&r, DUET_SCRIPT_PAIR_CREATE, fewer, "n", NULL);
	/* eps[1] is free but owned by "old", as a control plane bypassing the
	 * scripts could leave it: never handed out, and not dropped from free
	 * by a create that fails. */
	test_redis_query(&r, "SADD %s %s", test_keys.free, eps[1]);
	test_redis_query(&r, "HSET %s %s old", test_keys.alloc, eps[1]);
	assert_refused(&r, DUET_SCRIPT_PAIR_CREATE, fewer, "n", NULL);
	assert_refused(&r, DUET_SCRIPT_PAIR_CREATE, none_on, "n", "a_ip", "198.51.100.1", NULL);
	/* One usable endpoint on the address, two legs asking for it. */
	test_relay_seed(&r, 1, eps + 2);
	assert_refused(&r, DUET_SCRIPT_PAIR_CREATE, none_on, "n", "a_ip", "198.51.100.1", "b_ip",
		       "198.51.100.1", NULL);
	/* Leg a found one, leg b finds none. */
	assert_refused(&r, DUET_SCRIPT_PAIR_CREATE, "NOFREE no free endpoint on 203.0.113.1", "n",
		       "a_ip", "198.51.100.1", "b_ip", "203.0.113.1", NULL);
	duet_redis_close(&r);
}

Test(contract_lua, create_refuses_a_wrong_key_count_and_changes_nothing, .init = start_busy_relay,
     .fini = stop_busy_relay)
{
	assert_key_count_checked(&busy, DUET_SCRIPT_PAIR_CREATE, "x");
}

Test(contract_lua, create_refuses_an_out_of_range_max_length_and_changes_nothing,
     .init = start_busy_relay, .fini = stop_busy_relay)
{
	assert_max_length_checked(&busy, DUET_SCRIPT_PAIR_CREATE, "x");
}

Test(contract_lua, create_refuses_bad_arguments_and_changes_nothing, .init = start_busy_relay,
     .fini = stop_busy_relay)
{
	static const enum duet_redis_script c = DUET_SCRIPT_PAIR_CREATE;
	static char names[257][8];
	const char *argv[7 + 2 * 257];
	redisReply *rep;
	int i, n;

	assert_id_and_keys_checked(&busy, c, "x");
	assert_refused(&busy, c, "BADARG pair fields must come as field value pairs", "x", "a_src",
		       NULL);
	assert_refused(&busy, c, "BADARG field a is chosen by the script", "x", "a", "192.0.2.9:1",
		       NULL);
	assert_refused(&busy, c, "BADARG field b is chosen by the script", "x", "b", "192.0.2.9:1",
		       NULL);
	assert_refused(&busy, c, "BADARG empty field name", "x", "", "v", NULL);
	assert_refused(&busy, c, "BADARG field mode given twice", "x", "mode", "verify", "mode",
		       "passthrough", NULL);
	assert_refused(&busy, c, "BADARG field a_ip given twice", "x", "a_ip", "192.0.2.1", "a_ip",
		       "192.0.2.1", NULL);
	assert_refused(&busy, c, "BADARG field b_ip is not an IP address", "x", "b_ip", "192.0.2.*",
		       NULL);

	/* At most 256 fields (Lua's unpack() fails somewhere near 8000):
	 * 257 are refused, 256 are stored. */
	n = pair_argv(argv, c, "x", MAXLEN);
	for (i = 0; i < 257; i++) {
		snprintf(names[i], sizeof(names[i]), "f%d", i);
		argv[n++] = names[i];
		argv[n++] = "v";
	}
	assert_refused_argv(&busy, c, nkeys(c), n, argv, "BADARG at most 256 pair fields");
	rep = duet_redis_script(&busy, c, nkeys(c), n - 2, argv);
	cr_assert_eq(rep->type, REDIS_REPLY_ARRAY, "%s", rep->str);
	freeReplyObject(rep);
	/* 256 given, a and b chosen, mode defaulted. */
	cr_assert_str_eq(test_redis_query(&busy, "HLEN %s", pair_key("x")), "259");
}

Test(contract_lua, create_refuses_unusable_keys_and_changes_nothing, .init = start_busy_relay,
     .fini = stop_busy_relay)
{
	assert_unusable_keys_refused(&busy, DUET_SCRIPT_PAIR_CREATE, "x");
}

#define NORELAY_GONE                                                                       \
	"NORELAY relay " TEST_RELAY " has no fresh heartbeat: its duetd is not running, has "  \
	"not loaded yet, or cannot reach this Redis"

/* The relay check: no heartbeat hash (never written, or gone with its TTL),
 * one marked stopped, one without figures: refused, nothing changed;
 * `relay_check off` provisions anyway. */
Test(contract_lua, create_refuses_a_relay_without_a_fresh_heartbeat_and_changes_nothing,
     .init = start_busy_relay, .fini = stop_busy_relay)
{
	static const enum duet_redis_script c = DUET_SCRIPT_PAIR_CREATE;
	redisReply *rep;
	int i;

	/* Its TTL ran out: duetd stopped writing it. */
	cr_assert_str_eq(test_redis_query(&busy, "PEXPIRE %s 20", test_keys.relay), "1");
	for (i = 0; i < 100 && strcmp(test_redis_query(&busy, "EXISTS %s", test_keys.relay),
				      "0") != 0;
	     i++)
		usleep(10 * 1000);
	assert_refused(&busy, c, NORELAY_GONE, "x", NULL);
	assert_refused(&busy, c, NORELAY_GONE, "x", "relay_check", "on", NULL);
	assert_refused(&busy, c, "BADARG field relay_check must be on or off", "x", "relay_check",
		       "no", NULL);

	/* A clean stop marks it. */
	test_relay_heartbeat(&busy, 100);
	test_redis_query(&busy, "HSET %s stopped_ms 1", test_keys.relay);
	assert_refused(&busy, c, "NORELAY relay " TEST_RELAY " was stopped", "x", NULL);

	/* Figures that are not counts. */
	test_redis_query(&busy, "DEL %s", test_keys.relay);
	test_redis_query(&busy, "HSET %s pairs 0", test_keys.relay);
	assert_refused(&busy, c,
		       "NORELAY relay " TEST_RELAY " has a heartbeat without capacity and pairs",
		       "x", NULL);
	test_redis_query(&busy, "HSET %s capacity 1e9", test_keys.relay);
	assert_refused(&busy, c,
		       "NORELAY relay " TEST_RELAY " has a heartbeat without capacity and pairs",
		       "x", NULL);

	/* Provisioning while the relay is down: consumed, not stored. */
	test_redis_query(&busy, "DEL %s", test_keys.relay);
	rep = run_pair_script(&busy, c, "x", "relay_check", "off", NULL);
	cr_assert_eq(rep->type, REDIS_REPLY_ARRAY, "%s", rep->str);
	freeReplyObject(rep);
	cr_assert_str_eq(test_redis_query(&busy, "HEXISTS %s relay_check", pair_key("x")), "0");
	cr_assert_str_eq(test_redis_query(&busy, "EXISTS %s", test_keys.relay), "0");
}

/* Full: the pairs alloc holds, or the heartbeat's count when it is higher
 * (pairs kept through a resync hold have no alloc entry), at capacity. */
Test(contract_lua, create_refuses_a_full_relay_and_changes_nothing, .init = start_busy_relay,
     .fini = stop_busy_relay)
{
	static const enum duet_redis_script c = DUET_SCRIPT_PAIR_CREATE;
	redisReply *rep;

	/* "live" holds two endpoints of alloc: one pair. */
	test_relay_heartbeat(&busy, 1);
	assert_refused(&busy, c, "FULL relay " TEST_RELAY " is full: 1 pairs of capacity 1", "x",
		       NULL);
	test_redis_query(&busy, "HSET %s capacity 2 pairs 2", test_keys.relay);
	assert_refused(&busy, c, "FULL relay " TEST_RELAY " is full: 2 pairs of capacity 2", "x",
		       NULL);
	test_redis_query(&busy, "HSET %s pairs 1", test_keys.relay);
	rep = run_pair_script(&busy, c, "x", NULL);
	cr_assert_eq(rep->type, REDIS_REPLY_ARRAY, "%s", rep->str);
	freeReplyObject(rep);
	/* Two pairs in alloc now. */
	assert_refused(&busy, c, "FULL relay " TEST_RELAY " is full: 2 pairs of capacity 2", "y",
		       NULL);
}

/* Draining (the heartbeat's `draining` 1, mirrored by duetd from the
 * operator's drain flag): refused before any write, whatever room is left;
 * `draining 0` and `relay_check off` create as before. */
Test(contract_lua, create_refuses_a_draining_relay_and_changes_nothing, .init = start_busy_relay,
     .fini = stop_busy_relay)
{
	static const enum duet_redis_script c = DUET_SCRIPT_PAIR_CREATE;
	redisReply *rep;

	test_redis_query(&busy, "HSET %s draining 1", test_keys.relay);
	assert_refused(&busy, c, "DRAINING relay " TEST_RELAY " is draining: it takes no new pairs",
		       "x", NULL);
	assert_refused(&busy, c, "DRAINING relay " TEST_RELAY " is draining: it takes no new pairs",
		       "x", "relay_check", "on", NULL);
	/* A stopped relay is refused as stopped, draining or not. */
	test_redis_query(&busy, "HSET %s stopped_ms 1", test_keys.relay);
	assert_refused(&busy, c, "NORELAY relay " TEST_RELAY " was stopped", "x", NULL);
	test_redis_query(&busy, "HDEL %s stopped_ms", test_keys.relay);

	/* Provisioning skips every relay check, the drain too. */
	rep = run_pair_script(&busy, c, "prov", "relay_check", "off", NULL);
	cr_assert_eq(rep->type, REDIS_REPLY_ARRAY, "%s", rep->str);
	freeReplyObject(rep);
	rep = run_pair_script(&busy, DUET_SCRIPT_PAIR_DELETE, "prov", NULL);
	cr_assert_eq(rep->type, REDIS_REPLY_INTEGER);
	freeReplyObject(rep);

	test_redis_query(&busy, "HSET %s draining 0", test_keys.relay);
	rep = run_pair_script(&busy, c, "x", NULL);
	cr_assert_eq(rep->type, REDIS_REPLY_ARRAY, "%s", rep->str);
	freeReplyObject(rep);
	cr_assert_str_eq(test_redis_query(&busy, "HGET %s mode", pair_key("x")), "passthrough");
}

Test(contract_lua, create_never_hands_out_an_endpoint_alloc_says_is_taken, .init = test_redis_start,
     .fini = test_redis_stop)
{
	struct duet_redis r;
	redisReply *rep;
	int round, leg;

	test_redis_connect(&r);
	test_relay_heartbeat(&r, 100);
	/* test_four_eps[0] is both free and owned by "old"; three good ones. The
	 * choice is random, so try it a few times. */
	test_redis_query(&r, "SADD %s %s %s %s", test_keys.free, test_four_eps[0], test_four_eps[1],
			 test_four_eps[2]);
	test_redis_query(&r, "SADD %s %s", test_keys.free, test_four_eps[3]);
	test_redis_query(&r, "HSET %s %s old", test_keys.alloc, test_four_eps[0]);
	for (round = 0; round < 16; round++) {
		rep = run_pair_script(&r, DUET_SCRIPT_PAIR_CREATE, "fresh", NULL);
		cr_assert_eq(rep->type, REDIS_REPLY_ARRAY, "%s", rep->str);
		for (leg = 0; leg < 2; leg++)
			cr_assert_str_neq(rep->element[leg]->str, test_four_eps[0]);
		freeReplyObject(rep);
		cr_assert_str_eq(
			test_redis_query(&r, "HGET %s %s", test_keys.alloc, test_four_eps[0]),
			"old");
		rep = run_pair_script(&r, DUET_SCRIPT_PAIR_DELETE, "fresh", NULL);
		cr_assert_eq(rep->integer, 1);
		freeReplyObject(rep);
	}
	duet_redis_close(&r);
}

/* ---------------------------------------------------------------------- */
/* pair_delete.lua                                                        */

Test(contract_lua, delete_frees_endpoints_and_appends_del, .init = test_redis_start,
     .fini = test_redis_stop)
{
	struct duet_redis r;
	redisReply *rep;
	char last[256];

	test_redis_connect(&r);
	relay_up(&r, 4, test_four_eps);
	rep = run_pair_script(&r, DUET_SCRIPT_PAIR_CREATE, "d1", NULL);
	cr_assert_eq(rep->type, REDIS_REPLY_ARRAY);
	freeReplyObject(rep);

	rep = run_pair_script(&r, DUET_SCRIPT_PAIR_DELETE, "d1", NULL);
	cr_assert_not_null(rep, "%s", r.errstr);
	cr_assert_eq(rep->type, REDIS_REPLY_INTEGER);
	cr_assert_eq(rep->integer, 1);
	freeReplyObject(rep);

	cr_assert_str_eq(test_redis_query(&r, "SCARD %s", test_keys.free), "4");
	cr_assert_str_eq(test_redis_query(&r, "HLEN %s", test_keys.alloc), "0");
	cr_assert_str_eq(test_redis_query(&r, "EXISTS %s", pair_key("d1")), "0");
	cr_assert_str_eq(test_redis_query(&r, "XLEN %s", test_keys.events), "2");
	snprintf(last, sizeof(last), "%s",
		 test_redis_query(&r, "XREVRANGE %s + - COUNT 1", test_keys.events));
	cr_assert_not_null(strstr(last, ",op,del,id,d1"), "last entry: %s", last);
	duet_redis_close(&r);
}

Test(contract_lua, delete_of_missing_id_returns_zero_and_appends_nothing, .init = test_redis_start,
     .fini = test_redis_stop)
{
	struct duet_redis r;
	redisReply *rep;
	char before[SNAPSHOT_MAX];

	test_redis_connect(&r);
	test_relay_seed(&r, 4, test_four_eps);
	snprintf(before, sizeof(before), "%s", snapshot(&r));
	rep = run_pair_script(&r, DUET_SCRIPT_PAIR_DELETE, "ghost", NULL);
	cr_assert_eq(rep->type, REDIS_REPLY_INTEGER);
	cr_assert_eq(rep->integer, 0);
	freeReplyObject(rep);
	cr_assert_str_eq(snapshot(&r), before);
	cr_assert_str_eq(test_redis_query(&r, "EXISTS %s", test_keys.events), "0");
	duet_redis_close(&r);
}

Test(contract_lua, delete_leaves_endpoints_owned_by_another_pair, .init = test_redis_start,
     .fini = test_redis_stop)
{
	struct duet_redis r;
	redisReply *rep;
	char a[64];

	test_redis_connect(&r);
	relay_up(&r, 4, test_four_eps);
	rep = run_pair_script(&r, DUET_SCRIPT_PAIR_CREATE, "owner", NULL);
	cr_assert_eq(rep->type, REDIS_REPLY_ARRAY);
	snprintf(a, sizeof(a), "%s", rep->element[0]->str);
	freeReplyObject(rep);
	/* A hand-written record naming owner's endpoint. */
	test_redis_query(&r, "HSET %s a %s b 198.51.100.1:1 mode passthrough", pair_key("squatter"),
			 a);
	rep = run_pair_script(&r, DUET_SCRIPT_PAIR_DELETE, "squatter", NULL);
	cr_assert_eq(rep->integer, 1);
	freeReplyObject(rep);
	cr_assert_str_eq(test_redis_query(&r, "HGET %s %s", test_keys.alloc, a), "owner");
	cr_assert_str_eq(test_redis_query(&r, "SISMEMBER %s %s", test_keys.free, a), "0");
	cr_assert_str_eq(test_redis_query(&r, "SISMEMBER %s 198.51.100.1:1", test_keys.free), "0");
	duet_redis_close(&r);
}

Test(contract_lua, delete_refuses_a_wrong_key_count_and_changes_nothing, .init = start_busy_relay,
     .fini = stop_busy_relay)
{
	assert_key_count_checked(&busy, DUET_SCRIPT_PAIR_DELETE, "live");
}

Test(contract_lua, delete_refuses_an_out_of_range_max_length_and_changes_nothing,
     .init = start_busy_relay, .fini = stop_busy_relay)
{
	assert_max_length_checked(&busy, DUET_SCRIPT_PAIR_DELETE, "live");
}

Test(contract_lua, delete_refuses_bad_arguments_and_changes_nothing, .init = start_busy_relay,
     .fini = stop_busy_relay)
{
	assert_id_and_keys_checked(&busy, DUET_SCRIPT_PAIR_DELETE, "live");
	assert_refused(&busy, DUET_SCRIPT_PAIR_DELETE,
		       "BADARG script takes 2 arguments, or 4 with the endpoints expected", "live",
		       "mode", NULL);
	assert_refused(&busy, DUET_SCRIPT_PAIR_DELETE,
		       "BADARG script takes 2 arguments, or 4 with the endpoints expected", "live",
		       "a", "b", "c", NULL);
	/* Expected endpoints are compared with the hash as text: only the
	 * spelling duetd writes can ever match. */
	static const char *const bad[][2] = {
		{"", "x"},
		{"192.0.2.1:10000", "x"},
		{"192.0.2.1:10000", "2001:db8::1:10000"},
		{"[2001:DB8::1]:10000", "192.0.2.1:10002"},
		{"[2001:db8:0::1]:10000", "192.0.2.1:10002"},
		{"[2001:db8::1]", "192.0.2.1:10002"},
		{"[192.0.2.1]:10000", "192.0.2.1:10002"},
		{"192.0.2.1:010000", "192.0.2.1:10002"},
		{"192.0.2.1:10000", "[2001:db8::1]:65536"},
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(&busy, DUET_SCRIPT_PAIR_DELETE,
			       "BADARG expected endpoints must be ip:port or [v6]:port, written as "
			       "duetd writes them",
			       "live", bad[i][0], bad[i][1], NULL);
}

/* duetd's own delete names the endpoints the pair had: a pair created
 * again under the id, elsewhere, is left alone (0, nothing written). */
Test(contract_lua, guarded_delete_removes_only_the_pair_it_names, .init = start_busy_relay,
     .fini = stop_busy_relay)
{
	char a[64], b[64], before[SNAPSHOT_MAX];
	const char *argv[8];
	redisReply *rep;
	int n;

	snprintf(a, sizeof(a), "%s", test_redis_query(&busy, "HGET %s a", pair_key("live")));
	snprintf(b, sizeof(b), "%s", test_redis_query(&busy, "HGET %s b", pair_key("live")));
	snprintf(before, sizeof(before), "%s", snapshot(&busy));
	n = pair_argv(argv, DUET_SCRIPT_PAIR_DELETE, "live", MAXLEN);
	argv[n++] = b; /* swapped: not this pair */
	argv[n++] = a;
	rep = duet_redis_script(&busy, DUET_SCRIPT_PAIR_DELETE, nkeys(DUET_SCRIPT_PAIR_DELETE), n, argv);
	cr_assert(rep != NULL && rep->type == REDIS_REPLY_INTEGER && rep->integer == 0);
	freeReplyObject(rep);
	cr_assert_str_eq(snapshot(&busy), before);
	argv[n - 2] = a;
	argv[n - 1] = b;
	rep = duet_redis_script(&busy, DUET_SCRIPT_PAIR_DELETE, nkeys(DUET_SCRIPT_PAIR_DELETE), n, argv);
	cr_assert(rep != NULL && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1);
	freeReplyObject(rep);
	cr_assert_str_eq(test_redis_query(&busy, "EXISTS %s", pair_key("live")), "0");
}

Test(contract_lua, delete_refuses_unusable_keys_and_changes_nothing, .init = start_busy_relay,
     .fini = stop_busy_relay)
{
	assert_unusable_keys_refused(&busy, DUET_SCRIPT_PAIR_DELETE, "live");
	test_redis_query(&busy, "SET %s x", pair_key("str"));
	assert_refused(&busy, DUET_SCRIPT_PAIR_DELETE, "BADARG KEYS[3] holds a string, not a hash",
		       "str", NULL);
}

/* ---------------------------------------------------------------------- */
/* endpoints_seed.lua                                                     */

Test(contract_lua, seed_skips_allocated_endpoints, .init = test_redis_start,
     .fini = test_redis_stop)
{
	struct duet_redis r;

	test_redis_connect(&r);
	test_relay_keys_init();
	test_redis_query(&r, "HSET %s %s p1", test_keys.alloc, test_four_eps[0]);
	cr_assert_eq(test_relay_seed(&r, 4, test_four_eps), 3);
	cr_assert_str_eq(test_redis_query(&r, "SISMEMBER %s %s", test_keys.free, test_four_eps[0]),
			 "0");
	cr_assert_str_eq(test_redis_query(&r, "SCARD %s", test_keys.free), "3");
	/* Seeding again adds nothing: idempotent across duetd restarts. */
	cr_assert_eq(test_relay_seed(&r, 4, test_four_eps), 0);
	cr_assert_str_eq(test_redis_query(&r, "SCARD %s", test_keys.free), "3");
	duet_redis_close(&r);
}

/* ---------------------------------------------------------------------- */
/* Concurrency                                                            */

#define N_PROCS 4
#define CREATES_PER_PROC 50
#define N_EPS (2 * N_PROCS * CREATES_PER_PROC)

static int
create_worker(int proc, int out_fd)
{
	struct duet_redis r;
	struct duet_redis_target t = {.unix_path = test_redis_srv.sock, .timeout_ms = 5000};
	char id[32], line[160];
	int i, n;

	memset(&r, 0, sizeof(r));
	if (duet_redis_connect(&r, &t) != 0)
		return 2;
	for (i = 0; i < CREATES_PER_PROC; i++) {
		redisReply *rep;

		snprintf(id, sizeof(id), "p%d-%d", proc, i);
		rep = run_pair_script(&r, DUET_SCRIPT_PAIR_CREATE, id, NULL);
		if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2)
			return 3;
		/* One short write per line: atomic on a pipe (< PIPE_BUF). */
		n = snprintf(line, sizeof(line), "%s %s\n", rep->element[0]->str,
			     rep->element[1]->str);
		if (write(out_fd, line, (size_t)n) != n)
			return 4;
		freeReplyObject(rep);
	}
	duet_redis_close(&r);
	return 0;
}

Test(contract_lua, concurrent_creates_never_hand_out_an_endpoint_twice, .init = test_redis_start,
     .fini = test_redis_stop, .timeout = 60)
{
	static char names[N_EPS][32];
	static char got_buf[N_EPS][32];
	const char *eps[N_EPS];
	char *got[N_EPS];
	char buf[N_EPS * 40 + 1], *line, *save = NULL;
	struct duet_redis r;
	pid_t pids[N_PROCS];
	int fds[2], i, status;
	size_t used = 0, n_got = 0;
	ssize_t rd;

	test_redis_connect(&r);
	for (i = 0; i < N_EPS; i++) {
		snprintf(names[i], sizeof(names[i]), "192.0.2.%d:%d", 1 + i / 200,
			 10000 + 2 * (i % 200));
		eps[i] = names[i];
	}
	relay_up(&r, N_EPS, eps);
	test_relay_heartbeat(&r, N_EPS);

	cr_assert_eq(pipe(fds), 0);
	for (i = 0; i < N_PROCS; i++) {
		pids[i] = fork();
		cr_assert_neq(pids[i], -1);
		if (pids[i] == 0) {
			close(fds[0]);
			_exit(create_worker(i, fds[1]));
		}
	}
	close(fds[1]);
	while ((rd = read(fds[0], buf + used, sizeof(buf) - 1 - used)) > 0)
		used += (size_t)rd;
	close(fds[0]);
	buf[used] = '\0';
	for (i = 0; i < N_PROCS; i++) {
		cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "creator %d failed (status %d)", i, status);
	}

	for (line = strtok_r(buf, " \n", &save); line != NULL;
	     line = strtok_r(NULL, " \n", &save)) {
		cr_assert_lt(n_got, (size_t)N_EPS, "more endpoints than created");
		snprintf(got_buf[n_got], sizeof(got_buf[0]), "%s", line);
		got[n_got] = got_buf[n_got];
		n_got++;
	}
	cr_assert_eq(n_got, (size_t)N_EPS, "creates handed out %zu endpoints", n_got);
	qsort(got, n_got, sizeof(got[0]), cmp_cstr);
	for (i = 1; i < N_EPS; i++)
		cr_assert_str_neq(got[i - 1], got[i], "endpoint %s handed out twice", got[i]);

	cr_assert_str_eq(test_redis_query(&r, "SCARD %s", test_keys.free), "0");
	cr_assert_eq(atoi(test_redis_query(&r, "HLEN %s", test_keys.alloc)), N_EPS);
	cr_assert_eq(atoi(test_redis_query(&r, "XLEN %s", test_keys.events)),
		     N_PROCS * CREATES_PER_PROC);
	duet_redis_close(&r);
}

/* ------------------------------------------------------------------------ */
/* relay_lease.lua                                                          */
/* ------------------------------------------------------------------------ */

#define LEASE_KEY "duet:{" TEST_RELAY "}:lease"

/* relay_lease.lua with token, time and dead token (NULL: none), rendered. */
static const char *
lease(struct duet_redis *r, const char *token, const char *ms, const char *dead)
{
	const char *argv[4] = {LEASE_KEY, token, ms, dead};
	static char out[4][256];
	static unsigned int which;
	char *o = out[which++ % 4];
	redisReply *rep;

	rep = duet_redis_script(r, DUET_SCRIPT_RELAY_LEASE, 1, dead != NULL ? 4 : 3, argv);
	cr_assert_not_null(rep, "%s", r->errstr);
	test_redis_render(rep, o, sizeof(out[0]));
	freeReplyObject(rep);
	return o;
}

Test(contract_lua, lease_is_taken_renewed_refused_and_given_back_only_by_its_holder,
     .init = test_redis_start, .fini = test_redis_stop)
{
	struct duet_redis r;
	long long pttl;

	test_redis_connect(&r);
	cr_assert_str_eq(lease(&r, "h:10:1.0", "5000", NULL), "1,");
	cr_assert_str_eq(test_redis_query(&r, "GET %s", LEASE_KEY), "h:10:1.0");
	/* Another token is refused, told who holds it and for how long. */
	cr_assert_eq(strncmp(lease(&r, "h:11:2.0", "5000", NULL), "0,h:10:1.0,", 11), 0);
	/* The holder renews. */
	cr_assert_str_eq(test_redis_query(&r, "PEXPIRE %s 100", LEASE_KEY), "1");
	cr_assert_str_eq(lease(&r, "h:10:1.0", "5000", NULL), "1,");
	pttl = atoll(test_redis_query(&r, "PTTL %s", LEASE_KEY));
	cr_assert_gt(pttl, 4000, "renewed to %lld ms", pttl);
	/* Giving back: another token's 0 changes nothing, the holder's deletes. */
	cr_assert_str_eq(lease(&r, "h:11:2.0", "0", NULL), "1,");
	cr_assert_str_eq(test_redis_query(&r, "GET %s", LEASE_KEY), "h:10:1.0");
	cr_assert_str_eq(lease(&r, "h:10:1.0", "0", NULL), "1,");
	cr_assert_str_eq(test_redis_query(&r, "EXISTS %s", LEASE_KEY), "0");
	duet_redis_close(&r);
}

Test(contract_lua, lease_of_a_dead_holder_is_taken_over_only_by_name,
     .init = test_redis_start, .fini = test_redis_stop)
{
	struct duet_redis r;

	test_redis_connect(&r);
	cr_assert_str_eq(lease(&r, "h:10:1.0", "5000", NULL), "1,");
	/* Naming a token that is not the holder takes nothing. */
	cr_assert_eq(strncmp(lease(&r, "h:12:3.0", "5000", "h:99:9.0"), "0,h:10:1.0,", 11), 0);
	cr_assert_str_eq(lease(&r, "h:12:3.0", "5000", "h:10:1.0"), "1,h:10:1.0");
	cr_assert_str_eq(test_redis_query(&r, "GET %s", LEASE_KEY), "h:12:3.0");
	duet_redis_close(&r);
}

Test(contract_lua, lease_refuses_bad_arguments_and_changes_nothing, .init = test_redis_start,
     .fini = test_redis_stop)
{
	static const char *const bad[][3] = {
		{"", "5000", "BADARG token must be 1..200 printable characters"},
		{"a b", "5000", "BADARG token must be 1..200 printable characters"},
		{"h:1:1.0", "86400001", "BADARG lease time must be 0..86400000 ms"},
		{"h:1:1.0", "99999999999999999999", "BADARG lease time must be 0..86400000 ms"},
		{"h:1:1.0", "0100", "BADARG lease time must be 0..86400000 ms"},
		{"h:1:1.0", "-1", "BADARG lease time must be 0..86400000 ms"},
	};
	const char *argv[3] = {"duet:{t1}:free", "h:1:1.0", "5000"};
	struct duet_redis r;
	char before[SNAPSHOT_MAX], want[160];
	redisReply *rep;
	size_t i;

	test_redis_connect(&r);
	cr_assert_str_eq(lease(&r, "h:10:1.0", "5000", NULL), "1,");
	test_redis_query(&r, "PERSIST %s", LEASE_KEY); /* a snapshot that holds still */
	snprintf(before, sizeof(before), "%s", snapshot(&r));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want), "ERR:%s", bad[i][2]);
		cr_assert_str_eq(lease(&r, bad[i][0], bad[i][1], NULL), want, "case %zu", i);
	}
	/* Not the lease key: refused before it is touched. */
	rep = duet_redis_script(&r, DUET_SCRIPT_RELAY_LEASE, 1, 3, argv);
	cr_assert_not_null(rep);
	cr_assert_eq(rep->type, REDIS_REPLY_ERROR);
	cr_assert_str_eq(rep->str, "BADARG script takes 1 key, duet:{R}:lease");
	freeReplyObject(rep);
	cr_assert_str_eq(lease(&r, "h:1:1.0", "5000", "bad token"),
			 "ERR:BADARG dead token must be 1..200 printable characters");
	/* The snapshot covers the lease key and Redis's write counter. */
	cr_assert_str_eq(snapshot(&r), before);
	duet_redis_close(&r);
}
