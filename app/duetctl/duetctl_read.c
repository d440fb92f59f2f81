/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duetctl's reading commands: list and show the pair records with duetd's
 * live stats, the ended-pairs stream and the drop reasons, and the hash
 * reading and printing the relay commands use too. They only read Redis.
 * Values are printed terminal-safe or as escaped JSON (figures as JSON
 * numbers), and reserved SDES key fields are never shown. list pages
 * through the pair keys with SCAN and prints each page as it comes, in
 * Redis's order, so its memory does not grow with the relay.
 * Single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duet_parse.h"
#include "duet_stats.h"
#include "duetctl.h"

#define ENDED_COUNT_MAX 100000ULL
#define LIST_PAGE "1000" /* SCAN COUNT of list: keys looked at per round trip */

enum {
	OPT_COUNT = 256,
	OPT_JSON,
	OPT_HELP,
};

const char *
duetctl_reply_str(const redisReply *r, size_t i)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
	    r->element[i]->type != REDIS_REPLY_STRING)
		return NULL;
	return r->element[i]->str;
}

static void
list_row(struct duetctl *ctl, struct duetctl_json *j, const char *id, const redisReply *pair,
	 const redisReply *stats)
{
	const char *a = duetctl_reply_str(pair, 0), *b = duetctl_reply_str(pair, 1);
	const char *mode = duetctl_reply_str(pair, 2);
	const char *state = stats != NULL && stats->type == REDIS_REPLY_STRING ? stats->str : NULL;

	if (pair != NULL && pair->type == REDIS_REPLY_ERROR)
		mode = "(not a hash)";
	if (ctl->json) {
		duetctl_json_open(j, '{');
		duetctl_json_kv(j, "id", id);
		duetctl_json_kv(j, "a", a);
		duetctl_json_kv(j, "b", b);
		duetctl_json_kv(j, "mode", mode);
		duetctl_json_kv(j, "state", state != NULL ? state : "unknown");
		duetctl_json_close(j, '}');
		return;
	}
	fprintf(ctl->out, "%-24s %-24s %-24s %-12s %s\n", id, a != NULL ? a : "-",
		b != NULL ? b : "-", mode != NULL ? mode : "-", state != NULL ? state : "unknown");
}

/* The pair id of key k of a SCAN page (after the prefix's plen bytes), or
 * NULL for a key that cannot be a pair's. */
static const char *
page_id(const redisReply *k, size_t plen)
{
	if (k->type != REDIS_REPLY_STRING || k->len <= plen || !duet_record_id_ok(k->str + plen))
		return NULL;
	return k->str + plen;
}

/* An HMGET a b mode that found none of them: the pair was deleted since
 * SCAN saw its key (or the hash is no pair at all). */
static bool
pair_gone(const redisReply *pair)
{
	return pair->type == REDIS_REPLY_ARRAY && duetctl_reply_str(pair, 0) == NULL &&
	       duetctl_reply_str(pair, 1) == NULL && duetctl_reply_str(pair, 2) == NULL;
}

/* One SCAN page of pair keys: the two reads of each pipelined, then a row
 * printed for each pair. @return 0 or DUETCTL_EXIT_FAIL after a message. */
static int
list_page(struct duetctl *ctl, struct duetctl_json *j, const redisReply *keys, size_t plen)
{
	size_t i, n = 0;
	int rc = 0;

	for (i = 0; i < keys->elements; i++) {
		const char *id = page_id(keys->element[i], plen);
		const char *hm[5] = {"HMGET", keys->element[i]->str, DUET_FIELD_A, DUET_FIELD_B,
				     DUET_FIELD_MODE};
		char sk[DUET_REDIS_KEY_MAX];
		const char *hg[3] = {"HGET", sk, "state"};

		if (id == NULL)
			continue;
		duetctl_key(ctl, sk, "stats:", id);
		if (duet_redis_append(&ctl->redis, 5, hm, NULL) != 0 ||
		    duet_redis_append(&ctl->redis, 3, hg, NULL) != 0)
			return duetctl_fail("list: %s", ctl->redis.errstr);
		n++;
	}
	for (i = 0; i < keys->elements && n > 0 && rc == 0; i++) {
		const char *id = page_id(keys->element[i], plen);
		redisReply *pair, *stats;

		if (id == NULL)
			continue;
		n--;
		pair = duet_redis_get_reply(&ctl->redis);
		stats = pair != NULL ? duet_redis_get_reply(&ctl->redis) : NULL;
		if (stats == NULL)
			rc = duetctl_fail("list: %s", ctl->redis.errstr);
		else if (!pair_gone(pair))
			list_row(ctl, j, id, pair, stats);
		freeReplyObject(pair);
		freeReplyObject(stats);
	}
	return rc;
}

int
duetctl_cmd_list(struct duetctl *ctl, int argc, char **argv)
{
	char prefix[DUET_REDIS_KEY_MAX], pattern[DUET_REDIS_KEY_MAX + 1], cursor[32] = "0";
	const char *scan[6] = {"SCAN", cursor, "MATCH", pattern, "COUNT", LIST_PAGE};
	struct duetctl_json j;
	redisReply *reply;
	int rc;

	rc = duetctl_parse_no_operand(ctl, argc, argv, "duetctl list");
	if (rc >= 0)
		return rc;
	duetctl_key(ctl, prefix, "pair:", NULL);
	snprintf(pattern, sizeof(pattern), "%s*", prefix);
	if (duetctl_connect(ctl) != 0)
		return DUETCTL_EXIT_FAIL;

	duetctl_json_init(&j, ctl->out);
	if (ctl->json)
		duetctl_json_open(&j, '[');
	else
		fprintf(ctl->out, "%-24s %-24s %-24s %-12s %s\n", "ID", "A", "B", "MODE", "STATE");
	/* SCAN returns every key that exists for the whole listing at least
	 * once (one that is created or deleted meanwhile may or may not show,
	 * and a rehash may show one twice), in the order of Redis's table. */
	do {
		reply = duet_redis_command(&ctl->redis, 6, scan, NULL);
		if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
		    reply->element[0]->type != REDIS_REPLY_STRING ||
		    reply->element[1]->type != REDIS_REPLY_ARRAY) {
			rc = reply == NULL ? duetctl_fail("list: %s", ctl->redis.errstr)
			     : reply->type == REDIS_REPLY_ERROR
				     ? duetctl_fail("list: SCAN failed: %s", reply->str)
				     : duetctl_fail("list: SCAN failed: unexpected reply");
			freeReplyObject(reply);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", reply->element[0]->str);
		rc = list_page(ctl, &j, reply->element[1], strlen(prefix));
		freeReplyObject(reply);
		/* Each page leaves at once: a long listing shows as it goes. */
		fflush(ctl->out);
	} while (rc == 0 && strcmp(cursor, "0") != 0);
	if (rc != 0)
		return rc;
	if (ctl->json) {
		duetctl_json_close(&j, ']');
		duetctl_json_end(&j);
	}
	return DUETCTL_EXIT_OK;
}

static int
cmp_field(const void *x, const void *y)
{
	const struct duetctl_field *a = x, *b = y;

	return strcmp(a->name->str, b->name->str);
}

struct duetctl_field *
duetctl_sorted_fields(const redisReply *r, size_t *n)
{
	struct duetctl_field *f;
	size_t i, k = 0;

	*n = 0;
	f = calloc(r->elements / 2 + 1, sizeof(*f));
	if (f == NULL)
		return NULL;
	for (i = 0; i + 1 < r->elements; i += 2) {
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    r->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		f[k].name = r->element[i];
		f[k].value = r->element[i + 1];
		k++;
	}
	qsort(f, k, sizeof(*f), cmp_field);
	*n = k;
	return f;
}

static bool
is_pin_field(const char *name)
{
	return strcmp(name, DUET_FIELD_A_SRC) == 0 || strcmp(name, DUET_FIELD_B_SRC) == 0;
}

/* Is field `name` of a hash of kind nums a figure (printed as a JSON
 * number when its value is decimal)? A pair record's own fields are the
 * control plane's text but for the contract's numbers; in what duetd
 * writes, everything but the pair id and the reason is a figure or a word
 * (state, mode, version) that is never decimal. */
static bool
is_figure(enum duetctl_numbers nums, const char *name)
{
	static const char *const record_numbers[] = {DUET_FIELD_IDLE_MS, DUET_FIELD_EXPIRES,
						      DUET_FIELD_MAX_PPS, DUET_FIELD_MAX_KBPS};
	size_t i;

	if (nums == DUETCTL_NUM_DUETD)
		return strcmp(name, "id") != 0 && strcmp(name, "reason") != 0;
	for (i = 0; i < sizeof(record_numbers) / sizeof(record_numbers[0]); i++)
		if (strcmp(name, record_numbers[i]) == 0)
			return true;
	return false;
}

/* One field/value as a JSON member. */
static void
json_member(struct duetctl_json *j, enum duetctl_numbers nums, const redisReply *name,
	    const redisReply *value)
{
	duetctl_json_key(j, name->str, name->len);
	if (is_figure(nums, name->str))
		duetctl_json_num_or_str(j, value->str, value->len);
	else
		duetctl_json_str(j, value->str, value->len);
}

void
duetctl_print_hash(struct duetctl *ctl, struct duetctl_json *j, const struct duetctl_field *f,
		   size_t n, const char *first, enum duetctl_numbers nums)
{
	size_t pass, i;

	if (ctl->json)
		duetctl_json_open(j, '{');
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			const char *name = f[i].name->str;
			bool is_first = first != NULL && strcmp(name, first) == 0;
			/* SDES key material: never printed. */
			bool secret = duet_key_field_index(name, f[i].name->len) >= 0;

			if ((pass == 0) != is_first)
				continue;
			if (ctl->json && secret) {
				duetctl_json_key(j, name, f[i].name->len);
				duetctl_json_str(j, "(hidden)", 8);
				continue;
			}
			if (ctl->json) {
				json_member(j, nums, f[i].name, f[i].value);
				continue;
			}
			fputs("  ", ctl->out);
			duetctl_print_text(ctl->out, name, f[i].name->len);
			/* Values line up in one column after the names. */
			fprintf(ctl->out, "%*s",
				f[i].name->len < 22 ? (int)(22 - f[i].name->len) : 1, "");
			if (secret)
				fputs("(set, hidden)", ctl->out);
			else
				duetctl_print_text(ctl->out, f[i].value->str, f[i].value->len);
			if (is_pin_field(name))
				fputs(" (pinned)", ctl->out);
			fputc('\n', ctl->out);
		}
	}
	if (ctl->json)
		duetctl_json_close(j, '}');
}

int
duetctl_hgetall(struct duetctl *ctl, const char *what, const char *key, redisReply **out)
{
	const char *argv[2] = {"HGETALL", key};
	redisReply *r = duet_redis_command(&ctl->redis, 2, argv, NULL);

	if (r == NULL)
		return duetctl_fail("%s: %s", what, ctl->redis.errstr);
	if (r->type != REDIS_REPLY_ARRAY) {
		duetctl_fail("%s: cannot read %s: %s", what, key,
			     r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		freeReplyObject(r);
		return DUETCTL_EXIT_FAIL;
	}
	*out = r;
	return 0;
}

int
duetctl_cmd_show(struct duetctl *ctl, int argc, char **argv)
{
	char pk[DUET_REDIS_KEY_MAX], sk[DUET_REDIS_KEY_MAX];
	redisReply *pair = NULL, *stats = NULL;
	struct duetctl_field *pf = NULL, *sf = NULL;
	size_t np = 0, ns = 0;
	struct duetctl_json j;
	const char *id = NULL;
	int rc;

	rc = duetctl_parse_id_operand(ctl, argc, argv, "duetctl show ID", &id);
	if (rc >= 0)
		return rc;
	duetctl_key(ctl, pk, "pair:", id);
	duetctl_key(ctl, sk, "stats:", id);
	if (duetctl_connect(ctl) != 0)
		return DUETCTL_EXIT_FAIL;
	if (duetctl_hgetall(ctl, "show", pk, &pair) != 0)
		return DUETCTL_EXIT_FAIL;
	if (pair->elements == 0) {
		freeReplyObject(pair);
		return duetctl_fail("no pair %s", id);
	}
	if (duetctl_hgetall(ctl, "show", sk, &stats) != 0) {
		freeReplyObject(pair);
		return DUETCTL_EXIT_FAIL;
	}
	pf = duetctl_sorted_fields(pair, &np);
	sf = duetctl_sorted_fields(stats, &ns);
	if (pf == NULL || sf == NULL) {
		rc = duetctl_fail("show: out of memory");
		goto out;
	}

	duetctl_json_init(&j, ctl->out);
	if (ctl->json) {
		duetctl_json_open(&j, '{');
		duetctl_json_kv(&j, "id", id);
		duetctl_json_kv(&j, "relay", ctl->relay);
		duetctl_json_key(&j, "pair", 4);
		duetctl_print_hash(ctl, &j, pf, np, NULL, DUETCTL_NUM_RECORD);
		duetctl_json_key(&j, "stats", 5);
		if (ns > 0)
			duetctl_print_hash(ctl, &j, sf, ns, "state", DUETCTL_NUM_DUETD);
		else
			duetctl_json_str(&j, NULL, 0);
		duetctl_json_close(&j, '}');
		duetctl_json_end(&j);
	} else {
		fprintf(ctl->out, "pair %s on relay %s\n", id, ctl->relay);
		duetctl_print_hash(ctl, &j, pf, np, NULL, DUETCTL_NUM_RECORD);
		if (ns > 0) {
			fputs("stats\n", ctl->out);
			duetctl_print_hash(ctl, &j, sf, ns, "state", DUETCTL_NUM_DUETD);
		} else {
			fputs("stats: none yet (duetd has not reported this pair)\n", ctl->out);
		}
	}
	rc = DUETCTL_EXIT_OK;
out:
	free(pf);
	free(sf);
	freeReplyObject(pair);
	freeReplyObject(stats);
	return rc;
}

/* One XREVRANGE entry: [entry-id, [field, value, ...]]. */
static void
print_ended_entry(struct duetctl *ctl, struct duetctl_json *j, const redisReply *e)
{
	const redisReply *fv;
	size_t i;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING || e->element[1]->type != REDIS_REPLY_ARRAY)
		return;
	fv = e->element[1];
	if (ctl->json) {
		duetctl_json_open(j, '{');
		duetctl_json_kv(j, "entry", e->element[0]->str);
	} else {
		duetctl_print_text(ctl->out, e->element[0]->str, e->element[0]->len);
	}
	/* Stored order: duetd writes id and reason first, which reads best. */
	for (i = 0; i + 1 < fv->elements; i += 2) {
		const redisReply *name = fv->element[i], *value = fv->element[i + 1];

		if (name->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING)
			continue;
		if (ctl->json) {
			json_member(j, DUETCTL_NUM_DUETD, name, value);
		} else {
			fputc(' ', ctl->out);
			duetctl_print_text(ctl->out, name->str, name->len);
			fputc('=', ctl->out);
			duetctl_print_text(ctl->out, value->str, value->len);
		}
	}
	if (ctl->json)
		duetctl_json_close(j, '}');
	else
		fputc('\n', ctl->out);
}

int
duetctl_cmd_ended(struct duetctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{"count", required_argument, NULL, OPT_COUNT},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0},
	};
	char key[DUET_REDIS_KEY_MAX], count_str[24] = "10";
	const char *cmd[6] = {"XREVRANGE", key, "+", "-", "COUNT", count_str};
	struct duetctl_json j;
	redisReply *reply;
	uint64_t count;
	size_t i;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case OPT_COUNT:
			if (duet_parse_u64(optarg, 1, ENDED_COUNT_MAX, &count) != 0)
				return duetctl_usage_err("--count: '%s' is not a whole number in "
							 "1..%llu",
							 optarg, ENDED_COUNT_MAX);
			snprintf(count_str, sizeof(count_str), "%llu", (unsigned long long)count);
			break;
		case OPT_JSON:
			ctl->json = true;
			break;
		case OPT_HELP:
			fputs("usage: duetctl ended [--count N]\n", ctl->out);
			return DUETCTL_EXIT_OK;
		case ':':
			return duetctl_usage_err("ended: option '%s' needs a value",
						 argv[optind - 1]);
		default:
			return duetctl_usage_err("ended: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return duetctl_usage_err("ended: unexpected argument '%s'", argv[optind]);
	duetctl_key(ctl, key, "ended", NULL);
	if (duetctl_connect(ctl) != 0)
		return DUETCTL_EXIT_FAIL;
	reply = duet_redis_command(&ctl->redis, 6, cmd, NULL);
	if (reply == NULL)
		return duetctl_fail("ended: %s", ctl->redis.errstr);
	if (reply->type != REDIS_REPLY_ARRAY) {
		duetctl_fail("ended: cannot read %s: %s", key,
			     reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
		freeReplyObject(reply);
		return DUETCTL_EXIT_FAIL;
	}
	duetctl_json_init(&j, ctl->out);
	if (ctl->json)
		duetctl_json_open(&j, '[');
	/* XREVRANGE gives newest first; print oldest first, like a log. */
	for (i = reply->elements; i > 0; i--)
		print_ended_entry(ctl, &j, reply->element[i - 1]);
	if (ctl->json) {
		duetctl_json_close(&j, ']');
		duetctl_json_end(&j);
	}
	freeReplyObject(reply);
	return DUETCTL_EXIT_OK;
}

int
duetctl_cmd_drops(struct duetctl *ctl, int argc, char **argv)
{
	char name[64];
	struct duetctl_json j;
	unsigned int d;
	int rc;

	rc = duetctl_parse_no_operand(ctl, argc, argv, "duetctl drops [--json]");
	if (rc >= 0)
		return rc;
	if (ctl->json) {
		duetctl_json_init(&j, ctl->out);
		duetctl_json_open(&j, '{');
	}
	for (d = 0; d < DUET_DROP_MAX; d++) {
		snprintf(name, sizeof(name), "drop_%s", duet_drop_name((enum duet_drop)d));
		if (ctl->json)
			duetctl_json_kv(&j, name, duet_drop_help((enum duet_drop)d));
		else
			fprintf(ctl->out, "%-24s %s\n", name, duet_drop_help((enum duet_drop)d));
	}
	if (ctl->json) {
		duetctl_json_close(&j, '}');
		duetctl_json_end(&j);
	}
	return DUETCTL_EXIT_OK;
}
