/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/pair/duet_pair_crypto.c: a keyed pair's SRTP sessions,
 * seen through the table's public API (duet_pair_put/del/reclaim) and the
 * accessor the workers use (duet_pair_srtp_at). The clients are libsrtp2
 * sessions the test makes itself (../srtp/srtp_client.c: srtp_create and
 * a policy written out from RFC 3711/4568/7714 rather than taken from
 * lib/srtp, so a wrong suite mapping in duet would not be mirrored by its
 * own test); every
 * claim that a relay session "works" is a real packet authenticated,
 * re-encrypted or refused. The control thread is this test's main thread;
 * where a worker must hold a session across a reclaim, the same thread
 * plays worker 0 (registered, not yet quiescent), and ASan sees a session
 * used after it was freed. That a session really is freed is counted:
 * meson.build links this test with --wrap for duet_srtp_sess_new/_free, so
 * `live` is the number of the relay's sessions in existence (LeakSanitizer
 * cannot say: a Criterion test process that leaks still passes). Criterion
 * runs each test in its own process with an EAL of its own (no hugepages,
 * no shared files, a file prefix per pid).
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
#define PKT_CAP TEST_SRTP_PKT_CAP

static struct duet_pair_table *t;
static uint8_t scratch[DUET_SRTP_SCRATCH] __attribute__((aligned(64)));
static int live; /* the relay's SRTP sessions made and not yet freed */

struct duet_srtp_sess *__real_duet_srtp_sess_new(const struct duet_sdes *k,
						 enum duet_srtp_dir dir, bool verify_only);
struct duet_srtp_sess *__wrap_duet_srtp_sess_new(const struct duet_sdes *k,
						 enum duet_srtp_dir dir, bool verify_only);
void __real_duet_srtp_sess_free(struct duet_srtp_sess *x);
void __wrap_duet_srtp_sess_free(struct duet_srtp_sess *x);

struct duet_srtp_sess *
__wrap_duet_srtp_sess_new(const struct duet_sdes *k, enum duet_srtp_dir dir, bool verify_only)
{
	struct duet_srtp_sess *x = __real_duet_srtp_sess_new(k, dir, verify_only);

	live += x != NULL;
	return x;
}

void
__wrap_duet_srtp_sess_free(struct duet_srtp_sess *x)
{
	live -= x != NULL;
	__real_duet_srtp_sess_free(x);
}

static void
eal_up(void)
{
	pair_test_eal_up("test_duet_pair_crypto", "paircrypto");
	t = duet_pair_table_create("tc", 4, 1, SOCKET_ID_ANY, pair_test_space());
	cr_assert_not_null(t, "table create: %s", rte_strerror(rte_errno));
}

static void
eal_down(void)
{
	test_srtp_clients_free();
	pair_test_eal_down(&t);
}

TestSuite(pair_crypto, .init = eal_up, .fini = eal_down, .timeout = 60);

/* ---- keys, specs and the table -------------------------------------------- */

/* A verify pair: a_in and b_in of the given suites. */
static struct duet_pair_spec
verify_pair(const char *id, uint8_t host, enum duet_srtp_suite a, enum duet_srtp_suite b)
{
	struct duet_pair_spec s = pair_test_spec(id, host, DUET_MODE_VERIFY);

	s.key[DUET_KEY_A_IN] = test_srtp_key(a);
	s.key[DUET_KEY_B_IN] = test_srtp_key(b);
	return s;
}

/* A rekey pair, one suite per key (a_in, a_out, b_in, b_out). */
static struct duet_pair_spec
rekey_pair(const char *id, uint8_t host, const enum duet_srtp_suite su[DUET_KEY_COUNT])
{
	struct duet_pair_spec s = pair_test_spec(id, host, DUET_MODE_REKEY);
	unsigned int k;

	for (k = 0; k < DUET_KEY_COUNT; k++)
		s.key[k] = test_srtp_key(su[k]);
	return s;
}

static int
put(const struct duet_pair_spec *s, char *why)
{
	why[0] = '\0';
	return duet_pair_put(t, s, 1000, NULL, why, DUET_PAIR_REASON_MAX);
}

/* Put s as a new pair and return its slot. */
static uint32_t
add(const struct duet_pair_spec *s)
{
	char why[DUET_PAIR_REASON_MAX];
	int slot;

	cr_assert_eq(put(s, why), 0, "put %s: %s", s->id, why);
	slot = duet_pair_find(t, s->id);
	cr_assert_geq(slot, 0);
	return (uint32_t)slot;
}

/* The direction serving packets that arrive at leg `leg` of slot. */
static struct duet_srtp_ctx *
dir_of(uint32_t slot, unsigned int leg)
{
	struct duet_srtp_ctx *d = duet_pair_srtp_at(t, 2 * slot + leg);

	cr_assert_not_null(d, "slot %u leg %c has no SRTP state", slot, 'a' + leg);
	return d;
}

/* The keys of a spec the table handed out hold no byte of a key. */
static bool
keyless(const struct duet_sdes key[DUET_KEY_COUNT])
{
	static const struct duet_sdes none[DUET_KEY_COUNT];

	return memcmp(key, none, sizeof(none)) == 0;
}

/* ---- what a worker does -------------------------------------------------- */

/* What a worker does with p in verify mode, on the direction of leg_idx
 * (holding it, as workers do), at TSC now. */
static enum duet_srtp_verdict
verify_at(uint32_t leg_idx, const struct test_srtp_pkt *p, uint64_t now)
{
	struct duet_srtp_ctx *d = duet_pair_srtp_at(t, leg_idx);
	enum duet_srtp_verdict v;

	cr_assert_not_null(d);
	cr_assert(duet_srtp_ctx_take(d));
	v = duet_srtp_verify(d, p->wire, p->len, scratch, now);
	duet_srtp_ctx_give(d);
	return v;
}

/* Rekey mode: the relay re-protects p in place for the other leg. */
static enum duet_srtp_verdict
rekey_at(uint32_t leg_idx, struct test_srtp_pkt *p, uint64_t now)
{
	struct duet_srtp_ctx *d = duet_pair_srtp_at(t, leg_idx);
	enum duet_srtp_verdict v;

	cr_assert_not_null(d);
	cr_assert(duet_srtp_ctx_take(d));
	v = duet_srtp_rekey(d, p->wire, &p->len, PKT_CAP, scratch, now);
	duet_srtp_ctx_give(d);
	return v;
}

/* The receiving client rx opens what the relay sent to p's plaintext. */
static void
expect_opens(srtp_t rx, const struct test_srtp_pkt *p)
{
	cr_assert(test_srtp_opens(rx, p), "receiver cannot open the relayed packet, or its "
		  "plaintext changed on the way");
}

/* ---- which sessions a pair gets ------------------------------------------ */

Test(pair_crypto, passthrough_pair_has_no_srtp_state_on_either_leg)
{
	struct duet_pair_spec ps = pair_test_spec("p", 1, DUET_MODE_PASSTHROUGH);
	struct duet_pair_spec vs = verify_pair("v", 2, CM80, CM80);
	uint32_t p = add(&ps), v = add(&vs);

	cr_assert_null(duet_pair_srtp_at(t, 2 * p));
	cr_assert_null(duet_pair_srtp_at(t, 2 * p + 1));
	cr_assert_eq(live, 2, "%d sessions: verify needs a_in and b_in only", live);
	/* The keyed pair beside it has its own. */
	cr_assert_not_null(duet_pair_srtp_at(t, 2 * v));
	cr_assert_not_null(duet_pair_srtp_at(t, 2 * v + 1));
}

/*
 * Verify: one inbound session per leg, for the key of the client that
 * sends to that leg and of that key's suite; no outbound session. Each
 * authenticates its sender's real SRTP and SRTCP, refuses the other
 * sender's and anything tampered with, and keeps a replay window.
 */
Test(pair_crypto, verify_pair_authenticates_each_senders_key_on_its_own_leg_only)
{
	struct duet_pair_spec s = verify_pair("v", 1, CM80, GCM128);
	uint32_t slot = add(&s);
	struct duet_srtp_ctx *da = dir_of(slot, 0), *db = dir_of(slot, 1);
	srtp_t a = test_srtp_client(&s.key[DUET_KEY_A_IN], true);
	srtp_t b = test_srtp_client(&s.key[DUET_KEY_B_IN], true);
	uint64_t now = rte_rdtsc();
	struct test_srtp_pkt pa, pb, pc;

	cr_assert_neq(da, db);
	cr_assert_not_null(da->in);
	cr_assert_not_null(db->in);
	cr_assert_eq(da->in->suite, CM80, "leg a checks a_in");
	cr_assert_eq(db->in->suite, GCM128, "leg b checks b_in");
	cr_assert_eq(da->in->rtp_auth_only, 1, "AES-CM in verify only checks the tag");
	cr_assert_eq(db->in->rtp_auth_only, 0, "GCM can only be checked by decrypting");
	cr_assert_null(da->out, "verify never re-protects");
	cr_assert_null(db->out);
	cr_assert_null(da->in_prev);
	cr_assert_null(db->in_prev);
	cr_assert_eq(live, 2);

	test_srtp_seal(a, false, SSRC_A, 1, &pa);
	test_srtp_seal(b, false, SSRC_B, 1, &pb);
	cr_assert_eq(verify_at(2 * slot, &pa, now), DUET_SRTP_OK);
	cr_assert_eq(verify_at(2 * slot + 1, &pb, now), DUET_SRTP_OK);
	cr_assert_eq(verify_at(2 * slot + 1, &pa, now), DUET_SRTP_AUTH, "a's key on leg b");
	cr_assert_eq(verify_at(2 * slot, &pb, now), DUET_SRTP_AUTH, "b's key on leg a");
	cr_assert_eq(verify_at(2 * slot, &pa, now), DUET_SRTP_REPLAY);

	test_srtp_seal(a, false, SSRC_A, 2, &pc);
	pc.wire[40] ^= 0x01;
	cr_assert_eq(verify_at(2 * slot, &pc, now), DUET_SRTP_AUTH, "tampered payload");
	test_srtp_seal(a, true, SSRC_A, 1, &pc);
	cr_assert_eq(verify_at(2 * slot, &pc, now), DUET_SRTP_OK, "SRTCP of a");
	test_srtp_seal(b, true, SSRC_B, 1, &pc);
	cr_assert_eq(verify_at(2 * slot + 1, &pc, now), DUET_SRTP_OK, "SRTCP of b");
}

/*
 * Rekey: leg a's direction opens with a_in and seals with b_out (its
 * packets go to b), leg b's opens with b_in and seals with a_out; four
 * different suites, so a key used on the wrong side shows.
 */
Test(pair_crypto, rekey_pair_opens_with_the_senders_key_and_seals_with_the_receivers)
{
	static const enum duet_srtp_suite su[DUET_KEY_COUNT] = { CM32, GCM256, GCM128, CM80 };
	struct duet_pair_spec s = rekey_pair("r", 1, su);
	uint32_t slot = add(&s);
	struct duet_srtp_ctx *da = dir_of(slot, 0), *db = dir_of(slot, 1);
	srtp_t a_tx = test_srtp_client(&s.key[DUET_KEY_A_IN], true);
	srtp_t b_tx = test_srtp_client(&s.key[DUET_KEY_B_IN], true);
	srtp_t a_rx = test_srtp_client(&s.key[DUET_KEY_A_OUT], false);
	srtp_t b_rx = test_srtp_client(&s.key[DUET_KEY_B_OUT], false);
	uint64_t now = rte_rdtsc();
	struct test_srtp_pkt p;

	cr_assert_eq(da->in->suite, CM32);
	cr_assert_eq(da->out->suite, CM80, "packets from a leave with b_out");
	cr_assert_eq(db->in->suite, GCM128);
	cr_assert_eq(db->out->suite, GCM256, "packets from b leave with a_out");
	cr_assert_eq(da->in->rtp_auth_only, 0, "rekey decrypts");
	cr_assert_null(da->in_prev);
	cr_assert_null(db->in_prev);
	cr_assert_eq(live, 4);

	test_srtp_seal(a_tx, false, SSRC_A, 1, &p);
	cr_assert_eq(rekey_at(2 * slot, &p, now), DUET_SRTP_OK);
	expect_opens(b_rx, &p);
	test_srtp_seal(a_tx, true, SSRC_A, 1, &p);
	cr_assert_eq(rekey_at(2 * slot, &p, now), DUET_SRTP_OK);
	expect_opens(b_rx, &p);

	test_srtp_seal(b_tx, false, SSRC_B, 1, &p);
	cr_assert_eq(rekey_at(2 * slot + 1, &p, now), DUET_SRTP_OK);
	expect_opens(a_rx, &p);
	test_srtp_seal(b_tx, true, SSRC_B, 1, &p);
	cr_assert_eq(rekey_at(2 * slot + 1, &p, now), DUET_SRTP_OK);
	expect_opens(a_rx, &p);

	test_srtp_seal(b_tx, false, SSRC_B, 2, &p);
	cr_assert_eq(rekey_at(2 * slot, &p, now), DUET_SRTP_AUTH, "b's key on leg a");
}

/* A key libsrtp2 cannot use (a length the suite does not have) refuses the
 * whole pair, names the key, and leaves nothing behind: the sessions made
 * for the keys before it are freed. */
Test(pair_crypto, a_new_pair_with_an_unusable_key_is_refused_naming_it)
{
	static const enum duet_srtp_suite su[DUET_KEY_COUNT] = { CM80, CM80, CM80, CM80 };
	struct duet_pair_spec v = verify_pair("v", 1, CM80, CM80);
	struct duet_pair_spec r = rekey_pair("r", 2, su);
	char why[DUET_PAIR_REASON_MAX];

	v.key[DUET_KEY_B_IN].key_len = 29;
	cr_assert_eq(put(&v, why), -EINVAL);
	cr_assert_not_null(strstr(why, "b_in"), "reason does not name the key: %s", why);
	r.key[DUET_KEY_A_OUT].suite = (enum duet_srtp_suite)DUET_SRTP_SUITE_COUNT;
	cr_assert_eq(put(&r, why), -EINVAL);
	cr_assert_not_null(strstr(why, "a_out"), "reason does not name the key: %s", why);

	cr_assert_eq(live, 0, "%d sessions of refused pairs left", live);
	cr_assert_eq(duet_pair_count(t), 0);
	cr_assert_eq(duet_pair_find(t, "v"), -ENOENT);
	cr_assert_eq(duet_pair_find_endpoint(t, &v.ep[0], NULL), -ENOENT);
	cr_assert_eq(duet_pair_find_endpoint(t, &r.ep[1], NULL), -ENOENT);
}

/* ---- key rotation ---------------------------------------------------------- */

/*
 * A put with a new a_in switches leg a to it at once and keeps the old key
 * for DUET_PAIR_KEY_GRACE_MS, measured on the TSC: the control thread reads
 * it inside duet_pair_put and a worker passes its own reading to the fast
 * path. The test brackets the put with two readings, so "inside" (a clock
 * before the first reading plus the grace) and "after" (the second reading
 * plus the grace) hold whatever the scheduler did, without sleeping 10 s.
 */
Test(pair_crypto, rotation_uses_the_new_sender_key_at_once_and_the_old_one_only_during_grace)
{
	struct duet_pair_spec s = verify_pair("v", 1, CM80, CM80);
	uint64_t grace = rte_get_tsc_hz() / 1000 * DUET_PAIR_KEY_GRACE_MS;
	uint32_t slot = add(&s), a = 2 * slot;
	struct duet_srtp_ctx *da = dir_of(slot, 0);
	srtp_t old_tx = test_srtp_client(&s.key[DUET_KEY_A_IN], true), new_tx;
	srtp_t b_tx = test_srtp_client(&s.key[DUET_KEY_B_IN], true);
	char why[DUET_PAIR_REASON_MAX];
	uint64_t before, after;
	struct test_srtp_pkt p, q, r;

	test_srtp_seal(old_tx, false, SSRC_A, 1, &p);
	cr_assert_eq(verify_at(a, &p, rte_rdtsc()), DUET_SRTP_OK);

	s.key[DUET_KEY_A_IN] = test_srtp_key(CM80);
	before = rte_rdtsc();
	cr_assert_eq(put(&s, why), 1, "not updated in place: %s", why);
	after = rte_rdtsc();
	new_tx = test_srtp_client(&s.key[DUET_KEY_A_IN], true);
	cr_assert_eq(duet_pair_find(t, "v"), (int)slot);
	cr_assert_eq(dir_of(slot, 0), da, "rotated in place");
	cr_assert_eq(live, 3, "new a_in, old a_in, b_in: %d", live);

	test_srtp_seal(new_tx, false, SSRC_A, 2, &p);
	cr_assert_eq(verify_at(a, &p, after), DUET_SRTP_OK, "the new key works at once");
	test_srtp_seal(old_tx, false, SSRC_A, 3, &q);
	cr_assert_eq(verify_at(a, &q, after), DUET_SRTP_OK, "an old-key packet just after");
	test_srtp_seal(old_tx, false, SSRC_A, 4, &r);
	cr_assert_eq(verify_at(a, &r, before + grace - 1), DUET_SRTP_OK,
		     "an old-key packet at the end of the grace period");
	cr_assert_eq(verify_at(a, &q, after), DUET_SRTP_REPLAY, "the old key's window is kept");
	test_srtp_seal(old_tx, false, SSRC_A, 5, &r);
	cr_assert_eq(verify_at(a, &r, after + grace), DUET_SRTP_AUTH, "old key after the grace");
	test_srtp_seal(new_tx, false, SSRC_A, 6, &r);
	cr_assert_eq(verify_at(a, &r, after + grace), DUET_SRTP_OK);

	/* The same keys again change nothing: the new key's replay window and
	 * the old key's grace both go on. */
	cr_assert_eq(put(&s, why), 1, "%s", why);
	cr_assert_eq(live, 3, "a re-put made sessions");
	cr_assert_eq(verify_at(a, &p, after), DUET_SRTP_REPLAY, "a re-put restarted the window");
	test_srtp_seal(old_tx, false, SSRC_A, 7, &r);
	cr_assert_eq(verify_at(a, &r, after), DUET_SRTP_OK, "a re-put ended the grace");

	/* b's key did not change: its leg has nothing to fall back on. */
	cr_assert_null(dir_of(slot, 1)->in_prev);
	test_srtp_seal(b_tx, false, SSRC_B, 1, &r);
	cr_assert_eq(verify_at(a + 1, &r, after), DUET_SRTP_OK);
}

/*
 * Rekey: a new receiver key (b_out, also a new suite) is used for every
 * packet toward b at once, old-key packets from a included, and the old
 * b_out session goes at the next reclaim (no worker is registered); leg
 * b's sessions, whose keys did not change, go on as they were.
 */
Test(pair_crypto, rotation_of_a_receiver_key_reseals_toward_it_at_once)
{
	static const enum duet_srtp_suite su[DUET_KEY_COUNT] = { CM80, CM80, CM80, CM80 };
	struct duet_pair_spec s = rekey_pair("r", 1, su);
	uint32_t slot = add(&s);
	struct duet_srtp_sess *b_in = dir_of(slot, 1)->in, *a_out = dir_of(slot, 1)->out;
	srtp_t a_old = test_srtp_client(&s.key[DUET_KEY_A_IN], true), a_new;
	srtp_t b_tx = test_srtp_client(&s.key[DUET_KEY_B_IN], true);
	srtp_t a_rx = test_srtp_client(&s.key[DUET_KEY_A_OUT], false);
	srtp_t b_rx_old = test_srtp_client(&s.key[DUET_KEY_B_OUT], false), b_rx_new;
	char why[DUET_PAIR_REASON_MAX];
	uint64_t now;
	struct test_srtp_pkt p;

	test_srtp_seal(a_old, false, SSRC_A, 1, &p);
	cr_assert_eq(rekey_at(2 * slot, &p, rte_rdtsc()), DUET_SRTP_OK);
	expect_opens(b_rx_old, &p);

	s.key[DUET_KEY_A_IN] = test_srtp_key(CM80);
	s.key[DUET_KEY_B_OUT] = test_srtp_key(GCM128);
	cr_assert_eq(put(&s, why), 1, "%s", why);
	now = rte_rdtsc();
	a_new = test_srtp_client(&s.key[DUET_KEY_A_IN], true);
	b_rx_new = test_srtp_client(&s.key[DUET_KEY_B_OUT], false);
	cr_assert_eq(dir_of(slot, 0)->out->suite, GCM128);
	cr_assert_eq(live, 6, "4 + new a_in + new b_out: %d", live);
	duet_pair_reclaim(t);
	cr_assert_eq(live, 5, "the old b_out is not freed: %d", live);

	test_srtp_seal(a_new, false, SSRC_A, 2, &p);
	cr_assert_eq(rekey_at(2 * slot, &p, now), DUET_SRTP_OK);
	expect_opens(b_rx_new, &p);
	test_srtp_seal(a_old, false, SSRC_A, 3, &p);
	cr_assert_eq(rekey_at(2 * slot, &p, now), DUET_SRTP_OK, "old a_in during the grace");
	expect_opens(b_rx_new, &p);

	cr_assert_eq(dir_of(slot, 1)->in, b_in, "b_in did not change");
	cr_assert_eq(dir_of(slot, 1)->out, a_out, "a_out did not change");
	test_srtp_seal(b_tx, false, SSRC_B, 1, &p);
	cr_assert_eq(rekey_at(2 * slot + 1, &p, now), DUET_SRTP_OK);
	expect_opens(a_rx, &p);
}

/*
 * A rotation is all or nothing: a put with a good new a_in and an
 * unusable new b_in is refused naming b_in, and both legs go on with
 * their old keys only (the good new key is not half-published), the rest
 * of the record unchanged. The same new a_in alone then goes through.
 */
Test(pair_crypto, rotation_with_an_unusable_key_is_refused_and_the_old_keys_keep_working)
{
	struct duet_pair_spec s = verify_pair("v", 1, CM80, CM80), bad;
	uint32_t slot = add(&s);
	srtp_t a_old = test_srtp_client(&s.key[DUET_KEY_A_IN], true);
	srtp_t b_old = test_srtp_client(&s.key[DUET_KEY_B_IN], true), a_new;
	char why[DUET_PAIR_REASON_MAX];
	uint64_t now = rte_rdtsc();
	struct test_srtp_pkt p;

	bad = s;
	bad.key[DUET_KEY_A_IN] = test_srtp_key(CM80);
	bad.key[DUET_KEY_B_IN] = test_srtp_key(CM80);
	bad.key[DUET_KEY_B_IN].key_len = 29;
	bad.idle_ms = 777;
	cr_assert_eq(put(&bad, why), -EINVAL);
	cr_assert_not_null(strstr(why, "b_in"), "reason does not name the key: %s", why);
	cr_assert_eq(duet_pair_find(t, "v"), (int)slot, "the pair must keep running");
	cr_assert_eq(spec_of(t, slot)->idle_ms, 0, "a refused put changed the record");
	cr_assert_eq(live, 2, "the refused put's new a_in session is left: %d", live);

	a_new = test_srtp_client(&bad.key[DUET_KEY_A_IN], true);
	test_srtp_seal(a_new, false, SSRC_A, 1, &p);
	cr_assert_eq(verify_at(2 * slot, &p, now), DUET_SRTP_AUTH, "half of a refused put used");
	cr_assert_null(dir_of(slot, 0)->in_prev);
	cr_assert_null(dir_of(slot, 1)->in_prev);
	test_srtp_seal(a_old, false, SSRC_A, 2, &p);
	cr_assert_eq(verify_at(2 * slot, &p, now), DUET_SRTP_OK);
	test_srtp_seal(b_old, false, SSRC_B, 1, &p);
	cr_assert_eq(verify_at(2 * slot + 1, &p, now), DUET_SRTP_OK);

	s.key[DUET_KEY_A_IN] = bad.key[DUET_KEY_A_IN];
	cr_assert_eq(put(&s, why), 1, "%s", why);
	test_srtp_seal(a_new, false, SSRC_A, 3, &p);
	cr_assert_eq(verify_at(2 * slot, &p, rte_rdtsc()), DUET_SRTP_OK);
}

/* ---- freeing after RCU ---------------------------------------------------- */

/* This thread becomes worker 0, online, and looks up leg a's direction of
 * slot as a packet would: it holds it until its next quiescent state. */
static struct duet_srtp_ctx *
worker_holds(uint32_t slot)
{
	cr_assert_eq(duet_pair_worker_register(t, 0), 0);
	duet_pair_quiescent(t, 0);
	return dir_of(slot, 0);
}

/*
 * The pair of slot has ended (deleted or replaced) while worker 0 held its
 * direction d: a reclaim leaves d in the slot, all `want_live` sessions
 * alive, and a packet sealed by client a (the key d checks) authentic;
 * once the worker is quiescent, a reclaim takes the slot's state away.
 */
static void
held_until_quiescent(uint32_t slot, struct duet_srtp_ctx *d, srtp_t a, int want_live)
{
	struct test_srtp_pkt p;

	duet_pair_reclaim(t);
	cr_assert_eq(duet_pair_srtp_at(t, 2 * slot), d, "freed under a worker");
	cr_assert_eq(live, want_live, "%d sessions, %d expected", live, want_live);
	test_srtp_seal(a, false, SSRC_A, 1, &p);
	cr_assert(duet_srtp_ctx_take(d));
	cr_assert_eq(duet_srtp_verify(d, p.wire, p.len, scratch, rte_rdtsc()), DUET_SRTP_OK,
		     "the held direction no longer works");
	duet_srtp_ctx_give(d);
	duet_pair_quiescent(t, 0);
	duet_pair_reclaim(t);
	cr_assert_null(duet_pair_srtp_at(t, 2 * slot), "not freed after the grace period");
	cr_assert_null(duet_pair_srtp_at(t, 2 * slot + 1));
}

/*
 * Two rotations in a row retire the first key's session (only one previous
 * key is kept). A worker that loaded that session before the rotations
 * and has not passed a quiescent state may still be using it: a reclaim
 * must not free it yet (ASan would report the use below).
 */
Test(pair_crypto, a_retired_session_outlives_reclaim_until_the_worker_is_quiescent)
{
	struct duet_pair_spec s = verify_pair("v", 1, CM80, CM80);
	uint32_t slot = add(&s);
	srtp_t k0 = test_srtp_client(&s.key[DUET_KEY_A_IN], true);
	uint8_t buf[PKT_CAP] __attribute__((aligned(8)));
	const struct duet_srtp_sess *held;
	char why[DUET_PAIR_REASON_MAX];
	struct test_srtp_pkt p;
	int len;

	/* This thread, as worker 0, loads leg a's sender session... */
	held = __atomic_load_n(&worker_holds(slot)->in, __ATOMIC_ACQUIRE);
	/* ...and, as the control thread, rotates a_in twice and reclaims. */
	s.key[DUET_KEY_A_IN] = test_srtp_key(CM80);
	cr_assert_eq(put(&s, why), 1, "%s", why);
	s.key[DUET_KEY_A_IN] = test_srtp_key(CM80);
	cr_assert_eq(put(&s, why), 1, "%s", why);
	cr_assert_neq(dir_of(slot, 0)->in, held);
	cr_assert_neq(dir_of(slot, 0)->in_prev, held, "two rotations keep one previous key");
	duet_pair_reclaim(t);
	cr_assert_eq(live, 4, "a_in, its previous, b_in and the held one: %d", live);

	test_srtp_seal(k0, false, SSRC_A, 1, &p);
	len = p.len;
	memcpy(buf, p.wire, (size_t)len);
	cr_assert_eq(duet_srtp_unprotect(held, false, buf, &len), DUET_SRTP_OK,
		     "the held session no longer works");
	test_srtp_seal(k0, false, SSRC_A, 2, &p);
	cr_assert_eq(verify_at(2 * slot, &p, rte_rdtsc()), DUET_SRTP_AUTH,
		     "a key two rotations old is still accepted");

	duet_pair_quiescent(t, 0);
	duet_pair_reclaim(t);
	cr_assert_eq(live, 3, "the retired session is not freed after the grace period");
	duet_pair_worker_unregister(t, 0);
}

/*
 * A deleted keyed pair (one just rotated, so it holds a previous key too):
 * its endpoints stop matching at once, but a worker that found the pair
 * before may still be inside its sessions; they stay (in the slot, usable)
 * through a reclaim until that worker is quiescent, then all go.
 */
Test(pair_crypto, a_deleted_pairs_sessions_are_freed_only_after_the_grace_period)
{
	struct duet_pair_spec s = verify_pair("v", 1, CM80, CM80);
	uint32_t slot = add(&s);
	char why[DUET_PAIR_REASON_MAX];
	struct duet_srtp_ctx *d;
	srtp_t a;

	s.key[DUET_KEY_A_IN] = test_srtp_key(CM80);
	cr_assert_eq(put(&s, why), 1, "%s", why);
	a = test_srtp_client(&s.key[DUET_KEY_A_IN], true);
	d = worker_holds(slot);
	cr_assert_eq(duet_pair_del(t, "v", 2000, NULL), 0);
	cr_assert_eq(duet_pair_find_endpoint(t, &s.ep[0], NULL), -ENOENT);
	held_until_quiescent(slot, d, a, 3);
	cr_assert_eq(live, 0, "%d sessions of the deleted pair left", live);
	duet_pair_worker_unregister(t, 0);
}

/*
 * A keyed pair replaced by a put (here a mode change, verify to rekey):
 * the new pair gets fresh sessions in another slot at once; the old
 * slot's stay for the worker that still holds them until it is quiescent.
 */
Test(pair_crypto, a_replaced_pairs_sessions_are_freed_only_after_the_grace_period)
{
	static const enum duet_srtp_suite su[DUET_KEY_COUNT] = { CM80, CM80, CM80, CM80 };
	struct duet_pair_spec s = verify_pair("v", 1, CM80, CM80);
	struct duet_pair_spec r = rekey_pair("v", 1, su);
	uint32_t slot = add(&s);
	srtp_t a = test_srtp_client(&s.key[DUET_KEY_A_IN], true);
	char why[DUET_PAIR_REASON_MAX];
	struct duet_srtp_ctx *d = worker_holds(slot);
	int nslot;

	cr_assert_eq(put(&r, why), 2, "not a replacement: %s", why);
	nslot = duet_pair_find(t, "v");
	cr_assert_neq(nslot, (int)slot);
	cr_assert_not_null(dir_of((uint32_t)nslot, 0)->out, "the rekey pair seals");
	held_until_quiescent(slot, d, a, 2 + 4); /* the old verify pair's and the new rekey's */
	cr_assert_not_null(duet_pair_srtp_at(t, 2 * (uint32_t)nslot));
	cr_assert_eq(live, 4, "%d sessions: the replaced pair's are left", live);
	duet_pair_worker_unregister(t, 0);
}

/* A replacement whose keys libsrtp2 refuses is refused before the old pair
 * is touched: the call goes on with its old mode, sessions and slot. */
Test(pair_crypto, a_replacement_with_an_unusable_key_leaves_the_old_pair_running)
{
	static const enum duet_srtp_suite su[DUET_KEY_COUNT] = { CM80, CM80, CM80, CM80 };
	struct duet_pair_spec s = verify_pair("v", 1, CM80, CM80);
	struct duet_pair_spec r = rekey_pair("v", 1, su);
	uint32_t slot = add(&s);
	char why[DUET_PAIR_REASON_MAX];

	r.key[DUET_KEY_B_OUT].key_len = 29;
	cr_assert_eq(put(&r, why), -EINVAL);
	cr_assert_not_null(strstr(why, "b_out"), "reason does not name the key: %s", why);
	cr_assert_eq(duet_pair_find(t, "v"), (int)slot, "the old pair is gone");
	cr_assert_eq(spec_of(t, slot)->mode, DUET_MODE_VERIFY);
	cr_assert_not_null(duet_pair_srtp_at(t, 2 * slot), "the old sessions are gone");
	cr_assert_eq(live, 2, "%d sessions: the refused keys' are left", live);
}

/* ---- keys at rest ----------------------------------------------------------- */

/* The keys live in the crypto block only: the spec the table keeps for a
 * keyed pair, after an add and after a rotation, and the final figures of
 * a replaced or deleted one, hold no key byte. */
Test(pair_crypto, the_table_keeps_no_key_in_the_specs_it_hands_out)
{
	static const enum duet_srtp_suite su[DUET_KEY_COUNT] = { GCM256, CM80, CM32, GCM128 };
	struct duet_pair_spec v = verify_pair("v", 1, CM80, GCM128);
	struct duet_pair_spec r = rekey_pair("r", 2, su);
	struct duet_pair_spec moved = rekey_pair("r", 3, su);
	struct duet_pair_put_result res;
	struct duet_pair_final fin;
	char why[DUET_PAIR_REASON_MAX];
	uint32_t sv = add(&v), sr = add(&r);

	cr_assert(keyless(spec_of(t, sv)->key), "verify keys kept");
	cr_assert(keyless(spec_of(t, sr)->key), "rekey keys kept");
	v.key[DUET_KEY_B_IN] = test_srtp_key(CM32);
	cr_assert_eq(put(&v, why), 1, "%s", why);
	cr_assert(keyless(spec_of(t, sv)->key), "rotated keys kept");

	memset(&res, 0xff, sizeof(res));
	cr_assert_eq(duet_pair_put(t, &moved, 2000, &res, why, sizeof(why)), 2, "%s", why);
	cr_assert_str_eq(res.replaced.spec.id, "r");
	cr_assert(keyless(res.replaced.spec.key),
		  "keys in a replaced pair's figures");
	cr_assert(keyless(spec_of(t, res.slot)->key));
	memset(&fin, 0xff, sizeof(fin));
	cr_assert_eq(duet_pair_del(t, "v", 3000, &fin), 0);
	cr_assert_str_eq(fin.spec.id, "v");
	cr_assert(keyless(fin.spec.key), "keys in a deleted pair's figures");
}

/*
 * Key lifetimes through the table: duet_pair_srtp_key_use() shows each
 * key's room and refusals; the same key put again with another lifetime
 * keeps its session and count under the new limit; a new key starts from
 * 0 (what the control plane's rotation does), and rekey shows all four.
 */
Test(pair_crypto, key_use_follows_the_lifetime_and_a_rotation_restarts_it)
{
	static const enum duet_srtp_suite su[DUET_KEY_COUNT] = {CM80, GCM128, CM32, GCM256};
	struct duet_pair_spec s = verify_pair("v", 1, CM80, CM80);
	struct duet_pair_spec r = rekey_pair("r", 2, su);
	struct duet_pair_key_use u[DUET_KEY_COUNT];
	char why[DUET_PAIR_REASON_MAX];
	struct test_srtp_pkt p;
	uint32_t slot, a;
	srtp_t tx;
	unsigned int i;

	s.key[DUET_KEY_A_IN].lifetime = 4;
	slot = add(&s);
	a = 2 * slot;
	tx = test_srtp_client(&s.key[DUET_KEY_A_IN], true);
	cr_assert_eq(duet_pair_srtp_key_use(t, slot, u), 1 << DUET_KEY_A_IN | 1 << DUET_KEY_B_IN);
	cr_assert_eq(u[DUET_KEY_A_IN].left, 4);
	cr_assert_eq(u[DUET_KEY_B_IN].left, 1ULL << 31, "no lifetime: RFC 3711's SRTCP maximum");
	for (i = 1; i <= 4; i++) {
		test_srtp_seal(tx, false, SSRC_A, (uint16_t)i, &p);
		cr_assert_eq(verify_at(a, &p, rte_rdtsc()), DUET_SRTP_OK, "packet %u", i);
	}
	test_srtp_seal(tx, false, SSRC_A, 5, &p);
	cr_assert_eq(verify_at(a, &p, rte_rdtsc()), DUET_SRTP_KEY_EXPIRED);
	duet_pair_srtp_key_use(t, slot, u);
	cr_assert_eq(u[DUET_KEY_A_IN].left, 0);
	cr_assert_eq(u[DUET_KEY_A_IN].expired, 1);
	cr_assert_eq(u[DUET_KEY_B_IN].expired, 0);

	/* The same key, a longer lifetime: same session, the count goes on. */
	s.key[DUET_KEY_A_IN].lifetime = 6;
	cr_assert_eq(put(&s, why), 1, "%s", why);
	cr_assert_eq(live, 2, "no new session for the same key");
	duet_pair_srtp_key_use(t, slot, u);
	cr_assert_eq(u[DUET_KEY_A_IN].left, 2);
	cr_assert_eq(verify_at(a, &p, rte_rdtsc()), DUET_SRTP_OK, "packet 5, now within it");
	test_srtp_seal(tx, false, SSRC_A, 6, &p);
	cr_assert_eq(verify_at(a, &p, rte_rdtsc()), DUET_SRTP_OK);
	test_srtp_seal(tx, false, SSRC_A, 7, &p);
	cr_assert_eq(verify_at(a, &p, rte_rdtsc()), DUET_SRTP_KEY_EXPIRED);

	/* A new key: counted from 0, nothing expired. */
	s.key[DUET_KEY_A_IN] = test_srtp_key(CM80);
	s.key[DUET_KEY_A_IN].lifetime = 4;
	cr_assert_eq(put(&s, why), 1, "%s", why);
	duet_pair_srtp_key_use(t, slot, u);
	cr_assert_eq(u[DUET_KEY_A_IN].left, 4);
	cr_assert_eq(u[DUET_KEY_A_IN].expired, 0);
	tx = test_srtp_client(&s.key[DUET_KEY_A_IN], true);
	test_srtp_seal(tx, false, SSRC_A, 8, &p);
	cr_assert_eq(verify_at(a, &p, rte_rdtsc()), DUET_SRTP_OK);

	r.key[DUET_KEY_B_OUT].lifetime = 1ULL << 40;
	slot = add(&r);
	cr_assert_eq(duet_pair_srtp_key_use(t, slot, u), 0xf, "rekey: all four keys");
	cr_assert_eq(u[DUET_KEY_B_OUT].left, 1ULL << 31, "SRTCP's 2^31 is the lesser room");
	cr_assert_eq(duet_pair_srtp_key_use(t, 3, u), -ENOENT);
	cr_assert_eq(u[DUET_KEY_A_IN].left, 0, "zeroed");
}
