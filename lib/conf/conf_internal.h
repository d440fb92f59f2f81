/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conf_internal.h: what the files of lib/conf share, for lib/conf only.
 * Data flows one way: duet_conf.c (the schema and the load) calls the line
 * scan (duet_conf_scan.c) and the value parsers (duet_conf_values.c); all
 * three word their errors through duet_conf_err.c. duet_conf_endpoints.c
 * stands apart and reads a loaded struct duet_conf. Everything here runs on
 * the main thread while duetd starts, before any worker.
 */
#ifndef DUET_CONF_INTERNAL_H
#define DUET_CONF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "duet_conf.h"

/* The key whose value no message ever shows. */
#define CONF_PASSWORD_KEY "password"

/* Error context of one load: where messages go and which file they are about. */
struct conf_ctx {
	const char *path;
	char *err;
	size_t errlen;
};

static inline bool
conf_is_password_key(const char *key)
{
	return strcmp(key, CONF_PASSWORD_KEY) == 0;
}

/* ---- duet_conf_err.c: every message; each conf_fail* returns -EINVAL ---- */

/* Write the whole message fmt into ctx->err, if the caller gave a buffer. */
void __attribute__((format(printf, 2, 3)))
conf_message(struct conf_ctx *ctx, const char *fmt, ...);

/*
 * Write "<path>: [section] key: what (got 'value')" and return -EINVAL.
 * key and got may be NULL. The password's value is never passed as got.
 */
int __attribute__((format(printf, 5, 6)))
conf_fail(struct conf_ctx *ctx, const char *section, const char *key, const char *got,
	  const char *fmt, ...);

/* Write "<path>: line N: what (got 'text')", for the line scan, and return -EINVAL. */
int __attribute__((format(printf, 4, 5)))
conf_fail_line(struct conf_ctx *ctx, unsigned int lineno, const char *got, const char *fmt, ...);

/* ---- duet_conf_scan.c ---- */

/*
 * Read ctx->path line by line and refuse what rte_cfgfile would silently
 * drop, truncate or misread. @return 0, -ENOENT (cannot read) or -EINVAL.
 */
int conf_scan_file(struct conf_ctx *ctx);

/* ---- duet_conf_values.c: each parser returns 0 or conf_fail()'s -EINVAL ---- */

const char *conf_skip_spaces(const char *p);

/* Is ip a service address of one of the first n_ports ports? Which one, then. */
const struct duet_conf_port *conf_owner_of(const struct duet_conf *conf, unsigned int n_ports,
					   const struct duet_addr *ip);

int conf_parse_uint(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		    uint64_t min, uint64_t max, uint64_t *out);
int conf_parse_workers(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		       struct duet_conf *conf);
int conf_parse_relay_id(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
			struct duet_conf *conf);
int conf_parse_redis_address(struct conf_ctx *ctx, const char *sec, const char *key,
			     const char *val, struct duet_conf_redis *r);
int conf_parse_credential(struct conf_ctx *ctx, const char *sec, const char *key,
			  const char *val, char *dst, size_t dstlen);
int conf_parse_addresses(struct conf_ctx *ctx, const char *sec, const char *key,
			 const char *val, struct duet_conf *conf, struct duet_conf_port *port);
int conf_parse_gateway(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		       struct duet_conf_port *port);
int conf_parse_gateway6(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
			struct duet_conf_port *port);
int conf_parse_desc(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		    uint16_t *out);
int conf_parse_dscp(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		    uint32_t *out);
int conf_parse_listen(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		      struct duet_conf_metrics *m);
int conf_parse_yes_no(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		      bool *out);
int conf_parse_peers(struct conf_ctx *ctx, const char *sec, const char *key, const char *val,
		     struct duet_policy *pol, bool allow);

#endif /* DUET_CONF_INTERNAL_H */
