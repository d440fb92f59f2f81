/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * srtp_client.c: the unit tests' SRTP clients (see srtp_client.h). Test
 * process only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "srtp_client.h"
#include "srtp_policy.h"

#define MAX_CLIENTS 16

static srtp_t clients[MAX_CLIENTS];
static unsigned int n_clients;

struct duet_sdes
test_srtp_key(enum duet_srtp_suite suite)
{
	struct duet_sdes k;

	cr_assert_eq(duet_sdes_generate(suite, &k), 0);
	return k;
}

srtp_t
test_srtp_client(const struct duet_sdes *k, bool sender)
{
	srtp_policy_t p;
	srtp_t s = NULL;
	srtp_err_status_t st;

	cr_assert_lt(n_clients, MAX_CLIENTS);
	memset(&p, 0, sizeof(p));
	test_srtp_policy_suite(k, &p);
	p.ssrc.type = sender ? ssrc_any_outbound : ssrc_any_inbound;
	p.key = (unsigned char *)(uintptr_t)k->key;
	p.window_size = 128;
	st = srtp_create(&s, &p);
	cr_assert_eq(st, srtp_err_status_ok, "srtp_create suite %d: %d", k->suite, st);
	clients[n_clients++] = s;
	return s;
}

void
test_srtp_clients_free(void)
{
	while (n_clients > 0)
		srtp_dealloc(clients[--n_clients]);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
test_srtp_seal(srtp_t tx, bool rtcp, uint32_t ssrc, uint16_t seq, struct test_srtp_pkt *p)
{
	srtp_err_status_t st;
	int i;

	memset(p, 0, sizeof(*p));
	p->wire[0] = 0x80;
	if (rtcp) {
		p->wire[1] = 200;
		p->wire[3] = 6; /* 28 bytes */
		put32(p->wire + 4, ssrc);
		put32(p->wire + 8, 0xe0000000u + seq);
		put32(p->wire + 20, seq);
		p->len = 28;
	} else {
		p->wire[1] = 111;
		p->wire[2] = (uint8_t)(seq >> 8);
		p->wire[3] = (uint8_t)seq;
		put32(p->wire + 4, 960u * seq);
		put32(p->wire + 8, ssrc);
		for (i = 0; i < 80; i++)
			p->wire[12 + i] = (uint8_t)(seq * 5 + i);
		p->len = 12 + 80;
	}
	memcpy(p->plain, p->wire, (size_t)p->len);
	p->plain_len = p->len;
	st = rtcp ? srtp_protect_rtcp(tx, p->wire, &p->len) : srtp_protect(tx, p->wire, &p->len);
	cr_assert_eq(st, srtp_err_status_ok, "client protect: %d", st);
}

bool
test_srtp_opens(srtp_t rx, const struct test_srtp_pkt *p)
{
	uint8_t buf[TEST_SRTP_PKT_CAP] __attribute__((aligned(8)));
	bool rtcp = p->plain[1] >= 192 && p->plain[1] <= 223;
	int len = p->len;
	srtp_err_status_t st;

	memcpy(buf, p->wire, (size_t)len);
	st = rtcp ? srtp_unprotect_rtcp(rx, buf, &len) : srtp_unprotect(rx, buf, &len);
	return st == srtp_err_status_ok && len == p->plain_len &&
	       memcmp(buf, p->plain, (size_t)len) == 0;
}

enum duet_srtp_verdict
test_srtp_relay(struct duet_srtp_ctx *d, bool rekey, struct test_srtp_pkt *p, uint64_t now,
		uint64_t silence)
{
	static uint8_t scratch[DUET_SRTP_SCRATCH] __attribute__((aligned(64)));
	enum duet_srtp_verdict v;
	uint64_t removed = 0;
	int idx, victim;

	cr_assert_not_null(d);
	cr_assert(duet_srtp_ctx_take(d));
	idx = duet_srtp_admit(d, p->wire, p->len, DUET_SRTP_MAX_SSRC, now, silence, &victim);
	if (idx == -ENOSPC)
		v = DUET_SRTP_SSRC_LIMIT;
	else if (rekey)
		v = duet_srtp_rekey(d, p->wire, &p->len, TEST_SRTP_PKT_CAP, scratch, now);
	else
		v = duet_srtp_verify(d, p->wire, p->len, scratch, now);
	if (v == DUET_SRTP_OK)
		duet_srtp_admitted(d, idx, victim, p->wire, p->len, now, &removed);
	duet_srtp_ctx_give(d);
	return v;
}

struct duet_srtp_ctx *
test_srtp_dir_new(const struct duet_sdes *in, const struct duet_sdes *out)
{
	struct duet_srtp_ctx *d = aligned_alloc(64, sizeof(*d));

	cr_assert_not_null(d);
	memset(d, 0, sizeof(*d));
	d->in = duet_srtp_sess_new(in, DUET_SRTP_INBOUND, out == NULL);
	cr_assert_not_null(d->in);
	if (out != NULL) {
		d->out = duet_srtp_sess_new(out, DUET_SRTP_OUTBOUND, false);
		cr_assert_not_null(d->out);
	}
	return d;
}

void
test_srtp_dir_free(struct duet_srtp_ctx *d)
{
	duet_srtp_sess_free(d->in);
	duet_srtp_sess_free(d->in_prev);
	duet_srtp_sess_free(d->out);
	free(d);
}
