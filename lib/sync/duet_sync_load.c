/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_sync, the full load: SCAN + HGETALL, a page per poll (on the first
 * load after start, each record's SRTP stream states with it), then a
 * retry of records that met an endpoint conflict (a record duetd was
 * running takes its endpoints back), then the end of the load: pairs the
 * scan did not see end, unless so many would that the mass-loss safety
 * valve holds them. Runs on duetd's control thread inside duet_sync_poll().
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync_internal.h"

#define RETRY_PASSES 8 /* load retries of records that met an endpoint conflict */

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
	unsigned int k, n = 0;
	int m;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 1 + DUET_KEY_COUNT ||
	    !state_was_running(r->element[0]))
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
