"""A user's rater plugin for the tests: prefers shorter answers (implements goodhartlab.core.parts.Rater)."""

import numpy as np


class ShortAnswerRater:
    def __init__(self, **_built_with):  # world=, loopholes=, temperature=, ... are offered; this rater needs none
        self.built_with = _built_with

    def score(self, situations, behaviours, rng=None) -> np.ndarray:
        return -np.array([len(b.split()) for b in behaviours], dtype=float)

    def prefer(self, situations, first, second, rng=None) -> np.ndarray:
        d = self.score(situations, first) - self.score(situations, second)
        return np.where(d > 0, 1.0, np.where(d < 0, 0.0, 0.5))
