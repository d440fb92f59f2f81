/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of lib/contract/duet_record.c: the contract's words, which
 * every program that writes or reads a pair record takes from there. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "duet_record.h"

Test(record, mode_names_round_trip)
{
	unsigned int m;
	uint8_t v = 99;

	for (m = 0; m < DUET_MODE_COUNT; m++) {
		cr_assert_not_null(duet_mode_name(m));
		cr_assert_eq(duet_mode_parse(duet_mode_name(m), &v), 0);
		cr_assert_eq(v, m);
		cr_assert(strstr(duet_mode_list(), duet_mode_name(m)) != NULL);
	}
	cr_assert_str_eq(duet_mode_name(DUET_MODE_PASSTHROUGH), "passthrough");
	cr_assert_null(duet_mode_name(DUET_MODE_COUNT));
	cr_assert_eq(duet_mode_parse("Verify", &v), -EINVAL);
	cr_assert_eq(duet_mode_parse("", &v), -EINVAL);
	cr_assert_eq(duet_mode_parse(NULL, &v), -EINVAL);
}

Test(record, key_fields_are_named_once_and_found_by_counted_bytes)
{
	static const char *const want[DUET_KEY_COUNT] = {"a_in", "a_out", "b_in", "b_out"};
	unsigned int k;

	for (k = 0; k < DUET_KEY_COUNT; k++) {
		cr_assert_str_eq(duet_key_field(k), want[k]);
		cr_assert_eq(duet_key_field_index(want[k], strlen(want[k])), (int)k);
	}
	cr_assert_null(duet_key_field(DUET_KEY_COUNT));
	/* Prefixes, longer names and names with a NUL inside are not keys. */
	cr_assert_eq(duet_key_field_index("a_in", 3), -1);
	cr_assert_eq(duet_key_field_index("a_inx", 5), -1);
	cr_assert_eq(duet_key_field_index("a_in\0", 5), -1);
	cr_assert_eq(duet_key_field_index("mode", 4), -1);
	cr_assert_eq(duet_key_field_index(NULL, 0), -1);
}

Test(record, each_mode_takes_exactly_its_keys)
{
	unsigned int k;

	for (k = 0; k < DUET_KEY_COUNT; k++) {
		cr_assert_not(duet_mode_takes_key(DUET_MODE_PASSTHROUGH, k),
			      "passthrough takes %s", duet_key_field(k));
		cr_assert(duet_mode_takes_key(DUET_MODE_REKEY, k));
	}
	cr_assert(duet_mode_takes_key(DUET_MODE_VERIFY, DUET_KEY_A_IN));
	cr_assert(duet_mode_takes_key(DUET_MODE_VERIFY, DUET_KEY_B_IN));
	cr_assert_not(duet_mode_takes_key(DUET_MODE_VERIFY, DUET_KEY_A_OUT));
	cr_assert_not(duet_mode_takes_key(DUET_MODE_VERIFY, DUET_KEY_B_OUT));
	cr_assert_not(duet_mode_takes_key(DUET_MODE_COUNT, DUET_KEY_A_IN));
	cr_assert_not(duet_mode_takes_key(DUET_MODE_REKEY, DUET_KEY_COUNT));
}

Test(record, pair_ids)
{
	char longest[DUET_RECORD_ID_MAX + 2];

	cr_assert(duet_record_id_ok("call-1"));
	cr_assert(duet_record_id_ok("a.b_c:D-9"));
	memset(longest, 'x', DUET_RECORD_ID_MAX);
	longest[DUET_RECORD_ID_MAX] = '\0';
	cr_assert(duet_record_id_ok(longest));
	longest[DUET_RECORD_ID_MAX] = 'x';
	longest[DUET_RECORD_ID_MAX + 1] = '\0';
	cr_assert_not(duet_record_id_ok(longest));
	cr_assert_not(duet_record_id_ok(""));
	cr_assert_not(duet_record_id_ok(NULL));
	cr_assert_not(duet_record_id_ok("a b"));
	cr_assert_not(duet_record_id_ok("a/b"));
	cr_assert_not(duet_record_id_ok("caf\xc3\xa9"));
	cr_assert_not(duet_record_id_ok("{r1}"));
}

/* ---- SRTP stream state (stats hash a_srtp_in, ...) ------------------------ */

static struct duet_srtp_stream_state
srtp_state(unsigned int k, uint32_t ssrc, bool rtp, uint32_t roc, uint16_t seq, bool srtcp,
	   uint32_t idx)
{
	struct duet_srtp_stream_state s;

	memset(&s, 0, sizeof(s));
	s.key = (uint8_t)k;
	s.ssrc = ssrc;
	s.has_rtp = rtp;
	s.roc = roc;
	s.seq = seq;
	s.has_srtcp = srtcp;
	s.srtcp = idx;
	return s;
}

Test(record, srtp_fields_are_one_per_key)
{
	static const char *const want[DUET_KEY_COUNT] = {"a_srtp_in", "a_srtp_out", "b_srtp_in",
							 "b_srtp_out"};
	unsigned int k;

	for (k = 0; k < DUET_KEY_COUNT; k++)
		cr_assert_str_eq(duet_record_srtp_field(k), want[k]);
	cr_assert_null(duet_record_srtp_field(DUET_KEY_COUNT));
}

Test(record, srtp_state_round_trips_through_its_text)
{
	struct duet_srtp_stream_state s[] = {
		srtp_state(DUET_KEY_A_IN, 4294967295u, true, 4294967295u, 65535, true, 2147483647u),
		srtp_state(DUET_KEY_B_OUT, 7, true, 1, 40, false, 0),
		srtp_state(DUET_KEY_A_IN, 0, true, 0, 0, false, 0),
		srtp_state(DUET_KEY_A_IN, 12, false, 0, 0, true, 3),
		srtp_state(DUET_KEY_A_IN, 13, false, 0, 0, false, 0), /* nothing: left out */
		srtp_state(DUET_KEY_B_OUT, 8, true, 2, 9, true, 5),  /* no SRTCP on out */
	};
	struct duet_srtp_stream_state back[DUET_RECORD_SRTP_STREAMS_MAX];
	char buf[DUET_RECORD_SRTP_TEXT_MAX + 1], why[128];
	int n;

	n = duet_record_srtp_format(s, 6, DUET_KEY_A_IN, buf, sizeof(buf));
	cr_assert_str_eq(buf, "4294967295:4294967295:65535:2147483647,0:0:0,12:-:-:3");
	cr_assert_eq(n, (int)strlen(buf));
	n = duet_record_srtp_parse(buf, strlen(buf), DUET_KEY_A_IN, back, 16, why, sizeof(why));
	cr_assert_eq(n, 3, "%s", why);
	cr_assert_eq(memcmp(&back[0], &s[0], sizeof(s[0])), 0);
	cr_assert_eq(memcmp(&back[1], &s[2], sizeof(s[0])), 0);
	cr_assert_eq(memcmp(&back[2], &s[3], sizeof(s[0])), 0);

	cr_assert_eq(duet_record_srtp_format(s, 6, DUET_KEY_B_OUT, buf, sizeof(buf)), 12);
	cr_assert_str_eq(buf, "7:1:40,8:2:9");
	cr_assert_eq(duet_record_srtp_format(s, 6, DUET_KEY_B_IN, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(duet_record_srtp_parse("", 0, DUET_KEY_B_IN, back, 16, why, sizeof(why)), 0);
	cr_assert_eq(duet_record_srtp_format(s, 6, DUET_KEY_A_IN, buf, 20), -ENOSPC);
	cr_assert_eq(duet_record_srtp_format(s, 6, DUET_KEY_COUNT, buf, sizeof(buf)), -EINVAL);
}

Test(record, srtp_state_of_the_most_streams_fits_the_longest_text)
{
	struct duet_srtp_stream_state s[DUET_RECORD_SRTP_STREAMS_MAX];
	struct duet_srtp_stream_state back[DUET_RECORD_SRTP_STREAMS_MAX];
	char buf[DUET_RECORD_SRTP_TEXT_MAX + 1];
	unsigned int i;
	int n;

	for (i = 0; i < DUET_RECORD_SRTP_STREAMS_MAX; i++)
		s[i] = srtp_state(DUET_KEY_B_IN, 4294967295u - i, true, 4294967295u, 65535, true,
				  2147483647u);
	n = duet_record_srtp_format(s, DUET_RECORD_SRTP_STREAMS_MAX, DUET_KEY_B_IN, buf,
				    sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq(duet_record_srtp_parse(buf, (size_t)n, DUET_KEY_B_IN, back,
					    DUET_RECORD_SRTP_STREAMS_MAX, NULL, 0),
		     DUET_RECORD_SRTP_STREAMS_MAX);
}

/* What Redis may hold is anything: every variation of the grammar is
 * refused, with a reason, and writes nothing past max. */
Test(record, srtp_state_parser_refuses_everything_but_its_grammar)
{
	static const char *const bad[] = {
		",",
		"1:2:3,",
		",1:2:3",
		"1:2:3,,4:5:6",
		"1:2",
		"1",
		"1:2:3:4:5",
		"1:2:3:",
		":2:3",
		"1::3",
		"1:2:",
		"1:2:3 ",
		" 1:2:3",
		"+1:2:3",
		"-1:2:3",
		"01:2:3",
		"1:02:3",
		"1:2:03",
		"1:2:3:04",
		"4294967296:0:0",
		"1:4294967296:0",
		"1:0:65536",
		"1:0:0:2147483648",
		"99999999999999999999:0:0",
		"1:-:3",
		"1:2:-",
		"1:-:-",
		"-:1:2",
		"1:2:3:-",
		"1:-:-:-",
		"1:2:3;4:5:6",
		"0x10:0:0",
		"1:2:3,1:4:5",
		"1.0:2:3",
		"1:2:3\n",
		"１:2:3",
	};
	struct duet_srtp_stream_state out[DUET_RECORD_SRTP_STREAMS_MAX + 1];
	char big[DUET_RECORD_SRTP_TEXT_MAX + 64], why[128];
	unsigned int i;
	size_t n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		cr_assert_eq(duet_record_srtp_parse(bad[i], strlen(bad[i]), DUET_KEY_A_IN, out, 16,
						    why, sizeof(why)),
			     -EINVAL, "accepted \"%s\"", bad[i]);
		cr_assert_neq(why[0], '\0', "no reason for \"%s\"", bad[i]);
		cr_assert(strstr(why, "a_srtp_in") != NULL, "reason names the field: %s", why);
	}
	/* A NUL inside, counted bytes. */
	cr_assert_eq(duet_record_srtp_parse("1:2:3\0", 6, DUET_KEY_A_IN, out, 16, NULL, 0),
		     -EINVAL);
	cr_assert_eq(duet_record_srtp_parse("1:2:3", 5, DUET_KEY_A_IN, out, 16, NULL, 0), 1);
	cr_assert_eq(duet_record_srtp_parse("1:2:34", 5, DUET_KEY_A_IN, out, 16, NULL, 0), 1,
		     "only len bytes are read");
	/* No SRTCP on an out key; no key past the four. */
	cr_assert_eq(duet_record_srtp_parse("1:2:3:4", 7, DUET_KEY_A_OUT, out, 16, NULL, 0),
		     -EINVAL);
	cr_assert_eq(duet_record_srtp_parse("1:-:-:4", 7, DUET_KEY_B_OUT, out, 16, NULL, 0),
		     -EINVAL);
	cr_assert_eq(duet_record_srtp_parse("1:2:3", 5, DUET_KEY_COUNT, out, 16, NULL, 0),
		     -EINVAL);
	cr_assert_eq(duet_record_srtp_parse(NULL, 3, DUET_KEY_A_IN, out, 16, NULL, 0), -EINVAL);
	/* More streams than max (or than a direction holds), or than fit. */
	cr_assert_eq(duet_record_srtp_parse("1:0:0,2:0:0,3:0:0", 17, DUET_KEY_A_IN, out, 2, NULL,
					    0),
		     -EINVAL);
	big[0] = '\0';
	for (i = 0; i <= DUET_RECORD_SRTP_STREAMS_MAX; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big), "%s%u:0:0", i ? "," : "",
			 i);
	cr_assert_eq(duet_record_srtp_parse(big, strlen(big), DUET_KEY_A_IN, out,
					    DUET_RECORD_SRTP_STREAMS_MAX + 1, NULL, 0),
		     -EINVAL, "17 streams");
	memset(big, '1', sizeof(big));
	n = DUET_RECORD_SRTP_TEXT_MAX + 1;
	cr_assert_eq(duet_record_srtp_parse(big, n, DUET_KEY_A_IN, out, 16, NULL, 0), -EINVAL);
	/* Every single-byte value in the middle of a valid item. */
	for (i = 0; i < 256; i++) {
		char s[8] = {'1', ':', '2', (char)i, ':', '3'};
		int rc = duet_record_srtp_parse(s, 6, DUET_KEY_A_IN, out, 16, NULL, 0);

		if (i >= '0' && i <= '9')
			cr_assert_eq(rc, 1, "byte %u", i);
		else
			cr_assert_eq(rc, -EINVAL, "byte %u", i);
	}
}

/* Redis compares endpoints as text: only duetd's own spelling is one. */
Test(record, endpoints_parse_only_in_the_spelling_duetd_writes)
{
	static const char *const good[] = {"192.0.2.1:20000", "[2001:db8::1]:20000",
					   "[2001:db8:0:1:2:3:4:5]:1", "[::ffff:192.0.2.1]:65535"};
	static const struct {
		const char *text;
		const char *canon;
	} other[] = {
		{"[2001:DB8::1]:20000", "[2001:db8::1]:20000"},
		{"[2001:db8:0::1]:20000", "[2001:db8::1]:20000"},
		{"[2001:db8:0:0:0:0:0:1]:20000", "[2001:db8::1]:20000"},
		{"[2001:0db8::1]:20000", "[2001:db8::1]:20000"},
		{"[2001:db8::0:1]:20000", "[2001:db8::1]:20000"},
		{"[2001:db8::1:0:0:1]:7", "[2001:db8::1:0:0:1]:7"}, /* canonical: no change */
	};
	static const char *const junk[] = {"2001:db8::1:20000", "[2001:db8::1]", "[2001:db8::1]:",
					   "[2001:db8::1]:0", "[2001:db8::1]:020000",
					   "[192.0.2.1]:20000", "192.0.2.1", "", "[2001:db8::g]:1"};
	struct duet_addr ep;
	char canon[DUET_ADDR_STRLEN];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&ep, 0, sizeof(ep));
		cr_assert_eq(duet_record_endpoint_parse(good[i], &ep, canon), 0, "%s", good[i]);
		cr_assert_str_eq(canon, good[i]);
		cr_assert_neq(ep.family, DUET_AF_NONE, "%s", good[i]);
	}
	cr_assert_eq(ep.family, DUET_AF_INET6);
	/* The last row is the one case that is already canonical. */
	for (i = 0; i + 1 < sizeof(other) / sizeof(other[0]); i++) {
		cr_assert_eq(duet_record_endpoint_parse(other[i].text, &ep, canon), -EILSEQ, "%s",
			     other[i].text);
		cr_assert_str_eq(canon, other[i].canon);
	}
	cr_assert_eq(duet_record_endpoint_parse(other[i].text, NULL, canon), 0);
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		cr_assert_eq(duet_record_endpoint_parse(junk[i], &ep, NULL), -EINVAL, "%s",
			     junk[i]);
	cr_assert_eq(duet_record_endpoint_parse(NULL, &ep, NULL), -EINVAL);
}
