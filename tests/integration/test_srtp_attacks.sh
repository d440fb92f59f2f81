#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_srtp_attacks: what a keyed pair (verify, then rekey) does with
# packets that do not come from the key holder, while real calls (duet-caller,
# Opus in SRTP, audio checked sample for sample) go on. For each mode:
#
# 1. hijack before the client: forged packets from A2 (A's host, another
#    address) before A ever sent do not latch leg a (a_drop_auth, a_state
#    waiting);
# 2. a first call latches both legs; a sniffer in A's namespace keeps A's
#    genuine SRTP (the relay saw it) and a set of genuine packets made with
#    a_in that never reached the relay;
# 3. during a genuine call from A, replays of the first set and tampered
#    copies of the second (payload bit, tag bit, marker bit, SSRC), sent
#    from A's own address, are dropped and counted as srtp_replay and
#    srtp_auth (exactly), nothing of them reaches B, and the call passes
#    the audio check with nothing lost; the same second set untampered is
#    then accepted (so the tampering is what was refused);
# 4. a wrong a_in gets nothing through (every packet a_drop_auth) while B's
#    direction still works;
# 5. after A fell silent for longer than relatch_silence_ms, forged and
#    replayed packets from A2 do not move leg a (relatched unchanged,
#    a_drop_auth and a_drop_replay grow, a_drop_src does not: they were
#    allowed to try) and B's next packets still reach A's original address,
#    from the relay endpoint only;
# 6. A's keys from A2 after the silence do move the leg (relatched +1), and a
#    call between A2 and B passes the audio check.
#
# relatched is duetd's relay-wide counter; it is not in Redis, so duetd runs
# with --print-stats-ms and the test reads its log.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
CALLER=${DUET_CALLER:-$DUET_BUILD_ROOT/app/duet-caller/duet-caller}
[[ -x $CALLER ]] || duet_bail "duet-caller not built: $CALLER (set DUET_BUILD_ROOT or DUET_CALLER)"
duet_need_bins duetd duetctl
duet_topo_up
duet_redis_start
duet_conf_write relatch_silence_ms=1000
PRINT_MS=200
duetd_start --print-stats-ms $PRINT_MS || duet_bail "duetd did not start"
duet_check_srtp_engine
T0=$SECONDS

# ---------------------------------------------------------------------------
# srtp_craft.py: the attacker's tools, run inside A's namespace.
#   sniff --match IP:PORT... --out FILE --ready-file F --stop-file F --timeout S
#       every outgoing UDP datagram from one of the sources, as "sport hex"
#   inject --src IP:PORT --to IP:PORT --in FILE --sport P --kind K --count N
#       --rate PPS [--go-file F] [--delay S]
#       sends RTP datagrams from FILE (lines of source port P) from any source
#       address (raw IP socket), as they were (replay) or with one defect
#       (tamper: payload bit, tag bit, marker bit, SSRC, in turn)
CRAFT=$DUET_TMP/srtp_craft.py
cat >"$CRAFT" <<'PY'
import argparse, os, socket, struct, sys, time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4

def ep(text):
    host, _, port = text.rpartition(":")
    return host, int(port)

def sniff(a):
    want = {ep(m) for m in a.match}
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.settimeout(0.1)
    open(a.ready_file, "w").close()
    n, end, stopping = 0, time.monotonic() + a.timeout, False
    with open(a.out, "w") as out:
        while time.monotonic() < end and n < a.max:
            if not stopping and os.path.exists(a.stop_file):
                stopping = True  # read what is queued already, then stop
                s.setblocking(False)
            try:
                frame, addr = s.recvfrom(65535)
            except socket.timeout:
                continue
            except BlockingIOError:
                break
            # Outgoing only: a datagram on lo shows up twice otherwise.
            if addr[2] != PACKET_OUTGOING:
                continue
            off = 14  # Ethernet header, on lo too
            if len(frame) < off + 28 or frame[12:14] != b"\x08\x00" or frame[off + 9] != 17:
                continue
            ihl = (frame[off] & 15) * 4
            src = socket.inet_ntoa(frame[off + 12:off + 16])
            sport, dport, ulen = struct.unpack("!HHH", frame[off + ihl:off + ihl + 6])
            if (src, sport) not in want:
                continue
            out.write("%d %s\n" % (sport, frame[off + ihl + 8:off + ihl + ulen].hex()))
            n += 1
    print(n)

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def tamper(p, i):
    p = bytearray(p)
    kind = i % 4
    if kind == 0:
        p[12] ^= 0x01           # first payload byte
    elif kind == 1:
        p[-1] ^= 0x80           # last byte of the auth tag
    elif kind == 2:
        p[1] ^= 0x80            # marker bit (authenticated header)
    else:
        p[8:12] = struct.pack("!I", struct.unpack("!I", bytes(p[8:12]))[0] ^ 0x5A5A5A5A)
    return bytes(p)

def inject(a):
    pkts = []
    for line in open(a.infile):
        port, hexdata = line.split()
        p = bytes.fromhex(hexdata)
        # RTP only (SRTCP has PT 192..223 in byte 1), of the wanted source port.
        if int(port) == a.sport and len(p) > 12 and not 192 <= p[1] <= 223:
            pkts.append(p)
    if len(pkts) < a.count:
        sys.exit("only %d RTP packets in %s, %d wanted" % (len(pkts), a.infile, a.count))
    (sip, sport), (dip, dport) = ep(a.src), ep(a.to)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    if a.go_file:
        end = time.monotonic() + 30
        while not os.path.exists(a.go_file) and time.monotonic() < end:
            time.sleep(0.01)
    time.sleep(a.delay)
    sent = 0
    for i in range(a.count):
        p = pkts[i] if a.kind == "replay" else tamper(pkts[i], i)
        ulen = 8 + len(p)
        pseudo = socket.inet_aton(sip) + socket.inet_aton(dip) + struct.pack("!BBH", 0, 17, ulen)
        udp = struct.pack("!HHHH", sport, dport, ulen, 0) + p
        c = csum(pseudo + udp) or 0xFFFF
        udp = udp[:6] + struct.pack("!H", c) + udp[8:]
        # Total length, id and header checksum are filled in by the kernel.
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0x4000, 64, 17, 0,
                         socket.inet_aton(sip), socket.inet_aton(dip))
        s.sendto(ip + udp, (dip, 0))
        sent += 1
        time.sleep(1.0 / a.rate)
    print(sent)

ap = argparse.ArgumentParser()
sub = ap.add_subparsers(dest="cmd", required=True)
p = sub.add_parser("sniff")
p.add_argument("--match", action="append", required=True)
p.add_argument("--out", required=True)
p.add_argument("--ready-file", required=True)
p.add_argument("--stop-file", required=True)
p.add_argument("--timeout", type=float, default=30)
p.add_argument("--max", type=int, default=2000)
p = sub.add_parser("inject")
p.add_argument("--src", required=True)
p.add_argument("--to", required=True)
p.add_argument("--in", dest="infile", required=True)
p.add_argument("--sport", type=int, required=True)
p.add_argument("--kind", choices=("replay", "tamper"), required=True)
p.add_argument("--count", type=int, required=True)
p.add_argument("--rate", type=float, default=50)
p.add_argument("--go-file")
p.add_argument("--delay", type=float, default=0)
a = ap.parse_args()
sniff(a) if a.cmd == "sniff" else inject(a)
PY

# craft_bg NAME ARGS...: srtp_craft.py in A's namespace, in the background;
# its output in $DUET_TMP/NAME.out.
craft_bg() {
	local name=$1
	shift
	ip netns exec "$NS_A" python3 "$CRAFT" "$@" >"$DUET_TMP/$name.out" 2>"$DUET_TMP/$name.err" &
	DUET_BG[$name]=$!
	DUET_BG_PIDS+=($!)
}

# craft_wait NAME: wait for it (not in a subshell); CRAFT_OUT gets what it
# printed (a count).
CRAFT_OUT=
craft_wait() {
	local rc
	wait "${DUET_BG[$1]}"
	rc=$?
	((rc == 0)) || duet_diag "$1 exited $rc: $(head -c 300 "$DUET_TMP/$1.err")"
	CRAFT_OUT=$(cat "$DUET_TMP/$1.out")
}

# relatched: duetd's relay-wide re-latch counter, from a stats line printed
# after everything before this call (two print intervals later).
relatched() {
	sleep "$(awk -v ms=$PRINT_MS 'BEGIN { printf "%.3f", 2.5 * ms / 1000 }')"
	grep -o 'relatched=[0-9]*' "$DUETD_LOG" | tail -n 1 | cut -d= -f2
}

# call NAME A_BIND [duet-caller options]: a call through PAIR_A/PAIR_B,
# legs in NS_A/NS_B, B on $B; report in $DUET_TMP/NAME.json, read into R_*.
call() {
	local name=$1 abind=$2
	shift 2
	"$CALLER" --json --a-netns "$NS_A" --b-netns "$NS_B" --a-bind "$abind" --b-bind "$B" \
		--a-relay "$PAIR_A" --b-relay "$PAIR_B" --timeout 30 "$@" \
		>"$DUET_TMP/$name.json" 2>"$DUET_TMP/$name.err"
	R_RC=$?
	duet_caller_report "$name"
}

GOOD=$DUET_CALLER_GOOD

# snap ID: the counters the checks compare, as shell assignments S_<field>.
snap() {
	local f
	for f in a_pkts b_pkts a_drop_auth b_drop_auth a_drop_replay b_drop_replay a_drop_src \
		a_drop_peer_unlatched; do
		printf -v "S_$f" '%s' "$(duet_stat "$1" "$f")"
	done
	S_auth=$(duet_relay_stat drop_srtp_auth) S_replay=$(duet_relay_stat drop_srtp_replay)
	S_bad=$(duet_relay_stat drop_srtp_bad)
}

# delta ID FIELD: a pair field now minus its value at the last snap.
delta() {
	local base=S_$2 now
	now=$(duet_stat "$1" "$2")
	echo $((now - ${!base}))
}

# attacks MODE SUITE PORT: the whole sequence for one keyed mode.
attacks() {
	local mode=$1 suite=$2 port=$3 id=$1 out ain aout bin bout wrong rl rl0 n
	A=$DUET_A_IP:$port A2=$DUET_A_IP2:$((port + 2)) B=$DUET_B_IP:$port
	local FRESH=$DUET_A_IP:$((port + 5))
	out=$(duet_ctl --json create --id "$id" --a-ip "$DUET_RELAY_IP_A" --b-ip "$DUET_RELAY_IP_B" \
		--mode "$mode" --suite "$suite") || duet_bail "duetctl create $id failed: $out"
	eval "$(python3 -c '
import json, shlex, sys
d = json.loads(sys.argv[1])
for f in ("a", "b", "a_in", "a_out", "b_in", "b_out"):
    print("k_%s=%s" % (f, shlex.quote(d.get(f, ""))))' "$out")"
	PAIR_A=$k_a PAIR_B=$k_b ain=$k_a_in bin=$k_b_in
	if [[ $mode == rekey ]]; then
		aout=$k_a_out bout=$k_b_out
	else
		aout=$bin bout=$ain
	fi
	KEYS=(--a-key-out "$ain" --a-key-in "$aout" --b-key-out "$bin" --b-key-in "$bout")
	duet_require "$mode: duetd has pair $id ($suite)" duet_wait 5 duet_stat_is "$id" mode "$mode"
	snap "$id"
	rl0=$(relatched)

	# 1. Forged packets from A2 before A ever sent.
	duet_peer "$NS_A" send --bind "$A2" --to "$PAIR_A" --count 20 --rate 200 --tag forged >/dev/null
	duet_wait 5 duet_stat_ge "$id" a_drop_auth 20
	duet_settle
	duet_check_eq "$mode 1: 20 forged packets from A2 before A sent: all a_drop_auth, leg a not latched" \
		"a_drop_auth+20 srtp_auth+20 peer_unlatched+0 a_state=waiting" \
		"a_drop_auth+$(delta "$id" a_drop_auth) srtp_auth+$(($(duet_relay_stat drop_srtp_auth) - S_auth)) peer_unlatched+$(delta "$id" a_drop_peer_unlatched) a_state=$(duet_stat "$id" a_state)"

	# 2. The first call latches both legs (A's first packet meets an
	# unlatched leg b: dropped, that is latching). The sniffer keeps A's
	# packets (seen by the relay) and genuine packets made with a_in that
	# never reach the relay (leg a alone, sent to a local address).
	rm -f "$DUET_TMP/sniff-$mode.ready" "$DUET_TMP/sniff-$mode.stop"
	craft_bg "sniff-$mode" sniff --match "$A" --match "$FRESH" --out "$DUET_TMP/$mode.pkts" \
		--ready-file "$DUET_TMP/sniff-$mode.ready" --stop-file "$DUET_TMP/sniff-$mode.stop" \
		--timeout 30
	duet_wait 10 test -e "$DUET_TMP/sniff-$mode.ready" || duet_diag "sniffer not ready"
	call "latch-$mode" "$A" "${KEYS[@]}" --packets 50 --rate realtime --drain-ms 500
	duet_check_match "$mode 2: first call: both ways through, at most 2 packets lost to latching" \
		'^[0-2]/[0-2]$' "$R_MISSING"
	"$CALLER" --json --leg a --a-netns "$NS_A" --a-bind "$FRESH" --a-relay "$DUET_A_IP2:9" \
		--a-key-out "$ain" --a-key-in "$aout" --packets 40 --rate max --rtcp-every 0 \
		--drain-ms 0 --timeout 10 >"$DUET_TMP/fresh-$mode.json" 2>"$DUET_TMP/fresh-$mode.err"
	touch "$DUET_TMP/sniff-$mode.stop"
	craft_wait "sniff-$mode"
	n=$CRAFT_OUT
	duet_require "$mode 2: sniffer kept A's packets and 40 fresh ones (got $n)" test "$n" -ge 90
	duet_require "$mode 2: both legs latched" duet_wait 3 duet_stat_is "$id" state active

	# 3. A genuine 4 s call from A; from 1 s on, 30 replays of A's first
	# call and 20 tampered fresh packets, all from A's own address.
	snap "$id"
	rl0=$(relatched)
	go=$(duet_go_file "attack-$mode")
	craft_bg "replay-$mode" inject --src "$A" --to "$PAIR_A" --in "$DUET_TMP/$mode.pkts" \
		--sport "$port" --kind replay --count 30 --rate 15 --go-file "$go" --delay 1
	craft_bg "tamper-$mode" inject --src "$A" --to "$PAIR_A" --in "$DUET_TMP/$mode.pkts" \
		--sport $((port + 5)) --kind tamper --count 20 --rate 10 --go-file "$go" --delay 1.1
	duet_go "attack-$mode"
	call "genuine-$mode" "$A" "${KEYS[@]}" --duration 4 --rate realtime
	duet_check_eq "$mode 3: genuine call during replays and tampering: audio pass, nothing lost" \
		"exit=0 $GOOD" "exit=$R_RC $R_OUTCOME"
	craft_wait "replay-$mode"
	n=$CRAFT_OUT
	craft_wait "tamper-$mode"
	duet_check_eq "$mode 3: attacker sent 30 replays and 20 tampered packets" "30 20" "$n $CRAFT_OUT"
	duet_wait 5 duet_stat_ge "$id" a_drop_auth $((S_a_drop_auth + 20))
	duet_settle
	duet_check_eq "$mode 3: replays counted as a_drop_replay/srtp_replay, tampered as a_drop_auth/srtp_auth" \
		"a_drop_replay+30 srtp_replay+30 a_drop_auth+20 srtp_auth+20 srtp_bad+0 a_drop_src+0" \
		"a_drop_replay+$(delta "$id" a_drop_replay) srtp_replay+$(($(duet_relay_stat drop_srtp_replay) - S_replay)) a_drop_auth+$(delta "$id" a_drop_auth) srtp_auth+$(($(duet_relay_stat drop_srtp_auth) - S_auth)) srtp_bad+$(($(duet_relay_stat drop_srtp_bad) - S_bad)) a_drop_src+$(delta "$id" a_drop_src)"
	duet_check_eq "$mode 3: duetd forwarded exactly the genuine call's packets" \
		"$R_PKTS_A $R_PKTS_B" \
		"$(delta "$id" a_pkts) $(delta "$id" b_pkts)"
	duet_check_eq "$mode 3: no re-latch" "$rl0" "$(relatched)"
	# The tampered packets untampered are genuine: accepted (B is gone, so
	# they go nowhere, but duetd counts them as forwarded).
	snap "$id"
	craft_bg "intact-$mode" inject --src "$A" --to "$PAIR_A" --in "$DUET_TMP/$mode.pkts" \
		--sport $((port + 5)) --kind replay --count 3 --rate 50
	craft_wait "intact-$mode"
	duet_wait 3 duet_stat_ge "$id" a_pkts $((S_a_pkts + 3))
	duet_check_eq "$mode 3: control: the same fresh packets untampered are accepted" \
		"a_pkts+3 a_drop_auth+0" "a_pkts+$(delta "$id" a_pkts) a_drop_auth+$(delta "$id" a_drop_auth)"

	# 4. A wrong a_in: nothing from A gets through; B's direction works.
	wrong=$("$CALLER" --gen-keys verify --suite "$suite" | sed -n "s/^a_in='\(.*\)'$/\1/p")
	snap "$id"
	call "wrongkey-$mode" "$A" --a-key-out "$wrong" --a-key-in "$aout" --b-key-out "$bin" \
		--b-key-in "$bout" --packets 50 --rate realtime --drain-ms 300
	duet_check_eq "$mode 4: wrong a_in: B receives nothing (exit 1), A hears all of B" \
		"exit=1 received=0/50 b_auth_fail=0" \
		"exit=$R_RC received=$R_RECV b_auth_fail=${R_AUTH_FAIL%/*}"
	n=$R_PKTS_A
	duet_wait 5 duet_stat_ge "$id" a_drop_auth $((S_a_drop_auth + n))
	duet_settle
	duet_check_eq "$mode 4: every wrong-key packet counted (a_drop_auth, srtp_auth), none forwarded" \
		"a_drop_auth+$n srtp_auth+$n a_pkts+0" \
		"a_drop_auth+$(delta "$id" a_drop_auth) srtp_auth+$(($(duet_relay_stat drop_srtp_auth) - S_auth)) a_pkts+$(delta "$id" a_pkts)"

	# 5. A silent for longer than relatch_silence_ms: forged and replayed
	# packets from A2 may try, and must fail.
	sleep 1.3
	snap "$id"
	rl0=$(relatched)
	duet_peer "$NS_A" send --bind "$A2" --to "$PAIR_A" --count 20 --rate 100 --tag forged >/dev/null
	craft_bg "replay2-$mode" inject --src "$A2" --to "$PAIR_A" --in "$DUET_TMP/$mode.pkts" \
		--sport "$port" --kind replay --count 20 --rate 100
	craft_wait "replay2-$mode"
	duet_wait 5 duet_stat_ge "$id" a_drop_replay $((S_a_drop_replay + 20))
	duet_check_eq "$mode 5: after A's silence, A2's forged and replayed packets are refused, not src-rejected" \
		"a_drop_auth+20 a_drop_replay+20 a_drop_src+0 a_pkts+0" \
		"a_drop_auth+$(delta "$id" a_drop_auth) a_drop_replay+$(delta "$id" a_drop_replay) a_drop_src+$(delta "$id" a_drop_src) a_pkts+$(delta "$id" a_pkts)"
	duet_check_eq "$mode 5: leg a did not move (relatched unchanged)" "$rl0" "$(relatched)"
	# B speaks first: its packets must arrive at A's original address.
	duet_listen "heard-$mode" "$NS_A" "$A"
	"$CALLER" --json --leg b --b-netns "$NS_B" --b-bind "$B" --b-relay "$PAIR_B" \
		--b-key-out "$bin" --b-key-in "$bout" --packets 25 --rate realtime --drain-ms 0 \
		--timeout 10 >"$DUET_TMP/bonly-$mode.json" 2>"$DUET_TMP/bonly-$mode.err"
	duet_caller_report "bonly-$mode"
	sleep 0.3
	duet_listen_end "heard-$mode"
	duet_check_eq "$mode 5: B's next packets (RTP + SRTCP) reach A's original address, from leg a's relay endpoint only" \
		"$R_PKTS_B ['$PAIR_A']" \
		"$(duet_json "heard-$mode" '"%d %s" % (d["recv"]["received"], sorted(d["recv"]["sources"]))')"
	call "after-$mode" "$A" "${KEYS[@]}" --packets 100 --rate realtime
	duet_check_eq "$mode 5: next call from A's original address: audio pass, nothing lost" \
		"exit=0 $GOOD" "exit=$R_RC $R_OUTCOME"
	duet_check_eq "$mode 5: still no re-latch" "$rl0" "$(relatched)"

	# 6. A's keys from A2 after the silence move the leg.
	sleep 1.3
	rl0=$(relatched)
	snap "$id"
	call "move-$mode" "$A2" "${KEYS[@]}" --packets 50 --rate realtime --drain-ms 500
	duet_check_eq "$mode 6: A's keys from A2 after the silence: leg a re-latched (+1), B hears all of A2" \
		"relatched=$((rl0 + 1)) a_to_b_missing=0" \
		"relatched=$(relatched) a_to_b_missing=${R_MISSING%/*}"
	call "moved-$mode" "$A2" "${KEYS[@]}" --packets 100 --rate realtime
	duet_check_eq "$mode 6: call between A2 and B: audio pass, nothing lost" \
		"exit=0 $GOOD" "exit=$R_RC $R_OUTCOME"
	duet_check_eq "$mode 6: one re-latch in all, no source rejected" \
		"relatched=$((rl0 + 1)) a_drop_src+0" \
		"relatched=$(relatched) a_drop_src+$(delta "$id" a_drop_src)"
	duet_diag "$mode: done at $((SECONDS - T0)) s"
}

attacks verify AES_CM_128_HMAC_SHA1_80 41000
attacks rekey AEAD_AES_128_GCM 42000

duet_check_srtp_batches
duet_check_stop TERM
