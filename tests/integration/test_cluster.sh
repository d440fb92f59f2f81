#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_cluster: two relays on a Redis Cluster (issue 10 item 4). A real
# redis-server cluster (3 masters, 3 replicas, made by redis-cli --cluster
# create) runs inside the relay namespace on 127.0.0.1, with
# cluster-node-timeout 1000 and cluster-require-full-coverage no. Two
# duetd processes run there, each with its own two ports and subnets
# toward the same two client namespaces:
#
#   relay 1  192.0.2.1 / 198.51.100.1    (the lab's topology)
#   relay 2  203.0.113.1 / 203.0.113.129  (A 203.0.113.10/25, B 203.0.113.138/25)
#
# Their relay ids are picked so that their slots (CLUSTER KEYSLOT, which
# lib/redis's CRC16 must agree with) live on different masters. Both get
# `cluster:127.0.0.1:7001,...` and find their slot's master themselves;
# duetctl does the same. Calls flow through both relays. Then relay 1's
# master is killed: relay 1's call keeps forwarding with no loss, relay 2
# is not disturbed, the replica takes the slot over, and a pair created
# after the failover reaches relay 1 (and one created for relay 2 reaches
# relay 2). The control gap is printed as a TAP comment. Last, relay 2's
# slot is moved by hand to another master (IMPORTING/MIGRATING, MIGRATE,
# SETSLOT NODE) during a call: relay 2 gets ASK or MOVED, finds the new
# owner, and a pair created after the move reaches it.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_need_bins duetd duetctl
duet_topo_up

PORTS=(7001 7002 7003 7004 7005 7006)
SEEDS=$(printf '127.0.0.1:%s,' "${PORTS[@]}")
CLUSTER_ADDR="cluster:${SEEDS%,}"
declare -A REDIS_PID=()
CLI_PORT=7001 # a node redis-cli starts from (it follows MOVED with -c)

now_ms() { date +%s%3N; }

r() {
	local port=$1
	shift
	ip netns exec "$NS_R" redis-cli -h 127.0.0.1 -p "$port" "$@"
}

# The lab's helpers read and write "Redis": here, the cluster.
rcli() { r "$CLI_PORT" -c "$@"; }
duet_ctl() {
	ip netns exec "$NS_R" "$DUETCTL" --redis "$CLUSTER_ADDR" --relay "$RELAY_ID" "$@"
}

node_start() {
	local port=$1
	mkdir -p "$DUET_TMP/node-$port"
	ip netns exec "$NS_R" redis-server --port "$port" --bind 127.0.0.1 \
		--cluster-enabled yes --cluster-config-file "$DUET_TMP/node-$port/nodes.conf" \
		--cluster-node-timeout 1000 --cluster-require-full-coverage no \
		--dir "$DUET_TMP/node-$port" --save '' --appendonly no \
		--logfile "$DUET_TMP/node-$port.log" --daemonize no &
	REDIS_PID[$port]=$!
	DUET_BG_PIDS+=($!)
}

node_up() { [[ $(r "$1" PING 2>/dev/null) == PONG ]]; }

cluster_ok() {
	local port
	for port in "$@"; do
		r "$port" CLUSTER INFO 2>/dev/null | tr -d '\r' | grep -q '^cluster_state:ok$' || return 1
	done
}

# owner SLOT [PORT]: the port of the master serving SLOT, as node PORT sees it.
owner() {
	r "${2:-$CLI_PORT}" --json CLUSTER SLOTS 2>/dev/null | python3 -c '
import json, sys
slot = int(sys.argv[1])
for r in json.load(sys.stdin) or []:
    if r[0] <= slot <= r[1]:
        print(r[2][1])
' "$1"
}

# pick_relay PREFIX AVOID_PORT: a relay id "PREFIX<n>" whose slot is not on
# AVOID_PORT's shard; prints "id slot".
pick_relay() {
	local n slot
	for ((n = 0; n < 64; n++)); do
		slot=$(r "$CLI_PORT" CLUSTER KEYSLOT "duet:{$1$n}:events")
		if [[ $(owner "$slot") != "$2" ]]; then
			echo "$1$n $slot"
			return 0
		fi
	done
	return 1
}

# key_on ID PORT: duetd's heartbeat of relay ID is held by node PORT.
heartbeat_on() {
	[[ $(r "$2" EXISTS "duet:{$1}:relay" 2>/dev/null) == 1 ]]
}

# --- the cluster ---------------------------------------------------------------
for p in "${PORTS[@]}"; do node_start "$p"; done
for p in "${PORTS[@]}"; do
	duet_wait 10 node_up "$p" || duet_bail "cluster node $p did not start (see $DUET_TMP/node-$p.log)"
done
ip netns exec "$NS_R" redis-cli --cluster create $(printf '127.0.0.1:%s ' "${PORTS[@]}") \
	--cluster-replicas 1 --cluster-yes >"$DUET_TMP/cluster-create.log" 2>&1 ||
	duet_bail "redis-cli --cluster create failed: $(tail -n 5 "$DUET_TMP/cluster-create.log")"
duet_require "the cluster is up on every node" duet_wait 30 cluster_ok "${PORTS[@]}"

# --- two relay ids on two different masters ---------------------------------------
# Relay 1 on some master M1; relay 2 on a master other than M1.
RELAY1=c1_${DUET_P}0
SLOT1=$(r "$CLI_PORT" CLUSTER KEYSLOT "duet:{$RELAY1}:events")
M1=$(owner "$SLOT1")
read -r RELAY2 SLOT2 < <(pick_relay "c2_${DUET_P}" "$M1") || duet_bail "no relay id off $M1's shard"
M2=$(owner "$SLOT2")
duet_diag "relay 1 $RELAY1: slot $SLOT1 on master $M1; relay 2 $RELAY2: slot $SLOT2 on master $M2"
duet_check_eq "CLUSTER KEYSLOT agrees that every key of a relay is in one slot" "$SLOT1 $SLOT1" \
	"$(r "$CLI_PORT" CLUSTER KEYSLOT "duet:{$RELAY1}:pair:x") $(r "$CLI_PORT" CLUSTER KEYSLOT "duet:{$RELAY1}:free")"
# The other nodes of the cluster seed: a node not killed, for the test's own
# redis-cli.
for p in "${PORTS[@]}"; do [[ $p != "$M1" ]] && CLI_PORT=$p && break; done

# --- relay 1: the lab's topology -----------------------------------------------------
RELAY_ID=$RELAY1
duet_conf_write
sed -i "s|^address = .*|address = $CLUSTER_ADDR|" "$DUET_CONF"
duetd_start || duet_bail "duetd (relay 1) did not start"
duet_check "relay 1 connected to the master of its slot" \
	grep -q "connected to Redis at 127.0.0.1:$M1 (cluster slot $SLOT1)" "$DUETD_LOG"
duet_check "relay 1's keys are on its master" heartbeat_on "$RELAY1" "$M1"

# --- relay 2: two more veths from the relay namespace, other subnets ---------------------
IF_R2=${DUET_P}r2 IF_R3=${DUET_P}r3 IF_A1=${DUET_P}a1 IF_B1=${DUET_P}b1
R2_IP_A=203.0.113.1 R2_IP_B=203.0.113.129 A2=203.0.113.10 B2=203.0.113.138
duet_veth_add "$IF_R2" "$NS_R" "$IF_A1" "$NS_A"
duet_veth_add "$IF_R3" "$NS_R" "$IF_B1" "$NS_B"
ip -n "$NS_A" addr add "$A2/25" dev "$IF_A1"
ip -n "$NS_B" addr add "$B2/25" dev "$IF_B1"
ip netns exec "$NS_A" ethtool -K "$IF_A1" tx off >/dev/null 2>&1 || duet_bail "ethtool $IF_A1"
ip netns exec "$NS_B" ethtool -K "$IF_B1" tx off >/dev/null 2>&1 || duet_bail "ethtool $IF_B1"
for l in "$NS_R $IF_R2" "$NS_R $IF_R3" "$NS_A $IF_A1" "$NS_B $IF_B1"; do
	ip -n "${l% *}" link set "${l#* }" up
done
CONF2=$DUET_TMP/duetd2.conf
LOG2=$DUET_TMP/duetd2.log
sed -e "s/^id = .*/id = $RELAY2/" \
	-e 's/^\[port net_af_packet0\]/[port net_af_packet2]/' \
	-e 's/^\[port net_af_packet1\]/[port net_af_packet3]/' \
	-e "s/^addresses = $DUET_RELAY_IP_A\$/addresses = $R2_IP_A/" \
	-e "s/^addresses = $DUET_RELAY_IP_B\$/addresses = $R2_IP_B/" "$DUET_CONF" >"$CONF2"
# The first duetd serves metrics on this namespace's 127.0.0.1:9465.
printf '[metrics]\nlisten = off\n' >>"$CONF2"
# shellcheck disable=SC2086 # DUET_EAL_MEM is a list of options
ip netns exec "$NS_R" "$DUETD" -l 0,1 $DUET_EAL_MEM --no-pci --file-prefix "duet-$DUET_P-2" \
	--vdev "net_af_packet2,iface=$IF_R2" --vdev "net_af_packet3,iface=$IF_R3" \
	-- -c "$CONF2" >"$LOG2" 2>&1 &
D2=$!
DUET_BG_PIDS+=("$D2")
duet_require "relay 2 publishes its heartbeat" duet_wait 30 heartbeat_on "$RELAY2" "$M2"
duet_check "relay 2 connected to the master of its slot" \
	grep -q "connected to Redis at 127.0.0.1:$M2 (cluster slot $SLOT2)" "$LOG2"
duet_wait 10 duet_ping_quiet "$NS_A" "$A2" "$R2_IP_A" || duet_diag "relay 2 does not answer ping yet"
duet_wait 10 duet_ping_quiet "$NS_B" "$B2" "$R2_IP_B" || duet_diag "relay 2 does not answer ping yet"

# relay_do ID CMD...: run a lab helper against relay ID.
relay_do() {
	local keep=$RELAY_ID rc
	RELAY_ID=$1
	shift
	"$@"
	rc=$?
	RELAY_ID=$keep
	return $rc
}

# create2 ID: duetctl create on relay 2's addresses (PAIR_A, PAIR_B).
create2() {
	local out
	out=$(relay_do "$RELAY2" duet_ctl --json create --id "$1" --a-ip "$R2_IP_A" --b-ip "$R2_IP_B") ||
		duet_bail "duetctl create $1 on relay 2 failed: $out"
	PAIR_A=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["a"])' "$out")
	PAIR_B=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["b"])' "$out")
}

# --- calls through both relays ----------------------------------------------------------
A=$DUET_A_IP B=$DUET_B_IP
N=1200 # 12 s at 100 packets/s each way
duet_pair_create k1
K1A=$PAIR_A K1B=$PAIR_B
create2 m1
M1A=$PAIR_A M1B=$PAIR_B
duet_require "latch k1 (relay 1)" duet_latch k1 "$A:40091" "$K1A" "$B:40091" "$K1B"
duet_require "latch m1 (relay 2)" relay_do "$RELAY2" duet_latch m1 "$A2:40092" "$M1A" "$B2:40092" "$M1B"
reconnects1=$(duet_relay_stat redis_reconnects)
reconnects2=$(relay_do "$RELAY2" duet_relay_stat redis_reconnects)

duet_talk_both c1 "$A:40091" "$K1A" "$B:40091" "$K1B" $N 100 --linger 3
duet_talk_both c2 "$A2:40092" "$M1A" "$B2:40092" "$M1B" $N 100 --linger 3
sleep 2

# --- relay 1's master dies ---------------------------------------------------------------
t_kill=$(now_ms)
kill -KILL "${REDIS_PID[$M1]}"
wait "${REDIS_PID[$M1]}" 2>/dev/null
duet_diag "master 127.0.0.1:$M1 (relay 1's slot $SLOT1) killed"
# When relay 1's log says it reached its slot's new master (polled every 50 ms).
timeout 60 bash -c "until grep -q 'reconnected to Redis at' '$DUETD_LOG'; do
	sleep 0.05; done; date +%s%3N >'$DUET_TMP/t_reconnect'" &
DUET_BG_PIDS+=($!)
new_owner() { local o; o=$(owner "$SLOT1"); [[ -n $o && $o != "$M1" ]]; }
duet_require "a replica takes relay 1's slot over" duet_wait 30 new_owner
t_switch=$(now_ms)
M1NEW=$(owner "$SLOT1")
# A control plane picks relays by their heartbeat (pair_create.lua refuses
# one without a fresh heartbeat): it creates once relay 1 has written one
# to the new master; the replicated one may have expired meanwhile.
hb_fresh() { local u; u=$(r "$M1NEW" HGET "duet:{$RELAY1}:relay" updated_ms 2>/dev/null); [[ $u =~ ^[0-9]+$ ]] && ((u > t_switch)); }
duet_require "relay 1's heartbeat is written on the new master" duet_wait 20 hb_fresh
duet_pair_create k2
K2A=$PAIR_A K2B=$PAIR_B
t_created=$(now_ms)
duet_check "k2, created after the failover, reaches relay 1" duet_wait 20 duet_stat_is k2 state waiting
t_loaded=$(now_ms)
duet_wait 5 test -s "$DUET_TMP/t_reconnect"
t_reconnect=$(cat "$DUET_TMP/t_reconnect" 2>/dev/null || echo "$t_kill")
duet_diag "failover gaps (ms after the kill): the cluster names the new master $((t_switch - t_kill));" \
	"relay 1 reconnected $((t_reconnect - t_kill)); k2 created $((t_created - t_kill));" \
	"k2 loaded by relay 1 $((t_loaded - t_kill))"
duet_check "relay 1 reconnected to its slot's new master" \
	grep -q "reconnected to Redis at 127.0.0.1:$M1NEW (cluster slot $SLOT1)" "$DUETD_LOG"
duet_check "latch k2" duet_latch k2 "$A:40093" "$K2A" "$B:40093" "$K2B"
create2 m2
M2A=$PAIR_A M2B=$PAIR_B
duet_check "m2, created on relay 2 after the failover, reaches it" duet_wait 10 \
	relay_do "$RELAY2" duet_stat_is m2 state waiting

duet_talk_wait c1
duet_talk_wait c2
duet_check_eq "relay 1: all $N packets each way arrived across its master's failover" "$N 0 $N 0" \
	"$(duet_json c1-b 'd["recv"]["matched"]') $(duet_json c1-b 'd["recv"]["missing_count"]') $(duet_json c1-a 'd["recv"]["matched"]') $(duet_json c1-a 'd["recv"]["missing_count"]')"
duet_check_eq "relay 2: all $N packets each way arrived" "$N 0 $N 0" \
	"$(duet_json c2-b 'd["recv"]["matched"]') $(duet_json c2-b 'd["recv"]["missing_count"]') $(duet_json c2-a 'd["recv"]["matched"]') $(duet_json c2-a 'd["recv"]["missing_count"]')"
duet_check "relay 1 counted a reconnect" duet_wait 5 duet_relay_ge redis_reconnects $((reconnects1 + 1))
duet_check_eq "relay 2 never lost its master" "$reconnects2" "$(relay_do "$RELAY2" duet_relay_stat redis_reconnects)"
duet_check "relay 1's heartbeat is on the new master" duet_wait 5 heartbeat_on "$RELAY1" "$M1NEW"
duet_check "k1's stats count the whole call" duet_wait 5 duet_stat_ge k1 a_pkts $N

duet_peer_bg r2 "$NS_B" recv --bind "$B:40093" --count 20 --timeout 20 --tag k2
duet_peer "$NS_A" send --bind "$A:40093" --to "$K2A" --count 20 --rate 50 --tag k2 >/dev/null
duet_peer_wait r2
duet_check_eq "k2 forwards through relay 1" 20 "$(duet_json r2 'd["recv"]["matched"]')"
duet_check "latch m2" relay_do "$RELAY2" duet_latch m2 "$A2:40094" "$M2A" "$B2:40094" "$M2B"

duet_check "duetctl list finds relay 1's pairs on its slot's node" \
	bash -c "out=\$(ip netns exec '$NS_R' '$DUETCTL' --redis '$CLUSTER_ADDR' --relay '$RELAY1' list) &&
		grep -q '^k1 ' <<<\"\$out\" && grep -q '^k2 ' <<<\"\$out\""

# --- relay 2's slot moves to another master (MOVED, ASK) ---------------------------------
# Move it by hand, as redis-cli --cluster reshard does, to a master that is
# neither relay 2's nor dead.
for p in "${PORTS[@]}"; do
	if [[ $p != "$M1" && $p != "$M2" && $(r "$p" ROLE | head -1) == master ]]; then DST=$p; break; fi
done
src_id=$(r "$M2" CLUSTER MYID) dst_id=$(r "$DST" CLUSTER MYID)
reconnects2=$(relay_do "$RELAY2" duet_relay_stat redis_reconnects)
duet_talk_both c3 "$A2:40092" "$M1A" "$B2:40092" "$M1B" 400 100 --linger 2
sleep 1
r "$DST" CLUSTER SETSLOT "$SLOT2" IMPORTING "$src_id" >/dev/null
r "$M2" CLUSTER SETSLOT "$SLOT2" MIGRATING "$dst_id" >/dev/null
moved=0
while keys=$(r "$M2" CLUSTER GETKEYSINSLOT "$SLOT2" 100) && [[ -n $keys ]]; do
	# shellcheck disable=SC2086 # one key per word
	r "$M2" MIGRATE 127.0.0.1 "$DST" "" 0 5000 KEYS $keys >/dev/null
	moved=$((moved + $(wc -w <<<"$keys")))
	((moved < 100000)) || break
done
for p in "${PORTS[@]}"; do
	[[ $p != "$M1" ]] && r "$p" CLUSTER SETSLOT "$SLOT2" NODE "$dst_id" >/dev/null 2>&1
done
duet_diag "relay 2's slot $SLOT2 moved from $M2 to $DST ($moved keys)"
duet_check "relay 2 follows its slot to $DST" duet_wait 10 \
	grep -q "reconnected to Redis at 127.0.0.1:$DST (cluster slot $SLOT2)" "$LOG2"
duet_check "relay 2's heartbeat is written on $DST" duet_wait 5 heartbeat_on "$RELAY2" "$DST"
create2 m3
duet_check "m3, created after the move, reaches relay 2" duet_wait 10 \
	relay_do "$RELAY2" duet_stat_is m3 state waiting
duet_talk_wait c3
duet_check_eq "relay 2: the call during the move lost nothing" "400 0 400 0" \
	"$(duet_json c3-b 'd["recv"]["matched"]') $(duet_json c3-b 'd["recv"]["missing_count"]') $(duet_json c3-a 'd["recv"]["matched"]') $(duet_json c3-a 'd["recv"]["missing_count"]')"
duet_check "relay 2 counted the reconnect" duet_wait 5 \
	relay_do "$RELAY2" duet_relay_ge redis_reconnects $((reconnects2 + 1))
duet_diag "relay 2 on the move: $(grep -E 'lost Redis|reconnected' "$LOG2" | tail -n 4 | tr '\n' '|')"

kill -TERM "$D2"
rc2=0
wait "$D2" || rc2=$?
duet_check_eq "relay 2 exits 0 on SIGTERM" 0 "$rc2"
duet_check_stop TERM
