/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SRTP engine cost per packet (issue "SRTP engine", goals S1-S5): duet's
 * own SRTP engine (lib/srtpe, duet_srtpe_burst()) against the raw limit,
 * the same intel-ipsec-mb manager doing only the cipher and MAC work for
 * the same packets with the same key state, in the same process, the
 * variants taking turns chunk by chunk. One thread, no DPDK, no libsrtp2.
 *
 * Packets: 12 bytes of RTP header + --payload bytes (160 by default: 172
 * bytes, G.711 at 20 ms), at +42 in a 256-byte slot (after Ethernet/IPv4/
 * UDP, as duetd sees them), protected by a sender (untimed, the engine's
 * protect on a copy of the session's in key and the sender's own outbound
 * stream), over N sessions uniformly at random, in bursts of 32.
 *
 * Variants (the suffix _sse: the same on an SSE manager, AES-CM suites
 * only, when the default manager is not SSE already; unsuffixed: the
 * manager duet_srtpe_mgr_create(DUET_SRTPE_ARCH_AUTO) gives, AVX-512 on a
 * CPU that has it):
 *   engine_verify  duet_srtpe_burst(), every packet RTP_VERIFY with its
 *                  session's in key and verify stream
 *   engine_rekey   what a relay does: a burst of RTP_UNPROTECT with the in
 *                  key and in stream, then a burst of RTP_PROTECT of the
 *                  packets that came out OK with the out key and out stream
 *   raw_verify     AES-CM: HMAC-SHA1 over header + payload + ROC (the ROC
 *                  written where the tag was, the tag kept aside and put
 *                  back), jobs of the burst submitted together, flushed,
 *                  tags compared. GCM: one direct-API AES-GCM decrypt per
 *                  packet into a scratch buffer (open), tag compared.
 *   raw_rekey      AES-CM: one job per packet HMAC-SHA1 + AES-CTR decrypt
 *                  (hash then cipher, chained) with the in key, flush,
 *                  compare; then one job AES-CTR encrypt + HMAC-SHA1 with
 *                  the out key, flush, tag written. GCM: direct-API decrypt
 *                  in place with the in key (open), compare, encrypt in
 *                  place with the out key (seal).
 * Raw takes each packet's index from the sender (no ROC estimate, no
 * replay window, no header parse, no framing checks): what is left between
 * raw and engine is the engine's own work. Both compute the IVs with the
 * same inline helpers (duet_srtpe_fp.h), compare tags with the same
 * constant-time one, write the new length back, and read the same key
 * structs. Both prefetch a burst's keys at its start: the engine inside
 * duet_srtpe_burst(), raw with raw_prefetch() (each packet's key first
 * line and RTP key data: AES-CM round keys and HMAC states, or the whole
 * GCM key data), so that at 100,000 sessions raw stays a limit rather
 * than a loop that waits on every key.
 *
 * Keys: per session an in key (the sender's), an out key (rekey's
 * outbound), made with duet_srtpe_key_init() on the default manager
 * (GCM key data is per code path; AES-CM keys serve every manager). They
 * are placed suite-sized, 64-byte aligned, one after the other, every
 * duet_srtpe_key_size() bytes: an AES-CM key uses offsetof(struct
 * duet_srtpe_key, u) + sizeof(u.cm) = 544 bytes of the 2,112-byte struct
 * (the GCM arm of its union sets the struct's size), placed every 576; a
 * GCM key takes the whole struct. The engine reads and writes no byte of
 * an AES-CM key past that size. Per session also: a verify stream,
 * a rekey in stream and a rekey out stream (struct duet_srtpe_stream).
 *
 * Memory per pair (goal S5; a pair is two directions): verify = 2 x (in
 * key + stream), rekey = 2 x (in key + out key + 2 streams), computed from
 * the structs (bytes_per_pair: keys as placed here; bytes_per_pair_struct:
 * keys as whole structs) and measured (malloc_bytes_per_pair: mallinfo2()
 * before and after allocating this process's N sessions' receiver state,
 * over N / 2 pairs' worth).
 *
 * Before timing, a self-check per manager: the same packet through the
 * engine and through raw must give the same bytes (rekey), both must
 * accept it (verify) and both must refuse it tampered. Then every
 * packet's verdict is counted: the program exits 1 if any packet failed
 * (sender, engine or raw), the figures would not be honest.
 *
 * Rounds and turns as bench_srtp.c's, both bench_harness.c's (run.sh
 * hands the turn round one process per session count over FIFOs,
 * --turn-in/--turn-out): a round runs every variant over
 * min(W, max(N, 1000)) untimed and M timed packets, the variants taking
 * turns every --chunk packets, engine and raw of a pair trading places
 * every other chunk. Every chunk's packets are made, in the order they
 * will be run, before any is run; just before a chunk is timed its
 * packets are read once (untimed, unless --cold-packets), as a worker's rx
 * and parse would leave them, so that a figure depends on the number of
 * keys, not on how far the arena (larger with more sessions) pushed the
 * packets out of cache. Time is this thread's CPU time (time given to
 * other processes is not counted).
 *
 * Output: CSV rows (no header) on stdout:
 *   srtpe,<suite>/<variant>,<sessions>,ns_per_pkt,<value>,ns,<run>
 *   srtpe,<suite>/<variant>,<sessions>,failures,<count>,pkts,<run>
 *   srtpe,<suite>/<verify|rekey>,<sessions>,bytes_per_pair,<v>,B,0
 *   srtpe,<suite>/<verify|rekey>,<sessions>,bytes_per_pair_struct,<v>,B,0
 *   srtpe,<suite>/<verify|rekey>,<sessions>,malloc_bytes_per_pair,<v>,B,0
 *   srtpe,<suite>/key,<sessions>,suite_bytes,<v>,B,0        (544: unplaced)
 *   srtpe,<suite>/key_init,<sessions>,us_per_key,<v>,us,0
 *   srtpe,<suite>/auto_arch,<sessions>,imb_arch,<IMB_ARCH_*>,enum,0
 *   srtpe,<suite>/packet,<sessions>,rtp_bytes,<v>,B,0       (before the tag)
 */
#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_harness.h"
#include "duet_sdes.h"
#include "duet_srtpe.h"
#include "duet_srtpe_fp.h"

/* Room a packet has at its start (an mbuf's would be larger; this is
 * enough for any tag). */
#define PKT_CAP (BENCH_SLOT - BENCH_PKT_OFF)
#define MAX_PAYLOAD (PKT_CAP - BENCH_RTP_HDR - DUET_SRTPE_MAX_OVERHEAD)
#define BURST DUET_SRTPE_BURST_MAX

enum variant {
	V_RAW_VERIFY,
	V_ENGINE_VERIFY,
	V_RAW_REKEY,
	V_ENGINE_REKEY,
	V_RAW_VERIFY_SSE,
	V_ENGINE_VERIFY_SSE,
	V_RAW_REKEY_SSE,
	V_ENGINE_REKEY_SSE,
	V_COUNT,
};

_Static_assert(V_COUNT <= BENCH_VARIANTS_MAX, "more variants than bench_harness.c holds");

static const char *const variant_name[V_COUNT] = {
	[V_RAW_VERIFY] = "raw_verify",
	[V_ENGINE_VERIFY] = "engine_verify",
	[V_RAW_REKEY] = "raw_rekey",
	[V_ENGINE_REKEY] = "engine_rekey",
	[V_RAW_VERIFY_SSE] = "raw_verify_sse",
	[V_ENGINE_VERIFY_SSE] = "engine_verify_sse",
	[V_RAW_REKEY_SSE] = "raw_rekey_sse",
	[V_ENGINE_REKEY_SSE] = "engine_rekey_sse",
};

static bool
is_rekey(enum variant v)
{
	return v == V_RAW_REKEY || v == V_ENGINE_REKEY || v == V_RAW_REKEY_SSE ||
	       v == V_ENGINE_REKEY_SSE;
}

static bool
is_sse(enum variant v)
{
	return v >= V_RAW_VERIFY_SSE;
}

/* The packets of one lane (verify or rekey) come from one sender, so that
 * every receiving stream of the lane sees its session's packets in
 * sequence order. */
enum lane { LANE_VERIFY = 0, LANE_REKEY, LANE_COUNT };

/* bench_spec.flags, as bits of bench_opts.flags. */
static const char *const flag_name[] = {"no-sse", "cold-packets", NULL};
#define FLAG_NO_SSE (1u << 0) /* no _sse variants */
#define FLAG_COLD (1u << 1)   /* packets not touched before their chunk */

/* A packet slot's facts, made with the packet (untimed). */
struct meta {
	uint64_t index; /* the sender's RFC 3711 index (ROC << 16 | SEQ) */
	uint32_t sess;
	uint32_t len;
};

struct bench {
	enum duet_srtp_suite suite;
	uint32_t n;
	IMB_MGR *mgr;	  /* DUET_SRTPE_ARCH_AUTO */
	IMB_MGR *mgr_sse; /* AES-CM and mgr not SSE: for the _sse variants; else NULL */
	size_t key_bytes; /* suite-sized key */
	size_t key_stride; /* key_bytes rounded up to 64 */
	uint8_t *key_in;  /* n keys, key_stride apart: the relay's in key */
	uint8_t *key_out; /* rekey's out key */
	uint8_t *key_snd; /* the sender's copy of key_in */
	struct duet_srtpe_stream *sv;  /* verify: in stream */
	struct duet_srtpe_stream *ri;  /* rekey: in stream */
	struct duet_srtpe_stream *ro;  /* rekey: out stream */
	struct duet_srtpe_stream *snd[LANE_COUNT];
	uint32_t *seq[LANE_COUNT];     /* the sender's next sequence number */
	uint8_t *arena;
	struct meta *meta;
	unsigned int payload; /* RTP payload bytes */
	uint64_t rng;
	size_t malloc_key, malloc_stream; /* mallinfo2 deltas: key_in, sv */
	double key_init_ns;		  /* per key made */
};

/* Bytes malloc has handed out (arena and mmapped). */
static size_t
malloc_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static const struct duet_srtpe_key *
key_at(const uint8_t *base, size_t stride, uint32_t s)
{
	return (const struct duet_srtpe_key *)(const void *)(base + (size_t)s * stride);
}

static const struct duet_srtpe_key *
in_key(const struct bench *b, uint32_t s)
{
	return key_at(b->key_in, b->key_stride, s);
}

static const struct duet_srtpe_key *
out_key(const struct bench *b, uint32_t s)
{
	return key_at(b->key_out, b->key_stride, s);
}

static bool
suite_is_gcm(enum duet_srtp_suite s)
{
	return s == DUET_SRTP_AEAD_AES_128_GCM || s == DUET_SRTP_AEAD_AES_256_GCM;
}

/* Bytes of struct duet_srtpe_key a key of the suite uses. */
static size_t
suite_key_bytes(enum duet_srtp_suite s)
{
	const struct duet_srtpe_key *k = NULL;

	if (suite_is_gcm(s))
		return offsetof(struct duet_srtpe_key, u) + sizeof(k->u.gcm);
	return offsetof(struct duet_srtpe_key, u) + sizeof(k->u.cm);
}

/* Make a key of the suite in its suite-sized place (duet_srtpe_key_init()
 * writes duet_srtpe_key_size() bytes, no more). */
static void
make_key(struct bench *b, uint64_t *rng, uint8_t *dst)
{
	struct duet_sdes sd;

	bench_sdes_make(rng, b->suite, &sd);
	if (duet_srtpe_key_init(b->mgr, &sd, (struct duet_srtpe_key *)(void *)dst) != 0)
		bench_die("duet_srtpe_key_init failed");
	duet_sdes_wipe(&sd);
}

static void
bench_setup(struct bench *b, enum duet_srtp_suite suite, uint32_t n, uint32_t slots,
	    uint64_t seed, bool no_sse)
{
	size_t m0, m1;
	double t0;
	int rc;

	memset(b, 0, sizeof(*b));
	b->suite = suite;
	b->n = n;
	b->rng = seed;
	rc = duet_srtpe_mgr_create(DUET_SRTPE_ARCH_AUTO, &b->mgr);
	if (rc != 0)
		bench_die("duet_srtpe_mgr_create(AUTO) failed");
	if (!suite_is_gcm(suite) && !no_sse && b->mgr->used_arch != IMB_ARCH_SSE &&
	    duet_srtpe_mgr_create(DUET_SRTPE_ARCH_SSE, &b->mgr_sse) != 0)
		b->mgr_sse = NULL;
	b->key_bytes = suite_key_bytes(suite);
	b->key_stride = duet_srtpe_key_size(suite); /* 64-byte multiple */

	/* The receiver's state, measured as malloc sees it. */
	m0 = malloc_in_use();
	b->key_in = bench_zalloc(64, (size_t)n * b->key_stride, true);
	m1 = malloc_in_use();
	b->malloc_key = m1 - m0;
	b->key_out = bench_zalloc(64, (size_t)n * b->key_stride, true);
	m0 = malloc_in_use();
	b->sv = bench_zalloc(64, (size_t)n * sizeof(*b->sv), true);
	m1 = malloc_in_use();
	b->malloc_stream = m1 - m0;
	b->ri = bench_zalloc(64, (size_t)n * sizeof(*b->ri), true);
	b->ro = bench_zalloc(64, (size_t)n * sizeof(*b->ro), true);

	b->key_snd = bench_zalloc(64, (size_t)n * b->key_stride, true);
	for (int l = 0; l < LANE_COUNT; l++) {
		b->snd[l] = bench_zalloc(64, (size_t)n * sizeof(*b->snd[l]), true);
		b->seq[l] = bench_zalloc(64, (size_t)n * sizeof(*b->seq[l]), true);
	}
	t0 = bench_now_ns();
	for (uint32_t i = 0; i < n; i++) {
		make_key(b, &b->rng, b->key_in + (size_t)i * b->key_stride);
		make_key(b, &b->rng, b->key_out + (size_t)i * b->key_stride);
		/* Random start below 2^14 (see bench_srtp.c): a fresh stream
		 * takes ROC 0. */
		b->seq[LANE_VERIFY][i] = (uint32_t)bench_rng_next(&b->rng) & 0x3fff;
		b->seq[LANE_REKEY][i] = b->seq[LANE_VERIFY][i];
	}
	b->key_init_ns = (bench_now_ns() - t0) / (2.0 * n);
	memcpy(b->key_snd, b->key_in, (size_t)n * b->key_stride);
	b->arena = bench_zalloc(64, (size_t)slots * BENCH_SLOT, true);
	b->meta = bench_zalloc(64, (size_t)slots * sizeof(*b->meta), true);
}

static void
bench_free(struct bench *b)
{
	/* Key material: wipe before free, as duetd would. */
	duet_secure_zero(b->key_in, (size_t)b->n * b->key_stride);
	duet_secure_zero(b->key_out, (size_t)b->n * b->key_stride);
	duet_secure_zero(b->key_snd, (size_t)b->n * b->key_stride);
	free(b->key_in);
	free(b->key_out);
	free(b->key_snd);
	free(b->sv);
	free(b->ri);
	free(b->ro);
	for (int l = 0; l < LANE_COUNT; l++) {
		free(b->snd[l]);
		free(b->seq[l]);
	}
	free(b->arena);
	free(b->meta);
	duet_srtpe_mgr_free(b->mgr);
	duet_srtpe_mgr_free(b->mgr_sse);
}

static uint8_t *
slot_p(const struct bench *b, uint32_t j)
{
	return b->arena + (size_t)j * BENCH_SLOT + BENCH_PKT_OFF;
}

/* Make and protect the next packet of session s's lane into slot j.
 * Returns 1 if the sender failed. */
static unsigned int
make_packet(struct bench *b, enum lane l, uint32_t s, uint32_t j, unsigned int payload)
{
	struct duet_srtpe_stream *st = &b->snd[l][s];
	uint8_t *p = slot_p(b, j);
	uint32_t len = bench_rtp_build(p, s, b->seq[l][s]++, payload, &b->rng);
	enum duet_srtpe_verdict v;

	v = duet_srtpe_rtp_protect(b->mgr, key_at(b->key_snd, b->key_stride, s), st, p, &len,
				   PKT_CAP);
	b->meta[j].sess = s;
	b->meta[j].len = len;
	/* Sequence numbers only go up: the stream's index is this packet's. */
	b->meta[j].index = st->rtp_index;
	return v != DUET_SRTPE_OK;
}

/* Variant v's packets for slots [from, to), over the sessions uniformly
 * at random; returns the sender's failures. */
static uint64_t
fill(void *ctx, unsigned int v, uint32_t from, uint32_t to)
{
	struct bench *b = ctx;
	enum lane l = is_rekey(v) ? LANE_REKEY : LANE_VERIFY;
	uint64_t fail = 0;

	for (uint32_t j = from; j < to; j++)
		fail += make_packet(b, l, b->n == 1 ? 0 : bench_rng_below(&b->rng, b->n), j,
				    b->payload);
	return fail;
}

/* Read every cache line of slots [from, to): the packets are where a
 * worker's rx and parse would leave them (a chunk is well within L2), not
 * wherever the arena's size put them. Untimed. */
static void
touch(void *ctx, uint32_t from, uint32_t to)
{
	const struct bench *b = ctx;
	const volatile uint8_t *a = b->arena;
	uint8_t x = 0;

	for (size_t o = (size_t)from * BENCH_SLOT; o < (size_t)to * BENCH_SLOT; o += 64)
		x ^= a[o];
	__asm__ __volatile__("" : : "r"(x));
}

/* ---- engine ---- */

/* Burst x of k packets from slot j: each with its session's in key and
 * stream (st[session]), for op. */
static inline void
engine_burst(const struct bench *b, uint32_t j, unsigned int k, struct duet_srtpe_stream *st,
	     enum duet_srtpe_op op, struct duet_srtpe_pkt *x)
{
	for (unsigned int i = 0; i < k; i++) {
		const struct meta *mt = &b->meta[j + i];

		x[i].key = in_key(b, mt->sess);
		x[i].stream = &st[mt->sess];
		x[i].p = slot_p(b, j + i);
		x[i].len = mt->len;
		x[i].cap = PKT_CAP;
		x[i].op = op;
		x[i].flags = 0;
	}
}

static uint64_t
engine_verify(struct bench *b, IMB_MGR *m, uint32_t from, uint32_t to)
{
	struct duet_srtpe_pkt x[BURST];
	uint64_t fail = 0;

	for (uint32_t j = from; j < to; j += BURST) {
		unsigned int k = to - j < BURST ? to - j : BURST;

		engine_burst(b, j, k, b->sv, DUET_SRTPE_RTP_VERIFY, x);
		fail += k - duet_srtpe_burst(m, x, k);
	}
	return fail;
}

static uint64_t
engine_rekey(struct bench *b, IMB_MGR *m, uint32_t from, uint32_t to)
{
	struct duet_srtpe_pkt x[BURST], y[BURST];
	uint32_t at[BURST];
	uint64_t fail = 0;

	for (uint32_t j = from; j < to; j += BURST) {
		unsigned int k = to - j < BURST ? to - j : BURST, n = 0;

		engine_burst(b, j, k, b->ri, DUET_SRTPE_RTP_UNPROTECT, x);
		duet_srtpe_burst(m, x, k);
		/* The packets that came out OK go on, re-protected. */
		for (unsigned int i = 0; i < k; i++) {
			if (x[i].verdict != DUET_SRTPE_OK) {
				fail++;
				continue;
			}
			y[n] = x[i];
			y[n].key = out_key(b, b->meta[j + i].sess);
			y[n].stream = &b->ro[b->meta[j + i].sess];
			y[n].op = DUET_SRTPE_RTP_PROTECT;
			at[n++] = j + i;
		}
		duet_srtpe_burst(m, y, n);
		for (unsigned int i = 0; i < n; i++) {
			if (y[i].verdict != DUET_SRTPE_OK)
				fail++;
			else
				b->meta[at[i]].len = y[i].len;
		}
	}
	return fail;
}

/* ---- raw: the crypto only ---- */

/* Per packet of a raw burst. */
struct raw_slot {
	uint8_t iv[16];
	uint8_t tag[16]; /* the received tag, while the ROC sits there */
	uint8_t mac[12]; /* HMAC-SHA1, truncated by ipsec-mb to 12 */
	uint32_t at;	 /* where the tag starts: header + payload */
	uint8_t ok;
};

/* Submit the job made last; failed jobs (none expected) count as
 * failures. */
static unsigned int
raw_submit(IMB_MGR *m)
{
	IMB_JOB *j = IMB_SUBMIT_JOB(m);
	unsigned int bad = 0;

	while (j != NULL) {
		bad += j->status != IMB_STATUS_COMPLETED;
		j = IMB_GET_COMPLETED_JOB(m);
	}
	return bad;
}

static unsigned int
raw_flush(IMB_MGR *m)
{
	unsigned int bad = 0;
	IMB_JOB *j;

	while ((j = IMB_FLUSH_JOB(m)) != NULL)
		bad += j->status != IMB_STATUS_COMPLETED;
	return bad;
}

/* A job: HMAC-SHA1 over the first hash_len bytes at p (mac out), and, if
 * enc_len, AES-CTR over enc_len bytes from BENCH_RTP_HDR in place. */
static void
raw_job(IMB_MGR *m, const struct duet_srtpe_cm_keys *c, uint8_t *p, uint32_t hash_len,
	uint32_t enc_len, bool encrypt, struct raw_slot *r)
{
	IMB_JOB *j = IMB_GET_NEXT_JOB(m);

	j->enc_keys = c->aes;
	j->dec_keys = c->aes;
	j->key_len_in_bytes = 16;
	j->src = p;
	j->dst = p + BENCH_RTP_HDR;
	j->iv = r->iv;
	j->iv_len_in_bytes = 16;
	j->cipher_start_src_offset_in_bytes = BENCH_RTP_HDR;
	j->msg_len_to_cipher_in_bytes = enc_len;
	j->cipher_mode = enc_len ? IMB_CIPHER_CNTR : IMB_CIPHER_NULL;
	/* Out: encrypt, then hash the ciphertext; in: hash, then decrypt. */
	j->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	j->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	j->hash_alg = IMB_AUTH_HMAC_SHA_1;
	j->hash_start_src_offset_in_bytes = 0;
	j->msg_len_to_hash_in_bytes = hash_len;
	j->auth_tag_output = r->mac;
	j->auth_tag_output_len_in_bytes = 12;
	j->u.HMAC._hashed_auth_key_xor_ipad = c->ipad;
	j->u.HMAC._hashed_auth_key_xor_opad = c->opad;
	j->user_data = r;
	j->user_data2 = NULL;
}

/* The ROC after the packet, the tag kept aside: what HMAC-SHA1 covers. */
static void
raw_roc_in(struct raw_slot *r, uint8_t *p, uint32_t len, uint32_t tl, uint64_t index)
{
	r->at = len - tl;
	memcpy(r->tag, p + r->at, tl);
	duet_srtpe_put32(p + r->at, (uint32_t)(index >> 16));
}

/* The in half of a raw AES-CM burst of k packets from slot j, with
 * their sessions' in keys: HMAC-SHA1 of the packet and ROC, then, if
 * decrypt, AES-CTR decrypt. Returns failed jobs. */
static inline __attribute__((always_inline)) uint64_t
raw_cm_in(struct bench *b, IMB_MGR *m, uint32_t j, unsigned int k, bool decrypt,
	  struct raw_slot *r)
{
	uint64_t fail = 0;

	for (unsigned int i = 0; i < k; i++) {
		const struct meta *mt = &b->meta[j + i];
		const struct duet_srtpe_key *key = in_key(b, mt->sess);
		uint8_t *p = slot_p(b, j + i);
		uint32_t enc_len = 0;

		raw_roc_in(&r[i], p, mt->len, key->rtp_tag_len, mt->index);
		if (decrypt) {
			duet_srtpe_cm_iv(r[i].iv, key->rtp_salt, p + 8, mt->index);
			enc_len = r[i].at - BENCH_RTP_HDR;
		}
		raw_job(m, &key->u.cm.rtp, p, r[i].at + 4, enc_len, false, &r[i]);
		fail += raw_submit(m);
	}
	return fail + raw_flush(m);
}

/* Verify's second half: the tag put back, the MACs compared. */
static inline uint64_t
raw_cm_compare(struct bench *b, uint32_t j, unsigned int k, struct raw_slot *r)
{
	uint64_t fail = 0;

	for (unsigned int i = 0; i < k; i++) {
		const struct meta *mt = &b->meta[j + i];
		uint8_t *p = slot_p(b, j + i);
		uint32_t tl = mt->len - r[i].at;

		memcpy(p + r[i].at, r[i].tag, 4);
		fail += !duet_srtpe_tag_equal(r[i].mac, r[i].tag, tl);
	}
	return fail;
}

/* Rekey's second half: the MACs compared, then AES-CTR encrypt and
 * HMAC-SHA1 of the packet and ROC with the out keys (the same index: a
 * relay keeps the sequence numbers), the new tag written. */
static inline uint64_t
raw_cm_out(struct bench *b, IMB_MGR *m, uint32_t j, unsigned int k, struct raw_slot *r)
{
	uint64_t fail = 0;

	for (unsigned int i = 0; i < k; i++) {
		const struct meta *mt = &b->meta[j + i];
		const struct duet_srtpe_key *key = out_key(b, mt->sess);
		uint8_t *p = slot_p(b, j + i);

		r[i].ok = duet_srtpe_tag_equal(r[i].mac, r[i].tag, mt->len - r[i].at);
		if (!r[i].ok) {
			fail++;
			continue;
		}
		/* The ROC is still at r[i].at (the cipher stops before it). */
		duet_srtpe_cm_iv(r[i].iv, key->rtp_salt, p + 8, mt->index);
		raw_job(m, &key->u.cm.rtp, p, r[i].at + 4, r[i].at - BENCH_RTP_HDR, true, &r[i]);
		fail += raw_submit(m);
	}
	fail += raw_flush(m);
	for (unsigned int i = 0; i < k; i++) {
		struct meta *mt = &b->meta[j + i];
		const struct duet_srtpe_key *key = out_key(b, mt->sess);

		if (!r[i].ok)
			continue;
		memcpy(slot_p(b, j + i) + r[i].at, r[i].mac, key->rtp_tag_len);
		mt->len = r[i].at + key->rtp_tag_len;
	}
	return fail;
}

/* Start loading the keys raw will read for slots [j, j + k): the in key
 * of each packet's session, and its out key for rekey. */
static inline void
raw_prefetch(struct bench *b, uint32_t j, unsigned int k, bool rekey)
{
	for (unsigned int i = 0; i < k; i++) {
		uint32_t sess = b->meta[j + i].sess;
		const struct duet_srtpe_key *key[2] = {in_key(b, sess), out_key(b, sess)};

		for (unsigned int o = 0; o < (rekey ? 2u : 1u); o++) {
			__builtin_prefetch(key[o], 0, 3);
			if (suite_is_gcm(b->suite))
				duet_srtpe_prefetch_range(&key[o]->u.gcm.rtp,
							  sizeof(key[o]->u.gcm.rtp), false);
			else
				duet_srtpe_prefetch_range(&key[o]->u.cm.rtp,
							  sizeof(key[o]->u.cm.rtp), false);
		}
	}
}

/* Raw AES-CM verify or rekey, burst by burst; inlined into each of the
 * two below, so that neither tests rekey per packet. */
static inline __attribute__((always_inline)) uint64_t
raw_cm(struct bench *b, IMB_MGR *m, uint32_t from, uint32_t to, bool rekey)
{
	struct raw_slot r[BURST];
	uint64_t fail = 0;

	for (uint32_t j = from; j < to; j += BURST) {
		unsigned int k = to - j < BURST ? to - j : BURST;

		raw_prefetch(b, j, k, rekey);
		fail += raw_cm_in(b, m, j, k, rekey, r);
		fail += rekey ? raw_cm_out(b, m, j, k, r) : raw_cm_compare(b, j, k, r);
	}
	return fail;
}

static uint64_t
raw_cm_verify(struct bench *b, IMB_MGR *m, uint32_t from, uint32_t to)
{
	return raw_cm(b, m, from, to, false);
}

static uint64_t
raw_cm_rekey(struct bench *b, IMB_MGR *m, uint32_t from, uint32_t to)
{
	return raw_cm(b, m, from, to, true);
}

/* AES-GCM through the direct API: seal (encrypt) or open (decrypt), in
 * or out of place; the tag it computes to `tag`. */
static void
raw_gcm(IMB_MGR *m, const struct duet_srtpe_key *k, bool seal, uint8_t *dst, const uint8_t *src,
	uint64_t len, const uint8_t iv[12], const uint8_t *aad, uint8_t tag[16])
{
	aes_gcm_enc_dec_t f = k->gcm_key_len == 16 ? (seal ? m->gcm128_enc : m->gcm128_dec)
						    : (seal ? m->gcm256_enc : m->gcm256_dec);
	struct gcm_context_data ctx;

	f(&k->u.gcm.rtp, &ctx, dst, src, len, iv, aad, BENCH_RTP_HDR, tag, 16);
}

static uint64_t
raw_gcm_verify(struct bench *b, IMB_MGR *m, uint32_t from, uint32_t to)
{
	uint8_t scratch[BENCH_SLOT] __attribute__((aligned(64)));
	uint8_t iv[12], calc[16];
	uint64_t fail = 0;

	/* The direct API takes one packet a call: the burst is a loop. */
	for (uint32_t j = from; j < to; j++) {
		const struct meta *mt = &b->meta[j];

		if ((j - from) % BURST == 0)
			raw_prefetch(b, j, to - j < BURST ? to - j : BURST, false);
		const struct duet_srtpe_key *key = in_key(b, mt->sess);
		uint8_t *p = slot_p(b, j);
		uint32_t clen = mt->len - BENCH_RTP_HDR - 16;

		duet_srtpe_gcm_rtp_iv(iv, key->rtp_salt, p + 8, mt->index);
		raw_gcm(m, key, false, scratch, p + BENCH_RTP_HDR, clen, iv, p, calc);
		fail += !duet_srtpe_tag_equal(calc, p + BENCH_RTP_HDR + clen, 16);
	}
	return fail;
}

static uint64_t
raw_gcm_rekey(struct bench *b, IMB_MGR *m, uint32_t from, uint32_t to)
{
	uint8_t iv[12], calc[16];
	uint64_t fail = 0;

	for (uint32_t j = from; j < to; j++) {
		struct meta *mt = &b->meta[j];

		if ((j - from) % BURST == 0)
			raw_prefetch(b, j, to - j < BURST ? to - j : BURST, true);
		const struct duet_srtpe_key *kin = in_key(b, mt->sess);
		const struct duet_srtpe_key *kout = out_key(b, mt->sess);
		uint8_t *p = slot_p(b, j);
		uint32_t clen = mt->len - BENCH_RTP_HDR - 16;

		duet_srtpe_gcm_rtp_iv(iv, kin->rtp_salt, p + 8, mt->index);
		raw_gcm(m, kin, false, p + BENCH_RTP_HDR, p + BENCH_RTP_HDR, clen, iv, p, calc);
		if (!duet_srtpe_tag_equal(calc, p + BENCH_RTP_HDR + clen, 16)) {
			fail++;
			continue;
		}
		duet_srtpe_gcm_rtp_iv(iv, kout->rtp_salt, p + 8, mt->index);
		raw_gcm(m, kout, true, p + BENCH_RTP_HDR, p + BENCH_RTP_HDR, clen, iv, p,
			p + BENCH_RTP_HDR + clen);
		mt->len = BENCH_RTP_HDR + clen + 16;
	}
	return fail;
}

/* Run slots [from, to) through variant v; returns failed packets.
 * noinline: each variant is one call, easy to find in a profile. */
static __attribute__((noinline)) uint64_t
run_range(void *ctx, unsigned int v, uint32_t from, uint32_t to)
{
	struct bench *b = ctx;
	IMB_MGR *m = is_sse(v) ? b->mgr_sse : b->mgr;
	bool gcm = suite_is_gcm(b->suite);

	switch (v) {
	case V_ENGINE_VERIFY:
	case V_ENGINE_VERIFY_SSE:
		return engine_verify(b, m, from, to);
	case V_ENGINE_REKEY:
	case V_ENGINE_REKEY_SSE:
		return engine_rekey(b, m, from, to);
	case V_RAW_VERIFY:
	case V_RAW_VERIFY_SSE:
		return gcm ? raw_gcm_verify(b, m, from, to) : raw_cm_verify(b, m, from, to);
	case V_RAW_REKEY:
	case V_RAW_REKEY_SSE:
		return gcm ? raw_gcm_rekey(b, m, from, to) : raw_cm_rekey(b, m, from, to);
	default:
		return to - from;
	}
}

/* ---- self-check ---- */

static void
check_fail(const char *suite, const char *what)
{
	fprintf(stderr, "bench_srtpe: %s: self-check: %s\n", suite, what);
	exit(1);
}

/*
 * One packet through the engine and through raw, on fresh streams, for
 * each manager: verify accepts it and leaves it as it was, both refuse it
 * with a payload byte flipped, and rekey gives the same bytes both ways
 * (so raw does the same crypto on the same key state). Slots: 0 the
 * packet, 1-2 copies, 3 tampered.
 */
static void
self_check(enum duet_srtp_suite suite, unsigned int payload, bool no_sse)
{
	const char *sname = duet_srtp_suite_name(suite);
	struct bench b;
	uint8_t orig[BENCH_SLOT];
	uint32_t len;

	bench_setup(&b, suite, 1, 4, 0x73656c66u, no_sse);
	for (int pass = 0; pass < (b.mgr_sse ? 2 : 1); pass++) {
		bool sse = pass == 1;
		enum variant ev = sse ? V_ENGINE_VERIFY_SSE : V_ENGINE_VERIFY;
		enum variant rv = sse ? V_RAW_VERIFY_SSE : V_RAW_VERIFY;
		enum variant er = sse ? V_ENGINE_REKEY_SSE : V_ENGINE_REKEY;
		enum variant rr = sse ? V_RAW_REKEY_SSE : V_RAW_REKEY;

		memset(b.sv, 0, sizeof(*b.sv));
		memset(b.ri, 0, sizeof(*b.ri));
		memset(b.ro, 0, sizeof(*b.ro));
		if (make_packet(&b, LANE_VERIFY, 0, 0, payload) != 0)
			check_fail(sname, "the sender's protect failed");
		len = b.meta[0].len;
		memcpy(orig, slot_p(&b, 0), len);
		for (uint32_t j = 1; j < 4; j++) {
			memcpy(slot_p(&b, j), orig, len);
			b.meta[j] = b.meta[0];
		}
		slot_p(&b, 3)[BENCH_RTP_HDR + 1] ^= 0x01;
		if (run_range(&b, rv, 3, 4) != 1 || run_range(&b, ev, 3, 4) != 1)
			check_fail(sname, "a tampered packet passed verify");
		if (run_range(&b, rv, 1, 2) != 0 || run_range(&b, ev, 2, 3) != 0)
			check_fail(sname, "verify refused the sender's packet");
		if (memcmp(slot_p(&b, 1), orig, len) != 0 || memcmp(slot_p(&b, 2), orig, len) != 0)
			check_fail(sname, "verify changed the packet");
		if (run_range(&b, er, 1, 2) != 0 || run_range(&b, rr, 2, 3) != 0)
			check_fail(sname, "rekey refused the sender's packet");
		if (b.meta[1].len != b.meta[2].len ||
		    memcmp(slot_p(&b, 1), slot_p(&b, 2), b.meta[1].len) != 0)
			check_fail(sname, "engine and raw rekey made different packets");
		if (memcmp(slot_p(&b, 1), orig, BENCH_RTP_HDR) != 0 ||
		    memcmp(slot_p(&b, 1), orig, len) == 0)
			check_fail(sname, "rekey left the packet as it was, or changed its header");
	}
	bench_free(&b);
}

/* ---- options, rounds ---- */

static const struct bench_spec spec = {
	.prog = "bench_srtpe",
	.usage =
		"usage: bench_srtpe --suite NAME --sessions N [--payload BYTES] [--packets M]\n"
		"                   [--warmup W] [--runs R] [--seed S] [--chunk C] [--no-sse]\n"
		"                   [--cold-packets]\n"
		"                   [--turn-in FD --turn-out FD] [--only VARIANT]\n"
		"  per round and variant: min(W, max(N, 1000)) untimed packets, then M timed,\n"
		"  over N sessions uniformly at random, in bursts of 32, the variants taking\n"
		"  turns every C packets (C a multiple of 32; W and M rounded up to C); R\n"
		"  rounds. --payload: RTP payload bytes (160: 172-byte packets). With\n"
		"  --turn-in/--turn-out a round starts only when a byte arrives on turn-in;\n"
		"  a byte goes to turn-out once set up and after each round. --only runs one\n"
		"  variant (engine_verify, raw_verify, engine_rekey, raw_rekey, or one of\n"
		"  them with _sse), e.g. under perf. --no-sse: no _sse variants.\n"
		"  --cold-packets: no read of a chunk's packets before it is timed.\n",
	.variant_name = variant_name,
	.variants = V_COUNT,
	.flags = flag_name,
	.payload_default = 160,
	.payload_max = MAX_PAYLOAD,
	.chunk_default = 512,
	.chunk_unit = BURST,
};

/* The variants of a round in chunk order; in odd chunks (order_swapped),
 * engine and raw of each pair trade places. */
static const unsigned int order[V_COUNT] = {
	V_RAW_VERIFY,	  V_ENGINE_VERIFY,     V_RAW_REKEY,	V_ENGINE_REKEY,
	V_RAW_VERIFY_SSE, V_ENGINE_VERIFY_SSE, V_RAW_REKEY_SSE, V_ENGINE_REKEY_SSE,
};
static const unsigned int order_swapped[V_COUNT] = {
	V_ENGINE_VERIFY,     V_RAW_VERIFY,     V_ENGINE_REKEY,	   V_RAW_REKEY,
	V_ENGINE_VERIFY_SSE, V_RAW_VERIFY_SSE, V_ENGINE_REKEY_SSE, V_RAW_REKEY_SSE,
};

/* Memory per pair (two directions) from the structs and from malloc. */
static void
print_memory(const struct bench *b, const struct bench_opts *o)
{
	const char *sname = duet_srtp_suite_name(o->suite);
	const size_t st = sizeof(struct duet_srtpe_stream), ks = sizeof(struct duet_srtpe_key);
	const double mk = (double)b->malloc_key / b->n, ms = (double)b->malloc_stream / b->n;

	printf("srtpe,%s/key,%u,suite_bytes,%zu,B,0\n", sname, o->sessions, b->key_bytes);
	printf("srtpe,%s/verify,%u,bytes_per_pair,%zu,B,0\n", sname, o->sessions,
	       2 * (b->key_stride + st));
	printf("srtpe,%s/rekey,%u,bytes_per_pair,%zu,B,0\n", sname, o->sessions,
	       2 * (2 * b->key_stride + 2 * st));
	printf("srtpe,%s/verify,%u,bytes_per_pair_struct,%zu,B,0\n", sname, o->sessions,
	       2 * (ks + st));
	printf("srtpe,%s/rekey,%u,bytes_per_pair_struct,%zu,B,0\n", sname, o->sessions,
	       2 * (2 * ks + 2 * st));
	/* key_out and the rekey streams are allocated as key_in and sv are. */
	printf("srtpe,%s/verify,%u,malloc_bytes_per_pair,%.0f,B,0\n", sname, o->sessions,
	       2 * (mk + ms));
	printf("srtpe,%s/rekey,%u,malloc_bytes_per_pair,%.0f,B,0\n", sname, o->sessions,
	       2 * (2 * mk + 2 * ms));
}

int
main(int argc, char **argv)
{
	struct bench_rounds r = {
		.bench = "srtpe",
		.spec = &spec,
		.order = {order, order_swapped},
		.sender_row = true,
		.fill = fill,
		.run = run_range,
	};
	const char *sname;
	struct bench b;
	struct bench_opts o;
	unsigned int vs[V_COUNT];
	uint32_t slots, nv;
	uint64_t fail;
	double t0;

	bench_parse_args(argc, argv, &spec, &o);
	sname = duet_srtp_suite_name(o.suite);
	self_check(o.suite, o.payload, o.flags & FLAG_NO_SSE);

	t0 = bench_now_ns();
	/* Slots for every variant there may be; the _sse ones are known once
	 * the managers are made. */
	nv = bench_variants_on(&r, &o, false, vs);
	slots = nv * (bench_warmup_count(&o) + bench_timed_count(&o));
	bench_setup(&b, o.suite, o.sessions, slots, o.seed ^ o.suite, o.flags & FLAG_NO_SSE);
	b.payload = o.payload;
	printf("srtpe,%s/auto_arch,%u,imb_arch,%u,enum,0\n", sname, o.sessions,
	       (unsigned int)b.mgr->used_arch);
	printf("srtpe,%s/packet,%u,rtp_bytes,%u,B,0\n", sname, o.sessions,
	       BENCH_RTP_HDR + o.payload);
	printf("srtpe,%s/key_init,%u,us_per_key,%.2f,us,0\n", sname, o.sessions,
	       b.key_init_ns / 1e3);
	print_memory(&b, &o);
	fflush(stdout);
	fprintf(stderr,
		"bench_srtpe: %s: %u sessions set up in %.2f s; manager IMB_ARCH %u%s; "
		"%u-byte RTP packets\n",
		sname, o.sessions, (bench_now_ns() - t0) / 1e9, (unsigned int)b.mgr->used_arch,
		b.mgr_sse ? ", and SSE for the _sse variants" : "", BENCH_RTP_HDR + o.payload);

	r.label = sname;
	r.ctx = &b;
	if (b.mgr_sse == NULL)
		r.skip = 1u << V_RAW_VERIFY_SSE | 1u << V_ENGINE_VERIFY_SSE |
			 1u << V_RAW_REKEY_SSE | 1u << V_ENGINE_REKEY_SSE;
	r.touch = o.flags & FLAG_COLD ? NULL : touch;
	fail = bench_rounds_run(&r, &o);
	bench_free(&b);
	if (fail != 0) {
		fprintf(stderr, "bench_srtpe: %s N=%u: %lu packets failed: figures not valid\n",
			sname, o.sessions, (unsigned long)fail);
		return 1;
	}
	return 0;
}
