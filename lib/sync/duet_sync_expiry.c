/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_sync's idle and expiry rounds: a slice of the pair table per poll,
 * finding pairs whose record has expired or whose legs have been silent for
 * their idle_ms, and asking the ending code (duet_sync_ended.c) to end them.
 * Runs on duetd's control thread inside duet_sync_poll(), while Redis is
 * away too: the writes of an ended pair wait in the outbox. Also the end
 * of pairs held by the mass-loss safety valve, once the control plane
 * confirms the loss by bumping the epoch key.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "sync_internal.h"

#define CHECK_SLOTS_PER_POLL 16384 /* table slots an idle/expiry round visits per poll */
#define SHORT_CHECK_SLOTS 2048	   /* ... with short slices (duet_sync_set_short_slices) */
#define CHECK_INTERVAL_MS 100	   /* idle and expiry: rounds at least this far apart */
#define CHECK_INTERVAL_MAX_MS 1000 /* ... and at most this far apart */
#define CHECK_PAIRS_PER_MS 1000	   /* a round's period grows 1 ms per this many pairs */

/* Milliseconds since either leg last heard its client, or since the pair
 * was created when neither ever did: TSC differences, so a wall-clock step
 * changes nothing. */
static uint64_t
idle_for_ms(const struct duet_sync *s, uint32_t slot, uint64_t now_tsc)
{
	uint64_t last = 0, d;
	unsigned int k;

	for (k = 0; k < 2; k++) {
		uint64_t tsc = duet_pair_last_rx_tsc(s->t, slot, k);

		if (tsc > last)
			last = tsc;
	}
	if (last == 0)
		last = duet_pair_created_tsc(s->t, slot);
	if (last >= now_tsc || s->tsc_hz == 0)
		return 0;
	d = now_tsc - last;
	return d / s->tsc_hz * 1000 + d % s->tsc_hz * 1000 / s->tsc_hz;
}

void
sync_expiry_check(struct duet_sync *s, uint64_t now_ms)
{
	char id[DUET_PAIR_ID_MAX + 1];
	uint32_t visited = 0, budget = s->short_slices ? SHORT_CHECK_SLOTS : CHECK_SLOTS_PER_POLL;
	uint64_t now_tsc, period;
	int slot;

	/* No pair, nothing to end: and an empty table of a million slots
	 * would be walked to its end in one slice (duet_pair_next looks for
	 * the next live slot however far it is). */
	if (duet_pair_count(s->t) == 0) {
		s->check_running = false;
		return;
	}
	/* A round every CHECK_INTERVAL_MS or more, a bounded slice of the
	 * table per poll, so a million pairs never stall the control thread. */
	if (!s->check_running) {
		if (s->mono_ms < s->next_check_ms)
			return;
		/* A round reads two legs per pair, mostly cache misses: rounds
		 * grow further apart with the table, so that they cost the
		 * control thread about the same share at any size (100 ms up
		 * to 100,000 pairs, 1 s from 1,000,000). */
		period = duet_pair_count(s->t) / CHECK_PAIRS_PER_MS;
		period = RTE_MAX(period, (uint64_t)CHECK_INTERVAL_MS);
		s->next_check_ms = s->mono_ms + RTE_MIN(period, (uint64_t)CHECK_INTERVAL_MAX_MS);
		s->check_running = true;
		s->check_it = 0;
	}
	now_tsc = rte_get_tsc_cycles();
	while (visited < budget) {
		uint32_t before = s->check_it, idle_ms;
		const char *reason = NULL;
		uint64_t expires;

		slot = duet_pair_next(s->t, &s->check_it);
		visited += s->check_it - before;
		if (slot < 0) {
			s->check_running = false;
			break;
		}
		duet_pair_timers(s->t, (uint32_t)slot, &idle_ms, &expires);
		if (expires != 0 && now_ms / 1000 >= expires)
			reason = "expired";
		else if (idle_ms != 0 && idle_for_ms(s, (uint32_t)slot, now_tsc) >= idle_ms)
			reason = "idle";
		if (reason == NULL)
			continue;
		snprintf(id, sizeof(id), "%s", duet_pair_id_of(s->t, (uint32_t)slot));
		if (sync_pair_end(s, id, now_ms, reason, true) == 0)
			SYNC_LOG(INFO, "pair %s ended: %s\n", id, reason);
	}
}

#define EPOCH_CHECK_MS 500 /* held pairs: how often the epoch key is read */

void
sync_held_check(struct duet_sync *s, uint64_t now_ms)
{
	const char *argv[2] = {"GET", s->key_epoch};
	char id[DUET_PAIR_ID_MAX + 1];
	uint64_t epoch;
	uint32_t it = 0, ended = 0;
	redisReply *r;
	int slot;

	if (s->n_held == 0 || s->mono_ms < s->next_epoch_ms)
		return;
	s->next_epoch_ms = s->mono_ms + EPOCH_CHECK_MS;
	r = duet_redis_command(&s->r, 2, argv, NULL);
	if (r == NULL) {
		sync_link_down(s, "GET of the epoch");
		return;
	}
	epoch = reply_cstr(r) != NULL ? strtoull(r->str, NULL, 10) : 0;
	freeReplyObject(r);
	if (epoch <= s->held_epoch)
		return;
	/* Confirmed: the held pairs are gone for the control plane too. */
	while (s->n_held > 0 && (slot = duet_pair_next(s->t, &it)) >= 0) {
		if ((uint32_t)slot >= s->capacity || !s->book[slot].held)
			continue;
		snprintf(id, sizeof(id), "%s", duet_pair_id_of(s->t, (uint32_t)slot));
		if (sync_pair_end(s, id, now_ms, "deleted", false) == 0)
			ended++;
	}
	s->n_held = 0;
	SYNC_LOG(INFO, "epoch %" PRIu64 " confirms the loss: %" PRIu32 " held pairs ended\n",
		 epoch, ended);
}
