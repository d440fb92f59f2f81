/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/metrics' own declarations: the metrics object, shared by the
 * Prometheus writer, the HTTP server and the telemetry commands. Which
 * thread touches which field is said beside it.
 */
#ifndef DUET_METRICS_INTERNAL_H
#define DUET_METRICS_INTERNAL_H

#include <pthread.h>

#include <rte_log.h>
#include <rte_seqlock.h>

#include "duet_metrics.h"

extern int duet_metrics_logtype;
#define METRICS_LOG(level, ...) rte_log(RTE_LOG_##level, duet_metrics_logtype, __VA_ARGS__)

/* A /duet/pair request from the telemetry thread, answered by the control
 * thread (which alone may read the pair table's control side). */
struct metrics_pair_req {
	pthread_mutex_t lock;
	pthread_cond_t done_cv;
	bool pending;		 /* set by the asker, cleared by the control thread */
	bool found;		 /* the answer: the pair exists */
	char id[DUET_PAIR_ID_MAX + 1];
	struct duet_pair_spec spec;	 /* its record (keys wiped) */
	struct duet_leg_counters leg[2]; /* its counters */
	bool latched[2];
	struct duet_addr client[2]; /* only filled when [privacy] allows */
	uint64_t created_ms;
	uint64_t idle_ms[2]; /* since each leg's client last sent, UINT64_MAX = never */
};

struct duet_metrics {
	struct duet_metrics_src src; /* read-only after create */
	rte_seqlock_t ctl_lock;	     /* guards ctl: control thread writes */
	struct duet_metrics_ctl ctl;
	void *httpd;		     /* struct MHD_Daemon, or NULL */
	uint64_t scrapes;	     /* HTTP thread only */
	struct metrics_pair_req req; /* telemetry thread <-> control thread */
};

/* Stop the HTTP server, if it runs (duet_metrics_http.c). */
void metrics_http_stop(struct duet_metrics *m);

/* Forget m in the telemetry callbacks, waiting for one that runs
 * (duet_metrics_telemetry.c). */
void metrics_telemetry_forget(struct duet_metrics *m);

#endif /* DUET_METRICS_INTERNAL_H */
