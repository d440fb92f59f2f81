#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_harness: proves the integration harness itself, without duetd, so a
# failing duetd test can be trusted to be about duetd. The relay namespace
# gets kernel IP forwarding in duetd's place; on it this test checks the
# topology, the Redis helpers (against the contract's key layout), a Redis
# crash and restart from the AOF, udp_peer's loss and source accounting, the
# tshark checksum and TTL check (including that it sees a bad checksum),
# and that teardown leaves nothing behind, even when a test dies.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
command -v tshark >/dev/null || duet_bail "needs tshark (apt-get install tshark)"
RELAY_ID=harness
duet_topo_up
duet_redis_start

# --- topology ---------------------------------------------------------------
duet_check "three namespaces exist" \
	bash -c "ip netns list | grep -c '^$DUET_P-' | grep -qx 3"
duet_check "relay-side veths have no IPv4 address" \
	bash -c "! ip -n $NS_R -4 addr show dev $IF_R0 | grep -q inet && ! ip -n $NS_R -4 addr show dev $IF_R1 | grep -q inet"
duet_check_eq "IPv6 disabled in the relay namespace" 1 \
	"$(ip netns exec "$NS_R" sysctl -n net.ipv6.conf.all.disable_ipv6)"
duet_check_match "tx checksum offload off on $IF_A" 'tx-checksumming: off' \
	"$(ip netns exec "$NS_A" ethtool -k "$IF_A" | grep '^tx-checksumming')"
duet_check_match "client A has both addresses" "$DUET_A_IP2/24" \
	"$(ip -n "$NS_A" -4 addr show dev "$IF_A")"

# --- Redis helpers match the contract's layout --------------------------------
rcli SADD "$(duet_key free)" 192.0.2.1:20010 198.51.100.1:20011 192.0.2.1:20012 >/dev/null
duet_pair_put h1 192.0.2.1:20010 198.51.100.1:20011 idle_ms 5000
duet_check_eq "pair hash written" "192.0.2.1:20010 198.51.100.1:20011 passthrough 5000" \
	"$(rcli HMGET 'duet:{harness}:pair:h1' a b mode idle_ms | xargs)"
duet_check_eq "endpoints recorded in alloc" "h1 h1" \
	"$(rcli HMGET 'duet:{harness}:alloc' 192.0.2.1:20010 198.51.100.1:20011 | xargs)"
duet_check_eq "endpoints taken from free" "192.0.2.1:20012" "$(rcli SMEMBERS 'duet:{harness}:free' | xargs)"
duet_check_eq "put event appended" "op put id h1" \
	"$(rcli XREVRANGE 'duet:{harness}:events' + - COUNT 1 | tail -n 4 | xargs)"
duet_pair_rm h1
duet_check_eq "delete frees the endpoints" 3 "$(rcli SCARD 'duet:{harness}:free')"
duet_check_eq "delete removes the hash" 0 "$(rcli EXISTS 'duet:{harness}:pair:h1')"
duet_check_eq "del event appended" "op del id h1" \
	"$(rcli XREVRANGE 'duet:{harness}:events' + - COUNT 1 | tail -n 4 | xargs)"
rcli XADD "$(duet_key ended)" '*' id h0 reason idle a_pkts 7 >/dev/null
rcli XADD "$(duet_key ended)" '*' id h1 reason deleted a_pkts 3 >/dev/null
duet_check_eq "duet_ended reads an ended entry by id" "deleted 3" \
	"$(duet_ended h1 reason) $(duet_ended h1 a_pkts)"
rcli HSET "$(duet_key stats:h1)" state active a_pkts 42 >/dev/null
duet_check "duet_wait sees a stats field" duet_wait 2 duet_stat_ge h1 a_pkts 42
duet_check "duet_wait gives up on a field that never comes" \
	bash -c "! (source '$DUET_LAB_DIR/lib.sh'; DUET_REDIS_SOCK='$DUET_REDIS_SOCK' RELAY_ID=harness; duet_wait 1 duet_stat_ge h1 a_pkts 43)"

# --- Redis crash and restart from the AOF --------------------------------------
duet_pair_put h2 192.0.2.1:20020 198.51.100.1:20021
duet_redis_kill
duet_check "redis is down after SIGKILL" bash -c "! redis-cli -s '$DUET_REDIS_SOCK' PING >/dev/null 2>&1"
duet_redis_start "$DUET_REDIS_DIR"
duet_check_eq "pair survives SIGKILL and restart (AOF)" "192.0.2.1:20020" \
	"$(rcli HGET 'duet:{harness}:pair:h2' a)"
duet_check_eq "event stream survives too" 3 "$(rcli XLEN 'duet:{harness}:events')"

# --- kernel forwarding stands in for duetd --------------------------------------
ip -n "$NS_R" addr add "$DUET_RELAY_IP_A/24" dev "$IF_R0"
ip -n "$NS_R" addr add "$DUET_RELAY_IP_B/24" dev "$IF_R1"
ip netns exec "$NS_R" sysctl -q -w net.ipv4.ip_forward=1
ip -n "$NS_A" route add 198.51.100.0/24 via "$DUET_RELAY_IP_A"
ip -n "$NS_B" route add 192.0.2.0/24 via "$DUET_RELAY_IP_B"

duet_check "ping mode gets replies" duet_ping_quiet "$NS_A" "$DUET_A_IP" "$DUET_RELAY_IP_A"
duet_check "ping mode fails when nobody answers" \
	bash -c "! ip netns exec $NS_A python3 $DUET_UDP_PEER ping --bind $DUET_A_IP --to 192.0.2.99 --count 1 --wait 0.5 >/dev/null 2>&1"

duet_capture_start capb "$NS_B" "$IF_B" "udp and src host $DUET_A_IP and dst port 41000" 100 20
duet_peer_bg tb "$NS_B" talk --bind "$DUET_B_IP:41000" --to "$DUET_A_IP:41000" \
	--count 100 --rate 200 --tag fromb --expect-tag froma --ttl 50 --linger 15
duet_peer_bg ta "$NS_A" talk --bind "$DUET_A_IP:41000" --to "$DUET_B_IP:41000" \
	--count 100 --rate 200 --tag froma --expect-tag fromb --ttl 50
duet_peer_wait ta
duet_peer_wait tb
duet_check_eq "B got all 100 of A's packets" 0 "$(duet_json tb 'd["recv"]["missing_count"]')"
duet_check_eq "B saw only A's address as source" '["192.0.2.10:41000"]' \
	"$(duet_json tb 'list(d["recv"]["sources"])')"
duet_check_eq "no corrupt payloads" 0 "$(duet_json tb 'd["recv"]["corrupt"]')"
# A started after B, so B's first packets met a closed port: the report
# must show them as missing, or the loss accounting could hide a loss.
duet_check_ge "A's report shows what it missed while not yet bound" 1 \
	"$(duet_json ta 'd["recv"]["missing_count"]')"
# With a go file both start together and neither misses anything.
duet_talk_both g "$DUET_A_IP:41001" "$DUET_B_IP:41001" "$DUET_B_IP:41001" "$DUET_A_IP:41001" 100 200
duet_talk_wait g
duet_check_eq "duet_talk_both: nothing missed either way" "0 0" \
	"$(duet_json g-a 'd["recv"]["missing_count"]') $(duet_json g-b 'd["recv"]["missing_count"]')"
duet_capture_wait capb
fields=$(duet_capture_fields capb)
duet_check_eq "capture saw 100 forwarded packets" 100 "$(grep -c . <<<"$fields")"
duet_check_eq "forwarded TTL is 49 (sent with 50)" 100 "$(awk -F'\t' '$5 == 49' <<<"$fields" | wc -l)"
duet_check_eq "tshark: all IP and UDP checksums good" 100 \
	"$(awk -F'\t' '$6 == 1 && $7 == 1' <<<"$fields" | wc -l)"

# The capture check must be able to fail: frames with a broken checksum.
mac=$(ip netns exec "$NS_R" cat "/sys/class/net/$IF_R0/address")
duet_capture_start capr "$NS_R" "$IF_R0" "udp and dst port 42000" 9 20
for kind in good ip_cksum udp_cksum; do
	duet_peer "$NS_A" frame --iface "$IF_A" --dst-mac "$mac" --src "$DUET_A_IP:42000" \
		--to "$DUET_RELAY_IP_A:42000" --kind "$kind" --count 3 --rate 100 >/dev/null
done
duet_capture_wait capr
fields=$(duet_capture_fields capr)
duet_check_eq "good frames: both checksums good" 3 "$(awk -F'\t' '$6 == 1 && $7 == 1' <<<"$fields" | wc -l)"
duet_check_eq "ip_cksum frames: tshark flags the IP checksum" 3 "$(awk -F'\t' '$6 == 0' <<<"$fields" | wc -l)"
duet_check_eq "udp_cksum frames: tshark flags the UDP checksum" 3 "$(awk -F'\t' '$6 == 1 && $7 == 0' <<<"$fields" | wc -l)"

# --- teardown leaves nothing, even when a test bails out ---------------------------
child=$(DUET_TAP=1 DUET_KEEP=0 bash -c "
	source '$DUET_LAB_DIR/lib.sh'
	duet_init
	duet_topo_up
	duet_redis_start
	echo \"P=\$DUET_P TMP=\$DUET_TMP REDIS=\$DUET_REDIS_PID\"
	duet_bail 'deliberate failure'
" 2>/dev/null)
cp=$(sed -n 's/.*P=\([^ ]*\).*/\1/p' <<<"$child")
ctmp=$(sed -n 's/.*TMP=\([^ ]*\).*/\1/p' <<<"$child")
cred=$(sed -n 's/.*REDIS=\([0-9]*\).*/\1/p' <<<"$child")
duet_check_match "child run printed its names and bailed" 'Bail out! deliberate failure' "$child"
duet_check "child's namespaces are gone" bash -c "[[ -n '$cp' ]] && ! ip netns list | grep -q '^$cp-'"
duet_check "child's temp dir is gone" bash -c "[[ -n '$ctmp' && ! -e '$ctmp' ]]"
duet_check "child's redis-server is gone" bash -c "[[ -n '$cred' ]] && ! kill -0 '$cred' 2>/dev/null"
