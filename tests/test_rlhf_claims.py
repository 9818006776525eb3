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


def test_the_held_out_best_checkpoint_is_not_chosen_by_the_seed_itself():
    """A spike one seed alone has (seed 0 at n = 8) does not pick seed 0's own checkpoint: seed 0 is read where
    the other seeds' mean peaks (n = 2), so the in-sample maximum's upward bias is gone."""
    m, _ = curves([0, 0.2, 0.1, 0.0], [0.5] * 4)
    m.loc[(m.seed == 0) & (m.pressure == 8), "gold_gain"] = 1.0
    values, chosen = present.held_out_best(m)
    # seeds 1 and 2 see the spike in the others' mean (0.5 at n = 8) and are read there, at their own 0.0
    assert chosen.to_dict() == {0: 2.0, 1: 8.0, 2: 8.0}
    assert values.to_dict() == pytest.approx({0: 0.2, 1: 0.0, 2: 0.0})
    in_sample = m.groupby("pressure").gold_gain.mean().max()
    assert values.mean() < in_sample  # 0.067 against the in-sample best's 0.333


def multi_arm(gains_by_arm: dict[str, list[float]], noise_by_arm: dict[str, float]):
    """Series of several arms (groups), each with best-of-n and DPO; the first arm is the reference."""
    ms, ss = [], []
    for arm, gains in gains_by_arm.items():
        for method in ("best-of-n", "DPO"):
            name = f"{arm} · {method}"
            m, s = curves(gains, [0.5] * 4, noise=noise_by_arm[arm], method=method, series=name)
            ms.append(m)
            ss.append(s.assign(group=arm, arm=arm))
    return pd.concat(ms, ignore_index=True), pd.concat(ss, ignore_index=True)


@pytest.mark.parametrize(
    "ref_gains,ref_noise,verdict",
    [
        ([0, 0.05, 0.1, 0.05], 0.3, "inconclusive"),
        ([0, 0.3, 0.4, 0.3], 0.01, "holds"),
        ([0, -0.3, -0.2, -0.4], 0.01, "fails"),
    ],
)
def test_gold_rises_is_decided_and_printed_by_the_reference_arm(ref_gains, ref_noise, verdict):
    """Issue 11 (rlhf-bribery): the verdict and the estimate the text calls deciding are the reference arm's, even
    when another arm has a higher mean with an interval above 0."""
    m, s = multi_arm(
        {"offers 0": ref_gains, "offers 0.01": [0, 0.5, 0.6, 0.5]}, {"offers 0": ref_noise, "offers 0.01": 0.01}
    )
    f = present._gold_rises(m, s, "DPO")
    assert f.verdict == verdict and f.key == "offers 0 · DPO"
    deciding = str(f.key_estimate)
    assert f.text.index("Deciding: offers 0 · DPO: " + deciding) < f.text.index("offers 0.01 · DPO")
    assert f.text.endswith(
        f"{deciding}, "
        + {"holds": "is above 0.", "fails": "is at or below 0."}.get(verdict, "has an interval that includes 0.")
    )
    assert "not deciding" in f.text and "offers 0.01 · DPO" in f.evidence


def test_the_rl_diagnosis_states_the_result_and_points_to_the_evidence():
    m_b, s_b = curves([0, 0.2, 0.3, 0.2], [0.5] * 4, noise=0.01, series="best-of-n")
    m_r, s_r = curves([0, 0.1, -0.1, -0.2], [0.5] * 4, noise=0.3, method="RL", series="RL β=0.05")
    m = pd.concat([m_b, m_r], ignore_index=True)
    s = pd.concat([s_b, s_r.assign(beta=0.05)], ignore_index=True)
    pool = {0: 0.70, 1: 0.72, 2: 0.71}
    m["rm_gold_agreement"] = [pool[r.seed] if r.series == "best-of-n" else pool[r.seed] - 0.2 for r in m.itertuples()]
    history = pd.DataFrame(
        [
            {
                "series": "RL β=0.05",
                "seed": k,
                "step": t,
                "reward_mean": 0.1 * t,
                "log_ratio_mean": 0.05 * t,
                "grad_norm": 2.0,
            }
            for k in range(3)
            for t in range(1, 11)
        ]
    )
    found = [present._gold_rises(m, s, "RL"), present._rm_error_finding(m, s)]
    assert found[0].verdict == "inconclusive" and found[1].verdict == "holds"
    f = present._rl_diagnosis(history, m, s, found)
    assert f.text.startswith(f"RL (RL β=0.05): gold gain at the held-out best checkpoint {found[0].key_estimate}")
    assert "not shown to be above 0" in f.text and "overoptimization" in f.text
    assert "proxy reward of the sampled batch 0.15 over the first 2 steps → 0.95" in f.text
    assert set(f.evidence) == {"rl_gold_gain", "best_of_n_gold_gain", "rm_agreement_rl_minus_pool"}
