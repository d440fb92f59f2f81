#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_ipv6_demo: tools/demo.sh over IPv6 (issue 14, item 6). Short runs
# with DEMO_FAMILY=6 (both callers on IPv6) and DEMO_FAMILY=46 (A on IPv4,
# B on IPv6, the relay bridging), with kernel UDP clients, and a rekey call
# of duet-caller with DEMO_FAMILY=46: each exits 0, relays both ways
# (everything but the latching packet), each receiver sees only its relay
# endpoint in its own family, the call ends as deleted, and nothing is left
# behind. An unknown DEMO_FAMILY is refused with exit status 2.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_need_bins duetd duetctl duet-caller
demo=$DUET_SRC_ROOT/tools/demo.sh

# leftovers OUTPUT: the run's own namespaces and temp dir, if still there.
leftovers() {
	local run dir
	run=$(sed -n 's/.*(netns \([0-9a-f]*\)-a).*/\1/p' <<<"$1" | head -n 1)
	dir=$(sed -n 's|.*--redis unix:\(/tmp/duet-it\.[A-Za-z0-9]*\)/redis.sock.*|\1|p' <<<"$1" | head -n 1)
	[[ -n $run && -n $dir ]] || { echo "cannot tell the run's names from its output"; return; }
	ip netns list | grep -E "^$run-(relay|a|b)( |\$)"
	[[ -e $dir ]] && echo "$dir"
	return 0
}

# run NAME ENV...: the demo for 5 s with ENV; OUT gets its output, RC its status.
run() {
	local name=$1
	shift
	env DUET_KEEP=0 DEMO_SECONDS=5 DEMO_RATE=50 "$@" timeout 90 "$demo" \
		>"$DUET_TMP/$name.out" 2>"$DUET_TMP/$name.err"
	RC=$?
	OUT=$(cat "$DUET_TMP/$name.out")
	duet_check_eq "$name: demo exits 0" 0 "$RC" || duet_diag "$(tail -n 30 "$DUET_TMP/$name.err")"
}

V6A='\[2001:db8:a::1\]:2[0-9]{4}' V6B='\[2001:db8:b::1\]:2[0-9]{4}'

run v6 DEMO_FAMILY=6
duet_check_match "v6: both callers on IPv6" 'client A \[2001:db8:a::10\]:40000' "$OUT"
duet_check_match "v6: A->B, B received all 250 but the first, from its IPv6 relay endpoint" \
	"A -> B: A sent 250, B received (24[5-9]|250), from $V6B\$" "$(grep 'A -> B' <<<"$OUT")"
duet_check_match "v6: B->A, A received all 250 but the first, from its IPv6 relay endpoint" \
	"B -> A: B sent 250, A received (24[5-9]|250), from $V6A\$" "$(grep 'B -> A' <<<"$OUT")"
duet_check_match "v6: pair deleted and listed as ended" 'reason=deleted' "$OUT"
duet_check_eq "v6: nothing left behind" "" "$(leftovers "$OUT")"

run v46 DEMO_FAMILY=46
duet_check_match "46: A on IPv4, B on IPv6" \
	'relay 192\.0\.2\.1:2[0-9]{4}  \[duetd, netns [0-9a-f]+-relay\]  \[2001:db8:b::1\]:2[0-9]{4}' "$OUT"
duet_check_match "46: A->B across the families, B received all but the first, from its IPv6 endpoint" \
	"A -> B: A sent 250, B received (24[5-9]|250), from $V6B\$" "$(grep 'A -> B' <<<"$OUT")"
duet_check_match "46: B->A across the families, A received all but the first, from its IPv4 endpoint" \
	'B -> A: B sent 250, A received (24[5-9]|250), from 192\.0\.2\.1:2[0-9]{4}$' "$(grep 'B -> A' <<<"$OUT")"
duet_check_eq "46: nothing left behind" "" "$(leftovers "$OUT")"

run v46rekey DEMO_FAMILY=46 DEMO_MODE=rekey
duet_check_eq "46 rekey: no SRTP failure at either caller" 2 \
	"$(grep -c 'srtp fail auth 0 replay 0 other 0' <<<"$OUT")"
duet_check_eq "46 rekey: at most the latching packet lost each way" 2 \
	"$(grep -Ec '^(a->b|b->a) +sent [0-9]+ recv [0-9]+ lost [01] ' <<<"$OUT")"
duet_check_match "46 rekey: the audio check passed, or was skipped for that loss only" \
	'audio check: (pass|skipped-loss)' "$OUT"
duet_check_ge "46 rekey: at least one direction's decoded audio equals what was sent" 1 \
	"$(grep -c 'audio pass (' <<<"$OUT")"
duet_check_eq "46 rekey: nothing left behind" "" "$(leftovers "$OUT")"

env DEMO_FAMILY=5 timeout 30 "$demo" >"$DUET_TMP/bad.out" 2>&1
duet_check_eq "DEMO_FAMILY=5 refused with exit status 2" 2 $?
duet_check_match "DEMO_FAMILY=5: the message names the variable" "DEMO_FAMILY='5'" "$(cat "$DUET_TMP/bad.out")"
