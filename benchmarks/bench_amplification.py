"""Memoized HCH vs plain recursion over every question of the default amplification task space.

For each depth up to the full height, times HCH_depth on every question both ways and records the H calls:
the unmemoized recursion simulates every H call of HCH's tree; the memoized one simulates each distinct
(question, depth) once. Writes benchmarks/results/amplification.json. Run:
    .venv/bin/python benchmarks/bench_amplification.py
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

from goodhartlab.experiments.amplification.config import Config
from goodhartlab.experiments.amplification.measure import FULL_DEPTH, make_human, make_world
from goodhartlab.oversight.amplification import HCH, hch_unmemoized

REPEATS = 3  # best of, to damp noise from other processes on the machine


def best_time(fn) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(REPEATS):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


LARGER = {
    "perm_elements": 16,
    "perm_max_power": 64,
    "wildcard_length": 6,
    "graph_nodes": 6,
    "path_max_edges": 6,
    "arith_depth": 5,
    "answers": 16,
}  # a deeper space, to show how the saving scales with depth


def bench(config: Config, depths: list[int] | None = None) -> list[dict]:
    world = make_world(config)
    human = make_human(config, world)
    questions = world.questions()
    height = max(HCH(human).height(q, FULL_DEPTH) for q in questions)
    rows = []
    for depth in depths if depths is not None else range(height + 2):

        def memo():
            hch = HCH(human)
            answers = [hch.answer(q, depth) for q in questions]
            return answers, hch.evaluations, sum(hch.tree_calls(q, depth) for q in questions)

        def plain():
            results = [hch_unmemoized(human, q, depth) for q in questions]
            return [a for a, _ in results], sum(c for _, c in results)

        t_memo, (a_memo, evaluations, tree_calls) = best_time(memo)
        t_plain, (a_plain, plain_calls) = best_time(plain)
        assert a_memo == a_plain and tree_calls == plain_calls
        rows.append(
            {
                "depth": depth,
                "questions": len(questions),
                "h_calls_unmemoized": plain_calls,
                "h_simulations_memoized": evaluations,
                "seconds_unmemoized": t_plain,
                "seconds_memoized": t_memo,
                "time_ratio": t_plain / t_memo,
            }
        )
        print(rows[-1])
    return rows


def main() -> None:
    config = Config()  # the default task space
    larger = Config(**LARGER)
    height = max(
        HCH(make_human(larger, make_world(larger))).height(q, FULL_DEPTH) for q in make_world(larger).questions()
    )
    out = {
        "benchmark": "HCH over the default amplification task space, memoized vs unmemoized",
        "config": {
            k: v
            for k, v in config.model_dump().items()
            if k
            in (
                "tasks",
                "answers",
                "perm_elements",
                "perm_max_power",
                "wildcard_length",
                "graph_nodes",
                "path_max_edges",
                "arith_depth",
                "arith_roots",
                "error_rate",
                "seed",
            )
        },
        "repeats": REPEATS,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rows": bench(config),
        "larger_space": {"overrides": LARGER, "rows": bench(larger, [height])},
    }
    path = Path(__file__).parent / "results" / "amplification.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
