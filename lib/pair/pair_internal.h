/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What duet_pair.c (slots, the endpoint index, RCU: the writers), duet_pair_read.c
 * (lookups and figures) and duet_pair_crypto.c (a keyed pair's SRTP
 * sessions) share inside lib/pair. Control thread only.
 */
#ifndef DUET_PAIR_INTERNAL_H
#define DUET_PAIR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <rte_hash.h>

#include "duet_clock.h"
#include "duet_pair.h"
#include "duet_pair_fp.h"

/*
 * Control-only state of one pair slot: what the record says that the legs
 * do not hold already. The endpoints, duet ports, mode, re-latch policy
 * and pins are in the legs (local, port_idx, mode, relatch; pinned and
 * the client); the SRTP keys only in a
 * keyed pair's crypto block; the id in the id hash's key store, found by
 * its position. duet_pair_spec_get() puts the record back together.
 */
struct duet_pair_ctl {
	uint64_t created_ms;	  /* unix ms, for what is written out */
	uint64_t created_tsc;	  /* TSC, for idle timers (no wall-clock steps) */
	uint64_t created_mono_ms; /* CLOCK_MONOTONIC, for duration_ms (no wall-clock steps) */
	uint64_t expires;	  /* spec->expires */
	uint32_t idle_ms;	  /* spec->idle_ms */
	uint32_t max_pps;	  /* spec->max_pps */
	uint32_t max_kbps;	  /* spec->max_kbps */
	int32_t id_pos;		  /* the id's position in id_hash's key store */
	uint8_t live;
	uint8_t reserved[3];
};

/* Bytes of an id hash key: the id, zero padded, always with a terminator,
 * rounded up to whole 32-bit words for jhash. */
#define PAIR_ID_KEY_LEN (DUET_PAIR_ID_MAX + 4)

/* The id hash key of id: fixed size, zero padded. */
static inline void
pair_id_key(const char *id, char key[PAIR_ID_KEY_LEN])
{
	size_t n = strnlen(id, DUET_PAIR_ID_MAX);

	memset(key, 0, PAIR_ID_KEY_LEN);
	memcpy(key, id, n);
}

/* A pair id as the id hash takes it: the key and its hash, computed once
 * for every lookup, insert and delete of one call. */
struct pair_id {
	char key[PAIR_ID_KEY_LEN];
	hash_sig_t sig;
};

/* id's key and hash. @return false when id cannot be a pair's (NULL or
 * longer than DUET_PAIR_ID_MAX bytes). */
static inline bool
pair_id_make(const struct duet_pair_table *t, const char *id, struct pair_id *k)
{
	if (id == NULL || strnlen(id, DUET_PAIR_ID_MAX + 1) > DUET_PAIR_ID_MAX)
		return false;
	pair_id_key(id, k->key);
	k->sig = rte_hash_hash(t->id_hash, k->key);
	return true;
}

/* Slot of the live pair whose id is k, or -ENOENT (duet_pair_read.c). */
int pair_find_id(const struct duet_pair_table *t, const struct pair_id *k);

/* Index in the table's space of ep's address, or -1 when it is not one
 * of the service addresses. */
static inline int
pair_space_index(const struct duet_pair_table *t, const struct duet_addr *ep)
{
	unsigned int i;

	for (i = 0; i < t->space.n_addrs; i++)
		if (duet_addr_same_ip(&t->space.addrs[i], ep))
			return (int)i;
	return -1;
}

/* The endpoint index entry of ep, or NULL when ep lies outside the table's
 * space (not a service address, or a port outside the media range). */
static inline uint32_t *
pair_ep_entry(const struct duet_pair_table *t, const struct duet_addr *ep)
{
	int i = pair_space_index(t, ep);

	if (i < 0)
		return NULL;
	return (uint32_t *)(uintptr_t)duet_pair_ep_at(t, (uint32_t)i, ep->port);
}

/* Sessions taken out of service, waiting for a grace period. */
struct duet_pair_retire *pair_retire_new(void);
void pair_retire_free(struct duet_pair_retire *r);
/* Free retired sessions whose grace period has passed. */
void pair_retire_reclaim(struct duet_pair_table *t);

/* A keyed pair's SRTP state for spec (NULL for passthrough), or -errno
 * with why set. */
int pair_crypto_new(const struct duet_pair_table *t, const struct duet_pair_spec *spec,
		    struct duet_pair_crypto **out, char *why, size_t whylen);
/* Free a pair's SRTP state (no worker can reach it any more). */
void pair_crypto_free(struct duet_pair_crypto *c);
/* Switch a live pair to spec's keys in place, the previous sender keys
 * kept for DUET_PAIR_KEY_GRACE_MS. @return 0 or -errno with why set. */
int pair_crypto_rotate(struct duet_pair_table *t, struct duet_pair_crypto *c,
		       const struct duet_pair_spec *spec, char *why, size_t whylen);

/* Continue the SRTP streams st[0..n-1] in a keyed pair's new SRTP state c
 * of mode `mode`, not yet reachable (duet_pair_srtp_state.c). Counts what
 * applied and what was skipped. @return 0, or -ENOMEM. */
int pair_srtp_restore(struct duet_pair_crypto *c, uint8_t mode,
		      const struct duet_srtp_stream_state *st, unsigned int n, uint32_t *restored,
		      uint32_t *skipped);

/* The figures of live slot as it ends at now_ms (duet_pair_read.c). */
void pair_final_read(const struct duet_pair_table *t, uint32_t slot, uint64_t now_ms,
		     struct duet_pair_final *fin);

#endif /* DUET_PAIR_INTERNAL_H */
