/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/metrics/duet_metrics.c: the Prometheus text from given
 * counters (two workers' lcore stats, a control-thread share, a net_null
 * port), under an EAL of its own (--no-huge). The HTTP server, promtool's
 * verdict and the telemetry commands are the integration tests metrics and
 * telemetry.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include "../eal_rundir.h"
#include "duet_metrics.h"

#define HZ 1000000000ULL

static struct duet_conf conf;
static struct duet_lcore_stats lcore[2];
static struct duet_port port;
static struct duet_metrics *m;
static char *text;

static void
setup(void)
{
	char prefix[32], lcores[16];
	char *argv[] = {"test_duet_metrics", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
			"--no-telemetry", "--file-prefix", prefix, "--lcores", lcores,
			"--vdev", "net_null0", "--log-level", "*:error", NULL};
	struct duet_metrics_src src;
	cpu_set_t set;
	unsigned int c;

	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	for (c = 0; c < CPU_SETSIZE && !CPU_ISSET(c, &set); c++)
		;
	snprintf(lcores, sizeof(lcores), "0@%u", c);
	snprintf(prefix, sizeof(prefix), "duet_mt_%d", (int)getpid());
	cr_assert_geq(rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv), 0,
		      "EAL init: %s", rte_strerror(rte_errno));
	test_eal_rundir_remove_at_exit();
	duet_conf_defaults(&conf);
	memset(lcore, 0, sizeof(lcore));
	memset(&port, 0, sizeof(port));
	cr_assert_eq(rte_eth_dev_get_port_by_name("net_null0", &port.port_id), 0);
	snprintf(port.name, sizeof(port.name), "net_null0");
	memset(&src, 0, sizeof(src));
	src.conf = &conf;
	src.lcore = lcore;
	src.n_workers = 2;
	src.ports = &port;
	src.n_ports = 1;
	src.tsc_hz = HZ;
	src.started_ms = 1796593067712ULL;
	m = duet_metrics_create(&src);
	cr_assert_not_null(m);
	text = NULL;
}

static void
teardown(void)
{
	free(text);
	duet_metrics_destroy(m);
	rte_eal_cleanup();
}

/* The text of a scrape now. */
static const char *
scrape(void)
{
	size_t len = 0;
	FILE *f;

	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	cr_assert_eq(duet_metrics_write_prometheus(m, f), 0);
	fclose(f);
	return text;
}

/* Assert the scrape has the line "series value" exactly. */
static void
has_line(const char *series, const char *value)
{
	char want[256];
	const char *p;

	snprintf(want, sizeof(want), "\n%s %s\n", series, value);
	p = strstr(scrape(), want);
	cr_assert_not_null(p, "no line '%s %s' in the scrape", series, value);
}

TestSuite(metrics, .init = setup, .fini = teardown);

Test(metrics, drops_are_one_series_a_reason_summed_over_workers)
{
	unsigned int d;
	char series[96];

	lcore[0].drops[DUET_DROP_NO_ENDPOINT] = 4;
	lcore[1].drops[DUET_DROP_NO_ENDPOINT] = 3;
	lcore[1].drops[DUET_DROP_SRTP_AUTH] = 2;
	has_line("duet_dropped_packets_total{reason=\"no_endpoint\"}", "7");
	has_line("duet_srtp_failures_total{kind=\"auth\"}", "2");
	has_line("duet_dropped_packets_all_total", "9");
	for (d = 0; d < DUET_DROP_MAX; d++) {
		snprintf(series, sizeof(series), "duet_dropped_packets_total{reason=\"%s\"} ",
			 duet_drop_name((enum duet_drop)d));
		cr_assert_not_null(strstr(scrape(), series), "no series for %s", series);
	}
}

Test(metrics, worker_time_is_in_seconds_from_the_tsc_and_per_worker)
{
	lcore[1].loop_tsc = 3 * HZ;
	lcore[1].busy_tsc = HZ / 4;
	lcore[1].polls = 42;
	lcore[0].fwd_pkts = 5;
	lcore[1].fwd_pkts = 6;
	has_line("duet_worker_seconds_total{worker=\"1\"}", "3.000000");
	has_line("duet_worker_busy_seconds_total{worker=\"1\"}", "0.250000");
	has_line("duet_worker_polls_total{worker=\"1\"}", "42");
	has_line("duet_worker_forwarded_packets_total{worker=\"0\"}", "5");
	has_line("duet_forwarded_packets_total", "11");
}

Test(metrics, the_control_threads_share_is_shown_as_published)
{
	struct duet_metrics_ctl ctl, back;

	memset(&ctl, 0, sizeof(ctl));
	has_line("duet_ready", "0");
	ctl.pairs = 5;
	ctl.capacity = 1024;
	ctl.ready = true;
	ctl.sync.link_up = true;
	ctl.sync.outbox_len = 17;
	ctl.sync.events_lag_ms = 1500;
	ctl.busy_share[0] = 0.5;
	duet_metrics_publish(m, &ctl);
	duet_metrics_ctl_read(m, &back);
	cr_assert_eq(memcmp(&ctl, &back, sizeof(ctl)), 0);
	has_line("duet_pairs", "5");
	has_line("duet_pairs_capacity", "1024");
	has_line("duet_ready", "1");
	has_line("duet_redis_up", "1");
	has_line("duet_redis_writeback_queue", "17");
	has_line("duet_redis_events_lag_seconds", "1.500000");
	has_line("duet_worker_busy_share{worker=\"0\"}", "0.5000");
}

Test(metrics, every_series_follows_its_help_and_type_and_counters_end_in_total)
{
	const char *p = scrape(), *eol;
	char family[128] = "", name[128];

	for (; *p != '\0'; p = eol + 1) {
		size_t n;

		eol = strchr(p, '\n');
		cr_assert_not_null(eol, "the last line has no newline");
		if (strncmp(p, "# HELP ", 7) == 0) {
			cr_assert_eq(sscanf(p + 7, "%127s", family), 1);
			cr_assert_eq(strncmp(eol + 1, "# TYPE ", 7), 0, "HELP %s without TYPE", family);
			continue;
		}
		if (strncmp(p, "# TYPE ", 7) == 0) {
			char type[16];

			cr_assert_eq(sscanf(p + 7, "%127s %15s", name, type), 2);
			cr_assert_str_eq(name, family);
			if (strcmp(type, "counter") == 0)
				cr_assert(strlen(name) > 6 &&
						  strcmp(name + strlen(name) - 6, "_total") == 0,
					  "counter %s does not end in _total", name);
			continue;
		}
		n = strcspn(p, "{ ");
		cr_assert_lt(n, sizeof(name));
		memcpy(name, p, n);
		name[n] = '\0';
		cr_assert_str_eq(name, family, "series %s outside its family %s", name, family);
	}
}

Test(metrics, the_port_shows_its_ethdev_counters_by_name)
{
	cr_assert_not_null(strstr(scrape(), "duet_port_rx_packets_total{port=\"net_null0\"} "));
	cr_assert_not_null(strstr(scrape(), "duet_port_link_up{port=\"net_null0\"} "));
}
