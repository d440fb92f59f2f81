# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# lib.sh: the lab: the harness that the integration tests
# (tests/integration/test_*.sh), the demo (tools/demo.sh) and the control
# benchmarks (benchmarks/control) all source, so it lives in neither
# tests/ nor benchmarks/. It builds the test
# topology (three network namespaces joined by veth pairs), runs a private
# redis-server and duetd, writes pairs into Redis the way a control plane
# does, runs udp_peer.py clients, reads duetd's stats back, and tears all
# of it down in an EXIT trap, on success, failure or Ctrl-C. It runs in the
# test's own shell (root, in the root network namespace); duetd and the
# clients run inside the namespaces through `ip netns exec`.
#
# Topology (P is a short prefix unique to the run, so tests can run side by
# side):
#
#   netns P-a                 netns P-relay (duetd)            netns P-b
#   Pa0 192.0.2.10/24  <-veth->  Pr0 | net_af_packet0 192.0.2.1
#       192.0.2.11/24            Pr1 | net_af_packet1 198.51.100.1 <-veth-> Pb0 198.51.100.10/24
#                                                                              198.51.100.11/24
#
# DUET_FAMILY picks the address family of each side (default 4, the
# picture above):
#   4     both sides IPv4, as drawn.
#   6     both sides IPv6: relay 2001:db8:a::1 facing client A 2001:db8:a::10
#         (+ ::11), relay 2001:db8:b::1 facing client B 2001:db8:b::10
#         (+ ::11), each a /64 on the link.
#   46    A side IPv4 as drawn, B side IPv6 as in 6 (bridged calls).
#   dual  both families on both sides: each port has its IPv4 and its IPv6
#         address, each client both of its own; the DUET_*_IP names are the
#         IPv4 ones, DUET_*_IP6 the IPv6 ones.
# DUET_RELAY_IP_A/B, DUET_A_IP(2) and DUET_B_IP(2) are the addresses of the
# chosen family of each side; DUET_*_IP4 and DUET_*_IP6 name each family's
# addresses whichever is configured. IPv6 stays off in the relay namespace (duetd's
# af_packet ports answer neighbour discovery there, nothing else may) and in
# a client namespace without IPv6; a client namespace with IPv6 takes no
# router advertisement, sends no router solicitation, autoconfigures nothing
# and skips duplicate address detection, so only neighbour discovery for
# the relay's address and the kernel's MLD reports (duetd counts those as
# drop_icmp_other) reach duetd besides the tests' own packets. An endpoint
# or a socket address of IPv6 is written [ADDR]:PORT (duet_hostport).
#
# Tests print TAP (ok / not ok lines, plan at the end); meson runs them with
# protocol 'tap'. Environment: DUET_BUILD_ROOT (meson build dir, for the
# binaries), DUETD, DUETCTL and DUET_CALLER (explicit binaries), DUET_KEEP=1
# (keep the temp dir with logs), DUET_EAL_MEM (EAL memory options, default
# "--no-huge -m 512").

DUET_SRC_ROOT=${DUET_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DUET_INTEG_DIR=$DUET_SRC_ROOT/tests/integration
DUET_LAB_DIR=$DUET_SRC_ROOT/tools/lab
DUET_BUILD_ROOT=${DUET_BUILD_ROOT:-$DUET_SRC_ROOT/build}
DUETD=${DUETD:-$DUET_BUILD_ROOT/app/duetd/duetd}
DUETCTL=${DUETCTL:-$DUET_BUILD_ROOT/app/duetctl/duetctl}
DUET_CALLER=${DUET_CALLER:-$DUET_BUILD_ROOT/app/duet-caller/duet-caller}
DUET_UDP_PEER=$DUET_LAB_DIR/udp_peer.py
DUET_EAL_MEM=${DUET_EAL_MEM:---no-huge -m 512}
# DUET_DETACH=1 starts redis-server, duetd and the clients each in a
# session of their own (setsid), out of the caller's process group: a
# terminal's Ctrl-C then reaches only the script, which stops them itself
# (tools/demo.sh). Tests leave it unset, so a test runner that kills the
# test's process group kills everything it started.
DUET_DETACH=${DUET_DETACH:-}

# Addresses of the topology (documentation ranges only), both families;
# DUET_FAMILY (above) picks which ones a side has.
DUET_RELAY_IP4_A=192.0.2.1
DUET_RELAY_IP4_B=198.51.100.1
DUET_A_IP4=192.0.2.10
DUET_A_IP4_2=192.0.2.11
DUET_B_IP4=198.51.100.10
DUET_B_IP4_2=198.51.100.11
DUET_RELAY_IP6_A=2001:db8:a::1
DUET_RELAY_IP6_B=2001:db8:b::1
DUET_A_IP6=2001:db8:a::10
DUET_A_IP6_2=2001:db8:a::11
DUET_B_IP6=2001:db8:b::10
DUET_B_IP6_2=2001:db8:b::11
DUET_FAMILY=${DUET_FAMILY:-4}
# DUET_FAMILY_A / DUET_FAMILY_B: "4", "6" or "46" (dual stack) per side.
case $DUET_FAMILY in
4) DUET_FAMILY_A=4 DUET_FAMILY_B=4 ;;
6) DUET_FAMILY_A=6 DUET_FAMILY_B=6 ;;
46) DUET_FAMILY_A=4 DUET_FAMILY_B=6 ;;
dual) DUET_FAMILY_A=46 DUET_FAMILY_B=46 ;;
*)
	printf 'lib.sh: DUET_FAMILY=%s is not 4, 6, 46 or dual\n' "$DUET_FAMILY" >&2
	exit 2
	;;
esac
if [[ $DUET_FAMILY_A == 6 ]]; then
	DUET_RELAY_IP_A=$DUET_RELAY_IP6_A DUET_A_IP=$DUET_A_IP6 DUET_A_IP2=$DUET_A_IP6_2
else
	DUET_RELAY_IP_A=$DUET_RELAY_IP4_A DUET_A_IP=$DUET_A_IP4 DUET_A_IP2=$DUET_A_IP4_2
fi
if [[ $DUET_FAMILY_B == 6 ]]; then
	DUET_RELAY_IP_B=$DUET_RELAY_IP6_B DUET_B_IP=$DUET_B_IP6 DUET_B_IP2=$DUET_B_IP6_2
else
	DUET_RELAY_IP_B=$DUET_RELAY_IP4_B DUET_B_IP=$DUET_B_IP4 DUET_B_IP2=$DUET_B_IP4_2
fi
DUET_PORT_MIN=20000
DUET_PORT_MAX=20099

# Filled in by duet_topo_up and friends.
DUET_P=
DUET_TMP=
NS_R='' NS_A='' NS_B=''
IF_R0='' IF_R1='' IF_A='' IF_B=''
DUET_NETNS=()
DUET_BG_PIDS=()
declare -A DUET_BG=()
DUET_REDIS_PID=
DUET_REDIS_SOCK=
DUET_REDIS_DIR=
DUETD_PID=
DUETD_LOG=
DUET_CONF=
DUET_STATS_MS=200
RELAY_ID=

# ---------------------------------------------------------------------------
# TAP reporting. Checks keep going after a failure so one run shows every
# broken behaviour; duet_require stops the test when nothing after it could
# mean anything.

DUET_TAP=${DUET_TAP:-1}
DUET_T_N=0
DUET_T_FAIL=0

duet_diag() {
	local line
	while IFS= read -r line; do
		if [[ $DUET_TAP == 1 ]]; then printf '# %s\n' "$line"; else printf '%s\n' "$line" >&2; fi
	done <<<"$*"
}

duet_ok() {
	DUET_T_N=$((DUET_T_N + 1))
	printf 'ok %d - %s\n' "$DUET_T_N" "$1"
}

# duet_not_ok DESC [DIAGNOSTIC...]
duet_not_ok() {
	DUET_T_N=$((DUET_T_N + 1))
	DUET_T_FAIL=$((DUET_T_FAIL + 1))
	printf 'not ok %d - %s\n' "$DUET_T_N" "$1"
	shift
	[[ $# -gt 0 ]] && duet_diag "$*"
	return 0
}

# duet_check DESC CMD...: pass when CMD exits 0.
duet_check() {
	local desc=$1
	shift
	if "$@"; then duet_ok "$desc"; return 0; fi
	duet_not_ok "$desc" "command failed: $*"
	return 1
}

# duet_check_eq DESC EXPECTED GOT
duet_check_eq() {
	if [[ "$2" == "$3" ]]; then duet_ok "$1"; return 0; fi
	duet_not_ok "$1" "expected '$2', got '$3'"
	return 1
}

# duet_check_ge DESC MIN GOT (integers; an empty GOT fails)
duet_check_ge() {
	if [[ "$3" =~ ^-?[0-9]+$ ]] && (($3 >= $2)); then duet_ok "$1"; return 0; fi
	duet_not_ok "$1" "expected >= $2, got '$3'"
	return 1
}

# duet_check_match DESC REGEX GOT
duet_check_match() {
	if [[ "$3" =~ $2 ]]; then duet_ok "$1"; return 0; fi
	duet_not_ok "$1" "expected to match /$2/, got '$3'"
	return 1
}

# duet_check_report DESC NAME EXPR: pass when the Python expression EXPR
# over the JSON report j ($DUET_TMP/NAME.json, or a path) is true. The
# module json is at hand, to compare with a second report.
duet_check_report() {
	local desc=$1 f=$2 expr=$3 out
	[[ -f $f ]] || f=$DUET_TMP/$2.json
	if out=$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2], {"json": json, "j": j}) else 1)
' "$f" "$expr" 2>&1); then
		duet_ok "$desc"
		return 0
	fi
	duet_not_ok "$desc" "false over $f: $expr${out:+$'\n'$out}"
	return 1
}

# duet_require DESC CMD...: like duet_check, but the test stops on failure.
duet_require() {
	duet_check "$@" || duet_bail "required step failed: $1"
}

duet_bail() {
	if [[ $DUET_TAP == 1 ]]; then
		printf 'Bail out! %s\n' "$*"
	else
		printf 'error: %s\n' "$*" >&2
	fi
	DUET_T_FAIL=$((DUET_T_FAIL + 1))
	exit 1
}

# ---------------------------------------------------------------------------
# Setup and teardown.

# duet_init: check the environment, make the temp dir, install the traps.
# Every test and the demo calls this first.
duet_init() {
	trap duet_on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	[[ $(id -u) == 0 ]] || duet_bail "needs root (network namespaces, veth); run the tests as root"
	local tool
	for tool in ip redis-server redis-cli python3; do
		command -v "$tool" >/dev/null || duet_bail "needs $tool (bash tools/install-deps.sh installs it)"
	done
	command -v ethtool >/dev/null || duet_bail "needs ethtool (bash tools/install-deps.sh installs it)"
	DUET_TMP=$(mktemp -d /tmp/duet-it.XXXXXX) || duet_bail "cannot make a temp dir"
}

# duet_need_bins [duetd] [duetctl] [duet-caller]: the binaries under test
# must exist.
duet_need_bins() {
	local b
	for b in "$@"; do
		case $b in
		duetd) [[ -x $DUETD ]] || duet_bail "duetd not built: $DUETD (set DUET_BUILD_ROOT or DUETD)" ;;
		duetctl) [[ -x $DUETCTL ]] || duet_bail "duetctl not built: $DUETCTL (set DUET_BUILD_ROOT or DUETCTL)" ;;
		duet-caller) [[ -x $DUET_CALLER ]] ||
			duet_bail "duet-caller not built: $DUET_CALLER (set DUET_BUILD_ROOT or DUET_CALLER)" ;;
		esac
	done
}

duet_on_exit() {
	local rc=$?
	trap - EXIT INT TERM
	duet_teardown
	[[ $DUET_TAP == 1 ]] && printf '1..%d\n' "$DUET_T_N"
	if ((DUET_T_FAIL > 0)); then
		exit 1
	fi
	exit "$rc"
}

# duet_kill_pid PID [GRACE_SECONDS]: SIGTERM, then SIGKILL after the grace
# time. Only ever our own children, by PID. Prints the exit status.
duet_kill_pid() {
	local pid=$1 grace=${2:-3} i rc
	[[ -n $pid ]] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < grace * 10; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	echo "$rc"
}

duet_teardown() {
	local pid ns failed=$DUET_T_FAIL
	for pid in "${DUET_BG_PIDS[@]}"; do
		duet_kill_pid "$pid" 2 >/dev/null
	done
	DUET_BG_PIDS=()
	if [[ -n $DUETD_PID ]]; then
		duet_kill_pid "$DUETD_PID" 10 >/dev/null
		DUETD_PID=
	fi
	if [[ -n $DUET_REDIS_PID ]]; then
		duet_kill_pid "$DUET_REDIS_PID" 5 >/dev/null
		DUET_REDIS_PID=
	fi
	for ns in "${DUET_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	DUET_NETNS=()
	# duet-P is duetd's; duet-P-* are more DPDK processes of the test.
	[[ -n $DUET_P ]] && rm -rf "/var/run/dpdk/duet-$DUET_P" "/var/run/dpdk/duet-$DUET_P"-*
	if [[ -n $DUET_TMP && -d $DUET_TMP ]]; then
		if ((failed > 0)) && [[ -n $DUETD_LOG && -s $DUETD_LOG ]]; then
			duet_diag "last lines of duetd's log ($DUETD_LOG):"
			duet_diag "$(tail -n 60 "$DUETD_LOG")"
		fi
		if [[ ${DUET_KEEP:-0} == 1 ]]; then
			duet_diag "kept $DUET_TMP"
		else
			rm -rf "$DUET_TMP"
		fi
	fi
}

# duet_prefix_pick: set DUET_P to a short prefix that no namespace on the
# host starts with yet, so runs can go side by side.
duet_prefix_pick() {
	local i
	for ((i = 0; i < 50; i++)); do
		DUET_P=$(printf 'd%04x' $(((RANDOM ^ ($$ << 3) ^ (i << 11)) & 0xffff)))
		ip netns list | grep -q "^$DUET_P-" || break
	done
}

# duet_netns_add NS...: namespaces with lo up, deleted by the EXIT trap.
# IPv6 is off before any veth exists, so no link-local address, router
# solicitation or MLD report ever reaches duetd or a client.
duet_netns_add() {
	local ns
	for ns in "$@"; do
		ip netns add "$ns" || duet_bail "cannot create netns $ns"
		DUET_NETNS+=("$ns")
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	done
}

# duet_netns_ipv6_on NS: IPv6 back on in a client namespace (before its
# veth exists, so the veth takes these defaults), for addresses the test
# adds itself: no router advertisement taken, no router solicitation sent,
# no autoconfigured address, no duplicate address detection. The kernel
# still makes its fe80:: address and sends MLD reports for the groups it
# joins.
duet_netns_ipv6_on() {
	local c
	for c in all default; do
		ip netns exec "$1" sysctl -q -w "net.ipv6.conf.$c.disable_ipv6=0" \
			"net.ipv6.conf.$c.accept_ra=0" "net.ipv6.conf.$c.autoconf=0" \
			"net.ipv6.conf.$c.router_solicitations=0" "net.ipv6.conf.$c.accept_dad=0" \
			>/dev/null || duet_bail "cannot turn IPv6 on in netns $1"
	done
}

# duet_veth_add IF1 NS1 IF2 NS2: a veth pair, IF1 in NS1 and IF2 in NS2
# (both down, no address).
duet_veth_add() {
	ip link add "$1" netns "$2" type veth peer name "$3" netns "$4" ||
		duet_bail "cannot create veth $1/$3"
}

# duet_side_ip SIDE FAMILY [2] / duet_side_relay_ip SIDE FAMILY: side a's
# or b's client address (its second with 2) or relay address of a family.
# The side's main family takes DUET_A_IP, DUET_A_IP2, DUET_RELAY_IP_A (and
# B's), which a script may set after sourcing this file.
duet_side_ip() {
	local s=${1^^} fam=DUET_FAMILY_${1^^} main=DUET_${1^^}_IP${3:-} v
	[[ ${3:-} == 2 ]] && main=DUET_${s}_IP2
	if [[ $2 == 4 && ${!fam} != 6 ]] || [[ $2 == 6 && ${!fam} == 6 ]]; then
		echo "${!main}"
		return
	fi
	v=DUET_${s}_IP$2${3:+_$3}
	echo "${!v}"
}
duet_side_relay_ip() {
	local s=${1^^} fam=DUET_FAMILY_${1^^} main=DUET_RELAY_IP_${1^^} v
	if [[ $2 == 4 && ${!fam} != 6 ]] || [[ $2 == 6 && ${!fam} == 6 ]]; then
		echo "${!main}"
		return
	fi
	v=DUET_RELAY_IP$2_$s
	echo "${!v}"
}

# duet_topo_up: namespaces, veths and addresses. Sets DUET_P, NS_*, IF_*.
duet_topo_up() {
	duet_prefix_pick
	NS_R=$DUET_P-relay NS_A=$DUET_P-a NS_B=$DUET_P-b
	IF_R0=${DUET_P}r0 IF_R1=${DUET_P}r1 IF_A=${DUET_P}a0 IF_B=${DUET_P}b0
	RELAY_ID=${RELAY_ID:-it_$DUET_P}
	duet_netns_add "$NS_R" "$NS_A" "$NS_B"
	[[ $DUET_FAMILY_A == *6* ]] && duet_netns_ipv6_on "$NS_A"
	[[ $DUET_FAMILY_B == *6* ]] && duet_netns_ipv6_on "$NS_B"
	duet_veth_add "$IF_R0" "$NS_R" "$IF_A" "$NS_A"
	duet_veth_add "$IF_R1" "$NS_R" "$IF_B" "$NS_B"
	# A side's main address is DUET_A_IP / DUET_B_IP (a script may have
	# set its own after sourcing this file); a dual side adds the other
	# family's.
	if [[ $DUET_FAMILY_A == *4* ]]; then
		ip -n "$NS_A" addr add "$(duet_side_ip a 4)/24" dev "$IF_A"
		ip -n "$NS_A" addr add "$(duet_side_ip a 4 2)/24" dev "$IF_A"
	fi
	if [[ $DUET_FAMILY_B == *4* ]]; then
		ip -n "$NS_B" addr add "$(duet_side_ip b 4)/24" dev "$IF_B"
		ip -n "$NS_B" addr add "$(duet_side_ip b 4 2)/24" dev "$IF_B"
	fi
	if [[ $DUET_FAMILY_A == *6* ]]; then
		ip -n "$NS_A" -6 addr add "$(duet_side_ip a 6)/64" dev "$IF_A" nodad
		ip -n "$NS_A" -6 addr add "$(duet_side_ip a 6 2)/64" dev "$IF_A" nodad
	fi
	if [[ $DUET_FAMILY_B == *6* ]]; then
		ip -n "$NS_B" -6 addr add "$(duet_side_ip b 6)/64" dev "$IF_B" nodad
		ip -n "$NS_B" -6 addr add "$(duet_side_ip b 6 2)/64" dev "$IF_B" nodad
	fi
	# A kernel UDP socket on a veth leaves the checksum for an offload
	# that never happens (CHECKSUM_PARTIAL); af_packet would hand duetd
	# the unfinished sum. Checksum in software instead.
	ip netns exec "$NS_A" ethtool -K "$IF_A" tx off >/dev/null 2>&1 ||
		duet_bail "ethtool -K $IF_A tx off failed"
	ip netns exec "$NS_B" ethtool -K "$IF_B" tx off >/dev/null 2>&1 ||
		duet_bail "ethtool -K $IF_B tx off failed"
	ip -n "$NS_R" link set "$IF_R0" up
	ip -n "$NS_R" link set "$IF_R1" up
	ip -n "$NS_A" link set "$IF_A" up
	ip -n "$NS_B" link set "$IF_B" up
}

# ---------------------------------------------------------------------------
# Redis (private server on a unix socket in the temp dir, root netns; unix
# sockets work across network namespaces).

rcli() {
	redis-cli -s "$DUET_REDIS_SOCK" "$@"
}

duet_key() {
	printf 'duet:{%s}:%s' "$RELAY_ID" "$1"
}

# duet_redis_start [DATA_DIR]: AOF on and fsync'ed on every write, so a
# SIGKILL loses nothing that was acknowledged.
duet_redis_start() {
	DUET_REDIS_DIR=${1:-$DUET_TMP/redis}
	DUET_REDIS_SOCK=$DUET_TMP/redis.sock
	mkdir -p "$DUET_REDIS_DIR"
	rm -f "$DUET_REDIS_SOCK"
	${DUET_DETACH:+setsid} redis-server --port 0 --unixsocket "$DUET_REDIS_SOCK" --unixsocketperm 700 \
		--dir "$DUET_REDIS_DIR" --appendonly yes --appendfsync always --save '' \
		--logfile "$DUET_TMP/redis.log" --daemonize no &
	DUET_REDIS_PID=$!
	duet_wait 10 duet_redis_up || duet_bail "redis-server did not start (see $DUET_TMP/redis.log)"
}

duet_redis_up() {
	[[ -S $DUET_REDIS_SOCK ]] && [[ $(rcli PING 2>/dev/null) == PONG ]]
}

# duet_redis_kill: SIGKILL, as a crash would.
duet_redis_kill() {
	[[ -n $DUET_REDIS_PID ]] || return 0
	kill -KILL "$DUET_REDIS_PID" 2>/dev/null
	wait "$DUET_REDIS_PID" 2>/dev/null
	DUET_REDIS_PID=
}

# ---------------------------------------------------------------------------
# duetd.

# duet_conf_write [key=value ...]: duetd's config for this topology; the
# arguments override [relay] keys (idle_timeout_ms, relatch_silence_ms, ...)
# or, as port0.KEY=value / port1.KEY=value, add keys to a [port] section
# (port0.gateway=192.0.2.10), as media.KEY=value to [media] (media.ttl=50)
# and as security.KEY=value to [security] (security.max_pps=1000); likewise
# redis.KEY, metrics.KEY, log.KEY, privacy.KEY and srtp.KEY
# (metrics.listen=off). [srtp] engine is DUET_SRTP_ENGINE's unless given.
duet_conf_write() {
	local -A relay=(
		[id]=$RELAY_ID [workers]=$(duet_worker_list) [max_pairs]=1024 [idle_timeout_ms]=60000
		[relatch_silence_ms]=1000 [stats_interval_ms]=$DUET_STATS_MS
		[heartbeat_ttl_ms]=3000 [idle_poll_us]=20
	)
	local kv k port0='' port1='' media='' security='' redis='' sec
	local -A extra=()
	for kv in "$@"; do
		case $kv in
		redis.*) kv=${kv#redis.}; redis+="${kv%%=*} = ${kv#*=}"$'\n' ;;
		metrics.* | log.* | privacy.* | srtp.*)
			sec=${kv%%.*} kv=${kv#*.}
			extra[$sec]+="${kv%%=*} = ${kv#*=}"$'\n' ;;
		port0.*) kv=${kv#port0.}; port0+="${kv%%=*} = ${kv#*=}"$'\n' ;;
		port1.*) kv=${kv#port1.}; port1+="${kv%%=*} = ${kv#*=}"$'\n' ;;
		media.*) kv=${kv#media.}; media+="${kv%%=*} = ${kv#*=}"$'\n' ;;
		security.*) kv=${kv#security.}; security+="${kv%%=*} = ${kv#*=}"$'\n' ;;
		*) relay[${kv%%=*}]=${kv#*=} ;;
		esac
	done
	if [[ -n $DUET_SRTP_ENGINE && ${extra[srtp]:-} != *engine* ]]; then
		extra[srtp]+="engine = $DUET_SRTP_ENGINE"$'\n'
	fi
	DUET_STATS_MS=${relay[stats_interval_ms]}
	DUET_CONF=$DUET_TMP/duetd.conf
	{
		echo "; written by tools/lab/lib.sh"
		echo "[relay]"
		for k in id workers max_pairs idle_timeout_ms relatch_silence_ms \
			stats_interval_ms heartbeat_ttl_ms idle_poll_us; do
			echo "$k = ${relay[$k]}"
		done
		for k in "${!relay[@]}"; do
			case " id workers max_pairs idle_timeout_ms relatch_silence_ms stats_interval_ms heartbeat_ttl_ms idle_poll_us " in
			*" $k "*) ;;
			*) echo "$k = ${relay[$k]}" ;;
			esac
		done
		echo "[media]"
		echo "port_min = $DUET_PORT_MIN"
		echo "port_max = $DUET_PORT_MAX"
		printf '%s' "$media"
		if [[ -n $security ]]; then
			echo "[security]"
			printf '%s' "$security"
		fi
		echo "[redis]"
		echo "address = unix:$DUET_REDIS_SOCK"
		echo "connect_timeout_ms = 500"
		printf '%s' "$redis"
		for sec in "${!extra[@]}"; do
			echo "[$sec]"
			printf '%s' "${extra[$sec]}"
		done
		echo "[port net_af_packet0]"
		echo "addresses = $(duet_port_addresses a)"
		printf '%s' "$port0"
		echo "[port net_af_packet1]"
		echo "addresses = $(duet_port_addresses b)"
		printf '%s' "$port1"
	} >"$DUET_CONF"
}

# duet_port_addresses a|b: the service addresses of port 0 (facing A) or
# port 1 (facing B) for DUET_FAMILY.
duet_port_addresses() {
	local fam v4 v6
	v4=$(duet_side_relay_ip "$1" 4) v6=$(duet_side_relay_ip "$1" 6)
	if [[ $1 == a ]]; then
		fam=$DUET_FAMILY_A
	else
		fam=$DUET_FAMILY_B
	fi
	case $fam in
	4) echo "$v4" ;;
	6) echo "$v6" ;;
	*) echo "$v4, $v6" ;;
	esac
}

# DUET_WORKERS=N (default 1) runs duetd with N worker lcores: EAL's
# --lcores maps them, with the control thread, round-robin onto CPUs 0 and
# 1 (so 4 workers share the 2 CPUs of a small machine), each af_packet port
# gets N queue pairs (the kernel's fanout hash spreads flows over them, as
# RSS does on a NIC), and the config lists workers 1-N.
DUET_WORKERS=${DUET_WORKERS:-1}
duet_worker_list() {
	if ((DUET_WORKERS == 1)); then echo 1; else echo "1-$DUET_WORKERS"; fi
}
duet_eal_lcores() {
	local i map=0@0
	if ((DUET_WORKERS == 1)); then
		echo "-l 0,1"
		return
	fi
	for ((i = 1; i <= DUET_WORKERS; i++)); do
		map+=",$i@$((i % 2))"
	done
	echo "--lcores $map"
}
duet_qpairs() {
	((DUET_WORKERS == 1)) || echo ",qpairs=$DUET_WORKERS"
}

# DUET_SRTP_ENGINE=burst|libsrtp2 (default burst): [srtp] engine of every
# config duet_conf_write makes (empty: leave it to duetd's default).
DUET_SRTP_ENGINE=${DUET_SRTP_ENGINE-burst}

# DUET_AF_PACKET=OPTS (default empty: the PMD's 512-frame rings) adds
# options to both net_af_packet vdevs, e.g. framecnt=4096: a worker lcore
# that shares its core with the test's senders is descheduled for longer
# than 512 frames last at a flood's rate, and the kernel then drops frames
# duetd never sees (a real NIC has its own ring and the worker its own core).
DUET_AF_PACKET=${DUET_AF_PACKET:-}
# DUET_EAL_EXTRA: more EAL options for duetd (e.g. --log-level=duet.sync:debug).
DUET_EAL_EXTRA=${DUET_EAL_EXTRA:-}
duet_vdev_opts() {
	echo "$(duet_qpairs)${DUET_AF_PACKET:+,$DUET_AF_PACKET}"
}

# duetd_start [duetd args after -c CONF]: start duetd in the relay netns
# and wait until it has published its heartbeat and answers ARP on both
# ports. Returns 1 (with the log tail) if it did not come up.
duetd_start() {
	local before
	DUETD_LOG=$DUET_TMP/duetd.log
	before=$(rcli HGET "$(duet_key relay)" started_ms 2>/dev/null)
	echo "=== duetd start $(date +%T.%N)" >>"$DUETD_LOG"
	# glibc's per-thread malloc cache off for duetd: mallinfo2() counts the
	# chunks it keeps after free() as in use, so mem_heap_bytes crept up
	# under churn by up to ~235 kB a thread with nothing leaked (docs/soak.md).
	# shellcheck disable=SC2086,SC2046 # DUET_EAL_MEM and the lcore map are lists of options
	${DUET_DETACH:+setsid} env GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.malloc.tcache_count=0" \
		ip netns exec "$NS_R" "$DUETD" $(duet_eal_lcores) $DUET_EAL_MEM --no-pci \
		--file-prefix "duet-$DUET_P" $DUET_EAL_EXTRA \
		--vdev "net_af_packet0,iface=$IF_R0$(duet_vdev_opts)" \
		--vdev "net_af_packet1,iface=$IF_R1$(duet_vdev_opts)" \
		-- -c "$DUET_CONF" "$@" >>"$DUETD_LOG" 2>&1 &
	DUETD_PID=$!
	if ! duet_wait 30 duetd_published "$before"; then
		duet_diag "duetd did not publish its relay hash within 30 s; log:"
		duet_diag "$(tail -n 40 "$DUETD_LOG")"
		return 1
	fi
	duet_wait 10 duet_ping_quiet "$NS_A" "$DUET_A_IP" "$DUET_RELAY_IP_A" ||
		duet_diag "warning: duetd does not answer ping on $DUET_RELAY_IP_A yet"
	duet_wait 10 duet_ping_quiet "$NS_B" "$DUET_B_IP" "$DUET_RELAY_IP_B" ||
		duet_diag "warning: duetd does not answer ping on $DUET_RELAY_IP_B yet"
	if [[ $DUET_FAMILY == dual ]]; then
		duet_wait 10 duet_ping_quiet "$NS_A" "$DUET_A_IP6" "$DUET_RELAY_IP6_A" ||
			duet_diag "warning: duetd does not answer ping on $DUET_RELAY_IP6_A yet"
		duet_wait 10 duet_ping_quiet "$NS_B" "$DUET_B_IP6" "$DUET_RELAY_IP6_B" ||
			duet_diag "warning: duetd does not answer ping on $DUET_RELAY_IP6_B yet"
	fi
	return 0
}

duetd_published() {
	local now
	kill -0 "$DUETD_PID" 2>/dev/null || return 2
	now=$(rcli HGET "$(duet_key relay)" started_ms 2>/dev/null)
	[[ -n $now && $now != "$1" ]]
}

duetd_alive() {
	[[ -n $DUETD_PID ]] && kill -0 "$DUETD_PID" 2>/dev/null
}

# duetd_stop [SIGNAL]: stop duetd; DUETD_RC gets its exit status (0 is
# expected), or "hung" if it did not exit within 15 s (then it is killed).
# Not in a $(...) subshell: only this shell can wait for duetd.
DUETD_RC=
duetd_stop() {
	local sig=${1:-TERM} i
	DUETD_RC=none
	[[ -n $DUETD_PID ]] || return 0
	kill -"$sig" "$DUETD_PID" 2>/dev/null
	for ((i = 0; i < 150; i++)); do
		kill -0 "$DUETD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$DUETD_PID" 2>/dev/null; then
		kill -KILL "$DUETD_PID" 2>/dev/null
		wait "$DUETD_PID" 2>/dev/null
		DUETD_PID=
		DUETD_RC=hung
		return 0
	fi
	wait "$DUETD_PID" 2>/dev/null
	DUETD_RC=$?
	DUETD_PID=
	echo "=== duetd exited $DUETD_RC after SIG$sig" >>"$DUETD_LOG"
}

# duet_check_stop [SIGNAL]: stop duetd and check that it exited 0.
duet_check_stop() {
	local sig=${1:-TERM}
	duetd_stop "$sig"
	duet_check_eq "duetd exits 0 on SIG$sig" 0 "$DUETD_RC"
}

# duet_start_all [key=value ...]: the usual test start: topology, Redis,
# config (with the overrides), duetd. Stops the test if any part fails.
duet_start_all() {
	duet_need_bins duetd
	duet_topo_up
	duet_redis_start
	duet_conf_write "$@"
	duetd_start || duet_bail "duetd did not start"
}

# ---------------------------------------------------------------------------
# Pairs, written the way a control plane does: hash first, then the event.

# duet_pair_create ID [duetctl create options ...]: the control plane's way:
# `duetctl create` (pair_create.lua) takes leg a's endpoint on port 0's
# service address and leg b's on port 1's. Sets PAIR_A and PAIR_B to the
# endpoints it got. Stops the test if duetctl fails.
PAIR_A='' PAIR_B=''
duet_pair_create() {
	local id=$1 out
	shift
	duet_need_bins duetctl
	out=$(duet_ctl --json create --id "$id" --a-ip "$DUET_RELAY_IP_A" \
		--b-ip "$DUET_RELAY_IP_B" "$@") || duet_bail "duetctl create $id failed: $out"
	PAIR_A=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["a"])' "$out")
	PAIR_B=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["b"])' "$out")
	[[ $(duet_ep_ip "$PAIR_A") == "$DUET_RELAY_IP_A" && $(duet_ep_ip "$PAIR_B") == "$DUET_RELAY_IP_B" ]] ||
		duet_bail "duetctl create $id: endpoints $PAIR_A $PAIR_B are not on the asked addresses"
}

# duet_pair_put ID A_EP B_EP [FIELD VALUE ...]: a valid passthrough pair on
# chosen endpoints, written by hand the way pair_create.lua would (minus
# the random choice). For tests that need a given endpoint: taken ones,
# records written while duetd is down or Redis is being restarted.
duet_pair_put() {
	local id=$1 a=$2 b=$3
	shift 3
	rcli SREM "$(duet_key free)" "$a" "$b" >/dev/null
	rcli HSET "$(duet_key alloc)" "$a" "$id" "$b" "$id" >/dev/null
	rcli DEL "$(duet_key "pair:$id")" >/dev/null
	rcli HSET "$(duet_key "pair:$id")" a "$a" b "$b" mode passthrough "$@" >/dev/null
	duet_event put "$id"
}

# duet_pair_raw ID FIELD VALUE ...: any hash, valid or not, plus its event;
# touches neither free nor alloc.
duet_pair_raw() {
	local id=$1
	shift
	rcli DEL "$(duet_key "pair:$id")" >/dev/null
	rcli HSET "$(duet_key "pair:$id")" "$@" >/dev/null
	duet_event put "$id"
}

# duet_pair_rm ID: what pair_delete.lua does.
duet_pair_rm() {
	local id=$1 key ep
	key=$(duet_key "pair:$id")
	for ep in $(rcli HMGET "$key" a b); do
		if [[ $(rcli HGET "$(duet_key alloc)" "$ep") == "$id" ]]; then
			rcli HDEL "$(duet_key alloc)" "$ep" >/dev/null
			rcli SADD "$(duet_key free)" "$ep" >/dev/null
		fi
	done
	rcli DEL "$key" >/dev/null
	duet_event del "$id"
}

duet_event() {
	rcli XADD "$(duet_key events)" MAXLEN '~' 10000 '*' op "$1" id "$2" >/dev/null
}

# duet_ep SIDE PORT: relay endpoint on port 0 (a) or port 1 (b), on the
# side's address of DUET_FAMILY (dual: IPv4); duet_ep6 SIDE PORT: on the
# side's IPv6 address.
duet_ep() {
	if [[ $1 == a ]]; then duet_hostport "$DUET_RELAY_IP_A" "$2"; else duet_hostport "$DUET_RELAY_IP_B" "$2"; fi
}
duet_ep6() {
	if [[ $1 == a ]]; then duet_hostport "$DUET_RELAY_IP6_A" "$2"; else duet_hostport "$DUET_RELAY_IP6_B" "$2"; fi
}

# duet_hostport IP PORT: an endpoint as duetd writes it: 192.0.2.1:20000,
# [2001:db8:a::1]:20000.
duet_hostport() {
	if [[ $1 == *:* ]]; then echo "[$1]:$2"; else echo "$1:$2"; fi
}

# duet_ep_ip EP / duet_ep_port EP: the address (no brackets) and the port
# of an endpoint.
duet_ep_ip() {
	local h=${1%:*}
	h=${h#[}
	echo "${h%]}"
}
duet_ep_port() {
	echo "${1##*:}"
}

# duet_ctl ARGS...: duetctl against this run's Redis and relay.
duet_ctl() {
	"$DUETCTL" --redis "unix:$DUET_REDIS_SOCK" --relay "$RELAY_ID" "$@"
}

# ---------------------------------------------------------------------------
# Reading duetd's output back.

# duet_stat ID FIELD: a field of duet:{R}:stats:<id>.
duet_stat() {
	rcli HGET "$(duet_key "stats:$1")" "$2" 2>/dev/null
}

# duet_check_srtp_engine: the running duetd uses the SRTP implementation
# DUET_SRTP_ENGINE asked for (what the relay hash's srtp_engine says).
duet_check_srtp_engine() {
	duet_check_eq "duetd's SRTP engine is ${DUET_SRTP_ENGINE:-the default}" \
		"${DUET_SRTP_ENGINE:-burst}" "$(duet_relay_stat srtp_engine)"
}

# duet_check_srtp_batches: with the burst engine, keyed packets went
# through the workers' SRTP batches; with libsrtp2 none did.
duet_check_srtp_batches() {
	local b p
	if [[ ${DUET_SRTP_ENGINE:-burst} == burst ]]; then
		duet_wait 5 duet_relay_stat_ge srtp_batched_pkts 1 || true
		b=$(duet_relay_stat srtp_batches) p=$(duet_relay_stat srtp_batched_pkts)
		duet_check_ge "burst engine: keyed packets went through SRTP batches ($p in $b)" 1 "$p"
	else
		b=$(duet_relay_stat srtp_batches) p=$(duet_relay_stat srtp_batched_pkts)
		duet_check_eq "libsrtp2: no SRTP batch" "0 0" "$b $p"
	fi
}

# duet_relay_stat_ge FIELD MIN: the relay hash's FIELD is at least MIN.
duet_relay_stat_ge() { local v; v=$(duet_relay_stat "$1"); [[ $v =~ ^[0-9]+$ ]] && ((v >= $2)); }

# duet_relay_stat FIELD: a field of duet:{R}:relay.
duet_relay_stat() {
	rcli HGET "$(duet_key relay)" "$1" 2>/dev/null
}

# duet_ended ID FIELD: FIELD of the last duet:{R}:ended entry for pair ID
# (empty if there is none).
duet_ended() {
	rcli --json XRANGE "$(duet_key ended)" - + 2>/dev/null | python3 -c '
import json, sys
want, field = sys.argv[1], sys.argv[2]
try:
    entries = json.load(sys.stdin) or []
except ValueError:
    entries = []
found = ""
for entry in entries:
    fields = entry[1]
    if isinstance(fields, list):
        fields = dict(zip(fields[::2], fields[1::2]))
    if fields.get("id") == want:
        found = fields.get(field, "")
print(found)
' "$1" "$2"
}

# duet_quiet CMD...: CMD with its standard output sent to standard error,
# out of the TAP stream.
duet_quiet() {
	"$@" >&2
}

# duet_wait SECONDS CMD...: poll CMD every 0.1 s until it succeeds, for
# SECONDS (whole) counted in microseconds (bash 5's EPOCHREALTIME): bash's
# $SECONDS ticks whole seconds, so `duet_wait 2` with it could give up
# after 1.0 s.
duet_wait() {
	local secs=$1 end
	shift
	end=$((${EPOCHREALTIME/[.,]/} + secs * 1000000))
	while true; do
		"$@" && return 0
		((${EPOCHREALTIME/[.,]/} >= end)) && return 1
		sleep 0.1
	done
}

# Predicates for duet_wait.
duet_stat_is() { [[ $(duet_stat "$1" "$2") == "$3" ]]; }
duet_stat_ge() { local v; v=$(duet_stat "$1" "$2"); [[ $v =~ ^[0-9]+$ ]] && ((v >= $3)); }
duet_relay_ge() { local v; v=$(duet_relay_stat "$1"); [[ $v =~ ^[0-9]+$ ]] && ((v >= $2)); }
duet_ended_is() { [[ $(duet_ended "$1" "$2") == "$3" ]]; }

# duet_settle: return once duetd has finished a whole stats round that
# began after this call, so a counter read now includes everything sent
# before. A round starts with the heartbeat (its updated_ms stamps the
# moment the workers' counters were read) and writes the pairs' hashes
# after it; the next heartbeat comes only once that round is done. So:
# wait for a heartbeat stamped after the call, then for the one after it.
# A fixed sleep is not enough: with Redis fsyncing every write on a slow
# disk a round can take longer than its interval (CI saw it). Gives up
# after 15 s with a diagnostic; the counter checks then say what is off.
duet_relay_updated_after() {
	local v
	v=$(duet_relay_stat updated_ms)
	[[ $v =~ ^[0-9]+$ ]] && ((v > $1))
}
duet_settle() {
	local t0 u1
	t0=$(date +%s%3N)
	sleep "$(awk -v ms="$DUET_STATS_MS" 'BEGIN { printf "%.3f", 2.5 * ms / 1000 }')"
	if ! duet_wait 15 duet_relay_updated_after "$t0"; then
		duet_diag "duet_settle: no heartbeat since $t0 in 15 s"
		return 0
	fi
	u1=$(duet_relay_stat updated_ms)
	duet_wait 15 duet_relay_updated_after "$u1" ||
		duet_diag "duet_settle: no heartbeat after $u1 in 15 s"
}

# ---------------------------------------------------------------------------
# Clients (udp_peer.py inside a namespace).

duet_peer() {
	local ns=$1
	shift
	ip netns exec "$ns" python3 "$DUET_UDP_PEER" "$@"
}

# duet_caller_report NAME: duet-caller's JSON report $DUET_TMP/NAME.json as
# shell variables, in one go (nulls count as 0):
#   R_OUTCOME   one line to compare with DUET_CALLER_GOOD (missing: sent but
#               not received; srtp_fail: every SRTP/SRTCP failure and stray
#               packet of both receivers)
#   R_SENT, R_RECV, R_MISSING, R_AUTH_FAIL, R_RTCP_SENT, R_RTCP_RECV,
#   R_WRAPS, R_KEY2_SENT, R_KEY2_RECV   a->b/b->a
#   R_PKTS_A, R_PKTS_B   RTP + SRTCP each leg sent: what duetd counts
#   R_SUITE, R_SAMPLES   the suite, audio samples compared
DUET_CALLER_GOOD="audio=pass lost=0/0 missing=0/0 srtp_fail=0 dup=0/0"
duet_caller_report() {
	eval "$(python3 - "$DUET_TMP/$1.json" <<'PY'
import json, shlex, sys
names = ("OUTCOME", "SENT", "RECV", "MISSING", "AUTH_FAIL", "PKTS_A", "PKTS_B", "RTCP_SENT",
         "RTCP_RECV", "WRAPS", "KEY2_SENT", "KEY2_RECV", "SUITE", "SAMPLES")
try:
    d = json.load(open(sys.argv[1]))
    ab, ba = ({k: v or 0 for k, v in d[x].items()} for x in ("a_to_b", "b_to_a"))
    fails = sum(x[f] for x in (ab, ba) for f in (
        "srtp_auth_fail", "srtp_replay_fail", "srtp_other_fail", "srtcp_auth_fail",
        "srtcp_replay_fail", "srtcp_other_fail", "bad_rtp", "not_rtp"))
    pair = lambda f: "%d/%d" % (ab[f], ba[f])
    r = {
        "OUTCOME": "audio=%s lost=%s/%s missing=%d/%d srtp_fail=%d dup=%s/%s" % (
            d["audio_check"], ab["lost"], ba["lost"], ab["sent"] - ab["received"],
            ba["sent"] - ba["received"], fails, ab["duplicated"], ba["duplicated"]),
        "SENT": pair("sent"),
        "RECV": pair("received"),
        "MISSING": "%d/%d" % (ab["sent"] - ab["received"], ba["sent"] - ba["received"]),
        "AUTH_FAIL": pair("srtp_auth_fail"),
        "PKTS_A": ab["sent"] + ab["rtcp_sent"],
        "PKTS_B": ba["sent"] + ba["rtcp_sent"],
        "RTCP_SENT": pair("rtcp_sent"),
        "RTCP_RECV": pair("rtcp_received"),
        "WRAPS": pair("seq_cycles"),
        "KEY2_SENT": pair("sent_key2"),
        "KEY2_RECV": pair("received_key2"),
        "SUITE": d["suite"],
        "SAMPLES": d["audio_samples_compared"],
    }
except (OSError, ValueError, KeyError, TypeError) as e:
    r = {k: "<no report: %s>" % e for k in names}
    r.update(PKTS_A=-1, PKTS_B=-1)
for k in names:
    print("R_%s=%s" % (k, shlex.quote(str(r[k]))))
PY
)"
}

# duet_peer_bg NAME NS MODE ARGS...: run udp_peer in the background with
# --json into $DUET_TMP/NAME.json; waits until its socket is bound.
duet_peer_bg() {
	local name=$1 ns=$2 mode=$3
	shift 3
	rm -f "$DUET_TMP/$name.ready" "$DUET_TMP/$name.json"
	${DUET_DETACH:+setsid} ip netns exec "$ns" python3 "$DUET_UDP_PEER" "$mode" --json \
		--ready-file "$DUET_TMP/$name.ready" "$@" >"$DUET_TMP/$name.json" 2>"$DUET_TMP/$name.err" &
	DUET_BG[$name]=$!
	DUET_BG_PIDS+=($!)
	duet_wait 10 test -e "$DUET_TMP/$name.ready" ||
		duet_diag "peer $name not ready: $(cat "$DUET_TMP/$name.err")"
}

# duet_peer_wait NAME: wait for a background peer to finish; its exit status.
duet_peer_wait() {
	local pid=${DUET_BG[$1]}
	wait "$pid"
	local rc=$?
	[[ $rc == 0 ]] || duet_diag "peer $1 exited $rc: $(cat "$DUET_TMP/$1.err")"
	return $rc
}

# duet_json NAME EXPR: evaluate a Python expression over the peer report d
# ($DUET_TMP/NAME.json, or a path).
duet_json() {
	local f=$1
	[[ -f $f ]] || f=$DUET_TMP/$1.json
	python3 -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    print(f"<no report: {e}>")
    sys.exit(1)
v = eval(sys.argv[2], {}, {"d": d})
print(json.dumps(v) if isinstance(v, (dict, list)) else v)
' "$f" "$2"
}

# duet_talk_both NAME A_BIND AEP B_BIND BEP COUNT RATE [talk options]: both
# clients of a pair talk at once, COUNT packets each at RATE, tagged
# NAME-froma / NAME-fromb, each expecting the other's. They start sending
# together (a go file), so neither misses the other's first packets for
# having started late. Reports: NAME-a.json and NAME-b.json.
duet_talk_both() {
	local name=$1 abind=$2 aep=$3 bbind=$4 bep=$5 n=$6 rate=$7
	shift 7
	local go=$DUET_TMP/$name.go
	rm -f "$go"
	duet_peer_bg "$name-b" "$NS_B" talk --bind "$bbind" --to "$bep" --count "$n" --rate "$rate" \
		--tag "$name-fromb" --expect-tag "$name-froma" --go-file "$go" "$@"
	duet_peer_bg "$name-a" "$NS_A" talk --bind "$abind" --to "$aep" --count "$n" --rate "$rate" \
		--tag "$name-froma" --expect-tag "$name-fromb" --go-file "$go" "$@"
	touch "$go"
}

# duet_talk_wait NAME: wait for both clients of duet_talk_both.
duet_talk_wait() {
	duet_peer_wait "$1-a"
	duet_peer_wait "$1-b"
}

# duet_listen NAME NS BIND [recv options]: a client that records everything
# arriving at BIND until duet_listen_end NAME (at most 60 s), so "nothing
# arrived" holds however slowly the senders started. Report: NAME.json.
duet_listen() {
	local name=$1 ns=$2 bind=$3
	shift 3
	rm -f "$DUET_TMP/$name.stop"
	duet_peer_bg "$name" "$ns" recv --bind "$bind" --count 0 --timeout 60 \
		--stop-file "$DUET_TMP/$name.stop" "$@"
}

duet_listen_end() {
	touch "$DUET_TMP/$1.stop"
	duet_peer_wait "$1"
}

# duet_go_file NAME: a fresh go file path for --go-file; duet_go NAME
# starts every peer waiting on it.
duet_go_file() {
	rm -f "$DUET_TMP/$1.go"
	echo "$DUET_TMP/$1.go"
}

duet_go() {
	touch "$DUET_TMP/$1.go"
}

# duet_ping_quiet NS SRC DST: one echo answered within a second.
duet_ping_quiet() {
	duet_peer "$1" ping --bind "$2" --to "$3" --count 1 --wait 1 >/dev/null 2>&1
}

# duet_latch NAME A_BIND A_EP B_BIND B_EP: latch both legs of a pair. A
# sends one packet (leg a latched, dropped peer_unlatched since b is not),
# then B sends one, which must reach A. Afterwards both legs are latched and
# each leg's drop_peer_unlatched is exactly 1 (leg a's).
duet_latch() {
	local name=$1 abind=$2 aep=$3 bbind=$4 bep=$5
	duet_peer_bg "$name-latch" "$NS_A" talk --bind "$abind" --to "$aep" --count 1 \
		--tag latch-a --expect 1 --expect-tag latch-b --linger 5 --timeout 6
	# Leg a is latched once duetd has seen A's packet; stats show it.
	duet_wait 3 duet_stat_is "$name" a_state latched ||
		duet_diag "stats of $name do not show leg a latched; sending from B anyway"
	duet_peer "$NS_B" send --bind "$bbind" --to "$bep" --count 1 --tag latch-b >/dev/null
	duet_peer_wait "$name-latch"
	[[ $(duet_json "$name-latch" 'd["recv"]["matched"]') == 1 ]]
}

# ---------------------------------------------------------------------------
# Packet capture (tshark inside a namespace), for checksum and TTL checks.

# duet_capture_start NAME NS IFACE FILTER COUNT SECONDS: capture in the
# background into $DUET_TMP/NAME.pcap; returns once tshark is capturing.
duet_capture_start() {
	local name=$1 ns=$2 ifc=$3 filter=$4 count=$5 secs=$6
	rm -f "$DUET_TMP/$name.pcap" "$DUET_TMP/$name.tshark"
	ip netns exec "$ns" tshark -q -i "$ifc" -f "$filter" -c "$count" -a "duration:$secs" \
		-w "$DUET_TMP/$name.pcap" 2>"$DUET_TMP/$name.tshark" &
	DUET_BG[$name]=$!
	DUET_BG_PIDS+=($!)
	duet_wait 15 grep -q "Capturing on" "$DUET_TMP/$name.tshark" ||
		duet_diag "tshark $name not capturing: $(cat "$DUET_TMP/$name.tshark")"
}

duet_capture_wait() {
	wait "${DUET_BG[$1]}"
}

# duet_capture_fields NAME: one line per packet, tab separated: ip.src
# udp.srcport ip.dst udp.dstport ip.ttl ip.checksum.status
# udp.checksum.status (status 1 good, 0 bad, 2 not checked).
duet_capture_fields() {
	tshark -r "$DUET_TMP/$1.pcap" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
		-T fields -e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e ip.ttl \
		-e ip.checksum.status -e udp.checksum.status 2>/dev/null
}

# duet_capture_udp NAME [DISPLAY_FILTER]: like duet_capture_fields for
# either family, UDP only: one line per packet, tab separated: source
# address, UDP source port, destination address, UDP destination port,
# TTL or hop limit, udp.checksum.status (1 good, 0 bad, 2 not checked;
# in IPv6 a zero checksum is illegal, and tshark says bad).
duet_capture_udp() {
	tshark -r "$DUET_TMP/$1.pcap" -o udp.check_checksum:TRUE -Y "udp${2:+ && ($2)}" \
		-T fields -E separator=/t -E occurrence=f -e ip.src -e ipv6.src -e udp.srcport \
		-e ip.dst -e ipv6.dst -e udp.dstport -e ip.ttl -e ipv6.hlim -e udp.checksum.status \
		2>/dev/null | awk -F'\t' -v OFS='\t' '{ print $1 $2, $3, $4 $5, $6, $7 $8, $9 }'
}
