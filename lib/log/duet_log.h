/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_log: duetd's log line format. It replaces EAL's log stream with one
 * that writes every rte_log() message to stderr as a line with a UTC
 * timestamp, its level and its log type's name (duet.relay, duet.sync,
 * EAL, ...), as text or as one JSON object a line. Any thread may log
 * (the control thread, the metrics and telemetry threads, EAL's); each line
 * is one write(2), so lines from two threads never interleave. Workers do
 * not log.
 */
#ifndef DUET_LOG_H
#define DUET_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "duet_conf.h"

/**
 * Install the line format as EAL's log stream. Call from the main thread,
 * before or after rte_eal_init(); again to change the format.
 * @param format DUET_LOG_TEXT or DUET_LOG_JSON.
 * @return 0, or -errno if the stream could not be made (EAL's stays).
 */
int duet_log_open(enum duet_log_format format);

/**
 * Learn the names of the log types registered so far (EAL's, the PMDs',
 * duet's), so lines name their type. Call from the main thread after
 * rte_eal_init() and before other threads log; types registered later
 * show as "dpdk".
 */
void duet_log_learn_types(void);

/**
 * Format one line into buf: the pure part of the stream, for tests.
 * @param ts   timestamp text, e.g. "2026-12-06T21:00:00.123Z"
 * @param level rte_log level (RTE_LOG_ERR...), type its name
 * @param msg  the message, len bytes, without its trailing newline
 * @return the line's length with its newline, or the length it would
 *         have had (snprintf's rule) when buf is too small.
 */
size_t duet_log_format_line(char *buf, size_t size, enum duet_log_format format, const char *ts,
			    unsigned int level, const char *type, const char *msg, size_t len);

#endif /* DUET_LOG_H */
