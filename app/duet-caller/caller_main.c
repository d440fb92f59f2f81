/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet-caller main: parse the options, build the audio tracks, set up the
 * calls (SSRCs, sequence numbers, keys, addresses), create the pairs in
 * Redis with --create, open sockets and sessions, run the workers, print
 * the report, then delete the pairs and wipe every key. Main thread; the
 * workers run only inside caller_run(). SIGINT/SIGTERM set caller_stop:
 * the run ends early, the summary is still printed and the pairs deleted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "caller.h"
#include "caller_audio.h"
#include "duet_srtp.h"

/* Two sockets per call plus a few: raise the soft limit if needed. */
static int
ensure_fd_limit(uint32_t calls)
{
	rlim_t need = (rlim_t)calls * 2 + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return 0;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < need)
		return caller_fail("--calls %u needs %llu open files; the limit is %llu (ulimit -n)",
				   calls, (unsigned long long)need, (unsigned long long)rl.rlim_cur);
	return 0;
}

/* The input of leg `leg`: a WAV file or the generated voice. */
static int
load_audio(const struct caller_opts *o, int leg, int16_t **pcm, size_t *n)
{
	const char *why = "";
	int rc;

	if (o->audio[leg] == NULL) {
		if (caller_gen_speech(o->seed, (unsigned int)leg, pcm, n) != 0)
			return caller_fail("out of memory generating audio");
		return 0;
	}
	rc = caller_wav_load(o->audio[leg], pcm, n, &why);
	if (rc != 0)
		/* The file is an argument: a bad one is a usage error. */
		return caller_usage_err("%s %s: %s", o->audio[0] == o->audio[1] ? "--audio" :
					(leg == 0 ? "--a-audio" : "--b-audio"),
					o->audio[leg], why);
	return 0;
}

/* Encode what each local leg sends, as much as the run can use. */
static int
build_tracks(struct caller *c)
{
	const struct caller_opts *o = &c->o;
	uint64_t max_frames = 0, max_packets = o->packets;
	int leg, rc;

	if (o->rate == CALLER_RATE_REALTIME && o->duration_ms != 0)
		max_frames = o->duration_ms / 20 + 1;
	for (leg = 0; leg < 2; leg++) {
		const char *why = "";
		int16_t *pcm = NULL;
		size_t n = 0;

		/* One process playing both legs also needs the peer's track:
		 * a receiver compares with what was sent. */
		if (!o->leg_on[leg])
			continue;
		rc = load_audio(o, leg, &pcm, &n);
		if (rc != 0)
			return rc;
		rc = caller_track_build(&c->track[leg], pcm, n, o, max_frames, max_packets, &why);
		free(pcm);
		if (rc != 0)
			return o->audio[leg] != NULL ?
				       caller_usage_err("--%c-audio %s: %s", 'a' + leg, o->audio[leg], why) :
				       caller_fail("leg %c audio: %s", 'a' + leg, why);
	}
	return 0;
}

static uint32_t
random32(void)
{
	uint32_t v = 0;

	caller_random(&v, sizeof(v));
	return v;
}

/* SSRCs, sequence numbers, addresses and keys of every call. */
static int
setup_calls(struct caller *c)
{
	const struct caller_opts *o = &c->o;
	struct duet_sdes gen[4];
	bool generated = false;
	uint32_t i;
	int leg, rc;

	c->calls = calloc(o->calls, sizeof(*c->calls));
	if (c->calls == NULL)
		return caller_fail("out of memory for %u calls", o->calls);
	for (i = 0; i < o->calls; i++)
		c->calls[i].leg[0].fd = c->calls[i].leg[1].fd = -1;
	if (!o->create && !o->key_out_set[0] && !o->key_out_set[1]) {
		/* Matching keys for both legs, as a passthrough relay needs. */
		rc = caller_make_keys(o->suite, DUET_MODE_PASSTHROUGH, gen);
		if (rc != 0)
			return caller_fail("cannot make random keys: %s", strerror(-rc));
		generated = true;
	}
	for (i = 0; i < o->calls; i++) {
		struct caller_call *call = &c->calls[i];

		call->index = i;
		for (leg = 0; leg < 2; leg++) {
			struct caller_leg *l = &call->leg[leg];

			l->fd = -1;
			l->id = (uint8_t)leg;
			l->call = call;
			l->local = o->leg_on[leg];
			l->peer = o->leg_on[!leg] && l->local ? &call->leg[!leg] : NULL;
			l->decode = i < o->decode_calls;
			l->wait_bye = o->rate == CALLER_RATE_REALTIME ? o->rtcp_interval_ms != 0 :
								      o->rtcp_every != 0;
			l->track = &c->track[leg];
			l->ssrc = o->ssrc_set[leg] ? o->ssrc[leg] + i : random32();
			l->seq0 = o->seq_start_set ? o->seq_start : (uint16_t)random32();
			l->ts0 = random32();
			duet_rtp_stats_init(&l->rs, 1);
			l->bind = o->bind[leg];
			l->bind_len = o->bind_len[leg];
			if (caller_addr_port(&l->bind) != 0)
				caller_addr_set_port(&l->bind,
						     (uint16_t)(caller_addr_port(&l->bind) + i));
			if (o->relay_set[leg]) {
				l->relay = o->relay[leg];
				l->relay_len = o->relay_len[leg];
				caller_addr_set_port(&l->relay,
						     (uint16_t)(caller_addr_port(&l->relay) + i));
			}
			if (generated) {
				/* Relay view [a_in, a_out, b_in, b_out]. */
				l->key_out = gen[leg * 2];
				l->key_in = gen[leg * 2 + 1];
			} else if (!o->create) {
				l->key_out = o->key_out[leg];
				l->key_in = o->key_in[leg];
				if (o->key_out2_set[leg])
					l->key_out2 = o->key_out2[leg];
				if (o->key_in2_set[leg])
					l->key_in2 = o->key_in2[leg];
			}
			l->key_suite = l->key_out.suite;
			if (l->local) {
				l->sent_at = calloc(CALLER_SENT_RING, sizeof(*l->sent_at));
				if (l->sent_at == NULL) {
					rc = caller_fail("out of memory for %u calls", o->calls);
					goto out;
				}
			}
		}
		/* Two legs of one call never share an SSRC. */
		if (!o->ssrc_set[0] && !o->ssrc_set[1] &&
		    call->leg[0].ssrc == call->leg[1].ssrc)
			call->leg[1].ssrc ^= 1;
	}
	rc = 0;
out:
	for (leg = 0; leg < 4 && generated; leg++)
		duet_sdes_wipe(&gen[leg]);
	return rc;
}

/* With --create: default binds of the family the relay handed out. */
static void
default_binds(struct caller *c)
{
	uint32_t i;
	int leg;

	for (leg = 0; leg < 2; leg++) {
		if (c->o.bind_set[leg])
			continue;
		for (i = 0; i < c->o.calls; i++) {
			struct caller_leg *l = &c->calls[i].leg[leg];

			caller_parse_addr(l->relay.ss_family == AF_INET6 ? "[::]:0" : "0.0.0.0:0", true,
					  &l->bind, &l->bind_len);
		}
	}
}

/* A direction where the sender sent and nothing at all came back means
 * the relay is unreachable or drops everything: a runtime failure. */
static int
check_reachable(const struct caller *c)
{
	int d, rc = CALLER_EXIT_OK;
	uint32_t i;

	for (d = 0; d < 2; d++) {
		uint64_t sent = 0, heard = 0, refused = 0;

		if (!c->o.leg_on[!d])
			continue;
		for (i = 0; i < c->o.calls; i++) {
			const struct caller_leg *tx = &c->calls[i].leg[d], *rx = &c->calls[i].leg[!d];

			sent += tx->tx_c.packets;
			refused += tx->tx_c.icmp_refused + rx->tx_c.icmp_refused;
			heard += rx->rx_c.rtp + rx->rx_c.auth_fail + rx->rx_c.replay_fail +
				 rx->rx_c.other_fail + rx->rx_c.rtcp + rx->rx_c.srtcp_auth_fail;
		}
		if (heard != 0 || (c->o.leg_on[d] && sent == 0) || c->interrupted)
			continue;
		if (rc != CALLER_EXIT_OK)
			break; /* one line is enough */
		if (c->o.direct) {
			rc = caller_fail("leg %c received nothing from leg %c%s", 'b' - d, 'a' + d,
					 refused ? " (ICMP port unreachable)" : "");
		} else if (!c->o.leg_on[d]) {
			char where[CALLER_ADDR_STRLEN];

			/* The sender is another process: all this one knows is
			 * the endpoint it listens to (its socket is connected
			 * there, so nothing else gets in). */
			caller_format_addr(&c->calls[0].leg[!d].relay, where, sizeof(where));
			rc = caller_fail("leg %c received nothing from %s %s: the peer is not "
					 "sending, or the relay drops its packets%s",
					 'b' - d, c->o.create ? "relay endpoint" :
					 (d == 0 ? "--b-relay" : "--a-relay"), where,
					 refused ? " (ICMP port unreachable)" : "");
		} else {
			char where[CALLER_ADDR_STRLEN];

			/* Leg d sends to its relay endpoint; nothing came out of
			 * the other one. */
			caller_format_addr(&c->calls[0].leg[d].relay, where, sizeof(where));
			rc = caller_fail("leg %c received nothing: %s %s unreachable or dropping "
					 "packets%s",
					 'b' - d, c->o.create ? "relay endpoint" :
					 (d == 0 ? "--a-relay" : "--b-relay"), where,
					 refused ? " (ICMP port unreachable)" : "");
		}
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct caller c;
	int rc, run_rc;
	int leg;

	memset(&c, 0, sizeof(c));
	rc = caller_args_parse(&c.o, argc, argv);
	if (rc >= 0)
		goto out_opts;
	if (c.o.gen_keys >= 0) {
		rc = caller_gen_keys(&c.o);
		goto out_opts;
	}
	caller_install_signals();
	/* Pacing wants its 20 ms exactly: no 50 us timer slack (best effort). */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	rc = ensure_fd_limit(c.o.calls);
	if (rc != 0)
		goto out_opts;
	if (duet_srtp_init() != 0) {
		rc = caller_fail("libsrtp2 failed to initialise");
		goto out_opts;
	}
	rc = build_tracks(&c);
	if (rc != 0)
		goto out_tracks;
	rc = setup_calls(&c);
	caller_opts_wipe(&c.o);
	if (rc != 0)
		goto out_calls;
	if (c.o.create) {
		rc = caller_redis_create(&c);
		if (rc != 0)
			goto out_pairs;
		default_binds(&c);
	}
	rc = caller_net_open(&c);
	if (rc == 0)
		rc = caller_sessions_open(&c);
	if (rc != 0)
		goto out_pairs;

	run_rc = caller_run(&c);
	c.interrupted = caller_stop != 0;
	caller_report(&c, stdout);
	fflush(stdout);
	if (run_rc != 0) {
		rc = run_rc;
	} else if (c.interrupted) {
		rc = CALLER_EXIT_INTERRUPTED;
	} else if (c.timed_out) {
		rc = caller_fail("--timeout: stopped after %.3f s, before the run finished",
				 (double)c.o.timeout_ms / 1000.0);
	} else {
		rc = check_reachable(&c);
		if (rc == 0 && c.o.require_audio_check && caller_overall_check(&c) != CALLER_CHECK_PASS) {
			caller_fail("audio check: %s (--require-audio-check)",
				    caller_check_name(caller_overall_check(&c)));
			rc = CALLER_EXIT_CHECK;
		}
	}

out_pairs:
	if (c.redis != NULL) {
		uint32_t i;

		caller_redis_delete(&c);
		for (i = 0; c.calls != NULL && i < c.o.calls; i++)
			if (c.calls[i].pair_created && rc == 0)
				rc = CALLER_EXIT_FAIL;
	}
	if (rc == 0 && caller_stop)
		rc = CALLER_EXIT_INTERRUPTED;
out_calls:
	caller_net_close(&c);
	free(c.calls);
	if (c.workers != NULL) {
		uint32_t i;

		for (i = 0; i < c.o.threads; i++) {
			free(c.workers[i].hist);
			if (c.workers[i].epfd >= 0)
				close(c.workers[i].epfd);
			if (c.workers[i].tfd >= 0)
				close(c.workers[i].tfd);
		}
		free(c.workers);
	}
out_tracks:
	for (leg = 0; leg < 2; leg++)
		caller_track_free(&c.track[leg]);
out_opts:
	caller_opts_wipe(&c.o);
	return rc;
}
