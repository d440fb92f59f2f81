/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duetd: the relay daemon's main. EAL init, config, ports, the pair table,
 * worker lcore launch, then the control thread's loop on the main lcore:
 * Redis sync, RCU reclaim, gateway ARP, optional stats lines. No packet
 * logic lives here. SIGINT/SIGTERM stop it cleanly: workers flush and stop,
 * pending Redis writes are sent, ports are closed.
 *
 * usage: duetd [EAL args] -- -c FILE [--print-stats-ms N]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "duet_conf.h"
#include "duet_pair.h"
#include "duet_pkt.h"
#include "duet_police.h"
#include "duet_port.h"
#include "duet_stats.h"
#include "duet_sync.h"
#include "duet_worker.h"
#include "duet_clock.h"

RTE_LOG_REGISTER_DEFAULT(duetd_logtype, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, duetd_logtype, "duetd: " __VA_ARGS__)

#define CTL_RING_SIZE 256
#define ARP_RETRY_MS 1000
#define ARP_REFRESH_MS 60000

static volatile bool quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = true;
}

struct duetd {
	struct duet_conf conf;
	struct duet_port ports[DUET_CONF_MAX_PORTS];
	unsigned int n_ports;
	struct rte_mempool *mp;
	struct duet_pair_table *pairs;
	struct duet_worker *workers;
	struct duet_lcore_stats *stats;
	struct duet_police_budget *budgets; /* [DUET_BUDGET_MAX], shared by workers */
	bool allow_core_dumps;
	struct duet_sync *sync;
	uint64_t print_stats_ms;
	uint64_t next_arp_ms[DUET_CONF_MAX_PORTS];
};

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL args] -- -c FILE [--print-stats-ms N] [--allow-core-dumps]\n"
		"  -c, --config FILE       duetd config (see config/duetd.conf)\n"
		"  --print-stats-ms N      print a counters line every N ms (0: off)\n"
		"  --allow-core-dumps      let the process dump core (off by default: a core\n"
		"                          would hold SRTP keys and the Redis password)\n"
		"  -h, --help              this text\n"
		"EAL args are DPDK's usual ones, e.g. -l 0,1 -a 0000:01:00.0 or\n"
		"--vdev net_af_packet0,iface=eth1. The main lcore runs the control thread;\n"
		"the config's [relay] workers names the worker lcores.\n",
		prog);
}

static int
parse_args(int argc, char **argv, const char **config, uint64_t *print_ms, bool *core_dumps)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "print-stats-ms", required_argument, NULL, 'p' },
		{ "allow-core-dumps", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*config = optarg;
			break;
		case 'p':
			errno = 0;
			*print_ms = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || optarg[0] == '-' || optarg[0] == '\0') {
				fprintf(stderr, "duetd: --print-stats-ms: '%s' is not a number\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'D':
			*core_dumps = true;
			break;
		case 'h':
			usage(argv[0]);
			exit(0);
		default:
			usage(argv[0]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "duetd: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (*config == NULL) {
		fprintf(stderr, "duetd: no config file: give -c FILE\n");
		return -EINVAL;
	}
	return 0;
}

/* The first worker lcore whose CPUs overlap the main lcore's, or -1. Then
 * the control thread and that busy-polling worker take turns on one CPU. */
static int
worker_sharing_main_cpu(const struct duet_conf *conf)
{
	rte_cpuset_t main_set = rte_lcore_cpuset(rte_get_main_lcore());
	unsigned int i;

	for (i = 0; i < conf->n_workers; i++) {
		rte_cpuset_t w = rte_lcore_cpuset(conf->workers[i]), both;

		CPU_AND(&both, &main_set, &w);
		if (CPU_COUNT(&both) > 0)
			return (int)conf->workers[i];
	}
	return -1;
}

static int
setup_dataplane(struct duetd *d)
{
	const struct duet_conf *conf = &d->conf;
	struct duet_pair_space space;
	char err[256];
	unsigned int i, n_mbufs = 0;
	int rc;

	for (i = 0; i < conf->n_ports; i++)
		n_mbufs += conf->n_workers * (conf->ports[i].rx_desc + conf->ports[i].tx_desc +
					      2 * DUET_WORKER_BURST);
	n_mbufs += conf->n_workers * (CTL_RING_SIZE + 512) + 1024;
	d->mp = duet_port_mempool_create("duet_mbuf", n_mbufs, (int)rte_socket_id());
	if (d->mp == NULL) {
		fprintf(stderr, "duetd: cannot create a pool of %u mbufs: %s\n", n_mbufs,
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (i = 0; i < conf->n_ports; i++) {
		rc = duet_port_setup(&d->ports[i], &conf->ports[i], (uint16_t)conf->n_workers,
				     d->mp, err, sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "duetd: %s\n", err);
			return rc;
		}
		d->n_ports++;
		LOG(INFO, "port %s up (ethdev %u, %u queue(s), ip checksum %s)\n",
		    conf->ports[i].name, d->ports[i].port_id, conf->n_workers,
		    d->ports[i].ip_cksum_offload ? "offloaded" : "in software");
	}
	/* The endpoint space; each port learns where its addresses start. */
	duet_port_space(conf, d->ports, &space);
	d->pairs = duet_pair_table_create("duet_pairs", conf->max_pairs, conf->n_workers,
					  (int)rte_socket_id(), &space);
	if (d->pairs == NULL) {
		struct rte_malloc_socket_stats st;
		int e = rte_errno;

		memset(&st, 0, sizeof(st));
		rte_malloc_get_socket_stats((int)rte_socket_id(), &st);
		fprintf(stderr,
			"duetd: cannot create a pair table for %u pairs (max_pairs) and %u service "
			"address(es) x %u media ports: %s. It needs at least %zu bytes of DPDK "
			"memory (%zu of them the endpoint index); the EAL's heap had %zu bytes "
			"free in one piece of at most %zu. Give the EAL more memory (-m, "
			"--socket-mem or hugepages) or lower max_pairs or the media range.\n",
			conf->max_pairs, space.n_addrs,
			(unsigned int)(conf->port_max - conf->port_min + 1), rte_strerror(e),
			duet_pair_table_bytes(conf->max_pairs, conf->n_workers, &space),
			duet_pair_space_bytes(&space), st.heap_freesz_bytes,
			st.greatest_free_size);
		return -ENOMEM;
	}
	d->stats = rte_zmalloc("duet_stats", conf->n_workers * sizeof(*d->stats),
			       RTE_CACHE_LINE_SIZE);
	d->workers = rte_zmalloc("duet_workers", conf->n_workers * sizeof(*d->workers),
				 RTE_CACHE_LINE_SIZE);
	d->budgets = rte_zmalloc("duet_budgets", DUET_BUDGET_MAX * sizeof(*d->budgets),
				 RTE_CACHE_LINE_SIZE);
	if (d->stats == NULL || d->workers == NULL || d->budgets == NULL) {
		fprintf(stderr, "duetd: out of memory for workers\n");
		return -ENOMEM;
	}
	duet_worker_budgets_init(d->budgets, conf, rte_get_tsc_hz(), rte_get_tsc_cycles());
	for (i = 0; i < conf->n_workers; i++) {
		struct duet_worker *w = &d->workers[i];
		char name[RTE_RING_NAMESIZE];

		snprintf(name, sizeof(name), "duet_ctl%u", i);
		w->stats = &d->stats[i];
		w->pairs = d->pairs;
		w->ports = d->ports;
		w->n_ports = d->n_ports;
		w->widx = i;
		w->queue = (uint16_t)i;
		w->drain_tsc = rte_get_tsc_hz() / 1000000 * 100;
		w->idle_poll_us = conf->idle_poll_us;
		w->quit = &quit;
		duet_worker_configure(w, conf, d->budgets, rte_get_tsc_hz());
		w->ctl_ring = rte_ring_create(name, CTL_RING_SIZE, (int)rte_socket_id(),
					      RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->ctl_ring == NULL || duet_worker_init(w, (int)rte_socket_id()) != 0) {
			fprintf(stderr, "duetd: out of memory for worker %u\n", i);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Ask each port's gateway for its MAC: every second until it answers, then
 * once a minute. The frame goes out through worker 0's tx queue. */
static void
gateway_arp(struct duetd *d, uint64_t now)
{
	unsigned int i;
	uint8_t mac[6];

	for (i = 0; i < d->n_ports; i++) {
		struct duet_port *p = &d->ports[i];

		if (p->gateway_be == 0 || p->n_addrs == 0 || now < d->next_arp_ms[i])
			continue;
		d->next_arp_ms[i] =
			now + (duet_port_gateway_mac(p, mac) ? ARP_REFRESH_MS : ARP_RETRY_MS);
		(void)duet_port_arp_request(p, (uint16_t)i, d->mp, d->workers[0].ctl_ring);
	}
}

static void
print_stats(struct duetd *d)
{
	struct duet_lcore_stats s;
	char drops[1024];
	size_t off = 0;
	unsigned int r;

	duet_stats_sum(d->stats, d->conf.n_workers, &s);
	drops[0] = '\0';
	for (r = 0; r < DUET_DROP_MAX && off < sizeof(drops); r++) {
		int n;

		if (s.drops[r] == 0)
			continue;
		n = snprintf(drops + off, sizeof(drops) - off, " %s=%" PRIu64, duet_drop_name(r),
			     s.drops[r]);
		if (n > 0)
			off += (size_t)n;
	}
	printf("duetd: pairs=%u rx=%" PRIu64 " fwd=%" PRIu64 " arp_replies=%" PRIu64
	       " icmp_replies=%" PRIu64 " latched=%" PRIu64 " relatched=%" PRIu64
	       " drops=%" PRIu64 "%s redis=%s\n",
	       duet_pair_count(d->pairs), s.rx_pkts, s.fwd_pkts, s.arp_replies, s.icmp_replies,
	       s.latched, s.relatched, duet_stats_total_drops(&s), drops,
	       duet_sync_connected(d->sync) ? "up" : "down");
	fflush(stdout);
}

static void
teardown(struct duetd *d)
{
	unsigned int i;

	if (d->sync != NULL)
		duet_sync_destroy(d->sync);
	for (i = 0; i < d->n_ports; i++)
		duet_port_close(&d->ports[i]);
	if (d->workers != NULL) {
		for (i = 0; i < d->conf.n_workers; i++) {
			struct rte_mbuf *m = NULL;

			duet_worker_fini(&d->workers[i]);
			while (d->workers[i].ctl_ring != NULL &&
			       rte_ring_dequeue(d->workers[i].ctl_ring, (void **)&m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(d->workers[i].ctl_ring);
		}
	}
	duet_pair_table_free(d->pairs);
	rte_free(d->workers);
	rte_free(d->stats);
	rte_free(d->budgets);
	rte_mempool_free(d->mp);
}

int
main(int argc, char **argv)
{
	static struct duetd d;
	const char *config = NULL;
	char err[DUET_CONF_ERR_MAX];
	uint64_t next_print = 0;
	unsigned int i;
	int n, rc, shared, status = 1;

	/* A core dump would hold SRTP keys and the Redis password: none
	 * unless --allow-core-dumps (this also keeps non-root users from
	 * attaching a debugger). Before anything secret is read. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		fprintf(stderr, "duetd: cannot turn core dumps off: %s\n", strerror(errno));
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "duetd: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	argv[0] = (char *)"duetd";
	if (parse_args(argc, argv, &config, &d.print_stats_ms, &d.allow_core_dumps) != 0)
		goto out_eal;
	if (d.allow_core_dumps && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
		fprintf(stderr, "duetd: --allow-core-dumps: %s\n", strerror(errno));
	rc = duet_conf_load(config, &d.conf, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "duetd: %s\n", err);
		goto out_eal;
	}
	/* Workers must be enabled EAL lcores other than main. */
	rc = duet_conf_check_workers(&d.conf, config, rte_lcore_is_enabled, rte_get_main_lcore(),
				     err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "duetd: %s\n", err);
		goto out_eal;
	}
	if (setup_dataplane(&d) != 0)
		goto out;
	d.sync = duet_sync_create(&d.conf, d.pairs, d.stats, d.conf.n_workers);
	if (d.sync == NULL) {
		fprintf(stderr, "duetd: cannot start the Redis sync: %s\n",
			rte_strerror(rte_errno));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (i = 0; i < d.conf.n_workers; i++) {
		rc = rte_eal_remote_launch(duet_worker_main, &d.workers[i], d.conf.workers[i]);
		if (rc != 0) {
			fprintf(stderr, "duetd: cannot launch worker on lcore %u: %s\n",
				d.conf.workers[i], strerror(-rc));
			quit = true;
			break;
		}
	}
	LOG(INFO, "relay %s running: %u port(s), %u worker(s), up to %u pairs\n",
	    d.conf.relay_id, d.n_ports, d.conf.n_workers, d.conf.max_pairs);
	shared = worker_sharing_main_cpu(&d.conf);
	if (shared >= 0) {
		/* Each time the control thread wakes (a Redis reply) it
		 * preempts the worker, and a burst of work fills the rx ring:
		 * short slices, and the worker gets the CPU for a whole
		 * millisecond between two of them. */
		LOG(WARNING,
		    "the control thread shares a CPU with worker lcore %d: it works in short "
		    "slices, 1 ms apart (stats rounds and loads take longer); give it a CPU of "
		    "its own (EAL -l/--lcores) for full rate\n",
		    shared);
		duet_sync_set_short_slices(d.sync, true);
	}
	while (!quit) {
		/* CLOCK_MONOTONIC for the loop's pacing, which a wall-clock step
		 * must not move; CLOCK_REALTIME only for what sync writes out
		 * (timestamps) and `expires`. */
		uint64_t now = duet_clock_ms(CLOCK_MONOTONIC);

		duet_sync_poll(d.sync, duet_clock_ms(CLOCK_REALTIME));
		/* Following, the poll waits on Redis; seeding and loading run
		 * flat out; while Redis is away, pace the loop instead of
		 * spinning on reconnect back-off checks. */
		if (!duet_sync_link_up(d.sync))
			rte_delay_us_sleep(10000);
		duet_pair_reclaim(d.pairs);
		gateway_arp(&d, now);
		if (d.print_stats_ms != 0 && now >= next_print) {
			print_stats(&d);
			next_print = now + d.print_stats_ms;
		}
		if (shared >= 0)
			rte_delay_us_sleep(1000);
	}
	LOG(INFO, "stopping\n");
	rte_eal_mp_wait_lcore();
	if (d.print_stats_ms != 0)
		print_stats(&d);
	status = 0;
out:
	teardown(&d);
out_eal:
	rte_eal_cleanup();
	return status;
}
