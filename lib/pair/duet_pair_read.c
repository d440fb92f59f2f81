/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_pair, read side for the control thread: finding pairs by id or by
 * endpoint, walking the live slots, and reading a pair's spec, legs and
 * figures (counters summed over workers, RTP loss and jitter, last-seen
 * time, whether a leg has a client). Nothing here writes the table; the
 * writers are in duet_pair.c. Control thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_pause.h>

#include "duet_pair.h"
#include "duet_pair_fp.h"
#include "pair_internal.h"

static void
sum_counters(const struct duet_pair_table *t, uint32_t leg_idx, struct duet_leg_counters *out)
{
	unsigned int w;

	memset(out, 0, sizeof(*out));
	for (w = 0; w < t->n_workers; w++) {
		const struct duet_leg_hot *h = duet_pair_hot_at(t, w, leg_idx);
		const struct duet_leg_drops *c = duet_pair_drops_at(t, w, leg_idx);

		out->pkts += __atomic_load_n(&h->pkts, __ATOMIC_RELAXED);
		out->bytes += __atomic_load_n(&h->bytes, __ATOMIC_RELAXED);
		out->drop_src += __atomic_load_n(&c->drop_src, __ATOMIC_RELAXED);
		out->drop_peer_unlatched +=
			__atomic_load_n(&c->drop_peer_unlatched, __ATOMIC_RELAXED);
		out->drop_auth += __atomic_load_n(&c->drop_auth, __ATOMIC_RELAXED);
		out->drop_replay += __atomic_load_n(&c->drop_replay, __ATOMIC_RELAXED);
		out->drop_policed += __atomic_load_n(&c->drop_policed, __ATOMIC_RELAXED);
	}
}

uint64_t
duet_pair_last_rx_tsc(const struct duet_pair_table *t, uint32_t slot, unsigned int leg)
{
	return __atomic_load_n(&t->fast[slot].last_rx_tsc[leg & 1], __ATOMIC_RELAXED);
}

/* The figures of live slot as it ends now; its keys are already wiped. */
void
pair_final_read(const struct duet_pair_table *t, uint32_t slot, uint64_t now_ms,
		struct duet_pair_final *fin)
{
	const struct duet_pair_ctl *c = &t->ctl[slot];
	struct duet_addr client;
	unsigned int k;

	memset(fin, 0, sizeof(*fin));
	duet_pair_spec_get(t, slot, &fin->spec);
	for (k = 0; k < 2; k++) {
		duet_pair_counters(t, slot, k, &fin->leg[k]);
		duet_pair_rtp(t, slot, k, &fin->rtp[k]);
		fin->last_rx_tsc[k] = duet_pair_last_rx_tsc(t, slot, k);
		/* Only whether the leg had a client leaves: not the address. */
		fin->latched[k] = duet_pair_leg_client(t, slot, k, &client) ? 1 : 0;
	}
	fin->created_ms = c->created_ms;
	fin->ended_ms = now_ms;
	fin->duration_ms = duet_clock_ms(CLOCK_MONOTONIC) - c->created_mono_ms;
}

uint32_t
duet_pair_capacity(const struct duet_pair_table *t)
{
	return t->capacity;
}

uint32_t
duet_pair_count(const struct duet_pair_table *t)
{
	return t->n_live;
}

int
pair_find_id(const struct duet_pair_table *t, const struct pair_id *k)
{
	int32_t pos = rte_hash_lookup_with_hash(t->id_hash, k->key, k->sig);

	if (pos < 0 || (uint32_t)pos >= t->n_pos)
		return -ENOENT;
	return (int)t->pos_slot[pos];
}

int
duet_pair_find(const struct duet_pair_table *t, const char *id)
{
	struct pair_id k;

	if (!pair_id_make(t, id, &k))
		return -ENOENT;
	return pair_find_id(t, &k);
}

int
duet_pair_find_endpoint(const struct duet_pair_table *t, const struct duet_addr *ep,
			unsigned int *leg)
{
	uint32_t idx;

	if (ep == NULL || !duet_pair_ep_load(pair_ep_entry(t, ep), &idx))
		return -ENOENT;
	if (leg != NULL)
		*leg = idx & 1;
	return (int)(idx >> 1);
}

int
duet_pair_next(const struct duet_pair_table *t, uint32_t *it)
{
	while (*it < t->capacity) {
		uint32_t s = (*it)++;

		if (t->ctl[s].live)
			return (int)s;
	}
	return -ENOENT;
}

const char *
duet_pair_id_of(const struct duet_pair_table *t, uint32_t slot)
{
	void *key = NULL;

	/* A dead slot's position may hold another pair's id by now. */
	if (slot >= t->capacity || !t->ctl[slot].live ||
	    rte_hash_get_key_with_position(t->id_hash, t->ctl[slot].id_pos, &key) != 0 ||
	    key == NULL)
		return "";
	return key;
}

uint8_t
duet_pair_mode_of(const struct duet_pair_table *t, uint32_t slot)
{
	return t->legs[2 * slot].mode;
}

void
duet_pair_spec_get(const struct duet_pair_table *t, uint32_t slot, struct duet_pair_spec *out)
{
	const struct duet_pair_ctl *c = &t->ctl[slot];
	unsigned int k;

	memset(out, 0, sizeof(*out));
	snprintf(out->id, sizeof(out->id), "%s", duet_pair_id_of(t, slot));
	for (k = 0; k < 2; k++) {
		const struct duet_leg *l = &t->legs[2 * slot + k];
		struct duet_leg_view v;

		duet_pair_leg_local(t, slot, k, &out->ep[k]);
		out->port_idx[k] = t->legs[2 * slot + (k ^ 1)].out_port;
		out->mode = l->mode;
		out->relatch = __atomic_load_n(&l->relatch, __ATOMIC_RELAXED);
		/* The pinned flag is set and cleared by this thread alone, so
		 * reading it needs no seqlock; the pin is the leg's client,
		 * which no worker moves while pinned. A worker may hold the
		 * leg's write side a moment (to learn a next hop): wait for it,
		 * as leg_set_pin() does. */
		if (__atomic_load_n(&l->flags, __ATOMIC_RELAXED) & DUET_LEG_F_PINNED) {
			while (!duet_leg_read(l, &v))
				rte_pause();
			out->pin[k] = v.client;
		}
	}
	out->idle_ms = c->idle_ms;
	out->expires = c->expires;
	out->max_pps = c->max_pps;
	out->max_kbps = c->max_kbps;
}

void
duet_pair_timers(const struct duet_pair_table *t, uint32_t slot, uint32_t *idle_ms,
		 uint64_t *expires)
{
	*idle_ms = t->ctl[slot].idle_ms;
	*expires = t->ctl[slot].expires;
}

uint64_t
duet_pair_created_ms(const struct duet_pair_table *t, uint32_t slot)
{
	return t->ctl[slot].created_ms;
}

uint64_t
duet_pair_created_tsc(const struct duet_pair_table *t, uint32_t slot)
{
	return t->ctl[slot].created_tsc;
}

const struct duet_leg *
duet_pair_leg(const struct duet_pair_table *t, uint32_t slot, unsigned int leg)
{
	return &t->legs[2 * slot + (leg & 1)];
}

void
duet_pair_leg_local(const struct duet_pair_table *t, uint32_t slot, unsigned int leg,
		    struct duet_addr *out)
{
	/* Leg k's endpoint is where the other leg's packets leave from. */
	const struct duet_leg *o = &t->legs[2 * slot + ((leg & 1) ^ 1)];

	*out = t->space.addrs[o->egress_addr];
	out->port = o->egress_port;
}

void
duet_pair_counters(const struct duet_pair_table *t, uint32_t slot, unsigned int leg,
		   struct duet_leg_counters *out)
{
	sum_counters(t, 2 * slot + (leg & 1), out);
}

void
duet_pair_rtp(const struct duet_pair_table *t, uint32_t slot, unsigned int leg,
	      struct duet_rtp_leg *out)
{
	duet_rtp_leg_read(duet_pair_rtp_at(t, 2 * slot + (leg & 1)), out);
}

bool
duet_pair_leg_client(const struct duet_pair_table *t, uint32_t slot, unsigned int leg,
		     struct duet_addr *client)
{
	struct duet_leg_view v;

	if (!duet_leg_read(duet_pair_leg(t, slot, leg), &v) || v.state != DUET_LEG_LATCHED)
		return false;
	*client = v.client;
	return true;
}
