"""What every torch model here shares: seeded initialization from a generator, the checked optimizer step, and
the side length after strided "same" convolutions."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

Biases = Literal["zero", "fan_in", "out_features"]


@torch.no_grad()
def seeded_init(module: nn.Module, generator: torch.Generator, biases: Biases = "zero") -> None:
    """Draw every Linear and Conv weight from U(−b, b), b = 1/√fan_in (PyTorch's default bound), from ``generator``
    only: torch's global RNG is neither read nor changed, so the same generator gives the same weights.

    Layers are visited in ``module.modules()`` order, weight then bias. ``biases``: ``"zero"``; ``"fan_in"``, the
    same U(−b, b) as the weight; ``"out_features"``, U(−c, c) with c = 1/√(out features) (the amplification
    model's original scheme, kept so its runs reproduce). Other layers (BatchNorm) keep their 1 and 0.
    """
    for layer in module.modules():
        if not isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            continue
        bound = 1.0 / math.sqrt(layer.weight[0].numel())
        layer.weight.uniform_(-bound, bound, generator=generator)
        if layer.bias is None:
            continue
        if biases == "zero":
            layer.bias.zero_()
        else:
            b = bound if biases == "fan_in" else 1.0 / math.sqrt(max(1, layer.bias.shape[-1]))
            layer.bias.uniform_(-b, b, generator=generator)


def checked_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, what: str, step: int) -> None:
    """One optimizer step on ``loss`` (a scalar), after checking it is finite: a diverged loss raises
    FloatingPointError, which ends the run ``failed`` instead of recording NaN curves."""
    if not torch.isfinite(loss):
        raise FloatingPointError(f"{what} became {loss.item()} at step {step}")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def strided_side(size: int, *strides: int) -> int:
    """Side length after convolutions padded to keep ``size`` at stride 1: ⌈size / s⌉ per stride s (28, 2, 2 → 7)."""
    for s in strides:
        size = -(-size // s)
    return size
