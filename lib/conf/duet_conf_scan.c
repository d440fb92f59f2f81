/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_conf_scan: the first pass over duetd's config file, before
 * rte_cfgfile reads it. rte_cfgfile silently drops or truncates what it does
 * not understand (a line without '=', text after ']', names and values past
 * its buffers, a comment after an escaped ';'), so this scan refuses each of
 * those with the line number, and nothing wrong reaches the schema unseen.
 * Runs once on the main thread while duetd loads its config; needs no EAL.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <rte_cfgfile.h>

#include "conf_internal.h"

/* Limits that rte_cfgfile imposes; the line scan enforces them up front. */
#define LINE_MAX_CHARS (CFG_NAME_LEN + CFG_VALUE_LEN) /* fgets buffer is this + 4 */
#define NAME_MAX_CHARS (CFG_NAME_LEN - 1)
#define VALUE_MAX_CHARS (CFG_VALUE_LEN - 1)
#define COMMENT_CHAR CFG_DEFAULT_COMMENT_CHARACTER

#define HIDDEN "<hidden>"

static char *
strip(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/*
 * Cut the comment the way rte_cfgfile does: only the first ';' counts, and
 * "\;" is a literal ';'. rte_cfgfile does not cut a comment that follows an
 * escaped ';' but keeps it in the value, so such a line is refused.
 * @return 0, or -1 if an unescaped ';' follows an escaped one.
 */
static int
cut_comment(char *line)
{
	char *p = strchr(line, COMMENT_CHAR);

	if (p == NULL)
		return 0;
	if (p == line || p[-1] != '\\') {
		*p = '\0';
		return 0;
	}
	for (p = strchr(p + 1, COMMENT_CHAR); p != NULL; p = strchr(p + 1, COMMENT_CHAR))
		if (p[-1] != '\\')
			return -1;
	return 0;
}

/* Length of a value once rte_cfgfile has turned each "\;" into ";". */
static size_t
unescaped_len(const char *v)
{
	size_t n = 0;

	for (; *v != '\0'; v++)
		if (!(v[0] == '\\' && v[1] == COMMENT_CHAR))
			n++;
	return n;
}

/* The text to show for a bad line: never a password. */
static const char *
shown_line(const char *line)
{
	while (isspace((unsigned char)*line))
		line++;
	return strncmp(line, CONF_PASSWORD_KEY, strlen(CONF_PASSWORD_KEY)) == 0 ? HIDDEN : line;
}

static int
scan_line(struct conf_ctx *ctx, unsigned int lineno, char *raw, bool *in_section)
{
	char *line, *close, *eq, *key, *val;
	char shown[64];

	/* Keep a short copy for messages, before the line is cut up. */
	snprintf(shown, sizeof(shown), "%s", shown_line(raw));
	strip(shown);
	if (strlen(raw) > LINE_MAX_CHARS)
		return conf_fail_line(ctx, lineno, NULL, "line longer than %d characters",
				      LINE_MAX_CHARS);
	if (cut_comment(raw) != 0)
		return conf_fail_line(ctx, lineno, shown,
				      "a comment after an escaped '\\;' is kept in the value; "
				      "put the comment on its own line");
	line = strip(raw);
	if (*line == '\0')
		return 0;
	if (*line == '[') {
		close = strchr(line, ']');
		if (close == NULL)
			return conf_fail_line(ctx, lineno, shown, "section header without ']'");
		if (*strip(close + 1) != '\0')
			return conf_fail_line(ctx, lineno, shown, "text after the section header");
		*close = '\0';
		key = strip(line + 1);
		if (*key == '\0')
			return conf_fail_line(ctx, lineno, shown, "empty section name");
		if (strlen(key) > NAME_MAX_CHARS)
			return conf_fail_line(ctx, lineno, NULL,
					      "section name longer than %d characters",
					      NAME_MAX_CHARS);
		*in_section = true;
		return 0;
	}
	eq = strchr(line, '=');
	if (eq == NULL)
		return conf_fail_line(ctx, lineno, shown,
				      "expected 'key = value' or '[section]'");
	*eq = '\0';
	key = strip(line);
	val = strip(eq + 1);
	if (*key == '\0')
		return conf_fail_line(ctx, lineno, shown, "no key before '='");
	if (!*in_section)
		return conf_fail_line(ctx, lineno, shown, "key outside any [section]");
	if (strlen(key) > NAME_MAX_CHARS)
		return conf_fail_line(ctx, lineno, NULL, "key longer than %d characters",
				      NAME_MAX_CHARS);
	if (unescaped_len(val) > VALUE_MAX_CHARS)
		return conf_fail_line(ctx, lineno, NULL, "%s: value longer than %d characters", key,
				      VALUE_MAX_CHARS);
	return 0;
}

int
conf_scan_file(struct conf_ctx *ctx)
{
	bool in_section = false;
	unsigned int lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int ret = 0;

	f = fopen(ctx->path, "r");
	if (f == NULL) {
		conf_message(ctx, "%s: cannot read config file: %s", ctx->path, strerror(errno));
		return -ENOENT;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if ((size_t)n != strlen(line)) {
			ret = conf_fail_line(ctx, lineno, NULL, "contains a NUL byte");
			break;
		}
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		ret = scan_line(ctx, lineno, line, &in_section);
		if (ret != 0)
			break;
	}
	if (ret == 0 && ferror(f)) {
		/* e.g. a directory: fopen succeeds, reading does not */
		conf_message(ctx, "%s: cannot read config file: %s", ctx->path, strerror(errno));
		ret = -ENOENT;
	}
	free(line);
	fclose(f);
	return ret;
}
