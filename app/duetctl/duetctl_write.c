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
#include "duet_sdes.h"
#include "duetctl.h"

#define IDLE_MS_MAX 86400000ULL
#define TTL_MAX (10ULL * 365 * 86400) /* ten years: anything longer is a typo */

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
	OPT_A_IN,
	OPT_A_OUT,
	OPT_B_IN,
	OPT_B_OUT,
};

static const char *const key_fields[4] = {"a_in", "a_out", "b_in", "b_out"};

static const char create_usage[] =
	"duetctl create [--id ID] [--mode passthrough|verify|rekey] [--suite SUITE]\n"
	"       [--a-in SDES] [--a-out SDES] [--b-in SDES] [--b-out SDES]\n"
	"       [--a-src IP:PORT] [--b-src IP:PORT] [--a-ip IP] [--b-ip IP]\n"
	"       [--idle-ms N] [--expires UNIX | --ttl SECONDS]\n"
	"  verify needs a_in and b_in, rekey all four keys; keys not given are made\n"
	"  at random in --suite (default AES_CM_128_HMAC_SHA1_80) and printed";

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

/* Fill keys[0..3] (free, alloc, pair, events) for the pair scripts. */
static void
script_keys(const struct duetctl *ctl, const char *id, char keys[4][DUET_REDIS_KEY_MAX])
{
	duetctl_key(ctl, keys[0], "free", NULL);
	duetctl_key(ctl, keys[1], "alloc", NULL);
	duetctl_key(ctl, keys[2], "pair:", id);
	duetctl_key(ctl, keys[3], "events", NULL);
}

static int create_report(struct duetctl *ctl, const char *id, const char *mode,
			 redisReply *reply, const char *free_key,
			 char key_text[4][DUET_SDES_TEXT_MAX]);

/*
 * The keys a mode takes (verify: a_in, b_in; rekey: all four), given or
 * made at random, as SDES text in key_text (empty for a key the mode does
 * not take). Wipes the parsed keys.
 */
static int
create_keys(const char *mode, enum duet_srtp_suite suite, struct duet_sdes key[4],
	    const bool given[4], char key_text[4][DUET_SDES_TEXT_MAX])
{
	bool verify = strcmp(mode, "verify") == 0, rekey = strcmp(mode, "rekey") == 0;
	int rc = DUETCTL_EXIT_OK;
	unsigned int k;

	memset(key_text, 0, 4 * DUET_SDES_TEXT_MAX);
	for (k = 0; k < 4 && rc == DUETCTL_EXIT_OK; k++) {
		bool needed = rekey || (verify && (k == 0 || k == 2));

		if (!needed) {
			if (given[k])
				rc = duetctl_usage_err("create: mode %s takes no %s key", mode,
						       key_fields[k]);
			continue;
		}
		if (!given[k] && duet_sdes_generate(suite, &key[k]) != 0)
			rc = duetctl_fail("create: cannot make a random key");
		else if (duet_sdes_format(&key[k], key_text[k], DUET_SDES_TEXT_MAX) != 0)
			rc = duetctl_fail("create: cannot format a key");
	}
	for (k = 0; k < 4; k++)
		duet_sdes_wipe(&key[k]);
	if (rc != DUETCTL_EXIT_OK)
		duet_secure_zero(key_text, 4 * DUET_SDES_TEXT_MAX);
	return rc;
}

int
duetctl_cmd_create(struct duetctl *ctl, int argc, char **argv)
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
		{NULL, 0, NULL, 0},
	};
	struct duet_sdes key[4];
	char key_text[4][DUET_SDES_TEXT_MAX];
	bool key_given[4] = {false, false, false, false};
	enum duet_srtp_suite suite = DUET_SRTP_AES_CM_128_HMAC_SHA1_80;
	const char *mode = "passthrough";
	char id[DUETCTL_PAIR_ID_MAX + 1] = "", a_src[DUET_ADDR_STRLEN] = "";
	char b_src[DUET_ADDR_STRLEN] = "", idle_str[24] = "", expires_str[24] = "";
	char a_ip[DUET_ADDR_STRLEN] = "", b_ip[DUET_ADDR_STRLEN] = "";
	char keys[4][DUET_REDIS_KEY_MAX], maxlen[24];
	const char *args[30];
	const char *expires_arg = NULL, *ttl_arg = NULL;
	uint64_t v, expires = 0;
	redisReply *reply;
	int c, n = 0, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ID:
			if (!duetctl_valid_pair_id(optarg))
				return duetctl_usage_err("--id: '%s' is not 1..64 characters of "
							 "[A-Za-z0-9._:-]",
							 optarg);
			snprintf(id, sizeof(id), "%s", optarg);
			break;
		case OPT_MODE:
			if (strcmp(optarg, "passthrough") != 0 && strcmp(optarg, "verify") != 0 &&
			    strcmp(optarg, "rekey") != 0)
				return duetctl_usage_err("--mode: unknown mode '%s' (passthrough, "
							 "verify, rekey)",
							 optarg);
			mode = optarg;
			break;
		case OPT_SUITE:
			if (duet_srtp_suite_parse(optarg, &suite) != 0)
				return duetctl_usage_err("--suite: unknown suite '%s' "
							 "(AES_CM_128_HMAC_SHA1_80, "
							 "AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM, "
							 "AEAD_AES_256_GCM)",
							 optarg);
			break;
		case OPT_A_IN:
		case OPT_A_OUT:
		case OPT_B_IN:
		case OPT_B_OUT: {
			unsigned int k = (unsigned int)(c - OPT_A_IN);
			const char *why = NULL;

			/* The value is secret: the message never repeats it. */
			if (duet_sdes_parse(optarg, &key[k], &why) != 0)
				return duetctl_usage_err("--%s: %s", k == 0 ? "a-in" : k == 1 ? "a-out" : k == 2 ? "b-in" : "b-out", why);
			key_given[k] = true;
			break;
		}
		case OPT_A_SRC:
			if (parse_src("--a-src", optarg, a_src, sizeof(a_src)) != 0)
				return DUETCTL_EXIT_USAGE;
			break;
		case OPT_B_SRC:
			if (parse_src("--b-src", optarg, b_src, sizeof(b_src)) != 0)
				return DUETCTL_EXIT_USAGE;
			break;
		case OPT_A_IP:
			if (parse_ip("--a-ip", optarg, a_ip, sizeof(a_ip)) != 0)
				return DUETCTL_EXIT_USAGE;
			break;
		case OPT_B_IP:
			if (parse_ip("--b-ip", optarg, b_ip, sizeof(b_ip)) != 0)
				return DUETCTL_EXIT_USAGE;
			break;
		case OPT_IDLE_MS:
			if (duet_parse_u64(optarg, 0, IDLE_MS_MAX, &v) != 0)
				return duetctl_usage_err("--idle-ms: '%s' is not a whole number of "
							 "milliseconds in 0..%llu (0 = never)",
							 optarg, IDLE_MS_MAX);
			snprintf(idle_str, sizeof(idle_str), "%llu", (unsigned long long)v);
			break;
		case OPT_EXPIRES:
			expires_arg = optarg;
			break;
		case OPT_TTL:
			ttl_arg = optarg;
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
		if (duet_parse_u64(expires_arg, 0, UINT32_MAX * 100ULL, &expires) != 0)
			return duetctl_usage_err("--expires: '%s' is not a time in unix seconds "
						 "(0 = never)",
						 expires_arg);
		if (expires != 0 && expires <= (uint64_t)time(NULL))
			return duetctl_usage_err("--expires: %s is in the past", expires_arg);
	}
	if (ttl_arg != NULL) {
		if (duet_parse_u64(ttl_arg, 1, TTL_MAX, &v) != 0)
			return duetctl_usage_err("--ttl: '%s' is not a whole number of seconds in "
						 "1..%llu",
						 ttl_arg, TTL_MAX);
		expires = (uint64_t)time(NULL) + v;
	}
	if (id[0] == '\0' && (rc = random_id(id, sizeof(id))) != 0)
		return duetctl_fail("create: cannot read /dev/urandom for an id: %s",
				    strerror(-rc));
	rc = create_keys(mode, suite, key, key_given, key_text);
	if (rc != DUETCTL_EXIT_OK)
		return rc;

	script_keys(ctl, id, keys);
	snprintf(maxlen, sizeof(maxlen), "%d", DUET_REDIS_EVENTS_MAXLEN);
	for (n = 0; n < 4; n++)
		args[n] = keys[n];
	args[n++] = id;
	args[n++] = maxlen;
	args[n++] = "mode";
	args[n++] = mode;
	for (unsigned int k = 0; k < 4; k++) {
		if (key_text[k][0] != '\0') {
			args[n++] = key_fields[k];
			args[n++] = key_text[k];
		}
	}
	if (a_src[0] != '\0') {
		args[n++] = "a_src";
		args[n++] = a_src;
	}
	if (b_src[0] != '\0') {
		args[n++] = "b_src";
		args[n++] = b_src;
	}
	if (a_ip[0] != '\0') {
		args[n++] = "a_ip";
		args[n++] = a_ip;
	}
	if (b_ip[0] != '\0') {
		args[n++] = "b_ip";
		args[n++] = b_ip;
	}
	if (idle_str[0] != '\0') {
		args[n++] = "idle_ms";
		args[n++] = idle_str;
	}
	if (expires != 0) {
		snprintf(expires_str, sizeof(expires_str), "%llu", (unsigned long long)expires);
		args[n++] = "expires";
		args[n++] = expires_str;
	}

	if (duetctl_connect(ctl) != 0) {
		duet_secure_zero(key_text, sizeof(key_text));
		return DUETCTL_EXIT_FAIL;
	}
	reply = duet_redis_script(&ctl->redis, DUET_SCRIPT_PAIR_CREATE, 4, n, args);
	rc = create_report(ctl, id, mode, reply, keys[0], key_text);
	duet_secure_zero(key_text, sizeof(key_text));
	return rc;
}

/* Print what pair_create.lua answered: the endpoints, and in a keyed mode
 * the keys each client needs. Frees the reply. */
static int
create_report(struct duetctl *ctl, const char *id, const char *mode, redisReply *reply,
	      const char *free_key, char key_text[4][DUET_SDES_TEXT_MAX])
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
		for (unsigned int k = 0; k < 4; k++)
			if (key_text[k][0] != '\0')
				duetctl_json_kv(&j, key_fields[k], key_text[k]);
		duetctl_json_close(&j, '}');
		duetctl_json_end(&j);
	} else {
		fprintf(ctl->out, "%s a=", id);
		duetctl_print_text(ctl->out, reply->element[0]->str, reply->element[0]->len);
		fputs(" b=", ctl->out);
		duetctl_print_text(ctl->out, reply->element[1]->str, reply->element[1]->len);
		if (strcmp(mode, "passthrough") != 0)
			fprintf(ctl->out, " mode=%s", mode);
		for (unsigned int k = 0; k < 4; k++)
			if (key_text[k][0] != '\0')
				fprintf(ctl->out, " %s=\"%s\"", key_fields[k], key_text[k]);
		fputc('\n', ctl->out);
	}
	freeReplyObject(reply);
	return DUETCTL_EXIT_OK;
}

int
duetctl_cmd_delete(struct duetctl *ctl, int argc, char **argv)
{
	char keys[4][DUET_REDIS_KEY_MAX], maxlen[24];
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
	reply = duet_redis_script(&ctl->redis, DUET_SCRIPT_PAIR_DELETE, 4, 6, args);
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
