#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# benchmarks/memif/run.sh: duetd against dpdk-testpmd on a real DPDK port.
# Two processes joined by net_memif: bench_gen (this folder's DPDK traffic
# generator, the memif client, on CPU GEN_CPU) and the device under test
# (the memif server, on CPU DUT_CPU): duetd in passthrough, or
# dpdk-testpmd --forward-mode=5tswap, which swaps MACs, IPs and UDP ports
# and sends every frame straight back: the ceiling of a DPDK forwarder on
# this port. Both DUTs get the same core, the same memif and the same
# frames (IPv4/UDP RTP, PAYLOAD bytes of UDP payload, round robin over both
# legs of P pairs). For each P and each of R repetitions, duetd and testpmd
# are measured one after the other (order alternating), so every
# duet/testpmd ratio comes from the same minute:
#
#   - zero-loss rate: binary search on the offered rate (bench_gen)
#   - forwarding rate with loss, at the generator's own maximum offer
#   - round-trip latency through the DUT at 10 %, 50 % and 90 % of the
#     zero-loss rate: p50, p99, p99.9, max (TSC stamps in the payload)
#   - duetd's CPU time over the run (/proc/PID/stat), so packets per
#     CPU-second = zero-loss rate / cores used (1.0: it busy-polls)
#
# Then the churn variant (goal C3): duetd alone on DUT_CPU with its memif
# port, the generator offering all it can to CHURN_PAIRS pairs, and Redis
# with control/churn.py (10,000 in-place changes a second to CHURN_BG
# other pairs, as a control plane writes them) beside the generator on
# GEN_CPU: duetd's forwarded Mpps with and without the churn, windows of
# CHURN_MS alternating quiet and churn, and the dip between them.
#
# The DUT's two EAL threads (main/control and the forwarding lcore) share
# DUT_CPU: EAL --lcores 0@DUT_CPU,1@DUT_CPU, duetd config workers = 1.
# duetd's control thread blocks on Redis (XREAD BLOCK 50) and wakes to
# publish stats once a second; testpmd's main thread sleeps.
#
# usage: run.sh BUILD_DIR OUT_DIR quick|full
#   BUILD_DIR  meson build (release) with app/duetd/duetd and
#              benchmarks/memif/bench_gen (pair records are written into
#              Redis as a control plane writes them, by control/gen_pairs.py,
#              and loaded by duetd at start)
#   OUT_DIR    gets memif.csv (benchmark,variant,x,metric,value,unit,run),
#              memif.log (commands and every tool's output) and a summary
# Environment: REPS (5 quick, 7 full), PAIRS ("1000 100000" quick,
#   "1 1000 10000 100000" full), BIG_REPS (repetitions at 100,000 pairs and
#   more: 3 quick, REPS full), GEN_CPU (0), DUT_CPU (1), PAYLOAD (172), HUGE
#   (auto: hugepages when bench.sh has them or they are mounted and free; 0:
#   plain pages), GEN_ZC (1: zero-copy generator when on hugepages), DUET_STATS_MS
#   (duetd's stats_interval_ms, 1000; BIG_STATS_MS, 60000, from 100,000
#   pairs on, where Redis writing every pair's stats each second takes the
#   generator's CPU on 2 cores; each duetd start also waits for Redis to
#   go quiet after the load, when the free-endpoint set is seeded), QUIET_WAIT (5: seconds to wait before each repetition for the
#   load of other processes to fall below QUIET_MAX, 15 %; the load seen is
#   recorded as background_busy_pct), RETRIES (1: a repetition in which the
#   DUT or the generator got less than 0.9 of its core is run again, at most
#   this often; the flag `contended` says if the last try still was),
#   DUET_BENCH_KEEP=1 keeps the temp dir; LAT_PAIRS (1000: the one pair
#   count, out of PAIRS, at which latency is measured); CHURN (1; 0: no
#   churn variant), CHURN_PAIRS (1000), CHURN_BG (1000), CHURN_RATE (10000
#   changes/s), CHURN_MS (3000 quick, 10000 full), CHURN_REPS (3 quick, 5
#   full).
# Root is needed (DPDK, /var/run/dpdk). Quick mode should take about 3
# minutes on 2 cores (under 1 at 1,000 pairs, 1 to 1.5 at 100,000, 1 for
# the churn), full about 23 (15 for 1 .. 10,000 pairs as before); estimates
# from the parts' sizes, not yet timed in a whole run.
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
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../lib.sh
source "$SRC/benchmarks/lib.sh"
# shellcheck source=../hugepages.sh
source "$SRC/benchmarks/hugepages.sh"

case $MODE in
quick)
	REPS=${REPS:-5} PAIRS=${PAIRS:-"1000 100000"} TRIAL_MS=200 STEPS=9 LAT_MS=300 GEN_TIMEOUT=40
	BIG_REPS=${BIG_REPS:-3} CHURN_MS=${CHURN_MS:-3000} CHURN_REPS=${CHURN_REPS:-3}
	;;
full)
	REPS=${REPS:-7} PAIRS=${PAIRS:-"1 1000 10000 100000"} TRIAL_MS=1000 STEPS=12 LAT_MS=2000
	GEN_TIMEOUT=120 BIG_REPS=${BIG_REPS:-$REPS} CHURN_MS=${CHURN_MS:-10000}
	CHURN_REPS=${CHURN_REPS:-5}
	;;
*) usage ;;
esac
GEN_CPU=${GEN_CPU:-0}
DUT_CPU=${DUT_CPU:-1}
PAYLOAD=${PAYLOAD:-172}
DUETD=$BUILD/app/duetd/duetd
GEN=$BUILD/benchmarks/memif/bench_gen
TESTPMD=$(command -v dpdk-testpmd || true)
CSV=$OUT/memif.csv
LOG=$OUT/memif.log
SUMMARY=$OUT/memif.summary.txt
GEN_MAC=02:00:00:00:00:01
DUT_MAC=02:00:00:00:00:02
IP_A=192.0.2.1
IP_B=198.51.100.1
# EAL memory: 2 MiB hugepages when enough are free (benchmarks/bench.sh
# reserves them), else plain pages. Both DUTs and the generator get the
# same kind, so the comparison holds either way; HUGE=0 forces plain pages.
# On hugepages -m is what is taken at start (more comes as it is needed);
# on plain pages it is all there is, so the DUT's grows with the table
# (dut_mem).
# shellcheck disable=SC2086 # a list of pair counts
MAX_P=$(printf '%s\n' $PAIRS | sort -n | tail -n 1)
# With hugepages the generator's memif is zero-copy (its mbufs are the
# ring's buffers; needs memory it can share, one file per segment list), so
# it copies once per frame where the DUT, the memif server, copies twice:
# more headroom for the generator. GEN_ZC=0 turns that off.
if [[ ${HUGE:-auto} != 0 ]] && huge_usable $((640 + MAX_P / 256)); then
	EAL_MEM=(--in-memory -m 256)
	HUGEPAGES=1
else
	EAL_MEM=(--no-huge -m 512)
	HUGEPAGES=0
fi
GEN_MEM=("${EAL_MEM[@]}")
GEN_VDEV_ZC=''
if ((HUGEPAGES == 1)) && [[ ${GEN_ZC:-1} != 0 ]]; then
	GEN_MEM+=(--single-file-segments)
	GEN_VDEV_ZC=,zero-copy=yes
fi
dut_mem() {
	if ((HUGEPAGES == 1)); then
		EAL_MEM=(--in-memory -m 256)
	else
		EAL_MEM=(--no-huge -m $((512 + $1 / 256)))
	fi
}
DUET_STATS_MS=${DUET_STATS_MS:-1000}
BIG_STATS_MS=${BIG_STATS_MS:-60000}
# The pair count the latency is measured at (the report's goal is at it).
LAT_PAIRS=${LAT_PAIRS:-1000}

die() {
	echo "memif: $*" >&2
	exit 1
}
[[ $(id -u) == 0 ]] || die "needs root (DPDK)"
[[ " $PAIRS " == *" $LAT_PAIRS "* ]] || die "PAIRS '$PAIRS' lacks LAT_PAIRS $LAT_PAIRS"
[[ -x $DUETD ]] || die "no duetd at $DUETD (meson setup BUILD -Dbuildtype=release)"
[[ -x $GEN ]] || die "no bench_gen at $GEN: the build needs subdir('benchmarks/memif')"
[[ -n $TESTPMD ]] || die "no dpdk-testpmd (apt-get install dpdk)"
for t in redis-server redis-cli taskset python3; do
	command -v "$t" >/dev/null || die "needs $t"
done

TMP=$(mktemp -d /tmp/duet-memif.XXXXXX)
PREFIX=dm$$
REDIS_PID='' DUT_PID=''
SOCK=$TMP/memif.sock
RSOCK=$TMP/redis.sock

cleanup() {
	stop "$DUT_PID"
	stop "$REDIS_PID"
	rm -rf /var/run/dpdk/"$PREFIX"-*
	if [[ ${DUET_BENCH_KEEP:-0} == 1 ]]; then echo "memif: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "$*" >>"$LOG"; }
rcli() { redis-cli -s "$RSOCK" "$@"; }
row() { echo "$1,$2,$3,$4,$5,$6,$7" >>"$CSV"; }

wait_for() {
	local secs=$1 end
	shift
	end=$((SECONDS + secs))
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.1
	done
}

: >"$LOG"
echo "benchmark,variant,x,metric,value,unit,run" >"$CSV"
log "# memif benchmark $(date -u +%FT%TZ) mode=$MODE reps=$REPS pairs='$PAIRS' payload=$PAYLOAD"
log "# $(grep -m1 'model name' /proc/cpuinfo) ; $(nproc) cpus ; gen cpu $GEN_CPU, dut cpu $DUT_CPU"
log "# duet $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?'); DPDK $(pkg-config --modversion libdpdk 2>/dev/null || echo '?'); EAL memory: ${EAL_MEM[*]}; generator: ${GEN_MEM[*]} $GEN_VDEV_ZC; duetd stats every $DUET_STATS_MS ms"

taskset -c "$GEN_CPU" redis-server --port 0 --unixsocket "$RSOCK" --unixsocketperm 700 \
	--dir "$TMP" --save '' --appendonly no --logfile "$TMP/redis.log" --daemonize no &
REDIS_PID=$!
wait_for 10 test -S "$RSOCK" || die "redis-server did not start"
wait_for 5 bash -c "[[ \$(redis-cli -s '$RSOCK' PING 2>/dev/null) == PONG ]]" ||
	die "redis-server does not answer"

# pair_ports P: media ports a service address holds for P pairs (and 64
# spare): all of 20000..65535 past 45,472 pairs, P + 64 below.
pair_ports() {
	local need=$(($1 + 64))
	echo $((need < 45536 ? need : 45536))
}

# conf_write FILE RELAY P STATS_MS: duetd's config for one memif port with
# the service addresses and ports pairs_write puts P pairs on (as many
# addresses a side as the ports take), and some spare.
conf_write() {
	local file=$1 relay=$2 p=$3 stats_ms=$4 ports n i addrs=''
	ports=$(pair_ports "$p")
	n=$(((p + 64 + ports - 1) / ports))
	for ((i = 1; i <= n; i++)); do addrs+="${addrs:+, }${IP_A%.*}.$i"; done
	for ((i = 1; i <= n; i++)); do addrs+=", ${IP_B%.*}.$i"; done
	cat >"$file" <<-EOF
		; written by benchmarks/memif/run.sh
		[relay]
		id = $relay
		workers = 1
		max_pairs = $((p + 64))
		idle_timeout_ms = 0
		relatch_silence_ms = 2000
		stats_interval_ms = $stats_ms
		heartbeat_ttl_ms = $((stats_ms * 5))
		idle_poll_us = 0
		[media]
		port_min = 20000
		port_max = $((20000 + ports - 1))
		ttl = 64
		[security]
		; A forwarding benchmark: every leg carries far more than one voice
		; stream, and the latch round latches every leg at once. The
		; policer's cost is measured by benchmarks/guard.
		max_pps = 0
		max_kbps = 0
		budget_unlatched_pps = 10000000
		[redis]
		address = unix:$RSOCK
		connect_timeout_ms = 1000
		[port net_memif0]
		addresses = $addrs
	EOF
}

memif_vdev() {
	echo "net_memif0,role=server,socket=$SOCK,socket-abstract=no,mac=$DUT_MAC"
}

# duetd_start CONF P: duetd as the memif server, on DUT_CPU; returns once it
# has loaded P pairs from Redis (its log says so).
duetd_start() {
	local conf=$1 p=$2 dlog
	DUETD_N=$((${DUETD_N:-0} + 1))
	dlog=$TMP/duetd-$DUETD_N.log
	rm -f "$SOCK"
	log "\$ $DUETD --lcores 0@$DUT_CPU,1@$DUT_CPU ${EAL_MEM[*]} --file-prefix $PREFIX-duet --no-pci --vdev $(memif_vdev) -- -c $(basename "$conf")"
	"$DUETD" --lcores "0@$DUT_CPU,1@$DUT_CPU" "${EAL_MEM[@]}" --file-prefix "$PREFIX-duet" \
		--no-pci --vdev "$(memif_vdev)" -- -c "$conf" >"$dlog" 2>&1 &
	DUT_PID=$!
	duetd_ready() {
		kill -0 "$DUT_PID" 2>/dev/null || return 2
		grep -q "loaded $p pairs from" "$dlog"
	}
	wait_for 60 duetd_ready || {
		tail -n 20 "$dlog" >&2
		die "duetd did not come up with $p pairs"
	}
	# A start does not end with the load: duetd seeds and prunes the
	# free-endpoint set next, Redis work on the generator's CPU (at
	# 100,000 pairs the generator got 0.82 of its core and every
	# repetition was contended, 0.87 with stats every second but this
	# wait). Measure once Redis is quiet: at most 5
	# ticks (5 % of a core) in a second, 120 s at most.
	redis_quiet() {
		local a b
		a=$(cpu_ticks "$REDIS_PID")
		sleep 1
		b=$(cpu_ticks "$REDIS_PID")
		((b - a <= 5))
	}
	wait_for 120 redis_quiet || log "# redis-server still busy 120 s after duetd loaded $p pairs"
}

testpmd_start() {
	local cmd=("$TESTPMD" --lcores "0@$DUT_CPU,1@$DUT_CPU" "${EAL_MEM[@]}" --file-prefix "$PREFIX-tp"
		--no-pci --vdev "$(memif_vdev)" -- --forward-mode=5tswap --auto-start
		--disable-link-check --stats-period 3600 --total-num-mbufs=16384)
	rm -f "$SOCK"
	log "\$ ${cmd[*]}"
	# Line-buffered, so the start line shows while it runs.
	stdbuf -oL "${cmd[@]}" >"$TMP/testpmd.log" 2>&1 &
	DUT_PID=$!
	wait_for 30 grep -q 'packet forwarding - ports=' "$TMP/testpmd.log" || {
		tail -n 20 "$TMP/testpmd.log" >&2
		die "testpmd did not start forwarding"
	}
}

# pairs_write RELAY P FILE: P passthrough pair records p0..p<P-1> into
# Redis as a control plane writes them (control/gen_pairs.py through
# redis-cli --pipe; duetd loads them with its start-up SCAN): pair i on
# address 1 + i / PORTS of IP_A's and IP_B's networks, port 20000 + i %
# PORTS (pair_ports). FILE gets one 'A_ENDPOINT B_ENDPOINT' line per pair.
# (pair_create.lua, one EVALSHA at a time, took minutes at 100,000 pairs
# over several addresses.)
pairs_write() {
	local relay=$1 p=$2 file=$3 ports
	ports=$(pair_ports "$p")
	python3 "$SRC/benchmarks/control/gen_pairs.py" "$relay" "$p" passthrough \
		--ports "20000-$((20000 + ports - 1))" | rcli --pipe >>"$LOG" ||
		die "could not write $p pairs into Redis"
	awk -v p="$p" -v ports="$ports" -v a="${IP_A%.*}" -v b="${IP_B%.*}" 'BEGIN {
		for (i = 0; i < p; i++) {
			h = 1 + int(i / ports)
			printf "%s.%d:%d %s.%d:%d\n", a, h, 20000 + i % ports, b, h, 20000 + i % ports
		}
	}' >"$file"
}

# gen_run DUT_KIND PAIRS_FILE OUTFILE [SAMPLES_NAME]: one bench_gen run
# against the DUT; with SAMPLES_NAME, latency samples go to OUT_DIR for the
# report's CDF (latency_NAME_<pct>pct_samples.txt).
GEN_EXTRA=()
gen_run() {
	local kind=$1 pairs=$2 out=$3 samples=${4:-} lat_ms=${5:-$LAT_MS} limit
	# Latching and checking every stream take longer with more pairs.
	limit=$((GEN_TIMEOUT + $(wc -l <"$pairs") / 4000))
	# shellcheck disable=SC2054 # commas inside the --vdev value
	local cmd=("$GEN" --lcores "0@$GEN_CPU" "${GEN_MEM[@]}" --file-prefix "$PREFIX-gen" --no-pci
		--log-level=notice
		--vdev "net_memif0,role=client,socket=$SOCK,socket-abstract=no,mac=$GEN_MAC$GEN_VDEV_ZC"
		-- --pairs "$pairs" --dut "$kind" --dut-mac "$DUT_MAC" --payload "$PAYLOAD"
		--trial-ms "$TRIAL_MS" --steps "$STEPS" --lat-ms "$lat_ms" --lat-pcts 10,50,90
		--timeout "$limit" "${GEN_EXTRA[@]}")
	[[ -n $samples ]] && cmd+=(--samples-dir "$OUT" --samples-name "$samples")
	log "\$ ${cmd[*]}"
	timeout -k 5 $((limit + 15)) "${cmd[@]}" >"$out" 2>"$out.err" || {
		cat "$out.err" >>"$LOG"
		cat "$out" >>"$LOG"
		return 1
	}
	cat "$out.err" "$out" >>"$LOG"
}

# field FILE LINE_PREFIX KEY: value of KEY=... on the first line starting
# with LINE_PREFIX.
field() {
	awk -v pre="$2" -v key="$3" 'index($0, pre) == 1 {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) { print kv[2]; exit } } }' "$1"
}

# measure KIND P REP RELAY: start the DUT, run the generator, stop the DUT,
# append the rows to REP_ROWS; MEASURED gets the zero-loss rate, CONTENDED
# is set to 1 when the DUT or the generator did not have its core to itself.
MEASURED='' CONTENDED=0 REP_ROWS=''
rrow() { echo "$1,$2,$3,$4,$5,$6,$7" >>"$REP_ROWS"; }
measure() {
	local kind=$1 p=$2 rep=$3 relay=$4 variant lvariant out t0 t1 c0 c1 util zl gcpu
	out=$TMP/gen-$kind-$p-$rep.txt
	if [[ $kind == duet ]]; then
		variant=duet_passthrough lvariant=duet
		duetd_start "$TMP/duetd-$relay.conf" "$p"
	else
		variant=testpmd_5tswap lvariant=testpmd
		testpmd_start
	fi
	c0=$(cpu_ticks "$DUT_PID")
	t0=$(date +%s.%N)
	# Latency (and the CDF's samples, from the first repetition) at
	# LAT_PAIRS only, so every latency figure is of one table size.
	local lat_ms=0 samples=''
	if [[ $p == "$LAT_PAIRS" ]]; then
		lat_ms=$LAT_MS
		[[ $rep == 1 ]] && samples=$lvariant
	fi
	if ! gen_run "$([[ $kind == duet ]] && echo duet || echo swap)" "$TMP/pairs-$p.txt" "$out" \
		"$samples" "$lat_ms"; then
		stop "$DUT_PID"
		DUT_PID=''
		die "bench_gen failed against $kind (see $LOG)"
	fi
	c1=$(cpu_ticks "$DUT_PID")
	t1=$(date +%s.%N)
	stop "$DUT_PID"
	DUT_PID=''
	[[ $kind == duet ]] && cat "$TMP/duetd-$DUETD_N.log" >>"$LOG"
	util=$(awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v a="$t0" -v b="$t1" \
		'BEGIN { printf "%.3f", c / hz / (b - a) }')
	zl=$(field "$out" result zero_loss_mpps)
	gcpu=$(field "$out" result gen_cpu_cores)
	# Both processes busy-poll: less than 0.9 of a core each means another
	# process took their CPU and the figures are not the DUT's.
	awk -v u="$util" -v g="$gcpu" 'BEGIN { exit !(u < 0.9 || g < 0.9) }' && CONTENDED=1
	rrow memif "$variant" "$p" mpps_zero_loss "$zl" Mpps "$rep"
	rrow memif "$variant" "$p" mpps_max_fwd "$(field "$out" result max_fwd_mpps)" Mpps "$rep"
	rrow memif "$variant" "$p" gen_max_mpps "$(field "$out" result gen_max_mpps)" Mpps "$rep"
	rrow memif "$variant" "$p" gen_limited "$(field "$out" result gen_limited)" flag "$rep"
	rrow memif "$variant" "$p" dut_cpu_cores "$util" cores "$rep"
	rrow memif "$variant" "$p" gen_cpu_cores "$gcpu" cores "$rep"
	if [[ $kind == duet ]]; then
		# Busy polling: the core is spent whatever the load; packets per
		# CPU-second is the zero-loss rate over the cores duetd used.
		rrow memif "$variant" "$p" pkts_per_cpu_s \
			"$(awk -v z="$zl" -v u="$util" 'BEGIN { printf "%.0f", (u > 0 ? z * 1e6 / u : 0) }')" \
			pkts/cpu-s "$rep"
	fi
	local pct
	for pct in 10 50 90; do
		local pre="latency pct=$pct " k
		grep -q "^$pre" "$out" || continue
		rrow latency "$lvariant" "${pct}pct" offered_mpps "$(field "$out" "$pre" offered_mpps)" Mpps "$rep"
		for k in p50_us p99_us p999_us max_us; do
			rrow latency "$lvariant" "${pct}pct" "$k" "$(field "$out" "$pre" "$k")" us "$rep"
		done
		rrow latency "$lvariant" "${pct}pct" lost "$(field "$out" "$pre" lost)" pkts "$rep"
	done
	MEASURED=$zl
}

RETRIES=${RETRIES:-1}
for p in $PAIRS; do
	relay=bm$p
	dut_mem "$p"
	reps=$REPS
	((p >= 100000)) && reps=$BIG_REPS
	# At 100,000 pairs every pair's stats hash changes each interval, and
	# Redis, on the generator's CPU in a 2-core machine, spends a good part
	# of that core writing them: with the wait for the free set below and
	# stats every second the generator still got only 0.87 of its core
	# (contended), with both 0.99. From there the stats are written every
	# BIG_STATS_MS (60 s, past a repetition), so F3 measures the data
	# plane; C3 measures the control plane's effect on it.
	stats_ms=$DUET_STATS_MS
	((p >= 100000 && BIG_STATS_MS > stats_ms)) && stats_ms=$BIG_STATS_MS
	conf_write "$TMP/duetd-$relay.conf" "$relay" "$p" "$stats_ms"
	log "# $p pairs: duetd stats every $stats_ms ms"
	# Every duetd loads them from Redis at start.
	pairs_write "$relay" "$p" "$TMP/pairs-$p.txt"
	for ((rep = 1; rep <= reps; rep++)); do
		# A repetition whose DUT or generator lost its core to another
		# process is run again (at most RETRIES times); the last try counts.
		for ((try = 0; try <= RETRIES; try++)); do
			REP_ROWS=$TMP/rows-$p-$rep
			: >"$REP_ROWS"
			CONTENDED=0
			bg=$(quiet_busy)
			if ((rep % 2 == 1)); then order="duet testpmd"; else order="testpmd duet"; fi
			declare -A zl=() mf=()
			for kind in $order; do
				measure "$kind" "$p" "$rep" "$relay"
				zl[$kind]=$MEASURED
				mf[$kind]=$(awk -F, '$4 == "mpps_max_fwd" { v = $5 } END { print v }' "$REP_ROWS")
			done
			echo "memif: pairs=$p rep=$rep try=$try duet=${zl[duet]} Mpps testpmd=${zl[testpmd]} Mpps (background busy ${bg}%, contended $CONTENDED)" >&2
			((CONTENDED == 0)) && break
		done
		cat "$REP_ROWS" >>"$CSV"
		row memif env "$p" background_busy_pct "$bg" '%' "$rep"
		row memif env "$p" contended "$CONTENDED" flag "$rep"
		row memif env "$p" hugepages "$HUGEPAGES" flag "$rep"
		row memif ratio_duet_testpmd "$p" zero_loss_ratio \
			"$(awk -v a="${zl[duet]}" -v b="${zl[testpmd]}" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')" ratio "$rep"
		row memif ratio_duet_testpmd "$p" max_fwd_ratio \
			"$(awk -v a="${mf[duet]}" -v b="${mf[testpmd]}" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')" ratio "$rep"
		unset zl mf
	done
done

# The churn variant (C3): duetd alone on DUT_CPU; the generator, Redis and
# churn.py share GEN_CPU. Each window is one bench_gen trial at the
# generator's full offer (--rate-mpps 100: more than duetd can take, so
# what comes back is duetd's forwarding rate); a churn window has churn.py
# writing from a second before the generator starts until after its trial
# ends. The generator loses CPU to Redis and churn.py in those windows:
# refused_pct (frames the full memif ring did not take) says whether it
# still offered more than duetd took, and duetd's drop_tx_full over the
# window whether the generator still drained what came back. A churn
# window in which under 1 % was refused, or over 1 % of what duetd
# forwarded found the way back full, is harness_limited: the generator,
# not duetd, set the rate, and a dip there could be the generator's.
CHURN=${CHURN:-1}
CHURN_PAIRS=${CHURN_PAIRS:-1000}
CHURN_BG=${CHURN_BG:-1000}
CHURN_RATE=${CHURN_RATE:-10000}
# hb_fresh RELAY FIELD: FIELD of duetd's next heartbeat (its counters are
# published every DUET_STATS_MS).
hb_fresh() {
	local key="duet:{$1}:relay" u0
	u0=$(rcli HGET "$key" updated_ms)
	wait_for $((DUET_STATS_MS / 1000 + 3)) bash -c "[[ \$(redis-cli -s '$RSOCK' HGET '$key' updated_ms) != '$u0' ]]" || true
	rcli HGET "$key" "$2"
}

# churn_window KIND REP: one window (KIND quiet or churn); sets FWD, OFFERED,
# REFUSED_PCT, TXFULL_PCT, DUT_UTIL, and for churn CHANGES_PS and COVERED
# (churn.py still ran when the generator's trial ended).
churn_window() {
	local kind=$1 rep=$2 out=$TMP/churn-$1-$2.txt secs cpid='' c0 c1 t0 t1 ids=() i x0 x1
	secs=$((CHURN_MS / 1000 + 6))
	x0=$(hb_fresh "$CHURN_RELAY" drop_tx_full)
	COVERED=1 CHANGES_PS=0
	if [[ $kind == churn ]]; then
		for ((i = CHURN_PAIRS; i < CHURN_PAIRS + CHURN_BG; i++)); do ids+=("p$i"); done
		taskset -c "$GEN_CPU" python3 "$SRC/benchmarks/control/churn.py" "$RSOCK" "$CHURN_RELAY" \
			"$secs" "$CHURN_RATE" "${ids[@]}" >"$TMP/churn-$rep.out" 2>>"$LOG" &
		cpid=$!
		sleep 1
	fi
	c0=$(cpu_ticks "$DUT_PID")
	t0=$(date +%s.%N)
	GEN_EXTRA=(--rate-mpps 100 --trial-ms "$CHURN_MS")
	# The same duetd serves every window: on a busy machine its memif
	# server may not have taken the last generator's leave yet, and the
	# next one's connect is refused. Once more after a pause.
	gen_run duet "$TMP/pairs-churn.txt" "$out" '' 0 || {
		sleep 2
		gen_run duet "$TMP/pairs-churn.txt" "$out" '' 0
	} || {
		GEN_EXTRA=()
		[[ -z $cpid ]] || wait "$cpid" || true
		die "bench_gen failed in the churn variant (see $LOG)"
	}
	GEN_EXTRA=()
	c1=$(cpu_ticks "$DUT_PID")
	t1=$(date +%s.%N)
	x1=$(hb_fresh "$CHURN_RELAY" drop_tx_full)
	if [[ -n $cpid ]]; then
		kill -0 "$cpid" 2>/dev/null || COVERED=0
		wait "$cpid" || echo "memif: churn.py exited $?" >&2
		CHANGES_PS=$(awk -v n="$(cat "$TMP/churn-$rep.out" 2>/dev/null || echo 0)" -v s="$secs" \
			'BEGIN { printf "%.0f", n / s }')
	fi
	FWD=$(awk -v rx="$(field "$out" single rx)" -v s="$(field "$out" single secs)" \
		'BEGIN { printf "%.4f", (s > 0 ? rx / s / 1e6 : 0) }')
	OFFERED=$(awk -v n="$(field "$out" single sent)" -v s="$(field "$out" single secs)" \
		'BEGIN { printf "%.4f", (s > 0 ? n / s / 1e6 : 0) }')
	REFUSED_PCT=$(awk -v r="$(field "$out.err" "bench_gen: trial:" refused)" \
		-v n="$(field "$out.err" "bench_gen: trial:" attempted)" \
		'BEGIN { printf "%.2f", (n > 0 ? 100 * r / n : 0) }')
	# What found the generator's ring full, against what came back (the
	# counter spans a little more than the trial: an upper bound).
	TXFULL_PCT=$(awk -v x="$((${x1:-0} - ${x0:-0}))" -v rx="$(field "$out" single rx)" \
		'BEGIN { printf "%.2f", (rx > 0 ? 100 * x / rx : 0) }')
	DUT_UTIL=$(awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v a="$t0" -v b="$t1" \
		'BEGIN { printf "%.3f", c / hz / (b - a) }')
}

if [[ $CHURN == 1 ]]; then
	CHURN_RELAY=bmchurn
	p=$((CHURN_PAIRS + CHURN_BG))
	dut_mem "$p"
	conf_write "$TMP/duetd-$CHURN_RELAY.conf" "$CHURN_RELAY" "$p" "$DUET_STATS_MS"
	# Traffic to the first CHURN_PAIRS (p0..), changes to the others.
	pairs_write "$CHURN_RELAY" "$p" "$TMP/pairs-churn-all.txt"
	head -n "$CHURN_PAIRS" "$TMP/pairs-churn-all.txt" >"$TMP/pairs-churn.txt"
	duetd_start "$TMP/duetd-$CHURN_RELAY.conf" "$p"
	for ((rep = 1; rep <= CHURN_REPS; rep++)); do
		bg=$(quiet_busy)
		if ((rep % 2 == 1)); then order="quiet churn"; else order="churn quiet"; fi
		declare -A fwd=() off=() util=() ref=() txf=()
		for kind in $order; do
			churn_window "$kind" "$rep"
			fwd[$kind]=$FWD off[$kind]=$OFFERED util[$kind]=$DUT_UTIL ref[$kind]=$REFUSED_PCT
			txf[$kind]=$TXFULL_PCT
			if [[ $kind == churn ]]; then changes=$CHANGES_PS covered=$COVERED; fi
		done
		limited=$(awk -v r="${ref[churn]}" -v x="${txf[churn]}" 'BEGIN { print (r < 1 || x > 1 ? 1 : 0) }')
		contended=$(awk -v a="${util[quiet]}" -v b="${util[churn]}" 'BEGIN { print (a < 0.9 || b < 0.9 ? 1 : 0) }')
		for kind in quiet churn; do
			row churn "duet_$kind" "$CHURN_RATE" fwd_mpps "${fwd[$kind]}" Mpps "$rep"
			row churn "duet_$kind" "$CHURN_RATE" offered_mpps "${off[$kind]}" Mpps "$rep"
			row churn "duet_$kind" "$CHURN_RATE" refused_pct "${ref[$kind]}" % "$rep"
			row churn "duet_$kind" "$CHURN_RATE" tx_full_pct "${txf[$kind]}" % "$rep"
			row churn "duet_$kind" "$CHURN_RATE" dut_cpu_cores "${util[$kind]}" cores "$rep"
		done
		row churn duet "$CHURN_RATE" changes_written_per_s "$changes" 1/s "$rep"
		row churn duet "$CHURN_RATE" fwd_dip_pct \
			"$(awk -v q="${fwd[quiet]}" -v c="${fwd[churn]}" 'BEGIN { printf "%.2f", (q > 0 ? (1 - c / q) * 100 : 0) }')" % "$rep"
		row churn env "$CHURN_RATE" harness_limited "$limited" flag "$rep"
		row churn env "$CHURN_RATE" churn_covered_trial "$covered" flag "$rep"
		row churn env "$CHURN_RATE" contended "$contended" flag "$rep"
		row churn env "$CHURN_RATE" background_busy_pct "$bg" '%' "$rep"
		row churn env "$CHURN_RATE" pairs "$CHURN_PAIRS" pairs "$rep"
		echo "memif churn: rep=$rep quiet ${fwd[quiet]} Mpps, churn ${fwd[churn]} Mpps (refused ${ref[churn]} %, tx_full ${txf[churn]} %, $changes changes/s, limited $limited, covered $covered, contended $contended)" >&2
		unset fwd off util ref txf
	done
	stop "$DUT_PID"
	DUT_PID=''
	cat "$TMP/duetd-$DUETD_N.log" >>"$LOG"
fi

# Median, min and max of every figure over the repetitions.
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
print(f"{'benchmark':10} {'variant':20} {'x':>6} {'metric':18} {'median':>12} {'min':>12} {'max':>12} unit n")
for (b, v, x, m, u), vals in groups.items():
    print(f"{b:10} {v:20} {x:>6} {m:18} {statistics.median(vals):12.4g} {min(vals):12.4g} {max(vals):12.4g} {u} {len(vals)}")
EOF
cat "$SUMMARY"
echo "memif: wrote $CSV" >&2
