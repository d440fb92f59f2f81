/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet-caller's event loop: one per worker thread (--threads), each over a
 * contiguous range of calls, with one epoll set for their sockets and a
 * timerfd for pacing. Realtime: call i's legs send frame F at
 * start + F * 20 ms + i * 20 ms / calls (calls spread evenly over the
 * frame), DTX frames send nothing, RTCP goes out every --rtcp-interval-ms
 * on a per-call phase. Max: every leg sends whenever fewer than --window of
 * its packets are in flight (a window stuck for 200 ms is written off as
 * lost). Every loop is bounded: sending stops at --duration or --packets,
 * the drain that follows at --drain-ms, everything at --timeout, and
 * SIGINT/SIGTERM stop it within 100 ms.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "caller.h"

#define SLACK_NS 250000ULL	    /* send a realtime frame up to this early */
#define MAX_WAIT_NS 100000000ULL    /* wake at least this often (signals) */
#define STALL_NS 200000000ULL	    /* max mode: a full window this long is lost */
#define SEND_BATCH 512		    /* sends between two looks at the sockets */
#define MAX_BURST 8		    /* max mode: packets per leg per round */
#define EVENTS 256

/* The send time of frame `frame` of a call (realtime). */
static uint64_t
due_ns(const struct caller *c, uint64_t frame, uint32_t call)
{
	return c->start_ns + frame * CALLER_FRAME_NS + (uint64_t)call * CALLER_FRAME_NS / c->o.calls;
}

/* A leg stops sending: final RTCP with BYE. */
static void
finish_leg(struct caller_worker *w, struct caller_leg *l, uint64_t now, uint32_t *active)
{
	const struct caller_opts *o = &w->c->o;

	if (l->done)
		return;
	l->done = true;
	(*active)--;
	if ((o->rate == CALLER_RATE_REALTIME && o->rtcp_interval_ms != 0) ||
	    (o->rate == CALLER_RATE_MAX && o->rtcp_every != 0))
		caller_send_rtcp(w, l, now, true);
}

/* Max mode: may this leg send one more packet now? */
static bool
window_open(const struct caller_opts *o, struct caller_leg *l, uint64_t now)
{
	uint64_t base;

	if (l->peer == NULL)
		return true; /* no feedback from another process: bursts only */
	base = l->peer->rx_high > l->credit_base ? l->peer->rx_high : l->credit_base;
	if (l->next_pkt - base < o->window) {
		l->stall_ns = 0;
		return true;
	}
	if (l->stall_ns == 0) {
		l->stall_ns = now;
	} else if (now - l->stall_ns > STALL_NS) {
		l->credit_base = l->next_pkt;
		l->stall_ns = 0;
		return true;
	}
	return false;
}

/* Realtime: send every frame that is due. Returns true if it stopped
 * early (more frames are due). */
static bool
send_due_frames(struct caller_worker *w, uint64_t *frame, uint32_t *ci, uint64_t now,
		uint32_t *active)
{
	struct caller *c = w->c;
	const struct caller_opts *o = &c->o;
	uint64_t dur_frames = o->duration_ms != 0 ? o->duration_ms / 20 : UINT64_MAX;
	uint64_t rtcp_frames = o->rtcp_interval_ms != 0 ? (o->rtcp_interval_ms + 19) / 20 : 0;
	unsigned int sent = 0;

	while (*active > 0) {
		struct caller_call *call = &c->calls[w->first + *ci];
		uint64_t due = due_ns(c, *frame, call->index);
		int leg;

		if (due > now + SLACK_NS)
			return false;
		if (sent >= SEND_BATCH)
			return true;
		for (leg = 0; leg < 2; leg++) {
			struct caller_leg *l = &call->leg[leg];
			int r;

			if (!l->local || l->done)
				continue;
			if (*frame >= dur_frames) {
				finish_leg(w, l, now, active);
				continue;
			}
			r = caller_track_frame(l->track, *frame);
			if (r > 0) {
				caller_send_packet(w, l, now, due);
				sent++;
			}
			if (rtcp_frames != 0 && *frame % rtcp_frames == call->index % rtcp_frames)
				caller_send_rtcp(w, l, now, false);
			if (r < 0 || (o->packets != 0 && l->next_pkt >= o->packets))
				finish_leg(w, l, now, active);
		}
		if (++*ci == w->count) {
			*ci = 0;
			(*frame)++;
		}
	}
	return false;
}

/* Max mode: one round over the worker's legs. Returns true if anything
 * was sent (so the loop should not sleep). */
static bool
send_round(struct caller_worker *w, uint64_t now, uint32_t *active)
{
	struct caller *c = w->c;
	const struct caller_opts *o = &c->o;
	uint64_t until = o->duration_ms != 0 ? c->start_ns + o->duration_ms * 1000000ULL : UINT64_MAX;
	bool any = false;
	uint32_t i;
	int leg;

	for (i = 0; i < w->count; i++) {
		struct caller_call *call = &c->calls[w->first + i];

		for (leg = 0; leg < 2; leg++) {
			struct caller_leg *l = &call->leg[leg];
			int burst;

			if (!l->local || l->done)
				continue;
			if (now >= until) {
				finish_leg(w, l, now, active);
				continue;
			}
			for (burst = 0; burst < MAX_BURST && window_open(o, l, now); burst++) {
				int r = caller_send_packet(w, l, now, 0);

				if (r == -EAGAIN)
					break;
				any = true;
				if (r == -ENODATA || (o->packets != 0 && l->next_pkt >= o->packets)) {
					finish_leg(w, l, now, active);
					break;
				}
			}
		}
	}
	return any;
}

static bool
all_received(const struct caller_worker *w)
{
	uint32_t i;
	int leg;

	for (i = 0; i < w->count; i++)
		for (leg = 0; leg < 2; leg++)
			if (!caller_leg_rx_complete(&w->c->calls[w->first + i].leg[leg]))
				return false;
	return true;
}

static void
arm_timer(int tfd, uint64_t at_ns)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(at_ns / 1000000000ULL);
	its.it_value.tv_nsec = (long)(at_ns % 1000000000ULL);
	if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1;
	timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static int
worker_loop(struct caller_worker *w)
{
	struct caller *c = w->c;
	const struct caller_opts *o = &c->o;
	uint64_t hard = c->start_ns + o->timeout_ms * 1000000ULL, drain_end = 0, frame = 0, now;
	struct epoll_event ev[EVENTS];
	uint32_t active = 0, ci = 0, i;
	int leg, n, k;

	for (i = 0; i < w->count; i++)
		for (leg = 0; leg < 2; leg++)
			active += c->calls[w->first + i].leg[leg].local;
	for (;;) {
		bool more = false;
		uint64_t wake;

		now = caller_now_ns();
		if (caller_stop)
			break;
		if (now >= hard) {
			w->timed_out = true;
			break;
		}
		if (active > 0 && now >= c->start_ns) {
			if (o->rate == CALLER_RATE_REALTIME)
				more = send_due_frames(w, &frame, &ci, now, &active);
			else
				more = send_round(w, now, &active);
		}
		if (active == 0 && drain_end == 0) {
			w->send_end_ns = now;
			drain_end = now + o->drain_ms * 1000000ULL;
		}
		if (drain_end != 0 && (now >= drain_end || all_received(w)))
			break;
		wake = hard;
		if (now + MAX_WAIT_NS < wake)
			wake = now + MAX_WAIT_NS;
		if (drain_end != 0 && drain_end < wake)
			wake = drain_end;
		if (active > 0 && now < c->start_ns)
			wake = c->start_ns;
		else if (active > 0 && o->rate == CALLER_RATE_REALTIME) {
			uint64_t due = due_ns(c, frame, c->calls[w->first + ci].index);

			due = due > SLACK_NS ? due - SLACK_NS : 0;
			if (due < wake)
				wake = due;
		} else if (active > 0 && now + 1000000ULL < wake) {
			wake = now + 1000000ULL; /* max mode: look at stalled windows */
		}
		if (!more)
			arm_timer(w->tfd, wake);
		n = epoll_wait(w->epfd, ev, EVENTS, more ? 0 : -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(w->errstr, sizeof(w->errstr), "epoll_wait: %s", strerror(errno));
			return -errno;
		}
		for (k = 0; k < n; k++) {
			if (ev[k].data.ptr == NULL) {
				uint64_t ticks;

				if (read(w->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					return -errno;
				continue;
			}
			caller_receive(w, ev[k].data.ptr);
		}
	}
	/* Stopped by a signal or the timeout: the legs still sending say BYE. */
	for (i = 0; i < w->count; i++)
		for (leg = 0; leg < 2; leg++) {
			struct caller_leg *l = &c->calls[w->first + i].leg[leg];

			if (l->local && !l->done)
				finish_leg(w, l, now, &active);
		}
	if (w->send_end_ns == 0)
		w->send_end_ns = now;
	return 0;
}

static int
worker_setup(struct caller_worker *w)
{
	struct epoll_event ev;
	uint32_t i;
	int leg;

	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	w->hist = calloc(2, sizeof(*w->hist));
	if (w->epfd < 0 || w->tfd < 0 || w->hist == NULL)
		return caller_fail("worker setup: %s", strerror(w->hist == NULL ? ENOMEM : errno));
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->tfd, &ev) != 0)
		return caller_fail("epoll_ctl: %s", strerror(errno));
	for (i = 0; i < w->count; i++) {
		for (leg = 0; leg < 2; leg++) {
			struct caller_leg *l = &w->c->calls[w->first + i].leg[leg];

			if (!l->local)
				continue;
			ev.events = EPOLLIN;
			ev.data.ptr = l;
			if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, l->fd, &ev) != 0)
				return caller_fail("epoll_ctl: %s", strerror(errno));
		}
	}
	return 0;
}

static void *
worker_main(void *arg)
{
	struct caller_worker *w = arg;

	w->err = worker_loop(w);
	return NULL;
}

int
caller_run(struct caller *c)
{
	uint32_t i, per, extra, first = 0;
	sigset_t all, old;
	int rc = 0;

	c->n_workers = c->o.threads;
	c->workers = calloc(c->n_workers, sizeof(*c->workers));
	if (c->workers == NULL)
		return caller_fail("out of memory");
	per = c->o.calls / c->n_workers;
	extra = c->o.calls % c->n_workers;
	for (i = 0; i < c->n_workers; i++) {
		struct caller_worker *w = &c->workers[i];

		w->c = c;
		w->first = first;
		w->count = per + (i < extra ? 1 : 0);
		w->epfd = w->tfd = -1;
		first += w->count;
		if (rc == 0)
			rc = worker_setup(w);
	}
	if (rc != 0)
		return rc;
	/* A short lead so every worker's first frame is on time. */
	c->start_ns = caller_now_ns() + 20000000ULL;
	if (c->n_workers == 1) {
		worker_main(&c->workers[0]);
	} else {
		/* Workers leave signals to the main thread, which only sets
		 * caller_stop; they see it within MAX_WAIT_NS. */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		for (i = 0; i < c->n_workers; i++) {
			if (pthread_create(&c->workers[i].tid, NULL, worker_main, &c->workers[i]) != 0) {
				caller_stop = 1;
				rc = caller_fail("cannot start worker thread %u", i);
				c->n_workers = i;
				break;
			}
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		for (i = 0; i < c->n_workers; i++)
			pthread_join(c->workers[i].tid, NULL);
		if (rc != 0)
			c->n_workers = c->o.threads;
	}
	c->end_ns = caller_now_ns();
	for (i = 0; i < c->n_workers; i++) {
		struct caller_worker *w = &c->workers[i];

		if (w->send_end_ns > c->send_end_ns)
			c->send_end_ns = w->send_end_ns;
		c->timed_out |= w->timed_out;
		if (w->err != 0 && rc == 0)
			rc = caller_fail("worker %u: %s", i, w->errstr);
	}
	return rc;
}
