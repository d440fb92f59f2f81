#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_metrics (issue 12, item 1): duetd's Prometheus endpoint, scraped
# the way Prometheus does it, with curl inside the relay's namespace
# (the default [metrics] listen = 127.0.0.1:9465).
#   - the scrape passes `promtool check metrics` (Debian's prometheus
#     package: the exposition format and Prometheus's naming lints);
#   - it has every family the issue asks for: packets and bytes, drops by
#     reason (every reason of duet_drop.def), per-worker polls and busy
#     share, NIC counters and xstats, latched/relatched, pairs and capacity,
#     Redis link/reconnects/writeback/dropped writes/events lag, SRTP
#     failures by kind, memory;
#   - counters move with traffic: forwarded packets by what was sent, rx by
#     at least as much, no_endpoint drops by the probes sent to a free
#     endpoint, latched by the two legs, worker polls;
#   - no label carries an address or a pair id (clients' and the relay's
#     addresses, the pair's id never appear anywhere in the scrape);
#   - other paths are 404 and POST is 405;
#   - after a restart with [metrics] listen = off nothing listens.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
command -v promtool >/dev/null || duet_bail "needs promtool (Debian package prometheus)"
command -v curl >/dev/null || duet_bail "needs curl"
duet_start_all

URL=http://127.0.0.1:9465/metrics
A=$DUET_A_IP:40000
B=$DUET_B_IP:40000
N=200

scrape() { ip netns exec "$NS_R" curl -sS --max-time 5 "$@"; }
# metric NAME_WITH_LABELS FILE: the value of one series, or empty.
metric() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

duet_require "duetd serves /metrics and says it is ready (the table loaded)" duet_wait 10 \
	bash -c "ip netns exec '$NS_R' curl -sf --max-time 2 '$URL' | grep -qx 'duet_ready 1'"
s0=$DUET_TMP/scrape0.txt
scrape "$URL" >"$s0"
duet_check_eq "GET /metrics answers 200 with the Prometheus text content type" \
	"200 text/plain; version=0.0.4; charset=utf-8" \
	"$(scrape -o /dev/null -w '%{http_code} %{content_type}' "$URL")"

pt=$(promtool check metrics <"$s0" 2>&1)
pt_rc=$?
duet_diag "promtool check metrics: exit $pt_rc${pt:+, said: $pt}"
duet_check_eq "promtool check metrics: exit 0 and no complaint" "0 " "$pt_rc $pt"

for fam in duet_rx_packets_total duet_forwarded_packets_total duet_forwarded_bytes_total \
	duet_dropped_packets_total duet_worker_polls_total duet_worker_busy_share \
	duet_worker_busy_seconds_total duet_port_rx_packets_total duet_port_rx_bytes_total \
	duet_port_rx_missed_total duet_port_rx_nombuf_total duet_port_xstats_total \
	duet_latched_total duet_relatched_total duet_pairs duet_pairs_capacity \
	duet_redis_up duet_redis_reconnects_total duet_redis_writeback_queue \
	duet_redis_writes_dropped_total duet_redis_events_lag_seconds \
	duet_srtp_failures_total duet_memory_dpdk_bytes duet_memory_resident_bytes \
	duet_ready duet_draining; do
	duet_check "family $fam is in the scrape" grep -q "^# TYPE $fam " "$s0"
done
reasons=$(sed -n 's/^DUET_DROP([A-Z_0-9]*, "\([a-z_0-9]*\)".*/\1/p' \
	"$DUET_SRC_ROOT/lib/stats/duet_drop.def" | sort)
got_reasons=$(sed -n 's/^duet_dropped_packets_total{reason="\([a-z_0-9]*\)"}.*/\1/p' "$s0" | sort)
duet_check_eq "duet_dropped_packets_total has one series per reason of duet_drop.def ($(wc -l <<<"$reasons"))" \
	"$reasons" "$got_reasons"
duet_check_eq "Redis link up, table loaded, ready" "1 1 1" \
	"$(metric duet_redis_up "$s0") $(metric duet_redis_table_loaded "$s0") $(metric duet_ready "$s0")"

# Traffic: a pair, latched, N packets each way, plus probes to a free endpoint.
duet_pair_create m1
AEP=$PAIR_A BEP=$PAIR_B
duet_require "latch both legs of m1" duet_latch m1 "$A" "$AEP" "$B" "$BEP"
s1=$DUET_TMP/scrape1.txt
scrape "$URL" >"$s1"
duet_talk_both t "$A" "$AEP" "$B" "$BEP" $N 200
duet_talk_wait t
FREE=$(duet_ep a 29999)
duet_peer "$NS_A" send --bind "$A" --to "$FREE" --count 20 --rate 100 >/dev/null
duet_settle
sleep 1.2 # one tick of the control thread: pairs, busy share
s2=$DUET_TMP/scrape2.txt
scrape "$URL" >"$s2"

delta() { echo $(($(metric "$1" "$s2") - $(metric "$1" "$s1"))); }
duet_check_ge "duet_forwarded_packets_total moved by the $((2 * N)) packets sent" $((2 * N)) \
	"$(delta duet_forwarded_packets_total)"
duet_check_ge "duet_rx_packets_total moved by at least as much" "$(delta duet_forwarded_packets_total)" \
	"$(delta duet_rx_packets_total)"
duet_check_ge "no_endpoint drops moved by the 20 probes" 20 \
	"$(delta 'duet_dropped_packets_total{reason="no_endpoint"}')"
duet_check_ge "duet_latched_total counts the two legs" 2 "$(metric duet_latched_total "$s2")"
duet_check_ge "worker 0 polled meanwhile" 1 "$(delta 'duet_worker_polls_total{worker="0"}')"
duet_check_eq "duet_pairs 1" 1 "$(metric duet_pairs "$s2")"
duet_check_ge "the NIC counted what it received on port 0" $N \
	"$(delta 'duet_port_rx_packets_total{port="net_af_packet0"}')"
duet_check_ge "duet_forwarded_bytes_total moved by the payload bytes" $((2 * N * 172)) \
	"$(delta duet_forwarded_bytes_total)"
pt=$(promtool check metrics <"$s2" 2>&1)
duet_check_eq "promtool is content with the scrape under traffic too" "0 " "$? $pt"

leak=$(grep -v '^#' "$s2" | grep -E "${DUET_A_IP//./\\.}|${DUET_B_IP//./\\.}|${DUET_RELAY_IP_A//./\\.}|${DUET_RELAY_IP_B//./\\.}|m1" || true)
duet_check_eq "no series names an address or the pair" "" "$leak"
duet_check_eq "only worker, port, reason, kind, name and version labels" "" \
	"$(grep -v '^#' "$s2" | grep -o '[a-z_]*="' | sort -u | grep -vxE 'worker="|port="|reason="|kind="|name="|version="' || true)"

duet_check_eq "another path is 404" 404 "$(scrape -o /dev/null -w '%{http_code}' http://127.0.0.1:9465/x)"
duet_check_eq "POST is 405" 405 "$(scrape -o /dev/null -w '%{http_code}' -X POST "$URL")"

duet_diag "a scrape, abridged:"
duet_diag "$(grep -E '^duet_(forwarded_packets_total|rx_packets_total|pairs|ready|redis_up|latched_total|worker_busy_share\{worker="0"\}|dropped_packets_total\{reason="no_endpoint"\}|port_rx_missed_total\{port="net_af_packet0"\}|memory_resident_bytes) ' "$s2")"

duet_check_stop TERM
duet_conf_write metrics.listen=off
duet_require "duetd starts with [metrics] listen = off" duetd_start
duet_check "with listen = off nothing answers on 127.0.0.1:9465" \
	bash -c "! ip netns exec '$NS_R' curl -s --max-time 2 '$URL' >/dev/null"
duet_check_stop TERM
