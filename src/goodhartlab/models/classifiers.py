"""Small image classifiers (PyTorch CNNs of several sizes) and a training loop that runs until the model
fits its training set.

All-convolutional, strided (no pooling layers): a 5×5 stride-2 stem, then 3×3 stride-2 blocks, then an
adaptive 3×3 average pool and a linear head. The input is uint8 grayscale [n, H, W] scaled to [0, 1];
any H, W ≥ 16 works, the cost grows with H·W.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from goodhartlab.models.plumbing import checked_step, seeded_init

# name → channel widths (stem, then one stride-2 block per further entry)
SIZES: dict[str, tuple[int, ...]] = {
    "tiny": (8, 16, 32),
    "small": (16, 32, 64),
    "medium": (32, 64, 128),
    "large": (64, 128, 256),
}


class CNN(nn.Module):
    def __init__(self, size: str = "small", classes: int = 11, generator: torch.Generator | None = None):
        super().__init__()
        if size not in SIZES:
            raise ValueError(f"unknown classifier size {size!r}; sizes are {', '.join(SIZES)}")
        widths = SIZES[size]
        # BatchNorm after each convolution: it lets these small nets fit (interpolate) their training set in
        # a few dozen epochs; eval mode (running statistics) is used for every prediction and attack.
        layers: list[nn.Module] = [
            nn.Conv2d(1, widths[0], 5, stride=2, padding=2),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(),
        ]
        for a, b in zip(widths, widths[1:]):
            layers += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.BatchNorm2d(b), nn.ReLU()]
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(3), nn.Flatten())
        self.head = nn.Linear(widths[-1] * 9, classes)
        self.size = size
        if generator is not None:  # same generator → same weights (BatchNorm keeps 1 and 0)
            seeded_init(self, generator, biases="fan_in")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x float[n, 1, H, W] in [0, 1] → logits float[n, classes]."""
        return self.head(self.features(x))


def to_input(images: np.ndarray) -> torch.Tensor:
    """uint8[n, H, W] → float32[n, 1, H, W] in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).float().div_(255.0).unsqueeze(1)


@torch.no_grad()
def logits(model: nn.Module, images: np.ndarray | torch.Tensor, batch: int = 1024) -> torch.Tensor:
    """Logits float[n, classes] for uint8 images (or an already-scaled float tensor), in eval mode."""
    x = to_input(images) if isinstance(images, np.ndarray) else images
    model.eval()
    return torch.cat([model(x[i : i + batch]) for i in range(0, len(x), batch)]) if len(x) else torch.zeros(0, 11)


def predict(model: nn.Module, images: np.ndarray | torch.Tensor) -> np.ndarray:
    """int64[n] argmax class."""
    return logits(model, images).argmax(1).numpy()


@dataclass(frozen=True)
class FitResult:
    epochs: int
    steps: int
    train_accuracy: float  # on the labels it was trained on
    final_loss: float
    fitted: bool  # reached the target train accuracy


def fit(
    model: nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    generator: torch.Generator,
    *,
    max_epochs: int = 60,
    fit_target: float = 1.0,
    lr: float = 2e-3,
    batch_size: int = 64,
    progress=None,
) -> FitResult:
    """Adam on cross-entropy until the training accuracy (eval mode, full pass after each epoch) reaches
    ``fit_target`` or ``max_epochs`` pass. Minibatch order comes from ``generator``."""
    x = to_input(images)
    y = torch.from_numpy(np.asarray(labels, np.int64))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    steps, acc, loss_value = 0, 0.0, math.nan
    for epoch in range(1, max_epochs + 1):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        for i in range(0, len(x), batch_size):
            idx = order[i : i + batch_size]
            loss = loss_fn(model(x[idx]), y[idx])
            checked_step(opt, loss, "classifier training loss", steps)
            steps += 1
            loss_value = float(loss.detach())
        acc = float((logits(model, x).argmax(1) == y).float().mean())
        if progress is not None:
            progress()
        if acc >= fit_target:
            return FitResult(epoch, steps, acc, loss_value, True)
    return FitResult(max_epochs, steps, acc, loss_value, False)
