/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_pkt: Ethernet / VLAN / ARP / IPv4 / IPv6 / UDP / ICMP parsing over
 * plain bytes. Parsers take (const uint8_t *p, size_t len, out) and return 0
 * or a negative errno; on failure out->drop names the drop reason, so a
 * worker counts it and tests and fuzzers need no EAL. Workers parse inline
 * (duet_pkt_parse_fp.h); duet_pkt_parse() is the same code behind a call,
 * for tests and the fuzzer. The rewrites
 * that follow it are inline in duet_pkt_fp.h.
 */
#ifndef DUET_PKT_H
#define DUET_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "duet_addr.h"
#include "duet_stats.h"

/** What a parsed frame is. */
enum duet_pkt_kind {
	DUET_PKT_UDP = 1,   /**< UDP datagram over IPv4 or IPv6 (src.family says which) */
	DUET_PKT_ARP,	    /**< ARP over Ethernet/IPv4 */
	DUET_PKT_ICMP_ECHO, /**< ICMPv4 or ICMPv6 echo request */
	DUET_PKT_NDP_NS,    /**< ICMPv6 neighbour solicitation that passed RFC 4861 7.1.1 */
	DUET_PKT_NDP_NA,    /**< ICMPv6 neighbour advertisement that passed RFC 4861 7.1.2 */
};

/**
 * Result of duet_pkt_parse(). Offsets are from the start of the frame. The
 * parser does not clear it first: on success every field but `drop` is
 * set (what does not apply to the kind is 0: ports, l4_* and ttl for ARP,
 * arp_op for IP, nd_* for all but NDP); on failure only `drop` is.
 */
struct duet_pkt_info {
	uint8_t kind;	      /**< enum duet_pkt_kind, valid when parse returned 0 */
	uint8_t drop;	      /**< enum duet_drop, valid when parse failed */
	uint16_t l3_off;      /**< offset of the IP (or ARP) header */
	uint16_t l4_off;      /**< offset of the UDP/ICMP header (0 for ARP) */
	uint16_t l4_len;      /**< UDP length field (header + payload), or ICMP bytes */
	uint16_t ip_total;    /**< IP total length (header + payload), 0 for ARP */
	uint8_t ttl;	      /**< IPv4 TTL / IPv6 hop limit */
	uint8_t arp_op;	      /**< 1 request, 2 reply (host order), for DUET_PKT_ARP */
	struct duet_addr src; /**< IP source and UDP source port (port 0 for ARP/ICMP) */
	struct duet_addr dst; /**< IP destination and UDP destination port */
	uint8_t src_mac[6];   /**< Ethernet source (ARP: sender hardware address) */
	uint8_t tclass;	      /**< IPv4 TOS / IPv6 traffic class (0 for ARP) */
	uint8_t nd_flags;     /**< NDP_NA: the R, S, O flags byte (0x80 R, 0x40 S, 0x20 O) */
	uint16_t nd_target;   /**< NDP: offset of the target address (16 bytes) */
	uint16_t nd_lladdr;   /**< NDP: offset of the source (NS) or target (NA) link-layer
				   address option's MAC, 0 if the message has none */
};

/**
 * Parse one frame. IPv4 header checksum is verified here unless
 * ip_cksum_good is non-zero (the NIC already checked it). Options are
 * allowed (skipped); fragments, bad lengths and bad versions fail with
 * the matching drop reason. IPv6: one hop-by-hop header right after the
 * fixed header is skipped; a fragment header fails as DUET_DROP_IP_FRAG,
 * any other extension header (routing first) as DUET_DROP_IP6_EXT; a
 * payload length past the frame as DUET_DROP_IP_LEN; UDP without a
 * checksum (zero: not allowed in IPv6) as DUET_DROP_UDP_CKSUM. ICMPv6
 * gives echo requests and neighbour discovery (validated as RFC 4861
 * says, checksum included: DUET_DROP_NDP_BAD); anything else fails as
 * DUET_DROP_ICMP_OTHER.
 * Writes only what the result says is valid (struct duet_pkt_info).
 * ARP: src/dst hold sender/target protocol addresses (port 0).
 *
 * @param p frame bytes, starting at the Ethernet header
 * @param len bytes available at p
 * @param ip_cksum_good non-zero when the NIC validated the IPv4 checksum
 * @param out filled on success; out->drop set on failure
 * @return 0, or -EINVAL (malformed), -ENOTSUP (valid but not relayable:
 *         other ethertype/protocol, VLAN, IPv6, fragment)
 * Any thread.
 */
int duet_pkt_parse(const uint8_t *p, size_t len, int ip_cksum_good,
		   struct duet_pkt_info *out);

/**
 * Internet checksum (RFC 1071) folded, not inverted, over len bytes, added
 * to the partial sum `sum` (0 to start). Words are summed in host order, as
 * RFC 1071 allows, so store the result with memcpy, not htons. Any thread.
 */
uint16_t duet_pkt_cksum_raw(const void *buf, size_t len, uint32_t sum);

/**
 * Build an ARP request (broadcast) from smac/sip asking for tip. IPs are
 * network order. buf must hold at least 60 bytes (frame padded to the
 * Ethernet minimum).
 * @return frame length (60). Control thread.
 */
size_t duet_pkt_build_arp_request(uint8_t *buf, const uint8_t smac[6], uint32_t sip_be,
				  uint32_t tip_be);

/** Bytes of the neighbour solicitation duet_pkt_build_ns() builds. */
#define DUET_PKT_NS_LEN (14 + 40 + 24 + 8)

/**
 * Build an IPv6 neighbour solicitation from smac/sip (16 bytes) asking for
 * target (16 bytes), to target's solicited-node multicast group, with our
 * source link-layer address option (RFC 4861 4.3). buf must hold
 * DUET_PKT_NS_LEN bytes. @return DUET_PKT_NS_LEN. Control thread.
 */
size_t duet_pkt_build_ns(uint8_t *buf, const uint8_t smac[6], const uint8_t sip[16],
			 const uint8_t target[16]);

#endif /* DUET_PKT_H */
