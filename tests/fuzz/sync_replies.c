/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the parts of lib/sync that read Redis replies without a
 * connection: sync_parse_stream_info() (XINFO STREAM), the stream position
 * rule it feeds (duet_contract_stream_can_resume, with stream ids parsed
 * by duet_contract_stream_id_parse) and sync_wipe_key_values() (an
 * HGETALL reply whose SRTP key values must not outlive it). The input is
 * what a Redis server would send: hiredis's own reader turns it into reply
 * trees, as duet_redis does on a real link, and each reply is given to all
 * of them. The target checks what they claim: info exists exactly for an
 * array; a follower at the stream's own end, or one that never read a
 * stream, may resume; one past the stream's end, or at a gone stream, may
 * not, and says why; stream ids format back to themselves and compare as
 * an order; the wipe zeroes every key value and touches nothing else.
 * Built with clang's -fsanitize=fuzzer (tests/fuzz/meson.build). Test
 * process only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "sync_internal.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* hiredis 0.14 callocs a multi-bulk's element array from the count it
 * reads, before any element arrives; a count in the billions is an
 * allocation that a fuzzer's malloc limit reports, in hiredis, not in
 * duet. Inputs with counts past this are skipped. */
#define MAX_ELEMENTS 4096

static bool
counts_small(const uint8_t *p, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		uint64_t v = 0;

		if (p[i] != '*')
			continue;
		for (j = i + 1; j < n && p[j] >= '0' && p[j] <= '9'; j++) {
			v = v * 10 + (p[j] - '0');
			if (v > MAX_ELEMENTS)
				return false;
		}
	}
	return true;
}

static bool
id_is_zero(const struct duet_contract_stream_id *id)
{
	return id->ms == 0 && id->seq == 0;
}

/* Ask whether a follower at pos may resume, and check the answer comes
 * with a reason exactly when it is no. */
static bool
resume(const struct duet_contract_stream_info *info, const struct duet_contract_stream_pos *pos)
{
	const char *why = "unset";
	bool ok = duet_contract_stream_can_resume(info, pos, &why);

	if (ok)
		CHECK(why == NULL);
	else
		CHECK(why != NULL && why[0] != '\0');
	CHECK(duet_contract_stream_can_resume(info, pos, NULL) == ok);
	return ok;
}

static void
check_stream_info(const redisReply *r)
{
	struct duet_contract_stream_info info;
	struct duet_contract_stream_pos pos;

	sync_parse_stream_info(r, &info);
	CHECK(info.exists == (r->type == REDIS_REPLY_ARRAY));

	/* Never read a stream: nothing to miss, whatever Redis says. */
	memset(&pos, 0, sizeof(pos));
	pos.has_added = true;
	if (!info.exists)
		CHECK(resume(&info, &pos));
	else
		resume(&info, &pos);

	/* At the stream's own end: nothing was missed. */
	pos.id = info.last_generated;
	pos.has_added = info.has_entries_added;
	pos.added = info.entries_added;
	if (info.exists)
		CHECK(resume(&info, &pos));
	else if (!id_is_zero(&pos.id))
		CHECK(!resume(&info, &pos));

	/* Past the stream's end (Redis came back older): reload. */
	if (info.exists && info.last_generated.seq < UINT64_MAX) {
		pos.id.seq = info.last_generated.seq + 1;
		CHECK(!resume(&info, &pos));
	}
	/* Any other position: an answer, with a reason when it is no. */
	if (info.has_first) {
		pos.id = info.first;
		resume(&info, &pos);
	}
	if (info.has_max_deleted) {
		pos.id = info.max_deleted;
		resume(&info, &pos);
	}
}

static void
check_stream_id(const redisReply *r)
{
	struct duet_contract_stream_id id, again, other = { 1, 1 };
	char text[48];

	if (reply_cstr(r) == NULL || duet_contract_stream_id_parse(r->str, &id) != 0)
		return;
	snprintf(text, sizeof(text), "%" PRIu64 "-%" PRIu64, id.ms, id.seq);
	CHECK(duet_contract_stream_id_parse(text, &again) == 0);
	CHECK(duet_contract_stream_id_cmp(&id, &again) == 0);
	CHECK(duet_contract_stream_id_cmp(&id, &other) ==
	      -duet_contract_stream_id_cmp(&other, &id));
}

/* sync_wipe_key_values on r: key values zeroed, the rest as it was. */
static void
check_wipe(redisReply *r)
{
	char **before = NULL;
	size_t i, j;

	if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
		before = calloc(r->elements, sizeof(*before));
		CHECK(before != NULL);
		for (i = 0; i < r->elements; i++) {
			const redisReply *e = r->element[i];

			if (e->str == NULL)
				continue;
			before[i] = malloc(e->len + 1);
			CHECK(before[i] != NULL);
			memcpy(before[i], e->str, e->len + 1);
		}
	}
	sync_wipe_key_values(r);
	if (before == NULL)
		return;
	for (i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i], *k = i % 2 ? r->element[i - 1] : NULL;
		bool key_value = k != NULL && k->type == REDIS_REPLY_STRING &&
				 e->type == REDIS_REPLY_STRING &&
				 duet_key_field_index(k->str, k->len) >= 0;

		if (before[i] == NULL)
			continue;
		if (key_value) {
			for (j = 0; j < e->len; j++)
				CHECK(e->str[j] == 0);
		} else {
			CHECK(memcmp(e->str, before[i], e->len) == 0);
		}
		free(before[i]);
	}
	free(before);
}

/* An events entry's field array, as duet_sync reads one. */
static void
check_event_fields(const redisReply *r)
{
	struct duet_contract_field f[16];
	enum duet_contract_op op;
	char id[DUET_RECORD_ID_MAX + 1], why[DUET_CONTRACT_WHY_MAX];
	size_t i, n = 0;

	if (r->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i + 1 < r->elements && n < 16; i += 2) {
		f[n].name = reply_cstr(r->element[i]);
		f[n].value = reply_cstr(r->element[i + 1]);
		n++;
	}
	why[0] = '\0';
	if (duet_contract_parse_event(f, n, &op, id, why, sizeof(why)) == 0)
		CHECK(duet_record_id_ok(id));
	else
		CHECK(why[0] != '\0');
}

static void
check_reply(redisReply *r, unsigned int depth)
{
	size_t i;

	check_stream_info(r);
	check_stream_id(r);
	check_event_fields(r);
	if (r->type == REDIS_REPLY_ARRAY && depth < 3)
		for (i = 0; i < r->elements; i++)
			check_reply(r->element[i], depth + 1);
	/* Last: it changes r. */
	check_wipe(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader *rd;
	void *reply;

	if (!counts_small(data, size))
		return 0;
	rd = redisReaderCreate();
	CHECK(rd != NULL);
	CHECK(redisReaderFeed(rd, (const char *)data, size) == REDIS_OK);
	while (redisReaderGetReply(rd, &reply) == REDIS_OK && reply != NULL) {
		check_reply(reply, 0);
		freeReplyObject(reply);
	}
	redisReaderFree(rd);
	return 0;
}
