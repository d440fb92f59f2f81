/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of app/duet-caller/caller_audio.c: the WAV reader on good and
 * bad bytes, its conversion to mono 48 kHz, and the generated speech-like
 * signal (deterministic, with talk and digital silence).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "caller_audio.h"

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/* A canonical 44-byte-header WAV with the given format fields and n
 * interleaved samples. Returns its length. */
static size_t
make_wav(uint8_t *buf, uint16_t tag, uint16_t ch, uint32_t rate, uint16_t bits,
	 const int16_t *s, size_t n)
{
	size_t i;

	memcpy(buf, "RIFF", 4);
	put32(buf + 4, (uint32_t)(36 + n * 2));
	memcpy(buf + 8, "WAVEfmt ", 8);
	put32(buf + 16, 16);
	put16(buf + 20, tag);
	put16(buf + 22, ch);
	put32(buf + 24, rate);
	put32(buf + 28, rate * ch * bits / 8);
	put16(buf + 32, (uint16_t)(ch * bits / 8));
	put16(buf + 34, bits);
	memcpy(buf + 36, "data", 4);
	put32(buf + 40, (uint32_t)(n * 2));
	for (i = 0; i < n; i++)
		put16(buf + 44 + 2 * i, (uint16_t)s[i]);
	return 44 + n * 2;
}

Test(caller_audio, reads_mono_pcm)
{
	static const int16_t s[4] = { 1, -2, 300, -32768 };
	uint8_t buf[64];
	struct caller_wav w;
	const char *why = NULL;
	size_t len = make_wav(buf, 1, 1, 48000, 16, s, 4);

	cr_assert_eq(caller_wav_parse(buf, len, &w, &why), 0);
	cr_assert_eq(w.rate, 48000);
	cr_assert_eq(w.channels, 1);
	cr_assert_eq(w.bits, 16);
	cr_assert_eq(w.frames, 4);
	cr_assert_eq(w.data, buf + 44);
}

Test(caller_audio, mixes_stereo_down_and_pads_to_whole_frames)
{
	static const int16_t s[4] = { 1000, 3000, -100, -300 };
	uint8_t buf[64];
	struct caller_wav w;
	const char *why = NULL;
	int16_t *pcm = NULL;
	size_t n = 0, len = make_wav(buf, 1, 2, 48000, 16, s, 4);

	cr_assert_eq(caller_wav_parse(buf, len, &w, &why), 0);
	cr_assert_eq(w.frames, 2);
	cr_assert_eq(caller_wav_to_mono48k(&w, &pcm, &n), 0);
	cr_assert_eq(n, CALLER_AUDIO_FRAME, "padded to one 20 ms frame");
	cr_assert_eq(pcm[0], 2000);
	cr_assert_eq(pcm[1], -200);
	cr_assert_eq(pcm[2], 0);
	cr_assert_eq(pcm[959], 0);
	free(pcm);
}

Test(caller_audio, resamples_8k_by_linear_interpolation)
{
	int16_t s[160];
	uint8_t buf[44 + sizeof(s)];
	struct caller_wav w;
	const char *why = NULL;
	int16_t *pcm = NULL;
	size_t n = 0, i, len;

	for (i = 0; i < 160; i++)
		s[i] = (int16_t)(i * 60);
	len = make_wav(buf, 1, 1, 8000, 16, s, 160);
	cr_assert_eq(caller_wav_parse(buf, len, &w, &why), 0);
	cr_assert_eq(caller_wav_to_mono48k(&w, &pcm, &n), 0);
	cr_assert_eq(n, 960, "20 ms at 8 kHz is 20 ms at 48 kHz");
	cr_assert_eq(pcm[0], 0);
	cr_assert_eq(pcm[6], 60, "input sample 1 lands on output sample 6");
	cr_assert_eq(pcm[3], 30, "halfway between");
	cr_assert_eq(pcm[600], 6000);
	/* Past the last input sample the value is held. */
	cr_assert_eq(pcm[959], 159 * 60);
	free(pcm);
}

Test(caller_audio, accepts_extensible_pcm_and_skips_other_chunks)
{
	uint8_t buf[200];
	struct caller_wav w;
	const char *why = NULL;
	size_t off = 12;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, "RIFF\0\0\0\0WAVE", 12);
	/* An odd-sized LIST chunk: one pad byte follows it. */
	memcpy(buf + off, "LIST", 4);
	put32(buf + off + 4, 3);
	off += 8 + 3 + 1;
	memcpy(buf + off, "fmt ", 4);
	put32(buf + off + 4, 40);
	put16(buf + off + 8, 0xfffe);
	put16(buf + off + 10, 1);
	put32(buf + off + 12, 16000);
	put16(buf + off + 20, 2);
	put16(buf + off + 22, 16);
	put16(buf + off + 32, 1); /* subformat GUID: PCM */
	off += 8 + 40;
	memcpy(buf + off, "data", 4);
	put32(buf + off + 4, 8);
	off += 8 + 8;
	cr_assert_eq(caller_wav_parse(buf, off, &w, &why), 0, "%s", why);
	cr_assert_eq(w.rate, 16000);
	cr_assert_eq(w.frames, 4);
	/* The same with a float subformat is refused. */
	put16(buf + 12 + 12 + 8 + 24, 3);
	cr_assert_eq(caller_wav_parse(buf, off, &w, &why), -EINVAL);
}

Test(caller_audio, streaming_data_size_means_to_the_end)
{
	static const int16_t s[6] = { 1, 2, 3, 4, 5, 6 };
	uint8_t buf[64];
	struct caller_wav w;
	const char *why = NULL;
	size_t len = make_wav(buf, 1, 1, 48000, 16, s, 6);

	put32(buf + 40, 0xffffffffu);
	cr_assert_eq(caller_wav_parse(buf, len, &w, &why), 0);
	cr_assert_eq(w.frames, 6);
}

Test(caller_audio, refuses_formats_it_does_not_read)
{
	static const int16_t s[4] = { 0 };
	uint8_t buf[64];
	struct caller_wav w;
	const char *why = NULL;
	size_t len;

	len = make_wav(buf, 3, 1, 48000, 32, s, 2);
	cr_assert_eq(caller_wav_parse(buf, len, &w, &why), -EINVAL, "float");
	cr_assert_not_null(why);
	len = make_wav(buf, 1, 1, 48000, 8, s, 4);
	cr_assert_eq(caller_wav_parse(buf, len, &w, &why), -EINVAL, "8-bit");
	len = make_wav(buf, 1, 3, 48000, 16, s, 3);
	cr_assert_eq(caller_wav_parse(buf, len, &w, &why), -EINVAL, "3 channels");
	len = make_wav(buf, 1, 1, 4000, 16, s, 4);
	cr_assert_eq(caller_wav_parse(buf, len, &w, &why), -EINVAL, "4 kHz");
	len = make_wav(buf, 1, 1, 48000, 16, s, 4);
	put16(buf + 32, 4); /* block align of stereo */
	cr_assert_eq(caller_wav_parse(buf, len, &w, &why), -EINVAL, "block align");
}

Test(caller_audio, refuses_broken_files)
{
	static const int16_t s[4] = { 1, 2, 3, 4 };
	uint8_t buf[64];
	struct caller_wav w;
	const char *why = NULL;
	size_t len = make_wav(buf, 1, 1, 48000, 16, s, 4);

	cr_assert_eq(caller_wav_parse(buf, 11, &w, &why), -EINVAL, "too short for RIFF");
	cr_assert_eq(caller_wav_parse(buf, len - 1, &w, &why), -EMSGSIZE, "data cut");
	cr_assert_eq(caller_wav_parse(buf, 30, &w, &why), -EMSGSIZE, "fmt cut");
	cr_assert_eq(caller_wav_parse(buf, 36, &w, &why), -EINVAL, "no data chunk");
	buf[0] = 'X';
	cr_assert_eq(caller_wav_parse(buf, len, &w, &why), -EINVAL, "not RIFF");
	buf[0] = 'R';
	memcpy(buf + 12, "fmX ", 4); /* fmt chunk renamed: skipped as unknown */
	cr_assert_eq(caller_wav_parse(buf, len, &w, &why), -EINVAL, "no fmt chunk");
	memcpy(buf + 12, "fmt ", 4);
	put32(buf + 40, 0);
	cr_assert_eq(caller_wav_parse(buf, len, &w, &why), -ENODATA, "no samples");
	put32(buf + 40, 1); /* half a sample */
	cr_assert_eq(caller_wav_parse(buf, len, &w, &why), -ENODATA);
}

Test(caller_audio, load_names_a_missing_file)
{
	const char *why = NULL;
	int16_t *pcm = NULL;
	size_t n = 0;

	cr_assert_eq(caller_wav_load("/nonexistent/duet.wav", &pcm, &n, &why), -ENOENT);
	cr_assert_not_null(why);
	cr_assert_null(pcm);
}

/* Count 20 ms frames that are digital silence. */
static size_t
silent_frames(const int16_t *pcm, size_t n)
{
	size_t f, i, quiet = 0;

	for (f = 0; f + CALLER_AUDIO_FRAME <= n; f += CALLER_AUDIO_FRAME) {
		for (i = 0; i < CALLER_AUDIO_FRAME && pcm[f + i] == 0; i++)
			;
		quiet += i == CALLER_AUDIO_FRAME;
	}
	return quiet;
}

Test(caller_audio, generated_speech_is_deterministic_per_seed_and_voice)
{
	int16_t *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	size_t na, nb, nc, nd;

	cr_assert_eq(caller_gen_speech(7, 0, &a, &na), 0);
	cr_assert_eq(caller_gen_speech(7, 0, &b, &nb), 0);
	cr_assert_eq(caller_gen_speech(8, 0, &c, &nc), 0);
	cr_assert_eq(caller_gen_speech(7, 1, &d, &nd), 0);
	cr_assert_eq(na, (size_t)CALLER_GEN_SECONDS * CALLER_AUDIO_RATE);
	cr_assert_eq(na % CALLER_AUDIO_FRAME, 0);
	cr_assert_eq(memcmp(a, b, na * 2), 0, "same seed, same samples");
	cr_assert_neq(memcmp(a, c, na * 2), 0, "another seed differs");
	cr_assert_neq(memcmp(a, d, na * 2), 0, "the other voice differs");
	free(a);
	free(b);
	free(c);
	free(d);
}

Test(caller_audio, generated_speech_talks_and_pauses)
{
	int16_t *pcm = NULL;
	size_t n, i, quiet, frames, peak = 0;

	cr_assert_eq(caller_gen_speech(1, 0, &pcm, &n), 0);
	frames = n / CALLER_AUDIO_FRAME;
	quiet = silent_frames(pcm, n);
	cr_assert_gt(quiet, frames / 10, "pauses for DTX: %zu of %zu frames silent", quiet, frames);
	cr_assert_lt(quiet, frames / 2, "mostly talk: %zu of %zu frames silent", quiet, frames);
	cr_assert_eq(silent_frames(pcm, CALLER_AUDIO_FRAME), 0, "talks from the start");
	cr_assert_eq(silent_frames(pcm + n - CALLER_AUDIO_RATE / 2, CALLER_AUDIO_RATE / 2),
		     (size_t)CALLER_AUDIO_RATE / 2 / CALLER_AUDIO_FRAME, "ends in a pause");
	for (i = 0; i < n; i++) {
		size_t v = (size_t)(pcm[i] < 0 ? -(int)pcm[i] : pcm[i]);

		if (v > peak)
			peak = v;
	}
	cr_assert_gt(peak, 6000, "loud enough: peak %zu", peak);
	cr_assert_lt(peak, 32767, "never clips");
	free(pcm);
}
