/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet-caller's sockets and per-leg sessions, set up and torn down by the
 * main thread while no worker runs. A leg's socket is made and bound inside
 * that leg's network namespace when one is given (setns(2) into
 * /var/run/netns/NAME, socket + bind, setns back: a socket keeps its
 * namespace for life), so the two legs of a call can sit in different
 * namespaces and still share this process's clock. A socket has
 * its leg's family: AF_INET, or AF_INET6 with IPV6_V6ONLY so it never
 * speaks IPv4 through a mapped address (the legs of one call may differ: a
 * bridged call). Each socket is then connected to the leg's relay endpoint
 * (with --direct: the other leg's bound address), so the kernel drops
 * datagrams from any other address or port, IPv4 and IPv6 alike.
 * Sessions: the leg's two libsrtp2 sessions (protect with its out key,
 * unprotect with its in key; the keys are wiped right after), two more for
 * the second keys of a mid-call rotation when given, and, for decoded
 * calls, its two Opus decoders.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "caller.h"
#include "duet_srtp.h"

#define SOCK_BUF_BYTES (1 << 20)

/* Enter the namespace of a leg; *home keeps this thread's own. */
static int
enter_netns(const char *name, char leg, int *home)
{
	char path[300];
	int fd;

	if (*home < 0) {
		*home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (*home < 0)
			return caller_fail("--%c-netns %s: cannot open /proc/self/ns/net: %s", leg,
					   name, strerror(errno));
	}
	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return caller_fail("--%c-netns %s: cannot open %s: %s", leg, name, path,
				   strerror(errno));
	if (setns(fd, CLONE_NEWNET) != 0) {
		int e = errno;

		close(fd);
		return caller_fail("--%c-netns %s: setns: %s%s", leg, name, strerror(e),
				   e == EPERM ? " (needs root or CAP_SYS_ADMIN)" : "");
	}
	close(fd);
	return 0;
}

static int
leave_netns(int home)
{
	if (setns(home, CLONE_NEWNET) != 0)
		return caller_fail("cannot return to the original network namespace: %s",
				   strerror(errno));
	return 0;
}

/* Make and bind one leg's socket. */
static int
open_leg(struct caller_leg *l)
{
	char where[CALLER_ADDR_STRLEN];
	int one = SOCK_BUF_BYTES, v6only = 1;

	l->fd = socket(l->bind.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		return caller_fail("leg %c of call %u: socket: %s", 'a' + l->id, l->call->index,
				   strerror(errno));
	if (l->bind.ss_family == AF_INET6 &&
	    setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) != 0)
		return caller_fail("leg %c of call %u: IPV6_V6ONLY: %s", 'a' + l->id,
				   l->call->index, strerror(errno));
	/* Best effort: room for a burst at --rate max. */
	setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
	setsockopt(l->fd, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
	if (bind(l->fd, (const struct sockaddr *)&l->bind, l->bind_len) != 0) {
		caller_format_addr(&l->bind, where, sizeof(where));
		return caller_fail("--%c-bind: cannot bind %s (call %u): %s", 'a' + l->id, where,
				   l->call->index, strerror(errno));
	}
	l->bind_len = sizeof(l->bind);
	if (getsockname(l->fd, (struct sockaddr *)&l->bind, &l->bind_len) != 0)
		return caller_fail("leg %c of call %u: getsockname: %s", 'a' + l->id,
				   l->call->index, strerror(errno));
	return 0;
}

int
caller_net_open(struct caller *c)
{
	int home = -1, rc = 0;
	uint32_t i;
	int leg;

	for (leg = 0; leg < 2 && rc == 0; leg++) {
		if (!c->o.leg_on[leg])
			continue;
		if (c->o.netns[leg] != NULL &&
		    (rc = enter_netns(c->o.netns[leg], (char)('a' + leg), &home)) != 0)
			break;
		for (i = 0; i < c->o.calls && rc == 0; i++)
			rc = open_leg(&c->calls[i].leg[leg]);
		if (c->o.netns[leg] != NULL && leave_netns(home) != 0)
			rc = CALLER_EXIT_FAIL;
	}
	if (home >= 0)
		close(home);
	for (i = 0; i < c->o.calls && rc == 0; i++) {
		struct caller_call *call = &c->calls[i];

		for (leg = 0; leg < 2 && rc == 0; leg++) {
			struct caller_leg *l = &call->leg[leg];
			char where[CALLER_ADDR_STRLEN];

			if (!l->local)
				continue;
			if (c->o.direct) {
				l->relay = call->leg[!leg].bind;
				l->relay_len = call->leg[!leg].bind_len;
			}
			if (connect(l->fd, (const struct sockaddr *)&l->relay, l->relay_len) == 0)
				continue;
			caller_format_addr(&l->relay, where, sizeof(where));
			if (c->o.direct)
				rc = caller_fail("--direct: leg %c cannot reach %s: %s", 'a' + leg,
						 where, strerror(errno));
			else
				rc = caller_fail("--%c-relay: %s unreachable (call %u): %s", 'a' + leg,
						 where, i, strerror(errno));
		}
	}
	return rc;
}

int
caller_sessions_open(struct caller *c)
{
	uint32_t i;
	int leg, err, rc = 0;

	for (i = 0; i < c->o.calls && rc == 0; i++) {
		for (leg = 0; leg < 2 && rc == 0; leg++) {
			struct caller_leg *l = &c->calls[i].leg[leg];

			if (!l->local)
				continue;
			if (duet_srtp_session_new(&l->key_out, DUET_SRTP_OUTBOUND, &l->tx) != 0 ||
			    duet_srtp_session_new(&l->key_in, DUET_SRTP_INBOUND, &l->rx) != 0 ||
			    (l->key_out2.key_len != 0 &&
			     duet_srtp_session_new(&l->key_out2, DUET_SRTP_OUTBOUND, &l->tx2) != 0) ||
			    (l->key_in2.key_len != 0 &&
			     duet_srtp_session_new(&l->key_in2, DUET_SRTP_INBOUND, &l->rx2) != 0))
				rc = caller_fail("leg %c of call %u: libsrtp2 refused the key", 'a' + leg,
						 i);
			duet_sdes_wipe(&l->key_out);
			duet_sdes_wipe(&l->key_in);
			duet_sdes_wipe(&l->key_out2);
			duet_sdes_wipe(&l->key_in2);
			if (rc != 0 || !l->decode)
				continue;
			l->dec = opus_decoder_create(CALLER_CLOCK, 1, &err);
			if (l->dec != NULL)
				l->ref = opus_decoder_create(CALLER_CLOCK, 1, &err);
			if (l->dec == NULL || l->ref == NULL)
				rc = caller_fail("leg %c of call %u: opus_decoder_create: %s", 'a' + leg,
						 i, opus_strerror(err));
		}
	}
	return rc;
}

void
caller_net_close(struct caller *c)
{
	uint32_t i;
	int leg;

	if (c->calls == NULL)
		return;
	for (i = 0; i < c->o.calls; i++) {
		for (leg = 0; leg < 2; leg++) {
			struct caller_leg *l = &c->calls[i].leg[leg];

			if (l->fd >= 0)
				close(l->fd);
			l->fd = -1;
			duet_srtp_session_free(l->tx);
			duet_srtp_session_free(l->rx);
			duet_srtp_session_free(l->tx2);
			duet_srtp_session_free(l->rx2);
			l->tx = l->rx = l->tx2 = l->rx2 = NULL;
			if (l->dec != NULL)
				opus_decoder_destroy(l->dec);
			if (l->ref != NULL)
				opus_decoder_destroy(l->ref);
			l->dec = l->ref = NULL;
			free(l->sent_at);
			l->sent_at = NULL;
			duet_sdes_wipe(&l->key_out);
			duet_sdes_wipe(&l->key_in);
			duet_sdes_wipe(&l->key_out2);
			duet_sdes_wipe(&l->key_in2);
		}
	}
}
