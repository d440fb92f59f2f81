/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * srtpe_diff: the differential test of lib/srtpe against libsrtp2 2.5 (the
 * subproject duet links). Test process only.
 *
 * Each round takes a suite (all four in turn), an ipsec-mb code path (all
 * this CPU has, in turn), a random master key and 1..3 random SSRCs, and
 * makes a libsrtp2 sender and receiver session (replay window 128, the
 * engine's) and the engine's key. Then:
 *  1. Sender side: random RTP packets (CSRC counts 0..15, header
 *     extensions, payloads 0..1400 bytes, sequence numbers that step, jump
 *     far ahead, cross 65535 -> 0, go back and repeat) and RTCP packets are
 *     protected by libsrtp2 one by one and by the engine in bursts of
 *     1..32: same verdict, and byte for byte the same packet.
 *  2. Receiver side: the protected packets are delivered, in bursts of
 *     1..32, to libsrtp2's receiver (one by one), to the engine's unprotect
 *     (one set of streams) and to its verify (another): in a planned order
 *     that holds some packets back, plays every replay-window edge (the
 *     newest, then newest - 127, newest - 128, the newest again, then the
 *     rest), and adds tampered copies (one bit flipped anywhere, tag
 *     included), truncated copies and replays before and after the
 *     originals. libsrtp2 takes what the engine protected and the engine
 *     what libsrtp2 did (the bytes are the same, checked in 1.). Every
 *     packet gets the same verdict from all three, and the same plaintext
 *     from libsrtp2 and the engine; verify changes no byte.
 * The engine's streams are looked up by the SSRC each packet carries, a
 * new one starting zeroed: as libsrtp2 clones its template.
 *
 * Prints the seed (DUET_DIFF_SEED=N repeats a run; DUET_DIFF_ROUNDS=N
 * changes the length), the number of cases and of mismatches, and how
 * often each edge was met; any mismatch fails, and so does an edge never
 * met.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <criterion/criterion.h>
#include <srtp2/srtp.h>

#include "duet_srtpe.h"
#include "duet_srtpe_fp.h"
#include "srtp_policy.h"

/*
 * libsrtp2 2.5's replay databases (crypto/include/rdbx.h and rdb.h, not
 * installed with its public headers, but in libsrtp2.a), declared here as
 * they are laid out there, for the window test at the end.
 */
struct lib_bitvector {
	uint32_t length;
	uint32_t *word;
};
struct lib_rdbx {
	uint64_t index;
	struct lib_bitvector bitmask;
};
union lib_v128 {
	uint8_t v8[16];
	uint32_t v32[4];
	uint64_t v64[2];
};
struct lib_rdb {
	uint32_t window_start;
	union lib_v128 bitmask;
};
srtp_err_status_t srtp_rdbx_init(struct lib_rdbx *rdbx, unsigned long ws);
srtp_err_status_t srtp_rdbx_dealloc(struct lib_rdbx *rdbx);
int32_t srtp_rdbx_estimate_index(const struct lib_rdbx *rdbx, uint64_t *guess, uint16_t s);
srtp_err_status_t srtp_rdbx_check(const struct lib_rdbx *rdbx, int difference);
srtp_err_status_t srtp_rdbx_add_index(struct lib_rdbx *rdbx, int delta);
srtp_err_status_t srtp_rdb_init(struct lib_rdb *rdb);
srtp_err_status_t srtp_rdb_check(const struct lib_rdb *rdb, uint32_t rdb_index);
srtp_err_status_t srtp_rdb_add_index(struct lib_rdb *rdb, uint32_t rdb_index);

#define PKT_CAP 1600
#define MAX_PAYLOAD 1400
#define MAX_SSRC 3
#define WIN DUET_SRTPE_WINDOW
#define DEFAULT_ROUNDS 256
#define MAX_GEN 640
#define MAX_ITEMS (MAX_GEN * 8)
#define TABLE_MAX 4096
#define MAX_REPORTS 20

/* ---- PRNG (splitmix64) ---- */

static uint64_t rng;

static uint64_t
rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t
below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

/* True with probability permille / 1000. */
static bool
chance(unsigned int permille)
{
	return below(1000) < permille;
}

static void
fill(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* ---- what the test found ---- */

static struct {
	unsigned long protect, unprotect, verify, mismatches;
	unsigned long rtp_edge127_ok, rtp_edge128_replay, srtcp_edge127_ok, srtcp_edge128_replay;
	unsigned long roc_moves, tamper_rejected, trunc_rejected, replay_rejected;
	unsigned long protect_refused, ok_rtp, ok_srtcp;
	unsigned long per_suite[DUET_SRTP_SUITE_COUNT];
	unsigned long divergent_bursts;
} st;

static unsigned int round_no, round_suite, round_arch;

static void
mismatch(const char *what, unsigned long a, unsigned long b)
{
	st.mismatches++;
	if (st.mismatches <= MAX_REPORTS)
		fprintf(stderr, "srtpe_diff: MISMATCH round %u suite %u arch %u: %s (%lu vs %lu)\n",
			round_no, round_suite, round_arch, what, a, b);
}

static enum duet_srtpe_verdict
from_libsrtp(srtp_err_status_t s)
{
	switch (s) {
	case srtp_err_status_ok:
		return DUET_SRTPE_OK;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return DUET_SRTPE_REPLAY;
	case srtp_err_status_auth_fail:
	case srtp_err_status_cipher_fail:
		return DUET_SRTPE_AUTH;
	default:
		return DUET_SRTPE_BAD;
	}
}

/* ---- the engine's streams, by SSRC ---- */

struct table {
	uint32_t ssrc[TABLE_MAX];
	struct duet_srtpe_stream s[TABLE_MAX];
	unsigned int n;
};

/* The stream of an SSRC, a zeroed one when new (what libsrtp2's template
 * gives a new SSRC). */
static struct duet_srtpe_stream *
table_get(struct table *t, uint32_t ssrc)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (t->ssrc[i] == ssrc)
			return &t->s[i];
	cr_assert_lt(t->n, TABLE_MAX);
	t->ssrc[t->n] = ssrc;
	duet_srtpe_stream_init(&t->s[t->n]);
	return &t->s[t->n++];
}

/* ---- libsrtp2 sessions, policy written from RFC 3711/4568/7714 ---- */

static srtp_t
session(const struct duet_sdes *k, bool sender)
{
	srtp_policy_t p;
	srtp_t s = NULL;

	memset(&p, 0, sizeof(p));
	test_srtp_policy_suite(k, &p);
	p.ssrc.type = sender ? ssrc_any_outbound : ssrc_any_inbound;
	p.key = (unsigned char *)(uintptr_t)k->key;
	/* The engine's window (libsrtp2 sessions in lib/srtp use 1024). */
	p.window_size = WIN;
	p.allow_repeat_tx = 0;
	cr_assert_eq(srtp_create(&s, &p), srtp_err_status_ok);
	return s;
}

/* ---- packets ---- */

/* A packet the sender side protected. */
struct sent {
	uint8_t wire[PKT_CAP] __attribute__((aligned(16)));
	uint8_t plain[PKT_CAP];
	uint32_t len, plain_len;
	uint64_t index; /* the sender's RTP index, or SRTCP index */
	uint32_t ssrc;
	uint8_t rtcp;
	uint8_t stream;
	uint8_t newest; /* its index was the stream's highest when sent */
	uint8_t used;	/* taken by an edge run */
};

/* A sender-side stream of the round. */
struct gen_stream {
	uint32_t ssrc;
	uint16_t hi_seq;
	uint32_t last_ok_roc;
	unsigned int rtcp_permille;
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t
payload_len(bool small)
{
	uint32_t r = below(10);

	if (small)
		return below(200);
	if (r < 2)
		return below(33);
	if (r < 4)
		return 80 + below(140);
	return below(MAX_PAYLOAD + 1);
}

/* An RTP packet with sequence number seq; its length. */
static uint32_t
make_rtp(uint8_t *p, uint32_t ssrc, uint16_t seq, bool small)
{
	uint32_t cc = below(10) < 7 ? 0 : 1 + below(15), h, i, xlen, pl;

	p[0] = (uint8_t)(0x80 | cc);
	p[1] = (uint8_t)(below(2) << 7 | below(128));
	put16(p + 2, seq);
	duet_srtpe_put32(p + 4, (uint32_t)rnd());
	duet_srtpe_put32(p + 8, ssrc);
	h = 12;
	for (i = 0; i < cc; i++, h += 4)
		duet_srtpe_put32(p + h, (uint32_t)rnd());
	if (chance(300)) {
		p[0] |= 0x10;
		xlen = below(7);
		put16(p + h, 0xbede);
		put16(p + h + 2, (uint16_t)xlen);
		fill(p + h + 4, 4 * xlen);
		h += 4 + 4 * xlen;
	}
	pl = payload_len(small);
	fill(p + h, pl);
	return h + pl;
}

/* An RTCP packet (SR, RR, SDES, BYE or APP header and random words). */
static uint32_t
make_rtcp(uint8_t *p, uint32_t ssrc, bool small)
{
	uint32_t body = small ? below(120) : payload_len(false);

	p[0] = (uint8_t)(0x80 | below(32));
	p[1] = (uint8_t)(200 + below(5));
	put16(p + 2, (uint16_t)((8 + body) / 4));
	duet_srtpe_put32(p + 4, ssrc);
	fill(p + 8, body);
	return 8 + body;
}

/* ---- one round ---- */

enum item_kind { ITEM_ORIG, ITEM_REPLAY, ITEM_TAMPER, ITEM_TRUNC };
enum item_role { ROLE_NONE, ROLE_EDGE127, ROLE_EDGE128 };

struct item {
	double key;
	uint32_t pkt;
	uint32_t arg; /* TAMPER: the bit; TRUNC: the length */
	uint8_t kind;
	uint8_t role;
};

static int
item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->key < y->key)
		return -1;
	return x->key > y->key;
}

struct round {
	IMB_MGR *m;
	struct duet_srtpe_key *key;
	srtp_t tx, rx;
	struct table *etx, *erx, *evx;
	struct sent *sent;
	unsigned int n_sent;
	struct gen_stream gs[MAX_SSRC];
	unsigned int ns;
	bool heavy;
	struct item *items, *order;
	unsigned int n_items, n_order;
};

/* Burst buffers. */
static uint8_t lbuf[DUET_SRTPE_BURST_MAX][PKT_CAP] __attribute__((aligned(16)));
static uint8_t ebuf[DUET_SRTPE_BURST_MAX][PKT_CAP] __attribute__((aligned(16)));
static uint8_t vbuf[DUET_SRTPE_BURST_MAX][PKT_CAP] __attribute__((aligned(16)));
static uint8_t orig[DUET_SRTPE_BURST_MAX][PKT_CAP];
static uint8_t plain[DUET_SRTPE_BURST_MAX][PKT_CAP];
static uint32_t plain_len[DUET_SRTPE_BURST_MAX];
static uint8_t req_rtcp[DUET_SRTPE_BURST_MAX], req_stream[DUET_SRTPE_BURST_MAX];

/* Step 1 for a burst of n requests in plain[]. */
static void
protect_burst(struct round *r, unsigned int n)
{
	struct duet_srtpe_pkt px[DUET_SRTPE_BURST_MAX];
	uint64_t idx[DUET_SRTPE_BURST_MAX];
	struct duet_srtpe_stream shadow[MAX_SSRC];
	unsigned int i, j;

	/* Each RTP packet's index, for the edges of step 2: the streams as
	 * the burst will move them (an outbound stream moves in order). */
	for (j = 0; j < r->ns; j++)
		shadow[j] = *table_get(r->etx, r->gs[j].ssrc);
	for (i = 0; i < n; i++) {
		uint32_t ssrc = r->gs[req_stream[i]].ssrc;
		int32_t d;

		memcpy(ebuf[i], plain[i], plain_len[i]);
		px[i] = (struct duet_srtpe_pkt){
			.key = r->key, .stream = table_get(r->etx, ssrc), .p = ebuf[i],
			.len = plain_len[i], .cap = PKT_CAP,
			.op = req_rtcp[i] ? DUET_SRTPE_SRTCP_PROTECT : DUET_SRTPE_RTP_PROTECT,
		};
		idx[i] = 0;
		if (req_rtcp[i])
			continue;
		idx[i] = duet_srtpe_estimate(shadow[req_stream[i]].rtp_index,
					     (uint16_t)(plain[i][2] << 8 | plain[i][3]), &d);
		if (duet_srtpe_rtp_check(&shadow[req_stream[i]], d) == DUET_SRTPE_OK)
			duet_srtpe_rtp_add(&shadow[req_stream[i]], d);
	}
	duet_srtpe_burst(r->m, px, n);
	for (i = 0; i < n; i++) {
		int llen = (int)plain_len[i];
		srtp_err_status_t ls;
		enum duet_srtpe_verdict lv;

		memcpy(lbuf[i], plain[i], plain_len[i]);
		ls = req_rtcp[i] ? srtp_protect_rtcp(r->tx, lbuf[i], &llen)
				 : srtp_protect(r->tx, lbuf[i], &llen);
		lv = from_libsrtp(ls);
		st.protect++;
		if (lv != px[i].verdict) {
			mismatch(req_rtcp[i] ? "srtcp protect verdict" : "rtp protect verdict", lv,
				 px[i].verdict);
			continue;
		}
		if (lv != DUET_SRTPE_OK) {
			st.protect_refused++;
			continue;
		}
		if ((uint32_t)llen != px[i].len || memcmp(lbuf[i], ebuf[i], px[i].len) != 0) {
			uint32_t at = 0;

			while (at < px[i].len && lbuf[i][at] == ebuf[i][at])
				at++;
			mismatch(req_rtcp[i] ? "srtcp protect bytes (length, first difference)"
					     : "rtp protect bytes (length, first difference)",
				 (unsigned long)llen, at);
			continue;
		}
		if (r->n_sent < MAX_GEN) {
			struct sent *s = &r->sent[r->n_sent++];

			memcpy(s->wire, ebuf[i], px[i].len);
			s->len = px[i].len;
			memcpy(s->plain, plain[i], plain_len[i]);
			s->plain_len = plain_len[i];
			s->ssrc = r->gs[req_stream[i]].ssrc;
			s->rtcp = req_rtcp[i];
			s->stream = req_stream[i];
			/* SRTCP: the index is in the packet. */
			s->index = req_rtcp[i] ? (duet_srtpe_get32(
							  s->wire + s->len -
							  (r->key->gcm_key_len ? 4 : 4u + r->key->srtcp_tag_len)) &
						  DUET_SRTPE_SRTCP_INDEX_MAX)
					       : idx[i];
			s->newest = 0;
			s->used = 0;
		}
	}
}

/* Step 1: generate and protect. */
static void
generate(struct round *r, unsigned int n_gen)
{
	unsigned int g = 0, b, i;
	uint64_t hi_index[MAX_SSRC] = {0};
	bool any[MAX_SSRC] = {false};

	while (g < n_gen) {
		b = 1 + below(DUET_SRTPE_BURST_MAX);
		if (b > n_gen - g)
			b = n_gen - g;
		for (i = 0; i < b; i++) {
			unsigned int s = below(r->ns);
			struct gen_stream *gs = &r->gs[s];
			uint32_t x = below(1000);
			uint16_t seq;

			req_stream[i] = (uint8_t)s;
			req_rtcp[i] = chance(gs->rtcp_permille);
			if (req_rtcp[i]) {
				plain_len[i] = make_rtcp(plain[i], gs->ssrc, r->heavy);
				continue;
			}
			if (x < 20) {
				gs->hi_seq = (uint16_t)(gs->hi_seq + 2 + below(32000)); /* far ahead */
				seq = gs->hi_seq;
			} else if (x < 35) {
				seq = (uint16_t)(gs->hi_seq - 1 - below(160)); /* back */
			} else if (x < 45) {
				seq = gs->hi_seq; /* again */
			} else {
				seq = ++gs->hi_seq;
			}
			plain_len[i] = make_rtp(plain[i], gs->ssrc, seq, r->heavy);
		}
		{
			unsigned int before = r->n_sent;

			protect_burst(r, b);
			g += b;
			/* Mark the RTP packets that raised their stream's
			 * highest index: edge runs end at one of them. */
			for (i = before; i < r->n_sent; i++) {
				struct sent *s = &r->sent[i];

				if (s->rtcp)
					continue;
				if (!any[s->stream] || s->index > hi_index[s->stream]) {
					s->newest = 1;
					hi_index[s->stream] = s->index;
					any[s->stream] = true;
				}
			}
		}
	}
}

/* The stored packet of stream s (RTP or SRTCP) with index i, or -1. */
static int
find_sent(const struct round *r, unsigned int upto, uint8_t stream, uint8_t rtcp, uint64_t i)
{
	unsigned int k;

	for (k = 0; k < upto; k++)
		if (r->sent[k].stream == stream && r->sent[k].rtcp == rtcp && r->sent[k].index == i &&
		    !r->sent[k].used)
			return (int)k;
	return -1;
}

/* Step 2's order: default, some held back, edge runs, variants. */
static void
plan(struct round *r)
{
	unsigned int i, k, runs = 0;

	r->n_items = 0;
	for (i = 0; i < r->n_sent; i++) {
		struct item *it = &r->items[r->n_items++];

		it->key = i;
		it->pkt = i;
		it->kind = ITEM_ORIG;
		it->role = ROLE_NONE;
		it->arg = 0;
	}
	/* Edge runs: P (its stream's newest), P - 127, P - 128, P again,
	 * then the rest of [P - 126, P - 1] in random order. */
	for (i = WIN + 1; i < r->n_sent && runs < 6; i++) {
		struct sent *p = &r->sent[i];
		int q127, q128;
		double base;

		if (p->used || (!p->rtcp && !p->newest) || !chance(p->rtcp ? 60 : 150))
			continue;
		if (p->index < WIN)
			continue;
		q127 = find_sent(r, i, p->stream, p->rtcp, p->index - (WIN - 1));
		q128 = find_sent(r, i, p->stream, p->rtcp, p->index - WIN);
		if (q127 < 0 || q128 < 0)
			continue;
		base = i;
		p->used = 1;
		r->sent[q127].used = 1;
		r->sent[q128].used = 1;
		r->items[q127].key = base + 0.01;
		r->items[q127].role = ROLE_EDGE127;
		r->items[q128].key = base + 0.02;
		r->items[q128].role = ROLE_EDGE128;
		r->items[r->n_items++] = (struct item){.key = base + 0.03, .pkt = i,
						       .kind = ITEM_REPLAY};
		for (k = 0; k < i; k++) {
			struct sent *q = &r->sent[k];

			if (q->used || q->stream != p->stream || q->rtcp != p->rtcp ||
			    q->index >= p->index || q->index < p->index - (WIN - 1))
				continue;
			q->used = 1;
			r->items[k].key = base + 0.04 + below(1000) * 1e-6;
		}
		runs++;
	}
	/* Hold some packets back. */
	for (i = 0; i < r->n_sent; i++)
		if (!r->sent[i].used && chance(50))
			r->items[i].key = i + 1 + below(300) + 0.5;
	qsort(r->items, r->n_items, sizeof(r->items[0]), item_cmp);

	/* Variants around the originals. */
	r->n_order = 0;
	for (i = 0; i < r->n_items; i++) {
		struct item it = r->items[i];
		const struct sent *s = &r->sent[it.pkt];
		struct item v = it;

		if (it.kind == ITEM_ORIG && chance(80)) {
			v.kind = ITEM_TAMPER;
			v.arg = below(s->len * 8);
			r->order[r->n_order++] = v;
		}
		if (it.kind == ITEM_ORIG && chance(40)) {
			v.kind = ITEM_TRUNC;
			v.arg = below(s->len);
			r->order[r->n_order++] = v;
		}
		r->order[r->n_order++] = it;
		if (it.kind == ITEM_ORIG && chance(80)) {
			v.kind = ITEM_REPLAY;
			v.role = ROLE_NONE;
			r->order[r->n_order++] = v;
		}
		if (it.kind == ITEM_ORIG && chance(50)) {
			v.kind = ITEM_TAMPER;
			v.role = ROLE_NONE;
			v.arg = below(s->len * 8);
			r->order[r->n_order++] = v;
		}
		if (it.kind == ITEM_ORIG && chance(30)) {
			v.kind = ITEM_TRUNC;
			v.role = ROLE_NONE;
			v.arg = below(s->len);
			r->order[r->n_order++] = v;
		}
	}
}

/* The SSRC a packet of these bytes would be looked up by (0: too short
 * for either implementation to look). */
static uint32_t
ssrc_of(const uint8_t *p, uint32_t len, bool rtcp)
{
	if (len < 12)
		return 0;
	return duet_srtpe_get32(rtcp ? p + 4 : p + 8);
}

/* Step 2 for order[from, from + n). */
static void
deliver_burst(struct round *r, unsigned int from, unsigned int n)
{
	struct duet_srtpe_pkt ex[DUET_SRTPE_BURST_MAX], vx[DUET_SRTPE_BURST_MAX];
	uint32_t len[DUET_SRTPE_BURST_MAX];
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct item *it = &r->order[from + i];
		const struct sent *s = &r->sent[it->pkt];
		uint32_t l = s->len, ssrc;
		uint8_t op;

		memcpy(ebuf[i], s->wire, l);
		if (it->kind == ITEM_TAMPER)
			ebuf[i][it->arg / 8] ^= (uint8_t)(1u << (it->arg % 8));
		else if (it->kind == ITEM_TRUNC)
			l = it->arg;
		memcpy(lbuf[i], ebuf[i], l);
		memcpy(vbuf[i], ebuf[i], l);
		memcpy(orig[i], ebuf[i], l);
		len[i] = l;
		ssrc = ssrc_of(ebuf[i], l, s->rtcp);
		op = s->rtcp ? DUET_SRTPE_SRTCP_UNPROTECT : DUET_SRTPE_RTP_UNPROTECT;
		ex[i] = (struct duet_srtpe_pkt){.key = r->key, .stream = table_get(r->erx, ssrc),
						.p = ebuf[i], .len = l, .cap = l, .op = op};
		vx[i] = ex[i];
		vx[i].stream = table_get(r->evx, ssrc);
		vx[i].p = vbuf[i];
		vx[i].op = s->rtcp ? DUET_SRTPE_SRTCP_VERIFY : DUET_SRTPE_RTP_VERIFY;
	}
	duet_srtpe_burst(r->m, ex, n);
	duet_srtpe_burst(r->m, vx, n);
	for (i = 0; i < n; i++) {
		const struct item *it = &r->order[from + i];
		const struct sent *s = &r->sent[it->pkt];
		int llen = (int)len[i];
		enum duet_srtpe_verdict lv;
		srtp_err_status_t ls;

		ls = s->rtcp ? srtp_unprotect_rtcp(r->rx, lbuf[i], &llen)
			     : srtp_unprotect(r->rx, lbuf[i], &llen);
		lv = from_libsrtp(ls);
		st.unprotect++;
		st.verify++;
		if (lv != ex[i].verdict)
			mismatch(s->rtcp ? "srtcp unprotect verdict" : "rtp unprotect verdict", lv,
				 ex[i].verdict);
		if (lv != vx[i].verdict)
			mismatch(s->rtcp ? "srtcp verify verdict" : "rtp verify verdict", lv,
				 vx[i].verdict);
		/* verify leaves the bytes as they came (tampered or not). */
		if (vx[i].len != len[i] || memcmp(vbuf[i], orig[i], len[i]) != 0)
			mismatch("verify changed the packet", vx[i].len, len[i]);
		/* AES-CM authenticates before it decrypts: a refused packet
		 * stays as it came, in libsrtp2 and in the engine (which may
		 * have decrypted it along with its hash, then put it back). */
		if (r->key->gcm_key_len == 0 && ex[i].verdict != DUET_SRTPE_OK &&
		    (memcmp(ebuf[i], orig[i], len[i]) != 0 || memcmp(lbuf[i], orig[i], len[i]) != 0))
			mismatch("a refused AES-CM unprotect changed the packet", ex[i].verdict, lv);
		if (lv == DUET_SRTPE_OK && ex[i].verdict == DUET_SRTPE_OK) {
			if ((uint32_t)llen != ex[i].len || memcmp(lbuf[i], ebuf[i], ex[i].len) != 0)
				mismatch("unprotect plaintext", (unsigned long)llen, ex[i].len);
			else if (it->kind == ITEM_ORIG &&
				 (ex[i].len != s->plain_len || memcmp(ebuf[i], s->plain, s->plain_len)))
				mismatch("plaintext is not what was sent", ex[i].len, s->plain_len);
			if (s->rtcp) {
				st.ok_srtcp++;
			} else {
				uint32_t roc = (uint32_t)(s->index >> 16);

				st.ok_rtp++;
				if (roc != r->gs[s->stream].last_ok_roc) {
					st.roc_moves++;
					r->gs[s->stream].last_ok_roc = roc;
				}
			}
			if (it->role == ROLE_EDGE127)
				++*(s->rtcp ? &st.srtcp_edge127_ok : &st.rtp_edge127_ok);
		}
		if (lv == ex[i].verdict && lv != DUET_SRTPE_OK) {
			if (it->kind == ITEM_TAMPER)
				st.tamper_rejected++;
			else if (it->kind == ITEM_TRUNC)
				st.trunc_rejected++;
			else if (lv == DUET_SRTPE_REPLAY)
				st.replay_rejected++;
			if (it->role == ROLE_EDGE128 && lv == DUET_SRTPE_REPLAY)
				++*(s->rtcp ? &st.srtcp_edge128_replay : &st.rtp_edge128_replay);
		}
		if (it->kind == ITEM_TAMPER && ex[i].verdict == DUET_SRTPE_OK)
			mismatch("a tampered packet was taken", 0, 1);
	}
}

static void
deliver(struct round *r)
{
	unsigned int i = 0, b;

	while (i < r->n_order) {
		b = 1 + below(DUET_SRTPE_BURST_MAX);
		if (b > r->n_order - i)
			b = r->n_order - i;
		deliver_burst(r, i, b);
		i += b;
	}
}

static void
run_round(struct round *r, IMB_MGR *m, unsigned int suite)
{
	struct duet_sdes k;
	unsigned int i, j;

	memset(&k, 0, sizeof(k));
	k.suite = (enum duet_srtp_suite)suite;
	k.key_len = (uint8_t)duet_srtp_suite_key_len(k.suite);
	fill(k.key, k.key_len);
	r->m = m;
	cr_assert_eq(duet_srtpe_key_init(m, &k, r->key), 0);
	r->tx = session(&k, true);
	r->rx = session(&k, false);
	r->etx->n = 0;
	r->erx->n = 0;
	r->evx->n = 0;
	r->n_sent = 0;
	r->heavy = round_no % 3 == 1;
	r->ns = r->heavy ? 1 : 1 + below(MAX_SSRC);
	for (i = 0; i < r->ns; i++) {
		struct gen_stream *gs = &r->gs[i];

		do {
			gs->ssrc = (uint32_t)rnd();
			for (j = 0; j < i && r->gs[j].ssrc != gs->ssrc; j++)
				;
		} while (j < i || gs->ssrc == 0);
		/* Half start just below the wrap of the sequence number. */
		gs->hi_seq = chance(500) ? (uint16_t)(65535 - below(300)) : (uint16_t)rnd();
		gs->last_ok_roc = 0;
		gs->rtcp_permille = r->heavy ? 700 : 100;
	}
	generate(r, r->heavy ? 560 : 400);
	plan(r);
	deliver(r);
	st.per_suite[suite]++;
	srtp_dealloc(r->tx);
	srtp_dealloc(r->rx);
	duet_srtpe_key_wipe(r->key);
	duet_sdes_wipe(&k);
}

Test(srtpe_diff, engine_and_libsrtp2_agree_packet_for_packet, .timeout = 600)
{
	static const enum duet_srtpe_arch arches[] = {DUET_SRTPE_ARCH_SSE, DUET_SRTPE_ARCH_AVX2,
						      DUET_SRTPE_ARCH_AVX512};
	IMB_MGR *mgr[3];
	unsigned int n_mgr = 0, rounds = DEFAULT_ROUNDS, i;
	const char *env;
	uint64_t seed;
	struct round r;
	struct timespec t0, t1;
	unsigned long cases;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	env = getenv("DUET_DIFF_SEED");
	if (env != NULL && *env != '\0') {
		seed = strtoull(env, NULL, 0);
	} else {
		cr_assert_eq(getrandom(&seed, sizeof(seed), 0), (ssize_t)sizeof(seed));
	}
	env = getenv("DUET_DIFF_ROUNDS");
	if (env != NULL && *env != '\0')
		rounds = (unsigned int)strtoul(env, NULL, 0);
	fprintf(stderr, "srtpe_diff: seed %" PRIu64 " (DUET_DIFF_SEED=%" PRIu64
			" repeats this run), %u rounds\n",
		seed, seed, rounds);
	rng = seed;

	cr_assert_eq(srtp_init(), srtp_err_status_ok);
	for (i = 0; i < 3; i++)
		if (duet_srtpe_mgr_create(arches[i], &mgr[n_mgr]) == 0)
			n_mgr++;
	cr_assert_geq(n_mgr, 1);

	memset(&r, 0, sizeof(r));
	r.key = aligned_alloc(64, sizeof(*r.key));
	r.etx = calloc(1, sizeof(*r.etx));
	r.erx = calloc(1, sizeof(*r.erx));
	r.evx = calloc(1, sizeof(*r.evx));
	r.sent = calloc(MAX_GEN, sizeof(*r.sent));
	r.items = calloc(MAX_ITEMS, sizeof(*r.items));
	r.order = calloc(MAX_ITEMS, sizeof(*r.order));
	cr_assert(r.key && r.etx && r.erx && r.evx && r.sent && r.items && r.order);

	for (round_no = 0; round_no < rounds; round_no++) {
		round_suite = round_no % DUET_SRTP_SUITE_COUNT;
		round_arch = (round_no / DUET_SRTP_SUITE_COUNT) % n_mgr;
		run_round(&r, mgr[round_arch], round_suite);
	}

	clock_gettime(CLOCK_MONOTONIC, &t1);
	cases = st.protect + st.unprotect + st.verify;
	fprintf(stderr,
		"srtpe_diff: %lu cases (%lu protect, %lu unprotect, %lu verify), %lu mismatches, "
		"%.1f s\n",
		cases, st.protect, st.unprotect, st.verify, st.mismatches,
		(double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	fprintf(stderr,
		"srtpe_diff: met: rtp edge -127 taken %lu, -128 replay %lu; srtcp edge -127 taken "
		"%lu, -128 replay %lu; ROC moves %lu; rejected: tampered %lu, truncated %lu, "
		"replayed %lu; protect refused %lu; authentic rtp %lu, srtcp %lu; %u managers\n",
		st.rtp_edge127_ok, st.rtp_edge128_replay, st.srtcp_edge127_ok,
		st.srtcp_edge128_replay, st.roc_moves, st.tamper_rejected, st.trunc_rejected,
		st.replay_rejected, st.protect_refused, st.ok_rtp, st.ok_srtcp, n_mgr);

	free(r.key);
	free(r.etx);
	free(r.erx);
	free(r.evx);
	free(r.sent);
	free(r.items);
	free(r.order);
	for (i = 0; i < n_mgr; i++)
		duet_srtpe_mgr_free(mgr[i]);
	cr_assert_eq(st.mismatches, 0, "srtpe_diff: %lu mismatches (seed %" PRIu64 ")",
		     st.mismatches, seed);
	if (rounds >= DEFAULT_ROUNDS) {
		cr_assert_gt(st.rtp_edge127_ok, 0);
		cr_assert_gt(st.rtp_edge128_replay, 0);
		cr_assert_gt(st.srtcp_edge127_ok, 0);
		cr_assert_gt(st.srtcp_edge128_replay, 0);
		cr_assert_gt(st.roc_moves, 0);
		cr_assert_gt(st.tamper_rejected, 0);
		cr_assert_gt(st.trunc_rejected, 0);
		cr_assert_gt(st.replay_rejected, 0);
		cr_assert_gt(st.protect_refused, 0);
	}
}

/* Does the engine's RTP window say what libsrtp2's bitvector says? (lib
 * bit j is index - (127 - j); the engine's bit i is index - i.) */
static bool
same_rtp_window(const struct lib_rdbx *l, const struct duet_srtpe_stream *e)
{
	unsigned int i;

	if (l->index != e->rtp_index)
		return false;
	for (i = 0; i < WIN; i++) {
		unsigned int j = WIN - 1 - i;
		bool lb = (l->bitmask.word[j >> 5] >> (j & 31)) & 1;

		if (lb != duet_srtpe_window_has(e->rtp_window, i))
			return false;
	}
	return true;
}

/* The same for SRTCP: lib window [start, start + 127], bit (i - start). */
static bool
same_srtcp_window(const struct lib_rdb *l, const struct duet_srtpe_stream *e)
{
	uint64_t i;

	for (i = l->window_start; i < (uint64_t)l->window_start + WIN; i++) {
		bool lb = (l->bitmask.v32[(i - l->window_start) >> 5] >> ((i - l->window_start) & 31)) & 1;
		bool eb = i <= e->srtcp_index && e->srtcp_index - i < WIN &&
			  duet_srtpe_window_has(e->srtcp_window, (uint32_t)(e->srtcp_index - i));

		if (lb != eb)
			return false;
	}
	return true;
}

/* A sequence number near the interesting places of a stream at index. */
static uint16_t
pick_seq(uint64_t index)
{
	uint16_t s_l = (uint16_t)index;

	switch (below(8)) {
	case 0:
		return (uint16_t)rnd();
	case 1:
		return (uint16_t)(s_l + 1);
	case 2: /* the estimate's turning points */
		return (uint16_t)(s_l + 0x8000 - 1 + below(3));
	case 3:
		return (uint16_t)(s_l - 0x8000 - 1 + below(3));
	case 4: /* the window's edges */
		return (uint16_t)(s_l - WIN - 2 + below(5));
	case 5:
		return (uint16_t)(s_l - below(WIN + 8));
	case 6:
		return (uint16_t)(s_l + below(3000));
	default:
		return (uint16_t)(s_l + 0x7000 + below(0x2000));
	}
}

/*
 * The index estimate and both replay windows against libsrtp2's own
 * (srtp_rdbx_estimate_index, srtp_rdbx_check/add_index with a 128-packet
 * window; srtp_rdb_check/add_index), step by step from fresh streams and
 * from streams started at and around index 2^15, where libsrtp2 switches
 * from "ROC 0" to guessing: same guess, same delta, same verdict, and the
 * same window after every packet taken.
 */
Test(srtpe_diff, index_estimate_and_windows_as_libsrtp2)
{
	unsigned long steps = 0, bad = 0, trial;
	const char *env = getenv("DUET_DIFF_SEED");
	uint64_t seed;

	if (env != NULL && *env != '\0')
		seed = strtoull(env, NULL, 0);
	else
		cr_assert_eq(getrandom(&seed, sizeof(seed), 0), (ssize_t)sizeof(seed));
	rng = seed ^ 0x5eed;
	for (trial = 0; trial < 2000; trial++) {
		struct lib_rdbx l;
		struct lib_rdb lr;
		struct duet_srtpe_stream e;
		unsigned int n;

		cr_assert_eq(srtp_rdbx_init(&l, WIN), srtp_err_status_ok);
		srtp_rdb_init(&lr);
		duet_srtpe_stream_init(&e);
		/* Some streams start where libsrtp2 stops assuming ROC 0. */
		if (trial % 4 == 1) {
			int32_t d0;
			uint16_t s0 = (uint16_t)(0x8000 - 2 + below(5));

			(void)duet_srtpe_estimate(e.rtp_index, s0, &d0);
			duet_srtpe_rtp_add(&e, d0);
			srtp_rdbx_add_index(&l, srtp_rdbx_estimate_index(&l, &(uint64_t){0}, s0));
		}
		for (n = 0; n < 400; n++) {
			uint16_t seq = pick_seq(e.rtp_index);
			uint64_t lg, eg;
			int32_t ld, ed;
			enum duet_srtpe_verdict lv, ev;
			uint32_t ri;

			ld = srtp_rdbx_estimate_index(&l, &lg, seq);
			eg = duet_srtpe_estimate(e.rtp_index, seq, &ed);
			lv = from_libsrtp(srtp_rdbx_check(&l, ld));
			ev = duet_srtpe_rtp_check(&e, ed);
			steps++;
			if (lg != eg || ld != ed || lv != ev) {
				if (++bad <= MAX_REPORTS)
					fprintf(stderr,
						"srtpe_diff: window MISMATCH index %#" PRIx64
						" seq %u: guess %#" PRIx64 "/%#" PRIx64
						" delta %d/%d verdict %d/%d\n",
						l.index, seq, lg, eg, ld, ed, lv, ev);
				break;
			}
			if (lv == DUET_SRTPE_OK && below(10) < 8) {
				srtp_rdbx_add_index(&l, ld);
				duet_srtpe_rtp_add(&e, ed);
				if (!same_rtp_window(&l, &e)) {
					if (++bad <= MAX_REPORTS)
						fprintf(stderr, "srtpe_diff: RTP window differs at %#" PRIx64 "\n",
							l.index);
					break;
				}
			}
			/* SRTCP: an index near the window, now and then anywhere. */
			ri = below(10) == 0 ? (uint32_t)rnd() & DUET_SRTPE_SRTCP_INDEX_MAX
					    : (uint32_t)(lr.window_start + below(3 * WIN));
			lv = from_libsrtp(srtp_rdb_check(&lr, ri));
			ev = duet_srtpe_srtcp_check(&e, ri);
			steps++;
			if (lv != ev) {
				if (++bad <= MAX_REPORTS)
					fprintf(stderr, "srtpe_diff: SRTCP MISMATCH start %u index %u: %d/%d\n",
						lr.window_start, ri, lv, ev);
				break;
			}
			if (lv == DUET_SRTPE_OK && below(10) < 8) {
				srtp_rdb_add_index(&lr, ri);
				duet_srtpe_srtcp_add(&e, ri);
				if (!same_srtcp_window(&lr, &e)) {
					if (++bad <= MAX_REPORTS)
						fprintf(stderr, "srtpe_diff: SRTCP window differs at %u\n", ri);
					break;
				}
			}
		}
		srtp_rdbx_dealloc(&l);
	}
	fprintf(stderr, "srtpe_diff: windows and index estimate: %lu steps, %lu mismatches (seed %" PRIu64 ")\n",
		steps, bad, seed);
	cr_assert_eq(bad, 0);
}
