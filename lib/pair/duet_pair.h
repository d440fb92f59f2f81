/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_pair: the pairing table. A pair is two legs; each leg is found by its
 * relay endpoint (service IP + UDP port). Endpoints are dense (a few service
 * addresses times the media port range), so the table indexes them
 * directly: a flat array, one 32-bit word per (address, port), that holds
 * the leg's index + 1 (0: no pair). Worker lcores read it with one load; a
 * hash of the pair id serves the control side only. The control thread is
 * the only writer of the table: it adds,
 * updates and deletes pairs, and frees a pair's slot only after every worker
 * has passed a quiescent state (rte_rcu_qsbr), so a worker never reads a
 * leg that is being reused.
 *
 * A leg is one cache line (struct duet_leg) holding everything a packet
 * that arrives at it needs in order to leave: its own client (to check the
 * source), a copy of the peer leg's client and next hop (where to send),
 * and the egress endpoint, with 16-byte addresses of either family. A
 * worker reads no other leg's line for a packet; a latch writes both
 * lines. What every packet writes (last-seen time, policer bucket) and
 * the pair's limits and SRTP pointer are the pair's fast line (struct
 * duet_pair_fast, duet_pair_fp.h), one per slot.
 * Ownership of a leg's fields:
 *  - mode, out_port, egress_addr, egress_port, the family flags: written by
 *    the control thread while the leg is unreachable (before its index
 *    entry is published, after RCU); relatch, and the pair's rate on its
 *    fast line: also with relaxed stores when the record changes in place.
 *  - flags, client_*, hop_mac (the leg's own client) and peer_*, peer_mac
 *    (the copy of the peer leg's client): under the leg's seqlock, by
 *    whichever lcore latches this leg or the peer leg (a worker), or pins
 *    either (the control thread). A latch enters its own leg's write side
 *    and then the peer's; the writer side is a try-lock: a worker that
 *    finds it taken gives up, the control thread retries, so no lcore ever
 *    spins on another, and readers never block.
 *  - ssrc, has_ssrc: relaxed stores by a worker that accepted a packet of
 *    the client with another SSRC than the last (the `ssrc` re-latch
 *    policy).
 *  - last_rx_tsc[k], police_tat[k] on the pair's fast line: every accepted
 *    packet of leg k, by the worker that accepted it (relaxed store;
 *    compare-and-swap for the bucket); read by the control thread for idle
 *    timeouts.
 *  - RTP statistics and packet/byte counters: the leg's stats line
 *    (struct duet_leg_stats), one pkts/bytes block per worker, written
 *    only by that worker; drops in a cold per-worker array touched only
 *    when a packet is dropped. The control thread sums them.
 * Functions in this header are for the control thread unless said otherwise.
 */
#ifndef DUET_PAIR_H
#define DUET_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet_addr.h"
#include "duet_police.h"
#include "duet_record.h"
#include "duet_rtp_leg_fp.h"
#include "duet_sdes.h"

#define DUET_PAIR_ID_MAX DUET_RECORD_ID_MAX /**< longest pair id, in bytes */
#define DUET_PAIR_REASON_MAX 160

/* The modes (enum duet_pair_mode) and key fields (enum duet_pair_key) are
 * the contract's words: duet_record.h. */

/** Keep a sender's previous key this long after a rotation (ms). */
#define DUET_PAIR_KEY_GRACE_MS 10000

/* struct duet_pair_spec, a pair as the control plane describes it, is the
 * contract's: duet_record.h. */


/** Leg state as seen in stats. */
enum duet_leg_state {
	DUET_LEG_WAITING = 0, /**< no client address yet */
	DUET_LEG_LATCHED,     /**< client address known (latched or pinned) */
};

/* A leg's flags (struct duet_leg, under its seqlock). */
#define DUET_LEG_F_LATCHED 0x01	 /**< the leg has a client (latched or pinned) */
#define DUET_LEG_F_PINNED 0x02	 /**< the client is fixed by the control plane */
#define DUET_LEG_F_HOP_MAC 0x04	 /**< hop_mac: next hop toward the client, learnt */
#define DUET_LEG_F_PEER 0x08	 /**< the peer leg has a client: peer_ip/port hold it */
#define DUET_LEG_F_PEER_MAC 0x10 /**< peer_mac: next hop toward the peer's client */
#define DUET_LEG_F_V6 0x20	 /**< the leg's endpoint, so its client, is IPv6 (fixed) */
#define DUET_LEG_F_PEER_V6 0x40	 /**< the peer leg's endpoint and client are IPv6 (fixed) */

/**
 * One leg, shared with the workers: exactly one cache line holding all a
 * packet arriving at the leg needs to be checked and sent on (see the
 * ownership rules above), and written only when a client latches, moves,
 * is pinned, or changes SSRC. Addresses are 16 bytes whatever the family
 * (an IPv4 address in the first 4, the rest zero; DUET_LEG_F_V6 and
 * DUET_LEG_F_PEER_V6 say which), in network order. What is written for
 * every packet (the last-heard time and the policer, with the pair's
 * limits) is the pair's fast line (struct duet_pair_fast), so two 16-byte
 * addresses fit here. The leg's own relay endpoint is not here: no packet
 * needs it (the index found the leg by it); it is the peer leg's egress.
 */
struct duet_leg {
	uint32_t seq;		 /**< seqlock sequence; odd while a writer is inside */
	uint8_t flags;		 /**< DUET_LEG_F_* (under seq) */
	uint8_t mode;		 /**< enum duet_pair_mode */
	uint8_t relatch;	 /**< enum duet_relatch */
	uint8_t out_port;	 /**< duet port of the egress endpoint */
	uint8_t client_ip[16];	 /**< the leg's client (under seq) */
	uint8_t peer_ip[16];	 /**< the peer leg's client (under seq) */
	uint16_t client_port;	 /**< its UDP port (under seq) */
	uint16_t peer_port;	 /**< its UDP port (under seq) */
	uint16_t egress_port;	 /**< UDP port of the egress endpoint (the peer leg's) */
	uint8_t egress_addr;	 /**< service address of the egress endpoint, by index */
	uint8_t has_ssrc;	 /**< ssrc was seen */
	uint32_t ssrc;		 /**< client's last SSRC (valid when has_ssrc) */
	uint8_t hop_mac[6];	 /**< next hop toward the client (under seq) */
	uint8_t peer_mac[6];	 /**< next hop toward the peer's client (under seq) */
} __attribute__((aligned(64)));

/** A leg's counters, summed over workers (duet_pair_counters()). */
struct duet_leg_counters {
	uint64_t pkts;		     /**< packets accepted from the client and relayed */
	uint64_t bytes;		     /**< their UDP payload bytes */
	uint64_t drop_src;	     /**< dropped: source not the leg's client */
	uint64_t drop_peer_unlatched; /**< dropped: the other leg had no client yet */
	uint64_t drop_auth;	     /**< dropped: SRTP/SRTCP tag wrong (keyed modes) */
	uint64_t drop_replay;	     /**< dropped: SRTP/SRTCP index replayed or too old */
	uint64_t drop_policed;	     /**< dropped: over the leg's policer */
};

/** Figures of a pair as it ended (deleted, or replaced by a put). */
struct duet_pair_final {
	struct duet_pair_spec spec;	 /**< its record, SRTP keys wiped */
	struct duet_leg_counters leg[2]; /**< per leg, since the pair was created */
	struct duet_rtp_leg rtp[2];	 /**< loss/jitter of each leg's stream */
	uint64_t last_rx_tsc[2];	 /**< TSC of each leg's last packet, 0 = none */
	uint8_t latched[2];		 /**< the leg had a client */
	uint64_t created_ms;		 /**< unix ms when duetd created it */
	uint64_t ended_ms;		 /**< unix ms when it ended */
	uint64_t duration_ms;		 /**< created to ended by CLOCK_MONOTONIC: a
					      wall-clock step between them does not change it */
};

/** What duet_pair_put() did, for a caller that reports ended pairs. */
struct duet_pair_put_result {
	uint32_t slot;			/**< the pair's slot */
	int old_slot;			/**< the id's slot before the put, -1 for none: set
					     on failure too, once the spec was found valid and
					     inside the table's space */
	uint32_t srtp_restored;		/**< duet_pair_put_restore(): states applied */
	uint32_t srtp_skipped;		/**< duet_pair_put_restore(): states that did not apply */
	struct duet_pair_final replaced; /**< return 2: the pair it replaced */
};

/** Most SRTP stream states one pair has (duet_pair_srtp_state()): one per
 * SSRC a direction may hold, for each of the four keys. */
#define DUET_PAIR_SRTP_STATES_MAX (DUET_KEY_COUNT * DUET_RECORD_SRTP_STREAMS_MAX)

struct duet_pair_table;

/** Most service addresses the endpoint index covers (every port's). */
#define DUET_PAIR_SPACE_ADDRS_MAX 128

/**
 * The relay's endpoint space: every service address times the media port
 * range. A pair's endpoints must lie inside it. Address i's endpoints are
 * entries [i * n_ports, (i + 1) * n_ports) of the index, in the order given
 * here: workers pass that order's index (duet_port's space_base + its own).
 */
struct duet_pair_space {
	struct duet_addr addrs[DUET_PAIR_SPACE_ADDRS_MAX]; /**< service addresses (port 0) */
	unsigned int n_addrs;				   /**< 1..DUET_PAIR_SPACE_ADDRS_MAX */
	uint16_t port_min;				   /**< first media port, host order */
	uint16_t port_max;				   /**< last media port, host order */
};

/** Bytes the endpoint index of `space` takes (4 per address and port). */
size_t duet_pair_space_bytes(const struct duet_pair_space *space);

/**
 * DPDK memory a table of duet_pair_table_create(capacity, n_workers, space)
 * takes in its arrays (legs, stats lines, every worker's drop counters,
 * the control records, the free list, the SRTP pointers, the id hash's
 * position -> slot array, the endpoint index):
 * a lower bound, the id hash and the RCU queue come on top. Keyed pairs'
 * SRTP state is allocated per pair, later. Any thread.
 */
size_t duet_pair_table_bytes(uint32_t capacity, unsigned int n_workers,
			     const struct duet_pair_space *space);

/**
 * Create an empty table for up to capacity pairs read by n_workers workers,
 * with the endpoints of `space` (copied). Everything is allocated here, up
 * front: nothing later grows.
 * @return the table, or NULL with rte_errno set (EINVAL: bad arguments or
 *         space; ENOMEM). Control thread, after EAL init.
 */
struct duet_pair_table *duet_pair_table_create(const char *name, uint32_t capacity,
					       unsigned int n_workers, int socket_id,
					       const struct duet_pair_space *space);

/** Free the table. Workers must have stopped. NULL is a no-op. */
void duet_pair_table_free(struct duet_pair_table *t);

/**
 * Register worker `widx` (0..n_workers-1) as an RCU reader and put it online.
 * Called by that worker's lcore before its loop. @return 0 or -errno.
 */
int duet_pair_worker_register(struct duet_pair_table *t, unsigned int widx);

/** Take worker widx offline (it stops blocking reclaim). Worker lcore. */
void duet_pair_worker_unregister(struct duet_pair_table *t, unsigned int widx);

/**
 * Add or update the pair spec->id.
 * A new id gets a free slot and both endpoint index entries are published. An existing
 * id with the same endpoints and mode is updated in place (pins, idle,
 * expires, keys): latched clients stay latched, counters continue; a new
 * sender key is used at once, the previous one is still accepted for
 * DUET_PAIR_KEY_GRACE_MS (packets already on their way). An existing id
 * with other endpoints or another mode is replaced (old legs deleted, new
 * ones added; latches and counters restart); a replacement that cannot get a
 * slot is refused and the old pair keeps running.
 * @param res (may be NULL) on success, the pair's slot; on a replacement,
 *        also the figures of the pair it replaced, taken as it ended
 * @param why on failure, a reason naming what was wrong
 * @return 0 added, 1 updated in place, 2 replaced; -EEXIST an endpoint is used
 *         by another pair; -ENOSPC table full; -EINVAL bad spec (an
 *         endpoint outside the table's space among others); -ENOMEM
 *         no memory for SRTP sessions.
 */
int duet_pair_put(struct duet_pair_table *t, const struct duet_pair_spec *spec,
		  uint64_t now_ms, struct duet_pair_put_result *res, char *why, size_t whylen);

/**
 * duet_pair_put(), for a pair loaded after a restart: a pair that gets new
 * SRTP sessions here (return 0 or 2) continues the SRTP streams `srtp`
 * lists (what duet_pair_srtp_state() read before the restart, as
 * duet_record_srtp_parse() gives it back): for each, the session of its
 * key gets a stream for the SSRC that continues at the listed ROC (a
 * sequence that wrapped is followed), every RTP packet whose index is at
 * or below the listed one, and every SRTCP packet at or below the listed
 * SRTCP index, is dropped as a replay (drop_replay, srtp_replay) for as
 * long as the pair lives, and in rekey the relay never protects such an
 * index again toward the receiver. It happens before the pair's endpoints
 * are published, so no packet meets the sessions without it.
 * The states must have been written for the keys in spec: a stream
 * continued at another key's ROC does not authenticate.
 * States that do not apply are skipped (res->srtp_skipped), the pair is
 * put all the same: all of them on an in-place update (return 1: the live
 * sessions are past them) and for a passthrough pair; a key the mode does
 * not take (`a_out` in verify); SRTCP on an `_out` key; an SSRC listed
 * twice for one key; SSRCs past DUET_RECORD_SRTP_STREAMS_MAX in a
 * direction. An `_in` and an `_out` state of one SSRC fill one entry of a
 * direction's SSRC table (srtp_max_ssrc), and count as heard from now.
 * @return as duet_pair_put(); -ENOMEM also when libsrtp2 had no memory
 *         for a restored stream
 */
int duet_pair_put_restore(struct duet_pair_table *t, const struct duet_pair_spec *spec,
			  const struct duet_srtp_stream_state *srtp, unsigned int n_srtp,
			  uint64_t now_ms, struct duet_pair_put_result *res, char *why,
			  size_t whylen);

/**
 * What a pair loaded after a restart continues (duet_pair_put_resume()): the
 * SRTP streams of its keys, and the accounting of the life it had before
 * the restart, as the stats hash last showed it, so that its counters keep
 * counting up and its duration covers the whole call.
 */
struct duet_pair_resume {
	const struct duet_srtp_stream_state *srtp; /**< streams to continue, or NULL */
	unsigned int n_srtp;			    /**< entries of srtp */
	uint64_t created_ms;			    /**< unix ms of its first install, 0 for
						         none: then created is now and
						         leg[] is not read */
	struct duet_leg_counters leg[2];	    /**< counted before, per leg */
};

/**
 * duet_pair_put_restore() with the SRTP streams in rs->srtp, and, for a
 * pair that gets a new slot here (return 0 or 2) when rs->created_ms is
 * set: the pair counts as created at rs->created_ms (duet_pair_created_ms(),
 * and its final duration_ms adds the wall-clock time from then to now to
 * the monotonic time it lives from now; idle timers still start now), and
 * its counters start from rs->leg (kept in worker 0's counters before the
 * endpoints are published, so no worker counts meanwhile and reading them
 * costs nothing more). The caller checks that rs describes this pair and
 * that its values are sane. An update in place ignores rs, as it ignores
 * the SRTP states: the live pair counts on.
 * @param rs  may be NULL (a pair put as new)
 * @return as duet_pair_put_restore()
 */
int duet_pair_put_resume(struct duet_pair_table *t, const struct duet_pair_spec *spec,
			 const struct duet_pair_resume *rs, uint64_t now_ms,
			 struct duet_pair_put_result *res, char *why, size_t whylen);

/**
 * How far each SRTP stream of keyed pair `slot` got, to be written back
 * (duet_record_srtp_format(), the stats hash's a_srtp_in, ...) and given
 * to duet_pair_put_restore() after a restart: per SSRC of each direction,
 * an `<leg>_in` state (from that leg's client: highest RTP index and SRTCP
 * index authenticated) and, in rekey, an `<peer>_out` state (highest RTP
 * index the relay protected toward the other leg). Only the current keys'
 * streams: after a rotation, an SSRC shows again once a packet under the
 * new key authenticated. The highest indexes move with every packet and
 * are read as the workers left them a moment ago. Control thread, any
 * time while the slot is live; lock-free against the workers.
 * @param out  up to max states (DUET_PAIR_SRTP_STATES_MAX is enough)
 * @param gen  (may be NULL) the pair's SRTP change count: it moves when an
 *             SSRC comes or goes (or a key rotation restarts its stream)
 *             and when a stream's ROC changes, so a caller that compares it
 *             with the last one it wrote can write at once on a ROC change.
 *             Compare only within one slot's life (a new pair restarts it).
 * @return the number of states (0 for a passthrough pair), -ENOENT slot
 *         not live, -ENOSPC more than max, -EBUSY a worker stayed inside
 *         its writer side throughout (only if descheduled there: retry)
 */
int duet_pair_srtp_state(const struct duet_pair_table *t, uint32_t slot,
			 struct duet_srtp_stream_state *out, unsigned int max, uint32_t *gen);

/** The change count duet_pair_srtp_state() gives, alone (two loads; 0 for
 * a passthrough pair). Control thread, while the slot is live. */
uint32_t duet_pair_srtp_gen(const struct duet_pair_table *t, uint32_t slot);

/**
 * A pinned client whose next hop is not known (a pin gives the address,
 * not the MAC): duet_pair_pins_take() hands them out so the control thread
 * can ask the link (neighbour discovery) before the client's first packet,
 * which would teach it anyway.
 */
struct duet_pair_pin_ref {
	uint32_t slot;		   /**< the pair's slot */
	uint8_t leg;		   /**< 0 = a, 1 = b */
	uint8_t port_idx;	   /**< duet port that reaches the client (the leg's endpoint's) */
	struct duet_addr client;   /**< the pin */
};

/** Pins duet_pair_pins_take() can hold before the oldest are forgotten. */
#define DUET_PAIR_PINS_QUEUE 256

/**
 * Take up to max pins set since the last call (a new pair's, or a pin a
 * record changed), oldest first. A pin that no longer holds when the
 * answer comes is caught by duet_pair_learn_hop(). Control thread.
 * @return how many were written to out
 */
unsigned int duet_pair_pins_take(struct duet_pair_table *t, struct duet_pair_pin_ref *out,
				 unsigned int max);

/**
 * The link answered where pinned client `client` (its address; the port is
 * not looked at) of leg `leg` of `slot` is: MAC mac. Written to the leg
 * (its next hop) and the peer leg's copy, inside both write sides, if the
 * leg is still pinned to that address and learnt no
 * MAC meanwhile (a packet from the client teaches the same, and wins).
 * Control thread.
 * @return 0, -ENOENT (slot not live), -ESTALE (pinned elsewhere now, or a
 *         MAC already known)
 */
int duet_pair_learn_hop(struct duet_pair_table *t, uint32_t slot, unsigned int leg,
			const struct duet_addr *client, const uint8_t mac[6]);

/** How one SRTP key of a keyed pair is used (its current session). */
struct duet_pair_key_use {
	uint64_t left;	  /**< packets it may still take before it expires: the lesser of
			       what its SRTP and its SRTCP counts have left (0: expired) */
	uint64_t expired; /**< packets refused because it was past its lifetime */
};

/**
 * The key lifetimes of keyed pair `slot` (lib/srtp/duet_srtp_life.h): for
 * each key its mode takes (`a_in`, `b_in`; in rekey also `a_out`, `b_out`),
 * what its current session has left and refused. A rotation to a new key
 * starts both again; the previous key's count during the grace is not
 * shown. Read as the workers left them a moment ago. Control thread, while
 * the slot is live.
 * @param out  indexed by enum duet_pair_key; entries not filled are zeroed
 * @return a mask of the keys filled (1 << key), 0 for a passthrough pair,
 *         -ENOENT slot not live
 */
int duet_pair_srtp_key_use(const struct duet_pair_table *t, uint32_t slot,
			   struct duet_pair_key_use out[DUET_KEY_COUNT]);

/**
 * TSC of the last packet a leg accepted from its client (0: none), as the
 * workers store it (relaxed). For idle timeouts and stats. Control thread.
 */
uint64_t duet_pair_last_rx_tsc(const struct duet_pair_table *t, uint32_t slot, unsigned int leg);

/**
 * Delete pair `id`: its endpoints stop matching at once; its slot is reused
 * after an RCU grace period. fin (may be NULL) gets its final figures.
 * @return 0 or -ENOENT.
 */
int duet_pair_del(struct duet_pair_table *t, const char *id, uint64_t now_ms,
		  struct duet_pair_final *fin);

/** Free slots whose grace period has passed. Call often on the control thread. */
void duet_pair_reclaim(struct duet_pair_table *t);

/** Most pairs the table holds. Any thread. */
uint32_t duet_pair_capacity(const struct duet_pair_table *t);

/** Number of live pairs. */
uint32_t duet_pair_count(const struct duet_pair_table *t);

/** Slot of pair id, or -ENOENT. */
int duet_pair_find(const struct duet_pair_table *t, const char *id);

/** Slot of the pair owning endpoint ep (leg in *leg), or -ENOENT. */
int duet_pair_find_endpoint(const struct duet_pair_table *t, const struct duet_addr *ep,
			    unsigned int *leg);

/**
 * Iterate over live pairs: start with *it = 0; returns the next live slot
 * and advances *it, or -ENOENT at the end. The table must not change
 * between calls except by deleting the slot just returned.
 */
int duet_pair_next(const struct duet_pair_table *t, uint32_t *it);

/** The id of live slot `slot` (NUL-terminated; valid until the pair is
 * deleted), or "" for a slot that is not live. */
const char *duet_pair_id_of(const struct duet_pair_table *t, uint32_t slot);

/** The mode (enum duet_pair_mode) of live slot `slot`. */
uint8_t duet_pair_mode_of(const struct duet_pair_table *t, uint32_t slot);

/**
 * The record of live slot `slot` as it was put, put back together from
 * the legs (endpoints, duet ports, mode, re-latch policy, pins), the id
 * hash (id) and the slot's control record (timers, limits). The SRTP keys
 * are not in it (all zero): they live in the pair's crypto block only.
 */
void duet_pair_spec_get(const struct duet_pair_table *t, uint32_t slot,
			struct duet_pair_spec *out);

/** Idle timeout (ms, 0 = none) and expiry (unix s, 0 = none) of live slot
 * `slot`: what the expiry scan reads for every pair, without the rest. */
void duet_pair_timers(const struct duet_pair_table *t, uint32_t slot, uint32_t *idle_ms,
		      uint64_t *expires);

/** Creation time (unix ms) of live slot `slot`. */
uint64_t duet_pair_created_ms(const struct duet_pair_table *t, uint32_t slot);

/** Creation time (TSC) of live slot `slot`: for timers, which a wall-clock
 * step must not move. */
uint64_t duet_pair_created_tsc(const struct duet_pair_table *t, uint32_t slot);

/** Leg `leg` (0 = a, 1 = b) of slot. Read-only for the control thread. */
const struct duet_leg *duet_pair_leg(const struct duet_pair_table *t, uint32_t slot,
				     unsigned int leg);

/** The relay endpoint of leg `leg` of slot (the peer leg's egress). */
void duet_pair_leg_local(const struct duet_pair_table *t, uint32_t slot, unsigned int leg,
			 struct duet_addr *out);

/**
 * Counters of one leg since the pair was created, summed over workers.
 */
void duet_pair_counters(const struct duet_pair_table *t, uint32_t slot, unsigned int leg,
			struct duet_leg_counters *out);

struct duet_rtp_leg;

/** RTP loss/jitter of leg `leg` of slot as the workers measured it. */
void duet_pair_rtp(const struct duet_pair_table *t, uint32_t slot, unsigned int leg,
		   struct duet_rtp_leg *out);

/**
 * Snapshot a leg's client address for the control thread (seqlock read).
 * @return true and *client set when the leg has a client.
 */
bool duet_pair_leg_client(const struct duet_pair_table *t, uint32_t slot, unsigned int leg,
			  struct duet_addr *client);

#endif /* DUET_PAIR_H */
