/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_redis_connect: finding the server to talk to and connecting to it.
 * One server is opened as it is; with Sentinels, the master they name for
 * the master name (the Sentinel client protocol: ask each Sentinel in
 * turn, the last one that answered first, then check the role); with a
 * cluster, the master of the relay's hash slot, from CLUSTER SLOTS of any
 * seed node (or the target of the last MOVED). Every server is checked
 * with HELLO to be a master in the expected mode before it is used. There
 * is no background watcher: a failover shows as a lost connection or a
 * redirect reply (duet_redis.c closes the connection on either), and the
 * caller's next connect asks again. Runs on the thread that owns the
 * connection: duetd's control thread, the tools' main thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "redis_internal.h"

/* The last failure of a discovery, kept while other nodes are tried. */
struct attempt {
	int err;
	char errstr[DUET_REDIS_ERRSTR_MAX];
};

static void
attempt_keep(struct attempt *a, const struct duet_redis *r)
{
	/* A credentials failure says the most: keep it over later ones. */
	if (a->err == -EACCES && r->err != -EACCES)
		return;
	a->err = r->err != 0 ? r->err : -EIO;
	snprintf(a->errstr, sizeof(a->errstr), "%s", r->errstr);
}

/* Is the open, authenticated server a master in the mode the address
 * names? A server that does not answer HELLO (Redis < 6, or an ACL without
 * +hello) cannot tell us: it is used, and a replica shows itself by
 * READONLY at the first write. */
static int
check_role(struct duet_redis *r, enum duet_redis_addr_kind kind)
{
	const char *argv[2] = {"HELLO", "2"};
	struct redis_hello h = {0};
	redisReply *reply;
	bool cluster;

	reply = duet_redis_command(r, 2, argv, NULL);
	if (reply == NULL)
		return r->err;
	if (reply->type == REDIS_REPLY_ERROR || redis_parse_hello(reply, &h) != 0) {
		freeReplyObject(reply);
		return 0;
	}
	freeReplyObject(reply);
	cluster = strcmp(h.mode, "cluster") == 0;
	if (strcmp(h.mode, "sentinel") == 0) {
		redis_set_err(r, -EPROTO, "this is a Redis Sentinel, not a server: write "
					  "sentinel:NAME@host:port,...");
		return -EPROTO;
	}
	if (kind == DUET_REDIS_ADDR_CLUSTER && !cluster) {
		redis_set_err(r, -EPROTO, "not a cluster node (mode %s)", h.mode);
		return -EPROTO;
	}
	if (kind != DUET_REDIS_ADDR_CLUSTER && cluster) {
		redis_set_err(r, -EPROTO, "this is a cluster node: write cluster:host:port,...");
		return -EPROTO;
	}
	if (!h.master) {
		redis_set_err(r, -EROFS, "a replica, which cannot take duetd's writes%s",
			      kind == DUET_REDIS_ADDR_SERVER ? ": name the master, or write "
							       "sentinel:NAME@host:port,..."
							     : " (a failover is under way?)");
		return -EROFS;
	}
	return 0;
}

/* Open, authenticate and check one server; on failure it is closed. */
static int
open_server(struct duet_redis *r, const struct duet_redis_target *t, const char *unix_path,
	    const char *host, uint16_t port)
{
	int rc;

	rc = redis_open(r, unix_path, host, port, t->timeout_ms);
	if (rc == 0)
		rc = redis_authenticate(r, t);
	if (rc == 0)
		rc = check_role(r, t->kind);
	if (rc != 0)
		duet_redis_close(r);
	return rc;
}

/* ---- Sentinel ---- */

/* Ask Sentinel i for the master's address (host must hold
 * DUET_REDIS_ADDR_HOST_MAX). Leaves the connection closed. */
static int
ask_sentinel(struct duet_redis *r, const struct duet_redis_target *t, unsigned int i, char *host,
	     uint16_t *port)
{
	const struct duet_redis_node *n = &t->nodes[i];
	const char *argv[3] = {"SENTINEL", "get-master-addr-by-name", t->master_name};
	redisReply *reply = NULL;
	int rc, attempt;

	redis_set_where(r, NULL, n->host, n->port, "Sentinel");
	rc = redis_open(r, NULL, n->host, n->port, t->timeout_ms);
	if (rc != 0)
		return rc;
	/* Sentinels usually have no password; one that has gets ours. */
	for (attempt = 0; attempt < 2; attempt++) {
		reply = duet_redis_command(r, 3, argv, NULL);
		if (reply == NULL)
			return r->err;
		if (attempt > 0 || reply->type != REDIS_REPLY_ERROR ||
		    strncmp(reply->str, "NOAUTH", 6) != 0)
			break;
		freeReplyObject(reply);
		reply = NULL;
		rc = redis_authenticate(r, t);
		if (rc != 0) {
			duet_redis_close(r);
			return rc;
		}
	}
	rc = redis_parse_master_addr(reply, host, DUET_REDIS_ADDR_HOST_MAX, port);
	if (rc == -ENOENT)
		redis_set_err(r, -EHOSTUNREACH, "does not know a master named '%s'",
			      t->master_name);
	else if (rc != 0)
		redis_set_err(r, -EPROTO, "unexpected answer to SENTINEL get-master-addr-by-name%s%s",
			      reply->type == REDIS_REPLY_ERROR ? ": " : "",
			      reply->type == REDIS_REPLY_ERROR ? reply->str : "");
	freeReplyObject(reply);
	duet_redis_close(r);
	return rc != 0 ? r->err : 0;
}

static int
connect_sentinel(struct duet_redis *r, const struct duet_redis_target *t)
{
	/* Masters already tried in this call: Sentinels mostly agree. */
	struct duet_redis_node tried[DUET_REDIS_ADDR_NODES_MAX];
	struct duet_redis_node m;
	struct attempt last = {-EHOSTUNREACH, ""};
	char what[DUET_REDIS_ADDR_NAME_MAX + 16];
	unsigned int i, k, idx, n_tried = 0;
	bool seen;

	if (t->master_name == NULL || t->master_name[0] == '\0' || t->nodes == NULL ||
	    t->n_nodes == 0) {
		snprintf(r->where, sizeof(r->where), "sentinel");
		redis_set_err(r, -EINVAL, "no master name or no Sentinel");
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "master of %s", t->master_name);
	for (i = 0; i < t->n_nodes; i++) {
		idx = (r->node_first + i) % t->n_nodes;
		if (ask_sentinel(r, t, idx, m.host, &m.port) != 0) {
			attempt_keep(&last, r);
			continue;
		}
		seen = false;
		for (k = 0; k < n_tried; k++)
			seen = seen || (tried[k].port == m.port && strcmp(tried[k].host, m.host) == 0);
		if (seen)
			continue;
		tried[n_tried++] = m;
		redis_set_where(r, NULL, m.host, m.port, what);
		if (open_server(r, t, NULL, m.host, m.port) == 0) {
			r->node_first = idx;
			return 0;
		}
		attempt_keep(&last, r);
	}
	snprintf(r->where, sizeof(r->where), "sentinel:%s", t->master_name);
	redis_set_err(r, last.err, "no usable master (last: %s)",
		      last.errstr[0] != '\0' ? last.errstr : "no Sentinel answered");
	return last.err;
}

/* ---- Cluster ---- */

/* Ask seed node i who owns slot (host must hold DUET_REDIS_ADDR_HOST_MAX).
 * On success the seed's connection stays open, so the caller can keep it
 * if the seed is the owner. */
static int
ask_seed(struct duet_redis *r, const struct duet_redis_target *t, unsigned int i, uint16_t slot,
	 char *host, uint16_t *port)
{
	const struct duet_redis_node *n = &t->nodes[i];
	const char *argv[2] = {"CLUSTER", "SLOTS"};
	redisReply *reply;
	int rc;

	redis_set_where(r, NULL, n->host, n->port, "cluster seed");
	rc = redis_open(r, NULL, n->host, n->port, t->timeout_ms);
	if (rc == 0)
		rc = redis_authenticate(r, t);
	if (rc != 0) {
		duet_redis_close(r);
		return rc;
	}
	reply = duet_redis_command(r, 2, argv, NULL);
	if (reply == NULL)
		return r->err;
	rc = redis_parse_slot_owner(reply, slot, host, DUET_REDIS_ADDR_HOST_MAX, port);
	if (rc == -ENOENT)
		redis_set_err(r, -EHOSTUNREACH, "no master serves slot %u (cluster down?)", slot);
	else if (rc != 0)
		redis_set_err(r, -EPROTO, "unexpected answer to CLUSTER SLOTS%s%s",
			      reply->type == REDIS_REPLY_ERROR ? ": " : "",
			      reply->type == REDIS_REPLY_ERROR ? reply->str : "");
	freeReplyObject(reply);
	if (rc != 0) {
		duet_redis_close(r);
		return r->err;
	}
	return 0;
}

static int
connect_cluster(struct duet_redis *r, const struct duet_redis_target *t)
{
	char key[DUET_REDIS_KEY_MAX], what[32];
	struct duet_redis_node owner;
	struct attempt last = {-EHOSTUNREACH, ""};
	unsigned int i, idx;
	uint16_t slot;

	if (t->nodes == NULL || t->n_nodes == 0 ||
	    duet_redis_key(key, sizeof(key), t->relay, "", NULL) != 0) {
		snprintf(r->where, sizeof(r->where), "cluster");
		redis_set_err(r, -EINVAL, "no seed node, or no relay id to find the slot of");
		return -EINVAL;
	}
	slot = duet_redis_slot(key, strlen(key));
	snprintf(what, sizeof(what), "cluster slot %u", slot);

	/* A node that answered MOVED named the owner: try it first. */
	if (r->moved_host[0] != '\0') {
		owner = (struct duet_redis_node){.port = r->moved_port};
		snprintf(owner.host, sizeof(owner.host), "%s", r->moved_host);
		r->moved_host[0] = '\0';
		redis_set_where(r, NULL, owner.host, owner.port, what);
		if (open_server(r, t, NULL, owner.host, owner.port) == 0)
			return 0;
		attempt_keep(&last, r);
	}
	for (i = 0; i < t->n_nodes; i++) {
		idx = (r->node_first + i) % t->n_nodes;
		if (ask_seed(r, t, idx, slot, owner.host, &owner.port) != 0) {
			attempt_keep(&last, r);
			continue;
		}
		r->node_first = idx;
		redis_set_where(r, NULL, owner.host, owner.port, what);
		/* The seed itself may own the slot: keep its connection. */
		if (owner.port == t->nodes[idx].port && strcmp(owner.host, t->nodes[idx].host) == 0) {
			if (check_role(r, t->kind) == 0)
				return 0;
			duet_redis_close(r);
		} else {
			duet_redis_close(r);
			if (open_server(r, t, NULL, owner.host, owner.port) == 0)
				return 0;
		}
		attempt_keep(&last, r);
	}
	snprintf(r->where, sizeof(r->where), "cluster (slot %u)", slot);
	redis_set_err(r, last.err, "no usable master (last: %s)",
		      last.errstr[0] != '\0' ? last.errstr : "no seed node answered");
	return last.err;
}

/* ---- entry point ---- */

int
duet_redis_connect(struct duet_redis *r, const struct duet_redis_target *t)
{
	duet_redis_close(r);
	r->err = 0;
	r->errstr[0] = '\0';
	if (t == NULL) {
		snprintf(r->where, sizeof(r->where), "(none)");
		redis_set_err(r, -EINVAL, "no address");
		return -EINVAL;
	}
	switch (t->kind) {
	case DUET_REDIS_ADDR_SENTINEL:
		return connect_sentinel(r, t);
	case DUET_REDIS_ADDR_CLUSTER:
		return connect_cluster(r, t);
	case DUET_REDIS_ADDR_SERVER:
		break;
	}
	redis_set_where(r, t->unix_path, t->host, t->port, NULL);
	return open_server(r, t, t->unix_path, t->host, t->port);
}
