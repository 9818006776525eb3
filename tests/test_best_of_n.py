"""Best-of-n: the order-statistics estimator against brute-force subsets; the KL formula against exact KL."""

import itertools
import math

import numpy as np
import pytest

from goodhartlab.optim.best_of_n import best_of_n_curve, best_of_n_kl, winner_weights


def test_weights_are_a_distribution_and_n1_is_the_pool_mean():
    W = winner_weights(300, [1, 2, 16, 256, 300])
    np.testing.assert_allclose(W.sum(1), 1.0, atol=1e-9)
    np.testing.assert_allclose(W[0], 1 / 300)
    assert W[-1, -1] == pytest.approx(1.0)  # n = N: the top-ranked sample always wins


def test_matches_exhaustive_subsets_with_ties():
    # Every n-subset enumerated: the estimator is the exact subset average, including the tie rule
    # (smallest pool index wins among equal proxies, as np.argmax over a subset in pool order).
    rng = np.random.default_rng(0)
    P, N = 3, 8
    proxy = rng.integers(0, 4, size=(P, N)).astype(float)  # many ties
    gold = rng.normal(size=(P, N))
    ns = list(range(1, N + 1))
    curve = best_of_n_curve(proxy, {"gold": gold}, ns)
    for j, n in enumerate(ns):
        per_prompt_p, per_prompt_g = [], []
        for p in range(P):
            wins = [s[int(np.argmax(proxy[p, list(s)]))] for s in itertools.combinations(range(N), n)]
            per_prompt_p.append(np.mean(proxy[p, wins]))
            per_prompt_g.append(np.mean(gold[p, wins]))
        assert curve["proxy"][j] == pytest.approx(np.mean(per_prompt_p), abs=1e-12)
        assert curve["gold"][j] == pytest.approx(np.mean(per_prompt_g), abs=1e-12)


def test_matches_brute_force_resampling():
    # Statistical check (seeded): draw many random n-subsets of a pool of 64 and keep the proxy-argmax.
    rng = np.random.default_rng(1)
    P, N, draws = 4, 64, 20000
    proxy = rng.normal(size=(P, N))
    gold = proxy - 0.5 * proxy**2 + rng.normal(scale=0.3, size=(P, N))  # a Goodhart-shaped companion
    ns = [1, 4, 16, 64]
    curve = best_of_n_curve(proxy, {"gold": gold}, ns)
    for j, n in enumerate(ns):
        g = []
        for p in range(P):
            subsets = np.argsort(rng.random((draws, N)), axis=1)[:, :n]  # uniform n-subsets
            winners = subsets[np.arange(draws), np.argmax(proxy[p][subsets], axis=1)]
            g.append(gold[p][winners])
        g = np.concatenate(g)
        se = g.std() / math.sqrt(g.size)
        assert abs(curve["gold"][j] - g.mean()) < 4 * se + 1e-9, (n, curve["gold"][j], g.mean(), se)


def test_large_n_supported():
    rng = np.random.default_rng(2)
    proxy = rng.normal(size=(2, 512))
    curve = best_of_n_curve(proxy, {}, [1, 256, 512])
    assert curve["proxy"][0] == pytest.approx(proxy.mean())
    assert curve["proxy"][2] == pytest.approx(proxy.max(1).mean())
    assert np.all(np.diff(curve["proxy"]) > 0)


def test_best_of_n_kl_formula():
    assert best_of_n_kl(1) == 0.0
    assert best_of_n_kl(2) == pytest.approx(math.log(2) - 0.5)
    assert best_of_n_kl(256) == pytest.approx(math.log(256) - 255 / 256)
    with pytest.raises(ValueError):
        best_of_n_kl(0)


@pytest.mark.parametrize("n", [2, 4, 16])
def test_kl_formula_is_an_upper_bound_on_exact_discrete_kl(n):
    # Base: a discrete distribution over M outcomes with distinct proxy scores (outcome k has rank k).
    # Best-of-n (with replacement, i.i.d. draws) picks outcome k with prob F(k)^n − F(k−1)^n, F the base CDF
    # in rank order. Its exact KL to the base is below log n − (n−1)/n, the continuous-case value — an UPPER
    # bound for discrete bases (Beirami et al. 2024), approached as the largest atom shrinks.
    # Bases: a uniform pool of M distinct samples (the empirical pool) and a random Dirichlet one.
    for make in (lambda M: np.full(M, 1 / M), lambda M: np.random.default_rng(M).dirichlet(np.ones(M))):
        gaps = []
        for M in [5, 50, 5000]:
            p = make(M)
            F = np.concatenate([[0.0], np.cumsum(p)])
            q = F[1:] ** n - F[:-1] ** n
            kl = float(np.sum(q[q > 0] * np.log(q[q > 0] / p[q > 0])))
            assert kl <= best_of_n_kl(n) + 1e-12
            gaps.append(best_of_n_kl(n) - kl)
        assert gaps[-1] < gaps[0] and gaps[-1] < 0.01
