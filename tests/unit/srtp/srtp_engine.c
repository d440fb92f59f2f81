/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Linked into the *_burst variants of the lib/srtp tests: before any test
 * runs (Criterion forks each test from this process), every session made
 * from then on is a burst-engine one, and the test thread has its
 * ipsec-mb manager, as a worker lcore would. Test process only.
 */
#include <stdio.h>
#include <stdlib.h>

#include "duet_srtp.h"

__attribute__((constructor)) static void
srtp_engine_burst(void)
{
	if (duet_srtp_engine_set(DUET_SRTP_ENGINE_BURST) != 0 || duet_srtp_lcore_init() != 0) {
		fprintf(stderr, "srtp_engine: the burst engine cannot run on this CPU\n");
		exit(1);
	}
}
