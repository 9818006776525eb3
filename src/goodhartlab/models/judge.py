"""The sparse judge of Irving et al. (2018), "AI safety via debate", section 3.1: a CNN that sees only a few
revealed pixels of an image.

Input: two planes per image, float32[n, 2, size, size]: plane 0 the mask (1 where a pixel is revealed),
plane 1 the revealed values in [0, 1] (0 elsewhere). Output: logits float32[n, classes].
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from goodhartlab.models.plumbing import checked_step, seeded_init, strided_side


class SparseJudge(nn.Module):
    """Two convolutions and a hidden layer; a stride-2 stem for 28×28 keeps a judge call cheap (~0.5M MACs at
    width 16), since debate search spends most of its time calling the judge."""

    def __init__(
        self, size: int, classes: int = 10, width: int = 16, hidden: int = 64, generator: torch.Generator | None = None
    ):
        super().__init__()
        self.size, self.classes = size, classes
        stem_stride = 2 if size >= 16 else 1  # 28 -> 14 -> 7; 8 -> 8 -> 4
        self.conv1 = nn.Conv2d(2, width, 5, stride=stem_stride, padding=2)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)
        side = strided_side(size, stem_stride, 2)
        self.fc1 = nn.Linear(2 * width * side * side, hidden)
        self.fc2 = nn.Linear(hidden, classes)
        if generator is not None:
            seeded_init(self, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [n, 2, size, size]
        h = torch.relu(self.conv1(x))
        h = torch.relu(self.conv2(h))
        return self.fc2(torch.relu(self.fc1(h.flatten(1))))


def planes(images: np.ndarray, revealed: np.ndarray) -> torch.Tensor:
    """Judge input from images uint8[n, s, s] (0-255) and a boolean reveal mask bool[n, s, s]."""
    mask = revealed.astype(np.float32)
    values = images.astype(np.float32) / 255.0 * mask
    return torch.from_numpy(np.stack([mask, values], axis=1))


def random_reveal(images: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k nonzero pixels per image chosen uniformly (all nonzero ones if fewer): bool[n, s, s]."""
    n = images.shape[0]
    flat = images.reshape(n, -1) > 0
    # Random keys on nonzero pixels, -inf elsewhere; the top k keys are a uniform k-subset of the nonzero pixels.
    keys = np.where(flat, rng.random(flat.shape), -np.inf)
    top = np.argsort(-keys, axis=1)[:, :k]
    mask = np.zeros_like(flat)
    np.put_along_axis(mask, top, True, axis=1)
    return (mask & flat).reshape(images.shape)


def train_judge(
    images: np.ndarray,
    labels: np.ndarray,
    k: int,
    steps: int,
    batch: int,
    lr: float,
    width: int,
    rng: np.random.Generator,
    generator: torch.Generator,
    progress=None,
) -> SparseJudge:
    """Train a judge on fresh random k-pixel reveals of the training images (a new reveal each time an image is
    drawn), with Adam and cross-entropy."""
    judge = SparseJudge(images.shape[1], classes=10, width=width, generator=generator)
    opt = torch.optim.Adam(judge.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    y_all = torch.from_numpy(labels.astype(np.int64))
    judge.train()
    for step in range(steps):
        idx = rng.integers(0, len(images), batch)
        x = planes(images[idx], random_reveal(images[idx], k, rng))
        loss = nn.functional.cross_entropy(judge(x), y_all[idx])
        checked_step(opt, loss, "judge loss", step)
        sched.step()
        if progress is not None:
            progress()
    judge.eval()
    return judge


@torch.no_grad()
def logits(judge: SparseJudge, x: torch.Tensor, batch: int = 4096) -> np.ndarray:
    """Judge logits float32[n, classes], in chunks."""
    return (
        torch.cat([judge(x[i : i + batch]) for i in range(0, len(x), batch)]).numpy()
        if len(x)
        else np.zeros((0, judge.classes), np.float32)
    )
