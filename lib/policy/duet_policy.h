/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_policy: the source policy, the one rule for every address the relay
 * would send to. A latched or re-latched client source, a pin written by
 * the control plane and the source of an ICMP echo all pass through
 * duet_policy_check() (duet_policy_fp.h) before duetd sends anything there.
 * Refused: the built-in classes (this host, loopback, multicast, reserved,
 * broadcast, link-local), the relay's own service addresses, UDP source
 * port 0, and the operator's [security] denied_peers unless an
 * allowed_peers entry excepts it.
 *
 * The table is built once on the main thread while the config loads
 * (lib/conf fills it) and never changes afterwards, so worker lcores and
 * the control thread read it without synchronisation. Classes are CIDRs
 * (lib/addr's duet_cidr.h) tagged with a family, so IPv6 classes join the
 * same table.
 */
#ifndef DUET_POLICY_H
#define DUET_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet_addr.h"
#include "duet_cidr.h"

#define DUET_POLICY_MAX_CIDRS 64  /**< entries in denied_peers, and in allowed_peers */
#define DUET_POLICY_MAX_OWN 128	  /**< service addresses (8 ports x 16) */
#define DUET_POLICY_MAX_BUILTIN 16 /**< built-in classes, both families */

/** Why an address is refused. */
enum duet_policy_verdict {
	DUET_POLICY_OK = 0,  /**< the relay may send there */
	DUET_POLICY_PORT0,   /**< UDP port 0 */
	DUET_POLICY_BUILTIN, /**< in a built-in class (loopback, multicast, ...) */
	DUET_POLICY_OWN,     /**< one of the relay's own service addresses */
	DUET_POLICY_DENIED,  /**< in [security] denied_peers, not in allowed_peers */
	DUET_POLICY_FAMILY,  /**< no address (family NONE) */
};

/**
 * Who may take a latched passthrough leg once its client has been silent
 * for relatch_silence_ms ([relay] relatch, record field `relatch`). Keyed
 * modes ignore it: there only an authenticated packet moves a leg.
 */
enum duet_relatch {
	DUET_RELATCH_SSRC = 0, /**< a new source carrying the SSRC the leg last saw */
	DUET_RELATCH_ANY,      /**< any plausible RTP/RTCP source */
	DUET_RELATCH_NEVER,    /**< nobody: the first client keeps the leg */
};

/** The policy table. */
struct duet_policy {
	struct duet_cidr builtin[DUET_POLICY_MAX_BUILTIN];  /**< refused classes */
	const char *builtin_name[DUET_POLICY_MAX_BUILTIN];   /**< "loopback", ... */
	unsigned int n_builtin;
	struct duet_addr own[DUET_POLICY_MAX_OWN];	     /**< service addresses (port 0) */
	unsigned int n_own;
	struct duet_cidr denied[DUET_POLICY_MAX_CIDRS];	     /**< [security] denied_peers */
	unsigned int n_denied;
	struct duet_cidr allowed[DUET_POLICY_MAX_CIDRS];     /**< [security] allowed_peers */
	unsigned int n_allowed;
	bool link_local6;				     /**< fe80::/10 is allowed ([security]
							          ipv6_link_local_peers) */
};

/** Fill p with the built-in classes and nothing else. Main thread. */
void duet_policy_init(struct duet_policy *p);

/**
 * duet_policy_init(), and with link_local6 true IPv6 link-local sources
 * (fe80::/10) are allowed: callers on the relay's own link ([security]
 * ipv6_link_local_peers). Main thread.
 */
void duet_policy_init_ex(struct duet_policy *p, bool link_local6);

/** Add a service address. @return 0 or -ENOSPC. Main thread, before use. */
int duet_policy_add_own(struct duet_policy *p, const struct duet_addr *a);

/** Add a denied_peers (allow false) or allowed_peers (allow true) entry.
 * @return 0 or -ENOSPC. Main thread, before use. */
int duet_policy_add_cidr(struct duet_policy *p, const struct duet_cidr *c, bool allow);

/** Name of a relatch policy ("ssrc", "any", "never"), NULL if unknown. */
const char *duet_relatch_name(unsigned int r);

/** Parse a relatch policy name. @return 0 or -EINVAL. Any thread. */
int duet_relatch_parse(const char *s, uint8_t *out);

/** Short name of a verdict for messages ("loopback" style names come from
 * duet_policy_explain). */
const char *duet_policy_verdict_name(enum duet_policy_verdict v);

/**
 * Check a and say why it is refused, naming the class ("is in loopback
 * 127.0.0.0/8"). Control thread (messages). @return the verdict.
 */
enum duet_policy_verdict duet_policy_explain(const struct duet_policy *p,
					     const struct duet_addr *a, char *why, size_t whylen);

#endif /* DUET_POLICY_H */
