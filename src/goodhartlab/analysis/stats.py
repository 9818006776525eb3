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
(``scipy.stats.binomtest(...).proportion_ci``). Two independent groups (e.g. tampering vs honest learners,
in- vs off-distribution images) use Welch's t interval below 20 units per group and a two-sample BCa bootstrap
above. Results computed exactly (dynamic programming over every state, a whole enumerated question space) are
:func:`exact` estimates: their interval is the value itself, so a verdict on them is never inconclusive.
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


def _all_equal(x: np.ndarray) -> bool:
    """Every unit has the same value, up to float rounding (1e-9 relative): a difference of two sums that are
    equal in exact arithmetic often differs in the 16th digit, which would print as a zero-width t interval."""
    return bool(np.ptp(x) <= 1e-9 * max(1.0, float(np.max(np.abs(x)))))


def mean(values: Sequence[float], unit: str, *, seed: int = 0, level: float = LEVEL) -> Estimate:
    """Mean of one value per independent unit, with a t (n < 20) or BCa bootstrap (n >= 20) interval.

    Non-finite values are dropped and the n reported is the number kept, so a dropped unit is visible.
    """
    x = _finite(values)
    if x.size < MIN_UNITS:
        return _few(x, unit, "values")
    m = float(x.mean())
    if _all_equal(x):
        return Estimate(m, m, m, int(x.size), "all values equal", unit, level, ())
    if x.size < BOOTSTRAP_MIN:
        half = float(sps.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
        return Estimate(m, m - half, m + half, int(x.size), "Student t", unit, level, ())
    res = sps.bootstrap(
        (x,), np.mean, confidence_level=level, method="BCa", n_resamples=4000, random_state=np.random.default_rng(seed)
    )
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (math.isfinite(lo) and math.isfinite(hi)):  # BCa degenerates on near-constant data
        res = sps.bootstrap(
            (x,),
            np.mean,
            confidence_level=level,
            method="percentile",
            n_resamples=4000,
            random_state=np.random.default_rng(seed),
        )
        return Estimate(
            m,
            float(res.confidence_interval.low),
            float(res.confidence_interval.high),
            int(x.size),
            "percentile bootstrap",
            unit,
            level,
            (),
        )
    return Estimate(m, lo, hi, int(x.size), "BCa bootstrap", unit, level, ())


def paired(a: Sequence[float], b: Sequence[float], unit: str, *, seed: int = 0, level: float = LEVEL) -> Estimate:
    """Mean of a − b over units that were measured under both (a[i] and b[i] share unit i)."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired: a and b must hold one value per unit each, got {a.shape} and {b.shape}")
    d = a - b
    # A difference within float rounding of the values themselves is 0: two sums equal in exact arithmetic
    # (e.g. the same policy scored twice) must not read as a tiny effect with a zero-width interval.
    d[np.abs(d) <= 1e-12 * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))] = 0.0
    return mean(d, unit, seed=seed, level=level)


def proportion(successes: int, trials: int, unit: str, *, level: float = LEVEL) -> Estimate:
    """A proportion of independent trials with the Wilson score interval (Wilson 1927)."""
    successes, trials = int(successes), int(trials)
    if trials < MIN_UNITS:
        p = successes / trials if trials else math.nan
        return Estimate(p, None, None, trials, "values", unit, level, (p,) if trials else ())
    ci = sps.binomtest(successes, trials).proportion_ci(confidence_level=level, method="wilson")
    return Estimate(successes / trials, float(ci.low), float(ci.high), trials, "Wilson", unit, level, ())


def clustered_proportion(
    successes: Sequence[float], trials: Sequence[float], unit: str, *, seed: int = 0, level: float = LEVEL
) -> Estimate:
    """A pooled proportion Σ successes / Σ trials over clusters (e.g. games within images, episodes within
    seeds), with a bootstrap that resamples whole clusters, the independent unit."""
    s, t = np.asarray(successes, dtype=float).ravel(), np.asarray(trials, dtype=float).ravel()
    keep = np.isfinite(s) & np.isfinite(t) & (t > 0)
    s, t = s[keep], t[keep]
    if s.size < MIN_UNITS:
        x = s / t
        return Estimate(
            float(s.sum() / t.sum()) if t.size else math.nan,
            None,
            None,
            int(s.size),
            "values",
            unit,
            level,
            tuple(float(v) for v in x),
        )
    p = float(s.sum() / t.sum())
    x = s / t
    if np.all(t == 1) or np.all(x == x[0]):
        # One trial per cluster, or every cluster alike (all won, all lost): the bootstrap would collapse to a
        # zero-width interval, so give Wilson's interval over the clusters, each counted once.
        k = int(round(float(x.sum())))
        ci = sps.binomtest(k, int(s.size)).proportion_ci(confidence_level=level, method="wilson")
        method = "Wilson" if np.all(t == 1) else "Wilson over clusters (all clusters alike)"
        return Estimate(p, float(ci.low), float(ci.high), int(s.size), method, unit, level, ())
    idx = np.random.default_rng(seed).integers(0, s.size, size=(4000, s.size))
    boots = s[idx].sum(axis=1) / t[idx].sum(axis=1)
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return Estimate(p, float(lo), float(hi), int(s.size), "cluster percentile bootstrap", unit, level, ())


def difference(a: Sequence[float], b: Sequence[float], unit: str, *, seed: int = 0, level: float = LEVEL) -> Estimate:
    """mean(a) − mean(b) for two *independent* groups of units (Welch t below 20 per group, else BCa bootstrap).

    ``n`` is the smaller group's size; below 3 units in either group there is no interval, and ``values``
    holds the two group means.
    """
    x, y = _finite(a), _finite(b)
    d = float(x.mean() - y.mean()) if x.size and y.size else math.nan
    n = int(min(x.size, y.size))
    if n < MIN_UNITS:
        vals = tuple(float(v.mean()) for v in (x, y) if v.size)
        return Estimate(d, None, None, n, "values (group means)", unit, level, vals)
    if _all_equal(x) and _all_equal(y):
        return Estimate(d, d, d, n, "all values equal", unit, level, ())
    if n < BOOTSTRAP_MIN:
        ci = sps.ttest_ind(x, y, equal_var=False).confidence_interval(level)
        return Estimate(d, float(ci.low), float(ci.high), n, "Welch t", unit, level, ())
    res = sps.bootstrap(
        (x, y),
        lambda u, v, axis=-1: u.mean(axis) - v.mean(axis),
        confidence_level=level,
        method="BCa",
        n_resamples=4000,
        random_state=np.random.default_rng(seed),
    )
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        res = sps.bootstrap(
            (x, y),
            lambda u, v, axis=-1: u.mean(axis) - v.mean(axis),
            confidence_level=level,
            method="percentile",
            n_resamples=4000,
            random_state=np.random.default_rng(seed),
        )
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        return Estimate(d, lo, hi, n, "percentile bootstrap (two-sample)", unit, level, ())
    return Estimate(d, lo, hi, n, "BCa bootstrap (two-sample)", unit, level, ())


def exact(value: float, n: int, unit: str, method: str = "exact") -> Estimate:
    """A number computed exactly over all ``n`` units (no sampling): its interval is the value itself."""
    v = float(value)
    return Estimate(v, v, v, int(n), method, unit, LEVEL, ())


def per_unit(frame, unit: str, value: str, by: Sequence[str] = ()):
    """One value per independent unit: the mean of ``value`` over the rows sharing ``unit`` (and ``by``).

    Use it before :func:`mean` when rows nest inside the unit (pairs within a seed, models within an image).
    """
    keys = [*by, unit]
    return frame.groupby(keys, sort=True)[value].mean().reset_index()


def curve(frame, by: str, value: str, unit: str = "seed"):
    """Per value of ``by``: the mean over units with its interval (NaN below 3 units) and the units' values.

    Rows sharing a unit at one ``by`` are averaged first, so each unit counts once. Returns a DataFrame with
    columns ``by``, mean, low, high, n, method, values (a tuple, for drawing the points themselves).
    """
    import pandas as pd

    rows = []
    if unit in frame.columns:
        frame = frame.groupby([by, unit], sort=True)[value].mean().reset_index()
    for x, g in frame.groupby(by, sort=True):
        e = mean(g[value].to_numpy(dtype=float), unit)
        rows.append(
            {
                by: x,
                "mean": e.estimate,
                "low": math.nan if e.low is None else e.low,
                "high": math.nan if e.high is None else e.high,
                "n": e.n,
                "method": e.method,
                "values": tuple(float(v) for v in g[value] if np.isfinite(v)),
            }
        )
    return pd.DataFrame(rows, columns=[by, "mean", "low", "high", "n", "method", "values"])


def fmt(e: Estimate, digits: int = 3) -> str:
    """Short form for tables: '0.512 [0.48, 0.55]' or '0.51 (values 0.50, 0.52)'."""
    if e.estimate is None or not math.isfinite(e.estimate):
        return "n/a"
    if not e.has_interval:
        return f"{e.estimate:.{digits}g} (values " + ", ".join(f"{v:.{digits}g}" for v in e.values) + ")"
    if e.low == e.high == e.estimate:
        return f"{e.estimate:.{digits}g}"
    return f"{e.estimate:.{digits}g} [{e.low:.{digits}g}, {e.high:.{digits}g}]"


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


def deciding(verdicts: dict[str, str], overall: str) -> str:
    """For a claim combined with :func:`all_of` / :func:`any_of`: the first part whose own verdict is the claim's
    (the number that decided it), for the verdict table's key number."""
    return next((k for k, v in verdicts.items() if v == overall), next(iter(verdicts), ""))


def any_of(*verdicts: str) -> str:
    """A disjunction: holds if some part holds, fails if every part fails, else inconclusive."""
    if any(v == "holds" for v in verdicts):
        return "holds"
    return "fails" if verdicts and all(v == "fails" for v in verdicts) else "inconclusive"


def claim_finding(
    title: str,
    claim: str,
    estimate: Estimate,
    *,
    direction: Direction = ">",
    threshold: float = 0.0,
    holds: str,
    fails: str,
    inconclusive: str,
    key: str = "estimate",
    anchor: str = "",
    extra: dict[str, Estimate] | None = None,
) -> Finding:
    """A :class:`Finding` whose text is chosen by the computed verdict.

    ``holds``/``fails``/``inconclusive`` are the texts for each verdict; each may use ``{est}`` (the estimate
    with its interval, method and n) and ``{threshold}``.
    """
    v = verdict(estimate, direction, threshold)
    text = {"holds": holds, "fails": fails, "inconclusive": inconclusive}[v].format(est=estimate, threshold=threshold)
    evidence = {key: estimate, **(extra or {})}
    return Finding(title=title, text=text, claim=claim, verdict=v, evidence=evidence, anchor=anchor, key=key)


def finding(
    title: str,
    claim: str,
    verdict_: str,
    evidence: dict[str, Estimate],
    *,
    holds: str,
    fails: str,
    inconclusive: str,
    key: str = "",
    anchor: str = "",
    numbers: dict[str, float] | None = None,
    **fields,
) -> Finding:
    """A :class:`Finding` for a verdict computed by the caller (e.g. :func:`all_of` over several estimates);
    the text is chosen by that verdict and formatted with ``fields`` and each evidence's str()."""
    text = {"holds": holds, "fails": fails, "inconclusive": inconclusive}[verdict_]
    text = text.format(**{k: str(e) for k, e in evidence.items()}, **fields)
    return Finding(
        title=title,
        text=text,
        claim=claim,
        verdict=verdict_,
        evidence=evidence,
        anchor=anchor,
        key=key or next(iter(evidence), ""),
        numbers=numbers or {},
    )
