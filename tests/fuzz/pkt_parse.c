/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for duet_pkt_parse() and the rewrites behind it. Any byte
 * string is a frame; the target parses it, checks that what the parser
 * claims holds (offsets inside the frame, lengths consistent), then runs the
 * matching rewrite on a copy and checks the result parses back as expected
 * (a relayed UDP frame: the relay's own bare IPv4 or IPv6 header, the
 * family picked by an input byte so IPv4 and IPv6 inputs cross to either,
 * cut to the datagram; a neighbour solicitation: our advertisement) and
 * that the rewrite neither hides nor invents checksum errors.
 * A broken claim aborts, which libFuzzer and the replay driver report as a
 * failure.
 *
 * Built two ways (tests/fuzz/meson.build): with clang's -fsanitize=fuzzer as
 * a libFuzzer target (DUET_FUZZ_LIBFUZZER), and always as fuzz_pkt_replay, a
 * plain program that feeds the files named on its command line plus a
 * built-in corpus (the unit test fixtures, their truncations and seeded
 * mutations), so every `meson test --suite unit` exercises this code. Test
 * processes only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duet_pkt.h"
#include "duet_pkt_fp.h"
#include "fuzz_check.h"
#include "pkt_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the inputs reached, so the replay driver can tell a corpus that
 * stopped reaching the rewrites from one that passes. */
static unsigned long reached_kind[DUET_PKT_NDP_NA + 1];
/* UDP rewrites by input and output family: [in6][out6]. */
static unsigned long reached_bridge[2][2];

/* Bytes in front of the copied frame, as an mbuf has: IPv4 to IPv6 takes 20. */
#define HEADROOM 64
static unsigned long reached_drop[DUET_DROP_MAX];

static const uint8_t relay_mac[6] = {2, 0, 0, 0, 0, 0xaa};
static const uint8_t next_hop_mac[6] = {2, 0, 0, 0, 0, 0xbb};

/* Ones' complement sum of big-endian words, folded: a second method. */
static uint32_t
sum_be(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i < len; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* Pseudo-header (the IP version read from the header) + upper layer. */
static uint32_t
l4_sum(const uint8_t *f, const struct duet_pkt_info *pi, uint8_t proto)
{
	const uint8_t *ip = f + pi->l3_off;
	uint32_t s;

	if ((ip[0] >> 4) == 6)
		s = sum_be(ip + DUET_PKT_IP6_SRC, 32, (uint32_t)proto + pi->l4_len);
	else
		s = sum_be(ip + DUET_PKT_IP4_SRC, 8, (uint32_t)proto + pi->l4_len);
	return sum_be(f + pi->l4_off, pi->l4_len, s);
}

static int
udp_cksum_ok(const uint8_t *f, const struct duet_pkt_info *pi)
{
	return l4_sum(f, pi, 17) == 0xffff;
}

/* An address of family fam made from input bytes, so the fuzzer varies it. */
static void
addr_from(struct duet_addr *a, uint8_t fam, const uint8_t *data, size_t size, size_t salt)
{
	size_t i;

	memset(a, 0, sizeof(*a));
	a->family = fam;
	a->port = (uint16_t)(data[(salt * 7) % size] << 8 | (salt + size));
	for (i = 0; i < (fam == DUET_AF_INET6 ? 16u : 4u); i++)
		a->ip[i] = (uint8_t)(data[(salt + i * 13) % size] ^ (uint8_t)(salt * 29 + i));
}

/* Copy the frame to a buffer of exactly its size, so ASan sees overruns. */
static uint8_t *
dup_frame(const uint8_t *data, size_t size)
{
	uint8_t *c = malloc(size ? size : 1);

	CHECK(c != NULL);
	memcpy(c, data, size);
	return c;
}

static void
check_udp(const uint8_t *data, size_t size, const struct duet_pkt_info *pi)
{
	struct duet_pkt_info rw = *pi, again;
	struct duet_pkt_egress eg;
	struct duet_addr from, to;
	const uint8_t *ip, *udp, *in_ip = data + pi->l3_off;
	uint8_t *buf, *f, *nf, tos;
	/* Settings from bytes that differ between frames and mutations. */
	uint8_t pick = (uint8_t)(data[0] ^ data[size - 1] ^ size);
	int had_cksum, was_ok, offload = pick & 1, shift;
	bool in6 = pi->src.family == DUET_AF_INET6, out6 = (pick & 4) != 0;
	size_t hlen_in = (size_t)(pi->l4_off - pi->l3_off), hlen_out = out6 ? 40 : 20, nlen, i;

	CHECK(pi->src.family == pi->dst.family);
	CHECK((in_ip[0] >> 4) == (in6 ? 6 : 4));
	if (in6)
		CHECK(hlen_in == 40 || (hlen_in > 40 && (hlen_in - 40) % 8 == 0 && in_ip[6] == 0));
	else
		CHECK(hlen_in >= 20 && hlen_in <= 60);
	CHECK(pi->l4_len >= 8 && pi->l4_len == pi->ip_total - hlen_in);
	CHECK((size_t)pi->l4_off + pi->l4_len <= size);
	CHECK(pi->nd_flags == 0 && pi->nd_target == 0 && pi->nd_lladdr == 0);

	/* The copy sits after HEADROOM bytes of 0xcc, as in an mbuf. */
	buf = malloc(HEADROOM + size);
	CHECK(buf != NULL);
	memset(buf, 0xcc, HEADROOM);
	f = buf + HEADROOM;
	memcpy(f, data, size);
	had_cksum = duet_pkt_load16(f + pi->l4_off + DUET_PKT_UDP_CKSUM) != 0;
	CHECK(had_cksum || !in6); /* IPv6 without one is refused */
	was_ok = udp_cksum_ok(f, pi);
	/* Addresses and egress settings from the input, so the fuzzer varies
	 * them too; the egress ones span [media] ttl 1..255, dscp 0..63 or keep. */
	addr_from(&from, out6 ? DUET_AF_INET6 : DUET_AF_INET4, data, size, 1);
	addr_from(&to, out6 ? DUET_AF_INET6 : DUET_AF_INET4, data, size, 2);
	eg.ttl = (uint8_t)(1 + data[size / 3] % 255);
	eg.tos = (uint8_t)((data[size / 4] & 0x3f) << 2);
	eg.keep_dscp = (pick & 2) != 0;
	CHECK(duet_pkt_rewrite_shift(pi, from.family) == (int)hlen_in - (int)hlen_out);
	shift = duet_pkt_rewrite_udp(f, &rw, &from, &to, relay_mac, next_hop_mac, &eg, offload);
	reached_bridge[in6][out6]++;

	/* The new frame: where rewrite_shift said, Ethernet + the bare header
	 * + UDP long, inside the buffer and the headroom, and rw says so. */
	CHECK(shift == (int)hlen_in - (int)hlen_out);
	CHECK(shift >= -20);
	nlen = (size_t)DUET_PKT_ETH_HLEN + hlen_out + pi->l4_len;
	CHECK((ptrdiff_t)(HEADROOM + shift) >= 0 && HEADROOM + shift + nlen <= HEADROOM + size);
	CHECK(rw.l3_off == DUET_PKT_ETH_HLEN && rw.l4_off == DUET_PKT_ETH_HLEN + hlen_out);
	CHECK(rw.l4_len == pi->l4_len && rw.ip_total == hlen_out + pi->l4_len);
	nf = f + shift;
	for (i = 0; i < (size_t)(HEADROOM + (shift < 0 ? shift : 0)); i++)
		CHECK(buf[i] == 0xcc); /* nothing written in front of it */
	ip = nf + DUET_PKT_ETH_HLEN;
	udp = ip + hlen_out;

	/* Cut to exactly that length it parses back as UDP, header checked
	 * (and, toward IPv6, its checksum present). */
	CHECK(duet_pkt_parse(nf, nlen, offload, &again) == 0);
	CHECK(again.kind == DUET_PKT_UDP && again.ttl == eg.ttl);
	CHECK(again.l4_off == rw.l4_off && again.l4_len == pi->l4_len);
	CHECK(again.ip_total == rw.ip_total);
	CHECK(duet_addr_equal(&again.src, &from) && duet_addr_equal(&again.dst, &to));
	CHECK(memcmp(nf, next_hop_mac, 6) == 0 && memcmp(nf + 6, relay_mac, 6) == 0);
	/* The relay's DSCP (or the caller's) with ECN 0. */
	tos = eg.keep_dscp ? (uint8_t)(pi->tclass & 0xfc) : eg.tos;
	CHECK(again.tclass == tos);
	if (out6) {
		/* Version 6, flow label 0, UDP right behind: no extension. */
		CHECK(nf[12] == 0x86 && nf[13] == 0xdd);
		CHECK((ip[0] >> 4) == 6 && (ip[1] & 0x0f) == 0 && ip[2] == 0 && ip[3] == 0);
		CHECK(ip[6] == 17 && ip[DUET_PKT_IP6_HOPS] == eg.ttl);
	} else {
		/* IHL 5, ID 0, DF, checksum right (or zero for the NIC to fill). */
		CHECK(nf[12] == 0x08 && nf[13] == 0x00);
		CHECK(ip[0] == 0x45 && ip[1] == tos);
		CHECK(ip[4] == 0 && ip[5] == 0 && ip[6] == 0x40 && ip[7] == 0);
		CHECK(ip[DUET_PKT_IP4_TTL] == eg.ttl && ip[9] == 17);
		if (offload)
			CHECK(duet_pkt_load16(ip + DUET_PKT_IP4_CKSUM) == 0);
		else
			CHECK(sum_be(ip, 20, 0) == 0xffff);
	}
	/* A checksum stays as right or wrong as it was, whatever the families,
	 * and never becomes zero ("none"); none stays none toward IPv4 and is
	 * computed (so right) toward IPv6. */
	if (had_cksum)
		CHECK(udp_cksum_ok(nf, &rw) == was_ok &&
		      duet_pkt_load16(udp + DUET_PKT_UDP_CKSUM) != 0);
	else if (out6)
		CHECK(udp_cksum_ok(nf, &rw) && duet_pkt_load16(udp + DUET_PKT_UDP_CKSUM) != 0);
	else
		CHECK(duet_pkt_load16(udp + DUET_PKT_UDP_CKSUM) == 0);
	/* The datagram is the one that came in but for its ports: UDP length
	 * and payload unchanged. */
	CHECK(memcmp(udp + 4, data + pi->l4_off + 4, 2) == 0);
	CHECK(memcmp(udp + 8, data + pi->l4_off + 8, pi->l4_len - 8u) == 0);
	free(buf);
}

static void
check_arp(const uint8_t *data, size_t size, const struct duet_pkt_info *pi)
{
	struct duet_pkt_info again;
	uint8_t *f;
	size_t len;

	CHECK(pi->arp_op == 1 || pi->arp_op == 2);
	CHECK((size_t)pi->l3_off + DUET_PKT_ARP_LEN <= size);
	f = dup_frame(data, size);
	len = duet_pkt_arp_to_reply(f, pi, relay_mac);
	CHECK(len <= size);
	CHECK(duet_pkt_parse(f, len, 0, &again) == 0);
	CHECK(again.kind == DUET_PKT_ARP && again.arp_op == 2);
	CHECK(duet_addr_equal(&again.src, &pi->dst) && duet_addr_equal(&again.dst, &pi->src));
	CHECK(memcmp(f, pi->src_mac, 6) == 0 && memcmp(again.src_mac, relay_mac, 6) == 0);
	free(f);
}

static void
check_icmp(const uint8_t *data, size_t size, const struct duet_pkt_info *pi)
{
	struct duet_pkt_info again;
	bool v6 = pi->src.family == DUET_AF_INET6;
	const uint8_t *ip;
	uint8_t *f;
	int was_ok;

	CHECK(pi->l4_len >= 8 && (size_t)pi->l4_off + pi->l4_len <= size);
	f = dup_frame(data, size);
	ip = f + pi->l3_off;
	if (!v6) {
		was_ok = sum_be(f + pi->l4_off, pi->l4_len, 0) == 0xffff;
		duet_pkt_icmp_to_reply(f, pi);
	} else {
		CHECK(data[pi->l4_off] == DUET_PKT_ICMP6_ECHO_REQUEST);
		was_ok = l4_sum(f, pi, 58) == 0xffff;
		duet_pkt_icmp6_to_reply(f, pi);
	}
	/* Checked IP header, now an echo reply: refused as "other ICMP". */
	CHECK(duet_pkt_parse(f, size, 0, &again) == -ENOTSUP);
	CHECK(again.drop == DUET_DROP_ICMP_OTHER);
	CHECK(memcmp(f, data + 6, 6) == 0 && memcmp(f + 6, data, 6) == 0);
	/* A refused frame's result holds only the reason: read the header. */
	if (!v6) {
		CHECK(ip[DUET_PKT_IP4_TTL] == 64);
		CHECK(memcmp(ip + DUET_PKT_IP4_SRC, pi->dst.ip, 4) == 0 &&
		      memcmp(ip + DUET_PKT_IP4_DST, pi->src.ip, 4) == 0);
		CHECK((sum_be(f + pi->l4_off, pi->l4_len, 0) == 0xffff) == was_ok);
	} else {
		CHECK(ip[DUET_PKT_IP6_HOPS] == 64 && f[pi->l4_off] == DUET_PKT_ICMP6_ECHO_REPLY);
		CHECK(memcmp(ip + DUET_PKT_IP6_SRC, pi->dst.ip, 16) == 0 &&
		      memcmp(ip + DUET_PKT_IP6_DST, pi->src.ip, 16) == 0);
		CHECK((l4_sum(f, pi, 58) == 0xffff) == was_ok);
	}
	free(f);
}

/* Neighbour discovery: what the parser found lies inside the message, the
 * message verifies, and a solicitation turns into an advertisement that
 * parses back as one, from its target, with our MAC. */
static void
check_ndp(const uint8_t *data, size_t size, const struct duet_pkt_info *pi)
{
	struct duet_pkt_info again;
	size_t end = (size_t)pi->l4_off + pi->l4_len, cap;
	bool dad = true;
	uint8_t *f;
	int i;

	CHECK(pi->src.family == DUET_AF_INET6 && pi->ttl == 255 && pi->l4_len >= 24);
	CHECK(end <= size && pi->nd_target == pi->l4_off + 8);
	CHECK(pi->nd_lladdr == 0 ||
	      (pi->nd_lladdr >= pi->l4_off + 26 && (size_t)pi->nd_lladdr + 6 <= end));
	CHECK(l4_sum(data, pi, 58) == 0xffff);
	CHECK(data[pi->nd_target] != 0xff && pi->src.ip[0] != 0xff);
	CHECK(pi->nd_lladdr == 0 || (data[pi->nd_lladdr] & 0x01) == 0);
	if (pi->kind == DUET_PKT_NDP_NA) {
		CHECK(pi->nd_flags == data[pi->l4_off + 4]);
		CHECK(data[pi->l3_off + DUET_PKT_IP6_DST] != 0xff || (pi->nd_flags & 0x40) == 0);
		return;
	}
	CHECK(pi->nd_flags == 0);
	for (i = 0; i < 16; i++)
		dad = dad && pi->src.ip[i] == 0;
	CHECK(!dad || (pi->nd_lladdr == 0 && pi->dst.ip[0] == 0xff));
	/* The advertisement may be longer than the solicitation was. */
	cap = size > DUET_PKT_NA_LEN ? size : DUET_PKT_NA_LEN;
	f = malloc(cap);
	CHECK(f != NULL);
	memset(f, 0, cap);
	memcpy(f, data, size);
	CHECK(duet_pkt_ns_to_na(f, pi, relay_mac) == DUET_PKT_NA_LEN);
	CHECK(duet_pkt_parse(f, DUET_PKT_NA_LEN, 0, &again) == 0);
	CHECK(again.kind == DUET_PKT_NDP_NA && again.nd_flags == (dad ? 0x20 : 0x60));
	CHECK(memcmp(f + again.nd_target, data + pi->nd_target, 16) == 0);
	CHECK(memcmp(again.src.ip, data + pi->nd_target, 16) == 0);
	CHECK(again.nd_lladdr != 0 && memcmp(f + again.nd_lladdr, relay_mac, 6) == 0);
	CHECK(memcmp(f + 6, relay_mac, 6) == 0);
	if (dad)
		CHECK(again.dst.ip[0] == 0xff && again.dst.ip[15] == 1 && f[0] == 0x33);
	else
		CHECK(memcmp(again.dst.ip, pi->src.ip, 16) == 0 &&
		      memcmp(f, pi->nd_lladdr != 0 ? data + pi->nd_lladdr : data + 6, 6) == 0);
	free(f);
}

/* The parser clears nothing first: over a struct full of 0xa5 it must give
 * what it gave over zeros. */
static void
check_no_clear(const uint8_t *data, size_t size, int good, int rc, const struct duet_pkt_info *pi)
{
	struct duet_pkt_info p;

	memset(&p, 0xa5, sizeof(p));
	CHECK(duet_pkt_parse(data, size, good, &p) == rc);
	CHECK(rc != 0 ? p.drop == pi->drop : ref_info_eq(&p, pi));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct duet_pkt_info pi;
	int good, rc;

	for (good = 0; good <= 1; good++) {
		memset(&pi, 0, sizeof(pi));
		rc = duet_pkt_parse(data, size, good, &pi);
		check_no_clear(data, size, good, rc, &pi);
		if (rc != 0) {
			CHECK(rc == -EINVAL || rc == -ENOTSUP);
			CHECK(pi.drop < DUET_DROP_MAX);
			reached_drop[pi.drop]++;
			continue;
		}
		CHECK(pi.drop == 0 && pi.l3_off == DUET_PKT_ETH_HLEN);
		CHECK(pi.kind >= DUET_PKT_UDP && pi.kind <= DUET_PKT_NDP_NA);
		reached_kind[pi.kind]++;
		switch (pi.kind) {
		case DUET_PKT_UDP:
			check_udp(data, size, &pi);
			break;
		case DUET_PKT_ARP:
			check_arp(data, size, &pi);
			break;
		case DUET_PKT_ICMP_ECHO:
			check_icmp(data, size, &pi);
			break;
		case DUET_PKT_NDP_NS:
		case DUET_PKT_NDP_NA:
			check_ndp(data, size, &pi);
			break;
		}
	}
	return 0;
}

#ifndef DUET_FUZZ_LIBFUZZER
/*
 * Replay driver: no libFuzzer, so it brings its own inputs. Built-in corpus
 * first, then every file on the command line; `--write-corpus DIR` instead
 * writes the built-in corpus as files, a seed corpus for libFuzzer.
 */
#include "pkt_fixtures.h"

#define MUTATIONS 20000

struct seed {
	const char *name;
	const uint8_t *p;
	size_t len;
};

#define SEED(x) {#x, fx_##x, sizeof(fx_##x)}
static const struct seed seeds[] = {
	SEED(udp_plain),   SEED(udp_opts),	 SEED(udp_padded), SEED(udp_nocksum),
	SEED(arp_request), SEED(arp_reply),	 SEED(arp_gw_request), SEED(icmp_echo),
	SEED(icmp_echo_reply), SEED(ipv6_udp), SEED(udp_vlan),
	SEED(icmp_echo_zero), SEED(udp_unusual_ip),
	SEED(udp6_plain),  SEED(udp6_hbh),	 SEED(udp6_nocksum), SEED(udp6_frag),
	SEED(udp6_routing), SEED(udp6_dstopts), SEED(ndp_ns),	     SEED(ndp_ns_dad),
	SEED(ndp_na),	   SEED(ndp_gw_ns),	 SEED(icmp6_echo),   SEED(icmp6_echo_reply),
};

/* Every reason duet_pkt_parse() gives; the built-in corpus must reach all. */
static const enum duet_drop parser_drops[] = {
	DUET_DROP_TOO_SHORT, DUET_DROP_VLAN,	DUET_DROP_ETHERTYPE, DUET_DROP_ARP_OTHER,
	DUET_DROP_IP_VERSION, DUET_DROP_IP_HLEN, DUET_DROP_IP_LEN,   DUET_DROP_IP_CKSUM,
	DUET_DROP_IP_FRAG,   DUET_DROP_IP6_EXT,	DUET_DROP_PROTO,     DUET_DROP_ICMP_OTHER,
	DUET_DROP_UDP_LEN,   DUET_DROP_UDP_CKSUM, DUET_DROP_NDP_BAD,
};

static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* Mutate buf in place: flip bits, poke boundary values, and sometimes fix
 * the IPv4 header checksum or the ICMPv6 checksum so mutations reach past
 * those checks. */
static size_t
mutate(uint8_t *buf, size_t len, size_t cap, uint64_t *s)
{
	static const uint8_t poke[] = {0x00, 0x01, 0x05, 0x06, 0x08, 0x0f, 0x11, 0x20,
				       0x3f, 0x40, 0x45, 0x4f, 0x7f, 0x80, 0xff};
	unsigned int n = 1 + next_rand(s) % 4, i;

	for (i = 0; i < n && len > 0; i++) {
		size_t at = next_rand(s) % len;

		switch (next_rand(s) % 4) {
		case 0:
			buf[at] ^= (uint8_t)(1u << next_rand(s) % 8);
			break;
		case 1:
			buf[at] = poke[next_rand(s) % sizeof(poke)];
			break;
		case 2:
			len = at + 1;
			break;
		default:
			if (len < cap)
				buf[len++] = (uint8_t)next_rand(s);
		}
	}
	if (len >= 34 && next_rand(s) % 2 && (buf[14] & 0x0f) >= 5 &&
	    (size_t)(buf[14] & 0x0f) * 4 <= len - 14 && buf[12] == 0x08)
		duet_pkt_ip4_cksum_set(buf + 14, (size_t)(buf[14] & 0x0f) * 4);
	if (len >= 14 + 40 + 4 && buf[12] == 0x86 && buf[13] == 0xdd && buf[14 + 6] == 58 &&
	    next_rand(s) % 2) {
		size_t plen = (size_t)(buf[14 + 4] << 8 | buf[14 + 5]);

		if (plen >= 4 && plen <= len - 14 - 40)
			duet_pkt_icmp6_cksum_set(buf + 14, buf + 14 + 40, plen);
	}
	return len;
}

static void
feed(const uint8_t *p, size_t len)
{
	uint8_t *exact = dup_frame(p, len);

	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
}

static int
feed_file(const char *path)
{
	uint8_t buf[65536];
	size_t len;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		fprintf(stderr, "fuzz_pkt_replay: cannot open input file %s\n", path);
		return -1;
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	feed(buf, len);
	return 0;
}

static int
write_corpus(const char *dir)
{
	char path[4096];
	size_t i;

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
		f = fopen(path, "wb");
		if (f == NULL || fwrite(seeds[i].p, 1, seeds[i].len, f) != seeds[i].len) {
			fprintf(stderr, "fuzz_pkt_replay: cannot write corpus file %s\n", path);
			if (f != NULL)
				fclose(f);
			return 1;
		}
		fclose(f);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	uint8_t buf[2048];
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	size_t i, len, runs = 0;
	int a, m, failed = 0;

	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]);

	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		for (len = 0; len <= seeds[i].len; len++, runs++)
			feed(seeds[i].p, len);
		for (m = 0; m < MUTATIONS; m++, runs++) {
			memcpy(buf, seeds[i].p, seeds[i].len);
			len = mutate(buf, seeds[i].len, sizeof(buf), &s);
			feed(buf, len);
		}
	}
	for (a = 1; a < argc; a++, runs++)
		if (feed_file(argv[a]) != 0)
			failed = 1;
	printf("fuzz_pkt_replay: %zu inputs, every claim held\n", runs);
	for (m = DUET_PKT_UDP; m <= DUET_PKT_NDP_NA; m++) {
		printf("  kind %d: %lu\n", m, reached_kind[m]);
		if (reached_kind[m] == 0)
			failed = 1;
	}
	for (m = 0; m < 4; m++) {
		printf("  udp v%d to v%d: %lu\n", m & 2 ? 6 : 4, m & 1 ? 6 : 4,
		       reached_bridge[m >> 1][m & 1]);
		if (reached_bridge[m >> 1][m & 1] == 0) {
			fprintf(stderr, "fuzz_pkt_replay: corpus never bridged v%d to v%d\n",
				m & 2 ? 6 : 4, m & 1 ? 6 : 4);
			failed = 1;
		}
	}
	for (i = 0; i < sizeof(parser_drops) / sizeof(parser_drops[0]); i++) {
		enum duet_drop d = parser_drops[i];

		printf("  drop %s: %lu\n", duet_drop_name(d), reached_drop[d]);
		if (reached_drop[d] == 0) {
			fprintf(stderr, "fuzz_pkt_replay: corpus never reached drop %s\n",
				duet_drop_name(d));
			failed = 1;
		}
	}
	return failed;
}
#endif /* DUET_FUZZ_LIBFUZZER */
