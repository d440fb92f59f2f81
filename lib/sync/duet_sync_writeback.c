/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_sync write-back: everything duetd writes to Redis (docs/redis-
 * contract.md, "Written by duetd"): per-pair stats hashes, the relay
 * heartbeat, the ended stream, rejected records, and pair_delete.lua for
 * pairs that idle out or expire. Runs on the control thread inside
 * duet_sync_poll().
 *
 * Writes that must not be lost (an ended pair's entry and final stats, a
 * rejection, the delete of an idle pair) go through the outbox, a bounded
 * FIFO replayed after a reconnect; delivery is at least once, so a write
 * whose reply was lost with the connection may be repeated. Periodic stats
 * and the heartbeat are only sent while connected: the next round carries
 * fresher figures anyway. Nothing written here holds a client address.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_malloc.h>

#include "duet_pair_fp.h"
#include "duet_sync_priv.h"

#ifndef DUET_VERSION
#define DUET_VERSION "unknown"
#endif

#define PIPELINE_MAX 512       /* commands in flight in one round trip */
#define STATS_SLOTS_PER_POLL 8192 /* table slots a stats round visits per poll */
#define FRESH_PER_POLL 4096	  /* fresh pairs' stats hashes written per poll */
#define CHECK_SLOTS_PER_POLL 16384 /* table slots an idle/expiry round visits per poll */
/* The same with short slices (duet_sync_set_short_slices): each poll is
 * tens of microseconds of work, and the caller yields the CPU between. */
#define SHORT_STATS_SLOTS 512
#define SHORT_STATS_WRITES 16
#define SHORT_FRESH 16
#define SHORT_CHECK_SLOTS 2048
#define CHECK_INTERVAL_MS 100  /* idle and expiry: rounds at least this far apart */
#define CHECK_INTERVAL_MAX_MS 1000 /* ... and at most this far apart */
#define CHECK_PAIRS_PER_MS 1000	   /* a round's period grows 1 ms per this many pairs */

/* ---- command builder ---- */

void
cmd_init(struct cmd *c)
{
	c->argc = 0;
	c->overflow = false;
	c->used = 0;
}

void
cmd_add(struct cmd *c, const char *s, size_t n)
{
	if (c->argc >= CMD_ARGS_MAX || n + 1 > CMD_STORE - c->used) {
		c->overflow = true;
		return;
	}
	memcpy(c->store + c->used, s, n);
	c->store[c->used + n] = '\0';
	c->off[c->argc] = c->used;
	c->len[c->argc] = (uint32_t)n;
	c->argc++;
	c->used += (uint32_t)n + 1;
}

void
cmd_str(struct cmd *c, const char *s)
{
	cmd_add(c, s, strlen(s));
}

void
cmd_u64(struct cmd *c, uint64_t v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%" PRIu64, v);

	cmd_add(c, b, (size_t)n);
}

void
cmd_argv(const struct cmd *c, const char **argv, size_t *argvlen)
{
	int i;

	for (i = 0; i < c->argc; i++) {
		argv[i] = c->store + c->off[i];
		argvlen[i] = c->len[i];
	}
}

/* Queue c on the pipeline and count it in *n.
 * @return 0, or -1 after taking the link down. */
static int
cmd_append(struct duet_sync *s, const struct cmd *c, unsigned int *n)
{
	const char *argv[CMD_ARGS_MAX];
	size_t lens[CMD_ARGS_MAX];

	if (c->overflow) {
		SYNC_LOG(ERR, "internal: a command did not fit its buffer; not sent\n");
		return 0;
	}
	cmd_argv(c, argv, lens);
	if (duet_redis_append(&s->r, c->argc, argv, lens) != 0) {
		duet_redis_close(&s->r);
		sync_link_down(s, "queueing writes");
		return -1;
	}
	(*n)++;
	return 0;
}

/* Read n pipelined replies. @return 0, or -1 after taking the link down. */
static int
drain_replies(struct duet_sync *s, unsigned int n, const char *what)
{
	redisReply *r;

	while (n-- > 0) {
		r = duet_redis_get_reply(&s->r);
		if (r == NULL) {
			sync_link_down(s, what);
			return -1;
		}
		if (r->type == REDIS_REPLY_ERROR)
			SYNC_LOG(WARNING, "%s: Redis refused a write: %s\n", what, r->str);
		freeReplyObject(r);
	}
	return 0;
}

/* ---- outbox ---- */

struct ob_entry {
	int script; /* enum duet_redis_script, or -1 for a plain command */
	int nkeys;
	int argc;
	const char **argv;
	size_t *argvlen;
};

int
outbox_init(struct outbox *ob)
{
	memset(ob, 0, sizeof(*ob));
	ob->ring = calloc(DUET_SYNC_OUTBOX_MAX, sizeof(*ob->ring));
	return ob->ring != NULL ? 0 : -ENOMEM;
}

static void
outbox_pop(struct outbox *ob)
{
	free(ob->ring[ob->head]);
	ob->ring[ob->head] = NULL;
	ob->head = (ob->head + 1) % DUET_SYNC_OUTBOX_MAX;
	ob->len--;
}

void
outbox_free(struct outbox *ob)
{
	if (ob->ring == NULL)
		return;
	while (ob->len > 0)
		outbox_pop(ob);
	free(ob->ring);
	ob->ring = NULL;
}

void
outbox_push(struct duet_sync *s, const struct cmd *c, int script, int nkeys)
{
	struct outbox *ob = &s->ob;
	struct ob_entry *e;
	char *data;
	size_t i;

	if (c->overflow) {
		SYNC_LOG(ERR, "internal: a command did not fit its buffer; not queued\n");
		return;
	}
	if (ob->len >= DUET_SYNC_OUTBOX_MAX) {
		ob->dropped++;
		if (!ob->overflow_logged)
			SYNC_LOG(ERR,
				 "outbox full (%u writes waiting for Redis): dropping ended "
				 "entries and deletes until Redis is back\n",
				 DUET_SYNC_OUTBOX_MAX);
		ob->overflow_logged = true;
		return;
	}
	/* One allocation: the entry, argv, argvlen, then the strings. */
	e = malloc(sizeof(*e) + (size_t)c->argc * (sizeof(char *) + sizeof(size_t)) + c->used);
	if (e == NULL) {
		ob->dropped++;
		SYNC_LOG(ERR, "out of memory queueing a write to Redis; dropped\n");
		return;
	}
	e->script = script;
	e->nkeys = nkeys;
	e->argc = c->argc;
	e->argv = (const char **)(e + 1);
	e->argvlen = (size_t *)(e->argv + c->argc);
	data = (char *)(e->argvlen + c->argc);
	memcpy(data, c->store, c->used);
	for (i = 0; i < (size_t)c->argc; i++) {
		e->argv[i] = data + c->off[i];
		e->argvlen[i] = c->len[i];
	}
	ob->ring[(ob->head + ob->len) % DUET_SYNC_OUTBOX_MAX] = e;
	ob->len++;
}

void
outbox_flush(struct duet_sync *s, unsigned int budget)
{
	struct outbox *ob = &s->ob;

	while (ob->len > 0 && budget > 0 && s->r.ctx != NULL) {
		struct ob_entry *e = ob->ring[ob->head];
		unsigned int n = 0, k;
		redisReply *r;

		if (e->script >= 0) {
			r = duet_redis_script(&s->r, (enum duet_redis_script)e->script, e->nkeys,
					      e->argc, e->argv);
			if (r == NULL && s->r.ctx == NULL) {
				sync_link_down(s, "sending queued writes");
				return;
			}
			/* A refused call will be refused again: drop it, say so. */
			if (r == NULL || r->type == REDIS_REPLY_ERROR)
				SYNC_LOG(WARNING, "queued script call failed: %s\n",
					 r != NULL ? r->str : s->r.errstr);
			freeReplyObject(r);
			outbox_pop(ob);
			budget--;
			continue;
		}
		/* A run of plain commands goes in one round trip. */
		while (n < ob->len && n < budget && n < PIPELINE_MAX) {
			e = ob->ring[(ob->head + n) % DUET_SYNC_OUTBOX_MAX];
			if (e->script >= 0)
				break;
			if (duet_redis_append(&s->r, e->argc, e->argv, e->argvlen) != 0) {
				duet_redis_close(&s->r);
				sync_link_down(s, "sending queued writes");
				return;
			}
			n++;
		}
		for (k = 0; k < n; k++) {
			r = duet_redis_get_reply(&s->r);
			if (r == NULL) {
				/* Entries not popped are sent again after the
				 * reconnect (at least once). */
				sync_link_down(s, "sending queued writes");
				return;
			}
			if (r->type == REDIS_REPLY_ERROR)
				SYNC_LOG(WARNING, "Redis refused a queued write: %s\n", r->str);
			freeReplyObject(r);
			outbox_pop(ob);
		}
		budget -= n;
	}
	if (ob->len == 0 && ob->overflow_logged) {
		SYNC_LOG(WARNING, "outbox drained; %" PRIu64 " writes were dropped in total\n",
			 ob->dropped);
		ob->overflow_logged = false;
	}
}

/* ---- pair figures ---- */

/* Unix ms of a worker's TSC stamp. The poll's now_ms was read together
 * with s->now_tsc, so the stamp is placed relative to that pair, whichever
 * side of it the packet came. */
static uint64_t
tsc_to_unix_ms(const struct duet_sync *s, uint64_t tsc, uint64_t now_ms)
{
	uint64_t d, ms;

	if (s->tsc_hz == 0)
		return now_ms;
	d = tsc >= s->now_tsc ? tsc - s->now_tsc : s->now_tsc - tsc;
	ms = d / s->tsc_hz * 1000 + d % s->tsc_hz * 1000 / s->tsc_hz;
	if (tsc >= s->now_tsc)
		return now_ms + ms;
	return ms < now_ms ? now_ms - ms : 0;
}

void
pair_figures_read(const struct duet_sync *s, uint32_t slot, uint64_t now_ms,
		  struct pair_figures *f)
{
	struct duet_addr client;
	unsigned int k;

	for (k = 0; k < 2; k++) {
		const struct duet_leg *l = duet_pair_leg(s->t, slot, k);
		uint64_t tsc = __atomic_load_n(&l->last_rx_tsc, __ATOMIC_RELAXED);

		duet_pair_counters(s->t, slot, k, &f->leg[k]);
		duet_pair_rtp(s->t, slot, k, &f->rtp[k]);
		/* The address itself is read and dropped here: only whether
		 * the leg has one leaves this function. */
		f->latched[k] = duet_pair_leg_client(s->t, slot, k, &client) ? 1 : 0;
		f->last_ms[k] = tsc != 0 ? tsc_to_unix_ms(s, tsc, now_ms) : 0;
	}
}

static uint64_t
fp_mix(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static uint64_t
fp_words(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, b + i, 8);
		h = fp_mix(h, w);
	}
	return h;
}

/* A 64-bit fingerprint of what a stats hash shows, so the book keeps 8
 * bytes per pair instead of a copy of the figures; two different figures
 * share one with odds of about 2^-64 per round, and the next change of
 * either writes the hash anyway. last_ms is left out: it moves with the
 * clock conversion, not with traffic. */
static uint64_t
figures_fingerprint(const struct pair_figures *f)
{
	uint64_t h = 0x243f6a8885a308d3ull;

	RTE_BUILD_BUG_ON(sizeof(f->leg) % 8 != 0 || sizeof(f->rtp) % 8 != 0);
	h = fp_words(h, f->leg, sizeof(f->leg));
	h = fp_words(h, f->rtp, sizeof(f->rtp));
	return fp_mix(h, (uint64_t)f->latched[0] | (uint64_t)f->latched[1] << 8);
}

static int
stats_key(const struct duet_sync *s, const char *id, char *key, size_t len)
{
	return duet_redis_key(key, len, s->conf->relay_id, "stats:", id);
}

/* HSET stats:<id> with every field of a pair (state and reason given). */
static void
stats_cmd(struct cmd *c, const char *key, const char *state, const char *reason,
	  const struct duet_pair_spec *spec, uint64_t created_ms, uint64_t updated_ms,
	  const struct pair_figures *f)
{
	static const char *const leg_name[2] = {"a_", "b_"};
	char name[40];
	const char *mode = duet_mode_name(spec->mode);
	unsigned int k;

	cmd_init(c);
	cmd_str(c, "HSET");
	cmd_str(c, key);
	cmd_str(c, "state");
	cmd_str(c, state);
	if (reason != NULL) {
		cmd_str(c, "reason");
		cmd_str(c, reason);
	}
	cmd_str(c, "mode");
	cmd_str(c, mode != NULL ? mode : "unknown");
	cmd_str(c, "created_ms");
	cmd_u64(c, created_ms);
	cmd_str(c, "updated_ms");
	cmd_u64(c, updated_ms);
	for (k = 0; k < 2; k++) {
#define LEG_FIELD(suffix, value)                                                   \
	do {                                                                       \
		snprintf(name, sizeof(name), "%s%s", leg_name[k], suffix);         \
		cmd_str(c, name);                                                  \
		cmd_u64(c, value);                                                 \
	} while (0)
		snprintf(name, sizeof(name), "%sstate", leg_name[k]);
		cmd_str(c, name);
		cmd_str(c, f->latched[k] ? "latched" : "waiting");
		LEG_FIELD("pkts", f->leg[k].pkts);
		LEG_FIELD("bytes", f->leg[k].bytes);
		LEG_FIELD("drop_src", f->leg[k].drop_src);
		LEG_FIELD("drop_peer_unlatched", f->leg[k].drop_peer_unlatched);
		LEG_FIELD("drop_auth", f->leg[k].drop_auth);
		LEG_FIELD("drop_replay", f->leg[k].drop_replay);
		LEG_FIELD("drop_policed", f->leg[k].drop_policed);
		LEG_FIELD("rtp_expected", duet_rtp_leg_expected(&f->rtp[k]));
		LEG_FIELD("rtp_lost", duet_rtp_leg_lost(&f->rtp[k]));
		LEG_FIELD("rtp_reordered", f->rtp[k].reordered);
		LEG_FIELD("jitter_us", duet_rtp_leg_jitter_us(&f->rtp[k]));
		LEG_FIELD("last_ms", f->last_ms[k]);
#undef LEG_FIELD
	}
}

static void
cmd_key_op(struct cmd *c, const char *op, const char *key)
{
	cmd_init(c);
	cmd_str(c, op);
	cmd_str(c, key);
}

/* ---- ended, rejected, fresh ---- */

void
sync_pair_ended(struct duet_sync *s, const struct duet_pair_spec *spec,
		const struct duet_pair_final *fin, const struct pair_figures *f,
		const char *reason, bool pair_delete)
{
	char key[DUET_REDIS_KEY_MAX], pkey[DUET_REDIS_KEY_MAX], maxlen[24];
	struct pair_figures fig = *f;
	struct cmd c;
	unsigned int k;

	/* The final counters are the ones taken at the delete. */
	for (k = 0; k < 2; k++)
		fig.leg[k] = fin->leg[k];

	cmd_init(&c);
	cmd_str(&c, "XADD");
	cmd_str(&c, s->key_ended);
	cmd_str(&c, "MAXLEN");
	cmd_str(&c, "~");
	cmd_u64(&c, DUET_REDIS_ENDED_MAXLEN);
	cmd_str(&c, "*");
	cmd_str(&c, "id");
	cmd_str(&c, spec->id);
	cmd_str(&c, "reason");
	cmd_str(&c, reason);
	cmd_str(&c, "created_ms");
	cmd_u64(&c, fin->created_ms);
	cmd_str(&c, "ended_ms");
	cmd_u64(&c, fin->ended_ms);
	cmd_str(&c, "duration_ms");
	cmd_u64(&c, fin->ended_ms > fin->created_ms ? fin->ended_ms - fin->created_ms : 0);
	cmd_str(&c, "a_pkts");
	cmd_u64(&c, fin->leg[0].pkts);
	cmd_str(&c, "a_bytes");
	cmd_u64(&c, fin->leg[0].bytes);
	cmd_str(&c, "b_pkts");
	cmd_u64(&c, fin->leg[1].pkts);
	cmd_str(&c, "b_bytes");
	cmd_u64(&c, fin->leg[1].bytes);
	cmd_str(&c, "a_drop_src");
	cmd_u64(&c, fin->leg[0].drop_src);
	cmd_str(&c, "b_drop_src");
	cmd_u64(&c, fin->leg[1].drop_src);
	cmd_str(&c, "a_drop_peer_unlatched");
	cmd_u64(&c, fin->leg[0].drop_peer_unlatched);
	cmd_str(&c, "b_drop_peer_unlatched");
	cmd_u64(&c, fin->leg[1].drop_peer_unlatched);
	cmd_str(&c, "a_drop_auth");
	cmd_u64(&c, fin->leg[0].drop_auth);
	cmd_str(&c, "b_drop_auth");
	cmd_u64(&c, fin->leg[1].drop_auth);
	cmd_str(&c, "a_drop_replay");
	cmd_u64(&c, fin->leg[0].drop_replay);
	cmd_str(&c, "b_drop_replay");
	cmd_u64(&c, fin->leg[1].drop_replay);
	cmd_str(&c, "a_drop_policed");
	cmd_u64(&c, fin->leg[0].drop_policed);
	cmd_str(&c, "b_drop_policed");
	cmd_u64(&c, fin->leg[1].drop_policed);
	cmd_str(&c, "a_rtp_lost");
	cmd_u64(&c, duet_rtp_leg_lost(&fig.rtp[0]));
	cmd_str(&c, "b_rtp_lost");
	cmd_u64(&c, duet_rtp_leg_lost(&fig.rtp[1]));
	cmd_str(&c, "a_jitter_us");
	cmd_u64(&c, duet_rtp_leg_jitter_us(&fig.rtp[0]));
	cmd_str(&c, "b_jitter_us");
	cmd_u64(&c, duet_rtp_leg_jitter_us(&fig.rtp[1]));
	outbox_push(s, &c, -1, 0);

	if (stats_key(s, spec->id, key, sizeof(key)) == 0) {
		stats_cmd(&c, key, "ended", reason, spec, fin->created_ms, fin->ended_ms, &fig);
		outbox_push(s, &c, -1, 0);
		cmd_key_op(&c, "EXPIRE", key);
		cmd_u64(&c, DUET_SYNC_DONE_TTL_S);
		outbox_push(s, &c, -1, 0);
	}

	if (pair_delete &&
	    duet_redis_key(pkey, sizeof(pkey), s->conf->relay_id, "pair:", spec->id) == 0) {
		snprintf(maxlen, sizeof(maxlen), "%u", DUET_REDIS_EVENTS_MAXLEN);
		cmd_init(&c);
		cmd_str(&c, s->key_free);
		cmd_str(&c, s->key_alloc);
		cmd_str(&c, pkey);
		cmd_str(&c, s->key_events);
		cmd_str(&c, spec->id);
		cmd_str(&c, maxlen);
		outbox_push(s, &c, DUET_SCRIPT_PAIR_DELETE, 4);
	}
}

void
sync_pair_rejected(struct duet_sync *s, const char *id, const char *why, uint64_t now_ms)
{
	char key[DUET_REDIS_KEY_MAX];
	struct cmd c;

	if (stats_key(s, id, key, sizeof(key)) != 0)
		return;
	/* Start from an empty hash: figures of an earlier pair with this id
	 * would read as if the rejected record had carried traffic. */
	cmd_key_op(&c, "DEL", key);
	outbox_push(s, &c, -1, 0);
	cmd_key_op(&c, "HSET", key);
	cmd_str(&c, "state");
	cmd_str(&c, "rejected");
	cmd_str(&c, "reason");
	cmd_str(&c, why);
	cmd_str(&c, "updated_ms");
	cmd_u64(&c, now_ms);
	outbox_push(s, &c, -1, 0);
	cmd_key_op(&c, "EXPIRE", key);
	cmd_u64(&c, DUET_SYNC_DONE_TTL_S);
	outbox_push(s, &c, -1, 0);
}

void
sync_pair_fresh(struct duet_sync *s, uint32_t slot)
{
	if (slot >= s->capacity)
		return;
	s->book[slot].fresh = 1;
	if (!s->book[slot].queued && s->n_fresh < s->capacity) {
		s->book[slot].queued = 1;
		s->fresh[s->n_fresh++] = slot;
	}
}

int
sync_pair_end(struct duet_sync *s, const char *id, uint64_t now_ms, const char *reason,
	      bool pair_delete)
{
	struct duet_pair_spec spec;
	struct duet_pair_final fin;
	struct pair_figures f;
	int slot;

	slot = duet_pair_find(s->t, id);
	if (slot < 0)
		return -ENOENT;
	spec = *duet_pair_spec_of(s->t, (uint32_t)slot);
	pair_figures_read(s, (uint32_t)slot, now_ms, &f);
	if (duet_pair_del(s->t, spec.id, now_ms, &fin) != 0)
		return -ENOENT;
	if ((uint32_t)slot < s->capacity)
		memset(&s->book[slot], 0, sizeof(s->book[slot]));
	sync_pair_ended(s, &spec, &fin, &f, reason, pair_delete);
	return 0;
}

/* ---- stats hashes ---- */

/* Queue the stats hash of live slot; fresh pairs also lose an old reason
 * and TTL (a rejected or ended record of the same id). @return commands. */
static int
append_pair_stats(struct duet_sync *s, uint32_t slot, uint64_t now_ms, unsigned int *n)
{
	const struct duet_pair_spec *spec = duet_pair_spec_of(s->t, slot);
	struct pair_book *b = &s->book[slot];
	char key[DUET_REDIS_KEY_MAX];
	struct pair_figures f;
	struct cmd c;

	if (stats_key(s, spec->id, key, sizeof(key)) != 0)
		return 0;
	pair_figures_read(s, slot, now_ms, &f);
	stats_cmd(&c, key, f.latched[0] && f.latched[1] ? "active" : "waiting", NULL, spec,
		  duet_pair_created_ms(s->t, slot), now_ms, &f);
	if (cmd_append(s, &c, n) < 0)
		return -1;
	if (b->fresh) {
		cmd_key_op(&c, "HDEL", key);
		cmd_str(&c, "reason");
		if (cmd_append(s, &c, n) < 0)
			return -1;
		cmd_key_op(&c, "PERSIST", key);
		if (cmd_append(s, &c, n) < 0)
			return -1;
	}
	b->written = figures_fingerprint(&f);
	b->fresh = 0;
	return 0;
}

void
writeback_fresh(struct duet_sync *s, uint64_t now_ms)
{
	unsigned int n = 0, done = 0, budget = s->short_slices ? SHORT_FRESH : FRESH_PER_POLL;

	/* Newest first; a table loaded from Redis is written over many polls
	 * so that following events is never held up behind it. */
	while (s->n_fresh > 0 && done < budget) {
		uint32_t slot = s->fresh[--s->n_fresh];
		const struct duet_pair_spec *spec;

		s->book[slot].queued = 0;
		if (!s->book[slot].fresh)
			continue;
		/* Skip a slot that died since it was queued. */
		spec = duet_pair_spec_of(s->t, slot);
		if (duet_pair_find(s->t, spec->id) != (int)slot)
			continue;
		done++;
		if (append_pair_stats(s, slot, now_ms, &n) < 0)
			return;
		if (n >= PIPELINE_MAX) {
			if (drain_replies(s, n, "writing pair stats") < 0)
				return;
			n = 0;
		}
	}
	drain_replies(s, n, "writing pair stats");
}

/* What the process holds, by its own accounting: DPDK's heaps (the pair
 * table, hashes, mempools) and the C heap (libsrtp2 sessions, hiredis).
 * For operators watching growth, and the memory benchmark. */
static void
mem_fields(struct cmd *c)
{
	struct rte_malloc_socket_stats st;
	struct mallinfo2 mi = mallinfo2();
	uint64_t rte = 0;
	unsigned int sock;

	for (sock = 0; sock < RTE_MAX_NUMA_NODES; sock++)
		if (rte_malloc_get_socket_stats((int)sock, &st) == 0)
			rte += st.heap_allocsz_bytes;
	cmd_str(c, "mem_dpdk_bytes");
	cmd_u64(c, rte);
	cmd_str(c, "mem_heap_bytes");
	cmd_u64(c, (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd);
}

static void
heartbeat(struct duet_sync *s, uint64_t now_ms)
{
	struct duet_lcore_stats sum;
	char name[48], ttl[16];
	uint64_t dt = now_ms > s->hb_prev_ms ? now_ms - s->hb_prev_ms : 0;
	uint64_t rx_pps = 0, fwd_pps = 0;
	unsigned int d, n = 0;
	struct cmd c;

	memset(&sum, 0, sizeof(sum));
	if (s->n_workers > 0)
		duet_stats_sum(s->lcore_stats, s->n_workers, &sum);
	if (s->hb_prev_ms != 0 && dt > 0 && sum.rx_pkts >= s->hb_prev.rx_pkts &&
	    sum.fwd_pkts >= s->hb_prev.fwd_pkts) {
		rx_pps = (sum.rx_pkts - s->hb_prev.rx_pkts) * 1000 / dt;
		fwd_pps = (sum.fwd_pkts - s->hb_prev.fwd_pkts) * 1000 / dt;
	}
	s->hb_prev = sum;
	s->hb_prev_ms = now_ms;

	cmd_key_op(&c, "HSET", s->key_relay);
	cmd_str(&c, "version");
	cmd_str(&c, DUET_VERSION);
	cmd_str(&c, "started_ms");
	cmd_u64(&c, s->started_ms);
	cmd_str(&c, "updated_ms");
	cmd_u64(&c, now_ms);
	cmd_str(&c, "pairs");
	cmd_u64(&c, duet_pair_count(s->t));
	cmd_str(&c, "workers");
	cmd_u64(&c, s->n_workers);
	cmd_str(&c, "rx_pkts");
	cmd_u64(&c, sum.rx_pkts);
	cmd_str(&c, "fwd_pkts");
	cmd_u64(&c, sum.fwd_pkts);
	cmd_str(&c, "fwd_bytes");
	cmd_u64(&c, sum.fwd_bytes);
	cmd_str(&c, "rx_pps");
	cmd_u64(&c, rx_pps);
	cmd_str(&c, "fwd_pps");
	cmd_u64(&c, fwd_pps);
	cmd_str(&c, "arp_replies");
	cmd_u64(&c, sum.arp_replies);
	cmd_str(&c, "arp_learned");
	cmd_u64(&c, sum.arp_learned);
	cmd_str(&c, "icmp_replies");
	cmd_u64(&c, sum.icmp_replies);
	cmd_str(&c, "latched");
	cmd_u64(&c, sum.latched);
	cmd_str(&c, "relatched");
	cmd_u64(&c, sum.relatched);
	cmd_str(&c, "srtp_streams_removed");
	cmd_u64(&c, sum.srtp_streams_removed);
	cmd_str(&c, "drops");
	cmd_u64(&c, duet_stats_total_drops(&sum));
	for (d = 0; d < DUET_DROP_MAX; d++) {
		snprintf(name, sizeof(name), "drop_%s", duet_drop_name((enum duet_drop)d));
		cmd_str(&c, name);
		cmd_u64(&c, sum.drops[d]);
	}
	cmd_str(&c, "redis_reconnects");
	cmd_u64(&c, duet_sync_reconnects(s));
	cmd_str(&c, "rejected");
	cmd_u64(&c, s->rejected);
	mem_fields(&c);
	if (cmd_append(s, &c, &n) < 0)
		return;
	/* The TTL is what tells the control plane this relay died; PEXPIRE 0
	 * would delete the hash instead. */
	if (s->conf->heartbeat_ttl_ms > 0) {
		snprintf(ttl, sizeof(ttl), "%" PRIu32, s->conf->heartbeat_ttl_ms);
		cmd_key_op(&c, "PEXPIRE", s->key_relay);
		cmd_str(&c, ttl);
		if (cmd_append(s, &c, &n) < 0)
			return;
	}
	drain_replies(s, n, "writing the heartbeat");
}

/* Visit part of the table; write the stats of pairs whose figures moved. */
static void
stats_round_step(struct duet_sync *s, uint64_t now_ms)
{
	unsigned int n = 0, visited = 0, written = 0;
	unsigned int max_visit = s->short_slices ? SHORT_STATS_SLOTS : STATS_SLOTS_PER_POLL;
	unsigned int max_write = s->short_slices ? SHORT_STATS_WRITES : UINT32_MAX;
	struct pair_figures f;
	int slot;

	while (visited < max_visit && written < max_write) {
		uint32_t before = s->wb_it;

		slot = duet_pair_next(s->t, &s->wb_it);
		visited += s->wb_it - before;
		if (slot < 0) {
			s->wb_running = false;
			break;
		}
		if ((uint32_t)slot >= s->capacity)
			continue;
		if (!s->book[slot].fresh && !s->wb_round_force) {
			pair_figures_read(s, (uint32_t)slot, now_ms, &f);
			if (figures_fingerprint(&f) == s->book[slot].written)
				continue;
		}
		if (append_pair_stats(s, (uint32_t)slot, now_ms, &n) < 0)
			return;
		written++;
		if (n >= PIPELINE_MAX) {
			if (drain_replies(s, n, "writing pair stats") < 0)
				return;
			n = 0;
		}
	}
	drain_replies(s, n, "writing pair stats");
}

void
writeback_tick(struct duet_sync *s, uint64_t now_ms)
{
	uint32_t interval = s->conf->stats_interval_ms > 0 ? s->conf->stats_interval_ms : 1000;

	/* While a full load runs only the heartbeat is written: the pairs'
	 * stats hashes wait until the table is complete and forwarding. */
	if (s->phase == PHASE_LOAD) {
		if (now_ms >= s->next_stats_ms) {
			s->next_stats_ms = now_ms + interval;
			heartbeat(s, now_ms);
		}
		return;
	}
	if (!s->wb_running && now_ms >= s->next_stats_ms) {
		s->next_stats_ms = now_ms + interval;
		s->wb_running = true;
		s->wb_round_force = s->wb_force;
		s->wb_force = false;
		s->wb_it = 0;
		heartbeat(s, now_ms);
		if (s->phase == PHASE_DOWN)
			return;
	}
	if (s->wb_running)
		stats_round_step(s, now_ms);
}

/* ---- idle and expiry ---- */

/* Milliseconds since either leg last heard its client, or since the pair
 * was created when neither ever did. */
static uint64_t
idle_for_ms(const struct duet_sync *s, uint32_t slot, uint64_t now_tsc, uint64_t now_ms)
{
	uint64_t last = 0, created, d;
	unsigned int k;

	for (k = 0; k < 2; k++) {
		uint64_t tsc = __atomic_load_n(&duet_pair_leg(s->t, slot, k)->last_rx_tsc,
					       __ATOMIC_RELAXED);

		if (tsc > last)
			last = tsc;
	}
	if (last == 0) {
		created = duet_pair_created_ms(s->t, slot);
		return now_ms > created ? now_ms - created : 0;
	}
	if (last >= now_tsc || s->tsc_hz == 0)
		return 0;
	d = now_tsc - last;
	return d / s->tsc_hz * 1000 + d % s->tsc_hz * 1000 / s->tsc_hz;
}

void
idle_expiry_check(struct duet_sync *s, uint64_t now_ms)
{
	char id[DUET_PAIR_ID_MAX + 1];
	uint32_t visited = 0, budget = s->short_slices ? SHORT_CHECK_SLOTS : CHECK_SLOTS_PER_POLL;
	uint64_t now_tsc, period;
	int slot;

	/* A round every CHECK_INTERVAL_MS or more, a bounded slice of the
	 * table per poll, so a million pairs never stall the control thread. */
	if (!s->check_running) {
		if (now_ms < s->next_check_ms)
			return;
		/* A round reads two legs per pair, mostly cache misses: rounds
		 * grow further apart with the table, so that they cost the
		 * control thread about the same share at any size (100 ms up
		 * to 100,000 pairs, 1 s from 1,000,000). */
		period = duet_pair_count(s->t) / CHECK_PAIRS_PER_MS;
		period = RTE_MAX(period, (uint64_t)CHECK_INTERVAL_MS);
		s->next_check_ms = now_ms + RTE_MIN(period, (uint64_t)CHECK_INTERVAL_MAX_MS);
		s->check_running = true;
		s->check_it = 0;
	}
	now_tsc = rte_get_tsc_cycles();
	while (visited < budget) {
		uint32_t before = s->check_it;
		const struct duet_pair_spec *spec;
		const char *reason = NULL;

		slot = duet_pair_next(s->t, &s->check_it);
		visited += s->check_it - before;
		if (slot < 0) {
			s->check_running = false;
			break;
		}
		spec = duet_pair_spec_of(s->t, (uint32_t)slot);
		if (spec->expires != 0 && now_ms / 1000 >= spec->expires)
			reason = "expired";
		else if (spec->idle_ms != 0 &&
			 idle_for_ms(s, (uint32_t)slot, now_tsc, now_ms) >= spec->idle_ms)
			reason = "idle";
		if (reason == NULL)
			continue;
		snprintf(id, sizeof(id), "%s", spec->id);
		if (sync_pair_end(s, id, now_ms, reason, true) == 0)
			SYNC_LOG(INFO, "pair %s ended: %s\n", id, reason);
	}
}
