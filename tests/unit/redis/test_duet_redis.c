/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/redis/duet_redis.c: address parsing and key names
 * (pure), then connection, AUTH, a lost connection, script reloading and
 * pipelines (sent early, one-key commands) against a real redis-server
 * that each test starts on a unix socket in its own temporary directory
 * and always stops (the .fini hook, plus PR_SET_PDEATHSIG in case the test
 * process dies outright): the fixture in tests/unit/redis_server.c, used
 * through tests/unit/redis_cmd.c.
 * The contract's Lua scripts have their own tests:
 * tests/unit/contract/test_contract_lua.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "duet_redis.h"
#include "../redis_cmd.h"

/* ---------------------------------------------------------------------- */
/* Pure: address parsing and key names                                    */

Test(redis, parse_address_accepts_unix_tcp_and_bracketed_v6)
{
	struct duet_redis_target t;
	struct duet_redis_addr a;

	cr_assert_eq(duet_redis_parse_address("unix:/run/redis/redis.sock", &a, &t, NULL), 0);
	cr_assert_eq(t.kind, DUET_REDIS_ADDR_SERVER);
	cr_assert_str_eq(t.unix_path, "/run/redis/redis.sock");
	cr_assert_null(t.host);

	cr_assert_eq(duet_redis_parse_address("/tmp/r.sock", &a, &t, NULL), 0);
	cr_assert_str_eq(t.unix_path, "/tmp/r.sock");

	cr_assert_eq(duet_redis_parse_address("127.0.0.1:6379", &a, &t, NULL), 0);
	cr_assert_null(t.unix_path);
	cr_assert_str_eq(t.host, "127.0.0.1");
	cr_assert_eq(t.port, 6379);
	cr_assert_null(t.nodes);
	cr_assert_eq(t.n_nodes, 0);

	cr_assert_eq(duet_redis_parse_address("redis.example:1", &a, &t, NULL), 0);
	cr_assert_str_eq(t.host, "redis.example");
	cr_assert_eq(t.port, 1);

	cr_assert_eq(duet_redis_parse_address("[2001:db8::7]:65535", &a, &t, NULL), 0);
	cr_assert_str_eq(t.host, "2001:db8::7");
	cr_assert_eq(t.port, 65535);
}

Test(redis, parse_address_accepts_sentinel_and_cluster)
{
	struct duet_redis_target t;
	struct duet_redis_addr a;

	cr_assert_eq(duet_redis_parse_address("sentinel:main@192.0.2.1:26379,192.0.2.2:26379", &a,
					      &t, NULL),
		     0);
	cr_assert_eq(t.kind, DUET_REDIS_ADDR_SENTINEL);
	cr_assert_str_eq(t.master_name, "main");
	cr_assert_eq(t.n_nodes, 2);
	cr_assert_str_eq(t.nodes[1].host, "192.0.2.2");
	cr_assert_eq(t.nodes[1].port, 26379);
	cr_assert_null(t.unix_path);
	cr_assert_null(t.host);

	cr_assert_eq(duet_redis_parse_address("cluster:192.0.2.1:7000", &a, &t, NULL), 0);
	cr_assert_eq(t.kind, DUET_REDIS_ADDR_CLUSTER);
	cr_assert_null(t.master_name);
	cr_assert_eq(t.n_nodes, 1);
	cr_assert_eq(t.nodes[0].port, 7000);
}

Test(redis, parse_address_leaves_credentials_alone)
{
	struct duet_redis_target t = {
		.user = "u", .password = "p", .timeout_ms = 7, .relay = "r1"};
	struct duet_redis_addr a;

	cr_assert_eq(duet_redis_parse_address("h:2", &a, &t, NULL), 0);
	cr_assert_str_eq(t.user, "u");
	cr_assert_str_eq(t.password, "p");
	cr_assert_eq(t.timeout_ms, 7);
	cr_assert_str_eq(t.relay, "r1");
}

Test(redis, parse_address_refuses_malformed_input)
{
	static const char *const bad[] = {
		"",	     "unix:",	 "host",	  "host:",	   ":6379",
		"host:0",    "host:65536", "host:99999999", "host:12a",	   "host:+1",
		"host: 1",   "::1:6379",   "[::1]",	  "[::1]6379",	   "[127.0.0.1]:1",
		"[]:1",	     "ho st:1",	 "host:-1",	  "host:0x10",	   "sentinel:m",
		"sentinel:m@", "cluster:", "cluster:h:1,,h:2",
	};
	struct duet_redis_target t;
	struct duet_redis_addr a;
	const char *why;
	char longpath[200];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		cr_expect_eq(duet_redis_parse_address(bad[i], &a, &t, &why), -EINVAL,
			     "'%s' should be refused", bad[i]);
		cr_expect_not_null(why, "'%s' refused with a reason", bad[i]);
	}
	cr_assert_eq(duet_redis_parse_address(NULL, &a, &t, NULL), -EINVAL);

	/* sun_path holds 107 characters plus NUL. */
	memset(longpath, 'x', sizeof(longpath));
	longpath[0] = '/';
	longpath[108] = '\0';
	cr_assert_eq(duet_redis_parse_address(longpath, &a, &t, NULL), -EINVAL);
	longpath[107] = '\0';
	cr_assert_eq(duet_redis_parse_address(longpath, &a, &t, NULL), 0);
}

Test(redis, key_formats_hash_tagged_contract_names)
{
	char buf[DUET_REDIS_KEY_MAX];

	cr_assert_eq(duet_redis_key(buf, sizeof(buf), "r1", "pair:", "call-7"), 0);
	cr_assert_str_eq(buf, "duet:{r1}:pair:call-7");
	cr_assert_eq(duet_redis_key(buf, sizeof(buf), "r1", "events", NULL), 0);
	cr_assert_str_eq(buf, "duet:{r1}:events");
	cr_assert_eq(duet_redis_key(buf, sizeof(buf), "edge-2", "stats:", "x"), 0);
	cr_assert_str_eq(buf, "duet:{edge-2}:stats:x");
}

Test(redis, key_refuses_overflow_and_missing_relay)
{
	char buf[DUET_REDIS_KEY_MAX];

	/* "duet:{r1}:free" is 14 characters: 15 bytes needed. */
	cr_assert_eq(duet_redis_key(buf, 14, "r1", "free", NULL), -ENOSPC);
	cr_assert_eq(duet_redis_key(buf, 15, "r1", "free", NULL), 0);
	cr_assert_eq(duet_redis_key(buf, sizeof(buf), "", "free", NULL), -EINVAL);
	cr_assert_eq(duet_redis_key(buf, sizeof(buf), NULL, "free", NULL), -EINVAL);
}

/* The scripts' KEYS in the order both take them: pair_delete.lua the
 * first four, pair_create.lua all five (the relay's heartbeat last). */
Test(redis, pair_keys_are_the_scripts_keys_in_order)
{
	char keys[DUET_REDIS_CREATE_NKEYS][DUET_REDIS_KEY_MAX];
	char long_relay[DUET_REDIS_KEY_MAX];

	cr_assert_eq(duet_redis_pair_keys("r1", "call-7", keys), 0);
	cr_assert_str_eq(keys[0], "duet:{r1}:free");
	cr_assert_str_eq(keys[1], "duet:{r1}:alloc");
	cr_assert_str_eq(keys[2], "duet:{r1}:pair:call-7");
	cr_assert_str_eq(keys[3], "duet:{r1}:events");
	cr_assert_str_eq(keys[4], "duet:{r1}:relay");
	cr_assert_eq(DUET_REDIS_DELETE_NKEYS, 4);
	cr_assert_eq(duet_redis_pair_keys("", "x", keys), -EINVAL);
	cr_assert_eq(duet_redis_pair_keys("r1", NULL, keys), -EINVAL);
	memset(long_relay, 'r', sizeof(long_relay) - 1);
	long_relay[sizeof(long_relay) - 1] = '\0';
	cr_assert_eq(duet_redis_pair_keys(long_relay, "x", keys), -ENOSPC);
}

Test(redis, connect_to_missing_socket_names_address_and_cause)
{
	struct duet_redis r;
	struct duet_redis_target t = {.unix_path = "/nonexistent/duet-test.sock",
				      .timeout_ms = 500};

	memset(&r, 0, sizeof(r));
	cr_assert_eq(duet_redis_connect(&r, &t), -ECONNREFUSED);
	cr_assert_null(r.ctx);
	cr_assert_str_eq(r.errstr, "redis unix:/nonexistent/duet-test.sock: no such file or "
				   "directory");
}

Test(redis, command_without_connection_is_enotconn)
{
	struct duet_redis r;
	const char *argv[1] = {"PING"};

	memset(&r, 0, sizeof(r));
	snprintf(r.where, sizeof(r.where), "h:1");
	cr_assert_null(duet_redis_command(&r, 1, argv, NULL));
	cr_assert_eq(r.err, -ENOTCONN);
	cr_assert_str_eq(r.errstr, "redis h:1: not connected");
}

Test(redis, silent_server_times_out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct duet_redis_target t = {.timeout_ms = 200};
	struct timespec t0, t1;
	struct duet_redis r;
	char dir[] = "/tmp/duet-redis-silent-XXXXXX";
	int fd, rc;
	long ms;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s.sock", dir);
	/* Listening but never accepting: connect succeeds through the
	 * backlog, then PING waits for a reply that never comes. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fd, 4), 0);
	t.unix_path = sa.sun_path;
	memset(&r, 0, sizeof(r));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = duet_redis_connect(&r, &t);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	unlink(sa.sun_path);
	rmdir(dir);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	cr_assert_eq(rc, -ETIMEDOUT, "rc %d: %s", rc, r.errstr);
	cr_assert_null(r.ctx);
	cr_assert_not_null(strstr(r.errstr, ": timed out"), "%s", r.errstr);
	cr_assert_geq(ms, 150, "gave up after %ld ms, before the timeout", ms);
	cr_assert_lt(ms, 2000, "took %ld ms for a 200 ms timeout", ms);
}

/* ---------------------------------------------------------------------- */
/* Connection, AUTH and script loading, against a private redis-server    */

static void
start_redis_auth(void)
{
	static const char *const extra[] = {"--requirepass", "s3cret-pw", NULL};

	test_redis_start_with(extra);
}

Test(redis, connect_with_password_and_refuse_wrong_one_without_echoing_it,
     .init = start_redis_auth, .fini = test_redis_stop)
{
	struct duet_redis r;
	struct duet_redis_target t = {.unix_path = test_redis_srv.sock, .timeout_ms = 2000};

	memset(&r, 0, sizeof(r));
	t.password = "wrong-pw-4711";
	cr_assert_eq(duet_redis_connect(&r, &t), -EACCES);
	cr_assert_null(r.ctx);
	cr_assert_null(strstr(r.errstr, "wrong-pw-4711"), "password leaked: %s", r.errstr);
	cr_assert_not_null(strstr(r.errstr, test_redis_srv.sock), "address missing: %s", r.errstr);
	cr_assert_not_null(strstr(r.errstr, "authentication failed"), "%s", r.errstr);

	t.password = NULL;
	cr_assert_eq(duet_redis_connect(&r, &t), -EACCES);
	cr_assert_not_null(strstr(r.errstr, "authentication required"), "%s", r.errstr);

	t.password = "s3cret-pw";
	cr_assert_eq(duet_redis_connect(&r, &t), 0, "%s", r.errstr);
	cr_assert_str_eq(test_redis_query(&r, "PING"), "PONG");
	duet_redis_close(&r);
}

Test(redis, connect_as_acl_user, .init = test_redis_start, .fini = test_redis_stop)
{
	struct duet_redis admin, r;
	struct duet_redis_target t = {.unix_path = test_redis_srv.sock, .timeout_ms = 2000};

	test_redis_connect(&admin);
	cr_assert_str_eq(test_redis_query(&admin, "ACL SETUSER ctl on >ctl-pw ~duet:* +@all"),
			 "OK");

	memset(&r, 0, sizeof(r));
	t.user = "ctl";
	t.password = "not-ctl-pw";
	cr_assert_eq(duet_redis_connect(&r, &t), -EACCES);
	cr_assert_not_null(strstr(r.errstr, "user 'ctl'"), "%s", r.errstr);
	cr_assert_null(strstr(r.errstr, "not-ctl-pw"), "password leaked: %s", r.errstr);

	t.password = "ctl-pw";
	cr_assert_eq(duet_redis_connect(&r, &t), 0, "%s", r.errstr);
	/* AUTH user password really logged in as ctl, not as default. */
	cr_assert_str_eq(test_redis_query(&r, "ACL WHOAMI"), "ctl");
	duet_redis_close(&r);
	duet_redis_close(&admin);
}

Test(redis, lost_connection_closes_context, .init = test_redis_start, .fini = test_redis_stop)
{
	struct duet_redis r;
	const char *argv[1] = {"PING"};

	test_redis_connect(&r);
	test_redis_server_stop(&test_redis_srv, SIGKILL);
	cr_assert_null(duet_redis_command(&r, 1, argv, NULL));
	cr_assert_null(r.ctx, "context must be dropped after a transport error");
	cr_assert_eq(r.err, -EIO);
	cr_assert_not_null(strstr(r.errstr, test_redis_srv.sock), "%s", r.errstr);
}

Test(redis, script_is_reloaded_after_script_flush, .init = test_redis_start,
     .fini = test_redis_stop)
{
	struct duet_redis r;

	test_redis_connect(&r);
	cr_assert_eq(duet_redis_load_scripts(&r), 0, "%s", r.errstr);
	cr_assert_eq(strlen(r.sha[DUET_SCRIPT_PAIR_CREATE]), 40);
	cr_assert_eq(test_relay_seed(&r, 2, test_four_eps), 2);
	cr_assert_str_eq(test_redis_query(&r, "SCRIPT FLUSH"), "OK");
	/* The cached SHA is now unknown to Redis: NOSCRIPT, reload, retry. */
	cr_assert_eq(test_relay_seed(&r, 4, test_four_eps), 2);
	cr_assert_str_eq(test_redis_query(&r, "SCARD %s", test_keys.free), "4");
	duet_redis_close(&r);
}


/* ---------------------------------------------------------------------- */
/* Replies that mean "not the master": the connection is closed           */

/* Make the test's server a replica (of a documentation address nobody
 * answers on, so it stays one: reads work, writes get READONLY). */
static void
demote(void)
{
	redisContext *c = redisConnectUnix(test_redis_srv.sock);
	redisReply *r;

	cr_assert(c != NULL && c->err == 0);
	r = redisCommand(c, "REPLICAOF 192.0.2.1 6379");
	cr_assert(r != NULL && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	redisFree(c);
}

Test(redis, a_write_refused_as_readonly_closes_the_link, .init = test_redis_start,
     .fini = test_redis_stop)
{
	const char *set[3] = {"SET", "k", "v"}, *get[2] = {"GET", "k"};
	struct duet_redis r;
	redisReply *rep;

	test_redis_connect(&r);
	demote();
	/* A read still works on a replica: nothing to do. */
	rep = duet_redis_command(&r, 2, get, NULL);
	cr_assert_not_null(rep, "%s", r.errstr);
	freeReplyObject(rep);
	cr_assert_null(duet_redis_command(&r, 3, set, NULL));
	cr_assert_null(r.ctx, "a READONLY reply must close the connection");
	cr_assert_eq(r.err, -EAGAIN);
	cr_assert_not_null(strstr(r.errstr, "READONLY You can't write"), "%s", r.errstr);
	cr_assert_not_null(strstr(r.errstr, "finding the master again"), "%s", r.errstr);
	cr_assert_not_null(strstr(r.errstr, test_redis_srv.sock), "%s", r.errstr);
}

Test(redis, readonly_in_a_pipeline_or_a_script_closes_the_link, .init = test_redis_start,
     .fini = test_redis_stop)
{
	const char *set[3] = {"SET", "k", "v"}, *get[2] = {"GET", "k"};
	const char *seed[3] = {test_keys.free, test_keys.alloc, "192.0.2.1:20000"};
	struct duet_redis piped, scripted;

	test_relay_keys_init();
	test_redis_connect(&piped);
	test_redis_connect(&scripted);
	cr_assert_eq(duet_redis_load_scripts(&scripted), 0, "%s", scripted.errstr);
	demote();
	cr_assert_eq(duet_redis_append(&piped, 3, set, NULL), 0);
	cr_assert_eq(duet_redis_append(&piped, 2, get, NULL), 0);
	cr_assert_null(duet_redis_get_reply(&piped));
	cr_assert_null(piped.ctx);
	cr_assert_eq(piped.err, -EAGAIN);

	cr_assert_null(duet_redis_script(&scripted, DUET_SCRIPT_ENDPOINTS_SEED, 2, 3, seed),
		       "a script's write refused as READONLY");
	cr_assert_null(scripted.ctx);
	cr_assert_not_null(strstr(scripted.errstr, "READONLY"), "%s", scripted.errstr);
}

static void *
demote_later(void *arg)
{
	(void)arg;
	usleep(300 * 1000);
	demote();
	return NULL;
}

Test(redis, a_blocked_read_ended_by_a_demotion_closes_the_link, .init = test_redis_start,
     .fini = test_redis_stop)
{
	const char *xread[6] = {"XREAD", "BLOCK", "1500", "STREAMS", "s", "$"};
	struct duet_redis r;
	pthread_t th;

	test_redis_connect(&r);
	cr_assert_eq(pthread_create(&th, NULL, demote_later, NULL), 0);
	cr_assert_null(duet_redis_command(&r, 6, xread, NULL));
	pthread_join(th, NULL);
	cr_assert_null(r.ctx);
	cr_assert_eq(r.err, -EAGAIN);
	cr_assert_not_null(strstr(r.errstr, "UNBLOCKED"), "%s", r.errstr);
}

Test(redis, other_error_replies_are_returned, .init = test_redis_start, .fini = test_redis_stop)
{
	const char *bad[2] = {"NOSUCHCOMMAND", "x"};
	struct duet_redis r;
	redisReply *rep;

	test_redis_connect(&r);
	rep = duet_redis_command(&r, 2, bad, NULL);
	cr_assert_not_null(rep);
	cr_assert_eq(rep->type, REDIS_REPLY_ERROR);
	freeReplyObject(rep);
	cr_assert_not_null(r.ctx, "an ordinary error leaves the connection open");
	duet_redis_close(&r);
}

/* ---------------------------------------------------------------------- */
/* Pipelines: sending early, one-key commands                              */

Test(redis, a_flushed_pipeline_answers_in_order_while_the_caller_waits_elsewhere,
     .init = test_redis_start, .fini = test_redis_stop)
{
	char key[32], val[32];
	const char *set[3] = {"SET", key, val};
	struct duet_redis r, other;
	redisReply *rep;
	int i;

	test_redis_connect(&r);
	/* More than one read's worth of replies, so some come from a read
	 * and the rest from what that read buffered. */
	for (i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "v%d", i);
		cr_assert_eq(duet_redis_append(&r, 3, set, NULL), 0);
	}
	for (i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		cr_assert_eq(duet_redis_append_key_cmd(&r, "GET", key, strlen(key)), 0);
	}
	cr_assert_eq(duet_redis_flush(&r), 0, "%s", r.errstr);
	/* Sent: Redis runs them before a reply is asked for (another
	 * connection sees the last write). */
	test_redis_connect(&other);
	for (i = 0; i < 400 && strcmp(test_redis_query(&other, "GET k2999"), "v2999") != 0; i++)
		usleep(5000);
	cr_assert_str_eq(test_redis_query(&other, "GET k2999"), "v2999",
			 "the flushed commands did not reach Redis");
	duet_redis_close(&other);
	for (i = 0; i < 3000; i++) {
		rep = duet_redis_get_reply(&r);
		cr_assert_not_null(rep, "%s", r.errstr);
		cr_assert_eq(rep->type, REDIS_REPLY_STATUS);
		freeReplyObject(rep);
	}
	for (i = 0; i < 3000; i++) {
		snprintf(val, sizeof(val), "v%d", i);
		rep = duet_redis_get_reply(&r);
		cr_assert_not_null(rep, "%s", r.errstr);
		cr_assert_eq(rep->type, REDIS_REPLY_STRING);
		cr_assert_str_eq(rep->str, val);
		freeReplyObject(rep);
	}
	duet_redis_close(&r);
}

Test(redis, a_one_key_command_carries_any_bytes_in_its_key, .init = test_redis_start,
     .fini = test_redis_stop)
{
	static const char odd[] = "a\r\nb\0c d"; /* CRLF, NUL, space: 9 bytes */
	char longkey[DUET_REDIS_KEY_MAX + 40];
	const char *set[3] = {"SET", odd, "x"};
	size_t lens[3] = {3, sizeof(odd) - 1, 1};
	struct duet_redis r;
	redisReply *rep;

	test_redis_connect(&r);
	cr_assert_eq(duet_redis_append(&r, 3, set, lens), 0);
	cr_assert_eq(duet_redis_append_key_cmd(&r, "GET", odd, sizeof(odd) - 1), 0);
	/* Longer than the quick formatter takes: hiredis's formats it. */
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	cr_assert_eq(duet_redis_append_key_cmd(&r, "EXISTS", longkey, strlen(longkey)), 0);
	rep = duet_redis_get_reply(&r);
	cr_assert_not_null(rep, "%s", r.errstr);
	freeReplyObject(rep);
	rep = duet_redis_get_reply(&r);
	cr_assert_not_null(rep, "%s", r.errstr);
	cr_assert_eq(rep->type, REDIS_REPLY_STRING);
	cr_assert_str_eq(rep->str, "x");
	freeReplyObject(rep);
	rep = duet_redis_get_reply(&r);
	cr_assert_not_null(rep, "%s", r.errstr);
	cr_assert_eq(rep->type, REDIS_REPLY_INTEGER);
	cr_assert_eq(rep->integer, 0);
	freeReplyObject(rep);
	duet_redis_close(&r);
}

Test(redis, flushing_to_a_server_that_died_fails_without_sigpipe, .init = test_redis_start,
     .fini = test_redis_stop)
{
	static char big[256 * 1024];
	const char *set[3] = {"SET", "k", big};
	struct duet_redis r;

	test_redis_connect(&r);
	test_redis_server_stop(&test_redis_srv, SIGKILL);
	/* More than a socket buffer: the write meets the closed peer. */
	memset(big, 'x', sizeof(big) - 1);
	cr_assert_eq(duet_redis_append(&r, 3, set, NULL), 0);
	cr_assert_lt(duet_redis_flush(&r), 0);
	cr_assert_null(r.ctx, "a failed send must close the connection");
	cr_assert_not_null(strstr(r.errstr, test_redis_srv.sock), "%s", r.errstr);
	cr_assert_eq(duet_redis_flush(&r), -ENOTCONN);
}

Test(redis, a_malformed_reply_read_with_good_ones_closes_the_link)
{
	static const char answer[] = "+OK\r\n-ERR refused\r\n^not a reply\r\n";
	const char *ping[1] = {"PING"};
	struct duet_redis r;
	redisReply *rep;
	int sv[2], i;

	/* A "server" whose three replies arrive in one read: the second and
	 * the third come from what hiredis buffered, without a system call. */
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&r, 0, sizeof(r));
	snprintf(r.where, sizeof(r.where), "unix:socketpair");
	r.ctx = redisConnectFd(sv[0]);
	cr_assert(r.ctx != NULL && r.ctx->err == 0);
	for (i = 0; i < 3; i++)
		cr_assert_eq(duet_redis_append(&r, 1, ping, NULL), 0);
	cr_assert_eq(write(sv[1], answer, sizeof(answer) - 1), (ssize_t)(sizeof(answer) - 1));
	rep = duet_redis_get_reply(&r);
	cr_assert_not_null(rep, "%s", r.errstr);
	cr_assert_eq(rep->type, REDIS_REPLY_STATUS);
	freeReplyObject(rep);
	rep = duet_redis_get_reply(&r);
	cr_assert_not_null(rep, "an error reply is a reply: %s", r.errstr);
	cr_assert_eq(rep->type, REDIS_REPLY_ERROR);
	freeReplyObject(rep);
	cr_assert_null(duet_redis_get_reply(&r));
	cr_assert_null(r.ctx, "a reply out of step must close the link");
	cr_assert_eq(r.err, -EIO);
	cr_assert_not_null(strstr(r.errstr, "unix:socketpair"), "%s", r.errstr);
	cr_assert_not_null(strstr(r.errstr, "rotocol error"), "%s", r.errstr);
	close(sv[1]);
}
