"""A simulated rater: gold's formula applied to what the rater perceives, then a Boltzmann choice.

The rater perceives an answer through its loopholes (see :class:`Loopholes`), scores the perceived parts
with the gold formula plus the loopholes' likes, and prefers answer a over b with probability
``sigmoid((score_a - score_b) / temperature)`` (Bradley–Terry / Boltzmann-rational choice; temperature 0
= always the higher score, ties by a fair coin). With no loopholes the score equals gold exactly.

Graded loopholes: which misconceptions the rater believes is drawn once per fact (``belief_seed``); citation
checking and noticing costs enter as expectations over the rater's checks, so a score is a number, not a draw.
The class implements :class:`goodhartlab.core.parts.Rater` (``score`` and ``prefer`` over batches).
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import numpy as np
from scipy.special import expit

from goodhartlab.raters.critique import critique_citations
from goodhartlab.raters.loopholes import Loopholes
from goodhartlab.worlds.qa.gold import AnswerParts, Citation, score_parts


class Rater:
    """``score(question_ids, answers) -> [B]``, ``prefer(question_ids, a, b) -> P(a preferred) [B]``,
    ``choose(question_ids, a, b, rng) -> 1 where a is picked [B]``."""

    def __init__(
        self,
        world,
        loopholes: Loopholes,
        temperature: float,
        assisted: bool = False,
        belief_seed: int = 0,
    ):
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        self.world = world
        self.loopholes = loopholes
        self.temperature = float(temperature)
        self.assisted = assisted
        gold = world.gold_scorer()
        self._kb = gold.kb
        self._weights = gold.weights
        # One uniform per fact: the rater believes fact f's misconception iff u_f < misconception_belief, so a
        # stronger belief fools it on a superset of facts.
        u = np.random.default_rng([int(belief_seed), 20261201]).random(len(world.questions))
        self.believed = frozenset(
            q
            for q, f in self._kb.facts.items()
            if f.misconception is not None and u[q] < loopholes.misconception_belief
        )
        self._score = lru_cache(maxsize=1 << 17)(self._score_uncached)

    def perceive(self, question_id: int, answer: str, checks: bool = True, notices: bool = True) -> AnswerParts:
        """The answer's parts as this rater sees them, when it checks citations (``checks``) and notices costs
        (``notices``) or not."""
        lh = self.loopholes
        toks = answer.split()
        if lh.reads_first_k is not None:
            toks = toks[: lh.reads_first_k]
        text = " ".join(toks)
        p = self.world.parse(question_id, text)
        if p.kind == "fact" and question_id in self.believed:
            flip = {"misconception": "true", "true": "false"}
            p = dataclasses.replace(p, claim_status=flip.get(p.claim_status, p.claim_status))
        if p.kind == "choice" and not notices:
            status = p.claim_status
            if status in ("true", "misconception", "false"):
                status = "true" if p.claim == self._kb.choices[question_id].popular else "false"
            p = dataclasses.replace(p, claim_status=status, cost_notes=())
        if self.assisted:
            verdicts = critique_citations(self.world, question_id, text).checks
            status = {
                "supports": "valid",
                "missing": "fabricated",
                "unrelated": "mismatched",
            }
            p = dataclasses.replace(p, citations=tuple(Citation(s, n, status[v]) for s, n, v in verdicts))
        elif not checks:
            p = dataclasses.replace(
                p,
                citations=tuple(Citation(c.source, c.number, "valid") for c in p.citations),
            )
        return p

    def _likes(self, p: AnswerParts) -> float:
        lh = self.loopholes
        return (
            lh.confidence_bonus * (p.n_confident - p.n_hedges)
            + lh.flattery_bonus * (p.n_flattery + 0.5 * p.n_filler)
            + lh.offer_susceptibility * p.n_manipulation
        )

    def _score_uncached(self, question_id: int, answer: str) -> float:
        lh = self.loopholes
        s = 0.0
        # Expectation over whether this reading checks the citations and notices the costs.
        for checks, pc in ((True, lh.citation_check), (False, 1 - lh.citation_check)):
            for notices, pn in ((True, lh.cost_notice), (False, 1 - lh.cost_notice)):
                if pc * pn > 0:
                    p = self.perceive(question_id, answer, checks, notices)
                    s += pc * pn * (score_parts(p, self._weights) + self._likes(p))
        return float(s)

    def score_one(self, question_id: int, answer: str) -> float:
        return self._score(int(question_id), answer)

    def score(self, question_ids, answers, rng: np.random.Generator | None = None) -> np.ndarray:
        """How good each answer looks to the rater, [B] (deterministic; ``rng`` unused)."""
        return np.array([self.score_one(q, a) for q, a in zip(question_ids, answers)], dtype=float)

    def prefer(self, question_ids, a_list, b_list, rng: np.random.Generator | None = None) -> np.ndarray:
        """P(a preferred over b) per pair, [B]."""
        if not (len(question_ids) == len(a_list) == len(b_list)):
            raise ValueError("question_ids, a_list and b_list must have the same length")
        diff = self.score(question_ids, a_list) - self.score(question_ids, b_list)
        if self.temperature == 0:
            return np.where(diff > 0, 1.0, np.where(diff < 0, 0.0, 0.5))
        return expit(diff / self.temperature)

    def choose(self, question_ids, a_list, b_list, rng: np.random.Generator) -> np.ndarray:
        """The rater's picks: int array, 1 where a is preferred. One uniform draw per pair."""
        p = self.prefer(question_ids, a_list, b_list)
        return (rng.random(len(p)) < p).astype(int)


def build_rater(
    world,
    loopholes: Loopholes,
    temperature: float,
    assisted: bool = False,
    belief_seed: int = 0,
) -> Rater:
    """A rater for ``world``. ``assisted``: citations are judged by a critique that looks them up."""
    return Rater(world, loopholes, temperature, assisted, belief_seed)
