/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_sync internals, shared by its files and by nothing else (not
 * installed). Everything here runs on duetd's control thread. The files, each
 * calling only the ones listed after it, so data flows one way:
 *
 *   duet_sync.c           the object's life, duet_sync_poll() and the phases
 *                         around the load: connect, seed and prune the free
 *                         set, resume or reload
 *   duet_sync_lease.c     the relay-id lease: one process per relay id
 *   duet_sync_load.c      the full load: SCAN + HGETALL pipelined a page
 *                         ahead, conflicts, the safety valve at its end
 *   duet_sync_follow.c    following the events stream, with the stream
 *                         position
 *   duet_sync_apply.c     one record to the table: put, delete or reject
 *   duet_sync_expiry.c    idle and expiry rounds over the table
 *   duet_sync_ended.c     ending a pair: table delete, ended entry, final
 *                         stats, pair_delete.lua; rejected records
 *   duet_sync_stats.c     per-pair figures, fingerprints, stats hashes and
 *                         the periodic stats round
 *   duet_sync_heartbeat.c the relay heartbeat
 *   duet_sync_outbox.c    writes kept across a disconnect
 *   duet_sync_cmd.c       the command builder, pipelining, link loss
 *
 * duet_contract.c (record and stream-position rules) stands apart: pure C,
 * called by duet_sync.c, duet_sync_load.c, duet_sync_follow.c and
 * duet_sync_apply.c.
 */
#ifndef DUET_SYNC_INTERNAL_H
#define DUET_SYNC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <rte_log.h>

#include "duet_clock.h"
#include "duet_contract.h"
#include "duet_pair.h"
#include "duet_rtp_leg_fp.h"
#include "duet_redis.h"
#include "duet_stats.h"
#include "duet_sync.h"

extern int duet_sync_logtype;

#define SYNC_LOG(level, ...) \
	rte_log(RTE_LOG_##level, duet_sync_logtype, __VA_ARGS__)

/* ---- command builder: one Redis command as binary-safe arguments ---- */

#define SYNC_CMD_ARGS_MAX 640 /* the heartbeat is the longest: 146 + 6 per worker (64 workers: 530) */
#define SYNC_CMD_STORE 16384

/* Arguments are kept as offsets so a struct sync_cmd can be copied. */
struct sync_cmd {
	int argc;
	bool overflow; /* an argument did not fit: do not send */
	uint32_t off[SYNC_CMD_ARGS_MAX];
	uint32_t len[SYNC_CMD_ARGS_MAX];
	uint32_t used;
	char store[SYNC_CMD_STORE];
};

/* ---- outbox: writes that must reach Redis even across a disconnect ---- */

struct sync_outbox_entry;

struct sync_outbox {
	struct sync_outbox_entry **ring;
	uint32_t head;
	uint32_t len;
	uint64_t dropped;
	bool overflow_logged;
};

/* ---- what sync remembers per pair slot ---- */

/* The counters of struct duet_leg_counters, in its order, as the stats
 * hash names them after the leg's prefix (`a_pkts`): X(member). The stats
 * writer and the load's read of a pair's stats hash both expand it. */
#define SYNC_LEG_COUNTERS(X) \
	X(pkts) X(bytes) X(drop_src) X(drop_peer_unlatched) X(drop_auth) X(drop_replay) \
	X(drop_policed)
#define SYNC_LEG_COUNTERS_N 7

/* Figures of one pair as written to its stats hash. */
struct sync_pair_figures {
	struct duet_leg_counters leg[2];
	struct duet_rtp_leg rtp[2];	/* loss/jitter of each leg's stream */
	uint64_t last_ms[2]; /* unix ms of the last packet from the leg's client, 0 = none */
	uint8_t latched[2];
	uint32_t srtp_gen; /* keyed pairs: the SRTP streams' change count */
	int key_mask;	   /* keyed pairs: keys[] filled (1 << enum duet_pair_key) */
	struct duet_pair_key_use keys[DUET_KEY_COUNT]; /* keyed pairs: key lifetimes */
};

struct sync_pair_book {
	uint64_t written;	     /* fingerprint of what the stats hash holds */
	uint32_t seen_gen;	     /* full load that last saw the record */
	uint8_t fresh;		     /* stats hash not yet written for this pair */
	uint8_t queued;		     /* on the fresh list */
	uint8_t held;		     /* gone from Redis, kept by the safety valve */
};

enum sync_phase {
	SYNC_PHASE_DOWN = 0, /* not connected; reconnect at next_connect_ms */
	SYNC_PHASE_LEASE,	/* connected, waiting for the relay-id lease */
	SYNC_PHASE_SEED,	/* seeding the free set, seed_next is the next endpoint */
	SYNC_PHASE_PRUNE,	/* removing unconfigured endpoints from the free set */
	SYNC_PHASE_LOAD,	/* full load: SCAN of pair hashes */
	SYNC_PHASE_FOLLOW,	/* following the events stream */
	/* Order on a new link: LEASE, outbox, then LOAD (or resume), then SEED and
	 * PRUNE, then FOLLOW: pairs forward before the free set is tidied. */
};

/* One key of a full load's SCAN page (duet_sync_load.c). */
struct sync_load_entry {
	const char *id;	 /* the pair id the key names (in the SCAN reply), or NULL */
	redisReply *rec; /* its HGETALL reply, NULL until read */
	redisReply *st;	 /* HGETALL of its stats hash, for a pair not installed yet */
	bool want_st;	 /* st is asked with rec */
};

enum sync_load_stage {
	SYNC_LOAD_KEYS = 0, /* keys known: their records (and stats hashes) are asked next */
	SYNC_LOAD_COMPLETE, /* everything read: applied next */
};

/* One SCAN page of the full load: its keys, then, a round trip later,
 * their records with the stats hashes of pairs not installed yet, while
 * the page before is applied. */
struct sync_load_page {
	redisReply *scan;	     /* the SCAN reply [cursor, keys]: owns the key strings */
	struct sync_load_entry *e;   /* one per key */
	size_t cap;		     /* entries e has room for */
	enum sync_load_stage stage;
};

#define SYNC_LOAD_PAGES 2 /* a page in each stage */

/* What a record's stats hash says its pair ran with before the load
 * (duet_sync_load.c), for the put to continue (duet_sync_apply.c). */
struct sync_resume {
	struct duet_pair_resume put; /* SRTP streams; created_ms and counters if counted */
	bool counted;		     /* put.created_ms and put.leg are usable... */
	uint8_t mode;		     /* ...if the record has this mode... */
	struct duet_addr ep[2];	     /* ...and these endpoints: the same pair */
};

#define SYNC_STREAM_ID_STRMAX 48
#define SYNC_LEASE_TOKEN_MAX 128 /* host:pid:start_ms */

struct duet_sync {
	const struct duet_conf *conf;
	struct duet_pair_table *t;
	const struct duet_lcore_stats *lcore_stats;
	unsigned int n_workers;
	uint32_t capacity;
	/* The TSC's rate by CLOCK_MONOTONIC (sync_tsc_calibrate): every TSC
	 * difference the control thread turns into ms (idle, last_ms) uses it.
	 * DPDK's estimate until the first second has passed. */
	uint64_t tsc_hz;
	uint64_t cal_tsc0, cal_ns0; /* where the measurement starts */
	uint64_t cal_next_ns;	    /* next update of tsc_hz */
	bool cal_warned;	    /* the DPDK estimate's error was logged */

	struct duet_redis r;
	struct duet_redis_target target;
	enum sync_phase phase;
	uint64_t now_ms;	/* of the running poll: wall clock, unix ms (timestamps, expires) */
	uint64_t mono_ms;	/* of the running poll: CLOCK_MONOTONIC ms (every schedule) */
	uint64_t now_tsc;	/* TSC read with now_ms */
	bool need_load;		/* no full load yet, or one was interrupted */
	bool seed_pending;	/* the free set is still to be seeded on this link */
	bool seeding;		/* seeding after the load; prune ends in FOLLOW */
	uint64_t connects;	/* successful connections */
	uint64_t next_connect_ms;
	uint32_t backoff_ms;
	uint64_t full_loads;
	uint64_t rejected;

	/* Mass-loss safety valve (duet_sync_load.c, finish_load): pairs a
	 * reload would have ended, kept until the control plane bumps the
	 * epoch key past held_epoch, or they end by themselves. */
	uint32_t n_held;
	uint64_t held_epoch;
	uint64_t next_epoch_ms;	/* when to read the epoch key next */
	const struct duet_pair_spec *claiming; /* a record taking a held pair's endpoints */

	/* Pairs that ended while Redis was away (or the outbox was full), in
	 * a compact ring, written out in order once Redis is back
	 * (duet_sync_ended.c). */
	struct sync_parked *parked;
	uint32_t parked_cap, parked_head, n_parked;
	uint64_t ended_lost;	/* ended pairs that could not even be parked */
	bool draining;		/* the drain key existed at the last heartbeat */
	bool table_current;	/* a full load (or a resume) has completed since start */
	uint64_t events_applied; /* events stream entries applied */
	uint64_t events_lag_ms;	/* the last one's age when applied (its id's ms to now_ms) */
	bool ended_lost_logged;

	/* Contract keys. */
	char key_events[DUET_REDIS_KEY_MAX];
	char key_ended[DUET_REDIS_KEY_MAX];
	char key_free[DUET_REDIS_KEY_MAX];
	char key_alloc[DUET_REDIS_KEY_MAX];
	char key_relay[DUET_REDIS_KEY_MAX];
	char key_pair_prefix[DUET_REDIS_KEY_MAX];
	char key_pair_match[DUET_REDIS_KEY_MAX];
	char key_lease[DUET_REDIS_KEY_MAX];
	char key_epoch[DUET_REDIS_KEY_MAX];
	char key_drain[DUET_REDIS_KEY_MAX]; /* exists while the relay drains */
	size_t pair_prefix_len;

	/* The relay-id lease (duet_sync_lease.c). */
	char lease_token[SYNC_LEASE_TOKEN_MAX];
	bool lease_held;      /* this process owns the relay id now */
	bool lease_waiting;   /* another process holds it; we wait */
	uint64_t lease_waits; /* refused attempts */
	uint64_t lease_retry_ms;
	uint64_t lease_renew_ms;
	uint64_t lease_remind_ms;

	/* Events stream position: last entry applied, and the stream's last
	 * id when the running full load started. */
	char last_id[SYNC_STREAM_ID_STRMAX];
	struct duet_contract_stream_pos pos;
	char load_id[SYNC_STREAM_ID_STRMAX];
	struct duet_contract_stream_pos load_pos;

	/* Cursors of the phases. */
	uint64_t seed_next;
	char (*seed_buf)[DUET_ADDR_STRLEN]; /* one endpoints_seed.lua chunk */
	const char **seed_argv;
	char cursor[32];
	/* The full load's pipeline, oldest page first (duet_sync_load.c). */
	struct sync_load_page load_q[SYNC_LOAD_PAGES];
	unsigned int n_pages;
	bool scan_done;			     /* SCAN gave its last page */
	uint32_t load_gen;		     /* number of the running or last full load */
	uint64_t load_seen;		     /* records read by it */
	bool load_from_empty;		     /* it started with no pair in the table */
	uint64_t events_pause_until;	     /* after an XREAD error reply */
	char (*retry)[DUET_PAIR_ID_MAX + 1]; /* ids the load deferred (endpoint conflict) */
	uint32_t n_retry;
	bool retry_final;		     /* the last retry pass: reject, do not defer */
	bool retry_claims;		     /* the record being retried is one duetd ran */
	/* A load: what the stats hash of the record being applied says its
	 * pair ran with before (NULL: nothing); on the first load after
	 * start, its SRTP states are read into restore_buf. */
	const struct sync_resume *resume;
	struct duet_srtp_stream_state *restore_buf; /* DUET_PAIR_SRTP_STATES_MAX */
	uint64_t srtp_restored;		     /* pairs whose SRTP streams were continued */
	uint64_t resumed;		     /* pairs whose accounting was continued */
	uint64_t resume_refused;	     /* stats hashes whose figures were not sane */
	/* Records refused because the table was full: applied again, without
	 * a new event, once a slot frees (duet_sync_apply.c). A ring. */
	char (*full_wait)[DUET_PAIR_ID_MAX + 1];
	uint32_t full_head, n_full_wait;
	uint64_t full_wait_lost;	     /* refused records the ring had no room for */

	struct sync_pair_book *book;	   /* capacity entries, by slot */
	uint32_t *fresh;	   /* slots whose stats hash is due now */
	uint32_t n_fresh;

	/* Periodic work. */
	uint64_t started_ms;
	uint64_t next_check_ms;	 /* idle and expiry: next round */
	bool check_running;	 /* an idle and expiry round is under way */
	bool short_slices;	 /* sharing a CPU with a worker: little work per poll */
	uint32_t check_it;	 /* its iterator over the table */
	uint64_t next_stats_ms;
	bool wb_running;	 /* a stats round is under way */
	bool wb_force;		 /* next round writes every pair (after a connect) */
	bool wb_round_force;	 /* the running round does */
	uint32_t wb_it;		 /* its iterator over the table */
	struct duet_lcore_stats hb_prev;
	uint64_t hb_prev_ms;
	bool hb_workers_pruned; /* a heartbeat dropped the fields of workers past ours */

	struct sync_outbox ob;
};

#define SYNC_SCAN_COUNT "1000" /* SCAN/SSCAN page size hint */

/* ---- reply helpers ---- */

static inline bool
reply_is_str(const redisReply *r)
{
	return r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

/* A binary-safe reply string as a C string, or NULL if it holds a NUL. */
static inline const char *
reply_cstr(const redisReply *r)
{
	if (!reply_is_str(r) || strlen(r->str) != r->len)
		return NULL;
	return r->str;
}

/* Forget what sync kept about slot (its pair ended or was replaced). */
static inline void
sync_book_clear(struct duet_sync *s, uint32_t slot)
{
	if (slot >= s->capacity)
		return;
	if (s->book[slot].held && s->n_held > 0)
		s->n_held--;
	memset(&s->book[slot], 0, sizeof(s->book[slot]));
}

/* Slot's record is in Redis after all: no longer held. */
static inline void
sync_book_unhold(struct duet_sync *s, uint32_t slot)
{
	if (slot < s->capacity && s->book[slot].held) {
		s->book[slot].held = 0;
		if (s->n_held > 0)
			s->n_held--;
	}
}

/* Reconnects so far: connections after the first. */
static inline uint64_t
sync_reconnects(const struct duet_sync *s)
{
	return s->connects > 0 ? s->connects - 1 : 0;
}

/* Declarations below go from the bottom file up: each file calls only the
 * sections above its own. */

/* ---- duet_sync_lease.c ---- */

/* The lease key and this process's token. @return 0 or -EINVAL. */
int sync_lease_init(struct duet_sync *s);
/* SYNC_PHASE_LEASE: take the lease, or wait, saying why.
 * @return 1 when it was taken by this call, else 0. */
int sync_lease_step(struct duet_sync *s);
/* Renew the lease when due; on losing it, go back to waiting. */
void sync_lease_renew(struct duet_sync *s);
/* Give the lease back (clean exit). */
void sync_lease_release(struct duet_sync *s);

/* ---- duet_sync_cmd.c ---- */

void sync_cmd_init(struct sync_cmd *c);
void sync_cmd_add(struct sync_cmd *c, const char *s, size_t n);
void sync_cmd_str(struct sync_cmd *c, const char *s);
void sync_cmd_u64(struct sync_cmd *c, uint64_t v);
/* Start c over as `op key`. */
void sync_cmd_key_op(struct sync_cmd *c, const char *op, const char *key);
/* Fill argv/argvlen (SYNC_CMD_ARGS_MAX each) for hiredis. */
void sync_cmd_argv(const struct sync_cmd *c, const char **argv, size_t *argvlen);

#define SYNC_PIPELINE_MAX 512 /* commands in flight in one round trip */

/* Queue c on the pipeline and count it in *n (a command that overflowed its
 * buffer is logged and skipped). @return 0, or -1 after taking the link down. */
int sync_cmd_append(struct duet_sync *s, const struct sync_cmd *c, unsigned int *n);
/* Read n pipelined replies, logging refused writes.
 * @return 0, or -1 after taking the link down. */
int sync_cmd_drain(struct duet_sync *s, unsigned int n, const char *what);
/* The connection failed: log once, close, schedule a reconnect. */
void sync_link_down(struct duet_sync *s, const char *what);

/* ---- duet_sync_outbox.c ---- */

int sync_outbox_init(struct sync_outbox *ob);
void sync_outbox_free(struct sync_outbox *ob);
/* Queue a command (script < DUET_SCRIPT_MAX: a script call with nkeys keys). */
void sync_outbox_push(struct duet_sync *s, const struct sync_cmd *c, int script, int nkeys);
/* Send queued writes; stops early if the link fails or the budget runs out. */
void sync_outbox_flush(struct duet_sync *s, unsigned int budget);

/* ---- duet_sync_heartbeat.c ---- */

/* Write the relay hash and its TTL now (only while connected). */
void sync_heartbeat(struct duet_sync *s, uint64_t now_ms);

/* ---- duet_sync_stats.c ---- */

/* Current figures of live slot. */
void sync_pair_figures_read(const struct duet_sync *s, uint32_t slot, uint64_t now_ms,
			    struct sync_pair_figures *f);
/* The same figures from a pair's final figures (duet_pair_del/put). */
void sync_pair_figures_of_final(const struct duet_sync *s, const struct duet_pair_final *fin,
				struct sync_pair_figures *f);
/* The key of pair id's stats hash. @return 0, or -1 if it does not fit. */
int sync_stats_key(const struct duet_sync *s, const char *id, char *key, size_t len);
/* HSET key with every field of a pair (state and reason given; ep: its
 * endpoints, which tell this pair from another of the same id). */
void sync_stats_cmd(struct sync_cmd *c, const char *key, const char *state, const char *reason,
		    uint8_t mode, const struct duet_addr ep[2], uint64_t created_ms,
		    uint64_t updated_ms, const struct sync_pair_figures *f);
/* A pair was added or replaced in slot: its stats hash starts over. */
void sync_pair_fresh(struct duet_sync *s, uint32_t slot);
/* Write the stats hashes of fresh pairs, up to a bounded number per call
 * (the rest on later polls; none while a full load runs). */
void sync_stats_fresh(struct duet_sync *s, uint64_t now_ms);
/* Stats round and heartbeat when due. */
void sync_stats_tick(struct duet_sync *s, uint64_t now_ms);

/* ---- duet_sync_ended.c ---- */

/* The pair ended (already deleted locally): queue its ended entry and final
 * stats hash; pair_delete also queues pair_delete.lua. */
void sync_pair_ended(struct duet_sync *s, const struct duet_pair_final *fin, const char *reason,
		     bool pair_delete);
/* Outbox entries one ended pair takes (ended entry, stats hash, its TTL,
 * pair_delete.lua). */
#define SYNC_ENDED_WRITES 4
/* Write out up to budget parked ended pairs, as outbox room allows. */
void sync_parked_drain(struct duet_sync *s, uint32_t budget);
void sync_parked_free(struct duet_sync *s);
/* Record `id` was refused: queue its stats hash (state rejected). */
void sync_pair_rejected(struct duet_sync *s, const char *id, const char *why, uint64_t now_ms);
/* Delete live pair `id` locally and report it ended with `reason`.
 * @return 0, or -ENOENT if no such pair lives. */
int sync_pair_end(struct duet_sync *s, const char *id, uint64_t now_ms, const char *reason,
		  bool pair_delete);

/* ---- duet_sync_expiry.c ---- */

/* End idle and expired pairs when due. */
void sync_expiry_check(struct duet_sync *s, uint64_t now_ms);
/* Held pairs: end them all once the epoch key has passed held_epoch
 * (connected only). */
void sync_held_check(struct duet_sync *s, uint64_t now_ms);

/* ---- duet_sync_apply.c ---- */

#define SYNC_FULL_WAIT_MAX 4096 /* records waiting for a slot */
/* Apply again records refused for a full table, a few per call, while the
 * table has room (connected, following). */
void sync_apply_waiting(struct duet_sync *s);

/* Apply the reply to HGETALL of pair `id` (an empty reply: the hash is
 * gone, so delete), then wipe its key values. */
void sync_apply_record(struct duet_sync *s, const char *id, const redisReply *r);
/* An events entry deleted pair `id`: end it if it lives. */
void sync_apply_del(struct duet_sync *s, const char *id);
/* Overwrite, in place, the value of every SRTP key field (a_in, a_out,
 * b_in, b_out) of a pair's HGETALL reply, so no key lingers in the memory
 * hiredis frees; other values are left as they are. Anything but an array
 * reply is left alone. */
void sync_wipe_key_values(const redisReply *r);

/* ---- duet_sync_load.c, duet_sync_follow.c ---- */

/* XINFO STREAM reply (or error reply: no stream) into info. */
void sync_parse_stream_info(const redisReply *r, struct duet_contract_stream_info *info);
/* The table is current: follow the events stream (seeding the free set
 * first if this link has not yet). */
void sync_enter_follow(struct duet_sync *s);
/* Start a full load standing for the stream position info describes. */
void sync_load_start(struct duet_sync *s, const struct duet_contract_stream_info *info);
/* One round trip of the full load (the next SCAN page, the records of the
 * page before, the stats hashes of the one before that) with the oldest
 * complete page applied while Redis works; finishes the load after the
 * last page. Leaves nothing in flight on the link. */
void sync_step_load(struct duet_sync *s);
/* Drop what a load that stopped (the link went down) held: its pages,
 * key values wiped. */
void sync_load_drop(struct duet_sync *s);
/* One XINFO + XREAD round of following the events stream. */
void sync_step_follow(struct duet_sync *s);

#endif /* DUET_SYNC_INTERNAL_H */
