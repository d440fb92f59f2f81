/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for duet_cidr_parse(), the parser of [security] denied_peers
 * and allowed_peers entries. Any byte string is an entry (cut at its first
 * NUL); the target checks what the parser claims: a refusal comes with a
 * reason; an accepted prefix has a family, a length within it, no host
 * bits set past the length, formats to text that parses back to the same
 * prefix, and contains its own network address, while the address just
 * past it (when there is one) is outside.
 *
 * Built two ways (tests/fuzz/meson.build): with clang's -fsanitize=fuzzer as
 * a libFuzzer target (DUET_FUZZ_LIBFUZZER), and always as fuzz_cidr_replay,
 * which feeds a built-in corpus, its truncations and seeded mutations, so
 * every `meson test --suite unit` runs this code. Test processes only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duet_cidr.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long n_ok, n_refused;

static void
check_accepted(const struct duet_cidr *c)
{
	unsigned int max = c->family == DUET_AF_INET4 ? 32 : 128, i;
	char text[DUET_CIDR_STRLEN];
	struct duet_cidr again;
	struct duet_addr a = {.family = c->family};
	const char *why = NULL;

	CHECK(c->family == DUET_AF_INET4 || c->family == DUET_AF_INET6);
	CHECK(c->len <= max);
	for (i = c->len; i < 128; i++)
		CHECK(((c->ip[i / 8] >> (7 - i % 8)) & 1) == 0);
	CHECK(duet_cidr_format(c, text, sizeof(text)) == 0);
	CHECK(duet_cidr_parse(text, &again, &why) == 0);
	CHECK(memcmp(&again, c, sizeof(again)) == 0);
	memcpy(a.ip, c->ip, sizeof(a.ip));
	CHECK(duet_cidr_match(c, &a));
	if (c->len > 0) {
		/* Flip the last bit of the prefix: outside. */
		unsigned int b = c->len - 1u;

		a.ip[b / 8] ^= (uint8_t)(1u << (7 - b % 8));
		CHECK(!duet_cidr_match(c, &a));
	}
	n_ok++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[256];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	struct duet_cidr c;
	const char *why = NULL;

	memcpy(s, data, n);
	s[n] = '\0';
	if (duet_cidr_parse(s, &c, &why) == 0) {
		check_accepted(&c);
	} else {
		CHECK(why != NULL && why[0] != '\0');
		n_refused++;
	}
	return 0;
}

#ifndef DUET_FUZZ_LIBFUZZER
static const char *const corpus[] = {
	"192.0.2.0/24", "203.0.113.7", "0.0.0.0/0", "255.255.255.255/32", "198.51.100.128/25",
	"2001:db8::/32", "::/0", "::1", "fe80::/10", "2001:db8::1/128", "10.0.0.0/8",
	"192.0.2.1/24", "192.0.2.0/33", "192.0.2.0/", "/24", "192.0.2.0/024", "192.0.2.0/2x",
	"2001:db8::1/64", "2001:db8::/129", "::ffff:192.0.2.1/128", "1.2.3.4/0", "1.2.3.4/-1",
	"", " ", "192.0.2.0 /24", "[2001:db8::]/32", "192.0.2.0/24/1", "host.example/8",
	"192.0.2.0/99999999999999999999",
};

static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int
main(void)
{
	static const char alphabet[] = "0123456789abcdef.:/x-[] ";
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	uint8_t buf[96];
	size_t i, k, len, m;

	for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		len = strlen(corpus[i]);
		for (k = 0; k <= len; k++)
			LLVMFuzzerTestOneInput((const uint8_t *)corpus[i], k);
		for (m = 0; m < 2000; m++) {
			size_t l = len < sizeof(buf) ? len : sizeof(buf);
			unsigned int edits = 1 + (unsigned int)(next_rand(&seed) % 3), e;

			memcpy(buf, corpus[i], l);
			for (e = 0; e < edits && l > 0; e++)
				buf[next_rand(&seed) % l] =
					(uint8_t)alphabet[next_rand(&seed) % (sizeof(alphabet) - 1)];
			LLVMFuzzerTestOneInput(buf, l);
		}
	}
	printf("fuzz_cidr_replay: %lu accepted, %lu refused\n", n_ok, n_refused);
	/* The corpus must keep reaching both paths. */
	return n_ok > 100 && n_refused > 100 ? 0 : 1;
}
#endif /* DUET_FUZZ_LIBFUZZER */
