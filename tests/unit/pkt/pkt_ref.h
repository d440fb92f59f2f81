/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reference arithmetic for the lib/pkt tests: a deliberately plain Internet
 * checksum (big-endian byte pairs, full recomputation, RFC 1071), written
 * apart from the library's host-order one so the tests compare two methods,
 * the IPv6 pseudo-header sums of UDP and ICMPv6 (RFC 8200 8.1, RFC 4443
 * 2.3), a seeded PRNG so random tests replay exactly, and a field-by-field
 * comparison of parse results. Test processes only.
 */
#ifndef PKT_REF_H
#define PKT_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "duet_pkt.h"

/* Ones' complement sum of big-endian 16-bit words, folded, as a number. */
static inline uint32_t
ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i < len; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static inline uint16_t
ref_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
ref_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Set the IPv4 header checksum of the header at ip from scratch. */
static inline void
ref_ip4_fix(uint8_t *ip)
{
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;

	ref_put16(ip + 10, 0);
	ref_put16(ip + 10, (uint16_t)~ref_sum(ip, hlen, 0));
}

/* True when the IPv4 header at ip verifies. */
static inline int
ref_ip4_ok(const uint8_t *ip)
{
	return ref_sum(ip, (size_t)(ip[0] & 0x0f) * 4, 0) == 0xffff;
}

/* UDP pseudo-header + datagram sum; the datagram is at udp, IPv4 at ip. */
static inline uint32_t
ref_udp_sum(const uint8_t *ip, const uint8_t *udp)
{
	uint16_t ulen = ref_get16(udp + 4);
	uint32_t s = ref_sum(ip + 12, 8, 0);

	s = ref_sum(udp, ulen, s + 17 + ulen);
	return s;
}

/* The UDP checksum a sender would compute for this datagram. */
static inline uint16_t
ref_udp_cksum(const uint8_t *ip, uint8_t *udp)
{
	uint16_t saved = ref_get16(udp + 6);
	uint16_t c;

	ref_put16(udp + 6, 0);
	c = (uint16_t)~ref_udp_sum(ip, udp);
	ref_put16(udp + 6, saved);
	return c == 0 ? 0xffff : c;
}

/* True when a datagram with a checksum verifies at the receiver. */
static inline int
ref_udp_ok(const uint8_t *ip, const uint8_t *udp)
{
	return ref_udp_sum(ip, udp) == 0xffff;
}

/* IPv6 pseudo-header (RFC 8200 8.1: addresses, 32-bit upper-layer length,
 * next header) + the n bytes of the upper layer at l4; IPv6 header at ip. */
static inline uint32_t
ref_l4_sum6(const uint8_t *ip, const uint8_t *l4, size_t n, uint8_t nh)
{
	uint32_t s = ref_sum(ip + 8, 32, 0);

	s = ref_sum(l4, n, s + (uint32_t)(n >> 16) + (uint32_t)(n & 0xffff) + nh);
	return s;
}

/* UDP datagram at udp behind the IPv4 or IPv6 header at ip (the version
 * read from it): pseudo-header + datagram sum, the length from the UDP
 * header. */
static inline uint32_t
ref_udp_sum_any(const uint8_t *ip, const uint8_t *udp)
{
	if ((ip[0] >> 4) == 6)
		return ref_l4_sum6(ip, udp, ref_get16(udp + 4), 17);
	return ref_udp_sum(ip, udp);
}

/* True when the datagram verifies at the receiver, IPv4 or IPv6. */
static inline int
ref_udp_ok_any(const uint8_t *ip, const uint8_t *udp)
{
	return ref_udp_sum_any(ip, udp) == 0xffff;
}

/* The UDP checksum a sender would compute, IPv4 or IPv6. */
static inline uint16_t
ref_udp_cksum_any(const uint8_t *ip, uint8_t *udp)
{
	uint16_t saved = ref_get16(udp + 6);
	uint16_t c;

	ref_put16(udp + 6, 0);
	c = (uint16_t)~ref_udp_sum_any(ip, udp);
	ref_put16(udp + 6, saved);
	return c == 0 ? 0xffff : c;
}

/* True when the n-byte ICMPv6 message at icmp verifies (RFC 4443 2.3). */
static inline int
ref_icmp6_ok(const uint8_t *ip, const uint8_t *icmp, size_t n)
{
	return ref_l4_sum6(ip, icmp, n, 58) == 0xffff;
}

/* Set the ICMPv6 checksum of the n-byte message at icmp from scratch. */
static inline void
ref_icmp6_fix(const uint8_t *ip, uint8_t *icmp, size_t n)
{
	ref_put16(icmp + 2, 0);
	ref_put16(icmp + 2, (uint16_t)~ref_l4_sum6(ip, icmp, n, 58));
}

/* xorshift64*: small, seeded, identical on every platform. */
static inline uint64_t
ref_rand(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

/* Two parse results field by field (the struct has padding the parser need
 * not write), `drop` left out: it is valid only on failure. */
static inline bool
ref_info_eq(const struct duet_pkt_info *a, const struct duet_pkt_info *b)
{
	return a->kind == b->kind && a->l3_off == b->l3_off && a->l4_off == b->l4_off &&
	       a->l4_len == b->l4_len && a->ip_total == b->ip_total && a->ttl == b->ttl &&
	       a->arp_op == b->arp_op && memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
	       memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0 &&
	       memcmp(a->src_mac, b->src_mac, sizeof(a->src_mac)) == 0 &&
	       a->tclass == b->tclass && a->nd_flags == b->nd_flags &&
	       a->nd_target == b->nd_target && a->nd_lladdr == b->nd_lladdr;
}

#endif /* PKT_REF_H */
