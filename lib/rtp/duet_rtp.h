/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_rtp: RTP and RTCP header views and per-stream receive statistics
 * (RFC 3550, with the RTP/RTCP demultiplexing of RFC 5761 for rtcp-mux).
 * The types are here; the per-packet functions (parse, demux, sequence and
 * jitter update) are static inline in duet_rtp_fp.h so a worker lcore can
 * use them; the functions declared below (figures for reports, RTCP
 * report blocks, building and reading RTCP packets) are plain C with no
 * allocation, lock, syscall or log, usable from any thread that owns the
 * stats object (duetd's workers or control thread, duet-caller's loop).
 * Nothing here depends on DPDK.
 */
#ifndef DUET_RTP_H
#define DUET_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DUET_RTP_VERSION 2	     /**< the only RTP/RTCP version */
#define DUET_RTP_HDR_LEN 12	     /**< fixed RTP header */
#define DUET_RTP_SEQ_MOD (1u << 16)  /**< RFC 3550 A.1 RTP_SEQ_MOD */
#define DUET_RTP_MAX_DROPOUT 3000    /**< A.1: largest forward jump taken as loss */
#define DUET_RTP_MAX_MISORDER 100    /**< A.1: largest backward step taken as reordering */
#define DUET_RTP_MIN_SEQUENTIAL 2    /**< A.1: packets in sequence before a source is valid */
#define DUET_RTP_DUP_WINDOW 128	     /**< bits of recent sequence numbers kept for duplicates */

#define DUET_RTCP_HDR_LEN 4	     /**< RTCP common header */
#define DUET_RTCP_PT_MIN 192	     /**< RFC 5761: second byte 192..223 is RTCP */
#define DUET_RTCP_PT_MAX 223
#define DUET_RTCP_SR 200	     /**< sender report */
#define DUET_RTCP_RR 201	     /**< receiver report */
#define DUET_RTCP_SDES 202	     /**< source description */
#define DUET_RTCP_BYE 203	     /**< goodbye */
#define DUET_RTCP_APP 204	     /**< application-defined */
#define DUET_RTCP_SDES_CNAME 1	     /**< SDES item type of the canonical name */
#define DUET_RTCP_MAX_RB 31	     /**< report blocks that fit the 5-bit count */
#define DUET_RTCP_RB_LEN 24	     /**< one report block */
#define DUET_RTCP_SENDER_INFO_LEN 20 /**< NTP time, RTP time, packet and octet counts */

/** A parsed RTP header. Offsets are from the start of the packet. */
struct duet_rtp_hdr {
	uint8_t padding;      /**< P bit */
	uint8_t extension;    /**< X bit */
	uint8_t cc;	      /**< CSRC count */
	uint8_t marker;	      /**< M bit */
	uint8_t pt;	      /**< payload type, 0..127 */
	uint8_t pad_len;      /**< padding bytes at the end (0 unless P, and only when checked) */
	uint16_t seq;	      /**< sequence number */
	uint32_t ts;	      /**< RTP timestamp */
	uint32_t ssrc;	      /**< synchronisation source */
	uint16_t ext_profile; /**< header extension profile (X set) */
	uint16_t ext_len;     /**< header extension body in bytes (X set) */
	uint16_t ext_off;     /**< offset of the extension body (X set) */
	uint16_t payload_off; /**< offset of the payload: 12 + 4*cc (+ extension) */
	uint16_t payload_len; /**< payload bytes, padding excluded */
};

/** What a datagram on an rtcp-mux port is (RFC 5761 section 4). */
enum duet_rtp_kind {
	DUET_RTP_KIND_OTHER = 0, /**< not RTP version 2 (STUN, DTLS, junk) or too short */
	DUET_RTP_KIND_RTP,	 /**< RTP (or SRTP) */
	DUET_RTP_KIND_RTCP,	 /**< RTCP (or SRTCP) */
};

/** The common header of one RTCP packet inside a compound packet. */
struct duet_rtcp_hdr {
	uint8_t padding; /**< P bit */
	uint8_t count;	 /**< RC, SC or subtype (5 bits) */
	uint8_t pt;	 /**< packet type, 192..223 */
	uint8_t pad_len; /**< padding bytes at the end of this packet (P set) */
	uint32_t ssrc;	 /**< first word after the header (sender or first source), 0 if none */
	uint32_t len;	 /**< bytes of this packet, header included: (length + 1) * 4 */
};

/** SR sender information (RFC 3550 6.4.1). */
struct duet_rtcp_sender_info {
	uint64_t ntp;	      /**< NTP timestamp, 32.32 fixed point seconds since 1900 */
	uint32_t rtp_ts;      /**< RTP timestamp of the same instant */
	uint32_t packets;     /**< sender's packet count */
	uint32_t octets;      /**< sender's payload octet count */
};

/** One reception report block (RFC 3550 6.4.1). */
struct duet_rtcp_rb {
	uint32_t ssrc;	       /**< source this block is about */
	uint8_t fraction_lost; /**< lost fraction since the last report, /256 */
	int32_t cum_lost;      /**< cumulative lost, 24-bit signed */
	uint32_t ext_max_seq;  /**< extended highest sequence number received */
	uint32_t jitter;       /**< interarrival jitter, timestamp units */
	uint32_t lsr;	       /**< middle 32 bits of the last SR's NTP time, 0 if none */
	uint32_t dlsr;	       /**< delay since that SR, 1/65536 s */
};

/** An SR or RR read back by duet_rtcp_parse_report(). */
struct duet_rtcp_report {
	uint8_t pt;				  /**< DUET_RTCP_SR or DUET_RTCP_RR */
	uint8_t n_rb;				  /**< report blocks in rb[] */
	uint32_t ssrc;				  /**< sender of the report */
	struct duet_rtcp_sender_info si;	  /**< valid for SR */
	struct duet_rtcp_rb rb[DUET_RTCP_MAX_RB]; /**< the blocks */
};

/** How duet_rtp_stats_update() classed a packet. */
enum duet_rtp_seq_result {
	DUET_RTP_SEQ_IN_ORDER = 0, /**< new highest sequence number (after a gap or not) */
	DUET_RTP_SEQ_REORDERED,	   /**< older than the highest, first time seen */
	DUET_RTP_SEQ_DUPLICATE,	   /**< seen before (within DUET_RTP_DUP_WINDOW) */
	DUET_RTP_SEQ_PROBATION,	   /**< source not valid yet: not counted */
	DUET_RTP_SEQ_JUMP,	   /**< very large jump: not counted unless the next follows it */
	DUET_RTP_SEQ_RESYNC,	   /**< the jump was confirmed: stats restart here (counted) */
};

/**
 * Receive statistics of one RTP stream (one SSRC), RFC 3550 A.1 (sequence
 * validation, extended sequence numbers, loss) and A.8 (jitter). Zero it
 * with duet_rtp_stats_init(); the first packet given to
 * duet_rtp_stats_update() starts the stream. Owned by one thread. 96
 * bytes: everything a packet touches (window, sequence and jitter state,
 * received) in the first cache line; rarer counters in the second.
 */
struct duet_rtp_stats {
	uint64_t seen[DUET_RTP_DUP_WINDOW / 64]; /**< bit (seq % 128): seq received lately */
	uint64_t cycles;	 /**< wraps of the sequence number, times 65536 */
	uint32_t base_seq;	 /**< first sequence number of the (re)started stream */
	uint32_t bad_seq;	 /**< sequence number that would confirm a jump, or 65536+1 */
	uint16_t max_seq;	 /**< highest sequence number received */
	uint8_t started;	 /**< a packet has been seen */
	uint8_t have_transit;	 /**< transit holds a previous packet's value */
	uint32_t probation;	 /**< packets still needed in sequence before valid */
	uint32_t min_sequential; /**< probation a new stream starts with */
	uint32_t transit;	 /**< A.8: arrival - timestamp of the last packet */
	uint32_t jitter_q4;	 /**< A.8: interarrival jitter times 16, timestamp units */
	uint64_t received;	 /**< A.1: packets counted since (re)start, duplicates included */
	/* Second cache line. */
	uint64_t reordered;	 /**< packets that arrived after a higher sequence number */
	uint64_t duplicates;	 /**< packets seen twice */
	uint64_t resyncs;	 /**< times the stream restarted after a confirmed jump */
	uint32_t expected_prior; /**< A.3: expected at the last report block */
	uint32_t received_prior; /**< A.3: received at the last report block */
};

/**
 * Reset a stats object before its stream's first packet.
 * @param min_sequential packets that must arrive in sequence before the
 *        source counts: DUET_RTP_MIN_SEQUENTIAL (2) as RFC 3550 suggests for
 *        unauthenticated traffic; 1 (or 0) counts from the first packet,
 *        right for packets that SRTP has authenticated.
 */
void duet_rtp_stats_init(struct duet_rtp_stats *st, uint32_t min_sequential);

/** Extended highest sequence number received (cycles + max_seq). */
uint64_t duet_rtp_stats_ext_max(const struct duet_rtp_stats *st);

/** Packets expected since (re)start: ext_max - base_seq + 1 (0 before the first valid). */
uint64_t duet_rtp_stats_expected(const struct duet_rtp_stats *st);

/** Cumulative packets lost: expected - received; negative with duplicates (RFC 3550 6.4.1). */
int64_t duet_rtp_stats_lost(const struct duet_rtp_stats *st);

/** Interarrival jitter in timestamp units (jitter_q4 / 16, rounded down as A.8 reports it). */
uint32_t duet_rtp_stats_jitter_ts(const struct duet_rtp_stats *st);

/**
 * Interarrival jitter in milliseconds.
 * @param clock_rate the payload's RTP clock (48000 for Opus); 0 gives 0
 */
double duet_rtp_stats_jitter_ms(const struct duet_rtp_stats *st, uint32_t clock_rate);

/**
 * Fill a reception report block for this stream and start a new interval
 * (RFC 3550 A.3: fraction lost since the previous block; cumulative lost
 * clamped to 24 bits signed). Changes the interval counters: only the
 * stats' owner calls it.
 * @param ssrc source the block is about
 * @param lsr  middle 32 bits of the NTP time of that source's last SR, or 0
 * @param dlsr delay since that SR was received, 1/65536 s, or 0
 */
void duet_rtp_stats_report_block(struct duet_rtp_stats *st, uint32_t ssrc, uint32_t lsr,
				 uint32_t dlsr, struct duet_rtcp_rb *out);

/**
 * Write a sender report (with si) or, when si is NULL, a receiver report.
 * @return bytes written, -EINVAL if n_rb > 31, -ENOSPC if len is too small
 */
int duet_rtcp_write_report(uint8_t *buf, size_t len, uint32_t ssrc,
			   const struct duet_rtcp_sender_info *si, const struct duet_rtcp_rb *rb,
			   unsigned int n_rb);

/**
 * Write an SDES packet with one chunk: ssrc and its CNAME (1..255 bytes),
 * null-terminated and padded to a 32-bit boundary.
 * @return bytes written, -EINVAL for a bad cname, -ENOSPC if len is too small
 */
int duet_rtcp_write_sdes_cname(uint8_t *buf, size_t len, uint32_t ssrc, const char *cname);

/**
 * Write a BYE for one source, without a reason.
 * @return bytes written (8), -ENOSPC if len is too small
 */
int duet_rtcp_write_bye(uint8_t *buf, size_t len, uint32_t ssrc);

/**
 * Read an SR or RR packet whose header duet_rtcp_parse() accepted
 * (p points at its header, len is at least hdr.len).
 * @return 0; -EINVAL if it is not SR/RR; -EMSGSIZE if its length cannot
 *         hold the sender info and report blocks its count announces
 */
int duet_rtcp_parse_report(const uint8_t *p, size_t len, struct duet_rtcp_report *out);

/**
 * Check a compound RTCP packet as RFC 3550 A.2 does: every packet version
 * 2, the first an SR or RR without padding, padding only on the last, the
 * lengths adding up exactly to len.
 * @return the number of packets in it, -EINVAL, or -EMSGSIZE (truncated)
 */
int duet_rtcp_check_compound(const uint8_t *p, size_t len);

/** Middle 32 bits of an NTP timestamp (the LSR field of a report block). */
static inline uint32_t
duet_rtcp_ntp_mid(uint64_t ntp)
{
	return (uint32_t)(ntp >> 16);
}

#endif /* DUET_RTP_H */
