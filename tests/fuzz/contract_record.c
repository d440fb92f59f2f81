/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the Redis contract's record parsers (lib/contract):
 * duet_contract_parse_pair(), which turns a pair hash into a validated
 * spec, and duet_contract_parse_event(), which reads an events stream
 * entry. The relay's configuration is a small one of two ports (written to
 * a temporary file and loaded with duet_conf_load once).
 *
 * Also duet_record_srtp_parse(), which reads the SRTP stream states duetd
 * saved in a stats hash (a_srtp_in ...) back after a crash: when bit 7 of
 * the first byte is set, the next byte picks the key (mod 5: the four and
 * one unknown) and the next the most streams asked for (mod 20); the rest
 * is the value, NULs and all. An accepted value has at most that many
 * streams, each of that key, with distinct SSRCs, numbers within their
 * ranges and SRTCP only on an `_in` key, and formats back to exactly the
 * same text (the grammar is canonical); a refused one has a reason.
 *
 * Otherwise: one byte (bit 0: 0 a pair hash, 1 an events entry), then strings
 * separated by NUL bytes: for a pair the id, then field, value, field,
 * value...; for an entry field, value... A string that is the single byte
 * 0xff stands for a NULL (a Redis string holding a NUL, which duet_sync
 * passes on as NULL). The target checks what the parsers claim: a refusal
 * has a reason, which never quotes a pin (a client address) or key
 * material; an accepted pair has a valid id, a known mode, two distinct
 * endpoints of this relay on the ports the config gives them, exactly the
 * keys its mode takes, and every number within its limit; an accepted
 * entry has a known op and a valid id. Both parsers are also run with a
 * reason buffer too small for any reason. Built with clang's
 * -fsanitize=fuzzer (tests/fuzz/meson.build). Test process only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duet_conf.h"
#include "duet_contract.h"
#include "duet_secure_zero.h"
#include "fuzz_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 40
#define NULL_MARK 0xff

/* Two ports, three service addresses, a denied prefix: enough for every
 * endpoint and pin rule to have something to say. */
static const char conf_text[] = "[relay]\n"
				"id = fuzz\n"
				"workers = 1\n"
				"[media]\n"
				"port_min = 20000\n"
				"port_max = 29999\n"
				"[security]\n"
				"denied_peers = 203.0.113.0/24, 2001:db8:dead::/48\n"
				"allowed_peers = 203.0.113.7/32\n"
				"[redis]\n"
				"address = unix:/tmp/r.sock\n"
				"[port a]\n"
				"addresses = 192.0.2.1, 192.0.2.2\n"
				"[port b]\n"
				"addresses = 198.51.100.1\n";

static struct duet_conf conf;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[] = "/tmp/duet-fuzz-contract-XXXXXX", err[DUET_CONF_ERR_MAX];
	int fd = mkstemp(path);

	(void)argc;
	(void)argv;
	if (fd < 0 || write(fd, conf_text, sizeof(conf_text) - 1) != sizeof(conf_text) - 1) {
		perror("contract_record: config file");
		exit(1);
	}
	close(fd);
	if (duet_conf_load(path, &conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "contract_record: %s\n", err);
		exit(1);
	}
	unlink(path);
	return 0;
}

/* Split s (n bytes) at NULs into strs; NULL_MARK alone is NULL.
 * @return the count. */
static size_t
split(char *s, size_t n, const char **strs, size_t max)
{
	size_t count = 0, i, start = 0;

	for (i = 0; i <= n && count < max; i++) {
		if (i < n && s[i] != '\0')
			continue;
		s[i] = '\0';
		if (i - start == 1 && (uint8_t)s[start] == NULL_MARK)
			strs[count++] = NULL;
		else
			strs[count++] = s + start;
		start = i + 1;
	}
	return count;
}

static bool
is_field(const char *name, const char *const *set)
{
	for (; *set != NULL; set++)
		if (name != NULL && strcmp(name, *set) == 0)
			return true;
	return false;
}

/* Does t appear in s, or in s as a reason would quote it? */
static bool
appears_in(const char *t, const char *s)
{
	char q[DUET_CONTRACT_WHY_MAX];

	return s != NULL &&
	       (strstr(s, t) != NULL || strstr(duet_contract_quote(s, q, sizeof(q)), t) != NULL);
}

/* The text t, in no other string of the record: if it turns up in the
 * reason, the reason leaked it from the field that holds it. */
static bool
text_elsewhere(const char *t, const char *id, const struct duet_contract_field *f, size_t n,
	       size_t self)
{
	size_t i;

	if (appears_in(t, id))
		return true;
	for (i = 0; i < n; i++)
		if (i != self && (appears_in(t, f[i].name) || appears_in(t, f[i].value)))
			return true;
	return false;
}

/* A reason holds secret, a part of field self's value: did it come from
 * the value? Parse again with that part overwritten (same length): if
 * the reason then lacks it, it was quoted from the value; if it still has
 * it, the words are the parser's own (a key value "inline:passthrough"
 * names a mode the reason lists). */
static bool
quoted_from_value(const char *secret, const char *id,
		  const struct duet_contract_field *f, size_t n, size_t self)
{
	struct duet_contract_field g[MAX_FIELDS];
	char why2[DUET_CONTRACT_WHY_MAX], *value;
	struct duet_pair_spec spec;
	size_t off = (size_t)(secret - f[self].value), len = strlen(secret);
	bool quoted;

	CHECK(n <= MAX_FIELDS);
	value = strdup(f[self].value);
	CHECK(value != NULL);
	memcpy(g, f, n * sizeof(g[0]));
	memset(value + off, '\x01', len);
	g[self].value = value;
	why2[0] = '\0';
	(void)duet_contract_parse_pair(id, g, n, &conf, &spec, why2, sizeof(why2));
	quoted = strstr(why2, secret) == NULL;
	duet_secure_zero(&spec, sizeof(spec));
	free(value);
	return quoted;
}

/* A refused pair's reason quotes no pin and no key material. */
static void
check_reason_private(const char *why, const char *id, const struct duet_contract_field *f,
		     size_t n)
{
	static const char *const pins[] = { DUET_FIELD_A_SRC, DUET_FIELD_B_SRC, NULL };
	static const char *const keys[] = { DUET_FIELD_A_IN, DUET_FIELD_A_OUT, DUET_FIELD_B_IN,
					    DUET_FIELD_B_OUT, NULL };
	struct duet_addr a;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *v = f[i].value, *secret = NULL;

		if (v == NULL)
			continue;
		if (is_field(f[i].name, pins) && duet_addr_parse(v, &a) == 0)
			secret = v;
		else if (is_field(f[i].name, keys) && strstr(v, "inline:") != NULL &&
			 strlen(strstr(v, "inline:")) >= 7 + 8)
			secret = strstr(v, "inline:") + 7;
		if (secret != NULL && !text_elsewhere(secret, id, f, n, i) &&
		    strstr(why, secret) != NULL)
			CHECK(!quoted_from_value(secret, id, f, n, i));
	}
}

static void
check_pair(const struct duet_pair_spec *s, const char *id)
{
	unsigned int l, k;

	CHECK(strcmp(s->id, id) == 0 && duet_record_id_ok(s->id));
	CHECK(s->mode < DUET_MODE_COUNT);
	CHECK(!duet_addr_equal(&s->ep[0], &s->ep[1]));
	for (l = 0; l < 2; l++) {
		CHECK(duet_conf_endpoint_port(&conf, &s->ep[l]) == (int)s->port_idx[l]);
		if (s->pin[l].family != DUET_AF_NONE) {
			CHECK(s->pin[l].family == s->ep[l].family);
			CHECK(duet_conf_endpoint_port(&conf, &s->pin[l]) == -ENOENT);
		}
	}
	for (k = 0; k < DUET_KEY_COUNT; k++)
		CHECK((s->key[k].key_len != 0) == duet_mode_takes_key(s->mode, k));
	CHECK(s->idle_ms <= DUET_CONTRACT_IDLE_MS_MAX);
	CHECK(s->expires <= DUET_CONTRACT_EXPIRES_MAX);
	CHECK(s->max_pps <= DUET_CONTRACT_MAX_PPS_MAX);
	CHECK(s->max_kbps <= DUET_CONTRACT_MAX_KBPS_MAX);
}

/* The SRTP stream-state field of key k (4: no such key), at most max
 * streams, from value (len bytes). */
static void
check_srtp_state(unsigned int k, unsigned int max, const char *value, size_t len)
{
	struct duet_srtp_stream_state st[DUET_RECORD_SRTP_STREAMS_MAX + 4];
	char why[DUET_CONTRACT_WHY_MAX], back[DUET_RECORD_SRTP_TEXT_MAX + 1];
	unsigned int i, j;
	int rc, n;

	why[0] = '\0';
	rc = duet_record_srtp_parse(value, len, k, st, max, why, sizeof(why));
	if (rc < 0) {
		CHECK(rc == -EINVAL && why[0] != '\0');
		return;
	}
	CHECK(k < DUET_KEY_COUNT);
	CHECK((unsigned int)rc <= max && rc <= DUET_RECORD_SRTP_STREAMS_MAX);
	for (i = 0; i < (unsigned int)rc; i++) {
		CHECK(st[i].key == k && (st[i].has_rtp || st[i].has_srtcp));
		CHECK(!st[i].has_srtcp || k == DUET_KEY_A_IN || k == DUET_KEY_B_IN);
		CHECK(!st[i].has_srtcp || st[i].srtcp <= 0x7fffffffu);
		for (j = 0; j < i; j++)
			CHECK(st[j].ssrc != st[i].ssrc);
	}
	n = duet_record_srtp_format(st, (unsigned int)rc, k, back, sizeof(back));
	CHECK(n >= 0 && (size_t)n == len && memcmp(back, value, len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *strs[2 * MAX_FIELDS + 1], *id;
	struct duet_contract_field f[MAX_FIELDS];
	struct duet_pair_spec spec;
	enum duet_contract_op op;
	char why[DUET_CONTRACT_WHY_MAX], tiny[4], ev_id[DUET_RECORD_ID_MAX + 1];
	char *text;
	size_t n, nf, i;
	int rc;

	if (size < 1)
		return 0;
	if (data[0] & 0x80) {
		if (size >= 3)
			check_srtp_state(data[1] % 5u, data[2] % 20u, (const char *)data + 3,
					 size - 3);
		return 0;
	}
	text = malloc(size);
	CHECK(text != NULL);
	memcpy(text, data + 1, size - 1);
	n = split(text, size - 1, strs, sizeof(strs) / sizeof(strs[0]));

	if (data[0] & 1) {
		nf = n / 2;
		for (i = 0; i < nf; i++) {
			f[i].name = strs[2 * i];
			f[i].value = strs[2 * i + 1];
		}
		why[0] = '\0';
		rc = duet_contract_parse_event(f, nf, &op, ev_id, why, sizeof(why));
		if (rc == 0) {
			CHECK(op == DUET_CONTRACT_OP_PUT || op == DUET_CONTRACT_OP_DEL);
			CHECK(duet_record_id_ok(ev_id));
		} else {
			CHECK(rc == -EINVAL && why[0] != '\0');
		}
		memset(tiny, 'x', sizeof(tiny));
		CHECK(duet_contract_parse_event(f, nf, &op, ev_id, tiny, sizeof(tiny)) == rc);
		if (rc != 0)
			CHECK(memchr(tiny, '\0', sizeof(tiny)) != NULL);
		free(text);
		return 0;
	}

	if (n < 1 || strs[0] == NULL) {
		free(text);
		return 0;
	}
	id = strs[0];
	nf = (n - 1) / 2;
	for (i = 0; i < nf; i++) {
		f[i].name = strs[1 + 2 * i];
		f[i].value = strs[2 + 2 * i];
		/* duet_sync refuses a named field whose value is not text
		 * before it calls the parser (sync_apply_record). */
		if (f[i].name != NULL && f[i].value == NULL) {
			free(text);
			return 0;
		}
	}
	why[0] = '\0';
	rc = duet_contract_parse_pair(id, f, nf, &conf, &spec, why, sizeof(why));
	if (rc == 0) {
		check_pair(&spec, id);
	} else {
		CHECK(rc == -EINVAL && why[0] != '\0');
		check_reason_private(why, id, f, nf);
	}
	memset(tiny, 'x', sizeof(tiny));
	CHECK(duet_contract_parse_pair(id, f, nf, &conf, &spec, tiny, sizeof(tiny)) == rc);
	if (rc != 0)
		CHECK(memchr(tiny, '\0', sizeof(tiny)) != NULL);
	duet_secure_zero(&spec, sizeof(spec));
	free(text);
	return 0;
}
