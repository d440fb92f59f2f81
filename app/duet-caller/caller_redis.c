/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet-caller --create: one pair per call through the contract's Lua
 * scripts (docs/redis-contract.md), as any control plane makes them:
 * pair_create.lua with `mode` and the four SDES keys in the relay's view
 * (a_in = what leg a protects with, a_out = what it unprotects with, same
 * for b; a_ip/b_ip hints when given), then the endpoints it returns become
 * the legs' relay addresses. pair_delete.lua removes every pair made, at
 * the end of the run, on SIGINT/SIGTERM, and when setup fails half-way.
 * Main thread only. The key text sent to Redis is wiped right after.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "caller.h"
#include "duet_redis.h"
#include "duet_secure_zero.h"

struct caller_redis {
	struct duet_redis r;
	struct duet_redis_target t;
	struct duet_redis_addr addr; /* what t's address fields point into */
	char prefix[DUET_RECORD_ID_MAX + 1];
};

static bool
valid_relay_id(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 32)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* Use one endpoint of the reply as a leg's relay address. */
static int
take_endpoint(struct caller *c, struct caller_call *call, int leg, const redisReply *e)
{
	struct caller_leg *l = &call->leg[leg];

	/* Endpoints are written as duetd prints them: "192.0.2.1:20000" or
	 * "[2001:db8::1]:20000" (lib/addr), and caller_parse_addr reads
	 * exactly that. */
	if (e->type != REDIS_REPLY_STRING)
		return caller_fail("create %s: pair_create.lua returned an endpoint that is not "
				   "a string",
				   call->pair_id);
	if (caller_parse_addr(e->str, false, &l->relay, &l->relay_len) != 0 ||
	    caller_addr_is_v4mapped(&l->relay))
		return caller_fail("create %s: pair_create.lua returned leg %c the endpoint "
				   "'%.*s', not IPv4:PORT or [IPv6]:PORT",
				   call->pair_id, 'a' + leg, (int)(e->len < 80 ? e->len : 80),
				   e->str);
	if (l->bind.ss_family != 0 && l->bind.ss_family != l->relay.ss_family)
		return caller_fail("--%c-bind: relay %s gave leg %c an endpoint of the other "
				   "address family (%s, the bind is %s)",
				   'a' + leg, c->o.relay_id, 'a' + leg, e->str,
				   caller_family_name(l->bind.ss_family));
	return 0;
}

/* A leg bound to a given address and port (not "any", not port 0) is what
 * the relay will see as its source, with no NAT in between: its text for
 * a pin. @return 0 with buf set, or -1. */
static int
pin_text(const struct caller_leg *l, char *buf, size_t len)
{
	/* caller_format_addr writes "[v6]:port" as duetd does: the text of
	 * a pin of either family. */
	if ((l->bind.ss_family != AF_INET && l->bind.ss_family != AF_INET6) ||
	    caller_addr_port(&l->bind) == 0 || caller_addr_is_any(&l->bind))
		return -1;
	caller_format_addr(&l->bind, buf, len);
	return 0;
}

/* Create the pair of one call with fresh keys. */
static int
create_one(struct caller *c, struct caller_call *call)
{
	char keys[DUET_REDIS_CREATE_NKEYS][DUET_REDIS_KEY_MAX], maxlen[24], text[4][DUET_SDES_TEXT_MAX];
	char pins[2][CALLER_ADDR_STRLEN];
	struct caller_redis *x = c->redis;
	char id[sizeof(x->prefix) + 16];
	struct duet_sdes k[4];
	const char *args[32];
	redisReply *reply;
	int i, n = 0, rc;

	/* A prefix of at most 59 characters and "-4999" fit the 64 allowed. */
	snprintf(id, sizeof(id), "%s-%u", x->prefix, call->index);
	if (strlen(id) > DUET_RECORD_ID_MAX)
		return caller_fail("create: pair id '%s' longer than 64 characters", id);
	memcpy(call->pair_id, id, strlen(id) + 1);
	if (duet_redis_pair_keys(c->o.relay_id, call->pair_id, keys) != 0)
		return caller_fail("create %s: key names too long", call->pair_id);
	rc = caller_make_keys(c->o.suite, c->o.mode, k);
	for (i = 0; i < 4 && rc == 0; i++)
		rc = duet_sdes_format(&k[i], text[i], sizeof(text[i]));
	if (rc != 0) {
		for (i = 0; i < 4; i++)
			duet_sdes_wipe(&k[i]);
		duet_secure_zero(text, sizeof(text));
		return caller_fail("create %s: cannot make keys: %s", call->pair_id, strerror(-rc));
	}
	/* The relay's view: a_in is what leg a protects with, and so on. */
	call->leg[CALLER_A].key_out = k[0];
	call->leg[CALLER_A].key_in = k[1];
	call->leg[CALLER_B].key_out = k[2];
	call->leg[CALLER_B].key_in = k[3];
	for (i = 0; i < 4; i++)
		duet_sdes_wipe(&k[i]);
	call->leg[CALLER_A].key_suite = call->leg[CALLER_B].key_suite = c->o.suite;

	snprintf(maxlen, sizeof(maxlen), "%d", DUET_REDIS_EVENTS_MAXLEN);
	for (i = 0; i < DUET_REDIS_CREATE_NKEYS; i++)
		args[n++] = keys[i];
	args[n++] = call->pair_id;
	args[n++] = maxlen;
	args[n++] = DUET_FIELD_MODE;
	args[n++] = caller_mode_name(c->o.mode);
	/* Only the keys the mode takes: a passthrough relay holds none, a
	 * verify relay only what each client sends with (duetd refuses any
	 * other key field). The callers keep all four for their own SRTP. */
	for (i = 0; i < 4; i++) {
		if (!duet_mode_takes_key(c->o.mode, (unsigned int)i))
			continue;
		args[n++] = duet_key_field((unsigned int)i);
		args[n++] = text[i];
	}
	/* Legs bound to known addresses are pinned, as a control plane that
	 * knows its callers would: the relay can send to a leg before it
	 * speaks, and no call loses its first packet to an unlatched peer. */
	for (i = 0; i < 2; i++) {
		if (pin_text(&call->leg[i], pins[i], sizeof(pins[i])) == 0) {
			args[n++] = i == 0 ? DUET_FIELD_A_SRC : DUET_FIELD_B_SRC;
			args[n++] = pins[i];
		}
	}
	for (i = 0; i < 2; i++) {
		if (c->o.ip_hint[i][0] != '\0') {
			args[n++] = i == 0 ? "a_ip" : "b_ip";
			args[n++] = c->o.ip_hint[i];
		}
	}
	if (c->o.no_relay_check) {
		args[n++] = "relay_check";
		args[n++] = "off";
	}
	reply = duet_redis_script(&x->r, DUET_SCRIPT_PAIR_CREATE, DUET_REDIS_CREATE_NKEYS, n,
				   args);
	duet_secure_zero(text, sizeof(text));
	if (reply == NULL)
		return caller_fail("--redis %s: create %s: %s", c->o.redis_addr, call->pair_id,
				   x->r.errstr);
	if (reply->type == REDIS_REPLY_ERROR) {
		rc = caller_fail("create %s on relay %s: %s", call->pair_id, c->o.relay_id,
				 reply->str);
		freeReplyObject(reply);
		return rc;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
		freeReplyObject(reply);
		return caller_fail("create %s: unexpected reply from pair_create.lua", call->pair_id);
	}
	call->pair_created = true;
	rc = take_endpoint(c, call, CALLER_A, reply->element[0]);
	if (rc == 0)
		rc = take_endpoint(c, call, CALLER_B, reply->element[1]);
	freeReplyObject(reply);
	return rc;
}

int
caller_redis_create(struct caller *c)
{
	struct caller_redis *x;
	const char *why = NULL;
	uint32_t i;
	int rc = 0;

	if (!valid_relay_id(c->o.relay_id))
		return caller_usage_err("--relay: '%s' is not 1..32 characters of [A-Za-z0-9_-]",
					c->o.relay_id);
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return caller_fail("out of memory");
	c->redis = x;
	if (duet_redis_parse_address(c->o.redis_addr, &x->addr, &x->t, &why) != 0)
		return caller_usage_err("--redis: '%s': %s (expected host:port, [v6]:port, "
					"unix:/path, sentinel:NAME@host:port,... or "
					"cluster:host:port,...)",
					c->o.redis_addr, why);
	x->t.relay = c->o.relay_id;
	x->t.user = c->o.user;
	x->t.password = c->o.password;
	x->t.timeout_ms = c->o.redis_timeout_ms;
	if (c->o.id_prefix != NULL) {
		snprintf(x->prefix, sizeof(x->prefix), "%s", c->o.id_prefix);
	} else {
		uint8_t raw[4];

		if (caller_random(raw, sizeof(raw)) != 0)
			return caller_fail("cannot read random bytes for pair ids");
		snprintf(x->prefix, sizeof(x->prefix), "caller-%02x%02x%02x%02x", raw[0], raw[1],
			 raw[2], raw[3]);
	}
	if (duet_redis_connect(&x->r, &x->t) != 0)
		return caller_fail("--redis: %s", x->r.errstr);
	for (i = 0; i < c->o.calls && rc == 0; i++) {
		if (caller_stop)
			return CALLER_EXIT_INTERRUPTED;
		rc = create_one(c, &c->calls[i]);
	}
	return rc;
}

void
caller_redis_delete(struct caller *c)
{
	struct caller_redis *x = c->redis;
	char keys[DUET_REDIS_CREATE_NKEYS][DUET_REDIS_KEY_MAX], maxlen[24];
	const char *args[6];
	uint32_t i;

	if (x == NULL)
		return;
	snprintf(maxlen, sizeof(maxlen), "%d", DUET_REDIS_EVENTS_MAXLEN);
	for (i = 0; c->calls != NULL && i < c->o.calls; i++) {
		struct caller_call *call = &c->calls[i];
		redisReply *reply;

		if (!call->pair_created)
			continue;
		if (duet_redis_pair_keys(c->o.relay_id, call->pair_id, keys) != 0)
			continue;
		args[0] = keys[0];
		args[1] = keys[1];
		args[2] = keys[2];
		args[3] = keys[3];
		args[4] = call->pair_id;
		args[5] = maxlen;
		/* One reconnect if the connection dropped during the run. */
		if (x->r.ctx == NULL && duet_redis_connect(&x->r, &x->t) != 0) {
			caller_fail("delete %s: %s", call->pair_id, x->r.errstr);
			continue;
		}
		reply = duet_redis_script(&x->r, DUET_SCRIPT_PAIR_DELETE, DUET_REDIS_DELETE_NKEYS, 6,
					  args);
		/* The link broke (Redis restarted or failed over during the
		 * call): once more on a new one. A delete is safe to repeat. */
		if (reply == NULL && x->r.ctx == NULL && duet_redis_connect(&x->r, &x->t) == 0)
			reply = duet_redis_script(&x->r, DUET_SCRIPT_PAIR_DELETE,
						  DUET_REDIS_DELETE_NKEYS, 6, args);
		if (reply == NULL)
			caller_fail("delete %s: %s", call->pair_id, x->r.errstr);
		else if (reply->type == REDIS_REPLY_ERROR)
			caller_fail("delete %s: %s", call->pair_id, reply->str);
		else
			call->pair_created = false;
		if (reply != NULL)
			freeReplyObject(reply);
	}
	duet_redis_close(&x->r);
	free(x);
	c->redis = NULL;
}
