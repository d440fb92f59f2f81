/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_sync's per-pair stats hashes (docs/redis-contract.md, "Written by
 * duetd"): reading a live pair's figures from the table, the fingerprint
 * that tells whether they moved since the hash was last written, the HSET
 * that writes them, and the periodic rounds: fresh pairs first, then every
 * pair whose figures moved, with the relay heartbeat at the start of each
 * round. Runs on duetd's control thread inside duet_sync_poll(). Stats are
 * only sent while connected (the next round carries fresher figures
 * anyway); nothing written here holds a client address.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>

#include "sync_internal.h"

#define STATS_SLOTS_PER_POLL 8192 /* table slots a stats round visits per poll */
#define FRESH_PER_POLL 4096	  /* fresh pairs' stats hashes written per poll */
/* The same with short slices (duet_sync_set_short_slices): each poll is
 * tens of microseconds of work, and the caller yields the CPU between. */
#define SHORT_STATS_SLOTS 512
#define SHORT_STATS_WRITES 16
#define SHORT_FRESH 16

/* ---- SRTP stream states (keyed pairs) ---- */

/*
 * HSET the stats hash's key lifetime fields of a keyed pair: for each key
 * its mode takes, `<key>_left` (packets it may still take) and
 * `<key>_expired` (packets refused past its lifetime: the control plane
 * rotates the key when this is above 0), from the figures f read.
 */
static void
srtp_key_fields(struct sync_cmd *c, uint8_t mode, const struct sync_pair_figures *f)
{
	char name[40];
	unsigned int k;

	for (k = 0; k < DUET_KEY_COUNT; k++) {
		if (!duet_mode_takes_key(mode, k) || !(f->key_mask & (1 << k)))
			continue;
		snprintf(name, sizeof(name), "%s_left", duet_key_field(k));
		sync_cmd_str(c, name);
		sync_cmd_u64(c, f->keys[k].left);
		snprintf(name, sizeof(name), "%s_expired", duet_key_field(k));
		sync_cmd_str(c, name);
		sync_cmd_u64(c, f->keys[k].expired);
	}
}

/*
 * HSET the stats hash's a_srtp_in, ... with how far each SRTP stream of a
 * keyed pair got (not secret: SSRC, ROC, sequence, SRTCP index), so that a
 * restarted duetd continues the streams (duet_pair_put_restore) instead of
 * starting them at ROC 0 with an empty replay window, and the key lifetime
 * fields (srtp_key_fields). Written with every stats write of the pair,
 * which its traffic, any ROC change (the fingerprint holds the change
 * count) and any key use trigger. @return 0, or -1 after the link went
 * down.
 */
static int
append_srtp_state(struct duet_sync *s, uint32_t slot, uint8_t mode, const char *key,
		  const struct sync_pair_figures *f, unsigned int *n)
{
	struct duet_srtp_stream_state st[DUET_PAIR_SRTP_STATES_MAX];
	char buf[DUET_RECORD_SRTP_TEXT_MAX + 1];
	struct sync_cmd c;
	unsigned int k;
	int m;

	m = duet_pair_srtp_state(s->t, slot, st, DUET_PAIR_SRTP_STATES_MAX, NULL);
	sync_cmd_key_op(&c, "HSET", key);
	srtp_key_fields(&c, mode, f);
	/* Streams busy or gone: the next write carries them. */
	for (k = 0; k < DUET_KEY_COUNT && m >= 0; k++) {
		if (!duet_mode_takes_key(mode, k) ||
		    duet_record_srtp_format(st, (unsigned int)m, k, buf, sizeof(buf)) < 0)
			continue;
		sync_cmd_str(&c, duet_record_srtp_field(k));
		sync_cmd_str(&c, buf);
	}
	if (c.argc <= 2)
		return 0;
	return sync_cmd_append(s, &c, n);
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
sync_pair_figures_read(const struct duet_sync *s, uint32_t slot, uint64_t now_ms,
		       struct sync_pair_figures *f)
{
	struct duet_addr client;
	unsigned int k;

	for (k = 0; k < 2; k++) {
		uint64_t tsc = duet_pair_last_rx_tsc(s->t, slot, k);

		duet_pair_counters(s->t, slot, k, &f->leg[k]);
		duet_pair_rtp(s->t, slot, k, &f->rtp[k]);
		/* The address itself is read and dropped here: only whether
		 * the leg has one leaves this function. */
		f->latched[k] = duet_pair_leg_client(s->t, slot, k, &client) ? 1 : 0;
		f->last_ms[k] = tsc != 0 ? tsc_to_unix_ms(s, tsc, now_ms) : 0;
	}
	f->srtp_gen = duet_pair_srtp_gen(s->t, slot);
	f->key_mask = duet_pair_srtp_key_use(s->t, slot, f->keys);
	if (f->key_mask < 0)
		f->key_mask = 0;
}

void
sync_pair_figures_of_final(const struct duet_sync *s, const struct duet_pair_final *fin,
			   struct sync_pair_figures *f)
{
	unsigned int k;

	f->srtp_gen = 0;
	f->key_mask = 0;
	memset(f->keys, 0, sizeof(f->keys));
	for (k = 0; k < 2; k++) {
		f->leg[k] = fin->leg[k];
		f->rtp[k] = fin->rtp[k];
		f->latched[k] = fin->latched[k];
		f->last_ms[k] = fin->last_rx_tsc[k] != 0
					? tsc_to_unix_ms(s, fin->last_rx_tsc[k], fin->ended_ms)
					: 0;
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
figures_fingerprint(const struct sync_pair_figures *f)
{
	uint64_t h = 0x243f6a8885a308d3ull;

	RTE_BUILD_BUG_ON(sizeof(f->leg) % 8 != 0 || sizeof(f->rtp) % 8 != 0 ||
			 sizeof(f->keys) % 8 != 0);
	h = fp_words(h, f->leg, sizeof(f->leg));
	h = fp_words(h, f->rtp, sizeof(f->rtp));
	h = fp_words(h, f->keys, sizeof(f->keys));
	return fp_mix(h, (uint64_t)f->latched[0] | (uint64_t)f->latched[1] << 8 |
				 (uint64_t)f->srtp_gen << 16);
}

int
sync_stats_key(const struct duet_sync *s, const char *id, char *key, size_t len)
{
	return duet_redis_key(key, len, s->conf->relay_id, "stats:", id);
}

/* HSET stats:<id> with every field of a pair (state and reason given). */
void
sync_stats_cmd(struct sync_cmd *c, const char *key, const char *state, const char *reason,
	       uint8_t mode, const struct duet_addr ep[2], uint64_t created_ms,
	       uint64_t updated_ms, const struct sync_pair_figures *f)
{
	static const char *const leg_name[2] = {"a_", "b_"};
	char name[40], addr[DUET_ADDR_STRLEN];
	const char *mode_name = duet_mode_name(mode);
	unsigned int k;

	sync_cmd_init(c);
	sync_cmd_str(c, "HSET");
	sync_cmd_str(c, key);
	sync_cmd_str(c, "state");
	sync_cmd_str(c, state);
	if (reason != NULL) {
		sync_cmd_str(c, "reason");
		sync_cmd_str(c, reason);
	}
	sync_cmd_str(c, "mode");
	sync_cmd_str(c, mode_name != NULL ? mode_name : "unknown");
	/* The relay endpoints (never a client's address): with mode, what
	 * tells this pair from an earlier one of its id, so that a restarted
	 * duetd continues the accounting of this one only. */
	for (k = 0; k < 2; k++) {
		if (duet_addr_format(&ep[k], addr, sizeof(addr)) != 0)
			continue;
		sync_cmd_str(c, k == 0 ? DUET_FIELD_A : DUET_FIELD_B);
		sync_cmd_str(c, addr);
	}
	sync_cmd_str(c, "created_ms");
	sync_cmd_u64(c, created_ms);
	sync_cmd_str(c, "updated_ms");
	sync_cmd_u64(c, updated_ms);
	for (k = 0; k < 2; k++) {
#define LEG_FIELD(suffix, value)                                                   \
	do {                                                                       \
		snprintf(name, sizeof(name), "%s%s", leg_name[k], suffix);         \
		sync_cmd_str(c, name);                                                  \
		sync_cmd_u64(c, value);                                                 \
	} while (0)
		snprintf(name, sizeof(name), "%sstate", leg_name[k]);
		sync_cmd_str(c, name);
		sync_cmd_str(c, f->latched[k] ? "latched" : "waiting");
#define COUNTER_FIELD(member) LEG_FIELD(#member, f->leg[k].member);
		SYNC_LEG_COUNTERS(COUNTER_FIELD)
#undef COUNTER_FIELD
		LEG_FIELD("rtp_expected", duet_rtp_leg_expected(&f->rtp[k]));
		LEG_FIELD("rtp_lost", duet_rtp_leg_lost(&f->rtp[k]));
		LEG_FIELD("rtp_reordered", f->rtp[k].reordered);
		LEG_FIELD("jitter_us", duet_rtp_leg_jitter_us(&f->rtp[k]));
		LEG_FIELD("last_ms", f->last_ms[k]);
#undef LEG_FIELD
	}
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

/* ---- stats hashes ---- */

/* Queue the stats hash of live slot, counting the commands in *n; fresh
 * pairs also lose an old reason and TTL (a rejected or ended record of the
 * same id). @return 0, or -1 after the link went down. */
static int
append_pair_stats(struct duet_sync *s, uint32_t slot, uint64_t now_ms, unsigned int *n)
{
	struct sync_pair_book *b = &s->book[slot];
	char key[DUET_REDIS_KEY_MAX];
	struct sync_pair_figures f;
	uint8_t mode = duet_pair_mode_of(s->t, slot);
	struct duet_addr ep[2];
	struct sync_cmd c;

	if (sync_stats_key(s, duet_pair_id_of(s->t, slot), key, sizeof(key)) != 0)
		return 0;
	sync_pair_figures_read(s, slot, now_ms, &f);
	duet_pair_leg_local(s->t, slot, 0, &ep[0]);
	duet_pair_leg_local(s->t, slot, 1, &ep[1]);
	sync_stats_cmd(&c, key, f.latched[0] && f.latched[1] ? "active" : "waiting", NULL, mode,
		       ep, duet_pair_created_ms(s->t, slot), now_ms, &f);
	if (sync_cmd_append(s, &c, n) < 0)
		return -1;
	if (mode != DUET_MODE_PASSTHROUGH && append_srtp_state(s, slot, mode, key, &f, n) < 0)
		return -1;
	if (b->fresh) {
		sync_cmd_key_op(&c, "HDEL", key);
		sync_cmd_str(&c, "reason");
		if (sync_cmd_append(s, &c, n) < 0)
			return -1;
		sync_cmd_key_op(&c, "PERSIST", key);
		if (sync_cmd_append(s, &c, n) < 0)
			return -1;
	}
	b->written = figures_fingerprint(&f);
	b->fresh = 0;
	return 0;
}

void
sync_stats_fresh(struct duet_sync *s, uint64_t now_ms)
{
	unsigned int n = 0, done = 0, budget = s->short_slices ? SHORT_FRESH : FRESH_PER_POLL;

	/* Newest first; a table loaded from Redis is written over many polls
	 * so that following events is never held up behind it. */
	while (s->n_fresh > 0 && done < budget) {
		uint32_t slot = s->fresh[--s->n_fresh];

		s->book[slot].queued = 0;
		if (!s->book[slot].fresh)
			continue;
		/* Skip a slot that died since it was queued. */
		if (duet_pair_find(s->t, duet_pair_id_of(s->t, slot)) != (int)slot)
			continue;
		done++;
		if (append_pair_stats(s, slot, now_ms, &n) < 0)
			return;
		if (n >= SYNC_PIPELINE_MAX) {
			if (sync_cmd_drain(s, n, "writing pair stats") < 0)
				return;
			n = 0;
		}
	}
	sync_cmd_drain(s, n, "writing pair stats");
}

/* Visit part of the table; write the stats of pairs whose figures moved. */
static void
stats_round_step(struct duet_sync *s, uint64_t now_ms)
{
	unsigned int n = 0, visited = 0, written = 0;
	unsigned int max_visit = s->short_slices ? SHORT_STATS_SLOTS : STATS_SLOTS_PER_POLL;
	unsigned int max_write = s->short_slices ? SHORT_STATS_WRITES : UINT32_MAX;
	struct sync_pair_figures f;
	int slot;

	/* No pair, no stats hash to write: and duet_pair_next would walk an
	 * empty table of a million slots to its end in this one slice. */
	if (duet_pair_count(s->t) == 0) {
		s->wb_running = false;
		return;
	}
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
			sync_pair_figures_read(s, (uint32_t)slot, now_ms, &f);
			if (figures_fingerprint(&f) == s->book[slot].written)
				continue;
		}
		if (append_pair_stats(s, (uint32_t)slot, now_ms, &n) < 0)
			return;
		written++;
		if (n >= SYNC_PIPELINE_MAX) {
			if (sync_cmd_drain(s, n, "writing pair stats") < 0)
				return;
			n = 0;
		}
	}
	sync_cmd_drain(s, n, "writing pair stats");
}

void
sync_stats_tick(struct duet_sync *s, uint64_t now_ms)
{
	uint32_t interval = s->conf->stats_interval_ms > 0 ? s->conf->stats_interval_ms : 1000;

	/* While a full load runs only the heartbeat is written: the pairs'
	 * stats hashes wait until the table is complete and forwarding. */
	if (s->phase == SYNC_PHASE_LOAD) {
		if (s->mono_ms >= s->next_stats_ms) {
			s->next_stats_ms = s->mono_ms + interval;
			sync_heartbeat(s, now_ms);
		}
		return;
	}
	if (!s->wb_running && s->mono_ms >= s->next_stats_ms) {
		s->next_stats_ms = s->mono_ms + interval;
		s->wb_running = true;
		s->wb_round_force = s->wb_force;
		s->wb_force = false;
		s->wb_it = 0;
		sync_heartbeat(s, now_ms);
		if (s->phase == SYNC_PHASE_DOWN)
			return;
	}
	if (s->wb_running)
		stats_round_step(s, now_ms);
}
