/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_worker: the worker lcore's loop around duet_worker_burst(), and the
 * setup of its tx buffers (main thread, before launch). The loop: for each
 * port, rx burst and handle; send frames queued by the control thread;
 * report an RCU quiescent state; flush tx buffers on a TSC timer; sleep only
 * when configured to and a whole round received nothing.
 */
#include <errno.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "duet_srtp_fp.h"
#include "duet_worker.h"
#include "duet_worker_fp.h"

void
duet_worker_budgets_init(struct duet_police_budget *b, const struct duet_conf *conf,
			 uint64_t hz, uint64_t now)
{
	duet_police_budget_init(&b[DUET_BUDGET_NO_PAIR], hz, conf->security.budget_no_pair_pps,
				now);
	duet_police_budget_init(&b[DUET_BUDGET_UNLATCHED], hz,
				conf->security.budget_unlatched_pps, now);
	duet_police_budget_init(&b[DUET_BUDGET_ICMP], hz, conf->security.budget_icmp_pps, now);
	duet_police_budget_init(&b[DUET_BUDGET_ARP], hz, conf->security.budget_arp_pps, now);
}

void
duet_worker_configure(struct duet_worker *w, const struct duet_conf *conf,
		      struct duet_police_budget *budgets, uint64_t hz)
{
	w->policy = &conf->policy;
	w->budgets = budgets;
	w->silence_tsc = hz / 1000 * conf->relatch_silence_ms;
	w->police_tau = duet_police_tau(hz, conf->security.police_burst_ms);
	w->srtp_max_ssrc = conf->security.srtp_max_ssrc;
	w->egress.ttl = (uint8_t)conf->ttl;
	w->egress.keep_dscp = conf->dscp == DUET_CONF_DSCP_KEEP;
	w->egress.tos = w->egress.keep_dscp ? 0 : (uint8_t)(conf->dscp << 2);
}

/* UDP payload bytes of a relayed frame, as counted when it was queued. */
static uint64_t
relayed_payload(const struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	size_t l3 = 14;
	uint16_t udp_len;

	if (m->data_len < 14 + 20 + 8)
		return 0;
	/* A relayed frame's header is the relay's own: 20 or 40 bytes. */
	l3 += (f[14] >> 4) == 6 ? 40 : (size_t)(f[14] & 0x0f) * 4;
	if (m->data_len < l3 + 8)
		return 0;
	udp_len = (uint16_t)(f[l3 + 4] << 8 | f[l3 + 5]);
	return udp_len >= 8 ? udp_len - 8u : 0;
}

/* The tx buffer gave up on these frames: the queue is full. Each was
 * counted when queued; move it from that count to tx_full. */
static void
tx_unsent(struct rte_mbuf **unsent, uint16_t count, void *userdata)
{
	struct duet_worker *w = userdata;
	uint16_t i;

	for (i = 0; i < count; i++) {
		struct rte_mbuf *m = unsent[i];
		uint32_t tag = m->hash.usr;

		switch (tag & 3) {
		case DUET_TX_RELAY: {
			struct duet_leg_hot *lc = duet_pair_hot_at(w->pairs, w->widx, tag >> 2);
			uint64_t bytes = relayed_payload(m);

			w->stats->fwd_pkts--;
			w->stats->fwd_bytes -= bytes;
			lc->pkts--;
			lc->bytes -= bytes;
			break;
		}
		case DUET_TX_ARP:
			/* Above the kind: 1 for a neighbour advertisement. */
			if (tag >> 2)
				w->stats->nd_replies--;
			else
				w->stats->arp_replies--;
			break;
		case DUET_TX_ICMP:
			w->stats->icmp_replies--;
			break;
		default:
			w->stats->ctl_tx_pkts--;
			break;
		}
	}
	w->stats->drops[DUET_DROP_TX_FULL] += count;
	rte_pktmbuf_free_bulk(unsent, count);
}

int
duet_worker_init(struct duet_worker *w, int socket_id)
{
	unsigned int i;

	for (i = 0; i < w->n_ports; i++) {
		w->txb[i] = rte_zmalloc_socket("duet_txb",
					       RTE_ETH_TX_BUFFER_SIZE(DUET_WORKER_BURST), 0,
					       socket_id);
		if (w->txb[i] == NULL)
			goto err_free;
		rte_eth_tx_buffer_init(w->txb[i], DUET_WORKER_BURST);
		rte_eth_tx_buffer_set_err_callback(w->txb[i], tx_unsent, w);
	}
	w->rtp_clock_mult = ((uint64_t)DUET_RTP_LEG_CLOCK << 32) / rte_get_tsc_hz();
	w->scratch = rte_zmalloc_socket("duet_srtp_scratch", DUET_SRTP_SCRATCH, RTE_CACHE_LINE_SIZE,
					socket_id);
	if (w->scratch == NULL)
		goto err_free;
	return 0;
err_free:
	duet_worker_fini(w);
	return -ENOMEM;
}

void
duet_worker_fini(struct duet_worker *w)
{
	unsigned int i;

	for (i = 0; i < DUET_CONF_MAX_PORTS; i++) {
		rte_free(w->txb[i]);
		w->txb[i] = NULL;
	}
	rte_free(w->scratch);
	w->scratch = NULL;
}

void
duet_worker_flush(struct duet_worker *w)
{
	unsigned int i;

	for (i = 0; i < w->n_ports; i++)
		rte_eth_tx_buffer_flush(w->ports[i].port_id, w->queue, w->txb[i]);
}

/* Send the frames the control thread queued for us. */
static void
drain_ctl(struct duet_worker *w)
{
	struct rte_mbuf *m[DUET_WORKER_BURST];
	unsigned int n, i;

	if (w->ctl_ring == NULL)
		return;
	n = rte_ring_dequeue_burst(w->ctl_ring, (void **)m, DUET_WORKER_BURST, NULL);
	for (i = 0; i < n; i++) {
		if (m[i]->port >= w->n_ports) {
			rte_pktmbuf_free(m[i]);
			continue;
		}
		w->stats->ctl_tx_pkts++;
		duet_worker_tx(w, m[i]->port, m[i], DUET_TX_CTL);
	}
}

int
duet_worker_main(void *arg)
{
	struct duet_worker *w = arg;
	struct rte_mbuf *pkts[DUET_WORKER_BURST];
	uint64_t now, prev, last_flush = 0;
	unsigned int p;
	uint16_t n, total = 0;

	/* The burst SRTP engine's manager: this lcore's own. */
	if (duet_srtp_engine_get() == DUET_SRTP_ENGINE_BURST && duet_srtp_lcore_init() != 0)
		return -ENOMEM;
	if (duet_pair_worker_register(w->pairs, w->widx) != 0) {
		duet_srtp_lcore_fini();
		return -EINVAL;
	}
	prev = rte_rdtsc();
	while (!*w->quit) {
		now = rte_rdtsc();
		/* The round that just ended, by its start and this one's: busy
		 * share and polls for the metrics, and a worker that still
		 * polls for the control thread's watchdog. */
		w->stats->polls++;
		w->stats->loop_tsc += now - prev;
		if (total != 0) {
			w->stats->busy_polls++;
			w->stats->busy_tsc += now - prev;
		}
		prev = now;
		total = 0;
		for (p = 0; p < w->n_ports; p++) {
			n = rte_eth_rx_burst(w->ports[p].port_id, w->queue, pkts, DUET_WORKER_BURST);
			if (n == 0)
				continue;
			total += n;
			duet_worker_burst(w, p, pkts, n, now);
		}
		drain_ctl(w);
		/* No leg pointer is held past this point. */
		duet_pair_quiescent(w->pairs, w->widx);
		if (total == 0 || now - last_flush >= w->drain_tsc) {
			duet_worker_flush(w);
			last_flush = now;
		}
		if (total == 0 && w->idle_poll_us != 0)
			rte_delay_us_sleep(w->idle_poll_us);
	}
	duet_worker_flush(w);
	duet_pair_worker_unregister(w->pairs, w->widx);
	duet_srtp_lcore_fini();
	return 0;
}
