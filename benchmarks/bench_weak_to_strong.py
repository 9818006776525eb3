"""Weak-to-strong presets end to end. Bars: quick < 120 s, full < 1200 s. Writes
benchmarks/results/weak_to_strong.json. Run:
    .venv/bin/python benchmarks/bench_weak_to_strong.py [--presets quick,full]
"""

from __future__ import annotations

import argparse
import time

from presets import machine, time_presets, write


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", default="quick", help="comma-separated presets to time end to end (quick, full)")
    presets = [p for p in ap.parse_args().presets.split(",") if p]
    results = {"machine": machine(), "measured": time.strftime("%Y-%m-%d %H:%M:%S"), "bars": []}
    results["bars"] += time_presets("weak-to-strong", {"quick": 120.0, "full": 1200.0}, presets)
    write("weak_to_strong", results, presets)


if __name__ == "__main__":
    main()
