/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/srtp/duet_srtp_state.c and the stream tracking it
 * reads (duet_srtp_fp.h): how far a direction's SRTP streams got, and a
 * restore into new sessions after a restart (issue 10). A direction here
 * is a struct duet_srtp_ctx with the relay's own sessions, driven packet
 * by packet as a worker drives it (take, admit, verify or rekey,
 * admitted, give). The clients are libsrtp2 sessions with a policy
 * written out from RFC 3711/4568/7714 (srtp_client.c), so a relay that got
 * the suites or the ROC wrong would not be mirrored by its own test.
 * "Works" always means a real packet authenticated, or opened by the
 * receiver.
 * No EAL: lib/srtp has no DPDK. Test process only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duet_sdes.h"
#include "duet_srtp.h"
#include "duet_srtp_fp.h"
#include "srtp_client.h"

#define NSUITES DUET_SRTP_SUITE_COUNT

#define SSRC 0x5eed0001u
#define NOW 1000000u	  /* TSC the tests run at */
#define SILENCE 1000000u  /* SSRC cap: silent this long is evictable */

static uint8_t scratch[DUET_SRTP_SCRATCH] __attribute__((aligned(64)));

static void
teardown(void)
{
	test_srtp_clients_free();
}

static void
setup(void)
{
	cr_assert_eq(duet_srtp_init(), 0);
}

TestSuite(srtp_state, .init = setup, .fini = teardown);

/* ---- a direction of the relay ----------------------------------------------- */


/* What a worker does with p (verify, or rekey when d has an out session). */
static enum duet_srtp_verdict
relay(struct duet_srtp_ctx *d, struct test_srtp_pkt *p)
{
	return test_srtp_relay(d, d->out != NULL, p, NOW, SILENCE);
}

/* Seal RTP seq with tx and relay it: must pass (and reach rx, if given). */
static void
send_ok(struct duet_srtp_ctx *d, srtp_t tx, srtp_t rx, uint16_t seq)
{
	struct test_srtp_pkt p;

	test_srtp_seal(tx, false, SSRC, seq, &p);
	cr_assert_eq(relay(d, &p), DUET_SRTP_OK, "seq %u", seq);
	if (rx != NULL)
		cr_assert(test_srtp_opens(rx, &p), "receiver cannot open seq %u", seq);
}

/* The only SSRC state of d. */
static struct duet_srtp_ssrc_state
state_of(const struct duet_srtp_ctx *d)
{
	struct duet_srtp_ssrc_state st[DUET_SRTP_MAX_SSRC];

	cr_assert_eq(duet_srtp_ctx_read(d, st, DUET_SRTP_MAX_SSRC, NULL), 1);
	cr_assert_eq(st[0].ssrc, SSRC);
	return st[0];
}

#define IDX(roc, seq) ((uint64_t)(roc) << 16 | (uint16_t)(seq))

/* ---- the index estimate ----------------------------------------------------- */

Test(srtp_state, estimate_guesses_the_index_as_rfc3711_and_libsrtp2_do)
{
	static const struct {
		uint64_t hi;
		uint16_t seq;
		uint64_t want;
	} c[] = {
		{ 0, 5, IDX(0, 5) },		  /* a fresh stream: ROC 0 */
		{ IDX(0, 100), 65000, IDX(0, 65000) }, /* hi <= 2^15: ROC 0, never -1 */
		{ IDX(0, 65500), 3, IDX(1, 3) },       /* wrapped */
		{ IDX(1, 3), 65500, IDX(0, 65500) },   /* a late packet from before */
		{ IDX(1, 40000), 39000, IDX(1, 39000) },
		{ IDX(1, 40000), 7000, IDX(2, 7000) }, /* 33000 behind is nearer ahead */
		{ IDX(1, 40000), 7231, IDX(2, 7231) },
		{ IDX(1, 40000), 7232, IDX(1, 7232) }, /* exactly 2^15 behind */
		{ IDX(1, 10000), 42768, IDX(1, 42768) }, /* exactly 2^15 ahead */
		{ IDX(1, 10000), 42769, IDX(0, 42769) }, /* more: from before */
		{ IDX(7, 32768), 0, IDX(7, 0) },
		{ IDX(7, 32769), 0, IDX(8, 0) },
	};
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		cr_assert_eq(duet_srtp_estimate(c[i].hi, c[i].seq), c[i].want,
			     "case %u: hi %#llx seq %u gives %#llx", i, (unsigned long long)c[i].hi,
			     c[i].seq, (unsigned long long)duet_srtp_estimate(c[i].hi, c[i].seq));
}

/* ---- reading --------------------------------------------------------------- */

/*
 * A sender starting at 65500 wraps past 65535: the direction says ROC 1
 * and the last sequence number, in every suite; SRTCP's index too; a late
 * packet does not move the highest index back.
 */
Test(srtp_state, verify_tracks_the_highest_index_across_a_wrap_and_the_srtcp_index)
{
	unsigned int s;

	for (s = 0; s < NSUITES; s++) {
		struct duet_sdes k = test_srtp_key(s);
		srtp_t tx = test_srtp_client(&k, true);
		struct duet_srtp_ctx *d = test_srtp_dir_new(&k, NULL);
		struct duet_srtp_ssrc_state st;
		struct test_srtp_pkt late, rtcp;
		unsigned int i;

		cr_assert_eq(duet_srtp_ctx_read(d, &st, 1, NULL), 0, "nothing seen yet");
		test_srtp_seal(tx, false, SSRC, 65534, &late);
		for (i = 65500; i < 65536 + 41; i++)
			if (i != 65534)
				send_ok(d, tx, NULL, (uint16_t)i);
		st = state_of(d);
		cr_assert_eq(st.has, DUET_SRTP_HAS_RTP_IN, "suite %u: has %#x", s, st.has);
		cr_assert_eq(st.rtp_in, IDX(1, 40), "suite %u: %#llx", s,
			     (unsigned long long)st.rtp_in);
		cr_assert_eq(relay(d, &late), DUET_SRTP_OK, "a late packet is fine");
		cr_assert_eq(state_of(d).rtp_in, IDX(1, 40), "and moves nothing back");

		test_srtp_seal(tx, true, SSRC, 1, &rtcp);
		cr_assert_eq(relay(d, &rtcp), DUET_SRTP_OK);
		test_srtp_seal(tx, true, SSRC, 2, &rtcp);
		cr_assert_eq(relay(d, &rtcp), DUET_SRTP_OK);
		st = state_of(d);
		cr_assert_eq(st.has, DUET_SRTP_HAS_RTP_IN | DUET_SRTP_HAS_SRTCP_IN);
		cr_assert_eq(st.srtcp_in, 2, "suite %u: SRTCP index %u", s, st.srtcp_in);
		test_srtp_dir_free(d);
	}
}

/* The change count moves when an SSRC comes and when a ROC changes, not
 * with every packet. */
Test(srtp_state, change_count_moves_on_a_new_ssrc_and_a_roc_change_only)
{
	struct duet_sdes k = test_srtp_key(CM80);
	srtp_t tx = test_srtp_client(&k, true);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&k, NULL);
	struct duet_srtp_ssrc_state st;
	uint32_t g0, g1, g2, g3;

	g0 = duet_srtp_ctx_gen(d);
	send_ok(d, tx, NULL, 65533);
	g1 = duet_srtp_ctx_gen(d);
	cr_assert_gt(g1, g0, "a new SSRC is a change");
	send_ok(d, tx, NULL, 65534);
	send_ok(d, tx, NULL, 65535);
	cr_assert_eq(duet_srtp_ctx_gen(d), g1, "same ROC: no change");
	send_ok(d, tx, NULL, 0);
	g2 = duet_srtp_ctx_gen(d);
	cr_assert_gt(g2, g1, "the ROC moved");
	send_ok(d, tx, NULL, 1);
	cr_assert_eq(duet_srtp_ctx_read(d, &st, 1, &g3), 1);
	cr_assert_eq(g3, g2, "read gives the same count");
	test_srtp_dir_free(d);
}

/* ---- restoring: RTP, verify ---------------------------------------------- */

/* Sender tx runs 65500..65535, 0..last through a verify direction of key
 * k; the state it leaves. Captured packets go to cap[seq - first]. */
static struct duet_srtp_ssrc_state
run_past_wrap(const struct duet_sdes *k, srtp_t tx, uint16_t last)
{
	struct duet_srtp_ctx *d = test_srtp_dir_new(k, NULL);
	struct duet_srtp_ssrc_state st;
	unsigned int i;

	for (i = 65500; i <= 65536u + last; i++)
		send_ok(d, tx, NULL, (uint16_t)i);
	st = state_of(d);
	test_srtp_dir_free(d);
	return st;
}

/*
 * After a restart, a new direction restored with the state authenticates
 * the sender's next packets (ROC 1); the same direction without the
 * restore refuses them all (libsrtp2 assumes ROC 0). Every suite.
 */
Test(srtp_state, a_restored_direction_continues_a_wrapped_stream_and_a_fresh_one_cannot)
{
	unsigned int s, i;

	for (s = 0; s < NSUITES; s++) {
		struct duet_sdes k = test_srtp_key(s);
		srtp_t tx = test_srtp_client(&k, true);
		struct duet_srtp_ssrc_state st = run_past_wrap(&k, tx, 40);
		struct duet_srtp_ctx *fresh = test_srtp_dir_new(&k, NULL);
		struct duet_srtp_ctx *restored = test_srtp_dir_new(&k, NULL);

		cr_assert_eq(st.rtp_in, IDX(1, 40));
		cr_assert_eq(duet_srtp_ctx_restore(restored, &k, NULL, &st, NOW), 0);
		cr_assert_eq(state_of(restored).rtp_in, IDX(1, 40), "reads back as restored");
		for (i = 41; i < 60; i++) {
			struct test_srtp_pkt p, q;

			test_srtp_seal(tx, false, SSRC, (uint16_t)i, &p);
			q = p;
			cr_assert_eq(relay(fresh, &q), DUET_SRTP_AUTH,
				     "suite %u seq %u: without the ROC", s, i);
			cr_assert_eq(relay(restored, &p), DUET_SRTP_OK, "suite %u seq %u", s, i);
		}
		cr_assert_eq(state_of(restored).rtp_in, IDX(1, 59));
		test_srtp_dir_free(fresh);
		test_srtp_dir_free(restored);
	}
}

/*
 * Replays of packets captured before the crash are refused after the
 * restore for good: from inside libsrtp2's window, from below it, and
 * even after the stream moved on. Contrast: libsrtp2 alone, with the same
 * restored stream, takes a pre-crash packet inside its new window.
 */
Test(srtp_state, packets_from_before_the_restore_point_are_replays_for_good)
{
	enum { LAST = 40, NCAP = 65536 + LAST - 65400 + 1 };
	struct duet_sdes k = test_srtp_key(CM80);
	srtp_t tx = test_srtp_client(&k, true);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&k, NULL);
	struct duet_srtp_ctx *raw = test_srtp_dir_new(&k, NULL);
	struct duet_srtp_ssrc_state st;
	static struct test_srtp_pkt cap[NCAP];
	struct test_srtp_pkt p, next;
	unsigned int i;
	int len;

	/* The pre-crash run; seq 30 the relay never saw (lost on the way). */
	for (i = 0; i < NCAP; i++) {
		test_srtp_seal(tx, false, SSRC, (uint16_t)(65400 + i), &cap[i]);
		if (65400 + i != 65536 + 30) {
			p = cap[i];
			cr_assert_eq(relay(d, &p), DUET_SRTP_OK);
		}
	}
	st = state_of(d);
	cr_assert_eq(st.rtp_in, IDX(1, LAST));
	test_srtp_dir_free(d);

	d = test_srtp_dir_new(&k, NULL);
	cr_assert_eq(duet_srtp_ctx_restore(d, &k, NULL, &st, NOW), 0);
	cr_assert_eq(duet_srtp_ctx_restore(raw, &k, NULL, &st, NOW), 0);
	/* Before any new packet: the restore point itself and all below. */
	for (i = 0; i < NCAP; i++) {
		p = cap[i];
		cr_assert_eq(relay(d, &p), DUET_SRTP_REPLAY, "pre-crash seq %u", (65400 + i) & 0xffff);
	}
	test_srtp_seal(tx, false, SSRC, LAST + 1, &p);
	next = p;
	cr_assert_eq(relay(d, &next), DUET_SRTP_OK);
#ifndef DUET_TEST_ENGINE_BURST
	/* libsrtp2 alone: seq 41 opens its window at index (1, 41), and the
	 * lost seq 30 sits inside it with its bit unset. (The contrast is
	 * libsrtp2's: the burst engine's restored window is full.) */
	len = p.len;
	cr_assert_eq(srtp_set_stream_roc(raw->in->s, SSRC, 1), srtp_err_status_ok);
	cr_assert_eq(srtp_unprotect(raw->in->s, p.wire, &len), srtp_err_status_ok);
	p = cap[65536 + 30 - 65400];
	len = p.len;
	cr_assert_eq(srtp_unprotect(raw->in->s, p.wire, &len), srtp_err_status_ok,
		     "libsrtp2 alone takes the pre-crash seq 30");
#else
	(void)len;
#endif
	p = cap[65536 + 30 - 65400];
	cr_assert_eq(relay(d, &p), DUET_SRTP_REPLAY, "duet's floor refuses it");
	/* Far on (past libsrtp2's window and a ROC later), still refused. */
	for (i = LAST + 2; i < 65536 + 100; i += 97)
		send_ok(d, tx, NULL, (uint16_t)i);
	for (i = 0; i < NCAP; i += 7) {
		p = cap[i];
		cr_assert_neq(relay(d, &p), DUET_SRTP_OK, "pre-crash seq %u", (65400 + i) & 0xffff);
	}
	test_srtp_dir_free(d);
	test_srtp_dir_free(raw);
}

/*
 * The sender went on while duetd was down and wrapped again: the first
 * packet after the restore is estimated against the restored index, so
 * libsrtp2's stream is told ROC 2, not the restored 1.
 */
Test(srtp_state, a_sequence_that_wrapped_while_duetd_was_down_is_followed)
{
	static const enum duet_srtp_suite su[] = { CM32, GCM128 };
	unsigned int s, i;

	for (s = 0; s < 2; s++) {
		struct duet_sdes k = test_srtp_key(su[s]);
		srtp_t tx = test_srtp_client(&k, true);
		struct duet_srtp_ctx *d = test_srtp_dir_new(&k, NULL);
		struct duet_srtp_ssrc_state st;
		struct test_srtp_pkt p;

		/* ROC 0 -> 1 while the relay saw it (every 10000th packet, so
		 * that each is within 2^15 of the last), then ROC 1 -> 2 unseen. */
		for (i = 65530; i < 65536 + 65530; i++) {
			test_srtp_seal(tx, false, SSRC, (uint16_t)i, &p);
			if (i % 10000 == 0 || i == 65530 || i == 65536 + 65529)
				cr_assert_eq(relay(d, &p), DUET_SRTP_OK, "seq %u", i & 0xffff);
		}
		st = state_of(d);
		cr_assert_eq(st.rtp_in, IDX(1, 65529));
		test_srtp_dir_free(d);
		d = test_srtp_dir_new(&k, NULL);
		cr_assert_eq(duet_srtp_ctx_restore(d, &k, NULL, &st, NOW), 0);
		for (i = 65536 + 65530; i < 2 * 65536 + 20; i++)
			test_srtp_seal(tx, false, SSRC, (uint16_t)i, &p); /* lost while down */
		send_ok(d, tx, NULL, 20);
		cr_assert_eq(state_of(d).rtp_in, IDX(2, 20), "suite %d", su[s]);
		send_ok(d, tx, NULL, 21);
		test_srtp_dir_free(d);
	}
}

/* SRTCP: an index at or below the restored one is a replay; the next one
 * authenticates (SRTCP carries its index: no ROC to restore). */
Test(srtp_state, a_restored_srtcp_floor_refuses_older_srtcp)
{
	static const enum duet_srtp_suite su[] = { CM80, GCM256 };
	unsigned int s, i;

	for (s = 0; s < 2; s++) {
		struct duet_sdes k = test_srtp_key(su[s]);
		srtp_t tx = test_srtp_client(&k, true);
		struct duet_srtp_ctx *d = test_srtp_dir_new(&k, NULL);
		struct duet_srtp_ssrc_state st;
		struct test_srtp_pkt r[6], p;

		for (i = 0; i < 6; i++)
			test_srtp_seal(tx, true, SSRC, (uint16_t)i, &r[i]); /* SRTCP indexes 1..6 */
		for (i = 0; i < 5; i++) {
			p = r[i];
			cr_assert_eq(relay(d, &p), DUET_SRTP_OK);
		}
		st = state_of(d);
		cr_assert_eq(st.has, DUET_SRTP_HAS_SRTCP_IN, "SRTCP only");
		cr_assert_eq(st.srtcp_in, 5);
		test_srtp_dir_free(d);
		d = test_srtp_dir_new(&k, NULL);
		cr_assert_eq(duet_srtp_ctx_restore(d, &k, NULL, &st, NOW), 0);
		for (i = 0; i < 5; i++) {
			p = r[i];
			cr_assert_eq(relay(d, &p), DUET_SRTP_REPLAY, "suite %d SRTCP %u", su[s], i + 1);
		}
		p = r[5];
		cr_assert_eq(relay(d, &p), DUET_SRTP_OK);
		cr_assert_eq(state_of(d).srtcp_in, 6);
		/* RTP of the SSRC starts as any new stream does. */
		send_ok(d, tx, NULL, 9);
		cr_assert_eq(state_of(d).rtp_in, IDX(0, 9));
		test_srtp_dir_free(d);
	}
}

/* ---- restoring: rekey ------------------------------------------------------ */

/*
 * Rekey: the receiver's libsrtp2 is past the wrap (ROC 1). A relay
 * restored with the inbound and outbound state re-protects the sender's
 * next packets so that the receiver opens them; restored with the inbound
 * state only, it authenticates them but seals them at ROC 0, and the
 * receiver cannot open one. Every suite pairing of one CM and one GCM.
 */
Test(srtp_state, rekey_restored_outbound_stream_continues_at_the_receivers_roc)
{
	static const enum duet_srtp_suite su[][2] = { { CM80, GCM128 }, { GCM256, CM32 } };
	unsigned int s, i;

	for (s = 0; s < 2; s++) {
		struct duet_sdes kin = test_srtp_key(su[s][0]), kout = test_srtp_key(su[s][1]);
		srtp_t tx = test_srtp_client(&kin, true), rx = test_srtp_client(&kout, false);
		struct duet_srtp_ctx *d = test_srtp_dir_new(&kin, &kout), *half;
		struct duet_srtp_ssrc_state st, in_only;

		for (i = 65500; i <= 65536 + 40; i++)
			send_ok(d, tx, rx, (uint16_t)i);
		st = state_of(d);
		cr_assert_eq(st.has, DUET_SRTP_HAS_RTP_IN | DUET_SRTP_HAS_RTP_OUT);
		cr_assert_eq(st.rtp_in, IDX(1, 40));
		cr_assert_eq(st.rtp_out, IDX(1, 40));
		test_srtp_dir_free(d);

		d = test_srtp_dir_new(&kin, &kout);
		half = test_srtp_dir_new(&kin, &kout);
		in_only = st;
		in_only.has = DUET_SRTP_HAS_RTP_IN;
		cr_assert_eq(duet_srtp_ctx_restore(d, &kin, &kout, &st, NOW), 0);
		cr_assert_eq(duet_srtp_ctx_restore(half, &kin, &kout, &in_only, NOW), 0);
		for (i = 41; i < 50; i++) {
			struct test_srtp_pkt p, q;

			test_srtp_seal(tx, false, SSRC, (uint16_t)i, &p);
			q = p;
			cr_assert_eq(relay(half, &q), DUET_SRTP_OK);
			cr_assert_not(test_srtp_opens(rx, &q), "sealed at ROC 0: seq %u", i);
			cr_assert_eq(relay(d, &p), DUET_SRTP_OK);
			cr_assert(test_srtp_opens(rx, &p), "suite %u seq %u", s, i);
		}
		st = state_of(d);
		cr_assert_eq(st.rtp_out, IDX(1, 49));
		test_srtp_dir_free(d);
		test_srtp_dir_free(half);
	}
}

/* Rekey never protects an index at or below the outbound floor, even when
 * the inbound side (restored lower, or not at all) lets the packet in. */
Test(srtp_state, rekey_never_protects_an_index_at_or_below_the_outbound_floor)
{
	struct duet_sdes kin = test_srtp_key(CM80), kout = test_srtp_key(GCM128);
	srtp_t tx = test_srtp_client(&kin, true), rx = test_srtp_client(&kout, false);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&kin, &kout);
	struct duet_srtp_ssrc_state st = {
		.ssrc = SSRC, .rtp_out = IDX(0, 100), .has = DUET_SRTP_HAS_RTP_OUT,
	};
	struct test_srtp_pkt p;

	cr_assert_eq(duet_srtp_ctx_restore(d, &kin, &kout, &st, NOW), 0);
	test_srtp_seal(tx, false, SSRC, 100, &p);
	cr_assert_eq(relay(d, &p), DUET_SRTP_REPLAY, "index 100 went out before");
	send_ok(d, tx, rx, 101);
	cr_assert_eq(state_of(d).rtp_out, IDX(0, 101));
	test_srtp_dir_free(d);
}

/* ---- a key rotation, and what a restore refuses ------------------------ */

/*
 * A new sender key (rotation: the old session becomes in_prev) starts the
 * SSRC's streams afresh: the direction reports nothing of the SSRC until
 * a packet under the new key authenticates, then that stream (at ROC 0,
 * as libsrtp2 starts it), not the old key's, and the old floor is gone.
 */
Test(srtp_state, a_key_rotation_starts_the_track_afresh)
{
	struct duet_sdes k1 = test_srtp_key(CM80), k2 = test_srtp_key(CM80);
	srtp_t tx1 = test_srtp_client(&k1, true), tx2 = test_srtp_client(&k2, true);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&k1, NULL);
	struct duet_srtp_ssrc_state st = {
		.ssrc = SSRC, .rtp_in = IDX(0, 500), .has = DUET_SRTP_HAS_RTP_IN,
	};
	struct duet_srtp_ssrc_state got;
	struct test_srtp_pkt old, p;

	cr_assert_eq(duet_srtp_ctx_restore(d, &k1, NULL, &st, NOW), 0);
	test_srtp_seal(tx1, false, SSRC, 400, &old);
	p = old;
	cr_assert_eq(relay(d, &p), DUET_SRTP_REPLAY, "below the restored floor");
	send_ok(d, tx1, NULL, 501);
	/* The rotation, as pair_crypto_rotate() publishes it. */
	d->in_prev = d->in;
	d->prev_until_tsc = NOW + 1000;
	d->in = duet_srtp_sess_new(&k2, DUET_SRTP_INBOUND, true);
	cr_assert_not_null(d->in);
	cr_assert_eq(duet_srtp_ctx_read(d, &got, 1, NULL), 0, "nothing of the new key yet");
	p = old;
	cr_assert_eq(relay(d, &p), DUET_SRTP_REPLAY, "the old key's floor holds in grace");
	send_ok(d, tx2, NULL, 7);
	got = state_of(d);
	cr_assert_eq(got.rtp_in, IDX(0, 7), "the new key's stream, from ROC 0");
	send_ok(d, tx2, NULL, 400); /* under the old track this was a replay */
	cr_assert_eq(state_of(d).rtp_in, IDX(0, 400));
	test_srtp_dir_free(d);
}

Test(srtp_state, read_is_bounded_and_a_restore_refuses_what_does_not_fit)
{
	struct duet_sdes k = test_srtp_key(CM80), other = test_srtp_key(GCM128);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&k, NULL);
	struct duet_srtp_ssrc_state st = { .ssrc = 1, .rtp_in = IDX(0, 9), .has = DUET_SRTP_HAS_RTP_IN };
	struct duet_srtp_ssrc_state got[DUET_SRTP_MAX_SSRC];
	unsigned int i;

	cr_assert_eq(duet_srtp_ctx_restore(d, &k, NULL, &st, NOW), 0);
	cr_assert_eq(duet_srtp_ctx_restore(d, &k, NULL, &st, NOW), -EEXIST);
	st.ssrc = 2;
	cr_assert_eq(duet_srtp_ctx_restore(d, &other, NULL, &st, NOW), -EINVAL, "not the key");
	st.has = DUET_SRTP_HAS_RTP_OUT;
	st.rtp_out = 1;
	cr_assert_eq(duet_srtp_ctx_restore(d, &k, NULL, &st, NOW), -EINVAL, "verify: no out");
	st.has = 0;
	cr_assert_eq(duet_srtp_ctx_restore(d, &k, NULL, &st, NOW), -EINVAL, "nothing");
	st.has = DUET_SRTP_HAS_RTP_IN;
	st.rtp_in = 1ull << 48;
	cr_assert_eq(duet_srtp_ctx_restore(d, &k, NULL, &st, NOW), -EINVAL, "past 48 bits");
	st.rtp_in = 5;
	cr_assert_eq(duet_srtp_ctx_read(d, got, DUET_SRTP_MAX_SSRC, NULL), 1, "refusals left nothing");
	for (i = 2; i <= DUET_SRTP_MAX_SSRC; i++) {
		st.ssrc = i;
		cr_assert_eq(duet_srtp_ctx_restore(d, &k, NULL, &st, NOW), 0);
	}
	st.ssrc = 99;
	cr_assert_eq(duet_srtp_ctx_restore(d, &k, NULL, &st, NOW), -ENOSPC);
	cr_assert_eq(duet_srtp_ctx_read(d, got, DUET_SRTP_MAX_SSRC, NULL), DUET_SRTP_MAX_SSRC);
	cr_assert_eq(duet_srtp_ctx_read(d, got, 3, NULL), -ENOSPC);
	for (i = 0; i < DUET_SRTP_MAX_SSRC; i++)
		cr_assert_eq(got[i].ssrc, i + 1);
	test_srtp_dir_free(d);
}

/* A silent restored SSRC is evicted for a new one like any other; the
 * tracks move with their entries. */
Test(srtp_state, eviction_keeps_each_track_with_its_ssrc)
{
	struct duet_sdes k = test_srtp_key(CM80);
	srtp_t tx = test_srtp_client(&k, true);
	struct duet_srtp_ctx *d = test_srtp_dir_new(&k, NULL);
	struct duet_srtp_ssrc_state st = { .rtp_in = IDX(3, 3), .has = DUET_SRTP_HAS_RTP_IN };
	struct duet_srtp_ssrc_state got[DUET_SRTP_MAX_SSRC];
	uint64_t removed = 0;
	struct test_srtp_pkt p;
	unsigned int i;
	int idx, victim, n;

	for (i = 0; i < DUET_SRTP_MAX_SSRC; i++) {
		st.ssrc = 100 + i;
		st.rtp_in = IDX(3, i);
		/* Entry 0 heard from long ago, the rest now. */
		cr_assert_eq(duet_srtp_ctx_restore(d, &k, NULL, &st, i == 0 ? 1 : NOW), 0);
	}
	test_srtp_seal(tx, false, SSRC, 5, &p);
	cr_assert(duet_srtp_ctx_take(d));
	idx = duet_srtp_admit(d, p.wire, p.len, DUET_SRTP_MAX_SSRC, NOW + SILENCE, SILENCE, &victim);
	cr_assert_eq(idx, DUET_SRTP_ADMIT_NEW);
	cr_assert_eq(victim, 0);
	cr_assert_eq(duet_srtp_verify(d, p.wire, p.len, scratch, NOW + SILENCE), DUET_SRTP_OK);
	duet_srtp_admitted(d, idx, victim, p.wire, p.len, NOW + SILENCE, &removed);
	duet_srtp_ctx_give(d);
	cr_assert_eq(removed, 1);
	n = duet_srtp_ctx_read(d, got, DUET_SRTP_MAX_SSRC, NULL);
	cr_assert_eq(n, DUET_SRTP_MAX_SSRC);
	for (i = 0; i < (unsigned int)n; i++) {
		cr_assert_neq(got[i].ssrc, 100, "the silent one went");
		if (got[i].ssrc == SSRC)
			cr_assert_eq(got[i].rtp_in, IDX(0, 5));
		else
			cr_assert_eq(got[i].rtp_in, IDX(3, got[i].ssrc - 100), "ssrc %u", got[i].ssrc);
	}
	test_srtp_dir_free(d);
}
