/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/util/duet_secure_zero.c: wiping a secret zeroes exactly
 * the bytes asked for, and nothing at all is asked for NULL.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duet_secure_zero.h"

static bool
all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

Test(secure_zero, zeroes_exactly_the_range)
{
	char secret[64];

	memset(secret, 'x', sizeof(secret));
	duet_secure_zero(secret + 8, 16);
	cr_assert_eq(secret[7], 'x');
	cr_assert(all_zero(secret + 8, 16));
	cr_assert_eq(secret[24], 'x');
}

Test(secure_zero, zero_length_leaves_the_buffer_alone)
{
	char secret[4] = "abc";

	duet_secure_zero(secret, 0);
	cr_assert_str_eq(secret, "abc");
}

Test(secure_zero, null_is_a_no_op)
{
	duet_secure_zero(NULL, 0);
	duet_secure_zero(NULL, 16);
}
