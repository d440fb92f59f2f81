/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duetctl internals shared by its files: the parsed global options, the
 * argument checks every command uses, the pair options create and update
 * share, the commands themselves, Redis hash reading and the text and JSON
 * writers. duetctl is a single-threaded command-line tool.
 */
#ifndef DUETCTL_H
#define DUETCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "duet_addr.h"
#include "duet_redis.h"
#include "duet_record.h"
#include "duet_sdes.h"

struct duetctl_json;

/** Exit codes: success, runtime failure (Redis, script error), bad usage. */
#define DUETCTL_EXIT_OK 0
#define DUETCTL_EXIT_FAIL 1
#define DUETCTL_EXIT_USAGE 2

#define DUETCTL_RELAY_MAX 32 /**< same limit as duetd's [relay] id */

/** Global options and the connection, built by main. */
struct duetctl {
	const char *relay;		 /**< relay id R of the keys duet:{R}:... */
	const char *addr;		 /**< Redis address as given */
	struct duet_redis_target target; /**< parsed addr plus credentials */
	struct duet_redis_addr addr_parsed; /**< what target's address fields point into */
	struct duet_redis redis;	 /**< the connection (after duetctl_connect) */
	bool json;			 /**< JSON output instead of text */
	FILE *out;			 /**< command output: held and copied to stdout on
					      success only, or stdout itself for a command
					      that prints as it goes (list) */
};

/**
 * Report a usage error naming the argument: "duetctl: <msg>" plus a hint.
 * @return DUETCTL_EXIT_USAGE, for `return duetctl_usage_err(...)`.
 */
int duetctl_usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * Report a runtime failure: "duetctl: <msg>".
 * @return DUETCTL_EXIT_FAIL.
 */
int duetctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));


/** True when s is a relay id: 1..32 characters of [A-Za-z0-9_-]. */
bool duetctl_valid_relay_id(const char *s);

/**
 * Connect to Redis (after every argument has been checked).
 * @return 0, or DUETCTL_EXIT_FAIL after printing why.
 */
int duetctl_connect(struct duetctl *ctl);

/**
 * Format key duet:{R}:<kind><id> into buf (DUET_REDIS_KEY_MAX bytes).
 * Arguments are validated before, so it cannot overflow.
 */
void duetctl_key(const struct duetctl *ctl, char *buf, const char *kind, const char *id);

/** Milliseconds of clock c (CLOCK_MONOTONIC for deadlines, CLOCK_REALTIME
 * for times written to Redis). */
uint64_t duetctl_now_ms(clockid_t c);

/** Sleep ms milliseconds (a poll loop's pause). */
void duetctl_sleep_ms(unsigned int ms);

/** @name Commands: argv[0] is the command name. Return an exit code. @{ */
int duetctl_cmd_create(struct duetctl *ctl, int argc, char **argv);
int duetctl_cmd_update(struct duetctl *ctl, int argc, char **argv);
int duetctl_cmd_delete(struct duetctl *ctl, int argc, char **argv);
int duetctl_cmd_list(struct duetctl *ctl, int argc, char **argv);
int duetctl_cmd_show(struct duetctl *ctl, int argc, char **argv);
/** relay (the heartbeat), relay drain, relay undrain (duetctl_relay.c). */
int duetctl_cmd_relay(struct duetctl *ctl, int argc, char **argv);
int duetctl_cmd_capacity(struct duetctl *ctl, int argc, char **argv);
int duetctl_cmd_ended(struct duetctl *ctl, int argc, char **argv);
int duetctl_cmd_resync(struct duetctl *ctl, int argc, char **argv);
/** Every drop reason of lib/stats/duet_drop.def with its meaning. */
int duetctl_cmd_drops(struct duetctl *ctl, int argc, char **argv);
/** @} */

/**
 * Parse a command's options that take no value beyond --json and --help.
 * Leaves optind at the first operand. @return -1 to continue, or an exit code.
 */
int duetctl_parse_simple(struct duetctl *ctl, int argc, char **argv, const char *usage);

/**
 * duetctl_parse_simple() for a command that takes no operand.
 * @return -1 to continue, or an exit code.
 */
int duetctl_parse_no_operand(struct duetctl *ctl, int argc, char **argv, const char *usage);

/**
 * Parse the options (--json, --help) and the single pair ID operand of
 * delete and show; the ID is checked against the contract's alphabet.
 * @return -1 with *id set to continue, or an exit code.
 */
int duetctl_parse_id_operand(struct duetctl *ctl, int argc, char **argv, const char *usage,
			     const char **id);

/** @name SRTP keys (duetctl_keys.c) @{ */

/* Key field names, their order and which mode takes which are the
 * contract's: duet_record.h (DUET_KEY_COUNT, duet_key_field(),
 * duet_key_field_index(), duet_mode_takes_key()). */

/** Room for where a key came from: a path cut at 256 bytes, ":LINE". */
#define DUETCTL_KEY_WHERE_MAX 280

/** The keys given to create, by enum duet_pair_key. Secret. */
struct duetctl_keys {
	struct duet_sdes key[DUET_KEY_COUNT];		/**< parsed keys; secret */
	bool given[DUET_KEY_COUNT];				/**< key k was given */
	char where[DUET_KEY_COUNT][DUETCTL_KEY_WHERE_MAX];	/**< "--a-in" or "FILE:LINE" */
};

/**
 * Read keys from a keys file into ks: one "name value" line per key
 * (names a_in, a_out, b_in, b_out; value an SDES crypto attribute value),
 * blank lines and lines starting with '#' ignored, lines of at most 255
 * characters. Refuses an unknown name, a key given twice (in the file or
 * already in ks), a bad value, an over-long line and a file with no key,
 * with a message naming the file and line that never quotes a value.
 * Buffers that held the file are wiped.
 * @param path the file, or "-" for standard input
 * @return 0, or DUETCTL_EXIT_USAGE after the message.
 */
int duetctl_keys_read_file(struct duetctl_keys *ks, const char *path);

/** Wipe the parsed keys in ks. */
void duetctl_keys_wipe(struct duetctl_keys *ks);

/**
 * The keys of a pair in `mode` as SDES text in key_text (empty for a key
 * not written): the keys given in ks, and with make_missing the other keys
 * the mode takes, made at random in suite. A given key the mode does not
 * take is refused (exit 2, naming where it came from). Wipes the parsed
 * keys; key_text is wiped on failure and is the caller's to wipe after.
 * @param cmd the command, for messages ("create", "update ID")
 * @return 0, DUETCTL_EXIT_USAGE or DUETCTL_EXIT_FAIL after the message.
 */
int duetctl_keys_text(const char *cmd, uint8_t mode, bool make_missing,
		      enum duet_srtp_suite suite, struct duetctl_keys *ks,
		      char key_text[DUET_KEY_COUNT][DUET_SDES_TEXT_MAX]);

/** @} */

/** @name Pair options shared by create and update (duetctl_pairopt.c) @{ */

/** getopt_long values of the shared options; a command's own start at
 * DUETCTL_OPT_PAIR_END. */
enum {
	DUETCTL_OPT_A_SRC = 256,
	DUETCTL_OPT_B_SRC,
	DUETCTL_OPT_IDLE_MS,
	DUETCTL_OPT_EXPIRES,
	DUETCTL_OPT_TTL,
	DUETCTL_OPT_A_IN, /* the four key options in enum duet_pair_key order */
	DUETCTL_OPT_A_OUT,
	DUETCTL_OPT_B_IN,
	DUETCTL_OPT_B_OUT,
	DUETCTL_OPT_KEYS_FILE,
	DUETCTL_OPT_RELATCH,
	DUETCTL_OPT_MAX_PPS,
	DUETCTL_OPT_MAX_KBPS,
	DUETCTL_OPT_PAIR_END,
};

/** The shared entries of a command's struct option table. */
#define DUETCTL_PAIR_OPTIONS                                                                \
	{"a-src", required_argument, NULL, DUETCTL_OPT_A_SRC},                              \
	{"b-src", required_argument, NULL, DUETCTL_OPT_B_SRC},                              \
	{"idle-ms", required_argument, NULL, DUETCTL_OPT_IDLE_MS},                          \
	{"expires", required_argument, NULL, DUETCTL_OPT_EXPIRES},                          \
	{"ttl", required_argument, NULL, DUETCTL_OPT_TTL},                                  \
	{"a-in", required_argument, NULL, DUETCTL_OPT_A_IN},                                \
	{"a-out", required_argument, NULL, DUETCTL_OPT_A_OUT},                              \
	{"b-in", required_argument, NULL, DUETCTL_OPT_B_IN},                                \
	{"b-out", required_argument, NULL, DUETCTL_OPT_B_OUT},                              \
	{"keys-file", required_argument, NULL, DUETCTL_OPT_KEYS_FILE},                      \
	{"relatch", required_argument, NULL, DUETCTL_OPT_RELATCH},                          \
	{"max-pps", required_argument, NULL, DUETCTL_OPT_MAX_PPS},                          \
	{"max-kbps", required_argument, NULL, DUETCTL_OPT_MAX_KBPS}

/** The record fields the shared options set, each checked. */
struct duetctl_pair_opts {
	bool may_unpin;			  /**< in: --a-src/--b-src take "none" (update) */
	struct duetctl_keys keys;	  /**< keys given; secret, wiped by the command */
	const char *keys_file;		  /**< --keys-file, read by ..._finish() */
	char a_src[DUET_ADDR_STRLEN];	  /**< canonical pin of leg a, "" = not given */
	char b_src[DUET_ADDR_STRLEN];	  /**< canonical pin of leg b, "" = not given */
	bool unpin[2];			  /**< --a-src/--b-src none: remove the pin */
	char idle_ms[24];		  /**< "" = not given */
	char expires[24];		  /**< unix seconds ("0" = never), "" = not given */
	const char *expires_arg;	  /**< --expires as given */
	const char *ttl_arg;		  /**< --ttl as given */
	const char *relatch;		  /**< NULL = not given */
	char max_pps[24];		  /**< "" = not given */
	char max_kbps[24];		  /**< "" = not given */
};

/** True when getopt value c is one of DUETCTL_PAIR_OPTIONS. */
static inline bool
duetctl_is_pair_opt(int c)
{
	return c >= DUETCTL_OPT_A_SRC && c < DUETCTL_OPT_PAIR_END;
}

/**
 * Check one shared option (c from DUETCTL_PAIR_OPTIONS) into o. A key
 * given on the command line is cleared from argv and warned about.
 * @return -1 to go on, or DUETCTL_EXIT_USAGE after the message.
 */
int duetctl_pair_opt(struct duetctl_pair_opts *o, int c, char *arg);

/**
 * After the options: --expires against --ttl (into o->expires) and the
 * keys file (read last, so a key given both ways is refused whatever the
 * order). @return -1 to go on, or DUETCTL_EXIT_USAGE after the message.
 */
int duetctl_pair_opts_finish(struct duetctl_pair_opts *o, const char *cmd);

/** True when o sets or removes any record field. */
bool duetctl_pair_opts_any(const struct duetctl_pair_opts *o);

/**
 * Append the field/value pairs o sets (pins, idle_ms, expires, relatch,
 * max_pps, max_kbps; not the keys, not the pins to remove) to args.
 * args must have room for 12 more entries.
 */
void duetctl_pair_opts_fields(const struct duetctl_pair_opts *o, const char **args, int *n);

/** Append field/value to args when value is set (not NULL, not ""). */
void duetctl_add_field(const char **args, int *n, const char *field, const char *value);

/** @} */

/** @name Reading hashes (duetctl_read.c) @{ */

/** One field of an HGETALL reply. */
struct duetctl_field {
	const redisReply *name;	 /**< field name, a string reply */
	const redisReply *value; /**< its value, a string reply */
};

/** Which values of a hash JSON prints as numbers. */
enum duetctl_numbers {
	/** a pair record (the control plane's): only the contract's numeric
	 * fields idle_ms, expires, max_pps and max_kbps */
	DUETCTL_NUM_RECORD,
	/** what duetd writes (stats, heartbeat, ended): every value in
	 * unsigned decimal, but the pair id and the reason */
	DUETCTL_NUM_DUETD,
};

/** Text of element i of an array reply (HMGET), or NULL when absent. */
const char *duetctl_reply_str(const redisReply *r, size_t i);

/**
 * HGETALL key into *out (an array reply, empty when the key is missing).
 * @return 0, or DUETCTL_EXIT_FAIL after a message starting with what.
 */
int duetctl_hgetall(struct duetctl *ctl, const char *what, const char *key, redisReply **out);

/**
 * The field/value pairs of an HGETALL reply, sorted by name (Redis hash
 * order is arbitrary; operators compare outputs). Caller frees.
 * @return the array (n entries), or NULL when out of memory.
 */
struct duetctl_field *duetctl_sorted_fields(const redisReply *r, size_t *n);

/**
 * Print fields as "  field  value" lines or as a JSON object, `first` (if
 * present) before the others; SDES key fields show as hidden, pins are
 * marked. nums says which JSON values are numbers.
 */
void duetctl_print_hash(struct duetctl *ctl, struct duetctl_json *j, const struct duetctl_field *f,
			size_t n, const char *first, enum duetctl_numbers nums);

/** @} */

/** Minimal streaming JSON writer; strings are escaped and kept valid UTF-8. */
struct duetctl_json {
	FILE *f;		/**< output stream */
	unsigned int depth;	/**< nesting level, 0 at top */
	bool after_key;		/**< a key was written, its value comes next */
	bool need_comma[16];	/**< per level: something was written already */
};

/** Start writing JSON to f. */
void duetctl_json_init(struct duetctl_json *j, FILE *f);
/** Open an object or array ('{' or '['). */
void duetctl_json_open(struct duetctl_json *j, char bracket);
/** Close the innermost object or array ('}' or ']'). */
void duetctl_json_close(struct duetctl_json *j, char bracket);
/** Write an object key. */
void duetctl_json_key(struct duetctl_json *j, const char *key, size_t len);
/** Write a string value; s == NULL writes null. */
void duetctl_json_str(struct duetctl_json *j, const char *s, size_t len);
/** Write key and string value (s may be NULL for null). */
void duetctl_json_kv(struct duetctl_json *j, const char *key, const char *s);
/** Write an unsigned number. */
void duetctl_json_u64(struct duetctl_json *j, uint64_t v);
/** Write key and unsigned number. */
void duetctl_json_ku64(struct duetctl_json *j, const char *key, uint64_t v);
/** Write key and true or false. */
void duetctl_json_kbool(struct duetctl_json *j, const char *key, bool v);
/**
 * Write a value from Redis (len bytes) as a JSON number when it is an
 * unsigned decimal number in canonical form (no sign, no leading zero, at
 * most 20 digits), else as a string; s == NULL writes null.
 */
void duetctl_json_num_or_str(struct duetctl_json *j, const char *s, size_t len);
/** True when s (len bytes) is what duetctl_json_num_or_str() writes as a number. */
bool duetctl_is_decimal(const char *s, size_t len);
/** End the document with a newline. */
void duetctl_json_end(struct duetctl_json *j);

/**
 * Print s (len bytes) for a terminal: control characters become '?', so a
 * hostile record cannot send escape sequences to the operator's terminal.
 */
void duetctl_print_text(FILE *f, const char *s, size_t len);

#endif /* DUETCTL_H */
