#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Summarise benchmarks/srtp's srtp.csv: median ns/packet over the runs for
each build, suite, variant and session count, and the goals of issue
"Benchmarks" item 3:
  - duet verify <= 1.15 x raw libsrtp2 doing the same work (raw_verify:
    srtp_unprotect on the very session verify mode makes; for the AES-CM
    suites that session only checks the tag), and duet rekey <= 1.15 x
    raw_unprotect_protect;
  - 100,000 sessions <= 1.5 x one session, per packet.
usage: summarize.py OUT_DIR/srtp.csv
"""
import collections
import csv
import statistics
import sys

VERIFY_GOAL = 1.15
SCALE_GOAL = 1.5
VARIANTS = ["raw_unprotect", "raw_verify", "duet_verify", "raw_protect",
            "raw_unprotect_protect", "duet_rekey"]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: summarize.py srtp.csv")
    ns = collections.defaultdict(list)
    by_run = collections.defaultdict(dict)
    fails = 0
    with open(sys.argv[1], newline="") as f:
        for row in csv.DictReader(f):
            if row["benchmark"] != "srtp":
                continue
            key = (row["variant"], int(row["sessions"]))
            if row["metric"] == "ns_per_pkt":
                ns[key].append(float(row["value"]))
                by_run[key][row["run"]] = float(row["value"])
            elif row["metric"] == "failures":
                fails += int(row["value"])
    med = {k: statistics.median(v) for k, v in ns.items()}

    def paired(g, a, b, n, n_b=None):
        """Median over runs of a/b (b at n_b sessions if given): a and b of
        one run were measured in the same round (variants of one process
        take turns by chunk; processes take turns by round), or None."""
        ra = by_run.get((g + "/" + a, n), {})
        rb = by_run.get((g + "/" + b, n if n_b is None else n_b), {})
        rs = [ra[r] / rb[r] for r in ra if r in rb and rb[r] > 0]
        return statistics.median(rs) if rs else None

    spread = {k: (max(v) - min(v)) / statistics.median(v) for k, v in ns.items() if v}
    groups = sorted({k[0].rsplit("/", 1)[0] for k in med})
    counts = sorted({k[1] for k in med})
    print("srtp: median ns/packet over runs (failed packets: %d); verify/raw and"
          " rekey/raw: median of per-run ratios" % fails)
    print("%-36s %8s " % ("build/suite", "sessions") +
          " ".join("%11s" % v.replace("raw_unprotect_protect", "raw_unp+prot")
                   .replace("raw_unprotect", "raw_unprot") for v in VARIANTS) +
          "  verify/raw rekey/raw")
    for g in groups:
        for n in counts:
            vals = [med.get(("%s/%s" % (g, v), n)) for v in VARIANTS]
            if all(x is None for x in vals):
                continue
            cells = " ".join("%11s" % ("-" if x is None else "%.0f" % x) for x in vals)
            rv, rr = (paired(g, "duet_verify", "raw_verify", n),
                      paired(g, "duet_rekey", "raw_unprotect_protect", n))
            rv = "-" if rv is None else "%.2f" % rv
            rr = "-" if rr is None else "%.2f" % rr
            print("%-36s %8d %s  %10s %9s" % (g, n, cells, rv, rr))
    if spread:
        k = max(spread, key=spread.get)
        print("largest (max-min)/median over runs of one figure: %.0f%% (%s, %d sessions)" %
              (100 * spread[k], k[0], k[1]))

    print("goals:")
    for g in groups:
        for n in counts:
            for duet, raw in (("duet_verify", "raw_verify"),
                              ("duet_rekey", "raw_unprotect_protect")):
                r = paired(g, duet, raw, n)
                if r is not None:
                    print("  %-6s %s %s/%s at %d sessions: %.2fx (goal <= %.2f)" %
                          ("met" if r <= VERIFY_GOAL else "MISSED", g, duet, raw, n, r,
                           VERIFY_GOAL))
        lo, hi = min(counts), max(counts)
        if lo == hi:
            continue
        for v in ("duet_verify", "duet_rekey", "raw_unprotect", "raw_protect"):
            r = paired(g, v, v, hi, lo)
            if r is not None:
                print("  %-6s %s %s: %d sessions / %d: %.2fx (goal <= %.2f)" %
                      ("met" if r <= SCALE_GOAL else "MISSED", g, v, hi, lo, r, SCALE_GOAL))


if __name__ == "__main__":
    main()
