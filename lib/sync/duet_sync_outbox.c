/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_sync's outbox: writes that must reach Redis even across a disconnect
 * (an ended pair's entry and final stats, a rejection, the delete of a pair
 * that idled out or expired). A bounded FIFO, replayed in order after a
 * reconnect; delivery is at least once, so a write whose reply was lost with
 * the connection may be repeated. Runs on duetd's control thread inside
 * duet_sync_poll().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sync_internal.h"

struct sync_outbox_entry {
	int script; /* enum duet_redis_script, or -1 for a plain command */
	int nkeys;
	int argc;
	const char **argv;
	size_t *argvlen;
};

int
sync_outbox_init(struct sync_outbox *ob)
{
	memset(ob, 0, sizeof(*ob));
	ob->ring = calloc(DUET_SYNC_OUTBOX_MAX, sizeof(*ob->ring));
	return ob->ring != NULL ? 0 : -ENOMEM;
}

static void
outbox_pop(struct sync_outbox *ob)
{
	free(ob->ring[ob->head]);
	ob->ring[ob->head] = NULL;
	ob->head = (ob->head + 1) % DUET_SYNC_OUTBOX_MAX;
	ob->len--;
	/* Empty: start again at slot 0. Connected, every write passes through
	 * here and is flushed within the round; without this the head walks
	 * the whole 512 kB ring, touching a new page every ~170 ended pairs,
	 * so duetd's RSS crept up for the first ~22,000 pairs of any run. Now
	 * the ring's touched pages are the deepest backlog an outage left. */
	if (ob->len == 0)
		ob->head = 0;
}

void
sync_outbox_free(struct sync_outbox *ob)
{
	if (ob->ring == NULL)
		return;
	while (ob->len > 0)
		outbox_pop(ob);
	free(ob->ring);
	ob->ring = NULL;
}

void
sync_outbox_push(struct duet_sync *s, const struct sync_cmd *c, int script, int nkeys)
{
	struct sync_outbox *ob = &s->ob;
	struct sync_outbox_entry *e;
	char *data;
	size_t i;

	if (c->overflow) {
		SYNC_LOG(ERR, "internal: a command did not fit its buffer; not queued\n");
		return;
	}
	if (ob->len >= DUET_SYNC_OUTBOX_MAX) {
		ob->dropped++;
		if (!ob->overflow_logged)
			SYNC_LOG(ERR,
				 "outbox full (%u writes waiting for Redis): dropping ended "
				 "entries and deletes until Redis is back\n",
				 DUET_SYNC_OUTBOX_MAX);
		ob->overflow_logged = true;
		return;
	}
	/* One allocation: the entry, argv, argvlen, then the strings. */
	e = malloc(sizeof(*e) + (size_t)c->argc * (sizeof(char *) + sizeof(size_t)) + c->used);
	if (e == NULL) {
		ob->dropped++;
		SYNC_LOG(ERR, "out of memory queueing a write to Redis; dropped\n");
		return;
	}
	e->script = script;
	e->nkeys = nkeys;
	e->argc = c->argc;
	e->argv = (const char **)(e + 1);
	e->argvlen = (size_t *)(e->argv + c->argc);
	data = (char *)(e->argvlen + c->argc);
	memcpy(data, c->store, c->used);
	for (i = 0; i < (size_t)c->argc; i++) {
		e->argv[i] = data + c->off[i];
		e->argvlen[i] = c->len[i];
	}
	ob->ring[(ob->head + ob->len) % DUET_SYNC_OUTBOX_MAX] = e;
	ob->len++;
}

void
sync_outbox_flush(struct duet_sync *s, unsigned int budget)
{
	struct sync_outbox *ob = &s->ob;

	while (ob->len > 0 && budget > 0 && s->r.ctx != NULL) {
		struct sync_outbox_entry *e = ob->ring[ob->head];
		unsigned int n = 0, k;
		redisReply *r;

		if (e->script >= 0) {
			r = duet_redis_script(&s->r, (enum duet_redis_script)e->script, e->nkeys,
					      e->argc, e->argv);
			if (r == NULL && s->r.ctx == NULL) {
				sync_link_down(s, "sending queued writes");
				return;
			}
			/* A refused call will be refused again: drop it, say so. */
			if (r == NULL || r->type == REDIS_REPLY_ERROR)
				SYNC_LOG(WARNING, "queued script call failed: %s\n",
					 r != NULL ? r->str : s->r.errstr);
			freeReplyObject(r);
			outbox_pop(ob);
			budget--;
			continue;
		}
		/* A run of plain commands goes in one round trip. */
		while (n < ob->len && n < budget && n < SYNC_PIPELINE_MAX) {
			e = ob->ring[(ob->head + n) % DUET_SYNC_OUTBOX_MAX];
			if (e->script >= 0)
				break;
			if (duet_redis_append(&s->r, e->argc, e->argv, e->argvlen) != 0) {
				duet_redis_close(&s->r);
				sync_link_down(s, "sending queued writes");
				return;
			}
			n++;
		}
		for (k = 0; k < n; k++) {
			r = duet_redis_get_reply(&s->r);
			if (r == NULL) {
				/* Entries not popped are sent again after the
				 * reconnect (at least once). */
				sync_link_down(s, "sending queued writes");
				return;
			}
			if (r->type == REDIS_REPLY_ERROR)
				SYNC_LOG(WARNING, "Redis refused a queued write: %s\n", r->str);
			freeReplyObject(r);
			outbox_pop(ob);
		}
		budget -= n;
	}
	if (ob->len == 0 && ob->overflow_logged) {
		SYNC_LOG(WARNING, "outbox drained; %" PRIu64 " writes were dropped in total\n",
			 ob->dropped);
		ob->overflow_logged = false;
	}
}
