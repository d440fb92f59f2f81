/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_check.h: the one assertion of the fuzz targets in tests/fuzz. A
 * claim of the code under test that does not hold aborts with the file,
 * line and claim, which libFuzzer (and the replay programs) report as a
 * crash and save the input of. Test processes only.
 */
#ifndef DUET_FUZZ_CHECK_H
#define DUET_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: claim broken: %s\n", __FILE__, __LINE__,     \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

#endif /* DUET_FUZZ_CHECK_H */
