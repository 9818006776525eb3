"""Shared by the bench_* scripts: time an experiment's preset end to end through the CLI, and record results."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def run_seconds(experiment: str, preset: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "goodhartlab", "run", experiment, "--preset", preset, "--quiet",
                        "--out", tmp], check=True, capture_output=True)
        return time.perf_counter() - t


def machine() -> dict:
    """The machine, with its load: other agents share the 2 cores, so timings are noisy (see load_average)."""
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "load_average_1_5_15": list(os.getloadavg())}


def time_presets(experiment: str, bars: dict[str, float], presets: list[str]) -> list[dict]:
    rows = []
    for preset in presets:
        before = os.getloadavg()[0]
        s = run_seconds(experiment, preset)
        rows.append({"what": f"{experiment} --preset {preset} end to end", "seconds": s, "bar_seconds": bars[preset],
                     "ratio_to_bar": s / bars[preset], "load_average_at_start": before})
        print(f"{rows[-1]['what']:<50} {s:8.1f} s   bar {bars[preset]:6.0f} s   ratio {s / bars[preset]:.3f}")
    return rows


def write(name: str, results: dict, presets: list[str]) -> None:
    """Write results/NAME.json, keeping a previously recorded preset timing that was not re-measured."""
    out = RESULTS / f"{name}.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    timed = {b["what"] for b in results["bars"]}
    results["bars"] += [b for b in previous.get("bars", []) if b["what"] not in timed
                        and not any(f"--preset {p} " in b["what"] for p in presets)]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
