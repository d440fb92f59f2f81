#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# run.sh: what the issue 8 protections cost on the fast path (goal
# guard_cost: passthrough ns/packet within +10% at 1 and at 1,000,000
# pairs). The protections are built into the worker, so "without" is the
# commit before them (BASE, default abf3a81), built beside this checkout
# in a git worktree with the same options; "with" is BUILD_DIR's
# bench_fastpath, which runs every packet through the per-leg policer (at
# limits no run reaches), the egress header rewrite and the evidence
# parse, and every latch through the source policy. The two programs run
# alternately, R times each, on the same CPU, in one run.
#
# usage: run.sh BUILD_DIR OUT_DIR quick|full
#   quick: 3 alternations, 2^19 packets per run; full: 5, 2^21.
# environment: GUARD_BASE (the commit without the protections),
# GUARD_PAIRS (default 1,1000000), FASTPATH_CPU. EAL on hugepages when the
# harness has 2 GiB of them free (benchmarks/hugepages.sh), else --no-huge.
# Writes OUT_DIR/guard.csv (benchmark,variant,pairs,metric,value,unit,run;
# variant before|after) and OUT_DIR/guard_summary.txt.
set -uo pipefail

usage() {
	echo "usage: run.sh BUILD_DIR OUT_DIR quick|full" >&2
	exit 2
}
(($# == 3)) || usage
build=$(cd "$1" && pwd) || usage
out=$2
case $3 in
quick) reps=3 pkts=$((1 << 19)) ;;
full) reps=5 pkts=$((1 << 21)) ;;
*) usage ;;
esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
base=${GUARD_BASE:-abf3a81}
pairs=${GUARD_PAIRS:-1,1000000}
after=$build/benchmarks/fastpath/bench_fastpath
[[ -x $after ]] || { echo "run.sh: $after not built" >&2; exit 1; }
mkdir -p "$out" || exit 1
say() { printf '[guard %s] %s\n' "$(date -u +%T)" "$*" >&2; }

tp=$(mktemp -d /tmp/guard-run.XXXXXX)
cleanup() {
	git -C "$src" worktree remove --force "$tp/base" >/dev/null 2>&1
	rm -rf "$tp"
}
trap cleanup EXIT

say "building $base (without the protections) beside this checkout"
git -C "$src" worktree add --detach "$tp/base" "$base" >/dev/null 2>&1 ||
	{ say "cannot check out $base"; exit 1; }
# libsrtp2 is unpacked from Debian's source package, not committed.
mkdir -p "$tp/base/subprojects" && cp -a "$src/subprojects/libsrtp2" "$tp/base/subprojects/" || exit 1
meson setup "$tp/base/build" "$tp/base" -Dbuildtype=release -Dtests=disabled \
	-Dbenchmarks=enabled >"$tp/setup.log" 2>&1 || { tail "$tp/setup.log" >&2; exit 1; }
ninja -C "$tp/base/build" benchmarks/fastpath/bench_fastpath >"$tp/build.log" 2>&1 ||
	{ tail "$tp/build.log" >&2; exit 1; }
before=$tp/base/build/benchmarks/fastpath/bench_fastpath

mem=(--mem 2048)
# Both builds on hugepages when the harness has them (one at a time).
# shellcheck source=../hugepages.sh
source "$here/../hugepages.sh"
huge_usable 2048 && mem+=(--hugepages)
[[ -n ${FASTPATH_CPU:-} ]] && mem+=(--cpu "$FASTPATH_CPU")
csv=$out/guard.csv
echo "benchmark,variant,pairs,metric,value,unit,run" >"$csv"
for ((r = 1; r <= reps; r++)); do
	for v in before after; do
		bin=$before
		[[ $v == after ]] && bin=$after
		say "run $r/$reps: $v"
		timeout -k 10 900 "$bin" --modes passthrough --pairs "$pairs" --runs 1 \
			--packets "$pkts" "${mem[@]}" >"$tp/$v.csv" 2>"$tp/$v.log" ||
			{ tail -n 20 "$tp/$v.log" >&2; say "$v failed"; exit 1; }
		awk -F, -v v="$v" -v r="$r" '$1 == "fastpath" && $2 == "passthrough" {
			printf "guard,%s,%s,%s,%s,%s,%s\n", v, $3, $4, $5, $6, r }' "$tp/$v.csv" >>"$csv"
	done
done

python3 - "$csv" "$base" <<'PY' | tee "$out/guard_summary.txt" >&2
import csv, statistics, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["metric"] == "ns_per_pkt"]
pairs = sorted({int(r["pairs"]) for r in rows})
print(f"guard_cost: passthrough ns/packet, median of alternated runs "
      f"(before = {sys.argv[2]}, without the issue 8 checks; after = this build)")
worst = 0.0
for p in pairs:
    b = [float(r["value"]) for r in rows if r["variant"] == "before" and int(r["pairs"]) == p]
    a = [float(r["value"]) for r in rows if r["variant"] == "after" and int(r["pairs"]) == p]
    if not a or not b:
        continue
    mb, ma = statistics.median(b), statistics.median(a)
    d = (ma / mb - 1) * 100
    worst = max(worst, d)
    print(f"  {p:>8d} pairs: before {mb:7.1f} ns ({min(b):.1f}..{max(b):.1f}), "
          f"after {ma:7.1f} ns ({min(a):.1f}..{max(a):.1f}), {d:+.1f}% over {len(a)} runs")
print(f"guard_cost goal <= +10%: {'met' if worst <= 10 else 'missed'} (worst {worst:+.1f}%)")
PY
say "wrote $csv"
