"""The ``amplification`` run: HCH against depth, imitative vs approval distillation, the supervised
baseline, the exact optimum of each loss, and debate with H as judge.

Gold (``World.truth``) is read only to score: M is trained on targets H produces, H never sees the truth.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from goodhartlab.core import rng as rngs
from goodhartlab.core.context import Context
from goodhartlab.core.records import Measurement
from goodhartlab.experiments.amplification.config import Config
from goodhartlab.oversight.amplification import HCH, amplify
from goodhartlab.oversight.amplification_debate import debate, judge_alone, lie
from goodhartlab.oversight.amplification_model import Encoder
from goodhartlab.oversight.amplification_training import (
    Distiller,
    Learner,
    TrainSettings,
    evaluate,
    supervised_accuracy,
)
from goodhartlab.oversight.optimum import closure, exact_optimum
from goodhartlab.worlds.amplification import Human, TaskSizes, World, build_world

FULL_DEPTH = 64  # deeper than any decomposition here: HCH_64 is the unbounded HCH


def make_human(config: Config, world: World) -> Human:
    return Human(
        world,
        config.error_rate,
        config.error_kind,
        config.max_subquestions,
        config.max_read,
        config.blind_spot,
        rngs.int_seed(config.seed, "human errors"),
    )


def make_world(config: Config) -> World:
    sizes = TaskSizes(
        config.perm_elements,
        config.perm_max_power,
        config.wildcard_length,
        config.graph_nodes,
        config.path_max_edges,
        config.arith_depth,
        config.arith_roots,
    )
    return build_world(
        list(config.tasks), sizes, config.answers, rngs.generator(config.seed, "world"), config.max_subquestions
    )


def hch_rows(world: World, hch: HCH, questions: list, truth: np.ndarray) -> list[dict]:
    """Accuracy and H calls of HCH_d per depth and task, beside HCH with an error-free H (same bandwidth)."""
    max_height = max(hch.height(q, FULL_DEPTH) for q in questions)
    exact = HCH(dataclasses.replace(hch.human, error_rate=0.0))
    rows = []
    for depth in range(max_height + 2):
        answers = np.array([hch.answer(q, depth) for q in questions])
        error_free = np.array([exact.answer(q, depth) for q in questions])
        calls = np.array([hch.tree_calls(q, depth) for q in questions])
        for task in ["all", *world.tasks]:
            mask = np.array([task in ("all", q[0]) for q in questions])
            rows.append(
                {
                    "depth": depth,
                    "task": task,
                    "questions": int(mask.sum()),
                    "accuracy": float(np.mean(answers[mask] == truth[mask])),
                    "accuracy_error_free_h": float(np.mean(error_free[mask] == truth[mask])),
                    "h_calls_total": int(calls[mask].sum()),
                    "h_calls_mean": float(calls[mask].mean()),
                }
            )
    return rows


def annotate(tree: dict, world: World) -> dict:
    """Add the truth to each node of a transcript (evaluation only) and make questions JSON-safe."""
    return {
        "text": tree["text"],
        "task": tree["question"][0],
        "answer": tree["answer"],
        "truth": world.truth(tree["question"]),
        "children": [annotate(c, world) for c in tree["children"]],
    }


def transcripts(config: Config, world: World, hch: HCH, questions: list) -> list[dict]:
    """The tallest HCH trees, one per task in turn."""
    by_task: dict[str, list] = {}
    for q in sorted(questions, key=lambda q: -hch.height(q, FULL_DEPTH)):
        by_task.setdefault(q[0], []).append(q)
    picks, i = [], 0
    while len(picks) < config.transcripts and any(by_task.values()):
        task = list(by_task)[i % len(by_task)]
        if by_task[task]:
            picks.append(by_task[task].pop(0))
        i += 1
    return [annotate(hch.transcript(q, FULL_DEPTH, max_children_depth=3), world) for q in picks]


def train_scheme(
    config: Config,
    scheme: str,
    seed_index: int,
    world: World,
    human: Human,
    questions: list,
    encoder: Encoder,
    truth: np.ndarray,
    hch_full: np.ndarray,
    ctx,
) -> Learner:
    settings = TrainSettings(config.hidden, config.steps, config.lr, config.sample_fraction)
    # Same init for both schemes at one seed index, so the schemes differ only in their signal.
    learner = Learner(
        questions, encoder, world.answers, settings, rngs.torch_generator(config.seed, "init", seed_index)
    )
    distiller = Distiller(learner, human, scheme, rngs.generator(config.seed, "sample", scheme, seed_index))
    for r in range(config.rounds + 1):
        if r:
            distiller.round()
        m = evaluate(learner, human, truth, hch_full)
        ctx.record(
            Measurement(
                series=scheme,
                pressure_name="round",
                pressure=r,
                proxy=m["amp_agreement"] if scheme == "imitative" else m["approval"],
                rater=m["approval"],
                gold=m["accuracy"],
                seed=seed_index,
                extra={
                    "hch_agreement": m["hch_agreement"],
                    "amp_agreement": m["amp_agreement"],
                    "h_calls": float(distiller.h_calls),
                    "wrong_but_approved": m["wrong_but_approved"],
                    "approved_given_wrong": m["approved_given_wrong"],
                },
            )
        )
    return learner


def gaming_examples(learner: Learner, human: Human, world: World, limit: int = 4) -> list[dict]:
    """Questions on which the approval-trained M is wrong and H approves, with what H saw (compound first,
    one per task before any second one)."""
    table = learner.table()
    helper = learner.helper(table)
    found = []
    for i, q in enumerate(learner.questions):
        reference, asked = amplify(human, q, helper)
        if table[i] != world.truth(q) and human.approve(int(table[i]), reference):
            found.append(
                {
                    "text": world.render(q),
                    "task": q[0],
                    "answer": int(table[i]),
                    "truth": world.truth(q),
                    "reference": int(reference),
                    "children": [
                        {"text": world.render(s), "task": s[0], "answer": a, "truth": world.truth(s), "children": []}
                        for s, a in asked
                    ],
                }
            )
    found.sort(key=lambda e: not e["children"])
    first = list({e["task"]: e for e in reversed(found)}.values())[::-1]  # earliest per task
    return (first + [e for e in found if not any(e is f for f in first)])[:limit]


def optimum_rows(config: Config) -> tuple[list[dict], list[dict]]:
    """Exact optimum of both losses on tiny instances of each task (all models enumerated)."""
    sizes = TaskSizes(
        perm_elements=2,
        perm_max_power=3,
        wildcard_length=2,
        graph_nodes=3,
        path_max_edges=2,
        arith_depth=2,
        arith_roots=2,
    )
    world = build_world(list(config.tasks), sizes, config.optimum_answers, rngs.generator(config.seed, "small world"))
    # With optimum_answers < 10 the last digit is the whole answer (no blind spot), so tiny spaces use "half".
    human = Human(
        world,
        config.error_rate,
        config.error_kind,
        config.max_subquestions,
        config.max_read,
        "half" if config.blind_spot == "last_digit" else config.blind_spot,
        rngs.int_seed(config.seed, "human errors"),
    )
    hch = HCH(human)
    rows, examples = [], []
    for name, task in world.tasks.items():
        roots = [(name, 0, sizes.graph_nodes - 1, sizes.path_max_edges)] if name == "path" else task.questions()
        qs = closure(human, roots)
        truth = np.array([world.truth(q) for q in qs])
        hch_answers = np.array([hch.answer(q, FULL_DEPTH) for q in qs])
        r = exact_optimum(human, qs, truth, hch_answers, config.optimum_max_models)
        # Compound questions first: there H's reference is itself amplified from the model's subanswers.
        for ex in sorted(r.pop("examples"), key=lambda e: world.atomic(e["question"])):
            examples.append(
                {"task": name, **ex, "atomic": world.atomic(ex["question"]), "question": world.render(ex["question"])}
            )
        rows.append(
            {"task": name, "blind_spot": human.blind_spot, **r, "hch_truthful": bool((hch_answers == truth).all())}
        )
    return rows, examples


def debate_rows(config: Config, world: World, human: Human, questions: list) -> list[dict]:
    compound = [q for q in questions if not world.atomic(q)]
    pick = rngs.generator(config.seed, "debate").choice(
        len(compound), min(config.debate_questions, len(compound)), replace=False
    )
    salt = rngs.int_seed(config.seed, "judge coin")
    rows = []
    for i in pick:
        q = compound[i]
        t = world.truth(q)
        claim = lie(human, t)
        won, steps = debate(human, q, claim, world.truth, salt)
        rows.append(
            {
                "question": world.render(q),
                "task": q[0],
                "truth": t,
                "lie": claim,
                "debate_correct": won,
                "alone_correct": judge_alone(human, q, t, claim, salt),
                "steps": steps,
            }
        )
    return rows


def run(config: Config, ctx: Context) -> None:
    world = make_world(config)
    human = make_human(config, world)
    questions = world.questions()
    truth = np.array([world.truth(q) for q in questions])
    hch = HCH(human)
    hch_full = np.array([hch.answer(q, FULL_DEPTH) for q in questions])
    ctx.log(f"{len(questions)} questions; HCH accuracy {np.mean(hch_full == truth):.3f}")
    ctx.table("hch_depth", hch_rows(world, hch, questions, truth))
    ctx.artifact("transcripts", transcripts(config, world, hch, questions))

    encoder = Encoder(world, questions)
    final_rows, gaming = [], []
    with ctx.progress("distilling M: imitative and approval", 2 * config.seeds) as advance:
        for i in range(config.seeds):
            for scheme in ("imitative", "approval"):
                learner = train_scheme(config, scheme, i, world, human, questions, encoder, truth, hch_full, ctx)
                table = learner.table()
                for task in world.tasks:
                    mask = np.array([q[0] == task for q in questions])
                    final_rows.append(
                        {
                            "scheme": scheme,
                            "seed": i,
                            "task": task,
                            "accuracy": float(np.mean(table[mask] == truth[mask])),
                            "hch_agreement": float(np.mean(table[mask] == hch_full[mask])),
                        }
                    )
                if scheme == "approval" and i == 0:
                    gaming = gaming_examples(learner, human, world)
                advance()
    ctx.table("final_by_task", final_rows)
    ctx.artifact("gaming_examples", gaming)

    sup = []
    settings = TrainSettings(config.hidden, config.steps, config.lr, config.sample_fraction)
    with ctx.progress("supervised baseline on true labels", len(config.supervised_fractions) * config.seeds) as advance:
        for frac in config.supervised_fractions:
            labels = max(1, int(round(frac * len(questions))))
            for i in range(config.seeds):
                learner = Learner(
                    questions, encoder, world.answers, settings, rngs.torch_generator(config.seed, "init", i)
                )
                acc = supervised_accuracy(
                    learner, truth, labels, config.supervised_steps, rngs.generator(config.seed, "supervised", frac, i)
                )
                sup.append({"labels": labels, "fraction": frac, "seed": i, "accuracy": acc})
                advance()
    ctx.table("supervised", sup)

    rows, examples = optimum_rows(config)
    ctx.table("optimum", rows)
    ctx.artifact("optimum_examples", examples)
    ctx.table("debate", debate_rows(config, world, human, questions))
