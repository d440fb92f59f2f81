/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_traffic: the traffic half of bench_gen (benchmarks/memif): the
 * streams of P pairs, frames built and checked with duet's packet code
 * (lib/pkt), and the timed trials on one ethdev queue with their loss and
 * round-trip counts. All of it runs on bench_gen's one lcore; bench_gen.c
 * decides what to run (latch, check, probe, search, latency).
 */
#ifndef GEN_TRAFFIC_H
#define GEN_TRAFFIC_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "duet_addr.h"

#define BURST 32
#define N_MBUFS 8191
#define MBUF_CACHE 256
#define MAX_STREAMS (2u * 200000u)

/* Frame layout: Ethernet, IPv4 (no options), UDP, then the UDP payload:
 * RTP header (12), our magic (4), stream index (4), send TSC (8), trial
 * id (4), then a fixed pattern. Offsets from the frame start. */
#define OFF_IP 14
#define OFF_UDP 34
#define OFF_RTP 42
#define OFF_SEQ (OFF_RTP + 2)
#define OFF_MAGIC 54
#define OFF_STREAM 58
#define OFF_TSC 62
#define OFF_TRIAL 70
#define HDR_LEN 74
#define MIN_PAYLOAD (HDR_LEN - OFF_RTP)
#define GEN_MAGIC 0x44554554u /* "DUET" read as a big-endian word */
#define RTP_PT_OPUS 111
#define RTP_TS_STEP 960 /* 20 ms of 48 kHz audio per packet */

/* Latency histogram: 10 ns bins up to 5 ms, then one overflow bin. */
#define HIST_NS 10
#define HIST_BINS 500000
#define MAX_SAMPLES 20000 /* round trips kept for the report's CDF */

/* Which device under test answers, so the check knows what to expect. */
enum dut_kind {
	DUT_DUET,  /**< duetd: a frame to leg x's endpoint leaves from the peer leg's */
	DUT_SWAP,  /**< testpmd 5tswap: MACs, IPs and ports swapped */
};

/* One direction of one pair: a client sending to its relay endpoint. */
struct stream {
	uint8_t hdr[HDR_LEN];	 /**< the frame up to the pattern, varying fields zero */
	uint64_t base_sum;	 /**< UDP checksum partial sum of that frame, pattern and pseudo-header */
	uint16_t seq;		 /**< next RTP sequence number */
	uint32_t ts;		 /**< next RTP timestamp */
	struct duet_addr exp_src; /**< source the answer must come from */
	struct duet_addr exp_dst; /**< destination the answer must go to */
	uint32_t seen;		 /**< answers seen in the current check round */
};

struct gen {
	uint16_t port;
	struct rte_mempool *tx_pool;
	struct rte_mempool *rx_pool;
	enum dut_kind dut;
	struct stream *streams;
	uint32_t n_streams;
	uint32_t next_stream;	 /**< round robin over streams */
	uint16_t payload_len;	 /**< UDP payload bytes */
	uint16_t frame_len;
	uint8_t mac[6];
	uint8_t dut_mac[6];
	uint32_t trial;		 /**< id written into every frame sent */
	uint64_t hz;
	double ns_per_tsc;
	uint32_t *hist;
	uint64_t hist_over;
	float *samples;		 /**< every sample_every-th round trip, in us */
	uint32_t n_samples;
	uint32_t sample_every;
	uint64_t sample_tick;
};

/* One timed run at an offered rate and what came of it. */
struct trial {
	double rate_pps;     /**< offered */
	uint64_t dur_tsc;
	bool latency;	     /**< fill the histogram */
	uint64_t due;	     /**< frames the schedule asked for over the trial */
	uint64_t attempted;  /**< frames given to tx_burst */
	uint64_t skipped;    /**< frames the schedule asked for while the generator lagged */
	uint64_t refused;    /**< of those, not taken by the port (counted lost) */
	uint64_t rx;	     /**< answers of this trial */
	uint64_t stale;	     /**< answers of an earlier trial, or not ours */
	double secs;	     /**< sending time, measured */
};

/** Set by a signal or the run's time limit: every loop stops soon after. */
extern volatile sig_atomic_t gen_quit;

/**
 * Read the pairs file (one 'A_ENDPOINT B_ENDPOINT' line per pair) into
 * g->streams: stream 2i is client A of pair i to endpoint a, 2i+1 client B
 * to endpoint b, with what the DUT must answer. g->dut, mac, dut_mac,
 * payload_len and frame_len must be set. @return 0 or -errno (message on stderr).
 */
int gen_load_pairs(struct gen *g, const char *path);

/** Lay the fixed payload pattern into every mbuf of g->tx_pool, once. */
void gen_prefill(struct gen *g);

/**
 * duet only: latch every leg, one frame from every leg a client, then one
 * from every leg b client. Prints how many b->a frames came back.
 */
void gen_latch(struct gen *g);

/** Answers of a check round. */
struct gen_check {
	uint64_t ok;  /**< streams answered once, right */
	uint64_t bad; /**< answers that failed the check */
	uint64_t dup; /**< second and later answers of a stream */
};

/**
 * One frame per stream; each must come back exactly once, parse, carry
 * right checksums, TTL and addresses. @return the streams that did not.
 */
uint64_t gen_check_round(struct gen *g, struct gen_check *c);

/**
 * Offer pps frames/s for ms milliseconds, round robin over the streams,
 * then collect the answers on their way; with latency, every answer's round
 * trip goes into g->hist (and g->samples). Fills t.
 */
void gen_trial_at(struct gen *g, struct trial *t, double pps, unsigned int ms, bool latency);

/** Frames offered and not answered (refused ones included). */
uint64_t gen_trial_lost(const struct trial *t);

/** True when the generator could not offer the rate it was asked for. */
bool gen_trial_gen_limited(const struct trial *t);

/** One progress line on stderr. */
void gen_trial_print(const char *what, const struct trial *t);

/** Percentile p (0..1) of the round trips in g->hist, us; total = count. */
double gen_hist_pct(const struct gen *g, uint64_t total, double p);

/** Largest round trip in g->hist, us (infinity past the histogram). */
double gen_hist_max(const struct gen *g);

#endif /* GEN_TRAFFIC_H */
