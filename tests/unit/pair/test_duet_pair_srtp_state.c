/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/pair/duet_pair_srtp_state.c: a keyed pair's SRTP
 * stream state read for writing back (duet_pair_srtp_state), and a pair
 * put after a restart that continues its streams (duet_pair_put_restore),
 * through the table's public API. A "crash" is the table freed and a new
 * one made, with the state carried over as lib/sync will carry it: each
 * key's states written as the stats hash field's text and parsed back
 * (duet_record_srtp_format/parse). The clients are libsrtp2 sessions made
 * here and never restarted, as phones are not; a packet "passes" when
 * the direction's verify or rekey says so as a worker drives it, and in
 * rekey when the receiving client opens what the relay re-protected.
 * Criterion runs each test in its own process with an EAL of its own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "duet_pair.h"
#include "duet_pair_fp.h"
#include "duet_srtp.h"
#include "pair_test.h"
#include "../srtp/srtp_client.h"


#define SSRC_A 0xa1a2a3a4u
#define SSRC_B 0xb1b2b3b4u

static struct duet_pair_table *t;
static unsigned int n_tables;

static struct duet_pair_table *
table_new(void)
{
	char name[16];
	struct duet_pair_table *x;

	snprintf(name, sizeof(name), "ts%u", n_tables++);
	x = duet_pair_table_create(name, 4, 1, SOCKET_ID_ANY, pair_test_space());
	cr_assert_not_null(x, "table create: %s", rte_strerror(rte_errno));
	return x;
}

static void
eal_up(void)
{
	pair_test_eal_up("test_duet_pair_srtp_state", "pairsrtp");
	t = table_new();
}

static void
eal_down(void)
{
	test_srtp_clients_free();
	pair_test_eal_down(&t);
}

TestSuite(pair_srtp_state, .init = eal_up, .fini = eal_down, .timeout = 60);

/* ---- pairs, clients, packets ----------------------------------------------- */

/* A pair_test_spec() with keys of the given suites (a_in, a_out, b_in,
 * b_out) as the mode takes them. */
static struct duet_pair_spec
pair(const char *id, uint8_t host, uint8_t mode, const enum duet_srtp_suite su[DUET_KEY_COUNT])
{
	struct duet_pair_spec s = pair_test_spec(id, host, mode);
	unsigned int k;

	for (k = 0; k < DUET_KEY_COUNT; k++)
		if (duet_mode_takes_key(mode, k))
			s.key[k] = test_srtp_key(su[k]);
	return s;
}

/* Put s, continuing the streams st (n of them); its slot. */
static uint32_t
put_restore(const struct duet_pair_spec *s, const struct duet_srtp_stream_state *st,
	    unsigned int n, struct duet_pair_put_result *res)
{
	char why[DUET_PAIR_REASON_MAX] = "";
	int rc = duet_pair_put_restore(t, s, st, n, 1000, res, why, sizeof(why));

	cr_assert_eq(rc, 0, "put %s: %d %s", s->id, rc, why);
	return res->slot;
}

/* The same spec on other endpoints (keys kept): a second pair to compare. */
static struct duet_pair_spec
moved(const struct duet_pair_spec *s, const char *id, uint8_t host)
{
	struct duet_pair_spec m = *s;

	snprintf(m.id, sizeof(m.id), "%s", id);
	duet_addr_set4(&m.ep[0], htonl(0xc0000200u | host), htons(20000));
	duet_addr_set4(&m.ep[1], htonl(0xc0000200u | host), htons(20002));
	return m;
}

/* What a worker does with p arriving at leg `leg` of slot. */
static enum duet_srtp_verdict
relay(uint32_t slot, unsigned int leg, struct test_srtp_pkt *p)
{
	return test_srtp_relay(duet_pair_srtp_at(t, 2 * slot + leg),
			       duet_pair_leg(t, slot, leg)->mode == DUET_MODE_REKEY, p, rte_rdtsc(),
			       rte_get_tsc_hz());
}

/* Sender tx sends RTP seq from..to (inclusive, wrapping) to leg `leg`;
 * every packet must pass, and reach rx when given. */
static void
run(uint32_t slot, unsigned int leg, srtp_t tx, uint32_t ssrc, uint32_t from, uint32_t to,
    srtp_t rx)
{
	struct test_srtp_pkt p;
	uint32_t i;

	for (i = from; i <= to; i++) {
		test_srtp_seal(tx, false, ssrc, (uint16_t)i, &p);
		cr_assert_eq(relay(slot, leg, &p), DUET_SRTP_OK, "leg %c seq %u", 'a' + leg,
			     i & 0xffff);
		if (rx != NULL)
			cr_assert(test_srtp_opens(rx, &p), "receiver cannot open seq %u", i & 0xffff);
	}
}

/* The state of key k and ssrc among st[0..n-1], or NULL. */
static const struct duet_srtp_stream_state *
find(const struct duet_srtp_stream_state *st, int n, unsigned int k, uint32_t ssrc)
{
	int i;

	for (i = 0; i < n; i++)
		if (st[i].key == k && st[i].ssrc == ssrc)
			return &st[i];
	return NULL;
}

/* What lib/sync does around a restart: each key's states to its stats
 * field text, and back. Returns the count read back into out. */
static unsigned int
through_redis(const struct duet_srtp_stream_state *st, int n, struct duet_srtp_stream_state *out)
{
	char text[DUET_RECORD_SRTP_TEXT_MAX + 1], why[128];
	unsigned int k, m = 0;
	int w, r;

	for (k = 0; k < DUET_KEY_COUNT; k++) {
		w = duet_record_srtp_format(st, (unsigned int)n, k, text, sizeof(text));
		cr_assert_geq(w, 0);
		r = duet_record_srtp_parse(text, (size_t)w, k, out + m, DUET_RECORD_SRTP_STREAMS_MAX,
					   why, sizeof(why));
		cr_assert_geq(r, 0, "%s: %s", duet_record_srtp_field(k), why);
		m += (unsigned int)r;
	}
	return m;
}

/* The "crash": a new table, as a restarted duetd makes it. */
static void
restart(void)
{
	duet_pair_table_free(t);
	t = table_new();
}

/* ---- verify ---------------------------------------------------------------- */

/*
 * Verify: client a's sequence wraps through the relay (65500..65535,
 * 0..40), client b sends RTP and SRTCP. The state reads back per leg; after
 * a restart the pair put with it authenticates a's next packets at ROC 1
 * and b's next ones, refuses replays of pre-crash packets (inside
 * libsrtp2's window too) as replays, and a pair put without it refuses
 * a's next packets.
 */
Test(pair_srtp_state, a_verify_pair_survives_a_restart_after_its_sequence_wrapped)
{
	static const enum duet_srtp_suite su[DUET_KEY_COUNT] = { CM80, CM80, GCM128, GCM128 };
	struct duet_pair_spec s = pair("v", 1, DUET_MODE_VERIFY, su);
	struct duet_pair_spec bare = moved(&s, "v-bare", 2);
	struct duet_pair_put_result res;
	srtp_t a = test_srtp_client(&s.key[DUET_KEY_A_IN], true);
	srtp_t b = test_srtp_client(&s.key[DUET_KEY_B_IN], true);
	struct duet_srtp_stream_state st[DUET_PAIR_SRTP_STATES_MAX], back[DUET_PAIR_SRTP_STATES_MAX];
	const struct duet_srtp_stream_state *x;
	struct test_srtp_pkt cap[8], p;
	uint32_t slot = put_restore(&s, NULL, 0, &res), bare_slot, i;
	int n;

	run(slot, 0, a, SSRC_A, 65500, 65536 + 32, NULL);
	for (i = 0; i < 8; i++) { /* 33..40, captured by an attacker on the way */
		test_srtp_seal(a, false, SSRC_A, (uint16_t)(33 + i), &cap[i]);
		p = cap[i];
		cr_assert_eq(relay(slot, 0, &p), DUET_SRTP_OK);
	}
	run(slot, 1, b, SSRC_B, 100, 110, NULL);
	test_srtp_seal(b, true, SSRC_B, 0, &p);
	cr_assert_eq(relay(slot, 1, &p), DUET_SRTP_OK);

	n = duet_pair_srtp_state(t, slot, st, DUET_PAIR_SRTP_STATES_MAX, NULL);
	cr_assert_eq(n, 2);
	x = find(st, n, DUET_KEY_A_IN, SSRC_A);
	cr_assert_not_null(x, "a_srtp_in");
	cr_assert(x->has_rtp && !x->has_srtcp);
	cr_assert_eq(x->roc, 1);
	cr_assert_eq(x->seq, 40);
	x = find(st, n, DUET_KEY_B_IN, SSRC_B);
	cr_assert_not_null(x, "b_srtp_in");
	cr_assert(x->has_rtp && x->has_srtcp);
	cr_assert_eq(x->roc, 0);
	cr_assert_eq(x->seq, 110);
	cr_assert_eq(x->srtcp, 1, "the first SRTCP index libsrtp2 sends");

	cr_assert_eq(through_redis(st, n, back), 2);
	restart();
	slot = put_restore(&s, back, 2, &res);
	cr_assert_eq(res.srtp_restored, 2);
	cr_assert_eq(res.srtp_skipped, 0);
	bare_slot = put_restore(&bare, NULL, 0, &res);

	for (i = 0; i < 8; i++) {
		p = cap[i];
		cr_assert_eq(relay(slot, 0, &p), DUET_SRTP_REPLAY, "pre-crash seq %u", 33 + i);
	}
	for (i = 41; i < 45; i++) {
		struct test_srtp_pkt q;

		test_srtp_seal(a, false, SSRC_A, (uint16_t)i, &p);
		q = p;
		cr_assert_eq(relay(bare_slot, 0, &q), DUET_SRTP_AUTH, "without the state, seq %u", i);
		cr_assert_eq(relay(slot, 0, &p), DUET_SRTP_OK, "seq %u", i);
	}
	/* Inside libsrtp2's new window, below the restore point: still old. */
	p = cap[7];
	cr_assert_eq(relay(slot, 0, &p), DUET_SRTP_REPLAY);
	run(slot, 1, b, SSRC_B, 111, 115, NULL);
	n = duet_pair_srtp_state(t, slot, st, DUET_PAIR_SRTP_STATES_MAX, NULL);
	cr_assert_eq(n, 2);
	cr_assert_eq(find(st, n, DUET_KEY_A_IN, SSRC_A)->seq, 44);
	cr_assert_eq(find(st, n, DUET_KEY_A_IN, SSRC_A)->roc, 1);
	cr_assert_eq(find(st, n, DUET_KEY_B_IN, SSRC_B)->seq, 115);
	cr_assert_eq(find(st, n, DUET_KEY_B_IN, SSRC_B)->srtcp, 1);
}

/* ---- rekey ----------------------------------------------------------------- */

/*
 * Rekey: a's sequence wraps through the relay toward b, whose libsrtp2 is
 * then at ROC 1. The state has a_srtp_in (what a sent) and b_srtp_out
 * (what the relay sent b). After a restart the pair put with both
 * re-protects a's next packets so that b opens them; put with a_srtp_in
 * only, it authenticates them but b cannot open one (sealed at ROC 0).
 */
Test(pair_srtp_state, a_rekey_pair_reseals_for_a_receiver_already_past_the_wrap)
{
	static const enum duet_srtp_suite su[DUET_KEY_COUNT] = { GCM256, CM32, CM80, GCM128 };
	struct duet_pair_spec s = pair("r", 1, DUET_MODE_REKEY, su);
	struct duet_pair_spec half = moved(&s, "r-half", 2);
	struct duet_pair_put_result res;
	srtp_t a_tx = test_srtp_client(&s.key[DUET_KEY_A_IN], true);
	srtp_t b_rx = test_srtp_client(&s.key[DUET_KEY_B_OUT], false);
	srtp_t b_tx = test_srtp_client(&s.key[DUET_KEY_B_IN], true);
	srtp_t a_rx = test_srtp_client(&s.key[DUET_KEY_A_OUT], false);
	struct duet_srtp_stream_state st[DUET_PAIR_SRTP_STATES_MAX], back[DUET_PAIR_SRTP_STATES_MAX];
	struct duet_srtp_stream_state in_only[DUET_PAIR_SRTP_STATES_MAX];
	const struct duet_srtp_stream_state *x;
	uint32_t slot = put_restore(&s, NULL, 0, &res), half_slot, i;
	unsigned int m, k = 0;
	int n;

	run(slot, 0, a_tx, SSRC_A, 65500, 65536 + 40, b_rx);
	run(slot, 1, b_tx, SSRC_B, 7, 9, a_rx);
	n = duet_pair_srtp_state(t, slot, st, DUET_PAIR_SRTP_STATES_MAX, NULL);
	cr_assert_eq(n, 4, "a_srtp_in, b_srtp_out, b_srtp_in, a_srtp_out");
	x = find(st, n, DUET_KEY_A_IN, SSRC_A);
	cr_assert(x != NULL && x->roc == 1 && x->seq == 40);
	x = find(st, n, DUET_KEY_B_OUT, SSRC_A);
	cr_assert(x != NULL && x->roc == 1 && x->seq == 40 && !x->has_srtcp,
		  "what the relay sent b");
	x = find(st, n, DUET_KEY_B_IN, SSRC_B);
	cr_assert(x != NULL && x->roc == 0 && x->seq == 9);
	x = find(st, n, DUET_KEY_A_OUT, SSRC_B);
	cr_assert(x != NULL && x->roc == 0 && x->seq == 9);

	m = through_redis(st, n, back);
	cr_assert_eq(m, 4);
	for (i = 0; i < m; i++)
		if (back[i].key != DUET_KEY_B_OUT)
			in_only[k++] = back[i];
	restart();
	slot = put_restore(&s, back, m, &res);
	cr_assert_eq(res.srtp_restored, 4);
	half_slot = put_restore(&half, in_only, k, &res);
	cr_assert_eq(res.srtp_restored, 3);

	for (i = 41; i < 50; i++) {
		struct test_srtp_pkt p, q;

		test_srtp_seal(a_tx, false, SSRC_A, (uint16_t)i, &p);
		q = p;
		cr_assert_eq(relay(half_slot, 0, &q), DUET_SRTP_OK, "a's key: continued");
		cr_assert_not(test_srtp_opens(b_rx, &q), "without b_srtp_out, b cannot open seq %u", i);
		cr_assert_eq(relay(slot, 0, &p), DUET_SRTP_OK);
		cr_assert(test_srtp_opens(b_rx, &p), "b cannot open the restored relay's seq %u", i);
	}
	run(slot, 1, b_tx, SSRC_B, 10, 12, a_rx);
	n = duet_pair_srtp_state(t, slot, st, DUET_PAIR_SRTP_STATES_MAX, NULL);
	cr_assert_eq(find(st, n, DUET_KEY_B_OUT, SSRC_A)->seq, 49);
	cr_assert_eq(find(st, n, DUET_KEY_B_OUT, SSRC_A)->roc, 1);
}

/* ---- what applies ---------------------------------------------------------- */

/*
 * States that do not fit the pair are skipped and counted, and the pair
 * is put all the same: an _out key in verify, SRTCP on an _out key, an
 * SSRC twice for one key, an unknown key; an in-place update and a
 * passthrough pair take none.
 */
Test(pair_srtp_state, states_that_do_not_apply_are_skipped_and_the_pair_is_put_all_the_same)
{
	static const enum duet_srtp_suite su[DUET_KEY_COUNT] = { CM80, CM80, CM80, CM80 };
	struct duet_pair_spec v = pair("v", 1, DUET_MODE_VERIFY, su);
	struct duet_pair_spec pt = pair("p", 2, DUET_MODE_PASSTHROUGH, su);
	struct duet_srtp_stream_state st[6], got[DUET_PAIR_SRTP_STATES_MAX];
	struct duet_pair_put_result res;
	char why[DUET_PAIR_REASON_MAX];
	uint32_t slot;
	unsigned int i;
	int n;

	memset(st, 0, sizeof(st));
	for (i = 0; i < 6; i++) {
		st[i].ssrc = 10 + i;
		st[i].has_rtp = 1;
		st[i].roc = 2;
		st[i].seq = 5;
	}
	st[0].key = DUET_KEY_A_IN;  /* applies */
	st[1].key = DUET_KEY_A_OUT; /* verify takes no a_out */
	st[2].key = DUET_KEY_B_IN;  /* applies, with SRTCP */
	st[2].has_srtcp = 1;
	st[2].srtcp = 9;
	st[3].key = DUET_KEY_B_IN; /* the same SSRC twice for b_in */
	st[3].ssrc = st[2].ssrc;
	st[4].key = DUET_KEY_COUNT; /* no such key */
	st[5].key = DUET_KEY_A_IN;  /* nothing set */
	st[5].has_rtp = 0;
	slot = put_restore(&v, st, 6, &res);
	cr_assert_eq(res.srtp_restored, 2);
	cr_assert_eq(res.srtp_skipped, 4);
	n = duet_pair_srtp_state(t, slot, got, DUET_PAIR_SRTP_STATES_MAX, NULL);
	cr_assert_eq(n, 2, "restored states read back before any packet");
	cr_assert_eq(find(got, n, DUET_KEY_B_IN, 12)->srtcp, 9);
	cr_assert_eq(find(got, n, DUET_KEY_A_IN, 10)->roc, 2);

	/* The same pair again: updated in place, its sessions are past it. */
	cr_assert_eq(duet_pair_put_restore(t, &v, st, 1, 1000, &res, why, sizeof(why)), 1);
	cr_assert_eq(res.srtp_restored, 0);
	cr_assert_eq(res.srtp_skipped, 1);

	slot = put_restore(&pt, st, 1, &res);
	cr_assert_eq(res.srtp_skipped, 1);
	cr_assert_eq(duet_pair_srtp_state(t, slot, got, DUET_PAIR_SRTP_STATES_MAX, NULL), 0);
	cr_assert_eq(duet_pair_srtp_gen(t, slot), 0);
	cr_assert_eq(duet_pair_del(t, "p", 2000, NULL), 0);
	cr_assert_eq(duet_pair_srtp_state(t, slot, got, DUET_PAIR_SRTP_STATES_MAX, NULL), -ENOENT);
}

/* The change count moves when a stream's ROC changes (and a new SSRC
 * comes), not with each packet; a short buffer is refused. */
Test(pair_srtp_state, the_change_count_moves_when_a_stream_wraps)
{
	static const enum duet_srtp_suite su[DUET_KEY_COUNT] = { CM32, CM32, CM32, CM32 };
	struct duet_pair_spec s = pair("g", 1, DUET_MODE_REKEY, su);
	struct duet_pair_put_result res;
	srtp_t a = test_srtp_client(&s.key[DUET_KEY_A_IN], true);
	struct duet_srtp_stream_state st[DUET_PAIR_SRTP_STATES_MAX];
	uint32_t slot = put_restore(&s, NULL, 0, &res), g0, g1, g2;

	g0 = duet_pair_srtp_gen(t, slot);
	run(slot, 0, a, SSRC_A, 65530, 65534, NULL);
	g1 = duet_pair_srtp_gen(t, slot);
	cr_assert_neq(g1, g0, "a new SSRC");
	run(slot, 0, a, SSRC_A, 65535, 65535, NULL);
	cr_assert_eq(duet_pair_srtp_gen(t, slot), g1, "same ROC");
	run(slot, 0, a, SSRC_A, 65536, 65537, NULL);
	cr_assert_eq(duet_pair_srtp_state(t, slot, st, DUET_PAIR_SRTP_STATES_MAX, &g2), 2);
	cr_assert_neq(g2, g1, "ROC 0 -> 1 (inbound and outbound)");
	cr_assert_eq(g2, duet_pair_srtp_gen(t, slot));
	cr_assert_eq(duet_pair_srtp_state(t, slot, st, 1, NULL), -ENOSPC);
}
