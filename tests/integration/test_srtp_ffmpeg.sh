#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_srtp_ffmpeg: duetd checked by SRTP code it did not write. ffmpeg
# (Debian's, libavformat's own SRTP) sends 3 s of a 440 Hz tone as Opus over
# SRTP to leg a of a verify-mode pair; duetd authenticates every packet with
# a_in and forwards it unchanged to leg b's pinned client, where a second
# ffmpeg decrypts (a=crypto in its SDP) and decodes it to a WAV. The WAV must
# be ~3 s of a ~440 Hz tone, and duetd must have counted no auth failure.
# Then the same sender with a wrong key: every packet dropped as srtp_auth,
# nothing reaches B.
#
# Last, AES_CM_128_HMAC_SHA1_32 with SRTCP. ffmpeg (libavformat's srtp.c)
# tags its SRTCP with 32 bits under this suite, where RFC 4568 says 80;
# duetd accepts either layout for this suite (docs/security.md). ffmpeg
# sends no rtcp-mux, so a forwarder in A's namespace (fwd_mux) takes its
# RTP and RTCP ports and sends both, byte for byte, from one socket to leg
# a, and notes each RTCP datagram's layout. An 11 s run carries ffmpeg's
# sender reports (one before the first RTP packet, then one per 5 s): each
# must be in the 32-bit layout (E flag and index 8 bytes from the end,
# indexes 0, 1, ...), every datagram ffmpeg sent must be forwarded to B
# (a_pkts), duetd must count no srtp_auth drop, and the stats hash's
# a_srtp_in must show the highest SRTCP index it authenticated, ffmpeg's
# last one. B's ffmpeg decodes the tone.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
command -v ffmpeg >/dev/null || duet_bail "needs ffmpeg (bash tools/install-deps.sh installs it)"
# Leg b is pinned and nobody behind it sends first: its next hop is B itself,
# configured as port 1's gateway (resolved by ARP).
duet_start_all "port1.gateway=$DUET_B_IP"
duet_check_srtp_engine

key() { echo "AES_CM_128_HMAC_SHA1_80 inline:$(head -c 30 /dev/urandom | base64 -w0)"; }
K=$(key)
B=$DUET_B_IP:41000
duet_pair_create fx --mode verify --a-in "$K" --b-src "$B"
AEP=$PAIR_A
duet_require "fx loaded, verify" duet_wait 5 duet_stat_is fx mode verify

# rx NAME KEY SECONDS: ffmpeg in B's namespace, SRTP in, WAV out.
rx() {
	cat >"$DUET_TMP/$1.sdp" <<SDP
v=0
o=- 0 0 IN IP4 $DUET_B_IP
s=duet test
c=IN IP4 $DUET_B_IP
t=0 0
m=audio ${B##*:} RTP/SAVP 111
a=rtpmap:111 opus/48000/2
a=crypto:1 ${2%% *} ${2#* }
SDP
	ip netns exec "$NS_B" timeout $(($3 + 8)) ffmpeg -nostdin -hide_banner -loglevel error \
		-protocol_whitelist file,udp,rtp -i "$DUET_TMP/$1.sdp" -t "$3" -y "$DUET_TMP/$1.wav" \
		>"$DUET_TMP/$1.log" 2>&1 &
	DUET_BG[$1]=$!
	DUET_BG_PIDS+=($!)
}

# tx KEY SECONDS: ffmpeg in A's namespace, a tone as Opus/SRTP to leg a.
# RTCP goes to a port outside the media range (ffmpeg does no rtcp-mux).
tx() {
	ip netns exec "$NS_A" timeout 30 ffmpeg -nostdin -hide_banner -loglevel error -re \
		-f lavfi -i "sine=frequency=440:duration=$2" -ac 1 -ar 48000 -c:a libopus -b:a 24k \
		-f rtp -payload_type 111 -srtp_out_suite "${1%% *}" -srtp_out_params "${1#*inline:}" \
		"srtp://$AEP?localport=41002&rtcpport=9" >"$DUET_TMP/tx.log" 2>&1
}

# tone WAV: "frames rate hz" of the first channel (zero crossings / 2 / s).
tone() {
	python3 - "$1" <<'PY'
import struct, sys, wave
try:
    w = wave.open(sys.argv[1])
except Exception:
    print("0 0 0"); sys.exit()
n, ch, rate = w.getnframes(), w.getnchannels(), w.getframerate()
d = struct.unpack('<%dh' % (n * ch), w.readframes(n))[::ch]
z = sum(1 for i in range(1, len(d)) if (d[i - 1] < 0) != (d[i] < 0))
print(n, rate, round(z / 2 / (n / rate)) if n else 0)
PY
}

rx good "$K" 3
sleep 1
duet_check "ffmpeg sends 3 s of Opus over SRTP through duetd" tx "$K" 3
wait "${DUET_BG[good]}"
duet_check_eq "ffmpeg receiver exits 0" 0 $?
duet_diag "receiver log: $(head -c 400 "$DUET_TMP/good.log")"
read -r frames rate hz <<<"$(tone "$DUET_TMP/good.wav")"
duet_check_eq "decoded at 48 kHz" 48000 "$rate"
duet_check "decoded about 3 s (got $frames samples)" bash -c "(( $frames >= 48000 * 25 / 10 ))"
duet_check "decoded tone is 440 Hz +- 5 (got $hz)" bash -c "(( $hz >= 435 && $hz <= 445 ))"
duet_settle
duet_check_ge "fx a_pkts: ffmpeg's packets forwarded (3 s at 50/s)" 140 "$(duet_stat fx a_pkts)"
duet_check_eq "fx: no auth or replay drop" "0 0" "$(duet_stat fx a_drop_auth) $(duet_stat fx a_drop_replay)"
duet_check_eq "relay: no srtp_auth drop" 0 "$(duet_relay_stat drop_srtp_auth)"

# The same sender and port with a key duetd does not hold.
pkts0=$(duet_stat fx a_pkts)
rx bad "$K" 2
sleep 1
duet_check "ffmpeg sends 2 s with a wrong key" tx "$(key)" 2
wait "${DUET_BG[bad]}"
duet_settle
duet_check_ge "wrong key: every packet dropped as srtp_auth (2 s at 50/s)" 90 "$(duet_relay_stat drop_srtp_auth)"
duet_check_ge "wrong key: per-leg a_drop_auth" 90 "$(duet_stat fx a_drop_auth)"
duet_check_eq "wrong key: nothing forwarded" "$pkts0" "$(duet_stat fx a_pkts)"
read -r frames rate hz <<<"$(tone "$DUET_TMP/bad.wav")"
duet_check_eq "wrong key: B decoded nothing" 0 "$frames"

# ---------------------------------------------------------------------------
# AES_CM_128_HMAC_SHA1_32, ffmpeg's SRTCP included.
FWD=$DUET_TMP/fwd_mux.py
cat >"$FWD" <<'PY'
import json, os, select, socket, sys, time
ip, rtp_port, rtcp_port, src_port, dst, out, ready, stop, secs = sys.argv[1:10]
host, _, port = dst.rpartition(":")
ins = []
for p in (int(rtp_port), int(rtcp_port)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, p))
    ins.append(s)
o = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
o.bind((ip, int(src_port)))
o.connect((host, int(port)))
open(ready, "w").close()
rtp, rtcp, end = 0, [], time.monotonic() + float(secs)
while time.monotonic() < end and not os.path.exists(stop):
    r, _, _ = select.select(ins, [], [], 0.1)
    for s in r:
        data = s.recv(65535)
        o.send(data)
        if len(data) >= 2 and 192 <= data[1] <= 223:
            w8 = int.from_bytes(data[-8:-4], "big") if len(data) >= 16 else 0
            rtcp.append({"len": len(data), "e8": w8 >> 31, "index8": w8 & 0x7fffffff})
        else:
            rtp += 1
json.dump({"rtp": rtp, "rtcp": rtcp}, open(out, "w"))
PY

K32="AES_CM_128_HMAC_SHA1_32 inline:$(head -c 30 /dev/urandom | base64 -w0)"
B32=$DUET_B_IP:41010
duet_pair_create fx32 --mode verify --a-in "$K32" --b-src "$B32"
A32=$PAIR_A
duet_require "fx32 loaded, verify" duet_wait 5 duet_stat_is fx32 mode verify
auth0=$(duet_relay_stat drop_srtp_auth)
rm -f "$DUET_TMP/fwd.ready" "$DUET_TMP/fwd.stop"
ip netns exec "$NS_A" python3 "$FWD" "$DUET_A_IP" 41100 41101 41012 "$A32" "$DUET_TMP/fwd.json" \
	"$DUET_TMP/fwd.ready" "$DUET_TMP/fwd.stop" 40 >"$DUET_TMP/fwd.log" 2>&1 &
DUET_BG[fwd]=$!
DUET_BG_PIDS+=($!)
duet_require "forwarder ready" duet_wait 10 test -e "$DUET_TMP/fwd.ready"
B_SAVE=$B
B=$B32
rx good32 "$K32" 11
B=$B_SAVE
sleep 1
# Its SDP (key included) goes to a log, not to the TAP stream.
tx32() {
	ip netns exec "$NS_A" timeout 40 ffmpeg -nostdin -hide_banner -loglevel error -re \
		-f lavfi -i "sine=frequency=440:duration=11" -ac 1 -ar 48000 -c:a libopus -b:a 24k \
		-f rtp -payload_type 111 -srtp_out_suite "${K32%% *}" -srtp_out_params "${K32#*inline:}" \
		"srtp://$DUET_A_IP:41100?localport=41102&rtcpport=41101" >"$DUET_TMP/tx32.log" 2>&1
}
duet_check "ffmpeg sends 11 s of Opus over SRTP with AES_CM_128_HMAC_SHA1_32" tx32
wait "${DUET_BG[good32]}"
duet_check_eq "ffmpeg receiver (AES_CM_128_HMAC_SHA1_32) exits 0" 0 $?
sleep 0.5
touch "$DUET_TMP/fwd.stop"
wait "${DUET_BG[fwd]}"
read -r n_rtp n_rtcp layout_ok last_index <<<"$(python3 - "$DUET_TMP/fwd.json" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print("0 0 0 -1"); sys.exit()
r = d["rtcp"]
# ffmpeg's layout: ... || E+index || 4-byte tag, indexes counted from 0.
ok = all(x["e8"] == 1 and x["index8"] == i for i, x in enumerate(r))
print(d["rtp"], len(r), int(bool(r) and ok), r[-1]["index8"] if r else -1)
PY
)"
duet_diag "forwarder: $n_rtp RTP, $n_rtcp SRTCP datagrams from ffmpeg: $(head -c 400 "$DUET_TMP/fwd.json")"
duet_check_ge "ffmpeg sent at least 2 SRTCP sender reports in 11 s" 2 "$n_rtcp"
duet_check_eq "ffmpeg's SRTCP has the 32-bit tag layout (E+index 8 bytes from the end, 0, 1, ...)" \
	1 "$layout_ok"
duet_settle
duet_check_eq "fx32: every datagram ffmpeg sent (RTP and SRTCP) forwarded, none refused" \
	"a_pkts=$((n_rtp + n_rtcp)) a_drop_auth=0 a_drop_replay=0" \
	"a_pkts=$(duet_stat fx32 a_pkts) a_drop_auth=$(duet_stat fx32 a_drop_auth) a_drop_replay=$(duet_stat fx32 a_drop_replay)"
duet_check_eq "relay: no srtp_auth drop for ffmpeg's SRTP and SRTCP" 0 \
	"$(($(duet_relay_stat drop_srtp_auth) - auth0))"
srtp_in=$(duet_stat fx32 a_srtp_in)
duet_check_eq "a_srtp_in: duetd authenticated ffmpeg's SRTCP up to its last index ($srtp_in)" \
	"$last_index" "${srtp_in##*:}"
read -r frames rate hz <<<"$(tone "$DUET_TMP/good32.wav")"
duet_check "AES_CM_128_HMAC_SHA1_32: B decoded about 11 s (got $frames samples)" \
	bash -c "(( $frames >= 48000 * 9 ))"
duet_check "AES_CM_128_HMAC_SHA1_32: decoded tone is 440 Hz +- 5 (got $hz)" \
	bash -c "(( $hz >= 435 && $hz <= 445 ))"

duet_check_srtp_batches
duet_check_stop TERM
