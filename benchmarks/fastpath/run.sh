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
#     (testpmd's run is its window number).
#  3. bench_fastpath again, short, under valgrind --tool=callgrind with
#     --toggle-collect on the functions that wrap the timed work, for
#     passthrough at 1 and 10000 pairs: OUT_DIR/fastpath_callgrind.csv
#     (instructions per packet) and fastpath_callgrind_top.txt (where they go).
#  4. A summary on stderr and in OUT_DIR/fastpath_summary.txt: medians over
#     the runs, and duet passthrough at the most pairs over testpmd (goal
#     <= 1.25).
#
# usage: run.sh BUILD_DIR OUT_DIR quick|full
#   quick: 5 runs, 2^19 passthrough / 8192 keyed packets per run, 0.3 s
#          testpmd windows; about 2-3 minutes on 2 cores.
#   full:  7 runs, 2^21 / 24576 packets, 1 s windows.
# environment: FASTPATH_CPU (the CPU both run on; default the last one),
# FASTPATH_HUGEPAGES=1 (EAL on hugepages, --in-memory, for both; the
# default is --no-huge, which needs no set-up), FASTPATH_ARGS (more
# bench_fastpath options, e.g. "--modes passthrough").
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
quick) runs=5 window=0.3 limit=420 ;;
full) runs=7 window=1 limit=3600 ;;
*) usage ;;
esac
[[ -x $bench ]] || { echo "run.sh: $bench not built (meson: subdir benchmarks/fastpath)" >&2; exit 1; }
command -v dpdk-testpmd >/dev/null || { echo "run.sh: dpdk-testpmd not installed (apt-get install dpdk)" >&2; exit 1; }
mkdir -p "$out" || exit 1

say() { printf '[fastpath %s] %s\n' "$(date -u +%T)" "$*" >&2; }

if [[ ${FASTPATH_HUGEPAGES:-0} == 1 ]]; then
	bench_mem=(--hugepages --mem 2048)
	export FASTPATH_EAL_MEM="--in-memory -m 1024"
else
	bench_mem=(--mem 2048)
	export FASTPATH_EAL_MEM="--no-huge -m 1024"
fi
[[ -n ${FASTPATH_CPU:-} ]] && bench_mem+=(--cpu "$FASTPATH_CPU")

tp=$(mktemp -d /tmp/fastpath-run.XXXXXX)
cleanup() {
	bash "$here/testpmd.sh" stop "$tp/testpmd" 2>/dev/null
	rm -rf "$tp"
}
trap cleanup EXIT

csv=$out/fastpath.csv
echo "benchmark,variant,pairs,metric,value,unit,run" >"$csv"

# 1-2. duet and testpmd, interleaved.
say "starting dpdk-testpmd (the anchor)"
FASTPATH_TESTPMD_LIMIT=$((limit + 60)) bash "$here/testpmd.sh" start "$tp/testpmd" || exit 1
say "bench_fastpath --$setting, $runs runs, a ${window} s testpmd window after each"
# shellcheck disable=SC2086
timeout -k 10 "$limit" "$bench" "--$setting" --runs "$runs" "${bench_mem[@]}" \
	--between "bash '$here/testpmd.sh' window '$tp/testpmd' $window" ${FASTPATH_ARGS:-} >>"$csv"
rc=$?
bash "$here/testpmd.sh" stop "$tp/testpmd"
((rc == 0)) || { say "bench_fastpath failed (exit $rc)"; exit 1; }

# 3. Instructions per packet under callgrind (only the timed functions
# are collected; one dump per measurement, named by a client request).
cg=$out/fastpath_callgrind.csv
echo "benchmark,variant,pairs,metric,value,unit,run" >"$cg"
if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
	say "callgrind: passthrough at 1 and 10000 pairs"
	timeout -k 10 600 valgrind --tool=callgrind --collect-atstart=no \
		--toggle-collect=bench_fp_burst --toggle-collect=bench_fp_drain \
		--callgrind-out-file="$tp/cg.out" "$bench" --modes passthrough --pairs 1,10000 \
		--runs 1 --packets 16384 "${bench_mem[@]}" >"$tp/cg.csv" 2>"$tp/cg.log" ||
		{ tail -n 20 "$tp/cg.log" >&2; say "callgrind run failed"; }
	: >"$out/fastpath_callgrind_top.txt"
	for f in "$tp"/cg.out.*; do
		[[ -f $f ]] || continue
		label=$(sed -n 's/^desc: Trigger: Client Request: //p' "$f")
		[[ $label =~ ^([^ ]+)\ P=([0-9]+)\ run=([0-9]+)\ packets=([0-9]+)$ ]] || continue
		variant=${BASH_REMATCH[1]} pairs=${BASH_REMATCH[2]} pkts=${BASH_REMATCH[4]}
		callgrind_annotate --inclusive=yes "$f" 2>/dev/null >"$tp/incl.txt"
		ir() { awk -v fn="$1" '$0 ~ "[?]:" fn " " {gsub(",", "", $1); print $1; exit}' "$tp/incl.txt"; }
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

# 4. Summary.
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
    if k not in keys:
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
pt = [p for v, p in keys if v == "passthrough"]
tp = med("testpmd_5tswap", "0", "ns_per_pkt")
if pt and tp:
    big = max(pt, key=int)
    d = med("passthrough", big, "ns_per_pkt")[0]
    ratio = d / tp[0]
    print(f"ratio duet passthrough at {big} pairs / testpmd 5tswap: {d:.1f} / {tp[0]:.1f} ns = "
          f"{ratio:.2f} (goal <= 1.25: {'met' if ratio <= 1.25 else 'missed'})")
EOF
say "wrote $csv, $cg"
