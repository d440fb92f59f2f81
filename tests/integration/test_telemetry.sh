#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_telemetry (issue 12, item 2): duetd's DPDK telemetry commands, read
# with DPDK's own client, dpdk-telemetry.py (package dpdk-dev), through
# EAL's telemetry socket of duetd's --file-prefix:
#   - /duet/relay: relay id, pairs, ready, totals that match the heartbeat;
#   - /duet/drops: every drop reason, and a drop that was provoked counted;
#   - /duet/workers: each worker with its polls moving;
#   - /duet/pair,<id>: a latched pair's legs, states and packet counters,
#     and never a client address with the default [privacy]
#     show_addresses = no; with yes, each leg's client; an unknown id
#     answers "no such pair"; the command list (/) names all four.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
command -v dpdk-telemetry.py >/dev/null || duet_bail "needs dpdk-telemetry.py (dpdk-dev)"
duet_start_all

A=$DUET_A_IP:40000
B=$DUET_B_IP:40000
N=50

# tel CMD...: each command's JSON reply on one line, in order.
tel() {
	printf '%s\n' "$@" | timeout 10 dpdk-telemetry.py -f "duet-$DUET_P" 2>&1 |
		python3 -c '
import json, sys
dec = json.JSONDecoder()
text = sys.stdin.read()
i = 0
while True:
    j = text.find("{", i)
    if j < 0:
        break
    obj, i = dec.raw_decode(text, j)
    print(json.dumps(obj, sort_keys=True))'
}
# field LINE PYEXPR: evaluate PYEXPR with d = the reply's value.
field() { python3 -c 'import json,sys; r=json.loads(sys.argv[1]); d=list(r.values())[0]; print(eval(sys.argv[2]))' "$1" "$2"; }

duet_pair_create t1
AEP=$PAIR_A BEP=$PAIR_B
duet_require "latch both legs of t1" duet_latch t1 "$A" "$AEP" "$B" "$BEP"
duet_talk_both t "$A" "$AEP" "$B" "$BEP" $N 100
duet_talk_wait t
duet_peer "$NS_A" send --bind "$A" --to "$(duet_ep a 29999)" --count 5 --rate 100 >/dev/null
duet_settle

mapfile -t r < <(tel / /duet/relay /duet/drops /duet/workers /duet/pair,t1 /duet/pair,nosuch)
duet_diag "replies: ${#r[@]}"
duet_check_eq "dpdk-telemetry.py answered all six commands" 6 "${#r[@]}"
for c in /duet/relay /duet/drops /duet/workers /duet/pair; do
	duet_check "the command list names $c" bash -c "grep -qF '\"$c\"' <<<'${r[0]}'"
done
duet_check_eq "/duet/relay: relay id, 1 pair, ready, not draining" "$RELAY_ID 1 1 0" \
	"$(field "${r[1]}" 'd["relay_id"], d["pairs"], d["ready"], d["draining"]' | tr -d "(),'")"
duet_check_ge "/duet/relay: fwd_pkts counts both directions" $((2 * N)) \
	"$(field "${r[1]}" 'd["fwd_pkts"]')"
duet_check_ge "/duet/drops: no_endpoint counts the 5 probes" 5 "$(field "${r[2]}" 'd["no_endpoint"]')"
duet_check_eq "/duet/drops lists every reason of duet_drop.def" \
	"$(grep -c '^DUET_DROP(' "$DUET_SRC_ROOT/lib/stats/duet_drop.def")" "$(field "${r[2]}" 'len(d)')"
duet_check_ge "/duet/workers: worker 0 has polled" 1 "$(field "${r[3]}" 'd["0"]["polls"]')"
duet_check_eq "/duet/pair,t1: id, mode, both legs latched" "t1 passthrough latched latched" \
	"$(field "${r[4]}" 'd["id"], d["mode"], d["a"]["state"], d["b"]["state"]' | tr -d "(),'")"
duet_check_eq "/duet/pair,t1: the legs' relay endpoints" "$AEP $BEP" \
	"$(field "${r[4]}" 'd["a"]["endpoint"], d["b"]["endpoint"]' | tr -d "(),'")"
duet_check_ge "/duet/pair,t1: b pkts counts B's $N" $N "$(field "${r[4]}" 'd["b"]["pkts"]')"
duet_check_eq "/duet/pair,t1 shows no client address by default" "" \
	"$(grep -oE "${DUET_A_IP//./\\.}|${DUET_B_IP//./\\.}" <<<"${r[4]}" || true)"
duet_check_eq "/duet/pair,nosuch: no such pair" "no such pair" "$(field "${r[5]}" 'd["state"]')"
duet_diag "/duet/pair,t1: ${r[4]}"

duet_check_stop TERM
duet_conf_write privacy.show_addresses=yes
duet_require "duetd starts with [privacy] show_addresses = yes" duetd_start
duet_require "latch both legs of t1 again" duet_latch t1 "$A" "$AEP" "$B" "$BEP"
p=$(tel /duet/pair,t1)
duet_check_eq "with show_addresses = yes, /duet/pair shows each leg's client" "$A $B" \
	"$(field "$p" 'd["a"].get("client"), d["b"].get("client")' | tr -d "(),'")"
duet_check_stop TERM
