/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/worker's IPv6 path (duet_worker_fp.h): pairs whose legs
 * are IPv6, pairs that bridge an IPv4 leg and an IPv6 leg, neighbour
 * discovery, ICMPv6 echo and the IPv6 source policy, on the harness's
 * net_ring ports with an IPv6 service address beside the IPv4 one
 * (one_worker_dual). IPv6 frames are built and checked here byte by byte,
 * independently of lib/pkt: every UDP and ICMPv6 checksum the relay sends
 * is verified from scratch over the IPv6 pseudo-header. Main lcore.
 */
#include <arpa/inet.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "worker_harness.h"

static const uint8_t MAC_A6[6] = {0x02, 0x0a, 0x06, 0x00, 0x00, 0x10};
static const uint8_t MAC_B6[6] = {0x02, 0x0b, 0x06, 0x00, 0x00, 0x10};
static const uint8_t MAC_GW6[6] = {0x02, 0x0b, 0x06, 0x00, 0x00, 0xfe};
static const uint8_t MAC_GW6_OTHER[6] = {0x02, 0x66, 0x66, 0x66, 0x66, 0x66};

#define CLI_A6 "2001:db8:a::10"
#define CLI_B6 "2001:db8:b::10"

/* An RTP-looking payload carrying text (the harness's, for an IPv6 source:
 * its SSRC from the port alone). */
static size_t
rtp6(uint8_t *out, const char *text)
{
	struct ep any = {0x0a0b0c0d, 1};

	return rtp_text(out, 1500, any, text);
}

static uint16_t
send_udp6(unsigned int in, const uint8_t smac[6], struct ep6 src, struct ep6 dst,
	  const char *text, uint64_t now)
{
	uint8_t f[1600], body[1500];
	size_t blen = rtp6(body, text);

	return send1(in, f, build_udp6(f, smac, MAC_PORT0, src, dst, 64, 0x28, body, blen), now);
}

/* m is text relayed as IPv6 from `from` to `to`, Ethernet smac -> dmac, with
 * the relay's hop limit and traffic class, flow label 0, and a checksum
 * right from scratch. */
static void
assert_relayed6(const struct rte_mbuf *m, const uint8_t smac[6], const uint8_t dmac[6],
		struct ep6 from, struct ep6 to, const void *payload, size_t plen)
{
	const uint8_t *f = data_of(m), *ip = f + IP6_OFF, *udp = f + UDP6_OFF;

	cr_assert_eq(m->data_len, UDP6_OFF + 8 + plen, "frame length %u", m->data_len);
	cr_assert_eq(m->pkt_len, m->data_len);
	cr_assert_arr_eq(f, dmac, 6, "destination MAC");
	cr_assert_arr_eq(f + 6, smac, 6, "source MAC");
	cr_assert_eq(get16(f + 12), 0x86dd, "ethertype %04x", get16(f + 12));
	cr_assert_eq(ip[0] >> 4, 6);
	cr_assert_eq((uint8_t)((ip[0] << 4) | (ip[1] >> 4)), H_TOS, "traffic class");
	cr_assert_eq(ip[1] & 0x0f, 0, "flow label");
	cr_assert_eq(get16(ip + 2), 0, "flow label");
	cr_assert_eq(get16(ip + 4), 8 + plen, "payload length");
	cr_assert_eq(ip[6], 17);
	cr_assert_eq(ip[7], H_TTL, "hop limit %u", ip[7]);
	cr_assert_arr_eq(ip + 8, from.ip, 16, "IPv6 source");
	cr_assert_arr_eq(ip + 24, to.ip, 16, "IPv6 destination");
	cr_assert_eq(get16(udp), from.port);
	cr_assert_eq(get16(udp + 2), to.port);
	cr_assert_eq(get16(udp + 4), 8 + plen);
	cr_assert_neq(get16(udp + 6), 0, "IPv6 UDP needs a checksum");
	cr_assert_eq(sum6(ip, 17, udp, 8 + plen), 0xffff, "UDP checksum %04x wrong",
		     get16(udp + 6));
	cr_assert_arr_eq(udp + 8, payload, plen, "payload changed");
}

/* A pair on the given endpoints (either family, leg a on port 0, leg b on
 * port 1), passthrough, relatch any, optional pin on leg b. */
static int
put_pair_eps(const char *id, const char *ep_a, const char *ep_b, const char *pin_b)
{
	struct duet_pair_spec s;
	char why[DUET_PAIR_REASON_MAX];
	int rc;

	pair_spec(&s, id, DUET_MODE_PASSTHROUGH, EP_A_PORT, EP_B_PORT);
	cr_assert_eq(duet_addr_parse(ep_a, &s.ep[0]), 0, "%s", ep_a);
	cr_assert_eq(duet_addr_parse(ep_b, &s.ep[1]), 0, "%s", ep_b);
	if (pin_b != NULL)
		cr_assert_eq(duet_addr_parse(pin_b, &s.pin[1]), 0, "%s", pin_b);
	why[0] = '\0';
	rc = duet_pair_put(H.pairs, &s, 1, NULL, why, sizeof(why));
	cr_assert_eq(rc, 0, "pair put %s: %d %s", id, rc, why);
	return duet_pair_find(H.pairs, id);
}

static uint16_t
take1(unsigned int port, struct rte_mbuf **m)
{
	uint16_t n = rx_all(port, 0, m, 1);

	cr_assert_eq(n, 1, "%u frames on port %u, want 1", n, port);
	return n;
}

TestSuite(worker_ipv6, .init = one_worker_dual, .fini = teardown);

/* The bridged pair "br" (leg a on IPv4 192.0.2.1:20000, leg b on IPv6
 * [SVC1_6]:20002) with both legs latched, nothing left on the ports. */
static void
bridge_latched(void)
{
	struct ep6 b = ep6(CLI_B6, 5000), epb = ep6(SVC1_6, EP_B_PORT);
	struct ep epa4 = {SVC0, EP_A_PORT};

	cr_assert_geq(put_pair_eps("br", "192.0.2.1:20000", "[" SVC1_6 "]:20002", NULL), 0);
	cr_assert_eq(send_udp(0, MAC_A, cli_a, epa4, 64, "latch", T0), 0);
	cr_assert_eq(send_udp6(1, MAC_B6, b, epb, "latch", T0 + 1), 1);
	rx_discard(0, 0);
}

Test(worker_ipv6, an_ipv6_pair_relays_both_ways_under_the_relays_header)
{
	struct ep6 a = ep6(CLI_A6, 4000), b = ep6(CLI_B6, 5000);
	struct ep6 epa = ep6(SVC0_6, EP_A_PORT), epb = ep6(SVC1_6, EP_B_PORT);
	uint8_t body[1500];
	size_t blen;
	struct rte_mbuf *m;
	int slot = put_pair_eps("v6", "[" SVC0_6 "]:20000", "[" SVC1_6 "]:20002", NULL);

	cr_assert_geq(slot, 0);
	/* Leg b waits: A's first packet latches leg a and goes nowhere. */
	cr_assert_eq(send_udp6(0, MAC_A6, a, epa, "hello b", T0), 0);
	cr_assert_eq(H.workers[0].stats->drops[DUET_DROP_PEER_UNLATCHED], 1);
	cr_assert_eq(send_udp6(1, MAC_B6, b, epb, "hello a", T0 + 1), 1);
	take1(0, &m);
	blen = rtp6(body, "hello a");
	assert_relayed6(m, MAC_PORT0, MAC_A6, epa, a, body, blen);
	rte_pktmbuf_free(m);
	cr_assert_eq(send_udp6(0, MAC_A6, a, epa, "again b", T0 + 2), 1);
	take1(1, &m);
	blen = rtp6(body, "again b");
	assert_relayed6(m, MAC_PORT1, MAC_B6, epb, b, body, blen);
	rte_pktmbuf_free(m);
	cr_assert_eq(H.workers[0].stats->latched, 2);
	/* Stats show the client of each leg in its family. */
	{
		struct duet_addr c;

		cr_assert(duet_pair_leg_client(H.pairs, (uint32_t)slot, 1, &c));
		cr_assert_eq(c.family, DUET_AF_INET6);
		cr_assert_arr_eq(c.ip, b.ip, 16);
	}
}

Test(worker_ipv6, a_bridged_pair_turns_ipv4_into_ipv6_and_back)
{
	struct ep6 b = ep6(CLI_B6, 5000), epb = ep6(SVC1_6, EP_B_PORT);
	struct ep epa4 = {SVC0, EP_A_PORT};
	uint8_t body[1500];
	size_t blen;
	struct rte_mbuf *m;

	cr_assert_geq(put_pair_eps("br", "192.0.2.1:20000", "[" SVC1_6 "]:20002", NULL), 0);
	cr_assert_eq(send_udp(0, MAC_A, cli_a, epa4, 64, "from a", T0), 0);
	/* IPv6 in, IPv4 out. */
	cr_assert_eq(send_udp6(1, MAC_B6, b, epb, "from b", T0 + 1), 1);
	take1(0, &m);
	blen = rtp6(body, "from b");
	assert_relayed(m, MAC_PORT0, MAC_A, epa4, cli_a, H_TTL, body, blen);
	rte_pktmbuf_free(m);
	/* IPv4 in, IPv6 out: the header grew by 20 bytes into the headroom. */
	cr_assert_eq(send_udp(0, MAC_A, cli_a, epa4, 64, "to b", T0 + 2), 1);
	take1(1, &m);
	blen = rtp_text(body, sizeof(body), cli_a, "to b");
	assert_relayed6(m, MAC_PORT1, MAC_B6, epb, b, body, blen);
	cr_assert_eq(H.workers[0].stats->fwd_pkts, 2);
	rte_pktmbuf_free(m);
}

Test(worker_ipv6, an_ipv4_datagram_without_checksum_gets_one_toward_ipv6)
{
	struct ep6 b = ep6(CLI_B6, 5000), epb = ep6(SVC1_6, EP_B_PORT);
	struct ep epa4 = {SVC0, EP_A_PORT};
	uint8_t f[1600], body[1500];
	size_t blen = rtp_text(body, sizeof(body), cli_a, "no sum"), len;
	struct rte_mbuf *m;

	bridge_latched();
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, epa4, 64, body, blen);
	put16(f + L4_OFF + 6, 0); /* RFC 768: "no checksum", legal in IPv4 */
	cr_assert_eq(send1(0, f, len, T0 + 2), 1);
	take1(1, &m);
	assert_relayed6(m, MAC_PORT1, MAC_B6, epb, b, body, blen);
	rte_pktmbuf_free(m);
}

Test(worker_ipv6, a_corrupted_payload_stays_detectably_corrupt_across_families)
{
	struct ep epa4 = {SVC0, EP_A_PORT};
	uint8_t f[1600], body[1500];
	size_t blen = rtp_text(body, sizeof(body), cli_a, "to be bent"), len;
	struct rte_mbuf *m;
	const uint8_t *ip;

	bridge_latched();
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, epa4, 64, body, blen);
	f[PAYLOAD_OFF + 20] ^= 0x10; /* bent on the way, after the sender's sum */
	cr_assert_eq(send1(0, f, len, T0 + 2), 1);
	take1(1, &m);
	ip = data_of(m) + IP6_OFF;
	cr_assert_neq(sum6(ip, 17, ip + 40, 8 + blen), 0xffff,
		      "the bridge must not bless a corrupted payload with a fresh checksum");
	rte_pktmbuf_free(m);
}

Test(worker_ipv6, no_room_in_front_for_the_ipv6_header_is_counted)
{
	struct ep epa4 = {SVC0, EP_A_PORT};
	uint8_t f[1600], body[1500];
	size_t blen = rtp_text(body, sizeof(body), cli_a, "tight"), len;
	struct rte_mbuf *m;

	bridge_latched();
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, epa4, 64, body, blen);
	m = rte_pktmbuf_alloc(H.mp);
	cr_assert_not_null(m);
	m->data_off = 10; /* less than the 20 bytes IPv6 needs more */
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), f, len);
	cr_assert_eq(burst_on(0, 0, &m, 1, T0 + 2), 0);
	cr_assert_eq(H.workers[0].stats->drops[DUET_DROP_NO_HEADROOM], 1);
	cr_assert_eq(rx_all(1, 0, &m, 1), 0);
}

Test(worker_ipv6, a_pinned_ipv6_peer_is_reached_through_gateway6_once_learnt)
{
	struct ep6 a = ep6(CLI_A6, 4000), epa = ep6(SVC0_6, EP_A_PORT);
	struct ep6 far = ep6("2001:db8:ffff::5", 5000), epb = ep6(SVC1_6, EP_B_PORT);
	uint8_t body[1500];
	size_t blen = rtp6(body, "via gw");
	struct rte_mbuf *m;

	cr_assert_geq(put_pair_eps("gw", "[" SVC0_6 "]:20000", "[" SVC1_6 "]:20002",
				   "[2001:db8:ffff::5]:5000"),
		      0);
	/* No gateway6 MAC yet: nowhere to send. */
	cr_assert_eq(send_udp6(0, MAC_A6, a, epa, "via gw", T0), 0);
	cr_assert_eq(H.workers[0].stats->drops[DUET_DROP_NO_NEXT_HOP], 1);
	/* The IPv4 gateway's MAC is not the IPv6 one's. */
	duet_port_set_gateway_mac(&H.ports[1], MAC_GW1);
	cr_assert_eq(send_udp6(0, MAC_A6, a, epa, "via gw", T0 + 1), 0);
	cr_assert_eq(H.workers[0].stats->drops[DUET_DROP_NO_NEXT_HOP], 2);
	duet_port_set_gateway6_mac(&H.ports[1], MAC_GW6);
	cr_assert_eq(send_udp6(0, MAC_A6, a, epa, "via gw", T0 + 2), 1);
	take1(1, &m);
	assert_relayed6(m, MAC_PORT1, MAC_GW6, epb, far, body, blen);
	rte_pktmbuf_free(m);
}

/* ---- neighbour discovery ------------------------------------------------- */

/* A neighbour solicitation or advertisement (type 135/136) from src to dst
 * for target, with a link-layer option (type opt: 1 source, 2 target; 0
 * none) carrying mac, hop limit hops, flags byte for an advertisement. */
static size_t
build_nd(uint8_t *f, uint8_t type, const uint8_t smac[6], const uint8_t dmac[6], const char *src,
	 const char *dst, const char *target, uint8_t opt, const uint8_t mac[6], uint8_t hops,
	 uint8_t flags)
{
	uint8_t *ip = f + IP6_OFF, *icmp = f + UDP6_OFF;
	size_t n = opt != 0 ? 32 : 24;

	put_eth(f, dmac, smac, 0x86dd);
	memset(ip, 0, 40 + n);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)n);
	ip[6] = 58;
	ip[7] = hops;
	cr_assert_eq(inet_pton(AF_INET6, src, ip + 8), 1);
	cr_assert_eq(inet_pton(AF_INET6, dst, ip + 24), 1);
	icmp[0] = type;
	icmp[4] = flags;
	cr_assert_eq(inet_pton(AF_INET6, target, icmp + 8), 1);
	if (opt != 0) {
		icmp[24] = opt;
		icmp[25] = 1;
		memcpy(icmp + 26, mac, 6);
	}
	put16(icmp + 2, (uint16_t)~sum6(ip, 58, icmp, n));
	return UDP6_OFF + n;
}

static const uint8_t MAC_SNM1[6] = {0x33, 0x33, 0xff, 0x00, 0x00, 0x01};

Test(worker_ipv6, a_solicitation_to_the_solicited_node_group_is_answered)
{
	uint8_t f[200], ours[16], them[16];
	struct rte_mbuf *m;
	const uint8_t *ip, *icmp;
	size_t len = build_nd(f, 135, MAC_A6, MAC_SNM1, CLI_A6, "ff02::1:ff00:1", SVC0_6, 1,
			      MAC_A6, 255, 0);

	cr_assert_eq(send1(0, f, len, T0), 0);
	cr_assert_eq(H.workers[0].stats->nd_replies, 1);
	take1(0, &m);
	ip = data_of(m) + IP6_OFF;
	icmp = ip + 40;
	inet_pton(AF_INET6, SVC0_6, ours);
	inet_pton(AF_INET6, CLI_A6, them);
	cr_assert_eq(m->data_len, 14 + 40 + 32);
	cr_assert_arr_eq(data_of(m), MAC_A6, 6, "to the solicitor's link-layer address");
	cr_assert_arr_eq(data_of(m) + 6, MAC_PORT0, 6);
	cr_assert_eq(ip[7], 255, "NDP always leaves with hop limit 255");
	cr_assert_arr_eq(ip + 8, ours, 16);
	cr_assert_arr_eq(ip + 24, them, 16);
	cr_assert_eq(icmp[0], 136);
	cr_assert_eq(icmp[1], 0);
	cr_assert_eq(icmp[4], 0x60, "solicited and override, not router");
	cr_assert_arr_eq(icmp + 8, ours, 16, "target");
	cr_assert_eq(icmp[24], 2, "target link-layer address option");
	cr_assert_eq(icmp[25], 1);
	cr_assert_arr_eq(icmp + 26, MAC_PORT0, 6);
	cr_assert_eq(sum6(ip, 58, icmp, 32), 0xffff, "ICMPv6 checksum");
	rte_pktmbuf_free(m);
}

Test(worker_ipv6, a_duplicate_address_probe_is_answered_to_all_nodes)
{
	uint8_t f[200];
	struct rte_mbuf *m;
	const uint8_t *ip;
	static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
	size_t len = build_nd(f, 135, MAC_A6, MAC_SNM1, "::", "ff02::1:ff00:1", SVC0_6, 0,
			      NULL, 255, 0);

	cr_assert_eq(send1(0, f, len, T0), 0);
	take1(0, &m);
	ip = data_of(m) + IP6_OFF;
	cr_assert_arr_eq(data_of(m), all_nodes_mac, 6);
	cr_assert_eq(ip[24], 0xff);
	cr_assert_eq(ip[39], 1);
	cr_assert_eq(ip[40 + 4], 0x20, "to all nodes: override only, never solicited");
	cr_assert_eq(sum6(ip, 58, ip + 40, 32), 0xffff);
	rte_pktmbuf_free(m);
}

Test(worker_ipv6, solicitations_that_are_not_ours_or_not_valid_are_counted)
{
	uint8_t f[200];
	size_t len;

	len = build_nd(f, 135, MAC_A6, MAC_SNM1, CLI_A6, "ff02::1:ff00:99", "2001:db8:a::99", 1,
		       MAC_A6, 255, 0);
	expect_drop(0, f, len, T0, DUET_DROP_NDP_OTHER);
	/* Routed from elsewhere: RFC 4861 says drop. */
	len = build_nd(f, 135, MAC_A6, MAC_SNM1, CLI_A6, "ff02::1:ff00:1", SVC0_6, 1, MAC_A6,
		       254, 0);
	expect_drop(0, f, len, T0, DUET_DROP_NDP_BAD);
	len = build_nd(f, 135, MAC_A6, MAC_SNM1, CLI_A6, "ff02::1:ff00:1", SVC0_6, 1, MAC_A6,
		       255, 0);
	f[UDP6_OFF + 10] ^= 1; /* checksum no longer matches */
	expect_drop(0, f, len, T0, DUET_DROP_NDP_BAD);
	/* The IPv4 service address's port answers only for its IPv6 ones. */
	len = build_nd(f, 135, MAC_A6, MAC_SNM1, CLI_A6, "ff02::1:ff00:1", SVC1_6, 1, MAC_A6,
		       255, 0);
	expect_drop(0, f, len, T0, DUET_DROP_NDP_OTHER);
	cr_assert_eq(H.workers[0].stats->nd_replies, 0);
}

Test(worker_ipv6, a_solicitation_cannot_aim_the_answer_off_the_link)
{
	static const uint8_t group[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
	uint8_t f[200];
	struct rte_mbuf *m;
	size_t len;

	/* From one of the relay's own addresses: a loop. */
	len = build_nd(f, 135, MAC_A6, MAC_SNM1, SVC1_6, "ff02::1:ff00:1", SVC0_6, 1, MAC_A6, 255,
		       0);
	expect_drop(0, f, len, T0, DUET_DROP_SRC_DENIED);
	/* From a multicast source. */
	len = build_nd(f, 135, MAC_A6, MAC_SNM1, "ff02::1", "ff02::1:ff00:1", SVC0_6, 1, MAC_A6,
		       255, 0);
	expect_drop(0, f, len, T0, DUET_DROP_NDP_BAD);
	/* Asking for the answer to go to an Ethernet group address. */
	len = build_nd(f, 135, MAC_A6, MAC_SNM1, CLI_A6, "ff02::1:ff00:1", SVC0_6, 1, group, 255,
		       0);
	expect_drop(0, f, len, T0, DUET_DROP_NDP_BAD);
	cr_assert_eq(H.workers[0].stats->nd_replies, 0);
	/* A host on the link asking from its link-local address is answered. */
	len = build_nd(f, 135, MAC_A6, MAC_SNM1, "fe80::10", "ff02::1:ff00:1", SVC0_6, 1, MAC_A6,
		       255, 0);
	cr_assert_eq(send1(0, f, len, T0), 0);
	cr_assert_eq(H.workers[0].stats->nd_replies, 1);
	take1(0, &m);
	rte_pktmbuf_free(m);
}

Test(worker_ipv6, a_gateway_answer_naming_an_unusable_mac_teaches_nothing)
{
	uint8_t f[200], mac[6];
	size_t len;

	duet_port_nd_asked(&H.ports[1], T0 + 1000000);
	/* Our own MAC: traffic would loop back to us. */
	len = build_nd(f, 136, MAC_GW6, MAC_PORT1, GW1_6, SVC1_6, GW1_6, 2, MAC_PORT1, 255, 0x60);
	expect_drop(1, f, len, T0, DUET_DROP_NDP_UNSOLICITED);
	/* Broadcast: every IPv6 packet flooded on the link. */
	len = build_nd(f, 136, MAC_GW6, MAC_PORT1, GW1_6, SVC1_6, GW1_6, 2, MAC_BCAST, 255, 0x60);
	expect_drop(1, f, len, T0, DUET_DROP_NDP_BAD);
	cr_assert_not(duet_port_gateway_mac_of(&H.ports[1], DUET_AF_INET6, mac));
	/* The window is still open for the real answer. */
	len = build_nd(f, 136, MAC_GW6, MAC_PORT1, GW1_6, SVC1_6, GW1_6, 2, MAC_GW6, 255, 0x60);
	cr_assert_eq(send1(1, f, len, T0 + 1), 0);
	cr_assert(duet_port_gateway_mac_of(&H.ports[1], DUET_AF_INET6, mac));
	cr_assert_arr_eq(mac, MAC_GW6, 6);
}

Test(worker_ipv6, the_ipv6_gateway_is_learnt_only_from_an_answer_to_our_solicitation)
{
	uint8_t f[200], mac[6];
	size_t len;

	/* Unasked: moves nothing. */
	len = build_nd(f, 136, MAC_GW6_OTHER, MAC_PORT1, GW1_6, SVC1_6, GW1_6, 2, MAC_GW6_OTHER,
		       255, 0x60);
	expect_drop(1, f, len, T0, DUET_DROP_NDP_UNSOLICITED);
	cr_assert_not(duet_port_gateway_mac_of(&H.ports[1], DUET_AF_INET6, mac));
	/* Asked: the answer is learnt once. */
	duet_port_nd_asked(&H.ports[1], T0 + 1000000);
	len = build_nd(f, 136, MAC_GW6_OTHER, MAC_PORT1, GW1_6, SVC1_6, GW1_6, 2, MAC_GW6, 255,
		       0x40);
	cr_assert_eq(send1(1, f, len, T0 + 1), 0);
	cr_assert_eq(H.workers[0].stats->nd_learned, 1);
	cr_assert(duet_port_gateway_mac_of(&H.ports[1], DUET_AF_INET6, mac));
	cr_assert_arr_eq(mac, MAC_GW6, 6, "the target link-layer option, not the frame's source");
	/* A second answer to the same solicitation is a spoofer's. */
	len = build_nd(f, 136, MAC_GW6_OTHER, MAC_PORT1, GW1_6, SVC1_6, GW1_6, 2, MAC_GW6_OTHER,
		       255, 0x60);
	expect_drop(1, f, len, T0 + 2, DUET_DROP_NDP_UNSOLICITED);
	cr_assert(duet_port_gateway_mac_of(&H.ports[1], DUET_AF_INET6, mac));
	cr_assert_arr_eq(mac, MAC_GW6, 6);
	/* Inside a window, an advertisement without the solicited flag does
	 * not answer anything either. */
	duet_port_nd_asked(&H.ports[1], T0 + 1000000);
	len = build_nd(f, 136, MAC_GW6_OTHER, MAC_PORT1, GW1_6, SVC1_6, GW1_6, 2, MAC_GW6_OTHER,
		       255, 0x20);
	expect_drop(1, f, len, T0 + 3, DUET_DROP_NDP_UNSOLICITED);
	cr_assert_arr_eq(mac, MAC_GW6, 6);
	/* Nor one for another target. */
	len = build_nd(f, 136, MAC_GW6_OTHER, MAC_PORT1, GW1_6, SVC1_6, "fe80::77", 2,
		       MAC_GW6_OTHER, 255, 0x60);
	expect_drop(1, f, len, T0 + 4, DUET_DROP_NDP_OTHER);
}

Test(worker_ipv6, an_echo_request_to_our_ipv6_address_is_answered)
{
	uint8_t f[200], ours[16], them[16];
	uint8_t *ip = f + IP6_OFF, *icmp = f + UDP6_OFF;
	struct rte_mbuf *m;
	const uint8_t *rip;

	put_eth(f, MAC_PORT0, MAC_A6, 0x86dd);
	memset(ip, 0, 40 + 16);
	ip[0] = 0x60;
	put16(ip + 4, 16);
	ip[6] = 58;
	ip[7] = 64;
	inet_pton(AF_INET6, CLI_A6, them);
	inet_pton(AF_INET6, SVC0_6, ours);
	memcpy(ip + 8, them, 16);
	memcpy(ip + 24, ours, 16);
	icmp[0] = 128;
	put16(icmp + 4, 0x1234);
	put16(icmp + 6, 7);
	memcpy(icmp + 8, "pingping", 8);
	put16(icmp + 2, (uint16_t)~sum6(ip, 58, icmp, 16));
	cr_assert_eq(send1(0, f, UDP6_OFF + 16, T0), 0);
	cr_assert_eq(H.workers[0].stats->icmp_replies, 1);
	take1(0, &m);
	rip = data_of(m) + IP6_OFF;
	cr_assert_arr_eq(data_of(m), MAC_A6, 6);
	cr_assert_arr_eq(rip + 8, ours, 16);
	cr_assert_arr_eq(rip + 24, them, 16);
	cr_assert_eq(rip[40], 129);
	cr_assert_eq(get16(rip + 40 + 4), 0x1234);
	cr_assert_arr_eq(rip + 48, "pingping", 8);
	cr_assert_eq(sum6(rip, 58, rip + 40, 16), 0xffff, "echo reply checksum");
	rte_pktmbuf_free(m);
}

Test(worker_ipv6, martian_ipv6_sources_never_latch_a_leg)
{
	static const char *const srcs[] = {
		"::", "::1", "ff02::1", "fe80::1", "::ffff:192.0.2.10", SVC1_6,
	};
	struct ep6 epa = ep6(SVC0_6, EP_A_PORT);
	uint8_t f[1600], body[1500];
	size_t blen = rtp6(body, "martian"), i;
	int slot = put_pair_eps("m", "[" SVC0_6 "]:20000", "[" SVC1_6 "]:20002", NULL);

	for (i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		size_t len = build_udp6(f, MAC_A6, MAC_PORT0, ep6(srcs[i], 4000), epa, 64, 0, body,
					blen);

		expect_drop(0, f, len, T0 + i, DUET_DROP_SRC_DENIED);
	}
	cr_assert_eq(leg_client(slot, 0).port, 0, "no martian latched leg a");
	cr_assert_eq(H.workers[0].stats->latched, 0);
}

Test(worker_ipv6, ipv6_extension_headers_are_dropped_by_reason)
{
	struct ep6 a = ep6(CLI_A6, 4000), epa = ep6(SVC0_6, EP_A_PORT);
	uint8_t f[1600], g[1600], body[1500];
	size_t blen = rtp6(body, "ext"), len;

	cr_assert_geq(put_pair_eps("x", "[" SVC0_6 "]:20000", "[" SVC1_6 "]:20002", NULL), 0);
	len = build_udp6(f, MAC_A6, MAC_PORT0, a, epa, 64, 0, body, blen);
	/* The same datagram behind an 8-byte extension header of type t. */
	for (unsigned int t = 0; t < 3; t++) {
		static const uint8_t type[] = {43, 44, 60};
		static const enum duet_drop why[] = {DUET_DROP_IP6_EXT, DUET_DROP_IP_FRAG,
						     DUET_DROP_IP6_EXT};

		memcpy(g, f, UDP6_OFF);
		memset(g + UDP6_OFF, 0, 8);
		g[UDP6_OFF] = 17;
		memcpy(g + UDP6_OFF + 8, f + UDP6_OFF, len - UDP6_OFF);
		g[IP6_OFF + 6] = type[t];
		put16(g + IP6_OFF + 4, (uint16_t)(get16(g + IP6_OFF + 4) + 8));
		expect_drop(0, g, len + 8, T0 + t, why[t]);
	}
	/* A payload length past the frame. */
	put16(f + IP6_OFF + 4, (uint16_t)(get16(f + IP6_OFF + 4) + 1));
	expect_drop(0, f, len, T0 + 5, DUET_DROP_IP_LEN);
}

Test(worker_ipv6, a_pinned_on_link_client_is_asked_for_and_reached_before_it_speaks)
{
	struct ep6 a = ep6(CLI_A6, 4000), epa = ep6(SVC0_6, EP_A_PORT);
	struct ep6 b = ep6(CLI_B6, 5000), epb = ep6(SVC1_6, EP_B_PORT);
	struct duet_pair_pin_ref pins[4];
	struct rte_ring *ring = rte_ring_create("wt_nd", 64, (int)rte_socket_id(), 0);
	struct duet_pkt_info pi;
	struct rte_mbuf *m;
	uint8_t f[200], body[1500];
	size_t len, blen = rtp6(body, "before b spoke");
	int slot, e;

	cr_assert_not_null(ring);
	slot = put_pair_eps("onlink", "[" SVC0_6 "]:20000", "[" SVC1_6 "]:20002",
			    "[" CLI_B6 "]:5000");
	/* The pin is handed out once, with the port that reaches it. */
	cr_assert_eq(duet_pair_pins_take(H.pairs, pins, 4), 1);
	cr_assert_eq(pins[0].slot, (uint32_t)slot);
	cr_assert_eq(pins[0].leg, 1);
	cr_assert_eq(pins[0].port_idx, 1);
	cr_assert_eq(duet_pair_pins_take(H.pairs, pins, 4), 0);
	cr_assert(duet_port_onlink6(&H.ports[1], b.ip));
	cr_assert_not(duet_port_onlink6(&H.ports[1], ep6("2001:db8:ffff::5", 1).ip));
	/* The control thread's question: a solicitation for B from our
	 * address on B's /64. */
	e = duet_port_nd_want(&H.ports[1], 1, H.mp, ring, b.ip);
	cr_assert_geq(e, 0);
	/* A second leg pinned to B shares the question: no second one. */
	cr_assert_eq(duet_port_nd_want(&H.ports[1], 1, H.mp, ring, b.ip), e);
	cr_assert_eq(rte_ring_count(ring), 1);
	cr_assert_eq(rte_ring_dequeue(ring, (void **)&m), 0);
	cr_assert_eq(duet_pkt_parse(data_of(m), m->data_len, 0, &pi), 0);
	cr_assert_eq(pi.kind, DUET_PKT_NDP_NS);
	cr_assert_arr_eq(data_of(m) + pi.nd_target, b.ip, 16);
	cr_assert_arr_eq(pi.src.ip, epb.ip, 16);
	rte_pktmbuf_free(m);
	/* Before the answer, A's packet has nowhere to go (no gateway6 MAC). */
	cr_assert_eq(send_udp6(0, MAC_A6, a, epa, "before b spoke", T0), 0);
	cr_assert_eq(H.workers[0].stats->drops[DUET_DROP_NO_NEXT_HOP], 1);
	/* B's answer is taken once... */
	len = build_nd(f, 136, MAC_B6, MAC_PORT1, CLI_B6, SVC1_6, CLI_B6, 2, MAC_B6, 255, 0x60);
	cr_assert_eq(send1(1, f, len, T0 + 1), 0);
	cr_assert_eq(H.workers[0].stats->nd_learned, 1);
	cr_assert_neq(H.ports[1].nd_wants[e].mac_word, 0);
	expect_drop(1, f, len, T0 + 2, DUET_DROP_NDP_OTHER);
	/* ...and the control thread writes it into the leg. */
	{
		struct duet_addr c;

		cr_assert_eq(duet_addr_parse("[" CLI_B6 "]:1", &c), 0);
		cr_assert_eq(duet_pair_learn_hop(H.pairs, pins[0].slot, 1, &c, MAC_B6), 0);
		cr_assert_eq(duet_pair_learn_hop(H.pairs, pins[0].slot, 1, &c, MAC_B6), -ESTALE,
			     "a MAC already known is kept");
	}
	cr_assert_eq(send_udp6(0, MAC_A6, a, epa, "before b spoke", T0 + 3), 1);
	take1(1, &m);
	assert_relayed6(m, MAC_PORT1, MAC_B6, epb, b, body, blen);
	rte_pktmbuf_free(m);
	rte_ring_free(ring);
}

Test(worker_ipv6, an_unasked_or_late_client_advertisement_teaches_nothing)
{
	struct ep6 b = ep6(CLI_B6, 5000);
	struct rte_ring *ring = rte_ring_create("wt_nd2", 64, (int)rte_socket_id(), 0);
	struct rte_mbuf *m;
	uint8_t f[200];
	size_t len;
	int e;

	cr_assert_not_null(ring);
	len = build_nd(f, 136, MAC_B6, MAC_PORT1, CLI_B6, SVC1_6, CLI_B6, 2, MAC_B6, 255, 0x60);
	expect_drop(1, f, len, T0, DUET_DROP_NDP_OTHER);
	e = duet_port_nd_want(&H.ports[1], 1, H.mp, ring, b.ip);
	cr_assert_geq(e, 0);
	while (rte_ring_dequeue(ring, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	/* Past the window (the entry's deadline is a real TSC). */
	expect_drop(1, f, len, H.ports[1].nd_wants[e].until + 1, DUET_DROP_NDP_OTHER);
	/* Unsolicited (no S flag) inside it. */
	len = build_nd(f, 136, MAC_B6, MAC_PORT1, CLI_B6, SVC1_6, CLI_B6, 2, MAC_B6, 255, 0x20);
	expect_drop(1, f, len, H.ports[1].nd_wants[e].until - 1, DUET_DROP_NDP_OTHER);
	cr_assert_eq(H.ports[1].nd_wants[e].mac_word, 0);
	cr_assert_eq(H.workers[0].stats->nd_learned, 0);
	/* Asked again: a new window, a new question, one more try. */
	cr_assert_eq(duet_port_nd_again(&H.ports[1], (unsigned int)e, 1, H.mp, ring), 0);
	cr_assert_eq(H.ports[1].nd_wants[e].tries, 2);
	cr_assert_eq(rte_ring_count(ring), 1);
	while (rte_ring_dequeue(ring, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(ring);
}
