/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_rtp: the figures a stream's stats give (expected, lost, jitter),
 * RTCP report blocks (RFC 3550 A.3), and building and reading RTCP SR, RR,
 * SDES and BYE packets. Called by whichever thread owns the stats object:
 * duet-caller's loop, or duetd's control thread when it reports. No
 * allocation, lock, syscall or log, so a worker may call these too.
 */
#include <errno.h>
#include <string.h>

#include "duet_rtp.h"
#include "duet_rtp_fp.h"

void
duet_rtp_stats_init(struct duet_rtp_stats *st, uint32_t min_sequential)
{
	memset(st, 0, sizeof(*st));
	st->min_sequential = min_sequential > 1 ? min_sequential : 1;
	st->bad_seq = DUET_RTP_SEQ_MOD + 1;
}

uint64_t
duet_rtp_stats_ext_max(const struct duet_rtp_stats *st)
{
	return st->cycles + st->max_seq;
}

uint64_t
duet_rtp_stats_expected(const struct duet_rtp_stats *st)
{
	/* Before the stream is valid nothing is expected; max_seq then
	 * holds probation state, not a highest sequence number. */
	if (!st->started || st->probation != 0)
		return 0;
	return duet_rtp_stats_ext_max(st) - st->base_seq + 1;
}

int64_t
duet_rtp_stats_lost(const struct duet_rtp_stats *st)
{
	return (int64_t)duet_rtp_stats_expected(st) - (int64_t)st->received;
}

uint32_t
duet_rtp_stats_jitter_ts(const struct duet_rtp_stats *st)
{
	return st->jitter_q4 >> 4;
}

double
duet_rtp_stats_jitter_ms(const struct duet_rtp_stats *st, uint32_t clock_rate)
{
	if (clock_rate == 0)
		return 0.0;
	return (double)st->jitter_q4 * 1000.0 / (16.0 * (double)clock_rate);
}

void
duet_rtp_stats_report_block(struct duet_rtp_stats *st, uint32_t ssrc, uint32_t lsr, uint32_t dlsr,
			    struct duet_rtcp_rb *out)
{
	uint32_t expected = (uint32_t)duet_rtp_stats_expected(st);
	uint32_t received = (uint32_t)st->received;
	int64_t lost = duet_rtp_stats_lost(st);
	/* 32-bit interval arithmetic is modular, as in A.3. */
	uint32_t expected_interval = expected - st->expected_prior;
	uint32_t received_interval = received - st->received_prior;
	int64_t lost_interval = (int64_t)expected_interval - (int64_t)received_interval;

	st->expected_prior = expected;
	st->received_prior = received;
	out->ssrc = ssrc;
	if (expected_interval == 0 || lost_interval <= 0)
		out->fraction_lost = 0;
	else
		out->fraction_lost = (uint8_t)(((uint64_t)lost_interval << 8) / expected_interval);
	if (lost > 0x7fffff)
		lost = 0x7fffff;
	if (lost < -0x800000)
		lost = -0x800000;
	out->cum_lost = (int32_t)lost;
	out->ext_max_seq = (uint32_t)duet_rtp_stats_ext_max(st);
	out->jitter = duet_rtp_stats_jitter_ts(st);
	out->lsr = lsr;
	out->dlsr = dlsr;
}

/* RTCP common header for a packet of n bytes (n a multiple of 4). */
static void
put_rtcp_header(uint8_t *buf, unsigned int count, uint8_t pt, size_t n)
{
	buf[0] = (uint8_t)(DUET_RTP_VERSION << 6 | (count & 0x1f));
	buf[1] = pt;
	duet_rtp_put16(buf + 2, (uint16_t)(n / 4 - 1));
}

int
duet_rtcp_write_report(uint8_t *buf, size_t len, uint32_t ssrc,
		       const struct duet_rtcp_sender_info *si, const struct duet_rtcp_rb *rb,
		       unsigned int n_rb)
{
	size_t n = 8 + (si != NULL ? DUET_RTCP_SENDER_INFO_LEN : 0) + (size_t)n_rb * DUET_RTCP_RB_LEN;
	uint8_t *q = buf + 8;
	unsigned int i;

	if (n_rb > DUET_RTCP_MAX_RB)
		return -EINVAL;
	if (n > len)
		return -ENOSPC;
	put_rtcp_header(buf, n_rb, si != NULL ? DUET_RTCP_SR : DUET_RTCP_RR, n);
	duet_rtp_put32(buf + 4, ssrc);
	if (si != NULL) {
		duet_rtp_put32(q, (uint32_t)(si->ntp >> 32));
		duet_rtp_put32(q + 4, (uint32_t)si->ntp);
		duet_rtp_put32(q + 8, si->rtp_ts);
		duet_rtp_put32(q + 12, si->packets);
		duet_rtp_put32(q + 16, si->octets);
		q += DUET_RTCP_SENDER_INFO_LEN;
	}
	for (i = 0; i < n_rb; i++, q += DUET_RTCP_RB_LEN) {
		duet_rtp_put32(q, rb[i].ssrc);
		duet_rtp_put32(q + 4, (uint32_t)rb[i].fraction_lost << 24 |
					      ((uint32_t)rb[i].cum_lost & 0xffffff));
		duet_rtp_put32(q + 8, rb[i].ext_max_seq);
		duet_rtp_put32(q + 12, rb[i].jitter);
		duet_rtp_put32(q + 16, rb[i].lsr);
		duet_rtp_put32(q + 20, rb[i].dlsr);
	}
	return (int)n;
}

int
duet_rtcp_write_sdes_cname(uint8_t *buf, size_t len, uint32_t ssrc, const char *cname)
{
	size_t clen = cname != NULL ? strlen(cname) : 0;
	/* header, SSRC, item type and length, text, then at least one null
	 * octet ending the item list, padded to 32 bits. */
	size_t n = (DUET_RTCP_HDR_LEN + 4 + 2 + clen + 1 + 3) & ~(size_t)3;

	if (clen == 0 || clen > 255)
		return -EINVAL;
	if (n > len)
		return -ENOSPC;
	memset(buf, 0, n);
	put_rtcp_header(buf, 1, DUET_RTCP_SDES, n);
	duet_rtp_put32(buf + 4, ssrc);
	buf[8] = DUET_RTCP_SDES_CNAME;
	buf[9] = (uint8_t)clen;
	memcpy(buf + 10, cname, clen);
	return (int)n;
}

int
duet_rtcp_write_bye(uint8_t *buf, size_t len, uint32_t ssrc)
{
	if (len < 8)
		return -ENOSPC;
	put_rtcp_header(buf, 1, DUET_RTCP_BYE, 8);
	duet_rtp_put32(buf + 4, ssrc);
	return 8;
}

int
duet_rtcp_parse_report(const uint8_t *p, size_t len, struct duet_rtcp_report *out)
{
	struct duet_rtcp_hdr h;
	const uint8_t *q;
	size_t need;
	unsigned int i;
	int rc;

	rc = duet_rtcp_parse(p, len, &h);
	if (rc != 0)
		return rc;
	if (h.pt != DUET_RTCP_SR && h.pt != DUET_RTCP_RR)
		return -EINVAL;
	need = 8 + (h.pt == DUET_RTCP_SR ? DUET_RTCP_SENDER_INFO_LEN : 0) +
	       (size_t)h.count * DUET_RTCP_RB_LEN;
	if (need > h.len - h.pad_len)
		return -EMSGSIZE;
	memset(out, 0, sizeof(*out));
	out->pt = h.pt;
	out->n_rb = h.count;
	out->ssrc = h.ssrc;
	q = p + 8;
	if (h.pt == DUET_RTCP_SR) {
		out->si.ntp = (uint64_t)duet_rtp_be32(q) << 32 | duet_rtp_be32(q + 4);
		out->si.rtp_ts = duet_rtp_be32(q + 8);
		out->si.packets = duet_rtp_be32(q + 12);
		out->si.octets = duet_rtp_be32(q + 16);
		q += DUET_RTCP_SENDER_INFO_LEN;
	}
	for (i = 0; i < h.count; i++, q += DUET_RTCP_RB_LEN) {
		uint32_t w = duet_rtp_be32(q + 4);
		struct duet_rtcp_rb *rb = &out->rb[i];

		rb->ssrc = duet_rtp_be32(q);
		rb->fraction_lost = (uint8_t)(w >> 24);
		/* Sign-extend the 24-bit cumulative loss. */
		rb->cum_lost = (int32_t)((w & 0xffffff) ^ 0x800000) - 0x800000;
		rb->ext_max_seq = duet_rtp_be32(q + 8);
		rb->jitter = duet_rtp_be32(q + 12);
		rb->lsr = duet_rtp_be32(q + 16);
		rb->dlsr = duet_rtp_be32(q + 20);
	}
	return 0;
}

int
duet_rtcp_check_compound(const uint8_t *p, size_t len)
{
	struct duet_rtcp_hdr h;
	size_t off = 0;
	int n = 0, rc;

	if (len == 0)
		return -EMSGSIZE;
	while (off < len) {
		rc = duet_rtcp_parse(p + off, len - off, &h);
		if (rc != 0)
			return rc;
		if (n == 0 && ((h.pt != DUET_RTCP_SR && h.pt != DUET_RTCP_RR) || h.padding))
			return -EINVAL;
		off += h.len;
		if (h.padding && off != len)
			return -EINVAL;
		n++;
	}
	return n;
}
