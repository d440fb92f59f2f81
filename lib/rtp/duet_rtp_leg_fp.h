/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The relay's own view of a leg's RTP stream, kept even in passthrough (RTP
 * headers travel in the clear in SRTP): loss from sequence gaps (RFC 3550
 * A.1, without probation or duplicate tracking) and interarrival jitter
 * (A.8) from RTP timestamps against arrival time. 32 bytes per leg, so the
 * pair table can afford one for every leg. Written by the worker lcore
 * that relays the leg's packets (with RSS, one worker per client flow);
 * read by the control thread for the stats hash. Fields are single aligned
 * words stored and loaded with relaxed atomics: a reader may see one
 * packet's update half applied, never a torn word. The figures are
 * estimates for operators and never steer forwarding.
 */
#ifndef DUET_RTP_LEG_FP_H
#define DUET_RTP_LEG_FP_H

#include <stdint.h>
#include <string.h>

/** RTP clock of Opus (RFC 7587: always 48 kHz on the wire). */
#define DUET_RTP_LEG_CLOCK 48000u
/** A jump of at least this many sequence numbers restarts the stream. */
#define DUET_RTP_LEG_MAX_DROPOUT 3000u
/** Up to this many behind the highest is a late (reordered) packet. */
#define DUET_RTP_LEG_MAX_MISORDER 100u

/** One leg's receive statistics. */
struct duet_rtp_leg {
	uint32_t ssrc;	     /**< SSRC of the stream being measured */
	uint32_t ext_max;    /**< extended highest sequence number (cycles << 16 | max) */
	uint32_t base;	     /**< extended sequence number of the stream's first packet */
	uint32_t received;   /**< RTP packets counted since the stream (re)started */
	uint32_t reordered;  /**< packets that came after a higher sequence number */
	uint32_t transit;    /**< last arrival - timestamp, clock units */
	uint32_t jitter_q4;  /**< jitter times 16, clock units (RFC 3550 A.8) */
	uint32_t restarts;   /**< SSRC changes and sequence jumps */
};

static inline void
duet_rtp_leg_store(uint32_t *f, uint32_t v)
{
	__atomic_store_n(f, v, __ATOMIC_RELAXED);
}

/**
 * Count an RTP packet (not RTCP) of the leg: sequence number seq,
 * timestamp ts, SSRC ssrc, arrival time in DUET_RTP_LEG_CLOCK units.
 * Worker lcores.
 */
static inline void
duet_rtp_leg_update(struct duet_rtp_leg *st, uint32_t ssrc, uint16_t seq, uint32_t ts,
		    uint32_t arrival)
{
	uint32_t transit = arrival - ts;
	uint16_t max = (uint16_t)st->ext_max;
	uint16_t udelta = (uint16_t)(seq - max);
	uint32_t d;

	if (st->received == 0 || ssrc != st->ssrc) {
		uint32_t restarts = st->received != 0 ? st->restarts + 1 : st->restarts;

		duet_rtp_leg_store(&st->ssrc, ssrc);
		duet_rtp_leg_store(&st->ext_max, seq);
		duet_rtp_leg_store(&st->base, seq);
		duet_rtp_leg_store(&st->received, 1);
		duet_rtp_leg_store(&st->reordered, 0);
		duet_rtp_leg_store(&st->transit, transit);
		duet_rtp_leg_store(&st->jitter_q4, 0);
		duet_rtp_leg_store(&st->restarts, restarts);
		return;
	}
	if (udelta == 0)
		return; /* a duplicate: SRTP's replay check drops these in keyed modes */
	if (udelta < DUET_RTP_LEG_MAX_DROPOUT) {
		uint32_t ext = (st->ext_max & 0xffff0000u) | seq;

		if (seq < max)
			ext += 0x10000u; /* wrapped */
		duet_rtp_leg_store(&st->ext_max, ext);
	} else if ((uint16_t)(max - seq) <= DUET_RTP_LEG_MAX_MISORDER) {
		duet_rtp_leg_store(&st->reordered, st->reordered + 1);
	} else {
		/* A big jump: the sender restarted its sequence; start over. */
		duet_rtp_leg_store(&st->ext_max, seq);
		duet_rtp_leg_store(&st->base, seq);
		duet_rtp_leg_store(&st->received, 0);
		duet_rtp_leg_store(&st->reordered, 0);
		duet_rtp_leg_store(&st->restarts, st->restarts + 1);
	}
	duet_rtp_leg_store(&st->received, st->received + 1);
	/* |D| in unsigned arithmetic: the timestamps are the sender's to
	 * choose, and a difference of exactly 2^31 has no int32 negation.
	 * A step of over a second is the sender's clock, not the network's:
	 * counted as one second, so J stays meaningful and never wraps. */
	d = transit - st->transit;
	if (d >= 0x80000000u)
		d = 0u - d;
	if (d > DUET_RTP_LEG_CLOCK)
		d = DUET_RTP_LEG_CLOCK;
	duet_rtp_leg_store(&st->transit, transit);
	/* A.8 integer form: J += |D| - ((J + 8) >> 4), J scaled by 16. */
	duet_rtp_leg_store(&st->jitter_q4,
			   st->jitter_q4 + d - ((st->jitter_q4 + 8) >> 4));
}

/** A consistent-enough copy for the control thread (relaxed loads). */
static inline void
duet_rtp_leg_read(const struct duet_rtp_leg *st, struct duet_rtp_leg *out)
{
	out->ssrc = __atomic_load_n(&st->ssrc, __ATOMIC_RELAXED);
	out->ext_max = __atomic_load_n(&st->ext_max, __ATOMIC_RELAXED);
	out->base = __atomic_load_n(&st->base, __ATOMIC_RELAXED);
	out->received = __atomic_load_n(&st->received, __ATOMIC_RELAXED);
	out->reordered = __atomic_load_n(&st->reordered, __ATOMIC_RELAXED);
	out->transit = __atomic_load_n(&st->transit, __ATOMIC_RELAXED);
	out->jitter_q4 = __atomic_load_n(&st->jitter_q4, __ATOMIC_RELAXED);
	out->restarts = __atomic_load_n(&st->restarts, __ATOMIC_RELAXED);
}

/** Packets expected in the current stream (0 before its first packet). */
static inline uint32_t
duet_rtp_leg_expected(const struct duet_rtp_leg *st)
{
	return st->received == 0 ? 0 : st->ext_max - st->base + 1;
}

/** Packets lost in the current stream (never below 0). */
static inline uint32_t
duet_rtp_leg_lost(const struct duet_rtp_leg *st)
{
	uint32_t e = duet_rtp_leg_expected(st);

	return e > st->received ? e - st->received : 0;
}

/** Jitter in microseconds. */
static inline uint32_t
duet_rtp_leg_jitter_us(const struct duet_rtp_leg *st)
{
	return (uint32_t)((uint64_t)(st->jitter_q4 >> 4) * 1000000u / DUET_RTP_LEG_CLOCK);
}

#endif /* DUET_RTP_LEG_FP_H */
