#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# SRTP cost per packet, in two stages:
#
# 1. libsrtp2 (issue "Benchmarks", item 3): bench_srtp_openssl (duet's
#    static libsrtp2 on OpenSSL, what duetd runs) and bench_srtp_nss
#    (Debian's libsrtp2.so on NSS) for every suite and session count, into
#    OUT_DIR/srtp.csv:
#
#      benchmark,variant,sessions,metric,value,unit,run
#      srtp,openssl/AES_CM_128_HMAC_SHA1_80/duet_verify,10000,ns_per_pkt,812.3,ns,2
#
# 2. engine (issue "SRTP engine", goals S1-S5): bench_srtpe, duet's own
#    SRTP engine (lib/srtpe, intel-ipsec-mb) against the same manager doing
#    only the crypto, for every suite at 1 and 100,000 sessions (full: also
#    1,000 and 10,000), into OUT_DIR/srtpe.csv:
#
#      srtpe,AES_CM_128_HMAC_SHA1_80/engine_verify,100000,ns_per_pkt,401.2,ns,3
#      srtpe,AES_CM_128_HMAC_SHA1_80/verify,100000,bytes_per_pair,1248,B,0
#
# Both stages use the same packets (RTP header + SRTP_PAYLOAD bytes, 160 by
# default: 172-byte packets), so that the report can set the engine against
# libsrtp2 from one run; each CSV has a row saying the payload. Plus
# OUT_DIR/srtp.log (every command and its setup times) and a summary
# (medians, goal ratios) of stage 1 on stdout.
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
# Stage 2 takes turns the same way: one bench_srtpe process per session
# count, handed one round each in turn; within a round, engine and raw
# variants take turns every 512 packets (bench_srtpe.c). quick: 5 rounds,
# 50,000 timed packets per variant and round (about 1 minute); full: 10.
#
# Environment (for a closer look): SRTP_ONLY=libsrtp2|engine (one stage),
# SRTP_SUITES="AEAD_AES_128_GCM ..." (both stages), SRTP_CONFIGS=
# "sessions:packets:warmup:pair ..." (stage 1), SRTPE_CONFIGS=
# "sessions:packets:warmup ..." (stage 2), SRTPE_ARGS (more bench_srtpe
# options, e.g. --no-sse), SRTP_RUNS=R, SRTP_PAYLOAD=bytes (default 160).
#
# Timing is each process's CPU time (bench_harness.c), so a busy machine costs
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
only=${SRTP_ONLY:-}
case $only in
"" | libsrtp2 | engine) ;;
*) echo "$0: SRTP_ONLY=$only: want libsrtp2 or engine" >&2; exit 2 ;;
esac
bench_a=$build/benchmarks/srtp/bench_srtp_openssl
bench_b=$build/benchmarks/srtp/bench_srtp_nss
bench_e=$build/benchmarks/srtp/bench_srtpe
for b in $([ "$only" = engine ] || echo "$bench_a") $([ "$only" = libsrtp2 ] || echo "$bench_e"); do
	[ -x "$b" ] || { echo "$0: $b not built (ninja -C $build)" >&2; exit 2; }
done
have_b=1
if [ ! -x "$bench_b" ]; then
	[ "$only" = engine ] || echo "$0: $bench_b not built (libsrtp2-dev missing?): OpenSSL only" >&2
	have_b=0
fi
mkdir -p "$out"
csv=$out/srtp.csv ecsv=$out/srtpe.csv log=$out/srtp.log
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

suites=${SRTP_SUITES:-AES_CM_128_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_32 AEAD_AES_128_GCM AEAD_AES_256_GCM}
# RTP payload bytes, both stages (Opus: 60..160; 160: G.711 at 20 ms, the
# 172-byte packets of the engine's goals).
payload=${SRTP_PAYLOAD:-160}
# Configurations: sessions:packets:warmup:pair (pair=1: both builds in turns),
# and for the engine sessions:packets:warmup.
# Warm-up packets are also capped at max(sessions, 1000) by the programs.
if [ "$mode" = quick ]; then
	runs=5
	configs="1:20000:1000:1 10000:20000:10000:0 100000:10000:10000:0"
	econfigs="1:50000:1000 100000:50000:20000"
else
	runs=10
	configs="1:50000:1000:1 100:20000:1000:1 1000:2000:1000:1"
	configs="$configs 10000:50000:10000:0 100000:30000:30000:0"
	econfigs="1:100000:1000 1000:100000:1000 10000:100000:10000 100000:100000:50000"
fi
runs=${SRTP_RUNS:-$runs}
configs=${SRTP_CONFIGS:-$configs}
econfigs=${SRTPE_CONFIGS:-$econfigs}
eargs=${SRTPE_ARGS:-}

: >"$log"
failed=0
start=$(date +%s)

# A byte from process $1 of take_turns (its arrays): set up, or its round
# done. A process that exits instead (a failure) ends the suite.
answer() {
	local c
	until read -r -n 1 -t 2 -u "${dfd[$1]}" c; do
		kill -0 "${pids[$1]}" 2>/dev/null || return 1
	done
}

# Run the processes of cmds[] (one command line each; no argument has a
# space) in turns: start them all, wait until each has set up, then give
# each one round in turn, R times over. Process i reads its turn from FIFO
# t<i>, answers on FIFO d<i>, and its rows go to the CSV dests[i].
take_turns() {
	local i r c ok=1
	local -a pids=() tfd=() dfd=() argv
	for i in "${!cmds[@]}"; do
		rm -f "$tmp/t$i" "$tmp/d$i"
		mkfifo "$tmp/t$i" "$tmp/d$i"
		# <> opens a FIFO without waiting for the other end.
		exec {c}<>"$tmp/t$i"
		tfd+=("$c")
		exec {c}<>"$tmp/d$i"
		dfd+=("$c")
		echo "${cmds[$i]}" >>"$log"
		read -r -a argv <<<"${cmds[$i]}"
		"${argv[@]}" --turn-in 3 --turn-out 4 3<>"$tmp/t$i" 4<>"$tmp/d$i" \
			>"$tmp/$i.csv" 2>"$tmp/$i.err" &
		pids+=($!)
	done
	for i in "${!cmds[@]}"; do
		answer "$i" || { ok=0; break; }
	done
	for ((r = 1; r <= runs && ok; r++)); do
		for i in "${!cmds[@]}"; do
			printf t >&"${tfd[$i]}"
			answer "$i" || { ok=0; break; }
		done
	done
	for i in "${!cmds[@]}"; do
		[ "$ok" = 1 ] || kill "${pids[$i]}" 2>/dev/null || true
		wait "${pids[$i]}" || failed=1
		c=${tfd[$i]}
		exec {c}>&-
		c=${dfd[$i]}
		exec {c}>&-
		cat "$tmp/$i.err" >>"$log"
		cat "$tmp/$i.csv" >>"${dests[$i]}"
	done
	[ "$ok" = 1 ] || failed=1
}

# Stage 1, one suite: a process per build and configuration.
run_suite() {
	local suite=$1 cfg n m w pair bin common
	cmds=() dests=()
	for cfg in $configs; do
		IFS=: read -r n m w pair <<<"$cfg"
		common="--packets $m --warmup $w --payload $payload --runs $runs"
		for bin in "$bench_a" $([ "$pair" = 1 ] && [ "$have_b" = 1 ] && echo "$bench_b"); do
			cmds+=("$bin --suite $suite --sessions $n $common")
			dests+=("$csv")
		done
	done
	take_turns
}

# Stage 2, one suite: a bench_srtpe process per session count.
run_engine_suite() {
	local suite=$1 cfg n m w common
	cmds=() dests=()
	for cfg in $econfigs; do
		IFS=: read -r n m w <<<"$cfg"
		common="--packets $m --warmup $w --payload $payload --runs $runs"
		cmds+=("$bench_e --suite $suite --sessions $n $common $eargs")
		dests+=("$ecsv")
	done
	take_turns
}

# One stage into CSV $2 (first column $3): the header and payload rows,
# then every suite through $4 (run_suite or run_engine_suite), which
# runs the configurations $5. $1 names the stage in messages.
run_stage() {
	local stage=$1 dest=$2 bench=$3 suite_fn=$4 cfgs=$5 suite tag=
	[ "$stage" = libsrtp2 ] || tag="$stage "
	echo "benchmark,variant,sessions,metric,value,unit,run" >"$dest"
	echo "$bench,env,0,rtp_payload,$payload,B,0" >>"$dest"
	for suite in $suites; do
		echo "srtp: $tag$suite: $cfgs x $runs rounds ($(($(date +%s) - start)) s)" >&2
		"$suite_fn" "$suite"
	done
	echo "srtp: $stage done in $(($(date +%s) - start)) s: $dest" >&2
}

[ "$only" = engine ] || run_stage libsrtp2 "$csv" srtp run_suite "$configs"
[ "$only" = libsrtp2 ] || run_stage engine "$ecsv" srtpe run_engine_suite "$econfigs"

if command -v python3 >/dev/null; then
	[ "$only" = engine ] || python3 "$here/summarize.py" "$csv" || true
	[ "$only" = libsrtp2 ] || python3 "$here/summarize.py" "$ecsv" || true
fi
if [ "$failed" -ne 0 ]; then
	echo "srtp: some packets failed or a program exited non-zero: see $log" >&2
	exit 1
fi
