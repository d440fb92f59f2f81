/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/rtp/duet_rtp.c: stats figures (expected, lost, jitter
 * in ms), RTCP report blocks (RFC 3550 A.3), and writing and reading SR,
 * RR, SDES and BYE packets and compound packets.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duet_rtp.h"
#include "duet_rtp_fp.h"

static void
feed_range(struct duet_rtp_stats *st, unsigned int from, unsigned int to)
{
	unsigned int s;

	for (s = from; s < to; s++)
		duet_rtp_stats_update(st, (uint16_t)s, s * 960u, s * 960u);
}

Test(rtp, init_clears_everything)
{
	struct duet_rtp_stats st;

	memset(&st, 0xa5, sizeof(st));
	duet_rtp_stats_init(&st, 1);
	cr_assert_eq(st.started, 0);
	cr_assert_eq(st.received, 0);
	cr_assert_eq(st.jitter_q4, 0);
	cr_assert_eq(st.seen[0] | st.seen[1], 0);
	cr_assert_eq(duet_rtp_stats_expected(&st), 0);
	cr_assert_eq(duet_rtp_stats_lost(&st), 0);
}

Test(rtp, jitter_in_ms_uses_the_clock_rate)
{
	struct duet_rtp_stats st;

	duet_rtp_stats_init(&st, 1);
	st.jitter_q4 = 16 * 48; /* 48 timestamp units */
	cr_assert_eq(duet_rtp_stats_jitter_ts(&st), 48);
	cr_assert_float_eq(duet_rtp_stats_jitter_ms(&st, 48000), 1.0, 1e-9);
	cr_assert_float_eq(duet_rtp_stats_jitter_ms(&st, 8000), 6.0, 1e-9);
	cr_assert_eq(duet_rtp_stats_jitter_ms(&st, 0), 0.0);
}

Test(rtp, report_block_gives_interval_fraction_and_cumulative_loss)
{
	struct duet_rtp_stats st;
	struct duet_rtcp_rb rb;

	duet_rtp_stats_init(&st, 1);
	feed_range(&st, 0, 50);
	feed_range(&st, 75, 100); /* 25 of 100 lost */
	duet_rtp_stats_report_block(&st, 77, 0x11112222u, 0x3333u, &rb);
	cr_assert_eq(rb.ssrc, 77);
	cr_assert_eq(rb.fraction_lost, 64, "25/100 * 256");
	cr_assert_eq(rb.cum_lost, 25);
	cr_assert_eq(rb.ext_max_seq, 99);
	cr_assert_eq(rb.lsr, 0x11112222u);
	cr_assert_eq(rb.dlsr, 0x3333u);
	/* Next interval: nothing lost, cumulative unchanged. */
	feed_range(&st, 100, 200);
	duet_rtp_stats_report_block(&st, 77, 0, 0, &rb);
	cr_assert_eq(rb.fraction_lost, 0);
	cr_assert_eq(rb.cum_lost, 25);
	cr_assert_eq(rb.ext_max_seq, 199);
}

Test(rtp, report_block_clamps_negative_loss_to_zero_fraction)
{
	struct duet_rtp_stats st;
	struct duet_rtcp_rb rb;

	duet_rtp_stats_init(&st, 1);
	feed_range(&st, 0, 10);
	feed_range(&st, 5, 10); /* five duplicates */
	duet_rtp_stats_report_block(&st, 1, 0, 0, &rb);
	cr_assert_eq(rb.fraction_lost, 0);
	cr_assert_eq(rb.cum_lost, -5);
}

Test(rtp, sender_report_round_trips)
{
	struct duet_rtcp_sender_info si = { 0x0123456789abcdefULL, 48000, 50, 3000 };
	struct duet_rtcp_rb rb = { 9, 12, -3, 70000, 33, 0xaabbccddu, 65536 };
	struct duet_rtcp_report r;
	uint8_t buf[64];
	int n;

	n = duet_rtcp_write_report(buf, sizeof(buf), 0xcafe, &si, &rb, 1);
	cr_assert_eq(n, 52);
	cr_assert_eq(duet_rtp_demux(buf, (size_t)n), DUET_RTP_KIND_RTCP);
	cr_assert_eq(duet_rtcp_parse_report(buf, (size_t)n, &r), 0);
	cr_assert_eq(r.pt, DUET_RTCP_SR);
	cr_assert_eq(r.ssrc, 0xcafe);
	cr_assert_eq(r.si.ntp, si.ntp);
	cr_assert_eq(r.si.rtp_ts, 48000);
	cr_assert_eq(r.si.packets, 50);
	cr_assert_eq(r.si.octets, 3000);
	cr_assert_eq(r.n_rb, 1);
	cr_assert_eq(r.rb[0].ssrc, 9);
	cr_assert_eq(r.rb[0].fraction_lost, 12);
	cr_assert_eq(r.rb[0].cum_lost, -3, "24-bit sign extension");
	cr_assert_eq(r.rb[0].ext_max_seq, 70000);
	cr_assert_eq(r.rb[0].jitter, 33);
	cr_assert_eq(r.rb[0].lsr, 0xaabbccddu);
	cr_assert_eq(r.rb[0].dlsr, 65536);
	cr_assert_eq(duet_rtcp_ntp_mid(si.ntp), 0x456789abu);
}

Test(rtp, receiver_report_without_blocks_is_eight_bytes)
{
	struct duet_rtcp_report r;
	uint8_t buf[8];

	cr_assert_eq(duet_rtcp_write_report(buf, sizeof(buf), 5, NULL, NULL, 0), 8);
	cr_assert_eq(buf[0], 0x80);
	cr_assert_eq(buf[1], DUET_RTCP_RR);
	cr_assert_eq(duet_rtcp_parse_report(buf, 8, &r), 0);
	cr_assert_eq(r.pt, DUET_RTCP_RR);
	cr_assert_eq(r.n_rb, 0);
	cr_assert_eq(r.ssrc, 5);
	cr_assert_eq(duet_rtcp_write_report(buf, 7, 5, NULL, NULL, 0), -ENOSPC);
	cr_assert_eq(duet_rtcp_write_report(buf, 8, 5, NULL, NULL, 32), -EINVAL);
}

Test(rtp, report_reader_refuses_counts_its_length_cannot_hold)
{
	uint8_t buf[32] = { 0x82, DUET_RTCP_RR, 0, 7 }; /* two blocks need 56 bytes */
	struct duet_rtcp_report r;

	cr_assert_eq(duet_rtcp_parse_report(buf, sizeof(buf), &r), -EMSGSIZE);
	buf[0] = 0x81;
	cr_assert_eq(duet_rtcp_parse_report(buf, sizeof(buf), &r), 0);
	buf[1] = DUET_RTCP_SDES;
	cr_assert_eq(duet_rtcp_parse_report(buf, sizeof(buf), &r), -EINVAL);
}

Test(rtp, sdes_cname_is_null_terminated_and_padded)
{
	uint8_t buf[32];
	struct duet_rtcp_hdr h;

	memset(buf, 0xff, sizeof(buf));
	/* 4 header + 4 SSRC + 2 item header + 2 text + 1 null = 13 -> 16 */
	cr_assert_eq(duet_rtcp_write_sdes_cname(buf, sizeof(buf), 7, "ab"), 16);
	cr_assert_eq(duet_rtcp_parse(buf, 16, &h), 0);
	cr_assert_eq(h.pt, DUET_RTCP_SDES);
	cr_assert_eq(h.count, 1);
	cr_assert_eq(h.len, 16);
	cr_assert_eq(h.ssrc, 7);
	cr_assert_eq(buf[8], DUET_RTCP_SDES_CNAME);
	cr_assert_eq(buf[9], 2);
	cr_assert_eq(memcmp(buf + 10, "ab", 2), 0);
	cr_assert_eq(buf[12] | buf[13] | buf[14] | buf[15], 0);
	/* 4 characters: 15 -> 16, still with its null octet. */
	cr_assert_eq(duet_rtcp_write_sdes_cname(buf, sizeof(buf), 7, "abcd"), 16);
	cr_assert_eq(buf[13], 'd');
	cr_assert_eq(buf[14] | buf[15], 0);
	/* 6 characters: 17 -> 20. */
	cr_assert_eq(duet_rtcp_write_sdes_cname(buf, sizeof(buf), 7, "abcdef"), 20);
	cr_assert_eq(duet_rtcp_write_sdes_cname(buf, 15, 7, "ab"), -ENOSPC);
	cr_assert_eq(duet_rtcp_write_sdes_cname(buf, sizeof(buf), 7, ""), -EINVAL);
}

Test(rtp, bye_names_its_source)
{
	uint8_t buf[8];
	struct duet_rtcp_hdr h;

	cr_assert_eq(duet_rtcp_write_bye(buf, sizeof(buf), 0x01020304u), 8);
	cr_assert_eq(duet_rtcp_parse(buf, 8, &h), 0);
	cr_assert_eq(h.pt, DUET_RTCP_BYE);
	cr_assert_eq(h.count, 1);
	cr_assert_eq(h.ssrc, 0x01020304u);
	cr_assert_eq(duet_rtcp_write_bye(buf, 7, 1), -ENOSPC);
}

Test(rtp, compound_check_follows_rfc_validity_rules)
{
	uint8_t buf[128];
	int n = 0, k;

	k = duet_rtcp_write_report(buf, sizeof(buf), 1, NULL, NULL, 0);
	n += k;
	n += duet_rtcp_write_sdes_cname(buf + n, sizeof(buf) - (size_t)n, 1, "caller");
	n += duet_rtcp_write_bye(buf + n, sizeof(buf) - (size_t)n, 1);
	cr_assert_eq(duet_rtcp_check_compound(buf, (size_t)n), 3);
	cr_assert_eq(duet_rtcp_check_compound(buf, (size_t)n - 1), -EMSGSIZE, "cut short");
	cr_assert_eq(duet_rtcp_check_compound(buf, 0), -EMSGSIZE);
	cr_assert_eq(duet_rtcp_check_compound(buf + k, (size_t)(n - k)), -EINVAL,
		     "must start with SR or RR");
	buf[n] = 0x80;
	buf[n + 1] = 0x00;
	buf[n + 2] = 0;
	buf[n + 3] = 0;
	cr_assert_eq(duet_rtcp_check_compound(buf, (size_t)n + 4), -EINVAL, "trailing junk");
	buf[0] |= 0x20; /* padding on the first of several */
	cr_assert_eq(duet_rtcp_check_compound(buf, (size_t)n), -EINVAL);
}
