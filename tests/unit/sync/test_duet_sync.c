/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/sync's duet_sync*.c (the files sync_internal.h lists)
 * against a real redis-server (a private one per test, on a unix socket in
 * a temporary directory, with AOF so it can be restarted with its data) and
 * a real pair table on an EAL without hugepages. The test plays the control plane (hashes + events entries, or
 * the contract's Lua scripts) and the workers (latching legs and bumping
 * counters through duet_pair_fp.h). Internals (sync_internal.h) are tested
 * on replies built by hand.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <hiredis/hiredis.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "../mem_resident.h"
#include "duet_pair_fp.h"
#include "duet_port.h"
#include "duet_redis.h"
#include "duet_sync.h"
#include "sync_internal.h"
#include "../eal_rundir.h"
#include "../redis_server.h"

#define R "duet:{t1}:"
#define PIN_A "203.0.113.77"
#define LATCH_B "198.51.100.55"

static struct test_redis_server srv;

static struct duet_conf conf;
static struct duet_pair_table *t;
static struct duet_lcore_stats lstats[64]; /* the most workers conf allows */
static struct duet_sync *s;
static redisContext *cp; /* the test's control-plane connection */
static FILE *logf;
static char log_path[128];

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- redis-server (tests/unit/redis_server.c) ---- */

/* AOF on and fsync'ed on every write, so a restart finds the data. The
 * test's control-plane connection cp follows the server. */
static void
redis_start(void)
{
	static const char *const aof[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};

	test_redis_server_start(&srv, aof);
	redisFree(cp);
	cp = redisConnectUnix(srv.sock);
	cr_assert(cp != NULL && cp->err == 0, "cannot connect to %s", srv.sock);
}

/* SIGTERM: Redis writes its AOF and exits, as in a planned restart. */
static void
redis_stop(void)
{
	if (srv.pid <= 0)
		return;
	test_redis_server_stop(&srv, SIGTERM);
	redisFree(cp);
	cp = NULL;
}

/* ---- fixture ---- */

/* A pair table for conf's endpoints (192.0.2.1 and .2, ports 20000 to
 * 20009), as duetd makes it. */
static struct duet_pair_table *
sync_table_new(uint32_t capacity)
{
	struct duet_pair_space sp;

	duet_port_space(&conf, NULL, &sp);
	return duet_pair_table_create("synctest", capacity, 1, SOCKET_ID_ANY, &sp);
}

static void
setup(void)
{
	char prefix[64];
	char *argv[] = {"test_duet_sync", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			"--no-telemetry", "--file-prefix", prefix,
			/* rte_log drops anything above the global level first. */
			"--log-level", "debug", "--log-level", "lib.*:error",
			"--log-level", "duet.sync:debug", "--lcores", "0@(0-1)", NULL};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	test_redis_server_init(&srv, "sync-test");
	snprintf(log_path, sizeof(log_path), "%s/duet.log", srv.dir);

	snprintf(prefix, sizeof(prefix), "synctest_%ld", (long)getpid());
	cr_assert_geq(rte_eal_init(argc, argv), 0, "rte_eal_init: %s", rte_strerror(rte_errno));
	test_eal_rundir_remove_at_exit();
	/* Everything duet.sync logs lands here, to be searched for addresses. */
	logf = fopen(log_path, "w+");
	cr_assert_not_null(logf);
	rte_openlog_stream(logf);

	duet_conf_defaults(&conf);
	snprintf(conf.relay_id, sizeof(conf.relay_id), "t1");
	conf.port_min = 20000;
	conf.port_max = 20009;
	conf.idle_timeout_ms = 0;
	conf.stats_interval_ms = 100;
	conf.heartbeat_ttl_ms = 5000;
	conf.n_ports = 1;
	snprintf(conf.ports[0].name, sizeof(conf.ports[0].name), "net_af_packet0");
	duet_addr_parse_ip("192.0.2.1", &conf.ports[0].addrs[0]);
	duet_addr_parse_ip("192.0.2.2", &conf.ports[0].addrs[1]);
	conf.ports[0].n_addrs = 2;
	snprintf(conf.redis.unix_path, sizeof(conf.redis.unix_path), "%s", srv.sock);
	conf.redis.connect_timeout_ms = 500;

	t = sync_table_new(64);
	cr_assert_not_null(t);
	memset(lstats, 0, sizeof(lstats));
	redis_start();
}

static void
teardown(void)
{
	duet_sync_destroy(s);
	s = NULL;
	test_redis_server_stop(&srv, SIGKILL);
	redisFree(cp);
	cp = NULL;
	duet_pair_table_free(t);
	t = NULL;
	rte_openlog_stream(NULL);
	if (logf != NULL && getenv("DUET_SYNC_TEST_LOG") != NULL) {
		/* For debugging: what duet.sync said during the test. */
		char line[512];

		fflush(logf);
		rewind(logf);
		FILE *out = fopen(getenv("DUET_SYNC_TEST_LOG"), "a");

		while (out != NULL && fgets(line, sizeof(line), logf) != NULL)
			fputs(line, out);
		if (out != NULL)
			fclose(out);
	}
	if (logf != NULL)
		fclose(logf);
	logf = NULL;
	test_redis_server_destroy(&srv);
	rte_eal_cleanup();
}

TestSuite(sync, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ---- */

static redisReply *
rc(const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(cp, fmt, ap);
	va_end(ap);
	cr_assert_not_null(r, "redis command '%s' failed: %s", fmt, cp->errstr);
	return r;
}

static long long
rc_int(const char *fmt, ...)
{
	redisReply *r;
	long long v;
	va_list ap;

	va_start(ap, fmt);
	r = redisvCommand(cp, fmt, ap);
	va_end(ap);
	cr_assert_not_null(r);
	cr_assert_eq(r->type, REDIS_REPLY_INTEGER, "'%s' gave type %d (%s)", fmt, r->type,
		     r->type == REDIS_REPLY_ERROR ? r->str : "");
	v = r->integer;
	freeReplyObject(r);
	return v;
}

/* HGET into a static buffer; "" when missing. */
static const char *
hget(const char *key, const char *field)
{
	static char buf[4][512];
	static int which;
	char *out = buf[which++ % 4];
	redisReply *r = rc("HGET %s %s", key, field);

	snprintf(out, sizeof(buf[0]), "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	return out;
}

/* Write pair hash `id` with the NULL-terminated field/value list, then
 * append `op put`, as a control plane without the scripts would. */
static void
cp_put(const char *id, ...)
{
	const char *argv[40];
	char key[128];
	const char *f;
	va_list ap;
	int argc = 0;

	snprintf(key, sizeof(key), R "pair:%s", id);
	freeReplyObject(rc("DEL %s", key));
	argv[argc++] = "HSET";
	argv[argc++] = key;
	va_start(ap, id);
	while ((f = va_arg(ap, const char *)) != NULL && argc < 38) {
		argv[argc++] = f;
		argv[argc++] = va_arg(ap, const char *);
	}
	va_end(ap);
	freeReplyObject(redisCommandArgv(cp, argc, argv, NULL));
	freeReplyObject(rc("XADD " R "events * op put id %s", id));
}

static void
cp_del(const char *id)
{
	freeReplyObject(rc("DEL " R "pair:%s", id));
	freeReplyObject(rc("XADD " R "events * op del id %s", id));
}

/* pair_create.lua, the way duetctl creates a pair; extra fields after id.
 * The script checks the relay's heartbeat, which sync writes. */
static redisReply *
cp_create(const char *id, const char *f1, const char *v1)
{
	char key[128];

	snprintf(key, sizeof(key), R "pair:%s", id);
	if (f1 != NULL)
		return rc("EVAL %s 5 " R "free " R "alloc %s " R "events " R "relay %s 1000 %s %s",
			  duet_redis_script_text(DUET_SCRIPT_PAIR_CREATE), key, id, f1, v1);
	return rc("EVAL %s 5 " R "free " R "alloc %s " R "events " R "relay %s 1000",
		  duet_redis_script_text(DUET_SCRIPT_PAIR_CREATE), key, id);
}

/* The record of live slot `slot` (duet_pair_spec_get), in one of four
 * buffers used in turn. */
static const struct duet_pair_spec *
spec_of(const struct duet_pair_table *tab, uint32_t slot)
{
	static struct duet_pair_spec buf[4];
	static unsigned int next;
	struct duet_pair_spec *sp = &buf[next++ % 4];

	duet_pair_spec_get(tab, slot, sp);
	return sp;
}

static void
sync_start(void)
{
	s = duet_sync_create(&conf, t, lstats, 1);
	cr_assert_not_null(s);
}

#define POLL_UNTIL(cond, ms)                                                               \
	do {                                                                               \
		uint64_t end_ = mono_ms() + (ms);                                          \
		while (!(cond)) {                                                          \
			cr_assert_lt(mono_ms(), end_, "timed out waiting for: %s", #cond); \
			duet_sync_poll(s, now_ms());                                       \
		}                                                                          \
	} while (0)

static void
poll_for(uint64_t ms)
{
	uint64_t end = mono_ms() + ms;

	while (mono_ms() < end)
		duet_sync_poll(s, now_ms());
}

static bool
live(const char *id)
{
	return duet_pair_find(t, id) >= 0;
}

static struct duet_addr
ep(const char *text)
{
	struct duet_addr a;

	cr_assert_eq(duet_addr_parse(text, &a), 0, "%s", text);
	return a;
}

/* The last entry of the ended stream with field id == `id`, its reason in
 * `reason` (NULL if there is none). */
static bool
ended_entry(const char *id, char *reason, size_t len)
{
	redisReply *r = rc("XRANGE " R "ended - +");
	bool found = false;
	size_t i, j;

	for (i = 0; i < r->elements; i++) {
		redisReply *fv = r->element[i]->element[1];
		const char *eid = NULL, *why = NULL;

		for (j = 0; j + 1 < fv->elements; j += 2) {
			if (strcmp(fv->element[j]->str, "id") == 0)
				eid = fv->element[j + 1]->str;
			if (strcmp(fv->element[j]->str, "reason") == 0)
				why = fv->element[j + 1]->str;
		}
		if (eid != NULL && strcmp(eid, id) == 0) {
			found = true;
			snprintf(reason, len, "%s", why != NULL ? why : "");
		}
	}
	freeReplyObject(r);
	return found;
}

static bool
ended_with(const char *id, const char *reason)
{
	char why[64];

	return ended_entry(id, why, sizeof(why)) && strcmp(why, reason) == 0;
}

/* Act as worker 0: a packet from src reaches leg `leg` of pair id. */
static void
worker_rx(const char *id, unsigned int leg, const char *src, uint64_t bytes)
{
	static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x42};
	struct duet_leg_view view;
	struct duet_addr a = ep(src);
	int slot = duet_pair_find(t, id);
	uint32_t li;
	struct duet_leg_hot *c;

	cr_assert_geq(slot, 0);
	li = 2 * (uint32_t)slot + leg;
	duet_leg_rx(duet_pair_leg_at(t, li), duet_pair_last_rx_at(t, li), duet_pair_leg_at(t, (li) ^ 1), &a, mac,
		    rte_get_tsc_cycles(),
		    rte_get_tsc_hz(), &view);
	c = duet_pair_hot_at(t, 0, li);
	c->pkts++;
	c->bytes += bytes;
}

/* ---- tests ---- */

Test(sync, create_refuses_missing_arguments)
{
	cr_assert_null(duet_sync_create(NULL, t, lstats, 1));
	cr_assert_eq(rte_errno, EINVAL);
	cr_assert_null(duet_sync_create(&conf, NULL, lstats, 1));
	cr_assert_null(duet_sync_create(&conf, t, NULL, 1));
	conf.relay_id[0] = '\0';
	cr_assert_null(duet_sync_create(&conf, t, lstats, 1));
}

Test(sync, loads_pairs_present_before_start_and_seeds_the_free_set)
{
	const struct duet_pair_spec *sp;
	int slot;

	cp_put("p1", "a", "192.0.2.1:20000", "b", "192.0.2.2:20001", "mode", "passthrough",
	       NULL);
	cp_put("p2", "a", "192.0.2.1:20002", "b", "192.0.2.1:20003", "mode", "passthrough",
	       "idle_ms", "5000", NULL);
	/* Stale members of the free set: no longer configured, or junk. */
	freeReplyObject(rc("SADD " R "free 192.0.2.9:20000 192.0.2.1:30000 junk"));
	freeReplyObject(rc("HSET " R "alloc 192.0.2.2:20009 someone"));
	/* A key whose id breaks the contract: counted, not applied. */
	freeReplyObject(rc("HSET %s a 192.0.2.1:20004 b 192.0.2.1:20005 mode passthrough",
			   R "pair:has space"));
	sync_start();
	cr_assert(!duet_sync_connected(s));
	POLL_UNTIL(duet_sync_connected(s), 5000);

	cr_assert_eq(duet_pair_count(t), 2);
	slot = duet_pair_find(t, "p2");
	cr_assert_geq(slot, 0);
	sp = spec_of(t, (uint32_t)slot);
	{
		struct duet_addr a = ep("192.0.2.1:20002"), b = ep("192.0.2.1:20003");

		cr_assert(duet_addr_equal(&sp->ep[0], &a));
		cr_assert(duet_addr_equal(&sp->ep[1], &b));
	}
	cr_assert_eq(sp->idle_ms, 5000);
	cr_assert_eq(duet_sync_full_loads(s), 1);
	cr_assert_eq(duet_sync_rejected(s), 1);
	/* 20 configured endpoints: one allocated in alloc, four used by the
	 * installed pairs (written by hand, so not in alloc): 15 free, the
	 * unconfigured ones pruned. */
	cr_assert_eq(rc_int("SCARD " R "free"), 15);
	cr_assert_eq(rc_int("SISMEMBER " R "free 192.0.2.1:20000"), 0);
	cr_assert_eq(rc_int("SISMEMBER " R "free 192.0.2.9:20000"), 0);
	cr_assert_eq(rc_int("SISMEMBER " R "free 192.0.2.1:30000"), 0);
	cr_assert_eq(rc_int("SISMEMBER " R "free junk"), 0);
	cr_assert_eq(rc_int("SISMEMBER " R "free 192.0.2.2:20009"), 0);
	/* Loaded pairs get a stats hash right away. */
	POLL_UNTIL(strcmp(hget(R "stats:p1", "state"), "waiting") == 0, 2000);
}

Test(sync, follows_put_update_and_del_events)
{
	struct duet_addr pin = ep("203.0.113.5:4000");
	redisReply *r;
	char why[64];
	int slot;

	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);
	cr_assert_eq(duet_pair_count(t), 0);
	POLL_UNTIL(rc_int("EXISTS " R "relay") == 1, 2000); /* the first heartbeat */

	/* Created through pair_create.lua: endpoints come from the free set. */
	r = cp_create("c1", NULL, NULL);
	cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s", r->type == REDIS_REPLY_ERROR ? r->str : "");
	freeReplyObject(r);
	POLL_UNTIL(live("c1"), 2000);
	cr_assert_eq(rc_int("SCARD " R "free"), 18);
	slot = duet_pair_find(t, "c1");

	/* An update in place (a pin) keeps the slot and the stats. */
	freeReplyObject(rc("HSET " R "pair:c1 a_src 203.0.113.5:4000"));
	freeReplyObject(rc("XADD " R "events * op put id c1"));
	POLL_UNTIL(spec_of(t, (uint32_t)slot)->pin[0].family == DUET_AF_INET4, 2000);
	cr_assert_eq(duet_pair_find(t, "c1"), slot);
	cr_assert(duet_addr_equal(&spec_of(t, (uint32_t)slot)->pin[0], &pin));

	/* A put whose hash is gone acts as a delete. */
	freeReplyObject(cp_create("c2", NULL, NULL));
	POLL_UNTIL(live("c2"), 2000);
	freeReplyObject(rc("DEL " R "pair:c2"));
	freeReplyObject(rc("XADD " R "events * op put id c2"));
	POLL_UNTIL(!live("c2"), 2000);

	/* op del: deleted locally, ended entry and final stats written. */
	cp_del("c1");
	POLL_UNTIL(!live("c1"), 2000);
	POLL_UNTIL(ended_entry("c1", why, sizeof(why)), 2000);
	cr_assert_str_eq(why, "deleted");
	POLL_UNTIL(strcmp(hget(R "stats:c1", "state"), "ended") == 0, 2000);
	cr_assert_str_eq(hget(R "stats:c1", "reason"), "deleted");
	cr_assert_gt(rc_int("TTL " R "stats:c1"), 0);
	cr_assert_eq(duet_pair_count(t), 0);

	/* Junk entries are skipped and the stream position still moves. */
	freeReplyObject(rc("XADD " R "events * op upsert id c9"));
	freeReplyObject(rc("XADD " R "events * hello world"));
	cp_put("c3", "a", "192.0.2.1:20005", "b", "192.0.2.1:20006", "mode", "passthrough", NULL);
	POLL_UNTIL(live("c3"), 2000);
	r = rc("XREVRANGE " R "events + - COUNT 1");
	cr_assert_str_eq(duet_sync_last_id(s), r->element[0]->element[0]->str);
	freeReplyObject(r);
}

Test(sync, malformed_record_is_rejected_with_a_reason_while_a_valid_one_loads)
{
	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);

	cp_put("bad", "a", "nope", "b", "192.0.2.1:20001", "mode", "passthrough", NULL);
	cp_put("good", "a", "192.0.2.1:20002", "b", "192.0.2.1:20003", "mode", "passthrough",
	       NULL);
	POLL_UNTIL(live("good"), 2000);
	POLL_UNTIL(strcmp(hget(R "stats:bad", "state"), "rejected") == 0, 2000);
	cr_assert(!live("bad"));
	cr_assert_str_eq(hget(R "stats:bad", "reason"), "field a: 'nope' is not an ip:port");
	cr_assert_gt(rc_int("TTL " R "stats:bad"), 0);
	cr_assert_eq(duet_sync_rejected(s), 1);

	/* Several faults: each named. */
	cp_put("bad2", "a", "192.0.2.1:20004", "b", "192.0.2.1:20005", "mode", "verify", NULL);
	cp_put("bad3", "a", "192.0.2.1:19999", "b", "192.0.2.1:20005", "mode", "passthrough",
	       NULL);
	cp_put("bad4", "a", "192.0.2.1:20004", "b", "192.0.2.1:20005", NULL);
	POLL_UNTIL(hget(R "stats:bad4", "reason")[0] != '\0', 2000);
	cr_assert_str_eq(hget(R "stats:bad2", "reason"), "mode verify needs field a_in");
	cr_assert_str_eq(hget(R "stats:bad3", "reason"),
			 "field a: port 19999 outside media range 20000-20009");
	cr_assert_str_eq(hget(R "stats:bad4", "reason"), "missing field mode");
	cr_assert_eq(duet_pair_count(t), 1);

	/* A later valid put replaces the rejection: no reason, no TTL. */
	cp_put("bad", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough", NULL);
	POLL_UNTIL(live("bad"), 2000);
	POLL_UNTIL(strcmp(hget(R "stats:bad", "state"), "waiting") == 0, 2000);
	cr_assert_str_eq(hget(R "stats:bad", "reason"), "");
	cr_assert_eq(rc_int("TTL " R "stats:bad"), -1);
}

Test(sync, endpoint_used_by_another_pair_is_rejected)
{
	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);

	cp_put("first", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough",
	       NULL);
	cp_put("second", "a", "192.0.2.1:20002", "b", "192.0.2.1:20000", "mode", "passthrough",
	       NULL);
	POLL_UNTIL(strcmp(hget(R "stats:second", "state"), "rejected") == 0, 2000);
	cr_assert(live("first"));
	cr_assert(!live("second"));
	cr_assert_str_eq(hget(R "stats:second", "reason"),
			 "endpoint 192.0.2.1:20000 of leg b is used by another pair");
}

Test(sync, live_pair_rewritten_invalid_is_ended_and_rejected)
{
	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);

	cp_put("x", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough", NULL);
	POLL_UNTIL(live("x"), 2000);
	worker_rx("x", 0, "203.0.113.9:7000", 160);
	cp_put("x", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "rekey", NULL);
	POLL_UNTIL(!live("x"), 2000);
	POLL_UNTIL(strcmp(hget(R "stats:x", "state"), "rejected") == 0, 2000);
	cr_assert_str_eq(hget(R "stats:x", "reason"), "mode rekey needs field a_in");
	cr_assert(ended_with("x", "replaced"));
	/* Its endpoints are free for others at once. */
	cp_put("y", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough", NULL);
	POLL_UNTIL(live("y"), 2000);
}

Test(sync, new_endpoints_replace_the_pair_and_end_the_old_one)
{
	redisReply *r;
	int n;

	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);
	cp_put("m", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough", NULL);
	POLL_UNTIL(live("m"), 2000);
	worker_rx("m", 1, "203.0.113.9:7000", 100);
	worker_rx("m", 1, "203.0.113.9:7000", 100);
	cp_put("m", "a", "192.0.2.1:20004", "b", "192.0.2.1:20001", "mode", "passthrough", NULL);
	POLL_UNTIL(ended_with("m", "replaced"), 2000);
	cr_assert(live("m"));
	{
		struct duet_addr a = ep("192.0.2.1:20004");

		cr_assert(duet_addr_equal(&spec_of(t, (uint32_t)duet_pair_find(t, "m"))
						   ->ep[0],
					  &a));
	}
	/* The ended entry carries the old incarnation's counters. */
	r = rc("XRANGE " R "ended - +");
	cr_assert_eq(r->elements, 1);
	for (n = 0; n + 1 < (int)r->element[0]->element[1]->elements; n += 2) {
		redisReply *fv = r->element[0]->element[1];

		if (strcmp(fv->element[n]->str, "b_pkts") == 0)
			cr_assert_str_eq(fv->element[n + 1]->str, "2");
		if (strcmp(fv->element[n]->str, "b_bytes") == 0)
			cr_assert_str_eq(fv->element[n + 1]->str, "200");
	}
	freeReplyObject(r);
	/* And the new one starts over. */
	POLL_UNTIL(strcmp(hget(R "stats:m", "state"), "waiting") == 0 &&
			   strcmp(hget(R "stats:m", "b_pkts"), "0") == 0,
		   2000);
}

Test(sync, resumes_after_a_redis_restart_without_resync_and_replays_queued_writes)
{
	sync_start();
	cp_put("p1", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough", NULL);
	POLL_UNTIL(duet_sync_connected(s), 5000);
	cr_assert(live("p1"));
	/* Idles out while Redis is away: its writes must wait in the outbox. */
	cp_put("idler", "a", "192.0.2.2:20000", "b", "192.0.2.2:20001", "mode", "passthrough",
	       "idle_ms", "600", NULL);
	POLL_UNTIL(live("idler"), 2000);

	redis_stop();
	poll_for(300);
	cr_assert(!duet_sync_connected(s));
	cr_assert(live("p1"), "forwarding state survives the outage");
	POLL_UNTIL(!live("idler"), 2000);
	/* Ended while Redis is away: parked, compact, until it is back. */
	cr_assert_eq(duet_sync_ended_waiting(s), 1);

	redis_start();
	/* A change made while duetd was away. */
	cp_put("p2", "a", "192.0.2.1:20002", "b", "192.0.2.1:20003", "mode", "passthrough", NULL);
	POLL_UNTIL(live("p2") && duet_sync_connected(s), 8000);
	POLL_UNTIL(duet_sync_outbox_len(s) == 0 && duet_sync_ended_waiting(s) == 0, 2000);
	cr_assert_eq(duet_sync_full_loads(s), 1, "resumed, not reloaded");
	cr_assert_eq(duet_sync_reconnects(s), 1);
	cr_assert(live("p1"));
	/* The queued writes reached Redis: ended entry, and pair_delete.lua
	 * removed the hash. */
	cr_assert(ended_with("idler", "idle"));
	cr_assert_str_eq(hget(R "stats:idler", "state"), "ended");
	cr_assert_eq(rc_int("EXISTS " R "pair:idler"), 0);
	POLL_UNTIL(strcmp(hget(R "relay", "redis_reconnects"), "1") == 0, 2000);
}

Test(sync, a_replayed_idle_delete_spares_a_pair_created_again_under_its_id)
{
	struct duet_addr moved = ep("192.0.2.1:20006");

	sync_start();
	cp_put("p", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough",
	       "idle_ms", "500", NULL);
	POLL_UNTIL(duet_sync_connected(s) && live("p"), 5000);

	/* p idles out while Redis is away: its pair_delete.lua waits. */
	redis_stop();
	POLL_UNTIL(!live("p"), 3000);
	cr_assert_eq(duet_sync_ended_waiting(s), 1);
	redis_start();
	/* Before duetd is back, the control plane creates p again, on other
	 * endpoints. */
	cp_put("p", "a", "192.0.2.1:20006", "b", "192.0.2.1:20007", "mode", "passthrough", NULL);
	POLL_UNTIL(duet_sync_connected(s) && duet_sync_ended_waiting(s) == 0 &&
			   duet_sync_outbox_len(s) == 0,
		   8000);
	POLL_UNTIL(ended_with("p", "idle"), 2000);
	/* The waiting delete was for the old p: the new one stays. */
	cr_assert_eq(rc_int("EXISTS " R "pair:p"), 1, "the replayed delete removed the new p");
	POLL_UNTIL(duet_pair_find_endpoint(t, &moved, NULL) >= 0, 3000);
	cr_assert(live("p"));
}

Test(sync, a_failover_that_lost_the_last_entry_read_causes_a_full_resync)
{
	redisReply *r;
	char e1[48];

	sync_start();
	cp_put("p1", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough", NULL);
	POLL_UNTIL(duet_sync_connected(s) && live("p1"), 5000);
	r = rc("XREVRANGE " R "events + - COUNT 1");
	snprintf(e1, sizeof(e1), "%s", r->element[0]->element[0]->str);
	freeReplyObject(r);
	cp_put("p2", "a", "192.0.2.1:20002", "b", "192.0.2.1:20003", "mode", "passthrough", NULL);
	POLL_UNTIL(live("p2"), 2000);

	/* Redis restarts as a replica promoted without p2's writes (its hash
	 * and its entry), and the control plane writes p3 before duetd is
	 * back: the stream is newer than duetd's position and its counts add
	 * up, but the entry duetd read last is not there. */
	redis_stop();
	redis_start();
	freeReplyObject(rc("DEL " R "pair:p2 " R "events"));
	freeReplyObject(rc("XADD " R "events %s op put id p1", e1));
	cp_put("p3", "a", "192.0.2.1:20004", "b", "192.0.2.1:20005", "mode", "passthrough", NULL);
	POLL_UNTIL(duet_sync_connected(s) && live("p3"), 8000);
	cr_assert_eq(duet_sync_full_loads(s), 2, "resumed after a lost entry");
	POLL_UNTIL(!live("p2"), 2000);
	cr_assert(live("p1"));
}

Test(sync, trimmed_stream_triggers_a_full_resync)
{
	uint64_t created;
	int slot;

	cp_put("keep", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough",
	       NULL);
	cp_put("gone", "a", "192.0.2.1:20002", "b", "192.0.2.1:20003", "mode", "passthrough",
	       NULL);
	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);
	cr_assert_eq(duet_pair_count(t), 2);
	slot = duet_pair_find(t, "keep");
	created = duet_pair_created_ms(t, (uint32_t)slot);

	/* Changes duetd has not read, then their entries trimmed away. */
	cp_del("gone");
	cp_put("new", "a", "192.0.2.1:20004", "b", "192.0.2.1:20005", "mode", "passthrough",
	       NULL);
	freeReplyObject(rc("XTRIM " R "events MAXLEN 0"));
	POLL_UNTIL(live("new"), 3000);
	POLL_UNTIL(!live("gone"), 3000);
	cr_assert_eq(duet_sync_full_loads(s), 2);
	POLL_UNTIL(ended_with("gone", "deleted"), 2000);
	/* An unchanged pair rides through the resync untouched. */
	cr_assert_eq(duet_pair_find(t, "keep"), slot);
	cr_assert_eq(duet_pair_created_ms(t, (uint32_t)slot), created);

	/* And following goes on after it. */
	cp_put("after", "a", "192.0.2.1:20006", "b", "192.0.2.1:20007", "mode", "passthrough",
	       NULL);
	POLL_UNTIL(live("after"), 2000);
	cr_assert_eq(duet_sync_full_loads(s), 2);
}

/* ---- a control plane that acts while duetd is blocked in XREAD ---- */

struct while_blocked {
	const char *cmds[8]; /* run as one MULTI/EXEC, each split on spaces */
	int blocked_seen;    /* the sync client was seen blocked in XREAD */
	int done;
};

/* Whether CLIENT LIST shows a client blocked (flag b) in XREAD. */
static bool
xread_blocked(redisContext *c)
{
	redisReply *r = redisCommand(c, "CLIENT LIST");
	char *line, *save = NULL;
	bool yes = false;

	if (r == NULL)
		return false;
	if (r->type == REDIS_REPLY_STRING) {
		for (line = strtok_r(r->str, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save)) {
			const char *fl = strstr(line, " flags=");
			size_t n = fl != NULL ? strcspn(fl + 7, " ") : 0;

			/* flags=b, or bU on a unix socket */
			if (fl != NULL && memchr(fl + 7, 'b', n) != NULL &&
			    strstr(line, " cmd=xread") != NULL)
				yes = true;
		}
	}
	freeReplyObject(r);
	return yes;
}

/* Waits (up to 3 s) until the sync client is blocked in XREAD, then runs
 * the commands atomically: the read wakes only after all of them. */
static void *
act_while_blocked(void *arg)
{
	struct while_blocked *w = arg;
	redisContext *c = redisConnectUnix(srv.sock);
	uint64_t end = mono_ms() + 3000;
	unsigned int i;

	if (c == NULL || c->err)
		goto out;
	while (mono_ms() < end && !(w->blocked_seen = xread_blocked(c)))
		usleep(1000);
	if (w->blocked_seen) {
		freeReplyObject(redisCommand(c, "MULTI"));
		for (i = 0; i < 8 && w->cmds[i] != NULL; i++)
			freeReplyObject(redisCommand(c, w->cmds[i]));
		freeReplyObject(redisCommand(c, "EXEC"));
	}
out:
	if (c != NULL)
		redisFree(c);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Poll sync while w acts; returns when it is done. */
static void
poll_while(struct while_blocked *w)
{
	pthread_t th;

	cr_assert_eq(pthread_create(&th, NULL, act_while_blocked, w), 0);
	POLL_UNTIL(__atomic_load_n(&w->done, __ATOMIC_ACQUIRE), 5000);
	pthread_join(th, NULL);
	cr_assert(w->blocked_seen, "the sync client was never blocked in XREAD");
}

Test(sync, events_trimmed_while_blocked_in_xread_trigger_a_full_resync)
{
	struct while_blocked w1 = {
		.cmds = {"HSET " R "pair:tr5 a 192.0.2.1:20000 b 192.0.2.1:20001 mode passthrough",
			 "XADD " R "events * op put id tr5",
			 "HSET " R "pair:other a 192.0.2.1:20002 b 192.0.2.1:20003 mode passthrough",
			 "XADD " R "events MAXLEN 1 * op put id other"}};
	struct while_blocked w2 = {
		.cmds = {"HSET " R "pair:tr6 a 192.0.2.1:20004 b 192.0.2.1:20005 mode passthrough",
			 "XADD " R "events * op put id tr6", "XTRIM " R "events MAXLEN 0",
			 "HSET " R "pair:other2 a 192.0.2.1:20006 b 192.0.2.1:20007 mode passthrough",
			 "XADD " R "events * op put id other2"}};

	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);
	cr_assert_eq(duet_sync_full_loads(s), 1);

	/* MULTI; XADD tr5; XADD MAXLEN 1 other; EXEC: tr5's entry is gone
	 * before the blocked read wakes. */
	poll_while(&w1);
	POLL_UNTIL(live("tr5") && live("other"), 3000);
	cr_assert_eq(duet_sync_full_loads(s), 2);

	/* XADD; XTRIM MAXLEN 0; XADD: the same through XTRIM. */
	poll_while(&w2);
	POLL_UNTIL(live("tr6") && live("other2"), 3000);
	cr_assert_eq(duet_sync_full_loads(s), 3);

	/* Ordinary events after it follow without another resync. */
	cp_put("after", "a", "192.0.2.1:20008", "b", "192.0.2.1:20009", "mode", "passthrough",
	       NULL);
	POLL_UNTIL(live("after"), 2000);
	cr_assert_eq(duet_sync_full_loads(s), 3);
}

Test(sync, malformed_event_is_skipped_and_ends_nothing)
{
	sync_start();
	cp_put("p1", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough",
	       NULL);
	POLL_UNTIL(duet_sync_connected(s) && live("p1"), 5000);

	/* `op put op del`: no one meaning, so no effect; the entry after it
	 * shows that the follower has read past it. */
	freeReplyObject(rc("XADD " R "events * op put op del id p1"));
	freeReplyObject(rc("XADD " R "events * op del id p1 id p2"));
	cp_put("mark", "a", "192.0.2.1:20002", "b", "192.0.2.1:20003", "mode", "passthrough",
	       NULL);
	POLL_UNTIL(live("mark"), 2000);
	cr_assert(live("p1"), "a malformed entry ended a pair whose hash exists");
	cr_assert(!ended_with("p1", "deleted"));
	cr_assert_eq(duet_sync_full_loads(s), 1);
}

Test(sync, del_whose_hash_exists_is_a_put_and_a_replayed_del_ends_nothing)
{
	struct duet_addr moved;
	const char *st;

	sync_start();
	cp_put("p1", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough",
	       NULL);
	POLL_UNTIL(duet_sync_connected(s) && live("p1"), 5000);

	/* The pair is deleted and created again under its id; the del's
	 * entry is then replayed (an outbox replay, a control plane retry). */
	cp_del("p1");
	cp_put("p1", "a", "192.0.2.1:20002", "b", "192.0.2.1:20003", "mode", "passthrough",
	       NULL);
	moved = ep("192.0.2.1:20002");
	POLL_UNTIL(duet_pair_find_endpoint(t, &moved, NULL) >= 0, 2000);
	freeReplyObject(rc("XADD " R "events * op del id p1"));
	/* A del that carries a change: the hash says idle_ms 7000 now. */
	freeReplyObject(rc("HSET " R "pair:p1 idle_ms 7000"));
	freeReplyObject(rc("XADD " R "events * op del id p1"));
	cp_put("mark", "a", "192.0.2.1:20004", "b", "192.0.2.1:20005", "mode", "passthrough",
	       NULL);
	POLL_UNTIL(live("mark"), 2000);
	cr_assert(live("p1"), "a del whose hash exists ended the pair");
	cr_assert_eq(spec_of(t, (uint32_t)duet_pair_find(t, "p1"))->idle_ms, 7000,
		     "a del whose hash exists is applied as a put");
	st = hget(R "stats:p1", "state");
	cr_assert_str_neq(st, "ended");

	/* And a del whose hash is gone still ends it. */
	cp_del("p1");
	POLL_UNTIL(!live("p1"), 2000);
}

Test(sync, resync_gives_an_endpoint_to_its_new_owner_whatever_the_scan_order)
{
	sync_start();
	cp_put("old", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough",
	       NULL);
	cp_put("mover", "a", "192.0.2.1:20002", "b", "192.0.2.1:20003", "mode", "passthrough",
	       NULL);
	POLL_UNTIL(duet_sync_connected(s), 5000);
	cr_assert_eq(duet_pair_count(t), 2);

	/* Unseen by duetd: "old" is deleted and "new" takes one of its
	 * endpoints; "mover" moves off 20002 and "taker" takes it. The scan
	 * meets the new owners while the old ones still hold the endpoints. */
	cp_del("old");
	cp_put("new", "a", "192.0.2.1:20000", "b", "192.0.2.1:20004", "mode", "passthrough",
	       NULL);
	cp_put("mover", "a", "192.0.2.1:20005", "b", "192.0.2.1:20003", "mode", "passthrough",
	       NULL);
	cp_put("taker", "a", "192.0.2.1:20002", "b", "192.0.2.1:20006", "mode", "passthrough",
	       NULL);
	freeReplyObject(rc("XTRIM " R "events MAXLEN 0"));
	POLL_UNTIL(duet_sync_full_loads(s) == 2 && duet_sync_connected(s), 3000);
	cr_assert(!live("old"));
	cr_assert(live("new"));
	cr_assert(live("mover"));
	cr_assert(live("taker"));
	cr_assert_eq(duet_sync_rejected(s), 0);
	POLL_UNTIL(strcmp(hget(R "stats:taker", "state"), "waiting") == 0, 2000);

	/* A real conflict is still refused at the end of the load. */
	cp_put("dup", "a", "192.0.2.1:20000", "b", "192.0.2.1:20007", "mode", "passthrough",
	       NULL);
	freeReplyObject(rc("XTRIM " R "events MAXLEN 0"));
	POLL_UNTIL(duet_sync_full_loads(s) == 3 && duet_sync_connected(s), 3000);
	cr_assert(!live("dup"));
	cr_assert(live("new"));
	cr_assert_str_eq(hget(R "stats:dup", "reason"),
			 "endpoint 192.0.2.1:20000 of leg a is used by another pair");
}

/* duetd stops and starts again on the same Redis: a new table, a new
 * sync, a full load. */
static void
restart_duetd(void)
{
	/* A clean stop, connected: the lease is given back (the next sync
	 * has another token, in this same process). */
	POLL_UNTIL(duet_sync_connected(s), 5000);
	duet_sync_destroy(s);
	s = NULL;
	duet_pair_table_free(t);
	t = sync_table_new(64);
	cr_assert_not_null(t);
	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);
}

Test(sync, a_record_refused_for_a_full_table_is_applied_when_a_slot_frees)
{
	duet_pair_table_free(t);
	t = sync_table_new(2);
	cr_assert_not_null(t);
	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);
	cp_put("f1", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough", NULL);
	cp_put("f2", "a", "192.0.2.1:20002", "b", "192.0.2.1:20003", "mode", "passthrough", NULL);
	cp_put("f3", "a", "192.0.2.1:20004", "b", "192.0.2.1:20005", "mode", "passthrough", NULL);
	POLL_UNTIL(live("f1") && live("f2") && duet_sync_rejected(s) == 1, 3000);
	cr_assert(!live("f3"));
	POLL_UNTIL(strcmp(hget(R "stats:f3", "reason"), "pair table full (2 pairs)") == 0, 2000);
	POLL_UNTIL(strcmp(hget(R "relay", "waiting_for_slot"), "1") == 0, 2000);
	cr_assert_str_eq(hget(R "relay", "capacity"), "2");

	/* f1 goes: f3 takes the slot, with no new event for it. */
	cp_del("f1");
	POLL_UNTIL(live("f3"), 3000);
	cr_assert(live("f2") && !live("f1"));
	POLL_UNTIL(strcmp(hget(R "stats:f3", "state"), "waiting") == 0, 2000);
	POLL_UNTIL(strcmp(hget(R "relay", "waiting_for_slot"), "0") == 0, 2000);
}

Test(sync, conflict_keeps_its_first_winner_across_restarts)
{
	char id[16], b[32];
	unsigned int round, k;

	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);
	/* Ten records claim endpoint 192.0.2.1:20000 in turn: the first one
	 * that came in is the call, the nine later ones are refused. */
	for (k = 0; k < 10; k++) {
		snprintf(id, sizeof(id), "c%u", k);
		snprintf(b, sizeof(b), "192.0.2.2:%u", 20000 + k);
		cp_put(id, "a", "192.0.2.1:20000", "b", b, "mode", "passthrough", NULL);
	}
	POLL_UNTIL(live("c0") && duet_sync_rejected(s) == 9, 3000);
	POLL_UNTIL(strcmp(hget(R "stats:c0", "state"), "waiting") == 0 &&
			   strcmp(hget(R "stats:c9", "state"), "rejected") == 0,
		   3000);

	/* Restarts meet the records in SCAN order, which changes with each
	 * Redis start (its hash seed): the call must keep the endpoint. */
	for (round = 0; round < 3; round++) {
		restart_duetd();
		POLL_UNTIL(duet_sync_full_loads(s) == 1 && duet_sync_connected(s), 3000);
		cr_assert(live("c0"), "round %u: the call lost its endpoint to a refused record",
			  round);
		for (k = 1; k < 10; k++) {
			snprintf(id, sizeof(id), "c%u", k);
			cr_assert(!live(id), "round %u: %s runs", round, id);
		}
		POLL_UNTIL(strcmp(hget(R "stats:c0", "state"), "waiting") == 0, 3000);
		cr_assert_str_eq(hget(R "stats:c5", "state"), "rejected");
		cr_assert_str_eq(hget(R "stats:c5", "reason"),
				 "endpoint 192.0.2.1:20000 of leg a is used by another pair");
		/* Let the writes land, then a new Redis process (AOF kept): a
		 * new hash seed, another SCAN order. */
		poll_for(300);
		redis_stop();
		redis_start();
		POLL_UNTIL(duet_sync_reconnects(s) == 1 && duet_sync_connected(s), 5000);
	}
}

Test(sync, stream_deleted_while_following_triggers_a_full_resync_that_holds_the_lost_pairs)
{
	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);
	cp_put("a1", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough", NULL);
	cp_put("a2", "a", "192.0.2.1:20002", "b", "192.0.2.1:20003", "mode", "passthrough", NULL);
	POLL_UNTIL(live("a1") && live("a2"), 2000);
	/* FLUSHALL: Redis lost everything. A reload would end every pair:
	 * more than resync_hold_percent (50), so they are held, forwarding. */
	freeReplyObject(rc("FLUSHALL"));
	POLL_UNTIL(duet_sync_full_loads(s) == 2 && duet_sync_connected(s), 3000);
	cr_assert(live("a1") && live("a2"), "the lost pairs were ended");
	POLL_UNTIL(strcmp(hget(R "relay", "resync_held"), "2") == 0, 2000);
	/* Their endpoints are not seeded back into free. */
	POLL_UNTIL(rc_int("SCARD " R "free") == 16, 2000);
	cr_assert_eq(rc_int("SISMEMBER " R "free 192.0.2.1:20000"), 0);

	/* New pairs work meanwhile, and a record in Redis wins a held pair's
	 * endpoint. */
	cp_put("n1", "a", "192.0.2.1:20004", "b", "192.0.2.1:20005", "mode", "passthrough", NULL);
	cp_put("n2", "a", "192.0.2.1:20002", "b", "192.0.2.1:20006", "mode", "passthrough", NULL);
	POLL_UNTIL(live("n1") && live("n2") && !live("a2"), 2000);
	POLL_UNTIL(ended_with("a2", "deleted"), 2000);
	cr_assert(live("a1"));
	POLL_UNTIL(strcmp(hget(R "relay", "resync_held"), "1") == 0, 2000);

	/* The control plane confirms (duetctl resync --confirm): a1 ends. */
	freeReplyObject(rc("INCR " R "epoch"));
	POLL_UNTIL(!live("a1"), 3000);
	POLL_UNTIL(ended_with("a1", "deleted"), 2000);
	cr_assert(live("n1") && live("n2"));
	POLL_UNTIL(strcmp(hget(R "relay", "resync_held"), "0") == 0, 2000);
	/* The held pairs' endpoints are free again, except 20002, which n2
	 * took: 16 + 3 (n1 and n2 were written by hand, bypassing the
	 * scripts, so their other endpoints stayed in free as seeded). */
	POLL_UNTIL(rc_int("SCARD " R "free") == 19, 2000);
	cr_assert_eq(rc_int("SISMEMBER " R "free 192.0.2.1:20000"), 1);
	cr_assert_eq(rc_int("SISMEMBER " R "free 192.0.2.1:20003"), 1);
	cr_assert_eq(rc_int("SISMEMBER " R "free 192.0.2.1:20002"), 0);
}

Test(sync, a_reload_that_ends_a_few_pairs_ends_them_without_holding)
{
	char id[8], a[32], b[32];
	unsigned int k;

	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);
	for (k = 0; k < 4; k++) {
		snprintf(id, sizeof(id), "k%u", k);
		snprintf(a, sizeof(a), "192.0.2.1:%u", 20000 + 2 * k);
		snprintf(b, sizeof(b), "192.0.2.1:%u", 20001 + 2 * k);
		cp_put(id, "a", a, "b", b, "mode", "passthrough", NULL);
	}
	POLL_UNTIL(live("k3"), 2000);
	/* One of four deleted unseen, its entry trimmed away: 25 %, under
	 * the 50 % of resync_hold_percent, so it simply ends. */
	freeReplyObject(rc("DEL " R "pair:k1"));
	freeReplyObject(rc("XADD " R "events * op del id k1"));
	freeReplyObject(rc("XTRIM " R "events MAXLEN 0"));
	POLL_UNTIL(!live("k1"), 3000);
	cr_assert_eq(duet_sync_full_loads(s), 2);
	cr_assert(live("k0") && live("k2") && live("k3"));
	POLL_UNTIL(strcmp(hget(R "relay", "resync_held"), "0") == 0, 2000);
}

/* Poll for ms of real time with the wall clock shifted by offset_ms. */
static void
poll_shifted(int64_t offset_ms, uint64_t ms)
{
	uint64_t end = mono_ms() + ms;

	while (mono_ms() < end)
		duet_sync_poll(s, (uint64_t)((int64_t)now_ms() + offset_ms));
}

Test(sync, a_wall_clock_step_neither_stalls_the_heartbeat_nor_ends_pairs_early)
{
	const int64_t hour = 3600000;
	char before[32];

	sync_start();
	cp_put("w", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough",
	       "idle_ms", "5000", NULL);
	POLL_UNTIL(duet_sync_connected(s) && live("w"), 5000);
	POLL_UNTIL(hget(R "relay", "updated_ms")[0] != '\0', 2000);

	/* An hour forward: w has been idle for half a second, not an hour. */
	poll_shifted(hour, 600);
	cr_assert(live("w"), "a wall-clock step forward ended an idle pair early");
	cr_assert_gt(strtoull(hget(R "relay", "updated_ms"), NULL, 10), (uint64_t)(now_ms() + hour / 2),
		     "the heartbeat does not carry the (stepped) wall clock");

	/* And back two hours: the heartbeat keeps its rhythm (stats every
	 * 100 ms), it does not wait for the clock to catch up. */
	poll_shifted(-hour, 150);
	snprintf(before, sizeof(before), "%s", hget(R "relay", "updated_ms"));
	poll_shifted(-hour, 500);
	cr_assert_str_neq(hget(R "relay", "updated_ms"), before,
			  "no heartbeat for 500 ms after a step back");
	cr_assert_lt(strtoull(hget(R "relay", "updated_ms"), NULL, 10), (uint64_t)now_ms());
	cr_assert(live("w"));
	/* Idle timers still run: on the monotonic clock, w ends 5 s after its
	 * creation whatever the wall clock says. */
	{
		uint64_t end = mono_ms() + 6000;

		while (live("w") && mono_ms() < end)
			duet_sync_poll(s, (uint64_t)((int64_t)now_ms() - hour));
	}
	cr_assert(!live("w"), "w never idled out");
	/* Its ended entry says how long it lived by CLOCK_MONOTONIC: about 5 s, not
	 * the wall clock's difference (0 after a step back of an hour). */
	POLL_UNTIL(ended_with("w", "idle"), 2000);
	{
		redisReply *r = rc("XREVRANGE " R "ended + - COUNT 1");
		redisReply *fv = r->element[0]->element[1];
		uint64_t dur = 0;
		size_t j;

		for (j = 0; j + 1 < fv->elements; j += 2)
			if (strcmp(fv->element[j]->str, "duration_ms") == 0)
				dur = strtoull(fv->element[j + 1]->str, NULL, 10);
		freeReplyObject(r);
		cr_assert(dur >= 4500 && dur <= 7500, "duration_ms %" PRIu64 " for about 5 s", dur);
	}
}

/* pair_create.lua puts pairs only on a running relay: a clean stop marks
 * the heartbeat stopped (it stays until its TTL, with the last figures),
 * and the next run's first heartbeat clears the mark. */
Test(sync, a_stopped_relay_refuses_creates_until_it_runs_again)
{
	redisReply *r;

	r = cp_create("early", NULL, NULL);
	cr_assert(r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NORELAY", 7) == 0,
		  "create before any heartbeat: %s", r->type == REDIS_REPLY_ERROR ? r->str : "ok");
	freeReplyObject(r);

	sync_start();
	POLL_UNTIL(rc_int("EXISTS " R "relay") == 1 && rc_int("SCARD " R "free") == 20, 5000);
	r = cp_create("run1", NULL, NULL);
	cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s", r->type == REDIS_REPLY_ERROR ? r->str : "");
	freeReplyObject(r);
	POLL_UNTIL(live("run1"), 2000);

	duet_sync_destroy(s);
	s = NULL;
	cr_assert_gt(rc_int("PTTL " R "relay"), 0, "the heartbeat keeps its TTL");
	cr_assert_neq(hget(R "relay", "stopped_ms")[0], '\0');
	r = cp_create("run2", NULL, NULL);
	cr_assert(r->type == REDIS_REPLY_ERROR &&
			  strcmp(r->str, "NORELAY relay t1 was stopped") == 0,
		  "create on a stopped relay: %s", r->type == REDIS_REPLY_ERROR ? r->str : "ok");
	freeReplyObject(r);
	cr_assert_eq(rc_int("EXISTS " R "pair:run2"), 0);

	sync_start();
	POLL_UNTIL(hget(R "relay", "stopped_ms")[0] == '\0', 5000);
	r = cp_create("run2", NULL, NULL);
	cr_assert_eq(r->type, REDIS_REPLY_ARRAY, "%s", r->type == REDIS_REPLY_ERROR ? r->str : "");
	freeReplyObject(r);
	POLL_UNTIL(live("run2"), 2000);
}

Test(sync, expired_pair_ends_and_frees_its_endpoints)
{
	char past[24];
	redisReply *r;

	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);
	cr_assert_eq(rc_int("SCARD " R "free"), 20);
	POLL_UNTIL(rc_int("EXISTS " R "relay") == 1, 2000); /* the first heartbeat */
	snprintf(past, sizeof(past), "%llu", (unsigned long long)(now_ms() / 1000 - 1));
	r = cp_create("exp", "expires", past);
	cr_assert_eq(r->type, REDIS_REPLY_ARRAY);
	freeReplyObject(r);
	cr_assert_eq(rc_int("SCARD " R "free"), 18);
	POLL_UNTIL(ended_with("exp", "expired"), 3000);
	cr_assert(!live("exp"));
	POLL_UNTIL(rc_int("EXISTS " R "pair:exp") == 0, 2000);
	cr_assert_eq(rc_int("SCARD " R "free"), 20, "pair_delete.lua gave the endpoints back");
	cr_assert_eq(rc_int("HLEN " R "alloc"), 0);
	POLL_UNTIL(strcmp(hget(R "stats:exp", "state"), "ended") == 0, 2000);
	cr_assert_str_eq(hget(R "stats:exp", "reason"), "expired");

	/* A future expiry does not end the pair early. */
	snprintf(past, sizeof(past), "%llu", (unsigned long long)(now_ms() / 1000 + 3600));
	freeReplyObject(cp_create("later", "expires", past));
	POLL_UNTIL(live("later"), 2000);
	poll_for(300);
	cr_assert(live("later"));
}

Test(sync, idle_pair_ends_only_when_both_legs_are_silent)
{
	uint64_t end;

	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);
	cp_put("talk", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough",
	       "idle_ms", "300", NULL);
	cp_put("quiet", "a", "192.0.2.1:20002", "b", "192.0.2.1:20003", "mode", "passthrough",
	       "idle_ms", "300", NULL);
	cp_put("forever", "a", "192.0.2.1:20004", "b", "192.0.2.1:20005", "mode", "passthrough",
	       "idle_ms", "0", NULL);
	POLL_UNTIL(live("talk") && live("quiet") && live("forever"), 2000);

	/* Only leg b of "talk" hears anything, every 50 ms for 900 ms. */
	end = mono_ms() + 900;
	while (mono_ms() < end) {
		worker_rx("talk", 1, "203.0.113.9:7000", 100);
		poll_for(50);
	}
	cr_assert(!live("quiet"), "a pair that never received idles out from creation");
	cr_assert(live("talk"), "one leg receiving keeps the pair alive");
	cr_assert(live("forever"), "idle_ms 0 never idles out");
	POLL_UNTIL(ended_with("quiet", "idle"), 2000);
	POLL_UNTIL(!live("talk"), 2000);
	POLL_UNTIL(ended_with("talk", "idle"), 2000);
}

Test(sync, short_slices_still_write_every_stats_hash_and_end_idle_pairs)
{
	char id[16], a[32], b[32];
	int i;

	sync_start();
	duet_sync_set_short_slices(s, true);
	POLL_UNTIL(duet_sync_connected(s), 5000);
	/* All ten pairs the endpoints allow; the last one idles out. */
	for (i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "sl%d", i);
		snprintf(a, sizeof(a), "192.0.2.1:%d", 20000 + i);
		snprintf(b, sizeof(b), "192.0.2.2:%d", 20000 + i);
		cp_put(id, "a", a, "b", b, "mode", "passthrough", "idle_ms", i == 9 ? "300" : "0",
		       NULL);
	}
	for (i = 0; i < 9; i++) {
		snprintf(id, sizeof(id), "sl%d", i);
		POLL_UNTIL(live(id), 2000);
		snprintf(a, sizeof(a), R "stats:%s", id);
		POLL_UNTIL(strcmp(hget(a, "state"), "waiting") == 0, 2000);
	}
	/* Rounds still get through the table: new figures reach the hash. */
	worker_rx("sl4", 1, "203.0.113.9:7000", 100);
	POLL_UNTIL(strcmp(hget(R "stats:sl4", "b_pkts"), "1") == 0, 3000);
	POLL_UNTIL(ended_with("sl9", "idle"), 3000);
	cr_assert(live("sl0"), "idle_ms 0 stays");
}

Test(sync, stats_and_heartbeat_carry_figures_but_no_client_address)
{
	char b_last[32], *logtext;
	redisReply *keys;
	size_t i, j, loglen;
	uint64_t t0;
	long long pttl;
	FILE *lf;

	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);
	cp_put("st", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough",
	       "a_src", PIN_A ":4000", NULL);
	POLL_UNTIL(live("st"), 2000);
	POLL_UNTIL(strcmp(hget(R "stats:st", "state"), "waiting") == 0, 2000);
	cr_assert_str_eq(hget(R "stats:st", "a_state"), "latched", "pinned leg");
	cr_assert_str_eq(hget(R "stats:st", "b_state"), "waiting");

	t0 = now_ms();
	worker_rx("st", 1, LATCH_B ":5004", 172);
	worker_rx("st", 1, LATCH_B ":5004", 172);
	worker_rx("st", 0, PIN_A ":4000", 160);
	lstats[0].rx_pkts = 1000;
	lstats[0].fwd_pkts = 900;
	lstats[0].fwd_bytes = 144000;
	lstats[0].drops[DUET_DROP_TOO_SHORT] = 3;
	lstats[0].drops[DUET_DROP_TX_FULL] = 4;
	POLL_UNTIL(strcmp(hget(R "stats:st", "b_pkts"), "2") == 0, 2000);
	cr_assert_str_eq(hget(R "stats:st", "state"), "active");
	cr_assert_str_eq(hget(R "stats:st", "mode"), "passthrough");
	cr_assert_str_eq(hget(R "stats:st", "b_bytes"), "344");
	cr_assert_str_eq(hget(R "stats:st", "a_pkts"), "1");
	cr_assert_str_eq(hget(R "stats:st", "b_state"), "latched");
	cr_assert_str_eq(hget(R "stats:st", "a_drop_src"), "0");
	cr_assert_str_eq(hget(R "stats:st", "b_drop_peer_unlatched"), "0");
	snprintf(b_last, sizeof(b_last), "%s", hget(R "stats:st", "b_last_ms"));
	cr_assert_geq(strtoull(b_last, NULL, 10), t0 - 50);
	cr_assert_leq(strtoull(b_last, NULL, 10), now_ms() + 50);
	cr_assert_neq(hget(R "stats:st", "created_ms")[0], '\0');
	cr_assert_neq(hget(R "stats:st", "updated_ms")[0], '\0');

	POLL_UNTIL(strcmp(hget(R "relay", "rx_pkts"), "1000") == 0, 2000);
	cr_assert_str_eq(hget(R "relay", "version"), DUET_VERSION);
	cr_assert_str_eq(hget(R "relay", "pairs"), "1");
	cr_assert_str_eq(hget(R "relay", "capacity"), "64");
	cr_assert_str_eq(hget(R "relay", "endpoints"), "20");
	cr_assert_str_eq(hget(R "relay", "endpoints_free"), "18");
	cr_assert_str_eq(hget(R "relay", "workers"), "1");
	cr_assert_str_eq(hget(R "relay", "fwd_pkts"), "900");
	cr_assert_str_eq(hget(R "relay", "fwd_bytes"), "144000");
	cr_assert_str_eq(hget(R "relay", "drops"), "7");
	cr_assert_str_eq(hget(R "relay", "drop_too_short"), "3");
	cr_assert_str_eq(hget(R "relay", "drop_tx_full"), "4");
	for (i = 0; i < DUET_DROP_MAX; i++) {
		char f[64];

		snprintf(f, sizeof(f), "drop_%s", duet_drop_name((enum duet_drop)i));
		cr_assert_neq(hget(R "relay", f)[0], '\0', "heartbeat lacks %s", f);
	}
	cr_assert_neq(hget(R "relay", "rx_pps")[0], '\0');
	cr_assert_neq(hget(R "relay", "started_ms")[0], '\0');
	cr_assert_str_eq(hget(R "relay", "rejected"), "0");
	pttl = rc_int("PTTL " R "relay");
	cr_assert(pttl > 0 && pttl <= 5000, "PTTL %lld", pttl);

	/* End the pair so the ended stream and final stats exist too. */
	cp_del("st");
	POLL_UNTIL(ended_with("st", "deleted"), 2000);

	/* No value duetd wrote, and no line it logged, holds a client address.
	 * (The pair hash holds the pin: the control plane wrote that.) */
	keys = rc("KEYS duet:*");
	cr_assert_gt(keys->elements, 3);
	for (i = 0; i < keys->elements; i++) {
		const char *k = keys->element[i]->str;
		redisReply *v;

		if (strncmp(k, R "pair:", strlen(R "pair:")) == 0)
			continue;
		v = rc("TYPE %s", k);
		if (strcmp(v->str, "hash") == 0) {
			freeReplyObject(v);
			v = rc("HGETALL %s", k);
			for (j = 0; j < v->elements; j++) {
				cr_assert_null(strstr(v->element[j]->str, PIN_A), "%s", k);
				cr_assert_null(strstr(v->element[j]->str, LATCH_B), "%s", k);
			}
		} else if (strcmp(v->str, "stream") == 0) {
			freeReplyObject(v);
			v = rc("XRANGE %s - +", k);
			for (j = 0; j < v->elements; j++) {
				redisReply *fv = v->element[j]->element[1];
				size_t m;

				for (m = 0; m < fv->elements; m++) {
					cr_assert_null(strstr(fv->element[m]->str, PIN_A), "%s", k);
					cr_assert_null(strstr(fv->element[m]->str, LATCH_B), "%s",
						       k);
				}
			}
		}
		freeReplyObject(v);
	}
	freeReplyObject(keys);

	fflush(logf);
	lf = fopen(log_path, "r");
	cr_assert_not_null(lf);
	logtext = calloc(1, 1 << 20);
	loglen = fread(logtext, 1, (1 << 20) - 1, lf);
	fclose(lf);
	cr_assert_gt(loglen, 0, "duet.sync logged nothing at all?");
	cr_assert_not_null(strstr(logtext, "connected to Redis"));
	cr_assert_null(strstr(logtext, PIN_A));
	cr_assert_null(strstr(logtext, LATCH_B));
	free(logtext);
}

/* With many workers the heartbeat names each one's share (the 64 that conf
 * allows fit one command), and the totals are their sums. */
Test(sync, heartbeat_gives_each_worker_s_share_up_to_64_workers)
{
	char f[48], want[32];
	unsigned int w;

	for (w = 0; w < 64; w++) {
		lstats[w].rx_pkts = 1000 + w;
		lstats[w].fwd_pkts = 100 + w;
		lstats[w].drops[DUET_DROP_TOO_SHORT] = w;
	}
	s = duet_sync_create(&conf, t, lstats, 64);
	cr_assert_not_null(s);
	POLL_UNTIL(duet_sync_connected(s), 5000);
	POLL_UNTIL(strcmp(hget(R "relay", "workers"), "64") == 0, 2000);
	for (w = 0; w < 64; w++) {
		snprintf(f, sizeof(f), "worker%u_rx_pkts", w);
		snprintf(want, sizeof(want), "%u", 1000 + w);
		cr_assert_str_eq(hget(R "relay", f), want, "%s", f);
		snprintf(f, sizeof(f), "worker%u_fwd_pkts", w);
		snprintf(want, sizeof(want), "%u", 100 + w);
		cr_assert_str_eq(hget(R "relay", f), want, "%s", f);
		snprintf(f, sizeof(f), "worker%u_drops", w);
		snprintf(want, sizeof(want), "%u", w);
		cr_assert_str_eq(hget(R "relay", f), want, "%s", f);
	}
	cr_assert_str_eq(hget(R "relay", "worker64_rx_pkts"), "", "no worker past the last");
	/* 64 * 1000 + (0 + ... + 63) */
	cr_assert_str_eq(hget(R "relay", "rx_pkts"), "66016");
	cr_assert_str_eq(hget(R "relay", "drops"), "2016");
}

/* A relay restarted with fewer workers, before its hash expired: the old
 * process's extra workers are gone from the first heartbeat on. */
Test(sync, a_restart_with_fewer_workers_drops_the_old_workers_fields)
{
	freeReplyObject(rc("HSET " R "relay worker1_rx_pkts 5 worker3_rx_pkts 9 worker3_drops 1 "
			   "worker63_fwd_pkts 2"));
	lstats[1].rx_pkts = 77;
	s = duet_sync_create(&conf, t, lstats, 2);
	cr_assert_not_null(s);
	POLL_UNTIL(duet_sync_connected(s), 5000);
	POLL_UNTIL(strcmp(hget(R "relay", "worker1_rx_pkts"), "77") == 0, 2000);
	cr_assert_str_eq(hget(R "relay", "worker3_rx_pkts"), "");
	cr_assert_str_eq(hget(R "relay", "worker3_drops"), "");
	cr_assert_str_eq(hget(R "relay", "worker63_fwd_pkts"), "");
	cr_assert_str_eq(hget(R "relay", "worker0_rx_pkts"), "0");
}

Test(sync, unchanged_pairs_are_not_rewritten)
{
	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);
	cp_put("u", "a", "192.0.2.1:20000", "b", "192.0.2.1:20001", "mode", "passthrough", NULL);
	POLL_UNTIL(strcmp(hget(R "stats:u", "state"), "waiting") == 0, 2000);
	/* Remove the hash: with no traffic it must not come back. */
	freeReplyObject(rc("DEL " R "stats:u"));
	poll_for(400);
	cr_assert_eq(rc_int("EXISTS " R "stats:u"), 0);
	/* Traffic moves the figures: written at the next round. */
	worker_rx("u", 0, "203.0.113.9:7000", 100);
	POLL_UNTIL(strcmp(hget(R "stats:u", "a_pkts"), "1") == 0, 2000);
}

/* A pair's HGETALL reply, built by hand as hiredis would: the key values
 * are wiped in place before hiredis frees the reply, and nothing else is. */
Test(sync, every_key_value_of_a_record_reply_is_wiped_and_nothing_else)
{
	static const char *const fv[][2] = {
		{"a", "192.0.2.1:20000"},
		{"a_in", "AES_CM_128_HMAC_SHA1_80 inline:YUlOTWFzdGVyS2V5QUFBQUFBQUFBQUFBQUFB"},
		{"mode", "rekey"},
		{"a_out", "AES_CM_128_HMAC_SHA1_80 inline:YU9VVG1hc3RlcktleUJCQkJCQkJCQkJCQkJC"},
		{"b_in", "AEAD_AES_128_GCM inline:YklObm1hc3RlcmtleUNDQ0NDQ0NDQ0NDQw"},
		{"b", "192.0.2.1:20001"},
		{"b_out", "AEAD_AES_256_GCM inline:Yk9VVG1hc3RlcmtleURERERERERERERERERERERERERERERERERERERE"},
	};
	enum { N = sizeof(fv) / sizeof(fv[0]) };
	redisReply el[2 * N], *elp[2 * N], top;
	char *text[2 * N];
	size_t i, j;

	memset(el, 0, sizeof(el));
	memset(&top, 0, sizeof(top));
	for (i = 0; i < 2 * N; i++) {
		text[i] = strdup(fv[i / 2][i % 2]);
		cr_assert_not_null(text[i]);
		el[i].type = REDIS_REPLY_STRING;
		el[i].str = text[i];
		el[i].len = strlen(text[i]);
		elp[i] = &el[i];
	}
	top.type = REDIS_REPLY_ARRAY;
	top.elements = 2 * N;
	top.element = elp;

	sync_wipe_key_values(&top);

	for (i = 0; i < N; i++) {
		const char *name = fv[i][0];
		bool key = strcmp(name, "a_in") == 0 || strcmp(name, "a_out") == 0 ||
			   strcmp(name, "b_in") == 0 || strcmp(name, "b_out") == 0;
		const redisReply *v = &el[2 * i + 1];

		cr_assert_str_eq(el[2 * i].str, name, "field name %s changed", name);
		cr_assert_eq(v->len, strlen(fv[i][1]));
		if (!key) {
			cr_assert_str_eq(v->str, fv[i][1], "value of %s changed", name);
			continue;
		}
		for (j = 0; j < v->len; j++)
			cr_assert_eq(v->str[j], 0, "%s: byte %zu of %zu not wiped", name, j, v->len);
	}
	for (i = 0; i < 2 * N; i++)
		free(text[i]);
}

/* ---- the full load's pipeline ---- */

/* A table for ports 20000 to 23999 of both addresses (8,000 endpoints),
 * in place of the fixture's: room for several SCAN pages of pairs. */
static void
big_table(uint32_t capacity)
{
	duet_pair_table_free(t);
	conf.port_max = 23999;
	t = sync_table_new(capacity);
	cr_assert_not_null(t);
}

/* n passthrough records <prefix>0.. on ports 20000 + i of both addresses,
 * written in one pipeline (no events: a load finds them). */
static void
cp_put_many(const char *prefix, unsigned int n)
{
	redisReply *r;
	unsigned int i;

	for (i = 0; i < n; i++)
		cr_assert_eq(redisAppendCommand(cp,
						"HSET " R "pair:%s%u a 192.0.2.1:%u b 192.0.2.2:%u "
						"mode passthrough",
						prefix, i, 20000 + i, 20000 + i),
			     REDIS_OK);
	for (i = 0; i < n; i++) {
		cr_assert_eq(redisGetReply(cp, (void **)&r), REDIS_OK);
		freeReplyObject(r);
	}
}

/* Calls of command `name` (lower case) since CONFIG RESETSTAT. */
static long long
command_calls(const char *name)
{
	redisReply *r = rc("INFO commandstats");
	char pat[64];
	const char *p;
	long long n = 0;

	snprintf(pat, sizeof(pat), "cmdstat_%s:calls=", name);
	p = strstr(r->str, pat);
	if (p != NULL)
		n = strtoll(p + strlen(pat), NULL, 10);
	freeReplyObject(r);
	return n;
}

/* The reason of rejected record id's stats hash, checked to say `what`. */
static void
assert_rejected_for(const char *id, const char *what)
{
	char key[128];

	snprintf(key, sizeof(key), R "stats:%s", id);
	cr_assert_str_eq(hget(key, "state"), "rejected", "record %s", id);
	cr_assert_not_null(strstr(hget(key, "reason"), what), "record %s: reason '%s', not '%s'",
			   id, hget(key, "reason"), what);
}

Test(sync, a_load_over_many_scan_pages_installs_every_good_record_and_refuses_each_hostile_one)
{
	enum { GOOD = 3500 }; /* SCAN pages of about 1,000 keys: four or more */
	char id[16];
	unsigned int i, polls = 0;
	uint64_t end;

	big_table(4096);
	cp_put_many("g", GOOD);
	/* Among them, records that break the contract in as many ways. */
	freeReplyObject(rc("HSET " R "pair:h-port a 192.0.2.1:29999 b 192.0.2.2:23990"));
	freeReplyObject(rc("HSET " R "pair:h-nul a %b b 192.0.2.2:23991", "192.0.2.1:23991\0x",
			   (size_t)17));
	freeReplyObject(rc("SET " R "pair:h-string 192.0.2.1:23992"));
	freeReplyObject(rc("HSET " R "pair:h-mode a 192.0.2.1:23993 b 192.0.2.2:23993 mode loud"));
	freeReplyObject(rc("HSET " R "pair:h-key a 192.0.2.1:23994 b 192.0.2.2:23994 mode verify "
			   "a_in junk b_in junk"));
	freeReplyObject(rc("HSET " R "pair:h-empty note nothing"));
	freeReplyObject(rc("HSET %s a 192.0.2.1:23995 b 192.0.2.2:23995", R "pair:h space"));

	sync_start();
	end = mono_ms() + 30000;
	while (!duet_sync_connected(s)) {
		cr_assert_lt(mono_ms(), end, "the load did not finish");
		duet_sync_poll(s, now_ms());
		polls++;
	}
	cr_assert_eq(duet_pair_count(t), GOOD);
	for (i = 0; i < GOOD; i++) {
		snprintf(id, sizeof(id), "g%u", i);
		cr_assert(live(id), "good record %s not loaded", id);
	}
	cr_assert_eq(s->load_seen, GOOD + 7);
	cr_assert_geq(polls, 4, "a load of several pages in %u polls", polls);
	cr_assert_eq(duet_sync_rejected(s), 7);
	/* Each refusal names what was wrong (written while the load ran). */
	POLL_UNTIL(strcmp(hget(R "stats:h-empty", "state"), "rejected") == 0, 2000);
	assert_rejected_for("h-port", "outside media range");
	assert_rejected_for("h-nul", "NUL byte");
	assert_rejected_for("h-string", "not a hash");
	assert_rejected_for("h-mode", "mode 'loud' unknown");
	assert_rejected_for("h-key", "a_in");
	assert_rejected_for("h-empty", "missing field");
	/* A key that does not name a pair gets no stats hash, only a log line. */
	cr_assert_eq(rc_int("EXISTS " R "stats:h space"), 0);
}

Test(sync, between_two_polls_of_a_load_the_link_is_free_and_the_next_pages_are_read_ahead)
{
	enum { GOOD = 3500 };
	const char *ping[1] = {"PING"};
	redisReply *r;

	big_table(4096);
	cp_put_many("g", GOOD);
	sync_start();
	/* Mid-load: some pages applied, more still to come. */
	POLL_UNTIL(s->phase == SYNC_PHASE_LOAD && duet_pair_count(t) > 0, 10000);
	cr_assert_lt(duet_pair_count(t), GOOD);
	cr_assert_gt(s->n_pages, 0, "no page read ahead between polls");
	/* The heartbeat, the lease and queued writes use the same link
	 * between polls: a command gets its own reply, not a record. */
	r = duet_redis_command(&s->r, 1, ping, NULL);
	cr_assert_not_null(r, "%s", s->r.errstr);
	cr_assert_eq(r->type, REDIS_REPLY_STATUS);
	cr_assert_str_eq(r->str, "PONG");
	freeReplyObject(r);
	POLL_UNTIL(duet_sync_connected(s), 30000);
	cr_assert_eq(duet_pair_count(t), GOOD);
	cr_assert_eq(duet_sync_rejected(s), 0);
}

#define KEY_A "AES_CM_128_HMAC_SHA1_80 inline:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNk"
#define KEY_B "AES_CM_128_HMAC_SHA1_80 inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk"

Test(sync, the_first_load_continues_keyed_pairs_srtp_streams_only_from_a_running_pairs_hash)
{
	struct duet_srtp_stream_state st[DUET_PAIR_SRTP_STATES_MAX];
	bool a_in = false, b_in = false;
	int slot, n, i;

	/* k1 ran before the restart: its streams continue. */
	cp_put("k1", "a", "192.0.2.1:20000", "b", "192.0.2.2:20000", "mode", "verify", "a_in",
	       KEY_A, "b_in", KEY_B, NULL);
	freeReplyObject(rc("HSET " R "stats:k1 state active a_srtp_in 4660:3:1000:17 "
			   "b_srtp_in 22136:0:5:2"));
	/* k2's stats hash is of another life of the id: not used. */
	cp_put("k2", "a", "192.0.2.1:20001", "b", "192.0.2.2:20001", "mode", "verify", "a_in",
	       KEY_A, "b_in", KEY_B, NULL);
	freeReplyObject(rc("HSET " R "stats:k2 state ended a_srtp_in 4661:7:9:1"));
	/* Passthrough pairs make no SRTP session: their stats are not read. */
	for (i = 0; i < 6; i++) {
		char id[8], a[32], b[32];

		snprintf(id, sizeof(id), "p%d", i);
		snprintf(a, sizeof(a), "192.0.2.1:%d", 20002 + i);
		snprintf(b, sizeof(b), "192.0.2.2:%d", 20002 + i);
		cp_put(id, "a", a, "b", b, "mode", "passthrough", NULL);
		freeReplyObject(rc("HSET " R "stats:%s state active", id));
	}
	freeReplyObject(rc("CONFIG RESETSTAT"));
	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);

	cr_assert_eq(duet_pair_count(t), 8);
	cr_assert_eq(s->srtp_restored, 1);
	slot = duet_pair_find(t, "k1");
	cr_assert_geq(slot, 0);
	n = duet_pair_srtp_state(t, (uint32_t)slot, st, DUET_PAIR_SRTP_STATES_MAX, NULL);
	cr_assert_eq(n, 2, "k1's restored streams: %d", n);
	for (i = 0; i < n; i++) {
		if (st[i].key == DUET_KEY_A_IN && st[i].ssrc == 4660)
			a_in = st[i].roc == 3 && st[i].seq == 1000 && st[i].srtcp == 17;
		if (st[i].key == DUET_KEY_B_IN && st[i].ssrc == 22136)
			b_in = st[i].roc == 0 && st[i].seq == 5 && st[i].srtcp == 2;
	}
	cr_assert(a_in && b_in, "k1's streams not continued where they were");
	slot = duet_pair_find(t, "k2");
	cr_assert_geq(slot, 0);
	cr_assert_eq(duet_pair_srtp_state(t, (uint32_t)slot, st, DUET_PAIR_SRTP_STATES_MAX, NULL), 0);
	/* Each record and its stats hash read once, in the same round trip
	 * (the six passthrough ones' SRTP fields are not looked at). */
	cr_assert_eq(command_calls("hgetall"), 16);
}

/*
 * Key lifetimes in the stats hash: `<key>_left` and `<key>_expired` for
 * each key the mode takes; a key used up (its session's count moved as a
 * worker would) shows at the next round, and a rotation to a new key
 * shows it unused again.
 */
Test(sync, stats_hash_shows_each_keys_lifetime_and_what_it_refused)
{
	struct duet_srtp_ctx *d;
	int slot;

	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);
	cp_put("kl", "a", "192.0.2.1:20000", "b", "192.0.2.2:20000", "mode", "verify", "a_in",
	       KEY_A "|16", "b_in", KEY_B, NULL);
	POLL_UNTIL(strcmp(hget(R "stats:kl", "a_in_left"), "16") == 0, 2000);
	cr_assert_str_eq(hget(R "stats:kl", "a_in_expired"), "0");
	cr_assert_str_eq(hget(R "stats:kl", "b_in_left"), "2147483648");
	cr_assert_str_eq(hget(R "stats:kl", "b_in_expired"), "0");
	cr_assert_eq(rc_int("HEXISTS " R "stats:kl a_out_left"), 0, "verify takes no a_out");

	slot = duet_pair_find(t, "kl");
	cr_assert_geq(slot, 0);
	d = duet_pair_srtp_at(t, 2 * (uint32_t)slot);
	cr_assert_not_null(d);
	/* What a worker's 16 packets and 3 refusals leave. */
	__atomic_store_n(&d->in->life.used[0], 16, __ATOMIC_RELAXED);
	__atomic_store_n(&d->in->life.expired, 3, __ATOMIC_RELAXED);
	POLL_UNTIL(strcmp(hget(R "stats:kl", "a_in_expired"), "3") == 0, 2000);
	cr_assert_str_eq(hget(R "stats:kl", "a_in_left"), "0");

	/* The control plane rotates a_in. */
	cp_put("kl", "a", "192.0.2.1:20000", "b", "192.0.2.2:20000", "mode", "verify", "a_in",
	       KEY_B "|2^20", "b_in", KEY_B, NULL);
	POLL_UNTIL(strcmp(hget(R "stats:kl", "a_in_expired"), "0") == 0, 2000);
	cr_assert_str_eq(hget(R "stats:kl", "a_in_left"), "1048576");
	cr_assert_eq(duet_pair_find(t, "kl"), slot, "rotated in place");
}

/* Leg `leg` of live pair id's counters, as the table sums them. */
static struct duet_leg_counters
counters_of(const char *id, unsigned int leg)
{
	struct duet_leg_counters c;
	int slot = duet_pair_find(t, id);

	cr_assert_geq(slot, 0, "%s is not live", id);
	duet_pair_counters(t, (uint32_t)slot, leg, &c);
	return c;
}

/* Field of the newest entry of the ended stream, as a number (0: none). */
static uint64_t
last_ended_u64(const char *field)
{
	redisReply *r = rc("XREVRANGE " R "ended + - COUNT 1"), *fv;
	uint64_t v = 0;
	size_t j;

	cr_assert_eq(r->elements, 1, "no ended entry");
	fv = r->element[0]->element[1];
	for (j = 0; j + 1 < fv->elements; j += 2)
		if (strcmp(fv->element[j]->str, field) == 0)
			v = strtoull(fv->element[j + 1]->str, NULL, 10);
	freeReplyObject(r);
	return v;
}

static uint64_t
stat_u64(const char *id, const char *field)
{
	char key[128];

	snprintf(key, sizeof(key), R "stats:%s", id);
	return strtoull(hget(key, field), NULL, 10);
}

Test(sync, a_restart_continues_created_ms_and_counters_and_the_ended_entry_covers_the_call)
{
	struct duet_leg_counters a, b;
	uint64_t created, t_stop, dur;
	int i;

	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);
	cp_put("rs", "a", "192.0.2.1:20000", "b", "192.0.2.2:20000", "mode", "passthrough", NULL);
	POLL_UNTIL(live("rs"), 2000);
	for (i = 0; i < 5; i++)
		worker_rx("rs", 0, PIN_A ":4000", 100);
	for (i = 0; i < 3; i++)
		worker_rx("rs", 1, LATCH_B ":5004", 50);
	POLL_UNTIL(stat_u64("rs", "a_pkts") == 5 && stat_u64("rs", "b_bytes") == 150, 2000);
	created = stat_u64("rs", "created_ms");
	cr_assert_str_eq(hget(R "stats:rs", "a"), "192.0.2.1:20000");
	cr_assert_str_eq(hget(R "stats:rs", "b"), "192.0.2.2:20000");
	/* Some time passes across the restart: the duration covers it. */
	poll_for(300);
	t_stop = now_ms();

	restart_duetd();
	POLL_UNTIL(duet_sync_full_loads(s) == 1, 3000);
	cr_assert(live("rs"));
	cr_assert_eq(s->resumed, 1);
	cr_assert_eq(duet_pair_created_ms(t, (uint32_t)duet_pair_find(t, "rs")), created);
	a = counters_of("rs", 0);
	b = counters_of("rs", 1);
	cr_assert(a.pkts == 5 && a.bytes == 500 && b.pkts == 3 && b.bytes == 150,
		  "counters after the restart: a %lu/%lu b %lu/%lu", (unsigned long)a.pkts,
		  (unsigned long)a.bytes, (unsigned long)b.pkts, (unsigned long)b.bytes);

	/* The stats hash keeps counting up from where it was. */
	worker_rx("rs", 0, PIN_A ":4000", 100);
	worker_rx("rs", 0, PIN_A ":4000", 100);
	POLL_UNTIL(stat_u64("rs", "a_pkts") == 7, 2000);
	cr_assert_eq(stat_u64("rs", "a_bytes"), 700);
	cr_assert_eq(stat_u64("rs", "created_ms"), created);

	/* Its ended entry (the only one) covers the whole call. */
	cp_del("rs");
	POLL_UNTIL(!live("rs") && ended_with("rs", "deleted"), 2000);
	cr_assert_eq(stat_u64("rs", "a_pkts"), 7);
	cr_assert_eq(last_ended_u64("created_ms"), created);
	cr_assert_eq(last_ended_u64("a_pkts"), 7);
	cr_assert_eq(last_ended_u64("b_bytes"), 150);
	dur = last_ended_u64("duration_ms");
	cr_assert_geq(dur + 50, t_stop - created,
		      "duration %lu ms does not cover the %lu ms before the restart",
		      (unsigned long)dur, (unsigned long)(t_stop - created));
}

Test(sync, an_id_deleted_and_created_again_while_duetd_was_down_starts_from_zero)
{
	uint64_t created;

	sync_start();
	POLL_UNTIL(duet_sync_connected(s), 5000);
	cp_put("rc", "a", "192.0.2.1:20000", "b", "192.0.2.2:20000", "mode", "passthrough", NULL);
	cp_put("rm", "a", "192.0.2.1:20001", "b", "192.0.2.2:20001", "mode", "passthrough", NULL);
	POLL_UNTIL(live("rc") && live("rm"), 2000);
	worker_rx("rc", 0, PIN_A ":4000", 100);
	worker_rx("rm", 0, PIN_A ":4001", 100);
	POLL_UNTIL(stat_u64("rc", "a_pkts") == 1 && stat_u64("rm", "a_pkts") == 1, 2000);
	created = stat_u64("rc", "created_ms");
	POLL_UNTIL(duet_sync_connected(s), 5000);
	duet_sync_destroy(s);
	s = NULL;
	/* While duetd is down: rc is deleted and created again on other
	 * endpoints, rm's record comes back in another mode. Their stats
	 * hashes still say active: of the earlier pairs. */
	freeReplyObject(rc("DEL " R "pair:rc"));
	freeReplyObject(rc("HSET " R "pair:rc a 192.0.2.1:20002 b 192.0.2.2:20002 mode passthrough"));
	freeReplyObject(rc("HSET " R "pair:rm mode verify a_in %s b_in %s", KEY_A, KEY_B));
	duet_pair_table_free(t);
	t = sync_table_new(64);
	cr_assert_not_null(t);
	usleep(20000); /* created_ms of the new pair is later than the old one */
	sync_start();
	POLL_UNTIL(duet_sync_connected(s) && duet_sync_full_loads(s) == 1, 5000);
	cr_assert(live("rc") && live("rm"));
	cr_assert_eq(s->resumed, 0);
	cr_assert_eq(counters_of("rc", 0).pkts, 0);
	cr_assert_eq(counters_of("rm", 0).pkts, 0);
	cr_assert_gt(duet_pair_created_ms(t, (uint32_t)duet_pair_find(t, "rc")), created);
	POLL_UNTIL(strcmp(hget(R "stats:rc", "a"), "192.0.2.1:20002") == 0, 2000);
	cr_assert_eq(stat_u64("rc", "a_pkts"), 0);
}

Test(sync, stats_figures_that_are_not_sane_are_refused_and_the_pair_counts_from_zero)
{
	static const char *const bad[][2] = {
		{"a_pkts", "12x"},	     /* not a number */
		{"b_bytes", "-1"},	     /* signed */
		{"a_bytes", "9000000"},	     /* more than 65535 bytes a packet (10 packets) */
		{"created_ms", "0"},	     /* never */
		{"created_ms", "99999999999999"}, /* in the year 5138 */
		{"a_drop_src", "18446744073709551616"}, /* past 64 bits */
		{"b_pkts", "1000000000000"}, /* 10^12 packets in a second of life */
		{"a", "192.0.2.1:020000"},   /* not an endpoint */
		{"mode", "loud"},	     /* not a mode */
	};
	char id[16], ep[2][32];
	uint64_t now = now_ms();
	unsigned int i;
	int n = (int)(sizeof(bad) / sizeof(bad[0]));

	for (i = 0; i < (unsigned int)n; i++) {
		snprintf(id, sizeof(id), "x%u", i);
		snprintf(ep[0], sizeof(ep[0]), "192.0.2.1:%u", 20000 + i);
		snprintf(ep[1], sizeof(ep[1]), "192.0.2.2:%u", 20000 + i);
		cp_put(id, "a", ep[0], "b", ep[1], "mode", "passthrough", NULL);
		freeReplyObject(rc("HSET " R "stats:%s state active mode passthrough a %s b %s "
				   "created_ms %llu a_pkts 10 a_bytes 1000 a_drop_src 0 "
				   "a_drop_peer_unlatched 0 a_drop_auth 0 a_drop_replay 0 "
				   "a_drop_policed 0 b_pkts 10 b_bytes 1000 b_drop_src 0 "
				   "b_drop_peer_unlatched 0 b_drop_auth 0 b_drop_replay 0 "
				   "b_drop_policed 0",
				   id, ep[0], ep[1], (unsigned long long)(now - 1000)));
		freeReplyObject(rc("HSET " R "stats:%s %s %s", id, bad[i][0], bad[i][1]));
	}
	/* The same figures, sane: continued. */
	cp_put("ok", "a", "192.0.2.1:20009", "b", "192.0.2.2:20009", "mode", "passthrough", NULL);
	freeReplyObject(rc("HSET " R "stats:ok state active mode passthrough a 192.0.2.1:20009 "
			   "b 192.0.2.2:20009 created_ms %llu a_pkts 10 a_bytes 1000 a_drop_src 2 "
			   "a_drop_peer_unlatched 0 a_drop_auth 0 a_drop_replay 0 a_drop_policed 0 "
			   "b_pkts 10 b_bytes 1000 b_drop_src 0 b_drop_peer_unlatched 0 "
			   "b_drop_auth 0 b_drop_replay 0 b_drop_policed 3",
			   (unsigned long long)(now - 1000)));
	sync_start();
	POLL_UNTIL(duet_sync_connected(s) && duet_sync_full_loads(s) == 1, 5000);
	cr_assert_eq(duet_pair_count(t), (uint32_t)n + 1, "every record loads");
	cr_assert_eq(s->resume_refused, (uint64_t)n);
	cr_assert_eq(s->resumed, 1);
	for (i = 0; i < (unsigned int)n; i++) {
		snprintf(id, sizeof(id), "x%u", i);
		cr_assert_eq(counters_of(id, 0).pkts, 0, "%s (%s %s)", id, bad[i][0], bad[i][1]);
		cr_assert_eq(counters_of(id, 1).pkts, 0, "%s (%s %s)", id, bad[i][0], bad[i][1]);
	}
	cr_assert_eq(counters_of("ok", 0).drop_src, 2);
	cr_assert_eq(counters_of("ok", 1).drop_policed, 3);
	cr_assert_eq(counters_of("ok", 1).bytes, 1000);
}

Test(sync, a_load_cut_by_a_redis_restart_drops_its_pages_and_starts_over)
{
	enum { GOOD = 3500, GONE = 5 };
	char gone[GONE][DUET_PAIR_ID_MAX + 1];
	uint32_t it = 0;
	unsigned int i;
	int slot;

	big_table(4096);
	cp_put_many("g", GOOD);
	sync_start();
	POLL_UNTIL(s->phase == SYNC_PHASE_LOAD && duet_pair_count(t) > GONE, 10000);
	cr_assert_gt(s->n_pages, 0);
	redis_stop();
	/* The next use of the link finds it gone: what the load read ahead
	 * is dropped, what it installed keeps forwarding. */
	POLL_UNTIL(!duet_sync_link_up(s), 5000);
	duet_sync_poll(s, now_ms());
	cr_assert_eq(s->n_pages, 0);
	cr_assert_gt(duet_pair_count(t), GONE);
	redis_start();
	/* Records of pairs it installed are deleted before it is back: the
	 * load that starts over, on a table that is not empty, ends them. */
	for (i = 0; i < GONE; i++) {
		slot = duet_pair_next(t, &it);
		cr_assert_geq(slot, 0);
		snprintf(gone[i], sizeof(gone[i]), "%s", duet_pair_id_of(t, (uint32_t)slot));
		freeReplyObject(rc("DEL " R "pair:%s", gone[i]));
	}
	POLL_UNTIL(duet_sync_connected(s), 30000);
	cr_assert_eq(duet_pair_count(t), GOOD - GONE);
	for (i = 0; i < GONE; i++) {
		cr_assert(!live(gone[i]), "%s outlived its record", gone[i]);
		POLL_UNTIL(ended_with(gone[i], "deleted"), 2000);
	}
	cr_assert_eq(duet_sync_full_loads(s), 1);
	cr_assert_eq(duet_sync_rejected(s), 0);
}

Test(sync, pairs_the_first_load_finds_expired_end_once_the_load_is_done)
{
	enum { GOOD = 3500, OLD = 8 };
	char past[24], id[16], a[32], b[32];
	unsigned int i;

	big_table(4096);
	cp_put_many("g", GOOD);
	/* Expired records, so some land on SCAN pages before the last. */
	snprintf(past, sizeof(past), "%llu", (unsigned long long)(now_ms() / 1000 - 1));
	for (i = 0; i < OLD; i++) {
		snprintf(id, sizeof(id), "old%u", i);
		snprintf(a, sizeof(a), "192.0.2.1:%u", 23900 + i);
		snprintf(b, sizeof(b), "192.0.2.2:%u", 23900 + i);
		cp_put(id, "a", a, "b", b, "mode", "passthrough", "expires", past, NULL);
	}
	sync_start();
	/* No idle and expiry round while the first load fills the table,
	 * though with polls 110 ms apart one falls due at every poll... */
	while (!duet_sync_connected(s)) {
		duet_sync_poll(s, now_ms());
		for (i = 0; i < OLD && duet_sync_full_loads(s) == 0; i++) {
			snprintf(id, sizeof(id), "old%u", i);
			cr_assert(!ended_with(id, "expired"), "%s ended during the first load", id);
		}
		usleep(110 * 1000);
	}
	/* ...the first one after it ends them. */
	for (i = 0; i < OLD; i++) {
		snprintf(id, sizeof(id), "old%u", i);
		POLL_UNTIL(ended_with(id, "expired"), 3000);
		cr_assert(!live(id));
	}
	cr_assert_eq(duet_pair_count(t), GOOD);
}

Test(sync, the_per_slot_arrays_are_in_memory_before_redis_is_contacted)
{
	duet_pair_table_free(t);
	t = sync_table_new(16384); /* 256 KiB of book: mapped, not from the heap */
	cr_assert_not_null(t);
	sync_start();
	cr_assert_eq(pages_not_resident(s->book, (size_t)s->capacity * sizeof(*s->book)), 0,
		     "the first load would fault the book in page by page");
	cr_assert_eq(pages_not_resident(s->fresh, (size_t)s->capacity * sizeof(*s->fresh)), 0);
}
