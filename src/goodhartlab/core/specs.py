"""Reward specs and intended goals as data, over the named transition features of a :class:`FiniteMDP`.

A :class:`RewardSpec` is what a learner is trained on (the proxy). An
:class:`IntendedGoal` is the gold: a lexicographic list of stages, each
optimized among the policies optimal for the stages before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from goodhartlab.core.mdp import FiniteMDP


@dataclass(frozen=True)
class RewardSpec:
    """Per-transition reward = sum of weight × feature, discounted by ``gamma`` per step."""

    name: str
    weights: dict[str, float]
    gamma: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma}")

    def rewards(self, mdp: FiniteMDP) -> np.ndarray:
        r = np.zeros_like(mdp.t_prob)
        for name, w in self.weights.items():
            r = r + w * mdp.feature(name)
        return r


@dataclass(frozen=True)
class Stage:
    """One lexicographic stage of an intended goal.

    ``maximize_event``: maximize the probability that a transition with feature ``event`` occurs.
    ``minimize_count_to_event``: among those, minimize E[(number of ``count`` transitions) · 1{event}],
    i.e. the expected count on the way to the event (the previous stage must maximize the same event).
    """

    description: str
    kind: Literal["maximize_event", "minimize_count_to_event"]
    event: str
    count: str | None = None


@dataclass(frozen=True)
class IntendedGoal:
    name: str
    stages: tuple[Stage, ...] = field(default_factory=tuple)
