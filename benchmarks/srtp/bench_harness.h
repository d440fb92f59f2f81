/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The harness the SRTP cost benchmarks share (bench_srtp.c, built twice
 * against two libsrtp2 builds, and bench_srtpe.c): their options, the
 * packets they make, CPU-time measurement, rounds whose variants take
 * turns chunk by chunk, the CSV rows of a round, and taking turns with
 * other processes over a pair of FIFOs (run.sh hands the turn round).
 * Each program runs on one thread, its main thread, which runs all of
 * this too. No libsrtp2, no lib/srtpe: only the suite names of lib/srtp's
 * duet_sdes.h.
 */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet_sdes.h"

/* A packet slot in the arena, like an mbuf's data room: the UDP payload
 * sits at +42 after Ethernet/IPv4/UDP, as duetd sees it. */
#define BENCH_SLOT 256
#define BENCH_PKT_OFF 42
#define BENCH_RTP_HDR 12
/* Most variants one program has. */
#define BENCH_VARIANTS_MAX 16

/**
 * A program's own part of its options. Every program takes --suite,
 * --sessions, --payload, --packets, --warmup, --runs, --seed, --turn-in,
 * --turn-out, --only, --chunk and --help; a spec adds its flags, names
 * its variants (for --only) and sets the defaults and limits that differ.
 */
struct bench_spec {
	const char *prog;		  /**< "bench_srtp": prefix of every message */
	const char *usage;		  /**< the whole usage text */
	const char *const *variant_name;  /**< by variant number, for --only */
	unsigned int variants;		  /**< how many */
	const char *const *flags;	  /**< NULL-ended: options without argument */
	unsigned int payload_default;	  /**< RTP payload bytes */
	unsigned int payload_max;
	uint32_t chunk_default;
	uint32_t chunk_unit;		  /**< --chunk must be a multiple of this */
};

/** The options, parsed. */
struct bench_opts {
	enum duet_srtp_suite suite;
	uint32_t sessions;	/**< live sessions (N) */
	unsigned int payload;	/**< RTP payload bytes */
	uint32_t packets;	/**< timed packets per variant and round */
	uint32_t warmup;	/**< untimed packets before them (at most) */
	uint32_t chunk;		/**< packets of one variant before the next one's turn */
	unsigned int runs;	/**< rounds, numbered 1..runs */
	uint64_t seed;
	int turn_in, turn_out;	/**< FIFOs for taking turns; -1: alone */
	int only;		/**< one variant (for profiling), or -1 for all */
	uint32_t flags;		/**< bit k: spec->flags[k] was given */
};

/** Make variant v's packets for slots [from, to); return the sender's failures. */
typedef uint64_t (*bench_fill_fn)(void *ctx, unsigned int v, uint32_t from, uint32_t to);
/** Run slots [from, to) through variant v; return the packets that failed. */
typedef uint64_t (*bench_run_fn)(void *ctx, unsigned int v, uint32_t from, uint32_t to);
/** Untimed, just before slots [from, to) are run. */
typedef void (*bench_touch_fn)(void *ctx, uint32_t from, uint32_t to);

/**
 * A program's rounds. The variants are measured in order[0]'s order on
 * even chunks and order[1]'s on odd ones (the two sides of each pair
 * swapped), leaving out those in skip and, with --only, all but one.
 */
struct bench_rounds {
	const char *bench;		  /**< first CSV column: "srtp" */
	const char *label;		  /**< before the variant: "openssl/<suite>" */
	const struct bench_spec *spec;
	const unsigned int *order[2];	  /**< spec->variants each */
	uint32_t skip;			  /**< bit v: variant v not run */
	bool sender_row;		  /**< sender failures: own row, or the variant's */
	bench_fill_fn fill;
	bench_run_fn run;
	bench_touch_fn touch;		  /**< or NULL */
	void *ctx;
};

/** Print "<prog>: what" and exit 2. */
void bench_die(const char *what) __attribute__((noreturn));

/**
 * Parse argv as spec says, or print a message naming the bad option (or
 * the usage) and exit 2. Called first: later messages carry spec->prog.
 */
void bench_parse_args(int argc, char **argv, const struct bench_spec *spec,
		      struct bench_opts *o);

/** Untimed packets per variant and round: a whole number of chunks. */
uint32_t bench_warmup_count(const struct bench_opts *o);

/** Timed packets per variant and round: a whole number of chunks. */
uint32_t bench_timed_count(const struct bench_opts *o);

/** The variants r measures, in even chunks' order (swap: odd); returns how many. */
unsigned int bench_variants_on(const struct bench_rounds *r, const struct bench_opts *o,
			       bool swap, unsigned int *out);

/**
 * Every round (--runs), each after a turn when taking turns, the rows of
 * each on stdout; first says, when taking turns, that the program is set
 * up. Returns the failed packets (sender's and variants').
 */
uint64_t bench_rounds_run(const struct bench_rounds *r, const struct bench_opts *o);

/** splitmix64. */
uint64_t bench_rng_next(uint64_t *s);

/** Uniform in [0, n). */
uint32_t bench_rng_below(uint64_t *s, uint32_t n);

/** Wall-clock time, ns. */
double bench_now_ns(void);

/** This thread's CPU time, ns (see bench_harness.c). */
double bench_cpu_ns(void);

/** Zeroed memory, align-aligned; huge: 2 MB pages where the kernel gives them. */
void *bench_zalloc(size_t align, size_t len, bool huge);

/** A random master key and salt of the suite. */
void bench_sdes_make(uint64_t *rng, enum duet_srtp_suite s, struct duet_sdes *k);

/** A plain Opus-like RTP packet (PT 111, 20 ms at 48 kHz) at p; returns its length. */
uint32_t bench_rtp_build(uint8_t *p, uint32_t sess, uint32_t seq, unsigned int payload,
			 uint64_t *rng);

#endif /* BENCH_HARNESS_H */
