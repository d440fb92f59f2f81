/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_server.h: the unit tests' private redis-server (tests/unit/redis,
 * tests/unit/contract's Lua script tests, both through redis_cmd.h, and
 * tests/unit/sync). A test makes a temporary directory, starts a
 * redis-server listening only on a unix socket in it (no TCP port, no RDB
 * snapshots), waits until it answers, and stops it and removes the
 * directory at the end. The server dies with the test process
 * (PR_SET_PDEATHSIG) if that exits without its .fini hook. Called from the
 * test's own thread, in Criterion .init/.fini hooks or test bodies: a
 * failure fails the current test (cr_assert), and a missing redis-server
 * skips it.
 */
#ifndef DUET_TEST_REDIS_SERVER_H
#define DUET_TEST_REDIS_SERVER_H

#include <sys/types.h>

struct test_redis_server {
	pid_t pid;      /**< the running server, 0 when none */
	char dir[64];   /**< temporary directory: socket, log, data files */
	char sock[96];  /**< unix socket the server listens on (fits sun_path) */
	char log[128];  /**< the server's standard output and error */
};

/**
 * Make the temporary directory /tmp/duet-<tag>-XXXXXX and name the socket
 * and log in it. No server runs yet.
 *
 * @param srv  the fixture to fill in
 * @param tag  short name of the test program, part of the directory name
 */
void test_redis_server_init(struct test_redis_server *srv, const char *tag);

/**
 * Start redis-server in srv->dir (srv->dir is its --dir, so it can be
 * started again on the data it left) and return once it answers a PING on
 * srv->sock, within 5 s. The log is appended to across restarts.
 *
 * @param srv    an initialised fixture with no server running
 * @param extra  more redis-server options (NULL-terminated), or NULL; e.g.
 *               "--appendonly", "yes" or "--requirepass", "pw"
 */
void test_redis_server_start(struct test_redis_server *srv, const char *const *extra);

/**
 * Stop the server and reap it: SIGKILL as a crash, SIGTERM as a planned
 * shutdown (Redis writes its AOF first). Does nothing when none runs.
 *
 * @param srv  the fixture
 * @param sig  the signal to send
 */
void test_redis_server_stop(struct test_redis_server *srv, int sig);

/**
 * Kill the server if it still runs and remove srv->dir with everything in
 * it. Safe to call twice, or on a fixture that was never initialised.
 *
 * @param srv  the fixture
 */
void test_redis_server_destroy(struct test_redis_server *srv);

#endif /* DUET_TEST_REDIS_SERVER_H */
