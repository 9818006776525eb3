"""Tabular Q-learning with ε-greedy exploration over masked actions (Sutton & Barto 2018, §6.5).

The learner sees observations and rewards only. Truncation (a horizon) is not
a terminal state, so its target bootstraps; termination does not.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np

from goodhartlab.optim.masked import Policy, argmax_legal, obs_key, random_legal


class QTable:
    """Q-values by observation key; unseen keys start at ``init``."""

    def __init__(self, n_actions: int, init: float = 0.0):
        self.n_actions, self.init = n_actions, init
        self.values: dict[bytes, np.ndarray] = {}

    def __getitem__(self, key: bytes) -> np.ndarray:
        q = self.values.get(key)
        if q is None:
            q = self.values[key] = np.full(self.n_actions, self.init)
        return q

    def greedy(self, rng: np.random.Generator) -> Policy:
        def act(obs: dict) -> int:
            return argmax_legal(self[obs_key(obs)], obs["action_mask"], rng)

        return act


def train(
    env: gym.Env,
    episodes: int,
    epsilon: float,
    rng: np.random.Generator,
    alpha: float = 0.2,
    gamma: float = 0.95,
    q_init: float = 0.0,
    on_checkpoint: Callable[[int, QTable], None] | None = None,
    checkpoint_every: int = 0,
    env_seed: int = 0,
) -> QTable:
    """Run ``episodes`` episodes of ε-greedy Q-learning; call ``on_checkpoint(episodes_done, table)``."""
    q = QTable(env.action_space.n, q_init)
    obs, _ = env.reset(seed=env_seed)
    for ep in range(1, episodes + 1):
        if ep > 1:
            obs, _ = env.reset()
        key, done = obs_key(obs), False
        while not done:
            mask = obs["action_mask"]
            a = random_legal(mask, rng) if rng.random() < epsilon else argmax_legal(q[key], mask, rng)
            obs, reward, terminated, truncated, _ = env.step(a)
            nkey = obs_key(obs)
            if terminated:
                target = reward
            else:
                nq = q[nkey][obs["action_mask"].astype(bool)]
                target = reward + gamma * (nq.max() if nq.size else 0.0)
            row = q[key]
            row[a] += alpha * (target - row[a])
            key, done = nkey, terminated or truncated
        if on_checkpoint is not None and checkpoint_every and ep % checkpoint_every == 0:
            on_checkpoint(ep, q)
    return q
