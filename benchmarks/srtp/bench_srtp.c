/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SRTP cost per packet (issue "Benchmarks", item 3): raw libsrtp2
 * unprotect, protect and unprotect+protect, and duet's own fast path
 * (duet_srtp_verify / duet_srtp_rekey from duet_srtp_fp.h, called exactly as
 * lib/worker does: busy flag take, the call on a payload 2 bytes off 32-bit
 * alignment with the per-lcore scratch buffer, give), over 1 .. 100,000
 * live sessions, each with its own keys, packets spread uniformly at random
 * over the sessions. One thread, no DPDK.
 *
 * The same source is built twice (benchmarks/srtp/meson.build): against
 * duet's static OpenSSL libsrtp2 and against Debian's NSS libsrtp2.so; the
 * two cannot share a process (same symbols). BENCH_SRTP_CRYPTO names the
 * build in the output. To measure both builds, and every session count,
 * in turns (A, B, A, B, ...) with their sessions set up once, run.sh starts
 * one process per build and count, each on a pair of FIFOs
 * (--turn-in/--turn-out), and hands the turn round: a process says when
 * its sessions are set up, then runs one round of every variant each time
 * it is handed the turn, and says when it is done.
 *
 * One process holds exactly N live sessions of one suite (NSS's per-packet
 * cost grows with the number of live sessions in the process, so N must
 * not be a subset of a larger set). Per index: the sender's outbound
 * session(s) making the packets (untimed), a verify-mode inbound session
 * and a rekey-mode inbound + outbound pair (duet_srtp_sess_new, as duetd's
 * control thread makes them), each in a cache-aligned struct
 * duet_srtp_ctx like lib/pair's. Raw variants call srtp_unprotect /
 * srtp_protect directly on those sessions, so raw and duet do the same
 * libsrtp2 work on the same state.
 *
 * A round runs every variant over the same number of packets, the
 * variants taking turns chunk by chunk (--chunk), so raw and duet doing
 * the same work meet the same machine; their per-round ratio is what the
 * goals compare. Raw and duet of a pair swap places every other chunk, so
 * neither always finds the sessions the other just brought into cache.
 * Time is this thread's CPU time. The options, rounds, turns and timing
 * are bench_harness.c's, shared with bench_srtpe.c.
 *
 * Replay protection: every receiving session sees strictly increasing
 * sequence numbers (with gaps far below 2^15, so the ROC estimate holds),
 * and every outbound session protects each index once. Every packet whose
 * verdict is not OK is counted; the program prints the count per variant
 * and exits 1 if any is not 0.
 *
 * Output: CSV rows (no header) on stdout:
 *   srtp,<crypto>/<suite>/<variant>,<sessions>,ns_per_pkt,<value>,ns,<run>
 *   srtp,<crypto>/<suite>/<variant>,<sessions>,failures,<count>,pkts,<run>
 *   srtp,<crypto>/<suite>/session_create,<sessions>,us_per_session,<v>,us,0
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_harness.h"
#include "duet_sdes.h"
#include "duet_srtp.h"
#include "duet_srtp_fp.h"

#ifndef BENCH_SRTP_CRYPTO
#define BENCH_SRTP_CRYPTO "openssl"
#endif

/* In a packet slot of the arena (BENCH_SLOT bytes), duet sees the packet
 * at BENCH_PKT_OFF, as duetd does; raw libsrtp2 passes get a 32-bit
 * aligned copy at +44 (libsrtp2 needs alignment). */
#define RAW_OFF 44
/* Largest RTP payload that fits a slot with the longest tag (16 bytes). */
#define MAX_PAYLOAD (BENCH_SLOT - RAW_OFF - BENCH_RTP_HDR - 16)
/* The room duet_srtp_rekey is told it has at p: an mbuf's 2048-byte data
 * room after the UDP header. What it writes back fits the slot (the new
 * tag is at most 16 bytes); the room only feeds its length check. */
#define MBUF_CAP (2048 - BENCH_PKT_OFF)

enum variant {
	V_RAW_UNPROTECT,	 /* srtp_unprotect, full inbound session (rekey's in) */
	V_RAW_UNPROTECT_PROTECT, /* srtp_unprotect then srtp_protect (rekey's in, out) */
	V_DUET_REKEY,		 /* duet_srtp_rekey */
	V_RAW_PROTECT,		 /* srtp_protect, outbound session (rekey's out) */
	V_RAW_VERIFY,		 /* srtp_unprotect on the session verify mode makes */
	V_DUET_VERIFY,		 /* duet_srtp_verify */
	V_COUNT,
};

_Static_assert(V_COUNT <= BENCH_VARIANTS_MAX, "more variants than bench_harness.c holds");

static const char *const variant_name[V_COUNT] = {
	[V_RAW_UNPROTECT] = "raw_unprotect",
	[V_RAW_UNPROTECT_PROTECT] = "raw_unprotect_protect",
	[V_DUET_REKEY] = "duet_rekey",
	[V_RAW_PROTECT] = "raw_protect",
	[V_RAW_VERIFY] = "raw_verify",
	[V_DUET_VERIFY] = "duet_verify",
};

/* The variants of a round in chunk order; in odd chunks (order_swapped),
 * raw and duet of each pair trade places. */
static const unsigned int order[V_COUNT] = {
	V_RAW_VERIFY, V_DUET_VERIFY, V_RAW_UNPROTECT, V_RAW_UNPROTECT_PROTECT,
	V_DUET_REKEY, V_RAW_PROTECT,
};
static const unsigned int order_swapped[V_COUNT] = {
	V_DUET_VERIFY, V_RAW_VERIFY, V_RAW_UNPROTECT, V_DUET_REKEY,
	V_RAW_UNPROTECT_PROTECT, V_RAW_PROTECT,
};

/* N sessions of one suite. A receiver skips the sequence numbers its
 * sender spends on the other variants' chunks, and that gap must stay far
 * below 2^15 for libsrtp2's ROC estimate. With few sessions a session sees
 * up to a whole chunk per variant: then two senders per index (one for the
 * verify receiver, one for the rekey pair) hold the gap to one chunk
 * (--chunk is at most 20000). With many, one sender serves both
 * (send_r == send_v): a session sees a few packets per chunk. */
struct bench {
	enum duet_srtp_suite suite;
	uint32_t n;
	srtp_t *send_v;			/* outbound, sender's key: packets for verify */
	srtp_t *send_r;			/* outbound, sender's key: packets for rekey */
	uint32_t *seq_v, *seq_r;	/* next sequence number (16 bits on the wire) */
	struct duet_srtp_ctx *vctx;	/* verify mode: in = verify-only session */
	struct duet_srtp_ctx *rctx;	/* rekey mode: in and out */
	uint8_t *arena;
	uint32_t *sidx;
	uint8_t *scratch;
	unsigned int payload;		/* RTP payload bytes */
	int *lens;			/* per slot: the packet's length */
	bool two_senders;
	uint64_t rng;
};

#define TWO_SENDERS_MAX 1000


static uint64_t
rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static struct duet_srtp_sess *
xsess(const struct duet_sdes *k, enum duet_srtp_dir dir, bool verify_only)
{
	struct duet_srtp_sess *x = duet_srtp_sess_new(k, dir, verify_only);

	if (x == NULL)
		bench_die("duet_srtp_sess_new failed");
	return x;
}

static srtp_t
xsession(const struct duet_sdes *k, enum duet_srtp_dir dir)
{
	srtp_t s;

	if (duet_srtp_session_new(k, dir, &s) != 0)
		bench_die("duet_srtp_session_new failed");
	return s;
}

/* Build (and, unless plain, protect with the session's sender) the next
 * packet of session i into buf (32-bit aligned). Returns its length. */
static int
next_packet(struct bench *b, uint32_t i, bool for_verify, bool plain, uint8_t *buf,
	    uint64_t *fail)
{
	uint32_t *ctr = for_verify ? &b->seq_v[i] : &b->seq_r[i];
	srtp_t snd = for_verify ? b->send_v[i] : b->send_r[i];
	int len = (int)bench_rtp_build(buf, i, (*ctr)++, b->payload, &b->rng);

	if (!plain && srtp_protect(snd, buf, &len) != srtp_err_status_ok)
		(*fail)++;
	return len;
}

/* Every receiving and outbound session handles one packet before timing:
 * the first packet of an ssrc_any session allocates its stream. */
static uint64_t
prime(struct bench *b)
{
	uint8_t buf[BENCH_SLOT] __attribute__((aligned(64)));
	uint64_t fail = 0;
	int len;

	for (uint32_t i = 0; i < b->n; i++) {
		len = next_packet(b, i, true, false, buf, &fail);
		if (srtp_unprotect(b->vctx[i].in->s, buf, &len) != srtp_err_status_ok)
			fail++;
		len = next_packet(b, i, false, false, buf, &fail);
		if (srtp_unprotect(b->rctx[i].in->s, buf, &len) != srtp_err_status_ok)
			fail++;
		if (srtp_protect(b->rctx[i].out->s, buf, &len) != srtp_err_status_ok)
			fail++;
	}
	return fail;
}

static void
bench_setup(struct bench *b, const struct bench_opts *o, uint32_t slots)
{
	const enum duet_srtp_suite suite = o->suite;
	const uint32_t n = o->sessions;
	struct duet_sdes kin, kout;

	memset(b, 0, sizeof(*b));
	b->suite = suite;
	b->n = n;
	b->payload = o->payload;
	b->rng = o->seed ^ suite;
	b->two_senders = n <= TWO_SENDERS_MAX;
	b->send_v = calloc(n, sizeof(*b->send_v));
	b->seq_v = calloc(n, sizeof(*b->seq_v));
	b->send_r = b->two_senders ? calloc(n, sizeof(*b->send_r)) : b->send_v;
	b->seq_r = b->two_senders ? calloc(n, sizeof(*b->seq_r)) : b->seq_v;
	if (!b->send_v || !b->send_r || !b->seq_v || !b->seq_r)
		bench_die("out of memory");
	/* Like lib/pair: one cache-aligned struct duet_srtp_ctx per direction. */
	b->vctx = bench_zalloc(64, (size_t)n * sizeof(*b->vctx), false);
	b->rctx = bench_zalloc(64, (size_t)n * sizeof(*b->rctx), false);
	for (uint32_t i = 0; i < n; i++) {
		bench_sdes_make(&b->rng, suite, &kin);
		bench_sdes_make(&b->rng, suite, &kout);
		b->send_v[i] = xsession(&kin, DUET_SRTP_OUTBOUND);
		if (b->two_senders)
			b->send_r[i] = xsession(&kin, DUET_SRTP_OUTBOUND);
		b->vctx[i].in = xsess(&kin, DUET_SRTP_INBOUND, true);
		b->rctx[i].in = xsess(&kin, DUET_SRTP_INBOUND, false);
		b->rctx[i].out = xsess(&kout, DUET_SRTP_OUTBOUND, false);
		/* Random start, as RFC 3550 asks, but below 2^14: a receiver's
		 * first packet must carry ROC 0 (a stream starting at 65535
		 * would wrap between its verify and rekey receivers' first
		 * packets, and a new libsrtp2 stream assumes ROC 0). */
		b->seq_v[i] = b->seq_r[i] = (uint32_t)bench_rng_next(&b->rng) & 0x3fff;
	}
	duet_sdes_wipe(&kin);
	duet_sdes_wipe(&kout);
	b->arena = bench_zalloc(64, (size_t)slots * BENCH_SLOT, false);
	b->sidx = calloc(slots, sizeof(*b->sidx));
	b->scratch = bench_zalloc(64, DUET_SRTP_SCRATCH, false);
	if (b->sidx == NULL)
		bench_die("out of memory");
}

/* Make the packets of slots [from, to) for variant v, over the sessions
 * uniformly at random. Returns the sender's failures. Slots are made in
 * the order they will be run, so every session's packets reach each of
 * its receivers in sequence order. */
static uint64_t
fill(void *ctx, unsigned int v, uint32_t from, uint32_t to)
{
	struct bench *b = ctx;
	bool for_verify = v == V_RAW_VERIFY || v == V_DUET_VERIFY;
	bool plain = v == V_RAW_PROTECT;
	const size_t off = v == V_DUET_VERIFY || v == V_DUET_REKEY ? BENCH_PKT_OFF : RAW_OFF;
	uint8_t buf[BENCH_SLOT] __attribute__((aligned(64)));
	uint64_t fail = 0;

	for (uint32_t j = from; j < to; j++) {
		uint32_t i = b->n == 1 ? 0 : bench_rng_below(&b->rng, b->n);
		int len = next_packet(b, i, for_verify, plain, buf, &fail);

		b->sidx[j] = i;
		b->lens[j] = len;
		memcpy(b->arena + (size_t)j * BENCH_SLOT + off, buf, (size_t)len);
	}
	return fail;
}

/* Run packets [from, to) of the arena through variant v; returns failures.
 * noinline: each variant is one loop, easy to find in a profile. */
static __attribute__((noinline)) uint64_t
run_range(void *ctx, unsigned int v, uint32_t from, uint32_t to)
{
	struct bench *b = ctx;
	int *const lens = b->lens;
	const uint64_t now = rdtsc();
	uint8_t *const scratch = b->scratch;
	uint64_t fail = 0;

	switch (v) {
	case V_RAW_UNPROTECT:
		for (uint32_t j = from; j < to; j++) {
			uint8_t *p = b->arena + (size_t)j * BENCH_SLOT + RAW_OFF;

			fail += srtp_unprotect(b->rctx[b->sidx[j]].in->s, p, &lens[j]) !=
				srtp_err_status_ok;
		}
		break;
	case V_RAW_VERIFY:
		for (uint32_t j = from; j < to; j++) {
			uint8_t *p = b->arena + (size_t)j * BENCH_SLOT + RAW_OFF;

			fail += srtp_unprotect(b->vctx[b->sidx[j]].in->s, p, &lens[j]) !=
				srtp_err_status_ok;
		}
		break;
	case V_RAW_PROTECT:
		for (uint32_t j = from; j < to; j++) {
			uint8_t *p = b->arena + (size_t)j * BENCH_SLOT + RAW_OFF;

			fail += srtp_protect(b->rctx[b->sidx[j]].out->s, p, &lens[j]) !=
				srtp_err_status_ok;
		}
		break;
	case V_RAW_UNPROTECT_PROTECT:
		for (uint32_t j = from; j < to; j++) {
			struct duet_srtp_ctx *c = &b->rctx[b->sidx[j]];
			uint8_t *p = b->arena + (size_t)j * BENCH_SLOT + RAW_OFF;

			if (srtp_unprotect(c->in->s, p, &lens[j]) != srtp_err_status_ok ||
			    srtp_protect(c->out->s, p, &lens[j]) != srtp_err_status_ok)
				fail++;
		}
		break;
	case V_DUET_VERIFY:
		/* As duet_worker_srtp_in does it in verify mode. */
		for (uint32_t j = from; j < to; j++) {
			struct duet_srtp_ctx *sc = &b->vctx[b->sidx[j]];
			const uint8_t *p = b->arena + (size_t)j * BENCH_SLOT + BENCH_PKT_OFF;
			enum duet_srtp_verdict sv;

			if (!duet_srtp_ctx_take(sc)) {
				sv = DUET_SRTP_BUSY;
			} else {
				sv = duet_srtp_verify(sc, p, lens[j], scratch, now);
				duet_srtp_ctx_give(sc);
			}
			fail += sv != DUET_SRTP_OK;
		}
		break;
	case V_DUET_REKEY:
		/* As duet_worker_srtp_in does it in rekey mode; cap is the room
		 * after the payload start, as in an mbuf. */
		for (uint32_t j = from; j < to; j++) {
			struct duet_srtp_ctx *sc = &b->rctx[b->sidx[j]];
			uint8_t *p = b->arena + (size_t)j * BENCH_SLOT + BENCH_PKT_OFF;
			enum duet_srtp_verdict sv;

			if (!duet_srtp_ctx_take(sc)) {
				sv = DUET_SRTP_BUSY;
			} else {
				sv = duet_srtp_rekey(sc, p, &lens[j], MBUF_CAP, scratch, now);
				duet_srtp_ctx_give(sc);
			}
			fail += sv != DUET_SRTP_OK;
		}
		break;
	default:
		break;
	}
	return fail;
}

static const struct bench_spec spec = {
	.prog = "bench_srtp",
	.usage =
		"usage: bench_srtp --suite NAME --sessions N [--payload BYTES] [--packets M]\n"
		"                  [--warmup W] [--runs R] [--seed S]\n"
		"                  [--turn-in FD --turn-out FD] [--only VARIANT]\n"
		"                  [--chunk C]\n"
		"  per round and variant: min(W, max(N, 1000)) untimed packets, then M timed,\n"
		"  over N sessions uniformly at random, the variants taking turns every C\n"
		"  packets (both rounded up to C); R rounds. With --turn-in/--turn-out a\n"
		"  round starts only when a byte arrives on turn-in; a byte goes to turn-out\n"
		"  once the sessions are set up and after each round. --only runs one\n"
		"  variant (raw_verify, duet_verify, raw_unprotect, raw_unprotect_protect,\n"
		"  duet_rekey, raw_protect), e.g. under perf.\n",
	.variant_name = variant_name,
	.variants = V_COUNT,
	.payload_default = 100,
	.payload_max = MAX_PAYLOAD,
	.chunk_default = 500,
	.chunk_unit = 1,
};

/* The first session made pays for loading the crypto library's
 * algorithms: make and drop one, so that session_create does not count it. */
static void
warm_library(enum duet_srtp_suite suite)
{
	struct duet_sdes k;
	uint64_t r = 1;

	bench_sdes_make(&r, suite, &k);
	duet_srtp_sess_free(xsess(&k, DUET_SRTP_INBOUND, false));
	duet_sdes_wipe(&k);
}

int
main(int argc, char **argv)
{
	char label[64];
	struct bench_rounds r = {
		.bench = "srtp",
		.label = label,
		.spec = &spec,
		.order = {order, order_swapped},
		.fill = fill,
		.run = run_range,
	};
	const char *sname;
	uint64_t fail;
	struct bench b;
	struct bench_opts o;
	unsigned int vs[V_COUNT];
	uint32_t slots, nv;
	double t0, t1;
	int *lens;

	bench_parse_args(argc, argv, &spec, &o);
	sname = duet_srtp_suite_name(o.suite);
	snprintf(label, sizeof(label), "%s/%s", BENCH_SRTP_CRYPTO, sname);
	nv = bench_variants_on(&r, &o, false, vs);
	slots = nv * (bench_warmup_count(&o) + bench_timed_count(&o));
	if (duet_srtp_init() != 0)
		bench_die("srtp_init failed");
	warm_library(o.suite);

	t0 = bench_now_ns();
	bench_setup(&b, &o, slots);
	t1 = bench_now_ns();
	printf("srtp,%s/session_create,%u,us_per_session,%.2f,us,0\n", label, o.sessions,
	       (t1 - t0) / 1e3 / ((b.two_senders ? 5.0 : 4.0) * o.sessions));
	lens = calloc(slots, sizeof(*lens));
	if (lens == NULL)
		bench_die("out of memory");
	b.lens = lens;
	fail = prime(&b);
	fprintf(stderr, "bench_srtp: %s %s: %u sessions set up in %.2f s, primed in %.2f s\n",
		BENCH_SRTP_CRYPTO, sname, o.sessions, (t1 - t0) / 1e9, (bench_now_ns() - t1) / 1e9);

	r.ctx = &b;
	fail += bench_rounds_run(&r, &o);
	/* No teardown: NSS frees its contexts in time quadratic in their
	 * number, and the process exit reclaims everything. */
	free(lens);
	if (fail != 0) {
		fprintf(stderr, "bench_srtp: %s %s N=%u: %lu packets failed: figures not valid\n",
			BENCH_SRTP_CRYPTO, sname, o.sessions, (unsigned long)fail);
		return 1;
	}
	return 0;
}
