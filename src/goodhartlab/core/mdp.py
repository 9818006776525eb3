"""A finite MDP as flat arrays, shared by worlds (which build them) and analysis (which solves them).

Transitions are stored as parallel arrays of length T; every transition carries
named features (e.g. ``x_win``, ``tamper``) from which reward specs and
intended goals compute per-transition rewards. State 0 is the absorbing end
state; ``initial`` is where episodes start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

END = 0


@dataclass(frozen=True)
class FiniteMDP:
    """Shapes: S states, A actions, T transitions.

    legal:   bool[S, A]   which actions exist in each state (END has none)
    t_state: int[T]       source state of each transition
    t_action:int[T]
    t_next:  int[T]       successor state (END for episode end)
    t_prob:  float[T]     P(next | state, action); sums to 1 over each legal (state, action)
    features: name -> float[T]
    labels:  S objects describing states (for display)
    """

    n_actions: int
    legal: np.ndarray
    t_state: np.ndarray
    t_action: np.ndarray
    t_next: np.ndarray
    t_prob: np.ndarray
    features: dict[str, np.ndarray]
    labels: list[Any]
    initial: int = 1
    action_names: tuple[str, ...] = field(default=())

    @property
    def n_states(self) -> int:
        return self.legal.shape[0]

    def feature(self, name: str) -> np.ndarray:
        if name not in self.features:
            raise KeyError(f"MDP has no feature '{name}'; it has {sorted(self.features)}")
        return self.features[name]

    def action_name(self, a: int) -> str:
        return self.action_names[a] if self.action_names else str(a)


class MDPBuilder:
    """Accumulates transitions state by state; ``build()`` returns the arrays."""

    def __init__(self, n_actions: int, feature_names: tuple[str, ...], action_names: tuple[str, ...] = ()):
        self.n_actions = n_actions
        self.feature_names = feature_names
        self.action_names = action_names
        self.index: dict[Any, int] = {"END": END}
        self.labels: list[Any] = ["END"]
        self.rows: list[tuple[int, int, int, float, tuple[float, ...]]] = []

    def state(self, key: Any) -> int:
        """The index of ``key``, allocating one if new."""
        idx = self.index.get(key)
        if idx is None:
            idx = self.index[key] = len(self.labels)
            self.labels.append(key)
        return idx

    def add(self, s: int, a: int, nxt: int, prob: float, **features: float) -> None:
        self.rows.append((s, a, nxt, prob, tuple(float(features.get(n, 0.0)) for n in self.feature_names)))

    def build(self, initial: int) -> FiniteMDP:
        rows = self.rows
        t_state = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        t_action = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        t_next = np.fromiter((r[2] for r in rows), dtype=np.int64, count=len(rows))
        t_prob = np.fromiter((r[3] for r in rows), dtype=np.float64, count=len(rows))
        feats = np.array([r[4] for r in rows], dtype=np.float64).reshape(len(rows), len(self.feature_names))
        legal = np.zeros((len(self.labels), self.n_actions), dtype=bool)
        legal[t_state, t_action] = True
        return FiniteMDP(
            n_actions=self.n_actions,
            legal=legal,
            t_state=t_state,
            t_action=t_action,
            t_next=t_next,
            t_prob=t_prob,
            features={n: feats[:, i] for i, n in enumerate(self.feature_names)},
            labels=self.labels,
            initial=initial,
            action_names=self.action_names,
        )
