/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_rtp fast path: the per-packet work on RTP and RTCP, inline so a
 * worker lcore (or duet-caller's receive loop) pays no call: telling RTP
 * from RTCP on an rtcp-mux port (RFC 5761), parsing an RTP header and an
 * RTCP common header over plain bytes, and updating a stream's sequence,
 * loss, duplicate and jitter state (RFC 3550 A.1, A.8). No allocation,
 * lock, syscall or log; each stats object belongs to the one thread that
 * updates it. Parsers take (p, len, out) and return 0 or a negative errno:
 * -EMSGSIZE when the bytes stop before the header says, -EINVAL when a
 * field is impossible.
 */
#ifndef DUET_RTP_FP_H
#define DUET_RTP_FP_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet_rtp.h"

/** Load a big-endian 16-bit field from any address. */
static inline uint16_t
duet_rtp_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned int)p[0] << 8 | p[1]);
}

/** Load a big-endian 32-bit field from any address. */
static inline uint32_t
duet_rtp_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/** Store a big-endian 16-bit field at any address. */
static inline void
duet_rtp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/** Store a big-endian 32-bit field at any address. */
static inline void
duet_rtp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/**
 * Tell RTP from RTCP on a port carrying both (RFC 5761 section 4): version
 * 2 in the first byte, then the second byte (marker + payload type in RTP,
 * packet type in RTCP) in 192..223 means RTCP. Works on SRTP and SRTCP
 * too: those bytes are never encrypted.
 * @return enum duet_rtp_kind; DUET_RTP_KIND_OTHER for fewer than 4 bytes
 *         or another version (STUN, DTLS, junk)
 */
static inline enum duet_rtp_kind
duet_rtp_demux(const uint8_t *p, size_t len)
{
	if (len < DUET_RTCP_HDR_LEN || (p[0] >> 6) != DUET_RTP_VERSION)
		return DUET_RTP_KIND_OTHER;
	if (p[1] >= DUET_RTCP_PT_MIN && p[1] <= DUET_RTCP_PT_MAX)
		return DUET_RTP_KIND_RTCP;
	return DUET_RTP_KIND_RTP;
}

/**
 * Is this datagram plausibly RTP or RTCP version 2, SRTP and SRTCP
 * included, by what travels in the clear? At least 12 bytes (an RTP fixed
 * header; RTCP's header, SSRC and SRTCP index need as much), version 2,
 * then for RTP the CSRC list fits, and for RTCP (RFC 5761 demultiplexing)
 * the first packet's length field fits. This is evidence, not proof: it
 * keeps empty datagrams, STUN, DTLS and junk from latching a leg.
 * @param ssrc out: the sender's SSRC (RTP: bytes 8..11, RTCP: 4..7)
 * @return DUET_RTP_KIND_RTP, DUET_RTP_KIND_RTCP, or DUET_RTP_KIND_OTHER
 */
static inline enum duet_rtp_kind
duet_rtp_plausible(const uint8_t *p, size_t len, uint32_t *ssrc)
{
	enum duet_rtp_kind k;

	if (len < DUET_RTP_HDR_LEN)
		return DUET_RTP_KIND_OTHER;
	k = duet_rtp_demux(p, len);
	if (k == DUET_RTP_KIND_RTP) {
		if (DUET_RTP_HDR_LEN + 4u * (p[0] & 0x0fu) > len)
			return DUET_RTP_KIND_OTHER;
		*ssrc = duet_rtp_be32(p + 8);
	} else if (k == DUET_RTP_KIND_RTCP) {
		if (((size_t)duet_rtp_be16(p + 2) + 1u) * 4u > len)
			return DUET_RTP_KIND_OTHER;
		*ssrc = duet_rtp_be32(p + 4);
	}
	return k;
}

/**
 * Parse the clear-text part of an RTP header: fixed header, CSRC list and
 * header extension. Padding is not read (in SRTP it is encrypted), so
 * payload_len runs to the end of the packet and pad_len is 0.
 * @return 0; -EMSGSIZE if len is shorter than the header it announces;
 *         -EINVAL for a version other than 2
 */
static inline int
duet_rtp_parse_header(const uint8_t *p, size_t len, struct duet_rtp_hdr *out)
{
	size_t off;

	if (len < DUET_RTP_HDR_LEN)
		return -EMSGSIZE;
	if ((p[0] >> 6) != DUET_RTP_VERSION)
		return -EINVAL;
	if (len > UINT16_MAX)
		return -EMSGSIZE;
	out->padding = (p[0] >> 5) & 1;
	out->extension = (p[0] >> 4) & 1;
	out->cc = p[0] & 0x0f;
	out->marker = p[1] >> 7;
	out->pt = p[1] & 0x7f;
	out->pad_len = 0;
	out->seq = duet_rtp_be16(p + 2);
	out->ts = duet_rtp_be32(p + 4);
	out->ssrc = duet_rtp_be32(p + 8);
	off = DUET_RTP_HDR_LEN + 4u * out->cc;
	out->ext_profile = 0;
	out->ext_len = 0;
	out->ext_off = 0;
	if (out->extension) {
		if (len < off + 4)
			return -EMSGSIZE;
		out->ext_profile = duet_rtp_be16(p + off);
		/* 16-bit count of 32-bit words: at most 262140 bytes, which
		 * no packet that passed the length check above can hold. */
		if ((size_t)duet_rtp_be16(p + off + 2) * 4 > len - off - 4)
			return -EMSGSIZE;
		out->ext_len = (uint16_t)(duet_rtp_be16(p + off + 2) * 4);
		out->ext_off = (uint16_t)(off + 4);
		off += 4 + out->ext_len;
	}
	if (len < off)
		return -EMSGSIZE;
	out->payload_off = (uint16_t)off;
	out->payload_len = (uint16_t)(len - off);
	return 0;
}

/**
 * Parse a whole (clear, not SRTP-protected) RTP packet: the header as
 * duet_rtp_parse_header(), then the padding its P bit announces. The last
 * byte counts the padding, itself included: it must be 1 or more and fit
 * after the header.
 * @return 0, -EMSGSIZE (truncated) or -EINVAL (bad version or padding)
 */
static inline int
duet_rtp_parse(const uint8_t *p, size_t len, struct duet_rtp_hdr *out)
{
	int rc = duet_rtp_parse_header(p, len, out);
	uint8_t pad;

	if (rc != 0 || !out->padding)
		return rc;
	pad = p[len - 1];
	if (pad == 0 || pad > out->payload_len)
		return -EINVAL;
	out->pad_len = pad;
	out->payload_len = (uint16_t)(out->payload_len - pad);
	return 0;
}

/**
 * Parse the common header of the RTCP packet at p (the first of a compound
 * packet, or the next one: advance by out->len). For SRTCP, len must stop
 * before the E-bit/index word and tag.
 * @return 0; -EMSGSIZE if len is shorter than the packet's length field
 *         says; -EINVAL for a version other than 2, a packet type outside
 *         192..223 or padding that does not fit
 */
static inline int
duet_rtcp_parse(const uint8_t *p, size_t len, struct duet_rtcp_hdr *out)
{
	uint32_t n;

	if (len < DUET_RTCP_HDR_LEN)
		return -EMSGSIZE;
	if ((p[0] >> 6) != DUET_RTP_VERSION || p[1] < DUET_RTCP_PT_MIN || p[1] > DUET_RTCP_PT_MAX)
		return -EINVAL;
	n = ((uint32_t)duet_rtp_be16(p + 2) + 1) * 4;
	if (n > len)
		return -EMSGSIZE;
	out->padding = (p[0] >> 5) & 1;
	out->count = p[0] & 0x1f;
	out->pt = p[1];
	out->len = n;
	out->pad_len = 0;
	out->ssrc = n >= 8 ? duet_rtp_be32(p + 4) : 0;
	if (out->padding) {
		uint8_t pad = p[n - 1];

		if (pad == 0 || pad > n - DUET_RTCP_HDR_LEN)
			return -EINVAL;
		out->pad_len = pad;
	}
	return 0;
}

/**
 * Write a fixed 12-byte RTP header (no CSRC, no extension, no padding).
 * buf must hold DUET_RTP_HDR_LEN bytes.
 */
static inline void
duet_rtp_write_header(uint8_t *buf, bool marker, uint8_t pt, uint16_t seq, uint32_t ts,
		      uint32_t ssrc)
{
	buf[0] = DUET_RTP_VERSION << 6;
	buf[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
	duet_rtp_put16(buf + 2, seq);
	duet_rtp_put32(buf + 4, ts);
	duet_rtp_put32(buf + 8, ssrc);
}

/* Clear the window bits of n sequence numbers from `from` on (mod 128). */
static inline void
duet_rtp_seen_clear(struct duet_rtp_stats *st, uint32_t from, uint32_t n)
{
	if (n >= DUET_RTP_DUP_WINDOW) {
		st->seen[0] = 0;
		st->seen[1] = 0;
		return;
	}
	while (n > 0) {
		uint32_t bit = from % DUET_RTP_DUP_WINDOW, b = bit % 64, take = 64 - b;
		uint64_t mask;

		if (take > n)
			take = n;
		mask = take == 64 ? ~(uint64_t)0 : (((uint64_t)1 << take) - 1) << b;
		st->seen[bit / 64] &= ~mask;
		from += take;
		n -= take;
	}
}

/* Window bit of a sequence number: 128 divides 65536, so seq % 128 is
 * also the extended sequence number % 128. */
static inline bool
duet_rtp_seen_test_set(struct duet_rtp_stats *st, uint16_t seq)
{
	uint64_t m = (uint64_t)1 << (seq % 64);
	uint64_t *w = &st->seen[(seq % DUET_RTP_DUP_WINDOW) / 64];
	bool was = (*w & m) != 0;

	*w |= m;
	return was;
}

/* RFC 3550 A.1 init_seq(): the stream (re)starts at seq. */
static inline void
duet_rtp_seq_restart(struct duet_rtp_stats *st, uint16_t seq)
{
	st->base_seq = seq;
	st->max_seq = seq;
	st->bad_seq = DUET_RTP_SEQ_MOD + 1; /* so seq == bad_seq is false */
	st->cycles = 0;
	st->received = 0;
	st->received_prior = 0;
	st->expected_prior = 0;
	st->seen[0] = 0;
	st->seen[1] = 0;
	duet_rtp_seen_test_set(st, seq);
}

/* RFC 3550 A.8, in its integer form: J += |D| - J/16, J kept times 16. */
static inline void
duet_rtp_jitter_update(struct duet_rtp_stats *st, uint32_t rtp_ts, uint32_t arrival)
{
	uint32_t transit = arrival - rtp_ts;

	if (st->have_transit) {
		int32_t d = (int32_t)(transit - st->transit);
		uint64_t ad = d < 0 ? (uint64_t)(-(int64_t)d) : (uint64_t)d;
		uint64_t j = (uint64_t)st->jitter_q4 + ad - ((st->jitter_q4 + (uint64_t)8) >> 4);

		st->jitter_q4 = j > UINT32_MAX ? UINT32_MAX : (uint32_t)j;
	}
	st->transit = transit;
	st->have_transit = 1;
}

/**
 * Account one received packet of the stream (RFC 3550 A.1 update_seq()
 * with duplicate and reorder detection, and A.8 jitter). The first call
 * starts the stream with st->min_sequential packets of probation.
 *
 * Counted (st->received) are in-order, reordered, duplicate and resync
 * packets, as the RFC counts them; probation and unconfirmed jumps are
 * not. Jitter is updated for every counted packet except duplicates (and
 * for probation packets, so the first valid one has a reference).
 *
 * @param seq     the packet's sequence number
 * @param rtp_ts  its RTP timestamp
 * @param arrival arrival time in the same clock units as rtp_ts (any
 *                origin, wrapping modulo 2^32)
 * @return enum duet_rtp_seq_result
 */
static inline int
duet_rtp_stats_update(struct duet_rtp_stats *st, uint16_t seq, uint32_t rtp_ts,
		      uint32_t arrival)
{
	uint16_t udelta;
	int res;

	if (!st->started) {
		st->started = 1;
		duet_rtp_seq_restart(st, seq);
		st->max_seq = (uint16_t)(seq - 1);
		st->probation = st->min_sequential > 1 ? st->min_sequential : 1;
	}
	udelta = (uint16_t)(seq - st->max_seq);
	if (st->probation) {
		if (seq == (uint16_t)(st->max_seq + 1)) {
			st->probation--;
			st->max_seq = seq;
			if (st->probation == 0) {
				duet_rtp_seq_restart(st, seq);
				st->received++;
				res = DUET_RTP_SEQ_IN_ORDER;
			} else {
				res = DUET_RTP_SEQ_PROBATION;
			}
		} else {
			/* Only reachable with min_sequential >= 2: a stream that
			 * starts valid leaves probation on its first packet. */
			st->probation = st->min_sequential - 1;
			st->max_seq = seq;
			res = DUET_RTP_SEQ_PROBATION;
		}
	} else if (udelta == 0) {
		st->received++;
		st->duplicates++;
		return DUET_RTP_SEQ_DUPLICATE;
	} else if (udelta < DUET_RTP_MAX_DROPOUT) {
		/* In order, with a permissible gap. */
		if (seq < st->max_seq)
			st->cycles += DUET_RTP_SEQ_MOD;
		duet_rtp_seen_clear(st, (uint32_t)st->max_seq + 1, udelta);
		duet_rtp_seen_test_set(st, seq);
		st->max_seq = seq;
		st->received++;
		res = DUET_RTP_SEQ_IN_ORDER;
	} else if (udelta <= DUET_RTP_SEQ_MOD - DUET_RTP_MAX_MISORDER) {
		/* A very large jump: believe it only if the next packet follows it. */
		if (seq != st->bad_seq) {
			st->bad_seq = (seq + 1u) & (DUET_RTP_SEQ_MOD - 1);
			return DUET_RTP_SEQ_JUMP;
		}
		duet_rtp_seq_restart(st, seq);
		st->received++;
		st->resyncs++;
		res = DUET_RTP_SEQ_RESYNC;
	} else {
		/* 1..MAX_MISORDER behind the highest: inside the window. */
		st->received++;
		if (duet_rtp_seen_test_set(st, seq)) {
			st->duplicates++;
			return DUET_RTP_SEQ_DUPLICATE;
		}
		st->reordered++;
		res = DUET_RTP_SEQ_REORDERED;
	}
	duet_rtp_jitter_update(st, rtp_ts, arrival);
	return res;
}

#endif /* DUET_RTP_FP_H */
