/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_sync's lowest layer: building one Redis command as binary-safe
 * arguments, sending a batch of them in one round trip (pipelining), and
 * taking the link down when Redis goes away. Every other sync file writes
 * through it; it calls none of them. Runs on duetd's control thread inside
 * duet_sync_poll().
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sync_internal.h"

/* ---- command builder ---- */

void
sync_cmd_init(struct sync_cmd *c)
{
	c->argc = 0;
	c->overflow = false;
	c->used = 0;
}

void
sync_cmd_add(struct sync_cmd *c, const char *s, size_t n)
{
	if (c->argc >= SYNC_CMD_ARGS_MAX || n + 1 > SYNC_CMD_STORE - c->used) {
		c->overflow = true;
		return;
	}
	memcpy(c->store + c->used, s, n);
	c->store[c->used + n] = '\0';
	c->off[c->argc] = c->used;
	c->len[c->argc] = (uint32_t)n;
	c->argc++;
	c->used += (uint32_t)n + 1;
}

void
sync_cmd_str(struct sync_cmd *c, const char *s)
{
	sync_cmd_add(c, s, strlen(s));
}

void
sync_cmd_u64(struct sync_cmd *c, uint64_t v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%" PRIu64, v);

	sync_cmd_add(c, b, (size_t)n);
}

void
sync_cmd_argv(const struct sync_cmd *c, const char **argv, size_t *argvlen)
{
	int i;

	for (i = 0; i < c->argc; i++) {
		argv[i] = c->store + c->off[i];
		argvlen[i] = c->len[i];
	}
}

void
sync_cmd_key_op(struct sync_cmd *c, const char *op, const char *key)
{
	sync_cmd_init(c);
	sync_cmd_str(c, op);
	sync_cmd_str(c, key);
}

/* ---- pipelining ---- */

/* Queue c on the pipeline and count it in *n.
 * @return 0, or -1 after taking the link down. */
int
sync_cmd_append(struct duet_sync *s, const struct sync_cmd *c, unsigned int *n)
{
	const char *argv[SYNC_CMD_ARGS_MAX];
	size_t lens[SYNC_CMD_ARGS_MAX];

	if (c->overflow) {
		SYNC_LOG(ERR, "internal: a command did not fit its buffer; not sent\n");
		return 0;
	}
	sync_cmd_argv(c, argv, lens);
	if (duet_redis_append(&s->r, c->argc, argv, lens) != 0) {
		duet_redis_close(&s->r);
		sync_link_down(s, "queueing writes");
		return -1;
	}
	(*n)++;
	return 0;
}

/* Read n pipelined replies. @return 0, or -1 after taking the link down. */
int
sync_cmd_drain(struct duet_sync *s, unsigned int n, const char *what)
{
	redisReply *r;

	while (n-- > 0) {
		r = duet_redis_get_reply(&s->r);
		if (r == NULL) {
			sync_link_down(s, what);
			return -1;
		}
		if (r->type == REDIS_REPLY_ERROR)
			SYNC_LOG(WARNING, "%s: Redis refused a write: %s\n", what, r->str);
		freeReplyObject(r);
	}
	return 0;
}

/* ---- link loss ---- */

/* Reconnect attempts at most this far apart. Behind Sentinels or a
 * cluster a failover names a new master a few seconds after the loss, and
 * an attempt costs one round trip to a Sentinel or seed node: try every
 * second so the switch is followed within one. */
static uint32_t
backoff_max(const struct duet_sync *s)
{
	return s->target.kind != DUET_REDIS_ADDR_SERVER ? DUET_SYNC_BACKOFF_FAILOVER_MS
							 : DUET_SYNC_BACKOFF_MAX_MS;
}

void
sync_link_down(struct duet_sync *s, const char *what)
{
	if (s->phase != SYNC_PHASE_DOWN)
		SYNC_LOG(WARNING, "lost Redis during %s: %s; forwarding goes on, reconnecting\n",
			 what, s->r.errstr[0] != '\0' ? s->r.errstr : s->r.where);
	duet_redis_close(&s->r);
	s->phase = SYNC_PHASE_DOWN;
	/* Pairs left on the fresh list are still marked fresh: the next
	 * stats round writes them. */
	while (s->n_fresh > 0)
		s->book[s->fresh[--s->n_fresh]].queued = 0;
	s->wb_running = false;
	s->next_connect_ms = s->mono_ms + s->backoff_ms;
	s->backoff_ms = s->backoff_ms * 2 > backoff_max(s) ? backoff_max(s) : s->backoff_ms * 2;
}
