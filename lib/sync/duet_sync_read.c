/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_sync, the reading side: the full load (SCAN + HGETALL, a page per
 * poll, then a retry of records that met an endpoint conflict) and following
 * the events stream (XREAD + XINFO, then HGETALL of every entry's pair in
 * one round trip), keeping the stream position that a reconnect resumes from. Runs on
 * duetd's control thread inside duet_sync_poll(). Redis replies are turned
 * into plain fields here and in duet_sync_apply.c; only duet_contract and
 * duet_pair see the result.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "sync_internal.h"

#define EVENT_ERROR_PAUSE_MS 1000
#define RETRY_PASSES 8 /* load retries of records that met an endpoint conflict */
#define EVENT_FIELDS_MAX 32 /* fields an events entry may carry */

/* One more entry read: our position moves to it, and it is one more of
 * the entries ever added to the stream. */
static void
set_last_id(struct duet_sync *s, const char *id, const struct duet_contract_stream_id *parsed)
{
	snprintf(s->last_id, sizeof(s->last_id), "%s", id);
	s->pos.id = *parsed;
	s->pos.added++;
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
	s->n_retry = 0;
	snprintf(s->cursor, sizeof(s->cursor), "0");
	s->phase = SYNC_PHASE_LOAD;
}

void
sync_parse_stream_info(const redisReply *r, struct duet_contract_stream_info *info)
{
	size_t i;

	memset(info, 0, sizeof(*info));
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return; /* "no such key" */
	info->exists = true;
	for (i = 0; i + 1 < r->elements; i += 2) {
		const char *k = reply_cstr(r->element[i]);
		const redisReply *v = r->element[i + 1];

		if (k == NULL)
			continue;
		if (strcmp(k, "length") == 0 && v->type == REDIS_REPLY_INTEGER) {
			info->length = (uint64_t)v->integer;
		} else if (strcmp(k, "entries-added") == 0 && v->type == REDIS_REPLY_INTEGER) {
			info->has_entries_added = true;
			info->entries_added = (uint64_t)v->integer;
		} else if (strcmp(k, "last-generated-id") == 0 && reply_cstr(v) != NULL) {
			duet_contract_stream_id_parse(v->str, &info->last_generated);
		} else if (strcmp(k, "max-deleted-entry-id") == 0 && reply_cstr(v) != NULL) {
			info->has_max_deleted =
				duet_contract_stream_id_parse(v->str, &info->max_deleted) == 0;
		} else if (strcmp(k, "first-entry") == 0 && v->type == REDIS_REPLY_ARRAY &&
			   v->elements >= 1 && reply_cstr(v->element[0]) != NULL) {
			info->has_first =
				duet_contract_stream_id_parse(v->element[0]->str, &info->first) == 0;
		}
	}
}

/*
 * The table is current: follow the events stream, unless this link has not
 * seeded the free set yet, which is done first (events that come meanwhile
 * wait in the stream: none is lost).
 */
void
sync_enter_follow(struct duet_sync *s)
{
	if (s->seed_pending) {
		s->seed_pending = false;
		s->seeding = true;
		s->seed_next = 0;
		s->phase = SYNC_PHASE_SEED;
		return;
	}
	s->phase = SYNC_PHASE_FOLLOW;
}

/* ---- phase: full load ---- */

/* Whether a stats state says duetd was running the pair (not ended or
 * rejected): a pair whose last word from duetd was that it ran. */
static bool
state_was_running(const redisReply *r)
{
	const char *st = r != NULL ? reply_cstr(r) : NULL;

	return st != NULL && (strcmp(st, "waiting") == 0 || strcmp(st, "active") == 0);
}

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
	unsigned int pass;
	uint32_t i, n;
	redisReply *rec, *st;

	for (pass = 0; s->n_retry > 0; pass++) {
		n = s->n_retry;
		s->n_retry = 0;
		s->retry_final = pass + 1 >= RETRY_PASSES;
		for (i = 0; i < n; i++) {
			const char *hget[2] = {"HGETALL", key};
			const char *state[3] = {"HGET", skey, "state"};

			if (duet_redis_key(key, sizeof(key), s->conf->relay_id, "pair:",
					   s->retry[i]) != 0 ||
			    sync_stats_key(s, s->retry[i], skey, sizeof(skey)) != 0 ||
			    duet_redis_append(&s->r, 2, hget, NULL) != 0 ||
			    duet_redis_append(&s->r, 3, state, NULL) != 0) {
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
			s->retry_claims = state_was_running(st);
			sync_apply_record(s, s->retry[i], rec);
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
	uint32_t it = 0, unseen, installed;
	unsigned int gone = 0;
	bool hold;
	int slot;

	/* Pairs the scan did not see were deleted while we were not
	 * following (or their events were trimmed away), unless so many
	 * went at once that Redis more likely lost them. */
	unseen = count_unseen(s, &installed);
	hold = hold_unseen(s, unseen, installed);
	if (s->r.ctx == NULL)
		return; /* the link went down: the next connect loads again */
	while ((slot = duet_pair_next(s->t, &it)) >= 0) {
		if ((uint32_t)slot < s->capacity &&
		    (s->book[slot].seen_gen == s->load_gen || s->book[slot].held))
			continue;
		if (hold && (uint32_t)slot < s->capacity) {
			s->book[slot].held = 1;
			s->n_held++;
			continue;
		}
		snprintf(pair_id, sizeof(pair_id), "%s", duet_pair_spec_of(s->t, (uint32_t)slot)->id);
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
 * The first load after start continues keyed pairs' SRTP streams: with
 * each record, its stats hash's state and a_srtp_in, ... are read (HMGET
 * right after the HGETALL). What a stats hash of another life of the id
 * holds (ended, rejected) is not used; a field that does not parse is
 * logged and skipped. @return the number of states in out.
 */
static unsigned int
srtp_states_of(const char *id, const redisReply *r, struct duet_srtp_stream_state *out)
{
	char why[DUET_CONTRACT_WHY_MAX];
	const char *st;
	unsigned int k, n = 0;
	int m;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 1 + DUET_KEY_COUNT)
		return 0;
	st = reply_cstr(r->element[0]);
	if (st == NULL || (strcmp(st, "waiting") != 0 && strcmp(st, "active") != 0))
		return 0;
	for (k = 0; k < DUET_KEY_COUNT; k++) {
		const redisReply *v = r->element[1 + k];

		if (v->type != REDIS_REPLY_STRING || v->len == 0)
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

/* Whether the load reads key k's SRTP states too (the first load after
 * start, and k names a pair): skey is then its stats hash. */
static bool
with_srtp_state(const struct duet_sync *s, const redisReply *k, char *skey, size_t len)
{
	char why[DUET_CONTRACT_WHY_MAX];
	const char *id;

	if (s->full_loads > 0 || s->restore_buf == NULL)
		return false;
	id = key_to_id(s, k, why, sizeof(why));
	return id != NULL && sync_stats_key(s, id, skey, len) == 0;
}

void
sync_step_load(struct duet_sync *s)
{
	const char *argv[6] = {"SCAN", s->cursor, "MATCH",
			       s->key_pair_match, "COUNT", SYNC_SCAN_COUNT};
	char why[DUET_CONTRACT_WHY_MAX], q[64];
	redisReply *r, *keys, *rec;
	size_t i, n_sent = 0;

	r = duet_redis_command(&s->r, 6, argv, NULL);
	if (r == NULL) {
		sync_link_down(s, "SCAN of pairs");
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || reply_cstr(r->element[0]) == NULL ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		SYNC_LOG(ERR, "unexpected SCAN reply: %s\n",
			 r->type == REDIS_REPLY_ERROR ? r->str : "not [cursor, keys]");
		freeReplyObject(r);
		duet_redis_close(&s->r);
		sync_link_down(s, "SCAN of pairs");
		return;
	}
	keys = r->element[1];
	/* One round trip for the whole page. */
	for (i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];
		const char *hget[2] = {"HGETALL", k->str};
		size_t lens[2] = {7, k->len};
		char skey[DUET_REDIS_KEY_MAX];
		const char *hmget[2 + 1 + DUET_KEY_COUNT] = {
			"HMGET", skey, "state", DUET_FIELD_A_SRTP_IN, DUET_FIELD_A_SRTP_OUT,
			DUET_FIELD_B_SRTP_IN, DUET_FIELD_B_SRTP_OUT};

		if (k->type != REDIS_REPLY_STRING)
			continue;
		if (with_srtp_state(s, k, skey, sizeof(skey)) &&
		    duet_redis_append(&s->r, 2 + 1 + DUET_KEY_COUNT, hmget, NULL) != 0) {
			freeReplyObject(r);
			duet_redis_close(&s->r);
			sync_link_down(s, "HGETALL of pairs");
			return;
		}
		if (duet_redis_append(&s->r, 2, hget, lens) != 0) {
			/* Out of memory queueing: the pipeline is out of step. */
			freeReplyObject(r);
			duet_redis_close(&s->r);
			sync_link_down(s, "HGETALL of pairs");
			return;
		}
		n_sent++;
	}
	for (i = 0; i < keys->elements && n_sent > 0; i++) {
		const redisReply *k = keys->element[i];
		char skey[DUET_REDIS_KEY_MAX];
		redisReply *st = NULL;
		const char *id;

		if (k->type != REDIS_REPLY_STRING)
			continue;
		n_sent--;
		if (with_srtp_state(s, k, skey, sizeof(skey)) &&
		    (st = duet_redis_get_reply(&s->r)) == NULL) {
			freeReplyObject(r);
			sync_link_down(s, "HGETALL of pairs");
			return;
		}
		rec = duet_redis_get_reply(&s->r);
		if (rec == NULL) {
			freeReplyObject(st);
			freeReplyObject(r);
			sync_link_down(s, "HGETALL of pairs");
			return;
		}
		s->load_seen++;
		id = key_to_id(s, k, why, sizeof(why));
		if (id == NULL) {
			/* No stats hash for a key we cannot name safely. */
			s->rejected++;
			SYNC_LOG(WARNING, "pair key '%s' ignored: %s\n",
				 duet_contract_quote(k->str, q, sizeof(q)), why);
		} else {
			s->n_restore = srtp_states_of(id, st, s->restore_buf);
			s->restore = s->n_restore > 0 ? s->restore_buf : NULL;
			sync_apply_record(s, id, rec);
			s->restore = NULL;
			s->n_restore = 0;
		}
		freeReplyObject(st);
		freeReplyObject(rec);
	}
	snprintf(s->cursor, sizeof(s->cursor), "%s", r->element[0]->str);
	freeReplyObject(r);
	if (strcmp(s->cursor, "0") == 0)
		finish_load(s);
}

/* ---- phase: follow the events stream ---- */

struct event_op {
	bool valid;
	char id[DUET_PAIR_ID_MAX + 1];
};

/* The stream entries of an XREAD reply, or NULL. */
static const redisReply *
xread_entries(const redisReply *xr)
{
	const redisReply *entries = NULL;
	size_t i;

	if (xr->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (i = 0; i < xr->elements; i++) {
		const redisReply *st = xr->element[i];

		if (st->type == REDIS_REPLY_ARRAY && st->elements == 2 &&
		    st->element[1]->type == REDIS_REPLY_ARRAY)
			entries = st->element[1];
	}
	return entries;
}

/* Parse one entry into op; a malformed one is logged and left invalid. */
static void
parse_event(const redisReply *e, struct event_op *op)
{
	struct duet_contract_field f[EVENT_FIELDS_MAX];
	char why[DUET_CONTRACT_WHY_MAX];
	enum duet_contract_op kind;
	const redisReply *fv;
	size_t j, n = 0;

	memset(op, 0, sizeof(*op));
	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || reply_cstr(e->element[0]) == NULL)
		return;
	fv = e->element[1];
	if (fv->type != REDIS_REPLY_ARRAY)
		return; /* an entry deleted under us */
	if (fv->elements / 2 > EVENT_FIELDS_MAX) {
		SYNC_LOG(WARNING, "events entry %s ignored: more than %u fields\n",
			 e->element[0]->str, EVENT_FIELDS_MAX);
		return;
	}
	for (j = 0; j + 1 < fv->elements; j += 2) {
		f[n].name = reply_cstr(fv->element[j]);
		f[n].value = reply_cstr(fv->element[j + 1]);
		n++;
	}
	if (duet_contract_parse_event(f, n, &kind, op->id, why, sizeof(why)) != 0) {
		SYNC_LOG(WARNING, "events entry %s ignored: %s\n", e->element[0]->str, why);
		return;
	}
	op->valid = true;
}

/*
 * Apply the entries of an XREAD reply in order. The op only says that the
 * pair changed: its hash is read for a put and for a del alike, and is the
 * truth. A del whose hash still exists (a replayed or stale del, or a pair
 * created again under the same id) is a put; a put whose hash is gone is a
 * del.
 */
static void
apply_events(struct duet_sync *s, const redisReply *xr)
{
	struct event_op ops[DUET_SYNC_XREAD_COUNT];
	char key[DUET_REDIS_KEY_MAX];
	const char *hget[2] = {"HGETALL", key};
	const redisReply *entries = xread_entries(xr);
	size_t i, n;
	redisReply *rec;

	if (entries == NULL)
		return;
	n = entries->elements < DUET_SYNC_XREAD_COUNT ? entries->elements : DUET_SYNC_XREAD_COUNT;

	/* Parse every entry and fetch the hashes in one round trip. */
	for (i = 0; i < n; i++) {
		parse_event(entries->element[i], &ops[i]);
		if (!ops[i].valid)
			continue;
		if (duet_redis_key(key, sizeof(key), s->conf->relay_id, "pair:", ops[i].id) != 0) {
			ops[i].valid = false;
			continue;
		}
		if (duet_redis_append(&s->r, 2, hget, NULL) != 0)
			break;
	}
	if (i < n) {
		/* Out of memory queueing: the pipeline is out of step. */
		duet_redis_close(&s->r);
		sync_link_down(s, "reading events");
		return;
	}

	for (i = 0; i < n; i++) {
		const redisReply *e = entries->element[i];
		struct duet_contract_stream_id eid;

		if (ops[i].valid) {
			rec = duet_redis_get_reply(&s->r);
			if (rec == NULL) {
				sync_link_down(s, "HGETALL of an updated pair");
				return;
			}
			sync_apply_record(s, ops[i].id, rec);
			freeReplyObject(rec);
		}
		if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
		    reply_cstr(e->element[0]) != NULL &&
		    duet_contract_stream_id_parse(e->element[0]->str, &eid) == 0 &&
		    e->element[0]->len < sizeof(s->last_id))
			set_last_id(s, e->element[0]->str, &eid);
	}
}

void
sync_step_follow(struct duet_sync *s)
{
	const char *xinfo[3] = {"XINFO", "STREAM", s->key_events};
	const char *xread[9];
	struct duet_contract_stream_info info;
	char block[16];
	const char *why;
	redisReply *ri, *rx;
	uint32_t block_ms;
	int n = 0;

	if (s->mono_ms < s->events_pause_until)
		return;
	xread[n++] = "XREAD";
	xread[n++] = "COUNT";
	xread[n++] = RTE_STR(DUET_SYNC_XREAD_COUNT);
	/* Wait for news only when nothing else is waiting to be written,
	 * and well within the command timeout (BLOCK 0 would mean forever). */
	block_ms = DUET_SYNC_BLOCK_MS;
	if (s->target.timeout_ms != 0 && block_ms > s->target.timeout_ms / 2)
		block_ms = s->target.timeout_ms / 2;
	if (s->ob.len == 0 && s->n_fresh == 0 && !s->wb_running && block_ms > 0) {
		snprintf(block, sizeof(block), "%u", block_ms);
		xread[n++] = "BLOCK";
		xread[n++] = block;
	}
	xread[n++] = "STREAMS";
	xread[n++] = s->key_events;
	xread[n++] = s->last_id;

	/* XINFO after the XREAD, in the same round trip: it sees every entry
	 * the read could have missed, trimmed before it or while it was
	 * blocked (a MULTI that adds and trims wakes the read only after the
	 * trim). Checked against our position before the read. */
	if (duet_redis_append(&s->r, n, xread, NULL) != 0 ||
	    duet_redis_append(&s->r, 3, xinfo, NULL) != 0) {
		duet_redis_close(&s->r);
		sync_link_down(s, "reading events");
		return;
	}
	rx = duet_redis_get_reply(&s->r);
	if (rx == NULL) {
		sync_link_down(s, "XREAD");
		return;
	}
	ri = duet_redis_get_reply(&s->r);
	if (ri == NULL) {
		freeReplyObject(rx);
		sync_link_down(s, "XINFO");
		return;
	}
	sync_parse_stream_info(ri, &info);
	freeReplyObject(ri);
	if (!duet_contract_stream_can_resume(&info, &s->pos, &why)) {
		/* Redis may have lost the free set with the rest: seed again,
		 * then reload (follow_or_load sees need_load). What the read
		 * returned is not applied: the load reads every hash anyway. */
		SYNC_LOG(INFO, "full resync: %s\n", why);
		freeReplyObject(rx);
		s->need_load = true;
		s->seed_pending = true;
		s->seeding = false;
		snprintf(s->cursor, sizeof(s->cursor), "done");
		s->phase = SYNC_PHASE_PRUNE;
		return;
	}
	if (rx->type == REDIS_REPLY_ERROR) {
		/* E.g. the events key holds another type: do not spin on it. */
		SYNC_LOG(WARNING, "cannot read %s: %s\n", s->key_events, rx->str);
		s->events_pause_until = s->mono_ms + EVENT_ERROR_PAUSE_MS;
	} else {
		apply_events(s, rx);
	}
	freeReplyObject(rx);
}
