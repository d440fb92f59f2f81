/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_pkt: the frame parser behind a call (for tests and the fuzzer; the
 * workers inline it from duet_pkt_parse_fp.h), the Internet checksum and
 * the ARP request and IPv6 neighbour solicitation duet sends for its
 * gateways (control thread).
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>

#include "duet_pkt.h"
#include "duet_pkt_fp.h"
#include "duet_pkt_parse_fp.h"

/* The parser itself is inline (duet_pkt_parse_fp.h); this is it behind a
 * call, for tests and the fuzzer. */
int
duet_pkt_parse(const uint8_t *p, size_t len, int ip_cksum_good, struct duet_pkt_info *out)
{
	return duet_pkt_parse_fp(p, len, ip_cksum_good, out);
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

	memset(buf, 0, DUET_PKT_ETH_MIN_FRAME);
	memset(buf, 0xff, 6);
	memcpy(buf + 6, smac, 6);
	duet_pkt_store16(buf + DUET_PKT_ETHERTYPE_OFF, DUET_PKT_ETHERTYPE_ARP);

	duet_pkt_store16(arp, DUET_PKT_ARP_HTYPE_ETHER);
	duet_pkt_store16(arp + 2, DUET_PKT_ETHERTYPE_IPV4);
	arp[4] = 6;
	arp[5] = 4;
	arp[DUET_PKT_ARP_OP + 1] = RTE_ARP_OP_REQUEST;
	memcpy(arp + DUET_PKT_ARP_SHA, smac, 6);
	memcpy(arp + DUET_PKT_ARP_SPA, &sip_be, 4);
	/* Target hardware address stays zero: it is what we ask for. */
	memcpy(arp + DUET_PKT_ARP_TPA, &tip_be, 4);
	return DUET_PKT_ETH_MIN_FRAME;
}

size_t
duet_pkt_build_ns(uint8_t *buf, const uint8_t smac[6], const uint8_t sip[16],
		  const uint8_t target[16])
{
	static const uint8_t snm[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
	uint8_t *ip = buf + DUET_PKT_ETH_HLEN;
	uint8_t *icmp = ip + DUET_PKT_IP6_HLEN;

	memset(buf, 0, DUET_PKT_NS_LEN);
	/* The target's solicited-node group (RFC 4291 2.7.1) and its MAC
	 * (RFC 2464 7): only the target and hosts sharing its low 24 bits
	 * hear the question. */
	buf[0] = 0x33;
	buf[1] = 0x33;
	buf[2] = 0xff;
	memcpy(buf + 3, target + 13, 3);
	memcpy(buf + 6, smac, 6);
	duet_pkt_store16(buf + DUET_PKT_ETHERTYPE_OFF, DUET_PKT_ETHERTYPE_IPV6);
	ip[0] = 0x60;
	duet_pkt_store16(ip + DUET_PKT_IP6_PLEN, rte_cpu_to_be_16(32));
	ip[6] = IPPROTO_ICMPV6;
	ip[DUET_PKT_IP6_HOPS] = 255;
	memcpy(ip + DUET_PKT_IP6_SRC, sip, 16);
	memcpy(ip + DUET_PKT_IP6_DST, snm, sizeof(snm));
	memcpy(ip + DUET_PKT_IP6_DST + 13, target + 13, 3);
	icmp[0] = DUET_PKT_ICMP6_NS;
	memcpy(icmp + 8, target, 16);
	icmp[24] = 1; /* source link-layer address */
	icmp[25] = 1;
	memcpy(icmp + 26, smac, 6);
	duet_pkt_icmp6_cksum_set(ip, icmp, 32);
	return DUET_PKT_NS_LEN;
}
