/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_pkt: the frame parser behind a call (for tests and the fuzzer; the
 * workers inline it from duet_pkt_parse_fp.h), the Internet checksum and
 * the ARP request duet sends for its next hops (control thread).
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
