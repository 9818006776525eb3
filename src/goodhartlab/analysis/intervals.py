"""Uncertainty for reported numbers: bootstrap intervals for means, Wilson intervals for proportions."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from goodhartlab.core.records import Interval


def wilson(successes: int, n: int, level: float = 0.95) -> Interval:
    """Wilson score interval for a binomial proportion (Wilson 1927)."""
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, level)
    z = stats.norm.ppf(0.5 + level / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), level)


def bootstrap_mean(values, rng: np.random.Generator, level: float = 0.95, n_boot: int = 2000) -> Interval:
    """Percentile bootstrap interval for the mean of ``values`` (Efron & Tibshirani 1993, ch. 13)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return Interval(math.nan, math.nan, math.nan, level)
    if x.size == 1 or np.all(x == x[0]):
        return Interval(float(x.mean()), float(x.mean()), float(x.mean()), level)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(x.mean()), float(lo), float(hi), level)
