/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/log/duet_log.c: the line format, text and JSON (the
 * stream itself is exercised by the integration test lifecycle).
 */
#include <string.h>

#include <criterion/criterion.h>
#include <rte_log.h>

#include "duet_log.h"

#define TS "2026-12-06T21:00:00.123Z"

Test(log, a_text_line_has_time_level_type_and_message)
{
	char buf[256];
	const char *msg = "relay r1 running";
	size_t n = duet_log_format_line(buf, sizeof(buf), DUET_LOG_TEXT, TS, RTE_LOG_INFO,
					"duet.relay", msg, strlen(msg));

	cr_assert_str_eq(buf, TS " INFO duet.relay: relay r1 running\n");
	cr_assert_eq(n, strlen(buf));
}

Test(log, a_json_line_is_one_object_with_its_strings_escaped)
{
	char buf[256];
	const char msg[] = "a \"quoted\" back\\slash\ttab\x01";
	size_t n = duet_log_format_line(buf, sizeof(buf), DUET_LOG_JSON, TS, RTE_LOG_WARNING,
					"duet.sync", msg, strlen(msg));

	cr_assert_str_eq(buf, "{\"ts\":\"" TS "\",\"level\":\"warning\",\"type\":\"duet.sync\","
			      "\"msg\":\"a \\\"quoted\\\" back\\\\slash\\ttab\\u0001\"}\n");
	cr_assert_eq(n, strlen(buf));
}

Test(log, a_line_too_long_for_the_buffer_says_how_long_it_would_be_and_stays_terminated)
{
	char buf[32];
	char msg[100];
	size_t n;

	memset(msg, 'x', sizeof(msg));
	n = duet_log_format_line(buf, sizeof(buf), DUET_LOG_JSON, TS, RTE_LOG_ERR, "duet.port",
				 msg, sizeof(msg));
	cr_assert_gt(n, sizeof(buf));
	cr_assert_eq(strlen(buf), sizeof(buf) - 1);
	n = duet_log_format_line(buf, sizeof(buf), DUET_LOG_TEXT, TS, RTE_LOG_ERR, "duet.port",
				 msg, sizeof(msg));
	cr_assert_eq(n, strlen(TS " ERR duet.port: ") + sizeof(msg) + 1);
	cr_assert_eq(strlen(buf), sizeof(buf) - 1);
}
