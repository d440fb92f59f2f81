/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/redis/duet_redis_reply.c: the cluster hash slot of a
 * key (checked against what `redis-cli CLUSTER KEYSLOT` answers on Redis
 * 7.0), which error replies send the connection elsewhere, and reading
 * MOVED, HELLO, SENTINEL get-master-addr-by-name and CLUSTER SLOTS. Pure:
 * the replies are built from RESP text with hiredis's own reader.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "redis_internal.h"

/* A reply from RESP text, as hiredis would hand it over. */
static redisReply *
resp(const char *text)
{
	redisReader *rd = redisReaderCreate();
	void *reply = NULL;

	cr_assert_not_null(rd);
	cr_assert_eq(redisReaderFeed(rd, text, strlen(text)), REDIS_OK);
	cr_assert_eq(redisReaderGetReply(rd, &reply), REDIS_OK);
	cr_assert_not_null(reply, "incomplete RESP: %s", text);
	redisReaderFree(rd);
	return reply;
}

Test(redis_reply, slot_matches_redis_cluster_keyslot)
{
	/* Each value is what CLUSTER KEYSLOT answers on redis-server 7.0. */
	static const struct {
		const char *key;
		uint16_t slot;
	} known[] = {
		{"123456789", 12739}, /* CRC16 XMODEM check value 0x31C3 */
		{"foo", 12182},
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
		{"duet:{r1}:events", 2121},
		{"duet:{r1}:pair:x", 2121},
		{"r1", 2121},
		{"duet:{it_relay1}:free", 16313},
		{"{}foo", 9500},	 /* an empty tag: the whole key */
		{"foo{}{bar}", 8363},	 /* the first tag is empty: the whole key */
		{"foo{{bar}}zap", 4015}, /* the tag is "{bar" */
		{"foo{bar}{zap}", 5061}, /* only the first tag counts */
		{"{a", 10276},		 /* no closing brace: the whole key */
		{"a}", 5921},
		{"a", 15495},
		{"", 0},
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		cr_expect_eq(duet_redis_slot(known[i].key, strlen(known[i].key)), known[i].slot,
			     "slot of '%s': got %u, Redis says %u", known[i].key,
			     duet_redis_slot(known[i].key, strlen(known[i].key)), known[i].slot);
}

Test(redis_reply, redirect_errors_are_recognised)
{
	static const char *const redirect[] = {
		"-READONLY You can't write against a read only replica.\r\n",
		"-READONLY You can't write against a read only replica. script: f92, on "
		"@user_script:1.\r\n",
		"-MOVED 3999 127.0.0.1:6381\r\n",
		"-ASK 3999 127.0.0.1:6381\r\n",
		"-CLUSTERDOWN The cluster is down\r\n",
		"-TRYAGAIN Multiple keys request during rehashing of slot\r\n",
		"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to "
		"'no'.\r\n",
		"-UNBLOCKED force unblock from blocking operation, instance state changed "
		"(master -> replica?)\r\n",
		"-NOREPLICAS Not enough good replicas to write.\r\n",
		"-ERR Error running script (call to f_1): @user_script:1: @user_script: 1: "
		"-READONLY You can't write against a read only replica.\r\n",
	};
	static const char *const other[] = {
		"-ERR unknown command 'HELLO'\r\n",
		"-NOSCRIPT No matching script. Please use EVAL.\r\n",
		"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
		"-NOPERM this user has no permissions to run the 'hello' command\r\n",
		"-LOADING Redis is loading the dataset in memory\r\n",
		"-ASKEW not a redirect\r\n",
		"+READONLY is a status, not an error\r\n",
		"$8\r\nREADONLY\r\n",
	};
	redisReply *r;
	size_t i;

	for (i = 0; i < sizeof(redirect) / sizeof(redirect[0]); i++) {
		r = resp(redirect[i]);
		cr_expect(duet_redis_reply_is_redirect(r), "not taken as a redirect: %s",
			  redirect[i]);
		freeReplyObject(r);
	}
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		r = resp(other[i]);
		cr_expect(!duet_redis_reply_is_redirect(r), "taken as a redirect: %s", other[i]);
		freeReplyObject(r);
	}
	cr_assert(!duet_redis_reply_is_redirect(NULL));
}

Test(redis_reply, moved_names_the_new_owner)
{
	char host[DUET_REDIS_ADDR_HOST_MAX];
	uint16_t port = 0;

	cr_assert_eq(redis_parse_moved("MOVED 3999 127.0.0.1:6381", host, sizeof(host), &port), 0);
	cr_assert_str_eq(host, "127.0.0.1");
	cr_assert_eq(port, 6381);
	cr_assert_eq(redis_parse_moved("MOVED 1 [2001:db8::1]:7000", host, sizeof(host), &port), 0);
	cr_assert_str_eq(host, "2001:db8::1");
	cr_assert_eq(port, 7000);
	cr_assert_eq(redis_parse_moved("MOVED 1 node-3.example:7002", host, sizeof(host), &port),
		     0);
	cr_assert_str_eq(host, "node-3.example");

	cr_assert_eq(redis_parse_moved("ASK 3999 127.0.0.1:6381", host, sizeof(host), &port),
		     -EINVAL, "ASK is not a new owner");
	cr_assert_eq(redis_parse_moved("MOVED x 127.0.0.1:1", host, sizeof(host), &port), -EINVAL);
	cr_assert_eq(redis_parse_moved("MOVED 3999 :6381", host, sizeof(host), &port), -EINVAL);
	cr_assert_eq(redis_parse_moved("MOVED 3999 h:0", host, sizeof(host), &port), -EINVAL);
	cr_assert_eq(redis_parse_moved("MOVED 3999 h", host, sizeof(host), &port), -EINVAL);
	cr_assert_eq(redis_parse_moved("MOVED 3999 127.0.0.1:6381", host, 9, &port), -EINVAL,
		     "host does not fit");
	cr_assert_eq(redis_parse_moved(NULL, host, sizeof(host), &port), -EINVAL);
}

Test(redis_reply, hello_gives_role_and_mode)
{
	struct redis_hello h;
	redisReply *r;

	r = resp("*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n"
		 "$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:6\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
		 "$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n");
	memset(&h, 0, sizeof(h));
	cr_assert_eq(redis_parse_hello(r, &h), 0);
	cr_assert(h.master);
	cr_assert_str_eq(h.mode, "standalone");
	freeReplyObject(r);

	r = resp("*4\r\n$4\r\nmode\r\n$7\r\ncluster\r\n$4\r\nrole\r\n$7\r\nreplica\r\n");
	cr_assert_eq(redis_parse_hello(r, &h), 0);
	cr_assert(!h.master);
	cr_assert_str_eq(h.mode, "cluster");
	freeReplyObject(r);

	r = resp("*2\r\n$4\r\nmode\r\n$8\r\nsentinel\r\n");
	cr_assert_eq(redis_parse_hello(r, &h), -EPROTO, "no role");
	freeReplyObject(r);
	r = resp("-NOPERM no\r\n");
	cr_assert_eq(redis_parse_hello(r, &h), -EPROTO);
	freeReplyObject(r);
}

Test(redis_reply, sentinel_master_address)
{
	char host[DUET_REDIS_ADDR_HOST_MAX];
	uint16_t port = 0;
	redisReply *r;

	r = resp("*2\r\n$9\r\n127.0.0.1\r\n$4\r\n7001\r\n");
	cr_assert_eq(redis_parse_master_addr(r, host, sizeof(host), &port), 0);
	cr_assert_str_eq(host, "127.0.0.1");
	cr_assert_eq(port, 7001);
	freeReplyObject(r);

	r = resp("*-1\r\n");
	cr_assert_eq(redis_parse_master_addr(r, host, sizeof(host), &port), -ENOENT,
		     "a Sentinel that does not know the name answers nil");
	freeReplyObject(r);
	r = resp("$-1\r\n");
	cr_assert_eq(redis_parse_master_addr(r, host, sizeof(host), &port), -ENOENT);
	freeReplyObject(r);

	r = resp("*2\r\n$9\r\n127.0.0.1\r\n$1\r\n0\r\n");
	cr_assert_eq(redis_parse_master_addr(r, host, sizeof(host), &port), -EPROTO, "port 0");
	freeReplyObject(r);
	r = resp("*2\r\n$0\r\n\r\n$4\r\n7001\r\n");
	cr_assert_eq(redis_parse_master_addr(r, host, sizeof(host), &port), -EPROTO, "no host");
	freeReplyObject(r);
	r = resp("*1\r\n$9\r\n127.0.0.1\r\n");
	cr_assert_eq(redis_parse_master_addr(r, host, sizeof(host), &port), -EPROTO);
	freeReplyObject(r);
	r = resp("-ERR No such master with that name\r\n");
	cr_assert_eq(redis_parse_master_addr(r, host, sizeof(host), &port), -EPROTO);
	freeReplyObject(r);
}

/* Two ranges: 0..5460 on 7001 (replica 7004), 5461..16383 on 7002. */
#define SLOTS_REPLY                                                                               \
	"*2\r\n"                                                                                  \
	"*4\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7001\r\n$2\r\nm1\r\n"                     \
	"*3\r\n$9\r\n127.0.0.1\r\n:7004\r\n$2\r\nr1\r\n"                                          \
	"*3\r\n:5461\r\n:16383\r\n*3\r\n$9\r\n127.0.0.2\r\n:7002\r\n$2\r\nm2\r\n"

Test(redis_reply, cluster_slots_gives_the_owner_of_a_slot)
{
	char host[DUET_REDIS_ADDR_HOST_MAX];
	uint16_t port = 0;
	redisReply *r = resp(SLOTS_REPLY);

	cr_assert_eq(redis_parse_slot_owner(r, 0, host, sizeof(host), &port), 0);
	cr_assert_str_eq(host, "127.0.0.1");
	cr_assert_eq(port, 7001, "the master, not the replica");
	cr_assert_eq(redis_parse_slot_owner(r, 5460, host, sizeof(host), &port), 0);
	cr_assert_eq(port, 7001);
	cr_assert_eq(redis_parse_slot_owner(r, 5461, host, sizeof(host), &port), 0);
	cr_assert_str_eq(host, "127.0.0.2");
	cr_assert_eq(port, 7002);
	cr_assert_eq(redis_parse_slot_owner(r, 16383, host, sizeof(host), &port), 0);
	cr_assert_eq(port, 7002);
	freeReplyObject(r);

	r = resp("*1\r\n*3\r\n:0\r\n:100\r\n*2\r\n$9\r\n127.0.0.1\r\n:7001\r\n");
	cr_assert_eq(redis_parse_slot_owner(r, 101, host, sizeof(host), &port), -ENOENT,
		     "a slot no range holds");
	freeReplyObject(r);
	r = resp("*0\r\n");
	cr_assert_eq(redis_parse_slot_owner(r, 1, host, sizeof(host), &port), -ENOENT);
	freeReplyObject(r);
	r = resp("*1\r\n*3\r\n:0\r\n:100\r\n*2\r\n$1\r\n?\r\n:7001\r\n");
	cr_assert_eq(redis_parse_slot_owner(r, 1, host, sizeof(host), &port), -EPROTO,
		     "unknown endpoint");
	freeReplyObject(r);
	r = resp("*1\r\n*2\r\n:0\r\n:100\r\n");
	cr_assert_eq(redis_parse_slot_owner(r, 1, host, sizeof(host), &port), -EPROTO);
	freeReplyObject(r);
	r = resp("-ERR This instance has cluster support disabled\r\n");
	cr_assert_eq(redis_parse_slot_owner(r, 1, host, sizeof(host), &port), -EPROTO);
	freeReplyObject(r);
}
