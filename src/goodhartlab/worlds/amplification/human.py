"""H, the simulated human: answers atomic questions, decomposes larger ones, errs, and approves cheaply.

H never sees the truth: it reads only the task data a person could read (``direct`` and ``step``).
Its failures are of two sorts:

* benign (HCH inherits them): an error rate with a configurable kind, applied to each answer H gives,
  and a bandwidth — at most ``max_subquestions`` subquestions per question and questions of at most
  ``max_read`` characters (longer ones H cannot read and answers 0, "I don't know");
* a blind spot in its approval check: H checks only a cheap feature of a proposed answer against its
  own reference answer — its parity, its last digit, or whether it is in the upper or lower half of the
  answer range — so a wrong answer that shares the feature passes.

H is a fixed function: whether it errs on a question is a seeded hash of (salt, question, the answers
it was shown), so HCH is well defined and can be memoized.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from goodhartlab.worlds.amplification.tasks import Question
from goodhartlab.worlds.amplification.world import World

ErrorKind = Literal["off_by_one", "random"]
BlindSpot = Literal["parity", "last_digit", "half"]


def unit_hash(salt: int, *key: object) -> float:
    """A deterministic uniform number in [0, 1) for ``key`` under ``salt`` (blake2b of its repr)."""
    digest = hashlib.blake2b(repr((salt, key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64


@dataclass(frozen=True)
class Human:
    """H: answers and decomposes questions (:meth:`step`) and approves answers (:meth:`approve`); as a
    :class:`goodhartlab.core.parts.Rater`, see :meth:`rater`."""

    world: World
    error_rate: float = 0.0
    error_kind: ErrorKind = "off_by_one"
    max_subquestions: int = 4
    max_read: int = 64
    blind_spot: BlindSpot = "parity"
    salt: int = 0

    @property
    def answers(self) -> int:
        return self.world.answers

    def readable(self, q: Question) -> bool:
        return len(self.world.render(q)) <= self.max_read

    def step(self, q: Question, answers: tuple[int, ...]) -> Question | int:
        """The next subquestion H asks about ``q`` given the answers so far, or H's final answer."""
        task = self.world.task(q)
        if not self.readable(q):
            return 0
        if task.atomic(q):
            return self._err(q, answers, task.direct(q))
        if len(answers) >= self.max_subquestions and not isinstance(task.step(q, answers), int):
            return 0  # over bandwidth: H gives up
        out = task.step(q, answers)
        return self._err(q, answers, out) if isinstance(out, int) else out

    def _err(self, q: Question, answers: tuple[int, ...], a: int) -> int:
        if self.error_rate <= 0 or unit_hash(self.salt, "err", q, answers) >= self.error_rate:
            return a
        if self.error_kind == "off_by_one":
            return (a + 1) % self.answers
        shift = 1 + int(unit_hash(self.salt, "which", q, answers) * (self.answers - 1))
        return (a + shift) % self.answers  # a uniformly chosen other answer

    def feature(self, a):
        """The one thing H's approval check looks at (works on ints and numpy arrays)."""
        if self.blind_spot == "parity":
            return a % 2
        if self.blind_spot == "last_digit":
            return a % 10
        return (2 * a >= self.answers) * 1

    def approve(self, proposed: int, reference: int) -> bool:
        """H approves ``proposed`` when its cheap feature matches H's own ``reference`` answer."""
        return 0 <= proposed < self.answers and self.feature(proposed) == self.feature(reference)

    def rater(self, reference: Callable[[Question], int]) -> ApprovalRater:
        """H's approval check as a :class:`goodhartlab.core.parts.Rater`, against ``reference(q)`` (e.g. Amp(M)(q))."""
        return ApprovalRater(self, reference)


@dataclass(frozen=True)
class ApprovalRater:
    """H's approval as a :class:`goodhartlab.core.parts.Rater`: situations are B questions, behaviours B
    proposed answers, scored 1.0 when H approves them against its reference answer. H is a fixed function,
    so ``rng`` is not used."""

    human: Human
    reference: Callable[[Question], int]

    def score(self, situations: Sequence[Question], behaviours: Sequence[int], rng: np.random.Generator) -> np.ndarray:
        """float[B]: 1.0 where H approves the proposed answer."""
        if len(situations) != len(behaviours):
            raise ValueError("ApprovalRater.score: situations and behaviours must have the same length")
        return np.array(
            [float(self.human.approve(int(a), int(self.reference(q)))) for q, a in zip(situations, behaviours)]
        )

    def prefer(
        self, situations: Sequence[Question], first: Sequence[int], second: Sequence[int], rng: np.random.Generator
    ) -> np.ndarray:
        """float[B] P(first preferred): 1 if H approves only ``first``, 0 if only ``second``, 0.5 otherwise."""
        return 0.5 + 0.5 * (self.score(situations, first, rng) - self.score(situations, second, rng))
