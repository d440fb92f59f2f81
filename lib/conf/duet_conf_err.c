/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_conf_err: how lib/conf words a refusal. Every message starts with the
 * config file's path, then where in it ("[section] key" or "line N"), then
 * what is wrong and, when it helps and is no password, what was written.
 * Runs on the main thread while duetd loads its config.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "conf_internal.h"

void
conf_message(struct conf_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->err == NULL || ctx->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(ctx->err, ctx->errlen, fmt, ap);
	va_end(ap);
}

/* "<path>: <where>: <what> (got '<got>')"; @return -EINVAL. */
static int __attribute__((format(printf, 4, 0)))
fail_at(struct conf_ctx *ctx, const char *where, const char *got, const char *fmt, va_list ap)
{
	char what[DUET_CONF_ERR_MAX];

	if (ctx->err == NULL || ctx->errlen == 0)
		return -EINVAL;
	vsnprintf(what, sizeof(what), fmt, ap);
	snprintf(ctx->err, ctx->errlen, "%s: %s: %s%s%s%s", ctx->path, where, what,
		 got != NULL ? " (got '" : "", got != NULL ? got : "", got != NULL ? "')" : "");
	return -EINVAL;
}

int
conf_fail(struct conf_ctx *ctx, const char *section, const char *key, const char *got,
	  const char *fmt, ...)
{
	char where[DUET_CONF_ERR_MAX];
	va_list ap;
	int ret;

	snprintf(where, sizeof(where), "[%s]%s%s", section, key != NULL ? " " : "",
		 key != NULL ? key : "");
	va_start(ap, fmt);
	ret = fail_at(ctx, where, got, fmt, ap);
	va_end(ap);
	return ret;
}

int
conf_fail_line(struct conf_ctx *ctx, unsigned int lineno, const char *got, const char *fmt, ...)
{
	char where[32];
	va_list ap;
	int ret;

	snprintf(where, sizeof(where), "line %u", lineno);
	va_start(ap, fmt);
	ret = fail_at(ctx, where, got, fmt, ap);
	va_end(ap);
	return ret;
}
