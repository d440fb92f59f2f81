/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * srtpe: duet's own SRTP and SRTCP transform (RFC 3711, RFC 7714) on
 * intel-ipsec-mb, byte for byte what libsrtp2 2.5 does for duet's four
 * suites, without a libsrtp2 session or any heap object per key or stream.
 *
 * Three kinds of state, all plain structs the caller places:
 *  - an IMB_MGR per thread that transforms packets (duet_srtpe_mgr_create()
 *    at setup; a worker lcore owns one, so does the control thread for key
 *    setup);
 *  - struct duet_srtpe_key: the session keys of one SDES key, for RTP and
 *    SRTCP, made on the slow path (duet_srtpe_key_init()), read-only after;
 *  - struct duet_srtpe_stream: how far one SSRC got in one direction under
 *    one key (index, ROC, replay windows), written only by the thread that
 *    transforms its packets.
 * The transform itself (duet_srtpe_burst(), duet_srtpe_fp.h) runs on a
 * worker lcore: no allocation, lock, syscall or log line.
 */
#ifndef DUET_SRTPE_H
#define DUET_SRTPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <intel-ipsec-mb.h>

#include "duet_sdes.h"

/** Replay window of every stream, RTP and SRTCP alike (packets): 128,
 * libsrtp2's fixed SRTCP window, and the RTP window most phones use.
 * libsrtp2 sessions in lib/srtp use DUET_SRTP_WINDOW (1024) for RTP. */
#define DUET_SRTPE_WINDOW 128
/** Most packets one duet_srtpe_burst() call works on together (more are
 * taken in runs of this many). */
#define DUET_SRTPE_BURST_MAX 32
/** Most bytes protection adds: a GCM tag and the SRTCP E+index word. */
#define DUET_SRTPE_MAX_OVERHEAD (16 + 4)

/** What happened to a packet (as enum duet_srtp_verdict's first four). */
enum duet_srtpe_verdict {
	DUET_SRTPE_OK = 0, /**< protected, or authentic (and decrypted) */
	DUET_SRTPE_AUTH,   /**< tag wrong: forged, tampered or another key */
	DUET_SRTPE_REPLAY, /**< index seen before, or older than the window */
	DUET_SRTPE_BAD,	   /**< malformed, too short, no room, wrong manager */
};

/** What to do with a packet (struct duet_srtpe_pkt.op). */
enum duet_srtpe_op {
	DUET_SRTPE_RTP_PROTECT = 0, /**< encrypt, append the tag */
	DUET_SRTPE_RTP_UNPROTECT,   /**< authenticate, replay check, decrypt, strip the tag */
	DUET_SRTPE_RTP_VERIFY,	    /**< authenticate and replay check only: bytes unchanged */
	DUET_SRTPE_SRTCP_PROTECT,   /**< encrypt, append E+index and the tag */
	DUET_SRTPE_SRTCP_UNPROTECT, /**< as RTP, strips E+index and the tag */
	DUET_SRTPE_SRTCP_VERIFY,    /**< as RTP verify */
	DUET_SRTPE_OP_COUNT,
};

/* struct duet_srtpe_pkt.flags */
/** SRTCP unprotect/verify under AES_CM_128_HMAC_SHA1_32: besides the
 * RFC 4568 80-bit tag, accept a packet whose tag is 32 bits (ffmpeg tags
 * SRTCP that way). The 80-bit reading is tried first. No effect on other
 * suites or operations. */
#define DUET_SRTPE_SRTCP_TAG_EITHER 0x1

/** ipsec-mb code path of a manager. */
enum duet_srtpe_arch {
	DUET_SRTPE_ARCH_AUTO = 0, /**< duet_srtpe_arch_pick(DUET_SRTPE_BURST_MAX) */
	DUET_SRTPE_ARCH_SSE,	  /**< SSE, AES-NI, SHA-NI where the CPU has it */
	DUET_SRTPE_ARCH_AVX2,
	DUET_SRTPE_ARCH_AVX512,	  /**< AVX-512 (VAES where the CPU has it) */
};

/** One direction's (RTP or SRTCP) session keys of an AES-CM suite. */
struct duet_srtpe_cm_keys {
	uint32_t aes[44] __attribute__((aligned(16))); /**< AES-128 encryption round keys */
	/** SHA-1 state after one block of auth key ^ ipad, as ipsec-mb's
	 * HMAC jobs take it (IMB_SHA1_ONE_BLOCK output, 20 bytes). */
	uint8_t ipad[32] __attribute__((aligned(16)));
	uint8_t opad[32] __attribute__((aligned(16))); /**< same, auth key ^ opad */
};

/**
 * The session keys of one SDES key (RFC 3711 4.3, kdr 0), ready for
 * ipsec-mb. Made by duet_srtpe_key_init() on the slow path, read-only
 * after; wiped by duet_srtpe_key_wipe(). The first cache line holds what
 * every packet reads besides its round keys: suite, tag lengths, salts.
 *
 * sizeof: 2112 bytes (the GCM arm of the union sets it: ipsec-mb's struct
 * gcm_key_data is 1008 bytes, room for AVX-512's 48 hash-key powers, 1024
 * aligned). The AES-CM suites use the first 544 (64 + 2 x 240): a key of
 * one suite may be given duet_srtpe_key_size(suite) bytes only (576 for
 * AES-CM), which duet_srtpe_key_init(), duet_srtpe_key_wipe() and the
 * transform never reach past. Place it 64-byte aligned (aligned_alloc,
 * rte_malloc).
 */
struct duet_srtpe_key {
	uint8_t suite;	       /**< enum duet_srtp_suite */
	uint8_t rtp_tag_len;   /**< 10, 4 (HMAC-SHA1 truncated) or 16 (GCM) */
	uint8_t srtcp_tag_len; /**< 10 (both AES-CM suites, RFC 4568) or 16 */
	uint8_t gcm_key_len;   /**< GCM: 16 or 32; AES-CM: 0 */
	uint32_t arch;	       /**< IMB_MGR.used_arch it was made with (GCM keys are per arch) */
	uint8_t rtp_salt[16];  /**< session salt: 14 bytes (AES-CM) or 12 (GCM), zero padded */
	uint8_t srtcp_salt[16];
	/** GCM, for prefetching: where in struct gcm_key_data H (the hash key,
	 * HashKey<<1) is, the code path's other powers following it (SSE,
	 * AVX2, AVX-512 without VAES: H, H^2, .. then their Karatsuba halves)
	 * or coming before it (gcm_h_down: VAES AVX-512, .., H^2, H). AES-CM: 0. */
	uint16_t gcm_h_off;
	uint8_t gcm_h_down;
	uint8_t reserved[21];
	union {
		struct {
			struct duet_srtpe_cm_keys rtp;
			struct duet_srtpe_cm_keys srtcp;
		} cm; /**< AES_CM_128_HMAC_SHA1_80 and _32 */
		struct {
			struct gcm_key_data rtp __attribute__((aligned(64)));
			struct gcm_key_data srtcp __attribute__((aligned(64)));
		} gcm; /**< AEAD_AES_128_GCM and AEAD_AES_256_GCM */
	} u;
} __attribute__((aligned(64)));

/* struct duet_srtpe_stream.flags */
#define DUET_SRTPE_STREAM_RTP 0x1   /**< has taken an RTP packet */
#define DUET_SRTPE_STREAM_SRTCP 0x2 /**< has taken an SRTCP packet */

/**
 * How far one SSRC's packets got in one direction under one key. A zeroed
 * struct (duet_srtpe_stream_init()) is a fresh stream, exactly what
 * libsrtp2 clones from its session template for a new SSRC. Written only
 * by the thread that transforms the stream's packets. 48 bytes.
 *
 * Windows: bit i of a window says index (highest - i) was taken, i < 128.
 */
struct duet_srtpe_stream {
	/** RFC 3711 packet index, ROC << 16 | SEQ, of the highest RTP packet
	 * authenticated (inbound) or protected (outbound); ROC = rtp_index >> 16. */
	uint64_t rtp_index;
	uint64_t rtp_window[2];	  /**< RTP replay window below rtp_index */
	uint64_t srtcp_window[2]; /**< SRTCP replay window below srtcp_index */
	/** Inbound: highest SRTCP index authenticated. Outbound: the last
	 * index sent (the next packet gets srtcp_index + 1, the first 1). */
	uint32_t srtcp_index;
	uint32_t flags; /**< DUET_SRTPE_STREAM_*: which halves are initialised */
};

/**
 * One packet of a burst. The caller fills key, stream, p, len, cap, op and
 * flags; duet_srtpe_burst() sets verdict and, on DUET_SRTPE_OK, len.
 * Two entries of one burst never point at the same bytes.
 */
struct duet_srtpe_pkt {
	const struct duet_srtpe_key *key;
	struct duet_srtpe_stream *stream; /**< the packet's SSRC in this direction and key */
	uint8_t *p;	  /**< the packet (RTP or RTCP header first), changed in place */
	uint32_t len;	  /**< its length; on OK the new one */
	uint32_t cap;	  /**< protect: bytes writable at p (len + DUET_SRTPE_MAX_OVERHEAD is enough) */
	uint8_t op;	  /**< enum duet_srtpe_op */
	uint8_t flags;	  /**< DUET_SRTPE_SRTCP_TAG_EITHER */
	uint8_t verdict;  /**< out: enum duet_srtpe_verdict */
	uint8_t reserved;
};

/**
 * The manager code path for bursts of about `burst` packets on this CPU:
 * SSE below 16 packets, AVX-512 from 16 where the CPU has it (else AVX2,
 * else SSE). A default, to be replaced by what benchmarks show. Any thread.
 */
enum duet_srtpe_arch duet_srtpe_arch_pick(unsigned int burst);

/**
 * Allocate and initialise an ipsec-mb manager (one per thread). Slow path.
 * @param arch  the code path, or DUET_SRTPE_ARCH_AUTO
 * @param out   the manager; NULL on error
 * @return 0; -ENOTSUP when the CPU lacks what arch needs; -ENOMEM
 */
int duet_srtpe_mgr_create(enum duet_srtpe_arch arch, IMB_MGR **out);

/** Free a manager from duet_srtpe_mgr_create(). NULL is a no-op. */
void duet_srtpe_mgr_free(IMB_MGR *m);

/**
 * RFC 3711 4.3.1 key derivation, key derivation rate 0: out_len bytes of
 * AES-CM keystream under the master key, IV = (master salt XOR label at
 * byte 7) * 2^16. Slow path; m must be idle (no jobs in flight).
 * @param master_key   16 or 32 bytes (key_len)
 * @param master_salt  14 bytes (a 12-byte GCM salt zero-padded, as libsrtp2 does)
 * @param label        0..5 (RFC 3711: RTP key, auth key, salt; SRTCP the same)
 * @param out_len      1..64
 * @return 0; -EINVAL for a bad length; -EIO when ipsec-mb refused the job
 */
int duet_srtpe_kdf(IMB_MGR *m, const uint8_t *master_key, unsigned int key_len,
		   const uint8_t master_salt[14], uint8_t label, uint8_t *out, unsigned int out_len);

/**
 * Derive the session keys of an SDES key and lay them out for ipsec-mb
 * (AES round keys, HMAC ipad/opad states, GCM key data). Keys made with a
 * manager work with managers of the same arch only (GCM's precomputed hash
 * keys differ between code paths): a GCM key used with another one's
 * manager gives DUET_SRTPE_BAD. The key lifetime is not enforced here.
 * Writes duet_srtpe_key_size(sdes->suite) bytes at k and no more (for an
 * unknown suite, the first cache line only).
 * Slow path; m must be idle. Wipes its temporaries.
 * @return 0; -EINVAL for an unknown suite or a key of the wrong length
 *         (what it would have written is zeroed then); -EIO when ipsec-mb
 *         refused a job
 */
int duet_srtpe_key_init(IMB_MGR *m, const struct duet_sdes *sdes, struct duet_srtpe_key *k);

/**
 * Bytes a key of this suite takes: offsetof(struct duet_srtpe_key, u) plus
 * the union arm the suite uses, rounded up to 64 (576 for the AES-CM
 * suites, sizeof(struct duet_srtpe_key) for AES-GCM and any other value).
 * An allocation of this size, 64-byte aligned, is enough for
 * duet_srtpe_key_init(), duet_srtpe_burst() and duet_srtpe_key_wipe().
 * Any thread.
 */
size_t duet_srtpe_key_size(unsigned int suite);

/** Overwrite a key (duet_secure_zero): duet_srtpe_key_size(k->suite)
 * bytes, or only the first cache line if k->suite is not a suite. Any
 * thread that owns k. */
void duet_srtpe_key_wipe(struct duet_srtpe_key *k);

/** Make s a fresh stream (all zero). */
void duet_srtpe_stream_init(struct duet_srtpe_stream *s);

/**
 * Transform a burst: every packet is protected, unprotected or verified as
 * its op says, with all the HMAC-SHA1 work of the burst submitted to m
 * together so that its lanes fill (AES-GCM packets go one by one through
 * ipsec-mb's direct GCM API). The outcome is what libsrtp2 would give
 * handling the packets one after the other in array order: a replay
 * window or ROC moves only after a packet authenticates, and a later
 * packet of the same stream sees it (a duplicate in one burst is a
 * REPLAY). A packet that fails the replay check is not submitted.
 *
 * It prefetches every packet's key lines and stream itself (see
 * duet_srtpe_prefetch() to start that a burst earlier).
 *
 * On a failed GCM unprotect the payload may be left decrypted (GCM
 * decrypts before it knows the tag, as libsrtp2 does); a failed AES-CM
 * unprotect leaves the packet as it came (the engine may decrypt it along
 * with its hash, and then puts the ciphertext back); verify never changes
 * a byte (it writes the ROC where the tag is while hashing and puts the
 * tag back). Worker lcore that owns m and the streams.
 * @return how many packets got DUET_SRTPE_OK
 */
unsigned int duet_srtpe_burst(IMB_MGR *m, struct duet_srtpe_pkt *pkts, unsigned int n);

#endif /* DUET_SRTPE_H */
