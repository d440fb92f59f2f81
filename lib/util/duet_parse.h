/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_parse: the small text parsers every duet program shares, one of
 * each: a whole number, a TCP/UDP port, and a Redis server address. duetd's
 * config, the Redis records (through lib/addr and lib/contract), duetctl's
 * and duet-caller's options all call these, so a value has one grammar
 * wherever it is written. Pure functions with no state and no DPDK or
 * hiredis, so any thread may call them; in practice the control thread and
 * the command-line tools do, since nothing is parsed as text on a packet
 * path.
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

/** A Redis server address: a unix socket, or a TCP host and port. */
struct duet_redis_addr {
	char unix_path[DUET_REDIS_ADDR_PATH_MAX]; /**< absolute socket path, or "" for TCP */
	char host[DUET_REDIS_ADDR_HOST_MAX];	  /**< IP literal or host name, "" for unix */
	uint16_t port;				  /**< TCP port, 0 for unix */
};

/**
 * Parse where Redis listens, in the forms docs/config.md documents for
 * [redis] address and duetctl/duet-caller take for --redis:
 *   "unix:/abs/path" (and "/abs/path", the same), "a.b.c.d:port",
 *   "[v6]:port", "hostname:port".
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
