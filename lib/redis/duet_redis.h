/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_redis: the small layer over hiredis shared by duetd's control thread
 * (lib/sync) and duetctl: connect over TCP or a unix socket with timeouts,
 * AUTH with an ACL user or a password, key names of the Redis contract
 * (docs/redis-contract.md), and running the contract's Lua scripts by
 * EVALSHA with a SCRIPT LOAD fallback. Never used on a worker lcore.
 * Errors are kept on the object (err, errstr) like hiredis's redisContext;
 * messages name the address and the cause, never the password. A server
 * that vanishes mid-write cannot kill the process with SIGPIPE: the calls
 * here absorb it and report a lost connection instead.
 */
#ifndef DUET_REDIS_H
#define DUET_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#define DUET_REDIS_ERRSTR_MAX 256
#define DUET_REDIS_KEY_MAX 160
#define DUET_REDIS_WHERE_MAX 128 /**< room for "unix:/path" or "host:port" in messages */

/** Default approximate length (MAXLEN ~) of duet:{R}:events for the scripts. */
#define DUET_REDIS_EVENTS_MAXLEN 100000
/** Approximate length (MAXLEN ~) duetd keeps of duet:{R}:ended. */
#define DUET_REDIS_ENDED_MAXLEN 100000

/** Which contract script. */
enum duet_redis_script {
	DUET_SCRIPT_PAIR_CREATE = 0,
	DUET_SCRIPT_PAIR_DELETE,
	DUET_SCRIPT_ENDPOINTS_SEED,
	DUET_SCRIPT_RELAY_LEASE,
	DUET_SCRIPT_MAX
};

/** Where and how to connect. */
struct duet_redis_target {
	const char *unix_path;	     /**< unix socket path, or NULL/"" for TCP */
	const char *host;	     /**< TCP host */
	uint16_t port;		     /**< TCP port */
	const char *user;	     /**< ACL user or NULL */
	const char *password;	     /**< password or NULL */
	uint32_t timeout_ms;	     /**< connect and command timeout */
};

/**
 * A connection. ctx is NULL while disconnected. Zero-initialise before the
 * first duet_redis_connect(). Not thread-safe: one thread owns it.
 */
struct duet_redis {
	redisContext *ctx;			 /**< hiredis context, or NULL */
	int err;				 /**< last error, 0 or -errno style */
	char errstr[DUET_REDIS_ERRSTR_MAX];	 /**< what went wrong, for logs */
	char sha[DUET_SCRIPT_MAX][41];		 /**< loaded script SHA1s, "" if not */
	char where[DUET_REDIS_WHERE_MAX];	 /**< address for messages ("unix:/x", "h:p") */
};

/**
 * Parse a Redis address into a target, with lib/util's duet_parse_redis_addr
 * (the one grammar of the config's [redis] address and of --redis:
 * "unix:/path", "/path", "a.b.c.d:port", "[v6]:port", "hostname:port").
 * unix_path or host point into buf, which must outlive the target. Only
 * unix_path, host and port are set; user, password and timeout_ms are left
 * as they were.
 * @return 0 or -EINVAL (-ENOSPC if buf is too small). Any thread.
 */
int duet_redis_parse_address(const char *s, char *buf, size_t buflen,
			     struct duet_redis_target *t);

/**
 * Connect, set the command timeout, authenticate (AUTH user password when
 * t->user is set, else AUTH password) and PING. Closes any earlier
 * connection first. timeout_ms 0 means 2000 ms. On failure r->ctx is NULL
 * and r->errstr says why ("redis unix:/x: connection refused").
 * @return 0, -ECONNREFUSED/-ETIMEDOUT/-EIO (unreachable), -EACCES (wrong
 *         credentials, or the server wants a password and none was given),
 *         -EINVAL (no address), -ENOMEM.
 */
int duet_redis_connect(struct duet_redis *r, const struct duet_redis_target *t);

/** Close the connection (safe when not connected). */
void duet_redis_close(struct duet_redis *r);

/**
 * Run one command (argvlen may be NULL for NUL-terminated strings).
 * A transport failure (timeout, connection lost) closes the connection, so
 * r->ctx == NULL tells the caller to reconnect.
 * @return the reply (caller frees with freeReplyObject), or NULL with
 *         r->err/errstr set (-ENOTCONN when not connected, -ETIMEDOUT,
 *         -EIO). A Redis error reply is returned, not NULL.
 */
redisReply *duet_redis_command(struct duet_redis *r, int argc, const char **argv,
			       const size_t *argvlen);

/**
 * Queue a command for a pipeline (sent by the next duet_redis_get_reply()).
 * @return 0, -ENOTCONN or -ENOMEM with r->errstr set.
 */
int duet_redis_append(struct duet_redis *r, int argc, const char **argv, const size_t *argvlen);

/**
 * The reply to the oldest command queued with duet_redis_append(), with the
 * same error handling as duet_redis_command() (a transport failure closes
 * the connection and returns NULL).
 */
redisReply *duet_redis_get_reply(struct duet_redis *r);

/**
 * SCRIPT LOAD every contract script and remember their SHA1s, so a script
 * error surfaces at connect time rather than at the first pair.
 * @return 0, -EPROTO if Redis refused a script (r->errstr has its error),
 *         or a transport error as for duet_redis_command().
 */
int duet_redis_load_scripts(struct duet_redis *r);

/** The source text of a contract script (as embedded from lib/contract/lua/). */
const char *duet_redis_script_text(enum duet_redis_script s);

/**
 * Run a contract script with EVALSHA (loading it with SCRIPT LOAD on
 * NOSCRIPT). argv are the KEYS then ARGV as strings.
 * @return the reply (caller frees with freeReplyObject), or NULL with
 *         r->err/errstr set; a Redis error reply is returned as a reply of
 *         type REDIS_REPLY_ERROR (not NULL).
 */
redisReply *duet_redis_script(struct duet_redis *r, enum duet_redis_script s, int nkeys,
			      int argc, const char **argv);

/**
 * Format a contract key: duet_redis_key(buf, len, relay, "pair:", id) gives
 * "duet:{relay}:pair:<id>"; id may be NULL, as in (..., relay, "events", NULL).
 * @return 0, -ENOSPC if it does not fit, -EINVAL for a NULL or empty relay
 *         or a NULL kind. Any thread.
 */
int duet_redis_key(char *buf, size_t len, const char *relay, const char *kind, const char *id);

#endif /* DUET_REDIS_H */
