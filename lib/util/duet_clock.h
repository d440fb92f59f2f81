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

/** Clock c in milliseconds (0 if the clock cannot be read). */
static inline uint64_t
duet_clock_ms(clockid_t c)
{
	struct timespec ts;

	if (clock_gettime(c, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif /* DUET_CLOCK_H */
