/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test harness of the lib/worker unit tests (see worker_harness.h). Runs on
 * the main lcore of each Criterion test process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "worker_harness.h"
#include "../eal_rundir.h"

const uint8_t MAC_PORT0[6] = { 0x02, 0xd0, 0x00, 0x00, 0x00, 0x00 };
const uint8_t MAC_PORT1[6] = { 0x02, 0xd0, 0x00, 0x00, 0x00, 0x01 };
const uint8_t MAC_A[6] = { 0x02, 0xaa, 0x00, 0x00, 0x00, 0x0a };
const uint8_t MAC_A2[6] = { 0x02, 0xaa, 0x00, 0x00, 0x00, 0x2a };
const uint8_t MAC_B[6] = { 0x02, 0xbb, 0x00, 0x00, 0x00, 0x0b };
const uint8_t MAC_C[6] = { 0x02, 0xcc, 0x00, 0x00, 0x00, 0x0c };
const uint8_t MAC_GW1[6] = { 0x02, 0x99, 0x00, 0x00, 0x01, 0xfe };
const uint8_t MAC_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct harness H;

const struct ep cli_a = { CLI_A, CLI_A_PORT };
const struct ep cli_b = { CLI_B, CLI_B_PORT };
const struct ep cli_c = { CLI_C, CLI_C_PORT };
const struct ep cli_d = { CLI_D, CLI_D_PORT };
const struct ep ep_a = { SVC0, EP_A_PORT };
const struct ep ep_b = { SVC1, EP_B_PORT };

/* ---- EAL and data plane ------------------------------------------------ */

/* Start EAL with n_lcores lcores mapped onto the first CPUs this process may
 * use (containers do not always allow CPU 0), without hugepages and with a
 * file prefix of its own so that parallel test processes never meet. */
void
eal_start(unsigned int n_lcores)
{
	static char prefix[64], lcores[64];
	char *argv[] = { "test_duet_worker", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			 "--no-telemetry", "--file-prefix", prefix, "--lcores", lcores,
			 "--vdev", "net_ring0", "--vdev", "net_ring1", "--log-level", "*:error",
			 NULL };
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	unsigned int cpu[MAX_WORKERS], found = 0, c;
	cpu_set_t set;

	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	for (c = 0; c < CPU_SETSIZE && found < n_lcores; c++)
		if (CPU_ISSET(c, &set))
			cpu[found++] = c;
	cr_assert_gt(found, 0);
	/* One CPU: both lcores share it; the tests stay valid, only slower. */
	if (n_lcores == 2)
		snprintf(lcores, sizeof(lcores), "0@%u,1@%u", cpu[0], cpu[found > 1 ? 1 : 0]);
	else
		snprintf(lcores, sizeof(lcores), "0@%u", cpu[0]);
	snprintf(prefix, sizeof(prefix), "duet_wt_%d", (int)getpid());
	cr_assert_geq(rte_eal_init(argc, argv), 0, "EAL init: %s", rte_strerror(rte_errno));
	test_eal_rundir_remove_at_exit();
	H.eal_up = true;
}

/* Fill a port section as duetd's config would. gw 0 means no gateway. */
void
conf_port(struct duet_conf_port *cp, const char *name, uint32_t svc, uint32_t gw)
{
	memset(cp, 0, sizeof(*cp));
	snprintf(cp->name, sizeof(cp->name), "%s", name);
	duet_addr_set4(&cp->addrs[0], htonl(svc), 0);
	cp->n_addrs = 1;
	if (gw != 0)
		duet_addr_set4(&cp->gateway, htonl(gw), 0);
	if (H.dual) {
		bool first = svc == SVC0;

		cr_assert_eq(duet_addr_parse_ip(first ? SVC0_6 : SVC1_6, &cp->addrs[1]), 0);
		cp->n_addrs = 2;
		if (gw != 0)
			cr_assert_eq(duet_addr_parse_ip(first ? GW0_6 : GW1_6, &cp->gateway6), 0);
	}
	cp->rx_desc = 1024;
	cp->tx_desc = 1024;
}

/* net_ring ports come up with an all-zero MAC; give them distinct ones so
 * that a test can tell which port's MAC a frame carries. */
void
port_give_mac(const char *name, const uint8_t mac[6])
{
	struct rte_ether_addr a;
	uint16_t pid;

	cr_assert_eq(rte_eth_dev_get_port_by_name(name, &pid), 0);
	memcpy(a.addr_bytes, mac, 6);
	cr_assert_eq(rte_eth_dev_mac_addr_add(pid, &a, 0), 0);
}

/* Ports, mempool, pair table and workers as setup_dataplane() builds them.
 * gateways: set a gateway on both ports. */
void
dataplane_start(unsigned int n_workers, bool gateways, unsigned int n_lcores)
{
	struct duet_conf_port cp[2];
	struct duet_pair_space space;
	char err[256];
	unsigned int i;
	int rc;

	eal_start(n_lcores);
	/* test_duet_worker_srtp_burst: the same tests on the burst engine,
	 * whose manager the test thread needs as a worker lcore would. */
#ifdef DUET_TEST_ENGINE_BURST
	cr_assert_eq(duet_srtp_engine_set(DUET_SRTP_ENGINE_BURST), 0, "the CPU lacks AES-NI");
	cr_assert_eq(duet_srtp_lcore_init(), 0);
#endif
	H.n_workers = n_workers;
	H.mp = duet_port_mempool_create("wt_mbuf", N_MBUFS, (int)rte_socket_id());
	cr_assert_not_null(H.mp, "mempool: %s", rte_strerror(rte_errno));
	port_give_mac("net_ring0", MAC_PORT0);
	port_give_mac("net_ring1", MAC_PORT1);
	conf_port(&cp[0], "net_ring0", SVC0, gateways ? GW0 : 0);
	conf_port(&cp[1], "net_ring1", SVC1, gateways ? GW1 : 0);
	for (i = 0; i < 2; i++) {
		err[0] = '\0';
		rc = duet_port_setup(&H.ports[i], &cp[i], (uint16_t)n_workers, H.mp, err,
				     sizeof(err));
		cr_assert_eq(rc, 0, "port setup: %d %s", rc, err);
	}
	/* duetd's defaults (as the config would give them: the source policy
	 * with both service addresses, TTL 64, DSCP EF, 4 SSRCs, a 200 ms
	 * policer burst), but budgets no test reaches by accident: 10 M/s. */
	duet_conf_defaults(&H.conf);
	{
		struct duet_addr own;

		duet_addr_set4(&own, htonl(SVC0), 0);
		cr_assert_eq(duet_policy_add_own(&H.conf.policy, &own), 0);
		duet_addr_set4(&own, htonl(SVC1), 0);
		cr_assert_eq(duet_policy_add_own(&H.conf.policy, &own), 0);
		if (H.dual) {
			cr_assert_eq(duet_addr_parse_ip(SVC0_6, &own), 0);
			cr_assert_eq(duet_policy_add_own(&H.conf.policy, &own), 0);
			cr_assert_eq(duet_addr_parse_ip(SVC1_6, &own), 0);
			cr_assert_eq(duet_policy_add_own(&H.conf.policy, &own), 0);
		}
	}
	H.conf.security.budget_no_pair_pps = 10000000;
	H.conf.security.budget_unlatched_pps = 10000000;
	H.conf.security.budget_icmp_pps = 1000000;
	H.conf.security.budget_arp_pps = 1000000;
	duet_worker_budgets_init(H.budgets, &H.conf, rte_get_tsc_hz(), T0);
	/* The ports as the config lists them, and the media range every test
	 * and the fuzz target use: the table's endpoint space as duetd makes
	 * it, each port told where its address starts. */
	H.conf.n_ports = 2;
	H.conf.ports[0] = cp[0];
	H.conf.ports[1] = cp[1];
	H.conf.port_min = HARNESS_PORT_MIN;
	H.conf.port_max = HARNESS_PORT_MAX;
	duet_port_space(&H.conf, H.ports, &space);
	H.pairs = duet_pair_table_create("wt_pairs", 4096, n_workers, (int)rte_socket_id(),
					 &space);
	cr_assert_not_null(H.pairs, "pair table: %s", rte_strerror(rte_errno));
	H.stats = rte_zmalloc("wt_stats", n_workers * sizeof(*H.stats), RTE_CACHE_LINE_SIZE);
	H.workers = rte_zmalloc("wt_workers", n_workers * sizeof(*H.workers), RTE_CACHE_LINE_SIZE);
	cr_assert(H.stats != NULL && H.workers != NULL);
	for (i = 0; i < n_workers; i++) {
		struct duet_worker *w = &H.workers[i];

		w->stats = &H.stats[i];
		w->pairs = H.pairs;
		w->ports = H.ports;
		w->n_ports = 2;
		w->widx = i;
		w->queue = (uint16_t)i;
		duet_worker_configure(w, &H.conf, H.budgets, rte_get_tsc_hz());
		/* Tests choose every `now`: a silence of SILENCE cycles. */
		w->silence_tsc = SILENCE;
		w->drain_tsc = rte_get_tsc_hz() / 1000000 * 100;
		w->idle_poll_us = 0;
		w->quit = &H.quit;
		w->ctl_ring = NULL;
		cr_assert_eq(duet_worker_init(w, (int)rte_socket_id()), 0);
	}
}

void
register_worker(unsigned int widx)
{
	cr_assert_eq(duet_pair_worker_register(H.pairs, widx), 0);
	H.registered[widx] = true;
}

/* .init fixtures. */
void
one_worker(void)
{
	dataplane_start(1, false, 1);
	register_worker(0);
}

void
one_worker_dual(void)
{
	H.dual = true;
	dataplane_start(1, true, 1);
	register_worker(0);
}

void
one_worker_gw(void)
{
	dataplane_start(1, true, 1);
	register_worker(0);
}

void
two_workers(void)
{
	dataplane_start(2, false, 2);
}

/* Drain and free whatever a port's queue still holds. */
void
rx_discard(unsigned int port, uint16_t queue)
{
	struct rte_mbuf *m[64];
	uint16_t n;

	while ((n = rte_eth_rx_burst(H.ports[port].port_id, queue, m, 64)) != 0)
		rte_pktmbuf_free_bulk(m, n);
}

/* .fini fixture: undo everything, so that ASan's leak check sees a clean
 * process. */
void
one_worker_on_lcore1(void)
{
	dataplane_start(1, false, 2);
}

void
teardown(void)
{
	unsigned int i, q;

	if (!H.eal_up)
		return;
	for (i = 0; i < H.n_workers; i++) {
		if (H.registered[i])
			duet_pair_worker_unregister(H.pairs, i);
		duet_worker_fini(&H.workers[i]);
		if (H.workers[i].ctl_ring != NULL)
			rte_ring_free(H.workers[i].ctl_ring);
	}
	for (i = 0; i < 2; i++) {
		for (q = 0; q < H.n_workers; q++)
			rx_discard(i, (uint16_t)q);
		duet_port_close(&H.ports[i]);
	}
	duet_pair_table_free(H.pairs);
	for (i = 0; i < H.n_sessions; i++)
		duet_srtp_session_free(H.sessions[i]);
	H.n_sessions = 0;
	rte_free(H.workers);
	rte_free(H.stats);
	rte_mempool_free(H.mp);
	rte_eal_cleanup();
	H.eal_up = false;
	duet_srtp_lcore_fini();
	(void)duet_srtp_engine_set(DUET_SRTP_ENGINE_LIBSRTP2);
}

/* ---- pairs ------------------------------------------------------------- */

/* The pair every test uses: leg a = SVC0:20000 on port 0, leg b =
 * SVC1:20002 on port 1. pin_a / pin_b: pinned clients, or NULL. */
void
pair_spec(struct duet_pair_spec *s, const char *id, uint8_t mode, uint16_t ep_a_port,
	  uint16_t ep_b_port)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->mode = mode;
	duet_addr_set4(&s->ep[0], htonl(SVC0), htons(ep_a_port));
	duet_addr_set4(&s->ep[1], htonl(SVC1), htons(ep_b_port));
	s->port_idx[0] = 0;
	s->port_idx[1] = 1;
	/* The latch rule's own tests move legs between sources with
	 * different SSRCs; the `ssrc` and `never` policies have tests of
	 * their own that set s->relatch. */
	s->relatch = DUET_RELATCH_ANY;
}

int
put_pair(const char *id, uint16_t ep_a_port, uint16_t ep_b_port, const struct ep *pin_a,
	 const struct ep *pin_b)
{
	struct duet_pair_spec s;
	char why[DUET_PAIR_REASON_MAX];
	int rc;

	pair_spec(&s, id, DUET_MODE_PASSTHROUGH, ep_a_port, ep_b_port);
	if (pin_a != NULL)
		duet_addr_set4(&s.pin[0], htonl(pin_a->ip), htons(pin_a->port));
	if (pin_b != NULL)
		duet_addr_set4(&s.pin[1], htonl(pin_b->ip), htons(pin_b->port));
	why[0] = '\0';
	rc = duet_pair_put(H.pairs, &s, 1, NULL, why, sizeof(why));
	cr_assert_eq(rc, 0, "pair put %s: %d %s", id, rc, why);
	rc = duet_pair_find(H.pairs, id);
	cr_assert_geq(rc, 0);
	return rc;
}

int
put_default_pair(void)
{
	return put_pair("p1", EP_A_PORT, EP_B_PORT, NULL, NULL);
}

void
pair_spec_keys(struct duet_pair_spec *s, uint8_t mode, const struct duet_sdes *key)
{
	unsigned int k;

	for (k = 0; k < DUET_KEY_COUNT; k++) {
		memset(&s->key[k], 0, sizeof(s->key[k]));
		if (mode == DUET_MODE_REKEY || k == DUET_KEY_A_IN || k == DUET_KEY_B_IN)
			s->key[k] = key[k];
	}
}

int
put_keyed_pair(const char *id, uint8_t mode, const struct duet_sdes *key)
{
	struct duet_pair_spec s;
	char why[DUET_PAIR_REASON_MAX];
	int rc;

	pair_spec(&s, id, mode, EP_A_PORT, EP_B_PORT);
	pair_spec_keys(&s, mode, key);
	why[0] = '\0';
	rc = duet_pair_put(H.pairs, &s, 1, NULL, why, sizeof(why));
	duet_secure_zero(s.key, sizeof(s.key));
	cr_assert_eq(rc, 0, "pair put %s (%s): %d %s", id, duet_mode_name(mode), rc, why);
	rc = duet_pair_find(H.pairs, id);
	cr_assert_geq(rc, 0);
	return rc;
}

struct duet_leg_counters
leg_counters(int slot, unsigned int leg)
{
	struct duet_leg_counters c;

	duet_pair_counters(H.pairs, (uint32_t)slot, leg, &c);
	return c;
}

/* The client a leg is latched or pinned to, as host-order ep; {0, 0} if none. */
struct ep
leg_client(int slot, unsigned int leg)
{
	struct duet_addr a;
	struct ep e = { 0, 0 };
	uint32_t ip;

	if (duet_pair_leg_client(H.pairs, (uint32_t)slot, leg, &a)) {
		memcpy(&ip, a.ip, 4);
		e.ip = ntohl(ip);
		e.port = ntohs(a.port);
	}
	return e;
}

/* ---- checksums, our own ------------------------------------------------ */

/* Sum of big-endian 16-bit words; an odd last byte is padded with zero. */
uint32_t
sum16(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

uint16_t
fold16(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Set the IPv4 header checksum of the header at ip. */
void
ip_cksum_fix(uint8_t *ip)
{
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;

	put16(ip + 10, 0);
	put16(ip + 10, (uint16_t)~fold16(sum16(ip, hlen, 0)));
}

bool
ip_cksum_ok(const uint8_t *ip)
{
	return fold16(sum16(ip, (size_t)(ip[0] & 0x0f) * 4, 0)) == 0xffff;
}

/* Sum of the UDP pseudo-header and the datagram (checksum field included). */
uint32_t
udp_sum(const uint8_t *ip)
{
	const uint8_t *udp = ip + (ip[0] & 0x0f) * 4;
	uint16_t ulen = get16(udp + 4);
	uint32_t s;

	s = sum16(ip + 12, 8, 0);
	s += 17;
	s += ulen;
	return sum16(udp, ulen, s);
}

void
udp_cksum_fix(uint8_t *ip)
{
	uint8_t *udp = ip + (ip[0] & 0x0f) * 4;
	uint16_t c;

	put16(udp + 6, 0);
	c = (uint16_t)~fold16(udp_sum(ip));
	put16(udp + 6, c == 0 ? 0xffff : c);
}

bool
udp_cksum_ok(const uint8_t *ip)
{
	const uint8_t *udp = ip + (ip[0] & 0x0f) * 4;

	return get16(udp + 6) != 0 && fold16(udp_sum(ip)) == 0xffff;
}

/* ---- frame builders ---------------------------------------------------- */

size_t
put_eth(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6], uint16_t etype)
{
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	put16(f + 12, etype);
	return ETH_HLEN;
}

/* IPv4 header without options, DF set, checksum filled. */
void
put_ip4(uint8_t *ip, uint8_t proto, uint32_t src, uint32_t dst, uint8_t ttl, uint16_t l4_len)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4_len));
	put16(ip + 4, 0x1234);
	put16(ip + 6, 0x4000);
	ip[8] = ttl;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	ip_cksum_fix(ip);
}

/* Ethernet/IPv4/UDP with both checksums right. @return frame length. */
size_t
build_udp(uint8_t *f, const uint8_t smac[6], const uint8_t dmac[6], struct ep src,
	  struct ep dst, uint8_t ttl, const void *payload, size_t plen)
{
	uint8_t *ip = f + IP_OFF, *udp = f + L4_OFF;

	put_eth(f, dmac, smac, 0x0800);
	put_ip4(ip, 17, src.ip, dst.ip, ttl, (uint16_t)(8 + plen));
	put16(udp, src.port);
	put16(udp + 2, dst.port);
	put16(udp + 4, (uint16_t)(8 + plen));
	memcpy(udp + 8, payload, plen);
	udp_cksum_fix(ip);
	return PAYLOAD_OFF + plen;
}

struct ep6
ep6(const char *ip, uint16_t port)
{
	struct ep6 e;

	cr_assert_eq(inet_pton(AF_INET6, ip, e.ip), 1, "%s", ip);
	e.port = port;
	return e;
}

uint16_t
sum6(const uint8_t *ip6, uint8_t nh, const uint8_t *l4, size_t n)
{
	uint32_t s = sum16(ip6 + 8, 32, 0);

	s += (uint32_t)(n >> 16) + (uint32_t)(n & 0xffff) + nh;
	return fold16(sum16(l4, n, s));
}

size_t
build_udp6(uint8_t *f, const uint8_t smac[6], const uint8_t dmac[6], struct ep6 src,
	   struct ep6 dst, uint8_t hops, uint8_t tc, const void *payload, size_t plen)
{
	uint8_t *ip = f + IP6_OFF, *udp = f + UDP6_OFF;

	put_eth(f, dmac, smac, 0x86dd);
	memset(ip, 0, 40);
	ip[0] = (uint8_t)(0x60 | (tc >> 4));
	ip[1] = (uint8_t)(tc << 4);
	put16(ip + 4, (uint16_t)(8 + plen));
	ip[6] = 17;
	ip[7] = hops;
	memcpy(ip + 8, src.ip, 16);
	memcpy(ip + 24, dst.ip, 16);
	put16(udp, src.port);
	put16(udp + 2, dst.port);
	put16(udp + 4, (uint16_t)(8 + plen));
	put16(udp + 6, 0);
	memcpy(udp + 8, payload, plen);
	put16(udp + 6, (uint16_t)~sum6(ip, 17, udp, 8 + plen));
	return UDP6_OFF + 8 + plen;
}

/* ARP for Ethernet/IPv4; op 1 request, 2 reply. @return 42. */
size_t
build_arp(uint8_t *f, const uint8_t eth_dst[6], uint16_t op, const uint8_t sha[6], uint32_t spa,
	  const uint8_t tha[6], uint32_t tpa)
{
	uint8_t *a = f + ETH_HLEN;

	put_eth(f, eth_dst, sha, 0x0806);
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	put32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	put32(a + 24, tpa);
	return ETH_HLEN + 28;
}

/* ICMP echo request with data. @return frame length. */
size_t
build_echo(uint8_t *f, const uint8_t smac[6], const uint8_t dmac[6], uint32_t src, uint32_t dst,
	   uint16_t id, uint16_t seq, const void *data, size_t dlen)
{
	uint8_t *ip = f + IP_OFF, *icmp = f + L4_OFF;

	put_eth(f, dmac, smac, 0x0800);
	put_ip4(ip, 1, src, dst, 63, (uint16_t)(8 + dlen));
	icmp[0] = 8;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, id);
	put16(icmp + 6, seq);
	memcpy(icmp + 8, data, dlen);
	put16(icmp + 2, (uint16_t)~fold16(sum16(icmp, 8 + dlen, 0)));
	return PAYLOAD_OFF + dlen;
}

/* ---- mbufs, bursts, accounting ------------------------------------------ */

struct rte_mbuf *
mbuf_of(const uint8_t *f, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(H.mp);
	char *d;

	cr_assert_not_null(m);
	d = rte_pktmbuf_append(m, (uint16_t)len);
	cr_assert_not_null(d);
	memcpy(d, f, len);
	return m;
}

uint64_t
total_drops(const struct duet_lcore_stats *s)
{
	uint64_t t = 0;
	unsigned int i;

	for (i = 0; i < DUET_DROP_MAX; i++)
		t += s->drops[i];
	return t;
}

/* Every received frame ends as exactly one of forwarded, answered, learnt
 * or a counted drop (duet_worker_fp.h). */
void
assert_accounting(const struct duet_lcore_stats *s)
{
	cr_assert_eq(s->rx_pkts,
		     s->fwd_pkts + s->arp_replies + s->icmp_replies + s->arp_learned +
			     s->nd_replies + s->nd_learned + total_drops(s),
		     "rx %lu != fwd %lu + arp %lu + icmp %lu + learnt %lu + nd %lu + nd learnt "
		     "%lu + drops %lu",
		     (unsigned long)s->rx_pkts, (unsigned long)s->fwd_pkts,
		     (unsigned long)s->arp_replies, (unsigned long)s->icmp_replies,
		     (unsigned long)s->arp_learned, (unsigned long)s->nd_replies,
		     (unsigned long)s->nd_learned, (unsigned long)total_drops(s));
}

/* Hand n frames to worker widx as received on port `in`, flush its tx
 * buffers, check the accounting. @return what duet_worker_burst returned. */
uint16_t
burst_on(unsigned int widx, unsigned int in, struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	struct duet_worker *w = &H.workers[widx];
	uint16_t r;

	r = duet_worker_burst(w, in, pkts, n, now);
	duet_worker_flush(w);
	assert_accounting(w->stats);
	return r;
}

/* One frame into worker 0. */
uint16_t
send1(unsigned int in, const uint8_t *f, size_t len, uint64_t now)
{
	struct rte_mbuf *m = mbuf_of(f, len);

	return burst_on(0, in, &m, 1, now);
}

/* A UDP frame from client `src` (Ethernet source smac) to the service
 * address `dst`, into worker 0 on port `in`. */
size_t
rtp_text(uint8_t *out, size_t cap, struct ep src, const char *text)
{
	size_t n = strlen(text);
	/* Each source its own SSRC, as each phone has its own. */
	uint32_t ssrc = src.ip ^ ((uint32_t)src.port << 16) ^ 0x5a5a0000u;

	cr_assert_leq(12 + n, cap);
	out[0] = 0x80;
	out[1] = 111;
	put16(out + 2, (uint16_t)n);
	put32(out + 4, (uint32_t)n * 960u);
	put32(out + 8, ssrc);
	memcpy(out + 12, text, n);
	return 12 + n;
}

uint16_t
send_udp(unsigned int in, const uint8_t smac[6], struct ep src, struct ep dst, uint8_t ttl,
	 const char *payload, uint64_t now)
{
	uint8_t f[1600], body[1500];
	size_t blen = rtp_text(body, sizeof(body), src, payload);
	size_t len = build_udp(f, smac, in == 0 ? MAC_PORT0 : MAC_PORT1, src, dst, ttl, body,
			       blen);

	return send1(in, f, len, now);
}

uint16_t
send_bytes(unsigned int in, const uint8_t smac[6], struct ep src, struct ep dst,
	   const void *payload, size_t len, uint64_t now)
{
	uint8_t f[1600];
	size_t flen;

	cr_assert_leq(len, sizeof(f) - PAYLOAD_OFF);
	flen = build_udp(f, smac, in == 0 ? MAC_PORT0 : MAC_PORT1, src, dst, 64, payload, len);
	return send1(in, f, flen, now);
}

/* Read back everything transmitted on port/queue. @return count. */
uint16_t
rx_all(unsigned int port, uint16_t queue, struct rte_mbuf **out, uint16_t max)
{
	uint16_t n = 0, got;

	while (n < max) {
		got = rte_eth_rx_burst(H.ports[port].port_id, queue, out + n, (uint16_t)(max - n));
		if (got == 0)
			break;
		n = (uint16_t)(n + got);
	}
	return n;
}

const uint8_t *
data_of(const struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, const uint8_t *);
}

/* True when the 4 bytes of ip (host order) appear anywhere in the frame. */
bool
frame_mentions_ip(const struct rte_mbuf *m, uint32_t ip)
{
	uint8_t b[4];

	put32(b, ip);
	return memmem(data_of(m), m->data_len, b, 4) != NULL;
}

/* ---- assertions shared by the tests -------------------------------------- */

/* Check that m is the datagram `payload` relayed from relay endpoint
 * `from` to client `to`, with Ethernet smac -> dmac, every checksum right
 * and the relay's own IPv4 header: 20 bytes, TOS H_TOS, ID 0, DF, TTL ttl
 * (the workers' egress TTL, whatever the sender's was). */
void
assert_relayed_hdr(const struct rte_mbuf *m, const uint8_t smac[6], const uint8_t dmac[6],
		   struct ep from, struct ep to, uint8_t ttl, size_t plen)
{
	const uint8_t *f = data_of(m), *ip = f + IP_OFF;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	const uint8_t *udp = ip + ihl;

	cr_assert_eq(ihl, 20, "IP options left in (IHL %zu)", ihl);
	cr_assert_eq(ip[1], H_TOS, "TOS 0x%02x", ip[1]);
	cr_assert_eq(m->nb_segs, 1);
	cr_assert_eq(m->data_len, ETH_HLEN + ihl + 8 + plen, "frame length %u", m->data_len);
	cr_assert_arr_eq(f, dmac, 6, "destination MAC");
	cr_assert_arr_eq(f + 6, smac, 6, "source MAC");
	cr_assert_eq(get16(f + 12), 0x0800);
	cr_assert_eq(ip[0] >> 4, 4);
	cr_assert_eq(get16(ip + 2), ihl + 8 + plen, "IP total length");
	cr_assert_eq(get16(ip + 4), 0, "IP id %04x, want the relay's 0", get16(ip + 4));
	cr_assert_eq(get16(ip + 6), 0x4000, "DF, no fragment bits");
	cr_assert_eq(ip[8], ttl, "TTL %u, want %u", ip[8], ttl);
	cr_assert_eq(ip[9], 17);
	cr_assert_eq(get32(ip + 12), from.ip, "IP source %08x", get32(ip + 12));
	cr_assert_eq(get32(ip + 16), to.ip, "IP destination %08x", get32(ip + 16));
	cr_assert(ip_cksum_ok(ip), "IPv4 header checksum %04x wrong", get16(ip + 10));
	cr_assert_eq(get16(udp), from.port, "UDP source port %u", get16(udp));
	cr_assert_eq(get16(udp + 2), to.port, "UDP destination port %u", get16(udp + 2));
	cr_assert_eq(get16(udp + 4), 8 + plen, "UDP length %u", get16(udp + 4));
	cr_assert_eq(m->pkt_len, m->data_len, "mbuf pkt_len %u", m->pkt_len);
	cr_assert(udp_cksum_ok(ip), "UDP checksum %04x wrong", get16(udp + 6));
}

void
assert_relayed(const struct rte_mbuf *m, const uint8_t smac[6], const uint8_t dmac[6],
	       struct ep from, struct ep to, uint8_t ttl, const void *payload, size_t plen)
{
	const uint8_t *ip = data_of(m) + IP_OFF;

	assert_relayed_hdr(m, smac, dmac, from, to, ttl, plen);
	cr_assert_arr_eq(ip + (ip[0] & 0x0f) * 4 + 8, payload, plen, "payload changed");
}

void
assert_relayed_text(const struct rte_mbuf *m, const uint8_t smac[6], const uint8_t dmac[6],
		    struct ep from, struct ep to, struct ep sender, const char *text)
{
	uint8_t body[1500];
	size_t blen = rtp_text(body, sizeof(body), sender, text);

	assert_relayed(m, smac, dmac, from, to, H_TTL, body, blen);
}

/* Send a frame that must be dropped for `why` and nothing else. */
void
expect_drop(unsigned int in, const uint8_t *f, size_t len, uint64_t now, enum duet_drop why)
{
	struct duet_lcore_stats before = *H.workers[0].stats;
	struct rte_mbuf *out[4];

	cr_assert_eq(send1(in, f, len, now), 0);
	cr_assert_eq(H.workers[0].stats->drops[why], before.drops[why] + 1, "drop %s not counted",
		     duet_drop_name(why));
	cr_assert_eq(total_drops(H.workers[0].stats), total_drops(&before) + 1,
		     "another drop reason than %s counted", duet_drop_name(why));
	cr_assert_eq(H.workers[0].stats->fwd_pkts, before.fwd_pkts);
	cr_assert_eq(rx_all(0, 0, out, 4), 0, "something was sent on port 0");
	cr_assert_eq(rx_all(1, 0, out, 4), 0, "something was sent on port 1");
}

/* Latch both legs of pair slot: A on leg a (dropped: b is waiting), then B
 * on leg b (relayed to A, read back and freed). */
void
latch_both(int slot, uint64_t now)
{
	struct rte_mbuf *out[4];
	uint16_t n;

	cr_assert_eq(send_udp(0, MAC_A, cli_a, ep_a, 64, "a", now), 0);
	cr_assert_eq(send_udp(1, MAC_B, cli_b, ep_b, 64, "b", now), 1);
	n = rx_all(0, 0, out, 4);
	cr_assert_eq(n, 1);
	rte_pktmbuf_free_bulk(out, n);
	cr_assert_eq(leg_client(slot, 0).ip, CLI_A);
	cr_assert_eq(leg_client(slot, 1).ip, CLI_B);
}

/* ---- the clients' SRTP ------------------------------------------------------ */

struct duet_sdes
test_key(enum duet_srtp_suite suite, uint8_t seed)
{
	struct duet_sdes k;
	unsigned int i;

	memset(&k, 0, sizeof(k));
	k.suite = suite;
	k.key_len = (uint8_t)duet_srtp_suite_key_len(suite);
	cr_assert_neq(k.key_len, 0, "suite %d", suite);
	for (i = 0; i < k.key_len; i++)
		k.key[i] = (uint8_t)(seed * 37 + i * 29 + 1);
	return k;
}

srtp_t
srtp_session(const struct duet_sdes *k, enum duet_srtp_dir dir)
{
	srtp_t s = NULL;
	int rc;

	cr_assert_lt(H.n_sessions, MAX_TEST_SESSIONS, "too many test sessions");
	rc = duet_srtp_session_new(k, dir, &s);
	cr_assert_eq(rc, 0, "session suite %d dir %d: %d", k->suite, dir, rc);
	H.sessions[H.n_sessions++] = s;
	return s;
}

size_t
build_rtp(uint8_t *p, uint32_t ssrc, uint16_t seq, size_t plen)
{
	size_t i;

	cr_assert_leq(RTP_HLEN + plen + SRTP_MAX_TRAILER_LEN + 4, SRTP_BUF_LEN);
	p[0] = 0x80;
	p[1] = RTP_PT_OPUS;
	put16(p + 2, seq);
	put32(p + 4, 960u * seq);
	put32(p + 8, ssrc);
	for (i = 0; i < plen; i++)
		p[RTP_HLEN + i] = (uint8_t)(seq * 7 + i * 13 + 1);
	return RTP_HLEN + plen;
}

size_t
build_rtcp_sr(uint8_t *p, uint32_t ssrc, uint32_t n)
{
	p[0] = 0x80; /* V=2, no padding, no report blocks */
	p[1] = 200;
	put16(p + 2, RTCP_SR_LEN / 4 - 1);
	put32(p + 4, ssrc);
	put32(p + 8, 0xe0000000u + n); /* NTP seconds */
	put32(p + 12, n * 1000u);      /* NTP fraction */
	put32(p + 16, 960u * n);       /* RTP timestamp */
	put32(p + 20, n);	       /* sender's packet count */
	put32(p + 24, 100u * n);       /* sender's octet count */
	return RTCP_SR_LEN;
}

/* libsrtp2 wants packets on a 32-bit boundary (srtp.h); the clients here
 * always give it one, whatever buffer the caller has. */
size_t
srtp_seal(srtp_t s, uint8_t *p, size_t len)
{
	uint8_t buf[SRTP_BUF_LEN] __attribute__((aligned(16)));
	int l = (int)len;
	srtp_err_status_t st;

	cr_assert_leq(len + SRTP_MAX_TRAILER_LEN + 4, SRTP_BUF_LEN);
	memcpy(buf, p, len);
	if (buf[1] >= 192 && buf[1] <= 223)
		st = srtp_protect_rtcp(s, buf, &l);
	else
		st = srtp_protect(s, buf, &l);
	cr_assert_eq(st, srtp_err_status_ok, "protect: %d", st);
	cr_assert_leq((size_t)l, SRTP_BUF_LEN);
	memcpy(p, buf, (size_t)l);
	return (size_t)l;
}

size_t
build_srtp(srtp_t s, uint32_t ssrc, uint16_t seq, size_t plen, uint8_t *out, uint8_t *plain)
{
	size_t len = build_rtp(out, ssrc, seq, plen);

	if (plain != NULL)
		memcpy(plain, out, len);
	return srtp_seal(s, out, len);
}

srtp_err_status_t
srtp_open_payload(srtp_t s, const struct rte_mbuf *m, uint8_t *out, size_t *len)
{
	uint8_t buf[SRTP_BUF_LEN] __attribute__((aligned(16)));
	const uint8_t *ip = data_of(m) + IP_OFF;
	const uint8_t *udp = ip + (ip[0] & 0x0f) * 4;
	srtp_err_status_t st;
	int l = (int)get16(udp + 4) - 8;

	if (l < 2 || (size_t)l > SRTP_BUF_LEN)
		return srtp_err_status_bad_param;
	memcpy(buf, udp + 8, (size_t)l);
	if (buf[1] >= 192 && buf[1] <= 223)
		st = srtp_unprotect_rtcp(s, buf, &l);
	else
		st = srtp_unprotect(s, buf, &l);
	if (st == srtp_err_status_ok) {
		memcpy(out, buf, (size_t)l);
		*len = (size_t)l;
	}
	return st;
}
