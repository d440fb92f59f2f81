/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_worker fast path: what a worker does with one received burst. Parse
 * every frame, answer ARP/ICMP in place, look the UDP endpoints up in one
 * bulk call, apply the latching rule to the receiving leg, read the peer leg,
 * rewrite and buffer for transmit on the peer's port. Every frame ends in
 * exactly one of: forwarded, answered, learnt, or a counted drop. Worker
 * lcores only: no locks, allocation, syscalls or logs.
 */
#ifndef DUET_WORKER_FP_H
#define DUET_WORKER_FP_H

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "duet_pair_fp.h"
#include "duet_pkt.h"
#include "duet_pkt_fp.h"
#include "duet_srtp_fp.h"
#include "duet_worker.h"

#define DUET_PREFETCH_AHEAD 3

static inline void
duet_worker_drop(struct duet_worker *w, struct rte_mbuf *m, enum duet_drop why)
{
	w->stats->drops[why]++;
	rte_pktmbuf_free(m);
}

/*
 * What a queued frame was counted as, kept in m->hash.usr until it leaves
 * (rx no longer needs the RSS hash by then): if the tx queue refuses it,
 * the tx buffer's error callback takes that count back and counts tx_full
 * instead, so every frame is counted exactly once. Low 2 bits: kind; the
 * rest: the leg index of a relayed frame.
 */
enum duet_tx_kind {
	DUET_TX_CTL = 0,   /**< a control-thread frame (ctl_tx_pkts) */
	DUET_TX_RELAY = 1, /**< a relayed media packet (fwd_pkts, leg pkts) */
	DUET_TX_ARP = 2,   /**< an ARP reply (arp_replies) */
	DUET_TX_ICMP = 3,  /**< an ICMP echo reply (icmp_replies) */
};

/* Queue m for transmit on port index out. */
static inline void
duet_worker_tx(struct duet_worker *w, unsigned int out, struct rte_mbuf *m, uint32_t tag)
{
	m->hash.usr = tag;
	rte_eth_tx_buffer(w->ports[out].port_id, w->queue, w->txb[out], m);
}

/* ARP: answer requests for our addresses, learn the gateway's MAC. */
static inline void
duet_worker_arp(struct duet_worker *w, unsigned int in, struct rte_mbuf *m,
		const struct duet_pkt_info *pi)
{
	struct duet_port *port = &w->ports[in];
	uint32_t sip, tip;

	memcpy(&sip, pi->src.ip, 4);
	memcpy(&tip, pi->dst.ip, 4);
	if (port->gateway_be != 0 && sip == port->gateway_be && pi->arp_op == 2) {
		duet_port_set_gateway_mac(port, pi->src_mac);
		w->stats->arp_learned++;
		rte_pktmbuf_free(m);
		return;
	}
	if (pi->arp_op == 1 && duet_port_owns(port, tip)) {
		if (port->gateway_be != 0 && sip == port->gateway_be)
			duet_port_set_gateway_mac(port, pi->src_mac);
		uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
		size_t len = duet_pkt_arp_to_reply(f, pi, port->mac);

		/* Pad to the Ethernet minimum ourselves: not every driver does. */
		if (len < 60 && rte_pktmbuf_tailroom(m) + m->data_len >= 60) {
			memset(f + len, 0, 60 - len);
			len = 60;
		}
		m->data_len = (uint16_t)len;
		m->pkt_len = (uint32_t)len;
		w->stats->arp_replies++;
		duet_worker_tx(w, in, m, DUET_TX_ARP);
		return;
	}
	duet_worker_drop(w, m, DUET_DROP_ARP_OTHER);
}

/*
 * Send a packet the leg accepted on to the peer leg's client: drop it if the
 * peer has no client yet or no next-hop MAC is known, else rewrite it to
 * leave from the peer's endpoint and queue it. new_len >= 0 is the payload's
 * new length after SRTP rekey (lengths and the UDP checksum are then
 * recomputed); -1 keeps the payload as it came. Returns like
 * duet_worker_relay().
 */
static inline uint16_t
duet_worker_to_peer(struct duet_worker *w, struct rte_mbuf *m, struct duet_pkt_info *pi,
		    uint32_t leg_idx, struct duet_leg_counters *lc, int new_len)
{
	struct duet_leg *peer = duet_pair_leg_at(w->pairs, leg_idx ^ 1);
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	struct duet_leg_view pv;
	const uint8_t *dmac;
	uint64_t bytes;
	uint8_t gw[6];
	unsigned int out;

	if (!duet_leg_read(peer, &pv)) {
		duet_worker_drop(w, m, DUET_DROP_LEG_BUSY);
		return 0;
	}
	if (pv.state != DUET_LEG_LATCHED) {
		lc->drop_peer_unlatched++;
		duet_worker_drop(w, m, DUET_DROP_PEER_UNLATCHED);
		return 0;
	}
	out = peer->port_idx;
	if (pv.has_hop_mac) {
		dmac = pv.hop_mac;
	} else if (duet_port_gateway_mac(&w->ports[out], gw)) {
		dmac = gw;
	} else {
		duet_worker_drop(w, m, DUET_DROP_NO_NEXT_HOP);
		return 0;
	}
	if (new_len >= 0) {
		m->data_len = (uint16_t)(pi->l4_off + 8 + new_len);
		m->pkt_len = m->data_len;
		duet_pkt_udp4_resize(frame, pi, (uint16_t)(new_len + 8));
	}
	duet_pkt_rewrite_udp4(frame, pi, &peer->local, &pv.client, w->ports[out].mac, dmac,
			      w->ports[out].ip_cksum_offload);
	if (new_len >= 0)
		duet_pkt_udp4_cksum_full(frame, pi);
	if (w->ports[out].ip_cksum_offload) {
		m->l2_len = pi->l3_off;
		m->l3_len = (uint16_t)(pi->l4_off - pi->l3_off);
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	}
	bytes = (uint64_t)(pi->l4_len - 8);
	lc->pkts++;
	lc->bytes += bytes;
	w->stats->fwd_pkts++;
	w->stats->fwd_bytes += bytes;
	duet_worker_tx(w, out, m, (leg_idx << 2) | DUET_TX_RELAY);
	return 1;
}

/* Count a packet SRTP refused, per reason and (for the sender) per leg. */
static inline void
duet_worker_srtp_drop(struct duet_worker *w, struct rte_mbuf *m, struct duet_leg_counters *lc,
		      enum duet_srtp_verdict sv)
{
	static const uint8_t reason[] = {
		[DUET_SRTP_AUTH] = DUET_DROP_SRTP_AUTH,	    [DUET_SRTP_REPLAY] = DUET_DROP_SRTP_REPLAY,
		[DUET_SRTP_BAD] = DUET_DROP_SRTP_BAD,	    [DUET_SRTP_BUSY] = DUET_DROP_SRTP_BUSY,
		[DUET_SRTP_PROTECT] = DUET_DROP_SRTP_PROTECT, [DUET_SRTP_NO_KEY] = DUET_DROP_SRTP_NO_KEY,
	};

	if (sv == DUET_SRTP_REPLAY)
		lc->drop_replay++;
	else if (sv == DUET_SRTP_AUTH || sv == DUET_SRTP_BAD)
		lc->drop_auth++;
	duet_worker_drop(w, m, (enum duet_drop)reason[sv]);
}

/*
 * Keyed modes (verify, rekey): the packet must authenticate with the
 * sender's key before it may latch or re-latch the leg, so a spoofer
 * without the key can neither take a leg nor disturb it. Verify leaves the
 * packet as it came; rekey decrypts and re-encrypts it in place and sets
 * *new_len to the payload's new length (suites differ in tag length).
 * Returns false when the packet was dropped (and counted) here.
 */
static inline bool
duet_worker_srtp_in(struct duet_worker *w, struct rte_mbuf *m, const struct duet_pkt_info *pi,
		    uint32_t leg_idx, uint64_t now, int *new_len)
{
	struct duet_pair_table *t = w->pairs;
	struct duet_leg *leg = duet_pair_leg_at(t, leg_idx);
	struct duet_leg_counters *lc = duet_pair_counters_at(t, w->widx, leg_idx);
	struct duet_srtp_ctx *sc = duet_pair_srtp_at(t, leg_idx);
	uint8_t *payload = rte_pktmbuf_mtod_offset(m, uint8_t *, pi->l4_off + 8);
	int len = (int)pi->l4_len - 8;
	enum duet_srtp_verdict sv;

	/* A source the latch rule refuses anyway costs no crypto. */
	switch (duet_leg_peek(leg, &pi->src, now, w->silence_tsc)) {
	case DUET_LATCH_REJECT:
		lc->drop_src++;
		duet_worker_drop(w, m, DUET_DROP_SRC_REJECTED);
		return false;
	case DUET_LATCH_BUSY:
		duet_worker_drop(w, m, DUET_DROP_LEG_BUSY);
		return false;
	default:
		break;
	}
	if (sc == NULL) {
		sv = DUET_SRTP_NO_KEY;
	} else if (!duet_srtp_ctx_take(sc)) {
		sv = DUET_SRTP_BUSY;
	} else {
		if (leg->mode == DUET_MODE_REKEY) {
			int cap = (int)(rte_pktmbuf_tailroom(m) + m->data_len) - (pi->l4_off + 8);

			sv = duet_srtp_rekey(sc, payload, &len, cap, w->scratch, now);
			*new_len = len;
		} else {
			sv = duet_srtp_verify(sc, payload, len, w->scratch, now);
		}
		duet_srtp_ctx_give(sc);
	}
	if (sv == DUET_SRTP_OK)
		return true;
	duet_worker_srtp_drop(w, m, lc, sv);
	return false;
}

/*
 * Measure an accepted packet of the leg's client for the RTP statistics
 * (loss, jitter). The RTP header is in the clear in every mode (and rekey
 * keeps it), so this works in passthrough too; RTCP is not counted.
 */
static inline void
duet_worker_rtp_stats(struct duet_worker *w, const struct rte_mbuf *m,
		      const struct duet_pkt_info *pi, uint32_t leg_idx, uint64_t now)
{
	const uint8_t *r = rte_pktmbuf_mtod_offset(m, const uint8_t *, pi->l4_off + 8);
	uint32_t arrival, ts, ssrc;
	uint16_t seq;

	if (pi->l4_len < 8 + 12 || (r[0] >> 6) != 2 || (r[1] >= 192 && r[1] <= 223))
		return;
	seq = (uint16_t)(r[2] << 8 | r[3]);
	ts = (uint32_t)r[4] << 24 | (uint32_t)r[5] << 16 | (uint32_t)r[6] << 8 | r[7];
	ssrc = (uint32_t)r[8] << 24 | (uint32_t)r[9] << 16 | (uint32_t)r[10] << 8 | r[11];
	arrival = (uint32_t)(((unsigned __int128)now * w->rtp_clock_mult) >> 32);
	duet_rtp_leg_update(duet_pair_rtp_at(w->pairs, leg_idx), ssrc, seq, ts, arrival);
}

/*
 * Relay one UDP packet that arrived at leg leg_idx: buffered for tx
 * (returns 1) or dropped and counted here (returns 0).
 */
static inline uint16_t
duet_worker_relay(struct duet_worker *w, struct rte_mbuf *m, struct duet_pkt_info *pi,
		  uint32_t leg_idx, uint64_t now)
{
	struct duet_pair_table *t = w->pairs;
	struct duet_leg *leg = duet_pair_leg_at(t, leg_idx);
	struct duet_leg_counters *lc = duet_pair_counters_at(t, w->widx, leg_idx);
	struct duet_leg_view lv;
	enum duet_latch_verdict v;
	int new_len = -1;

	if (pi->ttl <= 1) {
		duet_worker_drop(w, m, DUET_DROP_IP_TTL);
		return 0;
	}
	if (leg->mode != DUET_MODE_PASSTHROUGH &&
	    !duet_worker_srtp_in(w, m, pi, leg_idx, now, &new_len))
		return 0;
	/* In keyed modes only an authentic packet gets here to (re-)latch. */
	v = duet_leg_rx(leg, &pi->src, pi->src_mac, now, w->silence_tsc, &lv);
	if (v == DUET_LATCH_REJECT) {
		lc->drop_src++;
		duet_worker_drop(w, m, DUET_DROP_SRC_REJECTED);
		return 0;
	}
	if (v == DUET_LATCH_BUSY) {
		duet_worker_drop(w, m, DUET_DROP_LEG_BUSY);
		return 0;
	}
	w->stats->latched += v == DUET_LATCH_NEW;
	w->stats->relatched += v == DUET_LATCH_MOVED;
	duet_worker_rtp_stats(w, m, pi, leg_idx, now);
	return duet_worker_to_peer(w, m, pi, leg_idx, lc, new_len);
}

/**
 * Handle a burst of n <= DUET_WORKER_BURST frames received on port index
 * `in`. Takes ownership of every mbuf. @return the number of frames relayed.
 */
static inline uint16_t
duet_worker_burst(struct duet_worker *w, unsigned int in, struct rte_mbuf **pkts, uint16_t n,
		  uint64_t now)
{
	struct duet_pkt_info info[DUET_WORKER_BURST];
	const struct duet_addr *keys[DUET_WORKER_BURST];
	struct rte_mbuf *udp[DUET_WORKER_BURST];
	struct duet_pkt_info *uinfo[DUET_WORKER_BURST];
	uint32_t leg_idx[DUET_WORKER_BURST];
	struct duet_port *port = &w->ports[in];
	uint16_t i, nu = 0, relayed = 0;
	uint64_t hits;

	RTE_ASSERT(n <= DUET_WORKER_BURST);
	w->stats->rx_pkts += n;
	for (i = 0; i < n && i < DUET_PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct duet_pkt_info *pi = &info[i];
		uint64_t ipck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
		uint32_t dst;

		if (i + DUET_PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + DUET_PREFETCH_AHEAD], void *));
		if (m->nb_segs > 1) {
			duet_worker_drop(w, m, DUET_DROP_MULTI_SEG);
			continue;
		}
		if (ipck == RTE_MBUF_F_RX_IP_CKSUM_BAD) {
			duet_worker_drop(w, m, DUET_DROP_IP_CKSUM);
			continue;
		}
		if (duet_pkt_parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
				   ipck == RTE_MBUF_F_RX_IP_CKSUM_GOOD, pi) != 0) {
			duet_worker_drop(w, m, (enum duet_drop)pi->drop);
			continue;
		}
		if (pi->kind == DUET_PKT_ARP) {
			duet_worker_arp(w, in, m, pi);
			continue;
		}
		memcpy(&dst, pi->dst.ip, 4);
		if (!duet_port_owns(port, dst)) {
			duet_worker_drop(w, m, DUET_DROP_NOT_FOR_US);
			continue;
		}
		if (pi->kind == DUET_PKT_ICMP_ECHO) {
			uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);

			duet_pkt_icmp_to_reply(f, pi);
			/* The request may have reached us flooded or broadcast: the
			 * reply always leaves from our own MAC. */
			memcpy(f + 6, port->mac, 6);
			w->stats->icmp_replies++;
			duet_worker_tx(w, in, m, DUET_TX_ICMP);
			continue;
		}
		if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD) {
			duet_worker_drop(w, m, DUET_DROP_UDP_CKSUM);
			continue;
		}
		udp[nu] = m;
		uinfo[nu] = pi;
		keys[nu] = &pi->dst;
		nu++;
	}
	hits = duet_pair_lookup_bulk(w->pairs, keys, nu, leg_idx);
	/* With many pairs every leg is a cache miss: ask for all of this
	 * burst's lines at once so the misses overlap instead of queueing. */
	for (i = 0; i < nu; i++) {
		if (!(hits & (1ULL << i)))
			continue;
		rte_prefetch0(duet_pair_leg_at(w->pairs, leg_idx[i]));
		rte_prefetch0(duet_pair_leg_at(w->pairs, leg_idx[i] ^ 1));
		rte_prefetch0(duet_pair_counters_at(w->pairs, w->widx, leg_idx[i]));
		rte_prefetch0(duet_pair_rtp_at(w->pairs, leg_idx[i]));
	}
	for (i = 0; i < nu; i++) {
		if (!(hits & (1ULL << i))) {
			duet_worker_drop(w, udp[i], DUET_DROP_NO_ENDPOINT);
			continue;
		}
		relayed += duet_worker_relay(w, udp[i], uinfo[i], leg_idx[i], now);
	}
	return relayed;
}

#endif /* DUET_WORKER_FP_H */
