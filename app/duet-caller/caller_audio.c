/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet-caller's input audio (see caller_audio.h): WAV reading and
 * conversion, and the generated speech-like signal. Main thread, at setup.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caller_audio.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (unsigned int)p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int
fail(const char **why, const char *what, int err)
{
	if (why != NULL)
		*why = what;
	return err;
}

/* Check the "fmt " chunk body. */
static int
parse_fmt(const uint8_t *p, uint32_t size, struct caller_wav *out, const char **why)
{
	uint16_t tag, block_align;

	if (size < 16)
		return fail(why, "fmt chunk shorter than 16 bytes", -EINVAL);
	tag = le16(p);
	out->channels = le16(p + 2);
	out->rate = le32(p + 4);
	block_align = le16(p + 12);
	out->bits = le16(p + 14);
	if (tag == 0xfffe) {
		/* WAVE_FORMAT_EXTENSIBLE: the subformat GUID starts with the
		 * format tag it stands for. */
		if (size < 40)
			return fail(why, "extensible fmt chunk shorter than 40 bytes", -EINVAL);
		tag = le16(p + 24);
	}
	if (tag != 1)
		return fail(why, "not PCM (compressed or floating-point WAV)", -EINVAL);
	if (out->bits != 16)
		return fail(why, "not 16 bits per sample", -EINVAL);
	if (out->channels != 1 && out->channels != 2)
		return fail(why, "not mono or stereo", -EINVAL);
	if (out->rate < CALLER_WAV_RATE_MIN || out->rate > CALLER_WAV_RATE_MAX)
		return fail(why, "sample rate outside 8000..192000 Hz", -EINVAL);
	if (block_align != out->channels * 2)
		return fail(why, "block align does not match the channels", -EINVAL);
	return 0;
}

int
caller_wav_parse(const uint8_t *buf, size_t len, struct caller_wav *out, const char **why)
{
	size_t off = 12, data_len = 0;
	const uint8_t *data = NULL;
	bool have_fmt = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len < 12 || memcmp(buf, "RIFF", 4) != 0 || memcmp(buf + 8, "WAVE", 4) != 0)
		return fail(why, "not a RIFF/WAVE file", -EINVAL);
	while (off + 8 <= len) {
		const uint8_t *id = buf + off;
		uint32_t size = le32(buf + off + 4);
		size_t avail = len - off - 8;

		if (memcmp(id, "data", 4) == 0) {
			if (size == 0xffffffffu)
				size = (uint32_t)(avail > 0xfffffffeu ? 0xfffffffeu : avail);
			if (size > avail)
				return fail(why, "data chunk runs past the end of the file", -EMSGSIZE);
			data = buf + off + 8;
			data_len = size;
		} else if (size > avail) {
			return fail(why, "a chunk runs past the end of the file", -EMSGSIZE);
		} else if (memcmp(id, "fmt ", 4) == 0) {
			rc = parse_fmt(buf + off + 8, size, out, why);
			if (rc != 0)
				return rc;
			have_fmt = true;
		}
		/* Chunks are padded to an even size. */
		off += 8 + (size_t)size + (size & 1);
		if (data != NULL && have_fmt)
			break;
	}
	if (!have_fmt)
		return fail(why, "no fmt chunk", -EINVAL);
	if (data == NULL)
		return fail(why, "no data chunk", -EINVAL);
	out->data = data;
	out->frames = data_len / (out->channels * 2u);
	if (out->frames == 0)
		return fail(why, "no samples", -ENODATA);
	return 0;
}

/* Sample i of the WAV as mono. */
static int32_t
mono_at(const struct caller_wav *w, size_t i)
{
	const uint8_t *p = w->data + i * w->channels * 2;
	int32_t s = (int16_t)le16(p);

	if (w->channels == 2)
		s = (s + (int16_t)le16(p + 2)) / 2;
	return s;
}

int
caller_wav_to_mono48k(const struct caller_wav *w, int16_t **out, size_t *n_out)
{
	size_t n, frames, i;
	int16_t *pcm;

	/* Output samples covering the same time: ceil(frames * 48000 / rate). */
	n = (size_t)(((uint64_t)w->frames * CALLER_AUDIO_RATE + w->rate - 1) / w->rate);
	frames = (n + CALLER_AUDIO_FRAME - 1) / CALLER_AUDIO_FRAME;
	pcm = calloc(frames * CALLER_AUDIO_FRAME, sizeof(*pcm));
	if (pcm == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		/* Input position i * rate / 48000: whole sample j, remainder
		 * rem / 48000 of the way to the next one. */
		uint64_t num = (uint64_t)i * w->rate;
		size_t j = (size_t)(num / CALLER_AUDIO_RATE);
		int64_t rem = (int64_t)(num % CALLER_AUDIO_RATE);
		int64_t a = mono_at(w, j < w->frames ? j : w->frames - 1);
		int64_t b = j + 1 < w->frames ? mono_at(w, j + 1) : a;

		pcm[i] = (int16_t)(a + (b - a) * rem / CALLER_AUDIO_RATE);
	}
	*out = pcm;
	*n_out = frames * CALLER_AUDIO_FRAME;
	return 0;
}

int
caller_wav_load(const char *path, int16_t **out, size_t *n_out, const char **why)
{
	struct caller_wav w;
	struct stat sb;
	uint8_t *buf;
	size_t got = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		return fail(why, strerror(-rc), rc);
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return fail(why, "not a regular file", -EINVAL);
	}
	if ((uint64_t)sb.st_size > CALLER_WAV_FILE_MAX) {
		close(fd);
		return fail(why, "larger than 512 MiB", -EFBIG);
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return fail(why, "out of memory", -ENOMEM);
	}
	while (got < (size_t)sb.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : -EIO;
			free(buf);
			close(fd);
			return fail(why, r < 0 ? strerror(-rc) : "file shrank while reading", rc);
		}
		got += (size_t)r;
	}
	close(fd);
	rc = caller_wav_parse(buf, got, &w, why);
	if (rc == 0) {
		rc = caller_wav_to_mono48k(&w, out, n_out);
		if (rc != 0)
			fail(why, "out of memory", rc);
	}
	free(buf);
	return rc;
}

/* splitmix64: a small, good, seedable generator. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi). */
static double
rng_range(uint64_t *s, double lo, double hi)
{
	return lo + (hi - lo) * (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

/* Vowel formants (Hz): F1, F2, F3 of a, e, i, o, u. */
static const double vowels[5][3] = {
	{ 730, 1090, 2440 }, { 530, 1840, 2480 }, { 270, 2290, 3010 },
	{ 570, 840, 2410 },  { 300, 870, 2240 },
};

/* Relative level of harmonic frequency f under a vowel's formants, with a
 * -6 dB/octave source tilt (the 1/k of a glottal pulse train). */
static double
formant_gain(const double *fm, double f, unsigned int k)
{
	double g = 0.0;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		double bw = 60.0 + 0.06 * fm[i], x = (f - fm[i]) / bw;

		g += (i == 0 ? 1.0 : 0.6) / (1.0 + x * x);
	}
	return g / (double)k;
}

#define GEN_MAX_HARMONICS 40

/* One syllable of n samples into out, starting at phase state ph[]. */
static void
gen_syllable(uint64_t *rng, int16_t *out, size_t n, double f0_start, double f0_end, bool voiced,
	     double *ph, double level)
{
	const double *fm = vowels[rng_next(rng) % 5];
	double gains[GEN_MAX_HARMONICS + 1], norm = 0.0, vib_ph = 0.0, lp = 0.0;
	unsigned int k, nh;
	size_t i;

	nh = (unsigned int)(3800.0 / f0_start);
	if (nh > GEN_MAX_HARMONICS)
		nh = GEN_MAX_HARMONICS;
	for (k = 1; k <= nh; k++) {
		gains[k] = formant_gain(fm, f0_start * k, k);
		norm += gains[k];
	}
	for (i = 0; i < n; i++) {
		double t = (double)i / (double)n;
		/* Syllable envelope: quick rise, longer fall (raised sine). */
		double env = t < 0.2 ? sin(M_PI * 0.5 * t / 0.2) : cos(M_PI * 0.5 * (t - 0.2) / 0.8);
		double f0 = (f0_start + (f0_end - f0_start) * t) *
			    (1.0 + 0.015 * sin(vib_ph));
		double s = 0.0;

		vib_ph += 2.0 * M_PI * 5.5 / CALLER_AUDIO_RATE;
		if (voiced) {
			for (k = 1; k <= nh; k++) {
				ph[k] += 2.0 * M_PI * f0 * k / CALLER_AUDIO_RATE;
				if (ph[k] > 2.0 * M_PI)
					ph[k] -= 2.0 * M_PI;
				s += gains[k] * sin(ph[k]);
			}
			s /= norm;
		} else {
			/* Fricative: white noise through a one-pole high-pass. */
			double w = rng_range(rng, -1.0, 1.0);

			lp += 0.3 * (w - lp);
			s = 0.5 * (w - lp);
		}
		out[i] = (int16_t)lrint(s * env * level * 32767.0);
	}
}

int
caller_gen_speech(uint64_t seed, unsigned int voice, int16_t **out, size_t *n_out)
{
	size_t n = (size_t)CALLER_GEN_SECONDS * CALLER_AUDIO_RATE, pos = 0;
	double ph[GEN_MAX_HARMONICS + 1];
	double base = voice == 0 ? 115.0 : 205.0;
	uint64_t rng = seed * 2 + voice + 0x5eed;
	int16_t *pcm;

	pcm = calloc(n, sizeof(*pcm));
	if (pcm == NULL)
		return -ENOMEM;
	memset(ph, 0, sizeof(ph));
	/* Phrases of 1.2..3 s, then pauses of 0.4..1.2 s. The last phrase
	 * stops at least 0.5 s before the end, so the loop ends in silence. */
	while (pos + CALLER_AUDIO_RATE < n) {
		size_t phrase_end = pos + (size_t)(rng_range(&rng, 1.2, 3.0) * CALLER_AUDIO_RATE);
		double f0 = base * rng_range(&rng, 0.95, 1.1);

		if (phrase_end > n - CALLER_AUDIO_RATE / 2)
			phrase_end = n - CALLER_AUDIO_RATE / 2;
		while (pos < phrase_end) {
			size_t syl = (size_t)(rng_range(&rng, 0.15, 0.30) * CALLER_AUDIO_RATE);
			bool voiced = rng_next(&rng) % 5 != 0;
			/* Declination: pitch falls through the phrase; accents on
			 * some syllables. */
			double accent = rng_next(&rng) % 3 == 0 ? 1.18 : 1.0;
			double f_start = f0 * accent, f_end = f0 * 0.97;

			if (pos + syl > phrase_end)
				syl = phrase_end - pos;
			gen_syllable(&rng, pcm + pos, syl, f_start, f_end, voiced, ph,
				     rng_range(&rng, 0.35, 0.6));
			f0 = f_end;
			pos += syl;
			/* A short gap between some syllables. */
			if (rng_next(&rng) % 4 == 0)
				pos += (size_t)(rng_range(&rng, 0.02, 0.08) * CALLER_AUDIO_RATE);
		}
		pos += (size_t)(rng_range(&rng, 0.4, 1.2) * CALLER_AUDIO_RATE);
	}
	*out = pcm;
	*n_out = n;
	return 0;
}
