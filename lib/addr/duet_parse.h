/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_parse: the one strict whole-number parser behind the numbers duet
 * reads as text: duetctl and duet-caller options, and (after duet_contract
 * has set aside leading zeros, which Redis records may carry) pair record
 * fields and stream ids. A pure function with no state, so any thread may
 * call it; in practice the control thread and the command-line tools do,
 * since no number is parsed on a packet path.
 */
#ifndef DUET_PARSE_H
#define DUET_PARSE_H

#include <stdint.h>

/**
 * Parse a whole decimal number in [min, max]: digits only, no sign, no
 * blanks, no leading zero (except "0" itself), no overflow past UINT64_MAX.
 * Callable from any thread (pure, no state).
 *
 * @param s    NUL-terminated text; NULL is refused.
 * @param min  smallest value accepted.
 * @param max  largest value accepted.
 * @param out  the value, written only on success.
 * @return 0, or -EINVAL if s is NULL, empty, not plain digits, has a leading
 *         zero, overflows, or is outside [min, max].
 */
int duet_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif /* DUET_PARSE_H */
