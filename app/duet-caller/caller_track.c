/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Encoded audio tracks (struct caller_track in caller.h): one libopus
 * encoder run over a leg's input, once, before the calls start. Every call
 * then sends the same payload sequence for that leg (the encoder is
 * deterministic, so per-call encoders would produce the very same bytes at
 * a cost of ~0.2 ms per frame, which 1000 calls could not afford), and a
 * receiver in this process finds what was sent as packet k without any
 * per-call copy. The main thread builds a track; workers only read it.
 *
 * Encoder settings: OPUS_APPLICATION_VOIP, 48 kHz mono, 20 ms frames, the
 * given bitrate (VBR), complexity and DTX; frames of 2 bytes or less are
 * DTX frames and are not sent (the next packet then carries the marker).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "caller.h"
#include "caller_audio.h"

void
caller_track_free(struct caller_track *t)
{
	free(t->frame_pkt);
	free(t->pkt_frame);
	free(t->pkt_off);
	free(t->pkt_len);
	free(t->bytes);
	memset(t, 0, sizeof(*t));
}

int
caller_track_build(struct caller_track *t, const int16_t *pcm, size_t n,
		   const struct caller_opts *o, uint64_t max_frames, uint64_t max_packets,
		   const char **why)
{
	uint8_t out[CALLER_PAYLOAD_MAX];
	OpusEncoder *enc;
	size_t cap, f;
	int err;

	memset(t, 0, sizeof(*t));
	t->loop_frames = (uint32_t)(n / CALLER_FRAME);
	if (t->loop_frames == 0) {
		*why = "the audio is shorter than one 20 ms frame";
		return -ENODATA;
	}
	cap = t->loop_frames;
	if (max_frames != 0 && max_frames < cap)
		cap = (size_t)max_frames;
	t->frame_pkt = calloc(cap, sizeof(*t->frame_pkt));
	t->pkt_frame = calloc(cap, sizeof(*t->pkt_frame));
	t->pkt_off = calloc(cap, sizeof(*t->pkt_off));
	t->pkt_len = calloc(cap, sizeof(*t->pkt_len));
	t->bytes = malloc(cap * CALLER_PAYLOAD_MAX);
	enc = opus_encoder_create(CALLER_CLOCK, 1, OPUS_APPLICATION_VOIP, &err);
	if (t->frame_pkt == NULL || t->pkt_frame == NULL || t->pkt_off == NULL ||
	    t->pkt_len == NULL || t->bytes == NULL || enc == NULL) {
		if (enc != NULL)
			opus_encoder_destroy(enc);
		caller_track_free(t);
		*why = "out of memory";
		return -ENOMEM;
	}
	if (opus_encoder_ctl(enc, OPUS_SET_BITRATE((opus_int32)o->bitrate)) != OPUS_OK ||
	    opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY((opus_int32)o->complexity)) != OPUS_OK ||
	    opus_encoder_ctl(enc, OPUS_SET_DTX(o->dtx ? 1 : 0)) != OPUS_OK ||
	    opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)) != OPUS_OK) {
		opus_encoder_destroy(enc);
		caller_track_free(t);
		*why = "libopus refused the encoder settings";
		return -EINVAL;
	}
	for (f = 0; f < cap; f++) {
		opus_int32 len = opus_encode(enc, pcm + f * CALLER_FRAME, CALLER_FRAME, out,
					     (opus_int32)sizeof(out));

		if (len < 0) {
			opus_encoder_destroy(enc);
			caller_track_free(t);
			*why = opus_strerror(len);
			return -EIO;
		}
		t->frames++;
		if (o->dtx && len <= 2) {
			t->frame_pkt[f] = -1;
			continue;
		}
		t->frame_pkt[f] = (int32_t)t->n;
		t->pkt_frame[t->n] = (uint32_t)f;
		t->pkt_off[t->n] = (uint32_t)(t->n * CALLER_PAYLOAD_MAX);
		t->pkt_len[t->n] = (uint16_t)len;
		memcpy(t->bytes + (size_t)t->n * CALLER_PAYLOAD_MAX, out, (size_t)len);
		t->n++;
		if (max_packets != 0 && t->n >= max_packets)
			break;
	}
	opus_encoder_destroy(enc);
	t->complete = t->frames == t->loop_frames;
	if (t->complete && t->n == 0) {
		caller_track_free(t);
		*why = "the audio is silent throughout: with DTX on nothing would be sent";
		return -ENODATA;
	}
	return 0;
}

int
caller_track_packet(const struct caller_track *t, uint64_t k, const uint8_t **payload,
		    uint16_t *len, uint64_t *frame)
{
	uint64_t loop = 0, idx = k;

	if (t->n == 0)
		return -ENODATA;
	if (k >= t->n) {
		if (!t->complete)
			return -ENODATA;
		loop = k / t->n;
		idx = k % t->n;
	}
	*payload = t->bytes + t->pkt_off[idx];
	*len = t->pkt_len[idx];
	*frame = loop * t->loop_frames + t->pkt_frame[idx];
	return 0;
}

int
caller_track_frame(const struct caller_track *t, uint64_t frame)
{
	uint64_t f = frame;

	if (frame >= t->frames) {
		if (!t->complete)
			return -ENODATA;
		f = frame % t->loop_frames;
	}
	return t->frame_pkt[f] >= 0 ? 1 : 0;
}
