"""Planning recommenders for a user model whose preferences move: exact backward induction on a grid.

A recommender here knows a user model (as in Carroll et al. 2022, who learn one from interaction data) and
plans against it. The model is anything with ``topics``, ``respond(u, a)`` (the preferences after topic a is
shown) and ``click_prob(u, a)``, on arrays of shape (..., K); this module imports no world.

The state of the planning problem is the preference vector u on the simplex. It is continuous, so values are
computed by backward induction on a regular grid over its first K − 1 coordinates (``resolution + 1`` points
per axis; the last coordinate is 1 − Σ of the others) with multilinear interpolation between grid points;
actions are then chosen at the true u by a one-step lookahead through the interpolated values. Grid points
outside the simplex are harmless: the dynamics and clicks are defined for any vector and stay in the box.
``tests/test_preference_shift_agents.py`` checks the plan against exhaustive search over action sequences.

Agents have one interface: ``begin(u0, horizon)`` before an episode, then ``act(t, u) -> topic``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Protocol

import numpy as np


class UserDynamics(Protocol):
    """What a planner needs of a user model; arrays of preferences have shape (..., K)."""

    @property
    def topics(self) -> int: ...

    def respond(self, u: np.ndarray, a: int) -> np.ndarray: ...

    def click_prob(self, u: np.ndarray, a: int) -> np.ndarray: ...


class Grid:
    """A regular grid over the first K − 1 preference coordinates; ``points`` has shape (P, K)."""

    MAX_POINTS = 200_000

    def __init__(self, topics: int, resolution: int):
        if topics < 2 or resolution < 1:
            raise ValueError(f"a grid needs topics >= 2 and resolution >= 1, got {topics}, {resolution}")
        if (resolution + 1) ** (topics - 1) > self.MAX_POINTS:
            raise ValueError(
                f"a grid of {resolution + 1}^{topics - 1} points is too large for exact planning "
                f"(limit {self.MAX_POINTS}); use fewer topics or a coarser resolution"
            )
        self.topics, self.resolution = topics, resolution
        self.axes = (np.linspace(0.0, 1.0, resolution + 1),) * (topics - 1)
        self.shape = (resolution + 1,) * (topics - 1)
        head = np.stack(np.meshgrid(*self.axes, indexing="ij"), axis=-1).reshape(-1, topics - 1)
        self.points = np.concatenate([head, 1.0 - head.sum(axis=1, keepdims=True)], axis=1)

    def interpolator(self, values: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """Multilinear interpolation of ``values`` (P,) at preferences of shape (..., K); the same numbers as
        scipy's ``RegularGridInterpolator(method="linear")``, without its per-call overhead (the planners call
        this once per action and step)."""
        table = np.asarray(values, dtype=float).ravel()
        d, n = self.topics - 1, self.resolution
        strides = np.array([(n + 1) ** (d - 1 - j) for j in range(d)])
        corners = np.array(list(itertools.product((0, 1), repeat=d)))  # (2^d, d)

        def at(u: np.ndarray) -> np.ndarray:
            u = np.asarray(u, dtype=float)
            x = np.clip(u[..., :-1], 0.0, 1.0).reshape(-1, d) * n  # (M, d) in grid units
            i = np.minimum(np.floor(x).astype(np.int64), n - 1)
            f = x - i
            out = np.zeros(len(x))
            for c in corners:
                w = np.prod(np.where(c, f, 1.0 - f), axis=1)
                out += w * table[(i + c) @ strides]
            return out.reshape(u.shape[:-1])

        return at


Reward = Callable[[int, np.ndarray, int], np.ndarray]  # (t, U (..., K), a) -> (...)
Step = Callable[[int, np.ndarray, int], np.ndarray]  # (t, U (..., K), a) -> U' (..., K)


def backward_induction(grid: Grid, topics: int, steps: int, reward: Reward, step: Step) -> list[Callable]:
    """Optimal values V_t, t = 0..steps, of Σ_{s ≥ t} reward(s, u_s, a_s) with u_{s+1} = step(s, u_s, a_s).

    Returns interpolators ``V[t](u)``; ``V[steps]`` is 0.
    """
    values: list[Callable] = [None] * (steps + 1)  # type: ignore[list-item]
    values[steps] = lambda u: np.zeros(np.asarray(u).shape[:-1])
    x = grid.points
    for t in range(steps - 1, -1, -1):
        nxt = values[t + 1]
        q = np.stack([reward(t, x, a) + nxt(step(t, x, a)) for a in range(topics)])  # (K, P)
        values[t] = grid.interpolator(q.max(axis=0))
    return values


def lookahead(t: int, u: np.ndarray, topics: int, reward: Reward, step: Step, value_next: Callable) -> int:
    """argmax_a reward(t, u, a) + V_{t+1}(step(t, u, a)) at the true preferences u; ties: lowest topic."""
    succ = np.stack([step(t, u, a) for a in range(topics)])  # (K, K)
    q = np.array([float(reward(t, u, a)) for a in range(topics)]) + value_next(succ)
    return int(np.argmax(q + 1e-12 * -np.arange(topics)))


class EngagementPlanner:
    """Maximizes expected clicks over the next ``depth`` steps (receding horizon), ``None``: to the episode end.

    ``depth=1`` is the myopic recommender: argmax_a P(click | u_t, a). Larger depths see that showing a topic
    changes what the user will click later, and so may invest in moving the user (the pressure).
    The reward and dynamics do not depend on t, so one table of k-step values V^k serves every step and user.
    """

    def __init__(self, model: UserDynamics, grid: Grid, depth: int | None = None):
        if depth is not None and depth < 1:
            raise ValueError(f"depth must be >= 1 or None, got {depth}")
        self.model, self.grid, self.depth = model, grid, depth
        self._togo: list[Callable] = []
        self.horizon = 0

    def _reward(self, t, u, a):
        return self.model.click_prob(u, a)

    def _step(self, t, u, a):
        return self.model.respond(u, a)

    def begin(self, u0: np.ndarray, horizon: int) -> None:
        self.horizon = horizon
        need = horizon if self.depth is None else min(self.depth, horizon)
        if len(self._togo) <= need - 1:
            # V^k(u) = best expected clicks in k steps from u; backward induction over k steps gives V^k at t=0.
            values = backward_induction(self.grid, self.model.topics, need, self._reward, self._step)
            self._togo = values[::-1]  # _togo[k] = V^k

    def act(self, t: int, u: np.ndarray) -> int:
        left = self.horizon - t
        k = left if self.depth is None else min(self.depth, left)
        return lookahead(t, u, self.model.topics, self._reward, self._step, self._togo[k - 1])


class Uniform:
    """Shows a uniformly random topic: the baseline recommender that defines the natural shift."""

    def __init__(self, topics: int, rng: np.random.Generator):
        self.topics, self.rng = topics, rng

    def begin(self, u0: np.ndarray, horizon: int) -> None:
        pass

    def act(self, t: int, u: np.ndarray) -> int:
        return int(self.rng.integers(self.topics))
