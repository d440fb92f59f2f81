/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of loading a config file (lib/conf: duet_conf.c, the schema
 * and load, through duet_conf_scan.c's line scan and duet_conf_values.c's
 * parsers, which have no API of their own): every validation rule refuses
 * its bad input with -EINVAL and a message naming the section and key (or
 * the line), and valid files load into the expected struct. The endpoint
 * space has its own file, test_duet_conf_endpoints.c. Each test writes its
 * config to a mkstemp file; no EAL, one process per test (Criterion), so
 * setenv() in one test does not leak into another.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "duet_conf.h"
#include "duet_policy_fp.h"

static char err[DUET_CONF_ERR_MAX];
static char path[64];

/* Write text to a fresh temp file, load it, remove it. */
static int
load_text(const char *text, struct duet_conf *conf)
{
	size_t len = strlen(text);
	int fd, ret;

	snprintf(path, sizeof(path), "/tmp/duet_conf_test_XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	memset(err, 0, sizeof(err));
	ret = duet_conf_load(path, conf, err, sizeof(err));
	unlink(path);
	return ret;
}

/* The smallest valid file; variants replace, add or drop one key. */
struct line {
	const char *section;
	const char *key;
	const char *value;
};

static const struct line base[] = {
	{"relay", "id", "r1"},
	{"relay", "workers", "1"},
	{"media", "port_min", "20000"},
	{"media", "port_max", "20009"},
	{"redis", "address", "127.0.0.1:6379"},
	{"port net_af_packet0", "addresses", "192.0.2.1"},
	{NULL, NULL, NULL},
};

/*
 * Build the base file with section/key set to value: replaced if the base
 * has it, added to that section (created at the end if new) otherwise,
 * dropped if value is NULL.
 */
static void
build_variant(char *buf, size_t len, const char *section, const char *key, const char *value)
{
	const char *cur = NULL;
	bool placed = false;
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; base[i].section != NULL; i++) {
		bool last_of_section =
			base[i + 1].section == NULL || strcmp(base[i + 1].section, base[i].section) != 0;
		bool match = section != NULL && strcmp(base[i].section, section) == 0;

		if (cur == NULL || strcmp(cur, base[i].section) != 0) {
			off += (size_t)snprintf(buf + off, len - off, "[%s]\n", base[i].section);
			cur = base[i].section;
		}
		if (match && strcmp(base[i].key, key) == 0) {
			placed = true;
			if (value != NULL)
				off += (size_t)snprintf(buf + off, len - off, "%s = %s\n", key, value);
		} else {
			off += (size_t)snprintf(buf + off, len - off, "%s = %s\n", base[i].key,
						base[i].value);
		}
		if (match && last_of_section && !placed && value != NULL) {
			off += (size_t)snprintf(buf + off, len - off, "%s = %s\n", key, value);
			placed = true;
		}
	}
	if (!placed && value != NULL)
		snprintf(buf + off, len - off, "[%s]\n%s = %s\n", section, key, value);
}

static int
load_variant(const char *section, const char *key, const char *value, struct duet_conf *conf)
{
	char text[4096];

	build_variant(text, sizeof(text), section, key, value);
	return load_text(text, conf);
}

/* Assert -EINVAL and a message "<path>: ..." that contains needle. */
static void
expect_invalid(int ret, const char *needle)
{
	cr_assert_eq(ret, -EINVAL, "expected -EINVAL, got %d (err '%s')", ret, err);
	cr_assert(strncmp(err, path, strlen(path)) == 0 && strncmp(err + strlen(path), ": ", 2) == 0,
		  "message does not start with the path: '%s'", err);
	cr_assert(strstr(err, needle) != NULL, "message '%s' does not contain '%s'", err, needle);
}

static void
expect_bad_value(const char *section, const char *key, const char *value, const char *needle)
{
	struct duet_conf conf;
	char named[128];

	snprintf(named, sizeof(named), "[%s] %s: ", section, key);
	expect_invalid(load_variant(section, key, value, &conf), named);
	cr_assert(strstr(err, needle) != NULL, "'%s' = '%s': message '%s' lacks '%s'", key,
		  value, err, needle);
}

static void
expect_ok_value(const char *section, const char *key, const char *value, struct duet_conf *conf)
{
	int ret = load_variant(section, key, value, conf);

	cr_assert_eq(ret, 0, "'%s' = '%s' refused: %s", key, value, err);
}

static uint32_t
ip4(const struct duet_addr *a)
{
	uint32_t v;

	memcpy(&v, a->ip, 4);
	return ntohl(v);
}

/* ---- valid files ---- */

Test(conf, full_example_parses_into_expected_struct)
{
	static const char text[] =
		"; every key set, none to its default\n"
		"[relay]\n"
		"id = relay-eu_1\n"
		"workers = 1-3, 6\n"
		"max_pairs = 100000\n"
		"idle_timeout_ms = 0\n"
		"relatch_silence_ms = 1500\n"
		"stats_interval_ms = 500\n"
		"heartbeat_ttl_ms = 3000\n"
		"idle_poll_us = 50\n"
		"\n"
		"[media]\n"
		"port_min = 30000   ; inline comment\n"
		"port_max = 30099\n"
		"[redis]\n"
		"address = unix:/run/redis/redis.sock\n"
		"user = duet\n"
		"password = pa\\;ss\n"
		"connect_timeout_ms = 250\n"
		"[port net_af_packet0]\n"
		"addresses = 192.0.2.1, 192.0.2.2\n"
		"gateway = 192.0.2.254\n"
		"rx_desc = 512\n"
		"tx_desc = 2048\n"
		"[port 0000:01:00.0]\n"
		"addresses = 198.51.100.7\n";
	struct duet_conf c;

	cr_assert_eq(load_text(text, &c), 0, "%s", err);
	cr_assert_str_eq(c.relay_id, "relay-eu_1");
	cr_assert_eq(c.n_workers, 4);
	cr_assert_eq(c.workers[0], 1);
	cr_assert_eq(c.workers[1], 2);
	cr_assert_eq(c.workers[2], 3);
	cr_assert_eq(c.workers[3], 6);
	cr_assert_eq(c.max_pairs, 100000);
	cr_assert_eq(c.idle_timeout_ms, 0);
	cr_assert_eq(c.relatch_silence_ms, 1500);
	cr_assert_eq(c.stats_interval_ms, 500);
	cr_assert_eq(c.heartbeat_ttl_ms, 3000);
	cr_assert_eq(c.idle_poll_us, 50);
	cr_assert_eq(c.port_min, 30000);
	cr_assert_eq(c.port_max, 30099);
	cr_assert_str_eq(c.redis.unix_path, "/run/redis/redis.sock");
	cr_assert_str_eq(c.redis.host, "");
	cr_assert_str_eq(c.redis.user, "duet");
	cr_assert_str_eq(c.redis.password, "pa;ss");
	cr_assert_eq(c.redis.connect_timeout_ms, 250);
	cr_assert_eq(c.n_ports, 2);
	cr_assert_str_eq(c.ports[0].name, "net_af_packet0");
	cr_assert_eq(c.ports[0].n_addrs, 2);
	cr_assert_eq(c.ports[0].addrs[0].family, DUET_AF_INET4);
	cr_assert_eq(ip4(&c.ports[0].addrs[0]), 0xc0000201);
	cr_assert_eq(ip4(&c.ports[0].addrs[1]), 0xc0000202);
	cr_assert_eq(c.ports[0].addrs[1].port, 0);
	cr_assert_eq(c.ports[0].gateway.family, DUET_AF_INET4);
	cr_assert_eq(ip4(&c.ports[0].gateway), 0xc00002fe);
	cr_assert_eq(c.ports[0].rx_desc, 512);
	cr_assert_eq(c.ports[0].tx_desc, 2048);
	cr_assert_str_eq(c.ports[1].name, "0000:01:00.0");
	cr_assert_eq(c.ports[1].n_addrs, 1);
	cr_assert_eq(ip4(&c.ports[1].addrs[0]), 0xc6336407);
	cr_assert_eq(c.ports[1].gateway.family, DUET_AF_NONE);
	cr_assert_eq(c.ports[1].rx_desc, 1024);
}

Test(conf, example_config_file_loads)
{
	struct duet_conf c;
	int ret;

	unsetenv("DUET_REDIS_PASSWORD");
	ret = duet_conf_load(DUET_EXAMPLE_CONF, &c, err, sizeof(err));
	cr_assert_eq(ret, 0, "%s", err);
	cr_assert(c.n_ports >= 1);
	cr_assert(c.n_workers >= 1);
	cr_assert(duet_conf_endpoint_count(&c) > 0);
}

Test(conf, omitted_optional_keys_take_defaults)
{
	struct duet_conf c, d;

	cr_assert_eq(load_variant(NULL, NULL, NULL, &c), 0, "%s", err);
	duet_conf_defaults(&d);
	cr_assert_eq(c.max_pairs, 65536);
	cr_assert_eq(c.idle_timeout_ms, 60000);
	cr_assert_eq(c.relatch_silence_ms, 2000);
	cr_assert_eq(c.stats_interval_ms, 1000);
	cr_assert_eq(c.heartbeat_ttl_ms, 5000);
	cr_assert_eq(c.idle_poll_us, 0);
	cr_assert_eq(c.redis.connect_timeout_ms, 1000);
	cr_assert_eq(c.max_pairs, d.max_pairs);
	cr_assert_eq(c.heartbeat_ttl_ms, d.heartbeat_ttl_ms);
	cr_assert_str_eq(c.redis.user, "");
	cr_assert_str_eq(c.redis.password, "");
	cr_assert_eq(c.ports[0].rx_desc, 1024);
	cr_assert_eq(c.ports[0].tx_desc, 1024);
	cr_assert_eq(c.ports[0].gateway.family, DUET_AF_NONE);
	cr_assert_eq(d.n_ports, 0);
	cr_assert_str_eq(d.relay_id, "");
}

Test(conf, values_at_the_range_bounds_are_accepted)
{
	struct duet_conf c;

	expect_ok_value("relay", "max_pairs", "1", &c);
	expect_ok_value("relay", "max_pairs", "16777216", &c);
	cr_assert_eq(c.max_pairs, 16777216);
	expect_ok_value("relay", "idle_timeout_ms", "86400000", &c);
	expect_ok_value("relay", "relatch_silence_ms", "0", &c);
	expect_ok_value("relay", "relatch_silence_ms", "3600000", &c);
	expect_ok_value("relay", "stats_interval_ms", "100", &c);
	expect_ok_value("relay", "idle_poll_us", "100000", &c);
	expect_ok_value("relay", "heartbeat_ttl_ms", "1001", &c);
	expect_ok_value("redis", "connect_timeout_ms", "10", &c);
	expect_ok_value("redis", "connect_timeout_ms", "60000", &c);
	expect_ok_value("port net_af_packet0", "rx_desc", "64", &c);
	expect_ok_value("port net_af_packet0", "tx_desc", "16384", &c);
	cr_assert_eq(c.ports[0].tx_desc, 16384);
	expect_ok_value("relay", "workers", "1023", &c);
	cr_assert_eq(c.workers[0], 1023);
}

Test(conf, empty_user_password_and_gateway_mean_none)
{
	static const char text[] = "[relay]\nid = a\nworkers = 2\n"
				   "[media]\nport_min = 1\nport_max = 1\n"
				   "[redis]\naddress = localhost:6379\nuser =\npassword =\n"
				   "[port p0]\naddresses = 192.0.2.9\ngateway =\n";
	struct duet_conf c;

	unsetenv("DUET_REDIS_PASSWORD");
	cr_assert_eq(load_text(text, &c), 0, "%s", err);
	cr_assert_str_eq(c.redis.user, "");
	cr_assert_str_eq(c.redis.password, "");
	cr_assert_eq(c.ports[0].gateway.family, DUET_AF_NONE);
}

/* ---- the file itself ---- */

Test(conf, missing_file_is_enoent_and_says_cannot_read)
{
	struct duet_conf c;
	int ret;

	ret = duet_conf_load("/nonexistent/duetd.conf", &c, err, sizeof(err));
	cr_assert_eq(ret, -ENOENT);
	cr_assert(strstr(err, "/nonexistent/duetd.conf: cannot read") != NULL, "%s", err);
}

Test(conf, directory_is_enoent)
{
	struct duet_conf c;
	int ret;

	ret = duet_conf_load("/tmp", &c, err, sizeof(err));
	cr_assert_eq(ret, -ENOENT, "got %d: %s", ret, err);
	cr_assert(strstr(err, "cannot read") != NULL, "%s", err);
}

Test(conf, conf_is_untouched_when_the_file_is_invalid)
{
	struct duet_conf c, before;

	memset(&c, 0x5a, sizeof(c));
	before = c;
	cr_assert_eq(load_variant("relay", "workers", "x", &c), -EINVAL);
	cr_assert(memcmp(&c, &before, sizeof(c)) == 0);
}

Test(conf, null_error_buffer_is_allowed)
{
	struct duet_conf c;
	char text[4096];

	build_variant(text, sizeof(text), "relay", "workers", "x");
	snprintf(path, sizeof(path), "/tmp/duet_conf_test_XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cr_assert_eq(duet_conf_load(path, &c, NULL, 0), -EINVAL);
	unlink(path);
}

/* ---- syntax (the line scan) ---- */

Test(conf, line_without_equals_is_refused_with_its_number)
{
	struct duet_conf c;

	expect_invalid(load_text("[relay]\nid = r1\nworkers 1\n", &c), "line 3: ");
	cr_assert(strstr(err, "'workers 1'") != NULL, "%s", err);
}

Test(conf, key_outside_any_section_is_refused)
{
	struct duet_conf c;

	expect_invalid(load_text("id = r1\n[relay]\n", &c), "line 1: key outside any [section]");
}

Test(conf, section_header_without_bracket_is_refused)
{
	struct duet_conf c;

	expect_invalid(load_text("[relay\nid = r1\n", &c), "line 1: section header without ']'");
}

Test(conf, text_after_section_header_is_refused)
{
	struct duet_conf c;

	expect_invalid(load_text("[relay] id = r1\n", &c), "line 1: text after the section");
}

Test(conf, overlong_line_and_value_are_refused)
{
	struct duet_conf c;
	char text[1024], big[400];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(text, sizeof(text), "[relay]\nid = %s\n", big);
	expect_invalid(load_text(text, &c), "line 2: line longer than");

	big[256] = '\0';
	snprintf(text, sizeof(text), "[redis]\nuser = %s\n", big);
	expect_invalid(load_text(text, &c), "line 2: user: value longer than 255");
}

/* ---- sections and keys ---- */

Test(conf, unknown_section_is_refused)
{
	struct duet_conf c;

	expect_invalid(load_variant("relays", "id", "r1", &c), "[relays]: unknown section");
}

Test(conf, unknown_key_is_refused)
{
	expect_bad_value("relay", "wokers", "2", "unknown key");
	expect_bad_value("port net_af_packet0", "gw", "192.0.2.254", "unknown key");
}

Test(conf, key_set_twice_is_refused)
{
	struct duet_conf c;

	expect_invalid(load_text("[relay]\nid = r1\nid = r2\n", &c), "[relay] id: set twice");
}

Test(conf, section_twice_is_refused)
{
	struct duet_conf c;
	char text[4096];

	build_variant(text, sizeof(text), NULL, NULL, NULL);
	strcat(text, "[media]\nport_min = 1\n");
	expect_invalid(load_text(text, &c), "[media]: section appears twice");
}

Test(conf, port_section_twice_is_refused)
{
	struct duet_conf c;

	/* two spaces: a different section name to rte_cfgfile, the same port to us */
	expect_invalid(load_variant("port  net_af_packet0", "addresses", "192.0.2.2", &c),
		       "[port  net_af_packet0]: port net_af_packet0 has two sections");
}

Test(conf, port_section_needs_a_plain_ethdev_name)
{
	struct duet_conf c;

	expect_invalid(load_variant("port", "addresses", "192.0.2.5", &c),
		       "[port]: missing ethdev name");
	expect_invalid(load_variant("port net 1", "addresses", "192.0.2.5", &c),
		       "[port net 1]: ethdev name must not contain spaces");
}

/* docs/config.md: NAME is at most 57 characters. */
Test(conf, ethdev_name_is_at_most_57_characters)
{
	struct duet_conf c;
	char name[64], sec[80], named[160];

	memset(name, 'n', 57);
	name[57] = '\0';
	snprintf(sec, sizeof(sec), "port %s", name);
	cr_assert_eq(load_variant(sec, "addresses", "192.0.2.5", &c), 0, "57 refused: %s", err);
	cr_assert_eq(c.n_ports, 2);
	cr_assert_str_eq(c.ports[1].name, name);
	strcat(name, "n");
	snprintf(sec, sizeof(sec), "port %s", name);
	snprintf(named, sizeof(named), "[%s]: ethdev name longer than 57 characters", sec);
	expect_invalid(load_variant(sec, "addresses", "192.0.2.5", &c), named);
	cr_assert(strstr(err, name) != NULL && strstr(err, "(got '") != NULL,
		  "message '%s' does not quote the name", err);
}

Test(conf, each_missing_required_key_is_named)
{
	struct duet_conf c;
	char named[128];
	int i;

	for (i = 0; base[i].section != NULL; i++) {
		snprintf(named, sizeof(named), "[%s] %s: required key is missing", base[i].section,
			 base[i].key);
		expect_invalid(load_variant(base[i].section, base[i].key, NULL, &c), named);
	}
}

Test(conf, missing_section_names_its_required_key)
{
	struct duet_conf c;

	expect_invalid(load_text("[relay]\nid = r1\nworkers = 1\n"
				 "[media]\nport_min = 1\nport_max = 2\n"
				 "[port p]\naddresses = 192.0.2.1\n",
				 &c),
		       "[redis] address: required key is missing");
}

Test(conf, no_port_section_is_refused)
{
	struct duet_conf c;

	expect_invalid(load_text("[relay]\nid = r1\nworkers = 1\n"
				 "[media]\nport_min = 1\nport_max = 2\n"
				 "[redis]\naddress = h:1\n",
				 &c),
		       "at least one port section is required");
}

Test(conf, more_than_max_ports_is_refused)
{
	struct duet_conf c;
	char text[4096];
	size_t off;
	int i;

	build_variant(text, sizeof(text), NULL, NULL, NULL);
	off = strlen(text);
	for (i = 1; i < DUET_CONF_MAX_PORTS; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"[port p%d]\naddresses = 198.51.100.%d\n", i, i);
	cr_assert_eq(load_text(text, &c), 0, "%s", err);
	cr_assert_eq(c.n_ports, DUET_CONF_MAX_PORTS);
	snprintf(text + off, sizeof(text) - off, "[port p99]\naddresses = 198.51.100.99\n");
	expect_invalid(load_text(text, &c), "[port p99]: more than 8 port sections");
}

/* ---- numbers ---- */

Test(conf, number_with_trailing_junk_is_refused)
{
	expect_bad_value("relay", "max_pairs", "100x", "trailing characters");
	expect_bad_value("relay", "max_pairs", "10 0", "trailing characters");
}

Test(conf, negative_number_is_refused)
{
	expect_bad_value("relay", "idle_timeout_ms", "-1", "must not be negative");
}

Test(conf, overflowing_number_is_refused)
{
	expect_bad_value("relay", "max_pairs", "99999999999999999999999", "out of range");
	expect_bad_value("relay", "max_pairs", "4294967297", "out of range");
}

Test(conf, number_out_of_range_is_refused)
{
	expect_bad_value("relay", "max_pairs", "0", "out of range 1..16777216");
	expect_bad_value("relay", "max_pairs", "16777217", "out of range 1..16777216");
	expect_bad_value("relay", "idle_timeout_ms", "86400001", "out of range");
	expect_bad_value("relay", "relatch_silence_ms", "3600001", "out of range");
	expect_bad_value("relay", "stats_interval_ms", "99", "out of range 100..3600000");
	expect_bad_value("relay", "idle_poll_us", "100001", "out of range");
	expect_bad_value("redis", "connect_timeout_ms", "9", "out of range 10..60000");
	expect_bad_value("redis", "connect_timeout_ms", "60001", "out of range");
}

Test(conf, non_numeric_and_empty_numbers_are_refused)
{
	expect_bad_value("relay", "max_pairs", "lots", "not a decimal integer");
	expect_bad_value("relay", "max_pairs", "+5", "not a decimal integer");
	expect_bad_value("relay", "max_pairs", "0x10", "trailing characters");
	expect_bad_value("relay", "max_pairs", "", "empty");
}

Test(conf, heartbeat_ttl_must_exceed_stats_interval)
{
	struct duet_conf c;

	expect_bad_value("relay", "heartbeat_ttl_ms", "1000", "greater than stats_interval_ms");
	/* the default ttl (5000) against a longer interval: the message says so */
	expect_invalid(load_variant("relay", "stats_interval_ms", "5000", &c),
		       "[relay] heartbeat_ttl_ms: ");
	cr_assert(strstr(err, "the default") != NULL, "%s", err);
}

/* ---- [relay] id and workers ---- */

Test(conf, relay_id_is_checked)
{
	expect_bad_value("relay", "id", "r 1", "only letters, digits");
	expect_bad_value("relay", "id", "r.1", "only letters, digits");
	expect_bad_value("relay", "id", "", "1..32 characters");
	expect_bad_value("relay", "id", "abcdefghijklmnopqrstuvwxyz0123456", "1..32 characters");
}

Test(conf, workers_list_forms_parse)
{
	struct duet_conf c;

	expect_ok_value("relay", "workers", "1,3,5", &c);
	cr_assert_eq(c.n_workers, 3);
	cr_assert_eq(c.workers[2], 5);
	expect_ok_value("relay", "workers", "2-4 , 7", &c);
	cr_assert_eq(c.n_workers, 4);
	cr_assert_eq(c.workers[0], 2);
	cr_assert_eq(c.workers[2], 4);
	cr_assert_eq(c.workers[3], 7);
	expect_ok_value("relay", "workers", "0-63", &c);
	cr_assert_eq(c.n_workers, DUET_CONF_MAX_WORKERS);
}

Test(conf, workers_duplicate_is_refused)
{
	expect_bad_value("relay", "workers", "1,2,1", "lcore 1 listed twice");
	expect_bad_value("relay", "workers", "1-3,2", "lcore 2 listed twice");
}

Test(conf, workers_lcore_id_must_be_below_1024)
{
	expect_bad_value("relay", "workers", "1024", "out of range 0..1023");
	expect_bad_value("relay", "workers", "1-99999999999999999999", "out of range 0..1023");
}

/* A stand-in for rte_lcore_is_enabled: EAL was given -l 0-2. */
static int
lcores_0_to_2(unsigned int lcore_id)
{
	return lcore_id <= 2;
}

/* Known only after rte_eal_init, yet worded like every other config error. */
Test(conf, workers_outside_eal_or_on_the_main_lcore_are_refused_naming_the_file)
{
	struct duet_conf c;

	expect_ok_value("relay", "workers", "1-2", &c);
	cr_assert_eq(duet_conf_check_workers(&c, path, lcores_0_to_2, 0, err, sizeof(err)), 0,
		     "%s", err);
	expect_ok_value("relay", "workers", "0-1", &c);
	expect_invalid(duet_conf_check_workers(&c, path, lcores_0_to_2, 0, err, sizeof(err)),
		       "[relay] workers: lcore 0 is the main lcore, which runs the control thread");
	expect_ok_value("relay", "workers", "1-3", &c);
	expect_invalid(duet_conf_check_workers(&c, path, lcores_0_to_2, 0, err, sizeof(err)),
		       "[relay] workers: lcore 3 is not enabled in EAL (add it to -l)");
	expect_ok_value("relay", "workers", "1023", &c);
	expect_invalid(duet_conf_check_workers(&c, path, lcores_0_to_2, 0, err, sizeof(err)),
		       "[relay] workers: lcore 1023 is not enabled in EAL");
}

Test(conf, workers_more_than_max_is_refused)
{
	expect_bad_value("relay", "workers", "0-64", "more than 64 workers");
}

Test(conf, workers_malformed_list_is_refused)
{
	expect_bad_value("relay", "workers", "3-1", "runs backwards");
	expect_bad_value("relay", "workers", "1,,2", "not an lcore list");
	expect_bad_value("relay", "workers", "1-", "range without an end");
	expect_bad_value("relay", "workers", "1 2", "unexpected '2'");
	expect_bad_value("relay", "workers", "1.5", "unexpected '.'");
	expect_bad_value("relay", "workers", "-1", "not an lcore list");
	expect_bad_value("relay", "workers", "", "empty");
}

/* ---- [media] ---- */

Test(conf, port_max_below_port_min_is_refused)
{
	expect_bad_value("media", "port_max", "19999", "must be >= port_min (20000)");
}

Test(conf, media_ports_must_be_1_to_65535)
{
	expect_bad_value("media", "port_min", "0", "out of range 1..65535");
	expect_bad_value("media", "port_max", "65536", "out of range 1..65535");
}

/* ---- [redis] ---- */

Test(conf, redis_address_forms_parse)
{
	struct duet_conf c;

	expect_ok_value("redis", "address", "unix:/run/redis/redis.sock", &c);
	cr_assert_str_eq(c.redis.unix_path, "/run/redis/redis.sock");
	cr_assert_str_eq(c.redis.host, "");
	expect_ok_value("redis", "address", "192.0.2.50:6380", &c);
	cr_assert_str_eq(c.redis.unix_path, "");
	cr_assert_str_eq(c.redis.host, "192.0.2.50");
	cr_assert_eq(c.redis.port, 6380);
	expect_ok_value("redis", "address", "[2001:db8::1]:6379", &c);
	cr_assert_str_eq(c.redis.host, "2001:db8::1");
	cr_assert_eq(c.redis.port, 6379);
	expect_ok_value("redis", "address", "redis-1.example.net:16379", &c);
	cr_assert_str_eq(c.redis.host, "redis-1.example.net");
	cr_assert_eq(c.redis.port, 16379);
}

Test(conf, redis_sentinel_and_cluster_addresses_parse)
{
	struct duet_conf c;

	expect_ok_value("redis", "address", "sentinel:duet@192.0.2.51:26379,192.0.2.52:26379", &c);
	cr_assert_eq(c.redis.kind, DUET_REDIS_ADDR_SENTINEL);
	cr_assert_str_eq(c.redis.master_name, "duet");
	cr_assert_eq(c.redis.n_nodes, 2);
	cr_assert_str_eq(c.redis.nodes[0].host, "192.0.2.51");
	cr_assert_eq(c.redis.nodes[1].port, 26379);
	cr_assert_str_eq(c.redis.unix_path, "");
	cr_assert_str_eq(c.redis.host, "");

	expect_ok_value("redis", "address", "cluster:192.0.2.61:7000,[2001:db8::62]:7001", &c);
	cr_assert_eq(c.redis.kind, DUET_REDIS_ADDR_CLUSTER);
	cr_assert_str_eq(c.redis.master_name, "");
	cr_assert_eq(c.redis.n_nodes, 2);
	cr_assert_str_eq(c.redis.nodes[1].host, "2001:db8::62");

	expect_ok_value("redis", "address", "192.0.2.50:6380", &c);
	cr_assert_eq(c.redis.kind, DUET_REDIS_ADDR_SERVER);
	cr_assert_eq(c.redis.n_nodes, 0);
}

Test(conf, bad_sentinel_or_cluster_address_is_refused)
{
	expect_bad_value("redis", "address", "sentinel:duet", "expected sentinel:NAME@host:port");
	expect_bad_value("redis", "address", "sentinel:du et@h:1", "Sentinel master name");
	expect_bad_value("redis", "address", "sentinel:duet@h:1,,h:2", "empty node");
	expect_bad_value("redis", "address", "sentinel:duet@unix:/s.sock", "not unix sockets");
	expect_bad_value("redis", "address", "cluster:h:1,h:0", "TCP port must be 1..65535");
	expect_bad_value("redis", "address", "cluster:h:1,h:2,h:3,h:4,h:5,h:6,h:7,h:8,h:9",
			 "more than 8 nodes");
}

Test(conf, bad_redis_address_is_refused)
{
	expect_bad_value("redis", "address", "127.0.0.1", "expected unix:/path, host:port");
	expect_bad_value("redis", "address", "::1:6379", "needs brackets");
	expect_bad_value("redis", "address", "[192.0.2.1]:6379", "not an IPv6 address");
	expect_bad_value("redis", "address", "[::1]6379", "expected [IPv6]:port");
	expect_bad_value("redis", "address", "host:0", "TCP port must be 1..65535");
	expect_bad_value("redis", "address", "host:65536", "TCP port must be 1..65535");
	expect_bad_value("redis", "address", "host:63x", "TCP port must be 1..65535");
	expect_bad_value("redis", "address", "192.0.2.300:6379", "not a valid IPv4 address");
	expect_bad_value("redis", "address", "bad host:6379", "not a valid host name");
	expect_bad_value("redis", "address", ":6379", "host is empty");
	expect_bad_value("redis", "address", "unix:run/redis.sock", "must be absolute");
	expect_bad_value("redis", "address", "", "expected unix:/path");
}

Test(conf, redis_user_is_checked)
{
	expect_bad_value("redis", "user", "two words", "must not contain spaces");
	expect_bad_value("redis", "user",
			 "u123456789012345678901234567890123456789012345678901234567890123",
			 "longer than 63");
}

Test(conf, password_from_environment_overrides_the_file)
{
	struct duet_conf c;

	setenv("DUET_REDIS_PASSWORD", "from-env", 1);
	expect_ok_value("redis", "password", "from-file", &c);
	cr_assert_str_eq(c.redis.password, "from-env");
	unsetenv("DUET_REDIS_PASSWORD");
	expect_ok_value("redis", "password", "from-file", &c);
	cr_assert_str_eq(c.redis.password, "from-file");
	setenv("DUET_REDIS_PASSWORD", "", 1);
	expect_ok_value("redis", "password", "from-file", &c);
	cr_assert_str_eq(c.redis.password, "from-file", "an empty variable counts as unset");
}

Test(conf, password_never_appears_in_messages)
{
	struct duet_conf c;

	unsetenv("DUET_REDIS_PASSWORD");
	expect_bad_value("redis", "password", "s3cr3t word", "must not contain spaces");
	cr_assert(strstr(err, "s3cr3t") == NULL, "%s", err);
	expect_invalid(load_variant("redis", "password", "s3cr3t\\;x ; note", &c),
		       "comment after an escaped");
	cr_assert(strstr(err, "s3cr3t") == NULL, "%s", err);
	expect_invalid(load_text("[redis]\npassword s3cr3t\n", &c), "line 2: expected");
	cr_assert(strstr(err, "s3cr3t") == NULL, "%s", err);
	expect_invalid(load_text("[relay]\npassword = s3cr3t\n", &c), "[relay] password: unknown");
	cr_assert(strstr(err, "s3cr3t") == NULL, "%s", err);
}

/* ---- [port NAME] ---- */

Test(conf, duplicate_address_in_a_port_is_refused)
{
	expect_bad_value("port net_af_packet0", "addresses", "192.0.2.1, 192.0.2.2, 192.0.2.1",
			 "192.0.2.1 is listed twice");
}

Test(conf, duplicate_address_across_ports_is_refused)
{
	expect_bad_value("port net1", "addresses", "198.51.100.1, 192.0.2.1",
			 "192.0.2.1 is already a service address of [port net_af_packet0]");
}

Test(conf, at_most_16_addresses_per_port)
{
	struct duet_conf c;
	char list[512];
	size_t off = 0;
	int i;

	for (i = 1; i <= DUET_CONF_MAX_ADDRS; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s203.0.113.%d",
					i > 1 ? "," : "", i);
	expect_ok_value("port net_af_packet0", "addresses", list, &c);
	cr_assert_eq(c.ports[0].n_addrs, DUET_CONF_MAX_ADDRS);
	cr_assert_eq(ip4(&c.ports[0].addrs[15]), 0xcb007110);
	snprintf(list + off, sizeof(list) - off, ",203.0.113.99");
	expect_bad_value("port net_af_packet0", "addresses", list, "more than 16 addresses");
}

Test(conf, address_that_is_not_an_ip_is_refused)
{
	expect_bad_value("port net_af_packet0", "addresses", "192.0.2.1, 192.0.2", "'192.0.2' is not an IP");
	expect_bad_value("port net_af_packet0", "addresses", "192.0.2.1:5000", "is not an IP");
	expect_bad_value("port net_af_packet0", "addresses", "192.0.2.1,", "empty entry");
	expect_bad_value("port net_af_packet0", "addresses", "", "empty entry");
}

Test(conf, non_unicast_service_address_is_refused)
{
	expect_bad_value("port net_af_packet0", "addresses", "0.0.0.0", "not a usable unicast");
	expect_bad_value("port net_af_packet0", "addresses", "127.0.0.1", "not a usable unicast");
	expect_bad_value("port net_af_packet0", "addresses", "224.0.0.5", "not a usable unicast");
	expect_bad_value("port net_af_packet0", "addresses", "255.255.255.255",
			 "not a usable unicast");
}

/* ---- IPv6 service addresses and next hops (issue 14) ---- */

/* The base file with one port, [port v6net], of these addresses and, when
 * key is not NULL, key = value in it. */
static int
load_port_text(const char *addresses, const char *key, const char *value, struct duet_conf *conf)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "[relay]\nid = r1\nworkers = 1\n[media]\nport_min = 20000\nport_max = 20009\n"
		 "[redis]\naddress = 127.0.0.1:6379\n[port v6net]\naddresses = %s\n%s%s%s%s",
		 addresses, key != NULL ? key : "", key != NULL ? " = " : "",
		 key != NULL ? value : "", key != NULL ? "\n" : "");
	return load_text(text, conf);
}

/* The IP of text (no port) as lib/addr parses it. */
static struct duet_addr
ip_of(const char *text)
{
	struct duet_addr a;

	cr_assert_eq(duet_addr_parse_ip(text, &a), 0, "%s", text);
	return a;
}

Test(conf, ipv4_and_ipv6_service_addresses_mix_on_one_port)
{
	struct duet_conf c;
	struct duet_addr a;

	cr_assert_eq(load_port_text("203.0.113.10, 2001:db8:1::10, 203.0.113.11", NULL, NULL, &c),
		     0, "%s", err);
	cr_assert_eq(c.ports[0].n_addrs, 3);
	cr_assert_eq(c.ports[0].addrs[0].family, DUET_AF_INET4);
	cr_assert_eq(ip4(&c.ports[0].addrs[0]), 0xcb00710a);
	cr_assert_eq(c.ports[0].addrs[1].family, DUET_AF_INET6);
	a = ip_of("2001:db8:1::10");
	cr_assert(duet_addr_equal(&c.ports[0].addrs[1], &a), "IPv6 address stored wrong");
	cr_assert_eq(c.ports[0].addrs[2].family, DUET_AF_INET4);
	/* Both families join the source policy as the relay's own. */
	cr_assert_eq(c.policy.n_own, 3);
	cr_assert_eq(duet_addr_parse("[2001:db8:1::10]:4000", &a), 0);
	cr_assert_eq(duet_policy_check(&c.policy, &a), DUET_POLICY_OWN);
	cr_assert_eq(duet_addr_parse("203.0.113.11:4000", &a), 0);
	cr_assert_eq(duet_policy_check(&c.policy, &a), DUET_POLICY_OWN);
	/* An IPv6-only port is fine too. */
	cr_assert_eq(load_port_text("2001:db8::1", NULL, NULL, &c), 0, "%s", err);
	cr_assert_eq(c.ports[0].n_addrs, 1);
	cr_assert_eq(c.ports[0].addrs[0].family, DUET_AF_INET6);
}

Test(conf, each_unusable_ipv6_service_address_class_is_refused_by_name)
{
	struct duet_conf c;

	expect_bad_value("port net_af_packet0", "addresses", "192.0.2.1, ::",
			 "'::' is the unspecified address");
	expect_bad_value("port net_af_packet0", "addresses", "::1",
			 "'::1' is the loopback address");
	expect_bad_value("port net_af_packet0", "addresses", "ff02::1",
			 "'ff02::1' is multicast (ff00::/8)");
	expect_bad_value("port net_af_packet0", "addresses", "fe80::1",
			 "'fe80::1' is link-local (fe80::/10); a service address must be "
			 "reachable by callers off-link");
	/* The top of fe80::/10, and just past it (fec0::, not link-local). */
	expect_bad_value("port net_af_packet0", "addresses", "febf:ffff::1", "is link-local");
	expect_ok_value("port net_af_packet0", "addresses", "fec0::1", &c);
	expect_bad_value("port net_af_packet0", "addresses", "::ffff:192.0.2.7",
			 "'::ffff:192.0.2.7' is IPv4-mapped (::ffff:0:0/96)");
	expect_bad_value("port net_af_packet0", "addresses", "2001:db8::1::2",
			 "'2001:db8::1::2' is not an IP address");
}

Test(conf, duplicate_ipv6_address_is_refused_within_and_across_ports)
{
	static const char across[] =
		"[relay]\nid = r1\nworkers = 1\n[media]\nport_min = 20000\nport_max = 20009\n"
		"[redis]\naddress = 127.0.0.1:6379\n"
		"[port net0]\naddresses = 192.0.2.1, 2001:db8::1\n"
		"[port net1]\naddresses = 2001:db8::2, 2001:0db8:0::1\n";
	struct duet_conf c;

	/* Two spellings of one address are one address. */
	expect_bad_value("port net_af_packet0", "addresses",
			 "2001:db8::1, 192.0.2.5, 2001:db8:0::1", "2001:db8:0::1 is listed twice");
	expect_invalid(load_text(across, &c),
		       "[port net1] addresses: 2001:0db8:0::1 is already a service address of "
		       "[port net0]");
}

Test(conf, sixteen_addresses_per_port_count_both_families)
{
	struct duet_conf c;
	char list[1024];
	size_t off = 0;
	int i;

	for (i = 1; i <= DUET_CONF_MAX_ADDRS / 2; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off,
					"%s203.0.113.%d,2001:db8::%d", i > 1 ? "," : "", i, i);
	expect_ok_value("port net_af_packet0", "addresses", list, &c);
	cr_assert_eq(c.ports[0].n_addrs, DUET_CONF_MAX_ADDRS);
	snprintf(list + off, sizeof(list) - off, ",2001:db8::99");
	expect_bad_value("port net_af_packet0", "addresses", list, "more than 16 addresses");
}

Test(conf, gateway6_takes_a_global_or_link_local_next_hop)
{
	struct duet_conf c;
	struct duet_addr want;

	cr_assert_eq(load_port_text("192.0.2.1, 2001:db8::1", "gateway6", "fe80::1", &c), 0, "%s",
		     err);
	want = ip_of("fe80::1");
	cr_assert(duet_addr_equal(&c.ports[0].gateway6, &want), "gateway6 not stored");
	cr_assert_eq(c.ports[0].gateway.family, DUET_AF_NONE, "gateway6 set the IPv4 gateway");
	cr_assert_eq(load_port_text("2001:db8::1", "gateway6", "2001:db8::fe", &c), 0, "%s", err);
	want = ip_of("2001:db8::fe");
	cr_assert(duet_addr_equal(&c.ports[0].gateway6, &want));
	/* Unset, or empty: none. */
	cr_assert_eq(load_port_text("2001:db8::1", "gateway6", "", &c), 0, "%s", err);
	cr_assert_eq(c.ports[0].gateway6.family, DUET_AF_NONE);
	cr_assert_eq(load_port_text("2001:db8::1", NULL, NULL, &c), 0, "%s", err);
	cr_assert_eq(c.ports[0].gateway6.family, DUET_AF_NONE);
}

Test(conf, gateway6_is_refused_on_a_port_without_an_ipv6_service_address)
{
	expect_bad_value("port net_af_packet0", "gateway6", "fe80::1",
			 "the port has no IPv6 service address, which neighbour discovery needs "
			 "as its source");
}

Test(conf, gateway6_refuses_what_cannot_be_a_next_hop)
{
	static const struct {
		const char *value, *needle;
	} bad[] = {
		{"::", "[port v6net] gateway6: is the unspecified address"},
		{"::1", "[port v6net] gateway6: is the loopback address"},
		{"ff02::2", "[port v6net] gateway6: is multicast"},
		{"::ffff:192.0.2.254", "[port v6net] gateway6: is IPv4-mapped"},
		{"192.0.2.254", "[port v6net] gateway6: is an IPv4 address; gateway6 is the IPv6 "
				"next hop, write an IPv4 one in gateway"},
		{"fe80::1%eth0", "[port v6net] gateway6: not an IPv6 address"},
		{"2001:db8::1", "[port v6net] gateway6: is a service address"},
	};
	struct duet_conf c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_invalid(load_port_text("192.0.2.1, 2001:db8::1", "gateway6", bad[i].value,
					      &c),
			       bad[i].needle);
		cr_assert(strstr(err, bad[i].value) != NULL, "message '%s' does not show '%s'", err,
			  bad[i].value);
	}
}

Test(conf, ipv6_in_gateway_is_refused_pointing_at_gateway6)
{
	struct duet_conf c;

	expect_bad_value("port net_af_packet0", "gateway", "2001:db8::fe",
			 "is an IPv6 address; gateway is the IPv4 next hop, write an IPv6 one in "
			 "gateway6");
	/* Even on a port that has IPv6 addresses. */
	expect_invalid(load_port_text("2001:db8::1", "gateway", "fe80::1", &c),
		       "[port v6net] gateway: is an IPv6 address");
}

Test(conf, ipv4_gateway_is_refused_on_a_port_without_an_ipv4_service_address)
{
	struct duet_conf c;

	expect_invalid(load_port_text("2001:db8::1", "gateway", "192.0.2.254", &c),
		       "[port v6net] gateway: the port has no IPv4 service address");
	cr_assert(strstr(err, "192.0.2.254") != NULL, "%s", err);
	cr_assert_eq(load_port_text("2001:db8::1, 192.0.2.1", "gateway", "192.0.2.254", &c), 0,
		     "%s", err);
	cr_assert_eq(c.ports[0].gateway.family, DUET_AF_INET4);
	cr_assert_eq(c.ports[0].gateway6.family, DUET_AF_NONE);
}

Test(conf, bad_gateway_is_refused)
{
	expect_bad_value("port net_af_packet0", "gateway", "192.0.2.256", "not an IP address");
	expect_bad_value("port net_af_packet0", "gateway", "224.0.0.1", "not a usable unicast");
	expect_bad_value("port net_af_packet0", "gateway", "192.0.2.1", "is a service address");
}

Test(conf, descriptor_counts_must_be_powers_of_two_in_range)
{
	expect_bad_value("port net_af_packet0", "rx_desc", "1000", "must be a power of two");
	expect_bad_value("port net_af_packet0", "tx_desc", "32", "out of range 64..16384");
	expect_bad_value("port net_af_packet0", "tx_desc", "32768", "out of range 64..16384");
}

/* ---- issue 8: [security], [relay] relatch, [media] ttl and dscp ---- */

Test(conf, security_defaults_are_sized_for_voice)
{
	struct duet_conf c;
	struct duet_addr a;

	cr_assert_eq(load_variant(NULL, NULL, NULL, &c), 0, "%s", err);
	cr_assert_eq(c.relatch, DUET_RELATCH_SSRC);
	cr_assert_eq(c.ttl, 64);
	cr_assert_eq(c.dscp, 46);
	cr_assert_eq(c.security.max_pps, 500);
	cr_assert_eq(c.security.max_kbps, 1000);
	cr_assert_eq(c.security.police_burst_ms, 200);
	cr_assert_eq(c.security.budget_icmp_pps, 100);
	cr_assert_eq(c.security.budget_arp_pps, 100);
	cr_assert_eq(c.security.srtp_max_ssrc, 4);
	cr_assert_eq(c.policy.n_denied, 0);
	/* The service address joined the source policy. */
	cr_assert_eq(c.policy.n_own, 1);
	cr_assert_eq(duet_addr_parse("192.0.2.1:4000", &a), 0);
	cr_assert_eq(duet_policy_check(&c.policy, &a), DUET_POLICY_OWN);
}

Test(conf, security_section_values_load)
{
	struct duet_conf c;
	char text[2048];
	struct duet_addr a;

	build_variant(text, sizeof(text), "security", "denied_peers",
		      "203.0.113.0/24, 198.51.100.128/25");
	strcat(text, "allowed_peers = 203.0.113.64/26\nmax_pps = 0\nmax_kbps = 2000\n"
		     "police_burst_ms = 500\nbudget_no_pair_pps = 1\nbudget_unlatched_pps = 2\n"
		     "budget_icmp_pps = 0\nbudget_arp_pps = 3\nsrtp_max_ssrc = 16\n");
	cr_assert_eq(load_text(text, &c), 0, "%s", err);
	cr_assert_eq(c.policy.n_denied, 2);
	cr_assert_eq(c.policy.n_allowed, 1);
	cr_assert_eq(c.security.max_pps, 0);
	cr_assert_eq(c.security.max_kbps, 2000);
	cr_assert_eq(c.security.police_burst_ms, 500);
	cr_assert_eq(c.security.budget_no_pair_pps, 1);
	cr_assert_eq(c.security.budget_unlatched_pps, 2);
	cr_assert_eq(c.security.budget_icmp_pps, 0);
	cr_assert_eq(c.security.budget_arp_pps, 3);
	cr_assert_eq(c.security.srtp_max_ssrc, 16);
	cr_assert_eq(duet_addr_parse("203.0.113.5:4000", &a), 0);
	cr_assert_eq(duet_policy_check(&c.policy, &a), DUET_POLICY_DENIED);
	cr_assert_eq(duet_addr_parse("203.0.113.70:4000", &a), 0);
	cr_assert_eq(duet_policy_check(&c.policy, &a), DUET_POLICY_OK);
}

Test(conf, ipv6_link_local_peers_defaults_to_no)
{
	struct duet_conf c;
	struct duet_addr a;

	cr_assert_eq(load_variant(NULL, NULL, NULL, &c), 0, "%s", err);
	cr_assert(!c.policy.link_local6);
	cr_assert_eq(duet_addr_parse("[fe80::1234]:4000", &a), 0);
	cr_assert_eq(duet_policy_check(&c.policy, &a), DUET_POLICY_BUILTIN);
	expect_ok_value("security", "ipv6_link_local_peers", "no", &c);
	cr_assert(!c.policy.link_local6);
	cr_assert_eq(duet_policy_check(&c.policy, &a), DUET_POLICY_BUILTIN);
}

Test(conf, ipv6_link_local_peers_yes_opens_fe80_sources_and_keeps_the_rest)
{
	struct duet_conf c;
	char text[2048];
	struct duet_addr a;

	/* denied_peers before the switch: rebuilding the policy keeps it. */
	build_variant(text, sizeof(text), "security", "denied_peers", "2001:db8:bad::/48");
	strcat(text, "ipv6_link_local_peers = yes\n");
	cr_assert_eq(load_text(text, &c), 0, "%s", err);
	cr_assert(c.policy.link_local6);
	cr_assert_eq(duet_addr_parse("[fe80::1234]:4000", &a), 0);
	cr_assert_eq(duet_policy_check(&c.policy, &a), DUET_POLICY_OK);
	cr_assert_eq(duet_addr_parse("[2001:db8:bad::1]:4000", &a), 0);
	cr_assert_eq(duet_policy_check(&c.policy, &a), DUET_POLICY_DENIED);
	cr_assert_eq(duet_addr_parse("[ff02::1]:4000", &a), 0);
	cr_assert_eq(duet_policy_check(&c.policy, &a), DUET_POLICY_BUILTIN);
	cr_assert_eq(duet_addr_parse("169.254.1.1:4000", &a), 0);
	cr_assert_eq(duet_policy_check(&c.policy, &a), DUET_POLICY_BUILTIN,
		     "IPv4 link-local must stay refused");
	cr_assert_eq(duet_addr_parse("192.0.2.1:4000", &a), 0);
	cr_assert_eq(duet_policy_check(&c.policy, &a), DUET_POLICY_OWN);
	expect_bad_value("security", "ipv6_link_local_peers", "true", "expected yes or no");
}

Test(conf, malformed_cidrs_are_refused_naming_the_entry)
{
	expect_bad_value("security", "denied_peers", "203.0.113.0/24, 10.0.0.0/33",
			 "'10.0.0.0/33' is not a CIDR prefix: prefix length above 32");
	expect_bad_value("security", "denied_peers", "203.0.113.1/24",
			 "host bits set past the prefix length");
	expect_bad_value("security", "denied_peers", "203.0.113.0/24,,198.51.100.0/24",
			 "empty entry");
	expect_bad_value("security", "denied_peers", "evil.example/24", "not a CIDR prefix");
	expect_bad_value("security", "denied_peers", "203.0.113.0/24, 203.0.113.0/24",
			 "listed twice");
	expect_bad_value("security", "allowed_peers", "203.0.113.0/24",
			 "inside no denied_peers entry");
}

Test(conf, allowed_peers_may_come_before_denied_peers)
{
	struct duet_conf c;
	char text[2048];

	build_variant(text, sizeof(text), "security", "allowed_peers", "203.0.113.64/26");
	strcat(text, "denied_peers = 203.0.113.0/24\n");
	cr_assert_eq(load_text(text, &c), 0, "%s", err);
	cr_assert_eq(c.policy.n_allowed, 1);
	build_variant(text, sizeof(text), "security", "allowed_peers", "198.51.100.0/25");
	strcat(text, "denied_peers = 203.0.113.0/24\n");
	expect_invalid(load_text(text, &c),
		       "[security] allowed_peers: 198.51.100.0/25 is inside no denied_peers entry");
}

Test(conf, security_numbers_are_range_checked)
{
	expect_bad_value("security", "srtp_max_ssrc", "0", "out of range 1..16");
	expect_bad_value("security", "srtp_max_ssrc", "17", "out of range 1..16");
	expect_bad_value("security", "police_burst_ms", "0", "out of range");
	expect_bad_value("security", "max_pps", "-5", "must not be negative");
	expect_bad_value("security", "max_kbps", "1000k", "trailing characters");
	expect_bad_value("security", "budget_icmp_pps", "1000001", "out of range");
	expect_bad_value("security", "max_ppps", "5", "unknown key");
}

Test(conf, relatch_ttl_and_dscp_are_checked)
{
	struct duet_conf c;

	expect_ok_value("relay", "relatch", "never", &c);
	cr_assert_eq(c.relatch, DUET_RELATCH_NEVER);
	expect_ok_value("relay", "relatch", "any", &c);
	cr_assert_eq(c.relatch, DUET_RELATCH_ANY);
	expect_bad_value("relay", "relatch", "sometimes", "expected ssrc, any or never");
	expect_ok_value("media", "ttl", "255", &c);
	cr_assert_eq(c.ttl, 255);
	expect_bad_value("media", "ttl", "0", "out of range 1..255");
	expect_bad_value("media", "ttl", "256", "out of range 1..255");
	expect_ok_value("media", "dscp", "keep", &c);
	cr_assert_eq(c.dscp, DUET_CONF_DSCP_KEEP);
	expect_ok_value("media", "dscp", "0", &c);
	cr_assert_eq(c.dscp, 0);
	expect_bad_value("media", "dscp", "64", "out of range 0..63");
	expect_bad_value("media", "dscp", "EF", "expected a DSCP 0..63 or keep");
	expect_bad_value("media", "dscp", "", "empty");
}

/* ---- [metrics], [log], [privacy] (issue 12) ---- */

Test(conf, metrics_log_and_privacy_default_to_loopback_text_and_no)
{
	struct duet_conf conf;
	char where[DUET_ADDR_STRLEN];

	cr_assert_eq(load_variant(NULL, NULL, NULL, &conf), 0, "%s", err);
	cr_assert(conf.metrics.enabled);
	duet_addr_format(&conf.metrics.addr, where, sizeof(where));
	cr_assert_str_eq(where, "127.0.0.1:9465");
	cr_assert_eq(conf.log_format, DUET_LOG_TEXT);
	cr_assert(!conf.privacy.allow_capture);
	cr_assert(!conf.privacy.show_addresses);
	cr_assert_eq(conf.link_wait_ms, 10000);
}

Test(conf, metrics_listen_takes_off_ipv4_and_ipv6)
{
	struct duet_conf conf;
	char where[DUET_ADDR_STRLEN];

	cr_assert_eq(load_variant("metrics", "listen", "off", &conf), 0, "%s", err);
	cr_assert(!conf.metrics.enabled);
	cr_assert_eq(load_variant("metrics", "listen", "192.0.2.5:9100", &conf), 0, "%s", err);
	cr_assert(conf.metrics.enabled);
	duet_addr_format(&conf.metrics.addr, where, sizeof(where));
	cr_assert_str_eq(where, "192.0.2.5:9100");
	cr_assert_eq(load_variant("metrics", "listen", "[::1]:9465", &conf), 0, "%s", err);
	cr_assert_eq(conf.metrics.addr.family, DUET_AF_INET6);
}

Test(conf, metrics_listen_refuses_what_is_not_an_address_and_port)
{
	expect_bad_value("metrics", "listen", "on", "expected off or ADDRESS:PORT");
	expect_bad_value("metrics", "listen", "127.0.0.1", "expected off or ADDRESS:PORT");
	expect_bad_value("metrics", "listen", "127.0.0.1:0", "expected off or ADDRESS:PORT");
	expect_bad_value("metrics", "listen", "localhost:9465", "expected off or ADDRESS:PORT");
}

Test(conf, log_format_and_privacy_switches_take_only_their_words)
{
	struct duet_conf conf;

	cr_assert_eq(load_variant("log", "format", "json", &conf), 0, "%s", err);
	cr_assert_eq(conf.log_format, DUET_LOG_JSON);
	cr_assert_eq(load_variant("privacy", "allow_capture", "yes", &conf), 0, "%s", err);
	cr_assert(conf.privacy.allow_capture);
	cr_assert_eq(load_variant("privacy", "show_addresses", "yes", &conf), 0, "%s", err);
	cr_assert(conf.privacy.show_addresses);
	expect_bad_value("log", "format", "syslog", "expected text or json");
	expect_bad_value("privacy", "allow_capture", "true", "expected yes or no");
	expect_bad_value("privacy", "show_addresses", "1", "expected yes or no");
	expect_invalid(load_variant("privacy", "capture", "yes", &conf), "capture");
}

/* ---- [srtp] (issue 13) ---- */

Test(conf, srtp_engine_defaults_to_auto_and_takes_burst_or_libsrtp2_only)
{
	struct duet_conf conf;

	cr_assert_eq(load_variant(NULL, NULL, NULL, &conf), 0, "%s", err);
	cr_assert_eq(conf.srtp_engine, DUET_CONF_SRTP_AUTO);
	cr_assert_eq(load_variant("srtp", "engine", "burst", &conf), 0, "%s", err);
	cr_assert_eq(conf.srtp_engine, DUET_CONF_SRTP_BURST);
	cr_assert_eq(load_variant("srtp", "engine", "libsrtp2", &conf), 0, "%s", err);
	cr_assert_eq(conf.srtp_engine, DUET_CONF_SRTP_LIBSRTP2);
	expect_bad_value("srtp", "engine", "auto", "expected burst or libsrtp2");
	expect_bad_value("srtp", "engine", "openssl", "expected burst or libsrtp2");
	expect_bad_value("srtp", "engine", "Burst", "expected burst or libsrtp2");
	expect_invalid(load_variant("srtp", "window", "128", &conf), "window");
}
