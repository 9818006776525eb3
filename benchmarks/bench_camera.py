"""Camera experiment: the presets end to end through the CLI, wall time and the child's CPU time.

Bars (issue 13): quick ≤ 120 s, default ≤ 600 s. The machine is shared (2 cores, several agents), so wall time
is inflated by other processes; the child's CPU seconds (user + system) and the load average at the start are
recorded beside it. Writes benchmarks/results/camera.json. Run:
    .venv/bin/python benchmarks/bench_camera.py [--presets quick,default]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

from presets import machine, write

BARS = {"quick": 120.0, "default": 600.0, "full": 1800.0}


def time_preset(preset: str, keep: str | None = None) -> dict:
    before = os.getloadavg()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "goodhartlab", "run", "camera", "--preset", preset, "--quiet", "--out", keep or tmp],
            check=True,
            capture_output=True,
        )
        wall = time.perf_counter() - t
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    row = {
        "what": f"camera --preset {preset} end to end",
        "seconds": wall,
        "cpu_seconds": cpu,
        "bar_seconds": BARS[preset],
        "ratio_to_bar": wall / BARS[preset],
        "cpu_ratio_to_bar": cpu / BARS[preset],
        "load_average_at_start": list(before),
        "load_average_at_end": list(os.getloadavg()),
    }
    print(
        f"{row['what']:<40} wall {wall:7.1f} s  cpu {cpu:7.1f} s  bar {BARS[preset]:5.0f} s  "
        f"load {before[0]:.1f} -> {row['load_average_at_end'][0]:.1f}"
    )
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", default="quick", help="comma-separated presets to time (quick, default, full)")
    ap.add_argument("--keep", help="a run store to keep the timed runs in (default: a temporary directory)")
    args = ap.parse_args()
    presets = [p for p in args.presets.split(",") if p]
    results = {
        "machine": machine(),
        "measured": time.strftime("%Y-%m-%d %H:%M:%S"),
        "bars": [time_preset(p, args.keep) for p in presets],
    }
    write("camera", results, presets)


if __name__ == "__main__":
    main()
