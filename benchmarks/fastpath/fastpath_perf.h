/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fastpath_perf: the CPU's own counters around bench_fastpath's timed
 * bursts: user-space instructions and last-level cache load misses (the
 * events `perf stat -e instructions:u,LLC-load-misses:u` counts), of the
 * calling thread, read before and after each burst so that building the
 * frames between bursts is not counted. Many VMs expose no PMU: opening
 * then fails and says why. The benchmark's main thread only.
 */
#ifndef FASTPATH_PERF_H
#define FASTPATH_PERF_H

#include <stddef.h>
#include <stdint.h>

/** Counter indices in a reading. */
enum { FP_PERF_INSTRUCTIONS, FP_PERF_LLC_MISSES, FP_PERF_COUNT };

/** Open counters of the calling thread (a group, read at once). */
struct fp_perf {
	int fd[FP_PERF_COUNT]; /**< [0] is the group leader; -1 when closed */
};

/**
 * Open and start both counters for the calling thread.
 * @param err on failure, which counter and why (e.g. no PMU in this VM)
 * @return 0 or -errno.
 */
int fp_perf_open(struct fp_perf *p, char *err, size_t err_len);

/** Read both counters now into v[FP_PERF_COUNT]. */
void fp_perf_read(const struct fp_perf *p, uint64_t v[FP_PERF_COUNT]);

/** Close them. A closed or never opened p is a no-op. */
void fp_perf_close(struct fp_perf *p);

#endif /* FASTPATH_PERF_H */
