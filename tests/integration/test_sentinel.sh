#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_sentinel: duetd and duetctl behind Redis Sentinel (issue 10 item 3).
# A real redis-server master and replica and three Debian redis-sentinel
# processes run inside the relay's network namespace on 127.0.0.1; duetd
# and duetctl are given `sentinel:duet@127.0.0.1:P1,...` and find the
# master themselves.
#
# 1. The master is killed (SIGKILL) in the middle of a call. The call
#    loses no packet, and packets sent while no master exists are
#    forwarded at once; the Sentinels promote the replica; a pair created
#    through the new master reaches duetd; duetd resumes the events
#    stream (nothing was lost); stats, the heartbeat and the ended entry of
#    a pair that idled out during the failover go to the new master.
#    The control gap (kill -> a pair created after the switch is loaded)
#    is printed as a TAP comment.
# 2. Replication loses a write: the replica (the killed master restarted,
#    now the replica of the new one) is cut off while a pair is created
#    and loaded, then the master is killed and the stale replica promoted. The stream of the new master is older than duetd's
#    position, so duetd reloads every pair and ends the one whose record
#    was lost.
#
# The lab (tools/lab/lib.sh) runs Redis on a unix socket in the root
# namespace; this test brings its own TCP Redis and Sentinels and points
# rcli, duet_ctl and the config at them.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
command -v redis-sentinel >/dev/null ||
	duet_bail "needs redis-sentinel (bash tools/install-deps.sh installs it)"
duet_need_bins duetd duetctl
duet_topo_up

# The relay namespace is new: every port in it is free.
MASTER_NAME=duet
PORT_A=7001 PORT_B=7002
SENTINEL_PORTS=(26379 26380 26381)
SENTINELS=$(printf '127.0.0.1:%s,' "${SENTINEL_PORTS[@]}")
SENTINEL_ADDR="sentinel:$MASTER_NAME@${SENTINELS%,}"
declare -A REDIS_PID=()
MASTER_PORT=$PORT_A

now_ms() { date +%s%3N; }

# r PORT ARGS...: redis-cli to a server or Sentinel in the relay namespace.
r() {
	local port=$1
	shift
	ip netns exec "$NS_R" redis-cli -h 127.0.0.1 -p "$port" "$@"
}

# The lab's helpers read and write "Redis": here, the current master.
rcli() { r "$MASTER_PORT" "$@"; }
duet_ctl() {
	ip netns exec "$NS_R" "$DUETCTL" --redis "$SENTINEL_ADDR" --relay "$RELAY_ID" "$@"
}

# redis_start PORT [redis-server options]: a server in the relay namespace
# (ip netns exec execs it, so $! is redis-server's pid); stopped by the
# lab's teardown.
redis_start() {
	local port=$1
	shift
	mkdir -p "$DUET_TMP/redis-$port"
	ip netns exec "$NS_R" redis-server --port "$port" --bind 127.0.0.1 \
		--dir "$DUET_TMP/redis-$port" --save '' --appendonly no \
		--logfile "$DUET_TMP/redis-$port.log" --daemonize no "$@" &
	REDIS_PID[$port]=$!
	DUET_BG_PIDS+=($!)
	duet_wait 10 bash -c "[[ \$(ip netns exec '$NS_R' redis-cli -p $port PING 2>/dev/null) == PONG ]]" ||
		duet_bail "redis-server on $port did not start (see $DUET_TMP/redis-$port.log)"
}

# redis_kill PORT: SIGKILL, as a crash would.
redis_kill() {
	kill -KILL "${REDIS_PID[$1]}" 2>/dev/null
	wait "${REDIS_PID[$1]}" 2>/dev/null
	return 0
}

# sentinel_start PORT: fast failover (down after 1 s) for a test.
sentinel_start() {
	local port=$1 conf=$DUET_TMP/sentinel-$1.conf
	cat >"$conf" <<-EOF
		port $port
		bind 127.0.0.1
		daemonize no
		dir $DUET_TMP
		logfile $DUET_TMP/sentinel-$port.log
		sentinel monitor $MASTER_NAME 127.0.0.1 $PORT_A 2
		sentinel down-after-milliseconds $MASTER_NAME 1000
		sentinel failover-timeout $MASTER_NAME 4000
		sentinel parallel-syncs $MASTER_NAME 1
	EOF
	ip netns exec "$NS_R" redis-sentinel "$conf" &
	DUET_BG_PIDS+=($!)
}

# sentinel_master: the master port one Sentinel names (empty if none answers).
sentinel_master() {
	local port
	for port in "${SENTINEL_PORTS[@]}"; do
		r "$port" SENTINEL get-master-addr-by-name "$MASTER_NAME" 2>/dev/null | sed -n 2p &&
			return 0
	done
}

# all_sentinels_name PORT: every Sentinel says PORT is the master.
all_sentinels_name() {
	local port
	for port in "${SENTINEL_PORTS[@]}"; do
		[[ $(r "$port" SENTINEL get-master-addr-by-name "$MASTER_NAME" 2>/dev/null | sed -n 2p) == "$1" ]] ||
			return 1
	done
}

quorum_ready() {
	[[ $(r "${SENTINEL_PORTS[0]}" SENTINEL ckquorum "$MASTER_NAME" 2>/dev/null) == "OK 3 usable"* ]] &&
		[[ $(r "${SENTINEL_PORTS[0]}" SENTINEL replicas "$MASTER_NAME" 2>/dev/null | grep -c '^slave$') -ge 1 ]]
}

# replica_of MASTER REPLICA: REPLICA is an in-sync replica of MASTER.
replica_of() {
	r "$2" INFO replication 2>/dev/null | tr -d '\r' | grep -q "^master_port:$1$" &&
		r "$2" INFO replication 2>/dev/null | tr -d '\r' | grep -q '^master_link_status:up$'
}

# on PORT KEY: KEY exists on that server (the replica has it).
on() { [[ $(r "$1" EXISTS "$2" 2>/dev/null) == 1 ]]; }

# --- Redis, a replica, three Sentinels, duetd --------------------------------
redis_start $PORT_A
redis_start $PORT_B --replicaof 127.0.0.1 $PORT_A
for p in "${SENTINEL_PORTS[@]}"; do sentinel_start "$p"; done
duet_require "replica in sync with the master" duet_wait 15 replica_of $PORT_A $PORT_B
duet_require "three Sentinels agree and know the replica" duet_wait 30 quorum_ready

duet_conf_write
sed -i "s|^address = .*|address = $SENTINEL_ADDR|" "$DUET_CONF"
duetd_start || duet_bail "duetd did not start"
duet_check "duetd found the master through the Sentinels" \
	grep -q "connected to Redis at 127.0.0.1:$PORT_A (master of $MASTER_NAME)" "$DUETD_LOG"

A=$DUET_A_IP B=$DUET_B_IP
N=1500 # 15 s at 100 packets/s each way: across the whole failover

duet_pair_create s0 # duetctl through the Sentinels
S0A=$PAIR_A S0B=$PAIR_B
duet_pair_create s1
S1A=$PAIR_A S1B=$PAIR_B
duet_require "latch s0" duet_latch s0 "$A:40080" "$S0A" "$B:40080" "$S0B"
duet_require "latch s1" duet_latch s1 "$A:40081" "$S1A" "$B:40081" "$S1B"
reconnects0=$(duet_relay_stat redis_reconnects)

duet_talk_both c "$A:40081" "$S1A" "$B:40081" "$S1B" $N 100 --linger 3
sleep 1
# s3 hears no client and idles out 2 s after it is created: during the
# failover, when there is no master to write its ended entry to.
duet_pair_create s3 --idle-ms 2000
duet_check "s3 loaded" duet_wait 3 duet_stat_is s3 state waiting
duet_require "the replica has s3's record" duet_wait 3 on $PORT_B "$(duet_key pair:s3)"

# --- 1. the master dies --------------------------------------------------------
t_kill=$(now_ms)
redis_kill $PORT_A
duet_diag "master 127.0.0.1:$PORT_A killed"
# When duetd's log says it reached the new master (polled every 50 ms).
timeout 60 bash -c "until grep -q 'reconnected to Redis at 127.0.0.1:$PORT_B' '$DUETD_LOG'; do
	sleep 0.05; done; date +%s%3N >'$DUET_TMP/t_reconnect'" &
DUET_BG_PIDS+=($!)
# Forwarding needs no Redis: a burst sent now, with no master anywhere.
duet_peer_bg p0 "$NS_B" recv --bind "$B:40080" --count 50 --timeout 10 --tag s0-gap
duet_peer "$NS_A" send --bind "$A:40080" --to "$S0A" --count 50 --rate 100 --tag s0-gap >/dev/null
duet_peer_wait p0
during=$(sentinel_master)
duet_check_eq "s0 forwards while there is no master (Sentinels still name $during)" 50 \
	"$(duet_json p0 'd["recv"]["matched"]')"

# The control plane asks the Sentinels too, and writes once they name the
# new master.
duet_require "the Sentinels promote the replica" duet_wait 30 all_sentinels_name $PORT_B
t_switch=$(now_ms)
MASTER_PORT=$PORT_B
# It picks relays by their heartbeat (pair_create.lua refuses one without a
# fresh heartbeat), so it creates once duetd has written one to the new
# master; the replicated one may have expired during the failover.
duet_require "duetd's heartbeat is written on the new master" duet_wait 20 \
	bash -c "(( \$(ip netns exec '$NS_R' redis-cli -p $PORT_B HGET '$(duet_key relay)' updated_ms) > $t_switch ))"
duet_pair_create s2
S2A=$PAIR_A S2B=$PAIR_B
t_created=$(now_ms)
duet_check "s2, created through the new master, reaches duetd" duet_wait 20 duet_stat_is s2 state waiting
t_loaded=$(now_ms)
duet_wait 5 test -s "$DUET_TMP/t_reconnect"
t_reconnect=$(cat "$DUET_TMP/t_reconnect" 2>/dev/null || echo "$t_kill")
duet_diag "failover gaps (ms after the kill): Sentinels name the new master $((t_switch - t_kill));" \
	"duetd reconnected $((t_reconnect - t_kill)); s2 created $((t_created - t_kill));" \
	"s2 loaded by duetd $((t_loaded - t_kill))"
duet_check "duetd reconnected to the new master" \
	grep -q "reconnected to Redis at 127.0.0.1:$PORT_B (master of $MASTER_NAME)" "$DUETD_LOG"
duet_check "duetd resumed the events stream (the replica had every entry)" \
	grep -q "resuming the events stream" "$DUETD_LOG"
duet_check "latch s2" duet_latch s2 "$A:40082" "$S2A" "$B:40082" "$S2B"
duet_peer_bg r2 "$NS_B" recv --bind "$B:40082" --count 20 --timeout 20 --tag s2
duet_peer "$NS_A" send --bind "$A:40082" --to "$S2A" --count 20 --rate 50 --tag s2 >/dev/null
duet_peer_wait r2
duet_check_eq "s2 forwards" 20 "$(duet_json r2 'd["recv"]["matched"]')"

duet_talk_wait c
duet_check_eq "A->B: all $N packets of the call arrived across the failover" "$N 0" \
	"$(duet_json c-b 'd["recv"]["matched"]') $(duet_json c-b 'd["recv"]["missing_count"]')"
duet_check_eq "B->A: all $N packets of the call arrived across the failover" "$N 0" \
	"$(duet_json c-a 'd["recv"]["matched"]') $(duet_json c-a 'd["recv"]["missing_count"]')"

# What duetd writes now lands on the new master.
duet_check "duetd counted the reconnect" duet_wait 5 duet_relay_ge redis_reconnects $((reconnects0 + 1))
duet_check "s1's stats on the new master count the whole call" duet_wait 5 duet_stat_ge s1 a_pkts $N
duet_check "the heartbeat is fresh on the new master" duet_wait 5 \
	bash -c "(( \$(ip netns exec '$NS_R' redis-cli -p $PORT_B HGET '$(duet_key relay)' updated_ms) > $t_switch ))"
duet_check "the lease is on the new master" on $PORT_B "$(duet_key lease)"
duet_check "s3 (idle during the failover) ended: idle, on the new master" duet_wait 5 duet_ended_is s3 reason idle
duet_check "s3's record deleted on the new master" duet_wait 5 \
	bash -c "[[ \$(ip netns exec '$NS_R' redis-cli -p $PORT_B EXISTS '$(duet_key pair:s3)') == 0 ]]"

# --- 2. a failover that loses a write ------------------------------------------
# The old master comes back as the new one's replica.
redis_start $PORT_A --replicaof 127.0.0.1 $PORT_B
duet_require "the old master is now a replica in sync" duet_wait 30 replica_of $PORT_B $PORT_A
loads0=$(grep -c "full resync" "$DUETD_LOG")
# The replica loses its link and cannot log in again (a wrong masterauth),
# so s5's record reaches the master, and duetd, only.
r $PORT_A CONFIG SET masterauth not-the-password >/dev/null
r $PORT_A CLIENT KILL TYPE master >/dev/null
duet_require "the replica's link is down" duet_wait 5 bash -c \
	"ip netns exec '$NS_R' redis-cli -p $PORT_A INFO replication | grep -q '^master_link_status:down'"
duet_pair_create s5
duet_check "s5 loaded" duet_wait 5 duet_stat_is s5 state waiting
redis_kill $PORT_B
duet_diag "master 127.0.0.1:$PORT_B killed; the replica missed s5"
duet_require "the Sentinels promote the stale replica" duet_wait 40 all_sentinels_name $PORT_A
MASTER_PORT=$PORT_A
duet_check_eq "the new master has no record of s5" 0 "$(rcli EXISTS "$(duet_key pair:s5)")"
duet_check "duetd reloads: the stream is older than its position" duet_wait 20 \
	bash -c "(( \$(grep -c 'full resync: events stream is older than our position' '$DUETD_LOG') > $loads0 ))"
duet_check "s5, lost with the write, ended: deleted" duet_wait 10 duet_ended_is s5 reason deleted
duet_check "s2 is still a pair after the reload" duet_wait 5 duet_stat_is s2 state active
duet_peer_bg r2b "$NS_B" recv --bind "$B:40082" --count 20 --timeout 20 --tag s2b
duet_peer "$NS_A" send --bind "$A:40082" --to "$S2A" --count 20 --rate 50 --tag s2b >/dev/null
duet_peer_wait r2b
duet_check_eq "s2 still forwards" 20 "$(duet_json r2b 'd["recv"]["matched"]')"

duet_check_stop TERM
