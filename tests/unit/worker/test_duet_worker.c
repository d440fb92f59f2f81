/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/worker/duet_worker.c: tx buffer set-up and flushing,
 * what happens when a transmit queue is full, and the lcore loop
 * duet_worker_main() itself, run on lcore 1 while the test's main lcore
 * plays the control thread (it feeds frames through ctl_ring; net_ring
 * loops what the worker sends back into the worker's own rx queue, so
 * those frames then go through the whole receive path).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include "duet_pkt.h"
#include "worker_harness.h"

static struct duet_lcore_stats *
stats0(void)
{
	return H.workers[0].stats;
}

/* A UDP frame from A to leg a as an mbuf. */
static struct rte_mbuf *
frame_a(const char *payload)
{
	uint8_t f[128], body[64];
	size_t blen = rtp_text(body, sizeof(body), cli_a, payload);
	size_t len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 64, body, blen);

	return mbuf_of(f, len);
}

static struct rte_mbuf *
frame_b(const char *payload)
{
	uint8_t f[128], body[64];
	size_t blen = rtp_text(body, sizeof(body), cli_b, payload);
	size_t len = build_udp(f, MAC_B, MAC_PORT1, cli_b, ep_b, 64, body, blen);

	return mbuf_of(f, len);
}

Test(worker, init_gives_each_port_a_tx_buffer_and_fini_takes_them_back, .init = one_worker,
     .fini = teardown)
{
	struct duet_worker *w = &H.workers[0];
	unsigned int i;

	for (i = 0; i < DUET_CONF_MAX_PORTS; i++) {
		if (i < w->n_ports) {
			cr_assert_not_null(w->txb[i], "port %u has no tx buffer", i);
			cr_assert_eq(w->txb[i]->size, DUET_WORKER_BURST);
			cr_assert_eq(w->txb[i]->length, 0);
		} else {
			cr_assert_null(w->txb[i], "tx buffer for port %u that does not exist", i);
		}
	}
	duet_worker_fini(w);
	for (i = 0; i < DUET_CONF_MAX_PORTS; i++)
		cr_assert_null(w->txb[i]);
	/* Again, as teardown does: fini twice is harmless. */
	duet_worker_fini(w);
	cr_assert_eq(duet_worker_init(w, (int)rte_socket_id()), 0);
	cr_assert_not_null(w->txb[1]);
}

Test(worker, relayed_frames_wait_in_the_tx_buffer_until_flushed, .init = one_worker,
     .fini = teardown)
{
	struct duet_worker *w = &H.workers[0];
	struct rte_mbuf *m, *out[4];

	latch_both(put_default_pair(), T0);
	m = frame_a("buffered");
	cr_assert_eq(duet_worker_burst(w, 0, &m, 1, T0 + 1), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 0, "sent before the flush");
	cr_assert_eq(w->txb[1]->length, 1);
	duet_worker_flush(w);
	cr_assert_eq(w->txb[1]->length, 0);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	rte_pktmbuf_free(out[0]);
}

Test(worker, a_full_burst_goes_out_without_a_flush, .init = one_worker, .fini = teardown)
{
	struct duet_worker *w = &H.workers[0];
	struct rte_mbuf *pkts[DUET_WORKER_BURST], *out[64];
	unsigned int i;
	uint16_t n;

	latch_both(put_default_pair(), T0);
	for (i = 0; i < DUET_WORKER_BURST; i++)
		pkts[i] = frame_a("full");
	cr_assert_eq(duet_worker_burst(w, 0, pkts, DUET_WORKER_BURST, T0 + 1), DUET_WORKER_BURST);
	n = rx_all(1, 0, out, 64);
	cr_assert_eq(n, DUET_WORKER_BURST);
	rte_pktmbuf_free_bulk(out, n);
}

/* Fill port 1's queue (nobody reads it) until the worker's tx buffer gives
 * up on frames. @return how many were relayed in total. */
static uint64_t
overflow_port1(uint64_t *sent)
{
	struct duet_worker *w = &H.workers[0];
	struct rte_mbuf *pkts[DUET_WORKER_BURST];
	unsigned int i, round;

	*sent = 0;
	for (round = 0; round < 200 && stats0()->drops[DUET_DROP_TX_FULL] == 0; round++) {
		for (i = 0; i < DUET_WORKER_BURST; i++)
			pkts[i] = frame_a("overflow");
		duet_worker_burst(w, 0, pkts, DUET_WORKER_BURST, T0 + 1 + round);
		duet_worker_flush(w);
		*sent += DUET_WORKER_BURST;
	}
	return stats0()->fwd_pkts;
}

Test(worker, a_full_tx_queue_counts_tx_full_and_frees_the_frames, .init = one_worker,
     .fini = teardown)
{
	struct rte_mbuf *out[256];
	unsigned int avail_before;
	uint64_t sent, queued = 0, tx_full;
	uint16_t n;

	latch_both(put_default_pair(), T0);
	avail_before = rte_mempool_avail_count(H.mp);
	overflow_port1(&sent);
	tx_full = stats0()->drops[DUET_DROP_TX_FULL];
	cr_assert_gt(tx_full, 0, "%" PRIu64 " frames never filled the queue", sent);
	while ((n = rx_all(1, 0, out, 256)) != 0) {
		queued += n;
		rte_pktmbuf_free_bulk(out, n);
	}
	cr_assert_eq(queued + tx_full, sent, "queued %" PRIu64 " + tx_full %" PRIu64 " != %" PRIu64,
		     queued, tx_full, sent);
	cr_assert_eq(rte_mempool_avail_count(H.mp), avail_before, "frames dropped at tx leaked");
}

/*
 * duet_worker_fp.h: "Every frame ends in exactly one of: forwarded,
 * answered, learnt, or a counted drop." A frame the tx queue refuses is
 * counted as forwarded (fwd_pkts and the leg's pkts) when it is buffered,
 * and again as a tx_full drop when the buffer gives up on it.
 */
Test(worker, a_frame_dropped_at_tx_is_not_also_counted_as_relayed, .init = one_worker,
     .fini = teardown)
{
	struct duet_leg_counters la;
	uint64_t sent, fwd, tx_full;
	int slot = put_default_pair();

	latch_both(slot, T0);
	fwd = overflow_port1(&sent) - 1; /* latch_both relayed one */
	tx_full = stats0()->drops[DUET_DROP_TX_FULL];
	cr_assert_gt(tx_full, 0);
	la = leg_counters(slot, 0);
	cr_assert_eq(fwd + tx_full, sent,
		     "fwd_pkts %" PRIu64 " + tx_full %" PRIu64 " for %" PRIu64 " frames", fwd,
		     tx_full, sent);
	cr_assert_eq(la.pkts, sent - tx_full, "leg a counts %" PRIu64 " relayed, %" PRIu64
		     " left the port", la.pkts, sent - tx_full);
	assert_accounting(stats0());
}

/* ---- the lcore loop ------------------------------------------------------------ */

/* Wait (up to 5 s) until cond() holds; the worker runs on lcore 1. */
static bool
wait_for(bool (*cond)(void))
{
	uint64_t end = rte_get_tsc_cycles() + 5 * rte_get_tsc_hz();

	while (!cond()) {
		if (rte_get_tsc_cycles() > end)
			return false;
		rte_delay_us_sleep(100);
	}
	return true;
}

static bool
a_latched(void)
{
	return __atomic_load_n(&stats0()->drops[DUET_DROP_PEER_UNLATCHED], __ATOMIC_RELAXED) == 1;
}

/* B's frame was relayed toward A, and the relayed frame, looped back into
 * port 0 by net_ring, arrived addressed to A: not for us. */
static bool
b_relayed_and_looped(void)
{
	return __atomic_load_n(&stats0()->drops[DUET_DROP_NOT_FOR_US], __ATOMIC_RELAXED) == 1;
}

static bool
arp_looped(void)
{
	return __atomic_load_n(&stats0()->drops[DUET_DROP_ARP_OTHER], __ATOMIC_RELAXED) == 1;
}

static void
ctl_send(struct rte_ring *r, struct rte_mbuf *m, uint16_t port)
{
	m->port = port;
	cr_assert_eq(rte_ring_enqueue(r, m), 0);
}

Test(worker, the_loop_sends_control_frames_and_relays_what_it_receives,
     .init = one_worker_on_lcore1, .fini = teardown, .timeout = 60)
{
	struct duet_worker *w = &H.workers[0];
	struct rte_mbuf *m;
	unsigned int avail_before;
	uint8_t f[64];
	uint32_t sip, tip;
	size_t len;
	int slot = put_default_pair();

	w->ctl_ring = rte_ring_create("wt_ctl", 64, (int)rte_socket_id(),
				      RING_F_SP_ENQ | RING_F_SC_DEQ);
	cr_assert_not_null(w->ctl_ring);
	w->idle_poll_us = 10;
	w->silence_tsc = rte_get_tsc_hz() * 3600;
	avail_before = rte_mempool_avail_count(H.mp);
	H.quit = false;
	cr_assert_eq(rte_eal_remote_launch(duet_worker_main, w, 1), 0);

	/* A's datagram goes out of port 0 and comes back in: leg a latches. */
	ctl_send(w->ctl_ring, frame_a("hello"), 0);
	cr_assert(wait_for(a_latched), "the worker never received A's frame");
	cr_assert_eq(leg_client(slot, 0).ip, CLI_A);

	/* B's comes in on port 1 and is relayed toward A. */
	ctl_send(w->ctl_ring, frame_b("hi"), 1);
	cr_assert(wait_for(b_relayed_and_looped), "B's frame was not relayed");

	/* A frame for a port index that does not exist is freed, not sent. */
	ctl_send(w->ctl_ring, frame_a("lost"), 7);

	/* The ARP request duetd sends for a gateway, through the same ring. */
	sip = htonl(SVC0);
	tip = htonl(GW0);
	len = duet_pkt_build_arp_request(f, MAC_PORT0, sip, tip);
	m = mbuf_of(f, len);
	ctl_send(w->ctl_ring, m, 0);
	cr_assert(wait_for(arp_looped), "the ARP request never went out");

	H.quit = true;
	cr_assert_eq(rte_eal_wait_lcore(1), 0);

	cr_assert_eq(stats0()->ctl_tx_pkts, 3);
	cr_assert_eq(stats0()->fwd_pkts, 1);
	cr_assert_eq(stats0()->rx_pkts, 4, "rx %" PRIu64, stats0()->rx_pkts);
	cr_assert_eq(leg_counters(slot, 1).pkts, 1);
	assert_accounting(stats0());
	cr_assert_eq(rte_mempool_avail_count(H.mp), avail_before, "mbufs leaked");
	/* The loop unregistered from RCU: a grace period needs nothing from it. */
	cr_assert_eq(rte_rcu_qsbr_check(H.pairs->qsbr, rte_rcu_qsbr_start(H.pairs->qsbr), false), 1);
}

Test(worker, the_loop_stops_at_once_when_quit_is_already_set, .init = one_worker_on_lcore1,
     .fini = teardown, .timeout = 30)
{
	struct duet_worker *w = &H.workers[0];

	H.quit = true;
	cr_assert_eq(rte_eal_remote_launch(duet_worker_main, w, 1), 0);
	cr_assert_eq(rte_eal_wait_lcore(1), 0);
	cr_assert_eq(stats0()->rx_pkts, 0);
}

Test(worker, the_loop_refuses_a_worker_index_the_table_has_no_room_for, .init = one_worker,
     .fini = teardown)
{
	struct duet_worker w = H.workers[0];

	w.widx = 1; /* the table was made for one worker */
	H.quit = false;
	cr_assert_eq(duet_worker_main(&w), -EINVAL);
	w.txb[0] = w.txb[1] = NULL; /* still owned by H.workers[0] */
}
