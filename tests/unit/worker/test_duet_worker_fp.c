/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/worker/duet_worker_fp.h: what duet_worker_burst() does
 * with the frames of one burst. Frames are built by hand (worker_harness.c,
 * own checksum code), handed to the burst function as if received on a
 * net_ring port, and whatever the worker transmits is read back from the
 * ports' rx side. Every test also checks the accounting identity after each
 * burst. The last tests run two workers on two lcores against one pair.
 */
#include <inttypes.h>
#include <string.h>

#include <criterion/criterion.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include "worker_harness.h"

static struct duet_lcore_stats *
stats0(void)
{
	return H.workers[0].stats;
}

/* ---- the relay ---------------------------------------------------------- */

Test(worker_fp, relays_both_ways_once_both_legs_latched, .init = one_worker, .fini = teardown)
{
	static const char pa[] = "A: twenty ms of opus, odd length";
	static const char pb[] = "B: an even-length payload!";
	struct rte_mbuf *out[4];
	struct duet_leg_counters la, lb;
	int slot = put_default_pair();

	/* A speaks first: leg a latches, but leg b has nobody to send to. */
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, pa, T0), 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_PEER_UNLATCHED], 1);
	cr_assert_eq(stats0()->latched, 1);
	la = leg_counters(slot, 0);
	cr_assert_eq(la.drop_peer_unlatched, 1);
	cr_assert_eq(la.pkts, 0);
	cr_assert_eq(leg_client(slot, 0).ip, CLI_A);
	cr_assert_eq(leg_client(slot, 0).port, CLI_A_PORT);
	cr_assert_eq(leg_client(slot, 1).ip, 0, "leg b latched without a packet");
	cr_assert_eq(rx_all(0, 0, out, 4), 0);
	cr_assert_eq(rx_all(1, 0, out, 4), 0);

	/* B: relayed out of port 0, from leg a's endpoint to A, to A's MAC. */
	cr_assert_eq(send_udp(1, MAC_B, cli_b, ep_b, 64, pb, T0 + 1), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 0, "relayed back out of the port it came in on");
	cr_assert_eq(rx_all(0, 0, out, 4), 1);
	assert_relayed_text(out[0], MAC_PORT0, MAC_A, ep_a, cli_a, cli_b, pb);
	cr_assert_not(frame_mentions_ip(out[0], CLI_B), "B's address leaked toward A");
	rte_pktmbuf_free(out[0]);

	/* A again: now relayed to B. */
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, pa, T0 + 2), 1);
	cr_assert_eq(rx_all(0, 0, out, 4), 0);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	assert_relayed_text(out[0], MAC_PORT1, MAC_B, ep_b, cli_b, cli_a, pa);
	cr_assert_not(frame_mentions_ip(out[0], CLI_A), "A's address leaked toward B");
	rte_pktmbuf_free(out[0]);

	la = leg_counters(slot, 0);
	lb = leg_counters(slot, 1);
	cr_assert_eq(la.pkts, 1);
	cr_assert_eq(la.bytes, 12 + strlen(pa));
	cr_assert_eq(lb.pkts, 1);
	cr_assert_eq(lb.bytes, 12 + strlen(pb));
	cr_assert_eq(la.drop_src + lb.drop_src + lb.drop_peer_unlatched, 0);
	cr_assert_eq(stats0()->fwd_pkts, 2);
	cr_assert_eq(stats0()->fwd_bytes, 24 + strlen(pa) + strlen(pb));
	cr_assert_eq(stats0()->latched, 2);
	cr_assert_eq(stats0()->rx_pkts, 3);
}

Test(worker_fp, the_relayed_frame_carries_the_relays_ttl_not_the_senders, .init = one_worker,
     .fini = teardown)
{
	struct rte_mbuf *out[4];

	latch_both(put_default_pair(), T0);
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 2, "x", T0 + 1), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	assert_relayed_text(out[0], MAC_PORT1, MAC_B, ep_b, cli_b, cli_a, "x");
	rte_pktmbuf_free(out[0]);
}

Test(worker_fp, ip_options_and_bytes_past_the_ip_length_are_not_relayed, .init = one_worker, .fini = teardown)
{
	uint8_t f[128], *ip = f + IP_OFF;
	struct rte_mbuf *out[4];
	const uint8_t *o;

	latch_both(put_default_pair(), T0);
	/* Rebuild A's datagram with a 4-byte option (NOP NOP NOP EOL) and pad
	 * the frame to the Ethernet minimum, as a NIC hands it over. */
	put_eth(f, MAC_PORT0, MAC_A, 0x0800);
	put_ip4(ip, 17, CLI_A, SVC0, 64, 8 + 3);
	ip[0] = 0x46;
	put16(ip + 2, 24 + 8 + 3);
	memcpy(ip + 20, "\x01\x01\x01\x00", 4);
	ip_cksum_fix(ip);
	put16(ip + 24, CLI_A_PORT);
	put16(ip + 26, EP_A_PORT);
	put16(ip + 28, 8 + 3);
	memcpy(ip + 32, "opt", 3);
	udp_cksum_fix(ip);
	memset(f + 49, 0, 60 - 49);
	cr_assert_eq(send1(0, f, 60, T0 + 1), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	o = data_of(out[0]);
	/* The far side sees the relay's 20-byte header and the datagram,
	 * not the sender's options or what trailed the IP packet. */
	cr_assert_eq(o[IP_OFF], 0x45, "IPv4 options relayed");
	cr_assert_eq(out[0]->data_len, IP_OFF + 20 + 8 + 3, "frame length %u", out[0]->data_len);
	cr_assert_eq(get16(o + IP_OFF + 2), 20 + 8 + 3);
	cr_assert(ip_cksum_ok(o + IP_OFF));
	cr_assert(udp_cksum_ok(o + IP_OFF));
	cr_assert_eq(get32(o + IP_OFF + 16), CLI_B);
	cr_assert_eq(get16(o + IP_OFF + 20), EP_B_PORT);
	cr_assert_eq(get16(o + IP_OFF + 22), CLI_B_PORT);
	cr_assert_arr_eq(o + IP_OFF + 28, "opt", 3);
	rte_pktmbuf_free(out[0]);
}

Test(worker_fp, a_zero_udp_checksum_stays_zero, .init = one_worker, .fini = teardown)
{
	uint8_t f[128];
	struct rte_mbuf *out[4];
	size_t len;

	latch_both(put_default_pair(), T0);
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 64, "no checksum", 11);
	put16(f + L4_OFF + 6, 0);
	cr_assert_eq(send1(0, f, len, T0 + 1), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	cr_assert_eq(get16(data_of(out[0]) + L4_OFF + 6), 0,
		     "checksum invented for a datagram sent without one");
	cr_assert(ip_cksum_ok(data_of(out[0]) + IP_OFF));
	cr_assert_eq(get32(data_of(out[0]) + IP_OFF + 16), CLI_B);
	rte_pktmbuf_free(out[0]);
}

Test(worker_fp, with_ip_checksum_offload_the_nic_is_asked_to_fill_it, .init = one_worker,
     .fini = teardown)
{
	struct rte_mbuf *out[4];
	const uint8_t *ip;

	latch_both(put_default_pair(), T0);
	/* net_ring has no checksum offload; pretend port 1 has. */
	H.ports[1].ip_cksum_offload = 1;
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, "offload", T0 + 1), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	ip = data_of(out[0]) + IP_OFF;
	cr_assert_eq(get16(ip + 10), 0, "IPv4 checksum not left for the NIC");
	cr_assert((out[0]->ol_flags & RTE_MBUF_F_TX_IPV4) != 0);
	cr_assert((out[0]->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) != 0);
	cr_assert_eq(out[0]->l2_len, ETH_HLEN);
	cr_assert_eq(out[0]->l3_len, 20);
	cr_assert(udp_cksum_ok(ip), "UDP checksum wrong");
	cr_assert_eq(get32(ip + 16), CLI_B);
	rte_pktmbuf_free(out[0]);
}

/* A relayed payload keeps the client's UDP checksum, updated for the new
 * addresses in software, even when the NIC could checksum it: a payload
 * corrupted on the way in stays visible to the receiver. */
Test(worker_fp, a_relayed_payload_keeps_its_checksum_even_with_udp_offload, .init = one_worker,
     .fini = teardown)
{
	struct rte_mbuf *out[4];
	const uint8_t *ip;

	latch_both(put_default_pair(), T0);
	H.ports[1].udp_cksum_offload = 1;
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, "offload", T0 + 1), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	ip = data_of(out[0]) + IP_OFF;
	cr_assert_eq(out[0]->ol_flags & RTE_MBUF_F_TX_UDP_CKSUM, 0, "offload asked for");
	cr_assert(udp_cksum_ok(ip), "UDP checksum wrong");
	cr_assert(ip_cksum_ok(ip));
	rte_pktmbuf_free(out[0]);
}

Test(worker_fp, the_nic_ip_checksum_verdict_is_trusted, .init = one_worker, .fini = teardown)
{
	uint8_t f[128];
	struct rte_mbuf *m, *out[4];
	size_t len;

	latch_both(put_default_pair(), T0);
	/* Marked good by the NIC: not checked again; the rewrite makes it right. */
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 64, "good", 4);
	f[IP_OFF + 10] ^= 0x5a;
	m = mbuf_of(f, len);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	cr_assert_eq(burst_on(0, 0, &m, 1, T0 + 1), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	cr_assert(ip_cksum_ok(data_of(out[0]) + IP_OFF));
	rte_pktmbuf_free(out[0]);

	/* Marked bad by the NIC: dropped although the bytes are right. */
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 64, "bad", 3);
	m = mbuf_of(f, len);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	cr_assert_eq(burst_on(0, 0, &m, 1, T0 + 2), 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_IP_CKSUM], 1);

	/* UDP checksum marked bad by the NIC. */
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 64, "l4", 2);
	m = mbuf_of(f, len);
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_BAD;
	cr_assert_eq(burst_on(0, 0, &m, 1, T0 + 3), 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_UDP_CKSUM], 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 0);
}

Test(worker_fp, a_deleted_pair_stops_matching_at_once, .init = one_worker, .fini = teardown)
{
	latch_both(put_default_pair(), T0);
	cr_assert_eq(duet_pair_del(H.pairs, "p1", 2, NULL), 0);
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, "late", T0 + 1), 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_NO_ENDPOINT], 1);
	duet_pair_quiescent(H.pairs, 0);
}

/* ---- latching ------------------------------------------------------------ */

Test(worker_fp, another_source_is_rejected_until_the_client_was_silent, .init = one_worker,
     .fini = teardown)
{
	struct rte_mbuf *out[4];
	int slot = put_default_pair();

	latch_both(slot, T0);
	/* A last spoke at T0: C is one cycle early. */
	cr_assert_eq(send_udp(0, MAC_C, cli_c, ep_a, 64, "early", T0 + SILENCE - 1), 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRC_REJECTED], 1);
	cr_assert_eq(leg_counters(slot, 0).drop_src, 1);
	cr_assert_eq(leg_client(slot, 0).ip, CLI_A);
	cr_assert_eq(rx_all(1, 0, out, 4), 0);

	/* Exactly `silence` later C takes the leg over and is relayed to B. */
	cr_assert_eq(send_udp(0, MAC_C, cli_c, ep_a, 64, "mine", T0 + SILENCE), 1);
	cr_assert_eq(stats0()->relatched, 1);
	cr_assert_eq(leg_client(slot, 0).ip, CLI_C);
	cr_assert_eq(leg_client(slot, 0).port, CLI_C_PORT);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	assert_relayed_text(out[0], MAC_PORT1, MAC_B, ep_b, cli_b, cli_c, "mine");
	rte_pktmbuf_free(out[0]);

	/* B's answers now go to C, at C's MAC. */
	cr_assert_eq(send_udp(1, MAC_B, cli_b, ep_b, 64, "to c", T0 + SILENCE + 1), 1);
	cr_assert_eq(rx_all(0, 0, out, 4), 1);
	assert_relayed_text(out[0], MAC_PORT0, MAC_C, ep_a, cli_c, cli_b, "to c");
	cr_assert_not(frame_mentions_ip(out[0], CLI_A));
	rte_pktmbuf_free(out[0]);

	/* And A, back too soon, is the stranger now. */
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, "me?", T0 + SILENCE + 2), 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRC_REJECTED], 2);
	cr_assert_eq(leg_counters(slot, 0).drop_src, 2);
	cr_assert_eq(stats0()->relatched, 1);
}

/*
 * Each worker stamps a whole round with one rte_rdtsc() taken before it
 * receives (duet_worker_main), so another worker can accept the client's
 * packet and store a last_rx_tsc newer than this worker's `now`. A packet
 * from a stranger handled with that older `now` must still be refused: the
 * client spoke a moment ago. (now - last_rx wraps around when now < last_rx.)
 */
Test(worker_fp, a_burst_stamped_before_the_clients_last_packet_does_not_count_as_silence,
     .init = one_worker, .fini = teardown)
{
	int slot = put_default_pair();

	latch_both(slot, T0);
	/* Leg a's client A was last heard at T0 + 10 (say, by another worker). */
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, "a", T0 + 10), 1);
	rx_discard(1, 0);
	/* C's packet, in a burst stamped at T0 + 5. */
	cr_assert_eq(send_udp(0, MAC_C, cli_c, ep_a, 64, "hijack", T0 + 5), 0,
		     "the stranger was relayed");
	cr_assert_eq(stats0()->relatched, 0, "the stranger took the leg over");
	cr_assert_eq(leg_client(slot, 0).ip, CLI_A);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRC_REJECTED], 1);
}

Test(worker_fp, the_client_port_is_part_of_its_address, .init = one_worker, .fini = teardown)
{
	struct ep a_other_port = { CLI_A, CLI_A_PORT + 1 };
	int slot = put_default_pair();

	latch_both(slot, T0);
	cr_assert_eq(send_udp(0, MAC_A, a_other_port, ep_a, 64, "nat", T0 + 1), 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRC_REJECTED], 1);
	cr_assert_eq(leg_client(slot, 0).port, CLI_A_PORT);
}

Test(worker_fp, a_new_next_hop_mac_of_the_client_is_learned, .init = one_worker,
     .fini = teardown)
{
	struct rte_mbuf *out[4];

	latch_both(put_default_pair(), T0);
	/* A's traffic now reaches us through another router. */
	cr_assert_eq(send_udp(0, MAC_A2, cli_a, ep_a, 64, "moved", T0 + 1), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	rte_pktmbuf_free(out[0]);
	cr_assert_eq(send_udp(1, MAC_B, cli_b, ep_b, 64, "back", T0 + 2), 1);
	cr_assert_eq(rx_all(0, 0, out, 4), 1);
	assert_relayed_text(out[0], MAC_PORT0, MAC_A2, ep_a, cli_a, cli_b, "back");
	rte_pktmbuf_free(out[0]);
	cr_assert_eq(stats0()->relatched, 0);
}

Test(worker_fp, a_pinned_leg_rejects_every_other_source, .init = one_worker, .fini = teardown)
{
	struct rte_mbuf *out[4];
	int slot = put_pair("pinned", EP_A_PORT, EP_B_PORT, NULL, &cli_b);

	cr_assert_eq(leg_client(slot, 1).ip, CLI_B);
	/* D, long after anything was heard on leg b: still refused. */
	cr_assert_eq(send_udp(1, MAC_C, cli_d, ep_b, 64, "let me in", T0 + 1000 * SILENCE), 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRC_REJECTED], 1);
	cr_assert_eq(leg_counters(slot, 1).drop_src, 1);
	cr_assert_eq(leg_client(slot, 1).ip, CLI_B);
	cr_assert_eq(stats0()->relatched, 0);

	/* The pinned client itself passes, and its MAC becomes leg b's hop. */
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, "a", T0 + 1000 * SILENCE + 1), 0);
	cr_assert_eq(send_udp(1, MAC_B, cli_b, ep_b, 64, "b", T0 + 1000 * SILENCE + 2), 1);
	cr_assert_eq(rx_all(0, 0, out, 4), 1);
	assert_relayed_text(out[0], MAC_PORT0, MAC_A, ep_a, cli_a, cli_b, "b");
	rte_pktmbuf_free(out[0]);
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, "a2", T0 + 1000 * SILENCE + 3), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	assert_relayed_text(out[0], MAC_PORT1, MAC_B, ep_b, cli_b, cli_a, "a2");
	rte_pktmbuf_free(out[0]);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRC_REJECTED], 1);
}

Test(worker_fp, a_pinned_peer_without_hop_mac_or_gateway_is_no_next_hop, .init = one_worker,
     .fini = teardown)
{
	struct rte_mbuf *out[4];
	int slot = put_pair("pinned", EP_A_PORT, EP_B_PORT, NULL, &cli_b);

	/* Leg b is pinned but B never spoke: no MAC to send to. */
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, "a", T0), 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_NO_NEXT_HOP], 1);
	cr_assert_eq(leg_counters(slot, 0).pkts, 0);
	cr_assert_eq(rx_all(1, 0, out, 4), 0);
}

/* ---- gateway ------------------------------------------------------------- */

Test(worker_fp, the_gateway_arp_reply_is_learned_and_used, .init = one_worker_gw,
     .fini = teardown)
{
	uint8_t f[64], mac[6];
	struct rte_mbuf *out[4];
	size_t len;

	put_pair("pinned", EP_A_PORT, EP_B_PORT, NULL, &cli_b);
	cr_assert_not(duet_port_gateway_mac(&H.ports[1], mac));
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, "a", T0), 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_NO_NEXT_HOP], 1);

	/* An ARP reply from someone who is not the gateway teaches nothing. */
	len = build_arp(f, MAC_PORT1, 2, MAC_C, IP4(198, 51, 100, 200), MAC_PORT1, SVC1);
	expect_drop(1, f, len, T0 + 1, DUET_DROP_ARP_OTHER);
	cr_assert_not(duet_port_gateway_mac(&H.ports[1], mac));

	/* A reply from the gateway's address that answers no request of
	 * ours moves nothing. */
	len = build_arp(f, MAC_PORT1, 2, MAC_C, GW1, MAC_PORT1, SVC1);
	expect_drop(1, f, len, T0 + 1, DUET_DROP_ARP_UNSOLICITED);
	cr_assert_not(duet_port_gateway_mac(&H.ports[1], mac));

	/* duetd asks (the control thread opens the window), and the gateway
	 * answers in time. */
	duet_port_arp_asked(&H.ports[1], T0 + 10);
	len = build_arp(f, MAC_PORT1, 2, MAC_GW1, GW1, MAC_PORT1, SVC1);
	cr_assert_eq(send1(1, f, len, T0 + 2), 0);
	cr_assert_eq(stats0()->arp_learned, 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 0, "an ARP reply was answered");
	cr_assert(duet_port_gateway_mac(&H.ports[1], mac));
	cr_assert_arr_eq(mac, MAC_GW1, 6);
	cr_assert_not(duet_port_gateway_mac(&H.ports[0], mac), "learnt on the wrong port");

	/* One request teaches one reply: a second answer inside the window
	 * (a spoofer racing the gateway) moves nothing. */
	len = build_arp(f, MAC_PORT1, 2, MAC_C, GW1, MAC_PORT1, SVC1);
	expect_drop(1, f, len, T0 + 3, DUET_DROP_ARP_UNSOLICITED);
	cr_assert(duet_port_gateway_mac(&H.ports[1], mac));
	cr_assert_arr_eq(mac, MAC_GW1, 6);

	/* Leg b is pinned and B never spoke: the gateway is the next hop. */
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, "via gw", T0 + 3), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	assert_relayed_text(out[0], MAC_PORT1, MAC_GW1, ep_b, cli_b, cli_a, "via gw");
	rte_pktmbuf_free(out[0]);
}

Test(worker_fp, an_arp_request_from_the_gateway_is_answered_but_teaches_nothing,
     .init = one_worker_gw, .fini = teardown)
{
	uint8_t f[64], mac[6];
	static const uint8_t zero[6] = { 0 };
	struct rte_mbuf *out[4];
	size_t len;

	/* Anyone can send a request that claims the gateway's address. */
	len = build_arp(f, MAC_BCAST, 1, MAC_C, GW1, zero, SVC1);
	cr_assert_eq(send1(1, f, len, T0), 0);
	cr_assert_eq(stats0()->arp_replies, 1);
	cr_assert_not(duet_port_gateway_mac(&H.ports[1], mac));
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	rte_pktmbuf_free(out[0]);

	/* A gratuitous ARP claiming the gateway is unsolicited too. */
	len = build_arp(f, MAC_BCAST, 1, MAC_C, GW1, zero, GW1);
	expect_drop(1, f, len, T0 + 1, DUET_DROP_ARP_UNSOLICITED);
	cr_assert_not(duet_port_gateway_mac(&H.ports[1], mac));

	/* A reply after the window closed is unsolicited. */
	duet_port_arp_asked(&H.ports[1], T0 + 5);
	len = build_arp(f, MAC_PORT1, 2, MAC_GW1, GW1, MAC_PORT1, SVC1);
	expect_drop(1, f, len, T0 + 6, DUET_DROP_ARP_UNSOLICITED);
	cr_assert_not(duet_port_gateway_mac(&H.ports[1], mac));
}

/* ---- ARP and ICMP for the service addresses -------------------------------- */

Test(worker_fp, an_arp_request_for_the_service_address_is_answered, .init = one_worker,
     .fini = teardown)
{
	static const uint8_t zero[6] = { 0 };
	uint8_t f[64];
	const uint8_t *r;
	struct rte_mbuf *out[4];
	size_t len;

	len = build_arp(f, MAC_BCAST, 1, MAC_A, CLI_A, zero, SVC0);
	memset(f + len, 0, 60 - len); /* padded, as received */
	cr_assert_eq(send1(0, f, 60, T0), 0);
	cr_assert_eq(stats0()->arp_replies, 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 0);
	cr_assert_eq(rx_all(0, 0, out, 4), 1);
	r = data_of(out[0]);
	cr_assert_geq(out[0]->data_len, 42);
	cr_assert_arr_eq(r, MAC_A, 6, "reply not sent to the asker");
	cr_assert_arr_eq(r + 6, MAC_PORT0, 6);
	cr_assert_eq(get16(r + 12), 0x0806);
	cr_assert_eq(get16(r + 14), 1);
	cr_assert_eq(get16(r + 16), 0x0800);
	cr_assert_eq(r[18], 6);
	cr_assert_eq(r[19], 4);
	cr_assert_eq(get16(r + 20), 2, "not an ARP reply");
	cr_assert_arr_eq(r + 22, MAC_PORT0, 6, "answered with the wrong MAC");
	cr_assert_eq(get32(r + 28), SVC0);
	cr_assert_arr_eq(r + 32, MAC_A, 6);
	cr_assert_eq(get32(r + 38), CLI_A);
	rte_pktmbuf_free(out[0]);
}

Test(worker_fp, arp_for_other_addresses_is_arp_other, .init = one_worker, .fini = teardown)
{
	static const uint8_t zero[6] = { 0 };
	uint8_t f[64];
	size_t len;

	len = build_arp(f, MAC_BCAST, 1, MAC_A, CLI_A, zero, IP4(192, 0, 2, 99));
	expect_drop(0, f, len, T0, DUET_DROP_ARP_OTHER);
	/* Port 1's address asked on port 0: not port 0's to answer. */
	len = build_arp(f, MAC_BCAST, 1, MAC_A, CLI_A, zero, SVC1);
	expect_drop(0, f, len, T0, DUET_DROP_ARP_OTHER);
	/* A reply nobody asked for, no gateway configured. */
	len = build_arp(f, MAC_PORT0, 2, MAC_A, CLI_A, MAC_PORT0, SVC0);
	expect_drop(0, f, len, T0, DUET_DROP_ARP_OTHER);
	cr_assert_eq(stats0()->arp_replies + stats0()->arp_learned, 0);
}

Test(worker_fp, an_echo_request_to_the_service_address_is_answered, .init = one_worker,
     .fini = teardown)
{
	static const char data[] = "ping payload, 31 bytes long....";
	uint8_t f[128];
	const uint8_t *r, *icmp;
	struct rte_mbuf *out[4];
	size_t len;

	len = build_echo(f, MAC_A, MAC_PORT0, CLI_A, SVC0, 0x77, 9, data, strlen(data));
	cr_assert_eq(send1(0, f, len, T0), 0);
	cr_assert_eq(stats0()->icmp_replies, 1);
	cr_assert_eq(rx_all(0, 0, out, 4), 1);
	r = data_of(out[0]);
	icmp = r + L4_OFF;
	cr_assert_eq(out[0]->data_len, len);
	cr_assert_arr_eq(r, MAC_A, 6);
	cr_assert_arr_eq(r + 6, MAC_PORT0, 6);
	cr_assert_eq(get32(r + IP_OFF + 12), SVC0);
	cr_assert_eq(get32(r + IP_OFF + 16), CLI_A);
	cr_assert_eq(r[IP_OFF + 8], 64);
	cr_assert(ip_cksum_ok(r + IP_OFF));
	cr_assert_eq(icmp[0], 0, "not an echo reply");
	cr_assert_eq(icmp[1], 0);
	cr_assert_eq(get16(icmp + 4), 0x77);
	cr_assert_eq(get16(icmp + 6), 9);
	cr_assert_arr_eq(icmp + 8, data, strlen(data));
	cr_assert_eq(fold16(sum16(icmp, 8 + strlen(data), 0)), 0xffff, "ICMP checksum wrong");
	rte_pktmbuf_free(out[0]);
}

/*
 * A NIC in promiscuous mode (net_af_packet, a flooding switch) hands us
 * frames for our IP addressed to some other MAC. The reply must still
 * leave from our port's MAC: sending from the request's destination MAC
 * would claim another host's (or the broadcast) address and teach the
 * switch to send that host's traffic to us.
 */
Test(worker_fp, an_echo_reply_leaves_from_the_port_mac, .init = one_worker, .fini = teardown)
{
	const uint8_t *dsts[] = { MAC_C, MAC_BCAST };
	uint8_t f[128];
	struct rte_mbuf *out[4];
	unsigned int i;
	size_t len;

	for (i = 0; i < 2; i++) {
		len = build_echo(f, MAC_A, dsts[i], CLI_A, SVC0, 2, (uint16_t)i, "mac", 3);
		cr_assert_eq(send1(0, f, len, T0), 0);
		cr_assert_eq(rx_all(0, 0, out, 4), 1);
		cr_assert_arr_eq(data_of(out[0]), MAC_A, 6);
		cr_assert_arr_eq(data_of(out[0]) + 6, MAC_PORT0, 6,
				 "reply to a frame for %02x:..:%02x sent from that MAC", dsts[i][0],
				 dsts[i][5]);
		rte_pktmbuf_free(out[0]);
	}
}

Test(worker_fp, icmp_other_than_echo_to_us_is_dropped, .init = one_worker, .fini = teardown)
{
	uint8_t f[128];
	size_t len;

	/* An echo for port 1's address arriving on port 0. */
	len = build_echo(f, MAC_A, MAC_PORT0, CLI_A, SVC1, 1, 1, "x", 1);
	expect_drop(0, f, len, T0, DUET_DROP_NOT_FOR_US);
	/* An echo reply (type 0). */
	len = build_echo(f, MAC_A, MAC_PORT0, CLI_A, SVC0, 1, 1, "x", 1);
	f[L4_OFF] = 0;
	put16(f + L4_OFF + 2, 0);
	put16(f + L4_OFF + 2, (uint16_t)~fold16(sum16(f + L4_OFF, 9, 0)));
	expect_drop(0, f, len, T0, DUET_DROP_ICMP_OTHER);
}

/* ---- drops by reason --------------------------------------------------------- */

Test(worker_fp, udp_to_a_port_without_a_pair_is_no_endpoint, .init = one_worker,
     .fini = teardown)
{
	uint8_t f[128];
	struct ep nowhere = { SVC0, 20004 };
	size_t len;

	put_default_pair();
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, nowhere, 64, "?", 1);
	expect_drop(0, f, len, T0, DUET_DROP_NO_ENDPOINT);
}

Test(worker_fp, udp_to_an_address_that_is_not_ours_is_not_for_us, .init = one_worker,
     .fini = teardown)
{
	uint8_t f[128];
	struct ep elsewhere = { IP4(203, 0, 113, 5), EP_A_PORT };
	struct ep other_port_svc = { SVC1, EP_B_PORT };
	size_t len;

	put_default_pair();
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, elsewhere, 64, "?", 1);
	expect_drop(0, f, len, T0, DUET_DROP_NOT_FOR_US);
	/* Leg b's endpoint exists, but it lives on port 1, not port 0. */
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, other_port_svc, 64, "?", 1);
	expect_drop(0, f, len, T0, DUET_DROP_NOT_FOR_US);
}

Test(worker_fp, ttl_one_is_dropped_before_it_can_latch, .init = one_worker, .fini = teardown)
{
	uint8_t f[128];
	size_t len;
	int slot = put_default_pair();

	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 1, "ttl", 3);
	expect_drop(0, f, len, T0, DUET_DROP_IP_TTL);
	cr_assert_eq(leg_client(slot, 0).ip, 0, "a frame we cannot forward latched the leg");
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 0, "ttl", 3);
	expect_drop(0, f, len, T0, DUET_DROP_IP_TTL);
}

Test(worker_fp, truncated_frames_are_too_short, .init = one_worker, .fini = teardown)
{
	uint8_t f[128];
	size_t len;

	put_default_pair();
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 64, "cut", 3);
	cr_assert_gt(len, 30);
	expect_drop(0, f, 30, T0, DUET_DROP_TOO_SHORT); /* inside the IPv4 header */
	expect_drop(0, f, 10, T0, DUET_DROP_TOO_SHORT); /* inside Ethernet */
}

Test(worker_fp, fragments_are_ip_frag, .init = one_worker, .fini = teardown)
{
	uint8_t f[128];
	size_t len;

	put_default_pair();
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 64, "frag", 4);
	put16(f + IP_OFF + 6, 0x2000); /* more fragments */
	ip_cksum_fix(f + IP_OFF);
	expect_drop(0, f, len, T0, DUET_DROP_IP_FRAG);
	put16(f + IP_OFF + 6, 0x0001); /* a later fragment */
	ip_cksum_fix(f + IP_OFF);
	expect_drop(0, f, len, T0, DUET_DROP_IP_FRAG);
}

Test(worker_fp, a_bad_ip_checksum_is_ip_cksum, .init = one_worker, .fini = teardown)
{
	uint8_t f[128];
	size_t len;

	put_default_pair();
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 64, "ck", 2);
	f[IP_OFF + 11] ^= 0x01;
	expect_drop(0, f, len, T0, DUET_DROP_IP_CKSUM);
}

Test(worker_fp, ip_protocols_other_than_udp_and_icmp_are_proto, .init = one_worker,
     .fini = teardown)
{
	uint8_t f[128];
	size_t len;

	put_default_pair();
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 64, "tcp?", 4);
	f[IP_OFF + 9] = 6;
	ip_cksum_fix(f + IP_OFF);
	expect_drop(0, f, len, T0, DUET_DROP_PROTO);
}

Test(worker_fp, chained_mbufs_are_multi_seg, .init = one_worker, .fini = teardown)
{
	uint8_t f[128];
	struct rte_mbuf *head, *tail;
	size_t len;

	latch_both(put_default_pair(), T0);
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 64, "jumbo-ish", 9);
	head = mbuf_of(f, 20);
	tail = mbuf_of(f + 20, len - 20);
	cr_assert_eq(rte_pktmbuf_chain(head, tail), 0);
	cr_assert_eq(burst_on(0, 0, &head, 1, T0 + 1), 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_MULTI_SEG], 1);
}

Test(worker_fp, other_ethertypes_are_dropped_by_name, .init = one_worker, .fini = teardown)
{
	uint8_t f[128];
	size_t len;

	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 64, "v", 1);
	put16(f + 12, 0x8100);
	expect_drop(0, f, len, T0, DUET_DROP_VLAN);
	put16(f + 12, 0x88cc); /* LLDP */
	expect_drop(0, f, len, T0, DUET_DROP_ETHERTYPE);
}

/* ---- one burst, every outcome ------------------------------------------------ */

Test(worker_fp, a_mixed_burst_sorts_every_frame_and_keeps_order, .init = one_worker,
     .fini = teardown)
{
	static const uint8_t zero[6] = { 0 };
	struct rte_mbuf *pkts[DUET_WORKER_BURST], *out[64];
	struct duet_lcore_stats before;
	struct ep nowhere = { SVC0, 30000 };
	uint8_t f[128];
	char pl[16];
	uint16_t i, n, relayed, n_fwd = 0, n_noep = 0, n_ttl = 0, n_arp = 0, n_icmp = 0;
	size_t len;

	latch_both(put_default_pair(), T0);
	before = *stats0();
	for (i = 0; i < DUET_WORKER_BURST; i++) {
		switch (i % 6) {
		case 0:
		case 3:
			snprintf(pl, sizeof(pl), "seq %02u", i);
			len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 64, pl, strlen(pl));
			n_fwd++;
			break;
		case 1:
			len = build_udp(f, MAC_A, MAC_PORT0, cli_a, nowhere, 64, "x", 1);
			n_noep++;
			break;
		case 2:
			len = build_arp(f, MAC_BCAST, 1, MAC_A, CLI_A, zero, SVC0);
			n_arp++;
			break;
		case 4:
			len = build_echo(f, MAC_A, MAC_PORT0, CLI_A, SVC0, 1, i, "p", 1);
			n_icmp++;
			break;
		default:
			len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 1, "ttl", 3);
			n_ttl++;
			break;
		}
		pkts[i] = mbuf_of(f, len);
	}
	relayed = burst_on(0, 0, pkts, DUET_WORKER_BURST, T0 + 1);
	cr_assert_eq(relayed, n_fwd);
	cr_assert_eq(stats0()->fwd_pkts - before.fwd_pkts, n_fwd);
	cr_assert_eq(stats0()->drops[DUET_DROP_NO_ENDPOINT] - before.drops[DUET_DROP_NO_ENDPOINT],
		     n_noep);
	cr_assert_eq(stats0()->drops[DUET_DROP_IP_TTL] - before.drops[DUET_DROP_IP_TTL], n_ttl);
	cr_assert_eq(stats0()->arp_replies - before.arp_replies, n_arp);
	cr_assert_eq(stats0()->icmp_replies - before.icmp_replies, n_icmp);

	/* The relayed ones leave in the order they came. */
	n = rx_all(1, 0, out, 64);
	cr_assert_eq(n, n_fwd);
	for (i = 0; i < n; i++) {
		unsigned int want = (i / 2) * 6 + (i % 2) * 3;

		snprintf(pl, sizeof(pl), "seq %02u", want);
		assert_relayed(out[i], MAC_PORT1, MAC_B, ep_b, cli_b, H_TTL, pl, strlen(pl));
	}
	rte_pktmbuf_free_bulk(out, n);
	n = rx_all(0, 0, out, 64);
	cr_assert_eq(n, n_arp + n_icmp, "ARP and ICMP replies");
	rte_pktmbuf_free_bulk(out, n);
}

/* ---- two workers, one pair ------------------------------------------------------ */

#define HAMMER_ROUNDS 600
#define HAMMER_HALF (DUET_WORKER_BURST / 2)

struct hammer {
	unsigned int widx;
	uint64_t sent_a, sent_b, sent_c; /* frames from A, B and stranger C */
	uint64_t got_toward_a, got_toward_b;
	uint64_t bad;			 /* outputs that were wrong */
	char why[160];
	volatile unsigned int *start;
};

static void
hammer_bad(struct hammer *h, const char *why)
{
	if (h->bad++ == 0)
		snprintf(h->why, sizeof(h->why), "worker %u: %s", h->widx, why);
}

/* Check what came back on port `port` queue widx: relayed toward A (port 0)
 * or toward B (port 1). Runs on the worker's lcore, so no cr_assert here. */
static void
hammer_collect(struct hammer *h, unsigned int port)
{
	struct rte_mbuf *out[256];
	uint16_t n, i;

	n = rx_all(port, (uint16_t)h->widx, out, 256);
	for (i = 0; i < n; i++) {
		const uint8_t *f = data_of(out[i]), *ip = f + IP_OFF;
		uint32_t want_dst = port == 0 ? CLI_A : CLI_B;
		uint32_t want_src = port == 0 ? SVC0 : SVC1;
		uint32_t leak = port == 0 ? CLI_B : CLI_A;

		if (get32(ip + 16) != want_dst || get32(ip + 12) != want_src) {
			char why[96];

			snprintf(why, sizeof(why), "port %u: %08x -> %08x, len %u", port,
				 get32(ip + 12), get32(ip + 16), out[i]->data_len);
			hammer_bad(h, why);
		}
		else if (!ip_cksum_ok(ip) || !udp_cksum_ok(ip))
			hammer_bad(h, "bad checksum");
		else if (frame_mentions_ip(out[i], leak))
			hammer_bad(h, "the other client's address leaked");
		else if (memcmp(f + 6, port == 0 ? MAC_PORT0 : MAC_PORT1, 6) != 0)
			hammer_bad(h, "wrong source MAC");
		else if (port == 1 && memcmp(f, MAC_B, 6) != 0)
			hammer_bad(h, "wrong MAC toward B");
		else if (port == 0 && memcmp(f, MAC_A, 6) != 0 && memcmp(f, MAC_A2, 6) != 0)
			hammer_bad(h, "wrong MAC toward A");
	}
	if (port == 0)
		h->got_toward_a += n;
	else
		h->got_toward_b += n;
	rte_pktmbuf_free_bulk(out, n);
}

/* One worker's share: bursts on port 0 (A, sometimes C, to leg a) and on
 * port 1 (B to leg b). Worker 1 reaches us from A through another router
 * (MAC_A2), so leg a's hop MAC keeps changing under both workers. */
static int
hammer_run(void *arg)
{
	struct hammer *h = arg;
	struct duet_worker *w = &H.workers[h->widx];
	struct rte_mbuf *pkts[DUET_WORKER_BURST];
	const uint8_t *amac = h->widx == 0 ? MAC_A : MAC_A2;
	uint8_t f[128];
	char pl[32];
	unsigned int r, i;
	size_t len;

	if (duet_pair_worker_register(H.pairs, h->widx) != 0) {
		hammer_bad(h, "RCU register failed");
		return -1;
	}
	__atomic_add_fetch(h->start, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(h->start, __ATOMIC_ACQUIRE) < 2)
		rte_pause();
	for (r = 0; r < HAMMER_ROUNDS; r++) {
		for (i = 0; i < HAMMER_HALF; i++) {
			snprintf(pl, sizeof(pl), "w%u r%u i%u", h->widx, r, i);
			if (i % 8 == 7) {
				len = build_udp(f, MAC_C, MAC_PORT0, cli_c, ep_a, 64, pl, strlen(pl));
				h->sent_c++;
			} else {
				len = build_udp(f, amac, MAC_PORT0, cli_a, ep_a, 64, pl, strlen(pl));
				h->sent_a++;
			}
			pkts[i] = rte_pktmbuf_alloc(H.mp);
			memcpy(rte_pktmbuf_append(pkts[i], (uint16_t)len), f, len);
		}
		duet_worker_burst(w, 0, pkts, HAMMER_HALF, rte_rdtsc());
		for (i = 0; i < HAMMER_HALF; i++) {
			snprintf(pl, sizeof(pl), "w%u r%u i%u", h->widx, r, i);
			len = build_udp(f, MAC_B, MAC_PORT1, cli_b, ep_b, 64, pl, strlen(pl));
			pkts[i] = rte_pktmbuf_alloc(H.mp);
			memcpy(rte_pktmbuf_append(pkts[i], (uint16_t)len), f, len);
			h->sent_b++;
		}
		duet_worker_burst(w, 1, pkts, HAMMER_HALF, rte_rdtsc());
		duet_worker_flush(w);
		hammer_collect(h, 0);
		hammer_collect(h, 1);
		duet_pair_quiescent(H.pairs, h->widx);
	}
	duet_pair_worker_unregister(H.pairs, h->widx);
	return 0;
}

Test(worker_fp, two_workers_relay_one_pair_both_ways_without_loss, .init = two_workers,
     .fini = teardown, .timeout = 120)
{
	static volatile unsigned int start;
	struct hammer h[2];
	struct duet_leg_counters la0, lb0, la, lb;
	uint64_t sent_a = 0, sent_b = 0, sent_c = 0, busy = 0, rejected = 0;
	unsigned int i;
	int slot = put_default_pair();

	/* Latch both legs through worker 0 first. A keeps talking and the
	 * silence is an hour, so C must never take leg a over, although each
	 * worker stamps its bursts with its own clock reading. */
	register_worker(0);
	latch_both(slot, rte_rdtsc());
	duet_pair_worker_unregister(H.pairs, 0);
	H.registered[0] = false;
	for (i = 0; i < 2; i++)
		H.workers[i].silence_tsc = rte_get_tsc_hz() * 3600;
	la0 = leg_counters(slot, 0);
	lb0 = leg_counters(slot, 1);

	memset(h, 0, sizeof(h));
	for (i = 0; i < 2; i++) {
		h[i].widx = i;
		h[i].start = &start;
	}
	cr_assert_eq(rte_eal_remote_launch(hammer_run, &h[1], 1), 0);
	hammer_run(&h[0]);
	cr_assert_eq(rte_eal_wait_lcore(1), 0);

	cr_assert_eq(H.workers[0].stats->relatched + H.workers[1].stats->relatched, 0,
		     "stranger C took leg a over %" PRIu64 " times while A kept talking",
		     H.workers[0].stats->relatched + H.workers[1].stats->relatched);
	for (i = 0; i < 2; i++) {
		const struct duet_lcore_stats *s = H.workers[i].stats;

		cr_assert_eq(h[i].bad, 0, "%" PRIu64 " bad frames; first: %s", h[i].bad, h[i].why);
		assert_accounting(s);
		uint64_t rej = s->drops[DUET_DROP_SRC_REJECTED], b = s->drops[DUET_DROP_LEG_BUSY];

		cr_assert_eq(s->drops[DUET_DROP_TX_FULL], 0);
		sent_a += h[i].sent_a;
		sent_b += h[i].sent_b;
		sent_c += h[i].sent_c;
		busy += b;
		rejected += rej;
		/* Every frame once: relayed on this worker's own queues, C's
		 * refused as src_rejected, and the one loss allowed: a frame
		 * that met the other worker descheduled inside leg a's write
		 * side (the machine is oversubscribed), counted as leg_busy and
		 * as nothing else. */
		cr_assert_leq(rej, h[i].sent_c, "worker %u: %" PRIu64 " src_rejected, %" PRIu64
			      " from C", i, rej, h[i].sent_c);
		cr_assert_eq(h[i].got_toward_b + h[i].got_toward_a + rej + b,
			     h[i].sent_a + h[i].sent_b + h[i].sent_c,
			     "worker %u: %" PRIu64 " + %" PRIu64 " relayed, %" PRIu64 " rejected, %" PRIu64
			     " busy, of %" PRIu64 " + %" PRIu64 " + %" PRIu64, i, h[i].got_toward_b,
			     h[i].got_toward_a, rej, b, h[i].sent_a, h[i].sent_b, h[i].sent_c);
	}
	/* Most frames go through even on a loaded machine; a broken seqlock
	 * that left the leg "busy" would lose far more. */
	cr_assert_leq(busy, (sent_a + sent_b) / 2, "%" PRIu64 " leg_busy drops", busy);
	/* Worker 0 also did the latching: two frames, one dropped. */
	cr_assert_eq(H.workers[0].stats->drops[DUET_DROP_PEER_UNLATCHED], 1);
	cr_assert_eq(total_drops(H.workers[0].stats) + total_drops(H.workers[1].stats),
		     1 + rejected + busy);
	cr_assert_geq(rejected + busy, sent_c);

	la = leg_counters(slot, 0);
	lb = leg_counters(slot, 1);
	cr_assert_eq(la.pkts - la0.pkts + lb.pkts - lb0.pkts + busy + rejected,
		     sent_a + sent_b + sent_c,
		     "legs: %" PRIu64 " + %" PRIu64 " relayed, %" PRIu64 " busy, of %" PRIu64
		     " + %" PRIu64, la.pkts - la0.pkts, lb.pkts - lb0.pkts, busy, sent_a, sent_b);
	cr_assert_eq(la.drop_src - la0.drop_src, rejected);
	cr_assert_eq(lb.drop_src, 0);
	cr_assert_eq(leg_client(slot, 0).ip, CLI_A);
	cr_assert_eq(leg_client(slot, 0).port, CLI_A_PORT);
	cr_assert_eq(leg_client(slot, 1).ip, CLI_B);
}

/* Two workers race to latch many waiting legs from two different sources,
 * each stamping its bursts with its own rte_rdtsc() as duet_worker_main
 * does. Exactly one source may win each leg; with a silence of an hour, no
 * leg may be re-latched, and every loser is a counted src_rejected drop. */
#define RACE_PAIRS 2000

struct racer {
	unsigned int widx;
	volatile unsigned int *turn; /* both lcores step through the pairs together */
	uint64_t bad;
};

static int
race_run(void *arg)
{
	struct racer *rc = arg;
	struct duet_worker *w = &H.workers[rc->widx];
	const struct ep src = rc->widx == 0 ? cli_a : cli_c;
	const uint8_t *mac = rc->widx == 0 ? MAC_A : MAC_C;
	struct rte_mbuf *m;
	uint8_t f[128], body[64];
	size_t blen = rtp_text(body, sizeof(body), src, "race");
	unsigned int k;
	size_t len;

	if (duet_pair_worker_register(H.pairs, rc->widx) != 0) {
		rc->bad++;
		return -1;
	}
	for (k = 0; k < RACE_PAIRS; k++) {
		struct ep dst = { SVC0, (uint16_t)(10000 + 2 * k) };

		len = build_udp(f, mac, MAC_PORT0, src, dst, 64, body, blen);
		m = rte_pktmbuf_alloc(H.mp);
		memcpy(rte_pktmbuf_append(m, (uint16_t)len), f, len);
		/* Meet the other lcore at pair k, then both send at once. */
		__atomic_add_fetch(rc->turn, 1, __ATOMIC_ACQ_REL);
		while (__atomic_load_n(rc->turn, __ATOMIC_ACQUIRE) < 2 * (k + 1))
			rte_pause();
		duet_worker_burst(w, 0, &m, 1, rte_rdtsc());
		duet_pair_quiescent(H.pairs, rc->widx);
	}
	duet_pair_worker_unregister(H.pairs, rc->widx);
	return 0;
}

Test(worker_fp, racing_first_packets_latch_each_leg_exactly_once, .init = two_workers,
     .fini = teardown, .timeout = 120)
{
	static volatile unsigned int turn;
	struct racer rc[2] = { { .widx = 0, .turn = &turn }, { .widx = 1, .turn = &turn } };
	uint64_t latched = 0, relatched = 0, rejected = 0, busy = 0, won_a = 0, won_c = 0;
	unsigned int k, i;

	for (k = 0; k < RACE_PAIRS; k++) {
		char id[16];

		snprintf(id, sizeof(id), "r%u", k);
		put_pair(id, (uint16_t)(10000 + 2 * k), (uint16_t)(10000 + 2 * k + 1), NULL, NULL);
	}
	for (i = 0; i < 2; i++)
		H.workers[i].silence_tsc = rte_get_tsc_hz() * 3600;
	cr_assert_eq(rte_eal_remote_launch(race_run, &rc[1], 1), 0);
	race_run(&rc[0]);
	cr_assert_eq(rte_eal_wait_lcore(1), 0);
	cr_assert_eq(rc[0].bad + rc[1].bad, 0);

	for (i = 0; i < 2; i++) {
		const struct duet_lcore_stats *s = H.workers[i].stats;

		assert_accounting(s);
		latched += s->latched;
		relatched += s->relatched;
		rejected += s->drops[DUET_DROP_SRC_REJECTED];
		busy += s->drops[DUET_DROP_LEG_BUSY];
	}
	for (k = 0; k < RACE_PAIRS; k++) {
		char id[16];
		struct ep c;

		snprintf(id, sizeof(id), "r%u", k);
		c = leg_client(duet_pair_find(H.pairs, id), 0);
		won_a += c.ip == CLI_A;
		won_c += c.ip == CLI_C;
	}
	cr_assert_eq(won_a + won_c, RACE_PAIRS, "a leg was left waiting");
	cr_assert_eq(relatched, 0,
		     "%" PRIu64 " legs were taken over by the other source within the silence "
		     "(latched %" PRIu64 ", rejected %" PRIu64 ")",
		     relatched, latched, rejected);
	cr_assert_eq(latched, RACE_PAIRS);
	/* Every loser is refused: as a stranger when it came after the winner
	 * latched, as leg_busy when it found the winner inside the leg's
	 * write side (then it latched nothing either). */
	cr_assert_eq(rejected + busy, RACE_PAIRS, "rejected %" PRIu64 ", busy %" PRIu64, rejected,
		     busy);
}

/* ---- issue 8: source policy, evidence, re-latch policy, policer, budgets ---- */

/* A passthrough pair p1 with re-latch policy `relatch` and the given
 * policer limits. */
static int
put_policy_pair(uint8_t relatch, uint32_t max_pps, uint32_t max_kbps)
{
	struct duet_pair_spec s;
	char why[DUET_PAIR_REASON_MAX];

	pair_spec(&s, "p1", DUET_MODE_PASSTHROUGH, EP_A_PORT, EP_B_PORT);
	s.relatch = relatch;
	s.max_pps = max_pps;
	s.max_kbps = max_kbps;
	cr_assert_eq(duet_pair_put(H.pairs, &s, 1, NULL, why, sizeof(why)), 0, "%s", why);
	return duet_pair_find(H.pairs, "p1");
}

Test(worker_fp, martian_sources_never_latch_a_waiting_leg, .init = one_worker, .fini = teardown)
{
	static const struct ep martians[] = {
		{IP4(127, 0, 0, 1), 4000},   {IP4(255, 255, 255, 255), 4000},
		{IP4(224, 0, 0, 1), 4000},   {IP4(0, 0, 0, 0), 4000},
		{IP4(169, 254, 1, 1), 4000}, {IP4(240, 0, 0, 1), 4000},
		{SVC0, 4000},		     {SVC1, 20002},
		{CLI_A, 0},
	};
	int slot = put_default_pair();
	size_t i;

	for (i = 0; i < sizeof(martians) / sizeof(martians[0]); i++) {
		uint8_t f[128], body[64];
		size_t blen = rtp_text(body, sizeof(body), martians[i], "spoof");
		size_t len = build_udp(f, MAC_C, MAC_PORT0, martians[i], ep_a, 64, body, blen);

		expect_drop(0, f, len, T0 + i, DUET_DROP_SRC_DENIED);
		cr_assert_eq(leg_client(slot, 0).ip, 0, "leg a latched to martian %zu", i);
	}
	cr_assert_eq(stats0()->latched, 0);
	/* A real client still latches. */
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, "hello", T0 + 100), 0);
	cr_assert_eq(leg_client(slot, 0).ip, CLI_A);
}

Test(worker_fp, a_martian_cannot_take_a_silent_leg_either, .init = one_worker, .fini = teardown)
{
	static const struct ep lo = {IP4(127, 0, 0, 1), CLI_A_PORT};
	uint8_t f[128], body[64];
	size_t blen, len;
	int slot = put_default_pair();

	latch_both(slot, T0);
	blen = rtp_text(body, sizeof(body), cli_a, "loop"); /* even with A's SSRC */
	len = build_udp(f, MAC_C, MAC_PORT0, lo, ep_a, 64, body, blen);
	expect_drop(0, f, len, T0 + 10 * SILENCE, DUET_DROP_SRC_DENIED);
	cr_assert_eq(leg_client(slot, 0).ip, CLI_A);
}

Test(worker_fp, only_plausible_rtp_latches_a_passthrough_leg, .init = one_worker,
     .fini = teardown)
{
	static const uint8_t stun[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42};
	static const uint8_t short_rtp[11] = {0x80, 111};
	static const uint8_t v1[12] = {0x40, 111};
	int slot = put_default_pair();
	uint8_t f[128];
	size_t len;

	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 64, "", 0);
	expect_drop(0, f, len, T0, DUET_DROP_NOT_RTP);
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 64, stun, sizeof(stun));
	expect_drop(0, f, len, T0 + 1, DUET_DROP_NOT_RTP);
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 64, short_rtp, sizeof(short_rtp));
	expect_drop(0, f, len, T0 + 2, DUET_DROP_NOT_RTP);
	len = build_udp(f, MAC_A, MAC_PORT0, cli_a, ep_a, 64, v1, sizeof(v1));
	expect_drop(0, f, len, T0 + 3, DUET_DROP_NOT_RTP);
	cr_assert_eq(leg_client(slot, 0).ip, 0);
	cr_assert_eq(stats0()->latched, 0);
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, "rtp", T0 + 4), 0);
	cr_assert_eq(leg_client(slot, 0).ip, CLI_A);
}

Test(worker_fp, with_relatch_ssrc_only_the_clients_ssrc_moves_a_silent_leg, .init = one_worker,
     .fini = teardown)
{
	struct rte_mbuf *out[4];
	uint8_t body[64];
	size_t blen;
	int slot = put_policy_pair(DUET_RELATCH_SSRC, 0, 0);

	latch_both(slot, T0);
	/* A stranger long after the silence, with its own SSRC: refused. */
	cr_assert_eq(send_udp(0, MAC_C, cli_c, ep_a, 64, "mine", T0 + 10 * SILENCE), 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRC_REJECTED], 1);
	cr_assert_eq(leg_client(slot, 0).ip, CLI_A);
	/* A's stream from a new address (the phone moved networks): moves. */
	blen = rtp_text(body, sizeof(body), cli_a, "moved");
	cr_assert_eq(send_bytes(0, MAC_C, cli_c, ep_a, body, blen, T0 + 10 * SILENCE + 1), 1);
	cr_assert_eq(stats0()->relatched, 1);
	cr_assert_eq(leg_client(slot, 0).ip, CLI_C);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	rte_pktmbuf_free(out[0]);
}

Test(worker_fp, with_relatch_never_a_leg_keeps_its_first_client, .init = one_worker,
     .fini = teardown)
{
	uint8_t body[64];
	size_t blen = rtp_text(body, sizeof(body), cli_a, "moved");
	int slot = put_policy_pair(DUET_RELATCH_NEVER, 0, 0);

	latch_both(slot, T0);
	cr_assert_eq(send_bytes(0, MAC_C, cli_c, ep_a, body, blen, T0 + 100 * SILENCE), 0);
	cr_assert_eq(send_udp(0, MAC_C, cli_c, ep_a, 64, "mine", T0 + 100 * SILENCE + 1), 0);
	cr_assert_eq(stats0()->relatched, 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRC_REJECTED], 2);
	cr_assert_eq(leg_client(slot, 0).ip, CLI_A);
}

Test(worker_fp, the_leg_policer_passes_its_rate_and_burst_and_counts_the_rest,
     .init = one_worker, .fini = teardown)
{
	uint64_t hz = rte_get_tsc_hz(), now = T0 + 1;
	unsigned int i, sent = 0;
	struct rte_mbuf *out[64];
	uint16_t n;
	int slot = put_policy_pair(DUET_RELATCH_SSRC, 100, 0);

	/* The worker's burst allowance is 200 ms: 20 packets at 100/s. */
	latch_both(slot, T0);
	/* 1000 packets within 100 ms: 20 of burst (the latch took one) +
	 * 10 of rate, the rest policed. */
	for (i = 0; i < 1000; i++) {
		sent += send_udp(0, MAC_A, cli_a, ep_a, 64, "flood", now + i * (hz / 10000));
		while ((n = rx_all(1, 0, out, 64)) != 0)
			rte_pktmbuf_free_bulk(out, n);
	}
	cr_assert(sent >= 29 && sent <= 31, "relayed %u, want 30 +- 1", sent);
	cr_assert_eq(leg_counters(slot, 0).drop_policed, 1000 - sent);
	cr_assert_eq(stats0()->drops[DUET_DROP_POLICED], 1000 - sent);
	cr_assert_eq(leg_counters(slot, 1).drop_policed, 0, "the other leg was charged");
	/* A second later the bucket has refilled. */
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, "later", now + 2 * hz), 1);
	while ((n = rx_all(1, 0, out, 64)) != 0)
		rte_pktmbuf_free_bulk(out, n);
}

Test(worker_fp, a_stranger_does_not_use_up_the_clients_policer, .init = one_worker,
     .fini = teardown)
{
	struct rte_mbuf *out[4];
	unsigned int i;
	int slot = put_policy_pair(DUET_RELATCH_SSRC, 10, 0);

	latch_both(slot, T0);
	for (i = 0; i < 500; i++)
		cr_assert_eq(send_udp(0, MAC_C, cli_c, ep_a, 64, "spam", T0 + 1), 0);
	cr_assert_eq(leg_counters(slot, 0).drop_policed, 0);
	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, "me", T0 + 2), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	rte_pktmbuf_free(out[0]);
}

Test(worker_fp, relay_wide_budgets_cap_echo_replies_and_unknown_endpoints, .init = one_worker,
     .fini = teardown)
{
	struct ep nowhere = {SVC0, 30000};
	struct rte_mbuf *out[64];
	unsigned int i, replies = 0;
	uint8_t f[128];
	size_t len;
	uint16_t n;

	duet_police_budget_init(&H.budgets[DUET_BUDGET_ICMP], rte_get_tsc_hz(), 100, T0);
	duet_police_budget_init(&H.budgets[DUET_BUDGET_NO_PAIR], rte_get_tsc_hz(), 100, T0);
	for (i = 0; i < 200; i++) {
		len = build_echo(f, MAC_A, MAC_PORT0, CLI_A, SVC0, 1, (uint16_t)i, "p", 1);
		cr_assert_eq(send1(0, f, len, T0 + i), 0);
		while ((n = rx_all(0, 0, out, 64)) != 0) {
			replies += n;
			rte_pktmbuf_free_bulk(out, n);
		}
		len = build_udp(f, MAC_A, MAC_PORT0, cli_a, nowhere, 64, "x", 1);
		cr_assert_eq(send1(0, f, len, T0 + i), 0);
	}
	/* 100/s with a 100 ms burst, all at one instant: 10 + 1. */
	cr_assert_eq(replies, 11);
	cr_assert_eq(stats0()->icmp_replies, 11);
	cr_assert_eq(stats0()->drops[DUET_DROP_BUDGET_ICMP], 189);
	cr_assert_eq(stats0()->drops[DUET_DROP_NO_ENDPOINT], 11);
	cr_assert_eq(stats0()->drops[DUET_DROP_BUDGET_NO_PAIR], 189);
	/* A ping from a martian source is never answered. */
	len = build_echo(f, MAC_A, MAC_PORT0, IP4(127, 0, 0, 1), SVC0, 1, 1, "p", 1);
	expect_drop(0, f, len, T0 + 10 * rte_get_tsc_hz(), DUET_DROP_SRC_DENIED);
}

Test(worker_fp, the_unlatched_budget_bounds_latch_attempts, .init = one_worker, .fini = teardown)
{
	unsigned int i, latched = 0;
	char id[16];

	duet_police_budget_init(&H.budgets[DUET_BUDGET_UNLATCHED], rte_get_tsc_hz(), 50, T0);
	for (i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "u%u", i);
		put_pair(id, (uint16_t)(21000 + 2 * i), (uint16_t)(21000 + 2 * i + 1), NULL, NULL);
	}
	for (i = 0; i < 20; i++) {
		struct ep dst = {SVC0, (uint16_t)(21000 + 2 * i)};

		cr_assert_eq(send_udp(0, MAC_A, cli_a, dst, 64, "hi", T0), 0);
	}
	for (i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "u%u", i);
		latched += leg_client(duet_pair_find(H.pairs, id), 0).ip == CLI_A;
	}
	/* 50/s with 100 ms of burst: 5 + 1 latch at one instant. */
	cr_assert_eq(latched, 6);
	cr_assert_eq(stats0()->drops[DUET_DROP_BUDGET_UNLATCHED], 14);
}
