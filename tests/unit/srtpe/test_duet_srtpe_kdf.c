/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/srtpe/duet_srtpe.c: the RFC 3711 key derivation and
 * AES-CM keystream against RFC 3711 Appendix B.2 and B.3, on every
 * ipsec-mb code path this CPU has; the AES-256 KDF (AEAD_AES_256_GCM)
 * against OpenSSL's AES-256-CTR; managers and key setup refusing what
 * they must. That the session keys are libsrtp2's is shown packet by
 * packet by srtpe_diff. Test process only.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include "duet_srtpe.h"

static const enum duet_srtpe_arch arches[] = {DUET_SRTPE_ARCH_SSE, DUET_SRTPE_ARCH_AVX2,
					      DUET_SRTPE_ARCH_AVX512};
#define N_ARCH (sizeof(arches) / sizeof(arches[0]))

static void
unhex(const char *s, uint8_t *out, size_t n)
{
	size_t i;
	unsigned int b;

	cr_assert_eq(strlen(s), 2 * n, "vector length");
	for (i = 0; i < n; i++) {
		cr_assert_eq(sscanf(s + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

/* Every manager this CPU can have; at least SSE. */
static unsigned int
managers(IMB_MGR *out[N_ARCH])
{
	unsigned int i, n = 0;

	for (i = 0; i < N_ARCH; i++)
		if (duet_srtpe_mgr_create(arches[i], &out[n]) == 0)
			n++;
	cr_assert_geq(n, 1, "no ipsec-mb manager at all");
	return n;
}

static void
managers_free(IMB_MGR *m[N_ARCH], unsigned int n)
{
	while (n > 0)
		duet_srtpe_mgr_free(m[--n]);
}

/* RFC 3711 B.2: AES-CM keystream, session key and salt given, ROC,
 * SEQ and SSRC 0: the first three blocks. */
Test(srtpe_kdf, aes_cm_keystream_is_rfc3711_b2)
{
	uint8_t key[16], salt[14], want[48], got[48];
	IMB_MGR *m[N_ARCH];
	unsigned int i, n = managers(m);

	unhex("2B7E151628AED2A6ABF7158809CF4F3C", key, 16);
	unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD", salt, 14);
	unhex("E03EAD0935C95E80E166B16DD92B4EB4"
	      "D23513162B02D0F72A43A2FE4A5F97AB"
	      "41E95B3BB0A2E8DD477901E4FCA894C0",
	      want, 48);
	for (i = 0; i < n; i++) {
		/* The KDF is AES-CM with IV = salt XOR label: label 0 is the
		 * plain keystream of B.2. */
		memset(got, 0xa5, sizeof(got));
		cr_assert_eq(duet_srtpe_kdf(m[i], key, 16, salt, 0, got, 48), 0);
		cr_assert_arr_eq(got, want, 48, "arch %u", m[i]->used_arch);
	}
	managers_free(m, n);
}

/* RFC 3711 B.3: session keys from a master key and salt. */
Test(srtpe_kdf, session_keys_are_rfc3711_b3)
{
	uint8_t mkey[16], msalt[14], ckey[16], csalt[14], auth[32], got[32];
	IMB_MGR *m[N_ARCH];
	unsigned int i, n = managers(m);

	unhex("E1F97A0D3E018BE0D64FA32C06DE4139", mkey, 16);
	unhex("0EC675AD498AFEEBB6960B3AABE6", msalt, 14);
	unhex("C61E7A93744F39EE10734AFE3FF7A087", ckey, 16);
	unhex("30CBBC08863D8C85D49DB34A9AE1", csalt, 14);
	unhex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE", auth, 32);
	for (i = 0; i < n; i++) {
		cr_assert_eq(duet_srtpe_kdf(m[i], mkey, 16, msalt, 0, got, 16), 0);
		cr_assert_arr_eq(got, ckey, 16, "cipher key, arch %u", m[i]->used_arch);
		cr_assert_eq(duet_srtpe_kdf(m[i], mkey, 16, msalt, 2, got, 14), 0);
		cr_assert_arr_eq(got, csalt, 14, "cipher salt, arch %u", m[i]->used_arch);
		/* SRTP uses the first 160 bits; B.3 lists more of the stream. */
		cr_assert_eq(duet_srtpe_kdf(m[i], mkey, 16, msalt, 1, got, 32), 0);
		cr_assert_arr_eq(got, auth, 32, "auth key, arch %u", m[i]->used_arch);
	}
	managers_free(m, n);
}

/* AEAD_AES_256_GCM derives with AES-256-CM: compare with OpenSSL. */
Test(srtpe_kdf, aes256_kdf_matches_openssl_ctr)
{
	uint8_t mkey[32], msalt[14], iv[16], zero[32], want[32], got[32];
	IMB_MGR *m[N_ARCH];
	unsigned int i, t, label, n = managers(m);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl;

	cr_assert_not_null(c);
	memset(zero, 0, sizeof(zero));
	for (t = 0; t < 16; t++) {
		for (i = 0; i < 32; i++)
			mkey[i] = (uint8_t)(t * 37 + i * 11 + 5);
		for (i = 0; i < 14; i++)
			msalt[i] = (uint8_t)(t * 13 + i * 29 + 1);
		for (label = 0; label < 6; label++) {
			memcpy(iv, msalt, 14);
			iv[7] ^= (uint8_t)label;
			iv[14] = 0;
			iv[15] = 0;
			cr_assert_eq(EVP_EncryptInit_ex(c, EVP_aes_256_ctr(), NULL, mkey, iv), 1);
			cr_assert_eq(EVP_EncryptUpdate(c, want, &outl, zero, 32), 1);
			for (i = 0; i < n; i++) {
				cr_assert_eq(duet_srtpe_kdf(m[i], mkey, 32, msalt, (uint8_t)label, got,
							    32),
					     0);
				cr_assert_arr_eq(got, want, 32, "label %u arch %u", label,
						 m[i]->used_arch);
			}
		}
	}
	EVP_CIPHER_CTX_free(c);
	managers_free(m, n);
}

Test(srtpe_kdf, kdf_refuses_bad_lengths)
{
	uint8_t key[32] = {0}, salt[14] = {0}, out[65];
	IMB_MGR *m;

	cr_assert_eq(duet_srtpe_mgr_create(DUET_SRTPE_ARCH_SSE, &m), 0);
	cr_assert_eq(duet_srtpe_kdf(m, key, 24, salt, 0, out, 16), -EINVAL);
	cr_assert_eq(duet_srtpe_kdf(m, key, 16, salt, 0, out, 0), -EINVAL);
	cr_assert_eq(duet_srtpe_kdf(m, key, 16, salt, 0, out, 65), -EINVAL);
	cr_assert_eq(duet_srtpe_kdf(m, key, 16, salt, 0, out, 64), 0);
	duet_srtpe_mgr_free(m);
}

Test(srtpe_kdf, key_init_refuses_wrong_length_and_leaves_zeros)
{
	struct duet_sdes k;
	struct duet_srtpe_key *x = calloc(1, sizeof(*x));
	const uint8_t *b = (const uint8_t *)x;
	IMB_MGR *m;
	size_t i;

	cr_assert_not_null(x);
	cr_assert_eq(duet_srtpe_mgr_create(DUET_SRTPE_ARCH_SSE, &m), 0);
	memset(&k, 0x5a, sizeof(k));
	k.suite = DUET_SRTP_AES_CM_128_HMAC_SHA1_80;
	k.key_len = 28;
	memset(x, 0xff, sizeof(*x));
	cr_assert_eq(duet_srtpe_key_init(m, &k, x), -EINVAL);
	/* What an AES-CM key may be given, zeroed; nothing past it written. */
	for (i = 0; i < sizeof(*x); i++)
		cr_assert_eq(b[i], i < duet_srtpe_key_size(k.suite) ? 0 : 0xff, "byte %zu", i);
	memset(x, 0xff, sizeof(*x));
	k.suite = (enum duet_srtp_suite)DUET_SRTP_SUITE_COUNT;
	k.key_len = 30;
	cr_assert_eq(duet_srtpe_key_init(m, &k, x), -EINVAL);
	/* An unknown suite: the first line only. */
	for (i = 0; i < sizeof(*x); i++)
		cr_assert_eq(b[i], i < offsetof(struct duet_srtpe_key, u) ? 0 : 0xff, "byte %zu", i);
	free(x);
	duet_srtpe_mgr_free(m);
}

Test(srtpe_kdf, managers_and_sizes)
{
	IMB_MGR *m;

	cr_assert_eq(duet_srtpe_mgr_create(DUET_SRTPE_ARCH_AUTO, &m), 0);
	cr_assert_not_null(m);
	duet_srtpe_mgr_free(m);
	cr_assert_eq(duet_srtpe_mgr_create((enum duet_srtpe_arch)42, &m), -EINVAL);
	cr_assert_null(m);
	cr_assert_eq(duet_srtpe_arch_pick(1), DUET_SRTPE_ARCH_SSE);
	/* What docs/design.md and duet_srtpe.h say. */
	cr_assert_eq(sizeof(struct duet_srtpe_key), 2112);
	cr_assert_eq(offsetof(struct duet_srtpe_key, u), 64);
	cr_assert_eq(sizeof(((struct duet_srtpe_key *)0)->u.cm), 480);
	cr_assert_eq(sizeof(struct duet_srtpe_stream), 48);
	cr_assert_eq(sizeof(struct duet_srtpe_pkt), 40);
	cr_assert_eq(duet_srtpe_key_size(DUET_SRTP_AES_CM_128_HMAC_SHA1_80), 576);
	cr_assert_eq(duet_srtpe_key_size(DUET_SRTP_AES_CM_128_HMAC_SHA1_32), 576);
	cr_assert_eq(duet_srtpe_key_size(DUET_SRTP_AEAD_AES_128_GCM), 2112);
	cr_assert_eq(duet_srtpe_key_size(DUET_SRTP_AEAD_AES_256_GCM), 2112);
	cr_assert_eq(duet_srtpe_key_size(DUET_SRTP_SUITE_COUNT), 2112);
	fprintf(stderr,
		"srtpe sizes: key %zu bytes (AES-CM suites use %zu), stream %zu, pkt %zu\n",
		sizeof(struct duet_srtpe_key),
		offsetof(struct duet_srtpe_key, u) + sizeof(((struct duet_srtpe_key *)0)->u.cm),
		sizeof(struct duet_srtpe_stream), sizeof(struct duet_srtpe_pkt));
}
