/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * srtpe burst engine (duet_srtpe_burst(), see duet_srtpe.h): runs on a
 * worker lcore, one call per burst of packets. Not inline: it is one call
 * per burst, and its size would drown the callers; the per-packet pieces
 * it uses are inline in duet_srtpe_fp.h.
 *
 * A burst goes through these steps:
 *  P. Prefetch every packet's key and stream lines: the keys' first lines
 *     and the streams of all packets at once, then the round keys, HMAC
 *     states or GCM key data each op reads (which needs the first line),
 *     PREFETCH_AHEAD packets ahead of the one A works on, so that the
 *     misses overlap A's work (GCM's above all, done whole in A).
 *  A. In array order, every packet's checks that need no crypto (framing,
 *     replay window against the stream as the earlier packets of the burst
 *     would leave it if they all authenticate: a "tentative" copy of each
 *     stream). Protect updates its (outbound) stream at once and, for
 *     AES-CM, submits one CTR+HMAC job. AES-CM unprotect submits one
 *     HMAC-then-CTR-decrypt job (verify, and SRTCP with two tag readings:
 *     HMAC only); the 4-byte ROC the HMAC covers after the packet is
 *     written where the tag is, the tag kept aside. AES-GCM packets are
 *     done here whole, one by one, with ipsec-mb's direct GCM API, on the
 *     stream itself (a stream has one key, so no AES-CM packet of the
 *     burst shares it).
 *  B. Flush the manager (all HMAC lanes run together); put the tags back.
 *  C. In array order, against the streams themselves: compare tags
 *     (constant time), check the window again and move it. A packet that
 *     was decrypted in A and fails gets its ciphertext back (CTR again,
 *     same IV): a failed AES-CM unprotect leaves its bytes as they came,
 *     as libsrtp2 does. When an earlier packet of a stream failed after A
 *     had counted it, the tentative copy was wrong for the later ones:
 *     they are done again alone (a burst of one), so the outcome is always
 *     libsrtp2's, packet after packet.
 *  D. Decrypt the authentic AES-CM packets A could not (two tag readings:
 *     which one holds is known in C only), CTR jobs.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "duet_secure_zero.h"
#include "duet_srtpe.h"
#include "duet_srtpe_fp.h"

/* What a slot waits for after step A. */
enum slot_state {
	SLOT_DONE = 0, /* verdict final (in the packet) */
	SLOT_JOBS,     /* AES-CM: its job(s) submitted */
	SLOT_DEFER,    /* decided in step C, alone, on the stream itself */
};

/* Job kinds (IMB_JOB.user_data2). */
enum {
	JOB_MAC0 = 0, /* HMAC of reading 0 (protect: CTR + HMAC) */
	JOB_MAC1,     /* HMAC of reading 1 (SRTCP, 32-bit tag) */
	JOB_MAC0_CTR, /* HMAC of reading 0, then decryption */
	JOB_CTR,      /* decryption */
};

/* One reading of a packet: where its tag and index are. SRTCP under
 * DUET_SRTPE_SRTCP_TAG_EITHER has two (80-bit, then 32-bit tag). */
struct reading {
	uint64_t index; /* RTP: estimated packet index; SRTCP: the packet's */
	int32_t delta;	/* RTP: index minus the stream's, as libsrtp2 has it */
	uint8_t tag_len;
	uint8_t pre;	/* verdict of the checks before crypto */
	uint8_t hashed; /* its HMAC job completed */
	uint8_t reserved;
	uint8_t mac[12]; /* HMAC-SHA1 output, truncated by ipsec-mb to 12 */
};

struct slot {
	struct reading r[2];
	uint8_t iv[16];
	uint8_t tag[16];   /* RTP unprotect/verify: the tag, while the ROC sits there */
	uint32_t hdr_len;  /* RTP header with CSRCs and extension; SRTCP: 8 */
	uint32_t enc_len;  /* bytes to decrypt after hdr_len (A when chained, else D) */
	/* Set per packet by prepare() (no memset of the slot: the rest is
	 * written before it is read). */
	uint8_t state;	   /* enum slot_state */
	uint8_t n_read;	   /* readings in r */
	uint8_t applied;   /* counted in its stream's tentative copy */
	uint8_t tent;	   /* its entry in the tentative copies */
	uint8_t roc_at;	   /* the ROC was written at the tag */
	uint8_t decrypt;   /* step D decrypts it */
	uint8_t cipher_ok; /* its decryption job completed */
	uint8_t open;	   /* unprotect/verify with a tentative entry */
	uint8_t chained;   /* its decryption rode on its HMAC job (A) */
};

/* A stream as step A sees it. */
struct tent {
	struct duet_srtpe_stream *stream;
	struct duet_srtpe_stream s; /* the copy */
	uint8_t unsure;		    /* a packet might move it either of two ways */
	uint8_t diverged;	    /* a packet A counted failed in C */
};

static unsigned int burst_chunk(IMB_MGR *m, struct duet_srtpe_pkt *pkts, unsigned int n);

static inline bool
is_gcm(const struct duet_srtpe_key *k)
{
	return k->gcm_key_len != 0;
}

static void
job_done(IMB_JOB *j)
{
	struct slot *s = j->user_data;
	uint8_t ok = j->status == IMB_STATUS_COMPLETED;

	switch ((uintptr_t)j->user_data2) {
	case JOB_MAC0:
		s->r[0].hashed = ok;
		break;
	case JOB_MAC1:
		s->r[1].hashed = ok;
		break;
	case JOB_MAC0_CTR:
		s->r[0].hashed = ok;
		s->cipher_ok = ok;
		break;
	default:
		s->cipher_ok = ok;
		break;
	}
}

static void
submit(IMB_MGR *m)
{
	IMB_JOB *j = IMB_SUBMIT_JOB(m);

	while (j != NULL) {
		job_done(j);
		j = IMB_GET_COMPLETED_JOB(m);
	}
}

static void
flush(IMB_MGR *m)
{
	IMB_JOB *j;

	while ((j = IMB_FLUSH_JOB(m)) != NULL)
		job_done(j);
}

/* A job over p with the given keys; no cipher, no hash yet. */
static IMB_JOB *
job_new(IMB_MGR *m, const struct duet_srtpe_cm_keys *c, uint8_t *p, struct slot *s, uintptr_t kind)
{
	IMB_JOB *j = IMB_GET_NEXT_JOB(m);

	j->enc_keys = c->aes;
	j->dec_keys = c->aes;
	j->key_len_in_bytes = 16;
	j->src = p;
	j->dst = p;
	j->cipher_start_src_offset_in_bytes = 0;
	j->msg_len_to_cipher_in_bytes = 0;
	j->iv = s->iv;
	j->iv_len_in_bytes = 16;
	j->cipher_mode = IMB_CIPHER_NULL;
	j->cipher_direction = IMB_DIR_DECRYPT;
	j->chain_order = IMB_ORDER_HASH_CIPHER;
	j->hash_alg = IMB_AUTH_NULL;
	j->hash_start_src_offset_in_bytes = 0;
	j->msg_len_to_hash_in_bytes = 0;
	j->auth_tag_output = NULL;
	j->auth_tag_output_len_in_bytes = 0;
	j->user_data = s;
	j->user_data2 = (void *)kind;
	return j;
}

static void
job_hmac(IMB_JOB *j, const struct duet_srtpe_cm_keys *c, uint64_t len, uint8_t mac[12])
{
	j->hash_alg = IMB_AUTH_HMAC_SHA_1;
	j->msg_len_to_hash_in_bytes = len;
	/* ipsec-mb's HMAC-SHA1 gives 12 or 20 bytes; SRTP takes 10 or 4 of them. */
	j->auth_tag_output = mac;
	j->auth_tag_output_len_in_bytes = 12;
	j->u.HMAC._hashed_auth_key_xor_ipad = c->ipad;
	j->u.HMAC._hashed_auth_key_xor_opad = c->opad;
}

static void
job_ctr(IMB_JOB *j, uint32_t off, uint32_t len)
{
	/* ipsec-mb refuses an empty CTR message: leave the cipher out. */
	if (len == 0)
		return;
	j->cipher_mode = IMB_CIPHER_CNTR;
	j->cipher_start_src_offset_in_bytes = off;
	j->msg_len_to_cipher_in_bytes = len;
	/* ipsec-mb reads at src + offset and writes at dst: in place is
	 * dst = src + offset. */
	j->dst = (uint8_t *)(uintptr_t)j->src + off;
}

/* AES-GCM: encrypt len bytes at buf in place, tag to `tag`. */
static void
gcm_seal(IMB_MGR *m, const struct duet_srtpe_key *k, const struct gcm_key_data *g, uint8_t *buf,
	 uint64_t len, const uint8_t iv[12], const uint8_t *aad, uint64_t aad_len, uint8_t *tag)
{
	struct gcm_context_data ctx;

	if (k->gcm_key_len == 16)
		IMB_AES128_GCM_ENC(m, g, &ctx, buf, buf, len, iv, aad, aad_len, tag, 16);
	else
		IMB_AES256_GCM_ENC(m, g, &ctx, buf, buf, len, iv, aad, aad_len, tag, 16);
	/* The context holds the hash state and the last keystream block. */
	duet_secure_zero(&ctx, sizeof(ctx));
}

/* Bytes of plaintext a verify decrypts to at a time (on the stack): a
 * packet up to this long takes one call, as long as a raw open does. */
#define GCM_VERIFY_CHUNK 2048

/*
 * AES-GCM: check `tag` over aad and the len bytes of ciphertext at buf.
 * in_place decrypts them where they are; otherwise (verify) the plaintext
 * goes to a stack buffer, the bytes written wiped after, and buf is left
 * alone.
 */
static bool
gcm_open(IMB_MGR *m, const struct duet_srtpe_key *k, const struct gcm_key_data *g, uint8_t *buf,
	 uint64_t len, const uint8_t iv[12], const uint8_t *aad, uint64_t aad_len,
	 const uint8_t *tag, bool in_place)
{
	uint8_t scratch[GCM_VERIFY_CHUNK] __attribute__((aligned(64)));
	struct gcm_context_data ctx;
	uint8_t calc[16];
	uint64_t off, n;
	bool a128 = k->gcm_key_len == 16;
	uint8_t *dst = buf;

	if (in_place || len <= GCM_VERIFY_CHUNK) {
		if (!in_place)
			dst = scratch;
		if (a128)
			IMB_AES128_GCM_DEC(m, g, &ctx, dst, buf, len, iv, aad, aad_len, calc, 16);
		else
			IMB_AES256_GCM_DEC(m, g, &ctx, dst, buf, len, iv, aad, aad_len, calc, 16);
		if (!in_place) {
			/* No plaintext outlives the check. */
			memset(scratch, 0, len);
			__asm__ __volatile__("" : : "r"(scratch) : "memory");
		}
		duet_secure_zero(&ctx, sizeof(ctx));
		return duet_srtpe_tag_equal(calc, tag, 16);
	}
	if (a128)
		IMB_AES128_GCM_INIT(m, g, &ctx, iv, aad, aad_len);
	else
		IMB_AES256_GCM_INIT(m, g, &ctx, iv, aad, aad_len);
	for (off = 0; off < len; off += n) {
		n = len - off < GCM_VERIFY_CHUNK ? len - off : GCM_VERIFY_CHUNK;
		if (a128)
			IMB_AES128_GCM_DEC_UPDATE(m, g, &ctx, scratch, buf + off, n);
		else
			IMB_AES256_GCM_DEC_UPDATE(m, g, &ctx, scratch, buf + off, n);
	}
	if (a128)
		IMB_AES128_GCM_DEC_FINALIZE(m, g, &ctx, calc, 16);
	else
		IMB_AES256_GCM_DEC_FINALIZE(m, g, &ctx, calc, 16);
	/* No plaintext outlives the check (len > the buffer: all of it was
	 * written). */
	memset(scratch, 0, sizeof(scratch));
	__asm__ __volatile__("" : : "r"(scratch) : "memory");
	duet_secure_zero(&ctx, sizeof(ctx));
	return duet_srtpe_tag_equal(calc, tag, 16);
}

/* The verdict of a packet none of whose readings authenticated: a replay
 * if one of them was, else a tag failure if one got that far, else BAD. */
static uint8_t
combine(const struct slot *s)
{
	uint8_t v = DUET_SRTPE_BAD;
	unsigned int i;

	for (i = 0; i < s->n_read; i++) {
		uint8_t r = s->r[i].pre == DUET_SRTPE_OK ? DUET_SRTPE_AUTH : s->r[i].pre;

		if (r == DUET_SRTPE_REPLAY)
			return r;
		if (r == DUET_SRTPE_AUTH)
			v = r;
	}
	return v;
}

static unsigned int
tent_get(struct tent *tt, unsigned int *nt, struct duet_srtpe_stream *st)
{
	unsigned int i;

	for (i = 0; i < *nt; i++)
		if (tt[i].stream == st)
			return i;
	tt[i].stream = st;
	tt[i].s = *st;
	tt[i].unsure = 0;
	tt[i].diverged = 0;
	(*nt)++;
	return i;
}

/* ---- step A ---- */

static void
rtp_protect(IMB_MGR *m, struct duet_srtpe_pkt *x, struct slot *s)
{
	const struct duet_srtpe_key *k = x->key;
	struct duet_srtpe_stream *st = x->stream;
	uint8_t *p = x->p;
	uint32_t len = x->len;
	int h = duet_srtpe_rtp_hdr_len(p, len);
	uint64_t index;
	int32_t delta;
	IMB_JOB *j;

	if (h < 0 || (uint64_t)len + k->rtp_tag_len > x->cap)
		return;
	index = duet_srtpe_estimate(st->rtp_index, (uint16_t)(p[2] << 8 | p[3]), &delta);
	/* An outbound stream never protects an index twice (libsrtp2 without
	 * allow_repeat_tx): with GCM that would give the hash key away. */
	if (duet_srtpe_rtp_check(st, delta) != DUET_SRTPE_OK) {
		x->verdict = DUET_SRTPE_REPLAY;
		return;
	}
	duet_srtpe_rtp_add(st, delta);
	if (is_gcm(k)) {
		duet_srtpe_gcm_rtp_iv(s->iv, k->rtp_salt, p + 8, index);
		gcm_seal(m, k, &k->u.gcm.rtp, p + h, len - (uint32_t)h, s->iv, p, (uint64_t)h,
			 p + len);
		x->len = len + 16;
		x->verdict = DUET_SRTPE_OK;
		return;
	}
	/* RFC 3711 4.2: the tag covers the packet, then the ROC. */
	duet_srtpe_put32(p + len, (uint32_t)(index >> 16));
	duet_srtpe_cm_iv(s->iv, k->rtp_salt, p + 8, index);
	s->r[0].tag_len = k->rtp_tag_len;
	s->n_read = 1;
	j = job_new(m, &k->u.cm.rtp, p, s, JOB_MAC0);
	j->cipher_direction = IMB_DIR_ENCRYPT;
	j->chain_order = IMB_ORDER_CIPHER_HASH;
	job_ctr(j, (uint32_t)h, len - (uint32_t)h);
	job_hmac(j, &k->u.cm.rtp, (uint64_t)len + 4, s->r[0].mac);
	s->state = SLOT_JOBS;
	submit(m);
}

static void
srtcp_protect(IMB_MGR *m, struct duet_srtpe_pkt *x, struct slot *s)
{
	const struct duet_srtpe_key *k = x->key;
	struct duet_srtpe_stream *st = x->stream;
	uint8_t *p = x->p;
	uint32_t len = x->len, word, index;
	uint8_t aad[12];
	IMB_JOB *j;

	if (len < 8 || (uint64_t)len + 4 + k->srtcp_tag_len > x->cap)
		return;
	/* libsrtp2's srtp_rdb_increment: the index runs out at 2^31 - 1. */
	if (st->srtcp_index >= DUET_SRTPE_SRTCP_INDEX_MAX)
		return;
	index = ++st->srtcp_index;
	st->flags |= DUET_SRTPE_STREAM_SRTCP;
	word = DUET_SRTPE_SRTCP_E | index;
	if (is_gcm(k)) {
		/* RFC 7714 9.2/17: AAD = the first 8 bytes, then E+index;
		 * the tag follows the ciphertext, E+index comes last. */
		memcpy(aad, p, 8);
		duet_srtpe_put32(aad + 8, word);
		duet_srtpe_gcm_srtcp_iv(s->iv, k->srtcp_salt, p + 4, index);
		gcm_seal(m, k, &k->u.gcm.srtcp, p + 8, len - 8, s->iv, aad, 12, p + len);
		duet_srtpe_put32(p + len + 16, word);
		x->len = len + 20;
		x->verdict = DUET_SRTPE_OK;
		return;
	}
	duet_srtpe_put32(p + len, word);
	duet_srtpe_cm_iv(s->iv, k->srtcp_salt, p + 4, index);
	s->r[0].tag_len = k->srtcp_tag_len;
	s->n_read = 1;
	j = job_new(m, &k->u.cm.srtcp, p, s, JOB_MAC0);
	j->cipher_direction = IMB_DIR_ENCRYPT;
	j->chain_order = IMB_ORDER_CIPHER_HASH;
	job_ctr(j, 8, len - 8);
	job_hmac(j, &k->u.cm.srtcp, (uint64_t)len + 4, s->r[0].mac);
	s->state = SLOT_JOBS;
	submit(m);
}

static void
rtp_open_prepare(IMB_MGR *m, struct duet_srtpe_pkt *x, struct slot *s, struct tent *t)
{
	const struct duet_srtpe_key *k = x->key;
	struct reading *r = &s->r[0];
	uint8_t *p = x->p;
	uint32_t len = x->len, tl = k->rtp_tag_len, at;
	int h = duet_srtpe_rtp_hdr_len(p, len);
	IMB_JOB *j;

	if (h < 0)
		return;
	s->hdr_len = (uint32_t)h;
	r->index = duet_srtpe_estimate(t->s.rtp_index, (uint16_t)(p[2] << 8 | p[3]), &r->delta);
	/* libsrtp2's order: header, replay window, then the room for the tag. */
	if (duet_srtpe_rtp_check(&t->s, r->delta) != DUET_SRTPE_OK) {
		x->verdict = DUET_SRTPE_REPLAY;
		return;
	}
	if ((uint32_t)h > len - tl)
		return;
	at = len - tl;
	memcpy(s->tag, p + at, tl);
	duet_srtpe_put32(p + at, (uint32_t)(r->index >> 16));
	s->roc_at = 1;
	r->tag_len = (uint8_t)tl;
	r->pre = DUET_SRTPE_OK;
	r->hashed = 0;
	s->n_read = 1;
	if (x->op == DUET_SRTPE_RTP_UNPROTECT && at > (uint32_t)h) {
		/* Hash, then decrypt, in one job (the cipher stops before the
		 * ROC); step C re-encrypts if the tag or the window says no. */
		duet_srtpe_cm_iv(s->iv, k->rtp_salt, p + 8, r->index);
		s->enc_len = at - (uint32_t)h;
		s->cipher_ok = 0;
		s->chained = 1;
		j = job_new(m, &k->u.cm.rtp, p, s, JOB_MAC0_CTR);
		job_ctr(j, (uint32_t)h, s->enc_len);
	} else {
		j = job_new(m, &k->u.cm.rtp, p, s, JOB_MAC0);
	}
	job_hmac(j, &k->u.cm.rtp, (uint64_t)at + 4, r->mac);
	s->state = SLOT_JOBS;
	submit(m);
	duet_srtpe_rtp_add(&t->s, r->delta);
	s->applied = 1;
}

/* The checks of an SRTCP reading with a tag of tl bytes, before crypto. */
static uint8_t
srtcp_pre(const struct duet_srtpe_key *k, const uint8_t *p, uint32_t len, uint32_t tl,
	  const struct duet_srtpe_stream *st, struct reading *r)
{
	uint32_t word;

	r->tag_len = (uint8_t)tl;
	if (len < 8 + tl + 4)
		return DUET_SRTPE_BAD;
	/* E+index: before the tag (RFC 3711 3.4), or last with AEAD (RFC 7714 17). */
	word = duet_srtpe_get32(is_gcm(k) ? p + len - 4 : p + len - tl - 4);
	/* libsrtp2 refuses an AES-CM packet whose E flag is not what the
	 * session does (it always encrypts); GCM takes either. */
	if (!is_gcm(k) && !(word & DUET_SRTPE_SRTCP_E))
		return DUET_SRTPE_BAD;
	r->index = word & DUET_SRTPE_SRTCP_INDEX_MAX;
	return duet_srtpe_srtcp_check(st, (uint32_t)r->index);
}

static void
srtcp_open_prepare(IMB_MGR *m, struct duet_srtpe_pkt *x, struct slot *s, struct tent *t)
{
	const struct duet_srtpe_key *k = x->key;
	uint8_t *p = x->p;
	uint32_t len = x->len;
	unsigned int i, viable = 0, last = 0;
	IMB_JOB *j;

	if (len < 12)
		return;
	s->hdr_len = 8;
	s->n_read = 1;
	if ((x->flags & DUET_SRTPE_SRTCP_TAG_EITHER) && !is_gcm(k) && k->rtp_tag_len == 4)
		s->n_read = 2;
	for (i = 0; i < s->n_read; i++) {
		s->r[i].pre = srtcp_pre(k, p, len, i == 0 ? k->srtcp_tag_len : 4, &t->s, &s->r[i]);
		if (s->r[i].pre == DUET_SRTPE_OK) {
			viable++;
			last = i;
		}
	}
	if (viable == 0) {
		x->verdict = combine(s);
		return;
	}
	for (i = 0; i < s->n_read; i++) {
		if (s->r[i].pre != DUET_SRTPE_OK)
			continue;
		s->r[i].hashed = 0;
		if (x->op == DUET_SRTPE_SRTCP_UNPROTECT && s->n_read == 1 &&
		    len > 8 + (uint32_t)s->r[0].tag_len + 4) {
			/* One reading: hash, then decrypt, in one job (as RTP). */
			duet_srtpe_cm_iv(s->iv, k->srtcp_salt, p + 4, s->r[0].index);
			s->enc_len = len - s->r[0].tag_len - 4 - 8;
			s->cipher_ok = 0;
			s->chained = 1;
			j = job_new(m, &k->u.cm.srtcp, p, s, JOB_MAC0_CTR);
			job_ctr(j, 8, s->enc_len);
		} else {
			j = job_new(m, &k->u.cm.srtcp, p, s, i == 0 ? JOB_MAC0 : JOB_MAC1);
		}
		job_hmac(j, &k->u.cm.srtcp, len - s->r[i].tag_len, s->r[i].mac);
		submit(m);
	}
	s->state = SLOT_JOBS;
	if (viable == 1) {
		duet_srtpe_srtcp_add(&t->s, (uint32_t)s->r[last].index);
		s->applied = 1;
	} else {
		/* Which reading wins is known in step C only. */
		t->unsure = 1;
	}
}
/* AES-GCM RTP unprotect/verify, whole, on the stream itself. */
static void
gcm_rtp_open(IMB_MGR *m, struct duet_srtpe_pkt *x, struct slot *s, bool verify)
{
	const struct duet_srtpe_key *k = x->key;
	struct duet_srtpe_stream *st = x->stream;
	uint8_t *p = x->p;
	uint32_t len = x->len, h;
	int hl = duet_srtpe_rtp_hdr_len(p, len);
	uint64_t index;
	int32_t delta;

	if (hl < 0)
		return;
	h = (uint32_t)hl;
	index = duet_srtpe_estimate(st->rtp_index, (uint16_t)(p[2] << 8 | p[3]), &delta);
	/* libsrtp2's order: header, replay window, then the room for the tag. */
	if (duet_srtpe_rtp_check(st, delta) != DUET_SRTPE_OK) {
		x->verdict = DUET_SRTPE_REPLAY;
		return;
	}
	/* libsrtp2 2.5 calls a packet shorter than the tag itself a cipher
	 * failure, one whose header reaches into it malformed. */
	if (len < h + 16) {
		x->verdict = len < 16 ? DUET_SRTPE_AUTH : DUET_SRTPE_BAD;
		return;
	}
	/* RFC 7714 9.1: AAD = the header with CSRCs and extension. */
	duet_srtpe_gcm_rtp_iv(s->iv, k->rtp_salt, p + 8, index);
	if (!gcm_open(m, k, &k->u.gcm.rtp, p + h, len - h - 16, s->iv, p, h, p + len - 16,
		      !verify)) {
		x->verdict = DUET_SRTPE_AUTH;
		return;
	}
	duet_srtpe_rtp_add(st, delta);
	if (!verify)
		x->len = len - 16;
	x->verdict = DUET_SRTPE_OK;
}

/* AES-GCM SRTCP unprotect/verify, whole, on the stream itself. */
static void
gcm_srtcp_open(IMB_MGR *m, struct duet_srtpe_pkt *x, struct slot *s, bool verify)
{
	const struct duet_srtpe_key *k = x->key;
	struct duet_srtpe_stream *st = x->stream;
	uint8_t *p = x->p;
	uint32_t len = x->len, word, index;
	uint8_t aad[12], tag[16];
	bool ok;

	if (len < 12)
		return;
	x->verdict = srtcp_pre(k, p, len, 16, st, &s->r[0]);
	if (x->verdict != DUET_SRTPE_OK)
		return;
	word = duet_srtpe_get32(p + len - 4);
	index = word & DUET_SRTPE_SRTCP_INDEX_MAX;
	duet_srtpe_gcm_srtcp_iv(s->iv, k->srtcp_salt, p + 4, index);
	if (word & DUET_SRTPE_SRTCP_E) {
		memcpy(aad, p, 8);
		memcpy(aad + 8, p + len - 4, 4);
		ok = gcm_open(m, k, &k->u.gcm.srtcp, p + 8, len - 28, s->iv, aad, 12, p + len - 20,
			      !verify);
	} else {
		/* RFC 7714 9.3: unencrypted, the AAD is the whole packet then
		 * E+index. Put E+index right after the packet (over the tag's
		 * first 4 bytes, kept aside) so the AAD is one run of bytes. */
		memcpy(tag, p + len - 20, 16);
		memcpy(p + len - 20, p + len - 4, 4);
		ok = gcm_open(m, k, &k->u.gcm.srtcp, p + len - 16, 0, s->iv, p, len - 16, tag, true);
		memcpy(p + len - 20, tag, 4);
	}
	if (!ok) {
		x->verdict = DUET_SRTPE_AUTH;
		return;
	}
	duet_srtpe_srtcp_add(st, index);
	if (!verify)
		x->len = len - 20;
}

/*
 * Whether k is a key duet_srtpe_key_init() made: its tag and key lengths
 * are its suite's. A zeroed or wiped key (suite 0, every length 0) would
 * otherwise take any packet as authentic with a 0-byte tag and write the
 * ROC past the packet: it is refused (BAD) instead.
 */
static bool
key_ready(const struct duet_srtpe_key *k)
{
	switch (k->suite) {
	case DUET_SRTP_AES_CM_128_HMAC_SHA1_80:
		return k->rtp_tag_len == 10 && k->srtcp_tag_len == 10 && k->gcm_key_len == 0;
	case DUET_SRTP_AES_CM_128_HMAC_SHA1_32:
		return k->rtp_tag_len == 4 && k->srtcp_tag_len == 10 && k->gcm_key_len == 0;
	case DUET_SRTP_AEAD_AES_128_GCM:
		return k->rtp_tag_len == 16 && k->srtcp_tag_len == 16 && k->gcm_key_len == 16;
	case DUET_SRTP_AEAD_AES_256_GCM:
		return k->rtp_tag_len == 16 && k->srtcp_tag_len == 16 && k->gcm_key_len == 32;
	default:
		return false;
	}
}

static void
prepare(IMB_MGR *m, struct duet_srtpe_pkt *x, struct slot *s, struct tent *tt, unsigned int *nt)
{
	const struct duet_srtpe_key *k = x->key;
	struct tent *t;

	s->state = SLOT_DONE;
	s->n_read = 0;
	s->applied = 0;
	s->roc_at = 0;
	s->decrypt = 0;
	s->open = 0;
	s->chained = 0;
	x->verdict = DUET_SRTPE_BAD;
	if (k == NULL || x->stream == NULL || x->p == NULL || !key_ready(k))
		return;
	/* GCM key data is laid out for one code path. */
	if (is_gcm(k) && k->arch != m->used_arch)
		return;
	switch (x->op) {
	case DUET_SRTPE_RTP_PROTECT:
		rtp_protect(m, x, s);
		return;
	case DUET_SRTPE_SRTCP_PROTECT:
		srtcp_protect(m, x, s);
		return;
	case DUET_SRTPE_RTP_UNPROTECT:
	case DUET_SRTPE_RTP_VERIFY:
		if (is_gcm(k)) {
			gcm_rtp_open(m, x, s, x->op == DUET_SRTPE_RTP_VERIFY);
			return;
		}
		break;
	case DUET_SRTPE_SRTCP_UNPROTECT:
	case DUET_SRTPE_SRTCP_VERIFY:
		if (is_gcm(k)) {
			gcm_srtcp_open(m, x, s, x->op == DUET_SRTPE_SRTCP_VERIFY);
			return;
		}
		break;
	default:
		return;
	}
	s->tent = (uint8_t)tent_get(tt, nt, x->stream);
	s->open = 1;
	t = &tt[s->tent];
	if (t->unsure) {
		s->state = SLOT_DEFER;
		return;
	}
	if (x->op == DUET_SRTPE_RTP_UNPROTECT || x->op == DUET_SRTPE_RTP_VERIFY)
		rtp_open_prepare(m, x, s, t);
	else
		srtcp_open_prepare(m, x, s, t);
}

/* ---- step P ---- */

/* How many packets ahead of the one step A works on the key lines past the
 * first are asked for (the first lines and the streams: all at once). */
#define PREFETCH_AHEAD 4

/* The lines of x's key that its op reads past the first: AES-CM verify
 * the HMAC states, the other AES-CM ops the round keys too; AES-GCM the
 * round keys and the hash-key powers a short packet uses. The key's
 * first line is being read here, so it should have been asked for first. */
static void
prefetch_keys(const struct duet_srtpe_pkt *x)
{
	const struct duet_srtpe_key *k = x->key;
	bool rtp = x->op <= DUET_SRTPE_RTP_VERIFY;

	if (k == NULL || x->op >= DUET_SRTPE_OP_COUNT || k->suite >= DUET_SRTP_SUITE_COUNT)
		return;

	if (is_gcm(k)) {
		const struct gcm_key_data *g = rtp ? &k->u.gcm.rtp : &k->u.gcm.srtcp;

		duet_srtpe_prefetch_range(g->expanded_keys, k->gcm_key_len == 16 ? 176 : 240,
					  false);
		/* A packet's ciphertext of b blocks hashes with H .. H^b (48
		 * at most; len / 16 + 1 is enough, the header and tag being
		 * more than a block): 3 lines at 172 bytes. The SSE layout
		 * keeps the Karatsuba halves of H .. H^8 after the powers: 256
		 * bytes cover both. */
		const uint8_t *h = (const uint8_t *)g + k->gcm_h_off;
		uint32_t b = x->len / 16 + 1;

		if (k->gcm_h_down) {
			b = b < 48 ? b : 48;
			duet_srtpe_prefetch_range(h + 16 - 16 * b, 16 * b, false);
		} else {
			duet_srtpe_prefetch_range(h, 256, false);
		}
	} else {
		const struct duet_srtpe_cm_keys *c = rtp ? &k->u.cm.rtp : &k->u.cm.srtcp;

		if (x->op == DUET_SRTPE_RTP_VERIFY || x->op == DUET_SRTPE_SRTCP_VERIFY)
			duet_srtpe_prefetch_range(c->ipad, sizeof(c->ipad) + sizeof(c->opad),
						  false);
		else
			duet_srtpe_prefetch_range(c, sizeof(*c), false);
	}
}

/* ---- step C ---- */

/* A packet that step A decrypted along with its hash, and that is not to
 * come out decrypted: CTR again with the same IV puts its ciphertext back.
 * The manager is idle (step C). */
static void
restore(IMB_MGR *m, struct duet_srtpe_pkt *x, struct slot *s)
{
	const struct duet_srtpe_key *k = x->key;
	bool rtp = x->op == DUET_SRTPE_RTP_UNPROTECT;
	IMB_JOB *j;

	if (!s->chained)
		return;
	s->chained = 0;
	/* A job that did not complete changed nothing. */
	if (!s->cipher_ok)
		return;
	j = job_new(m, rtp ? &k->u.cm.rtp : &k->u.cm.srtcp, x->p, s, JOB_CTR);
	job_ctr(j, s->hdr_len, s->enc_len);
	submit(m);
	flush(m);
}

/* An AES-CM unprotect/verify whose HMAC jobs ran: the verdict, and what
 * step D is to decrypt. */
static uint8_t
cm_open_commit(IMB_MGR *m, struct duet_srtpe_pkt *x, struct slot *s)
{
	const struct duet_srtpe_key *k = x->key;
	struct duet_srtpe_stream *st = x->stream;
	bool rtp = x->op == DUET_SRTPE_RTP_UNPROTECT || x->op == DUET_SRTPE_RTP_VERIFY;
	bool verify = x->op == DUET_SRTPE_RTP_VERIFY || x->op == DUET_SRTPE_SRTCP_VERIFY;
	uint8_t *p = x->p;
	uint32_t len = x->len, tl;
	struct reading *r = NULL;
	unsigned int i;

	for (i = 0; i < s->n_read; i++) {
		struct reading *c = &s->r[i];
		const uint8_t *tag = rtp ? s->tag : p + len - c->tag_len;

		if (c->pre == DUET_SRTPE_OK && c->hashed && duet_srtpe_tag_equal(c->mac, tag, c->tag_len)) {
			r = c;
			break;
		}
	}
	if (r == NULL) {
		restore(m, x, s);
		return combine(s);
	}
	tl = r->tag_len;
	/* The stream is what step A assumed (commit() sends a packet of a
	 * stream that turned out otherwise to be done again alone), so this
	 * only repeats A's checks. */
	if (rtp) {
		if (duet_srtpe_rtp_check(st, r->delta) != DUET_SRTPE_OK) {
			restore(m, x, s);
			return DUET_SRTPE_REPLAY;
		}
		duet_srtpe_rtp_add(st, r->delta);
	} else {
		if (duet_srtpe_srtcp_check(st, (uint32_t)r->index) != DUET_SRTPE_OK) {
			restore(m, x, s);
			return DUET_SRTPE_REPLAY;
		}
		duet_srtpe_srtcp_add(st, (uint32_t)r->index);
	}
	if (verify)
		return DUET_SRTPE_OK;
	if (rtp) {
		s->enc_len = len - tl - s->hdr_len;
		x->len = len - tl;
	} else {
		s->enc_len = len - tl - 4 - 8;
		x->len = len - tl - 4;
	}
	/* Decrypted already in A (the tag it hashed is the one that holds),
	 * or now in D. */
	if (!s->chained) {
		if (rtp)
			duet_srtpe_cm_iv(s->iv, k->rtp_salt, p + 8, r->index);
		else
			duet_srtpe_cm_iv(s->iv, k->srtcp_salt, p + 4, r->index);
		s->decrypt = 1;
	}
	return DUET_SRTPE_OK;
}

/* An RTP packet's index on its stream now is the one step A hashed with
 * (it always is unless the stream diverged; checked for safety). */
static bool
same_index(const struct duet_srtpe_pkt *x, const struct slot *s)
{
	const uint8_t *p = x->p;
	int32_t delta;

	if (s->state != SLOT_JOBS || x->op == DUET_SRTPE_SRTCP_UNPROTECT ||
	    x->op == DUET_SRTPE_SRTCP_VERIFY)
		return true;
	return duet_srtpe_estimate(x->stream->rtp_index, (uint16_t)(p[2] << 8 | p[3]), &delta) ==
		       s->r[0].index &&
	       delta == s->r[0].delta;
}

static uint8_t
commit(IMB_MGR *m, struct duet_srtpe_pkt *x, struct slot *s, struct tent *tt)
{
	struct tent *t;
	uint8_t v;

	if (x->op == DUET_SRTPE_RTP_PROTECT || x->op == DUET_SRTPE_SRTCP_PROTECT) {
		if (s->state != SLOT_JOBS)
			return x->verdict;
		if (!s->r[0].hashed)
			return DUET_SRTPE_BAD;
		if (x->op == DUET_SRTPE_RTP_PROTECT) {
			memcpy(x->p + x->len, s->r[0].mac, s->r[0].tag_len);
			x->len += s->r[0].tag_len;
		} else {
			memcpy(x->p + x->len + 4, s->r[0].mac, s->r[0].tag_len);
			x->len += 4 + s->r[0].tag_len;
		}
		return DUET_SRTPE_OK;
	}
	if (!s->open)
		return x->verdict;
	t = &tt[s->tent];
	if (s->state == SLOT_DEFER || t->diverged || !same_index(x, s)) {
		/* Step A judged it on a stream that turned out otherwise. The
		 * manager is idle here (flushed in B, D not begun). */
		restore(m, x, s);
		burst_chunk(m, x, 1);
		v = x->verdict;
	} else if (s->state == SLOT_JOBS) {
		v = cm_open_commit(m, x, s);
	} else {
		v = x->verdict;
	}
	if (s->applied && v != DUET_SRTPE_OK)
		t->diverged = 1;
	return v;
}

static unsigned int
burst_chunk(IMB_MGR *m, struct duet_srtpe_pkt *pkts, unsigned int n)
{
	struct slot sl[DUET_SRTPE_BURST_MAX];
	struct tent tt[DUET_SRTPE_BURST_MAX];
	unsigned int i, nt = 0, ok = 0;
	bool jobs = false;

	/* P: all the first lines and streams, then what each op reads, for
	 * the first packets; A asks for the later ones' as it goes, so that
	 * their misses overlap A's work. */
	for (i = 0; i < n; i++) {
		if (pkts[i].key != NULL && pkts[i].stream != NULL) {
			__builtin_prefetch(pkts[i].key, 0, 3);
			duet_srtpe_prefetch_range(pkts[i].stream, sizeof(*pkts[i].stream), true);
		}
	}
	for (i = 0; i < n && i < PREFETCH_AHEAD; i++)
		prefetch_keys(&pkts[i]);
	/* A */
	for (i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			prefetch_keys(&pkts[i + PREFETCH_AHEAD]);
		prepare(m, &pkts[i], &sl[i], tt, &nt);
		jobs |= sl[i].state == SLOT_JOBS;
	}
	/* B */
	if (jobs)
		flush(m);
	for (i = 0; i < n; i++)
		if (sl[i].roc_at)
			memcpy(pkts[i].p + pkts[i].len - sl[i].r[0].tag_len, sl[i].tag, 4);
	/* C: the manager stays idle between packets (a packet done again
	 * alone, or put back, runs its own jobs). */
	for (i = 0; i < n; i++)
		pkts[i].verdict = commit(m, &pkts[i], &sl[i], tt);
	/* D */
	jobs = false;
	for (i = 0; i < n; i++) {
		const struct duet_srtpe_key *k = pkts[i].key;
		IMB_JOB *j;

		if (!sl[i].decrypt || pkts[i].verdict != DUET_SRTPE_OK || sl[i].enc_len == 0) {
			sl[i].decrypt = 0;
			continue;
		}
		sl[i].cipher_ok = 0;
		j = job_new(m, pkts[i].op == DUET_SRTPE_RTP_UNPROTECT ? &k->u.cm.rtp : &k->u.cm.srtcp,
			    pkts[i].p, &sl[i], JOB_CTR);
		job_ctr(j, sl[i].hdr_len, sl[i].enc_len);
		submit(m);
		jobs = true;
	}
	if (jobs)
		flush(m);
	for (i = 0; i < n; i++) {
		/* Cannot happen with the lengths checked above; never OK
		 * with the payload still encrypted. */
		if ((sl[i].decrypt || sl[i].chained) && !sl[i].cipher_ok)
			pkts[i].verdict = DUET_SRTPE_BAD;
		ok += pkts[i].verdict == DUET_SRTPE_OK;
	}
	return ok;
}

unsigned int
duet_srtpe_burst(IMB_MGR *m, struct duet_srtpe_pkt *pkts, unsigned int n)
{
	unsigned int done = 0, ok = 0, k;

	while (done < n) {
		k = n - done < DUET_SRTPE_BURST_MAX ? n - done : DUET_SRTPE_BURST_MAX;
		ok += burst_chunk(m, pkts + done, k);
		done += k;
	}
	return ok;
}
