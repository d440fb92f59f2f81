#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# test_abuse_headers: clean egress headers (issue 8, item 5). Client A's
# packets are hand-built (raw_send.py) with everything that would tell B
# about A's host and path: TTL 17, IP ID 0x4242 without DF, DSCP 10 with
# ECN ECT(1), IP options (NOP NOP NOP EOL; a record route), and 9 junk
# bytes past the IP total length. tshark at B judges every relayed packet:
# the relay's TTL (64 by default), IP ID 0 with DF, DSCP 46 (EF) and ECN 0,
# a 20-byte header, IP total length = 20 + UDP length, no bytes past the IP
# datagram but zero Ethernet padding, IP and UDP checksums good, and the
# UDP payload byte for byte what A sent (also checked by B's socket). Then
# again with [media] ttl = 50 and dscp = keep: TTL 50, A's DSCP 10, ECN 0.
set -u
source "$(dirname "$0")/../../tools/lab/lib.sh"
source "$(dirname "$0")/abuse_lib.sh"
duet_init
abuse_init
duet_start_all

RMAC_A=$(abuse_relay_mac a)
RMAC_B=$(abuse_relay_mac b)
N=20
A=$DUET_A_IP:40020
B=$DUET_B_IP:40020

# headers_round NAME PAIR AEP BEP TTL DSCP: A sends the four batches below
# (N each) to AEP, tshark at B captures what leaves BEP; then every check.
headers_round() {
	local name=$1 id=$2 aep=$3 bep=$4 ttl=$5 dscp=$6
	local log=$DUET_TMP/$name.payloads fields=$DUET_TMP/$name.tsv judged=$DUET_TMP/$name.judged.json
	local total=$((4 * N)) spec
	rm -f "$log"
	duet_capture_start "$name" "$NS_B" "$IF_B" "udp and ether src $RMAC_B and src port ${bep##*:}" \
		$((total + 50)) 60
	duet_listen "$name-b" "$NS_B" "$B"
	# tag | IP options | UDP payload bytes (173: odd; 12: a bare RTP header,
	# so the frame is below the Ethernet minimum once the junk is gone)
	for spec in "$name-nop 01010100 172" "$name-rr 0707040000000000 173" "$name-plain - 172" \
		"$name-small 01010100 12"; do
		read -r tag opts size <<<"$spec"
		local optarg=()
		[[ $opts == - ]] || optarg=(--ip-options "$opts")
		abuse_raw "$NS_A" udp --iface "$IF_A" --dst-mac "$RMAC_A" --src "$A" --to "$aep" \
			--count $N --rate 200 --tag "$tag" --size "$size" --ttl 17 --ip-id 0x4242 \
			--tos 0x29 --trailer 9 --trailer-byte 0xa5 "${optarg[@]}" --payload-log "$log"
	done
	duet_listen_end "$name-b"
	abuse_capture_stop "$name"
	abuse_tshark "$name" udp ip.ttl ip.id ip.flags.df ip.dsfield.dscp ip.dsfield.ecn ip.hdr_len \
		ip.len udp.length ip.checksum.status udp.checksum.status frame.len eth.padding \
		eth.trailer udp.payload >"$fields"
	python3 - "$fields" "$log" "$ttl" "$dscp" >"$judged" <<'EOF'
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
sent = sorted(l.strip() for l in open(sys.argv[2]) if l.strip())
ttl, dscp = sys.argv[3], sys.argv[4]
c = dict.fromkeys(("ttl", "id_df", "dscp", "ecn", "ihl", "len", "tail", "ipck", "udpck"), 0)
got, bad = [], []
for r in rows:
    r += [""] * (14 - len(r))
    (t, ipid, df, ds, ecn, ihl, iplen, udplen, ipck, udpck, flen, pad, trailer, pl) = r[:14]
    ok = {
        "ttl": t == ttl,
        "id_df": int(ipid, 0) == 0 and df in ("1", "True"),
        "dscp": ds == dscp,
        "ecn": ecn == "0",
        "ihl": ihl == "20",
        "len": udplen.isdigit() and iplen == str(20 + int(udplen)),
        # Nothing past the IP datagram but zero padding up to 60 bytes.
        "tail": trailer == "" and set(pad.replace(":", "")) <= {"0"}
                and iplen.isdigit() and int(flen) <= max(60, 14 + int(iplen)),
        "ipck": ipck == "1",
        "udpck": udpck == "1",
    }
    for k, v in ok.items():
        c[k] += v
    if not all(ok.values()) and len(bad) < 3:
        bad.append(r[:13])
    got.append(pl.replace(":", ""))
c["packets"] = len(rows)
c["payload_same"] = sorted(got) == sent
c["sent"] = len(sent)
c["first_bad"] = bad
print(json.dumps(c))
EOF
	local j=$judged
	duet_check_eq "$name: tshark at B captured all $total relayed packets (of $(duet_json "$j" 'd["sent"]') sent)" \
		$total "$(duet_json "$j" 'd["packets"]')"
	duet_check_eq "$name: TTL $ttl on every packet (A sent 17)" $total "$(duet_json "$j" 'd["ttl"]')"
	duet_check_eq "$name: IP ID 0 and DF on every packet (A sent 0x4242, no DF)" $total \
		"$(duet_json "$j" 'd["id_df"]')"
	duet_check_eq "$name: DSCP $dscp on every packet (A sent 10)" $total "$(duet_json "$j" 'd["dscp"]')"
	duet_check_eq "$name: ECN 0 on every packet (A sent ECT(1))" $total "$(duet_json "$j" 'd["ecn"]')"
	duet_check_eq "$name: 20-byte IP header, no options, on every packet" $total "$(duet_json "$j" 'd["ihl"]')"
	duet_check_eq "$name: IP total length = 20 + UDP length on every packet" $total \
		"$(duet_json "$j" 'd["len"]')"
	duet_check_eq "$name: no byte past the IP datagram but zero Ethernet padding" $total \
		"$(duet_json "$j" 'd["tail"]')"
	duet_check_eq "$name: IP and UDP checksums good by tshark" "$total $total" \
		"$(duet_json "$j" 'd["ipck"]') $(duet_json "$j" 'd["udpck"]')"
	duet_check_eq "$name: the UDP payloads at B are byte for byte those A sent" True \
		"$(duet_json "$j" 'd["payload_same"]')"
	[[ $(duet_json "$j" 'd["first_bad"]') == '[]' ]] ||
		duet_diag "first bad packets (ttl id df dscp ecn ihl iplen udplen ipck udpck framelen padding trailer): $(duet_json "$j" 'd["first_bad"]')"
	duet_check_eq "$name: B's socket got all $((3 * N)) tagged packets intact" "$N $N $N 0" \
		"$(duet_json "$name-b" "'%d %d %d %d' % (d['recv']['tags'].get('$name-nop', 0), d['recv']['tags'].get('$name-rr', 0), d['recv']['tags'].get('$name-plain', 0), d['recv']['corrupt'])")"
}

duet_pair_create h1
duet_require "latch pair h1" duet_latch h1 "$A" "$PAIR_A" "$B" "$PAIR_B"
headers_round hdr-default h1 "$PAIR_A" "$PAIR_B" 64 46
duet_check_stop TERM

duet_conf_write media.ttl=50 media.dscp=keep
duet_require "duetd starts with [media] ttl = 50, dscp = keep" duetd_start
duet_pair_create h2
duet_require "latch pair h2" duet_latch h2 "$A" "$PAIR_A" "$B" "$PAIR_B"
headers_round hdr-ttl50-keep h2 "$PAIR_A" "$PAIR_B" 50 10
duet_check_stop TERM
