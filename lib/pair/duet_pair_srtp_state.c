/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_pair_srtp_state: how far a keyed pair's SRTP streams got, in the
 * contract's terms (struct duet_srtp_stream_state, one per SSRC and key),
 * read for lib/sync to write back, and restored into a new pair's sessions
 * when it is loaded after a restart (issue 10). The pair's two directions
 * (duet_srtp_ctx, lib/srtp) hold the streams: direction k serves the
 * packets arriving at leg k, so it holds the `<leg k>_in` streams
 * (inbound, from leg k's client) and, in rekey, the `<other leg>_out`
 * streams (the relay toward the other leg). Also how each key's lifetime
 * is used (duet_pair_srtp_key_use). Control thread only.
 */
#include <errno.h>
#include <string.h>

#include <rte_cycles.h>

#include "duet_pair.h"
#include "duet_pair_fp.h"
#include "pair_internal.h"

_Static_assert(DUET_RECORD_SRTP_STREAMS_MAX == DUET_SRTP_MAX_SSRC,
	       "a key field lists as many streams as a direction holds");

static bool
key_out(unsigned int key)
{
	return key == DUET_KEY_A_OUT || key == DUET_KEY_B_OUT;
}

/* The direction holding the streams of key: from b (b_in), or toward a
 * (a_out, what arrives from b), is direction 1. */
static unsigned int
key_dir(unsigned int key)
{
	return key == DUET_KEY_B_IN || key == DUET_KEY_A_OUT;
}

/* The key of direction k's inbound (out false) or outbound streams. */
static unsigned int
dir_key(unsigned int k, bool out)
{
	if (out)
		return k == 0 ? DUET_KEY_B_OUT : DUET_KEY_A_OUT;
	return k == 0 ? DUET_KEY_A_IN : DUET_KEY_B_IN;
}

int
duet_pair_srtp_state(const struct duet_pair_table *t, uint32_t slot,
		     struct duet_srtp_stream_state *out, unsigned int max, uint32_t *gen)
{
	struct duet_srtp_ssrc_state st[DUET_SRTP_MAX_SSRC];
	const struct duet_pair_crypto *c;
	uint32_t g = 0, dg;
	unsigned int k, n = 0;
	int i, m;

	if (gen != NULL)
		*gen = 0;
	if (slot >= t->capacity || !t->ctl[slot].live)
		return -ENOENT;
	c = t->fast[slot].crypto;
	if (c == NULL)
		return 0;
	for (k = 0; k < 2; k++) {
		m = duet_srtp_ctx_read(&c->dir[k], st, DUET_SRTP_MAX_SSRC, &dg);
		if (m < 0)
			return m;
		g += dg;
		for (i = 0; i < m; i++) {
			struct duet_srtp_stream_state x;

			memset(&x, 0, sizeof(x));
			x.ssrc = st[i].ssrc;
			if (st[i].has & (DUET_SRTP_HAS_RTP_IN | DUET_SRTP_HAS_SRTCP_IN)) {
				if (n == max)
					return -ENOSPC;
				x.key = (uint8_t)dir_key(k, false);
				x.has_rtp = (st[i].has & DUET_SRTP_HAS_RTP_IN) != 0;
				x.roc = (uint32_t)(st[i].rtp_in >> 16);
				x.seq = (uint16_t)st[i].rtp_in;
				x.has_srtcp = (st[i].has & DUET_SRTP_HAS_SRTCP_IN) != 0;
				x.srtcp = st[i].srtcp_in;
				out[n++] = x;
			}
			if (st[i].has & DUET_SRTP_HAS_RTP_OUT) {
				if (n == max)
					return -ENOSPC;
				memset(&x, 0, sizeof(x));
				x.ssrc = st[i].ssrc;
				x.key = (uint8_t)dir_key(k, true);
				x.has_rtp = 1;
				x.roc = (uint32_t)(st[i].rtp_out >> 16);
				x.seq = (uint16_t)st[i].rtp_out;
				out[n++] = x;
			}
		}
	}
	if (gen != NULL)
		*gen = g;
	return (int)n;
}

uint32_t
duet_pair_srtp_gen(const struct duet_pair_table *t, uint32_t slot)
{
	const struct duet_pair_crypto *c = slot < t->capacity ? t->fast[slot].crypto : NULL;

	if (c == NULL)
		return 0;
	return duet_srtp_ctx_gen(&c->dir[0]) + duet_srtp_ctx_gen(&c->dir[1]);
}

static void
key_use(const struct duet_srtp_sess *x, struct duet_pair_key_use *u)
{
	u->left = duet_srtp_life_remaining(&x->life);
	u->expired = duet_srtp_life_expired(&x->life);
}

int
duet_pair_srtp_key_use(const struct duet_pair_table *t, uint32_t slot,
		       struct duet_pair_key_use out[DUET_KEY_COUNT])
{
	const struct duet_pair_crypto *c;
	int mask = 0;
	unsigned int k;

	memset(out, 0, DUET_KEY_COUNT * sizeof(*out));
	if (slot >= t->capacity || !t->ctl[slot].live)
		return -ENOENT;
	c = t->fast[slot].crypto;
	if (c == NULL)
		return 0;
	/* This thread is the one that swaps and frees sessions. */
	for (k = 0; k < 2; k++) {
		if (c->dir[k].in != NULL) {
			key_use(c->dir[k].in, &out[dir_key(k, false)]);
			mask |= 1 << dir_key(k, false);
		}
		if (c->dir[k].out != NULL) {
			key_use(c->dir[k].out, &out[dir_key(k, true)]);
			mask |= 1 << dir_key(k, true);
		}
	}
	return mask;
}

/* The states of one direction, one entry per SSRC, and how many states
 * each entry holds (an _in and an _out one make one entry). */
struct dir_restore {
	struct duet_srtp_ssrc_state e[DUET_SRTP_MAX_SSRC];
	uint8_t parts[DUET_SRTP_MAX_SSRC];
	unsigned int n;
};

/* File state x under its direction. @return false when it does not apply. */
static bool
group(struct dir_restore *dr, uint8_t mode, const struct duet_srtp_stream_state *x)
{
	struct dir_restore *d;
	struct duet_srtp_ssrc_state *e = NULL;
	bool out;
	unsigned int i;

	if (x->key >= DUET_KEY_COUNT || !duet_mode_takes_key(mode, x->key))
		return false;
	out = key_out(x->key);
	if (!x->has_rtp && (out || !x->has_srtcp))
		return false;
	if (out && x->has_srtcp)
		return false;
	if (x->has_srtcp && x->srtcp > 0x7fffffffu)
		return false;
	d = &dr[key_dir(x->key)];
	for (i = 0; i < d->n && e == NULL; i++)
		if (d->e[i].ssrc == x->ssrc)
			e = &d->e[i];
	if (e == NULL) {
		if (d->n == DUET_SRTP_MAX_SSRC)
			return false;
		i = d->n++;
		e = &d->e[i];
		memset(e, 0, sizeof(*e));
		e->ssrc = x->ssrc;
		d->parts[i] = 0;
	} else {
		i = (unsigned int)(e - d->e);
	}
	if (out) {
		if (e->has & DUET_SRTP_HAS_RTP_OUT)
			return false;
		e->rtp_out = (uint64_t)x->roc << 16 | x->seq;
		e->has |= DUET_SRTP_HAS_RTP_OUT;
	} else {
		if (e->has & (DUET_SRTP_HAS_RTP_IN | DUET_SRTP_HAS_SRTCP_IN))
			return false;
		if (x->has_rtp) {
			e->rtp_in = (uint64_t)x->roc << 16 | x->seq;
			e->has |= DUET_SRTP_HAS_RTP_IN;
		}
		if (x->has_srtcp) {
			e->srtcp_in = x->srtcp;
			e->has |= DUET_SRTP_HAS_SRTCP_IN;
		}
	}
	d->parts[i]++;
	return true;
}

int
pair_srtp_restore(struct duet_pair_crypto *c, uint8_t mode,
		  const struct duet_srtp_stream_state *st, unsigned int n, uint32_t *restored,
		  uint32_t *skipped)
{
	struct dir_restore dr[2];
	uint64_t now = rte_get_tsc_cycles();
	unsigned int i, k;
	int rc;

	dr[0].n = dr[1].n = 0;
	for (i = 0; i < n; i++)
		if (!group(dr, mode, &st[i]))
			(*skipped)++;
	for (k = 0; k < 2; k++) {
		const struct duet_sdes *out_key =
			mode == DUET_MODE_REKEY ? &c->key[dir_key(k, true)] : NULL;

		for (i = 0; i < dr[k].n; i++) {
			rc = duet_srtp_ctx_restore(&c->dir[k], &c->key[dir_key(k, false)], out_key,
						   &dr[k].e[i], now);
			if (rc == -ENOMEM)
				return rc;
			if (rc == 0)
				*restored += dr[k].parts[i];
			else
				*skipped += dr[k].parts[i];
		}
	}
	return 0;
}
