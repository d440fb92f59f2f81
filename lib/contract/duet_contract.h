/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_contract: the Redis contract's records as plain C, without Redis.
 * A pair hash (duet:{R}:pair:<id>) arrives here as a list of field/value
 * strings and leaves as a validated struct duet_pair_spec, or is refused
 * with a reason that names the field and what is wrong. The events stream's
 * entries and ids are parsed here too. Everything is pure C with no hiredis
 * and no EAL, so it is unit tested and fuzzed directly; duet_sync (control
 * thread) is the only caller inside duetd. The words it checks against are
 * duet_record.h's; the Lua scripts beside it (lua/) are the contract's
 * writers.
 *
 * Reasons never contain a client address: they go to the log and to the
 * pair's stats hash, and neither may hold one (docs/redis-contract.md).
 */
#ifndef DUET_CONTRACT_H
#define DUET_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet_conf.h"
#include "duet_record.h"

/** Size of a reason buffer that holds every message of this module. */
#define DUET_CONTRACT_WHY_MAX 256

/** Largest idle_ms a pair may ask for (one day). */
#define DUET_CONTRACT_IDLE_MS_MAX DUET_RECORD_IDLE_MS_MAX

/** Largest max_pps a pair may ask for (as [security] max_pps). */
#define DUET_CONTRACT_MAX_PPS_MAX DUET_RECORD_MAX_PPS_MAX

/** Largest max_kbps a pair may ask for (as [security] max_kbps). */
#define DUET_CONTRACT_MAX_KBPS_MAX DUET_RECORD_MAX_KBPS_MAX

/** Largest expires accepted: 9999-12-31T23:59:59Z in unix seconds. */
#define DUET_CONTRACT_EXPIRES_MAX DUET_RECORD_EXPIRES_MAX

/** One field of a Redis hash or stream entry, as C strings. */
struct duet_contract_field {
	const char *name;  /**< field name */
	const char *value; /**< field value */
};

/** What an events stream entry asks for. */
enum duet_contract_op {
	DUET_CONTRACT_OP_PUT = 0, /**< re-read the pair hash and apply it */
	DUET_CONTRACT_OP_DEL,	  /**< delete the pair locally */
};

/** A stream entry id "<ms>-<seq>" as numbers, so ids can be compared. */
struct duet_contract_stream_id {
	uint64_t ms;  /**< milliseconds part */
	uint64_t seq; /**< sequence part */
};

/**
 * Check a pair id: 1..DUET_RECORD_ID_MAX characters of [A-Za-z0-9._:-].
 * @param why on failure, what is wrong with it (may be NULL)
 * @return 0 or -EINVAL. Any thread.
 */
int duet_contract_check_id(const char *id, char *why, size_t whylen);

/**
 * Turn the fields of pair hash `id` into a spec, validating every field
 * against the contract and the relay's configuration: endpoints `a` and `b`
 * must be distinct service addresses of this relay with the UDP port in the
 * media range, spelled as duetd writes them (duet_record_endpoint_parse());
 * each leg's family is its endpoint's, and the two legs may differ (a v4 <->
 * v6 bridge); `a_src`/`b_src` (optional) must be unicast addresses of their
 * leg's endpoint's family; `mode` must be passthrough, verify or rekey;
 * `idle_ms` and `expires` must be unsigned decimal numbers in range;
 * `relatch` (ssrc | any | never), `max_pps` and `max_kbps` (optional,
 * 0 = no limit; absent = the relay's [relay]/[security] default); a pin
 * must pass the source policy (duet_policy_fp.h); the
 * SRTP key fields (`a_in`, `b_in` for verify; those and `a_out`, `b_out`
 * for rekey; none for passthrough) must be SDES values (duet_sdes.h).
 * Unknown fields are ignored; a field given twice is refused. out->key
 * holds secrets: the caller wipes it (duet_secure_zero) when done. An absent or empty optional field is the same as absent.
 * out->idle_ms is the effective timeout: the relay's idle_timeout_ms when the
 * record has none; 0 means the pair never idles out.
 * out->port_idx[] is filled from duet_conf_endpoint_port().
 * @param why on failure, "field <name>: <what is wrong>" or similar; never
 *        contains a client address (may be NULL)
 * @return 0, or -EINVAL with why set. Any thread.
 */
int duet_contract_parse_pair(const char *id, const struct duet_contract_field *fields,
			     size_t n, const struct duet_conf *conf,
			     struct duet_pair_spec *out, char *why, size_t whylen);

/**
 * Parse an events stream entry: fields `op` (put | del) and `id`, each once;
 * other fields are ignored.
 * @param id out, DUET_RECORD_ID_MAX + 1 bytes
 * @return 0, or -EINVAL with why set (unknown op, missing, repeated or
 *         invalid op or id).
 */
int duet_contract_parse_event(const struct duet_contract_field *fields, size_t n,
			      enum duet_contract_op *op, char *id, char *why, size_t whylen);

/**
 * Parse a stream id "<ms>-<seq>" (both decimal, 64-bit).
 * @return 0 or -EINVAL.
 */
int duet_contract_stream_id_parse(const char *s, struct duet_contract_stream_id *out);

/** Compare two stream ids: <0, 0 or >0 like strcmp. */
int duet_contract_stream_id_cmp(const struct duet_contract_stream_id *x,
				const struct duet_contract_stream_id *y);

/** What XINFO STREAM says about the events stream. */
struct duet_contract_stream_info {
	bool exists;					/**< the stream key exists */
	uint64_t length;				/**< entries in it now */
	struct duet_contract_stream_id last_generated;	/**< last-generated-id */
	bool has_max_deleted;				/**< Redis >= 7 reported it */
	struct duet_contract_stream_id max_deleted;	/**< max-deleted-entry-id (XDEL only) */
	bool has_entries_added;				/**< Redis >= 7 reported it */
	uint64_t entries_added;				/**< entries ever added */
	bool has_first;					/**< the stream has entries */
	struct duet_contract_stream_id first;		/**< id of its first entry */
};

/** Where a follower of the events stream is. */
struct duet_contract_stream_pos {
	struct duet_contract_stream_id id; /**< last entry applied, 0-0 for none */
	bool has_added;			   /**< `added` is known */
	uint64_t added;			   /**< entries-added when `id` was the stream's last */
};

/**
 * Can a follower at `pos` go on reading after pos->id, or must it reload
 * every pair? It must reload when the stream is gone (unless it never read
 * one), when the stream is older than its position (Redis came back empty or
 * from an older copy), or when entries after its position were removed
 * before it read them: by XDEL (max-deleted-entry-id past it) or by
 * trimming (the stream's head is past it and fewer entries remain than were
 * added since; without entries-added, i.e. before Redis 7, any head past it
 * counts as a loss).
 * @param why when false, a short reason for the log (may be NULL)
 * @return true to resume. Any thread.
 */
bool duet_contract_stream_can_resume(const struct duet_contract_stream_info *info,
				     const struct duet_contract_stream_pos *pos,
				     const char **why);

/**
 * Copy a value into buf for a message: at most 48 characters, anything but
 * printable ASCII replaced with '?', "..." appended when cut. Keeps hostile
 * record values from flooding or corrupting logs. @return buf.
 */
const char *duet_contract_quote(const char *value, char *buf, size_t len);

#endif /* DUET_CONTRACT_H */
