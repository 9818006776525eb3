"""M, amplification's learner: a small MLP from a question's text to a distribution over answers.

A question is rendered by its task to a short string (e.g. ``P3^5``, ``Wa*b*``) and encoded as
one-hot characters at fixed positions, padded: x is float[max_len * vocab]. M never sees the truth;
it sees only question text and, in training, targets built by H.
"""

from __future__ import annotations

import torch
from torch import nn

from goodhartlab.models.plumbing import seeded_init
from goodhartlab.worlds.amplification import Question, World


class Encoder:
    def __init__(self, world: World, questions: list[Question]):
        texts = [world.render(q) for q in questions]
        self.vocab = {c: i for i, c in enumerate(sorted({c for t in texts for c in t}))}
        self.max_len = max(len(t) for t in texts)
        self.world = world

    @property
    def width(self) -> int:
        return self.max_len * len(self.vocab)

    def encode(self, questions: list[Question]) -> torch.Tensor:
        """float[N, max_len * vocab]."""
        x = torch.zeros(len(questions), self.max_len, len(self.vocab))
        for i, q in enumerate(questions):
            for j, c in enumerate(self.world.render(q)):
                x[i, j, self.vocab[c]] = 1.0
        return x.reshape(len(questions), -1)


class AnswerModel(nn.Module):
    """logits float[N, answers] = MLP(x float[N, width])."""

    def __init__(self, width: int, answers: int, hidden: int, generator: torch.Generator):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, answers)
        )
        seeded_init(self, generator, biases="out_features")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
