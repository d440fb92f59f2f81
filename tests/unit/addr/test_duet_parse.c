/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/addr/duet_parse.c: the strict whole-number parser that
 * duetctl, duet-caller and duet_contract share.
 */
#include <errno.h>
#include <stdint.h>

#include <criterion/criterion.h>

#include "duet_parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Each of bad[] is refused over the widest range and leaves *out alone. */
static void
refuses_each(const char *const *bad, size_t n)
{
	uint64_t v = 7;
	size_t i;

	for (i = 0; i < n; i++)
		cr_expect_eq(duet_parse_u64(bad[i], 0, UINT64_MAX, &v), -EINVAL, "accepted '%s'",
			     bad[i]);
	cr_assert_eq(v, 7, "left alone on error");
}

Test(parse, accepts_zero_and_the_range_ends)
{
	uint64_t v = 7;

	cr_assert_eq(duet_parse_u64("0", 0, 10, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(duet_parse_u64("10", 0, 10, &v), 0, "max itself is in range");
	cr_assert_eq(v, 10);
	cr_assert_eq(duet_parse_u64("1", 1, 10, &v), 0, "min itself is in range");
	cr_assert_eq(v, 1);
	cr_assert_eq(duet_parse_u64("65535", 0, 65535, &v), 0);
	cr_assert_eq(v, 65535);
	cr_assert_eq(duet_parse_u64("1700000000123", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 1700000000123ull);
}

Test(parse, accepts_uint64_max)
{
	uint64_t v = 7;

	cr_assert_eq(duet_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(duet_parse_u64("18446744073709551615", UINT64_MAX, UINT64_MAX, &v), 0);
	cr_assert_eq(v, UINT64_MAX);
}

Test(parse, refuses_overflow_past_uint64_max)
{
	static const char *const big[] = { "18446744073709551616", "18446744073709551620",
					   "99999999999999999999", "184467440737095516150" };

	refuses_each(big, N(big));
}

Test(parse, refuses_signs_blanks_and_other_characters)
{
	/* '/' and ':' sit just below '0' and just above '9' in ASCII. */
	static const char *const bad[] = { "-1", "+1", "-0", " 1", "1 ", "\t1", "1\n", "1x",
					   "x1", "1a", "0x10", "1.0", "1e3", "1,000", "1_000",
					   "1/", "1:", "\xd9\xa1" /* Arabic-Indic digit one */ };

	refuses_each(bad, N(bad));
}

Test(parse, refuses_empty_string_and_null)
{
	uint64_t v = 7;

	cr_assert_eq(duet_parse_u64("", 0, UINT64_MAX, &v), -EINVAL);
	cr_assert_eq(duet_parse_u64(NULL, 0, UINT64_MAX, &v), -EINVAL);
	cr_assert_eq(v, 7, "left alone on error");
}

Test(parse, refuses_leading_zeros_but_not_zero_itself)
{
	static const char *const bad[] = { "00", "01", "007", "0300", "018446744073709551615" };
	uint64_t v = 7;

	refuses_each(bad, N(bad));
	cr_assert_eq(duet_parse_u64("0", 0, UINT64_MAX, &v), 0);
	cr_assert_eq(v, 0);
}

Test(parse, refuses_below_min_and_above_max)
{
	uint64_t v = 7;

	cr_assert_eq(duet_parse_u64("0", 1, 10, &v), -EINVAL, "below min");
	cr_assert_eq(duet_parse_u64("11", 1, 10, &v), -EINVAL, "above max");
	cr_assert_eq(duet_parse_u64("65536", 0, 65535, &v), -EINVAL, "above max");
	cr_assert_eq(duet_parse_u64("18446744073709551614", UINT64_MAX, UINT64_MAX, &v), -EINVAL,
		     "below a min of UINT64_MAX");
	cr_assert_eq(duet_parse_u64("5", 6, 4, &v), -EINVAL, "empty range");
	cr_assert_eq(v, 7, "left alone on error");
}
