/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_sync: duetd's control-thread side of Redis. It loads the pairing
 * table from Redis, follows the events stream to keep it current, and
 * writes back what the control plane reads: per-pair stats, the relay
 * heartbeat and an ended entry for every pair that ends. It also ends pairs
 * that idle out or expire. Everything runs inside duet_sync_poll(), called in
 * a loop by duetd's main lcore; a worker lcore never sees Redis, only the
 * pair table (lib/pair) that this module writes.
 *
 * Redis being away never stops forwarding: the table keeps its pairs, sync
 * reconnects with backoff, and writes that must not be lost (ended entries,
 * deletes of pairs that idled out) wait in a bounded queue meanwhile. See
 * docs/redis-contract.md for the keys and the algorithm.
 */
#ifndef DUET_SYNC_H
#define DUET_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "duet_conf.h"
#include "duet_pair.h"
#include "duet_stats.h"

/** Writes kept while Redis is away; more are dropped and counted. */
#define DUET_SYNC_OUTBOX_MAX 65536
/** Seconds an ended or rejected pair's stats hash stays in Redis. */
#define DUET_SYNC_DONE_TTL_S 3600
/** Longest a poll waits in XREAD for new events. */
#define DUET_SYNC_BLOCK_MS 50
/** Events read per XREAD. */
#define DUET_SYNC_XREAD_COUNT 512
/** First and longest wait between reconnect attempts. */
#define DUET_SYNC_BACKOFF_MIN_MS 100
#define DUET_SYNC_BACKOFF_MAX_MS 5000
#define DUET_SYNC_BACKOFF_FAILOVER_MS 1000 /**< ... with Sentinels or a cluster */

struct duet_sync;

/**
 * Create the follower. It does not connect yet: the first duet_sync_poll()
 * does. Its bookkeeping per table slot (20 bytes) is written once here, so
 * a first load takes no page faults in it. conf, t and lcore_stats must
 * outlive it.
 * @param conf relay id, Redis address, media range, intervals
 * @param t the pair table this module is the only writer of
 * @param lcore_stats n_workers per-worker counter blocks, summed for the
 *        heartbeat (may be NULL when n_workers is 0)
 * @return the object, or NULL with rte_errno set (EINVAL, ENOMEM).
 * Control thread, after EAL init (it reads the TSC frequency).
 */
struct duet_sync *duet_sync_create(const struct duet_conf *conf, struct duet_pair_table *t,
				   const struct duet_lcore_stats *lcore_stats,
				   unsigned int n_workers);

/**
 * Do one round of work: connect or reconnect when due, load or follow the
 * pairing table, end idle and expired pairs, write stats and the heartbeat
 * when their interval has passed, send queued writes. Returns within about
 * DUET_SYNC_BLOCK_MS plus a few round trips while Redis answers; a Redis
 * that does not answer costs at most the configured connect timeout.
 * @param now_ms the current unix time in milliseconds (stats and ended
 *        entries carry it; `expires` is compared with it)
 * Control thread only.
 */
void duet_sync_poll(struct duet_sync *s, uint64_t now_ms);

/**
 * Send the queued writes if connected (bounded by the Redis timeout),
 * disconnect and free. NULL is a no-op. Control thread.
 */
void duet_sync_destroy(struct duet_sync *s);

/**
 * Short slices: every duet_sync_poll() then does only a few tens of
 * microseconds of periodic work (stats hashes, idle and expiry checks,
 * queued writes), so a control thread that shares its CPU with a
 * busy-polling worker can yield between polls instead of holding the
 * worker off the CPU for milliseconds. The work is the same, spread over
 * more polls. Off by default. Control thread.
 */
void duet_sync_set_short_slices(struct duet_sync *s, bool on);

/**
 * True while connected and following the events stream: the table is as
 * current as Redis. False while disconnected and during a (re)load.
 */
bool duet_sync_connected(const struct duet_sync *s);

/**
 * True while Redis is reachable, whatever the phase (seeding, loading,
 * following). The control thread paces its loop only when this is false:
 * a load must run at full speed, following blocks on Redis by itself.
 */
bool duet_sync_link_up(const struct duet_sync *s);

/** Successful connections after the first one. */
uint64_t duet_sync_reconnects(const struct duet_sync *s);

/** Full loads done (the first load and every resync). */
uint64_t duet_sync_full_loads(const struct duet_sync *s);

/** Id of the last events entry applied ("0-0" before any). */
const char *duet_sync_last_id(const struct duet_sync *s);

/** Pair records rejected since start (a record rejected twice counts twice). */
uint64_t duet_sync_rejected(const struct duet_sync *s);

/** Writes waiting in the outbox. */
uint32_t duet_sync_outbox_len(const struct duet_sync *s);

/** Pairs that ended while Redis was away, waiting to be reported. */
uint32_t duet_sync_ended_waiting(const struct duet_sync *s);

/** What duetd shows operators of the sync (metrics, telemetry, readiness). */
struct duet_sync_info {
	bool link_up;		 /**< connected and holding the relay id's lease */
	bool table_current;	 /**< the table has been loaded from Redis since start */
	bool draining;		 /**< the drain key existed at the last heartbeat */
	uint64_t reconnects;	 /**< links lost and made again */
	uint64_t full_loads;	 /**< full loads started */
	uint64_t rejected;	 /**< pair records refused */
	uint32_t outbox_len;	 /**< writes queued for Redis (the writeback queue) */
	uint64_t writes_dropped; /**< writes dropped: the queue was full */
	uint32_t ended_waiting;	 /**< ended records parked while Redis is away */
	uint64_t ended_lost;	 /**< ended records lost: the parking ring was full */
	uint32_t held;		 /**< pairs kept by the resync safety valve */
	uint64_t resumed;	 /**< pairs whose counters a load continued from Redis */
	uint64_t resume_refused; /**< stats hashes a load found not sane (pair from zero) */
	uint64_t events_applied; /**< events stream entries applied */
	uint64_t events_lag_ms;	 /**< age of the last applied entry when applied */
};

/**
 * Fill out with the sync's state. Control thread only (the owner of s).
 */
void duet_sync_get_info(const struct duet_sync *s, struct duet_sync_info *out);

#endif /* DUET_SYNC_H */
