/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The harness the SRTP cost benchmarks share (bench_srtp.c, bench_srtpe.c;
 * see bench_harness.h): options, packets, timing, rounds and turns. It runs
 * on the program's one thread. What a round measures is the program's:
 * the harness only calls its fill, touch and run for each chunk.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench_harness.h"

/* The program's name in messages: set by bench_parse_args, which each
 * program calls first. */
static const char *prog = "bench";

void
bench_die(const char *what)
{
	fprintf(stderr, "%s: %s\n", prog, what);
	exit(2);
}

uint64_t
bench_rng_next(uint64_t *s)
{
	/* splitmix64 */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint32_t
bench_rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((unsigned __int128)bench_rng_next(s) * n) >> 64);
}

double
bench_now_ns(void)
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
double
bench_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/*
 * With huge, large tables go on 2 MB pages where the kernel gives them
 * (THP, madvise): duetd has its tables on hugepages, and TLB misses on
 * random keys in 4 KB pages would be counted as SRTP cost. Only the
 * 2 MB-aligned inside of the block is advised, before it is touched, so
 * that what malloc hands out (bench_srtpe's memory figures) is what was
 * asked for.
 */
void *
bench_zalloc(size_t align, size_t len, bool huge)
{
	const uintptr_t hp = (uintptr_t)2 << 20;
	uintptr_t lo, hi;
	void *p = NULL;

	if (posix_memalign(&p, align, len) != 0)
		bench_die("out of memory");
	if (huge) {
		lo = ((uintptr_t)p + hp - 1) & ~(hp - 1);
		hi = ((uintptr_t)p + len) & ~(hp - 1);
		if (hi > lo)
			(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
	}
	memset(p, 0, len);
	return p;
}

void
bench_sdes_make(uint64_t *rng, enum duet_srtp_suite s, struct duet_sdes *k)
{
	memset(k, 0, sizeof(*k));
	k->suite = s;
	k->key_len = (uint8_t)duet_srtp_suite_key_len(s);
	for (unsigned int i = 0; i < k->key_len; i++)
		k->key[i] = (uint8_t)bench_rng_next(rng);
}

uint32_t
bench_rtp_build(uint8_t *p, uint32_t sess, uint32_t seq, unsigned int payload, uint64_t *rng)
{
	uint32_t ts = seq * 960u, ssrc = 0x10000000u + sess;
	uint64_t r = 0;

	p[0] = 0x80;
	p[1] = 111;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	for (unsigned int i = 0; i < payload; i++) {
		if ((i & 7) == 0)
			r = bench_rng_next(rng);
		p[BENCH_RTP_HDR + i] = (uint8_t)(r >> (8 * (i & 7)));
	}
	return BENCH_RTP_HDR + payload;
}

/* ---- options ---- */

static uint32_t
arg_u32(const char *name, const char *val, uint32_t lo, uint32_t hi)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "%s: --%s %s: want %u..%u\n", prog, name, val, lo, hi);
		exit(2);
	}
	return (uint32_t)v;
}

static void
usage(const struct bench_spec *spec)
{
	fputs(spec->usage, stderr);
	exit(2);
}

/* getopt_long's val for spec->flags[k]; at most FLAGS_MAX of them. */
#define FLAG_VAL 0x100
#define FLAGS_MAX 32

void
bench_parse_args(int argc, char **argv, const struct bench_spec *spec, struct bench_opts *o)
{
	/* In this order, so that getopt_long lists an ambiguous prefix's
	 * options as the programs always have. */
	static const struct option common[] = {
		{"suite", required_argument, NULL, 's'},
		{"sessions", required_argument, NULL, 'n'},
		{"payload", required_argument, NULL, 'p'},
		{"packets", required_argument, NULL, 'm'},
		{"warmup", required_argument, NULL, 'w'},
		{"runs", required_argument, NULL, 'r'},
		{"seed", required_argument, NULL, 'S'},
		{"turn-in", required_argument, NULL, 'i'},
		{"turn-out", required_argument, NULL, 'o'},
		{"only", required_argument, NULL, 'O'},
		{"chunk", required_argument, NULL, 'c'},
	};
	const size_t nc = sizeof(common) / sizeof(common[0]);
	struct option lo[sizeof(common) / sizeof(common[0]) + FLAGS_MAX + 2];
	bool have_suite = false;
	unsigned int nflags = 0;
	int c;

	prog = spec->prog;
	memcpy(lo, common, sizeof(common));
	while (nflags < FLAGS_MAX && spec->flags != NULL && spec->flags[nflags] != NULL) {
		lo[nc + nflags] = (struct option){spec->flags[nflags], no_argument, NULL,
						  FLAG_VAL + (int)nflags};
		nflags++;
	}
	lo[nc + nflags] = (struct option){"help", no_argument, NULL, 'h'};
	lo[nc + nflags + 1] = (struct option){NULL, 0, NULL, 0};

	memset(o, 0, sizeof(*o));
	o->sessions = 1;
	o->payload = spec->payload_default;
	o->packets = 20000;
	o->warmup = 10000;
	o->chunk = spec->chunk_default;
	o->runs = 1;
	o->seed = 0x64756574u;
	o->turn_in = o->turn_out = -1;
	o->only = -1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (duet_srtp_suite_parse(optarg, &o->suite) != 0) {
				fprintf(stderr, "%s: --suite %s: unknown suite\n", prog, optarg);
				exit(2);
			}
			have_suite = true;
			break;
		case 'n':
			o->sessions = arg_u32("sessions", optarg, 1, 10000000);
			break;
		case 'p':
			o->payload = arg_u32("payload", optarg, 0, spec->payload_max);
			break;
		case 'm':
			o->packets = arg_u32("packets", optarg, 1, 100000000);
			break;
		case 'w':
			o->warmup = arg_u32("warmup", optarg, 0, 100000000);
			break;
		case 'c':
			o->chunk = arg_u32("chunk", optarg, spec->chunk_unit, 20000);
			if (o->chunk % spec->chunk_unit != 0) {
				fprintf(stderr, "%s: --chunk %s: want a multiple of %u\n", prog,
					optarg, spec->chunk_unit);
				exit(2);
			}
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
			for (unsigned int v = 0; v < spec->variants; v++)
				if (strcmp(optarg, spec->variant_name[v]) == 0)
					o->only = (int)v;
			if (o->only < 0) {
				fprintf(stderr, "%s: --only %s: unknown variant\n", prog, optarg);
				exit(2);
			}
			break;
		default:
			if (c < FLAG_VAL || c >= FLAG_VAL + (int)nflags)
				usage(spec);
			o->flags |= 1u << (c - FLAG_VAL);
		}
	}
	if (optind != argc || !have_suite || (o->turn_in < 0) != (o->turn_out < 0))
		usage(spec);
}

/* Untimed packets per variant before the timed ones: enough to touch
 * every session once (up to --warmup), and at least 1000 so that one
 * session is hot too; a whole number of chunks. */
uint32_t
bench_warmup_count(const struct bench_opts *o)
{
	uint32_t w = o->sessions > 1000 ? o->sessions : 1000;

	w = w < o->warmup ? w : o->warmup;
	return (w + o->chunk - 1) / o->chunk * o->chunk;
}

uint32_t
bench_timed_count(const struct bench_opts *o)
{
	return (o->packets + o->chunk - 1) / o->chunk * o->chunk;
}

unsigned int
bench_variants_on(const struct bench_rounds *r, const struct bench_opts *o, bool swap,
		  unsigned int *out)
{
	unsigned int nv = 0;

	for (unsigned int k = 0; k < r->spec->variants; k++) {
		unsigned int v = r->order[swap][k];

		if ((o->only < 0 || (int)v == o->only) && !(r->skip & (1u << v)))
			out[nv++] = v;
	}
	return nv;
}

/* ---- rounds and turns ---- */

/*
 * One round: every variant handles W + M packets, taking turns chunk by
 * chunk (the two sides of a pair doing the same work sit side by side),
 * so that whatever else the machine does at the time falls on all of them
 * alike; only the chunks after the first W packets are timed. Every
 * chunk's packets are made, in the order they will be run, before any is
 * run.
 */
static uint64_t
round_run(const struct bench_rounds *r, const struct bench_opts *o, unsigned int run)
{
	const uint32_t w = bench_warmup_count(o), m = bench_timed_count(o), c = o->chunk;
	uint64_t fail[BENCH_VARIANTS_MAX] = {0}, sender = 0, total = 0;
	double ns[BENCH_VARIANTS_MAX] = {0};
	unsigned int vs[2][BENCH_VARIANTS_MAX];
	unsigned int nv = bench_variants_on(r, o, false, vs[0]);
	uint32_t slot = 0, turn = 0;

	bench_variants_on(r, o, true, vs[1]);
	for (uint32_t done = 0; done < w + m; done += c, turn ^= 1) {
		for (unsigned int k = 0; k < nv; k++, slot += c) {
			uint64_t f = r->fill(r->ctx, vs[turn][k], slot, slot + c);

			*(r->sender_row ? &sender : &fail[vs[turn][k]]) += f;
		}
	}
	slot = 0;
	turn = 0;
	for (uint32_t done = 0; done < w + m; done += c, turn ^= 1) {
		for (unsigned int k = 0; k < nv; k++, slot += c) {
			unsigned int v = vs[turn][k];
			double t0;

			if (r->touch != NULL)
				r->touch(r->ctx, slot, slot + c);
			t0 = bench_cpu_ns();
			fail[v] += r->run(r->ctx, v, slot, slot + c);
			if (done >= w)
				ns[v] += bench_cpu_ns() - t0;
		}
	}
	for (unsigned int k = 0; k < nv; k++) {
		unsigned int v = vs[0][k];
		const char *name = r->spec->variant_name[v];

		printf("%s,%s/%s,%u,ns_per_pkt,%.1f,ns,%u\n", r->bench, r->label, name,
		       o->sessions, ns[v] / m, run);
		printf("%s,%s/%s,%u,failures,%lu,pkts,%u\n", r->bench, r->label, name,
		       o->sessions, (unsigned long)fail[v], run);
		total += fail[v];
	}
	if (r->sender_row)
		printf("%s,%s/sender,%u,failures,%lu,pkts,%u\n", r->bench, r->label, o->sessions,
		       (unsigned long)sender, run);
	fflush(stdout);
	return total + sender;
}

/* Wait for a byte on fd: our turn. */
static void
turn_wait(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;

	/* The other process sets up at most a few minutes' worth of sessions. */
	if (poll(&p, 1, 900 * 1000) != 1 || read(fd, &c, 1) != 1)
		bench_die("turn-in: no turn within 900 s (did run.sh die?)");
}

static void
turn_post(int fd)
{
	if (write(fd, "t", 1) != 1)
		bench_die("turn-out: write failed");
}

uint64_t
bench_rounds_run(const struct bench_rounds *r, const struct bench_opts *o)
{
	uint64_t fail = 0;

	if (o->turn_in >= 0)
		turn_post(o->turn_out); /* set up: ready for the first turn */
	for (unsigned int run = 1; run <= o->runs; run++) {
		if (o->turn_in >= 0)
			turn_wait(o->turn_in);
		fail += round_run(r, o, run);
		if (o->turn_in >= 0)
			turn_post(o->turn_out);
	}
	return fail;
}
