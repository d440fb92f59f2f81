/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duetctl internals shared by its files: the parsed global options, the
 * argument checks every command uses, the commands themselves and the text
 * and JSON writers. duetctl is a single-threaded command-line tool.
 */
#ifndef DUETCTL_H
#define DUETCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "duet_redis.h"
#include "duet_record.h"
#include "duet_sdes.h"

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
	FILE *out;			 /**< command output, copied to stdout on success only */
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

/** @name Commands: argv[0] is the command name. Return an exit code. @{ */
int duetctl_cmd_create(struct duetctl *ctl, int argc, char **argv);
int duetctl_cmd_delete(struct duetctl *ctl, int argc, char **argv);
int duetctl_cmd_list(struct duetctl *ctl, int argc, char **argv);
int duetctl_cmd_show(struct duetctl *ctl, int argc, char **argv);
int duetctl_cmd_relay(struct duetctl *ctl, int argc, char **argv);
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
/** End the document with a newline. */
void duetctl_json_end(struct duetctl_json *j);

/**
 * Print s (len bytes) for a terminal: control characters become '?', so a
 * hostile record cannot send escape sequences to the operator's terminal.
 */
void duetctl_print_text(FILE *f, const char *s, size_t len);

#endif /* DUETCTL_H */
