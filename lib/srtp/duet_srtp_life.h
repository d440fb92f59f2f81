/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Key lifetimes on the fast path (RFC 4568 6.1, RFC 3711 9.2): how many
 * packets one direction has used under one SRTP key, and whether the key
 * may take one more. Plain C, no libsrtp2 type, so that any SRTP engine
 * can keep one struct duet_srtp_life beside each of its sessions.
 *
 * What is counted: per key and per direction, SRTP and SRTCP packets
 * separately, each against the key's lifetime (struct duet_sdes.lifetime),
 * SRTCP also against 2^31. RFC 3711 9.2 bounds a master key at 2^48 SRTP
 * or 2^31 SRTCP packets "whichever occurs first": two limits, because SRTP
 * and SRTCP use different session keys and index spaces, so each kind has
 * its own count. libsrtp2 likewise counts a key's use per master key, not
 * per SSRC (its streams share one key limit), and inbound only packets that
 * authenticated; it counts SRTP only, leaving SRTCP to its 31-bit index,
 * where duet counts SRTCP against the lifetime too. So inbound only packets
 * that authenticated are counted (a forger cannot use a key up); outbound
 * (rekey), the packets protected with the key. Once a kind's count reached
 * the limit the key takes no more packets of that kind: lib/srtp refuses
 * them before any crypto (duet_srtp_life_left() is checked first,
 * duet_srtp_life_use() counts after success) and counts them in `expired`.
 * The cost per packet: one compare and one increment.
 *
 * Threads: `used` and `expired` are written by the owner of the direction
 * (the worker holding its busy flag, lib/srtp/duet_srtp_fp.h), `limit` by
 * the control thread (when made, and when a record changes the lifetime of
 * the same key); each side reads the other's fields with relaxed loads.
 */
#ifndef DUET_SRTP_LIFE_H
#define DUET_SRTP_LIFE_H

#include <stdbool.h>
#include <stdint.h>

/** RFC 3711 9.2: most SRTP packets a master key may protect. */
#define DUET_SRTP_LIFE_RTP_MAX (1ULL << 48)
/** RFC 3711 9.2: most SRTCP packets a master key may protect. */
#define DUET_SRTP_LIFE_SRTCP_MAX (1ULL << 31)

/** One key's use in one direction. Zeroed it allows nothing: start it
 * with duet_srtp_life_init(). */
struct duet_srtp_life {
	uint64_t used[2];  /**< packets used: [0] SRTP, [1] SRTCP (owner) */
	uint64_t limit[2]; /**< most packets of each kind (control thread) */
	uint64_t expired;  /**< packets refused past a limit (owner) */
};

/* The limits of a lifetime (0: none given, RFC 3711's maxima). */
static inline uint64_t
duet_srtp_life_limit(uint64_t lifetime, bool rtcp)
{
	uint64_t max = rtcp ? DUET_SRTP_LIFE_SRTCP_MAX : DUET_SRTP_LIFE_RTP_MAX;

	return lifetime == 0 || lifetime > max ? max : lifetime;
}

/**
 * Start the count of a key with the given lifetime (struct
 * duet_sdes.lifetime; 0 = none given). Before any worker can reach l.
 */
static inline void
duet_srtp_life_init(struct duet_srtp_life *l, uint64_t lifetime)
{
	l->used[0] = l->used[1] = 0;
	l->expired = 0;
	l->limit[0] = duet_srtp_life_limit(lifetime, false);
	l->limit[1] = duet_srtp_life_limit(lifetime, true);
}

/**
 * A live key's lifetime changed (the same key given again with another
 * lifetime): the packets counted so far count against the new one.
 * Control thread, while the owner counts.
 */
static inline void
duet_srtp_life_set(struct duet_srtp_life *l, uint64_t lifetime)
{
	__atomic_store_n(&l->limit[0], duet_srtp_life_limit(lifetime, false), __ATOMIC_RELAXED);
	__atomic_store_n(&l->limit[1], duet_srtp_life_limit(lifetime, true), __ATOMIC_RELAXED);
}

/** May the key take one more packet of this kind? One compare. Owner. */
static inline bool
duet_srtp_life_left(const struct duet_srtp_life *l, bool rtcp)
{
	return l->used[rtcp] < __atomic_load_n(&l->limit[rtcp], __ATOMIC_RELAXED);
}

/** Count one packet of this kind used under the key. Owner only. */
static inline void
duet_srtp_life_use(struct duet_srtp_life *l, bool rtcp)
{
	__atomic_store_n(&l->used[rtcp], l->used[rtcp] + 1, __ATOMIC_RELAXED);
}

/** Count one packet refused because the key is past its lifetime. Owner. */
static inline void
duet_srtp_life_refuse(struct duet_srtp_life *l)
{
	__atomic_store_n(&l->expired, l->expired + 1, __ATOMIC_RELAXED);
}

/**
 * duet_srtp_life_left(), then duet_srtp_life_use() when it may, else
 * duet_srtp_life_refuse(): for an engine that checks the lifetime of a
 * packet already authenticated. Owner only.
 * @return false when the key is past its lifetime (the packet is refused)
 */
static inline bool
duet_srtp_life_take(struct duet_srtp_life *l, bool rtcp)
{
	if (!duet_srtp_life_left(l, rtcp)) {
		duet_srtp_life_refuse(l);
		return false;
	}
	duet_srtp_life_use(l, rtcp);
	return true;
}

/**
 * How many more packets the key may take before one kind runs out (0:
 * expired), read while the owner counts. Any thread.
 */
static inline uint64_t
duet_srtp_life_remaining(const struct duet_srtp_life *l)
{
	uint64_t r = UINT64_MAX;
	unsigned int k;

	for (k = 0; k < 2; k++) {
		uint64_t lim = __atomic_load_n(&l->limit[k], __ATOMIC_RELAXED);
		uint64_t u = __atomic_load_n(&l->used[k], __ATOMIC_RELAXED);
		uint64_t left = u < lim ? lim - u : 0;

		if (left < r)
			r = left;
	}
	return r;
}

/** Packets refused because the key was past its lifetime. Any thread. */
static inline uint64_t
duet_srtp_life_expired(const struct duet_srtp_life *l)
{
	return __atomic_load_n(&l->expired, __ATOMIC_RELAXED);
}

#endif /* DUET_SRTP_LIFE_H */
