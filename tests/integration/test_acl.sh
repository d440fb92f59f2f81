#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_acl: the least-privilege Redis ACL users of tools/redis-acl.sh
# (docs/operations.md, "Redis ACL users") are enough for the whole life of
# a call, and refuse what each user must not do. Redis's default user gets
# a password (the lab's redis-cli uses it, through REDISCLI_AUTH); duetd
# runs as duetd-R, duetctl create/show/list/delete as duet-control, a
# resync confirmation and a drain as duet-operator. A call is created,
# forwarded both ways and deleted, another idles out (duetd runs
# pair_delete.lua itself), duetd is stopped and started again (lease,
# stopped heartbeat, load): Redis's ACL LOG stays empty. Then each user is
# refused the commands and keys it must not touch.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_need_bins duetd duetctl
duet_topo_up
duet_redis_start

DUETD_PW=duetd-$DUET_P CONTROL_PW=control-$DUET_P OPERATOR_PW=operator-$DUET_P
out=$(DUET_ACL_DUETD_PASSWORD=$DUETD_PW DUET_ACL_CONTROL_PASSWORD=$CONTROL_PW \
	DUET_ACL_OPERATOR_PASSWORD=$OPERATOR_PW "$DUET_SRC_ROOT/tools/redis-acl.sh" "$RELAY_ID" |
	rcli 2>&1)
duet_require "tools/redis-acl.sh's three users are accepted by Redis" \
	test "$out" == $'OK\nOK\nOK'
# From here on the default user needs a password; the lab's rcli gives it.
rcli ACL SETUSER default resetpass ">admin-$DUET_P" >/dev/null
export REDISCLI_AUTH=admin-$DUET_P
duet_check_eq "the default user needs a password" NOAUTH \
	"$(env -u REDISCLI_AUTH redis-cli -s "$DUET_REDIS_SOCK" PING 2>&1 | grep -o NOAUTH | head -n 1)"
rcli ACL LOG RESET >/dev/null

# duetd as duetd-R: user in the file, password from the environment.
duet_conf_write
sed -i "/^connect_timeout_ms = /a user = duetd-$RELAY_ID" "$DUET_CONF"
export DUET_REDIS_PASSWORD=$DUETD_PW
duet_require "duetd starts as duetd-$RELAY_ID" duetd_start
unset DUET_REDIS_PASSWORD

# as_control/as_operator CMD...: CMD (duetctl, or a lab helper that runs
# it) as that user.
as_control() { DUET_REDIS_USER=duet-control DUET_REDIS_PASSWORD=$CONTROL_PW "$@"; }
as_operator() { DUET_REDIS_USER=duet-operator DUET_REDIS_PASSWORD=$OPERATOR_PW "$@"; }

A=$DUET_A_IP:40070
B=$DUET_B_IP:40070
as_control duet_pair_create c1
C1A=$PAIR_A C1B=$PAIR_B
duet_require "latch c1" duet_latch c1 "$A" "$C1A" "$B" "$C1B"
duet_talk_both t "$A" "$C1A" "$B" "$C1B" 50 100
duet_talk_wait t
duet_check_eq "c1 forwards both ways" "50 50" \
	"$(duet_json t-a 'd["recv"]["matched"]') $(duet_json t-b 'd["recv"]["matched"]')"
duet_check "duetctl show c1 as duet-control" duet_quiet as_control duet_ctl show c1
duet_check_match "duetctl list as duet-control lists c1" "c1" "$(as_control duet_ctl list 2>&1)"
duet_check "duetctl relay as duet-control" duet_quiet as_control duet_ctl relay
duet_check "c1's stats hash is active" duet_wait 5 duet_stat_is c1 state active
duet_check "duetctl delete c1 as duet-control" duet_quiet as_control duet_ctl delete c1
duet_check "c1's ended entry is written" duet_wait 5 duet_ended_is c1 reason deleted

# duetd ends an idle pair itself: pair_delete.lua under its own user.
as_control duet_pair_create c2 --idle-ms 300
duet_check "c2 idles out: ended entry" duet_wait 10 duet_ended_is c2 reason idle
duet_check_eq "c2's record is deleted by duetd" 0 "$(rcli EXISTS "$(duet_key pair:c2)")"

# The operator: a resync confirmation and a drain.
duet_check "duetctl resync --confirm as duet-operator" duet_quiet as_operator duet_ctl resync --confirm
op() { redis-cli -s "$DUET_REDIS_SOCK" --user duet-operator --pass "$OPERATOR_PW" --no-auth-warning "$@"; }
duet_check_eq "the operator sets and clears the drain key" "OK 1" \
	"$(op SET "$(duet_key drain)" 1) $(op DEL "$(duet_key drain)")"

# A stop and a start: stopped heartbeat, the lease given back and taken.
as_control duet_pair_create c3
duet_check "c3 is loaded" duet_wait 5 duet_stat_is c3 state waiting
duet_check_stop TERM
export DUET_REDIS_PASSWORD=$DUETD_PW
duet_require "duetd starts again as duetd-$RELAY_ID" duetd_start
unset DUET_REDIS_PASSWORD
duet_check "c3 is loaded again" duet_wait 5 duet_relay_ge pairs 1
duet_check "duetctl delete c3 as duet-control" duet_quiet as_control duet_ctl delete c3
duet_check "c3's ended entry is written" duet_wait 5 duet_ended_is c3 reason deleted
duet_settle

log=$(rcli ACL LOG)
duet_check_eq "ACL LOG is empty: no user was refused anything it needed" "" "$log" ||
	duet_diag "$(rcli ACL LOG | tr '\n' ' ' | cut -c1-2000)"

# refused USER PASSWORD DESC CMD...: the command is refused (NOPERM).
refused() {
	local user=$1 pw=$2 desc=$3 got
	shift 3
	got=$(redis-cli -s "$DUET_REDIS_SOCK" --user "$user" --pass "$pw" --no-auth-warning "$@" 2>&1)
	duet_check_match "$user may not $desc" '^(NOPERM|ERR.*(permission|can.t access))' "$got"
}
D=duetd-$RELAY_ID
rcli SET other:key secret >/dev/null
refused "$D" "$DUETD_PW" "forge a pair record" HSET "$(duet_key pair:x)" a 192.0.2.1:20000
refused "$D" "$DUETD_PW" "read another application's key" GET other:key
refused "$D" "$DUETD_PW" "read another relay's records" HGETALL 'duet:{other}:pair:x'
refused "$D" "$DUETD_PW" "flush the script cache" SCRIPT FLUSH
refused "$D" "$DUETD_PW" "load a function" FUNCTION LOAD \
	"#!lua name=x
redis.register_function('f', function() return 1 end)"
refused "$D" "$DUETD_PW" "select another database" SELECT 1
refused "$D" "$DUETD_PW" "list every key" KEYS '*'
refused "$D" "$DUETD_PW" "flush Redis" FLUSHALL
refused "$D" "$DUETD_PW" "change the configuration" CONFIG SET appendonly no
refused "$D" "$DUETD_PW" "drain its own relay" SET "$(duet_key drain)" 1
refused "$D" "$DUETD_PW" "confirm a loss" INCR "$(duet_key epoch)"
C=duet-control
refused "$C" "$CONTROL_PW" "keep a dead relay alive" PEXPIRE "$(duet_key relay)" 600000
refused "$C" "$CONTROL_PW" "trim the ended stream" XTRIM "$(duet_key ended)" MAXLEN 0
refused "$C" "$CONTROL_PW" "write a stats hash" HSET "$(duet_key stats:x)" state active
refused "$C" "$CONTROL_PW" "delete the heartbeat" DEL "$(duet_key relay)"
refused "$C" "$CONTROL_PW" "write an ended entry" XADD "$(duet_key ended)" '*' id x
refused "$C" "$CONTROL_PW" "take the lease" SET "$(duet_key lease)" x
refused "$C" "$CONTROL_PW" "delete the heartbeat through a script" EVAL \
	"return redis.call('DEL', KEYS[5])" 5 "$(duet_key free)" "$(duet_key alloc)" \
	"$(duet_key pair:x)" "$(duet_key events)" "$(duet_key relay)"
refused "$C" "$CONTROL_PW" "flush Redis" FLUSHALL
refused "$C" "$CONTROL_PW" "flush the script cache" SCRIPT FLUSH
refused "$C" "$CONTROL_PW" "change the configuration" CONFIG GET '*'
refused "$C" "$CONTROL_PW" "drain a relay" SET "$(duet_key drain)" 1
refused "$C" "$CONTROL_PW" "confirm a loss" INCR "$(duet_key epoch)"
refused duet-operator "$OPERATOR_PW" "trim the ended stream" XTRIM "$(duet_key ended)" MAXLEN 0
refused duet-operator "$OPERATOR_PW" "overwrite a record with a string" SET "$(duet_key pair:x)" 1
duet_check_match "duetd-$RELAY_ID's own writes still work after the refusals" "^OK$" \
	"$(redis-cli -s "$DUET_REDIS_SOCK" --user "$D" --pass "$DUETD_PW" --no-auth-warning PING | sed 's/PONG/OK/')"

duet_check_stop TERM
