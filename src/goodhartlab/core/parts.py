"""The parts a user swaps, each behind a narrow interface (DESIGN.md, "Parts and their interfaces").

In the style of the imitation library's ``PreferenceGatherer`` and ``RewardTrainer``: a part is a
``typing.Protocol``, so any class with these methods fits without inheriting. A config names a part by import
path (``"my.module:MyRater"``), resolved by :func:`goodhartlab.core.imports.load_object`.

Shapes: ``B`` is a batch of situations (questions, images, states), one behaviour (answer, label, trajectory)
per situation unless said otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Rater(Protocol):
    """A simulated feedback source built from gold plus loopholes. It never sees anything a learner could not."""

    def score(self, situations: Sequence[Any], behaviours: Sequence[Any], rng: np.random.Generator) -> np.ndarray:
        """How good each behaviour looks to the rater: float array of shape (B,)."""
        ...

    def prefer(
        self, situations: Sequence[Any], first: Sequence[Any], second: Sequence[Any], rng: np.random.Generator
    ) -> np.ndarray:
        """P(first preferred over second) for each pair: float array of shape (B,), values in [0, 1]."""
        ...


@dataclass(frozen=True)
class Comparisons:
    """Pairwise judgements: situation i with behaviours ``first[i]`` and ``second[i]``; ``pick[i]`` is 1.0 when
    the rater chose ``first[i]`` (or P(first) for soft labels). All sequences have length B."""

    situations: Sequence[Any]
    first: Sequence[Any]
    second: Sequence[Any]
    pick: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.pick)
        if not (len(self.situations) == len(self.first) == len(self.second) == n):
            raise ValueError("Comparisons: situations, first, second and pick must have the same length")


@runtime_checkable
class Scorer(Protocol):
    """A learned reward: maps (situation, behaviour) pairs to scores of shape (B,)."""

    def __call__(self, situations: Sequence[Any], behaviours: Sequence[Any]) -> np.ndarray: ...


@runtime_checkable
class RewardModelTrainer(Protocol):
    """Comparisons in, a scorer out (Bradley–Terry or anything else)."""

    def fit(self, comparisons: Comparisons, rng: np.random.Generator) -> Scorer: ...


@dataclass
class Optimized:
    """What an optimizer returns: the optimized policy and its per-step history (one dict per step)."""

    policy: Any
    history: list[dict[str, float]] = field(default_factory=list)


@runtime_checkable
class PolicyOptimizer(Protocol):
    """Best-of-n, RLOO, DPO, ... behind one signature. ``signal`` is a :class:`Scorer` (best-of-n, RL) or
    :class:`Comparisons` (direct alignment); ``pressure`` is the optimizer's own knob (n, 1/β, steps)."""

    def optimize(
        self, base_policy: Any, signal: Scorer | Comparisons, pressure: float, rng: np.random.Generator
    ) -> Optimized: ...


@runtime_checkable
class EnvLearner(Protocol):
    """Q-learning, REINFORCE, PPO, ...: learns from a Gymnasium env (which carries no gold) only."""

    def learn(self, env: Any, rng: np.random.Generator) -> Optimized: ...
