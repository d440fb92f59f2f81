#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs the libFuzzer targets of tests/fuzz for a fixed time each; what
# `make fuzz FUZZ_SECONDS=N` calls, after it has configured BUILD_DIR
# (clang, ASan + UBSan, -fsanitize=fuzzer-no-link everywhere).
#
#   bash tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#
# FUZZ_RUNS=N in the environment also stops each target after N
# executions, whichever comes first (the long campaign of the closing
# notes: FUZZ_SECONDS=3600 FUZZ_RUNS=10000000).
#
# Builds the targets (all by default), then runs each one after the other
# for SECONDS on a scratch copy of its corpus (tests/fuzz/corpus/TARGET;
# what libFuzzer adds to it is thrown away, so the committed corpus stays as
# it is) and prints one line per target:
#   fuzz TARGET: EXECS execs, CRASHES crashes
# libFuzzer stops at its first crash, timeout, leak or out-of-memory; that
# input is copied to tests/fuzz/crashes/TARGET/ (replay it with
# BUILD_DIR/tests/fuzz/fuzz_TARGET FILE) and the sanitizer's report is
# printed after the target's line. crashes/ holds open findings and is not
# replayed here; once the bug is fixed, its reproducer moves into
# corpus/TARGET/, where every run replays it. Exits 1 if any target
# crashed (or failed to start), 0 otherwise.
set -uo pipefail
cd "$(dirname "$0")/../.."

if [ $# -lt 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
	exit 2
fi
build=$1
seconds=$2
shift 2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	targets=(pkt_parse worker_burst contract_record sdes_parse addr cidr_parse conf sync_replies
		lua_args srtpe_unprotect)
fi

scratch=$(mktemp -d /tmp/duet-fuzz-XXXXXX)
trap 'rm -rf "$scratch"' EXIT

bins=()
for t in "${targets[@]}"; do
	bins+=("tests/fuzz/fuzz_$t")
done
if ! ninja -C "$build" "${bins[@]}" >"$scratch/build.log" 2>&1; then
	cat "$scratch/build.log" >&2
	echo "fuzz: building the targets failed" >&2
	exit 1
fi

failed=0
for t in "${targets[@]}"; do
	work=$scratch/$t
	mkdir -p "$work/corpus" "$work/artifacts"
	if [ -d "tests/fuzz/corpus/$t" ]; then
		cp -R "tests/fuzz/corpus/$t/." "$work/corpus/"
	fi
	# -timeout: an input that runs this long is a hang, reported as a
	# crash; below it, a slow input is not one (-report_slow_units would
	# otherwise leave an artifact at 10 s, which a loaded or paused machine
	# makes of anything). The sanitizers abort on their first finding.
	ASAN_OPTIONS=detect_leaks=1 \
		LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp \
		UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1 \
		"$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=25 -report_slow_units=25 ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} \
		-print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" \
		>"$work/log" 2>&1 </dev/null
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
	crashes=$(find "$work/artifacts" -type f | wc -l)
	# A non-zero exit without an artifact (the target could not start, a
	# sanitizer report outside any input) still fails the run.
	if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
		crashes=1
	fi
	echo "fuzz $t: ${execs:-0} execs, $crashes crashes"
	if [ "$crashes" -gt 0 ]; then
		failed=1
		mkdir -p "tests/fuzz/crashes/$t"
		find "$work/artifacts" -type f -exec cp {} "tests/fuzz/crashes/$t/" \;
		# The sanitizer's report and what libFuzzer says of the input.
		grep -v -E '^#[0-9]+[[:space:]]|^INFO: |NEW_FUNC' "$work/log" | tail -n 60 >&2
	fi
done
exit $failed
