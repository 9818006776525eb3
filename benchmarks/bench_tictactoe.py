"""Speed bars of the tictactoe issue, measured in one run and recorded as ratios to their bars.

- exact analysis of all reachable positions against one opponent, optimal-action sets included: < 0.5 s
- `tictactoe --preset quick` end to end: < 60 s;  `--preset full`: < 600 s (with --full)

Usage: python benchmarks/bench_tictactoe.py [--full]
Writes benchmarks/results/tictactoe.json.
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


def analysis_seconds(opponent: str, repeats: int = 5) -> float:
    """Cold time (caches cleared) to build the MDP against ``opponent`` and run the exact check."""
    from goodhartlab.analysis import at_optimum
    from goodhartlab.worlds.tictactoe import game, mdp, rules

    best = float("inf")
    for _ in range(repeats):
        for f in (mdp.game_mdp, mdp.move_outcomes, rules.opponent_moves, game.negamax, game.legal_moves, game.winner):
            f.cache_clear()
        t = time.perf_counter()
        m = mdp.game_mdp(opponent, 0.5 if opponent == "mixture" else 0.0)
        at_optimum.check(m, rules.game_reward(), rules.INTENT)
        best = min(best, time.perf_counter() - t)
    return best


def run_seconds(preset: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "goodhartlab", "run", "tictactoe", "--preset", preset, "--quiet", "--out", tmp],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="also time the full preset (several minutes)")
    args = ap.parse_args()
    results = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "measured": time.strftime("%Y-%m-%d %H:%M:%S"),
        "bars": [],
    }
    for opponent in ("random", "perfect", "mixture"):
        s = analysis_seconds(opponent)
        results["bars"].append(
            {"what": f"exact analysis vs {opponent} (cold)", "seconds": s, "bar_seconds": 0.5, "ratio_to_bar": s / 0.5}
        )
    presets = [("quick", 60.0)] + ([("full", 600.0)] if args.full else [])
    for preset, bar in presets:
        s = run_seconds(preset)
        results["bars"].append(
            {
                "what": f"tictactoe --preset {preset} end to end",
                "seconds": s,
                "bar_seconds": bar,
                "ratio_to_bar": s / bar,
            }
        )
    out = HERE / "results" / "tictactoe.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    if not args.full and previous:  # keep the last recorded full-preset time
        results["bars"] += [b for b in previous.get("bars", []) if "full" in b["what"]]
    out.write_text(json.dumps(results, indent=2) + "\n")
    for b in results["bars"]:
        print(f"{b['what']:<45} {b['seconds']:8.3f} s   bar {b['bar_seconds']:6.1f} s   ratio {b['ratio_to_bar']:.3f}")


if __name__ == "__main__":
    main()
