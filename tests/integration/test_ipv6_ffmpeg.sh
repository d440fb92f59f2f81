#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_ipv6_ffmpeg: duetd checked over IPv6 by SRTP code it did not write
# (issue 14), test_srtp_ffmpeg's approach with the lab in DUET_FAMILY=6.
# ffmpeg (Debian's, libavformat's own SRTP, kernel IPv6 sockets) sends 3 s
# of a 440 Hz tone as Opus over SRTP to leg a ([2001:db8:a::1]:P) of a
# verify-mode pair; duetd authenticates every packet with a_in and forwards
# it unchanged to leg b's pinned client [2001:db8:b::10]:41000 (port 1's
# gateway6, resolved by duetd's own neighbour solicitation), where a second
# ffmpeg, given an SDP with c=IN IP6 and a=crypto, decrypts and decodes it
# to a WAV: ~3 s of a ~440 Hz tone, no auth failure at duetd. Then the
# same sender with a wrong key: every packet dropped as srtp_auth, nothing
# forwarded, B decodes nothing.
set -u
export DUET_FAMILY=6
source "$(dirname "$0")/../../tools/lab/lib.sh"
duet_init
command -v ffmpeg >/dev/null || duet_bail "needs ffmpeg (bash tools/install-deps.sh installs it)"
duet_start_all "port1.gateway6=$DUET_B_IP"
duet_check_srtp_engine
duet_check "duetd resolved B as port 1's IPv6 gateway (nd_learned)" duet_wait 10 duet_relay_ge nd_learned 1

key() { echo "AES_CM_128_HMAC_SHA1_80 inline:$(head -c 30 /dev/urandom | base64 -w0)"; }
K=$(key)
BPORT=41000
B=$(duet_hostport "$DUET_B_IP" $BPORT)
duet_pair_create fx6 --mode verify --a-in "$K" --b-src "$B"
AEP=$PAIR_A
duet_check_match "leg a on IPv6" '^\[2001:db8:a::1\]:[0-9]+$' "$AEP"
duet_require "fx6 loaded, verify" duet_wait 5 duet_stat_is fx6 mode verify

# rx NAME KEY SECONDS: ffmpeg in B's namespace, SRTP over IPv6 in, WAV out.
rx() {
	cat >"$DUET_TMP/$1.sdp" <<SDP
v=0
o=- 0 0 IN IP6 $DUET_B_IP
s=duet test
c=IN IP6 $DUET_B_IP
t=0 0
m=audio $BPORT RTP/SAVP 111
a=rtpmap:111 opus/48000/2
a=crypto:1 ${2%% *} ${2#* }
SDP
	ip netns exec "$NS_B" timeout $(($3 + 8)) ffmpeg -nostdin -hide_banner -loglevel error \
		-protocol_whitelist file,udp,rtp -i "$DUET_TMP/$1.sdp" -t "$3" -y "$DUET_TMP/$1.wav" \
		>"$DUET_TMP/$1.log" 2>&1 &
	DUET_BG[$1]=$!
	DUET_BG_PIDS+=($!)
}

# tx KEY SECONDS: ffmpeg in A's namespace, a tone as Opus/SRTP over IPv6 to
# leg a. RTCP goes to a port outside the media range (ffmpeg does no
# rtcp-mux).
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
duet_check "ffmpeg sends 3 s of Opus over SRTP over IPv6 through duetd" tx "$K" 3 ||
	duet_diag "sender log: $(head -c 400 "$DUET_TMP/tx.log")"
wait "${DUET_BG[good]}"
duet_check_eq "ffmpeg receiver (IPv6) exits 0" 0 $?
duet_diag "receiver log: $(head -c 400 "$DUET_TMP/good.log")"
read -r frames rate hz <<<"$(tone "$DUET_TMP/good.wav")"
duet_check_eq "decoded at 48 kHz" 48000 "$rate"
duet_check "decoded about 3 s (got $frames samples)" bash -c "(( $frames >= 48000 * 25 / 10 ))"
duet_check "decoded tone is 440 Hz +- 5 (got $hz)" bash -c "(( $hz >= 435 && $hz <= 445 ))"
duet_settle
duet_check_ge "fx6 a_pkts: ffmpeg's packets forwarded (3 s at 50/s)" 140 "$(duet_stat fx6 a_pkts)"
duet_check_eq "fx6: no auth or replay drop" "0 0" "$(duet_stat fx6 a_drop_auth) $(duet_stat fx6 a_drop_replay)"
duet_check_eq "relay: no srtp_auth drop" 0 "$(duet_relay_stat drop_srtp_auth)"

# The same sender and port with a key duetd does not hold.
pkts0=$(duet_stat fx6 a_pkts)
rx bad "$K" 2
sleep 1
duet_check "ffmpeg sends 2 s with a wrong key" tx "$(key)" 2
wait "${DUET_BG[bad]}"
duet_settle
duet_check_ge "wrong key: every packet dropped as srtp_auth (2 s at 50/s)" 90 "$(duet_relay_stat drop_srtp_auth)"
duet_check_ge "wrong key: per-leg a_drop_auth" 90 "$(duet_stat fx6 a_drop_auth)"
duet_check_eq "wrong key: nothing forwarded" "$pkts0" "$(duet_stat fx6 a_pkts)"
read -r frames rate hz <<<"$(tone "$DUET_TMP/bad.wav")"
duet_check_eq "wrong key: B decoded nothing" 0 "$frames"

duet_check_srtp_batches
duet_check_stop TERM
