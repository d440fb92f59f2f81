/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How many pages of a range are not in memory (mincore): for the tests
 * that check a table is mapped when it is created, not under its first
 * load (tests/unit/pair, tests/unit/sync). Test processes only.
 */
#ifndef DUET_TEST_MEM_RESIDENT_H
#define DUET_TEST_MEM_RESIDENT_H

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <criterion/criterion.h>

/* Pages of [p, p + len) not in memory. */
static inline size_t
pages_not_resident(const void *p, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)p & ~((uintptr_t)page - 1);
	size_t n = ((uintptr_t)p + len - start + (size_t)page - 1) / (size_t)page, i, out = 0;
	unsigned char *vec = calloc(n, 1);

	cr_assert_not_null(vec);
	cr_assert_eq(mincore((void *)start, n * (size_t)page, vec), 0);
	for (i = 0; i < n; i++)
		out += (vec[i] & 1) == 0;
	free(vec);
	return out;
}

#endif /* DUET_TEST_MEM_RESIDENT_H */
