/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/redis/duet_redis_connect.c that need no TCP listener:
 * the HELLO check against the private redis-server (a replica is refused,
 * a server that refuses HELLO is taken as it is), and how a Sentinel or
 * cluster address fails when nothing answers (documentation addresses
 * only). Finding a real master through real Sentinels and a real cluster
 * is tests/integration/test_sentinel.sh and test_cluster.sh.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "duet_redis.h"
#include "../redis_cmd.h"

Test(redis_connect, a_replica_is_refused_with_erofs, .init = test_redis_start,
     .fini = test_redis_stop)
{
	struct duet_redis_target t = {.unix_path = test_redis_srv.sock, .timeout_ms = 2000};
	struct duet_redis admin, r;

	test_redis_connect(&admin);
	cr_assert_str_eq(test_redis_query(&admin, "REPLICAOF 192.0.2.1 6379"), "OK");
	memset(&r, 0, sizeof(r));
	cr_assert_eq(duet_redis_connect(&r, &t), -EROFS, "%s", r.errstr);
	cr_assert_null(r.ctx);
	cr_assert_not_null(strstr(r.errstr, "a replica, which cannot take duetd's writes: name "
					    "the master, or write sentinel:NAME@host:port,..."),
			   "%s", r.errstr);
	cr_assert_not_null(strstr(r.errstr, test_redis_srv.sock), "%s", r.errstr);

	cr_assert_str_eq(test_redis_query(&admin, "REPLICAOF NO ONE"), "OK");
	cr_assert_eq(duet_redis_connect(&r, &t), 0, "a master again: %s", r.errstr);
	duet_redis_close(&r);
	duet_redis_close(&admin);
}

Test(redis_connect, the_role_check_works_for_a_user_without_dangerous_commands,
     .init = test_redis_start, .fini = test_redis_stop)
{
	/* The ACL docs/redis-contract.md suggests for duetd: ROLE and INFO
	 * are @dangerous, HELLO is not, so HELLO is what tells the role. */
	struct duet_redis_target t = {.unix_path = test_redis_srv.sock,
				      .timeout_ms = 2000,
				      .user = "duetd",
				      .password = "pw"};
	struct duet_redis admin, r;

	test_redis_connect(&admin);
	cr_assert_str_eq(test_redis_query(&admin, "ACL SETUSER duetd on >pw ~duet:{t1}:* +@read "
						  "+@write +@stream +@scripting +@connection "
						  "-@dangerous"),
			 "OK");
	memset(&r, 0, sizeof(r));
	cr_assert_eq(duet_redis_connect(&r, &t), 0, "%s", r.errstr);
	cr_assert_str_eq(test_redis_query(&r, "ROLE"),
			 "ERR:NOPERM this user has no permissions to run the 'role' command");
	cr_assert_str_eq(test_redis_query(&admin, "REPLICAOF 192.0.2.1 6379"), "OK");
	cr_assert_eq(duet_redis_connect(&r, &t), -EROFS, "%s", r.errstr);
	duet_redis_close(&r);
	duet_redis_close(&admin);
}

Test(redis_connect, no_sentinel_answering_is_reported_with_the_last_cause)
{
	static const struct duet_redis_node sentinels[2] = {{"192.0.2.7", 26379},
							     {"192.0.2.8", 26379}};
	struct duet_redis_target t = {.kind = DUET_REDIS_ADDR_SENTINEL,
				      .master_name = "duet",
				      .nodes = sentinels,
				      .n_nodes = 2,
				      .timeout_ms = 100};
	struct duet_redis r;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = duet_redis_connect(&r, &t);
	cr_assert_lt(rc, 0);
	cr_assert_null(r.ctx);
	cr_assert_str_eq(r.where, "sentinel:duet");
	cr_assert_not_null(strstr(r.errstr, "redis sentinel:duet: no usable master (last: redis "
					    "192.0.2.8:26379 (Sentinel): "),
			   "%s", r.errstr);
	cr_assert_eq(r.node_first, 0, "no Sentinel answered: the order stays");
}

Test(redis_connect, a_sentinel_or_cluster_target_needs_its_parts)
{
	static const struct duet_redis_node nodes[1] = {{"192.0.2.7", 7000}};
	struct duet_redis_target t = {.kind = DUET_REDIS_ADDR_SENTINEL, .timeout_ms = 100};
	struct duet_redis r;

	memset(&r, 0, sizeof(r));
	cr_assert_eq(duet_redis_connect(&r, &t), -EINVAL, "no master name, no Sentinel");
	t.master_name = "duet";
	cr_assert_eq(duet_redis_connect(&r, &t), -EINVAL, "no Sentinel");

	t = (struct duet_redis_target){.kind = DUET_REDIS_ADDR_CLUSTER,
				       .nodes = nodes,
				       .n_nodes = 1,
				       .timeout_ms = 100};
	cr_assert_eq(duet_redis_connect(&r, &t), -EINVAL, "no relay: no slot to look for");
	cr_assert_not_null(strstr(r.errstr, "no relay id"), "%s", r.errstr);
}

Test(redis_connect, no_seed_node_answering_names_the_slot)
{
	static const struct duet_redis_node seeds[1] = {{"192.0.2.7", 7000}};
	struct duet_redis_target t = {.kind = DUET_REDIS_ADDR_CLUSTER,
				      .nodes = seeds,
				      .n_nodes = 1,
				      .relay = "r1",
				      .timeout_ms = 100};
	struct duet_redis r;

	memset(&r, 0, sizeof(r));
	cr_assert_lt(duet_redis_connect(&r, &t), 0);
	cr_assert_null(r.ctx);
	/* duet:{r1}:... hashes to slot 2121 (CLUSTER KEYSLOT). */
	cr_assert_str_eq(r.where, "cluster (slot 2121)");
	cr_assert_not_null(strstr(r.errstr, "192.0.2.7:7000 (cluster seed)"), "%s", r.errstr);
}
