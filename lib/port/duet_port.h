/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_port: ethdev and mempool setup for the ports duetd serves, and the
 * read-only view of a port that workers use (MAC, service addresses,
 * offloads, the gateway's MAC). Set up by the main thread before workers
 * start; afterwards workers only read it, except gateway_mac and
 * gateway6_mac, which a worker stores atomically when a gateway answers
 * ARP or neighbour discovery, and the windows those answers close.
 */
#ifndef DUET_PORT_H
#define DUET_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_mempool.h>

#include "duet_conf.h"
#include "duet_pair.h"

/** gateway_mac word: valid bit, MAC in the low 48 bits. */
#define DUET_PORT_MAC_VALID (1ULL << 63)

/** Neighbour solicitations for on-link clients a port can have open. */
#define DUET_PORT_ND_WANTS 16

/**
 * An on-link address duetd asked the link about (duet_port_nd_want()), for
 * however many pinned legs wait on it (the control thread keeps those).
 * The control thread owns the entry but mac_word, which the worker that
 * sees the answer takes with a compare-and-swap; until is stored by the
 * control thread alone, after ip (release), and read by workers (acquire).
 */
struct duet_port_nd_want {
	uint8_t ip[16];	   /**< the address asked for */
	uint64_t until;	   /**< an answer counts until this TSC; 0: the entry is free */
	uint64_t mac_word; /**< DUET_PORT_MAC_VALID | MAC once answered, else 0 */
	uint8_t tries;	   /**< control thread: solicitations sent */
};

/** One served port. */
struct duet_port {
	uint16_t port_id;			  /**< ethdev port id */
	uint16_t n_queues;			  /**< rx and tx queues, one per worker */
	uint8_t mac[6];				  /**< the port's MAC */
	uint8_t ip_cksum_offload;		  /**< NIC computes IPv4 header checksums */
	uint8_t rx_cksum;			  /**< NIC reports rx checksum status */
	uint8_t udp_cksum_offload;		  /**< NIC computes UDP checksums (used when
						       the payload changed: SRTP rekey) */
	uint32_t addrs_be[DUET_CONF_MAX_ADDRS];	  /**< IPv4 service addresses */
	unsigned int n_addrs;			  /**< count of addrs_be */
	uint8_t addr4_at[DUET_CONF_MAX_ADDRS];	  /**< addrs_be[i]'s place among the port's
						       addresses in the config */
	uint8_t addrs6[DUET_CONF_MAX_ADDRS][16];  /**< IPv6 service addresses */
	unsigned int n_addrs6;			  /**< count of addrs6 */
	uint8_t addr6_at[DUET_CONF_MAX_ADDRS];	  /**< addrs6[i]'s place in the config */
	uint32_t space_base;			  /**< index of the port's first address in
						       the pair table's endpoint space (set
						       by the main thread, which builds both) */
	uint32_t gateway_be;			  /**< gateway IPv4, 0 if none */
	uint64_t gateway_mac;			  /**< DUET_PORT_MAC_VALID | MAC, or 0 */
	uint8_t gateway6[16];			  /**< IPv6 gateway ([port] gateway6) */
	uint8_t has_gateway6;			  /**< gateway6 is set */
	uint64_t gateway6_mac;			  /**< DUET_PORT_MAC_VALID | MAC, or 0 */
	uint64_t nd_wait_tsc;			  /**< a gateway6 advertisement is learnt until
						       this TSC, 0 = none asked */
	struct duet_port_nd_want nd_wants[DUET_PORT_ND_WANTS]; /**< on-link clients asked for */
	uint16_t rx_desc, tx_desc;		  /**< ring sizes the driver granted a queue */
	uint8_t link_up;			  /**< link state last logged (control thread) */
	uint64_t arp_wait_tsc;			  /**< a gateway reply is learnt until this TSC, 0 = none asked */
	char name[64];				  /**< ethdev name from the config */
};

/**
 * Create the packet mempool. @return it, or NULL with rte_errno set.
 * Main thread.
 */
struct rte_mempool *duet_port_mempool_create(const char *name, unsigned int n_mbufs,
					     int socket_id);

/**
 * Find, configure and start ethdev cp->name with n_queues rx and tx queues
 * (RSS over them when more than one), enabling IPv4 checksum offload where
 * the device has it. Main thread, before workers start.
 * @param err on failure, a message naming the port and the cause
 * @return 0, -ENODEV (no such ethdev), or -errno from the ethdev layer.
 */
int duet_port_setup(struct duet_port *p, const struct duet_conf_port *cp, uint16_t n_queues,
		    struct rte_mempool *mp, char *err, size_t errlen);

/**
 * Fill p's service addresses (IPv4 and IPv6 lists, each address's place in
 * the config) and gateways from cp; duet_port_setup() does this. Main
 * thread.
 */
void duet_port_addrs_set(struct duet_port *p, const struct duet_conf_port *cp);

/**
 * The pair table's endpoint space for conf: every port's service addresses,
 * port by port in the config's order, times [port_min, port_max]. When
 * ports is not NULL, ports[i].space_base is set to where port i's addresses
 * start (ports[i] must be conf's port i). Main thread.
 */
void duet_port_space(const struct duet_conf *conf, struct duet_port *ports,
		     struct duet_pair_space *sp);

/** Stop and close the port. Main thread, after workers stopped. */
void duet_port_close(struct duet_port *p);

/**
 * Wait up to wait_ms for the links of ports[0..n) to come up, logging each
 * one's state as duet.port (and a warning for a link still down). Main
 * thread, at start.
 * @return the number of links up.
 */
unsigned int duet_port_wait_links(struct duet_port *ports, unsigned int n, uint32_t wait_ms);

/**
 * Let dpdk-dumpcap attach (allow), or answer its requests with a refusal
 * that is logged. Main thread, after the ports are set up.
 * @return 0, or -errno when pdump could not be initialised (then no
 *         capture is possible at all, which is logged).
 */
int duet_port_capture_init(bool allow);

/** Undo duet_port_capture_init(). Main thread, at exit. */
void duet_port_capture_fini(void);

/**
 * Log each link that went up or down since the last call. Control thread.
 */
void duet_port_watch_links(struct duet_port *ports, unsigned int n);

/**
 * The pair table's address index of service address ip_be of port p
 * (space_base + its place on the port), or -1 when ip_be is none of the
 * port's. Any thread.
 */
static inline int
duet_port_addr_index(const struct duet_port *p, uint32_t ip_be)
{
	unsigned int i;

	for (i = 0; i < p->n_addrs; i++)
		if (p->addrs_be[i] == ip_be)
			return (int)(p->space_base + p->addr4_at[i]);
	return -1;
}

/**
 * duet_port_addr_index() for IPv6 service address ip (16 bytes). Any
 * thread.
 */
static inline int
duet_port_addr6_index(const struct duet_port *p, const uint8_t *ip)
{
	unsigned int i;

	for (i = 0; i < p->n_addrs6; i++)
		if (memcmp(p->addrs6[i], ip, 16) == 0)
			return (int)(p->space_base + p->addr6_at[i]);
	return -1;
}

/** True when ip_be is a service address of port p. Any thread. */
static inline bool
duet_port_owns(const struct duet_port *p, uint32_t ip_be)
{
	return duet_port_addr_index(p, ip_be) >= 0;
}

/* A MAC word (DUET_PORT_MAC_VALID | MAC) into mac. */
static inline bool
duet_port_mac_word_(uint64_t w, uint8_t mac[6])
{
	unsigned int i;

	if (!(w & DUET_PORT_MAC_VALID))
		return false;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)(w >> (8 * (5 - i)));
	return true;
}

/** Read the IPv4 gateway's MAC. @return true and mac set if known. Any thread. */
static inline bool
duet_port_gateway_mac(const struct duet_port *p, uint8_t mac[6])
{
	return duet_port_mac_word_(__atomic_load_n(&p->gateway_mac, __ATOMIC_RELAXED), mac);
}

/** Read the gateway MAC of a family (DUET_AF_INET4 or DUET_AF_INET6).
 * @return true and mac set if known. Any thread. */
static inline bool
duet_port_gateway_mac_of(const struct duet_port *p, uint8_t family, uint8_t mac[6])
{
	return duet_port_mac_word_(__atomic_load_n(family == DUET_AF_INET6 ? &p->gateway6_mac
									  : &p->gateway_mac,
						   __ATOMIC_RELAXED),
				   mac);
}

struct rte_ring;

/** How long a gateway's ARP reply is learnt after duetd's request (ms). */
#define DUET_PORT_ARP_WINDOW_MS 1000

/**
 * Ask the gateway of port p (index port_idx) for its MAC: build the ARP
 * request from the port's first service address, open the reply window
 * (DUET_PORT_ARP_WINDOW_MS) and hand the frame to a worker through ring
 * (m->port = port_idx). Control thread.
 * @return 0, -ENOENT (no gateway or address), -ENOMEM (no mbuf), -ENOBUFS
 *         (ring full; the window is closed again)
 */
int duet_port_arp_request(struct duet_port *p, uint16_t port_idx, struct rte_mempool *mp,
			  struct rte_ring *ring);

/** Open the window for the gateway's ARP reply: the control thread sent a
 * request and a reply is learnt until TSC `until`. */
static inline void
duet_port_arp_asked(struct duet_port *p, uint64_t until)
{
	__atomic_store_n(&p->arp_wait_tsc, until, __ATOMIC_RELEASE);
}

/* Take an answer window (a TSC it is open until, 0 for closed) at TSC now
 * if it is open: one compare-and-swap, so one question teaches one answer. */
static inline bool
duet_port_window_take_(uint64_t *w, uint64_t now)
{
	uint64_t until = __atomic_load_n(w, __ATOMIC_ACQUIRE);

	if (until == 0 || (int64_t)(now - until) > 0)
		return false;
	return __atomic_compare_exchange_n(w, &until, 0, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_RELAXED);
}

/**
 * A worker got an ARP reply from the gateway at TSC now: take the window if
 * one is open, so one request teaches one reply and a second (spoofed)
 * answer to the same request moves nothing. @return true to learn it.
 */
static inline bool
duet_port_arp_answered(struct duet_port *p, uint64_t now)
{
	return duet_port_window_take_(&p->arp_wait_tsc, now);
}

/* mac as a MAC word. */
static inline uint64_t
duet_port_mac_to_word_(const uint8_t mac[6])
{
	uint64_t w = DUET_PORT_MAC_VALID;
	unsigned int i;

	for (i = 0; i < 6; i++)
		w |= (uint64_t)mac[i] << (8 * (5 - i));
	return w;
}

/** Store the gateway MAC (a worker that saw the gateway's ARP). */
static inline void
duet_port_set_gateway_mac(struct duet_port *p, const uint8_t mac[6])
{
	__atomic_store_n(&p->gateway_mac, duet_port_mac_to_word_(mac), __ATOMIC_RELAXED);
}

/** How long the IPv6 gateway's advertisement is learnt after duetd's
 * solicitation (ms). */
#define DUET_PORT_ND_WINDOW_MS DUET_PORT_ARP_WINDOW_MS

/**
 * Ask the IPv6 gateway of port p (index port_idx) for its MAC: a neighbour
 * solicitation from the port's first IPv6 service address, the window
 * opened (DUET_PORT_ND_WINDOW_MS), the frame handed to a worker through
 * ring. Control thread.
 * @return 0, -ENOENT (no gateway6 or IPv6 address), -ENOMEM, -ENOBUFS
 */
int duet_port_ns_request(struct duet_port *p, uint16_t port_idx, struct rte_mempool *mp,
			 struct rte_ring *ring);

/** Open (until a TSC) or close (0) the window for gateway6's advertisement. */
static inline void
duet_port_nd_asked(struct duet_port *p, uint64_t until)
{
	__atomic_store_n(&p->nd_wait_tsc, until, __ATOMIC_RELEASE);
}

/** duet_port_arp_answered() for gateway6's neighbour advertisement. */
static inline bool
duet_port_nd_answered(struct duet_port *p, uint64_t now)
{
	return duet_port_window_take_(&p->nd_wait_tsc, now);
}

/**
 * Is IPv6 address ip (16 bytes) on port p's link: inside the /64 of one of
 * its IPv6 service addresses (RFC 4291's subnet size)? Any thread.
 */
static inline bool
duet_port_onlink6(const struct duet_port *p, const uint8_t *ip)
{
	unsigned int i;

	for (i = 0; i < p->n_addrs6; i++)
		if (memcmp(p->addrs6[i], ip, 8) == 0)
			return true;
	return false;
}

/**
 * Ask the link where on-link IPv6 address ip is: a neighbour solicitation
 * from the port's service address on its /64, in an entry of p->nd_wants
 * whose answer a worker takes (duet_port_nd_wanted()) within
 * DUET_PORT_ND_WINDOW_MS. An address with an entry already (asked, or
 * answered and not yet read) gets that entry, and no new question.
 * Control thread.
 * @return the entry's index, -ENOENT (the port has no IPv6 address),
 *         -ENOSPC (every entry in use), -ENOMEM, -ENOBUFS (no mbuf, ring
 *         full: nothing was opened)
 */
int duet_port_nd_want(struct duet_port *p, uint16_t port_idx, struct rte_mempool *mp,
		      struct rte_ring *ring, const uint8_t *ip);

/**
 * Ask again for entry k, whose window closed unanswered: a new window and
 * solicitation, tries + 1. Control thread.
 * @return 0, or -ENOMEM / -ENOBUFS (the entry is left closed)
 */
int duet_port_nd_again(struct duet_port *p, unsigned int k, uint16_t port_idx,
		       struct rte_mempool *mp, struct rte_ring *ring);

/**
 * A worker got a solicited advertisement for target (16 bytes) naming MAC
 * mac at TSC now: if an open entry asked for that target, it takes the
 * answer (once). @return true when it did. Worker lcores.
 */
static inline bool
duet_port_nd_wanted(struct duet_port *p, const uint8_t *target, const uint8_t mac[6],
		    uint64_t now)
{
	unsigned int i;

	for (i = 0; i < DUET_PORT_ND_WANTS; i++) {
		struct duet_port_nd_want *e = &p->nd_wants[i];
		uint64_t until = __atomic_load_n(&e->until, __ATOMIC_ACQUIRE), none = 0;

		if (until == 0 || (int64_t)(now - until) > 0 || memcmp(e->ip, target, 16) != 0)
			continue;
		/* The entry may have been freed and reused for another address
		 * while ip was compared: a window is a deadline, never stored
		 * twice, so an unchanged one means an unchanged entry. */
		if (__atomic_load_n(&e->until, __ATOMIC_ACQUIRE) != until)
			continue;
		return __atomic_compare_exchange_n(&e->mac_word, &none,
						   duet_port_mac_to_word_(mac), false,
						   __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	}
	return false;
}

/** Store the IPv6 gateway's MAC (a worker that saw its advertisement). */
static inline void
duet_port_set_gateway6_mac(struct duet_port *p, const uint8_t mac[6])
{
	__atomic_store_n(&p->gateway6_mac, duet_port_mac_to_word_(mac), __ATOMIC_RELAXED);
}

#endif /* DUET_PORT_H */
