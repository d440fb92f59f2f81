/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_redis: the small layer over hiredis shared by duetd's control thread
 * (lib/sync) and duetctl: connect over TCP or a unix socket with timeouts,
 * AUTH with an ACL user or a password, key names of the Redis contract
 * (docs/redis-contract.md), and running the contract's Lua scripts by
 * EVALSHA with a SCRIPT LOAD fallback. Never used on a worker lcore.
 * Errors are kept on the object (err, errstr) like hiredis's redisContext.
 */
#ifndef DUET_REDIS_H
#define DUET_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#define DUET_REDIS_ERRSTR_MAX 256
#define DUET_REDIS_KEY_MAX 160

/** Which contract script. */
enum duet_redis_script {
	DUET_SCRIPT_PAIR_CREATE = 0,
	DUET_SCRIPT_PAIR_DELETE,
	DUET_SCRIPT_ENDPOINTS_SEED,
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

/** A connection. ctx is NULL while disconnected. */
struct duet_redis {
	redisContext *ctx;			 /**< hiredis context, or NULL */
	int err;				 /**< last error, 0 or -errno style */
	char errstr[DUET_REDIS_ERRSTR_MAX];	 /**< what went wrong, for logs */
	char sha[DUET_SCRIPT_MAX][41];		 /**< loaded script SHA1s ("" if not loaded) */
};

/**
 * Parse "unix:/path", "/path", "host:port", "[v6]:port" into a target
 * (pointers into buf, which must outlive the target).
 * @return 0 or -EINVAL.
 */
int duet_redis_parse_address(const char *s, char *buf, size_t buflen,
			     struct duet_redis_target *t);

/**
 * Connect and authenticate. On failure r->ctx is NULL and r->errstr says why.
 * @return 0, -ECONNREFUSED/-ETIMEDOUT/-EIO (unreachable), -EACCES (auth).
 */
int duet_redis_connect(struct duet_redis *r, const struct duet_redis_target *t);

/** Close the connection (safe when not connected). */
void duet_redis_close(struct duet_redis *r);

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
 * "duet:{relay}:pair:<id>"; suffix may be "" when id is NULL.
 * @return 0 or -ENOSPC.
 */
int duet_redis_key(char *buf, size_t len, const char *relay, const char *kind, const char *id);

#endif /* DUET_REDIS_H */
