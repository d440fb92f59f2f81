/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_sync's relay heartbeat: the relay hash (version, uptime, pairs,
 * worker totals and rates, every drop reason, memory) and its TTL, which is
 * what tells the control plane this relay died. Written at the start of
 * every stats round, by duetd's control thread inside duet_sync_poll().
 * Each round first reads the drain key (`duetctl relay drain`) and mirrors
 * it into the hash's `draining`, which pair_create.lua refuses.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>

#include "duet_srtp.h"
#include "sync_internal.h"

#ifndef DUET_VERSION
#define DUET_VERSION "unknown"
#endif

/* What the process holds (duet_stats_memory): for operators watching
 * growth, and the memory benchmark. */
static void
mem_fields(struct sync_cmd *c)
{
	uint64_t dpdk, heap;

	duet_stats_memory(&dpdk, &heap);
	sync_cmd_str(c, "mem_dpdk_bytes");
	sync_cmd_u64(c, dpdk);
	sync_cmd_str(c, "mem_heap_bytes");
	sync_cmd_u64(c, heap);
}

/* Read the drain key; 0, or -1 when the link went down. */
static int
read_drain(struct duet_sync *s)
{
	const char *argv[2] = {"EXISTS", s->key_drain};
	redisReply *r = duet_redis_command(&s->r, 2, argv, NULL);
	bool on;

	if (r == NULL) {
		sync_link_down(s, "reading the drain key");
		return -1;
	}
	/* Anything but an integer keeps the state we had. */
	on = r->type == REDIS_REPLY_INTEGER ? r->integer > 0 : s->draining;
	freeReplyObject(r);
	if (on != s->draining)
		SYNC_LOG(NOTICE, "%s: %s\n", s->key_drain,
			 on ? "relay draining: new pairs are refused, live pairs go on"
			    : "drain lifted: the relay takes new pairs");
	s->draining = on;
	return 0;
}

void
sync_heartbeat(struct duet_sync *s, uint64_t now_ms)
{
	struct duet_lcore_stats sum;
	char name[48], ttl[16];
	uint64_t dt = s->mono_ms > s->hb_prev_ms ? s->mono_ms - s->hb_prev_ms : 0;
	uint64_t rx_pps = 0, fwd_pps = 0;
	unsigned int d, n = 0;
	struct sync_cmd c;
	/* Configured endpoints, and those the installed pairs hold (two each). */
	const uint64_t endpoints = duet_conf_endpoint_count(s->conf);
	const uint64_t held = 2 * (uint64_t)duet_pair_count(s->t);

	if (read_drain(s) != 0)
		return;
	memset(&sum, 0, sizeof(sum));
	if (s->n_workers > 0)
		duet_stats_sum(s->lcore_stats, s->n_workers, &sum);
	if (s->hb_prev_ms != 0 && dt > 0 && sum.rx_pkts >= s->hb_prev.rx_pkts &&
	    sum.fwd_pkts >= s->hb_prev.fwd_pkts) {
		rx_pps = (sum.rx_pkts - s->hb_prev.rx_pkts) * 1000 / dt;
		fwd_pps = (sum.fwd_pkts - s->hb_prev.fwd_pkts) * 1000 / dt;
	}
	s->hb_prev = sum;
	s->hb_prev_ms = s->mono_ms;

	/* A relay restarted with fewer workers within the hash's TTL would
	 * keep showing the old process's extra workers: drop them once. */
	if (!s->hb_workers_pruned && s->n_workers < DUET_CONF_MAX_WORKERS) {
		sync_cmd_key_op(&c, "HDEL", s->key_relay);
		for (d = s->n_workers; d < DUET_CONF_MAX_WORKERS; d++) {
			snprintf(name, sizeof(name), "worker%u_rx_pkts", d);
			sync_cmd_str(&c, name);
			snprintf(name, sizeof(name), "worker%u_fwd_pkts", d);
			sync_cmd_str(&c, name);
			snprintf(name, sizeof(name), "worker%u_drops", d);
			sync_cmd_str(&c, name);
		}
		if (sync_cmd_append(s, &c, &n) < 0)
			return;
	}
	sync_cmd_key_op(&c, "HSET", s->key_relay);
	sync_cmd_str(&c, "version");
	sync_cmd_str(&c, DUET_VERSION);
	sync_cmd_str(&c, "started_ms");
	sync_cmd_u64(&c, s->started_ms);
	sync_cmd_str(&c, "lease");
	sync_cmd_str(&c, s->lease_token);
	sync_cmd_str(&c, "updated_ms");
	sync_cmd_u64(&c, now_ms);
	sync_cmd_str(&c, "pairs");
	sync_cmd_u64(&c, duet_pair_count(s->t));
	sync_cmd_str(&c, "draining");
	sync_cmd_u64(&c, s->draining ? 1 : 0);
	/* How often this hash is rewritten: what `duetctl relay drain`
	 * waits for. */
	sync_cmd_str(&c, "stats_interval_ms");
	sync_cmd_u64(&c, s->conf->stats_interval_ms);
	/* What a control plane needs to pick a relay: room for pairs and
	 * endpoints (each pair holds two). */
	sync_cmd_str(&c, "capacity");
	sync_cmd_u64(&c, duet_pair_capacity(s->t));
	sync_cmd_str(&c, "endpoints");
	sync_cmd_u64(&c, endpoints);
	sync_cmd_str(&c, "endpoints_free");
	sync_cmd_u64(&c, endpoints > held ? endpoints - held : 0);
	sync_cmd_str(&c, "workers");
	sync_cmd_u64(&c, s->n_workers);
	sync_cmd_str(&c, "srtp_engine");
	sync_cmd_str(&c, duet_srtp_engine_get() == DUET_SRTP_ENGINE_BURST ? "burst" : "libsrtp2");
	sync_cmd_str(&c, "rx_pkts");
	sync_cmd_u64(&c, sum.rx_pkts);
	sync_cmd_str(&c, "fwd_pkts");
	sync_cmd_u64(&c, sum.fwd_pkts);
	sync_cmd_str(&c, "fwd_bytes");
	sync_cmd_u64(&c, sum.fwd_bytes);
	sync_cmd_str(&c, "rx_pps");
	sync_cmd_u64(&c, rx_pps);
	sync_cmd_str(&c, "fwd_pps");
	sync_cmd_u64(&c, fwd_pps);
	sync_cmd_str(&c, "arp_replies");
	sync_cmd_u64(&c, sum.arp_replies);
	sync_cmd_str(&c, "arp_learned");
	sync_cmd_u64(&c, sum.arp_learned);
	sync_cmd_str(&c, "nd_replies");
	sync_cmd_u64(&c, sum.nd_replies);
	sync_cmd_str(&c, "nd_learned");
	sync_cmd_u64(&c, sum.nd_learned);
	sync_cmd_str(&c, "icmp_replies");
	sync_cmd_u64(&c, sum.icmp_replies);
	sync_cmd_str(&c, "latched");
	sync_cmd_u64(&c, sum.latched);
	sync_cmd_str(&c, "relatched");
	sync_cmd_u64(&c, sum.relatched);
	sync_cmd_str(&c, "srtp_streams_removed");
	sync_cmd_u64(&c, sum.srtp_streams_removed);
	sync_cmd_str(&c, "srtp_batches");
	sync_cmd_u64(&c, sum.srtp_batches);
	sync_cmd_str(&c, "srtp_batched_pkts");
	sync_cmd_u64(&c, sum.srtp_batched_pkts);
	sync_cmd_str(&c, "drops");
	sync_cmd_u64(&c, duet_stats_total_drops(&sum));
	for (d = 0; d < DUET_DROP_MAX; d++) {
		snprintf(name, sizeof(name), "drop_%s", duet_drop_name((enum duet_drop)d));
		sync_cmd_str(&c, name);
		sync_cmd_u64(&c, sum.drops[d]);
	}
	/* Each worker's share, so an operator sees whether RSS spreads the
	 * load (one worker doing all the work is a hot queue, not a full relay). */
	for (d = 0; d < s->n_workers; d++) {
		const struct duet_lcore_stats *w = &s->lcore_stats[d];

		snprintf(name, sizeof(name), "worker%u_rx_pkts", d);
		sync_cmd_str(&c, name);
		sync_cmd_u64(&c, w->rx_pkts);
		snprintf(name, sizeof(name), "worker%u_fwd_pkts", d);
		sync_cmd_str(&c, name);
		sync_cmd_u64(&c, w->fwd_pkts);
		snprintf(name, sizeof(name), "worker%u_drops", d);
		sync_cmd_str(&c, name);
		sync_cmd_u64(&c, duet_stats_total_drops(w));
	}
	sync_cmd_str(&c, "redis_reconnects");
	sync_cmd_u64(&c, sync_reconnects(s));
	sync_cmd_str(&c, "rejected");
	sync_cmd_u64(&c, s->rejected);
	sync_cmd_str(&c, "resumed");
	sync_cmd_u64(&c, s->resumed);
	sync_cmd_str(&c, "resume_refused");
	sync_cmd_u64(&c, s->resume_refused);
	sync_cmd_str(&c, "waiting_for_slot");
	sync_cmd_u64(&c, s->n_full_wait);
	sync_cmd_str(&c, "resync_held");
	sync_cmd_u64(&c, s->n_held);
	sync_cmd_str(&c, "ended_waiting");
	sync_cmd_u64(&c, s->n_parked);
	sync_cmd_str(&c, "ended_lost");
	sync_cmd_u64(&c, s->ended_lost);
	sync_cmd_str(&c, "writes_dropped");
	sync_cmd_u64(&c, s->ob.dropped);
	mem_fields(&c);
	if (sync_cmd_append(s, &c, &n) < 0)
		return;
	/* A heartbeat means running: pair_create.lua refuses a relay whose
	 * hash says it stopped (duet_sync_lease.c writes it at a clean exit). */
	sync_cmd_key_op(&c, "HDEL", s->key_relay);
	sync_cmd_str(&c, "stopped_ms");
	if (sync_cmd_append(s, &c, &n) < 0)
		return;
	/* The TTL is what tells the control plane this relay died; PEXPIRE 0
	 * would delete the hash instead. */
	if (s->conf->heartbeat_ttl_ms > 0) {
		snprintf(ttl, sizeof(ttl), "%" PRIu32, s->conf->heartbeat_ttl_ms);
		sync_cmd_key_op(&c, "PEXPIRE", s->key_relay);
		sync_cmd_str(&c, ttl);
		if (sync_cmd_append(s, &c, &n) < 0)
			return;
	}
	if (sync_cmd_drain(s, n, "writing the heartbeat") == 0)
		s->hb_workers_pruned = true;
}
