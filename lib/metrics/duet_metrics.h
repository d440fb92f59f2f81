/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_metrics: what duetd shows its operators while it runs, with no
 * client address and no per-pair label in any of it:
 *   - a Prometheus endpoint (GET /metrics), served by libmicrohttpd on a
 *     thread of its own (duet_metrics_http.c);
 *   - DPDK telemetry commands /duet/relay, /duet/drops, /duet/workers and
 *     /duet/pair,<id> (duet_metrics_telemetry.c), answered on EAL's
 *     telemetry thread;
 *   - the text both are made of (duet_metrics.c).
 * Sources: the workers' per-lcore counters and the ethdev counters, read
 * directly (single writers, 64-bit loads); and what only the control thread
 * knows (the sync's state, the pair count), which the control thread
 * publishes here under a seqlock (duet_metrics_publish). A pair's figures
 * are read by the control thread itself, on request from the telemetry
 * thread (duet_metrics_serve).
 */
#ifndef DUET_METRICS_H
#define DUET_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "duet_conf.h"
#include "duet_pair.h"
#include "duet_port.h"
#include "duet_stats.h"
#include "duet_sync.h"

struct duet_metrics;

/** What the metrics read; it must outlive the metrics object. */
struct duet_metrics_src {
	const struct duet_conf *conf;
	const struct duet_lcore_stats *lcore; /**< [n_workers], one per worker */
	unsigned int n_workers;
	const struct duet_port *ports; /**< [n_ports] */
	unsigned int n_ports;
	struct duet_pair_table *pairs; /**< read by the control thread only */
	uint64_t tsc_hz;	       /**< TSC rate, for the workers' busy time */
	uint64_t started_ms;	       /**< unix ms when duetd started */
};

/** The control thread's share, published with duet_metrics_publish(). */
struct duet_metrics_ctl {
	struct duet_sync_info sync;
	uint32_t pairs;	    /**< installed pairs */
	uint32_t capacity;  /**< max_pairs */
	bool ready;	    /**< ports up and the table loaded */
	bool workers_alive; /**< every worker polled since the last check */
	double busy_share[DUET_CONF_MAX_WORKERS]; /**< last second's busy share a worker */
};

/**
 * Create the metrics object (no thread yet). Main thread.
 * @return the object, or NULL with errno set.
 */
struct duet_metrics *duet_metrics_create(const struct duet_metrics_src *src);

/** Stop the HTTP server and free. Main thread, after the workers stopped. */
void duet_metrics_destroy(struct duet_metrics *m);

/** Publish the control thread's share (copied). Control thread. */
void duet_metrics_publish(struct duet_metrics *m, const struct duet_metrics_ctl *ctl);

/** Read the last published share (a consistent copy). Any thread. */
void duet_metrics_ctl_read(struct duet_metrics *m, struct duet_metrics_ctl *out);

/**
 * Write the Prometheus text exposition (format 0.0.4) of everything to f.
 * Any thread but a worker.
 * @return 0, or -EIO if f failed.
 */
int duet_metrics_write_prometheus(struct duet_metrics *m, FILE *f);

/**
 * Start the HTTP server on conf->metrics.addr (does nothing when
 * [metrics] listen = off). Main thread.
 * @return 0, or -errno with the reason in err.
 */
int duet_metrics_http_start(struct duet_metrics *m, char *err, size_t errlen);

/** Register the /duet/ telemetry commands. Main thread, once. */
int duet_metrics_telemetry_register(struct duet_metrics *m);

/** Answer a pending /duet/pair request, if any. Control thread, each loop. */
void duet_metrics_serve(struct duet_metrics *m);

#endif /* DUET_METRICS_H */
