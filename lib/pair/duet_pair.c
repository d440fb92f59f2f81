/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_pair, write side: creating and freeing the pairing table, putting
 * and deleting pairs, RCU reclaim. The control thread is the only caller of
 * everything in this file (reads are in duet_pair_read.c); workers use
 * duet_pair_fp.h.
 *
 * Deleting a pair clears both endpoint index entries, so no new packet
 * finds it, then queues the slot on an RCU defer queue. The slot is freed
 * only when every worker has reported a quiescent state since, so a worker
 * still holding a leg index from its lookup never sees the slot reused
 * under it. An endpoint itself may be given to a new pair at once: that
 * pair has another slot.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "duet_pair.h"
#include "duet_prefault.h"
#include "duet_pair_fp.h"
#include "pair_internal.h"
#include "duet_srtp.h"

/* What waits for a grace period: the slot. */
struct pair_dq_entry {
	uint32_t slot;
};


/* Pair ids are char arrays with no alignment; rte_jhash reads 32-bit words,
 * so hash an aligned copy. */
static uint32_t
id_hash_func(const void *key, uint32_t key_len, uint32_t init_val)
{
	uint32_t words[PAIR_ID_KEY_LEN / 4];

	memcpy(words, key, PAIR_ID_KEY_LEN);
	return rte_jhash_32b(words, RTE_MIN(key_len, (uint32_t)PAIR_ID_KEY_LEN) / 4, init_val);
}

static void
dq_free(void *p, void *e, unsigned int n)
{
	struct duet_pair_table *t = p;
	const struct pair_dq_entry *ent = e;
	unsigned int i;

	for (i = 0; i < n; i++) {
		memset(&t->legs[2 * ent[i].slot], 0, 2 * sizeof(struct duet_leg));
		pair_crypto_free(t->fast[ent[i].slot].crypto);
		memset(&t->fast[ent[i].slot], 0, sizeof(t->fast[0]));
		t->free_slots[t->n_free++] = ent[i].slot;
	}
}

_Static_assert(sizeof(struct duet_pair_ctl) <= 64,
	       "a pair's control record is what the legs do not hold, no more");
_Static_assert(offsetof(struct duet_pair_table, stats_stride) + sizeof(uint16_t) <=
		       RTE_CACHE_LINE_SIZE,
	       "a worker's fields of the pair table fit its first cache line");
_Static_assert(sizeof(struct duet_leg) == RTE_CACHE_LINE_SIZE,
	       "a leg is one cache line: all a packet needs to leave");
_Static_assert(DUET_PAIR_SPACE_ADDRS_MAX <= 256, "a leg's egress_addr is a byte");
_Static_assert(RTE_MAX_ETHPORTS <= 256, "a leg's out_port is a byte");
_Static_assert(sizeof(struct duet_pair_fast) == RTE_CACHE_LINE_SIZE,
	       "a pair's fast line is one cache line");

/* The space's addresses must be distinct, without port, and its range
 * ordered and without port 0. */
static bool
space_valid(const struct duet_pair_space *sp)
{
	unsigned int i, j;

	if (sp == NULL || sp->n_addrs == 0 || sp->n_addrs > DUET_PAIR_SPACE_ADDRS_MAX ||
	    sp->port_min == 0 || sp->port_min > sp->port_max)
		return false;
	for (i = 0; i < sp->n_addrs; i++) {
		if (sp->addrs[i].family != DUET_AF_INET4 &&
		    sp->addrs[i].family != DUET_AF_INET6)
			return false;
		for (j = 0; j < i; j++)
			if (duet_addr_same_ip(&sp->addrs[i], &sp->addrs[j]))
				return false;
	}
	return true;
}

size_t
duet_pair_space_bytes(const struct duet_pair_space *space)
{
	if (space == NULL || space->port_min > space->port_max)
		return 0;
	return (size_t)space->n_addrs * ((size_t)space->port_max - space->port_min + 1) *
	       sizeof(uint32_t);
}

/* Bytes from one leg's stats line to the next: the RTP statistics and a
 * pkts/bytes block per worker, in whole cache lines. */
static size_t
stats_stride(unsigned int n_workers)
{
	size_t b = sizeof(struct duet_leg_stats) + (size_t)n_workers * sizeof(struct duet_leg_hot);

	return RTE_ALIGN_CEIL(b, RTE_CACHE_LINE_SIZE);
}

size_t
duet_pair_table_bytes(uint32_t capacity, unsigned int n_workers,
		      const struct duet_pair_space *space)
{
	size_t per_pair = 2 * sizeof(struct duet_leg) + 2 * stats_stride(n_workers) +
			  (size_t)n_workers * 2 * sizeof(struct duet_leg_drops) +
			  sizeof(struct duet_pair_ctl) + sizeof(uint32_t) +
			  sizeof(struct duet_pair_fast) + sizeof(uint32_t) /* pos_slot */;

	return sizeof(struct duet_pair_table) + (size_t)capacity * per_pair +
	       duet_pair_space_bytes(space);
}

/* Burst-engine SRTP sessions (keys and streams) on DPDK's heap, as the
 * rest of the table: hugepages in duetd, so thousands of keys cost few TLB
 * entries. */
static void *
srtp_block_alloc(size_t size)
{
	return rte_malloc("duet_srtp_sess", size, RTE_CACHE_LINE_SIZE);
}

struct duet_pair_table *
duet_pair_table_create(const char *name, uint32_t capacity, unsigned int n_workers,
		       int socket_id, const struct duet_pair_space *space)
{
	struct rte_rcu_qsbr_dq_parameters dqp;
	struct rte_hash_parameters hp;
	struct duet_pair_table *t;
	char hname[RTE_HASH_NAMESIZE];
	size_t qsz, ep_b, legs_b, drops_b, ctl_b, crypto_b, stats_b;
	uint32_t i;

	if (name == NULL || capacity == 0 || capacity > (1u << 24) || n_workers == 0 ||
	    n_workers > RTE_MAX_LCORE || !space_valid(space)) {
		rte_errno = EINVAL;
		return NULL;
	}
	duet_srtp_set_alloc(srtp_block_alloc, rte_free);
	t = rte_zmalloc_socket("duet_pair_table", sizeof(*t), RTE_CACHE_LINE_SIZE, socket_id);
	if (t == NULL)
		goto err_nomem;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->capacity = capacity;
	t->n_workers = n_workers;
	t->space = *space;
	for (i = 0; i < t->space.n_addrs; i++)
		t->space.addrs[i].port = 0;
	t->ep_addrs = space->n_addrs;
	t->ep_ports = (uint32_t)space->port_max - space->port_min + 1;
	t->port_min = space->port_min;
	for (i = 0; i < t->space.n_addrs; i++)
		t->egress[i] = t->space.addrs[i];
	if (stats_stride(n_workers) > UINT16_MAX) {
		rte_errno = EINVAL;
		rte_free(t);
		return NULL;
	}
	t->stats_stride = (uint16_t)stats_stride(n_workers);
	ep_b = duet_pair_space_bytes(space);
	legs_b = (size_t)capacity * 2 * sizeof(struct duet_leg);
	drops_b = (size_t)n_workers * 2 * capacity * sizeof(struct duet_leg_drops);
	ctl_b = (size_t)capacity * sizeof(*t->ctl);
	crypto_b = (size_t)capacity * sizeof(*t->fast);
	stats_b = (size_t)capacity * 2 * t->stats_stride;
	t->ep_leg = rte_zmalloc_socket("duet_ep_leg", ep_b, RTE_CACHE_LINE_SIZE, socket_id);
	t->legs = rte_zmalloc_socket("duet_legs", legs_b, RTE_CACHE_LINE_SIZE, socket_id);
	t->drops = rte_zmalloc_socket("duet_leg_drops", drops_b, RTE_CACHE_LINE_SIZE, socket_id);
	t->ctl = rte_zmalloc_socket("duet_pair_ctl", ctl_b, 0, socket_id);
	t->free_slots = rte_malloc_socket("duet_pair_free", (size_t)capacity * sizeof(uint32_t),
					  0, socket_id);
	t->fast = rte_zmalloc_socket("duet_pair_fast", crypto_b, RTE_CACHE_LINE_SIZE, socket_id);
	t->retire = pair_retire_new();
	t->stats = rte_zmalloc_socket("duet_leg_stats", stats_b, RTE_CACHE_LINE_SIZE, socket_id);
	if (t->ep_leg == NULL || t->legs == NULL || t->drops == NULL || t->ctl == NULL ||
	    t->free_slots == NULL || t->fast == NULL || t->retire == NULL || t->stats == NULL) {
		rte_errno = ENOMEM; /* rte_malloc leaves it as it was */
		goto err_free;
	}
	/* Hand out low slots first: pop from the end. */
	for (i = 0; i < capacity; i++)
		t->free_slots[i] = capacity - 1 - i;
	t->n_free = capacity;
	/* rte_zmalloc does not clear memory it knows is zero, so nothing has
	 * touched these pages yet: map them now, not one by one under the
	 * first load of a million pairs or a worker's first packets. */
	duet_prefault(t->ep_leg, ep_b);
	duet_prefault(t->legs, legs_b);
	duet_prefault(t->drops, drops_b);
	duet_prefault(t->ctl, ctl_b);
	duet_prefault(t->fast, crypto_b);
	duet_prefault(t->stats, stats_b);

	memset(&hp, 0, sizeof(hp));
	snprintf(hname, sizeof(hname), "%s_id", name);
	hp.name = hname;
	/* An extendable bucket table, so an unlucky key distribution never
	 * refuses an insert. */
	hp.entries = capacity + 64;
	hp.key_len = PAIR_ID_KEY_LEN;
	hp.hash_func = id_hash_func;
	hp.socket_id = socket_id;
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	t->id_hash = rte_hash_create(&hp);
	if (t->id_hash == NULL)
		goto err_free;
	/* A key's position is below the hash's entries (one writer, no
	 * per-lcore key cache): the slot array it indexes. */
	t->n_pos = hp.entries;
	t->pos_slot = rte_malloc_socket("duet_pair_pos", (size_t)t->n_pos * sizeof(uint32_t), 0,
					socket_id);
	if (t->pos_slot == NULL) {
		rte_errno = ENOMEM;
		goto err_free;
	}
	duet_prefault(t->pos_slot, (size_t)t->n_pos * sizeof(uint32_t));

	qsz = rte_rcu_qsbr_get_memsize(n_workers);
	t->qsbr = rte_zmalloc_socket("duet_pair_qsbr", qsz, RTE_CACHE_LINE_SIZE, socket_id);
	if (t->qsbr == NULL) {
		rte_errno = ENOMEM;
		goto err_free;
	}
	if (rte_rcu_qsbr_init(t->qsbr, n_workers) != 0)
		goto err_free;

	memset(&dqp, 0, sizeof(dqp));
	snprintf(hname, sizeof(hname), "%s_dq", name);
	dqp.name = hname;
	dqp.size = capacity;
	dqp.esize = sizeof(struct pair_dq_entry);
	dqp.trigger_reclaim_limit = 0;
	dqp.max_reclaim_size = 256;
	dqp.free_fn = dq_free;
	dqp.p = t;
	dqp.v = t->qsbr;
	t->dq = rte_rcu_qsbr_dq_create(&dqp);
	if (t->dq == NULL)
		goto err_free;
	return t;

err_free:
	{
		int e = rte_errno != 0 ? rte_errno : ENOMEM;

		duet_pair_table_free(t);
		rte_errno = e;
	}
	return NULL;
err_nomem:
	rte_errno = ENOMEM;
	return NULL;
}

void
duet_pair_table_free(struct duet_pair_table *t)
{
	unsigned int w;

	if (t == NULL)
		return;
	/* Workers have stopped (the header requires it); take any still
	 * registered offline so the defer queue can drain and be deleted. */
	if (t->qsbr != NULL)
		for (w = 0; w < t->n_workers; w++)
			duet_pair_worker_unregister(t, w);
	if (t->dq != NULL)
		rte_rcu_qsbr_dq_delete(t->dq);
	if (t->fast != NULL)
		for (uint32_t i = 0; i < t->capacity; i++)
			pair_crypto_free(t->fast[i].crypto);
	pair_retire_free(t->retire);
	rte_free(t->fast);
	rte_free(t->stats);
	rte_hash_free(t->id_hash);
	rte_free(t->pos_slot);
	rte_free(t->qsbr);
	rte_free(t->free_slots);
	rte_free(t->ctl);
	rte_free(t->drops);
	rte_free(t->legs);
	rte_free(t->ep_leg);
	rte_free(t);
}

int
duet_pair_worker_register(struct duet_pair_table *t, unsigned int widx)
{
	int rc;

	if (widx >= t->n_workers)
		return -EINVAL;
	rc = rte_rcu_qsbr_thread_register(t->qsbr, widx);
	if (rc != 0)
		return -rte_errno;
	rte_rcu_qsbr_thread_online(t->qsbr, widx);
	return 0;
}

void
duet_pair_worker_unregister(struct duet_pair_table *t, unsigned int widx)
{
	if (widx >= t->n_workers)
		return;
	rte_rcu_qsbr_thread_offline(t->qsbr, widx);
	rte_rcu_qsbr_thread_unregister(t->qsbr, widx);
}

static int
check_spec(const struct duet_pair_spec *s, char *why, size_t whylen)
{
	size_t idlen = strnlen(s->id, sizeof(s->id));
	unsigned int k;

	if (idlen == 0 || idlen > DUET_PAIR_ID_MAX) {
		snprintf(why, whylen, "pair id empty or longer than %d bytes", DUET_PAIR_ID_MAX);
		return -EINVAL;
	}
	if (duet_mode_name(s->mode) == NULL) {
		snprintf(why, whylen, "unknown mode %u", s->mode);
		return -EINVAL;
	}
	if (duet_relatch_name(s->relatch) == NULL) {
		snprintf(why, whylen, "unknown relatch policy %u", s->relatch);
		return -EINVAL;
	}
	for (k = 0; k < 2; k++) {
		if (s->ep[k].family == DUET_AF_NONE || s->ep[k].port == 0) {
			snprintf(why, whylen, "leg %c has no endpoint", 'a' + k);
			return -EINVAL;
		}
		if (s->pin[k].family != DUET_AF_NONE && s->pin[k].port == 0) {
			snprintf(why, whylen, "leg %c pinned client has no port", 'a' + k);
			return -EINVAL;
		}
		/* A leg's family is its endpoint's: its client's 16 bytes are
		 * read in that family. */
		if (s->pin[k].family != DUET_AF_NONE && s->pin[k].family != s->ep[k].family) {
			snprintf(why, whylen, "leg %c pinned client is not of its endpoint's family",
				 'a' + k);
			return -EINVAL;
		}
	}
	if (duet_addr_equal(&s->ep[0], &s->ep[1])) {
		snprintf(why, whylen, "legs a and b have the same endpoint");
		return -EINVAL;
	}
	for (k = 0; k < DUET_KEY_COUNT; k++) {
		bool needed = duet_mode_takes_key(s->mode, k);

		if (needed && s->key[k].key_len == 0) {
			snprintf(why, whylen, "mode %s needs key %s", duet_mode_name(s->mode),
				 duet_key_field(k));
			return -EINVAL;
		}
		if (!needed && s->key[k].key_len != 0) {
			snprintf(why, whylen, "mode %s takes no key %s", duet_mode_name(s->mode),
				 duet_key_field(k));
			return -EINVAL;
		}
	}
	return 0;
}

/* Is ep owned by a pair other than self_slot (or any pair when self_slot < 0)? */
static bool
endpoint_taken(const struct duet_pair_table *t, const struct duet_addr *ep, int self_slot)
{
	const uint32_t *e = pair_ep_entry(t, ep);
	uint32_t leg;

	if (!duet_pair_ep_load(e, &leg))
		return false;
	return self_slot < 0 || (leg >> 1) != (uint32_t)self_slot;
}

/* Enter a leg's write side from the control thread. Workers hold it for a
 * few instructions at most (and never wait for this thread), so waiting
 * here is short. */
static uint32_t
leg_write_wait(struct duet_leg *l)
{
	uint32_t seq;

	while (!duet_leg_write_try(l, &seq))
		rte_pause();
	return seq;
}

/* A pin was set on leg k of slot: queue it for duet_pair_pins_take(). A
 * full queue forgets its oldest (that client's first packet teaches its
 * MAC all the same). */
static void
pin_note(struct duet_pair_table *t, uint32_t slot, unsigned int k, const struct duet_addr *pin)
{
	struct duet_pair_pin_ref *r;

	if (t->pins_n == DUET_PAIR_PINS_QUEUE) {
		t->pins_head = (t->pins_head + 1) % DUET_PAIR_PINS_QUEUE;
		t->pins_n--;
	}
	r = &t->pins[(t->pins_head + t->pins_n) % DUET_PAIR_PINS_QUEUE];
	r->slot = slot;
	r->leg = (uint8_t)k;
	r->port_idx = t->legs[2 * slot + (k ^ 1)].out_port;
	r->client = *pin;
	t->pins_n++;
}

unsigned int
duet_pair_pins_take(struct duet_pair_table *t, struct duet_pair_pin_ref *out, unsigned int max)
{
	unsigned int n = 0;

	while (n < max && t->pins_n > 0) {
		out[n++] = t->pins[t->pins_head];
		t->pins_head = (t->pins_head + 1) % DUET_PAIR_PINS_QUEUE;
		t->pins_n--;
	}
	return n;
}

/* Set or clear the pin of leg k of slot from the control thread: a new
 * pinned client is written to the leg and to the peer leg's copy, inside
 * both write sides (the leg's first, as workers take them). */
static void
leg_set_pin(struct duet_pair_table *t, uint32_t slot, unsigned int k, const struct duet_addr *pin)
{
	struct duet_leg *l = &t->legs[2 * slot + k], *peer = &t->legs[2 * slot + (k ^ 1)];
	uint32_t seq = leg_write_wait(l), pseq;
	struct duet_addr cur;

	if (pin->family != DUET_AF_NONE) {
		duet_leg_addr_(&cur, (l->flags & DUET_LEG_F_V6) != 0, l->client_ip, l->client_port);
		if (!(l->flags & DUET_LEG_F_LATCHED) || !duet_addr_equal(&cur, pin)) {
			pseq = leg_write_wait(peer);
			/* The next hop is learnt from the pinned client's first
			 * packet. */
			duet_leg_set_client(l, peer, pin, NULL);
			duet_leg_write_done(peer, pseq);
			pin_note(t, slot, k, pin);
		}
		l->flags |= DUET_LEG_F_PINNED | DUET_LEG_F_LATCHED;
	} else {
		l->flags &= (uint8_t)~DUET_LEG_F_PINNED; /* a latched client stays latched */
	}
	duet_leg_write_done(l, seq);
}

int
duet_pair_learn_hop(struct duet_pair_table *t, uint32_t slot, unsigned int leg,
		    const struct duet_addr *client, const uint8_t mac[6])
{
	struct duet_leg *l, *peer;
	struct duet_addr cur;
	uint32_t seq, pseq;

	if (slot >= t->capacity || !t->ctl[slot].live || leg > 1)
		return -ENOENT;
	l = &t->legs[2 * slot + leg];
	peer = &t->legs[2 * slot + (leg ^ 1)];
	seq = leg_write_wait(l);
	duet_leg_addr_(&cur, (l->flags & DUET_LEG_F_V6) != 0, l->client_ip, l->client_port);
	if ((l->flags & (DUET_LEG_F_PINNED | DUET_LEG_F_LATCHED)) !=
		    (DUET_LEG_F_PINNED | DUET_LEG_F_LATCHED) ||
	    (l->flags & DUET_LEG_F_HOP_MAC) || !duet_addr_same_ip(&cur, client)) {
		duet_leg_write_done(l, seq);
		return -ESTALE;
	}
	pseq = leg_write_wait(peer);
	memcpy(l->hop_mac, mac, 6);
	l->flags |= DUET_LEG_F_HOP_MAC;
	memcpy(peer->peer_mac, mac, 6);
	peer->flags |= DUET_LEG_F_PEER_MAC;
	duet_leg_write_done(peer, pseq);
	duet_leg_write_done(l, seq);
	return 0;
}

/* A record changed limits or policy in place: workers read these fields
 * while the leg is live, one relaxed word at a time. A packet between two
 * stores is policed by the old packet cost and the new byte cost, or the
 * reverse: both are limits the control plane asked for. */
static void
leg_update(struct duet_leg *l, struct duet_pair_fast *f, const struct duet_pair_spec *spec)
{
	struct duet_police_rate r;

	duet_police_rate_set(&r, rte_get_tsc_hz(), spec->max_pps, spec->max_kbps);
	__atomic_store_n(&f->rate.pkt_cost, r.pkt_cost, __ATOMIC_RELAXED);
	__atomic_store_n(&f->rate.byte_cost, r.byte_cost, __ATOMIC_RELAXED);
	if (__atomic_load_n(&l->relatch, __ATOMIC_RELAXED) != spec->relatch)
		__atomic_store_n(&l->relatch, spec->relatch, __ATOMIC_RELAXED);
}

/* Legs 2 * slot + 0/1 for a new pair, and its fast line but the SRTP
 * pointer, not yet reachable: plain stores. A full bucket to start with: a
 * TAT of 0 is in the past of any TSC below 2^63 (a century of uptime at 3
 * GHz). A leg's family is its endpoint's. */
static void
legs_init(struct duet_pair_table *t, uint32_t slot, const struct duet_pair_spec *spec)
{
	struct duet_pair_fast *f = &t->fast[slot];
	unsigned int k;

	memset(f->last_rx_tsc, 0, sizeof(f->last_rx_tsc));
	memset(f->police_tat, 0, sizeof(f->police_tat));
	duet_police_rate_set(&f->rate, rte_get_tsc_hz(), spec->max_pps, spec->max_kbps);
	for (k = 0; k < 2; k++) {
		struct duet_leg *l = &t->legs[2 * slot + k];

		memset(l, 0, sizeof(*l));
		if (spec->ep[k].family == DUET_AF_INET6)
			l->flags |= DUET_LEG_F_V6;
		if (spec->ep[k ^ 1].family == DUET_AF_INET6)
			l->flags |= DUET_LEG_F_PEER_V6;
		l->mode = spec->mode;
		l->relatch = spec->relatch;
		/* A packet arriving at leg k leaves from the other leg's
		 * endpoint. */
		l->out_port = (uint8_t)spec->port_idx[k ^ 1];
		/* Inside the space: put checked it. */
		l->egress_addr = (uint8_t)pair_space_index(t, &spec->ep[k ^ 1]);
		l->egress_port = spec->ep[k ^ 1].port;
	}
	for (k = 0; k < 2; k++) {
		if (spec->pin[k].family != DUET_AF_NONE) {
			duet_leg_set_client(&t->legs[2 * slot + k], &t->legs[2 * slot + (k ^ 1)],
					    &spec->pin[k], NULL);
			t->legs[2 * slot + k].flags |= DUET_LEG_F_PINNED;
			pin_note(t, slot, k, &spec->pin[k]);
		}
	}
}

/* What a record says that the legs do not hold (struct duet_pair_ctl). */
static void
ctl_set(struct duet_pair_ctl *c, const struct duet_pair_spec *spec)
{
	c->expires = spec->expires;
	c->idle_ms = spec->idle_ms;
	c->max_pps = spec->max_pps;
	c->max_kbps = spec->max_kbps;
}

/* Slot's pair continues a life from before a restart (rs): created then,
 * its duration counted from then (the wall-clock age now, taken off its
 * monotonic start: unsigned, so a start before the boot wraps and the
 * difference still comes out right), and worker 0's counters starting
 * from what was counted. The slot is not reachable yet: plain stores. */
static void
pair_resume(struct duet_pair_table *t, uint32_t slot, const struct duet_pair_resume *rs,
	    uint64_t now_ms)
{
	struct duet_pair_ctl *c = &t->ctl[slot];
	unsigned int k;

	if (rs == NULL || rs->created_ms == 0)
		return;
	c->created_mono_ms -= now_ms > rs->created_ms ? now_ms - rs->created_ms : 0;
	c->created_ms = rs->created_ms;
	for (k = 0; k < 2; k++) {
		struct duet_leg_hot *h = duet_pair_hot_at(t, 0, 2 * slot + k);
		struct duet_leg_drops *d = duet_pair_drops_at(t, 0, 2 * slot + k);

		h->pkts = rs->leg[k].pkts;
		h->bytes = rs->leg[k].bytes;
		d->drop_src = rs->leg[k].drop_src;
		d->drop_peer_unlatched = rs->leg[k].drop_peer_unlatched;
		d->drop_auth = rs->leg[k].drop_auth;
		d->drop_replay = rs->leg[k].drop_replay;
		d->drop_policed = rs->leg[k].drop_policed;
	}
}

/* Add spec (id as k) with its SRTP state `crypto` (made beforehand, NULL
 * for passthrough), which the table owns from here, on failure too; rs
 * (may be NULL): the life it continues. */
static int
pair_add(struct duet_pair_table *t, const struct duet_pair_spec *spec, const struct pair_id *id,
	 struct duet_pair_crypto *crypto, const struct duet_pair_resume *rs, uint64_t now_ms,
	 uint32_t *slot_out, char *why, size_t whylen)
{
	struct duet_pair_ctl *c;
	uint32_t slot;
	unsigned int k, w;
	int32_t pos;

	for (k = 0; k < 2; k++) {
		if (endpoint_taken(t, &spec->ep[k], -1)) {
			char ep[DUET_ADDR_STRLEN];

			duet_addr_format(&spec->ep[k], ep, sizeof(ep));
			snprintf(why, whylen, "endpoint %s of leg %c is used by another pair", ep,
				 'a' + k);
			pair_crypto_free(crypto);
			return -EEXIST;
		}
	}
	if (t->n_free == 0)
		duet_pair_reclaim(t);
	if (t->n_free == 0) {
		snprintf(why, whylen, "pair table full (%" PRIu32 " pairs)", t->capacity);
		pair_crypto_free(crypto);
		return -ENOSPC;
	}
	slot = t->free_slots[--t->n_free];
	c = &t->ctl[slot];
	memset(c, 0, sizeof(*c));
	/* The keys live in the crypto block only (passthrough pairs have none),
	 * endpoints, mode and pins in the legs, the id in the id hash. */
	ctl_set(c, spec);
	c->created_ms = now_ms;
	c->created_tsc = rte_get_tsc_cycles();
	c->created_mono_ms = duet_clock_ms(CLOCK_MONOTONIC);
	/* Not yet reachable: the index entries are published below. */
	t->fast[slot].crypto = crypto;
	legs_init(t, slot, spec);
	for (k = 0; k < 2; k++) {
		/* Every worker's counters of the leg start from zero. The slot
		 * came back through the RCU queue, so no worker still counts
		 * for the old pair, and publishing the endpoint (below) orders
		 * these stores before any worker's next one. */
		memset(duet_pair_stats_at(t, 2 * slot + k), 0, t->stats_stride);
		for (w = 0; w < t->n_workers; w++)
			memset(duet_pair_drops_at(t, w, 2 * slot + k), 0,
			       sizeof(struct duet_leg_drops));
	}
	pair_resume(t, slot, rs, now_ms);
	/* Where the hash keeps the id (the record's only copy of it) indexes
	 * the slot. */
	pos = rte_hash_add_key_with_hash(t->id_hash, id->key, id->sig);
	if (pos >= 0 && (uint32_t)pos >= t->n_pos) {
		rte_hash_del_key_with_hash(t->id_hash, id->key, id->sig);
		pos = -ENOSPC;
	}
	if (pos < 0) {
		pair_crypto_free(t->fast[slot].crypto);
		t->fast[slot].crypto = NULL;
		t->free_slots[t->n_free++] = slot;
		snprintf(why, whylen, "pair id hash full");
		return -ENOSPC;
	}
	t->pos_slot[pos] = slot;
	c->id_pos = pos;
	/* Publishing the index entries makes the legs visible; the release
	 * stores make every store above visible first. Both entries were
	 * checked free and inside the space before (put). */
	__atomic_store_n(pair_ep_entry(t, &spec->ep[0]), 2 * slot + 1, __ATOMIC_RELEASE);
	__atomic_store_n(pair_ep_entry(t, &spec->ep[1]), 2 * slot + 2, __ATOMIC_RELEASE);
	c->live = 1;
	t->n_live++;
	if (slot_out != NULL)
		*slot_out = slot;
	return 0;
}

/* The replace rule: same id, other endpoints or another mode. */
static bool
spec_replaces(const struct duet_pair_spec *old, const struct duet_pair_spec *spec)
{
	return !duet_addr_equal(&old->ep[0], &spec->ep[0]) ||
	       !duet_addr_equal(&old->ep[1], &spec->ep[1]) || old->mode != spec->mode;
}

/* A new pair's SRTP state, with the streams of a previous run continued
 * (duet_pair_put_restore): made, like the sessions, before anything is
 * published. */
static int
crypto_make(const struct duet_pair_table *t, const struct duet_pair_spec *spec,
	    const struct duet_srtp_stream_state *srtp, unsigned int n_srtp,
	    struct duet_pair_put_result *res, struct duet_pair_crypto **out, char *why,
	    size_t whylen)
{
	uint32_t restored = 0, skipped = n_srtp;
	int rc;

	rc = pair_crypto_new(t, spec, out, why, whylen);
	if (rc != 0)
		return rc;
	if (*out != NULL && n_srtp != 0) {
		skipped = 0;
		rc = pair_srtp_restore(*out, spec->mode, srtp, n_srtp, &restored, &skipped);
		if (rc != 0) {
			pair_crypto_free(*out);
			*out = NULL;
			snprintf(why, whylen, "no memory to restore SRTP streams");
			return rc;
		}
	}
	if (res != NULL) {
		res->srtp_restored = restored;
		res->srtp_skipped = skipped;
	}
	return 0;
}

int
duet_pair_put(struct duet_pair_table *t, const struct duet_pair_spec *spec, uint64_t now_ms,
	      struct duet_pair_put_result *res, char *why, size_t whylen)
{
	return duet_pair_put_resume(t, spec, NULL, now_ms, res, why, whylen);
}

int
duet_pair_put_restore(struct duet_pair_table *t, const struct duet_pair_spec *spec,
		      const struct duet_srtp_stream_state *srtp, unsigned int n_srtp,
		      uint64_t now_ms, struct duet_pair_put_result *res, char *why, size_t whylen)
{
	struct duet_pair_resume rs;

	memset(&rs, 0, sizeof(rs));
	rs.srtp = srtp;
	rs.n_srtp = n_srtp;
	return duet_pair_put_resume(t, spec, &rs, now_ms, res, why, whylen);
}

int
duet_pair_put_resume(struct duet_pair_table *t, const struct duet_pair_spec *spec,
		     const struct duet_pair_resume *rs, uint64_t now_ms,
		     struct duet_pair_put_result *res, char *why, size_t whylen)
{
	uint32_t *slot_out = res != NULL ? &res->slot : NULL;
	const struct duet_srtp_stream_state *srtp = rs != NULL ? rs->srtp : NULL;
	unsigned int n_srtp = srtp != NULL ? rs->n_srtp : 0;
	struct duet_pair_crypto *crypto;
	struct duet_pair_spec old;
	struct duet_pair_ctl *c;
	struct pair_id id;
	unsigned int k;
	int slot, rc;

	if (res != NULL) {
		res->srtp_restored = 0;
		res->srtp_skipped = n_srtp;
		res->old_slot = -1;
	}
	rc = check_spec(spec, why, whylen);
	if (rc != 0)
		return rc;
	for (k = 0; k < 2; k++) {
		if (pair_ep_entry(t, &spec->ep[k]) == NULL) {
			char ep[DUET_ADDR_STRLEN];

			duet_addr_format(&spec->ep[k], ep, sizeof(ep));
			snprintf(why, whylen,
				 "endpoint %s of leg %c is not a service address and media port of "
				 "this relay",
				 ep, 'a' + k);
			return -EINVAL;
		}
	}
	/* The id is hashed once for the lookup and the insert (check_spec
	 * checked its length). */
	pair_id_make(t, spec->id, &id);
	slot = pair_find_id(t, &id);
	if (res != NULL)
		res->old_slot = slot < 0 ? -1 : slot;
	if (slot < 0) {
		rc = crypto_make(t, spec, srtp, n_srtp, res, &crypto, why, whylen);
		if (rc != 0)
			return rc;
		return pair_add(t, spec, &id, crypto, rs, now_ms, slot_out, why, whylen);
	}

	c = &t->ctl[slot];
	duet_pair_spec_get(t, (uint32_t)slot, &old);
	if (!spec_replaces(&old, spec)) {
		if (t->fast[slot].crypto != NULL) {
			rc = pair_crypto_rotate(t, t->fast[slot].crypto, spec, why, whylen);
			if (rc != 0)
				return rc;
		}
		for (k = 0; k < 2; k++) {
			if (!duet_addr_equal(&old.pin[k], &spec->pin[k]))
				leg_set_pin(t, (uint32_t)slot, k, &spec->pin[k]);
			leg_update(&t->legs[2 * slot + k], &t->fast[slot], spec);
		}
		ctl_set(c, spec);
		if (slot_out != NULL)
			*slot_out = (uint32_t)slot;
		return 1;
	}
	/* Other endpoints or mode: check the new endpoints before letting go of
	 * the old pair, so a refused replacement leaves the call running. */
	for (k = 0; k < 2; k++) {
		if (endpoint_taken(t, &spec->ep[k], slot)) {
			char ep[DUET_ADDR_STRLEN];

			duet_addr_format(&spec->ep[k], ep, sizeof(ep));
			snprintf(why, whylen, "endpoint %s of leg %c is used by another pair", ep,
				 'a' + k);
			return -EEXIST;
		}
	}
	/* The old slot is only reusable after a grace period: a replacement
	 * needs another free slot now, or the old pair must keep running. */
	if (t->n_free == 0)
		duet_pair_reclaim(t);
	if (t->n_free == 0) {
		snprintf(why, whylen, "pair table full (%" PRIu32 " pairs)", t->capacity);
		return -ENOSPC;
	}
	/* The new keys too: a replacement libsrtp2 refuses (or that finds
	 * no memory) leaves the old pair running. */
	rc = crypto_make(t, spec, srtp, n_srtp, res, &crypto, why, whylen);
	if (rc != 0)
		return rc;
	duet_pair_del(t, spec->id, now_ms, res != NULL ? &res->replaced : NULL);
	rc = pair_add(t, spec, &id, crypto, rs, now_ms, slot_out, why, whylen);
	return rc == 0 ? 2 : rc;
}

int
duet_pair_del(struct duet_pair_table *t, const char *id, uint64_t now_ms,
	      struct duet_pair_final *fin)
{
	struct pair_dq_entry e;
	struct duet_pair_ctl *c;
	struct pair_id k_id;
	struct duet_addr ep;
	unsigned int k;
	int slot;

	if (!pair_id_make(t, id, &k_id))
		return -ENOENT;
	slot = pair_find_id(t, &k_id);
	if (slot < 0)
		return -ENOENT;
	c = &t->ctl[slot];
	memset(&e, 0, sizeof(e));
	e.slot = (uint32_t)slot;
	for (k = 0; k < 2; k++) {
		duet_pair_leg_local(t, (uint32_t)slot, k, &ep);
		__atomic_store_n(pair_ep_entry(t, &ep), 0, __ATOMIC_RELEASE);
	}
	if (fin != NULL)
		pair_final_read(t, (uint32_t)slot, now_ms, fin);
	rte_hash_del_key_with_hash(t->id_hash, k_id.key, k_id.sig);
	c->live = 0;
	t->n_live--;
	/* The queue holds up to capacity entries and at most capacity slots are
	 * ever pending, so this cannot fail for lack of room. */
	if (rte_rcu_qsbr_dq_enqueue(t->dq, &e) != 0) {
		rte_rcu_qsbr_synchronize(t->qsbr, RTE_QSBR_THRID_INVALID);
		dq_free(t, &e, 1);
	} else {
		t->dq_pending++;
	}
	return 0;
}

void
duet_pair_reclaim(struct duet_pair_table *t)
{
	unsigned int freed, pending, avail;

	/* Only with something to reclaim: an empty call costs little, but
	 * DPDK logs each one at INFO (20 lines/s of an idle relay). */
	if (t->dq_pending > 0 &&
	    rte_rcu_qsbr_dq_reclaim(t->dq, UINT32_MAX, &freed, &pending, &avail) == 0)
		t->dq_pending = pending;
	pair_retire_reclaim(t);
}
