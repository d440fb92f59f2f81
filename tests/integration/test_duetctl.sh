#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# test_duetctl: duetctl against a private redis-server (no duetd; one
# network namespace of its own, for the unreachable TCP address): create, list, show, relay, ended
# and delete in text and JSON (JSON parsed with python3), SRTP keys from a
# keys file or stdin (--keys-file) and the old key flags' warning, the
# optional record fields relatch, max_pps and max_kbps, exit 2 with a
# message naming the argument for every bad argument (Redis untouched; a
# bad keys file named with its line and no key text), exit 1 when Redis is
# unreachable or refuses the password. update of a live pair (fields, pins
# removed, keys its mode takes, one op put; refused input; a racing
# delete not undone), capacity, relay drain/undrain against a heartbeat
# this script writes as duetd would, IPv6 and bridged v4-v6 pairs (pins
# of the other family refused), create waiting for duetd's word (a
# rejection deletes the pair again), --version, JSON figures as numbers,
# and list paging through 1,000 pairs with SCAN. Prints TAP.
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

# A bridged pair: leg a on IPv4, leg b on IPv6 (a hint in another spelling,
# bracketed), pinned in its own family. A pin of the other family is
# refused before anything is written, by create and by update.
run "create bridged v4-v6" 0 ctl create --id call-46 --a-ip 192.0.2.10 --b-ip '[2001:DB8:0::10]' \
	--b-src '[2001:db8::5]:4000'
[[ "$out" =~ ^call-46\ a=192\.0\.2\.10:[0-9]+\ b=\[2001:db8::10\]:[0-9]+$ ]] &&
	ok "bridged pair: a on IPv4, b on IPv6" || fail "bridged create output '$out'"
run "update: pin of the other family" 1 ctl update call-46 --b-src 203.0.113.5:4000
has "update: pin of the other family" "a pin has the family of its leg's endpoint" "$err"
[ "$(rc HGET "$R:pair:call-46" b_src)" = '[2001:db8::5]:4000' ] && ok "other-family pin not written" ||
	fail "b_src: $(rc HGET "$R:pair:call-46" b_src)"
run "delete call-46" 0 ctl delete call-46

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
jcheck "show --json" "d['id'] == 'call-1' and d['pair']['a'] == '$a1' and d['pair']['a_src'] == '203.0.113.5:4000' and d['stats']['state'] == 'active' and d['stats']['a_pkts'] == 42"
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
jcheck "relay --json" "d['relay'] == 'r1' and d['heartbeat']['pairs'] == 2 and d['heartbeat']['version'] == '0.1.0' and d['drain_since_ms'] is None"
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
jcheck "show policer fields" "d['pair']['relatch'] == 'any' and d['pair']['max_pps'] == 500 and d['pair']['max_kbps'] == 0"
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
bad "--a-ip v4 in brackets" "--a-ip: '[192.0.2.10]' is not an IP address" ctl create --a-ip '[192.0.2.10]'
bad "--b-ip with a port" "--b-ip" ctl create --b-ip '[2001:db8::10]:20000'
bad "--a-src family differs from --a-ip" "--a-src: an IPv4 pin on an IPv6 endpoint" \
	ctl create --a-ip 2001:db8::10 --a-src 203.0.113.5:4000
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

# --- --version --------------------------------------------------------------
run "--version" 0 "$duetctl" --version
want_version=$(sed -n "s/^ *version: '\([^']*\)'.*/\1/p" "$DUET_SRC_ROOT/meson.build" | head -n 1)
[ "$out" = "duetctl $want_version" ] && ok "--version prints 'duetctl $want_version'" ||
	fail "--version printed '$out', meson.build says $want_version"

# --- create --suite without --mode: no silent keyless pair ------------------
bad "--suite without --mode" "give --mode verify or --mode rekey" ctl create --id nomode --suite AEAD_AES_128_GCM
[ "$(rc EXISTS "$R:pair:nomode")" = 0 ] && ok "--suite without --mode: no record" || fail "--suite without --mode wrote a record"

# More endpoints for the pairs below (all deleted again at the end).
# shellcheck disable=SC2046
rc SADD "$R:free" $(seq -f '192.0.2.10:%g' 20100 2 20130) >/dev/null

# --- update: a live pair changed in place ------------------------------------
now=$(date +%s)
ev0=$(rc XLEN "$R:events")
# A pin of leg b's family: call-1's b was taken at random, IPv4 or IPv6.
case $b1 in \[*) bpin='[2001:db8:7::7]:5004' ;; *) bpin=198.51.100.7:5004 ;; esac
run "update call-1" 0 ctl update call-1 --idle-ms 2500 --b-src "$bpin" --ttl 120 --relatch never --max-pps 300
[ "$out" = "updated call-1: b_src idle_ms expires relatch max_pps" ] && ok "update output names the fields" ||
	fail "update output: $out"
got=$(rc HMGET "$R:pair:call-1" idle_ms b_src relatch max_pps a_src a mode | tr '\n' ' ')
[ "$got" = "2500 $bpin never 300 203.0.113.5:4000 $a1 passthrough " ] &&
	ok "update: fields written, the others kept" || fail "update: pair holds $got"
exp=$(rc HGET "$R:pair:call-1" expires)
[ "$exp" -ge $((now + 119)) ] && [ "$exp" -le $((now + 122)) ] && ok "update --ttl: expires = now + ttl" ||
	fail "update --ttl: expires $exp, now $now"
[ "$(rc XLEN "$R:events")" = $((ev0 + 1)) ] && ok "update: one event" || fail "update: $(rc XLEN "$R:events") events, had $ev0"
[[ "$(rc XREVRANGE "$R:events" + - COUNT 1)" == *$'op\nput\nid\ncall-1' ]] && ok "update: the event is op put id call-1" ||
	fail "update: last event $(rc XREVRANGE "$R:events" + - COUNT 1)"
run "update --json: unpin, never expire" 0 ctl --json update call-1 --a-src none --expires 0
jcheck "update --json: unpin, never expire" "d == {'id': 'call-1', 'set': ['expires'], 'removed': ['a_src']}"
[ "$(rc HEXISTS "$R:pair:call-1" a_src) $(rc HGET "$R:pair:call-1" expires)" = "0 0" ] &&
	ok "update: a_src removed, expires 0" || fail "update: a_src $(rc HGET "$R:pair:call-1" a_src), expires $(rc HGET "$R:pair:call-1" expires)"

# Keys: only those the pair's mode takes; keys not given stay.
printf 'a_in %s\nb_in %s\n' "$KA_IN" "$KB_IN" >"$tmp/upd0.txt"
run "create upd-v" 0 ctl create --id upd-v --mode verify --keys-file "$tmp/upd0.txt"
NEW_A=$(key AEAD_AES_256_GCM 44) NEW_B=$(key AES_CM_128_HMAC_SHA1_32 30)
printf '# rotate leg a\na_in %s\n' "$NEW_A" >"$tmp/upd.txt"
run "update keys from a file" 0 ctl update upd-v --keys-file "$tmp/upd.txt"
[ "$out" = "updated upd-v: a_in" ] && ok "update keys: names the key, not its value" || fail "update keys output: $out"
why=$(same_keys upd-v a_in="$NEW_A" b_in="$KB_IN") && ok "update keys: a_in new, b_in kept" || fail "update keys: $why"
printf 'b_in %s\n' "$NEW_B" >"$tmp/upd.txt"
run "update keys from stdin" 0 ctl update upd-v --keys-file - <"$tmp/upd.txt"
why=$(same_keys upd-v a_in="$NEW_A" b_in="$NEW_B") && ok "update keys from stdin: b_in new" || fail "update keys from stdin: $why"
lacks "update keys: no key text" "${NEW_B#*inline:}" "$out$err"

# Refused: exit 2 naming the argument (1 for an unknown pair), Redis untouched.
ev1=$(rc XLEN "$R:events")
snap=$(rc HGETALL "$R:pair:upd-v" | tr '\n' ' ')
snap1=$(rc HGETALL "$R:pair:call-1" | tr '\n' ' ')
run "update unknown id" 1 ctl update nope --idle-ms 5
has "update unknown id" "no pair nope" "$err"
[ "$(rc EXISTS "$R:pair:nope")" = 0 ] && ok "update unknown id: not created" || fail "update created pair nope"
bad "update --idle-ms text" "--idle-ms: '5s' is not a whole number" ctl update upd-v --idle-ms 5s
bad "update --idle-ms too big" "--idle-ms" ctl update upd-v --idle-ms 86400001
bad "update nothing to change" "update upd-v: nothing to change" ctl update upd-v
bad "update no id" "update: missing pair ID" ctl update --idle-ms 5
bad "update bad id" "pair ID 'a b'" ctl update 'a b' --idle-ms 5
bad "update two ids" "unexpected argument" ctl update upd-v call-1 --idle-ms 5
bad "update --a-src" "--a-src" ctl update upd-v --a-src 203.0.113.5
bad "update --expires past" "--expires: 1000 is in the past" ctl update upd-v --expires 1000
bad "update --mode" "update: unknown option '--mode'" ctl update upd-v --mode rekey
printf 'a_in AES_CM_128_HMAC_SHA1_80 inline:c2VjcmV0LXZhbHVl\n' >"$tmp/updbad.txt"
bad "update bad key" "$tmp/updbad.txt:1: a_in: key || salt has the wrong length" ctl update upd-v --keys-file "$tmp/updbad.txt"
lacks "update bad key: not echoed" "c2VjcmV0LXZhbHVl" "$err"
printf 'a_out %s\n' "$KA_OUT" >"$tmp/updbad.txt"
bad "update key the mode does not take" "update upd-v: mode verify takes no a_out key ($tmp/updbad.txt:1)" \
	ctl update upd-v --keys-file "$tmp/updbad.txt" --idle-ms 7
printf 'a_in %s\n' "$KA_IN" >"$tmp/updbad.txt"
bad "update key on a passthrough pair" "mode passthrough takes no a_in key" ctl update call-1 --keys-file "$tmp/updbad.txt"
bad "update bad arg, no redis" "--idle-ms" "$duetctl" --redis "unix:$tmp/none.sock" --relay r1 update upd-v --idle-ms x
[ "$(rc XLEN "$R:events")" = "$ev1" ] && [ "$(rc HGETALL "$R:pair:upd-v" | tr '\n' ' ')" = "$snap" ] &&
	[ "$(rc HGETALL "$R:pair:call-1" | tr '\n' ' ')" = "$snap1" ] &&
	ok "refused updates left Redis untouched" || fail "a refused update changed Redis"

# An update racing a delete never brings the pair back.
run "create upd-gone" 0 ctl create --id upd-gone
(
	for i in $(seq 1 300); do
		"$duetctl" --redis "unix:$sock" --relay r1 update upd-gone --idle-ms "$i" >/dev/null 2>>"$tmp/race.err"
	done
) &
racer=$!
sleep 0.3
run "delete upd-gone while updates run" 0 ctl delete upd-gone
wait "$racer"
[ "$(rc EXISTS "$R:pair:upd-gone")" = 0 ] && ok "an update racing a delete does not resurrect the pair" ||
	fail "pair upd-gone came back: $(rc HGETALL "$R:pair:upd-gone" | tr '\n' ' ')"
has "updates after the delete" "no pair upd-gone" "$(cat "$tmp/race.err")"

# --- JSON: figures are numbers, words and ids stay strings --------------------
rc HSET "$R:pair:call-1" ticket 42 >/dev/null
rc HSET "$R:stats:call-1" a_bytes 1234 a_last_ms 1733500000123 a_jitter_us 0 a_drop_src 007 \
	a_srtp_in 1:0:5 >/dev/null
run "show --json types" 0 ctl --json show call-1
jcheck "show --json types" "d['stats']['a_pkts'] == 42 and d['stats']['a_bytes'] == 1234 and d['stats']['a_last_ms'] == 1733500000123 and d['stats']['a_jitter_us'] == 0 and type(d['stats']['a_jitter_us']) is int and d['stats']['a_drop_src'] == '007' and d['stats']['a_srtp_in'] == '1:0:5' and d['stats']['state'] == 'active' and d['pair']['idle_ms'] == 2500 and d['pair']['max_pps'] == 300 and d['pair']['expires'] == 0 and d['pair']['ticket'] == '42' and d['pair']['a'] == '$a1'"
rc XADD "$R:ended" '*' id 12345 reason idle duration_ms 5000 a_pkts 7 >/dev/null
run "ended --json types" 0 ctl --json ended --count 1
jcheck "ended --json types" "d[0]['id'] == '12345' and d[0]['reason'] == 'idle' and d[0]['duration_ms'] == 5000 and d[0]['a_pkts'] == 7 and type(d[0]['entry']) is str"
run "resync --json types" 0 ctl --json resync --confirm
jcheck "resync --json types" "type(d['epoch']) is int and d['epoch'] >= 1"
run "list --json types" 0 ctl --json list
jcheck "list --json types" "all(type(p[k]) is str for p in d for k in ('id', 'a', 'b', 'mode', 'state'))"

# --- capacity ------------------------------------------------------------------
rc DEL "$R:relay" >/dev/null
run "capacity without heartbeat" 1 ctl capacity
has "capacity without heartbeat" "relay r1: no heartbeat" "$err"
rc HSET "$R:relay" capacity 100 pairs 40 endpoints 100 endpoints_free 20 draining 0 >/dev/null
run "capacity" 0 ctl capacity
has "capacity" "  capacity        100" "$out"
has "capacity" "  endpoints_free  20" "$out"
has "capacity: room is the smaller of free slots and free endpoint pairs" "  room            10" "$out"
run "capacity --json" 0 ctl --json capacity
jcheck "capacity --json" "d == {'relay': 'r1', 'pairs': 40, 'capacity': 100, 'endpoints': 100, 'endpoints_free': 20, 'draining': 0, 'room': 10, 'drain_since_ms': None}"
rc HSET "$R:relay" pairs 95 endpoints_free 60 >/dev/null
run "capacity: room by slots" 0 ctl --json capacity
jcheck "capacity: room by slots" "d['room'] == 5"
rc HSET "$R:relay" draining 1 >/dev/null
run "capacity: draining" 0 ctl --json capacity
jcheck "capacity: draining" "d['draining'] == 1 and d['room'] == 0"
bad "capacity extra" "capacity: unexpected argument" ctl capacity now
rc DEL "$R:relay" >/dev/null
heartbeat 0

# --- create waits for duetd's word on the new pair ------------------------------
# A heartbeat a running duetd wrote (updated_ms, no stopped_ms); verdict
# plays duetd: once the record appears, it writes the pair's stats hash.
rc HSET "$R:relay" updated_ms 1 >/dev/null
verdict() {
	local id=$1 state=$2 reason=${3:-} i
	for ((i = 0; i < 300; i++)); do
		[ "$(rc EXISTS "$R:pair:$id")" = 1 ] && break
		sleep 0.01
	done
	rc HSET "$R:stats:$id" state "$state" updated_ms "$(date +%s%3N)" ${reason:+reason "$reason"} >/dev/null
}
free0=$(rc SCARD "$R:free") ev2=$(rc XLEN "$R:events")
verdict over rejected "pair table full (100 pairs)" &
run "create rejected by duetd" 1 ctl create --id over
wait $!
has "create rejected by duetd" "create over: rejected: pair table full (100 pairs)" "$err"
[ "$(rc EXISTS "$R:pair:over") $(rc SCARD "$R:free") $(rc XLEN "$R:events")" = "0 $free0 $((ev2 + 2))" ] &&
	ok "a rejected create is deleted again: no record, endpoints free, put then del" ||
	fail "after the rejected create: pair $(rc EXISTS "$R:pair:over"), free $(rc SCARD "$R:free") (had $free0), events $(rc XLEN "$R:events") (had $ev2)"
# A stats hash left by an older life of the id is not duetd's word.
rc HSET "$R:stats:again" state rejected reason old updated_ms 5 >/dev/null
verdict again waiting &
run "create over an old rejected stats hash" 0 ctl create --id again
wait $!
lacks "create over an old rejected stats hash" "warning" "$err"
t0=$(date +%s%3N)
run "create with no word from duetd" 0 ctl create --id quiet
t1=$(date +%s%3N)
has "create with no word from duetd" "warning: create quiet: duetd has not reported the pair within 2000 ms" "$err"
[ $((t1 - t0)) -ge 1900 ] && [ $((t1 - t0)) -lt 4000 ] && ok "create waited about 2 s ($((t1 - t0)) ms)" ||
	fail "create waited $((t1 - t0)) ms, not about 2000"
t0=$(date +%s%3N)
run "create --no-wait" 0 ctl create --id nowait --no-wait
t1=$(date +%s%3N)
lacks "create --no-wait" "warning" "$err"
[ $((t1 - t0)) -lt 1500 ] && ok "create --no-wait does not wait ($((t1 - t0)) ms)" || fail "create --no-wait took $((t1 - t0)) ms"
for id in again quiet nowait upd-v; do ctl delete "$id" >/dev/null || fail "delete $id"; done
rc DEL "$R:relay" >/dev/null
heartbeat 0

# --- relay drain / undrain ----------------------------------------------------------
rc DEL "$R:relay" >/dev/null
run "drain with no duetd" 0 ctl relay drain
has "drain with no duetd" "relay r1: drain flag set; duetd is not running" "$out"
since=$(rc GET "$R:drain")
[[ $since =~ ^[0-9]{13}$ ]] && ok "drain flag: the ms time the drain began" || fail "drain flag holds '$since'"
[ "$(rc TTL "$R:drain")" = -1 ] && ok "drain flag has no TTL" || fail "drain flag TTL $(rc TTL "$R:drain")"
run "undrain with no duetd" 0 ctl relay undrain
[ "$(rc EXISTS "$R:drain")" = 0 ] && ok "undrain deletes the flag" || fail "flag still set"
# A heartbeat that no duetd rewrites: drain gives up after 5 s, flag kept.
rc HSET "$R:relay" updated_ms 1 draining 0 capacity 100 pairs 0 >/dev/null
t0=$(date +%s%3N)
run "drain, the heartbeat never shows it" 1 ctl relay drain
t1=$(date +%s%3N)
has "drain, the heartbeat never shows it" "did not show draining 1" "$err"
[ $((t1 - t0)) -ge 4900 ] && [ $((t1 - t0)) -lt 8000 ] && ok "drain waited 5 s ($((t1 - t0)) ms)" ||
	fail "drain waited $((t1 - t0)) ms, not 5000"
[ "$(rc EXISTS "$R:drain")" = 1 ] && ok "the flag stays set" || fail "flag gone"
rc DEL "$R:drain" >/dev/null
# fake_duetd: every 0.2 s, a heartbeat mirroring the flag, as duetd does.
fake_duetd() {
	while :; do
		rc HSET "$R:relay" updated_ms "$(date +%s%3N)" draining "$(rc EXISTS "$R:drain")" \
			pairs 3 capacity 100 >/dev/null
		sleep 0.2
	done
}
fake_duetd &
fake=$!
DUET_BG_PIDS+=("$fake")
run "relay drain" 0 ctl relay drain
[ "$out" = "relay r1 draining: 3 live pairs" ] && ok "relay drain output" || fail "relay drain output: $out"
since=$(rc GET "$R:drain")
run "relay drain again --json" 0 ctl --json relay drain
jcheck "relay drain again --json" "d == {'relay': 'r1', 'draining': 1, 'drain_since_ms': $since, 'confirmed': True, 'pairs': 3}"
run "create on a draining relay" 1 ctl create --id dr
has "create on a draining relay" "create dr: relay r1 is draining: it takes no new pairs" "$err"
[ "$(rc EXISTS "$R:pair:dr")" = 0 ] && ok "draining: no record" || fail "a create on a draining relay wrote a record"
run "relay shows draining" 0 ctl relay
has "relay shows draining" "  draining              1" "$out"
has "relay shows draining" "drain flag set at $since ms" "$out"
run "relay --json shows draining" 0 ctl --json relay
jcheck "relay --json shows draining" "d['heartbeat']['draining'] == 1 and d['drain_since_ms'] == $since"
run "relay undrain" 0 ctl relay undrain
[ "$out" = "relay r1 accepting pairs" ] && ok "relay undrain output" || fail "relay undrain output: $out"
[ "$(rc EXISTS "$R:drain") $(rc HGET "$R:relay" draining)" = "0 0" ] && ok "undrain: flag gone, heartbeat draining 0" ||
	fail "undrain: flag $(rc EXISTS "$R:drain"), heartbeat $(rc HGET "$R:relay" draining)"
run "relay drain --no-wait" 0 ctl relay drain --no-wait
has "relay drain --no-wait" "not waiting for duetd" "$out"
run "relay undrain --json" 0 ctl --json relay undrain
jcheck "relay undrain --json" "d['draining'] == 0 and d['confirmed'] is True and d['drain_since_ms'] is None"
bad "relay drain operand" "relay drain: unexpected argument 'now'" ctl relay drain now
bad "relay drain option" "relay drain: unknown option '--force'" ctl relay drain --force
bad "relay unknown subcommand" "relay: unexpected argument 'flush'" ctl relay flush
kill "$fake"
wait "$fake" 2>/dev/null
rc DEL "$R:relay" "$R:drain" >/dev/null
heartbeat 0

# --- list pages through a large relay with SCAN ---------------------------------
# Relay pg of its own: 1,000 pairs provisioned with the relay check off.
P="duet:{pg}"
pg() { "$duetctl" --redis "unix:$sock" --relay pg "$@"; }
# shellcheck disable=SC2046
rc SADD "$P:free" $(seq -f '192.0.2.20:%g' 20000 21999) >/dev/null
t0=$(date +%s%3N)
made=0
for i in $(seq 1 1000); do
	pg create --id "p$i" --no-relay-check >/dev/null 2>>"$tmp/pg.err" && made=$((made + 1))
done
duet_diag "1000 creates (one duetctl each) took $(($(date +%s%3N) - t0)) ms"
[ "$made" = 1000 ] && ok "1000 pairs created" || fail "$made of 1000 created: $(head -n 3 "$tmp/pg.err")"
rc CONFIG RESETSTAT >/dev/null
run "list 1000 pairs" 0 pg list
scans=$(rc INFO commandstats | sed -n 's/^cmdstat_scan:calls=\([0-9]*\),.*/\1/p' | tr -d '\r')
rows=$(($(wc -l <<<"$out") - 1))
distinct=$(tail -n +2 <<<"$out" | awk '{print $1}' | sort -u | wc -l)
[ "$distinct" = 1000 ] && [ "$rows" -ge 1000 ] && ok "list shows all 1000 pairs ($rows rows)" ||
	fail "list: $distinct distinct ids in $rows rows"
[ "${scans:-0}" -ge 2 ] && ok "list paged with SCAN ($scans calls)" || fail "list made ${scans:-0} SCAN calls"
run "list --json 1000 pairs" 0 pg --json list
jcheck "list --json 1000 pairs" "len(d) >= 1000 and {p['id'] for p in d} == {'p%d' % i for i in range(1, 1001)}"

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
