#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_lifecycle (issue 12, items 3, 4 and 10): duetd as a service sees it.
#   - `duetd --version`, and `duetd --check-config FILE` on a good and a bad
#     file: exit 0/1, the reason named, nothing of EAL touched (no runtime
#     directory made);
#   - clear start-up errors, exit 1: no hugepages (a --huge-dir with
#     none), an ethdev the config names but EAL does not have, a worker
#     lcore EAL was not given;
#   - [log] format = json: every log line is one JSON object with ts, level,
#     type and msg; named log types duet.relay, duet.sync, duet.port;
#     timestamps; no client address in any line (default levels);
#   - with --log-level='*:info' an idle relay logs at most a few lines in
#     5 s (the RCU reclaim flooded 20 lines/s);
#   - SIGUSR1 logs a stats line and duetd goes on; SIGHUP with a broken
#     file keeps the running config and says why; SIGHUP with a valid file
#     switching [log] format to text applies it;
#   - systemd's notify protocol (NOTIFY_SOCKET, a datagram socket this
#     test listens on, as systemd would): READY=1 once the table is
#     loaded, STATUS lines, WATCHDOG=1 pings twice a WATCHDOG_USEC period
#     while the worker polls, STOPPING=1 at the stop;
#   - a clean stop marks the heartbeat stopped (stopped_ms) before it
#     exits, and leaves no EAL runtime directory behind.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
duet_need_bins duetd

ver=$("$DUETD" --version 2>&1)
duet_check_match "duetd --version prints its version and exits 0" '^duetd [0-9]+\.[0-9]+\.[0-9]+' "$ver"
duet_topo_up
duet_redis_start
duet_conf_write log.format=json
out=$("$DUETD" --check-config "$DUET_CONF" 2>&1)
duet_check_eq "--check-config on the lab's file: exit 0" 0 $?
duet_check_match "--check-config says what it read" "is valid: relay $RELAY_ID" "$out"
bad=$DUET_TMP/bad.conf
sed 's/^workers = .*/workers = 1-x/' "$DUET_CONF" >"$bad"
out=$("$DUETD" --file-prefix "duet-$DUET_P-cc" --check-config "$bad" 2>&1)
duet_check_eq "--check-config on a bad file: exit 1" 1 $?
duet_check_match "--check-config names the file, section and key" "bad.conf.*\[relay\] workers" "$out"
duet_check "--check-config started no EAL (no runtime directory for its --file-prefix)" \
	test ! -e "/var/run/dpdk/duet-$DUET_P-cc"

NOTIFY_LOG=$DUET_TMP/notify.log
export NOTIFY_SOCKET=$DUET_TMP/notify.sock WATCHDOG_USEC=2000000
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
end = time.time() + 60
with open(sys.argv[2], "a") as f:
    while time.time() < end:
        s.settimeout(1)
        try:
            m = s.recv(4096).decode()
        except socket.timeout:
            continue
        for line in m.splitlines():
            print("%.3f %s" % (time.monotonic(), line), file=f, flush=True)' "$NOTIFY_SOCKET" "$NOTIFY_LOG" &
DUET_BG_PIDS+=($!)
duet_wait 5 test -S "$NOTIFY_SOCKET" || duet_bail "no notify socket"
# start_fails NAME PATTERN EAL-ARGS...: duetd with these EAL args exits 1
# and its output matches PATTERN.
start_fails() {
	local name=$1 pat=$2 out rc
	shift 2
	out=$(timeout 30 "$DUETD" "$@" --no-pci --file-prefix "duet-$DUET_P-sf" -- -c "$DUET_CONF" 2>&1)
	rc=$?
	duet_check_eq "$name: exit 1" 1 "$rc"
	duet_check_match "$name: says why" "$pat" "$(tail -n 3 <<<"$out")"
	rm -rf "/var/run/dpdk/duet-$DUET_P-sf"
}
mkdir -p "$DUET_TMP/nohuge"
start_fails "no hugepages" "EAL init failed: .*no hugepages\? mount them" \
	-l 0,1 --huge-dir "$DUET_TMP/nohuge" -m 64 --vdev net_null0 --vdev net_null1
start_fails "an ethdev not found" "port net_af_packet0: no such ethdev" \
	-l 0,1 --no-huge -m 256 --vdev net_null0
start_fails "workers and lcores that do not match" "\[relay\] workers: lcore 1 is not enabled in EAL" \
	-l 0 --no-huge -m 256

DUET_EAL_EXTRA="--log-level=*:info"
duetd_start || duet_bail "duetd did not start"
unset NOTIFY_SOCKET WATCHDOG_USEC
duet_pair_create l1
duet_require "latch l1" duet_latch l1 "$DUET_A_IP:40000" "$PAIR_A" "$DUET_B_IP:40000" "$PAIR_B"
duet_settle
n0=$(wc -l <"$DUETD_LOG")
sleep 5
n1=$(wc -l <"$DUETD_LOG")
duet_diag "idle for 5 s at *:info: $((n1 - n0)) new log lines"
duet_check "an idle relay at *:info logs at most 10 lines in 5 s ($((n1 - n0)))" test $((n1 - n0)) -le 10

logjson=$(grep -v -e '^===' -e '^duetd: ' "$DUETD_LOG" | python3 -c '
import json, sys
bad, types = 0, set()
for line in sys.stdin:
    try:
        o = json.loads(line)
        assert set(o) == {"ts", "level", "type", "msg"} and o["ts"].endswith("Z")
        types.add(o["type"])
    except Exception:
        bad += 1
print(bad, " ".join(sorted(t for t in types if t.startswith("duet."))))')
duet_check_eq "every log line is a JSON object (ts, level, type, msg); types duet.port, duet.relay, duet.sync" \
	"0 duet.metrics duet.port duet.relay duet.sync" "$logjson"
duet_check "no log line carries a client address" \
	bash -c "! grep -E '${DUET_A_IP//./\\.}|${DUET_B_IP//./\\.}' '$DUETD_LOG'"

kill -USR1 "$DUETD_PID"
duet_check "SIGUSR1: a stats line in the log" duet_wait 3 grep -q '"msg":"pairs=1 rx=' "$DUETD_LOG"
cp "$DUET_CONF" "$DUET_TMP/good.conf"
cp "$bad" "$DUET_CONF"
kill -HUP "$DUETD_PID"
duet_check "SIGHUP with a broken file: the reason, and the running config kept" \
	duet_wait 3 grep -q 'SIGHUP: .*workers.*keeping the running config' "$DUETD_LOG"
sed 's/^format = json/format = text/' "$DUET_TMP/good.conf" >"$DUET_CONF"
kill -HUP "$DUETD_PID"
duet_check "SIGHUP with a valid file applies [log] format = text" \
	duet_wait 3 grep -qE '^[0-9T:.-]+Z NOTICE duet.relay: SIGHUP: .* re-read and valid' "$DUETD_LOG"
duet_check "duetd still runs after USR1 and two HUPs" kill -0 "$DUETD_PID"
duet_check "it still forwards" duet_latch l1 "$DUET_A_IP:40000" "$PAIR_A" "$DUET_B_IP:40000" "$PAIR_B"

duet_check "systemd: READY=1 was sent" grep -q ' READY=1$' "$NOTIFY_LOG"
duet_check_match "systemd: STATUS says it forwards" ' STATUS=forwarding: 1 pair\(s\) of 1024, Redis up' \
	"$(grep STATUS= "$NOTIFY_LOG" | tail -n 1)"
wd=$(grep -c ' WATCHDOG=1$' "$NOTIFY_LOG")
duet_diag "watchdog pings so far: $wd"
duet_check "systemd: WATCHDOG=1 about every second with WATCHDOG_USEC=2 s (at least 8 in the test's 10 s)" \
	test "$wd" -ge 8

rdir=/var/run/dpdk/duet-$DUET_P
duet_check "EAL's runtime directory exists while duetd runs" test -d "$rdir"
duet_check_stop TERM
duet_check "the heartbeat says stopped (stopped_ms) after a clean stop" \
	bash -c "[[ \$(redis-cli -s '$DUET_REDIS_SOCK' HGET '$(duet_key relay)' stopped_ms) =~ ^[0-9]{13}\$ ]] || [[ \$(redis-cli -s '$DUET_REDIS_SOCK' EXISTS '$(duet_key relay)') == 0 ]]"
duet_check "a clean stop removes EAL's runtime directory $rdir" test ! -e "$rdir"
duet_check "systemd: STOPPING=1 at the stop" grep -q ' STOPPING=1$' "$NOTIFY_LOG"
