"""Amp(helper) and HCH: H consulting a helper, and H consulting copies of HCH down to a depth limit.

HCH_d(q) is H answering q with HCH_{d-1} answering its subquestions; HCH_0 is H alone, who answers
atomic questions and answers 0 ("I don't know") to anything it would have to decompose. Because H is a
fixed function (its errors are seeded hashes of what it sees), HCH_d is a function too, computed
exactly by memoized recursion. ``tree_calls`` counts the H calls of the whole unmemoized tree, which is
what HCH itself spends; the memo only saves this simulation from repeating identical subtrees.
"""

from __future__ import annotations

from collections.abc import Callable

from goodhartlab.worlds.amplification import Human, Question

Helper = Callable[[Question], int]


def amplify(human: Human, q: Question, helper: Helper) -> tuple[int, list[tuple[Question, int]]]:
    """Amp(helper)(q): H's answer to ``q`` asking ``helper`` its subquestions, with the (sub, answer) pairs."""
    answers: tuple[int, ...] = ()
    asked: list[tuple[Question, int]] = []
    while True:
        out = human.step(q, answers)
        if isinstance(out, int):
            return out, asked
        a = int(helper(out))
        asked.append((out, a))
        answers += (a,)


class HCH:
    """Memoized HCH for one human: ``answer(q, d)``, ``tree_calls(q, d)``, ``height(q)``."""

    def __init__(self, human: Human):
        self.human = human
        self._memo: dict[tuple[Question, int], tuple[int, int, int, list]] = {}
        self.evaluations = 0  # distinct (question, depth) pairs H was actually simulated on

    def _solve(self, q: Question, depth: int) -> tuple[int, int, int, list]:
        """(answer, H calls of the unmemoized tree, height reached, [(sub, answer)])."""
        key = (q, depth)
        if key in self._memo:
            return self._memo[key]
        self.evaluations += 1
        if depth == 0:
            out = self.human.step(q, ())
            result = (out if isinstance(out, int) else 0, 1, 0, [])
        else:
            calls, height = 1, 0

            def helper(sub: Question) -> int:
                nonlocal calls, height
                a, c, h, _ = self._solve(sub, depth - 1)
                calls, height = calls + c, max(height, h + 1)
                return a

            answer, asked = amplify(self.human, q, helper)
            result = (answer, calls, height, asked)
        self._memo[key] = result
        return result

    def answer(self, q: Question, depth: int) -> int:
        return self._solve(q, depth)[0]

    def tree_calls(self, q: Question, depth: int) -> int:
        return self._solve(q, depth)[1]

    def height(self, q: Question, depth: int = 64) -> int:
        """Levels of consultation HCH uses on ``q`` (HCH_d = HCH_height for every d ≥ height)."""
        return self._solve(q, depth)[2]

    def transcript(self, q: Question, depth: int, max_children_depth: int = 4) -> dict:
        """The question tree HCH_depth builds for ``q``: {question, answer, children}."""
        answer, _, _, asked = self._solve(q, depth)
        children = []
        if depth > 0 and max_children_depth > 0:
            children = [self.transcript(sub, depth - 1, max_children_depth - 1) for sub, _ in asked]
        return {"question": q, "text": self.human.world.render(q), "answer": answer, "children": children}


def hch_unmemoized(human: Human, q: Question, depth: int) -> tuple[int, int]:
    """HCH_depth(q) by plain recursion: (answer, H calls). The benchmark's baseline."""
    if depth == 0:
        out = human.step(q, ())
        return (out if isinstance(out, int) else 0), 1
    calls = 1

    def helper(sub: Question) -> int:
        nonlocal calls
        a, c = hch_unmemoized(human, sub, depth - 1)
        calls += c
        return a

    answer, _ = amplify(human, q, helper)
    return answer, calls
