"""The sparse-pixel debate game of Irving, Christiano & Amodei (2018), "AI safety via debate", section 3.1.

An image, a fixed judge that sees only revealed pixels, an honest debater claiming the true class and a liar
claiming a wrong one. They alternate revealing one nonzero pixel each until k are revealed; the judge then
decides for the side whose claimed class gets the higher logit (a tie goes to the liar: honesty must win
outright). With precommit the liar fixes its lie before the game, and the liar wins an image if any of the
9 lies wins its game: the honest side needs to beat every lie.

Debaters search with the judge:
- ``exhaustive``: minimax over every sequence of reveals from each side's candidate pixels (feasible when
  candidates^k is small), the exact optimum of the restricted game;
- ``mcts``: UCT Monte-Carlo tree search per move with random rollouts over the candidates.
Candidates are each side's top pixels by a one-pixel prior: the judge's logit margin (own class minus the
other's) when that pixel alone is revealed. Every judge call is batched: all games of all images advance in
lockstep, so one simulation step of every tree is one batched judge call.

The truth (labels) sets who claims what; the judge never receives it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

HONEST, LIAR = 0, 1
Judge = Callable[[torch.Tensor], torch.Tensor]  # planes float32[n, 2, s, s] -> logits float32[n, classes]


class CountingJudge:
    """Wraps a judge: counts positions evaluated and batched calls, evaluates without gradients."""

    def __init__(self, judge: Judge, batch: int = 1024):  # larger chunks measured slower (cache)
        self.judge, self.batch = judge, batch
        self.positions = 0
        self.calls = 0

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> np.ndarray:
        self.positions += len(x)
        out = []
        for i in range(0, len(x), self.batch):
            self.calls += 1
            out.append(self.judge(x[i : i + self.batch]))
        return torch.cat(out).numpy().astype(np.float64)


def inputs(images: np.ndarray, pixels: np.ndarray) -> torch.Tensor:
    """Judge planes from images uint8[n, s, s] and revealed flat pixel indices int64[n, m] (-1 = none):
    float32[n, 2, s, s] (mask, value in [0, 1])."""
    n, s, _ = images.shape
    mask = np.zeros((n, s * s), dtype=np.float32)
    if pixels.size:
        rows = np.repeat(np.arange(n), pixels.shape[1])
        flat = pixels.reshape(-1)
        keep = flat >= 0
        mask[rows[keep], flat[keep]] = 1.0
    values = images.reshape(n, -1).astype(np.float32) / 255.0 * mask
    return torch.from_numpy(np.stack([mask, values], axis=1).reshape(n, 2, s, s))


def precommit_winner(honest_wins: np.ndarray) -> np.ndarray:
    """Per image, does the honest side win under precommit? honest_wins bool[n, lies] holds the outcome of the
    game against each lie; the liar wins the image if ANY lie wins, so honest wins iff it wins all games."""
    return np.asarray(honest_wins, dtype=bool).all(axis=1)


def lies_of(labels: np.ndarray, classes: int = 10) -> np.ndarray:
    """The wrong classes per image, int64[n, classes-1], in increasing order."""
    all_c = np.broadcast_to(np.arange(classes), (len(labels), classes))
    return all_c[all_c != labels[:, None]].reshape(len(labels), classes - 1)


@dataclass(frozen=True)
class Games:
    """A batch of games: game g debates image ``image[g]``, honest claiming ``honest[g]``, the liar ``liar[g]``.
    ``cand[g, side]`` are that side's candidate pixels (flat indices, best prior first, -1 padded)."""

    image: np.ndarray  # int64[G]
    honest: np.ndarray  # int64[G]
    liar: np.ndarray  # int64[G]
    cand: np.ndarray  # int64[G, 2, m]


def make_games(
    images: np.ndarray, labels: np.ndarray, judge: CountingJudge, candidates: int, classes: int = 10
) -> Games:
    """One game per (image, lie); candidates from one batched judge call on every single nonzero pixel."""
    n, s, _ = images.shape
    flat = images.reshape(n, -1)
    nz = [np.flatnonzero(f) for f in flat]
    owner = np.concatenate([np.full(len(p), i) for i, p in enumerate(nz)])
    pix = np.concatenate(nz)
    one = judge(inputs(images[owner], pix[:, None]))  # logits of each pixel revealed alone
    m = max(len(p) for p in nz) if candidates == 0 else candidates
    lies = lies_of(labels, classes)
    G = n * (classes - 1)
    cand = np.full((G, 2, m), -1, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum([len(p) for p in nz])])
    for i in range(n):
        L = one[starts[i] : starts[i + 1]]
        for j, lie in enumerate(lies[i]):
            margin = L[:, labels[i]] - L[:, lie]
            for side, score in ((HONEST, margin), (LIAR, -margin)):
                order = nz[i][np.argsort(-score, kind="stable")][:m]
                cand[i * (classes - 1) + j, side, : len(order)] = order
    return Games(np.repeat(np.arange(n), classes - 1), np.repeat(labels, classes - 1), lies.reshape(-1), cand)


def movers(k: int, first: str) -> list[int]:
    """Who reveals the t-th pixel, t = 0..k-1."""
    a = HONEST if first == "honest" else LIAR
    return [a if t % 2 == 0 else 1 - a for t in range(k)]


def margins(judge: CountingJudge, images: np.ndarray, games: Games, idx: np.ndarray, seqs: np.ndarray) -> np.ndarray:
    """Judge logit of the honest claim minus the liar's for games ``idx`` with revealed pixels seqs int64[len, k]."""
    L = judge(inputs(images[games.image[idx]], seqs))
    return L[np.arange(len(idx)), games.honest[idx]] - L[np.arange(len(idx)), games.liar[idx]]


# -- exhaustive minimax ---------------------------------------------------------------------------------------


def exhaustive(
    images: np.ndarray, games: Games, judge: CountingJudge, k: int, first: str
) -> tuple[np.ndarray, np.ndarray]:
    """Minimax over all reveal sequences from each side's candidates. Returns the honest margin under optimal
    play float[G] and the principal variation int64[G, k]. Permutations of one pixel set share a judge call."""
    who = movers(k, first)
    G = len(games.image)
    values = np.empty(G)
    lines = np.empty((G, k), dtype=np.int64)
    for g in range(G):
        sets = [games.cand[g, w][games.cand[g, w] >= 0] for w in who]
        grids = np.stack(np.meshgrid(*sets, indexing="ij"), axis=-1).reshape(-1, k)  # every sequence
        srt = np.sort(grids, axis=1)
        legal = (np.diff(srt, axis=1) != 0).all(axis=1)  # no pixel revealed twice
        uniq, inv = np.unique(srt[legal], axis=0, return_inverse=True)
        val = np.full(len(grids), np.nan)
        val[legal] = margins(judge, images, games, np.full(len(uniq), g), uniq)[inv.reshape(-1)]
        tree = val.reshape([len(s) for s in sets])
        # Back up from the last reveal: honest maximizes the margin, the liar minimizes it.
        layers = [tree]
        with warnings.catch_warnings():  # illegal branches are NaN by design; all-NaN slices stay NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            for t in range(k - 1, -1, -1):
                layers.append((np.nanmax if who[t] == HONEST else np.nanmin)(layers[-1], axis=t))
        values[g] = layers[-1]
        choice = []  # principal variation: at each ply pick the child achieving the backed-up value
        for t in range(k):
            sub = layers[k - 1 - t]  # values after ply t for every choice at ply t, given earlier choices
            for c in choice:
                sub = sub[c]
            best = np.nanargmax(sub) if who[t] == HONEST else np.nanargmin(sub)
            choice.append(int(best))
        lines[g] = [sets[t][c] for t, c in enumerate(choice)]
    return values, lines


# -- Monte-Carlo tree search ----------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def mcts(
    images: np.ndarray,
    games: Games,
    judge: CountingJudge,
    k: int,
    first: str,
    sims: int,
    c_uct: float,
    rng: np.random.Generator,
    progress=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Play every game to k reveals; before each reveal the mover runs ``sims`` UCT simulations from the current
    position. A simulation walks the tree (unvisited children first, in prior order; then UCB1), rolls out the
    remaining reveals uniformly at random from each side's candidates, and scores the final position by
    sigmoid(honest margin), the honest side's value. All games' simulations of one step share one judge call.
    Returns the final honest margin float[G] and the reveals int64[G, k]."""
    who = movers(k, first)
    G = len(games.image)
    played = np.full((G, k), -1, dtype=np.int64)
    cands = [[[int(p) for p in games.cand[g, s] if p >= 0] for s in (HONEST, LIAR)] for g in range(G)]
    for t in range(k):
        # stats[g][path] = [visits, sum of honest value]; path = tuple of reveals after the current position.
        stats: list[dict[tuple, list]] = [{(): [0, 0.0]} for _ in range(G)]
        for _ in range(sims):
            seqs = np.empty((G, k), dtype=np.int64)
            paths = []
            for g in range(G):
                path, seq = _simulate(stats[g], cands[g], list(played[g, :t]), who, t, k, c_uct, rng)
                paths.append(path)
                seqs[g] = seq
            v = _sigmoid(margins(judge, images, games, np.arange(G), seqs))
            for g in range(G):
                st = stats[g]
                for d in range(len(paths[g]) + 1):
                    node = st.setdefault(paths[g][:d], [0, 0.0])
                    node[0] += 1
                    node[1] += v[g]
            if progress is not None:
                progress(1)
        for g in range(G):
            kids = [(st[0], st[1] / st[0], p) for p, st in stats[g].items() if len(p) == 1]
            sign = 1 if who[t] == HONEST else -1
            _, _, best = max(kids, key=lambda c: (c[0], sign * c[1]))
            played[g, t] = best[0]
    final = margins(judge, images, games, np.arange(G), played)
    return final, played


def _simulate(
    st: dict, cands: list, revealed: list, who: list, t: int, k: int, c_uct: float, rng: np.random.Generator
) -> tuple[tuple, list]:
    """One UCT simulation for one game: returns the tree path added/visited and the full reveal sequence."""
    used = set(revealed)
    path: tuple = ()
    depth = t
    while depth < k:
        side = who[depth]
        legal = [p for p in cands[side] if p not in used]
        if not legal:
            raise ValueError("a debater ran out of candidate pixels; raise candidates or lower k")
        parent = st[path]
        fresh = next((p for p in legal if path + (p,) not in st), None)
        if fresh is not None:  # expand the best-prior unvisited child, then roll out
            path = path + (fresh,)
            used.add(fresh)
            depth += 1
            break
        sign = 1.0 if side == HONEST else -1.0
        log_n = math.log(parent[0])
        best, best_score = None, -math.inf
        for p in legal:
            n, w = st[path + (p,)]
            score = sign * (w / n) + c_uct * math.sqrt(log_n / n)
            if score > best_score:
                best, best_score = p, score
        path = path + (best,)
        used.add(best)
        depth += 1
    seq = list(revealed) + list(path)
    while len(seq) < k:  # random rollout over each side's remaining candidates
        legal = [p for p in cands[who[len(seq)]] if p not in used]
        if not legal:
            raise ValueError("a debater ran out of candidate pixels; raise candidates or lower k")
        p = legal[int(rng.integers(len(legal)))]
        used.add(p)
        seq.append(p)
    return path, seq


# -- the whole evaluation -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DebateResult:
    """Per game (image, lie): the honest margin at the end and the reveals; per image: precommit outcome."""

    games: Games
    margin: np.ndarray  # float[G]: judge logit(honest claim) - logit(lie) after k reveals
    reveals: np.ndarray  # int64[G, k]
    who: list  # mover of each reveal
    honest_wins: np.ndarray  # bool[n, 9]
    correct: np.ndarray  # bool[n]: honest beats all 9 lies (the judge's decision after debate is right)
    search: str
    positions: int  # judge positions evaluated
    batches: int  # batched judge calls


def run_debate(
    images: np.ndarray,
    labels: np.ndarray,
    judge: Judge,
    k: int,
    first: str,
    search: str,
    candidates: int,
    sims: int,
    c_uct: float,
    rng: np.random.Generator,
    classes: int = 10,
    progress=None,
) -> DebateResult:
    counting = CountingJudge(judge)
    games = make_games(images, labels, counting, candidates, classes)
    if search == "exhaustive":
        margin, reveals = exhaustive(images, games, counting, k, first)
    else:
        margin, reveals = mcts(images, games, counting, k, first, sims, c_uct, rng, progress)
    wins = (margin > 0).reshape(len(images), classes - 1)
    return DebateResult(
        games,
        margin,
        reveals,
        movers(k, first),
        wins,
        precommit_winner(wins),
        search,
        counting.positions,
        counting.calls,
    )


def exhaustive_leaves(candidates: int, nonzero: int, k: int) -> int:
    """Leaves per game of the exhaustive tree (before removing repeated pixels)."""
    m = nonzero if candidates == 0 else min(candidates, nonzero)
    return m**k
