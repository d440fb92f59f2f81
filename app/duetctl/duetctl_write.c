/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duetctl's writing commands: create and delete, both through the
 * contract's Lua scripts (pair_create.lua, pair_delete.lua), so endpoint
 * allocation stays atomic however many control planes run at once. Every
 * argument is checked before connecting. Single-threaded.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duet_addr.h"
#include "duet_parse.h"
#include "duet_policy.h"
#include "duet_record.h"
#include "duet_sdes.h"
#include "duet_secure_zero.h"
#include "duetctl.h"

#define TTL_MAX (10ULL * 365 * 86400) /* ten years: anything longer is a typo */
/* Script arguments: 5 keys, id, maxlen, then field/value pairs: mode, four
 * SRTP keys, a_src, b_src, a_ip, b_ip, idle_ms, expires, relatch, max_pps,
 * max_kbps, relay_check (16 pairs). */
#define CREATE_ARGS_MAX (DUET_REDIS_CREATE_NKEYS + 2 + 2 * 16)

enum {
	OPT_ID = 256,
	OPT_MODE,
	OPT_A_SRC,
	OPT_B_SRC,
	OPT_A_IP,
	OPT_B_IP,
	OPT_IDLE_MS,
	OPT_EXPIRES,
	OPT_TTL,
	OPT_JSON,
	OPT_HELP,
	OPT_SUITE,
	OPT_A_IN, /* the four key options in enum duet_pair_key order */
	OPT_A_OUT,
	OPT_B_IN,
	OPT_B_OUT,
	OPT_KEYS_FILE,
	OPT_RELATCH,
	OPT_MAX_PPS,
	OPT_MAX_KBPS,
	OPT_NO_RELAY_CHECK,
};

static const char create_usage[] =
	"duetctl create [--id ID] [--mode passthrough|verify|rekey] [--suite SUITE]\n"
	"       [--keys-file FILE|-] [--a-src IP:PORT] [--b-src IP:PORT] [--a-ip IP] [--b-ip IP]\n"
	"       [--idle-ms N] [--expires UNIX | --ttl SECONDS]\n"
	"       [--relatch ssrc|any|never] [--max-pps N] [--max-kbps N] [--no-relay-check]\n"
	"  verify needs a_in and b_in, rekey all four keys; keys not given are made\n"
	"  at random in --suite (default AES_CM_128_HMAC_SHA1_80) and printed.\n"
	"  --keys-file reads keys from FILE (- = standard input), one per line:\n"
	"    a_in AES_CM_128_HMAC_SHA1_80 inline:BASE64\n"
	"  with names a_in, a_out, b_in, b_out; blank lines and # comments allowed.\n"
	"  --a-in/--a-out/--b-in/--b-out SDES still work but put the key on the\n"
	"  command line, where other users can read it: duetctl warns.\n"
	"  --relatch, --max-pps (packets/s, 0..10000000, 0 = no policer) and\n"
	"  --max-kbps (kbit/s of IP packets, 0..100000000, 0 = no limit) override\n"
	"  the relay's defaults for this pair.\n"
	"  The relay must be running (a fresh heartbeat) and not full;\n"
	"  --no-relay-check provisions anyway (duetd loads the pair when it starts)";


/* What create was asked for, every argument checked. */
struct create_args {
	char id[DUET_RECORD_ID_MAX + 1];
	const char *mode;
	enum duet_srtp_suite suite;
	struct duetctl_keys keys; /* secret: wiped by duetctl_cmd_create */
	const char *keys_file;
	char a_src[DUET_ADDR_STRLEN];
	char b_src[DUET_ADDR_STRLEN];
	char a_ip[DUET_ADDR_STRLEN];
	char b_ip[DUET_ADDR_STRLEN];
	char idle_ms[24];
	uint64_t expires;
	const char *relatch;
	char max_pps[24];
	char max_kbps[24];
	bool no_relay_check;
};

/* Check a service address option (which relay address a leg's endpoint is
 * taken on) and store its canonical text. */
static int
parse_ip(const char *opt, const char *arg, char *buf, size_t len)
{
	struct duet_addr a;

	if (duet_addr_parse_ip(arg, &a) != 0 || duet_addr_format(&a, buf, len) != 0)
		return duetctl_usage_err("%s: '%s' is not an IP address", opt, arg);
	return 0;
}

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

/* 16 hex characters from the kernel's random source: 64 bits make a clash
 * with another generated id negligible, and EXISTS catches it anyway. */
static int
random_id(char *buf, size_t len)
{
	unsigned char raw[8];
	FILE *f = fopen("/dev/urandom", "rb");
	size_t i;

	if (f == NULL)
		return -errno;
	if (fread(raw, 1, sizeof(raw), f) != sizeof(raw)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	for (i = 0; i < sizeof(raw) && 2 * i + 2 < len; i++)
		snprintf(buf + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* The KEYS of the pair scripts (relay <= 32 and id <= 64 characters always
 * fit); pair_delete.lua takes the first four. */
static void
script_keys(const struct duetctl *ctl, const char *id,
	    char keys[DUET_REDIS_CREATE_NKEYS][DUET_REDIS_KEY_MAX])
{
	if (duet_redis_pair_keys(ctl->relay, id, keys) != 0)
		memset(keys, 0, DUET_REDIS_CREATE_NKEYS * DUET_REDIS_KEY_MAX);
}

static int create_report(struct duetctl *ctl, const char *id, const char *mode,
			 redisReply *reply, const char *free_key,
			 char key_text[DUET_KEY_COUNT][DUET_SDES_TEXT_MAX]);

/*
 * The keys a mode takes (verify: a_in, b_in; rekey: all four), given or
 * made at random, as SDES text in key_text (empty for a key the mode does
 * not take). Wipes the parsed keys.
 */
static int
create_keys(const char *mode, enum duet_srtp_suite suite, struct duetctl_keys *ks,
	    char key_text[DUET_KEY_COUNT][DUET_SDES_TEXT_MAX])
{
	int rc = DUETCTL_EXIT_OK;
	unsigned int k;
	uint8_t m = DUET_MODE_PASSTHROUGH;

	memset(key_text, 0, DUET_KEY_COUNT * DUET_SDES_TEXT_MAX);
	for (k = 0; k < DUET_KEY_COUNT && rc == DUETCTL_EXIT_OK; k++) {
		bool needed = duet_mode_parse(mode, &m) == 0 && duet_mode_takes_key(m, k);

		if (!needed) {
			if (ks->given[k])
				rc = duetctl_usage_err("create: mode %s takes no %s key (%s)", mode,
						       duet_key_field(k), ks->where[k]);
			continue;
		}
		if (!ks->given[k] && duet_sdes_generate(suite, &ks->key[k]) != 0)
			rc = duetctl_fail("create: cannot make a random key");
		else if (duet_sdes_format(&ks->key[k], key_text[k], DUET_SDES_TEXT_MAX) != 0)
			rc = duetctl_fail("create: cannot format a key");
	}
	duetctl_keys_wipe(ks);
	if (rc != DUETCTL_EXIT_OK)
		duet_secure_zero(key_text, DUET_KEY_COUNT * DUET_SDES_TEXT_MAX);
	return rc;
}

/* Parse create's options into a. @return -1 to go on, or an exit code. */
static int
create_parse(struct duetctl *ctl, int argc, char **argv, struct create_args *a)
{
	static const struct option opts[] = {
		{"id", required_argument, NULL, OPT_ID},
		{"mode", required_argument, NULL, OPT_MODE},
		{"a-src", required_argument, NULL, OPT_A_SRC},
		{"b-src", required_argument, NULL, OPT_B_SRC},
		{"a-ip", required_argument, NULL, OPT_A_IP},
		{"b-ip", required_argument, NULL, OPT_B_IP},
		{"idle-ms", required_argument, NULL, OPT_IDLE_MS},
		{"expires", required_argument, NULL, OPT_EXPIRES},
		{"ttl", required_argument, NULL, OPT_TTL},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, OPT_HELP},
		{"suite", required_argument, NULL, OPT_SUITE},
		{"a-in", required_argument, NULL, OPT_A_IN},
		{"a-out", required_argument, NULL, OPT_A_OUT},
		{"b-in", required_argument, NULL, OPT_B_IN},
		{"b-out", required_argument, NULL, OPT_B_OUT},
		{"keys-file", required_argument, NULL, OPT_KEYS_FILE},
		{"relatch", required_argument, NULL, OPT_RELATCH},
		{"max-pps", required_argument, NULL, OPT_MAX_PPS},
		{"max-kbps", required_argument, NULL, OPT_MAX_KBPS},
		{"no-relay-check", no_argument, NULL, OPT_NO_RELAY_CHECK},
		{NULL, 0, NULL, 0},
	};
	const char *expires_arg = NULL, *ttl_arg = NULL;
	uint8_t mode, relatch;
	uint64_t v;
	int c, rc;

	a->mode = duet_mode_name(DUET_MODE_PASSTHROUGH);
	a->suite = DUET_SRTP_AES_CM_128_HMAC_SHA1_80;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ID:
			if (!duet_record_id_ok(optarg))
				return duetctl_usage_err("--id: '%s' is not 1..64 characters of "
							 "[A-Za-z0-9._:-]",
							 optarg);
			snprintf(a->id, sizeof(a->id), "%s", optarg);
			break;
		case OPT_MODE:
			if (duet_mode_parse(optarg, &mode) != 0)
				return duetctl_usage_err("--mode: unknown mode '%s' (%s)", optarg,
							 duet_mode_list());
			a->mode = duet_mode_name(mode);
			break;
		case OPT_SUITE:
			if (duet_srtp_suite_parse(optarg, &a->suite) != 0)
				return duetctl_usage_err("--suite: unknown suite '%s' "
							 "(AES_CM_128_HMAC_SHA1_80, "
							 "AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM, "
							 "AEAD_AES_256_GCM)",
							 optarg);
			break;
		case OPT_A_IN:
		case OPT_A_OUT:
		case OPT_B_IN:
		case OPT_B_OUT:
			rc = parse_key_option(&a->keys, (unsigned int)(c - OPT_A_IN), optarg);
			if (rc != 0)
				return rc;
			break;
		case OPT_KEYS_FILE:
			if (a->keys_file != NULL)
				return duetctl_usage_err("--keys-file given twice");
			a->keys_file = optarg;
			break;
		case OPT_A_SRC:
			if (parse_src("--a-src", optarg, a->a_src, sizeof(a->a_src)) != 0)
				return DUETCTL_EXIT_USAGE;
			break;
		case OPT_B_SRC:
			if (parse_src("--b-src", optarg, a->b_src, sizeof(a->b_src)) != 0)
				return DUETCTL_EXIT_USAGE;
			break;
		case OPT_A_IP:
			if (parse_ip("--a-ip", optarg, a->a_ip, sizeof(a->a_ip)) != 0)
				return DUETCTL_EXIT_USAGE;
			break;
		case OPT_B_IP:
			if (parse_ip("--b-ip", optarg, a->b_ip, sizeof(a->b_ip)) != 0)
				return DUETCTL_EXIT_USAGE;
			break;
		case OPT_IDLE_MS:
			if (parse_count("--idle-ms", optarg, DUET_RECORD_IDLE_MS_MAX, "milliseconds, 0 = never",
					a->idle_ms, sizeof(a->idle_ms)) != 0)
				return DUETCTL_EXIT_USAGE;
			break;
		case OPT_EXPIRES:
			expires_arg = optarg;
			break;
		case OPT_TTL:
			ttl_arg = optarg;
			break;
		case OPT_RELATCH:
			if (duet_relatch_parse(optarg, &relatch) != 0)
				return duetctl_usage_err("--relatch: unknown policy '%s' (ssrc, any, "
							 "never)",
							 optarg);
			a->relatch = duet_relatch_name(relatch);
			break;
		case OPT_MAX_PPS:
			if (parse_count("--max-pps", optarg, DUET_RECORD_MAX_PPS_MAX,
					"packets/s, 0 = no policer", a->max_pps,
					sizeof(a->max_pps)) != 0)
				return DUETCTL_EXIT_USAGE;
			break;
		case OPT_MAX_KBPS:
			if (parse_count("--max-kbps", optarg, DUET_RECORD_MAX_KBPS_MAX,
					"kbit/s of UDP payload, 0 = no limit", a->max_kbps,
					sizeof(a->max_kbps)) != 0)
				return DUETCTL_EXIT_USAGE;
			break;
		case OPT_NO_RELAY_CHECK:
			a->no_relay_check = true;
			break;
		case OPT_JSON:
			ctl->json = true;
			break;
		case OPT_HELP:
			fprintf(ctl->out, "usage: %s\n", create_usage);
			return DUETCTL_EXIT_OK;
		case ':':
			return duetctl_usage_err("create: option '%s' needs a value",
						 argv[optind - 1]);
		default:
			return duetctl_usage_err("create: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return duetctl_usage_err("create: unexpected argument '%s'", argv[optind]);
	if (expires_arg != NULL && ttl_arg != NULL)
		return duetctl_usage_err("create: give --expires or --ttl, not both");
	if (expires_arg != NULL) {
		if (duet_parse_u64(expires_arg, 0, UINT32_MAX * 100ULL, &a->expires) != 0)
			return duetctl_usage_err("--expires: '%s' is not a time in unix seconds "
						 "(0 = never)",
						 expires_arg);
		if (a->expires != 0 && a->expires <= (uint64_t)time(NULL))
			return duetctl_usage_err("--expires: %s is in the past", expires_arg);
	}
	if (ttl_arg != NULL) {
		if (duet_parse_u64(ttl_arg, 1, TTL_MAX, &v) != 0)
			return duetctl_usage_err("--ttl: '%s' is not a whole number of seconds in "
						 "1..%llu",
						 ttl_arg, TTL_MAX);
		a->expires = (uint64_t)time(NULL) + v;
	}
	/* Read last, so a key given both ways is refused whatever the order. */
	if (a->keys_file != NULL && duetctl_keys_read_file(&a->keys, a->keys_file) != 0)
		return DUETCTL_EXIT_USAGE;
	return -1;
}

/* Append field/value to the script arguments when value is set. */
static void
add_field(const char **args, int *n, const char *field, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	args[(*n)++] = field;
	args[(*n)++] = value;
}

int
duetctl_cmd_create(struct duetctl *ctl, int argc, char **argv)
{
	char key_text[DUET_KEY_COUNT][DUET_SDES_TEXT_MAX];
	char keys[DUET_REDIS_CREATE_NKEYS][DUET_REDIS_KEY_MAX], maxlen[24], expires_str[24] = "";
	const char *args[CREATE_ARGS_MAX];
	struct create_args a;
	redisReply *reply;
	unsigned int k;
	int n = 0, rc;

	memset(&a, 0, sizeof(a));
	rc = create_parse(ctl, argc, argv, &a);
	if (rc >= 0) {
		duetctl_keys_wipe(&a.keys);
		return rc;
	}
	if (a.id[0] == '\0' && (rc = random_id(a.id, sizeof(a.id))) != 0) {
		duetctl_keys_wipe(&a.keys);
		return duetctl_fail("create: cannot read /dev/urandom for an id: %s",
				    strerror(-rc));
	}
	rc = create_keys(a.mode, a.suite, &a.keys, key_text);
	if (rc != DUETCTL_EXIT_OK)
		return rc;

	script_keys(ctl, a.id, keys);
	snprintf(maxlen, sizeof(maxlen), "%d", DUET_REDIS_EVENTS_MAXLEN);
	for (n = 0; n < DUET_REDIS_CREATE_NKEYS; n++)
		args[n] = keys[n];
	args[n++] = a.id;
	args[n++] = maxlen;
	add_field(args, &n, DUET_FIELD_MODE, a.mode);
	for (k = 0; k < DUET_KEY_COUNT; k++)
		add_field(args, &n, duet_key_field(k), key_text[k]);
	add_field(args, &n, DUET_FIELD_A_SRC, a.a_src);
	add_field(args, &n, DUET_FIELD_B_SRC, a.b_src);
	add_field(args, &n, "a_ip", a.a_ip);
	add_field(args, &n, "b_ip", a.b_ip);
	add_field(args, &n, DUET_FIELD_IDLE_MS, a.idle_ms);
	if (a.expires != 0)
		snprintf(expires_str, sizeof(expires_str), "%llu", (unsigned long long)a.expires);
	add_field(args, &n, DUET_FIELD_EXPIRES, expires_str);
	add_field(args, &n, DUET_FIELD_RELATCH, a.relatch);
	add_field(args, &n, DUET_FIELD_MAX_PPS, a.max_pps);
	add_field(args, &n, DUET_FIELD_MAX_KBPS, a.max_kbps);
	if (a.no_relay_check)
		add_field(args, &n, "relay_check", "off");

	if (duetctl_connect(ctl) != 0) {
		duet_secure_zero(key_text, sizeof(key_text));
		return DUETCTL_EXIT_FAIL;
	}
	reply = duet_redis_script(&ctl->redis, DUET_SCRIPT_PAIR_CREATE, DUET_REDIS_CREATE_NKEYS, n, args);
	rc = create_report(ctl, a.id, a.mode, reply, keys[0], key_text);
	duet_secure_zero(key_text, sizeof(key_text));
	return rc;
}

/* Print what pair_create.lua answered: the endpoints, and in a keyed mode
 * the keys each client needs. Frees the reply. */
static int
create_report(struct duetctl *ctl, const char *id, const char *mode, redisReply *reply,
	      const char *free_key, char key_text[DUET_KEY_COUNT][DUET_SDES_TEXT_MAX])
{
	int rc;

	if (reply == NULL)
		return duetctl_fail("create %s: %s", id, ctl->redis.errstr);
	if (reply->type == REDIS_REPLY_ERROR) {
		if (strncmp(reply->str, "NOFREE no free endpoint on", 26) == 0)
			rc = duetctl_fail("create %s: relay %s: %s", id, ctl->relay, reply->str + 7);
		else if (strncmp(reply->str, "NOFREE", 6) == 0)
			rc = duetctl_fail("create %s: relay %s has fewer than 2 free endpoints in "
					  "%s (all in use, or duetd has not seeded them)",
					  id, ctl->relay, free_key);
		else if (strncmp(reply->str, "NORELAY", 7) == 0)
			rc = duetctl_fail("create %s: %s (--no-relay-check provisions it anyway)",
					  id, reply->str + 8);
		else if (strncmp(reply->str, "FULL", 4) == 0)
			rc = duetctl_fail("create %s: %s", id, reply->str + 5);
		else
			rc = duetctl_fail("create %s: %s", id, reply->str);
		freeReplyObject(reply);
		return rc;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_STRING) {
		freeReplyObject(reply);
		return duetctl_fail("create %s: unexpected reply from pair_create.lua", id);
	}
	if (ctl->json) {
		struct duetctl_json j;

		duetctl_json_init(&j, ctl->out);
		duetctl_json_open(&j, '{');
		duetctl_json_kv(&j, "id", id);
		duetctl_json_kv(&j, "a", reply->element[0]->str);
		duetctl_json_kv(&j, "b", reply->element[1]->str);
		duetctl_json_kv(&j, "mode", mode);
		for (unsigned int k = 0; k < DUET_KEY_COUNT; k++)
			if (key_text[k][0] != '\0')
				duetctl_json_kv(&j, duet_key_field(k), key_text[k]);
		duetctl_json_close(&j, '}');
		duetctl_json_end(&j);
	} else {
		fprintf(ctl->out, "%s a=", id);
		duetctl_print_text(ctl->out, reply->element[0]->str, reply->element[0]->len);
		fputs(" b=", ctl->out);
		duetctl_print_text(ctl->out, reply->element[1]->str, reply->element[1]->len);
		if (strcmp(mode, "passthrough") != 0)
			fprintf(ctl->out, " mode=%s", mode);
		for (unsigned int k = 0; k < DUET_KEY_COUNT; k++)
			if (key_text[k][0] != '\0')
				fprintf(ctl->out, " %s=\"%s\"", duet_key_field(k), key_text[k]);
		fputc('\n', ctl->out);
	}
	freeReplyObject(reply);
	return DUETCTL_EXIT_OK;
}

int
duetctl_cmd_delete(struct duetctl *ctl, int argc, char **argv)
{
	char keys[DUET_REDIS_CREATE_NKEYS][DUET_REDIS_KEY_MAX], maxlen[24];
	const char *args[6], *id = NULL;
	redisReply *reply;
	int rc;

	rc = duetctl_parse_id_operand(ctl, argc, argv, "duetctl delete ID", &id);
	if (rc >= 0)
		return rc;
	script_keys(ctl, id, keys);
	snprintf(maxlen, sizeof(maxlen), "%d", DUET_REDIS_EVENTS_MAXLEN);
	args[0] = keys[0];
	args[1] = keys[1];
	args[2] = keys[2];
	args[3] = keys[3];
	args[4] = id;
	args[5] = maxlen;

	if (duetctl_connect(ctl) != 0)
		return DUETCTL_EXIT_FAIL;
	reply = duet_redis_script(&ctl->redis, DUET_SCRIPT_PAIR_DELETE, DUET_REDIS_DELETE_NKEYS, 6, args);
	if (reply == NULL)
		return duetctl_fail("delete %s: %s", id, ctl->redis.errstr);
	if (reply->type == REDIS_REPLY_ERROR)
		rc = duetctl_fail("delete %s: %s", id, reply->str);
	else if (reply->type != REDIS_REPLY_INTEGER)
		rc = duetctl_fail("delete %s: unexpected reply from pair_delete.lua", id);
	else if (reply->integer == 0)
		rc = duetctl_fail("no pair %s", id);
	else if (ctl->json) {
		struct duetctl_json j;

		duetctl_json_init(&j, ctl->out);
		duetctl_json_open(&j, '{');
		duetctl_json_kv(&j, "deleted", id);
		duetctl_json_close(&j, '}');
		duetctl_json_end(&j);
		rc = DUETCTL_EXIT_OK;
	} else {
		fprintf(ctl->out, "deleted %s\n", id);
		rc = DUETCTL_EXIT_OK;
	}
	freeReplyObject(reply);
	return rc;
}

/* resync --confirm: bump the relay's epoch key. A relay that holds pairs
 * after a reload that would have ended too many of them (the mass-loss
 * safety valve, docs/redis-contract.md) ends them once it sees the epoch
 * pass the value it read when it started holding. */
int
duetctl_cmd_resync(struct duetctl *ctl, int argc, char **argv)
{
	char key[DUET_REDIS_KEY_MAX];
	const char *args[2] = {"INCR", key};
	redisReply *reply;
	int rc;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs("usage: duetctl resync --confirm\n"
		      "  Confirm that the pairs a relay holds after Redis lost their records\n"
		      "  (heartbeat field resync_held) are gone: the relay ends them. Bumps\n"
		      "  duet:{R}:epoch.\n",
		      ctl->out);
		return DUETCTL_EXIT_OK;
	}
	if (argc != 2 || strcmp(argv[1], "--confirm") != 0)
		return duetctl_usage_err("usage: duetctl resync --confirm");
	duetctl_key(ctl, key, "epoch", NULL);
	if (duetctl_connect(ctl) != 0)
		return DUETCTL_EXIT_FAIL;
	reply = duet_redis_command(&ctl->redis, 2, args, NULL);
	if (reply == NULL)
		return duetctl_fail("resync: %s", ctl->redis.errstr);
	if (reply->type != REDIS_REPLY_INTEGER) {
		rc = duetctl_fail("resync: %s",
				  reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
	} else if (ctl->json) {
		struct duetctl_json j;
		char v[24];

		snprintf(v, sizeof(v), "%lld", reply->integer);
		duetctl_json_init(&j, ctl->out);
		duetctl_json_open(&j, '{');
		duetctl_json_kv(&j, "epoch", v);
		duetctl_json_close(&j, '}');
		duetctl_json_end(&j);
		rc = DUETCTL_EXIT_OK;
	} else {
		fprintf(ctl->out, "epoch %lld: held pairs end\n", reply->integer);
		rc = DUETCTL_EXIT_OK;
	}
	freeReplyObject(reply);
	return rc;
}
