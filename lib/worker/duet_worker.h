/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_worker: the lcore loop. Each worker owns queue `queue` on every
 * port: it receives, parses, looks endpoints up (direct index), applies latching,
 * rewrites and transmits, answers ARP and ICMP echo for the service
 * addresses, and sends the frames the control thread hands it through
 * ctl_ring (ARP requests for gateways). The struct is set up by the main
 * thread before launch and then belongs to the worker lcore; the main
 * thread only reads `*stats` and sets `quit`.
 */
#ifndef DUET_WORKER_H
#define DUET_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_ring.h>

#include "duet_conf.h"
#include "duet_pair.h"
#include "duet_pkt_fp.h"
#include "duet_police.h"
#include "duet_policy.h"
#include "duet_port.h"
#include "duet_stats.h"

#define DUET_WORKER_BURST 32 /**< rx/tx burst size */

/** The relay-wide budgets ([security] budget_*_pps), shared by all workers. */
enum duet_budget {
	DUET_BUDGET_NO_PAIR = 0, /**< packets to endpoints with no pair */
	DUET_BUDGET_UNLATCHED,	 /**< packets that would latch or re-latch a leg */
	DUET_BUDGET_ICMP,	 /**< ICMP echo replies */
	DUET_BUDGET_ARP,	 /**< ARP replies */
	DUET_BUDGET_MAX,
};

/** One worker lcore's context. */
struct duet_worker {
	struct duet_lcore_stats *stats;	  /**< own counters, in the main thread's per-worker array */
	struct duet_pair_table *pairs;	  /**< shared table, read-only here */
	struct duet_port *ports;	  /**< all ports, read-only but gateway_mac */
	unsigned int n_ports;		  /**< count of ports */
	unsigned int widx;		  /**< worker index: RCU thread id and counter block */
	uint16_t queue;			  /**< rx and tx queue id on every port */
	struct rte_ring *ctl_ring;	  /**< frames from the control thread, m->port = port index */
	uint64_t silence_tsc;		  /**< re-latch silence in TSC cycles */
	uint64_t drain_tsc;		  /**< tx buffer flush period in TSC cycles */
	uint32_t idle_poll_us;		  /**< sleep when a whole round received nothing */
	volatile bool *quit;		  /**< set by the main thread to stop */
	uint64_t rtp_clock_mult;	  /**< TSC to 48 kHz RTP clock, 32.32 fixed point */
	uint8_t *scratch;		  /**< DUET_SRTP_SCRATCH bytes, aligned, for SRTP work; wiped after each use */
	const struct duet_policy *policy; /**< source policy (read-only, from the config) */
	struct duet_police_budget *budgets; /**< [DUET_BUDGET_MAX], shared by all workers */
	uint64_t police_tau;		  /**< per-leg policer burst allowance, TSC cycles */
	uint32_t srtp_max_ssrc;		  /**< SRTP streams per direction */
	struct duet_pkt_egress egress;	  /**< TTL and DSCP of relayed packets */
	struct rte_eth_dev_tx_buffer *txb[DUET_CONF_MAX_PORTS]; /**< per out port */
} __attribute__((aligned(64)));

/**
 * Set up the relay-wide budgets (b[DUET_BUDGET_MAX], shared by all
 * workers) from conf's [security] budget_*_pps, at TSC frequency hz, full
 * at TSC now. Main thread, before launch.
 */
void duet_worker_budgets_init(struct duet_police_budget *b, const struct duet_conf *conf,
			      uint64_t hz, uint64_t now);

/**
 * Give worker w what the config says about strangers and the wire: the
 * source policy (conf->policy, which must outlive the worker), the
 * budgets, the policer's burst, the SRTP SSRC cap, the re-latch silence,
 * and the egress TTL and DSCP. Main thread, before launch.
 */
void duet_worker_configure(struct duet_worker *w, const struct duet_conf *conf,
			   struct duet_police_budget *budgets, uint64_t hz);

/**
 * Prepare worker w (tx buffers). Main thread, before launch.
 * @return 0 or -ENOMEM.
 */
int duet_worker_init(struct duet_worker *w, int socket_id);

/** Free what duet_worker_init allocated. Main thread, after the worker stopped. */
void duet_worker_fini(struct duet_worker *w);

/**
 * The lcore entry point (rte_eal_remote_launch): arg is a struct
 * duet_worker. Registers with the pair table's RCU, loops until *quit,
 * flushes, unregisters. @return 0, or -EINVAL if RCU registration failed.
 */
int duet_worker_main(void *arg);

/** Send whatever the tx buffers hold. Worker lcore. */
void duet_worker_flush(struct duet_worker *w);

#endif /* DUET_WORKER_H */
