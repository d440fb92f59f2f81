/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_cmd.h: what the unit tests of lib/redis and of the contract's Lua
 * scripts (tests/unit/redis, tests/unit/contract/test_contract_lua.c) share
 * on top of the redis-server fixture (redis_server.h): one private server
 * per test, a duet_redis connection to it, commands whose replies come
 * back as text, and the test relay's keys, endpoints and seeding. Called
 * from the test's own thread, in Criterion .init/.fini hooks or test
 * bodies: a failure fails the current test (cr_assert).
 */
#ifndef DUET_TEST_REDIS_CMD_H
#define DUET_TEST_REDIS_CMD_H

#include <stddef.h>

#include "duet_redis.h"
#include "redis_server.h"

/** The relay the tests write to: its keys are duet:{t1}:... */
#define TEST_RELAY "t1"

/** The running test's redis-server, started by test_redis_start(). */
extern struct test_redis_server test_redis_srv;

/**
 * Start a private redis-server for the running test (a Criterion .init
 * hook).
 */
void test_redis_start(void);

/**
 * The same with more redis-server options.
 *
 * @param extra  NULL-terminated options, e.g. "--requirepass", "pw"; or NULL
 */
void test_redis_start_with(const char *const *extra);

/** Stop the server and remove its directory (a Criterion .fini hook). */
void test_redis_stop(void);

/**
 * Connect r to the running test's server, with a 2 s timeout; fails the
 * test if that does not work.
 *
 * @param r  the connection to open; its old contents are ignored
 */
void test_redis_connect(struct duet_redis *r);

/**
 * Render a reply as text: integers and strings as is, errors as
 * "ERR:<message>", nil as "(nil)", arrays joined with ','.
 *
 * @param rep  the reply
 * @param out  where the text goes, truncated to len
 * @param len  size of out
 */
void test_redis_render(const redisReply *rep, char *out, size_t len);

/**
 * Run a command through hiredis's format API and render its reply
 * (test_redis_render). Fails the test on a transport error.
 *
 * @param r    a connected duet_redis
 * @param fmt  hiredis format string, then its arguments
 * @return the reply as text, valid until 8 more calls
 */
const char *test_redis_query(struct duet_redis *r, const char *fmt, ...);

/** The relay-wide keys of the contract for TEST_RELAY. */
struct test_relay_keys {
	char free[DUET_REDIS_KEY_MAX];   /**< set of free endpoints */
	char alloc[DUET_REDIS_KEY_MAX];  /**< hash endpoint -> owning pair id */
	char events[DUET_REDIS_KEY_MAX]; /**< the events stream */
	char relay[DUET_REDIS_KEY_MAX];  /**< the relay's heartbeat hash */
};

/** TEST_RELAY's keys, once test_relay_keys_init() has run. */
extern struct test_relay_keys test_keys;

/** Fill in test_keys (idempotent). */
void test_relay_keys_init(void);

/** Four endpoints of the test relay: three IPv4, one IPv6. */
extern const char *const test_four_eps[4];

/**
 * Offer n endpoints to TEST_RELAY with endpoints_seed.lua; fails the test
 * unless the script answers an integer.
 *
 * @param r    a connected duet_redis
 * @param n    how many endpoints, at most 512
 * @param eps  the endpoints, "ip:port"
 * @return how many were added to the free set
 */
long long test_relay_seed(struct duet_redis *r, int n, const char *const *eps);

/**
 * Write TEST_RELAY's heartbeat hash the way a running duetd does (capacity,
 * pairs 0, a TTL of a minute), so pair_create.lua finds a relay to put
 * pairs on.
 *
 * @param r         a connected duet_redis
 * @param capacity  the pair table's capacity to publish
 */
void test_relay_heartbeat(struct duet_redis *r, unsigned int capacity);

#endif /* DUET_TEST_REDIS_CMD_H */
