"""Wall time and peak memory of the rlhf experiments' presets, end to end.

Each preset runs through the CLI in a fresh run store (so π_base is pretrained, not loaded from a cache),
as a user's first run would. Recorded as ratios to the issue's bars (issue 11): rlhf quick < 3 min, every
variant's quick < 4 min, rlhf default < 15 min, default peak RSS < 4 GB. The machine is shared: CPU time of the run and the load average are recorded
beside wall time, since wall time under contention from other processes overstates the run's own cost.
Writes benchmarks/results/rlhf.json. Run:
    .venv/bin/python benchmarks/bench_rlhf.py [quick|default|EXPERIMENT:PRESET ...]   (e.g. rlhf-bribery:quick)
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BARS = {
    "quick": {"seconds": 180.0},
    "default": {"seconds": 900.0, "peak_rss_gb": 4.0},
    "variant quick": {"seconds": 240.0},
}


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (the run's ctx.map workers), from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(d.name))
            rss[int(d.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


def run_preset(spec: str, keep: str | None = None) -> dict:
    name, preset = spec.split(":") if ":" in spec else ("rlhf", spec)
    env = {k: v for k, v in os.environ.items() if k != "GOODHARTLAB_CACHE"}
    with tempfile.TemporaryDirectory() as tmp:
        store = keep or tmp
        load_before = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "goodhartlab", "run", name, "--preset", preset, "--quiet", "--out", store],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        peak_tree = [0]

        def sample() -> None:  # the run and its worker processes together, every half second
            while proc.poll() is None:
                peak_tree[0] = max(peak_tree[0], _tree_rss(proc.pid))
                time.sleep(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, stderr = proc.communicate()
        wall = time.perf_counter() - t
        sampler.join()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise SystemExit(f"{name} --preset {preset} failed:\n{stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss is in KiB on Linux: the largest single process so far; peak_tree_rss_gb sums the run and its workers
    rss_gb = after.ru_maxrss / 1024**2
    bar = BARS[preset if name == "rlhf" else f"variant {preset}"]
    row = {
        "experiment": name,
        "preset": preset,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "peak_rss_gb": rss_gb,
        "peak_tree_rss_gb": peak_tree[0] / 1024**3,
        "wall_ratio_to_bar": wall / bar["seconds"],
        "cpu_ratio_to_bar": cpu / bar["seconds"],
        "load_average_at_start": load_before,
        "load_average_at_end": os.getloadavg()[0],
    }
    if "peak_rss_gb" in bar:
        row["rss_ratio_to_bar"] = max(rss_gb, row["peak_tree_rss_gb"]) / bar["peak_rss_gb"]
    print(row, flush=True)
    return row


def main() -> None:
    args = sys.argv[1:]
    keep = None
    if "--keep" in args:  # keep the run store (e.g. to read the run's findings); it must be new or empty
        i = args.index("--keep")
        keep, args = args[i + 1], args[:i] + args[i + 2 :]
    presets = args or ["quick", "default"]
    path = Path(__file__).parent / "results" / "rlhf.json"
    new = {p: run_preset(p, keep) for p in presets}
    old = json.loads(path.read_text()) if path.exists() else {}  # read after the runs: others may have written
    key = lambda r: f"{r.get('experiment', 'rlhf')}:{r['preset']}"
    rows = {**{key(r): r for r in old.get("rows", [])}, **{key(r): r for r in new.values()}}
    out = {
        "benchmark": "rlhf experiments end to end (pretraining included) through the CLI, fresh store",
        "bars": BARS,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "note": "2 cores shared with other agents' jobs: wall time includes waiting for CPU (see load average); "
        "cpu_seconds is the run's own work (the run and its ctx.map workers). Since the rlhf units run in 2 worker "
        "processes, wall time on a quiet 2-core machine is about cpu_seconds / 2 plus the serial parts; "
        "peak_rss_gb is the largest single process, peak_tree_rss_gb the run with its workers.",
        "rows": list(rows.values()),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
