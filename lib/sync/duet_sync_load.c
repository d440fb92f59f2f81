/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_sync, the full load: SCAN + HGETALL, pipelined a page ahead, with
 * the stats hash of each record whose pair is not installed yet, so that
 * a pair duetd ran before a restart continues its accounting (created_ms,
 * counters) and, on the first load after start, a keyed pair its SRTP
 * streams: a poll asks for the next SCAN page and the records and stats
 * hashes of the page before, applies the oldest complete page while Redis
 * works, then reads the replies. Then a retry of records that met an
 * endpoint conflict (a record duetd was running takes its endpoints
 * back), then the end of the load: pairs the scan did not see end, unless
 * so many would that the mass-loss safety valve holds them. Runs on
 * duetd's control thread inside duet_sync_poll(), which it leaves with
 * nothing in flight on the link.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duet_parse.h"
#include "sync_internal.h"

#define RETRY_PASSES 8 /* load retries of records that met an endpoint conflict */

/* The fields of a pair's stats hash a load uses: whether duetd ran the
 * pair, which pair it was, since when and what it counted, and how far its
 * SRTP streams got. The hash is read whole (HGETALL): a pair that has none
 * (provisioned while duetd was down) then costs an empty reply, where
 * naming the fields (HMGET) cost 23 nil replies a record and doubled the
 * time a million-pair load takes. */
enum {
	ST_STATE = 0,
	ST_MODE,
	ST_A,
	ST_B,
	ST_CREATED,
	ST_LEG,					    /* a_pkts ... a_drop_policed, b_pkts ... */
	ST_SRTP = ST_LEG + 2 * SYNC_LEG_COUNTERS_N, /* a_srtp_in ... b_srtp_out, by key */
	ST_FIELDS = ST_SRTP + DUET_KEY_COUNT,
};

static const char *const st_fields[ST_FIELDS] = {
	"state", DUET_FIELD_MODE, DUET_FIELD_A, DUET_FIELD_B, "created_ms",
#define A_FIELD(member) "a_" #member,
	SYNC_LEG_COUNTERS(A_FIELD)
#undef A_FIELD
#define B_FIELD(member) "b_" #member,
	SYNC_LEG_COUNTERS(B_FIELD)
#undef B_FIELD
	DUET_FIELD_A_SRTP_IN, DUET_FIELD_A_SRTP_OUT, DUET_FIELD_B_SRTP_IN, DUET_FIELD_B_SRTP_OUT,
};

_Static_assert(sizeof(struct duet_leg_counters) == SYNC_LEG_COUNTERS_N * sizeof(uint64_t),
	       "SYNC_LEG_COUNTERS lists every counter of a leg");

/* What a stats hash may say and still be believed: a duetd on another host
 * may run a minute ahead; no leg counts more than 200 million packets a
 * second of the pair's life (a 100 GbE port carries 149 million of the
 * smallest frames), nor more than 65535 bytes a packet. The bounds also
 * keep every sum far from overflowing. */
#define RESUME_SKEW_MS 60000
#define RESUME_PPS_MAX 200000000ull
#define RESUME_BYTES_PER_PKT 65535

/* A stats hash's HGETALL reply, the fields a load uses picked out:
 * v[ST_*] is the value's reply, NULL when the field is absent. */
struct st_view {
	const redisReply *v[ST_FIELDS];
};

/* Pick st_fields out of HGETALL reply st (may be NULL) into view.
 * Counted bytes: a field name from Redis may hold a NUL. */
static void
st_view_of(const redisReply *st, struct st_view *view)
{
	static size_t len[ST_FIELDS];
	size_t i;
	unsigned int j;

	if (len[0] == 0)
		for (j = 0; j < ST_FIELDS; j++)
			len[j] = strlen(st_fields[j]);
	memset(view, 0, sizeof(*view));
	if (st == NULL || st->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i + 1 < st->elements; i += 2) {
		const redisReply *k = st->element[i];

		if (k->type != REDIS_REPLY_STRING)
			continue;
		for (j = 0; j < ST_FIELDS; j++) {
			if (k->len == len[j] && memcmp(k->str, st_fields[j], len[j]) == 0) {
				view->v[j] = st->element[i + 1];
				break;
			}
		}
	}
}

static void
format_stream_id(const struct duet_contract_stream_id *id, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 "-%" PRIu64, id->ms, id->seq);
}

void
sync_load_start(struct duet_sync *s, const struct duet_contract_stream_info *info)
{
	static const struct duet_contract_stream_id zero;

	format_stream_id(info->exists ? &info->last_generated : &zero, s->load_id,
			 sizeof(s->load_id));
	/* The position the load stands for: the stream's end now. */
	memset(&s->load_pos, 0, sizeof(s->load_pos));
	if (info->exists) {
		s->load_pos.id = info->last_generated;
		s->load_pos.has_added = info->has_entries_added;
		s->load_pos.added = info->entries_added;
	} else {
		s->load_pos.has_added = true; /* a new stream starts from 0 */
	}
	s->load_gen++;
	s->need_load = true;
	s->load_seen = 0;
	s->load_from_empty = duet_pair_count(s->t) == 0;
	s->n_retry = 0;
	snprintf(s->cursor, sizeof(s->cursor), "0");
	s->scan_done = false;
	sync_load_drop(s);
	s->phase = SYNC_PHASE_LOAD;
}

/* Whether a stats hash says duetd was running the pair (not ended or
 * rejected): a pair whose last word from duetd was that it ran. */
static bool
state_was_running(const struct st_view *st)
{
	const char *v = st->v[ST_STATE] != NULL ? reply_cstr(st->v[ST_STATE]) : NULL;

	return v != NULL && (strcmp(v, "waiting") == 0 || strcmp(v, "active") == 0);
}

static void apply_loaded(struct duet_sync *s, const char *id, const redisReply *rec,
			 const redisReply *st);

/*
 * Apply again the records deferred for an endpoint conflict, in passes
 * while they make progress; the last pass rejects what still conflicts.
 * A conflict is decided by who came first, and that must survive a
 * restart, where the scan meets records in any order: so with each record
 * its stats hash's state is read, and a record duetd was running (its
 * stats say waiting or active; a later claimant was refused and says
 * rejected) takes its endpoints back from whatever the scan put there.
 * @return 0, or -1 after the link went down.
 */
static int
retry_deferred(struct duet_sync *s)
{
	char key[DUET_REDIS_KEY_MAX], skey[DUET_REDIS_KEY_MAX];
	struct st_view view;
	unsigned int pass;
	uint32_t i, n;
	redisReply *rec, *st;

	for (pass = 0; s->n_retry > 0; pass++) {
		n = s->n_retry;
		s->n_retry = 0;
		s->retry_final = pass + 1 >= RETRY_PASSES;
		for (i = 0; i < n; i++) {
			const char *hget[2] = {"HGETALL", key};
			const char *sget[2] = {"HGETALL", skey};

			if (duet_redis_key(key, sizeof(key), s->conf->relay_id, "pair:",
					   s->retry[i]) != 0 ||
			    sync_stats_key(s, s->retry[i], skey, sizeof(skey)) != 0 ||
			    duet_redis_append(&s->r, 2, hget, NULL) != 0 ||
			    duet_redis_append(&s->r, 2, sget, NULL) != 0) {
				duet_redis_close(&s->r);
				sync_link_down(s, "HGETALL of pairs");
				return -1;
			}
		}
		/* A record deferred again is copied to retry[] at or before
		 * its own row, so reading row i stays valid. */
		for (i = 0; i < n; i++) {
			rec = duet_redis_get_reply(&s->r);
			st = rec != NULL ? duet_redis_get_reply(&s->r) : NULL;
			if (st == NULL) {
				if (rec != NULL)
					freeReplyObject(rec);
				sync_link_down(s, "HGETALL of pairs");
				return -1;
			}
			st_view_of(st, &view);
			s->retry_claims = state_was_running(&view);
			apply_loaded(s, s->retry[i], rec, st);
			s->retry_claims = false;
			freeReplyObject(st);
			freeReplyObject(rec);
		}
		if (s->retry_final)
			break;
		if (s->n_retry == n)
			pass = RETRY_PASSES - 2; /* no progress: next pass is the last */
	}
	s->retry_final = false;
	s->n_retry = 0;
	return 0;
}

/* Installed pairs the running load did not see (held ones not counted). */
static uint32_t
count_unseen(const struct duet_sync *s, uint32_t *installed)
{
	uint32_t it = 0, n = 0;
	int slot;

	*installed = 0;
	while ((slot = duet_pair_next(s->t, &it)) >= 0) {
		if ((uint32_t)slot >= s->capacity || s->book[slot].held)
			continue;
		(*installed)++;
		if (s->book[slot].seen_gen != s->load_gen)
			n++;
	}
	return n;
}

/*
 * The mass-loss safety valve: a reload that would end more than
 * resync_hold_percent of the installed pairs (Redis came back empty, was
 * flushed, or lost writes) keeps them forwarding instead, until the
 * control plane bumps the epoch key or they idle out. The epoch it must
 * pass is read now. @return true if the unseen pairs are to be held.
 */
static bool
hold_unseen(struct duet_sync *s, uint32_t unseen, uint32_t installed)
{
	const char *argv[2] = {"GET", s->key_epoch};
	redisReply *r;

	if (unseen == 0 || s->conf->resync_hold_percent >= 100 ||
	    (uint64_t)unseen * 100 <= (uint64_t)installed * s->conf->resync_hold_percent)
		return false;
	r = duet_redis_command(&s->r, 2, argv, NULL);
	if (r == NULL) {
		sync_link_down(s, "GET of the epoch");
		return true; /* hold; the next load decides again */
	}
	s->held_epoch = reply_cstr(r) != NULL ? strtoull(r->str, NULL, 10) : 0;
	freeReplyObject(r);
	SYNC_LOG(WARNING,
		 "full reload would end %" PRIu32 " of %" PRIu32 " pairs (over "
		 "resync_hold_percent %" PRIu32 "%%): holding them, still forwarding; end them with "
		 "`duetctl resync --confirm` (epoch %s past %" PRIu64 ") or let them idle out\n",
		 unseen, installed, s->conf->resync_hold_percent, s->key_epoch, s->held_epoch);
	return true;
}

static void
finish_load(struct duet_sync *s)
{
	char pair_id[DUET_PAIR_ID_MAX + 1];
	uint32_t it = 0, unseen, installed, left;
	unsigned int gone = 0;
	bool hold;
	int slot;

	/* Pairs the scan did not see were deleted while we were not
	 * following (or their events were trimmed away), unless so many
	 * went at once that Redis more likely lost them. A load that started
	 * with an empty table (the first after start) put every pair there
	 * itself: none is unseen, and a million-pair table is not walked. */
	installed = 0;
	unseen = s->load_from_empty ? 0 : count_unseen(s, &installed);
	hold = hold_unseen(s, unseen, installed);
	if (s->r.ctx == NULL)
		return; /* the link went down: the next connect loads again */
	/* The walk stops at the last unseen pair: after a load that saw them
	 * all, a million-pair table is not walked a second time. */
	left = unseen;
	while (left > 0 && (slot = duet_pair_next(s->t, &it)) >= 0) {
		if ((uint32_t)slot < s->capacity &&
		    (s->book[slot].seen_gen == s->load_gen || s->book[slot].held))
			continue;
		left--;
		if (hold && (uint32_t)slot < s->capacity) {
			s->book[slot].held = 1;
			s->n_held++;
			continue;
		}
		snprintf(pair_id, sizeof(pair_id), "%s", duet_pair_id_of(s->t, (uint32_t)slot));
		if (sync_pair_end(s, pair_id, s->now_ms, "deleted", false) == 0)
			gone++;
	}
	/* With the vanished pairs gone, their endpoints are free. A lost
	 * link leaves need_load set: the next connect loads again. */
	if (retry_deferred(s) != 0)
		return;
	snprintf(s->last_id, sizeof(s->last_id), "%s", s->load_id);
	s->pos = s->load_pos;
	s->need_load = false;
	s->full_loads++;
	sync_enter_follow(s);
	s->backoff_ms = DUET_SYNC_BACKOFF_MIN_MS;
	/* Say at once that the table is complete: the next poll writes the
	 * heartbeat (pairs) and starts a stats round. */
	s->next_stats_ms = 0;
	SYNC_LOG(INFO,
		 "loaded %" PRIu32 " pairs from %" PRIu64 " records (%u gone since), following "
		 "events after %s\n",
		 duet_pair_count(s->t), s->load_seen, gone, s->last_id);
}

/* The pair id of key "duet:{R}:pair:<id>", or NULL with why set. */
static const char *
key_to_id(const struct duet_sync *s, const redisReply *key, char *why, size_t whylen)
{
	const char *k = reply_cstr(key);

	if (k == NULL || strncmp(k, s->key_pair_prefix, s->pair_prefix_len) != 0) {
		snprintf(why, whylen, "not a pair key");
		return NULL;
	}
	if (duet_contract_check_id(k + s->pair_prefix_len, why, whylen) != 0)
		return NULL;
	return k + s->pair_prefix_len;
}

/*
 * The first load after start continues keyed pairs' SRTP streams: the
 * a_srtp_in, ... fields of the stats hash st (a running pair's) are read
 * back; a field that does not parse is logged and skipped. @return the
 * number of states in out.
 */
static unsigned int
srtp_states_of(const char *id, const struct st_view *st, struct duet_srtp_stream_state *out)
{
	char why[DUET_CONTRACT_WHY_MAX];
	unsigned int k, n = 0;
	int m;

	for (k = 0; k < DUET_KEY_COUNT; k++) {
		const redisReply *v = st->v[ST_SRTP + k];

		if (v == NULL || v->type != REDIS_REPLY_STRING || v->len == 0)
			continue;
		m = duet_record_srtp_parse(v->str, v->len, k, out + n,
					   DUET_PAIR_SRTP_STATES_MAX - n, why, sizeof(why));
		if (m < 0) {
			SYNC_LOG(WARNING, "pair %s: stats field %s not used: %s\n", id,
				 duet_record_srtp_field(k), why);
			continue;
		}
		n += (unsigned int)m;
	}
	return n;
}

/* Whether a record's reply holds an SRTP key (a_in, a_out, b_in, b_out):
 * only such a record makes SRTP sessions, so only its stats hash can hold
 * streams to continue. Counted bytes: a field name may hold a NUL. */
static bool
record_has_key(const redisReply *r)
{
	size_t i;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return false;
	for (i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *v = r->element[i + 1];

		if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING && v->len > 0 &&
		    duet_key_field_index(k->str, k->len) >= 0)
			return true;
	}
	return false;
}

/* Field i of stats reply st as a number in [min, max] into *v.
 * @return 0, -ENOENT when it is absent, -EINVAL (logged) when it is not
 * such a number. */
static int
st_u64(const char *id, const struct st_view *st, unsigned int i, uint64_t min, uint64_t max,
       uint64_t *v)
{
	const redisReply *r = st->v[i];
	const char *text = r != NULL ? reply_cstr(r) : NULL;
	char q[64];

	if (r == NULL)
		return -ENOENT;
	if (text != NULL && duet_parse_u64(text, min, max, v) == 0)
		return 0;
	SYNC_LOG(WARNING,
		 "pair %s: stats field %s '%s' is not a number from %" PRIu64 " to %" PRIu64
		 ": its accounting starts over\n",
		 id, st_fields[i], text != NULL ? duet_contract_quote(text, q, sizeof(q)) : "?",
		 min, max);
	return -EINVAL;
}

/*
 * The accounting of a running pair's stats hash st into rs: which pair it
 * was (mode, a, b: the put compares them with the record), since when
 * (created_ms) and what it counted. Redis is an input: a value that does
 * not parse or cannot be true is logged and none of it is used.
 * @return 0; -ENOENT when a field is absent (a duetd before these were
 * written, or a hash not written by duetd); -EINVAL when one is not sane.
 */
static int
resume_counted(const struct duet_sync *s, const char *id, const struct st_view *st,
	       struct sync_resume *rs)
{
	const char *mode, *a, *b;
	uint64_t v[SYNC_LEG_COUNTERS_N], max;
	unsigned int k, i;
	int rc;

	if (st->v[ST_MODE] == NULL || st->v[ST_A] == NULL || st->v[ST_B] == NULL)
		return -ENOENT;
	mode = reply_cstr(st->v[ST_MODE]);
	a = reply_cstr(st->v[ST_A]);
	b = reply_cstr(st->v[ST_B]);
	if (mode == NULL || duet_mode_parse(mode, &rs->mode) != 0 || a == NULL ||
	    duet_addr_parse(a, &rs->ep[0]) != 0 || b == NULL || duet_addr_parse(b, &rs->ep[1]) != 0) {
		SYNC_LOG(WARNING,
			 "pair %s: stats fields mode, a and b do not name a mode and two endpoints: "
			 "its accounting starts over\n",
			 id);
		return -EINVAL;
	}
	rc = st_u64(id, st, ST_CREATED, 1, s->now_ms + RESUME_SKEW_MS, &rs->put.created_ms);
	if (rc != 0)
		return rc;
	max = ((s->now_ms > rs->put.created_ms ? s->now_ms - rs->put.created_ms : 0) / 1000 + 1) *
	      RESUME_PPS_MAX;
	for (k = 0; k < 2; k++) {
		struct duet_leg_counters *c = &rs->put.leg[k];

		for (i = 0; i < SYNC_LEG_COUNTERS_N; i++) {
			rc = st_u64(id, st, ST_LEG + k * SYNC_LEG_COUNTERS_N + i, 0, max, &v[i]);
			if (rc != 0)
				return rc;
		}
		i = 0;
#define COUNTER_SET(member) c->member = v[i++];
		SYNC_LEG_COUNTERS(COUNTER_SET)
#undef COUNTER_SET
		if (c->bytes / RESUME_BYTES_PER_PKT > c->pkts) { /* no product: it could wrap */
			SYNC_LOG(WARNING,
				 "pair %s: stats field %c_bytes %" PRIu64 " is more than %u bytes "
				 "a packet: its accounting starts over\n",
				 id, 'a' + k, c->bytes, RESUME_BYTES_PER_PKT);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * What the stats hash st of record id says its pair ran with before this
 * load installs it: nothing unless duetd was running it (state waiting or
 * active; a hash of an ended or rejected life of the id is not used); the
 * SRTP streams of a keyed record on the first load after start (a record
 * without a key has no stream to continue); created_ms and the counters
 * (resume_counted). @return rs, or NULL when there is nothing to continue.
 */
static const struct sync_resume *
resume_of(struct duet_sync *s, const char *id, const redisReply *rec, const redisReply *st,
	  struct sync_resume *rs)
{
	struct st_view view;
	int rc;

	memset(rs, 0, sizeof(*rs));
	st_view_of(st, &view);
	if (!state_was_running(&view))
		return NULL;
	if (s->full_loads == 0 && record_has_key(rec)) {
		rs->put.n_srtp = srtp_states_of(id, &view, s->restore_buf);
		rs->put.srtp = rs->put.n_srtp > 0 ? s->restore_buf : NULL;
	}
	rc = resume_counted(s, id, &view, rs);
	if (rc == -EINVAL)
		s->resume_refused++;
	rs->counted = rc == 0;
	if (!rs->counted) {
		rs->put.created_ms = 0;
		memset(rs->put.leg, 0, sizeof(rs->put.leg));
	}
	return rs->counted || rs->put.n_srtp > 0 ? rs : NULL;
}

/* Apply record rec of id with what its stats hash st (may be NULL) says
 * the pair ran with before. */
static void
apply_loaded(struct duet_sync *s, const char *id, const redisReply *rec, const redisReply *st)
{
	struct sync_resume rs;

	s->resume = resume_of(s, id, rec, st, &rs);
	sync_apply_record(s, id, rec);
	s->resume = NULL;
}

/* ---- the pipeline's pages ---- */

static size_t
page_keys(const struct sync_load_page *p)
{
	return p->scan != NULL ? p->scan->element[1]->elements : 0;
}

static const redisReply *
page_key(const struct sync_load_page *p, size_t i)
{
	return p->scan->element[1]->element[i];
}

/* Free a page's replies; a record that was never applied has its key
 * values wiped first. */
static void
page_clear(struct sync_load_page *p)
{
	size_t i, n = page_keys(p);

	for (i = 0; i < n; i++) {
		struct sync_load_entry *e = &p->e[i];

		if (e->rec != NULL) {
			sync_wipe_key_values(e->rec);
			freeReplyObject(e->rec);
		}
		if (e->st != NULL)
			freeReplyObject(e->st);
		memset(e, 0, sizeof(*e));
	}
	freeReplyObject(p->scan);
	p->scan = NULL;
	p->stage = SYNC_LOAD_KEYS;
}

/* Whether the load reads the stats hash of a record with it: a key that
 * names a pair that is not installed (an installed pair counts on, and a
 * reload need not read a million stats hashes again). */
static bool
wants_stats(const struct duet_sync *s, const struct sync_load_entry *e)
{
	return e->id != NULL && duet_pair_find(s->t, e->id) < 0;
}

/* Make SCAN reply r (checked) the newest page, its keys named. A round
 * trip moves every page on a stage and the one before it applies the
 * complete ones, so a page in each stage is the most there can be.
 * @return 0, or -ENOMEM or -ENOSPC (r is then not kept). */
static int
page_push(struct duet_sync *s, redisReply *r)
{
	char why[DUET_CONTRACT_WHY_MAX];
	struct sync_load_page *p;
	size_t i, n = r->element[1]->elements;

	if (s->n_pages >= SYNC_LOAD_PAGES)
		return -ENOSPC;
	p = &s->load_q[s->n_pages];
	if (n > p->cap) {
		struct sync_load_entry *e = calloc(n, sizeof(*e));

		if (e == NULL)
			return -ENOMEM;
		free(p->e);
		p->e = e;
		p->cap = n;
	}
	p->scan = r;
	p->stage = SYNC_LOAD_KEYS;
	s->n_pages++;
	for (i = 0; i < n; i++) {
		struct sync_load_entry *e = &p->e[i];

		if (page_key(p, i)->type != REDIS_REPLY_STRING)
			continue;
		e->id = key_to_id(s, page_key(p, i), why, sizeof(why));
		e->want_st = wants_stats(s, e);
	}
	return 0;
}

/* The oldest page is done: clear it and move it to the back, with its
 * room, for a later page. */
static void
page_pop(struct duet_sync *s)
{
	struct sync_load_page done = s->load_q[0];

	page_clear(&done);
	memmove(&s->load_q[0], &s->load_q[1], (SYNC_LOAD_PAGES - 1) * sizeof(s->load_q[0]));
	s->load_q[SYNC_LOAD_PAGES - 1] = done;
	s->n_pages--;
}

void
sync_load_drop(struct duet_sync *s)
{
	unsigned int i;

	for (i = 0; i < SYNC_LOAD_PAGES; i++) {
		page_clear(&s->load_q[i]);
		free(s->load_q[i].e);
		s->load_q[i].e = NULL;
		s->load_q[i].cap = 0;
	}
	s->n_pages = 0;
}

/* ---- one round trip ---- */

/* Whether key i of page p has commands in the running round trip: its
 * HGETALL, and its stats hash's HGETALL if want_st (a page of keys). ask()
 * and read_replies() both go by it, so replies are read in the order the
 * commands went. */
static bool
entry_asked(const struct sync_load_page *p, size_t i)
{
	return p->stage == SYNC_LOAD_KEYS && page_key(p, i)->type == REDIS_REPLY_STRING;
}

/* Queue what the pages need next (records and stats hashes of a page of
 * keys) and the next SCAN page, and send it all.
 * @return the commands queued, or -1 after the link went down. */
static long
ask(struct duet_sync *s, bool *scan_asked)
{
	const char *scan[6] = {"SCAN", s->cursor, "MATCH", s->key_pair_match, "COUNT",
			       SYNC_SCAN_COUNT};
	char skey[DUET_REDIS_KEY_MAX];
	const char *sget[2] = {"HGETALL", skey};
	long n_cmd = 0;
	unsigned int q;
	size_t i, n;

	*scan_asked = false;
	for (q = 0; q < s->n_pages; q++) {
		struct sync_load_page *p = &s->load_q[q];

		for (i = 0, n = page_keys(p); i < n; i++) {
			const redisReply *k = page_key(p, i);
			struct sync_load_entry *e = &p->e[i];

			if (!entry_asked(p, i))
				continue;
			/* Out of memory queueing: the pipeline is out of step. */
			if (duet_redis_append_key_cmd(&s->r, "HGETALL", k->str, k->len) != 0)
				return -1;
			n_cmd++;
			if (!e->want_st)
				continue;
			if (sync_stats_key(s, e->id, skey, sizeof(skey)) != 0) {
				e->want_st = false;
				continue;
			}
			if (duet_redis_append(&s->r, 2, sget, NULL) != 0)
				return -1;
			n_cmd++;
		}
	}
	if (!s->scan_done) {
		if (duet_redis_append(&s->r, 6, scan, NULL) != 0)
			return -1;
		*scan_asked = true;
		n_cmd++;
	}
	if (n_cmd > 0 && duet_redis_flush(&s->r) != 0)
		return -1;
	return n_cmd;
}

/* Apply the oldest page, which is complete, in the order SCAN gave it. */
static void
apply_page(struct duet_sync *s, struct sync_load_page *p)
{
	char why[DUET_CONTRACT_WHY_MAX], q[64];
	size_t i, n = page_keys(p);

	for (i = 0; i < n; i++) {
		const redisReply *k = page_key(p, i);
		struct sync_load_entry *e = &p->e[i];

		if (k->type != REDIS_REPLY_STRING || e->rec == NULL)
			continue;
		s->load_seen++;
		if (e->id == NULL) {
			/* No stats hash for a key we cannot name safely. */
			s->rejected++;
			key_to_id(s, k, why, sizeof(why));
			SYNC_LOG(WARNING, "pair key '%s' ignored: %s\n",
				 duet_contract_quote(k->str, q, sizeof(q)), why);
			continue; /* page_clear wipes and frees its reply */
		}
		apply_loaded(s, e->id, e->rec, e->st);
		freeReplyObject(e->rec);
		e->rec = NULL;
	}
}

/* Read the replies to what ask() sent, in its order, and move each page
 * on a stage. @return 0, or -1 (link down, or a SCAN reply that is not
 * one: the link is closed). */
static int
read_replies(struct duet_sync *s, bool scan_asked)
{
	unsigned int q;
	redisReply *r;
	size_t i, n;

	for (q = 0; q < s->n_pages; q++) {
		struct sync_load_page *p = &s->load_q[q];

		if (p->stage == SYNC_LOAD_COMPLETE)
			continue;
		for (i = 0, n = page_keys(p); i < n; i++) {
			struct sync_load_entry *e = &p->e[i];

			if (!entry_asked(p, i))
				continue;
			r = duet_redis_get_reply(&s->r);
			if (r == NULL)
				return -1;
			e->rec = r;
			if (!e->want_st)
				continue;
			r = duet_redis_get_reply(&s->r);
			if (r == NULL)
				return -1;
			e->st = r;
		}
		p->stage = SYNC_LOAD_COMPLETE;
	}
	if (!scan_asked)
		return 0;
	r = duet_redis_get_reply(&s->r);
	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || reply_cstr(r->element[0]) == NULL ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		SYNC_LOG(ERR, "unexpected SCAN reply: %s\n",
			 r->type == REDIS_REPLY_ERROR ? r->str : "not [cursor, keys]");
		freeReplyObject(r);
		duet_redis_close(&s->r);
		return -1;
	}
	snprintf(s->cursor, sizeof(s->cursor), "%s", r->element[0]->str);
	s->scan_done = strcmp(s->cursor, "0") == 0;
	if (r->element[1]->elements == 0) {
		freeReplyObject(r);
		return 0;
	}
	n = r->element[1]->elements;
	if (page_push(s, r) != 0) {
		freeReplyObject(r);
		SYNC_LOG(ERR, "no room for a SCAN page of %zu keys\n", n);
		duet_redis_close(&s->r);
		return -1;
	}
	return 0;
}

/*
 * One round trip: ask for the next SCAN page, the records of the page it
 * gave before and the stats hashes that page's keyed records need, then
 * apply the oldest complete page while Redis works on them, then read.
 * So Redis and the table's writer work at once, and a poll costs one
 * page's apply and one page's replies: nothing is left in flight, so the
 * heartbeat, the lease and queued writes share the link between polls.
 */
void
sync_step_load(struct duet_sync *s)
{
	bool scan_asked;
	long n_cmd;

	n_cmd = ask(s, &scan_asked);
	if (n_cmd < 0)
		goto err_link;
	while (s->n_pages > 0 && s->load_q[0].stage == SYNC_LOAD_COMPLETE) {
		apply_page(s, &s->load_q[0]);
		page_pop(s);
	}
	if (n_cmd > 0 && read_replies(s, scan_asked) != 0)
		goto err_link;
	if (s->scan_done && s->n_pages == 0)
		finish_load(s);
	return;

err_link:
	sync_load_drop(s);
	sync_link_down(s, "SCAN and HGETALL of pairs");
}
