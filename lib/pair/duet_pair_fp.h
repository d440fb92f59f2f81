/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_pair fast path: endpoint lookup, the leg seqlock and the latching
 * state machine, inline for worker lcores. Nothing here allocates, locks,
 * logs or makes a syscall. The table's layout is here (not hidden in the .c)
 * only so that these functions can be inline; the control thread changes it
 * exclusively through duet_pair.h.
 *
 * Leg seqlock: `seq` is even when the leg is stable and odd while a writer
 * is inside. A writer enters with one compare-and-swap from even to odd and
 * gives up if that fails (try-lock: a worker never waits for another lcore);
 * readers copy the fields and retry if `seq` moved. This lets any worker
 * latch a leg (RSS may spread one endpoint's traffic over several queues)
 * while the workers that send toward the leg read its client lock-free.
 */
#ifndef DUET_PAIR_FP_H
#define DUET_PAIR_FP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>

#include "duet_addr.h"
#include "duet_pair.h"
#include "duet_police.h"
#include "duet_policy.h"
#include "duet_rtp_leg_fp.h"
#include "duet_srtp_fp.h"

struct duet_pair_ctl;
struct duet_pair_retire;

/**
 * SRTP state of a keyed pair (verify, rekey), allocated by the control
 * thread for such pairs only, so passthrough pairs cost one pointer.
 * dir[k] serves the packets arriving at leg k (see duet_srtp_fp.h for who
 * may use it). The pointer in the table is set before the pair's endpoints
 * are published and stays until the slot is reclaimed after RCU.
 */
struct duet_pair_crypto {
	struct duet_srtp_ctx dir[2];	    /**< workers (under busy) */
	struct duet_sdes key[DUET_KEY_COUNT]; /**< control thread only: the keys in use */
};

/**
 * A leg's receive line: what every packet from the leg's client writes, in
 * one cache line of its own, prefetched with the leg. Only the worker that
 * receives the leg's client touches it (RSS sends a client to one queue),
 * and the control thread reads it.
 * - rtp: the RTP statistics (see duet_rtp_leg_fp.h for who writes them);
 * - police_tat: the leg's policer bucket, CAS by any worker;
 * - rate: the pair's limits, written by the control thread (before
 *   publish, or with relaxed atomic stores when the record changes in
 *   place), read by workers;
 * - last_rx_tsc: TSC of the last packet accepted from the client, relaxed
 *   stores by the worker that accepted it (inside the leg's write side
 *   when the packet moved the leg), read for the re-latch rule and by the
 *   control thread for idle timeouts.
 */
struct duet_leg_rx {
	struct duet_rtp_leg rtp;      /**< 32 B: RTP loss and jitter */
	uint64_t police_tat;	      /**< policer bucket (duet_police_fp.h) */
	struct duet_police_rate rate; /**< max_pps / max_kbps as TSC costs */
	uint64_t last_rx_tsc;	      /**< last accepted packet from the client */
} __attribute__((aligned(64)));

/** The table. The first cache line holds everything a worker reads for a
 * packet: six pointers, capacity and the index's shape (64 bytes). */
struct duet_pair_table {
	/** Endpoint index: entry addr_idx * ep_ports + (port - port_min) holds
	 * leg index + 1, or 0. Relaxed-atomic 32-bit words: the control thread
	 * stores (release) after the leg is ready and clears before the slot
	 * goes to RCU; workers load (acquire). */
	uint32_t *ep_leg;
	struct duet_leg *legs;		      /**< 2 * capacity legs; pair slot s = legs 2s, 2s+1 */
	struct duet_leg_counters *counters;   /**< [worker][leg], written by that worker only */
	struct duet_pair_crypto **crypto;     /**< per slot; NULL for passthrough pairs */
	struct duet_leg_rx *rx;		      /**< per leg: receive line (RTP stats, policer) */
	struct rte_rcu_qsbr *qsbr;	      /**< one reader per worker */
	uint32_t capacity;		      /**< pairs */
	uint32_t ep_ports;		      /**< port_max - port_min + 1 */
	uint32_t ep_addrs;		      /**< service addresses (space.n_addrs) */
	uint16_t port_min;		      /**< first media port, host order */
	uint16_t reserved;
	/* Control thread only below. */
	uint32_t n_workers;		      /**< RCU readers */
	struct duet_pair_space space;	      /**< the endpoints ep_leg covers */
	struct rte_hash *id_hash;	      /**< pair id -> slot */
	struct rte_rcu_qsbr_dq *dq;	      /**< deleted slots waiting for a grace period */
	struct duet_pair_ctl *ctl;	      /**< per slot: spec, creation time, counter base */
	struct duet_pair_retire *retire;      /**< SRTP sessions waiting for a grace period */
	uint32_t *free_slots;		      /**< stack of free slots */
	uint32_t n_free;		      /**< entries in free_slots */
	uint32_t n_live;		      /**< live pairs */
	char name[32];			      /**< prefix of the DPDK object names */
};

/** A consistent copy of a leg's latch fields. */
struct duet_leg_view {
	uint8_t state;		 /**< enum duet_leg_state */
	uint8_t pinned;		 /**< client is pinned */
	uint8_t has_hop_mac;	 /**< hop_mac valid */
	uint8_t hop_mac[6];	 /**< next hop toward the client */
	struct duet_addr client; /**< the client, when state is LATCHED */
};

/** What a packet from `src` does to a leg. */
enum duet_latch_verdict {
	DUET_LATCH_ACCEPT = 0, /**< from the leg's client */
	DUET_LATCH_NEW,	       /**< first packet: the leg latches to src */
	DUET_LATCH_MOVED,      /**< client silent long enough: the leg re-latches to src */
	DUET_LATCH_REJECT,     /**< not the client: drop */
	DUET_LATCH_BUSY,       /**< another lcore is writing the leg and did not finish: drop */
};

/** Leg by index (pair slot * 2 + 0/1). Any thread. */
static inline struct duet_leg *
duet_pair_leg_at(const struct duet_pair_table *t, uint32_t leg_idx)
{
	return &t->legs[leg_idx];
}

/** The SRTP context for packets arriving at leg leg_idx, or NULL when the
 * pair is not keyed. Worker lcores (between quiescent states). */
static inline struct duet_srtp_ctx *
duet_pair_srtp_at(const struct duet_pair_table *t, uint32_t leg_idx)
{
	struct duet_pair_crypto *c = __atomic_load_n(&t->crypto[leg_idx >> 1], __ATOMIC_ACQUIRE);

	return c != NULL ? &c->dir[leg_idx & 1] : NULL;
}

/** Receive line of leg leg_idx (RTP statistics, policer, re-latch state). */
static inline struct duet_leg_rx *
duet_pair_rx_at(const struct duet_pair_table *t, uint32_t leg_idx)
{
	return &t->rx[leg_idx];
}

/** RTP receive statistics of leg leg_idx (packets from its client). */
static inline struct duet_rtp_leg *
duet_pair_rtp_at(const struct duet_pair_table *t, uint32_t leg_idx)
{
	return &t->rx[leg_idx].rtp;
}

/** This worker's counters of leg leg_idx. Worker widx only. */
static inline struct duet_leg_counters *
duet_pair_counters_at(const struct duet_pair_table *t, unsigned int widx, uint32_t leg_idx)
{
	return &t->counters[(size_t)widx * 2 * t->capacity + leg_idx];
}

/**
 * Where the leg owning endpoint (service address addr_idx of the table's
 * space, UDP port port_be in network order) is found: a pointer into the
 * endpoint index, or NULL when the port is outside the media range or
 * addr_idx outside the space. Prefetch it, then duet_pair_ep_load() it: at
 * a million pairs the index is a cache miss of its own. Worker lcores.
 */
static inline const uint32_t *
duet_pair_ep_at(const struct duet_pair_table *t, uint32_t addr_idx, uint16_t port_be)
{
	uint32_t off = (uint32_t)rte_be_to_cpu_16(port_be) - t->port_min;

	if (off >= t->ep_ports || addr_idx >= t->ep_addrs)
		return NULL;
	return &t->ep_leg[(size_t)addr_idx * t->ep_ports + off];
}

/**
 * The leg index found at e (from duet_pair_ep_at()). @return true with
 * *leg_idx set, or false when no pair owns the endpoint. Worker lcores.
 */
static inline bool
duet_pair_ep_load(const uint32_t *e, uint32_t *leg_idx)
{
	uint32_t v = e != NULL ? __atomic_load_n(e, __ATOMIC_ACQUIRE) : 0;

	if (v == 0)
		return false;
	*leg_idx = v - 1;
	return true;
}

/**
 * The leg owning endpoint (addr_idx, port_be), in one step. @return true
 * with *leg_idx set, or false. Worker lcores.
 */
static inline bool
duet_pair_lookup(const struct duet_pair_table *t, uint32_t addr_idx, uint16_t port_be,
		 uint32_t *leg_idx)
{
	return duet_pair_ep_load(duet_pair_ep_at(t, addr_idx, port_be), leg_idx);
}

/** Report a quiescent state for worker widx (no leg pointer held). */
static inline void
duet_pair_quiescent(struct duet_pair_table *t, unsigned int widx)
{
	rte_rcu_qsbr_quiescent(t->qsbr, widx);
}

/**
 * Copy the leg's latch fields consistently. @return false only if a writer
 * stayed inside for every retry (treat the leg as busy). Any thread.
 */
static inline bool
duet_leg_read(const struct duet_leg *l, struct duet_leg_view *v)
{
	unsigned int tries;
	uint32_t s;

	for (tries = 0; tries < 64; tries++) {
		s = __atomic_load_n(&l->seq, __ATOMIC_ACQUIRE);
		if (s & 1) {
			rte_pause();
			continue;
		}
		v->state = l->state;
		v->pinned = l->pinned;
		v->has_hop_mac = l->has_hop_mac;
		memcpy(v->hop_mac, l->hop_mac, sizeof(v->hop_mac));
		v->client = l->client;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&l->seq, __ATOMIC_RELAXED) == s)
			return true;
	}
	return false;
}

/**
 * Whether the leg has a client (latched or pinned), from one load of its
 * state byte: a leg never goes back to waiting while it lives, so a true
 * answer stays true. Any thread.
 */
static inline bool
duet_leg_latched(const struct duet_leg *l)
{
	return __atomic_load_n(&l->state, __ATOMIC_ACQUIRE) == DUET_LEG_LATCHED;
}

/**
 * Try to enter the leg's write side. @return true with *seq set, or false
 * when another writer is inside (the caller does not wait).
 */
static inline bool
duet_leg_write_try(struct duet_leg *l, uint32_t *seq)
{
	uint32_t s = __atomic_load_n(&l->seq, __ATOMIC_RELAXED);

	if (s & 1)
		return false;
	if (!__atomic_compare_exchange_n(&l->seq, &s, s + 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return false;
	/* The odd sequence must be visible before any field store. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*seq = s;
	return true;
}

/** Leave the write side entered with duet_leg_write_try(). */
static inline void
duet_leg_write_done(struct duet_leg *l, uint32_t seq)
{
	__atomic_store_n(&l->seq, seq + 2, __ATOMIC_RELEASE);
}

/**
 * The latching rule, as a pure function.
 * - A waiting leg latches to the first source.
 * - A packet from the leg's client is accepted.
 * - A pinned leg rejects every other source.
 * - A latched leg re-latches to a new source once its client has been
 *   silent for `silence` TSC cycles; before that the new source is rejected.
 *   In passthrough mode this is the hijack window: anyone who learns the
 *   endpoint and sends after the client went silent takes the leg over.
 */
static inline enum duet_latch_verdict
duet_latch_decide(const struct duet_leg_view *v, const struct duet_addr *src, uint64_t last_rx,
		  uint64_t now, uint64_t silence)
{
	if (v->state != DUET_LEG_LATCHED)
		return DUET_LATCH_NEW;
	if (duet_addr_equal(&v->client, src))
		return DUET_LATCH_ACCEPT;
	if (v->pinned)
		return DUET_LATCH_REJECT;
	/* Signed: another lcore may have stored a time a little after ours. */
	if ((int64_t)(now - last_rx) >= (int64_t)silence)
		return DUET_LATCH_MOVED;
	return DUET_LATCH_REJECT;
}

/**
 * What duet_leg_rx() would decide for a packet from src, without changing
 * the leg: keyed modes ask this first and latch only once the packet has
 * authenticated. Worker lcores.
 */
static inline enum duet_latch_verdict
duet_leg_peek(const struct duet_leg *l, const struct duet_leg_rx *rx, const struct duet_addr *src,
	      uint64_t now, uint64_t silence)
{
	struct duet_leg_view v;

	if (!duet_leg_read(l, &v))
		return DUET_LATCH_BUSY;
	return duet_latch_decide(&v, src, __atomic_load_n(&rx->last_rx_tsc, __ATOMIC_RELAXED),
				 now, silence);
}

/**
 * The `ssrc` and `never` re-latch policies, on top of duet_latch_decide():
 * may a packet with SSRC ssrc (has_ssrc false: none, not RTP) that the rule
 * would let move the leg really move it? Worker lcores.
 */
static inline bool
duet_relatch_allows(const struct duet_leg *l, bool has_ssrc, uint32_t ssrc)
{
	switch (__atomic_load_n(&l->relatch, __ATOMIC_RELAXED)) {
	case DUET_RELATCH_ANY:
		return true;
	case DUET_RELATCH_NEVER:
		return false;
	default:
		/* A phone that moved keeps its SSRC; a stranger does not know it. */
		return has_ssrc && __atomic_load_n(&l->has_ssrc, __ATOMIC_RELAXED) &&
		       __atomic_load_n(&l->ssrc, __ATOMIC_RELAXED) == ssrc;
	}
}

/** Remember the SSRC of a packet the leg accepted from its client: a store
 * only when it changed, so the leg's line stays unwritten per packet. */
static inline void
duet_leg_note_ssrc(struct duet_leg *l, uint32_t ssrc)
{
	if (__atomic_load_n(&l->ssrc, __ATOMIC_RELAXED) != ssrc ||
	    !__atomic_load_n(&l->has_ssrc, __ATOMIC_RELAXED)) {
		__atomic_store_n(&l->ssrc, ssrc, __ATOMIC_RELAXED);
		__atomic_store_n(&l->has_ssrc, 1, __ATOMIC_RELAXED);
	}
}

/**
 * Act on a verdict that duet_latch_decide() gave for a packet from src
 * (Ethernet source src_mac) on leg l (receive line rx) at TSC now, against the view `view`
 * read with duet_leg_read(): latch or re-latch the leg when the rule says
 * so, or note the client's packet. On accept the receive line's last_rx_tsc is
 * updated and a changed next-hop MAC is learned. The rule is decided again
 * under the leg's write side, since another lcore may have changed the leg
 * since the view was read. Worker lcores.
 * @param may_move false: the caller checked this packet only as the leg's
 *        client, so a verdict that would now latch or re-latch it is a
 *        DUET_LATCH_REJECT instead
 * @param view in: the leg as read; out: the leg as it is after this packet
 * @return the verdict; DUET_LATCH_REJECT (not the client) and DUET_LATCH_BUSY
 *         (another lcore held the leg's write side throughout: only when
 *         that lcore was descheduled inside it) mean drop.
 */
static inline enum duet_latch_verdict
duet_leg_commit(struct duet_leg *l, struct duet_leg_rx *rx, const struct duet_addr *src,
		const uint8_t src_mac[6], uint64_t now, uint64_t silence, bool may_move,
		enum duet_latch_verdict d, struct duet_leg_view *view)
{
	uint64_t last;
	uint32_t seq;

	if (d == DUET_LATCH_REJECT || d == DUET_LATCH_BUSY)
		return d;
	if (d == DUET_LATCH_ACCEPT && view->has_hop_mac &&
	    memcmp(view->hop_mac, src_mac, 6) == 0)
		goto accepted;
	if (!duet_leg_write_try(l, &seq)) {
		/* Another lcore is latching this leg right now: that source
		 * wins, this one is refused like any other stranger. The
		 * client's own packet still passes. */
		if (d != DUET_LATCH_ACCEPT)
			return DUET_LATCH_REJECT;
		goto accepted;
	}
	/* Decide again under the write side: another lcore may have latched
	 * between our read and our entry. */
	view->state = l->state;
	view->pinned = l->pinned;
	view->client = l->client;
	last = __atomic_load_n(&rx->last_rx_tsc, __ATOMIC_RELAXED);
	d = duet_latch_decide(view, src, last, now, silence);
	if (!may_move && d != DUET_LATCH_ACCEPT)
		d = DUET_LATCH_REJECT;
	if (d != DUET_LATCH_REJECT) {
		l->client = *src;
		l->state = DUET_LEG_LATCHED;
		memcpy(l->hop_mac, src_mac, 6);
		l->has_hop_mac = 1;
		view->client = *src;
		view->state = DUET_LEG_LATCHED;
		memcpy(view->hop_mac, src_mac, 6);
		view->has_hop_mac = 1;
		/* Inside the write side, so no lcore sees the new client with
		 * the old client's time and moves the leg again. */
		__atomic_store_n(&rx->last_rx_tsc, now, __ATOMIC_RELAXED);
	}
	duet_leg_write_done(l, seq);
	return d;
accepted:
	__atomic_store_n(&rx->last_rx_tsc, now, __ATOMIC_RELAXED);
	return d;
}

/**
 * A packet from src (Ethernet source src_mac) arrived at leg l (receive
 * line rx) at TSC now:
 * read the leg, decide, and latch or re-latch it when the rule says so
 * (duet_leg_commit()). Worker lcores.
 * @param view out: the leg as it is after this packet
 * @return the verdict, as duet_leg_commit()
 */
static inline enum duet_latch_verdict
duet_leg_rx(struct duet_leg *l, struct duet_leg_rx *rx, const struct duet_addr *src,
	    const uint8_t src_mac[6], uint64_t now, uint64_t silence, struct duet_leg_view *view)
{
	uint64_t last = __atomic_load_n(&rx->last_rx_tsc, __ATOMIC_RELAXED);
	enum duet_latch_verdict d;

	if (!duet_leg_read(l, view))
		return DUET_LATCH_BUSY;
	d = duet_latch_decide(view, src, last, now, silence);
	return duet_leg_commit(l, rx, src, src_mac, now, silence, true, d, view);
}

#endif /* DUET_PAIR_FP_H */
