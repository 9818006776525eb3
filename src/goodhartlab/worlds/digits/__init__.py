"""Digits: rendered and handwritten digits, non-digits and ambiguous images with their true label in
{0,…,9,X}; the generator is the Platonic labeler. See ``world.py``."""

from goodhartlab.worlds.digits.config import DigitsWorldConfig, Transforms
from goodhartlab.worlds.digits.rater import NoisyRater
from goodhartlab.worlds.digits.world import (
    DISTRIBUTIONS,
    LABEL_X,
    SHIFTS,
    DigitsBatch,
    DigitsWorld,
    downsample,
    downsample28,
)

__all__ = [
    "DISTRIBUTIONS",
    "LABEL_X",
    "SHIFTS",
    "DigitsBatch",
    "DigitsWorld",
    "DigitsWorldConfig",
    "NoisyRater",
    "Transforms",
    "downsample",
    "downsample28",
]
