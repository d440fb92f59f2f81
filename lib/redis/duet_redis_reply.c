/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_redis_reply: reading the replies that decide which server to talk
 * to: error replies that send us elsewhere (READONLY, MOVED, ...), HELLO's
 * role and mode, a Sentinel's master address, the owner of a slot in
 * CLUSTER SLOTS, and the cluster hash slot of a key. Pure functions over
 * hiredis reply objects, so the unit tests feed them replies built from
 * RESP text; called by duet_redis.c and duet_redis_connect.c on the thread
 * that owns the connection.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "redis_internal.h"

/* Prefixes of error replies that say "not the master of these keys". */
static const struct {
	const char *prefix;
	size_t len;
} redirects[] = {
	{"READONLY ", 9},    {"MOVED ", 6},	   {"ASK ", 4},	       {"CLUSTERDOWN ", 12},
	{"TRYAGAIN ", 9},    {"MASTERDOWN ", 11}, {"UNBLOCKED ", 10}, {"NOREPLICAS ", 11},
};

bool
duet_redis_reply_is_redirect(const redisReply *reply)
{
	size_t i;

	if (reply == NULL || reply->type != REDIS_REPLY_ERROR || reply->str == NULL)
		return false;
	for (i = 0; i < sizeof(redirects) / sizeof(redirects[0]); i++)
		if (strncmp(reply->str, redirects[i].prefix, redirects[i].len) == 0)
			return true;
	/* Redis before 7 wraps the error of a write inside a script:
	 * "ERR Error running script ...: -READONLY You can't write ...". */
	return strncmp(reply->str, "ERR ", 4) == 0 && strstr(reply->str, "-READONLY ") != NULL;
}

/* CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), the checksum
 * of the Redis Cluster specification. Bit by bit: it runs once per
 * connect, never per packet. */
static uint16_t
crc16(const char *buf, size_t len)
{
	uint16_t crc = 0;
	size_t i;
	int bit;

	for (i = 0; i < len; i++) {
		crc ^= (uint16_t)((uint8_t)buf[i] << 8);
		for (bit = 0; bit < 8; bit++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

uint16_t
duet_redis_slot(const char *key, size_t len)
{
	const char *open = memchr(key, '{', len), *close;

	/* Only the text between the first '{' and the first '}' after it
	 * counts, and only when it is not empty. */
	if (open != NULL) {
		close = memchr(open + 1, '}', len - (size_t)(open + 1 - key));
		if (close != NULL && close > open + 1)
			return crc16(open + 1, (size_t)(close - open - 1)) % DUET_REDIS_SLOTS;
	}
	return crc16(key, len) % DUET_REDIS_SLOTS;
}

/* "host:port" or "[v6]:port" (not NUL-terminated: n characters). */
static int
parse_host_port(const char *s, size_t n, char *host, size_t hostlen, uint16_t *port)
{
	char buf[DUET_REDIS_ADDR_HOST_MAX + 8];
	const char *colon, *h;
	size_t hl;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	colon = strrchr(buf, ':');
	if (colon == NULL || duet_parse_port(colon + 1, 0, port) != 0)
		return -EINVAL;
	h = buf;
	hl = (size_t)(colon - buf);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= hostlen)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	return 0;
}

int
redis_parse_moved(const char *err, char *host, size_t hostlen, uint16_t *port)
{
	const char *p;

	if (err == NULL || strncmp(err, "MOVED ", 6) != 0)
		return -EINVAL;
	p = err + 6;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p == err + 6 || *p != ' ')
		return -EINVAL;
	p++;
	return parse_host_port(p, strcspn(p, " "), host, hostlen, port);
}

static bool
is_str(const redisReply *r)
{
	return r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) &&
	       strlen(r->str) == r->len;
}

int
redis_parse_hello(const redisReply *reply, struct redis_hello *h)
{
	bool has_role = false, has_mode = false;
	size_t i;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
		return -EPROTO;
	for (i = 0; i + 1 < reply->elements; i += 2) {
		const redisReply *k = reply->element[i], *v = reply->element[i + 1];

		if (!is_str(k) || !is_str(v))
			continue;
		if (strcmp(k->str, "role") == 0) {
			h->master = strcmp(v->str, "master") == 0;
			has_role = true;
		} else if (strcmp(k->str, "mode") == 0) {
			snprintf(h->mode, sizeof(h->mode), "%s", v->str);
			has_mode = true;
		}
	}
	return has_role && has_mode ? 0 : -EPROTO;
}

int
redis_parse_master_addr(const redisReply *reply, char *host, size_t hostlen, uint16_t *port)
{
	if (reply == NULL)
		return -EPROTO;
	if (reply->type == REDIS_REPLY_NIL)
		return -ENOENT;
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    !is_str(reply->element[0]) || !is_str(reply->element[1]) ||
	    reply->element[0]->len == 0 || reply->element[0]->len >= hostlen ||
	    duet_parse_port(reply->element[1]->str, 0, port) != 0)
		return -EPROTO;
	memcpy(host, reply->element[0]->str, reply->element[0]->len + 1);
	return 0;
}

int
redis_parse_slot_owner(const redisReply *reply, uint16_t slot, char *host, size_t hostlen,
		       uint16_t *port)
{
	size_t i;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
		return -EPROTO;
	for (i = 0; i < reply->elements; i++) {
		const redisReply *range = reply->element[i], *node;

		if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 ||
		    range->element[0]->type != REDIS_REPLY_INTEGER ||
		    range->element[1]->type != REDIS_REPLY_INTEGER)
			return -EPROTO;
		if (slot < range->element[0]->integer || slot > range->element[1]->integer)
			continue;
		node = range->element[2];
		if (node->type != REDIS_REPLY_ARRAY || node->elements < 2 ||
		    !is_str(node->element[0]) || node->element[1]->type != REDIS_REPLY_INTEGER)
			return -EPROTO;
		/* "" or "?" is Redis's "endpoint unknown": ask elsewhere. */
		if (node->element[0]->len == 0 || strcmp(node->element[0]->str, "?") == 0 ||
		    node->element[0]->len >= hostlen || node->element[1]->integer < 1 ||
		    node->element[1]->integer > 65535)
			return -EPROTO;
		memcpy(host, node->element[0]->str, node->element[0]->len + 1);
		*port = (uint16_t)node->element[1]->integer;
		return 0;
	}
	return -ENOENT;
}
