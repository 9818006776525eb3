"""Gao et al. 2022 ("Scaling laws for reward model overoptimization") functional forms, fitted to gold.

With d = √KL(π‖π_base) and gold measured relative to the base policy (gold(π) − gold(π_base)):

    best-of-n:  R(d) = d (α − β d)          peak at d* = α / (2β),        R* = α² / (4β)
    RL:         R(d) = d (α − β log d)      peak at d* = exp(α/β − 1),    R* = β d*

Both forms are linear in (α, β), so the least-squares fit (no intercept: R(0) = 0) is exact and unique;
``scipy.optimize.curve_fit`` gives it with standard errors. R² = 1 − SS_res / SS_tot, SS_tot about the mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit


def _bon(d, alpha, beta):
    return d * (alpha - beta * d)


def _rl(d, alpha, beta):
    # d log d → 0 as d → 0
    safe = np.where(d > 0, d, 1.0)
    return np.where(d > 0, d * (alpha - beta * np.log(safe)), 0.0)


FORMS = {"bon": _bon, "rl": _rl}


@dataclass(frozen=True)
class GaoFit:
    alpha: float
    beta: float
    r2: float
    form: str  # "bon" | "rl"
    alpha_se: float = math.nan
    beta_se: float = math.nan
    n: int = 0

    def predict(self, kl) -> np.ndarray:
        return FORMS[self.form](np.sqrt(np.asarray(kl, dtype=float)), self.alpha, self.beta)

    def peak(self) -> tuple[float, float]:
        """(KL at the fitted peak, fitted gold there); (inf, inf) when the fit has no maximum (β ≤ 0)."""
        if self.beta <= 0:
            return math.inf, math.inf
        if self.form == "bon":
            d = self.alpha / (2 * self.beta)
            if d <= 0:  # decreasing from the start: the peak is at KL = 0
                return 0.0, 0.0
        else:
            d = math.exp(self.alpha / self.beta - 1)
        return d * d, float(FORMS[self.form](np.array(d), self.alpha, self.beta))


def _fit(kl, gold, form: str) -> GaoFit:
    kl = np.asarray(kl, dtype=float)
    gold = np.asarray(gold, dtype=float)
    if kl.shape != gold.shape or kl.ndim != 1:
        raise ValueError("kl, gold: must be 1-D arrays of the same length")
    ok = np.isfinite(kl) & np.isfinite(gold)
    if np.any(kl[ok] < 0):
        raise ValueError("kl: must be ≥ 0 (nats)")
    kl, gold = kl[ok], gold[ok]
    if kl.size < 3:
        raise ValueError("kl, gold: need at least 3 finite points to fit two parameters")
    d = np.sqrt(kl)
    f = FORMS[form]
    # Linear least squares for the start; curve_fit then returns the same optimum plus its covariance.
    X = np.stack([f(d, 1.0, 0.0), f(d, 0.0, 1.0)], axis=1)  # [n, 2] columns ∂R/∂α, ∂R/∂β (R is linear in both)
    p0 = np.linalg.lstsq(X, gold, rcond=None)[0]
    try:
        params, cov = curve_fit(f, d, gold, p0=p0)
        se = np.sqrt(np.diag(cov))
    except (RuntimeError, ValueError):
        params, se = p0, np.array([math.nan, math.nan])
    resid = gold - f(d, *params)
    ss_tot = float(((gold - gold.mean()) ** 2).sum())
    r2 = 1 - float((resid**2).sum()) / ss_tot if ss_tot > 0 else math.nan
    return GaoFit(float(params[0]), float(params[1]), r2, form, float(se[0]), float(se[1]), int(kl.size))


def fit_best_of_n(kl, gold) -> GaoFit:
    """Fit gold ≈ d(α − β d), d = √KL (Gao et al. 2022, eq. for best-of-n)."""
    return _fit(kl, gold, "bon")


def fit_rl(kl, gold) -> GaoFit:
    """Fit gold ≈ d(α − β log d), d = √KL (Gao et al. 2022, eq. for RL)."""
    return _fit(kl, gold, "rl")


def peak(x, y) -> tuple[float, float]:
    """(x, y) at the maximum of a measured or fitted curve (first one on ties; NaNs ignored)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.size == 0:
        raise ValueError("x, y: must be non-empty and the same shape")
    if not np.any(np.isfinite(y)):
        return math.nan, math.nan
    i = int(np.nanargmax(y))
    return float(x[i]), float(y[i])
