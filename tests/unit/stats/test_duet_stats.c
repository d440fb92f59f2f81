/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of lib/stats/duet_stats.c: drop-reason names and summing. */
#include <stddef.h>
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

/* Every counter is a uint64_t from the first field to the end of drops[]:
 * the test fills them all as words, so a counter that duet_stats_sum()
 * forgets (or a new one nobody added there) fails it. */
#define WORDS ((offsetof(struct duet_lcore_stats, drops) + sizeof(((struct duet_lcore_stats *)0)->drops)) / 8)

Test(stats, sum_adds_every_field_of_every_lcore)
{
	struct duet_lcore_stats per[3], out;
	uint64_t w[WORDS], total_drops = 0;
	unsigned int i, k;

	cr_assert_eq((offsetof(struct duet_lcore_stats, drops) + sizeof(out.drops)) % 8, 0);
	memset(per, 0, sizeof(per));
	for (i = 0; i < 3; i++) {
		for (k = 0; k < WORDS; k++) {
			w[k] = (uint64_t)(k + 1) * 1000 + i + 1;
		}
		memcpy(&per[i], w, sizeof(w));
	}
	duet_stats_sum(per, 3, &out);
	memcpy(w, &out, sizeof(w));
	for (k = 0; k < WORDS; k++)
		cr_assert_eq(w[k], (uint64_t)(k + 1) * 3000 + 6, "word %u (byte offset %zu) not summed",
			     k, (size_t)k * 8);
	for (k = 0; k < DUET_DROP_MAX; k++)
		total_drops += out.drops[k];
	cr_assert_eq(duet_stats_total_drops(&out), total_drops);
	cr_assert_eq(out.drops[DUET_DROP_TX_FULL],
		     per[0].drops[DUET_DROP_TX_FULL] + per[1].drops[DUET_DROP_TX_FULL] +
			     per[2].drops[DUET_DROP_TX_FULL]);
}
