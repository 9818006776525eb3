"""The exact optimum of the imitative and the approval loss over every model on a small question space.

A model is a function from question to answer: an int vector m[Q] over the closed question set, so there
are answers^Q of them and all are enumerated (``models``: int[n_models, Q]). For each, Amp(m)(q) is H
answering q with m as its helper, computed for all models at once by walking H's decomposition and
splitting the models by the answers they give (an adaptive plan branches). Then

* imitative loss(m) = #{q : m(q) ≠ Amp(m)(q)}; its minimizers are the fixed points of m ↦ Amp(m), and since
  every decomposition asks strictly smaller questions the fixed point is unique and equals HCH;
* approval(m) = #{q : H approves m(q) against its reference Amp(m)(q)}; its maximizers are the models H
  cannot fault, which include every model that only matches H's cheap check.

A loss is "aligned at optimum" when every optimal model answers as HCH does (or, stricter, truthfully).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from goodhartlab.worlds.amplification import Human, Question


def closure(human: Human, roots: list[Question]) -> list[Question]:
    """Every question H may ask while decomposing ``roots``, under any helper answers."""
    seen: dict[Question, None] = {}
    todo = deque(roots)
    while todo:
        q = todo.popleft()
        if q in seen:
            continue
        seen[q] = None
        stack = [()]
        while stack:  # walk H's plan, branching over every answer to every subquestion
            answers = stack.pop()
            out = human.step(q, answers)
            if not isinstance(out, int):
                todo.append(out)
                stack.extend(answers + (a,) for a in range(human.answers))
    return list(seen)


def amplified(human: Human, questions: list[Question], models: np.ndarray) -> np.ndarray:
    """int[n_models, Q]: Amp(m)(q) for every model m (row of ``models``) and question q."""
    index = {q: j for j, q in enumerate(questions)}
    out = np.zeros_like(models)
    for i, q in enumerate(questions):

        def go(answers: tuple[int, ...], rows: np.ndarray) -> None:
            step = human.step(q, answers)
            if isinstance(step, int):
                out[rows, i] = step
                return
            vals = models[rows, index[step]]
            for v in np.unique(vals):
                go(answers + (int(v),), rows[vals == v])

        go((), np.arange(len(models)))
    return out


def exact_optimum(
    human: Human, questions: list[Question], truth: np.ndarray, hch: np.ndarray, max_models: int = 300_000
) -> dict:
    """Optimal model sets of both losses on ``questions`` (closed under H's decompositions).

    ``truth`` and ``hch`` are int[Q]; they are used only to judge the optima, never to find them.
    """
    Q, A = len(questions), human.answers
    n_models = A**Q
    if n_models > max_models:
        raise ValueError(f"{A}^{Q} = {n_models} models exceed max_models={max_models}")
    models = np.indices((A,) * Q, dtype=np.int16).reshape(Q, -1).T  # int[A^Q, Q]
    amp = amplified(human, questions, models)
    imitation_loss = (models != amp).sum(axis=1)
    approved = human.feature(models) == human.feature(amp)  # bool[n_models, Q]
    approval = approved.sum(axis=1)
    imit = imitation_loss == imitation_loss.min()
    appr = approval == approval.max()
    is_hch = (models == hch).all(axis=1)
    is_true = (models == truth).all(axis=1)
    examples = []
    wrong_optimal = appr[:, None] & (models != truth)  # bool[n_models, Q]
    for j in np.flatnonzero(wrong_optimal.any(axis=0)):
        k = int(np.flatnonzero(wrong_optimal[:, j])[0])  # one approval-optimal model that is wrong on q_j
        examples.append(
            {
                "question": questions[j],
                "truth": int(truth[j]),
                "hch": int(hch[j]),
                "optimal_wrong_answers": sorted({int(a) for a in models[wrong_optimal[:, j], j]}),
                "witness_answer": int(models[k, j]),
                "witness_reference": int(amp[k, j]),
                "approved": bool(approved[k, j]),
            }
        )
    return {
        "questions": Q,
        "models": n_models,
        "imitative_optimal": int(imit.sum()),
        "imitative_min_loss": int(imitation_loss.min()),
        "imitative_aligned_hch": bool(is_hch[imit].all()),
        "imitative_aligned_truth": bool(is_true[imit].all()),
        "approval_optimal": int(appr.sum()),
        "approval_max": int(approval.max()),
        "approval_optimal_hch": int((appr & is_hch).sum()),
        "approval_optimal_true": int((appr & is_true).sum()),
        "approval_aligned_hch": bool(is_hch[appr].all()),
        "approval_aligned_truth": bool(is_true[appr].all()),
        "questions_gamed": len(examples),
        "examples": examples,
    }
