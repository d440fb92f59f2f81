/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eal_rundir.h: for the unit tests that start an EAL of their own. DPDK
 * leaves its runtime directory (/var/run/dpdk/<file-prefix>) behind, empty
 * under --no-shconf; test_eal_rundir_remove_at_exit() removes it when the
 * test process exits, so thousands of test processes leave nothing. Called
 * by the test's main thread right after rte_eal_init().
 */
#ifndef DUET_TEST_EAL_RUNDIR_H
#define DUET_TEST_EAL_RUNDIR_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>

static char test_eal_rundir[PATH_MAX];

static void
test_eal_rundir_remove(void)
{
	if (test_eal_rundir[0] != '\0')
		rmdir(test_eal_rundir);
}

static inline void
test_eal_rundir_remove_at_exit(void)
{
	snprintf(test_eal_rundir, sizeof(test_eal_rundir), "%s", rte_eal_get_runtime_dir());
	atexit(test_eal_rundir_remove);
}

#endif /* DUET_TEST_EAL_RUNDIR_H */
