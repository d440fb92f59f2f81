/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_clock: a POSIX clock in milliseconds, the one conversion every duet
 * program uses (CLOCK_MONOTONIC for schedules and ages, CLOCK_REALTIME
 * for timestamps written out). Header only; any thread.
 */
#ifndef DUET_CLOCK_H
#define DUET_CLOCK_H

#include <stdint.h>
#include <time.h>

/** Clock c in nanoseconds (0 if the clock cannot be read). */
static inline uint64_t
duet_clock_ns(clockid_t c)
{
	struct timespec ts;

	if (clock_gettime(c, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/** Clock c in milliseconds (0 if the clock cannot be read). */
static inline uint64_t
duet_clock_ms(clockid_t c)
{
	return duet_clock_ns(c) / 1000000;
}

/**
 * The rate of a cycle counter that advanced d_cycles while CLOCK_MONOTONIC
 * advanced d_ns, in Hz rounded to the nearest, or 0 when d_ns is 0. DPDK's
 * own estimate of the TSC rate can be off by a percent or more on a VM;
 * this one is as good as the interval is long.
 */
static inline uint64_t
duet_clock_rate_hz(uint64_t d_cycles, uint64_t d_ns)
{
	if (d_ns == 0)
		return 0;
	return (uint64_t)((double)d_cycles * 1e9 / (double)d_ns + 0.5);
}

#endif /* DUET_CLOCK_H */
