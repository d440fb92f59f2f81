/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_cmd.c: the private redis-server, connection, text replies and test
 * relay shared by the lib/redis and Lua script unit tests (see
 * redis_cmd.h). Runs on the test's own thread.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "redis_cmd.h"

struct test_redis_server test_redis_srv;

void
test_redis_start_with(const char *const *extra)
{
	test_redis_server_init(&test_redis_srv, "redis-test");
	test_redis_server_start(&test_redis_srv, extra);
}

void
test_redis_start(void)
{
	test_redis_start_with(NULL);
}

void
test_redis_stop(void)
{
	test_redis_server_destroy(&test_redis_srv);
}

void
test_redis_connect(struct duet_redis *r)
{
	struct duet_redis_target t = {.unix_path = test_redis_srv.sock, .timeout_ms = 2000};

	memset(r, 0, sizeof(*r));
	cr_assert_eq(duet_redis_connect(r, &t), 0, "%s", r->errstr);
}

void
test_redis_render(const redisReply *rep, char *out, size_t len)
{
	size_t i, n;

	switch (rep->type) {
	case REDIS_REPLY_INTEGER:
		snprintf(out, len, "%lld", rep->integer);
		break;
	case REDIS_REPLY_STRING:
	case REDIS_REPLY_STATUS:
		snprintf(out, len, "%s", rep->str);
		break;
	case REDIS_REPLY_ERROR:
		snprintf(out, len, "ERR:%s", rep->str);
		break;
	case REDIS_REPLY_NIL:
		snprintf(out, len, "(nil)");
		break;
	case REDIS_REPLY_ARRAY:
		out[0] = '\0';
		for (i = 0; i < rep->elements; i++) {
			n = strlen(out);
			if (i > 0 && n + 1 < len)
				out[n++] = ',';
			test_redis_render(rep->element[i], out + n, len - n);
		}
		break;
	default:
		snprintf(out, len, "?");
	}
}

const char *
test_redis_query(struct duet_redis *r, const char *fmt, ...)
{
	static char ring[8][8192];
	static unsigned int next;
	char *out = ring[next++ % 8];
	redisReply *rep;
	va_list ap;

	va_start(ap, fmt);
	rep = redisvCommand(r->ctx, fmt, ap);
	va_end(ap);
	cr_assert_not_null(rep, "redis command failed: %s", r->ctx->errstr);
	test_redis_render(rep, out, sizeof(ring[0]));
	freeReplyObject(rep);
	return out;
}

struct test_relay_keys test_keys;

void
test_relay_keys_init(void)
{
	duet_redis_key(test_keys.free, sizeof(test_keys.free), TEST_RELAY, "free", NULL);
	duet_redis_key(test_keys.alloc, sizeof(test_keys.alloc), TEST_RELAY, "alloc", NULL);
	duet_redis_key(test_keys.events, sizeof(test_keys.events), TEST_RELAY, "events", NULL);
	duet_redis_key(test_keys.relay, sizeof(test_keys.relay), TEST_RELAY, "relay", NULL);
}

const char *const test_four_eps[4] = {"192.0.2.1:10000", "192.0.2.1:10002", "192.0.2.1:10004",
				      "[2001:db8::1]:10000"};

long long
test_relay_seed(struct duet_redis *r, int n, const char *const *eps)
{
	const char *argv[520];
	redisReply *rep;
	long long added;
	int i;

	cr_assert_leq(n, 512);
	test_relay_keys_init();
	argv[0] = test_keys.free;
	argv[1] = test_keys.alloc;
	for (i = 0; i < n; i++)
		argv[2 + i] = eps[i];
	rep = duet_redis_script(r, DUET_SCRIPT_ENDPOINTS_SEED, 2, n + 2, argv);
	cr_assert_not_null(rep, "%s", r->errstr);
	cr_assert_eq(rep->type, REDIS_REPLY_INTEGER, "seed reply type %d", rep->type);
	added = rep->integer;
	freeReplyObject(rep);
	return added;
}

void
test_relay_heartbeat(struct duet_redis *r, unsigned int capacity)
{
	test_relay_keys_init();
	cr_assert_neq(strncmp(test_redis_query(r, "HSET %s capacity %u pairs 0", test_keys.relay,
					       capacity),
			      "ERR:", 4),
		      0);
	cr_assert_str_eq(test_redis_query(r, "PEXPIRE %s 60000", test_keys.relay), "1");
}
