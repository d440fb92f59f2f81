#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# demo.sh: duet end to end on one machine, in about a minute. Two network
# namespaces play the two clients of a call, a third runs duetd on
# net_af_packet between them; a private redis-server holds the pairing
# table; duetctl creates the pair; kernel UDP clients (udp_peer.py) send
# paced RTP-shaped packets both ways through the relay while the live
# counters (duetctl show / relay) are printed every second. Everything is
# torn down at the end or on Ctrl-C. Builds nothing: run `make` first (the
# Makefile's demo target does both).
#
# usage: sudo tools/demo.sh [BUILD_DIR]   (default build/; make demo BUILD=dir passes it)
# environment: DEMO_SECONDS (default 60, 1..3600), DEMO_RATE (packets per
# second each way, default 50, 1..2000), DEMO_MODE (unset: kernel UDP test
# clients; passthrough, verify or rekey: a real Opus/SRTP call between two
# duet-callers, keys made by duetctl), DEMO_SUITE (SRTP suite for the keys),
# DEMO_FAMILY (4, the default: both callers on IPv4; 6: both on IPv6,
# 2001:db8:a::10 and 2001:db8:b::10 through 2001:db8:a::1 and
# 2001:db8:b::1; 46: A on IPv4, B on IPv6, the relay bridging them),
# DUET_BUILD_ROOT (default build/), DUETD, DUETCTL, DUET_CALLER, BENCH_HUGE=0
# (duetd on --no-huge even where hugepages could be had).
#
# duetd runs on 2 MiB hugepages when the kernel has them and memory is
# free: the demo reserves 512 MiB of them (and mounts hugetlbfs if nothing
# is mounted for them) with benchmarks/hugepages.sh, and gives back exactly
# that at exit; otherwise on --no-huge. It prints which. The tests keep
# --no-huge (tools/lab's default).
set -u

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DUET_SOURCE_ROOT=$src
if (($# > 1)); then
	echo "usage: tools/demo.sh [BUILD_DIR]" >&2
	exit 2
fi
if (($# == 1)); then
	DUET_BUILD_ROOT=$(cd "$1" 2>/dev/null && pwd) || {
		echo "demo: build directory '$1' not found; build first (make BUILD=$1)" >&2
		exit 1
	}
	export DUET_BUILD_ROOT
fi
DUET_TAP=0
DEMO_FAMILY=${DEMO_FAMILY:-4}
case $DEMO_FAMILY in
4 | 6 | 46) DUET_FAMILY=$DEMO_FAMILY ;;
*)
	echo "demo: DEMO_FAMILY='$DEMO_FAMILY' is not 4, 6 or 46 (A on IPv4, B on IPv6)" >&2
	exit 2
	;;
esac
# Services and clients in sessions of their own: Ctrl-C at the terminal
# reaches this script only, which stops the traffic, prints the summary
# (with duetctl, so Redis and duetd must still run) and tears down.
DUET_DETACH=1
# shellcheck source=lab/lib.sh
source "$src/tools/lab/lib.sh"

DEMO_SECONDS=${DEMO_SECONDS:-60}
DEMO_RATE=${DEMO_RATE:-50}
DEMO_MODE=${DEMO_MODE:-}
DEMO_SUITE=${DEMO_SUITE:-AES_CM_128_HMAC_SHA1_80}
DUET_CALLER=${DUET_CALLER:-${DUET_BUILD_ROOT:-$src/build}/app/duet-caller/duet-caller}
case $DEMO_MODE in
'' | passthrough | verify | rekey) ;;
*)
	echo "demo: DEMO_MODE='$DEMO_MODE' is not passthrough, verify or rekey" >&2
	exit 2
	;;
esac
if [[ -n $DEMO_MODE && ! -x $DUET_CALLER ]]; then
	echo "demo: $DUET_CALLER not found; build first (make)" >&2
	exit 1
fi
if ! [[ $DEMO_SECONDS =~ ^[0-9]+$ ]] || ((DEMO_SECONDS < 1 || DEMO_SECONDS > 3600)); then
	echo "demo: DEMO_SECONDS='$DEMO_SECONDS' is not a whole number of seconds in 1..3600" >&2
	exit 2
fi
if ! [[ $DEMO_RATE =~ ^[0-9]+$ ]] || ((DEMO_RATE < 1 || DEMO_RATE > 2000)); then
	echo "demo: DEMO_RATE='$DEMO_RATE' is not a packet rate in 1..2000" >&2
	exit 2
fi
if [[ $(id -u) != 0 ]]; then
	echo "demo: needs root for network namespaces; run: sudo $0" >&2
	exit 1
fi
for b in "$DUETD" "$DUETCTL"; do
	if [[ ! -x $b ]]; then
		echo "demo: $b not found; build first (make), or set DUET_BUILD_ROOT" >&2
		exit 1
	fi
done

duet_init
# The lab's teardown first (duetd stops), then the hugepages go back.
# shellcheck source=../benchmarks/hugepages.sh
source "$src/benchmarks/hugepages.sh"
demo_on_exit() {
	local rc=$?
	trap - EXIT INT TERM
	duet_teardown
	huge_release
	exit "$rc"
}
trap demo_on_exit EXIT
huge_reserve 512 1024
DUET_EAL_MEM=$(huge_eal "$BENCH_HUGEPAGES" 512)
stop=0
# First Ctrl-C: stop the traffic and print the summary; second: leave now.
trap 'if ((stop)); then exit 130; fi; stop=1' INT
trap 'stop=1' TERM

say() { printf '%s\n' "$*"; }
bold() { if [[ -t 1 ]]; then printf '\033[1m%s\033[0m\n' "$*"; else say "$*"; fi; }

RELAY_ID=demo
bold "duet demo: a call relayed between two network namespaces for ${DEMO_SECONDS}s (Ctrl-C stops)"
case $DEMO_FAMILY in
6) say "both callers on IPv6 (DEMO_FAMILY=6)" ;;
46) say "caller A on IPv4, caller B on IPv6: duetd bridges the families (DEMO_FAMILY=46)" ;;
esac
say "setting up namespaces, redis-server and duetd (EAL memory: $HUGE_NOTE) ..."
duet_topo_up
duet_redis_start
demo_conf=(stats_interval_ms=1000 idle_timeout_ms=30000)
# duetd's per-leg policer defaults to 500 packets/s and 1000 kbit/s: one
# voice stream with room to spare. A faster demo raises it.
if ((DEMO_RATE > 400)); then
	demo_conf+=("security.max_pps=$((DEMO_RATE * 2))" security.max_kbps=0)
fi
duet_conf_write "${demo_conf[@]}"
duetd_start || duet_bail "duetd did not start; its log: $DUETD_LOG"

# duetctl takes leg a's endpoint on port 0's address (the side where A
# lives) and leg b's on port 1's.
id=call-1
mode_args=()
[[ -n $DEMO_MODE ]] && mode_args=(--mode "$DEMO_MODE" --suite "$DEMO_SUITE")
duet_pair_create "$id" "${mode_args[@]}"
aep=$PAIR_A bep=$PAIR_B
say "created with: duetctl --redis unix:$DUET_REDIS_SOCK --relay $RELAY_ID create --id $id --a-ip $DUET_RELAY_IP_A --b-ip $DUET_RELAY_IP_B ${mode_args[*]}"
say "  a=$aep b=$bep${DEMO_MODE:+ mode=$DEMO_MODE suite=$DEMO_SUITE (keys not shown)}"
A=$(duet_hostport "$DUET_A_IP" 40000)
B=$(duet_hostport "$DUET_B_IP" 40000)
say ""
say "  client A $A  (netns $NS_A)"
say "     <-> relay $aep  [duetd, netns $NS_R]  $bep <->"
say "  client B $B  (netns $NS_B)"
say ""

if [[ -z $DEMO_MODE ]]; then
	count=$((DEMO_SECONDS * DEMO_RATE))
	duet_talk_both demo "$A" "$aep" "$B" "$bep" "$count" "$DEMO_RATE" --linger 1 \
		--timeout $((DEMO_SECONDS + 10))
else
	# A real call: each leg's keys from the record duetctl wrote. In
	# passthrough and verify the clients share keys end to end (a sends
	# with a_in, b opens with a_in); in rekey each has its own with the
	# relay (a opens with a_out).
	pk() { rcli HGET "$(duet_key "pair:$id")" "$1"; }
	case $DEMO_MODE in
	passthrough)
		# The relay holds no key: the callers' own, made here.
		gen=$("$DUET_CALLER" --gen-keys passthrough --suite "$DEMO_SUITE" --json)
		ka=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["a_in"])' "$gen")
		kb=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["b_in"])' "$gen")
		unset gen
		keys=(--a-key-out "$ka" --a-key-in "$kb" --b-key-out "$kb" --b-key-in "$ka") ;;
	verify) keys=(--a-key-out "$(pk a_in)" --a-key-in "$(pk b_in)" --b-key-out "$(pk b_in)" --b-key-in "$(pk a_in)") ;;
	rekey) keys=(--a-key-out "$(pk a_in)" --a-key-in "$(pk a_out)" --b-key-out "$(pk b_in)" --b-key-in "$(pk b_out)") ;;
	esac
	setsid "$DUET_CALLER" --a-netns "$NS_A" --b-netns "$NS_B" --a-bind "$A" --b-bind "$B" \
		--a-relay "$aep" --b-relay "$bep" "${keys[@]}" --rate realtime \
		--duration "$DEMO_SECONDS" >"$DUET_TMP/caller.out" 2>&1 &
	DUET_BG[demo-a]=$!
	DUET_BG[demo-b]=$!
	DUET_BG_PIDS+=($!)
	unset keys ka kb
fi

# One line per second when not on a terminal; a redrawn screen when on one.
compact() {
	duet_ctl --json show "$id" 2>/dev/null | python3 -c '
import json, sys
try:
    s = json.load(sys.stdin).get("stats") or {}
except ValueError:
    s = {}
g = lambda k: s.get(k, "-")
keys = ("state", "a_state", "a_pkts", "a_bytes", "b_state", "b_pkts", "b_bytes")
print("state=%s  a: %s pkts=%s bytes=%s  b: %s pkts=%s bytes=%s" % tuple(g(k) for k in keys), end="")
'
	printf '  relay: fwd_pps=%s drops=%s rss_kb=%s\n' "$(duet_relay_stat fwd_pps)" \
		"$(duet_relay_stat drops)" "$(rss_kb)"
}

# duetd's resident memory in kB (VmRSS), and its history: the first sample
# after warm-up (10 s) and the largest after it, to show that a long run
# does not grow.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$DUETD_PID/status" 2>/dev/null; }
rss_warm='' rss_max=0 rss_last=''
rss_sample() {
	local t=$1 r
	r=$(rss_kb)
	[[ -n $r ]] || return 0
	rss_last=$r
	((t >= 10)) || return 0
	[[ -n $rss_warm ]] || rss_warm=$r
	((r > rss_max)) && rss_max=$r
	return 0
}

start=$SECONDS
while ((stop == 0)); do
	sleep 1 &
	wait $! 2>/dev/null
	((stop)) && break
	t=$((SECONDS - start))
	rss_sample "$t"
	if [[ -t 1 ]]; then
		printf '\033[H\033[2J'
		bold "duet demo: ${t}s of ${DEMO_SECONDS}s, $DEMO_RATE packets/s each way (Ctrl-C stops)"
		say "A $A <-> $aep | relay | $bep <-> B $B"
		say ""
		say "\$ duetctl show $id"
		duet_ctl show "$id"
		say ""
		say "\$ duetctl relay   (drop counters at 0 hidden)"
		duet_ctl relay | awk '!($1 ~ /^drop_/ && $2 == "0")'
	else
		printf '[%3ds] ' "$t"
		compact
	fi
	kill -0 "${DUET_BG[demo-a]}" 2>/dev/null || kill -0 "${DUET_BG[demo-b]}" 2>/dev/null || break
done

# Stop the clients (they print their reports on SIGTERM) and sum up.
for p in demo-a demo-b; do
	kill -TERM "${DUET_BG[$p]}" 2>/dev/null
	wait "${DUET_BG[$p]}" 2>/dev/null
done
say ""
bold "summary"
if [[ -n $DEMO_MODE ]]; then
	say "duet-caller's report (a_to_b: what A sent and B received, through the relay):"
	cat "$DUET_TMP/caller.out"
else
sa=$(duet_json demo-a 'd["sent"]')
sb=$(duet_json demo-b 'd["sent"]')
ra=$(duet_json demo-a 'd["recv"]["matched"]')
rb=$(duet_json demo-b 'd["recv"]["matched"]')
say "  A -> B: A sent $sa, B received $rb, from $(duet_json demo-b '",".join(d["recv"]["sources"]) or "-"')"
say "  B -> A: B sent $sb, A received $ra, from $(duet_json demo-a '",".join(d["recv"]["sources"]) or "-"')"
say "  (a client's first packets are dropped until the other side has sent: latching)"
fi
if [[ -n $rss_warm ]]; then
	say "  duetd memory (VmRSS): ${rss_warm} kB at 10 s, largest after that ${rss_max} kB, last ${rss_last} kB"
fi
say "\$ duetctl relay   (drop counters at 0 hidden)"
duet_ctl relay | awk '!($1 ~ /^drop_/ && $2 == "0")'
if duet_ctl delete "$id" >/dev/null; then
	duet_wait 5 duet_ended_is "$id" reason deleted
	say "\$ duetctl delete $id; duetctl ended --count 1"
	duet_ctl ended --count 1
fi
duetd_stop TERM
rc=$DUETD_RC
say "duetd stopped (exit status $rc); tearing down"
if [[ $rc != 0 ]]; then
	exit 1
fi
