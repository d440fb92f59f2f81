/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_worker fast path: what a worker does with one received burst. Parse
 * every frame, answer ARP/ICMP in place, find the UDP endpoints' legs in the
 * pair table's direct index (the burst's entries prefetched together), apply
 * the latching rule to the receiving leg, read the peer leg,
 * rewrite and buffer for transmit on the peer's port. Every frame ends in
 * exactly one of: forwarded, answered, learnt, or a counted drop. IPv4 and
 * IPv6 alike: the parser says which, the port finds the service address in
 * its family's list, and the rewrite toward the peer writes the peer's
 * family (a pair may bridge the two). Worker
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
#include "duet_pkt_parse_fp.h"
#include "duet_police_fp.h"
#include "duet_policy_fp.h"
#include "duet_rtp_fp.h"
#include "duet_srtp_fp.h"
#include "duet_worker.h"

#define DUET_PREFETCH_AHEAD 3

/* A packet of a keyed leg waiting in the burst's SRTP batch: what the
 * rest of duet_worker_relay() needs once its crypto is done. */
struct duet_worker_pend {
	struct rte_mbuf *m;
	struct duet_pkt_info *pi;
	struct duet_leg_view lv;
	uint32_t leg_idx;
	uint32_t ssrc;
	uint8_t kind; /* enum duet_rtp_kind */
	uint8_t seal; /* rekey: sealed toward the peer */
	uint8_t verdict; /* enum duet_srtp_verdict, as the batch goes */
	uint8_t reserved;
	int len;      /* the payload's length (rekey: opened, then sealed) */
};

/*
 * The burst's SRTP batch (burst engine, duet_srtp_fp.h "Batches"): the
 * steady-state packets of keyed legs, their engine entries, and the
 * directions the worker holds until the batch is flushed.
 */
struct duet_worker_batch {
	uint16_t n;
	uint16_t n_held;
	struct duet_srtp_ctx *held[DUET_WORKER_BURST];
	struct duet_worker_pend q[DUET_WORKER_BURST];
	struct duet_srtp_bpkt b[DUET_WORKER_BURST];
	struct duet_srtpe_pkt e[DUET_WORKER_BURST];
};

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

/* Charge one packet to a relay-wide budget. */
static inline bool
duet_worker_budget(struct duet_worker *w, enum duet_budget b, uint64_t now)
{
	return duet_police_budget_take(&w->budgets[b], now);
}

/* Is ip (16 bytes) link-local, fe80::/10? */
static inline bool
duet_worker_ip6_link_local(const uint8_t *ip)
{
	return ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80;
}

/* May mac be a next hop's: not a group address (multicast, broadcast), not
 * all zero, not our own port's. */
static inline bool
duet_worker_mac_usable(const uint8_t *mac, const uint8_t own[6])
{
	static const uint8_t zero[6];

	return (mac[0] & 0x01) == 0 && memcmp(mac, zero, 6) != 0 && memcmp(mac, own, 6) != 0;
}

/*
 * ARP: answer requests for our addresses (under the relay-wide ARP budget),
 * and learn the gateway's MAC only from a reply to a request the control
 * thread sent, inside its window (duet_port_arp_answered). Anything else
 * that claims the gateway's address moves nothing and is counted.
 */
static inline void
duet_worker_arp(struct duet_worker *w, unsigned int in, struct rte_mbuf *m,
		const struct duet_pkt_info *pi, uint64_t now)
{
	struct duet_port *port = &w->ports[in];
	bool for_us;
	uint32_t sip, tip;

	memcpy(&sip, pi->src.ip, 4);
	memcpy(&tip, pi->dst.ip, 4);
	for_us = duet_port_owns(port, tip);
	if (port->gateway_be != 0 && sip == port->gateway_be) {
		if (pi->arp_op == RTE_ARP_OP_REPLY && for_us &&
		    duet_worker_mac_usable(pi->src_mac, port->mac) &&
		    duet_port_arp_answered(port, now)) {
			duet_port_set_gateway_mac(port, pi->src_mac);
			w->stats->arp_learned++;
			rte_pktmbuf_free(m);
			return;
		}
		/* A request from the gateway for our address is answered
		 * below, but teaches nothing: anyone can send one. */
		if (pi->arp_op != RTE_ARP_OP_REQUEST || !for_us) {
			duet_worker_drop(w, m, DUET_DROP_ARP_UNSOLICITED);
			return;
		}
	}
	if (pi->arp_op == RTE_ARP_OP_REQUEST && for_us) {
		uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
		size_t len;

		if (!duet_worker_budget(w, DUET_BUDGET_ARP, now)) {
			duet_worker_drop(w, m, DUET_DROP_BUDGET_ARP);
			return;
		}
		len = duet_pkt_arp_to_reply(f, pi, port->mac);
		/* Pad to the Ethernet minimum ourselves: not every driver does. */
		if (len < DUET_PKT_ETH_MIN_FRAME &&
		    rte_pktmbuf_tailroom(m) + m->data_len >= DUET_PKT_ETH_MIN_FRAME) {
			memset(f + len, 0, DUET_PKT_ETH_MIN_FRAME - len);
			len = DUET_PKT_ETH_MIN_FRAME;
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
 * Neighbour discovery: answer solicitations for our IPv6 addresses (under
 * the relay-wide budget ARP answers take too), and learn the IPv6
 * gateway's MAC, or a pinned on-link client's, only from a solicited
 * advertisement, to one of our addresses, that answers a solicitation the
 * control thread sent, inside its window (duet_port_nd_answered,
 * duet_port_nd_wanted), as ARP does; the control thread writes a client's
 * into its leg. The parser checked
 * RFC 4861's rules. An advertisement that claims the gateway otherwise
 * moves nothing and is counted; duetd never learns from a solicitation.
 */
static inline void
duet_worker_ndp(struct duet_worker *w, unsigned int in, struct rte_mbuf *m,
		const struct duet_pkt_info *pi, uint64_t now)
{
	struct duet_port *port = &w->ports[in];
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	const uint8_t *target = f + pi->nd_target;

	if (pi->kind == DUET_PKT_NDP_NA) {
		if (!port->has_gateway6 || memcmp(target, port->gateway6, 16) != 0) {
			/* An on-link client the control thread asked for: the
			 * same rules as the gateway's answer. */
			if ((pi->nd_flags & 0x40) != 0 && pi->nd_lladdr != 0 &&
			    duet_port_addr6_index(port, pi->dst.ip) >= 0 &&
			    duet_worker_mac_usable(f + pi->nd_lladdr, port->mac) &&
			    duet_port_nd_wanted(port, target, f + pi->nd_lladdr, now)) {
				w->stats->nd_learned++;
				rte_pktmbuf_free(m);
				return;
			}
			duet_worker_drop(w, m, DUET_DROP_NDP_OTHER);
			return;
		}
		if ((pi->nd_flags & 0x40) == 0 || pi->nd_lladdr == 0 ||
		    duet_port_addr6_index(port, pi->dst.ip) < 0 ||
		    !duet_worker_mac_usable(f + pi->nd_lladdr, port->mac) ||
		    !duet_port_nd_answered(port, now)) {
			duet_worker_drop(w, m, DUET_DROP_NDP_UNSOLICITED);
			return;
		}
		duet_port_set_gateway6_mac(port, f + pi->nd_lladdr);
		w->stats->nd_learned++;
		rte_pktmbuf_free(m);
		return;
	}
	if (duet_port_addr6_index(port, target) < 0) {
		duet_worker_drop(w, m, DUET_DROP_NDP_OTHER);
		return;
	}
	/* The answer goes to the solicitation's source: on-link by rule
	 * (:: and link-local are never routed), else only where the relay may
	 * send at all, so that a host on the link cannot aim answers at a
	 * remote address through the router. */
	if (!duet_pkt_ip6_unspec_(pi->src.ip) && !duet_worker_ip6_link_local(pi->src.ip) &&
	    duet_policy_check_ip(w->policy, &pi->src) != DUET_POLICY_OK) {
		duet_worker_drop(w, m, DUET_DROP_SRC_DENIED);
		return;
	}
	if (rte_pktmbuf_tailroom(m) + m->data_len < DUET_PKT_NA_LEN) {
		duet_worker_drop(w, m, DUET_DROP_NO_HEADROOM);
		return;
	}
	if (!duet_worker_budget(w, DUET_BUDGET_ARP, now)) {
		duet_worker_drop(w, m, DUET_DROP_BUDGET_NDP);
		return;
	}
	m->data_len = (uint16_t)duet_pkt_ns_to_na(f, pi, port->mac);
	m->pkt_len = m->data_len;
	w->stats->nd_replies++;
	duet_worker_tx(w, in, m, (1u << 2) | DUET_TX_ARP);
}

/*
 * Send a packet that leg l accepted on to the peer leg's client, from the
 * leg's own line alone: its copy of the peer's client as read for this
 * packet (view v: the packet goes where the peer was when it was checked,
 * which is also what rekey sealed it for), the egress endpoint. Drop it if
 * the peer has no client yet or no next-hop MAC is known, else rewrite it
 * to leave from the peer's endpoint and queue it.
 * new_len >= 0 is the payload's new length after SRTP rekey (lengths and
 * the UDP checksum are then recomputed); -1 keeps the payload as it came.
 * Returns like duet_worker_relay().
 */
static inline uint16_t
duet_worker_to_peer(struct duet_worker *w, struct rte_mbuf *m, struct duet_pkt_info *pi,
		    uint32_t leg_idx, const struct duet_leg *l, const struct duet_leg_view *v,
		    int new_len)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	struct duet_leg_hot *hot;
	struct duet_addr from;
	const uint8_t *dmac;
	uint64_t bytes;
	uint8_t gw[6];
	unsigned int out;
	int shift;

	if (v->peer_state != DUET_LEG_LATCHED) {
		duet_pair_drops_at(w->pairs, w->widx, leg_idx)->drop_peer_unlatched++;
		duet_worker_drop(w, m, DUET_DROP_PEER_UNLATCHED);
		return 0;
	}
	out = l->out_port;
	/* The egress endpoint, of the peer's family: a packet may cross from
	 * IPv4 to IPv6 or back here. */
	from = w->pairs->egress[l->egress_addr];
	from.port = l->egress_port;
	if (v->has_peer_mac) {
		dmac = v->peer_mac;
	} else if (duet_port_gateway_mac_of(&w->ports[out], from.family, gw)) {
		dmac = gw;
	} else {
		duet_worker_drop(w, m, DUET_DROP_NO_NEXT_HOP);
		return 0;
	}
	/* IPv4 to IPv6 grows the header by 20 bytes, into the headroom:
	 * duet_worker_relay() checked there is room before anything else. */
	shift = duet_pkt_rewrite_shift(pi, from.family);
	if (new_len >= 0)
		duet_pkt_udp_resize(frame, pi, (uint16_t)(new_len + 8));
	(void)duet_pkt_rewrite_udp(frame, pi, &from, &v->peer, w->ports[out].mac, dmac, &w->egress,
				   w->ports[out].ip_cksum_offload);
	/* Headers in front: IP options or extension headers gone, or room
	 * for IPv6's; bytes past the datagram gone from the end: the frame is
	 * exactly Ethernet + the relay's IP header + UDP. */
	if (shift > 0)
		rte_pktmbuf_adj(m, (uint16_t)shift);
	else if (shift < 0)
		rte_pktmbuf_prepend(m, (uint16_t)-shift);
	m->data_len = (uint16_t)(pi->l4_off + pi->l4_len);
	m->pkt_len = m->data_len;
	/* A rewritten payload needs its UDP checksum over every byte: the
	 * NIC's if it offers it, else ours. */
	if (new_len >= 0) {
		if (w->ports[out].udp_cksum_offload) {
			duet_pkt_udp_cksum_phdr(rte_pktmbuf_mtod(m, uint8_t *), pi);
			m->ol_flags |= (from.family == DUET_AF_INET6 ? RTE_MBUF_F_TX_IPV6
								     : RTE_MBUF_F_TX_IPV4) |
				       RTE_MBUF_F_TX_UDP_CKSUM;
		} else {
			duet_pkt_udp_cksum_full(rte_pktmbuf_mtod(m, uint8_t *), pi);
		}
	}
	if (w->ports[out].ip_cksum_offload && from.family == DUET_AF_INET4)
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	if (m->ol_flags & (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6)) {
		m->l2_len = pi->l3_off;
		m->l3_len = (uint16_t)(pi->l4_off - pi->l3_off);
	}
	bytes = (uint64_t)(pi->l4_len - 8);
	hot = duet_pair_hot_at(w->pairs, w->widx, leg_idx);
	hot->pkts++;
	hot->bytes += bytes;
	w->stats->fwd_pkts++;
	w->stats->fwd_bytes += bytes;
	duet_worker_tx(w, out, m, (leg_idx << 2) | DUET_TX_RELAY);
	return 1;
}

/* The UDP payload of a parsed frame (RTP/SRTP first). */
static inline uint8_t *
duet_worker_payload(struct rte_mbuf *m, const struct duet_pkt_info *pi)
{
	return rte_pktmbuf_mtod_offset(m, uint8_t *, pi->l4_off + 8);
}

/* Bytes writable at the payload: what rekey may grow it to. */
static inline int
duet_worker_payload_room(const struct rte_mbuf *m, const struct duet_pkt_info *pi)
{
	return (int)(rte_pktmbuf_tailroom(m) + m->data_len) - (pi->l4_off + 8);
}

/* Count a packet SRTP refused, per reason and (for the sender) per leg. */
static inline void
duet_worker_srtp_drop(struct duet_worker *w, struct rte_mbuf *m, uint32_t leg_idx,
		      enum duet_srtp_verdict sv)
{
	static const uint8_t reason[] = {
		[DUET_SRTP_AUTH] = DUET_DROP_SRTP_AUTH,	    [DUET_SRTP_REPLAY] = DUET_DROP_SRTP_REPLAY,
		[DUET_SRTP_BAD] = DUET_DROP_SRTP_BAD,	    [DUET_SRTP_BUSY] = DUET_DROP_SRTP_BUSY,
		[DUET_SRTP_PROTECT] = DUET_DROP_SRTP_PROTECT, [DUET_SRTP_NO_KEY] = DUET_DROP_SRTP_NO_KEY,
		[DUET_SRTP_SSRC_LIMIT] = DUET_DROP_SRTP_SSRC_LIMIT,
		[DUET_SRTP_KEY_EXPIRED] = DUET_DROP_SRTP_KEY_EXPIRED,
	};

	if (sv == DUET_SRTP_REPLAY)
		duet_pair_drops_at(w->pairs, w->widx, leg_idx)->drop_replay++;
	else if (sv == DUET_SRTP_AUTH || sv == DUET_SRTP_BAD)
		duet_pair_drops_at(w->pairs, w->widx, leg_idx)->drop_auth++;
	duet_worker_drop(w, m, (enum duet_drop)reason[sv]);
}

/*
 * Keyed modes (verify, rekey): the packet must authenticate with the
 * sender's key before it may latch or re-latch the leg, so a spoofer
 * without the key can neither take a leg nor disturb it (the caller has
 * applied the latch rule and the policer already, so a refused source
 * costs no crypto). A new SSRC past the direction's cap is refused before
 * any crypto. Verify leaves the packet as it came; rekey decrypts and
 * re-encrypts it in place and sets *new_len to the payload's new length
 * (suites differ in tag length) — but only if seal: a packet that will not
 * be sent (the peer has no client yet) is only authenticated, so the
 * stream toward the peer never counts a packet the peer did not get (its
 * ROC would run ahead of the receiver's). Returns false when the packet
 * was dropped (and counted) here.
 */
static inline bool
duet_worker_srtp_in(struct duet_worker *w, struct rte_mbuf *m, const struct duet_pkt_info *pi,
		    uint32_t leg_idx, uint64_t now, bool seal, int *new_len)
{
	struct duet_pair_table *t = w->pairs;
	struct duet_leg *leg = duet_pair_leg_at(t, leg_idx);
	struct duet_srtp_ctx *sc = duet_pair_srtp_at(t, leg_idx);
	uint8_t *payload = duet_worker_payload(m, pi);
	int len = (int)pi->l4_len - 8;
	enum duet_srtp_verdict sv;
	int idx, victim;

	if (sc == NULL) {
		sv = DUET_SRTP_NO_KEY;
	} else if (!duet_srtp_ctx_take(sc)) {
		sv = DUET_SRTP_BUSY;
	} else {
		idx = duet_srtp_admit(sc, payload, len, w->srtp_max_ssrc, now, w->silence_tsc,
				      &victim);
		if (idx == -ENOSPC) {
			sv = DUET_SRTP_SSRC_LIMIT;
		} else {
			if (leg->mode == DUET_MODE_REKEY && seal) {
				sv = duet_srtp_rekey(sc, payload, &len,
						     duet_worker_payload_room(m, pi), w->scratch,
						     now);
				*new_len = len;
			} else {
				sv = duet_srtp_verify(sc, payload, len, w->scratch, now);
			}
			if (sv == DUET_SRTP_OK)
				duet_srtp_admitted(sc, idx, victim, payload, len, now,
						   &w->stats->srtp_streams_removed);
		}
		duet_srtp_ctx_give(sc);
	}
	if (sv == DUET_SRTP_OK)
		return true;
	duet_worker_srtp_drop(w, m, leg_idx, sv);
	return false;
}

/*
 * Measure an accepted packet of the leg's client for the RTP statistics
 * (loss, jitter). The RTP header is in the clear in every mode (and rekey
 * keeps it), so this works in passthrough too; kind is what
 * duet_rtp_plausible() made of the datagram, and RTCP is not counted.
 */
static inline void
duet_worker_rtp_stats(struct duet_worker *w, const struct rte_mbuf *m,
		      const struct duet_pkt_info *pi, uint32_t leg_idx, uint64_t now,
		      enum duet_rtp_kind kind, uint32_t ssrc)
{
	const uint8_t *r = rte_pktmbuf_mtod_offset(m, const uint8_t *, pi->l4_off + 8);
	uint32_t arrival;

	if (kind != DUET_RTP_KIND_RTP)
		return;
	arrival = (uint32_t)(((unsigned __int128)now * w->rtp_clock_mult) >> 32);
	duet_rtp_leg_update(duet_pair_rtp_at(w->pairs, leg_idx), ssrc, duet_rtp_be16(r + 2),
			    duet_rtp_be32(r + 4), arrival);
}

/*
 * The checks a packet must pass before it may latch (NEW) or re-latch
 * (MOVED) a leg, in order of cost: the relay-wide budget for such packets,
 * the source policy, and in passthrough the evidence (plausible RTP/RTCP)
 * and the re-latch policy. Keyed modes need authentication on top (done
 * later). Returns the drop reason, or DUET_DROP_MAX to go on.
 */
static inline enum duet_drop
duet_worker_may_latch(struct duet_worker *w, const struct duet_leg *leg,
		      const struct duet_pkt_info *pi, enum duet_latch_verdict v,
		      enum duet_rtp_kind kind, uint32_t ssrc, uint64_t now)
{
	if (!duet_worker_budget(w, DUET_BUDGET_UNLATCHED, now))
		return DUET_DROP_BUDGET_UNLATCHED;
	if (duet_policy_check(w->policy, &pi->src) != DUET_POLICY_OK)
		return DUET_DROP_SRC_DENIED;
	if (leg->mode != DUET_MODE_PASSTHROUGH)
		return DUET_DROP_MAX;
	if (kind == DUET_RTP_KIND_OTHER)
		return DUET_DROP_NOT_RTP;
	if (v == DUET_LATCH_MOVED && !duet_relatch_allows(leg, true, ssrc))
		return DUET_DROP_SRC_REJECTED;
	return DUET_DROP_MAX;
}

/*
 * What follows SRTP for a packet a leg accepted: the latch commit, the
 * RTP statistics, and the send to the peer (see duet_worker_relay()), on
 * the view lv the packet was checked by (the commit may update it).
 * Returns like duet_worker_relay().
 */
static inline uint16_t
duet_worker_relay_tail(struct duet_worker *w, struct rte_mbuf *m, struct duet_pkt_info *pi,
		       uint32_t leg_idx, uint64_t now, enum duet_latch_verdict v,
		       struct duet_leg_view *lv, enum duet_rtp_kind kind, uint32_t ssrc, bool seal,
		       int new_len)
{
	struct duet_pair_table *t = w->pairs;
	struct duet_leg *leg = duet_pair_leg_at(t, leg_idx);
	enum duet_latch_verdict d;

	/* In keyed modes only an authentic packet gets here to (re-)latch. A
	 * packet checked only as the client may not latch if the leg changed
	 * meanwhile. */
	d = duet_leg_commit(leg, duet_pair_last_rx_at(t, leg_idx), duet_pair_leg_at(t, leg_idx ^ 1),
			    &pi->src, pi->src_mac, now, w->silence_tsc, v != DUET_LATCH_ACCEPT, v,
			    lv);
	if (d == DUET_LATCH_REJECT) {
		duet_pair_drops_at(t, w->widx, leg_idx)->drop_src++;
		duet_worker_drop(w, m, DUET_DROP_SRC_REJECTED);
		return 0;
	}
	if (d == DUET_LATCH_BUSY) {
		duet_worker_drop(w, m, DUET_DROP_LEG_BUSY);
		return 0;
	}
	w->stats->latched += d == DUET_LATCH_NEW;
	w->stats->relatched += d == DUET_LATCH_MOVED;
	if (kind != DUET_RTP_KIND_OTHER)
		duet_leg_note_ssrc(leg, ssrc);
	duet_worker_rtp_stats(w, m, pi, leg_idx, now, kind, ssrc);
	if (!seal) {
		/* Authenticated (it may latch its leg), never sealed: even if
		 * the peer latched meanwhile, it must not get this packet. */
		duet_pair_drops_at(t, w->widx, leg_idx)->drop_peer_unlatched++;
		duet_worker_drop(w, m, DUET_DROP_PEER_UNLATCHED);
		return 0;
	}
	return duet_worker_to_peer(w, m, pi, leg_idx, leg, lv, new_len);
}

/* Hold direction sc for the batch: already held, or taken now. */
static inline bool
duet_worker_batch_hold(struct duet_worker_batch *bt, struct duet_srtp_ctx *sc)
{
	unsigned int i;

	for (i = bt->n_held; i-- > 0;)
		if (bt->held[i] == sc)
			return true;
	if (bt->n_held >= DUET_WORKER_BURST || !duet_srtp_ctx_take(sc))
		return false;
	bt->held[bt->n_held++] = sc;
	return true;
}

/*
 * Put a keyed packet that passed every check before SRTP into the burst's
 * batch, if it may go there (duet_srtp_batch_open(): a steady-state RTP
 * packet of its leg's client, on the burst engine). Returns false when it
 * must go alone: the caller flushes the batch first.
 */
static inline bool
duet_worker_batch_add(struct duet_worker *w, struct duet_worker_batch *bt, struct rte_mbuf *m,
		      struct duet_pkt_info *pi, uint32_t leg_idx, uint64_t now,
		      enum duet_latch_verdict v, bool seal, const struct duet_leg_view *lv,
		      enum duet_rtp_kind kind, uint32_t ssrc)
{
	struct duet_pair_table *t = w->pairs;
	struct duet_srtp_ctx *sc = duet_pair_srtp_at(t, leg_idx);
	uint8_t *payload = duet_worker_payload(m, pi);
	bool sealing = duet_pair_leg_at(t, leg_idx)->mode == DUET_MODE_REKEY && seal;
	struct duet_worker_pend *q;

	if (v != DUET_LATCH_ACCEPT || sc == NULL || duet_srtp_mgr == NULL ||
	    bt->n >= DUET_WORKER_BURST || !duet_worker_batch_hold(bt, sc) ||
	    !duet_srtp_batch_open(sc, payload, (int)pi->l4_len - 8, sealing, now, &bt->b[bt->n],
				  &bt->e[bt->n]))
		return false;
	q = &bt->q[bt->n++];
	q->m = m;
	q->pi = pi;
	q->lv = *lv;
	q->leg_idx = leg_idx;
	q->ssrc = ssrc;
	q->kind = (uint8_t)kind;
	q->seal = seal;
	q->verdict = DUET_SRTP_OK;
	q->len = (int)pi->l4_len - 8;
	return true;
}

/* A payload the engine may have decrypted, and that will not be sent. */
static inline void
duet_worker_wipe_payload(struct rte_mbuf *m, const struct duet_pkt_info *pi)
{
	duet_srtp_wipe(duet_worker_payload(m, pi), (int)pi->l4_len - 8);
}

/*
 * Run the batch's SRTP: one duet_srtpe_burst() opens every packet, a
 * second seals the authentic rekey ones; give the directions back; then
 * finish each packet in order, as duet_worker_relay() would have: a
 * counted drop, or duet_worker_relay_tail(). Returns the packets relayed.
 */
static inline uint16_t
duet_worker_batch_flush(struct duet_worker *w, struct duet_worker_batch *bt, uint64_t now)
{
	unsigned int i, k, n = bt->n, ns = 0;
	uint8_t sealed[DUET_WORKER_BURST];
	uint16_t relayed = 0;

	if (n != 0) {
		(void)duet_srtpe_burst(duet_srtp_mgr, bt->e, n);
		w->stats->srtp_batches++;
		w->stats->srtp_batched_pkts += n;
	}
	for (i = 0; i < n; i++) {
		struct duet_worker_pend *q = &bt->q[i];
		struct duet_srtp_bpkt *b = &bt->b[i];
		enum duet_srtp_verdict sv = duet_srtp_batch_opened(b, &bt->e[i], &q->len);

		if (sv == DUET_SRTP_OK && b->out != NULL) {
			/* Entries before i are read: the seal burst reuses them. */
			sv = duet_srtp_batch_seal(b, duet_worker_payload(q->m, q->pi), q->len,
						  duet_worker_payload_room(q->m, q->pi), &bt->e[ns]);
			if (sv == DUET_SRTP_OK)
				sealed[ns++] = (uint8_t)i;
		}
		if (sv != DUET_SRTP_OK && b->out != NULL)
			duet_worker_wipe_payload(q->m, q->pi);
		q->verdict = (uint8_t)sv;
	}
	if (ns != 0)
		(void)duet_srtpe_burst(duet_srtp_mgr, bt->e, ns);
	for (k = 0; k < ns; k++) {
		struct duet_worker_pend *q = &bt->q[sealed[k]];

		q->verdict = (uint8_t)duet_srtp_batch_sealed(&bt->b[sealed[k]], &bt->e[k], &q->len);
		if (q->verdict != DUET_SRTP_OK)
			duet_worker_wipe_payload(q->m, q->pi);
	}
	for (i = 0; i < n; i++)
		if (bt->q[i].verdict == DUET_SRTP_OK)
			duet_srtp_batch_done(&bt->b[i], now);
	for (i = 0; i < bt->n_held; i++)
		duet_srtp_ctx_give(bt->held[i]);
	bt->n_held = 0;
	for (i = 0; i < n; i++) {
		struct duet_worker_pend *q = &bt->q[i];

		if (q->verdict != DUET_SRTP_OK) {
			duet_worker_srtp_drop(w, q->m, q->leg_idx, (enum duet_srtp_verdict)q->verdict);
			continue;
		}
		relayed += duet_worker_relay_tail(w, q->m, q->pi, q->leg_idx, now, DUET_LATCH_ACCEPT,
						  &q->lv, (enum duet_rtp_kind)q->kind, q->ssrc,
						  q->seal, bt->b[i].out != NULL ? q->len : -1);
	}
	bt->n = 0;
	return relayed;
}

/*
 * Relay one UDP packet that arrived at leg leg_idx: buffered for tx
 * (returns 1) or dropped and counted here (returns 0). The order keeps a
 * stranger cheap: the latch rule first (a source that is not the client
 * and may not take the leg costs one leg read), then what a latch needs
 * (duet_worker_may_latch), then the leg's policer, and only then SRTP.
 */
static inline uint16_t
duet_worker_relay(struct duet_worker *w, struct duet_worker_batch *bt, struct rte_mbuf *m,
		  struct duet_pkt_info *pi, uint32_t leg_idx, uint64_t now)
{
	struct duet_pair_table *t = w->pairs;
	struct duet_leg *leg = duet_pair_leg_at(t, leg_idx);
	struct duet_pair_fast *fast = duet_pair_fast_at(t, leg_idx);
	const uint8_t *payload = rte_pktmbuf_mtod_offset(m, const uint8_t *, pi->l4_off + 8);
	uint64_t last = __atomic_load_n(&fast->last_rx_tsc[leg_idx & 1], __ATOMIC_RELAXED);
	struct duet_leg_view lv;
	enum duet_latch_verdict v;
	enum duet_rtp_kind kind;
	enum duet_drop why;
	uint32_t ssrc = 0;
	uint16_t relayed = 0;
	int new_len = -1;
	bool seal = true;

	if (pi->ttl <= 1) {
		duet_worker_drop(w, m, DUET_DROP_IP_TTL);
		return 0;
	}
	/* Bridged toward IPv6: the header grows into the headroom. Known
	 * before any latch or crypto, so a packet that cannot leave moves no
	 * SRTP stream. (The family bits never change while the leg lives.) */
	if ((__atomic_load_n(&leg->flags, __ATOMIC_RELAXED) & DUET_LEG_F_PEER_V6) &&
	    (int)rte_pktmbuf_headroom(m) + duet_pkt_rewrite_shift(pi, DUET_AF_INET6) < 0) {
		duet_worker_drop(w, m, DUET_DROP_NO_HEADROOM);
		return 0;
	}
	if (!duet_leg_read(leg, &lv)) {
		duet_worker_drop(w, m, DUET_DROP_LEG_BUSY);
		return 0;
	}
	v = duet_latch_decide(&lv, &pi->src, last, now, w->silence_tsc);
	/* A packet that may latch or re-latch decides on the leg as the
	 * batch so far leaves it: its packets commit before this one. (A
	 * refused one stays refused: committing only makes the leg fresher,
	 * so a stranger's packet does not split the batch.) */
	if ((v == DUET_LATCH_NEW || v == DUET_LATCH_MOVED) && bt->n != 0) {
		relayed = duet_worker_batch_flush(w, bt, now);
		last = __atomic_load_n(&fast->last_rx_tsc[leg_idx & 1], __ATOMIC_RELAXED);
		if (!duet_leg_read(leg, &lv)) {
			duet_worker_drop(w, m, DUET_DROP_LEG_BUSY);
			return relayed;
		}
		v = duet_latch_decide(&lv, &pi->src, last, now, w->silence_tsc);
	}
	if (v == DUET_LATCH_REJECT) {
		duet_pair_drops_at(t, w->widx, leg_idx)->drop_src++;
		duet_worker_drop(w, m, DUET_DROP_SRC_REJECTED);
		return relayed;
	}
	kind = duet_rtp_plausible(payload, (size_t)pi->l4_len - 8, &ssrc);
	if (v != DUET_LATCH_ACCEPT) {
		why = duet_worker_may_latch(w, leg, pi, v, kind, ssrc, now);
		if (why != DUET_DROP_MAX) {
			if (why == DUET_DROP_SRC_REJECTED)
				duet_pair_drops_at(t, w->widx, leg_idx)->drop_src++;
			duet_worker_drop(w, m, why);
			return relayed;
		}
	}
	if (!duet_police_take(&fast->police_tat[leg_idx & 1],
			      duet_police_cost(&fast->rate, pi->ip_total), w->police_tau, now)) {
		duet_pair_drops_at(t, w->widx, leg_idx)->drop_policed++;
		duet_worker_drop(w, m, DUET_DROP_POLICED);
		return relayed;
	}
	/* Rekey seals toward the peer only a packet that will be sent there:
	 * decided on the view the packet is sent by. */
	if (leg->mode == DUET_MODE_REKEY)
		seal = lv.peer_state == DUET_LEG_LATCHED;
	if (leg->mode != DUET_MODE_PASSTHROUGH) {
		if (duet_worker_batch_add(w, bt, m, pi, leg_idx, now, v, seal, &lv, kind, ssrc))
			return relayed;
		/* Alone, after what the batch holds so far. */
		relayed += duet_worker_batch_flush(w, bt, now);
		if (!duet_worker_srtp_in(w, m, pi, leg_idx, now, seal, &new_len))
			return relayed;
	}
	return relayed +
	       duet_worker_relay_tail(w, m, pi, leg_idx, now, v, &lv, kind, ssrc, seal, new_len);
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
	const uint32_t *ep[DUET_WORKER_BURST];
	struct rte_mbuf *udp[DUET_WORKER_BURST];
	struct duet_pkt_info *uinfo[DUET_WORKER_BURST];
	uint32_t leg_idx[DUET_WORKER_BURST];
	struct duet_port *port = &w->ports[in];
	struct duet_worker_batch bt;
	uint16_t i, nu = 0, relayed = 0;
	uint64_t hits = 0;

	RTE_ASSERT(n <= DUET_WORKER_BURST);
	bt.n = 0;
	bt.n_held = 0;
	w->stats->rx_pkts += n;
	for (i = 0; i < n && i < DUET_PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct duet_pkt_info *pi = &info[i];
		uint64_t ipck = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
		uint32_t dst;
		int addr_idx;

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
		if (duet_pkt_parse_fp(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len,
				      ipck == RTE_MBUF_F_RX_IP_CKSUM_GOOD, pi) != 0) {
			duet_worker_drop(w, m, (enum duet_drop)pi->drop);
			continue;
		}
		if (pi->kind == DUET_PKT_ARP) {
			duet_worker_arp(w, in, m, pi, now);
			continue;
		}
		if (pi->kind == DUET_PKT_NDP_NS || pi->kind == DUET_PKT_NDP_NA) {
			duet_worker_ndp(w, in, m, pi, now);
			continue;
		}
		if (pi->dst.family == DUET_AF_INET6) {
			addr_idx = duet_port_addr6_index(port, pi->dst.ip);
		} else {
			memcpy(&dst, pi->dst.ip, 4);
			addr_idx = duet_port_addr_index(port, dst);
		}
		if (addr_idx < 0) {
			duet_worker_drop(w, m, DUET_DROP_NOT_FOR_US);
			continue;
		}
		if (pi->kind == DUET_PKT_ICMP_ECHO) {
			uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);

			if (duet_policy_check_ip(w->policy, &pi->src) != DUET_POLICY_OK) {
				duet_worker_drop(w, m, DUET_DROP_SRC_DENIED);
				continue;
			}
			if (!duet_worker_budget(w, DUET_BUDGET_ICMP, now)) {
				duet_worker_drop(w, m, DUET_DROP_BUDGET_ICMP);
				continue;
			}
			if (pi->dst.family == DUET_AF_INET6)
				duet_pkt_icmp6_to_reply(f, pi);
			else
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
		/* The endpoint index entry: direct, one word per endpoint. */
		ep[nu] = duet_pair_ep_at(w->pairs, (uint32_t)addr_idx, pi->dst.port);
		if (ep[nu] != NULL)
			rte_prefetch0(ep[nu]);
		nu++;
	}
	/* With many pairs every entry and every leg is a cache miss: ask for
	 * all of this burst's lines at once so the misses overlap instead of
	 * queueing. */
	for (i = 0; i < nu; i++) {
		if (!duet_pair_ep_load(ep[i], &leg_idx[i]))
			continue;
		hits |= 1ULL << i;
		rte_prefetch0(duet_pair_leg_at(w->pairs, leg_idx[i]));
		rte_prefetch0(duet_pair_stats_at(w->pairs, leg_idx[i]));
		rte_prefetch0(duet_pair_fast_at(w->pairs, leg_idx[i]));
	}
	/* Keyed pairs: their direction's first line and SSRC table too. */
	for (i = 0; i < nu; i++) {
		const struct duet_srtp_ctx *sc;

		if (!(hits & (1ULL << i)))
			continue;
		sc = duet_pair_srtp_at(w->pairs, leg_idx[i]);
		if (sc != NULL) {
			rte_prefetch0(sc);
			rte_prefetch0(sc->ssrcs);
		}
	}
	for (i = 0; i < nu; i++) {
		if (!(hits & (1ULL << i))) {
			duet_worker_drop(w, udp[i],
					 duet_worker_budget(w, DUET_BUDGET_NO_PAIR, now)
						 ? DUET_DROP_NO_ENDPOINT
						 : DUET_DROP_BUDGET_NO_PAIR);
			continue;
		}
		relayed += duet_worker_relay(w, &bt, udp[i], uinfo[i], leg_idx[i], now);
	}
	return relayed + duet_worker_batch_flush(w, &bt, now);
}

#endif /* DUET_WORKER_FP_H */
