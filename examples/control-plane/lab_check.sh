#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# lab_check.sh: the check a reference control plane passes, against a real
# duetd in the lab (tools/lab/lib.sh: network namespaces, a private
# redis-server, duetd on net_af_packet, kernel UDP clients).
# tests/integration/test_control_plane_{python,node}.sh source it and call
# cp_lab_check with the example's command; run as a script (root, after a
# build) it checks any program with the same command line and output
# (README.md here):
#
#     sudo DUET_BUILD_ROOT=build bash examples/control-plane/lab_check.sh \
#         ./my-control-plane --lua-dir lib/contract/lua
#
# What it checks, printing TAP:
#   1. Beside the real relay, fake heartbeats written by hand: stale,
#      draining, full, stopped, too few endpoints, none at all, and a
#      "ghost" that looks best but has no free endpoints (pair_create.lua
#      answers NOFREE). The program must skip the first ones, fall back from
#      the ghost and create the pair on the real relay, with leg a on the
#      address that faces caller A and leg b on B's; a second create of the
#      same id must fail with EXISTS. The callers talk through the pair,
#      then fall silent: duetd ends it (idle) and deletes the record; the
#      program must report the ended entry, leave the delete to duetd and
#      exit 0.
#   2. A call that does not end by itself: the program deletes it with
#      pair_delete.lua at its --timeout, after a SCRIPT FLUSH (NOSCRIPT),
#      and reports duetd's ended entry (reason deleted).
#   3. Only unusable candidates: exit 1, nothing created.
# Each time the pair hash is gone afterwards and its endpoints are free.

# cp_run NAME SECONDS CMD...: run a control plane in the background, bounded
# by SECONDS; stdout and stderr into $DUET_TMP/NAME.out and NAME.err.
cp_run() {
	local name=$1 secs=$2
	shift 2
	timeout -k 5 "$secs" "$@" >"$DUET_TMP/$name.out" 2>"$DUET_TMP/$name.err" &
	# shellcheck disable=SC2004 # DUET_BG is an associative array (lib.sh)
	DUET_BG[$name]=$!
	DUET_BG_PIDS+=($!)
}

# cp_wait NAME: its exit status (124 if the bound ran out).
cp_wait() {
	wait "${DUET_BG[$1]}"
}

# cp_out NAME KEY: the value of the "KEY value" line the program printed.
cp_out() {
	sed -n "s/^$2 //p" "$DUET_TMP/$1.out" | head -n 1
}

cp_pair_gone() {
	[[ $(rcli EXISTS "$(duet_key "pair:$1")") == 0 ]]
}

cp_free() { # EP...: "1" for each endpoint in the free set
	local ep out=()
	for ep in "$@"; do out+=("$(rcli SISMEMBER "$(duet_key free)" "$ep")"); done
	echo "${out[*]}"
}

# cp_fakes: heartbeats of relays that must not be chosen, stamped now.
# Each claims far more room than the real relay (capacity 1024), so only
# the rule it breaks keeps it out. Prints the candidate list.
cp_fakes() {
	local now r
	now=$(date +%s%3N)
	for r in stale drain full stop noeps ghost; do rcli DEL "duet:{${RELAY_ID}_$r}:relay" >/dev/null; done
	rcli HSET "duet:{${RELAY_ID}_stale}:relay" updated_ms $((now - 120000)) capacity 100000 pairs 0 endpoints_free 5000 >/dev/null
	rcli HSET "duet:{${RELAY_ID}_drain}:relay" updated_ms "$now" capacity 100000 pairs 0 endpoints_free 5000 draining 1 >/dev/null
	rcli HSET "duet:{${RELAY_ID}_full}:relay" updated_ms "$now" capacity 100 pairs 100 endpoints_free 5000 >/dev/null
	rcli HSET "duet:{${RELAY_ID}_stop}:relay" updated_ms "$now" capacity 100000 pairs 0 endpoints_free 5000 stopped_ms "$now" >/dev/null
	rcli HSET "duet:{${RELAY_ID}_noeps}:relay" updated_ms "$now" capacity 100000 pairs 0 endpoints_free 1 >/dev/null
	rcli HSET "duet:{${RELAY_ID}_ghost}:relay" updated_ms "$now" capacity 100000 pairs 0 endpoints_free 5000 >/dev/null
	echo "${RELAY_ID}_none ${RELAY_ID}_stale ${RELAY_ID}_drain ${RELAY_ID}_full ${RELAY_ID}_stop ${RELAY_ID}_noeps ${RELAY_ID}_ghost"
}

# cp_lab_check CMD...: the whole check; CMD is the control plane and its
# first arguments (the checks add --redis, --id, --idle-ms, --timeout,
# --max-age-ms and the candidates).
cp_lab_check() {
	local cmd=("$@") fakes real rc a b A=$DUET_A_IP:40100 B=$DUET_B_IP:40100
	duet_need_bins duetd
	duet_start_all
	real="$RELAY_ID=$DUET_RELAY_IP_A,$DUET_RELAY_IP_B"
	cmd+=(--redis "unix:$DUET_REDIS_SOCK" --max-age-ms 20000)

	# --- 1. choose, create, talk, duetd ends it (idle) ------------------
	fakes=$(cp_fakes)
	# shellcheck disable=SC2086 # the candidates are words
	cp_run cp1 60 "${cmd[@]}" --id cp1 --idle-ms 5000 --timeout 40 $fakes "$real"
	duet_require "cp1: the program prints both endpoints" duet_wait 15 grep -q '^b ' "$DUET_TMP/cp1.out"
	a=$(cp_out cp1 a) b=$(cp_out cp1 b)
	# Latch at once: the pair's idle time runs from its install.
	duet_require "cp1: latch both legs" duet_latch cp1 "$A" "$a" "$B" "$b"
	duet_check_eq "cp1: on the real relay" "$RELAY_ID" "$(cp_out cp1 relay)"
	duet_check_match "cp1: leg a on A's service address" "^$DUET_RELAY_IP_A:[0-9]+\$" "$a"
	duet_check_match "cp1: leg b on B's service address" "^$DUET_RELAY_IP_B:[0-9]+\$" "$b"
	duet_check_eq "cp1: record as created (endpoints, mode, idle_ms)" "$a $b passthrough 5000" \
		"$(rcli HMGET "$(duet_key pair:cp1)" a b mode idle_ms | xargs)"
	local why
	for why in "${RELAY_ID}_none: no heartbeat" "${RELAY_ID}_stale: stale" "${RELAY_ID}_drain: draining" \
		"${RELAY_ID}_full: full" "${RELAY_ID}_stop: stopped" "${RELAY_ID}_noeps: full" \
		"${RELAY_ID}_ghost refused pair cp1: NOFREE"; do
		duet_check "cp1: stderr says 'relay $why'" grep -qF "relay $why" "$DUET_TMP/cp1.err"
	done
	duet_check_eq "cp1: nothing created on the ghost relay" 0 \
		"$(rcli EXISTS "duet:{${RELAY_ID}_ghost}:pair:cp1")"
	rc=0
	timeout -k 5 20 "${cmd[@]}" --id cp1 --timeout 1 "$real" >"$DUET_TMP/cp1dup.out" 2>"$DUET_TMP/cp1dup.err" || rc=$?
	duet_check_eq "cp1 again: exit 1" 1 "$rc"
	duet_check_match "cp1 again: refused with EXISTS" "EXISTS pair cp1 exists" "$(cat "$DUET_TMP/cp1dup.err")"
	duet_check_eq "cp1 again: the first pair is untouched" "$a $b" \
		"$(rcli HMGET "$(duet_key pair:cp1)" a b | xargs)"

	duet_talk_both cp1t "$A" "$a" "$B" "$b" 20 100 --linger 1
	duet_talk_wait cp1t
	duet_check_eq "cp1: 20 packets each way went through" "20 20" \
		"$(duet_json cp1t-a 'd["recv"]["matched"]') $(duet_json cp1t-b 'd["recv"]["matched"]')"
	rc=0
	cp_wait cp1 || rc=$?
	duet_check_eq "cp1: the program exits 0 once the call ended" 0 "$rc"
	duet_check_match "cp1: it reports the ended entry (idle)" '^idle ' "$(cp_out cp1 ended)"
	duet_check_eq "cp1: it leaves the delete to duetd" "" "$(cp_out cp1 delete)"
	duet_check_eq "cp1: duetd's ended entry says idle" idle "$(duet_ended cp1 reason)"
	duet_check_ge "cp1: the ended entry counts b's packets" 21 "$(duet_ended cp1 b_pkts)"
	duet_check "cp1: pair hash gone (duetd's pair_delete.lua)" duet_wait 3 cp_pair_gone cp1
	duet_check_eq "cp1: endpoints free again" "1 1" "$(cp_free "$a" "$b")"
	[[ $rc == 0 ]] || duet_diag "cp1 stderr: $(cat "$DUET_TMP/cp1.err")"

	# --- 2. the program ends the call itself, after NOSCRIPT ------------
	fakes=$(cp_fakes)
	# shellcheck disable=SC2086
	cp_run cp2 40 "${cmd[@]}" --id cp2 --timeout 6 $fakes "$real"
	duet_require "cp2: the program prints both endpoints" duet_wait 15 grep -q '^b ' "$DUET_TMP/cp2.out"
	a=$(cp_out cp2 a) b=$(cp_out cp2 b)
	# Redis forgets every script (as after a restart): the program's
	# EVALSHA of pair_delete.lua meets NOSCRIPT and must load it again.
	duet_check_eq "cp2: SCRIPT FLUSH" OK "$(rcli SCRIPT FLUSH)"
	duet_require "cp2: latch both legs" duet_latch cp2 "$A" "$a" "$B" "$b"
	rc=0
	cp_wait cp2 || rc=$?
	duet_check_eq "cp2: the program exits 0" 0 "$rc"
	duet_check_eq "cp2: it deleted the pair at its timeout" deleted "$(cp_out cp2 delete)"
	duet_check_match "cp2: it reports duetd's ended entry (deleted)" '^deleted ' "$(cp_out cp2 ended)"
	duet_check "cp2: pair hash gone" cp_pair_gone cp2
	duet_check_eq "cp2: endpoints free again" "1 1" "$(cp_free "$a" "$b")"
	duet_check_eq "cp2: its del event is in the events stream" "op del id cp2" \
		"$(rcli XREVRANGE "$(duet_key events)" + - COUNT 1 | tail -n 4 | xargs)"
	[[ $rc == 0 ]] || duet_diag "cp2 stderr: $(cat "$DUET_TMP/cp2.err")"

	# --- 3. no usable relay ---------------------------------------------
	fakes=$(cp_fakes)
	rc=0
	# shellcheck disable=SC2086
	timeout -k 5 20 "${cmd[@]}" --id cp3 --timeout 1 $fakes >"$DUET_TMP/cp3.out" 2>"$DUET_TMP/cp3.err" || rc=$?
	duet_check_eq "cp3: only unusable relays: exit 1" 1 "$rc"
	duet_check_eq "cp3: no endpoints printed" "" "$(cp_out cp3 a)"
	duet_check_eq "cp3: no pair created on any relay" "" "$(rcli --scan --pattern 'duet:*:pair:*')"

	duet_check "duetd still heartbeats (it reloaded its own scripts too)" duet_wait 5 \
		duet_relay_updated_after "$(($(date +%s%3N) - 1))"
	duet_check_stop TERM
}

# Run as a script: check the program given on the command line.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -u
	source "$(dirname "$0")/../../tools/lab/lib.sh"
	(($# > 0)) || { echo "usage: lab_check.sh CMD [ARGS...]" >&2; exit 2; }
	duet_init
	cp_lab_check "$@"
fi
