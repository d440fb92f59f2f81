/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_pkt fast path, the parser: every received frame goes through
 * duet_pkt_parse_fp(), inline in the worker's burst loop (worker lcores),
 * and through duet_pkt_parse() (the same code behind a call) in tests and
 * the fuzzer, which need no EAL. Nothing is zeroed up front: each path
 * stores exactly the fields struct duet_pkt_info says are valid for it, so
 * a frame costs the stores it needs and no more.
 *
 * The NIC's checksum verdict comes in as ip_cksum_good (from the mbuf's RX
 * checksum flags): a good IPv4 header is not summed again. Its packet type
 * (mbuf packet_type) is not used: every check it could stand in for is a
 * compare on a cache line the parser has loaded anyway, and taking the
 * NIC's word for the ethertype would let a NIC that gets it wrong (tagged
 * frames reported as plain Ethernet, for one) past checks that cost
 * nothing. Fields are compared in network order against constants
 * swapped at compile time.
 */
#ifndef DUET_PKT_PARSE_FP_H
#define DUET_PKT_PARSE_FP_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

#include "duet_pkt.h"
#include "duet_pkt_fp.h"

/* Ethertypes and ARP values from DPDK's headers, in network order. */
#define DUET_PKT_ETHERTYPE_OFF offsetof(struct rte_ether_hdr, ether_type)
#define DUET_PKT_ETHERTYPE_IPV4 RTE_BE16(RTE_ETHER_TYPE_IPV4)
#define DUET_PKT_ETHERTYPE_ARP RTE_BE16(RTE_ETHER_TYPE_ARP)
#define DUET_PKT_ETHERTYPE_IPV6 RTE_BE16(RTE_ETHER_TYPE_IPV6)
#define DUET_PKT_ETHERTYPE_VLAN RTE_BE16(RTE_ETHER_TYPE_VLAN) /* 802.1Q */
#define DUET_PKT_ETHERTYPE_QINQ RTE_BE16(RTE_ETHER_TYPE_QINQ) /* 802.1ad service tag */
#define DUET_PKT_ARP_HTYPE_ETHER RTE_BE16(RTE_ARP_HRD_ETHER)

#define DUET_PKT_IP4_HLEN_MIN 20
#define DUET_PKT_IP4_FRAG_OFF offsetof(struct rte_ipv4_hdr, fragment_offset)
#define DUET_PKT_IP4_PROTO_OFF offsetof(struct rte_ipv4_hdr, next_proto_id)
#define DUET_PKT_IP4_FRAG_MASK RTE_BE16(0x3fff) /* MF flag and fragment offset, not DF */
#define DUET_PKT_IP6_HLEN sizeof(struct rte_ipv6_hdr)
#define DUET_PKT_UDP_HLEN sizeof(struct rte_udp_hdr)
#define DUET_PKT_ICMP_ECHO_HLEN sizeof(struct rte_icmp_hdr) /* type, code, cksum, id, seq */

/* Record why the frame is dropped; the errno says how bad it is. */
static inline int
duet_pkt_drop_(struct duet_pkt_info *out, enum duet_drop reason, int err)
{
	out->drop = (uint8_t)reason;
	return err;
}

/* An IPv4 address (network order) and port into a, whole (no stale bytes). */
static inline void
duet_pkt_addr4_(struct duet_addr *a, const uint8_t *ip, uint16_t port_be)
{
	uint64_t zero = 0;

	a->family = DUET_AF_INET4;
	a->reserved = 0;
	a->port = port_be;
	memcpy(a->ip, ip, 4);
	memcpy(a->ip + 4, &zero, 8);
	memcpy(a->ip + 12, &zero, 4);
}

static inline int
duet_pkt_parse_arp_(const uint8_t *p, size_t len, struct duet_pkt_info *out)
{
	const uint8_t *arp = p + DUET_PKT_ETH_HLEN;
	uint16_t op;

	if (len < DUET_PKT_ETH_HLEN + DUET_PKT_ARP_LEN)
		return duet_pkt_drop_(out, DUET_DROP_TOO_SHORT, -EINVAL);
	/* Only Ethernet/IPv4 ARP carries addresses we could own. */
	if (duet_pkt_load16(arp) != DUET_PKT_ARP_HTYPE_ETHER ||
	    duet_pkt_load16(arp + 2) != DUET_PKT_ETHERTYPE_IPV4 || arp[4] != 6 || arp[5] != 4)
		return duet_pkt_drop_(out, DUET_DROP_ARP_OTHER, -ENOTSUP);
	op = rte_be_to_cpu_16(duet_pkt_load16(arp + DUET_PKT_ARP_OP));
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)
		return duet_pkt_drop_(out, DUET_DROP_ARP_OTHER, -ENOTSUP);
	duet_pkt_addr4_(&out->src, arp + DUET_PKT_ARP_SPA, 0);
	duet_pkt_addr4_(&out->dst, arp + DUET_PKT_ARP_TPA, 0);
	memcpy(out->src_mac, arp + DUET_PKT_ARP_SHA, 6);
	out->kind = DUET_PKT_ARP;
	out->drop = 0;
	out->l3_off = DUET_PKT_ETH_HLEN;
	out->l4_off = 0;
	out->l4_len = 0;
	out->ip_total = 0;
	out->ttl = 0;
	out->arp_op = (uint8_t)op;
	return 0;
}

/* IPv4, and UDP or ICMP echo behind it. */
static inline int
duet_pkt_parse_ipv4_(const uint8_t *p, size_t len, int ip_cksum_good, struct duet_pkt_info *out)
{
	const uint8_t *ip = p + DUET_PKT_ETH_HLEN;
	size_t avail = len - DUET_PKT_ETH_HLEN;
	size_t hlen, total, l4_bytes;
	const uint8_t *l4;
	uint8_t proto;

	if (avail < DUET_PKT_IP4_HLEN_MIN)
		return duet_pkt_drop_(out, DUET_DROP_TOO_SHORT, -EINVAL);
	if ((ip[0] >> 4) != 4)
		return duet_pkt_drop_(out, DUET_DROP_IP_VERSION, -EINVAL);
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	if (hlen < DUET_PKT_IP4_HLEN_MIN || hlen > avail)
		return duet_pkt_drop_(out, DUET_DROP_IP_HLEN, -EINVAL);
	/* Bytes past the total length are Ethernet padding: allowed. */
	total = rte_be_to_cpu_16(duet_pkt_load16(ip + DUET_PKT_IP4_TOTLEN));
	if (total < hlen || total > avail)
		return duet_pkt_drop_(out, DUET_DROP_IP_LEN, -EINVAL);
	/* Almost every header is 20 bytes: a constant length lets the sum
	 * unroll. */
	if (!ip_cksum_good &&
	    duet_pkt_fold(hlen == 20 ? duet_pkt_sum(ip, 20, 0) : duet_pkt_sum(ip, hlen, 0)) != 0xffff)
		return duet_pkt_drop_(out, DUET_DROP_IP_CKSUM, -EINVAL);
	if ((duet_pkt_load16(ip + DUET_PKT_IP4_FRAG_OFF) & DUET_PKT_IP4_FRAG_MASK) != 0)
		return duet_pkt_drop_(out, DUET_DROP_IP_FRAG, -ENOTSUP);
	proto = ip[DUET_PKT_IP4_PROTO_OFF];
	l4 = ip + hlen;
	l4_bytes = total - hlen;
	if (proto == IPPROTO_UDP) {
		uint16_t ulen;

		if (l4_bytes < DUET_PKT_UDP_HLEN)
			return duet_pkt_drop_(out, DUET_DROP_TOO_SHORT, -EINVAL);
		/* Strict: a UDP length shorter than the IP payload would leave
		 * bytes we forward without knowing what they are. */
		ulen = rte_be_to_cpu_16(duet_pkt_load16(l4 + DUET_PKT_UDP_LEN));
		if (ulen != l4_bytes)
			return duet_pkt_drop_(out, DUET_DROP_UDP_LEN, -EINVAL);
		duet_pkt_addr4_(&out->src, ip + DUET_PKT_IP4_SRC, duet_pkt_load16(l4));
		duet_pkt_addr4_(&out->dst, ip + DUET_PKT_IP4_DST, duet_pkt_load16(l4 + 2));
		out->kind = DUET_PKT_UDP;
	} else if (proto == IPPROTO_ICMP) {
		if (l4_bytes < DUET_PKT_ICMP_ECHO_HLEN)
			return duet_pkt_drop_(out, DUET_DROP_ICMP_OTHER, -EINVAL);
		if (l4[0] != RTE_IP_ICMP_ECHO_REQUEST || l4[1] != 0)
			return duet_pkt_drop_(out, DUET_DROP_ICMP_OTHER, -ENOTSUP);
		duet_pkt_addr4_(&out->src, ip + DUET_PKT_IP4_SRC, 0);
		duet_pkt_addr4_(&out->dst, ip + DUET_PKT_IP4_DST, 0);
		out->kind = DUET_PKT_ICMP_ECHO;
	} else {
		return duet_pkt_drop_(out, DUET_DROP_PROTO, -ENOTSUP);
	}
	memcpy(out->src_mac, p + 6, 6);
	out->drop = 0;
	out->l3_off = DUET_PKT_ETH_HLEN;
	out->l4_off = (uint16_t)(DUET_PKT_ETH_HLEN + hlen);
	out->l4_len = (uint16_t)l4_bytes;
	out->ip_total = (uint16_t)total;
	out->ttl = ip[DUET_PKT_IP4_TTL];
	out->arp_op = 0;
	return 0;
}

/**
 * Parse one frame: duet_pkt_parse() (see duet_pkt.h for what is checked
 * and returned), inline. Worker lcores (and duet_pkt_parse()).
 */
static inline int
duet_pkt_parse_fp(const uint8_t *p, size_t len, int ip_cksum_good, struct duet_pkt_info *out)
{
	uint16_t etype;

	if (len < DUET_PKT_ETH_HLEN)
		return duet_pkt_drop_(out, DUET_DROP_TOO_SHORT, -EINVAL);
	etype = duet_pkt_load16(p + DUET_PKT_ETHERTYPE_OFF);
	if (etype == DUET_PKT_ETHERTYPE_IPV4)
		return duet_pkt_parse_ipv4_(p, len, ip_cksum_good, out);
	if (etype == DUET_PKT_ETHERTYPE_ARP)
		return duet_pkt_parse_arp_(p, len, out);
	if (etype == DUET_PKT_ETHERTYPE_IPV6) {
		if (len < DUET_PKT_ETH_HLEN + DUET_PKT_IP6_HLEN)
			return duet_pkt_drop_(out, DUET_DROP_TOO_SHORT, -EINVAL);
		if ((p[DUET_PKT_ETH_HLEN] >> 4) != 6)
			return duet_pkt_drop_(out, DUET_DROP_IP_VERSION, -EINVAL);
		return duet_pkt_drop_(out, DUET_DROP_IPV6, -ENOTSUP);
	}
	/* Ports are untagged; a tagged frame reached us by mistake. */
	if (etype == DUET_PKT_ETHERTYPE_VLAN || etype == DUET_PKT_ETHERTYPE_QINQ)
		return duet_pkt_drop_(out, DUET_DROP_VLAN, -ENOTSUP);
	return duet_pkt_drop_(out, DUET_DROP_ETHERTYPE, -ENOTSUP);
}

#endif /* DUET_PKT_PARSE_FP_H */
