#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# control/latency.sh BUILD_DIR CSV RUNS COUNT: create-to-first-packet
# latency through the real thing: the integration topology (namespaces,
# veths, duetd on net_af_packet, a private redis-server; see
# tools/lab/lib.sh), create_latency.py as the control plane and
# the two callers. Appends rows to CSV. Called by control/run.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
export DUET_SOURCE_ROOT=$src DUET_BUILD_ROOT=$1
CSV=$2 RUNS=$3 COUNT=$4
DUET_TAP=0
# shellcheck source=../../tools/lab/lib.sh
source "$src/tools/lab/lib.sh"
duet_init
RELAY_ID=bench
# Leg b is pinned to B's socket; B is port 1's gateway, so its MAC is known
# from ARP before any packet of a new pair arrives.
# Probes every 50 us until the new pair forwards: no per-leg policer and a
# generous latch budget, so the figure is create-to-forward alone.
duet_start_all "port1.gateway=$DUET_B_IP" stats_interval_ms=1000 security.max_pps=0 \
	security.max_kbps=0 security.budget_unlatched_pps=10000000
for run in $(seq 1 "$RUNS"); do
	python3 "$here/create_latency.py" "$DUET_REDIS_SOCK" "$RELAY_ID" "$NS_A" "$NS_B" \
		"$DUET_A_IP" "$DUET_B_IP" "$DUET_RELAY_IP_A" "$DUET_RELAY_IP_B" "$COUNT" 1000 "$run" \
		"$src/lib/contract/lua" >>"$CSV" || echo "create_latency run $run failed" >&2
done
duetd_stop TERM
