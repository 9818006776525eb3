"""The statistics every finding, figure and sweep report uses.

Rules (DESIGN.md, "Statistics"):
- resample or count the *independent unit* (seed, image, model); where units nest (games within images,
  models within seeds) pass the outer unit's values, e.g. per-image means, to these functions;
- every :class:`~goodhartlab.core.records.Estimate` carries its method, its n and its unit;
- below :data:`MIN_UNITS` units there is no interval: the values themselves are kept and every verdict
  built on them is ``inconclusive``.

Means over few units (seeds: 3 to 19) use Student's t interval, which has its nominal coverage for normal
data at any n; a percentile bootstrap over 3 seeds covers about 75% (measured in issue 10). From
:data:`BOOTSTRAP_MIN` units on, the BCa bootstrap (``scipy.stats.bootstrap``) is used instead, which does not
assume normality. Proportions of independent trials use the Wilson interval
(``scipy.stats.binomtest(...).proportion_ci``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats as sps

from goodhartlab.core.records import Estimate, Finding

MIN_UNITS = 3
BOOTSTRAP_MIN = 20
LEVEL = 0.95

Direction = str  # ">" (claim: value above threshold) or "<" (claim: value below threshold)


def _finite(values) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    return x[np.isfinite(x)]


def _few(x: np.ndarray, unit: str, method: str) -> Estimate:
    est = float(x.mean()) if x.size else math.nan
    return Estimate(est, None, None, int(x.size), method, unit, LEVEL, tuple(float(v) for v in x))


def mean(values: Sequence[float], unit: str, *, seed: int = 0, level: float = LEVEL) -> Estimate:
    """Mean of one value per independent unit, with a t (n < 20) or BCa bootstrap (n >= 20) interval.

    Non-finite values are dropped and the n reported is the number kept, so a dropped unit is visible.
    """
    x = _finite(values)
    if x.size < MIN_UNITS:
        return _few(x, unit, "values")
    m = float(x.mean())
    if np.all(x == x[0]):
        return Estimate(m, m, m, int(x.size), "all values equal", unit, level, ())
    if x.size < BOOTSTRAP_MIN:
        half = float(sps.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
        return Estimate(m, m - half, m + half, int(x.size), "Student t", unit, level, ())
    res = sps.bootstrap((x,), np.mean, confidence_level=level, method="BCa", n_resamples=4000,
                        random_state=np.random.default_rng(seed))
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (math.isfinite(lo) and math.isfinite(hi)):  # BCa degenerates on near-constant data
        res = sps.bootstrap((x,), np.mean, confidence_level=level, method="percentile", n_resamples=4000,
                            random_state=np.random.default_rng(seed))
        return Estimate(m, float(res.confidence_interval.low), float(res.confidence_interval.high), int(x.size),
                        "percentile bootstrap", unit, level, ())
    return Estimate(m, lo, hi, int(x.size), "BCa bootstrap", unit, level, ())


def paired(a: Sequence[float], b: Sequence[float], unit: str, *, seed: int = 0, level: float = LEVEL) -> Estimate:
    """Mean of a − b over units that were measured under both (a[i] and b[i] share unit i)."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired: a and b must hold one value per unit each, got {a.shape} and {b.shape}")
    return mean(a - b, unit, seed=seed, level=level)


def proportion(successes: int, trials: int, unit: str, *, level: float = LEVEL) -> Estimate:
    """A proportion of independent trials with the Wilson score interval (Wilson 1927)."""
    successes, trials = int(successes), int(trials)
    if trials < MIN_UNITS:
        p = successes / trials if trials else math.nan
        return Estimate(p, None, None, trials, "values", unit, level, (p,) if trials else ())
    ci = sps.binomtest(successes, trials).proportion_ci(confidence_level=level, method="wilson")
    return Estimate(successes / trials, float(ci.low), float(ci.high), trials, "Wilson", unit, level, ())


def clustered_proportion(successes: Sequence[float], trials: Sequence[float], unit: str, *, seed: int = 0,
                         level: float = LEVEL) -> Estimate:
    """A pooled proportion Σ successes / Σ trials over clusters (e.g. games within images, episodes within
    seeds), with a bootstrap that resamples whole clusters, the independent unit."""
    s, t = np.asarray(successes, dtype=float).ravel(), np.asarray(trials, dtype=float).ravel()
    keep = np.isfinite(s) & np.isfinite(t) & (t > 0)
    s, t = s[keep], t[keep]
    if s.size < MIN_UNITS:
        x = s / t
        return Estimate(float(s.sum() / t.sum()) if t.size else math.nan, None, None, int(s.size), "values", unit,
                        level, tuple(float(v) for v in x))
    p = float(s.sum() / t.sum())
    idx = np.random.default_rng(seed).integers(0, s.size, size=(4000, s.size))
    boots = s[idx].sum(axis=1) / t[idx].sum(axis=1)
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return Estimate(p, float(lo), float(hi), int(s.size), "cluster percentile bootstrap", unit, level, ())


def verdict(estimate: Estimate, direction: Direction = ">", threshold: float = 0.0) -> str:
    """``holds`` when the interval lies wholly on the claimed side of ``threshold``, ``fails`` when it lies
    wholly on the other side (or touches it from there), ``inconclusive`` otherwise or without an interval."""
    if direction not in (">", "<"):
        raise ValueError(f"direction must be '>' or '<', got {direction!r}")
    if not estimate.has_interval or not (math.isfinite(estimate.low) and math.isfinite(estimate.high)):
        return "inconclusive"
    lo, hi = estimate.low, estimate.high
    if direction == "<":
        lo, hi, threshold = -hi, -lo, -threshold
    if lo > threshold:
        return "holds"
    if hi <= threshold:
        return "fails"
    return "inconclusive"


def all_of(*verdicts: str) -> str:
    """A conjunction: holds if every part holds, fails if any part fails, else inconclusive."""
    if any(v == "fails" for v in verdicts):
        return "fails"
    return "holds" if verdicts and all(v == "holds" for v in verdicts) else "inconclusive"


def claim_finding(title: str, claim: str, estimate: Estimate, *, direction: Direction = ">",
                  threshold: float = 0.0, holds: str, fails: str, inconclusive: str, key: str = "estimate",
                  anchor: str = "", extra: dict[str, Estimate] | None = None) -> Finding:
    """A :class:`Finding` whose text is chosen by the computed verdict.

    ``holds``/``fails``/``inconclusive`` are the texts for each verdict; each may use ``{est}`` (the estimate
    with its interval, method and n) and ``{threshold}``.
    """
    v = verdict(estimate, direction, threshold)
    text = {"holds": holds, "fails": fails, "inconclusive": inconclusive}[v].format(est=estimate, threshold=threshold)
    evidence = {key: estimate, **(extra or {})}
    return Finding(title=title, text=text, claim=claim, verdict=v, evidence=evidence, anchor=anchor)
