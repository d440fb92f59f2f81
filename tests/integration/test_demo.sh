#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_demo: tools/demo.sh, the README's first command, works: a short run
# relays the call both ways with live counters and a summary, exits 0, and
# leaves no namespace, process or temp dir behind; Ctrl-C (SIGINT) mid-run
# stops it early, still with a summary and a full teardown.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_need_bins duetd duetctl
demo=$DUET_SRC_ROOT/tools/demo.sh

# leftovers OUTPUT: what the demo run that printed OUTPUT left behind: its
# own namespaces and temp dir (named in its output), so other runs going on
# at the same time do not count.
leftovers() {
	local run dir
	run=$(sed -n 's/.*(netns \([0-9a-f]*\)-a).*/\1/p' <<<"$1" | head -n 1)
	dir=$(sed -n 's|.*--redis unix:\(/tmp/duet-it\.[A-Za-z0-9]*\)/redis.sock.*|\1|p' <<<"$1" | head -n 1)
	[[ -n $run && -n $dir ]] || { echo "cannot tell the run's names from its output"; return; }
	ip netns list | grep -E "^$run-(relay|a|b)( |\$)"
	[[ -e $dir ]] && echo "$dir"
	return 0
}

# 1. A short run to the end.
DUET_KEEP=0 DEMO_SECONDS=5 DEMO_RATE=50 timeout 90 "$demo" >"$DUET_TMP/demo.out" 2>"$DUET_TMP/demo.err"
rc=$?
out=$(cat "$DUET_TMP/demo.out")
duet_check_eq "demo exits 0" 0 "$rc" || duet_diag "$(tail -n 30 "$DUET_TMP/demo.err")"
duet_check_match "demo shows per-second counters" '\[ *[2-9]s\] state=active  a: latched pkts=[1-9]' "$out"
duet_check_match "A->B: B received all 250 but the first (latching)" 'A -> B: A sent 250, B received (24[5-9]|250),' "$out"
duet_check_match "B->A: A received all 250 but the first (latching)" 'B -> A: B sent 250, A received (24[5-9]|250),' "$out"
duet_check_match "receivers saw relay endpoints only" 'from (192\.0\.2\.1|198\.51\.100\.1):2[0-9]{4}$' \
	"$(grep 'A -> B' <<<"$out")"
duet_check_match "pair deleted and listed as ended" 'reason=deleted' "$out"
duet_check_match "duetd stopped cleanly" 'duetd stopped \(exit status 0\)' "$out"
duet_check_eq "nothing left behind" "" "$(leftovers "$out")"

# 2. Ctrl-C after 4 s of a 60 s run, as a terminal sends it: SIGINT to the
# whole foreground process group. python puts the demo in a process group
# of its own and restores SIGINT's default (a background job of a script
# ignores it) before exec'ing it.
DUET_KEEP=0 python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setpgid(0, 0)
os.execv(sys.argv[1], sys.argv[1:])' "$demo" >"$DUET_TMP/demo2.out" 2>"$DUET_TMP/demo2.err" &
pid=$!
DUET_BG_PIDS+=("$pid")
duet_wait 30 grep -Eq '^\[ *([4-9]|[1-9][0-9])s\]' "$DUET_TMP/demo2.out"
t0=$SECONDS
kill -INT -- "-$pid"
for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid"
rc=$?
out=$(cat "$DUET_TMP/demo2.out")
duet_check "Ctrl-C ends the demo within 30 s" bash -c "(( $SECONDS - $t0 < 30 ))"
duet_check_eq "demo exits 0 after Ctrl-C" 0 "$rc" || duet_diag "$(tail -n 30 "$DUET_TMP/demo2.err")"
duet_check_match "summary still printed" 'A -> B: A sent [0-9]+, B received [0-9]+' "$out"
duet_check_match "the call record is shown after Ctrl-C (Redis and duetd outlived it)" \
	'reason=deleted' "$out"
duet_check_eq "no command in the summary failed" "" \
	"$(grep -h -i 'no such file\|cannot connect\|connection refused' "$DUET_TMP/demo2.out" "$DUET_TMP/demo2.err")"
duet_check_eq "nothing left behind after Ctrl-C" "" "$(leftovers "$out")"
