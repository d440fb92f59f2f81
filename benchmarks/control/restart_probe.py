#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""restart_probe.py: when does a call forward again after duetd restarts?

  run --side a|b --out F [--ready-file F] [--go-file F] [--stop-file F]
      --count N --rate PPS [--timeout S] FLOW...
  gap --since T0 [--until T1] A_REPORT B_REPORT

`run` is one end of one or more calls (a FLOW is NAME,BIND_IP:PORT,TO_IP:PORT)
and runs as an ordinary kernel process inside a lab namespace: every
1/rate s it sends one packet on every flow (udp_peer.py's RTP-shaped
payload, tag NAME-from<side>), and it writes down the wall-clock time of
every packet of the other side that arrives. It sends at most N packets a
flow, and stops at --timeout or 0.3 s after --stop-file appears, then
writes the JSON report --out. Wall-clock time, because the restart time it
is compared with is taken by another process (the test or benchmark
script, `date +%s.%N`).

`gap` reads the reports of both ends and prints one line per flow:
  NAME BEFORE_AB BEFORE_BA AB_MS BA_MS
packets that arrived in each direction before T0 (or before T1, the kill
time, if given), and the milliseconds from T0 to the first arrival at or
after T0 in each direction (-1: none). A call forwards again once both
directions do: the larger of the two.

Used by tests/integration/test_crash.sh and benchmarks/control/restart.sh.
Standard library only; every loop is bounded in packets and seconds."""

import argparse
import json
import os
import select
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tools/lab"))
from udp_peer import build_payload, mark_ready, parse_ep, parse_payload, udp_socket  # noqa: E402

MAX_SECONDS = 900.0  # no run may last longer, whatever it is asked


def parse_flow(text):
    parts = text.split(",")
    if len(parts) != 3 or not parts[0]:
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME,BIND_IP:PORT,TO_IP:PORT")
    return parts[0], parse_ep(parts[1]), parse_ep(parts[2])


def cmd_run(args):
    other = "b" if args.side == "a" else "a"
    flows = []
    for name, bind, to in args.flows:
        flows.append({"name": name, "sock": udp_socket(bind), "to": to,
                      "tag": f"{name}-from{args.side}", "want": f"{name}-from{other}",
                      "sent": 0, "errors": 0, "rx": []})
    by_sock = {f["sock"]: f for f in flows}
    mark_ready(args.ready_file)

    def drain(sock):
        fl = by_sock[sock]
        while True:
            try:
                data, _src = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionRefusedError:
                continue
            now = time.time()
            parsed = parse_payload(data)
            if parsed is not None and parsed[0] == fl["want"]:
                fl["rx"].append(round(now, 4))

    deadline = time.monotonic() + min(args.timeout, MAX_SECONDS)
    while args.go_file and not os.path.exists(args.go_file) and time.monotonic() < deadline:
        time.sleep(0.005)
    start = time.monotonic()
    tick = 0
    stop_at = None
    while time.monotonic() < deadline:
        now = time.monotonic()
        if stop_at is None and args.stop_file and os.path.exists(args.stop_file):
            stop_at = now + 0.3
        if stop_at is not None and now >= stop_at:
            break
        due = start + tick / args.rate
        if tick < args.count and now >= due:
            for fl in flows:
                try:
                    fl["sock"].sendto(build_payload(fl["tag"], tick, 172), fl["to"])
                    fl["sent"] += 1
                except OSError:
                    fl["errors"] += 1
            tick += 1
            continue
        if tick >= args.count and stop_at is None:
            stop_at = now + 1.0  # what is still on its way
        wake = min(deadline, due if tick < args.count else stop_at, now + 0.05)
        readable, _, _ = select.select(list(by_sock), [], [], max(0.0, wake - now))
        for s in readable:
            drain(s)
    report = {"side": args.side, "rate": args.rate, "flows": {
        fl["name"]: {"sent": fl["sent"], "send_errors": fl["errors"], "rx": fl["rx"]}
        for fl in flows}}
    with open(args.out + ".tmp", "w") as f:
        json.dump(report, f)
    os.rename(args.out + ".tmp", args.out)
    return 0


def cmd_gap(args):
    a = json.load(open(args.a_report))["flows"]
    b = json.load(open(args.b_report))["flows"]
    before = args.until if args.until is not None else args.since
    for name in a:
        # At B arrive A's packets (a -> b); at A, B's.
        ab, ba = b.get(name, {"rx": []})["rx"], a[name]["rx"]
        out = [name]
        for rx in (ab, ba):
            out.append(str(sum(1 for t in rx if t < before)))
        for rx in (ab, ba):
            after = [t for t in rx if t >= args.since]
            out.append(str(round((after[0] - args.since) * 1000)) if after else "-1")
        print(" ".join(out))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run", help="one end of the calls: send and time arrivals")
    p.add_argument("--side", choices=("a", "b"), required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--ready-file")
    p.add_argument("--go-file")
    p.add_argument("--stop-file")
    p.add_argument("--count", type=int, required=True, help="packets per flow at most")
    p.add_argument("--rate", type=float, default=50.0, help="packets per second per flow")
    p.add_argument("--timeout", type=float, default=None)
    p.add_argument("flows", nargs="+", type=parse_flow, metavar="FLOW")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("gap", help="first arrival after a time, per flow and direction")
    p.add_argument("--since", type=float, required=True)
    p.add_argument("--until", type=float)
    p.add_argument("a_report")
    p.add_argument("b_report")
    p.set_defaults(func=cmd_gap)
    args = ap.parse_args()
    if args.cmd == "run":
        if args.rate <= 0 or args.count < 0:
            ap.error("--rate must be positive and --count not negative")
        if args.timeout is None:
            args.timeout = args.count / args.rate + 5
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
