/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for duet_conf_load(), duetd's config file parser (lib/conf:
 * the line scan, rte_cfgfile, the value parsers and the validation). Any
 * byte string is a config file: the target writes it to a file in a
 * directory of its own (made once, removed at exit) and loads it. It checks
 * what the loader claims: a refusal names the file and leaves the caller's
 * struct untouched; the line scan refuses everything rte_cfgfile cannot
 * load; an accepted config holds only values inside the documented limits
 * (docs/config.md), and its endpoint space is consistent. Built with
 * clang's -fsanitize=fuzzer (tests/fuzz/meson.build). Test process only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duet_conf.h"
#include "fuzz_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[96];

static void
remove_dir(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/tmp/duet-fuzz-conf-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("conf: mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/duetd.conf", dir);
	atexit(remove_dir);
	/* The password's environment override would make loads depend on
	 * the caller's environment. */
	unsetenv("DUET_REDIS_PASSWORD");
	return 0;
}

/* [relay] id: 1..32 of [A-Za-z0-9_-], as docs/config.md has it. */
static bool
relay_id_ok(const char *id)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
	size_t n = strlen(id);

	return n >= 1 && n <= DUET_CONF_RELAY_ID_MAX && strspn(id, allowed) == n;
}

/* rx_desc, tx_desc: a power of two, 64..16384. */
static bool
ring_size_ok(uint16_t n)
{
	return n >= 64 && n <= 16384 && (n & (n - 1)) == 0;
}

static void
check_loaded(const struct duet_conf *c)
{
	uint64_t n_eps, n_addrs = 0, probe[3];
	struct duet_addr ep;
	unsigned int i, j;

	CHECK(relay_id_ok(c->relay_id));
	CHECK(c->n_workers >= 1 && c->n_workers <= DUET_CONF_MAX_WORKERS);
	for (i = 0; i < c->n_workers; i++) {
		CHECK(c->workers[i] <= 1023);
		for (j = 0; j < i; j++)
			CHECK(c->workers[j] != c->workers[i]);
	}
	CHECK(c->max_pairs >= 1 && c->max_pairs <= 16777216);
	CHECK(c->idle_timeout_ms <= 86400000 && c->relatch_silence_ms <= 3600000);
	CHECK(c->stats_interval_ms >= 100 && c->stats_interval_ms <= 3600000);
	CHECK(c->heartbeat_ttl_ms > c->stats_interval_ms && c->heartbeat_ttl_ms <= 86400000);
	CHECK(c->idle_poll_us <= 100000);
	CHECK(c->port_min >= 1 && c->port_min <= c->port_max);
	CHECK(c->ttl >= 1 && c->ttl <= 255);
	CHECK(c->dscp <= 63 || c->dscp == DUET_CONF_DSCP_KEEP);
	CHECK(c->security.srtp_max_ssrc >= 1 && c->security.srtp_max_ssrc <= 16);
	CHECK(c->redis.connect_timeout_ms >= 10 && c->redis.connect_timeout_ms <= 60000);
	if (c->redis.kind == DUET_REDIS_ADDR_SERVER) {
		CHECK(c->redis.n_nodes == 0 && c->redis.master_name[0] == '\0');
		CHECK((c->redis.unix_path[0] != '\0') != (c->redis.host[0] != '\0'));
		CHECK(c->redis.unix_path[0] != '\0' || c->redis.port != 0);
	} else {
		/* Sentinels or cluster seeds: the nodes carry the addresses. */
		CHECK(c->redis.kind == DUET_REDIS_ADDR_SENTINEL ||
		      c->redis.kind == DUET_REDIS_ADDR_CLUSTER);
		CHECK(c->redis.unix_path[0] == '\0' && c->redis.host[0] == '\0');
		CHECK(c->redis.n_nodes >= 1 && c->redis.n_nodes <= DUET_REDIS_ADDR_NODES_MAX);
		CHECK((c->redis.kind == DUET_REDIS_ADDR_SENTINEL) ==
		      (c->redis.master_name[0] != '\0'));
		for (i = 0; i < c->redis.n_nodes; i++)
			CHECK(c->redis.nodes[i].host[0] != '\0' && c->redis.nodes[i].port != 0);
	}
	CHECK(c->n_ports >= 1 && c->n_ports <= DUET_CONF_MAX_PORTS);
	for (i = 0; i < c->n_ports; i++) {
		const struct duet_conf_port *p = &c->ports[i];

		CHECK(p->name[0] != '\0' && strlen(p->name) <= DUET_CONF_PORT_NAME_MAX);
		CHECK(p->n_addrs >= 1 && p->n_addrs <= DUET_CONF_MAX_ADDRS);
		CHECK(ring_size_ok(p->rx_desc) && ring_size_ok(p->tx_desc));
		for (j = 0; j < p->n_addrs; j++)
			CHECK(p->addrs[j].family == DUET_AF_INET4 && p->addrs[j].port == 0);
		n_addrs += p->n_addrs;
	}
	/* The endpoint space: every address times the port range, each
	 * endpoint served by the port that lists its address. */
	n_eps = duet_conf_endpoint_count(c);
	CHECK(n_eps == n_addrs * ((uint64_t)c->port_max - c->port_min + 1));
	probe[0] = 0;
	probe[1] = n_eps / 2;
	probe[2] = n_eps - 1;
	for (i = 0; i < 3; i++) {
		int port;

		CHECK(duet_conf_endpoint_at(c, probe[i], &ep) == 0);
		port = duet_conf_endpoint_port(c, &ep);
		CHECK(port >= 0 && (unsigned int)port < c->n_ports);
	}
	CHECK(duet_conf_endpoint_at(c, n_eps, &ep) == -ERANGE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct duet_conf conf, untouched;
	char err[DUET_CONF_ERR_MAX], cfgfile_failed[sizeof(path) + 64];
	ssize_t w;
	int fd, rc;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	w = size > 0 ? write(fd, data, size) : 0;
	CHECK(w == (ssize_t)size);
	close(fd);

	memset(&untouched, 0x5a, sizeof(untouched));
	conf = untouched;
	rc = duet_conf_load(path, &conf, err, sizeof(err));
	if (rc != 0) {
		CHECK(rc == -EINVAL);
		CHECK(strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':');
		CHECK(memcmp(&conf, &untouched, sizeof(conf)) == 0);
		/* conf_scan_file() is there to refuse, with a reason, whatever
		 * rte_cfgfile would fail on. */
		snprintf(cfgfile_failed, sizeof(cfgfile_failed),
			 "%s: rte_cfgfile could not load the file", path);
		CHECK(strcmp(err, cfgfile_failed) != 0);
		return 0;
	}
	check_loaded(&conf);
	return 0;
}
