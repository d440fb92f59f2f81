/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_stats_mem: what the process holds, by its own accounting, for the
 * heartbeat (lib/sync) and the metrics (lib/metrics): DPDK's heaps (the
 * pair table, hashes, mempools) and the C heap (libsrtp2 sessions,
 * hiredis). Any thread but a worker (mallinfo2 takes the malloc locks).
 */
#include <malloc.h>

#include <rte_malloc.h>

#include "duet_stats.h"

void
duet_stats_memory(uint64_t *dpdk_bytes, uint64_t *heap_bytes)
{
	struct rte_malloc_socket_stats st;
	struct mallinfo2 mi = mallinfo2();
	uint64_t rte = 0;
	unsigned int sock;

	for (sock = 0; sock < RTE_MAX_NUMA_NODES; sock++)
		if (rte_malloc_get_socket_stats((int)sock, &st) == 0)
			rte += st.heap_allocsz_bytes;
	*dpdk_bytes = rte;
	*heap_bytes = (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}
