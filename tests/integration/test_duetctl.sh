#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test_duetctl: duetctl against a private redis-server (no duetd; one
# network namespace of its own, for the unreachable TCP address): create, list, show, relay, ended
# and delete in text and JSON (JSON parsed with python3), SRTP keys from a
# keys file or stdin (--keys-file) and the old key flags' warning, the
# optional record fields relatch, max_pps and max_kbps, exit 2 with a
# message naming the argument for every bad argument (Redis untouched; a
# bad keys file named with its line and no key text), exit 1 when Redis is
# unreachable or refuses the password. Prints TAP.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"

# duet_init minus the veth topology this test does not need.
trap duet_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for tool in redis-server redis-cli python3; do
	command -v "$tool" >/dev/null || duet_bail "needs $tool"
done
DUET_TMP=$(mktemp -d /tmp/duet-it.XXXXXX) || duet_bail "cannot make a temp dir"
duet_need_bins duetctl
RELAY_ID=r1
duet_redis_start
duetctl=$DUETCTL
sock=$DUET_REDIS_SOCK
tmp=$DUET_TMP

R="duet:{r1}"
rc() { rcli "$@"; }
ctl() { duet_ctl "$@"; }
# fail TEXT: a failed check, first line as its TAP description, all as diagnostic.
fail() { duet_not_ok "$(head -n 1 <<<"$1")" "$1"; }
ok() { duet_ok "$@"; }

# run NAME EXPECTED_RC cmd...: runs cmd, keeps stdout in $out and stderr in $err.
run() {
	local name=$1 want=$2 got
	shift 2
	out=$("$@" 2>"$tmp/err")
	got=$?
	err=$(cat "$tmp/err")
	if [ "$got" -ne "$want" ]; then
		duet_not_ok "$name" "exit $got, expected $want"$'\n'"stdout: $out"$'\n'"stderr: $err"
		return 1
	fi
	ok "$name"
}

# jcheck NAME PYEXPR: parse $out as JSON into d, and PYEXPR must be true.
jcheck() {
	if ! printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else 1)' "$2" 2>/dev/null; then
		duet_not_ok "$1 (json)" "check '$2' failed on: $out"
		return 1
	fi
	ok "$1 (json)"
}

# has NAME TEXT WHERE: WHERE ("$out" or "$err") contains TEXT.
has() {
	case "$3" in
	*"$2"*) ok "$1 (has '$2')" ;;
	*) duet_not_ok "$1 (has '$2')" "not found in: $3" ;;
	esac
}
lacks() {
	case "$3" in
	*"$2"*) duet_not_ok "$1 (lacks '$2')" "found in: $3" ;;
	*) ok "$1 (lacks '$2')" ;;
	esac
}

# --- help and missing relay ---------------------------------------------
run "help" 0 "$duetctl" --help && has "help" "usage: duetctl" "$out"
run "create --help" 0 "$duetctl" create --help && has "create --help" "--a-src" "$out"
run "no relay" 2 env -u DUET_RELAY "$duetctl" --redis "unix:$sock" list && has "no relay" "no relay" "$err"

# --- create on a relay that does not run ---------------------------------
run "create with no heartbeat" 1 ctl create --id early
has "create with no heartbeat" "relay r1 has no fresh heartbeat" "$err"
has "create with no heartbeat" "--no-relay-check" "$err"
[ "$(rc EXISTS "$R:pair:early")" = 0 ] && ok "no record left" || fail "record left behind"

# --- the heartbeat as a running duetd writes it (capacity 100) ------------
heartbeat() { rc HSET "$R:relay" capacity 100 pairs "$1" >/dev/null && rc PEXPIRE "$R:relay" 600000 >/dev/null; }
heartbeat 0

# --- create with nothing free -------------------------------------------
run "create without free endpoints" 1 ctl create --id early
has "create without free endpoints" "fewer than 2 free endpoints" "$err"
[ "$(rc EXISTS "$R:pair:early")" = 0 ] && ok "no record left" || fail "record left behind"

# --- seed the free set as duetd would -------------------------------------
seeded="192.0.2.10:20000 192.0.2.10:20002 192.0.2.10:20004 192.0.2.10:20006 [2001:db8::10]:20000 [2001:db8::10]:20002"
# shellcheck disable=SC2086
rc SADD "$R:free" $seeded >/dev/null
is_seeded() { case " $seeded " in *" $1 "*) return 0 ;; esac; return 1; }

# --- create ---------------------------------------------------------------
now=$(date +%s)
run "create call-1" 0 ctl create --id call-1 --a-src 203.0.113.5:4000 --idle-ms 1500 --ttl 60
if [[ "$out" =~ ^call-1\ a=([^ ]+)\ b=([^ ]+)$ ]]; then
	a1=${BASH_REMATCH[1]} b1=${BASH_REMATCH[2]}
	ok "create output format"
	is_seeded "$a1" && is_seeded "$b1" && [ "$a1" != "$b1" ] && ok "endpoints from the free set" ||
		fail "endpoints $a1 $b1 not two distinct free ones"
	[ "$(rc HGET "$R:alloc" "$a1")" = call-1 ] && ok "alloc a" || fail "alloc a"
	[ "$(rc SISMEMBER "$R:free" "$b1")" = 0 ] && ok "b no longer free" || fail "b still free"
else
	fail "create output '$out' is not 'call-1 a=EP b=EP'"
	a1=x b1=x
fi
[ "$(rc HGET "$R:pair:call-1" a_src)" = 203.0.113.5:4000 ] && ok "a_src stored" || fail "a_src"
[ "$(rc HGET "$R:pair:call-1" idle_ms)" = 1500 ] && ok "idle_ms stored" || fail "idle_ms"
[ "$(rc HGET "$R:pair:call-1" mode)" = passthrough ] && ok "mode stored" || fail "mode"
exp=$(rc HGET "$R:pair:call-1" expires)
[ "$exp" -ge $((now + 59)) ] && [ "$exp" -le $((now + 62)) ] && ok "expires = now + ttl" ||
	fail "expires $exp, now $now"
[ "$(rc XLEN "$R:events")" = 1 ] && ok "one event" || fail "events: $(rc XLEN "$R:events")"

# Canonical form of an IPv6 pin.
run "create v6 pin" 0 ctl create --id call-6 --b-src '[2001:DB8:0::5]:4000'
[ "$(rc HGET "$R:pair:call-6" b_src)" = '[2001:db8::5]:4000' ] && ok "v6 pin canonical" ||
	fail "b_src: $(rc HGET "$R:pair:call-6" b_src)"
run "delete call-6" 0 ctl delete call-6

run "create --json" 0 ctl --json create
jcheck "create --json" 'len(d["id"]) == 16 and all(c in "0123456789abcdef" for c in d["id"]) and d["a"] != d["b"]'
rid=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

run "create existing id" 1 ctl create --id call-1
has "create existing id" "EXISTS" "$err"
[ "$(rc HGET "$R:pair:call-1" a)" = "$a1" ] && ok "existing pair unchanged" || fail "existing pair changed"

# --- a full relay, a stopped one, and provisioning anyway -----------------
heartbeat 100
run "create on a full relay" 1 ctl create --id full
has "create on a full relay" "relay r1 is full: 100 pairs of capacity 100" "$err"
heartbeat 0
rc HSET "$R:relay" stopped_ms 1 >/dev/null
run "create on a stopped relay" 1 ctl create --id stopped
has "create on a stopped relay" "relay r1 was stopped" "$err"
[ "$(rc EXISTS "$R:pair:full") $(rc EXISTS "$R:pair:stopped")" = "0 0" ] && ok "refused creates left no record" ||
	fail "a refused create left a record"
rc DEL "$R:relay" >/dev/null
run "create --no-relay-check with no heartbeat" 0 ctl create --id prov --no-relay-check
[ "$(rc EXISTS "$R:pair:prov") $(rc HEXISTS "$R:pair:prov" relay_check)" = "1 0" ] &&
	ok "provisioned pair stored without relay_check" || fail "provisioned pair: $(rc HGETALL "$R:pair:prov")"
run "delete prov" 0 ctl delete prov
heartbeat 0

# --- list -----------------------------------------------------------------
run "list" 0 ctl list
has "list" "call-1" "$out"
has "list" "$a1" "$out"
has "list" "unknown" "$out"
run "list --json" 0 ctl list --json
jcheck "list --json" "len(d) == 2 and sorted(p['id'] for p in d) == sorted(['call-1', '$rid'])"
rc HSET "$R:stats:call-1" state active a_state latched a_pkts 42 >/dev/null
run "list --json with stats" 0 ctl --json list
jcheck "list --json with stats" "[p['state'] for p in d if p['id'] == 'call-1'] == ['active'] and [p['a'] for p in d if p['id'] == 'call-1'] == ['$a1']"

# --- show -----------------------------------------------------------------
rc HSET "$R:pair:call-1" a_in "inline:SECRETKEYMATERIAL" >/dev/null
run "show" 0 ctl show call-1
has "show" "203.0.113.5:4000 (pinned)" "$out"
has "show" "active" "$out"
lacks "show" "SECRETKEYMATERIAL" "$out"
run "show --json" 0 ctl show call-1 --json
jcheck "show --json" "d['id'] == 'call-1' and d['pair']['a'] == '$a1' and d['pair']['a_src'] == '203.0.113.5:4000' and d['stats']['state'] == 'active' and d['stats']['a_pkts'] == '42'"
lacks "show --json" "SECRETKEYMATERIAL" "$out"
run "show without stats" 0 ctl --json show "$rid"
jcheck "show without stats" "d['stats'] is None"
run "show missing" 1 ctl show nope
has "show missing" "no pair nope" "$err"

# Hostile bytes in a record: JSON stays valid and exact, text gets no escapes.
printf 'q"uo\\te\n\x01\x1b[31m\xc3\xa9' | redis-cli -s "$sock" -x HSET "$R:pair:call-1" note >/dev/null
run "show --json escaping" 0 ctl --json show call-1
jcheck "show --json escaping" "d['pair']['note'] == 'q\"uo\\\\te\\n\\x01\\x1b[31m\\u00e9'"
run "show text escaping" 0 ctl show call-1
lacks "show text escaping" $'\x1b' "$out"
lacks "show text escaping" $'\x01' "$out"
printf 'bad\xff\xfeutf8' | redis-cli -s "$sock" -x HSET "$R:pair:call-1" note >/dev/null
run "show --json invalid utf-8" 0 ctl --json show call-1
jcheck "show --json invalid utf-8" "d['pair']['note'] == 'bad\\ufffd\\ufffdutf8'"

# --- relay ----------------------------------------------------------------
rc DEL "$R:relay" >/dev/null
run "relay without heartbeat" 1 ctl relay
has "relay without heartbeat" "relay r1: no heartbeat (down or never started)" "$err"
rc HSET "$R:relay" version 0.1.0 pairs 2 drops 0 >/dev/null
run "relay" 0 ctl relay
has "relay" "pairs" "$out"
run "relay --json" 0 ctl relay --json
jcheck "relay --json" "d['relay'] == 'r1' and d['heartbeat']['pairs'] == '2'"
heartbeat 0

# --- ended ----------------------------------------------------------------
run "ended empty" 0 ctl --json ended
jcheck "ended empty" "d == []"
rc XADD "$R:ended" '*' id old-1 reason idle >/dev/null
rc XADD "$R:ended" '*' id old-2 reason deleted >/dev/null
run "ended" 0 ctl ended
[[ "$out" == *"id=old-1 reason=idle"*$'\n'*"id=old-2 reason=deleted"* ]] && ok "ended oldest first" || fail "ended order: $out"
run "ended --count 1 --json" 0 ctl ended --count 1 --json
jcheck "ended --count 1 --json" "len(d) == 1 and d[0]['id'] == 'old-2' and d[0]['reason'] == 'deleted' and '-' in d[0]['entry']"

# --- keyed modes: keys made, printed once, stored in the hash -------------
K80="AES_CM_128_HMAC_SHA1_80 inline:$(head -c 30 /dev/urandom | base64 -w0)"
run "create verify" 0 ctl --json create --id v-1 --mode verify --suite AEAD_AES_128_GCM
jcheck "create verify" "d['mode'] == 'verify' and d['a_in'].startswith('AEAD_AES_128_GCM inline:') and d['b_in'] != d['a_in'] and 'a_out' not in d"
[ "$(rc HGET "$R:pair:v-1" a_in)" = "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["a_in"])' "$out")" ] &&
	ok "verify: a_in stored as printed" || fail "verify: a_in differs in the hash"
[ "$(rc HGET "$R:pair:v-1" mode)" = verify ] && ok "verify: mode stored" || fail "verify: mode not stored"
ctl delete v-1 >/dev/null
run "create rekey with one key given" 0 ctl --json create --id k-1 --mode rekey --a-in "$K80"
jcheck "create rekey with one key given" "d['mode'] == 'rekey' and d['a_in'] == '$K80' and len({d['a_in'], d['a_out'], d['b_in'], d['b_out']}) == 4"
has "old key flag warns" "warning: --a-in puts an SRTP key on the command line, where other users can read it" "$err"
lacks "old key flag warning" "${K80#*inline:}" "$err"
ctl delete k-1 >/dev/null
run "create rekey text" 0 ctl create --id k-2 --mode rekey --suite AEAD_AES_256_GCM
has "create rekey text" 'b_out="AEAD_AES_256_GCM inline:' "$out"
ctl delete k-2 >/dev/null

# --- keys from a keys file or stdin: never on the command line -------------
# key SUITE BYTES: a fresh SDES value.
key() { printf '%s inline:%s' "$1" "$(head -c "$2" /dev/urandom | base64 -w0)"; }
KA_IN=$(key AES_CM_128_HMAC_SHA1_80 30) KA_OUT=$(key AES_CM_128_HMAC_SHA1_32 30)
KB_IN=$(key AEAD_AES_128_GCM 28) KB_OUT=$(key AEAD_AES_256_GCM 44)
keys=$tmp/keys.txt
printf '# pair kf-1\n\na_in %s\n  a_out\t%s  \n# b leg\nb_in %s\r\nb_out %s' \
	"$KA_IN" "$KA_OUT" "$KB_IN" "$KB_OUT" >"$keys"
# same_keys ID NAME=VALUE...: the pair hash holds exactly these key values.
same_keys() {
	local id=$1 kv got
	shift
	for kv in "$@"; do
		got=$(rc HGET "$R:pair:$id" "${kv%%=*}")
		[ "$got" = "${kv#*=}" ] || { echo "${kv%%=*} in the hash differs"; return 1; }
	done
}
run "create --keys-file" 0 ctl --json create --id kf-1 --mode rekey --keys-file "$keys"
lacks "create --keys-file: no warning" "warning" "$err"
jcheck "create --keys-file" "d['a_in'] == '$KA_IN' and d['a_out'] == '$KA_OUT' and d['b_in'] == '$KB_IN' and d['b_out'] == '$KB_OUT'"
why=$(same_keys kf-1 a_in="$KA_IN" a_out="$KA_OUT" b_in="$KB_IN" b_out="$KB_OUT") &&
	ok "--keys-file: the four keys read back from Redis" || fail "--keys-file: $why"
[ "$(rc HGET "$R:pair:kf-1" mode)" = rekey ] && ok "--keys-file: mode stored" || fail "--keys-file: mode"
ctl delete kf-1 >/dev/null

printf 'b_in %s\na_in %s\n' "$KB_IN" "$KA_IN" >"$tmp/verify.txt"
run "create --keys-file - (stdin)" 0 ctl create --id kf-2 --mode verify --keys-file - <"$tmp/verify.txt"
has "create --keys-file - (stdin)" "a_in=\"$KA_IN\"" "$out"
why=$(same_keys kf-2 a_in="$KA_IN" b_in="$KB_IN") &&
	ok "--keys-file -: keys read back from Redis" || fail "--keys-file -: $why"
[ "$(rc HEXISTS "$R:pair:kf-2" a_out)" = 0 ] && ok "--keys-file -: verify stores no a_out" ||
	fail "--keys-file -: a_out stored in verify"
ctl delete kf-2 >/dev/null

# Keys missing from the file are made at random, as without a file.
printf 'a_in %s\n' "$KA_IN" >"$tmp/one.txt"
run "create --keys-file with one key" 0 ctl --json create --id kf-3 --mode verify --keys-file "$tmp/one.txt"
jcheck "create --keys-file with one key" "d['a_in'] == '$KA_IN' and d['b_in'].startswith('AES_CM_128_HMAC_SHA1_80 inline:') and d['b_in'] != d['a_in']"
ctl delete kf-3 >/dev/null

# --- optional record fields: relatch, max_pps, max_kbps --------------------
run "create --relatch --max-pps --max-kbps" 0 ctl create --id pol-1 --relatch any --max-pps 500 --max-kbps 0
[ "$(rc HGET "$R:pair:pol-1" relatch)" = any ] && ok "relatch stored" || fail "relatch: $(rc HGET "$R:pair:pol-1" relatch)"
[ "$(rc HGET "$R:pair:pol-1" max_pps)" = 500 ] && ok "max_pps stored" || fail "max_pps: $(rc HGET "$R:pair:pol-1" max_pps)"
[ "$(rc HGET "$R:pair:pol-1" max_kbps)" = 0 ] && ok "max_kbps 0 stored" || fail "max_kbps: $(rc HGET "$R:pair:pol-1" max_kbps)"
run "show policer fields" 0 ctl --json show pol-1
jcheck "show policer fields" "d['pair']['relatch'] == 'any' and d['pair']['max_pps'] == '500' and d['pair']['max_kbps'] == '0'"
ctl delete pol-1 >/dev/null
run "create --relatch never --max-kbps max" 0 ctl create --id pol-2 --relatch never --max-kbps 100000000 --max-pps 10000000
[ "$(rc HMGET "$R:pair:pol-2" relatch max_pps max_kbps | tr '\n' ' ')" = "never 10000000 100000000 " ] &&
	ok "relatch never and the largest rates stored" || fail "pol-2: $(rc HGETALL "$R:pair:pol-2" | tr '\n' ' ')"
ctl delete pol-2 >/dev/null
run "create without policer options" 0 ctl create --id pol-3
[ "$(rc HEXISTS "$R:pair:pol-3" relatch)$(rc HEXISTS "$R:pair:pol-3" max_pps)$(rc HEXISTS "$R:pair:pol-3" max_kbps)" = 000 ] &&
	ok "no policer options: no fields (relay defaults)" || fail "pol-3: $(rc HGETALL "$R:pair:pol-3" | tr '\n' ' ')"
ctl delete pol-3 >/dev/null

# --- bad arguments: exit 2, the argument named, Redis untouched ----------
events_before=$(rc XLEN "$R:events")
free_before=$(rc SCARD "$R:free")
bad() {
	local name=$1 want=$2
	shift 2
	run "bad: $name" 2 "$@" && has "bad: $name" "$want" "$err"
}
bad "--idle-ms text" "--idle-ms" ctl create --idle-ms 12x
bad "--idle-ms too big" "--idle-ms" ctl create --idle-ms 86400001
bad "--idle-ms sign" "--idle-ms" ctl create --idle-ms +5
bad "--a-src no port" "--a-src" ctl create --a-src 203.0.113.5
bad "--b-src port 0" "--b-src" ctl create --b-src 203.0.113.5:0
bad "--b-src bare v6" "--b-src" ctl create --b-src 2001:db8::1:4000
bad "--id charset" "--id" ctl create --id 'a b'
bad "--id length" "--id" ctl create --id "$(printf 'x%.0s' $(seq 65))"
bad "--suite unknown" "--suite: unknown suite 'NULL_NULL'" ctl create --mode verify --suite NULL_NULL
bad "--a-in short key" "--a-in: key || salt has the wrong length" ctl create --mode verify --a-in 'AES_CM_128_HMAC_SHA1_80 inline:c2VjcmV0LXZhbHVl'
lacks "--a-in short key: value not echoed" "c2VjcmV0LXZhbHVl" "$err"
bad "--b-out in verify" "mode verify takes no b_out key" ctl create --mode verify --b-out "$K80"
bad "--a-in in passthrough" "mode passthrough takes no a_in key" ctl create --a-in "$K80"
bad "--mode unknown" "--mode" ctl create --mode fast
bad "--ttl zero" "--ttl" ctl create --ttl 0
bad "--expires past" "--expires" ctl create --expires 1000
bad "--expires and --ttl" "--expires or --ttl" ctl create --expires 99999999999 --ttl 5
bad "create operand" "unexpected argument" ctl create extra
bad "create unknown option" "--colour" ctl create --colour
bad "create missing value" "--id" ctl create --id
bad "delete no id" "missing pair ID" ctl delete
bad "delete two ids" "unexpected argument" ctl delete a b
bad "delete bad id" "pair ID" ctl delete 'x/y'
bad "show bad id" "pair ID" ctl show ''
bad "ended --count 0" "--count" ctl ended --count 0
bad "ended --count text" "--count" ctl ended --count ten
bad "--relatch unknown" "--relatch: unknown policy 'sometimes' (ssrc, any, never)" ctl create --relatch sometimes
bad "--relatch empty" "--relatch" ctl create --relatch ''
bad "--relatch case" "--relatch" ctl create --relatch SSRC
bad "--max-pps too big" "--max-pps: '10000001' is not a whole number in 0..10000000" ctl create --max-pps 10000001
bad "--max-pps sign" "--max-pps" ctl create --max-pps -1
bad "--max-pps leading zero" "--max-pps" ctl create --max-pps 050
bad "--max-pps empty" "--max-pps" ctl create --max-pps ''
bad "--max-kbps too big" "--max-kbps: '100000001' is not a whole number in 0..100000000" ctl create --max-kbps 100000001
bad "--max-kbps exponent" "--max-kbps" ctl create --max-kbps 1e3
bad "--max-kbps blank" "--max-kbps" ctl create --max-kbps ' 5'
# Bad keys files: refused naming file and line, never quoting a key.
kf=$tmp/bad-keys.txt
KA_B64=${KA_IN#*inline:} KB_B64=${KB_IN#*inline:}
# badkeys NAME WANT CONTENT [create args...]: CONTENT in $kf, then create --keys-file $kf.
badkeys() {
	local name=$1 want=$2
	printf '%b' "$3" >"$kf"
	shift 3
	bad "keys file: $name" "$want" ctl create --mode rekey --keys-file "$kf" "$@"
	lacks "keys file: $name: no key text" "$KA_B64" "$err"
	lacks "keys file: $name: no key text" "$KB_B64" "$err"
}
badkeys "unknown name" "$kf:3: unknown key name 'c_in'" "a_in $KA_IN\n# ok\nc_in $KB_IN\n"
badkeys "name missing" "$kf:2: line does not start with a key name" "\n$KA_IN\n"
badkeys "name in upper case" "$kf:1: line does not start with a key name" "A_IN $KA_IN\n"
badkeys "duplicate" "$kf:4: a_in given twice (first $kf:1)" "a_in $KA_IN\nb_in $KB_IN\n\na_in $KB_IN\n"
badkeys "wrong key length" "$kf:2: a_out: key || salt has the wrong length" \
	"a_in $KA_IN\na_out AES_CM_128_HMAC_SHA1_80 inline:$KB_B64\n"
badkeys "over-long line" "$kf:2: line longer than 255 characters" \
	"a_in $KA_IN\nb_in $KB_IN $(printf 'x%.0s' $(seq 250))\n"
badkeys "no value" "$kf:1: b_out has no value" "b_out   \n"
badkeys "no key at all" "$kf: no key in it" "# nothing here\n\n"
badkeys "key also given as a flag" "$kf:1: a_in given twice (first --a-in)" "a_in $KB_IN\n" --a-in "$KA_IN"
badkeys "key the mode does not take" "mode passthrough takes no b_out key ($kf:1)" "b_out $KB_IN\n" --mode passthrough
badkeys "given twice" "--keys-file given twice" "a_in $KA_IN\n" --keys-file "$kf"
printf 'a_in %s\nz %s\n' "$KA_IN" "$KB_IN" >"$kf"
bad "keys file on stdin: unknown name" "stdin:2: unknown key name 'z'" ctl create --mode verify --keys-file - <"$kf"
lacks "keys file on stdin: no key text" "$KB_B64" "$err"
bad "keys file missing" "--keys-file: cannot open $tmp/none.txt" ctl create --mode verify --keys-file "$tmp/none.txt"
bad "keys file is a directory" "--keys-file: cannot read $tmp" ctl create --mode verify --keys-file "$tmp"
bad "keys file empty stdin" "stdin: no key in it" ctl create --mode verify --keys-file - </dev/null
bad "unknown command" "unknown command 'frobnicate'" ctl frobnicate
bad "no command" "no command" ctl
bad "unknown global option" "--verbose" ctl --verbose list
bad "--redis garbage" "--redis" "$duetctl" --redis 'not an address' --relay r1 list
bad "--redis port" "--redis" "$duetctl" --redis 'localhost:70000' --relay r1 list
bad "--relay charset" "--relay" "$duetctl" --redis "unix:$sock" --relay 'r.1' list
bad "--timeout-ms" "--timeout-ms" ctl --timeout-ms 0 list
# Checked before connecting: an unreachable Redis still gives exit 2.
bad "bad arg, no redis" "--idle-ms" "$duetctl" --redis "unix:$tmp/none.sock" --relay r1 create --idle-ms x
[ "$(rc XLEN "$R:events")" = "$events_before" ] && [ "$(rc SCARD "$R:free")" = "$free_before" ] &&
	ok "bad arguments left Redis untouched" || fail "bad arguments changed Redis"

# --- environment ----------------------------------------------------------
run "env DUET_REDIS and DUET_RELAY" 0 env DUET_REDIS="unix:$sock" DUET_RELAY=r1 "$duetctl" show call-1
has "env DUET_REDIS and DUET_RELAY" "pair call-1 on relay r1" "$out"

# --- delete ---------------------------------------------------------------
run "delete" 0 ctl delete call-1
[ "$out" = "deleted call-1" ] && ok "delete output" || fail "delete output: $out"
[ "$(rc SISMEMBER "$R:free" "$a1")" = 1 ] && [ "$(rc SISMEMBER "$R:free" "$b1")" = 1 ] &&
	ok "endpoints freed" || fail "endpoints not freed"
[[ "$(rc XREVRANGE "$R:events" + - COUNT 1)" == *$'op\ndel\nid\ncall-1'* ]] && ok "del event" ||
	fail "last event: $(rc XREVRANGE "$R:events" + - COUNT 1)"
run "delete again" 1 ctl delete call-1
has "delete again" "no pair call-1" "$err"
run "delete --json" 0 ctl delete "$rid" --json
jcheck "delete --json" "d == {'deleted': '$rid'}"
run "list empty" 0 ctl --json list
jcheck "list empty" "d == []"

# --- unreachable Redis and AUTH: exit 1 with the address and cause -------
run "unreachable unix" 1 "$duetctl" --redis "unix:$tmp/none.sock" --relay r1 list
has "unreachable unix" "redis unix:$tmp/none.sock: no such file or directory" "$err"
# A TCP address nobody listens on, inside a namespace of our own, so the
# connection attempt never leaves it: 192.0.2.1 on that namespace's lo.
[[ $(id -u) == 0 ]] || duet_bail "needs root (a network namespace of its own)"
ns=duetctl-$$
ip netns add "$ns" || duet_bail "cannot create netns $ns"
DUET_NETNS+=("$ns")
ip -n "$ns" link set lo up && ip -n "$ns" addr add 192.0.2.1/32 dev lo ||
	duet_bail "cannot put 192.0.2.1 on the loopback of $ns"
run "unreachable tcp" 1 ip netns exec "$ns" "$duetctl" --redis 192.0.2.1:1 --relay r1 --timeout-ms 500 list
has "unreachable tcp" "redis 192.0.2.1:1: connection refused" "$err"

rc CONFIG SET requirepass 'good-pw' >/dev/null
run "no password" 1 ctl list
has "no password" "authentication required" "$err"
run "wrong password" 1 ctl --password 'WRONG-pw-99' list
has "wrong password" "authentication failed" "$err"
lacks "wrong password" "WRONG-pw-99" "$err"
run "password from env" 0 env DUET_REDIS_PASSWORD=good-pw "$duetctl" --redis "unix:$sock" --relay r1 list
rc -a good-pw --no-auth-warning CONFIG SET requirepass '' >/dev/null

# --- drops: every drop reason duetd counts, with its meaning, no Redis --------
run "drops" 0 env -u DUET_RELAY "$duetctl" --redis "unix:$tmp/none.sock" drops
has "drops" "drop_src_denied" "$out"
has "drops" "drop_policed             over the leg's policer" "$out"
run "drops --json" 0 env -u DUET_RELAY "$duetctl" drops --json
jcheck "drops --json" "len(d) == $(grep -c '^DUET_DROP(' "$DUET_SRC_ROOT/lib/stats/duet_drop.def") and all(k.startswith('drop_') and v for k, v in d.items())"
run "drops with an argument" 2 "$duetctl" drops extra
