/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of lib/contract/duet_record.c: the contract's words, which
 * every program that writes or reads a pair record takes from there. */
#include <errno.h>
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
