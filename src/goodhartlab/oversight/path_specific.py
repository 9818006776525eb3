"""Two proposals against a recommender that changes what its user wants.

- :class:`PathSpecific` (Farquhar, Carey & Everitt 2022, "Path-specific objectives for safer agent
  incentives", arXiv 2204.10018): the user's preferences are *delicate* state. The agent's objective scores
  its recommendations by the clicks the user would give with the preferences they would have had under a
  baseline (here the uniform recommender: the natural path ū_t), so the causal path from its actions through
  u to later clicks is cut out of what it optimizes, and it has no incentive to move u.
- :class:`ShiftPenalty` (Carroll et al. 2022, arXiv 2204.11966, "safe shifts"): maximize expected clicks
  under the real, shifting preferences minus λ·TV(u_{t+1}, ū_{t+1}) per step, the distance from the shift the
  user would undergo without this recommender; λ trades engagement against the induced shift.

Both have the interface of :mod:`goodhartlab.optim.recommenders`: ``begin(u0, horizon)``, ``act(t, u)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from goodhartlab.optim.recommenders import (
    Grid,
    UserDynamics,
    backward_induction,
    lookahead,
)

NaturalStep = Callable[[np.ndarray], np.ndarray]  # ū_t (..., K) -> ū_{t+1} (..., K)


def natural_path(natural_step: NaturalStep, u0: np.ndarray, horizon: int) -> np.ndarray:
    """ū_0 .. ū_T; shape (horizon + 1, K)."""
    path = [np.asarray(u0, dtype=float)]
    for _ in range(horizon):
        path.append(np.asarray(natural_step(path[-1]), dtype=float))
    return np.stack(path)


class PathSpecific:
    """Maximizes Σ_t P(click | ū_t, a_t): clicks scored under the natural preferences.

    In the agent's objective u follows ū whatever it shows, so its model's transition ignores the action and
    backward induction collapses to a per-step argmax over ū_t: the plan is fixed at ``begin`` and uses
    neither the observed u nor ``model.respond`` (the response to its own actions), which a test checks by
    changing that response.
    """

    def __init__(self, model: UserDynamics, natural_step: NaturalStep):
        self.model, self.natural_step = model, natural_step
        self.plan: list[int] = []

    def begin(self, u0: np.ndarray, horizon: int) -> None:
        path = natural_path(self.natural_step, u0, horizon)
        k = self.model.topics
        self.plan = [
            int(np.argmax([float(self.model.click_prob(path[t], a)) for a in range(k)])) for t in range(horizon)
        ]

    def act(self, t: int, u: np.ndarray) -> int:  # u is deliberately unused: the cut path
        return self.plan[t]


def total_variation(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """½·Σ|u − v| over the last axis."""
    return 0.5 * np.abs(np.asarray(u, dtype=float) - np.asarray(v, dtype=float)).sum(axis=-1)


class ShiftPenalty:
    """Maximizes Σ_t [P(click | u_t, a_t) − λ·TV(u_{t+1}, ū_{t+1})] by backward induction on the grid.

    The natural path depends on the user's u_0, so the values are recomputed for each user (``begin``).
    ``lam = 0`` is the full-horizon engagement maximizer.
    """

    def __init__(self, model: UserDynamics, grid: Grid, natural_step: NaturalStep, lam: float):
        if lam < 0:
            raise ValueError(f"lam must be >= 0, got {lam}")
        self.model, self.grid, self.natural_step, self.lam = model, grid, natural_step, float(lam)
        self._values: list[Callable] = []
        self._natural = np.zeros((1, model.topics))

    def _reward(self, t, u, a):
        return self.model.click_prob(u, a) - self.lam * total_variation(self.model.respond(u, a), self._natural[t + 1])

    def _step(self, t, u, a):
        return self.model.respond(u, a)

    def begin(self, u0: np.ndarray, horizon: int) -> None:
        self._natural = natural_path(self.natural_step, u0, horizon)
        self._values = backward_induction(self.grid, self.model.topics, horizon, self._reward, self._step)

    def act(self, t: int, u: np.ndarray) -> int:
        return lookahead(t, u, self.model.topics, self._reward, self._step, self._values[t + 1])
