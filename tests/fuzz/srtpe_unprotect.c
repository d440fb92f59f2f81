/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for lib/srtpe's receive path: duet_srtpe_burst() unprotecting
 * and verifying bursts of SRTP and SRTCP packets of one stream, for all
 * four suites. Built with clang's -fsanitize=fuzzer (tests/fuzz/meson.build).
 * Test process only.
 *
 * Input: byte 0 picks the key (fixed, made from the byte: bits 0-1 the
 * suite, all of it the key bytes) and bit 2 the SRTCP 32-bit tag option;
 * byte 1 where the stream starts (fresh, just below a sequence wrap, at
 * index 2^15, at a high ROC, at the end of the SRTCP index). Then up to 32
 * packets, each a 2-byte header (bit 15 RTCP, bit 14 "seal": the bytes are
 * a plaintext the engine protects first, so that the authentic paths are
 * reached; bit 13 "tamper": 2 more bytes give a bit to flip after sealing;
 * bits 0-10 the length) and its bytes.
 *
 * The claims checked: every verdict is one of the four; the burst gives
 * each packet the verdict, length and bytes that the same packets one at
 * a time give, and leaves the stream the same; verify gives the same
 * verdicts and stream and changes no byte; a packet unprotected loses
 * exactly its tag (and SRTCP's E+index); a sealed packet that comes
 * through comes through as the plaintext that was sealed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "duet_srtpe.h"
#include "duet_srtpe_fp.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROOM (2048 + 64)
#define MAX_N DUET_SRTPE_BURST_MAX

static IMB_MGR *mgr;
static struct duet_srtpe_key *keys[256];

static uint8_t burst_buf[MAX_N][ROOM], one_buf[MAX_N][ROOM], verify_buf[MAX_N][ROOM];
static uint8_t sent[MAX_N][ROOM];
static uint8_t plain[MAX_N][ROOM];
static uint32_t plain_len[MAX_N], len[MAX_N];
static bool rtcp[MAX_N], sealed[MAX_N], tampered[MAX_N];

static const struct duet_srtpe_key *
key_for(uint8_t b)
{
	struct duet_sdes k;
	unsigned int i;

	if (keys[b] != NULL)
		return keys[b];
	memset(&k, 0, sizeof(k));
	k.suite = (enum duet_srtp_suite)(b & 3);
	k.key_len = (uint8_t)duet_srtp_suite_key_len(k.suite);
	for (i = 0; i < k.key_len; i++)
		k.key[i] = (uint8_t)(b * 131 + i * 17 + 1);
	/* Only the suite's size (576 bytes for AES-CM): ASan sees any read
	 * or write past it. */
	keys[b] = aligned_alloc(64, duet_srtpe_key_size(k.suite));
	CHECK(keys[b] != NULL);
	CHECK(duet_srtpe_key_init(mgr, &k, keys[b]) == 0);
	return keys[b];
}

static void
stream_start(struct duet_srtpe_stream *s, uint8_t b)
{
	duet_srtpe_stream_init(s);
	switch (b % 6) {
	case 1: /* just below the sequence wrap */
		s->rtp_index = 0xfff0;
		break;
	case 2: /* where libsrtp2 starts guessing the ROC */
		s->rtp_index = 0x8000;
		break;
	case 3:
		s->rtp_index = (uint64_t)0xfffffffe << 16 | 0xff00;
		break;
	case 4: /* the end of the SRTCP index */
		s->srtcp_index = DUET_SRTPE_SRTCP_INDEX_MAX - 64;
		break;
	case 5:
		s->rtp_index = (uint64_t)b << 20 | b;
		s->srtcp_index = (uint32_t)b << 9;
		break;
	default:
		return;
	}
	s->rtp_window[0] = 0x5555555555555555ull ^ b;
	s->rtp_window[1] = ~s->rtp_window[0];
	s->srtcp_window[0] = s->rtp_window[1];
	s->flags = DUET_SRTPE_STREAM_RTP | DUET_SRTPE_STREAM_SRTCP;
}

static bool
valid(uint8_t v)
{
	return v == DUET_SRTPE_OK || v == DUET_SRTPE_AUTH || v == DUET_SRTPE_REPLAY ||
	       v == DUET_SRTPE_BAD;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct duet_srtpe_pkt bx[MAX_N], vx[MAX_N];
	struct duet_srtpe_stream in_burst, in_one, in_verify, out;
	const struct duet_srtpe_key *k;
	unsigned int n = 0, i, flags;
	size_t pos = 2;

	if (size < 2)
		return 0;
	if (mgr == NULL)
		CHECK(duet_srtpe_mgr_create(DUET_SRTPE_ARCH_SSE, &mgr) == 0);
	k = key_for(data[0]);
	flags = data[0] & 4 ? DUET_SRTPE_SRTCP_TAG_EITHER : 0;
	stream_start(&in_burst, data[1]);
	in_one = in_burst;
	in_verify = in_burst;
	/* The sender's stream starts where the receiver's does. */
	out = in_burst;

	while (n < MAX_N && pos + 2 <= size) {
		uint16_t h = (uint16_t)(data[pos] << 8 | data[pos + 1]);
		uint32_t l = h & 0x7ff, bit = 0;

		pos += 2;
		rtcp[n] = h & 0x8000;
		sealed[n] = h & 0x4000;
		tampered[n] = false;
		if ((h & 0x2000) && pos + 2 <= size) {
			tampered[n] = true;
			bit = (uint32_t)data[pos] << 8 | data[pos + 1];
			pos += 2;
		}
		if (l > size - pos)
			l = (uint32_t)(size - pos);
		memset(sent[n], 0, ROOM);
		memcpy(sent[n], data + pos, l);
		pos += l;
		plain_len[n] = l;
		memcpy(plain[n], sent[n], l);
		if (sealed[n]) {
			enum duet_srtpe_verdict v =
				rtcp[n] ? duet_srtpe_srtcp_protect(mgr, k, &out, sent[n], &l, ROOM)
					: duet_srtpe_rtp_protect(mgr, k, &out, sent[n], &l, ROOM);

			CHECK(valid(v));
			if (v != DUET_SRTPE_OK) {
				sealed[n] = false;
				memcpy(sent[n], plain[n], plain_len[n]);
				l = plain_len[n];
			}
		}
		if (tampered[n] && l > 0)
			sent[n][(bit / 8) % l] ^= (uint8_t)(1u << (bit % 8));
		len[n] = l;
		n++;
	}
	if (n == 0)
		return 0;

	for (i = 0; i < n; i++) {
		memcpy(burst_buf[i], sent[i], ROOM);
		memcpy(one_buf[i], sent[i], ROOM);
		memcpy(verify_buf[i], sent[i], ROOM);
		bx[i] = (struct duet_srtpe_pkt){
			.key = k, .stream = &in_burst, .p = burst_buf[i], .len = len[i], .cap = ROOM,
			.op = rtcp[i] ? DUET_SRTPE_SRTCP_UNPROTECT : DUET_SRTPE_RTP_UNPROTECT,
			.flags = (uint8_t)flags};
		vx[i] = bx[i];
		vx[i].stream = &in_verify;
		vx[i].p = verify_buf[i];
		vx[i].op = rtcp[i] ? DUET_SRTPE_SRTCP_VERIFY : DUET_SRTPE_RTP_VERIFY;
	}
	duet_srtpe_burst(mgr, bx, n);
	duet_srtpe_burst(mgr, vx, n);
	for (i = 0; i < n; i++) {
		uint32_t l1 = len[i];
		enum duet_srtpe_verdict v1;

		v1 = rtcp[i] ? duet_srtpe_srtcp_unprotect(mgr, k, &in_one, one_buf[i], &l1, flags)
			     : duet_srtpe_rtp_unprotect(mgr, k, &in_one, one_buf[i], &l1);
		CHECK(valid(bx[i].verdict));
		CHECK(bx[i].verdict == v1);
		CHECK(vx[i].verdict == v1);
		CHECK(vx[i].len == len[i]);
		CHECK(memcmp(verify_buf[i], sent[i], ROOM) == 0);
		if (v1 != DUET_SRTPE_OK) {
			CHECK(bx[i].len == len[i]);
			continue;
		}
		CHECK(bx[i].len == l1);
		CHECK(memcmp(burst_buf[i], one_buf[i], l1) == 0);
		if (rtcp[i])
			CHECK(len[i] - l1 == 4u + k->srtcp_tag_len ||
			      (flags && k->rtp_tag_len == 4 && len[i] - l1 == 4u + 4));
		else
			CHECK(len[i] - l1 == k->rtp_tag_len);
		if (sealed[i] && !tampered[i])
			CHECK(l1 == plain_len[i] && memcmp(one_buf[i], plain[i], l1) == 0);
	}
	CHECK(memcmp(&in_burst, &in_one, sizeof(in_one)) == 0);
	CHECK(memcmp(&in_verify, &in_one, sizeof(in_one)) == 0);
	return 0;
}
