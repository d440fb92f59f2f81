/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_conf_endpoints: the relay's endpoint space, every service address of
 * every port times the media port range, read from a loaded struct
 * duet_conf: which port serves an endpoint, how many there are, and the i-th
 * in a stable order. Read-only; the main thread calls it at startup and the
 * control thread afterwards.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>

#include "duet_conf.h"

static uint32_t
ports_per_addr(const struct duet_conf *conf)
{
	if (conf->port_min == 0 || conf->port_max < conf->port_min)
		return 0;
	return (uint32_t)conf->port_max - conf->port_min + 1;
}

int
duet_conf_endpoint_port(const struct duet_conf *conf, const struct duet_addr *ep)
{
	unsigned int p, i;
	uint16_t udp;

	if (conf == NULL || ep == NULL)
		return -EINVAL;
	for (p = 0; p < conf->n_ports; p++)
		for (i = 0; i < conf->ports[p].n_addrs; i++) {
			if (!duet_addr_same_ip(&conf->ports[p].addrs[i], ep))
				continue;
			udp = ntohs(ep->port);
			if (udp < conf->port_min || udp > conf->port_max)
				return -ERANGE;
			return (int)p;
		}
	return -ENOENT;
}

uint64_t
duet_conf_endpoint_count(const struct duet_conf *conf)
{
	uint64_t n_addrs = 0;
	unsigned int p;

	if (conf == NULL)
		return 0;
	for (p = 0; p < conf->n_ports; p++)
		n_addrs += conf->ports[p].n_addrs;
	return n_addrs * ports_per_addr(conf);
}

int
duet_conf_endpoint_at(const struct duet_conf *conf, uint64_t i, struct duet_addr *ep)
{
	uint32_t per_addr;
	uint64_t addr_idx;
	unsigned int p;

	if (conf == NULL || ep == NULL)
		return -EINVAL;
	if (i >= duet_conf_endpoint_count(conf))
		return -ERANGE;
	per_addr = ports_per_addr(conf);
	addr_idx = i / per_addr;
	for (p = 0; p < conf->n_ports; p++) {
		if (addr_idx < conf->ports[p].n_addrs) {
			*ep = conf->ports[p].addrs[addr_idx];
			ep->port = htons((uint16_t)(conf->port_min + i % per_addr));
			return 0;
		}
		addr_idx -= conf->ports[p].n_addrs;
	}
	return -ERANGE;
}
