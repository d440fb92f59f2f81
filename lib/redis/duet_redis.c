/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_redis: one connection to one Redis server (TCP or unix socket, with
 * timeouts and AUTH), running single and pipelined commands with uniform
 * error reporting (a reply naming another master closes the connection
 * like a lost link), and running the contract's Lua scripts by EVALSHA.
 * Which server to open is duet_redis_connect.c's business (one server,
 * Sentinels, a cluster). Runs on duetd's control thread and in the tools;
 * never on a worker lcore. Every message names the address and the cause
 * and never contains the password.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "duet_lua.h"
#include "redis_internal.h"

/* Used when the target leaves timeout_ms at 0: blocking forever on a dead
 * Redis would stall duetd's control thread and hang duetctl. */
#define DEFAULT_TIMEOUT_MS 2000

static const struct {
	const char *name;
	const char *text;
} scripts[DUET_SCRIPT_MAX] = {
	[DUET_SCRIPT_PAIR_CREATE] = {"pair_create", duet_lua_pair_create},
	[DUET_SCRIPT_PAIR_DELETE] = {"pair_delete", duet_lua_pair_delete},
	[DUET_SCRIPT_ENDPOINTS_SEED] = {"endpoints_seed", duet_lua_endpoints_seed},
	[DUET_SCRIPT_RELAY_LEASE] = {"relay_lease", duet_lua_relay_lease},
};

/*
 * hiredis writes with write(2): to a server that went away that raises
 * SIGPIPE, whose default action kills the process. A library should not
 * change the process's signal dispositions, so SIGPIPE is blocked on this
 * thread around each I/O and a SIGPIPE it caused is consumed before the
 * mask is restored (the way libpq does it). The write then just fails with
 * EPIPE and is reported like any lost connection.
 */
struct sigpipe_guard {
	sigset_t old_mask;
	bool was_pending;
};

static void
sigpipe_block(struct sigpipe_guard *g)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &g->old_mask);
	sigpending(&pending);
	g->was_pending = sigismember(&pending, SIGPIPE) == 1;
}

static void
sigpipe_restore(const struct sigpipe_guard *g)
{
	static const struct timespec no_wait = {0, 0};
	sigset_t set, pending;
	int saved_errno = errno;

	sigpending(&pending);
	if (!g->was_pending && sigismember(&pending, SIGPIPE) == 1) {
		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		sigtimedwait(&set, NULL, &no_wait);
	}
	pthread_sigmask(SIG_SETMASK, &g->old_mask, NULL);
	errno = saved_errno;
}

void
duet_redis_target_set(struct duet_redis_target *t, const struct duet_redis_addr *a)
{
	t->kind = a->kind;
	t->unix_path = a->unix_path[0] != '\0' ? a->unix_path : NULL;
	t->host = a->host[0] != '\0' ? a->host : NULL;
	t->port = a->port;
	t->master_name = a->master_name[0] != '\0' ? a->master_name : NULL;
	t->nodes = a->n_nodes > 0 ? a->nodes : NULL;
	t->n_nodes = a->n_nodes;
}

int
duet_redis_parse_address(const char *s, struct duet_redis_addr *a, struct duet_redis_target *t,
			 const char **why)
{
	if (a == NULL || t == NULL) {
		if (why != NULL)
			*why = "no address";
		return -EINVAL;
	}
	if (duet_parse_redis_addr(s, a, why) != 0)
		return -EINVAL;
	duet_redis_target_set(t, a);
	return 0;
}

void
redis_set_err(struct duet_redis *r, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	r->err = err;
	n = snprintf(r->errstr, sizeof(r->errstr), "redis %s: ", r->where);
	if (n < 0 || (size_t)n >= sizeof(r->errstr))
		return;
	va_start(ap, fmt);
	vsnprintf(r->errstr + n, sizeof(r->errstr) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* hiredis keeps strerror() text; messages read better in lower case, as
 * "connection refused" after the address. */
static void
set_err_cause(struct duet_redis *r, int err, const char *cause)
{
	char c[DUET_REDIS_ERRSTR_MAX];

	snprintf(c, sizeof(c), "%s", cause[0] != '\0' ? cause : "unknown error");
	if (c[0] >= 'A' && c[0] <= 'Z' && !(c[1] >= 'A' && c[1] <= 'Z'))
		c[0] = (char)(c[0] - 'A' + 'a');
	redis_set_err(r, err, "%s", c);
}

static struct timeval
timeout_tv(uint32_t ms)
{
	struct timeval tv;

	if (ms == 0)
		ms = DEFAULT_TIMEOUT_MS;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (long)(ms % 1000) * 1000;
	return tv;
}

/* Map a failed hiredis context to our errno and message. saved_errno is
 * errno right after the failing call; hiredis's errstr is compared too,
 * since hiredis does not promise to keep errno. */
static int
context_error(struct duet_redis *r, const redisContext *c, int saved_errno)
{
	int err = -EIO;

	if (c->err == REDIS_ERR_EOF) {
		redis_set_err(r, -EIO, "connection closed by the server");
		return -EIO;
	}
	if (c->err == REDIS_ERR_IO) {
		if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ||
		    saved_errno == ETIMEDOUT || strcmp(c->errstr, strerror(EAGAIN)) == 0 ||
		    strcmp(c->errstr, strerror(ETIMEDOUT)) == 0) {
			redis_set_err(r, -ETIMEDOUT, "timed out");
			return -ETIMEDOUT;
		}
		if (saved_errno == ECONNREFUSED || saved_errno == ENOENT ||
		    strcmp(c->errstr, strerror(ECONNREFUSED)) == 0 ||
		    strcmp(c->errstr, strerror(ENOENT)) == 0)
			err = -ECONNREFUSED;
	}
	set_err_cause(r, err, c->errstr);
	return err;
}

void
duet_redis_close(struct duet_redis *r)
{
	if (r == NULL || r->ctx == NULL)
		return;
	redisFree(r->ctx);
	r->ctx = NULL;
}

/* A reply is in hand: a redirect closes the connection (remembering a
 * MOVED target for the next connect) and gives NULL. */
static redisReply *
checked_reply(struct duet_redis *r, redisReply *reply)
{
	if (!duet_redis_reply_is_redirect(reply)) {
		r->err = 0;
		return reply;
	}
	if (strncmp(reply->str, "MOVED ", 6) == 0 &&
	    redis_parse_moved(reply->str, r->moved_host, sizeof(r->moved_host), &r->moved_port) !=
		    0)
		r->moved_host[0] = '\0';
	redis_set_err(r, -EAGAIN, "%.*s; finding the master again", 120, reply->str);
	freeReplyObject(reply);
	duet_redis_close(r);
	return NULL;
}

redisReply *
duet_redis_command(struct duet_redis *r, int argc, const char **argv, const size_t *argvlen)
{
	struct sigpipe_guard guard;
	redisReply *reply;
	int saved_errno;

	if (r->ctx == NULL) {
		redis_set_err(r, -ENOTCONN, "not connected");
		return NULL;
	}
	sigpipe_block(&guard);
	errno = 0;
	reply = redisCommandArgv(r->ctx, argc, argv, argvlen);
	saved_errno = errno;
	sigpipe_restore(&guard);
	if (reply == NULL) {
		/* After a transport error the context cannot be reused: the
		 * reply stream may be out of step with our requests. */
		context_error(r, r->ctx, saved_errno);
		duet_redis_close(r);
		return NULL;
	}
	return checked_reply(r, reply);
}

int
duet_redis_append(struct duet_redis *r, int argc, const char **argv, const size_t *argvlen)
{
	if (r->ctx == NULL) {
		redis_set_err(r, -ENOTCONN, "not connected");
		return -ENOTCONN;
	}
	/* Appending only formats into the output buffer; it fails only when
	 * memory runs out. */
	if (redisAppendCommandArgv(r->ctx, argc, argv, argvlen) != REDIS_OK) {
		redis_set_err(r, -ENOMEM, "out of memory queueing a command");
		return -ENOMEM;
	}
	return 0;
}

/* Append "$<n>\r\n" to p; @return the end. */
static char *
put_bulk_len(char *p, size_t n)
{
	char digits[24];
	int k = 0;

	*p++ = '$';
	do {
		digits[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	while (k > 0)
		*p++ = digits[--k];
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

int
duet_redis_append_key_cmd(struct duet_redis *r, const char *cmd, const char *key, size_t keylen)
{
	char buf[DUET_REDIS_KEY_MAX + 64], *p = buf;
	size_t cmdlen = strlen(cmd);
	const char *argv[2] = {cmd, key};
	size_t lens[2] = {cmdlen, keylen};

	if (r->ctx == NULL) {
		redis_set_err(r, -ENOTCONN, "not connected");
		return -ENOTCONN;
	}
	/* A long command or key: the general formatter. */
	if (cmdlen > 32 || keylen > DUET_REDIS_KEY_MAX)
		return duet_redis_append(r, 2, argv, lens);
	memcpy(p, "*2\r\n", 4);
	p = put_bulk_len(p + 4, cmdlen);
	memcpy(p, cmd, cmdlen);
	p += cmdlen;
	*p++ = '\r';
	*p++ = '\n';
	p = put_bulk_len(p, keylen);
	memcpy(p, key, keylen);
	p += keylen;
	*p++ = '\r';
	*p++ = '\n';
	if (redisAppendFormattedCommand(r->ctx, buf, (size_t)(p - buf)) != REDIS_OK) {
		redis_set_err(r, -ENOMEM, "out of memory queueing a command");
		return -ENOMEM;
	}
	return 0;
}

int
duet_redis_flush(struct duet_redis *r)
{
	struct sigpipe_guard guard;
	int done = 0, rc = REDIS_OK, saved_errno;

	if (r->ctx == NULL) {
		redis_set_err(r, -ENOTCONN, "not connected");
		return -ENOTCONN;
	}
	sigpipe_block(&guard);
	errno = 0;
	while (!done && rc == REDIS_OK)
		rc = redisBufferWrite(r->ctx, &done);
	saved_errno = errno;
	sigpipe_restore(&guard);
	if (rc != REDIS_OK) {
		rc = context_error(r, r->ctx, saved_errno);
		duet_redis_close(r);
		return rc;
	}
	return 0;
}

redisReply *
duet_redis_get_reply(struct duet_redis *r)
{
	struct sigpipe_guard guard;
	void *reply = NULL;
	int rc, saved_errno;

	if (r->ctx == NULL) {
		redis_set_err(r, -ENOTCONN, "not connected");
		return NULL;
	}
	/* A pipeline's replies mostly arrive many to a read: one already
	 * read is taken without a system call (the guard below costs four). */
	if (redisGetReplyFromReader(r->ctx, &reply) != REDIS_OK) {
		context_error(r, r->ctx, 0);
		duet_redis_close(r);
		return NULL;
	}
	if (reply != NULL)
		return checked_reply(r, reply);
	sigpipe_block(&guard);
	errno = 0;
	rc = redisGetReply(r->ctx, &reply);
	saved_errno = errno;
	sigpipe_restore(&guard);
	if (rc != REDIS_OK || reply == NULL) {
		context_error(r, r->ctx, saved_errno);
		duet_redis_close(r);
		return NULL;
	}
	return checked_reply(r, reply);
}

int
redis_authenticate(struct duet_redis *r, const struct duet_redis_target *t)
{
	const char *argv[3];
	redisReply *reply;
	int argc = 0;
	bool has_user = t->user != NULL && t->user[0] != '\0';
	bool has_pass = t->password != NULL && t->password[0] != '\0';

	if (has_user || has_pass) {
		argv[argc++] = "AUTH";
		if (has_user)
			argv[argc++] = t->user;
		argv[argc++] = has_pass ? t->password : "";
		reply = duet_redis_command(r, argc, argv, NULL);
		if (reply == NULL)
			return r->err;
		if (reply->type == REDIS_REPLY_ERROR) {
			/* The reply text is Redis's own (e.g. WRONGPASS ...):
			 * it never echoes the password. */
			if (has_user)
				redis_set_err(r, -EACCES, "authentication as user '%s' failed: %s",
					      t->user, reply->str);
			else
				redis_set_err(r, -EACCES, "authentication failed: %s", reply->str);
			freeReplyObject(reply);
			return -EACCES;
		}
		freeReplyObject(reply);
	}

	/* PING proves this is a Redis that will serve us (no NOAUTH, not
	 * LOADING) before the caller starts real work. */
	argv[0] = "PING";
	reply = duet_redis_command(r, 1, argv, NULL);
	if (reply == NULL)
		return r->err;
	if (reply->type == REDIS_REPLY_ERROR) {
		int err = strncmp(reply->str, "NOAUTH", 6) == 0 ? -EACCES : -EIO;

		if (err == -EACCES)
			redis_set_err(r, err, "authentication required but no password is configured");
		else
			redis_set_err(r, err, "PING refused: %s", reply->str);
		freeReplyObject(reply);
		return err;
	}
	freeReplyObject(reply);
	return 0;
}

void
redis_set_where(struct duet_redis *r, const char *unix_path, const char *host, uint16_t port,
		const char *what)
{
	const char *sep = what != NULL ? " (" : "", *end = what != NULL ? ")" : "";

	if (what == NULL)
		what = "";
	if (unix_path != NULL && unix_path[0] != '\0')
		snprintf(r->where, sizeof(r->where), "unix:%s%s%s%s", unix_path, sep, what, end);
	else if (host != NULL && strchr(host, ':') != NULL)
		snprintf(r->where, sizeof(r->where), "[%s]:%u%s%s%s", host, port, sep, what, end);
	else
		snprintf(r->where, sizeof(r->where), "%s:%u%s%s%s", host != NULL ? host : "", port,
			 sep, what, end);
}

int
redis_open(struct duet_redis *r, const char *unix_path, const char *host, uint16_t port,
	   uint32_t timeout_ms)
{
	struct timeval tv;
	redisContext *c;
	int saved_errno, rc;
	bool is_unix = unix_path != NULL && unix_path[0] != '\0';

	duet_redis_close(r);
	if (!is_unix && (host == NULL || host[0] == '\0' || port == 0)) {
		redis_set_err(r, -EINVAL, "no host or port");
		return -EINVAL;
	}
	tv = timeout_tv(timeout_ms);
	errno = 0;
	if (is_unix)
		c = redisConnectUnixWithTimeout(unix_path, tv);
	else
		c = redisConnectWithTimeout(host, port, tv);
	saved_errno = errno;
	if (c == NULL) {
		redis_set_err(r, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	if (c->err != 0) {
		rc = context_error(r, c, saved_errno);
		redisFree(c);
		return rc;
	}
	if (redisSetTimeout(c, tv) != REDIS_OK) {
		redis_set_err(r, -EIO, "cannot set the command timeout");
		redisFree(c);
		return -EIO;
	}
	r->ctx = c;
	return 0;
}

const char *
duet_redis_script_text(enum duet_redis_script s)
{
	if ((unsigned int)s >= DUET_SCRIPT_MAX)
		return NULL;
	return scripts[s].text;
}

static int
load_script(struct duet_redis *r, enum duet_redis_script s)
{
	const char *argv[3] = {"SCRIPT", "LOAD", scripts[s].text};
	redisReply *reply;

	reply = duet_redis_command(r, 3, argv, NULL);
	if (reply == NULL)
		return r->err;
	if (reply->type != REDIS_REPLY_STRING || reply->len != 40) {
		redis_set_err(r, -EPROTO, "SCRIPT LOAD %s failed: %s", scripts[s].name,
			reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
		freeReplyObject(reply);
		return -EPROTO;
	}
	memcpy(r->sha[s], reply->str, 40);
	r->sha[s][40] = '\0';
	freeReplyObject(reply);
	return 0;
}

int
duet_redis_load_scripts(struct duet_redis *r)
{
	int s, rc;

	for (s = 0; s < DUET_SCRIPT_MAX; s++) {
		rc = load_script(r, (enum duet_redis_script)s);
		if (rc != 0)
			return rc;
	}
	return 0;
}

redisReply *
duet_redis_script(struct duet_redis *r, enum duet_redis_script s, int nkeys, int argc,
		  const char **argv)
{
	char nkeys_str[16];
	const char **cmd;
	redisReply *reply = NULL;
	int attempt, i;

	if ((unsigned int)s >= DUET_SCRIPT_MAX || nkeys < 0 || argc < nkeys ||
	    (argc > 0 && argv == NULL)) {
		redis_set_err(r, -EINVAL, "bad script call");
		return NULL;
	}
	cmd = malloc(sizeof(*cmd) * (size_t)(argc + 3));
	if (cmd == NULL) {
		redis_set_err(r, -ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(nkeys_str, sizeof(nkeys_str), "%d", nkeys);
	cmd[0] = "EVALSHA";
	cmd[2] = nkeys_str;
	for (i = 0; i < argc; i++)
		cmd[i + 3] = argv[i];

	/* The script cache is lost when Redis restarts or on SCRIPT FLUSH:
	 * NOSCRIPT means load it again and retry once. */
	for (attempt = 0; attempt < 2; attempt++) {
		if (r->sha[s][0] == '\0' && load_script(r, s) != 0)
			break;
		cmd[1] = r->sha[s];
		reply = duet_redis_command(r, argc + 3, cmd, NULL);
		if (reply == NULL || reply->type != REDIS_REPLY_ERROR ||
		    strncmp(reply->str, "NOSCRIPT", 8) != 0 || attempt == 1)
			break;
		freeReplyObject(reply);
		reply = NULL;
		r->sha[s][0] = '\0';
	}
	free(cmd);
	return reply;
}

int
duet_redis_key(char *buf, size_t len, const char *relay, const char *kind, const char *id)
{
	int n;

	if (buf == NULL || relay == NULL || relay[0] == '\0' || kind == NULL)
		return -EINVAL;
	n = snprintf(buf, len, "duet:{%s}:%s%s", relay, kind, id != NULL ? id : "");
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return 0;
}

int
duet_redis_pair_keys(const char *relay, const char *id,
		     char keys[DUET_REDIS_CREATE_NKEYS][DUET_REDIS_KEY_MAX])
{
	static const char *const kind[DUET_REDIS_CREATE_NKEYS] = {"free", "alloc", "pair:",
								   "events", "relay"};
	unsigned int i;
	int rc;

	if (id == NULL)
		return -EINVAL;
	for (i = 0; i < DUET_REDIS_CREATE_NKEYS; i++) {
		rc = duet_redis_key(keys[i], DUET_REDIS_KEY_MAX, relay, kind[i], i == 2 ? id : NULL);
		if (rc != 0)
			return rc;
	}
	return 0;
}
