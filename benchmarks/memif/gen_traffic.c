/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_traffic: the traffic half of bench_gen (see gen_traffic.h): streams
 * and frames, the latch and check rounds, timed trials and the round-trip
 * histogram. Frames are IPv4/UDP RTP built from per-stream templates; the
 * UDP checksum is the template's partial sum plus the words that change
 * (RTP sequence and timestamp, send TSC, trial id). bench_gen's lcore only.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "duet_addr.h"
#include "duet_pkt.h"
#include "duet_pkt_fp.h"
#include "gen_traffic.h"

volatile sig_atomic_t gen_quit;

/* ------------------------------------------------------------------------
 * Streams and frames.
 */

/* Client of leg x of pair i, from the documentation range 203.0.113.0/24:
 * 250 pairs per address (.1 to .250), told apart by UDP port, leg a even
 * and leg b odd; 250 x 32,256 pairs fit under port 65536. */
static void
client_addr(uint32_t i, int leg_b, struct duet_addr *out)
{
	uint32_t ip = 0xcb007100u + i % 250u + 1; /* 203.0.113.1 + i % 250 */

	duet_addr_set4(out, htonl(ip), htons((uint16_t)(1024u + (i / 250u) * 2 + (leg_b ? 1 : 0))));
}

/* Template of stream s: client `from` to endpoint `to`. */
static void
stream_init(struct gen *g, struct stream *st, uint32_t s, const struct duet_addr *from,
	    const struct duet_addr *to, const uint8_t *pattern)
{
	uint8_t *f = st->hdr;
	uint8_t *ip = f + OFF_IP;
	uint8_t *udp = f + OFF_UDP;
	uint8_t *rtp = f + OFF_RTP;
	uint8_t pseudo[4] = { 0, 17, 0, 0 };
	uint16_t udp_len = (uint16_t)(8 + g->payload_len);
	uint32_t v;
	uint64_t sum;

	memset(f, 0, HDR_LEN);
	memcpy(f, g->dut_mac, 6);
	memcpy(f + 6, g->mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	ip[0] = 0x45;
	duet_pkt_store16(ip + 2, htons((uint16_t)(20 + udp_len)));
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, from->ip, 4);
	memcpy(ip + 16, to->ip, 4);
	duet_pkt_ip4_cksum_set(ip, 20);
	memcpy(udp, &from->port, 2);
	memcpy(udp + 2, &to->port, 2);
	duet_pkt_store16(udp + 4, htons(udp_len));
	rtp[0] = 0x80;
	rtp[1] = RTP_PT_OPUS;
	v = htonl(0x5000 + s);
	memcpy(rtp + 8, &v, 4); /* SSRC */
	v = htonl(GEN_MAGIC);
	memcpy(f + OFF_MAGIC, &v, 4);
	memcpy(f + OFF_STREAM, &s, 4);

	/* Everything the UDP checksum covers with the varying fields at zero. */
	duet_pkt_store16(pseudo + 2, htons(udp_len));
	sum = duet_pkt_sum(ip + 12, 8, 0);
	sum = duet_pkt_sum(pseudo, 4, sum);
	sum = duet_pkt_sum(udp, HDR_LEN - OFF_UDP, sum);
	sum = duet_pkt_sum(pattern, (size_t)(g->frame_len - HDR_LEN), sum);
	st->base_sum = sum;
	st->seq = (uint16_t)(s * 7919u);
	st->ts = s * 104729u;
}

/* The pattern after HDR_LEN, identical in every frame of every stream. */
static void
pattern_fill(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(0xa5 ^ (i * 29));
}

struct prefill {
	const uint8_t *pattern;
	size_t len;
};

/* Lay the pattern into every tx mbuf once; frames only rewrite the header. */
static void
prefill_one(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	const struct prefill *pf = arg;
	struct rte_mbuf *m = obj;

	(void)mp;
	(void)idx;
	memcpy((uint8_t *)m->buf_addr + RTE_PKTMBUF_HEADROOM + HDR_LEN, pf->pattern, pf->len);
}

void
gen_prefill(struct gen *g)
{
	uint8_t pattern[1500];
	struct prefill pf = { pattern, (size_t)(g->frame_len - HDR_LEN) };

	pattern_fill(pattern, pf.len);
	rte_mempool_obj_iter(g->tx_pool, prefill_one, &pf);
}

int
gen_load_pairs(struct gen *g, const char *path)
{
	uint8_t pattern[1500];
	char line[256], a_txt[128], b_txt[128];
	struct duet_addr a, b, ca, cb;
	FILE *fp = fopen(path, "r");
	uint32_t n = 0, lineno = 0;

	if (fp == NULL) {
		fprintf(stderr, "bench_gen: cannot read %s: %s\n", path, strerror(errno));
		return -errno;
	}
	g->streams = calloc(MAX_STREAMS, sizeof(*g->streams));
	if (g->streams == NULL) {
		fclose(fp);
		return -ENOMEM;
	}
	pattern_fill(pattern, (size_t)(g->frame_len - HDR_LEN));
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (line[0] == '\n' || line[0] == '#')
			continue;
		if (sscanf(line, "%127s %127s", a_txt, b_txt) != 2 ||
		    duet_addr_parse(a_txt, &a) != 0 || duet_addr_parse(b_txt, &b) != 0 ||
		    a.family != DUET_AF_INET4 || b.family != DUET_AF_INET4) {
			fprintf(stderr, "bench_gen: %s line %u: expected 'A_IP:PORT B_IP:PORT' (IPv4)\n",
				path, lineno);
			fclose(fp);
			return -EINVAL;
		}
		if (2 * n + 2 > MAX_STREAMS) {
			fprintf(stderr, "bench_gen: %s: more than %u pairs\n", path, MAX_STREAMS / 2);
			fclose(fp);
			return -E2BIG;
		}
		client_addr(n, 0, &ca);
		client_addr(n, 1, &cb);
		/* Stream 2n: client A to endpoint a; 2n+1: client B to endpoint b. */
		stream_init(g, &g->streams[2 * n], 2 * n, &ca, &a, pattern);
		stream_init(g, &g->streams[2 * n + 1], 2 * n + 1, &cb, &b, pattern);
		if (g->dut == DUT_DUET) {
			g->streams[2 * n].exp_src = b;
			g->streams[2 * n].exp_dst = cb;
			g->streams[2 * n + 1].exp_src = a;
			g->streams[2 * n + 1].exp_dst = ca;
		} else {
			g->streams[2 * n].exp_src = a;
			g->streams[2 * n].exp_dst = ca;
			g->streams[2 * n + 1].exp_src = b;
			g->streams[2 * n + 1].exp_dst = cb;
		}
		n++;
	}
	fclose(fp);
	if (n == 0) {
		fprintf(stderr, "bench_gen: %s: no pairs\n", path);
		return -EINVAL;
	}
	g->n_streams = 2 * n;
	return 0;
}

/* Write the next frame of stream s into m, stamped with tsc. */
static inline void
frame_fill(struct gen *g, struct rte_mbuf *m, uint32_t s, uint64_t tsc)
{
	struct stream *st = &g->streams[s];
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t seq_be = htons(st->seq);
	uint32_t ts_be = htonl(st->ts);
	uint64_t sum;
	uint16_t c;

	memcpy(f, st->hdr, HDR_LEN);
	memcpy(f + OFF_SEQ, &seq_be, 2);
	memcpy(f + OFF_SEQ + 2, &ts_be, 4);
	memcpy(f + OFF_TSC, &tsc, 8);
	memcpy(f + OFF_TRIAL, &g->trial, 4);
	/* Varying words sit at even offsets of the UDP datagram: add them. */
	sum = duet_pkt_sum(f + OFF_SEQ, 6, st->base_sum);
	sum = duet_pkt_sum(f + OFF_TSC, 12, sum);
	c = (uint16_t)~duet_pkt_fold(sum);
	duet_pkt_store16(f + OFF_UDP + DUET_PKT_UDP_CKSUM, c == 0 ? 0xffff : c);
	st->seq++;
	st->ts += RTP_TS_STEP;
	m->data_len = g->frame_len;
	m->pkt_len = g->frame_len;
}

/* Full check of an answer: parses, checksums right, addresses and TTL as
 * the DUT must write them. Returns the stream index or -1. */
static int
answer_check(struct gen *g, const struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	struct duet_pkt_info pi;
	const struct stream *st;
	uint8_t pseudo[4] = { 0, 17, 0, 0 };
	uint32_t s, magic;
	uint64_t sum;

	if (m->data_len != g->frame_len || m->nb_segs != 1)
		return -1;
	if (duet_pkt_parse(f, m->data_len, 0, &pi) != 0 || pi.kind != DUET_PKT_UDP ||
	    pi.l4_off != OFF_UDP)
		return -1;
	memcpy(&magic, f + OFF_MAGIC, 4);
	memcpy(&s, f + OFF_STREAM, 4);
	if (magic != htonl(GEN_MAGIC) || s >= g->n_streams)
		return -1;
	st = &g->streams[s];
	if (!duet_addr_equal(&pi.src, &st->exp_src) || !duet_addr_equal(&pi.dst, &st->exp_dst))
		return -1;
	/* duetd writes its own TTL (run.sh configures [media] ttl = 64);
	 * testpmd's 5tswap leaves the generator's 64. */
	if (pi.ttl != 64 || memcmp(f, g->mac, 6) != 0)
		return -1;
	duet_pkt_store16(pseudo + 2, htons(pi.l4_len));
	sum = duet_pkt_sum(f + OFF_IP + 12, 8, 0);
	sum = duet_pkt_sum(pseudo, 4, sum);
	sum = duet_pkt_sum(f + OFF_UDP, pi.l4_len, sum);
	if (duet_pkt_fold(sum) != 0xffff)
		return -1;
	return (int)s;
}

/* ------------------------------------------------------------------------
 * Sending and receiving.
 */

/* What to do with a burst of answers received at TSC `now`. */
typedef void (*rx_fn)(struct gen *g, struct rte_mbuf **m, uint16_t n, uint64_t now, void *arg);

static uint16_t
rx_poll(struct gen *g, rx_fn on_rx, void *arg)
{
	struct rte_mbuf *m[BURST];
	uint16_t n = rte_eth_rx_burst(g->port, 0, m, BURST);

	if (n != 0) {
		on_rx(g, m, n, rte_rdtsc(), arg);
		rte_pktmbuf_free_bulk(m, n);
	}
	return n;
}

/* Keep receiving until `quiet_ms` pass without an answer (at most max_ms). */
static void
rx_drain(struct gen *g, rx_fn on_rx, void *arg, unsigned int quiet_ms, unsigned int max_ms)
{
	uint64_t start = rte_rdtsc(), last = start, now;
	uint64_t quiet = g->hz / 1000 * quiet_ms, max = g->hz / 1000 * max_ms;

	for (;;) {
		now = rte_rdtsc();
		if (rx_poll(g, on_rx, arg) != 0)
			last = now;
		if (now - last >= quiet || now - start >= max || gen_quit)
			return;
	}
}

/* Frames a latch or check round may have on their way at once: a quarter
 * of a memif ring. The way back has no retry: a DUT whose answers find the
 * generator's ring full drops them, and with 100,000 pairs a round would
 * outrun a generator that lost its CPU for a moment. */
#define CHECK_WINDOW 256

/* Send one frame of each stream first, first + stride, ... (count of
 * them), at most BURST at a time, with the current trial id; answers
 * arriving meanwhile go to on_rx. Frames the port refuses are sent again.
 * With `answered`, at most CHECK_WINDOW frames are on their way: past it,
 * wait for answers, and after 20 ms without one take the rest as dropped
 * (shorter, and a DUT that lost its CPU for a while would find a backlog
 * of windows coming back at once). */
static uint64_t
send_streams(struct gen *g, uint32_t first, uint32_t count, uint32_t stride, rx_fn on_rx,
	     void *arg, bool answered)
{
	struct rte_mbuf *m[BURST];
	uint32_t done = 0;
	uint64_t refused = 0, back = 0;

	while (done < count && !gen_quit) {
		uint16_t n = (uint16_t)RTE_MIN((uint32_t)BURST, count - done), k, i;
		uint64_t tsc = rte_rdtsc(), last = tsc;

		while (answered && (int64_t)(done - back) >= CHECK_WINDOW && !gen_quit) {
			uint16_t r = rx_poll(g, on_rx, arg);

			tsc = rte_rdtsc();
			if (r != 0)
				last = tsc;
			back += r;
			if (tsc - last > g->hz / 50)
				back = done;
		}

		if (rte_pktmbuf_alloc_bulk(g->tx_pool, m, n) != 0) {
			rx_poll(g, on_rx, arg);
			continue;
		}
		for (i = 0; i < n; i++)
			frame_fill(g, m[i], first + (done + i) * stride, tsc);
		k = rte_eth_tx_burst(g->port, 0, m, n);
		if (k < n) {
			/* Check rounds are tiny: retry instead of losing frames. */
			rte_pktmbuf_free_bulk(m + k, n - k);
			refused += n - k;
		}
		done += k;
		back += rx_poll(g, on_rx, arg);
	}
	return refused;
}

static void
on_rx_check(struct gen *g, struct rte_mbuf **m, uint16_t n, uint64_t now, void *arg)
{
	struct gen_check *c = arg;
	uint16_t i;

	(void)now;
	for (i = 0; i < n; i++) {
		int s = answer_check(g, m[i]);

		if (s < 0) {
			c->bad++;
		} else if (g->streams[s].seen++ == 0) {
			c->ok++;
		} else {
			c->dup++;
		}
	}
}

static void
seen_reset(struct gen *g)
{
	uint32_t s;

	for (s = 0; s < g->n_streams; s++)
		g->streams[s].seen = 0;
}

/* duet: latch every leg. One frame from each leg a client (duetd latches
 * leg a and drops the frame: the peer is not latched), then one from each
 * leg b client (latches leg b, reaches client A). */
void
gen_latch(struct gen *g)
{
	struct gen_check c = { 0, 0, 0 };
	uint32_t half = g->n_streams / 2;

	g->trial++;
	seen_reset(g);
	send_streams(g, 0, half, 2, on_rx_check, &c, false);
	rx_drain(g, on_rx_check, &c, 20, 200);
	send_streams(g, 1, half, 2, on_rx_check, &c, true);
	rx_drain(g, on_rx_check, &c, 20, 500);
	fprintf(stderr, "bench_gen: latch: %" PRIu64 " of %u b->a answers\n", c.ok, half);
}

/* One frame per stream; every one must come back exactly once and right.
 * @return the number of streams that did not. */
uint64_t
gen_check_round(struct gen *g, struct gen_check *c)
{
	memset(c, 0, sizeof(*c));
	g->trial++;
	seen_reset(g);
	send_streams(g, 0, g->n_streams, 1, on_rx_check, c, true);
	rx_drain(g, on_rx_check, c, 20, 1000);
	return g->n_streams - c->ok + c->bad + c->dup;
}

static void
on_rx_count(struct gen *g, struct rte_mbuf **m, uint16_t n, uint64_t now, void *arg)
{
	struct trial *t = arg;
	uint16_t i;

	for (i = 0; i < n; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(m[i], const uint8_t *);
		uint32_t trial;
		uint64_t tsc;

		memcpy(&trial, f + OFF_TRIAL, 4);
		if (m[i]->data_len != g->frame_len || trial != g->trial) {
			t->stale++;
			continue;
		}
		t->rx++;
		if (t->latency) {
			uint64_t ns;

			memcpy(&tsc, f + OFF_TSC, 8);
			ns = (uint64_t)((double)(now - tsc) * g->ns_per_tsc);
			if (ns / HIST_NS < HIST_BINS)
				g->hist[ns / HIST_NS]++;
			else
				g->hist_over++;
			if (g->samples != NULL && ++g->sample_tick >= g->sample_every &&
			    g->n_samples < MAX_SAMPLES) {
				g->sample_tick = 0;
				g->samples[g->n_samples++] = (float)ns / 1000.0f;
			}
		}
	}
}

/* Offer t->rate_pps for t->dur_tsc, round robin over all streams, then
 * collect the answers still on their way. */
static void
run_trial(struct gen *g, struct trial *t)
{
	struct rte_mbuf *m[BURST];
	double per_tsc = t->rate_pps / (double)g->hz;
	uint64_t start, now, end, due;

	g->trial++;
	t->attempted = t->skipped = t->refused = t->rx = t->stale = 0;
	/* Frames of the last round still in flight are not this trial's. */
	rx_drain(g, on_rx_count, t, 2, 50);
	t->stale = 0;
	start = rte_rdtsc();
	end = start + t->dur_tsc;
	while ((now = rte_rdtsc()) < end && !gen_quit) {
		due = (uint64_t)((double)(now - start) * per_tsc);
		/* Behind by more than a few bursts (descheduled, or the rate is
		 * beyond us): skip the backlog rather than burst it out, so the DUT
		 * sees the rate it was offered; skipped frames are not offered. */
		if (due > t->attempted + t->skipped + 4 * BURST)
			t->skipped = due - t->attempted - BURST;
		if (due > t->attempted + t->skipped) {
			uint16_t n = (uint16_t)RTE_MIN(due - t->attempted - t->skipped, (uint64_t)BURST);
			uint16_t k, i;

			if (rte_pktmbuf_alloc_bulk(g->tx_pool, m, n) == 0) {
				for (i = 0; i < n; i++) {
					frame_fill(g, m[i], g->next_stream, now);
					if (++g->next_stream == g->n_streams)
						g->next_stream = 0;
				}
				k = rte_eth_tx_burst(g->port, 0, m, n);
				if (k < n) {
					rte_pktmbuf_free_bulk(m + k, n - k);
					t->refused += n - k;
				}
				t->attempted += n;
			}
		}
		rx_poll(g, on_rx_count, t);
	}
	t->secs = (double)(rte_rdtsc() - start) / (double)g->hz;
	t->due = (uint64_t)(t->rate_pps * (double)t->dur_tsc / (double)g->hz);
	rx_drain(g, on_rx_count, t, 5, 200);
}

uint64_t
gen_trial_lost(const struct trial *t)
{
	return t->attempted > t->rx ? t->attempted - t->rx : 0;
}

bool
gen_trial_gen_limited(const struct trial *t)
{
	return (double)t->attempted < 0.995 * (double)t->due;
}

void
gen_trial_print(const char *what, const struct trial *t)
{
	fprintf(stderr,
		"bench_gen: %s offered=%.4f Mpps sent=%.4f Mpps rx=%.4f Mpps attempted=%" PRIu64
		" skipped=%" PRIu64 " refused=%" PRIu64 " rx=%" PRIu64 " lost=%" PRIu64
		" stale=%" PRIu64 "%s\n",
		what, t->rate_pps / 1e6, (double)t->attempted / t->secs / 1e6,
		(double)t->rx / t->secs / 1e6, t->attempted, t->skipped, t->refused, t->rx,
		gen_trial_lost(t), t->stale, gen_trial_gen_limited(t) ? " (generator-limited)" : "");
}

void
gen_trial_at(struct gen *g, struct trial *t, double pps, unsigned int ms, bool latency)
{
	memset(t, 0, sizeof(*t));
	t->rate_pps = pps;
	t->dur_tsc = g->hz / 1000 * ms;
	t->latency = latency;
	run_trial(g, t);
}

double
gen_hist_pct(const struct gen *g, uint64_t total, double p)
{
	uint64_t want = (uint64_t)ceil(p * (double)total), acc = 0;
	uint32_t b;

	if (want == 0)
		want = 1;
	for (b = 0; b < HIST_BINS; b++) {
		acc += g->hist[b];
		if (acc >= want)
			return (b + 0.5) * HIST_NS / 1000.0;
	}
	return INFINITY;
}

double
gen_hist_max(const struct gen *g)
{
	uint32_t b;

	if (g->hist_over != 0)
		return INFINITY;
	for (b = HIST_BINS; b-- > 0;)
		if (g->hist[b] != 0)
			return (b + 1.0) * HIST_NS / 1000.0;
	return 0.0;
}
