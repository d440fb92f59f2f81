/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet-caller's media path, run by the worker that owns the call: build,
 * protect (libsrtp2) and send an RTP packet from the leg's track (with the
 * second out key from --rotate-after on, a key rotation mid-call); build
 * and send SRTCP compound packets (SR or RR with a report block, SDES
 * CNAME, BYE at the end); receive, demultiplex (RFC 5761), unprotect and
 * account RTP (lib/rtp stats: loss, reorder, duplicates, jitter; one-way
 * delay from the sender's send-time table) and RTCP (RTT from LSR/DLSR);
 * and the audio check: the payload must equal what the peer sent as that
 * packet, and for decoded calls, while the stream is intact and in order,
 * what one decoder makes of the received payloads must equal, sample for
 * sample, what a second decoder makes of the sent ones.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "caller.h"
#include "duet_rtp_fp.h"
#include "duet_srtp.h"

#define LATE_NS 2000000ULL	   /* a realtime frame this late counts as late */
#define RECV_BATCH 16		   /* datagrams per recvmmsg */
#define RECV_ROUNDS 4		   /* recvmmsg calls per socket per wakeup */
#define NTP_UNIX_OFFSET 2208988800ULL /* seconds from 1900 to 1970 */

/* Wall clock as an NTP timestamp (for SR and RTT: only differences of it
 * between this process's own SR and the peer's RR matter). */
static uint64_t
ntp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec + NTP_UNIX_OFFSET) << 32 |
	       (((uint64_t)ts.tv_nsec << 32) / 1000000000ULL);
}

/* Monotonic nanoseconds in 48 kHz timestamp units (wrapping). */
static uint32_t
clock_units(uint64_t ns)
{
	return (uint32_t)(ns / 1000 * (CALLER_CLOCK / 1000) / 1000);
}

/* send() on the connected socket. An ICMP port unreachable caused by an
 * earlier datagram is reported by the next call, which then sends nothing:
 * count it and send again once. */
static ssize_t
send_once(struct caller_leg *l, const uint8_t *buf, int len)
{
	ssize_t n = send(l->fd, buf, (size_t)len, 0);

	if (n < 0 && errno == ECONNREFUSED) {
		l->tx_c.icmp_refused++;
		n = send(l->fd, buf, (size_t)len, 0);
	}
	return n;
}

int
caller_send_packet(struct caller_worker *w, struct caller_leg *l, uint64_t now, uint64_t due)
{
	uint8_t buf[DUET_RTP_HDR_LEN + CALLER_PAYLOAD_MAX + SRTP_MAX_TRAILER_LEN];
	const struct caller_opts *o = &w->c->o;
	uint64_t k = l->next_pkt, frame;
	srtp_t tx = l->tx2 != NULL && k >= o->rotate_after ? l->tx2 : l->tx;
	const uint8_t *payload;
	uint16_t plen;
	ssize_t n;
	int len;

	if (caller_track_packet(l->track, k, &payload, &plen, &frame) != 0)
		return -ENODATA;
	/* Marker: first packet of a talkspurt (after DTX, or the very first). */
	duet_rtp_write_header(buf, k == 0 || frame != l->last_frame + 1, CALLER_PT,
			      (uint16_t)(l->seq0 + k), l->ts0 + (uint32_t)(frame * CALLER_FRAME),
			      l->ssrc);
	memcpy(buf + DUET_RTP_HDR_LEN, payload, plen);
	len = DUET_RTP_HDR_LEN + plen;
	now = caller_now_ns();
	if (srtp_protect(tx, buf, &len) != srtp_err_status_ok) {
		/* Counted and lost like a failed send: packet k stays the
		 * payload of its frame, whatever happens to it. */
		l->tx_c.protect_fail++;
		n = 0;
	} else {
		n = send_once(l, buf, len);
	}
	if (n < 0) {
		if ((errno == EAGAIN || errno == ENOBUFS) && o->rate == CALLER_RATE_MAX)
			return -EAGAIN; /* full socket buffer: the same packet again later */
		l->tx_c.errors++;
		l->tx_c.last_errno = errno;
	} else if (n > 0) {
		l->tx_c.packets++;
		l->tx_c.packets_key2 += tx == l->tx2;
		l->tx_c.bytes += (uint64_t)n;
		l->tx_c.octets += plen;
	}
	l->sent_at[k % CALLER_SENT_RING].k = k + 1;
	l->sent_at[k % CALLER_SENT_RING].ns = now;
	l->last_frame = frame;
	l->next_pkt++;
	if (due != 0 && now > due + LATE_NS)
		l->tx_c.late++;
	if (o->rate == CALLER_RATE_MAX && o->rtcp_every != 0 && l->next_pkt % o->rtcp_every == 0)
		caller_send_rtcp(w, l, now, false);
	return 0;
}

void
caller_send_rtcp(struct caller_worker *w, struct caller_leg *l, uint64_t now, bool bye)
{
	uint8_t buf[256 + SRTP_MAX_TRAILER_LEN + 4];
	struct duet_rtcp_sender_info si;
	struct duet_rtcp_rb rb;
	unsigned int n_rb = 0;
	srtp_t tx = l->tx2 != NULL && l->next_pkt >= w->c->o.rotate_after ? l->tx2 : l->tx;
	char cname[48];
	int n, r, len;

	now = caller_now_ns(); /* DLSR must not include the loop's own lag */
	if (l->peer_seen) {
		uint32_t dlsr = 0;

		if (l->lsr != 0)
			dlsr = (uint32_t)((now - l->lsr_ns) * 65536 / 1000000000ULL);
		duet_rtp_stats_report_block(&l->rs, l->peer_ssrc, l->lsr, dlsr, &rb);
		n_rb = 1;
	}
	if (l->next_pkt > 0) {
		si.ntp = ntp_now();
		si.rtp_ts = l->ts0 + (uint32_t)(l->last_frame * CALLER_FRAME);
		si.packets = (uint32_t)l->tx_c.packets;
		si.octets = (uint32_t)l->tx_c.octets;
		n = duet_rtcp_write_report(buf, 256, l->ssrc, &si, &rb, n_rb);
	} else {
		n = duet_rtcp_write_report(buf, 256, l->ssrc, NULL, &rb, n_rb);
	}
	/* The CNAME names the simulated phone, never an address. */
	snprintf(cname, sizeof(cname), "duet-caller-%u-%c", l->call->index, 'a' + l->id);
	r = n > 0 ? duet_rtcp_write_sdes_cname(buf + n, 256 - (size_t)n, l->ssrc, cname) : -ENOSPC;
	if (r > 0)
		n += r;
	if (bye && r > 0) {
		r = duet_rtcp_write_bye(buf + n, 256 - (size_t)n, l->ssrc);
		if (r > 0)
			n += r;
	}
	if (n <= 0 || r <= 0)
		return;
	len = n;
	if (srtp_protect_rtcp(tx, buf, &len) != srtp_err_status_ok) {
		l->tx_c.protect_fail++;
		return;
	}
	if (send_once(l, buf, len) < 0) {
		l->tx_c.errors++;
		l->tx_c.last_errno = errno;
		return;
	}
	l->tx_c.rtcp++;
}

/* Index of a received packet among the peer's packets, from its 16-bit
 * sequence number: the nearest to the highest index seen so far. */
static int64_t
packet_index(const struct caller_leg *l, uint16_t seq)
{
	uint16_t expect = (uint16_t)(l->peer->seq0 + l->rx_high);

	return (int64_t)l->rx_high + (int16_t)(uint16_t)(seq - expect);
}

static void
record_delay(struct caller_worker *w, struct caller_leg *l, uint64_t k, uint64_t now)
{
	const struct caller_sent *s = &l->peer->sent_at[k % CALLER_SENT_RING];
	uint64_t d, bucket;

	if (s->k != k + 1 || now < s->ns)
		return;
	d = now - s->ns;
	if (l->rx_c.delay_n == 0 || d < l->rx_c.delay_min_ns)
		l->rx_c.delay_min_ns = d;
	if (d > l->rx_c.delay_max_ns)
		l->rx_c.delay_max_ns = d;
	l->rx_c.delay_n++;
	l->rx_c.delay_sum_ns += d;
	bucket = d < 100000000ULL ? d / 10000 : CALLER_HIST_FINE + (d - 100000000ULL) / 1000000;
	if (bucket > CALLER_HIST_BUCKETS)
		bucket = CALLER_HIST_BUCKETS;
	w->hist[l->peer->id].b[bucket]++;
}

/* Decode one payload; count a failure. Returns samples or -1. */
static int
decode(OpusDecoder *d, const uint8_t *p, uint16_t len, int16_t *pcm, uint64_t *errs)
{
	int n = opus_decode(d, p, len, pcm, CALLER_DECODE_MAX, 0);

	if (n < 0) {
		(*errs)++;
		return -1;
	}
	return n;
}

/* The audio check of one packet received from a peer in this process. */
static void
check_audio(struct caller_leg *l, const struct duet_rtp_hdr *h, const uint8_t *payload, uint64_t k)
{
	int16_t got[CALLER_DECODE_MAX], want[CALLER_DECODE_MAX];
	const uint8_t *sent;
	uint16_t sent_len;
	uint64_t frame;
	int n1, n2;

	if (caller_track_packet(l->peer->track, k, &sent, &sent_len, &frame) != 0 ||
	    sent_len != h->payload_len || memcmp(sent, payload, sent_len) != 0 ||
	    h->ts != l->peer->ts0 + (uint32_t)(frame * CALLER_FRAME)) {
		l->rx_c.payload_mismatch++;
		sent = NULL;
	}
	if (k != l->rx_next || l->rx_gap || sent == NULL) {
		/* Out of order or lost before: the decoders no longer see the
		 * same sequence, so stop comparing (the phone still decodes). */
		l->rx_gap = true;
		if (l->decode)
			decode(l->dec, payload, h->payload_len, got, &l->rx_c.decode_err);
		return;
	}
	l->rx_next++;
	if (!l->decode)
		return;
	n1 = decode(l->dec, payload, h->payload_len, got, &l->rx_c.decode_err);
	n2 = decode(l->ref, sent, sent_len, want, &l->rx_c.decode_err);
	if (n1 < 0 || n2 < 0)
		return;
	if (n1 != n2 || memcmp(got, want, (size_t)n1 * sizeof(got[0])) != 0)
		l->rx_c.pcm_mismatch++;
	l->rx_c.samples += (uint64_t)n1;
}

/*
 * Unprotect with the leg's in key and, when that fails and there is a
 * second in key (a rotation: the peer or the relay may have moved on),
 * with the second one. Any failure, not only an authentication failure:
 * a session of another suite reads the SRTCP trailer at other offsets and
 * may call the packet anything. When both fail, a replay from either
 * session is the verdict (the other key cannot have made the packet),
 * else the first key's. A GCM session may have written into the packet
 * before it found the tag wrong, so the second try starts from a copy of
 * the packet as it came. *second: the second key opened it.
 */
static srtp_err_status_t
unprotect(const struct caller_leg *l, bool rtcp, uint8_t *buf, int *len, bool *second)
{
	uint8_t orig[CALLER_PKT_MAX + 64];
	srtp_err_status_t st, st2;
	int len0 = *len;

	*second = false;
	if (l->rx2 != NULL && (size_t)len0 <= sizeof(orig))
		memcpy(orig, buf, (size_t)len0);
	st = rtcp ? srtp_unprotect_rtcp(l->rx, buf, len) : srtp_unprotect(l->rx, buf, len);
	if (st == srtp_err_status_ok || l->rx2 == NULL || (size_t)len0 > sizeof(orig))
		return st;
	memcpy(buf, orig, (size_t)len0);
	*len = len0;
	st2 = rtcp ? srtp_unprotect_rtcp(l->rx2, buf, len) : srtp_unprotect(l->rx2, buf, len);
	*second = st2 == srtp_err_status_ok;
	if (st2 == srtp_err_status_ok || duet_srtp_is_replay(st2))
		return st2;
	return st;
}

static void
receive_rtp(struct caller_worker *w, struct caller_leg *l, uint8_t *buf, int len, uint64_t now)
{
	struct duet_rtp_hdr h;
	srtp_err_status_t st;
	bool second;
	int res;

	st = unprotect(l, false, buf, &len, &second);
	if (st != srtp_err_status_ok) {
		if (duet_srtp_is_replay(st))
			l->rx_c.replay_fail++;
		else if (st == srtp_err_status_auth_fail)
			l->rx_c.auth_fail++;
		else
			l->rx_c.other_fail++;
		return;
	}
	if (duet_rtp_parse(buf, (size_t)len, &h) != 0 || h.pt != CALLER_PT ||
	    (l->peer_seen && h.ssrc != l->peer_ssrc) ||
	    (l->peer != NULL && h.ssrc != l->peer->ssrc)) {
		l->rx_c.bad_rtp++;
		return;
	}
	if (!l->peer_seen) {
		l->peer_ssrc = h.ssrc;
		l->peer_seen = true;
	}
	res = duet_rtp_stats_update(&l->rs, h.seq, h.ts, clock_units(now));
	l->rx_c.rtp++;
	l->rx_c.rtp_key2 += second;
	if (res == DUET_RTP_SEQ_DUPLICATE)
		return;
	l->rx_c.unique++;
	if (l->peer != NULL) {
		int64_t k = packet_index(l, h.seq);

		if (k < 0 || (uint64_t)k >= l->peer->next_pkt) {
			l->rx_c.bad_rtp++;
			return;
		}
		if ((uint64_t)k + 1 > l->rx_high)
			l->rx_high = (uint64_t)k + 1;
		record_delay(w, l, (uint64_t)k, now);
		check_audio(l, &h, buf + h.payload_off, (uint64_t)k);
	} else if (l->decode) {
		int16_t pcm[CALLER_DECODE_MAX];

		decode(l->dec, buf + h.payload_off, h.payload_len, pcm, &l->rx_c.decode_err);
	}
}

/* A report block about what this leg sends: the peer's view and the RTT. */
static void
take_report_block(struct caller_leg *l, const struct duet_rtcp_rb *rb)
{
	uint32_t rtt;

	if (rb->ssrc != l->ssrc)
		return;
	l->rr_seen = true;
	l->rr_cum_lost = rb->cum_lost;
	l->rr_jitter = rb->jitter;
	if (rb->lsr == 0)
		return;
	/* RFC 3550 6.4.1: A - LSR - DLSR, in 1/65536 s. */
	rtt = duet_rtcp_ntp_mid(ntp_now()) - rb->lsr - rb->dlsr;
	if (rtt < 0x80000000u) {
		l->rtt_ms_sum += (double)rtt * 1000.0 / 65536.0;
		l->rtt_n++;
	}
}

static void
receive_rtcp(struct caller_leg *l, uint8_t *buf, int len, uint64_t now)
{
	struct duet_rtcp_report r;
	struct duet_rtcp_hdr h;
	srtp_err_status_t st;
	size_t off;
	unsigned int i;
	bool second;

	st = unprotect(l, true, buf, &len, &second);
	if (st != srtp_err_status_ok) {
		if (duet_srtp_is_replay(st))
			l->rx_c.srtcp_replay_fail++;
		else if (st == srtp_err_status_auth_fail)
			l->rx_c.srtcp_auth_fail++;
		else
			l->rx_c.srtcp_other_fail++;
		return;
	}
	if (duet_rtcp_check_compound(buf, (size_t)len) < 0) {
		l->rx_c.rtcp_bad++;
		return;
	}
	l->rx_c.rtcp++;
	for (off = 0; off < (size_t)len; off += h.len) {
		if (duet_rtcp_parse(buf + off, (size_t)len - off, &h) != 0)
			break;
		switch (h.pt) {
		case DUET_RTCP_SR:
		case DUET_RTCP_RR:
			if (h.pt == DUET_RTCP_SR)
				l->rx_c.rtcp_sr++;
			else
				l->rx_c.rtcp_rr++;
			if (duet_rtcp_parse_report(buf + off, (size_t)len - off, &r) != 0) {
				l->rx_c.rtcp_bad++;
				break;
			}
			if (r.pt == DUET_RTCP_SR) {
				l->lsr = duet_rtcp_ntp_mid(r.si.ntp);
				l->lsr_ns = now;
				l->rx_c.sr_packets = r.si.packets;
				l->rx_c.sr_seen = true;
			}
			for (i = 0; i < r.n_rb; i++)
				take_report_block(l, &r.rb[i]);
			break;
		case DUET_RTCP_SDES:
			l->rx_c.rtcp_sdes++;
			break;
		case DUET_RTCP_BYE:
			l->rx_c.rtcp_bye++;
			break;
		default:
			break;
		}
	}
}

void
caller_receive(struct caller_worker *w, struct caller_leg *l)
{
	/* Per thread, set up once: this runs for every readable socket. */
	static __thread uint8_t bufs[RECV_BATCH][CALLER_PKT_MAX + 64];
	static __thread struct mmsghdr msgs[RECV_BATCH];
	static __thread struct iovec iov[RECV_BATCH];
	int i, n, round;

	if (msgs[0].msg_hdr.msg_iov == NULL) {
		for (i = 0; i < RECV_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
	}
	/* One recvmmsg returns whatever is queued: at 50 packets/s per
	 * socket that is usually one datagram, so no second call just to
	 * learn EAGAIN. A full batch means more may wait. */
	for (round = 0; round < RECV_ROUNDS; round++) {
		uint64_t now;

		n = recvmmsg(l->fd, msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNREFUSED) {
				l->tx_c.icmp_refused++;
				continue;
			}
			return; /* EAGAIN, or an error the next send reports */
		}
		now = caller_now_ns();
		for (i = 0; i < n; i++) {
			size_t len = msgs[i].msg_len;

			switch (duet_rtp_demux(bufs[i], len)) {
			case DUET_RTP_KIND_RTP:
				receive_rtp(w, l, bufs[i], (int)len, now);
				break;
			case DUET_RTP_KIND_RTCP:
				receive_rtcp(l, bufs[i], (int)len, now);
				break;
			default:
				l->rx_c.not_rtp++;
				break;
			}
		}
		if (n < RECV_BATCH)
			return;
	}
}

bool
caller_leg_rx_complete(const struct caller_leg *l)
{
	if (!l->local)
		return true;
	if (l->wait_bye && l->rx_c.rtcp_bye == 0)
		return false;
	if (l->peer != NULL)
		return l->peer->done && l->rx_c.unique >= l->peer->next_pkt;
	/* The sender is elsewhere: only its BYE says it is done. */
	return l->rx_c.rtcp_bye > 0;
}
