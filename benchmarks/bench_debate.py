"""Debate speed: judge positions per second batched vs one position per call, and the presets end to end.

Batched: the judge scores many positions in one call, as the debaters' search does (all games advance in
lockstep, so one simulation step of every game's tree is one call). One at a time: a call per position.
Bars: batched ≥ 10× one-at-a-time; quick < 120 s; full < 1200 s. Writes benchmarks/results/debate.json. Run:
    .venv/bin/python benchmarks/bench_debate.py [--presets quick,full]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from presets import from_run, machine, time_presets, write

from goodhartlab.models.judge import SparseJudge
from goodhartlab.oversight.pixel_debate import CountingJudge, inputs

REPEATS = 3  # best of, to damp noise from other processes


def positions_per_second(judge: CountingJudge, x: torch.Tensor, batch: int) -> float:
    judge.batch = batch
    best = float("inf")
    for _ in range(REPEATS):
        t = time.perf_counter()
        if batch == 1:
            for i in range(len(x)):
                judge(x[i : i + 1])
        else:
            judge(x)
        best = min(best, time.perf_counter() - t)
    return len(x) / best


def judge_rows(size: int, width: int, k: int) -> list[dict]:
    rng = np.random.default_rng(0)
    images = (rng.integers(1, 256, (4096, size, size)) * (rng.random((4096, size, size)) < 0.3)).astype(np.uint8)
    pixels = np.stack([rng.choice(size * size, k, replace=False) for _ in range(len(images))])
    x = inputs(images, pixels)
    judge = CountingJudge(SparseJudge(size, width=width, generator=torch.Generator().manual_seed(0)).eval())
    single = positions_per_second(judge, x[:400], 1)
    rows = []
    for batch in (
        256,
        1024,
        4096,
    ):  # the quick preset steps 720 games (80 images × 9 lies) per simulation; the judge chunks by 1024
        pps = positions_per_second(judge, x[:batch], batch)
        rows.append(
            {
                "what": f"judge {size}×{size} (width {width}), batch {batch} vs one position per call",
                "positions_per_second_batched": pps,
                "positions_per_second_single": single,
                "speedup": pps / single,
                "bar_speedup": 10.0,
                "ratio_to_bar": (pps / single) / 10.0,
            }
        )
        print(f"{rows[-1]['what']:<60} {pps:9.0f}/s vs {single:7.0f}/s  speed-up {pps / single:6.1f}")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", default="quick", help="comma-separated presets to time end to end (quick, full)")
    ap.add_argument("--full-from", help="a completed full-preset run directory to read the full timing from")
    args = ap.parse_args()
    presets = [p for p in args.presets.split(",") if p]
    torch.set_num_threads(1)  # as the experiment runs
    results = {
        "machine": machine(),
        "measured": time.strftime("%Y-%m-%d %H:%M:%S"),
        "bars": judge_rows(28, 16, 6) + judge_rows(8, 16, 2),
    }
    results["bars"] += time_presets("debate", {"quick": 120.0, "full": 1200.0}, presets)
    if args.full_from:
        results["bars"].append(from_run("debate", "full", args.full_from, 1200.0))
        presets.append("full")
    write("debate", results, presets)


if __name__ == "__main__":
    main()
