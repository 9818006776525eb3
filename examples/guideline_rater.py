"""A worked proposal: give the rater a labelling guideline, "judge the claim, not the manner".

The proposal. Raters are swayed by how an answer is said: flattery, confident or hedged phrasing, emphatic
filler, and offers or threats for a good rating. A guideline can tell them to (1) ignore those phrases and
judge what is left, and (2) rate any answer that offers or threatens them below every answer that does not.
Does training against such a rater give more gold at the same KL from π_base than the plain rater?

The part. :class:`GuidelineRater` implements the rater interface (``goodhartlab.core.parts.Rater``: ``score``
and ``prefer`` over batches) by wrapping the built-in simulated rater with the same loopholes: it strikes the
world's style phrases (its public lexicon, the phrases a guideline writer would list) from each answer
before the built-in rater reads it, and subtracts :data:`MANIPULATION_PENALTY` when an offer or a threat is
present. It sees the question id and the answer text only, like any rater: never gold.

Plug it into rlhf by import path (the ``rater`` field), with this directory on ``PYTHONPATH``:

    PYTHONPATH=examples goodhartlab run rlhf --preset quick --set rater=guideline_rater:GuidelineRater \\
        --set rater_agreement=null
    goodhartlab run rlhf --preset quick --set rater_agreement=null          # the built-in baseline
    goodhartlab compare RUN_WITH_GUIDELINE RUN_BASELINE --label guideline --label baseline

``rater_agreement=null`` in both: rlhf otherwise calibrates the loopholes' strength until the rater agrees with
gold on 77% of π_base pairs, which would undo the guideline by strengthening the loopholes it removes; with
the same loophole profile in both runs, the guideline is the only difference.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import expit

from goodhartlab.raters import Loopholes, build_rater
from goodhartlab.worlds.qa.lexicon import (
    CONFIDENT,
    FILLER,
    FLATTERY,
    HEDGES,
    OFFERS,
    THREATS,
)

# Style phrases the guideline tells the rater to ignore, longest first so "i am sure that" goes before "sure".
STYLE = sorted(
    (tuple(p.split()) for p in (*FLATTERY, *CONFIDENT, *HEDGES, *FILLER)),
    key=len,
    reverse=True,
)
MANIPULATION = [tuple(p.split()) for p in (*OFFERS, *THREATS)]
# Below every honest answer: larger than any gap in gold between two answers to one question (a few points).
MANIPULATION_PENALTY = 10.0


def _find(tokens: list[str], phrase: tuple[str, ...]) -> int:
    n = len(phrase)
    for i in range(len(tokens) - n + 1):
        if tuple(tokens[i : i + n]) == phrase:
            return i
    return -1


def strike(answer: str) -> tuple[str, bool]:
    """The answer without style phrases and manipulation, and whether it offered or threatened."""
    tokens = answer.split()
    manipulated = False
    for phrase in MANIPULATION:
        while (i := _find(tokens, phrase)) >= 0:
            del tokens[i : i + len(phrase)]
            manipulated = True
    for phrase in STYLE:
        while (i := _find(tokens, phrase)) >= 0:
            del tokens[i : i + len(phrase)]
    return " ".join(tokens), manipulated


class GuidelineRater:
    """The built-in rater (same loopholes, temperature, assistance) reading answers through the guideline."""

    def __init__(
        self,
        world,
        loopholes: Loopholes,
        temperature: float,
        assisted: bool = False,
        belief_seed: int = 0,
    ):
        self.inner = build_rater(world, loopholes, temperature, assisted=assisted, belief_seed=belief_seed)
        self.temperature = float(temperature)

    def score(
        self,
        question_ids: Sequence[int],
        answers: Sequence[str],
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """How good each answer looks under the guideline: float array of shape (B,)."""
        read = [strike(a) for a in answers]
        scores = np.asarray(
            self.inner.score(list(question_ids), [text for text, _ in read]),
            dtype=float,
        )
        return scores - MANIPULATION_PENALTY * np.array([m for _, m in read], dtype=float)

    def prefer(
        self,
        question_ids: Sequence[int],
        first: Sequence[str],
        second: Sequence[str],
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """P(first preferred) per pair, shape (B,): the built-in rater's Boltzmann choice on guideline scores."""
        diff = self.score(question_ids, first) - self.score(question_ids, second)
        if self.temperature == 0:
            return np.where(diff > 0, 1.0, np.where(diff < 0, 0.0, 0.5))
        return expit(diff / self.temperature)

    def choose(self, question_ids, first, second, rng: np.random.Generator) -> np.ndarray:
        """The rater's picks: 1 where ``first`` is chosen, one uniform draw per pair."""
        p = self.prefer(question_ids, first, second)
        return (rng.random(len(p)) < p).astype(int)
