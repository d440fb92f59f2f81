/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_conf: reads duetd's INI config with rte_cfgfile and checks every value
 * before anything is started, so a typo is a clear message at startup rather
 * than a relay that silently does something else. Runs once on the main
 * thread before EAL starts workers; needs no EAL. The endpoint helpers at the
 * end are read-only and may be called from the control thread afterwards.
 *
 * Loading is three passes: a line scan that refuses what rte_cfgfile would
 * silently drop or truncate (lines without '=', text after ']', overlong
 * names and values), then rte_cfgfile_load, then per-section validation
 * into a scratch struct that is copied out only when everything is valid.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>

#include "duet_conf.h"

/* Limits that rte_cfgfile imposes; the line scan enforces them up front. */
#define LINE_MAX_CHARS (CFG_NAME_LEN + CFG_VALUE_LEN) /* fgets buffer is this + 4 */
#define NAME_MAX_CHARS (CFG_NAME_LEN - 1)
#define VALUE_MAX_CHARS (CFG_VALUE_LEN - 1)
#define COMMENT_CHAR CFG_DEFAULT_COMMENT_CHARACTER

#define LCORE_LIMIT 1024 /* RTE_MAX_LCORE upper bound; EAL checks the real one */
#define PORT_PREFIX "port"
#define PASSWORD_ENV "DUET_REDIS_PASSWORD"
#define HIDDEN "<hidden>"

/* Error context: where messages go and which file they are about. */
struct ctx {
	const char *path;
	char *err;
	size_t errlen;
};

/*
 * Write "<path>: [section] key: what (got 'value')" and return -EINVAL.
 * key and got may be NULL. The password's value is never passed as got.
 */
static int __attribute__((format(printf, 5, 6)))
fail(struct ctx *ctx, const char *section, const char *key, const char *got, const char *fmt,
     ...)
{
	char what[DUET_CONF_ERR_MAX];
	va_list ap;

	if (ctx->err == NULL || ctx->errlen == 0)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(ctx->err, ctx->errlen, "%s: [%s]%s%s: %s%s%s%s", ctx->path, section,
		 key != NULL ? " " : "", key != NULL ? key : "", what,
		 got != NULL ? " (got '" : "", got != NULL ? got : "", got != NULL ? "')" : "");
	return -EINVAL;
}

/* Same for errors found by the line scan, which know a line but maybe no key. */
static int __attribute__((format(printf, 4, 5)))
fail_line(struct ctx *ctx, unsigned int lineno, const char *got, const char *fmt, ...)
{
	char what[DUET_CONF_ERR_MAX];
	va_list ap;

	if (ctx->err == NULL || ctx->errlen == 0)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(ctx->err, ctx->errlen, "%s: line %u: %s%s%s%s", ctx->path, lineno, what,
		 got != NULL ? " (got '" : "", got != NULL ? got : "", got != NULL ? "')" : "");
	return -EINVAL;
}

static bool
is_password_key(const char *key)
{
	return strcmp(key, "password") == 0;
}

/* ---- pass 1: line scan ---- */

static char *
strip(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/*
 * Cut the comment the way rte_cfgfile does: only the first ';' counts, and
 * "\;" is a literal ';'. rte_cfgfile does not cut a comment that follows an
 * escaped ';' but keeps it in the value, so such a line is refused.
 * @return 0, or -1 if an unescaped ';' follows an escaped one.
 */
static int
cut_comment(char *line)
{
	char *p = strchr(line, COMMENT_CHAR);

	if (p == NULL)
		return 0;
	if (p == line || p[-1] != '\\') {
		*p = '\0';
		return 0;
	}
	for (p = strchr(p + 1, COMMENT_CHAR); p != NULL; p = strchr(p + 1, COMMENT_CHAR))
		if (p[-1] != '\\')
			return -1;
	return 0;
}

/* Length of a value once rte_cfgfile has turned each "\;" into ";". */
static size_t
unescaped_len(const char *v)
{
	size_t n = 0;

	for (; *v != '\0'; v++)
		if (!(v[0] == '\\' && v[1] == COMMENT_CHAR))
			n++;
	return n;
}

/* The text to show for a bad line: never a password. */
static const char *
shown_line(const char *line)
{
	while (isspace((unsigned char)*line))
		line++;
	return strncmp(line, "password", 8) == 0 ? HIDDEN : line;
}

static int
scan_line(struct ctx *ctx, unsigned int lineno, char *raw, bool *in_section)
{
	char *line, *close, *eq, *key, *val;
	char shown[64];

	/* Keep a short copy for messages, before the line is cut up. */
	snprintf(shown, sizeof(shown), "%s", shown_line(raw));
	strip(shown);
	if (strlen(raw) > LINE_MAX_CHARS)
		return fail_line(ctx, lineno, NULL, "line longer than %d characters",
				 LINE_MAX_CHARS);
	if (cut_comment(raw) != 0)
		return fail_line(ctx, lineno, shown,
				 "a comment after an escaped '\\;' is kept in the value; "
				 "put the comment on its own line");
	line = strip(raw);
	if (*line == '\0')
		return 0;
	if (*line == '[') {
		close = strchr(line, ']');
		if (close == NULL)
			return fail_line(ctx, lineno, shown, "section header without ']'");
		if (*strip(close + 1) != '\0')
			return fail_line(ctx, lineno, shown, "text after the section header");
		*close = '\0';
		key = strip(line + 1);
		if (*key == '\0')
			return fail_line(ctx, lineno, shown, "empty section name");
		if (strlen(key) > NAME_MAX_CHARS)
			return fail_line(ctx, lineno, NULL, "section name longer than %d characters",
					 NAME_MAX_CHARS);
		*in_section = true;
		return 0;
	}
	eq = strchr(line, '=');
	if (eq == NULL)
		return fail_line(ctx, lineno, shown,
				 "expected 'key = value' or '[section]'");
	*eq = '\0';
	key = strip(line);
	val = strip(eq + 1);
	if (*key == '\0')
		return fail_line(ctx, lineno, shown, "no key before '='");
	if (!*in_section)
		return fail_line(ctx, lineno, shown, "key outside any [section]");
	if (strlen(key) > NAME_MAX_CHARS)
		return fail_line(ctx, lineno, NULL, "key longer than %d characters",
				 NAME_MAX_CHARS);
	if (unescaped_len(val) > VALUE_MAX_CHARS)
		return fail_line(ctx, lineno, NULL, "%s: value longer than %d characters", key,
				 VALUE_MAX_CHARS);
	return 0;
}

static int
scan_file(struct ctx *ctx)
{
	bool in_section = false;
	unsigned int lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int ret = 0;

	f = fopen(ctx->path, "r");
	if (f == NULL) {
		int e = errno;

		if (ctx->err != NULL && ctx->errlen > 0)
			snprintf(ctx->err, ctx->errlen, "%s: cannot read config file: %s",
				 ctx->path, strerror(e));
		return -ENOENT;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if ((size_t)n != strlen(line)) {
			ret = fail_line(ctx, lineno, NULL, "contains a NUL byte");
			break;
		}
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		ret = scan_line(ctx, lineno, line, &in_section);
		if (ret != 0)
			break;
	}
	if (ret == 0 && ferror(f)) {
		/* e.g. a directory: fopen succeeds, reading does not */
		if (ctx->err != NULL && ctx->errlen > 0)
			snprintf(ctx->err, ctx->errlen, "%s: cannot read config file: %s",
				 ctx->path, strerror(errno));
		ret = -ENOENT;
	}
	free(line);
	fclose(f);
	return ret;
}

/* ---- value parsers: each returns 0 or fail()'s -EINVAL ---- */

static int
parse_uint(struct ctx *ctx, const char *sec, const char *key, const char *val, uint64_t min,
	   uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*val == '\0')
		return fail(ctx, sec, key, val, "empty; expected an integer %" PRIu64 "..%" PRIu64,
			    min, max);
	if (*val == '-')
		return fail(ctx, sec, key, val, "must not be negative; expected %" PRIu64
			    "..%" PRIu64, min, max);
	if (!isdigit((unsigned char)*val))
		return fail(ctx, sec, key, val, "not a decimal integer");
	errno = 0;
	v = strtoull(val, &end, 10);
	if (*end != '\0')
		return fail(ctx, sec, key, val, "trailing characters after the number");
	if (errno == ERANGE || v < min || v > max)
		return fail(ctx, sec, key, val, "out of range %" PRIu64 "..%" PRIu64, min, max);
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

static const char *
skip_spaces(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* "1", "1-3", "1,3,5", "1-2, 4": lcore ids, each below 1024, no repeats. */
static int
parse_workers(struct ctx *ctx, const char *sec, const char *key, const char *val,
	      struct duet_conf *conf)
{
	uint64_t seen[LCORE_LIMIT / 64] = {0};
	const char *p = val;
	unsigned long lo, hi, id;

	conf->n_workers = 0;
	if (*skip_spaces(p) == '\0')
		return fail(ctx, sec, key, val, "empty; expected an lcore list like 1-3,5");
	for (;;) {
		p = skip_spaces(p);
		if (parse_list_number(&p, &lo) != 0)
			return fail(ctx, sec, key, val,
				    "not an lcore list; expected numbers and ranges like 1-3,5");
		p = skip_spaces(p);
		hi = lo;
		if (*p == '-') {
			p = skip_spaces(p + 1);
			if (parse_list_number(&p, &hi) != 0)
				return fail(ctx, sec, key, val,
					    "range without an end; expected like 1-3");
			p = skip_spaces(p);
		}
		if (lo >= LCORE_LIMIT || hi >= LCORE_LIMIT)
			return fail(ctx, sec, key, val, "lcore id out of range 0..%d",
				    LCORE_LIMIT - 1);
		if (hi < lo)
			return fail(ctx, sec, key, val, "range %lu-%lu runs backwards", lo, hi);
		for (id = lo; id <= hi; id++) {
			if (seen[id / 64] & (UINT64_C(1) << (id % 64)))
				return fail(ctx, sec, key, val, "lcore %lu listed twice", id);
			if (conf->n_workers == DUET_CONF_MAX_WORKERS)
				return fail(ctx, sec, key, val, "more than %d workers",
					    DUET_CONF_MAX_WORKERS);
			seen[id / 64] |= UINT64_C(1) << (id % 64);
			conf->workers[conf->n_workers++] = (unsigned int)id;
		}
		if (*p == '\0')
			return 0;
		if (*p != ',')
			return fail(ctx, sec, key, val,
				    "unexpected '%c'; expected numbers and ranges like 1-3,5", *p);
		p++;
	}
}

static int
parse_relay_id(struct ctx *ctx, const char *sec, const char *key, const char *val,
	       struct duet_conf *conf)
{
	size_t n = strlen(val), i;

	if (n == 0 || n > DUET_CONF_RELAY_ID_MAX)
		return fail(ctx, sec, key, val, "must be 1..%d characters",
			    DUET_CONF_RELAY_ID_MAX);
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)val[i]) && val[i] != '_' && val[i] != '-')
			return fail(ctx, sec, key, val,
				    "only letters, digits, '_' and '-' are allowed");
	memcpy(conf->relay_id, val, n + 1);
	return 0;
}

static bool
all_digits_and_dots(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s) && *s != '.')
			return false;
	return true;
}

/* A DNS name, loosely: what getaddrinfo could resolve, no spaces or junk. */
static bool
valid_hostname(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

static int
parse_tcp_port(const char *s, uint16_t *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* "unix:/path", "a.b.c.d:port", "[v6]:port" or "hostname:port". */
static int
parse_redis_address(struct ctx *ctx, const char *sec, const char *key, const char *val,
		    struct duet_conf_redis *r)
{
	struct duet_addr ip;
	char host[sizeof(r->host)];
	const char *colon, *hs;
	size_t hl;

	r->unix_path[0] = '\0';
	r->host[0] = '\0';
	r->port = 0;
	if (strncmp(val, "unix:", 5) == 0) {
		const char *path = val + 5;

		if (path[0] != '/')
			return fail(ctx, sec, key, val, "unix socket path must be absolute");
		if (strlen(path) >= sizeof(r->unix_path))
			return fail(ctx, sec, key, val,
				    "unix socket path longer than %zu characters",
				    sizeof(r->unix_path) - 1);
		strcpy(r->unix_path, path);
		return 0;
	}
	if (val[0] == '[') {
		const char *close = strchr(val, ']');

		if (close == NULL || close[1] != ':')
			return fail(ctx, sec, key, val, "expected [IPv6]:port");
		hs = val + 1;
		hl = (size_t)(close - hs);
		colon = close + 1;
	} else {
		colon = strrchr(val, ':');
		if (colon == NULL)
			return fail(ctx, sec, key, val,
				    "expected unix:/path, host:port or [IPv6]:port");
		if (memchr(val, ':', (size_t)(colon - val)) != NULL)
			return fail(ctx, sec, key, val,
				    "an IPv6 address needs brackets, e.g. [::1]:6379");
		hs = val;
		hl = (size_t)(colon - val);
	}
	if (hl == 0 || hl >= sizeof(host))
		return fail(ctx, sec, key, val, "host is empty or too long");
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (val[0] == '[') {
		if (duet_addr_parse_ip(host, &ip) != 0 || ip.family != DUET_AF_INET6)
			return fail(ctx, sec, key, val, "not an IPv6 address inside [ ]");
	} else if (all_digits_and_dots(host)) {
		if (duet_addr_parse_ip(host, &ip) != 0)
			return fail(ctx, sec, key, val, "not a valid IPv4 address");
	} else if (!valid_hostname(host)) {
		return fail(ctx, sec, key, val, "not a valid host name");
	}
	if (parse_tcp_port(colon + 1, &r->port) != 0)
		return fail(ctx, sec, key, val, "TCP port must be 1..65535");
	strcpy(r->host, host);
	return 0;
}

/* user and password: printable, no spaces, bounded; the password never shown. */
static int
parse_credential(struct ctx *ctx, const char *sec, const char *key, const char *val, char *dst,
		 size_t dstlen)
{
	const char *got = is_password_key(key) ? NULL : val;
	const char *p;

	if (strlen(val) >= dstlen)
		return fail(ctx, sec, key, got, "longer than %zu characters", dstlen - 1);
	for (p = val; *p != '\0'; p++)
		if (!isgraph((unsigned char)*p))
			return fail(ctx, sec, key, got,
				    "must not contain spaces or control characters");
	strcpy(dst, val);
	return 0;
}

/* A service address or gateway: a single unicast IP a host could own. */
static bool
usable_unicast(const struct duet_addr *a)
{
	static const uint8_t zero[16];

	if (a->family == DUET_AF_INET4)
		return a->ip[0] != 0 && a->ip[0] != 127 && a->ip[0] < 224;
	return memcmp(a->ip, zero, 16) != 0 && a->ip[0] != 0xff &&
	       !(memcmp(a->ip, zero, 15) == 0 && a->ip[15] == 1);
}

/* Is ip a service address of a port before this one? Which one, then. */
static const struct duet_conf_port *
owner_of(const struct duet_conf *conf, unsigned int n_ports, const struct duet_addr *ip)
{
	unsigned int p, i;

	for (p = 0; p < n_ports; p++)
		for (i = 0; i < conf->ports[p].n_addrs; i++)
			if (duet_addr_same_ip(&conf->ports[p].addrs[i], ip))
				return &conf->ports[p];
	return NULL;
}

/* "192.0.2.1, 192.0.2.2": 1..16 IPv4 addresses, unique across all ports. */
static int
parse_addresses(struct ctx *ctx, const char *sec, const char *key, const char *val,
		struct duet_conf *conf, struct duet_conf_port *port)
{
	unsigned int port_idx = (unsigned int)(port - conf->ports);
	char item[DUET_ADDR_STRLEN];
	const char *p = val, *end;
	const struct duet_conf_port *other;
	struct duet_addr a;
	unsigned int i;
	size_t n;

	port->n_addrs = 0;
	for (;;) {
		p = skip_spaces(p);
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0)
			return fail(ctx, sec, key, val, "empty entry; expected IP addresses "
				    "separated by commas");
		if (n >= sizeof(item))
			return fail(ctx, sec, key, val, "'%.*s...' is not an IP address", 20, p);
		memcpy(item, p, n);
		item[n] = '\0';
		if (duet_addr_parse_ip(item, &a) != 0)
			return fail(ctx, sec, key, val, "'%s' is not an IP address", item);
		if (a.family == DUET_AF_INET6)
			return fail(ctx, sec, key, val,
				    "IPv6 service addresses are not supported yet: '%s'", item);
		if (!usable_unicast(&a))
			return fail(ctx, sec, key, val, "'%s' is not a usable unicast address",
				    item);
		for (i = 0; i < port->n_addrs; i++)
			if (duet_addr_same_ip(&port->addrs[i], &a))
				return fail(ctx, sec, key, val, "%s is listed twice", item);
		other = owner_of(conf, port_idx, &a);
		if (other != NULL)
			return fail(ctx, sec, key, val,
				    "%s is already a service address of [port %s]", item,
				    other->name);
		if (port->n_addrs == DUET_CONF_MAX_ADDRS)
			return fail(ctx, sec, key, val, "more than %d addresses",
				    DUET_CONF_MAX_ADDRS);
		port->addrs[port->n_addrs++] = a;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

static int
parse_gateway(struct ctx *ctx, const char *sec, const char *key, const char *val,
	      struct duet_conf_port *port)
{
	struct duet_addr a;

	if (duet_addr_parse_ip(val, &a) != 0)
		return fail(ctx, sec, key, val, "not an IP address");
	if (!usable_unicast(&a))
		return fail(ctx, sec, key, val, "not a usable unicast address");
	port->gateway = a;
	return 0;
}

static int
parse_desc(struct ctx *ctx, const char *sec, const char *key, const char *val, uint16_t *out)
{
	uint64_t v;
	int ret;

	ret = parse_uint(ctx, sec, key, val, 64, 16384, &v);
	if (ret != 0)
		return ret;
	if ((v & (v - 1)) != 0)
		return fail(ctx, sec, key, val, "must be a power of two");
	*out = (uint16_t)v;
	return 0;
}

/* "46", or "keep" for the caller's own DSCP. */
static int
parse_dscp(struct ctx *ctx, const char *sec, const char *key, const char *val, uint32_t *out)
{
	uint64_t v;
	int ret;

	if (strcmp(val, "keep") == 0) {
		*out = DUET_CONF_DSCP_KEEP;
		return 0;
	}
	if (*val != '\0' && !isdigit((unsigned char)*val))
		return fail(ctx, sec, key, val, "expected a DSCP 0..63 or keep");
	ret = parse_uint(ctx, sec, key, val, 0, 63, &v);
	if (ret == 0)
		*out = (uint32_t)v;
	return ret;
}

/*
 * "192.0.2.0/24, 203.0.113.7": CIDR prefixes for the source policy, each
 * listed once. That allowed_peers entries lie inside denied_peers is
 * checked once the whole file is read (check_peers), in any key order.
 */
static int
parse_peers(struct ctx *ctx, const char *sec, const char *key, const char *val,
	    struct duet_policy *pol, bool allow)
{
	char item[DUET_POLICY_CIDR_STRLEN];
	const char *p = val, *end, *bad = NULL;
	struct duet_cidr c;
	unsigned int i, n_list;
	const struct duet_cidr *list;
	size_t n;

	if (*val == '\0')
		return 0; /* none */
	for (;;) {
		p = skip_spaces(p);
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0)
			return fail(ctx, sec, key, val, "empty entry; expected CIDR prefixes "
				    "(192.0.2.0/24) separated by commas");
		if (n >= sizeof(item))
			return fail(ctx, sec, key, val, "'%.*s...' is not a CIDR prefix", 20, p);
		memcpy(item, p, n);
		item[n] = '\0';
		if (duet_cidr_parse(item, &c, &bad) != 0)
			return fail(ctx, sec, key, val, "'%s' is not a CIDR prefix: %s", item, bad);
		list = allow ? pol->allowed : pol->denied;
		n_list = allow ? pol->n_allowed : pol->n_denied;
		for (i = 0; i < n_list; i++)
			if (memcmp(&list[i], &c, sizeof(c)) == 0)
				return fail(ctx, sec, key, val, "%s is listed twice", item);
		if (duet_policy_add_cidr(pol, &c, allow) != 0)
			return fail(ctx, sec, key, val, "more than %d entries",
				    DUET_POLICY_MAX_CIDRS);
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

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
	KEY_RX_DESC,
	KEY_TX_DESC,
	KEY_RELATCH,
	KEY_DSCP,
	KEY_DENIED_PEERS,
	KEY_ALLOWED_PEERS,
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
	{NULL, KEY_U32, false, 0, 0, 0},
};

static const struct key_def redis_keys[] = {
	{"address", KEY_REDIS_ADDRESS, true, 0, 0, 0},
	{"user", KEY_REDIS_USER, false, 0, 0, 0},
	{"password", KEY_REDIS_PASSWORD, false, 0, 0, 0},
	{"connect_timeout_ms", KEY_U32, false, 10, 60000, CONF_OFF(redis.connect_timeout_ms)},
	{NULL, KEY_U32, false, 0, 0, 0},
};

static const struct key_def port_keys[] = {
	{"addresses", KEY_ADDRESSES, true, 0, 0, 0},
	{"gateway", KEY_GATEWAY, false, 0, 0, 0},
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
set_key(struct ctx *ctx, const char *sec, const struct key_def *k, const char *val,
	struct duet_conf *conf, struct duet_conf_port *port)
{
	uint64_t v;
	int ret;

	/*
	 * An empty value means "none" for user, password and gateway; every
	 * other parser refuses it with its own message.
	 */
	switch (k->type) {
	case KEY_U32:
	case KEY_U16:
		ret = parse_uint(ctx, sec, k->name, val, k->min, k->max, &v);
		if (ret != 0)
			return ret;
		if (k->type == KEY_U16)
			*(uint16_t *)((char *)conf + k->off) = (uint16_t)v;
		else
			*(uint32_t *)((char *)conf + k->off) = (uint32_t)v;
		return 0;
	case KEY_RELAY_ID:
		return parse_relay_id(ctx, sec, k->name, val, conf);
	case KEY_WORKERS:
		return parse_workers(ctx, sec, k->name, val, conf);
	case KEY_REDIS_ADDRESS:
		return parse_redis_address(ctx, sec, k->name, val, &conf->redis);
	case KEY_REDIS_USER:
		return parse_credential(ctx, sec, k->name, val, conf->redis.user,
					sizeof(conf->redis.user));
	case KEY_REDIS_PASSWORD:
		return parse_credential(ctx, sec, k->name, val, conf->redis.password,
					sizeof(conf->redis.password));
	case KEY_ADDRESSES:
		return parse_addresses(ctx, sec, k->name, val, conf, port);
	case KEY_GATEWAY:
		if (*val == '\0')
			return 0;
		return parse_gateway(ctx, sec, k->name, val, port);
	case KEY_RX_DESC:
		return parse_desc(ctx, sec, k->name, val, &port->rx_desc);
	case KEY_TX_DESC:
		return parse_desc(ctx, sec, k->name, val, &port->tx_desc);
	case KEY_RELATCH:
		if (duet_relatch_parse(val, &conf->relatch) != 0)
			return fail(ctx, sec, k->name, val, "expected ssrc, any or never");
		return 0;
	case KEY_DSCP:
		return parse_dscp(ctx, sec, k->name, val, &conf->dscp);
	case KEY_DENIED_PEERS:
	case KEY_ALLOWED_PEERS:
		return parse_peers(ctx, sec, k->name, val, &conf->policy,
				   k->type == KEY_ALLOWED_PEERS);
	}
	return fail(ctx, sec, k->name, NULL, "internal error: unhandled key type");
}

/*
 * Apply one section's entries. seen tracks keys already set so a key written
 * twice is refused (rte_cfgfile keeps both and would return the first).
 */
static int
load_section(struct ctx *ctx, const char *sec, const struct key_def *keys,
	     const struct rte_cfgfile_entry *entries, int n_entries, bool *seen,
	     struct duet_conf *conf, struct duet_conf_port *port)
{
	const struct key_def *k;
	int i, ret;

	for (i = 0; i < n_entries; i++) {
		const char *name = entries[i].name;
		const char *val = entries[i].value;
		const char *got = is_password_key(name) ? NULL : val;

		for (k = keys; k->name != NULL; k++)
			if (strcmp(k->name, name) == 0)
				break;
		if (k->name == NULL)
			return fail(ctx, sec, name, got, "unknown key");
		if (seen[k - keys])
			return fail(ctx, sec, name, got, "set twice in this section");
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
check_required(struct ctx *ctx, const char *sec, const struct key_def *keys, const bool *seen)
{
	const struct key_def *k;

	for (k = keys; k->name != NULL; k++)
		if (k->required && !seen[k - keys])
			return fail(ctx, sec, k->name, NULL, "required key is missing");
	return 0;
}

/* "[port NAME]" -> NAME: present, no spaces, fits, not seen before. */
static int
port_name(struct ctx *ctx, const char *sec, const struct duet_conf *conf, char *name,
	  size_t len)
{
	const char *p = sec + strlen(PORT_PREFIX);
	unsigned int i;

	if (*p != '\0' && *p != ' ' && *p != '\t')
		return fail(ctx, sec, NULL, NULL, "unknown section");
	p = skip_spaces(p);
	if (*p == '\0')
		return fail(ctx, sec, NULL, NULL,
			    "missing ethdev name; write [port <ethdev name>]");
	for (i = 0; p[i] != '\0'; i++)
		if (!isgraph((unsigned char)p[i]))
			return fail(ctx, sec, NULL, NULL,
				    "ethdev name must not contain spaces");
	if (strlen(p) >= len)
		return fail(ctx, sec, NULL, NULL, "ethdev name longer than %zu characters",
			    len - 1);
	for (i = 0; i < conf->n_ports; i++)
		if (strcmp(conf->ports[i].name, p) == 0)
			return fail(ctx, sec, NULL, NULL, "port %s has two sections", p);
	strcpy(name, p);
	return 0;
}

static int
load_port(struct ctx *ctx, const char *sec, const struct rte_cfgfile_entry *entries,
	  int n_entries, struct duet_conf *conf)
{
	bool seen[MAX_SECTION_KEYS] = {false};
	struct duet_conf_port *port;
	char gw[DUET_ADDR_STRLEN];
	int ret;

	if (conf->n_ports == DUET_CONF_MAX_PORTS)
		return fail(ctx, sec, NULL, NULL, "more than %d port sections",
			    DUET_CONF_MAX_PORTS);
	port = &conf->ports[conf->n_ports];
	memset(port, 0, sizeof(*port));
	ret = port_name(ctx, sec, conf, port->name, sizeof(port->name));
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
	if (port->gateway.family != DUET_AF_NONE) {
		duet_addr_format(&port->gateway, gw, sizeof(gw));
		if (port->gateway.family != port->addrs[0].family)
			return fail(ctx, sec, "gateway", gw,
				    "must be the same address family as addresses");
		if (owner_of(conf, conf->n_ports + 1, &port->gateway) != NULL)
			return fail(ctx, sec, "gateway", gw,
				    "is a service address; the gateway is another host");
	}
	conf->n_ports++;
	return 0;
}

/* Checks that involve more than one key; run once every section is read. */
static int
check_whole(struct ctx *ctx, const struct duet_conf *conf, const bool *relay_seen)
{
	char got[48];

	if (conf->port_max < conf->port_min) {
		snprintf(got, sizeof(got), "%u", conf->port_max);
		return fail(ctx, "media", "port_max", got, "must be >= port_min (%u)",
			    conf->port_min);
	}
	if (conf->heartbeat_ttl_ms <= conf->stats_interval_ms) {
		snprintf(got, sizeof(got), "%u%s", conf->heartbeat_ttl_ms,
			 relay_seen[key_index(relay_keys, "heartbeat_ttl_ms")] ? "" :
										 ", the default");
		return fail(ctx, "relay", "heartbeat_ttl_ms", got,
			    "must be greater than stats_interval_ms (%u), or the relay "
			    "expires between two heartbeats", conf->stats_interval_ms);
	}
	if (conf->n_ports == 0)
		return fail(ctx, "port <ethdev name>", NULL, NULL,
			    "at least one port section is required");
	return 0;
}

/* allowed_peers only makes exceptions to denied_peers: an entry inside no
 * denied_peers prefix would do nothing, which is almost always a mistake. */
static int
check_peers(struct ctx *ctx, const struct duet_policy *pol)
{
	char net[DUET_POLICY_CIDR_STRLEN];
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
		return fail(ctx, "security", "allowed_peers", net,
			    "%s is inside no denied_peers entry (allowed_peers only makes "
			    "exceptions to denied_peers)", net);
	}
	return 0;
}

/* Every service address joins the source policy: the relay never sends to
 * itself. */
static int
add_own_addresses(struct ctx *ctx, struct duet_conf *conf)
{
	unsigned int p, i;

	for (p = 0; p < conf->n_ports; p++)
		for (i = 0; i < conf->ports[p].n_addrs; i++)
			if (duet_policy_add_own(&conf->policy, &conf->ports[p].addrs[i]) != 0)
				return fail(ctx, "port", NULL, NULL, "too many service addresses");
	return 0;
}

/* DUET_REDIS_PASSWORD, when set and not empty, wins over the file. */
static int
apply_password_env(struct ctx *ctx, struct duet_conf *conf)
{
	const char *env = getenv(PASSWORD_ENV);

	if (env == NULL || *env == '\0')
		return 0;
	if (strlen(env) >= sizeof(conf->redis.password)) {
		if (ctx->err != NULL && ctx->errlen > 0)
			snprintf(ctx->err, ctx->errlen,
				 "%s: [redis] password: environment %s is longer than %zu "
				 "characters", ctx->path, PASSWORD_ENV,
				 sizeof(conf->redis.password) - 1);
		return -EINVAL;
	}
	strcpy(conf->redis.password, env);
	return 0;
}

static int
load_sections(struct ctx *ctx, struct rte_cfgfile *cfg, struct duet_conf *conf)
{
	struct section_seen relay = {0}, media = {0}, redis = {0}, security = {0};
	struct rte_cfgfile_entry *entries = NULL;
	char sec[CFG_NAME_LEN];
	int n_sections, s, n, ret = 0;

	n_sections = rte_cfgfile_num_sections(cfg, NULL, 0);
	for (s = 0; s < n_sections && ret == 0; s++) {
		struct section_seen *single = NULL;
		const struct key_def *keys = NULL;

		n = rte_cfgfile_section_num_entries_by_index(cfg, sec, s);
		if (n < 0)
			return fail(ctx, "?", NULL, NULL, "cannot read section %d", s);
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
		} else if (strncmp(sec, PORT_PREFIX, strlen(PORT_PREFIX)) == 0) {
			ret = load_port(ctx, sec, entries, n, conf);
			continue;
		} else {
			ret = fail(ctx, sec, NULL, NULL,
				   "unknown section; expected relay, media, redis, "
				   "security or port <ethdev name>");
			break;
		}
		if (single->present) {
			ret = fail(ctx, sec, NULL, NULL, "section appears twice");
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
	if (ret == 0)
		ret = add_own_addresses(ctx, conf);
	return ret;
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
}

int
duet_conf_load(const char *path, struct duet_conf *conf, char *err, size_t errlen)
{
	struct ctx ctx = {.path = path, .err = err, .errlen = errlen};
	struct rte_cfgfile *cfg;
	struct duet_conf *tmp;
	int ret;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || conf == NULL)
		return -EINVAL;
	ret = scan_file(&ctx);
	if (ret != 0)
		return ret;
	/* The scan has refused everything rte_cfgfile fails on but a race or ENOMEM. */
	cfg = rte_cfgfile_load(path, CFG_FLAG_EMPTY_VALUES);
	if (cfg == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: rte_cfgfile could not load the file", path);
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

/* ---- relay endpoints: service addresses x media port range ---- */

static uint32_t
ports_per_addr(const struct duet_conf *conf)
{
	if (conf->port_min == 0 || conf->port_max < conf->port_min)
		return 0;
	return (uint32_t)conf->port_max - conf->port_min + 1;
}

int
duet_conf_endpoint_port(const struct duet_conf *conf, const struct duet_addr *ep)
{
	unsigned int p, i;
	uint16_t udp;

	if (conf == NULL || ep == NULL)
		return -EINVAL;
	for (p = 0; p < conf->n_ports; p++)
		for (i = 0; i < conf->ports[p].n_addrs; i++) {
			if (!duet_addr_same_ip(&conf->ports[p].addrs[i], ep))
				continue;
			udp = ntohs(ep->port);
			if (udp < conf->port_min || udp > conf->port_max)
				return -ERANGE;
			return (int)p;
		}
	return -ENOENT;
}

uint64_t
duet_conf_endpoint_count(const struct duet_conf *conf)
{
	uint64_t n_addrs = 0;
	unsigned int p;

	if (conf == NULL)
		return 0;
	for (p = 0; p < conf->n_ports; p++)
		n_addrs += conf->ports[p].n_addrs;
	return n_addrs * ports_per_addr(conf);
}

int
duet_conf_endpoint_at(const struct duet_conf *conf, uint64_t i, struct duet_addr *ep)
{
	uint32_t per_addr;
	uint64_t addr_idx;
	unsigned int p;

	if (conf == NULL || ep == NULL)
		return -EINVAL;
	if (i >= duet_conf_endpoint_count(conf))
		return -ERANGE;
	per_addr = ports_per_addr(conf);
	addr_idx = i / per_addr;
	for (p = 0; p < conf->n_ports; p++) {
		if (addr_idx < conf->ports[p].n_addrs) {
			*ep = conf->ports[p].addrs[addr_idx];
			ep->port = htons((uint16_t)(conf->port_min + i % per_addr));
			return 0;
		}
		addr_idx -= conf->ports[p].n_addrs;
	}
	return -ERANGE;
}
