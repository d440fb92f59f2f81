/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_pair_crypto: the SRTP side of the pairing table, for keyed pairs
 * (verify, rekey): making a pair's libsrtp2 sessions from its keys,
 * rotating a sender's key in place (the previous one kept for a grace), and
 * freeing sessions only after every worker has passed a quiescent state.
 * Control thread only; workers use the sessions through duet_srtp_fp.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "duet_pair.h"
#include "duet_pair_fp.h"
#include "pair_internal.h"
#include "duet_srtp.h"

/* An SRTP session taken out of service, freed once every worker has passed
 * a quiescent state after `token`. */
struct pair_retired {
	struct duet_srtp_sess *x;
	uint64_t token;
};

struct duet_pair_retire {
	struct pair_retired *v;
	uint32_t n, cap;
};

struct duet_pair_retire *
pair_retire_new(void)
{
	return calloc(1, sizeof(struct duet_pair_retire));
}

void
pair_retire_free(struct duet_pair_retire *r)
{
	uint32_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		duet_srtp_sess_free(r->v[i].x);
	free(r->v);
	free(r);
}

static bool
mode_keyed(uint8_t mode)
{
	return mode == DUET_MODE_VERIFY || mode == DUET_MODE_REKEY;
}

/* Free a pair's SRTP state: every session, then the keys. No worker can
 * reach it any more (its slot passed a grace period, or was never live). */
void
pair_crypto_free(struct duet_pair_crypto *c)
{
	unsigned int k;

	if (c == NULL)
		return;
	for (k = 0; k < 2; k++) {
		duet_srtp_sess_free(c->dir[k].in);
		duet_srtp_sess_free(c->dir[k].in_prev);
		duet_srtp_sess_free(c->dir[k].out);
	}
	duet_secure_zero(c, sizeof(*c));
	rte_free(c);
}

/* The sessions a direction needs in a mode: k's sender key inbound, and in
 * rekey the peer's out key outbound. */
static const struct duet_sdes *
dir_in_key(const struct duet_sdes *key, unsigned int k)
{
	return &key[k == 0 ? DUET_KEY_A_IN : DUET_KEY_B_IN];
}

static const struct duet_sdes *
dir_out_key(const struct duet_sdes *key, unsigned int k)
{
	return &key[k == 0 ? DUET_KEY_B_OUT : DUET_KEY_A_OUT];
}

static int
sess_make(const struct duet_sdes *k, enum duet_srtp_dir dir, uint8_t mode,
	  struct duet_srtp_sess **out, const char *name, char *why, size_t whylen)
{
	if (k->key_len == 0) {
		snprintf(why, whylen, "mode %s needs key %s", duet_mode_name(mode), name);
		return -EINVAL;
	}
	*out = duet_srtp_sess_new(k, dir, mode == DUET_MODE_VERIFY);
	if (*out == NULL) {
		int e = errno != 0 ? errno : EINVAL;

		snprintf(why, whylen, "libsrtp2 refused key %s (%s)", name, strerror(e));
		return -e;
	}
	return 0;
}


/* Make the SRTP state of a keyed pair (NULL and 0 for passthrough). */
int
pair_crypto_new(const struct duet_pair_table *t, const struct duet_pair_spec *spec,
		struct duet_pair_crypto **out, char *why, size_t whylen)
{
	struct duet_pair_crypto *c;
	unsigned int k;
	int rc;

	*out = NULL;
	if (!mode_keyed(spec->mode))
		return 0;
	c = rte_zmalloc("duet_pair_crypto", sizeof(*c), RTE_CACHE_LINE_SIZE);
	if (c == NULL) {
		snprintf(why, whylen, "no memory for SRTP state");
		return -ENOMEM;
	}
	(void)t;
	for (k = 0; k < 2; k++) {
		rc = sess_make(dir_in_key(spec->key, k), DUET_SRTP_INBOUND, spec->mode,
			       &c->dir[k].in, duet_key_field(k == 0 ? DUET_KEY_A_IN : DUET_KEY_B_IN),
			       why, whylen);
		if (rc != 0)
			goto err;
		if (spec->mode != DUET_MODE_REKEY)
			continue;
		rc = sess_make(dir_out_key(spec->key, k), DUET_SRTP_OUTBOUND, spec->mode,
			       &c->dir[k].out, duet_key_field(k == 0 ? DUET_KEY_B_OUT : DUET_KEY_A_OUT),
			       why, whylen);
		if (rc != 0)
			goto err;
	}
	memcpy(c->key, spec->key, sizeof(c->key));
	*out = c;
	return 0;
err:
	pair_crypto_free(c);
	return rc;
}

/* Queue a session to be freed after the next grace period. */
static int
retire(struct duet_pair_table *t, struct duet_srtp_sess *x)
{
	struct duet_pair_retire *r = t->retire;

	if (x == NULL)
		return 0;
	if (r->n == r->cap) {
		uint32_t cap = r->cap != 0 ? r->cap * 2 : 64;
		struct pair_retired *v = realloc(r->v, cap * sizeof(*v));

		if (v == NULL) {
			/* Rare: wait for the readers instead of queueing. */
			rte_rcu_qsbr_synchronize(t->qsbr, RTE_QSBR_THRID_INVALID);
			duet_srtp_sess_free(x);
			return 0;
		}
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n].x = x;
	r->v[r->n].token = rte_rcu_qsbr_start(t->qsbr);
	r->n++;
	return 0;
}

void
pair_retire_reclaim(struct duet_pair_table *t)
{
	struct duet_pair_retire *r = t->retire;
	uint32_t i, kept = 0;

	for (i = 0; i < r->n; i++) {
		if (rte_rcu_qsbr_check(t->qsbr, r->v[i].token, false) == 1)
			duet_srtp_sess_free(r->v[i].x);
		else
			r->v[kept++] = r->v[i];
	}
	r->n = kept;
}

/*
 * Rotate a live keyed pair to new keys, in place: a changed sender key
 * becomes `in` and the old one stays `in_prev` for the grace period; a
 * changed receiver key replaces `out`. Every new session is made before any
 * is published, so a refused key leaves the pair as it was. A new session
 * counts its key's lifetime from 0; an unchanged key given with another
 * lifetime keeps its count under the new limit.
 */
/* The same key: suite, length and the key bytes that length covers (not
 * padding or bytes past it, which would make a new session and reset its
 * replay window for an unchanged key). */
static bool
same_key(const struct duet_sdes *x, const struct duet_sdes *y)
{
	return x->suite == y->suite && x->key_len == y->key_len &&
	       x->key_len <= sizeof(x->key) && memcmp(x->key, y->key, x->key_len) == 0;
}

int
pair_crypto_rotate(struct duet_pair_table *t, struct duet_pair_crypto *c,
		   const struct duet_pair_spec *spec, char *why, size_t whylen)
{
	struct duet_srtp_sess *nin[2] = {NULL, NULL}, *nout[2] = {NULL, NULL};
	uint64_t until = rte_get_tsc_cycles() + rte_get_tsc_hz() / 1000 * DUET_PAIR_KEY_GRACE_MS;
	unsigned int k;
	int rc = 0;

	for (k = 0; k < 2 && rc == 0; k++) {
		const struct duet_sdes *ki = dir_in_key(spec->key, k);
		const struct duet_sdes *ko = dir_out_key(spec->key, k);

		if (!same_key(ki, dir_in_key(c->key, k)))
			rc = sess_make(ki, DUET_SRTP_INBOUND, spec->mode, &nin[k],
				       duet_key_field(k == 0 ? DUET_KEY_A_IN : DUET_KEY_B_IN), why, whylen);
		if (rc == 0 && spec->mode == DUET_MODE_REKEY &&
		    !same_key(ko, dir_out_key(c->key, k)))
			rc = sess_make(ko, DUET_SRTP_OUTBOUND, spec->mode, &nout[k],
				       duet_key_field(k == 0 ? DUET_KEY_B_OUT : DUET_KEY_A_OUT), why,
				       whylen);
	}
	if (rc != 0) {
		for (k = 0; k < 2; k++) {
			duet_srtp_sess_free(nin[k]);
			duet_srtp_sess_free(nout[k]);
		}
		return rc;
	}
	for (k = 0; k < 2; k++) {
		struct duet_srtp_ctx *d = &c->dir[k];
		uint64_t life_in = dir_in_key(spec->key, k)->lifetime;
		uint64_t life_out = dir_out_key(spec->key, k)->lifetime;

		/* The same key with another lifetime keeps its session (and its
		 * replay window): what it used counts against the new one. */
		if (nin[k] == NULL && d->in != NULL && life_in != dir_in_key(c->key, k)->lifetime)
			duet_srtp_life_set(&d->in->life, life_in);
		if (nout[k] == NULL && d->out != NULL && life_out != dir_out_key(c->key, k)->lifetime)
			duet_srtp_life_set(&d->out->life, life_out);
		if (nin[k] != NULL) {
			struct duet_srtp_sess *old_prev = d->in_prev;

			/* Order for a worker reading in between: the old key is
			 * reachable as in or in_prev at every moment. */
			__atomic_store_n(&d->prev_until_tsc, until, __ATOMIC_RELAXED);
			__atomic_store_n(&d->in_prev, d->in, __ATOMIC_RELEASE);
			__atomic_store_n(&d->in, nin[k], __ATOMIC_RELEASE);
			retire(t, old_prev);
		}
		if (nout[k] != NULL) {
			struct duet_srtp_sess *old = d->out;

			__atomic_store_n(&d->out, nout[k], __ATOMIC_RELEASE);
			retire(t, old);
		}
	}
	duet_secure_zero(c->key, sizeof(c->key));
	memcpy(c->key, spec->key, sizeof(c->key));
	return 0;
}

