# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# abuse_lib.sh: helpers shared by the tests/integration/test_abuse_*.sh
# scripts (issue 8: duetd cannot be turned against anyone). Sourced after
# lib.sh, in the test's own shell. It adds: raw frames from a namespace
# (raw_send.py, for spoofed sources and hand-made headers), the MACs of the
# topology, relay-wide and per-pair counters read as numbers, and a way
# to stop lib.sh's tshark captures on demand and read them back with a
# display filter. (Config keys of issue 8 go through duet_conf_write:
# relatch=any, media.ttl=50, security.denied_peers=...)

DUET_RAW_SEND=$DUET_INTEG_DIR/raw_send.py

abuse_init() {
	command -v tshark >/dev/null || duet_bail "needs tshark (apt-get install tshark)"
}

# abuse_raw NS ARGS...: raw_send.py inside namespace NS; its report (one
# line) goes to standard error, out of the TAP stream. A sender that could
# not send everything it was asked to is a failed check of its own, so a
# later "nothing arrived" cannot pass for want of traffic.
abuse_raw() {
	local ns=$1
	shift
	ip netns exec "$ns" python3 "$DUET_RAW_SEND" "$@" >&2 && return 0
	duet_not_ok "raw_send $1 sent all it was asked to" "raw_send $* failed"
	return 1
}

# abuse_if_mac NS IFACE: the MAC of an interface inside a namespace.
abuse_if_mac() {
	ip netns exec "$1" cat "/sys/class/net/$2/address"
}

# abuse_relay_mac a|b: the MAC of duetd's port facing A (port 0) or B
# (port 1). net_af_packet takes its interface's MAC.
abuse_relay_mac() {
	if [[ $1 == a ]]; then abuse_if_mac "$NS_R" "$IF_R0"; else abuse_if_mac "$NS_R" "$IF_R1"; fi
}

# abuse_ssrc TAG: the RTP SSRC udp_peer.py and raw_send.py put in packets
# tagged TAG.
abuse_ssrc() {
	python3 -c 'import sys, zlib; print(zlib.crc32(sys.argv[1].encode()[:64]))' "$1"
}

# abuse_drop NAME: the relay-wide counter drop_NAME from the heartbeat
# hash; 0 when the field is missing (a reason duetd does not know yet), so
# deltas stay arithmetic and the check that reads them fails with a number.
abuse_drop() {
	local v
	v=$(duet_relay_stat "drop_$1")
	[[ $v =~ ^[0-9]+$ ]] || v=0
	echo "$v"
}

# abuse_stat ID FIELD: a per-pair stats field, 0 when missing.
abuse_stat() {
	local v
	v=$(duet_stat "$1" "$2")
	[[ $v =~ ^[0-9]+$ ]] || v=0
	echo "$v"
}

# abuse_capture_stop NAME: end a capture now (SIGINT to our own tshark, by
# its PID; it writes what it has and exits), or wait for it if it already
# reached its bound.
abuse_capture_stop() {
	local pid=${DUET_BG[$1]} i
	[[ -n $pid ]] || return 0
	sleep 0.3 # frames still in flight on the veth
	kill -INT "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# abuse_tshark NAME DISPLAY_FILTER FIELD...: one line per matching packet of
# capture NAME, tab separated, checksums verified (status 1 good, 0 bad).
# A capture tshark cannot read or a filter it refuses prints "tshark
# failed: ..." instead, so a check of "0 packets" cannot pass on an error.
abuse_tshark() {
	local name=$1 filter=$2 f out
	shift 2
	local args=()
	for f in "$@"; do args+=(-e "$f"); done
	if ! out=$(tshark -r "$DUET_TMP/$name.pcap" -o ip.check_checksum:TRUE \
		-o udp.check_checksum:TRUE -Y "$filter" -T fields -E separator=/t -E occurrence=f \
		"${args[@]}" 2>"$DUET_TMP/$name.tshark-read"); then
		echo "tshark failed: $(grep -v "^Running as user" "$DUET_TMP/$name.tshark-read" | head -c 300)"
		return 1
	fi
	[[ -z $out ]] || printf '%s\n' "$out"
}

# abuse_count NAME DISPLAY_FILTER: packets of capture NAME that match (or
# "tshark failed: ...").
abuse_count() {
	local out
	out=$(abuse_tshark "$1" "$2" frame.number) || { echo "$out"; return 1; }
	grep -c . <<<"$out"
}
