/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_sync's relay-id lease (relay_lease.lua, docs/redis-contract.md):
 * one duetd process owns relay id R at a time. After every connect the
 * lease is taken before anything is seeded, pruned, loaded or written;
 * while another live process holds it this one waits in SYNC_PHASE_LEASE,
 * forwarding what its table holds but writing nothing, and says why in its
 * log. The holder renews it with every stats round and gives it back on a
 * clean exit. A holder that is a dead process of this same host (duetd
 * killed and restarted) is taken over at once; one on another host is
 * waited out (at most heartbeat_ttl_ms). Runs on duetd's control thread
 * inside duet_sync_poll().
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sync_internal.h"

#define LEASE_RETRY_MAX_MS 1000	  /* a waiting process asks again at least this often */
#define LEASE_REMIND_MS 30000	  /* ... and says again that it waits */

static unsigned int instances; /* sync objects made by this process */

int
sync_lease_init(struct duet_sync *s)
{
	char host[64];
	struct timespec ts;

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	/* A token names its process: host, pid, and the start time (a pid is
	 * reused, a pid with its start time is not), and which sync object of
	 * the process it is (tests run several). */
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(s->lease_token, sizeof(s->lease_token), "%s:%ld:%" PRIu64 ".%u", host,
		 (long)getpid(), (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000,
		 __atomic_fetch_add(&instances, 1, __ATOMIC_RELAXED));
	if (strspn(s->lease_token, "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~") !=
	    strlen(s->lease_token))
		return -EINVAL; /* a host name the script would refuse */
	return duet_redis_key(s->key_lease, sizeof(s->key_lease), s->conf->relay_id, "lease",
			      NULL);
}

/* Whether token names a process of this host that is gone. */
static bool
token_is_dead_here(const struct duet_sync *s, const char *token)
{
	const char *mine = s->lease_token, *p;
	size_t host_len = (size_t)(strchr(mine, ':') - mine);
	char *end;
	long pid;

	if (strncmp(token, mine, host_len + 1) != 0)
		return false;
	p = token + host_len + 1;
	pid = strtol(p, &end, 10);
	if (end == p || *end != ':' || pid <= 0)
		return false;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Run relay_lease.lua. @return 1 held, 0 held by another (holder and
 * pttl_ms set), -1 on a failed link or an error reply. */
static int
lease_call(struct duet_sync *s, const char *dead, char *holder, size_t holder_len,
	   long long *pttl_ms, char *prev, size_t prev_len)
{
	char ttl[16];
	const char *argv[4] = {s->key_lease, s->lease_token, ttl, dead != NULL ? dead : ""};
	redisReply *r;
	int rc = -1;

	snprintf(ttl, sizeof(ttl), "%" PRIu32, s->conf->heartbeat_ttl_ms);
	r = duet_redis_script(&s->r, DUET_SCRIPT_RELAY_LEASE, 1, 4, argv);
	if (r == NULL) {
		if (s->r.ctx == NULL)
			sync_link_down(s, "the relay lease");
		else
			SYNC_LOG(ERR, "relay lease: %s\n", s->r.errstr);
		return -1;
	}
	if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
	    r->element[0]->type == REDIS_REPLY_INTEGER) {
		const char *h = reply_cstr(r->element[1]);

		if (r->element[0]->integer == 1) {
			snprintf(prev, prev_len, "%s", h != NULL ? h : "");
			rc = 1;
		} else {
			snprintf(holder, holder_len, "%s", h != NULL ? h : "?");
			*pttl_ms = r->elements >= 3 && r->element[2]->type == REDIS_REPLY_INTEGER
					   ? r->element[2]->integer
					   : -1;
			rc = 0;
		}
	} else {
		SYNC_LOG(ERR, "relay lease: %s\n",
			 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	}
	freeReplyObject(r);
	return rc;
}

/* Take the lease, or take over a dead local holder's. Same results. */
static int
lease_take(struct duet_sync *s, char *holder, size_t holder_len, long long *pttl_ms)
{
	char prev[SYNC_LEASE_TOKEN_MAX];
	int rc;

	rc = lease_call(s, NULL, holder, holder_len, pttl_ms, prev, sizeof(prev));
	if (rc == 0 && token_is_dead_here(s, holder)) {
		char dead[SYNC_LEASE_TOKEN_MAX];

		snprintf(dead, sizeof(dead), "%s", holder);
		rc = lease_call(s, dead, holder, holder_len, pttl_ms, prev, sizeof(prev));
		if (rc == 1)
			SYNC_LOG(WARNING,
				 "relay %s: took over the lease of %s, a duetd of this host "
				 "that is gone\n",
				 s->conf->relay_id, prev);
	}
	return rc;
}

int
sync_lease_step(struct duet_sync *s)
{
	char holder[SYNC_LEASE_TOKEN_MAX];
	long long pttl = -1;
	int rc;

	if (s->mono_ms < s->lease_retry_ms)
		return 0;
	rc = lease_take(s, holder, sizeof(holder), &pttl);
	if (rc < 0) {
		s->lease_retry_ms = s->mono_ms + LEASE_RETRY_MAX_MS;
		return 0;
	}
	if (rc == 1) {
		if (s->lease_waiting)
			SYNC_LOG(INFO, "relay %s: lease taken, starting\n", s->conf->relay_id);
		s->lease_held = true;
		s->lease_waiting = false;
		s->lease_renew_ms = s->mono_ms + s->conf->heartbeat_ttl_ms / 3;
		return 1;
	}
	s->lease_held = false;
	if (!s->lease_waiting || s->mono_ms >= s->lease_remind_ms) {
		SYNC_LOG(WARNING,
			 "relay id %s is held by another duetd (%s; its lease runs %lld ms more): "
			 "waiting for it to stop; nothing is seeded, pruned, loaded or written "
			 "meanwhile\n",
			 s->conf->relay_id, holder, pttl);
		s->lease_remind_ms = s->mono_ms + LEASE_REMIND_MS;
	}
	s->lease_waiting = true;
	s->lease_waits++;
	s->lease_retry_ms =
		s->mono_ms + (pttl > 0 && pttl < LEASE_RETRY_MAX_MS ? (uint64_t)pttl : LEASE_RETRY_MAX_MS);
	return 0;
}

void
sync_lease_renew(struct duet_sync *s)
{
	char holder[SYNC_LEASE_TOKEN_MAX], prev[SYNC_LEASE_TOKEN_MAX];
	long long pttl = -1;
	int rc;

	if (!s->lease_held || s->mono_ms < s->lease_renew_ms)
		return;
	rc = lease_call(s, NULL, holder, sizeof(holder), &pttl, prev, sizeof(prev));
	if (rc == 1) {
		s->lease_renew_ms = s->mono_ms + s->conf->heartbeat_ttl_ms / 3;
		return;
	}
	if (rc < 0) {
		s->lease_renew_ms = s->mono_ms + LEASE_RETRY_MAX_MS;
		return;
	}
	/* Our lease lapsed (a long stall or outage) and another process took
	 * the id: stop writing at once, and wait as a second process would. */
	SYNC_LOG(ERR,
		 "relay %s: lost the lease to another duetd (%s); no more writes until it is "
		 "free again\n",
		 s->conf->relay_id, holder);
	s->lease_held = false;
	s->lease_waiting = true;
	s->lease_remind_ms = s->mono_ms + LEASE_REMIND_MS;
	s->lease_retry_ms = s->mono_ms + LEASE_RETRY_MAX_MS;
	s->phase = SYNC_PHASE_LEASE;
}

void
sync_lease_release(struct duet_sync *s)
{
	char ttl0[] = "0", field[] = "stopped_ms", when[24];
	const char *argv[3] = {s->key_lease, s->lease_token, ttl0};
	const char *stop[4] = {"HSET", s->key_relay, field, when};

	if (!s->lease_held || s->r.ctx == NULL)
		return;
	/* The heartbeat stays until its TTL, with the last figures; stopped_ms
	 * tells control planes (and pair_create.lua) at once that no pair
	 * should be put here any more. */
	snprintf(when, sizeof(when), "%" PRIu64, s->now_ms);
	freeReplyObject(duet_redis_command(&s->r, 4, stop, NULL));
	/* relay_lease.lua with time 0 deletes the lease only if it is ours. */
	freeReplyObject(duet_redis_script(&s->r, DUET_SCRIPT_RELAY_LEASE, 1, 3, argv));
	s->lease_held = false;
}
