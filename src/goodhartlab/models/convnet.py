"""The pretrainable CNN of the weak-to-strong experiment: an encoder with a classification head, a decoder for
denoising-autoencoder pretraining and a projection head for contrastive (SimCLR) pretraining.

Input: float32[n, 1, s, s] in [0, 1] (:func:`as_tensor` of uint8 images).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from goodhartlab.models.plumbing import seeded_init, strided_side


class ConvNet(nn.Module):
    """Encoder (two stride-2 convolutions and a linear layer to ``8·width`` features) with a classification head
    and a decoder for autoencoder pretraining. ``width`` sets the size: parameters grow ~width²."""

    def __init__(self, size: int, width: int, classes: int, generator: torch.Generator):
        super().__init__()
        self.size = size
        side = strided_side(size, 2, 2)  # 28 -> 14 -> 7
        features = 8 * width
        self.encoder = nn.Sequential(
            nn.Conv2d(1, width, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(2 * width * side * side, features),
            nn.ReLU(),
        )
        self.head = nn.Linear(features, classes)
        self.decoder = nn.Linear(features, size * size)  # autoencoder pretraining
        self.projection = nn.Linear(features, 64)  # contrastive pretraining (SimCLR's projection head)
        seeded_init(self, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [n, 1, s, s] -> logits [n, classes]
        return self.head(self.encoder(x))

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:  # -> [n, s*s] in (0, 1)
        return torch.sigmoid(self.decoder(self.encoder(x)))

    def parameter_count(self) -> int:
        return sum(p.numel() for n, p in self.named_parameters() if n.startswith(("encoder", "head")))


def as_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8[n, s, s] (0-255) -> float32[n, 1, s, s] in [0, 1]."""
    return torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
