"""Weak-to-strong generalization (Burns et al. 2023, "Weak-to-strong generalization: eliciting strong
capabilities with weak supervision") on images.

- weak supervisor: a small model fine-tuned on ground truth for one half of the training images;
- strong student: a larger model, pretrained without labels (a denoising autoencoder on every training image),
  then fine-tuned on the weak supervisor's soft labels for the other half;
- ceiling: the same pretrained strong model fine-tuned on ground truth for that half.
PGR = (student − weak) / (ceiling − weak), the performance gap recovered (Burns et al. section 3).

The auxiliary confidence loss (Burns et al. eq. 1): L = (1 − α)·CE(f(x), f_w(x)) + α·CE(f(x), f̂_t(x)), with f̂_t
the student's own predictions hardened at a threshold t set so that the hardened labels keep the weak labels'
class balance, and α ramped linearly from 0 to c over the first ``warmup`` share of steps.

The student never sees ground truth: its fine-tuning batches hold images and weak labels only.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as F

from goodhartlab.models.convnet import ConvNet
from goodhartlab.models.plumbing import checked_step


def pgr(student: float, weak: float, ceiling: float) -> float:
    """Performance gap recovered, (student − weak) / (ceiling − weak); NaN when the ceiling does not beat the
    weak model (no gap to recover)."""
    gap = ceiling - weak
    if not gap > 0:
        return math.nan
    return (student - weak) / gap


def pretrain(
    model: ConvNet,
    images: torch.Tensor,
    steps: int,
    batch: int,
    lr: float,
    drop: float,
    rng: np.random.Generator,
    progress=None,
) -> None:
    """Denoising autoencoder: reconstruct each image from a copy with a ``drop`` share of pixels zeroed. No labels."""

    def loss(step: int) -> torch.Tensor:
        x = images[rng.integers(0, len(images), batch)]
        keep = torch.from_numpy(rng.random(x.shape) >= drop)
        return F.mse_loss(model.reconstruct(x * keep), x.flatten(1))

    _unsupervised(
        model, [*model.encoder.parameters(), *model.decoder.parameters()], loss, steps, lr, "autoencoder loss", progress
    )


def _unsupervised(model: ConvNet, params: list, loss_at, steps: int, lr: float, what: str, progress) -> None:
    """Adam on ``loss_at(step)`` for ``steps`` steps, stopping on a non-finite loss; leaves the model in eval mode."""
    opt = torch.optim.Adam(params, lr=lr)
    model.train()
    for step in range(steps):
        checked_step(opt, loss_at(step), what, step)
        if progress is not None:
            progress()
    model.eval()


def augment(x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """A random affine view of each image float[n, 1, s, s]: rotation ±15°, scale 0.85–1.15, shift ±12% (the
    transforms a digit's identity survives), then 20% of pixels dropped."""
    n = len(x)
    ang = np.deg2rad(rng.uniform(-15, 15, n))
    sc = rng.uniform(0.85, 1.15, n)
    theta = np.zeros((n, 2, 3), np.float32)
    theta[:, 0, 0], theta[:, 0, 1] = np.cos(ang) / sc, -np.sin(ang) / sc
    theta[:, 1, 0], theta[:, 1, 1] = np.sin(ang) / sc, np.cos(ang) / sc
    theta[:, :, 2] = rng.uniform(-0.25, 0.25, (n, 2))  # grid units: 2 = the whole side
    grid = F.affine_grid(torch.from_numpy(theta), list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, align_corners=False)
    return out * torch.from_numpy(rng.random(out.shape) >= 0.2)


def pretrain_contrastive(
    model: ConvNet,
    images: torch.Tensor,
    steps: int,
    batch: int,
    lr: float,
    rng: np.random.Generator,
    temperature: float = 0.2,
    progress=None,
) -> None:
    """SimCLR (Chen et al. 2020): two augmented views of each image; the NT-Xent loss pulls a view's projection
    towards its partner's and away from the other 2·batch − 2 views. No labels."""
    partner = torch.cat([torch.arange(batch, 2 * batch), torch.arange(batch)])

    def loss(step: int) -> torch.Tensor:
        x = images[rng.integers(0, len(images), batch)]
        z = F.normalize(model.projection(model.encoder(torch.cat([augment(x, rng), augment(x, rng)]))), dim=1)
        sim = z @ z.T / temperature  # [2b, 2b]
        sim.fill_diagonal_(-torch.inf)
        return F.cross_entropy(sim, partner)

    _unsupervised(
        model,
        [*model.encoder.parameters(), *model.projection.parameters()],
        loss,
        steps,
        lr,
        "contrastive loss",
        progress,
    )


def harden(probs: torch.Tensor, balance: torch.Tensor) -> torch.Tensor:
    """Hardened labels int64[n] for student probabilities float[n, c] whose class counts follow ``balance``
    (class shares, float[c]): the multi-class form of Burns et al.'s adaptive threshold. Greedy: assign
    (image, class) pairs in decreasing probability while the class has quota left and the image is unassigned."""
    n, c = probs.shape
    quota = np.ceil(balance.numpy() * n).astype(int)
    order = torch.argsort(probs.detach().flatten(), descending=True).numpy()
    out = np.full(n, -1, dtype=np.int64)
    left = n
    for flat in order:
        i, j = divmod(int(flat), c)
        if out[i] < 0 and quota[j] > 0:
            out[i] = j
            quota[j] -= 1
            left -= 1
            if left == 0:
                break
    return torch.from_numpy(out)


def class_balance(targets: torch.Tensor) -> torch.Tensor | None:
    """Class shares float[c] of soft labels float[n, c] by their argmax (what hardening keeps); None for hard
    labels (the confidence loss is for weak soft labels only)."""
    if targets.dim() != 2:
        return None
    return torch.bincount(targets.argmax(1), minlength=targets.shape[1]).float() / len(targets)


def confidence_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    balance: torch.Tensor | None,
    confidence: float,
    step: int,
    steps: int,
    warmup: float,
) -> torch.Tensor:
    """Cross-entropy of ``logits`` float[b, c] against ``targets`` (int64[b] or soft float[b, c]); with
    ``confidence`` > 0, Burns et al.'s eq. 1: (1 − α)·CE(weak) + α·CE(own hardened predictions), α ramped
    0 → confidence over the first ``warmup`` share of ``steps``."""
    loss = F.cross_entropy(logits, targets)
    if confidence > 0:
        alpha = confidence * min(1.0, step / max(1, int(warmup * steps)))
        hard = harden(F.softmax(logits, 1), balance)
        loss = (1 - alpha) * loss + alpha * F.cross_entropy(logits, hard)
    return loss


def finetune(
    model: ConvNet,
    images: torch.Tensor,
    targets: torch.Tensor,
    steps: int,
    batch: int,
    lr: float,
    rng: np.random.Generator,
    confidence: float = 0.0,
    warmup: float = 0.1,
    progress=None,
) -> None:
    """Fine-tune the whole model on ``targets``: class indices int64[n] or soft labels float[n, c].
    With ``confidence`` > 0, add the auxiliary confidence loss (weight ramped 0 → confidence over the first
    ``warmup`` share of steps; hardening keeps the targets' class balance)."""
    opt = torch.optim.Adam(list(model.encoder.parameters()) + list(model.head.parameters()), lr=lr)
    balance = class_balance(targets)
    model.train()
    for step in range(steps):
        idx = torch.from_numpy(rng.integers(0, len(images), batch))
        loss = confidence_loss(model(images[idx]), targets[idx], balance, confidence, step, steps, warmup)
        checked_step(opt, loss, "fine-tuning loss", step)
        if progress is not None:
            progress()
    model.eval()


@torch.no_grad()
def predict(model: ConvNet, images: torch.Tensor, batch: int = 2048) -> torch.Tensor:
    """Class probabilities float32[n, c]."""
    return torch.cat([F.softmax(model(images[i : i + batch]), 1) for i in range(0, len(images), batch)])


def accuracy(model: ConvNet, images: torch.Tensor, labels: np.ndarray) -> float:
    return float((predict(model, images).argmax(1).numpy() == labels).mean())
