#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# redis-acl.sh [--acl-file] RELAY_ID...: print the least-privilege Redis ACL
# users for the relays named (docs/operations.md, "Redis ACL users"), for
# Redis 7.0 or later (read-only key patterns and selectors):
#   duetd-<R>      one per relay: what duetd of relay R sends, on R's keys
#   duet-control   the control plane of all the relays named: the scripts,
#                  the records, read-only what duetd writes
#   duet-operator  duet-control, plus draining a relay (duet:{R}:drain)
#                  and confirming a loss (INCR duet:{R}:epoch)
# Passwords come from the environment, never from the command line:
# DUET_ACL_DUETD_PASSWORD (every duetd-<R>), DUET_ACL_CONTROL_PASSWORD and
# DUET_ACL_OPERATOR_PASSWORD; a user whose variable is unset or empty is
# not printed. They are printed as SHA-256 hashes (#...), so the output
# holds no secret. Output: one `ACL SETUSER` command a line, for
# `redis-cli` to read on its standard input; with --acl-file, `user` lines
# for Redis's aclfile instead. Each user is reset first: run it again
# after adding a relay. Run by an operator, once per change.
set -euo pipefail

usage() {
	echo "usage: $0 [--acl-file] RELAY_ID..." >&2
	echo "  passwords: DUET_ACL_DUETD_PASSWORD, DUET_ACL_CONTROL_PASSWORD," >&2
	echo "  DUET_ACL_OPERATOR_PASSWORD (unset: that user is not printed)" >&2
	exit 2
}

acl_file=0
if [[ ${1:-} == --acl-file ]]; then
	acl_file=1
	shift
fi
[[ $# -ge 1 ]] || usage
for r in "$@"; do
	# The relay id's alphabet ([relay] id): no glob or quote character.
	[[ $r =~ ^[A-Za-z0-9_-]{1,32}$ ]] || {
		echo "$0: relay id '$r' is not 1 to 32 characters of [A-Za-z0-9_-]" >&2
		exit 2
	}
done

hash_pw() {
	printf '%s' "$1" | sha256sum | cut -d' ' -f1
}

# emit USER RULE...: one user, each rule one argument (for redis-cli, a
# selector keeps its spaces inside double quotes; an aclfile line takes it
# bare, parentheses and all).
emit() {
	local user=$1 rule line
	shift
	if ((acl_file)); then line="user $user"; else line="ACL SETUSER $user"; fi
	for rule in "$@"; do
		if [[ $rule == *' '* ]] && ((!acl_file)); then
			line+=" \"$rule\""
		else
			line+=" $rule"
		fi
	done
	printf '%s\n' "$line"
}

# Every user: no pub/sub channel, no command but those listed.
base() {
	printf '%s\n' reset on "#$(hash_pw "$1")" resetchannels -@all
}

# duetd of relay R. Keys it writes: free (seed, prune), alloc and events
# (through pair_delete.lua), stats:*, relay, ended, lease. Keys it only
# reads: pair:* (the records), epoch, drain. Commands: the connection
# (PING, HELLO, CLUSTER SLOTS), the scripts (SCRIPT LOAD, EVALSHA: a
# script's commands are checked against this same user), the load and the
# events follower, the stats, heartbeat, ended and rejected writes.
duetd_rules() {
	local k="duet:{$1}:"
	printf '%s\n' \
		"~${k}free" "~${k}alloc" "~${k}events" "~${k}stats:*" "~${k}relay" "~${k}ended" \
		"~${k}lease" "%R~${k}pair:*" "%R~${k}epoch" "%R~${k}drain" \
		+ping +hello +cluster\|slots +script\|load +evalsha \
		+scan +sscan +type +exists +get +pttl +hgetall +hget +hmget +hexists \
		+xread +xrange +xinfo\|stream \
		+hset +hdel +del +expire +pexpire +persist +sadd +srem +xadd \
		"(~${k}free ~${k}alloc ~${k}pair:* ~${k}events +evalsha +del)" \
		"(~${k}lease +set)"
}
# The selectors: pair_delete.lua (an idle or expired pair) deletes the
# record, so DEL, and EVALSHA naming the record, may write pair:* keys; no
# other command may (no HSET: duetd cannot forge a record). SET only on
# the lease (relay_lease.lua).

# The control plane of relay R. Keys it writes: free, alloc, pair:*,
# events (the scripts, or a hand-made change in MULTI/EXEC). Keys it only
# reads: stats:*, relay, ended, lease, epoch, drain (what duetd writes,
# and the operator's). pair_create.lua names the relay hash among its
# keys, and EVALSHA counts every key it names as written: the selector
# lets EVALSHA name it, and nothing else write it.
control_rules() {
	local k="duet:{$1}:"
	printf '%s\n' \
		"~${k}free" "~${k}alloc" "~${k}pair:*" "~${k}events" \
		"%R~${k}stats:*" "%R~${k}relay" "%R~${k}ended" "%R~${k}lease" "%R~${k}epoch" \
		"%R~${k}drain" \
		"(~${k}free ~${k}alloc ~${k}pair:* ~${k}events ~${k}relay +evalsha)"
}
control_commands() {
	printf '%s\n' \
		+ping +hello +cluster\|slots +script\|load +evalsha +wait \
		+scan +sscan +type +exists +get +hgetall +hget +hmget +hlen +hexists \
		+scard +sismember +srandmember +xread +xrange +xrevrange +xlen +xinfo\|stream \
		+hset +hdel +del +sadd +srem +xadd +multi +exec +discard +watch +unwatch
}

# The operator: the control plane's rights, and two decisions a control
# plane must not make on its own: take a relay out of service (SET/DEL
# duet:{R}:drain) and confirm a loss (INCR duet:{R}:epoch ends held pairs).
operator_rules() {
	local k="duet:{$1}:"
	control_rules "$1"
	printf '%s\n' "(~${k}drain +set +del +get +exists)" "(~${k}epoch +incr +get)"
}

if [[ -n ${DUET_ACL_DUETD_PASSWORD:-} ]]; then
	for r in "$@"; do
		mapfile -t rules < <(base "$DUET_ACL_DUETD_PASSWORD"; duetd_rules "$r")
		emit "duetd-$r" "${rules[@]}"
	done
fi
if [[ -n ${DUET_ACL_CONTROL_PASSWORD:-} ]]; then
	mapfile -t rules < <(base "$DUET_ACL_CONTROL_PASSWORD"; control_commands
		for r in "$@"; do control_rules "$r"; done)
	emit duet-control "${rules[@]}"
fi
if [[ -n ${DUET_ACL_OPERATOR_PASSWORD:-} ]]; then
	mapfile -t rules < <(base "$DUET_ACL_OPERATOR_PASSWORD"; control_commands
		for r in "$@"; do operator_rules "$r"; done)
	emit duet-operator "${rules[@]}"
fi
