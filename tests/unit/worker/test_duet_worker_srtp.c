/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the keyed path of lib/worker/duet_worker_fp.h
 * (duet_worker_srtp_in, duet_worker_relay, duet_worker_to_peer) for pairs in
 * mode verify and rekey. The clients are played with libsrtp2 sessions of
 * the test's own (worker_harness.c): A protects with a_in, B with b_in; in
 * rekey A and B open what the relay sends them with a_out and b_out, in
 * verify with the other client's key (end to end). Frames go through
 * duet_worker_burst() as if received on a net_ring port and what the worker
 * transmits is read back, so every test checks the bytes on the wire, the
 * drop counters and the per-leg counters. The last tests run two workers
 * on two lcores against one direction's SRTP state.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include "duet_secure_zero.h"
#include "worker_harness.h"

#define SSRC_A 0xa1a2a3a4u
#define SSRC_B 0xb1b2b3b4u
#define PLEN 160 /* RTP payload bytes of the test packets */

#define CM80 DUET_SRTP_AES_CM_128_HMAC_SHA1_80
#define CM32 DUET_SRTP_AES_CM_128_HMAC_SHA1_32
#define GCM128 DUET_SRTP_AEAD_AES_128_GCM
#define GCM256 DUET_SRTP_AEAD_AES_256_GCM

/* What protection appends, per suite, written out here rather than taken
 * from lib/srtp: RTP tag; SRTCP index word + tag (80-bit for the HMAC
 * suites, RFC 4568). */
static const unsigned int rtp_tag_len[DUET_SRTP_SUITE_COUNT] = { 10, 4, 16, 16 };
static const unsigned int rtcp_trailer_len[DUET_SRTP_SUITE_COUNT] = { 14, 14, 20, 20 };

static const enum duet_srtp_suite all_cm80[DUET_KEY_COUNT] = { CM80, CM80, CM80, CM80 };

static struct duet_lcore_stats *
stats0(void)
{
	return H.workers[0].stats;
}

/* ---- a call between two SRTP clients ------------------------------------- */

/* A keyed pair "p1" and its two clients. Leg 0 is a (client A, port 0),
 * leg 1 is b (client B, port 1). */
struct call {
	uint8_t mode;
	int slot;
	struct duet_sdes key[DUET_KEY_COUNT]; /* a_in, a_out, b_in, b_out */
	srtp_t tx[2];			      /* client a / b protects with a_in / b_in */
	srtp_t rx[2];			      /* client a / b opens what it receives */
	uint16_t seq[2];		      /* next RTP sequence number of each client */
	struct ep where[2];		      /* each client's address */
	const uint8_t *mac[2];		      /* each client's next hop MAC */
};

/* A packet as a client sent it, and its plaintext. */
struct pkt {
	uint8_t wire[SRTP_BUF_LEN];
	size_t len;
	uint8_t plain[SRTP_BUF_LEN];
	size_t plain_len;
};

static const struct ep *
endpoint(unsigned int leg)
{
	return leg == 0 ? &ep_a : &ep_b;
}

/* The key the relay protects with toward leg `to` in rekey. */
static const struct duet_sdes *
out_key(const struct call *c, unsigned int to)
{
	return &c->key[to == 0 ? DUET_KEY_A_OUT : DUET_KEY_B_OUT];
}

static void
call_start(struct call *c, uint8_t mode, const enum duet_srtp_suite suite[DUET_KEY_COUNT])
{
	unsigned int k;

	memset(c, 0, sizeof(*c));
	c->mode = mode;
	for (k = 0; k < DUET_KEY_COUNT; k++)
		c->key[k] = test_key(suite[k], (uint8_t)(k + 1));
	c->slot = put_keyed_pair("p1", mode, c->key);
	c->tx[0] = srtp_session(&c->key[DUET_KEY_A_IN], DUET_SRTP_OUTBOUND);
	c->tx[1] = srtp_session(&c->key[DUET_KEY_B_IN], DUET_SRTP_OUTBOUND);
	if (mode == DUET_MODE_REKEY) {
		c->rx[0] = srtp_session(&c->key[DUET_KEY_A_OUT], DUET_SRTP_INBOUND);
		c->rx[1] = srtp_session(&c->key[DUET_KEY_B_OUT], DUET_SRTP_INBOUND);
	} else {
		c->rx[0] = srtp_session(&c->key[DUET_KEY_B_IN], DUET_SRTP_INBOUND);
		c->rx[1] = srtp_session(&c->key[DUET_KEY_A_IN], DUET_SRTP_INBOUND);
	}
	c->seq[0] = 1000;
	c->seq[1] = 5000;
	c->where[0] = cli_a;
	c->where[1] = cli_b;
	c->mac[0] = MAC_A;
	c->mac[1] = MAC_B;
}

/* An RTP packet of the client of `leg` with sequence number seq, protected
 * with session s. */
static void
rtp_with(srtp_t s, unsigned int leg, uint16_t seq, struct pkt *p)
{
	p->plain_len = build_rtp(p->plain, leg == 0 ? SSRC_A : SSRC_B, seq, PLEN);
	memcpy(p->wire, p->plain, p->plain_len);
	p->len = srtp_seal(s, p->wire, p->plain_len);
}

/* The next RTP packet of the client of `leg`. */
static void
rtp_next(struct call *c, unsigned int leg, struct pkt *p)
{
	rtp_with(c->tx[leg], leg, c->seq[leg]++, p);
}

/* An SRTCP sender report of the client of `leg`. */
static void
rtcp_sr(struct call *c, unsigned int leg, uint32_t n, struct pkt *p)
{
	p->plain_len = build_rtcp_sr(p->plain, leg == 0 ? SSRC_A : SSRC_B, n);
	memcpy(p->wire, p->plain, p->plain_len);
	p->len = srtp_seal(c->tx[leg], p->wire, p->plain_len);
}

/* Send p to leg's endpoint from src (Ethernet source smac). */
static uint16_t
send_from(unsigned int leg, struct ep src, const uint8_t *smac, const struct pkt *p, uint64_t now)
{
	return send_bytes(leg, smac, src, *endpoint(leg), p->wire, p->len, now);
}

/* Send p from the client of `leg`, as it is now. */
static uint16_t
send_pkt(const struct call *c, unsigned int leg, const struct pkt *p, uint64_t now)
{
	return send_from(leg, c->where[leg], c->mac[leg], p, now);
}

/* What p became when the relay sent it on toward leg `to` (frame m, freed
 * here), and (expect_delivered) that it is exactly one
 * frame, on the other leg's port only, from that leg's endpoint to its
 * client, lengths and checksums right. Verify: the payload is the one the
 * client sent, byte for byte. Rekey: it is p's plaintext protected with
 * the receiver's key. In both, the receiving client opens it to p's
 * plaintext. */
static void
check_relayed(const struct call *c, unsigned int to, struct rte_mbuf *m, const struct pkt *p)
{
	struct rte_mbuf *out[1] = {m};
	uint8_t opened[SRTP_BUF_LEN];
	size_t olen = 0, want_len;
	srtp_err_status_t st;

	if (c->mode == DUET_MODE_VERIFY) {
		assert_relayed(out[0], to == 0 ? MAC_PORT0 : MAC_PORT1, c->mac[to], *endpoint(to),
			       c->where[to], H_TTL, p->wire, p->len);
	} else {
		enum duet_srtp_suite s = out_key(c, to)->suite;
		bool rtcp = p->plain[1] >= 192 && p->plain[1] <= 223;

		want_len = p->plain_len + (rtcp ? rtcp_trailer_len[s] : rtp_tag_len[s]);
		assert_relayed_hdr(out[0], to == 0 ? MAC_PORT0 : MAC_PORT1, c->mac[to],
				   *endpoint(to), c->where[to], H_TTL, want_len);
	}
	if (c->rx[to] != NULL) {
		st = srtp_open_payload(c->rx[to], out[0], opened, &olen);
		cr_assert_eq(st, srtp_err_status_ok, "client %c cannot open what it got: %d",
			     'A' + to, st);
		cr_assert_eq(olen, p->plain_len);
		cr_assert_arr_eq(opened, p->plain, olen, "plaintext changed on the way");
	}
	rte_pktmbuf_free(out[0]);
}

static void
expect_delivered(const struct call *c, unsigned int from, const struct pkt *p)
{
	unsigned int to = from ^ 1;
	struct rte_mbuf *out[4];

	cr_assert_eq(rx_all(from, 0, out, 4), 0, "relayed back out of the port it came in on");
	cr_assert_eq(rx_all(to, 0, out, 4), 1, "nothing (or too much) relayed toward leg %c",
		     'a' + to);
	check_relayed(c, to, out[0], p);
}

/* Send p from the client of leg `from` and expect it delivered. */
static void
relay(const struct call *c, unsigned int from, const struct pkt *p, uint64_t now)
{
	const uint64_t *d = stats0()->drops;

	cr_assert_eq(send_pkt(c, from, p, now), 1,
		     "not relayed (srtp_auth %" PRIu64 ", srtp_replay %" PRIu64
		     ", srtp_bad %" PRIu64 ", src_rejected %" PRIu64 ", peer_unlatched %" PRIu64
		     ")",
		     d[DUET_DROP_SRTP_AUTH], d[DUET_DROP_SRTP_REPLAY], d[DUET_DROP_SRTP_BAD],
		     d[DUET_DROP_SRC_REJECTED], d[DUET_DROP_PEER_UNLATCHED]);
	expect_delivered(c, from, p);
}

/* Latch both legs with authentic packets: A first (dropped, b waits), then
 * B (relayed to A), then A again (relayed to B). */
static void
call_latch(struct call *c, uint64_t now)
{
	struct pkt p;

	rtp_next(c, 0, &p);
	cr_assert_eq(send_pkt(c, 0, &p, now), 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_PEER_UNLATCHED], 1, "A's first packet: %" PRIu64
		     " srtp_auth", stats0()->drops[DUET_DROP_SRTP_AUTH]);
	cr_assert_eq(leg_client(c->slot, 0).ip, CLI_A);
	rtp_next(c, 1, &p);
	relay(c, 1, &p, now + 1);
	rtp_next(c, 0, &p);
	relay(c, 0, &p, now + 2);
	cr_assert_eq(stats0()->latched, 2);
	cr_assert_eq(leg_client(c->slot, 0).port, CLI_A_PORT);
	cr_assert_eq(leg_client(c->slot, 1).ip, CLI_B);
}

/* A frame from src to leg's endpoint that worker 0 must drop for `why`. */
static void
expect_pkt_drop(unsigned int leg, struct ep src, const uint8_t *smac, const void *payload,
		size_t len, uint64_t now, enum duet_drop why)
{
	uint8_t f[1600];
	size_t flen = build_udp(f, smac, leg == 0 ? MAC_PORT0 : MAC_PORT1, src, *endpoint(leg), 64,
				payload, len);

	expect_drop(leg, f, flen, now, why);
}

/* Re-put the call's pair with c->key: same id, endpoints and mode. */
static int
call_reput(const struct call *c)
{
	struct duet_pair_spec s;
	char why[DUET_PAIR_REASON_MAX] = "";
	int rc;

	pair_spec(&s, "p1", c->mode, EP_A_PORT, EP_B_PORT);
	pair_spec_keys(&s, c->mode, c->key);
	rc = duet_pair_put(H.pairs, &s, 2, NULL, why, sizeof(why));
	duet_secure_zero(s.key, sizeof(s.key));
	cr_assert_geq(rc, 0, "re-put: %d %s", rc, why);
	return rc;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

static uint64_t
srtp_drops(const struct duet_lcore_stats *s)
{
	return s->drops[DUET_DROP_SRTP_AUTH] + s->drops[DUET_DROP_SRTP_REPLAY] +
	       s->drops[DUET_DROP_SRTP_BAD] + s->drops[DUET_DROP_SRTP_BUSY] +
	       s->drops[DUET_DROP_SRTP_PROTECT] + s->drops[DUET_DROP_SRTP_NO_KEY];
}

/* ---- verify: authentic SRTP passes unchanged ----------------------------- */

static void
verify_both_ways(enum duet_srtp_suite suite)
{
	const enum duet_srtp_suite su[DUET_KEY_COUNT] = { suite, suite, suite, suite };
	struct duet_leg_counters la, lb;
	struct call c;
	struct pkt p;
	unsigned int i;

	call_start(&c, DUET_MODE_VERIFY, su);
	call_latch(&c, T0);
	for (i = 0; i < 5; i++) {
		rtp_next(&c, 0, &p);
		relay(&c, 0, &p, T0 + 10 + i);
		rtp_next(&c, 1, &p);
		relay(&c, 1, &p, T0 + 10 + i);
	}
	la = leg_counters(c.slot, 0);
	lb = leg_counters(c.slot, 1);
	cr_assert_eq(la.pkts, 6);
	cr_assert_eq(lb.pkts, 6);
	cr_assert_eq(la.bytes, 6 * p.len, "leg a bytes %" PRIu64, la.bytes);
	cr_assert_eq(la.drop_auth + la.drop_replay + lb.drop_auth + lb.drop_replay, 0);
	cr_assert_eq(la.drop_peer_unlatched, 1);
	cr_assert_eq(srtp_drops(stats0()), 0);
	cr_assert_eq(stats0()->fwd_pkts, 12);
	cr_assert_eq(stats0()->relatched, 0);
	/* GCM is checked by decrypting a copy; none of it may stay behind. */
	cr_assert(all_zero(H.workers[0].scratch, DUET_SRTP_MAX_PKT), "plaintext left in scratch");
}

Test(worker_srtp, verify_relays_authentic_aes_cm_80_both_ways_byte_for_byte, .init = one_worker,
     .fini = teardown)
{
	verify_both_ways(CM80);
}

Test(worker_srtp, verify_relays_authentic_aes_cm_32_both_ways_byte_for_byte, .init = one_worker,
     .fini = teardown)
{
	verify_both_ways(CM32);
}

Test(worker_srtp, verify_relays_authentic_gcm_128_both_ways_and_wipes_the_scratch,
     .init = one_worker, .fini = teardown)
{
	verify_both_ways(GCM128);
}

Test(worker_srtp, verify_relays_authentic_gcm_256_both_ways_and_wipes_the_scratch,
     .init = one_worker, .fini = teardown)
{
	verify_both_ways(GCM256);
}

/* ---- forged, tampered, truncated ----------------------------------------- */

static void
bad_packets_are_dropped(uint8_t mode, enum duet_srtp_suite suite)
{
	const enum duet_srtp_suite su[DUET_KEY_COUNT] = { suite, suite, suite, suite };
	struct duet_sdes wrong = test_key(suite, 99);
	srtp_t forger = srtp_session(&wrong, DUET_SRTP_OUTBOUND);
	struct duet_lcore_stats before;
	struct duet_leg_counters la0, la;
	struct call c;
	struct pkt p, t;
	uint8_t plain[SRTP_BUF_LEN];
	size_t plen, cut;
	unsigned int n_cuts = 0;

	call_start(&c, mode, su);
	call_latch(&c, T0);
	before = *stats0();
	la0 = leg_counters(c.slot, 0);

	/* Forged: right suite, wrong key, from A's own address. */
	rtp_with(forger, 0, c.seq[0], &p);
	expect_pkt_drop(0, cli_a, MAC_A, p.wire, p.len, T0 + 10, DUET_DROP_SRTP_AUTH);

	/* Tampered: A's genuine next packet with one payload byte flipped. */
	rtp_next(&c, 0, &p);
	t = p;
	t.wire[RTP_HLEN + 5] ^= 0x01;
	expect_pkt_drop(0, cli_a, MAC_A, t.wire, t.len, T0 + 11, DUET_DROP_SRTP_AUTH);

	/* Plain RTP, never protected: no tag to check. */
	plen = build_rtp(plain, SSRC_A, c.seq[0], PLEN);
	expect_pkt_drop(0, cli_a, MAC_A, plain, plen, T0 + 12, DUET_DROP_SRTP_AUTH);

	/* Truncated below an RTP header. */
	expect_pkt_drop(0, cli_a, MAC_A, p.wire, 11, T0 + 13, DUET_DROP_SRTP_BAD);
	expect_pkt_drop(0, cli_a, MAC_A, p.wire, 1, T0 + 14, DUET_DROP_SRTP_BAD);
	la = leg_counters(c.slot, 0);
	cr_assert_eq(la.drop_auth - la0.drop_auth, 5, "leg a drop_auth %" PRIu64,
		     la.drop_auth - la0.drop_auth);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRTP_AUTH] - before.drops[DUET_DROP_SRTP_AUTH], 3);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRTP_BAD] - before.drops[DUET_DROP_SRTP_BAD], 2);

	/* Cut anywhere after the header: the tag is gone or wrong. libsrtp2
	 * calls some of these malformed and some unauthentic, so either
	 * counter may take it; never is it relayed. */
	for (cut = RTP_HLEN; cut < p.len; cut += cut < RTP_HLEN + 12 ? 1 : 37) {
		const uint64_t *d = stats0()->drops;
		uint64_t was = d[DUET_DROP_SRTP_AUTH] + d[DUET_DROP_SRTP_BAD];
		struct rte_mbuf *out[4];

		cr_assert_eq(send_bytes(0, MAC_A, cli_a, ep_a, p.wire, cut, T0 + 15), 0,
			     "a packet cut to %zu bytes was relayed", cut);
		cr_assert_eq(d[DUET_DROP_SRTP_AUTH] + d[DUET_DROP_SRTP_BAD], was + 1,
			     "cut to %zu: not an SRTP drop", cut);
		cr_assert_eq(rx_all(1, 0, out, 4), 0);
		n_cuts++;
	}
	la = leg_counters(c.slot, 0);
	cr_assert_eq(la.drop_auth - la0.drop_auth, 5 + n_cuts);
	cr_assert_eq(la.drop_replay, 0);
	cr_assert_eq(la.pkts, la0.pkts);
	cr_assert_eq(leg_client(c.slot, 0).ip, CLI_A);

	/* The forgery of that index did not use it up: the genuine packet
	 * carrying it still passes. */
	relay(&c, 0, &p, T0 + 20);
	cr_assert(all_zero(H.workers[0].scratch, DUET_SRTP_MAX_PKT), "plaintext left in scratch");
}

Test(worker_srtp, verify_drops_forged_tampered_and_truncated_packets, .init = one_worker,
     .fini = teardown)
{
	bad_packets_are_dropped(DUET_MODE_VERIFY, CM80);
}

Test(worker_srtp, verify_gcm_drops_forged_tampered_and_truncated_packets, .init = one_worker,
     .fini = teardown)
{
	bad_packets_are_dropped(DUET_MODE_VERIFY, GCM128);
}

Test(worker_srtp, rekey_drops_forged_tampered_and_truncated_packets, .init = one_worker,
     .fini = teardown)
{
	bad_packets_are_dropped(DUET_MODE_REKEY, CM80);
}

Test(worker_srtp, rekey_gcm_drops_forged_tampered_and_truncated_packets, .init = one_worker,
     .fini = teardown)
{
	bad_packets_are_dropped(DUET_MODE_REKEY, GCM128);
}

/* ---- replay -------------------------------------------------------------- */

static void
replays_are_dropped(uint8_t mode)
{
	struct duet_leg_counters la;
	struct call c;
	struct pkt p, sr, late;

	call_start(&c, mode, all_cm80);
	call_latch(&c, T0);
	rtp_next(&c, 0, &p);
	relay(&c, 0, &p, T0 + 10);
	/* The very same frame again. */
	expect_pkt_drop(0, cli_a, MAC_A, p.wire, p.len, T0 + 11, DUET_DROP_SRTP_REPLAY);
	la = leg_counters(c.slot, 0);
	cr_assert_eq(la.drop_replay, 1);
	cr_assert_eq(la.drop_auth, 0);

	/* An SRTCP report, twice. */
	rtcp_sr(&c, 0, 1, &sr);
	relay(&c, 0, &sr, T0 + 12);
	expect_pkt_drop(0, cli_a, MAC_A, sr.wire, sr.len, T0 + 13, DUET_DROP_SRTP_REPLAY);

	/* A packet never seen, but older than the 1024-packet window by the
	 * time it arrives (A protects it first: A's own session refuses to
	 * protect an index that far back). */
	rtp_with(c.tx[0], 0, c.seq[0], &late);
	rtp_with(c.tx[0], 0, (uint16_t)(c.seq[0] + 1100), &p);
	relay(&c, 0, &p, T0 + 14);
	expect_pkt_drop(0, cli_a, MAC_A, late.wire, late.len, T0 + 15, DUET_DROP_SRTP_REPLAY);

	la = leg_counters(c.slot, 0);
	cr_assert_eq(la.drop_replay, 3);
	cr_assert_eq(la.drop_auth, 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRTP_REPLAY], 3);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRTP_AUTH], 0);
}

Test(worker_srtp, verify_drops_a_replayed_packet_as_srtp_replay, .init = one_worker,
     .fini = teardown)
{
	replays_are_dropped(DUET_MODE_VERIFY);
}

Test(worker_srtp, rekey_drops_a_replayed_packet_as_srtp_replay, .init = one_worker,
     .fini = teardown)
{
	replays_are_dropped(DUET_MODE_REKEY);
}

/* ---- key lifetimes ------------------------------------------------------- */

/*
 * A key past its SDES lifetime: its packets are dropped as
 * srtp_key_expired (not as auth or replay, on no per-leg auth counter),
 * nothing of them reaches the peer, and the other direction goes on. In
 * verify the sender's a_in counts what authenticated (call_latch: 2 of
 * A's); in rekey b_out counts what the relay sealed toward B (1).
 */
static void
expired_keys_are_dropped(uint8_t mode)
{
	unsigned int key = mode == DUET_MODE_REKEY ? DUET_KEY_B_OUT : DUET_KEY_A_IN;
	unsigned int used = mode == DUET_MODE_REKEY ? 1 : 2, i;
	struct duet_leg_counters la;
	struct call c;
	struct pkt p;

	call_start(&c, mode, all_cm80);
	call_latch(&c, T0);
	/* The same key again with a lifetime of 4: it counts from what it used. */
	c.key[key].lifetime = 4;
	cr_assert_eq(call_reput(&c), 1, "updated in place");
	for (i = used; i < 4; i++) {
		rtp_next(&c, 0, &p);
		relay(&c, 0, &p, T0 + 10 + i);
	}
	rtp_next(&c, 0, &p);
	expect_pkt_drop(0, cli_a, MAC_A, p.wire, p.len, T0 + 20, DUET_DROP_SRTP_KEY_EXPIRED);
	rtp_next(&c, 0, &p);
	expect_pkt_drop(0, cli_a, MAC_A, p.wire, p.len, T0 + 21, DUET_DROP_SRTP_KEY_EXPIRED);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRTP_KEY_EXPIRED], 2);
	cr_assert_eq(srtp_drops(stats0()), 0, "counted as nothing else");
	la = leg_counters(c.slot, 0);
	cr_assert_eq(la.drop_auth + la.drop_replay, 0);
	cr_assert_eq(la.pkts, 4 - used + 1, "leg a: %" PRIu64, la.pkts);
	rtp_next(&c, 1, &p);
	relay(&c, 1, &p, T0 + 22);
}

Test(worker_srtp, verify_drops_packets_past_the_senders_key_lifetime, .init = one_worker,
     .fini = teardown)
{
	expired_keys_are_dropped(DUET_MODE_VERIFY);
}

Test(worker_srtp, rekey_drops_packets_past_the_receivers_key_lifetime, .init = one_worker,
     .fini = teardown)
{
	expired_keys_are_dropped(DUET_MODE_REKEY);
}

/* ---- hijack: latching needs the key -------------------------------------- */

static void
no_hijack_without_the_key(uint8_t mode)
{
	struct duet_sdes wrong = test_key(CM80, 99);
	srtp_t forger = srtp_session(&wrong, DUET_SRTP_OUTBOUND);
	const struct ep c_other = { CLI_C, CLI_C_PORT + 1 };
	struct rte_mbuf *out[4];
	struct call c;
	struct pkt f, old, moved;
	uint64_t quiet;

	call_start(&c, mode, all_cm80);

	/* C tries to take the waiting leg a before A ever spoke. */
	rtp_with(forger, 0, 1, &f);
	expect_pkt_drop(0, cli_c, MAC_C, f.wire, f.len, T0, DUET_DROP_SRTP_AUTH);
	expect_pkt_drop(0, cli_c, MAC_C, "hello", 5, T0, DUET_DROP_SRTP_BAD);
	cr_assert_eq(leg_client(c.slot, 0).ip, 0, "a forged packet latched the waiting leg");
	cr_assert_eq(stats0()->latched, 0);
	cr_assert_eq(leg_counters(c.slot, 0).drop_auth, 2);

	call_latch(&c, T0 + 10);
	rtp_next(&c, 0, &old);
	relay(&c, 0, &old, T0 + 20);

	/* A is silent long enough for a move; C still has no key. */
	quiet = T0 + 20 + SILENCE + 5;
	rtp_with(forger, 0, c.seq[0], &f);
	expect_pkt_drop(0, cli_c, MAC_C, f.wire, f.len, quiet, DUET_DROP_SRTP_AUTH);
	/* C replays A's genuine packet from its own address. */
	expect_pkt_drop(0, cli_c, MAC_C, old.wire, old.len, quiet + 1, DUET_DROP_SRTP_REPLAY);
	cr_assert_eq(leg_client(c.slot, 0).ip, CLI_A, "leg a moved without A's key");
	cr_assert_eq(stats0()->relatched, 0);

	/* A's next packet from a new address before the silence is over is
	 * refused by the latch rule, before any crypto... */
	rtp_next(&c, 0, &moved);
	expect_pkt_drop(0, c_other, MAC_C, moved.wire, moved.len, T0 + 21, DUET_DROP_SRC_REJECTED);
	cr_assert_eq(leg_client(c.slot, 0).ip, CLI_A);

	/* ...so the same packet, after the silence, is not a replay: A's phone
	 * moved, and leg a follows it. */
	cr_assert_eq(send_from(0, c_other, MAC_C, &moved, quiet + 2), 1, "A's move not relayed");
	cr_assert_eq(stats0()->relatched, 1);
	cr_assert_eq(leg_client(c.slot, 0).ip, CLI_C);
	cr_assert_eq(leg_client(c.slot, 0).port, CLI_C_PORT + 1);
	expect_delivered(&c, 0, &moved);
	c.where[0] = c_other;
	c.mac[0] = MAC_C;

	/* B's packets now go to A's new address. */
	rtp_next(&c, 1, &f);
	relay(&c, 1, &f, quiet + 3);

	/* The old address is a stranger now. */
	rtp_next(&c, 0, &f);
	expect_pkt_drop(0, cli_a, MAC_A, f.wire, f.len, quiet + 4, DUET_DROP_SRC_REJECTED);
	cr_assert_eq(rx_all(1, 0, out, 4), 0);
	cr_assert_eq(stats0()->relatched, 1);
}

Test(worker_srtp, verify_a_leg_is_latched_and_moved_only_by_authentic_packets,
     .init = one_worker, .fini = teardown)
{
	no_hijack_without_the_key(DUET_MODE_VERIFY);
}

Test(worker_srtp, rekey_a_leg_is_latched_and_moved_only_by_authentic_packets,
     .init = one_worker, .fini = teardown)
{
	no_hijack_without_the_key(DUET_MODE_REKEY);
}

/* ---- rekey --------------------------------------------------------------- */

/* Found by fuzz_worker_burst: in rekey, A's packet that cannot be sent yet
 * (B has no client) must not be sealed toward B, or the relay's stream
 * toward B counts it: here A's first packet is seq 65535, the relay's
 * stream toward B then sealed seq 0 with ROC 1, and B, which never saw
 * 65535, assumed ROC 0 and failed every packet from then on. */
Test(worker_srtp, rekey_seals_toward_a_peer_only_what_it_sends_it, .init = one_worker,
     .fini = teardown)
{
	struct call c;
	struct pkt p;

	call_start(&c, DUET_MODE_REKEY, all_cm80);
	c.seq[0] = 65535;
	rtp_next(&c, 0, &p);
	cr_assert_eq(send_pkt(&c, 0, &p, T0), 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_PEER_UNLATCHED], 1);
	cr_assert_eq(leg_client(c.slot, 0).ip, CLI_A, "the authentic packet latched leg a");
	rtp_next(&c, 1, &p);
	relay(&c, 1, &p, T0 + 1);
	/* A wraps to 0: B opens it, and the ones after. */
	rtp_next(&c, 0, &p);
	cr_assert_eq(c.seq[0], 1);
	relay(&c, 0, &p, T0 + 2);
	rtp_next(&c, 0, &p);
	relay(&c, 0, &p, T0 + 3);
	cr_assert_eq(srtp_drops(stats0()), 0);
}

Test(worker_srtp, rekey_reencrypts_across_suites_and_fixes_every_length, .init = one_worker,
     .fini = teardown)
{
	/* A speaks AES-CM-80, B receives GCM: A's packets grow by 6 bytes.
	 * B speaks GCM, A receives AES-CM-80: B's shrink by 6. */
	const enum duet_srtp_suite su[DUET_KEY_COUNT] = { CM80, CM80, GCM128, GCM128 };
	struct duet_leg_counters la, lb;
	struct rte_mbuf *out[4];
	const uint8_t *ip;
	struct call c;
	struct pkt p;

	call_start(&c, DUET_MODE_REKEY, su);
	call_latch(&c, T0);

	rtp_next(&c, 0, &p);
	cr_assert_eq(p.len, RTP_HLEN + PLEN + 10);
	cr_assert_eq(send_pkt(&c, 0, &p, T0 + 10), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	ip = data_of(out[0]) + IP_OFF;
	cr_assert_eq(out[0]->data_len, PAYLOAD_OFF + p.len + 6, "mbuf length %u",
		     out[0]->data_len);
	cr_assert_eq(out[0]->pkt_len, out[0]->data_len);
	cr_assert_eq(get16(ip + 2), 20 + 8 + p.len + 6, "IP total length %u", get16(ip + 2));
	cr_assert_eq(get16(ip + 20 + 4), 8 + p.len + 6, "UDP length %u", get16(ip + 24));
	cr_assert(ip_cksum_ok(ip));
	cr_assert(udp_cksum_ok(ip), "UDP checksum %04x wrong", get16(ip + 26));
	cr_assert_arr_eq(ip + 28, p.plain, RTP_HLEN, "RTP header changed");
	cr_assert(memcmp(ip + 28 + RTP_HLEN, p.wire + RTP_HLEN, PLEN) != 0,
		  "payload not re-encrypted");
	rte_pktmbuf_free(out[0]);
	/* And B opens it (the full check, once more on a fresh packet). */
	rtp_next(&c, 0, &p);
	relay(&c, 0, &p, T0 + 11);

	rtp_next(&c, 1, &p);
	cr_assert_eq(p.len, RTP_HLEN + PLEN + 16);
	cr_assert_eq(send_pkt(&c, 1, &p, T0 + 12), 1);
	cr_assert_eq(rx_all(0, 0, out, 4), 1);
	cr_assert_eq(out[0]->data_len, PAYLOAD_OFF + p.len - 6);
	rte_pktmbuf_free(out[0]);
	rtp_next(&c, 1, &p);
	relay(&c, 1, &p, T0 + 13);

	la = leg_counters(c.slot, 0);
	lb = leg_counters(c.slot, 1);
	cr_assert_eq(la.pkts, 3);
	cr_assert_eq(lb.pkts, 3);
	cr_assert_eq(srtp_drops(stats0()), 0);
	cr_assert(all_zero(H.workers[0].scratch, DUET_SRTP_MAX_PKT));
}

/* With a NIC that checksums UDP, a re-encrypted payload leaves with the
 * pseudo-header's sum in the checksum field and the offload asked for;
 * the NIC's part done here, the checksum is right. */
Test(worker_srtp, rekey_leaves_the_udp_checksum_to_a_nic_that_offers_it, .init = one_worker,
     .fini = teardown)
{
	const enum duet_srtp_suite su[DUET_KEY_COUNT] = { CM80, CM80, GCM128, GCM128 };
	struct rte_mbuf *out[4];
	uint8_t *ip, *udp;
	uint32_t phdr;
	struct call c;
	struct pkt p;

	call_start(&c, DUET_MODE_REKEY, su);
	call_latch(&c, T0);
	/* net_ring has no checksum offload; pretend port 1 has. */
	H.ports[1].udp_cksum_offload = 1;
	rtp_next(&c, 0, &p);
	cr_assert_eq(send_pkt(&c, 0, &p, T0 + 10), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	ip = rte_pktmbuf_mtod(out[0], uint8_t *) + IP_OFF;
	udp = ip + 20;
	cr_assert((out[0]->ol_flags & RTE_MBUF_F_TX_UDP_CKSUM) != 0, "offload not asked for");
	cr_assert((out[0]->ol_flags & RTE_MBUF_F_TX_IPV4) != 0);
	cr_assert_eq(out[0]->l2_len, 14);
	cr_assert_eq(out[0]->l3_len, 20);
	phdr = fold16(sum16(ip + 12, 8, 17u + get16(udp + 4)));
	cr_assert_eq(get16(udp + 6), phdr, "field %04x, pseudo-header sum %04x", get16(udp + 6),
		     phdr);
	/* The NIC: the sum over the datagram from that start, inverted. */
	put16(udp + 6, (uint16_t)~fold16(sum16(udp, get16(udp + 4), 0)));
	cr_assert(udp_cksum_ok(ip), "UDP checksum %04x wrong", get16(udp + 6));
	cr_assert(ip_cksum_ok(ip), "the IPv4 checksum is still ours");
	rte_pktmbuf_free(out[0]);
}

Test(worker_srtp, rekey_with_one_suite_still_reencrypts_with_the_receivers_key,
     .init = one_worker, .fini = teardown)
{
	struct rte_mbuf *out[4];
	uint8_t opened[SRTP_BUF_LEN];
	srtp_t b_with_a_key;
	struct call c;
	struct pkt p;
	size_t olen;

	call_start(&c, DUET_MODE_REKEY, all_cm80);
	call_latch(&c, T0);
	rtp_next(&c, 0, &p);
	cr_assert_eq(send_pkt(&c, 0, &p, T0 + 10), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	assert_relayed_hdr(out[0], MAC_PORT1, MAC_B, ep_b, cli_b, H_TTL, p.len);
	cr_assert(memcmp(data_of(out[0]) + PAYLOAD_OFF, p.wire, p.len) != 0,
		  "forwarded as A protected it");
	/* a_in does not open it: B never learns A's key. */
	b_with_a_key = srtp_session(&c.key[DUET_KEY_A_IN], DUET_SRTP_INBOUND);
	cr_assert_eq(srtp_open_payload(b_with_a_key, out[0], opened, &olen),
		     srtp_err_status_auth_fail);
	cr_assert_eq(srtp_open_payload(c.rx[1], out[0], opened, &olen), srtp_err_status_ok);
	cr_assert_arr_eq(opened, p.plain, p.plain_len);
	rte_pktmbuf_free(out[0]);
}

/* ---- SRTCP --------------------------------------------------------------- */

static void
srtcp_is_relayed(uint8_t mode)
{
	const enum duet_srtp_suite su[DUET_KEY_COUNT] = { CM80, GCM128, CM32, CM80 };
	struct call c;
	struct pkt p;
	uint32_t n;

	call_start(&c, mode, su);
	call_latch(&c, T0);
	for (n = 1; n <= 3; n++) {
		rtcp_sr(&c, 0, n, &p);
		cr_assert_eq(p.wire[1], 200);
		relay(&c, 0, &p, T0 + 10 + n);
		rtcp_sr(&c, 1, n, &p);
		relay(&c, 1, &p, T0 + 10 + n);
		/* RTP and RTCP share the port (RFC 5761). */
		rtp_next(&c, 0, &p);
		relay(&c, 0, &p, T0 + 10 + n);
	}
	cr_assert_eq(srtp_drops(stats0()), 0);
	cr_assert(all_zero(H.workers[0].scratch, DUET_SRTP_MAX_PKT), "plaintext left in scratch");
}

Test(worker_srtp, verify_relays_srtcp_unchanged, .init = one_worker, .fini = teardown)
{
	srtcp_is_relayed(DUET_MODE_VERIFY);
}

Test(worker_srtp, rekey_reprotects_srtcp_for_the_receiver, .init = one_worker, .fini = teardown)
{
	srtcp_is_relayed(DUET_MODE_REKEY);
}

Test(worker_srtp, a_forged_srtcp_report_is_dropped, .init = one_worker, .fini = teardown)
{
	struct call c;
	struct pkt p;

	call_start(&c, DUET_MODE_VERIFY, all_cm80);
	call_latch(&c, T0);
	rtcp_sr(&c, 0, 1, &p);
	p.wire[12] ^= 0x80; /* NTP timestamp, under the tag and the encryption */
	expect_pkt_drop(0, cli_a, MAC_A, p.wire, p.len, T0 + 10, DUET_DROP_SRTP_AUTH);
	cr_assert_eq(leg_counters(c.slot, 0).drop_auth, 1);
}

/* ---- rollover counter ---------------------------------------------------- */

static void
rollover(uint8_t mode)
{
	static struct pkt p[27];
	struct call c;
	uint64_t now = T0;
	unsigned int i;

	call_start(&c, mode, all_cm80);
	/* B latches first, so that every one of A's packets must be relayed. */
	rtp_next(&c, 1, &p[0]);
	cr_assert_eq(send_pkt(&c, 1, &p[0], now++), 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_PEER_UNLATCHED], 1);
	/* A sends 65530..65535, then 0..20 with the rollover counter at 1. */
	c.seq[0] = 65530;
	for (i = 0; i < RTE_DIM(p); i++)
		rtp_next(&c, 0, &p[i]);
	cr_assert_eq(c.seq[0], 21, "the sequence number did not wrap");
	/* The network swaps 65535 and 0: the index of each is still found. */
	for (i = 0; i < RTE_DIM(p); i++) {
		unsigned int j = i == 5 ? 6 : i == 6 ? 5 : i;

		relay(&c, 0, &p[j], now++);
	}
	cr_assert_eq(leg_counters(c.slot, 0).pkts, RTE_DIM(p));
	cr_assert_eq(srtp_drops(stats0()), 0);
}

Test(worker_srtp, verify_follows_the_rollover_counter_across_a_sequence_wrap,
     .init = one_worker, .fini = teardown)
{
	rollover(DUET_MODE_VERIFY);
}

Test(worker_srtp, rekey_follows_the_rollover_counter_across_a_sequence_wrap,
     .init = one_worker, .fini = teardown)
{
	rollover(DUET_MODE_REKEY);
}

/* ---- a restart (issue 10) ------------------------------------------------ */

/*
 * duetd restarted in the middle of a call whose sequence had wrapped, and
 * the pair is put again with the state the previous run wrote back
 * (duet_pair_put_restore): A's next packets are relayed (in rekey
 * re-protected so that B, whose libsrtp2 is at ROC 1, opens them), and
 * A's packets from before the restore point, inside libsrtp2's window or
 * not, before A's leg latched or after, are dropped as srtp_replay and
 * counted on A's leg.
 */
static void
restart_after_wrap(uint8_t mode)
{
	static struct pkt pre[27];
	struct duet_srtp_stream_state st[2];
	struct duet_pair_put_result res;
	struct duet_pair_spec s;
	struct duet_leg_counters la;
	char why[DUET_PAIR_REASON_MAX] = "";
	srtp_t old_relay = NULL;
	uint64_t now = T0;
	struct call c;
	struct pkt p;
	unsigned int i;

	call_start(&c, mode, all_cm80);
	/* What the previous run relayed: A's 65530..65535, 0..20, which B
	 * opened (in rekey as the previous run re-protected them). */
	if (mode == DUET_MODE_REKEY)
		old_relay = srtp_session(out_key(&c, 1), DUET_SRTP_OUTBOUND);
	c.seq[0] = 65530;
	for (i = 0; i < RTE_DIM(pre); i++) {
		uint8_t buf[SRTP_BUF_LEN] __attribute__((aligned(8)));
		int len;

		rtp_next(&c, 0, &pre[i]);
		memcpy(buf, old_relay != NULL ? pre[i].plain : pre[i].wire, pre[i].len);
		len = old_relay != NULL ? (int)srtp_seal(old_relay, buf, pre[i].plain_len)
					: (int)pre[i].len;
		cr_assert_eq(srtp_unprotect(c.rx[1], buf, &len), srtp_err_status_ok);
	}
	/* The restart: the pair again, with a_srtp_in (and b_srtp_out). */
	cr_assert_eq(duet_pair_del(H.pairs, "p1", 2, NULL), 0);
	pair_spec(&s, "p1", mode, EP_A_PORT, EP_B_PORT);
	pair_spec_keys(&s, mode, c.key);
	memset(st, 0, sizeof(st));
	st[0].key = DUET_KEY_A_IN;
	st[1].key = DUET_KEY_B_OUT;
	for (i = 0; i < 2; i++) {
		st[i].ssrc = SSRC_A;
		st[i].has_rtp = 1;
		st[i].roc = 1;
		st[i].seq = 20;
	}
	cr_assert_eq(duet_pair_put_restore(H.pairs, &s, st, mode == DUET_MODE_REKEY ? 2 : 1, 3,
					   &res, why, sizeof(why)),
		     0, "%s", why);
	duet_secure_zero(s.key, sizeof(s.key));
	cr_assert_eq(res.srtp_restored, mode == DUET_MODE_REKEY ? 2 : 1);
	c.slot = (int)res.slot;

	/* B latches (its first packet waits for A); A's replays latch nothing. */
	rtp_next(&c, 1, &p);
	cr_assert_eq(send_pkt(&c, 1, &p, now++), 0);
	for (i = 14; i < RTE_DIM(pre); i++)
		expect_pkt_drop(0, cli_a, MAC_A, pre[i].wire, pre[i].len, now++,
				DUET_DROP_SRTP_REPLAY);
	cr_assert_eq(leg_client(c.slot, 0).ip, 0, "a replay latched leg a");
	for (i = 0; i < 5; i++) {
		rtp_next(&c, 0, &p);
		relay(&c, 0, &p, now++);
	}
	cr_assert_eq(c.seq[0], 26);
	expect_pkt_drop(0, cli_a, MAC_A, pre[26].wire, pre[26].len, now++, DUET_DROP_SRTP_REPLAY);
	la = leg_counters(c.slot, 0);
	cr_assert_eq(la.pkts, 5);
	cr_assert_eq(la.drop_replay, RTE_DIM(pre) - 14 + 1);
	cr_assert_eq(la.drop_auth, 0);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRTP_REPLAY], RTE_DIM(pre) - 14 + 1);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRTP_AUTH], 0);
}

Test(worker_srtp, verify_a_restored_pair_continues_after_a_wrap_and_drops_older_packets,
     .init = one_worker, .fini = teardown)
{
	restart_after_wrap(DUET_MODE_VERIFY);
}

Test(worker_srtp, rekey_a_restored_pair_continues_after_a_wrap_and_drops_older_packets,
     .init = one_worker, .fini = teardown)
{
	restart_after_wrap(DUET_MODE_REKEY);
}

/* ---- key rotation -------------------------------------------------------- */

static void
rotation(uint8_t mode)
{
	/* The grace period is measured on the real TSC (duet_pair_put reads
	 * it), so this test's clock starts there too. */
	uint64_t base = rte_rdtsc();
	uint64_t after_grace = base + rte_get_tsc_hz() / 1000 * (DUET_PAIR_KEY_GRACE_MS + 2000);
	struct duet_leg_counters la;
	srtp_t old_tx, old_b_rx;
	struct call c;
	struct pkt p, first;

	call_start(&c, mode, all_cm80);
	call_latch(&c, base);
	rtp_next(&c, 0, &first);
	relay(&c, 0, &first, base + 3);

	/* The same keys again: an update that changes nothing. */
	cr_assert_eq(call_reput(&c), 1);
	expect_pkt_drop(0, cli_a, MAC_A, first.wire, first.len, base + 4, DUET_DROP_SRTP_REPLAY);
	rtp_next(&c, 0, &p);
	relay(&c, 0, &p, base + 5);

	/* A new a_in (and in rekey a new b_out): same id, endpoints, mode. */
	old_tx = c.tx[0];
	old_b_rx = c.rx[1];
	c.key[DUET_KEY_A_IN] = test_key(CM80, 9);
	if (mode == DUET_MODE_REKEY)
		c.key[DUET_KEY_B_OUT] = test_key(GCM128, 10);
	cr_assert_eq(call_reput(&c), 1, "not updated in place");
	c.tx[0] = srtp_session(&c.key[DUET_KEY_A_IN], DUET_SRTP_OUTBOUND);
	if (mode == DUET_MODE_REKEY)
		c.rx[1] = srtp_session(&c.key[DUET_KEY_B_OUT], DUET_SRTP_INBOUND);
	else
		c.rx[1] = srtp_session(&c.key[DUET_KEY_A_IN], DUET_SRTP_INBOUND);
	cr_assert_eq(leg_client(c.slot, 0).ip, CLI_A, "leg a lost its client");
	cr_assert_eq(leg_client(c.slot, 1).ip, CLI_B, "leg b lost its client");

	/* The new key works at once. */
	rtp_next(&c, 0, &p);
	relay(&c, 0, &p, base + 6);
	/* A packet protected with the old key (on its way before the switch)
	 * still passes during the grace period. */
	rtp_with(old_tx, 0, c.seq[0]++, &p);
	if (mode == DUET_MODE_VERIFY)
		c.rx[1] = old_b_rx;
	relay(&c, 0, &p, base + 7);
	/* ...but not twice. */
	expect_pkt_drop(0, cli_a, MAC_A, p.wire, p.len, base + 8, DUET_DROP_SRTP_REPLAY);
	if (mode == DUET_MODE_VERIFY)
		c.rx[1] = srtp_session(&c.key[DUET_KEY_A_IN], DUET_SRTP_INBOUND);

	/* B is untouched by A's rotation. */
	rtp_next(&c, 1, &p);
	relay(&c, 1, &p, base + 9);

	/* After the grace period the old key is refused; the new one works. */
	rtp_with(old_tx, 0, c.seq[0]++, &p);
	expect_pkt_drop(0, cli_a, MAC_A, p.wire, p.len, after_grace, DUET_DROP_SRTP_AUTH);
	rtp_next(&c, 0, &p);
	relay(&c, 0, &p, after_grace + 1);

	cr_assert_eq(stats0()->latched, 2, "a leg latched again");
	cr_assert_eq(stats0()->relatched, 0);
	la = leg_counters(c.slot, 0);
	cr_assert_eq(la.pkts, 6, "counters restarted? leg a pkts %" PRIu64, la.pkts);
	cr_assert_eq(la.drop_replay, 2);
	cr_assert_eq(la.drop_auth, 1);
}

Test(worker_srtp, verify_a_rotated_key_works_at_once_and_the_old_one_until_the_grace_ends,
     .init = one_worker, .fini = teardown)
{
	rotation(DUET_MODE_VERIFY);
}

Test(worker_srtp, rekey_a_rotated_key_works_at_once_and_the_old_one_until_the_grace_ends,
     .init = one_worker, .fini = teardown)
{
	rotation(DUET_MODE_REKEY);
}

/* ---- passthrough --------------------------------------------------------- */

Test(worker_srtp, passthrough_relays_non_srtp_junk_unchanged, .init = one_worker,
     .fini = teardown)
{
	static const uint8_t junk[] = { 0x00, 0xff, 'j', 'u', 'n', 'k', 0x80 };
	struct duet_sdes k = test_key(CM80, 42);
	srtp_t s = srtp_session(&k, DUET_SRTP_OUTBOUND);
	struct rte_mbuf *out[4];
	struct pkt p;
	int slot = put_default_pair();

	cr_assert_null(duet_pair_srtp_at(H.pairs, 2 * (uint32_t)slot));
	cr_assert_null(duet_pair_srtp_at(H.pairs, 2 * (uint32_t)slot + 1));
	latch_both(slot, T0);
	cr_assert_eq(send_bytes(0, MAC_A, cli_a, ep_a, junk, sizeof(junk), T0 + 1), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	assert_relayed(out[0], MAC_PORT1, MAC_B, ep_b, cli_b, H_TTL, junk, sizeof(junk));
	rte_pktmbuf_free(out[0]);
	/* SRTP nobody here has the key of, and the same frame again. */
	rtp_with(s, 0, 7, &p);
	cr_assert_eq(send_bytes(0, MAC_A, cli_a, ep_a, p.wire, p.len, T0 + 2), 1);
	cr_assert_eq(send_bytes(0, MAC_A, cli_a, ep_a, p.wire, p.len, T0 + 3), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 2);
	assert_relayed(out[0], MAC_PORT1, MAC_B, ep_b, cli_b, H_TTL, p.wire, p.len);
	assert_relayed(out[1], MAC_PORT1, MAC_B, ep_b, cli_b, H_TTL, p.wire, p.len);
	rte_pktmbuf_free_bulk(out, 2);
	cr_assert_eq(srtp_drops(stats0()), 0);
	cr_assert_eq(leg_counters(slot, 0).drop_auth + leg_counters(slot, 0).drop_replay, 0);
}

/* ---- two workers, one direction ------------------------------------------ */

#define HAMMER_TOTAL 20000
#define HAMMER_PLEN 40
#define HAMMER_FRAME 128
#define HAMMER_SECONDS 60
#define HAMMER_SEQ0 2000

struct srtp_hammer {
	unsigned int widx;
	uint8_t mode;
	const uint8_t *frames;	  /* HAMMER_TOTAL frames of A, HAMMER_FRAME bytes apart */
	const uint16_t *flen;	  /* their lengths */
	srtp_t b_rx;		  /* this lcore's B: opens what it relayed (rekey) */
	uint64_t deadline;	  /* TSC */
	volatile unsigned int *turn; /* both lcores step through the bursts together */
	uint64_t sent, got, bad;
	char why[160];
};

static void
hammer_bad(struct srtp_hammer *h, const char *why)
{
	if (h->bad++ == 0)
		snprintf(h->why, sizeof(h->why), "worker %u: %s", h->widx, why);
}

/* Is the relayed frame m one of frames first, first + 2, ... (< end)? It
 * must come after *cursor (order is kept). Runs on the worker's lcore: no
 * cr_assert here. */
static void
hammer_check(struct srtp_hammer *h, struct rte_mbuf *m, unsigned int *cursor, unsigned int end)
{
	const uint8_t *f = data_of(m), *ip = f + IP_OFF;
	uint8_t opened[SRTP_BUF_LEN] __attribute__((aligned(16)));
	int l;

	if (get32(ip + 16) != CLI_B || get16(ip + 22) != CLI_B_PORT || get32(ip + 12) != SVC1 ||
	    !ip_cksum_ok(ip) || !udp_cksum_ok(ip) || memcmp(f, MAC_B, 6) != 0) {
		hammer_bad(h, "wrong addresses or checksums toward B");
		return;
	}
	if (h->mode == DUET_MODE_VERIFY) {
		for (; *cursor < end; *cursor += 2) {
			const uint8_t *sent = h->frames + (size_t)*cursor * HAMMER_FRAME;
			size_t plen = (size_t)m->data_len - PAYLOAD_OFF;

			if (h->flen[*cursor] == m->data_len &&
			    memcmp(sent + PAYLOAD_OFF, f + PAYLOAD_OFF, plen) == 0)
				break;
		}
	} else {
		uint16_t seq;
		size_t i;

		l = (int)get16(ip + 24) - 8;
		if (l <= 0 || l > (int)sizeof(opened)) {
			hammer_bad(h, "bad UDP length");
			return;
		}
		memcpy(opened, f + PAYLOAD_OFF, (size_t)l);
		if (srtp_unprotect(h->b_rx, opened, &l) != srtp_err_status_ok ||
		    l != RTP_HLEN + HAMMER_PLEN) {
			hammer_bad(h, "B cannot open a relayed packet");
			return;
		}
		seq = get16(opened + 2);
		for (i = 0; i < HAMMER_PLEN; i++)
			if (opened[RTP_HLEN + i] != (uint8_t)(seq * 7 + i * 13 + 1))
				break;
		if (i != HAMMER_PLEN) {
			hammer_bad(h, "plaintext changed");
			return;
		}
		for (; *cursor < end; *cursor += 2)
			if ((uint16_t)(HAMMER_SEQ0 + *cursor) == seq)
				break;
	}
	if (*cursor >= end) {
		hammer_bad(h, "a relayed packet that was not sent (or out of order)");
		return;
	}
	*cursor += 2;
}

/* Worker widx sends A's frames widx, widx + 2, ... to leg a in bursts,
 * while the other worker does the same with the others. The two meet
 * after every burst, so their indices never drift more than two bursts
 * apart: far inside the replay window, so that no packet is a replay
 * unless the SRTP state was broken. */
static int
hammer_run(void *arg)
{
	struct srtp_hammer *h = arg;
	struct duet_worker *w = &H.workers[h->widx];
	struct rte_mbuf *pkts[DUET_WORKER_BURST], *out[2 * DUET_WORKER_BURST];
	unsigned int next = h->widx, first, cursor, i, round = 0;
	uint16_t n, k;

	if (duet_srtp_engine_get() == DUET_SRTP_ENGINE_BURST && duet_srtp_lcore_init() != 0) {
		hammer_bad(h, "no burst engine manager");
		return -1;
	}
	if (duet_pair_worker_register(H.pairs, h->widx) != 0) {
		hammer_bad(h, "RCU register failed");
		return -1;
	}
	while (next < HAMMER_TOTAL) {
		/* Meet the other lcore, then both send at once. */
		round++;
		__atomic_add_fetch(h->turn, 1, __ATOMIC_ACQ_REL);
		while (__atomic_load_n(h->turn, __ATOMIC_ACQUIRE) < 2 * round &&
		       rte_rdtsc() < h->deadline)
			rte_pause();
		if (rte_rdtsc() >= h->deadline)
			break;
		first = next;
		for (n = 0; n < DUET_WORKER_BURST && next < HAMMER_TOTAL; n++, next += 2) {
			pkts[n] = rte_pktmbuf_alloc(H.mp);
			if (pkts[n] == NULL) {
				hammer_bad(h, "mempool empty");
				rte_pktmbuf_free_bulk(pkts, n);
				goto out;
			}
			memcpy(rte_pktmbuf_append(pkts[n], h->flen[next]),
			       h->frames + (size_t)next * HAMMER_FRAME, h->flen[next]);
		}
		h->sent += n;
		duet_worker_burst(w, 0, pkts, n, rte_rdtsc());
		duet_worker_flush(w);
		k = rx_all(1, (uint16_t)h->widx, out, (uint16_t)RTE_DIM(out));
		cursor = first;
		for (i = 0; i < k; i++)
			hammer_check(h, out[i], &cursor, next);
		h->got += k;
		rte_pktmbuf_free_bulk(out, k);
		if (rx_all(0, (uint16_t)h->widx, out, (uint16_t)RTE_DIM(out)) != 0)
			hammer_bad(h, "something sent toward A");
		duet_pair_quiescent(H.pairs, h->widx);
	}
out:
	duet_pair_worker_unregister(H.pairs, h->widx);
	duet_srtp_lcore_fini();
	return 0;
}

static void
two_workers_share_one_direction(uint8_t mode)
{
	static volatile unsigned int turn;
	const enum duet_srtp_suite su[DUET_KEY_COUNT] = { CM80, CM80, CM80, GCM128 };
	struct duet_lcore_stats before[2];
	struct duet_leg_counters la0, la;
	struct srtp_hammer h[2];
	uint8_t *frames;
	uint16_t *flen;
	uint64_t sent = 0, fwd = 0, busy = 0, replay = 0, other = 0;
	uint8_t rtp[SRTP_BUF_LEN];
	struct call c;
	unsigned int i;

	/* Latch both legs through worker 0, as in the other tests. */
	register_worker(0);
	call_start(&c, mode, su);
	call_latch(&c, rte_rdtsc());
	duet_pair_worker_unregister(H.pairs, 0);
	H.registered[0] = false;
	for (i = 0; i < 2; i++) {
		H.workers[i].silence_tsc = rte_get_tsc_hz() * 3600;
		before[i] = *H.workers[i].stats;
	}
	la0 = leg_counters(c.slot, 0);

	/* A's packets, protected in order on this thread (libsrtp2 sessions
	 * are not shared between threads). */
	frames = malloc((size_t)HAMMER_TOTAL * HAMMER_FRAME);
	flen = malloc(HAMMER_TOTAL * sizeof(*flen));
	cr_assert(frames != NULL && flen != NULL);
	for (i = 0; i < HAMMER_TOTAL; i++) {
		size_t len = build_srtp(c.tx[0], SSRC_A, (uint16_t)(HAMMER_SEQ0 + i), HAMMER_PLEN,
					rtp, NULL);

		flen[i] = (uint16_t)build_udp(frames + (size_t)i * HAMMER_FRAME, MAC_A, MAC_PORT0,
					      cli_a, ep_a, 64, rtp, len);
		cr_assert_leq(flen[i], HAMMER_FRAME);
	}

	memset(h, 0, sizeof(h));
	for (i = 0; i < 2; i++) {
		h[i].widx = i;
		h[i].mode = mode;
		h[i].frames = frames;
		h[i].flen = flen;
		h[i].turn = &turn;
		h[i].deadline = rte_rdtsc() + rte_get_tsc_hz() * HAMMER_SECONDS;
		if (mode == DUET_MODE_REKEY)
			h[i].b_rx = srtp_session(&c.key[DUET_KEY_B_OUT], DUET_SRTP_INBOUND);
	}
	cr_assert_eq(rte_eal_remote_launch(hammer_run, &h[1], 1), 0);
	hammer_run(&h[0]);
	cr_assert_eq(rte_eal_wait_lcore(1), 0);
	free(frames);
	free(flen);

	for (i = 0; i < 2; i++) {
		const struct duet_lcore_stats *s = H.workers[i].stats;
		uint64_t f = s->fwd_pkts - before[i].fwd_pkts;
		uint64_t b = s->drops[DUET_DROP_SRTP_BUSY] - before[i].drops[DUET_DROP_SRTP_BUSY];
		uint64_t r = s->drops[DUET_DROP_SRTP_REPLAY] -
			     before[i].drops[DUET_DROP_SRTP_REPLAY];

		cr_assert_eq(h[i].bad, 0, "%" PRIu64 " bad frames; first: %s", h[i].bad, h[i].why);
		assert_accounting(s);
		cr_assert_eq(h[i].got, f, "worker %u: relayed %" PRIu64 ", read back %" PRIu64, i,
			     f, h[i].got);
		cr_assert_eq(f + b + r, h[i].sent,
			     "worker %u: fwd %" PRIu64 " + busy %" PRIu64 " + replay %" PRIu64
			     " != sent %" PRIu64,
			     i, f, b, r, h[i].sent);
		other += total_drops(s) - total_drops(&before[i]) - b - r;
		sent += h[i].sent;
		fwd += f;
		busy += b;
		replay += r;
	}
	cr_assert_eq(other, 0, "%" PRIu64 " drops for other reasons (srtp_auth %" PRIu64 ")",
		     other,
		     H.workers[0].stats->drops[DUET_DROP_SRTP_AUTH] +
			     H.workers[1].stats->drops[DUET_DROP_SRTP_AUTH]);
	cr_assert_eq(sent, HAMMER_TOTAL, "sent %" PRIu64 " in %d s", sent, HAMMER_SECONDS);
	cr_assert_eq(fwd + busy + replay, sent);
	/* Distinct indices, never further apart than the window: a replay
	 * here would mean two lcores used the session at once. */
	cr_assert_eq(replay, 0, "%" PRIu64 " srtp_replay drops", replay);
	cr_assert_gt(fwd, 0);
	la = leg_counters(c.slot, 0);
	cr_assert_eq(la.pkts - la0.pkts, fwd);
	cr_assert_eq(la.drop_replay - la0.drop_replay, replay);
	cr_assert_eq(la.drop_auth, la0.drop_auth);
	cr_assert_eq(leg_client(c.slot, 0).ip, CLI_A);
	cr_assert_eq(H.workers[0].stats->relatched + H.workers[1].stats->relatched, 0);
	cr_log_info("%s: %" PRIu64 " sent, %" PRIu64 " relayed, %" PRIu64 " srtp_busy, %" PRIu64
		    " srtp_replay",
		    duet_mode_name(mode), sent, fwd, busy, replay);
}

Test(worker_srtp, verify_two_workers_on_one_direction_count_every_packet_once,
     .init = two_workers, .fini = teardown, .timeout = 240)
{
	two_workers_share_one_direction(DUET_MODE_VERIFY);
}

Test(worker_srtp, rekey_two_workers_on_one_direction_count_every_packet_once,
     .init = two_workers, .fini = teardown, .timeout = 240)
{
	two_workers_share_one_direction(DUET_MODE_REKEY);
}

/* ---- issue 8: the SSRC cap -------------------------------------------------- */

/* Authentic SRTP with SSRC ssrc from A. */
static void
rtp_ssrc(srtp_t s, uint32_t ssrc, uint16_t seq, struct pkt *p)
{
	p->plain_len = build_rtp(p->plain, ssrc, seq, PLEN);
	memcpy(p->wire, p->plain, p->plain_len);
	p->len = srtp_seal(s, p->wire, p->plain_len);
}

static void
ssrc_cap_holds(uint8_t mode)
{
	const enum duet_srtp_suite su[DUET_KEY_COUNT] = { CM80, CM80, CM80, CM80 };
	struct duet_srtp_ctx *sc;
	struct rte_mbuf *out[64];
	struct call c;
	struct pkt p;
	unsigned int i, relayed = 0;
	uint16_t n;

	call_start(&c, mode, su);
	call_latch(&c, T0);
	/* The call's own SSRC is one of the 4; 200 more from the key holder. */
	for (i = 0; i < 200; i++) {
		rtp_ssrc(c.tx[0], 0x10000000u + i, 1, &p);
		relayed += send_pkt(&c, 0, &p, T0 + 10 + i);
		while ((n = rx_all(1, 0, out, 64)) != 0)
			rte_pktmbuf_free_bulk(out, n);
	}
	cr_assert_eq(relayed, 3, "relayed %u new SSRCs, cap leaves room for 3", relayed);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRTP_SSRC_LIMIT], 197);
	sc = duet_pair_srtp_at(H.pairs, 2 * (uint32_t)c.slot);
	cr_assert_eq(sc->n_ssrc, 4);
	/* The call goes on: its SSRC is one of the four. */
	rtp_next(&c, 0, &p);
	cr_assert_eq(send_pkt(&c, 0, &p, T0 + 500), 1);
	cr_assert_eq(rx_all(1, 0, out, 4), 1);
	rte_pktmbuf_free(out[0]);
	/* After the silence a new SSRC replaces the stream silent longest. */
	rtp_ssrc(c.tx[0], 0x20000000u, 1, &p);
	cr_assert_eq(send_pkt(&c, 0, &p, T0 + 500 + 2 * SILENCE), 1);
	cr_assert_eq(stats0()->srtp_streams_removed, 1);
	cr_assert_eq(sc->n_ssrc, 4);
	while ((n = rx_all(1, 0, out, 64)) != 0)
		rte_pktmbuf_free_bulk(out, n);
	/* A forged packet with yet another SSRC, when streams are silent
	 * enough to be replaced: it takes no slot and evicts nothing. */
	rtp_ssrc(c.tx[1], 0x30000000u, 1, &p); /* B's key: wrong for leg a */
	cr_assert_eq(send_pkt(&c, 0, &p, T0 + 600 + 4 * SILENCE), 0);
	cr_assert_eq(sc->n_ssrc, 4);
	cr_assert_eq(stats0()->srtp_streams_removed, 1);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRTP_AUTH], 1);
}

Test(worker_srtp, verify_keeps_at_most_srtp_max_ssrc_streams_per_direction, .init = one_worker,
     .fini = teardown)
{
	ssrc_cap_holds(DUET_MODE_VERIFY);
}

Test(worker_srtp, rekey_keeps_at_most_srtp_max_ssrc_streams_per_direction, .init = one_worker,
     .fini = teardown)
{
	ssrc_cap_holds(DUET_MODE_REKEY);
}

#ifdef DUET_TEST_ENGINE_BURST
/* ---- batches: one engine call per received burst (burst engine) --------- */

/* Send n packets of the client of `leg` as one received burst. */
static uint16_t
send_burst(const struct call *c, unsigned int leg, const struct pkt *p, unsigned int n,
	   uint64_t now)
{
	struct rte_mbuf *m[DUET_WORKER_BURST];
	uint8_t f[1600];
	unsigned int i;

	cr_assert_leq(n, DUET_WORKER_BURST);
	for (i = 0; i < n; i++)
		m[i] = mbuf_of(f, build_udp(f, c->mac[leg], leg == 0 ? MAC_PORT0 : MAC_PORT1,
					    c->where[leg], *endpoint(leg), 64, p[i].wire,
					    p[i].len));
	return burst_on(0, leg, m, (uint16_t)n, now);
}

/* Exactly the packets p[i] with keep[i] reached the other leg, in order. */
static void
expect_burst_delivered(const struct call *c, unsigned int from, const struct pkt *p,
		       const bool *keep, unsigned int n)
{
	struct rte_mbuf *out[2 * DUET_WORKER_BURST];
	unsigned int i, k = 0, want = 0;
	uint16_t got;

	for (i = 0; i < n; i++)
		want += keep[i];
	cr_assert_eq(rx_all(from, 0, out, 4), 0, "relayed back out of the port it came in on");
	got = rx_all(from ^ 1, 0, out, 2 * DUET_WORKER_BURST);
	cr_assert_eq(got, want, "relayed %u of the burst, expected %u", got, want);
	for (i = 0; i < n; i++)
		if (keep[i])
			check_relayed(c, from ^ 1, out[k++], &p[i]);
}

struct batch_count {
	uint64_t batches, pkts;
};

static struct batch_count
batch_count(void)
{
	return (struct batch_count){stats0()->srtp_batches, stats0()->srtp_batched_pkts};
}

static void
one_burst_is_one_batch(uint8_t mode, enum duet_srtp_suite suite)
{
	const enum duet_srtp_suite all[DUET_KEY_COUNT] = {suite, suite, suite, suite};
	static struct pkt p[DUET_WORKER_BURST];
	bool keep[DUET_WORKER_BURST];
	struct duet_leg_counters before;
	struct batch_count b0;
	struct call c;
	unsigned int i;

	call_start(&c, mode, all);
	call_latch(&c, T0);
	before = leg_counters(c.slot, 0);
	b0 = batch_count();
	for (i = 0; i < DUET_WORKER_BURST; i++) {
		rtp_next(&c, 0, &p[i]);
		keep[i] = true;
	}
	cr_assert_eq(send_burst(&c, 0, p, DUET_WORKER_BURST, T0 + 10), DUET_WORKER_BURST);
	cr_assert_eq(batch_count().batches - b0.batches, 1, "one engine batch for the burst");
	cr_assert_eq(batch_count().pkts - b0.pkts, DUET_WORKER_BURST);
	expect_burst_delivered(&c, 0, p, keep, DUET_WORKER_BURST);
	cr_assert_eq(leg_counters(c.slot, 0).pkts - before.pkts, DUET_WORKER_BURST);
	cr_assert_eq(srtp_drops(stats0()), 0);
}

Test(worker_srtp, verify_a_burst_of_32_is_one_batch_aes_cm_80, .init = one_worker,
     .fini = teardown)
{
	one_burst_is_one_batch(DUET_MODE_VERIFY, CM80);
}

Test(worker_srtp, verify_a_burst_of_32_is_one_batch_gcm_128, .init = one_worker,
     .fini = teardown)
{
	one_burst_is_one_batch(DUET_MODE_VERIFY, GCM128);
}

Test(worker_srtp, rekey_a_burst_of_32_is_one_batch_aes_cm_32, .init = one_worker,
     .fini = teardown)
{
	one_burst_is_one_batch(DUET_MODE_REKEY, CM32);
}

Test(worker_srtp, rekey_a_burst_of_32_is_one_batch_gcm_256, .init = one_worker,
     .fini = teardown)
{
	one_burst_is_one_batch(DUET_MODE_REKEY, GCM256);
}

/* In one batch: a tampered packet and two replays (one of an earlier
 * packet of the same burst, one of the packet just before) are dropped as
 * such; every other packet goes through, in order. */
static void
a_batch_sorts_out_forgeries_and_replays(uint8_t mode, enum duet_srtp_suite suite)
{
	const enum duet_srtp_suite all[DUET_KEY_COUNT] = {suite, suite, suite, suite};
	static struct pkt p[DUET_WORKER_BURST];
	bool keep[DUET_WORKER_BURST];
	uint64_t auth0, replay0;
	struct call c;
	unsigned int i;

	call_start(&c, mode, all);
	call_latch(&c, T0);
	auth0 = stats0()->drops[DUET_DROP_SRTP_AUTH];
	replay0 = stats0()->drops[DUET_DROP_SRTP_REPLAY];
	for (i = 0; i < DUET_WORKER_BURST; i++) {
		rtp_next(&c, 0, &p[i]);
		keep[i] = true;
	}
	p[5].wire[40] ^= 0x01;
	keep[5] = false;
	p[10] = p[3];
	keep[10] = false;
	p[20] = p[19];
	keep[20] = false;
	cr_assert_eq(send_burst(&c, 0, p, DUET_WORKER_BURST, T0 + 10), DUET_WORKER_BURST - 3);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRTP_AUTH] - auth0, 1);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRTP_REPLAY] - replay0, 2);
	expect_burst_delivered(&c, 0, p, keep, DUET_WORKER_BURST);
}

Test(worker_srtp, verify_a_batch_drops_forged_and_replayed_packets_and_keeps_the_rest,
     .init = one_worker, .fini = teardown)
{
	a_batch_sorts_out_forgeries_and_replays(DUET_MODE_VERIFY, CM80);
}

Test(worker_srtp, rekey_gcm_a_batch_drops_forged_and_replayed_packets_and_keeps_the_rest,
     .init = one_worker, .fini = teardown)
{
	a_batch_sorts_out_forgeries_and_replays(DUET_MODE_REKEY, GCM128);
}

/* A key whose lifetime ends inside a batch takes exactly what it has left. */
static void
a_key_runs_out_inside_a_batch(uint8_t mode)
{
	unsigned int key = mode == DUET_MODE_REKEY ? DUET_KEY_B_OUT : DUET_KEY_A_IN;
	unsigned int used = mode == DUET_MODE_REKEY ? 1 : 2, i;
	static struct pkt p[16];
	bool keep[16];
	struct call c;

	call_start(&c, mode, all_cm80);
	call_latch(&c, T0);
	c.key[key].lifetime = 10;
	cr_assert_eq(call_reput(&c), 1, "updated in place");
	for (i = 0; i < 16; i++) {
		rtp_next(&c, 0, &p[i]);
		keep[i] = i < 10 - used;
	}
	cr_assert_eq(send_burst(&c, 0, p, 16, T0 + 10), 10 - used);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRTP_KEY_EXPIRED], 16 - (10 - used));
	expect_burst_delivered(&c, 0, p, keep, 16);
}

Test(worker_srtp, verify_a_key_that_runs_out_inside_a_batch_takes_what_it_has_left,
     .init = one_worker, .fini = teardown)
{
	a_key_runs_out_inside_a_batch(DUET_MODE_VERIFY);
}

Test(worker_srtp, rekey_a_key_that_runs_out_inside_a_batch_takes_what_it_has_left,
     .init = one_worker, .fini = teardown)
{
	a_key_runs_out_inside_a_batch(DUET_MODE_REKEY);
}

/* SRTCP goes alone: the batch before it is flushed first, so the burst
 * leaves in the order it came, in two batches around the report. */
Test(worker_srtp, an_srtcp_report_in_a_burst_splits_the_batch_and_keeps_the_order,
     .init = one_worker, .fini = teardown)
{
	static struct pkt p[21];
	bool keep[21];
	struct batch_count b0;
	struct call c;
	unsigned int i;

	call_start(&c, DUET_MODE_REKEY, all_cm80);
	call_latch(&c, T0);
	b0 = batch_count();
	for (i = 0; i < 21; i++) {
		if (i == 10)
			rtcp_sr(&c, 0, 1, &p[i]);
		else
			rtp_next(&c, 0, &p[i]);
		keep[i] = true;
	}
	cr_assert_eq(send_burst(&c, 0, p, 21, T0 + 10), 21);
	cr_assert_eq(batch_count().batches - b0.batches, 2);
	cr_assert_eq(batch_count().pkts - b0.pkts, 20);
	expect_burst_delivered(&c, 0, p, keep, 21);
}

/* Frames from several sources to several endpoints of one port, as one
 * received burst. */
struct frame_spec {
	struct ep src;
	struct ep dst;
	const uint8_t *smac;
	const struct pkt *p;
};

static uint16_t
send_frames(unsigned int in, const struct frame_spec *f, unsigned int n, uint64_t now)
{
	struct rte_mbuf *m[DUET_WORKER_BURST];
	uint8_t b[1600];
	unsigned int i;

	cr_assert_leq(n, DUET_WORKER_BURST);
	for (i = 0; i < n; i++)
		m[i] = mbuf_of(b, build_udp(b, f[i].smac, in == 0 ? MAC_PORT0 : MAC_PORT1, f[i].src,
					    f[i].dst, 64, f[i].p->wire, f[i].p->len));
	return burst_on(0, in, m, (uint16_t)n, now);
}

/*
 * The client has been silent past the re-latch silence; a burst brings
 * four of its packets and, last, a copy of its next one from another
 * address (someone on its path). The copy is judged on the leg as the
 * four left it: refused before any crypto, so the client's own next
 * packet is not a replay.
 */
Test(worker_srtp, a_copy_from_elsewhere_in_the_burst_is_refused_after_the_clients_packets,
     .init = one_worker, .fini = teardown)
{
	static struct pkt p[5], next;
	struct frame_spec f[5];
	uint64_t rej0, replay0;
	struct call c;
	unsigned int i;

	call_start(&c, DUET_MODE_VERIFY, all_cm80);
	call_latch(&c, T0);
	for (i = 0; i < 5; i++) {
		rtp_next(&c, 0, &p[i]);
		f[i] = (struct frame_spec){cli_a, ep_a, MAC_A, &p[i]};
	}
	next = p[4];
	f[4].src = cli_c;
	rej0 = stats0()->drops[DUET_DROP_SRC_REJECTED];
	replay0 = stats0()->drops[DUET_DROP_SRTP_REPLAY];
	cr_assert_eq(send_frames(0, f, 5, T0 + 10 * SILENCE), 4);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRC_REJECTED] - rej0, 1, "the copy");
	cr_assert_eq(leg_client(c.slot, 0).ip, CLI_A, "the leg stays with its client");
	expect_burst_delivered(&c, 0, p, (const bool[]){true, true, true, true, false}, 5);
	relay(&c, 0, &next, T0 + 10 * SILENCE + 1);
	cr_assert_eq(stats0()->drops[DUET_DROP_SRTP_REPLAY], replay0);
}

/*
 * A second keyed pair's first packet in the same burst as a batch of the
 * first pair's: the batch goes first, the newcomer latches its leg, and
 * the burst reports every packet it relayed.
 */
Test(worker_srtp, a_first_packet_after_a_batch_in_one_burst_keeps_the_relayed_count,
     .init = one_worker, .fini = teardown)
{
	static struct pkt p[5];
	struct duet_sdes key2[DUET_KEY_COUNT];
	struct duet_pair_spec s;
	char why[DUET_PAIR_REASON_MAX] = "";
	const struct ep ep2 = {SVC0, EP_A_PORT + 10};
	struct frame_spec f[5];
	struct call c;
	unsigned int i, k;
	srtp_t tx2;
	int slot2;

	call_start(&c, DUET_MODE_VERIFY, all_cm80);
	call_latch(&c, T0);
	for (k = 0; k < DUET_KEY_COUNT; k++)
		key2[k] = test_key(CM80, (uint8_t)(k + 11));
	pair_spec(&s, "p2", DUET_MODE_VERIFY, EP_A_PORT + 10, EP_B_PORT + 10);
	pair_spec_keys(&s, DUET_MODE_VERIFY, key2);
	cr_assert_eq(duet_pair_put(H.pairs, &s, 1, NULL, why, sizeof(why)), 0, "%s", why);
	duet_secure_zero(s.key, sizeof(s.key));
	slot2 = duet_pair_find(H.pairs, "p2");
	cr_assert_geq(slot2, 0);
	tx2 = srtp_session(&key2[DUET_KEY_A_IN], DUET_SRTP_OUTBOUND);
	for (i = 0; i < 4; i++) {
		rtp_next(&c, 0, &p[i]);
		f[i] = (struct frame_spec){cli_a, ep_a, MAC_A, &p[i]};
	}
	rtp_with(tx2, 0, 7000, &p[4]);
	f[4] = (struct frame_spec){cli_c, ep2, MAC_A, &p[4]};
	cr_assert_eq(send_frames(0, f, 5, T0 + 10), 4, "p1's four, counted");
	cr_assert_eq(leg_client(slot2, 0).ip, CLI_C, "p2's leg a latched");
	expect_burst_delivered(&c, 0, p, (const bool[]){true, true, true, true, false}, 5);
}
#endif /* DUET_TEST_ENGINE_BURST */
