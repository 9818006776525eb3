"""Speed bars of the digits issue, measured in one run and recorded as ratios to their bars.

- the generator makes ≥ 2,000 images per second at 96×96 (training distribution, 28×28 copies included);
  recorded both as wall-clock and as CPU-time throughput, because the machine's 2 cores are shared
- `digits --preset quick` end to end: < 120 s;  `--preset full`: < 1200 s (with --full)

Usage: python benchmarks/bench_digits.py [--full]
Writes benchmarks/results/digits.json. For throughput the ratio is measured/bar (≥ 1 meets the bar); for
times it is seconds/bar (≤ 1 meets the bar).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BATCH = 2000
REPEATS = 5  # best of, to damp noise from other processes on the machine


def generator_rate(distribution: str) -> tuple[float, float]:
    """(wall, cpu) images per second for batches of 2,000 from ``distribution``, best of REPEATS."""
    import numpy as np

    from goodhartlab.worlds.digits import DigitsWorld

    world = DigitsWorld()
    rng = np.random.default_rng(0)
    world.sample(200, distribution, rng)  # glyph and handwritten caches
    wall, cpu = float("inf"), float("inf")
    for _ in range(REPEATS):
        t, c = time.perf_counter(), time.process_time()
        world.sample(BATCH, distribution, rng)
        wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
    return BATCH / wall, BATCH / cpu


def run_seconds(preset: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "goodhartlab", "run", "digits", "--preset", preset, "--quiet", "--out", tmp],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - t


def load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="also time the full preset (up to 20 minutes)")
    args = ap.parse_args()
    results = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "measured": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average_at_start": load_average(),
        "bars": [],
    }
    for distribution in ("train", "strong_transforms", "handwritten"):
        wall, cpu = generator_rate(distribution)
        results["bars"].append(
            {
                "what": f"generator images/s at 96x96, {distribution} (wall)",
                "per_second": wall,
                "bar_per_second": 2000.0,
                "ratio_to_bar": wall / 2000.0,
            }
        )
        results["bars"].append(
            {
                "what": f"generator images/s at 96x96, {distribution} (CPU time)",
                "per_second": cpu,
                "bar_per_second": 2000.0,
                "ratio_to_bar": cpu / 2000.0,
            }
        )
    presets = [("quick", 120.0)] + ([("full", 1200.0)] if args.full else [])
    for preset, bar in presets:
        s = run_seconds(preset)
        results["bars"].append(
            {"what": f"digits --preset {preset} end to end", "seconds": s, "bar_seconds": bar, "ratio_to_bar": s / bar}
        )
    results["load_average_at_end"] = load_average()
    out = HERE / "results" / "digits.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    if not args.full and previous:  # keep the last recorded full-preset time
        results["bars"] += [b for b in previous.get("bars", []) if "full" in b["what"]]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    for b in results["bars"]:
        value = f"{b['per_second']:8.0f} /s" if "per_second" in b else f"{b['seconds']:8.1f} s "
        print(f"{b['what']:<60} {value}   ratio {b['ratio_to_bar']:.3f}")


if __name__ == "__main__":
    main()
