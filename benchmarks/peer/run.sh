#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# benchmarks/peer/run.sh: what a media relay on kernel sockets costs per
# packet, for comparison with duet. Two forwarders, each pinned to FWD_CPU,
# carry the same RTP load (N calls, both directions, PAYLOAD bytes of UDP
# payload) from udp_gen (pinned to GEN_CPU). Everything runs in a private
# network namespace made for the run and deleted after it, on one address
# from the documentation range, 198.51.100.1 on that namespace's loopback:
# no packet can leave it.
#
#   rtpengine        Debian's rtpengine-daemon in the foreground with a
#                    private command line: interface 198.51.100.1, no kernel
#                    forwarding (--table=-1), one worker thread; the calls
#                    are set up through its ng protocol (ng_client.py:
#                    offer + answer per call).
#   plain_forwarder  fwd_plain: recvmmsg/sendmmsg between the two sockets of
#                    each call, nothing else: the kernel-socket ceiling.
#
# For each repetition both are measured one after the other (order
# alternating), rtpengine restarted with its calls set up afresh before each
# of its runs: overloaded for a few seconds it gives up on its sockets
# ("UDP receive queue exceeded 5 times: discarding packet") and forwards
# nothing after, which would leak into the next run. The runs at x=0 last
# 1.5 s in both settings for the same reason; the paced runs RUN_S. The
# overload messages of each run are counted (rtpengine_overload_msgs), at two offered rates: x=0, as fast as udp_gen can send
# (the forwarder at or near saturation: its best packets per CPU-second),
# and x=<kpps>, the rate N real calls make (50 packets/s per leg). Packets
# per CPU-second = packets udp_gen got back / CPU seconds the forwarder
# process (all its threads, user + system) used over the run, from
# /proc/PID/stat. The harness sets duet's figure (memif run: its core is
# busy-polling, so zero-loss pps per core) against these.
#
# usage: run.sh BUILD_DIR OUT_DIR quick|full
#   BUILD_DIR  meson build with benchmarks/peer/{udp_gen,fwd_plain}
#   OUT_DIR    gets peer.csv (benchmark,variant,x,metric,value,unit,run),
#              peer.log and peer.summary.txt
# Environment: REPS (5 quick, 7 full), CALLS (1000, at most 3000),
#   GEN_CPU (0), FWD_CPU (1), PAYLOAD (172), QUIET_WAIT and QUIET_MAX (as in
#   benchmarks/memif/run.sh), DUET_BENCH_KEEP=1.
# Needs rtpengine (bash benchmarks/peer/deps.sh). Quick mode: about a minute.
set -euo pipefail

usage() {
	echo "usage: $0 BUILD_DIR OUT_DIR quick|full" >&2
	exit 2
}
[[ $# == 3 ]] || usage
BUILD=$(cd "$1" && pwd) || usage
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
MODE=$3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"

case $MODE in
quick) REPS=${REPS:-5} RUN_S=1.5 ;;
full) REPS=${REPS:-7} RUN_S=5 ;;
*) usage ;;
esac
CALLS=${CALLS:-1000}
GEN_CPU=${GEN_CPU:-0}
FWD_CPU=${FWD_CPU:-1}
PAYLOAD=${PAYLOAD:-172}
REAL_PPS=$((CALLS * 2 * 50))
RATES="0 $REAL_PPS"
GEN=$BUILD/benchmarks/peer/udp_gen
PLAIN=$BUILD/benchmarks/peer/fwd_plain
NG=$HERE/ng_client.py
CSV=$OUT/peer.csv
LOG=$OUT/peer.log
SUMMARY=$OUT/peer.summary.txt
# The one address, in the private namespace, and its ports: fwd_plain's
# legs, rtpengine's media range, clients.
ADDR=198.51.100.1
PLAIN_BASE=20000
RTP_MIN=30000
RTP_MAX=$((RTP_MIN + 4 * CALLS + 999))
CLIENT_BASE=50000
NG_PORT=$((26000 + $$ % 3000))

die() {
	echo "peer: $*" >&2
	exit 1
}
if ! [[ $CALLS =~ ^[0-9]+$ ]] || ((CALLS < 1 || CALLS > 3000)); then
	die "CALLS must be 1..3000 (got '$CALLS')"
fi
[[ $(id -u) == 0 ]] || die "needs root (a network namespace of its own)"
# Run the rest in a namespace of our own: made here, deleted on any exit.
if [[ -z ${PEER_NETNS:-} ]]; then
	ns=duet-peer-$$
	ip netns add "$ns" || die "cannot create network namespace $ns"
	trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
	ip -n "$ns" link set lo up && ip -n "$ns" addr add "$ADDR/32" dev lo ||
		die "cannot set up $ADDR on the loopback of $ns"
	rc=0
	ip netns exec "$ns" env PEER_NETNS="$ns" bash "${BASH_SOURCE[0]}" "$@" || rc=$?
	exit "$rc"
fi
[[ -x $GEN && -x $PLAIN ]] || die "no udp_gen/fwd_plain in $BUILD/benchmarks/peer: the build needs benchmarks/peer"
command -v rtpengine >/dev/null || die "no rtpengine: run bash benchmarks/peer/deps.sh"
for t in taskset python3; do
	command -v "$t" >/dev/null || die "needs $t"
done

TMP=$(mktemp -d /tmp/duet-peer.XXXXXX)
RTP_PID='' PLAIN_PID=''

cleanup() {
	stop "$RTP_PID"
	stop "$PLAIN_PID"
	if [[ ${DUET_BENCH_KEEP:-0} == 1 ]]; then echo "peer: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "$*" >>"$LOG"; }
row() { echo "$1,$2,$3,$4,$5,$6,$7" >>"$CSV"; }

field() {
	awk -v key="$2" '/^result / { for (i = 2; i <= NF; i++) { split($i, kv, "=");
		if (kv[1] == key) { print kv[2]; exit } } }' "$1"
}

: >"$LOG"
echo "benchmark,variant,x,metric,value,unit,run" >"$CSV"
log "# peer benchmark $(date -u +%FT%TZ) mode=$MODE reps=$REPS calls=$CALLS payload=$PAYLOAD"
log "# $(grep -m1 'model name' /proc/cpuinfo) ; $(nproc) cpus ; gen cpu $GEN_CPU, forwarder cpu $FWD_CPU ; $(uname -r)"
log "# rtpengine $(rtpengine --version 2>&1 | head -n 1)"

# rtpengine: foreground, no config file, one address, userspace; started
# (with its calls) before each of its runs by rtp_restart.
rtp_cmd=(taskset -c "$FWD_CPU" rtpengine --foreground --log-stderr --config-file=none
	--interface="$ADDR" --listen-ng="$ADDR:$NG_PORT" --port-min="$RTP_MIN"
	--port-max="$RTP_MAX" --table=-1 --num-threads=1 --log-level=4 --timeout=3600
	--silent-timeout=3600 --delete-delay=0 --pidfile="$TMP/rtpengine.pid")
rtp_restart() {
	stop "$RTP_PID"
	RTP_PID=''
	log "\$ ${rtp_cmd[*]}"
	"${rtp_cmd[@]}" >"$TMP/rtpengine.log" 2>&1 &
	RTP_PID=$!
	python3 "$NG" --ng "$ADDR:$NG_PORT" ping --wait 10 || {
		tail -n 20 "$TMP/rtpengine.log" >&2
		die "rtpengine did not answer on its ng port"
	}
	log "\$ $NG --ng $ADDR:$NG_PORT setup --calls $CALLS --client-base $CLIENT_BASE --out targets-rtpengine.txt"
	python3 "$NG" --ng "$ADDR:$NG_PORT" setup --calls "$CALLS" --client-base "$CLIENT_BASE" \
		--out "$TMP/targets-rtpengine.txt" 2>>"$LOG" ||
		die "ng setup of $CALLS calls failed (see $LOG)"
}

plain_cmd=(taskset -c "$FWD_CPU" "$PLAIN" --calls "$CALLS" --port-base "$PLAIN_BASE" --bind "$ADDR"
	--timeout 3600)
log "\$ ${plain_cmd[*]}"
"${plain_cmd[@]}" >"$TMP/fwd_plain.out" 2>"$TMP/fwd_plain.err" &
PLAIN_PID=$!
for ((i = 0; i < CALLS; i++)); do
	echo "$((PLAIN_BASE + 2 * i)) $((PLAIN_BASE + 2 * i + 1))"
done >"$TMP/targets-plain_forwarder.txt"
sleep 0.3
kill -0 "$PLAIN_PID" 2>/dev/null || die "fwd_plain did not start: $(cat "$TMP/fwd_plain.err")"

# measure VARIANT RATE REP: one udp_gen run through the forwarder.
measure() {
	local variant=$1 rate=$2 rep=$3 pid out c0 c1 t0 t1 cpu_s wall rx secs=$RUN_S
	((rate == 0)) && secs=1.5
	[[ $variant == rtpengine ]] && rtp_restart
	[[ $variant == rtpengine ]] && pid=$RTP_PID || pid=$PLAIN_PID
	out=$TMP/gen-$variant-$rate-$rep.txt
	local cmd=(taskset -c "$GEN_CPU" "$GEN" --ip "$ADDR" --targets "$TMP/targets-$variant.txt"
		--client-base "$CLIENT_BASE" --rate "$rate" --seconds "$secs" --payload "$PAYLOAD"
		--timeout 60)
	log "\$ ${cmd[*]}"
	c0=$(cpu_ticks "$pid")
	t0=$(date +%s.%N)
	timeout -k 5 70 "${cmd[@]}" >"$out" 2>>"$LOG" || die "udp_gen failed through $variant (see $LOG)"
	c1=$(cpu_ticks "$pid")
	t1=$(date +%s.%N)
	kill -0 "$pid" 2>/dev/null || die "$variant died during the run"
	cat "$out" >>"$LOG"
	cpu_s=$(awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", c / hz }')
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	rx=$(field "$out" rx)
	local x=$((rate / 1000))
	row peer "$variant" "$x" pkts_per_cpu_s \
		"$(awk -v r="$rx" -v c="$cpu_s" 'BEGIN { printf "%.0f", (c > 0 ? r / c : 0) }')" pkts/cpu-s "$rep"
	row peer "$variant" "$x" fwd_kpps "$(awk -v v="$(field "$out" rx_pps)" 'BEGIN { printf "%.1f", v / 1000 }')" kpps "$rep"
	row peer "$variant" "$x" offered_kpps "$(awk -v v="$(field "$out" offered_pps)" 'BEGIN { printf "%.1f", v / 1000 }')" kpps "$rep"
	row peer "$variant" "$x" loss_pct "$(awk -v s="$(field "$out" sent)" -v l="$(field "$out" lost)" 'BEGIN { printf "%.3f", (s > 0 ? 100 * l / s : 0) }')" '%' "$rep"
	row peer "$variant" "$x" fwd_cpu_cores "$(awk -v c="$cpu_s" -v w="$wall" 'BEGIN { printf "%.3f", c / w }')" cores "$rep"
	row peer "$variant" "$x" gen_cpu_cores "$(awk -v c="$(field "$out" gen_cpu_s)" -v w="$wall" 'BEGIN { printf "%.3f", c / w }')" cores "$rep"
	[[ $variant == rtpengine ]] && row peer "$variant" "$x" rtpengine_overload_msgs \
		"$(grep -c 'receive queue' "$TMP/rtpengine.log" || true)" msgs "$rep"
	if ((rate > 0)); then
		row peer "$variant" "$x" p50_us "$(field "$out" p50_us)" us "$rep"
		row peer "$variant" "$x" p99_us "$(field "$out" p99_us)" us "$rep"
	fi
	echo "peer: rep=$rep $variant offered=$(field "$out" offered_pps) pps rx=$rx in $(field "$out" secs) s, forwarder cpu $cpu_s s over $wall s" >&2
}

for ((rep = 1; rep <= REPS; rep++)); do
	row peer env 0 background_busy_pct "$(quiet_busy)" "%" "$rep"
	if ((rep % 2 == 1)); then order="rtpengine plain_forwarder"; else order="plain_forwarder rtpengine"; fi
	for rate in $RATES; do
		for v in $order; do
			measure "$v" "$rate" "$rep"
		done
		x=$((rate / 1000))
		r=$(awk -F, -v x="$x" -v rep="$rep" '$3 == x && $4 == "pkts_per_cpu_s" && $7 == rep { v[$2] = $5 }
			END { printf "%.3f", (v["rtpengine"] > 0 ? v["plain_forwarder"] / v["rtpengine"] : 0) }' "$CSV")
		row peer ratio_plain_rtpengine "$x" pkts_per_cpu_ratio "$r" ratio "$rep"
	done
done

python3 "$NG" --ng "$ADDR:$NG_PORT" delete --calls "$CALLS" 2>>"$LOG" || true
python3 - "$CSV" >"$SUMMARY" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
groups = {}
for r in rows:
    try:
        v = float(r["value"])
    except ValueError:
        continue
    groups.setdefault((r["benchmark"], r["variant"], r["x"], r["metric"], r["unit"]), []).append(v)
print(f"{'benchmark':10} {'variant':22} {'x':>6} {'metric':18} {'median':>12} {'min':>12} {'max':>12} unit n")
for (b, v, x, m, u), vals in groups.items():
    print(f"{b:10} {v:22} {x:>6} {m:18} {statistics.median(vals):12.4g} {min(vals):12.4g} {max(vals):12.4g} {u} {len(vals)}")
EOF
cat "$SUMMARY"
echo "peer: wrote $CSV" >&2
