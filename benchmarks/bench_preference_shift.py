"""Preference-shift speed: one backward induction of the planners, and the presets end to end.

Bars (issue 13): quick <= 60 s, default <= 600 s. The planner row times the full-horizon engagement maximizer's
value tables and one Carroll-penalty backward induction (per user and λ) at the default grid, for scale.
Writes benchmarks/results/preference_shift.json. Run:
    .venv/bin/python benchmarks/bench_preference_shift.py [--presets quick,default] [--default-from RUN_DIR]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from presets import from_run, machine, time_presets, write

from goodhartlab.experiments.preference_shift.config import Config
from goodhartlab.optim.recommenders import EngagementPlanner, Grid
from goodhartlab.oversight.path_specific import ShiftPenalty
from goodhartlab.worlds.preference.user import UserModel

REPEATS = 3  # best of, to damp noise from other processes


def planner_rows(cfg: Config) -> list[dict]:
    model = UserModel(cfg.eta, cfg.alpha, tuple(cfg.bias))
    grid = Grid(len(cfg.bias), cfg.resolution)
    u0 = np.full(len(cfg.bias), 1.0 / len(cfg.bias))
    rows = []
    for name, make in (
        ("engagement maximizer value tables", lambda: EngagementPlanner(model, grid, None)),
        (
            "shift-penalty backward induction (one user, one λ)",
            lambda: ShiftPenalty(model, grid, model.natural_step, 1.0),
        ),
    ):
        best = float("inf")
        for _ in range(REPEATS):
            agent = make()
            t = time.perf_counter()
            agent.begin(u0, cfg.horizon)
            best = min(best, time.perf_counter() - t)
        rows.append({"what": f"{name}: {len(grid.points)} grid points, horizon {cfg.horizon}", "seconds": best})
        print(f"{rows[-1]['what']:<90} {best * 1000:8.1f} ms")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", default="quick,default", help="comma-separated presets to time end to end")
    ap.add_argument("--default-from", help="a completed default-preset run directory to read its timing from")
    args = ap.parse_args()
    presets = [p for p in args.presets.split(",") if p]
    results = {"machine": machine(), "measured": time.strftime("%Y-%m-%d %H:%M:%S"), "bars": planner_rows(Config())}
    results["bars"] += time_presets("preference-shift", {"quick": 60.0, "default": 600.0}, presets)
    if args.default_from:
        results["bars"].append(from_run("preference-shift", "default", args.default_from, 600.0))
        presets.append("default")
    write("preference_shift", results, presets)


if __name__ == "__main__":
    main()
