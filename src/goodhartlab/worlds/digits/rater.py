"""A simulated labeller for digit images: the truth plus three loopholes (DESIGN.md's vocabulary).

- noise: with chance ``flip_rate`` the rater writes a uniformly chosen wrong label;
- ambiguity-blind: the rater never answers X for an ambiguous image; it names the (first) digit it sees
  in a superimposed pair, or the digit under a heavy occluder;
- swayed by offers: on a stamped image, with chance ``offer_sway`` it writes the digit the offer claims.

The rater reads the batch's truth fields because it is built from gold plus loopholes; a learner only
ever receives the rater's labels. As a :class:`goodhartlab.core.parts.Rater` the situations are a
:class:`DigitsBatch` of B images and a behaviour is a proposed label per image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from goodhartlab.worlds.digits.world import LABEL_X, DigitsBatch


@dataclass(frozen=True)
class NoisyRater:
    """Labels digit images (:meth:`label`); implements :class:`goodhartlab.core.parts.Rater` over proposed labels."""

    flip_rate: float = 0.1
    ambiguity_blind: bool = True
    offer_sway: float = 0.5

    def __post_init__(self) -> None:
        for name in ("flip_rate", "offer_sway"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"NoisyRater.{name} must be in [0, 1], got {v}")

    def label(self, batch: DigitsBatch, rng: np.random.Generator) -> np.ndarray:
        """int64[n] rater labels for ``batch`` (0..10)."""
        n = len(batch)
        out = batch.labels.copy()
        if self.ambiguity_blind:
            amb = (out == LABEL_X) & (batch.drawn[:, 0] >= 0)
            out[amb] = batch.drawn[amb, 0]
        sway = (batch.offer >= 0) & (rng.random(n) < self.offer_sway)
        out[sway] = batch.offer[sway]
        flip = rng.random(n) < self.flip_rate
        out[flip] = (out[flip] + rng.integers(1, LABEL_X + 1, int(flip.sum()))) % (LABEL_X + 1)  # a different label
        return out

    def score(self, situations: DigitsBatch, behaviours, rng: np.random.Generator) -> np.ndarray:
        """float[B]: 1.0 where the proposed label is the one the rater writes for that image, else 0.0."""
        proposed = np.asarray(behaviours)
        if proposed.shape != (len(situations),):
            raise ValueError(f"NoisyRater.score: expected {len(situations)} labels, got shape {proposed.shape}")
        return (self.label(situations, rng) == proposed).astype(float)

    def prefer(self, situations: DigitsBatch, first, second, rng: np.random.Generator) -> np.ndarray:
        """float[B] P(first label preferred): the rater labels each image once; 1 if only ``first`` matches,
        0 if only ``second`` does, 0.5 if both or neither."""
        said = self.label(situations, rng)
        a, b = np.asarray(first) == said, np.asarray(second) == said
        return 0.5 + 0.5 * (a.astype(float) - b.astype(float))
