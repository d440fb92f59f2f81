/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_log: the log stream (see duet_log.h). rte_vlog() prints a message
 * into the stream and flushes it; the stream's write function gets the
 * message, splits it into lines, and writes each with a timestamp, the
 * level and the type that rte_vlog() recorded for the calling thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_log.h>

#include "duet_log.h"

#define LINE_MAX_BYTES 4096
#define TYPE_NAME_MAX 48
#define MAX_TYPES 512

static enum duet_log_format log_format;
static FILE *log_stream;
/* Type id -> name, learned once from rte_log_dump(). */
static char type_names[MAX_TYPES][TYPE_NAME_MAX];

static const char *
level_name(unsigned int level)
{
	static const char *const names[] = {
		"NONE", "EMERG", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG",
	};

	return level < RTE_DIM(names) ? names[level] : "LOG";
}

/* Append text to buf at *off as the inside of a JSON string. */
static void
json_escape(char *buf, size_t size, size_t *off, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		const char *out = esc;
		size_t n;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			n = 2;
		} else if (c == '\t') {
			out = "\\t";
			n = 2;
		} else if (c < 0x20 || c == 0x7f) {
			n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c);
		} else {
			esc[0] = (char)c;
			n = 1;
		}
		if (*off + n < size)
			memcpy(buf + *off, out, n);
		*off += n;
	}
}

size_t
duet_log_format_line(char *buf, size_t size, enum duet_log_format format, const char *ts,
		     unsigned int level, const char *type, const char *msg, size_t len)
{
	size_t off;
	int n;

	if (format == DUET_LOG_JSON) {
		char lower[16];
		const char *ln = level_name(level);
		size_t i;

		for (i = 0; ln[i] != '\0' && i + 1 < sizeof(lower); i++)
			lower[i] = (char)(ln[i] | 0x20);
		lower[i] = '\0';
		n = snprintf(buf, size, "{\"ts\":\"%s\",\"level\":\"%s\",\"type\":\"", ts, lower);
		off = n > 0 ? (size_t)n : 0;
		json_escape(buf, size, &off, type, strlen(type));
		if (off + 9 < size)
			memcpy(buf + off, "\",\"msg\":\"", 9);
		off += 9;
		json_escape(buf, size, &off, msg, len);
		if (off + 3 < size)
			memcpy(buf + off, "\"}\n", 3);
		off += 3;
	} else {
		n = snprintf(buf, size, "%s %s %s: ", ts, level_name(level), type);
		off = n > 0 ? (size_t)n : 0;
		if (off + len + 1 < size) {
			memcpy(buf + off, msg, len);
			buf[off + len] = '\n';
		}
		off += len + 1;
	}
	if (off < size)
		buf[off] = '\0';
	else if (size > 0)
		buf[size - 1] = '\0';
	return off;
}

static const char *
type_name(int type)
{
	static int learning;

	if (type < 0 || type >= MAX_TYPES)
		return "dpdk";
	/* A type registered since the last look (a driver loaded during EAL
	 * init): look again, once at a time. */
	if (type_names[type][0] == '\0' && !__atomic_exchange_n(&learning, 1, __ATOMIC_ACQUIRE)) {
		duet_log_learn_types();
		__atomic_store_n(&learning, 0, __ATOMIC_RELEASE);
	}
	return type_names[type][0] != '\0' ? type_names[type] : "dpdk";
}

static void
now_text(char *ts, size_t size)
{
	struct timespec t;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &t);
	gmtime_r(&t.tv_sec, &tm);
	snprintf(ts, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 t.tv_nsec / 1000000);
}

/* The stream's write: one output line per line of the message. A line too
 * long for the buffer is cut, never split into two lines with one prefix. */
static ssize_t
stream_write(void *cookie, const char *data, size_t size)
{
	char line[LINE_MAX_BYTES], ts[64];
	unsigned int level = (unsigned int)rte_log_cur_msg_loglevel();
	const char *type = type_name(rte_log_cur_msg_logtype());
	size_t start = 0;

	(void)cookie;
	now_text(ts, sizeof(ts));
	while (start < size) {
		const char *nl = memchr(data + start, '\n', size - start);
		size_t len = nl != NULL ? (size_t)(nl - (data + start)) : size - start;
		size_t n = duet_log_format_line(line, sizeof(line), log_format, ts, level, type,
						data + start, len);

		if (n >= sizeof(line)) {
			n = sizeof(line) - 1;
			line[n - 1] = '\n';
		}
		if (len > 0 && write(STDERR_FILENO, line, n) < 0)
			break;
		start += len + 1;
	}
	return (ssize_t)size;
}

int
duet_log_open(enum duet_log_format format)
{
	static const cookie_io_functions_t io = {.write = stream_write};
	FILE *f;

	log_format = format;
	if (log_stream != NULL)
		return 0;
	f = fopencookie(NULL, "w", io);
	if (f == NULL)
		return -errno;
	/* rte_vlog() flushes after each message; a line buffer would split
	 * a message without a trailing newline from its level. */
	setvbuf(f, NULL, _IOFBF, LINE_MAX_BYTES);
	if (rte_openlog_stream(f) != 0) {
		fclose(f);
		return -EINVAL;
	}
	log_stream = f;
	return 0;
}

void
duet_log_learn_types(void)
{
	char *dump = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&dump, &len);

	if (mem == NULL)
		return;
	/* "id N: NAME, level is LEVEL" a line. */
	rte_log_dump(mem);
	fclose(mem);
	for (line = strtok_r(dump, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		unsigned int id;
		char name[TYPE_NAME_MAX];

		if (sscanf(line, " id %u: %47[^,],", &id, name) == 2 && id < MAX_TYPES)
			snprintf(type_names[id], TYPE_NAME_MAX, "%s", name);
	}
	free(dump);
}
