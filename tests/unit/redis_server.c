/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * redis_server.c: the private redis-server of the unit tests that talk to
 * a real Redis (see redis_server.h). Runs on the test's own thread.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <hiredis/hiredis.h>

#include "redis_server.h"

void
test_redis_server_init(struct test_redis_server *srv, const char *tag)
{
	memset(srv, 0, sizeof(*srv));
	snprintf(srv->dir, sizeof(srv->dir), "/tmp/duet-%s-XXXXXX", tag);
	cr_assert_not_null(mkdtemp(srv->dir), "mkdtemp %s", srv->dir);
	snprintf(srv->sock, sizeof(srv->sock), "%s/redis.sock", srv->dir);
	snprintf(srv->log, sizeof(srv->log), "%s/redis.log", srv->dir);
}

/* A reply to PING, other than "still loading the data": the server is up
 * and has its data back (an AUTH-protected one answers NOAUTH, which
 * counts). */
static bool
answers(const char *sock)
{
	redisContext *c = redisConnectUnix(sock);
	redisReply *rep;
	bool up;

	if (c == NULL || c->err != 0) {
		redisFree(c);
		return false;
	}
	rep = redisCommand(c, "PING");
	up = rep != NULL &&
	     !(rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "LOADING", 7) == 0);
	freeReplyObject(rep);
	redisFree(c);
	return up;
}

void
test_redis_server_start(struct test_redis_server *srv, const char *const *extra)
{
	const char *argv[32];
	struct timespec ts = {0, 10 * 1000 * 1000};
	int i = 0, k, status;

	cr_assert(srv->dir[0] != '\0', "test_redis_server_init first");
	cr_assert_eq(srv->pid, 0, "redis-server already running");
	argv[i++] = "redis-server";
	argv[i++] = "--port";
	argv[i++] = "0";
	argv[i++] = "--unixsocket";
	argv[i++] = srv->sock;
	argv[i++] = "--save";
	argv[i++] = "";
	argv[i++] = "--daemonize";
	argv[i++] = "no";
	argv[i++] = "--dir";
	argv[i++] = srv->dir;
	for (k = 0; extra != NULL && extra[k] != NULL; k++) {
		cr_assert_lt(i, 31, "too many redis-server options");
		argv[i++] = extra[k];
	}
	argv[i] = NULL;

	srv->pid = fork();
	cr_assert_neq(srv->pid, -1);
	if (srv->pid == 0) {
		FILE *log = fopen(srv->log, "a");

		/* If the test process dies without .fini, take redis along. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (log != NULL) {
			dup2(fileno(log), 1);
			dup2(fileno(log), 2);
		}
		execvp("redis-server", (char *const *)argv);
		_exit(127);
	}
	for (k = 0; k < 500; k++) {
		if (answers(srv->sock))
			return;
		if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
			srv->pid = 0;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
				cr_skip_test("redis-server is not installed");
			cr_assert_fail("redis-server exited early, see %s", srv->log);
		}
		nanosleep(&ts, NULL);
	}
	cr_assert_fail("redis-server did not come up on %s", srv->sock);
}

void
test_redis_server_stop(struct test_redis_server *srv, int sig)
{
	if (srv->pid <= 0)
		return;
	kill(srv->pid, sig);
	waitpid(srv->pid, NULL, 0);
	srv->pid = 0;
}

static int
remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, "could not remove %s\n", path);
	return 0;
}

void
test_redis_server_destroy(struct test_redis_server *srv)
{
	test_redis_server_stop(srv, SIGKILL);
	if (srv->dir[0] == '\0')
		return;
	/* Depth first: AOF files live in a subdirectory (appendonlydir). */
	nftw(srv->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	srv->dir[0] = '\0';
}
