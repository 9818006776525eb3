"""goal-misgeneralization speed: the batched numpy vector env against a SyncVectorEnv of single envs, and the
presets end to end through the CLI.

Bars (issue 12): quick <= 120 s, default <= 600 s on this 2-core machine. The machine is shared with other
agents, so each preset also records the child process's CPU seconds (user + system), which the load inflates
far less than the wall time, and the load average when it started. Writes
benchmarks/results/goal_misgeneralization.json. Run:
    .venv/bin/python benchmarks/bench_goal_misgeneralization.py [--presets quick,default]
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
from presets import machine, timed_run, write

from goodhartlab.worlds.gridlevels.env import CoinRunEnv, CoinRunVectorEnv

BARS = {"quick": 120.0, "default": 600.0, "full": 3600.0}


def steps_per_second(env, n: int, steps: int = 300) -> float:
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    t = time.perf_counter()
    for _ in range(steps):
        env.step(rng.integers(0, 4, n))
    return n * steps / (time.perf_counter() - t)


def env_rows() -> list[dict]:
    rows = []
    for n in (16, 64):
        batched = steps_per_second(CoinRunVectorEnv(n), n)
        sync = gym.vector.SyncVectorEnv([CoinRunEnv for _ in range(n)])
        single = steps_per_second(sync, n)
        sync.close()
        rows.append(
            {
                "what": f"CoinRun env steps/s, {n} levels: batched numpy vs SyncVectorEnv of single envs",
                "batched_steps_per_second": batched,
                "sync_steps_per_second": single,
                "speedup": batched / single,
            }
        )
        print(f"{rows[-1]['what']:<80} {batched:9.0f}/s vs {single:8.0f}/s  ×{batched / single:.1f}")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", default="quick", help="comma-separated presets to time end to end")
    ap.add_argument("--keep", help="a run store to keep the timed runs in (default: a temporary directory)")
    args = ap.parse_args()
    presets = [p for p in args.presets.split(",") if p]
    results = {"machine": machine(), "measured": time.strftime("%Y-%m-%d %H:%M:%S"), "bars": env_rows()}
    results["bars"] += [timed_run("goal-misgeneralization", p, BARS[p], args.keep) for p in presets]
    write("goal_misgeneralization", results, presets)


if __name__ == "__main__":
    main()
