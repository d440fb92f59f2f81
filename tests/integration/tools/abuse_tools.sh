# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# abuse_tools.sh: how the load-making abuse_* tests (flood, scan,
# ssrc_sweep) run their traffic, sourced after lib.sh in the test's own
# shell: abuse_send (this folder's C program: UDP flood and scan, ICMP echo
# flood, SRTP SSRC sweep, counting receiver) and one duet-caller call that
# must stay unharmed, both inside the test namespaces, each bounded by its
# own --seconds/--timeout; duetd's counters as numbers and its memory as
# the kernel sees it. Every
# background process goes into DUET_BG_PIDS, so lib.sh's EXIT trap ends it
# on any failure.

ABUSE_SEND=${DUET_ABUSE_SEND:-$DUET_BUILD_ROOT/tests/integration/tools/abuse_send}
DUET_CALLER=${DUET_CALLER:-$DUET_BUILD_ROOT/app/duet-caller/duet-caller}

# abuse_tools_need: the binaries these helpers run must exist.
abuse_tools_need() {
	[[ -x $ABUSE_SEND ]] || duet_bail "abuse_send not built: $ABUSE_SEND (ninja -C BUILD, or set DUET_ABUSE_SEND)"
	[[ -x $DUET_CALLER ]] || duet_bail "duet-caller not built: $DUET_CALLER (set DUET_BUILD_ROOT or DUET_CALLER)"
}

# abuse_send_bg NAME NS MODE ARGS...: abuse_send in namespace NS, in the
# background; its JSON report goes to $DUET_TMP/NAME.json (read it with
# duet_json NAME EXPR). A count receiver is waited for until it is bound.
abuse_send_bg() {
	local name=$1 ns=$2 mode=$3
	shift 3
	local -a ready=()
	rm -f "$DUET_TMP/$name.json" "$DUET_TMP/$name.ready" "$DUET_TMP/$name.stop"
	[[ $mode == count ]] && ready=(--ready-file "$DUET_TMP/$name.ready" --stop-file "$DUET_TMP/$name.stop")
	ip netns exec "$ns" "$ABUSE_SEND" "$mode" "${ready[@]}" "$@" \
		>"$DUET_TMP/$name.json" 2>"$DUET_TMP/$name.err" &
	DUET_BG[$name]=$!
	DUET_BG_PIDS+=($!)
	if [[ $mode == count ]]; then
		duet_wait 10 test -e "$DUET_TMP/$name.ready" ||
			duet_diag "abuse_send $name not ready: $(cat "$DUET_TMP/$name.err")"
	fi
}

# abuse_send_wait NAME: wait for it; its exit status (diagnosed if not 0).
abuse_send_wait() {
	local rc
	wait "${DUET_BG[$1]}"
	rc=$?
	[[ $rc == 0 ]] || duet_diag "abuse_send $1 exited $rc: $(head -c 400 "$DUET_TMP/$1.err")"
	return $rc
}

# abuse_send_run NAME NS MODE ARGS...: in the foreground.
abuse_send_run() {
	abuse_send_bg "$@"
	abuse_send_wait "$1"
}

# abuse_count_end NAME: stop a count receiver (it reads for 0.3 s more).
abuse_count_end() {
	touch "$DUET_TMP/$1.stop"
	abuse_send_wait "$1"
}

# abuse_call_bg NAME A_BIND B_BIND A_RELAY B_RELAY [duet-caller options]:
# one duet-caller call, leg a in NS_A, leg b in NS_B, both legs in this one
# process (so the audio check compares sample for sample); JSON report in
# $DUET_TMP/NAME.json.
abuse_call_bg() {
	local name=$1 abind=$2 bbind=$3 arelay=$4 brelay=$5
	shift 5
	"$DUET_CALLER" --json --a-netns "$NS_A" --b-netns "$NS_B" --a-bind "$abind" \
		--b-bind "$bbind" --a-relay "$arelay" --b-relay "$brelay" "$@" \
		>"$DUET_TMP/$name.json" 2>"$DUET_TMP/$name.err" &
	DUET_BG[$name]=$!
	DUET_BG_PIDS+=($!)
}

# abuse_call_wait NAME: wait for the call; CALL_RC gets its exit status.
CALL_RC=
abuse_call_wait() {
	wait "${DUET_BG[$1]}"
	CALL_RC=$?
	[[ $CALL_RC == 0 ]] || duet_diag "$1: duet-caller exited $CALL_RC: $(head -c 300 "$DUET_TMP/$1.err")"
}

# abuse_call_outcome NAME: one line to compare with ABUSE_CALL_GOOD: the
# exit status, the audio check, RTP lost and missing (sent, not received)
# per direction, and every SRTP/SRTCP failure or stray packet of both
# receivers.
ABUSE_CALL_GOOD="exit=0 audio=pass lost=0/0 missing=0/0 srtp_fail=0"
abuse_call_outcome() {
	python3 - "$DUET_TMP/$1.json" "$CALL_RC" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    ab, ba = d["a_to_b"], d["b_to_a"]
    fails = sum(x[f] for x in (ab, ba) for f in (
        "srtp_auth_fail", "srtp_replay_fail", "srtp_other_fail", "srtcp_auth_fail",
        "srtcp_replay_fail", "srtcp_other_fail", "bad_rtp", "not_rtp"))
    print("exit=%s audio=%s lost=%s/%s missing=%d/%d srtp_fail=%d" % (
        sys.argv[2], d["audio_check"], ab["lost"], ba["lost"], ab["sent"] - ab["received"],
        ba["sent"] - ba["received"], fails))
except (OSError, ValueError, KeyError, TypeError) as e:
    print("exit=%s <no report: %s>" % (sys.argv[2], e))
PY
}

# abuse_call_figures NAME: the call's figures, for a diagnostic line.
abuse_call_figures() {
	python3 - "$DUET_TMP/$1.json" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    print("<no report: %s>" % e)
    sys.exit(0)
parts = []
for name, k in (("a->b", "a_to_b"), ("b->a", "b_to_a")):
    x = d[k]
    parts.append("%s sent %s recv %s lost %s jitter max %s ms" % (
        name, x["sent"], x["received"], x["lost"], (x["jitter_ms"] or {}).get("max")))
print("%s; audio %s (%s samples compared)" % (
    ", ".join(parts), d["audio_check"], d["audio_samples_compared"]))
PY
}

# duetd_proc_kb FIELD: a field of duetd's /proc/PID/status in kB (VmRSS,
# VmData, ...); empty if duetd is not running. DUETD_PID is duetd itself
# (ip netns exec execs it).
duetd_proc_kb() {
	[[ -n $DUETD_PID ]] || return 0
	awk -v f="$1:" '$1 == f { print $2 }' "/proc/$DUETD_PID/status" 2>/dev/null
}

# abuse_within LO HI GOT: GOT is an integer in [LO, HI].
abuse_within() {
	[[ $3 =~ ^-?[0-9]+$ ]] && (($3 >= $1 && $3 <= $2))
}

# abuse_check_within DESC LO HI GOT
abuse_check_within() {
	if abuse_within "$2" "$3" "$4"; then duet_ok "$1"; return 0; fi
	duet_not_ok "$1" "expected $2..$3, got '$4'"
	return 1
}

# abuse_off_worker_cpus: the CPUs that no duetd worker lcore is pinned to
# (a cpu list for taskset -c), or nothing when every CPU has one or no
# worker thread was found. A load
# generator belongs there: the attacker is another host, and on a small
# test machine a flooder that the scheduler puts on a worker's CPU would
# take the worker's time and overflow its af_packet ring, which no relay
# policy can prevent.
abuse_off_worker_cpus() {
	local t comm cpus=() c
	local -A busy=()
	[[ -n $DUETD_PID ]] || return 0
	for t in /proc/"$DUETD_PID"/task/*; do
		comm=$(cat "$t/comm" 2>/dev/null)
		[[ $comm == lcore-worker-* || $comm == rte-worker-* ]] || continue
		for c in $(taskset -cp "${t##*/}" 2>/dev/null | sed 's/.*: //; s/,/ /g'); do
			busy[$c]=1
		done
	done
	((${#busy[@]} > 0)) || return 0
	for ((c = 0; c < $(nproc --all); c++)); do
		[[ -n ${busy[$c]:-} ]] || cpus+=("$c")
	done
	local IFS=,
	echo "${cpus[*]}"
}

# abuse_keep_off_workers: move this test shell, and so everything it starts
# from now on (senders, receivers, duet-caller), and its redis-server off
# duetd's worker CPUs.
abuse_keep_off_workers() {
	local cpus
	cpus=$(abuse_off_worker_cpus)
	if [[ -z $cpus ]]; then
		duet_diag "no CPU free of duetd workers (or no worker thread found): the load shares them"
		return 0
	fi
	taskset -cp "$cpus" $$ >/dev/null || duet_bail "taskset -cp $cpus $$ failed"
	# Our redis-server started before: it goes too.
	[[ -n $DUET_REDIS_PID ]] && taskset -cp "$cpus" "$DUET_REDIS_PID" >/dev/null
	duet_diag "test processes on CPU(s) $cpus, off duetd's worker lcore(s)"
}

# abuse_relay_num FIELD: a field of the relay heartbeat hash as a number, 0
# when duetd does not publish it (so deltas stay arithmetic and the check
# that reads them fails with a figure); abuse_relay_has FIELD tells.
abuse_relay_num() {
	local v
	v=$(duet_relay_stat "$1")
	[[ $v =~ ^[0-9]+$ ]] || v=0
	echo "$v"
}
abuse_relay_has() {
	[[ $(duet_relay_stat "$1") =~ ^[0-9]+$ ]]
}

# abuse_pair_num ID FIELD: a field of pair ID's stats hash as a number, 0
# when missing.
abuse_pair_num() {
	local v
	v=$(duet_stat "$1" "$2")
	[[ $v =~ ^[0-9]+$ ]] || v=0
	echo "$v"
}
