/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_redis: the small layer over hiredis shared by duetd's control thread
 * (lib/sync), duetctl and duet-caller: connect over TCP or a unix socket
 * with timeouts, AUTH with an ACL user or a password, key names of the
 * Redis contract (docs/redis-contract.md), and running the contract's Lua
 * scripts by EVALSHA with a SCRIPT LOAD fallback. Never used on a worker
 * lcore. Errors are kept on the object (err, errstr) like hiredis's
 * redisContext; messages name the address and the cause, never the
 * password. A server that vanishes mid-write cannot kill the process with
 * SIGPIPE: the calls here absorb it and report a lost connection instead.
 *
 * The address may name one server, the Sentinels of a master, or the seed
 * nodes of a Redis Cluster (duet_parse_redis_addr). Either way the
 * connection goes to the one master that holds the relay's keys: every
 * key is duet:{R}:..., one hash slot. A reply that says this server is not
 * (or no longer) that master (READONLY, MOVED, ASK, CLUSTERDOWN, ...)
 * closes the connection like a transport error, so the caller's reconnect
 * finds the master again (docs/redis-contract.md, "Redis deployments").
 */
#ifndef DUET_REDIS_H
#define DUET_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "duet_parse.h"

#define DUET_REDIS_ERRSTR_MAX 256
#define DUET_REDIS_KEY_MAX 160
#define DUET_REDIS_WHERE_MAX 160 /**< room for "unix:/path" or "host:port (...)" in messages */
#define DUET_REDIS_SLOTS 16384	 /**< hash slots of a Redis Cluster */

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

/**
 * Where and how to connect. Zero-initialised, it is one server (kind
 * DUET_REDIS_ADDR_SERVER); duet_redis_target_set() fills the address
 * fields from a parsed address.
 */
struct duet_redis_target {
	enum duet_redis_addr_kind kind;	     /**< one server, Sentinels or a cluster */
	const char *unix_path;		     /**< SERVER: unix socket path, or NULL/"" for TCP */
	const char *host;		     /**< SERVER: TCP host */
	uint16_t port;			     /**< SERVER: TCP port */
	const char *master_name;	     /**< SENTINEL: the name the Sentinels watch */
	const struct duet_redis_node *nodes; /**< SENTINEL: the Sentinels; CLUSTER: seed nodes */
	unsigned int n_nodes;		     /**< entries of nodes */
	const char *relay;		     /**< CLUSTER: relay id R; the master of the slot of
						  duet:{R}:... is the one to connect to */
	const char *user;		     /**< ACL user or NULL */
	const char *password;		     /**< password or NULL */
	uint32_t timeout_ms;		     /**< connect and command timeout (per server) */
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
	char where[DUET_REDIS_WHERE_MAX];	 /**< address for messages ("unix:/x", "h:p",
						      "h:p (master of NAME)") */
	unsigned int node_first;		 /**< SENTINEL, CLUSTER: the node that answered
						      last, asked first next time */
	char moved_host[DUET_REDIS_ADDR_HOST_MAX]; /**< CLUSTER: where the last MOVED pointed,
						        tried first at the next connect; "" if not */
	uint16_t moved_port;			   /**< ... and its port */
};

/**
 * Point t's address fields (kind, unix_path, host, port, master_name,
 * nodes, n_nodes) into a, which must outlive t. Leaves relay, user,
 * password and timeout_ms as they were. Any thread.
 */
void duet_redis_target_set(struct duet_redis_target *t, const struct duet_redis_addr *a);

/**
 * Parse a Redis address into a and point t at it: lib/util's
 * duet_parse_redis_addr (the one grammar of the config's [redis] address
 * and of --redis: "unix:/path", "/path", "a.b.c.d:port", "[v6]:port",
 * "hostname:port", "sentinel:NAME@host:port,...", "cluster:host:port,...")
 * then duet_redis_target_set().
 * @param why  on failure, what is wrong (static text), or NULL.
 * @return 0 or -EINVAL. Any thread.
 */
int duet_redis_parse_address(const char *s, struct duet_redis_addr *a,
			     struct duet_redis_target *t, const char **why);

/**
 * Connect, set the command timeout, authenticate (AUTH user password when
 * t->user is set, else AUTH password), PING, and check with HELLO that the
 * server is a master (a replica cannot take duetd's writes) and in the
 * mode the address says (standalone or cluster). Closes any earlier
 * connection first. timeout_ms 0 means 2000 ms.
 * SENTINEL: asks each Sentinel in turn (the one that answered last first)
 * for the master's address (SENTINEL get-master-addr-by-name) and connects
 * there; a Sentinel that answers NOAUTH is sent t's credentials.
 * CLUSTER: asks each seed node in turn (after the target of the last MOVED)
 * for CLUSTER SLOTS and connects to the master of t->relay's slot.
 * A server that does not know HELLO (Redis < 6) or refuses it (ACL) is
 * taken as it is: a replica then shows itself by READONLY at the first
 * write, which closes the connection.
 * On failure r->ctx is NULL and r->errstr says why ("redis unix:/x:
 * connection refused").
 * @return 0, -ECONNREFUSED/-ETIMEDOUT/-EIO (unreachable), -EACCES (wrong
 *         credentials, or the server wants a password and none was given),
 *         -EROFS (the server is a replica), -EPROTO (a Sentinel or a cluster
 *         node where the address named another kind), -EHOSTUNREACH (no
 *         Sentinel or seed node named a master), -EINVAL (no address, or a
 *         cluster target without a relay), -ENOMEM.
 */
int duet_redis_connect(struct duet_redis *r, const struct duet_redis_target *t);

/** Close the connection (safe when not connected). */
void duet_redis_close(struct duet_redis *r);

/**
 * Run one command (argvlen may be NULL for NUL-terminated strings).
 * A transport failure (timeout, connection lost) closes the connection, so
 * r->ctx == NULL tells the caller to reconnect. So does an error reply
 * saying the server is not the master of our keys (any more): READONLY,
 * MOVED, ASK, CLUSTERDOWN, TRYAGAIN, MASTERDOWN, UNBLOCKED, NOREPLICAS
 * (duet_redis_reply_is_redirect()); the reply is freed, and a MOVED
 * target is remembered for the next connect.
 * @return the reply (caller frees with freeReplyObject), or NULL with
 *         r->err/errstr set (-ENOTCONN when not connected, -ETIMEDOUT,
 *         -EIO, -EAGAIN after a redirect reply). Any other Redis error
 *         reply is returned, not NULL.
 */
redisReply *duet_redis_command(struct duet_redis *r, int argc, const char **argv,
			       const size_t *argvlen);

/**
 * Queue a command for a pipeline (sent by the next duet_redis_get_reply()).
 * @return 0, -ENOTCONN or -ENOMEM with r->errstr set.
 */
int duet_redis_append(struct duet_redis *r, int argc, const char **argv, const size_t *argvlen);

/**
 * duet_redis_append() of `cmd key`, a command with one argument (HGETALL,
 * DEL, ...), formatted here without hiredis's general formatter: a full
 * load queues a million of them. The key is binary-safe (keylen bytes).
 * @return 0, -ENOTCONN or -ENOMEM with r->errstr set.
 */
int duet_redis_append_key_cmd(struct duet_redis *r, const char *cmd, const char *key,
			      size_t keylen);

/**
 * Send the commands queued with duet_redis_append() now, without waiting
 * for a reply, so Redis works on them while the caller does something
 * else; duet_redis_get_reply() then reads their replies. Blocks only while
 * the socket buffer is full (at most the command timeout).
 * @return 0, or -ENOTCONN / -ETIMEDOUT / -EIO with the connection closed
 *         (a server that went away cannot raise SIGPIPE).
 */
int duet_redis_flush(struct duet_redis *r);

/**
 * The reply to the oldest command queued with duet_redis_append(), with the
 * same error handling as duet_redis_command() (a transport failure or a
 * redirect reply closes the connection and returns NULL; the replies to
 * the commands queued after it are not read). A reply that arrived with an
 * earlier one is returned without a system call.
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

/** KEYS of pair_create.lua: free, alloc, pair:<id>, events, relay. */
#define DUET_REDIS_CREATE_NKEYS 5
/** KEYS of pair_delete.lua: the first four of pair_create.lua's. */
#define DUET_REDIS_DELETE_NKEYS 4

/**
 * Fill the KEYS of the pair scripts for pair id of relay, in the order
 * both scripts take them (pair_delete.lua takes the first
 * DUET_REDIS_DELETE_NKEYS).
 * @return 0, or -EINVAL / -ENOSPC as duet_redis_key(). Any thread.
 */
int duet_redis_pair_keys(const char *relay, const char *id,
			 char keys[DUET_REDIS_CREATE_NKEYS][DUET_REDIS_KEY_MAX]);

/**
 * True when an error reply says this server is not the master of the keys
 * (any more), so the command must go to another server after a reconnect:
 * READONLY (a replica, or a master demoted by a failover), MOVED and ASK
 * (another cluster node owns the slot), CLUSTERDOWN, TRYAGAIN (a slot
 * being moved), MASTERDOWN (a replica cut off from its master), UNBLOCKED
 * (a blocked read ended by a demotion) and NOREPLICAS (a master refusing
 * writes for want of replicas: min-replicas-to-write). Any thread (pure).
 */
bool duet_redis_reply_is_redirect(const redisReply *reply);

/**
 * The Redis Cluster hash slot of a key: CRC16 (XMODEM) of the key, or of
 * its hash tag (the text between the first '{' and the next '}', when not
 * empty), modulo 16384. Every contract key duet:{R}:... is in the slot of R.
 * Any thread (pure).
 */
uint16_t duet_redis_slot(const char *key, size_t len);

#endif /* DUET_REDIS_H */
