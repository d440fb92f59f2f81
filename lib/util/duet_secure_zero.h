/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_secure_zero: wiping secrets (SRTP master keys, key text read from
 * Redis, passwords and keys copied from argv) so the stores survive the
 * optimiser. Used by lib/srtp, lib/contract, lib/pair, lib/sync, duetctl
 * and duet-caller; any thread, no state.
 */
#ifndef DUET_SECURE_ZERO_H
#define DUET_SECURE_ZERO_H

#include <stddef.h>

/**
 * Overwrite len bytes at p with zeros, even where the compiler sees no
 * later read. Any thread.
 *
 * @param p    the secret; NULL is allowed when len is 0 (or at all: nothing
 *             is done).
 * @param len  its size in bytes.
 */
void duet_secure_zero(void *p, size_t len);

#endif /* DUET_SECURE_ZERO_H */
