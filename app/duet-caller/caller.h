/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet-caller: the simulated phone app used by tests, the demo and load
 * runs. This header holds the types every part shares: the options, the
 * encoded audio tracks, the legs (one phone each) and calls, and the
 * workers that run them. Who runs what:
 *
 *   main thread   caller_main.c (setup, teardown), caller_args.c (options),
 *                 caller_redis.c (pairs through the Lua scripts),
 *                 caller_track.c (encoding, before any call starts),
 *                 caller_net.c (sockets, namespaces, SRTP sessions),
 *                 caller_report.c (summary, after every worker ended)
 *   workers       caller_loop.c (the epoll loop, pacing) and
 *                 caller_media.c (send/receive RTP and RTCP); one thread
 *                 per worker, each owning a contiguous range of calls, so
 *                 both legs of a call (and their SRTP sessions, decoders
 *                 and stats) are only ever touched by one thread.
 *
 * Returns: helpers return 0 or -errno; the main thread's steps (parsing,
 * setup, Redis) print their one-line message themselves and return 0 or
 * the process exit status (CALLER_EXIT_*), as duetctl's commands do.
 */
#ifndef CALLER_H
#define CALLER_H

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <opus/opus.h>
#include <srtp2/srtp.h>

#include "caller_parse.h"
#include "duet_record.h"
#include "duet_rtp.h"
#include "duet_sdes.h"

#define CALLER_EXIT_OK 0	    /**< run finished (and any --require check passed) */
#define CALLER_EXIT_FAIL 1	    /**< runtime failure: socket, Redis, relay unreachable */
#define CALLER_EXIT_USAGE 2	    /**< bad argument */
#define CALLER_EXIT_CHECK 3	    /**< --require-audio-check and the check did not pass */
#define CALLER_EXIT_INTERRUPTED 130 /**< SIGINT/SIGTERM: summary printed, pairs deleted */

#define CALLER_PT 111		     /**< Opus payload type */
#define CALLER_CLOCK 48000	     /**< Opus RTP clock */
#define CALLER_FRAME 960	     /**< samples (and timestamp units) per 20 ms frame */
#define CALLER_FRAME_NS 20000000ULL  /**< 20 ms */
#define CALLER_DECODE_MAX 5760	     /**< largest Opus frame a decoder may return (120 ms) */
#define CALLER_PAYLOAD_MAX 160	     /**< encoder output cap per frame (64 kbit/s) */
#define CALLER_PKT_MAX 1500	     /**< receive buffer */
#define CALLER_SENT_RING 512	     /**< per-leg send-time table (10 s of realtime) */
#define CALLER_WINDOW_MAX (CALLER_SENT_RING / 2)
#define CALLER_CALLS_MAX 5000	     /**< --calls limit */
#define CALLER_THREADS_MAX 16	     /**< --threads limit */
#define CALLER_HIST_FINE 10000	     /**< delay histogram: 10 us buckets up to 100 ms, */
#define CALLER_HIST_BUCKETS 11900    /**< then 1 ms buckets up to 2 s (last: 2 s or more) */

/** Leg index: a or b. */
enum caller_leg_id { CALLER_A = 0, CALLER_B = 1 };

/** Pacing. */
enum caller_rate {
	CALLER_RATE_REALTIME = 0, /**< one frame every 20 ms per leg */
	CALLER_RATE_MAX,	  /**< as fast as the window allows */
};

/* The relay modes of the pairs (enum duet_pair_mode) and which keys each
 * takes are the contract's: duet_record.h. */

/** Audio check verdict, from best to worst (a summary takes the worst). */
enum caller_check {
	CALLER_CHECK_PASS = 0,		  /**< decoded audio equals the local decode of what was sent */
	CALLER_CHECK_SKIPPED_NO_DECODE,	  /**< --decode-calls 0: payload bytes compared only */
	CALLER_CHECK_SKIPPED_NO_REFERENCE, /**< the sender is another process */
	CALLER_CHECK_SKIPPED_LOSS,	  /**< something was lost or reordered: not comparable */
	CALLER_CHECK_FAIL,		  /**< a sample, payload or timestamp differed */
};

/** Everything the command line says. Keys are secret: caller_opts_wipe(). */
struct caller_opts {
	bool leg_on[2];				 /**< legs this process plays */
	bool direct;				 /**< no relay: a and b send to each other */
	struct sockaddr_storage bind[2];	 /**< bind address of call 0's legs */
	socklen_t bind_len[2];
	struct sockaddr_storage relay[2];	 /**< relay endpoint of call 0's legs */
	socklen_t relay_len[2];
	bool relay_set[2];
	bool bind_set[2];			 /**< --a-bind/--b-bind given */
	const char *relay_arg[2];		 /**< as given, for messages */
	const char *netns[2];			 /**< network namespace per leg, or NULL */
	struct duet_sdes key_out[2];		 /**< what the leg protects with */
	struct duet_sdes key_in[2];		 /**< what the leg unprotects with */
	bool key_out_set[2], key_in_set[2];
	struct duet_sdes key_out2[2];		 /**< --*-key-out2: protects from rotate_after on */
	struct duet_sdes key_in2[2];		 /**< --*-key-in2: tried when key_in fails */
	bool key_out2_set[2], key_in2_set[2];
	uint64_t rotate_after;			 /**< --rotate-after: first packet under key_out2 */
	enum duet_srtp_suite suite;		 /**< for generated keys */
	int gen_keys;				 /**< --gen-keys mode, or -1 */
	/* Redis */
	const char *redis_addr;
	const char *relay_id;
	const char *user;
	const char *password;
	const char *id_prefix;
	bool create;
	bool no_relay_check;			 /**< --no-relay-check: relay_check off */
	enum duet_pair_mode mode;
	char ip_hint[2][CALLER_ADDR_STRLEN];	 /**< a_ip / b_ip, canonical, or "" */
	uint32_t redis_timeout_ms;
	/* audio */
	const char *audio[2];			 /**< WAV per leg, or NULL: generated */
	uint64_t seed;
	uint32_t bitrate;
	bool dtx;
	uint32_t complexity;
	/* RTP */
	uint32_t ssrc[2];
	bool ssrc_set[2];
	uint16_t seq_start;
	bool seq_start_set;
	enum caller_rate rate;
	uint32_t window;			 /**< max mode: packets in flight per leg */
	uint32_t rtcp_interval_ms;		 /**< realtime RTCP interval */
	uint32_t rtcp_every;			 /**< max mode: RTCP every N packets */
	/* run */
	uint32_t calls;
	uint32_t threads;
	uint32_t decode_calls;
	uint64_t duration_ms;			 /**< 0: none given */
	uint64_t packets;			 /**< per leg, 0: none given */
	uint64_t timeout_ms;
	uint64_t drain_ms;
	bool require_audio_check;
	bool json;
	bool per_call;
};

/**
 * One leg's encoded audio, shared by that leg in every call (the encoder is
 * deterministic, so every call would produce the same bytes). Built before
 * the calls start, read-only afterwards (workers read it concurrently).
 * Packet index k (k-th RTP packet a leg sends) maps to payload k % n of
 * loop k / n; DTX frames (encoder output of 2 bytes or less) are not sent.
 */
struct caller_track {
	uint32_t frames;     /**< 20 ms frames encoded */
	uint32_t n;	     /**< payloads (sent frames) among them */
	uint32_t loop_frames; /**< frames in one loop of the input */
	bool complete;	     /**< a whole loop is encoded: indices wrap */
	int32_t *frame_pkt;  /**< per frame: payload index, or -1 for DTX */
	uint32_t *pkt_frame; /**< per payload: its frame */
	uint32_t *pkt_off;   /**< per payload: offset in bytes[] */
	uint16_t *pkt_len;   /**< per payload: length */
	uint8_t *bytes;	     /**< the payloads */
};

/** A send time, to measure one-way delay (both legs share a clock). */
struct caller_sent {
	uint64_t k;  /**< packet index + 1 (0: empty) */
	uint64_t ns; /**< CLOCK_MONOTONIC when it was sent */
};

/** What a leg sent. */
struct caller_tx {
	uint64_t packets;      /**< RTP packets given to the kernel */
	uint64_t bytes;	       /**< their SRTP bytes (UDP payload) */
	uint64_t octets;       /**< their Opus payload bytes (RTCP SR octet count) */
	uint64_t errors;       /**< send() failures other than a full buffer in max mode */
	uint64_t late;	       /**< realtime: frames sent more than 2 ms after their time */
	uint64_t protect_fail; /**< srtp_protect failures (should stay 0) */
	uint64_t packets_key2; /**< of packets, protected with the second out key */
	uint64_t icmp_refused; /**< ICMP port unreachable reported on the socket */
	uint64_t rtcp;	       /**< SRTCP compound packets sent */
	int last_errno;	       /**< the last send() error, for the summary */
};

/** What a leg received from its peer (through the relay). */
struct caller_rx {
	uint64_t rtp;		   /**< packets that unprotected and parsed as Opus RTP */
	uint64_t rtp_key2;	   /**< of those, opened by the second in key only */
	uint64_t unique;	   /**< of those, not duplicates */
	uint64_t auth_fail;	   /**< srtp_unprotect: authentication failed */
	uint64_t replay_fail;	   /**< srtp_unprotect: replayed or too old */
	uint64_t other_fail;	   /**< srtp_unprotect: anything else (bad length, ...) */
	uint64_t bad_rtp;	   /**< authenticated but not what the peer sends (PT, SSRC, seq) */
	uint64_t not_rtp;	   /**< neither RTP nor RTCP (RFC 5761 demux) */
	uint64_t rtcp;		   /**< SRTCP compound packets that unprotected and checked */
	uint64_t rtcp_sr, rtcp_rr, rtcp_sdes, rtcp_bye; /**< packets inside them */
	uint64_t rtcp_bad;	   /**< unprotected but not a valid compound packet */
	uint64_t srtcp_auth_fail;  /**< srtp_unprotect_rtcp: authentication failed */
	uint64_t srtcp_replay_fail; /**< srtp_unprotect_rtcp: replayed */
	uint64_t srtcp_other_fail; /**< srtp_unprotect_rtcp: anything else */
	uint64_t decode_err;	   /**< opus_decode failures */
	uint64_t payload_mismatch; /**< payload or timestamp differs from what was sent */
	uint64_t pcm_mismatch;	   /**< decoded frames that differ from the reference decode */
	uint64_t samples;	   /**< samples compared equal or not */
	uint64_t delay_n;	   /**< one-way delays measured */
	uint64_t delay_sum_ns, delay_min_ns, delay_max_ns;
	uint64_t sr_packets;	   /**< packet count of the peer's last SR */
	bool sr_seen;
};

struct caller_call;

/** One phone: a socket, two SRTP sessions, its sending and receiving state. */
struct caller_leg {
	int fd;				   /**< UDP socket, connected to the relay endpoint */
	uint8_t id;			   /**< CALLER_A or CALLER_B */
	bool local;			   /**< played by this process */
	bool decode;			   /**< decode and compare audio (call < --decode-calls) */
	bool wait_bye;			   /**< RTCP is on: the drain waits for the peer's BYE */
	struct caller_call *call;	   /**< its call */
	struct caller_leg *peer;	   /**< the other leg when it is local too, else NULL */
	struct sockaddr_storage bind;	   /**< local address (port filled in after bind) */
	socklen_t bind_len;
	struct sockaddr_storage relay;	   /**< where it sends */
	socklen_t relay_len;
	struct duet_sdes key_out, key_in;  /**< wiped once the sessions exist */
	struct duet_sdes key_out2, key_in2; /**< second keys (key_len 0: none); wiped too */
	enum duet_srtp_suite key_suite;	   /**< suite of key_out, kept for the report */
	srtp_t tx, rx;			   /**< protect with key_out, unprotect with key_in */
	srtp_t tx2, rx2;		   /**< the same with the second keys, or NULL */
	const struct caller_track *track;  /**< what it sends */
	/* sending */
	uint32_t ssrc;
	uint16_t seq0;			   /**< sequence number of packet 0 */
	uint32_t ts0;			   /**< RTP timestamp of frame 0 */
	uint64_t next_pkt;		   /**< packets sent so far (index of the next) */
	uint64_t last_frame;		   /**< frame of the last packet sent */
	uint64_t credit_base;		   /**< max mode: packets below this count as delivered */
	uint64_t stall_ns;		   /**< max mode: when the window filled, or 0 */
	bool done;			   /**< sending finished (BYE sent) */
	struct caller_sent *sent_at;	   /**< [CALLER_SENT_RING] */
	struct caller_tx tx_c;
	/* RTCP about what it sends, from the peer's receiver reports */
	bool rr_seen;
	int32_t rr_cum_lost;
	uint32_t rr_jitter;		   /**< timestamp units */
	uint64_t rtt_n;
	double rtt_ms_sum;
	/* receiving */
	struct duet_rtp_stats rs;	   /**< RFC 3550 stats of the peer's stream */
	uint32_t peer_ssrc;
	bool peer_seen;
	uint64_t rx_high;		   /**< highest packet index received + 1 */
	uint64_t rx_next;		   /**< next index the in-order audio check expects */
	bool rx_gap;			   /**< a gap or reorder was seen: no more comparing */
	OpusDecoder *dec;		   /**< decodes what arrives */
	OpusDecoder *ref;		   /**< decodes what the peer sent (from its track) */
	uint32_t lsr;			   /**< middle NTP bits of the peer's last SR */
	uint64_t lsr_ns;		   /**< when it arrived */
	struct caller_rx rx_c;
};

/** One call: a pair of legs and, with --create, its pair in Redis. */
struct caller_call {
	uint32_t index;
	struct caller_leg leg[2];
	char pair_id[DUET_RECORD_ID_MAX + 1]; /**< "" unless created */
	bool pair_created;
};

/** One-way delay histogram of a direction (per worker, merged at the end). */
struct caller_hist {
	uint32_t b[CALLER_HIST_BUCKETS + 1]; /**< see CALLER_HIST_FINE */
};

struct caller;

/** A thread running a contiguous range of calls. */
struct caller_worker {
	pthread_t tid;
	struct caller *c;
	uint32_t first, count;	    /**< its calls */
	int epfd, tfd;		    /**< epoll set, pacing timer */
	struct caller_hist *hist;   /**< [2]: by sending leg */
	uint64_t send_end_ns;	    /**< when its last leg finished sending */
	bool timed_out;		    /**< stopped by --timeout */
	int err;		    /**< 0 or -errno if the loop failed */
	char errstr[160];
};

/** The whole run. */
struct caller {
	struct caller_opts o;
	struct caller_track track[2];	 /**< what leg a / leg b send */
	struct caller_call *calls;	 /**< [o.calls] */
	struct caller_worker *workers;	 /**< [n_workers] */
	uint32_t n_workers;
	uint64_t start_ns;		 /**< CLOCK_MONOTONIC at the start of sending */
	uint64_t end_ns;		 /**< when the last worker stopped */
	uint64_t send_end_ns;		 /**< when the last leg stopped sending */
	bool timed_out;
	bool interrupted;
	struct caller_redis *redis;	 /**< with --create */
};

/* caller_clock.c */
extern volatile sig_atomic_t caller_stop; /**< set by SIGINT/SIGTERM */
uint64_t caller_now_ns(void);
/* SIGINT/SIGTERM set caller_stop; SIGPIPE is ignored. Main thread. */
void caller_install_signals(void);

/* caller_args.c */
int caller_usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int caller_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int caller_args_parse(struct caller_opts *o, int argc, char **argv);
void caller_opts_wipe(struct caller_opts *o);
int caller_random(void *buf, size_t len);
const char *caller_mode_name(enum duet_pair_mode m);
int caller_make_keys(enum duet_srtp_suite suite, enum duet_pair_mode mode,
		     struct duet_sdes relay_keys[4]);
int caller_gen_keys(const struct caller_opts *o);

/* caller_track.c */
int caller_track_build(struct caller_track *t, const int16_t *pcm, size_t n,
		       const struct caller_opts *o, uint64_t max_frames, uint64_t max_packets,
		       const char **why);
void caller_track_free(struct caller_track *t);
int caller_track_packet(const struct caller_track *t, uint64_t k, const uint8_t **payload,
			uint16_t *len, uint64_t *frame);
int caller_track_frame(const struct caller_track *t, uint64_t frame);

/* caller_net.c */
int caller_net_open(struct caller *c);
int caller_sessions_open(struct caller *c);
void caller_net_close(struct caller *c);

/* caller_media.c */
int caller_send_packet(struct caller_worker *w, struct caller_leg *l, uint64_t now,
		       uint64_t due);
void caller_send_rtcp(struct caller_worker *w, struct caller_leg *l, uint64_t now, bool bye);
void caller_receive(struct caller_worker *w, struct caller_leg *l);
bool caller_leg_rx_complete(const struct caller_leg *l);

/* caller_loop.c */
int caller_run(struct caller *c);

/* caller_report.c */
enum caller_check caller_leg_check(const struct caller *c, const struct caller_leg *rx);
enum caller_check caller_overall_check(const struct caller *c);
const char *caller_check_name(enum caller_check v);
void caller_report(const struct caller *c, FILE *out);

/* caller_redis.c */
int caller_redis_create(struct caller *c);
void caller_redis_delete(struct caller *c);

#endif /* CALLER_H */
