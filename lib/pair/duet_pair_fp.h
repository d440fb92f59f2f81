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
 * while the workers that receive the leg read it lock-free. A latch also
 * writes the peer leg's copy of the client, inside the peer's write side
 * taken after its own (both try-locks, so no order can deadlock).
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
 * A pair's fast line, one per slot: what every packet of either leg
 * writes (leg k's last-heard time and policer bucket, by the worker that
 * accepted the packet), the pair's limits, and its SRTP state. Apart from
 * the leg lines so that a leg's line holds two 16-byte addresses and is
 * written only when a client changes. Both legs' packets write this line:
 * with RSS the two callers' flows may be on two workers, and the line
 * moves between them once per packet of each; at a caller's 50 packets a
 * second that costs nothing measurable, and the alternative (a line per
 * leg) costs 64 more bytes per pair.
 */
struct duet_pair_fast {
	/** SRTP state of a keyed pair, NULL for passthrough: set before the
	 * pair's endpoints are published, kept until the slot is reclaimed
	 * after RCU. */
	struct duet_pair_crypto *crypto;
	struct duet_police_rate rate; /**< the pair's limits as costs (relaxed words) */
	uint64_t last_rx_tsc[2];      /**< TSC of leg k's last packet from its client */
	uint64_t police_tat[2];	      /**< leg k's policer bucket (duet_police_fp.h) */
} __attribute__((aligned(64)));

/**
 * A leg's stats line: the RTP statistics (see duet_rtp_leg_fp.h for who
 * writes them) and one packets/bytes block per worker, each written only
 * by its worker (a leg's packets may come from several queues: strangers
 * on any, a re-latch, an RSS change). 32 + 16 bytes per worker, rounded up
 * to whole cache lines (the table's stats_stride): one line up to two
 * workers. The control thread reads it.
 */
struct duet_leg_hot {
	uint64_t pkts;	/**< packets accepted from the client and relayed */
	uint64_t bytes; /**< their UDP payload bytes */
};

struct duet_leg_stats {
	struct duet_rtp_leg rtp;     /**< 32 B: RTP loss and jitter */
	struct duet_leg_hot hot[];   /**< [worker] */
} __attribute__((aligned(64)));

/** A leg's drop counters, one block per worker per leg, written only by
 * that worker and only when it drops one of the leg's packets: a cold
 * array, never prefetched. */
struct duet_leg_drops {
	uint64_t drop_src;	      /**< source not the leg's client */
	uint64_t drop_peer_unlatched; /**< the other leg had no client yet */
	uint64_t drop_auth;	      /**< SRTP/SRTCP tag wrong (keyed modes) */
	uint64_t drop_replay;	      /**< SRTP/SRTCP index replayed or too old */
	uint64_t drop_policed;	      /**< over the leg's policer */
};

/** The table. The first cache line holds everything a worker reads for a
 * packet but the egress addresses: pointers, capacity and the index's
 * shape (64 bytes); the egress addresses follow. */
struct duet_pair_table {
	/** Endpoint index: entry addr_idx * ep_ports + (port - port_min) holds
	 * leg index + 1, or 0. Relaxed-atomic 32-bit words: the control thread
	 * stores (release) after the leg is ready and clears before the slot
	 * goes to RCU; workers load (acquire). */
	uint32_t *ep_leg;
	struct duet_leg *legs;		  /**< 2 * capacity legs; pair slot s = legs 2s, 2s+1 */
	uint8_t *stats;			  /**< per leg: struct duet_leg_stats, stats_stride apart */
	struct duet_leg_drops *drops;	  /**< [worker][leg], written by that worker only */
	struct duet_pair_fast *fast;	  /**< per slot: the pair's fast line */
	struct rte_rcu_qsbr *qsbr;	  /**< one reader per worker */
	uint32_t capacity;		  /**< pairs */
	uint32_t ep_ports;		  /**< port_max - port_min + 1 */
	uint32_t ep_addrs;		  /**< service addresses (space.n_addrs) */
	uint16_t port_min;		  /**< first media port, host order */
	uint16_t stats_stride;		  /**< bytes from one leg's stats line to the next */
	/** Each service address (port 0), by index: a leg's egress_addr. */
	struct duet_addr egress[DUET_PAIR_SPACE_ADDRS_MAX];
	/* Control thread only below. */
	uint32_t n_workers;		  /**< RCU readers */
	struct duet_pair_space space;	  /**< the endpoints ep_leg covers */
	struct rte_hash *id_hash;	  /**< pair ids: a key's position... */
	uint32_t *pos_slot;		  /**< ...indexes this: position -> slot */
	uint32_t n_pos;			  /**< entries of pos_slot */
	struct rte_rcu_qsbr_dq *dq;	  /**< deleted slots waiting for a grace period */
	uint32_t dq_pending;		  /**< entries in dq not yet reclaimed */
	struct duet_pair_ctl *ctl;	  /**< per slot: timers, limits, the id's position */
	struct duet_pair_retire *retire;  /**< SRTP sessions waiting for a grace period */
	uint32_t *free_slots;		  /**< stack of free slots */
	uint32_t n_free;		  /**< entries in free_slots */
	uint32_t n_live;		  /**< live pairs */
	struct duet_pair_pin_ref pins[DUET_PAIR_PINS_QUEUE]; /**< pins set, for duet_pair_pins_take() */
	uint32_t pins_head;		  /**< oldest entry of pins */
	uint32_t pins_n;		  /**< entries in pins */
	char name[32];			  /**< prefix of the DPDK object names */
};

/** A consistent copy of a leg's latch fields: its client and the peer's. */
struct duet_leg_view {
	uint8_t state;		 /**< enum duet_leg_state */
	uint8_t pinned;		 /**< client is pinned */
	uint8_t has_hop_mac;	 /**< hop_mac valid */
	uint8_t peer_state;	 /**< enum duet_leg_state of the peer leg */
	uint8_t has_peer_mac;	 /**< peer_mac valid */
	uint8_t hop_mac[6];	 /**< next hop toward the client */
	uint8_t peer_mac[6];	 /**< next hop toward the peer's client */
	struct duet_addr client; /**< the client, when state is LATCHED */
	struct duet_addr peer;	 /**< the peer's client, when peer_state is LATCHED */
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

/** The fast line of the pair of leg leg_idx. Any thread. */
static inline struct duet_pair_fast *
duet_pair_fast_at(const struct duet_pair_table *t, uint32_t leg_idx)
{
	return &t->fast[leg_idx >> 1];
}

/** Where leg leg_idx's last-heard TSC is kept. Any thread. */
static inline uint64_t *
duet_pair_last_rx_at(const struct duet_pair_table *t, uint32_t leg_idx)
{
	return &t->fast[leg_idx >> 1].last_rx_tsc[leg_idx & 1];
}

/** The SRTP context for packets arriving at leg leg_idx, or NULL when the
 * pair is not keyed. Worker lcores (between quiescent states). */
static inline struct duet_srtp_ctx *
duet_pair_srtp_at(const struct duet_pair_table *t, uint32_t leg_idx)
{
	struct duet_pair_crypto *c =
		__atomic_load_n(&t->fast[leg_idx >> 1].crypto, __ATOMIC_ACQUIRE);

	return c != NULL ? &c->dir[leg_idx & 1] : NULL;
}

/** Stats line of leg leg_idx (RTP statistics, every worker's pkts/bytes). */
static inline struct duet_leg_stats *
duet_pair_stats_at(const struct duet_pair_table *t, uint32_t leg_idx)
{
	return (struct duet_leg_stats *)(void *)(t->stats + (size_t)leg_idx * t->stats_stride);
}

/** RTP receive statistics of leg leg_idx (packets from its client). */
static inline struct duet_rtp_leg *
duet_pair_rtp_at(const struct duet_pair_table *t, uint32_t leg_idx)
{
	return &duet_pair_stats_at(t, leg_idx)->rtp;
}

/** This worker's packet and byte counters of leg leg_idx. Worker widx only. */
static inline struct duet_leg_hot *
duet_pair_hot_at(const struct duet_pair_table *t, unsigned int widx, uint32_t leg_idx)
{
	return &duet_pair_stats_at(t, leg_idx)->hot[widx];
}

/** This worker's drop counters of leg leg_idx. Worker widx only. */
static inline struct duet_leg_drops *
duet_pair_drops_at(const struct duet_pair_table *t, unsigned int widx, uint32_t leg_idx)
{
	return &t->drops[(size_t)widx * 2 * t->capacity + leg_idx];
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

/* A leg's 16-byte address field and port as a struct duet_addr. */
static inline void
duet_leg_addr_(struct duet_addr *a, bool v6, const uint8_t ip[16], uint16_t port)
{
	a->family = v6 ? DUET_AF_INET6 : DUET_AF_INET4;
	a->reserved = 0;
	a->port = port;
	memcpy(a->ip, ip, 16);
}

/**
 * Copy the leg's latch fields (its client, the peer's) consistently.
 * @return false only if a writer stayed inside for every retry (treat the
 * leg as busy). Any thread.
 */
static inline bool
duet_leg_read(const struct duet_leg *l, struct duet_leg_view *v)
{
	unsigned int tries;
	uint16_t cport, pport;
	uint32_t s;
	uint8_t f;

	/* The addresses go straight into the view (a retry overwrites
	 * them); family and port follow once the copy is known whole. */
	for (tries = 0; tries < 64; tries++) {
		s = __atomic_load_n(&l->seq, __ATOMIC_ACQUIRE);
		if (s & 1) {
			rte_pause();
			continue;
		}
		f = l->flags;
		memcpy(v->client.ip, l->client_ip, 16);
		cport = l->client_port;
		memcpy(v->peer.ip, l->peer_ip, 16);
		pport = l->peer_port;
		memcpy(v->hop_mac, l->hop_mac, sizeof(v->hop_mac));
		memcpy(v->peer_mac, l->peer_mac, sizeof(v->peer_mac));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&l->seq, __ATOMIC_RELAXED) == s)
			goto got;
	}
	return false;
got:
	v->state = (f & DUET_LEG_F_LATCHED) ? DUET_LEG_LATCHED : DUET_LEG_WAITING;
	v->pinned = (f & DUET_LEG_F_PINNED) != 0;
	v->has_hop_mac = (f & DUET_LEG_F_HOP_MAC) != 0;
	v->peer_state = (f & DUET_LEG_F_PEER) ? DUET_LEG_LATCHED : DUET_LEG_WAITING;
	v->has_peer_mac = (f & DUET_LEG_F_PEER_MAC) != 0;
	if (f & DUET_LEG_F_LATCHED) {
		v->client.family = (f & DUET_LEG_F_V6) ? DUET_AF_INET6 : DUET_AF_INET4;
		v->client.reserved = 0;
		v->client.port = cport;
	} else {
		memset(&v->client, 0, sizeof(v->client));
	}
	if (f & DUET_LEG_F_PEER) {
		v->peer.family = (f & DUET_LEG_F_PEER_V6) ? DUET_AF_INET6 : DUET_AF_INET4;
		v->peer.reserved = 0;
		v->peer.port = pport;
	} else {
		memset(&v->peer, 0, sizeof(v->peer));
	}
	return true;
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
 * the leg (last_rx: its last-heard time, duet_pair_last_rx_at()): keyed
 * modes ask this first and latch only once the packet has authenticated.
 * Worker lcores.
 */
static inline enum duet_latch_verdict
duet_leg_peek(const struct duet_leg *l, const uint64_t *last_rx, const struct duet_addr *src,
	      uint64_t now, uint64_t silence)
{
	struct duet_leg_view v;

	if (!duet_leg_read(l, &v))
		return DUET_LATCH_BUSY;
	return duet_latch_decide(&v, src, __atomic_load_n(last_rx, __ATOMIC_RELAXED), now,
				 silence);
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
 * Set leg l's client to src, of the leg's family (next hop mac, or unknown
 * when mac is NULL), and the peer leg's copy of it. The caller is inside
 * both legs' write sides. Any thread.
 */
static inline void
duet_leg_set_client(struct duet_leg *l, struct duet_leg *peer, const struct duet_addr *src,
		    const uint8_t *mac)
{
	/* An IPv4 duet_addr has zeros past its 4 bytes: the field is whole. */
	memcpy(l->client_ip, src->ip, 16);
	l->client_port = src->port;
	memcpy(peer->peer_ip, src->ip, 16);
	peer->peer_port = src->port;
	if (mac != NULL) {
		memcpy(l->hop_mac, mac, 6);
		memcpy(peer->peer_mac, mac, 6);
		l->flags |= DUET_LEG_F_LATCHED | DUET_LEG_F_HOP_MAC;
		peer->flags |= DUET_LEG_F_PEER | DUET_LEG_F_PEER_MAC;
	} else {
		l->flags = (uint8_t)((l->flags | DUET_LEG_F_LATCHED) & ~DUET_LEG_F_HOP_MAC);
		peer->flags = (uint8_t)((peer->flags | DUET_LEG_F_PEER) & ~DUET_LEG_F_PEER_MAC);
	}
}

/**
 * Act on a verdict that duet_latch_decide() gave for a packet from src
 * (Ethernet source src_mac) on leg l (its pair's other leg: peer; its
 * last-heard time: *last_rx) at TSC now, against the view `view` read with
 * duet_leg_read(): latch or re-latch the leg when the rule says so, or
 * note the client's packet. On accept *last_rx is updated and a changed next-hop MAC is
 * learned. A latch, a re-latch and a new MAC are written to both legs'
 * lines (the peer keeps a copy: where its packets go), inside l's write
 * side and then the peer's. The rule is decided again under l's write
 * side, since another lcore may have changed the leg since the view was
 * read. Worker lcores.
 * @param may_move false: the caller checked this packet only as the leg's
 *        client, so a verdict that would now latch or re-latch it is a
 *        DUET_LATCH_REJECT instead
 * @param view in: the leg as read; out: the leg as it is after this packet
 * @return the verdict; DUET_LATCH_REJECT (not the client) and DUET_LATCH_BUSY
 *         (another lcore held a write side this latch needed, l's or the
 *         peer's: the packet latched nothing) mean drop.
 */
static inline enum duet_latch_verdict
duet_leg_commit(struct duet_leg *l, uint64_t *last_rx, struct duet_leg *peer,
		const struct duet_addr *src, const uint8_t src_mac[6], uint64_t now,
		uint64_t silence, bool may_move, enum duet_latch_verdict d,
		struct duet_leg_view *view)
{
	uint64_t last;
	uint32_t seq, pseq;

	if (d == DUET_LATCH_REJECT || d == DUET_LATCH_BUSY)
		return d;
	if (d == DUET_LATCH_ACCEPT && view->has_hop_mac &&
	    memcmp(view->hop_mac, src_mac, 6) == 0)
		goto accepted;
	if (!duet_leg_write_try(l, &seq)) {
		/* Another lcore is latching this leg (or the control thread is
		 * pinning it or its peer) right now: that one wins, this packet
		 * latches nothing. The client's own packet still passes. */
		if (d != DUET_LATCH_ACCEPT)
			return DUET_LATCH_BUSY;
		goto accepted;
	}
	/* Decide again under the write side: another lcore may have latched
	 * between our read and our entry. */
	view->state = (l->flags & DUET_LEG_F_LATCHED) ? DUET_LEG_LATCHED : DUET_LEG_WAITING;
	view->pinned = (l->flags & DUET_LEG_F_PINNED) != 0;
	if (view->state == DUET_LEG_LATCHED)
		duet_leg_addr_(&view->client, (l->flags & DUET_LEG_F_V6) != 0, l->client_ip,
			       l->client_port);
	last = __atomic_load_n(last_rx, __ATOMIC_RELAXED);
	d = duet_latch_decide(view, src, last, now, silence);
	if (!may_move && d != DUET_LATCH_ACCEPT)
		d = DUET_LATCH_REJECT;
	if (d == DUET_LATCH_REJECT) {
		duet_leg_write_done(l, seq);
		return d;
	}
	if (!duet_leg_write_try(peer, &pseq)) {
		/* The peer leg is being latched or pinned this very moment:
		 * nothing changes now; the client's next packet does it. */
		duet_leg_write_done(l, seq);
		if (d != DUET_LATCH_ACCEPT)
			return DUET_LATCH_BUSY;
		goto accepted;
	}
	duet_leg_set_client(l, peer, src, src_mac);
	/* Inside the write side, so no lcore sees the new client with the old
	 * client's time and moves the leg again. */
	__atomic_store_n(last_rx, now, __ATOMIC_RELAXED);
	duet_leg_write_done(peer, pseq);
	duet_leg_write_done(l, seq);
	view->client = *src;
	view->state = DUET_LEG_LATCHED;
	memcpy(view->hop_mac, src_mac, 6);
	view->has_hop_mac = 1;
	return d;
accepted:
	__atomic_store_n(last_rx, now, __ATOMIC_RELAXED);
	return d;
}

/**
 * A packet from src (Ethernet source src_mac) arrived at leg l (whose
 * pair's other leg is peer, whose last-heard time is *last_rx) at TSC now: read the leg, decide, and latch or
 * re-latch it when the rule says so (duet_leg_commit()). Worker lcores.
 * @param view out: the leg as it is after this packet
 * @return the verdict, as duet_leg_commit()
 */
static inline enum duet_latch_verdict
duet_leg_rx(struct duet_leg *l, uint64_t *last_rx, struct duet_leg *peer,
	    const struct duet_addr *src, const uint8_t src_mac[6], uint64_t now, uint64_t silence,
	    struct duet_leg_view *view)
{
	uint64_t last = __atomic_load_n(last_rx, __ATOMIC_RELAXED);
	enum duet_latch_verdict d;

	if (!duet_leg_read(l, view))
		return DUET_LATCH_BUSY;
	d = duet_latch_decide(view, src, last, now, silence);
	return duet_leg_commit(l, last_rx, peer, src, src_mac, now, silence, true, d, view);
}

#endif /* DUET_PAIR_FP_H */
