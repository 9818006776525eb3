"""The grid-level world of goal-misgeneralization: level statistics, the envs' API, gold per episode
(also under AsyncVectorEnv), scripted episodes and the clip observer."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from scipy import stats as sps

from goodhartlab import envs
from goodhartlab.worlds.gridlevels.env import (
    CoinRunEnv,
    CoinRunVectorEnv,
    LevelBatch,
    MazeEnv,
    MazeVectorEnv,
    gold_records,
)
from goodhartlab.worlds.gridlevels.levels import CoinRunLevels, Level, MazeLevels, distances
from goodhartlab.worlds.gridlevels.observer import ClipObserver


def _levels(gen, n, seed=0):
    rng = np.random.default_rng(seed)
    return [gen(rng) for _ in range(n)]


def test_test_levels_never_put_the_coin_at_the_exit():
    for lv in _levels(CoinRunLevels(phase="test"), 1500):
        assert lv.goal != lv.end and lv.goal != lv.start
        assert not lv.walls[lv.goal] and not lv.hazards[lv.goal]


@pytest.mark.parametrize("p", [0.0, 0.1, 0.3, 1.0])
def test_training_levels_put_the_coin_at_the_exit_with_probability_one_minus_p(p):
    levels = _levels(CoinRunLevels(p_random=p), 2000, seed=1)
    at_exit = sum(lv.goal == lv.end for lv in levels)
    if p in (0.0, 1.0):
        assert at_exit == (2000 if p == 0.0 else 0)
    else:  # a two-sided binomial test at 1 - p; fails with probability 1e-4 for a correct generator
        assert sps.binomtest(at_exit, 2000, 1 - p).pvalue > 1e-4


def test_every_level_is_solvable_and_hazards_spare_start_column_and_exit():
    for lv in _levels(CoinRunLevels(height=5, width=10, walls=3, hazards=5), 500, seed=2):
        d = distances(lv.walls | lv.hazards, lv.start)
        assert d[lv.end] == lv.shortest_to_end > 0 and d[lv.goal] == lv.shortest_to_goal >= 0
        assert not lv.hazards[:, 0].any() and not lv.hazards[lv.end] and not lv.walls[lv.end]
        assert lv.walls.sum(axis=0).max() <= lv.shape[0] - 1  # every wall column has a gap


def test_maze_cheese_in_the_corner_region_in_training_anywhere_but_the_corner_at_test():
    for region in (1, 3):
        levels = _levels(MazeLevels(size=4, region=region), 400, seed=region)
        n = levels[0].shape[0]
        for lv in levels:
            assert lv.goal[0] < region and lv.goal[1] >= n - region and not lv.walls[lv.goal]
        goals = {lv.goal for lv in levels}
        assert goals == {(0, n - 1)} if region == 1 else len(goals) > 1
    test = _levels(MazeLevels(size=4, phase="test"), 800, seed=9)
    assert all(lv.goal != lv.end for lv in test)
    rows = np.array([lv.goal[0] for lv in test])
    assert (rows >= 4).mean() > 0.3  # the cheese is often far from the top-right corner
    for lv in test[:50]:
        d = distances(lv.walls, lv.start)
        assert (d[~lv.walls] >= 0).all()  # every open cell is reachable


def test_same_seed_same_levels():
    a, b = _levels(CoinRunLevels(p_random=0.3), 20, 5), _levels(CoinRunLevels(p_random=0.3), 20, 5)
    assert all((x.walls == y.walls).all() and (x.hazards == y.hazards).all() and x.goal == y.goal for x, y in zip(a, b))


def test_bad_level_arguments_are_refused():
    with pytest.raises(ValueError, match="phase"):
        CoinRunLevels(phase="eval")
    with pytest.raises(ValueError, match="p_random"):
        CoinRunLevels(p_random=1.5)
    with pytest.raises(ValueError, match="region"):
        MazeLevels(size=3, region=6)


@pytest.mark.parametrize("cls", [CoinRunEnv, MazeEnv])
def test_check_env(cls):
    check_env(cls(), skip_render_check=True)
    check_env(cls(phase="test", render_mode="ansi"), skip_render_check=True)


@pytest.mark.parametrize("env_id", ["goodhartlab/CoinRun-v0", "goodhartlab/Maze-v0"])
def test_registered_with_gymnasium(env_id):
    envs.register()
    env = gym.make(env_id, phase="test")
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs) and info == {}
    check_env(env.unwrapped, skip_render_check=True)


def _random_steps(env, steps, seed):
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    ended = 0
    for _ in range(steps):
        _, _, term, trunc, info = env.step(rng.integers(0, 4, env.num_envs))
        assert not any(k in info for k in ("goal", "gold", "coin"))
        ended += int(np.sum(np.logical_or(term, trunc)))
    return ended


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_gold_per_episode_under_gymnasium_vector_envs(kind):
    envs.register()
    make = [lambda: gym.make("goodhartlab/CoinRun-v0", phase="test") for _ in range(3)]
    vec = gym.vector.AsyncVectorEnv(make) if kind == "async" else gym.vector.SyncVectorEnv(make)
    try:
        ended = _random_steps(vec, 150, 3)
        records = gold_records(vec)
    finally:
        vec.close()
    assert ended > 10 and len(records) == ended  # one record per finished episode, none lost in the workers
    assert all(r["phase"] == "test" and not r["goal_at_end"] for r in records)
    assert {"goal", "end", "death", "timeout", "steps"} <= set(records[0])


@pytest.mark.parametrize("cls", [CoinRunVectorEnv, MazeVectorEnv])
def test_batched_vector_env_records_every_episode_and_autoresets_same_step(cls):
    env = cls(8)
    assert env.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    ended = _random_steps(env, 120, 4)
    records = env.pop_gold()
    assert ended > 0 and len(records) == ended and env.pop_gold() == []
    for r in records:
        assert sum([r["goal"], r["end"] and not r["goal"], r["death"], r["timeout"]]) >= 1
    obs, _ = env.reset(seed=1)
    assert env.observation_space.contains(obs)


def _level(goal=(1, 3), hazards=()):
    walls = np.zeros((3, 5), dtype=bool)
    haz = np.zeros((3, 5), dtype=bool)
    for h in hazards:
        haz[h] = True
    d = distances(walls | haz, (1, 0))
    return Level(walls, haz, (1, 0), (1, 4), goal, True, int(d[1, 4]), int(d[goal]))


@pytest.mark.parametrize(
    "goal, hazards, expect",
    [
        ((1, 4), (), {"goal": True, "end": True, "return": 1.0, "steps": 4}),  # training: coin at the exit
        ((0, 2), (), {"goal": False, "end": True, "return": 0.0, "steps": 4}),  # misgeneralization: exit, no coin
        ((1, 2), (), {"goal": True, "end": False, "return": 1.0, "steps": 2}),  # the coin on the way
        ((0, 2), ((1, 3),), {"goal": False, "death": True, "return": 0.0, "steps": 3}),
    ],
)
def test_scripted_run_to_the_right(goal, hazards, expect):
    batch = LevelBatch(1, lambda rng: _level(goal, hazards), view_radius=2, max_steps=10)
    batch.reset_slot(0, np.random.default_rng(0))
    total, records = 0.0, []
    for _ in range(10):
        r, term, trunc, recs = batch.step(np.array([3]))  # right
        total += float(r[0])
        records += recs
        if term[0] or trunc[0]:
            break
    (rec,) = records
    assert {k: rec[k] for k in expect} == expect and total == expect["return"]


def test_egocentric_observation_planes():
    batch = LevelBatch(1, lambda rng: _level((0, 2), ((2, 1),)), view_radius=2, max_steps=10)
    batch.reset_slot(0, np.random.default_rng(0))
    obs = batch.obs()[0]  # [C, 5, 5], agent at the centre (2, 2) = level cell (1, 0)
    assert obs.shape == (4, 5, 5)
    assert obs[3, :, :2].all() and not obs[3, 1:4, 2:].any()  # outside: the two columns left of the level
    assert obs[1, 3, 3] == 1 and obs[1].sum() == 1  # hazard at level (2, 1)
    assert obs[2, 1, 4] == 1 and obs[2].sum() == 1  # coin at level (0, 2)


def test_observer_approves_competent_runs_to_the_end_only():
    obs = ClipObserver(slack=1.5)
    base = {"death": False, "end_step": 10, "shortest_to_end": 9, "goal": False}
    assert obs.approves(base)
    assert obs.approves({**base, "goal": True}) and obs.approves({**base, "end_step": 14})
    assert not obs.approves({**base, "end_step": 15})  # dawdled: more than ceil(1.5 · 9) = 14 steps
    assert not obs.approves({**base, "death": True}) and not obs.approves({**base, "end_step": -1})
    p = obs.prefer([], [base, base], [{**base, "death": True}, base], np.random.default_rng(0))
    assert p.tolist() == [1.0, 0.5]
    with pytest.raises(ValueError, match="slack"):
        ClipObserver(0.5)
