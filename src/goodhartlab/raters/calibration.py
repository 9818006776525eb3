"""Calibrate a rater's loophole strength on π_base answer pairs, before any optimization.

The fact calibrated to: human labellers agree with researchers on 77 ± 2% of summary comparisons (Stiennon
et al. 2020, §C.2 / Table 3 of their appendix). Here *agreement* is the probability that the rater's
(Boltzmann) pick on a pair of π_base answers is the answer gold scores higher, over pairs gold does not tie.
One dial, the strength t of :meth:`Loopholes.scaled` (0 = gold on the calibrated loopholes, 1 = the full
profile), is searched on a grid and then by bisection for the agreement closest to the target. Only π_base's
answers, the rater and gold's order of those answers enter; no optimizer, no outcome curve.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from goodhartlab.raters.loopholes import Loopholes

STIENNON_AGREEMENT = 0.77  # labeller–researcher agreement, Stiennon et al. 2020 (77 ± 2%)
GRID = tuple(np.round(np.linspace(0.0, 1.0, 11), 2))


@dataclass(frozen=True)
class Calibration:
    strength: float
    loopholes: Loopholes
    agreement: float  # P(rater's pick = gold's) on untied π_base pairs, with the rater's noise
    noiseless_agreement: float  # the rater's own order (no noise) vs gold's; rater ties count ½
    untied_pairs: int
    table: list[dict]  # every strength tried, in order of trial


def agreement(
    rater,
    gold_a: np.ndarray,
    gold_b: np.ndarray,
    qids: Sequence[int],
    a: Sequence[str],
    b: Sequence[str],
) -> tuple[float, float, int]:
    """(agreement with noise, noiseless agreement, untied pairs) of ``rater`` with gold on pairs (a, b)."""
    keep = gold_a != gold_b
    if not keep.any():
        return float("nan"), float("nan"), 0
    q = [x for x, k in zip(qids, keep) if k]
    aa = [x for x, k in zip(a, keep) if k]
    bb = [x for x, k in zip(b, keep) if k]
    gold_first = gold_a[keep] > gold_b[keep]
    p = rater.prefer(q, aa, bb)
    noisy = np.where(gold_first, p, 1 - p)
    d = rater.score(q, aa) - rater.score(q, bb)
    hard = np.where(d == 0, 0.5, (d > 0) == gold_first)
    return float(noisy.mean()), float(hard.mean()), int(keep.sum())


def calibrate(
    make_rater: Callable[[Loopholes], object],
    profile: Loopholes,
    gold_a: np.ndarray,
    gold_b: np.ndarray,
    qids: Sequence[int],
    a: Sequence[str],
    b: Sequence[str],
    target: float = STIENNON_AGREEMENT,
    bisections: int = 7,
) -> Calibration:
    """The strength t in [0, 1] whose rater ``make_rater(profile.scaled(t))`` agrees with gold closest to
    ``target`` on the π_base pairs (qids, a, b) with gold scores (gold_a, gold_b)."""
    gold_a, gold_b = np.asarray(gold_a, dtype=float), np.asarray(gold_b, dtype=float)
    rows: dict[float, dict] = {}

    def trial(t: float) -> float:
        t = float(round(t, 4))
        if t not in rows:
            noisy, hard, n = agreement(make_rater(profile.scaled(t)), gold_a, gold_b, qids, a, b)
            rows[t] = {
                "strength": t,
                "agreement": noisy,
                "noiseless_agreement": hard,
                "untied_pairs": n,
            }
        return rows[t]["agreement"]

    values = [trial(t) for t in GRID]
    # Agreement falls as the loopholes grow; bisect between the last grid point above the target and the next.
    above = [t for t, v in zip(GRID, values) if v >= target]
    below = [t for t, v in zip(GRID, values) if v < target]
    if above and below and max(above) < min(below):
        lo, hi = max(above), min(below)
        for _ in range(bisections):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if trial(mid) >= target else (lo, mid)
    best = min(rows.values(), key=lambda r: (abs(r["agreement"] - target), r["strength"]))
    table = [{**r, "chosen": r is best, "target": target} for r in rows.values()]
    return Calibration(
        best["strength"],
        profile.scaled(best["strength"]),
        best["agreement"],
        best["noiseless_agreement"],
        best["untied_pairs"],
        table,
    )
