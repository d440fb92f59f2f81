/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fwd_plain: the kernel-socket ceiling of the peer benchmark
 * (benchmarks/peer/run.sh). The least a UDP media relay on kernel sockets
 * can do: N calls, each two UDP sockets (leg a on port_base + 2i, leg b on
 * port_base + 2i + 1), each leg latched to the first source that sends to
 * it, and every datagram read on one leg sent from the other leg to that
 * leg's client. No RTP parsing, no statistics, no timers: one thread,
 * epoll, recvmmsg and sendmmsg, batches of up to 64. Whatever rtpengine
 * (or any socket relay) spends beyond this is its own work.
 *
 * It runs until SIGTERM/SIGINT or --timeout, then prints its counters on
 * stdout as one `key=value` line.
 *
 * usage: fwd_plain --calls N --port-base PORT --bind IP [--timeout S]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
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
#include <unistd.h>

#define BATCH 64
#define MAX_LEGS 60000
#define BUF_SIZE 2048

struct leg {
	int fd;
	bool latched;		  /**< client is known */
	struct sockaddr_in client; /**< where this leg's client sends from */
};

static struct {
	unsigned int calls;
	unsigned int port_base;
	const char *bind_ip;
	unsigned int timeout_s;
} opt = { 0, 0, NULL, 3600 };

static struct leg *legs;
static volatile sig_atomic_t quit;
static uint64_t rx_pkts, fwd_pkts, drop_unlatched, drop_send;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static int
parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "calls", required_argument, NULL, 'n' },
		{ "port-base", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	unsigned long v;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'b') {
			opt.bind_ip = optarg;
			continue;
		}
		if (c != 'n' && c != 'p' && c != 't')
			return -EINVAL;
		errno = 0;
		v = strtoul(optarg, &end, 10);
		if (errno != 0 || *end != '\0' || optarg[0] == '-' || v == 0 || v > 65535) {
			fprintf(stderr, "fwd_plain: '%s' is not a number in 1..65535\n", optarg);
			return -EINVAL;
		}
		if (c == 'n')
			opt.calls = (unsigned int)v;
		else if (c == 'p')
			opt.port_base = (unsigned int)v;
		else
			opt.timeout_s = (unsigned int)v;
	}
	if (optind < argc || opt.calls == 0 || opt.port_base == 0 || opt.bind_ip == NULL ||
	    2 * opt.calls > MAX_LEGS ||
	    opt.port_base + 2 * opt.calls - 1 > 65535) {
		fprintf(stderr, "usage: fwd_plain --calls N --port-base PORT --bind IP [--timeout S]\n"
				"  2N ports from PORT on, below 65536\n");
		return -EINVAL;
	}
	return 0;
}

static int
legs_open(int ep)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	unsigned int i;

	if (inet_pton(AF_INET, opt.bind_ip, &a.sin_addr) != 1) {
		fprintf(stderr, "fwd_plain: --bind: '%s' is not an IPv4 address\n", opt.bind_ip);
		return -EINVAL;
	}
	legs = calloc(2 * opt.calls, sizeof(*legs));
	if (legs == NULL)
		return -ENOMEM;
	for (i = 0; i < 2 * opt.calls; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

		if (fd < 0)
			return -errno;
		a.sin_port = htons((uint16_t)(opt.port_base + i));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
			fprintf(stderr, "fwd_plain: bind %s:%u: %s\n", opt.bind_ip,
				opt.port_base + i, strerror(errno));
			return -errno;
		}
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			return -errno;
		legs[i].fd = fd;
	}
	return 0;
}

/* Everything waiting on leg i goes out of its peer leg, to the peer's client. */
static void
leg_forward(unsigned int i)
{
	static uint8_t buf[BATCH][BUF_SIZE];
	struct sockaddr_in from[BATCH];
	struct mmsghdr in[BATCH], out[BATCH];
	struct iovec iov[BATCH], oiov[BATCH];
	struct leg *leg = &legs[i], *peer = &legs[i ^ 1];
	int got, k, n_out = 0, sent;

	for (k = 0; k < BATCH; k++) {
		iov[k].iov_base = buf[k];
		iov[k].iov_len = BUF_SIZE;
		memset(&in[k].msg_hdr, 0, sizeof(in[k].msg_hdr));
		in[k].msg_hdr.msg_iov = &iov[k];
		in[k].msg_hdr.msg_iovlen = 1;
		in[k].msg_hdr.msg_name = &from[k];
		in[k].msg_hdr.msg_namelen = sizeof(from[k]);
	}
	got = recvmmsg(leg->fd, in, BATCH, MSG_DONTWAIT, NULL);
	if (got <= 0)
		return;
	rx_pkts += (uint64_t)got;
	/* Latch on the first packet; later sources move the leg only if the
	 * leg never latched (the plain minimum: no re-latch timer). */
	if (!leg->latched) {
		leg->client = from[0];
		leg->latched = true;
	}
	if (!peer->latched) {
		drop_unlatched += (uint64_t)got;
		return;
	}
	for (k = 0; k < got; k++) {
		oiov[n_out].iov_base = buf[k];
		oiov[n_out].iov_len = in[k].msg_len;
		memset(&out[n_out].msg_hdr, 0, sizeof(out[n_out].msg_hdr));
		out[n_out].msg_hdr.msg_iov = &oiov[n_out];
		out[n_out].msg_hdr.msg_iovlen = 1;
		out[n_out].msg_hdr.msg_name = &peer->client;
		out[n_out].msg_hdr.msg_namelen = sizeof(peer->client);
		n_out++;
	}
	sent = sendmmsg(peer->fd, out, (unsigned int)n_out, MSG_DONTWAIT);
	if (sent < 0)
		sent = 0;
	fwd_pkts += (uint64_t)sent;
	drop_send += (uint64_t)(n_out - sent);
}

int
main(int argc, char **argv)
{
	struct epoll_event ev[256];
	struct rlimit rl;
	int ep, n, e;

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
	ep = epoll_create1(0);
	if (ep < 0 || legs_open(ep) != 0)
		return 1;
	fprintf(stderr, "fwd_plain: %u calls on %s:%u..%u\n", opt.calls, opt.bind_ip,
		opt.port_base, opt.port_base + 2 * opt.calls - 1);
	while (!quit) {
		n = epoll_wait(ep, ev, 256, 100);
		for (e = 0; e < n; e++)
			leg_forward(ev[e].data.u32);
	}
	printf("result rx=%" PRIu64 " fwd=%" PRIu64 " drop_unlatched=%" PRIu64
	       " drop_send=%" PRIu64 "\n",
	       rx_pkts, fwd_pkts, drop_unlatched, drop_send);
	return 0;
}
