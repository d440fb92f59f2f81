#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_abuse_scan (issue 8, relay-wide budgets): a scan of empty endpoints
# and a ping flood cost bounded work and draw bounded replies, and a live
# call on the same relay does not notice.
#
# duetd runs with [security] budget_no_pair_pps = 1000 and budget_icmp_pps
# = 100 (both with a 100 ms burst: 100 and 10 packets). One pinned
# passthrough pair carries a duet-caller call (Opus in SRTP, 50 packets/s
# each way, audio checked sample for sample). While it runs, for 5 s at
# once (abuse_send, paced):
#   - 25,000 UDP datagrams from A2 to 192.0.2.1 and 25,000 from B2 to
#     198.51.100.1, spread round robin over the media ports 20000..20099
#     except the live pair's endpoint: endpoints with no pair;
#   - 25,000 ICMP echo requests from A to 192.0.2.1 and 25,000 from B to
#     198.51.100.1.
# Checks:
#   - the echo replies A and B received (counted at the senders) are
#     budget_icmp_pps x seconds + the 10-packet burst, +-10% on the rate;
#   - duetd's icmp_replies + drop_budget_icmp account for every ping, and
#     every reply duetd sent arrived;
#   - drop_no_endpoint + drop_budget_no_pair account for every datagram,
#     and only the budget (1000/s + burst, +-10%) got past it to
#     drop_no_endpoint;
#   - the live call: nothing lost, no SRTP failure, audio check pass.
# duetd publishes icmp_replies in its counters line (--print-stats-ms), and
# in the heartbeat when it has the field.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
source "$DUET_INTEG_DIR/tools/abuse_tools.sh"
duet_init
abuse_tools_need
duet_need_bins duetd duetctl

SCAN_S=5             # seconds every sender runs
PER_SENDER=25000     # datagrams (or pings) from each of the four senders
RATE=$((PER_SENDER / SCAN_S))
ICMP_PPS=100
NO_PAIR_PPS=1000
LA=$DUET_A_IP2:40002
LB=$DUET_B_IP2:40002
LIVE_PORT=20050

duet_topo_up
duet_redis_start
duet_conf_write "port0.gateway=$DUET_A_IP" "port1.gateway=$DUET_B_IP" \
	"security.budget_icmp_pps=$ICMP_PPS" "security.budget_no_pair_pps=$NO_PAIR_PPS"
duetd_start --print-stats-ms 500 || duet_bail "duetd did not start with [security] budgets"
abuse_keep_off_workers

# icmp_replies: the heartbeat's field when duetd has one, else the last
# counters line duetd printed (every 500 ms).
icmp_replies() {
	local v
	v=$(duet_relay_stat icmp_replies)
	[[ $v =~ ^[0-9]+$ ]] || v=$(grep -o 'icmp_replies=[0-9]*' "$DUETD_LOG" | tail -n 1 | cut -d= -f2)
	echo "${v:-0}"
}

LIVE_A=$(duet_ep a $LIVE_PORT) LIVE_B=$(duet_ep b $LIVE_PORT)
duet_pair_put live "$LIVE_A" "$LIVE_B" a_src "$LA" b_src "$LB"
duet_require "duetd loaded the live pair" duet_wait 5 duet_stat_is live state active

duet_settle
icmp0=$(icmp_replies) bicmp0=$(abuse_relay_num drop_budget_icmp)
noep0=$(abuse_relay_num drop_no_endpoint) bnp0=$(abuse_relay_num drop_budget_no_pair)
la0=$(abuse_pair_num live a_pkts)

abuse_call_bg live "$LA" "$LB" "$LIVE_A" "$LIVE_B" --rate realtime \
	--duration $((SCAN_S + 4)) --timeout $((SCAN_S + 30)) --require-audio-check
duet_wait 10 duet_stat_ge live a_pkts $((la0 + 25)) ||
	duet_diag "duetd did not see the live call's packets within 10 s; scanning anyway"

SCAN=(--port-min "$DUET_PORT_MIN" --port-max "$DUET_PORT_MAX" --skip-port "$LIVE_PORT"
	--count "$PER_SENDER" --rate "$RATE" --seconds $((SCAN_S * 4)))
PING=(--count "$PER_SENDER" --rate "$RATE" --seconds $((SCAN_S * 4)) --wait 1)
abuse_send_bg scan_a "$NS_A" scan --bind "$DUET_A_IP2" --to "$DUET_RELAY_IP_A" "${SCAN[@]}"
abuse_send_bg scan_b "$NS_B" scan --bind "$DUET_B_IP2" --to "$DUET_RELAY_IP_B" "${SCAN[@]}"
abuse_send_bg ping_a "$NS_A" ping --bind "$DUET_A_IP" --to "$DUET_RELAY_IP_A" "${PING[@]}"
abuse_send_bg ping_b "$NS_B" ping --bind "$DUET_B_IP" --to "$DUET_RELAY_IP_B" "${PING[@]}"
for s in scan_a scan_b ping_a ping_b; do
	abuse_send_wait $s
done
abuse_call_wait live
sleep 1.2 # one more counters line (every 500 ms) after the last ping
duet_settle

udp_sent=$(($(duet_json scan_a 'd["sent"]') + $(duet_json scan_b 'd["sent"]')))
pings=$(($(duet_json ping_a 'd["sent"]') + $(duet_json ping_b 'd["sent"]')))
replies=$(($(duet_json ping_a 'd["replies"]') + $(duet_json ping_b 'd["replies"]')))
# The budget runs over the time the pings came in: the longer of the two.
ping_s=$(python3 -c 'import sys; print(max(float(x) for x in sys.argv[1:]))' \
	"$(duet_json ping_a 'd["seconds"]')" "$(duet_json ping_b 'd["seconds"]')")
scan_s=$(python3 -c 'import sys; print(max(float(x) for x in sys.argv[1:]))' \
	"$(duet_json scan_a 'd["seconds"]')" "$(duet_json scan_b 'd["seconds"]')")
duet_diag "sent: $udp_sent datagrams to empty endpoints in $scan_s s, $pings pings in $ping_s s"
duet_check_eq "all $((2 * PER_SENDER)) datagrams and $((2 * PER_SENDER)) pings were sent" \
	"$((2 * PER_SENDER)) $((2 * PER_SENDER))" "$udp_sent $pings"

# budget x seconds, +-10%, plus or minus the 100 ms burst.
bounds() {
	awk -v r="$1" -v t="$2" 'BEGIN { b = r / 10; if (b < 1) b = 1
		printf "%.0f %.0f %.0f\n", r * t + b, r * t * 0.9 - b, r * t * 1.1 + b }'
}
read -r want lo hi < <(bounds "$ICMP_PPS" "$ping_s")
duet_diag "echo replies received by A and B: $replies (budget $ICMP_PPS/s x $ping_s s + burst" \
	"= $want; $lo..$hi)"
abuse_check_within "echo replies capped by budget_icmp_pps (counted at the senders)" 0 "$hi" "$replies"
abuse_check_within "echo replies keep flowing at the budget (not switched off)" "$lo" 1000000000 "$replies"
duet_check_eq "no duplicate echo replies" "0 0" \
	"$(duet_json ping_a 'd["duplicate_replies"]') $(duet_json ping_b 'd["duplicate_replies"]')"

icmp=$(($(icmp_replies) - icmp0))
bicmp=$(($(abuse_relay_num drop_budget_icmp) - bicmp0))
duet_diag "duetd: icmp_replies $icmp, drop_budget_icmp $bicmp"
duet_check "the relay heartbeat has drop_budget_icmp" abuse_relay_has drop_budget_icmp
duet_check_eq "icmp_replies + drop_budget_icmp account for every ping" "$pings" $((icmp + bicmp))
duet_check_eq "every echo reply duetd sent arrived (and nothing else answered)" "$icmp" "$replies"

noep=$(($(abuse_relay_num drop_no_endpoint) - noep0))
bnp=$(($(abuse_relay_num drop_budget_no_pair) - bnp0))
read -r want lo hi < <(bounds "$NO_PAIR_PPS" "$scan_s")
duet_diag "duetd: drop_no_endpoint $noep, drop_budget_no_pair $bnp (budget $NO_PAIR_PPS/s x" \
	"$scan_s s + burst = $want; $lo..$hi)"
duet_check "the relay heartbeat has drop_budget_no_pair" abuse_relay_has drop_budget_no_pair
duet_check_eq "drop_no_endpoint + drop_budget_no_pair account for every datagram" \
	"$udp_sent" $((noep + bnp))
abuse_check_within "only budget_no_pair_pps of the scan got past the budget (drop_no_endpoint)" \
	"$lo" "$hi" "$noep"

duet_diag "live call: $(abuse_call_figures live)"
duet_check_eq "the live call during the scan: nothing lost, no SRTP failure, audio check pass" \
	"$ABUSE_CALL_GOOD" "$(abuse_call_outcome live)"

duet_check_stop TERM
