/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet-caller's clock and stop flag: the monotonic nanosecond clock that
 * paces sending and times every report figure, and caller_stop, set by
 * SIGINT/SIGTERM (installed by the main thread before the workers start)
 * and polled by the workers and the Redis setup. A file of its own so that
 * the loop and media code read the clock without calling into main.
 */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "caller.h"

volatile sig_atomic_t caller_stop;

uint64_t
caller_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
on_signal(int sig)
{
	(void)sig;
	caller_stop = 1;
}

void
caller_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}
