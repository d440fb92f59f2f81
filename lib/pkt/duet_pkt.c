/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_pkt: the frame parser every received packet goes through, the
 * Internet checksum and the ARP request duet sends for its next hops. The
 * parser runs on worker lcores (and in tests and the fuzzer, without EAL);
 * duet_pkt_build_arp_request runs on the control thread.
 *
 * The parser reads only bytes it has checked are there, and fields are
 * compared in network order against constants swapped at compile time
 * (RTE_BE16), so nothing is byte-swapped on the common path.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>

#include "duet_pkt.h"
#include "duet_pkt_fp.h"

/* Ethertypes and ARP values from DPDK's headers, in network order. */
#define ETHERTYPE_OFF offsetof(struct rte_ether_hdr, ether_type)
#define ETHERTYPE_IPV4 RTE_BE16(RTE_ETHER_TYPE_IPV4)
#define ETHERTYPE_ARP RTE_BE16(RTE_ETHER_TYPE_ARP)
#define ETHERTYPE_IPV6 RTE_BE16(RTE_ETHER_TYPE_IPV6)
#define ETHERTYPE_VLAN RTE_BE16(RTE_ETHER_TYPE_VLAN) /* 802.1Q */
#define ETHERTYPE_QINQ RTE_BE16(RTE_ETHER_TYPE_QINQ) /* 802.1ad service tag */

#define ARP_HTYPE_ETHER RTE_BE16(RTE_ARP_HRD_ETHER)
#define ARP_OP_REQUEST RTE_ARP_OP_REQUEST
#define ARP_OP_REPLY RTE_ARP_OP_REPLY

#define IP4_HLEN_MIN 20
#define IP4_TOTAL_OFF 2
#define IP4_FRAG_OFF 6
#define IP4_PROTO_OFF 9
#define IP4_FRAG_MASK RTE_BE16(0x3fff) /* MF flag and fragment offset, not DF */
#define IP6_HLEN 40

#define PROTO_ICMP 1
#define PROTO_UDP 17

#define UDP_HLEN 8
#define UDP_LEN_OFF 4
#define ICMP_ECHO_HLEN 8 /* type, code, checksum, identifier, sequence */
#define ICMP_ECHO_REQUEST 8

#define ETH_MIN_FRAME 60 /* without FCS */

/* Record why the frame is dropped; the errno says how bad it is. */
static inline int
drop(struct duet_pkt_info *out, enum duet_drop reason, int err)
{
	out->drop = (uint8_t)reason;
	return err;
}

static inline uint16_t
load_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int
parse_arp(const uint8_t *p, size_t len, struct duet_pkt_info *out)
{
	const uint8_t *arp = p + DUET_PKT_ETH_HLEN;
	uint16_t op;
	uint32_t spa, tpa;

	if (len < DUET_PKT_ETH_HLEN + DUET_PKT_ARP_LEN)
		return drop(out, DUET_DROP_TOO_SHORT, -EINVAL);
	/* Only Ethernet/IPv4 ARP carries addresses we could own. */
	if (duet_pkt_load16(arp) != ARP_HTYPE_ETHER || duet_pkt_load16(arp + 2) != ETHERTYPE_IPV4 ||
	    arp[4] != 6 || arp[5] != 4)
		return drop(out, DUET_DROP_ARP_OTHER, -ENOTSUP);
	op = load_be16(arp + DUET_PKT_ARP_OP);
	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)
		return drop(out, DUET_DROP_ARP_OTHER, -ENOTSUP);

	memcpy(&spa, arp + DUET_PKT_ARP_SPA, 4);
	memcpy(&tpa, arp + DUET_PKT_ARP_TPA, 4);
	duet_addr_set4(&out->src, spa, 0);
	duet_addr_set4(&out->dst, tpa, 0);
	memcpy(out->src_mac, arp + DUET_PKT_ARP_SHA, 6);
	out->arp_op = (uint8_t)op;
	out->kind = DUET_PKT_ARP;
	return 0;
}

/* The IPv4 payload (l4 bytes from l4) is UDP. */
static int
parse_udp(const uint8_t *l4, size_t l4_bytes, struct duet_pkt_info *out)
{
	uint16_t ulen;
	uint16_t port;

	if (l4_bytes < UDP_HLEN)
		return drop(out, DUET_DROP_TOO_SHORT, -EINVAL);
	/* Strict: a UDP length shorter than the IP payload would leave bytes
	 * we forward without knowing what they are. */
	ulen = load_be16(l4 + UDP_LEN_OFF);
	if (ulen != l4_bytes)
		return drop(out, DUET_DROP_UDP_LEN, -EINVAL);
	memcpy(&port, l4, 2);
	out->src.port = port;
	memcpy(&port, l4 + 2, 2);
	out->dst.port = port;
	out->l4_len = ulen;
	out->kind = DUET_PKT_UDP;
	return 0;
}

static int
parse_icmp(const uint8_t *l4, size_t l4_bytes, struct duet_pkt_info *out)
{
	out->l4_len = (uint16_t)l4_bytes;
	if (l4_bytes < ICMP_ECHO_HLEN)
		return drop(out, DUET_DROP_ICMP_OTHER, -EINVAL);
	if (l4[0] != ICMP_ECHO_REQUEST || l4[1] != 0)
		return drop(out, DUET_DROP_ICMP_OTHER, -ENOTSUP);
	out->kind = DUET_PKT_ICMP_ECHO;
	return 0;
}

static int
parse_ipv4(const uint8_t *p, size_t len, int ip_cksum_good, struct duet_pkt_info *out)
{
	const uint8_t *ip = p + DUET_PKT_ETH_HLEN;
	size_t avail = len - DUET_PKT_ETH_HLEN;
	size_t hlen, total;
	uint32_t a;

	if (avail < IP4_HLEN_MIN)
		return drop(out, DUET_DROP_TOO_SHORT, -EINVAL);
	if ((ip[0] >> 4) != 4)
		return drop(out, DUET_DROP_IP_VERSION, -EINVAL);
	out->ttl = ip[DUET_PKT_IP4_TTL];
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	if (hlen < IP4_HLEN_MIN || hlen > avail)
		return drop(out, DUET_DROP_IP_HLEN, -EINVAL);
	/* Bytes past the total length are Ethernet padding: allowed. */
	total = load_be16(ip + IP4_TOTAL_OFF);
	if (total < hlen || total > avail)
		return drop(out, DUET_DROP_IP_LEN, -EINVAL);
	if (!ip_cksum_good && duet_pkt_fold(duet_pkt_sum(ip, hlen, 0)) != 0xffff)
		return drop(out, DUET_DROP_IP_CKSUM, -EINVAL);
	if ((duet_pkt_load16(ip + IP4_FRAG_OFF) & IP4_FRAG_MASK) != 0)
		return drop(out, DUET_DROP_IP_FRAG, -ENOTSUP);

	memcpy(&a, ip + DUET_PKT_IP4_SRC, 4);
	duet_addr_set4(&out->src, a, 0);
	memcpy(&a, ip + DUET_PKT_IP4_DST, 4);
	duet_addr_set4(&out->dst, a, 0);
	out->ip_total = (uint16_t)total;
	out->l4_off = (uint16_t)(DUET_PKT_ETH_HLEN + hlen);

	switch (ip[IP4_PROTO_OFF]) {
	case PROTO_UDP:
		return parse_udp(ip + hlen, total - hlen, out);
	case PROTO_ICMP:
		return parse_icmp(ip + hlen, total - hlen, out);
	default:
		out->l4_len = (uint16_t)(total - hlen);
		return drop(out, DUET_DROP_PROTO, -ENOTSUP);
	}
}

int
duet_pkt_parse(const uint8_t *p, size_t len, int ip_cksum_good, struct duet_pkt_info *out)
{
	uint16_t etype;

	memset(out, 0, sizeof(*out));
	if (len < DUET_PKT_ETH_HLEN)
		return drop(out, DUET_DROP_TOO_SHORT, -EINVAL);
	memcpy(out->src_mac, p + 6, 6);
	out->l3_off = DUET_PKT_ETH_HLEN;
	etype = duet_pkt_load16(p + ETHERTYPE_OFF);

	if (etype == ETHERTYPE_IPV4)
		return parse_ipv4(p, len, ip_cksum_good, out);
	if (etype == ETHERTYPE_ARP)
		return parse_arp(p, len, out);
	if (etype == ETHERTYPE_IPV6) {
		if (len < DUET_PKT_ETH_HLEN + IP6_HLEN)
			return drop(out, DUET_DROP_TOO_SHORT, -EINVAL);
		if ((p[DUET_PKT_ETH_HLEN] >> 4) != 6)
			return drop(out, DUET_DROP_IP_VERSION, -EINVAL);
		out->ttl = p[DUET_PKT_ETH_HLEN + 7];
		return drop(out, DUET_DROP_IPV6, -ENOTSUP);
	}
	/* Ports are untagged; a tagged frame reached us by mistake. */
	if (etype == ETHERTYPE_VLAN || etype == ETHERTYPE_QINQ)
		return drop(out, DUET_DROP_VLAN, -ENOTSUP);
	return drop(out, DUET_DROP_ETHERTYPE, -ENOTSUP);
}

uint16_t
duet_pkt_cksum_raw(const void *buf, size_t len, uint32_t sum)
{
	return duet_pkt_fold(duet_pkt_sum(buf, len, sum));
}

size_t
duet_pkt_build_arp_request(uint8_t *buf, const uint8_t smac[6], uint32_t sip_be, uint32_t tip_be)
{
	uint8_t *arp = buf + DUET_PKT_ETH_HLEN;

	memset(buf, 0, ETH_MIN_FRAME);
	memset(buf, 0xff, 6);
	memcpy(buf + 6, smac, 6);
	duet_pkt_store16(buf + ETHERTYPE_OFF, ETHERTYPE_ARP);

	duet_pkt_store16(arp, ARP_HTYPE_ETHER);
	duet_pkt_store16(arp + 2, ETHERTYPE_IPV4);
	arp[4] = 6;
	arp[5] = 4;
	arp[DUET_PKT_ARP_OP + 1] = ARP_OP_REQUEST;
	memcpy(arp + DUET_PKT_ARP_SHA, smac, 6);
	memcpy(arp + DUET_PKT_ARP_SPA, &sip_be, 4);
	/* Target hardware address stays zero: it is what we ask for. */
	memcpy(arp + DUET_PKT_ARP_TPA, &tip_be, 4);
	return ETH_MIN_FRAME;
}
