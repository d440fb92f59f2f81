/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * abuse_send: the hostile client of the abuse_* integration tests, run
 * inside a test network namespace (never inside duetd). Python cannot make
 * the rates these tests need, so this single-threaded program does, with
 * sendmmsg/recvmmsg on ordinary kernel sockets:
 *
 *   flood  RTP-v2-looking datagrams from one source to one endpoint, as
 *          fast as the host can (or at --rate), for --seconds;
 *   scan   UDP datagrams spread over a port range of one address;
 *   ping   ICMP echo requests on a raw socket, counting the replies;
 *   srtp   authentic SRTP (libsrtp2, a key given in a file), one packet per
 *          SSRC (an SSRC sweep) or one stream;
 *   count  receive on a UDP socket and count datagrams, bytes, distinct
 *          RTP SSRCs and sources.
 *
 * Every mode is bounded in packets and in seconds, and prints one JSON
 * object on stdout. IPv4 only (the integration topology is IPv4).
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/icmp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "duet_rtp.h"
#include "duet_rtp_fp.h"
#include "duet_sdes.h"
#include "duet_srtp.h"

#define BATCH 64		/* datagrams per sendmmsg/recvmmsg */
#define MAX_SECONDS 600.0	/* no mode runs longer, whatever it is asked */
#define MAX_PACKETS 100000000ULL
#define PAYLOAD_MAX 1400
#define SSRC_SET_BITS 18	/* distinct SSRCs a counter can tell apart: 2^18 / 2 */
#define SKIP_MAX 64
#define PT_OPUS 111

struct opts {
	const char *mode;
	struct sockaddr_in bind, to;
	bool have_bind, have_to;
	double seconds;
	double rate;		/* packets/s; 0 = as fast as possible */
	uint64_t count;		/* packets to send (or, count: to receive) */
	unsigned int size;	/* UDP payload bytes */
	uint32_t ssrc;		/* flood/srtp: (first) SSRC */
	bool same_ssrc;		/* srtp: one stream instead of a sweep */
	unsigned int port_min, port_max;
	unsigned int skip[SKIP_MAX], n_skip;
	const char *key_file;
	const char *ready_file, *stop_file;
	double wait;		/* ping: seconds to wait for late replies */
};

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "abuse_send: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_until(double t)
{
	double d = t - now_s();
	struct timespec ts;

	if (d <= 0)
		return;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/* "a.b.c.d:port" (need_port) or "a.b.c.d[:port]". */
static int
parse_ep(const char *s, bool need_port, struct sockaddr_in *out)
{
	char ip[64];
	const char *colon = strrchr(s, ':');
	size_t n = colon != NULL ? (size_t)(colon - s) : strlen(s);
	char *end;
	long port = 0;

	if ((need_port && colon == NULL) || n == 0 || n >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (colon != NULL) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || colon[1] == '\0' || port < 0 || port > 65535)
			return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, ip, &out->sin_addr) == 1 ? 0 : -EINVAL;
}

static double
parse_num(const char *name, const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || s[0] == '\0' || !(v >= min && v <= max)) {
		fprintf(stderr, "abuse_send: %s: '%s' is not a number in %g..%g\n", name, s, min,
			max);
		exit(2);
	}
	return v;
}

static const char *
ep_text(const struct sockaddr_in *a, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u", ip, ntohs(a->sin_port));
	return buf;
}

static void
touch(const char *path)
{
	FILE *f;

	if (path == NULL)
		return;
	f = fopen(path, "w");
	if (f != NULL)
		fclose(f);
}

static bool
exists(const char *path)
{
	struct stat st;

	return path != NULL && stat(path, &st) == 0;
}

static int
udp_socket(const struct opts *o, bool connect_to)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0), buf = 8 << 20;

	if (fd < 0) {
		perror("abuse_send: socket");
		exit(1);
	}
	/* As root the caps of rmem_max/wmem_max do not apply. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
	if (o->have_bind && bind(fd, (const struct sockaddr *)&o->bind, sizeof(o->bind)) != 0) {
		char t[64];

		fprintf(stderr, "abuse_send: bind %s: %s\n", ep_text(&o->bind, t, sizeof(t)),
			strerror(errno));
		exit(1);
	}
	if (connect_to && connect(fd, (const struct sockaddr *)&o->to, sizeof(o->to)) != 0) {
		perror("abuse_send: connect");
		exit(1);
	}
	return fd;
}

/* ---- pacing shared by the senders ---- */

struct pacer {
	double t0, rate;
	uint64_t sent;
};

/* How many packets may go now (at most max), sleeping until the next one
 * is due when the rate allows none. */
static unsigned int
pacer_next(struct pacer *p, unsigned int max)
{
	double due;
	uint64_t allowed;

	if (p->rate <= 0)
		return max;
	for (;;) {
		allowed = (uint64_t)((now_s() - p->t0) * p->rate) + 1;
		if (allowed > p->sent)
			return allowed - p->sent < max ? (unsigned int)(allowed - p->sent) : max;
		due = p->t0 + (double)p->sent / p->rate;
		sleep_until(due);
	}
}

struct send_result {
	uint64_t sent, errors;
	double first, last;
};

static void
print_send(const char *mode, const struct opts *o, const struct send_result *r,
	   const char *extra)
{
	double el = r->sent > 0 ? r->last - r->first : 0;
	char t[64];

	printf("{\"mode\": \"%s\", \"to\": \"%s\", \"sent\": %llu, \"send_errors\": %llu, "
	       "\"seconds\": %.6f, \"pps\": %.0f%s}\n",
	       mode, ep_text(&o->to, t, sizeof(t)), (unsigned long long)r->sent,
	       (unsigned long long)r->errors, el, el > 0 ? (double)r->sent / el : 0.0,
	       extra != NULL ? extra : "");
}

/* sendmmsg the n prepared messages; count what the kernel took. */
static void
send_batch(int fd, struct mmsghdr *msgs, unsigned int n, struct send_result *r)
{
	unsigned int done = 0;

	while (done < n) {
		int k = sendmmsg(fd, msgs + done, n - done, 0);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			/* ICMP errors from earlier datagrams, a full queue:
			 * this datagram is lost, the run goes on. */
			r->errors++;
			done++;
			continue;
		}
		r->sent += (uint64_t)k;
		done += (unsigned int)k;
	}
	r->last = now_s();
}

/* ---- flood ---- */

static int
run_flood(const struct opts *o)
{
	static uint8_t bufs[BATCH][PAYLOAD_MAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct send_result r = {0};
	struct pacer p = {0};
	uint64_t k = 0;
	double end;
	int fd = udp_socket(o, true);
	unsigned int i, n;

	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		memset(bufs[i], 0x5a, o->size);
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = o->size;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	p.rate = o->rate;
	p.t0 = r.first = now_s();
	end = r.first + o->seconds;
	while (k < o->count && !stop_requested && now_s() < end) {
		n = pacer_next(&p, BATCH);
		if (n > o->count - k)
			n = (unsigned int)(o->count - k);
		/* An RTP v2 header that moves like a real stream: only the
		 * policer may tell it from media. */
		for (i = 0; i < n; i++)
			duet_rtp_write_header(bufs[i], false, PT_OPUS, (uint16_t)(k + i),
					      (uint32_t)((k + i) * 960), o->ssrc);
		send_batch(fd, msgs, n, &r);
		k += n;
		p.sent = r.sent + r.errors;
	}
	close(fd);
	print_send("flood", o, &r, NULL);
	return 0;
}

/* ---- scan ---- */

static bool
skipped(const struct opts *o, unsigned int port)
{
	unsigned int i;

	for (i = 0; i < o->n_skip; i++)
		if (o->skip[i] == port)
			return true;
	return false;
}

static int
run_scan(const struct opts *o)
{
	static uint8_t buf[PAYLOAD_MAX];
	static struct sockaddr_in dst[BATCH];
	unsigned int ports[65536], n_ports = 0, i, n, port;
	struct mmsghdr msgs[BATCH];
	struct iovec iov;
	struct send_result r = {0};
	struct pacer p = {0};
	uint64_t k = 0;
	double end;
	int fd = udp_socket(o, false);
	char extra[64];

	for (port = o->port_min; port <= o->port_max; port++)
		if (!skipped(o, port))
			ports[n_ports++] = port;
	if (n_ports == 0)
		die("%s", "scan: no port left to scan");
	memset(buf, 0, sizeof(buf));
	duet_rtp_write_header(buf, false, PT_OPUS, 0, 0, 0x5ca55ca5);
	iov.iov_base = buf;
	iov.iov_len = o->size;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		dst[i] = o->to;
		msgs[i].msg_hdr.msg_name = &dst[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(dst[i]);
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	p.rate = o->rate;
	p.t0 = r.first = now_s();
	end = r.first + o->seconds;
	while (k < o->count && !stop_requested && now_s() < end) {
		n = pacer_next(&p, BATCH);
		if (n > o->count - k)
			n = (unsigned int)(o->count - k);
		/* Round robin over the ports: every empty endpoint is hit. */
		for (i = 0; i < n; i++)
			dst[i].sin_port = htons((uint16_t)ports[(k + i) % n_ports]);
		send_batch(fd, msgs, n, &r);
		k += n;
		p.sent = r.sent + r.errors;
	}
	close(fd);
	snprintf(extra, sizeof(extra), ", \"ports\": %u", n_ports);
	print_send("scan", o, &r, extra);
	return 0;
}

/* ---- ping ---- */

static uint16_t
csum16(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

struct ping_tally {
	uint64_t replies, others;
	uint8_t *seen;		/* one byte per sequence number sent */
	uint64_t dups;
};

/* Read every echo reply waiting on the raw socket. */
static void
ping_drain(int fd, uint16_t id, const struct sockaddr_in *to, uint64_t count,
	   struct ping_tally *t)
{
	uint8_t buf[1600];
	struct sockaddr_in from;
	socklen_t fl;

	for (;;) {
		const struct icmphdr *ic;
		size_t ihl;
		ssize_t n;
		uint16_t seq;

		fl = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		ihl = (size_t)(buf[0] & 0x0f) * 4;
		if ((size_t)n < ihl + sizeof(*ic)) {
			t->others++;
			continue;
		}
		ic = (const struct icmphdr *)(buf + ihl);
		if (ic->type != ICMP_ECHOREPLY || ntohs(ic->un.echo.id) != id ||
		    from.sin_addr.s_addr != to->sin_addr.s_addr) {
			t->others++;
			continue;
		}
		seq = ntohs(ic->un.echo.sequence);
		t->replies++;
		/* Sequence numbers wrap past 65535; then dups are not told. */
		if (count <= 65536 && seq < count) {
			if (t->seen[seq])
				t->dups++;
			t->seen[seq] = 1;
		}
	}
}

static int
run_ping(const struct opts *o)
{
	struct icmp_filter filt = { ~(1U << ICMP_ECHOREPLY) };
	struct ping_tally t = {0};
	struct send_result r = {0};
	struct pacer p = {0};
	uint8_t pkt[64];
	uint16_t id = (uint16_t)(getpid() ^ (o->to.sin_addr.s_addr >> 16));
	uint64_t k = 0;
	double end, wait_end;
	int fd, buf = 8 << 20;
	unsigned int n, i;
	char extra[160];

	fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (fd < 0) {
		perror("abuse_send: raw socket (root needed)");
		return 1;
	}
	setsockopt(fd, SOL_RAW, ICMP_FILTER, &filt, sizeof(filt));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
	if (o->have_bind && bind(fd, (const struct sockaddr *)&o->bind, sizeof(o->bind)) != 0) {
		perror("abuse_send: bind");
		return 1;
	}
	t.seen = calloc(65536, 1);
	if (t.seen == NULL)
		return 1;
	p.rate = o->rate;
	p.t0 = r.first = now_s();
	end = r.first + o->seconds;
	while (k < o->count && !stop_requested && now_s() < end) {
		n = pacer_next(&p, BATCH);
		if (n > o->count - k)
			n = (unsigned int)(o->count - k);
		for (i = 0; i < n; i++, k++) {
			struct icmphdr *ic = (struct icmphdr *)pkt;

			memset(pkt, 0xa5, sizeof(pkt));
			ic->type = ICMP_ECHO;
			ic->code = 0;
			ic->checksum = 0;
			ic->un.echo.id = htons(id);
			ic->un.echo.sequence = htons((uint16_t)k);
			ic->checksum = csum16(pkt, sizeof(pkt));
			if (sendto(fd, pkt, sizeof(pkt), 0, (const struct sockaddr *)&o->to,
				   sizeof(o->to)) == (ssize_t)sizeof(pkt))
				r.sent++;
			else
				r.errors++;
		}
		r.last = now_s();
		p.sent = r.sent + r.errors;
		ping_drain(fd, id, &o->to, o->count, &t);
	}
	/* Late replies: wait, bounded, until the socket stays quiet. */
	wait_end = now_s() + o->wait;
	while (now_s() < wait_end && !stop_requested) {
		struct pollfd pfd = { fd, POLLIN, 0 };

		if (poll(&pfd, 1, 50) > 0)
			ping_drain(fd, id, &o->to, o->count, &t);
	}
	ping_drain(fd, id, &o->to, o->count, &t);
	close(fd);
	free(t.seen);
	snprintf(extra, sizeof(extra), ", \"replies\": %llu, \"duplicate_replies\": %llu, "
		 "\"other_icmp\": %llu",
		 (unsigned long long)t.replies, (unsigned long long)t.dups,
		 (unsigned long long)t.others);
	print_send("ping", o, &r, extra);
	return 0;
}

/* ---- srtp ---- */

static int
read_key(const char *path, struct duet_sdes *k)
{
	char text[DUET_SDES_TEXT_MAX + 64];
	const char *why = NULL;
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		fprintf(stderr, "abuse_send: --key-file %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = '\0';
	if (duet_sdes_parse(text, k, &why) != 0) {
		/* Never print the key itself. */
		fprintf(stderr, "abuse_send: --key-file %s: %s\n", path, why != NULL ? why : "bad");
		duet_secure_zero(text, sizeof(text));
		return -1;
	}
	duet_secure_zero(text, sizeof(text));
	return 0;
}

static int
run_srtp(const struct opts *o)
{
	static uint8_t bufs[BATCH][DUET_RTP_HDR_LEN + PAYLOAD_MAX + SRTP_MAX_TRAILER_LEN];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct send_result r = {0};
	struct pacer p = {0};
	struct duet_sdes key;
	uint64_t k = 0, protect_fail = 0;
	srtp_t s = NULL;
	double end;
	int fd;
	unsigned int i, n, plen = o->size < DUET_RTP_HDR_LEN ? 0 : o->size - DUET_RTP_HDR_LEN;
	char extra[128];

	if (plen + DUET_RTP_HDR_LEN > PAYLOAD_MAX)
		plen = PAYLOAD_MAX - DUET_RTP_HDR_LEN;
	if (duet_srtp_init() != 0 || read_key(o->key_file, &key) != 0)
		return 1;
	if (duet_srtp_session_new(&key, DUET_SRTP_OUTBOUND, &s) != 0) {
		fprintf(stderr, "abuse_send: libsrtp2 refused the key\n");
		duet_sdes_wipe(&key);
		return 1;
	}
	duet_sdes_wipe(&key);
	fd = udp_socket(o, true);
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	p.rate = o->rate;
	p.t0 = r.first = now_s();
	end = r.first + o->seconds;
	while (k < o->count && !stop_requested && now_s() < end) {
		unsigned int m = 0;

		n = pacer_next(&p, BATCH);
		if (n > o->count - k)
			n = (unsigned int)(o->count - k);
		for (i = 0; i < n; i++) {
			uint32_t ssrc = o->same_ssrc ? o->ssrc : o->ssrc + (uint32_t)(k + i);
			int len = (int)(DUET_RTP_HDR_LEN + plen);

			duet_rtp_write_header(bufs[m], false, PT_OPUS, (uint16_t)(k + i),
					      (uint32_t)((k + i) * 960), ssrc);
			memset(bufs[m] + DUET_RTP_HDR_LEN, (int)(k + i), plen);
			if (srtp_protect(s, bufs[m], &len) != srtp_err_status_ok) {
				protect_fail++;
				continue;
			}
			/* A sweep sends one packet per SSRC: drop the sender's
			 * stream at once so only the relay has to hold them. */
			if (!o->same_ssrc)
				srtp_remove_stream(s, htonl(ssrc));
			iov[m].iov_len = (size_t)len;
			m++;
		}
		send_batch(fd, msgs, m, &r);
		k += n;
		p.sent = k;
	}
	close(fd);
	duet_srtp_session_free(s);
	snprintf(extra, sizeof(extra), ", \"ssrcs\": %llu, \"first_ssrc\": %u, \"protect_fail\": %llu",
		 (unsigned long long)(o->same_ssrc ? (k > 0) : k), o->ssrc,
		 (unsigned long long)protect_fail);
	print_send("srtp", o, &r, extra);
	return 0;
}

/* ---- count ---- */

struct ssrc_set {
	uint32_t *slot;		/* ssrc + 1 would overflow: a separate flag holds 0 */
	bool has_zero;
	uint64_t n, cap;
	uint32_t first[16];
	unsigned int n_first;
};

static void
ssrc_add(struct ssrc_set *s, uint32_t ssrc)
{
	uint64_t i;

	if (ssrc == 0) {
		if (!s->has_zero)
			s->n++;
		s->has_zero = true;
		return;
	}
	if (s->n >= s->cap / 2)
		return; /* full: n stays a lower bound, marked in the report */
	for (i = (ssrc * 2654435761u) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (s->slot[i] == ssrc)
			return;
		if (s->slot[i] == 0) {
			s->slot[i] = ssrc;
			s->n++;
			if (s->n_first < 16)
				s->first[s->n_first++] = ssrc;
			return;
		}
	}
}

static int
run_count(const struct opts *o)
{
	static uint8_t bufs[BATCH][2048];
	struct sockaddr_in from[BATCH], srcs[8];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct ssrc_set set = {0};
	uint64_t pkts = 0, bytes = 0, rtp = 0;
	unsigned int n_srcs = 0, i, j;
	double t0, end, stop_at = 0, first = 0, last = 0;
	int fd = udp_socket(o, false);
	char t[64];

	set.cap = 1ULL << SSRC_SET_BITS;
	set.slot = calloc(set.cap, sizeof(*set.slot));
	if (set.slot == NULL)
		return 1;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &from[i];
	}
	touch(o->ready_file);
	t0 = now_s();
	end = t0 + o->seconds;
	while (!stop_requested && pkts < o->count) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		double now = now_s();
		int n;

		if (now >= end || (stop_at > 0 && now >= stop_at))
			break;
		/* Finish 0.3 s after the stop file appears: what is in flight
		 * still counts. */
		if (stop_at == 0 && exists(o->stop_file))
			stop_at = now + 0.3;
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		for (i = 0; i < BATCH; i++)
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			continue;
		if (first == 0)
			first = now_s();
		last = now_s();
		for (i = 0; i < (unsigned int)n; i++) {
			const uint8_t *b = bufs[i];
			unsigned int len = msgs[i].msg_len;

			pkts++;
			bytes += len;
			if (len >= DUET_RTP_HDR_LEN && b[0] >> 6 == 2) {
				rtp++;
				ssrc_add(&set, (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 |
						       (uint32_t)b[10] << 8 | b[11]);
			}
			for (j = 0; j < n_srcs; j++)
				if (srcs[j].sin_addr.s_addr == from[i].sin_addr.s_addr &&
				    srcs[j].sin_port == from[i].sin_port)
					break;
			if (j == n_srcs && n_srcs < 8)
				srcs[n_srcs++] = from[i];
		}
	}
	close(fd);
	printf("{\"mode\": \"count\", \"packets\": %llu, \"bytes\": %llu, \"rtp_v2\": %llu, "
	       "\"distinct_ssrc\": %llu, \"ssrc_set_full\": %s, \"first_ssrcs\": [",
	       (unsigned long long)pkts, (unsigned long long)bytes, (unsigned long long)rtp,
	       (unsigned long long)set.n, set.n >= set.cap / 2 ? "true" : "false");
	for (i = 0; i < set.n_first; i++)
		printf("%s%u", i ? ", " : "", set.first[i]);
	printf("], \"sources\": [");
	for (i = 0; i < n_srcs; i++)
		printf("%s\"%s\"", i ? ", " : "", ep_text(&srcs[i], t, sizeof(t)));
	printf("], \"seconds\": %.6f}\n", pkts > 0 ? last - first : 0.0);
	free(set.slot);
	return 0;
}

/* ---- arguments ---- */

static void
usage(void)
{
	fprintf(stderr,
		"usage: abuse_send MODE [options]   (every mode prints one JSON object)\n"
		"  flood --bind IP:PORT --to IP:PORT --seconds S [--count N] [--rate PPS]\n"
		"        [--size B] [--ssrc N]      RTP-v2-looking datagrams, --rate 0 = max\n"
		"  scan  --bind IP[:PORT] --to IP --port-min A --port-max B [--skip-port P]...\n"
		"        --count N --seconds S [--rate PPS]\n"
		"  ping  --bind IP --to IP --count N --seconds S [--rate PPS] [--wait S]\n"
		"  srtp  --bind IP:PORT --to IP:PORT --key-file F --count N --seconds S\n"
		"        [--ssrc FIRST] [--same-ssrc] [--rate PPS] [--size B]\n"
		"                                   one authentic packet per SSRC (a sweep)\n"
		"  count --bind IP:PORT --seconds S [--count N] [--ready-file F] [--stop-file F]\n");
	exit(2);
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "to", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 'z' },
		{ "ssrc", required_argument, NULL, 'S' },
		{ "same-ssrc", no_argument, NULL, 'M' },
		{ "port-min", required_argument, NULL, 'p' },
		{ "port-max", required_argument, NULL, 'P' },
		{ "skip-port", required_argument, NULL, 'k' },
		{ "key-file", required_argument, NULL, 'K' },
		{ "ready-file", required_argument, NULL, 'R' },
		{ "stop-file", required_argument, NULL, 'F' },
		{ "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool is_ping, is_scan;
	int c;

	if (argc < 2)
		usage();
	o->mode = argv[1];
	is_ping = strcmp(o->mode, "ping") == 0;
	is_scan = strcmp(o->mode, "scan") == 0;
	o->seconds = -1;
	o->count = MAX_PACKETS;
	o->size = 172;
	o->ssrc = 0x0d0e0f10;
	o->wait = 1.0;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (parse_ep(optarg, !(is_ping || is_scan), &o->bind) != 0)
				die("--bind: '%s' is not an IPv4 address[:port]", optarg);
			o->have_bind = true;
			break;
		case 't':
			if (parse_ep(optarg, !(is_ping || is_scan), &o->to) != 0)
				die("--to: '%s' is not an IPv4 address[:port]", optarg);
			o->have_to = true;
			break;
		case 's':
			o->seconds = parse_num("--seconds", optarg, 0.01, MAX_SECONDS);
			break;
		case 'r':
			o->rate = parse_num("--rate", optarg, 0, 1e8);
			break;
		case 'n':
			o->count = (uint64_t)parse_num("--count", optarg, 1, (double)MAX_PACKETS);
			break;
		case 'z':
			o->size = (unsigned int)parse_num("--size", optarg, DUET_RTP_HDR_LEN,
							  PAYLOAD_MAX);
			break;
		case 'S':
			o->ssrc = (uint32_t)parse_num("--ssrc", optarg, 0, 4294967295.0);
			break;
		case 'M':
			o->same_ssrc = true;
			break;
		case 'p':
			o->port_min = (unsigned int)parse_num("--port-min", optarg, 1, 65535);
			break;
		case 'P':
			o->port_max = (unsigned int)parse_num("--port-max", optarg, 1, 65535);
			break;
		case 'k':
			if (o->n_skip == SKIP_MAX)
				die("--skip-port: more than %s", "64");
			o->skip[o->n_skip++] = (unsigned int)parse_num("--skip-port", optarg, 1, 65535);
			break;
		case 'K':
			o->key_file = optarg;
			break;
		case 'R':
			o->ready_file = optarg;
			break;
		case 'F':
			o->stop_file = optarg;
			break;
		case 'w':
			o->wait = parse_num("--wait", optarg, 0, 60);
			break;
		default:
			usage();
		}
	}
	if (optind < argc)
		die("unexpected argument '%s'", argv[optind]);
	if (o->seconds < 0)
		die("%s: --seconds is required (every run is bounded)", o->mode);
	if (strcmp(o->mode, "count") != 0 && !o->have_to)
		die("%s: --to is required", o->mode);
	if (strcmp(o->mode, "count") == 0 && !o->have_bind)
		die("%s: --bind is required", o->mode);
	if (strcmp(o->mode, "srtp") == 0 && o->key_file == NULL)
		die("%s: --key-file is required", o->mode);
	if (is_scan && (o->port_min == 0 || o->port_max < o->port_min))
		die("%s: --port-min and --port-max (min <= max) are required", o->mode);
}

int
main(int argc, char **argv)
{
	struct opts o;

	memset(&o, 0, sizeof(o));
	parse_args(argc, argv, &o);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (strcmp(o.mode, "flood") == 0)
		return run_flood(&o);
	if (strcmp(o.mode, "scan") == 0)
		return run_scan(&o);
	if (strcmp(o.mode, "ping") == 0)
		return run_ping(&o);
	if (strcmp(o.mode, "srtp") == 0)
		return run_srtp(&o);
	if (strcmp(o.mode, "count") == 0)
		return run_count(&o);
	die("unknown mode '%s' (flood, scan, ping, srtp, count)", o.mode);
	return 2;
}
