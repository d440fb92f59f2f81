/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_stats: names of drop reasons and the control thread's summing of the
 * per-lcore counters. Nothing here runs on a worker.
 */
#include <string.h>

#include "duet_stats.h"

static const char *const drop_names[DUET_DROP_MAX] = {
#define DUET_DROP(sym, name, help) [DUET_DROP_##sym] = name,
#include "duet_drop.def"
#undef DUET_DROP
};

static const char *const drop_helps[DUET_DROP_MAX] = {
#define DUET_DROP(sym, name, help) [DUET_DROP_##sym] = help,
#include "duet_drop.def"
#undef DUET_DROP
};

const char *
duet_drop_name(enum duet_drop d)
{
	return (unsigned int)d < DUET_DROP_MAX ? drop_names[d] : "unknown";
}

const char *
duet_drop_help(enum duet_drop d)
{
	return (unsigned int)d < DUET_DROP_MAX ? drop_helps[d] : "unknown";
}

void
duet_stats_sum(const struct duet_lcore_stats *per_lcore, unsigned int n,
	       struct duet_lcore_stats *out)
{
	unsigned int i, d;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		const struct duet_lcore_stats *s = &per_lcore[i];

		out->rx_pkts += s->rx_pkts;
		out->fwd_pkts += s->fwd_pkts;
		out->fwd_bytes += s->fwd_bytes;
		out->arp_replies += s->arp_replies;
		out->icmp_replies += s->icmp_replies;
		out->ctl_tx_pkts += s->ctl_tx_pkts;
		out->arp_learned += s->arp_learned;
		out->nd_replies += s->nd_replies;
		out->nd_learned += s->nd_learned;
		out->latched += s->latched;
		out->relatched += s->relatched;
		out->srtp_streams_removed += s->srtp_streams_removed;
		out->srtp_batches += s->srtp_batches;
		out->srtp_batched_pkts += s->srtp_batched_pkts;
		out->polls += s->polls;
		out->busy_polls += s->busy_polls;
		out->loop_tsc += s->loop_tsc;
		out->busy_tsc += s->busy_tsc;
		for (d = 0; d < DUET_DROP_MAX; d++)
			out->drops[d] += s->drops[d];
	}
}

uint64_t
duet_stats_total_drops(const struct duet_lcore_stats *s)
{
	uint64_t t = 0;
	unsigned int d;

	for (d = 0; d < DUET_DROP_MAX; d++)
		t += s->drops[d];
	return t;
}
