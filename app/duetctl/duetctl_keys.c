/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duetctl's SRTP keys: the keys a pair's mode takes, given or made at
 * random, as the SDES text written into the record; the keys file that
 * `create` and `update --keys-file FILE|-` read (so keys never sit on a command line,
 * where any user reads them in /proc/PID/cmdline), and wiping parsed keys.
 * A keys file holds one "name value" line per key (a_in, a_out, b_in,
 * b_out), with blank lines and '#' comments; it is read with read(2) into
 * buffers of our own, wiped afterwards, so no stdio buffer keeps a copy.
 * Messages name the file and line and never quote a value. Single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "duet_secure_zero.h"
#include "duetctl.h"

#define KEYS_LINE_MAX 255   /* characters of a line, newline not counted */
#define KEYS_FILE_MAX 65536 /* bytes: four keys and their comments fit many times */
#define NAME_ECHO_MAX 16    /* an unknown name is quoted only when this short... */
#define NAME_ECHO_CHARS "abcdefghijklmnopqrstuvwxyz_-" /* ...and made of these */


void
duetctl_keys_wipe(struct duetctl_keys *ks)
{
	duet_secure_zero(ks->key, sizeof(ks->key));
}

int
duetctl_keys_text(const char *cmd, uint8_t mode, bool make_missing, enum duet_srtp_suite suite,
		  struct duetctl_keys *ks, char key_text[DUET_KEY_COUNT][DUET_SDES_TEXT_MAX])
{
	int rc = DUETCTL_EXIT_OK;
	unsigned int k;

	memset(key_text, 0, DUET_KEY_COUNT * DUET_SDES_TEXT_MAX);
	for (k = 0; k < DUET_KEY_COUNT && rc == DUETCTL_EXIT_OK; k++) {
		if (!duet_mode_takes_key(mode, k)) {
			if (ks->given[k])
				rc = duetctl_usage_err("%s: mode %s takes no %s key (%s)", cmd,
						       duet_mode_name(mode), duet_key_field(k),
						       ks->where[k]);
			continue;
		}
		if (!ks->given[k] && !make_missing)
			continue;
		if (!ks->given[k] && duet_sdes_generate(suite, &ks->key[k]) != 0)
			rc = duetctl_fail("%s: cannot make a random key", cmd);
		else if (duet_sdes_format(&ks->key[k], key_text[k], DUET_SDES_TEXT_MAX) != 0)
			rc = duetctl_fail("%s: cannot format a key", cmd);
	}
	duetctl_keys_wipe(ks);
	if (rc != DUETCTL_EXIT_OK)
		duet_secure_zero(key_text, DUET_KEY_COUNT * DUET_SDES_TEXT_MAX);
	return rc;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* An unknown name is quoted back only when it cannot be key material: a
 * short word of lower-case letters (a value always has upper case, digits
 * or ':'), so a line that lost its name does not print its key. */
static bool
name_is_quotable(const char *name, size_t len)
{
	return len <= NAME_ECHO_MAX && strspn(name, NAME_ECHO_CHARS) >= len;
}

/* One line (len characters, no newline; line has room for a NUL). */
static int
keys_line(struct duetctl_keys *ks, const char *file, unsigned int lineno, char *line,
	  size_t len)
{
	const char *why = NULL;
	size_t b = 0, name_len;
	char *name, *value;
	int k;

	if (memchr(line, '\0', len) != NULL)
		return duetctl_usage_err("%s:%u: line holds a NUL byte", file, lineno);
	while (len > 0 && is_blank(line[len - 1]))
		len--;
	line[len] = '\0';
	while (b < len && is_blank(line[b]))
		b++;
	if (b == len || line[b] == '#')
		return 0;
	name = line + b;
	name_len = strcspn(name, " \t");
	value = name + name_len;
	while (is_blank(*value))
		value++;
	k = duet_key_field_index(name, name_len);
	if (k < 0) {
		if (name_is_quotable(name, name_len))
			return duetctl_usage_err("%s:%u: unknown key name '%.*s' (a_in, a_out, "
						 "b_in, b_out)",
						 file, lineno, (int)name_len, name);
		return duetctl_usage_err("%s:%u: line does not start with a key name (a_in, "
					 "a_out, b_in, b_out) and a blank",
					 file, lineno);
	}
	if (ks->given[k])
		return duetctl_usage_err("%s:%u: %s given twice (first %s)", file, lineno,
					 duet_key_field(k), ks->where[k]);
	if (value[0] == '\0')
		return duetctl_usage_err("%s:%u: %s has no value", file, lineno,
					 duet_key_field(k));
	/* why is a fixed description: the value is never repeated. */
	if (duet_sdes_parse(value, &ks->key[k], &why) != 0)
		return duetctl_usage_err("%s:%u: %s: %s", file, lineno, duet_key_field(k),
					 why);
	ks->given[k] = true;
	snprintf(ks->where[k], sizeof(ks->where[k]), "%s:%u", file, lineno);
	return 0;
}

int
duetctl_keys_read_file(struct duetctl_keys *ks, const char *path)
{
	bool use_stdin = strcmp(path, "-") == 0;
	const char *file = use_stdin ? "stdin" : path;
	char chunk[512], line[KEYS_LINE_MAX + 1];
	size_t len = 0, total = 0, i;
	unsigned int lineno = 1, before = 0, after = 0, k;
	int fd, rc = 0;
	ssize_t got;

	for (k = 0; k < DUET_KEY_COUNT; k++)
		before += ks->given[k];
	fd = use_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return duetctl_usage_err("--keys-file: cannot open %s: %s", path, strerror(errno));
	while (rc == 0) {
		got = read(fd, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = duetctl_usage_err("--keys-file: cannot read %s: %s", file,
					       strerror(errno));
			break;
		}
		if (got == 0) {
			if (len > 0) /* a last line without a newline */
				rc = keys_line(ks, file, lineno, line, len);
			break;
		}
		total += (size_t)got;
		if (total > KEYS_FILE_MAX) {
			rc = duetctl_usage_err("%s: longer than %d bytes: not a keys file", file,
					       KEYS_FILE_MAX);
			break;
		}
		for (i = 0; i < (size_t)got && rc == 0; i++) {
			if (chunk[i] == '\n') {
				rc = keys_line(ks, file, lineno, line, len);
				len = 0;
				lineno++;
			} else if (len == KEYS_LINE_MAX) {
				rc = duetctl_usage_err("%s:%u: line longer than %d characters",
						       file, lineno, KEYS_LINE_MAX);
			} else {
				line[len++] = chunk[i];
			}
		}
	}
	if (!use_stdin)
		close(fd);
	duet_secure_zero(chunk, sizeof(chunk));
	duet_secure_zero(line, sizeof(line));
	if (rc != 0)
		return rc;
	for (k = 0; k < DUET_KEY_COUNT; k++)
		after += ks->given[k];
	/* Nothing to read is a mistake (an empty file, stdin from /dev/null),
	 * not a request for random keys. */
	if (after == before)
		return duetctl_usage_err("%s: no key in it (lines 'a_in SDES', 'a_out SDES', "
					 "'b_in SDES', 'b_out SDES')",
					 file);
	return 0;
}
