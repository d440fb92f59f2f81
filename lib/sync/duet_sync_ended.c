/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_sync, ending pairs: deleting a live pair from the table and
 * reporting it (its entry on the ended stream, its final stats hash with a
 * TTL, and pair_delete.lua when duetd itself ended it), and reporting a
 * refused record (a stats hash in state rejected). Every one of these writes
 * goes through the outbox, so none is lost while Redis is away. Runs on
 * duetd's control thread inside duet_sync_poll(); apply (deleted, replaced,
 * rejected records) and expiry (idle, expired pairs) call it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync_internal.h"

/* ---- ended, rejected, fresh ---- */

/* The writes that report a pair ended (outbox): its ended entry, its final
 * stats hash with a TTL, and pair_delete.lua when duetd itself ended it.
 * Of spec only the id, mode and endpoints are read; of fin the times and
 * counters. */
static void
write_ended(struct duet_sync *s, const struct duet_pair_spec *spec,
	    const struct duet_pair_final *fin, const struct sync_pair_figures *f,
	    const char *reason, bool pair_delete)
{
	char key[DUET_REDIS_KEY_MAX], pkey[DUET_REDIS_KEY_MAX], maxlen[24];
	char ep[2][DUET_ADDR_STRLEN];
	const struct sync_pair_figures fig = *f;
	struct sync_cmd c;

	sync_cmd_init(&c);
	sync_cmd_str(&c, "XADD");
	sync_cmd_str(&c, s->key_ended);
	sync_cmd_str(&c, "MAXLEN");
	sync_cmd_str(&c, "~");
	sync_cmd_u64(&c, DUET_REDIS_ENDED_MAXLEN);
	sync_cmd_str(&c, "*");
	sync_cmd_str(&c, "id");
	sync_cmd_str(&c, spec->id);
	sync_cmd_str(&c, "reason");
	sync_cmd_str(&c, reason);
	sync_cmd_str(&c, "created_ms");
	sync_cmd_u64(&c, fin->created_ms);
	sync_cmd_str(&c, "ended_ms");
	sync_cmd_u64(&c, fin->ended_ms);
	sync_cmd_str(&c, "duration_ms");
	sync_cmd_u64(&c, fin->duration_ms);
	sync_cmd_str(&c, "a_pkts");
	sync_cmd_u64(&c, fin->leg[0].pkts);
	sync_cmd_str(&c, "a_bytes");
	sync_cmd_u64(&c, fin->leg[0].bytes);
	sync_cmd_str(&c, "b_pkts");
	sync_cmd_u64(&c, fin->leg[1].pkts);
	sync_cmd_str(&c, "b_bytes");
	sync_cmd_u64(&c, fin->leg[1].bytes);
	sync_cmd_str(&c, "a_drop_src");
	sync_cmd_u64(&c, fin->leg[0].drop_src);
	sync_cmd_str(&c, "b_drop_src");
	sync_cmd_u64(&c, fin->leg[1].drop_src);
	sync_cmd_str(&c, "a_drop_peer_unlatched");
	sync_cmd_u64(&c, fin->leg[0].drop_peer_unlatched);
	sync_cmd_str(&c, "b_drop_peer_unlatched");
	sync_cmd_u64(&c, fin->leg[1].drop_peer_unlatched);
	sync_cmd_str(&c, "a_drop_auth");
	sync_cmd_u64(&c, fin->leg[0].drop_auth);
	sync_cmd_str(&c, "b_drop_auth");
	sync_cmd_u64(&c, fin->leg[1].drop_auth);
	sync_cmd_str(&c, "a_drop_replay");
	sync_cmd_u64(&c, fin->leg[0].drop_replay);
	sync_cmd_str(&c, "b_drop_replay");
	sync_cmd_u64(&c, fin->leg[1].drop_replay);
	sync_cmd_str(&c, "a_drop_policed");
	sync_cmd_u64(&c, fin->leg[0].drop_policed);
	sync_cmd_str(&c, "b_drop_policed");
	sync_cmd_u64(&c, fin->leg[1].drop_policed);
	sync_cmd_str(&c, "a_rtp_lost");
	sync_cmd_u64(&c, duet_rtp_leg_lost(&fig.rtp[0]));
	sync_cmd_str(&c, "b_rtp_lost");
	sync_cmd_u64(&c, duet_rtp_leg_lost(&fig.rtp[1]));
	sync_cmd_str(&c, "a_jitter_us");
	sync_cmd_u64(&c, duet_rtp_leg_jitter_us(&fig.rtp[0]));
	sync_cmd_str(&c, "b_jitter_us");
	sync_cmd_u64(&c, duet_rtp_leg_jitter_us(&fig.rtp[1]));
	sync_outbox_push(s, &c, -1, 0);

	if (sync_stats_key(s, spec->id, key, sizeof(key)) == 0) {
		sync_stats_cmd(&c, key, "ended", reason, spec->mode, spec->ep, fin->created_ms,
			       fin->ended_ms, &fig);
		sync_outbox_push(s, &c, -1, 0);
		sync_cmd_key_op(&c, "EXPIRE", key);
		sync_cmd_u64(&c, DUET_SYNC_DONE_TTL_S);
		sync_outbox_push(s, &c, -1, 0);
	}

	if (pair_delete &&
	    duet_redis_key(pkey, sizeof(pkey), s->conf->relay_id, "pair:", spec->id) == 0) {
		snprintf(maxlen, sizeof(maxlen), "%u", DUET_REDIS_EVENTS_MAXLEN);
		sync_cmd_init(&c);
		sync_cmd_str(&c, s->key_free);
		sync_cmd_str(&c, s->key_alloc);
		sync_cmd_str(&c, pkey);
		sync_cmd_str(&c, s->key_events);
		sync_cmd_str(&c, spec->id);
		sync_cmd_str(&c, maxlen);
		/* Guarded: if the id was created again while this write waited
		 * (an outage), the new pair's record stays. */
		if (duet_addr_format(&spec->ep[0], ep[0], sizeof(ep[0])) == 0 &&
		    duet_addr_format(&spec->ep[1], ep[1], sizeof(ep[1])) == 0) {
			sync_cmd_str(&c, ep[0]);
			sync_cmd_str(&c, ep[1]);
		}
		sync_outbox_push(s, &c, DUET_SCRIPT_PAIR_DELETE, 4);
	}
}

/* ---- ended while Redis is away: parked, compact ---- */

/* What write_ended needs, without the spec (keys, pins) or TSC stamps. */
struct sync_parked {
	char id[DUET_PAIR_ID_MAX + 1];
	struct duet_addr ep[2]; /* for the guarded pair_delete.lua */
	uint8_t mode;
	uint8_t pair_delete;
	const char *reason; /* one of the static reason strings */
	uint64_t created_ms;
	uint64_t ended_ms;
	uint64_t duration_ms;
	struct sync_pair_figures fig;
};

/* Park one ended pair. @return 0, or -1 when it is lost (counted). */
static int
park(struct duet_sync *s, const struct duet_pair_final *fin, const struct sync_pair_figures *f,
     const char *reason, bool pair_delete)
{
	struct sync_parked *p;

	if (s->n_parked == s->parked_cap) {
		/* Grows to the table's capacity: while Redis is away nothing new
		 * is installed, so one outage ends at most that many pairs. The
		 * ring is copied out in order, its head at 0. */
		uint32_t cap = s->parked_cap == 0 ? 1024 : s->parked_cap * 2, i;
		struct sync_parked *n = NULL;

		if (cap > s->capacity)
			cap = s->capacity;
		if (cap > s->parked_cap)
			n = malloc((size_t)cap * sizeof(*n));
		if (n == NULL) {
			s->ended_lost++;
			if (!s->ended_lost_logged)
				SYNC_LOG(ERR,
					 "cannot keep more ended pairs while Redis is away (%" PRIu32
					 " kept): their ended entries are lost (heartbeat ended_lost)\n",
					 s->n_parked);
			s->ended_lost_logged = true;
			return -1;
		}
		for (i = 0; i < s->n_parked; i++)
			n[i] = s->parked[(s->parked_head + i) % s->parked_cap];
		free(s->parked);
		s->parked = n;
		s->parked_cap = cap;
		s->parked_head = 0;
	}
	p = &s->parked[(s->parked_head + s->n_parked) % s->parked_cap];
	memset(p, 0, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "%s", fin->spec.id);
	p->ep[0] = fin->spec.ep[0];
	p->ep[1] = fin->spec.ep[1];
	p->mode = (uint8_t)fin->spec.mode;
	p->pair_delete = pair_delete;
	p->reason = reason;
	p->created_ms = fin->created_ms;
	p->ended_ms = fin->ended_ms;
	p->duration_ms = fin->duration_ms;
	p->fig = *f;
	s->n_parked++;
	return 0;
}

void
sync_parked_drain(struct duet_sync *s, uint32_t budget)
{
	struct duet_pair_spec spec;
	struct duet_pair_final fin;

	while (s->n_parked > 0 && budget-- > 0 &&
	       s->ob.len + SYNC_ENDED_WRITES <= DUET_SYNC_OUTBOX_MAX) {
		const struct sync_parked *p = &s->parked[s->parked_head];

		memset(&spec, 0, sizeof(spec));
		snprintf(spec.id, sizeof(spec.id), "%s", p->id);
		spec.ep[0] = p->ep[0];
		spec.ep[1] = p->ep[1];
		spec.mode = p->mode;
		memset(&fin, 0, sizeof(fin));
		fin.created_ms = p->created_ms;
		fin.ended_ms = p->ended_ms;
		fin.duration_ms = p->duration_ms;
		memcpy(fin.leg, p->fig.leg, sizeof(fin.leg));
		write_ended(s, &spec, &fin, &p->fig, p->reason, p->pair_delete);
		s->parked_head = (s->parked_head + 1) % s->parked_cap;
		s->n_parked--;
	}
	if (s->n_parked == 0) {
		/* Empty: give the memory of a long outage back. */
		free(s->parked);
		s->parked = NULL;
		s->parked_cap = 0;
		s->parked_head = 0;
		s->ended_lost_logged = false;
	}
}

void
sync_parked_free(struct duet_sync *s)
{
	free(s->parked);
	s->parked = NULL;
	s->n_parked = s->parked_cap = s->parked_head = 0;
}

void
sync_pair_ended(struct duet_sync *s, const struct duet_pair_final *fin, const char *reason,
		bool pair_delete)
{
	struct sync_pair_figures fig;

	sync_pair_figures_of_final(s, fin, &fig);
	/* While Redis is away, or the outbox is full, the pair waits in the
	 * compact parking (in order: anything parked goes first). */
	if (s->phase == SYNC_PHASE_DOWN || s->n_parked > 0 ||
	    s->ob.len + SYNC_ENDED_WRITES > DUET_SYNC_OUTBOX_MAX) {
		park(s, fin, &fig, reason, pair_delete);
		return;
	}
	write_ended(s, &fin->spec, fin, &fig, reason, pair_delete);
}

void
sync_pair_rejected(struct duet_sync *s, const char *id, const char *why, uint64_t now_ms)
{
	char key[DUET_REDIS_KEY_MAX];
	struct sync_cmd c;

	if (sync_stats_key(s, id, key, sizeof(key)) != 0)
		return;
	/* Start from an empty hash: figures of an earlier pair with this id
	 * would read as if the rejected record had carried traffic. */
	sync_cmd_key_op(&c, "DEL", key);
	sync_outbox_push(s, &c, -1, 0);
	sync_cmd_key_op(&c, "HSET", key);
	sync_cmd_str(&c, "state");
	sync_cmd_str(&c, "rejected");
	sync_cmd_str(&c, "reason");
	sync_cmd_str(&c, why);
	sync_cmd_str(&c, "updated_ms");
	sync_cmd_u64(&c, now_ms);
	sync_outbox_push(s, &c, -1, 0);
	sync_cmd_key_op(&c, "EXPIRE", key);
	sync_cmd_u64(&c, DUET_SYNC_DONE_TTL_S);
	sync_outbox_push(s, &c, -1, 0);
}

/* A held pair ended: its record and alloc entries went with Redis's data,
 * and seeding left its endpoints out of free while it ran. They go back
 * now (endpoints_seed.lua skips any that alloc says another pair owns). */
static void
free_held_endpoints(struct duet_sync *s, const struct duet_pair_spec *spec)
{
	char ep[DUET_ADDR_STRLEN];
	const struct duet_pair_spec *cl = s->claiming;
	struct sync_cmd c;
	unsigned int k, n = 0;

	sync_cmd_init(&c);
	sync_cmd_str(&c, s->key_free);
	sync_cmd_str(&c, s->key_alloc);
	for (k = 0; k < 2; k++) {
		/* Not one that another pair of ours uses, or is about to. */
		if (duet_pair_find_endpoint(s->t, &spec->ep[k], NULL) >= 0 ||
		    (cl != NULL && (duet_addr_equal(&cl->ep[0], &spec->ep[k]) ||
				    duet_addr_equal(&cl->ep[1], &spec->ep[k]))) ||
		    duet_addr_format(&spec->ep[k], ep, sizeof(ep)) != 0)
			continue;
		sync_cmd_str(&c, ep);
		n++;
	}
	if (n > 0)
		sync_outbox_push(s, &c, DUET_SCRIPT_ENDPOINTS_SEED, 2);
}

int
sync_pair_end(struct duet_sync *s, const char *id, uint64_t now_ms, const char *reason,
	      bool pair_delete)
{
	struct duet_pair_final fin;
	bool held;
	int slot;

	slot = duet_pair_find(s->t, id);
	if (slot < 0 || duet_pair_del(s->t, id, now_ms, &fin) != 0)
		return -ENOENT;
	held = (uint32_t)slot < s->capacity && s->book[slot].held;
	sync_book_clear(s, (uint32_t)slot);
	sync_pair_ended(s, &fin, reason, pair_delete);
	if (held)
		free_held_endpoints(s, &fin.spec);
	return 0;
}
