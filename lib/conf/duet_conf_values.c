/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_conf_values: the parsers of single config values (numbers, lcore
 * lists, the relay id, the Redis address (lib/util's duet_parse_redis_addr,
 * the grammar --redis shares) and credentials, service addresses of both
 * families, the IPv4 and IPv6 gateways, descriptor counts, DSCP, CIDR
 * lists). Each takes the raw value with its section and key, and either
 * stores it or refuses it with conf_fail(), so every message names where
 * the value came from. They know nothing of which key uses them: that is
 * the schema's (duet_conf.c).
 * Runs once on the main thread while duetd loads its config; needs no EAL.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"
#include "duet_cidr.h"
#include "duet_parse.h"

#define LCORE_LIMIT 1024 /* RTE_MAX_LCORE upper bound; EAL checks the real one */

int
conf_parse_uint(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*val == '\0')
		return conf_fail(ctx, sec, key, val,
				 "empty; expected an integer %" PRIu64 "..%" PRIu64, min, max);
	if (*val == '-')
		return conf_fail(ctx, sec, key, val, "must not be negative; expected %" PRIu64
				 "..%" PRIu64, min, max);
	if (!isdigit((unsigned char)*val))
		return conf_fail(ctx, sec, key, val, "not a decimal integer");
	errno = 0;
	v = strtoull(val, &end, 10);
	if (*end != '\0')
		return conf_fail(ctx, sec, key, val, "trailing characters after the number");
	if (errno == ERANGE || v < min || v > max)
		return conf_fail(ctx, sec, key, val, "out of range %" PRIu64 "..%" PRIu64, min,
				 max);
	*out = v;
	return 0;
}

/* A number in a list: digits only, may be followed by anything. */
static int
parse_list_number(const char **pp, unsigned long *out)
{
	const char *p = *pp;
	char *end;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	*out = strtoul(p, &end, 10);
	if (errno == ERANGE)
		*out = ULONG_MAX;
	*pp = end;
	return 0;
}

const char *
conf_skip_spaces(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* "1", "1-3", "1,3,5", "1-2, 4": lcore ids, each below 1024, no repeats. */
int
conf_parse_workers(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		   struct duet_conf *conf)
{
	uint64_t seen[LCORE_LIMIT / 64] = {0};
	const char *p = val;
	unsigned long lo, hi, id;

	conf->n_workers = 0;
	if (*conf_skip_spaces(p) == '\0')
		return conf_fail(ctx, sec, key, val, "empty; expected an lcore list like 1-3,5");
	for (;;) {
		p = conf_skip_spaces(p);
		if (parse_list_number(&p, &lo) != 0)
			return conf_fail(ctx, sec, key, val,
					 "not an lcore list; "
					 "expected numbers and ranges like 1-3,5");
		p = conf_skip_spaces(p);
		hi = lo;
		if (*p == '-') {
			p = conf_skip_spaces(p + 1);
			if (parse_list_number(&p, &hi) != 0)
				return conf_fail(ctx, sec, key, val,
						 "range without an end; expected like 1-3");
			p = conf_skip_spaces(p);
		}
		if (lo >= LCORE_LIMIT || hi >= LCORE_LIMIT)
			return conf_fail(ctx, sec, key, val, "lcore id out of range 0..%d",
					 LCORE_LIMIT - 1);
		if (hi < lo)
			return conf_fail(ctx, sec, key, val, "range %lu-%lu runs backwards", lo,
					 hi);
		for (id = lo; id <= hi; id++) {
			if (seen[id / 64] & (UINT64_C(1) << (id % 64)))
				return conf_fail(ctx, sec, key, val, "lcore %lu listed twice", id);
			if (conf->n_workers == DUET_CONF_MAX_WORKERS)
				return conf_fail(ctx, sec, key, val, "more than %d workers",
						 DUET_CONF_MAX_WORKERS);
			seen[id / 64] |= UINT64_C(1) << (id % 64);
			conf->workers[conf->n_workers++] = (unsigned int)id;
		}
		if (*p == '\0')
			return 0;
		if (*p != ',')
			return conf_fail(ctx, sec, key, val,
					 "unexpected '%c'; "
					 "expected numbers and ranges like 1-3,5", *p);
		p++;
	}
}

int
conf_parse_relay_id(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		    struct duet_conf *conf)
{
	size_t n = strlen(val), i;

	if (n == 0 || n > DUET_CONF_RELAY_ID_MAX)
		return conf_fail(ctx, sec, key, val, "must be 1..%d characters",
				 DUET_CONF_RELAY_ID_MAX);
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)val[i]) && val[i] != '_' && val[i] != '-')
			return conf_fail(ctx, sec, key, val,
					 "only letters, digits, '_' and '-' are allowed");
	memcpy(conf->relay_id, val, n + 1);
	return 0;
}

/* The one Redis address grammar (lib/util), with its reason in the message. */
int
conf_parse_redis_address(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
			 struct duet_conf_redis *r)
{
	struct duet_redis_addr a;
	const char *why = NULL;

	_Static_assert(sizeof(r->unix_path) == sizeof(a.unix_path), "unix path sizes differ");
	_Static_assert(sizeof(r->host) == sizeof(a.host), "host sizes differ");
	_Static_assert(sizeof(r->nodes) == sizeof(a.nodes), "node lists differ");
	r->kind = DUET_REDIS_ADDR_SERVER;
	r->unix_path[0] = '\0';
	r->host[0] = '\0';
	r->port = 0;
	r->master_name[0] = '\0';
	r->n_nodes = 0;
	if (duet_parse_redis_addr(val, &a, &why) != 0)
		return conf_fail(ctx, sec, key, val, "%s", why);
	r->kind = a.kind;
	memcpy(r->unix_path, a.unix_path, sizeof(r->unix_path));
	memcpy(r->host, a.host, sizeof(r->host));
	r->port = a.port;
	memcpy(r->master_name, a.master_name, sizeof(r->master_name));
	memcpy(r->nodes, a.nodes, sizeof(r->nodes));
	r->n_nodes = a.n_nodes;
	return 0;
}

/* user and password: printable, no spaces, bounded; the password never shown. */
int
conf_parse_credential(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		      char *dst, size_t dstlen)
{
	const char *got = conf_is_password_key(key) ? NULL : val;
	const char *p;

	if (strlen(val) >= dstlen)
		return conf_fail(ctx, sec, key, got, "longer than %zu characters", dstlen - 1);
	for (p = val; *p != '\0'; p++)
		if (!isgraph((unsigned char)*p))
			return conf_fail(ctx, sec, key, got,
					 "must not contain spaces or control characters");
	strcpy(dst, val);
	return 0;
}

/* An IPv4 service address or gateway: a single unicast IP a host could own. */
static bool
usable_unicast4(const struct duet_addr *a)
{
	return a->ip[0] != 0 && a->ip[0] != 127 && a->ip[0] < 224;
}

/* The IPv6 classes no service address or next hop may be in, and why; the
 * same classes lib/policy refuses as sources. */
enum v6_class {
	V6_GLOBAL = 0, /* none of the below: usable */
	V6_UNSPECIFIED,
	V6_LOOPBACK,
	V6_MULTICAST,
	V6_LINK_LOCAL,
	V6_MAPPED,
};

static enum v6_class
v6_class_of(const struct duet_addr *a)
{
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (memcmp(a->ip, zero, 16) == 0)
		return V6_UNSPECIFIED;
	if (memcmp(a->ip, zero, 15) == 0 && a->ip[15] == 1)
		return V6_LOOPBACK;
	if (a->ip[0] == 0xff)
		return V6_MULTICAST;
	if (a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80)
		return V6_LINK_LOCAL;
	if (memcmp(a->ip, mapped, sizeof(mapped)) == 0)
		return V6_MAPPED;
	return V6_GLOBAL;
}

static const char *
v6_class_words(enum v6_class c)
{
	switch (c) {
	case V6_UNSPECIFIED:
		return "is the unspecified address ::, which no host owns";
	case V6_LOOPBACK:
		return "is the loopback address ::1";
	case V6_MULTICAST:
		return "is multicast (ff00::/8), not a unicast address";
	case V6_LINK_LOCAL:
		return "is link-local (fe80::/10); a service address must be reachable by "
		       "callers off-link";
	case V6_MAPPED:
		return "is IPv4-mapped (::ffff:0:0/96), which never appears on the wire; "
		       "write the IPv4 address itself";
	case V6_GLOBAL:
		break;
	}
	return "is usable";
}

/* Is ip a service address of a port before this one? Which one, then. */
const struct duet_conf_port *
conf_owner_of(const struct duet_conf *conf, unsigned int n_ports, const struct duet_addr *ip)
{
	unsigned int p, i;

	for (p = 0; p < n_ports; p++)
		for (i = 0; i < conf->ports[p].n_addrs; i++)
			if (duet_addr_same_ip(&conf->ports[p].addrs[i], ip))
				return &conf->ports[p];
	return NULL;
}

/*
 * Copy the next entry of a comma-separated list into item, spaces trimmed,
 * and move *pp past its comma, or to NULL after the last entry.
 * @return 0, -ENODATA if the entry is empty, or -E2BIG if it does not fit
 *         item; then *pp is left at the entry, for the message.
 */
static int
next_entry(const char **pp, char *item, size_t size)
{
	const char *p = conf_skip_spaces(*pp);
	const char *end = strchr(p, ',');
	size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	*pp = p;
	if (n == 0)
		return -ENODATA;
	if (n >= size)
		return -E2BIG;
	memcpy(item, p, n);
	item[n] = '\0';
	*pp = end != NULL ? end + 1 : NULL;
	return 0;
}

/*
 * "192.0.2.1, 2001:db8::1": 1..16 addresses of either family, mixed freely,
 * unique across all ports (an IPv4 and an IPv6 address are never the same).
 */
int
conf_parse_addresses(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		     struct duet_conf *conf, struct duet_conf_port *port)
{
	unsigned int port_idx = (unsigned int)(port - conf->ports);
	char item[DUET_ADDR_STRLEN];
	const char *p = val;
	const struct duet_conf_port *other;
	struct duet_addr a;
	unsigned int i;
	int ret;

	port->n_addrs = 0;
	while (p != NULL) {
		ret = next_entry(&p, item, sizeof(item));
		if (ret == -ENODATA)
			return conf_fail(ctx, sec, key, val, "empty entry; expected IP addresses "
					 "separated by commas");
		if (ret != 0)
			return conf_fail(ctx, sec, key, val, "'%.*s...' is not an IP address", 20,
					 p);
		if (duet_addr_parse_ip(item, &a) != 0)
			return conf_fail(ctx, sec, key, val, "'%s' is not an IP address", item);
		if (a.family == DUET_AF_INET6 && v6_class_of(&a) != V6_GLOBAL)
			return conf_fail(ctx, sec, key, val, "'%s' %s", item,
					 v6_class_words(v6_class_of(&a)));
		if (a.family == DUET_AF_INET4 && !usable_unicast4(&a))
			return conf_fail(ctx, sec, key, val, "'%s' is not a usable unicast address",
					 item);
		for (i = 0; i < port->n_addrs; i++)
			if (duet_addr_same_ip(&port->addrs[i], &a))
				return conf_fail(ctx, sec, key, val, "%s is listed twice", item);
		other = conf_owner_of(conf, port_idx, &a);
		if (other != NULL)
			return conf_fail(ctx, sec, key, val,
					 "%s is already a service address of [port %s]", item,
					 other->name);
		if (port->n_addrs == DUET_CONF_MAX_ADDRS)
			return conf_fail(ctx, sec, key, val, "more than %d addresses",
					 DUET_CONF_MAX_ADDRS);
		port->addrs[port->n_addrs++] = a;
	}
	return 0;
}

/* gateway: the IPv4 next hop. An IPv6 one has a key of its own, gateway6. */
int
conf_parse_gateway(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		   struct duet_conf_port *port)
{
	struct duet_addr a;

	if (duet_addr_parse_ip(val, &a) != 0)
		return conf_fail(ctx, sec, key, val, "not an IP address");
	if (a.family == DUET_AF_INET6)
		return conf_fail(ctx, sec, key, val,
				 "is an IPv6 address; gateway is the IPv4 next hop, write an "
				 "IPv6 one in gateway6");
	if (!usable_unicast4(&a))
		return conf_fail(ctx, sec, key, val, "not a usable unicast address");
	port->gateway = a;
	return 0;
}

/*
 * gateway6: the IPv6 next hop, global unicast or link-local (routers
 * usually advertise themselves from fe80::), resolved with NDP.
 */
int
conf_parse_gateway6(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		    struct duet_conf_port *port)
{
	struct duet_addr a;
	enum v6_class c;

	if (duet_addr_parse_ip(val, &a) != 0)
		return conf_fail(ctx, sec, key, val, "not an IPv6 address");
	if (a.family == DUET_AF_INET4)
		return conf_fail(ctx, sec, key, val,
				 "is an IPv4 address; gateway6 is the IPv6 next hop, write an "
				 "IPv4 one in gateway");
	c = v6_class_of(&a);
	if (c != V6_GLOBAL && c != V6_LINK_LOCAL)
		return conf_fail(ctx, sec, key, val, "%s", v6_class_words(c));
	port->gateway6 = a;
	return 0;
}

int
conf_parse_desc(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		uint16_t *out)
{
	uint64_t v;
	int ret;

	ret = conf_parse_uint(ctx, sec, key, val, 64, 16384, &v);
	if (ret != 0)
		return ret;
	if ((v & (v - 1)) != 0)
		return conf_fail(ctx, sec, key, val, "must be a power of two");
	*out = (uint16_t)v;
	return 0;
}

/* "46", or "keep" for the caller's own DSCP. */
int
conf_parse_dscp(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		uint32_t *out)
{
	uint64_t v;
	int ret;

	if (strcmp(val, "keep") == 0) {
		*out = DUET_CONF_DSCP_KEEP;
		return 0;
	}
	if (*val != '\0' && !isdigit((unsigned char)*val))
		return conf_fail(ctx, sec, key, val, "expected a DSCP 0..63 or keep");
	ret = conf_parse_uint(ctx, sec, key, val, 0, 63, &v);
	if (ret == 0)
		*out = (uint32_t)v;
	return ret;
}

/*
 * "192.0.2.0/24, 203.0.113.7": CIDR prefixes for the source policy, each
 * listed once. That allowed_peers entries lie inside denied_peers is
 * checked once the whole file is read (check_peers in duet_conf.c), in any key order.
 */
int
conf_parse_peers(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		 struct duet_policy *pol, bool allow)
{
	char item[DUET_CIDR_STRLEN];
	const char *p = val, *bad = NULL;
	struct duet_cidr c;
	unsigned int i, n_list;
	const struct duet_cidr *list;
	int ret;

	if (*val == '\0')
		return 0; /* none */
	while (p != NULL) {
		ret = next_entry(&p, item, sizeof(item));
		if (ret == -ENODATA)
			return conf_fail(ctx, sec, key, val, "empty entry; expected CIDR prefixes "
					 "(192.0.2.0/24) separated by commas");
		if (ret != 0)
			return conf_fail(ctx, sec, key, val, "'%.*s...' is not a CIDR prefix", 20,
					 p);
		if (duet_cidr_parse(item, &c, &bad) != 0)
			return conf_fail(ctx, sec, key, val, "'%s' is not a CIDR prefix: %s", item,
					 bad);
		list = allow ? pol->allowed : pol->denied;
		n_list = allow ? pol->n_allowed : pol->n_denied;
		for (i = 0; i < n_list; i++)
			if (memcmp(&list[i], &c, sizeof(c)) == 0)
				return conf_fail(ctx, sec, key, val, "%s is listed twice", item);
		if (duet_policy_add_cidr(pol, &c, allow) != 0)
			return conf_fail(ctx, sec, key, val, "more than %d entries",
					 DUET_POLICY_MAX_CIDRS);
	}
	return 0;
}

/* [metrics] listen: "off", or an address and port to serve HTTP on. */
int
conf_parse_listen(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		  struct duet_conf_metrics *m)
{
	struct duet_addr a;

	if (strcmp(val, "off") == 0) {
		m->enabled = false;
		return 0;
	}
	if (duet_addr_parse(val, &a) != 0 || a.port == 0)
		return conf_fail(ctx, sec, key, val,
				 "expected off or ADDRESS:PORT (e.g. 127.0.0.1:9465 or "
				 "[::1]:9465), port 1..65535");
	m->enabled = true;
	m->addr = a;
	return 0;
}

/* yes/no switches; nothing else, so a typo is never read as either. */
int
conf_parse_yes_no(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		  bool *out)
{
	if (strcmp(val, "yes") == 0)
		*out = true;
	else if (strcmp(val, "no") == 0)
		*out = false;
	else
		return conf_fail(ctx, sec, key, val, "expected yes or no");
	return 0;
}
