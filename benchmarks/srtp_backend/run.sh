#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Crypto backend prototype for duet's SRTP engine (README.md here): runs
# proto_cryptodev, which measures DPDK cryptodev (crypto_aesni_mb and
# crypto_aesni_gcm, cpu_crypto and op paths) and intel-ipsec-mb called
# directly (SSE, SSE without SHA-NI, AVX2, AVX512 managers; job API and GCM
# direct API) in turns, cell by cell, in one process, on 172-byte SRTP
# packets, bursts of 1, 4, 8, 16, 32, with 1 key and with KEYS keys.
# Writes OUT_DIR/srtp_backend.csv
#
#   benchmark,variant,sessions,metric,value,unit,run
#   srtp_backend,imb_job_avx512/cm_rekey/b32,100000,ns_per_pkt,301.2,ns,3
#
# OUT_DIR/srtp_backend.log (setup, sizes, self-test, the summary table of
# medians and ratios) and OUT_DIR/machine.txt (CPU, flags, load before and
# after). Not part of benchmarks/bench.sh: a one-off question.
#
#   usage: benchmarks/srtp_backend/run.sh BUILD_DIR OUT_DIR quick|full
#   (BUILD_DIR configured with -Dbenchmarks=enabled -Dbuildtype=release)
#
# quick: 5 runs x 65,536 packets per measurement (about 1 minute)
# full:  5 runs x 262,144 packets per measurement (about 4 minutes)
# Environment: SRTP_BACKEND_KEYS (default 100000), SRTP_BACKEND_ARGS (more
# harness options, e.g. "--workloads gcm_open --bursts 1,32"),
# SRTP_BACKEND_EAL_MEM (default "--no-huge -m 3072": 22.11's EAL refuses
# --in-memory with --no-huge, so each run has its own --file-prefix and
# --no-shconf instead).
set -euo pipefail

usage() {
	echo "usage: $0 BUILD_DIR OUT_DIR quick|full" >&2
	exit 2
}
[ $# -eq 3 ] || usage
build=$1 out=$2 mode=$3
case $mode in quick) packets=65536 ;; full) packets=262144 ;; *) usage ;; esac
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
bin=$build/benchmarks/srtp_backend/proto_cryptodev
[ -x "$bin" ] || { echo "$0: $bin not built (ninja -C $build)" >&2; exit 2; }
mkdir -p "$out"
csv=$out/srtp_backend.csv log=$out/srtp_backend.log machine=$out/machine.txt
keys=${SRTP_BACKEND_KEYS:-100000}
mem=${SRTP_BACKEND_EAL_MEM:---no-huge -m 3072}

{
	echo "date: $(date -u +%FT%TZ)"
	grep -m1 'model name' /proc/cpuinfo
	echo "cpus: $(nproc); $(lscpu | grep -E '^L[23] cache' | tr -s ' ' | paste -sd ';')"
	echo "flags that matter: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' |
		grep -xE 'aes|pclmulqdq|avx2|avx512f|avx512bw|avx512vl|vaes|vpclmulqdq|sha_ni|gfni|constant_tsc|nonstop_tsc' |
		paste -sd ' ')"
	echo "packages: $(dpkg-query -W -f '${Package} ${Version}; ' libipsec-mb1 librte-crypto-ipsec-mb23 libssl3 2>/dev/null)"
	# Wait (at most QUIET_WAIT s, default 120) for the others' load to fall
	# under QUIET_MAX % (default 15); the ratios hold either way.
	echo "busy before (others, % of all CPUs, after waiting for quiet): $(QUIET_WAIT=${QUIET_WAIT:-120} quiet_busy)"
	echo "uptime before: $(uptime)"
} >"$machine"
cat "$machine" >&2

read -ra mem_args <<<"$mem"
read -ra extra_args <<<"${SRTP_BACKEND_ARGS:-}"
args=("${mem_args[@]}" --no-shconf --no-pci --no-telemetry --file-prefix "srtpproto$$" -l 0
	--vdev crypto_aesni_mb --vdev crypto_aesni_gcm --log-level=lib.eal:warning --
	--keys "$keys" --packets "$packets" --runs 5 "${extra_args[@]}")
echo "$bin ${args[*]}" | tee "$log" >&2
echo "benchmark,variant,sessions,metric,value,unit,run" >"$csv"
start=$(date +%s)
rc=0
"$bin" "${args[@]}" >>"$csv" 2> >(tee -a "$log" >&2) || rc=$?
wait
{
	echo "uptime after: $(uptime)"
	echo "busy after (others, % of all CPUs over 1 s): $(busy_pct 1)"
	echo "elapsed: $(($(date +%s) - start)) s, exit $rc"
} | tee -a "$machine" >&2
exit "$rc"
