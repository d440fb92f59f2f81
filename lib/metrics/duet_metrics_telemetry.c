/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_metrics_telemetry: duetd's DPDK telemetry commands, for
 * dpdk-telemetry.py and any client of EAL's telemetry socket:
 *   /duet/relay        the relay's state and totals
 *   /duet/drops        drops by reason
 *   /duet/workers      each worker's counters and busy share
 *   /duet/pair,<id>    one pair: mode, endpoints, per-leg state and counters
 * The callbacks run on EAL's telemetry thread. The first three read what
 * the HTTP thread reads. A pair lives in the control thread's side of the
 * table, so /duet/pair asks the control thread (duet_metrics_serve, called
 * from its loop) and waits at most a second for the answer. A client
 * address is shown only with [privacy] show_addresses = yes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_telemetry.h>

#include "duet_record.h"
#include "metrics_internal.h"

#ifndef DUET_VERSION
#define DUET_VERSION "unknown"
#endif

#define PAIR_WAIT_MS 1000

/* The callbacks take no argument: the object they answer for. The lock
 * keeps it alive while a callback uses it. */
static pthread_mutex_t target_lock = PTHREAD_MUTEX_INITIALIZER;
static struct duet_metrics *target;

typedef int (*fill_fn)(struct duet_metrics *m, const char *params, struct rte_tel_data *d);

/* Run fill on the target while holding it alive; -ENODEV once it is gone. */
static int
with_target(fill_fn fill, const char *params, struct rte_tel_data *d)
{
	int ret = -ENODEV;

	pthread_mutex_lock(&target_lock);
	if (target != NULL)
		ret = fill(target, params, d);
	pthread_mutex_unlock(&target_lock);
	return ret;
}

static int
fill_relay(struct duet_metrics *m, const char *params, struct rte_tel_data *d)
{
	struct duet_lcore_stats sum;
	struct duet_metrics_ctl ctl;

	(void)params;
	duet_metrics_ctl_read(m, &ctl);
	duet_stats_sum(m->src.lcore, m->src.n_workers, &sum);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", DUET_VERSION);
	rte_tel_data_add_dict_string(d, "relay_id", m->src.conf->relay_id);
	rte_tel_data_add_dict_u64(d, "started_ms", m->src.started_ms);
	rte_tel_data_add_dict_u64(d, "ready", ctl.ready);
	rte_tel_data_add_dict_u64(d, "draining", ctl.sync.draining);
	rte_tel_data_add_dict_u64(d, "redis_up", ctl.sync.link_up);
	rte_tel_data_add_dict_u64(d, "pairs", ctl.pairs);
	rte_tel_data_add_dict_u64(d, "capacity", ctl.capacity);
	rte_tel_data_add_dict_u64(d, "workers", m->src.n_workers);
	rte_tel_data_add_dict_u64(d, "rx_pkts", sum.rx_pkts);
	rte_tel_data_add_dict_u64(d, "fwd_pkts", sum.fwd_pkts);
	rte_tel_data_add_dict_u64(d, "fwd_bytes", sum.fwd_bytes);
	rte_tel_data_add_dict_u64(d, "drops", duet_stats_total_drops(&sum));
	rte_tel_data_add_dict_u64(d, "latched", sum.latched);
	rte_tel_data_add_dict_u64(d, "relatched", sum.relatched);
	rte_tel_data_add_dict_u64(d, "writeback_queue", ctl.sync.outbox_len);
	rte_tel_data_add_dict_u64(d, "redis_reconnects", ctl.sync.reconnects);
	return 0;
}

static int
fill_drops(struct duet_metrics *m, const char *params, struct rte_tel_data *d)
{
	struct duet_lcore_stats sum;
	unsigned int r;

	(void)params;
	duet_stats_sum(m->src.lcore, m->src.n_workers, &sum);
	rte_tel_data_start_dict(d);
	for (r = 0; r < DUET_DROP_MAX; r++)
		rte_tel_data_add_dict_u64(d, duet_drop_name((enum duet_drop)r), sum.drops[r]);
	return 0;
}

static int
fill_workers(struct duet_metrics *m, const char *params, struct rte_tel_data *d)
{
	struct duet_metrics_ctl ctl;
	unsigned int w;

	(void)params;
	duet_metrics_ctl_read(m, &ctl);
	rte_tel_data_start_dict(d);
	for (w = 0; w < m->src.n_workers && w < DUET_CONF_MAX_WORKERS; w++) {
		const struct duet_lcore_stats *s = &m->src.lcore[w];
		struct rte_tel_data *one = rte_tel_data_alloc();
		char name[16];

		if (one == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(one);
		rte_tel_data_add_dict_u64(one, "lcore", m->src.conf->workers[w]);
		rte_tel_data_add_dict_u64(one, "rx_pkts", s->rx_pkts);
		rte_tel_data_add_dict_u64(one, "fwd_pkts", s->fwd_pkts);
		rte_tel_data_add_dict_u64(one, "drops", duet_stats_total_drops(s));
		rte_tel_data_add_dict_u64(one, "polls", s->polls);
		rte_tel_data_add_dict_u64(one, "busy_polls", s->busy_polls);
		rte_tel_data_add_dict_u64(one, "busy_permille",
					  (uint64_t)(ctl.busy_share[w] * 1000.0 + 0.5));
		snprintf(name, sizeof(name), "%u", w);
		rte_tel_data_add_dict_container(d, name, one, 0);
	}
	return 0;
}

static int
relay_cb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return with_target(fill_relay, params, d);
}

static int
drops_cb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return with_target(fill_drops, params, d);
}

static int
workers_cb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return with_target(fill_workers, params, d);
}

static void
leg_dict(struct rte_tel_data *leg, const struct metrics_pair_req *q, unsigned int i,
	 bool show_addresses)
{
	const struct duet_leg_counters *c = &q->leg[i];
	char ep[DUET_ADDR_STRLEN];

	rte_tel_data_start_dict(leg);
	duet_addr_format(&q->spec.ep[i], ep, sizeof(ep));
	rte_tel_data_add_dict_string(leg, "endpoint", ep);
	rte_tel_data_add_dict_string(leg, "state", q->latched[i] ? "latched" : "waiting");
	if (show_addresses && q->latched[i]) {
		duet_addr_format(&q->client[i], ep, sizeof(ep));
		rte_tel_data_add_dict_string(leg, "client", ep);
	}
	rte_tel_data_add_dict_u64(leg, "pkts", c->pkts);
	rte_tel_data_add_dict_u64(leg, "bytes", c->bytes);
	rte_tel_data_add_dict_u64(leg, "drop_src", c->drop_src);
	rte_tel_data_add_dict_u64(leg, "drop_peer_unlatched", c->drop_peer_unlatched);
	rte_tel_data_add_dict_u64(leg, "drop_auth", c->drop_auth);
	rte_tel_data_add_dict_u64(leg, "drop_replay", c->drop_replay);
	rte_tel_data_add_dict_u64(leg, "drop_policed", c->drop_policed);
	if (q->idle_ms[i] != UINT64_MAX)
		rte_tel_data_add_dict_u64(leg, "idle_ms", q->idle_ms[i]);
}

/* Ask the control thread for a pair; 0 with m->req filled, or -errno.
 * Called with target_lock held. */
static int
ask_pair(struct duet_metrics *m, const char *id)
{
	struct metrics_pair_req *q = &m->req;
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += PAIR_WAIT_MS / 1000;
	pthread_mutex_lock(&q->lock);
	snprintf(q->id, sizeof(q->id), "%s", id);
	q->found = false;
	__atomic_store_n(&q->pending, true, __ATOMIC_RELEASE);
	while (q->pending && rc == 0)
		rc = pthread_cond_timedwait(&q->done_cv, &q->lock, &until);
	if (q->pending) {
		/* The control thread is busy (a long load): give up, and take
		 * the request back so a late answer writes nothing we read. */
		__atomic_store_n(&q->pending, false, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&q->lock);
		return -EBUSY;
	}
	pthread_mutex_unlock(&q->lock);
	return q->found ? 0 : -ENOENT;
}

static int
fill_pair(struct duet_metrics *m, const char *params, struct rte_tel_data *d)
{
	struct metrics_pair_req *q = &m->req;
	struct rte_tel_data *leg;
	unsigned int i;
	int ret = ask_pair(m, params);

	if (ret == -ENOENT) {
		/* An answer, not an error: dpdk-telemetry.py prints it. */
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_string(d, "id", params);
		rte_tel_data_add_dict_string(d, "state", "no such pair");
		return 0;
	}
	if (ret != 0)
		return ret;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "id", q->id);
	rte_tel_data_add_dict_string(d, "mode", duet_mode_name(q->spec.mode));
	rte_tel_data_add_dict_u64(d, "created_ms", q->created_ms);
	for (i = 0; i < 2; i++) {
		leg = rte_tel_data_alloc();
		if (leg == NULL)
			return -ENOMEM;
		leg_dict(leg, q, i, m->src.conf->privacy.show_addresses);
		rte_tel_data_add_dict_container(d, i == 0 ? "a" : "b", leg, 0);
	}
	return 0;
}

static int
pair_cb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	if (params == NULL || params[0] == '\0' || strlen(params) > DUET_PAIR_ID_MAX)
		return -EINVAL;
	return with_target(fill_pair, params, d);
}

void
duet_metrics_serve(struct duet_metrics *m)
{
	struct metrics_pair_req *q = &m->req;
	uint64_t now_tsc, hz = rte_get_tsc_hz();
	unsigned int i;
	int slot;

	if (!__atomic_load_n(&q->pending, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&q->lock);
	if (!q->pending) {
		pthread_mutex_unlock(&q->lock);
		return;
	}
	slot = duet_pair_find(m->src.pairs, q->id);
	q->found = slot >= 0;
	if (q->found) {
		now_tsc = rte_rdtsc();
		duet_pair_spec_get(m->src.pairs, (uint32_t)slot, &q->spec);
		q->created_ms = duet_pair_created_ms(m->src.pairs, (uint32_t)slot);
		for (i = 0; i < 2; i++) {
			uint64_t last = duet_pair_last_rx_tsc(m->src.pairs, (uint32_t)slot, i);

			duet_pair_counters(m->src.pairs, (uint32_t)slot, i, &q->leg[i]);
			q->latched[i] =
				duet_pair_leg_client(m->src.pairs, (uint32_t)slot, i, &q->client[i]);
			if (!m->src.conf->privacy.show_addresses)
				memset(&q->client[i], 0, sizeof(q->client[i]));
			q->idle_ms[i] = last != 0 && now_tsc >= last && hz > 0
						? (now_tsc - last) * 1000 / hz
						: UINT64_MAX;
		}
	}
	q->pending = false;
	pthread_cond_signal(&q->done_cv);
	pthread_mutex_unlock(&q->lock);
}

int
duet_metrics_telemetry_register(struct duet_metrics *m)
{
	int rc = 0;

	pthread_mutex_lock(&target_lock);
	target = m;
	pthread_mutex_unlock(&target_lock);
	rc |= rte_telemetry_register_cmd("/duet/relay", relay_cb,
					 "The relay: state, pairs, totals. No parameters");
	rc |= rte_telemetry_register_cmd("/duet/drops", drops_cb,
					 "Dropped frames by reason. No parameters");
	rc |= rte_telemetry_register_cmd("/duet/workers", workers_cb,
					 "Each worker's counters and busy share. No parameters");
	rc |= rte_telemetry_register_cmd("/duet/pair", pair_cb,
					 "One pair's state and counters. Parameter: the pair id");
	return rc != 0 ? -EINVAL : 0;
}

void
metrics_telemetry_forget(struct duet_metrics *m)
{
	pthread_mutex_lock(&target_lock);
	if (target == m)
		target = NULL;
	pthread_mutex_unlock(&target_lock);
}
