/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test harness shared by the lib/worker unit tests: an EAL with two net_ring
 * ports (a frame sent on a net_ring queue comes back on the same port's rx
 * queue, so what a worker transmits is read back with rte_eth_rx_burst),
 * the pair table and workers set up the way duetd's setup_dataplane() does,
 * and frame builders and checkers written independently of lib/pkt, so that
 * a rewrite bug cannot hide behind a shared checksum helper. Each Criterion
 * test runs in its own process and calls one of the setup functions from
 * its .init fixture; everything runs on the main lcore unless a test
 * launches lcore 1 itself. Addresses in this harness are host order.
 * For the keyed modes (verify, rekey) it also makes keyed pairs and plays
 * the clients' side of SRTP with libsrtp2 sessions of its own
 * (duet_srtp_session_new), so what the relay does is checked against the
 * library the phones use, not against the relay's own code.
 */
#ifndef WORKER_HARNESS_H
#define WORKER_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "duet_pair.h"
#include "duet_pair_fp.h"
#include "duet_port.h"
#include "duet_sdes.h"
#include "duet_srtp.h"
#include "duet_stats.h"
#include "duet_worker.h"
#include "duet_worker_fp.h"

/* IPv4 address from its four bytes, host order. */
#define IP4(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* The relay's side: two ports, one service address each. */
#define SVC0 IP4(192, 0, 2, 1)
#define SVC1 IP4(198, 51, 100, 1)
#define GW0 IP4(192, 0, 2, 254)
#define GW1 IP4(198, 51, 100, 254)
#define EP_A_PORT 20000
#define EP_B_PORT 20002
/* The media range: every endpoint a test gives a pair lies inside it. */
#define HARNESS_PORT_MIN 10000
#define HARNESS_PORT_MAX 29999

/* The clients. C and D are strangers who learnt the endpoints. */
#define CLI_A IP4(192, 0, 2, 10)
#define CLI_A_PORT 4000
#define CLI_B IP4(198, 51, 100, 10)
#define CLI_B_PORT 5000
#define CLI_C IP4(192, 0, 2, 66)
#define CLI_C_PORT 6666
#define CLI_D IP4(198, 51, 100, 77)
#define CLI_D_PORT 7777

/* With H.dual, each port's second service address (and gateway6 with
 * gateways), as text for duet_addr_parse_ip(). */
#define SVC0_6 "2001:db8:a::1"
#define SVC1_6 "2001:db8:b::1"
#define GW0_6 "2001:db8:a::fe"
#define GW1_6 "fe80::fe"

/* Re-latch silence in TSC cycles; tests choose every `now` themselves. */
#define SILENCE 1000u
#define T0 (1ULL << 40)

/* Offsets in the frames the builders make (no IPv4 options). */
#define ETH_HLEN 14
#define IP_OFF 14
#define L4_OFF 34
#define PAYLOAD_OFF 42

#define MAX_WORKERS 2
#define N_MBUFS 8191
/* libsrtp2 sessions a test may make through srtp_session(). */
#define MAX_TEST_SESSIONS 32

extern const uint8_t MAC_PORT0[6], MAC_PORT1[6];		   /* given to the ports */
extern const uint8_t MAC_A[6], MAC_A2[6], MAC_B[6], MAC_C[6]; /* clients' next hops */
extern const uint8_t MAC_GW1[6], MAC_BCAST[6];

/* Everything a test process sets up, torn down by teardown(). */
struct harness {
	struct rte_mempool *mp;
	struct duet_port ports[2];
	struct duet_pair_table *pairs;
	struct duet_lcore_stats *stats; /* one per worker */
	struct duet_worker *workers;
	unsigned int n_workers;
	bool registered[MAX_WORKERS]; /* RCU-registered by the harness */
	volatile bool quit;
	bool eal_up;
	srtp_t sessions[MAX_TEST_SESSIONS]; /* the clients' sessions, freed by teardown() */
	unsigned int n_sessions;
	struct duet_conf conf;		     /* duetd's defaults + SVC0, SVC1 in the policy */
	struct duet_police_budget budgets[DUET_BUDGET_MAX]; /* generous unless a test sets them */
	bool dual; /* set before dataplane_start(): each port has an IPv6 address too */
};

/* Egress header the harness's workers write: duetd's defaults. */
#define H_TTL 64
#define H_TOS 0xb8 /* DSCP 46 (EF) */

extern struct harness H;

/* A transport address, host order. */
struct ep {
	uint32_t ip;
	uint16_t port;
};

/* The clients and the default pair's endpoints (see put_default_pair). */
extern const struct ep cli_a, cli_b, cli_c, cli_d, ep_a, ep_b;

/* EAL with n_lcores lcores, no hugepages, a file prefix of its own. */
void eal_start(unsigned int n_lcores);
/* A [port] section: one service address svc, gateway gw (0: none). */
void conf_port(struct duet_conf_port *cp, const char *name, uint32_t svc, uint32_t gw);
/* net_ring ports start with MAC 00:..:00; give one a MAC of its own. */
void port_give_mac(const char *name, const uint8_t mac[6]);
/* EAL with n_lcores, mempool, both ports, pair table, workers (not
 * RCU-registered); gateways: GW0 and GW1 configured. */
void dataplane_start(unsigned int n_workers, bool gateways, unsigned int n_lcores);
void register_worker(unsigned int widx);

/* Criterion .init fixtures, and the .fini that undoes any of them. */
void one_worker(void);	  /* worker 0, registered; no gateways */
void one_worker_gw(void); /* same, with gateways GW0 and GW1 */
void two_workers(void);	  /* workers 0 and 1 on queues 0 and 1, not registered */
void one_worker_on_lcore1(void); /* worker 0, not registered, lcore 1 free to run it */
void one_worker_dual(void);    /* worker 0, registered; IPv4 and IPv6 on each port, gateways */
void teardown(void);

/* Pair `id`: leg a = SVC0:ep_a_port (port 0), leg b = SVC1:ep_b_port
 * (port 1), optional pins. @return its slot. */
int put_pair(const char *id, uint16_t ep_a_port, uint16_t ep_b_port, const struct ep *pin_a,
	     const struct ep *pin_b);
int put_default_pair(void); /* "p1" on EP_A_PORT / EP_B_PORT, no pins */
/* A spec as put_pair() makes it (no pins, no keys), for tests that call
 * duet_pair_put() themselves. */
void pair_spec(struct duet_pair_spec *s, const char *id, uint8_t mode, uint16_t ep_a_port,
	       uint16_t ep_b_port);
/* Copy the keys mode needs from key[DUET_KEY_COUNT] (a_in, a_out, b_in,
 * b_out) into s: a_in and b_in for verify, all four for rekey. */
void pair_spec_keys(struct duet_pair_spec *s, uint8_t mode, const struct duet_sdes *key);
/* Keyed pair `id` on EP_A_PORT / EP_B_PORT in mode verify or rekey, keys
 * as pair_spec_keys() takes them. @return its slot. */
int put_keyed_pair(const char *id, uint8_t mode, const struct duet_sdes *key);
struct duet_leg_counters leg_counters(int slot, unsigned int leg);
/* A leg's client, or {0, 0} when it has none. */
struct ep leg_client(int slot, unsigned int leg);

/* Internet checksum pieces: sum of big-endian words, and its fold. */
uint32_t sum16(const uint8_t *p, size_t n, uint32_t s);
uint16_t fold16(uint32_t s);
void put16(uint8_t *p, uint16_t v);
uint16_t get16(const uint8_t *p);
void put32(uint8_t *p, uint32_t v);
uint32_t get32(const uint8_t *p);
void ip_cksum_fix(uint8_t *ip);
bool ip_cksum_ok(const uint8_t *ip);
uint32_t udp_sum(const uint8_t *ip);
void udp_cksum_fix(uint8_t *ip);
/* Non-zero UDP checksum, right over pseudo-header and datagram. */
bool udp_cksum_ok(const uint8_t *ip);

/* Frame builders; each returns the frame length. */
size_t put_eth(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6], uint16_t etype);
void put_ip4(uint8_t *ip, uint8_t proto, uint32_t src, uint32_t dst, uint8_t ttl,
	     uint16_t l4_len);
size_t build_udp(uint8_t *f, const uint8_t smac[6], const uint8_t dmac[6], struct ep src,
		 struct ep dst, uint8_t ttl, const void *payload, size_t plen);
size_t build_arp(uint8_t *f, const uint8_t eth_dst[6], uint16_t op, const uint8_t sha[6],
		 uint32_t spa, const uint8_t tha[6], uint32_t tpa);
size_t build_echo(uint8_t *f, const uint8_t smac[6], const uint8_t dmac[6], uint32_t src,
		  uint32_t dst, uint16_t id, uint16_t seq, const void *data, size_t dlen);

/* IPv6 (H.dual): a transport address, its frames' offsets, the
 * pseudo-header sum (folded: 0xffff when the checksum in l4 is right) and
 * a UDP/IPv6 frame with traffic class tc and its checksum. */
struct ep6 {
	uint8_t ip[16];
	uint16_t port; /* host order */
};
#define IP6_OFF 14
#define UDP6_OFF (14 + 40)
struct ep6 ep6(const char *ip, uint16_t port);
uint16_t sum6(const uint8_t *ip6, uint8_t nh, const uint8_t *l4, size_t n);
size_t build_udp6(uint8_t *f, const uint8_t smac[6], const uint8_t dmac[6], struct ep6 src,
		  struct ep6 dst, uint8_t hops, uint8_t tc, const void *payload, size_t plen);

struct rte_mbuf *mbuf_of(const uint8_t *f, size_t len);
uint64_t total_drops(const struct duet_lcore_stats *s);
/* rx == fwd + arp replies + icmp replies + arp learnt + every drop. */
void assert_accounting(const struct duet_lcore_stats *s);
/* duet_worker_burst on worker widx, then flush, then assert_accounting. */
uint16_t burst_on(unsigned int widx, unsigned int in, struct rte_mbuf **pkts, uint16_t n,
		  uint64_t now);
uint16_t send1(unsigned int in, const uint8_t *f, size_t len, uint64_t now);
/* UDP from src (Ethernet source smac) to dst, received on port in. */
uint16_t send_udp(unsigned int in, const uint8_t smac[6], struct ep src, struct ep dst,
		  uint8_t ttl, const char *payload, uint64_t now);
/* An RTP-looking payload (V=2, PT 111, SSRC of src) carrying text, as
 * send_udp() sends it, into out. @return its length. */
size_t rtp_text(uint8_t *out, size_t cap, struct ep src, const char *text);
/* m is send_udp()'s datagram of text from sender, relayed (TTL H_TTL). */
void assert_relayed_text(const struct rte_mbuf *m, const uint8_t smac[6], const uint8_t dmac[6],
			 struct ep from, struct ep to, struct ep sender, const char *text);
/* The same with a binary payload of len bytes, TTL 64. */
uint16_t send_bytes(unsigned int in, const uint8_t smac[6], struct ep src, struct ep dst,
		    const void *payload, size_t len, uint64_t now);
/* Read back what was transmitted on port/queue. @return count. */
uint16_t rx_all(unsigned int port, uint16_t queue, struct rte_mbuf **out, uint16_t max);
void rx_discard(unsigned int port, uint16_t queue);
const uint8_t *data_of(const struct rte_mbuf *m);
/* The 4 bytes of ip appear somewhere in the frame. */
bool frame_mentions_ip(const struct rte_mbuf *m, uint32_t ip);

/* m is the datagram `payload` relayed from `from` to `to`, Ethernet smac ->
 * dmac, TTL ttl, checksums right, the rest of the IP header kept. */
void assert_relayed(const struct rte_mbuf *m, const uint8_t smac[6], const uint8_t dmac[6],
		    struct ep from, struct ep to, uint8_t ttl, const void *payload, size_t plen);
/* assert_relayed() without the payload: a datagram of plen payload bytes
 * whose lengths (frame, IP total, UDP) and checksums are right. */
void assert_relayed_hdr(const struct rte_mbuf *m, const uint8_t smac[6], const uint8_t dmac[6],
			struct ep from, struct ep to, uint8_t ttl, size_t plen);
/* Worker 0 drops the frame for `why` and nothing else, and sends nothing. */
void expect_drop(unsigned int in, const uint8_t *f, size_t len, uint64_t now, enum duet_drop why);
/* Through worker 0: A on leg a (dropped, b waits), then B on leg b (relayed
 * to A; read back and freed). Both ports' queue 0 are left empty. */
void latch_both(int slot, uint64_t now);

/* ---- the clients' SRTP ---------------------------------------------------- */

#define RTP_HLEN 12
#define RTP_PT_OPUS 111
#define RTCP_SR_LEN 28
/* Room for any test packet plus what protection appends. */
#define SRTP_BUF_LEN (RTP_HLEN + 400 + SRTP_MAX_TRAILER_LEN + 4)

/* A key of `suite` whose bytes follow from seed: same seed, same key. */
struct duet_sdes test_key(enum duet_srtp_suite suite, uint8_t seed);
/* A client-side libsrtp2 session for key k (duet_srtp_session_new), freed
 * by teardown(). Test process, not for sharing between threads. */
srtp_t srtp_session(const struct duet_sdes *k, enum duet_srtp_dir dir);
/* Plain RTP: V=2, PT 111, seq, timestamp 960 * seq, ssrc, plen payload
 * bytes that follow from seq. @return the length. */
size_t build_rtp(uint8_t *p, uint32_t ssrc, uint16_t seq, size_t plen);
/* Plain RTCP sender report (PT 200) of ssrc, 28 bytes, counters from n. */
size_t build_rtcp_sr(uint8_t *p, uint32_t ssrc, uint32_t n);
/* Protect p (len bytes, SRTP_BUF_LEN of room) in place with the OUTBOUND
 * session s: srtp_protect_rtcp for PT 192..223, else srtp_protect.
 * @return the protected length. */
size_t srtp_seal(srtp_t s, uint8_t *p, size_t len);
/* build_rtp() + srtp_seal(); the plaintext goes to plain when not NULL. */
size_t build_srtp(srtp_t s, uint32_t ssrc, uint16_t seq, size_t plen, uint8_t *out,
		  uint8_t *plain);
/* Unprotect a copy of the relayed frame m's UDP payload with the INBOUND
 * session s into out (SRTP_BUF_LEN). @return libsrtp2's status; *len the
 * plaintext length on success. */
srtp_err_status_t srtp_open_payload(srtp_t s, const struct rte_mbuf *m, uint8_t *out,
				    size_t *len);

#endif /* WORKER_HARNESS_H */
