"""How long `goodhartlab list` and `goodhartlab --help` take, and that they import no heavy library (issue 14:
median under 1.5 s on this machine; before the lazy catalog, 4.7 s with torch and matplotlib imported).

Median of 7 fresh processes each. The load average is recorded beside the times because other processes on the
machine inflate them. Writes benchmarks/results/list.json. Run:  .venv/bin/python benchmarks/bench_list.py
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPEATS = 7
BAR_S = 1.5
HEAVY = ("torch", "matplotlib", "transformers", "sklearn", "scipy", "pandas")
PROBE = (
    "import sys, runpy; sys.argv = ['goodhartlab', {arg!r}]\n"
    "try:\n    runpy.run_module('goodhartlab', run_name='__main__')\nexcept SystemExit:\n    pass\n"
    "print('heavy:' + ','.join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)"
)


def timed(arg: str) -> tuple[float, list[str]]:
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "goodhartlab", arg], capture_output=True, check=True)
        times.append(time.perf_counter() - t)
        assert done.stdout
    probe = subprocess.run(
        [sys.executable, "-c", PROBE.format(arg=arg, heavy=HEAVY)], capture_output=True, text=True, check=True
    )
    line = [x for x in probe.stderr.splitlines() if x.startswith("heavy:")][-1]
    return statistics.median(times), [m for m in line.removeprefix("heavy:").split(",") if m]


def main() -> None:
    load = os.getloadavg()
    results = {}
    for arg in ("list", "--help"):
        median, heavy = timed(arg)
        results[arg] = {"median_s": median, "bar_s": BAR_S, "ratio_to_bar": median / BAR_S, "heavy_imported": heavy}
    out = {
        "benchmark": f"median of {REPEATS} fresh `python -m goodhartlab list` / `--help` processes",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_1_5_15_before": list(load),
        "loadavg_after": list(os.getloadavg()),
        "results": results,
    }
    path = Path(__file__).parent / "results" / "list.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
