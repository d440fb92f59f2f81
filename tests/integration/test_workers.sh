#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_workers: duetd with 4 workers on the machine's 2 CPUs (DUET_WORKERS=4:
# EAL's --lcores maps them, each af_packet port has 4 queue pairs and the
# kernel's fanout hash spreads flows over them as a NIC's RSS does). A
# call's two legs arrive at different ports, so they may land on different
# workers, and a stranger's flow on another worker than the client's. The
# test finds, from each worker's share in the heartbeat, which worker
# carries each leg, asks that some call has its legs on two workers, and
# checks that with them:
#  - every packet of every call arrives, and the per-pair counters are exact;
#  - a latched leg refuses strangers whichever worker they reach;
#  - the policer holds a leg to its rate;
#  - the workers' shares add up to the relay's totals.
# (forward_4workers and srtp_modes_4workers run those tests on 4 workers too.)
set -u
export DUET_WORKERS=4
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_start_all security.max_kbps=0

K=8   # calls
M=20  # packets per leg to find its worker
N=200 # packets per leg when all calls talk at once

duet_check_eq "heartbeat: 4 workers" 4 "$(duet_relay_stat workers)"

# worker_counts FIELD: the 4 workers' FIELD (fwd_pkts, drops) as "n0 n1 n2 n3".
worker_counts() {
	local w out=''
	for ((w = 0; w < 4; w++)); do
		out+="$(duet_relay_stat "worker${w}_$1") "
	done
	echo "${out% }"
}

# which_worker BEFORE AFTER N: the worker whose count grew by exactly N
# while the others did not move, or "?".
which_worker() {
	local -a b=($1) a=($2)
	local w found='?' others=0
	for ((w = 0; w < 4; w++)); do
		if ((a[w] - b[w] == $3)); then
			[[ $found == '?' ]] && found=$w || others=1
		elif ((a[w] != b[w])); then
			others=1
		fi
	done
	((others)) && found='?'
	echo "$found"
}

declare -a AEP BEP ACL BCL WA WB
for ((i = 1; i <= K; i++)); do
	duet_pair_create "w$i"
	AEP[i]=$PAIR_A BEP[i]=$PAIR_B
	ACL[i]=$DUET_A_IP:$((41000 + i)) BCL[i]=$DUET_B_IP:$((42000 + i))
	duet_require "latch both legs of w$i" duet_latch "w$i" "${ACL[i]}" "${AEP[i]}" "${BCL[i]}" "${BEP[i]}"
done

# One leg at a time sends M packets; the worker whose forwarded count grows
# by M carries that leg (the peers have no socket: the kernel's port
# unreachables come back as drops, never as forwarded packets).
# leg_worker NS BIND EP TAG: send M packets of one leg; LEG_W gets the
# worker that forwarded them ("?" if not exactly one), and `before` moves on.
before='' LEG_W=''
leg_worker() {
	local after
	duet_peer "$1" send --bind "$2" --to "$3" --count $M --rate 500 --tag "$4" >/dev/null
	duet_settle
	after=$(worker_counts fwd_pkts)
	LEG_W=$(which_worker "$before" "$after" $M)
	before=$after
}
duet_settle
before=$(worker_counts fwd_pkts)
for ((i = 1; i <= K; i++)); do
	leg_worker "$NS_A" "${ACL[i]}" "${AEP[i]}" "id-a$i"
	WA[i]=$LEG_W
	leg_worker "$NS_B" "${BCL[i]}" "${BEP[i]}" "id-b$i"
	WB[i]=$LEG_W
done
map='' split=0 unknown=0
declare -A used=()
for ((i = 1; i <= K; i++)); do
	map+="w$i:${WA[i]}/${WB[i]} "
	[[ ${WA[i]} == '?' || ${WB[i]} == '?' ]] && unknown=$((unknown + 1))
	[[ ${WA[i]} != "${WB[i]}" ]] && split=$((split + 1))
	used[${WA[i]}]=1 used[${WB[i]}]=1
done
duet_diag "worker of leg a/leg b per call: $map"
duet_check_eq "each leg's packets were forwarded by exactly one worker" 0 $unknown
duet_check_ge "at least one call has its legs on two different workers" 1 $split
duet_check_ge "the calls are spread over at least 2 workers" 2 ${#used[@]}

# All calls talk at once, both directions.
for ((i = 1; i <= K; i++)); do
	duet_talk_both "t$i" "${ACL[i]}" "${AEP[i]}" "${BCL[i]}" "${BEP[i]}" $N 100
done
lost=''
for ((i = 1; i <= K; i++)); do
	duet_talk_wait "t$i"
	got="$(duet_json "t$i-b" 'd["recv"]["matched"]') $(duet_json "t$i-a" 'd["recv"]["matched"]')"
	[[ $got == "$N $N" ]] || lost+="w$i:$got "
done
duet_check_eq "all $K calls at once: every packet of both directions arrives" "" "$lost"

# Counters: leg a sent 1 (latch, dropped: b had no client) + M + N, leg b
# 1 + M + N, whichever workers carried them.
duet_settle
bad=''
for ((i = 1; i <= K; i++)); do
	got="$(duet_stat "w$i" a_pkts) $(duet_stat "w$i" b_pkts) $(duet_stat "w$i" a_drop_peer_unlatched) $(duet_stat "w$i" a_drop_src) $(duet_stat "w$i" b_drop_src)"
	[[ $got == "$((M + N)) $((M + N + 1)) 1 0 0" ]] || bad+="w$i:[$got] "
done
duet_check_eq "per-pair counters exact on every call (a_pkts b_pkts a_peer_unlatched a_src b_src)" "" "$bad"
sum=0
for c in $(worker_counts fwd_pkts); do sum=$((sum + c)); done
duet_check_eq "the workers' forwarded shares add up to fwd_pkts" "$(duet_relay_stat fwd_pkts)" $sum
duet_check_eq "fwd_pkts is every call's packets" $((K * (2 * (M + N) + 1))) "$(duet_relay_stat fwd_pkts)"

# Strangers: 12 sockets beside A's client send to w1's leg a. Their flows
# hash to any of the queues; every packet is refused, on whichever worker.
S=12
duet_listen sb "$NS_B" "${BCL[1]}"
drops_before=$(worker_counts drops)
src_before=$(duet_relay_stat drop_src_rejected)
for ((s = 1; s <= S; s++)); do
	duet_peer "$NS_A" send --bind "$DUET_A_IP:$((43000 + s))" --to "${AEP[1]}" --count 5 \
		--rate 500 --tag stranger >/dev/null
done
duet_settle
duet_listen_end sb
drops_after=$(worker_counts drops)
duet_check_eq "w1: every stranger packet counted as a_drop_src" $((S * 5)) "$(duet_stat w1 a_drop_src)"
duet_check_eq "relay drop_src_rejected grew by the strangers' packets" $((src_before + S * 5)) \
	"$(duet_relay_stat drop_src_rejected)"
duet_check_eq "w1's client B received nothing from the strangers" 0 \
	"$(duet_json sb 'd["recv"]["received"]')"
read -r -a db <<<"$drops_before"
read -r -a da <<<"$drops_after"
refusing=0
for ((w = 0; w < 4; w++)); do ((da[w] > db[w])) && refusing=$((refusing + 1)); done
duet_diag "drops per worker before/after the strangers: $drops_before / $drops_after"
duet_check_ge "drops grew on at least 2 workers while the strangers sent (their flows spread)" 2 $refusing
duet_check_eq "w1 still latched to its clients: a_pkts unchanged" $((M + N)) "$(duet_stat w1 a_pkts)"

# Policer: 50 packets/s on a call, leg a sends 300 at 1,000/s.
duet_pair_create wp --max-pps 50
PA=$PAIR_A PB=$PAIR_B
duet_require "latch both legs of wp" duet_latch wp "$DUET_A_IP:44001" "$PA" "$DUET_B_IP:44002" "$PB"
duet_listen pb "$NS_B" "$DUET_B_IP:44002" --tag pol
duet_peer "$NS_A" send --bind "$DUET_A_IP:44001" --to "$PA" --count 300 --rate 1000 --tag pol >/dev/null
duet_settle
duet_listen_end pb
a_pkts=$(duet_stat wp a_pkts) a_pol=$(duet_stat wp a_drop_policed)
duet_diag "wp: a_pkts $a_pkts a_drop_policed $a_pol"
duet_check "wp: the policer dropped some of 300 packets at 6x the rate" \
	bash -c "[[ '$a_pol' =~ ^[0-9]+\$ ]] && (( $a_pol > 0 && $a_pol < 300 ))"
duet_check_eq "wp: every packet of leg a is forwarded or policed" 300 $((a_pkts + a_pol))
duet_check_eq "wp: B received exactly what was forwarded" "$a_pkts" "$(duet_json pb 'd["recv"]["matched"]')"

duet_check_stop TERM
