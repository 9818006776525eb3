"""Debate with H as judge, small and honest: two debaters argue over one question by pointing at subquestions.

The liar claims a wrong answer and must back it with answers to H's subquestions that H's own combine step
turns into its claim; the honest debater points at the first subquestion whose backing answer is false, and
the debate recurses there, down to an atomic question, the one step H checks directly. The liar loses if it
cannot back its claim. The honest debater's claims are the true answers: debaters here are scripted
agents probing the judge, not learners. The liar precommits to a wrong answer that passes H's cheap check
when one exists, so that H alone (without debate) cannot tell the two claims apart.
"""

from __future__ import annotations

from collections.abc import Callable

from goodhartlab.worlds.amplification import Human, Question
from goodhartlab.worlds.amplification.human import unit_hash

Truth = Callable[[Question], int]


def lie(human: Human, truth: int) -> int:
    """The liar's claim: the smallest wrong answer sharing H's checked feature, else truth + 1."""
    same = [a for a in range(human.answers) if a != truth and human.feature(a) == human.feature(truth)]
    return same[0] if same else (truth + 1) % human.answers


def support(
    human: Human, q: Question, claim: int, truth: Truth, budget: int = 2000
) -> list[tuple[Question, int]] | None:
    """Subanswers that make H's combine step yield ``claim`` (true ones tried first), or None."""
    left = [budget]

    def go(answers: tuple[int, ...], asked: list) -> list | None:
        left[0] -= 1
        if left[0] < 0:
            return None
        step = human.step(q, answers)
        if isinstance(step, int):
            return asked if step == claim else None
        t = truth(step)
        for a in [t] + [a for a in range(human.answers) if a != t]:
            found = go(answers + (a,), asked + [(step, a)])
            if found is not None:
                return found
        return None

    return go((), [])


def debate(human: Human, q: Question, liar_claim: int, truth: Truth, salt: int = 0) -> tuple[bool, int]:
    """(does the honest side win, debate steps) for the honest claim truth(q) against ``liar_claim``."""
    steps = 1
    while True:
        honest_claim = truth(q)
        if human.world.atomic(q) or not human.readable(q):
            h = human.step(q, ())  # the one step H checks directly
            if h == honest_claim:
                return True, steps
            if h == liar_claim:
                return False, steps
            return unit_hash(salt, "coin", q) < 0.5, steps
        backing = support(human, q, liar_claim, truth)
        if backing is None:
            return True, steps
        disputed = [(sub, a) for sub, a in backing if a != truth(sub)]
        if not disputed:  # all backing is true, yet H's combine gives the lie: H's own error
            return False, steps
        q, liar_claim = disputed[0]
        steps += 1


def judge_alone(human: Human, q: Question, honest_claim: int, liar_claim: int, salt: int = 0) -> bool:
    """Does H alone pick the honest claim? It checks both against its unaided answer (HCH_0, 0 if it would
    have to decompose) with its cheap check; a tie is a seeded coin."""
    ref = human.step(q, ())
    ref = ref if isinstance(ref, int) else 0
    ok_honest, ok_liar = human.approve(honest_claim, ref), human.approve(liar_claim, ref)
    if ok_honest != ok_liar:
        return ok_honest
    return unit_hash(salt, "coin", q) < 0.5
