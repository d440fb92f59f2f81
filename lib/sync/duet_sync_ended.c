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
#include <stdio.h>
#include <string.h>

#include "sync_internal.h"

/* ---- ended, rejected, fresh ---- */

void
sync_pair_ended(struct duet_sync *s, const struct duet_pair_final *fin, const char *reason,
		bool pair_delete)
{
	char key[DUET_REDIS_KEY_MAX], pkey[DUET_REDIS_KEY_MAX], maxlen[24];
	const struct duet_pair_spec *spec = &fin->spec;
	struct sync_pair_figures fig;
	struct sync_cmd c;

	sync_pair_figures_of_final(s, fin, &fig);

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
	sync_cmd_u64(&c, fin->ended_ms > fin->created_ms ? fin->ended_ms - fin->created_ms : 0);
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
		sync_stats_cmd(&c, key, "ended", reason, spec, fin->created_ms, fin->ended_ms,
			       &fig);
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
		sync_outbox_push(s, &c, DUET_SCRIPT_PAIR_DELETE, 4);
	}
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
