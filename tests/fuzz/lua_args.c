/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the argument checks of the contract's Lua scripts
 * (lib/contract/lua/): pair_create.lua, pair_delete.lua and relay_lease.lua,
 * run by EVALSHA (duet_redis_script) against a private redis-server on a
 * unix socket in a temporary directory, the unit tests' own fixture
 * (tests/unit/redis_server.c and redis_cmd.c, compiled in), started once in
 * LLVMFuzzerInitialize and stopped at exit. Every input starts from the
 * same data: the test relay's free set seeded with four endpoints, and its
 * heartbeat hash as a running duetd writes it (test_relay_heartbeat:
 * capacity RELAY_CAPACITY, pairs 0, a TTL of a minute; written again every
 * HEARTBEAT_EVERY_MS, as duetd does each stats interval, so that it never
 * expires in a long run), so that pair_create.lua's relay check lets
 * creates through.
 *
 * Input: byte 0 picks the script (its low 4 bits mod 3: pair_create,
 * pair_delete, relay_lease), byte 1 how many of the strings are KEYS
 * (0..7), then strings separated by NUL bytes: KEYS, then ARGV. A key that
 * is one letter stands for the test relay's key of that role, so the
 * fuzzer gets past the key checks to the rest: F free, A alloc, P the pair
 * key of ARGV[1], E events, R relay (the heartbeat), L lease. Bits 4 to 7
 * of byte 0 first set the stage, so that the paths behind an existing
 * pair, a held lease or a relay that cannot take pairs are reached too:
 * bit 7 creates pair ARGV[1] (a passthrough pair, as a control plane
 * would), bit 6 has another process take the lease, and bits 5 and 4 (in
 * that order) change the heartbeat: 01 says the relay is full (pairs
 * RELAY_CAPACITY, as when duetd holds pairs through a resync), 10 deletes
 * it (duetd not running), 11 marks it stopped (stopped_ms, a clean exit).
 * ARGV may say `relay_check off` to skip that check.
 *
 * Checks, after every call: the reply is an error only of the kinds each
 * script documents (BADARG, EXISTS, NOFREE, NORELAY, FULL; relay_lease
 * only BADARG), never a Lua runtime error; an error changed nothing, not
 * even a write undone (Redis's count of writes,
 * rdb_changes_since_last_save, is what it was); and a pair_create that
 * succeeded without `relay_check off` found the relay running with room:
 * the heartbeat as the fixture wrote it, and no pair in alloc but its own.
 * A call that succeeded wrote: the data is flushed and seeded again for the
 * next input. Built with clang's -fsanitize=fuzzer (tests/fuzz/meson.build).
 * Test process only.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "duet_redis.h"
#include "redis_cmd.h"
#include "fuzz_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 64
#define MAX_KEYS 7
/* The heartbeat's capacity: one pair fills the relay. */
#define RELAY_CAPACITY 1
/* How often the heartbeat is written again, well within its TTL. */
#define HEARTBEAT_EVERY_MS 10000

static struct duet_redis conn;
static char lease_key[DUET_REDIS_KEY_MAX];
static bool tracing; /* DUET_FUZZ_TRACE is set: print each reply */
static long long beat_ms; /* when the heartbeat was last written */

static void
stop_server(void)
{
	duet_redis_close(&conn);
	test_redis_stop();
}

/* Writes since the server started (it never saves). */
static long long
writes(void)
{
	redisReply *r = redisCommand(conn.ctx, "INFO persistence");
	const char *p;
	long long n;

	CHECK(r != NULL && r->type == REDIS_REPLY_STRING);
	p = strstr(r->str, "rdb_changes_since_last_save:");
	CHECK(p != NULL);
	n = atoll(p + strlen("rdb_changes_since_last_save:"));
	freeReplyObject(r);
	return n;
}

/* CLOCK_MONOTONIC in milliseconds. */
static long long
mono_ms(void)
{
	struct timespec ts;

	CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The heartbeat of a running duetd with room for RELAY_CAPACITY pairs. */
static void
heartbeat(void)
{
	test_relay_heartbeat(&conn, RELAY_CAPACITY);
	beat_ms = mono_ms();
}

/* Back to the data every input starts from. */
static void
reset_data(void)
{
	redisReply *r = redisCommand(conn.ctx, "FLUSHALL");

	CHECK(r != NULL && r->type != REDIS_REPLY_ERROR);
	freeReplyObject(r);
	CHECK(test_relay_seed(&conn, 4, test_four_eps) == 4);
	heartbeat();
}

/* Run a command of the stage (hiredis format); it must not fail. */
static void
stage_cmd(const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(conn.ctx, fmt, ap);
	va_end(ap);
	CHECK(r != NULL && r->type != REDIS_REPLY_ERROR);
	freeReplyObject(r);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	test_redis_start();
	test_redis_connect(&conn);
	atexit(stop_server);
	test_relay_keys_init();
	duet_redis_key(lease_key, sizeof(lease_key), TEST_RELAY, "lease", NULL);
	reset_data();
	tracing = getenv("DUET_FUZZ_TRACE") != NULL;
	return 0;
}

/* Bit 7: pair `id` exists (created as a control plane would, when id is
 * one, while the heartbeat is still the fixture's); bit 6: another process
 * holds the lease; bits 5 and 4: the relay is full (01), has no heartbeat
 * (10) or has stopped (11). Their writes are undone with the rest after
 * the call. */
static void
set_stage(uint8_t b, const char *id)
{
	char key[DUET_REDIS_KEY_MAX];
	const char *argv[9];
	redisReply *r;

	if ((b & 0x80) && duet_redis_key(key, sizeof(key), TEST_RELAY, "pair:", id) == 0) {
		argv[0] = test_keys.free;
		argv[1] = test_keys.alloc;
		argv[2] = key;
		argv[3] = test_keys.events;
		argv[4] = test_keys.relay;
		argv[5] = id;
		argv[6] = "1000";
		argv[7] = "mode";
		argv[8] = "passthrough";
		r = duet_redis_script(&conn, DUET_SCRIPT_PAIR_CREATE, 5, 9, argv);
		CHECK(r != NULL);
		freeReplyObject(r);
	}
	if (b & 0x40) {
		argv[0] = lease_key;
		argv[1] = "otherhost:4242:1700000000000";
		argv[2] = "60000";
		r = duet_redis_script(&conn, DUET_SCRIPT_RELAY_LEASE, 1, 3, argv);
		CHECK(r != NULL && r->type == REDIS_REPLY_ARRAY);
		freeReplyObject(r);
	}
	switch (b & 0x30) {
	case 0x10:
		stage_cmd("HSET %s pairs %d", test_keys.relay, RELAY_CAPACITY);
		break;
	case 0x20:
		stage_cmd("DEL %s", test_keys.relay);
		break;
	case 0x30:
		stage_cmd("HSET %s stopped_ms 1700000000000", test_keys.relay);
		break;
	default:
		break;
	}
}

/* The error kinds a script documents: its own prefix words. */
static bool
documented_error(enum duet_redis_script s, const char *msg)
{
	if (strncmp(msg, "BADARG ", 7) == 0)
		return true;
	if (s == DUET_SCRIPT_PAIR_CREATE)
		return strncmp(msg, "EXISTS ", 7) == 0 || strncmp(msg, "NOFREE ", 7) == 0 ||
		       strncmp(msg, "NORELAY ", 8) == 0 || strncmp(msg, "FULL ", 5) == 0;
	return false;
}

/* True when pair_create's field value pairs (argv[nkeys + 2] on) say
 * `relay_check off`. */
static bool
relay_check_off(int nkeys, int argc, const char *const *argv)
{
	int i;

	for (i = nkeys + 2; i + 1 < argc; i += 2)
		if (strcmp(argv[i], "relay_check") == 0 && strcmp(argv[i + 1], "off") == 0)
			return true;
	return false;
}

/* Entries in the test relay's alloc hash. */
static long long
alloc_len(void)
{
	redisReply *r = redisCommand(conn.ctx, "HLEN %s", test_keys.alloc);
	long long n;

	CHECK(r != NULL && r->type == REDIS_REPLY_INTEGER);
	n = r->integer;
	freeReplyObject(r);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum duet_redis_script scripts[3] = {
		DUET_SCRIPT_PAIR_CREATE, DUET_SCRIPT_PAIR_DELETE, DUET_SCRIPT_RELAY_LEASE
	};
	static const char roles[] = "FAPERL";
	char pair_key[DUET_REDIS_KEY_MAX];
	const char *role_key[] = { test_keys.free, test_keys.alloc, pair_key, test_keys.events,
				   test_keys.relay, lease_key };
	const char *argv[MAX_ARGS];
	enum duet_redis_script s;
	redisReply *r;
	long long start, before;
	size_t i, from;
	int argc = 0, nkeys;
	char *text;

	if (size < 2)
		return 0;
	s = scripts[(data[0] & 0x0f) % 3];
	text = malloc(size - 1);
	CHECK(text != NULL);
	memcpy(text, data + 2, size - 2);
	text[size - 2] = '\0';
	for (i = 0, from = 0; i <= size - 2 && argc < MAX_ARGS; i++) {
		if (i < size - 2 && text[i] != '\0')
			continue;
		argv[argc++] = text + from;
		from = i + 1;
	}
	nkeys = data[1] % (MAX_KEYS + 1);
	if (nkeys > argc)
		nkeys = argc;
	/* One-letter keys: the test relay's keys by role. */
	if (duet_redis_key(pair_key, sizeof(pair_key), TEST_RELAY, "pair:",
			   nkeys < argc ? argv[nkeys] : "") != 0)
		pair_key[0] = '\0';
	for (i = 0; i < (size_t)nkeys; i++) {
		const char *role = argv[i][0] != '\0' ? strchr(roles, argv[i][0]) : NULL;

		if (role != NULL && argv[i][1] == '\0')
			argv[i] = role_key[role - roles];
	}

	/* What duetd does every stats interval; before the count of writes. */
	if (mono_ms() - beat_ms >= HEARTBEAT_EVERY_MS)
		heartbeat();
	start = writes();
	set_stage(data[0], nkeys < argc ? argv[nkeys] : "");
	before = writes();
	r = duet_redis_script(&conn, s, nkeys, argc, argv);
	if (r == NULL)
		fprintf(stderr, "lua_args: no reply: %s\n", conn.errstr);
	CHECK(r != NULL);
	if (tracing)
		fprintf(stderr, "lua_args: script %d, %d keys, %d args: type %d %s\n", (int)s,
			nkeys, argc, r->type, r->str != NULL ? r->str : "");
	if (r->type == REDIS_REPLY_ERROR) {
		if (!documented_error(s, r->str))
			fprintf(stderr, "lua_args: script %d: undocumented error: %s\n", (int)s,
				r->str);
		CHECK(documented_error(s, r->str));
		CHECK(writes() == before);
	}
	/* The relay check let it through: a running relay with room, whose
	 * only pair (capacity 1) is now this one. */
	if (s == DUET_SCRIPT_PAIR_CREATE && r->type == REDIS_REPLY_ARRAY &&
	    !relay_check_off(nkeys, argc, argv)) {
		CHECK((data[0] & 0x30) == 0);
		CHECK(alloc_len() == 2);
	}
	if (writes() != start)
		reset_data();
	freeReplyObject(r);
	free(text);
	return 0;
}
