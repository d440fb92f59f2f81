/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crypto backend prototype for duet's SRTP engine, part (a): DPDK 22.11
 * cryptodev on the intel-ipsec-mb PMDs (vdevs crypto_aesni_mb and
 * crypto_aesni_gcm), both ways an application can drive them:
 *
 *   cpu   rte_cryptodev_sym_cpu_crypto_process(): synchronous, on the
 *         caller's buffers; one session per call, so a burst is cut into
 *         runs of packets that share a key (with random keys: one packet
 *         per call)
 *   op    rte_crypto_op from a mempool per packet, a session pointer per
 *         op, mbufs, rte_cryptodev_enqueue_burst / dequeue_burst
 *
 * Sessions (per key, each a mempool object): on crypto_aesni_mb,
 * hmac_verify (HMAC-SHA1 verify), in (HMAC-SHA1 verify then AES-CTR
 * decrypt), out (AES-CTR encrypt then HMAC-SHA1 generate), gcm_open and
 * gcm_seal; on crypto_aesni_gcm, gcm_open and gcm_seal. The SRTP salts stay
 * with the application, in its per-key struct beside the session pointers.
 *
 * This file includes proto_ipsecmb.c, the harness and part (b): the same
 * process then measures (a) and (b) in turns, cell by cell, on the same
 * packets and key sequence (see that file for workloads, timing, checks
 * and output). EAL arguments come first, then "--" and the harness's:
 *
 *   proto_cryptodev --no-huge --in-memory --file-prefix srtpproto$$ -m 3072 \
 *       -l 0 --vdev crypto_aesni_mb --vdev crypto_aesni_gcm -- --keys 100000
 *
 * One thread: the EAL main lcore.
 */
#define PROTO_WITH_CRYPTODEV
#include "proto_ipsecmb.c"

#include <rte_common.h>
#include <rte_crypto.h>
#include <rte_cryptodev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

enum cdev_sess {
	S_VERIFY,
	S_IN,
	S_OUT,
	S_GCM_OPEN,
	S_GCM_SEAL,
	S_COUNT
};

static const char *const cdev_sess_name[S_COUNT] = {
	"hmac_verify", "in (verify+decrypt)", "out (encrypt+auth)", "gcm_open", "gcm_seal",
};

/* Per op, after the sym op: the IV (16 bytes), then the packet's slot. */
#define IV_OFF (sizeof(struct rte_crypto_op) + sizeof(struct rte_crypto_sym_op))
#define OP_PRIV 32
#define OP_POOL_SIZE 4096
#define OP_CACHE 128
#define QP_DESC 2048

/* What the application keeps per key with cryptodev: a session pointer
 * per direction and suite, and the salts (2 cache lines). */
struct cdev_key {
	void *sess[S_COUNT];
	uint8_t cm_salt[16];
	uint8_t gcm_salt[GCM_IV];
} __attribute__((aligned(CACHE_LINE)));

struct cdev_dev {
	const char *vdev;
	uint8_t id;
	uint32_t sessions; /* bit mask of enum cdev_sess made on it */
	struct rte_mempool *sess_pool;
	size_t sess_obj;   /* bytes per session in the pool, all overheads */
	struct cdev_key *keys;
};

struct cdev_ctx {
	struct cdev_dev *dev;
	struct rte_mempool *op_pool;
	struct rte_mbuf *m[MAX_BURST];
	uint8_t *pkt[MAX_BURST];
	uint8_t failed[MAX_BURST];
	/* cpu path: one entry per packet handed to the PMD */
	struct rte_crypto_vec vec[MAX_BURST];
	struct rte_crypto_sgl sgl[MAX_BURST];
	struct rte_crypto_va_iova_ptr iv[MAX_BURST];
	struct rte_crypto_va_iova_ptr digest[MAX_BURST];
	struct rte_crypto_va_iova_ptr aad[MAX_BURST];
	int32_t status[MAX_BURST];
	void *sess[MAX_BURST];
	uint8_t slot[MAX_BURST];
	uint8_t ivbuf[MAX_BURST][16];
	uint8_t tag_rx[MAX_BURST][16];
};

static struct cdev_dev cdev_devs[] = {
	{ .vdev = "crypto_aesni_mb",
	  .sessions = (1u << S_VERIFY) | (1u << S_IN) | (1u << S_OUT) | (1u << S_GCM_OPEN) |
		(1u << S_GCM_SEAL) },
	{ .vdev = "crypto_aesni_gcm", .sessions = (1u << S_GCM_OPEN) | (1u << S_GCM_SEAL) },
};

static struct rte_mempool *cdev_op_pool;
static struct rte_mempool *cdev_mbuf_pool;

/* The xform chain of one session kind; keys point into km. */
static void
cdev_xforms(enum cdev_sess s, const struct keymat *km, struct rte_crypto_sym_xform x[2])
{
	struct rte_crypto_sym_xform *auth = &x[0], *cipher = &x[1];

	memset(x, 0, 2 * sizeof(x[0]));
	auth->type = RTE_CRYPTO_SYM_XFORM_AUTH;
	auth->auth.algo = RTE_CRYPTO_AUTH_SHA1_HMAC;
	auth->auth.key.data = km->cm_auth;
	auth->auth.key.length = sizeof(km->cm_auth);
	auth->auth.digest_length = CM_TAG;
	auth->auth.op = s == S_OUT ? RTE_CRYPTO_AUTH_OP_GENERATE : RTE_CRYPTO_AUTH_OP_VERIFY;
	cipher->type = RTE_CRYPTO_SYM_XFORM_CIPHER;
	cipher->cipher.algo = RTE_CRYPTO_CIPHER_AES_CTR;
	cipher->cipher.key.data = km->cm_key;
	cipher->cipher.key.length = sizeof(km->cm_key);
	cipher->cipher.iv.offset = IV_OFF;
	cipher->cipher.iv.length = 16;
	switch (s) {
	case S_VERIFY:
		break;
	case S_IN: /* verify, then decrypt */
		cipher->cipher.op = RTE_CRYPTO_CIPHER_OP_DECRYPT;
		auth->next = cipher;
		break;
	case S_OUT: { /* encrypt, then authenticate: the cipher xform first */
		struct rte_crypto_sym_xform a = *auth;

		cipher->cipher.op = RTE_CRYPTO_CIPHER_OP_ENCRYPT;
		x[0] = *cipher;
		x[1] = a;
		x[0].next = &x[1];
		break;
	}
	default:
		memset(x, 0, 2 * sizeof(x[0]));
		x[0].type = RTE_CRYPTO_SYM_XFORM_AEAD;
		x[0].aead.algo = RTE_CRYPTO_AEAD_AES_GCM;
		x[0].aead.op = s == S_GCM_OPEN ? RTE_CRYPTO_AEAD_OP_DECRYPT :
						 RTE_CRYPTO_AEAD_OP_ENCRYPT;
		x[0].aead.key.data = km->gcm_key;
		x[0].aead.key.length = sizeof(km->gcm_key);
		x[0].aead.iv.offset = IV_OFF;
		x[0].aead.iv.length = GCM_IV;
		x[0].aead.digest_length = GCM_TAG;
		x[0].aead.aad_length = RTP_HDR;
		break;
	}
}

static int
cdev_dev_setup(struct bench *bn, struct cdev_dev *d)
{
	struct rte_cryptodev_config conf = {
		.socket_id = (int)rte_socket_id(),
		.nb_queue_pairs = 1,
		.ff_disable = RTE_CRYPTODEV_FF_ASYMMETRIC_CRYPTO | RTE_CRYPTODEV_FF_SECURITY,
	};
	struct rte_cryptodev_qp_conf qp = { .nb_descriptors = QP_DESC };
	struct rte_cryptodev_info info;
	uint32_t per_key = (uint32_t)__builtin_popcount(d->sessions);
	unsigned int priv;
	char name[RTE_MEMPOOL_NAMESIZE];
	double t0;
	int id;

	id = rte_cryptodev_get_dev_id(d->vdev);
	if (id < 0) {
		fprintf(stderr, "cryptodev: no device %s (give --vdev %s to EAL; is "
			"librte_crypto_ipsec_mb loaded?)\n", d->vdev, d->vdev);
		return -ENODEV;
	}
	d->id = (uint8_t)id;
	rte_cryptodev_info_get(d->id, &info);
	priv = rte_cryptodev_sym_get_private_session_size(d->id);
	snprintf(name, sizeof(name), "sess_%u", d->id);
	d->sess_pool = rte_cryptodev_sym_session_pool_create(name, bn->nkeys * per_key + 64,
		priv, 0, 0, conf.socket_id);
	if (d->sess_pool == NULL) {
		fprintf(stderr, "cryptodev: %s: session pool of %u: %s\n", d->vdev,
			bn->nkeys * per_key, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	d->sess_obj = d->sess_pool->header_size + d->sess_pool->elt_size +
		d->sess_pool->trailer_size;
	qp.mp_session = d->sess_pool;
	if (rte_cryptodev_configure(d->id, &conf) != 0 ||
		rte_cryptodev_queue_pair_setup(d->id, 0, &qp, conf.socket_id) != 0 ||
		rte_cryptodev_start(d->id) != 0) {
		fprintf(stderr, "cryptodev: %s: configure/queue pair/start failed\n", d->vdev);
		return -EIO;
	}
	fprintf(stderr, "cryptodev: %s = dev %u, driver %s, cpu_crypto %s, raw_dp %s, SIMD flags:%s%s%s%s%s; "
		"session: private data %u bytes, pool object %zu bytes (header + private + "
		"mempool header/trailer)\n", d->vdev, d->id, info.driver_name,
		info.feature_flags & RTE_CRYPTODEV_FF_SYM_CPU_CRYPTO ? "yes" : "no",
		info.feature_flags & RTE_CRYPTODEV_FF_SYM_RAW_DP ? "yes" : "no",
		info.feature_flags & RTE_CRYPTODEV_FF_CPU_SSE ? " SSE" : "",
		info.feature_flags & RTE_CRYPTODEV_FF_CPU_AVX ? " AVX" : "",
		info.feature_flags & RTE_CRYPTODEV_FF_CPU_AVX2 ? " AVX2" : "",
		info.feature_flags & RTE_CRYPTODEV_FF_CPU_AVX512 ? " AVX512" : "",
		info.feature_flags & RTE_CRYPTODEV_FF_CPU_AESNI ? " AESNI" : "", priv,
		d->sess_obj);

	d->keys = alloc_or_die(sizeof(*d->keys) * bn->nkeys);
	t0 = mono_ns();
	for (uint32_t k = 0; k < bn->nkeys; k++) {
		struct cdev_key *ck = &d->keys[k];

		memcpy(ck->cm_salt, bn->km[k].cm_salt, 14);
		memcpy(ck->gcm_salt, bn->km[k].gcm_salt, GCM_IV);
		for (int s = 0; s < S_COUNT; s++) {
			struct rte_crypto_sym_xform x[2];

			if (!(d->sessions & (1u << s)))
				continue;
			cdev_xforms(s, &bn->km[k], x);
			ck->sess[s] = rte_cryptodev_sym_session_create(d->id, x, d->sess_pool);
			if (ck->sess[s] == NULL) {
				fprintf(stderr, "cryptodev: %s: session %s for key %u: %s\n",
					d->vdev, cdev_sess_name[s], k, rte_strerror(rte_errno));
				return -EIO;
			}
		}
	}
	fprintf(stderr, "cryptodev: %s: %u sessions (%u per key) in %.2f s (%.2f us each)\n",
		d->vdev, bn->nkeys * per_key, per_key, (mono_ns() - t0) / 1e9,
		(mono_ns() - t0) / 1e3 / (bn->nkeys * per_key));
	return 0;
}

static inline enum cdev_sess
cdev_first_sess(enum workload w)
{
	switch (w) {
	case W_VERIFY:
		return S_VERIFY;
	case W_DECRYPT:
	case W_REKEY:
		return S_IN;
	case W_GCM_OPEN:
		return S_GCM_OPEN;
	default:
		return S_GCM_SEAL;
	}
}

/* Key state of the next burst: the application's struct two bursts ahead
 * (the index arrays have the room), the sessions it points to one burst
 * ahead, so that reading the pointer does not wait for memory. */
static void
cdev_prefetch(void *arg, enum workload w, const struct burst *next)
{
	struct cdev_ctx *c = arg;
	const struct cdev_key *keys = c->dev->keys;
	size_t obj = c->dev->sess_obj;
	enum cdev_sess s = cdev_first_sess(w);

	for (uint16_t i = 0; i < next->n; i++) {
		prefetch_obj(&keys[next->kin[next->n + i]], sizeof(keys[0]));
		prefetch_obj(keys[next->kin[i]].sess[s], obj);
		if (w == W_REKEY) {
			prefetch_obj(&keys[next->kout[next->n + i]], sizeof(keys[0]));
			prefetch_obj(keys[next->kout[i]].sess[S_OUT], obj);
		}
	}
}

/* Per packet set-up shared by both paths: save the received AES-CM tag
 * and put the ROC in its place, the IV. */
static inline void
cdev_prep(struct cdev_ctx *c, enum workload w, bool out, uint16_t i, const struct cdev_key *k,
	uint8_t *iv)
{
	uint8_t *p = c->pkt[i];

	if (w >= W_GCM_OPEN) {
		srtp_gcm_iv(iv, k->gcm_salt, p, ROC);
		return;
	}
	if (!out)
		memcpy(c->tag_rx[i], p + PKT_LEN, CM_TAG);
	srtp_put_roc(p, ROC);
	if (w != W_VERIFY)
		srtp_cm_iv(iv, k->cm_salt, p, ROC);
}

/* One direction over the burst with rte_cryptodev_sym_cpu_crypto_process:
 * runs of consecutive packets with the same session go in one call. */
static uint32_t
cdev_cpu_pass(struct cdev_ctx *c, enum workload w, const struct burst *b, bool out)
{
	enum cdev_sess s = out ? S_OUT : cdev_first_sess(w);
	const uint32_t *kidx = out ? b->kout : b->kin;
	union rte_crypto_sym_ofs ofs = { .raw = 0 };
	uint16_t n = 0;
	uint32_t fail = 0;

	if (w < W_GCM_OPEN) {
		ofs.ofs.cipher.head = RTP_HDR;
		ofs.ofs.cipher.tail = ROC_LEN;
	}
	for (uint16_t i = 0; i < b->n; i++) {
		const struct cdev_key *k = &c->dev->keys[kidx[i]];
		uint8_t *p = c->pkt[i];

		if (out && c->failed[i])
			continue;
		if (!out)
			c->failed[i] = 0;
		cdev_prep(c, w, out, i, k, c->ivbuf[n]);
		c->slot[n] = (uint8_t)i;
		c->sess[n] = k->sess[s];
		c->iv[n].va = c->ivbuf[n];
		if (w < W_GCM_OPEN) {
			c->vec[n].base = p;
			c->vec[n].len = PKT_LEN + ROC_LEN;
			c->digest[n].va = out ? p + PKT_LEN : c->tag_rx[i];
		} else {
			c->vec[n].base = p + RTP_HDR;
			c->vec[n].len = PAYLOAD;
			c->digest[n].va = p + PKT_LEN;
			c->aad[n].va = p;
		}
		c->vec[n].tot_len = c->vec[n].len;
		c->sgl[n].vec = &c->vec[n];
		c->sgl[n].num = 1;
		c->status[n] = 0;
		n++;
	}
	for (uint16_t i = 0, j; i < n; i = j) {
		struct rte_crypto_sym_vec sv = {
			.src_sgl = &c->sgl[i],
			.iv = &c->iv[i],
			.digest = &c->digest[i],
			.aad = &c->aad[i],
			.status = &c->status[i],
		};

		for (j = i + 1; j < n && c->sess[j] == c->sess[i]; j++)
			;
		sv.num = j - i;
		rte_cryptodev_sym_cpu_crypto_process(c->dev->id, c->sess[i], ofs, &sv);
	}
	for (uint16_t e = 0; e < n; e++) {
		if (c->status[e] != 0) {
			c->failed[c->slot[e]] = 1;
			fail++;
		}
	}
	return fail;
}

static uint32_t
cdev_cpu_run(void *arg, enum workload w, const struct burst *b)
{
	struct cdev_ctx *c = arg;
	uint32_t fail = cdev_cpu_pass(c, w, b, false);

	if (w == W_REKEY)
		fail += cdev_cpu_pass(c, w, b, true);
	return fail;
}

/* One direction over the burst with crypto ops: fill, enqueue, dequeue
 * until all are back. */
static uint32_t
cdev_op_pass(struct cdev_ctx *c, enum workload w, const struct burst *b, bool out,
	struct rte_crypto_op **ops)
{
	enum cdev_sess s = out ? S_OUT : cdev_first_sess(w);
	const uint32_t *kidx = out ? b->kout : b->kin;
	struct rte_crypto_op *q[MAX_BURST];
	uint16_t nq = 0, enq, got = 0;
	uint32_t fail = 0, spins = 0;

	for (uint16_t i = 0; i < b->n; i++) {
		const struct cdev_key *k = &c->dev->keys[kidx[i]];
		struct rte_crypto_op *op = ops[i];
		struct rte_crypto_sym_op *sym = op->sym;
		uint8_t *iv = rte_crypto_op_ctod_offset(op, uint8_t *, IV_OFF);
		uint8_t *p = c->pkt[i];

		if (out && c->failed[i])
			continue;
		if (!out)
			c->failed[i] = 0;
		cdev_prep(c, w, out, i, k, iv);
		iv[16] = (uint8_t)i; /* to find a failed op's packet */
		op->status = RTE_CRYPTO_OP_STATUS_NOT_PROCESSED;
		rte_crypto_op_attach_sym_session(op, k->sess[s]);
		sym->m_src = c->m[i];
		if (w < W_GCM_OPEN) {
			sym->auth.data.offset = PKT_OFF;
			sym->auth.data.length = PKT_LEN + ROC_LEN;
			sym->auth.digest.data = out ? p + PKT_LEN : c->tag_rx[i];
			sym->cipher.data.offset = PKT_OFF + RTP_HDR;
			sym->cipher.data.length = w == W_VERIFY ? 0 : PAYLOAD;
		} else {
			sym->aead.data.offset = PKT_OFF + RTP_HDR;
			sym->aead.data.length = PAYLOAD;
			sym->aead.digest.data = p + PKT_LEN;
			sym->aead.aad.data = p;
		}
		q[nq++] = op;
	}
	enq = rte_cryptodev_enqueue_burst(c->dev->id, 0, q, nq);
	while (got < enq && spins++ < 1000000)
		got += rte_cryptodev_dequeue_burst(c->dev->id, 0, q + got, enq - got);
	for (uint16_t e = 0; e < got; e++) {
		if (q[e]->status != RTE_CRYPTO_OP_STATUS_SUCCESS) {
			c->failed[*rte_crypto_op_ctod_offset(q[e], uint8_t *, IV_OFF + 16)] = 1;
			fail++;
		}
	}
	return fail + (nq - got);
}

static uint32_t
cdev_op_run(void *arg, enum workload w, const struct burst *b)
{
	struct cdev_ctx *c = arg;
	struct rte_crypto_op *ops[MAX_BURST];
	uint32_t fail;

	if (rte_crypto_op_bulk_alloc(c->op_pool, RTE_CRYPTO_OP_TYPE_SYMMETRIC, ops, b->n) != b->n)
		return b->n;
	fail = cdev_op_pass(c, w, b, false, ops);
	if (w == W_REKEY)
		fail += cdev_op_pass(c, w, b, true, ops);
	rte_mempool_put_bulk(c->op_pool, (void **)ops, b->n);
	return fail;
}

static struct cdev_ctx *
cdev_ctx_new(struct cdev_dev *d)
{
	struct cdev_ctx *c = alloc_or_die(sizeof(*c));

	c->dev = d;
	c->op_pool = cdev_op_pool;
	if (rte_pktmbuf_alloc_bulk(cdev_mbuf_pool, c->m, MAX_BURST) != 0)
		return NULL;
	for (int i = 0; i < MAX_BURST; i++) {
		struct rte_mbuf *m = c->m[i];

		m->data_len = PKT_OFF + PKT_LEN + GCM_TAG;
		m->pkt_len = m->data_len;
		c->pkt[i] = rte_pktmbuf_mtod_offset(m, uint8_t *, PKT_OFF);
	}
	return c;
}

static int
cdev_add_variants(struct bench *bn)
{
	static const struct {
		const char *name;
		int dev;
		bool cpu;
		uint32_t workloads;
	} vs[] = {
		{ "cdev_mb_cpu", 0, true, W_CM | W_GCM },
		{ "cdev_mb_op", 0, false, W_CM | W_GCM },
		{ "cdev_gcm_cpu", 1, true, W_GCM },
		{ "cdev_gcm_op", 1, false, W_GCM },
	};
	double t0 = mono_ns();

	cdev_op_pool = rte_crypto_op_pool_create("proto_ops", RTE_CRYPTO_OP_TYPE_SYMMETRIC,
		OP_POOL_SIZE, OP_CACHE, OP_PRIV, (int)rte_socket_id());
	cdev_mbuf_pool = rte_pktmbuf_pool_create("proto_mbufs", 1023, 0, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (cdev_op_pool == NULL || cdev_mbuf_pool == NULL) {
		fprintf(stderr, "cryptodev: op or mbuf pool: %s\n", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	fprintf(stderr, "cryptodev: op pool object %u bytes (rte_crypto_op %zu + sym op %zu + "
		"IV/tag %d, + mempool header/trailer)\n",
		cdev_op_pool->header_size + cdev_op_pool->elt_size + cdev_op_pool->trailer_size,
		sizeof(struct rte_crypto_op), sizeof(struct rte_crypto_sym_op), OP_PRIV);
	for (size_t d = 0; d < RTE_DIM(cdev_devs); d++)
		if (cdev_dev_setup(bn, &cdev_devs[d]) != 0)
			return -EIO;
	fprintf(stderr, "cryptodev: application struct per key %zu bytes; set up in %.2f s\n",
		sizeof(struct cdev_key), (mono_ns() - t0) / 1e9);
	for (size_t i = 0; i < RTE_DIM(vs); i++) {
		struct cdev_ctx *c = cdev_ctx_new(&cdev_devs[vs[i].dev]);
		struct variant *v;

		if (c == NULL)
			return -ENOMEM;
		v = variant_add(bn, "cryptodev", vs[i].name, vs[i].workloads);
		v->ctx = c;
		v->run = vs[i].cpu ? cdev_cpu_run : cdev_op_run;
		v->prefetch = cdev_prefetch;
		memcpy(v->pkt, c->pkt, sizeof(v->pkt));
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int ret = rte_eal_init(argc, argv);

	if (ret < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	ret = harness_main(argc, argv, cdev_add_variants);
	for (size_t d = 0; d < RTE_DIM(cdev_devs); d++)
		if (cdev_devs[d].keys != NULL)
			rte_cryptodev_stop(cdev_devs[d].id);
	rte_eal_cleanup();
	return ret;
}
