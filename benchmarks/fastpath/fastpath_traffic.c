/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fastpath_traffic: the callers' side of bench_fastpath (see the header).
 * The benchmark's one thread, outside the timed part.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "fastpath_traffic.h"

#define SVC_IP_A 0xc0000201u /* 192.0.2.1 + pair % FP_SVC_ADDRS (leg a, port 0) */
#define SVC_IP_B 0xc6336401u /* 198.51.100.1 + ... (leg b, port 1) */
/* Clients, from the documentation range too: 203.0.113.1..250, 250 pairs
 * per address, told apart by UDP port (leg a even, leg b odd), so that
 * FP_MAX_PAIRS clients fit under port 65536. */
#define CLI_IP 0xcb007101u /* 203.0.113.1 */
#define CLI_ADDRS 250u
/* IPv6 legs, from 2001:db8::/32 (RFC 3849), laid out as IPv4's: the
 * relay's 2001:db8:a::1 + pair % FP_SVC_ADDRS on port 0, 2001:db8:b::1 +
 * ... on port 1; clients 2001:db8:c::1 + pair % CLI_ADDRS, the same UDP
 * ports. Only the last byte differs within each set. */
static const uint8_t svc6[2][16] = {
	{ 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 },
};
static const uint8_t cli6[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
};
_Static_assert(FP_SVC_ADDRS < 255 && CLI_ADDRS < 255, "IPv6 addresses vary in their last byte");
#define CLI_PORT_BASE 1024u
_Static_assert(CLI_PORT_BASE + (FP_MAX_PAIRS / CLI_ADDRS) * 2 + 1 <= 65535u,
	       "FP_MAX_PAIRS clients do not fit in the client ports");
#define RTP_HLEN 12
#define OPUS_MIN 60  /* Opus 20 ms payload bytes, low bitrate */
#define OPUS_MAX 160 /* and high */
/* The clients' sessions keep one stream per SSRC in a list that libsrtp2
 * searches linearly, so a pair's stream is dropped once its packets of a
 * run are protected. A fresh stream guesses rollover counter 0, which is
 * right while that leg has sent fewer than 2^16 packets (fp_schedule()
 * checks); the first KEEP_STREAMS pairs, which take every packet at small
 * P, keep their streams and may roll over. */
#define KEEP_STREAMS 64

const uint8_t fp_mac_port[2][6] = {
	{ 0x02, 0xd0, 0x00, 0x00, 0x00, 0x00 },
	{ 0x02, 0xd0, 0x00, 0x00, 0x00, 0x01 },
};
/* Every client of a leg is behind one router: the relay learns its MAC. */
static const uint8_t mac_router[2][6] = {
	{ 0x02, 0xaa, 0x00, 0x00, 0x00, 0x01 },
	{ 0x02, 0xbb, 0x00, 0x00, 0x00, 0x01 },
};

void
fp_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench_fastpath: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* xorshift64*: fast, and the same sequence for the same seed. */
static uint64_t
rnd(struct fp_traffic *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, n). */
static uint32_t
rnd_below(struct fp_traffic *t, uint32_t n)
{
	return (uint32_t)(((rnd(t) >> 32) * (uint64_t)n) >> 32);
}

void
fp_svc_addr(const struct fp_traffic *t, unsigned int leg, uint32_t pair, uint16_t port_be,
	    struct duet_addr *a)
{
	if (!t->v6[leg]) {
		duet_addr_set4(a, htonl((leg == 0 ? SVC_IP_A : SVC_IP_B) + pair % FP_SVC_ADDRS),
			       port_be);
		return;
	}
	memset(a, 0, sizeof(*a));
	a->family = DUET_AF_INET6;
	a->port = port_be;
	memcpy(a->ip, svc6[leg], 16);
	a->ip[15] = (uint8_t)(a->ip[15] + pair % FP_SVC_ADDRS);
}

uint16_t
fp_ep_port(uint32_t pair)
{
	return (uint16_t)(FP_EP_PORT_BASE + pair / FP_SVC_ADDRS);
}

static uint32_t
ssrc_of(uint32_t pair, unsigned int leg)
{
	return 0x10000000u + pair * 2 + leg;
}

void
fp_traffic_seed(struct fp_traffic *t, uint64_t seed)
{
	unsigned int i;

	memset(t, 0, sizeof(*t));
	t->rng = seed * 0x9e3779b97f4a7c15ull + 1;
	for (i = 0; i < sizeof(t->noise); i++)
		t->noise[i] = (uint8_t)rnd(t);
}

void
fp_traffic_family(struct fp_traffic *t, bool v6_a, bool v6_b)
{
	t->v6[0] = v6_a;
	t->v6[1] = v6_b;
}

void
fp_traffic_open(struct fp_traffic *t, uint32_t capacity, const struct duet_sdes *key_a,
		const struct duet_sdes *key_b)
{
	t->next_seq = calloc((size_t)capacity * 2, sizeof(*t->next_seq));
	if (t->next_seq == NULL)
		fp_die("no memory for %u pairs' clients", capacity);
	t->keyed = key_a != NULL;
	t->client[0] = t->client[1] = NULL;
	if (t->keyed && (duet_srtp_session_new(key_a, DUET_SRTP_OUTBOUND, &t->client[0]) != 0 ||
			 duet_srtp_session_new(key_b, DUET_SRTP_OUTBOUND, &t->client[1]) != 0))
		fp_die("clients' SRTP sessions for %s", duet_srtp_suite_name(key_a->suite));
}

void
fp_traffic_close(struct fp_traffic *t)
{
	free(t->next_seq);
	t->next_seq = NULL;
	duet_srtp_session_free(t->client[0]);
	duet_srtp_session_free(t->client[1]);
	t->client[0] = t->client[1] = NULL;
}

/* RTP from the client of leg `leg` of `pair`: V=2, Opus PT 111, 20 ms
 * timestamps, opus payload bytes. @return its length. */
static uint16_t
rtp_build(const struct fp_traffic *t, uint8_t *p, uint32_t pair, unsigned int leg, uint16_t seq,
	  uint16_t opus)
{
	uint32_t ts = htonl(960u * seq), ssrc = htonl(ssrc_of(pair, leg));
	uint16_t s = htons(seq);

	p[0] = 0x80;
	p[1] = 111;
	memcpy(p + 2, &s, 2);
	memcpy(p + 4, &ts, 4);
	memcpy(p + 8, &ssrc, 4);
	memcpy(p + RTP_HLEN, t->noise + (seq * 7u & 255u), opus);
	return (uint16_t)(RTP_HLEN + opus);
}

/* Protect p (len bytes of RTP, FP_PKT_MAX of room) with the leg's client
 * session. @return the SRTP length. */
static uint16_t
protect(struct fp_traffic *t, unsigned int leg, uint8_t *p, uint16_t len)
{
	int l = len;
	srtp_err_status_t st = srtp_protect(t->client[leg], p, &l);

	if (st != srtp_err_status_ok)
		fp_die("client protect: libsrtp2 status %d", (int)st);
	return (uint16_t)l;
}

static void
stream_done(struct fp_traffic *t, uint32_t pair, unsigned int leg)
{
	if (pair >= KEEP_STREAMS)
		srtp_remove_stream(t->client[leg], htonl(ssrc_of(pair, leg)));
}

uint16_t
fp_packet_next(struct fp_traffic *t, uint8_t *p, uint32_t pair, unsigned int leg, uint16_t opus)
{
	uint16_t len = rtp_build(t, p, pair, leg, t->next_seq[pair * 2 + leg]++, opus);

	if (t->keyed) {
		len = protect(t, leg, p, len);
		stream_done(t, pair, leg);
	}
	return len;
}

/* The UDP header and payload at udp, ports and length set, checksum 0. */
static void
udp_fill(struct rte_udp_hdr *udp, uint32_t pair, unsigned int leg, const uint8_t *l7, uint16_t len)
{
	udp->src_port = htons((uint16_t)(CLI_PORT_BASE + (pair / CLI_ADDRS) * 2 + leg));
	udp->dst_port = htons(fp_ep_port(pair));
	udp->dgram_len = htons((uint16_t)(8 + len));
	udp->dgram_cksum = 0;
	memcpy(udp + 1, l7, len);
}

/* Ethernet/IPv6/UDP: traffic class EF as IPv4's TOS, no flow label, hop
 * limit 64. */
static uint16_t
frame_build6(uint8_t *f, uint32_t pair, unsigned int leg, const uint8_t *l7, uint16_t len)
{
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(f + 14);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(f + 54);
	uint16_t etype = htons(RTE_ETHER_TYPE_IPV6);

	memcpy(f, fp_mac_port[leg], 6);
	memcpy(f + 6, mac_router[leg], 6);
	memcpy(f + 12, &etype, 2);
	ip->vtc_flow = htonl(6u << 28 | 0xb8u << RTE_IPV6_HDR_TC_SHIFT);
	ip->payload_len = htons((uint16_t)(8 + len));
	ip->proto = IPPROTO_UDP;
	ip->hop_limits = 64;
	memcpy(ip->src_addr, cli6, 16);
	ip->src_addr[15] = (uint8_t)(ip->src_addr[15] + pair % CLI_ADDRS);
	memcpy(ip->dst_addr, svc6[leg], 16);
	ip->dst_addr[15] = (uint8_t)(ip->dst_addr[15] + pair % FP_SVC_ADDRS);
	udp_fill(udp, pair, leg, l7, len);
	udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
	return (uint16_t)(62 + len);
}

uint16_t
fp_frame_build(const struct fp_traffic *t, uint8_t *f, uint32_t pair, unsigned int leg,
	       const uint8_t *l7, uint16_t len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + 14);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(f + 34);
	uint16_t etype = htons(RTE_ETHER_TYPE_IPV4);

	if (t->v6[leg])
		return frame_build6(f, pair, leg, l7, len);
	memcpy(f, fp_mac_port[leg], 6);
	memcpy(f + 6, mac_router[leg], 6);
	memcpy(f + 12, &etype, 2);
	ip->version_ihl = 0x45;
	ip->type_of_service = 0xb8; /* EF, as phones mark voice */
	ip->total_length = htons((uint16_t)(20 + 8 + len));
	ip->packet_id = htons((uint16_t)pair);
	ip->fragment_offset = htons(0x4000);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->hdr_checksum = 0;
	ip->src_addr = htonl(CLI_IP + pair % CLI_ADDRS);
	ip->dst_addr = htonl((leg == 0 ? SVC_IP_A : SVC_IP_B) + pair % FP_SVC_ADDRS);
	udp_fill(udp, pair, leg, l7, len);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	return (uint16_t)(42 + len);
}

/* Keyed: protect every packet of d with its client's key into t->store,
 * in sequence order per leg: a stable counting sort by leg groups them, so
 * each client stream lives only while its packets are made. */
static void
schedule_protect(struct fp_traffic *t, struct fp_desc *d, uint64_t n, uint32_t p)
{
	uint32_t *count = calloc((size_t)p * 2 + 1, sizeof(*count));
	uint32_t *order = malloc(n * sizeof(*order));
	uint64_t i;
	uint32_t k;

	t->store = malloc(n * FP_PKT_MAX);
	if (count == NULL || order == NULL || t->store == NULL)
		fp_die("no memory for %" PRIu64 " protected packets", n);
	for (i = 0; i < n; i++)
		count[d[i].pair * 2 + fp_leg_of(i) + 1]++;
	for (k = 1; k <= p * 2; k++)
		count[k] += count[k - 1];
	for (i = 0; i < n; i++)
		order[count[d[i].pair * 2 + fp_leg_of(i)]++] = (uint32_t)i;
	for (i = 0; i < n; i++) {
		uint32_t e = order[i];
		unsigned int leg = fp_leg_of(e);
		uint8_t *pkt = t->store + (size_t)e * FP_PKT_MAX;
		uint16_t len = rtp_build(t, pkt, d[e].pair, leg, d[e].seq,
					 (uint16_t)(d[e].len - RTP_HLEN));

		d[e].len = protect(t, leg, pkt, len);
		if (i + 1 == n || d[order[i + 1]].pair != d[e].pair || fp_leg_of(order[i + 1]) != leg)
			stream_done(t, d[e].pair, leg);
	}
	free(order);
	free(count);
}

struct fp_desc *
fp_schedule(struct fp_traffic *t, uint32_t p, uint64_t n)
{
	return fp_schedule_part(t, p, n, 1, 0);
}

struct fp_desc *
fp_schedule_part(struct fp_traffic *t, uint32_t p, uint64_t n, unsigned int parts,
		 unsigned int part)
{
	struct fp_desc *d = malloc(n * sizeof(*d));
	uint64_t i;

	if (d == NULL)
		fp_die("no memory for %" PRIu64 " packets", n);
	if (parts == 0 || part >= parts || p < parts || (t->keyed && parts > 1))
		fp_die("a schedule in %u parts of %" PRIu32 " pairs%s", parts, p,
		       t->keyed ? " (keyed: one part only)" : "");
	for (i = 0; i < n; i++) {
		/* The legs of this part: (pair + leg) % parts == part. */
		unsigned int off = (part + parts - fp_leg_of(i) % parts) % parts;

		d[i].pair = off + rnd_below(t, (p - off + parts - 1) / parts) * parts;
		d[i].len = (uint16_t)(RTP_HLEN + OPUS_MIN + rnd_below(t, OPUS_MAX - OPUS_MIN + 1));
		d[i].seq = t->next_seq[d[i].pair * 2 + fp_leg_of(i)]++;
		if (t->keyed && d[i].pair >= KEEP_STREAMS && d[i].seq == 0xffff)
			fp_die("pair %" PRIu32 " would roll its sequence number over: fewer packets",
			       d[i].pair);
	}
	if (t->keyed)
		schedule_protect(t, d, n, p);
	return d;
}

void
fp_schedule_free(struct fp_traffic *t, struct fp_desc *d)
{
	free(d);
	free(t->store);
	t->store = NULL;
}

const uint8_t *
fp_payload(const struct fp_traffic *t, const struct fp_desc *d, uint64_t i, uint8_t *buf)
{
	if (t->keyed)
		return t->store + (size_t)i * FP_PKT_MAX;
	rtp_build(t, buf, d[i].pair, fp_leg_of(i), d[i].seq, (uint16_t)(d[i].len - RTP_HLEN));
	return buf;
}
