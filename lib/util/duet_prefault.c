/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_prefault: see duet_prefault.h. Any thread, no state.
 */
#include <stdint.h>
#include <unistd.h>

#include "duet_prefault.h"

void
duet_prefault(void *p, size_t len)
{
	volatile uint8_t *b = p;
	long page = sysconf(_SC_PAGESIZE);
	size_t i, step = page > 0 ? (size_t)page : 4096;

	if (p == NULL || len == 0)
		return;
	for (i = 0; i < len; i += step)
		b[i] = 0;
	b[len - 1] = 0; /* the last page, when p is not page-aligned */
}
