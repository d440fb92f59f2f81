/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duetctl's reading commands: list and show the pair records with duetd's
 * live stats, the relay heartbeat, and the ended-pairs stream. They only
 * read Redis. Values are printed terminal-safe or as escaped JSON, and
 * reserved SDES key fields are never shown. Single-threaded.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duet_parse.h"
#include "duet_stats.h"
#include "duetctl.h"

#define ENDED_COUNT_MAX 100000ULL
#define LIST_BATCH 256 /* pairs per pipelined round trip in list */

enum {
	OPT_COUNT = 256,
	OPT_JSON,
	OPT_HELP,
};

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Collect the ids of all pair keys (SCAN, which may repeat keys: the list
 * is sorted and made unique). @return 0 or DUETCTL_EXIT_FAIL. */
static int
scan_pair_ids(struct duetctl *ctl, char ***ids_out, size_t *n_out)
{
	char prefix[DUET_REDIS_KEY_MAX], pattern[DUET_REDIS_KEY_MAX + 1], cursor[32] = "0";
	size_t plen, n = 0, cap = 0, i, k;
	char **ids = NULL;
	redisReply *reply;

	duetctl_key(ctl, prefix, "pair:", NULL);
	plen = strlen(prefix);
	snprintf(pattern, sizeof(pattern), "%s*", prefix);
	do {
		const char *argv[6] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"};
		redisReply *keys;

		reply = duet_redis_command(&ctl->redis, 6, argv, NULL);
		if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
		    reply->element[0]->type != REDIS_REPLY_STRING ||
		    reply->element[1]->type != REDIS_REPLY_ARRAY) {
			if (reply == NULL)
				duetctl_fail("list: %s", ctl->redis.errstr);
			else
				duetctl_fail("list: SCAN failed: %s",
					     reply->type == REDIS_REPLY_ERROR ? reply->str
									      : "unexpected reply");
			freeReplyObject(reply);
			goto err;
		}
		snprintf(cursor, sizeof(cursor), "%s", reply->element[0]->str);
		keys = reply->element[1];
		for (i = 0; i < keys->elements; i++) {
			if (keys->element[i]->type != REDIS_REPLY_STRING ||
			    keys->element[i]->len <= plen)
				continue;
			if (n == cap) {
				char **grown;

				cap = cap != 0 ? 2 * cap : 64;
				grown = realloc(ids, cap * sizeof(*ids));
				if (grown == NULL) {
					freeReplyObject(reply);
					duetctl_fail("list: out of memory");
					goto err;
				}
				ids = grown;
			}
			ids[n] = strdup(keys->element[i]->str + plen);
			if (ids[n] == NULL) {
				freeReplyObject(reply);
				duetctl_fail("list: out of memory");
				goto err;
			}
			n++;
		}
		freeReplyObject(reply);
	} while (strcmp(cursor, "0") != 0);

	if (n > 0)
		qsort(ids, n, sizeof(*ids), cmp_str);
	for (i = 0, k = 0; i < n; i++) {
		if (k > 0 && strcmp(ids[k - 1], ids[i]) == 0)
			free(ids[i]);
		else
			ids[k++] = ids[i];
	}
	*ids_out = ids;
	*n_out = k;
	return 0;
err:
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return DUETCTL_EXIT_FAIL;
}

/* Text of element i of an HMGET reply, or NULL when absent. */
static const char *
reply_str(const redisReply *r, size_t i)
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
	const char *a = reply_str(pair, 0), *b = reply_str(pair, 1), *mode = reply_str(pair, 2);
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

int
duetctl_cmd_list(struct duetctl *ctl, int argc, char **argv)
{
	struct duetctl_json j;
	char **ids = NULL;
	size_t n = 0, i, start;
	int rc;

	rc = duetctl_parse_simple(ctl, argc, argv, "duetctl list");
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return duetctl_usage_err("list: unexpected argument '%s'", argv[optind]);
	if (duetctl_connect(ctl) != 0)
		return DUETCTL_EXIT_FAIL;
	if (scan_pair_ids(ctl, &ids, &n) != 0)
		return DUETCTL_EXIT_FAIL;

	duetctl_json_init(&j, ctl->out);
	if (ctl->json)
		duetctl_json_open(&j, '[');
	else
		fprintf(ctl->out, "%-24s %-24s %-24s %-12s %s\n", "ID", "A", "B", "MODE", "STATE");
	rc = DUETCTL_EXIT_OK;
	/* Two reads per pair, pipelined in batches: one round trip per batch
	 * keeps list fast on a relay with thousands of pairs. */
	for (start = 0; start < n && rc == DUETCTL_EXIT_OK; start += LIST_BATCH) {
		size_t end = start + LIST_BATCH < n ? start + LIST_BATCH : n;

		for (i = start; i < end && rc == DUETCTL_EXIT_OK; i++) {
			char pk[DUET_REDIS_KEY_MAX], sk[DUET_REDIS_KEY_MAX];
			const char *hm[5] = {"HMGET", pk, "a", "b", "mode"};
			const char *hg[3] = {"HGET", sk, "state"};

			duetctl_key(ctl, pk, "pair:", ids[i]);
			duetctl_key(ctl, sk, "stats:", ids[i]);
			if (duet_redis_append(&ctl->redis, 5, hm, NULL) != 0 ||
			    duet_redis_append(&ctl->redis, 3, hg, NULL) != 0)
				rc = duetctl_fail("list: %s", ctl->redis.errstr);
		}
		for (i = start; i < end && rc == DUETCTL_EXIT_OK; i++) {
			redisReply *pair = duet_redis_get_reply(&ctl->redis);
			redisReply *stats = pair != NULL ? duet_redis_get_reply(&ctl->redis) : NULL;

			if (stats == NULL)
				rc = duetctl_fail("list: %s", ctl->redis.errstr);
			else
				list_row(ctl, &j, ids[i], pair, stats);
			freeReplyObject(pair);
			freeReplyObject(stats);
		}
	}
	if (ctl->json) {
		duetctl_json_close(&j, ']');
		duetctl_json_end(&j);
	}
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return rc;
}

struct field {
	const redisReply *name;
	const redisReply *value;
};

static int
cmp_field(const void *x, const void *y)
{
	const struct field *a = x, *b = y;

	return strcmp(a->name->str, b->name->str);
}

/* The field/value pairs of an HGETALL reply, sorted by name (Redis hash
 * order is arbitrary; operators compare outputs). Caller frees. */
static struct field *
sorted_fields(const redisReply *r, size_t *n)
{
	struct field *f;
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
	return strcmp(name, "a_src") == 0 || strcmp(name, "b_src") == 0;
}

/* Print a hash as "  field  value" lines or as a JSON object, `first`
 * (if present) before the others. */
static void
print_hash(struct duetctl *ctl, struct duetctl_json *j, const struct field *f, size_t n,
	   const char *first)
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
			if (ctl->json) {
				duetctl_json_key(j, name, f[i].name->len);
				if (secret)
					duetctl_json_str(j, "(hidden)", 8);
				else
					duetctl_json_str(j, f[i].value->str, f[i].value->len);
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

/* HGETALL key into *out. @return 0 or DUETCTL_EXIT_FAIL after a message. */
static int
hgetall(struct duetctl *ctl, const char *what, const char *key, redisReply **out)
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
	struct field *pf = NULL, *sf = NULL;
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
	if (hgetall(ctl, "show", pk, &pair) != 0)
		return DUETCTL_EXIT_FAIL;
	if (pair->elements == 0) {
		freeReplyObject(pair);
		return duetctl_fail("no pair %s", id);
	}
	if (hgetall(ctl, "show", sk, &stats) != 0) {
		freeReplyObject(pair);
		return DUETCTL_EXIT_FAIL;
	}
	pf = sorted_fields(pair, &np);
	sf = sorted_fields(stats, &ns);
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
		print_hash(ctl, &j, pf, np, NULL);
		duetctl_json_key(&j, "stats", 5);
		if (ns > 0)
			print_hash(ctl, &j, sf, ns, "state");
		else
			duetctl_json_str(&j, NULL, 0);
		duetctl_json_close(&j, '}');
		duetctl_json_end(&j);
	} else {
		fprintf(ctl->out, "pair %s on relay %s\n", id, ctl->relay);
		print_hash(ctl, &j, pf, np, NULL);
		if (ns > 0) {
			fputs("stats\n", ctl->out);
			print_hash(ctl, &j, sf, ns, "state");
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

int
duetctl_cmd_relay(struct duetctl *ctl, int argc, char **argv)
{
	char key[DUET_REDIS_KEY_MAX];
	redisReply *hb = NULL;
	struct duetctl_json j;
	struct field *f;
	size_t n;
	int rc;

	rc = duetctl_parse_simple(ctl, argc, argv, "duetctl relay");
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return duetctl_usage_err("relay: unexpected argument '%s'", argv[optind]);
	duetctl_key(ctl, key, "relay", NULL);
	if (duetctl_connect(ctl) != 0)
		return DUETCTL_EXIT_FAIL;
	if (hgetall(ctl, "relay", key, &hb) != 0)
		return DUETCTL_EXIT_FAIL;
	if (hb->elements == 0) {
		freeReplyObject(hb);
		return duetctl_fail("relay %s: no heartbeat (down or never started)", ctl->relay);
	}
	f = sorted_fields(hb, &n);
	if (f == NULL) {
		freeReplyObject(hb);
		return duetctl_fail("relay: out of memory");
	}
	duetctl_json_init(&j, ctl->out);
	if (ctl->json) {
		duetctl_json_open(&j, '{');
		duetctl_json_kv(&j, "relay", ctl->relay);
		duetctl_json_key(&j, "heartbeat", 9);
		print_hash(ctl, &j, f, n, NULL);
		duetctl_json_close(&j, '}');
		duetctl_json_end(&j);
	} else {
		fprintf(ctl->out, "relay %s\n", ctl->relay);
		print_hash(ctl, &j, f, n, NULL);
	}
	free(f);
	freeReplyObject(hb);
	return DUETCTL_EXIT_OK;
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
			duetctl_json_key(j, name->str, name->len);
			duetctl_json_str(j, value->str, value->len);
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

	rc = duetctl_parse_simple(ctl, argc, argv, "duetctl drops [--json]");
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return duetctl_usage_err("drops: unexpected argument '%s'", argv[optind]);
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
