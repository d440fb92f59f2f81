/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pair_test.h: what the lib/pair unit tests with an EAL of one lcore
 * share (test_duet_pair_crypto, test_duet_pair_srtp_state): the EAL (no
 * hugepages, no PCI, no shared files, a --file-prefix of its own per test
 * process) with libsrtp2 ready, its end, the tables' endpoint space and a
 * pair's spec (test_duet_pair uses the space too). Called by the
 * test's main thread (Criterion .init/.fini hooks, test bodies); a failure
 * fails the test.
 */
#ifndef DUET_TEST_PAIR_TEST_H
#define DUET_TEST_PAIR_TEST_H

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "duet_pair.h"
#include "duet_srtp.h"
#include "../eal_rundir.h"

/* The tables' endpoint space in the pair tests: 192.0.2.1 to 192.0.2.32
 * (address i is 192.0.2.(i + 1)), ports 20000 to 30015. */
#define PAIR_TEST_SPACE_ADDRS 32
#define PAIR_TEST_PORT_MIN 20000
#define PAIR_TEST_PORT_MAX 30015

static inline const struct duet_pair_space *
pair_test_space(void)
{
	static struct duet_pair_space sp;
	unsigned int i;

	memset(&sp, 0, sizeof(sp));
	for (i = 0; i < PAIR_TEST_SPACE_ADDRS; i++)
		duet_addr_set4(&sp.addrs[i], htonl(0xc0000200u | (i + 1)), 0);
	sp.n_addrs = PAIR_TEST_SPACE_ADDRS;
	sp.port_min = PAIR_TEST_PORT_MIN;
	sp.port_max = PAIR_TEST_PORT_MAX;
	return &sp;
}

/* Start the EAL as program prog, its file prefix tag_<pid>. */
static inline void
pair_test_eal_up(const char *prog, const char *tag)
{
	char name[64], prefix[64];
	char *argv[] = {
		name,	     "--no-huge",	"-m",	  "128",  "--no-pci",	 "--no-shconf",
		"--no-telemetry", "--file-prefix", prefix, "--log-level", "error", "--lcores",
		"0",	     NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	snprintf(name, sizeof(name), "%s", prog);
	snprintf(prefix, sizeof(prefix), "%s_%ld", tag, (long)getpid());
	cr_assert_geq(rte_eal_init(argc, argv), 0, "rte_eal_init: %s", rte_strerror(rte_errno));
	test_eal_rundir_remove_at_exit();
	cr_assert_eq(duet_srtp_init(), 0);
}

/* Free the test's table *t and stop the EAL (a .fini hook). */
static inline void
pair_test_eal_down(struct duet_pair_table **t)
{
	duet_pair_table_free(*t);
	*t = NULL;
	rte_eal_cleanup();
}

/* Pair id with legs 192.0.2.host:20000 (a, port 0) and :20002 (b, port
 * 1), and no keys yet. */
static inline struct duet_pair_spec
pair_test_spec(const char *id, uint8_t host, uint8_t mode)
{
	struct duet_pair_spec s;

	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", id);
	s.mode = mode;
	duet_addr_set4(&s.ep[0], htonl(0xc0000200u | host), htons(20000));
	duet_addr_set4(&s.ep[1], htonl(0xc0000200u | host), htons(20002));
	s.port_idx[1] = 1;
	return s;
}

/* The record of live slot `slot` (duet_pair_spec_get), in one of four
 * buffers used in turn, so a test can hold a few at once. */
static inline const struct duet_pair_spec *
spec_of(const struct duet_pair_table *t, uint32_t slot)
{
	static struct duet_pair_spec buf[4];
	static unsigned int next;
	struct duet_pair_spec *s = &buf[next++ % 4];

	duet_pair_spec_get(t, slot, s);
	return s;
}

#endif /* DUET_TEST_PAIR_TEST_H */
