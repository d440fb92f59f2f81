/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_cidr: an IP prefix ("192.0.2.0/24", "2001:db8::/32") of either
 * family, as text and as a match against a struct duet_addr. The source
 * policy's classes and the config's [security] denied_peers and
 * allowed_peers entries are CIDRs. Parsing and formatting run on the main
 * thread (config load) and the control thread (messages); the match is
 * inline and safe on worker lcores.
 */
#ifndef DUET_CIDR_H
#define DUET_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "duet_addr.h"

/** Longest text form: an IP (DUET_ADDR_STRLEN covers it), "/128", NUL. */
#define DUET_CIDR_STRLEN (DUET_ADDR_STRLEN + 4)

/** An IP prefix. Bits past len are zero. */
struct duet_cidr {
	uint8_t family; /**< DUET_AF_INET4 or DUET_AF_INET6 */
	uint8_t len;	/**< prefix length, 0..32 or 0..128 */
	uint8_t ip[16]; /**< network bytes, network order */
};

/**
 * Parse "a.b.c.d/len", "v6/len", or a bare address (a host prefix). Bits past
 * the prefix must be zero ("192.0.2.1/24" is refused: it names a host, not a
 * network, and is almost always a typo).
 * @param s   NUL-terminated text; NULL is refused.
 * @param out the prefix, written only on success.
 * @param why on failure, what is wrong (may be NULL); a static string.
 * @return 0 or -EINVAL. Any thread.
 */
int duet_cidr_parse(const char *s, struct duet_cidr *out, const char **why);

/**
 * Format as "ip/len" into buf (DUET_CIDR_STRLEN bytes always suffice).
 * @return 0, -ENOSPC if len is too small, -EINVAL for a family that is
 *         neither IPv4 nor IPv6. Any thread.
 */
int duet_cidr_format(const struct duet_cidr *c, char *buf, size_t len);

/** True when address a (port ignored) is inside prefix c. Any thread. */
static inline bool
duet_cidr_match(const struct duet_cidr *c, const struct duet_addr *a)
{
	unsigned int full = c->len / 8u, rest = c->len % 8u;

	if (a->family != c->family)
		return false;
	if (full > 0 && memcmp(a->ip, c->ip, full) != 0)
		return false;
	if (rest != 0) {
		uint8_t mask = (uint8_t)(0xffu << (8u - rest));

		if ((a->ip[full] & mask) != c->ip[full])
			return false;
	}
	return true;
}

#endif /* DUET_CIDR_H */
