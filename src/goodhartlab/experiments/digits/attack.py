"""Projected-gradient search for images the classifier and the labeler disagree on, within a budget that
leaves the drawn digit unchanged.

The guarantee, by construction: a pixel may change only if it is background, i.e. below the ink threshold
and farther than ``guard_px`` from every ink pixel; it moves by at most ε grey levels and stays below the
threshold. So every ink pixel and its neighbourhood keep their exact values, and the image thresholded at
the ink level (the drawn strokes) is identical to the original, pixel for pixel. ``verify`` checks this on
the final uint8 images; the report shows the check.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage
from torch import nn

from goodhartlab.models.classifiers import to_input


def frozen_mask(images: np.ndarray, ink_threshold: int, guard_px: int) -> np.ndarray:
    """bool[n, H, W]: pixels the attack may not touch (ink and its ``guard_px`` neighbourhood)."""
    ink = images >= ink_threshold
    if guard_px == 0:
        return ink
    square = np.ones((1, 2 * guard_px + 1, 2 * guard_px + 1), bool)  # Chebyshev distance ≤ guard_px
    return ndimage.binary_dilation(ink, structure=square)


def pgd(
    model: nn.Module, images: np.ndarray, labels: np.ndarray, eps: int, steps: int, ink_threshold: int, guard_px: int
) -> np.ndarray:
    """uint8 adversarial images: signed-gradient ascent on the cross-entropy of the true label, step ε/4,
    projected onto the allowed box after every step; an image is frozen once misclassified."""
    x = to_input(images)
    y = torch.from_numpy(labels)
    frozen = torch.from_numpy(frozen_mask(images, ink_threshold, guard_px)).unsqueeze(1)
    e = eps / 255.0
    cap = (ink_threshold - 1) / 255.0  # changed pixels stay background
    lo = torch.where(frozen, x, (x - e).clamp(min=0.0))
    hi = torch.where(frozen, x, torch.minimum(x + e, torch.full_like(x, cap)).clamp(min=x.clamp(max=cap)))
    adv = x.clone()
    done = torch.zeros(len(x), dtype=torch.bool)
    model.eval()
    for _ in range(steps):
        adv.requires_grad_(True)
        out = model(adv)
        loss = nn.functional.cross_entropy(out, y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, adv)
        with torch.no_grad():
            done |= out.argmax(1) != y
            step = (e / 4) * grad.sign()
            step[done] = 0.0
            adv = torch.minimum(torch.maximum(adv + step, lo), hi)
    q = torch.round(adv.detach() * 255.0)
    q = torch.minimum(torch.maximum(q, torch.round(lo * 255)), torch.round(hi * 255))
    return q.squeeze(1).to(torch.uint8).numpy()


def verify(original: np.ndarray, adversarial: np.ndarray, ink_threshold: int, guard_px: int, eps: int) -> np.ndarray:
    """bool[n]: the drawn digit is unchanged (same thresholded image, frozen pixels exact, |δ| ≤ ε)."""
    frozen = frozen_mask(original, ink_threshold, guard_px)
    same_ink = ((original >= ink_threshold) == (adversarial >= ink_threshold)).all(axis=(1, 2))
    same_frozen = ((original == adversarial) | ~frozen).all(axis=(1, 2))
    within = (np.abs(original.astype(np.int16) - adversarial.astype(np.int16)) <= eps).all(axis=(1, 2))
    return same_ink & same_frozen & within
