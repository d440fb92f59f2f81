/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_record: the words of the Redis contract's pair record, in one place
 * for every program that writes or reads one (duetd, duetctl, duet-caller):
 * field names, the security modes and which SRTP key fields each mode
 * takes, the pair-id rule, the numeric limits of the optional fields, and
 * struct duet_pair_spec, a record once validated (duet_contract.h parses
 * one).
 * Pure C: no DPDK, no hiredis; any thread. docs/redis-contract.md is the
 * prose of the same contract.
 */
#ifndef DUET_RECORD_H
#define DUET_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet_addr.h"
#include "duet_sdes.h"

/* Field names of a pair hash (duet:{R}:pair:<id>). */
#define DUET_FIELD_A "a"		/**< relay endpoint of leg a */
#define DUET_FIELD_B "b"		/**< relay endpoint of leg b */
#define DUET_FIELD_A_SRC "a_src"	/**< pinned client of leg a */
#define DUET_FIELD_B_SRC "b_src"	/**< pinned client of leg b */
#define DUET_FIELD_MODE "mode"		/**< enum duet_pair_mode by name */
#define DUET_FIELD_IDLE_MS "idle_ms"	/**< idle timeout, ms */
#define DUET_FIELD_EXPIRES "expires"	/**< end time, unix seconds */
#define DUET_FIELD_RELATCH "relatch"	/**< ssrc | any | never */
#define DUET_FIELD_MAX_PPS "max_pps"	/**< per-leg policer, packets/s */
#define DUET_FIELD_MAX_KBPS "max_kbps"	/**< per-leg policer, kbit/s */
#define DUET_FIELD_A_IN "a_in"		/**< SDES key: what client a protects with */
#define DUET_FIELD_A_OUT "a_out"	/**< SDES key: what the relay protects with toward a */
#define DUET_FIELD_B_IN "b_in"		/**< SDES key: what client b protects with */
#define DUET_FIELD_B_OUT "b_out"	/**< SDES key: what the relay protects with toward b */

/* Fields of a pair's stats hash (duet:{R}:stats:<id>) that duetd writes
 * and reads back after a restart: how far each SRTP stream of the pair got
 * (struct duet_srtp_stream_state), one field per key; see
 * duet_record_srtp_field(). */
#define DUET_FIELD_A_SRTP_IN "a_srtp_in"   /**< streams from client a (key a_in) */
#define DUET_FIELD_A_SRTP_OUT "a_srtp_out" /**< streams the relay sends to a (key a_out, rekey) */
#define DUET_FIELD_B_SRTP_IN "b_srtp_in"   /**< streams from client b (key b_in) */
#define DUET_FIELD_B_SRTP_OUT "b_srtp_out" /**< streams the relay sends to b (key b_out, rekey) */

/** Longest pair id, in bytes: 1..64 characters of [A-Za-z0-9._:-]. */
#define DUET_RECORD_ID_MAX 64

/** Largest idle_ms a pair may ask for (one day). */
#define DUET_RECORD_IDLE_MS_MAX 86400000u
/** Largest expires accepted: 9999-12-31T23:59:59Z in unix seconds. */
#define DUET_RECORD_EXPIRES_MAX 253402300799ull
/** Largest max_pps a pair may ask for (as [security] max_pps). */
#define DUET_RECORD_MAX_PPS_MAX 10000000u
/** Largest max_kbps a pair may ask for (as [security] max_kbps). */
#define DUET_RECORD_MAX_KBPS_MAX 100000000u

/** Security mode of a pair (field `mode`). */
enum duet_pair_mode {
	DUET_MODE_PASSTHROUGH = 0, /**< forward SRTP untouched; the relay holds no key */
	DUET_MODE_VERIFY,	   /**< authenticate and replay-check, forward unchanged */
	DUET_MODE_REKEY,	   /**< decrypt with the sender's key, encrypt with the receiver's */
	DUET_MODE_COUNT,
};

/** The SRTP key fields of a pair, in the relay's view. */
enum duet_pair_key {
	DUET_KEY_A_IN = 0, /**< `a_in`: what client a protects with (relay unprotects) */
	DUET_KEY_A_OUT,	   /**< `a_out`: what the relay protects with toward a (rekey) */
	DUET_KEY_B_IN,	   /**< `b_in`: what client b protects with */
	DUET_KEY_B_OUT,	   /**< `b_out`: what the relay protects with toward b (rekey) */
	DUET_KEY_COUNT,
};

/** A pair as the control plane describes it, after validation. */
struct duet_pair_spec {
	char id[DUET_RECORD_ID_MAX + 1]; /**< pair id, [A-Za-z0-9._:-], 1..64 */
	uint8_t mode;		       /**< enum duet_pair_mode */
	struct duet_addr ep[2];	       /**< relay endpoints of legs a (0) and b (1) */
	struct duet_addr pin[2];       /**< pinned client address, or family NONE */
	uint16_t port_idx[2];	       /**< index of the duet port each endpoint is on */
	uint32_t idle_ms;	       /**< idle timeout in ms, 0 = never (the contract parser fills in the relay default) */
	uint64_t expires;	       /**< unix seconds when the pair ends, 0 = never */
	uint8_t relatch;	       /**< enum duet_relatch (passthrough re-latch policy) */
	uint32_t max_pps;	       /**< per-leg policer, packets/s, 0 = no packet limit */
	uint32_t max_kbps;	       /**< per-leg policer, kbit/s of IP packets, 0 = no byte limit */
	struct duet_sdes key[DUET_KEY_COUNT]; /**< SRTP keys (key_len 0 = none); secret */
};

/** Most SRTP streams (SSRCs) one key field of the stats hash lists: as
 * many as a direction of a keyed pair may hold ([security] srtp_max_ssrc
 * at most). */
#define DUET_RECORD_SRTP_STREAMS_MAX 16
/** Longest srtp field value: 16 streams of "4294967295:4294967295:65535:2147483647". */
#define DUET_RECORD_SRTP_TEXT_MAX (DUET_RECORD_SRTP_STREAMS_MAX * 39)

/**
 * How far one SRTP stream of a pair got: what duetd writes back so that a
 * restart continues the stream (RFC 3711's rollover counter, which the
 * packets do not carry, and the replay state). Not secret.
 */
struct duet_srtp_stream_state {
	uint32_t ssrc;	   /**< the stream's SSRC */
	uint32_t roc;	   /**< RTP: ROC of the highest packet index (with has_rtp) */
	uint16_t seq;	   /**< RTP: sequence number of that index (with has_rtp) */
	uint8_t key;	   /**< enum duet_pair_key it is protected with: `a_in`, from
			        client a; `a_out`, by the relay toward a (rekey); ... */
	uint8_t has_rtp;   /**< roc and seq are set */
	uint8_t has_srtcp; /**< srtcp is set (streams of an `_in` key only) */
	uint8_t reserved[3];
	uint32_t srtcp;	   /**< highest SRTCP index, 0..2^31-1 (with has_srtcp) */
};

/** Stats hash field ("a_srtp_in", ...) of the streams of key k, or NULL. */
const char *duet_record_srtp_field(unsigned int k);

/**
 * Write the streams of key k among s[0..n-1] as a field value: a comma
 * separated list, in the order given, of `<ssrc>:<roc>:<seq>` (RTP),
 * `<ssrc>:<roc>:<seq>:<srtcp>` (RTP and SRTCP) or `<ssrc>:-:-:<srtcp>`
 * (SRTCP only), all decimal; "" for none. Entries with nothing set are
 * left out. Any thread.
 * @return the length written (NUL not counted), or -ENOSPC when buf (len
 *         bytes; DUET_RECORD_SRTP_TEXT_MAX + 1 is enough for a valid list)
 *         is too small, -EINVAL for an unknown key
 */
int duet_record_srtp_format(const struct duet_srtp_stream_state *s, unsigned int n,
			    unsigned int k, char *buf, size_t len);

/**
 * Parse a field value written by duet_record_srtp_format() for key k. The
 * text comes from Redis and is refused unless it is exactly that grammar:
 * canonical decimal (no sign, space or leading zero), ssrc and roc at most
 * 2^32-1, seq 65535, srtcp 2^31-1, no SRTCP on an `_out` key, each SSRC
 * once, at most max and DUET_RECORD_SRTP_STREAMS_MAX streams, no empty
 * item, no other byte (a NUL included). Any thread.
 * @param s    the value, len bytes (not NUL-terminated)
 * @param out  up to max states, key set to k
 * @param why  on error, what was wrong (may be NULL)
 * @return the number of streams (0 for ""), or -EINVAL
 */
int duet_record_srtp_parse(const char *s, size_t len, unsigned int k,
			   struct duet_srtp_stream_state *out, unsigned int max, char *why,
			   size_t whylen);

/**
 * Parse a relay endpoint as the free set, the alloc hash and a pair's `a`
 * and `b` hold it: "192.0.2.1:20000" or "[2001:db8::1]:20000", spelled
 * exactly as duet_addr_format() writes it (IPv6 in lower case, shortest
 * form). Redis compares endpoints as text, so "[2001:DB8:0::1]:20000",
 * although the same address to duet_addr_parse(), would be a second
 * endpoint there (handed out twice, never matched by a guarded delete).
 * Pins are client addresses, never compared as text: they take any
 * spelling duet_addr_parse() does.
 * @param out   the endpoint (may be NULL)
 * @param canon when not NULL, the spelling duetd writes (DUET_ADDR_STRLEN
 *              bytes), set whenever the text is an address (for messages)
 * @return 0; -EINVAL when the text is not "ip:port" or "[v6]:port";
 *         -EILSEQ when it is, but spelled another way than duetd writes it.
 * Any thread.
 */
int duet_record_endpoint_parse(const char *s, struct duet_addr *out, char *canon);

/** Mode name ("passthrough", ...), or NULL for an unknown value. */
const char *duet_mode_name(unsigned int mode);

/** Parse a mode name. @return 0 or -EINVAL. */
int duet_mode_parse(const char *s, uint8_t *mode);

/** "passthrough, verify, rekey": for messages. */
const char *duet_mode_list(void);

/** Field name of key k ("a_in", ...), or NULL. */
const char *duet_key_field(unsigned int k);

/**
 * Which key field is this name (len bytes, not NUL-terminated)?
 * @return enum duet_pair_key, or -1 when it names no key.
 */
int duet_key_field_index(const char *name, size_t len);

/**
 * Does a record in `mode` carry key k? verify: a_in and b_in (what each
 * client sends with); rekey: all four; passthrough: none (the relay must
 * not hold end-to-end keys). Every other key field is refused.
 */
bool duet_mode_takes_key(unsigned int mode, unsigned int k);

/** True when c may appear in a pair id: [A-Za-z0-9._:-], ASCII only. */
static inline bool
duet_record_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '-';
}

/** True when id is a valid pair id (1..DUET_RECORD_ID_MAX of duet_record_id_char). */
bool duet_record_id_ok(const char *id);

#endif /* DUET_RECORD_H */
