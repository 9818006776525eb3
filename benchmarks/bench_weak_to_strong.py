"""Weak-to-strong presets end to end. Bars: quick < 120 s, full < 1200 s. Writes
benchmarks/results/weak_to_strong.json. Run:
    .venv/bin/python benchmarks/bench_weak_to_strong.py [--presets quick,full]
"""

from __future__ import annotations

import argparse
import time

from presets import from_run, machine, time_presets, write


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", default="quick", help="comma-separated presets to time end to end (quick, full)")
    ap.add_argument("--full-from", help="a completed full-preset run directory to read the full timing from")
    args = ap.parse_args()
    presets = [p for p in args.presets.split(",") if p]
    results = {"machine": machine(), "measured": time.strftime("%Y-%m-%d %H:%M:%S"), "bars": []}
    results["bars"] += time_presets("weak-to-strong", {"quick": 120.0, "full": 1200.0}, presets)
    if args.full_from:
        results["bars"].append(from_run("weak-to-strong", "full", args.full_from, 1200.0))
        presets.append("full")
    write("weak_to_strong", results, presets)


if __name__ == "__main__":
    main()
