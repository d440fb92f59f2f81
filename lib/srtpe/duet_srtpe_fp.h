/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * srtpe fast path: the small pieces of RFC 3711 / RFC 7714 that every
 * packet goes through (RTP header length, packet index estimation, replay
 * windows, IVs, constant-time tag comparison) and one-packet forms of
 * duet_srtpe_burst(). Inline, for worker lcores (and the tests): no
 * allocation, lock, syscall or log line. The burst engine that drives
 * ipsec-mb is duet_srtpe_burst.c.
 */
#ifndef DUET_SRTPE_FP_H
#define DUET_SRTPE_FP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "duet_srtpe.h"

/** SRTCP E flag, in the E+index word (RFC 3711 3.4). */
#define DUET_SRTPE_SRTCP_E 0x80000000u
/** Highest SRTCP index (31 bits). */
#define DUET_SRTPE_SRTCP_INDEX_MAX 0x7fffffffu

/** Big-endian reads and writes. */
static inline uint32_t
duet_srtpe_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
duet_srtpe_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/**
 * Length of an RTP header with its CSRCs and extension, checked as
 * libsrtp2 checks it (srtp_validate_rtp_header: the version is not), or -1
 * when the packet is shorter than its header says.
 */
static inline int
duet_srtpe_rtp_hdr_len(const uint8_t *p, uint32_t len)
{
	uint32_t h;

	if (len < 12)
		return -1;
	h = 12 + 4 * (uint32_t)(p[0] & 0x0f);
	if (p[0] & 0x10) {
		if (len < h + 4)
			return -1;
		h += 4 + 4 * ((uint32_t)p[h + 2] << 8 | p[h + 3]);
	}
	return len < h ? -1 : (int)h;
}

/**
 * RFC 3711 3.3.1: the packet index of sequence number seq in a stream
 * whose highest index is `index`, guessed exactly as libsrtp2 2.5 does
 * (srtp_rdbx_estimate_index: ROC 0 while index <= 2^15), and *delta, the
 * guess minus `index` as libsrtp2 computes it (what the window takes).
 */
static inline uint64_t
duet_srtpe_estimate(uint64_t index, uint16_t seq, int32_t *delta)
{
	uint32_t roc = (uint32_t)(index >> 16);
	int32_t s_l = (uint16_t)index;

	if (index <= 0x8000) {
		*delta = (int32_t)seq - s_l;
		return seq;
	}
	if (s_l < 0x8000) {
		if ((int32_t)seq - s_l > 0x8000) {
			roc--;
			*delta = (int32_t)seq - s_l - 0x10000;
		} else {
			*delta = (int32_t)seq - s_l;
		}
	} else if (s_l - 0x8000 > (int32_t)seq) {
		roc++;
		*delta = (int32_t)seq - s_l + 0x10000;
	} else {
		*delta = (int32_t)seq - s_l;
	}
	return (uint64_t)roc << 16 | seq;
}

/* Window bit `back` (0: the highest index). */
static inline bool
duet_srtpe_window_has(const uint64_t w[2], uint32_t back)
{
	return (w[back >> 6] >> (back & 63)) & 1;
}

static inline void
duet_srtpe_window_set(uint64_t w[2], uint32_t back)
{
	w[back >> 6] |= UINT64_C(1) << (back & 63);
}

/* Move a window up by n indexes (bit i becomes bit i + n). */
static inline void
duet_srtpe_window_shift(uint64_t w[2], uint64_t n)
{
	if (n >= 128) {
		w[0] = 0;
		w[1] = 0;
	} else if (n >= 64) {
		w[1] = w[0] << (n - 64);
		w[0] = 0;
	} else if (n > 0) {
		w[1] = w[1] << n | w[0] >> (64 - n);
		w[0] <<= n;
	}
}

/** RTP replay check of a packet delta above the highest index
 * (srtp_rdbx_check with a 128-packet window). */
static inline enum duet_srtpe_verdict
duet_srtpe_rtp_check(const struct duet_srtpe_stream *s, int32_t delta)
{
	if (delta > 0)
		return DUET_SRTPE_OK;
	if (delta <= -DUET_SRTPE_WINDOW)
		return DUET_SRTPE_REPLAY;
	return duet_srtpe_window_has(s->rtp_window, (uint32_t)-delta) ? DUET_SRTPE_REPLAY
								       : DUET_SRTPE_OK;
}

/** Note an RTP packet that passed duet_srtpe_rtp_check() (srtp_rdbx_add_index). */
static inline void
duet_srtpe_rtp_add(struct duet_srtpe_stream *s, int32_t delta)
{
	if (delta > 0) {
		/* libsrtp2 advances its index by the delta as a 16-bit number;
		 * a delta it makes is always below 2^16. */
		s->rtp_index += (uint16_t)delta;
		duet_srtpe_window_shift(s->rtp_window, (uint32_t)delta);
		duet_srtpe_window_set(s->rtp_window, 0);
	} else {
		duet_srtpe_window_set(s->rtp_window, (uint32_t)-delta);
	}
	s->flags |= DUET_SRTPE_STREAM_RTP;
}

/** SRTCP replay check of index i: libsrtp2's srtp_rdb_check (its window
 * [start, start + 127] is [max(0, highest - 127), ...] in these terms). */
static inline enum duet_srtpe_verdict
duet_srtpe_srtcp_check(const struct duet_srtpe_stream *s, uint32_t i)
{
	uint32_t back;

	if (i > s->srtcp_index)
		return DUET_SRTPE_OK;
	back = s->srtcp_index - i;
	if (back >= DUET_SRTPE_WINDOW)
		return DUET_SRTPE_REPLAY;
	return duet_srtpe_window_has(s->srtcp_window, back) ? DUET_SRTPE_REPLAY : DUET_SRTPE_OK;
}

/** Note an SRTCP packet that passed duet_srtpe_srtcp_check(). */
static inline void
duet_srtpe_srtcp_add(struct duet_srtpe_stream *s, uint32_t i)
{
	if (i > s->srtcp_index) {
		duet_srtpe_window_shift(s->srtcp_window, i - s->srtcp_index);
		duet_srtpe_window_set(s->srtcp_window, 0);
		s->srtcp_index = i;
	} else {
		duet_srtpe_window_set(s->srtcp_window, s->srtcp_index - i);
	}
	s->flags |= DUET_SRTPE_STREAM_SRTCP;
}

/**
 * AES-CM IV (RFC 3711 4.1.1): (salt * 2^16) XOR (SSRC * 2^64) XOR
 * (index * 2^16), the index's low 48 bits. ssrc points at the packet's
 * SSRC (network order).
 */
static inline void
duet_srtpe_cm_iv(uint8_t iv[16], const uint8_t salt[16], const uint8_t *ssrc, uint64_t index)
{
	int i;

	memcpy(iv, salt, 16); /* salt[14..15] are 0 */
	for (i = 0; i < 4; i++)
		iv[4 + i] ^= ssrc[i];
	for (i = 0; i < 6; i++)
		iv[8 + i] ^= (uint8_t)(index >> (40 - 8 * i));
}

/** RFC 7714 8.1 RTP IV: salt XOR (00 00 || SSRC || ROC || SEQ). */
static inline void
duet_srtpe_gcm_rtp_iv(uint8_t iv[12], const uint8_t salt[16], const uint8_t *ssrc, uint64_t index)
{
	int i;

	memcpy(iv, salt, 12);
	for (i = 0; i < 4; i++)
		iv[2 + i] ^= ssrc[i];
	for (i = 0; i < 6; i++)
		iv[6 + i] ^= (uint8_t)(index >> (40 - 8 * i));
}

/** RFC 7714 9.1 SRTCP IV: salt XOR (00 00 || SSRC || 00 00 || 0 || index). */
static inline void
duet_srtpe_gcm_srtcp_iv(uint8_t iv[12], const uint8_t salt[16], const uint8_t *ssrc,
			uint32_t index)
{
	int i;

	memcpy(iv, salt, 12);
	for (i = 0; i < 4; i++)
		iv[2 + i] ^= ssrc[i];
	for (i = 0; i < 4; i++)
		iv[8 + i] ^= (uint8_t)(index >> (24 - 8 * i));
}

/** Compare two tags in time that depends on n only. */
static inline bool
duet_srtpe_tag_equal(const uint8_t *a, const uint8_t *b, unsigned int n)
{
	uint8_t acc = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		acc |= a[i] ^ b[i];
	/* Keep the compiler from turning the loop into an early exit. */
	__asm__ __volatile__("" : "+r"(acc));
	return acc == 0;
}

/** Prefetch the cache lines [a, a + n), n > 0; write: for writing. */
static inline void
duet_srtpe_prefetch_range(const void *a, size_t n, bool write)
{
	uintptr_t l = (uintptr_t)a & ~(uintptr_t)63, end = (uintptr_t)a + n;

	for (; l < end; l += 64) {
		if (write)
			__builtin_prefetch((const void *)l, 1, 3);
		else
			__builtin_prefetch((const void *)l, 0, 3);
	}
}

/**
 * Start loading what a packet of this key, stream and op will read, without
 * reading any of it (so that it may be called a burst ahead, before the
 * key is in the cache): the key's first cache line, the stream, and for
 * the RTP ops the lines every suite's RTP keys start with (AES-CM's round
 * keys and HMAC states, AES-GCM's round keys). duet_srtpe_burst() itself
 * prefetches the rest (the SRTCP keys, GCM's hash-key powers) at its
 * start, once the first line is in. Worker lcore; no effect on any state.
 */
static inline void
duet_srtpe_prefetch(const struct duet_srtpe_key *k, const struct duet_srtpe_stream *s,
		    enum duet_srtpe_op op)
{
	__builtin_prefetch(k, 0, 3);
	duet_srtpe_prefetch_range(s, sizeof(*s), true);
	if (op <= DUET_SRTPE_RTP_VERIFY)
		duet_srtpe_prefetch_range(&k->u, sizeof(k->u.cm.rtp), false);
}

/* A burst of one. */
static inline enum duet_srtpe_verdict
duet_srtpe_one(IMB_MGR *m, const struct duet_srtpe_key *k, struct duet_srtpe_stream *s,
	       uint8_t *p, uint32_t *len, uint32_t cap, enum duet_srtpe_op op, unsigned int flags)
{
	struct duet_srtpe_pkt x = {
		.key = k, .stream = s, .p = p, .len = *len, .cap = cap,
		.op = (uint8_t)op, .flags = (uint8_t)flags,
	};

	duet_srtpe_burst(m, &x, 1);
	if (x.verdict == DUET_SRTPE_OK)
		*len = x.len;
	return (enum duet_srtpe_verdict)x.verdict;
}

/**
 * Protect one RTP packet in place: *len grows by the key's RTP tag. The
 * stream (outbound) refuses an index it protected before or one older than
 * its window (DUET_SRTPE_REPLAY), as libsrtp2 without allow_repeat_tx.
 * @param cap  bytes writable at p
 */
static inline enum duet_srtpe_verdict
duet_srtpe_rtp_protect(IMB_MGR *m, const struct duet_srtpe_key *k, struct duet_srtpe_stream *s,
		       uint8_t *p, uint32_t *len, uint32_t cap)
{
	return duet_srtpe_one(m, k, s, p, len, cap, DUET_SRTPE_RTP_PROTECT, 0);
}

/** Authenticate, replay-check and decrypt one SRTP packet in place; on OK
 * *len loses the tag. */
static inline enum duet_srtpe_verdict
duet_srtpe_rtp_unprotect(IMB_MGR *m, const struct duet_srtpe_key *k, struct duet_srtpe_stream *s,
			 uint8_t *p, uint32_t *len)
{
	return duet_srtpe_one(m, k, s, p, len, *len, DUET_SRTPE_RTP_UNPROTECT, 0);
}

/** Authenticate and replay-check one SRTP packet; on return its bytes are
 * what they were (they change while the call runs). */
static inline enum duet_srtpe_verdict
duet_srtpe_rtp_verify(IMB_MGR *m, const struct duet_srtpe_key *k, struct duet_srtpe_stream *s,
		      uint8_t *p, uint32_t len)
{
	return duet_srtpe_one(m, k, s, p, &len, len, DUET_SRTPE_RTP_VERIFY, 0);
}

/** Protect one RTCP packet in place: *len grows by 4 + the SRTCP tag. */
static inline enum duet_srtpe_verdict
duet_srtpe_srtcp_protect(IMB_MGR *m, const struct duet_srtpe_key *k, struct duet_srtpe_stream *s,
			 uint8_t *p, uint32_t *len, uint32_t cap)
{
	return duet_srtpe_one(m, k, s, p, len, cap, DUET_SRTPE_SRTCP_PROTECT, 0);
}

/** Unprotect one SRTCP packet in place. @param flags DUET_SRTPE_SRTCP_TAG_EITHER */
static inline enum duet_srtpe_verdict
duet_srtpe_srtcp_unprotect(IMB_MGR *m, const struct duet_srtpe_key *k,
			   struct duet_srtpe_stream *s, uint8_t *p, uint32_t *len,
			   unsigned int flags)
{
	return duet_srtpe_one(m, k, s, p, len, *len, DUET_SRTPE_SRTCP_UNPROTECT, flags);
}

/** Authenticate and replay-check one SRTCP packet, bytes unchanged. */
static inline enum duet_srtpe_verdict
duet_srtpe_srtcp_verify(IMB_MGR *m, const struct duet_srtpe_key *k, struct duet_srtpe_stream *s,
			uint8_t *p, uint32_t len, unsigned int flags)
{
	return duet_srtpe_one(m, k, s, p, &len, len, DUET_SRTPE_SRTCP_VERIFY, flags);
}

/* Set every packet's op, then run the burst. */
static inline unsigned int
duet_srtpe_op_burst(IMB_MGR *m, struct duet_srtpe_pkt *pkts, unsigned int n,
		    enum duet_srtpe_op op)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		pkts[i].op = (uint8_t)op;
	return duet_srtpe_burst(m, pkts, n);
}

/** duet_srtpe_burst() with every packet's op set to RTP protect. */
static inline unsigned int
duet_srtpe_rtp_protect_burst(IMB_MGR *m, struct duet_srtpe_pkt *pkts, unsigned int n)
{
	return duet_srtpe_op_burst(m, pkts, n, DUET_SRTPE_RTP_PROTECT);
}

/** duet_srtpe_burst() with every packet's op set to RTP unprotect. */
static inline unsigned int
duet_srtpe_rtp_unprotect_burst(IMB_MGR *m, struct duet_srtpe_pkt *pkts, unsigned int n)
{
	return duet_srtpe_op_burst(m, pkts, n, DUET_SRTPE_RTP_UNPROTECT);
}

/** duet_srtpe_burst() with every packet's op set to RTP verify. */
static inline unsigned int
duet_srtpe_rtp_verify_burst(IMB_MGR *m, struct duet_srtpe_pkt *pkts, unsigned int n)
{
	return duet_srtpe_op_burst(m, pkts, n, DUET_SRTPE_RTP_VERIFY);
}

/** duet_srtpe_burst() with every packet's op set to SRTCP protect. */
static inline unsigned int
duet_srtpe_srtcp_protect_burst(IMB_MGR *m, struct duet_srtpe_pkt *pkts, unsigned int n)
{
	return duet_srtpe_op_burst(m, pkts, n, DUET_SRTPE_SRTCP_PROTECT);
}

/** duet_srtpe_burst() with every packet's op set to SRTCP unprotect. */
static inline unsigned int
duet_srtpe_srtcp_unprotect_burst(IMB_MGR *m, struct duet_srtpe_pkt *pkts, unsigned int n)
{
	return duet_srtpe_op_burst(m, pkts, n, DUET_SRTPE_SRTCP_UNPROTECT);
}

#endif /* DUET_SRTPE_FP_H */
