/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/pair/duet_pair.c: the pairing table as the control
 * thread sees it (put, delete, RCU reclaim, counters, iteration), plus one
 * test with a reader pthread standing in for a worker lcore. Criterion runs
 * each test in its own process; the .init fixture starts an EAL there with
 * no hugepages, no shared files (--no-shconf: --in-memory
 * needs real hugepages) and a file prefix of its own, so these
 * tests run in parallel with each other and with other EAL tests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <criterion/criterion.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "duet_pair.h"
#include "duet_pair_fp.h"
#include "pair_test.h"
#include "../mem_resident.h"

/* Where table leg l's last-heard time is (the pair's fast line). */
static uint64_t *
tlast(const struct duet_pair_table *t, const struct duet_leg *l)
{
	return duet_pair_last_rx_at(t, (uint32_t)(l - t->legs));
}

#define SILENCE 100

static const uint8_t mac_x[6] = { 0x02, 0, 0, 0, 0, 0x0a };

static struct duet_pair_table *t;

/* "0@(cpus)": lcore 0 may run on every CPU this process may use, so the
 * pthreads the tests start (which inherit its affinity) really run in
 * parallel instead of sharing the first CPU. */
static void
lcore_arg(char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "0@(");
	cpu_set_t cs;
	int cpu;

	cr_assert_eq(sched_getaffinity(0, sizeof(cs), &cs), 0);
	for (cpu = 0; cpu < CPU_SETSIZE && cpu < RTE_MAX_LCORE && n + 8 < len; cpu++)
		if (CPU_ISSET(cpu, &cs))
			n += (size_t)snprintf(buf + n, len - n, "%s%d", buf[n - 1] == '(' ? "" : ",",
					      cpu);
	snprintf(buf + n, len - n, ")");
}

static void
eal_up(void)
{
	char prefix[64], lcores[256];
	char *argv[] = {
		"test_duet_pair", "--no-huge",	 "-m",	    "128",	    "--no-pci",
		"--no-shconf",	  "--no-telemetry", "--file-prefix", prefix,	    "--log-level",
		"error",	  "--lcores",	 lcores,    NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	snprintf(prefix, sizeof(prefix), "pairtest_%ld", (long)getpid());
	lcore_arg(lcores, sizeof(lcores));
	cr_assert_geq(rte_eal_init(argc, argv), 0, "rte_eal_init: %s", rte_strerror(rte_errno));
	test_eal_rundir_remove_at_exit();
	t = NULL;
}

static void
eal_down(void)
{
	duet_pair_table_free(t);
	t = NULL;
	rte_eal_cleanup();
}

TestSuite(pair, .init = eal_up, .fini = eal_down, .timeout = 120);

static struct duet_addr
ep4(uint8_t d, uint16_t port)
{
	struct duet_addr r;

	duet_addr_set4(&r, htonl(0xc0000200u | d), htons(port)); /* 192.0.2.d */
	return r;
}

static struct duet_addr
client4(uint8_t d, uint16_t port)
{
	struct duet_addr r;

	duet_addr_set4(&r, htonl(0xcb007100u | d), htons(port)); /* 203.0.113.d */
	return r;
}

#define SPACE_ADDRS PAIR_TEST_SPACE_ADDRS
#define SPACE_PORT_MIN PAIR_TEST_PORT_MIN
#define SPACE_PORT_MAX PAIR_TEST_PORT_MAX

/* What a worker does with a packet's destination: the address's index in
 * the space (its port's space_base + place; here 192.0.2.d is d - 1), then
 * the endpoint index entry, then the leg. n keys; bit i of the result and
 * idx[i] for each endpoint some pair owns. */
static uint64_t
lookup_burst(const struct duet_addr **keys, uint32_t n, uint32_t *idx)
{
	const uint32_t *e[32];
	uint64_t hits = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint8_t d = keys[i]->ip[3];
		bool ours = keys[i]->ip[0] == 192 && keys[i]->ip[1] == 0 && keys[i]->ip[2] == 2 &&
			    d >= 1 && d <= SPACE_ADDRS;

		e[i] = ours ? duet_pair_ep_at(t, d - 1u, keys[i]->port) : NULL;
	}
	for (i = 0; i < n; i++)
		if (duet_pair_ep_load(e[i], &idx[i]))
			hits |= 1ULL << i;
	return hits;
}

static struct duet_pair_spec
make_spec(const char *id, struct duet_addr a, struct duet_addr b)
{
	struct duet_pair_spec s;

	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", id);
	s.mode = DUET_MODE_PASSTHROUGH;
	s.ep[0] = a;
	s.ep[1] = b;
	s.port_idx[0] = 0;
	s.port_idx[1] = 1;
	return s;
}

/* Give s the keys its mode needs: distinct made-up bytes per key, seeded. */
static void
set_keys(struct duet_pair_spec *s, uint8_t seed)
{
	unsigned int k, i;

	memset(s->key, 0, sizeof(s->key));
	for (k = 0; k < DUET_KEY_COUNT; k++) {
		if (s->mode == DUET_MODE_PASSTHROUGH ||
		    (s->mode == DUET_MODE_VERIFY && (k == DUET_KEY_A_OUT || k == DUET_KEY_B_OUT)))
			continue;
		s->key[k].suite = DUET_SRTP_AES_CM_128_HMAC_SHA1_80;
		s->key[k].key_len = 30;
		for (i = 0; i < 30; i++)
			s->key[k].key[i] = (uint8_t)(seed * 31 + k * 7 + i);
	}
}

static int
put(const struct duet_pair_spec *s, char *why)
{
	why[0] = '\0';
	return duet_pair_put(t, s, 1000, NULL, why, DUET_PAIR_REASON_MAX);
}

static void
make_table(uint32_t capacity, unsigned int n_workers)
{
	t = duet_pair_table_create("tp", capacity, n_workers, SOCKET_ID_ANY, pair_test_space());
	cr_assert_not_null(t, "table create: %s", rte_strerror(rte_errno));
}

/* The relay endpoint of leg leg_idx as a worker would tell it: the other
 * leg's egress (a leg does not hold its own). Any thread. */
static void
leg_local_at(uint32_t leg_idx, struct duet_addr *out)
{
	const struct duet_leg *o = duet_pair_leg_at(t, leg_idx ^ 1);

	*out = t->egress[o->egress_addr];
	out->port = o->egress_port;
}

/* The relay endpoint of leg `leg` of slot, as duet_pair_leg_local() says
 * it (main thread: one static result, valid until the next call). */
static const struct duet_addr *
local_of(uint32_t slot, unsigned int leg)
{
	static struct duet_addr a;
	struct duet_addr w;

	duet_pair_leg_local(t, slot, leg, &a);
	leg_local_at(2 * slot + leg, &w);
	cr_assert(duet_addr_equal(&a, &w), "the table and a worker disagree on the endpoint");
	return &a;
}

/* Latch leg `leg` of slot to client c through the worker's rx path. */
static void
latch(uint32_t slot, unsigned int leg, const struct duet_addr *c)
{
	struct duet_leg_view v;

	cr_assert_eq(duet_leg_rx(duet_pair_leg_at(t, 2 * slot + leg),
				 duet_pair_last_rx_at(t, 2 * slot + leg), duet_pair_leg_at(t, (2 * slot + leg) ^ 1),
				 c, mac_x, 1000, SILENCE, &v),
		     DUET_LATCH_NEW);
}

Test(pair, create_refuses_bad_arguments)
{
	struct duet_pair_space sp;

	cr_assert_null(duet_pair_table_create("tp", 0, 1, SOCKET_ID_ANY, pair_test_space()));
	cr_assert_eq(rte_errno, EINVAL);
	cr_assert_null(duet_pair_table_create("tp", 4, 0, SOCKET_ID_ANY, pair_test_space()));
	cr_assert_eq(rte_errno, EINVAL);
	cr_assert_null(duet_pair_table_create(NULL, 4, 1, SOCKET_ID_ANY, pair_test_space()));
	cr_assert_eq(rte_errno, EINVAL);
	cr_assert_null(duet_pair_table_create("tp", 4, 1, SOCKET_ID_ANY, NULL));
	cr_assert_eq(rte_errno, EINVAL);
	sp = *pair_test_space();
	sp.n_addrs = 0;
	cr_assert_null(duet_pair_table_create("tp", 4, 1, SOCKET_ID_ANY, &sp), "no address");
	sp = *pair_test_space();
	sp.port_min = 30000;
	sp.port_max = 20000;
	cr_assert_null(duet_pair_table_create("tp", 4, 1, SOCKET_ID_ANY, &sp), "range backwards");
	sp = *pair_test_space();
	sp.port_min = 0;
	cr_assert_null(duet_pair_table_create("tp", 4, 1, SOCKET_ID_ANY, &sp), "port 0");
	sp = *pair_test_space();
	sp.addrs[5] = sp.addrs[2];
	cr_assert_null(duet_pair_table_create("tp", 4, 1, SOCKET_ID_ANY, &sp), "address twice");
	sp = *pair_test_space();
	sp.n_addrs = DUET_PAIR_SPACE_ADDRS_MAX + 1;
	cr_assert_null(duet_pair_table_create("tp", 4, 1, SOCKET_ID_ANY, &sp), "too many");
	cr_assert_eq(rte_errno, EINVAL);
	make_table(4, 1);
	cr_assert_eq(duet_pair_count(t), 0);
	cr_assert_eq(duet_pair_worker_register(t, 1), -EINVAL);
	cr_assert_eq(duet_pair_worker_register(t, 0), 0);
	duet_pair_worker_unregister(t, 0);
}

/*
 * Free after the workers stopped, one of them without going offline (its
 * lcore returned early) and a deleted pair still waiting for its grace
 * period: the table must still release everything, names included, so a
 * table of the same name can be made again.
 */
Test(pair, free_releases_the_table_even_with_a_worker_still_registered)
{
	struct duet_pair_spec s = make_spec("call", ep4(1, 20000), ep4(1, 20002));
	char why[DUET_PAIR_REASON_MAX];

	make_table(4, 1);
	cr_assert_eq(duet_pair_worker_register(t, 0), 0);
	cr_assert_eq(put(&s, why), 0, "%s", why);
	cr_assert_eq(duet_pair_del(t, "call", 2000, NULL), 0);
	duet_pair_table_free(t);
	t = duet_pair_table_create("tp", 4, 1, SOCKET_ID_ANY, pair_test_space());
	cr_expect_not_null(t, "a second table named tp: %s (the first one's defer queue leaked)",
			   rte_strerror(rte_errno));
}

Test(pair, free_and_create_again_after_workers_go_offline)
{
	struct duet_pair_spec s = make_spec("call", ep4(1, 20000), ep4(1, 20002));
	char why[DUET_PAIR_REASON_MAX];

	make_table(4, 1);
	cr_assert_eq(duet_pair_worker_register(t, 0), 0);
	cr_assert_eq(put(&s, why), 0, "%s", why);
	cr_assert_eq(duet_pair_del(t, "call", 2000, NULL), 0);
	duet_pair_worker_unregister(t, 0);
	duet_pair_table_free(t);
	t = NULL;
	make_table(4, 1);
	cr_assert_eq(put(&s, why), 0, "%s", why);
}

Test(pair, put_adds_a_pair_found_by_id_and_by_both_endpoints)
{
	struct duet_pair_spec s = make_spec("call-1", ep4(1, 20000), ep4(1, 20002));
	const struct duet_leg *la, *lb;
	struct duet_addr cl;
	char why[DUET_PAIR_REASON_MAX];
	unsigned int leg = 9;
	int slot;

	make_table(16, 1);
	s.mode = DUET_MODE_VERIFY;
	set_keys(&s, 1);
	s.idle_ms = 30000;
	cr_assert_eq(put(&s, why), 0, "%s", why);
	cr_assert_eq(duet_pair_count(t), 1);
	slot = duet_pair_find(t, "call-1");
	cr_assert_geq(slot, 0);
	cr_assert_eq(duet_pair_find_endpoint(t, &s.ep[0], &leg), slot);
	cr_assert_eq(leg, 0);
	cr_assert_eq(duet_pair_find_endpoint(t, &s.ep[1], &leg), slot);
	cr_assert_eq(leg, 1);
	cr_assert_eq(duet_pair_find_endpoint(t, &s.ep[1], NULL), slot);
	cr_assert_eq(duet_pair_find(t, "call-2"), -ENOENT);
	cr_assert_eq(duet_pair_find_endpoint(t, &(struct duet_addr){ 0 }, &leg), -ENOENT);

	cr_assert_str_eq(spec_of(t, (uint32_t)slot)->id, "call-1");
	cr_assert_eq(spec_of(t, (uint32_t)slot)->idle_ms, 30000);
	cr_assert_eq(duet_pair_created_ms(t, (uint32_t)slot), 1000);
	la = duet_pair_leg(t, (uint32_t)slot, 0);
	lb = duet_pair_leg(t, (uint32_t)slot, 1);
	cr_assert_eq(la, duet_pair_leg_at(t, 2 * (uint32_t)slot));
	cr_assert_eq(lb, duet_pair_leg_at(t, 2 * (uint32_t)slot + 1));
	cr_assert(duet_addr_equal(local_of((uint32_t)slot, 0), &s.ep[0]));
	cr_assert(duet_addr_equal(local_of((uint32_t)slot, 1), &s.ep[1]));
	/* Each leg's packets leave from the other leg's endpoint and port. */
	cr_assert_eq(la->out_port, 1);
	cr_assert_eq(lb->out_port, 0);
	cr_assert_eq(la->egress_port, s.ep[1].port);
	cr_assert_eq(lb->egress_port, s.ep[0].port);
	cr_assert_eq(la->mode, DUET_MODE_VERIFY);
	cr_assert_eq(la->flags, 0, "a new leg is waiting, unpinned, with no copy of the peer");
	cr_assert_eq(lb->flags, 0);
	cr_assert_not(duet_pair_leg_client(t, (uint32_t)slot, 0, &cl));
}

/* The control record keeps only what the legs do not hold: a record put
 * comes back whole (keys aside, which only the crypto block has), the
 * longest id (64 bytes, no room for a terminator in the record) too, and
 * an update in place changes what it says. */
Test(pair, a_record_comes_back_whole_from_the_legs_and_the_control_record)
{
	char id[DUET_PAIR_ID_MAX + 1];
	struct duet_pair_spec s, want, got;
	char why[DUET_PAIR_REASON_MAX];
	int slot;

	make_table(16, 1);
	memset(id, 'x', DUET_PAIR_ID_MAX);
	id[DUET_PAIR_ID_MAX] = '\0';
	s = make_spec(id, ep4(3, 20010), ep4(3, 20011));
	s.mode = DUET_MODE_REKEY;
	s.port_idx[1] = 1;
	set_keys(&s, 7);
	duet_addr_set4(&s.pin[1], htonl(0xc6336407u), htons(5004));
	s.idle_ms = 45000;
	s.expires = 1900000000;
	s.relatch = DUET_RELATCH_NEVER;
	s.max_pps = 321;
	s.max_kbps = 654;
	cr_assert_eq(put(&s, why), 0, "%s", why);
	slot = duet_pair_find(t, id);
	cr_assert_geq(slot, 0);
	cr_assert_str_eq(duet_pair_id_of(t, (uint32_t)slot), id);
	want = s;
	memset(want.key, 0, sizeof(want.key));
	duet_pair_spec_get(t, (uint32_t)slot, &got);
	cr_assert_eq(memcmp(&got, &want, sizeof(got)), 0, "the record came back changed");

	/* In place: the pin goes, the limits change. */
	memset(&s.pin[1], 0, sizeof(s.pin[1]));
	s.max_pps = 99;
	s.idle_ms = 1000;
	cr_assert_eq(put(&s, why), 1, "%s", why);
	want = s;
	memset(want.key, 0, sizeof(want.key));
	duet_pair_spec_get(t, (uint32_t)slot, &got);
	cr_assert_eq(memcmp(&got, &want, sizeof(got)), 0, "the update did not come back");
}

/* A worker inside leg b's write side (a next hop being learnt) for a
 * while; the control thread's unpin must wait for it, not read the pin as
 * absent and leave the leg pinned. */
struct held_leg {
	struct duet_leg *leg;
	uint32_t seq;
};

static void *
release_later(void *arg)
{
	struct held_leg *h = arg;

	usleep(20000);
	duet_leg_write_done(h->leg, h->seq);
	return NULL;
}

Test(pair, an_unpin_waits_for_a_worker_inside_the_leg_and_takes_effect)
{
	struct duet_pair_spec s = make_spec("pin-busy", ep4(4, 20020), ep4(4, 20021));
	char why[DUET_PAIR_REASON_MAX];
	struct held_leg h;
	pthread_t th;
	int slot;

	make_table(16, 1);
	duet_addr_set4(&s.pin[1], htonl(0xc6336409u), htons(6000));
	cr_assert_eq(put(&s, why), 0, "%s", why);
	slot = duet_pair_find(t, "pin-busy");
	cr_assert_geq(slot, 0);
	h.leg = duet_pair_leg_at(t, 2 * (uint32_t)slot + 1);
	cr_assert(duet_leg_write_try(h.leg, &h.seq));
	cr_assert_eq(pthread_create(&th, NULL, release_later, &h), 0);
	memset(&s.pin[1], 0, sizeof(s.pin[1]));
	cr_assert_eq(put(&s, why), 1, "%s", why);
	pthread_join(th, NULL);
	cr_assert_not(duet_pair_leg(t, (uint32_t)slot, 1)->flags & DUET_LEG_F_PINNED,
		      "the leg stayed pinned");
	cr_assert_eq(spec_of(t, (uint32_t)slot)->pin[1].family, DUET_AF_NONE);
}

/* A dead slot has no id, whatever its old position in the id hash now
 * holds. */
Test(pair, a_dead_slot_has_no_id)
{
	struct duet_pair_spec a = make_spec("first", ep4(5, 20030), ep4(5, 20031));
	struct duet_pair_spec b = make_spec("second", ep4(5, 20032), ep4(5, 20033));
	char why[DUET_PAIR_REASON_MAX];
	int sa, sb;

	make_table(16, 1);
	cr_assert_eq(put(&a, why), 0, "%s", why);
	sa = duet_pair_find(t, "first");
	/* A slot never used points at the hash's first position: "first"'s. */
	cr_assert_str_eq(duet_pair_id_of(t, 9), "", "a slot never used");
	cr_assert_eq(duet_pair_del(t, "first", 2000, NULL), 0);
	cr_assert_eq(put(&b, why), 0, "%s", why);
	sb = duet_pair_find(t, "second");
	cr_assert_neq(sa, sb, "a deleted slot waits for its grace period");
	cr_assert_str_eq(duet_pair_id_of(t, (uint32_t)sa), "");
	cr_assert_str_eq(duet_pair_id_of(t, (uint32_t)sb), "second");
}

/* The table's arrays are mapped when it is created, not page by page
 * under the first load or the first packets (rte_zmalloc does not clear,
 * so does not touch, memory it knows is zero). */
Test(pair, a_new_table_s_arrays_are_in_memory)
{
	const uint32_t cap = 65536;

	make_table(cap, 2);
	cr_assert_eq(pages_not_resident(t->legs, (size_t)cap * 2 * sizeof(struct duet_leg)), 0);
	cr_assert_eq(pages_not_resident(t->stats, (size_t)cap * 2 * t->stats_stride), 0);
	cr_assert_eq(pages_not_resident(t->drops,
					(size_t)2 * 2 * cap * sizeof(struct duet_leg_drops)),
		     0);
	cr_assert_eq(pages_not_resident(t->ctl, (size_t)cap * 56), 0);
	cr_assert_eq(pages_not_resident(t->fast, (size_t)cap * sizeof(*t->fast)), 0);
	cr_assert_eq(pages_not_resident(t->ep_leg, duet_pair_space_bytes(pair_test_space())), 0);
}

Test(pair, put_with_a_pin_starts_the_leg_latched_and_pinned)
{
	struct duet_pair_spec s = make_spec("pinned", ep4(1, 20000), ep4(1, 20002));
	struct duet_addr pin = client4(7, 5004), cl;
	char why[DUET_PAIR_REASON_MAX];
	const struct duet_leg *lb;
	int slot;

	make_table(4, 1);
	s.pin[1] = pin;
	cr_assert_eq(put(&s, why), 0, "%s", why);
	slot = duet_pair_find(t, "pinned");
	lb = duet_pair_leg(t, (uint32_t)slot, 1);
	cr_assert(lb->flags & DUET_LEG_F_PINNED);
	cr_assert(lb->flags & DUET_LEG_F_LATCHED);
	cr_assert(duet_pair_leg_client(t, (uint32_t)slot, 1, &cl));
	cr_assert(duet_addr_equal(&cl, &pin));
	/* Leg a, which sends to the pinned client, has its copy from the start. */
	cr_assert(duet_pair_leg(t, (uint32_t)slot, 0)->flags & DUET_LEG_F_PEER);
	cr_assert_not(duet_pair_leg(t, (uint32_t)slot, 0)->flags & DUET_LEG_F_PEER_MAC);
	cr_assert_not(duet_pair_leg_client(t, (uint32_t)slot, 0, &cl));
}

Test(pair, a_pin_of_another_family_than_its_leg_is_refused)
{
	struct duet_pair_spec s = make_spec("fam", ep4(1, 20000), ep4(1, 20002));
	char why[DUET_PAIR_REASON_MAX];

	make_table(4, 1);
	cr_assert_eq(duet_addr_parse("[2001:db8::7]:5004", &s.pin[1]), 0);
	cr_assert_eq(put(&s, why), -EINVAL);
	cr_assert(strstr(why, "family") != NULL, "%s", why);
	cr_assert_lt(duet_pair_find(t, "fam"), 0, "nothing was put");
}

Test(pair, lookup_finds_leg_indexes_and_misses_unknown_endpoints)
{
	struct duet_pair_spec s1 = make_spec("one", ep4(1, 20000), ep4(1, 20002));
	struct duet_pair_spec s2 = make_spec("two", ep4(2, 20000), ep4(2, 20002));
	struct duet_addr unknown = ep4(3, 20000), other_port = ep4(1, 20004);
	const struct duet_addr *keys[5] = { &s1.ep[0], &unknown, &s2.ep[1], &s1.ep[1],
					    &other_port };
	char why[DUET_PAIR_REASON_MAX];
	uint32_t idx[5] = { 77, 77, 77, 77, 77 };
	uint64_t hits;
	int a, b;

	make_table(16, 1);
	cr_assert_eq(put(&s1, why), 0, "%s", why);
	cr_assert_eq(put(&s2, why), 0, "%s", why);
	a = duet_pair_find(t, "one");
	b = duet_pair_find(t, "two");
	cr_assert_neq(a, b);
	hits = lookup_burst(keys, 5, idx);
	cr_assert_eq(hits, (1u << 0) | (1u << 2) | (1u << 3));
	cr_assert_eq(idx[0], 2 * (uint32_t)a);
	cr_assert_eq(idx[2], 2 * (uint32_t)b + 1);
	cr_assert_eq(idx[3], 2 * (uint32_t)a + 1);
	cr_assert(duet_addr_equal(local_of(idx[2] >> 1, idx[2] & 1), &s2.ep[1]));
	cr_assert_eq(lookup_burst(keys, 0, idx), 0);
}

/* The endpoint index covers exactly the space: its first and last ports
 * and addresses are found, one port past either end and an address index
 * past the last have no entry at all (not merely an empty one). */
Test(pair, direct_index_covers_exactly_the_space)
{
	struct duet_pair_spec lo = make_spec("lo", ep4(1, SPACE_PORT_MIN), ep4(1, SPACE_PORT_MAX));
	struct duet_pair_spec hi = make_spec("hi", ep4(SPACE_ADDRS, SPACE_PORT_MIN),
					     ep4(SPACE_ADDRS, SPACE_PORT_MAX));
	char why[DUET_PAIR_REASON_MAX];
	uint32_t leg = 77;

	make_table(4, 1);
	cr_assert_eq(put(&lo, why), 0, "%s", why);
	cr_assert_eq(put(&hi, why), 0, "%s", why);
	cr_assert(duet_pair_lookup(t, 0, htons(SPACE_PORT_MIN), &leg));
	cr_assert_eq(leg, 2 * (uint32_t)duet_pair_find(t, "lo"));
	cr_assert(duet_pair_lookup(t, 0, htons(SPACE_PORT_MAX), &leg));
	cr_assert_eq(leg, 2 * (uint32_t)duet_pair_find(t, "lo") + 1);
	cr_assert(duet_pair_lookup(t, SPACE_ADDRS - 1, htons(SPACE_PORT_MIN), &leg));
	cr_assert_eq(leg, 2 * (uint32_t)duet_pair_find(t, "hi"));
	cr_assert(duet_pair_lookup(t, SPACE_ADDRS - 1, htons(SPACE_PORT_MAX), &leg));
	cr_assert_eq(leg, 2 * (uint32_t)duet_pair_find(t, "hi") + 1);
	cr_assert_null(duet_pair_ep_at(t, 0, htons(SPACE_PORT_MIN - 1)));
	cr_assert_null(duet_pair_ep_at(t, 0, htons(SPACE_PORT_MAX + 1)));
	cr_assert_null(duet_pair_ep_at(t, 0, htons(0)));
	cr_assert_null(duet_pair_ep_at(t, 0, htons(65535)));
	cr_assert_null(duet_pair_ep_at(t, SPACE_ADDRS, htons(SPACE_PORT_MIN)));
	cr_assert_null(duet_pair_ep_at(t, UINT32_MAX, htons(SPACE_PORT_MIN)));
	cr_assert_not(duet_pair_lookup(t, 1, htons(SPACE_PORT_MIN), &leg), "192.0.2.2 has no pair");
	cr_assert_not(duet_pair_lookup(t, 0, htons(SPACE_PORT_MIN + 1), &leg));
	/* Deleting clears both entries at once. */
	cr_assert_eq(duet_pair_del(t, "lo", 2000, NULL), 0);
	cr_assert_not(duet_pair_lookup(t, 0, htons(SPACE_PORT_MIN), &leg));
	cr_assert_not(duet_pair_lookup(t, 0, htons(SPACE_PORT_MAX), &leg));
	cr_assert(duet_pair_lookup(t, SPACE_ADDRS - 1, htons(SPACE_PORT_MAX), &leg));
}

/* A pair whose endpoint lies outside the space is refused with the reason,
 * and nothing of it is published. */
Test(pair, put_refuses_an_endpoint_outside_the_space)
{
	struct duet_pair_spec below = make_spec("below", ep4(1, SPACE_PORT_MIN - 1), ep4(1, 20002));
	struct duet_pair_spec above = make_spec("above", ep4(1, 20000), ep4(1, SPACE_PORT_MAX + 1));
	struct duet_pair_spec stranger = make_spec("stranger", ep4(1, 20000), ep4(33, 20002));
	struct duet_pair_spec v6 = make_spec("v6", ep4(1, 20000), ep4(1, 20002));
	char why[DUET_PAIR_REASON_MAX];

	v6.ep[1].family = DUET_AF_INET6;
	make_table(4, 1);
	cr_assert_eq(put(&below, why), -EINVAL);
	cr_assert(strstr(why, "192.0.2.1:19999 of leg a is not a service address and media port") !=
		  NULL,
		  "%s", why);
	cr_assert_eq(put(&above, why), -EINVAL);
	cr_assert(strstr(why, "192.0.2.1:30016 of leg b") != NULL, "%s", why);
	cr_assert_eq(put(&stranger, why), -EINVAL);
	cr_assert(strstr(why, "192.0.2.33:20002 of leg b") != NULL, "%s", why);
	cr_assert_eq(put(&v6, why), -EINVAL, "an IPv6 endpoint on an IPv4 space: %s", why);
	cr_assert_eq(duet_pair_count(t), 0);
	cr_assert_eq(duet_pair_find_endpoint(t, &below.ep[1], NULL), -ENOENT);
	cr_assert_eq(duet_pair_find_endpoint(t, &above.ep[0], NULL), -ENOENT);
}

/* The index costs 4 bytes per address and port: 16 addresses x 65,536
 * ports is 4 MiB. */
Test(pair, space_bytes_is_four_per_endpoint)
{
	struct duet_pair_space sp;

	memset(&sp, 0, sizeof(sp));
	sp.n_addrs = 16;
	sp.port_min = 1;
	sp.port_max = 65535;
	cr_assert_eq(duet_pair_space_bytes(&sp), (size_t)16 * 65535 * 4);
	sp.n_addrs = 1;
	sp.port_min = 20000;
	sp.port_max = 20000;
	cr_assert_eq(duet_pair_space_bytes(&sp), 4);
	cr_assert_eq(duet_pair_space_bytes(NULL), 0);
}

/* duet_pair_table_bytes() is what duetd tells an operator whose EAL has
 * too little memory: a lower bound of what create takes from the heap, and
 * not far below it (the id hash and the RCU queue come on top). */
Test(pair, table_bytes_is_a_close_lower_bound_of_what_create_takes)
{
	struct rte_malloc_socket_stats before, after;
	size_t need = duet_pair_table_bytes(4096, 2, pair_test_space()), used;

	cr_assert_gt(need, duet_pair_table_bytes(2048, 2, pair_test_space()));
	cr_assert_gt(need, duet_pair_table_bytes(4096, 1, pair_test_space()));
	cr_assert_geq(need, duet_pair_space_bytes(pair_test_space()) + 4096 * 2 * 64);
	cr_assert_eq(rte_malloc_get_socket_stats((int)rte_socket_id(), &before), 0);
	make_table(4096, 2);
	cr_assert_eq(rte_malloc_get_socket_stats((int)rte_socket_id(), &after), 0);
	used = after.heap_allocsz_bytes - before.heap_allocsz_bytes;
	cr_log_info("table of 4096 pairs, 2 workers: %zu bytes estimated, %zu taken", need, used);
	cr_assert_geq(used, need, "estimate %zu above what create took, %zu", need, used);
	cr_assert_leq(used, need + need / 2, "estimate %zu far below what create took, %zu", need,
		      used);
}

Test(pair, put_same_endpoints_updates_in_place_and_keeps_the_latched_client)
{
	struct duet_pair_spec s = make_spec("call", ep4(1, 20000), ep4(1, 20002));
	struct duet_addr x = client4(5, 40000), cl;
	char why[DUET_PAIR_REASON_MAX];
	struct duet_leg_counters c;
	int slot;

	make_table(4, 1);
	cr_assert_eq(put(&s, why), 0, "%s", why);
	slot = duet_pair_find(t, "call");
	latch((uint32_t)slot, 0, &x);
	duet_pair_hot_at(t, 0, 2 * (uint32_t)slot)->pkts += 5;

	s.idle_ms = 9000;
	s.expires = 1700000000;
	cr_assert_eq(put(&s, why), 1, "%s", why);
	cr_assert_eq(duet_pair_find(t, "call"), slot);
	cr_assert_eq(duet_pair_count(t), 1);
	cr_assert_eq(spec_of(t, (uint32_t)slot)->idle_ms, 9000);
	cr_assert_eq(spec_of(t, (uint32_t)slot)->expires, 1700000000);
	cr_assert(duet_pair_leg_client(t, (uint32_t)slot, 0, &cl), "latched client lost");
	cr_assert(duet_addr_equal(&cl, &x));
	cr_assert(duet_pair_leg(t, (uint32_t)slot, 0)->flags & DUET_LEG_F_HOP_MAC);
	cr_assert(duet_pair_leg(t, (uint32_t)slot, 1)->flags & DUET_LEG_F_PEER_MAC,
		  "the copy in leg b was lost");
	duet_pair_counters(t, (uint32_t)slot, 0, &c);
	cr_assert_eq(c.pkts, 5, "counters must continue across an update");
	cr_assert_eq(duet_pair_find_endpoint(t, &s.ep[0], NULL), slot);
}

Test(pair, a_pin_change_is_handed_out_and_only_the_current_pin_learns_a_mac)
{
	struct duet_pair_spec s = make_spec("call", ep4(1, 20000), ep4(1, 20002));
	struct duet_addr p1 = client4(6, 5004), p2 = client4(7, 5004);
	static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x42};
	struct duet_pair_pin_ref pins[4];
	char why[DUET_PAIR_REASON_MAX];
	struct duet_leg_view av;
	int slot;

	make_table(4, 1);
	cr_assert_eq(put(&s, why), 0, "%s", why);
	cr_assert_eq(duet_pair_pins_take(t, pins, 4), 0, "no pin, nothing to ask");
	s.pin[1] = p1;
	cr_assert_eq(put(&s, why), 1, "%s", why);
	s.pin[1] = p2;
	cr_assert_eq(put(&s, why), 1, "%s", why);
	slot = duet_pair_find(t, "call");
	cr_assert_eq(duet_pair_pins_take(t, pins, 4), 2);
	cr_assert(duet_addr_equal(&pins[0].client, &p1));
	cr_assert(duet_addr_equal(&pins[1].client, &p2));
	cr_assert_eq(pins[1].slot, (uint32_t)slot);
	cr_assert_eq(pins[1].leg, 1);
	/* An answer for the old pin arrives late: it teaches nothing. */
	cr_assert_eq(duet_pair_learn_hop(t, (uint32_t)slot, 1, &p1, mac), -ESTALE);
	cr_assert_eq(duet_pair_learn_hop(t, (uint32_t)slot, 1, &p2, mac), 0);
	cr_assert(duet_leg_read(duet_pair_leg(t, (uint32_t)slot, 0), &av));
	cr_assert(av.has_peer_mac, "leg a now sends to the pin's MAC");
	cr_assert_arr_eq(av.peer_mac, mac, 6);
	cr_assert_eq(duet_pair_learn_hop(t, 3, 1, &p2, mac), -ENOENT);
}

Test(pair, pin_change_through_put_pins_the_leg)
{
	struct duet_pair_spec s = make_spec("call", ep4(1, 20000), ep4(1, 20002));
	struct duet_addr x = client4(5, 40000), pin = client4(6, 5004), cl;
	char why[DUET_PAIR_REASON_MAX];
	struct duet_leg_view v;
	struct duet_leg *lb;
	int slot;

	make_table(4, 1);
	cr_assert_eq(put(&s, why), 0, "%s", why);
	slot = duet_pair_find(t, "call");
	lb = duet_pair_leg_at(t, 2 * (uint32_t)slot + 1);
	latch((uint32_t)slot, 1, &x);

	s.pin[1] = pin;
	cr_assert_eq(put(&s, why), 1, "%s", why);
	cr_assert(lb->flags & DUET_LEG_F_PINNED);
	cr_assert(lb->flags & DUET_LEG_F_LATCHED);
	cr_assert_not(lb->flags & DUET_LEG_F_HOP_MAC,
		      "the old client's hop MAC must not be used for the pin");
	/* Leg a now sends to the pin, through the gateway until it speaks. */
	cr_assert_not(duet_pair_leg(t, (uint32_t)slot, 0)->flags & DUET_LEG_F_PEER_MAC);
	{
		struct duet_leg_view av;

		cr_assert(duet_leg_read(duet_pair_leg(t, (uint32_t)slot, 0), &av));
		cr_assert(duet_addr_equal(&av.peer, &pin), "leg a still sends to the old client");
	}
	cr_assert_eq(lb->seq & 1, 0);
	cr_assert(duet_pair_leg_client(t, (uint32_t)slot, 1, &cl));
	cr_assert(duet_addr_equal(&cl, &pin));
	/* The previously latched client is now a stranger, silent or not. */
	cr_assert_eq(duet_leg_rx(lb, tlast(t, lb), duet_pair_leg_at(t, 2 * (uint32_t)slot), &x, mac_x, 1ULL << 40, SILENCE, &v), DUET_LATCH_REJECT);
	cr_assert_eq(duet_leg_rx(lb, tlast(t, lb), duet_pair_leg_at(t, 2 * (uint32_t)slot), &pin, mac_x, 1ULL << 40, SILENCE, &v), DUET_LATCH_ACCEPT);
	cr_assert_not(duet_pair_leg(t, (uint32_t)slot, 0)->flags & DUET_LEG_F_PINNED,
		      "leg a was not asked to pin");

	/* Unpinning keeps the client latched but lets it move again. */
	memset(&s.pin[1], 0, sizeof(s.pin[1]));
	cr_assert_eq(put(&s, why), 1, "%s", why);
	cr_assert_not(lb->flags & DUET_LEG_F_PINNED);
	cr_assert(duet_pair_leg_client(t, (uint32_t)slot, 1, &cl));
	cr_assert(duet_addr_equal(&cl, &pin));
	cr_assert_eq(duet_leg_rx(lb, tlast(t, lb), duet_pair_leg_at(t, 2 * (uint32_t)slot), &x, mac_x, (1ULL << 40) + SILENCE, SILENCE, &v),
		     DUET_LATCH_MOVED);
}

Test(pair, put_with_changed_endpoints_replaces_the_pair)
{
	struct duet_pair_spec s = make_spec("call", ep4(1, 20000), ep4(1, 20002));
	struct duet_pair_spec s2 = make_spec("call", ep4(1, 20004), ep4(1, 20006));
	struct duet_pair_spec s3 = make_spec("call", ep4(1, 20004), ep4(1, 20008));
	const struct duet_addr *keys[2] = { &s.ep[0], &s.ep[1] };
	struct duet_addr x = client4(5, 40000);
	char why[DUET_PAIR_REASON_MAX];
	struct duet_leg_counters c;
	struct duet_addr cl;
	uint32_t idx[2];
	unsigned int leg;
	int slot, slot2;

	make_table(4, 1);
	cr_assert_eq(put(&s, why), 0, "%s", why);
	slot = duet_pair_find(t, "call");
	latch((uint32_t)slot, 0, &x);
	duet_pair_hot_at(t, 0, 2 * (uint32_t)slot)->pkts += 3;

	cr_assert_eq(put(&s2, why), 2, "%s", why);
	cr_assert_eq(duet_pair_count(t), 1);
	slot2 = duet_pair_find(t, "call");
	cr_assert_geq(slot2, 0);
	cr_assert_eq(duet_pair_find_endpoint(t, &s.ep[0], NULL), -ENOENT);
	cr_assert_eq(duet_pair_find_endpoint(t, &s.ep[1], NULL), -ENOENT);
	cr_assert_eq(lookup_burst(keys, 2, idx), 0);
	cr_assert_eq(duet_pair_find_endpoint(t, &s2.ep[0], &leg), slot2);
	cr_assert_eq(leg, 0);
	cr_assert_eq(duet_pair_find_endpoint(t, &s2.ep[1], &leg), slot2);
	cr_assert_eq(leg, 1);
	cr_assert(duet_addr_equal(local_of((uint32_t)slot2, 0), &s2.ep[0]));
	cr_assert_not(duet_pair_leg_client(t, (uint32_t)slot2, 0, &cl), "new legs start waiting");
	duet_pair_counters(t, (uint32_t)slot2, 0, &c);
	cr_assert_eq(c.pkts, 0, "counters restart on replacement");

	/* Keeping one endpoint and moving the other is a replacement too. */
	cr_assert_eq(put(&s3, why), 2, "%s", why);
	slot = duet_pair_find(t, "call");
	cr_assert_eq(duet_pair_find_endpoint(t, &s3.ep[0], &leg), slot);
	cr_assert_eq(leg, 0);
	cr_assert_eq(duet_pair_find_endpoint(t, &s3.ep[1], &leg), slot);
	cr_assert_eq(leg, 1);
	cr_assert_eq(duet_pair_find_endpoint(t, &s2.ep[1], NULL), -ENOENT);
	cr_assert_eq(duet_pair_count(t), 1);
}

/*
 * The code treats a mode change as a replacement (legs are rebuilt with the
 * new mode; latches and counters restart), because a leg's mode is written
 * only before it is published.
 */
Test(pair, put_with_another_mode_rebuilds_the_legs_with_it)
{
	struct duet_pair_spec s = make_spec("call", ep4(1, 20000), ep4(1, 20002));
	char why[DUET_PAIR_REASON_MAX];
	int rc, slot;

	make_table(4, 1);
	cr_assert_eq(put(&s, why), 0, "%s", why);
	s.mode = DUET_MODE_REKEY;
	set_keys(&s, 2);
	rc = put(&s, why);
	cr_assert(rc == 1 || rc == 2, "rc %d: %s", rc, why);
	slot = duet_pair_find(t, "call");
	cr_assert_eq(duet_pair_leg(t, (uint32_t)slot, 0)->mode, DUET_MODE_REKEY);
	cr_assert_eq(duet_pair_leg(t, (uint32_t)slot, 1)->mode, DUET_MODE_REKEY);
	cr_assert_eq(spec_of(t, (uint32_t)slot)->mode, DUET_MODE_REKEY);
	cr_assert_eq(duet_pair_find_endpoint(t, &s.ep[1], NULL), slot);
}

Test(pair, endpoint_of_another_pair_is_refused_with_its_name)
{
	struct duet_pair_spec s1 = make_spec("one", ep4(1, 20000), ep4(1, 20002));
	struct duet_pair_spec s2 = make_spec("two", ep4(2, 20000), ep4(1, 20002));
	struct duet_pair_spec s3 = make_spec("three", ep4(3, 20000), ep4(3, 20002));
	struct duet_pair_spec s1_moved = make_spec("one", ep4(3, 20002), ep4(9, 20000));
	char why[DUET_PAIR_REASON_MAX];
	int slot1;

	make_table(8, 1);
	cr_assert_eq(put(&s1, why), 0, "%s", why);
	slot1 = duet_pair_find(t, "one");
	cr_assert_eq(put(&s2, why), -EEXIST);
	cr_assert_not_null(strstr(why, "192.0.2.1:20002"), "reason does not name the endpoint: %s",
			   why);
	cr_assert_not_null(strstr(why, "leg b"), "reason does not name the leg: %s", why);
	cr_assert_eq(duet_pair_find(t, "two"), -ENOENT);
	cr_assert_eq(duet_pair_find_endpoint(t, &s2.ep[0], NULL), -ENOENT);
	cr_assert_eq(duet_pair_find_endpoint(t, &s1.ep[1], NULL), slot1);
	cr_assert_eq(duet_pair_count(t), 1);

	/* A replacement onto someone else's endpoint is refused and leaves the
	 * running pair as it was. */
	cr_assert_eq(put(&s3, why), 0, "%s", why);
	cr_assert_eq(put(&s1_moved, why), -EEXIST);
	cr_assert_not_null(strstr(why, "192.0.2.3:20002"), "%s", why);
	cr_assert_eq(duet_pair_find(t, "one"), slot1);
	cr_assert_eq(duet_pair_find_endpoint(t, &s1.ep[0], NULL), slot1);
	cr_assert_eq(duet_pair_find_endpoint(t, &s1.ep[1], NULL), slot1);
	cr_assert_eq(duet_pair_find_endpoint(t, &s1_moved.ep[1], NULL), -ENOENT);
	cr_assert_eq(duet_pair_count(t), 2);
}

Test(pair, bad_specs_are_refused_with_a_reason)
{
	struct duet_pair_spec s = make_spec("call", ep4(1, 20000), ep4(1, 20000));
	struct duet_pair_spec ok = make_spec("call", ep4(1, 20000), ep4(1, 20002));
	char why[DUET_PAIR_REASON_MAX];
	char id64[DUET_PAIR_ID_MAX + 1];

	make_table(4, 1);
	cr_assert_eq(put(&s, why), -EINVAL);
	cr_assert_not_null(strstr(why, "same endpoint"), "%s", why);

	s = ok;
	s.id[0] = '\0';
	cr_assert_eq(put(&s, why), -EINVAL);
	cr_assert_gt(strlen(why), 0);

	s = ok;
	memset(s.id, 'x', sizeof(s.id)); /* 65 bytes, no terminator */
	cr_assert_eq(put(&s, why), -EINVAL);
	cr_assert_gt(strlen(why), 0);

	s = ok;
	s.mode = 7;
	cr_assert_eq(put(&s, why), -EINVAL);
	cr_assert_not_null(strstr(why, "mode"), "%s", why);

	s = ok;
	memset(&s.ep[1], 0, sizeof(s.ep[1]));
	cr_assert_eq(put(&s, why), -EINVAL);
	cr_assert_not_null(strstr(why, "leg b"), "%s", why);

	s = ok;
	s.ep[0].port = 0;
	cr_assert_eq(put(&s, why), -EINVAL);
	cr_assert_not_null(strstr(why, "leg a"), "%s", why);

	cr_assert_eq(duet_pair_count(t), 0);
	cr_assert_eq(duet_pair_find_endpoint(t, &ok.ep[0], NULL), -ENOENT);

	/* The longest id is fine and found again. */
	memset(id64, 'i', DUET_PAIR_ID_MAX);
	id64[DUET_PAIR_ID_MAX] = '\0';
	s = ok;
	memcpy(s.id, id64, sizeof(id64));
	cr_assert_eq(put(&s, why), 0, "%s", why);
	cr_assert_geq(duet_pair_find(t, id64), 0);
}

Test(pair, full_table_refuses_until_a_delete_is_reclaimed)
{
	struct duet_pair_spec s1 = make_spec("one", ep4(1, 20000), ep4(1, 20002));
	struct duet_pair_spec s2 = make_spec("two", ep4(2, 20000), ep4(2, 20002));
	struct duet_pair_spec s3 = make_spec("three", ep4(3, 20000), ep4(3, 20002));
	char why[DUET_PAIR_REASON_MAX];

	make_table(2, 1);
	cr_assert_eq(put(&s1, why), 0, "%s", why);
	cr_assert_eq(put(&s2, why), 0, "%s", why);
	cr_assert_eq(put(&s3, why), -ENOSPC);
	cr_assert_not_null(strstr(why, "full"), "%s", why);
	cr_assert_eq(duet_pair_find(t, "three"), -ENOENT);
	cr_assert_eq(duet_pair_find_endpoint(t, &s3.ep[0], NULL), -ENOENT);
	cr_assert_eq(duet_pair_count(t), 2);

	cr_assert_eq(duet_pair_del(t, "one", 2000, NULL), 0);
	duet_pair_reclaim(t);
	cr_assert_eq(put(&s3, why), 0, "%s", why);
	cr_assert_eq(duet_pair_count(t), 2);
	cr_assert_geq(duet_pair_find_endpoint(t, &s3.ep[1], NULL), 0);
}

Test(pair, delete_returns_final_counters_and_forgets_the_pair)
{
	struct duet_pair_spec s = make_spec("call", ep4(1, 20000), ep4(1, 20002));
	char why[DUET_PAIR_REASON_MAX];
	struct duet_pair_final fin;
	uint32_t slot;

	make_table(4, 2);
	cr_assert_eq(duet_pair_put(t, &s, 1234, NULL, why, sizeof(why)), 0, "%s", why);
	slot = (uint32_t)duet_pair_find(t, "call");
	duet_pair_hot_at(t, 0, 2 * slot)->pkts = 10;
	duet_pair_hot_at(t, 0, 2 * slot)->bytes = 1600;
	duet_pair_hot_at(t, 1, 2 * slot)->pkts = 5;
	duet_pair_hot_at(t, 1, 2 * slot)->bytes = 800;
	duet_pair_drops_at(t, 1, 2 * slot + 1)->drop_src = 2;
	duet_pair_drops_at(t, 0, 2 * slot + 1)->drop_peer_unlatched = 4;

	memset(&fin, 0xff, sizeof(fin));
	cr_assert_eq(duet_pair_del(t, "call", 5678, &fin), 0);
	cr_assert_eq(fin.leg[0].pkts, 15);
	cr_assert_eq(fin.leg[0].bytes, 2400);
	cr_assert_eq(fin.leg[0].drop_src, 0);
	cr_assert_eq(fin.leg[1].pkts, 0);
	cr_assert_eq(fin.leg[1].drop_src, 2);
	cr_assert_eq(fin.leg[1].drop_peer_unlatched, 4);
	cr_assert_eq(fin.created_ms, 1234);
	cr_assert_eq(fin.ended_ms, 5678);

	cr_assert_eq(duet_pair_count(t), 0);
	cr_assert_eq(duet_pair_find(t, "call"), -ENOENT);
	cr_assert_eq(duet_pair_find_endpoint(t, &s.ep[0], NULL), -ENOENT);
	cr_assert_eq(duet_pair_find_endpoint(t, &s.ep[1], NULL), -ENOENT);
	cr_assert_eq(duet_pair_del(t, "call", 6000, &fin), -ENOENT);
	cr_assert_eq(duet_pair_del(t, "never", 6000, NULL), -ENOENT);

	/* The same id can come back, with fresh figures. */
	cr_assert_eq(duet_pair_put(t, &s, 7000, NULL, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(duet_pair_del(t, "call", 8000, &fin), 0);
	cr_assert_eq(fin.leg[0].pkts, 0);
	cr_assert_eq(fin.created_ms, 7000);
}

Test(pair, a_resumed_pair_counts_on_from_its_earlier_life_and_an_update_ignores_it)
{
	struct duet_pair_spec s = make_spec("call", ep4(1, 20000), ep4(1, 20002));
	char why[DUET_PAIR_REASON_MAX];
	struct duet_pair_resume rs;
	struct duet_leg_counters c;
	struct duet_pair_final fin;
	uint32_t slot;

	make_table(4, 2);
	memset(&rs, 0, sizeof(rs));
	rs.created_ms = 100000 - 60000; /* a minute before the put */
	rs.leg[0].pkts = 3000;
	rs.leg[0].bytes = 480000;
	rs.leg[0].drop_src = 7;
	rs.leg[1].drop_policed = 9;
	rs.leg[1].drop_replay = 2;
	cr_assert_eq(duet_pair_put_resume(t, &s, &rs, 100000, NULL, why, sizeof(why)), 0, "%s",
		     why);
	slot = (uint32_t)duet_pair_find(t, "call");
	cr_assert_eq(duet_pair_created_ms(t, slot), 40000);
	/* Both workers count on top of it. */
	duet_pair_hot_at(t, 0, 2 * slot)->pkts++;
	duet_pair_hot_at(t, 1, 2 * slot)->pkts++;
	duet_pair_hot_at(t, 1, 2 * slot)->bytes += 160;
	duet_pair_counters(t, slot, 0, &c);
	cr_assert(c.pkts == 3002 && c.bytes == 480160 && c.drop_src == 7);

	/* An update in place keeps what the pair counts, whatever rs says. */
	rs.created_ms = 1;
	rs.leg[0].pkts = 1;
	cr_assert_eq(duet_pair_put_resume(t, &s, &rs, 101000, NULL, why, sizeof(why)), 1, "%s",
		     why);
	cr_assert_eq(duet_pair_created_ms(t, slot), 40000);
	duet_pair_counters(t, slot, 0, &c);
	cr_assert_eq(c.pkts, 3002);

	/* Its end covers the whole call: the minute before the put too. */
	cr_assert_eq(duet_pair_del(t, "call", 102000, &fin), 0);
	cr_assert_eq(fin.created_ms, 40000);
	cr_assert_eq(fin.leg[0].pkts, 3002);
	cr_assert_eq(fin.leg[1].drop_policed, 9);
	cr_assert_eq(fin.leg[1].drop_replay, 2);
	cr_assert(fin.duration_ms >= 60000 && fin.duration_ms < 70000, "duration %lu",
		  (unsigned long)fin.duration_ms);

	/* The id put again without rs starts from zero in a fresh slot. */
	duet_pair_reclaim(t);
	cr_assert_eq(duet_pair_put_resume(t, &s, NULL, 103000, NULL, why, sizeof(why)), 0, "%s",
		     why);
	slot = (uint32_t)duet_pair_find(t, "call");
	duet_pair_counters(t, slot, 1, &c);
	cr_assert(c.pkts == 0 && c.drop_policed == 0 && c.drop_replay == 0);
	cr_assert_eq(duet_pair_created_ms(t, slot), 103000);
}

Test(pair, put_that_replaces_returns_the_old_pairs_final_figures)
{
	struct duet_pair_spec s = make_spec("call", ep4(1, 20000), ep4(1, 20002));
	struct duet_pair_spec moved = make_spec("call", ep4(1, 20004), ep4(1, 20006));
	char why[DUET_PAIR_REASON_MAX];
	struct duet_pair_put_result res;
	uint32_t slot;

	make_table(4, 1);
	memset(&res, 0xff, sizeof(res));
	cr_assert_eq(duet_pair_put(t, &s, 1000, &res, why, sizeof(why)), 0, "%s", why);
	slot = res.slot;
	cr_assert_eq(duet_pair_find(t, "call"), (int)slot);
	duet_pair_hot_at(t, 0, 2 * slot)->pkts = 7;
	duet_pair_drops_at(t, 0, 2 * slot + 1)->drop_auth = 3;

	/* Same endpoints and mode: updated in place, nothing replaced. */
	cr_assert_eq(duet_pair_put(t, &s, 1500, &res, why, sizeof(why)), 1, "%s", why);
	cr_assert_eq(res.slot, slot);

	/* Other endpoints: the old pair ends, and its figures come back. */
	memset(&res, 0, sizeof(res));
	cr_assert_eq(duet_pair_put(t, &moved, 2000, &res, why, sizeof(why)), 2, "%s", why);
	cr_assert_neq(res.slot, slot, "the old slot waits for its grace period");
	cr_assert_eq(duet_pair_find(t, "call"), (int)res.slot);
	cr_assert_str_eq(res.replaced.spec.id, "call");
	cr_assert(duet_addr_equal(&res.replaced.spec.ep[0], &s.ep[0]));
	cr_assert_eq(res.replaced.leg[0].pkts, 7);
	cr_assert_eq(res.replaced.leg[1].drop_auth, 3);
	cr_assert_eq(res.replaced.created_ms, 1000);
	cr_assert_eq(res.replaced.ended_ms, 2000);
	cr_assert_eq(res.replaced.latched[0], 0);
	cr_assert_eq(res.replaced.last_rx_tsc[0], 0);
	/* The new pair starts from zero. */
	cr_assert_eq(duet_pair_created_ms(t, res.slot), 2000);
}

Test(pair, deleted_slot_is_not_reused_before_every_worker_is_quiescent)
{
	struct duet_pair_spec s1 = make_spec("one", ep4(1, 20000), ep4(1, 20002));
	struct duet_pair_spec s2 = make_spec("two", ep4(2, 20000), ep4(2, 20002));
	char why[DUET_PAIR_REASON_MAX];
	const struct duet_leg *old;
	int slot1, slot2;

	make_table(2, 1);
	/* This thread plays worker 0: online, holding whatever it looked up. */
	cr_assert_eq(duet_pair_worker_register(t, 0), 0);
	duet_pair_quiescent(t, 0);
	cr_assert_eq(put(&s1, why), 0, "%s", why);
	slot1 = duet_pair_find(t, "one");
	old = duet_pair_leg_at(t, 2 * (uint32_t)slot1);
	cr_assert_eq(duet_pair_del(t, "one", 2000, NULL), 0);
	duet_pair_reclaim(t);
	cr_assert_eq(put(&s2, why), 0, "%s", why);
	slot2 = duet_pair_find(t, "two");
	cr_assert_neq(slot2, slot1, "slot reused before the grace period");
	/* A worker still holding leg a of the deleted pair reads it intact. */
	cr_assert_eq(old->egress_port, s1.ep[1].port);
	cr_assert_eq(old->mode, s1.mode);

	cr_assert_eq(duet_pair_del(t, "two", 2000, NULL), 0);
	duet_pair_quiescent(t, 0);
	duet_pair_reclaim(t);
	cr_assert_eq(put(&s1, why), 0, "%s", why);
	cr_assert_eq(put(&s2, why), 0, "%s", why);
	cr_assert_eq(duet_pair_count(t), 2);
	duet_pair_worker_unregister(t, 0);
}

Test(pair, with_capacity_one_put_waits_for_the_grace_period)
{
	struct duet_pair_spec s1 = make_spec("one", ep4(1, 20000), ep4(1, 20002));
	struct duet_pair_spec s2 = make_spec("two", ep4(2, 20000), ep4(2, 20002));
	char why[DUET_PAIR_REASON_MAX];

	make_table(1, 1);
	cr_assert_eq(duet_pair_worker_register(t, 0), 0);
	cr_assert_eq(put(&s1, why), 0, "%s", why);
	cr_assert_eq(duet_pair_del(t, "one", 2000, NULL), 0);
	duet_pair_reclaim(t);
	cr_assert_eq(put(&s2, why), -ENOSPC, "the only slot was reused under a worker");
	cr_assert_eq(duet_pair_count(t), 0);
	cr_assert_eq(duet_pair_find_endpoint(t, &s2.ep[0], NULL), -ENOENT);

	duet_pair_quiescent(t, 0);
	duet_pair_reclaim(t);
	cr_assert_eq(put(&s2, why), 0, "%s", why);
	cr_assert_eq(duet_pair_find(t, "two"), 0);

	/* A worker that goes offline stops holding reclaim back. */
	cr_assert_eq(duet_pair_del(t, "two", 3000, NULL), 0);
	duet_pair_worker_unregister(t, 0);
	cr_assert_eq(put(&s1, why), 0, "%s", why);
}

/*
 * Replacing a pair (new endpoints) on a full table while a worker has not
 * yet passed a grace period: the old pair's slot cannot be reused yet, so
 * the replacement cannot be built. duet_pair_put's own comment promises that
 * "a refused replacement leaves the call running": either the replacement
 * happens (2) or it is refused and the old pair still relays.
 */
Test(pair, refused_replacement_on_a_full_table_leaves_the_pair_running, .timeout = 20)
{
	struct duet_pair_spec s = make_spec("call", ep4(1, 20000), ep4(1, 20002));
	struct duet_pair_spec moved = make_spec("call", ep4(1, 20004), ep4(1, 20006));
	char why[DUET_PAIR_REASON_MAX];
	int rc;

	make_table(1, 1);
	cr_assert_eq(duet_pair_worker_register(t, 0), 0);
	cr_assert_eq(put(&s, why), 0, "%s", why);
	duet_pair_quiescent(t, 0);
	rc = put(&moved, why);
	if (rc == 2) {
		cr_expect_eq(duet_pair_find_endpoint(t, &moved.ep[0], NULL), duet_pair_find(t, "call"));
	} else {
		cr_expect_lt(rc, 0);
		cr_expect_geq(duet_pair_find(t, "call"), 0,
			      "put returned %d (%s) and the pair is gone", rc, why);
		cr_expect_geq(duet_pair_find_endpoint(t, &s.ep[0], NULL), 0,
			      "the old endpoints stopped matching");
		cr_expect_eq(duet_pair_count(t), 1);
	}
	duet_pair_worker_unregister(t, 0);
}

Test(pair, counters_sum_workers_and_a_reused_slot_starts_from_zero)
{
	struct duet_pair_spec s1 = make_spec("one", ep4(1, 20000), ep4(1, 20002));
	struct duet_pair_spec s2 = make_spec("two", ep4(2, 20000), ep4(2, 20002));
	char why[DUET_PAIR_REASON_MAX];
	struct duet_leg_counters c;
	uint32_t slot;

	make_table(1, 2);
	cr_assert_eq(put(&s1, why), 0, "%s", why);
	slot = (uint32_t)duet_pair_find(t, "one");
	duet_pair_hot_at(t, 0, 2 * slot)->pkts += 3;
	duet_pair_hot_at(t, 1, 2 * slot)->pkts += 4;
	duet_pair_hot_at(t, 1, 2 * slot)->bytes += 640;
	duet_pair_drops_at(t, 0, 2 * slot + 1)->drop_src += 1;
	duet_pair_counters(t, slot, 0, &c);
	cr_assert_eq(c.pkts, 7);
	cr_assert_eq(c.bytes, 640);
	cr_assert_eq(c.drop_src, 0);
	duet_pair_counters(t, slot, 1, &c);
	cr_assert_eq(c.pkts, 0);
	cr_assert_eq(c.drop_src, 1);
	/* Worker blocks are separate memory: worker 1's leg is not worker 0's. */
	cr_assert_neq(duet_pair_hot_at(t, 0, 2 * slot), duet_pair_hot_at(t, 1, 2 * slot));
	cr_assert_neq(duet_pair_drops_at(t, 0, 2 * slot), duet_pair_drops_at(t, 1, 2 * slot));

	cr_assert_eq(duet_pair_del(t, "one", 2000, NULL), 0);
	duet_pair_reclaim(t);
	cr_assert_eq(put(&s2, why), 0, "%s", why);
	cr_assert_eq((uint32_t)duet_pair_find(t, "two"), slot, "capacity 1: the slot is reused");
	duet_pair_counters(t, slot, 0, &c);
	cr_assert_eq(c.pkts, 0, "new pair inherits %lu packets", (unsigned long)c.pkts);
	cr_assert_eq(c.bytes, 0);
	duet_pair_counters(t, slot, 1, &c);
	cr_assert_eq(c.drop_src, 0);
	duet_pair_hot_at(t, 1, 2 * slot)->pkts += 2;
	duet_pair_counters(t, slot, 0, &c);
	cr_assert_eq(c.pkts, 2);
}

Test(pair, next_iterates_exactly_the_live_pairs)
{
	char why[DUET_PAIR_REASON_MAX], id[16];
	bool want[8] = { 0 }, seen[8] = { 0 };
	uint32_t it = 0;
	unsigned int i, n = 0;
	int s;

	make_table(8, 1);
	cr_assert_eq(duet_pair_next(t, &it), -ENOENT);
	for (i = 0; i < 6; i++) {
		struct duet_pair_spec sp;

		snprintf(id, sizeof(id), "p%u", i);
		sp = make_spec(id, ep4((uint8_t)(10 + i), 20000), ep4((uint8_t)(10 + i), 20002));
		cr_assert_eq(put(&sp, why), 0, "%s", why);
	}
	cr_assert_eq(duet_pair_del(t, "p1", 0, NULL), 0);
	cr_assert_eq(duet_pair_del(t, "p4", 0, NULL), 0);
	for (i = 0; i < 6; i++) {
		snprintf(id, sizeof(id), "p%u", i);
		s = duet_pair_find(t, id);
		if (s >= 0)
			want[s] = true;
	}
	it = 0;
	while ((s = duet_pair_next(t, &it)) >= 0) {
		cr_assert_lt(s, 8);
		cr_assert_not(seen[s], "slot %d twice", s);
		seen[s] = true;
		n++;
		cr_assert_eq(duet_pair_find(t, spec_of(t, (uint32_t)s)->id), s);
	}
	cr_assert_eq(n, 4);
	cr_assert_eq(n, duet_pair_count(t));
	cr_assert_arr_eq(seen, want, sizeof(seen));
	cr_assert_eq(duet_pair_next(t, &it), -ENOENT);

	/* Deleting the slot just returned is allowed while iterating. */
	it = 0;
	n = 0;
	while ((s = duet_pair_next(t, &it)) >= 0) {
		char victim[DUET_PAIR_ID_MAX + 1];

		snprintf(victim, sizeof(victim), "%s", spec_of(t, (uint32_t)s)->id);
		cr_assert_eq(duet_pair_del(t, victim, 0, NULL), 0);
		n++;
	}
	cr_assert_eq(n, 4);
	cr_assert_eq(duet_pair_count(t), 0);
}

Test(pair, mode_names_round_trip_and_unknown_names_are_refused)
{
	static const char *const bad[] = { "", "PASSTHROUGH", "pass", "rekey ", "verify\n", "4" };
	unsigned int m, i;
	uint8_t out;

	for (m = DUET_MODE_PASSTHROUGH; m <= DUET_MODE_REKEY; m++) {
		const char *n = duet_mode_name(m);

		cr_assert_not_null(n);
		out = 0xee;
		cr_assert_eq(duet_mode_parse(n, &out), 0);
		cr_assert_eq(out, m);
	}
	cr_assert_str_eq(duet_mode_name(DUET_MODE_PASSTHROUGH), "passthrough");
	cr_assert_str_eq(duet_mode_name(DUET_MODE_VERIFY), "verify");
	cr_assert_str_eq(duet_mode_name(DUET_MODE_REKEY), "rekey");
	cr_assert_null(duet_mode_name(DUET_MODE_REKEY + 1));
	cr_assert_null(duet_mode_name(~0u));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = 0xee;
		cr_assert_eq(duet_mode_parse(bad[i], &out), -EINVAL, "'%s' accepted", bad[i]);
		cr_assert_eq(out, 0xee, "'%s' wrote the mode", bad[i]);
	}
	cr_assert_eq(duet_mode_parse(NULL, &out), -EINVAL);
}

/*
 * A reader pthread plays worker 0: bulk lookups of every endpoint the writer
 * may use, reading (and latching) each leg found, then reporting quiescent.
 * The main thread is the control thread: thousands of puts, replacements,
 * pin changes and deletes, reclaiming as it goes. The reader must only ever
 * find legs whose `local` is the key it looked up: a slot reused before the
 * reader's quiescent state would show another endpoint.
 */
#define MT_PAIRS 24		      /* ids */
#define MT_EPS (4 * MT_PAIRS)	      /* endpoints, each id moves among 4 */
#define MT_OPS 30000u
#define MT_CAP 32

struct mt_ctx {
	struct duet_addr eps[MT_EPS];
	atomic_bool stop;
	atomic_bool registered;
	atomic_ulong loops; /* reader iterations, each ending in a quiescent state */
	int reg_rc;
	uint64_t lookups, hits, wrong_local, wrong_client, read_busy, latch_busy;
	struct duet_addr first_key, first_local;
};

static void *
mt_reader(void *p)
{
	struct mt_ctx *c = p;
	const struct duet_addr *keys[32];
	unsigned int key_no[32];
	uint32_t idx[32];
	uint64_t now = 1;
	unsigned int base = 0, i;

	c->reg_rc = duet_pair_worker_register(t, 0);
	atomic_store(&c->registered, true);
	if (c->reg_rc != 0)
		return NULL;
	while (!atomic_load(&c->stop)) {
		uint64_t hits;

		for (i = 0; i < 32; i++) {
			key_no[i] = (base + i) % MT_EPS;
			keys[i] = &c->eps[key_no[i]];
		}
		base = (base + 7) % MT_EPS;
		hits = lookup_burst(keys, 32, idx);
		c->lookups += 32;
		for (i = 0; i < 32; i++) {
			struct duet_leg *l;
			struct duet_addr local;
			struct duet_leg_view v;
			struct duet_addr src;
			enum duet_latch_verdict d;

			if (!(hits & (1ULL << i)))
				continue;
			c->hits++;
			l = duet_pair_leg_at(t, idx[i]);
			leg_local_at(idx[i], &local);
			if (!duet_addr_equal(&local, keys[i])) {
				if (c->wrong_local == 0) {
					c->first_key = *keys[i];
					c->first_local = local;
				}
				c->wrong_local++;
			}
			/* Latch with a source derived from the endpoint, then read it
			 * back: whatever the control thread does, a latched client is
			 * one of ours or the control thread's pin. */
			src = *keys[i];
			src.ip[0] = 203;
			src.ip[1] = 0;
			src.ip[2] = 113;
			d = duet_leg_rx(l, tlast(t, l), duet_pair_leg_at(t, idx[i] ^ 1), &src, mac_x, now++, 1000,
					&v);
			/* The control thread is pinning or filling one of the two
			 * legs this instant: this packet latched nothing (the next
			 * one will). */
			if (d == DUET_LATCH_BUSY) {
				c->latch_busy++;
				continue;
			}
			if (!duet_leg_read(l, &v)) {
				c->read_busy++;
			} else {
				struct duet_addr pin = client4((uint8_t)(key_no[i] / 4), 5004);

				if (v.state != DUET_LEG_LATCHED ||
				    (!duet_addr_equal(&v.client, &src) &&
				     !duet_addr_equal(&v.client, &pin)))
					c->wrong_client++;
			}
		}
		duet_pair_quiescent(t, 0);
		atomic_fetch_add(&c->loops, 1);
	}
	duet_pair_worker_unregister(t, 0);
	return NULL;
}

/* The control thread out of slots waits for the worker to pass a quiescent
 * state, as duetd's would retry later: a descheduled reader must not turn
 * the rest of the run into refusals. */
static void
mt_wait_reader(struct mt_ctx *c)
{
	unsigned long l0 = atomic_load(&c->loops);
	unsigned int spins = 0;

	while (atomic_load(&c->loops) < l0 + 2 && spins++ < 2000000)
		sched_yield();
}

static void
mt_run(void)
{
	static struct mt_ctx c;
	char why[DUET_PAIR_REASON_MAX], id[16];
	unsigned int n_put = 0, n_upd = 0, n_repl = 0, n_del = 0, n_full = 0, n_busy = 0;
	uint32_t rnd = 12345, op;
	char k1[DUET_ADDR_STRLEN], k2[DUET_ADDR_STRLEN];
	pthread_t th;
	unsigned int i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < MT_EPS; i++)
		c.eps[i] = ep4((uint8_t)(1 + i / 8), (uint16_t)(30000 + 2 * (i % 8)));
	make_table(MT_CAP, 1);
	cr_assert_eq(pthread_create(&th, NULL, mt_reader, &c), 0);
	while (!atomic_load(&c.registered))
		rte_pause();
	cr_assert_eq(c.reg_rc, 0);

	for (op = 0; op < MT_OPS; op++) {
		struct duet_pair_spec s;
		unsigned int p, e;
		int rc;

		rnd = rnd * 1103515245u + 12345u;
		p = (rnd >> 8) % MT_PAIRS;
		e = (rnd >> 20) % 3; /* which endpoint pair of the id's four: 0-1, 1-2, 2-3 */
		snprintf(id, sizeof(id), "mt%u", p);
		if (((rnd >> 4) & 3) == 0) {
			rc = duet_pair_del(t, id, op, NULL);
			if (rc == 0)
				n_del++;
		} else {
			s = make_spec(id, c.eps[4 * p + e], c.eps[4 * p + e + 1]);
			if ((rnd >> 28) & 1)
				s.pin[1] = client4((uint8_t)p, 5004);
			rc = put(&s, why);
			if (rc == 0)
				n_put++;
			else if (rc == 1)
				n_upd++;
			else if (rc == 2)
				n_repl++;
			else if (rc == -ENOSPC) {
				n_full++;
				mt_wait_reader(&c);
			}
			else if (rc == -EEXIST)
				n_busy++;
			else
				cr_assert_fail("put %s: %d %s", id, rc, why);
		}
		if ((op & 7) == 0)
			duet_pair_reclaim(t);
	}
	atomic_store(&c.stop, true);
	pthread_join(th, NULL);

	cr_log_info("ops %u: put %u update %u replace %u del %u full %u eexist %u; reader "
		    "lookups %lu hits %lu busy %lu latch busy %lu",
		    MT_OPS, n_put, n_upd, n_repl, n_del, n_full, n_busy, (unsigned long)c.lookups,
		    (unsigned long)c.hits, (unsigned long)c.read_busy, (unsigned long)c.latch_busy);
	duet_addr_format(&c.first_key, k1, sizeof(k1));
	duet_addr_format(&c.first_local, k2, sizeof(k2));
	cr_assert_eq(c.wrong_local, 0, "%lu legs found under another key (first: %s had %s)",
		     (unsigned long)c.wrong_local, k1, k2);
	cr_assert_eq(c.wrong_client, 0, "a leg held a client that is neither ours nor its pin");
	cr_assert_lt(c.latch_busy, c.hits / 10, "latches gave up on a busy peer too often");
	cr_assert_eq(n_busy, 0, "each id has endpoints of its own");
	cr_assert_gt(n_put, 100);
	cr_assert_gt(n_repl, 100);
	cr_assert_gt(n_del, 100);
	cr_assert_gt(c.hits, 1000, "the reader must really have run alongside");
	/* The table is still consistent: every live pair is found by its endpoints. */
	{
		uint32_t it = 0;
		unsigned int live = 0;
		int sl;

		while ((sl = duet_pair_next(t, &it)) >= 0) {
			const struct duet_pair_spec *sp = spec_of(t, (uint32_t)sl);
			unsigned int leg;

			cr_assert_eq(duet_pair_find_endpoint(t, &sp->ep[0], &leg), sl);
			cr_assert_eq(leg, 0);
			cr_assert_eq(duet_pair_find_endpoint(t, &sp->ep[1], &leg), sl);
			cr_assert_eq(leg, 1);
			live++;
		}
		cr_assert_eq(live, duet_pair_count(t));
	}
}

Test(pair, worker_reading_while_control_churns_only_sees_its_own_keys, .timeout = 300)
{
	mt_run();
}

Test(pair, keyed_modes_refuse_a_missing_key_and_passthrough_refuses_any_key)
{
	struct duet_pair_spec s = make_spec("k", ep4(1, 20000), ep4(1, 20002));
	char why[DUET_PAIR_REASON_MAX];

	make_table(4, 1);
	s.mode = DUET_MODE_VERIFY;
	set_keys(&s, 1);
	s.key[DUET_KEY_B_IN].key_len = 0;
	cr_assert_eq(put(&s, why), -EINVAL);
	cr_assert_str_eq(why, "mode verify needs key b_in");
	set_keys(&s, 1);
	s.key[DUET_KEY_A_OUT] = s.key[DUET_KEY_A_IN];
	cr_assert_eq(put(&s, why), -EINVAL);
	cr_assert_str_eq(why, "mode verify takes no key a_out");
	s.mode = DUET_MODE_REKEY;
	set_keys(&s, 1);
	s.key[DUET_KEY_B_OUT].key_len = 0;
	cr_assert_eq(put(&s, why), -EINVAL);
	cr_assert_str_eq(why, "mode rekey needs key b_out");
	s.mode = DUET_MODE_PASSTHROUGH;
	set_keys(&s, 1);
	s.key[DUET_KEY_A_IN] = s.key[DUET_KEY_A_OUT];
	s.key[DUET_KEY_A_IN].suite = DUET_SRTP_AEAD_AES_128_GCM;
	s.key[DUET_KEY_A_IN].key_len = 28;
	cr_assert_eq(put(&s, why), -EINVAL);
	cr_assert_str_eq(why, "mode passthrough takes no key a_in");
	cr_assert_eq(duet_pair_count(t), 0);
}

Test(pair, keyed_pair_gets_sessions_per_direction_and_the_spec_keeps_no_key)
{
	struct duet_pair_spec s = make_spec("k", ep4(1, 20000), ep4(1, 20002));
	const struct duet_pair_spec *kept;
	char why[DUET_PAIR_REASON_MAX];
	static const uint8_t zero[sizeof(s.key)];
	int slot;

	make_table(4, 1);
	s.mode = DUET_MODE_REKEY;
	set_keys(&s, 3);
	cr_assert_eq(put(&s, why), 0, "%s", why);
	slot = duet_pair_find(t, "k");
	cr_assert_not_null(duet_pair_srtp_at(t, 2 * (uint32_t)slot));
	for (unsigned int k = 0; k < 2; k++) {
		struct duet_srtp_ctx *d = duet_pair_srtp_at(t, 2 * (uint32_t)slot + k);

		cr_assert_not_null(d->in);
		cr_assert_not_null(d->out);
		cr_assert_null(d->in_prev);
		cr_assert_eq(d->in->rtp_auth_only, 0, "rekey decrypts");
	}
	kept = spec_of(t, (uint32_t)slot);
	cr_assert_eq(memcmp(kept->key, zero, sizeof(zero)), 0, "keys copied into the spec");

	/* A passthrough pair has no SRTP state at all. */
	struct duet_pair_spec p = make_spec("p", ep4(2, 20000), ep4(2, 20002));

	cr_assert_eq(put(&p, why), 0, "%s", why);
	cr_assert_null(duet_pair_srtp_at(t, 2 * (uint32_t)duet_pair_find(t, "p")));

	/* Verify with AES-CM: the inbound RTP side only checks tags. */
	struct duet_pair_spec v = make_spec("v", ep4(3, 20000), ep4(3, 20002));

	v.mode = DUET_MODE_VERIFY;
	set_keys(&v, 4);
	cr_assert_eq(put(&v, why), 0, "%s", why);
	struct duet_srtp_ctx *vd = duet_pair_srtp_at(t, 2 * (uint32_t)duet_pair_find(t, "v") + 1);

	cr_assert_eq(vd->in->rtp_auth_only, 1);
	cr_assert_null(vd->out);
}

Test(pair, key_rotation_swaps_in_place_and_keeps_the_old_sender_key_for_grace)
{
	struct duet_pair_spec s = make_spec("r", ep4(1, 20000), ep4(1, 20002));
	struct duet_srtp_sess *a_in, *b_in, *a_out;
	struct duet_srtp_ctx *da, *db;
	char why[DUET_PAIR_REASON_MAX];
	int slot;

	make_table(4, 1);
	s.mode = DUET_MODE_REKEY;
	set_keys(&s, 5);
	cr_assert_eq(put(&s, why), 0, "%s", why);
	slot = duet_pair_find(t, "r");
	da = duet_pair_srtp_at(t, 2 * (uint32_t)slot);
	db = duet_pair_srtp_at(t, 2 * (uint32_t)slot + 1);
	a_in = da->in;
	b_in = db->in;
	a_out = db->out; /* packets toward a leave with a_out */

	/* The same keys again: nothing moves. */
	cr_assert_eq(put(&s, why), 1, "%s", why);
	cr_assert_eq(da->in, a_in);
	cr_assert_null(da->in_prev);

	/* New a_in and a_out only. */
	for (unsigned int i = 0; i < 30; i++) {
		s.key[DUET_KEY_A_IN].key[i] ^= 0x5a;
		s.key[DUET_KEY_A_OUT].key[i] ^= 0xa5;
	}
	cr_assert_eq(put(&s, why), 1, "in place: %s", why);
	cr_assert_eq(duet_pair_find(t, "r"), slot);
	cr_assert_neq(da->in, a_in);
	cr_assert_eq(da->in_prev, a_in, "old sender key kept for the grace period");
	cr_assert_gt(da->prev_until_tsc, rte_get_tsc_cycles());
	cr_assert_eq(db->in, b_in, "b_in unchanged");
	cr_assert_null(db->in_prev);
	cr_assert_neq(db->out, a_out);

	/* A bad new key leaves everything as it was. */
	struct duet_srtp_sess *cur = da->in;

	s.key[DUET_KEY_A_IN].key[0] ^= 1;
	s.key[DUET_KEY_A_IN].key_len = 29;
	cr_assert_lt(put(&s, why), 0);
	cr_assert_eq(da->in, cur);

	/* Deleting frees the SRTP state after the grace period. */
	cr_assert_eq(duet_pair_del(t, "r", 2000, NULL), 0);
	duet_pair_reclaim(t);
	cr_assert_null(t->fast[slot].crypto);
}

/* A put tells its caller the slot the id had before it (sync uses it to
 * report a replaced pair and to retry a load's record), so that nobody
 * looks the id up a second time: -1 for a new id, the same slot for an
 * update in place, the old slot for a replacement, and the live slot when
 * a replacement is refused. */
Test(pair, a_put_tells_the_slot_the_id_had_before)
{
	struct duet_pair_spec s = make_spec("moving", ep4(6, 20040), ep4(6, 20041));
	struct duet_pair_spec other = make_spec("other", ep4(6, 20050), ep4(6, 20051));
	struct duet_pair_put_result res;
	char why[DUET_PAIR_REASON_MAX];
	uint32_t first;

	make_table(8, 1);
	cr_assert_eq(duet_pair_put(t, &s, 1000, &res, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(res.old_slot, -1);
	first = res.slot;
	s.idle_ms = 5000;
	cr_assert_eq(duet_pair_put(t, &s, 1000, &res, why, sizeof(why)), 1, "%s", why);
	cr_assert_eq(res.old_slot, (int)first);
	cr_assert_eq(res.slot, first);
	cr_assert_eq(duet_pair_put(t, &other, 1000, &res, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(res.old_slot, -1);
	/* Moving onto the other pair's endpoint is refused: the old pair
	 * keeps its slot, and the caller learns which. */
	s.ep[1] = other.ep[0];
	cr_assert_eq(duet_pair_put(t, &s, 1000, &res, why, sizeof(why)), -EEXIST);
	cr_assert_eq(res.old_slot, (int)first);
	s.ep[1] = ep4(6, 20042);
	cr_assert_eq(duet_pair_put(t, &s, 1000, &res, why, sizeof(why)), 2, "%s", why);
	cr_assert_eq(res.old_slot, (int)first);
	cr_assert_neq(res.slot, first, "a replacement takes another slot");
	cr_assert_eq(duet_pair_find(t, "moving"), (int)res.slot);
	cr_assert_eq(duet_pair_find(t, "other"), duet_pair_find_endpoint(t, &other.ep[0], NULL));
	/* Ids whose hashes are found by position after deletes and re-adds. */
	cr_assert_eq(duet_pair_del(t, "other", 2000, NULL), 0);
	cr_assert_eq(duet_pair_find(t, "other"), -ENOENT);
	cr_assert_str_eq(duet_pair_id_of(t, res.slot), "moving");
}
