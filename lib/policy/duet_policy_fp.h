/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_policy fast path: may the relay send to this address? Inline for
 * worker lcores, which ask it only when a leg would latch or re-latch (a
 * latched client passed it already) and for ICMP echo sources. Reads the
 * table that duet_policy.h builds before workers start; no writes.
 */
#ifndef DUET_POLICY_FP_H
#define DUET_POLICY_FP_H

#include "duet_policy.h"

/**
 * The source policy for an IP, port not looked at (ICMP echo sources).
 * Checks, in order: built-in classes, own service addresses, denied_peers
 * unless an allowed_peers entry holds it.
 * @return DUET_POLICY_OK or why it is refused. Any thread.
 */
static inline enum duet_policy_verdict
duet_policy_check_ip(const struct duet_policy *p, const struct duet_addr *a)
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
