/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_policy fast path: may the relay send to this address? Inline for
 * worker lcores, which ask it only when a leg would latch or re-latch (a
 * latched client passed it already) and for ICMP echo sources. Reads the
 * table that duet_policy.h builds before workers start; no writes.
 */
#ifndef DUET_POLICY_FP_H
#define DUET_POLICY_FP_H

#include <stdbool.h>
#include <string.h>

#include "duet_policy.h"

/**
 * The IPv4 address an IPv6 one carries toward an IPv4 host, if it is of a
 * prefix that does: the well-known NAT64 prefix 64:ff9b::/96 (RFC 6052,
 * the last 32 bits) or 6to4's 2002::/16 (RFC 3056, bits 16-47). A packet
 * sent there reaches that IPv4 host through a translator, so the IPv4
 * policy applies to it too. @return true with *v4 set. Any thread.
 */
static inline bool
duet_policy_embedded_v4(const struct duet_addr *a, struct duet_addr *v4)
{
	static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
	const uint8_t *ip;

	if (a->family != DUET_AF_INET6)
		return false;
	if (memcmp(a->ip, nat64, sizeof(nat64)) == 0)
		ip = a->ip + 12;
	else if (a->ip[0] == 0x20 && a->ip[1] == 0x02)
		ip = a->ip + 2;
	else
		return false;
	memset(v4, 0, sizeof(*v4));
	v4->family = DUET_AF_INET4;
	memcpy(v4->ip, ip, 4);
	return true;
}

/* duet_policy_check_ip() for one address, without looking inside it. */
static inline enum duet_policy_verdict
duet_policy_check_one_(const struct duet_policy *p, const struct duet_addr *a)
{
	unsigned int i, j;

	if (a->family == DUET_AF_NONE)
		return DUET_POLICY_FAMILY;
	for (i = 0; i < p->n_builtin; i++)
		if (duet_cidr_match(&p->builtin[i], a))
			return DUET_POLICY_BUILTIN;
	for (i = 0; i < p->n_own; i++)
		if (duet_addr_same_ip(&p->own[i], a))
			return DUET_POLICY_OWN;
	for (i = 0; i < p->n_denied; i++) {
		if (!duet_cidr_match(&p->denied[i], a))
			continue;
		for (j = 0; j < p->n_allowed; j++)
			if (duet_cidr_match(&p->allowed[j], a))
				return DUET_POLICY_OK;
		return DUET_POLICY_DENIED;
	}
	return DUET_POLICY_OK;
}

/**
 * The source policy for an IP, port not looked at (ICMP echo sources).
 * Checks, in order: built-in classes, own service addresses, denied_peers
 * unless an allowed_peers entry holds it; for an IPv6 address that carries
 * an IPv4 one toward a translator (duet_policy_embedded_v4()), the same
 * for that IPv4 address, so a caller cannot aim the relay at 127.0.0.1 or
 * a denied IPv4 network by writing it inside 64:ff9b::/96.
 * @return DUET_POLICY_OK or why it is refused. Any thread.
 */
static inline enum duet_policy_verdict
duet_policy_check_ip(const struct duet_policy *p, const struct duet_addr *a)
{
	enum duet_policy_verdict v = duet_policy_check_one_(p, a);
	struct duet_addr v4;

	if (v == DUET_POLICY_OK && duet_policy_embedded_v4(a, &v4))
		v = duet_policy_check_one_(p, &v4);
	return v;
}

/**
 * The source policy for a transport address: UDP port 0 is refused, then
 * as duet_policy_check_ip(). Used for latching, re-latching and pins.
 * @return DUET_POLICY_OK or why it is refused. Any thread.
 */
static inline enum duet_policy_verdict
duet_policy_check(const struct duet_policy *p, const struct duet_addr *a)
{
	if (a->family != DUET_AF_NONE && a->port == 0)
		return DUET_POLICY_PORT0;
	return duet_policy_check_ip(p, a);
}

#endif /* DUET_POLICY_FP_H */
