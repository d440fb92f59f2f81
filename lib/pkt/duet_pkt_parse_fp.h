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
/* IPv6 next-header values: RFC 8200 4 and IANA's list of extension headers. */
#define DUET_PKT_IP6_HOPOPTS 0
#define DUET_PKT_IP6_ROUTING 43
#define DUET_PKT_IP6_FRAGMENT 44
#define DUET_PKT_IP6_DSTOPTS 60

/* Every extension header IANA lists (but fragment, which has its own
 * reason): a packet that carries one is not plain UDP. ESP (50) and "no
 * next header" (59) are not relayable either, and count as protocol. */
static inline bool
duet_pkt_ip6_is_ext_(uint8_t nh)
{
	return nh == DUET_PKT_IP6_HOPOPTS || nh == DUET_PKT_IP6_ROUTING ||
	       nh == DUET_PKT_IP6_DSTOPTS || nh == 51 /* AH */ || nh == 135 /* mobility */ ||
	       nh == 139 /* HIP */ || nh == 140 /* shim6 */ || nh == 253 || nh == 254;
}

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
	out->tclass = 0;
	out->nd_flags = 0;
	out->nd_target = 0;
	out->nd_lladdr = 0;
	return 0;
}

/* The UDP header at l4, l4_bytes of IP payload: whole, and its length the
 * payload's. Strict: a UDP length shorter than the IP payload would leave
 * bytes we forward without knowing what they are. */
static inline int
duet_pkt_udp_check_(const uint8_t *l4, size_t l4_bytes, struct duet_pkt_info *out)
{
	if (l4_bytes < DUET_PKT_UDP_HLEN)
		return duet_pkt_drop_(out, DUET_DROP_TOO_SHORT, -EINVAL);
	if (rte_be_to_cpu_16(duet_pkt_load16(l4 + DUET_PKT_UDP_LEN)) != l4_bytes)
		return duet_pkt_drop_(out, DUET_DROP_UDP_LEN, -EINVAL);
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
		int rc = duet_pkt_udp_check_(l4, l4_bytes, out);

		if (rc != 0)
			return rc;
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
	out->tclass = ip[1];
	out->nd_flags = 0;
	out->nd_target = 0;
	out->nd_lladdr = 0;
	return 0;
}

/* An IPv6 address (16 bytes at ip) and port into a. */
static inline void
duet_pkt_addr6_(struct duet_addr *a, const uint8_t *ip, uint16_t port_be)
{
	a->family = DUET_AF_INET6;
	a->reserved = 0;
	a->port = port_be;
	memcpy(a->ip, ip, 16);
}

/* Is ip (16 bytes) the solicited-node multicast group ff02::1:ffXX:XXXX? */
static inline bool
duet_pkt_ip6_solicited_node_(const uint8_t *ip)
{
	static const uint8_t pfx[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};

	return memcmp(ip, pfx, sizeof(pfx)) == 0;
}

/* Is ip (16 bytes) all zero (::)? */
static inline bool
duet_pkt_ip6_unspec_(const uint8_t *ip)
{
	uint64_t a, b;

	memcpy(&a, ip, 8);
	memcpy(&b, ip + 8, 8);
	return (a | b) == 0;
}

/*
 * Neighbour solicitation or advertisement at icmp (n bytes, the IPv6
 * payload after any skipped header), checked as RFC 4861 7.1.1 / 7.1.2 say
 * a node must before it acts on one: hop limit 255 (it cannot have crossed
 * a router), code 0, 24 bytes or more, checksum, a target that is not
 * multicast, options each with a non-zero length inside the message; for a
 * solicitation from :: (duplicate address detection), a solicited-node
 * destination and no source link-layer option; for an advertisement to a
 * multicast group, no solicited flag. On top of RFC 4861, for a relay that
 * answers: a multicast source, or a link-layer option holding an Ethernet
 * group address, is refused. Finds the link-layer option (NS: type 1, NA:
 * type 2) for the caller.
 */
static inline int
duet_pkt_parse_ndp_(const uint8_t *p, const uint8_t *ip, const uint8_t *icmp, size_t n,
		    struct duet_pkt_info *out)
{
	uint8_t type = icmp[0], want = type == DUET_PKT_ICMP6_NS ? 1 : 2;
	bool has_lladdr_opt = false;
	uint16_t lladdr = 0;
	uint64_t sum;
	size_t off;

	if (ip[7] != 255 || icmp[1] != 0 || n < 24 || icmp[8] == 0xff)
		return duet_pkt_drop_(out, DUET_DROP_NDP_BAD, -EINVAL);
	/* Pseudo-header: addresses, upper-layer length, next header. */
	sum = duet_pkt_sum(ip + 8, 32, 0);
	sum += rte_cpu_to_be_16((uint16_t)n);
	sum += rte_cpu_to_be_16(IPPROTO_ICMPV6);
	if (duet_pkt_fold(duet_pkt_sum(icmp, n, sum)) != 0xffff)
		return duet_pkt_drop_(out, DUET_DROP_NDP_BAD, -EINVAL);
	for (off = 24; off < n;) {
		size_t olen;

		if (n - off < 2 || icmp[off + 1] == 0)
			return duet_pkt_drop_(out, DUET_DROP_NDP_BAD, -EINVAL);
		olen = (size_t)icmp[off + 1] * 8;
		if (olen > n - off)
			return duet_pkt_drop_(out, DUET_DROP_NDP_BAD, -EINVAL);
		/* An Ethernet link-layer address option is 8 bytes; one of
		 * another length is not usable, but is one all the same for
		 * the DAD rule below. */
		if (icmp[off] == want) {
			has_lladdr_opt = true;
			if (olen == 8 && lladdr == 0)
				lladdr = (uint16_t)(icmp + off + 2 - p);
		}
		off += olen;
	}
	/* RFC 4291 2.7: a multicast address is never a source; an Ethernet
	 * group address is never a host's link-layer address. */
	if (ip[8] == 0xff || (lladdr != 0 && (p[lladdr] & 0x01) != 0))
		return duet_pkt_drop_(out, DUET_DROP_NDP_BAD, -EINVAL);
	if (type == DUET_PKT_ICMP6_NS) {
		if (duet_pkt_ip6_unspec_(ip + 8) &&
		    (!duet_pkt_ip6_solicited_node_(ip + 24) || has_lladdr_opt))
			return duet_pkt_drop_(out, DUET_DROP_NDP_BAD, -EINVAL);
		out->kind = DUET_PKT_NDP_NS;
		out->nd_flags = 0;
	} else {
		if (ip[24] == 0xff && (icmp[4] & 0x40) != 0)
			return duet_pkt_drop_(out, DUET_DROP_NDP_BAD, -EINVAL);
		out->kind = DUET_PKT_NDP_NA;
		out->nd_flags = icmp[4];
	}
	out->nd_target = (uint16_t)(icmp + 8 - p);
	out->nd_lladdr = lladdr;
	return 0;
}

/* IPv6, one hop-by-hop header skipped, and UDP, ICMPv6 echo or NDP behind. */
static inline int
duet_pkt_parse_ipv6_(const uint8_t *p, size_t len, struct duet_pkt_info *out)
{
	const uint8_t *ip = p + DUET_PKT_ETH_HLEN;
	size_t avail = len - DUET_PKT_ETH_HLEN, plen, hlen = DUET_PKT_IP6_HLEN, l4_bytes;
	const uint8_t *l4;
	uint8_t nh;

	if (avail < DUET_PKT_IP6_HLEN)
		return duet_pkt_drop_(out, DUET_DROP_TOO_SHORT, -EINVAL);
	if ((ip[0] >> 4) != 6)
		return duet_pkt_drop_(out, DUET_DROP_IP_VERSION, -EINVAL);
	/* Bytes past the payload length are Ethernet padding: allowed. A
	 * zero length (a jumbogram's) leaves no room for any header below. */
	plen = rte_be_to_cpu_16(duet_pkt_load16(ip + 4));
	if (plen > avail - DUET_PKT_IP6_HLEN)
		return duet_pkt_drop_(out, DUET_DROP_IP_LEN, -EINVAL);
	nh = ip[6];
	if (nh == DUET_PKT_IP6_HOPOPTS) {
		/* Only first, as RFC 8200 4.1 says; its options mean nothing
		 * to a relay (router alert, jumbo payload), so it is skipped. */
		size_t ext;

		if (plen < 8)
			return duet_pkt_drop_(out, DUET_DROP_IP_LEN, -EINVAL);
		ext = ((size_t)ip[DUET_PKT_IP6_HLEN + 1] + 1) * 8;
		if (ext > plen)
			return duet_pkt_drop_(out, DUET_DROP_IP_LEN, -EINVAL);
		nh = ip[DUET_PKT_IP6_HLEN];
		hlen += ext;
	}
	l4 = ip + hlen;
	l4_bytes = plen - (hlen - DUET_PKT_IP6_HLEN);
	if (nh == IPPROTO_UDP) {
		int rc = duet_pkt_udp_check_(l4, l4_bytes, out);

		if (rc != 0)
			return rc;
		if (duet_pkt_load16(l4 + DUET_PKT_UDP_CKSUM) == 0)
			return duet_pkt_drop_(out, DUET_DROP_UDP_CKSUM, -EINVAL);
		duet_pkt_addr6_(&out->src, ip + 8, duet_pkt_load16(l4));
		duet_pkt_addr6_(&out->dst, ip + 24, duet_pkt_load16(l4 + 2));
		out->kind = DUET_PKT_UDP;
		out->nd_flags = 0;
		out->nd_target = 0;
		out->nd_lladdr = 0;
	} else if (nh == IPPROTO_ICMPV6) {
		int rc;

		if (l4_bytes < DUET_PKT_ICMP_ECHO_HLEN)
			return duet_pkt_drop_(out, DUET_DROP_ICMP_OTHER, -EINVAL);
		if (l4[0] == DUET_PKT_ICMP6_NS || l4[0] == DUET_PKT_ICMP6_NA) {
			rc = duet_pkt_parse_ndp_(p, ip, l4, l4_bytes, out);
			if (rc != 0)
				return rc;
		} else if (l4[0] == DUET_PKT_ICMP6_ECHO_REQUEST && l4[1] == 0) {
			out->kind = DUET_PKT_ICMP_ECHO;
			out->nd_flags = 0;
			out->nd_target = 0;
			out->nd_lladdr = 0;
		} else {
			return duet_pkt_drop_(out, DUET_DROP_ICMP_OTHER, -ENOTSUP);
		}
		duet_pkt_addr6_(&out->src, ip + 8, 0);
		duet_pkt_addr6_(&out->dst, ip + 24, 0);
	} else if (nh == DUET_PKT_IP6_FRAGMENT) {
		return duet_pkt_drop_(out, DUET_DROP_IP_FRAG, -ENOTSUP);
	} else if (duet_pkt_ip6_is_ext_(nh)) {
		return duet_pkt_drop_(out, DUET_DROP_IP6_EXT, -ENOTSUP);
	} else {
		return duet_pkt_drop_(out, DUET_DROP_PROTO, -ENOTSUP);
	}
	memcpy(out->src_mac, p + 6, 6);
	out->drop = 0;
	out->l3_off = DUET_PKT_ETH_HLEN;
	out->l4_off = (uint16_t)(DUET_PKT_ETH_HLEN + hlen);
	out->l4_len = (uint16_t)l4_bytes;
	out->ip_total = (uint16_t)(DUET_PKT_IP6_HLEN + plen);
	out->ttl = ip[7];
	out->arp_op = 0;
	out->tclass = (uint8_t)(((ip[0] & 0x0f) << 4) | (ip[1] >> 4));
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
	if (etype == DUET_PKT_ETHERTYPE_IPV6)
		return duet_pkt_parse_ipv6_(p, len, out);
	/* Ports are untagged; a tagged frame reached us by mistake. */
	if (etype == DUET_PKT_ETHERTYPE_VLAN || etype == DUET_PKT_ETHERTYPE_QINQ)
		return duet_pkt_drop_(out, DUET_DROP_VLAN, -ENOTSUP);
	return duet_pkt_drop_(out, DUET_DROP_ETHERTYPE, -ENOTSUP);
}

#endif /* DUET_PKT_PARSE_FP_H */
