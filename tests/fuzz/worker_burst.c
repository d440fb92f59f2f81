/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for duet_worker_burst(), the worker's whole fast path: parse,
 * lookup, latching, policing, SRTP verify and rekey, rewrite, transmit. The
 * set-up is the lib/worker unit tests' own (tests/unit/worker/
 * worker_harness.c, compiled in): an EAL without hugepages, two net_ring
 * ports, worker 0 on the main lcore, made once in LLVMFuzzerInitialize.
 * Every input starts from the same table: a passthrough pair "pt"
 * (endpoints 20000/20002), a verify pair "vf" (20004/20006) and a rekey
 * pair "rk" (20008/20010), put again before each input so no latch, replay
 * window or policer carries over from the last one.
 *
 * The ports have an IPv4 and an IPv6 service address each and gateways of
 * both families (whose MACs are forgotten before each input).
 * Input: one config byte, then frames, each [ctl][len hi][len lo][bytes].
 *   config: bits 0-1 the passthrough pair's relatch policy; bits 2-3 the
 *           keyed pairs' SRTP suite; bit 4 pins "pt" leg a to client A;
 *           bit 5 gives "pt" a policer of 2 packets/s; bit 6 puts every
 *           pair's leg b on port 1's IPv6 address, bit 7 every leg a on
 *           port 0's (so IPv4, IPv6 and both ways of the bridge), with
 *           IPv6 clients on those legs.
 *   ctl:    bits 0-2 where to: 0-5 pair (pt, vf, rk) x leg (a, b), the
 *           bytes being the UDP payload from a client to that endpoint;
 *           6 and 7 a raw Ethernet frame on port 0 or 1.
 *           bits 3-4 for a pair: who sends (the leg's client, a stranger,
 *           the other leg's client, the leg's client from another port);
 *           for a raw frame: the NIC's checksum flags (none, IP good, IP
 *           bad, L4 bad).
 *           bit 5 protect the payload first with the sender's SRTP key
 *           (keyed pairs), so the fuzzer reaches past authentication.
 *           bits 6-7 time that passes before the frame: none, a quarter of
 *           the re-latch silence, twice the silence, one second.
 * Consecutive frames on one port at one time make one burst (at most
 * DUET_WORKER_BURST). After the last burst the target flushes and checks:
 * every received frame is accounted for exactly once; what was sent parses
 * and leaves from the relay's own MAC and service address; and, when every
 * frame was one the target built, a relayed datagram has a right UDP
 * checksum and carries what the other leg's client sent: the same bytes in
 * passthrough and verify, in rekey a packet that this leg's client opens
 * with its own key to find what the other client sealed. Last, every mbuf
 * is back in the pool. Test process only.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "worker_harness.h"
#include "fuzz_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_PAIRS 3
#define MAX_FRAME 1514
#define RAW_PORT0 6
#define RAW_PORT1 7
/* The IPv6 clients (bits 6, 7 of the config byte): A, B, and strangers. */
#define CLI_A6 "2001:db8:a::10"
#define CLI_B6 "2001:db8:b::10"
#define CLI_C6 "2001:db8:a::66"
#define CLI_D6 "2001:db8:b::77"

static const char *const pair_ids[N_PAIRS] = { "pt", "vf", "rk" };
static const uint8_t pair_modes[N_PAIRS] = { DUET_MODE_PASSTHROUGH, DUET_MODE_VERIFY,
					     DUET_MODE_REKEY };
static const uint8_t relatch_of[4] = { DUET_RELATCH_SSRC, DUET_RELATCH_ANY, DUET_RELATCH_NEVER,
				       DUET_RELATCH_ANY };

static unsigned int pool_full; /* free mbufs with nothing in flight */
static bool leg_v6[2];		/* this input: leg a's, leg b's family is IPv6 */
static bool tracing;		/* DUET_FUZZ_TRACE is set */

/* Endpoint port of pair p, leg l. */
static uint16_t
ep_port(unsigned int p, unsigned int l)
{
	return (uint16_t)(EP_A_PORT + 4 * p + 2 * l);
}

/* The keys of keyed pair p in suite s: a_in, a_out, b_in, b_out. */
static void
pair_keys(unsigned int p, enum duet_srtp_suite s, struct duet_sdes key[DUET_KEY_COUNT])
{
	unsigned int k;

	for (k = 0; k < DUET_KEY_COUNT; k++)
		key[k] = test_key(s, (uint8_t)(16 * p + k));
}

/* Put the three pairs again from scratch: deleted first, so a put never
 * updates in place and keeps state from the last input. */
static void
pairs_reset(uint8_t config)
{
	enum duet_srtp_suite suite = (enum duet_srtp_suite)((config >> 2) & 3);
	struct duet_sdes key[DUET_KEY_COUNT];
	struct duet_pair_spec s;
	char why[DUET_PAIR_REASON_MAX];
	unsigned int p, l;
	int rc;

	leg_v6[0] = (config & 0x80) != 0;
	leg_v6[1] = (config & 0x40) != 0;
	for (p = 0; p < 2; p++) {
		H.ports[p].gateway_mac = 0;
		H.ports[p].gateway6_mac = 0;
		duet_port_arp_asked(&H.ports[p], 0);
		duet_port_nd_asked(&H.ports[p], 0);
	}
	for (p = 0; p < N_PAIRS; p++)
		duet_pair_del(H.pairs, pair_ids[p], 0, NULL);
	duet_pair_quiescent(H.pairs, 0);
	duet_pair_reclaim(H.pairs);
	for (p = 0; p < N_PAIRS; p++) {
		pair_spec(&s, pair_ids[p], pair_modes[p], ep_port(p, 0), ep_port(p, 1));
		for (l = 0; l < 2; l++) {
			if (!leg_v6[l])
				continue;
			if (duet_addr_parse_ip(l == 0 ? SVC0_6 : SVC1_6, &s.ep[l]) != 0)
				abort();
			s.ep[l].port = htons(ep_port(p, l));
		}
		if (pair_modes[p] == DUET_MODE_PASSTHROUGH) {
			s.relatch = relatch_of[config & 3];
			if ((config & 0x10) && leg_v6[0]) {
				if (duet_addr_parse_ip(CLI_A6, &s.pin[0]) != 0)
					abort();
				s.pin[0].port = htons(cli_a.port);
			} else if (config & 0x10) {
				duet_addr_set4(&s.pin[0], htonl(cli_a.ip), htons(cli_a.port));
			}
			if (config & 0x20)
				s.max_pps = 2;
		} else {
			pair_keys(p, suite, key);
			pair_spec_keys(&s, pair_modes[p], key);
		}
		why[0] = '\0';
		rc = duet_pair_put(H.pairs, &s, 0, NULL, why, sizeof(why));
		duet_secure_zero(s.key, sizeof(s.key));
		if (rc != 0) {
			fprintf(stderr, "worker_burst: pair %s: %d %s\n", pair_ids[p], rc, why);
			abort();
		}
	}
	/* The relay-wide budgets start full, as at the first input. */
	duet_worker_budgets_init(H.budgets, &H.conf, rte_get_tsc_hz(), T0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	one_worker_dual();
	atexit(teardown);
	pool_full = rte_mempool_avail_count(H.mp);
	tracing = getenv("DUET_FUZZ_TRACE") != NULL;
	return 0;
}

/* What one input sent and holds, for checking what came out. */
#define MAX_SENT 128
struct sent {
	uint8_t pair, leg;
	uint16_t len, plain_len;
	uint8_t bytes[MAX_FRAME]; /* the UDP payload as sent */
	uint8_t plain[MAX_FRAME]; /* the same before SRTP protection */
};

struct input {
	enum duet_srtp_suite suite;
	srtp_t client_out[N_PAIRS][2]; /* what leg l's client protects with */
	srtp_t client_in[N_PAIRS][2];  /* what leg l's client unprotects with (rekey) */
	bool raw;		       /* a raw frame was sent: payloads unknown */
	unsigned int n_sent;	       /* past MAX_SENT: payloads not all kept */
	struct sent sent[MAX_SENT];
};

/* Leg l's client's session of pair p, made when first asked for: outbound
 * with the key it sends with (a_in, b_in), inbound with the key the relay
 * sends to it with (a_out, b_out). */
static srtp_t
client_session(struct input *in, unsigned int p, unsigned int l, enum duet_srtp_dir dir)
{
	srtp_t *s = dir == DUET_SRTP_OUTBOUND ? &in->client_out[p][l] : &in->client_in[p][l];
	struct duet_sdes key[DUET_KEY_COUNT];
	unsigned int k;

	if (*s == NULL) {
		pair_keys(p, in->suite, key);
		if (dir == DUET_SRTP_OUTBOUND)
			k = l == 0 ? DUET_KEY_A_IN : DUET_KEY_B_IN;
		else
			k = l == 0 ? DUET_KEY_A_OUT : DUET_KEY_B_OUT;
		if (duet_srtp_session_new(&key[k], dir, s) != 0)
			*s = NULL;
		duet_secure_zero(key, sizeof(key));
	}
	return *s;
}

static void
sessions_free(struct input *in)
{
	unsigned int p, l;

	for (p = 0; p < N_PAIRS; p++) {
		for (l = 0; l < 2; l++) {
			if (in->client_out[p][l] != NULL)
				duet_srtp_session_free(in->client_out[p][l]);
			if (in->client_in[p][l] != NULL)
				duet_srtp_session_free(in->client_in[p][l]);
		}
	}
}

/* Protect payload (len bytes) as the client would. @return the new length,
 * or len unchanged when libsrtp2 refuses it (not RTP, a repeated index):
 * then it goes out as it came, which is a test too. */
static size_t
seal(srtp_t s, uint8_t *payload, size_t len)
{
	uint8_t buf[MAX_FRAME + SRTP_MAX_TRAILER_LEN + 4] __attribute__((aligned(16)));
	int l = (int)len;
	srtp_err_status_t st;

	if (s == NULL || len < 2 || len + SRTP_MAX_TRAILER_LEN > MAX_FRAME - PAYLOAD_OFF)
		return len;
	memcpy(buf, payload, len);
	if (buf[1] >= 192 && buf[1] <= 223)
		st = srtp_protect_rtcp(s, buf, &l);
	else
		st = srtp_protect(s, buf, &l);
	if (st != srtp_err_status_ok)
		return len;
	memcpy(payload, buf, (size_t)l);
	return (size_t)l;
}

/* A frame the fuzzer asked for. @return its length in f, 0 for none. */
static size_t
make_frame(uint8_t *f, uint8_t ctl, const uint8_t *bytes, size_t n, struct input *input,
	   unsigned int *in, uint64_t *ol_flags)
{
	static const uint64_t flags[4] = { 0, RTE_MBUF_F_RX_IP_CKSUM_GOOD,
					   RTE_MBUF_F_RX_IP_CKSUM_BAD,
					   RTE_MBUF_F_RX_L4_CKSUM_BAD };
	unsigned int where = ctl & 7, who = (ctl >> 3) & 3, p, l;
	uint8_t payload[MAX_FRAME];
	struct ep src, dst;

	if (where == RAW_PORT0 || where == RAW_PORT1) {
		input->raw = true;
		*in = where - RAW_PORT0;
		*ol_flags = flags[who];
		if (n > MAX_FRAME)
			n = MAX_FRAME;
		memcpy(f, bytes, n);
		return n;
	}
	p = where / 2;
	l = where % 2;
	*in = l;
	*ol_flags = 0;
	if (n > MAX_FRAME - PAYLOAD_OFF - SRTP_MAX_TRAILER_LEN)
		n = MAX_FRAME - PAYLOAD_OFF - SRTP_MAX_TRAILER_LEN;
	memcpy(payload, bytes, n);
	if (input->n_sent < MAX_SENT) {
		struct sent *r = &input->sent[input->n_sent];

		r->pair = (uint8_t)p;
		r->leg = (uint8_t)l;
		r->plain_len = (uint16_t)n;
		memcpy(r->plain, payload, n);
	}
	if ((ctl & 0x20) && pair_modes[p] != DUET_MODE_PASSTHROUGH)
		n = seal(client_session(input, p, l, DUET_SRTP_OUTBOUND), payload, n);
	if (input->n_sent < MAX_SENT) {
		input->sent[input->n_sent].len = (uint16_t)n;
		memcpy(input->sent[input->n_sent].bytes, payload, n);
	}
	input->n_sent++;
	switch (who) {
	case 0:
		src = l == 0 ? cli_a : cli_b;
		break;
	case 1:
		src = l == 0 ? cli_c : cli_d;
		break;
	case 2:
		src = l == 0 ? cli_b : cli_a;
		break;
	default:
		src = l == 0 ? cli_a : cli_b;
		src.port = (uint16_t)(src.port + 1);
		break;
	}
	dst.ip = l == 0 ? SVC0 : SVC1;
	dst.port = ep_port(p, l);
	if (leg_v6[l]) {
		/* The same four senders, as IPv6 clients of the leg's side. */
		static const char *const v6_of[4] = {CLI_A6, CLI_B6, CLI_C6, CLI_D6};
		unsigned int k = src.ip == CLI_A ? 0 : src.ip == CLI_B ? 1 : src.ip == CLI_C ? 2 : 3;

		return build_udp6(f, l == 0 ? MAC_A : MAC_B, l == 0 ? MAC_PORT0 : MAC_PORT1,
				  ep6(v6_of[k], src.port), ep6(l == 0 ? SVC0_6 : SVC1_6, dst.port),
				  64, 0, payload, n);
	}
	return build_udp(f, l == 0 ? MAC_A : MAC_B, l == 0 ? MAC_PORT0 : MAC_PORT1, src, dst, 64,
			 payload, n);
}

/* With DUET_FUZZ_TRACE set, say what an input did: for reading a seed or
 * a reproducer (fuzz_worker_burst FILE...). */
static void
trace(const struct duet_lcore_stats *before, const struct duet_lcore_stats *st)
{
	unsigned int d;

	fprintf(stderr, "worker_burst: rx %lu fwd %lu arp %lu icmp %lu latched %lu relatched %lu",
		(unsigned long)(st->rx_pkts - before->rx_pkts),
		(unsigned long)(st->fwd_pkts - before->fwd_pkts),
		(unsigned long)(st->arp_replies - before->arp_replies),
		(unsigned long)(st->icmp_replies - before->icmp_replies),
		(unsigned long)(st->latched - before->latched),
		(unsigned long)(st->relatched - before->relatched));
	for (d = 0; d < DUET_DROP_MAX; d++)
		if (st->drops[d] != before->drops[d])
			fprintf(stderr, " %s %lu", duet_drop_name(d),
				(unsigned long)(st->drops[d] - before->drops[d]));
	fprintf(stderr, "\n");
}

/* Was this payload (len bytes) sent by pair p's leg l client, as is
 * (plain false) or before protection (plain true)? */
static bool
was_sent(const struct input *in, unsigned int p, unsigned int l, const uint8_t *b, size_t len,
	 bool plain)
{
	unsigned int i;

	for (i = 0; i < in->n_sent && i < MAX_SENT; i++) {
		const struct sent *r = &in->sent[i];

		if (r->pair != p || r->leg != l)
			continue;
		if (plain ? r->plain_len == len && memcmp(r->plain, b, len) == 0
			  : r->len == len && memcmp(r->bytes, b, len) == 0)
			return true;
	}
	return false;
}

/* A relayed datagram (UDP payload b, len bytes) left from endpoint port
 * `from`: it carries what the other leg's client sent, unchanged in
 * passthrough and verify; in rekey protected anew for this leg's client,
 * who can open it and finds what the other one sealed. */
static void
check_payload(struct input *in, uint16_t from, const uint8_t *b, size_t len)
{
	uint8_t buf[MAX_FRAME + 16] __attribute__((aligned(16)));
	unsigned int p, l;
	srtp_err_status_t st;
	int n = (int)len;

	if (from < EP_A_PORT || from >= EP_A_PORT + 4 * N_PAIRS || from % 2 != 0)
		return;
	p = (unsigned int)(from - EP_A_PORT) / 4;
	l = (unsigned int)(from - EP_A_PORT) % 4 / 2;
	if (pair_modes[p] != DUET_MODE_REKEY) {
		CHECK(was_sent(in, p, 1 - l, b, len, false));
		return;
	}
	CHECK(len >= 2 && len <= MAX_FRAME);
	memcpy(buf, b, len);
	if (buf[1] >= 192 && buf[1] <= 223)
		st = srtp_unprotect_rtcp(client_session(in, p, l, DUET_SRTP_INBOUND), buf, &n);
	else
		st = srtp_unprotect(client_session(in, p, l, DUET_SRTP_INBOUND), buf, &n);
	CHECK(st == srtp_err_status_ok);
	CHECK(was_sent(in, p, 1 - l, buf, (size_t)n, true));
}

/* An IPv6 frame the worker sent on port `port` (parsed as pi, rc): from
 * our IPv6 address there; relayed UDP with the relay's hop limit, a right
 * checksum and a known payload when every frame was built here. */
static void
drain_check6(struct input *in, unsigned int port, const uint8_t *f, int rc,
	     const struct duet_pkt_info *pi, bool known)
{
	struct ep6 svc = ep6(port == 0 ? SVC0_6 : SVC1_6, 0);
	const uint8_t *ip = f + IP6_OFF;

	CHECK(memcmp(ip + 8, svc.ip, 16) == 0);
	if (rc != 0 || pi->kind != DUET_PKT_UDP)
		return;
	CHECK(ip[7] == H_TTL);
	if (known) {
		CHECK(sum6(ip, 17, f + UDP6_OFF, pi->l4_len) == 0xffff);
		check_payload(in, get16(f + UDP6_OFF), f + UDP6_OFF + 8, pi->l4_len - 8u);
	}
}

/* Check and free what the worker sent on port `port`. */
static void
drain_tx(unsigned int port, struct input *in)
{
	static const uint8_t *const port_mac[2] = { MAC_PORT0, MAC_PORT1 };
	const uint32_t svc = port == 0 ? SVC0 : SVC1;
	const bool known = !in->raw && in->n_sent <= MAX_SENT;
	struct rte_mbuf *out[64];
	struct duet_pkt_info pi;
	uint16_t n, i;
	int rc;

	while ((n = rx_all(port, 0, out, 64)) != 0) {
		for (i = 0; i < n; i++) {
			const uint8_t *f = data_of(out[i]);
			size_t len = out[i]->data_len;

			CHECK(out[i]->nb_segs == 1 && len >= ETH_HLEN);
			CHECK(memcmp(f + 6, port_mac[port], 6) == 0);
			rc = duet_pkt_parse(f, len, 0, &pi);
			/* An echo reply parses as "other ICMP"; all else parses. */
			CHECK(rc == 0 || (rc == -ENOTSUP && pi.drop == DUET_DROP_ICMP_OTHER));
			/* A refused frame's result holds only the reason. */
			if (rc == 0 && pi.kind == DUET_PKT_ARP)
				continue;
			if (get16(f + 12) == 0x86dd) {
				drain_check6(in, port, f, rc, &pi, known);
				continue;
			}
			CHECK(get32(f + IP_OFF + 12) == svc);
			CHECK(ip_cksum_ok(f + IP_OFF));
			if (rc != 0 || pi.kind != DUET_PKT_UDP)
				continue;
			CHECK(f[IP_OFF + 8] == H_TTL);
			/* Frames the target built had right checksums and known
			 * payloads; raw ones may have neither. */
			if (known) {
				CHECK(udp_cksum_ok(f + IP_OFF));
				check_payload(in, get16(f + L4_OFF), f + PAYLOAD_OFF,
					      pi.l4_len - 8u);
			}
		}
		rte_pktmbuf_free_bulk(out, n);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t step[4] = { 0, SILENCE / 4, 2 * SILENCE, 0 };
	struct duet_worker *w = &H.workers[0];
	struct duet_lcore_stats before = *w->stats, *st = w->stats;
	struct rte_mbuf *burst[DUET_WORKER_BURST];
	static struct input input;
	uint8_t f[MAX_FRAME + SRTP_MAX_TRAILER_LEN];
	uint64_t now = T0, t, ol_flags;
	unsigned int in, burst_in = 0;
	uint16_t nb = 0;
	size_t off = 1, n, len;

	if (size < 1)
		return 0;
	memset(&input, 0, offsetof(struct input, sent));
	input.suite = (enum duet_srtp_suite)((data[0] >> 2) & 3);
	pairs_reset(data[0]);

	while (off + 3 <= size) {
		uint8_t ctl = data[off];
		struct rte_mbuf *m;

		n = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (n > size - off)
			n = size - off;
		len = make_frame(f, ctl, data + off, n, &input, &in, &ol_flags);
		off += n;
		t = (ctl >> 6) == 3 ? rte_get_tsc_hz() : step[ctl >> 6];
		if (nb > 0 && (in != burst_in || t != 0 || nb == DUET_WORKER_BURST)) {
			duet_worker_burst(w, burst_in, burst, nb, now);
			nb = 0;
		}
		now += t;
		if (len == 0)
			continue;
		m = mbuf_of(f, len);
		m->ol_flags = ol_flags;
		burst[nb++] = m;
		burst_in = in;
	}
	if (nb > 0)
		duet_worker_burst(w, burst_in, burst, nb, now);
	duet_worker_flush(w);

	/* Each frame ends exactly one way. */
	CHECK(st->rx_pkts - before.rx_pkts ==
	      (st->fwd_pkts - before.fwd_pkts) + (st->arp_replies - before.arp_replies) +
		      (st->icmp_replies - before.icmp_replies) +
		      (st->arp_learned - before.arp_learned) +
		      (st->nd_replies - before.nd_replies) + (st->nd_learned - before.nd_learned) +
		      (total_drops(st) - total_drops(&before)));
	if (tracing)
		trace(&before, st);
	drain_tx(0, &input);
	drain_tx(1, &input);
	sessions_free(&input);
	/* No mbuf kept or lost. */
	CHECK(rte_mempool_avail_count(H.mp) == pool_full);
	return 0;
}
