/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_parse: the small text parsers every duet program shares, one of
 * each: a whole number, a TCP/UDP port, and a Redis address (one server,
 * Sentinels or cluster nodes). duetd's config, the Redis records (through
 * lib/addr and lib/contract), duetctl's and duet-caller's options all
 * call these, so a value has one grammar wherever it is written. Pure
 * functions with no state and no DPDK or hiredis, so any thread may call
 * them; in practice the control thread and the command-line tools do,
 * since nothing is parsed as text on a packet path.
 */
#ifndef DUET_PARSE_H
#define DUET_PARSE_H

#include <stdint.h>

/**
 * Parse a whole decimal number in [min, max]: digits only, no sign, no
 * blanks, no leading zero (except "0" itself), no overflow past UINT64_MAX.
 * Callable from any thread (pure, no state).
 *
 * @param s    NUL-terminated text; NULL is refused.
 * @param min  smallest value accepted.
 * @param max  largest value accepted.
 * @param out  the value, written only on success.
 * @return 0, or -EINVAL if s is NULL, empty, not plain digits, has a leading
 *         zero, overflows, or is outside [min, max].
 */
int duet_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/** duet_parse_port(): port 0 is a value (a bind port the kernel picks). */
#define DUET_PARSE_PORT_ZERO (1u << 0)
/**
 * duet_parse_port(): leading zeros are accepted ("0080" is 80). The
 * config's [redis] address takes them, so configs that loaded with them
 * keep loading; endpoints (lib/addr, which Redis compares as text) and
 * options typed on a command line keep one spelling per value and leave
 * this out.
 */
#define DUET_PARSE_PORT_LEADING_ZEROS (1u << 1)

/**
 * Parse a TCP or UDP port: decimal digits only (no sign, blanks or "0x"),
 * 1..65535, or 0..65535 with DUET_PARSE_PORT_ZERO. Any thread (pure).
 *
 * @param s      NUL-terminated text; NULL is refused.
 * @param flags  DUET_PARSE_PORT_* bits, 0 for the strict form.
 * @param out    the port in host byte order, written only on success.
 * @return 0 or -EINVAL.
 */
int duet_parse_port(const char *s, unsigned int flags, uint16_t *out);

#define DUET_REDIS_ADDR_PATH_MAX 108 /**< sun_path: 107 characters and NUL */
#define DUET_REDIS_ADDR_HOST_MAX 256 /**< a DNS name (253) or an IP literal, NUL */
#define DUET_REDIS_ADDR_NAME_MAX 65  /**< a Sentinel master name: 64 characters, NUL */
#define DUET_REDIS_ADDR_NODES_MAX 8  /**< Sentinels or cluster seed nodes in one address */

/** What a Redis address names. */
enum duet_redis_addr_kind {
	DUET_REDIS_ADDR_SERVER = 0, /**< one server: a unix socket or host:port */
	DUET_REDIS_ADDR_SENTINEL,   /**< Sentinels to ask for the master of a name */
	DUET_REDIS_ADDR_CLUSTER,    /**< seed nodes of a Redis Cluster */
};

/** A TCP node of a Sentinel or cluster address. */
struct duet_redis_node {
	char host[DUET_REDIS_ADDR_HOST_MAX]; /**< IP literal or host name */
	uint16_t port;			     /**< TCP port */
};

/**
 * A Redis address: one server (a unix socket, or a TCP host and port), a
 * set of Sentinels and the master name they watch, or the seed nodes of a
 * cluster.
 */
struct duet_redis_addr {
	enum duet_redis_addr_kind kind;		  /**< which of the forms below */
	char unix_path[DUET_REDIS_ADDR_PATH_MAX]; /**< SERVER: socket path, or "" for TCP */
	char host[DUET_REDIS_ADDR_HOST_MAX];	  /**< SERVER: IP literal or host name, "" for unix */
	uint16_t port;				  /**< SERVER: TCP port, 0 for unix */
	char master_name[DUET_REDIS_ADDR_NAME_MAX]; /**< SENTINEL: the master's name, else "" */
	struct duet_redis_node nodes[DUET_REDIS_ADDR_NODES_MAX]; /**< SENTINEL: the Sentinels;
								      CLUSTER: seed nodes */
	unsigned int n_nodes; /**< entries of nodes[]: 0 for SERVER, else 1..NODES_MAX */
};

/**
 * Parse where Redis listens, in the forms docs/config.md documents for
 * [redis] address and duetctl/duet-caller take for --redis:
 *   "unix:/abs/path" (and "/abs/path", the same), "a.b.c.d:port",
 *   "[v6]:port", "hostname:port"                           one server;
 *   "sentinel:NAME@NODE,NODE,..."   Sentinels watching master NAME;
 *   "cluster:NODE,NODE,..."         seed nodes of a Redis Cluster;
 * where a NODE is "a.b.c.d:port", "[v6]:port" or "hostname:port", at most
 * DUET_REDIS_ADDR_NODES_MAX of them, and NAME is 1..64 characters of
 * [A-Za-z0-9._-]. "sentinel:PORT" and "cluster:PORT" (digits only after
 * the colon) stay what they always were: a host of that name.
 * A path must be absolute and fit sun_path. A host of only digits and dots
 * must be a valid IPv4 address; brackets must hold an IPv6 address; an
 * IPv6 address without brackets is refused (its colons are ambiguous); a
 * host name is letters, digits, '.', '-' and '_'. The port is 1..65535,
 * leading zeros accepted (configs that load today keep loading).
 * Any thread (pure).
 *
 * @param s    NUL-terminated text; NULL is refused.
 * @param out  the address, written only on success.
 * @param why  on failure, what is wrong, for a message that also names the
 *             input (may be NULL); a static string.
 * @return 0 or -EINVAL.
 */
int duet_parse_redis_addr(const char *s, struct duet_redis_addr *out, const char **why);

#endif /* DUET_PARSE_H */
