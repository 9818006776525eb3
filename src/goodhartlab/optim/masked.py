"""Helpers shared by learners on Gymnasium envs whose Dict observation carries an ``action_mask``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces

Policy = Callable[[dict], int]


def obs_key(obs: dict[str, Any]) -> bytes:
    """A hashable key for everything in the observation except the mask."""
    return b"|".join(np.asarray(obs[k]).tobytes() for k in sorted(obs) if k != "action_mask")


def feature_space(space: spaces.Dict) -> spaces.Dict:
    return spaces.Dict({k: v for k, v in space.spaces.items() if k != "action_mask"})


def argmax_legal(values: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> int:
    """The best legal action, ties broken uniformly at random."""
    v = np.where(mask.astype(bool), values, -np.inf)
    best = np.flatnonzero(v >= v.max() - 1e-12)
    return int(best[0] if len(best) == 1 else rng.choice(best))


def random_legal(mask: np.ndarray, rng: np.random.Generator) -> int:
    return int(rng.choice(np.flatnonzero(mask)))
