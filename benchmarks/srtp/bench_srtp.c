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
 * Time is this thread's CPU time (see cpu_ns).
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
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "duet_sdes.h"
#include "duet_srtp.h"
#include "duet_srtp_fp.h"

#ifndef BENCH_SRTP_CRYPTO
#define BENCH_SRTP_CRYPTO "openssl"
#endif

/* A packet slot in the arena, like an mbuf's data room: the UDP payload
 * sits at +42 after Ethernet/IPv4/UDP, as duetd sees it; raw libsrtp2
 * passes get a 32-bit aligned copy at +44 (libsrtp2 needs alignment). */
#define SLOT 256
#define DUET_OFF 42
#define RAW_OFF 44
#define RTP_HDR 12
/* Largest RTP payload that fits a slot with the longest tag (16 bytes). */
#define MAX_PAYLOAD (SLOT - RAW_OFF - RTP_HDR - 16)
/* The room duet_srtp_rekey is told it has at p: an mbuf's 2048-byte data
 * room after the UDP header. What it writes back fits the slot (the new
 * tag is at most 16 bytes); the room only feeds its length check. */
#define MBUF_CAP (2048 - DUET_OFF)

enum variant {
	V_RAW_UNPROTECT,	 /* srtp_unprotect, full inbound session (rekey's in) */
	V_RAW_UNPROTECT_PROTECT, /* srtp_unprotect then srtp_protect (rekey's in, out) */
	V_DUET_REKEY,		 /* duet_srtp_rekey */
	V_RAW_PROTECT,		 /* srtp_protect, outbound session (rekey's out) */
	V_RAW_VERIFY,		 /* srtp_unprotect on the session verify mode makes */
	V_DUET_VERIFY,		 /* duet_srtp_verify */
	V_COUNT,
};

static const char *const variant_name[V_COUNT] = {
	[V_RAW_UNPROTECT] = "raw_unprotect",
	[V_RAW_UNPROTECT_PROTECT] = "raw_unprotect_protect",
	[V_DUET_REKEY] = "duet_rekey",
	[V_RAW_PROTECT] = "raw_protect",
	[V_RAW_VERIFY] = "raw_verify",
	[V_DUET_VERIFY] = "duet_verify",
};

struct opts {
	enum duet_srtp_suite suite;
	uint32_t sessions;	/* live sessions (N) */
	unsigned int payload;	/* RTP payload bytes */
	uint32_t packets;	/* timed packets per variant and round */
	uint32_t warmup;	/* untimed packets before each (at most) */
	uint32_t chunk;		/* packets of one variant before the next one's turn */
	unsigned int runs;	/* rounds, numbered 1..runs */
	uint64_t seed;
	int turn_in, turn_out;	/* FIFOs for taking turns; -1: alone */
	int only;		/* one variant (for profiling), or -1 for all */
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
	bool two_senders;
	uint64_t rng;
};

#define TWO_SENDERS_MAX 1000

static uint64_t
rng_next(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t
rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((unsigned __int128)rng_next(s) * n) >> 64);
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/*
 * This thread's CPU time: the timed loops are measured with it rather than
 * the wall clock, so that time the scheduler gives to other processes (the
 * benchmark shares a small machine with builds and tests) is not counted
 * as SRTP cost. Cache and memory-bandwidth interference still is.
 */
static double
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t
rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench_srtp: %s\n", what);
	exit(2);
}

static void *
xaligned(size_t align, size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, align, len) != 0)
		die("out of memory");
	memset(p, 0, len);
	return p;
}

static void
make_key(uint64_t *rng, enum duet_srtp_suite s, struct duet_sdes *k)
{
	memset(k, 0, sizeof(*k));
	k->suite = s;
	k->key_len = (uint8_t)duet_srtp_suite_key_len(s);
	for (unsigned int i = 0; i < k->key_len; i++)
		k->key[i] = (uint8_t)rng_next(rng);
}

static struct duet_srtp_sess *
xsess(const struct duet_sdes *k, enum duet_srtp_dir dir, bool verify_only)
{
	struct duet_srtp_sess *x = duet_srtp_sess_new(k, dir, verify_only);

	if (x == NULL)
		die("duet_srtp_sess_new failed");
	return x;
}

static srtp_t
xsession(const struct duet_sdes *k, enum duet_srtp_dir dir)
{
	srtp_t s;

	if (duet_srtp_session_new(k, dir, &s) != 0)
		die("duet_srtp_session_new failed");
	return s;
}

/* A plain Opus-like RTP packet (PT 111, 20 ms at 48 kHz) at p. */
static int
rtp_build(uint8_t *p, uint32_t sess, uint32_t seq, unsigned int payload, uint64_t *rng)
{
	uint32_t ts = seq * 960u, ssrc = 0x10000000u + sess;
	uint64_t r = 0;

	p[0] = 0x80;
	p[1] = 111;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
	for (unsigned int i = 0; i < payload; i++) {
		if ((i & 7) == 0)
			r = rng_next(rng);
		p[RTP_HDR + i] = (uint8_t)(r >> (8 * (i & 7)));
	}
	return (int)(RTP_HDR + payload);
}

/* Build (and, unless plain, protect with the session's sender) the next
 * packet of session i into buf (32-bit aligned). Returns its length. */
static int
next_packet(struct bench *b, uint32_t i, bool for_verify, bool plain, unsigned int payload,
	    uint8_t *buf, uint64_t *fail)
{
	uint32_t *ctr = for_verify ? &b->seq_v[i] : &b->seq_r[i];
	srtp_t snd = for_verify ? b->send_v[i] : b->send_r[i];
	int len = rtp_build(buf, i, (*ctr)++, payload, &b->rng);

	if (!plain && srtp_protect(snd, buf, &len) != srtp_err_status_ok)
		(*fail)++;
	return len;
}

/* Every receiving and outbound session handles one packet before timing:
 * the first packet of an ssrc_any session allocates its stream. */
static uint64_t
prime(struct bench *b, unsigned int payload)
{
	uint8_t buf[SLOT] __attribute__((aligned(64)));
	uint64_t fail = 0;
	int len;

	for (uint32_t i = 0; i < b->n; i++) {
		len = next_packet(b, i, true, false, payload, buf, &fail);
		if (srtp_unprotect(b->vctx[i].in->s, buf, &len) != srtp_err_status_ok)
			fail++;
		len = next_packet(b, i, false, false, payload, buf, &fail);
		if (srtp_unprotect(b->rctx[i].in->s, buf, &len) != srtp_err_status_ok)
			fail++;
		if (srtp_protect(b->rctx[i].out->s, buf, &len) != srtp_err_status_ok)
			fail++;
	}
	return fail;
}

static void
bench_setup(struct bench *b, enum duet_srtp_suite suite, uint32_t n, uint32_t slots,
	    uint64_t seed)
{
	struct duet_sdes kin, kout;

	memset(b, 0, sizeof(*b));
	b->suite = suite;
	b->n = n;
	b->rng = seed;
	b->two_senders = n <= TWO_SENDERS_MAX;
	b->send_v = calloc(n, sizeof(*b->send_v));
	b->seq_v = calloc(n, sizeof(*b->seq_v));
	b->send_r = b->two_senders ? calloc(n, sizeof(*b->send_r)) : b->send_v;
	b->seq_r = b->two_senders ? calloc(n, sizeof(*b->seq_r)) : b->seq_v;
	if (!b->send_v || !b->send_r || !b->seq_v || !b->seq_r)
		die("out of memory");
	/* Like lib/pair: one cache-aligned struct duet_srtp_ctx per direction. */
	b->vctx = xaligned(64, (size_t)n * sizeof(*b->vctx));
	b->rctx = xaligned(64, (size_t)n * sizeof(*b->rctx));
	for (uint32_t i = 0; i < n; i++) {
		make_key(&b->rng, suite, &kin);
		make_key(&b->rng, suite, &kout);
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
		b->seq_v[i] = b->seq_r[i] = (uint32_t)rng_next(&b->rng) & 0x3fff;
	}
	duet_sdes_wipe(&kin);
	duet_sdes_wipe(&kout);
	b->arena = xaligned(64, (size_t)slots * SLOT);
	b->sidx = calloc(slots, sizeof(*b->sidx));
	b->scratch = xaligned(64, DUET_SRTP_SCRATCH);
	if (b->sidx == NULL)
		die("out of memory");
}

/* Make the packets of slots [from, to) for variant v, over the first n
 * sessions uniformly at random. Returns the sender's failures. Slots are
 * made in the order they will be run, so every session's packets reach
 * each of its receivers in sequence order. */
static uint64_t
fill(struct bench *b, enum variant v, uint32_t n, uint32_t from, uint32_t to,
     unsigned int payload, int *lens)
{
	bool for_verify = v == V_RAW_VERIFY || v == V_DUET_VERIFY;
	bool plain = v == V_RAW_PROTECT;
	bool duet = v == V_DUET_VERIFY || v == V_DUET_REKEY;
	uint8_t buf[SLOT] __attribute__((aligned(64)));
	uint64_t fail = 0;

	for (uint32_t j = from; j < to; j++) {
		uint32_t i = n == 1 ? 0 : rng_below(&b->rng, n);
		int len = next_packet(b, i, for_verify, plain, payload, buf, &fail);

		b->sidx[j] = i;
		lens[j] = len;
		memcpy(b->arena + (size_t)j * SLOT + (duet ? DUET_OFF : RAW_OFF), buf, (size_t)len);
	}
	return fail;
}

/* Run packets [from, to) of the arena through variant v; returns failures.
 * noinline: each variant is one loop, easy to find in a profile. */
static __attribute__((noinline)) uint64_t
run_range(struct bench *b, enum variant v, uint32_t from, uint32_t to, int *lens)
{
	const uint64_t now = rdtsc();
	uint8_t *const scratch = b->scratch;
	uint64_t fail = 0;

	switch (v) {
	case V_RAW_UNPROTECT:
		for (uint32_t j = from; j < to; j++) {
			uint8_t *p = b->arena + (size_t)j * SLOT + RAW_OFF;

			fail += srtp_unprotect(b->rctx[b->sidx[j]].in->s, p, &lens[j]) !=
				srtp_err_status_ok;
		}
		break;
	case V_RAW_VERIFY:
		for (uint32_t j = from; j < to; j++) {
			uint8_t *p = b->arena + (size_t)j * SLOT + RAW_OFF;

			fail += srtp_unprotect(b->vctx[b->sidx[j]].in->s, p, &lens[j]) !=
				srtp_err_status_ok;
		}
		break;
	case V_RAW_PROTECT:
		for (uint32_t j = from; j < to; j++) {
			uint8_t *p = b->arena + (size_t)j * SLOT + RAW_OFF;

			fail += srtp_protect(b->rctx[b->sidx[j]].out->s, p, &lens[j]) !=
				srtp_err_status_ok;
		}
		break;
	case V_RAW_UNPROTECT_PROTECT:
		for (uint32_t j = from; j < to; j++) {
			struct duet_srtp_ctx *c = &b->rctx[b->sidx[j]];
			uint8_t *p = b->arena + (size_t)j * SLOT + RAW_OFF;

			if (srtp_unprotect(c->in->s, p, &lens[j]) != srtp_err_status_ok ||
			    srtp_protect(c->out->s, p, &lens[j]) != srtp_err_status_ok)
				fail++;
		}
		break;
	case V_DUET_VERIFY:
		/* As duet_worker_srtp_in does it in verify mode. */
		for (uint32_t j = from; j < to; j++) {
			struct duet_srtp_ctx *sc = &b->vctx[b->sidx[j]];
			const uint8_t *p = b->arena + (size_t)j * SLOT + DUET_OFF;
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
			uint8_t *p = b->arena + (size_t)j * SLOT + DUET_OFF;
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

static int
parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
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
		"  duet_rekey, raw_protect), e.g. under perf.\n");
	exit(2);
}

static uint32_t
arg_u32(const char *name, const char *val, uint32_t lo, uint32_t hi)
{
	uint32_t v;

	if (parse_u32(val, &v) != 0 || v < lo || v > hi) {
		fprintf(stderr, "bench_srtp: --%s %s: want %u..%u\n", name, val, lo, hi);
		exit(2);
	}
	return v;
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"suite", required_argument, NULL, 's'},    {"sessions", required_argument, NULL, 'n'},
		{"payload", required_argument, NULL, 'p'},  {"packets", required_argument, NULL, 'm'},
		{"warmup", required_argument, NULL, 'w'},   {"runs", required_argument, NULL, 'r'},
		{"seed", required_argument, NULL, 'S'},	    {"turn-in", required_argument, NULL, 'i'},
		{"turn-out", required_argument, NULL, 'o'},
		{"only", required_argument, NULL, 'O'},	    {"chunk", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool have_suite = false;
	int c;

	memset(o, 0, sizeof(*o));
	o->sessions = 1;
	o->payload = 100;
	o->packets = 20000;
	o->warmup = 10000;
	o->chunk = 500;
	o->runs = 1;
	o->seed = 0x64756574u;
	o->turn_in = o->turn_out = -1;
	o->only = -1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (duet_srtp_suite_parse(optarg, &o->suite) != 0) {
				fprintf(stderr, "bench_srtp: --suite %s: unknown suite\n", optarg);
				exit(2);
			}
			have_suite = true;
			break;
		case 'n':
			o->sessions = arg_u32("sessions", optarg, 1, 10000000);
			break;
		case 'p':
			o->payload = arg_u32("payload", optarg, 0, MAX_PAYLOAD);
			break;
		case 'm':
			o->packets = arg_u32("packets", optarg, 1, 100000000);
			break;
		case 'w':
			o->warmup = arg_u32("warmup", optarg, 0, 100000000);
			break;
		case 'c':
			o->chunk = arg_u32("chunk", optarg, 1, 20000);
			break;
		case 'r':
			o->runs = arg_u32("runs", optarg, 1, 1000);
			break;
		case 'S':
			o->seed = arg_u32("seed", optarg, 0, UINT32_MAX);
			break;
		case 'i':
			o->turn_in = (int)arg_u32("turn-in", optarg, 0, 1024);
			break;
		case 'o':
			o->turn_out = (int)arg_u32("turn-out", optarg, 0, 1024);
			break;
		case 'O':
			for (int v = 0; v < V_COUNT; v++)
				if (strcmp(optarg, variant_name[v]) == 0)
					o->only = v;
			if (o->only < 0) {
				fprintf(stderr, "bench_srtp: --only %s: unknown variant\n", optarg);
				exit(2);
			}
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !have_suite || (o->turn_in < 0) != (o->turn_out < 0))
		usage();
}

/* Untimed packets per variant before the timed ones: enough to touch
 * every session once (up to --warmup), and at least 1000 so that one
 * session is hot too; a whole number of chunks. */
static uint32_t
warmup_count(const struct opts *o)
{
	uint32_t w = o->sessions > 1000 ? o->sessions : 1000;

	w = w < o->warmup ? w : o->warmup;
	return (w + o->chunk - 1) / o->chunk * o->chunk;
}

static uint32_t
timed_count(const struct opts *o)
{
	return (o->packets + o->chunk - 1) / o->chunk * o->chunk;
}

/* The variants of a round in chunk order; with swap, raw and duet of each
 * pair trade places. */
static unsigned int
variants_on(const struct opts *o, bool swap, enum variant *out)
{
	static const enum variant order[2][V_COUNT] = {
		{V_RAW_VERIFY, V_DUET_VERIFY, V_RAW_UNPROTECT, V_RAW_UNPROTECT_PROTECT,
		 V_DUET_REKEY, V_RAW_PROTECT},
		{V_DUET_VERIFY, V_RAW_VERIFY, V_RAW_UNPROTECT, V_DUET_REKEY,
		 V_RAW_UNPROTECT_PROTECT, V_RAW_PROTECT},
	};
	unsigned int nv = 0;

	for (size_t k = 0; k < V_COUNT; k++)
		if (o->only < 0 || (int)order[swap][k] == o->only)
			out[nv++] = order[swap][k];
	return nv;
}

/* Wait for a byte on fd: our turn. */
static void
turn_wait(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;

	/* The other process sets up at most a few minutes' worth of sessions. */
	if (poll(&p, 1, 900 * 1000) != 1 || read(fd, &c, 1) != 1)
		die("turn-in: no turn within 900 s (did run.sh die?)");
}

static void
turn_post(int fd)
{
	if (write(fd, "t", 1) != 1)
		die("turn-out: write failed");
}

/*
 * One round: every variant handles W + M packets, taking turns chunk by
 * chunk (raw and duet doing the same work sit side by side), so that
 * whatever else the machine does at the time falls on all of them alike;
 * only the chunks after the first W packets are timed. Every chunk's
 * packets are made, in the order they will be run, before any is run.
 */
static uint64_t
bench_round(struct bench *b, const struct opts *o, unsigned int run, int *lens)
{
	const char *sname = duet_srtp_suite_name(o->suite);
	const uint32_t w = warmup_count(o), m = timed_count(o), c = o->chunk;
	uint64_t fail[V_COUNT] = {0}, total = 0;
	double ns[V_COUNT] = {0};
	enum variant vs[2][V_COUNT];
	unsigned int nv = variants_on(o, false, vs[0]);
	uint32_t slot = 0, turn = 0;

	variants_on(o, true, vs[1]);
	for (uint32_t done = 0; done < w + m; done += c, turn ^= 1)
		for (unsigned int k = 0; k < nv; k++, slot += c)
			fail[vs[turn][k]] +=
				fill(b, vs[turn][k], o->sessions, slot, slot + c, o->payload, lens);
	slot = 0;
	turn = 0;
	for (uint32_t done = 0; done < w + m; done += c, turn ^= 1) {
		for (unsigned int k = 0; k < nv; k++, slot += c) {
			enum variant v = vs[turn][k];
			double t0 = cpu_ns();

			fail[v] += run_range(b, v, slot, slot + c, lens);
			if (done >= w)
				ns[v] += cpu_ns() - t0;
		}
	}
	for (unsigned int k = 0; k < nv; k++) {
		enum variant v = vs[0][k];

		printf("srtp,%s/%s/%s,%u,ns_per_pkt,%.1f,ns,%u\n", BENCH_SRTP_CRYPTO, sname,
		       variant_name[v], o->sessions, ns[v] / m, run);
		printf("srtp,%s/%s/%s,%u,failures,%lu,pkts,%u\n", BENCH_SRTP_CRYPTO, sname,
		       variant_name[v], o->sessions, (unsigned long)fail[v], run);
		total += fail[v];
	}
	fflush(stdout);
	return total;
}

/* The first session made pays for loading the crypto library's
 * algorithms: make and drop one, so that session_create does not count it. */
static void
warm_library(enum duet_srtp_suite suite)
{
	struct duet_sdes k;
	uint64_t r = 1;

	make_key(&r, suite, &k);
	duet_srtp_sess_free(xsess(&k, DUET_SRTP_INBOUND, false));
	duet_sdes_wipe(&k);
}

int
main(int argc, char **argv)
{
	const char *sname;
	uint64_t fail;
	struct bench b;
	struct opts o;
	enum variant vs[V_COUNT];
	uint32_t slots, nv;
	double t0, t1;
	int *lens;

	parse_args(argc, argv, &o);
	sname = duet_srtp_suite_name(o.suite);
	nv = variants_on(&o, false, vs);
	slots = nv * (warmup_count(&o) + timed_count(&o));
	if (duet_srtp_init() != 0)
		die("srtp_init failed");
	warm_library(o.suite);

	t0 = now_ns();
	bench_setup(&b, o.suite, o.sessions, slots, o.seed ^ o.suite);
	t1 = now_ns();
	printf("srtp,%s/%s/session_create,%u,us_per_session,%.2f,us,0\n", BENCH_SRTP_CRYPTO,
	       sname, o.sessions,
	       (t1 - t0) / 1e3 / ((b.two_senders ? 5.0 : 4.0) * o.sessions));
	lens = calloc(slots, sizeof(*lens));
	if (lens == NULL)
		die("out of memory");
	fail = prime(&b, o.payload);
	fprintf(stderr, "bench_srtp: %s %s: %u sessions set up in %.2f s, primed in %.2f s\n",
		BENCH_SRTP_CRYPTO, sname, o.sessions, (t1 - t0) / 1e9, (now_ns() - t1) / 1e9);
	if (o.turn_in >= 0)
		turn_post(o.turn_out); /* set up: ready for the first turn */

	for (unsigned int r = 1; r <= o.runs; r++) {
		if (o.turn_in >= 0)
			turn_wait(o.turn_in);
		fail += bench_round(&b, &o, r, lens);
		if (o.turn_in >= 0)
			turn_post(o.turn_out);
	}
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
