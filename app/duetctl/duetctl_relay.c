/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duetctl's relay-wide commands: `relay` (the heartbeat duetd writes, and
 * the drain flag), `relay drain` and `relay undrain` (set or clear the
 * drain flag duet:{R}:drain, then wait until duetd's heartbeat shows it),
 * and `capacity` (how many pairs and endpoints the relay has, and the room
 * left). A draining relay forwards the calls it has and takes no new pair:
 * pair_create.lua refuses it while its heartbeat says `draining 1`, so an
 * operator can empty a relay before maintenance. duetctl writes only the
 * flag; duetd mirrors it into its heartbeat every stats round.
 * Single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duet_parse.h"
#include "duetctl.h"

/* How long drain and undrain wait for duetd's heartbeat: three stats
 * rounds, at least this long. duetd's default stats interval is used when
 * its heartbeat does not say (stats_interval_ms). */
#define DRAIN_WAIT_MIN_MS 5000
#define DRAIN_ROUNDS 3
#define STATS_INTERVAL_DEFAULT_MS 1000
#define DRAIN_POLL_MS 100

enum {
	OPT_JSON = 256,
	OPT_HELP,
	OPT_NO_WAIT,
};

static const char drain_usage[] =
	"duetctl relay drain|undrain [--no-wait]\n"
	"  drain: the relay takes no new pair (create answers DRAINING) and keeps\n"
	"  forwarding its calls; undrain: it takes pairs again. Sets or clears\n"
	"  duet:{R}:drain (the time the drain began, kept by a second drain), then\n"
	"  waits until duetd's heartbeat shows it: up to three stats rounds, at\n"
	"  least 5 s. --no-wait returns at once. With no duetd running the flag\n"
	"  is set all the same, and duetd drains from its start";

/* Field i of an HMGET reply as a JSON number (or a string if it is not
 * decimal), null when absent. */
static void
json_hm(struct duetctl_json *j, const char *key, const redisReply *r, size_t i)
{
	const char *v = duetctl_reply_str(r, i);

	duetctl_json_key(j, key, strlen(key));
	if (v == NULL)
		duetctl_json_str(j, NULL, 0);
	else
		duetctl_json_num_or_str(j, v, strlen(v));
}

/* The drain flag's time as member drain_since_ms (null when not set). */
static void
json_since(struct duetctl_json *j, const char *since)
{
	duetctl_json_key(j, "drain_since_ms", 14);
	duetctl_json_num_or_str(j, since != NULL && since[0] != '\0' ? since : NULL,
				since != NULL ? strlen(since) : 0);
}

/* Run cmd (argc strings) and give its reply, or NULL after a message. */
static redisReply *
command(struct duetctl *ctl, const char *what, int argc, const char **cmd)
{
	redisReply *r = duet_redis_command(&ctl->redis, argc, cmd, NULL);

	if (r == NULL)
		duetctl_fail("%s: %s", what, ctl->redis.errstr);
	else if (r->type == REDIS_REPLY_ERROR) {
		duetctl_fail("%s: %s: %s", what, cmd[1], r->str);
		freeReplyObject(r);
		r = NULL;
	}
	return r;
}

/* The drain flag's value (when the drain began, unix ms) into since,
 * "" when not set. @return 0 or DUETCTL_EXIT_FAIL after a message. */
static int
drain_flag(struct duetctl *ctl, const char *what, char *since, size_t len)
{
	char key[DUET_REDIS_KEY_MAX];
	const char *get[2] = {"GET", key};
	redisReply *r;

	duetctl_key(ctl, key, "drain", NULL);
	r = command(ctl, what, 2, get);
	if (r == NULL)
		return DUETCTL_EXIT_FAIL;
	snprintf(since, len, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	return 0;
}

/* A heartbeat was read into hb (found: it exists): exit 1 when there is
 * none, else read the drain flag into since. Frees hb when it fails.
 * @return 0, or DUETCTL_EXIT_FAIL after a message. */
static int
heartbeat_then_flag(struct duetctl *ctl, const char *what, redisReply *hb, bool found,
		    char *since, size_t len)
{
	if (!found) {
		freeReplyObject(hb);
		return duetctl_fail("relay %s: no heartbeat (down or never started)", ctl->relay);
	}
	if (drain_flag(ctl, what, since, len) != 0) {
		freeReplyObject(hb);
		return DUETCTL_EXIT_FAIL;
	}
	return 0;
}

/* Room: pairs a create could still place now, from the HMGET of pairs,
 * capacity, endpoints, endpoints_free, draining. Each pair takes a table
 * slot and two endpoints; a draining relay takes none.
 * @return false when a figure it needs is missing or not a number. */
static bool
capacity_room(const redisReply *r, uint64_t *room)
{
	const char *pairs_s = duetctl_reply_str(r, 0), *cap_s = duetctl_reply_str(r, 1);
	const char *free_s = duetctl_reply_str(r, 3), *draining = duetctl_reply_str(r, 4);
	uint64_t pairs, cap, ep_free;

	if (pairs_s == NULL || cap_s == NULL || free_s == NULL ||
	    duet_parse_u64(pairs_s, 0, UINT64_MAX, &pairs) != 0 ||
	    duet_parse_u64(cap_s, 0, UINT64_MAX, &cap) != 0 ||
	    duet_parse_u64(free_s, 0, UINT64_MAX, &ep_free) != 0)
		return false;
	*room = cap > pairs ? cap - pairs : 0;
	if (ep_free / 2 < *room)
		*room = ep_free / 2;
	if (draining != NULL && strcmp(draining, "1") == 0)
		*room = 0;
	return true;
}

int
duetctl_cmd_capacity(struct duetctl *ctl, int argc, char **argv)
{
	static const char *const names[] = {"pairs", "capacity", "endpoints", "endpoints_free",
					    "draining"};
	char key[DUET_REDIS_KEY_MAX], since[32];
	const char *hm[7] = {"HMGET", key, names[0], names[1], names[2], names[3], names[4]};
	uint64_t room = 0;
	struct duetctl_json j;
	bool known;
	redisReply *r;
	size_t i;
	int rc;

	rc = duetctl_parse_no_operand(ctl, argc, argv, "duetctl capacity [--json]");
	if (rc >= 0)
		return rc;
	duetctl_key(ctl, key, "relay", NULL);
	if (duetctl_connect(ctl) != 0)
		return DUETCTL_EXIT_FAIL;
	r = command(ctl, "capacity", 7, hm);
	if (r == NULL)
		return DUETCTL_EXIT_FAIL;
	rc = heartbeat_then_flag(ctl, "capacity", r,
				 duetctl_reply_str(r, 0) != NULL || duetctl_reply_str(r, 1) != NULL,
				 since, sizeof(since));
	if (rc != 0)
		return rc;
	known = capacity_room(r, &room);
	if (ctl->json) {
		duetctl_json_init(&j, ctl->out);
		duetctl_json_open(&j, '{');
		duetctl_json_kv(&j, "relay", ctl->relay);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			json_hm(&j, names[i], r, i);
		duetctl_json_key(&j, "room", 4);
		if (known)
			duetctl_json_u64(&j, room);
		else
			duetctl_json_str(&j, NULL, 0);
		json_since(&j, since);
		duetctl_json_close(&j, '}');
		duetctl_json_end(&j);
	} else {
		fprintf(ctl->out, "relay %s\n", ctl->relay);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			const char *v = duetctl_reply_str(r, i);

			if (v == NULL)
				v = "-";
			fprintf(ctl->out, "  %-16s", names[i]);
			duetctl_print_text(ctl->out, v, strlen(v));
			fputc('\n', ctl->out);
		}
		if (known)
			fprintf(ctl->out, "  %-16s%llu\n", "room", (unsigned long long)room);
		else
			fprintf(ctl->out, "  %-16s-\n", "room");
		fprintf(ctl->out, "  %-16s%s\n", "drain_since_ms", since[0] != '\0' ? since : "-");
	}
	freeReplyObject(r);
	return DUETCTL_EXIT_OK;
}

/* The heartbeat display: every field duetd writes, and the drain flag. */
static int
relay_show(struct duetctl *ctl)
{
	char key[DUET_REDIS_KEY_MAX], since[32];
	struct duetctl_field *f;
	redisReply *hb = NULL;
	struct duetctl_json j;
	size_t n;
	int rc;

	duetctl_key(ctl, key, "relay", NULL);
	if (duetctl_connect(ctl) != 0)
		return DUETCTL_EXIT_FAIL;
	if (duetctl_hgetall(ctl, "relay", key, &hb) != 0)
		return DUETCTL_EXIT_FAIL;
	rc = heartbeat_then_flag(ctl, "relay", hb, hb->elements > 0, since, sizeof(since));
	if (rc != 0)
		return rc;
	f = duetctl_sorted_fields(hb, &n);
	if (f == NULL) {
		freeReplyObject(hb);
		return duetctl_fail("relay: out of memory");
	}
	duetctl_json_init(&j, ctl->out);
	if (ctl->json) {
		duetctl_json_open(&j, '{');
		duetctl_json_kv(&j, "relay", ctl->relay);
		duetctl_json_key(&j, "heartbeat", 9);
		duetctl_print_hash(ctl, &j, f, n, NULL, DUETCTL_NUM_DUETD);
		json_since(&j, since);
		duetctl_json_close(&j, '}');
		duetctl_json_end(&j);
	} else {
		fprintf(ctl->out, "relay %s\n", ctl->relay);
		duetctl_print_hash(ctl, &j, f, n, NULL, DUETCTL_NUM_DUETD);
		if (since[0] != '\0') {
			fputs("drain flag set at ", ctl->out);
			duetctl_print_text(ctl->out, since, strlen(since));
			fputs(" ms: the relay takes no new pairs\n", ctl->out);
		} else {
			fputs("drain flag not set\n", ctl->out);
		}
	}
	free(f);
	freeReplyObject(hb);
	return DUETCTL_EXIT_OK;
}

/* What the heartbeat said: updated_ms (the round), draining, pairs,
 * stopped_ms, stats_interval_ms. */
enum { HB_UPDATED, HB_DRAINING, HB_PAIRS, HB_STOPPED, HB_INTERVAL, HB_FIELDS };

static redisReply *
read_heartbeat(struct duetctl *ctl, const char *what)
{
	char key[DUET_REDIS_KEY_MAX];
	const char *hm[2 + HB_FIELDS] = {"HMGET", key, "updated_ms", "draining", "pairs",
					 "stopped_ms", "stats_interval_ms"};

	duetctl_key(ctl, key, "relay", NULL);
	return command(ctl, what, 2 + HB_FIELDS, hm);
}

/* Print the outcome of drain or undrain. confirmed: the heartbeat hb shows
 * it; else why says what is known. */
static void
drain_report(struct duetctl *ctl, bool drain, const char *since, const redisReply *hb,
	     const char *why)
{
	const char *pairs = duetctl_reply_str(hb, HB_PAIRS);
	struct duetctl_json j;

	if (ctl->json) {
		duetctl_json_init(&j, ctl->out);
		duetctl_json_open(&j, '{');
		duetctl_json_kv(&j, "relay", ctl->relay);
		duetctl_json_ku64(&j, "draining", drain ? 1 : 0);
		json_since(&j, drain ? since : NULL);
		duetctl_json_kbool(&j, "confirmed", why == NULL);
		if (why == NULL)
			json_hm(&j, "pairs", hb, HB_PAIRS);
		else
			duetctl_json_kv(&j, "note", why);
		duetctl_json_close(&j, '}');
		duetctl_json_end(&j);
		return;
	}
	if (why != NULL)
		fprintf(ctl->out, "relay %s: drain flag %s; %s\n", ctl->relay,
			drain ? "set" : "cleared", why);
	else if (drain)
		fprintf(ctl->out, "relay %s draining: %s live pairs\n", ctl->relay,
			pairs != NULL && duetctl_is_decimal(pairs, strlen(pairs)) ? pairs : "?");
	else
		fprintf(ctl->out, "relay %s accepting pairs\n", ctl->relay);
}

/* Set (drain) or clear the flag; since gets the time the drain began. */
static int
drain_write(struct duetctl *ctl, bool drain, char *since, size_t len)
{
	char key[DUET_REDIS_KEY_MAX], now[24];
	const char *set[5] = {"SET", key, now, "NX"};
	const char *del[2] = {"DEL", key};
	redisReply *r;

	duetctl_key(ctl, key, "drain", NULL);
	snprintf(now, sizeof(now), "%llu", (unsigned long long)duetctl_now_ms(CLOCK_REALTIME));
	/* NX: a second drain keeps the time the first one began. */
	r = drain ? command(ctl, "relay drain", 4, set) : command(ctl, "relay undrain", 2, del);
	if (r == NULL)
		return DUETCTL_EXIT_FAIL;
	freeReplyObject(r);
	since[0] = '\0';
	return drain ? drain_flag(ctl, "relay drain", since, len) : 0;
}

/*
 * Wait until a heartbeat written after `before` (another updated_ms) shows
 * draining = want. @return the heartbeat that does (caller frees), or NULL
 * at the deadline or after a Redis failure (*failed set).
 */
static redisReply *
drain_await(struct duetctl *ctl, const char *what, const redisReply *before, bool drain,
	    bool *failed)
{
	const char *iv = duetctl_reply_str(before, HB_INTERVAL);
	const char *upd0 = duetctl_reply_str(before, HB_UPDATED);
	uint64_t interval = STATS_INTERVAL_DEFAULT_MS, wait_ms, deadline;
	char upd_before[24];
	redisReply *hb;

	if (iv != NULL && duet_parse_u64(iv, 1, 3600000, &interval) != 0)
		interval = STATS_INTERVAL_DEFAULT_MS;
	wait_ms = DRAIN_ROUNDS * interval > DRAIN_WAIT_MIN_MS ? DRAIN_ROUNDS * interval
							       : DRAIN_WAIT_MIN_MS;
	deadline = duetctl_now_ms(CLOCK_MONOTONIC) + wait_ms;
	snprintf(upd_before, sizeof(upd_before), "%s", upd0 != NULL ? upd0 : "");
	*failed = false;
	for (;;) {
		const char *upd, *d;

		hb = read_heartbeat(ctl, what);
		if (hb == NULL) {
			*failed = true;
			return NULL;
		}
		upd = duetctl_reply_str(hb, HB_UPDATED);
		d = duetctl_reply_str(hb, HB_DRAINING);
		if (upd != NULL && strcmp(upd, upd_before) != 0 && d != NULL &&
		    strcmp(d, drain ? "1" : "0") == 0)
			return hb;
		freeReplyObject(hb);
		if (duetctl_now_ms(CLOCK_MONOTONIC) >= deadline)
			return NULL;
		duetctl_sleep_ms(DRAIN_POLL_MS);
	}
}

/* relay drain | relay undrain (argv[0] is "drain" or "undrain"). */
static int
relay_drain(struct duetctl *ctl, int argc, char **argv, bool drain)
{
	static const struct option opts[] = {
		{"no-wait", no_argument, NULL, OPT_NO_WAIT},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	const char *what = drain ? "relay drain" : "relay undrain";
	redisReply *before, *after;
	bool no_wait = false, failed;
	char since[32];
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case OPT_NO_WAIT:
			no_wait = true;
			break;
		case OPT_JSON:
			ctl->json = true;
			break;
		case OPT_HELP:
			fprintf(ctl->out, "usage: %s\n", drain_usage);
			return DUETCTL_EXIT_OK;
		default:
			return duetctl_usage_err("%s: unknown option '%s'", what, argv[optind - 1]);
		}
	}
	if (optind < argc)
		return duetctl_usage_err("%s: unexpected argument '%s'", what, argv[optind]);
	if (duetctl_connect(ctl) != 0)
		return DUETCTL_EXIT_FAIL;
	/* The round before the change, so the one that shows it is new. */
	before = read_heartbeat(ctl, what);
	if (before == NULL)
		return DUETCTL_EXIT_FAIL;
	rc = drain_write(ctl, drain, since, sizeof(since));
	if (rc != 0) {
		freeReplyObject(before);
		return rc;
	}
	if (duetctl_reply_str(before, HB_UPDATED) == NULL ||
	    duetctl_reply_str(before, HB_STOPPED) != NULL) {
		drain_report(ctl, drain, since, before,
			     drain ? "duetd is not running (no heartbeat): it takes no new "
				     "pairs from its start"
				   : "duetd is not running (no heartbeat)");
		freeReplyObject(before);
		return DUETCTL_EXIT_OK;
	}
	if (no_wait) {
		drain_report(ctl, drain, since, before, "not waiting for duetd (--no-wait)");
		freeReplyObject(before);
		return DUETCTL_EXIT_OK;
	}
	after = drain_await(ctl, what, before, drain, &failed);
	freeReplyObject(before);
	if (failed)
		return DUETCTL_EXIT_FAIL;
	if (after == NULL)
		return duetctl_fail("relay %s: drain flag %s, but duetd's heartbeat did not show "
				    "draining %d within three stats rounds (a duetd without "
				    "drain, or one away from Redis); the flag stays %s",
				    ctl->relay, drain ? "set" : "cleared", drain ? 1 : 0,
				    drain ? "set" : "cleared");
	drain_report(ctl, drain, since, after, NULL);
	freeReplyObject(after);
	return DUETCTL_EXIT_OK;
}

int
duetctl_cmd_relay(struct duetctl *ctl, int argc, char **argv)
{
	int rc;

	if (argc >= 2 && strcmp(argv[1], "drain") == 0)
		return relay_drain(ctl, argc - 1, argv + 1, true);
	if (argc >= 2 && strcmp(argv[1], "undrain") == 0)
		return relay_drain(ctl, argc - 1, argv + 1, false);
	rc = duetctl_parse_no_operand(ctl, argc, argv,
				      "duetctl relay [--json] | relay drain|undrain [--no-wait]");
	return rc >= 0 ? rc : relay_show(ctl);
}
