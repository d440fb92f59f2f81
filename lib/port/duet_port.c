/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_port: ethdev configuration for duetd. Main thread only, before the
 * workers start and after they stop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "duet_pkt.h"
#include "duet_port.h"

RTE_LOG_REGISTER(duet_port_logtype, duet.port, INFO);
#define PORT_LOG(level, ...) rte_log(RTE_LOG_##level, duet_port_logtype, __VA_ARGS__)

#define MBUF_CACHE 256

struct rte_mempool *
duet_port_mempool_create(const char *name, unsigned int n_mbufs, int socket_id)
{
	return rte_pktmbuf_pool_create(name, n_mbufs, MBUF_CACHE, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, socket_id);
}

int
duet_port_setup(struct duet_port *p, const struct duet_conf_port *cp, uint16_t n_queues,
		struct rte_mempool *mp, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf ec;
	struct rte_ether_addr mac;
	uint16_t pid, nrx, ntx, q;
	int rc;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", cp->name);
	if (rte_eth_dev_get_port_by_name(cp->name, &pid) != 0) {
		snprintf(err, errlen,
			 "port %s: no such ethdev (give it with -a <pci> or --vdev on the EAL command line)",
			 cp->name);
		return -ENODEV;
	}
	p->port_id = pid;
	p->n_queues = n_queues;
	rc = rte_eth_dev_info_get(pid, &info);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: cannot read device info: %s", cp->name,
			 strerror(-rc));
		return rc;
	}
	if (n_queues > info.max_rx_queues || n_queues > info.max_tx_queues) {
		snprintf(err, errlen,
			 "port %s: %u workers need %u rx and tx queues, the device has %u rx, %u tx%s",
			 cp->name, n_queues, n_queues, info.max_rx_queues, info.max_tx_queues,
			 strncmp(cp->name, "net_af_packet", 13) == 0 ? " (set qpairs= in --vdev)" : "");
		return -EINVAL;
	}

	memset(&ec, 0, sizeof(ec));
	if (n_queues > 1) {
		ec.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		ec.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
		ec.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		p->ip_cksum_offload = 1;
	}
	/* A rewritten payload (SRTP rekey) needs its UDP checksum computed
	 * over every byte: the NIC does it for free when it can. A relayed
	 * payload keeps the client's checksum, updated in software for the
	 * new addresses (a few adds), so a corrupted payload stays visible. */
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) {
		ec.txmode.offloads |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
		p->udp_cksum_offload = 1;
	}
	if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_CHECKSUM) {
		ec.rxmode.offloads |= info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_CHECKSUM;
		p->rx_cksum = 1;
	}
	rc = rte_eth_dev_configure(pid, n_queues, n_queues, &ec);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: configure failed: %s", cp->name, strerror(-rc));
		return rc;
	}
	nrx = cp->rx_desc;
	ntx = cp->tx_desc;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: descriptor counts refused: %s", cp->name,
			 strerror(-rc));
		return rc;
	}
	p->rx_desc = nrx;
	p->tx_desc = ntx;
	for (q = 0; q < n_queues; q++) {
		rc = rte_eth_rx_queue_setup(pid, q, nrx, rte_eth_dev_socket_id(pid), NULL, mp);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(pid, q, ntx, rte_eth_dev_socket_id(pid), NULL);
		if (rc != 0) {
			snprintf(err, errlen, "port %s: queue %u setup failed: %s", cp->name, q,
				 strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_macaddr_get(pid, &mac);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: no MAC address: %s", cp->name, strerror(-rc));
		return rc;
	}
	memcpy(p->mac, mac.addr_bytes, 6);
	duet_port_addrs_set(p, cp);
	rc = rte_eth_dev_start(pid);
	if (rc != 0) {
		snprintf(err, errlen, "port %s: start failed: %s", cp->name, strerror(-rc));
		return rc;
	}
	/* Neighbour solicitations for our IPv6 addresses come to their
	 * solicited-node groups. A device without multicast filtering passes
	 * them anyway; one that cannot take all multicast says so here. */
	if (p->n_addrs6 != 0) {
		rc = rte_eth_allmulticast_enable(pid);
		if (rc != 0 && rc != -ENOTSUP)
			PORT_LOG(WARNING,
				 "port %s: cannot receive all multicast (%s): neighbour "
				 "solicitations to solicited-node groups may not arrive\n",
				 cp->name, strerror(-rc));
	}
	PORT_LOG(INFO,
		 "port %s (ethdev %u, driver %s): %u queue pair(s), rx ring %u, tx ring %u "
		 "descriptors a queue (asked %u, %u), IPv4 checksum %s, UDP checksum %s\n",
		 cp->name, pid, info.driver_name, n_queues, nrx, ntx, cp->rx_desc, cp->tx_desc,
		 p->ip_cksum_offload ? "offloaded" : "in software",
		 p->udp_cksum_offload ? "offloaded" : "in software");
	return 0;
}

static void
log_link(const struct duet_port *p, const struct rte_eth_link *l)
{
	char text[RTE_ETH_LINK_MAX_STR_LEN];

	rte_eth_link_to_str(text, sizeof(text), l);
	if (l->link_status == RTE_ETH_LINK_UP)
		PORT_LOG(INFO, "port %s: %s\n", p->name, text);
	else
		PORT_LOG(WARNING, "port %s: %s: nothing is received or sent on it\n", p->name,
			 text);
}

unsigned int
duet_port_wait_links(struct duet_port *ports, unsigned int n, uint32_t wait_ms)
{
	uint64_t until = rte_get_timer_cycles() + rte_get_timer_hz() / 1000 * wait_ms;
	struct rte_eth_link l;
	unsigned int i, up;

	for (;;) {
		for (i = 0, up = 0; i < n; i++) {
			memset(&l, 0, sizeof(l));
			if (rte_eth_link_get_nowait(ports[i].port_id, &l) == 0 &&
			    l.link_status == RTE_ETH_LINK_UP)
				up++;
		}
		if (up == n || rte_get_timer_cycles() >= until)
			break;
		rte_delay_us_sleep(100000);
	}
	for (i = 0; i < n; i++) {
		memset(&l, 0, sizeof(l));
		(void)rte_eth_link_get_nowait(ports[i].port_id, &l);
		ports[i].link_up = l.link_status == RTE_ETH_LINK_UP;
		if (!ports[i].link_up)
			PORT_LOG(WARNING, "port %s: link still down after %u ms ([relay] "
				 "link_wait_ms); starting anyway\n", ports[i].name, wait_ms);
		log_link(&ports[i], &l);
	}
	return up;
}

void
duet_port_watch_links(struct duet_port *ports, unsigned int n)
{
	struct rte_eth_link l;
	unsigned int i;

	for (i = 0; i < n; i++) {
		memset(&l, 0, sizeof(l));
		if (rte_eth_link_get_nowait(ports[i].port_id, &l) != 0)
			continue;
		if ((l.link_status == RTE_ETH_LINK_UP) != (ports[i].link_up != 0)) {
			ports[i].link_up = l.link_status == RTE_ETH_LINK_UP;
			log_link(&ports[i], &l);
		}
	}
}

void
duet_port_close(struct duet_port *p)
{
	rte_eth_dev_stop(p->port_id);
	rte_eth_dev_close(p->port_id);
}

int
duet_port_arp_request(struct duet_port *p, uint16_t port_idx, struct rte_mempool *mp,
		      struct rte_ring *ring)
{
	struct rte_mbuf *m;

	if (p->gateway_be == 0 || p->n_addrs == 0)
		return -ENOENT;
	m = rte_pktmbuf_alloc(mp);
	if (m == NULL)
		return -ENOMEM;
	m->data_len = (uint16_t)duet_pkt_build_arp_request(rte_pktmbuf_mtod(m, uint8_t *),
							   p->mac, p->addrs_be[0], p->gateway_be);
	m->pkt_len = m->data_len;
	m->port = port_idx;
	/* Only a reply inside this window teaches the gateway's MAC; open it
	 * before the request can leave. */
	duet_port_arp_asked(p, rte_get_tsc_cycles() +
				       rte_get_tsc_hz() / 1000 * DUET_PORT_ARP_WINDOW_MS);
	if (rte_ring_enqueue(ring, m) != 0) {
		duet_port_arp_asked(p, 0);
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	return 0;
}

void
duet_port_addrs_set(struct duet_port *p, const struct duet_conf_port *cp)
{
	unsigned int i;

	/* Each family's addresses apart, for the worker's lookup; each keeps
	 * its place in the config, which is its place in the endpoint space. */
	p->n_addrs = 0;
	p->n_addrs6 = 0;
	for (i = 0; i < cp->n_addrs && i < DUET_CONF_MAX_ADDRS; i++) {
		if (cp->addrs[i].family == DUET_AF_INET6) {
			memcpy(p->addrs6[p->n_addrs6], cp->addrs[i].ip, 16);
			p->addr6_at[p->n_addrs6++] = (uint8_t)i;
		} else {
			memcpy(&p->addrs_be[p->n_addrs], cp->addrs[i].ip, 4);
			p->addr4_at[p->n_addrs++] = (uint8_t)i;
		}
	}
	p->gateway_be = 0;
	if (cp->gateway.family == DUET_AF_INET4)
		memcpy(&p->gateway_be, cp->gateway.ip, 4);
	p->has_gateway6 = cp->gateway6.family == DUET_AF_INET6;
	if (p->has_gateway6)
		memcpy(p->gateway6, cp->gateway6.ip, 16);
}

int
duet_port_ns_request(struct duet_port *p, uint16_t port_idx, struct rte_mempool *mp,
		     struct rte_ring *ring)
{
	struct rte_mbuf *m;

	if (!p->has_gateway6 || p->n_addrs6 == 0)
		return -ENOENT;
	m = rte_pktmbuf_alloc(mp);
	if (m == NULL)
		return -ENOMEM;
	m->data_len = (uint16_t)duet_pkt_build_ns(rte_pktmbuf_mtod(m, uint8_t *), p->mac,
						  p->addrs6[0], p->gateway6);
	m->pkt_len = m->data_len;
	m->port = port_idx;
	duet_port_nd_asked(p, rte_get_tsc_cycles() +
				      rte_get_tsc_hz() / 1000 * DUET_PORT_ND_WINDOW_MS);
	if (rte_ring_enqueue(ring, m) != 0) {
		duet_port_nd_asked(p, 0);
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	return 0;
}

/* A neighbour solicitation for target from the port's service address on
 * its /64 (else the first), through ring. */
static int
ns_send(struct duet_port *p, uint16_t port_idx, struct rte_mempool *mp, struct rte_ring *ring,
	const uint8_t *target)
{
	const uint8_t *src = p->addrs6[0];
	struct rte_mbuf *m;
	unsigned int i;

	for (i = 0; i < p->n_addrs6; i++)
		if (memcmp(p->addrs6[i], target, 8) == 0)
			src = p->addrs6[i];
	m = rte_pktmbuf_alloc(mp);
	if (m == NULL)
		return -ENOMEM;
	m->data_len = (uint16_t)duet_pkt_build_ns(rte_pktmbuf_mtod(m, uint8_t *), p->mac, src, target);
	m->pkt_len = m->data_len;
	m->port = port_idx;
	if (rte_ring_enqueue(ring, m) != 0) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	return 0;
}

/* Open entry e's window and send its solicitation; closed again if the
 * frame cannot go. */
static int
nd_ask(struct duet_port *p, struct duet_port_nd_want *e, uint16_t port_idx,
       struct rte_mempool *mp, struct rte_ring *ring)
{
	int rc;

	/* Open before the question can leave, as for the gateway. */
	__atomic_store_n(&e->until,
			 rte_get_tsc_cycles() + rte_get_tsc_hz() / 1000 * DUET_PORT_ND_WINDOW_MS,
			 __ATOMIC_RELEASE);
	rc = ns_send(p, port_idx, mp, ring, e->ip);
	if (rc != 0) {
		__atomic_store_n(&e->until, 0, __ATOMIC_RELEASE);
		return rc;
	}
	e->tries++;
	return 0;
}

int
duet_port_nd_want(struct duet_port *p, uint16_t port_idx, struct rte_mempool *mp,
		  struct rte_ring *ring, const uint8_t *ip)
{
	struct duet_port_nd_want *e = NULL;
	unsigned int i;
	int rc;

	if (p->n_addrs6 == 0)
		return -ENOENT;
	for (i = 0; i < DUET_PORT_ND_WANTS; i++) {
		struct duet_port_nd_want *c = &p->nd_wants[i];

		if (c->until != 0 && memcmp(c->ip, ip, 16) == 0)
			return (int)i;
		if (e == NULL && c->until == 0)
			e = c;
	}
	if (e == NULL)
		return -ENOSPC;
	memcpy(e->ip, ip, 16);
	e->tries = 0;
	__atomic_store_n(&e->mac_word, 0, __ATOMIC_RELAXED);
	rc = nd_ask(p, e, port_idx, mp, ring);
	return rc != 0 ? rc : (int)(e - p->nd_wants);
}

int
duet_port_nd_again(struct duet_port *p, unsigned int k, uint16_t port_idx,
		   struct rte_mempool *mp, struct rte_ring *ring)
{
	return nd_ask(p, &p->nd_wants[k], port_idx, mp, ring);
}

/* Every service address a config can list has its place in the space. */
_Static_assert(DUET_CONF_MAX_PORTS * DUET_CONF_MAX_ADDRS <= DUET_PAIR_SPACE_ADDRS_MAX,
	       "the endpoint space must hold every port's service addresses");

void
duet_port_space(const struct duet_conf *conf, struct duet_port *ports,
		struct duet_pair_space *sp)
{
	unsigned int i, j;

	memset(sp, 0, sizeof(*sp));
	sp->port_min = conf->port_min;
	sp->port_max = conf->port_max;
	for (i = 0; i < conf->n_ports; i++) {
		if (ports != NULL)
			ports[i].space_base = sp->n_addrs;
		for (j = 0; j < conf->ports[i].n_addrs && sp->n_addrs < DUET_PAIR_SPACE_ADDRS_MAX;
		     j++) {
			sp->addrs[sp->n_addrs] = conf->ports[i].addrs[j];
			sp->addrs[sp->n_addrs].port = 0;
			sp->n_addrs++;
		}
	}
}
