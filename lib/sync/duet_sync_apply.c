/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_sync, applying pair records to the table: one HGETALL reply is
 * parsed (duet_contract), then put into the pair table, or the pair is
 * deleted or the record rejected; a pair that changes endpoints or mode is
 * reported ended and replaced; a pair a load installs continues what its
 * stats hash says it ran with before (SRTP streams, accounting). The SRTP
 * keys of every reply are wiped once read. Runs on duetd's control thread
 * inside duet_sync_poll(), called by the load and the events follower
 * (duet_sync_load.c, duet_sync_follow.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duet_secure_zero.h"
#include "sync_internal.h"

#define FIELDS_ON_STACK 32


static void
reject(struct duet_sync *s, const char *id, const char *why)
{
	s->rejected++;
	/* The hash is the truth: a live pair whose record turned invalid
	 * must not keep running on the old record. */
	if (duet_pair_find(s->t, id) >= 0)
		sync_pair_end(s, id, s->now_ms, "replaced", false);
	sync_pair_rejected(s, id, why, s->now_ms);
	SYNC_LOG(WARNING, "pair %s rejected: %s\n", id, why);
}

void
sync_apply_del(struct duet_sync *s, const char *id)
{
	if (sync_pair_end(s, id, s->now_ms, "deleted", false) == 0)
		SYNC_LOG(DEBUG, "pair %s deleted\n", id);
}

static void apply_spec(struct duet_sync *s, const char *id, const struct duet_pair_spec *spec);

static void
apply_put(struct duet_sync *s, const char *id, const struct duet_contract_field *f, size_t n)
{
	char why[DUET_CONTRACT_WHY_MAX];
	struct duet_pair_spec spec;

	if (duet_contract_parse_pair(id, f, n, s->conf, &spec, why, sizeof(why)) != 0) {
		reject(s, id, why);
		return;
	}
	apply_spec(s, id, &spec);
	/* SRTP keys: the table made its own sessions; no copy stays here. */
	duet_secure_zero(spec.key, sizeof(spec.key));
}

/*
 * spec's endpoints are taken by other pairs that must give them up:
 * - claim: a load's retry met a record duetd was running before a restart,
 *   and the scan gave its endpoints to other records first; those came
 *   later (they were refused then), so they are refused again now;
 * - otherwise only pairs held by the safety valve yield: their records
 *   are gone from Redis, and a record that is there wins.
 * @return the number of pairs that gave way.
 */
static int
take_back(struct duet_sync *s, const struct duet_pair_spec *spec, bool claim)
{
	char owner[DUET_PAIR_ID_MAX + 1], why[DUET_CONTRACT_WHY_MAX], ep[DUET_ADDR_STRLEN];
	unsigned int k, leg;
	int slot, n = 0;

	for (k = 0; k < 2; k++) {
		slot = duet_pair_find_endpoint(s->t, &spec->ep[k], &leg);
		if (slot < 0)
			continue;
		snprintf(owner, sizeof(owner), "%s", duet_pair_id_of(s->t, (uint32_t)slot));
		if (strcmp(owner, spec->id) == 0)
			continue;
		if (claim) {
			duet_addr_format(&spec->ep[k], ep, sizeof(ep));
			snprintf(why, sizeof(why), "endpoint %s of leg %c is used by another pair",
				 ep, 'a' + leg);
			reject(s, owner, why);
		} else if ((uint32_t)slot < s->capacity && s->book[slot].held) {
			SYNC_LOG(INFO, "held pair %s gives its endpoints to pair %s\n", owner,
				 spec->id);
			s->claiming = spec;
			sync_pair_end(s, owner, s->now_ms, "deleted", false);
			s->claiming = NULL;
		} else {
			continue;
		}
		n++;
	}
	return n;
}

/* Keep id to apply again once a slot frees (its record stays in Redis and
 * no new event may come for it). */
static void
wait_for_slot(struct duet_sync *s, const char *id)
{
	uint32_t i;

	for (i = 0; i < s->n_full_wait; i++)
		if (strcmp(s->full_wait[(s->full_head + i) % SYNC_FULL_WAIT_MAX], id) == 0)
			return;
	if (s->n_full_wait == SYNC_FULL_WAIT_MAX) {
		s->full_wait_lost++;
		return;
	}
	snprintf(s->full_wait[(s->full_head + s->n_full_wait) % SYNC_FULL_WAIT_MAX],
		 sizeof(s->full_wait[0]), "%s", id);
	s->n_full_wait++;
}

#define FULL_RETRY_PER_POLL 16

void
sync_apply_waiting(struct duet_sync *s)
{
	char key[DUET_REDIS_KEY_MAX], id[DUET_PAIR_ID_MAX + 1];
	const char *hget[2] = {"HGETALL", key};
	unsigned int done = 0;
	redisReply *r;

	while (s->n_full_wait > 0 && done++ < FULL_RETRY_PER_POLL &&
	       duet_pair_count(s->t) < duet_pair_capacity(s->t)) {
		snprintf(id, sizeof(id), "%s", s->full_wait[s->full_head]);
		s->full_head = (s->full_head + 1) % SYNC_FULL_WAIT_MAX;
		s->n_full_wait--;
		if (duet_pair_find(s->t, id) >= 0 ||
		    duet_redis_key(key, sizeof(key), s->conf->relay_id, "pair:", id) != 0)
			continue;
		r = duet_redis_command(&s->r, 2, hget, NULL);
		if (r == NULL) {
			wait_for_slot(s, id); /* the next link tries again */
			sync_link_down(s, "HGETALL of a waiting pair");
			return;
		}
		/* Gone meanwhile: nothing to do (no pair of that id is live). */
		if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
			SYNC_LOG(INFO, "pair %s: a slot is free, applying its record\n", id);
			sync_apply_record(s, id, r);
		}
		freeReplyObject(r);
	}
}

/* Whether the stats hash a load read (rs) was written for spec's pair and
 * not for an earlier one of its id: the same mode and endpoints, what the
 * contract keeps a pair by (another mode or endpoint replaces it). */
static bool
same_pair(const struct sync_resume *rs, const struct duet_pair_spec *spec)
{
	return rs->mode == spec->mode && duet_addr_equal(&rs->ep[0], &spec->ep[0]) &&
	       duet_addr_equal(&rs->ep[1], &spec->ep[1]);
}

/* duet_pair_put, continuing what a load read of the record's stats hash
 * (s->resume): the SRTP streams, and created_ms and the counters when the
 * hash was this pair's. */
static int
put(struct duet_sync *s, const struct duet_pair_spec *spec, struct duet_pair_put_result *res,
    char *why, size_t whylen)
{
	struct duet_pair_resume rs;
	bool counted;
	int rc;

	if (s->resume == NULL)
		return duet_pair_put(s->t, spec, s->now_ms, res, why, whylen);
	rs = s->resume->put;
	counted = s->resume->counted && same_pair(s->resume, spec);
	if (!counted)
		rs.created_ms = 0;
	if (s->resume->counted && !counted)
		SYNC_LOG(DEBUG, "pair %s: stats hash of an earlier pair of this id, not continued\n",
			 spec->id);
	rc = duet_pair_put_resume(s->t, spec, &rs, s->now_ms, res, why, whylen);
	if (counted && (rc == 0 || rc == 2)) {
		s->resumed++;
		SYNC_LOG(DEBUG, "pair %s: accounting continued from created_ms %" PRIu64 "\n",
			 spec->id, rs.created_ms);
	}
	if (rc >= 0 && res->srtp_restored > 0) {
		s->srtp_restored++;
		SYNC_LOG(DEBUG, "pair %s: %u SRTP stream states continued, %u skipped\n",
			 spec->id, res->srtp_restored, res->srtp_skipped);
	} else if (rc >= 0 && res->srtp_skipped > 0) {
		SYNC_LOG(WARNING, "pair %s: %u SRTP stream states did not apply\n", spec->id,
			 res->srtp_skipped);
	}
	return rc;
}

static void
apply_spec(struct duet_sync *s, const char *id, const struct duet_pair_spec *spec)
{
	char why[DUET_CONTRACT_WHY_MAX];
	struct duet_pair_put_result res;
	int old_slot, rc;

	rc = put(s, spec, &res, why, sizeof(why));
	/* The put looked the id up already (before anything changed). */
	old_slot = res.old_slot;
	if (rc == -EEXIST && take_back(s, spec, s->retry_claims) > 0)
		rc = put(s, spec, &res, why, sizeof(why));
	if (rc == -EEXIST && s->phase == SYNC_PHASE_LOAD && !s->retry_final &&
	    s->n_retry < s->capacity) {
		/* During a load the owner of the endpoint may be a pair that
		 * the load will delete or move later: try again at its end.
		 * The old incarnation of this id keeps running till then. */
		memmove(s->retry[s->n_retry++], id, strlen(id) + 1);
		if (old_slot >= 0 && (uint32_t)old_slot < s->capacity)
			s->book[old_slot].seen_gen = s->load_gen;
		return;
	}
	if (rc < 0) {
		reject(s, id, why);
		if (rc == -ENOSPC)
			wait_for_slot(s, id);
		return;
	}
	if (rc == 2) {
		/* The put ended the old pair: report it with its figures as
		 * the table took them at the end. */
		if ((uint32_t)old_slot != res.slot)
			sync_book_clear(s, (uint32_t)old_slot);
		sync_pair_ended(s, &res.replaced, "replaced", false);
	}
	if (rc == 0 || rc == 2) {
		sync_book_clear(s, res.slot);
		sync_pair_fresh(s, res.slot);
		SYNC_LOG(DEBUG, "pair %s %s\n", id, rc == 0 ? "added" : "replaced");
	}
	if (res.slot < s->capacity) {
		s->book[res.slot].seen_gen = s->load_gen;
		sync_book_unhold(s, res.slot);
	}
}

void
sync_wipe_key_values(const redisReply *r)
{
	size_t i;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *k = r->element[i], *v = r->element[i + 1];

		/* Counted bytes: a field name from Redis may hold a NUL. */
		if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
		    duet_key_field_index(k->str, k->len) >= 0)
			duet_secure_zero(v->str, v->len);
	}
}

void
sync_apply_record(struct duet_sync *s, const char *id, const redisReply *r)
{
	struct duet_contract_field stack[FIELDS_ON_STACK], *f = stack;
	char why[DUET_CONTRACT_WHY_MAX], q[64];
	size_t i, n;

	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof(why), "pair key is not a hash (%s)",
			 duet_contract_quote(r->str, q, sizeof(q)));
		reject(s, id, why);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
		/* The hash is gone: a put for it means delete. */
		sync_apply_del(s, id);
		return;
	}
	n = r->elements / 2;
	if (n > FIELDS_ON_STACK) {
		f = malloc(n * sizeof(*f));
		if (f == NULL) {
			SYNC_LOG(ERR, "pair %s not applied: out of memory\n", id);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		const redisReply *k = r->element[2 * i], *v = r->element[2 * i + 1];

		f[i].name = reply_cstr(k);
		f[i].value = reply_cstr(v);
		if (f[i].name != NULL && f[i].value == NULL) {
			snprintf(why, sizeof(why), "field %s: value is not text (NUL byte)",
				 duet_contract_quote(f[i].name, q, sizeof(q)));
			reject(s, id, why);
			goto out;
		}
	}
	apply_put(s, id, f, n);
out:
	sync_wipe_key_values(r);
	if (f != stack)
		free(f);
}
