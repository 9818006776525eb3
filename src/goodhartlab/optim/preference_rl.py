"""Tabular Q-learning on a learned reward, over a Gymnasium vector env with a ``MultiDiscrete`` observation.

The RL half of learning from preferences (Christiano et al. 2017): the env pays nothing; the reward is a
function of the next observation supplied by the trainer (a reward model's score of what the cameras render).
The learner sees the vector env and that reward only — never the env's gold (``pop_gold``), which only an
evaluator calls. Next-step autoreset is respected: the step that restarts an env is not learned from.

Observations are indexed in mixed radix over the space's ``nvec`` (row-major, first column most significant).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

RewardFn = Callable[[np.ndarray], np.ndarray]  # next observations (B, D) -> rewards (B,)


def obs_index(obs: np.ndarray, nvec: np.ndarray) -> np.ndarray:
    """Mixed-radix index of each observation row: int64 (B,)."""
    idx = np.zeros(len(obs), dtype=np.int64)
    for j, r in enumerate(np.asarray(nvec, dtype=np.int64)):
        idx = idx * r + np.asarray(obs)[:, j]
    return idx


class TabularQ:
    """Q(s, a) over every observation of a ``MultiDiscrete`` space; greedy ties broken at random."""

    def __init__(self, nvec: np.ndarray, n_actions: int):
        self.nvec = np.asarray(nvec, dtype=np.int64)
        n = int(np.prod(self.nvec))
        if n > 5_000_000:
            raise ValueError(f"observation space too large for a table ({n} states)")
        self.q = np.zeros((n, n_actions))
        self.steps = 0  # transitions learned from

    def act(self, obs: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
        q = self.q[obs_index(obs, self.nvec)]
        greedy = np.argmax(q + 1e-9 * rng.random(q.shape), axis=1)  # random among (near-)ties
        explore = rng.random(len(q)) < epsilon
        return np.where(explore, rng.integers(0, q.shape[1], len(q)), greedy)

    def learn(
        self,
        venv,
        reward: RewardFn,
        steps: int,
        rng: np.random.Generator,
        *,
        epsilon: float = 0.2,
        alpha: float = 0.5,
        gamma: float = 0.9,
        seed: int | None = None,
    ) -> dict[str, float]:
        """``steps`` vector steps of ε-greedy one-step Q-learning; returns a summary of the reward seen."""
        obs, _ = venv.reset(seed=seed)
        restarting = np.zeros(len(obs), dtype=bool)
        seen = []
        for _ in range(steps):
            a = self.act(obs, epsilon, rng)
            nxt, _env_reward, term, trunc, _ = venv.step(a)
            learn = ~restarting
            r = reward(nxt)
            s, s2 = obs_index(obs[learn], self.nvec), obs_index(nxt[learn], self.nvec)
            target = r[learn] + gamma * self.q[s2].max(axis=1) * ~np.asarray(term)[learn]
            # Duplicated (s, a) pairs in one batch share the mean of their TD errors (one update, not several).
            flat = s * self.q.shape[1] + a[learn]
            delta = np.bincount(flat, target - self.q[s, a[learn]], self.q.size)
            count = np.bincount(flat, minlength=self.q.size)
            hit = count > 0
            self.q.reshape(-1)[hit] += alpha * delta[hit] / count[hit]
            self.steps += int(learn.sum())
            seen.append(float(r[learn].mean()) if learn.any() else 0.0)
            restarting = np.asarray(term) | np.asarray(trunc)
            obs = nxt
        return {"transitions": self.steps, "mean_reward": float(np.mean(seen)) if seen else 0.0}


def rollout(venv, policy: Callable[[np.ndarray], np.ndarray], seed: int | None = None) -> np.ndarray:
    """One episode in every sub-env from a fresh reset: observations (num_envs, T+1, D). Episodes must end
    together (fixed horizon, as in the camera env)."""
    obs, _ = venv.reset(seed=seed)
    frames = [obs]
    while True:
        obs, _, term, trunc, _ = venv.step(policy(obs))
        frames.append(obs)
        done = np.asarray(term) | np.asarray(trunc)
        if done.all():
            return np.stack(frames, axis=1)
        if done.any():
            raise ValueError("rollout: sub-envs ended at different steps; use a fixed-horizon env")


def plan(
    next_index: np.ndarray, reward: np.ndarray, gamma: float, tol: float = 1e-8, max_iter: int = 10_000
) -> np.ndarray:
    """The exact optimum of a reward on a known deterministic transition table, by value iteration.

    ``next_index`` (S, A): the next state of each (state, action); ``reward`` (S,): the reward on arriving.
    Returns Q* (S, A) with Q*(s, a) = r(s') + γ max_a' Q*(s', a'), s' = next_index[s, a] — the limit of RL
    pressure on that reward."""
    q = np.zeros(next_index.shape)
    for _ in range(max_iter):
        v = q.max(axis=1)
        new = reward[next_index] + gamma * v[next_index]
        if np.max(np.abs(new - q)) < tol:
            return new
        q = new
    return q
