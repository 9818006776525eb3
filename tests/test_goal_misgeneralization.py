"""goal-misgeneralization: the claims on synthetic tables, PPO, gold and test-level isolation during training,
bad input, and the quick preset end to end through the CLI (in process)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from goodhartlab.experiments.goal_misgeneralization import measure, present
from goodhartlab.optim.ppo import PPO, PPOConfig
from goodhartlab.worlds.gridlevels.env import CoinRunVectorEnv, GridLevelEnv, GridLevelVectorEnv
from goodhartlab.worlds.gridlevels.levels import CoinRunLevels, MazeLevels

TINY = [
    "seeds=1",
    "p_values=[0, 0.5]",
    "iterations=2",
    "checkpoints=1",
    "num_envs=4",
    "num_steps=8",
    "test_episodes=10",
    "train_episodes=10",
    "trajectories=1",
    "maze_regions=[1]",
    "maze_iterations=1",
]


def table(p0: dict, p1: dict, seeds: int = 5, noise: float = 0.01, series: str = "coinrun", seed: int = 0):
    """A measurement table with per-seed values around the means given for the smallest (p0) and the largest
    pressure (p1); missing columns default to 0.25 (outcomes) and 0.5 (channels)."""
    rng = np.random.default_rng(seed)
    rows = []
    for pressure, means in ((0.0, p0), (0.5, p1)):
        for s in range(seeds):
            row = {"series": series, "pressure_name": "p_random", "pressure": pressure, "seed": s}
            for col in ("misgeneralization", "gold", "death_rate", "timeout_rate", "capability", "proxy", "rater"):
                base = means.get(col, 0.25 if col.endswith("rate") or col in ("gold", "misgeneralization") else 0.5)
                row[col] = float(np.clip(base + rng.normal(0, noise), 0, 1))
            rows.append(row)
    return pd.DataFrame(rows)


P0_MISGEN = {
    "misgeneralization": 0.7,
    "gold": 0.2,
    "death_rate": 0.05,
    "timeout_rate": 0.05,
    "capability": 0.9,
    "proxy": 0.95,
    "rater": 0.93,
}
P1_GOAL = {
    "misgeneralization": 0.1,
    "gold": 0.8,
    "death_rate": 0.05,
    "timeout_rate": 0.05,
    "capability": 0.9,
    "proxy": 0.95,
    "rater": 0.5,
}


def test_most_common_claim_holds_fails_and_is_inconclusive():
    assert present.most_common_claim(table(P0_MISGEN, P1_GOAL)).verdict == "holds"
    assert present.most_common_claim(table(P1_GOAL, P1_GOAL)).verdict == "fails"  # the coin is most common
    low_capability = {**P0_MISGEN, "capability": 0.4}
    assert present.most_common_claim(table(low_capability, P1_GOAL)).verdict == "fails"
    assert present.most_common_claim(table(P0_MISGEN, P1_GOAL, seeds=2)).verdict == "inconclusive"  # < 3 seeds
    close = {**P0_MISGEN, "misgeneralization": 0.42, "gold": 0.4}
    f = present.most_common_claim(table(close, P1_GOAL, noise=0.1))
    assert f.verdict == "inconclusive" and f.evidence["margin"].low < 0 < f.evidence["margin"].high
    assert "the capability generalizes" in present.most_common_claim(table(P0_MISGEN, P1_GOAL)).text


def test_falls_claim_holds_fails_and_is_inconclusive():
    assert present.falls_claim(table(P0_MISGEN, P1_GOAL)).verdict == "holds"
    f = present.falls_claim(table(P1_GOAL, P0_MISGEN))
    assert f.verdict == "fails" and "does not fall" in f.text
    f = present.falls_claim(table(P0_MISGEN, {**P1_GOAL, "misgeneralization": 0.68}, noise=0.1))
    assert f.verdict == "inconclusive" and f.evidence["drop"].n == 5
    only_p0 = table(P0_MISGEN, P1_GOAL).query("pressure == 0")
    assert present.falls_claim(only_p0).verdict == "inconclusive"


def test_rater_gold_claim_holds_fails_and_is_inconclusive():
    assert present.rater_gold_claim(table(P0_MISGEN, P1_GOAL)).verdict == "holds"
    assert present.rater_gold_claim(table({**P0_MISGEN, "rater": 0.1, "gold": 0.8}, P1_GOAL)).verdict == "fails"
    assert present.rater_gold_claim(table(P0_MISGEN, P1_GOAL, seeds=2)).verdict == "inconclusive"


def test_maze_claim_only_with_two_regions():
    m = pd.concat([table(P0_MISGEN, P1_GOAL), table(P0_MISGEN, P1_GOAL, series="maze")])
    titles = [f.title for f in present.findings(m)]
    assert any("maze" in t for t in titles) and len(titles) == 4
    assert len(present.findings(table(P0_MISGEN, P1_GOAL))) == 3
    with_blind = table(P0_MISGEN, P1_GOAL).assign(gold_coin_blind=0.3, goal_pursuit=0.1)
    route = present.findings(with_blind)[-1]
    assert route.claim == "" and route.verdict == "inconclusive" and "gold_coin_blind_at_0" in route.evidence


def test_ppo_is_seeded_and_learns_a_short_corridor():
    def run(seed, iterations):
        env = CoinRunVectorEnv(16, height=3, width=5, walls=0, hazards=0, view_radius=2, max_steps=12)
        return PPO(PPOConfig(iterations=iterations, num_steps=16, lr=3e-3, snapshots=(1,))).learn(
            env, np.random.default_rng(seed)
        )

    a, b = run(0, 2), run(0, 2)
    assert [h["policy_loss"] for h in a.history] == [h["policy_loss"] for h in b.history]
    assert set(a.snapshots) == {1}
    result = run(1, 25)
    test = measure.play_once(
        CoinRunVectorEnv(100, height=3, width=5, walls=0, hazards=0, view_radius=2, max_steps=12),
        result.policy,
        7,
        np.random.default_rng(0),
    )
    assert np.mean([r["goal"] for r in test]) > 0.8  # a random walk gets there within 12 steps far less often


def test_learner_never_sees_gold_or_test_levels(monkeypatch, tmp_path):
    from goodhartlab.core.config import resolve
    from goodhartlab.core.registry import get
    from goodhartlab.runner.execute import execute
    from goodhartlab.runner.store import RunStore

    training = {"on": False}

    def guard(real, what):
        def wrapped(self, *args, **kwargs):
            if training["on"] and (what != "level" or self.phase != "train"):
                raise AssertionError(f"{what} reached during training")
            return real(self, *args, **kwargs)

        return wrapped

    for cls in (CoinRunLevels, MazeLevels):
        monkeypatch.setattr(cls, "__call__", guard(cls.__call__, "level"))
    for cls in (GridLevelVectorEnv, GridLevelEnv):
        monkeypatch.setattr(cls, "pop_gold", guard(cls.pop_gold, "gold"))
    phases = []

    class Spy(PPO):
        def learn(self, env, rng):
            phases.append(env.phase)
            training["on"] = True
            try:
                return super().learn(env, rng)
            finally:
                training["on"] = False

    monkeypatch.setattr(measure, "PPO", Spy)
    experiment = get("goal-misgeneralization")
    # processes=1: the agents train here, where the patches are (ctx.map's workers are spawned, without them).
    config = resolve(experiment.config, None, None, TINY)
    execute(experiment, config, "default", RunStore(tmp_path), quiet=True, processes=1)
    assert phases == ["train"] * 3  # two CoinRun agents, one maze agent, each given training levels only
    (run_dir,) = [p for p in tmp_path.iterdir() if p.name.startswith("goal-misgeneralization")]
    m = pd.read_csv(run_dir / "measurements.csv")
    assert len(m[m.series == "coinrun"]) == 2 and len(m[m.series == "maze"]) == 1
    assert (m.test_episodes == 10).all()


def test_checkpoints_are_evenly_spaced_and_end_at_the_last_iteration():
    from goodhartlab.experiments.goal_misgeneralization.config import Config

    assert measure.checkpoint_iterations(Config(iterations=100, checkpoints=4)) == (25, 50, 75, 100)
    assert measure.checkpoint_iterations(Config(iterations=3, checkpoints=3)) == (1, 2, 3)


@pytest.mark.parametrize(
    "assignment, field",
    [("p_values=[0.1, 0.5]", "p_values"), ("maze_regions=[9]", "maze"), ("walls=9", "walls"), ("seeds=0", "seeds")],
)
def test_bad_input_is_one_line(assignment, field, capsys, tmp_path):
    from goodhartlab import cli

    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "goal-misgeneralization", "--set", assignment, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and field in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_coinrun_agent_learns_its_training_levels_at_the_quick_ppo_settings():
    # One agent of the quick preset (the largest p, PPO batch cut to 32 envs): its proxy, the return on fresh
    # training levels, is 0.87-0.93 over seeds 0-2 (a random walk scores far less). Fewer samples (20 iterations,
    # or 16 envs) leave it near 0.3-0.4. The end-to-end run below checks the wiring on a tiny PPO.
    from goodhartlab.core.config import resolve
    from goodhartlab.experiments.goal_misgeneralization.config import Config

    cfg = resolve(Config, "quick", None, ["num_envs=32", "test_episodes=30", "train_episodes=30", "checkpoints=1"])
    assert (cfg.iterations, cfg.num_steps, cfg.p_values) == (50, 32, [0.0, 0.5])
    rows = measure.train_and_measure(measure.Agent(cfg, 0, "coinrun", 0, 0.5)).measurements
    assert rows and all(m.proxy > 0.6 for m in rows)  # one row per pressure axis (p, iterations) at the end


@pytest.mark.slow
def test_quick_preset_end_to_end(tmp_path):
    from goodhartlab import cli

    # The quick preset's seeds (the claims' units), p values, checkpoints and maze agent, on a tiny PPO and
    # evaluation: every stage, figure and finding (learning is checked on one agent above).
    smaller = (
        "iterations=4",
        "num_envs=8",
        "num_steps=8",
        "maze_iterations=1",
        "test_episodes=10",
        "train_episodes=10",
        "trajectories=1",
    )
    sets = [a for s in smaller for a in ("--set", s)]
    cli.main(["run", "goal-misgeneralization", "--preset", "quick", "--quiet", *sets, "--out", str(tmp_path)])
    (run_dir,) = [p for p in tmp_path.iterdir() if p.name.startswith("goal-misgeneralization")]
    assert json.loads((run_dir / "status.json").read_text())["status"] == "complete"
    for fig in (
        "coinrun_against_p_random",
        "maze_against_region",
        "coinrun_against_iterations",
        "trajectories",
        "learning_curves",
    ):
        assert (run_dir / "figures" / f"{fig}.png").exists(), fig
    m = pd.read_csv(run_dir / "measurements.csv")
    coin = m[m.series == "coinrun"]
    assert sorted(coin.seed.unique()) == [0, 1, 2] and sorted(coin.pressure.unique()) == [0.0, 0.5]
    for col in ("proxy", "rater", "gold", "misgeneralization", "capability"):
        assert m[col].between(0, 1).all(), col
    findings = json.loads((run_dir / "findings.json").read_text())
    assert {f["verdict"] for f in findings} <= {"holds", "fails", "inconclusive"}
    assert len([f for f in findings if f["claim"]]) == 3 and len(findings) == 4
    trajectories = json.loads((run_dir / "artifacts" / "trajectories.json").read_text())
    assert {t["p_random"] for t in trajectories} == {0.0, 0.5}


def test_same_config_and_seed_same_measurements(tmp_path):
    from goodhartlab.core.config import resolve
    from goodhartlab.core.registry import get
    from goodhartlab.runner.execute import execute
    from goodhartlab.runner.store import RunStore

    experiment = get("goal-misgeneralization")
    frames = []
    # Both here (processes=1): a pool's two workers importing torch cost more than these runs (the end-to-end run
    # above goes through the pool; results against the process count: test_faults.py).
    for i in range(2):
        store = tmp_path / f"s{i}"
        execute(
            experiment,
            resolve(experiment.config, None, None, TINY),
            "default",
            RunStore(store),
            quiet=True,
            report=False,
            processes=1,
        )
        (run_dir,) = [p for p in store.iterdir() if p.name.startswith("goal-misgeneralization")]
        frames.append(pd.read_csv(run_dir / "measurements.csv"))
    pd.testing.assert_frame_equal(frames[0], frames[1])
