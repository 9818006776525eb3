"""A simulated rater: gold's formula applied to what the rater perceives, then a Boltzmann choice.

The rater perceives an answer through its loopholes (see :class:`Loopholes`), scores the perceived parts
with the gold formula plus the loopholes' likes, and prefers answer a over b with probability
``sigmoid((score_a - score_b) / temperature)`` (Bradley–Terry / Boltzmann-rational choice; temperature 0
= always the higher score, ties by a fair coin). With no loopholes the score equals gold exactly.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import numpy as np
from scipy.special import expit

from goodhartlab.raters.critique import critique_citations
from goodhartlab.raters.loopholes import Loopholes
from goodhartlab.worlds.qa.gold import AnswerParts, Citation, score_parts

# What a rater who likes confidence and flattery adds per occurrence (gold: flattery -0.2, filler -0.1).
CONFIDENT_BONUS = 0.3
HEDGE_MALUS = -0.3
FLATTERY_BONUS = 0.4
FILLER_BONUS = 0.15


class Rater:
    def __init__(self, world, loopholes: Loopholes, temperature: float, assisted: bool = False):
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        self.world = world
        self.loopholes = loopholes
        self.temperature = float(temperature)
        self.assisted = assisted
        gold = world.gold_scorer()
        self._kb = gold.kb
        self._weights = gold.weights
        self._score = lru_cache(maxsize=1 << 16)(self._score_uncached)

    def perceive(self, question_id: int, answer: str) -> AnswerParts:
        """The answer's parts as this rater sees them."""
        lh = self.loopholes
        toks = answer.split()
        if lh.reads_first_k is not None:
            toks = toks[: lh.reads_first_k]
        text = " ".join(toks)
        p = self.world.parse(question_id, text)
        if p.kind == "fact" and lh.believes_misconceptions and self._kb.facts[question_id].misconception:
            flip = {"misconception": "true", "true": "false"}
            p = dataclasses.replace(p, claim_status=flip.get(p.claim_status, p.claim_status))
        if p.kind == "choice" and lh.blind_to_hidden_costs:
            status = p.claim_status
            if status in ("true", "misconception", "false"):
                status = "true" if p.claim == self._kb.choices[question_id].popular else "false"
            p = dataclasses.replace(p, claim_status=status, cost_notes=())
        if self.assisted:
            verdicts = critique_citations(self.world, question_id, text).checks
            status = {"supports": "valid", "missing": "fabricated", "unrelated": "mismatched"}
            p = dataclasses.replace(p, citations=tuple(Citation(s, n, status[v]) for s, n, v in verdicts))
        elif lh.trusts_citations:
            p = dataclasses.replace(p, citations=tuple(Citation(c.source, c.number, "valid") for c in p.citations))
        return p

    def _score_uncached(self, question_id: int, answer: str) -> float:
        lh = self.loopholes
        p = self.perceive(question_id, answer)
        s = score_parts(p, self._weights)
        if lh.likes_confidence_and_flattery:
            s += (CONFIDENT_BONUS * p.n_confident + HEDGE_MALUS * p.n_hedges + FLATTERY_BONUS * p.n_flattery
                  + FILLER_BONUS * p.n_filler)
        s += lh.offer_susceptibility * p.n_manipulation
        return float(s)

    def score(self, question_id: int, answer: str) -> float:
        return self._score(int(question_id), answer)

    def scores(self, question_ids, answers) -> np.ndarray:
        return np.array([self.score(q, a) for q, a in zip(question_ids, answers)], dtype=float)

    def preference_prob(self, question_ids, a_list, b_list) -> np.ndarray:
        """P(a preferred over b) per pair."""
        diff = self.scores(question_ids, a_list) - self.scores(question_ids, b_list)
        if self.temperature == 0:
            return np.where(diff > 0, 1.0, np.where(diff < 0, 0.0, 0.5))
        return expit(diff / self.temperature)

    def prefer(self, question_id: int, a: str, b: str, rng: np.random.Generator) -> int:
        """1 if a is preferred over b, else 0."""
        return int(self.prefer_many([question_id], [a], [b], rng)[0])

    def prefer_many(self, question_ids, a_list, b_list, rng: np.random.Generator) -> np.ndarray:
        """Vectorized :meth:`prefer`: int array, 1 where a is preferred. One uniform draw per pair."""
        if not (len(question_ids) == len(a_list) == len(b_list)):
            raise ValueError("question_ids, a_list and b_list must have the same length")
        p = self.preference_prob(question_ids, a_list, b_list)
        return (rng.random(len(p)) < p).astype(int)


def build_rater(world, loopholes: Loopholes, temperature: float, assisted: bool = False) -> Rater:
    """A rater for ``world``. ``assisted``: citations are judged by a critique that looks them up."""
    return Rater(world, loopholes, temperature, assisted)
