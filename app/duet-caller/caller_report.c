/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet-caller's report: the audio check verdicts, the per-direction sums
 * over all calls, and their output as a human summary or as one JSON object.
 * Main thread, after every worker has stopped, so it reads the legs without
 * locks. docs/duet-caller.md explains every field; in short (null = not
 * known in this process):
 *
 *   version legs(both|a|b) mode(direct|relay|redis) relay_mode suite
 *   rate(realtime|max) calls threads decode_calls bitrate dtx complexity
 *   seq_start duration_s(first to last packet sent) elapsed_s(with drain)
 *   timed_out interrupted audio_check(pass|fail|skipped-loss|
 *   skipped-no-reference|skipped-no-decode) audio_samples_compared
 *   throughput_pps(RTP received per second, both ways) calls_detail[]
 *   (--per-call), and a_to_b / b_to_a, each with:
 *     sent sent_key2 sent_bytes send_errors send_late srtp_protect_fail
 *     icmp_refused received received_key2 lost(sent, never received)
 *     rfc3550_lost reordered duplicated seq_cycles jitter_ms{avg,max} delay_ms{min,avg,p50,p99,max}
 *     srtp_auth_fail srtp_replay_fail srtp_other_fail bad_rtp not_rtp
 *     rtcp_sent rtcp_received rtcp_sr_received rtcp_rr_received
 *     rtcp_bye_received rtcp_bad srtcp_auth_fail srtcp_replay_fail
 *     srtcp_other_fail rtcp_rtt_ms rr_lost rr_jitter_ms sr_packets
 *     decode_errors payload_mismatch pcm_mismatch samples_compared audio_check
 */
#include <inttypes.h>
#include <string.h>

#include "caller.h"
#include "duet_sdes.h"

static const char *const check_names[] = {
	"pass", "skipped-no-decode", "skipped-no-reference", "skipped-loss", "fail",
};

const char *
caller_check_name(enum caller_check v)
{
	return check_names[v];
}

enum caller_check
caller_leg_check(const struct caller *c, const struct caller_leg *rx)
{
	(void)c;
	if (rx->rx_c.payload_mismatch != 0 || rx->rx_c.pcm_mismatch != 0 || rx->rx_c.decode_err != 0)
		return CALLER_CHECK_FAIL;
	if (rx->peer == NULL)
		return CALLER_CHECK_SKIPPED_NO_REFERENCE;
	if (rx->rx_gap || rx->peer->next_pkt == 0 || rx->rx_next < rx->peer->next_pkt ||
	    rx->rx_c.unique < rx->peer->next_pkt)
		return CALLER_CHECK_SKIPPED_LOSS;
	if (!rx->decode)
		return CALLER_CHECK_SKIPPED_NO_DECODE;
	return rx->rx_c.samples > 0 ? CALLER_CHECK_PASS : CALLER_CHECK_SKIPPED_LOSS;
}

/* Combine verdicts: any failure fails, any loss skips, one decoded pass
 * passes (the calls not decoded had their payload bytes compared). */
struct verdicts {
	uint64_t n[5];
};

static enum caller_check
combine(const struct verdicts *v)
{
	if (v->n[CALLER_CHECK_FAIL])
		return CALLER_CHECK_FAIL;
	if (v->n[CALLER_CHECK_SKIPPED_LOSS])
		return CALLER_CHECK_SKIPPED_LOSS;
	if (v->n[CALLER_CHECK_PASS])
		return CALLER_CHECK_PASS;
	if (v->n[CALLER_CHECK_SKIPPED_NO_REFERENCE])
		return CALLER_CHECK_SKIPPED_NO_REFERENCE;
	return v->n[CALLER_CHECK_SKIPPED_NO_DECODE] ? CALLER_CHECK_SKIPPED_NO_DECODE :
						      CALLER_CHECK_SKIPPED_NO_REFERENCE;
}

/* Sums of one direction (d = the sending leg) over every call. */
struct dir_sum {
	bool tx_local, rx_local;
	uint64_t sent, bytes, octets, send_errors, late, protect_fail, icmp_refused, rtcp_sent;
	uint64_t sent_key2, received_key2;
	uint64_t received, unique, lost, reordered, duplicated, cycles;
	int64_t rfc_lost;
	uint64_t auth_fail, replay_fail, other_fail, bad_rtp, not_rtp;
	uint64_t rtcp_received, rtcp_bad, srtcp_auth_fail, srtcp_replay_fail, srtcp_other_fail;
	uint64_t rtcp_sr, rtcp_rr, rtcp_bye;
	uint64_t decode_err, payload_mismatch, pcm_mismatch, samples;
	uint64_t jitter_n;
	double jitter_sum, jitter_max;
	uint64_t delay_n, delay_sum, delay_min, delay_max;
	double delay_p50, delay_p99;
	uint64_t rtt_n;
	double rtt_sum;
	bool rr_seen;
	int64_t rr_lost;
	double rr_jitter_max;
	bool sr_seen;
	uint64_t sr_packets;
	struct verdicts v;
};

/* Percentile of the merged delay histograms of direction d, in ms. */
static double
percentile(const struct caller *c, int d, uint64_t total, double p)
{
	uint64_t want = (uint64_t)((double)total * p + 0.5), seen = 0;
	uint32_t b, i;

	if (want == 0)
		want = 1;
	for (b = 0; b <= CALLER_HIST_BUCKETS; b++) {
		for (i = 0; i < c->n_workers; i++)
			seen += c->workers[i].hist[d].b[b];
		if (seen >= want)
			break;
	}
	/* The bucket's upper edge (see record_delay() in caller_media.c). */
	if (b < CALLER_HIST_FINE)
		return (double)(b + 1) * 0.01;
	return 100.0 + (double)(b + 1 - CALLER_HIST_FINE);
}

static void
sum_direction(const struct caller *c, int d, struct dir_sum *s)
{
	uint32_t i;

	memset(s, 0, sizeof(*s));
	s->tx_local = c->o.leg_on[d];
	s->rx_local = c->o.leg_on[!d];
	for (i = 0; i < c->o.calls; i++) {
		const struct caller_leg *tx = &c->calls[i].leg[d], *rx = &c->calls[i].leg[!d];

		if (s->tx_local) {
			s->sent += tx->tx_c.packets;
			s->sent_key2 += tx->tx_c.packets_key2;
			s->bytes += tx->tx_c.bytes;
			s->octets += tx->tx_c.octets;
			s->send_errors += tx->tx_c.errors;
			s->late += tx->tx_c.late;
			s->protect_fail += tx->tx_c.protect_fail;
			s->icmp_refused += tx->tx_c.icmp_refused;
			s->rtcp_sent += tx->tx_c.rtcp;
			s->rtt_n += tx->rtt_n;
			s->rtt_sum += tx->rtt_ms_sum;
			if (tx->rr_seen) {
				double j = (double)tx->rr_jitter * 1000.0 / CALLER_CLOCK;

				s->rr_seen = true;
				s->rr_lost += tx->rr_cum_lost;
				if (j > s->rr_jitter_max)
					s->rr_jitter_max = j;
			}
		}
		if (!s->rx_local)
			continue;
		s->received += rx->rx_c.rtp;
		s->received_key2 += rx->rx_c.rtp_key2;
		s->unique += rx->rx_c.unique;
		/* Lost: sent (the send succeeded) and never received. A send
		 * that failed is a send error, counted apart. */
		if (rx->peer != NULL)
			s->lost += rx->peer->tx_c.packets > rx->rx_c.unique ?
					   rx->peer->tx_c.packets - rx->rx_c.unique :
					   0;
		s->rfc_lost += duet_rtp_stats_lost(&rx->rs);
		s->reordered += rx->rs.reordered;
		s->duplicated += rx->rs.duplicates;
		s->cycles += rx->rs.cycles / DUET_RTP_SEQ_MOD;
		s->auth_fail += rx->rx_c.auth_fail;
		s->replay_fail += rx->rx_c.replay_fail;
		s->other_fail += rx->rx_c.other_fail;
		s->bad_rtp += rx->rx_c.bad_rtp;
		s->not_rtp += rx->rx_c.not_rtp;
		s->rtcp_received += rx->rx_c.rtcp;
		s->rtcp_bad += rx->rx_c.rtcp_bad;
		s->srtcp_auth_fail += rx->rx_c.srtcp_auth_fail;
		s->srtcp_replay_fail += rx->rx_c.srtcp_replay_fail;
		s->srtcp_other_fail += rx->rx_c.srtcp_other_fail;
		s->rtcp_sr += rx->rx_c.rtcp_sr;
		s->rtcp_rr += rx->rx_c.rtcp_rr;
		s->rtcp_bye += rx->rx_c.rtcp_bye;
		s->decode_err += rx->rx_c.decode_err;
		s->payload_mismatch += rx->rx_c.payload_mismatch;
		s->pcm_mismatch += rx->rx_c.pcm_mismatch;
		s->samples += rx->rx_c.samples;
		if (rx->rs.started) {
			double j = duet_rtp_stats_jitter_ms(&rx->rs, CALLER_CLOCK);

			s->jitter_n++;
			s->jitter_sum += j;
			if (j > s->jitter_max)
				s->jitter_max = j;
		}
		if (rx->rx_c.delay_n != 0) {
			if (s->delay_n == 0 || rx->rx_c.delay_min_ns < s->delay_min)
				s->delay_min = rx->rx_c.delay_min_ns;
			if (rx->rx_c.delay_max_ns > s->delay_max)
				s->delay_max = rx->rx_c.delay_max_ns;
			s->delay_n += rx->rx_c.delay_n;
			s->delay_sum += rx->rx_c.delay_sum_ns;
		}
		if (rx->rx_c.sr_seen) {
			s->sr_seen = true;
			s->sr_packets += rx->rx_c.sr_packets;
		}
		s->v.n[caller_leg_check(c, rx)]++;
	}
	if (s->delay_n != 0) {
		s->delay_p50 = percentile(c, d, s->delay_n, 0.50);
		s->delay_p99 = percentile(c, d, s->delay_n, 0.99);
	}
}

enum caller_check
caller_overall_check(const struct caller *c)
{
	struct verdicts v;
	uint32_t i;
	int d;

	memset(&v, 0, sizeof(v));
	for (i = 0; i < c->o.calls; i++)
		for (d = 0; d < 2; d++)
			if (c->calls[i].leg[!d].local)
				v.n[caller_leg_check(c, &c->calls[i].leg[!d])]++;
	return combine(&v);
}

static double
ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static double
seconds_between(uint64_t a, uint64_t b)
{
	return b > a ? (double)(b - a) / 1e9 : 0.0;
}

/* JSON number or null. */
static void
json_u(FILE *f, const char *k, bool known, uint64_t v, bool comma)
{
	if (known)
		fprintf(f, "\"%s\":%" PRIu64 "%s", k, v, comma ? "," : "");
	else
		fprintf(f, "\"%s\":null%s", k, comma ? "," : "");
}

static void
json_d(FILE *f, const char *k, bool known, double v, bool comma)
{
	if (known)
		fprintf(f, "\"%s\":%.3f%s", k, v, comma ? "," : "");
	else
		fprintf(f, "\"%s\":null%s", k, comma ? "," : "");
}

static void
json_direction(FILE *f, const struct dir_sum *s)
{
	bool tx = s->tx_local, rx = s->rx_local, both = tx && rx;

	fputc('{', f);
	json_u(f, "sent", tx, s->sent, true);
	json_u(f, "sent_key2", tx, s->sent_key2, true);
	json_u(f, "sent_bytes", tx, s->bytes, true);
	json_u(f, "send_errors", tx, s->send_errors, true);
	json_u(f, "send_late", tx, s->late, true);
	json_u(f, "srtp_protect_fail", tx, s->protect_fail, true);
	json_u(f, "icmp_refused", tx, s->icmp_refused, true);
	json_u(f, "received", rx, s->received, true);
	json_u(f, "received_key2", rx, s->received_key2, true);
	json_u(f, "lost", both, s->lost, true);
	fprintf(f, "\"rfc3550_lost\":");
	if (rx)
		fprintf(f, "%" PRId64 ",", s->rfc_lost);
	else
		fprintf(f, "null,");
	json_u(f, "reordered", rx, s->reordered, true);
	json_u(f, "duplicated", rx, s->duplicated, true);
	json_u(f, "seq_cycles", rx, s->cycles, true);
	fprintf(f, "\"jitter_ms\":");
	if (rx && s->jitter_n != 0)
		fprintf(f, "{\"avg\":%.3f,\"max\":%.3f},", s->jitter_sum / (double)s->jitter_n,
			s->jitter_max);
	else
		fprintf(f, "null,");
	fprintf(f, "\"delay_ms\":");
	if (both && s->delay_n != 0)
		fprintf(f, "{\"min\":%.3f,\"avg\":%.3f,\"p50\":%.2f,\"p99\":%.2f,\"max\":%.3f},",
			ms(s->delay_min), ms(s->delay_sum) / (double)s->delay_n, s->delay_p50,
			s->delay_p99, ms(s->delay_max));
	else
		fprintf(f, "null,");
	json_u(f, "srtp_auth_fail", rx, s->auth_fail, true);
	json_u(f, "srtp_replay_fail", rx, s->replay_fail, true);
	json_u(f, "srtp_other_fail", rx, s->other_fail, true);
	json_u(f, "bad_rtp", rx, s->bad_rtp, true);
	json_u(f, "not_rtp", rx, s->not_rtp, true);
	json_u(f, "rtcp_sent", tx, s->rtcp_sent, true);
	json_u(f, "rtcp_received", rx, s->rtcp_received, true);
	json_u(f, "rtcp_sr_received", rx, s->rtcp_sr, true);
	json_u(f, "rtcp_rr_received", rx, s->rtcp_rr, true);
	json_u(f, "rtcp_bye_received", rx, s->rtcp_bye, true);
	json_u(f, "rtcp_bad", rx, s->rtcp_bad, true);
	json_u(f, "srtcp_auth_fail", rx, s->srtcp_auth_fail, true);
	json_u(f, "srtcp_replay_fail", rx, s->srtcp_replay_fail, true);
	json_u(f, "srtcp_other_fail", rx, s->srtcp_other_fail, true);
	json_d(f, "rtcp_rtt_ms", tx && s->rtt_n != 0, s->rtt_n ? s->rtt_sum / (double)s->rtt_n : 0,
	       true);
	fprintf(f, "\"rr_lost\":");
	if (tx && s->rr_seen)
		fprintf(f, "%" PRId64 ",", s->rr_lost);
	else
		fprintf(f, "null,");
	json_d(f, "rr_jitter_ms", tx && s->rr_seen, s->rr_jitter_max, true);
	json_u(f, "sr_packets", rx && s->sr_seen, s->sr_packets, true);
	json_u(f, "decode_errors", rx, s->decode_err, true);
	json_u(f, "payload_mismatch", rx, s->payload_mismatch, true);
	json_u(f, "pcm_mismatch", rx, s->pcm_mismatch, true);
	json_u(f, "samples_compared", rx, s->samples, true);
	if (rx)
		fprintf(f, "\"audio_check\":\"%s\"}", caller_check_name(combine(&s->v)));
	else
		fprintf(f, "\"audio_check\":null}");
}

/* The few figures of one call and direction for --per-call. */
static void
json_call_direction(FILE *f, const struct caller *c, const struct caller_leg *tx,
		    const struct caller_leg *rx)
{
	fputc('{', f);
	json_u(f, "sent", tx->local, tx->tx_c.packets, true);
	json_u(f, "received", rx->local, rx->rx_c.rtp, true);
	json_u(f, "lost", tx->local && rx->local,
	       tx->tx_c.packets > rx->rx_c.unique ? tx->tx_c.packets - rx->rx_c.unique : 0, true);
	json_u(f, "reordered", rx->local, rx->rs.reordered, true);
	json_u(f, "duplicated", rx->local, rx->rs.duplicates, true);
	json_d(f, "jitter_ms", rx->local && rx->rs.started,
	       duet_rtp_stats_jitter_ms(&rx->rs, CALLER_CLOCK), true);
	json_d(f, "delay_ms_avg", rx->rx_c.delay_n != 0,
	       rx->rx_c.delay_n ? ms(rx->rx_c.delay_sum_ns) / (double)rx->rx_c.delay_n : 0, true);
	json_u(f, "srtp_auth_fail", rx->local, rx->rx_c.auth_fail, true);
	json_u(f, "srtp_replay_fail", rx->local, rx->rx_c.replay_fail, true);
	json_u(f, "rtcp_received", rx->local, rx->rx_c.rtcp, true);
	json_u(f, "samples_compared", rx->local, rx->rx_c.samples, true);
	if (rx->local)
		fprintf(f, "\"audio_check\":\"%s\"}", caller_check_name(caller_leg_check(c, rx)));
	else
		fprintf(f, "\"audio_check\":null}");
}

static const char *
mode_text(const struct caller *c)
{
	if (c->o.direct)
		return "direct";
	return c->o.create ? "redis" : "relay";
}

static void
report_json(const struct caller *c, FILE *f, const struct dir_sum s[2], enum caller_check all)
{
	double secs = seconds_between(c->start_ns, c->send_end_ns);
	uint32_t i;

	fprintf(f, "{\"version\":\"%s\",\"legs\":\"%s\",\"mode\":\"%s\",", DUET_VERSION,
		c->o.leg_on[0] && c->o.leg_on[1] ? "both" : (c->o.leg_on[0] ? "a" : "b"),
		mode_text(c));
	if (c->o.create)
		fprintf(f, "\"relay_mode\":\"%s\",", caller_mode_name(c->o.mode));
	else
		fprintf(f, "\"relay_mode\":null,");
	fprintf(f, "\"suite\":\"%s\",\"rate\":\"%s\",\"calls\":%u,\"threads\":%u,"
		   "\"decode_calls\":%u,\"bitrate\":%u,\"dtx\":%s,\"complexity\":%u,",
		duet_srtp_suite_name(c->calls[0].leg[c->o.leg_on[0] ? 0 : 1].key_suite),
		c->o.rate == CALLER_RATE_MAX ? "max" : "realtime", c->o.calls, c->o.threads,
		c->o.decode_calls, c->o.bitrate, c->o.dtx ? "true" : "false", c->o.complexity);
	json_u(f, "seq_start", c->o.seq_start_set, c->o.seq_start, true);
	json_d(f, "duration_s", true, secs, true);
	json_d(f, "elapsed_s", true, seconds_between(c->start_ns, c->end_ns), true);
	fprintf(f, "\"timed_out\":%s,\"interrupted\":%s,", c->timed_out ? "true" : "false",
		c->interrupted ? "true" : "false");
	fprintf(f, "\"a_to_b\":");
	json_direction(f, &s[0]);
	fprintf(f, ",\"b_to_a\":");
	json_direction(f, &s[1]);
	fprintf(f, ",\"audio_check\":\"%s\",\"audio_samples_compared\":%" PRIu64 ",",
		caller_check_name(all), s[0].samples + s[1].samples);
	json_d(f, "throughput_pps", secs > 0, secs > 0 ? (double)(s[0].received + s[1].received) / secs : 0,
	       c->o.per_call);
	if (c->o.per_call) {
		fprintf(f, "\"calls_detail\":[");
		for (i = 0; i < c->o.calls; i++) {
			const struct caller_call *call = &c->calls[i];

			fprintf(f, "%s{\"call\":%u,", i ? "," : "", i);
			if (call->pair_created)
				fprintf(f, "\"pair\":\"%s\",", call->pair_id);
			else
				fprintf(f, "\"pair\":null,");
			fprintf(f, "\"a_to_b\":");
			json_call_direction(f, c, &call->leg[0], &call->leg[1]);
			fprintf(f, ",\"b_to_a\":");
			json_call_direction(f, c, &call->leg[1], &call->leg[0]);
			fputc('}', f);
		}
		fputc(']', f);
	}
	fprintf(f, "}\n");
}

static void
text_direction(FILE *f, const char *name, const struct dir_sum *s)
{
	fprintf(f, "%s  ", name);
	if (s->tx_local)
		fprintf(f, "sent %" PRIu64 " ", s->sent);
	if (s->rx_local) {
		fprintf(f, "recv %" PRIu64 " ", s->received);
		if (s->tx_local)
			fprintf(f, "lost %" PRIu64 " ", s->lost);
		else
			fprintf(f, "lost(rfc) %" PRId64 " ", s->rfc_lost);
		fprintf(f, "reord %" PRIu64 " dup %" PRIu64 "  jitter avg %.3f max %.3f ms",
			s->reordered, s->duplicated,
			s->jitter_n ? s->jitter_sum / (double)s->jitter_n : 0.0, s->jitter_max);
		if (s->delay_n != 0)
			fprintf(f, "  delay min %.3f avg %.3f p99 %.2f max %.3f ms", ms(s->delay_min),
				ms(s->delay_sum) / (double)s->delay_n, s->delay_p99, ms(s->delay_max));
	}
	fputc('\n', f);
	fprintf(f, "      ");
	if (s->rx_local)
		fprintf(f, "srtp fail auth %" PRIu64 " replay %" PRIu64 " other %" PRIu64 "  ",
			s->auth_fail, s->replay_fail, s->other_fail);
	fprintf(f, "rtcp");
	if (s->tx_local)
		fprintf(f, " sent %" PRIu64, s->rtcp_sent);
	if (s->rx_local)
		fprintf(f, " recv %" PRIu64 " (srtcp fail %" PRIu64 ")", s->rtcp_received,
			s->srtcp_auth_fail + s->srtcp_replay_fail + s->srtcp_other_fail);
	if (s->rtt_n != 0)
		fprintf(f, "  rtt %.2f ms", s->rtt_sum / (double)s->rtt_n);
	if (s->tx_local && s->send_errors != 0)
		fprintf(f, "  send errors %" PRIu64, s->send_errors);
	if (s->tx_local && s->late != 0)
		fprintf(f, "  late %" PRIu64, s->late);
	if (s->rx_local)
		fprintf(f, "  audio %s (%" PRIu64 " samples)", caller_check_name(combine(&s->v)),
			s->samples);
	fputc('\n', f);
}

void
caller_report(const struct caller *c, FILE *f)
{
	enum caller_check all = caller_overall_check(c);
	double secs = seconds_between(c->start_ns, c->send_end_ns);
	struct dir_sum s[2];

	sum_direction(c, CALLER_A, &s[0]);
	sum_direction(c, CALLER_B, &s[1]);
	if (c->o.json) {
		report_json(c, f, s, all);
		return;
	}
	fprintf(f, "duet-caller %s: %u call%s, %s, %s, %s, %.2f s sending%s%s\n", DUET_VERSION,
		c->o.calls, c->o.calls == 1 ? "" : "s",
		c->o.rate == CALLER_RATE_MAX ? "rate max" : "realtime",
		duet_srtp_suite_name(c->calls[0].leg[c->o.leg_on[0] ? 0 : 1].key_suite),
		mode_text(c), secs, c->timed_out ? " (timed out)" : "",
		c->interrupted ? " (interrupted)" : "");
	text_direction(f, "a->b", &s[0]);
	text_direction(f, "b->a", &s[1]);
	fprintf(f, "audio check: %s (%" PRIu64 " samples compared)", caller_check_name(all),
		s[0].samples + s[1].samples);
	if (secs > 0)
		fprintf(f, ", throughput %.0f packets/s received", (double)(s[0].received + s[1].received) / secs);
	fputc('\n', f);
}
