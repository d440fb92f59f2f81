/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for duet_sdes_parse(), the parser of the SDES key text that
 * reaches duetd from Redis records and duet-caller's command line. Any byte
 * string is a value (cut at its first NUL, as a C string would be); the
 * target parses it and checks what the parser claims: -EINVAL comes with a
 * reason and a zeroed output; an accepted key has its suite's length, formats
 * back to the text it came from (padding optional, the lifetime written
 * canonically) and parses back to the same bytes, lifetime included. A
 * broken claim aborts, which libFuzzer and the replay driver report as a
 * failure.
 *
 * Built two ways (tests/fuzz/meson.build): with clang's -fsanitize=fuzzer as
 * a libFuzzer target (DUET_FUZZ_LIBFUZZER), and always as fuzz_sdes_replay,
 * a plain program that feeds every file in the corpus directories named on
 * its command line (tests/fuzz/corpus/sdes_parse) plus their truncations and
 * seeded mutations, so every `meson test --suite unit` exercises this code.
 * Test processes only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duet_sdes.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the inputs reached, so the replay driver can tell a corpus that
 * stopped reaching the accepting path (or a refusal) from one that passes. */
#define MAX_REASONS 32
static unsigned long reached_suite[DUET_SRTP_SUITE_COUNT];
static const char *reason_seen[MAX_REASONS];
static unsigned long reason_count[MAX_REASONS];

static bool
all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len-- > 0)
		if (*b++ != 0)
			return false;
	return true;
}

static void
count_reason(const char *why)
{
	unsigned int i;

	for (i = 0; i < MAX_REASONS && reason_seen[i] != NULL; i++) {
		if (reason_seen[i] == why) {
			reason_count[i]++;
			return;
		}
	}
	CHECK(i < MAX_REASONS);
	reason_seen[i] = why;
	reason_count[i] = 1;
}

static void
check_accepted(const char *s, const struct duet_sdes *k)
{
	char text[DUET_SDES_TEXT_MAX];
	struct duet_sdes back;
	size_t tl, sl = strlen(s);
	const char *rest;

	CHECK((unsigned int)k->suite < DUET_SRTP_SUITE_COUNT);
	CHECK(k->key_len == duet_srtp_suite_key_len(k->suite));
	CHECK(all_zero(k->key + k->key_len, DUET_SDES_KEY_MAX - k->key_len));
	reached_suite[k->suite]++;

	CHECK(duet_sdes_format(k, text, sizeof(text)) == 0);
	CHECK(duet_sdes_parse(text, &back, NULL) == 0);
	CHECK(memcmp(k, &back, sizeof(back)) == 0);

	/* Base64 with zero spare bits is canonical: the input is the
	 * formatted key text (up to its "|lifetime"), padding optional, then
	 * nothing or "|lifetime"; a lifetime given is kept, and only then. */
	tl = strcspn(text, "|");
	while (tl > 0 && text[tl - 1] == '=')
		tl--;
	CHECK(sl >= tl && memcmp(s, text, tl) == 0);
	rest = s + tl;
	if (*rest == '=') {
		size_t pad = strcspn(text + tl, "|");

		CHECK(strncmp(rest, text + tl, pad) == 0);
		rest += pad;
	}
	CHECK(*rest == '\0' ||
	      (*rest == '|' && strspn(rest + 1, "0123456789^") == strlen(rest + 1)));
	CHECK((*rest == '|') == (k->lifetime != 0));
	CHECK((*rest == '|') == (strchr(text, '|') != NULL));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct duet_sdes k;
	const char *why = NULL;
	char *s = malloc(size + 1);
	int rc;

	/* An exactly sized copy, so ASan sees any read past the NUL. */
	CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';

	memset(&k, 0x5a, sizeof(k));
	rc = duet_sdes_parse(s, &k, &why);
	if (rc == 0) {
		check_accepted(s, &k);
	} else {
		CHECK(rc == -EINVAL);
		CHECK(why != NULL && why[0] != '\0');
		CHECK(all_zero(&k, sizeof(k)));
		count_reason(why);
	}
	/* Without a reason pointer the answer is the same. */
	memset(&k, 0x5a, sizeof(k));
	CHECK(duet_sdes_parse(s, &k, NULL) == rc);
	CHECK(rc == 0 || all_zero(&k, sizeof(k)));
	duet_sdes_wipe(&k);
	free(s);
	return 0;
}

#ifndef DUET_FUZZ_LIBFUZZER
/*
 * Replay driver: no libFuzzer, so it brings its own variation. Every file
 * in the directories (or the files) on the command line, each one's
 * truncations, then seeded mutations of each.
 */
#include <dirent.h>
#include <sys/stat.h>

#define MUTATIONS 5000
#define MAX_SEEDS 256
#define INPUT_MAX 16384

struct seed {
	uint8_t *p;
	size_t len;
};

static struct seed seeds[MAX_SEEDS];
static size_t nseeds;

/* Every reason duet_sdes_parse() gives; the corpus must reach all. */
static const char *const parser_reasons[] = {
	"empty",	  "SUITE inline:KEY", "unknown crypto suite", "key parameter",
	"more than one key", "session parameters", "MKI",		   "lifetime",
	"base64",	  "wrong length",
};

static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* Mutate buf in place with the characters the grammar turns on. */
static size_t
mutate(uint8_t *buf, size_t len, size_t cap, uint64_t *s)
{
	static const uint8_t poke[] = {' ', '|', ':', ';', '=', '^', '2', '0', '1', '9', 'A',
				       'a', '/', '+', '-', '_', '\t', '\n', 0x00, 0x80, 0xff};
	unsigned int n = 1 + next_rand(s) % 3, i;

	for (i = 0; i < n && len > 0; i++) {
		size_t at = next_rand(s) % len;

		switch (next_rand(s) % 5) {
		case 0:
			buf[at] ^= (uint8_t)(1u << next_rand(s) % 8);
			break;
		case 1:
			buf[at] = poke[next_rand(s) % sizeof(poke)];
			break;
		case 2:
			len = at;
			break;
		case 3:
			memmove(buf + at, buf + at + 1, len - at - 1);
			len--;
			break;
		default:
			if (len < cap) {
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = poke[next_rand(s) % sizeof(poke)];
				len++;
			}
		}
	}
	return len;
}

static int
load_file(const char *path)
{
	uint8_t buf[INPUT_MAX];
	size_t len;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		fprintf(stderr, "fuzz_sdes_replay: cannot open input file %s\n", path);
		return -1;
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (nseeds == MAX_SEEDS) {
		fprintf(stderr, "fuzz_sdes_replay: more than %d inputs, %s not read\n", MAX_SEEDS,
			path);
		return -1;
	}
	seeds[nseeds].p = malloc(len ? len : 1);
	if (seeds[nseeds].p == NULL)
		return -1;
	memcpy(seeds[nseeds].p, buf, len);
	seeds[nseeds++].len = len;
	return 0;
}

/* A directory: every regular file in it; otherwise the file itself. */
static int
load_path(const char *path)
{
	char file[4096];
	struct stat st;
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "fuzz_sdes_replay: cannot stat %s\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(path);
	d = opendir(path);
	if (d == NULL) {
		fprintf(stderr, "fuzz_sdes_replay: cannot open directory %s\n", path);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		if (stat(file, &st) == 0 && S_ISREG(st.st_mode) && load_file(file) != 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

static void
feed(const uint8_t *p, size_t len)
{
	uint8_t *exact = malloc(len ? len : 1);

	CHECK(exact != NULL);
	memcpy(exact, p, len);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
}

int
main(int argc, char **argv)
{
	static uint8_t buf[INPUT_MAX + 64];
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	size_t i, len, runs = 0;
	unsigned int r, j;
	int a, m, failed = 0;

	for (a = 1; a < argc; a++)
		if (load_path(argv[a]) != 0)
			failed = 1;
	if (nseeds == 0) {
		fprintf(stderr, "usage: fuzz_sdes_replay CORPUS_DIR|FILE...: no inputs read\n");
		return 1;
	}
	for (i = 0; i < nseeds; i++) {
		for (len = 0; len <= seeds[i].len; len++, runs++)
			feed(seeds[i].p, len);
		for (m = 0; m < MUTATIONS; m++, runs++) {
			memcpy(buf, seeds[i].p, seeds[i].len);
			len = mutate(buf, seeds[i].len, sizeof(buf), &s);
			feed(buf, len);
		}
		free(seeds[i].p);
	}
	printf("fuzz_sdes_replay: %zu seeds, %zu inputs, every claim held\n", nseeds, runs);
	for (j = 0; j < DUET_SRTP_SUITE_COUNT; j++) {
		printf("  accepted %s: %lu\n", duet_srtp_suite_name((enum duet_srtp_suite)j),
		       reached_suite[j]);
		if (reached_suite[j] == 0)
			failed = 1;
	}
	for (r = 0; r < sizeof(parser_reasons) / sizeof(parser_reasons[0]); r++) {
		unsigned long n = 0;

		for (j = 0; j < MAX_REASONS && reason_seen[j] != NULL; j++)
			if (strstr(reason_seen[j], parser_reasons[r]) != NULL)
				n += reason_count[j];
		printf("  refused '%s': %lu\n", parser_reasons[r], n);
		if (n == 0) {
			fprintf(stderr, "fuzz_sdes_replay: corpus never reached refusal '%s'\n",
				parser_reasons[r]);
			failed = 1;
		}
	}
	return failed;
}
#endif /* DUET_FUZZ_LIBFUZZER */
