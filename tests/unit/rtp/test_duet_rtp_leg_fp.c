/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests of lib/rtp/duet_rtp_leg_fp.h: the relay's compact per-leg RTP
 * statistics (loss from sequence gaps, RFC 3550 A.8 jitter), checked on
 * hand-made streams and against the full estimator of duet_rtp_fp.h.
 * Single-threaded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duet_rtp.h"
#include "duet_rtp_fp.h"
#include "duet_rtp_leg_fp.h"

#define SSRC 0x11223344u

/* Feed packets seq[i] with timestamp 960 * index and arrival `arr[i]`. */
static void
feed(struct duet_rtp_leg *st, const uint16_t *seq, const uint32_t *ts, const uint32_t *arr,
     size_t n)
{
	for (size_t i = 0; i < n; i++)
		duet_rtp_leg_update(st, SSRC, seq[i], ts[i], arr[i]);
}

Test(rtp_leg, an_in_order_stream_loses_nothing_and_has_no_jitter_at_constant_transit)
{
	struct duet_rtp_leg st;

	memset(&st, 0, sizeof(st));
	for (uint32_t i = 0; i < 500; i++)
		duet_rtp_leg_update(&st, SSRC, (uint16_t)(1000 + i), 960 * i, 960 * i + 12345);
	cr_assert_eq(duet_rtp_leg_expected(&st), 500);
	cr_assert_eq(st.received, 500);
	cr_assert_eq(duet_rtp_leg_lost(&st), 0);
	cr_assert_eq(st.jitter_q4, 0);
	cr_assert_eq(duet_rtp_leg_jitter_us(&st), 0);
}

Test(rtp_leg, gaps_are_lost_and_a_late_packet_is_reordered_not_lost)
{
	static const uint16_t seq[] = {10, 11, 13, 14, 12, 17, 18};
	uint32_t ts[7], arr[7];
	struct duet_rtp_leg st;

	for (int i = 0; i < 7; i++)
		ts[i] = arr[i] = 960u * seq[i];
	memset(&st, 0, sizeof(st));
	feed(&st, seq, ts, arr, 7);
	/* 10..18 is 9 expected; 15 and 16 never came. */
	cr_assert_eq(duet_rtp_leg_expected(&st), 9);
	cr_assert_eq(st.received, 7);
	cr_assert_eq(duet_rtp_leg_lost(&st), 2);
	cr_assert_eq(st.reordered, 1);
}

Test(rtp_leg, the_sequence_wrap_extends_the_count)
{
	struct duet_rtp_leg st;

	memset(&st, 0, sizeof(st));
	for (uint32_t i = 0; i < 100; i++)
		duet_rtp_leg_update(&st, SSRC, (uint16_t)(65500 + i), 960 * i, 960 * i);
	cr_assert_eq(st.ext_max >> 16, 1, "one cycle");
	cr_assert_eq(duet_rtp_leg_expected(&st), 100);
	cr_assert_eq(duet_rtp_leg_lost(&st), 0);
}

Test(rtp_leg, a_new_ssrc_or_a_big_jump_restarts_the_stream)
{
	struct duet_rtp_leg st;

	memset(&st, 0, sizeof(st));
	duet_rtp_leg_update(&st, SSRC, 100, 0, 0);
	duet_rtp_leg_update(&st, SSRC, 105, 960, 960);
	cr_assert_eq(duet_rtp_leg_lost(&st), 4);
	duet_rtp_leg_update(&st, SSRC + 1, 7, 0, 2000);
	cr_assert_eq(st.ssrc, SSRC + 1);
	cr_assert_eq(duet_rtp_leg_expected(&st), 1);
	cr_assert_eq(duet_rtp_leg_lost(&st), 0);
	cr_assert_eq(st.restarts, 1);
	duet_rtp_leg_update(&st, SSRC + 1, 30000, 960, 3000);
	cr_assert_eq(st.restarts, 2);
	cr_assert_eq(duet_rtp_leg_expected(&st), 1);
	cr_assert_eq(duet_rtp_leg_lost(&st), 0);
}

Test(rtp_leg, jitter_follows_the_rfc_3550_integer_recurrence)
{
	/* Transit times 0, 160, 0, 320, 0: |D| = 160, 160, 320, 320. With J
	 * scaled by 16 and J += |D| - ((J + 8) >> 4):
	 * 160 -> 160 - 0 = 160; 160 + 160 - 10 = 310; 310 + 320 - 19 = 611;
	 * 611 + 320 - 38 = 893. */
	static const uint32_t transit[] = {0, 160, 0, 320, 0};
	struct duet_rtp_leg st;

	memset(&st, 0, sizeof(st));
	for (uint32_t i = 0; i < 5; i++)
		duet_rtp_leg_update(&st, SSRC, (uint16_t)i, 960 * i, 960 * i + transit[i]);
	cr_assert_eq(st.jitter_q4, 893);
	cr_assert_eq(duet_rtp_leg_jitter_us(&st), 893u / 16 * 1000000u / 48000u);
}

/* The timestamps are the sender's: a transit step of exactly 2^31 (whose
 * int32 negation is undefined; the long fuzz run found it) or any step
 * over a second counts as one second of clock, and J never wraps. */
Test(rtp_leg, a_hostile_timestamp_step_counts_as_one_second)
{
	struct duet_rtp_leg st;

	memset(&st, 0, sizeof(st));
	duet_rtp_leg_update(&st, SSRC, 1, 0, 0);
	duet_rtp_leg_update(&st, SSRC, 2, 0x80000000u, 0);
	cr_assert_eq(st.jitter_q4, DUET_RTP_LEG_CLOCK);
	/* Back by one unit: |D| is 1, not 2^32 - 1. */
	memset(&st, 0, sizeof(st));
	duet_rtp_leg_update(&st, SSRC, 1, 0, 100);
	duet_rtp_leg_update(&st, SSRC, 2, 0, 99);
	cr_assert_eq(st.jitter_q4, 1);
	/* Steps of 2^31 every packet: J converges to 16 s of clock, no wrap. */
	memset(&st, 0, sizeof(st));
	for (uint32_t i = 0; i < 2000; i++)
		duet_rtp_leg_update(&st, SSRC, (uint16_t)i, (i & 1) ? 0x80000000u : 0, 0);
	cr_assert_leq(st.jitter_q4, 16 * DUET_RTP_LEG_CLOCK);
	cr_assert_geq(st.jitter_q4, 15 * DUET_RTP_LEG_CLOCK);
}

Test(rtp_leg, agrees_with_the_full_estimator_on_a_lossy_reordered_stream)
{
	struct duet_rtp_stats full;
	struct duet_rtp_leg st;
	uint16_t seq = 65000;
	uint32_t ts = 0, arr = 5000;

	srand(7);
	memset(&st, 0, sizeof(st));
	duet_rtp_stats_init(&full, 1);
	for (int i = 0; i < 3000; i++) {
		uint16_t s = seq;
		int r = rand() % 100;

		seq++;
		ts += 960;
		arr += 960 + (uint32_t)(rand() % 200);
		if (r < 3)
			continue; /* lost */
		if (r < 5 && i > 0) {
			/* swap with the next one: sent late */
			duet_rtp_leg_update(&st, SSRC, seq, ts + 960, arr);
			duet_rtp_stats_update(&full, seq, ts + 960, arr);
			duet_rtp_leg_update(&st, SSRC, s, ts, arr + 10);
			duet_rtp_stats_update(&full, s, ts, arr + 10);
			seq++;
			ts += 960;
			arr += 960;
			continue;
		}
		duet_rtp_leg_update(&st, SSRC, s, ts, arr);
		duet_rtp_stats_update(&full, s, ts, arr);
	}
	cr_assert_eq((uint64_t)duet_rtp_leg_expected(&st), duet_rtp_stats_expected(&full));
	cr_assert_eq((int64_t)duet_rtp_leg_lost(&st), duet_rtp_stats_lost(&full));
	cr_assert_eq(st.reordered, full.reordered);
	cr_assert_eq(st.jitter_q4, full.jitter_q4);
	cr_assert_gt(duet_rtp_leg_lost(&st), 50, "the stream did lose packets");
}
