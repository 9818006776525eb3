"""Gymnasium registration, gold through pop_gold() under vector envs, action_masks() (issue 14)."""

import subprocess
import sys

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

import goodhartlab  # noqa: F401  (registers the goodhartlab/... ids)
from goodhartlab.envs import ENVS
from goodhartlab.worlds.tictactoe.env import EmbodiedTicTacToeEnv


def test_import_goodhartlab_registers_without_torch():
    code = (
        "import sys, goodhartlab, gymnasium; env = gymnasium.make('goodhartlab/EmbodiedTicTacToe-v0'); "
        "env.reset(seed=0); assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_make_by_module_prefix():
    code = "import gymnasium; gymnasium.make('goodhartlab.envs:goodhartlab/TicTacToe-v0').reset(seed=0)"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("env_id", sorted(ENVS))
def test_every_id_makes_an_env_that_passes_check_env(env_id):
    env = gymnasium.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert callable(env.unwrapped.pop_gold)  # the gold contract of envs.py
    if isinstance(obs, dict) and "action_mask" in obs:  # masked envs serve MaskablePPO too
        assert np.array_equal(env.unwrapped.action_masks(), obs["action_mask"].astype(bool))


def _play(vec: gymnasium.vector.VectorEnv, steps: int, seed: int) -> int:
    """Random legal play; returns how many episodes finished."""
    rng = np.random.default_rng(seed)
    obs, _ = vec.reset(seed=seed)
    finished = 0
    for _ in range(steps):
        actions = [int(rng.choice(np.flatnonzero(m))) if m.any() else 0 for m in obs["action_mask"]]
        obs, _, terminated, truncated, _ = vec.step(np.array(actions))
        finished += int(np.sum(terminated | truncated))
    return finished


@pytest.mark.parametrize("vector", [gymnasium.vector.SyncVectorEnv, gymnasium.vector.AsyncVectorEnv])
def test_vector_env_records_gold_for_every_finished_episode(vector):
    vec = vector([lambda: gymnasium.make("goodhartlab/EmbodiedTicTacToe-v0", discoverability="always")] * 4)
    try:
        finished = _play(vec, 60, seed=3)
        records = vec.call("pop_gold")
        assert len(records) == 4 and all(len(r) > 0 for r in records)
        assert sum(len(r) for r in records) == finished > 0
        assert all(r["outcome"] in ("x_win", "o_win", "draw", "unfinished") for rs in records for r in rs)
        assert sum(len(r) for r in vec.call("pop_gold")) == 0  # popped once
    finally:
        vec.close()


def test_action_masks_track_the_observation():
    env = EmbodiedTicTacToeEnv("random", 0.0, "sequence", unlock_after=1)
    obs, _ = env.reset(seed=0)
    for action in (9, 4, 10):
        assert np.array_equal(env.action_masks(), obs["action_mask"].astype(bool))
        obs, *_ = env.step(action)


def test_learners_never_read_gold(monkeypatch):
    from goodhartlab.optim import qlearning, reinforce

    def leak(self):
        raise AssertionError("a learner read gold")

    monkeypatch.setattr(EmbodiedTicTacToeEnv, "pop_gold", leak)
    env = EmbodiedTicTacToeEnv("random", 0.0, "always")
    qlearning.train(env, 30, 0.2, np.random.default_rng(0))
    reinforce.train(env, 32, torch.Generator().manual_seed(0), np.random.default_rng(0))
