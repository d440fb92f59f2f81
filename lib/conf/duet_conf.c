/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_conf: the schema of duetd's INI config (its sections, their keys,
 * which are required, defaults and ranges) and the load that checks every
 * value before anything is started, so a typo is a clear message at startup
 * rather than a relay that silently does something else. Runs once on the
 * main thread before EAL starts workers; needs no EAL (the workers' check
 * against EAL's lcores is handed EAL's answers by duetd).
 *
 * Loading is three passes: a line scan (duet_conf_scan.c) that refuses what
 * rte_cfgfile would silently drop or truncate, then rte_cfgfile_load, then
 * per-section validation, each value through its parser (duet_conf_values.c),
 * into a scratch struct that is copied out only when everything is valid.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>

#include "conf_internal.h"
#include "duet_cidr.h"

#define PORT_PREFIX "port"
#define PASSWORD_ENV "DUET_REDIS_PASSWORD"

/* ---- keys of each section ---- */

enum key_type {
	KEY_U32,	/* uint32_t in struct duet_conf at off, range min..max */
	KEY_U16,	/* uint16_t in struct duet_conf at off */
	KEY_RELAY_ID,
	KEY_WORKERS,
	KEY_REDIS_ADDRESS,
	KEY_REDIS_USER,
	KEY_REDIS_PASSWORD,
	KEY_ADDRESSES,
	KEY_GATEWAY,
	KEY_GATEWAY6,
	KEY_RX_DESC,
	KEY_TX_DESC,
	KEY_RELATCH,
	KEY_DSCP,
	KEY_DENIED_PEERS,
	KEY_ALLOWED_PEERS,
	KEY_METRICS_LISTEN,
	KEY_LOG_FORMAT,
	KEY_SRTP_ENGINE,
	KEY_YES_NO, /* bool in struct duet_conf at off */
};

struct key_def {
	const char *name;
	enum key_type type;
	bool required;
	uint32_t min, max;
	size_t off;
};

#define CONF_OFF(field) offsetof(struct duet_conf, field)

static const struct key_def relay_keys[] = {
	{"id", KEY_RELAY_ID, true, 0, 0, 0},
	{"workers", KEY_WORKERS, true, 0, 0, 0},
	{"max_pairs", KEY_U32, false, 1, 16777216, CONF_OFF(max_pairs)},
	{"idle_timeout_ms", KEY_U32, false, 0, 86400000, CONF_OFF(idle_timeout_ms)},
	{"relatch_silence_ms", KEY_U32, false, 0, 3600000, CONF_OFF(relatch_silence_ms)},
	{"stats_interval_ms", KEY_U32, false, 100, 3600000, CONF_OFF(stats_interval_ms)},
	{"heartbeat_ttl_ms", KEY_U32, false, 1, 86400000, CONF_OFF(heartbeat_ttl_ms)},
	{"idle_poll_us", KEY_U32, false, 0, 100000, CONF_OFF(idle_poll_us)},
	{"relatch", KEY_RELATCH, false, 0, 0, 0},
	{"resync_hold_percent", KEY_U32, false, 0, 100, CONF_OFF(resync_hold_percent)},
	{"link_wait_ms", KEY_U32, false, 0, 600000, CONF_OFF(link_wait_ms)},
	{NULL, KEY_U32, false, 0, 0, 0},
};

static const struct key_def metrics_keys[] = {
	{"listen", KEY_METRICS_LISTEN, false, 0, 0, 0},
	{NULL, KEY_U32, false, 0, 0, 0},
};

static const struct key_def log_keys[] = {
	{"format", KEY_LOG_FORMAT, false, 0, 0, 0},
	{NULL, KEY_U32, false, 0, 0, 0},
};

static const struct key_def srtp_keys[] = {
	{"engine", KEY_SRTP_ENGINE, false, 0, 0, 0},
	{NULL, KEY_U32, false, 0, 0, 0},
};

static const struct key_def privacy_keys[] = {
	{"allow_capture", KEY_YES_NO, false, 0, 0, CONF_OFF(privacy.allow_capture)},
	{"show_addresses", KEY_YES_NO, false, 0, 0, CONF_OFF(privacy.show_addresses)},
	{NULL, KEY_U32, false, 0, 0, 0},
};

static const struct key_def media_keys[] = {
	{"port_min", KEY_U16, true, 1, 65535, CONF_OFF(port_min)},
	{"port_max", KEY_U16, true, 1, 65535, CONF_OFF(port_max)},
	{"ttl", KEY_U32, false, 1, 255, CONF_OFF(ttl)},
	{"dscp", KEY_DSCP, false, 0, 0, 0},
	{NULL, KEY_U32, false, 0, 0, 0},
};

#define SEC_OFF(field) offsetof(struct duet_conf, security.field)

static const struct key_def security_keys[] = {
	{"denied_peers", KEY_DENIED_PEERS, false, 0, 0, 0},
	{"allowed_peers", KEY_ALLOWED_PEERS, false, 0, 0, 0},
	{"max_pps", KEY_U32, false, 0, 10000000, SEC_OFF(max_pps)},
	{"max_kbps", KEY_U32, false, 0, 100000000, SEC_OFF(max_kbps)},
	{"police_burst_ms", KEY_U32, false, 1, 10000, SEC_OFF(police_burst_ms)},
	{"budget_no_pair_pps", KEY_U32, false, 0, 10000000, SEC_OFF(budget_no_pair_pps)},
	{"budget_unlatched_pps", KEY_U32, false, 0, 10000000, SEC_OFF(budget_unlatched_pps)},
	{"budget_icmp_pps", KEY_U32, false, 0, 1000000, SEC_OFF(budget_icmp_pps)},
	{"budget_arp_pps", KEY_U32, false, 0, 1000000, SEC_OFF(budget_arp_pps)},
	/* 16 is DUET_SRTP_MAX_SSRC, the size of the fast path's SSRC table. */
	{"srtp_max_ssrc", KEY_U32, false, 1, 16, SEC_OFF(srtp_max_ssrc)},
	/* Stored in the policy itself; build_policy() opens fe80::/10 with it
	 * once the whole file is read. */
	{"ipv6_link_local_peers", KEY_YES_NO, false, 0, 0, CONF_OFF(policy.link_local6)},
	{NULL, KEY_U32, false, 0, 0, 0},
};

static const struct key_def redis_keys[] = {
	{"address", KEY_REDIS_ADDRESS, true, 0, 0, 0},
	{"user", KEY_REDIS_USER, false, 0, 0, 0},
	{CONF_PASSWORD_KEY, KEY_REDIS_PASSWORD, false, 0, 0, 0},
	{"connect_timeout_ms", KEY_U32, false, 10, 60000, CONF_OFF(redis.connect_timeout_ms)},
	{NULL, KEY_U32, false, 0, 0, 0},
};

static const struct key_def port_keys[] = {
	{"addresses", KEY_ADDRESSES, true, 0, 0, 0},
	{"gateway", KEY_GATEWAY, false, 0, 0, 0},
	{"gateway6", KEY_GATEWAY6, false, 0, 0, 0},
	{"rx_desc", KEY_RX_DESC, false, 0, 0, 0},
	{"tx_desc", KEY_TX_DESC, false, 0, 0, 0},
	{NULL, KEY_U32, false, 0, 0, 0},
};

#define MAX_SECTION_KEYS 16

/* Which keys each single-instance section has seen; all start false. */
struct section_seen {
	bool present;
	bool keys[MAX_SECTION_KEYS];
};

static int
set_key(struct conf_ctx *ctx, const char *sec, const struct key_def *k, const char *val,
	struct duet_conf *conf, struct duet_conf_port *port)
{
	uint64_t v;
	int ret;

	/*
	 * An empty value means "none" for user, password, gateway and
	 * gateway6; every other parser refuses it with its own message.
	 */
	switch (k->type) {
	case KEY_U32:
	case KEY_U16:
		ret = conf_parse_uint(ctx, sec, k->name, val, k->min, k->max, &v);
		if (ret != 0)
			return ret;
		if (k->type == KEY_U16)
			*(uint16_t *)((char *)conf + k->off) = (uint16_t)v;
		else
			*(uint32_t *)((char *)conf + k->off) = (uint32_t)v;
		return 0;
	case KEY_RELAY_ID:
		return conf_parse_relay_id(ctx, sec, k->name, val, conf);
	case KEY_WORKERS:
		return conf_parse_workers(ctx, sec, k->name, val, conf);
	case KEY_REDIS_ADDRESS:
		return conf_parse_redis_address(ctx, sec, k->name, val, &conf->redis);
	case KEY_REDIS_USER:
		return conf_parse_credential(ctx, sec, k->name, val, conf->redis.user,
					     sizeof(conf->redis.user));
	case KEY_REDIS_PASSWORD:
		return conf_parse_credential(ctx, sec, k->name, val, conf->redis.password,
					     sizeof(conf->redis.password));
	case KEY_ADDRESSES:
		return conf_parse_addresses(ctx, sec, k->name, val, conf, port);
	case KEY_GATEWAY:
		if (*val == '\0')
			return 0;
		return conf_parse_gateway(ctx, sec, k->name, val, port);
	case KEY_GATEWAY6:
		if (*val == '\0')
			return 0;
		return conf_parse_gateway6(ctx, sec, k->name, val, port);
	case KEY_RX_DESC:
		return conf_parse_desc(ctx, sec, k->name, val, &port->rx_desc);
	case KEY_TX_DESC:
		return conf_parse_desc(ctx, sec, k->name, val, &port->tx_desc);
	case KEY_RELATCH:
		if (duet_relatch_parse(val, &conf->relatch) != 0)
			return conf_fail(ctx, sec, k->name, val, "expected ssrc, any or never");
		return 0;
	case KEY_DSCP:
		return conf_parse_dscp(ctx, sec, k->name, val, &conf->dscp);
	case KEY_DENIED_PEERS:
	case KEY_ALLOWED_PEERS:
		return conf_parse_peers(ctx, sec, k->name, val, &conf->policy,
					k->type == KEY_ALLOWED_PEERS);
	case KEY_METRICS_LISTEN:
		return conf_parse_listen(ctx, sec, k->name, val, &conf->metrics);
	case KEY_LOG_FORMAT:
		if (strcmp(val, "text") == 0)
			conf->log_format = DUET_LOG_TEXT;
		else if (strcmp(val, "json") == 0)
			conf->log_format = DUET_LOG_JSON;
		else
			return conf_fail(ctx, sec, k->name, val, "expected text or json");
		return 0;
	case KEY_SRTP_ENGINE:
		if (strcmp(val, "burst") == 0)
			conf->srtp_engine = DUET_CONF_SRTP_BURST;
		else if (strcmp(val, "libsrtp2") == 0)
			conf->srtp_engine = DUET_CONF_SRTP_LIBSRTP2;
		else
			return conf_fail(ctx, sec, k->name, val, "expected burst or libsrtp2");
		return 0;
	case KEY_YES_NO:
		return conf_parse_yes_no(ctx, sec, k->name, val, (bool *)((char *)conf + k->off));
	}
	return conf_fail(ctx, sec, k->name, NULL, "internal error: unhandled key type");
}

/*
 * Apply one section's entries. seen tracks keys already set so a key written
 * twice is refused (rte_cfgfile keeps both and would return the first).
 */
static int
load_section(struct conf_ctx *ctx, const char *sec, const struct key_def *keys,
	     const struct rte_cfgfile_entry *entries, int n_entries, bool *seen,
	     struct duet_conf *conf, struct duet_conf_port *port)
{
	const struct key_def *k;
	int i, ret;

	for (i = 0; i < n_entries; i++) {
		const char *name = entries[i].name;
		const char *val = entries[i].value;
		const char *got = conf_is_password_key(name) ? NULL : val;

		for (k = keys; k->name != NULL; k++)
			if (strcmp(k->name, name) == 0)
				break;
		if (k->name == NULL)
			return conf_fail(ctx, sec, name, got, "unknown key");
		if (seen[k - keys])
			return conf_fail(ctx, sec, name, got, "set twice in this section");
		seen[k - keys] = true;
		ret = set_key(ctx, sec, k, val, conf, port);
		if (ret != 0)
			return ret;
	}
	return 0;
}

static unsigned int
key_index(const struct key_def *keys, const char *name)
{
	unsigned int i;

	for (i = 0; keys[i].name != NULL; i++)
		if (strcmp(keys[i].name, name) == 0)
			break;
	return i;
}

static int
check_required(struct conf_ctx *ctx, const char *sec, const struct key_def *keys, const bool *seen)
{
	const struct key_def *k;

	for (k = keys; k->name != NULL; k++)
		if (k->required && !seen[k - keys])
			return conf_fail(ctx, sec, k->name, NULL, "required key is missing");
	return 0;
}

_Static_assert(DUET_CONF_PORT_NAME_MAX < sizeof(((struct duet_conf_port *)0)->name),
	       "struct duet_conf_port's name holds the longest ethdev name");

/* "[port NAME]" -> NAME: present, no spaces, at most DUET_CONF_PORT_NAME_MAX
 * characters, not seen before. name holds DUET_CONF_PORT_NAME_MAX + 1. */
static int
port_name(struct conf_ctx *ctx, const char *sec, const struct duet_conf *conf, char *name)
{
	const char *p = sec + strlen(PORT_PREFIX);
	unsigned int i;

	if (*p != '\0' && *p != ' ' && *p != '\t')
		return conf_fail(ctx, sec, NULL, NULL, "unknown section");
	p = conf_skip_spaces(p);
	if (*p == '\0')
		return conf_fail(ctx, sec, NULL, NULL,
				 "missing ethdev name; write [port <ethdev name>]");
	for (i = 0; p[i] != '\0'; i++)
		if (!isgraph((unsigned char)p[i]))
			return conf_fail(ctx, sec, NULL, NULL,
					 "ethdev name must not contain spaces");
	if (strlen(p) > DUET_CONF_PORT_NAME_MAX)
		return conf_fail(ctx, sec, NULL, p, "ethdev name longer than %d characters",
				 DUET_CONF_PORT_NAME_MAX);
	for (i = 0; i < conf->n_ports; i++)
		if (strcmp(conf->ports[i].name, p) == 0)
			return conf_fail(ctx, sec, NULL, NULL, "port %s has two sections", p);
	strcpy(name, p);
	return 0;
}

/*
 * A port's next hop (gateway or gateway6, already of the key's family), if
 * set: the port needs a service address of that family to reach it from
 * (the source of ARP or of neighbour discovery), and it must be another
 * host. port is conf->ports[conf->n_ports], being loaded.
 */
static int
check_gateway(struct conf_ctx *ctx, const char *sec, const char *key,
	      const struct duet_conf *conf, const struct duet_conf_port *port,
	      const struct duet_addr *gw)
{
	char text[DUET_ADDR_STRLEN];
	unsigned int i;

	if (gw->family == DUET_AF_NONE)
		return 0;
	duet_addr_format(gw, text, sizeof(text));
	for (i = 0; i < port->n_addrs; i++)
		if (port->addrs[i].family == gw->family)
			break;
	if (i == port->n_addrs)
		return conf_fail(ctx, sec, key, text,
				 gw->family == DUET_AF_INET4 ?
				 "the port has no IPv4 service address to send ARP from; add "
				 "one to addresses or remove gateway" :
				 "the port has no IPv6 service address, which neighbour "
				 "discovery needs as its source; add one to addresses or "
				 "remove gateway6");
	if (conf_owner_of(conf, conf->n_ports + 1, gw) != NULL)
		return conf_fail(ctx, sec, key, text,
				 "is a service address; the gateway is another host");
	return 0;
}

static int
load_port(struct conf_ctx *ctx, const char *sec, const struct rte_cfgfile_entry *entries,
	  int n_entries, struct duet_conf *conf)
{
	bool seen[MAX_SECTION_KEYS] = {false};
	struct duet_conf_port *port;
	int ret;

	if (conf->n_ports == DUET_CONF_MAX_PORTS)
		return conf_fail(ctx, sec, NULL, NULL, "more than %d port sections",
				 DUET_CONF_MAX_PORTS);
	port = &conf->ports[conf->n_ports];
	memset(port, 0, sizeof(*port));
	ret = port_name(ctx, sec, conf, port->name);
	if (ret != 0)
		return ret;
	port->rx_desc = 1024;
	port->tx_desc = 1024;
	ret = load_section(ctx, sec, port_keys, entries, n_entries, seen, conf, port);
	if (ret != 0)
		return ret;
	ret = check_required(ctx, sec, port_keys, seen);
	if (ret != 0)
		return ret;
	ret = check_gateway(ctx, sec, "gateway", conf, port, &port->gateway);
	if (ret == 0)
		ret = check_gateway(ctx, sec, "gateway6", conf, port, &port->gateway6);
	if (ret != 0)
		return ret;
	conf->n_ports++;
	return 0;
}

/* Checks that involve more than one key; run once every section is read. */
static int
check_whole(struct conf_ctx *ctx, const struct duet_conf *conf, const bool *relay_seen)
{
	char got[48];

	if (conf->port_max < conf->port_min) {
		snprintf(got, sizeof(got), "%u", conf->port_max);
		return conf_fail(ctx, "media", "port_max", got, "must be >= port_min (%u)",
				 conf->port_min);
	}
	if (conf->heartbeat_ttl_ms <= conf->stats_interval_ms) {
		snprintf(got, sizeof(got), "%u%s", conf->heartbeat_ttl_ms,
			 relay_seen[key_index(relay_keys, "heartbeat_ttl_ms")] ? "" :
			 ", the default");
		return conf_fail(ctx, "relay", "heartbeat_ttl_ms", got,
				 "must be greater than stats_interval_ms (%u), or the relay "
				 "expires between two heartbeats", conf->stats_interval_ms);
	}
	if (conf->n_ports == 0)
		return conf_fail(ctx, "port <ethdev name>", NULL, NULL,
				 "at least one port section is required");
	return 0;
}

/* allowed_peers only makes exceptions to denied_peers: an entry inside no
 * denied_peers prefix would do nothing, which is almost always a mistake. */
static int
check_peers(struct conf_ctx *ctx, const struct duet_policy *pol)
{
	char net[DUET_CIDR_STRLEN];
	unsigned int a, d;

	for (a = 0; a < pol->n_allowed; a++) {
		const struct duet_cidr *c = &pol->allowed[a];
		struct duet_addr first = {.family = c->family};
		bool inside = false;

		memcpy(first.ip, c->ip, sizeof(first.ip));
		for (d = 0; d < pol->n_denied && !inside; d++)
			inside = pol->denied[d].len <= c->len &&
				 duet_cidr_match(&pol->denied[d], &first);
		if (inside)
			continue;
		if (duet_cidr_format(c, net, sizeof(net)) != 0)
			snprintf(net, sizeof(net), "?");
		return conf_fail(ctx, "security", "allowed_peers", net,
				 "%s is inside no denied_peers entry (allowed_peers only makes "
				 "exceptions to denied_peers)", net);
	}
	return 0;
}

/*
 * Build the source policy now that the whole file is read: the built-in
 * classes, less fe80::/10 if [security] ipv6_link_local_peers opened it
 * (duet_policy_init_ex, which empties the table, so it runs first), then
 * the denied_peers and allowed_peers entries the parsers collected in
 * conf->policy. The service addresses join last (add_own_addresses).
 */
static void
build_policy(struct duet_conf *conf)
{
	const struct duet_policy *parsed = &conf->policy;
	struct duet_policy p; /* a few KB, on the main thread's stack */
	unsigned int i;

	duet_policy_init_ex(&p, parsed->link_local6);
	/* Same capacity as the table they were parsed into: cannot fail. */
	for (i = 0; i < parsed->n_denied; i++)
		(void)duet_policy_add_cidr(&p, &parsed->denied[i], false);
	for (i = 0; i < parsed->n_allowed; i++)
		(void)duet_policy_add_cidr(&p, &parsed->allowed[i], true);
	conf->policy = p;
}

/* Every service address joins the source policy: the relay never sends to
 * itself. */
static int
add_own_addresses(struct conf_ctx *ctx, struct duet_conf *conf)
{
	unsigned int p, i;

	for (p = 0; p < conf->n_ports; p++)
		for (i = 0; i < conf->ports[p].n_addrs; i++)
			if (duet_policy_add_own(&conf->policy, &conf->ports[p].addrs[i]) != 0)
				return conf_fail(ctx, "port", NULL, NULL,
						 "too many service addresses");
	return 0;
}

/* DUET_REDIS_PASSWORD, when set and not empty, wins over the file. */
static int
apply_password_env(struct conf_ctx *ctx, struct duet_conf *conf)
{
	const char *env = getenv(PASSWORD_ENV);

	if (env == NULL || *env == '\0')
		return 0;
	if (strlen(env) >= sizeof(conf->redis.password))
		return conf_fail(ctx, "redis", CONF_PASSWORD_KEY, NULL,
				 "environment %s is longer than %zu characters", PASSWORD_ENV,
				 sizeof(conf->redis.password) - 1);
	strcpy(conf->redis.password, env);
	return 0;
}

static int
load_sections(struct conf_ctx *ctx, struct rte_cfgfile *cfg, struct duet_conf *conf)
{
	struct section_seen relay = {0}, media = {0}, redis = {0}, security = {0};
	struct section_seen metrics = {0}, log = {0}, privacy = {0}, srtp = {0};
	struct rte_cfgfile_entry *entries = NULL;
	char sec[CFG_NAME_LEN];
	int n_sections, s, n, ret = 0;

	n_sections = rte_cfgfile_num_sections(cfg, NULL, 0);
	for (s = 0; s < n_sections && ret == 0; s++) {
		struct section_seen *single = NULL;
		const struct key_def *keys = NULL;

		n = rte_cfgfile_section_num_entries_by_index(cfg, sec, s);
		if (n < 0)
			return conf_fail(ctx, "?", NULL, NULL, "cannot read section %d", s);
		free(entries);
		entries = calloc((size_t)n + 1, sizeof(*entries));
		if (entries == NULL) {
			ret = -ENOMEM;
			break;
		}
		n = rte_cfgfile_section_entries_by_index(cfg, s, sec, entries, n);

		if (strcmp(sec, "relay") == 0) {
			single = &relay;
			keys = relay_keys;
		} else if (strcmp(sec, "media") == 0) {
			single = &media;
			keys = media_keys;
		} else if (strcmp(sec, "redis") == 0) {
			single = &redis;
			keys = redis_keys;
		} else if (strcmp(sec, "security") == 0) {
			single = &security;
			keys = security_keys;
		} else if (strcmp(sec, "metrics") == 0) {
			single = &metrics;
			keys = metrics_keys;
		} else if (strcmp(sec, "log") == 0) {
			single = &log;
			keys = log_keys;
		} else if (strcmp(sec, "privacy") == 0) {
			single = &privacy;
			keys = privacy_keys;
		} else if (strcmp(sec, "srtp") == 0) {
			single = &srtp;
			keys = srtp_keys;
		} else if (strncmp(sec, PORT_PREFIX, strlen(PORT_PREFIX)) == 0) {
			ret = load_port(ctx, sec, entries, n, conf);
			continue;
		} else {
			ret = conf_fail(ctx, sec, NULL, NULL,
					"unknown section; expected relay, media, redis, "
					"security, srtp, metrics, log, privacy or port <ethdev name>");
			break;
		}
		if (single->present) {
			ret = conf_fail(ctx, sec, NULL, NULL, "section appears twice");
			break;
		}
		single->present = true;
		ret = load_section(ctx, sec, keys, entries, n, single->keys, conf, NULL);
	}
	free(entries);
	if (ret != 0)
		return ret;
	ret = check_required(ctx, "relay", relay_keys, relay.keys);
	if (ret == 0)
		ret = check_required(ctx, "media", media_keys, media.keys);
	if (ret == 0)
		ret = check_required(ctx, "redis", redis_keys, redis.keys);
	if (ret == 0)
		ret = check_whole(ctx, conf, relay.keys);
	if (ret == 0)
		ret = check_peers(ctx, &conf->policy);
	if (ret == 0) {
		build_policy(conf);
		ret = add_own_addresses(ctx, conf);
	}
	return ret;
}

int
duet_conf_check_workers(const struct duet_conf *conf, const char *path,
			duet_conf_lcore_enabled_fn enabled, unsigned int main_lcore, char *err,
			size_t errlen)
{
	struct conf_ctx ctx = {.path = path, .err = err, .errlen = errlen};
	unsigned int i;

	for (i = 0; i < conf->n_workers; i++) {
		unsigned int lc = conf->workers[i];

		if (lc >= RTE_MAX_LCORE || !enabled(lc))
			return conf_fail(&ctx, "relay", "workers", NULL,
					 "lcore %u is not enabled in EAL (add it to -l)", lc);
		if (lc == main_lcore)
			return conf_fail(&ctx, "relay", "workers", NULL,
					 "lcore %u is the main lcore, which runs the control "
					 "thread", lc);
	}
	return 0;
}

void
duet_conf_defaults(struct duet_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->max_pairs = 65536;
	conf->idle_timeout_ms = 60000;
	conf->relatch_silence_ms = 2000;
	conf->stats_interval_ms = 1000;
	conf->heartbeat_ttl_ms = 5000;
	conf->resync_hold_percent = 50;
	conf->idle_poll_us = 0;
	conf->relatch = DUET_RELATCH_SSRC;
	conf->ttl = 64;
	conf->dscp = 46; /* EF, RFC 3246: what voice is marked with */
	conf->security.max_pps = 500;
	conf->security.max_kbps = 1000;
	conf->security.police_burst_ms = 200;
	conf->security.budget_no_pair_pps = 20000;
	conf->security.budget_unlatched_pps = 20000;
	conf->security.budget_icmp_pps = 100;
	conf->security.budget_arp_pps = 100;
	conf->security.srtp_max_ssrc = 4;
	duet_policy_init(&conf->policy);
	conf->redis.connect_timeout_ms = 1000;
	conf->link_wait_ms = 10000;
	/* Prometheus on loopback: on by default, reachable only from the host. */
	conf->metrics.enabled = true;
	(void)duet_addr_parse("127.0.0.1:9465", &conf->metrics.addr);
	conf->log_format = DUET_LOG_TEXT;
	conf->srtp_engine = DUET_CONF_SRTP_AUTO;
	conf->privacy.allow_capture = false;
}

int
duet_conf_load(const char *path, struct duet_conf *conf, char *err, size_t errlen)
{
	struct conf_ctx ctx = {.path = path, .err = err, .errlen = errlen};
	struct rte_cfgfile *cfg;
	struct duet_conf *tmp;
	int ret;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || conf == NULL)
		return -EINVAL;
	ret = conf_scan_file(&ctx);
	if (ret != 0)
		return ret;
	/* The scan has refused everything rte_cfgfile fails on but a race or ENOMEM. */
	cfg = rte_cfgfile_load(path, CFG_FLAG_EMPTY_VALUES);
	if (cfg == NULL) {
		conf_message(&ctx, "%s: rte_cfgfile could not load the file", path);
		return -EINVAL;
	}
	/* Validate into a scratch copy so conf is only written when all is well. */
	tmp = malloc(sizeof(*tmp));
	if (tmp == NULL) {
		rte_cfgfile_close(cfg);
		return -ENOMEM;
	}
	duet_conf_defaults(tmp);
	ret = load_sections(&ctx, cfg, tmp);
	rte_cfgfile_close(cfg);
	if (ret == 0)
		ret = apply_password_env(&ctx, tmp);
	if (ret == 0)
		*conf = *tmp;
	/* The scratch copy may hold the password. */
	memset(tmp, 0, sizeof(*tmp));
	free(tmp);
	return ret;
}
