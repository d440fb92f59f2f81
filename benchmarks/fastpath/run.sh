#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# run.sh: the fast-path benchmark (issue "Benchmarks", item 1). What does a
# packet cost in duet's worker pipeline with no NIC in the way, next to
# dpdk-testpmd's 5tswap on the same kind of virtual device?
#
#  1. testpmd.sh starts one dpdk-testpmd (net_ring pair, 5tswap) and leaves
#     it stopped.
#  2. bench_fastpath measures every (mode, suite, pairs) R times; after each
#     of its runs it calls `testpmd.sh window` (--between), so duet and
#     testpmd runs alternate A, B, A, B... on the same CPU. Both write rows
#     to OUT_DIR/fastpath.csv: benchmark,variant,pairs,metric,value,unit,run
#     (testpmd's run is its window number; each window is also written as
#     testpmd_5tswap_after_<variant> at the pairs and run it followed, so
#     the report's F1/F2 ratios pair every duet run with its own window).
#  3. IPv6 and the bridge (issue 14, goals V1 and V2): passthrough with
#     both legs IPv4, both IPv6, and leg a IPv4 / leg b IPv6 (every packet
#     crosses families), variants passthrough_ip4, passthrough_ip6,
#     passthrough_ip46, at 1 and 1,000,000 pairs. One process per family
#     per run, the three families taking turns run by run (4, 6, 46, 4, 6,
#     46, ...) on the same CPU, so drift hits all three alike; each
#     process's rows carry its run number (--first-run), and each writes
#     its table's bytes per pair at the largest count. Into fastpath.csv.
#  4. bench_fastpath again, short, under valgrind --tool=callgrind with
#     --toggle-collect on the functions that wrap the timed work, for
#     passthrough at 1, 10,000 and 1,000,000 pairs: OUT_DIR/fastpath_callgrind.csv
#     (instructions per packet) and fastpath_callgrind_top.txt (where they go);
#     with stage 3 on, also passthrough_ip4, _ip6 and _ip46 at 1 and 10,000
#     pairs (instructions do not drift with the machine's load).
#  5. bench_fastpath --perf-counters at 1 and 1,000,000 pairs: user-space
#     instructions and last-level cache load misses per packet, read around
#     each timed burst, into OUT_DIR/fastpath_perf.csv; where the VM exposes
#     no PMU, only the row perf_counters_exposed = 0.
#  6. bench_fastpath --workers 2 at 100,000 and 1,000,000 pairs: one worker
#     alone and two at once (two queues a port, legs split as RSS would),
#     run after run on the same table: rows passthrough_1_worker,
#     passthrough_2_workers (mpps: the sum) and scaling_2_workers
#     (mpps_ratio), in fastpath.csv. Both CPUs, so no testpmd beside it.
#  7. A summary on stderr and in OUT_DIR/fastpath_summary.txt: medians over
#     the runs, duet passthrough at 1 and at the most pairs over testpmd
#     (goals F1 <= 2.5, F2 <= 1.5), and IPv6 and the bridge over IPv4 (V1
#     <= 1.1, V2 <= 1.2). report.py computes the goals' rows.
#
# usage: run.sh BUILD_DIR OUT_DIR quick|full
#   quick: 5 runs, 2^19 passthrough / 8192 keyed packets per run, 0.3 s
#          testpmd windows, 5 runs of each family, 3 runs on 2 workers;
#          about 6-7 minutes on 2 cores (the IPv6 stage 1.5-2 of them: 15
#          processes, each setting up EAL and 1,000,000 pairs).
#   full:  7 runs, 2^21 / 24576 packets, 1 s windows, 7 runs of each
#          family, 5 runs on 2 workers.
# environment: FASTPATH_CPU (the CPU both run on; default the last one),
# FASTPATH_HUGEPAGES (1: EAL on hugepages, --in-memory, for both; 0:
# --no-huge; default: hugepages when 3 GiB of them are mounted and free,
# as benchmarks/bench.sh makes them), FASTPATH_ARGS (more bench_fastpath
# options, e.g. "--modes passthrough"; for a smoke run "--pairs 1,1000
# --keyed-pairs 1,100 --runs 1 --packets 16384"), FASTPATH_CG_PAIRS
# (1,10000,1000000), FASTPATH_CG_V_PAIRS (1,10000; empty: no callgrind run
# of the families), FASTPATH_PERF_PAIRS (1,1000000), FASTPATH_W2_PAIRS
# (100000,1000000; empty: no 2-worker run), FASTPATH_W2_PACKETS,
# FASTPATH_V_PAIRS (1,1000000: stage 3's pair counts), FASTPATH_V_RUNS (the
# setting's runs), FASTPATH_V_PACKETS (the setting's passthrough packets),
# FASTPATH_V_MEM (MiB, 1024: the 1,000,000-pair table and no testpmd),
# FASTPATH_STAGES (which stages run, default "anchor ipv6 callgrind perf
# workers": anchor is 1-2, ipv6 3, callgrind 4, perf 5, workers 6; the
# summary always). E.g. V1 and V2 alone, short:
#   FASTPATH_STAGES=ipv6 FASTPATH_V_PAIRS=1,1000 FASTPATH_V_RUNS=2 \
#   FASTPATH_V_PACKETS=16384 run.sh BUILD OUT quick
set -uo pipefail

usage() {
	echo "usage: run.sh BUILD_DIR OUT_DIR quick|full" >&2
	exit 2
}
(($# == 3)) || usage
build=$(cd "$1" && pwd) || usage
out=$2
setting=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench=$build/benchmarks/fastpath/bench_fastpath
case $setting in
quick) runs=5 window=0.3 limit=420 w2_runs=3 w2_pkts=$((1 << 19)) v_pkts=$((1 << 19)) ;;
full) runs=7 window=1 limit=3600 w2_runs=5 w2_pkts=$((1 << 21)) v_pkts=$((1 << 21)) ;;
*) usage ;;
esac
cg_pairs=${FASTPATH_CG_PAIRS:-1,10000,1000000}
cg_v_pairs=${FASTPATH_CG_V_PAIRS-1,10000}
perf_pairs=${FASTPATH_PERF_PAIRS:-1,1000000}
w2_pairs=${FASTPATH_W2_PAIRS-100000,1000000}
w2_pkts=${FASTPATH_W2_PACKETS:-$w2_pkts}
v_pairs=${FASTPATH_V_PAIRS:-1,1000000}
v_runs=${FASTPATH_V_RUNS:-$runs}
v_pkts=${FASTPATH_V_PACKETS:-$v_pkts}
v_mb=${FASTPATH_V_MEM:-1024}
stages=" ${FASTPATH_STAGES:-anchor ipv6 callgrind perf workers} "
for st in $stages; do
	case $st in anchor | ipv6 | callgrind | perf | workers) ;;
	*) echo "run.sh: FASTPATH_STAGES: no stage '$st' (anchor ipv6 callgrind perf workers)" >&2; exit 2 ;;
	esac
done
stage() { [[ $stages == *" $1 "* ]]; }
[[ -x $bench ]] || { echo "run.sh: $bench not built (meson: subdir benchmarks/fastpath)" >&2; exit 1; }
if stage anchor; then
	command -v dpdk-testpmd >/dev/null || { echo "run.sh: dpdk-testpmd not installed (apt-get install dpdk)" >&2; exit 1; }
fi
mkdir -p "$out" || exit 1

say() { printf '[fastpath %s] %s\n' "$(date -u +%T)" "$*" >&2; }

# shellcheck source=../hugepages.sh
source "$here/../hugepages.sh"
if [[ -z ${FASTPATH_HUGEPAGES:-} ]]; then
	# bench_fastpath's 2 GiB and testpmd's 1 GiB, both at once.
	FASTPATH_HUGEPAGES=0
	huge_usable 3072 && FASTPATH_HUGEPAGES=1
fi
if [[ $FASTPATH_HUGEPAGES == 1 ]]; then
	bench_mem=(--hugepages --mem 2048)
	v_mem=(--hugepages --mem "$v_mb")
	export FASTPATH_EAL_MEM="--in-memory -m 1024"
else
	bench_mem=(--mem 2048)
	v_mem=(--mem "$v_mb")
	export FASTPATH_EAL_MEM="--no-huge -m 1024"
fi
[[ -n ${FASTPATH_CPU:-} ]] && bench_mem+=(--cpu "$FASTPATH_CPU") && v_mem+=(--cpu "$FASTPATH_CPU")

tp=$(mktemp -d /tmp/fastpath-run.XXXXXX)
cleanup() {
	bash "$here/testpmd.sh" stop "$tp/testpmd" 2>/dev/null
	rm -rf "$tp"
}
trap cleanup EXIT

csv=$out/fastpath.csv
echo "benchmark,variant,pairs,metric,value,unit,run" >"$csv"
echo "fastpath,env,0,hugepages,$FASTPATH_HUGEPAGES,flag,1" >>"$csv"

# 1-2. duet and testpmd, interleaved.
if stage anchor; then
	say "starting dpdk-testpmd (the anchor)"
	FASTPATH_TESTPMD_LIMIT=$((limit + 60)) bash "$here/testpmd.sh" start "$tp/testpmd" || exit 1
	say "bench_fastpath --$setting, $runs runs, a ${window} s testpmd window after each"
	# shellcheck disable=SC2086
	timeout -k 10 "$limit" "$bench" "--$setting" --runs "$runs" "${bench_mem[@]}" \
		--between "bash '$here/testpmd.sh' window '$tp/testpmd' $window" ${FASTPATH_ARGS:-} >>"$csv"
	rc=$?
	bash "$here/testpmd.sh" stop "$tp/testpmd"
	((rc == 0)) || { say "bench_fastpath failed (exit $rc)"; exit 1; }
fi

# 3. IPv6 and the bridge: the three families take turns, run by run, one
# process each (a port's service addresses are of the process's family).
# Run numbers are global to the stage, so the report's ratios pair run r
# of one family with run r of another (the processes of round r ran one
# after the other).
if stage ipv6; then
	say "IPv6 and the bridge: passthrough ip4, ip6, ip46 at $v_pairs pairs, $v_runs runs each, taking turns"
	t0=$SECONDS
	for ((r = 1; r <= v_runs; r++)); do
		for fam in 4 6 46; do
			timeout -k 10 600 "$bench" --modes passthrough --family "$fam" --pairs "$v_pairs" \
				--runs 1 --first-run "$r" --packets "$v_pkts" "${v_mem[@]}" \
				>>"$csv" 2>"$tp/v$fam.log" ||
				{ tail -n 20 "$tp/v$fam.log" >&2; say "IPv6 stage: family $fam run $r failed"; }
			grep -h 'P=' "$tp/v$fam.log" >&2
		done
	done
	say "IPv6 stage: $((SECONDS - t0)) s"
fi

# 4. Instructions per packet under callgrind (only the timed functions
# are collected; one dump per measurement, named by a client request).
cg=$out/fastpath_callgrind.csv
echo "benchmark,variant,pairs,metric,value,unit,run" >"$cg"
if ! stage callgrind; then
	:
elif command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
	# Plain pages: EAL cannot reserve its hugepage address space under
	# valgrind, and the count of instructions does not depend on the pages.
	cg_mem=(--mem 2048)
	[[ -n ${FASTPATH_CPU:-} ]] && cg_mem+=(--cpu "$FASTPATH_CPU")
	say "callgrind: passthrough at $cg_pairs pairs"
	timeout -k 10 900 valgrind --tool=callgrind --collect-atstart=no \
		--toggle-collect=bench_fp_burst --toggle-collect=bench_fp_drain \
		--callgrind-out-file="$tp/cg.out" "$bench" --modes passthrough --pairs "$cg_pairs" \
		--runs 1 --packets 16384 "${cg_mem[@]}" >"$tp/cg.csv" 2>"$tp/cg.log" ||
		{ tail -n 20 "$tp/cg.log" >&2; say "callgrind run failed"; }
	# Beside V1 and V2, counts no other process on the machine can move:
	# each family's passthrough at FASTPATH_CG_V_PAIRS.
	if stage ipv6 && [[ -n $cg_v_pairs ]]; then
		say "callgrind: passthrough ip4, ip6, ip46 at $cg_v_pairs pairs"
		for fam in 4 6 46; do
			timeout -k 10 600 valgrind --tool=callgrind --collect-atstart=no \
				--toggle-collect=bench_fp_burst --toggle-collect=bench_fp_drain \
				--callgrind-out-file="$tp/cg$fam.out" "$bench" --modes passthrough \
				--family "$fam" --pairs "$cg_v_pairs" --runs 1 --packets 16384 \
				"${cg_mem[@]}" >/dev/null 2>"$tp/cg$fam.log" ||
				{ tail -n 20 "$tp/cg$fam.log" >&2; say "callgrind run (family $fam) failed"; }
		done
	fi
	: >"$out/fastpath_callgrind_top.txt"
	for f in "$tp"/cg.out.* "$tp"/cg4.out.* "$tp"/cg6.out.* "$tp"/cg46.out.*; do
		[[ -f $f ]] || continue
		label=$(sed -n 's/^desc: Trigger: Client Request: //p' "$f")
		[[ $label =~ ^([^ ]+)\ P=([0-9]+)\ run=([0-9]+)\ packets=([0-9]+)$ ]] || continue
		variant=${BASH_REMATCH[1]} pairs=${BASH_REMATCH[2]} pkts=${BASH_REMATCH[4]}
		callgrind_annotate --inclusive=yes "$f" 2>/dev/null >"$tp/incl.txt"
		ir() { awk -v fn="$1" '$0 ~ ":" fn " " {gsub(",", "", $1); print $1; exit}' "$tp/incl.txt"; }
		fp=$(ir bench_fp_burst) drain=$(ir bench_fp_drain)
		awk -v v="$variant" -v p="$pairs" -v n="$pkts" -v fp="${fp:-0}" -v dr="${drain:-0}" 'BEGIN {
			printf "fastpath,%s,%s,instructions_per_pkt,%.1f,instructions,1\n", v, p, fp / n
			printf "fastpath,%s,%s,drain_instructions_per_pkt,%.1f,instructions,1\n", v, p, dr / n
			printf "fastpath,%s,%s,packets,%d,packets,1\n", v, p, n
		}' >>"$cg"
		{
			echo "== $label: instructions by function (self), timed part only"
			# (A dump taken inside main charges its callers 100%: skip those.)
			callgrind_annotate --threshold=100 "$f" 2>/dev/null | grep -E '^ *[0-9,]+ ' |
				grep -v -e '(100.0%)' | head -n 16
			echo
		} >>"$out/fastpath_callgrind_top.txt"
	done
else
	say "valgrind not installed: no instruction counts"
fi

# 5. The CPU's counters around the timed bursts, where the VM has them
# (perf stat says first; bench_fastpath says so too). Only the counter rows
# are kept: the reads between bursts disturb this run's timings.
pc=$out/fastpath_perf.csv
echo "benchmark,variant,pairs,metric,value,unit,run" >"$pc"
perf_view() {
	command -v perf >/dev/null || { echo "perf not installed"; return; }
	perf stat -x, -e instructions:u,LLC-load-misses:u true 2>&1 >/dev/null |
		awk -F, '{printf "%s%s=%s", (NR > 1 ? ", " : ""), $3, $1}'
}
if stage perf; then
	say "perf stat: $(perf_view)"
	timeout -k 10 600 "$bench" --modes passthrough --pairs "$perf_pairs" --runs 1 \
		--packets $((1 << 18)) --perf-counters "${bench_mem[@]}" >"$tp/perf.csv" 2>"$tp/perf.log" ||
		{ tail -n 20 "$tp/perf.log" >&2; say "perf counter run failed"; }
	grep -h 'not exposed' "$tp/perf.log" >&2
	awk -F, '$4 == "perf_counters_exposed" || $4 == "hw_instructions_per_pkt" ||
		$4 == "llc_load_misses_per_pkt"' "$tp/perf.csv" >>"$pc"
fi

# 6. Two workers on the two CPUs against one, run after run.
if stage workers && [[ -n $w2_pairs ]]; then
	say "2 workers: passthrough at $w2_pairs pairs, $w2_runs runs"
	timeout -k 10 "$limit" "$bench" --modes passthrough --pairs "$w2_pairs" --workers 2 \
		--runs "$w2_runs" --packets "$w2_pkts" "${bench_mem[@]}" >>"$csv" 2>"$tp/w2.log" ||
		{ tail -n 20 "$tp/w2.log" >&2; say "2-worker run failed"; }
	grep -E 'workers|set-up' "$tp/w2.log" >&2
fi

# 7. Summary.
python3 - "$csv" "$cg" <<'EOF' | tee "$out/fastpath_summary.txt" >&2
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cg = list(csv.DictReader(open(sys.argv[2])))
def med(variant, pairs, metric):
    v = [float(r["value"]) for r in rows
         if r["variant"] == variant and r["pairs"] == pairs and r["metric"] == metric]
    return (statistics.median(v), min(v), max(v), len(v)) if v else None
keys = []
for r in rows:
    k = (r["variant"], r["pairs"])
    if k not in keys and med(*k, "ns_per_pkt"):
        keys.append(k)
print("fast path, median over runs (min..max), ns per packet:")
print(f"  {'variant':40s} {'pairs':>8s} {'ns/pkt':>9s} {'range':>19s} {'Mpps':>7s} {'drain ns':>8s} runs")
for v, p in keys:
    m = med(v, p, "ns_per_pkt")
    d = med(v, p, "drain_ns_per_pkt")
    drain = f"{d[0]:8.1f}" if d else f"{'-':>8s}"
    print(f"  {v:40s} {p:>8s} {m[0]:9.1f} {m[1]:9.1f}..{m[2]:<9.1f} {1e3 / m[0]:7.2f} "
          f"{drain} {m[3]}")
for r in cg:
    if r["metric"] == "instructions_per_pkt":
        print(f"  callgrind {r['variant']} P={r['pairs']}: {float(r['value']):.0f} instructions per packet")
for r in rows:
    if r["metric"] == "mpps_ratio":
        print(f"  {r['variant']} P={r['pairs']} run {r['run']}: {float(r['value']):.2f}x one worker")
for fam, goal, want in (("ip6", "V1", 1.1), ("ip46", "V2", 1.2)):
    for p in sorted({p for v, p in keys if v == "passthrough_" + fam}, key=int):
        a, b = med("passthrough_" + fam, p, "ns_per_pkt"), med("passthrough_ip4", p, "ns_per_pkt")
        if a and b:
            print(f"{goal}: passthrough_{fam} / passthrough_ip4 at {p} pair(s): {a[0]:.1f} / {b[0]:.1f} ns"
                  f" = {a[0] / b[0]:.2f} (goal <= {want}: {'met' if a[0] / b[0] <= want else 'missed'})")
pt = [p for v, p in keys if v == "passthrough"]
tp = med("testpmd_5tswap", "0", "ns_per_pkt")
if pt and tp:
    for goal, p, want in (("F2", min(pt, key=int), 1.5), ("F1", max(pt, key=int), 2.5)):
        d = med("passthrough", p, "ns_per_pkt")[0]
        ratio = d / tp[0]
        print(f"{goal}: duet passthrough at {p} pairs / testpmd 5tswap: {d:.1f} / {tp[0]:.1f} ns"
              f" = {ratio:.2f} (goal <= {want}: {'met' if ratio <= want else 'missed'};"
              f" the report pairs each run with its own window)")
EOF
say "wrote $csv, $cg, $pc"
