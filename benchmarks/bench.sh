#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# bench.sh: duet's benchmark harness (`make bench`). Installs what the
# benchmarks need from Debian, builds duet with optimisation and the
# benchmark programs, runs every benchmark folder's run.sh (fastpath, srtp,
# memif, peer, control, guard) in a quick or full setting, and writes a dated
# folder benchmarks/results/<date>-<setting>/ with report.md, the raw CSV
# of every benchmark and PNG plots (gnuplot). Benchmarks, never tests: no
# goal here fails the run; the report says met or not.
#
# usage: BENCH=quick|full bash benchmarks/bench.sh      (default quick)
# Expected time on a 2-core VM with issue 11's additions (estimated from
# each part's sizes, not yet timed as a whole): quick about 14 minutes
# (fastpath 5.5 with issue 14's IPv6 stage, srtp 1, memif 2.5, peer 1,
# control 3, guard 1.5; it was 8), full about 54 (fastpath 10.5, srtp 7.5,
# memif 22, peer 2.5, control 6.5, guard 2; it was 40).
# environment: BENCH_ONLY="fastpath srtp" runs a subset; BENCH_BUILD (build
# dir, default build-bench); BENCH_OUT (result dir); BENCH_HUGE=0 (DPDK on
# --no-huge even where hugepages could be had), BENCH_HUGE_MB (3584: MiB of
# 2 MiB pages to have free). Every part also takes knobs of its own for
# short smoke runs (see each run.sh's header); fastpath's FASTPATH_STAGES
# picks its stages, e.g. FASTPATH_STAGES=ipv6 BENCH_ONLY=fastpath for issue
# 14's V1, V2 alone.
set -uo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$src"

BENCH=${BENCH:-quick}
case $BENCH in quick | full) ;; *)
	echo "bench: BENCH='$BENCH' is not quick or full" >&2
	exit 2
	;;
esac
BUILD=${BENCH_BUILD:-$src/build-bench}
ALL="fastpath srtp memif peer control guard"
ONLY=${BENCH_ONLY:-$ALL}
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
OUT=${BENCH_OUT:-$src/benchmarks/results/$stamp-$BENCH}

say() { printf '[bench %s] %s\n' "$(date -u +%T)" "$*"; }

if [[ $(id -u) != 0 ]]; then
	echo "bench: needs root (network namespaces, hugepages, apt-get)" >&2
	exit 1
fi

# 1. What the benchmarks need beyond the build and test dependencies.
say "installing dependencies"
bash tools/install-deps.sh || exit 1
need=(gnuplot-nox valgrind linux-perf)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
		say "could not install ${missing[*]} (plots or profiles may be missing)"
fi
for b in $ONLY; do
	[[ -f benchmarks/$b/deps.sh ]] && { bash "benchmarks/$b/deps.sh" || say "$b: deps.sh failed"; }
done

# 2. An optimised build with the benchmark programs.
say "building $BUILD (release, benchmarks enabled)"
if [[ ! -f $BUILD/build.ninja ]]; then
	meson setup "$BUILD" -Dbuildtype=release -Dtests=disabled -Dbenchmarks=enabled >/dev/null || exit 1
fi
ninja -C "$BUILD" >/dev/null || { ninja -C "$BUILD"; exit 1; }

# 3. Hugepages for every DPDK process of the benchmarks, when the kernel has
# them and memory is free: 3.5 GiB of 2 MiB pages (the fast path's largest
# moment: bench_fastpath's 2 GiB at 1,000,000 pairs beside testpmd's 1 GiB),
# reserved and mounted here and given back at exit; else --no-huge
# (machine.txt says which, and why). BENCH_HUGE=0 forces --no-huge.
# shellcheck source=hugepages.sh
source benchmarks/hugepages.sh
trap huge_release EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
huge_reserve "${BENCH_HUGE_MB:-3584}"
say "memory: $HUGE_NOTE"

# 4. The machine, for every figure.
mkdir -p "$OUT"
{
	echo "date_utc=$(date -u +%FT%TZ)"
	echo "setting=$BENCH"
	echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "cores=$(nproc)"
	echo "mem_gib=$(awk '/MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)"
	echo "kernel=$(uname -r)"
	echo "dpdk=$(pkg-config --modversion libdpdk)"
	echo "libsrtp2_duet=$(cat subprojects/libsrtp2/.duet-from-debian 2>/dev/null) built on OpenSSL $(pkg-config --modversion openssl), static"
	echo "libsrtp2_debian=$(dpkg-query -W -f='${Version}' libsrtp2-1 2>/dev/null) (Debian binary, NSS $(pkg-config --modversion nss 2>/dev/null || echo '?'))"
	echo "duet_commit=$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo '+dirty')"
	echo "hugepages=$BENCH_HUGEPAGES"
	echo "hugepages_note=$HUGE_NOTE"
	echo "hugepages_2m=$(cat "$HUGE_SYS/nr_hugepages" 2>/dev/null || echo 0)"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt"

# 5. Every benchmark; one failing does not stop the others.
status=()
for b in $ONLY; do
	if [[ ! -x benchmarks/$b/run.sh && ! -f benchmarks/$b/run.sh ]]; then
		status+=("$b: not built yet (no benchmarks/$b/run.sh)")
		continue
	fi
	say "running $b ($BENCH)"
	t0=$SECONDS
	bash "benchmarks/$b/run.sh" "$BUILD" "$OUT" "$BENCH" >"$OUT/$b.log" 2>&1
	rc=$?
	status+=("$b: exit $rc in $((SECONDS - t0)) s (log: $b.log)")
	say "$b: exit $rc in $((SECONDS - t0)) s"
done
printf '%s\n' "${status[@]}" >"$OUT/status.txt"

# 6. The report and plots.
say "writing report"
python3 benchmarks/report.py "$OUT" || exit 1
mkdir -p "$src/benchmarks/results" && ln -sfn "$OUT" "$src/benchmarks/results/latest"
say "report: $OUT/report.md"
