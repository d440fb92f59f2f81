/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/port: duet_port_setup() against net_ring vdevs (and a
 * name that is not there), the mempool constructor, and the inline helpers
 * workers use (duet_port_owns, duet_port_addr_index, the gateway MAC
 * word), and the pair table's endpoint space built from a config. Tests that need an
 * ethdev start their own EAL (no hugepages, own file prefix) in their .init
 * fixture; Criterion runs each test in its own process.
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
#include <rte_mbuf.h>

#include "duet_port.h"
#include "../eal_rundir.h"

#define IP4(a, b, c, d) \
	htonl((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static const uint8_t MAC_RING0[6] = { 0x02, 0xd0, 0x00, 0x00, 0x00, 0x10 };

static struct rte_mempool *mp;
static bool eal_up;

static void
eal_start(void)
{
	static char prefix[64], lcores[32];
	char *argv[] = { "test_duet_port", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			 "--no-telemetry", "--file-prefix", prefix, "--lcores", lcores,
			 "--vdev", "net_ring0", "--log-level", "*:error", NULL };
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	cpu_set_t set;
	unsigned int c;

	/* Run lcore 0 on a CPU this process may use (not always CPU 0). */
	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	for (c = 0; c < CPU_SETSIZE && !CPU_ISSET(c, &set); c++)
		;
	snprintf(lcores, sizeof(lcores), "0@%u", c);
	snprintf(prefix, sizeof(prefix), "duet_pt_%d", (int)getpid());
	cr_assert_geq(rte_eal_init(argc, argv), 0, "EAL init: %s", rte_strerror(rte_errno));
	test_eal_rundir_remove_at_exit();
	eal_up = true;
	mp = duet_port_mempool_create("pt_mbuf", 2047, (int)rte_socket_id());
	cr_assert_not_null(mp, "mempool: %s", rte_strerror(rte_errno));
}

static void
eal_stop(void)
{
	if (!eal_up)
		return;
	rte_mempool_free(mp);
	rte_eal_cleanup();
	eal_up = false;
}

static void
conf_port(struct duet_conf_port *cp, const char *name)
{
	memset(cp, 0, sizeof(*cp));
	snprintf(cp->name, sizeof(cp->name), "%s", name);
	duet_addr_set4(&cp->addrs[0], IP4(192, 0, 2, 1), 0);
	duet_addr_set4(&cp->addrs[1], IP4(192, 0, 2, 2), 0);
	cp->n_addrs = 2;
	duet_addr_set4(&cp->gateway, IP4(192, 0, 2, 254), 0);
	cp->rx_desc = 512;
	cp->tx_desc = 512;
}

Test(port, setup_of_a_missing_ethdev_is_enodev_and_names_it, .init = eal_start,
     .fini = eal_stop)
{
	struct duet_conf_port cp;
	struct duet_port p;
	char err[256] = "";

	conf_port(&cp, "net_ring7");
	cr_assert_eq(duet_port_setup(&p, &cp, 1, mp, err, sizeof(err)), -ENODEV);
	cr_assert_not_null(strstr(err, "net_ring7"), "message does not name the port: %s", err);
	cr_assert_not_null(strstr(err, "--vdev"), "message gives no hint: %s", err);
}

Test(port, setup_reads_the_mac_copies_addresses_and_starts_the_port, .init = eal_start,
     .fini = eal_stop)
{
	struct duet_conf_port cp;
	struct duet_port p;
	struct rte_ether_addr a;
	struct rte_mbuf *m, *back;
	char err[256] = "";
	uint16_t pid;
	uint8_t mac[6];

	cr_assert_eq(rte_eth_dev_get_port_by_name("net_ring0", &pid), 0);
	/* net_ring starts with MAC 00:00:00:00:00:00; give it a real one to read. */
	memcpy(a.addr_bytes, MAC_RING0, 6);
	cr_assert_eq(rte_eth_dev_mac_addr_add(pid, &a, 0), 0);
	conf_port(&cp, "net_ring0");
	memset(&p, 0xa5, sizeof(p)); /* setup must not depend on a zeroed struct */
	cr_assert_eq(duet_port_setup(&p, &cp, 1, mp, err, sizeof(err)), 0, "%s", err);

	cr_assert_eq(p.port_id, pid);
	cr_assert_eq(p.n_queues, 1);
	cr_assert_str_eq(p.name, "net_ring0");
	cr_assert_arr_eq(p.mac, MAC_RING0, 6);
	cr_assert_eq(p.n_addrs, 2);
	cr_assert_eq(p.addrs_be[0], IP4(192, 0, 2, 1));
	cr_assert_eq(p.addrs_be[1], IP4(192, 0, 2, 2));
	cr_assert_eq(p.gateway_be, IP4(192, 0, 2, 254));
	cr_assert_not(duet_port_gateway_mac(&p, mac), "gateway MAC known before any ARP");
	/* net_ring has no checksum offloads: nothing may be claimed. */
	cr_assert_eq(p.ip_cksum_offload, 0);
	cr_assert_eq(p.rx_cksum, 0);

	/* Started: a frame sent on net_ring comes back on its rx queue. */
	m = rte_pktmbuf_alloc(mp);
	cr_assert_not_null(m);
	memset(rte_pktmbuf_append(m, 60), 0x42, 60);
	cr_assert_eq(rte_eth_tx_burst(pid, 0, &m, 1), 1, "port not started");
	cr_assert_eq(rte_eth_rx_burst(pid, 0, &back, 1), 1);
	cr_assert_eq(back, m);
	rte_pktmbuf_free(back);
	duet_port_close(&p);
}

Test(port, setup_without_a_gateway_leaves_it_zero, .init = eal_start, .fini = eal_stop)
{
	struct duet_conf_port cp;
	struct duet_port p;
	char err[256] = "";

	conf_port(&cp, "net_ring0");
	memset(&cp.gateway, 0, sizeof(cp.gateway));
	cp.n_addrs = 1;
	cr_assert_eq(duet_port_setup(&p, &cp, 1, mp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.gateway_be, 0);
	cr_assert_eq(p.n_addrs, 1);
	cr_assert(duet_port_owns(&p, IP4(192, 0, 2, 1)));
	cr_assert_not(duet_port_owns(&p, IP4(192, 0, 2, 2)), "address past n_addrs owned");
	duet_port_close(&p);
}

Test(port, setup_gives_each_worker_a_queue, .init = eal_start, .fini = eal_stop)
{
	struct duet_conf_port cp;
	struct duet_port p;
	struct rte_eth_dev_info info;
	struct rte_mbuf *m, *back;
	char err[256] = "";

	conf_port(&cp, "net_ring0");
	cr_assert_eq(duet_port_setup(&p, &cp, 4, mp, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.n_queues, 4);
	cr_assert_eq(rte_eth_dev_info_get(p.port_id, &info), 0);
	cr_assert_eq(info.nb_rx_queues, 4);
	cr_assert_eq(info.nb_tx_queues, 4);
	m = rte_pktmbuf_alloc(mp);
	memset(rte_pktmbuf_append(m, 60), 0, 60);
	cr_assert_eq(rte_eth_tx_burst(p.port_id, 3, &m, 1), 1, "queue 3 not set up");
	cr_assert_eq(rte_eth_rx_burst(p.port_id, 3, &back, 1), 1);
	rte_pktmbuf_free(back);
	duet_port_close(&p);
}

Test(port, more_workers_than_the_device_has_queues_is_refused_by_name, .init = eal_start,
     .fini = eal_stop)
{
	struct duet_conf_port cp;
	struct duet_port p;
	struct rte_eth_dev_info info;
	char err[256] = "";
	uint16_t pid;

	cr_assert_eq(rte_eth_dev_get_port_by_name("net_ring0", &pid), 0);
	cr_assert_eq(rte_eth_dev_info_get(pid, &info), 0);
	conf_port(&cp, "net_ring0");
	cr_assert_eq(duet_port_setup(&p, &cp, (uint16_t)(info.max_rx_queues + 1), mp, err,
				     sizeof(err)),
		     -EINVAL);
	cr_assert_not_null(strstr(err, "net_ring0"), "%s", err);
	cr_assert_not_null(strstr(err, "queues"), "%s", err);
}

Test(port, mempool_holds_the_mbufs_asked_for, .init = eal_start, .fini = eal_stop)
{
	struct rte_mempool *p = duet_port_mempool_create("pt_other", 1023, (int)rte_socket_id());

	cr_assert_not_null(p, "%s", rte_strerror(rte_errno));
	cr_assert_eq(p->size, 1023);
	cr_assert_eq(rte_mempool_avail_count(p), 1023);
	cr_assert_geq(rte_pktmbuf_data_room_size(p), RTE_MBUF_DEFAULT_BUF_SIZE);
	/* Names are unique in DPDK: a second pool of that name is refused. */
	cr_assert_null(duet_port_mempool_create("pt_other", 1023, (int)rte_socket_id()));
	cr_assert_eq(rte_errno, EEXIST);
	rte_mempool_free(p);
}

/* No EAL needed below: the helpers are plain inline functions. */

Test(port, owns_exactly_its_service_addresses)
{
	struct duet_port p;

	memset(&p, 0, sizeof(p));
	p.addrs_be[0] = IP4(198, 51, 100, 1);
	p.addrs_be[1] = IP4(198, 51, 100, 2);
	p.n_addrs = 2;
	p.gateway_be = IP4(198, 51, 100, 254);
	cr_assert(duet_port_owns(&p, IP4(198, 51, 100, 1)));
	cr_assert(duet_port_owns(&p, IP4(198, 51, 100, 2)));
	cr_assert_not(duet_port_owns(&p, IP4(198, 51, 100, 3)));
	cr_assert_not(duet_port_owns(&p, p.gateway_be), "the gateway's address is not ours");
	cr_assert_not(duet_port_owns(&p, 0));
	/* Byte order matters: 1.100.51.198 is somebody else. */
	cr_assert_not(duet_port_owns(&p, IP4(1, 100, 51, 198)));
	p.n_addrs = 0;
	cr_assert_not(duet_port_owns(&p, IP4(198, 51, 100, 1)));
}

/* The pair table's endpoint space from a config: every port's addresses
 * in order (ports stripped), the media range, and each port told where its
 * addresses start; duet_port_addr_index() then gives the space's index. */
Test(port, space_lists_every_port_s_addresses_and_each_port_its_base)
{
	struct duet_conf conf;
	struct duet_pair_space sp;
	struct duet_port ports[2];

	memset(&conf, 0, sizeof(conf));
	memset(ports, 0, sizeof(ports));
	conf.n_ports = 2;
	conf.port_min = 20000;
	conf.port_max = 29999;
	duet_addr_set4(&conf.ports[0].addrs[0], IP4(192, 0, 2, 1), htons(7));
	duet_addr_set4(&conf.ports[0].addrs[1], IP4(192, 0, 2, 2), 0);
	conf.ports[0].n_addrs = 2;
	duet_addr_set4(&conf.ports[1].addrs[0], IP4(198, 51, 100, 1), 0);
	conf.ports[1].n_addrs = 1;
	duet_port_addrs_set(&ports[0], &conf.ports[0]);
	duet_port_addrs_set(&ports[1], &conf.ports[1]);
	ports[1].space_base = 99;

	duet_port_space(&conf, ports, &sp);
	cr_assert_eq(sp.n_addrs, 3);
	cr_assert_eq(sp.port_min, 20000);
	cr_assert_eq(sp.port_max, 29999);
	cr_assert_eq(memcmp(sp.addrs[0].ip, "\xc0\x00\x02\x01", 4), 0);
	cr_assert_eq(sp.addrs[0].port, 0, "an address of the space has no port");
	cr_assert_eq(memcmp(sp.addrs[1].ip, "\xc0\x00\x02\x02", 4), 0);
	cr_assert_eq(memcmp(sp.addrs[2].ip, "\xc6\x33\x64\x01", 4), 0);
	cr_assert_eq(ports[0].space_base, 0);
	cr_assert_eq(ports[1].space_base, 2);
	cr_assert_eq(duet_port_addr_index(&ports[0], IP4(192, 0, 2, 2)), 1);
	cr_assert_eq(duet_port_addr_index(&ports[1], IP4(198, 51, 100, 1)), 2);
	cr_assert_eq(duet_port_addr_index(&ports[1], IP4(192, 0, 2, 1)), -1,
		     "another port's address is not this port's");
	cr_assert_eq(duet_pair_space_bytes(&sp), (size_t)3 * 10000 * 4);

	/* Without ports: the same space, nothing else written. */
	memset(&sp, 0xff, sizeof(sp));
	duet_port_space(&conf, NULL, &sp);
	cr_assert_eq(sp.n_addrs, 3);
}

/* A port with both families: each address is found in its family's list
 * at its place in the config (its place in the endpoint space), and an
 * address of one family never matches the other's list. */
Test(port, mixed_family_addresses_keep_their_config_places)
{
	struct duet_conf conf;
	struct duet_pair_space sp;
	struct duet_port port;
	struct duet_addr v6a, v6b;
	uint8_t mac[6];

	memset(&conf, 0, sizeof(conf));
	memset(&port, 0, sizeof(port));
	conf.n_ports = 1;
	conf.port_min = 20000;
	conf.port_max = 20009;
	cr_assert_eq(duet_addr_parse_ip("2001:db8::10", &v6a), 0);
	cr_assert_eq(duet_addr_parse_ip("2001:db8::11", &v6b), 0);
	conf.ports[0].addrs[0] = v6a;
	duet_addr_set4(&conf.ports[0].addrs[1], IP4(192, 0, 2, 1), 0);
	conf.ports[0].addrs[2] = v6b;
	conf.ports[0].n_addrs = 3;
	cr_assert_eq(duet_addr_parse_ip("fe80::1", &conf.ports[0].gateway6), 0);
	duet_port_addrs_set(&port, &conf.ports[0]);
	duet_port_space(&conf, &port, &sp);

	cr_assert_eq(port.n_addrs, 1);
	cr_assert_eq(port.n_addrs6, 2);
	cr_assert_eq(sp.n_addrs, 3);
	cr_assert_eq(duet_port_addr6_index(&port, v6a.ip), 0);
	cr_assert_eq(duet_port_addr_index(&port, IP4(192, 0, 2, 1)), 1);
	cr_assert_eq(duet_port_addr6_index(&port, v6b.ip), 2);
	cr_assert(duet_addr_same_ip(&sp.addrs[2], &v6b));
	/* 192.0.2.1 as the first 4 bytes of a v6 address is not ours. */
	cr_assert_eq(duet_port_addr6_index(&port, conf.ports[0].addrs[1].ip), -1);
	cr_assert_eq(port.has_gateway6, 1);
	cr_assert_eq(port.gateway_be, 0);
	cr_assert_not(duet_port_gateway_mac_of(&port, DUET_AF_INET6, mac));
	duet_port_set_gateway6_mac(&port, (const uint8_t *)"\x02\x00\x00\x00\x00\x09");
	cr_assert(duet_port_gateway_mac_of(&port, DUET_AF_INET6, mac));
	cr_assert_eq(mac[5], 9);
	cr_assert_not(duet_port_gateway_mac_of(&port, DUET_AF_INET4, mac),
		      "the IPv6 gateway's MAC is not the IPv4 one's");
}

Test(port, gateway_mac_round_trips_through_the_atomic_word)
{
	static const uint8_t macs[][6] = {
		{ 0x02, 0x99, 0x00, 0x00, 0x01, 0xfe },
		{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, /* all zero is still a MAC */
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0x80, 0x01, 0x02, 0x03, 0x04, 0x05 }, /* top bit near the valid bit */
	};
	struct duet_port p;
	uint8_t got[6];
	unsigned int i;

	memset(&p, 0, sizeof(p));
	memset(got, 0x5a, sizeof(got));
	cr_assert_not(duet_port_gateway_mac(&p, got));
	cr_assert_eq(got[0], 0x5a, "mac written although unknown");
	for (i = 0; i < sizeof(macs) / sizeof(macs[0]); i++) {
		duet_port_set_gateway_mac(&p, macs[i]);
		cr_assert(duet_port_gateway_mac(&p, got));
		cr_assert_arr_eq(got, macs[i], 6, "MAC %u changed on the way", i);
		cr_assert((p.gateway_mac & DUET_PORT_MAC_VALID) != 0);
	}
}
