/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duetctl's writing commands: create and delete, both through the
 * contract's Lua scripts (pair_create.lua, pair_delete.lua), so endpoint
 * allocation stays atomic however many control planes run at once, and
 * resync. create then waits briefly for duetd's word on the new pair, so a
 * pair duetd rejects (a full table, ...) is an error, not a silent dead
 * call. Every argument is checked before connecting (the options create
 * shares with update are in duetctl_pairopt.c). Single-threaded.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duet_addr.h"
#include "duet_record.h"
#include "duet_sdes.h"
#include "duet_secure_zero.h"
#include "duetctl.h"

/* Script arguments: 5 keys, id, maxlen, then field/value pairs: mode, four
 * SRTP keys, a_src, b_src, a_ip, b_ip, idle_ms, expires, relatch, max_pps,
 * max_kbps, relay_check (16 pairs). */
#define CREATE_ARGS_MAX (DUET_REDIS_CREATE_NKEYS + 2 + 2 * 16)
/* How long create waits for duetd's word on a new pair, and how often it
 * looks: duetd writes a fresh pair's stats hash, or its rejection, in the
 * same poll that applies the record (milliseconds after the event). */
#define VERDICT_WAIT_MS 2000
#define VERDICT_POLL_MS 10

enum {
	OPT_ID = DUETCTL_OPT_PAIR_END,
	OPT_MODE,
	OPT_A_IP,
	OPT_B_IP,
	OPT_JSON,
	OPT_HELP,
	OPT_SUITE,
	OPT_NO_RELAY_CHECK,
	OPT_NO_WAIT,
};

static const char create_usage[] =
	"duetctl create [--id ID] [--mode passthrough|verify|rekey] [--suite SUITE]\n"
	"       [--keys-file FILE|-] [--a-src IP:PORT] [--b-src IP:PORT] [--a-ip IP] [--b-ip IP]\n"
	"       [--idle-ms N] [--expires UNIX | --ttl SECONDS]\n"
	"       [--relatch ssrc|any|never] [--max-pps N] [--max-kbps N] [--no-relay-check]\n"
	"       [--no-wait]\n"
	"  verify needs a_in and b_in, rekey all four keys; keys not given are made\n"
	"  at random in --suite (default AES_CM_128_HMAC_SHA1_80) and printed.\n"
	"  --suite needs --mode verify or rekey.\n"
	"  --keys-file reads keys from FILE (- = standard input), one per line:\n"
	"    a_in AES_CM_128_HMAC_SHA1_80 inline:BASE64\n"
	"  with names a_in, a_out, b_in, b_out; blank lines and # comments allowed.\n"
	"  --a-in/--a-out/--b-in/--b-out SDES still work but put the key on the\n"
	"  command line, where other users can read it: duetctl warns.\n"
	"  IP:PORT is 192.0.2.7:4000 or [2001:db8::7]:4000; --a-ip/--b-ip take that\n"
	"  leg's endpoint on a relay address (192.0.2.1 or 2001:db8::1); a pinned leg\n"
	"  without one gets an endpoint of its pin's family. The legs may differ in\n"
	"  family: duetd bridges IPv4 and IPv6.\n"
	"  --relatch, --max-pps (packets/s, 0..10000000, 0 = no policer) and\n"
	"  --max-kbps (kbit/s of IP packets, 0..100000000, 0 = no limit) override\n"
	"  the relay's defaults for this pair.\n"
	"  The relay must be running (a fresh heartbeat), not draining and not\n"
	"  full; --no-relay-check provisions anyway (duetd loads the pair when it\n"
	"  starts). With a running duetd, create waits up to 2 s for it to take\n"
	"  the pair: a pair duetd rejects (e.g. its table is full) is deleted\n"
	"  again and create exits 1 with duetd's reason; --no-wait skips the wait";


/* What create was asked for, every argument checked. */
struct create_args {
	char id[DUET_RECORD_ID_MAX + 1];
	uint8_t mode;
	bool mode_given;
	enum duet_srtp_suite suite;
	bool suite_given;
	struct duetctl_pair_opts o; /* keys secret: wiped by duetctl_cmd_create */
	char a_ip[DUET_ADDR_STRLEN];
	char b_ip[DUET_ADDR_STRLEN];
	bool no_relay_check;
	bool no_wait;
};

/* Check a service address option (which relay address a leg's endpoint is
 * taken on) and store its canonical text, the spelling duetd writes its
 * endpoints in. IPv6 may come bracketed, as it appears in an endpoint
 * ("[2001:db8::1]"). */
static int
parse_ip(const char *opt, const char *arg, char *buf, size_t len)
{
	char host[DUET_ADDR_STRLEN];
	const char *ip = arg;
	size_t n = strlen(arg);
	struct duet_addr a;

	if (n >= 2 && arg[0] == '[' && arg[n - 1] == ']' && n - 2 < sizeof(host)) {
		memcpy(host, arg + 1, n - 2);
		host[n - 2] = '\0';
		ip = host;
	}
	if (duet_addr_parse_ip(ip, &a) != 0 || (ip != arg && a.family != DUET_AF_INET6) ||
	    duet_addr_format(&a, buf, len) != 0)
		return duetctl_usage_err("%s: '%s' is not an IP address (192.0.2.1, 2001:db8::1 "
					 "or [2001:db8::1])",
					 opt, arg);
	return 0;
}

/* A pin has the family of its leg's endpoint (duetd refuses the record
 * otherwise): with both --a-src and --a-ip given, they must agree. The two
 * legs may differ. Both texts are canonical: an IPv6 pin starts with '['
 * and an IPv6 address has a ':'. */
static int
check_pin_family(const char *leg, const char *pin, const char *ip)
{
	bool pin6, ip6;

	if (pin[0] == '\0' || ip[0] == '\0')
		return 0;
	pin6 = pin[0] == '[';
	ip6 = strchr(ip, ':') != NULL;
	if (pin6 != ip6)
		return duetctl_usage_err("--%s-src: an IPv%c pin on an IPv%c endpoint (--%s-ip "
					 "%s): a pin has the family of its leg's endpoint",
					 leg, pin6 ? '6' : '4', ip6 ? '6' : '4', leg, ip);
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

/* Parse create's options into a. @return -1 to go on, or an exit code. */
static int
create_parse(struct duetctl *ctl, int argc, char **argv, struct create_args *a)
{
	static const struct option opts[] = {
		DUETCTL_PAIR_OPTIONS,
		{"id", required_argument, NULL, OPT_ID},
		{"mode", required_argument, NULL, OPT_MODE},
		{"a-ip", required_argument, NULL, OPT_A_IP},
		{"b-ip", required_argument, NULL, OPT_B_IP},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, OPT_HELP},
		{"suite", required_argument, NULL, OPT_SUITE},
		{"no-relay-check", no_argument, NULL, OPT_NO_RELAY_CHECK},
		{"no-wait", no_argument, NULL, OPT_NO_WAIT},
		{NULL, 0, NULL, 0},
	};
	int c, rc;

	a->mode = DUET_MODE_PASSTHROUGH;
	a->suite = DUET_SRTP_AES_CM_128_HMAC_SHA1_80;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (duetctl_is_pair_opt(c)) {
			rc = duetctl_pair_opt(&a->o, c, optarg);
			if (rc >= 0)
				return rc;
			continue;
		}
		switch (c) {
		case OPT_ID:
			if (!duet_record_id_ok(optarg))
				return duetctl_usage_err("--id: '%s' is not 1..64 characters of "
							 "[A-Za-z0-9._:-]",
							 optarg);
			snprintf(a->id, sizeof(a->id), "%s", optarg);
			break;
		case OPT_MODE:
			if (duet_mode_parse(optarg, &a->mode) != 0)
				return duetctl_usage_err("--mode: unknown mode '%s' (%s)", optarg,
							 duet_mode_list());
			a->mode_given = true;
			break;
		case OPT_SUITE:
			if (duet_srtp_suite_parse(optarg, &a->suite) != 0)
				return duetctl_usage_err("--suite: unknown suite '%s' "
							 "(AES_CM_128_HMAC_SHA1_80, "
							 "AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM, "
							 "AEAD_AES_256_GCM)",
							 optarg);
			a->suite_given = true;
			break;
		case OPT_A_IP:
			if (parse_ip("--a-ip", optarg, a->a_ip, sizeof(a->a_ip)) != 0)
				return DUETCTL_EXIT_USAGE;
			break;
		case OPT_B_IP:
			if (parse_ip("--b-ip", optarg, a->b_ip, sizeof(a->b_ip)) != 0)
				return DUETCTL_EXIT_USAGE;
			break;
		case OPT_NO_RELAY_CHECK:
			a->no_relay_check = true;
			break;
		case OPT_NO_WAIT:
			a->no_wait = true;
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
	/* A suite only says which keys to make, and without --mode the pair
	 * would silently be a keyless passthrough one. */
	if (a->suite_given && !a->mode_given)
		return duetctl_usage_err("create: --suite makes SRTP keys, and a pair without "
					 "--mode is passthrough, which holds none: give --mode "
					 "verify or --mode rekey");
	if (check_pin_family("a", a->o.a_src, a->a_ip) != 0 ||
	    check_pin_family("b", a->o.b_src, a->b_ip) != 0)
		return DUETCTL_EXIT_USAGE;
	rc = duetctl_pair_opts_finish(&a->o, "create");
	/* expires 0 is never, as when it is absent. */
	if (strcmp(a->o.expires, "0") == 0)
		a->o.expires[0] = '\0';
	return rc;
}

/* What duetd had written in a pair's stats hash, and whether a duetd runs
 * (a heartbeat it wrote: updated_ms, and no stopped_ms), read before the
 * create so that its word on the new pair can be told from an old one. */
struct verdict_before {
	bool duetd_runs;
	char updated_ms[24];
};

static int
verdict_before(struct duetctl *ctl, const char *id, struct verdict_before *v)
{
	char sk[DUET_REDIS_KEY_MAX], hk[DUET_REDIS_KEY_MAX];
	const char *st[3] = {"HGET", sk, "updated_ms"};
	const char *hb[4] = {"HMGET", hk, "updated_ms", "stopped_ms"};
	redisReply *rs = NULL, *rh = NULL;

	memset(v, 0, sizeof(*v));
	duetctl_key(ctl, sk, "stats:", id);
	duetctl_key(ctl, hk, "relay", NULL);
	if (duet_redis_append(&ctl->redis, 3, st, NULL) != 0 ||
	    duet_redis_append(&ctl->redis, 4, hb, NULL) != 0 ||
	    (rs = duet_redis_get_reply(&ctl->redis)) == NULL ||
	    (rh = duet_redis_get_reply(&ctl->redis)) == NULL) {
		freeReplyObject(rs);
		return duetctl_fail("create %s: %s", id, ctl->redis.errstr);
	}
	if (rs->type == REDIS_REPLY_STRING)
		snprintf(v->updated_ms, sizeof(v->updated_ms), "%s", rs->str);
	v->duetd_runs = rh->type == REDIS_REPLY_ARRAY && rh->elements == 2 &&
			rh->element[0]->type == REDIS_REPLY_STRING &&
			rh->element[1]->type == REDIS_REPLY_NIL;
	freeReplyObject(rs);
	freeReplyObject(rh);
	return 0;
}

/* pair_delete.lua for id; with a and b, only if the pair still has those
 * endpoints. @return its reply (caller frees), or NULL with errstr set. */
static redisReply *
delete_pair(struct duetctl *ctl, const char *id, const char *a, const char *b)
{
	char keys[DUET_REDIS_CREATE_NKEYS][DUET_REDIS_KEY_MAX], maxlen[24];
	const char *args[8];
	int n;

	script_keys(ctl, id, keys);
	snprintf(maxlen, sizeof(maxlen), "%d", DUET_REDIS_EVENTS_MAXLEN);
	for (n = 0; n < DUET_REDIS_DELETE_NKEYS; n++)
		args[n] = keys[n];
	args[n++] = id;
	args[n++] = maxlen;
	if (a != NULL && b != NULL) {
		args[n++] = a;
		args[n++] = b;
	}
	return duet_redis_script(&ctl->redis, DUET_SCRIPT_PAIR_DELETE, DUET_REDIS_DELETE_NKEYS, n,
				 args);
}

/*
 * After a create that pair_create.lua accepted: wait (up to
 * VERDICT_WAIT_MS) for duetd to take the pair (stats state waiting or
 * active) or reject it (state rejected: its table is full, a pin it may
 * not send to, ...). A rejected pair is deleted again, guarded by its
 * endpoints a and b, so a failed create leaves nothing behind.
 * @return 0, or DUETCTL_EXIT_FAIL after the message.
 */
static int
await_verdict(struct duetctl *ctl, const char *id, const struct verdict_before *before,
	      const char *a, const char *b)
{
	const uint64_t deadline = duetctl_now_ms(CLOCK_MONOTONIC) + VERDICT_WAIT_MS;
	char sk[DUET_REDIS_KEY_MAX];
	const char *cmd[5] = {"HMGET", sk, "updated_ms", "state", "reason"};
	redisReply *r, *del;
	const char *upd, *state;
	int rc;

	duetctl_key(ctl, sk, "stats:", id);
	for (;;) {
		r = duet_redis_command(&ctl->redis, 5, cmd, NULL);
		if (r == NULL)
			return duetctl_fail("create %s: %s", id, ctl->redis.errstr);
		upd = r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
				      r->element[0]->type == REDIS_REPLY_STRING
			      ? r->element[0]->str
			      : NULL;
		state = upd != NULL && r->element[1]->type == REDIS_REPLY_STRING
				? r->element[1]->str
				: "";
		/* An older life of the id (ended, or rejected before) left a
		 * hash with its own updated_ms. */
		if (upd != NULL && strcmp(upd, before->updated_ms) != 0 &&
		    strcmp(state, "rejected") == 0)
			break;
		if (upd != NULL && strcmp(upd, before->updated_ms) != 0 &&
		    (strcmp(state, "waiting") == 0 || strcmp(state, "active") == 0)) {
			freeReplyObject(r);
			return 0;
		}
		freeReplyObject(r);
		if (duetctl_now_ms(CLOCK_MONOTONIC) >= deadline) {
			fprintf(stderr,
				"duetctl: warning: create %s: duetd has not reported the pair "
				"within %d ms (busy, or away from Redis); see 'duetctl show %s'\n",
				id, VERDICT_WAIT_MS, id);
			return 0;
		}
		duetctl_sleep_ms(VERDICT_POLL_MS);
	}
	del = delete_pair(ctl, id, a, b);
	rc = duetctl_fail("create %s: rejected: %s%s", id,
			  r->element[2]->type == REDIS_REPLY_STRING ? r->element[2]->str
								    : "(no reason given)",
			  del != NULL && del->type == REDIS_REPLY_INTEGER && del->integer == 1
				  ? " (the pair is deleted again)"
				  : " (deleting the pair again failed: delete it)");
	freeReplyObject(del);
	freeReplyObject(r);
	return rc;
}

static int create_report(struct duetctl *ctl, const char *id, const char *mode,
			 redisReply *reply, const char *free_key,
			 char key_text[DUET_KEY_COUNT][DUET_SDES_TEXT_MAX]);

/* Run pair_create.lua with a's fields and key_text, wait for duetd's word
 * unless told not to, and print the result. */
static int
create_run(struct duetctl *ctl, const struct create_args *a,
	   char key_text[DUET_KEY_COUNT][DUET_SDES_TEXT_MAX])
{
	char keys[DUET_REDIS_CREATE_NKEYS][DUET_REDIS_KEY_MAX], maxlen[24];
	const char *args[CREATE_ARGS_MAX];
	struct verdict_before before;
	redisReply *reply;
	unsigned int k;
	int n, rc;

	script_keys(ctl, a->id, keys);
	snprintf(maxlen, sizeof(maxlen), "%d", DUET_REDIS_EVENTS_MAXLEN);
	for (n = 0; n < DUET_REDIS_CREATE_NKEYS; n++)
		args[n] = keys[n];
	args[n++] = a->id;
	args[n++] = maxlen;
	duetctl_add_field(args, &n, DUET_FIELD_MODE, duet_mode_name(a->mode));
	for (k = 0; k < DUET_KEY_COUNT; k++)
		duetctl_add_field(args, &n, duet_key_field(k), key_text[k]);
	duetctl_pair_opts_fields(&a->o, args, &n);
	duetctl_add_field(args, &n, "a_ip", a->a_ip);
	duetctl_add_field(args, &n, "b_ip", a->b_ip);
	if (a->no_relay_check)
		duetctl_add_field(args, &n, "relay_check", "off");

	if (duetctl_connect(ctl) != 0)
		return DUETCTL_EXIT_FAIL;
	memset(&before, 0, sizeof(before));
	if (!a->no_wait && (rc = verdict_before(ctl, a->id, &before)) != 0)
		return rc;
	reply = duet_redis_script(&ctl->redis, DUET_SCRIPT_PAIR_CREATE, DUET_REDIS_CREATE_NKEYS, n,
				  args);
	if (reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
	    reply->element[0]->type == REDIS_REPLY_STRING &&
	    reply->element[1]->type == REDIS_REPLY_STRING && before.duetd_runs &&
	    (rc = await_verdict(ctl, a->id, &before, reply->element[0]->str,
				reply->element[1]->str)) != 0) {
		freeReplyObject(reply);
		return rc;
	}
	return create_report(ctl, a->id, duet_mode_name(a->mode), reply, keys[0], key_text);
}

int
duetctl_cmd_create(struct duetctl *ctl, int argc, char **argv)
{
	char key_text[DUET_KEY_COUNT][DUET_SDES_TEXT_MAX];
	struct create_args a;
	int rc;

	memset(&a, 0, sizeof(a));
	rc = create_parse(ctl, argc, argv, &a);
	if (rc >= 0) {
		duetctl_keys_wipe(&a.o.keys);
		return rc;
	}
	if (a.id[0] == '\0' && (rc = random_id(a.id, sizeof(a.id))) != 0) {
		duetctl_keys_wipe(&a.o.keys);
		return duetctl_fail("create: cannot read /dev/urandom for an id: %s",
				    strerror(-rc));
	}
	rc = duetctl_keys_text("create", a.mode, true, a.suite, &a.o.keys, key_text);
	if (rc != DUETCTL_EXIT_OK)
		return rc;
	rc = create_run(ctl, &a, key_text);
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
		/* "no free endpoint on <ip>", "no free IPv6 endpoint for the
		 * pin b_src": the script's words say it best. */
		if (strncmp(reply->str, "NOFREE no free ", 15) == 0)
			rc = duetctl_fail("create %s: relay %s: %s", id, ctl->relay, reply->str + 7);
		else if (strncmp(reply->str, "NOFREE", 6) == 0)
			rc = duetctl_fail("create %s: relay %s has fewer than 2 free endpoints in "
					  "%s (all in use, or duetd has not seeded them)",
					  id, ctl->relay, free_key);
		else if (strncmp(reply->str, "NORELAY", 7) == 0)
			rc = duetctl_fail("create %s: %s (--no-relay-check provisions it anyway)",
					  id, reply->str + 8);
		else if (strncmp(reply->str, "FULL", 4) == 0 ||
			 strncmp(reply->str, "DRAINING", 8) == 0)
			rc = duetctl_fail("create %s: %s", id, strchr(reply->str, ' ') + 1);
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
	const char *id = NULL;
	redisReply *reply;
	int rc;

	rc = duetctl_parse_id_operand(ctl, argc, argv, "duetctl delete ID", &id);
	if (rc >= 0)
		return rc;
	if (duetctl_connect(ctl) != 0)
		return DUETCTL_EXIT_FAIL;
	reply = delete_pair(ctl, id, NULL, NULL);
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

		duetctl_json_init(&j, ctl->out);
		duetctl_json_open(&j, '{');
		duetctl_json_ku64(&j, "epoch", (uint64_t)reply->integer);
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
