/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet-caller's command line: the usage text, getopt_long parsing, every
 * check on the options (each bad argument is refused with a message naming
 * it, exit 2, before anything is opened), defaults, and the key helpers
 * (random SDES keys per relay mode, --gen-keys). Main thread, at start.
 * Key arguments are wiped from argv once parsed so they do not linger in
 * /proc/PID/cmdline for the whole run.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/random.h>

#include "caller.h"
#include "duet_parse.h"
#include "duet_secure_zero.h"

#define DEFAULT_DURATION_MS 10000
#define DEFAULT_TIMEOUT_EXTRA_MS 10000
#define DEFAULT_MAX_RATE_RUN_MS 60000
#define DEFAULT_DECODE_CALLS 10
#define DEFAULT_BITRATE 24000
#define DEFAULT_COMPLEXITY 5
#define DEFAULT_WINDOW 64
#define DEFAULT_RTCP_INTERVAL_MS 1000
#define DEFAULT_RTCP_EVERY 250
#define DEFAULT_DRAIN_MS 1000
#define DEFAULT_REDIS "127.0.0.1:6379"
#define DEFAULT_REDIS_TIMEOUT_MS 3000

static const char usage_text[] =
	"usage: duet-caller [options]\n"
	"Plays the two phones of one or more calls through a duet relay (or directly to\n"
	"each other): Opus in SRTP with rtcp-mux, RTCP SR/RR both ways, and a report per\n"
	"direction with loss, jitter, delay, SRTP failures and a sample-exact audio check.\n"
	"\n"
	"Legs and addresses (call i adds i to every port given here; ADDR is IPv4:PORT\n"
	"or [IPv6]:PORT, e.g. 192.0.2.1:20000 or [2001:db8::1]:20000):\n"
	"  --leg a|b|both        legs this process plays (default both)\n"
	"  --a-bind ADDR         leg a's local address; port 0 = any (default 0.0.0.0:0,\n"
	"                        [::]:0 for an IPv6 relay, 127.0.0.1:0 with --direct)\n"
	"  --a-relay ADDR        where leg a sends: its relay endpoint; the leg's socket\n"
	"                        has its family, and takes packets from there only\n"
	"  --b-bind, --b-relay   the same for leg b (each leg has its own family: a on\n"
	"                        IPv4 and b on IPv6 is a bridged call)\n"
	"  --direct              no relay: each leg sends to the other's bound address\n"
	"                        ([::1]:0 is the default bind if the other leg's is IPv6)\n"
	"  --a-netns NAME        open leg a's socket in network namespace NAME\n"
	"  --b-netns NAME        (/var/run/netns/NAME, as made by ip netns add)\n"
	"\n"
	"Keys (SDES \"SUITE inline:BASE64\"; without any, random keys that match):\n"
	"  --a-key-out SDES      what leg a protects with (the relay's a_in)\n"
	"  --a-key-in SDES       what leg a unprotects with (the relay's a_out)\n"
	"  --b-key-out, --b-key-in   the same for leg b\n"
	"  --a-key-out2 SDES     a key rotation mid-call: leg a protects with this key\n"
	"                        from packet --rotate-after N on (the relay's new a_in)\n"
	"  --a-key-in2 SDES      leg a also accepts this key (tried when --a-key-in fails)\n"
	"  --b-key-out2, --b-key-in2   the same for leg b\n"
	"  --rotate-after N      first packet (0-based, per leg) sent with a --*-key-out2\n"
	"  --suite S             suite of generated keys: AES_CM_128_HMAC_SHA1_80 (default),\n"
	"                        AES_CM_128_HMAC_SHA1_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM\n"
	"  --gen-keys MODE       print random relay keys a_in a_out b_in b_out for\n"
	"                        passthrough|verify|rekey (shell syntax; --json) and exit\n"
	"\n"
	"Pairs through Redis (pair_create.lua at start, pair_delete.lua at the end):\n"
	"  --redis ADDR          host:port, [v6]:port, unix:/path,\n"
	"                        sentinel:NAME@host:port,... or cluster:host:port,...\n"
	"                        [DUET_REDIS]\n"
	"  --relay R             relay id [DUET_RELAY]\n"
	"  --create              create one pair per call with fresh keys and use its\n"
	"                        endpoints as the relay addresses\n"
	"  --mode M              passthrough (default), verify or rekey\n"
	"  --a-ip IP, --b-ip IP  take that leg's endpoint on this relay address (IPv4 or\n"
	"                        IPv6, no brackets: 192.0.2.1, 2001:db8::1)\n"
	"  --id-prefix P         pair ids P-0, P-1, ... (default caller-<random>)\n"
	"  --no-relay-check      create even when the relay has no fresh heartbeat or\n"
	"                        is full (a run without duetd, the wire as the relay)\n"
	"  --user U, --password P  Redis ACL user / password [DUET_REDIS_USER,\n"
	"                        DUET_REDIS_PASSWORD]\n"
	"  --redis-timeout-ms N  connect and command timeout (default 3000)\n"
	"\n"
	"Audio (looped for as long as the call runs):\n"
	"  --audio FILE.wav      16-bit PCM WAV, mono or stereo (mixed down), 8..192 kHz\n"
	"                        (resampled to 48 kHz by linear interpolation), both legs\n"
	"  --a-audio, --b-audio  a WAV for one leg (default: generated speech-like signal)\n"
	"  --seed N              seed of the generated signal (default 1)\n"
	"  --bitrate N           Opus bitrate, 16000..32000 bit/s (default 24000)\n"
	"  --dtx on|off          discontinuous transmission (default on)\n"
	"  --complexity N        Opus encoder complexity 0..10 (default 5)\n"
	"\n"
	"RTP:\n"
	"  --a-ssrc N, --b-ssrc N  SSRC of call 0's legs, + i for call i (default random)\n"
	"  --seq-start N         first sequence number of every leg (default random)\n"
	"  --rate realtime|max   50 packets/s per leg, or as fast as possible (default\n"
	"                        realtime)\n"
	"  --window N            --rate max: packets in flight per leg, 1..256 (default 64)\n"
	"  --rtcp-interval-ms N  realtime RTCP interval, 0 = none (default 1000)\n"
	"  --rtcp-every N        --rate max: RTCP every N packets, 0 = none (default 250)\n"
	"\n"
	"Run:\n"
	"  --calls N             calls at once, 1..5000 (default 1); one socket per leg\n"
	"  --threads N           worker threads, 1..16 (default 1)\n"
	"  --decode-calls N      calls whose audio is decoded and compared (default up to\n"
	"                        10); the others compare payload bytes only\n"
	"  --duration S          seconds of sending (decimals allowed; default 10 unless\n"
	"                        --packets is given)\n"
	"  --packets N           packets per leg\n"
	"  --timeout S           hard limit of the whole run (default duration + 10 s)\n"
	"  --drain-ms N          wait this long for the last packets (default 1000)\n"
	"  --require-audio-check exit 3 unless the audio check is \"pass\"\n"
	"  --json                one JSON object instead of the summary\n"
	"  --per-call            include every call in the JSON\n"
	"  --help, --version\n"
	"\n"
	"Exit status: 0 ok, 1 runtime failure, 2 bad usage, 3 required check failed,\n"
	"130 interrupted. Keys are never printed (except by --gen-keys).\n";

enum {
	OPT_LEG = 256, OPT_A_BIND, OPT_B_BIND, OPT_A_RELAY, OPT_B_RELAY, OPT_DIRECT,
	OPT_A_NETNS, OPT_B_NETNS, OPT_A_KEY_OUT, OPT_A_KEY_IN, OPT_B_KEY_OUT, OPT_B_KEY_IN,
	OPT_A_KEY_OUT2, OPT_A_KEY_IN2, OPT_B_KEY_OUT2, OPT_B_KEY_IN2, OPT_ROTATE_AFTER,
	OPT_SUITE, OPT_GEN_KEYS, OPT_REDIS, OPT_RELAY, OPT_USER, OPT_PASSWORD, OPT_CREATE,
	OPT_MODE, OPT_A_IP, OPT_B_IP, OPT_ID_PREFIX, OPT_REDIS_TIMEOUT, OPT_AUDIO, OPT_A_AUDIO,
	OPT_B_AUDIO, OPT_SEED, OPT_BITRATE, OPT_DTX, OPT_COMPLEXITY, OPT_A_SSRC, OPT_B_SSRC,
	OPT_SEQ_START, OPT_RATE, OPT_WINDOW, OPT_RTCP_INTERVAL, OPT_RTCP_EVERY, OPT_CALLS,
	OPT_THREADS, OPT_DECODE_CALLS, OPT_DURATION, OPT_PACKETS, OPT_TIMEOUT, OPT_DRAIN,
	OPT_REQUIRE_AUDIO, OPT_JSON, OPT_PER_CALL, OPT_HELP, OPT_VERSION, OPT_NO_RELAY_CHECK,
};

static const struct option long_opts[] = {
	{"leg", required_argument, NULL, OPT_LEG},
	{"a-bind", required_argument, NULL, OPT_A_BIND},
	{"b-bind", required_argument, NULL, OPT_B_BIND},
	{"a-relay", required_argument, NULL, OPT_A_RELAY},
	{"b-relay", required_argument, NULL, OPT_B_RELAY},
	{"direct", no_argument, NULL, OPT_DIRECT},
	{"a-netns", required_argument, NULL, OPT_A_NETNS},
	{"b-netns", required_argument, NULL, OPT_B_NETNS},
	{"a-key-out", required_argument, NULL, OPT_A_KEY_OUT},
	{"a-key-in", required_argument, NULL, OPT_A_KEY_IN},
	{"b-key-out", required_argument, NULL, OPT_B_KEY_OUT},
	{"b-key-in", required_argument, NULL, OPT_B_KEY_IN},
	{"a-key-out2", required_argument, NULL, OPT_A_KEY_OUT2},
	{"a-key-in2", required_argument, NULL, OPT_A_KEY_IN2},
	{"b-key-out2", required_argument, NULL, OPT_B_KEY_OUT2},
	{"b-key-in2", required_argument, NULL, OPT_B_KEY_IN2},
	{"rotate-after", required_argument, NULL, OPT_ROTATE_AFTER},
	{"suite", required_argument, NULL, OPT_SUITE},
	{"gen-keys", required_argument, NULL, OPT_GEN_KEYS},
	{"redis", required_argument, NULL, OPT_REDIS},
	{"relay", required_argument, NULL, OPT_RELAY},
	{"user", required_argument, NULL, OPT_USER},
	{"password", required_argument, NULL, OPT_PASSWORD},
	{"create", no_argument, NULL, OPT_CREATE},
	{"mode", required_argument, NULL, OPT_MODE},
	{"a-ip", required_argument, NULL, OPT_A_IP},
	{"b-ip", required_argument, NULL, OPT_B_IP},
	{"id-prefix", required_argument, NULL, OPT_ID_PREFIX},
	{"no-relay-check", no_argument, NULL, OPT_NO_RELAY_CHECK},
	{"redis-timeout-ms", required_argument, NULL, OPT_REDIS_TIMEOUT},
	{"audio", required_argument, NULL, OPT_AUDIO},
	{"a-audio", required_argument, NULL, OPT_A_AUDIO},
	{"b-audio", required_argument, NULL, OPT_B_AUDIO},
	{"seed", required_argument, NULL, OPT_SEED},
	{"bitrate", required_argument, NULL, OPT_BITRATE},
	{"dtx", required_argument, NULL, OPT_DTX},
	{"complexity", required_argument, NULL, OPT_COMPLEXITY},
	{"a-ssrc", required_argument, NULL, OPT_A_SSRC},
	{"b-ssrc", required_argument, NULL, OPT_B_SSRC},
	{"seq-start", required_argument, NULL, OPT_SEQ_START},
	{"rate", required_argument, NULL, OPT_RATE},
	{"window", required_argument, NULL, OPT_WINDOW},
	{"rtcp-interval-ms", required_argument, NULL, OPT_RTCP_INTERVAL},
	{"rtcp-every", required_argument, NULL, OPT_RTCP_EVERY},
	{"calls", required_argument, NULL, OPT_CALLS},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"decode-calls", required_argument, NULL, OPT_DECODE_CALLS},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"packets", required_argument, NULL, OPT_PACKETS},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"drain-ms", required_argument, NULL, OPT_DRAIN},
	{"require-audio-check", no_argument, NULL, OPT_REQUIRE_AUDIO},
	{"json", no_argument, NULL, OPT_JSON},
	{"per-call", no_argument, NULL, OPT_PER_CALL},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};


int
caller_usage_err(const char *fmt, ...)
{
	va_list ap;

	fputs("duet-caller: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'duet-caller --help'.\n", stderr);
	return CALLER_EXIT_USAGE;
}

int
caller_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("duet-caller: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CALLER_EXIT_FAIL;
}

const char *
caller_mode_name(enum duet_pair_mode m)
{
	const char *n = duet_mode_name(m);

	return n != NULL ? n : "?";
}

static int
parse_mode(const char *s, enum duet_pair_mode *m)
{
	uint8_t v;

	if (duet_mode_parse(s, &v) != 0)
		return -EINVAL;
	*m = (enum duet_pair_mode)v;
	return 0;
}

int
caller_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
random_key(enum duet_srtp_suite suite, struct duet_sdes *k)
{
	memset(k, 0, sizeof(*k));
	k->suite = suite;
	k->key_len = (uint8_t)duet_srtp_suite_key_len(suite);
	return caller_random(k->key, k->key_len);
}

int
caller_make_keys(enum duet_srtp_suite suite, enum duet_pair_mode mode,
		 struct duet_sdes relay_keys[4])
{
	int i, rc = 0;

	/* Relay's view: [0] a_in, [1] a_out, [2] b_in, [3] b_out. Without
	 * re-keying, what a sends (a_in) is what b receives (b_out). */
	for (i = 0; i < 4 && rc == 0; i++)
		rc = random_key(suite, &relay_keys[i]);
	if (rc == 0 && mode != DUET_MODE_REKEY) {
		relay_keys[3] = relay_keys[0];
		relay_keys[1] = relay_keys[2];
	}
	return rc;
}

int
caller_gen_keys(const struct caller_opts *o)
{
	char text[4][DUET_SDES_TEXT_MAX];
	struct duet_sdes keys[4];
	int i, rc;

	rc = caller_make_keys(o->suite, (enum duet_pair_mode)o->gen_keys, keys);
	for (i = 0; i < 4 && rc == 0; i++)
		rc = duet_sdes_format(&keys[i], text[i], sizeof(text[i]));
	for (i = 0; i < 4; i++)
		duet_sdes_wipe(&keys[i]);
	if (rc != 0) {
		duet_secure_zero(text, sizeof(text));
		return caller_fail("--gen-keys: cannot make random keys: %s", strerror(-rc));
	}
	if (o->json) {
		printf("{\"mode\":\"%s\",\"suite\":\"%s\"", caller_mode_name((enum duet_pair_mode)o->gen_keys),
		       duet_srtp_suite_name(o->suite));
		for (i = 0; i < 4; i++)
			printf(",\"%s\":\"%s\"", duet_key_field((unsigned int)i), text[i]);
		printf("}\n");
	} else {
		/* Shell assignments: eval "$(duet-caller --gen-keys verify)". */
		for (i = 0; i < 4; i++)
			printf("%s='%s'\n", duet_key_field((unsigned int)i), text[i]);
	}
	duet_secure_zero(text, sizeof(text));
	return fflush(stdout) == 0 ? CALLER_EXIT_OK : CALLER_EXIT_FAIL;
}

void
caller_opts_wipe(struct caller_opts *o)
{
	int i;

	for (i = 0; i < 2; i++) {
		duet_sdes_wipe(&o->key_out[i]);
		duet_sdes_wipe(&o->key_in[i]);
		duet_sdes_wipe(&o->key_out2[i]);
		duet_sdes_wipe(&o->key_in2[i]);
	}
}

/* Option value helpers: -1 when the value is good (parsing goes on), or
 * the exit status after printing what is wrong. */
static int
num(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
	if (duet_parse_u64(arg, min, max, out) != 0)
		return caller_usage_err("%s: '%s' is not a whole number in %llu..%llu", opt, arg,
					(unsigned long long)min, (unsigned long long)max);
	return -1;
}

static int
addr(const char *opt, const char *arg, bool allow0, struct sockaddr_storage *a, socklen_t *len)
{
	if (caller_parse_addr(arg, allow0, a, len) != 0)
		return caller_usage_err("%s: '%s' is not IPv4:PORT or [IPv6]:PORT with a port in "
					"%d..65535",
					opt, arg, allow0 ? 0 : 1);
	/* An IPv6 socket would speak IPv4 to it, behind the report's back. */
	if (caller_addr_is_v4mapped(a))
		return caller_usage_err("%s: '%s' is an IPv4-mapped IPv6 address: give it as "
					"IPv4:PORT",
					opt, arg);
	return -1;
}

static int
key(const char *opt, char *arg, struct duet_sdes *k, bool *set)
{
	const char *why = "invalid";

	if (duet_sdes_parse(arg, k, &why) != 0) {
		/* The value is a secret, even a broken one: name the option only. */
		duet_secure_zero(arg, strlen(arg));
		return caller_usage_err("%s: not a usable SDES key (%s)", opt, why);
	}
	duet_secure_zero(arg, strlen(arg));
	*set = true;
	return -1;
}

static int
on_off(const char *opt, const char *arg, bool *out)
{
	if (strcmp(arg, "on") == 0)
		*out = true;
	else if (strcmp(arg, "off") == 0)
		*out = false;
	else
		return caller_usage_err("%s: '%s' is not on or off", opt, arg);
	return -1;
}

/* Defaults for what the options left unset. */
static void
set_defaults(struct caller_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->leg_on[CALLER_A] = o->leg_on[CALLER_B] = true;
	o->suite = DUET_SRTP_AES_CM_128_HMAC_SHA1_80;
	o->gen_keys = -1;
	o->redis_addr = getenv("DUET_REDIS");
	o->relay_id = getenv("DUET_RELAY");
	o->user = getenv("DUET_REDIS_USER");
	o->password = getenv("DUET_REDIS_PASSWORD");
	o->redis_timeout_ms = DEFAULT_REDIS_TIMEOUT_MS;
	o->seed = 1;
	o->bitrate = DEFAULT_BITRATE;
	o->dtx = true;
	o->complexity = DEFAULT_COMPLEXITY;
	o->window = DEFAULT_WINDOW;
	o->rtcp_interval_ms = DEFAULT_RTCP_INTERVAL_MS;
	o->rtcp_every = DEFAULT_RTCP_EVERY;
	o->calls = 1;
	o->threads = 1;
	o->drain_ms = DEFAULT_DRAIN_MS;
}

/* Checks that need every option. */
static int
check_combination(struct caller_opts *o, bool decode_set, bool timeout_set)
{
	bool both = o->leg_on[CALLER_A] && o->leg_on[CALLER_B];
	bool any_key = false, any_key2 = false, any_out2 = false;
	int i;

	for (i = 0; i < 2; i++) {
		any_key |= o->key_out_set[i] || o->key_in_set[i];
		any_key2 |= o->key_out2_set[i] || o->key_in2_set[i];
		any_out2 |= o->key_out2_set[i];
	}
	/* The second keys only make sense next to first keys given here:
	 * generated or --create keys are not known to whoever rotates. */
	if (any_key2 && !any_key)
		return caller_usage_err("--*-key-out2/--*-key-in2 need the first keys "
					"(--a-key-out, ...) too");
	if (any_out2 && o->rotate_after == 0)
		return caller_usage_err("--a-key-out2/--b-key-out2 need --rotate-after N");
	if (!any_out2 && o->rotate_after != 0)
		return caller_usage_err("--rotate-after needs --a-key-out2 or --b-key-out2");
	if (o->direct && !both)
		return caller_usage_err("--direct needs both legs (--leg both)");
	if (o->direct && (o->relay_set[0] || o->relay_set[1]))
		return caller_usage_err("--direct and --%c-relay: with --direct each leg sends "
					"to the other's bind address",
					o->relay_set[0] ? 'a' : 'b');
	if (o->create) {
		if (!both)
			return caller_usage_err("--create needs both legs (--leg both)");
		if (o->direct)
			return caller_usage_err("--create and --direct do not go together");
		if (o->relay_set[0] || o->relay_set[1])
			return caller_usage_err("--create takes the relay endpoints from Redis: "
						"drop --a-relay/--b-relay");
		if (any_key)
			return caller_usage_err("--create makes fresh keys for every pair: drop "
						"the --*-key-* options");
		if (o->relay_id == NULL || o->relay_id[0] == '\0')
			return caller_usage_err("--create needs --relay R (or DUET_RELAY)");
		if (o->redis_addr == NULL || o->redis_addr[0] == '\0')
			o->redis_addr = DEFAULT_REDIS;
	} else if ((o->ip_hint[0][0] != '\0' || o->ip_hint[1][0] != '\0')) {
		return caller_usage_err("--a-ip/--b-ip only apply with --create");
	} else if (o->no_relay_check) {
		return caller_usage_err("--no-relay-check only applies with --create");
	}
	for (i = 0; i < 2; i++) {
		char l = (char)('a' + i);

		if (!o->leg_on[i])
			continue;
		if (!o->direct && !o->create && !o->relay_set[i])
			return caller_usage_err("leg %c needs --%c-relay IP:PORT (or --direct, or "
						"--create)",
						l, l);
		if (any_key && (!o->key_out_set[i] || !o->key_in_set[i]))
			return caller_usage_err("leg %c needs both --%c-key-out and --%c-key-in "
						"once any key is given",
						l, l, l);
		if (!any_key && !both && !o->create)
			return caller_usage_err("one leg alone needs --%c-key-out and --%c-key-in "
						"(the peer must use the matching keys)",
						l, l);
		if (!o->bind_set[i] && !o->create) {
			/* Same family as where it sends: the relay endpoint, or
			 * with --direct the other leg. With --create that is
			 * known only once the pair exists: caller_main.c picks
			 * the default then. */
			const char *def;

			if (o->direct)
				def = o->bind_set[!i] && o->bind[!i].ss_family == AF_INET6 ?
					      "[::1]:0" :
					      "127.0.0.1:0";
			else
				def = o->relay_set[i] && o->relay[i].ss_family == AF_INET6 ?
					      "[::]:0" :
					      "0.0.0.0:0";
			caller_parse_addr(def, true, &o->bind[i], &o->bind_len[i]);
		}
		if (o->relay_set[i] && o->relay[i].ss_family != o->bind[i].ss_family) {
			char b[CALLER_ADDR_STRLEN];

			caller_format_addr(&o->bind[i], b, sizeof(b));
			return caller_usage_err("--%c-bind %s is %s but --%c-relay %s is %s: a "
						"leg's socket has its relay endpoint's family",
						l, b, caller_family_name(o->bind[i].ss_family), l,
						o->relay_arg[i],
						caller_family_name(o->relay[i].ss_family));
		}
		if (o->create && o->bind_set[i] && o->ip_hint[i][0] != '\0' &&
		    caller_ip_family(o->ip_hint[i]) != o->bind[i].ss_family) {
			char b[CALLER_ADDR_STRLEN];

			/* Refused now rather than after the pair exists. */
			caller_format_addr(&o->bind[i], b, sizeof(b));
			return caller_usage_err("--%c-ip %s is %s but --%c-bind %s is %s: the "
						"relay would give leg %c an endpoint of the other "
						"family",
						l, o->ip_hint[i],
						caller_family_name(caller_ip_family(o->ip_hint[i])),
						l, b, caller_family_name(o->bind[i].ss_family), l);
		}
		if (caller_addr_port(&o->bind[i]) != 0 &&
		    caller_addr_port(&o->bind[i]) + (uint64_t)o->calls - 1 > 65535)
			return caller_usage_err("--%c-bind: port %u + %u calls passes 65535", l,
						caller_addr_port(&o->bind[i]), o->calls);
		if (o->relay_set[i] && caller_addr_port(&o->relay[i]) + (uint64_t)o->calls - 1 > 65535)
			return caller_usage_err("--%c-relay: port %u + %u calls passes 65535", l,
						caller_addr_port(&o->relay[i]), o->calls);
	}
	if (o->direct && o->bind[0].ss_family != o->bind[1].ss_family)
		return caller_usage_err("--direct: --a-bind is %s and --b-bind is %s: the legs "
					"send to each other, so they need one family",
					caller_family_name(o->bind[0].ss_family),
					caller_family_name(o->bind[1].ss_family));
	for (i = 0; o->direct && i < 2; i++) {
		if (caller_addr_is_any(&o->bind[i]))
			return caller_usage_err("--direct: --%c-bind must be an address the other "
						"leg can send to, not the wildcard",
						'a' + i);
	}
	if (o->duration_ms == 0 && o->packets == 0)
		o->duration_ms = DEFAULT_DURATION_MS;
	if (!timeout_set) {
		uint64_t base = o->duration_ms;

		if (base == 0)
			base = o->rate == CALLER_RATE_REALTIME ? o->packets * 20 :
								 DEFAULT_MAX_RATE_RUN_MS;
		o->timeout_ms = base + DEFAULT_TIMEOUT_EXTRA_MS;
	}
	if (!decode_set)
		o->decode_calls = o->calls < DEFAULT_DECODE_CALLS ? o->calls : DEFAULT_DECODE_CALLS;
	if (o->decode_calls > o->calls)
		o->decode_calls = o->calls;
	if (o->threads > o->calls)
		o->threads = o->calls;
	return -1;
}

int
caller_args_parse(struct caller_opts *o, int argc, char **argv)
{
	bool decode_set = false, timeout_set = false;
	uint64_t v;
	int c, rc = -1;

	set_defaults(o);
	opterr = 0; /* our messages name the argument and exit 2 */
	while (rc < 0 && (c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_LEG:
			if (strcmp(optarg, "a") == 0 || strcmp(optarg, "b") == 0) {
				o->leg_on[CALLER_A] = optarg[0] == 'a';
				o->leg_on[CALLER_B] = optarg[0] == 'b';
			} else if (strcmp(optarg, "both") != 0) {
				rc = caller_usage_err("--leg: '%s' is not a, b or both", optarg);
			}
			break;
		case OPT_A_BIND:
		case OPT_B_BIND:
			rc = addr(c == OPT_A_BIND ? "--a-bind" : "--b-bind", optarg, true,
				  &o->bind[c - OPT_A_BIND], &o->bind_len[c - OPT_A_BIND]);
			o->bind_set[c - OPT_A_BIND] = true;
			break;
		case OPT_A_RELAY:
		case OPT_B_RELAY:
			rc = addr(c == OPT_A_RELAY ? "--a-relay" : "--b-relay", optarg, false,
				  &o->relay[c - OPT_A_RELAY], &o->relay_len[c - OPT_A_RELAY]);
			o->relay_set[c - OPT_A_RELAY] = true;
			o->relay_arg[c - OPT_A_RELAY] = optarg;
			break;
		case OPT_DIRECT:
			o->direct = true;
			break;
		case OPT_A_NETNS:
		case OPT_B_NETNS:
			if (optarg[0] == '\0' || strchr(optarg, '/') != NULL ||
			    strcmp(optarg, ".") == 0 || strcmp(optarg, "..") == 0)
				rc = caller_usage_err("--%c-netns: '%s' is not a namespace name",
						      c == OPT_A_NETNS ? 'a' : 'b', optarg);
			o->netns[c - OPT_A_NETNS] = optarg;
			break;
		case OPT_A_KEY_OUT:
			rc = key("--a-key-out", optarg, &o->key_out[0], &o->key_out_set[0]);
			break;
		case OPT_A_KEY_IN:
			rc = key("--a-key-in", optarg, &o->key_in[0], &o->key_in_set[0]);
			break;
		case OPT_B_KEY_OUT:
			rc = key("--b-key-out", optarg, &o->key_out[1], &o->key_out_set[1]);
			break;
		case OPT_B_KEY_IN:
			rc = key("--b-key-in", optarg, &o->key_in[1], &o->key_in_set[1]);
			break;
		case OPT_A_KEY_OUT2:
			rc = key("--a-key-out2", optarg, &o->key_out2[0], &o->key_out2_set[0]);
			break;
		case OPT_A_KEY_IN2:
			rc = key("--a-key-in2", optarg, &o->key_in2[0], &o->key_in2_set[0]);
			break;
		case OPT_B_KEY_OUT2:
			rc = key("--b-key-out2", optarg, &o->key_out2[1], &o->key_out2_set[1]);
			break;
		case OPT_B_KEY_IN2:
			rc = key("--b-key-in2", optarg, &o->key_in2[1], &o->key_in2_set[1]);
			break;
		case OPT_ROTATE_AFTER:
			rc = num("--rotate-after", optarg, 1, UINT32_MAX, &o->rotate_after);
			break;
		case OPT_SUITE:
			if (duet_srtp_suite_parse(optarg, &o->suite) != 0)
				rc = caller_usage_err("--suite: unknown suite '%s'", optarg);
			break;
		case OPT_GEN_KEYS: {
			enum duet_pair_mode m = DUET_MODE_PASSTHROUGH;

			if (parse_mode(optarg, &m) != 0)
				rc = caller_usage_err("--gen-keys: '%s' is not passthrough, verify "
						      "or rekey",
						      optarg);
			o->gen_keys = (int)m;
			break;
		}
		case OPT_REDIS:
			o->redis_addr = optarg;
			break;
		case OPT_RELAY:
			o->relay_id = optarg;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_PASSWORD:
			o->password = optarg;
			break;
		case OPT_CREATE:
			o->create = true;
			break;
		case OPT_NO_RELAY_CHECK:
			o->no_relay_check = true;
			break;
		case OPT_MODE:
			if (parse_mode(optarg, &o->mode) != 0)
				rc = caller_usage_err("--mode: '%s' is not passthrough, verify or "
						      "rekey",
						      optarg);
			break;
		case OPT_A_IP:
		case OPT_B_IP:
			if (caller_canonical_ip(optarg, o->ip_hint[c - OPT_A_IP],
						sizeof(o->ip_hint[0])) != 0)
				rc = caller_usage_err("--%c-ip: '%s' is not an IPv4 or IPv6 address "
						      "(no port, no brackets)",
						      c == OPT_A_IP ? 'a' : 'b', optarg);
			break;
		case OPT_ID_PREFIX: {
			size_t i, n = strlen(optarg);

			/* Room for "-<call>" inside the 64-character id. */
			if (n == 0 || n > DUET_RECORD_ID_MAX - 5)
				rc = caller_usage_err("--id-prefix: '%s' is not 1..59 characters",
						      optarg);
			for (i = 0; i < n && rc < 0; i++)
				if (!((optarg[i] >= 'a' && optarg[i] <= 'z') ||
				      (optarg[i] >= 'A' && optarg[i] <= 'Z') ||
				      (optarg[i] >= '0' && optarg[i] <= '9') ||
				      strchr("._:-", optarg[i]) != NULL))
					rc = caller_usage_err("--id-prefix: '%s' has characters "
							      "outside [A-Za-z0-9._:-]",
							      optarg);
			o->id_prefix = optarg;
			break;
		}
		case OPT_REDIS_TIMEOUT:
			rc = num("--redis-timeout-ms", optarg, 1, 600000, &v);
			o->redis_timeout_ms = (uint32_t)v;
			break;
		case OPT_AUDIO:
			o->audio[0] = o->audio[1] = optarg;
			break;
		case OPT_A_AUDIO:
		case OPT_B_AUDIO:
			o->audio[c - OPT_A_AUDIO] = optarg;
			break;
		case OPT_SEED:
			rc = num("--seed", optarg, 0, UINT32_MAX, &o->seed);
			break;
		case OPT_BITRATE:
			rc = num("--bitrate", optarg, 16000, 32000, &v);
			o->bitrate = (uint32_t)v;
			break;
		case OPT_DTX:
			rc = on_off("--dtx", optarg, &o->dtx);
			break;
		case OPT_COMPLEXITY:
			rc = num("--complexity", optarg, 0, 10, &v);
			o->complexity = (uint32_t)v;
			break;
		case OPT_A_SSRC:
		case OPT_B_SSRC:
			rc = num(c == OPT_A_SSRC ? "--a-ssrc" : "--b-ssrc", optarg, 0, UINT32_MAX, &v);
			o->ssrc[c - OPT_A_SSRC] = (uint32_t)v;
			o->ssrc_set[c - OPT_A_SSRC] = true;
			break;
		case OPT_SEQ_START:
			rc = num("--seq-start", optarg, 0, 65535, &v);
			o->seq_start = (uint16_t)v;
			o->seq_start_set = true;
			break;
		case OPT_RATE:
			if (strcmp(optarg, "realtime") == 0)
				o->rate = CALLER_RATE_REALTIME;
			else if (strcmp(optarg, "max") == 0)
				o->rate = CALLER_RATE_MAX;
			else
				rc = caller_usage_err("--rate: '%s' is not realtime or max", optarg);
			break;
		case OPT_WINDOW:
			rc = num("--window", optarg, 1, CALLER_WINDOW_MAX, &v);
			o->window = (uint32_t)v;
			break;
		case OPT_RTCP_INTERVAL:
			rc = num("--rtcp-interval-ms", optarg, 0, 600000, &v);
			o->rtcp_interval_ms = (uint32_t)v;
			break;
		case OPT_RTCP_EVERY:
			rc = num("--rtcp-every", optarg, 0, 100000000, &v);
			o->rtcp_every = (uint32_t)v;
			break;
		case OPT_CALLS:
			rc = num("--calls", optarg, 1, CALLER_CALLS_MAX, &v);
			o->calls = (uint32_t)v;
			break;
		case OPT_THREADS:
			rc = num("--threads", optarg, 1, CALLER_THREADS_MAX, &v);
			o->threads = (uint32_t)v;
			break;
		case OPT_DECODE_CALLS:
			rc = num("--decode-calls", optarg, 0, CALLER_CALLS_MAX, &v);
			o->decode_calls = (uint32_t)v;
			decode_set = true;
			break;
		case OPT_DURATION:
			if (caller_parse_seconds(optarg, 20, 86400000, &o->duration_ms) != 0)
				rc = caller_usage_err("--duration: '%s' is not a number of seconds "
						      "in 0.02..86400 (at most 3 decimals)",
						      optarg);
			break;
		case OPT_PACKETS:
			rc = num("--packets", optarg, 1, UINT32_MAX, &o->packets);
			break;
		case OPT_TIMEOUT:
			if (caller_parse_seconds(optarg, 1, 86400000 + 3600000, &o->timeout_ms) != 0)
				rc = caller_usage_err("--timeout: '%s' is not a number of seconds "
						      "in 0.001..90000",
						      optarg);
			timeout_set = true;
			break;
		case OPT_DRAIN:
			rc = num("--drain-ms", optarg, 0, 60000, &o->drain_ms);
			break;
		case OPT_REQUIRE_AUDIO:
			o->require_audio_check = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_PER_CALL:
			o->per_call = true;
			break;
		case 'h':
		case OPT_HELP:
			fputs(usage_text, stdout);
			return CALLER_EXIT_OK;
		case OPT_VERSION:
			printf("duet-caller %s (%s, %s)\n", DUET_VERSION, opus_get_version_string(),
			       srtp_get_version_string());
			return CALLER_EXIT_OK;
		case ':':
			rc = caller_usage_err("option '%s' needs a value", argv[optind - 1]);
			break;
		default:
			rc = caller_usage_err("unknown option '%s'", argv[optind - 1]);
			break;
		}
	}
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return caller_usage_err("unexpected argument '%s'", argv[optind]);
	if (o->gen_keys >= 0)
		return -1;
	return check_combination(o, decode_set, timeout_set);
}
