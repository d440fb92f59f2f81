/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp_gen: the kernel-socket RTP generator of the peer benchmark
 * (benchmarks/peer/run.sh). It plays both clients of N calls through a
 * UDP media relay on the same host (rtpengine or fwd_plain, all on one
 * address IP: run.sh puts it on the loopback of a private network
 * namespace): client A of call i sends from IP:(client_base + 4i) to the
 * relay port A talks to,
 * client B from client_base + 4i + 2 to B's relay port, and each receives
 * what the other sent (ports 4 apart leave each client's RTCP port, +1,
 * free, as SDP implies). One thread, non-blocking sockets, sendmmsg and
 * recvmmsg, epoll for the answers.
 *
 *   1. latch: one packet from every A, then from every B, then from every A
 *      again, so relays that learn client addresses have learnt them all;
 *   2. run: RTP packets at --rate packets/s (0: as fast as it can) for
 *      --seconds, round robin over the 2N clients, --batch packets per
 *      client per sendmmsg call; answers are counted, and their round trip
 *      (CLOCK_MONOTONIC stamp in the payload) goes into a histogram;
 *   3. drain: receive until the relay has been quiet for 50 ms.
 *
 * Output: one `key=value` line on stdout: sent, rx, lost, secs, the offered
 * and received rates, latency percentiles, its own CPU time (whole run,
 * socket setup and latch included). Progress on stderr.
 *
 * usage: udp_gen --ip IP --targets FILE --client-base PORT [--rate PPS]
 *                [--seconds S] [--payload N] [--batch K] [--timeout S]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CALLS 30000
#define MAX_BATCH 64
#define RX_BATCH 64
#define MAX_PAYLOAD 1400
#define MIN_PAYLOAD 32
#define GEN_MAGIC 0x55445047u /* "UDPG" */
#define HIST_NS 1000	      /* 1 us bins */
#define HIST_BINS 100000      /* up to 100 ms */
#define RTP_TS_STEP 960

/* Payload: RTP header (12), magic (4), client index (4), send time ns (8),
 * phase (4), pattern. */
#define OFF_SEQ 2
#define OFF_TS 4
#define OFF_SSRC 8
#define OFF_MAGIC 12
#define OFF_CLIENT 16
#define OFF_TIME 20
#define OFF_PHASE 28

struct client {
	int fd;
	struct sockaddr_in to; /**< relay port this client sends to */
	uint16_t seq;
	uint32_t ts;
};

static struct {
	struct in_addr ip;
	const char *targets;
	unsigned int client_base;
	double rate;
	double seconds;
	unsigned int payload;
	unsigned int batch;
	unsigned int timeout_s;
} opt = { { 0 }, NULL, 0, 0.0, 2.0, 172, 4, 60 };

static struct client *clients;
static unsigned int n_clients;
static uint32_t *hist;
static uint64_t hist_over;
static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: udp_gen --ip IP --targets FILE --client-base PORT [options]\n"
		"  --ip IP             the IPv4 address of the clients and the relay\n"
		"  --targets FILE      one call per line: 'A_RELAY_PORT B_RELAY_PORT' on IP\n"
		"  --client-base PORT  client A of call i binds PORT+4i, client B PORT+4i+2\n"
		"  --rate PPS          total packets per second, both directions (0: max)\n"
		"  --seconds S         length of the run (2)\n"
		"  --payload N         UDP payload bytes, RTP header included (172)\n"
		"  --batch K           packets per client per sendmmsg (4, 1..%d)\n"
		"  --timeout S         give up after S seconds (60)\n",
		MAX_BATCH);
}

static int
num(const char *name, const char *s, double min, double max, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(*out >= min && *out <= max)) {
		fprintf(stderr, "udp_gen: %s: '%s' is not a number in %g..%g\n", name, s, min, max);
		return -EINVAL;
	}
	return 0;
}

static int
parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "targets", required_argument, NULL, 't' },
		{ "client-base", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "payload", required_argument, NULL, 'p' },
		{ "batch", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (inet_pton(AF_INET, optarg, &opt.ip) != 1 || opt.ip.s_addr == 0) {
				fprintf(stderr, "udp_gen: --ip: '%s' is not an IPv4 address\n", optarg);
				return -EINVAL;
			}
			break;
		case 't':
			opt.targets = optarg;
			break;
		case 'c':
			if (num("--client-base", optarg, 1024, 65535, &v) != 0)
				return -EINVAL;
			opt.client_base = (unsigned int)v;
			break;
		case 'r':
			if (num("--rate", optarg, 0, 1e9, &opt.rate) != 0)
				return -EINVAL;
			break;
		case 's':
			if (num("--seconds", optarg, 0.01, 3600, &opt.seconds) != 0)
				return -EINVAL;
			break;
		case 'p':
			if (num("--payload", optarg, MIN_PAYLOAD, MAX_PAYLOAD, &v) != 0)
				return -EINVAL;
			opt.payload = (unsigned int)v;
			break;
		case 'b':
			if (num("--batch", optarg, 1, MAX_BATCH, &v) != 0)
				return -EINVAL;
			opt.batch = (unsigned int)v;
			break;
		case 'o':
			if (num("--timeout", optarg, 1, 86400, &v) != 0)
				return -EINVAL;
			opt.timeout_s = (unsigned int)v;
			break;
		case 'h':
			usage();
			exit(0);
		default:
			usage();
			return -EINVAL;
		}
	}
	if (optind < argc || opt.targets == NULL || opt.client_base == 0 || opt.ip.s_addr == 0) {
		usage();
		return -EINVAL;
	}
	return 0;
}

static int
client_open(struct client *cl, unsigned int port, unsigned int to_port, int ep)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLIN };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_addr = opt.ip;
	a.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int err = -errno;

		fprintf(stderr, "udp_gen: bind %s:%u: %s\n", inet_ntoa(opt.ip), port,
			strerror(errno));
		close(fd);
		return err;
	}
	cl->fd = fd;
	cl->to.sin_family = AF_INET;
	cl->to.sin_addr = opt.ip;
	cl->to.sin_port = htons((uint16_t)to_port);
	ev.data.u32 = (uint32_t)(cl - clients);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		return -errno;
	return 0;
}

static int
load_targets(int ep)
{
	FILE *fp = fopen(opt.targets, "r");
	unsigned int a, b, n = 0, line = 0;
	char buf[128];

	if (fp == NULL) {
		fprintf(stderr, "udp_gen: cannot read %s: %s\n", opt.targets, strerror(errno));
		return -errno;
	}
	clients = calloc(2 * MAX_CALLS, sizeof(*clients));
	if (clients == NULL) {
		fclose(fp);
		return -ENOMEM;
	}
	while (fgets(buf, sizeof(buf), fp) != NULL) {
		line++;
		if (buf[0] == '#' || buf[0] == '\n')
			continue;
		if (sscanf(buf, "%u %u", &a, &b) != 2 || a == 0 || a > 65535 || b == 0 ||
		    b > 65535 || n >= MAX_CALLS) {
			fprintf(stderr, "udp_gen: %s line %u: expected 'A_PORT B_PORT'\n",
				opt.targets, line);
			fclose(fp);
			return -EINVAL;
		}
		if (opt.client_base + 4 * n + 2 > 65535) {
			fprintf(stderr, "udp_gen: too many calls for client base %u\n",
				opt.client_base);
			fclose(fp);
			return -EINVAL;
		}
		if (client_open(&clients[2 * n], opt.client_base + 4 * n, a, ep) != 0 ||
		    client_open(&clients[2 * n + 1], opt.client_base + 4 * n + 2, b, ep) != 0) {
			fclose(fp);
			return -EIO;
		}
		clients[2 * n].seq = (uint16_t)(n * 31);
		clients[2 * n + 1].seq = (uint16_t)(n * 37);
		n++;
	}
	fclose(fp);
	n_clients = 2 * n;
	return n == 0 ? -EINVAL : 0;
}

/* Send k packets from client c, stamped t, in phase `phase`. */
static unsigned int
client_send(struct client *cl, unsigned int c, unsigned int k, uint64_t t, uint32_t phase)
{
	static uint8_t buf[MAX_BATCH][MAX_PAYLOAD];
	struct mmsghdr mm[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
	unsigned int i;
	int sent;

	for (i = 0; i < k; i++) {
		uint8_t *p = buf[i];
		uint16_t seq = htons(cl->seq++);
		uint32_t ts = htonl(cl->ts), v;

		cl->ts += RTP_TS_STEP;
		p[0] = 0x80;
		p[1] = 111;
		memcpy(p + OFF_SEQ, &seq, 2);
		memcpy(p + OFF_TS, &ts, 4);
		v = htonl(0x7000 + c);
		memcpy(p + OFF_SSRC, &v, 4);
		v = htonl(GEN_MAGIC);
		memcpy(p + OFF_MAGIC, &v, 4);
		memcpy(p + OFF_CLIENT, &c, 4);
		memcpy(p + OFF_TIME, &t, 8);
		memcpy(p + OFF_PHASE, &phase, 4);
		iov[i].iov_base = p;
		iov[i].iov_len = opt.payload;
		memset(&mm[i], 0, sizeof(mm[i]));
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &cl->to;
		mm[i].msg_hdr.msg_namelen = sizeof(cl->to);
	}
	sent = sendmmsg(cl->fd, mm, k, MSG_DONTWAIT);
	return sent > 0 ? (unsigned int)sent : 0;
}

struct counts {
	uint64_t rx;	/**< answers of the current phase */
	uint64_t other; /**< answers of another phase or not ours */
};

/* Receive whatever is waiting on every ready socket. */
static unsigned int
rx_poll(int ep, int wait_ms, uint32_t phase, struct counts *cnt, bool latency)
{
	static uint8_t buf[RX_BATCH][MAX_PAYLOAD];
	struct epoll_event ev[256];
	struct mmsghdr mm[RX_BATCH];
	struct iovec iov[RX_BATCH];
	unsigned int total = 0;
	int n, e, i;

	n = epoll_wait(ep, ev, 256, wait_ms);
	for (e = 0; e < n; e++) {
		int fd = clients[ev[e].data.u32].fd, got;
		uint64_t now;

		for (i = 0; i < RX_BATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = MAX_PAYLOAD;
			memset(&mm[i], 0, sizeof(mm[i]));
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		got = recvmmsg(fd, mm, RX_BATCH, MSG_DONTWAIT, NULL);
		if (got <= 0)
			continue;
		now = now_ns();
		for (i = 0; i < got; i++) {
			uint32_t magic, ph;
			uint64_t t;

			memcpy(&magic, buf[i] + OFF_MAGIC, 4);
			memcpy(&ph, buf[i] + OFF_PHASE, 4);
			if (mm[i].msg_len != opt.payload || magic != htonl(GEN_MAGIC) || ph != phase) {
				cnt->other++;
				continue;
			}
			cnt->rx++;
			if (latency) {
				memcpy(&t, buf[i] + OFF_TIME, 8);
				if ((now - t) / HIST_NS < HIST_BINS)
					hist[(now - t) / HIST_NS]++;
				else
					hist_over++;
			}
		}
		total += (unsigned int)got;
	}
	return total;
}

static void
drain(int ep, uint32_t phase, struct counts *cnt, bool latency, unsigned int quiet_ms)
{
	uint64_t last = now_ns();

	while (!quit && now_ns() - last < (uint64_t)quiet_ms * 1000000u)
		if (rx_poll(ep, 5, phase, cnt, latency) != 0)
			last = now_ns();
}

static double
hist_pct(uint64_t total, double p)
{
	uint64_t want = (uint64_t)ceil(p * (double)total), acc = 0;
	unsigned int b;

	if (want == 0)
		want = 1;
	for (b = 0; b < HIST_BINS; b++) {
		acc += hist[b];
		if (acc >= want)
			return (b + 0.5) * HIST_NS / 1000.0;
	}
	return INFINITY;
}

/* One packet from each client of one side (0: A, 1: B) or both (2). */
static void
latch_round(int ep, int side, uint32_t phase, struct counts *cnt)
{
	unsigned int c;

	for (c = 0; c < n_clients && !quit; c++) {
		if (side != 2 && (int)(c & 1) != side)
			continue;
		client_send(&clients[c], c, 1, now_ns(), phase);
		if ((c & 63) == 63)
			rx_poll(ep, 0, phase, cnt, false);
	}
	drain(ep, phase, cnt, false, 50);
}

int
main(int argc, char **argv)
{
	struct counts cnt = { 0, 0 }, lc = { 0, 0 };
	uint64_t start, now, end, sent = 0, due;
	unsigned int next = 0;
	struct rlimit rl;
	struct rusage ru;
	double secs, cpu;
	int ep;

	if (parse_args(argc, argv) != 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGALRM, on_signal);
	alarm(opt.timeout_s);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	hist = calloc(HIST_BINS, sizeof(*hist));
	ep = epoll_create1(0);
	if (hist == NULL || ep < 0 || load_targets(ep) != 0)
		return 1;

	/* Phases 1-3 latch; the run is phase 4. */
	latch_round(ep, 0, 1, &lc);
	latch_round(ep, 1, 2, &lc);
	lc.rx = 0;
	latch_round(ep, 2, 3, &lc);
	fprintf(stderr, "udp_gen: %u calls, latch round: %" PRIu64 " of %u answered\n",
		n_clients / 2, lc.rx, n_clients);

	start = now_ns();
	end = start + (uint64_t)(opt.seconds * 1e9);
	while ((now = now_ns()) < end && !quit) {
		unsigned int burst = 0;

		due = opt.rate > 0 ? (uint64_t)((double)(now - start) * opt.rate / 1e9) : UINT64_MAX;
		/* At most 256 packets before looking at the answers again. */
		while (sent < due && burst < 256) {
			unsigned int k = opt.batch, got;

			if (due - sent < k)
				k = (unsigned int)(due - sent);
			got = client_send(&clients[next], next, k, now, 4);
			/* A full socket buffer (EAGAIN) counts the packets as sent and
			 * lost: they were offered. */
			sent += k;
			burst += k;
			(void)got;
			if (++next == n_clients)
				next = 0;
		}
		rx_poll(ep, 0, 4, &cnt, true);
	}
	secs = (double)(now_ns() - start) / 1e9;
	drain(ep, 4, &cnt, true, 50);
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("result calls=%u sent=%" PRIu64 " rx=%" PRIu64 " lost=%" PRIu64 " other=%" PRIu64
	       " secs=%.4f offered_pps=%.0f rx_pps=%.0f latch_ok=%" PRIu64 " p50_us=%.1f"
	       " p99_us=%.1f p999_us=%.1f gen_cpu_s=%.3f\n",
	       n_clients / 2, sent, cnt.rx, sent > cnt.rx ? sent - cnt.rx : 0, cnt.other, secs,
	       (double)sent / secs, (double)cnt.rx / secs, lc.rx, hist_pct(cnt.rx, 0.5),
	       hist_pct(cnt.rx, 0.99), hist_pct(cnt.rx, 0.999), cpu);
	return quit ? 1 : 0;
}
