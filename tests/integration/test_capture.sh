#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_capture (issue 12, item 6): dpdk-dumpcap against duetd, both ways.
#   - default [privacy] allow_capture = no: dpdk-dumpcap's request is
#     refused (it exits non-zero and writes no packet), duetd logs the
#     refusal with its reason, and goes on forwarding;
#   - allow_capture = yes: dpdk-dumpcap attaches and captures the relayed
#     packets (tshark reads them from its pcapng).
# dpdk-dumpcap is a secondary DPDK process: it maps duetd's memory, which
# a --no-huge process cannot share. So this test, unlike the others, runs
# duetd on 2 MiB hugepages, reserved and mounted here
# (benchmarks/hugepages.sh) and given back at exit. Without hugepages it
# fails and says why.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
# shellcheck source=../../benchmarks/hugepages.sh
source "$DUET_SRC_ROOT/benchmarks/hugepages.sh"
duet_init
capture_exit() {
	local rc=$?
	duet_teardown
	huge_release
	(exit "$rc")
	duet_on_exit
}
trap capture_exit EXIT
for t in dpdk-dumpcap tshark; do
	command -v "$t" >/dev/null || duet_bail "needs $t"
done
huge_reserve 700 2048
[[ $BENCH_HUGEPAGES == 1 ]] || duet_bail "needs 2 MiB hugepages for dpdk-dumpcap: $HUGE_NOTE"
duet_diag "$HUGE_NOTE"
DUET_EAL_MEM="-m 512 --huge-dir $BENCH_HUGE_DIR"

A=$DUET_A_IP:40000
B=$DUET_B_IP:40000

# dumpcap NAME: capture up to 20 packets of port 0 for at most 8 s.
dumpcap() {
	timeout 20 dpdk-dumpcap --file-prefix "duet-$DUET_P" -i net_af_packet0 -c 20 \
		-a duration:8 -w "$DUET_TMP/$1.pcapng" >"$DUET_TMP/$1.out" 2>&1
}

duet_start_all
duet_pair_create c1
AEP=$PAIR_A BEP=$PAIR_B
duet_require "latch c1" duet_latch c1 "$A" "$AEP" "$B" "$BEP"
duet_talk_both t0 "$A" "$AEP" "$B" "$BEP" 400 50
dumpcap refused
rc=$?
duet_talk_wait t0
duet_diag "dpdk-dumpcap with allow_capture = no: exit $rc: $(tail -n 3 "$DUET_TMP/refused.out")"
duet_check "allow_capture = no: dpdk-dumpcap fails" test "$rc" -ne 0
n=$(tshark -r "$DUET_TMP/refused.pcapng" 2>/dev/null | wc -l)
duet_check_eq "allow_capture = no: no packet captured" 0 "$n"
duet_check "duetd logged the refusal and why" \
	grep -q "packet capture of port net_af_packet0 was asked (dpdk-dumpcap): refused, \[privacy\] allow_capture = no" "$DUETD_LOG"
duet_check_eq "the call went on meanwhile: A->B all 400" 400 "$(duet_json t0-b 'd["recv"]["matched"]')"
duet_check_stop TERM

duet_conf_write privacy.allow_capture=yes
duet_require "duetd starts with [privacy] allow_capture = yes" duetd_start
duet_require "latch c1 again" duet_latch c1 "$A" "$AEP" "$B" "$BEP"
duet_talk_both t1 "$A" "$AEP" "$B" "$BEP" 400 50 
dumpcap allowed
rc=$?
duet_talk_wait t1
duet_diag "dpdk-dumpcap with allow_capture = yes: exit $rc: $(tail -n 3 "$DUET_TMP/allowed.out")"
duet_check_eq "allow_capture = yes: dpdk-dumpcap exits 0" 0 "$rc"
udp=$(tshark -r "$DUET_TMP/allowed.pcapng" -Y "udp.dstport == ${AEP##*:} || udp.srcport == ${AEP##*:}" 2>/dev/null | wc -l)
duet_check_ge "allow_capture = yes: it captured the call's packets on port 0" 10 "$udp"
duet_check "duetd logged that captures are allowed" grep -q "allow_capture = yes: dpdk-dumpcap may attach" "$DUETD_LOG"
duet_check_stop TERM
