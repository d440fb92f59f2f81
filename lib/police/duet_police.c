/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_police: limits to TSC costs. Main and control thread (config load,
 * pair records); the per-packet step is in duet_police_fp.h.
 */
#include <string.h>

#include "duet_police.h"

void
duet_police_rate_set(struct duet_police_rate *r, uint64_t hz, uint32_t pps, uint32_t kbps)
{
	r->pkt_cost = pps != 0 ? hz / pps : 0;
	/* hz * 8 bits * 2^16 / (kbps * 1000): fits 64 bits for any TSC below
	 * 2^64 / 2^19, i.e. up to 35 THz. A cost that rounds to 0 at a huge
	 * limit stays at 1 so the limit is never silently lifted. */
	if (kbps == 0) {
		r->byte_cost_q16 = 0;
	} else {
		r->byte_cost_q16 = (hz * 8u * 65536u) / ((uint64_t)kbps * 1000u);
		if (r->byte_cost_q16 == 0)
			r->byte_cost_q16 = 1;
	}
	if (pps != 0 && r->pkt_cost == 0)
		r->pkt_cost = 1;
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
	if (b->tau < b->rate.pkt_cost)
		b->tau = 0;
	b->tat = now;
}
