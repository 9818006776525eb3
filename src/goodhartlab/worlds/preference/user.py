"""A user with preferences over a few topics that move toward what a recommender shows them.

The rules (issue 13, after Carroll et al. 2022, arXiv 2204.11966, and Evans & Kasirzadeh 2021,
arXiv 2109.04083):

- preferences ``u_t`` lie on the simplex over K topics;
- showing topic a pulls them toward it: ``u_{t+1} = (u_t + η·e_a) / (1 + η)``;
- the user clicks with probability ``σ(α·u_t[a] + b_a)``; one topic (the last, by convention) has a larger
  bias b, so a higher click ceiling ``σ(α + b_a)``: it is easy to click, not more liked;
- the **natural shift** is the path the preferences would follow under a uniformly random recommender. Since
  the pull is linear in u, its mean is exactly ``ū_{t+1} = (ū_t + η/K·1) / (1 + η)``, a deterministic path;
  that mean path is what "natural preferences" means everywhere here.

The signals of one shown topic a at step t:

- proxy: the click (what an engagement recommender is trained on);
- rater: the shifted user's own satisfaction ``u_t[a]``: how much the user, as they now are, likes it.
  It endorses a manipulation, because the manipulated user does like what they were pushed toward;
- gold: satisfaction under the natural preferences, ``ū_t[a]``, and the induced shift
  ``TV(u_T, ū_T) = ½·Σ|u_T − ū_T|`` at the end of the episode.

Arrays: a preference vector has shape (..., K); functions broadcast over leading axes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class UserModel:
    """The preference dynamics and the click model of one kind of user.

    ``eta``: pull of one shown item (η ≥ 0); ``alpha``: click slope in the preference weight;
    ``bias``: click bias b per topic (its length is the number of topics K).
    """

    eta: float
    alpha: float
    bias: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.eta < 0:
            raise ValueError(f"eta must be >= 0, got {self.eta}")
        if len(self.bias) < 2:
            raise ValueError(f"bias needs one value per topic, at least 2 topics, got {self.bias}")

    @property
    def topics(self) -> int:
        return len(self.bias)

    def respond(self, u: np.ndarray, a: int) -> np.ndarray:
        """The preferences after topic ``a`` is shown: ``(u + η·e_a) / (1 + η)``; shape of ``u``."""
        out = np.array(u, dtype=float, copy=True)
        out[..., a] += self.eta
        return out / (1.0 + self.eta)

    def natural_step(self, u: np.ndarray) -> np.ndarray:
        """The mean of :meth:`respond` over a uniformly random topic: ``(u + η/K) / (1 + η)``."""
        return (np.asarray(u, dtype=float) + self.eta / self.topics) / (1.0 + self.eta)

    def natural_path(self, u0: np.ndarray, horizon: int) -> np.ndarray:
        """ū_0 .. ū_T under the uniform recommender; shape (horizon + 1, K)."""
        path = [np.asarray(u0, dtype=float)]
        for _ in range(horizon):
            path.append(self.natural_step(path[-1]))
        return np.stack(path)

    def click_prob(self, u: np.ndarray, a: int) -> np.ndarray:
        """P(click | preferences u, topic a) = σ(α·u[a] + b_a); shape of ``u`` without its last axis."""
        return sigmoid(self.alpha * np.asarray(u, dtype=float)[..., a] + self.bias[a])


def satisfaction(u: np.ndarray, a: int) -> np.ndarray:
    """How much a user with preferences ``u`` likes topic ``a``: its preference weight u[a]."""
    return np.asarray(u, dtype=float)[..., a]


def shift(u: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Total-variation distance ½·Σ|u − reference| between two preference vectors, in [0, 1]."""
    return 0.5 * np.abs(np.asarray(u, dtype=float) - np.asarray(reference, dtype=float)).sum(axis=-1)


def draw_users(n: int, topics: int, concentration: float, rng: np.random.Generator) -> np.ndarray:
    """Initial preferences of ``n`` independent users, Dirichlet(concentration·1); shape (n, topics)."""
    if concentration <= 0:
        raise ValueError(f"concentration must be > 0, got {concentration}")
    return rng.dirichlet(np.full(topics, float(concentration)), size=n)
