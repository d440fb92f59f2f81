#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# SRTP cost per packet (issue "Benchmarks", item 3): runs bench_srtp_openssl
# (duet's static libsrtp2 on OpenSSL, what duetd runs) and bench_srtp_nss
# (Debian's libsrtp2.so on NSS) for every suite and session count and
# writes OUT_DIR/srtp.csv:
#
#   benchmark,variant,sessions,metric,value,unit,run
#   srtp,openssl/AES_CM_128_HMAC_SHA1_80/duet_verify,10000,ns_per_pkt,812.3,ns,2
#
# plus OUT_DIR/srtp.log (every command and its setup times) and a summary
# (medians, goal ratios) on stdout.
#
#   usage: benchmarks/srtp/run.sh BUILD_DIR OUT_DIR quick|full
#   (BUILD_DIR configured with -Dbuildtype=release)
#
# For one suite at a time, one process per build and session count sets
# its sessions up once; then this script hands the turn round them, one
# round each (OpenSSL 1, NSS 1, OpenSSL 10000, OpenSSL 100000, OpenSSL 1,
# ...), so both builds and all counts are measured interleaved, under the
# same machine conditions. Within a round, raw and duet variants take turns
# every 500 packets (bench_srtp.c).
#
# quick: 5 rounds; N = 1 for both builds, 10,000 and 100,000 for OpenSSL
#        only (about 2 minutes on a 2-core machine).
# full:  10 rounds, more packets; N = 1, 100 and 1,000 for both builds,
#        10,000 and 100,000 for OpenSSL only.
# NSS is not run at 10,000 or 100,000 sessions: setting up N sessions on it
# takes time superlinear in N (libsrtp2's NSS backend opens an NSS context
# per cipher; 10,000 did not finish in 8 minutes) and its per-packet cost
# grows with the number of live sessions; the 100 and 1,000 rows in full
# show that growth.
#
# Environment (for a closer look): SRTP_SUITES="AEAD_AES_128_GCM ...",
# SRTP_CONFIGS="sessions:packets:warmup:pair ...", SRTP_RUNS=R,
# SRTP_PAYLOAD=bytes (default 100).
#
# Timing is each process's CPU time (bench_srtp.c), so a busy machine costs
# precision, not a bias from preemption. Any packet that fails (auth,
# replay) makes the run exit 1: the figures would not be honest.
set -euo pipefail

usage() {
	echo "usage: $0 BUILD_DIR OUT_DIR quick|full" >&2
	exit 2
}
[ $# -eq 3 ] || usage
build=$1 out=$2 mode=$3
case $mode in quick | full) ;; *) usage ;; esac
here=$(cd "$(dirname "$0")" && pwd)
bench_a=$build/benchmarks/srtp/bench_srtp_openssl
bench_b=$build/benchmarks/srtp/bench_srtp_nss
[ -x "$bench_a" ] || { echo "$0: $bench_a not built (ninja -C $build)" >&2; exit 2; }
have_b=1
if [ ! -x "$bench_b" ]; then
	echo "$0: $bench_b not built (libsrtp2-dev missing?): OpenSSL only" >&2
	have_b=0
fi
mkdir -p "$out"
csv=$out/srtp.csv log=$out/srtp.log
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

suites=${SRTP_SUITES:-AES_CM_128_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_32 AEAD_AES_128_GCM AEAD_AES_256_GCM}
payload=${SRTP_PAYLOAD:-100} # RTP payload bytes (Opus: 60..160)
# Configurations: sessions:packets:warmup:pair (pair=1: both builds in turns).
# Warm-up packets are also capped at max(sessions, 1000) by the program.
if [ "$mode" = quick ]; then
	runs=5
	configs="1:20000:1000:1 10000:20000:10000:0 100000:10000:10000:0"
else
	runs=10
	configs="1:50000:1000:1 100:20000:1000:1 1000:2000:1000:1"
	configs="$configs 10000:50000:10000:0 100000:30000:30000:0"
fi
runs=${SRTP_RUNS:-$runs}
configs=${SRTP_CONFIGS:-$configs}

echo "benchmark,variant,sessions,metric,value,unit,run" >"$csv"
: >"$log"
failed=0
start=$(date +%s)

# A byte from process $1 of run_suite (its arrays): set up, or its round
# done. A process that exits instead (a failure) ends the suite.
answer() {
	local c
	until read -r -n 1 -t 2 -u "${dfd[$1]}" c; do
		kill -0 "${pids[$1]}" 2>/dev/null || return 1
	done
}

# One suite: start a process per configuration, wait until each has set up
# its sessions, then give each one round in turn, R times over.
# Process i reads its turn from FIFO t<i> and answers on FIFO d<i>.
run_suite() {
	local suite=$1 cfg n m w pair bin i r c ok=1
	local -a bins=() ns=() ms=() ws=() pids=() tfd=() dfd=()
	for cfg in $configs; do
		IFS=: read -r n m w pair <<<"$cfg"
		bins+=("$bench_a") ns+=("$n") ms+=("$m") ws+=("$w")
		if [ "$pair" = 1 ] && [ "$have_b" = 1 ]; then
			bins+=("$bench_b") ns+=("$n") ms+=("$m") ws+=("$w")
		fi
	done
	for i in "${!bins[@]}"; do
		rm -f "$tmp/t$i" "$tmp/d$i"
		mkfifo "$tmp/t$i" "$tmp/d$i"
		# <> opens a FIFO without waiting for the other end.
		exec {c}<>"$tmp/t$i"
		tfd+=("$c")
		exec {c}<>"$tmp/d$i"
		dfd+=("$c")
		local args=(--suite "$suite" --sessions "${ns[$i]}" --packets "${ms[$i]}"
			--warmup "${ws[$i]}" --payload "$payload" --runs "$runs")
		echo "${bins[$i]} ${args[*]}" >>"$log"
		"${bins[$i]}" "${args[@]}" --turn-in 3 --turn-out 4 3<>"$tmp/t$i" 4<>"$tmp/d$i" \
			>"$tmp/$i.csv" 2>"$tmp/$i.err" &
		pids+=($!)
	done
	for i in "${!bins[@]}"; do
		answer "$i" || { ok=0; break; }
	done
	for ((r = 1; r <= runs && ok; r++)); do
		for i in "${!bins[@]}"; do
			printf t >&"${tfd[$i]}"
			answer "$i" || { ok=0; break; }
		done
	done
	for i in "${!bins[@]}"; do
		[ "$ok" = 1 ] || kill "${pids[$i]}" 2>/dev/null || true
		wait "${pids[$i]}" || failed=1
		c=${tfd[$i]}
		exec {c}>&-
		c=${dfd[$i]}
		exec {c}>&-
		cat "$tmp/$i.err" >>"$log"
		cat "$tmp/$i.csv" >>"$csv"
	done
	[ "$ok" = 1 ] || failed=1
}

for suite in $suites; do
	echo "srtp: $suite: $configs x $runs rounds ($(($(date +%s) - start)) s)" >&2
	run_suite "$suite"
done
echo "srtp: done in $(($(date +%s) - start)) s: $csv" >&2

if command -v python3 >/dev/null; then
	python3 "$here/summarize.py" "$csv" || true
fi
if [ "$failed" -ne 0 ]; then
	echo "srtp: some packets failed or a program exited non-zero: see $log" >&2
	exit 1
fi
