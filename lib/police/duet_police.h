/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_police: token-bucket policers for the relay's fast path, held in
 * their time form (GCRA, the "virtual scheduling" equivalent of a token
 * bucket, ITU-T I.371): a bucket is one 64-bit word, the theoretical arrival
 * time (TAT) in TSC cycles. A packet costs the time it is worth at the
 * configured rate; it conforms when the TAT is no more than `tau` (the burst
 * allowance) ahead of now, and then pushes the TAT on by its cost. Idle time
 * refills the bucket by itself (the TAT falls behind now), and every
 * comparison is a signed difference, so a TSC wrap changes nothing.
 *
 * One word means one compare-and-swap per packet, so a bucket stays exact
 * when several worker lcores police the same leg or the same relay-wide
 * budget (RSS may spread one endpoint's sources over queues), with no lock.
 *
 * A packet's cost is the larger of its packet cost (1/max_pps) and its byte
 * cost (IP bytes / max_kbps). With one TAT for both, the sustained rates
 * stay under both limits; a mix of packet sizes is held a little tighter
 * than two separate buckets would (each packet pays only its larger cost,
 * never the sum, so never more than twice as tight). Voice streams have
 * one packet size, where the two are the same.
 *
 * This header: rate conversion (slow path) and the rate struct. The
 * per-packet step is inline in duet_police_fp.h.
 */
#ifndef DUET_POLICE_H
#define DUET_POLICE_H

#include <stdint.h>

/** Unit of a rate's packet cost: 2^4 = 16 TSC cycles (1 packet/s fits 32
 * bits up to a 68 GHz TSC). */
#define DUET_POLICE_PKT_SHIFT 4
/** Unit of a rate's byte cost: 2^-6 = 1/64 of a TSC cycle (1 kbit/s fits
 * 32 bits up to an 8.3 GHz TSC; above, the cost saturates). */
#define DUET_POLICE_BYTE_SHIFT 6

/**
 * A rate, as the TSC time each packet and each byte is worth, in 32-bit
 * words so that a leg's rate fits in its one cache line beside its bucket.
 * Costs are rounded up, so a limit is never exceeded by the rounding.
 */
struct duet_police_rate {
	uint32_t pkt_cost;  /**< per packet, in 16-cycle units; 0 = no packet limit */
	uint32_t byte_cost; /**< per byte, in 1/64-cycle units; 0 = no byte limit */
};

/** A relay-wide budget: its own cache line, shared by all workers. */
struct duet_police_budget {
	uint64_t tat;		      /**< the bucket (CAS by any worker) */
	struct duet_police_rate rate; /**< fixed after start */
	uint64_t tau;		      /**< burst allowance, TSC cycles */
} __attribute__((aligned(64)));

/** Burst allowance of the relay-wide budgets, in ms of their rate. */
#define DUET_POLICE_BUDGET_BURST_MS 100

/**
 * Turn limits into costs at TSC frequency hz. pps or kbps 0 means no limit
 * of that kind; both 0 means the policer passes everything.
 * Any thread.
 */
void duet_police_rate_set(struct duet_police_rate *r, uint64_t hz, uint32_t pps, uint32_t kbps);

/** Burst allowance: ms of time at the rate, in TSC cycles. Any thread. */
uint64_t duet_police_tau(uint64_t hz, uint32_t ms);

/**
 * Set up a relay-wide budget of pps packets per second with a
 * DUET_POLICE_BUDGET_BURST_MS burst (at least one packet); pps 0 lets
 * nothing through. Main thread, before workers start.
 */
void duet_police_budget_init(struct duet_police_budget *b, uint64_t hz, uint32_t pps,
			     uint64_t now);

#endif /* DUET_POLICE_H */
