"""The rlhf report's claims on synthetic tables built so that each holds, fails and is inconclusive."""

import numpy as np
import pandas as pd
import pytest

from goodhartlab.experiments.rlhf import present


def curves(gold_gain_at, rater_at, seeds=3, noise=0.0, method="best-of-n", series="best-of-n"):
    """Measurements of one series: per seed, pressures 1, 2, 4, 8 with KL log n − (n−1)/n; gold_gain and rater
    from the given per-pressure lists (+ seed-dependent noise)."""
    rows = []
    for seed in range(seeds):
        for i, n in enumerate((1, 2, 4, 8)):
            e = noise * (seed - (seeds - 1) / 2)
            rows.append(
                {
                    "series": series,
                    "pressure": n,
                    "pressure_name": "n",
                    "kl": np.log(n) - (n - 1) / n,
                    "seed": seed,
                    "gold_gain": gold_gain_at[i] + e,
                    "gold_pref": 0.5 + gold_gain_at[i] + e,
                    "rater": rater_at[i] + e,
                    "proxy": float(i),
                }
            )
    m = pd.DataFrame(rows)
    s = pd.DataFrame([{"series": series, "method": method, "beta": np.nan, "group": "RLHF"}])
    return m, s


@pytest.mark.parametrize(
    "gains,noise,verdict",
    [
        ([0, 0.2, 0.3, 0.1], 0.01, "holds"),  # rises clearly
        ([0, -0.2, -0.3, -0.4], 0.01, "fails"),  # falls from the start
        (
            [0, 0.02, 0.01, -0.1],
            0.2,
            "inconclusive",
        ),  # a small rise buried in seed noise
    ],
)
def test_gold_rises_above_base(gains, noise, verdict):
    m, s = curves(gains, [0.5, 0.6, 0.7, 0.8], noise=noise)
    f = present._gold_rises(m, s, "best-of-n")
    assert f.verdict == verdict and f.claim.startswith("gold rises above π_base")


@pytest.mark.parametrize(
    "gains,rater,noise,verdict",
    [
        (
            [0, 0.3, 0.1, -0.2],
            [0.5, 0.6, 0.7, 0.8],
            0.0,
            "holds",
        ),  # gold peaks at n=2, the rater keeps rising
        (
            [0, 0.1, 0.2, 0.3],
            [0.5, 0.8, 0.6, 0.5],
            0.0,
            "fails",
        ),  # the rater peaks first
    ],
)
def test_gold_peaks_earlier_than_the_rater(gains, rater, noise, verdict):
    m, s = curves(gains, rater, noise=noise)
    f = present._peaks_earlier(m, s, "best-of-n")
    assert f.verdict == verdict


def test_gold_peaks_earlier_is_inconclusive_when_seeds_disagree():
    m1, s = curves([0, 0.3, 0.1, -0.2], [0.5, 0.6, 0.7, 0.8], seeds=2)
    m2, _ = curves([0, 0.1, 0.2, 0.3], [0.5, 0.8, 0.6, 0.5], seeds=2)
    m2["seed"] += 2
    f = present._peaks_earlier(pd.concat([m1, m2]), s, "best-of-n")
    assert f.verdict == "inconclusive"


def bribery_tables(after_top, after_zero, seeds=3, spread=0.01):
    """Two worlds (corpus offer rates 0 and 0.2); π_base offer rate 0 and 0.05; RL's final rate per seed given."""
    rows, series = [], []
    for rate, base_rate, after in ((0.0, 0.0, after_zero), (0.2, 0.05, after_top)):
        bon, rl = f"offers {rate:g} · best-of-n", f"offers {rate:g} · RL β=0.05"
        series += [
            {
                "series": bon,
                "method": "best-of-n",
                "beta": np.nan,
                "offer_rate": rate,
                "group": bon,
            },
            {
                "series": rl,
                "method": "RL",
                "beta": 0.05,
                "offer_rate": rate,
                "group": rl,
            },
        ]
        for seed in range(seeds):
            e = spread * (seed - 1)
            rows.append(
                {
                    "series": bon,
                    "pressure": 1,
                    "seed": seed,
                    "kl": 0.0,
                    "offer_or_threat_rate": base_rate,
                }
            )
            rows.append(
                {
                    "series": rl,
                    "pressure": 0,
                    "seed": seed,
                    "kl": 0.0,
                    "offer_or_threat_rate": base_rate,
                }
            )
            rows.append(
                {
                    "series": rl,
                    "pressure": 30,
                    "seed": seed,
                    "kl": 2.0,
                    "offer_or_threat_rate": max(0, after + e),
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(series)


class Cfg:
    eval_prompts, bon_pool, eval_samples = 16, 256, 8


class Results:
    config = Cfg()


@pytest.mark.parametrize(
    "after_top,after_zero,spread,verdict",
    [
        (
            0.4,
            0.0,
            0.01,
            "holds",
        ),  # amplified where π_base offers, none where it never does
        (
            0.0,
            0.3,
            0.01,
            "fails",
        ),  # found where π_base never offered, and lost where it did
        (0.06, 0.01, 0.1, "inconclusive"),
    ],
)
def test_kl_asymmetry_claim(after_top, after_zero, spread, verdict):
    m, s = bribery_tables(after_top, after_zero, spread=spread)
    findings, figures, table = present._bribery_specific(Results(), m, s)
    asym = next(f for f in findings if f.title.startswith("The KL asymmetry"))
    assert asym.verdict == verdict
    base = next(f for f in findings if f.title.startswith("π_base's offer rate"))
    assert base.verdict == "holds"  # 0.05 of 3 × 16 × 256 answers: an interval above 0
    assert list(table.corpus_offer_rate) == [0.0, 0.2] and len(figures) == 1
