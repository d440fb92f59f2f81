/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_pkt fast path: in-place rewrites of frames that duet_pkt_parse()
 * accepted, and the checksum arithmetic they share with the parser. Worker
 * lcores only; no allocation, no syscalls, no logs.
 *
 * Byte order: 16-bit words are loaded and stored with memcpy in host order.
 * The Internet checksum is the same whichever order the words are summed in
 * (RFC 1071 section 2(B)), so no byte swapping is needed, and memcpy keeps
 * loads from odd addresses legal (frames need not be 2-byte aligned).
 */
#ifndef DUET_PKT_FP_H
#define DUET_PKT_FP_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "duet_pkt.h"

/* Offsets inside the headers the rewrites touch, from DPDK's own header
 * structs (header-only use: no DPDK library is linked for this). */
#define DUET_PKT_ETH_HLEN RTE_ETHER_HDR_LEN /**< Ethernet II header, no tag */
#define DUET_PKT_ARP_LEN sizeof(struct rte_arp_hdr) /**< ARP body for Ethernet/IPv4 */
#define DUET_PKT_IP4_TTL offsetof(struct rte_ipv4_hdr, time_to_live) /**< IPv4: TTL */
#define DUET_PKT_IP4_CKSUM offsetof(struct rte_ipv4_hdr, hdr_checksum) /**< IPv4: checksum */
#define DUET_PKT_IP4_SRC offsetof(struct rte_ipv4_hdr, src_addr) /**< IPv4: source */
#define DUET_PKT_IP4_DST offsetof(struct rte_ipv4_hdr, dst_addr) /**< IPv4: destination */
#define DUET_PKT_IP4_TOTLEN offsetof(struct rte_ipv4_hdr, total_length) /**< IPv4: length */
#define DUET_PKT_UDP_LEN offsetof(struct rte_udp_hdr, dgram_len) /**< UDP: length */
#define DUET_PKT_UDP_CKSUM offsetof(struct rte_udp_hdr, dgram_cksum) /**< UDP: checksum */
#define DUET_PKT_ICMP_CKSUM offsetof(struct rte_icmp_hdr, icmp_cksum) /**< ICMP: checksum */
#define DUET_PKT_ARP_OP offsetof(struct rte_arp_hdr, arp_opcode) /**< ARP: operation */
#define DUET_PKT_ARP_SHA offsetof(struct rte_arp_hdr, arp_data.arp_sha) /**< ARP: sender MAC */
#define DUET_PKT_ARP_SPA offsetof(struct rte_arp_hdr, arp_data.arp_sip) /**< ARP: sender IP */
#define DUET_PKT_ARP_THA offsetof(struct rte_arp_hdr, arp_data.arp_tha) /**< ARP: target MAC */
#define DUET_PKT_ARP_TPA offsetof(struct rte_arp_hdr, arp_data.arp_tip) /**< ARP: target IP */
#define DUET_PKT_REPLY_TTL 64	 /**< TTL of frames duet originates */
#define DUET_PKT_ETH_MIN_FRAME (RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN) /**< 60: shortest frame, no FCS */
#define DUET_PKT_IP6_PLEN 4	     /**< IPv6: payload length */
#define DUET_PKT_IP6_HOPS 7	     /**< IPv6: hop limit */
#define DUET_PKT_IP6_SRC 8	     /**< IPv6: source */
#define DUET_PKT_IP6_DST 24	     /**< IPv6: destination */
#define DUET_PKT_ICMP6_ECHO_REQUEST 128 /**< ICMPv6 echo request (RFC 4443) */
#define DUET_PKT_ICMP6_ECHO_REPLY 129	/**< ICMPv6 echo reply */
#define DUET_PKT_ICMP6_NS 135		/**< neighbour solicitation (RFC 4861) */
#define DUET_PKT_ICMP6_NA 136		/**< neighbour advertisement */
#define DUET_PKT_NA_LEN (14 + 40 + 24 + 8) /**< the advertisement duet answers with */

/** Load a 16-bit word in host order from any address. */
static inline uint16_t
duet_pkt_load16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/** Store a 16-bit word in host order at any address. */
static inline void
duet_pkt_store16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

/**
 * Add len bytes at p to a ones' complement partial sum, unfolded. An odd
 * last byte counts as if followed by a zero byte. Words are added in host
 * order (RFC 1071: the sum does not depend on byte order, only the fold
 * does), 32 bits at a time: 2^16 is 1 modulo 0xffff, so the upper half of
 * each word counts as its own 16-bit word once folded. The 64-bit
 * accumulator cannot overflow for any frame size.
 */
static inline uint64_t
duet_pkt_sum(const uint8_t *p, size_t len, uint64_t sum)
{
	uint8_t last[2] = {0, 0};
	uint32_t w;
	size_t i;

	for (i = 0; i + 4 <= len; i += 4) {
		memcpy(&w, p + i, sizeof(w));
		sum += w;
	}
	if (len - i >= 2) {
		sum += duet_pkt_load16(p + i);
		i += 2;
	}
	if (i < len) {
		last[0] = p[i];
		sum += duet_pkt_load16(last);
	}
	return sum;
}

/** Fold a partial sum to 16 bits (ones' complement), not inverted: four
 * fixed steps, no loop (after the first the sum is below 2^33, after the
 * third at most 0xffff + 2). */
static inline uint16_t
duet_pkt_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/** Compute and store the IPv4 header checksum over hlen bytes (options too). */
static inline void
duet_pkt_ip4_cksum_set(uint8_t *ip, size_t hlen)
{
	uint16_t c;

	duet_pkt_store16(ip + DUET_PKT_IP4_CKSUM, 0);
	c = (uint16_t)~duet_pkt_fold(duet_pkt_sum(ip, hlen, 0));
	duet_pkt_store16(ip + DUET_PKT_IP4_CKSUM, c);
}

/**
 * RFC 1624 eqn. 3: add to a partial sum the change of n bytes (n even)
 * from before to after, as ~m + m' for each 16-bit word. Start the sum with
 * ~HC and invert the fold to get HC'.
 */
static inline uint64_t
duet_pkt_sum_change(uint64_t sum, const uint8_t *before, const uint8_t *after, size_t n)
{
	/* The sum of each word's complement is the complement of the words'
	 * sum, in ones' complement arithmetic. */
	return sum + (uint16_t)~duet_pkt_fold(duet_pkt_sum(before, n, 0)) + duet_pkt_sum(after, n, 0);
}

/** The relay's own IPv4 header fields for relayed packets ([media] ttl, dscp). */
struct duet_pkt_egress {
	uint8_t ttl;	   /**< TTL of every relayed packet */
	uint8_t tos;	   /**< DSCP << 2, ECN 0 */
	uint8_t keep_dscp; /**< non-zero: the caller's DSCP instead of tos (ECN still 0) */
};

/** IPv4 flags and fragment offset of relayed packets: DF, offset 0. */
#define DUET_PKT_IP4_DF RTE_IPV4_HDR_DF_FLAG

/**
 * Set a parsed UDP frame's UDP length (header + payload) after the payload
 * changed size (SRTP rekey: suites differ in tag length). Call before
 * duet_pkt_rewrite_udp(), which writes the IP length from it; pi is
 * updated. Worker lcores.
 */
static inline void
duet_pkt_udp_resize(uint8_t *frame, struct duet_pkt_info *pi, uint16_t udp_len)
{
	duet_pkt_store16(frame + pi->l4_off + DUET_PKT_UDP_LEN, htons(udp_len));
	pi->l4_len = udp_len;
}

/** The UDP pseudo-header's partial sum (addresses, protocol, length) of a
 * UDP frame as duet_pkt_rewrite_udp() left it (the IP version from the
 * header), unfolded. */
static inline uint64_t
duet_pkt_udp_phdr_sum(const uint8_t *frame, const struct duet_pkt_info *pi)
{
	const uint8_t *ip = frame + pi->l3_off;
	uint8_t pseudo[4] = {0, IPPROTO_UDP, 0, 0};

	duet_pkt_store16(pseudo + 2, htons(pi->l4_len));
	if ((ip[0] >> 4) == 6)
		return duet_pkt_sum(pseudo, 4, duet_pkt_sum(ip + DUET_PKT_IP6_SRC, 32, 0));
	return duet_pkt_sum(pseudo, 4, duet_pkt_sum(ip + DUET_PKT_IP4_SRC, 8, 0));
}
/**
 * Compute the UDP checksum of a UDP frame as duet_pkt_rewrite_udp() leaves
 * it (pseudo-header, header, payload) from scratch, for a payload the relay
 * rewrote (SRTP rekey). Worker lcores.
 */
static inline void
duet_pkt_udp_cksum_full(uint8_t *frame, const struct duet_pkt_info *pi)
{
	uint8_t *udp = frame + pi->l4_off;
	uint16_t c;

	duet_pkt_store16(udp + DUET_PKT_UDP_CKSUM, 0);
	c = (uint16_t)~duet_pkt_fold(duet_pkt_sum(udp, pi->l4_len, duet_pkt_udp_phdr_sum(frame, pi)));
	duet_pkt_store16(udp + DUET_PKT_UDP_CKSUM, c == 0 ? 0xffff : c);
}

/**
 * Prepare a UDP frame whose payload the relay rewrote for the NIC to
 * checksum (RTE_MBUF_F_TX_UDP_CKSUM): the UDP checksum field gets the
 * pseudo-header's sum, folded and not inverted, as DPDK's drivers expect.
 * Worker lcores.
 */
static inline void
duet_pkt_udp_cksum_phdr(uint8_t *frame, const struct duet_pkt_info *pi)
{
	duet_pkt_store16(frame + pi->l4_off + DUET_PKT_UDP_CKSUM,
			 duet_pkt_fold(duet_pkt_udp_phdr_sum(frame, pi)));
}

/** Bytes of the IP header the relay writes for a family: 20 or 40. */
static inline uint16_t
duet_pkt_ip_hlen(uint8_t family)
{
	return family == DUET_AF_INET6 ? 40 : 20;
}

/**
 * Where the rewrite of a parsed UDP frame toward family `out` starts,
 * relative to the frame: duet_pkt_rewrite_udp()'s return value, known
 * before it runs. Negative when the headers grow (IPv4 to IPv6: 20 bytes
 * more): the caller must have that much headroom in front of the frame.
 */
static inline int
duet_pkt_rewrite_shift(const struct duet_pkt_info *pi, uint8_t out)
{
	return (int)pi->l4_off - duet_pkt_ip_hlen(out) - DUET_PKT_ETH_HLEN;
}

/* duet_pkt_rewrite_udp() for one pair of families, given as constants so
 * that each of the four bodies has no family test left in it. */
static inline __attribute__((always_inline)) int
duet_pkt_rewrite_udp_(uint8_t *frame, struct duet_pkt_info *pi, const struct duet_addr *from,
		      const struct duet_addr *to, const uint8_t smac[6], const uint8_t dmac[6],
		      const struct duet_pkt_egress *eg, bool ip_cksum_offload, const bool in6,
		      const bool out6)
{
	uint16_t hlen = out6 ? 40 : 20;
	int shift = (int)pi->l4_off - hlen - DUET_PKT_ETH_HLEN;
	uint8_t *eth = frame + shift;
	uint8_t *ip = eth + DUET_PKT_ETH_HLEN;
	uint8_t *udp = frame + pi->l4_off;
	uint8_t tos = eg->tos;
	uint64_t was, now;
	uint16_t hc;

	/* What the UDP checksum covers that changes: the pseudo-header's
	 * addresses and the ports, before (from the parse result, so the new
	 * header may overwrite the old one freely) and after. Each address is
	 * summed at its family's constant size, so the sums unroll. */
	was = duet_pkt_sum(pi->src.ip, in6 ? 16 : 4, 0) + duet_pkt_sum(pi->dst.ip, in6 ? 16 : 4, 0) +
	      pi->src.port + pi->dst.port;
	now = duet_pkt_sum(from->ip, out6 ? 16 : 4, 0) + duet_pkt_sum(to->ip, out6 ? 16 : 4, 0) +
	      from->port + to->port;
	if (eg->keep_dscp)
		tos = (uint8_t)(pi->tclass & 0xfc);

	if (!out6) {
		uint16_t total = (uint16_t)(20 + pi->l4_len);

		ip[0] = 0x45;
		ip[1] = tos;
		duet_pkt_store16(ip + DUET_PKT_IP4_TOTLEN, htons(total));
		duet_pkt_store16(ip + 4, 0);			     /* ID */
		duet_pkt_store16(ip + 6, htons(DUET_PKT_IP4_DF)); /* flags, offset */
		ip[DUET_PKT_IP4_TTL] = eg->ttl;
		ip[offsetof(struct rte_ipv4_hdr, next_proto_id)] = IPPROTO_UDP;
		memcpy(ip + DUET_PKT_IP4_SRC, from->ip, 4);
		memcpy(ip + DUET_PKT_IP4_DST, to->ip, 4);
		if (ip_cksum_offload)
			duet_pkt_store16(ip + DUET_PKT_IP4_CKSUM, 0);
		else
			duet_pkt_ip4_cksum_set(ip, 20);
	} else {
		ip[0] = (uint8_t)(0x60 | (tos >> 4));
		ip[1] = (uint8_t)(tos << 4); /* flow label 0 */
		ip[2] = 0;
		ip[3] = 0;
		duet_pkt_store16(ip + DUET_PKT_IP6_PLEN, htons(pi->l4_len));
		ip[6] = IPPROTO_UDP;
		ip[DUET_PKT_IP6_HOPS] = eg->ttl;
		memcpy(ip + DUET_PKT_IP6_SRC, from->ip, 16);
		memcpy(ip + DUET_PKT_IP6_DST, to->ip, 16);
	}
	memcpy(eth, dmac, 6);
	memcpy(eth + 6, smac, 6);
	duet_pkt_store16(eth + offsetof(struct rte_ether_hdr, ether_type),
			 out6 ? RTE_BE16(RTE_ETHER_TYPE_IPV6) : RTE_BE16(RTE_ETHER_TYPE_IPV4));

	duet_pkt_store16(udp, from->port);
	duet_pkt_store16(udp + 2, to->port);
	pi->l3_off = DUET_PKT_ETH_HLEN;
	pi->l4_off = (uint16_t)(DUET_PKT_ETH_HLEN + hlen);
	pi->ip_total = (uint16_t)(hlen + pi->l4_len);
	hc = duet_pkt_load16(udp + DUET_PKT_UDP_CKSUM);
	/* Zero means the IPv4 sender sent no checksum (RFC 768): kept toward
	 * IPv4, computed toward IPv6 (RFC 8200 8.1). */
	if (hc == 0) {
		if (out6)
			duet_pkt_udp_cksum_full(eth, pi);
		return shift;
	}
	/* RFC 1624 eqn. 3 over all that changed at once. */
	hc = (uint16_t)~duet_pkt_fold((uint16_t)~hc + (uint16_t)~duet_pkt_fold(was) + now);
	/* A computed zero is sent as all ones, since zero means "none". */
	duet_pkt_store16(udp + DUET_PKT_UDP_CKSUM, hc == 0 ? 0xffff : hc);
	return shift;
}

/**
 * Rewrite a parsed UDP frame (IPv4 or IPv6) to leave from relay endpoint
 * `from` toward client `to` (both of one family, which may differ from
 * the frame's: the relay bridges IPv4 and IPv6 legs), with a header of the
 * relay's own, so the far side learns nothing about the sender's host or
 * path, and a fresh Ethernet header.
 *
 * IPv4 out: a 20-byte header (options dropped), the relay's TTL and DSCP,
 * ECN 0, ID 0 and DF set (an atomic datagram, RFC 6864: its ID means
 * nothing, and a constant ID tells nothing about the relay's traffic); the
 * header checksum is computed, or left zero when ip_cksum_offload (the NIC
 * fills it). IPv6 out: a 40-byte header (extension headers dropped), the
 * relay's hop limit and traffic class, flow label 0. Either way the length
 * comes from the UDP length (bytes past the IP payload are gone).
 *
 * The UDP checksum is updated incrementally (RFC 1624) for what changed in
 * the pseudo-header and the ports, whatever the families, so a corrupted
 * payload stays detectable end to end. A zero UDP checksum (an IPv4 sender
 * sent none) stays zero toward IPv4 and is computed in full toward IPv6,
 * where it is mandatory.
 *
 * The new frame starts duet_pkt_rewrite_shift(pi, from->family) bytes into
 * the old one (the returned value): the caller drops that many bytes from
 * the front, or prepends -shift bytes when it is negative (it checked the
 * headroom first), and trims the frame to DUET_PKT_ETH_HLEN + the new IP
 * header + pi->l4_len bytes. pi is updated to the new frame (l3_off,
 * l4_off, ip_total); its src and dst still describe the packet as it came.
 *
 * @param frame the frame duet_pkt_parse() accepted as DUET_PKT_UDP
 * @param pi its parse result
 * @param from relay endpoint the datagram now leaves from
 * @param to client address it goes to (from's family)
 * @param smac our port's MAC
 * @param dmac next hop's MAC
 * @param eg the relay's TTL and DSCP
 * @param ip_cksum_offload true when the NIC computes the IPv4 header checksum
 * @return shift, the bytes to drop from the front of the frame (negative:
 *         to add)
 * Worker lcores.
 */
static inline int
duet_pkt_rewrite_udp(uint8_t *frame, struct duet_pkt_info *pi, const struct duet_addr *from,
		     const struct duet_addr *to, const uint8_t smac[6], const uint8_t dmac[6],
		     const struct duet_pkt_egress *eg, bool ip_cksum_offload)
{
	bool in6 = pi->src.family == DUET_AF_INET6;

	if (from->family != DUET_AF_INET6)
		return in6 ? duet_pkt_rewrite_udp_(frame, pi, from, to, smac, dmac, eg,
						   ip_cksum_offload, true, false)
			   : duet_pkt_rewrite_udp_(frame, pi, from, to, smac, dmac, eg,
						   ip_cksum_offload, false, false);
	return in6 ? duet_pkt_rewrite_udp_(frame, pi, from, to, smac, dmac, eg, ip_cksum_offload,
					   true, true)
		   : duet_pkt_rewrite_udp_(frame, pi, from, to, smac, dmac, eg, ip_cksum_offload,
					   false, true);
}

/**
 * Turn an ARP request for one of our addresses into the reply, in place,
 * answering with mac: the requester becomes the target and the Ethernet
 * destination, our address (the old target) the sender. The caller has
 * checked that the target is one of its service addresses.
 *
 * @param frame the frame duet_pkt_parse() accepted as DUET_PKT_ARP
 * @param pi its parse result
 * @param mac our port's MAC
 * @return frame length to send (Ethernet + ARP, 42 bytes; bytes after it are
 *         left as they were, the NIC pads short frames)
 * Worker lcores.
 */
static inline size_t
duet_pkt_arp_to_reply(uint8_t *frame, const struct duet_pkt_info *pi, const uint8_t mac[6])
{
	uint8_t *arp = frame + pi->l3_off;
	uint8_t our_ip[4];

	memcpy(our_ip, arp + DUET_PKT_ARP_TPA, 4);
	memcpy(arp + DUET_PKT_ARP_THA, arp + DUET_PKT_ARP_SHA, 10); /* requester MAC + IP */
	memcpy(arp + DUET_PKT_ARP_SHA, mac, 6);
	memcpy(arp + DUET_PKT_ARP_SPA, our_ip, 4);
	arp[DUET_PKT_ARP_OP] = 0;
	arp[DUET_PKT_ARP_OP + 1] = 2;

	memcpy(frame, arp + DUET_PKT_ARP_THA, 6);
	memcpy(frame + 6, mac, 6);
	return (size_t)pi->l3_off + DUET_PKT_ARP_LEN;
}

/**
 * Turn an ICMPv4 echo request into the echo reply, in place: MACs and IPs
 * swapped, type 0, ICMP checksum updated incrementally (a corrupted request
 * gives a reply that is still detectably corrupt; a result of zero is sent
 * as 0xffff), TTL reset to 64, IPv4 header checksum recomputed (options
 * kept).
 *
 * @param frame the frame duet_pkt_parse() accepted as DUET_PKT_ICMP_ECHO
 * @param pi its parse result
 * Worker lcores.
 */
static inline void
duet_pkt_icmp_to_reply(uint8_t *frame, const struct duet_pkt_info *pi)
{
	uint8_t *ip = frame + pi->l3_off;
	uint8_t *icmp = frame + pi->l4_off;
	uint8_t tmp[6];
	uint8_t old_type[2];
	uint16_t hc;

	memcpy(tmp, frame, 6);
	memcpy(frame, frame + 6, 6);
	memcpy(frame + 6, tmp, 6);

	memcpy(tmp, ip + DUET_PKT_IP4_SRC, 4);
	memcpy(ip + DUET_PKT_IP4_SRC, ip + DUET_PKT_IP4_DST, 4);
	memcpy(ip + DUET_PKT_IP4_DST, tmp, 4);
	ip[DUET_PKT_IP4_TTL] = DUET_PKT_REPLY_TTL;
	duet_pkt_ip4_cksum_set(ip, (size_t)(pi->l4_off - pi->l3_off));

	/* Type and code share one checksum word; only the type changes. */
	memcpy(old_type, icmp, 2);
	icmp[0] = 0;
	hc = duet_pkt_load16(icmp + DUET_PKT_ICMP_CKSUM);
	hc = (uint16_t)~duet_pkt_fold(duet_pkt_sum_change((uint16_t)~hc, old_type, icmp, 2));
	/* Zero and all ones are the same sum, but zero only checks out when
	 * some other word is non-zero: a reply of all zeros (id 0, seq 0, no
	 * data) needs 0xffff. All ones checks out either way. */
	duet_pkt_store16(icmp + DUET_PKT_ICMP_CKSUM, hc == 0 ? 0xffff : hc);
}

/** Store the ICMPv6 checksum of the n-byte message at icmp inside IPv6
 * header ip (RFC 4443 2.3: over the pseudo-header too). */
static inline void
duet_pkt_icmp6_cksum_set(const uint8_t *ip, uint8_t *icmp, size_t n)
{
	uint8_t pseudo[4] = {0, 0, 0, IPPROTO_ICMPV6};
	uint16_t c;

	duet_pkt_store16(pseudo, htons((uint16_t)n));
	duet_pkt_store16(icmp + 2, 0);
	c = (uint16_t)~duet_pkt_fold(
		duet_pkt_sum(icmp, n, duet_pkt_sum(pseudo, 4, duet_pkt_sum(ip + DUET_PKT_IP6_SRC, 32, 0))));
	duet_pkt_store16(icmp + 2, c);
}

/**
 * Turn an ICMPv6 echo request into the echo reply, in place: MACs and IPv6
 * addresses swapped, type 129, hop limit 64, checksum updated for the
 * type only (swapping the addresses leaves the sum as it was), so a
 * corrupted request gives a reply that is still detectably corrupt. A
 * hop-by-hop header the request had is kept.
 * @param frame the frame duet_pkt_parse() accepted as DUET_PKT_ICMP_ECHO, IPv6
 * Worker lcores.
 */
static inline void
duet_pkt_icmp6_to_reply(uint8_t *frame, const struct duet_pkt_info *pi)
{
	uint8_t *ip = frame + pi->l3_off;
	uint8_t *icmp = frame + pi->l4_off;
	uint8_t tmp[16], old_type[2];
	uint16_t hc;

	memcpy(tmp, frame, 6);
	memcpy(frame, frame + 6, 6);
	memcpy(frame + 6, tmp, 6);
	memcpy(tmp, ip + DUET_PKT_IP6_SRC, 16);
	memcpy(ip + DUET_PKT_IP6_SRC, ip + DUET_PKT_IP6_DST, 16);
	memcpy(ip + DUET_PKT_IP6_DST, tmp, 16);
	ip[DUET_PKT_IP6_HOPS] = DUET_PKT_REPLY_TTL;
	memcpy(old_type, icmp, 2);
	icmp[0] = DUET_PKT_ICMP6_ECHO_REPLY;
	hc = duet_pkt_load16(icmp + 2);
	hc = (uint16_t)~duet_pkt_fold(duet_pkt_sum_change((uint16_t)~hc, old_type, icmp, 2));
	/* IPv6 has no "no checksum": zero is sent as all ones. */
	duet_pkt_store16(icmp + 2, hc == 0 ? 0xffff : hc);
}

/**
 * Turn a neighbour solicitation for one of our addresses (its target; the
 * caller checked) into our advertisement, in place (RFC 4861 7.2.4): from
 * the target to the soliciting node, solicited and override flags set,
 * with our MAC as the target link-layer address; to all nodes (ff02::1,
 * solicited flag clear) when the solicitation came from :: (duplicate
 * address detection). The Ethernet destination is the MAC the
 * solicitation gave in its source link-layer option, else its Ethernet
 * source. The frame must have room for DUET_PKT_NA_LEN bytes.
 * @param frame the frame duet_pkt_parse() accepted as DUET_PKT_NDP_NS
 * @param mac our port's MAC
 * @return DUET_PKT_NA_LEN, the new frame length. Worker lcores.
 */
static inline size_t
duet_pkt_ns_to_na(uint8_t *frame, const struct duet_pkt_info *pi, const uint8_t mac[6])
{
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 0x01};
	static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 0x01};
	uint8_t target[16], to_ip[16], to_mac[6];
	uint8_t *ip = frame + DUET_PKT_ETH_HLEN;
	uint8_t *icmp = ip + 40;
	bool dad = true;
	unsigned int i;

	memcpy(target, frame + pi->nd_target, 16);
	for (i = 0; i < 16; i++)
		dad = dad && pi->src.ip[i] == 0;
	if (dad) {
		memcpy(to_ip, all_nodes, 16);
		memcpy(to_mac, all_nodes_mac, 6);
	} else {
		memcpy(to_ip, pi->src.ip, 16);
		memcpy(to_mac, pi->nd_lladdr != 0 ? frame + pi->nd_lladdr : frame + 6, 6);
	}
	memcpy(frame, to_mac, 6);
	memcpy(frame + 6, mac, 6);
	duet_pkt_store16(frame + 12, RTE_BE16(RTE_ETHER_TYPE_IPV6));
	ip[0] = 0x60;
	ip[1] = 0;
	ip[2] = 0;
	ip[3] = 0;
	duet_pkt_store16(ip + DUET_PKT_IP6_PLEN, htons(32));
	ip[6] = IPPROTO_ICMPV6;
	ip[DUET_PKT_IP6_HOPS] = 255;
	memcpy(ip + DUET_PKT_IP6_SRC, target, 16);
	memcpy(ip + DUET_PKT_IP6_DST, to_ip, 16);
	memset(icmp, 0, 8);
	icmp[0] = DUET_PKT_ICMP6_NA;
	icmp[4] = dad ? 0x20 : 0x60; /* override; solicited unless to all nodes */
	memcpy(icmp + 8, target, 16);
	icmp[24] = 2; /* target link-layer address */
	icmp[25] = 1;
	memcpy(icmp + 26, mac, 6);
	duet_pkt_icmp6_cksum_set(ip, icmp, 32);
	return DUET_PKT_NA_LEN;
}

#endif /* DUET_PKT_FP_H */
