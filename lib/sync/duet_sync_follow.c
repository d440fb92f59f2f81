/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_sync, following the events stream: XREAD + XINFO (a gap after every
 * read means a full reload), then HGETALL of every entry's pair in one
 * round trip, keeping the stream position that a reconnect resumes from;
 * also the stream-info parsing that decides between resuming and a
 * reload. Runs on duetd's control thread inside duet_sync_poll(). Redis
 * replies are turned into plain fields here and in duet_sync_apply.c; only
 * duet_contract and duet_pair see the result.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "sync_internal.h"

#define EVENT_ERROR_PAUSE_MS 1000
#define EVENT_FIELDS_MAX 32 /* fields an events entry may carry */

/* One more entry read: our position moves to it, and it is one more of
 * the entries ever added to the stream. */
static void
set_last_id(struct duet_sync *s, const char *id, const struct duet_contract_stream_id *parsed)
{
	snprintf(s->last_id, sizeof(s->last_id), "%s", id);
	s->pos.id = *parsed;
	s->pos.added++;
	/* The id's ms is Redis's clock at XADD: the lag includes any offset
	 * between Redis's clock and ours. */
	s->events_applied++;
	s->events_lag_ms = s->now_ms > parsed->ms ? s->now_ms - parsed->ms : 0;
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
	s->table_current = true;
	if (s->seed_pending) {
		s->seed_pending = false;
		s->seeding = true;
		s->seed_next = 0;
		s->phase = SYNC_PHASE_SEED;
		return;
	}
	s->phase = SYNC_PHASE_FOLLOW;
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
