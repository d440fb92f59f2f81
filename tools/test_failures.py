#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""test_failures: after a failed `meson test`, print what failed, last.

`make test` runs this when meson test fails, so the end of the output (all
CI keeps of a long run) names each failed test and why: for a TAP test its
`not ok` lines with the diagnostics that follow them, for any other test
the last lines it printed. Reads BUILD/meson-logs/testlog.json; run by
hand: python3 tools/test_failures.py BUILD.
"""
import json
import sys

GOOD = {"OK", "SKIP", "EXPECTEDFAIL"}
TAIL = 15


def explain(out):
    lines = out.splitlines()
    picked = []
    for i, line in enumerate(lines):
        if line.startswith("not ok") or line.startswith("Bail out!"):
            picked.append(line)
            for follow in lines[i + 1:i + 1 + TAIL]:
                if not follow.startswith("#"):
                    break
                picked.append(follow)
    return picked or lines[-TAIL:]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: test_failures.py BUILD")
    path = sys.argv[1] + "/meson-logs/testlog.json"
    try:
        with open(path) as f:
            runs = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        sys.exit(f"test_failures: cannot read {path}: {e}")
    bad = [r for r in runs if r.get("result") not in GOOD]
    if not bad:
        return
    print(f"\n==== {len(bad)} failed test(s), from {path} ====")
    for r in bad:
        print(f"--- {r['name']}: {r['result']} (exit {r.get('returncode')}, "
              f"{r.get('duration', 0):.1f} s)")
        for line in explain(r.get("stdout") or ""):
            print("    " + line)


if __name__ == "__main__":
    main()
