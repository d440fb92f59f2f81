/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_sync: connecting to Redis, loading the pairing table and following
 * the events stream (docs/redis-contract.md, "duetd sync algorithm"). All of
 * it runs on duetd's control thread inside duet_sync_poll(), one bounded
 * step per call, so a large table or a slow Redis never holds the main
 * lcore for long: seeding, pruning and the full load each advance by one
 * chunk per poll.
 *
 * The phases: DOWN (waiting to reconnect) -> LEASE (the relay id must be
 * ours: duet_sync_lease.c) -> SEED (free endpoints) -> PRUNE
 * (endpoints no longer configured) -> LOAD (SCAN + HGETALL, only when the
 * stream cannot be resumed) -> FOLLOW (XREAD from the last applied id).
 * Any transport error goes back to DOWN; the pair table keeps its pairs
 * meanwhile, so forwarding never depends on Redis being up.
 *
 * This file holds the object's life, the poll and the phases around the
 * load (connect, seed, prune, resume or reload); duet_sync_load.c runs the
 * load and duet_sync_follow.c follows the events, duet_sync_apply.c puts
 * each record in the table, and the files below them write what duetd
 * reports
 * (sync_internal.h lists them in order).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>

#include "duet_prefault.h"
#include "sync_internal.h"

RTE_LOG_REGISTER(duet_sync_logtype, duet.sync, INFO);

#define SEED_CHUNK 5000	  /* endpoints per endpoints_seed.lua call (contract limit) */
#define OUTBOX_BUDGET 4096 /* writes sent per poll */
#define OUTBOX_BUDGET_SHORT 64 /* ... with short slices */
#define PARKED_BUDGET 1024	/* parked ended pairs turned into writes per poll */
#define PARKED_BUDGET_SHORT 16	/* ... with short slices */

/* ---- phase: connect ---- */

static void
sync_connect(struct duet_sync *s)
{
	int rc;

	rc = duet_redis_connect(&s->r, &s->target);
	if (rc != 0) {
		/* Log the first failure of an outage loudly, the retries quietly. */
		if (s->backoff_ms == DUET_SYNC_BACKOFF_MIN_MS)
			SYNC_LOG(WARNING, "cannot reach Redis: %s; retrying\n", s->r.errstr);
		else
			SYNC_LOG(DEBUG, "cannot reach Redis: %s\n", s->r.errstr);
		s->phase = SYNC_PHASE_DOWN;
		sync_link_down(s, "connect");
		return;
	}
	rc = duet_redis_load_scripts(&s->r);
	if (rc != 0) {
		if (s->r.ctx == NULL) {
			s->phase = SYNC_PHASE_SEED; /* so that the loss is logged */
			sync_link_down(s, "script load");
			return;
		}
		/* Following still works; seeding and idle deletes will report
		 * their own failures. */
		SYNC_LOG(ERR, "cannot load the contract scripts: %s\n", s->r.errstr);
	}
	s->connects++;
	if (s->connects > 1)
		SYNC_LOG(INFO, "reconnected to Redis at %s\n", s->r.where);
	else
		SYNC_LOG(INFO, "connected to Redis at %s\n", s->r.where);
	/* Nothing is written under the relay's keys before its lease is ours. */
	s->lease_retry_ms = 0;
	s->phase = SYNC_PHASE_LEASE;
}

/* The lease is ours: queued writes first (step_prune flushes them), then
 * the load or the resume; seeding the free set waits until pairs forward. */
static void
after_lease(struct duet_sync *s)
{
	s->seed_pending = true;
	s->seeding = false;
	snprintf(s->cursor, sizeof(s->cursor), "done");
	s->phase = SYNC_PHASE_PRUNE;
	/* Writes may have been lost with the old link, or Redis with its data. */
	s->wb_force = true;
}

/* ---- phase: seed and prune the free set ---- */

static void
step_seed(struct duet_sync *s)
{
	uint64_t total = duet_conf_endpoint_count(s->conf);
	unsigned int n = 0, skip = 0;
	redisReply *r;
	struct duet_addr ep;

	while (s->seed_next + n + skip < total && n < SEED_CHUNK) {
		if (duet_conf_endpoint_at(s->conf, s->seed_next + n + skip, &ep) != 0)
			break;
		/* An endpoint a pair of ours uses is not free, whatever alloc
		 * says (a pair held after Redis lost its record and alloc). */
		if (duet_pair_find_endpoint(s->t, &ep, NULL) >= 0) {
			skip++;
			continue;
		}
		if (duet_addr_format(&ep, s->seed_buf[n], DUET_ADDR_STRLEN) != 0)
			break;
		s->seed_argv[2 + n] = s->seed_buf[n];
		n++;
	}
	if (n > 0) {
		s->seed_argv[0] = s->key_free;
		s->seed_argv[1] = s->key_alloc;
		r = duet_redis_script(&s->r, DUET_SCRIPT_ENDPOINTS_SEED, 2, (int)n + 2, s->seed_argv);
		if (r == NULL && s->r.ctx == NULL) {
			sync_link_down(s, "endpoint seeding");
			return;
		}
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			SYNC_LOG(ERR, "seeding free endpoints failed: %s\n",
				 r != NULL ? r->str : s->r.errstr);
			freeReplyObject(r);
			n = 0; /* give up seeding; pairs still load */
			s->seed_next = total;
		} else {
			freeReplyObject(r);
		}
	}
	s->seed_next += n + skip;
	if (n + skip == 0 || s->seed_next >= total) {
		snprintf(s->cursor, sizeof(s->cursor), "0");
		s->phase = SYNC_PHASE_PRUNE;
	}
}
/*
 * A failover to a replica that had not received the stream's tail, after
 * which the control plane wrote new entries: the stream is newer than our
 * position again, and its counts can look right. But the entry we last
 * read is gone without having been deleted (max-deleted-entry-id is below
 * it). @return true (with why) if so; a failed read counts as not lost
 * (the link is down and the next connect asks again).
 */
static bool
last_entry_lost(struct duet_sync *s, const struct duet_contract_stream_info *info,
		const char **why)
{
	static const struct duet_contract_stream_id zero;
	const char *argv[4] = {"XRANGE", s->key_events, s->last_id, s->last_id};
	redisReply *r;
	bool lost;

	if (duet_contract_stream_id_cmp(&s->pos.id, &zero) == 0 || !info->exists ||
	    !info->has_first || duet_contract_stream_id_cmp(&info->first, &s->pos.id) > 0 ||
	    (info->has_max_deleted && duet_contract_stream_id_cmp(&info->max_deleted, &s->pos.id) >= 0))
		return false;
	r = duet_redis_command(&s->r, 4, argv, NULL);
	if (r == NULL) {
		sync_link_down(s, "XRANGE");
		return false;
	}
	lost = r->type == REDIS_REPLY_ARRAY && r->elements == 0;
	freeReplyObject(r);
	if (lost)
		*why = "the last events entry read is gone without a delete (Redis lost writes)";
	return lost;
}

/* After (re)connecting: resume XREAD from our last id, or reload. */
static void
follow_or_load(struct duet_sync *s)
{
	const char *argv[3] = {"XINFO", "STREAM", s->key_events};
	struct duet_contract_stream_info info;
	const char *why = "first load";
	redisReply *r;

	r = duet_redis_command(&s->r, 3, argv, NULL);
	if (r == NULL) {
		sync_link_down(s, "XINFO");
		return;
	}
	sync_parse_stream_info(r, &info);
	freeReplyObject(r);
	if (!s->need_load && duet_contract_stream_can_resume(&info, &s->pos, &why) &&
	    !last_entry_lost(s, &info, &why)) {
		if (s->r.ctx == NULL)
			return;
		SYNC_LOG(INFO, "resuming the events stream after %s\n", s->last_id);
		sync_enter_follow(s);
		s->backoff_ms = DUET_SYNC_BACKOFF_MIN_MS;
		return;
	}
	if (s->full_loads > 0 && why != NULL)
		SYNC_LOG(INFO, "full resync: %s\n", why);
	sync_load_start(s, &info);
}
static void
step_prune(struct duet_sync *s)
{
	const char *argv[5] = {"SSCAN", s->key_free, s->cursor, "COUNT", SYNC_SCAN_COUNT};
	const char **srem = NULL;
	size_t *lens = NULL;
	redisReply *r, *members, *r2;
	struct duet_addr ep;
	size_t i, n = 2;

	/* Queued writes go first: replaying a delete of an idle pair after a
	 * reload would briefly bring the pair back. Pairs parked while Redis
	 * was away become queued writes as room allows. */
	if (s->n_parked > 0)
		sync_parked_drain(s, PARKED_BUDGET);
	if (s->ob.len > 0) {
		sync_outbox_flush(s, OUTBOX_BUDGET);
		return;
	}
	if (strcmp(s->cursor, "done") == 0) {
		if (s->seeding) {
			s->seeding = false;
			s->phase = SYNC_PHASE_FOLLOW;
		} else {
			follow_or_load(s);
		}
		return;
	}
	r = duet_redis_command(&s->r, 5, argv, NULL);
	if (r == NULL) {
		sync_link_down(s, "SSCAN of free endpoints");
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || reply_cstr(r->element[0]) == NULL ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		SYNC_LOG(WARNING, "cannot prune free endpoints: %s\n",
			 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected SSCAN reply");
		freeReplyObject(r);
		snprintf(s->cursor, sizeof(s->cursor), "done");
		return;
	}
	members = r->element[1];
	srem = malloc((members->elements + 2) * sizeof(*srem));
	lens = malloc((members->elements + 2) * sizeof(*lens));
	if (srem == NULL || lens == NULL)
		goto next; /* pruning is housekeeping: try again at the next connect */
	srem[0] = "SREM";
	lens[0] = 4;
	srem[1] = s->key_free;
	lens[1] = strlen(s->key_free);
	for (i = 0; i < members->elements; i++) {
		const redisReply *m = members->element[i];

		if (m->type != REDIS_REPLY_STRING)
			continue;
		/* Not an endpoint of this relay (any more), or junk: stop
		 * handing it out. So is one spelled otherwise than duetd
		 * writes it ("[2001:DB8::1]:20000"): seeding adds the
		 * canonical text, and both would be handed out. */
		if (reply_cstr(m) == NULL || duet_record_endpoint_parse(m->str, &ep, NULL) != 0 ||
		    duet_conf_endpoint_port(s->conf, &ep) < 0) {
			srem[n] = m->str;
			lens[n] = m->len;
			n++;
		}
	}
	if (n > 2) {
		r2 = duet_redis_command(&s->r, (int)n, srem, lens);
		if (r2 == NULL) {
			free(srem);
			free(lens);
			freeReplyObject(r);
			sync_link_down(s, "pruning free endpoints");
			return;
		}
		SYNC_LOG(INFO, "removed %zu endpoints that are not in the configuration from the "
			       "free set\n",
			 n - 2);
		freeReplyObject(r2);
	}
next:
	free(srem);
	free(lens);
	snprintf(s->cursor, sizeof(s->cursor), "%s", r->element[0]->str);
	if (strcmp(s->cursor, "0") == 0)
		snprintf(s->cursor, sizeof(s->cursor), "done");
	freeReplyObject(r);
}
/* ---- lifecycle ---- */

struct duet_sync *
duet_sync_create(const struct duet_conf *conf, struct duet_pair_table *t,
		 const struct duet_lcore_stats *lcore_stats, unsigned int n_workers)
{
	struct duet_sync *s;
	const char *relay;
	int err = ENOMEM;

	if (conf == NULL || t == NULL || (n_workers > 0 && lcore_stats == NULL) ||
	    conf->relay_id[0] == '\0') {
		rte_errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto err_nomem;
	s->conf = conf;
	s->t = t;
	s->lcore_stats = lcore_stats;
	s->n_workers = n_workers;
	/* Slots run from 0 to the table's capacity (duet_pair_next). */
	s->capacity = duet_pair_capacity(t);
	s->tsc_hz = rte_get_tsc_hz();
	s->book = calloc(s->capacity, sizeof(*s->book));
	s->fresh = calloc(s->capacity, sizeof(*s->fresh));
	s->seed_buf = calloc(SEED_CHUNK, sizeof(*s->seed_buf));
	s->seed_argv = calloc(SEED_CHUNK + 2, sizeof(*s->seed_argv));
	s->retry = calloc(s->capacity, sizeof(*s->retry));
	s->restore_buf = calloc(DUET_PAIR_SRTP_STATES_MAX, sizeof(*s->restore_buf));
	s->full_wait = calloc(SYNC_FULL_WAIT_MAX, sizeof(*s->full_wait));
	if (s->book == NULL || s->fresh == NULL || s->seed_buf == NULL || s->seed_argv == NULL ||
	    s->retry == NULL || s->restore_buf == NULL || s->full_wait == NULL ||
	    sync_outbox_init(&s->ob) != 0)
		goto err_free;
	/* Before Redis is contacted (retry[] is touched only by conflicts). */
	duet_prefault(s->book, (size_t)s->capacity * sizeof(*s->book));
	duet_prefault(s->fresh, (size_t)s->capacity * sizeof(*s->fresh));

	relay = conf->relay_id;
	if (duet_redis_key(s->key_events, sizeof(s->key_events), relay, "events", NULL) != 0 ||
	    duet_redis_key(s->key_ended, sizeof(s->key_ended), relay, "ended", NULL) != 0 ||
	    duet_redis_key(s->key_free, sizeof(s->key_free), relay, "free", NULL) != 0 ||
	    duet_redis_key(s->key_alloc, sizeof(s->key_alloc), relay, "alloc", NULL) != 0 ||
	    duet_redis_key(s->key_relay, sizeof(s->key_relay), relay, "relay", NULL) != 0 ||
	    duet_redis_key(s->key_epoch, sizeof(s->key_epoch), relay, "epoch", NULL) != 0 ||
	    duet_redis_key(s->key_drain, sizeof(s->key_drain), relay, "drain", NULL) != 0 ||
	    duet_redis_key(s->key_pair_prefix, sizeof(s->key_pair_prefix), relay, "pair:", NULL) !=
		    0 ||
	    duet_redis_key(s->key_pair_match, sizeof(s->key_pair_match), relay, "pair:", "*") != 0)
		goto err_inval;
	s->pair_prefix_len = strlen(s->key_pair_prefix);
	if (sync_lease_init(s) != 0)
		goto err_inval;

	s->target.kind = conf->redis.kind;
	s->target.unix_path = conf->redis.unix_path;
	s->target.host = conf->redis.host;
	s->target.port = conf->redis.port;
	s->target.master_name = conf->redis.master_name;
	s->target.nodes = conf->redis.nodes;
	s->target.n_nodes = conf->redis.n_nodes;
	/* In a cluster, every key duet:{R}:... is in R's slot: its master. */
	s->target.relay = relay;
	s->target.user = conf->redis.user;
	s->target.password = conf->redis.password;
	s->target.timeout_ms = conf->redis.connect_timeout_ms;

	snprintf(s->last_id, sizeof(s->last_id), "0-0");
	s->need_load = true;
	s->phase = SYNC_PHASE_DOWN;
	s->backoff_ms = DUET_SYNC_BACKOFF_MIN_MS;
	return s;

err_inval:
	err = EINVAL;
err_free:
	sync_outbox_free(&s->ob);
	free(s->retry);
	free(s->restore_buf);
	free(s->full_wait);
	free(s->seed_argv);
	free(s->seed_buf);
	free(s->fresh);
	free(s->book);
	free(s);
	rte_errno = err;
	return NULL;
err_nomem:
	rte_errno = ENOMEM;
	return NULL;
}

/* Measure the TSC's rate against CLOCK_MONOTONIC since the first poll,
 * once a second from one second on: an idle_ms of 8 s must end a pair
 * after 8 s, whatever DPDK guessed the rate of a VM's TSC to be (on our
 * CI VM 2,600,000,000 Hz against 2,596,141,767 measured, 0.15 % high; an
 * estimate that is low ends pairs early). The error is a few
 * microseconds over the whole interval. */
#define CAL_MIN_NS 1000000000ull
static void
sync_tsc_calibrate(struct duet_sync *s)
{
	uint64_t ns = duet_clock_ns(CLOCK_MONOTONIC), hz, dpdk = rte_get_tsc_hz(), off;

	if (ns == 0)
		return;
	if (s->cal_ns0 == 0) {
		s->cal_ns0 = ns;
		s->cal_tsc0 = s->now_tsc;
		s->cal_next_ns = ns + CAL_MIN_NS;
		return;
	}
	if (ns < s->cal_next_ns || s->now_tsc <= s->cal_tsc0)
		return;
	s->cal_next_ns = ns + CAL_MIN_NS;
	hz = duet_clock_rate_hz(s->now_tsc - s->cal_tsc0, ns - s->cal_ns0);
	if (hz == 0)
		return;
	s->tsc_hz = hz;
	off = hz > dpdk ? hz - dpdk : dpdk - hz;
	if (!s->cal_warned && ns - s->cal_ns0 >= 10 * CAL_MIN_NS && off * 1000 > dpdk) {
		s->cal_warned = true;
		SYNC_LOG(NOTICE,
			 "the TSC runs at %" PRIu64 " Hz by CLOCK_MONOTONIC; DPDK estimated "
			 "%" PRIu64 " Hz: idle timers use the measured rate\n",
			 hz, dpdk);
	}
}

void
duet_sync_poll(struct duet_sync *s, uint64_t now_ms)
{
	if (s == NULL)
		return;
	s->now_ms = now_ms;
	s->now_tsc = rte_get_tsc_cycles();
	/* Every schedule runs on the monotonic clock: a wall-clock step (NTP,
	 * an operator's date) neither stalls the heartbeat nor ends a pair
	 * early. The wall clock only stamps what is written out, and
	 * `expires`. */
	s->mono_ms = duet_clock_ms(CLOCK_MONOTONIC); /* every schedule in sync */
	sync_tsc_calibrate(s);
	if (s->started_ms == 0)
		s->started_ms = now_ms;
	duet_pair_reclaim(s->t);

	if (s->phase == SYNC_PHASE_DOWN && s->mono_ms >= s->next_connect_ms)
		sync_connect(s);
	switch (s->phase) {
	case SYNC_PHASE_LEASE:
		if (sync_lease_step(s) == 1)
			after_lease(s);
		break;
	case SYNC_PHASE_SEED:
		step_seed(s);
		break;
	case SYNC_PHASE_PRUNE:
		step_prune(s);
		break;
	case SYNC_PHASE_LOAD:
		sync_step_load(s);
		break;
	case SYNC_PHASE_FOLLOW:
		sync_step_follow(s);
		break;
	case SYNC_PHASE_DOWN:
		break;
	}
	/* A load the link's loss stopped starts over at the next connect. */
	if (s->phase != SYNC_PHASE_LOAD && s->n_pages > 0)
		sync_load_drop(s);

	/* Idle and expiry run while Redis is away too: their writes wait. Not
	 * while the first load after start fills the table: its pairs were all
	 * just created (none can be idle), a round walks a table that grows
	 * under it (a million slots a second of cache misses, on the load's
	 * CPU), and the first round after the load sees every pair (one whose
	 * `expires` has passed ends then). */
	if (s->phase != SYNC_PHASE_LOAD || s->full_loads > 0)
		sync_expiry_check(s, now_ms);
	/* Writes only while the link is up and the relay id is ours. */
	if (s->phase == SYNC_PHASE_DOWN || s->phase == SYNC_PHASE_LEASE)
		return;
	sync_lease_renew(s);
	if (s->phase == SYNC_PHASE_DOWN || s->phase == SYNC_PHASE_LEASE)
		return;
	if (s->n_parked > 0)
		sync_parked_drain(s, s->short_slices ? PARKED_BUDGET_SHORT : PARKED_BUDGET);
	sync_outbox_flush(s, s->short_slices ? OUTBOX_BUDGET_SHORT : OUTBOX_BUDGET);
	if (s->phase == SYNC_PHASE_FOLLOW)
		sync_held_check(s, now_ms);
	if (s->phase == SYNC_PHASE_FOLLOW && s->n_full_wait > 0)
		sync_apply_waiting(s);
	if (s->phase != SYNC_PHASE_DOWN && s->phase != SYNC_PHASE_LOAD)
		sync_stats_fresh(s, now_ms);
	if (s->phase != SYNC_PHASE_DOWN)
		sync_stats_tick(s, now_ms);
}

#define FINAL_ROUND_MS 2000 /* the last stats round at a clean stop, at most */

/* A last stats round at a clean stop (the workers have stopped, so the
 * counts are final): what was counted since the last round is not lost.
 * Bounded in time; a table too big for it keeps what the last full round
 * wrote. */
static void
final_stats_round(struct duet_sync *s)
{
	uint64_t until;

	if (s->r.ctx == NULL || !s->lease_held || s->phase != SYNC_PHASE_FOLLOW)
		return;
	s->mono_ms = duet_clock_ms(CLOCK_MONOTONIC);
	until = s->mono_ms + FINAL_ROUND_MS;
	s->wb_running = false;
	s->next_stats_ms = 0;
	do {
		s->now_ms = duet_clock_ms(CLOCK_REALTIME);
		s->now_tsc = rte_get_tsc_cycles();
		sync_stats_tick(s, s->now_ms);
		s->mono_ms = duet_clock_ms(CLOCK_MONOTONIC);
	} while (s->wb_running && s->phase == SYNC_PHASE_FOLLOW && s->mono_ms < until);
}

void
duet_sync_destroy(struct duet_sync *s)
{
	if (s == NULL)
		return;
	final_stats_round(s);
	while (s->r.ctx != NULL && s->lease_held && s->n_parked > 0) {
		sync_parked_drain(s, UINT32_MAX);
		sync_outbox_flush(s, UINT32_MAX);
	}
	if (s->r.ctx != NULL && s->lease_held)
		sync_outbox_flush(s, UINT32_MAX);
	sync_lease_release(s);
	if (s->ob.len > 0)
		SYNC_LOG(WARNING, "%" PRIu32 " writes to Redis lost at exit\n", s->ob.len);
	if (s->n_parked > 0)
		SYNC_LOG(WARNING, "%" PRIu32 " ended pairs not written to Redis at exit\n",
			 s->n_parked);
	sync_parked_free(s);
	sync_load_drop(s);
	duet_redis_close(&s->r);
	sync_outbox_free(&s->ob);
	free(s->retry);
	free(s->restore_buf);
	free(s->full_wait);
	free(s->seed_argv);
	free(s->seed_buf);
	free(s->fresh);
	free(s->book);
	free(s);
}

void
duet_sync_set_short_slices(struct duet_sync *s, bool on)
{
	if (s != NULL)
		s->short_slices = on;
}

bool
duet_sync_link_up(const struct duet_sync *s)
{
	return s != NULL && s->r.ctx != NULL && s->phase != SYNC_PHASE_DOWN;
}

bool
duet_sync_connected(const struct duet_sync *s)
{
	return s != NULL && s->r.ctx != NULL && s->phase == SYNC_PHASE_FOLLOW;
}

uint64_t
duet_sync_reconnects(const struct duet_sync *s)
{
	return s != NULL ? sync_reconnects(s) : 0;
}

uint64_t
duet_sync_full_loads(const struct duet_sync *s)
{
	return s != NULL ? s->full_loads : 0;
}

const char *
duet_sync_last_id(const struct duet_sync *s)
{
	return s != NULL ? s->last_id : "0-0";
}

uint64_t
duet_sync_rejected(const struct duet_sync *s)
{
	return s != NULL ? s->rejected : 0;
}

void
duet_sync_get_info(const struct duet_sync *s, struct duet_sync_info *out)
{
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return;
	out->link_up = duet_sync_link_up(s);
	out->table_current = s->table_current;
	out->draining = s->draining;
	out->reconnects = sync_reconnects(s);
	out->full_loads = s->full_loads;
	out->rejected = s->rejected;
	out->outbox_len = s->ob.len;
	out->writes_dropped = s->ob.dropped;
	out->ended_waiting = s->n_parked;
	out->ended_lost = s->ended_lost;
	out->held = s->n_held;
	out->resumed = s->resumed;
	out->resume_refused = s->resume_refused;
	out->events_applied = s->events_applied;
	out->events_lag_ms = s->events_lag_ms;
}

uint32_t
duet_sync_outbox_len(const struct duet_sync *s)
{
	return s != NULL ? s->ob.len : 0;
}

uint32_t
duet_sync_ended_waiting(const struct duet_sync *s)
{
	return s != NULL ? s->n_parked : 0;
}

