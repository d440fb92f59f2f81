/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for duet_pkt_parse() and the rewrites behind it. Any byte
 * string is a frame; the target parses it, checks that what the parser
 * claims holds (offsets inside the frame, lengths consistent), then runs the
 * matching rewrite on a copy and checks the result parses back as expected
 * (a relayed UDP frame: the relay's own 20-byte IPv4 header, cut to the
 * datagram) and that the rewrite neither hides nor invents checksum errors.
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
static unsigned long reached_kind[DUET_PKT_ICMP_ECHO + 1];
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

static int
udp_cksum_ok(const uint8_t *f, const struct duet_pkt_info *pi)
{
	uint32_t s = sum_be(f + pi->l3_off + DUET_PKT_IP4_SRC, 8, 17u + pi->l4_len);

	return sum_be(f + pi->l4_off, pi->l4_len, s) == 0xffff;
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
	const uint8_t *ip, *udp;
	uint8_t *f, *nf, tos;
	int had_cksum, was_ok, offload = data[0] & 1;
	uint16_t shift;
	size_t opts, nlen;

	CHECK(pi->l4_off - pi->l3_off >= 20 && pi->l4_off - pi->l3_off <= 60);
	CHECK(pi->l4_len >= 8 && pi->l4_len == pi->ip_total - (pi->l4_off - pi->l3_off));
	CHECK((size_t)pi->l4_off + pi->l4_len <= size);
	opts = (size_t)(pi->l4_off - pi->l3_off) - 20u;

	f = dup_frame(data, size);
	had_cksum = duet_pkt_load16(f + pi->l4_off + DUET_PKT_UDP_CKSUM) != 0;
	was_ok = udp_cksum_ok(f, pi);
	/* Addresses and egress settings from the input, so the fuzzer varies
	 * them too; the egress ones span [media] ttl 1..255, dscp 0..63 or keep. */
	duet_addr_set4(&from, 0x0100a8c0u ^ (uint32_t)size, (uint16_t)(size * 7));
	duet_addr_set4(&to, (uint32_t)data[size - 1] * 0x01010101u, (uint16_t)(data[size / 2] + 1));
	eg.ttl = (uint8_t)(1 + data[size / 3] % 255);
	eg.tos = (uint8_t)((data[size / 4] & 0x3f) << 2);
	eg.keep_dscp = (data[0] & 2) != 0;
	shift = duet_pkt_rewrite_udp4(f, &rw, &from, &to, relay_mac, next_hop_mac, &eg, offload);

	/* The new frame: the options' length in, Ethernet + 20 + UDP long,
	 * inside the old buffer, and rw says so. */
	CHECK(shift == opts);
	nlen = (size_t)DUET_PKT_ETH_HLEN + 20u + pi->l4_len;
	CHECK(shift + nlen <= size);
	CHECK(rw.l3_off == DUET_PKT_ETH_HLEN && rw.l4_off == DUET_PKT_ETH_HLEN + 20);
	CHECK(rw.l4_len == pi->l4_len && rw.ip_total == 20 + pi->l4_len);
	nf = f + shift;
	ip = nf + DUET_PKT_ETH_HLEN;
	udp = ip + 20;

	/* Cut to exactly that length it parses back as UDP, header checked. */
	CHECK(duet_pkt_parse(nf, nlen, offload, &again) == 0);
	CHECK(again.kind == DUET_PKT_UDP && again.ttl == eg.ttl);
	CHECK(again.l4_off == rw.l4_off && again.l4_len == pi->l4_len);
	CHECK(again.ip_total == rw.ip_total);
	CHECK(duet_addr_equal(&again.src, &from) && duet_addr_equal(&again.dst, &to));
	CHECK(memcmp(nf, next_hop_mac, 6) == 0 && memcmp(nf + 6, relay_mac, 6) == 0);
	CHECK(nf[12] == 0x08 && nf[13] == 0x00);
	/* The relay's header: IHL 5, its DSCP (or the caller's) with ECN 0,
	 * ID 0, DF, checksum right (or zero for the NIC to fill). */
	tos = eg.keep_dscp ? (uint8_t)(data[pi->l3_off + 1] & 0xfc) : eg.tos;
	CHECK(ip[0] == 0x45 && ip[1] == tos);
	CHECK(ip[4] == 0 && ip[5] == 0 && ip[6] == 0x40 && ip[7] == 0);
	CHECK(ip[DUET_PKT_IP4_TTL] == eg.ttl && ip[9] == 17);
	if (offload)
		CHECK(duet_pkt_load16(ip + DUET_PKT_IP4_CKSUM) == 0);
	else
		CHECK(sum_be(ip, 20, 0) == 0xffff);
	/* A checksum stays as right or wrong as it was, and never becomes
	 * zero ("none"); no checksum stays none. */
	if (had_cksum)
		CHECK(udp_cksum_ok(nf, &rw) == was_ok &&
		      duet_pkt_load16(udp + DUET_PKT_UDP_CKSUM) != 0);
	else
		CHECK(duet_pkt_load16(udp + DUET_PKT_UDP_CKSUM) == 0);
	/* The datagram is the one that came in but for its ports: UDP length
	 * and payload unchanged. */
	CHECK(memcmp(udp + 4, data + pi->l4_off + 4, 2) == 0);
	CHECK(memcmp(udp + 8, data + pi->l4_off + 8, pi->l4_len - 8u) == 0);
	free(f);
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
	uint8_t *f;
	int was_ok;

	CHECK(pi->l4_len >= 8 && (size_t)pi->l4_off + pi->l4_len <= size);
	f = dup_frame(data, size);
	was_ok = sum_be(f + pi->l4_off, pi->l4_len, 0) == 0xffff;
	duet_pkt_icmp_to_reply(f, pi);
	/* Checked IP header, now an echo reply: refused as "other ICMP". */
	CHECK(duet_pkt_parse(f, size, 0, &again) == -ENOTSUP);
	CHECK(again.drop == DUET_DROP_ICMP_OTHER);
	/* A refused frame's result holds only the reason: read the header. */
	CHECK(f[pi->l3_off + DUET_PKT_IP4_TTL] == 64);
	CHECK(memcmp(f + pi->l3_off + DUET_PKT_IP4_SRC, pi->dst.ip, 4) == 0 &&
	      memcmp(f + pi->l3_off + DUET_PKT_IP4_DST, pi->src.ip, 4) == 0);
	CHECK((sum_be(f + pi->l4_off, pi->l4_len, 0) == 0xffff) == was_ok);
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
		CHECK(pi.kind >= DUET_PKT_UDP && pi.kind <= DUET_PKT_ICMP_ECHO);
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
};

/* Every reason duet_pkt_parse() gives; the built-in corpus must reach all. */
static const enum duet_drop parser_drops[] = {
	DUET_DROP_TOO_SHORT, DUET_DROP_VLAN,	DUET_DROP_ETHERTYPE, DUET_DROP_ARP_OTHER,
	DUET_DROP_IP_VERSION, DUET_DROP_IP_HLEN, DUET_DROP_IP_LEN,   DUET_DROP_IP_CKSUM,
	DUET_DROP_IP_FRAG,   DUET_DROP_IPV6,	DUET_DROP_PROTO,     DUET_DROP_ICMP_OTHER,
	DUET_DROP_UDP_LEN,
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
 * the IPv4 checksum so mutations reach past the header check. */
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
	    (size_t)(buf[14] & 0x0f) * 4 <= len - 14)
		duet_pkt_ip4_cksum_set(buf + 14, (size_t)(buf[14] & 0x0f) * 4);
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
	for (m = DUET_PKT_UDP; m <= DUET_PKT_ICMP_ECHO; m++) {
		printf("  kind %d: %lu\n", m, reached_kind[m]);
		if (reached_kind[m] == 0)
			failed = 1;
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
