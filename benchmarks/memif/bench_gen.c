/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_gen: the DPDK traffic generator of the memif benchmark
 * (benchmarks/memif/run.sh). One process, one lcore (the main one), one
 * ethdev (a net_memif client facing the device under test, which is duetd
 * or dpdk-testpmd --forward-mode=5tswap). It builds IPv4/UDP RTP frames with
 * duet's own packet code (lib/pkt: checksums on send, the parser on the
 * check), from both clients of P pairs to their relay endpoints, and
 * measures what comes back:
 *
 *   1. latch (duet only): one packet from every leg a client, then one from
 *      every leg b client, so every leg of every pair is latched;
 *   2. check: one packet per stream, and every one must come back exactly
 *      once, with the addresses, TTL and checksums the DUT must produce;
 *   3. probe: send as fast as the generator can: the forwarding rate with loss;
 *   4. binary search on the offered rate for the highest rate with zero loss;
 *   5. latency: at given percentages of that rate, the round trip of every
 *      packet (TSC written into the payload on send, read back on receive):
 *      p50, p99, p99.9, max.
 *
 * Results are `key=value` lines on stdout (run.sh parses them); progress goes
 * to stderr. A frame the DUT did not take (tx ring full) counts as lost, as
 * a full rx ring on a NIC would. Every trial is tagged in the payload, so a
 * late frame of an earlier trial is never counted in a later one.
 *
 * This file holds the options, the port and the run's flow; the frames and
 * the timed trials are gen_traffic.c.
 *
 * usage: bench_gen [EAL args] -- --pairs FILE --dut duet|swap [options]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "gen_traffic.h"

/* Options. */
static struct {
	const char *pairs_file;
	enum dut_kind dut;
	uint16_t payload;
	unsigned int trial_ms;
	unsigned int lat_ms;
	unsigned int steps;
	double max_mpps;
	double rate_mpps;     /**< > 0: one trial at this rate instead of the search */
	double loss_ratio;    /**< allowed loss in the search (0: none) */
	double precision;     /**< stop the search when (hi - lo) / hi is below this */
	char lat_pcts[64];
	unsigned int timeout_s;
	unsigned int link_timeout_s;
	uint8_t dut_mac[6];
	const char *samples_dir;  /**< write latency samples here (report CDF) */
	const char *samples_name; /**< ... as latency_<name>_<pct>pct_samples.txt */
} opt = {
	.payload = 172, .trial_ms = 500, .lat_ms = 500, .steps = 10, .max_mpps = 100.0,
	.loss_ratio = 0.0, .precision = 0.005, .lat_pcts = "10,50,90", .timeout_s = 120,
	.link_timeout_s = 10, .dut_mac = { 0x02, 0, 0, 0, 0, 0x02 }, .samples_name = "dut",
};

static void
on_signal(int sig)
{
	(void)sig;
	gen_quit = 1;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: bench_gen [EAL args] -- --pairs FILE --dut duet|swap [options]\n"
		"  --pairs FILE        one pair per line: 'A_ENDPOINT B_ENDPOINT' (ip:port ip:port)\n"
		"  --dut duet|swap     what answers: duetd (relays to the peer leg) or\n"
		"                      testpmd 5tswap (swaps the 5-tuple back)\n"
		"  --dut-mac MAC       Ethernet destination of sent frames (02:00:00:00:00:02)\n"
		"  --payload N         UDP payload bytes, RTP header included (172; >= %d)\n"
		"  --trial-ms N        length of each search trial (500)\n"
		"  --steps N           at most N binary search steps (10)\n"
		"  --precision F       stop when (hi-lo)/hi < F (0.005)\n"
		"  --loss-ratio F      loss a passing trial may have (0: none)\n"
		"  --max-mpps F        rate of the probe trial (100: as fast as possible)\n"
		"  --rate-mpps F       one trial at this rate instead of probe and search\n"
		"  --lat-pcts LIST     latency at these percent of the zero-loss rate (10,50,90)\n"
		"  --lat-ms N          length of each latency trial (500)\n"
		"  --timeout S         give up after S seconds (120)\n"
		"  --link-timeout S    wait at most S seconds for the link (10)\n"
		"  --samples-dir DIR   also write up to %u round trips (us) of each latency\n"
		"                      run, evenly sampled, to DIR/latency_NAME_<pct>pct_samples.txt\n"
		"  --samples-name NAME NAME in that file name (dut)\n",
		MIN_PAYLOAD, MAX_SAMPLES);
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static int
parse_uint(const char *name, const char *s, unsigned long min, unsigned long max,
	   unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || s[0] == '-' || *out < min || *out > max) {
		fprintf(stderr, "bench_gen: %s: '%s' is not a number in %lu..%lu\n", name, s, min,
			max);
		return -EINVAL;
	}
	return 0;
}

static int
parse_double(const char *name, const char *s, double min, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(*out >= min)) {
		fprintf(stderr, "bench_gen: %s: '%s' is not a number >= %g\n", name, s, min);
		return -EINVAL;
	}
	return 0;
}

static int
parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pairs", required_argument, NULL, 'p' },
		{ "dut", required_argument, NULL, 'd' },
		{ "dut-mac", required_argument, NULL, 'M' },
		{ "payload", required_argument, NULL, 'P' },
		{ "trial-ms", required_argument, NULL, 't' },
		{ "steps", required_argument, NULL, 's' },
		{ "precision", required_argument, NULL, 'r' },
		{ "loss-ratio", required_argument, NULL, 'l' },
		{ "max-mpps", required_argument, NULL, 'm' },
		{ "rate-mpps", required_argument, NULL, 'R' },
		{ "lat-pcts", required_argument, NULL, 'L' },
		{ "lat-ms", required_argument, NULL, 'T' },
		{ "timeout", required_argument, NULL, 'o' },
		{ "link-timeout", required_argument, NULL, 'k' },
		{ "samples-dir", required_argument, NULL, 'S' },
		{ "samples-name", required_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			opt.pairs_file = optarg;
			break;
		case 'd':
			if (strcmp(optarg, "duet") == 0) {
				opt.dut = DUT_DUET;
			} else if (strcmp(optarg, "swap") == 0) {
				opt.dut = DUT_SWAP;
			} else {
				fprintf(stderr, "bench_gen: --dut: '%s' is not duet or swap\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'M':
			if (parse_mac(optarg, opt.dut_mac) != 0) {
				fprintf(stderr, "bench_gen: --dut-mac: '%s' is not a MAC\n", optarg);
				return -EINVAL;
			}
			break;
		case 'P':
			if (parse_uint("--payload", optarg, MIN_PAYLOAD, 1400, &v) != 0)
				return -EINVAL;
			opt.payload = (uint16_t)v;
			break;
		case 't':
			if (parse_uint("--trial-ms", optarg, 10, 600000, &v) != 0)
				return -EINVAL;
			opt.trial_ms = (unsigned int)v;
			break;
		case 's':
			if (parse_uint("--steps", optarg, 0, 64, &v) != 0)
				return -EINVAL;
			opt.steps = (unsigned int)v;
			break;
		case 'r':
			if (parse_double("--precision", optarg, 0.0, &opt.precision) != 0)
				return -EINVAL;
			break;
		case 'l':
			if (parse_double("--loss-ratio", optarg, 0.0, &opt.loss_ratio) != 0)
				return -EINVAL;
			break;
		case 'm':
			if (parse_double("--max-mpps", optarg, 0.001, &opt.max_mpps) != 0)
				return -EINVAL;
			break;
		case 'R':
			if (parse_double("--rate-mpps", optarg, 0.0001, &opt.rate_mpps) != 0)
				return -EINVAL;
			break;
		case 'L':
			snprintf(opt.lat_pcts, sizeof(opt.lat_pcts), "%s", optarg);
			break;
		case 'T':
			if (parse_uint("--lat-ms", optarg, 0, 600000, &v) != 0)
				return -EINVAL;
			opt.lat_ms = (unsigned int)v;
			break;
		case 'o':
			if (parse_uint("--timeout", optarg, 1, 86400, &v) != 0)
				return -EINVAL;
			opt.timeout_s = (unsigned int)v;
			break;
		case 'k':
			if (parse_uint("--link-timeout", optarg, 1, 3600, &v) != 0)
				return -EINVAL;
			opt.link_timeout_s = (unsigned int)v;
			break;
		case 'S':
			opt.samples_dir = optarg;
			break;
		case 'N':
			opt.samples_name = optarg;
			break;
		case 'h':
			usage();
			exit(0);
		default:
			usage();
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bench_gen: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (opt.pairs_file == NULL) {
		fprintf(stderr, "bench_gen: no pairs: give --pairs FILE\n");
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * Setup.
 */

static int
port_init(struct gen *g)
{
	struct rte_eth_conf ec;
	struct rte_ether_addr mac;
	uint16_t pid = 0;
	int rc;

	if (rte_eth_dev_count_avail() != 1) {
		fprintf(stderr, "bench_gen: want exactly one ethdev (a net_memif vdev), have %u\n",
			rte_eth_dev_count_avail());
		return -ENODEV;
	}
	RTE_ETH_FOREACH_DEV(pid)
		break;
	g->port = pid;
	g->tx_pool = rte_pktmbuf_pool_create("gen_tx", N_MBUFS, MBUF_CACHE, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	g->rx_pool = rte_pktmbuf_pool_create("gen_rx", N_MBUFS, MBUF_CACHE, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (g->tx_pool == NULL || g->rx_pool == NULL) {
		fprintf(stderr, "bench_gen: cannot create mbuf pools: %s\n",
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	memset(&ec, 0, sizeof(ec));
	rc = rte_eth_dev_configure(pid, 1, 1, &ec);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(pid, 0, 1024, rte_eth_dev_socket_id(pid), NULL,
					    g->rx_pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(pid, 0, 1024, rte_eth_dev_socket_id(pid), NULL);
	if (rc == 0)
		rc = rte_eth_macaddr_get(pid, &mac);
	if (rc == 0)
		rc = rte_eth_dev_start(pid);
	if (rc != 0) {
		fprintf(stderr, "bench_gen: port setup failed: %s\n", strerror(-rc));
		return rc;
	}
	memcpy(g->mac, mac.addr_bytes, 6);
	return 0;
}

static int
link_wait(struct gen *g)
{
	struct rte_eth_link link;
	uint64_t end = rte_get_timer_cycles() + rte_get_timer_hz() * opt.link_timeout_s;

	while (!gen_quit) {
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(g->port, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			return 0;
		if (rte_get_timer_cycles() > end)
			break;
		rte_delay_ms(10);
	}
	fprintf(stderr, "bench_gen: link did not come up within %u s\n", opt.link_timeout_s);
	return -ETIMEDOUT;
}

/* ------------------------------------------------------------------------
 * The benchmark.
 */

static bool
trial_passes(const struct trial *t)
{
	return (double)gen_trial_lost(t) <= opt.loss_ratio * (double)t->attempted;
}

/* Highest rate with zero loss (or at most --loss-ratio), between 0 and what
 * the probe could offer. A passing trial raises the floor to the rate that
 * was really offered, which is below the asked one when the generator could
 * not keep up (*limited is then set: the generator, not the DUT, capped it). */
static double
search(struct gen *g, double hi, bool *limited)
{
	double lo = 0.0;
	struct trial t;
	unsigned int i;
	char what[48];

	for (i = 0; i < opt.steps && !gen_quit; i++) {
		double mid = (lo + hi) / 2.0;

		if (hi - lo < opt.precision * hi)
			break;
		gen_trial_at(g, &t, mid, opt.trial_ms, false);
		snprintf(what, sizeof(what), "search %u:", i + 1);
		gen_trial_print(what, &t);
		printf("trial step=%u offered_mpps=%.4f sent=%" PRIu64 " rx=%" PRIu64
		       " lost=%" PRIu64 " refused=%" PRIu64 " gen_limited=%d\n",
		       i + 1, mid / 1e6, t.attempted, t.rx, gen_trial_lost(&t), t.refused,
		       gen_trial_gen_limited(&t) ? 1 : 0);
		if (trial_passes(&t)) {
			double offered = RTE_MIN(mid, (double)t.attempted / t.secs);

			if (gen_trial_gen_limited(&t))
				*limited = true;
			lo = RTE_MAX(lo, offered);
		} else {
			hi = mid;
		}
	}
	return lo;
}

static void
samples_write(const struct gen *g, unsigned long pct)
{
	char path[4096];
	FILE *fp;
	uint32_t i;

	snprintf(path, sizeof(path), "%s/latency_%s_%lupct_samples.txt", opt.samples_dir,
		 opt.samples_name, pct);
	fp = fopen(path, "w");
	if (fp == NULL) {
		fprintf(stderr, "bench_gen: cannot write %s: %s\n", path, strerror(errno));
		return;
	}
	for (i = 0; i < g->n_samples; i++)
		fprintf(fp, "%.3f\n", g->samples[i]);
	fclose(fp);
}

static void
latency_runs(struct gen *g, double zero_loss_pps)
{
	char list[64], *save = NULL, *tok;

	snprintf(list, sizeof(list), "%s", opt.lat_pcts);
	for (tok = strtok_r(list, ",", &save); tok != NULL && !gen_quit;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long pct;
		struct trial t;

		if (parse_uint("--lat-pcts", tok, 1, 100, &pct) != 0)
			return;
		memset(g->hist, 0, HIST_BINS * sizeof(*g->hist));
		g->hist_over = 0;
		g->n_samples = 0;
		g->sample_tick = 0;
		g->sample_every = (uint32_t)RTE_MAX(
			1.0, zero_loss_pps * (double)pct / 100.0 * opt.lat_ms / 1000.0 / MAX_SAMPLES);
		gen_trial_at(g, &t, zero_loss_pps * (double)pct / 100.0, opt.lat_ms, true);
		if (g->samples != NULL)
			samples_write(g, pct);
		gen_trial_print("latency:", &t);
		printf("latency pct=%lu offered_mpps=%.4f n=%" PRIu64 " lost=%" PRIu64
		       " p50_us=%.2f p99_us=%.2f p999_us=%.2f max_us=%.2f\n",
		       pct, t.rate_pps / 1e6, t.rx, gen_trial_lost(&t), gen_hist_pct(g, t.rx, 0.50),
		       gen_hist_pct(g, t.rx, 0.99), gen_hist_pct(g, t.rx, 0.999), gen_hist_max(g));
		fflush(stdout);
	}
}

/* CPU seconds this process has used (all threads). */
static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int
bench(struct gen *g)
{
	double cpu0 = cpu_seconds(), cores;
	uint64_t tsc0 = rte_rdtsc();
	struct trial probe;
	struct gen_check c;
	uint64_t missing = 0;
	bool limited = false;
	double zero_loss, hi;
	int round;

	for (round = 1; round <= 5 && !gen_quit; round++) {
		if (g->dut == DUT_DUET)
			gen_latch(g);
		missing = gen_check_round(g, &c);
		fprintf(stderr,
			"bench_gen: check %d: %u streams, %" PRIu64 " answered right, %" PRIu64
			" wrong, %" PRIu64 " duplicated\n",
			round, g->n_streams, c.ok, c.bad, c.dup);
		if (missing == 0)
			break;
		rte_delay_ms(200);
	}
	printf("check streams=%u ok=%" PRIu64 " bad=%" PRIu64 " dup=%" PRIu64 "\n", g->n_streams,
	       c.ok, c.bad, c.dup);
	fflush(stdout);
	if (missing != 0) {
		fprintf(stderr, "bench_gen: the DUT does not answer every stream right\n");
		return -EIO;
	}
	if (opt.rate_mpps > 0) {
		gen_trial_at(g, &probe, opt.rate_mpps * 1e6, opt.trial_ms, false);
		gen_trial_print("trial:", &probe);
		printf("single offered_mpps=%.4f sent=%" PRIu64 " rx=%" PRIu64 " lost=%" PRIu64
		       " secs=%.4f\n",
		       opt.rate_mpps, probe.attempted, probe.rx, gen_trial_lost(&probe), probe.secs);
		return 0;
	}
	gen_trial_at(g, &probe, opt.max_mpps * 1e6, opt.trial_ms, false);
	gen_trial_print("probe:", &probe);
	printf("probe offered_mpps=%.4f sent_mpps=%.4f fwd_mpps=%.4f lost=%" PRIu64 "\n",
	       opt.max_mpps, (double)probe.attempted / probe.secs / 1e6,
	       (double)probe.rx / probe.secs / 1e6, gen_trial_lost(&probe));
	fflush(stdout);
	hi = (double)probe.attempted / probe.secs;
	if (trial_passes(&probe)) {
		/* Nothing lost even at the generator's own limit. */
		zero_loss = hi;
		limited = true;
	} else {
		zero_loss = search(g, hi, &limited);
	}
	/* Busy polling keeps this at 1.0 unless something else took the core. */
	cores = (cpu_seconds() - cpu0) / ((double)(rte_rdtsc() - tsc0) / (double)g->hz);
	printf("result zero_loss_mpps=%.4f max_fwd_mpps=%.4f gen_max_mpps=%.4f gen_limited=%d"
	       " gen_cpu_cores=%.3f\n",
	       zero_loss / 1e6, (double)probe.rx / probe.secs / 1e6, hi / 1e6, limited ? 1 : 0,
	       cores);
	fflush(stdout);
	if (zero_loss > 0 && opt.lat_ms > 0)
		latency_runs(g, zero_loss);
	return gen_quit ? -EINTR : 0;
}

int
main(int argc, char **argv)
{
	static struct gen g;
	int n, rc = 1;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "bench_gen: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	argv[0] = (char *)"bench_gen";
	if (parse_args(argc, argv) != 0)
		goto out_eal;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGALRM, on_signal);
	alarm(opt.timeout_s);

	g.dut = opt.dut;
	memcpy(g.dut_mac, opt.dut_mac, 6);
	g.hz = rte_get_tsc_hz();
	g.ns_per_tsc = 1e9 / (double)g.hz;
	g.payload_len = opt.payload;
	g.frame_len = (uint16_t)(OFF_RTP + opt.payload);
	g.hist = calloc(HIST_BINS, sizeof(*g.hist));
	if (opt.samples_dir != NULL)
		g.samples = calloc(MAX_SAMPLES, sizeof(*g.samples));
	if (g.hist == NULL || port_init(&g) != 0)
		goto out;
	if (gen_load_pairs(&g, opt.pairs_file) != 0)
		goto out;
	gen_prefill(&g);
	fprintf(stderr, "bench_gen: %u pairs, %u-byte frames, tsc %" PRIu64 " Hz\n",
		g.n_streams / 2, g.frame_len, g.hz);
	if (link_wait(&g) != 0)
		goto out;
	rc = bench(&g) == 0 ? 0 : 1;
	if (gen_quit)
		fprintf(stderr, "bench_gen: stopped by a signal or the --timeout\n");
out:
	if (g.tx_pool != NULL) {
		rte_eth_dev_stop(g.port);
		rte_eth_dev_close(g.port);
	}
	free(g.streams);
	free(g.hist);
	free(g.samples);
out_eal:
	rte_eal_cleanup();
	return rc;
}
