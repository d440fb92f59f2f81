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

Given OUT_DIR/srtpe.csv (bench_srtpe, duet's own SRTP engine), it prints
the engine's medians and the issue "SRTP engine" goal ratios instead:
engine / raw crypto of the same manager (S1, S2 <= 1.5; S3, GCM, <= 2) and
the most sessions / 1 (S4 <= 1.3), each the median of per-run ratios.
"""
import collections
import csv
import statistics
import sys

VERIFY_GOAL = 1.15
SCALE_GOAL = 1.5
VARIANTS = ["raw_unprotect", "raw_verify", "duet_verify", "raw_protect",
            "raw_unprotect_protect", "duet_rekey"]


ENGINE_VARIANTS = ["raw_verify", "engine_verify", "raw_rekey", "engine_rekey"]
ENGINE_SCALE_GOAL = 1.3


def engine(path):
    """The srtpe.csv summary (bench_srtpe)."""
    by_run = collections.defaultdict(dict)
    fails = 0
    mem = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["benchmark"] != "srtpe":
                continue
            key = (row["variant"], int(row["sessions"]))
            if row["metric"] == "ns_per_pkt":
                by_run[key][row["run"]] = float(row["value"])
            elif row["metric"] == "failures":
                fails += int(row["value"])
            elif row["metric"] == "bytes_per_pair":
                mem[row["variant"]] = float(row["value"])
    med = {k: statistics.median(v.values()) for k, v in by_run.items()}

    def paired(a, na, b, nb):
        ra, rb = by_run.get((a, na), {}), by_run.get((b, nb), {})
        rs = [ra[r] / rb[r] for r in ra if r in rb and rb[r] > 0]
        return statistics.median(rs) if rs else None

    # (suite, arch suffix) groups: "AES_CM_128_HMAC_SHA1_80", "..._sse".
    groups = sorted({(k[0].split("/")[0], k[0].split("/")[1][len("engine_verify"):])
                     for k in med if k[0].split("/")[1].startswith("engine_verify")})
    counts = sorted({k[1] for k in med})
    print("srtpe: median ns/packet over runs (failed packets: %d); engine/raw: median of"
          " per-run ratios" % fails)
    print("%-28s %4s %8s " % ("suite", "mgr", "sessions") +
          " ".join("%13s" % v for v in ENGINE_VARIANTS) + "  verify/raw rekey/raw")
    for suite, sfx in groups:
        for n in counts:
            vals = [med.get(("%s/%s%s" % (suite, v, sfx), n)) for v in ENGINE_VARIANTS]
            if all(x is None for x in vals):
                continue
            rv = paired("%s/engine_verify%s" % (suite, sfx), n, "%s/raw_verify%s" % (suite, sfx), n)
            rr = paired("%s/engine_rekey%s" % (suite, sfx), n, "%s/raw_rekey%s" % (suite, sfx), n)
            print("%-28s %4s %8d %s  %10s %9s" % (
                suite, sfx[1:] or "auto", n,
                " ".join("%13s" % ("-" if x is None else "%.0f" % x) for x in vals),
                "-" if rv is None else "%.2f" % rv, "-" if rr is None else "%.2f" % rr))
    print("goals:")
    for suite, sfx in groups:
        want = 2.0 if "GCM" in suite else 1.5
        for n in counts:
            for mode in ("verify", "rekey"):
                r = paired("%s/engine_%s%s" % (suite, mode, sfx), n,
                           "%s/raw_%s%s" % (suite, mode, sfx), n)
                if r is not None:
                    print("  %-6s %s%s engine/raw %s at %d sessions: %.2fx (goal <= %.1f)" % (
                        "met" if r <= want else "MISSED", suite, sfx, mode, n, r, want))
        lo, hi = min(counts), max(counts)
        for mode in ("verify", "rekey"):
            v = "%s/engine_%s%s" % (suite, mode, sfx)
            r = paired(v, hi, v, lo)
            if r is not None and lo != hi:
                print("  %-6s %s: %d sessions / %d: %.2fx (goal <= %.1f)" % (
                    "met" if r <= ENGINE_SCALE_GOAL else "MISSED", v, hi, lo, r,
                    ENGINE_SCALE_GOAL))
    for k in sorted(mem):
        print("  memory %s: %.0f B per pair" % (k, mem[k]))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: summarize.py srtp.csv")
    with open(sys.argv[1], newline="") as f:
        row = next(csv.DictReader(f), None)
        if row is not None and row["benchmark"] == "srtpe":
            engine(sys.argv[1])
            return
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
