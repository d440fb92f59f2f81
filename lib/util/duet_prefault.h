/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_prefault: write to every page of a fresh allocation now, so the
 * kernel maps it at start and not page by page under the first load of a
 * million pairs (calloc'd memory, and DPDK memory that rte_zmalloc knows
 * to be zero and does not clear, is mapped on its first write). Used by
 * lib/pair and lib/sync when a table is created; control thread.
 */
#ifndef DUET_PREFAULT_H
#define DUET_PREFAULT_H

#include <stddef.h>

/** Write a zero to one byte of every page of [p, p + len), which must be
 * zero already (fresh zeroed memory): nothing changes but the mapping.
 * NULL or len 0 does nothing. Any thread. */
void duet_prefault(void *p, size_t len);

#endif /* DUET_PREFAULT_H */
