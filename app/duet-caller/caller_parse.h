/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet-caller's argument parsers: seconds with decimals, IPv4 and IPv6
 * socket addresses ("192.0.2.1:4000", "[2001:db8::1]:4000", through
 * lib/addr), and the text form of an address for messages. Whole numbers
 * and ports are lib/util's duet_parse_u64 and duet_parse_port, shared with
 * duetctl and duetd. Pure functions (no I/O), used by the main thread while
 * reading the command line and Redis replies; unit-tested in
 * tests/unit/caller.
 */
#ifndef CALLER_PARSE_H
#define CALLER_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/** Longest text of an address: "[" v6 "]:" port, NUL. */
#define CALLER_ADDR_STRLEN 56

/**
 * Seconds as a decimal with at most three decimals ("5", "0.5", "2.125"),
 * turned into milliseconds in min_ms..max_ms.
 * @return 0 or -EINVAL
 */
int caller_parse_seconds(const char *s, uint64_t min_ms, uint64_t max_ms, uint64_t *ms);

/**
 * "a.b.c.d:port" or "[v6]:port" (lib/addr's duet_addr_parse grammar: a
 * bare IPv6 address needs its brackets, a port has no leading zeros) into
 * a socket address of that family: sockaddr_in or sockaddr_in6, *len set
 * to its size. Port 1..65535, or 0..65535 when allow_port0 (a bind address
 * the kernel completes).
 * @return 0 or -EINVAL
 */
int caller_parse_addr(const char *s, bool allow_port0, struct sockaddr_storage *out,
		      socklen_t *len);

/**
 * An IP address without a port, in canonical text ("192.0.2.1",
 * "2001:db8::1"), for the a_ip/b_ip hints of pair_create.lua.
 * @return 0, -EINVAL, -ENOSPC if len is too small
 */
int caller_canonical_ip(const char *s, char *buf, size_t len);

/**
 * The family of an IP address without a port (duet_addr_parse_ip's
 * grammar, no brackets).
 * @return AF_INET, AF_INET6, or 0 if s is not an IP address
 */
int caller_ip_family(const char *ip);

/** "IPv4", "IPv6" (AF_INET, AF_INET6), or "no family", for messages. */
const char *caller_family_name(int family);

/** True for the wildcard address (0.0.0.0 or ::), whatever the port. */
bool caller_addr_is_any(const struct sockaddr_storage *a);

/**
 * True for an IPv4-mapped IPv6 address (::ffff:a.b.c.d): an IPv6 socket
 * would send IPv4 to it, and a relay counts it as a martian source.
 */
bool caller_addr_is_v4mapped(const struct sockaddr_storage *a);

/** The port of a socket address (host order). */
uint16_t caller_addr_port(const struct sockaddr_storage *a);

/** Set the port of a socket address (host order). */
void caller_addr_set_port(struct sockaddr_storage *a, uint16_t port);

/** Format "ip:port" or "[v6]:port"; "?" if the family is unknown. Any length >= 2. */
void caller_format_addr(const struct sockaddr_storage *a, char *buf, size_t len);

#endif /* CALLER_PARSE_H */
