/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet-caller's input audio: a 16-bit PCM WAV reader (over bytes, so it is
 * testable without files), its conversion to what the encoder takes (mono,
 * 48 kHz), and a deterministic speech-like test signal. Pure functions, no
 * Opus, no I/O except caller_wav_load(). Run by the main thread at setup,
 * before any call starts.
 */
#ifndef CALLER_AUDIO_H
#define CALLER_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#define CALLER_AUDIO_RATE 48000		/**< the only rate the encoder is given */
#define CALLER_AUDIO_FRAME 960		/**< samples in 20 ms at 48 kHz */
#define CALLER_WAV_RATE_MIN 8000	/**< lowest WAV rate accepted */
#define CALLER_WAV_RATE_MAX 192000	/**< highest WAV rate accepted */
#define CALLER_WAV_FILE_MAX (512u << 20) /**< largest WAV file read (512 MiB) */
#define CALLER_GEN_SECONDS 12		/**< length of one loop of the generated signal */

/** A parsed WAV file: the format and where its samples are in the buffer. */
struct caller_wav {
	uint32_t rate;	      /**< samples per second per channel */
	uint16_t channels;    /**< 1 or 2 */
	uint16_t bits;	      /**< always 16 */
	const uint8_t *data;  /**< interleaved little-endian samples (inside the buffer) */
	size_t frames;	      /**< sample frames (one sample per channel each) */
};

/**
 * Read a RIFF/WAVE header: PCM (format 1, or WAVE_FORMAT_EXTENSIBLE with
 * the PCM subformat), 16 bits, 1 or 2 channels, 8..192 kHz. Chunks other
 * than "fmt " and "data" are skipped; a data size of 0xFFFFFFFF (a
 * streaming writer that never went back) means "to the end of the file".
 * @param why on error, a static description of what is wrong
 * @return 0; -EINVAL (not a WAV, or a format this reader refuses);
 *         -EMSGSIZE (a chunk runs past the end of the bytes);
 *         -ENODATA (no samples)
 */
int caller_wav_parse(const uint8_t *buf, size_t len, struct caller_wav *out, const char **why);

/**
 * Make the encoder's input from a parsed WAV: stereo is mixed down (the
 * mean of the two channels), a rate other than 48 kHz is resampled by
 * linear interpolation (good enough for a test signal, not for music), and
 * the end is padded with silence to a whole number of 20 ms frames.
 * @param out  malloc'ed samples (caller frees); n_out is a multiple of 960
 * @return 0, -ENOMEM
 */
int caller_wav_to_mono48k(const struct caller_wav *w, int16_t **out, size_t *n_out);

/**
 * Read a WAV file and convert it as above.
 * @param why on error, a static description (or strerror text) of the cause
 * @return 0, -errno from open/read, or caller_wav_parse()'s errors
 */
int caller_wav_load(const char *path, int16_t **out, size_t *n_out, const char **why);

/**
 * Generate CALLER_GEN_SECONDS of a speech-like signal at 48 kHz: phrases
 * of syllables (voiced harmonics under vowel formants, a falling pitch
 * contour with accents and vibrato, a syllable-rate envelope, a few
 * noise-like consonants) separated by pauses of digital silence, so DTX
 * has silence to act on. Talking starts at sample 0 and the loop ends in
 * a pause. The same seed and voice give the same samples.
 * @param voice 0 or 1: a lower and a higher voice, for legs a and b
 * @param out   malloc'ed samples (caller frees), a multiple of 960
 * @return 0, -ENOMEM
 */
int caller_gen_speech(uint64_t seed, unsigned int voice, int16_t **out, size_t *n_out);

#endif /* CALLER_AUDIO_H */
