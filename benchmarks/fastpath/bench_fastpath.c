/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_fastpath: what one packet costs in duet's worker pipeline, with no
 * NIC in the way (issue "Benchmarks", item 1). One process, one thread: the
 * EAL main lcore plays worker 0, on two net_ring ports, as duetd's
 * setup_dataplane() builds it. For each mode (passthrough; verify and rekey
 * for each SRTP suite) a pair table grows in steps to P live pairs (the
 * --pairs / --keyed-pairs lists), both legs of every pair latched; at each
 * step, R runs of N packets: bursts of 32 Opus 20 ms frames (RTP payload
 * 60..160 bytes; SRTP-protected by the clients' keys in keyed modes) to
 * uniformly random pairs, alternately leg a (port 0) and leg b (port 1),
 * handed to duet_worker_burst() as rx would hand them.
 *
 * Timed per burst with rte_rdtsc(): duet_worker_burst() plus the tx flush
 * (frames go into the peer port's net_ring), and apart from it the drain
 * (rx of that ring, free of the mbufs), which a NIC's tx completion would
 * do. Building frames and SRTP protection are done before or between the
 * timed parts. A burst that took more than OUTLIER times the median (the
 * thread was preempted: this machine may be shared) is left out and
 * counted. Every timed packet must have been relayed, or the program exits
 * 1. Under callgrind each measurement is dumped to a file of its own.
 *
 * With --workers N (passthrough only), N lcores on N CPUs each play a
 * worker with its own rx/tx queue on both ports, and every run is
 * measured twice: worker 0 alone over every leg, then all N at once, each
 * over the legs RSS would give it ((pair + leg) % N: a pair's two legs on
 * different workers). Their sum of packets per busy second against the
 * one worker's is the scaling. With --perf-counters, the CPU's counters
 * (instructions, LLC load misses) are read around each timed burst
 * (fastpath_perf.c): a separate, slower run, where the VM exposes them.
 *
 * With --family 6 both legs' endpoints, service addresses and clients are
 * IPv6; with --family 46 leg a is IPv4 and leg b IPv6, so every packet
 * crosses families (the v4<->v6 bridge); the variants are then suffixed
 * _ip4, _ip6 or _ip46. Once a table holds all its pairs, its bytes per pair
 * are rows too (table_bytes_per_pair: duet_pair_table_bytes();
 * table_bytes_each_pair: the same without the endpoint index, which the
 * config fixes; heap_bytes_per_pair: DPDK's heap in use against before the
 * table).
 *
 * Output: CSV rows on stdout, `benchmark,variant,pairs,metric,value,unit,run`;
 * the machine line and progress on stderr. After each run, --between runs
 * a shell command (the run script's testpmd window) with the same stdout
 * and FASTPATH_AFTER="variant,pairs,run" naming the run it follows.
 * Usage: --help; benchmarks/fastpath/run.sh runs it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_version.h>

/* Under callgrind, each measurement's counts go to a file of their own. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_DUMP_STATS_AT
#define CALLGRIND_DUMP_STATS_AT(label) ((void)(label))
#define CALLGRIND_ZERO_STATS ((void)0)
#endif

#include "duet_pair.h"
#include "duet_pair_fp.h"
#include "duet_port.h"
#include "duet_sdes.h"
#include "duet_srtp.h"
#include "duet_stats.h"
#include "duet_worker.h"
#include "duet_worker_fp.h"
#include "fastpath_perf.h"
#include "fastpath_traffic.h"

#define BURST DUET_WORKER_BURST
#define MAX_WORKERS 4
#define N_MBUFS 8191
#define MAX_LIST 8
#define die fp_die

_Static_assert(BURST == FP_BURST, "the traffic's bursts are duet's rx bursts");

struct opts {
	uint32_t pairs[MAX_LIST], n_pairs;
	uint32_t keyed_pairs[MAX_LIST], n_keyed_pairs;
	bool mode_on[3];
	bool suite_on[DUET_SRTP_SUITE_COUNT];
	/* Keyed modes: [0] libsrtp2, [1] the burst engine (variants "-srtpe"). */
	bool engine_on[2];
	uint64_t plain_pkts, keyed_pkts;
	unsigned int runs;    /* repetitions of each measurement */
	const char *between;  /* shell command run after each repetition */
	int cpu;
	unsigned int mem_mb;
	bool hugepages; /* --in-memory on hugepages, else --no-huge */
	uint64_t seed;
	unsigned int workers; /* --workers: lcores measured at once (passthrough) */
	bool perf;	      /* --perf-counters */
	unsigned int family;  /* --family 4, 6 or 46; 0: IPv4, variant names unsuffixed */
	unsigned int first_run; /* --first-run: the run column's first number */
};

/* Everything the benchmark sets up: the relay's side once per process,
 * the table and its clients once per mode/suite. */
struct bench {
	struct rte_mempool *mp;
	struct duet_port ports[2];
	struct duet_lcore_stats *stats[MAX_WORKERS];
	struct duet_worker *w[MAX_WORKERS];
	unsigned int n_workers;
	unsigned int lcore[MAX_WORKERS]; /* worker k's EAL lcore (0: the main one) */
	struct fp_perf perf;		 /* --perf-counters: open, else fd -1 */
	double ns_per_tsc;
	struct duet_pair_table *pairs;
	size_t heap0;	   /* DPDK heap bytes in use before the table was made */
	const char *suffix; /* appended to every variant: "_ip6" for --family 6, ... */
	uint32_t n_live;
	uint8_t mode;
	struct duet_sdes key[DUET_KEY_COUNT];
	struct fp_traffic traffic;
	struct duet_conf conf;					/* duetd's defaults */
	struct duet_police_budget budgets[DUET_BUDGET_MAX];	/* relay-wide, as duetd's */
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- set-up ------------------------------------------------------------- */

static void
eal_start(const struct opts *o)
{
	static char prefix[64], lcores[96], mem[16];
	char *argv[] = { "bench_fastpath", o->hugepages ? "--in-memory" : "--no-huge", "-m", mem,
			 "--no-pci", "--no-telemetry", "--no-shconf",
			 "--file-prefix", prefix, "--lcores", lcores, "--vdev", "net_ring0",
			 "--vdev", "net_ring1", "--log-level", "*:error", NULL };
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	cpu_set_t set;
	int cpu = o->cpu, c;
	unsigned int k = 1;
	size_t len;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		die("sched_getaffinity: %s", strerror(errno));
	if (cpu < 0) {
		/* The last CPU we may use: away from CPU 0's interrupts. */
		for (c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				cpu = c;
	}
	snprintf(mem, sizeof(mem), "%u", o->mem_mb);
	len = (size_t)snprintf(lcores, sizeof(lcores), "0@%d", cpu);
	/* More workers: the other CPUs we may use, from the highest down. */
	for (c = CPU_SETSIZE - 1; c >= 0 && k < o->workers; c--) {
		if (c == cpu || !CPU_ISSET(c, &set))
			continue;
		len += (size_t)snprintf(lcores + len, sizeof(lcores) - len, ",%u@%d", k, c);
		k++;
	}
	if (k < o->workers)
		die("--workers %u: only %u CPUs to run them on", o->workers, k);
	snprintf(prefix, sizeof(prefix), "bench_fp_%d", (int)getpid());
	if (rte_eal_init(argc, argv) < 0)
		die("EAL init: %s", rte_strerror(rte_errno));
}

static void
port_start(struct bench *b, unsigned int i)
{
	const char *name = i == 0 ? "net_ring0" : "net_ring1";
	struct duet_conf_port cp;
	struct rte_ether_addr a;
	char err[256];
	uint16_t pid;
	unsigned int k;
	int rc;

	if (rte_eth_dev_get_port_by_name(name, &pid) != 0)
		die("no ethdev %s", name);
	memcpy(a.addr_bytes, fp_mac_port[i], 6);
	if (rte_eth_dev_mac_addr_add(pid, &a, 0) != 0)
		die("%s: cannot set MAC", name);
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.name, sizeof(cp.name), "%s", name);
	for (k = 0; k < FP_SVC_ADDRS; k++)
		fp_svc_addr(&b->traffic, i, k, 0, &cp.addrs[k]);
	cp.n_addrs = FP_SVC_ADDRS;
	cp.rx_desc = 1024;
	cp.tx_desc = 1024;
	err[0] = '\0';
	rc = duet_port_setup(&b->ports[i], &cp, (uint16_t)b->n_workers, b->mp, err, sizeof(err));
	if (rc != 0)
		die("port setup %s: %d %s", name, rc, err);
	b->conf.ports[i] = cp; /* for the table's endpoint space */
}

static void
dataplane_start(struct bench *b, unsigned int n_workers)
{
	unsigned int i, k, lc;

	b->n_workers = n_workers;
	b->mp = duet_port_mempool_create("fp_mbuf", N_MBUFS, (int)rte_socket_id());
	if (b->mp == NULL)
		die("mempool: %s", rte_strerror(rte_errno));
	/* duetd's defaults first: the ports and the media range go in. */
	duet_conf_defaults(&b->conf);
	port_start(b, 0);
	port_start(b, 1);
	b->conf.n_ports = 2;
	b->conf.port_min = FP_EP_PORT_BASE;
	b->conf.port_max = 65535;
	/* duetd's defaults (relatch_silence_ms 2000, the source policy with
	 * both service addresses, budgets, SSRC cap, egress header), a
	 * 100 us tx drain. The per-leg policer runs on every packet with
	 * limits no run reaches (see pairs_add): its cost is measured, it
	 * drops nothing. */
	b->conf.security.police_burst_ms = 10000;
	/* The set-up latches up to 2,000,000 legs as fast as it can: a
	 * budget sized for a scan would refuse most (the budget's CAS still
	 * runs for each). */
	b->conf.security.budget_unlatched_pps = 10000000;
	for (i = 0; i < 2; i++) {
		struct duet_addr own;

		for (k = 0; k < b->ports[i].n_addrs; k++) {
			duet_addr_set4(&own, b->ports[i].addrs_be[k], 0);
			if (duet_policy_add_own(&b->conf.policy, &own) != 0)
				die("source policy: too many service addresses");
		}
		for (k = 0; k < b->ports[i].n_addrs6; k++) {
			memset(&own, 0, sizeof(own));
			own.family = DUET_AF_INET6;
			memcpy(own.ip, b->ports[i].addrs6[k], 16);
			if (duet_policy_add_own(&b->conf.policy, &own) != 0)
				die("source policy: too many service addresses");
		}
	}
	duet_worker_budgets_init(b->budgets, &b->conf, rte_get_tsc_hz(), rte_get_tsc_cycles());
	k = 0;
	b->lcore[k++] = rte_get_main_lcore();
	RTE_LCORE_FOREACH_WORKER(lc)
		if (k < n_workers)
			b->lcore[k++] = lc;
	for (i = 0; i < n_workers; i++) {
		struct duet_worker *w;

		b->stats[i] = rte_zmalloc("fp_stats", sizeof(*b->stats[i]), RTE_CACHE_LINE_SIZE);
		b->w[i] = w = rte_zmalloc("fp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
		if (b->stats[i] == NULL || w == NULL)
			die("no memory for the workers");
		w->stats = b->stats[i];
		w->ports = b->ports;
		w->n_ports = 2;
		w->widx = i;
		w->queue = (uint16_t)i;
		duet_worker_configure(w, &b->conf, b->budgets, rte_get_tsc_hz());
		w->drain_tsc = rte_get_tsc_hz() / 1000000 * 100;
		w->ctl_ring = NULL;
		if (duet_worker_init(w, (int)rte_socket_id()) != 0)
			die("worker init: no memory");
	}
	b->ns_per_tsc = 1e9 / (double)rte_get_tsc_hz();
}

/* A key of `suite` whose bytes follow from seed. */
static struct duet_sdes
bench_key(enum duet_srtp_suite suite, uint8_t seed)
{
	struct duet_sdes k;
	unsigned int i;

	memset(&k, 0, sizeof(k));
	k.suite = suite;
	k.key_len = (uint8_t)duet_srtp_suite_key_len(suite);
	for (i = 0; i < k.key_len && i < sizeof(k.key); i++)
		k.key[i] = (uint8_t)(seed * 37 + i * 29 + 1);
	return k;
}

/* Bytes of DPDK's heap on this socket in use now. */
static size_t
heap_in_use(void)
{
	struct rte_malloc_socket_stats st;

	if (rte_malloc_get_socket_stats((int)rte_socket_id(), &st) != 0)
		die("rte_malloc_get_socket_stats");
	return st.heap_allocsz_bytes;
}

/* A table for up to capacity pairs in mode/suite; no pair in it yet. */
static void
table_open(struct bench *b, uint8_t mode, enum duet_srtp_suite suite, uint32_t capacity)
{
	struct duet_pair_space space;
	unsigned int k;

	duet_port_space(&b->conf, b->ports, &space);
	b->heap0 = heap_in_use();
	b->pairs = duet_pair_table_create("fp_pairs", capacity, b->n_workers, (int)rte_socket_id(),
					  &space);
	if (b->pairs == NULL)
		die("pair table of %" PRIu32 ": %s", capacity, rte_strerror(rte_errno));
	for (k = 0; k < b->n_workers; k++)
		b->w[k]->pairs = b->pairs;
	/* Worker 0 is the main lcore's, the others register on their own. */
	if (duet_pair_worker_register(b->pairs, 0) != 0)
		die("RCU register");
	b->n_live = 0;
	b->mode = mode;
	if (mode == DUET_MODE_PASSTHROUGH) {
		fp_traffic_open(&b->traffic, capacity, NULL, NULL);
		return;
	}
	for (k = 0; k < DUET_KEY_COUNT; k++)
		b->key[k] = bench_key(suite, (uint8_t)(k + 1));
	fp_traffic_open(&b->traffic, capacity, &b->key[DUET_KEY_A_IN], &b->key[DUET_KEY_B_IN]);
}

static void
table_close(struct bench *b)
{
	unsigned int k;

	duet_pair_worker_unregister(b->pairs, 0);
	duet_pair_table_free(b->pairs);
	b->pairs = NULL;
	for (k = 0; k < b->n_workers; k++)
		b->w[k]->pairs = NULL;
	fp_traffic_close(&b->traffic);
	duet_secure_zero(b->key, sizeof(b->key));
}

static struct rte_mbuf *
mbuf_frame(struct bench *b, uint32_t pair, unsigned int leg, const uint8_t *l7, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(b->mp);
	uint16_t flen;

	if (m == NULL)
		die("mbuf pool empty");
	flen = fp_frame_build(&b->traffic, rte_pktmbuf_mtod(m, uint8_t *), pair, leg, l7, len);
	m->data_len = flen;
	m->pkt_len = flen;
	return m;
}

/* rx and free whatever the ports transmitted on queue q. */
static void
drain_queue(struct bench *b, uint16_t q)
{
	struct rte_mbuf *m[BURST];
	unsigned int p;
	uint16_t n;

	for (p = 0; p < 2; p++)
		while ((n = rte_eth_rx_burst(b->ports[p].port_id, q, m, BURST)) != 0)
			rte_pktmbuf_free_bulk(m, n);
}

/* ... on every queue. Main lcore, no worker running. */
static void
drain_all(struct bench *b)
{
	uint16_t q;

	for (q = 0; q < b->n_workers; q++)
		drain_queue(b, q);
}

static uint64_t
drops_total(const struct duet_lcore_stats *s)
{
	uint64_t t = 0;
	unsigned int i;

	for (i = 0; i < DUET_DROP_MAX; i++)
		t += s->drops[i];
	return t;
}

static void
drops_print(const struct duet_lcore_stats *s)
{
	unsigned int i;

	for (i = 0; i < DUET_DROP_MAX; i++)
		if (s->drops[i] != 0)
			fprintf(stderr, "  drop %s: %" PRIu64 "\n", duet_drop_name(i), s->drops[i]);
}

/* ---- growing the table ------------------------------------------------------ */

/* Add pairs n_live .. p-1 and latch both legs of each: one packet from a's
 * client (latches a; dropped, b has no client yet), then one from b's
 * (latches b, relayed to a). In the keyed modes these packets are SRTP and
 * also start each direction's libsrtp2 stream. Not timed. */
static void
table_grow(struct bench *b, uint32_t p)
{
	struct duet_pair_spec s;
	char why[DUET_PAIR_REASON_MAX];
	struct rte_mbuf *burst[BURST];
	uint8_t pkt[FP_PKT_MAX] __attribute__((aligned(16)));
	uint32_t i, first = b->n_live;
	unsigned int leg, k, n;
	struct duet_lcore_stats *st = b->stats[0];
	uint64_t latched0 = st->latched, fwd0 = st->fwd_pkts;
	uint64_t drops0 = drops_total(st);
	int rc;

	for (i = first; i < p; i++) {
		memset(&s, 0, sizeof(s));
		snprintf(s.id, sizeof(s.id), "call-%" PRIu32, i);
		s.mode = b->mode;
		/* The policer on every packet, at limits no run reaches. */
		s.max_pps = 10000000;
		s.max_kbps = 100000000;
		for (leg = 0; leg < 2; leg++) {
			fp_svc_addr(&b->traffic, leg, i, htons(fp_ep_port(i)), &s.ep[leg]);
			s.port_idx[leg] = (uint16_t)leg;
		}
		if (b->mode != DUET_MODE_PASSTHROUGH)
			for (k = 0; k < DUET_KEY_COUNT; k++)
				if (b->mode == DUET_MODE_REKEY || k == DUET_KEY_A_IN ||
				    k == DUET_KEY_B_IN)
					s.key[k] = b->key[k];
		why[0] = '\0';
		rc = duet_pair_put(b->pairs, &s, 1, NULL, why, sizeof(why));
		if (rc != 0)
			die("pair put %s: %d %s", s.id, rc, why);
	}
	for (leg = 0; leg < 2; leg++) {
		for (i = first; i < p; i += n) {
			for (n = 0; n < BURST && i + n < p; n++) {
				uint32_t pair = i + n;
				uint16_t len = fp_packet_next(&b->traffic, pkt, pair, leg, 100);

				burst[n] = mbuf_frame(b, pair, leg, pkt, len);
			}
			duet_worker_burst(b->w[0], leg, burst, (uint16_t)n, rte_rdtsc());
			duet_worker_flush(b->w[0]);
			drain_all(b);
			duet_pair_quiescent(b->pairs, 0);
		}
	}
	b->n_live = p;
	if (st->latched - latched0 != 2ull * (p - first) || st->fwd_pkts - fwd0 != p - first ||
	    drops_total(st) - drops0 != p - first) {
		fprintf(stderr, "latching %" PRIu32 " new pairs: latched %" PRIu64
			", relayed %" PRIu64 "\n", p - first, st->latched - latched0,
			st->fwd_pkts - fwd0);
		drops_print(st);
		die("pairs did not latch as expected");
	}
}

/* ---- the measured loop ------------------------------------------------------- */

/* The timed work for one burst, kept out of line (and out of GCC's clones)
 * so that callgrind can count its instructions: --toggle-collect=bench_fp_burst. */
__attribute__((noipa)) uint16_t
bench_fp_burst(struct duet_worker *w, unsigned int in, struct rte_mbuf **pkts, uint16_t n,
	       uint64_t now)
{
	uint16_t r = duet_worker_burst(w, in, pkts, n, now);

	duet_worker_flush(w);
	return r;
}

/* The drain: what a NIC's tx completion would do (rx of the net_ring the
 * frames went to, and freeing them). Timed apart. */
__attribute__((noipa)) uint16_t
bench_fp_drain(uint16_t port_id, uint16_t queue)
{
	struct rte_mbuf *m[BURST];
	uint16_t n = rte_eth_rx_burst(port_id, queue, m, BURST);

	rte_pktmbuf_free_bulk(m, n);
	return n;
}

/* Per-burst TSC samples of one measurement: fp (duet_worker_burst + tx
 * flush) and drain (rx of the tx ring + free). */
struct samples {
	uint32_t *fp, *drain;
	uint64_t n; /* bursts */
};

/* A mean over bursts that leaves out the ones another task preempted
 * (this machine may be shared): a burst that took more than OUTLIER times
 * the median is not duet's work. */
#define OUTLIER 8

struct stat {
	double mean;	    /* TSC cycles per burst, outliers left out */
	uint64_t outliers;  /* bursts left out */
};

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static struct stat
stat_of(const uint32_t *v, uint64_t n)
{
	uint32_t *sorted = malloc(n * sizeof(*sorted));
	struct stat st = { 0, 0 };
	uint64_t i, kept = 0, sum = 0;
	uint64_t limit;

	if (sorted == NULL)
		die("no memory");
	memcpy(sorted, v, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u32);
	limit = (uint64_t)sorted[n / 2] * OUTLIER;
	for (i = 0; i < n; i++) {
		if (v[i] > limit) {
			st.outliers++;
			continue;
		}
		sum += v[i];
		kept++;
	}
	st.mean = (double)sum / (double)kept;
	free(sorted);
	return st;
}

struct result {
	uint64_t pkts;
	struct stat fp, drain; /* per burst */
	uint64_t perf[FP_PERF_COUNT]; /* --perf-counters: sums over the timed bursts */
};

/* One measurement by worker widx: the n packets of schedule d. */
static struct result
measure(struct bench *b, unsigned int widx, const struct fp_desc *d, uint64_t n)
{
	struct duet_worker *w = b->w[widx];
	struct duet_lcore_stats *st = b->stats[widx];
	struct rte_mbuf *pkts[BURST];
	uint8_t pkt[FP_PKT_MAX];
	struct samples sm = { malloc(n / BURST * 4), malloc(n / BURST * 4), n / BURST };
	struct result r;
	uint64_t i, t0, t1, t2, c0[FP_PERF_COUNT], c1[FP_PERF_COUNT];
	unsigned int j;
	bool perf = widx == 0 && b->perf.fd[0] >= 0;

	if (sm.fp == NULL || sm.drain == NULL)
		die("no memory");

	memset(&r, 0, sizeof(r));
	memset(st, 0, sizeof(*st));
	for (i = 0; i < n; i += BURST) {
		unsigned int leg = fp_leg_of(i);

		/* What rx would hand the worker: fresh mbufs, frames written
		 * (cache-warm, as after a NIC's DMA into the LLC). */
		if (rte_pktmbuf_alloc_bulk(b->mp, pkts, BURST) != 0)
			die("mbuf pool empty");
		for (j = 0; j < BURST; j++) {
			const uint8_t *l7 = fp_payload(&b->traffic, d, i + j, pkt);
			uint16_t flen = fp_frame_build(&b->traffic,
						       rte_pktmbuf_mtod(pkts[j], uint8_t *),
						       d[i + j].pair, leg, l7, d[i + j].len);

			pkts[j]->data_len = flen;
			pkts[j]->pkt_len = flen;
		}
		if (perf)
			fp_perf_read(&b->perf, c0);
		t0 = rte_rdtsc();
		bench_fp_burst(w, leg, pkts, BURST, t0);
		t1 = rte_rdtsc();
		if (perf) {
			fp_perf_read(&b->perf, c1);
			for (j = 0; j < FP_PERF_COUNT; j++)
				r.perf[j] += c1[j] - c0[j];
		}
		bench_fp_drain(b->ports[leg ^ 1].port_id, w->queue);
		t2 = rte_rdtsc();
		duet_pair_quiescent(b->pairs, widx);
		sm.fp[i / BURST] = (uint32_t)RTE_MIN(t1 - t0, (uint64_t)UINT32_MAX);
		sm.drain[i / BURST] = (uint32_t)RTE_MIN(t2 - t1, (uint64_t)UINT32_MAX);
	}
	r.pkts = n;
	r.fp = stat_of(sm.fp, sm.n);
	r.drain = stat_of(sm.drain, sm.n);
	free(sm.fp);
	free(sm.drain);
	if (st->rx_pkts != n || st->fwd_pkts != n || drops_total(st) != 0) {
		fprintf(stderr, "worker %u measured %" PRIu64 " packets: rx %" PRIu64
			", relayed %" PRIu64 "\n", widx, n, st->rx_pkts, st->fwd_pkts);
		drops_print(st);
		die("not every timed packet was relayed: the figures would be wrong");
	}
	drain_queue(b, w->queue);
	return r;
}

/* Workers 1.. of a --workers run, each on its own lcore. */
struct par {
	struct bench *b;
	unsigned int widx;
	const struct fp_desc *d;
	uint64_t n;
	struct result r;
};
static uint32_t par_ready, par_go;

static int
par_lcore(void *arg)
{
	struct par *a = arg;

	if (duet_pair_worker_register(a->b->pairs, a->widx) != 0)
		die("RCU register of worker %u", a->widx);
	__atomic_add_fetch(&par_ready, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&par_go, __ATOMIC_ACQUIRE) == 0)
		rte_pause();
	a->r = measure(a->b, a->widx, a->d, a->n);
	duet_pair_worker_unregister(a->b->pairs, a->widx);
	return 0;
}

/* One measurement by all workers at once, each over its part of the legs
 * of the first p pairs: r[k] is worker k's. */
static void
measure_parallel(struct bench *b, uint32_t p, uint64_t n, struct result *r)
{
	struct par a[MAX_WORKERS];
	unsigned int k;

	for (k = 0; k < b->n_workers; k++)
		a[k] = (struct par){ b, k, fp_schedule_part(&b->traffic, p, n, b->n_workers, k), n,
				     { 0 } };
	__atomic_store_n(&par_ready, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&par_go, 0, __ATOMIC_RELAXED);
	for (k = 1; k < b->n_workers; k++)
		if (rte_eal_remote_launch(par_lcore, &a[k], b->lcore[k]) != 0)
			die("cannot launch worker %u", k);
	while (__atomic_load_n(&par_ready, __ATOMIC_ACQUIRE) != b->n_workers - 1)
		rte_pause();
	__atomic_store_n(&par_go, 1, __ATOMIC_RELEASE);
	a[0].r = measure(b, 0, a[0].d, n);
	rte_eal_mp_wait_lcore();
	for (k = 0; k < b->n_workers; k++) {
		r[k] = a[k].r;
		fp_schedule_free(&b->traffic, (struct fp_desc *)(uintptr_t)a[k].d);
	}
	drain_all(b);
}

/* ---- output ---------------------------------------------------------------------- */

static void
row(const char *variant, uint32_t pairs, const char *metric, double v, const char *unit,
    unsigned int run)
{
	printf("fastpath,%s,%" PRIu32 ",%s,%.3f,%s,%u\n", variant, pairs, metric, v, unit, run);
}

static void
report(const struct bench *b, const char *variant, uint32_t p, const struct result *r,
       unsigned int run)
{
	double cyc = r->fp.mean / BURST;
	double dcyc = r->drain.mean / BURST;
	double ns = cyc * b->ns_per_tsc, dns = dcyc * b->ns_per_tsc;

	row(variant, p, "ns_per_pkt", ns, "ns", run);
	row(variant, p, "cycles_per_pkt", cyc, "tsc_cycles", run);
	row(variant, p, "mpps", 1e3 / ns, "Mpps", run);
	row(variant, p, "drain_ns_per_pkt", dns, "ns", run);
	row(variant, p, "drain_cycles_per_pkt", dcyc, "tsc_cycles", run);
	row(variant, p, "ns_per_pkt_with_drain", ns + dns, "ns", run);
	row(variant, p, "packets", (double)r->pkts, "packets", run);
	row(variant, p, "outlier_bursts", (double)(r->fp.outliers + r->drain.outliers), "bursts",
	    run);
	if (b->perf.fd[0] >= 0) {
		row(variant, p, "hw_instructions_per_pkt",
		    (double)r->perf[FP_PERF_INSTRUCTIONS] / (double)r->pkts, "instructions", run);
		row(variant, p, "llc_load_misses_per_pkt",
		    (double)r->perf[FP_PERF_LLC_MISSES] / (double)r->pkts, "misses", run);
	}
	fflush(stdout);
	fprintf(stderr,
		"  %-40s P=%-8" PRIu32 " %8.1f ns/pkt %8.1f cyc/pkt %7.2f Mpps  drain %5.1f ns/pkt"
		"  (%" PRIu64 "+%" PRIu64 " of %" PRIu64 " bursts left out)\n",
		variant, p, ns, cyc, 1e3 / ns, dns, r->fp.outliers, r->drain.outliers,
		r->pkts / BURST);
}

extern char **environ;

/* Run the --between command (the run script's anchor, dpdk-testpmd) with
 * our stdout, so its rows land in order between ours. */
static void
between(const struct opts *o, const char *variant, uint32_t pairs, unsigned int run)
{
	char *argv[] = { "/bin/sh", "-c", (char *)(uintptr_t)o->between, NULL };
	char after[160];
	pid_t pid;
	int st;

	if (o->between == NULL)
		return;
	/* Which run the anchor's window follows, for ratios run by run. */
	snprintf(after, sizeof(after), "%s,%" PRIu32 ",%u", variant, pairs, run);
	setenv("FASTPATH_AFTER", after, 1);
	fflush(stdout);
	fflush(stderr);
	if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0) {
		fprintf(stderr, "bench_fastpath: cannot run --between: %s\n", strerror(errno));
		return;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "bench_fastpath: --between command failed (status %d)\n", st);
}

/* Worker 0 over every leg of the first p pairs. */
static struct result
measure_solo(struct bench *b, uint32_t p, uint64_t n)
{
	struct fp_desc *d = fp_schedule(&b->traffic, p, n);
	struct result r = measure(b, 0, d, n);

	fp_schedule_free(&b->traffic, d);
	return r;
}

/* --workers N: worker 0 alone, and all N at once (which goes first
 * alternates by run), over the same table. The N workers' rate is the sum
 * of each one's packets per busy second. */
static void
run_scaling(struct bench *b, uint32_t p, uint64_t n, unsigned int run)
{
	struct result solo, all[MAX_WORKERS];
	char v_solo[48], v_all[48], v_scale[48], metric[32];
	double mpps = 0.0, ns_sum = 0.0, ns_solo;
	uint64_t outliers = 0;
	unsigned int k;

	if (run % 2 == 1)
		solo = measure_solo(b, p, n);
	measure_parallel(b, p, n, all);
	if (run % 2 == 0)
		solo = measure_solo(b, p, n);
	snprintf(v_solo, sizeof(v_solo), "passthrough_1_worker%s", b->suffix);
	report(b, v_solo, p, &solo, run);
	ns_solo = solo.fp.mean / BURST * b->ns_per_tsc;
	snprintf(v_all, sizeof(v_all), "passthrough_%u_workers%s", b->n_workers, b->suffix);
	snprintf(v_scale, sizeof(v_scale), "scaling_%u_workers%s", b->n_workers, b->suffix);
	for (k = 0; k < b->n_workers; k++) {
		double ns = all[k].fp.mean / BURST * b->ns_per_tsc;

		snprintf(metric, sizeof(metric), "ns_per_pkt_w%u", k);
		row(v_all, p, metric, ns, "ns", run);
		mpps += 1e3 / ns;
		ns_sum += ns;
		outliers += all[k].fp.outliers + all[k].drain.outliers;
	}
	row(v_all, p, "ns_per_pkt", ns_sum / b->n_workers, "ns", run);
	row(v_all, p, "mpps", mpps, "Mpps", run);
	row(v_all, p, "outlier_bursts", (double)outliers, "bursts", run);
	row(v_scale, p, "mpps_ratio", mpps * ns_solo / 1e3, "ratio", run);
	fflush(stdout);
	fprintf(stderr, "  %-40s P=%-8" PRIu32 " %8.2f Mpps on %u workers, %.2f alone: %.2fx\n",
		v_all, p, mpps, b->n_workers, 1e3 / ns_solo, mpps * ns_solo / 1e3);
}

/* What the table of cap pairs takes, every pair live, per pair at x = cap:
 * duet_pair_table_bytes() (its arrays, the endpoint index included), the
 * part of it that grows with the pairs (the index, fixed by the config's
 * addresses and port range, left out), and DPDK's heap in use now against
 * before the table was made (the arrays, the id hash, the RCU queue and,
 * keyed, each pair's SRTP state where the engine puts it there). */
static void
memory_rows(struct bench *b, const char *variant, uint32_t cap, unsigned int run)
{
	struct duet_pair_space space;
	size_t heap = heap_in_use();
	double tb, each, hb;

	duet_port_space(&b->conf, b->ports, &space);
	tb = (double)duet_pair_table_bytes(cap, b->n_workers, &space) / cap;
	each = (double)(duet_pair_table_bytes(cap, b->n_workers, &space) -
			duet_pair_table_bytes(0, b->n_workers, &space)) / cap;
	hb = heap >= b->heap0 ? (double)(heap - b->heap0) / cap : 0.0;
	row(variant, cap, "table_bytes_per_pair", tb, "B", run);
	row(variant, cap, "table_bytes_each_pair", each, "B", run);
	row(variant, cap, "heap_bytes_per_pair", hb, "B", run);
	fflush(stdout);
	fprintf(stderr, "  %-40s P=%-8" PRIu32 " %8.1f B/pair (duet_pair_table_bytes), %.1f B/pair"
		" of DPDK heap\n", variant, cap, tb, hb);
}

static void
run_mode(struct bench *b, const struct opts *o, uint8_t mode, enum duet_srtp_suite suite)
{
	const uint32_t *list = mode == DUET_MODE_PASSTHROUGH ? o->pairs : o->keyed_pairs;
	uint32_t n_list = mode == DUET_MODE_PASSTHROUGH ? o->n_pairs : o->n_keyed_pairs;
	uint64_t n = mode == DUET_MODE_PASSTHROUGH ? o->plain_pkts : o->keyed_pkts;
	uint32_t cap = 0, k;
	char variant[80];
	double t;

	if (n_list == 0)
		return;
	if (mode == DUET_MODE_PASSTHROUGH)
		snprintf(variant, sizeof(variant), "passthrough%s", b->suffix);
	else
		snprintf(variant, sizeof(variant), "%s-%s%s%s", duet_mode_name(mode),
			 duet_srtp_suite_name(suite),
			 duet_srtp_engine_get() == DUET_SRTP_ENGINE_BURST ? "-srtpe" : "",
			 b->suffix);
	for (k = 0; k < n_list; k++)
		cap = list[k] > cap ? list[k] : cap;
	table_open(b, mode, suite, cap);
	for (k = 0; k < n_list; k++) {
		unsigned int run;

		t = now_s();
		table_grow(b, list[k]);
		fprintf(stderr, "  %s: %" PRIu32 " live pairs (capacity %" PRIu32
			"), set-up %.2f s\n", variant, list[k], cap, now_s() - t);
		if (list[k] == cap)
			memory_rows(b, variant, cap, o->first_run);
		for (run = o->first_run; run < o->first_run + o->runs; run++) {
			char label[128];
			struct result r;

			if (b->n_workers > 1) {
				run_scaling(b, list[k], n, run);
				continue;
			}
			CALLGRIND_ZERO_STATS;
			r = measure_solo(b, list[k], n);
			snprintf(label, sizeof(label), "%s P=%" PRIu32 " run=%u packets=%" PRIu64,
				 variant, list[k], run, r.pkts);
			CALLGRIND_DUMP_STATS_AT(label);
			report(b, variant, list[k], &r, run);
			between(o, variant, list[k], run);
		}
	}
	table_close(b);
}

static void
machine_line(const struct opts *o)
{
	char model[256] = "unknown", line[512];
	struct utsname u;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strncmp(line, "model name", 10) == 0) {
				char *c = strchr(line, ':');

				if (c != NULL) {
					snprintf(model, sizeof(model), "%s", c + 2);
					model[strcspn(model, "\n")] = '\0';
				}
				break;
			}
		fclose(f);
	}
	uname(&u);
	f = fopen("/proc/loadavg", "r");
	if (f == NULL || fgets(line, sizeof(line), f) == NULL)
		snprintf(line, sizeof(line), "?");
	if (f != NULL)
		fclose(f);
	line[strcspn(line, "\n")] = '\0';
	fprintf(stderr,
		"machine: %s; %ld cpus online; lcore on cpu %d; tsc %.3f GHz; kernel %s; %s; %s; "
		"EAL %s; load average %s; packets per run %" PRIu64 " (passthrough), %" PRIu64
		" (keyed); legs %s\n",
		model, sysconf(_SC_NPROCESSORS_ONLN), sched_getcpu(),
		(double)rte_get_tsc_hz() / 1e9, u.release, rte_version(), srtp_get_version_string(),
		o->hugepages ? "on hugepages (--in-memory)" : "--no-huge", line, o->plain_pkts,
		o->keyed_pkts,
		o->family == 6	  ? "IPv6 both"
		: o->family == 46 ? "a IPv4, b IPv6 (bridged)"
				  : "IPv4 both");
}

/* ---- options ------------------------------------------------------------------- */

static uint32_t
parse_list(const char *s, uint32_t *out, const char *what)
{
	uint32_t n = 0;
	char *end;

	if (*s == '\0')
		return 0;
	for (;;) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v == 0 || v > FP_MAX_PAIRS || n == MAX_LIST)
			die("%s: want up to %d counts in 1..%u, comma separated", what, MAX_LIST,
			    FP_MAX_PAIRS);
		if (n > 0 && v <= out[n - 1])
			die("%s: counts must grow", what);
		out[n++] = (uint32_t)v;
		if (*end == '\0')
			return n;
		if (*end != ',')
			die("%s: bad list", what);
		s = end + 1;
	}
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: bench_fastpath [--quick|--full] [--runs R] [--between CMD] [--pairs LIST]\n"
		"         [--keyed-pairs LIST] [--modes passthrough,verify,rekey] [--suites LIST]\n"
		"         [--packets N] [--keyed-packets N] [--cpu C] [--mem MB] [--hugepages]\n"
		"         [--seed S] [--workers N] [--perf-counters] [--srtp-engines libsrtp2,burst]\n"
		"         [--family 4|6|46] [--first-run N]\n"
		"  CSV on stdout: benchmark,variant,pairs,metric,value,unit,run\n"
		"  --between CMD: /bin/sh -c CMD after each run of each measurement (the anchor)\n"
		"  --workers N: N lcores on N CPUs (passthrough): one worker alone, then N at once\n"
		"  --perf-counters: instructions and LLC load misses per packet (perf_event_open)\n"
		"  --srtp-engines: keyed modes on libsrtp2, on the burst engine (variants\n"
		"                  MODE-SUITE-srtpe), or both (the default where the CPU has AES-NI)\n"
		"  --family: both legs IPv4 (4), both IPv6 (6), or leg a IPv4 and leg b\n"
		"            IPv6 (46, the bridge); variants are then suffixed _ip4, _ip6,\n"
		"            _ip46. Without it, IPv4 and no suffix\n"
		"  --first-run N: number the runs N, N+1, ... (a script alternating processes)\n");
	exit(2);
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },	    { "full", no_argument, NULL, 'f' },
		{ "runs", required_argument, NULL, 'r' },   { "pairs", required_argument, NULL, 'p' },
		{ "between", required_argument, NULL, 'b' },
		{ "keyed-pairs", required_argument, NULL, 'k' },
		{ "modes", required_argument, NULL, 'm' },  { "suites", required_argument, NULL, 's' },
		{ "packets", required_argument, NULL, 'n' },
		{ "keyed-packets", required_argument, NULL, 'N' },
		{ "cpu", required_argument, NULL, 'c' },    { "mem", required_argument, NULL, 'M' },
		{ "seed", required_argument, NULL, 'S' },   { "help", no_argument, NULL, 'h' },
		{ "hugepages", no_argument, NULL, 'H' },
		{ "workers", required_argument, NULL, 'w' },
		{ "perf-counters", no_argument, NULL, 'P' },
		{ "srtp-engines", required_argument, NULL, 'E' },
		{ "family", required_argument, NULL, 'F' },
		{ "first-run", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	static const uint32_t def_pairs[] = { 1, 10000, 100000, 1000000 };
	static const uint32_t def_keyed[] = { 1, 1000, 10000, 100000 };
	uint64_t plain = 0, keyed = 0;
	bool full = false;
	char *tok, *save, buf[256];
	unsigned int i;
	int c;

	memset(o, 0, sizeof(*o));
	memcpy(o->pairs, def_pairs, sizeof(def_pairs));
	o->n_pairs = 4;
	memcpy(o->keyed_pairs, def_keyed, sizeof(def_keyed));
	o->n_keyed_pairs = 4;
	for (i = 0; i < 3; i++)
		o->mode_on[i] = true;
	for (i = 0; i < DUET_SRTP_SUITE_COUNT; i++)
		o->suite_on[i] = true;
	o->engine_on[0] = true;
	o->engine_on[1] = duet_srtp_engine_cpu_ok();
	o->runs = 0;
	o->cpu = -1;
	o->mem_mb = 2048;
	o->seed = 0x5eed;
	o->workers = 1;
	o->first_run = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'q': full = false; break;
		case 'f': full = true; break;
		case 'r': o->runs = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'b': o->between = optarg; break;
		case 'p': o->n_pairs = parse_list(optarg, o->pairs, "--pairs"); break;
		case 'k': o->n_keyed_pairs = parse_list(optarg, o->keyed_pairs, "--keyed-pairs"); break;
		case 'n': plain = strtoull(optarg, NULL, 10); break;
		case 'N': keyed = strtoull(optarg, NULL, 10); break;
		case 'c': o->cpu = atoi(optarg); break;
		case 'H': o->hugepages = true; break;
		case 'M': o->mem_mb = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'S': o->seed = strtoull(optarg, NULL, 0); break;
		case 'w': o->workers = (unsigned int)strtoul(optarg, NULL, 10); break;
		case 'P': o->perf = true; break;
		case 'F':
			if (strcmp(optarg, "4") == 0 || strcmp(optarg, "6") == 0 ||
			    strcmp(optarg, "46") == 0)
				o->family = (unsigned int)atoi(optarg);
			else
				die("--family: 4, 6 or 46, not '%s'", optarg);
			break;
		case 'R':
			o->first_run = (unsigned int)strtoul(optarg, NULL, 10);
			if (o->first_run == 0)
				die("--first-run: 1 or more");
			break;
		case 'E':
			o->engine_on[0] = strstr(optarg, "libsrtp2") != NULL;
			o->engine_on[1] = strstr(optarg, "burst") != NULL;
			if (!o->engine_on[0] && !o->engine_on[1])
				usage();
			if (o->engine_on[1] && !duet_srtp_engine_cpu_ok()) {
				fprintf(stderr, "bench_fastpath: no AES-NI here for the burst engine\n");
				exit(2);
			}
			break;
		case 'm':
		case 's':
			snprintf(buf, sizeof(buf), "%s", optarg);
			if (c == 'm')
				memset(o->mode_on, 0, sizeof(o->mode_on));
			else
				memset(o->suite_on, 0, sizeof(o->suite_on));
			for (tok = strtok_r(buf, ",", &save); tok != NULL;
			     tok = strtok_r(NULL, ",", &save)) {
				uint8_t mode;
				enum duet_srtp_suite suite;

				if (c == 'm' && duet_mode_parse(tok, &mode) == 0)
					o->mode_on[mode] = true;
				else if (c == 's' && duet_srtp_suite_parse(tok, &suite) == 0)
					o->suite_on[suite] = true;
				else
					die("unknown %s '%s'", c == 'm' ? "mode" : "suite", tok);
			}
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (o->runs == 0)
		o->runs = full ? 7 : 5;
	if (o->workers < 1 || o->workers > MAX_WORKERS)
		die("--workers: 1..%d", MAX_WORKERS);
	if (o->workers > 1 && (o->mode_on[DUET_MODE_VERIFY] || o->mode_on[DUET_MODE_REKEY]))
		die("--workers %u: passthrough only (add --modes passthrough)", o->workers);
	if (o->workers > 1 && o->perf)
		die("--perf-counters: one worker only");
	o->plain_pkts = plain != 0 ? plain : full ? 1u << 21 : 1u << 19;
	o->keyed_pkts = keyed != 0 ? keyed : full ? 24576 : 8192;
	o->plain_pkts = (o->plain_pkts + BURST - 1) / BURST * BURST;
	o->keyed_pkts = (o->keyed_pkts + BURST - 1) / BURST * BURST;
}

int
main(int argc, char **argv)
{
	char rundir[PATH_MAX];
	struct opts o;
	struct bench b;
	unsigned int s;
	double t;

	parse_opts(argc, argv, &o);
	memset(&b, 0, sizeof(b));
	fp_traffic_seed(&b.traffic, o.seed);
	fp_traffic_family(&b.traffic, o.family == 6, o.family == 6 || o.family == 46);
	b.suffix = o.family == 4 ? "_ip4" : o.family == 6 ? "_ip6" : o.family == 46 ? "_ip46" : "";
	t = now_s();
	eal_start(&o);
	if (duet_srtp_init() != 0)
		die("libsrtp2 init");
	dataplane_start(&b, o.workers);
	for (s = 0; s < FP_PERF_COUNT; s++)
		b.perf.fd[s] = -1;
	if (o.perf) {
		char why[128];

		/* Whether the VM exposes the counters is a figure too. */
		if (fp_perf_open(&b.perf, why, sizeof(why)) != 0) {
			fprintf(stderr, "bench_fastpath: CPU counters not exposed here (%s)\n", why);
			row("env", 0, "perf_counters_exposed", 0, "flag", 1);
			o.mode_on[DUET_MODE_PASSTHROUGH] = o.mode_on[DUET_MODE_VERIFY] =
				o.mode_on[DUET_MODE_REKEY] = false;
		} else {
			row("env", 0, "perf_counters_exposed", 1, "flag", 1);
		}
	}
	machine_line(&o);
	fprintf(stderr, "EAL and ports up in %.2f s; %u runs of each measurement\n", now_s() - t,
		o.runs);
	if (o.mode_on[DUET_MODE_PASSTHROUGH])
		run_mode(&b, &o, DUET_MODE_PASSTHROUGH, 0);
	for (s = 0; s < DUET_SRTP_SUITE_COUNT; s++) {
		unsigned int e;

		if (!o.suite_on[s])
			continue;
		/* Each engine in turn: a table's sessions are made with the
		 * engine of the moment, and this thread is its worker. */
		for (e = 0; e < 2; e++) {
			if (!o.engine_on[e])
				continue;
			if (duet_srtp_engine_set(e == 1 ? DUET_SRTP_ENGINE_BURST
							: DUET_SRTP_ENGINE_LIBSRTP2) != 0 ||
			    (e == 1 && duet_srtp_lcore_init() != 0))
				die("SRTP engine");
			if (o.mode_on[DUET_MODE_VERIFY])
				run_mode(&b, &o, DUET_MODE_VERIFY, (enum duet_srtp_suite)s);
			if (o.mode_on[DUET_MODE_REKEY])
				run_mode(&b, &o, DUET_MODE_REKEY, (enum duet_srtp_suite)s);
		}
	}
	duet_srtp_lcore_fini();
	fprintf(stderr, "done in %.2f s\n", now_s() - t);
	fp_perf_close(&b.perf);
	for (s = 0; s < b.n_workers; s++)
		duet_worker_fini(b.w[s]);
	duet_port_close(&b.ports[0]);
	duet_port_close(&b.ports[1]);
	rte_mempool_free(b.mp);
	/* --no-shconf leaves only the empty runtime directory: remove it. */
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(rundir);
	return 0;
}
