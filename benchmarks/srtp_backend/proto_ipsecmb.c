/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crypto backend prototype for duet's SRTP engine, part (b): intel-ipsec-mb
 * 1.3 called directly (job API for AES-128-CTR + HMAC-SHA1 and GCM, and the
 * GCM direct API), on each multi-buffer manager (SSE, SSE without SHA-NI,
 * AVX2, AVX512). It also holds the harness both backends share: key
 * material, SRTP packets made and checked by OpenSSL (an independent
 * implementation), the cells (workload x burst x key count), the timing and
 * the summary. One thread, no DPDK.
 *
 * proto_cryptodev.c includes this file (PROTO_WITH_CRYPTODEV defined) to
 * add part (a), DPDK cryptodev, as more variants of the same process: both
 * backends then run cell by cell, in turns, on the same packets and the
 * same random key sequence, so their ratio in one run is measured under
 * the same machine conditions. (The prototype is limited to these two
 * sources; the harness has one home, here.)
 *
 * A packet is 12 bytes of RTP header + 160 bytes of payload (172), at +42
 * in its slot (after Ethernet/IPv4/UDP, as duetd sees it), followed by the
 * 10-byte AES-CM tag (HMAC-SHA1-80) or the 16-byte GCM tag. HMAC-SHA1 is
 * over the packet + the 4-byte ROC (176 bytes), written where the tag was
 * after the received tag is saved, as SRTP requires.
 *
 * Workloads (each on a burst of n packets, keys from 1 or N key states):
 *   hmac_verify      HMAC-SHA1 over 176 bytes, compare 10 bytes
 *   cm_decrypt       HMAC-SHA1 verify + AES-128-CTR decrypt (rekey, in half)
 *   cm_rekey         cm_decrypt with the in key, then AES-128-CTR encrypt +
 *                    HMAC-SHA1 tag with an out key (the full rekey)
 *   gcm_open         AES-128-GCM decrypt + verify, AAD = 12-byte header
 *   gcm_seal         AES-128-GCM encrypt + tag
 * With N keys, each packet uses a key state picked at random out of N; the
 * next burst's key states are prefetched (whole objects) at the start of a
 * burst. That is timed: it is fast-path work.
 *
 * Timing: per burst, TSC (lfence; rdtsc .. rdtscp; lfence) around the
 * prefetch + crypto call, minus the measured cost of an empty pair; the TSC
 * is calibrated against CLOCK_MONOTONIC_RAW at start. A burst that took
 * more than 5x the median burst and more than 50 us was preempted (the
 * machine may be shared) and is left out of the mean. Between bursts, and
 * not timed: the burst's packets are restored from their templates (the
 * crypto is in place) and every output packet is compared with what
 * OpenSSL made: a run with any wrong packet or failed verify exits 1.
 *
 * Output: CSV rows (no header) on stdout, per measurement,
 *   srtp_backend,<variant>/<workload>/b<burst>,<keys>,ns_per_pkt,<v>,ns,<run>
 *   ...,nivcsw,<v>,count,<run>            involuntary context switches
 *   ...,preempted_bursts,<v>,count,<run>  bursts left out
 * and the setup facts (sizes per key) and a summary (medians of ns/packet,
 * ratios) on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <x86intrin.h>

#define NO_COMPAT_IMB_API_053 /* no bare CNTR, SHA1, ... macros */
#include <intel-ipsec-mb.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define RTP_HDR 12
#define PAYLOAD 160
#define PKT_LEN (RTP_HDR + PAYLOAD)
#define CM_TAG 10
#define SHA1_TAG_IMB 12 /* ipsec-mb makes 12 (or 20) bytes; SRTP keeps 10 */
#define GCM_TAG 16
#define GCM_IV 12
#define ROC_LEN 4
#define PKT_OFF 42  /* RTP packet in a slot, after Ethernet/IPv4/UDP */
#define SLOT 256    /* working packet slot */
#define TPL_SLOT 192 /* template slot: packet + tag */
#define MAX_BURST 32
#define MAX_VARIANTS 24
#define MAX_RUNS 16
#define MAX_BURSTS 8
#define CACHE_LINE 64

/* The SRTP context every packet belongs to: fixed, so that the output of
 * encrypting the shared plaintext with key k is template k exactly. */
#define SSRC 0x12345678u
#define SEQ 1000u
#define ROC 0u

enum workload {
	W_VERIFY,
	W_DECRYPT,
	W_REKEY,
	W_GCM_OPEN,
	W_GCM_SEAL,
	W_COUNT
};

static const char *const workload_name[W_COUNT] = {
	"hmac_verify", "cm_decrypt", "cm_rekey", "gcm_open", "gcm_seal",
};

#define W_CM ((1u << W_VERIFY) | (1u << W_DECRYPT) | (1u << W_REKEY))
#define W_GCM ((1u << W_GCM_OPEN) | (1u << W_GCM_SEAL))

/* Raw key material of one SRTP context (what SDES/DTLS-SRTP would give,
 * after the KDF). */
struct keymat {
	uint8_t cm_key[16];
	uint8_t cm_salt[14];
	uint8_t cm_auth[20];
	uint8_t gcm_key[16];
	uint8_t gcm_salt[12];
};

/* The key indices of one burst: packet i uses key state kin[i] (and, for
 * cm_rekey, kout[i] on the way out). */
struct burst {
	uint16_t n;
	const uint32_t *kin;
	const uint32_t *kout;
};

/* One thing measured: a backend with its options. ctx is its own; pkt[]
 * are its packet slots (plain memory, or mbuf data for cryptodev), which
 * the harness fills before and checks after each burst. */
struct variant {
	char name[32];
	const char *backend; /* "cryptodev" or "ipsecmb" */
	uint32_t workloads;  /* bit mask of enum workload */
	void *ctx;
	uint8_t *pkt[MAX_BURST];
	/* Issue prefetches for these key states (the next burst's). */
	void (*prefetch)(void *ctx, enum workload w, const struct burst *next);
	/* Process the burst in place; return how many packets failed
	 * (verify, or a backend error). */
	uint32_t (*run)(void *ctx, enum workload w, const struct burst *b);
};

/* Everything the harness holds. */
struct bench {
	uint32_t nkeys;
	uint32_t npkts;
	uint32_t warmup;
	uint32_t runs;
	uint32_t nbursts;
	uint16_t bursts[MAX_BURSTS];
	uint32_t workloads;
	struct keymat *km;
	uint8_t *tpl_cm;  /* nkeys x TPL_SLOT: valid SRTP AES-CM packets */
	uint8_t *tpl_gcm; /* nkeys x TPL_SLOT: valid SRTP AES-GCM packets */
	uint8_t plain[PKT_LEN];
	uint32_t *kin, *kout;
	uint32_t *burst_ticks; /* one measurement's bursts, TSC ticks each */
	double tsc_per_ns;
	uint64_t tsc_overhead;
	struct variant var[MAX_VARIANTS];
	uint32_t nvar;
	/* Results: [run][workload][burst][hot=0/many=1][variant], ns/pkt. */
	double *res;
};

typedef int (*add_variants_fn)(struct bench *bn);

static inline double *
res_at(struct bench *bn, uint32_t run, uint32_t w, uint32_t bi, uint32_t many, uint32_t v)
{
	size_t i = ((((size_t)run * W_COUNT + w) * MAX_BURSTS + bi) * 2 + many) * MAX_VARIANTS + v;

	return &bn->res[i];
}

/* ---- Small helpers ---------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static inline uint64_t
rng_next(void)
{
	/* xorshift64*: fast, and reproducible from the seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void
rng_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rng_next() >> 56);
}

static void *
alloc_or_die(size_t size)
{
	void *p = aligned_alloc(CACHE_LINE, (size + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE);

	if (p == NULL) {
		fprintf(stderr, "out of memory (%zu bytes)\n", size);
		exit(1);
	}
	memset(p, 0, size);
	return p;
}

static inline void
prefetch_obj(const void *p, size_t size)
{
	const char *c = p;

	for (size_t off = 0; off < size; off += CACHE_LINE)
		__builtin_prefetch(c + off, 0, 3);
}

static inline void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The ROC goes where the tag was: HMAC-SHA1 covers packet || ROC. */
static inline void
srtp_put_roc(uint8_t *pkt, uint32_t roc)
{
	put_be32(pkt + PKT_LEN, roc);
}

/* RFC 3711 4.1.1: IV = salt*2^16 ^ SSRC*2^64 ^ index*2^16, index = ROC||SEQ. */
static inline void
srtp_cm_iv(uint8_t iv[16], const uint8_t salt[14], const uint8_t *pkt, uint32_t roc)
{
	memcpy(iv, salt, 14);
	iv[14] = 0;
	iv[15] = 0;
	for (int i = 0; i < 4; i++)
		iv[4 + i] ^= pkt[8 + i];
	iv[8] ^= (uint8_t)(roc >> 24);
	iv[9] ^= (uint8_t)(roc >> 16);
	iv[10] ^= (uint8_t)(roc >> 8);
	iv[11] ^= (uint8_t)roc;
	iv[12] ^= pkt[2];
	iv[13] ^= pkt[3];
}

/* RFC 7714 8.1: IV = (00 00 || SSRC || ROC || SEQ) ^ salt. */
static inline void
srtp_gcm_iv(uint8_t iv[GCM_IV], const uint8_t salt[GCM_IV], const uint8_t *pkt, uint32_t roc)
{
	memcpy(iv, salt, GCM_IV);
	for (int i = 0; i < 4; i++)
		iv[2 + i] ^= pkt[8 + i];
	iv[6] ^= (uint8_t)(roc >> 24);
	iv[7] ^= (uint8_t)(roc >> 16);
	iv[8] ^= (uint8_t)(roc >> 8);
	iv[9] ^= (uint8_t)roc;
	iv[10] ^= pkt[2];
	iv[11] ^= pkt[3];
}

/* ---- Time ----------------------------------------------------------- */

static inline uint64_t
tsc_begin(void)
{
	_mm_lfence();
	return __rdtsc();
}

static inline uint64_t
tsc_end(void)
{
	unsigned int aux;
	uint64_t t = __rdtscp(&aux);

	_mm_lfence();
	return t;
}

static double
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* TSC ticks per ns over 3 spins of 100 ms against CLOCK_MONOTONIC_RAW
 * (median), and the cost of an empty tsc_begin/tsc_end pair (median of
 * 10,000), subtracted from every burst. */
static void
tsc_calibrate(struct bench *bn)
{
	double rate[3];
	uint64_t empty[10000];

	for (int r = 0; r < 3; r++) {
		double t0 = mono_ns(), t1;
		uint64_t c0 = tsc_begin(), c1;

		do {
			t1 = mono_ns();
		} while (t1 - t0 < 1e8);
		c1 = tsc_end();
		rate[r] = (double)(c1 - c0) / (t1 - t0);
	}
	qsort(rate, 3, sizeof(rate[0]), cmp_double);
	bn->tsc_per_ns = rate[1];
	for (int i = 0; i < 10000; i++) {
		uint64_t a = tsc_begin();

		empty[i] = tsc_end() - a;
	}
	qsort(empty, 10000, sizeof(empty[0]), cmp_u64);
	bn->tsc_overhead = empty[5000];
	fprintf(stderr, "tsc: %.4f GHz (3 x 100 ms vs CLOCK_MONOTONIC_RAW: %.4f .. %.4f), "
		"empty pair %lu ticks\n", rate[1], rate[0], rate[2], (unsigned long)bn->tsc_overhead);
}

static long
nivcsw(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_nivcsw;
}

/* ---- Reference packets (OpenSSL) ---------------------------------------- */

static int
ossl_ctr(const uint8_t key[16], const uint8_t iv[16], uint8_t *buf, int len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	ok = c != NULL && EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, key, iv) == 1 &&
		EVP_EncryptUpdate(c, buf, &n, buf, len) == 1 && n == len;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EIO;
}

static int
ossl_gcm_seal(const uint8_t key[16], const uint8_t iv[GCM_IV], uint8_t *pkt)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	ok = c != NULL && EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, key, iv) == 1 &&
		EVP_EncryptUpdate(c, NULL, &n, pkt, RTP_HDR) == 1 &&
		EVP_EncryptUpdate(c, pkt + RTP_HDR, &n, pkt + RTP_HDR, PAYLOAD) == 1 &&
		EVP_EncryptFinal_ex(c, pkt + PKT_LEN, &n) == 1 &&
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, GCM_TAG, pkt + PKT_LEN) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EIO;
}

/* Key material, the plaintext packet, and per key the SRTP packet in each
 * suite, all made by OpenSSL. */
static int
make_packets(struct bench *bn)
{
	uint8_t *p = bn->plain;

	p[0] = 0x80;
	p[1] = 111;
	p[2] = (uint8_t)(SEQ >> 8);
	p[3] = (uint8_t)SEQ;
	put_be32(p + 4, 0x00012345);
	put_be32(p + 8, SSRC);
	rng_fill(p + RTP_HDR, PAYLOAD);

	bn->km = alloc_or_die(sizeof(*bn->km) * bn->nkeys);
	bn->tpl_cm = alloc_or_die((size_t)TPL_SLOT * bn->nkeys);
	bn->tpl_gcm = alloc_or_die((size_t)TPL_SLOT * bn->nkeys);
	for (uint32_t k = 0; k < bn->nkeys; k++) {
		struct keymat *m = &bn->km[k];
		uint8_t *c = bn->tpl_cm + (size_t)k * TPL_SLOT;
		uint8_t *g = bn->tpl_gcm + (size_t)k * TPL_SLOT;
		uint8_t iv[16], tag[20];
		unsigned int tlen = 0;

		rng_fill((uint8_t *)m, sizeof(*m));
		memcpy(c, p, PKT_LEN);
		srtp_cm_iv(iv, m->cm_salt, c, ROC);
		if (ossl_ctr(m->cm_key, iv, c + RTP_HDR, PAYLOAD) != 0)
			return -EIO;
		srtp_put_roc(c, ROC);
		if (HMAC(EVP_sha1(), m->cm_auth, 20, c, PKT_LEN + ROC_LEN, tag, &tlen) == NULL)
			return -EIO;
		memcpy(c + PKT_LEN, tag, CM_TAG);

		memcpy(g, p, PKT_LEN);
		srtp_gcm_iv(iv, m->gcm_salt, g, ROC);
		if (ossl_gcm_seal(m->gcm_key, iv, g) != 0)
			return -EIO;
	}
	return 0;
}

/* Put packet i of a burst in the state the workload starts from. */
static void
restore(const struct bench *bn, const struct variant *v, enum workload w, const struct burst *b)
{
	for (uint16_t i = 0; i < b->n; i++) {
		size_t k = b->kin[i];

		switch (w) {
		case W_VERIFY:
		case W_DECRYPT:
		case W_REKEY:
			memcpy(v->pkt[i], bn->tpl_cm + k * TPL_SLOT, PKT_LEN + CM_TAG);
			break;
		case W_GCM_OPEN:
			memcpy(v->pkt[i], bn->tpl_gcm + k * TPL_SLOT, PKT_LEN + GCM_TAG);
			break;
		default:
			memcpy(v->pkt[i], bn->plain, PKT_LEN);
			break;
		}
	}
}

/* How many packets of the burst are not what OpenSSL says they must be. */
static uint32_t
check(const struct bench *bn, const struct variant *v, enum workload w, const struct burst *b)
{
	uint32_t bad = 0;

	for (uint16_t i = 0; i < b->n; i++) {
		const uint8_t *p = v->pkt[i];
		size_t ki = b->kin[i], ko = b->kout[i];
		int d;

		switch (w) {
		case W_VERIFY: /* untouched, but for the ROC where the tag was */
			d = memcmp(p, bn->tpl_cm + ki * TPL_SLOT, PKT_LEN);
			break;
		case W_DECRYPT:
		case W_GCM_OPEN:
			d = memcmp(p, bn->plain, PKT_LEN);
			break;
		case W_REKEY: /* exactly the packet the out key makes */
			d = memcmp(p, bn->tpl_cm + ko * TPL_SLOT, PKT_LEN + CM_TAG);
			break;
		default:
			d = memcmp(p, bn->tpl_gcm + ki * TPL_SLOT, PKT_LEN + GCM_TAG);
			break;
		}
		bad += d != 0;
	}
	return bad;
}

/* ---- Backend (b): intel-ipsec-mb directly ---------------------------------- */

/* One AES-CM SRTP key state: 4 cache lines. CTR uses only the encryption
 * key schedule, in both directions; HMAC uses the SHA-1 states after one
 * block of key^ipad and key^opad (20 bytes each, padded to 32). */
struct imb_cm_key {
	uint8_t enc_keys[16 * 11];
	uint8_t ipad[32];
	uint8_t opad[32];
	uint8_t salt[16];
} __attribute__((aligned(CACHE_LINE)));

/* One AES-GCM SRTP key state: the library's gcm_key_data (1,024 bytes,
 * its layout depends on the manager's architecture) and the salt. */
struct imb_gcm_key {
	struct gcm_key_data key;
	uint8_t salt[GCM_IV];
} __attribute__((aligned(CACHE_LINE)));

struct imb_ctx {
	IMB_MGR *mgr;
	bool gcm_direct; /* GCM through IMB_AES128_GCM_ENC/DEC, not jobs */
	const struct imb_cm_key *cm;
	const struct imb_gcm_key *gcm;
	uint8_t slots[MAX_BURST][SLOT] __attribute__((aligned(CACHE_LINE)));
	uint8_t iv[MAX_BURST][16];
	uint8_t tag_rx[MAX_BURST][16];
	uint8_t tag_out[MAX_BURST][20];
	uint8_t failed[MAX_BURST];
};

static void
imb_cm_key_init(IMB_MGR *mgr, struct imb_cm_key *k, const struct keymat *m)
{
	uint8_t dec[16 * 11] __attribute__((aligned(16)));
	uint8_t block[64] __attribute__((aligned(16)));

	IMB_AES_KEYEXP_128(mgr, m->cm_key, k->enc_keys, dec);
	memset(block, 0x36, sizeof(block));
	for (int i = 0; i < 20; i++)
		block[i] ^= m->cm_auth[i];
	IMB_SHA1_ONE_BLOCK(mgr, block, k->ipad);
	memset(block, 0x5c, sizeof(block));
	for (int i = 0; i < 20; i++)
		block[i] ^= m->cm_auth[i];
	IMB_SHA1_ONE_BLOCK(mgr, block, k->opad);
	memcpy(k->salt, m->cm_salt, 14);
}

static void
imb_prefetch(void *arg, enum workload w, const struct burst *next)
{
	struct imb_ctx *c = arg;

	for (uint16_t i = 0; i < next->n; i++) {
		if (w >= W_GCM_OPEN) {
			prefetch_obj(&c->gcm[next->kin[i]], sizeof(c->gcm[0]));
			continue;
		}
		prefetch_obj(&c->cm[next->kin[i]], sizeof(c->cm[0]));
		if (w == W_REKEY)
			prefetch_obj(&c->cm[next->kout[i]], sizeof(c->cm[0]));
	}
}

/* A job came back: for the in direction, the tag is right; for the out
 * direction, put the 10-byte tag after the packet. */
static inline uint32_t
imb_cm_done(struct imb_ctx *c, const IMB_JOB *job, bool out)
{
	uintptr_t i = (uintptr_t)job->user_data2;

	if (job->status != IMB_STATUS_COMPLETED) {
		c->failed[i] = 1;
		return 1;
	}
	if (out) {
		memcpy(job->user_data, c->tag_out[i], CM_TAG);
		return 0;
	}
	if (memcmp(c->tag_out[i], c->tag_rx[i], CM_TAG) != 0) {
		c->failed[i] = 1;
		return 1;
	}
	return 0;
}

/* One direction of AES-CM SRTP over the burst, as jobs: in = verify (and
 * decrypt unless hmac_only), out = encrypt + tag. Jobs come back in
 * order; whatever the lanes still hold when the burst ends is flushed,
 * because the packets must leave with this burst. */
static uint32_t
imb_cm_pass(struct imb_ctx *c, const struct burst *b, bool out, bool hmac_only)
{
	IMB_MGR *mgr = c->mgr;
	uint32_t fail = 0;
	IMB_JOB *job;

	for (uint16_t i = 0; i < b->n; i++) {
		uint8_t *p = c->slots[i] + PKT_OFF;
		const struct imb_cm_key *k = &c->cm[out ? b->kout[i] : b->kin[i]];

		if (out && c->failed[i])
			continue;
		if (!out) {
			c->failed[i] = 0;
			memcpy(c->tag_rx[i], p + PKT_LEN, CM_TAG);
		}
		srtp_put_roc(p, ROC);
		job = IMB_GET_NEXT_JOB(mgr);
		job->hash_alg = IMB_AUTH_HMAC_SHA_1;
		job->u.HMAC._hashed_auth_key_xor_ipad = k->ipad;
		job->u.HMAC._hashed_auth_key_xor_opad = k->opad;
		job->hash_start_src_offset_in_bytes = 0;
		job->msg_len_to_hash_in_bytes = PKT_LEN + ROC_LEN;
		job->auth_tag_output = c->tag_out[i];
		job->auth_tag_output_len_in_bytes = SHA1_TAG_IMB;
		job->src = p;
		job->dst = p + RTP_HDR;
		job->cipher_start_src_offset_in_bytes = RTP_HDR;
		if (hmac_only) {
			job->cipher_mode = IMB_CIPHER_NULL;
			job->cipher_direction = IMB_DIR_DECRYPT;
			job->chain_order = IMB_ORDER_HASH_CIPHER;
			job->msg_len_to_cipher_in_bytes = 0;
		} else {
			srtp_cm_iv(c->iv[i], k->salt, p, ROC);
			job->cipher_mode = IMB_CIPHER_CNTR;
			job->cipher_direction = out ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
			job->chain_order = out ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
			job->enc_keys = k->enc_keys;
			job->dec_keys = k->enc_keys;
			job->key_len_in_bytes = IMB_KEY_128_BYTES;
			job->iv = c->iv[i];
			job->iv_len_in_bytes = 16;
			job->msg_len_to_cipher_in_bytes = PAYLOAD;
		}
		job->user_data = p + PKT_LEN;
		job->user_data2 = (void *)(uintptr_t)i;
		job = IMB_SUBMIT_JOB_NOCHECK(mgr);
		while (job != NULL) {
			fail += imb_cm_done(c, job, out);
			job = IMB_GET_COMPLETED_JOB(mgr);
		}
	}
	while ((job = IMB_FLUSH_JOB(mgr)) != NULL)
		fail += imb_cm_done(c, job, out);
	return fail;
}

static uint32_t
imb_gcm_jobs(struct imb_ctx *c, const struct burst *b, bool open)
{
	IMB_MGR *mgr = c->mgr;
	uint32_t fail = 0;
	IMB_JOB *job;

	for (uint16_t i = 0; i < b->n; i++) {
		uint8_t *p = c->slots[i] + PKT_OFF;
		const struct imb_gcm_key *k = &c->gcm[b->kin[i]];

		srtp_gcm_iv(c->iv[i], k->salt, p, ROC);
		job = IMB_GET_NEXT_JOB(mgr);
		job->cipher_mode = IMB_CIPHER_GCM;
		job->hash_alg = IMB_AUTH_AES_GMAC;
		job->cipher_direction = open ? IMB_DIR_DECRYPT : IMB_DIR_ENCRYPT;
		job->chain_order = open ? IMB_ORDER_HASH_CIPHER : IMB_ORDER_CIPHER_HASH;
		job->enc_keys = &k->key;
		job->dec_keys = &k->key;
		job->key_len_in_bytes = IMB_KEY_128_BYTES;
		job->src = p;
		job->dst = p + RTP_HDR;
		job->cipher_start_src_offset_in_bytes = RTP_HDR;
		job->msg_len_to_cipher_in_bytes = PAYLOAD;
		job->hash_start_src_offset_in_bytes = RTP_HDR;
		job->msg_len_to_hash_in_bytes = PAYLOAD;
		job->iv = c->iv[i];
		job->iv_len_in_bytes = GCM_IV;
		job->u.GCM.aad = p;
		job->u.GCM.aad_len_in_bytes = RTP_HDR;
		job->auth_tag_output = open ? c->tag_out[i] : p + PKT_LEN;
		job->auth_tag_output_len_in_bytes = GCM_TAG;
		job->user_data = p + PKT_LEN;
		job->user_data2 = (void *)(uintptr_t)i;
		job = IMB_SUBMIT_JOB_NOCHECK(mgr);
		while (job != NULL) {
			uintptr_t j = (uintptr_t)job->user_data2;

			fail += job->status != IMB_STATUS_COMPLETED ||
				(open && memcmp(c->tag_out[j], job->user_data, GCM_TAG) != 0);
			job = IMB_GET_COMPLETED_JOB(mgr);
		}
	}
	while ((job = IMB_FLUSH_JOB(mgr)) != NULL) {
		uintptr_t j = (uintptr_t)job->user_data2;

		fail += job->status != IMB_STATUS_COMPLETED ||
			(open && memcmp(c->tag_out[j], job->user_data, GCM_TAG) != 0);
	}
	return fail;
}

/* The GCM direct API: one synchronous call per packet. */
static uint32_t
imb_gcm_direct(struct imb_ctx *c, const struct burst *b, bool open)
{
	struct gcm_context_data gctx;
	uint32_t fail = 0;

	for (uint16_t i = 0; i < b->n; i++) {
		uint8_t *p = c->slots[i] + PKT_OFF;
		const struct imb_gcm_key *k = &c->gcm[b->kin[i]];

		srtp_gcm_iv(c->iv[i], k->salt, p, ROC);
		if (open) {
			IMB_AES128_GCM_DEC(c->mgr, &k->key, &gctx, p + RTP_HDR, p + RTP_HDR,
				PAYLOAD, c->iv[i], p, RTP_HDR, c->tag_out[i], GCM_TAG);
			fail += memcmp(c->tag_out[i], p + PKT_LEN, GCM_TAG) != 0;
		} else {
			IMB_AES128_GCM_ENC(c->mgr, &k->key, &gctx, p + RTP_HDR, p + RTP_HDR,
				PAYLOAD, c->iv[i], p, RTP_HDR, p + PKT_LEN, GCM_TAG);
		}
	}
	return fail;
}

static uint32_t
imb_run(void *arg, enum workload w, const struct burst *b)
{
	struct imb_ctx *c = arg;
	uint32_t fail;

	switch (w) {
	case W_VERIFY:
		return imb_cm_pass(c, b, false, true);
	case W_DECRYPT:
		return imb_cm_pass(c, b, false, false);
	case W_REKEY:
		fail = imb_cm_pass(c, b, false, false);
		return fail + imb_cm_pass(c, b, true, false);
	case W_GCM_OPEN:
	case W_GCM_SEAL:
		if (c->gcm_direct)
			return imb_gcm_direct(c, b, w == W_GCM_OPEN);
		return imb_gcm_jobs(c, b, w == W_GCM_OPEN);
	default:
		return b->n;
	}
}

static struct variant *
variant_add(struct bench *bn, const char *backend, const char *name, uint32_t workloads)
{
	struct variant *v;

	if (bn->nvar == MAX_VARIANTS) {
		fprintf(stderr, "too many variants\n");
		exit(1);
	}
	v = &bn->var[bn->nvar++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->backend = backend;
	v->workloads = workloads;
	return v;
}

/* The managers: SSE (with SHA-NI for SHA-1 where the CPU has it, which
 * 1.3 uses in the SSE manager only), SSE with SHA-NI off, AVX2, AVX512. */
static const struct {
	const char *name;
	uint64_t flags;
	void (*init)(IMB_MGR *);
	bool gcm;
} imb_mgrs[] = {
	{ "sse", 0, init_mb_mgr_sse, true },
	{ "sse_noshani", IMB_FLAG_SHANI_OFF, init_mb_mgr_sse, false },
	{ "avx2", 0, init_mb_mgr_avx2, true },
	{ "avx512", 0, init_mb_mgr_avx512, true },
};

static int
imb_add_variants(struct bench *bn)
{
	struct imb_cm_key *cm = alloc_or_die(sizeof(*cm) * bn->nkeys);
	uint64_t feat = imb_get_feature_flags();
	IMB_MGR *mgr0 = NULL;

	fprintf(stderr, "ipsecmb: library %s, features 0x%lx (SHANI %d, VAES %d, "
		"VPCLMULQDQ %d, AVX512 %d)\n", imb_get_version_str(), (unsigned long)feat,
		!!(feat & IMB_FEATURE_SHANI), !!(feat & IMB_FEATURE_VAES),
		!!(feat & IMB_FEATURE_VPCLMULQDQ), !!(feat & IMB_FEATURE_AVX512F));
	for (size_t m = 0; m < sizeof(imb_mgrs) / sizeof(imb_mgrs[0]); m++) {
		IMB_MGR *mgr = alloc_mb_mgr(imb_mgrs[m].flags);
		struct imb_gcm_key *gcm = NULL;
		char name[32];

		if (mgr == NULL)
			return -ENOMEM;
		imb_mgrs[m].init(mgr);
		if (imb_get_errno(mgr) != 0) {
			fprintf(stderr, "ipsecmb: init_mb_mgr_%s: %s\n", imb_mgrs[m].name,
				imb_get_strerror(imb_get_errno(mgr)));
			return -ENOTSUP;
		}
		/* AES and HMAC precomputes have one layout for all managers;
		 * GCM's depends on the manager. */
		if (mgr0 == NULL) {
			mgr0 = mgr;
			for (uint32_t k = 0; k < bn->nkeys; k++)
				imb_cm_key_init(mgr, &cm[k], &bn->km[k]);
		}
		if (imb_mgrs[m].gcm) {
			gcm = alloc_or_die(sizeof(*gcm) * bn->nkeys);
			for (uint32_t k = 0; k < bn->nkeys; k++) {
				IMB_AES128_GCM_PRE(mgr, bn->km[k].gcm_key, &gcm[k].key);
				memcpy(gcm[k].salt, bn->km[k].gcm_salt, GCM_IV);
			}
		}
		for (int direct = 0; direct < 2; direct++) {
			struct imb_ctx *c;
			struct variant *v;

			if (direct && !imb_mgrs[m].gcm)
				break;
			c = alloc_or_die(sizeof(*c));
			c->mgr = mgr;
			c->cm = cm;
			c->gcm = gcm;
			c->gcm_direct = direct;
			snprintf(name, sizeof(name), "imb_%s_%s", direct ? "gcmapi" : "job",
				imb_mgrs[m].name);
			v = variant_add(bn, "ipsecmb", name,
				direct ? W_GCM : (imb_mgrs[m].gcm ? W_CM | W_GCM : W_CM));
			v->ctx = c;
			v->run = imb_run;
			v->prefetch = imb_prefetch;
			for (int i = 0; i < MAX_BURST; i++)
				v->pkt[i] = c->slots[i] + PKT_OFF;
		}
	}
	fprintf(stderr, "ipsecmb: key state: AES-CM %zu bytes (expanded AES key %d, "
		"HMAC ipad/opad states 2 x 20 padded to 2 x 32, salt), AES-GCM %zu bytes "
		"(struct gcm_key_data %zu + salt), per manager layout\n",
		sizeof(struct imb_cm_key), 16 * 11, sizeof(struct imb_gcm_key),
		sizeof(struct gcm_key_data));
	return 0;
}

/* ---- Harness ----------------------------------------------------------- */

/* Untimed: one burst of every workload on every variant, keys at random,
 * must give OpenSSL's packets; then a broken tag on one packet must be
 * refused (exactly one failure). */
static int
self_test(struct bench *bn)
{
	static uint32_t kin[MAX_BURST], kout[MAX_BURST];
	struct burst b = { .n = MAX_BURST, .kin = kin, .kout = kout };
	int errors = 0;

	for (int i = 0; i < MAX_BURST; i++) {
		kin[i] = (uint32_t)(rng_next() % bn->nkeys);
		kout[i] = (uint32_t)(rng_next() % bn->nkeys);
	}
	for (uint32_t vi = 0; vi < bn->nvar; vi++) {
		struct variant *v = &bn->var[vi];

		for (int w = 0; w < W_COUNT; w++) {
			uint32_t fail, bad;

			if (!(v->workloads & (1u << w)))
				continue;
			restore(bn, v, w, &b);
			fail = v->run(v->ctx, w, &b);
			bad = check(bn, v, w, &b);
			if (fail != 0 || bad != 0) {
				fprintf(stderr, "self-test: %s %s: %u failed, %u wrong packets\n",
					v->name, workload_name[w], fail, bad);
				errors++;
			}
			if (w == W_GCM_SEAL)
				continue;
			restore(bn, v, w, &b);
			v->pkt[3][PKT_LEN + 1] ^= 0x40;
			fail = v->run(v->ctx, w, &b);
			if (fail != 1) {
				fprintf(stderr, "self-test: %s %s: one bad tag gave %u failures\n",
					v->name, workload_name[w], fail);
				errors++;
			}
		}
	}
	fprintf(stderr, "self-test: %u variants x workloads against OpenSSL: %s\n", bn->nvar,
		errors ? "FAILED" : "ok");
	return errors ? -EIO : 0;
}

/* Bursts longer than this many times the median burst, and than
 * PREEMPT_US, were preempted (another process had the core: a time slice
 * is far longer than any burst here); they are left out of the mean. */
#define PREEMPT_FACTOR 5
#define PREEMPT_US 50

/* One measurement: npkts packets of workload w in bursts of `burst`, key
 * indices from bn->kin/kout. Returns ns per packet: the mean over the
 * bursts that were not preempted. */
static double
measure(struct bench *bn, struct variant *v, enum workload w, uint16_t burst, uint32_t *fail,
	uint32_t *bad, long *csw, uint32_t *dropped)
{
	static uint32_t sample[4096];
	uint32_t total = bn->warmup + bn->npkts, nb = 0, nsample = 0, step, limit;
	uint64_t kept = 0;
	long csw0 = 0;

	*fail = 0;
	*bad = 0;
	for (uint32_t off = 0; off + burst <= total; off += burst) {
		struct burst b = { burst, bn->kin + off, bn->kout + off };
		struct burst next = b;
		uint64_t t0, t1;
		uint32_t f;

		if (off == bn->warmup)
			csw0 = nivcsw();
		/* The index arrays hold total + 2 * MAX_BURST entries: the
		 * last bursts prefetch bursts that never come. */
		next.kin += burst;
		next.kout += burst;
		restore(bn, v, w, &b);
		t0 = tsc_begin();
		v->prefetch(v->ctx, w, &next);
		f = v->run(v->ctx, w, &b);
		t1 = tsc_end();
		*bad += check(bn, v, w, &b);
		*fail += f;
		if (off >= bn->warmup) {
			uint64_t t = t1 - t0 > bn->tsc_overhead ? t1 - t0 - bn->tsc_overhead : 0;

			bn->burst_ticks[nb++] = t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
		}
	}
	*csw = nivcsw() - csw0;
	step = nb > 4096 ? nb / 4096 : 1;
	for (uint32_t i = 0; i < nb && nsample < 4096; i += step)
		sample[nsample++] = bn->burst_ticks[i];
	qsort(sample, nsample, sizeof(sample[0]), cmp_u32);
	limit = PREEMPT_FACTOR * sample[nsample / 2];
	if (limit < PREEMPT_US * 1000 * bn->tsc_per_ns)
		limit = (uint32_t)(PREEMPT_US * 1000 * bn->tsc_per_ns);
	*dropped = 0;
	for (uint32_t i = 0; i < nb; i++) {
		if (bn->burst_ticks[i] > limit)
			(*dropped)++;
		else
			kept += bn->burst_ticks[i];
	}
	return (double)kept / bn->tsc_per_ns / ((double)(nb - *dropped) * burst);
}

static void
fill_keys(struct bench *bn, uint32_t nkeys)
{
	uint32_t total = bn->warmup + bn->npkts + 2 * MAX_BURST;

	for (uint32_t i = 0; i < total; i++) {
		bn->kin[i] = nkeys == 1 ? 0 : (uint32_t)(rng_next() % nkeys);
		bn->kout[i] = nkeys == 1 ? 0 : (uint32_t)(rng_next() % nkeys);
	}
}

static double
median(double *x, uint32_t n)
{
	qsort(x, n, sizeof(x[0]), cmp_double);
	return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

/* The reference of a cell in one run: the fastest ipsecmb job variant. */
static double
best_direct(struct bench *bn, uint32_t r, uint32_t w, uint32_t bi, uint32_t many, int *which)
{
	double best = 0;

	for (uint32_t v = 0; v < bn->nvar; v++) {
		double x = *res_at(bn, r, w, bi, many, v);

		if (strcmp(bn->var[v].backend, "ipsecmb") != 0 ||
			strncmp(bn->var[v].name, "imb_job_", 8) != 0 || x <= 0)
			continue;
		if (best == 0 || x < best) {
			best = x;
			if (which)
				*which = (int)v;
		}
	}
	return best;
}

/* Medians over runs of ns/packet, and of each variant's ratio to the
 * fastest direct job-API manager in the same run and cell. */
static void
summary(struct bench *bn)
{
	double x[MAX_RUNS], y[MAX_RUNS];

	fprintf(stderr, "\nsummary: median of %u runs, ns per packet (ratio to the fastest "
		"imb_job_* of the same run, median)\n", bn->runs);
	for (uint32_t w = 0; w < W_COUNT; w++) {
		if (!(bn->workloads & (1u << w)))
			continue;
		fprintf(stderr, "\n%s\n%-22s", workload_name[w], "variant \\ keys:burst");
		for (uint32_t many = 0; many < 2; many++)
			for (uint32_t bi = 0; bi < bn->nbursts; bi++)
				fprintf(stderr, " %7s:%-4u", many ? "N" : "1", bn->bursts[bi]);
		fprintf(stderr, "\n");
		for (uint32_t v = 0; v < bn->nvar; v++) {
			if (!(bn->var[v].workloads & (1u << w)))
				continue;
			fprintf(stderr, "%-22s", bn->var[v].name);
			for (uint32_t many = 0; many < 2; many++)
				for (uint32_t bi = 0; bi < bn->nbursts; bi++) {
					for (uint32_t r = 0; r < bn->runs; r++) {
						x[r] = *res_at(bn, r, w, bi, many, v);
						y[r] = x[r] / best_direct(bn, r, w, bi, many, NULL);
					}
					fprintf(stderr, " %7.1f/%4.2f", median(x, bn->runs),
						median(y, bn->runs));
				}
			fprintf(stderr, "\n");
		}
		fprintf(stderr, "%-22s", "fastest imb_job (runs)");
		for (uint32_t many = 0; many < 2; many++)
			for (uint32_t bi = 0; bi < bn->nbursts; bi++) {
				int count[MAX_VARIANTS] = { 0 }, top = 0, which = 0;

				for (uint32_t r = 0; r < bn->runs; r++) {
					best_direct(bn, r, w, bi, many, &which);
					count[which]++;
				}
				for (uint32_t v = 0; v < bn->nvar; v++)
					if (count[v] > count[top])
						top = (int)v;
				fprintf(stderr, " %7s:%u/%-2u", bn->var[top].name + 8, count[top],
					bn->runs);
			}
		fprintf(stderr, "\n");
	}
}

static int
parse_bursts(struct bench *bn, const char *s)
{
	char *dup = strdup(s), *save = NULL;

	bn->nbursts = 0;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		long b = strtol(t, NULL, 10);

		if (b < 1 || b > MAX_BURST || bn->nbursts == MAX_BURSTS) {
			free(dup);
			return -EINVAL;
		}
		bn->bursts[bn->nbursts++] = (uint16_t)b;
	}
	free(dup);
	return bn->nbursts ? 0 : -EINVAL;
}

static int
parse_workloads(struct bench *bn, const char *s)
{
	char *dup = strdup(s), *save = NULL;

	bn->workloads = 0;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int w;

		for (w = 0; w < W_COUNT; w++)
			if (strcmp(t, workload_name[w]) == 0)
				break;
		if (w == W_COUNT) {
			fprintf(stderr, "unknown workload '%s'\n", t);
			free(dup);
			return -EINVAL;
		}
		bn->workloads |= 1u << w;
	}
	free(dup);
	return bn->workloads ? 0 : -EINVAL;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--keys N] [--packets P] [--warmup W] [--runs R]\n"
		"       [--bursts 1,4,8,16,32] [--workloads hmac_verify,cm_decrypt,...]\n"
		"       [--variants SUBSTRING]\n",
		prog);
}

/* Parse, set up, self-test, then R runs: in each, every cell (workload x
 * key count x burst) measures every variant in turn (the first one
 * rotating from run to run), all on the same key index sequence. */
static int
harness_main(int argc, char **argv, add_variants_fn extra)
{
	static const struct option opts[] = {
		{ "keys", required_argument, NULL, 'k' },
		{ "packets", required_argument, NULL, 'p' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "runs", required_argument, NULL, 'r' },
		{ "bursts", required_argument, NULL, 'b' },
		{ "workloads", required_argument, NULL, 'W' },
		{ "variants", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct bench bench;
	struct bench *bn = &bench;
	const char *only = NULL;
	uint64_t total_bad = 0, total_fail = 0, total_dropped = 0;
	double t_start;
	uint32_t lcm;
	int c;

	bn->nkeys = 100000;
	bn->npkts = 131072;
	bn->warmup = 4096;
	bn->runs = 5;
	parse_bursts(bn, "1,4,8,16,32");
	bn->workloads = (1u << W_COUNT) - 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			bn->nkeys = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			bn->npkts = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'w':
			bn->warmup = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			bn->runs = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			if (parse_bursts(bn, optarg) != 0) {
				fprintf(stderr, "--bursts: 1..%d, comma separated\n", MAX_BURST);
				return 2;
			}
			break;
		case 'W':
			if (parse_workloads(bn, optarg) != 0)
				return 2;
			break;
		case 'v':
			only = optarg;
			break;
		default:
			usage(argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (bn->nkeys < 1 || bn->npkts < MAX_BURST || bn->runs < 1 || bn->runs > MAX_RUNS) {
		fprintf(stderr, "--keys >= 1, --packets >= %d, --runs 1..%d\n", MAX_BURST, MAX_RUNS);
		return 2;
	}
	/* Every burst size divides the packet counts, so all do the same. */
	lcm = 1;
	for (uint32_t i = 0; i < bn->nbursts; i++) {
		uint32_t a = lcm, b = bn->bursts[i];

		while (b != 0) {
			uint32_t t = a % b;

			a = b;
			b = t;
		}
		lcm = lcm / a * bn->bursts[i];
	}
	bn->npkts -= bn->npkts % lcm;
	bn->warmup -= bn->warmup % lcm;
	if (bn->npkts == 0) {
		fprintf(stderr, "--packets must be at least %u (the bursts' lcm)\n", lcm);
		return 2;
	}
	bn->kin = alloc_or_die(sizeof(uint32_t) * (bn->warmup + bn->npkts + 2 * MAX_BURST));
	bn->kout = alloc_or_die(sizeof(uint32_t) * (bn->warmup + bn->npkts + 2 * MAX_BURST));
	bn->burst_ticks = alloc_or_die(sizeof(uint32_t) * bn->npkts);
	bn->res = alloc_or_die(sizeof(double) * MAX_RUNS * W_COUNT * MAX_BURSTS * 2 * MAX_VARIANTS);

	t_start = mono_ns();
	if (make_packets(bn) != 0) {
		fprintf(stderr, "OpenSSL could not make the reference packets\n");
		return 1;
	}
	fprintf(stderr, "setup: %u keys, reference packets by OpenSSL in %.2f s\n", bn->nkeys,
		(mono_ns() - t_start) / 1e9);
	if (extra != NULL && extra(bn) != 0)
		return 1;
	t_start = mono_ns();
	if (imb_add_variants(bn) != 0)
		return 1;
	fprintf(stderr, "setup: ipsecmb key states for %u keys, all managers, in %.2f s\n",
		bn->nkeys, (mono_ns() - t_start) / 1e9);
	if (only != NULL) {
		uint32_t kept = 0;

		for (uint32_t v = 0; v < bn->nvar; v++)
			if (strstr(bn->var[v].name, only) != NULL ||
				strncmp(bn->var[v].name, "imb_job_", 8) == 0)
				bn->var[kept++] = bn->var[v];
		bn->nvar = kept;
	}
	if (self_test(bn) != 0)
		return 1;
	tsc_calibrate(bn);
	fprintf(stderr, "measuring: %u packets per measurement (+%u warm-up), %u runs\n",
		bn->npkts, bn->warmup, bn->runs);

	t_start = mono_ns();
	for (uint32_t r = 0; r < bn->runs; r++) {
		for (uint32_t w = 0; w < W_COUNT; w++) {
			if (!(bn->workloads & (1u << w)))
				continue;
			for (uint32_t many = 0; many < 2; many++) {
				for (uint32_t bi = 0; bi < bn->nbursts; bi++) {
					uint16_t burst = bn->bursts[bi];

					fill_keys(bn, many ? bn->nkeys : 1);
					for (uint32_t i = 0; i < bn->nvar; i++) {
						uint32_t vi = (i + r) % bn->nvar;
						struct variant *v = &bn->var[vi];
						uint32_t fail, bad, dropped;
						long csw;
						double ns;

						if (!(v->workloads & (1u << w)))
							continue;
						ns = measure(bn, v, w, burst, &fail, &bad, &csw,
							&dropped);
						*res_at(bn, r, w, bi, many, vi) = ns;
						printf("srtp_backend,%s/%s/b%u,%u,ns_per_pkt,%.2f,ns,%u\n",
							v->name, workload_name[w], burst,
							many ? bn->nkeys : 1, ns, r + 1);
						printf("srtp_backend,%s/%s/b%u,%u,nivcsw,%ld,count,%u\n",
							v->name, workload_name[w], burst,
							many ? bn->nkeys : 1, csw, r + 1);
						printf("srtp_backend,%s/%s/b%u,%u,preempted_bursts,%u,"
							"count,%u\n", v->name, workload_name[w], burst,
							many ? bn->nkeys : 1, dropped, r + 1);
						total_dropped += dropped;
						if (fail || bad)
							fprintf(stderr, "%s %s b%u: %u failed, %u wrong\n",
								v->name, workload_name[w], burst, fail,
								bad);
						total_fail += fail;
						total_bad += bad;
					}
				}
			}
			fflush(stdout);
		}
		fprintf(stderr, "run %u/%u done (%.0f s)\n", r + 1, bn->runs,
			(mono_ns() - t_start) / 1e9);
	}
	fprintf(stderr, "bursts left out as preempted (> %dx the median and > %d us): %lu\n",
		PREEMPT_FACTOR, PREEMPT_US, (unsigned long)total_dropped);
	summary(bn);
	if (total_fail || total_bad) {
		fprintf(stderr, "FAILED: %lu packets failed verification, %lu wrong\n",
			(unsigned long)total_fail, (unsigned long)total_bad);
		return 1;
	}
	return 0;
}

#ifndef PROTO_WITH_CRYPTODEV
int
main(int argc, char **argv)
{
	return harness_main(argc, argv, NULL);
}
#endif
