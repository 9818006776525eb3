"""Iterated distillation of M: imitative amplification, approval-based amplification, and the
supervised baseline on ground-truth labels.

Each round, H answers a sample of questions with the current M as its helper (one H call per question:
H's own step, with M answering the subquestions); then M is trained on what H produced:

* imitative: cross-entropy towards Amp(M)(q), H's answer (Christiano et al. 2018, iterated distillation);
* approval: maximize log Σ_a p_M(a|q)·approve(a, Amp(M)(q)), the probability that M's answer passes H's
  check against H's own amplified reference. The expectation over M's answers is exact (answers are few),
  so no sampling noise enters the gradient.

Targets from earlier rounds are kept for questions not resampled (the newest target per question wins).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from goodhartlab.models.plumbing import checked_step
from goodhartlab.oversight.amplification import amplify
from goodhartlab.oversight.amplification_model import AnswerModel, Encoder
from goodhartlab.worlds.amplification import Human, Question

Scheme = Literal["imitative", "approval"]


@dataclass(frozen=True)
class TrainSettings:
    hidden: int = 128
    steps: int = 150  # Adam steps per round on the targets gathered so far
    lr: float = 3e-3
    sample_fraction: float = 0.5  # share of the question space H answers each round


class Learner:
    """M with its optimizer and its table of answers on every question of the space."""

    def __init__(
        self,
        questions: list[Question],
        encoder: Encoder,
        answers: int,
        settings: TrainSettings,
        generator: torch.Generator,
    ):
        self.questions = questions
        self.index = {q: i for i, q in enumerate(questions)}
        self.x = encoder.encode(questions)  # float[Q, width]
        self.model = AnswerModel(encoder.width, answers, settings.hidden, generator)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=settings.lr)
        self.settings = settings
        self.answers = answers

    def table(self) -> np.ndarray:
        """int[Q]: M's greedy answer on each question."""
        with torch.no_grad():
            return self.model(self.x).argmax(dim=1).numpy()

    def helper(self, table: np.ndarray):
        return lambda sub: int(table[self.index[sub]])

    def fit(
        self, idx: np.ndarray, scheme: Scheme | Literal["supervised"], target: np.ndarray, steps: int | None = None
    ) -> None:
        """Train on questions ``idx`` (int[B]); ``target`` is int[B] (imitative, supervised) or bool[B, A] (approval)."""
        x = self.x[torch.as_tensor(idx)]
        t = torch.as_tensor(target)
        for step in range(self.settings.steps if steps is None else steps):
            logits = self.model(x)  # float[B, A]
            if scheme == "approval":
                loss = -torch.logsumexp(logits.masked_fill(~t, -1e9), dim=1).mean() + torch.logsumexp(logits, 1).mean()
            else:
                loss = F.cross_entropy(logits, t)
            checked_step(self.opt, loss, f"{scheme} distillation loss", step)


class Distiller:
    """Runs rounds of one scheme; ``h_calls`` counts H calls spent on training targets."""

    def __init__(self, learner: Learner, human: Human, scheme: Scheme, rng: np.random.Generator):
        self.learner, self.human, self.scheme, self.rng = learner, human, scheme, rng
        self.h_calls = 0
        n = len(learner.questions)
        self.targets = np.zeros(n, dtype=np.int64)  # imitative: H's latest answer per question
        self.approved = np.zeros((n, human.answers), dtype=bool)  # approval: H's latest approval per answer
        self.seen = np.zeros(n, dtype=bool)

    def round(self) -> None:
        ln = self.learner
        n = len(ln.questions)
        size = max(1, int(round(ln.settings.sample_fraction * n)))
        batch = self.rng.choice(n, size=size, replace=False)
        helper = ln.helper(ln.table())
        for i in batch:
            reference, _ = amplify(self.human, ln.questions[i], helper)
            self.targets[i] = reference
            self.approved[i] = [self.human.approve(a, reference) for a in range(self.human.answers)]
        self.h_calls += size
        self.seen[batch] = True
        idx = np.flatnonzero(self.seen)
        ln.fit(idx, self.scheme, self.approved[idx] if self.scheme == "approval" else self.targets[idx])


def evaluate(learner: Learner, human: Human, truth: np.ndarray, hch: np.ndarray) -> dict[str, float]:
    """M's accuracy (gold), agreement with HCH and with Amp(M), and H's approval of M's answers."""
    table = learner.table()
    helper = learner.helper(table)
    amp = np.array([amplify(human, q, helper)[0] for q in learner.questions])
    approved = np.array([human.approve(int(a), int(r)) for a, r in zip(table, amp)])
    wrong = table != truth
    return {
        "accuracy": float(np.mean(~wrong)),
        "hch_agreement": float(np.mean(table == hch)),
        "amp_agreement": float(np.mean(table == amp)),
        "approval": float(np.mean(approved)),
        "wrong_but_approved": float(np.mean(approved & wrong)),
        "approved_given_wrong": float(np.mean(approved[wrong])) if wrong.any() else float("nan"),
    }


def supervised_accuracy(
    learner: Learner, truth: np.ndarray, labels: int, steps: int, rng: np.random.Generator
) -> float:
    """Accuracy of M trained on ``labels`` ground-truth answers (a random subset of questions)."""
    idx = rng.choice(len(truth), size=labels, replace=False)
    learner.fit(idx, "supervised", truth[idx], steps=steps)
    return float(np.mean(learner.table() == truth))
