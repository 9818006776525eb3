"""The question space of the amplification experiment: the tasks, built from a seeded generator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from goodhartlab.worlds.amplification.tasks import (
    Arithmetic,
    PermutationPowering,
    Question,
    ShortestPath,
    WildcardSearch,
    random_expression,
)

TASKS = ("perm", "wild", "path", "arith")


@dataclass(frozen=True)
class TaskSizes:
    """How big each task is. Defaults give ~400 questions in all."""

    perm_elements: int = 8
    perm_max_power: int = 8
    wildcard_length: int = 4
    graph_nodes: int = 5
    path_max_edges: int = 4
    arith_depth: int = 3
    arith_roots: int = 12


class World:
    """The tasks by name; dispatches each question to its task. ``truth`` is gold: evaluation only."""

    def __init__(self, tasks: dict[str, object], answers: int):
        self.tasks = tasks
        self.answers = answers

    def task(self, q: Question):
        return self.tasks[q[0]]

    def questions(self) -> list[Question]:
        return [q for t in self.tasks.values() for q in t.questions()]

    def atomic(self, q: Question) -> bool:
        return self.task(q).atomic(q)

    def render(self, q: Question) -> str:
        return self.task(q).render(q)

    def truth(self, q: Question) -> int:
        return self.task(q).truth(q)


def build_world(
    names: list[str], sizes: TaskSizes, answers: int, rng: np.random.Generator, max_subquestions: int = 99
) -> World:
    """Draw σ, the string database, the graph and the expressions from ``rng``."""
    tasks: dict[str, object] = {}
    for name in names:
        if name == "perm":
            sigma = tuple(int(i) for i in rng.permutation(sizes.perm_elements))
            tasks[name] = PermutationPowering(sigma, sizes.perm_max_power)
        elif name == "wild":
            strings = [
                "".join(s)
                for s in np.array(np.meshgrid(*[["a", "b"]] * sizes.wildcard_length))
                .reshape(sizes.wildcard_length, -1)
                .T
            ]
            values = {s: int(v) for s, v in zip(sorted(strings), rng.integers(0, answers, len(strings)))}
            tasks[name] = WildcardSearch(values, sizes.wildcard_length, answers)
        elif name == "path":
            n = sizes.graph_nodes
            edges = {(i, (i + 1) % n) for i in range(n)}  # a ring keeps the graph connected
            for _ in range(n // 2):
                a, b = (int(x) for x in rng.choice(n, 2, replace=False))
                edges.add((a, b))
            weights: dict[tuple[int, int], int] = {}
            for a, b in sorted(edges):
                w = int(rng.integers(1, 4))
                weights[(a, b)] = weights[(b, a)] = w  # undirected
            tasks[name] = ShortestPath(weights, n, sizes.path_max_edges, answers, max_subquestions)
        elif name == "arith":
            roots = [random_expression(1 + i % sizes.arith_depth, rng) for i in range(sizes.arith_roots)]
            tasks[name] = Arithmetic(roots, answers)
        else:
            raise ValueError(f"unknown task {name!r}; tasks are {TASKS}")
    return World(tasks, answers)
