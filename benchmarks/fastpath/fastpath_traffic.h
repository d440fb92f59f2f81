/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fastpath_traffic: the callers' side of bench_fastpath. Where pair i's
 * relay endpoints and clients are, the Opus RTP packets the clients send
 * (SRTP-protected in the keyed modes with the clients' own libsrtp2
 * sessions, as phones would), the Ethernet/IPv4/UDP frames around them, and
 * a run's schedule: which pair and leg each packet goes to. Runs on the
 * benchmark's one thread, never inside the timed part. Addresses are host
 * order here.
 */
#ifndef FASTPATH_TRAFFIC_H
#define FASTPATH_TRAFFIC_H

#include <stdbool.h>
#include <stdint.h>

#include "duet_addr.h"
#include "duet_conf.h"
#include "duet_sdes.h"
#include "duet_srtp.h"

#define FP_BURST 32 /* packets per burst: duet's rx burst */
/* Service addresses per port: pair i's endpoints are address i % FP_SVC_ADDRS
 * of each port, UDP port FP_EP_PORT_BASE + i / FP_SVC_ADDRS. */
#define FP_SVC_ADDRS DUET_CONF_MAX_ADDRS
#define FP_EP_PORT_BASE 1024u
#define FP_MAX_PAIRS (FP_SVC_ADDRS * (65536u - FP_EP_PORT_BASE))
#define FP_PKT_MAX 256 /* room for one UDP payload (RTP + SRTP trailer) */

/** One packet of a run's schedule. */
struct fp_desc {
	uint32_t pair; /**< pair slot it goes to */
	uint16_t len;  /**< UDP payload bytes: RTP, or SRTP once protected */
	uint16_t seq;  /**< RTP sequence number */
};

/** The clients of every pair of one table. */
struct fp_traffic {
	uint64_t rng;	    /**< xorshift64* state */
	uint8_t noise[512]; /**< what Opus payload bytes are cut from */
	bool keyed;	    /**< verify or rekey: packets are SRTP */
	bool v6[2];	    /**< leg a's, leg b's endpoints and clients are IPv6 */
	uint16_t *next_seq; /**< per leg (pair * 2 + leg): next RTP sequence number */
	srtp_t client[2];   /**< leg a's and leg b's clients' outbound sessions */
	uint8_t *store;	    /**< keyed: the run's protected payloads, FP_PKT_MAX each */
};

/** MACs of the relay's two ports (net_ring0, net_ring1). */
extern const uint8_t fp_mac_port[2][6];

/** Print "bench_fastpath: <message>" and exit 1. */
void fp_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/**
 * The relay endpoint of leg `leg` of pair `pair` (service address
 * pair % FP_SVC_ADDRS of port `leg`, in the leg's family) with UDP port
 * port_be (network order; 0 for the service address alone).
 */
void fp_svc_addr(const struct fp_traffic *t, unsigned int leg, uint32_t pair, uint16_t port_be,
		 struct duet_addr *a);
/** The UDP port, host order, of pair `pair`'s endpoints. */
uint16_t fp_ep_port(uint32_t pair);

/** The leg (0 = a, on port 0; 1 = b) packet i of a run goes to: bursts alternate. */
static inline unsigned int
fp_leg_of(uint64_t i)
{
	return (unsigned int)(i / FP_BURST) & 1;
}

/** Seed the generator (the same seed, the same traffic); both legs IPv4. */
void fp_traffic_seed(struct fp_traffic *t, uint64_t seed);

/** Each leg's family: v6_a for leg a (port 0), v6_b for leg b (port 1).
 * Before the ports are set up. */
void fp_traffic_family(struct fp_traffic *t, bool v6_a, bool v6_b);

/**
 * Clients for up to capacity pairs. key_a / key_b: the keys legs a's and
 * b's clients protect with (a_in, b_in), or NULL for passthrough.
 */
void fp_traffic_open(struct fp_traffic *t, uint32_t capacity, const struct duet_sdes *key_a,
		     const struct duet_sdes *key_b);
void fp_traffic_close(struct fp_traffic *t);

/** The next packet of the client of leg `leg` of `pair` (opus bytes of Opus
 * payload) into p (FP_PKT_MAX bytes). @return its length. */
uint16_t fp_packet_next(struct fp_traffic *t, uint8_t *p, uint32_t pair, unsigned int leg,
			uint16_t opus);

/** Ethernet/IPv4/UDP (or, on an IPv6 leg, Ethernet/IPv6/UDP) frame from
 * the leg's client to its endpoint around the UDP payload l7, checksums
 * right. @return the frame's length. */
uint16_t fp_frame_build(const struct fp_traffic *t, uint8_t *f, uint32_t pair, unsigned int leg,
			const uint8_t *l7, uint16_t len);

/**
 * A run: n packets (a multiple of FP_BURST) to uniformly random pairs among
 * the first p, Opus payloads of 60..160 bytes, sequence numbers continuing
 * per leg. Keyed: every packet is protected now, into t->store.
 */
struct fp_desc *fp_schedule(struct fp_traffic *t, uint32_t p, uint64_t n);

/**
 * The same, for one of `parts` workers: only the legs that RSS would give
 * worker `part`, (pair + leg) % parts == part, so leg a and leg b of a pair
 * go to different workers, as a NIC's hash may send them. Passthrough only
 * (keyed schedules share t->store); p >= parts.
 */
struct fp_desc *fp_schedule_part(struct fp_traffic *t, uint32_t p, uint64_t n,
				 unsigned int parts, unsigned int part);
void fp_schedule_free(struct fp_traffic *t, struct fp_desc *d);

/** The UDP payload of packet i of schedule d: built into buf (passthrough)
 * or taken from the store (keyed). */
const uint8_t *fp_payload(const struct fp_traffic *t, const struct fp_desc *d, uint64_t i,
			  uint8_t *buf);

#endif /* FASTPATH_TRAFFIC_H */
