/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fastpath_perf: perf_event_open(2) counters for bench_fastpath (see the
 * header). The benchmark's main thread, outside the timed part.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "fastpath_perf.h"

static int
counter_open(uint32_t type, uint64_t config, int group)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = type;
	a.config = config;
	a.disabled = group < 0;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	a.read_format = PERF_FORMAT_GROUP;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, group, 0);
}

int
fp_perf_open(struct fp_perf *p, char *err, size_t err_len)
{
	/* perf's LLC-load-misses: the last-level cache, reads, misses. */
	const uint64_t llc = PERF_COUNT_HW_CACHE_LL | (PERF_COUNT_HW_CACHE_OP_READ << 8) |
			     (PERF_COUNT_HW_CACHE_RESULT_MISS << 16);
	int rc;

	p->fd[FP_PERF_INSTRUCTIONS] = counter_open(PERF_TYPE_HARDWARE,
						   PERF_COUNT_HW_INSTRUCTIONS, -1);
	if (p->fd[FP_PERF_INSTRUCTIONS] < 0) {
		rc = -errno;
		snprintf(err, err_len, "instructions: %s", strerror(errno));
		p->fd[FP_PERF_LLC_MISSES] = -1;
		return rc;
	}
	p->fd[FP_PERF_LLC_MISSES] = counter_open(PERF_TYPE_HW_CACHE, llc,
						 p->fd[FP_PERF_INSTRUCTIONS]);
	if (p->fd[FP_PERF_LLC_MISSES] < 0) {
		rc = -errno;
		snprintf(err, err_len, "LLC-load-misses: %s", strerror(errno));
		fp_perf_close(p);
		return rc;
	}
	if (ioctl(p->fd[0], PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP) != 0 ||
	    ioctl(p->fd[0], PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP) != 0) {
		rc = -errno;
		snprintf(err, err_len, "enabling the counters: %s", strerror(errno));
		fp_perf_close(p);
		return rc;
	}
	return 0;
}

void
fp_perf_read(const struct fp_perf *p, uint64_t v[FP_PERF_COUNT])
{
	uint64_t buf[1 + FP_PERF_COUNT] = { 0 };
	unsigned int i;

	/* PERF_FORMAT_GROUP: the count of events, then each value. */
	if (read(p->fd[0], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		memset(buf, 0, sizeof(buf));
	for (i = 0; i < FP_PERF_COUNT; i++)
		v[i] = buf[1 + i];
}

void
fp_perf_close(struct fp_perf *p)
{
	unsigned int i;

	for (i = 0; i < FP_PERF_COUNT; i++) {
		if (p->fd[i] >= 0)
			close(p->fd[i]);
		p->fd[i] = -1;
	}
}
