"""The camera experiment: gold isolation during training, config errors, the learner, an end-to-end run."""

import json

import numpy as np
import pandas as pd
import pytest

from goodhartlab.core.config import resolve
from goodhartlab.core.errors import UserError
from goodhartlab.experiments.camera import measure
from goodhartlab.experiments.camera.config import Config
from goodhartlab.models import clip_reward
from goodhartlab.optim.preference_rl import TabularQ, plan, rollout
from goodhartlab.worlds.camera import env as camera_env
from goodhartlab.worlds.camera import scene

TINY = [
    "iterations=2",
    "rm_steps=10",
    "clips_per_iter=32",
    "comparisons_per_iter=16",
    "rl_envs=32",
    "rl_steps_per_iter=10",
    "eval_episodes=32",
]


def boom(*_a, **_k):
    raise AssertionError("gold was reached during training")


@pytest.mark.parametrize("arm", ["one_camera", "depth_cue", "second_camera", "oracle"])
def test_training_never_reads_gold(arm, monkeypatch):
    cfg = resolve(Config, "quick", None, TINY + [f"arms=[{arm}]"])
    fits = []
    real_fit = clip_reward.ClipRewardTrainer.fit

    def spy(self, comparisons, rng):
        fits.append(comparisons)
        return real_fit(self, comparisons, rng)

    monkeypatch.setattr(clip_reward.ClipRewardTrainer, "fit", spy)
    monkeypatch.setattr(camera_env.CameraEnv, "pop_gold", boom)
    monkeypatch.setattr(camera_env.CameraVectorEnv, "pop_gold", boom)
    monkeypatch.setattr(scene, "hovering", boom)
    if arm != "oracle":  # the oracle rater is, by design, a rater built from the true state
        monkeypatch.setattr(scene, "grasped", boom)
    rounds = []
    final = measure.train_arm(cfg, arm, 0, rounds.append)
    assert [t.round for t in rounds] == [0, 1, 2] and final.comparisons == 32
    feats = scene.agent_view(scene.all_states(cfg.size), cfg.size)
    for c in fits:  # the reward model got rendered frames and picks only
        frames = np.concatenate([c.first, c.second]).reshape(-1, feats.shape[1])
        assert set(map(bytes, frames)) <= set(map(bytes, feats))
        assert set(np.unique(c.pick)) <= {0.0, 1.0}


def test_bad_config_is_one_clear_error():
    with pytest.raises(UserError, match="arms"):
        resolve(Config, None, None, ["arms=[periscope]"])
    with pytest.raises(UserError, match="distinct pairs"):
        resolve(Config, None, None, ["clips_per_iter=4", "comparisons_per_iter=7"])
    with pytest.raises(UserError, match="size"):
        resolve(Config, None, None, ["size=9"])
    assert resolve(Config, "quick").seeds >= 3


def test_q_learning_on_the_true_approval_reaches_it_and_plan_is_the_optimum():
    size = 3
    states = scene.all_states(size)
    reward = scene.grasped(states).astype(float)
    env = camera_env.CameraVectorEnv(128, size, 10)
    q = TabularQ(env.single_observation_space.nvec, scene.N_ACTIONS)
    rng = np.random.default_rng(0)
    q.learn(env, lambda o: reward[scene.state_index(o, size)], 400, rng, seed=0)
    ev = camera_env.CameraVectorEnv(256, size, 10)
    rollout(ev, lambda o: q.act(o, 0.0, rng), seed=1)
    learned = np.mean([g["grasp"] for g in ev.pop_gold()])
    best = TabularQ(q.nvec, scene.N_ACTIONS)
    best.q = plan(measure._next_index(size), reward, 0.9)
    rollout(ev, lambda o: best.act(o, 0.0, rng), seed=1)
    optimum = np.mean([g["grasp"] for g in ev.pop_gold()])
    assert optimum == 1.0  # every start can reach the ball within 10 steps on a 3³ lattice
    assert learned > 0.8


@pytest.mark.slow
def test_camera_end_to_end_in_process(tmp_path):
    from goodhartlab.core.registry import get
    from goodhartlab.runner.execute import execute
    from goodhartlab.runner.store import RunStore

    experiment = get("camera")
    # Every arm on the quick preset's 3 seeds (the claims' unit), with TINY's learners and 32 comparisons a round.
    sets = [*TINY, "iterations=3", "comparisons_per_iter=32"]
    execute(experiment, resolve(experiment.config, "quick", None, sets), "quick", RunStore(tmp_path), quiet=True)
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir() and p.name.startswith("camera")]
    m = pd.read_csv(run_dir / "measurements.csv")
    assert set(m.series) == {"one_camera", "depth_cue", "second_camera", "oracle"} and m.seed.nunique() == 3
    assert np.isfinite(m[["proxy", "rater", "gold", "deception", "comparisons"]].to_numpy()).all()
    assert (m.deception <= m.rater + 1e-12).all()
    # With a depth cue or a second camera the rater's last-frame judgement is exact: no deception.
    assert (m[m.series.isin(["depth_cue", "second_camera", "oracle"])].deception == 0).all()
    assert sorted(m[m.series == "one_camera"].comparisons.unique()) == [0, 32, 64, 96]
    opt = pd.read_csv(run_dir / "tables" / "optimum.csv")
    assert len(opt) == 12
    for name in ("curves_pressure", "curves_comparisons", "frames"):
        assert (run_dir / "figures" / f"{name}.png").exists()
    report = (run_dir / "report.html").read_text()
    assert "Deception against RL pressure (one camera)" in report
    findings = {f["claim"]: f for f in json.loads((run_dir / "findings.json").read_text())}
    claims = ("deception rises with pressure under one camera", "depth cue removes deception seen under one camera")
    for claim in claims:
        assert findings[claim]["verdict"] in ("holds", "fails", "inconclusive")
        assert all(e["n"] == 3 and e["unit"] == "seed" for e in findings[claim]["evidence"].values())


def test_same_config_and_seed_give_the_same_measurements_and_ensembles_run():
    from goodhartlab.runner.context import RunContext

    cfg = resolve(Config, "quick", None, TINY + ["arms=[one_camera]", "seeds=1", "rm_members=2"])
    rows = []
    for _ in range(2):
        ctx = RunContext(cfg.seed, quiet=True)
        measure.run(cfg, ctx)
        rows.append((pd.DataFrame([m.row() for m in ctx.measurements]), pd.DataFrame(ctx.tables["optimum"])))
    assert rows[0][0].equals(rows[1][0]) and rows[0][1].equals(rows[1][1]) and len(rows[0][0]) == 3
