/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/pair/duet_pair_fp.h: the latching state machine and the
 * leg seqlock, on legs declared here (no EAL, no table). The concurrency
 * tests run their own pthreads standing in for worker lcores; assertions are
 * made on the main thread only, from what the threads recorded.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duet_pair_fp.h"

#define SILENCE 100 /* TSC cycles a client must be quiet before another source takes over */

static const uint8_t mac_x[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_x2[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t mac_y[6] = { 0x02, 0, 0, 0, 0, 0x0c };

static struct duet_addr
addr4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct duet_addr r;

	duet_addr_set4(&r, htonl((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d),
		       htons(port));
	return r;
}

static struct duet_addr
addr6_doc(uint8_t last, uint16_t port)
{
	struct duet_addr r;
	static const uint8_t base[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x11, 0x22, 0x33, 0x44,
					  0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0 };

	memset(&r, 0, sizeof(r));
	r.family = DUET_AF_INET6;
	r.port = htons(port);
	memcpy(r.ip, base, sizeof(base));
	r.ip[15] = last;
	return r;
}

static uint32_t
seq_of(const struct duet_leg *l)
{
	return __atomic_load_n(&l->seq, __ATOMIC_RELAXED);
}

/* Each leg's last-heard time (the pair's fast line in the table): a
 * slot per leg a test uses, found by the leg's address. Each test runs in
 * a process of its own; a test with threads takes its legs' slots first. */
static const struct duet_leg *last_key[16];
static uint64_t last_val[16];

static uint64_t *
last_of(const struct duet_leg *l)
{
	unsigned int i;

	for (i = 0; i < 16 && last_key[i] != NULL; i++)
		if (last_key[i] == l)
			return &last_val[i];
	cr_assert_lt(i, 16);
	last_key[i] = l;
	return &last_val[i];
}

/* The leg's own client, from its 16-byte field. */
static bool
same_client(const struct duet_leg *l, const struct duet_addr *a)
{
	struct duet_addr c;

	duet_leg_addr_(&c, (l->flags & DUET_LEG_F_V6) != 0, l->client_ip, l->client_port);
	return duet_addr_equal(&c, a);
}

/* The leg's copy of its peer's client. */
static bool
same_peer(const struct duet_leg *l, const struct duet_addr *a)
{
	struct duet_addr c;

	duet_leg_addr_(&c, (l->flags & DUET_LEG_F_PEER_V6) != 0, l->peer_ip, l->peer_port);
	return duet_addr_equal(&c, a);
}

static uint8_t
leg_state(const struct duet_leg *l)
{
	return (l->flags & DUET_LEG_F_LATCHED) ? DUET_LEG_LATCHED : DUET_LEG_WAITING;
}

/* Pinned the way the control thread pins: client set (and the peer's
 * copy), no hop MAC yet. */
static void
pin_leg(struct duet_leg *l, struct duet_leg *peer, const struct duet_addr *pin)
{
	memset(l, 0, sizeof(*l));
	memset(peer, 0, sizeof(*peer));
	duet_leg_set_client(l, peer, pin, NULL);
	l->flags |= DUET_LEG_F_PINNED;
}

/* A leg latched to x (mac_x) at TSC 1000 through the real rx path. */
static void
latched_leg(struct duet_leg *l, struct duet_leg *peer, const struct duet_addr *x)
{
	struct duet_leg_view v;

	memset(l, 0, sizeof(*l));
	memset(peer, 0, sizeof(*peer));
	cr_assert_eq(duet_leg_rx(l, last_of(l), peer, x, mac_x, 1000, SILENCE, &v), DUET_LATCH_NEW);
}

Test(pair_fp, leg_is_exactly_one_cache_line)
{
	cr_assert_eq(sizeof(struct duet_leg), 64);
	cr_assert_eq(_Alignof(struct duet_leg), 64);
}

Test(pair_fp, first_packet_latches_and_learns_client_and_hop_mac)
{
	struct duet_addr x = addr4(203, 0, 113, 5, 40000);
	struct duet_leg peer = { 0 };
	struct duet_leg l;
	struct duet_leg_view v;

	memset(&l, 0, sizeof(l));
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &x, mac_x, 1000, SILENCE, &v), DUET_LATCH_NEW);
	cr_assert_eq(v.state, DUET_LEG_LATCHED);
	cr_assert(duet_addr_equal(&v.client, &x));
	cr_assert_eq(v.has_hop_mac, 1);
	cr_assert_arr_eq(v.hop_mac, mac_x, 6);
	/* The leg itself, not only the view, holds the latch. */
	cr_assert_eq(leg_state(&l), DUET_LEG_LATCHED);
	cr_assert(same_client(&l, &x));
	cr_assert_eq((l.flags & DUET_LEG_F_HOP_MAC) != 0, 1);
	cr_assert_arr_eq(l.hop_mac, mac_x, 6);
	cr_assert_eq((l.flags & DUET_LEG_F_PINNED) != 0, 0);
	cr_assert_eq((*last_of(&l)), 1000);
	/* One write-side entry and exit: the sequence moved by two, even. */
	cr_assert_eq(seq_of(&l), 2);
}

Test(pair_fp, client_packet_is_accepted_without_entering_the_write_side)
{
	struct duet_addr x = addr4(203, 0, 113, 5, 40000);
	struct duet_leg peer = { 0 };
	struct duet_leg l;
	struct duet_leg_view v;

	latched_leg(&l, &peer, &x);
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &x, mac_x, 1010, SILENCE, &v), DUET_LATCH_ACCEPT);
	cr_assert(duet_addr_equal(&v.client, &x));
	cr_assert_eq((*last_of(&l)), 1010);
	cr_assert_eq(seq_of(&l), 2, "an unchanged client must not make readers retry");
}

/* A packet arriving at a leg reads that leg's line alone: the peer's
 * client is copied there. The client's own packets must not write the peer
 * leg's line (when a call's legs are on two workers, a line written per
 * packet would move between their cores for every packet), nor enter the
 * leg's write side (readers would retry). */
Test(pair_fp, a_client_packet_leaves_the_peers_line_unwritten)
{
	struct duet_addr x = addr4(192, 0, 2, 1, 4000);
	struct duet_leg l, peer, before;
	struct duet_leg_view v;
	uint32_t seq;

	latched_leg(&l, &peer, &x);
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &x, mac_x, 5000, SILENCE, &v), DUET_LATCH_ACCEPT);
	duet_leg_note_ssrc(&l, 0x1234);
	memcpy(&before, &peer, sizeof(peer));
	seq = seq_of(&l);
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &x, mac_x, 6000, SILENCE, &v), DUET_LATCH_ACCEPT);
	duet_leg_note_ssrc(&l, 0x1234);
	cr_assert_eq(memcmp(&before, &peer, sizeof(peer)), 0, "the peer leg's line was written");
	cr_assert_eq(seq_of(&l), seq, "the leg's write side was entered");
	cr_assert_eq((*last_of(&l)), 6000);
}

/* A latch writes both lines: the leg's client, and the peer leg's copy of
 * it with the next hop, so the peer's packets leave from its own line. */
Test(pair_fp, a_latch_writes_the_peers_copy_and_a_move_or_new_mac_updates_it)
{
	struct duet_addr x = addr4(203, 0, 113, 5, 40000);
	struct duet_addr y = addr4(198, 51, 100, 9, 41000);
	struct duet_leg l, peer;
	struct duet_leg_view pv;

	latched_leg(&l, &peer, &x);
	cr_assert(peer.flags & DUET_LEG_F_PEER);
	cr_assert_not(peer.flags & DUET_LEG_F_LATCHED, "the peer leg itself has no client yet");
	cr_assert(duet_leg_read(&peer, &pv));
	cr_assert_eq(pv.peer_state, DUET_LEG_LATCHED);
	cr_assert(duet_addr_equal(&pv.peer, &x));
	cr_assert_eq(pv.has_peer_mac, 1);
	cr_assert_arr_eq(pv.peer_mac, mac_x, 6);
	cr_assert_eq(seq_of(&peer), 2, "the copy is written inside the peer's write side");
	/* The client's next hop changes: the copy follows. */
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &x, mac_x2, 1010, SILENCE, &pv), DUET_LATCH_ACCEPT);
	cr_assert_arr_eq(peer.peer_mac, mac_x2, 6);
	/* Another source after the silence moves the leg: the copy follows. */
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &y, mac_y, 1010 + SILENCE, SILENCE, &pv),
		     DUET_LATCH_MOVED);
	cr_assert(same_peer(&peer, &y));
	cr_assert_arr_eq(peer.peer_mac, mac_y, 6);
	cr_assert(same_client(&l, &y));
}

/* A latch needs the peer's write side too; while another lcore holds it
 * (latching or pinning the peer leg this instant), the latch gives up and
 * changes nothing, and the client's next packet does it. */
Test(pair_fp, a_latch_that_finds_the_peer_busy_changes_nothing_and_the_next_packet_latches)
{
	struct duet_addr x = addr4(203, 0, 113, 5, 40000);
	struct duet_leg l, peer;
	struct duet_leg_view v;
	uint32_t ps;

	memset(&l, 0, sizeof(l));
	memset(&peer, 0, sizeof(peer));
	cr_assert(duet_leg_write_try(&peer, &ps));
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &x, mac_x, 1000, SILENCE, &v), DUET_LATCH_BUSY);
	cr_assert_eq(leg_state(&l), DUET_LEG_WAITING);
	cr_assert_eq((*last_of(&l)), 0);
	cr_assert_eq(seq_of(&l) & 1, 0, "the leg's own write side was left");
	duet_leg_write_done(&peer, ps);
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &x, mac_x, 1020, SILENCE, &v), DUET_LATCH_NEW);
	cr_assert(same_peer(&peer, &x));
	/* A latched client whose MAC changed while the peer is busy is still
	 * accepted; the new MAC is learnt by a later packet. */
	cr_assert(duet_leg_write_try(&peer, &ps));
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &x, mac_x2, 1030, SILENCE, &v), DUET_LATCH_ACCEPT);
	cr_assert_arr_eq(peer.peer_mac, mac_x, 6);
	duet_leg_write_done(&peer, ps);
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &x, mac_x2, 1040, SILENCE, &v), DUET_LATCH_ACCEPT);
	cr_assert_arr_eq(peer.peer_mac, mac_x2, 6);
	cr_assert_arr_eq(l.hop_mac, mac_x2, 6);
}

Test(pair_fp, other_source_before_silence_is_rejected_and_changes_nothing)
{
	struct duet_addr x = addr4(203, 0, 113, 5, 40000);
	struct duet_addr y = addr4(198, 51, 100, 9, 40000);
	struct duet_addr x_other_port = addr4(203, 0, 113, 5, 40001);
	struct duet_leg peer = { 0 };
	struct duet_leg l;
	struct duet_leg_view v;

	latched_leg(&l, &peer, &x);
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &y, mac_y, 1000 + SILENCE - 1, SILENCE, &v),
		     DUET_LATCH_REJECT);
	/* Same IP, other port is another source too. */
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &x_other_port, mac_x, 1050, SILENCE, &v), DUET_LATCH_REJECT);
	cr_assert(same_client(&l, &x));
	cr_assert_arr_eq(l.hop_mac, mac_x, 6);
	cr_assert_eq((*last_of(&l)), 1000, "a rejected packet must not refresh the client's time");
	cr_assert_eq(seq_of(&l), 2);
}

Test(pair_fp, other_source_after_silence_moves_the_leg)
{
	struct duet_addr x = addr4(203, 0, 113, 5, 40000);
	struct duet_addr y = addr4(198, 51, 100, 9, 41000);
	struct duet_leg peer = { 0 };
	struct duet_leg l;
	struct duet_leg_view v;

	latched_leg(&l, &peer, &x);
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &y, mac_y, 1000 + SILENCE, SILENCE, &v), DUET_LATCH_MOVED);
	cr_assert(duet_addr_equal(&v.client, &y));
	cr_assert(same_client(&l, &y));
	cr_assert_arr_eq(l.hop_mac, mac_y, 6);
	cr_assert_arr_eq(v.hop_mac, mac_y, 6);
	cr_assert_eq((*last_of(&l)), 1000 + SILENCE);
	/* Now the old client is the stranger, and y is not silent. */
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &x, mac_x, 1000 + SILENCE + 10, SILENCE, &v),
		     DUET_LATCH_REJECT);
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &y, mac_y, 1000 + SILENCE + 20, SILENCE, &v),
		     DUET_LATCH_ACCEPT);
	cr_assert_eq((*last_of(&l)), 1000 + SILENCE + 20);
}

Test(pair_fp, pinned_leg_rejects_every_other_source_even_after_silence)
{
	struct duet_addr pin = addr4(203, 0, 113, 7, 5004);
	struct duet_addr y = addr4(198, 51, 100, 9, 5004);
	struct duet_leg peer = { 0 };
	struct duet_leg l;
	struct duet_leg_view v;

	pin_leg(&l, &peer, &pin);

	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &y, mac_y, 1000000, SILENCE, &v), DUET_LATCH_REJECT);
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &y, mac_y, UINT64_MAX, SILENCE, &v), DUET_LATCH_REJECT);
	cr_assert(same_client(&l, &pin));
	cr_assert_eq((l.flags & DUET_LEG_F_HOP_MAC) != 0, 0);
	cr_assert_eq((*last_of(&l)), 0);

	/* The pinned client's first packet is accepted and teaches the hop MAC. */
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &pin, mac_x, 2000000, SILENCE, &v), DUET_LATCH_ACCEPT);
	cr_assert_eq((l.flags & DUET_LEG_F_HOP_MAC) != 0, 1);
	cr_assert_arr_eq(l.hop_mac, mac_x, 6);
	cr_assert_eq((l.flags & DUET_LEG_F_PINNED) != 0, 1);
	cr_assert_eq((*last_of(&l)), 2000000);
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &y, mac_y, 2000000 + 10 * SILENCE, SILENCE, &v),
		     DUET_LATCH_REJECT);
}

Test(pair_fp, hop_mac_is_relearned_when_the_clients_mac_changes)
{
	struct duet_addr x = addr4(203, 0, 113, 5, 40000);
	struct duet_leg peer = { 0 };
	struct duet_leg l;
	struct duet_leg_view v;

	latched_leg(&l, &peer, &x);
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &x, mac_x2, 1010, SILENCE, &v), DUET_LATCH_ACCEPT);
	cr_assert_arr_eq(l.hop_mac, mac_x2, 6);
	cr_assert_arr_eq(v.hop_mac, mac_x2, 6);
	cr_assert(same_client(&l, &x));
	cr_assert_eq((*last_of(&l)), 1010);
	cr_assert_eq(seq_of(&l), 4, "the MAC change goes through the write side");
}

Test(pair_fp, decide_follows_the_latching_rule)
{
	struct duet_addr x = addr4(203, 0, 113, 5, 40000);
	struct duet_addr y = addr6_doc(9, 40000);
	struct duet_leg_view v;

	memset(&v, 0, sizeof(v));
	cr_assert_eq(duet_latch_decide(&v, &y, 0, 0, SILENCE), DUET_LATCH_NEW);
	v.state = DUET_LEG_LATCHED;
	v.client = x;
	cr_assert_eq(duet_latch_decide(&v, &x, 1000, 5000, SILENCE), DUET_LATCH_ACCEPT);
	cr_assert_eq(duet_latch_decide(&v, &y, 1000, 1099, SILENCE), DUET_LATCH_REJECT);
	cr_assert_eq(duet_latch_decide(&v, &y, 1000, 1100, SILENCE), DUET_LATCH_MOVED);
	v.pinned = 1;
	cr_assert_eq(duet_latch_decide(&v, &x, 1000, 1001, SILENCE), DUET_LATCH_ACCEPT);
	cr_assert_eq(duet_latch_decide(&v, &y, 1000, 1ULL << 40, SILENCE), DUET_LATCH_REJECT);
}

/*
 * last_rx_tsc is stored by whichever worker accepted the client's last
 * packet, with that worker's `now`. Another worker whose `now` was read a
 * little earlier (start of its burst, or a TSC a few cycles behind) sees
 * last_rx > now. The client was heard an instant ago, so a stranger must be
 * rejected, not handed the leg because the unsigned difference wrapped.
 */
Test(pair_fp, client_heard_after_our_now_is_not_silent)
{
	struct duet_addr x = addr4(203, 0, 113, 5, 40000);
	struct duet_addr y = addr4(198, 51, 100, 9, 41000);
	struct duet_leg_view v;
	struct duet_leg peer = { 0 };
	struct duet_leg l;

	memset(&v, 0, sizeof(v));
	v.state = DUET_LEG_LATCHED;
	v.client = x;
	cr_expect_eq(duet_latch_decide(&v, &y, 1005, 1000, SILENCE), DUET_LATCH_REJECT,
		     "last_rx 5 cycles after now must not count as silence");

	/* The same through the rx path: another worker accepted x at 1005. */
	latched_leg(&l, &peer, &x);
	__atomic_store_n(last_of(&l), 1005, __ATOMIC_RELAXED);
	cr_expect_eq(duet_leg_rx(&l, last_of(&l), &peer, &y, mac_y, 1000, SILENCE, &v), DUET_LATCH_REJECT);
	cr_expect(same_client(&l, &x), "the leg was taken over from a live client");
}

Test(pair_fp, write_try_fails_while_another_writer_is_inside)
{
	struct duet_addr x = addr4(203, 0, 113, 5, 40000);
	struct duet_leg peer = { 0 };
	struct duet_leg l;
	struct duet_leg_view v;
	uint32_t s1, s2;

	memset(&l, 0, sizeof(l));
	cr_assert(duet_leg_write_try(&l, &s1));
	cr_assert_eq(s1, 0);
	cr_assert_eq(seq_of(&l) & 1, 1, "odd while a writer is inside");
	cr_assert_not(duet_leg_write_try(&l, &s2));
	/* Readers give up rather than read a half-written leg... */
	cr_assert_not(duet_leg_read(&l, &v));
	/* ...and a new source cannot latch meanwhile: busy, not rejected. */
	cr_assert_eq(duet_leg_rx(&l, last_of(&l), &peer, &x, mac_x, 1000, SILENCE, &v), DUET_LATCH_BUSY);
	cr_assert_eq(duet_leg_peek(&l, last_of(&l), &x, 1000, SILENCE), DUET_LATCH_BUSY);
	cr_assert_eq(leg_state(&l), DUET_LEG_WAITING);
	cr_assert_eq((*last_of(&l)), 0);
	duet_leg_write_done(&l, s1);
	cr_assert_eq(seq_of(&l), 2);
	cr_assert(duet_leg_read(&l, &v));
	cr_assert(duet_leg_write_try(&l, &s2));
	cr_assert_eq(s2, 2);
	duet_leg_write_done(&l, s2);
	cr_assert_eq(seq_of(&l), 4);
}

struct try_arg {
	struct duet_leg *leg;
	bool entered;
};

static void *
try_from_other_thread(void *p)
{
	struct try_arg *a = p;
	uint32_t s;

	a->entered = duet_leg_write_try(a->leg, &s);
	if (a->entered)
		duet_leg_write_done(a->leg, s);
	return NULL;
}

Test(pair_fp, write_try_from_another_thread_fails_while_one_is_inside)
{
	struct duet_leg l;
	struct try_arg a = { .leg = &l };
	pthread_t th;
	uint32_t s;

	memset(&l, 0, sizeof(l));
	cr_assert(duet_leg_write_try(&l, &s));
	cr_assert_eq(pthread_create(&th, NULL, try_from_other_thread, &a), 0);
	pthread_join(th, NULL);
	cr_assert_not(a.entered);
	duet_leg_write_done(&l, s);
	cr_assert_eq(pthread_create(&th, NULL, try_from_other_thread, &a), 0);
	pthread_join(th, NULL);
	cr_assert(a.entered);
	cr_assert_eq(seq_of(&l), 4);
}

/*
 * Seqlock: writers flip the leg's client between two addresses that differ
 * in every field (port, all IP bytes), each with its own hop MAC,
 * through the real rx path (silence 0, so every flip is a MOVED). A reader
 * checks that every snapshot it gets is one whole address with its MAC.
 */
#define FLIPS_MIN 2000000u
#define FLIPS_MAX 40000000u
#define READS_WHILE_FLIPPING 200000u

struct flip_ctx {
	struct duet_leg leg;
	struct duet_leg peer;
	struct duet_addr a, b;
	uint8_t mac_a[6], mac_b[6];
	atomic_uint writers_running;
	atomic_uint writers_started;
	atomic_bool reader_ready;
	/* Reader progress, watched by the writers so they flip until the reader
	 * has really run alongside them (2 cores, or 1, shared with others). */
	atomic_ulong reads_while_flipping, seen_a, seen_b;
	/* Reader results, checked on the main thread. */
	uint64_t reads_ok, reads_busy, torn, torn_copy;
	struct duet_leg_view first_torn;
	/* Writer results. */
	uint64_t flips[2], moved[2], refused[2];
};

struct flip_writer {
	struct flip_ctx *c;
	unsigned int id;
};

static void *
flip_writer_main(void *p)
{
	struct flip_writer *w = p;
	struct flip_ctx *c = w->c;
	struct duet_leg_view v;
	uint64_t i;

	while (!atomic_load(&c->reader_ready))
		rte_pause();
	atomic_fetch_add(&c->writers_started, 1);
	for (i = 0; i < FLIPS_MAX; i++) {
		bool even = (i & 1) == 0;
		enum duet_latch_verdict d;

		d = duet_leg_rx(&c->leg, last_of(&c->leg), &c->peer, even ? &c->a : &c->b, even ? c->mac_a : c->mac_b, i + 1,
				0, &v);
		if (d == DUET_LATCH_MOVED || d == DUET_LATCH_NEW)
			c->moved[w->id]++;
		else if (d == DUET_LATCH_REJECT || d == DUET_LATCH_BUSY)
			c->refused[w->id]++;
		if (i + 1 >= FLIPS_MIN && (i & 1023) == 0 &&
		    atomic_load_explicit(&c->reads_while_flipping, memory_order_relaxed) >=
			    READS_WHILE_FLIPPING &&
		    atomic_load_explicit(&c->seen_a, memory_order_relaxed) > 0 &&
		    atomic_load_explicit(&c->seen_b, memory_order_relaxed) > 0) {
			i++;
			break;
		}
	}
	c->flips[w->id] = i; /* packets handled */
	atomic_fetch_sub(&c->writers_running, 1);
	return NULL;
}

static void *
flip_reader_main(void *p)
{
	struct flip_ctx *c = p;
	struct duet_leg_view v;

	atomic_store(&c->reader_ready, true);
	while (atomic_load(&c->writers_running) > 0) {
		if (!duet_leg_read(&c->leg, &v)) {
			c->reads_busy++;
			continue;
		}
		c->reads_ok++;
		if (atomic_load_explicit(&c->writers_started, memory_order_relaxed) > 0)
			atomic_fetch_add_explicit(&c->reads_while_flipping, 1, memory_order_relaxed);
		if (v.state == DUET_LEG_LATCHED && v.has_hop_mac &&
		    duet_addr_equal(&v.client, &c->a) && memcmp(v.hop_mac, c->mac_a, 6) == 0) {
			atomic_fetch_add_explicit(&c->seen_a, 1, memory_order_relaxed);
		} else if (v.state == DUET_LEG_LATCHED && v.has_hop_mac &&
			   duet_addr_equal(&v.client, &c->b) &&
			   memcmp(v.hop_mac, c->mac_b, 6) == 0) {
			atomic_fetch_add_explicit(&c->seen_b, 1, memory_order_relaxed);
		} else {
			if (c->torn == 0)
				c->first_torn = v;
			c->torn++;
		}
		/* The peer leg's copy, written inside the peer's write side by
		 * the same latches, is never torn either. */
		if (duet_leg_read(&c->peer, &v) &&
		    !(v.peer_state == DUET_LEG_LATCHED && v.has_peer_mac &&
		      ((duet_addr_equal(&v.peer, &c->a) && memcmp(v.peer_mac, c->mac_a, 6) == 0) ||
		       (duet_addr_equal(&v.peer, &c->b) && memcmp(v.peer_mac, c->mac_b, 6) == 0))))
			c->torn_copy++;
	}
	return NULL;
}

static void
run_flips(unsigned int n_writers)
{
	static struct flip_ctx c; /* static: big, and the leg must stay cache-aligned */
	struct flip_writer w[2];
	pthread_t wt[2], rt;
	unsigned int i;

	memset(&c, 0, sizeof(c));
	c.a = addr4(203, 0, 113, 77, 5004);
	c.b = addr4(192, 0, 2, 200, 61234);
	memcpy(c.mac_a, (uint8_t[6]){ 0x02, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa }, 6);
	memcpy(c.mac_b, (uint8_t[6]){ 0x02, 0x55, 0x55, 0x55, 0x55, 0x55 }, 6);
	/* Start latched to a, so every snapshot the reader can get is a or b. */
	duet_leg_set_client(&c.leg, &c.peer, &c.a, c.mac_a);
	atomic_store(&c.writers_running, n_writers);

	(void)last_of(&c.leg); /* before the threads look it up */
	(void)last_of(&c.peer);
	cr_assert_eq(pthread_create(&rt, NULL, flip_reader_main, &c), 0);
	for (i = 0; i < n_writers; i++) {
		w[i].c = &c;
		w[i].id = i;
		cr_assert_eq(pthread_create(&wt[i], NULL, flip_writer_main, &w[i]), 0);
	}
	for (i = 0; i < n_writers; i++)
		pthread_join(wt[i], NULL);
	pthread_join(rt, NULL);

	cr_log_info("writers %u: flips %lu+%lu moved %lu+%lu refused %lu+%lu; reader ok %lu busy "
		    "%lu a %lu b %lu",
		    n_writers, (unsigned long)c.flips[0], (unsigned long)c.flips[1],
		    (unsigned long)c.moved[0], (unsigned long)c.moved[1],
		    (unsigned long)c.refused[0], (unsigned long)c.refused[1],
		    (unsigned long)c.reads_ok, (unsigned long)c.reads_busy,
		    (unsigned long)atomic_load(&c.seen_a), (unsigned long)atomic_load(&c.seen_b));
	cr_assert_eq(c.torn, 0, "%lu torn snapshots, first: family %u port %u ip[0] %u mac[1] %x",
		     (unsigned long)c.torn, c.first_torn.client.family,
		     ntohs(c.first_torn.client.port), c.first_torn.client.ip[0],
		     c.first_torn.hop_mac[1]);
	cr_assert_eq(c.torn_copy, 0, "%lu torn copies in the peer leg", (unsigned long)c.torn_copy);
	cr_assert_geq(c.flips[0], FLIPS_MIN);
	if (n_writers == 1)
		/* Alone, the writer never finds the write side taken: every packet but
		 * the first (a, already the client) moves the leg. */
		cr_assert_eq(c.moved[0], c.flips[0] - 1);
	/* The test only means something if the reader really ran during the flips. */
	cr_assert_geq(atomic_load(&c.reads_while_flipping), READS_WHILE_FLIPPING);
	cr_assert_gt(atomic_load(&c.seen_a), 0);
	cr_assert_gt(atomic_load(&c.seen_b), 0);
	/* The leg ends stable: even sequence, one of the two clients. */
	cr_assert_eq(seq_of(&c.leg) & 1, 0);
	cr_assert(same_client(&c.leg, &c.a) || same_client(&c.leg, &c.b));
}

Test(pair_fp, reader_never_sees_a_torn_client_while_a_writer_flips_it, .timeout = 120)
{
	run_flips(1);
}

Test(pair_fp, two_writers_latching_one_leg_never_tear_it, .timeout = 120)
{
	run_flips(2);
}
