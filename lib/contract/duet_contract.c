/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_contract: validation of the Redis contract's records (pair hashes,
 * events stream entries, stream ids). Runs on duetd's control thread inside
 * duet_sync; pure C so the unit tests and fuzz targets call it directly.
 * Every refusal says which field is wrong and why, in words an operator
 * reading the pair's stats hash can act on.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <inttypes.h>

#include <arpa/inet.h>

#include "duet_contract.h"
#include "duet_parse.h"
#include "duet_policy_fp.h"

#define QUOTE_MAX 48

/* Fields this relay knows. Everything else is ignored (forward
 * compatibility), but these may appear at most once. */
enum field_kind {
	F_A = 0,
	F_B,
	F_A_SRC,
	F_B_SRC,
	F_MODE,
	F_IDLE_MS,
	F_EXPIRES,
	F_A_IN,
	F_A_OUT,
	F_B_IN,
	F_B_OUT,
	F_RELATCH,
	F_MAX_PPS,
	F_MAX_KBPS,
	F_MAX
};

static const char *const field_names[F_MAX] = {
	[F_A] = DUET_FIELD_A,
	[F_B] = DUET_FIELD_B,
	[F_A_SRC] = DUET_FIELD_A_SRC,
	[F_B_SRC] = DUET_FIELD_B_SRC,
	[F_MODE] = DUET_FIELD_MODE,
	[F_IDLE_MS] = DUET_FIELD_IDLE_MS,
	[F_EXPIRES] = DUET_FIELD_EXPIRES,
	[F_A_IN] = DUET_FIELD_A_IN,
	[F_A_OUT] = DUET_FIELD_A_OUT,
	[F_B_IN] = DUET_FIELD_B_IN,
	[F_B_OUT] = DUET_FIELD_B_OUT,
	[F_RELATCH] = DUET_FIELD_RELATCH,
	[F_MAX_PPS] = DUET_FIELD_MAX_PPS,
	[F_MAX_KBPS] = DUET_FIELD_MAX_KBPS,
};

static int
refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

const char *
duet_contract_quote(const char *value, char *buf, size_t len)
{
	size_t i, o = 0, lim;

	if (len == 0)
		return buf;
	if (value == NULL) {
		snprintf(buf, len, "(null)");
		return buf;
	}
	/* Leave room for "..." and the NUL. */
	lim = len > 4 ? len - 4 : 0;
	if (lim > QUOTE_MAX)
		lim = QUOTE_MAX;
	for (i = 0; value[i] != '\0' && o < lim; i++) {
		unsigned char c = (unsigned char)value[i];

		buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (value[i] != '\0' && len >= 4) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

int
duet_contract_check_id(const char *id, char *why, size_t whylen)
{
	char q[QUOTE_MAX + 4];
	size_t i;

	if (id == NULL || id[0] == '\0')
		return refuse(why, whylen, "pair id is empty");
	for (i = 0; id[i] != '\0'; i++) {
		bool ok = duet_record_id_char(id[i]);

		if (i >= DUET_RECORD_ID_MAX)
			return refuse(why, whylen, "pair id '%s' longer than %u characters",
				      duet_contract_quote(id, q, sizeof(q)), DUET_RECORD_ID_MAX);
		if (!ok)
			return refuse(why, whylen,
				      "pair id '%s' has a character outside [A-Za-z0-9._:-] at "
				      "position %zu",
				      duet_contract_quote(id, q, sizeof(q)), i + 1);
	}
	return 0;
}

/* A number in a Redis record or stream id: decimal digits only, no sign, no
 * blanks. Unlike duetctl's options, leading zeros are accepted ("0300"):
 * records that load today must keep loading. -EINVAL when it is not digits,
 * -ERANGE when it does not fit 64 bits, so the refusal can say which. */
static int
parse_record_u64(const char *s, uint64_t *out)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || s[n] != '\0')
		return -EINVAL;
	/* duet_parse_u64 refuses leading zeros; they change no value here. */
	while (s[0] == '0' && s[1] != '\0')
		s++;
	/* All digits, so the only refusal left is overflow. */
	return duet_parse_u64(s, 0, UINT64_MAX, out) == 0 ? 0 : -ERANGE;
}

static int
parse_endpoint(const char *name, const char *value, const struct duet_conf *conf,
	       struct duet_addr *ep, uint16_t *port_idx, char *why, size_t whylen)
{
	char q[QUOTE_MAX + 4], text[DUET_ADDR_STRLEN];
	int rc;

	if (value == NULL)
		return refuse(why, whylen, "missing field %s", name);
	if (value[0] == '\0')
		return refuse(why, whylen, "field %s is empty", name);
	rc = duet_record_endpoint_parse(value, ep, text);
	if (rc == -EILSEQ)
		return refuse(why, whylen,
			      "field %s: '%s' is not written as duetd writes endpoints (%s)", name,
			      duet_contract_quote(value, q, sizeof(q)), text);
	if (rc != 0)
		return refuse(why, whylen, "field %s: '%s' is not an ip:port", name,
			      duet_contract_quote(value, q, sizeof(q)));
	rc = duet_conf_endpoint_port(conf, ep);
	if (rc == -ERANGE)
		return refuse(why, whylen, "field %s: port %u outside media range %u-%u", name,
			      ntohs(ep->port), conf->port_min, conf->port_max);
	if (rc < 0) {
		if (duet_addr_format(ep, text, sizeof(text)) != 0)
			snprintf(text, sizeof(text), "?");
		return refuse(why, whylen,
			      "field %s: endpoint %s is not a service address of this relay", name,
			      text);
	}
	*port_idx = (uint16_t)rc;
	return 0;
}

/* A client address that a relay could send to: not unspecified, multicast,
 * broadcast or loopback. */
static bool
is_unicast(const struct duet_addr *a)
{
	static const uint8_t zero[16];

	if (a->family == DUET_AF_INET4) {
		if (memcmp(a->ip, zero, 4) == 0)
			return false;
		if (a->ip[0] >= 224 || a->ip[0] == 127) /* multicast, class E, broadcast */
			return false;
		return true;
	}
	if (memcmp(a->ip, zero, 16) == 0 || a->ip[0] == 0xff) /* ::, multicast */
		return false;
	if (memcmp(a->ip, zero, 15) == 0 && a->ip[15] == 1) /* ::1 */
		return false;
	return true;
}

/* The reason never quotes the value: a pin is a client address. */
static int
parse_pin(const char *name, const char *value, const struct duet_conf *conf,
	  const struct duet_addr *ep, const char *ep_name, struct duet_addr *pin, char *why,
	  size_t whylen)
{
	memset(pin, 0, sizeof(*pin));
	if (value == NULL || value[0] == '\0')
		return 0;
	if (duet_addr_parse(value, pin) != 0)
		return refuse(why, whylen, "field %s: value is not an ip:port", name);
	if (pin->family != ep->family)
		return refuse(why, whylen, "field %s: address family differs from endpoint %s",
			      name, ep_name);
	if (!is_unicast(pin))
		return refuse(why, whylen, "field %s: not a unicast address", name);
	/* Pinning a leg to the relay itself would loop packets through it.
	 * Any answer but -ENOENT means the IP is one of ours. */
	if (duet_conf_endpoint_port(conf, pin) != -ENOENT)
		return refuse(why, whylen, "field %s: is a service address of this relay", name);
	/* The same rule as for every latched source (duet_policy_fp.h). The
	 * reason names the class, never the address. */
	if (duet_policy_check(&conf->policy, pin) != DUET_POLICY_OK) {
		char cls[96];

		duet_policy_explain(&conf->policy, pin, cls, sizeof(cls));
		return refuse(why, whylen, "field %s: refused by the source policy (%s)", name,
			      cls);
	}
	return 0;
}

static int
parse_mode(const char *value, uint8_t *mode, char *why, size_t whylen)
{
	char q[QUOTE_MAX + 4];

	if (value == NULL)
		return refuse(why, whylen, "missing field mode");
	if (value[0] == '\0')
		return refuse(why, whylen, "field mode is empty");
	if (duet_mode_parse(value, mode) != 0)
		return refuse(why, whylen, "mode '%s' unknown (%s)",
			      duet_contract_quote(value, q, sizeof(q)), duet_mode_list());
	return 0;
}

/*
 * The SRTP key fields a mode takes: verify a_in and b_in (what each client
 * sends with), rekey all four; passthrough none, so a relay in passthrough
 * never holds a key. A key's value is never quoted back: it is secret.
 */
static int
parse_keys(uint8_t mode, const char *const *val, struct duet_sdes *key, char *why,
	   size_t whylen)
{
	static const int fields[DUET_KEY_COUNT] = {F_A_IN, F_A_OUT, F_B_IN, F_B_OUT};
	const char *mode_name = duet_mode_name(mode);
	unsigned int k;

	for (k = 0; k < DUET_KEY_COUNT; k++) {
		const char *v = val[fields[k]];
		const char *name = field_names[fields[k]];
		bool needed = duet_mode_takes_key(mode, k);
		const char *bad = NULL;

		if (v != NULL && v[0] == '\0')
			v = NULL;
		if (v == NULL) {
			if (needed)
				return refuse(why, whylen, "mode %s needs field %s", mode_name, name);
			continue;
		}
		if (!needed)
			return refuse(why, whylen, "mode %s takes no field %s%s", mode_name, name,
				      mode == DUET_MODE_PASSTHROUGH
					      ? " (the relay must not hold end-to-end keys)"
					      : "");
		if (duet_sdes_parse(v, &key[k], &bad) != 0)
			return refuse(why, whylen, "field %s: %s", name, bad);
	}
	return 0;
}

/* An optional policer limit: absent or empty keeps *out (the relay's
 * default); 0 means no limit of that kind. */
static int
parse_limit(const char *name, const char *value, uint32_t max, uint32_t *out, char *why,
	    size_t whylen)
{
	char q[QUOTE_MAX + 4];
	uint64_t v;
	int rc;

	if (value == NULL || value[0] == '\0')
		return 0;
	rc = parse_record_u64(value, &v);
	if (rc == -EINVAL)
		return refuse(why, whylen, "field %s: '%s' is not a number", name,
			      duet_contract_quote(value, q, sizeof(q)));
	if (rc != 0 || v > max)
		return refuse(why, whylen, "field %s: '%s' above the maximum %" PRIu32, name,
			      duet_contract_quote(value, q, sizeof(q)), max);
	*out = (uint32_t)v;
	return 0;
}

int
duet_contract_parse_pair(const char *id, const struct duet_contract_field *fields, size_t n,
			 const struct duet_conf *conf, struct duet_pair_spec *out, char *why,
			 size_t whylen)
{
	const char *val[F_MAX] = {NULL};
	struct duet_pair_spec spec;
	char q[QUOTE_MAX + 4];
	uint64_t v = 0;
	size_t i;
	int k, rc;

	if (conf == NULL || out == NULL || (fields == NULL && n > 0))
		return refuse(why, whylen, "internal: no record or configuration");
	rc = duet_contract_check_id(id, why, whylen);
	if (rc != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (fields[i].name == NULL)
			continue;
		for (k = 0; k < F_MAX; k++) {
			if (strcmp(fields[i].name, field_names[k]) != 0)
				continue;
			if (val[k] != NULL)
				return refuse(why, whylen, "field %s given twice", field_names[k]);
			val[k] = fields[i].value != NULL ? fields[i].value : "";
			break;
		}
	}

	memset(&spec, 0, sizeof(spec));
	memcpy(spec.id, id, strlen(id) + 1);

	rc = parse_endpoint("a", val[F_A], conf, &spec.ep[0], &spec.port_idx[0], why, whylen);
	if (rc != 0)
		return rc;
	rc = parse_endpoint("b", val[F_B], conf, &spec.ep[1], &spec.port_idx[1], why, whylen);
	if (rc != 0)
		return rc;
	if (duet_addr_equal(&spec.ep[0], &spec.ep[1]))
		return refuse(why, whylen, "field a and b are the same endpoint");

	rc = parse_pin("a_src", val[F_A_SRC], conf, &spec.ep[0], "a", &spec.pin[0], why, whylen);
	if (rc != 0)
		return rc;
	rc = parse_pin("b_src", val[F_B_SRC], conf, &spec.ep[1], "b", &spec.pin[1], why, whylen);
	if (rc != 0)
		return rc;

	rc = parse_mode(val[F_MODE], &spec.mode, why, whylen);
	if (rc != 0)
		return rc;

	spec.idle_ms = conf->idle_timeout_ms;
	if (val[F_IDLE_MS] != NULL && val[F_IDLE_MS][0] != '\0') {
		rc = parse_record_u64(val[F_IDLE_MS], &v);
		if (rc == -EINVAL)
			return refuse(why, whylen, "field idle_ms: '%s' is not a number",
				      duet_contract_quote(val[F_IDLE_MS], q, sizeof(q)));
		if (rc != 0 || v > DUET_CONTRACT_IDLE_MS_MAX)
			return refuse(why, whylen, "field idle_ms: '%s' above the maximum %u",
				      duet_contract_quote(val[F_IDLE_MS], q, sizeof(q)),
				      DUET_CONTRACT_IDLE_MS_MAX);
		spec.idle_ms = (uint32_t)v;
	}

	if (val[F_EXPIRES] != NULL && val[F_EXPIRES][0] != '\0') {
		rc = parse_record_u64(val[F_EXPIRES], &v);
		if (rc == -EINVAL)
			return refuse(why, whylen, "field expires: '%s' is not a number",
				      duet_contract_quote(val[F_EXPIRES], q, sizeof(q)));
		if (rc != 0 || v > DUET_CONTRACT_EXPIRES_MAX)
			return refuse(why, whylen,
				      "field expires: '%s' is not unix seconds (after year 9999; "
				      "milliseconds?)",
				      duet_contract_quote(val[F_EXPIRES], q, sizeof(q)));
		spec.expires = v;
	}

	spec.relatch = conf->relatch;
	if (val[F_RELATCH] != NULL && val[F_RELATCH][0] != '\0' &&
	    duet_relatch_parse(val[F_RELATCH], &spec.relatch) != 0)
		return refuse(why, whylen, "field relatch: '%s' unknown (ssrc, any, never)",
			      duet_contract_quote(val[F_RELATCH], q, sizeof(q)));
	spec.max_pps = conf->security.max_pps;
	rc = parse_limit("max_pps", val[F_MAX_PPS], DUET_CONTRACT_MAX_PPS_MAX, &spec.max_pps, why,
			 whylen);
	if (rc != 0)
		return rc;
	spec.max_kbps = conf->security.max_kbps;
	rc = parse_limit("max_kbps", val[F_MAX_KBPS], DUET_CONTRACT_MAX_KBPS_MAX, &spec.max_kbps,
			 why, whylen);
	if (rc != 0)
		return rc;

	/* Keys last, so no other refusal leaves a parsed key on the stack. */
	rc = parse_keys(spec.mode, val, spec.key, why, whylen);
	if (rc != 0) {
		duet_secure_zero(spec.key, sizeof(spec.key));
		return rc;
	}
	*out = spec;
	duet_secure_zero(spec.key, sizeof(spec.key));
	return 0;
}

int
duet_contract_parse_event(const struct duet_contract_field *fields, size_t n,
			  enum duet_contract_op *op, char *id, char *why, size_t whylen)
{
	const char *op_s = NULL, *id_s = NULL;
	char q[QUOTE_MAX + 4];
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		const char **slot = NULL;

		if (fields[i].name == NULL)
			continue;
		if (strcmp(fields[i].name, "op") == 0)
			slot = &op_s;
		else if (strcmp(fields[i].name, "id") == 0)
			slot = &id_s;
		else
			continue; /* other fields are the control plane's own */
		/* A repeated field has no one meaning: `op put op del` must
		 * not be read as whichever comes last. */
		if (*slot != NULL)
			return refuse(why, whylen, "field %s given twice", fields[i].name);
		if (fields[i].value == NULL)
			return refuse(why, whylen, "field %s: value is not text", fields[i].name);
		*slot = fields[i].value;
	}
	if (op_s == NULL)
		return refuse(why, whylen, "missing field op");
	if (strcmp(op_s, "put") == 0)
		*op = DUET_CONTRACT_OP_PUT;
	else if (strcmp(op_s, "del") == 0)
		*op = DUET_CONTRACT_OP_DEL;
	else
		return refuse(why, whylen, "op '%s' unknown (put, del)",
			      duet_contract_quote(op_s, q, sizeof(q)));
	if (id_s == NULL)
		return refuse(why, whylen, "missing field id");
	rc = duet_contract_check_id(id_s, why, whylen);
	if (rc != 0)
		return rc;
	memcpy(id, id_s, strlen(id_s) + 1);
	return 0;
}

int
duet_contract_stream_id_parse(const char *s, struct duet_contract_stream_id *out)
{
	char ms[24];
	const char *dash;
	size_t len;

	if (s == NULL || out == NULL)
		return -EINVAL;
	dash = strchr(s, '-');
	if (dash == NULL)
		return -EINVAL;
	len = (size_t)(dash - s);
	if (len == 0 || len >= sizeof(ms))
		return -EINVAL;
	memcpy(ms, s, len);
	ms[len] = '\0';
	if (parse_record_u64(ms, &out->ms) != 0 || parse_record_u64(dash + 1, &out->seq) != 0)
		return -EINVAL;
	return 0;
}

int
duet_contract_stream_id_cmp(const struct duet_contract_stream_id *x,
			    const struct duet_contract_stream_id *y)
{
	if (x->ms != y->ms)
		return x->ms < y->ms ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

bool
duet_contract_stream_can_resume(const struct duet_contract_stream_info *info,
				const struct duet_contract_stream_pos *pos, const char **why)
{
	static const struct duet_contract_stream_id zero;
	const struct duet_contract_stream_id *last = &pos->id;
	const char *w = NULL;
	int c;

	if (!info->exists) {
		/* A follower that never saw a stream has nothing to miss. */
		if (duet_contract_stream_id_cmp(last, &zero) != 0)
			w = "events stream is gone";
		goto out;
	}
	c = duet_contract_stream_id_cmp(&info->last_generated, last);
	if (c < 0) {
		w = "events stream is older than our position (Redis lost data)";
		goto out;
	}
	if (c == 0)
		goto out; /* nothing added since: nothing missed */
	if (info->has_max_deleted && duet_contract_stream_id_cmp(&info->max_deleted, last) > 0) {
		w = "events we had not read were deleted";
		goto out;
	}
	/* Trimming only removes the oldest entries: while an entry at or
	 * before our position remains, none after it was trimmed. */
	if (info->has_first && duet_contract_stream_id_cmp(&info->first, last) <= 0)
		goto out;
	/* The head is past us, so every remaining entry is one we have not
	 * read: all of them must still be there. */
	if (info->has_entries_added && pos->has_added && info->entries_added >= pos->added &&
	    info->length == info->entries_added - pos->added)
		goto out;
	w = "events we had not read were trimmed";
out:
	if (why != NULL)
		*why = w;
	return w == NULL;
}
