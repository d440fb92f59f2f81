/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_stats: per-lcore packet counters and drop reasons. Each worker lcore
 * owns one cache-aligned struct duet_lcore_stats and is its only writer; the
 * control thread reads them all (plain 64-bit loads, never torn on x86-64
 * and arm64) and sums them for logs and the Redis heartbeat.
 */
#ifndef DUET_STATS_H
#define DUET_STATS_H

#include <stdint.h>

/** Drop reasons, expanded from duet_drop.def. */
enum duet_drop {
#define DUET_DROP(sym, name, help) DUET_DROP_##sym,
#include "duet_drop.def"
#undef DUET_DROP
	DUET_DROP_MAX
};

/** Counters owned by one worker lcore. Written only by that lcore. */
struct duet_lcore_stats {
	uint64_t rx_pkts;		   /**< frames received */
	uint64_t fwd_pkts;		   /**< media packets relayed */
	uint64_t fwd_bytes;		   /**< UDP payload bytes relayed */
	uint64_t arp_replies;		   /**< ARP replies sent for service addresses */
	uint64_t icmp_replies;		   /**< ICMP echo replies sent */
	uint64_t ctl_tx_pkts;		   /**< frames sent for the control thread (ARP requests) */
	uint64_t arp_learned;		   /**< gateway ARP replies learnt */
	uint64_t nd_replies;		   /**< neighbour advertisements sent for service addresses */
	uint64_t nd_learned;		   /**< gateway6 neighbour advertisements learnt */
	uint64_t latched;		   /**< legs latched on a first packet */
	uint64_t relatched;		   /**< legs re-latched after silence */
	uint64_t srtp_streams_removed;	   /**< silent SRTP streams removed for a new SSRC */
	uint64_t srtp_batches;		   /**< SRTP batches run (burst engine: a run of steady-state keyed packets of one rx burst) */
	uint64_t srtp_batched_pkts;	   /**< keyed packets whose SRTP went in a batch */
	uint64_t polls;			   /**< rounds of the worker loop (an rx poll of each port) */
	uint64_t busy_polls;		   /**< rounds that received at least one frame */
	uint64_t loop_tsc;		   /**< TSC cycles of all rounds */
	uint64_t busy_tsc;		   /**< TSC cycles of the rounds that received a frame */
	uint64_t drops[DUET_DROP_MAX];	   /**< drops by reason */
} __attribute__((aligned(64)));

/** Short name of a drop reason ("too_short"), or "unknown". Any thread. */
const char *duet_drop_name(enum duet_drop d);

/** One-line description of a drop reason. Any thread. */
const char *duet_drop_help(enum duet_drop d);

/**
 * Sum n per-lcore blocks into out (out is zeroed first). Control thread.
 */
void duet_stats_sum(const struct duet_lcore_stats *per_lcore, unsigned int n,
		    struct duet_lcore_stats *out);

/** Total of all drop reasons in s. */
uint64_t duet_stats_total_drops(const struct duet_lcore_stats *s);

/**
 * Memory the process holds by its own accounting: DPDK's heaps in use
 * (dpdk_bytes) and glibc's in-use heap, mallinfo2() (heap_bytes). Any
 * thread but a worker.
 */
void duet_stats_memory(uint64_t *dpdk_bytes, uint64_t *heap_bytes);

#endif /* DUET_STATS_H */
