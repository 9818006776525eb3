"""Shared by the bench_* scripts: time an experiment's preset end to end through the CLI, and record results."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def run_seconds(experiment: str, preset: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "goodhartlab", "run", experiment, "--preset", preset, "--quiet", "--out", tmp],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - t


def timed_run(experiment: str, preset: str, bar: float, keep: str | None = None) -> dict:
    """One preset end to end through the CLI: wall seconds and the child's CPU seconds (user + system), which
    other processes on the shared cores inflate far less than the wall, with the load average around it."""
    before = os.getloadavg()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        cmd = [sys.executable, "-m", "goodhartlab", "run", experiment, "--preset", preset, "--quiet"]
        subprocess.run([*cmd, "--out", keep or tmp], check=True, capture_output=True)
        wall = time.perf_counter() - t
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    row = {
        "what": f"{experiment} --preset {preset} end to end",
        "seconds": wall,
        "cpu_seconds": cpu,
        "bar_seconds": bar,
        "ratio_to_bar": wall / bar,
        "cpu_ratio_to_bar": cpu / bar,
        "load_average_at_start": list(before),
        "load_average_at_end": list(os.getloadavg()),
    }
    print(
        f"{row['what']:<60} wall {wall:7.1f} s  cpu {cpu:7.1f} s  bar {bar:5.0f} s  "
        f"load {before[0]:.1f} -> {row['load_average_at_end'][0]:.1f}"
    )
    return row


def machine() -> dict:
    """The machine, with its load: other agents share the 2 cores, so timings are noisy (see load_average)."""
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_1_5_15": list(os.getloadavg()),
    }


def time_presets(experiment: str, bars: dict[str, float], presets: list[str]) -> list[dict]:
    rows = []
    for preset in presets:
        before = os.getloadavg()[0]
        s = run_seconds(experiment, preset)
        rows.append(
            {
                "what": f"{experiment} --preset {preset} end to end",
                "seconds": s,
                "bar_seconds": bars[preset],
                "ratio_to_bar": s / bars[preset],
                "load_average_at_start": before,
            }
        )
        print(f"{rows[-1]['what']:<50} {s:8.1f} s   bar {bars[preset]:6.0f} s   ratio {s / bars[preset]:.3f}")
    return rows


def from_run(experiment: str, preset: str, run_dir: str, bar: float) -> dict:
    """A preset's wall time read from a completed run's status.json (started/finished), for a long preset that
    was run once through the CLI rather than again by the benchmark."""
    from datetime import datetime

    status = json.loads((Path(run_dir) / "status.json").read_text())
    config = json.loads((Path(run_dir) / "config.json").read_text())
    if status["status"] != "complete" or config.get("preset") != preset or config.get("experiment") != experiment:
        raise SystemExit(f"{run_dir} is not a complete {experiment} --preset {preset} run")
    s = (
        datetime.fromisoformat(status["finished"].replace("Z", "+00:00"))
        - datetime.fromisoformat(status["started"].replace("Z", "+00:00"))
    ).total_seconds()
    print(f"{experiment} --preset {preset} (from {Path(run_dir).name}): {s:.0f} s, bar {bar:.0f} s")
    return {
        "what": f"{experiment} --preset {preset} end to end",
        "seconds": s,
        "bar_seconds": bar,
        "ratio_to_bar": s / bar,
        "source": f"run {Path(run_dir).name} (status.json started → finished)",
    }


def write(name: str, results: dict, presets: list[str]) -> None:
    """Write results/NAME.json, keeping a previously recorded preset timing that was not re-measured."""
    out = RESULTS / f"{name}.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    timed = {b["what"] for b in results["bars"]}
    results["bars"] += [
        b
        for b in previous.get("bars", [])
        if b["what"] not in timed and not any(f"--preset {p} " in b["what"] for p in presets)
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
