/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/util/duet_clock.h: the clocks in ns and ms agree, and
 * duet_clock_rate_hz() turns a cycle count over a CLOCK_MONOTONIC interval
 * into the counter's rate, which the control thread uses instead of DPDK's
 * estimate of the TSC rate (0.15 % off on our CI VM).
 */
#include <stdint.h>
#include <time.h>

#include <criterion/criterion.h>

#include "duet_clock.h"

Test(clock, ns_and_ms_agree)
{
	uint64_t ms0 = duet_clock_ms(CLOCK_MONOTONIC);
	uint64_t ns = duet_clock_ns(CLOCK_MONOTONIC);
	uint64_t ms1 = duet_clock_ms(CLOCK_MONOTONIC);

	cr_assert_gt(ns, 0);
	cr_assert_geq(ns / 1000000, ms0);
	cr_assert_leq(ns / 1000000, ms1);
}

Test(clock, rate_of_a_counter_over_an_interval)
{
	/* 2.5 GHz over 1 s, 10 s and 30 days. */
	cr_assert_eq(duet_clock_rate_hz(2500000000ull, 1000000000ull), 2500000000ull);
	cr_assert_eq(duet_clock_rate_hz(25000000000ull, 10000000000ull), 2500000000ull);
	cr_assert_eq(duet_clock_rate_hz(2500000000ull * 86400 * 30, 1000000000ull * 86400 * 30),
		     2500000000ull);
	/* A counter 1.5 % faster than some estimate: the measured rate. */
	cr_assert_eq(duet_clock_rate_hz(2537500000ull, 1000000000ull), 2537500000ull);
	/* Rounded to the nearest Hz. */
	cr_assert_eq(duet_clock_rate_hz(3, 2000000000ull), 2);
	cr_assert_eq(duet_clock_rate_hz(1, 2000000000ull), 1);
	cr_assert_eq(duet_clock_rate_hz(1, 3000000000ull), 0);
}

Test(clock, no_interval_no_rate)
{
	cr_assert_eq(duet_clock_rate_hz(12345, 0), 0);
}
