/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duetctl update: change a live pair in place (pins, idle timeout, expiry,
 * SRTP keys, re-latch policy, policer) the way docs/redis-contract.md says
 * a control plane modifies a pair: HSET the pair hash, then XADD `op put`
 * to the events stream. Both go in one MULTI/EXEC under WATCH of the pair
 * hash, after reading that the pair exists, which mode it has and its
 * endpoints, so an update never resurrects a pair deleted meanwhile, never
 * writes keys the pair's mode does not take, and never gives a leg a pin
 * of the other family (duetd would reject the record and end the call).
 * Endpoints and mode are not changed here: a new mode or endpoint is a new
 * call (delete and create). Every argument is checked before Redis is
 * touched. Single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "duet_secure_zero.h"
#include "duetctl.h"

/* A WATCH that saw the pair change is retried this many times. */
#define UPDATE_TRIES 5
/* HSET key, then field/value: 7 shared fields (pins, idle_ms, expires,
 * relatch, max_pps, max_kbps) and 4 keys. */
#define UPDATE_ARGS_MAX (2 + 2 * (7 + DUET_KEY_COUNT))

enum {
	OPT_JSON = DUETCTL_OPT_PAIR_END,
	OPT_HELP,
};

static const char update_usage[] =
	"duetctl update ID [--a-src IP:PORT|none] [--b-src IP:PORT|none]\n"
	"       [--idle-ms N] [--expires UNIX | --ttl SECONDS] [--keys-file FILE|-]\n"
	"       [--relatch ssrc|any|never] [--max-pps N] [--max-kbps N]\n"
	"  Change a live pair in place: duetd keeps its latches and counters.\n"
	"  --a-src none / --b-src none removes a pin; a pin of the other family than\n"
	"  its leg's endpoint (IPv4 or IPv6) is refused. --expires 0 never expires.\n"
	"  --keys-file gives new SRTP keys (lines 'a_in SDES', ...), only those the\n"
	"  pair's mode takes (verify: a_in, b_in; rekey: all four); keys not given\n"
	"  stay. The pair must exist; its endpoints and mode are not changed here";

/* Parse update's options and operand. @return -1 to go on, or an exit code. */
static int
update_parse(struct duetctl *ctl, int argc, char **argv, struct duetctl_pair_opts *o,
	     const char **id)
{
	static const struct option opts[] = {
		DUETCTL_PAIR_OPTIONS,
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	int c, rc;

	o->may_unpin = true;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (duetctl_is_pair_opt(c)) {
			rc = duetctl_pair_opt(o, c, optarg);
			if (rc >= 0)
				return rc;
			continue;
		}
		switch (c) {
		case OPT_JSON:
			ctl->json = true;
			break;
		case OPT_HELP:
			fprintf(ctl->out, "usage: %s\n", update_usage);
			return DUETCTL_EXIT_OK;
		case ':':
			return duetctl_usage_err("update: option '%s' needs a value",
						 argv[optind - 1]);
		default:
			return duetctl_usage_err("update: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return duetctl_usage_err("update: missing pair ID");
	if (optind + 1 < argc)
		return duetctl_usage_err("update: unexpected argument '%s'", argv[optind + 1]);
	if (!duet_record_id_ok(argv[optind]))
		return duetctl_usage_err("update: pair ID '%s' is not 1..64 characters of "
					 "[A-Za-z0-9._:-]",
					 argv[optind]);
	*id = argv[optind];
	rc = duetctl_pair_opts_finish(o, "update");
	if (rc >= 0)
		return rc;
	if (!duetctl_pair_opts_any(o))
		return duetctl_usage_err("update %s: nothing to change (give --a-src, --b-src, "
					 "--idle-ms, --expires, --ttl, --keys-file, --relatch, "
					 "--max-pps or --max-kbps)",
					 *id);
	return -1;
}

/* The reply of an "OK" or "QUEUED" step of the transaction, freed.
 * @return 0, or -1 with the message given (what failed). */
static int
expect_status(struct duetctl *ctl, const char *id, const char *what)
{
	redisReply *r = duet_redis_get_reply(&ctl->redis);
	int rc = 0;

	if (r == NULL) {
		duetctl_fail("update %s: %s", id, ctl->redis.errstr);
		return -1;
	}
	if (r->type != REDIS_REPLY_STATUS) {
		duetctl_fail("update %s: %s: %s", id, what,
			     r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		rc = -1;
	}
	freeReplyObject(r);
	return rc;
}

/*
 * WATCH the pair hash and read its mode and endpoints. @return 1, *mode and
 * ep[] when the pair exists, 0 when it does not (no longer watched), or -1
 * after a message. An existing hash whose mode is unknown gives *mode
 * DUET_MODE_COUNT; an endpoint that is not an address gives family NONE.
 */
static int
watch_pair(struct duetctl *ctl, const char *id, const char *pk, uint8_t *mode,
	   struct duet_addr ep[2])
{
	const char *watch[2] = {"WATCH", pk};
	const char *exists[2] = {"EXISTS", pk};
	const char *get[5] = {"HMGET", pk, DUET_FIELD_MODE, DUET_FIELD_A, DUET_FIELD_B};
	const char *unwatch[1] = {"UNWATCH"};
	redisReply *e = NULL, *m = NULL;
	unsigned int k;
	int rc;

	if (duet_redis_append(&ctl->redis, 2, watch, NULL) != 0 ||
	    duet_redis_append(&ctl->redis, 2, exists, NULL) != 0 ||
	    duet_redis_append(&ctl->redis, 5, get, NULL) != 0) {
		duetctl_fail("update %s: %s", id, ctl->redis.errstr);
		return -1;
	}
	if (expect_status(ctl, id, "WATCH") != 0)
		return -1;
	e = duet_redis_get_reply(&ctl->redis);
	m = e != NULL ? duet_redis_get_reply(&ctl->redis) : NULL;
	if (m == NULL) {
		freeReplyObject(e);
		duetctl_fail("update %s: %s", id, ctl->redis.errstr);
		return -1;
	}
	if (e->type != REDIS_REPLY_INTEGER || m->type != REDIS_REPLY_ARRAY || m->elements != 3) {
		duetctl_fail("update %s: cannot read %s: %s", id, pk,
			     m->type == REDIS_REPLY_ERROR ? m->str : "unexpected reply");
		rc = -1;
	} else if (e->integer == 0) {
		rc = 0;
	} else {
		rc = 1;
		if (m->element[0]->type != REDIS_REPLY_STRING ||
		    duet_mode_parse(m->element[0]->str, mode) != 0)
			*mode = DUET_MODE_COUNT;
		for (k = 0; k < 2; k++)
			if (m->element[1 + k]->type != REDIS_REPLY_STRING ||
			    duet_addr_parse(m->element[1 + k]->str, &ep[k]) != 0)
				memset(&ep[k], 0, sizeof(ep[k]));
	}
	freeReplyObject(e);
	freeReplyObject(m);
	if (rc != 1)
		freeReplyObject(duet_redis_command(&ctl->redis, 1, unwatch, NULL));
	return rc;
}

/*
 * MULTI, HSET pk args (when any), HDEL the pins to remove, XADD op put,
 * EXEC. @return 1 when it ran, 0 when EXEC was aborted (the pair changed
 * since WATCH), -1 after a message.
 */
static int
write_update(struct duetctl *ctl, const char *id, const char **hset, int nhset, const char **hdel,
	     int nhdel)
{
	char ek[DUET_REDIS_KEY_MAX], maxlen[24];
	const char *multi[1] = {"MULTI"}, *exec[1] = {"EXEC"};
	const char *xadd[10] = {"XADD", ek, "MAXLEN", "~", maxlen, "*", "op", "put", "id", id};
	/* MULTI, then each write answers QUEUED; EXEC answers them all. */
	const int queued = 1 + (nhset > 2) + (nhdel > 2) + 1;
	int i, rc = 1;
	redisReply *r;

	duetctl_key(ctl, ek, "events", NULL);
	snprintf(maxlen, sizeof(maxlen), "%d", DUET_REDIS_EVENTS_MAXLEN);
	if (duet_redis_append(&ctl->redis, 1, multi, NULL) != 0 ||
	    (nhset > 2 && duet_redis_append(&ctl->redis, nhset, hset, NULL) != 0) ||
	    (nhdel > 2 && duet_redis_append(&ctl->redis, nhdel, hdel, NULL) != 0) ||
	    duet_redis_append(&ctl->redis, 10, xadd, NULL) != 0 ||
	    duet_redis_append(&ctl->redis, 1, exec, NULL) != 0) {
		duetctl_fail("update %s: %s", id, ctl->redis.errstr);
		return -1;
	}
	for (i = 0; i < queued; i++)
		if (expect_status(ctl, id, i == 0 ? "MULTI" : "queueing the write") != 0)
			return -1;
	r = duet_redis_get_reply(&ctl->redis);
	if (r == NULL) {
		duetctl_fail("update %s: %s", id, ctl->redis.errstr);
		return -1;
	}
	if (r->type == REDIS_REPLY_NIL) {
		rc = 0;
	} else if (r->type != REDIS_REPLY_ARRAY || r->elements != (size_t)(queued - 1)) {
		duetctl_fail("update %s: EXEC: %s", id,
			     r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		rc = -1;
	} else {
		for (i = 0; i < (int)r->elements && rc == 1; i++) {
			if (r->element[i]->type == REDIS_REPLY_ERROR) {
				duetctl_fail("update %s: %s", id, r->element[i]->str);
				rc = -1;
			}
		}
	}
	freeReplyObject(r);
	return rc;
}

/* Print what was changed: field names only (key values are secret and
 * the caller gave them). */
static void
update_report(struct duetctl *ctl, const char *id, const char **hset, int nhset,
	      const char **hdel, int nhdel)
{
	struct duetctl_json j;
	int i;

	if (ctl->json) {
		duetctl_json_init(&j, ctl->out);
		duetctl_json_open(&j, '{');
		duetctl_json_kv(&j, "id", id);
		duetctl_json_key(&j, "set", 3);
		duetctl_json_open(&j, '[');
		for (i = 2; i < nhset; i += 2)
			duetctl_json_str(&j, hset[i], strlen(hset[i]));
		duetctl_json_close(&j, ']');
		duetctl_json_key(&j, "removed", 7);
		duetctl_json_open(&j, '[');
		for (i = 2; i < nhdel; i++)
			duetctl_json_str(&j, hdel[i], strlen(hdel[i]));
		duetctl_json_close(&j, ']');
		duetctl_json_close(&j, '}');
		duetctl_json_end(&j);
		return;
	}
	fprintf(ctl->out, "updated %s:", id);
	for (i = 2; i < nhset; i += 2)
		fprintf(ctl->out, " %s", hset[i]);
	for (i = 2; i < nhdel; i++)
		fprintf(ctl->out, " -%s", hdel[i]);
	fputc('\n', ctl->out);
}

/*
 * The keys given, as SDES text appended to hset, once the pair's mode is
 * known: only keys that mode takes (exit 2 otherwise, naming the key and
 * where it came from). Wipes the parsed keys.
 * @return -1 to go on, or an exit code after the message.
 */
static int
add_keys(const char *cmd, uint8_t mode, struct duetctl_pair_opts *o,
	 char key_text[DUET_KEY_COUNT][DUET_SDES_TEXT_MAX], const char **hset, int *nhset)
{
	bool any = false;
	unsigned int k;
	int rc;

	for (k = 0; k < DUET_KEY_COUNT; k++)
		any = any || o->keys.given[k];
	if (!any)
		return -1;
	if (mode >= DUET_MODE_COUNT) {
		duetctl_keys_wipe(&o->keys);
		return duetctl_fail("%s: the pair's mode is not one of %s: cannot tell which "
				    "keys it takes",
				    cmd, duet_mode_list());
	}
	rc = duetctl_keys_text(cmd, mode, false, DUET_SRTP_AES_CM_128_HMAC_SHA1_80, &o->keys,
			       key_text);
	if (rc != DUETCTL_EXIT_OK)
		return rc;
	for (k = 0; k < DUET_KEY_COUNT; k++)
		duetctl_add_field(hset, nhset, duet_key_field(k), key_text[k]);
	return -1;
}

/*
 * A new pin must have the family of its leg's endpoint, or duetd rejects
 * the record and the live call ends: refuse it here instead. The other
 * leg's family does not matter (a v4 <-> v6 pair is fine). A leg whose
 * endpoint is not an address is left to duetd's verdict.
 * @return -1 to go on, or an exit code after the message.
 */
static int
check_pin_family(const char *id, const struct duetctl_pair_opts *o, const struct duet_addr ep[2])
{
	const char *pin[2] = {o->a_src, o->b_src};
	struct duet_addr p;
	unsigned int k;

	for (k = 0; k < 2; k++) {
		if (pin[k][0] == '\0' || ep[k].family == DUET_AF_NONE ||
		    duet_addr_parse(pin[k], &p) != 0 || p.family == ep[k].family)
			continue;
		return duetctl_fail("update %s: --%c-src is an IPv%u pin and leg %c's endpoint is "
				    "IPv%u: a pin has the family of its leg's endpoint; nothing "
				    "written",
				    id, 'a' + (int)k, (unsigned int)p.family, 'a' + (int)k,
				    (unsigned int)ep[k].family);
	}
	return -1;
}

/* Connect, then WATCH / check / MULTI ... EXEC until it runs or the pair is
 * gone. key_text holds the keys given (secret). */
static int
update_run(struct duetctl *ctl, const char *id, struct duetctl_pair_opts *o,
	   char key_text[DUET_KEY_COUNT][DUET_SDES_TEXT_MAX])
{
	char pk[DUET_REDIS_KEY_MAX], cmd[DUET_RECORD_ID_MAX + 8];
	const char *hset[UPDATE_ARGS_MAX], *hdel[4], *unwatch[1] = {"UNWATCH"};
	int nhset = 2, nhdel = 2, tries, rc;
	uint8_t mode = DUET_MODE_COUNT, now_mode = DUET_MODE_COUNT;
	struct duet_addr ep[2];

	duetctl_key(ctl, pk, "pair:", id);
	snprintf(cmd, sizeof(cmd), "update %s", id);
	hset[0] = "HSET";
	hset[1] = pk;
	duetctl_pair_opts_fields(o, hset, &nhset);
	hdel[0] = "HDEL";
	hdel[1] = pk;
	if (o->unpin[0])
		hdel[nhdel++] = DUET_FIELD_A_SRC;
	if (o->unpin[1])
		hdel[nhdel++] = DUET_FIELD_B_SRC;
	if (duetctl_connect(ctl) != 0)
		return DUETCTL_EXIT_FAIL;
	for (tries = 0; tries < UPDATE_TRIES; tries++) {
		rc = watch_pair(ctl, id, pk, &now_mode, ep);
		if (rc < 0)
			return DUETCTL_EXIT_FAIL;
		if (rc == 0)
			return duetctl_fail("no pair %s", id);
		rc = check_pin_family(id, o, ep);
		if (rc < 0 && tries == 0) {
			mode = now_mode;
			rc = add_keys(cmd, mode, o, key_text, hset, &nhset);
		} else if (rc < 0 && now_mode != mode) {
			rc = duetctl_fail("update %s: the pair's mode changed meanwhile; nothing "
					  "written",
					  id);
		}
		if (rc >= 0) {
			freeReplyObject(duet_redis_command(&ctl->redis, 1, unwatch, NULL));
			return rc;
		}
		rc = write_update(ctl, id, hset, nhset, hdel, nhdel);
		if (rc < 0)
			return DUETCTL_EXIT_FAIL;
		if (rc == 1) {
			update_report(ctl, id, hset, nhset, hdel, nhdel);
			return DUETCTL_EXIT_OK;
		}
	}
	return duetctl_fail("update %s: the pair kept changing under the update (%d tries); "
			    "nothing written",
			    id, UPDATE_TRIES);
}

int
duetctl_cmd_update(struct duetctl *ctl, int argc, char **argv)
{
	char key_text[DUET_KEY_COUNT][DUET_SDES_TEXT_MAX];
	struct duetctl_pair_opts o;
	const char *id = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(key_text, 0, sizeof(key_text));
	rc = update_parse(ctl, argc, argv, &o, &id);
	if (rc < 0)
		rc = update_run(ctl, id, &o, key_text);
	duetctl_keys_wipe(&o.keys);
	duet_secure_zero(key_text, sizeof(key_text));
	return rc;
}
