"""Camera experiment: the presets end to end through the CLI, wall time and the child's CPU time.

Bars (issue 13): quick ≤ 120 s, default ≤ 600 s. The machine is shared (2 cores, several agents), so wall time
is inflated by other processes; the child's CPU seconds (user + system) and the load average at the start are
recorded beside it. Writes benchmarks/results/camera.json. Run:
    .venv/bin/python benchmarks/bench_camera.py [--presets quick,default]
"""

from __future__ import annotations

import argparse
import time

from presets import machine, timed_run, write

BARS = {"quick": 120.0, "default": 600.0, "full": 1800.0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", default="quick", help="comma-separated presets to time (quick, default, full)")
    ap.add_argument("--keep", help="a run store to keep the timed runs in (default: a temporary directory)")
    args = ap.parse_args()
    presets = [p for p in args.presets.split(",") if p]
    results = {
        "machine": machine(),
        "measured": time.strftime("%Y-%m-%d %H:%M:%S"),
        "bars": [timed_run("camera", p, BARS[p], args.keep) for p in presets],
    }
    write("camera", results, presets)


if __name__ == "__main__":
    main()
