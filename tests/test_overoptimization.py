"""The Gao et al. 2022 fits recover known α, β from synthetic data, and the peaks are where they should be."""

import math

import numpy as np
import pytest

from goodhartlab.analysis.overoptimization import fit_best_of_n, fit_rl, peak
from goodhartlab.optim.best_of_n import best_of_n_kl


def test_best_of_n_fit_recovers_parameters():
    rng = np.random.default_rng(0)
    kl = np.array([best_of_n_kl(n) for n in [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]])
    d = np.sqrt(kl)
    gold = d * (0.8 - 0.25 * d) + rng.normal(scale=0.01, size=d.size)
    fit = fit_best_of_n(kl, gold)
    assert fit.form == "bon" and fit.n == kl.size
    assert fit.alpha == pytest.approx(0.8, abs=0.03) and fit.beta == pytest.approx(0.25, abs=0.02)
    assert fit.r2 > 0.98
    assert abs(fit.alpha - 0.8) < 4 * fit.alpha_se
    kl_star, gold_star = fit.peak()
    assert kl_star == pytest.approx((0.8 / 0.5) ** 2, rel=0.15)
    grid = np.linspace(0, 10, 20001)
    gx, gy = peak(grid, fit.predict(grid))
    assert gx == pytest.approx(kl_star, abs=1e-3) and gy == pytest.approx(gold_star, abs=1e-6)


def test_rl_fit_recovers_parameters():
    rng = np.random.default_rng(1)
    kl = np.linspace(0, 30, 40)
    d = np.sqrt(kl)
    safe = np.where(d > 0, d, 1)
    gold = np.where(d > 0, d * (0.6 - 0.3 * np.log(safe)), 0) + rng.normal(scale=0.01, size=d.size)
    fit = fit_rl(kl, gold)
    assert fit.alpha == pytest.approx(0.6, abs=0.03) and fit.beta == pytest.approx(0.3, abs=0.02)
    assert fit.r2 > 0.98
    kl_star, gold_star = fit.peak()
    assert kl_star == pytest.approx(math.exp(2 * (0.6 / 0.3 - 1)), rel=0.2)
    grid = np.linspace(0, 30, 30001)
    gx, _ = peak(grid, fit.predict(grid))
    assert gx == pytest.approx(kl_star, abs=2e-3)


def test_wrong_form_fits_worse_and_bad_input():
    kl = np.linspace(0.01, 25, 30)
    d = np.sqrt(kl)
    gold = d * (1.0 - 0.3 * d)  # the best-of-n shape
    assert fit_best_of_n(kl, gold).r2 > 0.999 > fit_rl(kl, gold).r2
    with pytest.raises(ValueError, match="kl"):
        fit_rl([-1, 1, 2], [0, 0, 0])
    with pytest.raises(ValueError, match="at least 3"):
        fit_best_of_n([0, 1], [0, 1])
    assert peak([0, 1, 2], [0.1, 0.5, 0.5]) == (1.0, 0.5)
