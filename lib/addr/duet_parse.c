/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_parse: strict whole-number parsing (see duet_parse.h). Pure, callable
 * from any thread; used by the control thread and the command-line tools.
 */
#include <errno.h>
#include <stddef.h>

#include "duet_parse.h"

int
duet_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	/* "0" alone is zero; "007" is refused so one value has one spelling. */
	if (s == NULL || s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -EINVAL;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned int)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}
