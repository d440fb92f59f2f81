/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_policy: building the source policy table and explaining its
 * verdicts. Main thread (config load) and control thread (messages about
 * refused pins); the per-packet check is inline in duet_policy_fp.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duet_policy.h"
#include "duet_policy_fp.h"

/* The classes no relay sends to, whatever the config says. IPv6 link-local
 * is the one class the config may open ([security] ipv6_link_local_peers:
 * a relay whose callers share its link): it is last, and
 * duet_policy_init() leaves it out when asked to. */
static const struct {
	const char *net;
	const char *name;
} builtin_classes[] = {
	{"0.0.0.0/8", "this-network"},	   /* RFC 791: "this host on this network" */
	{"127.0.0.0/8", "loopback"},	   /* RFC 1122 */
	{"169.254.0.0/16", "link-local"},  /* RFC 3927 */
	{"224.0.0.0/4", "multicast"},	   /* RFC 5771 */
	{"240.0.0.0/4", "reserved"},	   /* RFC 1112; 255.255.255.255 (broadcast) is in it */
	{"::/128", "unspecified"},	   /* RFC 4291 2.5.2 */
	{"::1/128", "loopback"},	   /* RFC 4291 2.5.3 */
	{"::ffff:0:0/96", "ipv4-mapped"},  /* RFC 4291 2.5.5.2: never on the wire */
	{"ff00::/8", "multicast"},	   /* RFC 4291 2.7 */
	{"fe80::/10", "link-local"},	   /* RFC 4291 2.5.6; must stay last */
};

void
duet_policy_init(struct duet_policy *p)
{
	duet_policy_init_ex(p, false);
}

void
duet_policy_init_ex(struct duet_policy *p, bool link_local6)
{
	size_t i, n = sizeof(builtin_classes) / sizeof(builtin_classes[0]);

	memset(p, 0, sizeof(*p));
	p->link_local6 = link_local6;
	if (link_local6)
		n--; /* fe80::/10, the last class */
	for (i = 0; i < n; i++) {
		/* The table above is ours and valid; a failure is a bug that
		 * the unit test catches. */
		if (duet_cidr_parse(builtin_classes[i].net, &p->builtin[p->n_builtin], NULL) != 0)
			abort();
		p->builtin_name[p->n_builtin++] = builtin_classes[i].name;
	}
}

int
duet_policy_add_own(struct duet_policy *p, const struct duet_addr *a)
{
	if (p->n_own == DUET_POLICY_MAX_OWN)
		return -ENOSPC;
	p->own[p->n_own] = *a;
	p->own[p->n_own].port = 0;
	p->n_own++;
	return 0;
}

int
duet_policy_add_cidr(struct duet_policy *p, const struct duet_cidr *c, bool allow)
{
	struct duet_cidr *list = allow ? p->allowed : p->denied;
	unsigned int *n = allow ? &p->n_allowed : &p->n_denied;

	if (*n == DUET_POLICY_MAX_CIDRS)
		return -ENOSPC;
	list[(*n)++] = *c;
	return 0;
}

static const char *const relatch_names[] = {
	[DUET_RELATCH_SSRC] = "ssrc",
	[DUET_RELATCH_ANY] = "any",
	[DUET_RELATCH_NEVER] = "never",
};

const char *
duet_relatch_name(unsigned int r)
{
	return r < sizeof(relatch_names) / sizeof(relatch_names[0]) ? relatch_names[r] : NULL;
}

int
duet_relatch_parse(const char *s, uint8_t *out)
{
	uint8_t r;

	if (s == NULL)
		return -EINVAL;
	for (r = 0; r < sizeof(relatch_names) / sizeof(relatch_names[0]); r++) {
		if (strcmp(s, relatch_names[r]) == 0) {
			*out = r;
			return 0;
		}
	}
	return -EINVAL;
}

const char *
duet_policy_verdict_name(enum duet_policy_verdict v)
{
	switch (v) {
	case DUET_POLICY_OK:
		return "allowed";
	case DUET_POLICY_PORT0:
		return "UDP port 0";
	case DUET_POLICY_BUILTIN:
		return "never a client address";
	case DUET_POLICY_OWN:
		return "a service address of this relay";
	case DUET_POLICY_DENIED:
		return "in [security] denied_peers";
	case DUET_POLICY_FAMILY:
		return "no address";
	}
	return "?";
}

enum duet_policy_verdict
duet_policy_explain(const struct duet_policy *p, const struct duet_addr *a, char *why,
		    size_t whylen)
{
	enum duet_policy_verdict v = duet_policy_check(p, a);
	char net[DUET_CIDR_STRLEN];
	unsigned int i;

	struct duet_addr v4;

	if (why == NULL || whylen == 0)
		return v;
	snprintf(why, whylen, "%s", duet_policy_verdict_name(v));
	/* Refused for the IPv4 address it carries: say so, and why that one. */
	if (v != DUET_POLICY_OK && v != DUET_POLICY_PORT0 && duet_policy_embedded_v4(a, &v4) &&
	    duet_policy_check_one_(p, a) == DUET_POLICY_OK) {
		char inner[96];
		const char *pfx = a->ip[0] == 0x20 ? "2002::/16" : "64:ff9b::/96";

		v4.port = 1;
		(void)duet_policy_explain(p, &v4, inner, sizeof(inner));
		snprintf(why, whylen, "carries an IPv4 address (%s) that is %s", pfx, inner);
		return v;
	}
	if (v == DUET_POLICY_BUILTIN) {
		for (i = 0; i < p->n_builtin; i++) {
			if (!duet_cidr_match(&p->builtin[i], a))
				continue;
			if (duet_cidr_format(&p->builtin[i], net, sizeof(net)) == 0)
				snprintf(why, whylen, "in %s %s", p->builtin_name[i], net);
			break;
		}
	} else if (v == DUET_POLICY_DENIED) {
		for (i = 0; i < p->n_denied; i++) {
			if (!duet_cidr_match(&p->denied[i], a))
				continue;
			if (duet_cidr_format(&p->denied[i], net, sizeof(net)) == 0)
				snprintf(why, whylen, "in [security] denied_peers %s", net);
			break;
		}
	}
	return v;
}
