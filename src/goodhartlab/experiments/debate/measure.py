"""The ``debate`` run: per suite (rendered 28×28 digits, handwritten 8×8 digits) and per k, train a sparse
judge on random k-pixel reveals, measure its accuracy on random reveals, then play the debate of Irving et al.
(2018) with precommit against all 9 lies on held-out images.

The true label decides only who claims what (honest: the truth, liar: each wrong class) and scores the outcome;
the judge never sees it at debate time.
"""

from __future__ import annotations

import time

import numpy as np

from goodhartlab.analysis import stats
from goodhartlab.core.context import Context
from goodhartlab.core.records import Measurement
from goodhartlab.experiments.debate.config import Config
from goodhartlab.models.judge import logits, planes, random_reveal, train_judge
from goodhartlab.oversight.pixel_debate import DebateResult, exhaustive_leaves, run_debate
from goodhartlab.worlds.digits import DigitsWorld, DigitsWorldConfig

# Digits only, as on MNIST: no X images, no ambiguous ones, no offer stamps or occluders (10 classes).
DEBATE_WORLD = DigitsWorldConfig(x_fraction=0.0, ambiguous_fraction=0.0, offer_rate=0.0, partial_occlusion_rate=0.0)


def rendered_data(config: Config, ctx) -> dict:
    world = DigitsWorld(DEBATE_WORLD)
    train = world.sample(config.judge_train_images, "train", ctx.rng("rendered", "train"))
    test = world.sample(max(config.random_images, config.test_images), "train", ctx.rng("rendered", "test"))

    def clean(images):  # noise below the background level is not ink: it cannot be revealed
        return np.where(images < config.background, 0, images).astype(np.uint8)

    return {
        "train": (clean(train.images28), train.labels),
        "test": (clean(test.images28), test.labels),
        "candidates": config.candidates,
        "steps": config.judge_steps,
        "n_test": config.test_images,
    }


def handwritten_data(config: Config, ctx) -> dict:
    """scikit-learn's handwritten digits at 8×8, split as the world splits them (its held-out half is tested)."""
    world = DigitsWorld(DEBATE_WORLD)
    images, labels = world.handwritten_native()
    split = getattr(world, "handwritten_split", None)
    if split is None:
        perm = ctx.rng("handwritten", "split").permutation(len(labels))
        split = {"train_handwritten": perm[: len(labels) // 2], "handwritten": perm[len(labels) // 2 :]}
    tr, te = split["train_handwritten"], ctx.rng("handwritten", "test order").permutation(split["handwritten"])
    return {
        "train": (images[tr], labels[tr]),
        "test": (images[te], labels[te]),
        "candidates": config.handwritten_candidates,
        "steps": config.handwritten_judge_steps,
        "n_test": min(config.handwritten_test_images, len(te)),
    }


def choose_search(config: Config, candidates: int, images: np.ndarray, k: int) -> str:
    if config.search != "auto":
        return config.search
    nonzero = int((images.reshape(len(images), -1) > 0).sum(1).max())
    return "exhaustive" if exhaustive_leaves(candidates, nonzero, k) <= config.exhaustive_max_leaves else "mcts"


def transcripts(
    suite: str, k: int, first: str, images: np.ndarray, labels: np.ndarray, res: DebateResult, limit: int
) -> list[dict]:
    """Lost and won images in turn; per image the lie that did best against the honest side (on a lost image,
    the liar's most convincing winning lie)."""
    lies = res.games.liar.reshape(len(images), -1)
    margin = res.margin.reshape(len(images), -1)
    reveals = res.reveals.reshape(len(images), lies.shape[1], -1)
    lost, won = list(np.flatnonzero(~res.correct)), list(np.flatnonzero(res.correct))
    order = [i for pair in zip(lost, won) for i in pair] + lost[len(won) :] + won[len(lost) :]
    out = []
    for i in order[:limit]:
        j = int(np.argmin(margin[i]))  # the lie that did best against the honest side
        out.append(
            {
                "suite": suite,
                "k": k,
                "first": first,
                "image": images[i].tolist(),
                "label": int(labels[i]),
                "lie": int(lies[i, j]),
                "reveals": [int(p) for p in reveals[i, j]],
                "movers": ["honest" if w == 0 else "liar" for w in res.who],
                "margin": float(margin[i, j]),
                "honest_won_image": bool(res.correct[i]),
            }
        )
    return out


def _low(e: stats.Estimate) -> float:
    return e.low if e.has_interval else float("nan")


def _high(e: stats.Estimate) -> float:
    return e.high if e.has_interval else float("nan")


def run_suite(config: Config, ctx, suite: str, data: dict, ks: list[int]) -> None:
    tr_x, tr_y = data["train"]
    te_x, te_y = data["test"]
    for k in ks:
        t0 = time.perf_counter()
        with ctx.progress(f"{suite} judge k={k}", data["steps"]) as advance:
            judge = train_judge(
                tr_x,
                tr_y,
                k,
                data["steps"],
                config.judge_batch,
                config.judge_lr,
                config.judge_width,
                ctx.rng(suite, k, "judge batches"),
                ctx.torch_generator(suite, k, "judge init"),
                advance,
            )
        train_seconds = time.perf_counter() - t0
        rx, ry = te_x[: config.random_images], te_y[: config.random_images]
        pred = logits(judge, planes(rx, random_reveal(rx, k, ctx.rng(suite, k, "random reveals")))).argmax(1)
        random_ok = pred == ry
        ri = stats.proportion(int(random_ok.sum()), len(ry), "image")
        n = data["n_test"]
        dx, dy = te_x[:n], te_y[:n]
        search = choose_search(config, data["candidates"], dx, k)
        for first in config.first_movers:
            t1 = time.perf_counter()
            total = 0 if search == "exhaustive" else k * config.sims
            with ctx.progress(f"{suite} debate k={k} ({search}, {first} first)", total) as advance:
                res = run_debate(
                    dx,
                    dy,
                    judge,
                    k,
                    first,
                    search,
                    data["candidates"],
                    config.sims,
                    config.c_uct,
                    ctx.rng(suite, k, first, "rollouts"),
                    progress=advance,
                )
            seconds = time.perf_counter() - t1
            di = stats.proportion(int(res.correct.sum()), n, "image")
            # An image's 9 games (one per lie) share the image: resample images, not games.
            wins = np.asarray(res.honest_wins, dtype=float).reshape(n, -1)
            gi = stats.clustered_proportion(wins.sum(1), np.full(n, wins.shape[1]), "image")
            ctx.record(
                Measurement(
                    series=f"{suite}, {first} first",
                    pressure_name="k (pixels revealed)",
                    pressure=k,
                    proxy=gi.estimate,
                    rater=ri.estimate,
                    gold=di.estimate,
                    extra={
                        "random_accuracy": ri.estimate,
                        "random_low": _low(ri),
                        "random_high": _high(ri),
                        "debate_accuracy": di.estimate,
                        "debate_low": _low(di),
                        "debate_high": _high(di),
                        "honest_game_wins": gi.estimate,
                        "games_low": _low(gi),
                        "games_high": _high(gi),
                        "images": float(n),
                        "random_images": float(len(ry)),
                        "random_accuracy_debated_images": float(random_ok[:n].mean()),
                        "judge_positions": float(res.positions),
                        "judge_batches": float(res.batches),
                        "judge_train_seconds": train_seconds,
                        "debate_seconds": seconds,
                        "positions_per_second": res.positions / seconds,
                    },
                )
            )
            ctx.table(
                "settings",
                [
                    {
                        "suite": suite,
                        "k": k,
                        "first": first,
                        "search": search,
                        "candidates": data["candidates"],
                        "sims": config.sims if search == "mcts" else 0,
                        "judge_steps": data["steps"],
                        "train_images": len(tr_y),
                    }
                ],
            )
            ctx.table(
                "games",
                [
                    {
                        "suite": suite,
                        "k": k,
                        "first": first,
                        "image": g // 9,
                        "label": int(dy[g // 9]),
                        "lie": int(res.games.liar[g]),
                        "margin": float(res.margin[g]),
                        "honest_wins": bool(res.margin[g] > 0),
                    }
                    for g in range(len(res.margin))
                ],
            )
            ctx.table(
                "images",
                [
                    {
                        "suite": suite,
                        "k": k,
                        "first": first,
                        "image": i,
                        "label": int(dy[i]),
                        "random_correct": bool(random_ok[i]),
                        "debate_correct": bool(res.correct[i]),
                    }
                    for i in range(n)
                ],
            )
            shown = transcripts(suite, k, first, dx, dy, res, config.transcripts)
            ctx.artifacts.setdefault("transcripts", []).extend(shown)
            ctx.log(
                f"{suite} k={k} {first} first: random reveals {stats.fmt(ri)}, debate {stats.fmt(di)}, honest "
                f"game wins {stats.fmt(gi)}"
            )


def run(config: Config, ctx: Context) -> None:
    if config.rendered_ks:
        run_suite(config, ctx, "rendered", rendered_data(config, ctx), config.rendered_ks)
    if config.handwritten_ks:
        run_suite(config, ctx, "handwritten", handwritten_data(config, ctx), config.handwritten_ks)
    ctx.artifact("transcripts", ctx.artifacts.get("transcripts", []))
