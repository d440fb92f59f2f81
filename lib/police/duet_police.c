/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_police: limits to TSC costs. Main and control thread (config load,
 * pair records); the per-packet step is in duet_police_fp.h.
 */
#include <string.h>

#include "duet_police.h"
#include "duet_police_fp.h"

/* ceil(num / den) in `unit`-shifted units, saturated to 32 bits; at least
 * 1 so that a huge limit never rounds to "no limit". */
static uint32_t
police_cost32(uint64_t num, uint64_t den)
{
	uint64_t c = num / den + (num % den != 0);

	if (c > UINT32_MAX)
		return UINT32_MAX;
	return c != 0 ? (uint32_t)c : 1;
}

void
duet_police_rate_set(struct duet_police_rate *r, uint64_t hz, uint32_t pps, uint32_t kbps)
{
	/* hz * 8 bits * 2^6 / (kbps * 1000) fits 64 bits for any TSC below
	 * 2^64 / 2^9, far beyond any clock. */
	r->pkt_cost = pps != 0 ? police_cost32(hz, (uint64_t)pps << DUET_POLICE_PKT_SHIFT) : 0;
	r->byte_cost = kbps != 0 ? police_cost32(hz * 8u << DUET_POLICE_BYTE_SHIFT,
						 (uint64_t)kbps * 1000u)
				 : 0;
}

uint64_t
duet_police_tau(uint64_t hz, uint32_t ms)
{
	return hz / 1000u * ms;
}

void
duet_police_budget_init(struct duet_police_budget *b, uint64_t hz, uint32_t pps, uint64_t now)
{
	memset(b, 0, sizeof(*b));
	duet_police_rate_set(&b->rate, hz, pps, 0);
	b->tau = duet_police_tau(hz, DUET_POLICE_BUDGET_BURST_MS);
	/* Below one packet's worth the burst is one packet (GCRA lets
	 * tau / cost + 1 through at once). */
	if (b->tau < duet_police_pkt_cycles(&b->rate))
		b->tau = 0;
	b->tat = now;
}
