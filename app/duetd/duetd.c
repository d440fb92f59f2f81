/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duetd: the relay daemon's main. EAL init, config, ports, the pair table,
 * worker lcore launch, the metrics (Prometheus and telemetry), then the
 * control thread's loop on the main lcore: Redis sync, RCU reclaim, gateway
 * ARP, link watch, metrics publication, systemd readiness and watchdog,
 * optional stats lines. No packet logic lives here. SIGINT/SIGTERM stop it
 * cleanly: workers flush and stop, pending Redis writes are sent, ports are
 * closed, EAL's files are removed. SIGUSR1 logs a stats line; SIGHUP
 * re-reads the config file and applies what can change while running.
 *
 * usage: duetd [EAL args] -- -c FILE [--print-stats-ms N]
 *        duetd --version | --check-config FILE
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <libgen.h>
#include <mntent.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

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
#include "duet_log.h"
#include "duet_metrics.h"
#include "duet_pair.h"
#include "duet_pkt.h"
#include "duet_police.h"
#include "duet_port.h"
#include "duet_srtp.h"
#include "duet_stats.h"
#include "duet_sync.h"
#include "duet_worker.h"
#include "duet_clock.h"

RTE_LOG_REGISTER(duet_relay_logtype, duet.relay, INFO);
#define LOG(level, ...) rte_log(RTE_LOG_##level, duet_relay_logtype, __VA_ARGS__)

#define CTL_RING_SIZE 256
#define ARP_RETRY_MS 1000
#define ARP_REFRESH_MS 60000

#define TICK_MS 1000 /* metrics publication, link watch, watchdog check */

static volatile bool quit;
static volatile sig_atomic_t got_hup, got_usr1;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		quit = true;
}

/* A pinned leg waiting for its on-link client's MAC (clients_nd()). */
struct nd_waiter {
	uint8_t ip[16];
	uint32_t slot;
	uint8_t leg;
	uint8_t port_idx;
	uint8_t used;
};

/* Pinned legs that may wait for their clients' MACs at once. */
#define CLIENT_ND_WAITERS 256

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
	uint64_t next_ns_ms[DUET_CONF_MAX_PORTS];
	/* Per port and family (0 IPv4, 1 IPv6): questions asked of the gateway
	 * so far, and whether its answer, or its silence, was logged. */
	unsigned int gw_asked[DUET_CONF_MAX_PORTS][2];
	uint8_t gw_logged[DUET_CONF_MAX_PORTS][2];
	uint64_t gw_mac_logged[DUET_CONF_MAX_PORTS][2]; /* the MAC word last logged */
	/* Pinned legs waiting for an on-link client's MAC (clients_nd). */
	struct nd_waiter nd_waiters[CLIENT_ND_WAITERS];
	uint64_t nd_forgotten; /* pins not asked for since the last notice */
	uint64_t next_nd_ms;
	const char *config_path;
	struct duet_metrics *metrics;
	uint64_t started_ms;
	bool ready;		/* READY=1 was sent */
	bool watchdog;		/* systemd wants WATCHDOG=1 pings */
	uint64_t next_tick_ms;
	/* Each worker's loop counters at the last tick: busy share and the
	 * watchdog's "still polling". */
	uint64_t prev_polls[DUET_CONF_MAX_WORKERS];
	uint64_t prev_loop_tsc[DUET_CONF_MAX_WORKERS];
	uint64_t prev_busy_tsc[DUET_CONF_MAX_WORKERS];
};

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL args] -- -c FILE [--print-stats-ms N] [--allow-core-dumps]\n"
		"       %s --version | --check-config FILE\n"
		"  -c, --config FILE       duetd config (see config/duetd.conf)\n"
		"  --print-stats-ms N      print a counters line every N ms (0: off)\n"
		"  --allow-core-dumps      let the process dump core (off by default: a core\n"
		"                          would hold SRTP keys and the Redis password)\n"
		"  --version               print duetd's version and exit\n"
		"  --check-config FILE     validate FILE and exit 0 (valid) or 1 (the reason\n"
		"                          on stderr); touches no port, needs no EAL\n"
		"  -h, --help              this text\n"
		"EAL args are DPDK's usual ones, e.g. -l 0,1 -a 0000:01:00.0 or\n"
		"--vdev net_af_packet0,iface=eth1. The main lcore runs the control thread;\n"
		"the config's [relay] workers names the worker lcores. Log levels with EAL's\n"
		"--log-level, per log type: --log-level=duet.sync:debug, --log-level='duet.*:info'\n"
		"(types duet.relay, duet.sync, duet.port, duet.metrics; EAL's own: lib.eal, ...).\n"
		"Signals: TERM/INT stop cleanly, USR1 logs a stats line, HUP re-reads the config\n"
		"(applies [log]; other changes need a restart).\n",
		prog, prog);
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

/* Questions a gateway may leave unanswered before duetd says so. */
#define GATEWAY_QUIET_WARN 5

/* Say once that port i's gateway of family f (0 IPv4, 1 IPv6) answered,
 * with its MAC, or, after GATEWAY_QUIET_WARN questions, that it does not. */
static void
gateway_log(struct duetd *d, unsigned int i, unsigned int f, bool known, const uint8_t mac[6])
{
	static const char *const how[2] = {"ARP", "neighbour discovery"};
	static const char *const key[2] = {"gateway", "gateway6"};
	const char *port = d->conf.ports[i].name;

	uint64_t word = 0;
	unsigned int k;

	for (k = 0; known && k < 6; k++)
		word = word << 8 | mac[k];
	if (known && d->gw_logged[i][f] == 1 && word != d->gw_mac_logged[i][f]) {
		/* A failover, or someone on the link who won a refresh's window. */
		LOG(WARNING, "port %s: %s now answers %s with another MAC: "
		    "%02x:%02x:%02x:%02x:%02x:%02x\n", port, key[f], how[f], mac[0], mac[1],
		    mac[2], mac[3], mac[4], mac[5]);
		d->gw_mac_logged[i][f] = word;
	} else if (known && d->gw_logged[i][f] != 1) {
		LOG(INFO, "port %s: %s answered %s: %02x:%02x:%02x:%02x:%02x:%02x\n", port, key[f],
		    how[f], mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		d->gw_logged[i][f] = 1;
		d->gw_mac_logged[i][f] = word;
	} else if (!known && d->gw_logged[i][f] == 0 && d->gw_asked[i][f] >= GATEWAY_QUIET_WARN) {
		LOG(WARNING,
		    "port %s: %s does not answer %s (%u questions): packets to callers "
		    "behind it are dropped as no_next_hop\n",
		    port, key[f], how[f], d->gw_asked[i][f]);
		d->gw_logged[i][f] = 2;
	}
}

/* Solicitations an on-link address gets before duetd waits for the
 * client's first packet instead. */
#define CLIENT_ND_TRIES 3

/* Add a waiter; a full list forgets the oldest pin's question (that
 * client's first packet teaches its MAC all the same) and counts it. */
static void
nd_waiter_add(struct duetd *d, const struct duet_pair_pin_ref *pin)
{
	struct nd_waiter *w = NULL;
	unsigned int i;

	for (i = 0; i < CLIENT_ND_WAITERS && w == NULL; i++)
		if (!d->nd_waiters[i].used)
			w = &d->nd_waiters[i];
	if (w == NULL) {
		d->nd_forgotten++;
		return;
	}
	memcpy(w->ip, pin->client.ip, 16);
	w->slot = pin->slot;
	w->leg = pin->leg;
	w->port_idx = pin->port_idx;
	w->used = 1;
}

/* Entry k of port i closed: answered with mac (learn it for every leg
 * waiting on that address), or given up (mac NULL: they wait for their
 * clients' first packets). */
static void
nd_waiters_done(struct duetd *d, unsigned int i, const uint8_t *ip, const uint8_t *mac)
{
	struct duet_addr client;
	unsigned int k;

	memset(&client, 0, sizeof(client));
	client.family = DUET_AF_INET6;
	memcpy(client.ip, ip, 16);
	for (k = 0; k < CLIENT_ND_WAITERS; k++) {
		struct nd_waiter *w = &d->nd_waiters[k];

		if (!w->used || w->port_idx != i || memcmp(w->ip, ip, 16) != 0)
			continue;
		if (mac != NULL)
			(void)duet_pair_learn_hop(d->pairs, w->slot, w->leg, &client, mac);
		w->used = 0;
	}
}

/*
 * Pinned IPv6 clients on a port's link (the /64 of one of its IPv6
 * service addresses): a pin gives an address, not a MAC, so ask the link
 * at once rather than wait for the client's first packet (which would
 * teach it too). One question per address, however many legs are pinned
 * to it; a worker takes the answer (duet_port_nd_wanted), and here it goes
 * into every leg waiting on it. A window closed unanswered asks again, up
 * to CLIENT_ND_TRIES times; a waiter whose address found no free entry
 * asks again once a second.
 */
static void
clients_nd(struct duetd *d, uint64_t now_ms)
{
	struct duet_pair_pin_ref pins[32];
	uint64_t now = rte_get_tsc_cycles();
	unsigned int n, i, k;
	bool retry = now_ms >= d->next_nd_ms;

	n = duet_pair_pins_take(d->pairs, pins, 32);
	for (i = 0; i < n; i++) {
		struct duet_port *p = &d->ports[pins[i].port_idx];

		if (pins[i].client.family != DUET_AF_INET6 ||
		    !duet_port_onlink6(p, pins[i].client.ip))
			continue;
		nd_waiter_add(d, &pins[i]);
		(void)duet_port_nd_want(p, pins[i].port_idx, d->mp, d->workers[0].ctl_ring,
					pins[i].client.ip);
	}
	for (i = 0; i < d->n_ports; i++) {
		struct duet_port *p = &d->ports[i];

		for (k = 0; k < DUET_PORT_ND_WANTS; k++) {
			struct duet_port_nd_want *e = &p->nd_wants[k];
			uint64_t until = __atomic_load_n(&e->until, __ATOMIC_ACQUIRE);
			uint8_t mac[6];

			if (until == 0)
				continue;
			if (duet_port_mac_word_(__atomic_load_n(&e->mac_word, __ATOMIC_ACQUIRE),
						mac)) {
				nd_waiters_done(d, i, e->ip, mac);
				__atomic_store_n(&e->until, 0, __ATOMIC_RELEASE);
			} else if ((int64_t)(now - until) > 0) {
				if (e->tries >= CLIENT_ND_TRIES ||
				    duet_port_nd_again(p, k, (uint16_t)i, d->mp,
						       d->workers[0].ctl_ring) != 0) {
					nd_waiters_done(d, i, e->ip, NULL);
					__atomic_store_n(&e->until, 0, __ATOMIC_RELEASE);
				}
			}
		}
	}
	if (!retry)
		return;
	d->next_nd_ms = now_ms + 1000;
	/* Waiters whose address found every entry in use: ask now. */
	for (k = 0; k < CLIENT_ND_WAITERS; k++) {
		struct nd_waiter *w = &d->nd_waiters[k];

		if (w->used)
			(void)duet_port_nd_want(&d->ports[w->port_idx], w->port_idx, d->mp,
						d->workers[0].ctl_ring, w->ip);
	}
	if (d->nd_forgotten != 0) {
		LOG(NOTICE,
		    "%" PRIu64 " pinned on-link IPv6 client(s) not asked for (more than %u "
		    "waiting): each gets its MAC from its own first packet\n",
		    d->nd_forgotten, CLIENT_ND_WAITERS);
		d->nd_forgotten = 0;
	}
}

/* Ask each port's gateways for their MACs, by ARP (IPv4) and neighbour
 * solicitation (IPv6): every second until one answers, then once a minute.
 * The frames go out through worker 0's tx queue. */
static void
gateway_arp(struct duetd *d, uint64_t now)
{
	unsigned int i;
	uint8_t mac[6];
	bool known;

	for (i = 0; i < d->n_ports; i++) {
		struct duet_port *p = &d->ports[i];

		if (p->gateway_be != 0 && p->n_addrs != 0 && now >= d->next_arp_ms[i]) {
			known = duet_port_gateway_mac(p, mac);
			gateway_log(d, i, 0, known, mac);
			d->next_arp_ms[i] = now + (known ? ARP_REFRESH_MS : ARP_RETRY_MS);
			if (duet_port_arp_request(p, (uint16_t)i, d->mp, d->workers[0].ctl_ring) == 0)
				d->gw_asked[i][0]++;
		}
		if (p->has_gateway6 && p->n_addrs6 != 0 && now >= d->next_ns_ms[i]) {
			known = duet_port_gateway_mac_of(p, DUET_AF_INET6, mac);
			gateway_log(d, i, 1, known, mac);
			d->next_ns_ms[i] = now + (known ? ARP_REFRESH_MS : ARP_RETRY_MS);
			if (duet_port_ns_request(p, (uint16_t)i, d->mp, d->workers[0].ctl_ring) == 0)
				d->gw_asked[i][1]++;
		}
	}
}

/* The counters line: for --print-stats-ms (stdout) and SIGUSR1 (the log). */
static void
format_stats(struct duetd *d, char *line, size_t size)
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
	snprintf(line, size,
		 "pairs=%u rx=%" PRIu64 " fwd=%" PRIu64 " arp_replies=%" PRIu64
		 " icmp_replies=%" PRIu64 " latched=%" PRIu64 " relatched=%" PRIu64
		 " drops=%" PRIu64 "%s redis=%s",
		 duet_pair_count(d->pairs), s.rx_pkts, s.fwd_pkts, s.arp_replies, s.icmp_replies,
		 s.latched, s.relatched, duet_stats_total_drops(&s), drops,
		 duet_sync_connected(d->sync) ? "up" : "down");
}

static void
print_stats(struct duetd *d)
{
	char line[1536];

	format_stats(d, line, sizeof(line));
	printf("duetd: %s\n", line);
	fflush(stdout);
}

static void
teardown(struct duetd *d)
{
	unsigned int i;

	/* The HTTP and telemetry threads read what follows: stop them first. */
	duet_metrics_destroy(d->metrics);
	d->metrics = NULL;
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
	if (d->n_ports > 0)
		duet_port_capture_fini();
	duet_pair_table_free(d->pairs);
	rte_free(d->workers);
	rte_free(d->stats);
	rte_free(d->budgets);
	rte_mempool_free(d->mp);
}

/* --version and --check-config FILE: answered before EAL starts, so they
 * need no hugepages, no root and no port. The exit status, or -1 when
 * neither was asked. */
static int
check_config(const char *path)
{
	char err[DUET_CONF_ERR_MAX], where[DUET_ADDR_STRLEN];
	struct duet_conf *conf;
	int rc;

	if (path == NULL) {
		fprintf(stderr, "duetd: --check-config needs a FILE\n");
		return 1;
	}
	conf = malloc(sizeof(*conf));
	if (conf == NULL) {
		fprintf(stderr, "duetd: out of memory\n");
		return 1;
	}
	rc = duet_conf_load(path, conf, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "duetd: %s\n", err);
	} else {
		if (conf->metrics.enabled)
			duet_addr_format(&conf->metrics.addr, where, sizeof(where));
		else
			snprintf(where, sizeof(where), "off");
		printf("duetd: %s is valid: relay %s, %u worker(s), %u port(s), up to %u pairs, "
		       "metrics %s\n",
		       path, conf->relay_id, conf->n_workers, conf->n_ports, conf->max_pairs, where);
	}
	/* It may hold the Redis password. */
	memset(conf, 0, sizeof(*conf));
	free(conf);
	return rc == 0 ? 0 : 1;
}

static int
early_options(int argc, char **argv)
{
	static const char check[] = "--check-config";
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("duetd %s\n", DUET_VERSION);
			return 0;
		}
		if (strcmp(argv[i], check) == 0)
			return check_config(i + 1 < argc ? argv[i + 1] : NULL);
		if (strncmp(argv[i], check, sizeof(check) - 1) == 0 &&
		    argv[i][sizeof(check) - 1] == '=')
			return check_config(argv[i] + sizeof(check));
	}
	return -1;
}

/* Debug lines may name clients (addresses, pair ids): say so once. */
/* [srtp] engine: the burst engine where the CPU has AES-NI (or where the
 * config asks for it: refused without), else libsrtp2. Before any pair. */
static int
choose_srtp_engine(const struct duet_conf *c)
{
	bool ok = duet_srtp_engine_cpu_ok();

	if (c->srtp_engine == DUET_CONF_SRTP_BURST && !ok) {
		fprintf(stderr, "duetd: [srtp] engine = burst needs AES-NI and PCLMULQDQ, which this "
				"CPU lacks; use engine = libsrtp2\n");
		return -ENOTSUP;
	}
	if (c->srtp_engine == DUET_CONF_SRTP_LIBSRTP2 || !ok) {
		(void)duet_srtp_engine_set(DUET_SRTP_ENGINE_LIBSRTP2);
		if (c->srtp_engine == DUET_CONF_SRTP_LIBSRTP2)
			LOG(INFO, "SRTP: libsrtp2 ([srtp] engine = libsrtp2)\n");
		else
			LOG(NOTICE, "SRTP: this CPU has no AES-NI: libsrtp2, one packet at a "
				    "time, instead of the burst engine\n");
		return 0;
	}
	(void)duet_srtp_engine_set(DUET_SRTP_ENGINE_BURST);
	LOG(INFO, "SRTP: burst engine (intel-ipsec-mb)%s\n",
	    c->srtp_engine == DUET_CONF_SRTP_AUTO ? ", the default on a CPU with AES-NI" : "");
	return 0;
}

static void
warn_if_debug(void)
{
	static const char *const types[] = {"duet.relay", "duet.sync", "duet.port",
					    "duet.metrics"};
	unsigned int i;

	for (i = 0; i < RTE_DIM(types); i++) {
		int t = rte_log_register(types[i]);

		if (t >= 0 && rte_log_get_level((uint32_t)t) >= (int)RTE_LOG_DEBUG)
			LOG(WARNING, "debug logging is on for %s: debug lines may carry client "
				     "addresses; no line below debug does\n",
			    types[i]);
	}
}

/* SIGHUP: re-read the config; apply what may change while running ([log]),
 * and keep everything on a file that no longer loads. */
static void
reload_config(struct duetd *d)
{
	char err[DUET_CONF_ERR_MAX];
	struct duet_conf *c = malloc(sizeof(*c));

	if (c == NULL)
		return;
	if (duet_conf_load(d->config_path, c, err, sizeof(err)) != 0) {
		LOG(ERR, "SIGHUP: %s; keeping the running config\n", err);
	} else {
		if (c->log_format != d->conf.log_format) {
			d->conf.log_format = c->log_format;
			(void)duet_log_open(c->log_format);
		}
		LOG(NOTICE, "SIGHUP: %s re-read and valid; [log] format applied, other changes "
			    "take effect at the next restart\n",
		    d->config_path);
	}
	memset(c, 0, sizeof(*c));
	free(c);
}

/* Once a second (or twice a watchdog period): what the metrics show of the
 * control thread, links, readiness and the watchdog. */
static void
tick(struct duetd *d)
{
	struct duet_metrics_ctl ctl;
	unsigned int w, stalled = UINT32_MAX;

	memset(&ctl, 0, sizeof(ctl));
	for (w = 0; w < d->conf.n_workers && w < DUET_CONF_MAX_WORKERS; w++) {
		const struct duet_lcore_stats *s = &d->stats[w];
		uint64_t polls = __atomic_load_n(&s->polls, __ATOMIC_RELAXED);
		uint64_t loop = __atomic_load_n(&s->loop_tsc, __ATOMIC_RELAXED);
		uint64_t busy = __atomic_load_n(&s->busy_tsc, __ATOMIC_RELAXED);

		if (polls == d->prev_polls[w] && stalled == UINT32_MAX)
			stalled = w;
		if (loop > d->prev_loop_tsc[w])
			ctl.busy_share[w] = (double)(busy - d->prev_busy_tsc[w]) /
					    (double)(loop - d->prev_loop_tsc[w]);
		d->prev_polls[w] = polls;
		d->prev_loop_tsc[w] = loop;
		d->prev_busy_tsc[w] = busy;
	}
	duet_sync_get_info(d->sync, &ctl.sync);
	ctl.pairs = duet_pair_count(d->pairs);
	ctl.capacity = duet_pair_capacity(d->pairs);
	ctl.ready = ctl.sync.table_current;
	ctl.workers_alive = stalled == UINT32_MAX;
	duet_metrics_publish(d->metrics, &ctl);
	duet_port_watch_links(d->ports, d->n_ports);
	if (!d->ready && ctl.ready) {
		d->ready = true;
		LOG(INFO, "ready: ports up, %u pair(s) loaded from Redis\n", ctl.pairs);
		sd_notify(0, "READY=1");
	}
	sd_notifyf(0, "STATUS=%s: %u pair(s) of %u, Redis %s%s",
		   d->ready ? "forwarding" : "waiting for the pair table from Redis", ctl.pairs,
		   ctl.capacity, ctl.sync.link_up ? "up" : "down",
		   ctl.sync.draining ? ", draining" : "");
	if (!d->watchdog)
		return;
	if (ctl.workers_alive)
		sd_notify(0, "WATCHDOG=1");
	else
		LOG(WARNING, "worker %u (lcore %u) has not polled since the last tick: no "
			     "watchdog ping\n",
		    stalled, d->conf.workers[stalled]);
}

static int
start_metrics(struct duetd *d)
{
	struct duet_metrics_src src = {
		.conf = &d->conf,
		.lcore = d->stats,
		.n_workers = d->conf.n_workers,
		.ports = d->ports,
		.n_ports = d->n_ports,
		.pairs = d->pairs,
		.tsc_hz = rte_get_tsc_hz(),
		.started_ms = d->started_ms,
	};
	char err[256];
	int rc;

	d->metrics = duet_metrics_create(&src);
	if (d->metrics == NULL) {
		fprintf(stderr, "duetd: out of memory for the metrics\n");
		return -ENOMEM;
	}
	rc = duet_metrics_http_start(d->metrics, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "duetd: %s\n", err);
		return rc;
	}
	if (duet_metrics_telemetry_register(d->metrics) != 0)
		LOG(WARNING, "cannot register the /duet/ telemetry commands\n");
	return 0;
}

/* Remove the files of dir whose names start with prefix; rmdir it when
 * prefix is "" (the runtime dir is all ours). */
static void
remove_files(const char *dir, const char *prefix)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
			(void)unlink(path);
	}
	closedir(d);
	if (prefix[0] == '\0')
		(void)rmdir(dir);
}

/* What EAL leaves behind after rte_eal_cleanup(): its runtime directory
 * (/var/run/dpdk/<prefix>: config, fbarrays, sockets) and, with hugepages,
 * the <prefix>map_* files in each hugetlbfs mount. The prefix is ours
 * alone (EAL refuses a second primary on it). Main thread, at exit. */
static void
remove_eal_files(const char *runtime_dir)
{
	char copy[PATH_MAX], pfx[PATH_MAX];
	struct mntent *me;
	FILE *mounts;

	if (runtime_dir[0] == '\0')
		return;
	snprintf(copy, sizeof(copy), "%s", runtime_dir);
	snprintf(pfx, sizeof(pfx), "%smap_", basename(copy));
	remove_files(runtime_dir, "");
	mounts = setmntent("/proc/mounts", "r");
	if (mounts == NULL)
		return;
	while ((me = getmntent(mounts)) != NULL)
		if (strcmp(me->mnt_type, "hugetlbfs") == 0)
			remove_files(me->mnt_dir, pfx);
	endmntent(mounts);
}

/* duetd's own arguments, those after EAL's "--", parsed before EAL starts:
 * a wrong one, and the config file's errors, come without EAL's start-up,
 * and [log] format applies from EAL's first line. EAL stops at "--" and
 * never sees what getopt rearranges after it. */
static int
parse_own_args(int argc, char **argv, struct duetd *d, const char **config)
{
	static char name[] = "duetd";
	char *none[] = {name, NULL};
	char *dashes;
	int i = 1, rc;

	while (i < argc && strcmp(argv[i], "--") != 0)
		i++;
	if (i == argc)
		return parse_args(1, none, config, &d->print_stats_ms, &d->allow_core_dumps);
	dashes = argv[i];
	argv[i] = name;
	rc = parse_args(argc - i, argv + i, config, &d->print_stats_ms, &d->allow_core_dumps);
	argv[i] = dashes;
	return rc;
}

int
main(int argc, char **argv)
{
	static struct duetd d;
	const char *config = NULL;
	char err[DUET_CONF_ERR_MAX], runtime_dir[PATH_MAX];
	uint64_t next_print = 0, wd_usec = 0, tick_ms = TICK_MS;
	unsigned int i;
	int n, rc, shared, status = 1;

	rc = early_options(argc, argv);
	if (rc >= 0)
		return rc;
	/* A core dump would hold SRTP keys and the Redis password: none
	 * unless --allow-core-dumps (this also keeps non-root users from
	 * attaching a debugger). Before anything secret is read. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		fprintf(stderr, "duetd: cannot turn core dumps off: %s\n", strerror(errno));
	if (parse_own_args(argc, argv, &d, &config) != 0)
		return 1;
	d.config_path = config;
	rc = duet_conf_load(config, &d.conf, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "duetd: %s\n", err);
		return 1;
	}
	/* Timestamped lines in the config's format from EAL's first one. */
	(void)duet_log_open(d.conf.log_format);
	duet_log_learn_types();
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		int e = rte_errno;

		fprintf(stderr, "duetd: EAL init failed: %s%s\n", rte_strerror(e),
			/* EAL says EACCES when it finds no hugepages. */
			e == EACCES || e == ENOMEM || e == EFAULT
				? " (no hugepages? mount them and reserve some, e.g. "
				  "dpdk-hugepages.py --setup 2G, or give EAL --no-huge -m MB; see "
				  "docs/operations.md)"
				: "");
		return 1;
	}
	duet_log_learn_types();
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	if (d.allow_core_dumps && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
		fprintf(stderr, "duetd: --allow-core-dumps: %s\n", strerror(errno));
	warn_if_debug();
	if (choose_srtp_engine(&d.conf) != 0)
		goto out_eal;
	/* Workers must be enabled EAL lcores other than main. */
	rc = duet_conf_check_workers(&d.conf, config, rte_lcore_is_enabled, rte_get_main_lcore(),
				     err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "duetd: %s\n", err);
		goto out_eal;
	}
	d.started_ms = duet_clock_ms(CLOCK_REALTIME);
	if (setup_dataplane(&d) != 0)
		goto out;
	(void)duet_port_wait_links(d.ports, d.n_ports, d.conf.link_wait_ms);
	(void)duet_port_capture_init(d.conf.privacy.allow_capture);
	d.sync = duet_sync_create(&d.conf, d.pairs, d.stats, d.conf.n_workers);
	if (d.sync == NULL) {
		fprintf(stderr, "duetd: cannot start the Redis sync: %s\n",
			rte_strerror(rte_errno));
		goto out;
	}
	if (start_metrics(&d) != 0)
		goto out;
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) {
		d.watchdog = true;
		/* Two pings a period at least. */
		if (wd_usec / 2000 < tick_ms)
			tick_ms = wd_usec / 2000 > 0 ? wd_usec / 2000 : 1;
		LOG(INFO, "systemd watchdog: %" PRIu64 " ms; pinging while the workers poll\n",
		    wd_usec / 1000);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGUSR1, on_signal);
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
		clients_nd(&d, now);
		duet_metrics_serve(d.metrics);
		/* A tick as soon as the table is loaded: READY=1 without
		 * waiting for the next second. */
		if (!d.ready) {
			struct duet_sync_info si;

			duet_sync_get_info(d.sync, &si);
			if (si.table_current)
				d.next_tick_ms = 0;
		}
		if (now >= d.next_tick_ms) {
			tick(&d);
			d.next_tick_ms = now + tick_ms;
		}
		if (got_usr1) {
			char line[1536];

			got_usr1 = 0;
			format_stats(&d, line, sizeof(line));
			LOG(NOTICE, "%s\n", line);
		}
		if (got_hup) {
			got_hup = 0;
			reload_config(&d);
		}
		if (d.print_stats_ms != 0 && now >= next_print) {
			print_stats(&d);
			next_print = now + d.print_stats_ms;
		}
		if (shared >= 0)
			rte_delay_us_sleep(1000);
	}
	LOG(INFO, "stopping\n");
	sd_notify(0, "STOPPING=1");
	rte_eal_mp_wait_lcore();
	if (d.print_stats_ms != 0)
		print_stats(&d);
	status = 0;
out:
	teardown(&d);
out_eal:
	rte_eal_cleanup();
	remove_eal_files(runtime_dir);
	return status;
}
