#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""report.py OUT_DIR: turn a benchmark run's CSV files into report.md and
PNG plots. Every CSV has the columns benchmark,variant,x,metric,value,unit,run
(the third column's header may name x: pairs, sessions, ...). Each figure is
reported as median, min and max over its runs; goals are ratios computed
from figures of the same run (run by run where both sides have run
numbers: fastpath's testpmd window after each run, memif's repetitions).
Nothing here is a figure of its own: a goal whose inputs are missing says
"not measured" and why. The goal table's first cell is the goal's id
(issue 11: F1 F2 F3 M1 C1 C2 C3 L1, and F1v F1r I1 I2 LLC1 LLC2 W1 W2 for
what it asks to be reported beside them; issue "SRTP engine": S1 .. S6, and
SL1 .. SL4, the engine against libsrtp2, beside them; issue 14, IPv6: V1
V2, and VI, VM, instructions and the table's memory per pair with IPv6
legs, beside them), empty for earlier
goals, so a script can read it. Run by benchmarks/bench.sh."""

import csv
import glob
import math
import os
import statistics
import subprocess
import sys

OUT = os.path.abspath(sys.argv[1])
SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load():
    data = {}
    runs = {}
    for path in sorted(glob.glob(os.path.join(OUT, "*.csv"))):
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        for r in rows[1:]:
            if len(r) < 7:
                continue
            try:
                v = float(r[4])
            except ValueError:
                continue
            key = (r[0], r[1], r[2], r[3], r[5])
            data.setdefault(key, []).append(v)
            runs.setdefault(key, []).append((r[6], v))
    return data, runs


DATA, RUNS = load()


def fig(bench, variant, x, metric):
    """Values of one figure, or None."""
    for (b, v, xx, m, _u), vals in DATA.items():
        if b == bench and v == variant and xx == str(x) and m == metric:
            return vals
    return None


def contended(pairs):
    """Repetitions of the memif benchmark at `pairs` in which the DUT or the
    generator did not have its core to itself (memif/run.sh's flag)."""
    bad = set()
    for (b, v, x, m, _u), rv in RUNS.items():
        if b == "memif" and v == "env" and x == str(pairs) and m == "contended":
            bad.update(run for run, val in rv if val != 0)
    return bad


def fig_quiet(bench, variant, x, metric, pairs):
    """(values from uncontended repetitions, repetitions left out) of a
    figure of the memif run at `pairs`: a busy-polling DUT that lost its
    core measures the other process, not itself."""
    bad = contended(pairs)
    for (b, v, xx, m, _u), rv in RUNS.items():
        if b == bench and v == variant and xx == str(x) and m == metric:
            keep = [val for run, val in rv if run not in bad]
            return (keep or None), len(rv) - len(keep)
    return None, 0


def quiet_note(left_out, vals):
    if not left_out:
        return ""
    if vals is None:
        return "every repetition contended: no valid figure"
    return "; %d contended repetition(s) left out" % left_out


def largest(bench, variant, metric):
    """(x, median) of the figure measured at the largest numeric x."""
    best = None
    for (b, v, x, m, _u), vals in DATA.items():
        if b == bench and v == variant and m == metric and x.isdigit():
            if best is None or int(x) > best[0]:
                best = (int(x), med(vals))
    return best if best else (None, None)


def med(vals):
    return statistics.median(vals) if vals else None


def fmt(v):
    if v is None:
        return "n/a"
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.3g" % v


def machine():
    p = os.path.join(OUT, "machine.txt")
    if not os.path.exists(p):
        return {}
    return dict(l.rstrip("\n").split("=", 1) for l in open(p) if "=" in l)


def memory_note(m):
    """What the DPDK processes ran on: the harness's word (machine.txt) and
    each part's (its env,hugepages row)."""
    note = m.get("hugepages_note")
    if note is None:
        note = "not recorded by this run's harness (hugepages_2m=%s)" % m.get("hugepages_2m", "?")
    used = []
    for bench in ("fastpath", "memif", "control"):
        vals = [v for (b, variant, _x, metric, _u), vs in DATA.items()
                if b == bench and variant == "env" and metric == "hugepages" for v in vs]
        if vals:
            used.append("%s %s" % (bench, "hugepages" if min(vals) == 1 else
                                   "--no-huge" if max(vals) == 0 else "both"))
    return note + ("; used by " + ", ".join(used) if used else "")


def tables():
    out = []
    benches = sorted({k[0] for k in DATA})
    for b in benches:
        out.append("\n### %s\n" % b)
        out.append("| variant | x | metric | median | min | max | runs | unit |")
        out.append("|---|---|---|---|---|---|---|---|")
        for key in sorted(k for k in DATA if k[0] == b):
            vals = DATA[key]
            out.append("| %s | %s | %s | %s | %s | %s | %d | %s |" % (
                key[1], key[2], key[3], fmt(med(vals)), fmt(min(vals)), fmt(max(vals)),
                len(vals), key[4]))
    return "\n".join(out)


# Goals: rows (id, name, goal text, figure text or None, met bool or None,
# command). The ids are issue 11's (F1 .. L1) and this report's own for
# what that issue asks to be reported beside them (F1v, F1r, I1, I2, LLC1,
# LLC2, W1, W2); older goals have no id. A script reads the first cell.
def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def by_run(bench, variant, x, metric):
    """{run: value} of one figure (the last value of a run)."""
    for (b, v, xx, m, _u), rv in RUNS.items():
        if b == bench and v == variant and xx == str(x) and m == metric:
            return {run: val for run, val in rv}
    return {}


def paired(num, den, skip=()):
    """Ratios num/den of the runs both figures have (and skip lacks); a
    figure that is not finite (a latency past the generator's histogram)
    makes no ratio."""
    a, b = by_run(*num), by_run(*den)
    return [a[r] / b[r] for r in sorted(a) if r in b and b[r] and r not in skip
            and math.isfinite(a[r]) and math.isfinite(b[r])]


def flagged(bench, x, metrics):
    """Runs of bench's env rows at x in which any of metrics is set."""
    bad = set()
    for m in metrics:
        bad.update(r for r, v in by_run(bench, "env", x, m).items() if v != 0)
    return bad


def pairs_fmt(n):
    return format(int(n), ",")


def at_pairs(n):
    return "%s pair%s" % (pairs_fmt(n), "" if int(n) == 1 else "s")


def fastpath_vs_testpmd(variant, pairs):
    """(ratio, text) of variant's ns/packet at pairs over testpmd 5tswap's:
    the median of run-by-run ratios against the window right after each
    run, or, in runs from before those windows were named, of the medians."""
    d = med(fig("fastpath", variant, pairs, "ns_per_pkt"))
    if d is None:
        return None, None
    rs = paired(("fastpath", variant, pairs, "ns_per_pkt"),
                ("fastpath", "testpmd_5tswap_after_" + variant, pairs, "ns_per_pkt"))
    if rs:
        t = med(fig("fastpath", "testpmd_5tswap_after_" + variant, pairs, "ns_per_pkt"))
        r = med(rs)
        how = "median of %d run-by-run ratios" % len(rs)
    else:
        t = med(fig("fastpath", "testpmd_5tswap", 0, "ns_per_pkt"))
        r = ratio(d, t)
        how = "medians of the run"
    if r is None:
        return None, None
    return r, "%.2fx (%s ns vs %s ns; %s)" % (r, fmt(d), fmt(t), how)


def largest_x(bench, variant, metric):
    xs = [int(x) for (b, v, x, m, _u) in DATA if b == bench and v == variant and m == metric
          and x.isdigit()]
    return max(xs) if xs else None


# The SRTP engine (benchmarks/srtp/bench_srtpe.c, srtpe.csv): engine and
# raw crypto of the same manager take turns chunk by chunk in one process,
# and the processes for 1 and 100,000 sessions take turns round by round,
# so run r of every srtpe figure is one round: ratios are run by run.
SRTPE_CMD = "SRTP_ONLY=engine benchmarks/srtp/run.sh"
SRTPE_SUITES = ("AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AEAD_AES_128_GCM",
                "AEAD_AES_256_GCM")


def srtpe_ratio(suite, num, n_num, den, n_den):
    """(median of run-by-run ratios, text, runs) of srtpe ns/packet figures
    suite/num at n_num sessions over suite/den at n_den, or (None, None, 0)."""
    a = ("srtpe", "%s/%s" % (suite, num), n_num, "ns_per_pkt")
    b = ("srtpe", "%s/%s" % (suite, den), n_den, "ns_per_pkt")
    rs = paired(a, b)
    if not rs:
        return None, None, 0
    r = med(rs)
    return r, "%.2fx (%s vs %s ns)" % (r, fmt(med(fig(*a))), fmt(med(fig(*b)))), len(rs)


def srtpe_cells(cells, want):
    """(text, met) of (label, ratio, text, runs) cells: met when every ratio
    is there and within want."""
    if all(r is None for _l, r, _t, _n in cells):
        return None, None
    text = "; ".join("%s: %s" % (label, t or "not measured") for label, _r, t, _n in cells)
    runs = min(n for _l, r, _t, n in cells if r is not None)
    met = None if any(r is None for _l, r, _t, _n in cells) else all(
        r <= want for _l, r, _t, _n in cells)
    return text + " (medians of run-by-run ratios, %d runs)" % runs, met


def srtpe_rows(add):
    cm = "AES_CM_128_HMAC_SHA1_80"
    gcm = "AEAD_AES_128_GCM"
    if not any(k[0] == "srtpe" for k in DATA):
        for gid, name, goal in (
                ("S1", "%s verify / raw HMAC-SHA1, 1 and 100,000 sessions" % cm, "<= 1.5x"),
                ("S2", "%s rekey / raw CTR + HMAC-SHA1 in and out" % cm, "<= 1.5x"),
                ("S3", "%s verify and rekey / raw GCM open, open + seal" % gcm, "<= 2x"),
                ("S4", "100,000 sessions / 1, each mode x suite", "<= 1.3x"),
                ("S5", "memory per pair, %s: verify / rekey" % cm, "<= 1.5 KB / 3 KB")):
            add(gid, "SRTP engine " + name, goal, "not measured: no srtpe.csv (the engine stage "
                "of benchmarks/srtp/run.sh) in this run", None, SRTPE_CMD)
    else:
        # S1, S2: AES_CM_128_HMAC_SHA1_80, engine / raw, hot key and 100,000 keys.
        for gid, mode, raw in (("S1", "verify", "raw HMAC-SHA1 over the same bytes"),
                               ("S2", "rekey", "raw HMAC-SHA1 + AES-CTR decrypt in, AES-CTR "
                                "encrypt + HMAC-SHA1 out")):
            cells = []
            for n in (1, 100000):
                cells.append((at_sessions(n),) + srtpe_ratio(cm, "engine_" + mode, n,
                                                             "raw_" + mode, n))
            text, met = srtpe_cells(cells, 1.5)
            add(gid, "SRTP engine %s %s ns/packet / %s, same manager and run, bursts of 32, "
                "172-byte packets; met when both session counts are" % (cm, mode, raw),
                "<= 1.5x", text, met, SRTPE_CMD)
        # S3: AEAD_AES_128_GCM verify / raw open, rekey / raw open + seal.
        cells = []
        for mode, raw in (("verify", "open"), ("rekey", "open+seal")):
            for n in (1, 100000):
                cells.append(("%s / raw %s, %s" % (mode, raw, at_sessions(n)),) +
                             srtpe_ratio(gcm, "engine_" + mode, n, "raw_" + mode, n))
        text, met = srtpe_cells(cells, 2.0)
        add("S3", "SRTP engine %s verify and rekey / raw GCM (direct API) open, open + seal; "
            "met when all four are" % gcm, "<= 2x", text, met, SRTPE_CMD)
        # S4: every mode x suite, 100,000 sessions / 1, the default manager;
        # the raw crypto's own ratio beside each, for what the keys alone cost.
        cells = []
        for suite in SRTPE_SUITES:
            for mode in ("verify", "rekey"):
                r, _t, _n = srtpe_ratio(suite, "engine_" + mode, 100000, "engine_" + mode, 1)
                rr, _t, _n = srtpe_ratio(suite, "raw_" + mode, 100000, "raw_" + mode, 1)
                if r is not None:
                    cells.append(("%s %s" % (suite, mode), r, rr))
        if cells:
            worst = max(cells, key=lambda c: c[1])
            text = "max %.2fx (%s); %s (medians of run-by-run ratios; raw: the same " \
                "manager's crypto alone)" % (worst[1], worst[0], ", ".join(
                    "%s %.2fx (raw %s)" % (c[0], c[1], "n/a" if c[2] is None else "%.2fx" % c[2])
                    for c in cells))
        else:
            text = "not measured: no engine figures at both 1 and 100,000 sessions"
        add("S4", "SRTP engine ns/packet at 100,000 sessions / 1 session, each mode x suite "
            "(the max)", "<= 1.3x", text, None if not cells else worst[1] <= 1.3, SRTPE_CMD)
        # S5: bytes per pair, AES_CM_128_HMAC_SHA1_80 (GCM reported).
        def mem(suite, mode, metric):
            n = largest_x("srtpe", "%s/%s" % (suite, mode), metric)
            return None if n is None else med(fig("srtpe", "%s/%s" % (suite, mode), n, metric))
        v, r = mem(cm, "verify", "bytes_per_pair"), mem(cm, "rekey", "bytes_per_pair")
        if v is None or r is None:
            text, met = None, None
        else:
            key = mem(cm, "key", "suite_bytes")
            text = ("verify %s B, rekey %s B: 2 directions x (in key + stream), "
                    "2 x (in key + out key + 2 streams), with AES-CM keys placed suite-sized "
                    "(the %s B of struct duet_srtpe_key an AES-CM key uses, at 64-byte "
                    "alignment; the engine reads nothing past u.cm), which is what S5 takes; "
                    "as whole structs (2,112 B, set by the union's GCM arm) %s / %s B, which "
                    "would miss; malloc measured %s / %s B at %s sessions; %s: %s / %s B" % (
                        fmt(v), fmt(r), fmt(key), fmt(mem(cm, "verify", "bytes_per_pair_struct")),
                        fmt(mem(cm, "rekey", "bytes_per_pair_struct")),
                        fmt(mem(cm, "verify", "malloc_bytes_per_pair")),
                        fmt(mem(cm, "rekey", "malloc_bytes_per_pair")),
                        pairs_fmt(largest_x("srtpe", cm + "/verify", "malloc_bytes_per_pair")),
                        gcm, fmt(mem(gcm, "verify", "bytes_per_pair")),
                        fmt(mem(gcm, "rekey", "bytes_per_pair"))))
            met = v <= 1536 and r <= 3072
        add("S5", "SRTP engine memory per pair, %s: verify / rekey (GCM reported)" % cm,
            "<= 1.5 KB / 3 KB", text, met, SRTPE_CMD)
    # S6: through the fast path, once the engine is in it (bench_fastpath
    # then names its variants with "srtpe").
    fp_var = [v for (b, v, x, m, _u) in DATA if b == "fastpath" and m == "mpps" and
              x == "1000" and "srtpe" in v and "rekey" in v and gcm in v]
    v = med(fig("fastpath", fp_var[0], 1000, "mpps")) if fp_var else None
    if v is not None:
        lib = med(fig("fastpath", "rekey-" + gcm, 1000, "mpps"))
        text = "%s Mpps (%s)%s" % (fmt(v), fp_var[0], "" if lib is None else
                                   "; libsrtp2 in the same run: %s Mpps" % fmt(lib))
    else:
        lib = med(fig("fastpath", "rekey-" + gcm, 1000, "mpps"))
        text = "not measured: the engine is not yet in the fast path" + (
            "" if lib is None else " (libsrtp2 there: %s Mpps at 1,000 pairs)" % fmt(lib))
    add("S6", "SRTP engine rekey Mpps per core, %s, 1,000 sessions, through the fast path "
        "(net_ring)" % gcm, ">= 3 Mpps", text, None if v is None else v >= 3,
        "benchmarks/fastpath/run.sh")

    # SL1 .. SL4: the engine against duet's libsrtp2 fast path (srtp.csv),
    # same packets; two stages of one run, not interleaved: medians.
    pay_e = fig("srtpe", "env", 0, "rtp_payload")
    pay_l = fig("srtp", "env", 0, "rtp_payload")
    for i, suite in enumerate(SRTPE_SUITES):
        cells = []
        for mode in ("verify", "rekey"):
            for n in (1, 100000):
                e = med(fig("srtpe", "%s/engine_%s" % (suite, mode), n, "ns_per_pkt"))
                lib = med(fig("srtp", "openssl/%s/duet_%s" % (suite, mode), n, "ns_per_pkt"))
                r = ratio(e, lib)
                if r is not None:
                    cells.append("%s %s: %.2fx (%s vs %s ns)" % (
                        mode, at_sessions(n), r, fmt(e), fmt(lib)))
        if not cells:
            text = "not measured: no %s stage in this run" % (
                "engine (srtpe.csv)" if pay_e is None else "libsrtp2 (srtp.csv)"
                if not any(k[0] == "srtp" for k in DATA) else "figure of both stages")
        elif pay_e is None or pay_l is None or pay_e != pay_l:
            text = ("not comparable: RTP payloads %s (engine) and %s (libsrtp2) bytes" % (
                "?" if pay_e is None else fmt(pay_e[0]), "?" if pay_l is None else fmt(pay_l[0])))
        else:
            text = "; ".join(cells) + " (medians; %s-byte payloads)" % fmt(pay_e[0])
        add("SL%d" % (i + 1), "SRTP engine / duet's libsrtp2 fast path (duet_verify, duet_rekey), "
            "%s, ns/packet" % suite, "(reported)", text, None, "benchmarks/srtp/run.sh")
    # The SSE manager against the default one, AES-CM (duet_srtpe_arch_pick's choice).
    cells = []
    for mode in ("verify", "rekey"):
        for n in (1, 100000):
            r, t, _n = srtpe_ratio(cm, "engine_%s_sse" % mode, n, "engine_" + mode, n)
            if r is not None:
                cells.append("%s %s: %s" % (mode, at_sessions(n), t))
    arch = med(fig("srtpe", cm + "/auto_arch", 1, "imb_arch"))
    names = {2: "SSE", 3: "AVX", 4: "AVX2", 5: "AVX-512"}
    add("", "SRTP engine on the SSE manager / on the default manager (%s), %s, bursts of 32" % (
        "?" if arch is None else names.get(int(arch), "IMB_ARCH %d" % arch), cm), "(reported)",
        "; ".join(cells) if cells else None, None, SRTPE_CMD)


def at_sessions(n):
    return "%s session%s" % (pairs_fmt(n), "" if int(n) == 1 else "s")


# IPv6 and the bridge (issue 14; fastpath/run.sh's stage "ipv6"): passthrough
# with both legs IPv4 (passthrough_ip4), both IPv6 (_ip6), and leg a IPv4 /
# leg b IPv6 (_ip46, every packet bridged), one process per family per run,
# the families taking turns run by run.
V_CMD = "FASTPATH_STAGES=ipv6 benchmarks/fastpath/run.sh"
V_PAIRS = (1, 1000000)


def v_rows(add):
    have = any(k[0] == "fastpath" and k[1] == "passthrough_ip4" for k in DATA)
    for gid, fam, what, want in (("V1", "ip6", "IPv6 passthrough (both legs IPv6)", 1.1),
                                 ("V2", "ip46", "the v4<->v6 bridge (leg a IPv4, leg b IPv6)",
                                  1.2)):
        name = ("%s ns/packet / IPv4 passthrough, at 1 and at 1,000,000 pairs, the families "
                "taking turns run by run on one CPU; met when both are" % what)
        variant = "passthrough_" + fam
        if not have:
            add(gid, name, "<= %gx" % want, "not measured: no IPv6 stage (passthrough_ip4 rows; "
                "FASTPATH_STAGES ipv6 of benchmarks/fastpath/run.sh) in this run", None, V_CMD)
            continue
        cells, oks = [], []
        for n in V_PAIRS:
            a = fig("fastpath", variant, n, "ns_per_pkt")
            b = fig("fastpath", "passthrough_ip4", n, "ns_per_pkt")
            r = ratio(med(a), med(b))
            if r is None:
                ran = sorted({int(x) for (bb, v, x, m, _u) in DATA if bb == "fastpath" and
                              v in (variant, "passthrough_ip4") and m == "ns_per_pkt"})
                cells.append("%s: not measured (the stage ran at %s)" % (
                    at_pairs(n), " and ".join(pairs_fmt(x) for x in ran) or "no pair count"))
                oks.append(None)
                continue
            rs = paired(("fastpath", variant, n, "ns_per_pkt"),
                        ("fastpath", "passthrough_ip4", n, "ns_per_pkt"))
            cells.append("%s: %.2fx (%s vs %s ns, medians of %d and %d runs%s)" % (
                at_pairs(n), r, fmt(med(a)), fmt(med(b)), len(a), len(b),
                "; run by run %.2fx" % med(rs) if rs else ""))
            oks.append(r <= want)
        met = None if None in oks else all(oks)
        add(gid, name, "<= %gx" % want, "; ".join(cells), met, V_CMD)
    # VI: the same comparison in instructions (callgrind), which the
    # machine's load does not move.
    cells = []
    for n in sorted({int(x) for (bb, v, x, m, _u) in DATA if bb == "fastpath" and
                     v == "passthrough_ip4" and m == "instructions_per_pkt"}):
        i4 = med(fig("fastpath", "passthrough_ip4", n, "instructions_per_pkt"))
        parts = ["ip4 %s" % fmt(i4)]
        for fam in ("ip6", "ip46"):
            v = med(fig("fastpath", "passthrough_" + fam, n, "instructions_per_pkt"))
            if v is not None:
                parts.append("%s %s (%.2fx)" % (fam, fmt(v), v / i4))
        cells.append("%s: %s" % (at_pairs(n), ", ".join(parts)))
    add("VI", "instructions per packet, passthrough ip4 / ip6 / ip46 (callgrind, the timed "
        "functions only), the ratio to ip4 beside each", "(reported)",
        "; ".join(cells) if cells else "not measured: no callgrind run of the families "
        "(stages ipv6 and callgrind of benchmarks/fastpath/run.sh) in this run", None,
        "FASTPATH_STAGES='ipv6 callgrind' benchmarks/fastpath/run.sh")
    # VM: what the table takes per pair, each family, at the largest table.
    cells = []
    for fam in ("ip4", "ip6", "ip46"):
        variant = "passthrough_" + fam
        n = largest_x("fastpath", variant, "table_bytes_per_pair")
        if n is None:
            continue
        t = med(fig("fastpath", variant, n, "table_bytes_per_pair"))
        each = med(fig("fastpath", variant, n, "table_bytes_each_pair"))
        heap = med(fig("fastpath", variant, n, "heap_bytes_per_pair"))
        cells.append("%s: %s B (%s B each pair, the rest the endpoint index; DPDK heap %s B) "
                     "at %s" % (fam, fmt(t), fmt(each), fmt(heap), at_pairs(n)))
    add("VM", "pair table memory per pair with IPv6 legs: duet_pair_table_bytes() / capacity, "
        "and DPDK's heap in use against before the table (id hash and RCU queue too), "
        "every pair live, passthrough", "(reported)",
        "; ".join(cells) if cells else "not measured: no table_bytes_per_pair rows of "
        "passthrough_ip4/ip6/ip46 (the IPv6 stage of benchmarks/fastpath/run.sh) in this run",
        None, V_CMD)


def goal_rows():
    rows = []

    def add(gid, name, goal, value, met, how):
        rows.append((gid, name, goal, value, met, how))

    fp = "benchmarks/fastpath/run.sh"
    # F1, F2: the fast path against testpmd 5tswap, same run.
    for gid, pairs, want in (("F1", 1000000, 2.5), ("F2", 1, 1.5)):
        r, text = fastpath_vs_testpmd("passthrough", pairs)
        if r is None:
            big = largest_x("fastpath", "passthrough", "ns_per_pkt")
            text = ("not measured: no fastpath run in this report" if big is None else
                    "not measured: the fast path ran up to %s" % at_pairs(big))
        add(gid, "passthrough ns/packet at %s / testpmd 5tswap, same run" % at_pairs(pairs),
            "<= %gx" % want, text,
            None if r is None else r <= want, fp)
    # V1, V2, VM: IPv6 and the bridge against IPv4 (issue 14).
    v_rows(add)
    # F3: memif zero-loss Mpps, duet / testpmd, the same repetitions.
    mf = "benchmarks/memif/run.sh"
    for gid, pairs in (("F3", 100000), ("", 1000)):
        skip = contended(pairs)
        rs = paired(("memif", "duet_passthrough", pairs, "mpps_zero_loss"),
                    ("memif", "testpmd_5tswap", pairs, "mpps_zero_loss"), skip)
        n_all = len(by_run("memif", "duet_passthrough", pairs, "mpps_zero_loss"))
        text, r = None, med(rs)
        if r is not None:
            dv, _ = fig_quiet("memif", "duet_passthrough", pairs, "mpps_zero_loss", pairs)
            tv, _ = fig_quiet("memif", "testpmd_5tswap", pairs, "mpps_zero_loss", pairs)
            text = "%.2fx (%s vs %s Mpps; median of %d repetitions%s)" % (
                r, fmt(med(dv)), fmt(med(tv)), len(rs),
                "; %d contended left out" % (n_all - len(rs)) if n_all > len(rs) else "")
        elif n_all:
            text = "not measured: all %d repetitions contended (another process took a core)" % n_all
        else:
            text = "not measured: no memif run at %s pairs" % pairs_fmt(pairs)
        add(gid, "memif zero-loss Mpps / testpmd 5tswap, at %s pairs" % pairs_fmt(pairs)
            + ("" if gid else " (F3's ratio at the size the goal used to name)"),
            ">= 0.95x", text, None if r is None else r >= 0.95, mf)
    # M1, C1: at 1,000,000 pairs only.
    ct = "benchmarks/control/run.sh"
    for gid, name, variant, metric, unit, want in (
            ("M1", "bytes per passthrough pair at 1,000,000 (DPDK heaps + C heap)",
             "memory_passthrough", "bytes_per_pair", "B", 256),
            ("C1", "1,000,000 pairs from Redis to forwarding (heartbeat counts all)",
             "load", "seconds_to_forwarding", "s", 3)):
        v = med(fig("control", variant, 1000000, metric))
        if v is not None:
            text = "%s %s (median of %d)" % (fmt(v), unit,
                                             len(fig("control", variant, 1000000, metric)))
        else:
            n, w = largest("control", variant, metric)
            text = ("not measured: no control run" if n is None else
                    "not measured at 1,000,000: %s %s at %s pairs" % (fmt(w), unit, pairs_fmt(n)))
        add(gid, name, "<= %g %s" % (want, unit), text, None if v is None else v <= want, ct)
    # C2: create to first packet forwarded.
    v = med(fig("control", "create_to_forward", 1000, "p99_ms"))
    add("C2", "create (pair_create.lua) to first packet forwarded, p99", "< 2 ms",
        None if v is None else "%s ms (p50 %s ms)" % (
            fmt(v), fmt(med(fig("control", "create_to_forward", 1000, "p50_ms")))),
        None if v is None else v < 2, ct)
    # C3: memif churn variant, duetd alone on its core.
    rate = 10000
    dips = by_run("churn", "duet", rate, "fwd_dip_pct")
    bad = flagged("churn", rate, ("contended", "harness_limited"))
    bad |= {r for r, v in by_run("churn", "env", rate, "churn_covered_trial").items() if v == 0}
    keep = [v for r, v in dips.items() if r not in bad]
    v = med(keep)
    if v is not None:
        q = med([x for r, x in by_run("churn", "duet_quiet", rate, "fwd_mpps").items() if r not in bad])
        c = med([x for r, x in by_run("churn", "duet_churn", rate, "fwd_mpps").items() if r not in bad])
        ch = med(fig("churn", "duet", rate, "changes_written_per_s"))
        text = "%s %% (%s Mpps quiet, %s under %s changes/s; median of %d%s)" % (
            fmt(v), fmt(q), fmt(c), fmt(ch), len(keep),
            "; %d left out: contended or harness-limited" % len(bad & set(dips)) if bad & set(dips) else "")
    elif dips:
        text = ("not measured: every repetition contended, harness-limited or not covered "
                "by the churn (raw median %s %%)" % fmt(med(list(dips.values()))))
    else:
        text = "not measured: no memif churn variant in this run"
    add("C3", "forwarding dip under 10,000 pair changes/s, duetd alone on its core "
        "(memif generator; generator, Redis and churn on the other)", "< 1 %", text,
        None if v is None else v < 1, mf)
    # L1: latency p99 at 50 % load, duet / testpmd, the same repetitions.
    lat_pairs = 1000
    skip = contended(lat_pairs)
    duet_p99 = by_run("latency", "duet", "50pct", "p99_us")
    tp_p99 = by_run("latency", "testpmd", "50pct", "p99_us")
    both = [r for r in duet_p99 if r in tp_p99 and r not in skip]
    rs = paired(("latency", "duet", "50pct", "p99_us"), ("latency", "testpmd", "50pct", "p99_us"), skip)
    r = med(rs)
    if r is not None:
        dv, _ = fig_quiet("latency", "duet", "50pct", "p99_us", lat_pairs)
        tv, _ = fig_quiet("latency", "testpmd", "50pct", "p99_us", lat_pairs)
        text = "%.2fx (%s us vs %s us; median of %d%s)" % (
            r, fmt(med(dv)), fmt(med(tv)), len(rs),
            "; %d contended or past the histogram left out" % (len(duet_p99) - len(rs))
            if len(duet_p99) > len(rs) else "")
    elif both:
        text = ("not measured: a p99 past the generator's histogram (inf) in every "
                "uncontended repetition")
    elif duet_p99:
        text = "not measured: all %d repetitions contended" % len(duet_p99)
    else:
        text = "not measured: no latency run"
    add("L1", "added latency p99 at 50% load / testpmd's p99, same run (memif round trip, "
        "1,000 pairs)", "<= 1.2x", text, None if r is None else r <= 1.2, mf)

    # Reported beside the goals: F1 for the keyed modes, instructions, LLC
    # misses, two workers.
    suite = "AES_CM_128_HMAC_SHA1_80"
    for gid, mode in (("F1v", "verify"), ("F1r", "rekey")):
        variant = "%s-%s" % (mode, suite)
        big = largest_x("fastpath", variant, "ns_per_pkt")
        r, text = (None, None) if big is None else fastpath_vs_testpmd(variant, big)
        if r is None:
            text = "not measured: no %s fastpath run" % mode
        elif big != 1000000:
            mem_x, mem = largest("control", "memory_" + mode, "bytes_per_pair")
            text += "; at %s pairs, the largest keyed table measured" % pairs_fmt(big)
            if mem is not None:
                text += (" (1,000,000 would take %.1f GB at this run's %s B a %s pair)"
                         % (mem * 1e6 / 1e9, fmt(mem), mode))
        add(gid, "F1 for %s (%s): ns/packet / testpmd 5tswap, same run" % (mode, suite),
            "(reported)", text, None, fp)
    for gid, pairs in (("I1", 1), ("I2", 1000000)):
        v = med(fig("fastpath", "passthrough", pairs, "instructions_per_pkt"))
        add(gid, "instructions per packet, passthrough at %s (callgrind)" % at_pairs(pairs),
            "(reported)",
            fmt(v) if v is not None else
            "not measured: no callgrind count at %s in this run" % at_pairs(pairs), None, fp)
    exposed = fig("fastpath", "env", 0, "perf_counters_exposed")
    for gid, pairs in (("LLC1", 1), ("LLC2", 1000000)):
        v = med(fig("fastpath", "passthrough", pairs, "llc_load_misses_per_pkt"))
        if v is not None:
            text = "%s (perf_event_open LLC-load-misses:u, around the timed bursts)" % fmt(v)
        elif exposed and max(exposed) == 0:
            text = "not exposed: this VM gives no CPU counters (perf_event_open: no PMU)"
        else:
            text = "not measured: no perf counter run at %s" % at_pairs(pairs)
        add(gid, "last-level cache load misses per packet, passthrough at %s" % at_pairs(pairs),
            "(reported)", text, None, fp)
    for gid, pairs in (("W1", 100000), ("W2", 1000000)):
        rs = fig("fastpath", "scaling_2_workers", pairs, "mpps_ratio")
        v = med(rs)
        if v is not None:
            text = "%.2fx (%s Mpps on 2 workers, %s on 1; median of %d)" % (
                v, fmt(med(fig("fastpath", "passthrough_2_workers", pairs, "mpps"))),
                fmt(med(fig("fastpath", "passthrough_1_worker", pairs, "mpps"))), len(rs))
        else:
            text = "not measured: no 2-worker fastpath run at %s pairs" % pairs_fmt(pairs)
        add(gid, "passthrough Mpps on 2 workers / 1 worker at %s pairs (fast path, 2 CPUs, "
            "legs split as RSS would)" % pairs_fmt(pairs), "(reported)", text, None, fp)

    # 3. SRTP: duet vs raw libsrtp2, and 100k vs 1 session.
    for suite in ("AES_CM_128_HMAC_SHA1_80", "AEAD_AES_128_GCM"):
        # verify's same work is raw_verify: for AES-CM its session only
        # checks the tag (no decryption), unlike a plain unprotect.
        for mode, raw in (("duet_verify", "raw_verify"), ("duet_rekey", "raw_unprotect_protect")):
            d = med(fig("srtp", "openssl/%s/%s" % (suite, mode), 1, "ns_per_pkt"))
            t = med(fig("srtp", "openssl/%s/%s" % (suite, raw), 1, "ns_per_pkt"))
            r = ratio(d, t)
            add("", "SRTP %s %s vs raw libsrtp2 (1 session)" % (suite, mode[5:]), "<= 1.15x",
                None if r is None else "%.2fx (%s vs %s ns)" % (r, fmt(d), fmt(t)),
                None if r is None else r <= 1.15, "benchmarks/srtp/run.sh")
        d = med(fig("srtp", "openssl/%s/duet_verify" % suite, 100000, "ns_per_pkt"))
        t = med(fig("srtp", "openssl/%s/duet_verify" % suite, 1, "ns_per_pkt"))
        r = ratio(d, t)
        add("", "SRTP %s verify, 100,000 sessions vs 1" % suite, "<= 1.5x",
            None if r is None else "%.2fx (%s vs %s ns)" % (r, fmt(d), fmt(t)),
            None if r is None else r <= 1.5, "benchmarks/srtp/run.sh")
    # The SRTP engine (issue "SRTP engine"): S1 .. S6, SL1 .. SL4.
    srtpe_rows(add)
    # 4. The peer, per CPU-second.
    dv, out = fig_quiet("memif", "duet_passthrough", 1000, "pkts_per_cpu_s", 1000)
    d = med(dv)
    for peer, want in (("rtpengine", 100.0), ("plain_forwarder", None)):
        t = med(fig("peer", peer, 0, "pkts_per_cpu_s"))
        r = ratio(d, t)
        add("", "duet passthrough packets per CPU-second vs %s" % peer,
            ">= %gx" % want if want else "(reference)",
            (quiet_note(out, dv) or None) if r is None else
            "%.1fx (%s vs %s%s)" % (r, fmt(d), fmt(t), quiet_note(out, dv)),
            None if (r is None or want is None) else r >= want, "benchmarks/peer/run.sh")
    # 5. Control plane, beside C1 and C2.
    # The old churn measure, when a run has it: kernel callers beside duetd.
    v = med(fig("control", "churn", 10000, "fwd_dip_pct"))
    if v is not None:
        add("", "forwarding dip under 10,000 pair changes/s, kernel callers sharing duetd's CPU "
            "(the measure C3 replaced; harness-limited)", "(reference)", "%s %%" % fmt(v), None,
            "CONTROL_KERNEL_CHURN=1 benchmarks/control/run.sh")
    # Issue 10 sets no bound at this size (the crash test holds 2 s at 10,000).
    n, v = largest("control", "restart_forwarding", "ms_to_forwarding")
    v_all = med(fig("control", "restart_forwarding", n, "seconds_to_all_pairs")) if n else None
    text = None
    if v is not None:
        text = "%s ms, all pairs back in %s s" % (fmt(v), fmt(v_all))
        if n != 1000000:
            text += " at %s pairs (BENCH=full restarts with 1,000,000)" % pairs_fmt(n)
    add("", "restart_forwarding: SIGKILL during a call, restart to the call forwarding again, "
        "1,000,000 pairs in Redis", "(reported)", text, None, ct)
    # 6. Memory of the keyed modes.
    for mode in ("verify", "rekey"):
        n, v = largest("control", "memory_%s" % mode, "bytes_per_pair")
        add("", "memory per pair, %s, 100,000 pairs" % mode, "(reported)",
            None if v is None else "%s B at %s pairs" % (fmt(v), n), None, ct)
    # 7. Latency, absolute (L1 is the ratio).
    lv, out = fig_quiet("latency", "duet", "50pct", "p99_us", 1000)
    v = med(lv)
    tv, _ = fig_quiet("latency", "testpmd", "50pct", "p99_us", 1000)
    add("", "added latency p99 at 50% load (memif round trip, 1,000 pairs)", "< 20 us",
        (quiet_note(out, lv) or None) if v is None else
        "%s us (testpmd %s us%s)" % (fmt(v), fmt(med(tv)), quiet_note(out, lv)),
        None if v is None else v < 20, mf)
    # 8. What the issue 8 protections cost (guard_cost), before vs after.
    for pairs in (1, 1000000):
        a = med(fig("guard", "after", pairs, "ns_per_pkt"))
        b = med(fig("guard", "before", pairs, "ns_per_pkt"))
        r = ratio(a, b)
        add("", "guard_cost: passthrough with the protections vs without, %s pairs" % format(pairs, ","),
            "<= 1.10x", None if r is None else "%.3fx (%s vs %s ns)" % (r, fmt(a), fmt(b)),
            None if r is None else r <= 1.10, "benchmarks/guard/run.sh")
    return rows


def gnuplot(name, script):
    gp = os.path.join(OUT, name + ".gp")
    with open(gp, "w") as f:
        f.write(script)
    try:
        subprocess.run(["gnuplot", gp], cwd=OUT, check=True, capture_output=True, timeout=60)
        return os.path.exists(os.path.join(OUT, name + ".png"))
    except (OSError, subprocess.SubprocessError):
        return False


def plots():
    made = []
    head = 'set terminal pngcairo size 900,540 noenhanced\nset grid\nset key outside right\n'
    # Mpps per core by mode against pairs.
    series = {}
    for (b, v, x, m, _u), vals in DATA.items():
        if b == "fastpath" and m == "mpps" and x.isdigit() and int(x) > 0:
            series.setdefault(v, []).append((int(x), med(vals)))
    if series:
        lines = []
        for i, (v, pts) in enumerate(sorted(series.items())):
            dat = "fastpath_%d.dat" % i
            with open(os.path.join(OUT, dat), "w") as f:
                for x, y in sorted(pts):
                    f.write("%d %f\n" % (x, y))
            lines.append("'%s' using 1:2 with linespoints title '%s'" % (dat, v))
        if gnuplot("fastpath_mpps", head + "set output 'fastpath_mpps.png'\nset logscale x\n"
                   "set xlabel 'live pairs'\nset ylabel 'Mpps per core (median)'\n"
                   "set title 'duet worker fast path, no NIC'\nplot " + ", ".join(lines) + "\n"):
            made.append(("fastpath_mpps.png", "Mpps per core by mode against live pairs"))
    # duet vs testpmd, rtpengine, plain forwarder (packets per CPU-second).
    bars = []
    for label, key in (("duet passthrough (memif)", ("memif", "duet_passthrough", "1000")),
                       ("testpmd 5tswap (memif)", ("memif", "testpmd_5tswap", "1000")),
                       ("plain recvmmsg forwarder", ("peer", "plain_forwarder", "0")),
                       ("rtpengine (userspace)", ("peer", "rtpengine", "0"))):
        v = med(fig(key[0], key[1], key[2], "pkts_per_cpu_s"))
        if v is None:
            # A busy-polling DUT: zero-loss packets per second over the
            # cores it used, both measured in the same reps.
            mpps = med(fig(key[0], key[1], key[2], "mpps_zero_loss"))
            cores = med(fig(key[0], key[1], key[2], "dut_cpu_cores"))
            if mpps is not None and cores:
                v = mpps * 1e6 / cores
        if v is not None:
            bars.append((label, v))
    if bars:
        with open(os.path.join(OUT, "peers.dat"), "w") as f:
            for label, v in bars:
                f.write('"%s" %f\n' % (label, v))
        if gnuplot("peers", head + "set output 'peers.png'\nset style fill solid\nset boxwidth 0.6\n"
                   "set logscale y\nset ylabel 'packets per CPU-second (median, log)'\n"
                   "set xtics rotate by -20\nset title 'duet against the limit and the peers'\n"
                   "plot 'peers.dat' using 0:2:xtic(1) with boxes notitle\n"):
            made.append(("peers.png", "duet against testpmd, a plain forwarder and rtpengine"))
    # SRTP cost per packet against sessions, by build.
    series = {}
    for (b, v, x, m, _u), vals in DATA.items():
        if b == "srtp" and m == "ns_per_pkt" and ("raw_unprotect_protect" in v or "duet_" in v):
            series.setdefault(v, []).append((int(x), med(vals)))
    if series:
        lines = []
        for i, (v, pts) in enumerate(sorted(series.items())):
            dat = "srtp_%d.dat" % i
            with open(os.path.join(OUT, dat), "w") as f:
                for x, y in sorted(pts):
                    f.write("%d %f\n" % (x, y))
            lines.append("'%s' using 1:2 with linespoints title '%s'" % (dat, v))
        if gnuplot("srtp_cost", head + "set output 'srtp_cost.png'\nset logscale xy\n"
                   "set xlabel 'live sessions'\nset ylabel 'ns per packet (median)'\n"
                   "set key font ',8'\nset title 'SRTP cost per packet by build and work'\n"
                   "plot " + ", ".join(lines) + "\n"):
            made.append(("srtp_cost.png", "SRTP cost per packet against live sessions, by build"))
    # Latency CDF (samples written by the memif benchmark, one per line, us).
    cdfs = sorted(glob.glob(os.path.join(OUT, "latency_*_samples.txt")))
    if cdfs:
        lines = []
        for i, p in enumerate(cdfs):
            vals = sorted(float(l) for l in open(p) if l.strip())
            if not vals:
                continue
            dat = "latency_cdf_%d.dat" % i
            with open(os.path.join(OUT, dat), "w") as f:
                n = len(vals)
                step = max(1, n // 2000)
                for j in range(0, n, step):
                    f.write("%f %f\n" % (vals[j], (j + 1) / n))
            name = os.path.basename(p)[len("latency_"):-len("_samples.txt")]
            lines.append("'%s' using 1:2 with lines title '%s'" % (dat, name))
        if lines and gnuplot("latency_cdf", head + "set output 'latency_cdf.png'\nset logscale x\n"
                             "set xlabel 'round trip through duetd (us)'\nset ylabel 'fraction'\n"
                             "set title 'latency CDF'\nplot " + ", ".join(lines) + "\n"):
            made.append(("latency_cdf.png", "round-trip latency CDF through duetd"))
    return made


def main():
    m = machine()
    rows = goal_rows()
    made = plots()
    st = open(os.path.join(OUT, "status.txt")).read() if os.path.exists(
        os.path.join(OUT, "status.txt")) else ""
    lines = ["# duet benchmark report", ""]
    lines.append("Setting **%s**, run %s on %s (%s cores, %s GiB), kernel %s." % (
        m.get("setting", "?"), m.get("date_utc", "?"), m.get("cpu", "?"), m.get("cores", "?"),
        m.get("mem_gib", "?"), m.get("kernel", "?")))
    lines.append("DPDK %s; libsrtp2: duet's %s; Debian's %s. duet %s." % (
        m.get("dpdk", "?"), m.get("libsrtp2_duet", "?"), m.get("libsrtp2_debian", "?"),
        m.get("duet_commit", "?")))
    lines.append("EAL memory: %s." % memory_note(m))
    lines.append("")
    lines.append("Reproduce: `BENCH=%s make bench` (or one part: `BENCH_ONLY=srtp BENCH=%s make bench`)." % (
        m.get("setting", "quick"), m.get("setting", "quick")))
    lines.append("Every figure is the median of its runs (min and max in the tables); every ratio")
    lines.append("compares figures of this same run, measured interleaved.")
    lines.append("")
    lines.append("## Goals")
    lines.append("")
    lines.append("The first cell is the goal's id (issue 11's, and this report's own for the")
    lines.append("figures reported beside them); rows without one are earlier goals.")
    lines.append("")
    lines.append("| id | what | goal | measured (median) | met | command |")
    lines.append("|---|---|---|---|---|---|")
    for gid, name, goal, value, met, how in rows:
        lines.append("| %s | %s | %s | %s | %s | `%s` |" % (
            gid, name, goal, value or "not measured",
            "-" if met is None else ("yes" if met else "**no**"), how))
    lines.append("")
    if made:
        lines.append("## Plots")
        lines.append("")
        for png, title in made:
            lines.append("![%s](%s)" % (title, png))
            lines.append("")
    lines.append("## All figures")
    lines.append(tables())
    lines.append("")
    lines.append("## Benchmark runs")
    lines.append("")
    lines.append("```")
    lines.append(st.rstrip())
    lines.append("```")
    with open(os.path.join(OUT, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    # A compact table for the README.
    with open(os.path.join(OUT, "summary.md"), "w") as f:
        f.write("| id | what | goal | measured | met |\n|---|---|---|---|---|\n")
        for gid, name, goal, value, met, _how in rows:
            f.write("| %s | %s | %s | %s | %s |\n" % (
                gid, name, goal, value or "not measured",
                "-" if met is None else ("yes" if met else "no")))
    print(os.path.join(OUT, "report.md"))


main()
