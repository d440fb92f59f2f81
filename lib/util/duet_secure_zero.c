/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_secure_zero: wiping secrets (see duet_secure_zero.h). Any thread.
 */
#include <string.h>

#include "duet_secure_zero.h"

void
duet_secure_zero(void *p, size_t len)
{
	/* memset at full width; the barrier, which claims to read p, keeps the
	 * compiler from dropping the stores as dead (glibc's explicit_bzero
	 * does the same). memset must not be given NULL, even for 0 bytes. */
	if (p == NULL || len == 0)
		return;
	memset(p, 0, len);
	__asm__ __volatile__("" : : "r"(p) : "memory");
}
