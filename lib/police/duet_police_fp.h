/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_police fast path: one GCRA step (see duet_police.h). Inline for
 * worker lcores: a load, some arithmetic and a compare-and-swap that only
 * retries when another lcore charged the same bucket in between. No lock,
 * no allocation, no syscall.
 */
#ifndef DUET_POLICE_FP_H
#define DUET_POLICE_FP_H

#include <stdbool.h>
#include <stdint.h>

#include "duet_police.h"

/** The time one packet is worth at rate r, in TSC cycles (0: no limit). */
static inline uint64_t
duet_police_pkt_cycles(const struct duet_police_rate *r)
{
	return (uint64_t)r->pkt_cost << DUET_POLICE_PKT_SHIFT;
}

/** The time a packet of ip_bytes is worth at rate r, in TSC cycles (0: no limit). */
static inline uint64_t
duet_police_cost(const struct duet_police_rate *r, uint32_t ip_bytes)
{
	uint64_t by = ((uint64_t)r->byte_cost * ip_bytes) >> DUET_POLICE_BYTE_SHIFT;
	uint64_t pk = duet_police_pkt_cycles(r);

	return by > pk ? by : pk;
}

/**
 * Charge cost to the bucket *tat at TSC now with burst allowance tau.
 * @return true when the packet conforms (and was charged), false when it
 *         must be dropped (nothing charged). cost 0 always conforms.
 * Any thread; lock-free.
 */
static inline bool
duet_police_take(uint64_t *tat, uint64_t cost, uint64_t tau, uint64_t now)
{
	uint64_t old, base;

	if (cost == 0)
		return true;
	old = __atomic_load_n(tat, __ATOMIC_RELAXED);
	for (;;) {
		/* Behind now means the bucket refilled while idle. */
		base = (int64_t)(old - now) > 0 ? old : now;
		if ((int64_t)(base - now) > (int64_t)tau)
			return false;
		if (__atomic_compare_exchange_n(tat, &old, base + cost, true, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return true;
	}
}

/** Charge one packet to a relay-wide budget. @return true when it conforms. */
static inline bool
duet_police_budget_take(struct duet_police_budget *b, uint64_t now)
{
	if (b->rate.pkt_cost == 0)
		return false; /* a budget of 0 packets/s */
	return duet_police_take(&b->tat, duet_police_pkt_cycles(&b->rate), b->tau, now);
}

#endif /* DUET_POLICE_FP_H */
