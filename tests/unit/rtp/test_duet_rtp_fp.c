/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/rtp/duet_rtp_fp.h: RTP/RTCP demux, the plausibility
 * check that keeps STUN, DTLS and junk from latching a leg, the RTP and RTCP
 * header parsers on good and bad bytes, and the per-stream sequence, loss,
 * reorder, duplicate and jitter state (RFC 3550 A.1, A.8).
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duet_rtp.h"
#include "duet_rtp_fp.h"

/* A stats object that counts from the first packet (as after SRTP). */
static struct duet_rtp_stats
trusted(void)
{
	struct duet_rtp_stats st;

	duet_rtp_stats_init(&st, 1);
	return st;
}

/* Feed seqs with a constant transit, so jitter stays 0. */
static void
feed(struct duet_rtp_stats *st, const unsigned int *seq, size_t n, int *res)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int r = duet_rtp_stats_update(st, (uint16_t)seq[i], seq[i] * 960u,
					      seq[i] * 960u + 5000);

		if (res != NULL)
			res[i] = r;
	}
}

static void
feed_range(struct duet_rtp_stats *st, unsigned int from, unsigned int to)
{
	unsigned int s;

	for (s = from; s < to; s++)
		duet_rtp_stats_update(st, (uint16_t)s, s * 960u, s * 960u + 5000);
}

Test(rtp, parses_fixed_header_and_payload)
{
	static const uint8_t pkt[] = { 0x80, 0xef, 0x12, 0x34, 0x00, 0x01, 0x02, 0x03,
				       0xde, 0xad, 0xbe, 0xef, 0xaa, 0xbb, 0xcc };
	struct duet_rtp_hdr h;

	cr_assert_eq(duet_rtp_parse(pkt, sizeof(pkt), &h), 0);
	cr_assert_eq(h.marker, 1);
	cr_assert_eq(h.pt, 111);
	cr_assert_eq(h.seq, 0x1234);
	cr_assert_eq(h.ts, 0x00010203u);
	cr_assert_eq(h.ssrc, 0xdeadbeefu);
	cr_assert_eq(h.cc, 0);
	cr_assert_eq(h.extension, 0);
	cr_assert_eq(h.payload_off, 12);
	cr_assert_eq(h.payload_len, 3);
}

Test(rtp, parses_csrc_extension_and_padding)
{
	/* cc=2, X, P: 12 + 8 CSRC + 4 ext header + 4 ext body + 2 payload + 3 pad */
	uint8_t pkt[33] = { 0xb2, 0x6f, 0, 1, 0, 0, 0, 9, 0, 0, 0, 7 };
	struct duet_rtp_hdr h;

	pkt[20] = 0xbe;
	pkt[21] = 0xde;
	pkt[22] = 0;
	pkt[23] = 1; /* one word of extension */
	pkt[28] = 0x55;
	pkt[29] = 0x66;
	pkt[32] = 3; /* three bytes of padding */
	cr_assert_eq(duet_rtp_parse(pkt, sizeof(pkt), &h), 0);
	cr_assert_eq(h.cc, 2);
	cr_assert_eq(h.extension, 1);
	cr_assert_eq(h.ext_profile, 0xbede);
	cr_assert_eq(h.ext_off, 24);
	cr_assert_eq(h.ext_len, 4);
	cr_assert_eq(h.payload_off, 28);
	cr_assert_eq(h.pad_len, 3);
	cr_assert_eq(h.payload_len, 2);
	/* The header-only parse (for SRTP, padding encrypted) leaves it in. */
	cr_assert_eq(duet_rtp_parse_header(pkt, sizeof(pkt), &h), 0);
	cr_assert_eq(h.pad_len, 0);
	cr_assert_eq(h.payload_len, 5);
}

Test(rtp, refuses_truncated_and_malformed_headers)
{
	uint8_t pkt[40];
	struct duet_rtp_hdr h;

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x80;
	cr_assert_eq(duet_rtp_parse(pkt, 11, &h), -EMSGSIZE, "shorter than the fixed header");
	cr_assert_eq(duet_rtp_parse(pkt, 12, &h), 0, "an empty payload is legal");
	pkt[0] = 0x40;
	cr_assert_eq(duet_rtp_parse(pkt, 20, &h), -EINVAL, "version 1");
	pkt[0] = 0x00;
	cr_assert_eq(duet_rtp_parse(pkt, 20, &h), -EINVAL, "version 0");
	pkt[0] = 0x8f; /* 15 CSRCs need 72 bytes */
	cr_assert_eq(duet_rtp_parse(pkt, 40, &h), -EMSGSIZE, "CSRC list past the end");
	pkt[0] = 0x90; /* extension header itself missing */
	cr_assert_eq(duet_rtp_parse(pkt, 14, &h), -EMSGSIZE, "extension header cut");
	pkt[14] = 0;
	pkt[15] = 8; /* 32 bytes of extension, only 24 left */
	cr_assert_eq(duet_rtp_parse(pkt, 40, &h), -EMSGSIZE, "extension body past the end");
	pkt[15] = 6; /* exactly fills the packet */
	cr_assert_eq(duet_rtp_parse(pkt, 40, &h), 0);
	cr_assert_eq(h.payload_len, 0);
}

Test(rtp, refuses_impossible_padding)
{
	uint8_t pkt[16] = { 0xa0, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 3, 0 };
	struct duet_rtp_hdr h;

	cr_assert_eq(duet_rtp_parse(pkt, sizeof(pkt), &h), -EINVAL, "zero padding count");
	pkt[15] = 5; /* more than the 4 bytes after the header */
	cr_assert_eq(duet_rtp_parse(pkt, sizeof(pkt), &h), -EINVAL, "padding into the header");
	pkt[15] = 4;
	cr_assert_eq(duet_rtp_parse(pkt, sizeof(pkt), &h), 0);
	cr_assert_eq(h.payload_len, 0);
	/* P set on a bare header: the pad byte would be header. */
	cr_assert_eq(duet_rtp_parse(pkt, 12, &h), -EINVAL);
}

Test(rtp, demuxes_rtcp_mux_by_second_byte)
{
	uint8_t p[8] = { 0x80, 111, 0, 0, 0, 0, 0, 0 };

	cr_assert_eq(duet_rtp_demux(p, 8), DUET_RTP_KIND_RTP);
	p[1] = 0x80 | 111; /* marker set */
	cr_assert_eq(duet_rtp_demux(p, 8), DUET_RTP_KIND_RTP);
	p[1] = 191;
	cr_assert_eq(duet_rtp_demux(p, 8), DUET_RTP_KIND_RTP);
	p[1] = 192;
	cr_assert_eq(duet_rtp_demux(p, 8), DUET_RTP_KIND_RTCP);
	p[1] = 200;
	cr_assert_eq(duet_rtp_demux(p, 8), DUET_RTP_KIND_RTCP);
	p[1] = 223;
	cr_assert_eq(duet_rtp_demux(p, 8), DUET_RTP_KIND_RTCP);
	p[1] = 224;
	cr_assert_eq(duet_rtp_demux(p, 8), DUET_RTP_KIND_RTP);
	p[0] = 0x00; /* STUN */
	cr_assert_eq(duet_rtp_demux(p, 8), DUET_RTP_KIND_OTHER);
	p[0] = 0x16; /* DTLS handshake */
	cr_assert_eq(duet_rtp_demux(p, 8), DUET_RTP_KIND_OTHER);
	p[0] = 0x80;
	cr_assert_eq(duet_rtp_demux(p, 3), DUET_RTP_KIND_OTHER);
}

/* Preset for the SSRC out-parameter, so a test sees that it was written. */
#define SSRC_UNSET 0x5a5a5a5au

Test(rtp, plausible_rtp_v2_gives_ssrc_from_bytes_8_to_11)
{
	/* Opus PT 111, seq 0x1234, ts 0x00010203, SSRC 0xdeadbeef, 3 bytes */
	uint8_t p[24] = { 0x80, 111, 0x12, 0x34, 0, 1, 2, 3, 0xde, 0xad, 0xbe, 0xef,
			  0xaa, 0xbb, 0xcc };
	uint32_t ssrc = SSRC_UNSET;

	cr_assert_eq(duet_rtp_plausible(p, 15, &ssrc), DUET_RTP_KIND_RTP);
	cr_assert_eq(ssrc, 0xdeadbeefu);
	/* A bare fixed header is enough; marker set, PT 0 (PCMU). */
	ssrc = SSRC_UNSET;
	p[1] = 0x80;
	cr_assert_eq(duet_rtp_plausible(p, 12, &ssrc), DUET_RTP_KIND_RTP);
	cr_assert_eq(ssrc, 0xdeadbeefu);
	/* Two CSRCs that fit exactly: the SSRC is still bytes 8..11, not a CSRC. */
	ssrc = SSRC_UNSET;
	p[0] = 0x82;
	memset(p + 12, 0x11, 8);
	cr_assert_eq(duet_rtp_plausible(p, 20, &ssrc), DUET_RTP_KIND_RTP);
	cr_assert_eq(ssrc, 0xdeadbeefu);
	/* Second byte 191 and 224 are RTP (marker + PT), not RTCP. */
	p[0] = 0x80;
	p[1] = 191;
	cr_assert_eq(duet_rtp_plausible(p, 20, &ssrc), DUET_RTP_KIND_RTP);
	p[1] = 224;
	cr_assert_eq(duet_rtp_plausible(p, 20, &ssrc), DUET_RTP_KIND_RTP);
	cr_assert_eq(ssrc, 0xdeadbeefu);
}

Test(rtp, plausible_rtcp_sr_and_rr_give_ssrc_from_bytes_4_to_7)
{
	/* SR, no report blocks: length 6 (28 bytes), SSRC 0x01020304, then
	 * NTP and RTP timestamps and counts. Bytes 8..11 are the NTP time. */
	uint8_t sr[28] = { 0x80, DUET_RTCP_SR, 0, 6, 1, 2, 3, 4, 0xe8, 0x9a, 0xbc, 0xde };
	/* RR, one report block: length 7 (32 bytes), SSRC 0xcafef00d, then
	 * the block's SSRC 0x0badf00d at bytes 8..11; and after it, as SRTCP
	 * sends it, the E flag + index and a 10-byte tag. */
	uint8_t rr[46] = { 0x81, DUET_RTCP_RR, 0, 7, 0xca, 0xfe, 0xf0, 0x0d,
			   0x0b, 0xad, 0xf0, 0x0d };
	uint32_t ssrc = SSRC_UNSET;
	unsigned int pt;

	cr_assert_eq(duet_rtp_plausible(sr, sizeof(sr), &ssrc), DUET_RTP_KIND_RTCP);
	cr_assert_eq(ssrc, 0x01020304u);
	ssrc = SSRC_UNSET;
	cr_assert_eq(duet_rtp_plausible(rr, 32, &ssrc), DUET_RTP_KIND_RTCP);
	cr_assert_eq(ssrc, 0xcafef00du);
	rr[32] = 0x80;
	rr[35] = 1;
	ssrc = SSRC_UNSET;
	cr_assert_eq(duet_rtp_plausible(rr, sizeof(rr), &ssrc), DUET_RTP_KIND_RTCP, "SRTCP");
	cr_assert_eq(ssrc, 0xcafef00du);
	/* RFC 5761: every second byte 192..223 is RTCP. */
	for (pt = DUET_RTCP_PT_MIN; pt <= DUET_RTCP_PT_MAX; pt++) {
		ssrc = SSRC_UNSET;
		sr[1] = (uint8_t)pt;
		cr_assert_eq(duet_rtp_plausible(sr, sizeof(sr), &ssrc), DUET_RTP_KIND_RTCP,
			     "second byte %u", pt);
		cr_assert_eq(ssrc, 0x01020304u, "second byte %u", pt);
	}
}

Test(rtp, plausible_refuses_fewer_than_12_bytes)
{
	static const uint8_t rtp[12] = { 0x80, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7 };
	/* An 8-byte RTCP BYE, then the E flag and SRTCP index: the BYE alone
	 * is a whole RTCP packet, but SRTCP always carries the index. */
	static const uint8_t bye[12] = { 0x81, 203, 0, 1, 0, 0, 0, 7, 0x80, 0, 0, 1 };
	uint32_t ssrc = SSRC_UNSET;
	size_t len;

	for (len = 1; len < 12; len++) {
		cr_assert_eq(duet_rtp_plausible(rtp, len, &ssrc), DUET_RTP_KIND_OTHER,
			     "RTP, %zu bytes", len);
		cr_assert_eq(duet_rtp_plausible(bye, len, &ssrc), DUET_RTP_KIND_OTHER,
			     "RTCP, %zu bytes", len);
	}
	cr_assert_eq(duet_rtp_plausible(rtp, 12, &ssrc), DUET_RTP_KIND_RTP, "12 bytes will do");
	cr_assert_eq(duet_rtp_plausible(bye, 12, &ssrc), DUET_RTP_KIND_RTCP, "12 bytes will do");
	cr_assert_eq(ssrc, 7);
}

Test(rtp, plausible_refuses_an_empty_datagram)
{
	static const uint8_t rtp[12] = { 0x80, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7 };
	uint32_t ssrc = SSRC_UNSET;

	cr_assert_eq(duet_rtp_plausible(rtp, 0, &ssrc), DUET_RTP_KIND_OTHER);
}

Test(rtp, plausible_refuses_versions_0_1_and_3)
{
	uint8_t rtp[20] = { 0x80, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7 };
	uint8_t rtcp[32] = { 0x81, DUET_RTCP_RR, 0, 7, 0, 0, 0, 7 };
	uint32_t ssrc = SSRC_UNSET;
	unsigned int v;

	for (v = 0; v < 4; v++) {
		enum duet_rtp_kind want_rtp = v == 2 ? DUET_RTP_KIND_RTP : DUET_RTP_KIND_OTHER;
		enum duet_rtp_kind want_rtcp = v == 2 ? DUET_RTP_KIND_RTCP : DUET_RTP_KIND_OTHER;

		rtp[0] = (uint8_t)(v << 6);
		rtcp[0] = (uint8_t)(v << 6 | 1);
		cr_assert_eq(duet_rtp_plausible(rtp, sizeof(rtp), &ssrc), want_rtp, "version %u",
			     v);
		cr_assert_eq(duet_rtp_plausible(rtcp, sizeof(rtcp), &ssrc), want_rtcp, "version %u",
			     v);
	}
}

Test(rtp, plausible_refuses_stun_and_dtls)
{
	/* STUN binding request (RFC 5389): type 0x0001, length 0, magic
	 * cookie, 12-byte transaction ID. First byte 0..3 (RFC 7983). */
	static const uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42,
					  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	/* DTLS 1.2 records: handshake, change cipher spec, application data
	 * (content types 22, 20, 23: first byte 20..63). */
	uint8_t dtls[40] = { 0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 27, 1, 0, 0, 23 };
	static const uint8_t content_types[] = { 0x16, 0x14, 0x17 };
	uint32_t ssrc = SSRC_UNSET;
	size_t i;

	cr_assert_eq(duet_rtp_plausible(stun, sizeof(stun), &ssrc), DUET_RTP_KIND_OTHER);
	for (i = 0; i < sizeof(content_types); i++) {
		dtls[0] = content_types[i];
		cr_assert_eq(duet_rtp_plausible(dtls, sizeof(dtls), &ssrc), DUET_RTP_KIND_OTHER,
			     "content type %u", dtls[0]);
	}
}

Test(rtp, plausible_refuses_csrc_count_past_the_end)
{
	uint8_t p[72] = { 0x8f, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7 };
	uint32_t ssrc = SSRC_UNSET;

	/* 15 CSRCs: 12 + 60 = 72 bytes. */
	cr_assert_eq(duet_rtp_plausible(p, 71, &ssrc), DUET_RTP_KIND_OTHER);
	cr_assert_eq(duet_rtp_plausible(p, 72, &ssrc), DUET_RTP_KIND_RTP);
	cr_assert_eq(ssrc, 7);
	/* One CSRC on a bare fixed header. */
	p[0] = 0x81;
	cr_assert_eq(duet_rtp_plausible(p, 15, &ssrc), DUET_RTP_KIND_OTHER);
	cr_assert_eq(duet_rtp_plausible(p, 16, &ssrc), DUET_RTP_KIND_RTP);
}

Test(rtp, plausible_refuses_rtcp_length_past_the_end)
{
	/* RR, length 7: the first packet is 32 bytes. */
	uint8_t p[64] = { 0x81, DUET_RTCP_RR, 0, 7, 0, 0, 0, 9 };
	uint32_t ssrc = SSRC_UNSET;

	cr_assert_eq(duet_rtp_plausible(p, 31, &ssrc), DUET_RTP_KIND_OTHER);
	cr_assert_eq(duet_rtp_plausible(p, 32, &ssrc), DUET_RTP_KIND_RTCP);
	cr_assert_eq(ssrc, 9);
	/* The largest length field claims 256 KiB. */
	p[2] = 0xff;
	p[3] = 0xff;
	cr_assert_eq(duet_rtp_plausible(p, sizeof(p), &ssrc), DUET_RTP_KIND_OTHER);
	/* Length 13 is 56 bytes: past 48, within 64. */
	p[2] = 0;
	p[3] = 13;
	cr_assert_eq(duet_rtp_plausible(p, 48, &ssrc), DUET_RTP_KIND_OTHER);
	cr_assert_eq(duet_rtp_plausible(p, 64, &ssrc), DUET_RTP_KIND_RTCP);
}

Test(rtp, parses_rtcp_common_header)
{
	/* RR, RC=1, length 7 (32 bytes), SSRC 0x01020304 */
	uint8_t p[40] = { 0x81, 201, 0, 7, 1, 2, 3, 4 };
	struct duet_rtcp_hdr h;

	cr_assert_eq(duet_rtcp_parse(p, sizeof(p), &h), 0);
	cr_assert_eq(h.pt, DUET_RTCP_RR);
	cr_assert_eq(h.count, 1);
	cr_assert_eq(h.len, 32);
	cr_assert_eq(h.ssrc, 0x01020304u);
	cr_assert_eq(duet_rtcp_parse(p, 31, &h), -EMSGSIZE, "length past the datagram");
	cr_assert_eq(duet_rtcp_parse(p, 3, &h), -EMSGSIZE);
	p[1] = 191;
	cr_assert_eq(duet_rtcp_parse(p, sizeof(p), &h), -EINVAL, "not an RTCP type");
	p[1] = 201;
	p[0] = 0x41;
	cr_assert_eq(duet_rtcp_parse(p, sizeof(p), &h), -EINVAL, "version 1");
	p[0] = 0xa1; /* padding, count byte at p[31] */
	p[31] = 0;
	cr_assert_eq(duet_rtcp_parse(p, sizeof(p), &h), -EINVAL, "zero padding");
	p[31] = 29;
	cr_assert_eq(duet_rtcp_parse(p, sizeof(p), &h), -EINVAL, "padding over the header");
	p[31] = 4;
	cr_assert_eq(duet_rtcp_parse(p, sizeof(p), &h), 0);
	cr_assert_eq(h.pad_len, 4);
}

Test(rtp, tells_sr_rr_sdes_bye_apart)
{
	static const uint8_t types[] = { DUET_RTCP_SR, DUET_RTCP_RR, DUET_RTCP_SDES, DUET_RTCP_BYE };
	uint8_t p[8] = { 0x80, 0, 0, 1, 0, 0, 0, 9 };
	struct duet_rtcp_hdr h;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		p[1] = types[i];
		cr_assert_eq(duet_rtcp_parse(p, 8, &h), 0);
		cr_assert_eq(h.pt, types[i]);
		cr_assert_eq(h.len, 8);
	}
}

Test(rtp, writes_a_header_the_parser_reads_back)
{
	uint8_t buf[12];
	struct duet_rtp_hdr h;

	duet_rtp_write_header(buf, true, 111, 65535, 0xfffffff0u, 42);
	cr_assert_eq(duet_rtp_parse(buf, 12, &h), 0);
	cr_assert_eq(h.marker, 1);
	cr_assert_eq(h.pt, 111);
	cr_assert_eq(h.seq, 65535);
	cr_assert_eq(h.ts, 0xfffffff0u);
	cr_assert_eq(h.ssrc, 42);
}

Test(rtp, counts_from_first_packet_when_trusted)
{
	struct duet_rtp_stats st = trusted();

	cr_assert_eq(duet_rtp_stats_update(&st, 1000, 0, 0), DUET_RTP_SEQ_IN_ORDER);
	cr_assert_eq(st.received, 1);
	cr_assert_eq(duet_rtp_stats_expected(&st), 1);
	cr_assert_eq(st.base_seq, 1000);
}

Test(rtp, probation_needs_two_in_sequence)
{
	struct duet_rtp_stats st;

	duet_rtp_stats_init(&st, DUET_RTP_MIN_SEQUENTIAL);
	cr_assert_eq(duet_rtp_stats_update(&st, 10, 0, 0), DUET_RTP_SEQ_PROBATION);
	cr_assert_eq(duet_rtp_stats_update(&st, 12, 0, 0), DUET_RTP_SEQ_PROBATION, "not in sequence");
	cr_assert_eq(st.received, 0);
	cr_assert_eq(duet_rtp_stats_expected(&st), 0);
	cr_assert_eq(duet_rtp_stats_update(&st, 13, 0, 0), DUET_RTP_SEQ_IN_ORDER);
	cr_assert_eq(st.received, 1);
	cr_assert_eq(st.base_seq, 13);
	cr_assert_eq(duet_rtp_stats_update(&st, 14, 0, 0), DUET_RTP_SEQ_IN_ORDER);
	cr_assert_eq(duet_rtp_stats_lost(&st), 0);
}

Test(rtp, in_order_stream_has_no_loss)
{
	struct duet_rtp_stats st = trusted();

	feed_range(&st, 0, 500);
	cr_assert_eq(st.received, 500);
	cr_assert_eq(duet_rtp_stats_expected(&st), 500);
	cr_assert_eq(duet_rtp_stats_lost(&st), 0);
	cr_assert_eq(st.reordered, 0);
	cr_assert_eq(st.duplicates, 0);
	cr_assert_eq(duet_rtp_stats_ext_max(&st), 499);
}

Test(rtp, sequence_wrap_counts_a_cycle)
{
	struct duet_rtp_stats st = trusted();

	feed_range(&st, 65530, 65536 + 10); /* 65530..65535, 0..9 */
	cr_assert_eq(st.cycles, 65536);
	cr_assert_eq(st.max_seq, 9);
	cr_assert_eq(duet_rtp_stats_ext_max(&st), 65536 + 9);
	cr_assert_eq(duet_rtp_stats_expected(&st), 16);
	cr_assert_eq(duet_rtp_stats_lost(&st), 0);
	/* A second wrap adds another cycle. */
	feed_range(&st, 10, 65536 + 1);
	cr_assert_eq(st.cycles, 2 * 65536);
	cr_assert_eq(duet_rtp_stats_lost(&st), 0);
}

Test(rtp, gap_counts_as_loss)
{
	struct duet_rtp_stats st = trusted();

	feed_range(&st, 0, 10);
	feed_range(&st, 15, 20);
	cr_assert_eq(st.received, 15);
	cr_assert_eq(duet_rtp_stats_expected(&st), 20);
	cr_assert_eq(duet_rtp_stats_lost(&st), 5);
	/* Loss across the wrap: 65534, 65535 then 2. */
	st = trusted();
	feed_range(&st, 65530, 65536);
	duet_rtp_stats_update(&st, 2, 0, 0);
	cr_assert_eq(duet_rtp_stats_lost(&st), 2);
	cr_assert_eq(st.cycles, 65536);
}

Test(rtp, gap_below_max_dropout_is_loss_not_restart)
{
	struct duet_rtp_stats st = trusted();

	duet_rtp_stats_update(&st, 0, 0, 0);
	cr_assert_eq(duet_rtp_stats_update(&st, 2999, 0, 0), DUET_RTP_SEQ_IN_ORDER);
	cr_assert_eq(duet_rtp_stats_lost(&st), 2998);
	cr_assert_eq(duet_rtp_stats_update(&st, 2999 + 3000, 0, 0), DUET_RTP_SEQ_JUMP);
	cr_assert_eq(st.received, 2);
}

Test(rtp, late_packet_counts_as_reordered_and_fills_the_gap)
{
	static const unsigned int seq[] = { 0, 1, 2, 4, 3, 5 };
	struct duet_rtp_stats st = trusted();
	int res[6];

	feed(&st, seq, 6, res);
	cr_assert_eq(res[3], DUET_RTP_SEQ_IN_ORDER);
	cr_assert_eq(res[4], DUET_RTP_SEQ_REORDERED);
	cr_assert_eq(st.reordered, 1);
	cr_assert_eq(st.duplicates, 0);
	cr_assert_eq(duet_rtp_stats_lost(&st), 0);
}

Test(rtp, reorder_across_the_wrap)
{
	static const unsigned int seq[] = { 65534, 0, 65535, 1 };
	struct duet_rtp_stats st = trusted();
	int res[4];

	feed(&st, seq, 4, res);
	cr_assert_eq(res[2], DUET_RTP_SEQ_REORDERED);
	cr_assert_eq(st.cycles, 65536, "the late 65535 must not count a second cycle");
	cr_assert_eq(duet_rtp_stats_lost(&st), 0);
	cr_assert_eq(duet_rtp_stats_expected(&st), 4);
}

Test(rtp, duplicates_are_detected_and_make_loss_negative)
{
	static const unsigned int seq[] = { 0, 1, 2, 2, 1, 3 };
	struct duet_rtp_stats st = trusted();
	int res[6];

	feed(&st, seq, 6, res);
	cr_assert_eq(res[3], DUET_RTP_SEQ_DUPLICATE, "repeat of the highest");
	cr_assert_eq(res[4], DUET_RTP_SEQ_DUPLICATE, "repeat of an older one");
	cr_assert_eq(st.duplicates, 2);
	cr_assert_eq(st.reordered, 0);
	cr_assert_eq(st.received, 6, "RFC 3550 counts duplicates as received");
	cr_assert_eq(duet_rtp_stats_lost(&st), -2);
}

Test(rtp, duplicate_window_forgets_sequence_numbers_that_left_it)
{
	struct duet_rtp_stats st = trusted();

	feed_range(&st, 0, 10);
	duet_rtp_stats_update(&st, 22, 0, 0);
	/* Forward 188 to 210: 150 (the bit of 22) is now a late first arrival. */
	duet_rtp_stats_update(&st, 210, 0, 0);
	cr_assert_eq(duet_rtp_stats_update(&st, 150, 0, 0), DUET_RTP_SEQ_REORDERED);
	cr_assert_eq(duet_rtp_stats_update(&st, 150, 0, 0), DUET_RTP_SEQ_DUPLICATE);
	/* 133 shares bit 5 with seq 5, seen long ago. */
	cr_assert_eq(duet_rtp_stats_update(&st, 133, 0, 0), DUET_RTP_SEQ_REORDERED);
	cr_assert_eq(st.duplicates, 1);
}

Test(rtp, small_advance_clears_only_the_bits_it_passes)
{
	struct duet_rtp_stats st = trusted();

	feed_range(&st, 0, 100);
	/* 100..150 take the bits of 100..127 and 0..22, which held 0..22. */
	cr_assert_eq(duet_rtp_stats_update(&st, 150, 0, 0), DUET_RTP_SEQ_IN_ORDER);
	cr_assert_eq(duet_rtp_stats_update(&st, 130, 0, 0), DUET_RTP_SEQ_REORDERED, "bit of 2");
	cr_assert_eq(duet_rtp_stats_update(&st, 99, 0, 0), DUET_RTP_SEQ_DUPLICATE);
	cr_assert_eq(duet_rtp_stats_update(&st, 60, 0, 0), DUET_RTP_SEQ_DUPLICATE);
	cr_assert_eq(duet_rtp_stats_update(&st, 149, 0, 0), DUET_RTP_SEQ_REORDERED);
	cr_assert_eq(st.reordered, 2);
	cr_assert_eq(st.duplicates, 2);
}

Test(rtp, duplicate_within_misorder_after_a_wrap)
{
	struct duet_rtp_stats st = trusted();

	feed_range(&st, 65500, 65536 + 50);
	cr_assert_eq(duet_rtp_stats_update(&st, 65530, 0, 0), DUET_RTP_SEQ_DUPLICATE);
	cr_assert_eq(duet_rtp_stats_update(&st, 30, 0, 0), DUET_RTP_SEQ_DUPLICATE);
	cr_assert_eq(st.duplicates, 2);
	cr_assert_eq(st.cycles, 65536);
}

Test(rtp, further_back_than_misorder_is_a_jump)
{
	struct duet_rtp_stats st = trusted();

	feed_range(&st, 0, 201);
	cr_assert_eq(duet_rtp_stats_update(&st, 101, 0, 0), DUET_RTP_SEQ_DUPLICATE, "99 behind");
	cr_assert_eq(duet_rtp_stats_update(&st, 100, 0, 0), DUET_RTP_SEQ_JUMP, "100 behind");
	cr_assert_eq(st.received, 202);
}

Test(rtp, confirmed_jump_restarts_the_stream)
{
	struct duet_rtp_stats st = trusted();

	feed_range(&st, 0, 10);
	cr_assert_eq(duet_rtp_stats_update(&st, 40000, 0, 0), DUET_RTP_SEQ_JUMP);
	cr_assert_eq(st.received, 10, "an unconfirmed jump is not counted");
	cr_assert_eq(duet_rtp_stats_update(&st, 40001, 0, 0), DUET_RTP_SEQ_RESYNC);
	cr_assert_eq(st.resyncs, 1);
	cr_assert_eq(st.base_seq, 40001);
	cr_assert_eq(st.received, 1);
	cr_assert_eq(duet_rtp_stats_lost(&st), 0);
}

Test(rtp, lone_jump_is_ignored)
{
	struct duet_rtp_stats st = trusted();

	feed_range(&st, 0, 10);
	cr_assert_eq(duet_rtp_stats_update(&st, 40000, 0, 0), DUET_RTP_SEQ_JUMP);
	cr_assert_eq(duet_rtp_stats_update(&st, 10, 0, 0), DUET_RTP_SEQ_IN_ORDER);
	cr_assert_eq(st.received, 11);
	cr_assert_eq(st.resyncs, 0);
	cr_assert_eq(duet_rtp_stats_lost(&st), 0);
}

Test(rtp, jitter_follows_the_rfc_integer_recurrence)
{
	/*
	 * Transit times (arrival - timestamp) 100, 120, 90, 150, 150, 60, so
	 * |D| = 20, 30, 60, 0, 90. A.8: J16 += |D| - ((J16 + 8) >> 4), by hand:
	 *   J16 = 0   + 20 - (8 >> 4 = 0)    = 20
	 *   J16 = 20  + 30 - (28 >> 4 = 1)   = 49
	 *   J16 = 49  + 60 - (57 >> 4 = 3)   = 106
	 *   J16 = 106 + 0  - (114 >> 4 = 7)  = 99
	 *   J16 = 99  + 90 - (107 >> 4 = 6)  = 183, reported 183 >> 4 = 11
	 */
	static const uint32_t transit[] = { 100, 120, 90, 150, 150, 60 };
	static const uint32_t want[] = { 0, 20, 49, 106, 99, 183 };
	struct duet_rtp_stats st = trusted();
	unsigned int i;

	for (i = 0; i < 6; i++) {
		uint32_t ts = 1000000u + i * 960;

		duet_rtp_stats_update(&st, (uint16_t)(7 + i), ts, ts + transit[i]);
		cr_assert_eq(st.jitter_q4, want[i], "after packet %u: %u, want %u", i, st.jitter_q4,
			     want[i]);
	}
	cr_assert_eq(duet_rtp_stats_jitter_ts(&st), 11);
}

Test(rtp, constant_transit_gives_zero_jitter)
{
	struct duet_rtp_stats st = trusted();
	unsigned int i;

	/* Timestamps and arrivals both wrap 2^32 on the way. */
	for (i = 0; i < 1000; i++) {
		uint32_t ts = 0xffff0000u + i * 960;

		duet_rtp_stats_update(&st, (uint16_t)i, ts, ts + 123456789u);
	}
	cr_assert_eq(st.jitter_q4, 0);
	cr_assert_eq(duet_rtp_stats_jitter_ms(&st, 48000), 0.0);
}

Test(rtp, alternating_transit_converges_to_the_swing)
{
	struct duet_rtp_stats st = trusted();
	const uint32_t d = 480; /* 10 ms at 48 kHz */
	unsigned int i;

	for (i = 0; i < 400; i++) {
		uint32_t ts = i * 960;

		duet_rtp_stats_update(&st, (uint16_t)i, ts, ts + 2000 + ((i & 1) ? d : 0));
		if (i == 16)
			cr_assert_lt(duet_rtp_stats_jitter_ts(&st), d * 3 / 4,
				     "still converging after 16 packets");
	}
	/* Fixed point of J16 += D - (J16 + 8) / 16: 16 D - 8 <= J16 <= 16 D + 7. */
	cr_assert_geq(st.jitter_q4, 16 * d - 8);
	cr_assert_leq(st.jitter_q4, 16 * d + 7);
	cr_assert_float_eq(duet_rtp_stats_jitter_ms(&st, 48000), 10.0, 0.02);
}

Test(rtp, duplicates_do_not_move_jitter)
{
	struct duet_rtp_stats st = trusted();

	duet_rtp_stats_update(&st, 1, 960, 960 + 100);
	duet_rtp_stats_update(&st, 2, 1920, 1920 + 100);
	cr_assert_eq(duet_rtp_stats_update(&st, 2, 1920, 1920 + 9000), DUET_RTP_SEQ_DUPLICATE);
	cr_assert_eq(st.jitter_q4, 0);
	duet_rtp_stats_update(&st, 3, 2880, 2880 + 100);
	cr_assert_eq(st.jitter_q4, 0);
}
