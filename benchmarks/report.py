#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""report.py OUT_DIR: turn a benchmark run's CSV files into report.md and
PNG plots. Every CSV has the columns benchmark,variant,x,metric,value,unit,run
(the third column's header may name x: pairs, sessions, ...). Each figure is
reported as median, min and max over its runs; goals are ratios computed
from figures of the same run. Nothing here is a figure of its own: a goal
whose inputs are missing says "not measured". Run by benchmarks/bench.sh."""

import csv
import glob
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


# Goals: (name, compute() -> (figure text, met bool) or None, goal text).
def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def goal_rows():
    rows = []

    def add(name, goal, value, met, how):
        rows.append((name, goal, value, met, how))

    # 1. fast path vs testpmd 5tswap.
    d = med(fig("fastpath", "passthrough", 1000000, "ns_per_pkt"))
    t = med(fig("fastpath", "testpmd_5tswap", 0, "ns_per_pkt"))
    r = ratio(d, t)
    add("fast path, passthrough at 1,000,000 pairs vs testpmd 5tswap (ns/packet)", "<= 1.25x",
        None if r is None else "%.2fx (%s ns vs %s ns)" % (r, fmt(d), fmt(t)),
        None if r is None else r <= 1.25, "benchmarks/fastpath/run.sh")
    # 2. memif: duet vs testpmd, from the repetitions in which both had
    # their cores (the same repetitions for both: the flag is per rep).
    dv, out = fig_quiet("memif", "duet_passthrough", 1000, "mpps_zero_loss", 1000)
    tv, _ = fig_quiet("memif", "testpmd_5tswap", 1000, "mpps_zero_loss", 1000)
    d, t = med(dv), med(tv)
    r = ratio(d, t)
    add("two processes on net_memif, forwarded Mpps at zero loss vs testpmd", ">= 0.8x",
        (quiet_note(out, dv) or None) if r is None else
        "%.2fx (%s vs %s Mpps%s)" % (r, fmt(d), fmt(t), quiet_note(out, dv)),
        None if r is None else r >= 0.8, "benchmarks/memif/run.sh")
    # 3. SRTP: duet vs raw libsrtp2, and 100k vs 1 session.
    for suite in ("AES_CM_128_HMAC_SHA1_80", "AEAD_AES_128_GCM"):
        # verify's same work is raw_verify: for AES-CM its session only
        # checks the tag (no decryption), unlike a plain unprotect.
        for mode, raw in (("duet_verify", "raw_verify"), ("duet_rekey", "raw_unprotect_protect")):
            d = med(fig("srtp", "openssl/%s/%s" % (suite, mode), 1, "ns_per_pkt"))
            t = med(fig("srtp", "openssl/%s/%s" % (suite, raw), 1, "ns_per_pkt"))
            r = ratio(d, t)
            add("SRTP %s %s vs raw libsrtp2 (1 session)" % (suite, mode[5:]), "<= 1.15x",
                None if r is None else "%.2fx (%s vs %s ns)" % (r, fmt(d), fmt(t)),
                None if r is None else r <= 1.15, "benchmarks/srtp/run.sh")
        d = med(fig("srtp", "openssl/%s/duet_verify" % suite, 100000, "ns_per_pkt"))
        t = med(fig("srtp", "openssl/%s/duet_verify" % suite, 1, "ns_per_pkt"))
        r = ratio(d, t)
        add("SRTP %s verify, 100,000 sessions vs 1" % suite, "<= 1.5x",
            None if r is None else "%.2fx (%s vs %s ns)" % (r, fmt(d), fmt(t)),
            None if r is None else r <= 1.5, "benchmarks/srtp/run.sh")
    # 4. The peer, per CPU-second.
    dv, out = fig_quiet("memif", "duet_passthrough", 1000, "pkts_per_cpu_s", 1000)
    d = med(dv)
    for peer, want in (("rtpengine", 100.0), ("plain_forwarder", None)):
        t = med(fig("peer", peer, 0, "pkts_per_cpu_s"))
        r = ratio(d, t)
        add("duet passthrough packets per CPU-second vs %s" % peer,
            ">= %gx" % want if want else "(reference)",
            (quiet_note(out, dv) or None) if r is None else
            "%.1fx (%s vs %s%s)" % (r, fmt(d), fmt(t), quiet_note(out, dv)),
            None if (r is None or want is None) else r >= want, "benchmarks/peer/run.sh")
    # 5. Control plane.
    n, v = largest("control", "load", "seconds_to_forwarding")
    add("start to forwarding with 1,000,000 pairs in Redis", "<= 5 s",
        None if v is None else ("%s s" % fmt(v) if n == 1000000 else
                                "%s s at %s pairs (quick; BENCH=full loads 1,000,000)" % (fmt(v), n)),
        None if v is None or n != 1000000 else v <= 5, "benchmarks/control/run.sh")
    v = med(fig("control", "create_to_forward", 1000, "p99_ms"))
    add("duetctl/Lua create to first packet forwarded, p99 at 1,000 creates/s", "< 5 ms",
        None if v is None else "%s ms" % fmt(v), None if v is None else v < 5,
        "benchmarks/control/run.sh")
    v = med(fig("control", "churn", 10000, "fwd_dip_pct"))
    add("forwarding dip under 10,000 pair changes/s", "< 1 %",
        None if v is None else "%s %%" % fmt(v), None if v is None else v < 1,
        "benchmarks/control/run.sh")
    # Issue 10 sets no bound at this size (the crash test holds 2 s at 10,000).
    n, v = largest("control", "restart_forwarding", "ms_to_forwarding")
    v_all = med(fig("control", "restart_forwarding", n, "seconds_to_all_pairs")) if n else None
    text = None
    if v is not None:
        text = "%s ms, all pairs back in %s s" % (fmt(v), fmt(v_all))
        if n != 1000000:
            text += " at %s pairs (quick; BENCH=full loads 1,000,000)" % n
    add("restart_forwarding: SIGKILL during a call, restart to the call forwarding again, "
        "1,000,000 pairs in Redis", "(reported)", text, None, "benchmarks/control/run.sh")
    # 6. Memory.
    n, v = largest("control", "memory_passthrough", "bytes_per_pair")
    add("memory per pair, passthrough, 1,000,000 pairs", "< 256 B",
        None if v is None else "%s B at %s pairs" % (fmt(v), n), None if v is None else v < 256,
        "benchmarks/control/run.sh")
    for mode in ("verify", "rekey"):
        n, v = largest("control", "memory_%s" % mode, "bytes_per_pair")
        add("memory per pair, %s, 100,000 pairs" % mode, "(reported)",
            None if v is None else "%s B at %s pairs" % (fmt(v), n), None,
            "benchmarks/control/run.sh")
    # 7. Latency.
    lv, out = fig_quiet("latency", "duet", "50pct", "p99_us", 1000)
    v = med(lv)
    tv, _ = fig_quiet("latency", "testpmd", "50pct", "p99_us", 1000)
    add("added latency p99 at 50% load (memif round trip, 1,000 pairs)", "< 20 us",
        (quiet_note(out, lv) or None) if v is None else
        "%s us (testpmd %s us%s)" % (fmt(v), fmt(med(tv)), quiet_note(out, lv)),
        None if v is None else v < 20, "benchmarks/memif/run.sh")
    # 8. What the issue 8 protections cost (guard_cost), before vs after.
    for pairs in (1, 1000000):
        a = med(fig("guard", "after", pairs, "ns_per_pkt"))
        b = med(fig("guard", "before", pairs, "ns_per_pkt"))
        r = ratio(a, b)
        add("guard_cost: passthrough with the protections vs without, %s pairs" % format(pairs, ","),
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
    lines.append("")
    lines.append("Reproduce: `BENCH=%s make bench` (or one part: `BENCH_ONLY=srtp BENCH=%s make bench`)." % (
        m.get("setting", "quick"), m.get("setting", "quick")))
    lines.append("Every figure is the median of its runs (min and max in the tables); every ratio")
    lines.append("compares figures of this same run, measured interleaved.")
    lines.append("")
    lines.append("## Goals")
    lines.append("")
    lines.append("| what | goal | measured (median) | met | command |")
    lines.append("|---|---|---|---|---|")
    for name, goal, value, met, how in rows:
        lines.append("| %s | %s | %s | %s | `%s` |" % (
            name, goal, value or "not measured", "-" if met is None else ("yes" if met else "**no**"),
            how))
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
        f.write("| what | goal | measured | met |\n|---|---|---|---|\n")
        for name, goal, value, met, _how in rows:
            f.write("| %s | %s | %s | %s |\n" % (name, goal, value or "not measured",
                                                  "-" if met is None else ("yes" if met else "no")))
    print(os.path.join(OUT, "report.md"))


main()
