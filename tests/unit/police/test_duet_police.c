/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of lib/police: the GCRA token bucket (rates, bursts, idle
 * refill, TSC wrap, the combined packet/byte cost, lock-free use from two
 * threads) and the relay-wide budgets. Time is passed in: no EAL. */
#include <pthread.h>
#include <stdint.h>

#include <criterion/criterion.h>

#include "duet_police.h"
#include "duet_police_fp.h"

#define HZ 1000000000ull /* a 1 GHz "TSC": 1 cycle = 1 ns */

/* Offer one packet every `gap` cycles for `n` packets from `start`;
 * count the ones that conform. */
static unsigned int
offer(uint64_t *tat, const struct duet_police_rate *r, uint64_t tau, uint32_t bytes,
      uint64_t start, uint64_t gap, unsigned int n)
{
	unsigned int i, ok = 0;

	for (i = 0; i < n; i++)
		ok += duet_police_take(tat, duet_police_cost(r, bytes), tau, start + i * gap);
	return ok;
}

Test(police, a_flood_gets_the_rate_plus_the_burst)
{
	struct duet_police_rate r;
	uint64_t tau = duet_police_tau(HZ, 200), start = 5 * HZ, tat = start;
	unsigned int ok;

	duet_police_rate_set(&r, HZ, 1000, 0);
	cr_assert_eq(duet_police_pkt_cycles(&r), 1000000);
	/* 100,000 packets/s for 1 s at 1,000 packets/s with 200 ms of burst:
	 * 1000 + 200 (+1: the first packet of a burst costs nothing yet). */
	ok = offer(&tat, &r, tau, 100, start, HZ / 100000, 100000);
	cr_assert(ok >= 1199 && ok <= 1201, "passed %u, want 1200 +- 1", ok);
}

Test(police, traffic_under_the_rate_always_passes)
{
	struct duet_police_rate r;
	uint64_t tau = duet_police_tau(HZ, 200), tat = 0;

	duet_police_rate_set(&r, HZ, 500, 0);
	/* 50 packets/s (20 ms Opus) for a minute. */
	cr_assert_eq(offer(&tat, &r, tau, 172, HZ, HZ / 50, 3000), 3000);
}

Test(police, idle_time_refills_the_bucket)
{
	struct duet_police_rate r;
	uint64_t tau = duet_police_tau(HZ, 100), tat = 0;
	unsigned int first, later;

	duet_police_rate_set(&r, HZ, 100, 0);
	/* Empty it with a burst at t = 1 s: 100 ms at 100/s = 10 (+1). */
	first = offer(&tat, &r, tau, 50, HZ, 1, 100);
	cr_assert_eq(first, 11);
	cr_assert_not(duet_police_take(&tat, duet_police_pkt_cycles(&r), tau, HZ + 200));
	/* Ten seconds of silence: the whole burst again, no more. */
	later = offer(&tat, &r, tau, 50, 11 * HZ, 1, 100);
	cr_assert_eq(later, 11);
}

Test(police, a_tsc_wrap_changes_nothing)
{
	struct duet_police_rate r;
	uint64_t tau = duet_police_tau(HZ, 200);
	uint64_t start = UINT64_MAX - HZ / 2; /* the counter wraps half-way through */
	uint64_t tat = start, tat_ref = 3 * HZ;
	unsigned int ok, ref;

	duet_police_rate_set(&r, HZ, 1000, 0);
	ok = offer(&tat, &r, tau, 100, start, HZ / 20000, 20000);
	ref = offer(&tat_ref, &r, tau, 100, 3 * HZ, HZ / 20000, 20000);
	cr_assert_eq(ok, ref, "across the wrap %u, without %u", ok, ref);
	cr_assert(ok >= 1199 && ok <= 1201, "passed %u", ok);
	/* And an idle bucket from before the wrap refills after it. */
	tat = UINT64_MAX - 10;
	cr_assert(duet_police_take(&tat, duet_police_pkt_cycles(&r), tau, 5 * HZ));
}

Test(police, the_byte_limit_holds_for_big_packets)
{
	struct duet_police_rate r;
	uint64_t tau = duet_police_tau(HZ, 100), tat = HZ;
	unsigned int ok;

	/* 10,000 packets/s allowed, but only 800 kbit/s = 100,000 bytes/s:
	 * 1000-byte packets are held to 100/s by bytes. */
	duet_police_rate_set(&r, HZ, 10000, 800);
	cr_assert_eq(duet_police_cost(&r, 1000), 10000000, "1000 bytes at 100 kB/s = 10 ms");
	cr_assert_eq(duet_police_cost(&r, 10), duet_police_pkt_cycles(&r), "small packets pay the packet cost");
	ok = offer(&tat, &r, tau, 1000, HZ, HZ / 10000, 20000); /* 2 s */
	cr_assert(ok >= 209 && ok <= 211, "passed %u, want 200 + 10 burst", ok);
}

Test(police, no_limit_passes_everything)
{
	struct duet_police_rate r;
	uint64_t tat = 0;

	duet_police_rate_set(&r, HZ, 0, 0);
	cr_assert_eq(r.pkt_cost, 0);
	cr_assert_eq(r.byte_cost, 0);
	cr_assert_eq(offer(&tat, &r, 0, 1500, HZ, 1, 100000), 100000);
	cr_assert_eq(tat, 0, "an off policer touched its bucket");
}

Test(police, huge_limits_never_round_to_no_limit)
{
	struct duet_police_rate r;

	duet_police_rate_set(&r, 1000, 10000000, 100000000);
	cr_assert_geq(r.pkt_cost, 1);
	cr_assert_geq(r.byte_cost, 1);
}

Test(police, thirty_two_bit_costs_round_up_and_reach_the_slowest_limits)
{
	struct duet_police_rate r;
	uint64_t hz = 3000000007ull; /* a TSC that divides nothing evenly */

	/* 3 packets/s: 1,000,000,002.33 cycles, held as 16-cycle units rounded
	 * up, so the limit is never exceeded by the rounding. */
	duet_police_rate_set(&r, hz, 3, 0);
	cr_assert_geq(duet_police_pkt_cycles(&r), hz / 3 + 1);
	cr_assert_lt(duet_police_pkt_cycles(&r), hz / 3 + 17);
	/* 1 packet/s and 1 kbit/s, the slowest limits a record can ask for,
	 * fit in 32 bits at this clock: a 125-byte packet is worth 1 s. */
	duet_police_rate_set(&r, hz, 1, 1);
	cr_assert_geq(duet_police_pkt_cycles(&r), hz);
	cr_assert_geq(duet_police_cost(&r, 125), hz);
	cr_assert_lt(duet_police_cost(&r, 125), hz + 200, "byte cost %lu",
		     (unsigned long)duet_police_cost(&r, 125));
	/* A clock too fast for 1 kbit/s in 32 bits saturates, never wraps to
	 * a small cost. */
	duet_police_rate_set(&r, 20000000000ull, 0, 1);
	cr_assert_eq(r.byte_cost, UINT32_MAX);
}

Test(police, budgets_cap_replies_and_zero_means_none)
{
	struct duet_police_budget b;
	unsigned int i, ok = 0;

	duet_police_budget_init(&b, HZ, 100, HZ);
	/* 100/s with 100 ms of burst, flooded for 2 s at 50,000/s. */
	for (i = 0; i < 100000; i++)
		ok += duet_police_budget_take(&b, HZ + (uint64_t)i * (HZ / 50000));
	cr_assert(ok >= 209 && ok <= 211, "passed %u, want 200 + 10", ok);
	duet_police_budget_init(&b, HZ, 0, HZ);
	cr_assert_not(duet_police_budget_take(&b, 2 * HZ));
	/* At 1 packet/s the burst is still one packet. */
	duet_police_budget_init(&b, HZ, 1, HZ);
	cr_assert(duet_police_budget_take(&b, HZ));
}

/* Two threads charge one bucket at the same simulated instant: the CAS
 * keeps the total exact, as if one thread had done it all. */
struct racer {
	uint64_t *tat;
	struct duet_police_rate *r;
	uint64_t tau;
	unsigned int ok;
};

static void *
race(void *arg)
{
	struct racer *x = arg;
	unsigned int i;

	for (i = 0; i < 200000; i++)
		x->ok += duet_police_take(x->tat, duet_police_cost(x->r, 100), x->tau,
					  HZ + (uint64_t)i * 50);
	return NULL;
}

Test(police, two_threads_share_one_bucket_exactly)
{
	struct duet_police_rate r;
	uint64_t tat = HZ, tau = duet_police_tau(HZ, 10);
	struct racer a = {&tat, &r, tau, 0}, b = {&tat, &r, tau, 0};
	pthread_t ta, tb;

	duet_police_rate_set(&r, HZ, 1000, 0);
	cr_assert_eq(pthread_create(&ta, NULL, race, &a), 0);
	cr_assert_eq(pthread_create(&tb, NULL, race, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	/* Both offer packets over 10 ms of simulated time: 10 packets of
	 * rate + 10 of burst (+1), never the double a lost update would give. */
	cr_assert(a.ok + b.ok >= 20 && a.ok + b.ok <= 22, "passed %u", a.ok + b.ok);
}
