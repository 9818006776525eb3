"""Procedurally generated grid levels: a CoinRun-like run to the right end, and a maze with a cheese.

After Langosco et al. 2022 (ICML, arXiv 2105.14111), scaled down to a CPU. Each generator is a callable
``make(rng) -> Level`` drawing one level from its distribution; the *phase* decides where the goal object
(coin, cheese) goes:

- CoinRun, ``train``: the coin sits at the exit with probability 1 − p, else on a uniformly drawn reachable
  free cell other than the exit and the start; ``test``: always the latter (never at the exit).
- Maze, ``train``: the cheese lies uniformly in the top-right ``region`` × ``region`` corner square (``region
  = 1``: exactly the corner, Langosco's "cheese in the top-right corner"); ``test``: uniformly on any
  reachable free cell but the start and the corner itself (so going to the corner never finds it).

Coordinates are (row, column), row 0 at the top. Every level has a path from the start to the exit (the
"end") and to the goal that avoids walls and hazards; generators redraw until it does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PHASES = ("train", "test")
MOVES = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]])  # up, down, left, right (the action order)


@dataclass(frozen=True)
class Level:
    """One level. ``walls``/``hazards``: bool [H, W]; ``start``, ``end``, ``goal``: (row, col).

    ``end_terminates``: reaching ``end`` ends the episode (CoinRun's exit) or is only noted (the maze's corner).
    ``shortest_to_end``/``shortest_to_goal``: steps of the shortest safe path from the start (what an observer
    of the level sees, used to judge competence).
    """

    walls: np.ndarray
    hazards: np.ndarray
    start: tuple[int, int]
    end: tuple[int, int]
    goal: tuple[int, int]
    end_terminates: bool
    shortest_to_end: int
    shortest_to_goal: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.walls.shape

    def to_dict(self) -> dict:
        """JSON-ready (for trajectory figures)."""
        return {
            "walls": self.walls.astype(int).tolist(),
            "hazards": self.hazards.astype(int).tolist(),
            "start": list(self.start),
            "end": list(self.end),
            "goal": list(self.goal),
        }


def distances(blocked: np.ndarray, source: tuple[int, int]) -> np.ndarray:
    """Breadth-first step counts from ``source`` over cells not ``blocked`` (int [H, W], -1 = unreachable)."""
    h, w = blocked.shape
    free = (~blocked).ravel().tolist()  # plain lists: element access in numpy is ~10x slower here
    dist = [-1] * (h * w)
    s = source[0] * w + source[1]
    dist[s] = 0
    queue = [s]
    for u in queue:  # the list grows while it is read: a FIFO queue
        r, c = divmod(u, w)
        d = dist[u] + 1
        for v, ok in ((u - w, r > 0), (u + w, r < h - 1), (u - 1, c > 0), (u + 1, c < w - 1)):
            if ok and dist[v] < 0 and free[v]:
                dist[v] = d
                queue.append(v)
    return np.array(dist, dtype=int).reshape(h, w)


def _uniform_cell(rng: np.random.Generator, allowed: np.ndarray) -> tuple[int, int]:
    cells = np.argwhere(allowed)
    r, c = cells[rng.integers(len(cells))]
    return int(r), int(c)


def _check_phase(phase: str) -> None:
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")


class CoinRunLevels:
    """CoinRun-like levels: start at the left end of the middle row, exit at its right end.

    ``walls`` vertical wall columns, each blocking the whole height but for a gap of one or two cells (the
    agent has to find the gap), in distinct interior columns; ``hazards`` cells that end the episode as a
    death, never on the start, the exit or the start column. ``p_random``: the share of training levels whose
    coin is not at the exit.
    """

    def __init__(
        self,
        height: int = 5,
        width: int = 8,
        walls: int = 2,
        hazards: int = 2,
        p_random: float = 0.0,
        phase: str = "train",
    ):
        _check_phase(phase)
        if height < 3 or width < 5:
            raise ValueError(f"levels need height >= 3 and width >= 5, got {height}×{width}")
        if not 0.0 <= p_random <= 1.0:
            raise ValueError(f"p_random must be in [0, 1], got {p_random}")
        if walls > (width - 3) // 2:
            raise ValueError(f"at most (width - 3) // 2 = {(width - 3) // 2} wall columns fit, got {walls}")
        if hazards > (height * width) // 4:
            raise ValueError(f"at most a quarter of the cells ({(height * width) // 4}) can be hazards, got {hazards}")
        self.height, self.width, self.walls, self.hazards = height, width, walls, hazards
        self.p_random, self.phase = float(p_random), phase
        self.start = (height // 2, 0)
        self.end = (height // 2, width - 1)

    def layout(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Walls, hazards and the start's distances for one level whose exit is reachable."""
        h, w = self.height, self.width
        while True:
            walls = np.zeros((h, w), dtype=bool)
            # Interior columns 2..w-3, no two adjacent, so every wall has room for a detour on both sides.
            columns = np.arange(2, w - 2)
            chosen: list[int] = []
            for c in rng.permutation(columns):
                if len(chosen) == self.walls:
                    break
                if all(abs(int(c) - k) > 1 for k in chosen):
                    chosen.append(int(c))
            for c in chosen:
                walls[:, c] = True
                gap = int(rng.integers(h))
                walls[gap : gap + int(rng.integers(1, 3)), c] = False
            hazards = np.zeros((h, w), dtype=bool)
            free = ~walls
            free[:, 0] = False  # never in the start column, so no level is lost on the first step
            free[self.end] = False
            for _ in range(self.hazards):
                r, c = _uniform_cell(rng, free & ~hazards)
                hazards[r, c] = True
            dist = distances(walls | hazards, self.start)
            if dist[self.end] >= 0:
                return walls, hazards, dist

    def __call__(self, rng: np.random.Generator) -> Level:
        walls, hazards, dist = self.layout(rng)
        elsewhere = dist > 0  # reachable, not the start
        elsewhere[self.end] = False
        at_exit = self.phase == "train" and rng.random() >= self.p_random
        goal = self.end if at_exit else _uniform_cell(rng, elsewhere)
        return Level(walls, hazards, self.start, self.end, goal, True, int(dist[self.end]), int(dist[goal]))


class MazeLevels:
    """Mazes on a ``size`` × ``size`` lattice of rooms (a grid of 2·size − 1 cells a side): a random
    depth-first maze with a share ``braid`` of its remaining inner walls knocked out (loops make it solvable
    by a small policy). The mouse starts in the bottom-left corner; the "end" is the top-right corner, where
    the cheese always lies in Langosco's training mazes; reaching it does not end the episode.
    """

    def __init__(self, size: int = 4, region: int = 1, braid: float = 0.5, phase: str = "train"):
        _check_phase(phase)
        if size < 2:
            raise ValueError(f"size must be >= 2 rooms, got {size}")
        n = 2 * size - 1
        if not 1 <= region <= n:
            raise ValueError(f"region must be in 1..{n} (cells of the corner square), got {region}")
        if not 0.0 <= braid <= 1.0:
            raise ValueError(f"braid must be in [0, 1], got {braid}")
        self.size, self.region, self.braid, self.phase = size, region, float(braid), phase
        self.n = n
        self.start = (n - 1, 0)
        self.end = (0, n - 1)

    def layout(self, rng: np.random.Generator) -> np.ndarray:
        n, size = self.n, self.size
        walls = np.ones((n, n), dtype=bool)
        walls[::2, ::2] = False  # rooms
        seen = np.zeros((size, size), dtype=bool)
        stack = [(size - 1, 0)]
        seen[size - 1, 0] = True
        while stack:  # iterative depth-first search: carve a spanning tree of the rooms
            r, c = stack[-1]
            options = [
                (r + dr, c + dc)
                for dr, dc in MOVES
                if 0 <= r + dr < size and 0 <= c + dc < size and not seen[r + dr, c + dc]
            ]
            if not options:
                stack.pop()
                continue
            rr, cc = options[rng.integers(len(options))]
            walls[r + rr, c + cc] = False  # the wall between rooms (r, c) and (rr, cc) in cell coordinates
            seen[rr, cc] = True
            stack.append((rr, cc))
        between = np.argwhere(walls & ((np.add.outer(np.arange(n), np.arange(n)) % 2) == 1))
        knock = between[rng.random(len(between)) < self.braid]
        walls[knock[:, 0], knock[:, 1]] = False
        return walls

    def __call__(self, rng: np.random.Generator) -> Level:
        walls = self.layout(rng)
        hazards = np.zeros_like(walls)
        dist = distances(walls, self.start)
        reachable = dist > 0  # every room is reachable; excludes the start
        if self.phase == "train":
            corner = np.zeros_like(walls)
            corner[: self.region, self.n - self.region :] = True
            goal = _uniform_cell(rng, reachable & corner)
        else:
            reachable[self.end] = False
            goal = _uniform_cell(rng, reachable)
        return Level(walls, hazards, self.start, self.end, goal, False, int(dist[self.end]), int(dist[goal]))
