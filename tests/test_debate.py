"""The sparse debate game: the precommit rule on constructed judges, search against brute-force minimax, and an
end-to-end run of the ``debate`` experiment through the CLI (in process, a tiny config, see the test)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import cli_here

from goodhartlab.models.judge import planes, random_reveal
from goodhartlab.oversight.pixel_debate import inputs, lies_of, precommit_winner, run_debate


class ConstantJudge:
    """Logits that ignore the reveals: the judge's verdict in every game is fixed in advance."""

    def __init__(self, logits):
        self.logits = torch.tensor(logits, dtype=torch.float32)

    def __call__(self, x):
        return self.logits.expand(len(x), -1)


def test_precommit_rule_on_arrays():
    wins = np.ones((3, 9), dtype=bool)
    wins[1, 4] = False  # one lie wins image 1
    wins[2] = False
    assert precommit_winner(wins).tolist() == [True, False, False]


@pytest.mark.parametrize("search", ["exhaustive", "mcts"])
def test_liar_wins_iff_any_of_the_nine_lies_wins(search):
    rng = np.random.default_rng(0)
    images = rng.integers(1, 256, (2, 4, 4)).astype(np.uint8)  # every pixel nonzero
    labels = np.array([0, 0])
    one_lie = [1.0] + [0.0] * 10
    one_lie[6] = 2.0  # lie 6 beats the truth, the 8 other lies lose
    for logits, honest_image in ((one_lie[:10], False), ([1.0] + [0.5] * 9, True)):
        res = run_debate(
            images,
            labels,
            ConstantJudge(logits),
            k=2,
            first="honest",
            search=search,
            candidates=3,
            sims=4,
            c_uct=1.0,
            rng=np.random.default_rng(1),
        )
        lost = ~res.honest_wins
        assert res.correct.tolist() == [honest_image] * 2
        assert (res.correct == ~lost.any(axis=1)).all()
        if not honest_image:  # only the game against lie 6 is lost
            assert [lies_of(labels)[0][j] for j in np.flatnonzero(lost[0])] == [6]
            assert lost.sum(axis=1).tolist() == [1, 1]


class LinearJudge:
    """A fixed random linear judge on the two planes: reveals matter, and differently for each class."""

    def __init__(self, size, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.w = torch.randn(2 * size * size, 10, generator=g)

    def __call__(self, x):
        return x.flatten(1) @ self.w


def brute_force(image, label, lie, judge, k, first):
    """Minimax by plain recursion over every sequence of distinct nonzero pixels."""
    nz = [int(p) for p in np.flatnonzero(image)]

    def value(seq):
        if len(seq) == k:
            L = judge(inputs(image[None], np.array([seq])))[0]
            return float(L[label] - L[lie])
        honest_moves = (len(seq) % 2 == 0) == (first == "honest")
        vals = [value(seq + [p]) for p in nz if p not in seq]
        return max(vals) if honest_moves else min(vals)

    return value([])


@pytest.mark.parametrize("first", ["honest", "liar"])
def test_exhaustive_search_is_minimax(first):
    rng = np.random.default_rng(3)
    images = (rng.integers(1, 256, (2, 3, 3)) * (rng.random((2, 3, 3)) < 0.7)).astype(np.uint8)
    labels = np.array([2, 7])
    judge = LinearJudge(3)
    res = run_debate(
        images, labels, judge, k=3, first=first, search="exhaustive", candidates=0, sims=1, c_uct=1.0, rng=rng
    )
    lies = lies_of(labels)
    for g in range(len(res.margin)):
        i, j = divmod(g, 9)
        assert res.margin[g] == pytest.approx(brute_force(images[i], labels[i], lies[i, j], judge, 3, first), abs=1e-4)
    # MCTS with enough simulations finds the same last move values on this tiny game.
    mc = run_debate(
        images,
        labels,
        judge,
        k=3,
        first=first,
        search="mcts",
        candidates=0,
        sims=120,
        c_uct=1.0,
        rng=np.random.default_rng(0),
    )
    assert (np.sign(mc.margin) == np.sign(res.margin)).mean() >= 0.9


def test_random_reveal_picks_k_nonzero_pixels():
    rng = np.random.default_rng(0)
    images = (rng.integers(1, 256, (50, 28, 28)) * (rng.random((50, 28, 28)) < 0.1)).astype(np.uint8)
    mask = random_reveal(images, 6, rng)
    assert (mask.reshape(50, -1).sum(1) == np.minimum(6, (images.reshape(50, -1) > 0).sum(1))).all()
    assert (images[mask] > 0).all()
    x = planes(images, mask)
    assert x.shape == (50, 2, 28, 28) and torch.equal(x[:, 0] > 0, torch.from_numpy(mask))


# The rendered suite is checked for its wiring only, so its judge trains briefly; the handwritten judge's 200 steps
# keep the effect checked below wide (debate 0.55-0.58 against random reveals 0.18-0.20 over seeds 0-2).
TINY = [
    "rendered_ks=[4]",
    "handwritten_ks=[2]",
    "judge_train_images=400",
    "judge_steps=60",
    "handwritten_judge_steps=200",
    "test_images=12",
    "handwritten_test_images=40",
    "random_images=300",
    "candidates=6",
    "sims=8",
    "transcripts=2",
    "judge_width=8",
]


@pytest.mark.slow
def test_debate_end_to_end(store):
    # A tiny config: the quick preset takes ~1.5 min on the shared machine, over this file's test budget.
    args = ["run", "debate", "--quiet"]
    for a in TINY:
        args += ["--set", a]
    proc = cli_here(*args, store=store)  # in process: the CLI's parsing and run path, without a new interpreter
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = [p for p in store.iterdir() if p.is_dir() and p.name.startswith("debate")]
    m = pd.read_csv(run_dir / "measurements.csv")
    assert set(m.pressure) == {2.0, 4.0}
    # Image-level accuracy after debate can never exceed the per-game win rate (all 9 games must be won).
    assert (m.gold <= m.proxy + 1e-12).all()
    hw = m[m.series.str.startswith("handwritten")].iloc[0]
    # The effect: on handwritten 8×8 with exhaustive play, debate lifts the judge well above random reveals.
    assert hw.debate_accuracy > hw.random_accuracy + 0.15
    games = pd.read_csv(run_dir / "tables" / "games.csv")
    per_image = games.groupby(["suite", "k", "image"]).honest_wins.all().groupby(["suite", "k"]).mean()
    assert per_image[("handwritten", 2)] == pytest.approx(hw.debate_accuracy)
    ts = json.loads((run_dir / "artifacts" / "transcripts.json").read_text())
    assert len(ts) == 4 and all(len(t["reveals"]) == t["k"] for t in ts)
    assert (run_dir / "figures" / "transcripts.png").exists() and (run_dir / "report.html").exists()
