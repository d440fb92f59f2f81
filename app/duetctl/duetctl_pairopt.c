/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duetctl's pair options, the ones `create` and `update` share: pins
 * (--a-src, --b-src), --idle-ms, --expires or --ttl, SRTP keys (--keys-file,
 * and the old --a-in ... flags that warn), --relatch, --max-pps and
 * --max-kbps. Each is checked and stored in canonical text, ready to be
 * written into the pair hash, before Redis is touched; a bad one exits 2
 * with a message naming it. Single-threaded.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "duet_parse.h"
#include "duet_policy.h"
#include "duet_secure_zero.h"
#include "duetctl.h"

#define TTL_MAX (10ULL * 365 * 86400) /* ten years: anything longer is a typo */
#define UNPIN "none"		      /* --a-src none: remove the pin (update) */

/* Check a client address option and store its canonical text. */
static int
parse_src(const char *opt, const char *arg, char *buf, size_t len)
{
	struct duet_addr a;

	if (duet_addr_parse(arg, &a) != 0 || duet_addr_format(&a, buf, len) != 0)
		return duetctl_usage_err("%s: '%s' is not IP:PORT or [IPv6]:PORT with a port "
					 "in 1..65535",
					 opt, arg);
	return 0;
}

/* A pin option: an address, or (update) "none" to remove the pin. */
static int
parse_pin(struct duetctl_pair_opts *o, unsigned int leg, const char *arg)
{
	static const char *const opt[2] = {"--a-src", "--b-src"};
	char *buf = leg == 0 ? o->a_src : o->b_src;

	if (o->may_unpin && strcmp(arg, UNPIN) == 0) {
		o->unpin[leg] = true;
		buf[0] = '\0';
		return 0;
	}
	o->unpin[leg] = false;
	return parse_src(opt[leg], arg, buf, DUET_ADDR_STRLEN);
}

/* Check a whole-number option in 0..max and store its canonical text;
 * unit says what it counts and what 0 means. */
static int
parse_count(const char *opt, const char *arg, uint64_t max, const char *unit, char *buf,
	    size_t len)
{
	uint64_t v;

	if (duet_parse_u64(arg, 0, max, &v) != 0)
		return duetctl_usage_err("%s: '%s' is not a whole number in 0..%llu (%s)", opt,
					 arg, (unsigned long long)max, unit);
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return 0;
}

/* An SRTP key given on the command line (--a-in etc.): parsed, then its
 * text cleared from argv, which shortens but cannot close the time it is
 * readable in /proc/PID/cmdline; hence the warning. */
static int
parse_key_option(struct duetctl_keys *ks, unsigned int k, char *arg)
{
	static const char *const opt[DUET_KEY_COUNT] = {"--a-in", "--a-out", "--b-in",
							   "--b-out"};
	const char *why = NULL;
	bool again = ks->given[k];
	int rc;

	fprintf(stderr,
		"duetctl: warning: %s puts an SRTP key on the command line, where other "
		"users can read it (ps, /proc/PID/cmdline); use --keys-file FILE or "
		"--keys-file -\n",
		opt[k]);
	rc = again ? -EEXIST : duet_sdes_parse(arg, &ks->key[k], &why);
	duet_secure_zero(arg, strlen(arg));
	if (again)
		return duetctl_usage_err("%s given twice", opt[k]);
	/* The value is secret: the message never repeats it. */
	if (rc != 0)
		return duetctl_usage_err("%s: %s", opt[k], why);
	ks->given[k] = true;
	snprintf(ks->where[k], sizeof(ks->where[k]), "%s", opt[k]);
	return 0;
}

int
duetctl_pair_opt(struct duetctl_pair_opts *o, int c, char *arg)
{
	uint8_t relatch;

	switch (c) {
	case DUETCTL_OPT_A_SRC:
	case DUETCTL_OPT_B_SRC:
		return parse_pin(o, c == DUETCTL_OPT_A_SRC ? 0 : 1, arg) != 0 ? DUETCTL_EXIT_USAGE
									      : -1;
	case DUETCTL_OPT_IDLE_MS:
		return parse_count("--idle-ms", arg, DUET_RECORD_IDLE_MS_MAX,
				   "milliseconds, 0 = never", o->idle_ms, sizeof(o->idle_ms)) != 0
			       ? DUETCTL_EXIT_USAGE
			       : -1;
	case DUETCTL_OPT_EXPIRES:
		o->expires_arg = arg;
		return -1;
	case DUETCTL_OPT_TTL:
		o->ttl_arg = arg;
		return -1;
	case DUETCTL_OPT_A_IN:
	case DUETCTL_OPT_A_OUT:
	case DUETCTL_OPT_B_IN:
	case DUETCTL_OPT_B_OUT:
		return parse_key_option(&o->keys, (unsigned int)(c - DUETCTL_OPT_A_IN), arg) != 0
			       ? DUETCTL_EXIT_USAGE
			       : -1;
	case DUETCTL_OPT_KEYS_FILE:
		if (o->keys_file != NULL)
			return duetctl_usage_err("--keys-file given twice");
		o->keys_file = arg;
		return -1;
	case DUETCTL_OPT_RELATCH:
		if (duet_relatch_parse(arg, &relatch) != 0)
			return duetctl_usage_err("--relatch: unknown policy '%s' (ssrc, any, "
						 "never)",
						 arg);
		o->relatch = duet_relatch_name(relatch);
		return -1;
	case DUETCTL_OPT_MAX_PPS:
		return parse_count("--max-pps", arg, DUET_RECORD_MAX_PPS_MAX,
				   "packets/s, 0 = no policer", o->max_pps,
				   sizeof(o->max_pps)) != 0
			       ? DUETCTL_EXIT_USAGE
			       : -1;
	case DUETCTL_OPT_MAX_KBPS:
		return parse_count("--max-kbps", arg, DUET_RECORD_MAX_KBPS_MAX,
				   "kbit/s of UDP payload, 0 = no limit", o->max_kbps,
				   sizeof(o->max_kbps)) != 0
			       ? DUETCTL_EXIT_USAGE
			       : -1;
	default:
		return duetctl_usage_err("option %d is not a pair option", c);
	}
}

int
duetctl_pair_opts_finish(struct duetctl_pair_opts *o, const char *cmd)
{
	uint64_t v;

	if (o->expires_arg != NULL && o->ttl_arg != NULL)
		return duetctl_usage_err("%s: give --expires or --ttl, not both", cmd);
	if (o->expires_arg != NULL) {
		if (duet_parse_u64(o->expires_arg, 0, UINT32_MAX * 100ULL, &v) != 0)
			return duetctl_usage_err("--expires: '%s' is not a time in unix seconds "
						 "(0 = never)",
						 o->expires_arg);
		if (v != 0 && v <= (uint64_t)time(NULL))
			return duetctl_usage_err("--expires: %s is in the past", o->expires_arg);
		snprintf(o->expires, sizeof(o->expires), "%llu", (unsigned long long)v);
	}
	if (o->ttl_arg != NULL) {
		if (duet_parse_u64(o->ttl_arg, 1, TTL_MAX, &v) != 0)
			return duetctl_usage_err("--ttl: '%s' is not a whole number of seconds in "
						 "1..%llu",
						 o->ttl_arg, TTL_MAX);
		snprintf(o->expires, sizeof(o->expires), "%llu",
			 (unsigned long long)((uint64_t)time(NULL) + v));
	}
	/* Read last, so a key given both ways is refused whatever the order. */
	if (o->keys_file != NULL && duetctl_keys_read_file(&o->keys, o->keys_file) != 0)
		return DUETCTL_EXIT_USAGE;
	return -1;
}

bool
duetctl_pair_opts_any(const struct duetctl_pair_opts *o)
{
	unsigned int k;

	for (k = 0; k < DUET_KEY_COUNT; k++)
		if (o->keys.given[k])
			return true;
	return o->a_src[0] != '\0' || o->b_src[0] != '\0' || o->unpin[0] || o->unpin[1] ||
	       o->idle_ms[0] != '\0' || o->expires[0] != '\0' || o->relatch != NULL ||
	       o->max_pps[0] != '\0' || o->max_kbps[0] != '\0';
}

void
duetctl_add_field(const char **args, int *n, const char *field, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	args[(*n)++] = field;
	args[(*n)++] = value;
}

void
duetctl_pair_opts_fields(const struct duetctl_pair_opts *o, const char **args, int *n)
{
	duetctl_add_field(args, n, DUET_FIELD_A_SRC, o->a_src);
	duetctl_add_field(args, n, DUET_FIELD_B_SRC, o->b_src);
	duetctl_add_field(args, n, DUET_FIELD_IDLE_MS, o->idle_ms);
	duetctl_add_field(args, n, DUET_FIELD_EXPIRES, o->expires);
	duetctl_add_field(args, n, DUET_FIELD_RELATCH, o->relatch);
	duetctl_add_field(args, n, DUET_FIELD_MAX_PPS, o->max_pps);
	duetctl_add_field(args, n, DUET_FIELD_MAX_KBPS, o->max_kbps);
}
