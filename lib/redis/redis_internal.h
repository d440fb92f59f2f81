/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/redis internals, shared by its files and by its unit tests only (not
 * installed). The files, each calling only the ones listed after it:
 *
 *   duet_redis_connect.c  which server to open: one server, the master the
 *                         Sentinels name, or the cluster node owning the
 *                         relay's slot; the HELLO role check
 *   duet_redis.c          one connection: open, AUTH, commands, pipelines,
 *                         closing on transport errors and redirects, the
 *                         contract scripts, key names
 *   duet_redis_reply.c    pure reading of replies: redirects, MOVED, HELLO,
 *                         SENTINEL get-master-addr-by-name, CLUSTER SLOTS,
 *                         and the cluster hash slot of a key
 *
 * Whoever owns the struct duet_redis calls these (duetd's control thread,
 * the tools' main thread).
 */
#ifndef DUET_REDIS_INTERNAL_H
#define DUET_REDIS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet_redis.h"

/* ---- duet_redis_reply.c (pure) ---- */

/* What HELLO says of a server. */
struct redis_hello {
	bool master;	/* role master (else replica) */
	char mode[16];	/* "standalone", "cluster" or "sentinel" */
};

/* The target of "MOVED <slot> <host>:<port>" (or "[v6]:port").
 * @return 0, or -EINVAL if err is not one or the host does not fit. */
int redis_parse_moved(const char *err, char *host, size_t hostlen, uint16_t *port);
/* The reply to HELLO 2 (a flat array of names and values).
 * @return 0, or -EPROTO if it has no role or mode. */
int redis_parse_hello(const redisReply *reply, struct redis_hello *h);
/* The reply to SENTINEL get-master-addr-by-name: [host, port].
 * @return 0, -ENOENT for a nil reply (the Sentinel does not know the
 *         name), or -EPROTO. */
int redis_parse_master_addr(const redisReply *reply, char *host, size_t hostlen, uint16_t *port);
/* The master of slot in a CLUSTER SLOTS reply: [[start, end, [host, port,
 * id, ...], replicas...], ...]. An empty host (Redis's "unknown endpoint")
 * is refused. @return 0, -ENOENT if no range holds the slot, or -EPROTO. */
int redis_parse_slot_owner(const redisReply *reply, uint16_t slot, char *host, size_t hostlen,
			   uint16_t *port);

/* ---- duet_redis.c ---- */

/* Set r->err and r->errstr to "redis <where>: <message>". */
void redis_set_err(struct duet_redis *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* r->where for messages: "unix:/p", "h:p" or "[v6]:p", then " (what)"
 * when what is not NULL. */
void redis_set_where(struct duet_redis *r, const char *unix_path, const char *host,
		     uint16_t port, const char *what);
/* Open a connection to one server (unix_path, or host and port) with the
 * connect and command timeout; no command is sent. Closes any earlier one.
 * @return 0, or the error as for duet_redis_connect() with r->errstr set. */
int redis_open(struct duet_redis *r, const char *unix_path, const char *host, uint16_t port,
	       uint32_t timeout_ms);
/* AUTH with t's credentials when it has any, then PING.
 * @return 0, -EACCES, or a transport error (the connection is then closed). */
int redis_authenticate(struct duet_redis *r, const struct duet_redis_target *t);

#endif /* DUET_REDIS_INTERNAL_H */
