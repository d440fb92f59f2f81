/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duetctl: the operator's control-plane CLI for duet. It creates and deletes
 * pairs through the contract's Lua scripts and reads back what duetd writes
 * (pair stats, relay heartbeat, ended pairs), speaking only to Redis, never
 * to duetd. This file holds main, the global options, the argument checks
 * and the connection; the commands are in duetctl_write.c (create, delete,
 * resync), duetctl_update.c (update), duetctl_read.c (list, show, ended,
 * drops) and duetctl_relay.c (relay, relay drain|undrain, capacity); the
 * options create and update share in duetctl_pairopt.c, SRTP key input in
 * duetctl_keys.c. Single-threaded.
 *
 * Every argument is checked before Redis is touched: a wrong argument exits
 * 2 with a message naming it, a Redis or script failure exits 1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duet_parse.h"
#include "duetctl.h"

#define DEFAULT_REDIS "127.0.0.1:6379"
#define DEFAULT_TIMEOUT_MS 3000

#ifndef DUET_VERSION
#define DUET_VERSION "unknown"
#endif

static const char usage_text[] =
	"usage: duetctl [global options] <command> [args]\n"
	"\n"
	"Global options (environment variable in brackets):\n"
	"  --redis ADDR        Redis: host:port, [v6]:port, unix:/path or /path,\n"
	"                      sentinel:NAME@host:port,... (Sentinels) or\n"
	"                      cluster:host:port,... (seed nodes)\n"
	"                      [DUET_REDIS] (default " DEFAULT_REDIS ")\n"
	"  --relay R           relay id, as in duetd's [relay] id [DUET_RELAY] (required)\n"
	"  --user U            Redis ACL user [DUET_REDIS_USER]\n"
	"  --password P        Redis password [DUET_REDIS_PASSWORD]; prefer the\n"
	"                      variable, command lines are visible to other users\n"
	"  --timeout-ms N      connect and command timeout (default 3000)\n"
	"  --json              JSON output (figures as JSON numbers)\n"
	"  --help              this text\n"
	"  --version           print 'duetctl VERSION' and exit\n"
	"\n"
	"Commands:\n"
	"  create [--id ID] [--mode passthrough|verify|rekey] [--a-src IP:PORT] [--b-src IP:PORT]\n"
	"         [--a-ip IP] [--b-ip IP]   (take that leg's endpoint on this relay address)\n"
	"         [--suite SUITE] [--keys-file FILE|-]   (lines 'a_in SDES', ... b_out)\n"
	"         [--idle-ms N] [--expires UNIX | --ttl SECONDS]\n"
	"         [--relatch ssrc|any|never] [--max-pps N] [--max-kbps N]\n"
	"         [--no-relay-check] [--no-wait]\n"
	"                      allocate two relay endpoints to a new pair; prints\n"
	"                      \"ID a=EP b=EP\" (the id is random when not given), and in\n"
	"                      verify/rekey the keys (given, or made in --suite);\n"
	"                      see 'duetctl create --help'\n"
	"  update ID [--a-src IP:PORT|none] [--b-src IP:PORT|none] [--idle-ms N]\n"
	"         [--expires UNIX | --ttl SECONDS] [--keys-file FILE|-]\n"
	"         [--relatch ssrc|any|never] [--max-pps N] [--max-kbps N]\n"
	"                      change a live pair in place (exit 1 if it does not exist)\n"
	"  delete ID           end a pair and free its endpoints\n"
	"  list                all pairs: id, endpoints, mode, state, printed page by\n"
	"                      page in Redis's SCAN order\n"
	"  show ID             one pair's record and live stats\n"
	"  relay               the relay's heartbeat and drain flag (exit 1 if there\n"
	"                      is no heartbeat)\n"
	"  relay drain [--no-wait]    take no new pairs (calls go on); waits until\n"
	"                      duetd's heartbeat says draining\n"
	"  relay undrain [--no-wait]  take new pairs again\n"
	"  capacity            pairs, capacity, room and free endpoints, draining\n"
	"  ended [--count N]   the last N ended pairs (default 10)\n"
	"  resync --confirm    end the pairs a relay holds after Redis lost their\n"
	"                      records (heartbeat resync_held)\n"
	"  drops               every drop reason duetd counts (drop_<reason> in\n"
	"                      'duetctl relay'), with what it means; no Redis needed\n"
	"\n"
	"Pair ids are 1..64 characters of [A-Za-z0-9._:-]; relay ids 1..32 of\n"
	"[A-Za-z0-9_-]. Exit status: 0 ok, 1 Redis or script failure, 2 bad usage.\n";

int
duetctl_usage_err(const char *fmt, ...)
{
	va_list ap;

	fputs("duetctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'duetctl --help'.\n", stderr);
	return DUETCTL_EXIT_USAGE;
}

int
duetctl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("duetctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return DUETCTL_EXIT_FAIL;
}

static bool
valid_id(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr(extra, c) != NULL))
			return false;
	}
	return true;
}

bool
duetctl_valid_relay_id(const char *s)
{
	return valid_id(s, DUETCTL_RELAY_MAX, "_-");
}

int
duetctl_connect(struct duetctl *ctl)
{
	if (duet_redis_connect(&ctl->redis, &ctl->target) != 0)
		return duetctl_fail("%s", ctl->redis.errstr);
	return 0;
}

uint64_t
duetctl_now_ms(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
duetctl_sleep_ms(unsigned int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void
duetctl_key(const struct duetctl *ctl, char *buf, const char *kind, const char *id)
{
	/* relay <= 32 and id <= 64 characters: always fits DUET_REDIS_KEY_MAX. */
	if (duet_redis_key(buf, DUET_REDIS_KEY_MAX, ctl->relay, kind, id) != 0)
		buf[0] = '\0';
}

int
duetctl_parse_simple(struct duetctl *ctl, int argc, char **argv, const char *usage)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	/* glibc: optind 0 re-initialises getopt for this argv. Options may
	 * follow the operand ("show ID --json"): getopt permutes. */
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			ctl->json = true;
			break;
		case 'h':
			fprintf(ctl->out, "usage: %s\n", usage);
			return DUETCTL_EXIT_OK;
		default:
			return duetctl_usage_err("%s: unknown option '%s'", argv[0],
						 argv[optind - 1]);
		}
	}
	return -1;
}

int
duetctl_parse_no_operand(struct duetctl *ctl, int argc, char **argv, const char *usage)
{
	int rc = duetctl_parse_simple(ctl, argc, argv, usage);

	if (rc >= 0)
		return rc;
	if (optind < argc)
		return duetctl_usage_err("%s: unexpected argument '%s'", argv[0], argv[optind]);
	return -1;
}

int
duetctl_parse_id_operand(struct duetctl *ctl, int argc, char **argv, const char *usage,
			 const char **id)
{
	int rc = duetctl_parse_simple(ctl, argc, argv, usage);

	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return duetctl_usage_err("%s: missing pair ID", argv[0]);
	if (optind + 1 < argc)
		return duetctl_usage_err("%s: unexpected argument '%s'", argv[0], argv[optind + 1]);
	if (!duet_record_id_ok(argv[optind]))
		return duetctl_usage_err("%s: pair ID '%s' is not 1..64 characters of "
					 "[A-Za-z0-9._:-]",
					 argv[0], argv[optind]);
	*id = argv[optind];
	return -1;
}

static const struct {
	const char *name;
	int (*run)(struct duetctl *ctl, int argc, char **argv);
	bool local;   /* needs no relay and no Redis */
	bool streams; /* prints as it goes, straight to stdout */
} commands[] = {
	{"create", duetctl_cmd_create, false, false},
	{"update", duetctl_cmd_update, false, false},
	{"delete", duetctl_cmd_delete, false, false},
	{"list", duetctl_cmd_list, false, true},
	{"show", duetctl_cmd_show, false, false},
	{"relay", duetctl_cmd_relay, false, false},
	{"capacity", duetctl_cmd_capacity, false, false},
	{"ended", duetctl_cmd_ended, false, false},
	{"resync", duetctl_cmd_resync, false, false},
	{"drops", duetctl_cmd_drops, true, false},
};

/* Run command i with the output held until it succeeds, so a failure
 * half-way never leaves a truncated list or JSON document; or, for a
 * command that streams (list over a million pairs), straight to stdout. */
static int
run_command(struct duetctl *ctl, size_t i, int argc, char **argv)
{
	char *out_buf = NULL;
	size_t out_len = 0;
	int rc;

	ctl->out = commands[i].streams ? stdout : open_memstream(&out_buf, &out_len);
	if (ctl->out == NULL)
		return duetctl_fail("out of memory");
	rc = commands[i].run(ctl, argc, argv);
	duet_redis_close(&ctl->redis);
	if (commands[i].streams) {
		if (fflush(stdout) != 0 && rc == DUETCTL_EXIT_OK)
			rc = duetctl_fail("cannot write the output");
		return rc;
	}
	fclose(ctl->out);
	if (rc == DUETCTL_EXIT_OK &&
	    (fwrite(out_buf, 1, out_len, stdout) != out_len || fflush(stdout) != 0))
		rc = duetctl_fail("cannot write the output");
	free(out_buf);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"redis", required_argument, NULL, 'r'},
		{"relay", required_argument, NULL, 'R'},
		{"user", required_argument, NULL, 'u'},
		{"password", required_argument, NULL, 'p'},
		{"timeout-ms", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct duetctl ctl;
	uint64_t timeout_ms = DEFAULT_TIMEOUT_MS;
	const char *cmd, *why = NULL;
	size_t i;
	int c;

	memset(&ctl, 0, sizeof(ctl));
	ctl.addr = getenv("DUET_REDIS");
	ctl.relay = getenv("DUET_RELAY");
	ctl.target.user = getenv("DUET_REDIS_USER");
	ctl.target.password = getenv("DUET_REDIS_PASSWORD");

	opterr = 0; /* our messages name the argument and exit 2 */
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			ctl.addr = optarg;
			break;
		case 'R':
			ctl.relay = optarg;
			break;
		case 'u':
			ctl.target.user = optarg;
			break;
		case 'p':
			ctl.target.password = optarg;
			break;
		case 't':
			if (duet_parse_u64(optarg, 1, 600000, &timeout_ms) != 0)
				return duetctl_usage_err("--timeout-ms: '%s' is not a whole number "
							 "of milliseconds in 1..600000",
							 optarg);
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return DUETCTL_EXIT_OK;
		case 'V':
			printf("duetctl %s\n", DUET_VERSION);
			return DUETCTL_EXIT_OK;
		case ':':
			return duetctl_usage_err("option '%s' needs a value", argv[optind - 1]);
		default:
			return duetctl_usage_err("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return duetctl_usage_err("no command given");
	cmd = argv[optind];

	if (ctl.addr == NULL || ctl.addr[0] == '\0')
		ctl.addr = DEFAULT_REDIS;
	if (duet_redis_parse_address(ctl.addr, &ctl.addr_parsed, &ctl.target, &why) != 0)
		return duetctl_usage_err("--redis: '%s': %s (expected host:port, [v6]:port, "
					 "unix:/path, sentinel:NAME@host:port,... or "
					 "cluster:host:port,...)",
					 ctl.addr, why);
	ctl.target.timeout_ms = (uint32_t)timeout_ms;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		/* Checked after the command name so that "duetctl create
		 * --help" works without a relay. */
		if (commands[i].local && (ctl.relay == NULL || ctl.relay[0] == '\0'))
			ctl.relay = "none";
		if (ctl.relay == NULL || ctl.relay[0] == '\0') {
			bool wants_help = false;
			int k;

			for (k = optind + 1; k < argc; k++)
				if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0)
					wants_help = true;
			if (!wants_help)
				return duetctl_usage_err("no relay: give --relay R or set "
							 "DUET_RELAY");
			ctl.relay = "none";
		}
		if (!duetctl_valid_relay_id(ctl.relay))
			return duetctl_usage_err("--relay: '%s' is not 1..32 characters of "
						 "[A-Za-z0-9_-]",
						 ctl.relay);
		/* In a cluster, the relay's slot says which node to ask. */
		ctl.target.relay = ctl.relay;
		return run_command(&ctl, i, argc - optind, argv + optind);
	}
	return duetctl_usage_err("unknown command '%s'", cmd);
}
