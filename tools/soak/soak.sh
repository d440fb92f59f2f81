#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# soak.sh: duetd for an hour under everything at once (issue 10, item 11;
# docs/soak.md). In the lab's topology (tools/lab/lib.sh: three network
# namespaces, a private redis-server with AOF, duetd on net_af_packet) it
# runs, for SOAK_SECONDS:
#   - long calls: one duet-caller per mode (passthrough, verify, rekey),
#     SOAK_CALLS calls each at voice rate, made with --create through Redis,
#     in rounds of SOAK_ROUND seconds, each round with the audio check;
#   - churn: SOAK_CHURN_RATE pairs created per second through pair_create.lua
#     (modes in turn, fresh keys) and each deleted SOAK_CHURN_HOLD s later;
#   - disruptions: Redis SIGKILLed and restarted at 1/3 and 2/3 of the run,
#     duetd SIGKILLed and restarted at 1/2;
#   - a sample every SOAK_SAMPLE s: duetd's RSS (VmRSS) and its heartbeat
#     (mem_heap_bytes, mem_dpdk_bytes, pairs, fwd_pkts, ...).
# Then soak.py writes report.md (calls passed against made, packets lost
# outside the outage windows, ended records against pairs created, heap
# bytes per churned pair), summary.json and memory.png (RSS and heap over
# time) into the run's directory under tools/soak/results/. Not part of
# `make test` or CI: `make soak` runs it.
#
# usage: sudo tools/soak/soak.sh [BUILD_DIR]   (default build/)
# environment (defaults in brackets):
#   SOAK_SECONDS     length of the run, 60..86400 [3600]
#   SOAK_CALLS       concurrent calls per mode, 0..1000 [100]
#   SOAK_ROUND       seconds per call round [SOAK_SECONDS/12, 20..300]
#   SOAK_CHURN_RATE  pairs created (and deleted) per second, 0..500 [50]
#   SOAK_CHURN_HOLD  seconds a churned pair lives [2]
#   SOAK_SAMPLE      seconds between samples [5]
#   SOAK_DUETD       the duetd binary [BUILD_DIR/app/duetd/duetd]; an ASan
#                    build (build-asan/app/duetd/duetd) is run with
#                    detect_leaks=1 and its reports are counted
#   SOAK_DUETD_ENV   extra environment for duetd only (e.g.
#                    GLIBC_TUNABLES=glibc.malloc.tcache_count=0)
#   SOAK_AF_PACKET   options added to duetd's net_af_packet vdevs
#                    [framecnt=4096; empty: the PMD's 512-frame rings]
#   SOAK_OUT         the run's directory [tools/soak/results/<time>-<s>s]
#   SOAK_NO_DISRUPT  1: no Redis restarts and no duetd kill (a baseline)
set -u

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export DUET_SOURCE_ROOT=$src
if (($# > 1)); then
	echo "usage: tools/soak/soak.sh [BUILD_DIR]" >&2
	exit 2
fi
if (($# == 1)); then
	DUET_BUILD_ROOT=$(cd "$1" 2>/dev/null && pwd) || {
		echo "soak: build directory '$1' not found; build first (make BUILD=$1)" >&2
		exit 1
	}
	export DUET_BUILD_ROOT
fi
DUET_TAP=0
# Everything in sessions of its own: Ctrl-C reaches this script, which
# stops the run, writes the report of what it has, and tears down.
DUET_DETACH=1
# shellcheck source=tools/lab/lib.sh
source "$src/tools/lab/lib.sh"

SOAK_SECONDS=${SOAK_SECONDS:-3600}
SOAK_CALLS=${SOAK_CALLS:-100}
SOAK_CHURN_RATE=${SOAK_CHURN_RATE:-50}
SOAK_CHURN_HOLD=${SOAK_CHURN_HOLD:-2}
SOAK_SAMPLE=${SOAK_SAMPLE:-5}
SOAK_NO_DISRUPT=${SOAK_NO_DISRUPT:-0}
SOAK_DUETD_ENV=${SOAK_DUETD_ENV:-}
SOAK_AF_PACKET=${SOAK_AF_PACKET-framecnt=4096}
soak_py=$src/tools/soak/soak.py

die() {
	echo "soak: $*" >&2
	exit 2
}
# in_range NAME MIN MAX: the variable NAME is a whole number in MIN..MAX.
in_range() {
	local v=${!1}
	if ! [[ $v =~ ^[0-9]+$ ]] || ((v < $2 || v > $3)); then
		die "$1='$v' is not a whole number in $2..$3"
	fi
}
in_range SOAK_SECONDS 60 86400
in_range SOAK_CALLS 0 1000
in_range SOAK_CHURN_RATE 0 500
in_range SOAK_SAMPLE 1 60
[[ $SOAK_CHURN_HOLD =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "SOAK_CHURN_HOLD='$SOAK_CHURN_HOLD' is not seconds"
round_default=$((SOAK_SECONDS / 12))
((round_default < 20)) && round_default=20
((round_default > 300)) && round_default=300
SOAK_ROUND=${SOAK_ROUND:-$round_default}
in_range SOAK_ROUND 5 "$SOAK_SECONDS"

DUETD=${SOAK_DUETD:-$DUETD}
[[ $DUETD == /* ]] || DUETD=$PWD/$DUETD
[[ $(id -u) == 0 ]] || { echo "soak: needs root for network namespaces; run: sudo $0" >&2; exit 1; }
for b in "$DUETD" "$DUETCTL" "$DUET_CALLER"; do
	[[ -x $b ]] || { echo "soak: $b not found; build first (make), or set DUET_BUILD_ROOT" >&2; exit 1; }
done
asan=0
if ldd "$DUETD" 2>/dev/null | grep -q libasan; then
	asan=1
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${SOAK_OUT:-$src/tools/soak/results/$stamp-${SOAK_SECONDS}s$( ((asan)) && echo -asan)}
mkdir -p "$OUT/calls" || die "cannot make $OUT"
OUT=$(cd "$OUT" && pwd)

duet_init
# Our own work dir (sockets, logs), apart from the integration tests'.
rmdir "$DUET_TMP"
DUET_TMP=$(mktemp -d /tmp/duet-soak.XXXXXX) || duet_bail "cannot make a temp dir"

# duetd through a wrapper: its extra environment, and for an ASan build the
# sanitizer options (leak check at the clean stop; reports into its log).
wrap=$DUET_TMP/duetd-wrap.sh
{
	echo '#!/bin/sh'
	if ((asan)); then
		echo "export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0"
		echo "export LSAN_OPTIONS=suppressions=$src/tests/lsan.supp"
		echo "export UBSAN_OPTIONS=print_stacktrace=1"
	fi
	if [[ -n $SOAK_AF_PACKET ]]; then
		# More frames in each af_packet ring (the lab's vdevs take the
		# PMD's default, 512): see docs/soak.md.
		# shellcheck disable=SC2016 # written for the wrapper to expand
		echo 'for a; do shift; case $a in net_af_packet*) a="$a,'"$SOAK_AF_PACKET"'" ;; esac; set -- "$@" "$a"; done'
	fi
	printf 'exec env %s %q "$@"\n' "$SOAK_DUETD_ENV" "$DUETD"
} >"$wrap"
chmod +x "$wrap"
duetd_bin=$DUETD
DUETD=$wrap

stop=0
trap 'if ((stop)); then exit 130; fi; stop=1' INT
trap 'stop=1' TERM

now_ms() { date +%s%3N; }
say() { printf '[%5ss] %s\n' "$(( ($(now_ms) - start_ms) / 1000 ))" "$*"; }
event() { printf '%s\t%s\t%s\n' "$1" "$2" "$(now_ms)" >>"$OUT/events.tsv"; }

RELAY_ID=soak
# Endpoints for 2000 pairs at once (the lab's default range holds 100).
DUET_PORT_MIN=20000
DUET_PORT_MAX=21999
start_ms=$(now_ms)
say "soak: ${SOAK_SECONDS}s, $SOAK_CALLS calls per mode in ${SOAK_ROUND}s rounds, churn $SOAK_CHURN_RATE/s; out: $OUT"
duet_topo_up
duet_redis_start
# Both gateways point at the clients: a pinned leg is reachable before it
# speaks, so no call loses its first packet to ARP.
# A call's pair whose delete met a Redis restart idles out after 15 s.
duet_conf_write max_pairs=2048 stats_interval_ms=1000 idle_timeout_ms=15000 \
	"port0.gateway=$DUET_A_IP" "port1.gateway=$DUET_B_IP"
# shellcheck disable=SC2119 # duetd_start takes no arguments here
duetd_start || duet_bail "duetd did not start; its log: $DUETD_LOG"
event duetd start
: >"$OUT/rounds.tsv"
: >"$OUT/churn.tsv"
: >"$OUT/ended.tsv"

cat >"$OUT/meta.json" <<EOF
{"start_ms": $start_ms, "seconds": $SOAK_SECONDS, "calls": $SOAK_CALLS, "round_s": $SOAK_ROUND,
 "churn_rate": $SOAK_CHURN_RATE, "churn_hold": $SOAK_CHURN_HOLD, "sample_s": $SOAK_SAMPLE,
 "duetd": "${duetd_bin#"$src"/}", "duetd_env": "$SOAK_DUETD_ENV", "asan": $asan,
 "af_packet": "$SOAK_AF_PACKET",
 "outage_margin_ms": 3000, "warmup_ms": $((SOAK_SECONDS >= 720 ? 60000 : SOAK_SECONDS * 1000 / 12)),
 "command": "SOAK_SECONDS=$SOAK_SECONDS SOAK_CALLS=$SOAK_CALLS SOAK_CHURN_RATE=$SOAK_CHURN_RATE${SOAK_DUETD:+ SOAK_DUETD=$SOAK_DUETD}${SOAK_DUETD_ENV:+ SOAK_DUETD_ENV=$SOAK_DUETD_ENV}$( [[ $SOAK_NO_DISRUPT == 1 ]] && echo " SOAK_NO_DISRUPT=1") bash tools/soak/soak.sh",
 "host": "$(hostname)", "nproc": $(nproc)}
EOF

end_ms=$((start_ms + SOAK_SECONDS * 1000))

# The ended follower keeps every entry (duetd trims the stream).
python3 "$soak_py" ended "$DUET_REDIS_SOCK" "$RELAY_ID" "$OUT/ended.tsv" 2>"$DUET_TMP/ended.err" &
ended_pid=$!
DUET_BG_PIDS+=("$ended_pid")

# lane MODE BASE_PORT: call rounds until too little time is left for one.
lane() {
	local mode=$1 base=$2 r=0 s e rc cpid name
	trap '[[ -n ${cpid:-} ]] && kill -TERM "$cpid" 2>/dev/null; exit 0' TERM
	while (($(now_ms) + SOAK_ROUND * 1000 + 5000 <= end_ms)); do
		# Redis may be restarting: a round starts once it answers.
		duet_wait 30 duet_redis_up || true
		name=$mode-r$r
		s=$(now_ms)
		"$DUET_CALLER" --json --per-call --redis "unix:$DUET_REDIS_SOCK" --relay "$RELAY_ID" \
			--create --id-prefix "l$mode-r$r" --mode "$mode" --calls "$SOAK_CALLS" \
			--a-ip "$DUET_RELAY_IP_A" --b-ip "$DUET_RELAY_IP_B" \
			--a-netns "$NS_A" --b-netns "$NS_B" \
			--a-bind "$DUET_A_IP:$base" --b-bind "$DUET_B_IP:$base" \
			--duration "$SOAK_ROUND" --timeout $((SOAK_ROUND + 60)) \
			>"$OUT/calls/$name.json" 2>"$OUT/calls/$name.err" &
		cpid=$!
		wait "$cpid"
		rc=$?
		cpid=
		e=$(now_ms)
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$mode" "$r" "$SOAK_CALLS" "$s" "$e" "$rc" \
			>>"$OUT/rounds.tsv"
		r=$((r + 1))
		# A round that failed at once (Redis down): do not spin.
		((e - s < 2000)) && sleep 1
	done
}

lane_pids=()
if ((SOAK_CALLS > 0)); then
	base=41000
	for mode in passthrough verify rekey; do
		lane "$mode" "$base" &
		lane_pids+=($!)
		DUET_BG_PIDS+=($!)
		base=$((base + 2000))
	done
fi
churn_pid=
if ((SOAK_CHURN_RATE > 0)); then
	python3 "$soak_py" churn "$DUET_REDIS_SOCK" "$RELAY_ID" "$OUT/churn.tsv" \
		--rate "$SOAK_CHURN_RATE" --hold "$SOAK_CHURN_HOLD" --seconds "$SOAK_SECONDS" \
		--a-ip "$DUET_RELAY_IP_A" --b-ip "$DUET_RELAY_IP_B" >"$OUT/churn.json" \
		2>"$DUET_TMP/churn.err" &
	churn_pid=$!
	DUET_BG_PIDS+=("$churn_pid")
fi

# sample: one CSV row of duetd's memory and heartbeat.
echo "unix_ms,t_s,duetd_pid,rss_kb,mem_heap_bytes,mem_dpdk_bytes,pairs,fwd_pkts,fwd_pps,drops,redis_reconnects,rejected" \
	>"$OUT/samples.csv"
sample() {
	local t rss='' v=()
	t=$(now_ms)
	[[ -n $DUETD_PID ]] && rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$DUETD_PID/status" 2>/dev/null)
	mapfile -t v < <(rcli HMGET "$(duet_key relay)" mem_heap_bytes mem_dpdk_bytes pairs fwd_pkts \
		fwd_pps drops redis_reconnects rejected 2>/dev/null)
	printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' "$t" $(((t - start_ms) / 1000)) "${DUETD_PID:-}" \
		"$rss" "${v[0]:-}" "${v[1]:-}" "${v[2]:-}" "${v[3]:-}" "${v[4]:-}" "${v[5]:-}" "${v[6]:-}" \
		"${v[7]:-}" >>"$OUT/samples.csv"
	rss_last=$rss heap_last=${v[0]:-} pairs_last=${v[2]:-} pps_last=${v[4]:-}
}

# Disruptions, as fractions of the run.
redis_restart() {
	local before
	before=$(duet_relay_stat redis_reconnects)
	say "Redis: SIGKILL"
	event redis down
	duet_redis_kill
	sleep 2
	duet_redis_start "$DUET_REDIS_DIR"
	# Back once duetd has reconnected and written its heartbeat again.
	duet_wait 30 duet_relay_gt redis_reconnects "${before:-0}" ||
		say "warning: duetd did not report a Redis reconnect within 30 s"
	event redis up
	say "Redis: back, duetd reconnected"
}
duet_relay_gt() { local v; v=$(duet_relay_stat "$1"); [[ $v =~ ^[0-9]+$ ]] && ((v > $2)); }
duet_relay_is() { [[ $(duet_relay_stat "$1") == "$2" ]]; }
duetd_kill() {
	say "duetd: SIGKILL"
	event duetd down
	duetd_stop KILL
	# shellcheck disable=SC2119
	if duetd_start; then
		event duetd up
		say "duetd: restarted (pid $DUETD_PID), pairs $(duet_relay_stat pairs)"
	else
		say "duetd did not come back; the rest of the run has no relay"
	fi
}
plan=()
if [[ $SOAK_NO_DISRUPT != 1 ]]; then
	plan=("$((start_ms + SOAK_SECONDS * 1000 / 3)) redis_restart"
		"$((start_ms + SOAK_SECONDS * 1000 / 2)) duetd_kill"
		"$((start_ms + SOAK_SECONDS * 2000 / 3)) redis_restart")
fi
next=0
last_print=0
while ((stop == 0)); do
	now=$(now_ms)
	((now >= end_ms)) && break
	if ((next < ${#plan[@]})) && ((now >= ${plan[$next]%% *})); then
		${plan[$next]#* }
		next=$((next + 1))
		continue
	fi
	sample
	if ((now - last_print >= 60000)); then
		say "rss ${rss_last:-?} kB, heap ${heap_last:-?} B, pairs ${pairs_last:-?}, fwd ${pps_last:-?} pkt/s"
		last_print=$now
	fi
	sleep "$SOAK_SAMPLE" &
	wait $! 2>/dev/null
done

say "stopping: caller rounds finish, churn stops"
if ((stop)); then
	for p in "${lane_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
fi
for p in "${lane_pids[@]}"; do wait "$p" 2>/dev/null; done
if [[ -n $churn_pid ]]; then
	kill -TERM "$churn_pid" 2>/dev/null
	wait "$churn_pid" 2>/dev/null
fi
# Pairs whose caller could not delete them (its delete met a Redis
# restart) idle out within idle_timeout_ms; what is still there after that
# is deleted here, as a control plane cleaning up would.
duet_wait 20 duet_relay_is pairs 0 || true
python3 "$soak_py" sweep "$DUET_REDIS_SOCK" "$RELAY_ID" >"$OUT/sweep.json" 2>>"$DUET_TMP/churn.err"
# Let duetd write the last ended entries, then the final sample and its
# whole heartbeat (drops by reason).
sleep 3
sample
rcli HGETALL "$(duet_key relay)" 2>/dev/null | paste -d' ' - - >"$OUT/relay_final.txt"
python3 "$soak_py" ethstats "/var/run/dpdk/duet-$DUET_P/dpdk_telemetry.v2" >"$OUT/ethdev_final.json"
duetd_stop TERM
event duetd stop
say "duetd stopped: exit status $DUETD_RC"
kill -TERM "$ended_pid" 2>/dev/null
wait "$ended_pid" 2>/dev/null
DUET_BG_PIDS=()

cp "$DUETD_LOG" "$OUT/duetd.log" 2>/dev/null
cp "$DUET_TMP/redis.log" "$OUT/redis.log" 2>/dev/null
asan_reports=0
if ((asan)); then
	asan_reports=$(grep -c -E '^(==[0-9]+==ERROR: (Address|Leak)Sanitizer|SUMMARY: UndefinedBehaviorSanitizer|.*runtime error:)' \
		"$OUT/duetd.log" 2>/dev/null)
fi
printf '{"duetd_rc": "%s", "asan_reports": %s}\n' "$DUETD_RC" "${asan_reports:-0}" >"$OUT/stop.json"

plot_py=python3
if ! python3 -c 'import matplotlib' 2>/dev/null && /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
	plot_py=/usr/bin/python3
fi
$plot_py "$soak_py" report "$OUT" || say "the report failed; raw data in $OUT"
[[ -f $OUT/memory.png ]] ||
	say "no plot: matplotlib is missing (apt-get install python3-matplotlib)"
say "report: $OUT/report.md"
[[ $DUETD_RC == 0 ]] || exit 1
