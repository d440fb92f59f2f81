/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of lib/stats/duet_stats.c: drop-reason names and summing. */
#include <string.h>

#include <criterion/criterion.h>

#include "duet_stats.h"

Test(stats, every_drop_reason_has_a_unique_snake_case_name)
{
	unsigned int i, j;

	for (i = 0; i < DUET_DROP_MAX; i++) {
		const char *n = duet_drop_name(i);

		cr_assert_not_null(n);
		cr_assert_gt(strlen(n), 0);
		cr_assert_eq(strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789_"), strlen(n), "%s", n);
		cr_assert_gt(strlen(duet_drop_help(i)), 0);
		for (j = 0; j < i; j++)
			cr_assert_str_neq(n, duet_drop_name(j));
	}
	cr_assert_str_eq(duet_drop_name(DUET_DROP_MAX), "unknown");
	cr_assert_str_eq(duet_drop_name(DUET_DROP_NO_ENDPOINT), "no_endpoint");
}

Test(stats, sum_adds_every_lcore_and_reason)
{
	struct duet_lcore_stats per[3], out;
	unsigned int i;

	memset(per, 0, sizeof(per));
	for (i = 0; i < 3; i++) {
		per[i].rx_pkts = 10 * (i + 1);
		per[i].fwd_pkts = i;
		per[i].drops[DUET_DROP_TX_FULL] = 1;
		per[i].drops[DUET_DROP_TOO_SHORT] = i;
	}
	duet_stats_sum(per, 3, &out);
	cr_assert_eq(out.rx_pkts, 60);
	cr_assert_eq(out.fwd_pkts, 3);
	cr_assert_eq(out.drops[DUET_DROP_TX_FULL], 3);
	cr_assert_eq(out.drops[DUET_DROP_TOO_SHORT], 3);
	cr_assert_eq(duet_stats_total_drops(&out), 6);
}
