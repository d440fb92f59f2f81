/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * srtpe setup (see duet_srtpe.h): ipsec-mb managers, the RFC 3711 key
 * derivation and the per-key state built from an SDES key. Slow path: the
 * control thread (or a test, or a worker at its start for its manager);
 * every function here may allocate or take its time.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "duet_secure_zero.h"
#include "duet_srtpe.h"

/* Longest KDF output: an AES-256 key (32 bytes). */
#define KDF_OUT_MAX 64

enum duet_srtpe_arch
duet_srtpe_arch_pick(unsigned int burst)
{
	uint64_t f = imb_get_feature_flags();

	if (burst < 16)
		return DUET_SRTPE_ARCH_SSE;
	if ((f & IMB_CPUFLAGS_AVX512) == IMB_CPUFLAGS_AVX512)
		return DUET_SRTPE_ARCH_AVX512;
	if ((f & IMB_CPUFLAGS_AVX2) == IMB_CPUFLAGS_AVX2)
		return DUET_SRTPE_ARCH_AVX2;
	return DUET_SRTPE_ARCH_SSE;
}

int
duet_srtpe_mgr_create(enum duet_srtpe_arch arch, IMB_MGR **out)
{
	uint64_t f = imb_get_feature_flags();
	IMB_MGR *m;

	*out = NULL;
	if (arch == DUET_SRTPE_ARCH_AUTO)
		arch = duet_srtpe_arch_pick(DUET_SRTPE_BURST_MAX);
	switch (arch) {
	case DUET_SRTPE_ARCH_SSE:
		if ((f & IMB_CPUFLAGS_SSE) != IMB_CPUFLAGS_SSE)
			return -ENOTSUP;
		break;
	case DUET_SRTPE_ARCH_AVX2:
		if ((f & IMB_CPUFLAGS_AVX2) != IMB_CPUFLAGS_AVX2)
			return -ENOTSUP;
		break;
	case DUET_SRTPE_ARCH_AVX512:
		if ((f & IMB_CPUFLAGS_AVX512) != IMB_CPUFLAGS_AVX512)
			return -ENOTSUP;
		break;
	default:
		return -EINVAL;
	}
	m = alloc_mb_mgr(0);
	if (m == NULL)
		return -ENOMEM;
	if (arch == DUET_SRTPE_ARCH_SSE)
		init_mb_mgr_sse(m);
	else if (arch == DUET_SRTPE_ARCH_AVX2)
		init_mb_mgr_avx2(m);
	else
		init_mb_mgr_avx512(m);
	if (imb_get_errno(m) != 0) {
		free_mb_mgr(m);
		return -ENOTSUP;
	}
	*out = m;
	return 0;
}

void
duet_srtpe_mgr_free(IMB_MGR *m)
{
	if (m != NULL)
		free_mb_mgr(m);
}

/* Run one job to completion on an idle manager; true when it completed. */
static bool
run_job(IMB_MGR *m)
{
	IMB_JOB *j = IMB_SUBMIT_JOB(m);
	bool ok = false;

	if (j == NULL)
		j = IMB_FLUSH_JOB(m);
	while (j != NULL) {
		ok = j->status == IMB_STATUS_COMPLETED;
		j = IMB_GET_COMPLETED_JOB(m);
	}
	return ok;
}

int
duet_srtpe_kdf(IMB_MGR *m, const uint8_t *master_key, unsigned int key_len,
	       const uint8_t master_salt[14], uint8_t label, uint8_t *out, unsigned int out_len)
{
	uint32_t enc[60] __attribute__((aligned(16)));
	uint32_t dec[60] __attribute__((aligned(16)));
	uint8_t iv[16];
	IMB_JOB *j;
	bool ok;

	if ((key_len != 16 && key_len != 32) || out_len == 0 || out_len > KDF_OUT_MAX)
		return -EINVAL;
	if (key_len == 16)
		IMB_AES_KEYEXP_128(m, master_key, enc, dec);
	else
		IMB_AES_KEYEXP_256(m, master_key, enc, dec);
	/* x = key_id XOR master salt, key_id = label || r (r = 0: kdr 0),
	 * right-aligned in the 112-bit salt: the label is byte 7. */
	memcpy(iv, master_salt, 14);
	iv[7] ^= label;
	iv[14] = 0;
	iv[15] = 0;
	memset(out, 0, out_len);
	j = IMB_GET_NEXT_JOB(m);
	j->enc_keys = enc;
	j->dec_keys = enc;
	j->key_len_in_bytes = key_len;
	j->src = out;
	j->dst = out;
	j->cipher_start_src_offset_in_bytes = 0;
	j->msg_len_to_cipher_in_bytes = out_len;
	j->iv = iv;
	j->iv_len_in_bytes = 16;
	j->cipher_mode = IMB_CIPHER_CNTR;
	j->cipher_direction = IMB_DIR_ENCRYPT;
	j->hash_alg = IMB_AUTH_NULL;
	j->chain_order = IMB_ORDER_CIPHER_HASH;
	j->user_data = NULL;
	j->user_data2 = NULL;
	ok = run_job(m);
	duet_secure_zero(enc, sizeof(enc));
	duet_secure_zero(dec, sizeof(dec));
	duet_secure_zero(iv, sizeof(iv));
	if (!ok) {
		duet_secure_zero(out, out_len);
		return -EIO;
	}
	return 0;
}

/* HMAC-SHA1 inner and outer states of a 20-byte auth key. */
static void
hmac_pads(IMB_MGR *m, const uint8_t auth[20], struct duet_srtpe_cm_keys *c)
{
	uint8_t block[IMB_SHA1_BLOCK_SIZE];
	unsigned int i;

	memset(block, 0, sizeof(block));
	memcpy(block, auth, 20);
	for (i = 0; i < sizeof(block); i++)
		block[i] ^= 0x36;
	IMB_SHA1_ONE_BLOCK(m, block, c->ipad);
	for (i = 0; i < sizeof(block); i++)
		block[i] ^= 0x36 ^ 0x5c;
	IMB_SHA1_ONE_BLOCK(m, block, c->opad);
	duet_secure_zero(block, sizeof(block));
}

/* The derived keys of one key, RTP labels 0..2 or SRTCP 3..5. */
struct derived {
	uint8_t key[32];
	uint8_t auth[20];
	uint8_t salt[16];
};

static int
derive(IMB_MGR *m, const uint8_t *mkey, unsigned int key_len, const uint8_t msalt[14],
       uint8_t label0, bool gcm, struct derived *d)
{
	int rc;

	memset(d, 0, sizeof(*d));
	rc = duet_srtpe_kdf(m, mkey, key_len, msalt, label0, d->key, key_len);
	if (rc == 0 && !gcm)
		rc = duet_srtpe_kdf(m, mkey, key_len, msalt, (uint8_t)(label0 + 1), d->auth, 20);
	if (rc == 0)
		rc = duet_srtpe_kdf(m, mkey, key_len, msalt, (uint8_t)(label0 + 2), d->salt,
				    gcm ? 12 : 14);
	return rc;
}

/* The first cache line: suite, tag lengths, salts. */
#define KEY_HEAD offsetof(struct duet_srtpe_key, u)

static bool
suite_is_cm(unsigned int suite)
{
	return suite == DUET_SRTP_AES_CM_128_HMAC_SHA1_80 ||
	       suite == DUET_SRTP_AES_CM_128_HMAC_SHA1_32;
}

size_t
duet_srtpe_key_size(unsigned int suite)
{
	if (suite_is_cm(suite))
		return (KEY_HEAD + sizeof(((struct duet_srtpe_key *)0)->u.cm) + 63) & ~(size_t)63;
	return sizeof(struct duet_srtpe_key);
}

/* Where in a gcm_key_data ipsec-mb's code path for m keeps H, and whether
 * the powers a packet reads come before it: the VAES AVX-512 code keeps
 * H^48 .. H^1, H last; the others H, H^2, .. right after the round keys. */
static void
gcm_h_place(const IMB_MGR *m, struct duet_srtpe_key *k)
{
	uint64_t vaes = IMB_FEATURE_VAES | IMB_FEATURE_VPCLMULQDQ;
	size_t h = offsetof(struct gcm_key_data, ghash_keys);

	if (m->used_arch == IMB_ARCH_AVX512 && (imb_get_feature_flags() & vaes) == vaes) {
		k->gcm_h_off = (uint16_t)(h + sizeof(((struct gcm_key_data *)0)->ghash_keys) - 16);
		k->gcm_h_down = 1;
	} else {
		k->gcm_h_off = (uint16_t)h;
	}
}

int
duet_srtpe_key_init(IMB_MGR *m, const struct duet_sdes *sdes, struct duet_srtpe_key *k)
{
	uint32_t dec[60] __attribute__((aligned(16)));
	struct derived rtp, srtcp;
	uint8_t msalt[14];
	unsigned int key_len;
	size_t size;
	bool gcm;
	int rc;

	/* An AES-CM key may have been given its own size only: write no
	 * byte past it (an unknown suite: the first line only). */
	if (sdes->suite >= DUET_SRTP_SUITE_COUNT) {
		duet_secure_zero(k, KEY_HEAD);
		return -EINVAL;
	}
	size = duet_srtpe_key_size(sdes->suite);
	memset(k, 0, size);
	switch (sdes->suite) {
	case DUET_SRTP_AES_CM_128_HMAC_SHA1_80:
	case DUET_SRTP_AES_CM_128_HMAC_SHA1_32:
		key_len = 16;
		gcm = false;
		break;
	case DUET_SRTP_AEAD_AES_128_GCM:
		key_len = 16;
		gcm = true;
		break;
	case DUET_SRTP_AEAD_AES_256_GCM:
		key_len = 32;
		gcm = true;
		break;
	default:
		return -EINVAL;
	}
	if (sdes->key_len != duet_srtp_suite_key_len(sdes->suite))
		return -EINVAL;
	/* The KDF takes a 112-bit salt; GCM's 96-bit one is padded with
	 * zeros at the end (libsrtp2's srtp_stream_init_keys does this). */
	memset(msalt, 0, sizeof(msalt));
	memcpy(msalt, sdes->key + key_len, sdes->key_len - key_len);
	rc = derive(m, sdes->key, key_len, msalt, 0, gcm, &rtp);
	if (rc == 0)
		rc = derive(m, sdes->key, key_len, msalt, 3, gcm, &srtcp);
	if (rc != 0)
		goto out;

	k->suite = (uint8_t)sdes->suite;
	k->arch = m->used_arch;
	memcpy(k->rtp_salt, rtp.salt, sizeof(k->rtp_salt));
	memcpy(k->srtcp_salt, srtcp.salt, sizeof(k->srtcp_salt));
	if (gcm) {
		k->rtp_tag_len = 16;
		k->srtcp_tag_len = 16;
		k->gcm_key_len = (uint8_t)key_len;
		gcm_h_place(m, k);
		if (key_len == 16) {
			IMB_AES128_GCM_PRE(m, rtp.key, &k->u.gcm.rtp);
			IMB_AES128_GCM_PRE(m, srtcp.key, &k->u.gcm.srtcp);
		} else {
			IMB_AES256_GCM_PRE(m, rtp.key, &k->u.gcm.rtp);
			IMB_AES256_GCM_PRE(m, srtcp.key, &k->u.gcm.srtcp);
		}
	} else {
		k->rtp_tag_len = sdes->suite == DUET_SRTP_AES_CM_128_HMAC_SHA1_32 ? 4 : 10;
		/* RFC 4568 6.2.1: SRTCP keeps the 80-bit tag under _32. */
		k->srtcp_tag_len = 10;
		IMB_AES_KEYEXP_128(m, rtp.key, k->u.cm.rtp.aes, dec);
		IMB_AES_KEYEXP_128(m, srtcp.key, k->u.cm.srtcp.aes, dec);
		hmac_pads(m, rtp.auth, &k->u.cm.rtp);
		hmac_pads(m, srtcp.auth, &k->u.cm.srtcp);
	}
out:
	if (rc != 0)
		duet_secure_zero(k, size);
	duet_secure_zero(&rtp, sizeof(rtp));
	duet_secure_zero(&srtcp, sizeof(srtcp));
	duet_secure_zero(msalt, sizeof(msalt));
	duet_secure_zero(dec, sizeof(dec));
	return rc;
}

void
duet_srtpe_key_wipe(struct duet_srtpe_key *k)
{
	duet_secure_zero(k, k->suite < DUET_SRTP_SUITE_COUNT ? duet_srtpe_key_size(k->suite)
							     : KEY_HEAD);
}

void
duet_srtpe_stream_init(struct duet_srtpe_stream *s)
{
	memset(s, 0, sizeof(*s));
}
