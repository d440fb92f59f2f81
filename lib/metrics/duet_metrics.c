/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_metrics: the metrics object and its Prometheus text. The text is
 * written by the HTTP server's thread on each scrape (never a worker): the
 * workers' counters and the ethdev counters are read as they are, the
 * control thread's share from its last publication (at most one control
 * loop old). Metric names follow Prometheus's conventions (base units,
 * counters end in _total); labels are only worker, port, reason, kind and
 * an xstat's name: never a pair or an address.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "metrics_internal.h"

RTE_LOG_REGISTER(duet_metrics_logtype, duet.metrics, INFO);

#ifndef DUET_VERSION
#define DUET_VERSION "unknown"
#endif

struct duet_metrics *
duet_metrics_create(const struct duet_metrics_src *src)
{
	struct duet_metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->src = *src;
	rte_seqlock_init(&m->ctl_lock);
	pthread_mutex_init(&m->req.lock, NULL);
	pthread_cond_init(&m->req.done_cv, NULL);
	return m;
}

void
duet_metrics_publish(struct duet_metrics *m, const struct duet_metrics_ctl *ctl)
{
	rte_seqlock_write_lock(&m->ctl_lock);
	m->ctl = *ctl;
	rte_seqlock_write_unlock(&m->ctl_lock);
}

void
duet_metrics_ctl_read(struct duet_metrics *m, struct duet_metrics_ctl *out)
{
	uint32_t sn;

	do {
		sn = rte_seqlock_read_begin(&m->ctl_lock);
		*out = m->ctl;
	} while (rte_seqlock_read_retry(&m->ctl_lock, sn));
}

/* ---- Prometheus text ---- */

static void
head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
one(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	head(f, name, type, help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void
one_f(FILE *f, const char *name, const char *help, double v)
{
	head(f, name, "gauge", help);
	fprintf(f, "%s %.6f\n", name, v);
}

/* Per-worker series of one counter, read at field offset off. */
static void
per_worker(FILE *f, const struct duet_metrics *m, const char *name, const char *help,
	   size_t off)
{
	unsigned int w;

	head(f, name, "counter", help);
	for (w = 0; w < m->src.n_workers; w++) {
		const char *base = (const char *)&m->src.lcore[w];
		uint64_t v = __atomic_load_n((const uint64_t *)(base + off), __ATOMIC_RELAXED);

		fprintf(f, "%s{worker=\"%u\"} %" PRIu64 "\n", name, w, v);
	}
}

static void
worker_seconds(FILE *f, const struct duet_metrics *m, const char *name, const char *help,
	       size_t off)
{
	double hz = m->src.tsc_hz > 0 ? (double)m->src.tsc_hz : 1.0;
	unsigned int w;

	head(f, name, "counter", help);
	for (w = 0; w < m->src.n_workers; w++) {
		const char *base = (const char *)&m->src.lcore[w];
		uint64_t v = __atomic_load_n((const uint64_t *)(base + off), __ATOMIC_RELAXED);

		fprintf(f, "%s{worker=\"%u\"} %.6f\n", name, w, (double)v / hz);
	}
}

static void
write_workers(FILE *f, struct duet_metrics *m, const struct duet_metrics_ctl *ctl)
{
	unsigned int w;

	per_worker(f, m, "duet_worker_polls_total", "Rounds of the worker loop (one rx poll of each port).",
		   offsetof(struct duet_lcore_stats, polls));
	per_worker(f, m, "duet_worker_busy_polls_total", "Rounds that received at least one frame.",
		   offsetof(struct duet_lcore_stats, busy_polls));
	worker_seconds(f, m, "duet_worker_seconds_total", "Time the worker loop has run.",
		       offsetof(struct duet_lcore_stats, loop_tsc));
	worker_seconds(f, m, "duet_worker_busy_seconds_total",
		       "Time in rounds that received a frame; its rate is the busy share.",
		       offsetof(struct duet_lcore_stats, busy_tsc));
	head(f, "duet_worker_busy_share", "gauge",
	     "Share of the last second the worker spent in rounds that received a frame (0..1).");
	for (w = 0; w < m->src.n_workers && w < DUET_CONF_MAX_WORKERS; w++)
		fprintf(f, "duet_worker_busy_share{worker=\"%u\"} %.4f\n", w, ctl->busy_share[w]);
	per_worker(f, m, "duet_worker_rx_packets_total", "Frames the worker received.",
		   offsetof(struct duet_lcore_stats, rx_pkts));
	per_worker(f, m, "duet_worker_forwarded_packets_total", "Media packets the worker relayed.",
		   offsetof(struct duet_lcore_stats, fwd_pkts));
}

static void
write_relay(FILE *f, const struct duet_lcore_stats *s)
{
	static const struct {
		const char *kind;
		enum duet_drop reason;
	} srtp[] = {
		{"auth", DUET_DROP_SRTP_AUTH},		{"replay", DUET_DROP_SRTP_REPLAY},
		{"malformed", DUET_DROP_SRTP_BAD},	{"busy", DUET_DROP_SRTP_BUSY},
		{"protect", DUET_DROP_SRTP_PROTECT},	{"no_key", DUET_DROP_SRTP_NO_KEY},
		{"ssrc_limit", DUET_DROP_SRTP_SSRC_LIMIT},
	};
	unsigned int d;

	one(f, "duet_rx_packets_total", "counter", "Frames the workers received.", s->rx_pkts);
	one(f, "duet_forwarded_packets_total", "counter", "Media packets relayed.", s->fwd_pkts);
	one(f, "duet_forwarded_bytes_total", "counter", "UDP payload bytes relayed.", s->fwd_bytes);
	one(f, "duet_latched_total", "counter", "Legs latched to a client on its first packet.",
	    s->latched);
	one(f, "duet_relatched_total", "counter", "Legs re-latched to a new source after silence.",
	    s->relatched);
	one(f, "duet_arp_replies_total", "counter", "ARP replies sent for the service addresses.",
	    s->arp_replies);
	one(f, "duet_arp_learned_total", "counter", "Gateway ARP replies learnt.", s->arp_learned);
	one(f, "duet_nd_replies_total", "counter",
	    "Neighbour advertisements sent for the IPv6 service addresses.", s->nd_replies);
	one(f, "duet_nd_learned_total", "counter",
	    "IPv6 gateway neighbour advertisements learnt.", s->nd_learned);
	one(f, "duet_icmp_replies_total", "counter", "ICMP echo replies sent.", s->icmp_replies);
	one(f, "duet_srtp_streams_removed_total", "counter",
	    "Silent SRTP streams removed to make room for a new SSRC.", s->srtp_streams_removed);
	one(f, "duet_srtp_batches_total", "counter",
	    "SRTP batches the burst engine ran (a run of steady-state keyed packets of a received burst).",
	    s->srtp_batches);
	one(f, "duet_srtp_batched_packets_total", "counter",
	    "Keyed packets whose SRTP went through a batch of the burst engine.",
	    s->srtp_batched_pkts);
	one(f, "duet_dropped_packets_all_total", "counter", "Frames dropped, all reasons.",
	    duet_stats_total_drops(s));
	head(f, "duet_dropped_packets_total", "counter",
	     "Frames dropped, by reason (lib/stats/duet_drop.def says what each means).");
	for (d = 0; d < DUET_DROP_MAX; d++)
		fprintf(f, "duet_dropped_packets_total{reason=\"%s\"} %" PRIu64 "\n",
			duet_drop_name((enum duet_drop)d), s->drops[d]);
	head(f, "duet_srtp_failures_total", "counter",
	     "SRTP/SRTCP packets refused on keyed pairs, by kind (also in the drops).");
	for (d = 0; d < RTE_DIM(srtp); d++)
		fprintf(f, "duet_srtp_failures_total{kind=\"%s\"} %" PRIu64 "\n", srtp[d].kind,
			s->drops[srtp[d].reason]);
}

static void
write_ports(FILE *f, const struct duet_metrics *m)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} cnt[] = {
		{"duet_port_rx_packets_total", "Frames the port received.",
		 offsetof(struct rte_eth_stats, ipackets)},
		{"duet_port_tx_packets_total", "Frames the port sent.",
		 offsetof(struct rte_eth_stats, opackets)},
		{"duet_port_rx_bytes_total", "Bytes the port received.",
		 offsetof(struct rte_eth_stats, ibytes)},
		{"duet_port_tx_bytes_total", "Bytes the port sent.",
		 offsetof(struct rte_eth_stats, obytes)},
		{"duet_port_rx_missed_total", "Frames the NIC dropped: no room in the rx ring (imissed).",
		 offsetof(struct rte_eth_stats, imissed)},
		{"duet_port_rx_errors_total", "Erroneous frames received (ierrors).",
		 offsetof(struct rte_eth_stats, ierrors)},
		{"duet_port_tx_errors_total", "Frames the port failed to send (oerrors).",
		 offsetof(struct rte_eth_stats, oerrors)},
		{"duet_port_rx_nombuf_total", "Receive mbuf allocation failures (rx_nombuf).",
		 offsetof(struct rte_eth_stats, rx_nombuf)},
	};
	struct rte_eth_stats st[DUET_CONF_MAX_PORTS];
	bool ok[DUET_CONF_MAX_PORTS];
	unsigned int i, p;

	for (p = 0; p < m->src.n_ports; p++)
		ok[p] = rte_eth_stats_get(m->src.ports[p].port_id, &st[p]) == 0;
	for (i = 0; i < RTE_DIM(cnt); i++) {
		head(f, cnt[i].name, "counter", cnt[i].help);
		for (p = 0; p < m->src.n_ports; p++)
			if (ok[p])
				fprintf(f, "%s{port=\"%s\"} %" PRIu64 "\n", cnt[i].name,
					m->src.ports[p].name,
					*(const uint64_t *)((const char *)&st[p] + cnt[i].off));
	}
	head(f, "duet_port_link_up", "gauge", "1 when the port's link is up.");
	for (p = 0; p < m->src.n_ports; p++) {
		struct rte_eth_link link;

		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(m->src.ports[p].port_id, &link) == 0)
			fprintf(f, "duet_port_link_up{port=\"%s\"} %u\n", m->src.ports[p].name,
				link.link_status == RTE_ETH_LINK_UP ? 1u : 0u);
	}
}

/* Every extended counter of every port, one metric with the xstat's name
 * as a label (the set differs by driver). */
static void
write_xstats(FILE *f, const struct duet_metrics *m)
{
	unsigned int p;

	head(f, "duet_port_xstats_total", "counter",
	     "The ethdev's extended counters (rte_eth_xstats), by name.");
	for (p = 0; p < m->src.n_ports; p++) {
		uint16_t id = m->src.ports[p].port_id;
		int n = rte_eth_xstats_get_names(id, NULL, 0), got, i;
		struct rte_eth_xstat_name *names;
		struct rte_eth_xstat *xs;

		if (n <= 0)
			continue;
		names = calloc((size_t)n, sizeof(*names));
		xs = calloc((size_t)n, sizeof(*xs));
		if (names != NULL && xs != NULL && rte_eth_xstats_get_names(id, names, n) == n &&
		    (got = rte_eth_xstats_get(id, xs, (unsigned int)n)) > 0) {
			for (i = 0; i < got && i < n; i++)
				if (xs[i].id < (uint64_t)n)
					fprintf(f,
						"duet_port_xstats_total{port=\"%s\",name=\"%s\"} "
						"%" PRIu64 "\n",
						m->src.ports[p].name, names[xs[i].id].name, xs[i].value);
		}
		free(names);
		free(xs);
	}
}

static void
write_sync(FILE *f, const struct duet_metrics_ctl *c)
{
	const struct duet_sync_info *s = &c->sync;

	one(f, "duet_ready", "gauge", "1 once the ports are up and the table is loaded.", c->ready);
	one(f, "duet_pairs", "gauge", "Pairs installed in the table.", c->pairs);
	one(f, "duet_pairs_capacity", "gauge", "Pairs the table can hold ([relay] max_pairs).",
	    c->capacity);
	one(f, "duet_pairs_rejected_total", "counter", "Pair records refused (state rejected).",
	    s->rejected);
	one(f, "duet_pairs_held", "gauge", "Pairs kept forwarding by the resync safety valve.",
	    s->held);
	one(f, "duet_pairs_resumed_total", "counter",
	    "Pairs whose counters a load continued from their stats hash (a restart).",
	    s->resumed);
	one(f, "duet_pairs_resume_refused_total", "counter",
	    "Stats hashes a load found not sane: those pairs counted from zero.",
	    s->resume_refused);
	one(f, "duet_draining", "gauge", "1 while the relay drains (duetctl relay drain).",
	    s->draining);
	one(f, "duet_redis_up", "gauge", "1 while the Redis link is up and holds the relay lease.",
	    s->link_up);
	one(f, "duet_redis_table_loaded", "gauge", "1 once the table was loaded from Redis.",
	    s->table_current);
	one(f, "duet_redis_reconnects_total", "counter", "Redis links lost and made again.",
	    s->reconnects);
	one(f, "duet_redis_full_loads_total", "counter", "Full loads of the pair table.",
	    s->full_loads);
	one(f, "duet_redis_writeback_queue", "gauge", "Writes queued for Redis (stats, ended).",
	    s->outbox_len);
	one(f, "duet_redis_writes_dropped_total", "counter",
	    "Writes to Redis dropped because the queue was full.", s->writes_dropped);
	one(f, "duet_redis_ended_waiting", "gauge", "Ended records parked until Redis is back.",
	    s->ended_waiting);
	one(f, "duet_redis_ended_lost_total", "counter",
	    "Ended records lost because the parking ring was full.", s->ended_lost);
	one(f, "duet_redis_events_applied_total", "counter", "Events stream entries applied.",
	    s->events_applied);
	one_f(f, "duet_redis_events_lag_seconds",
	      "Age of the last events entry when it was applied (Redis's clock to ours).",
	      (double)s->events_lag_ms / 1000.0);
}

static void
write_memory(FILE *f)
{
	uint64_t dpdk, heap, rss = 0;
	unsigned long pages_total, pages_rss;
	FILE *statm;

	duet_stats_memory(&dpdk, &heap);
	statm = fopen("/proc/self/statm", "r");
	if (statm != NULL) {
		if (fscanf(statm, "%lu %lu", &pages_total, &pages_rss) == 2)
			rss = (uint64_t)pages_rss * (uint64_t)sysconf(_SC_PAGESIZE);
		fclose(statm);
	}
	one(f, "duet_memory_dpdk_bytes", "gauge",
	    "DPDK heap in use (pair table, endpoint index, mempools).", dpdk);
	one(f, "duet_memory_heap_bytes", "gauge", "C heap in use (SRTP sessions, hiredis).",
	    heap);
	one(f, "duet_memory_resident_bytes", "gauge", "Resident set size of the process.", rss);
}

int
duet_metrics_write_prometheus(struct duet_metrics *m, FILE *f)
{
	struct duet_metrics_ctl ctl;
	struct duet_lcore_stats sum;

	duet_metrics_ctl_read(m, &ctl);
	duet_stats_sum(m->src.lcore, m->src.n_workers, &sum);
	head(f, "duet_build_info", "gauge", "duetd's version, as a label; the value is 1.");
	fprintf(f, "duet_build_info{version=\"%s\"} 1\n", DUET_VERSION);
	one(f, "duet_start_time_seconds", "gauge", "When duetd started, unix time.",
	    m->src.started_ms / 1000);
	one(f, "duet_workers", "gauge", "Worker lcores.", m->src.n_workers);
	write_relay(f, &sum);
	write_workers(f, m, &ctl);
	write_sync(f, &ctl);
	write_ports(f, m);
	write_xstats(f, m);
	write_memory(f);
	one(f, "duet_metrics_scrapes_total", "counter", "Scrapes of this endpoint, this one included.",
	    ++m->scrapes);
	return ferror(f) ? -EIO : 0;
}

void
duet_metrics_destroy(struct duet_metrics *m)
{
	if (m == NULL)
		return;
	metrics_http_stop(m);
	metrics_telemetry_forget(m);
	pthread_cond_destroy(&m->req.done_cv);
	pthread_mutex_destroy(&m->req.lock);
	free(m);
}
