"""Question tasks with known answers, after Christiano, Shlegeris & Amodei 2018 ("Supervising strong
learners by amplifying weak experts", tasks: permutation powering, wildcard search, shortest path, ...).

A question is a hashable tuple whose first item names its task, e.g. ``("perm", x, k)``. Every answer is
an integer in ``[0, answers)``. Each task offers three views of a question:

* ``direct`` / ``step``: what the simulated human H can do with it. ``direct`` answers an atomic question
  from data H can read (the permutation table, the string database, the edge list, two digits);
  ``step(q, answers)`` is H's decomposition, played one subquestion at a time: given the answers to the
  subquestions asked so far it returns the next subquestion (a tuple) or the combined answer (an int).
  Subquestions may depend on earlier answers (permutation powering asks σ^a(σ^b(x)) in sequence).
* ``truth``: the gold answer, computed by a different route (direct iteration, enumeration, Bellman-Ford,
  evaluation) so that tests of the decompositions are not circular. Only evaluation calls it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

Question = tuple


@dataclass
class PermutationPowering:
    """σ^k(x) for a fixed permutation σ of ``n`` elements, 0 ≤ k ≤ ``max_power``. Atomic: k ≤ 1."""

    sigma: tuple[int, ...]
    max_power: int
    name: str = "perm"

    def questions(self) -> list[Question]:
        return [(self.name, x, k) for x in range(len(self.sigma)) for k in range(self.max_power + 1)]

    def atomic(self, q: Question) -> bool:
        return q[2] <= 1

    def direct(self, q: Question) -> int:
        return q[1] if q[2] == 0 else self.sigma[q[1]]

    def step(self, q: Question, answers: tuple[int, ...]) -> Question | int:
        _, x, k = q
        half = k // 2
        if not answers:
            return (self.name, x, half)
        if len(answers) == 1:  # σ^k(x) = σ^(k - k//2)(σ^(k//2)(x))
            return (self.name, answers[0] % len(self.sigma), k - half)
        return answers[1]

    def truth(self, q: Question) -> int:
        x = q[1]
        for _ in range(q[2]):
            x = self.sigma[x]
        return x

    def render(self, q: Question) -> str:
        return f"P{q[1]}^{q[2]}"


@dataclass
class WildcardSearch:
    """Sum (mod ``answers``) of the values of the database strings matching a pattern over {a, b} with ``*``."""

    values: dict[str, int]
    length: int
    answers: int
    name: str = "wild"

    def questions(self) -> list[Question]:
        return [(self.name, "".join(p)) for p in itertools.product("ab*", repeat=self.length)]

    def atomic(self, q: Question) -> bool:
        return "*" not in q[1]

    def direct(self, q: Question) -> int:
        return self.values[q[1]] % self.answers

    def step(self, q: Question, answers: tuple[int, ...]) -> Question | int:
        pattern = q[1]
        if len(answers) < 2:  # split on the first wildcard: one subquestion per letter
            return (self.name, pattern.replace("*", "ab"[len(answers)], 1))
        return (answers[0] + answers[1]) % self.answers

    def truth(self, q: Question) -> int:
        pattern = q[1]
        hits = [v for s, v in self.values.items() if all(p in ("*", c) for p, c in zip(pattern, s))]
        return sum(hits) % self.answers

    def render(self, q: Question) -> str:
        return f"W{q[1]}"


@dataclass
class ShortestPath:
    """Length of the shortest u→v path using at most k edges, capped at ``answers - 1`` (also "no path").

    Atomic: k ≤ 1 (H reads the edge list). Decomposition (Bellman-Ford in words): d_k(u,v) =
    min(d_{k-1}(u,v), min over neighbours w of u of weight(u,w) + d_{k-1}(w,v)).
    """

    weights: dict[tuple[int, int], int]
    nodes: int
    max_edges: int
    answers: int
    max_subquestions: int = 99  # H's bandwidth, set by the Human; extra neighbours are not asked about
    name: str = "path"
    _adj: dict[int, list[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._adj = {u: sorted(w for (a, w) in self.weights if a == u) for u in range(self.nodes)}

    @property
    def cap(self) -> int:
        return self.answers - 1

    def questions(self) -> list[Question]:
        return [
            (self.name, u, v, k)
            for u in range(self.nodes)
            for v in range(self.nodes)
            for k in range(1, self.max_edges + 1)
        ]

    def atomic(self, q: Question) -> bool:
        return q[3] <= 1 or q[1] == q[2]

    def direct(self, q: Question) -> int:
        _, u, v, _ = q
        return 0 if u == v else min(self.cap, self.weights.get((u, v), self.cap))

    def subquestions(self, q: Question) -> list[Question]:
        _, u, v, k = q
        subs = [(self.name, u, v, k - 1)] + [(self.name, w, v, k - 1) for w in self._adj[u]]
        return subs[: self.max_subquestions]

    def step(self, q: Question, answers: tuple[int, ...]) -> Question | int:
        subs = self.subquestions(q)
        if len(answers) < len(subs):
            return subs[len(answers)]
        best = answers[0]
        for sub, d in zip(subs[1:], answers[1:]):
            best = min(best, self.weights[(q[1], sub[1])] + d)
        return min(self.cap, best)

    def truth(self, q: Question) -> int:
        _, u, v, k = q
        dist = np.full(self.nodes, np.inf)
        dist[v] = 0.0
        for _ in range(k):  # Bellman-Ford towards v, one more edge per pass
            new = dist.copy()
            for (a, b), w in self.weights.items():
                new[a] = min(new[a], w + dist[b])
            dist = new
        return int(min(self.cap, dist[u]))

    def render(self, q: Question) -> str:
        return f"S{q[1]}>{q[2]}@{q[3]}"


Expr = int | tuple  # a digit, or (op, left, right) with op in "+*"


def _eval(e: Expr, mod: int) -> int:
    if isinstance(e, int):
        return e % mod
    op, a, b = e
    x, y = _eval(a, mod), _eval(b, mod)
    return (x + y) % mod if op == "+" else (x * y) % mod


def _ops(e: Expr) -> int:
    return 0 if isinstance(e, int) else 1 + _ops(e[1]) + _ops(e[2])


def _show(e: Expr) -> str:
    return str(e) if isinstance(e, int) else f"({_show(e[1])}{e[0]}{_show(e[2])})"


@dataclass
class Arithmetic:
    """Value (mod ``answers``) of a fully parenthesized expression of digits with + and ×. Atomic: ≤ 1 operation."""

    roots: list[Expr]
    answers: int
    name: str = "arith"

    def questions(self) -> list[Question]:
        seen: dict[Question, None] = {}

        def walk(e: Expr) -> None:
            if isinstance(e, tuple):
                seen[(self.name, e)] = None
                walk(e[1]), walk(e[2])

        for r in self.roots:
            walk(r)
        return list(seen)

    def atomic(self, q: Question) -> bool:
        return _ops(q[1]) <= 1

    def direct(self, q: Question) -> int:
        op, a, b = q[1]
        return (a + b) % self.answers if op == "+" else (a * b) % self.answers

    def step(self, q: Question, answers: tuple[int, ...]) -> Question | int:
        op, a, b = q[1]
        subs = [part for part in (a, b) if isinstance(part, tuple)]  # bare digits H reads itself
        if len(answers) < len(subs):
            return (self.name, subs[len(answers)])
        got = iter(answers)
        x, y = (p % self.answers if isinstance(p, int) else next(got) for p in (a, b))
        return (x + y) % self.answers if op == "+" else (x * y) % self.answers

    def truth(self, q: Question) -> int:
        return _eval(q[1], self.answers)

    def render(self, q: Question) -> str:
        return "A" + _show(q[1])


def random_expression(depth: int, rng: np.random.Generator) -> Expr:
    """A full binary expression tree of exactly ``depth`` levels of operations over digits 0-9."""
    if depth == 0:
        return int(rng.integers(0, 10))
    op = "+*"[int(rng.integers(0, 2))]
    return (op, random_expression(depth - 1, rng), random_expression(depth - 1, rng))
