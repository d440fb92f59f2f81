#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# control/restart.sh BUILD_DIR CSV RUNS N: restart to forwarding after a
# crash (issue 10, deliver 2; goal id restart_forwarding). In the
# integration topology (tools/lab/lib.sh: namespaces, veths, duetd on
# net_af_packet, a private redis-server), N passthrough pairs are in Redis
# (gen_pairs.py, pipelined) plus one live call. RUNS times: both clients
# of the call talk at 50 packets/s each way (restart_probe.py), duetd gets
# SIGKILL, 0.5 s later it is started again with the same configuration, and
# the figures are
#   ms_to_forwarding      restart (process start) to the call forwarding
#                         both ways again (the later of the first packet to
#                         arrive at each client)
#   seconds_to_all_pairs  restart to the heartbeat counting all N + 1 pairs
# Between runs duetd finishes re-seeding the free set, as a relay that has
# been up a while has. Appends rows to CSV. Called by control/run.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
export DUET_SOURCE_ROOT=$src DUET_BUILD_ROOT=$1
CSV=$2 RUNS=$3 N=$4
DUET_TAP=0
# shellcheck source=../../tools/lab/lib.sh
source "$src/tools/lab/lib.sh"
duet_init
duet_need_bins duetd
RELAY_ID=bench
# On hugepages (control/run.sh says, through DUET_EAL_MEM), memory is taken
# as it is needed; on plain pages, the lab's 512 MB plus room for the table
# (1,082 B a pair at 1,000,000 in benchmarks/report/full), twice over.
[[ $DUET_EAL_MEM == --in-memory ]] || DUET_EAL_MEM="--no-huge -m $((512 + N / 512))"
# The endpoints: every UDP port of as many service addresses as N + 1
# pairs need (at most 16 a port, the config's limit), from .101 on, so the
# clients' .10 and .11 stay out of the way. The N pairs fill them from the
# first; the live call takes the last port of the last address.
DUET_PORT_MIN=1024 DUET_PORT_MAX=65535
PORTS=$((DUET_PORT_MAX - DUET_PORT_MIN + 1))
HOSTS=$(((N + 1 + PORTS - 1) / PORTS))
((HOSTS <= 16)) || { echo "restart.sh: $N pairs need more than 16 addresses" >&2; exit 2; }
DUET_RELAY_IP_A=192.0.2.101 DUET_RELAY_IP_B=198.51.100.101
LIVE_A=192.0.2.$((100 + HOSTS)):$DUET_PORT_MAX
LIVE_B=198.51.100.$((100 + HOSTS)):$DUET_PORT_MAX
FREE_N=$(((HOSTS * PORTS - N - 1) * 2))

say() { printf '[restart %s] %s\n' "$(date -u +%T)" "$*"; }

# hb_is FIELD VALUE / free_is N: predicates for duet_wait.
hb_is() { [[ $(duet_relay_stat "$1") == "$2" ]]; }
free_is() { [[ $(rcli SCARD "$(duet_key free)") == "$1" ]]; }

duet_topo_up
duet_redis_start
say "writing $N pairs into Redis"
python3 "$here/gen_pairs.py" "$RELAY_ID" "$N" passthrough --first-host 101 |
	rcli --pipe >/dev/null || { echo "redis-cli --pipe failed" >&2; exit 1; }
duet_pair_put live "$LIVE_A" "$LIVE_B"
duet_conf_write max_pairs=$((N + 16)) idle_timeout_ms=0 stats_interval_ms=500 heartbeat_ttl_ms=5000
a_list=$DUET_RELAY_IP_A b_list=$DUET_RELAY_IP_B
for ((h = 102; h <= 100 + HOSTS; h++)); do a_list+=", 192.0.2.$h" b_list+=", 198.51.100.$h"; done
sed -i -e "s/^addresses = $DUET_RELAY_IP_A\$/addresses = $a_list/" \
	-e "s/^addresses = $DUET_RELAY_IP_B\$/addresses = $b_list/" "$DUET_CONF"
duetd_start || { echo "duetd did not start" >&2; exit 1; }
duet_wait 600 hb_is pairs $((N + 1)) || { echo "duetd did not load $N + 1 pairs" >&2; exit 1; }
duet_wait 600 free_is "$FREE_N" || echo "free set not seeded to $FREE_N in 600 s" >&2
duet_latch live "$DUET_A_IP:40100" "$LIVE_A" "$DUET_B_IP:40100" "$LIVE_B" ||
	{ echo "the live call does not latch" >&2; exit 1; }

# probe NAME SIDE: one end of the live call in the background, for at most
# 11 minutes (the load's bound plus the kill), until NAME.stop appears.
probe() {
	local name=$1 side=$2 ns=$NS_A ep="$DUET_A_IP:40100,$LIVE_A"
	[[ $side == b ]] && ns=$NS_B ep="$DUET_B_IP:40100,$LIVE_B"
	rm -f "$DUET_TMP/$name-$side.ready" "$DUET_TMP/$name-$side.json"
	ip netns exec "$ns" python3 "$here/restart_probe.py" run --side "$side" \
		--out "$DUET_TMP/$name-$side.json" --ready-file "$DUET_TMP/$name-$side.ready" \
		--go-file "$DUET_TMP/$name.go" --stop-file "$DUET_TMP/$name.stop" \
		--count 33000 --rate 50 --timeout 660 "live,$ep" 2>"$DUET_TMP/$name-$side.err" &
	DUET_BG[$name-$side]=$!
	DUET_BG_PIDS+=($!)
	duet_wait 10 test -e "$DUET_TMP/$name-$side.ready"
}

for run in $(seq 1 "$RUNS"); do
	name=run$run before_ab='' before_ba='' ab_ms='' ba_ms=''
	rm -f "$DUET_TMP/$name.go" "$DUET_TMP/$name.stop"
	if ! probe "$name" a || ! probe "$name" b; then
		echo "run $run: probes not ready: $(cat "$DUET_TMP/$name"-?.err)" >&2
		continue
	fi
	touch "$DUET_TMP/$name.go"
	sleep 1.5
	t_kill=$(date +%s.%N)
	kill -KILL "$DUETD_PID"
	wait "$DUETD_PID" 2>/dev/null
	DUETD_PID=
	sleep 0.5
	t_start=$(date +%s.%N)
	if ! duetd_start; then
		echo "run $run: duetd did not start again" >&2
		touch "$DUET_TMP/$name.stop"
		break
	fi
	all=''
	duet_wait 600 hb_is pairs $((N + 1)) &&
		all=$(awk -v a="$(date +%s.%N)" -v b="$t_start" 'BEGIN {printf "%.2f", a - b}')
	sleep 1
	touch "$DUET_TMP/$name.stop"
	wait "${DUET_BG[$name-a]}" "${DUET_BG[$name-b]}"
	read -r _ before_ab before_ba ab_ms ba_ms < <(python3 "$here/restart_probe.py" gap \
		--since "$t_start" --until "$t_kill" "$DUET_TMP/$name-a.json" "$DUET_TMP/$name-b.json")
	: "${before_ab:=0}" "${before_ba:=0}" "${ab_ms:=-1}" "${ba_ms:=-1}"
	if ((before_ab > 0 && before_ba > 0 && ab_ms >= 0 && ba_ms >= 0)); then
		ms=$((ab_ms > ba_ms ? ab_ms : ba_ms))
		echo "control,restart_forwarding,$N,ms_to_forwarding,$ms,ms,$run" >>"$CSV"
	else
		ms="none (packets before the kill $before_ab/$before_ba, after $ab_ms/$ba_ms ms)"
	fi
	[[ -n $all ]] && echo "control,restart_forwarding,$N,seconds_to_all_pairs,$all,s,$run" >>"$CSV"
	say "$N pairs run $run: forwarding again $ms ms after the restart," \
		"all pairs in ${all:-(timeout)} s"
	duet_wait 600 free_is "$FREE_N" || echo "run $run: free set not seeded to $FREE_N in 600 s" >&2
done
duetd_stop TERM
