/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_addr: an address-family neutral transport address (IP + UDP port),
 * the key of every relay endpoint and the value of every client address.
 * Parsing and formatting run on the control thread (config, Redis records,
 * CLI); comparison is inline and safe on worker lcores.
 */
#ifndef DUET_ADDR_H
#define DUET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DUET_AF_NONE 0 /**< unset: no address */
#define DUET_AF_INET4 4
#define DUET_AF_INET6 6

/** Longest text form: "[" v6 "]:" port, with NUL. */
#define DUET_ADDR_STRLEN 56

/**
 * An IP address and UDP port. 20 bytes, no padding holes, so it can be a
 * hash key compared with memcmp. IPv4 uses ip[0..3] and zeroes the rest.
 * 4-byte aligned because hash functions read it as 32-bit words.
 */
struct duet_addr {
	uint8_t family;	  /**< DUET_AF_NONE, DUET_AF_INET4 or DUET_AF_INET6 */
	uint8_t reserved; /**< always 0, so memcmp works */
	uint16_t port;	  /**< UDP port, network byte order */
	uint8_t ip[16];	  /**< address bytes, network order */
} __attribute__((aligned(4)));

/**
 * Parse "a.b.c.d:port" or "[v6]:port". Port 1..65535 required, in decimal
 * without leading zeros (Redis compares endpoints as text, so a port has
 * one spelling).
 * @return 0, or -EINVAL if the text is not such an address.
 * Any thread.
 */
int duet_addr_parse(const char *s, struct duet_addr *out);

/**
 * Parse an IP address without a port ("a.b.c.d" or "v6"); port is set to 0.
 * @return 0 or -EINVAL.
 */
int duet_addr_parse_ip(const char *s, struct duet_addr *out);

/**
 * Format as "ip:port" (or "ip" when port is 0) into buf.
 * @return 0, or -ENOSPC if len is too small, -EINVAL for DUET_AF_NONE.
 */
int duet_addr_format(const struct duet_addr *a, char *buf, size_t len);

/** Build an IPv4 address from network-order ip and port. */
static inline void
duet_addr_set4(struct duet_addr *a, uint32_t ip_be, uint16_t port_be)
{
	memset(a, 0, sizeof(*a));
	a->family = DUET_AF_INET4;
	a->port = port_be;
	memcpy(a->ip, &ip_be, 4);
}

/** True when both addresses (family, IP and port) are the same. */
static inline bool
duet_addr_equal(const struct duet_addr *x, const struct duet_addr *y)
{
	return memcmp(x, y, sizeof(*x)) == 0;
}

/** True when the IPs are the same, ports ignored. */
static inline bool
duet_addr_same_ip(const struct duet_addr *x, const struct duet_addr *y)
{
	return x->family == y->family && memcmp(x->ip, y->ip, sizeof(x->ip)) == 0;
}

#endif /* DUET_ADDR_H */
