/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How far a direction's SRTP streams got, for a restart (issue 10): read
 * from the tracks the workers keep (duet_srtp_fp.h), and restored into a
 * direction's new sessions before any worker can reach them. Control
 * thread only; the workers keep the tracks moving meanwhile.
 *
 * libsrtp2 2.5 keeps a stream's index to itself: srtp_get_stream_roc()
 * gives the ROC but not the sequence number, and only for a stream that
 * exists. For a session with an ssrc_any policy a stream exists only once
 * a packet has authenticated, so a restore adds one (srtp_add_stream with
 * an ssrc_specific policy and the same key) and sets its ROC
 * (srtp_set_stream_roc, which libsrtp2 uses for the stream's next packet
 * and forgets once one authenticates). Its replay window starts empty:
 * the floor in duet's track is what refuses the packets from before.
 */
#include <errno.h>
#include <string.h>

#include "duet_srtp.h"
#include "duet_srtp_fp.h"

/* How often a read retries while a worker is inside its writer side,
 * which holds for a handful of stores. */
#define READ_TRIES 4096

int
duet_srtp_ctx_read(const struct duet_srtp_ctx *d, struct duet_srtp_ssrc_state *out,
		   unsigned int max, uint32_t *gen)
{
	const struct duet_srtp_sess *in = __atomic_load_n(&d->in, __ATOMIC_ACQUIRE);
	const struct duet_srtp_sess *o = __atomic_load_n(&d->out, __ATOMIC_ACQUIRE);
	uint32_t in_id = in != NULL ? in->id : 0, out_id = o != NULL ? o->id : 0;
	unsigned int tries, i, n, k;
	bool over;
	uint32_t s;

	for (tries = 0; tries < READ_TRIES; tries++) {
		s = __atomic_load_n(&d->state_seq, __ATOMIC_ACQUIRE);
		if (s & 1)
			continue;
		n = __atomic_load_n(&d->n_ssrc, __ATOMIC_RELAXED);
		if (n > DUET_SRTP_MAX_SSRC)
			n = DUET_SRTP_MAX_SSRC; /* torn: the check below retries */
		k = 0;
		over = false;
		for (i = 0; i < n; i++) {
			const struct duet_srtp_track *e = &d->track[i];
			struct duet_srtp_ssrc_state st;

			memset(&st, 0, sizeof(st));
			st.ssrc = __atomic_load_n(&d->ssrcs[i].ssrc, __ATOMIC_RELAXED);
			if (in_id != 0 && __atomic_load_n(&e->in.id, __ATOMIC_RELAXED) == in_id) {
				if (__atomic_load_n(&e->in.flags, __ATOMIC_RELAXED) &
				    DUET_SRTP_STREAM_HI) {
					st.rtp_in = __atomic_load_n(&e->in.hi, __ATOMIC_RELAXED);
					st.has |= DUET_SRTP_HAS_RTP_IN;
				}
				if (__atomic_load_n(&e->srtcp_flags, __ATOMIC_RELAXED) &
				    DUET_SRTP_STREAM_HI) {
					st.srtcp_in = __atomic_load_n(&e->srtcp_hi, __ATOMIC_RELAXED);
					st.has |= DUET_SRTP_HAS_SRTCP_IN;
				}
			}
			if (out_id != 0 && __atomic_load_n(&e->out.id, __ATOMIC_RELAXED) == out_id &&
			    (__atomic_load_n(&e->out.flags, __ATOMIC_RELAXED) & DUET_SRTP_STREAM_HI)) {
				st.rtp_out = __atomic_load_n(&e->out.hi, __ATOMIC_RELAXED);
				st.has |= DUET_SRTP_HAS_RTP_OUT;
			}
			if (st.has == 0)
				continue;
			if (k == max)
				over = true;
			else
				out[k++] = st;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&d->state_seq, __ATOMIC_RELAXED) != s)
			continue;
		if (gen != NULL)
			*gen = s >> 1;
		return over ? -ENOSPC : (int)k;
	}
	return -EBUSY;
}

uint32_t
duet_srtp_ctx_gen(const struct duet_srtp_ctx *d)
{
	/* An odd count (a writer inside) reads as the count before it. */
	return __atomic_load_n(&d->state_seq, __ATOMIC_ACQUIRE) >> 1;
}

/* Give session x (made from key k) a stream for ssrc that continues at ROC
 * roc. libsrtp2 cannot say whether k is x's key: the suite is checked. */
static int
sess_add_stream(struct duet_srtp_sess *x, const struct duet_sdes *k, enum duet_srtp_dir dir,
		uint32_t ssrc, uint32_t roc)
{
	srtp_err_status_t st;
	srtp_policy_t p;

	if (k == NULL || k->suite != x->suite || duet_srtp_suite_key_len(k->suite) == 0 ||
	    k->key_len != duet_srtp_suite_key_len(k->suite))
		return -EINVAL;
	duet_srtp_sess_policy(k, dir, x->rtp_auth_only, &p);
	p.ssrc.type = ssrc_specific;
	p.ssrc.value = ssrc;
	st = srtp_add_stream(x->s, &p);
	if (st != srtp_err_status_ok)
		return st == srtp_err_status_alloc_fail ? -ENOMEM : -EINVAL;
	/* The stream's next packet gets this ROC (0 is libsrtp2's "none",
	 * and what a new stream assumes anyway); the fast path says it again
	 * for each packet until one goes through (DUET_SRTP_STREAM_PENDING),
	 * with the ROC estimated against the restored index. */
	st = srtp_set_stream_roc(x->s, ssrc, roc);
	if (st != srtp_err_status_ok) {
		(void)srtp_remove_stream(x->s, htonl(ssrc));
		return -EINVAL;
	}
	return 0;
}

/* A stream that continues after index: its highest, and its floor (and,
 * on libsrtp2, the ROC to tell its stream until a packet goes through). */
static void
restored(struct duet_srtp_stream *s, const struct duet_srtp_sess *x, uint64_t index)
{
	s->hi = s->floor = index;
	s->flags = DUET_SRTP_STREAM_HI | DUET_SRTP_STREAM_FLOOR;
	if (x->ek == NULL)
		s->flags |= DUET_SRTP_STREAM_PENDING;
}

/* Burst engine: a window with every index taken. */
static void
window_full(uint64_t w[2])
{
	w[0] = w[1] = UINT64_MAX;
}

/* Burst engine: table entry n of x continues from st: every index up to
 * the restored one is taken (so it is a replay, and never protected). */
static void
sess_restore_e(struct duet_srtp_sess *x, unsigned int n, const struct duet_srtp_ssrc_state *st,
	       bool in)
{
	struct duet_srtpe_stream *s;

	if (x == NULL || x->ek == NULL)
		return;
	s = &x->est[n];
	duet_srtpe_stream_init(s);
	if (in && (st->has & DUET_SRTP_HAS_RTP_IN)) {
		s->rtp_index = st->rtp_in;
		window_full(s->rtp_window);
		s->flags |= DUET_SRTPE_STREAM_RTP;
	}
	if (in && (st->has & DUET_SRTP_HAS_SRTCP_IN)) {
		s->srtcp_index = st->srtcp_in;
		window_full(s->srtcp_window);
		s->flags |= DUET_SRTPE_STREAM_SRTCP;
	}
	if (!in && (st->has & DUET_SRTP_HAS_RTP_OUT)) {
		s->rtp_index = st->rtp_out;
		window_full(s->rtp_window);
		s->flags |= DUET_SRTPE_STREAM_RTP;
	}
}

int
duet_srtp_ctx_restore(struct duet_srtp_ctx *d, const struct duet_sdes *in_key,
		      const struct duet_sdes *out_key, const struct duet_srtp_ssrc_state *st,
		      uint64_t now_tsc)
{
	const uint32_t all = DUET_SRTP_HAS_RTP_IN | DUET_SRTP_HAS_RTP_OUT | DUET_SRTP_HAS_SRTCP_IN;
	struct duet_srtp_track *e;
	int rc;

	if (d->in == NULL || st->has == 0 || (st->has & ~all) != 0)
		return -EINVAL;
	if ((st->has & DUET_SRTP_HAS_RTP_OUT) && d->out == NULL)
		return -EINVAL;
	if (st->rtp_in >> 48 != 0 || st->rtp_out >> 48 != 0 || st->srtcp_in > 0x7fffffffu)
		return -EINVAL;
	if ((d->in->ek != NULL && in_key->suite != d->in->suite) ||
	    ((st->has & DUET_SRTP_HAS_RTP_OUT) && d->out->ek != NULL &&
	     (out_key == NULL || out_key->suite != d->out->suite)))
		return -EINVAL;
	if (duet_srtp_find(d, st->ssrc) >= 0)
		return -EEXIST;
	if (d->n_ssrc >= DUET_SRTP_MAX_SSRC)
		return -ENOSPC;
	if ((st->has & DUET_SRTP_HAS_RTP_IN) && d->in->ek == NULL) {
		rc = sess_add_stream(d->in, in_key, DUET_SRTP_INBOUND, st->ssrc,
				     (uint32_t)(st->rtp_in >> 16));
		if (rc != 0)
			return rc;
	}
	if ((st->has & DUET_SRTP_HAS_RTP_OUT) && d->out->ek == NULL) {
		rc = sess_add_stream(d->out, out_key, DUET_SRTP_OUTBOUND, st->ssrc,
				     (uint32_t)(st->rtp_out >> 16));
		if (rc != 0) {
			if (st->has & DUET_SRTP_HAS_RTP_IN)
				duet_srtp_sess_drop_stream(d->in, st->ssrc);
			return rc;
		}
	}
	/* No worker reaches d yet: plain stores, published with the pair. */
	e = &d->track[d->n_ssrc];
	memset(e, 0, sizeof(*e));
	if (st->has & (DUET_SRTP_HAS_RTP_IN | DUET_SRTP_HAS_SRTCP_IN))
		e->in.id = d->in->id;
	if (st->has & DUET_SRTP_HAS_RTP_IN)
		restored(&e->in, d->in, st->rtp_in);
	if (st->has & DUET_SRTP_HAS_SRTCP_IN) {
		e->srtcp_hi = e->srtcp_floor = st->srtcp_in;
		e->srtcp_flags = DUET_SRTP_STREAM_HI | DUET_SRTP_STREAM_FLOOR;
	}
	if (st->has & DUET_SRTP_HAS_RTP_OUT) {
		e->out.id = d->out->id;
		restored(&e->out, d->out, st->rtp_out);
	}
	sess_restore_e(d->in, d->n_ssrc, st, true);
	sess_restore_e(d->out, d->n_ssrc, st, false);
	d->ssrcs[d->n_ssrc].ssrc = st->ssrc;
	d->ssrcs[d->n_ssrc].last_tsc = now_tsc;
	d->n_ssrc++;
	return 0;
}
