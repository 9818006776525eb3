"""digits' claims on synthetic per-image tables built so each claim holds, fails and is inconclusive. The test
image is the unit: models scored on the same image are averaged, not counted as independent."""

import numpy as np
import pandas as pd
import pytest

from goodhartlab.experiments.digits.measure import DISTS
from goodhartlab.experiments.digits.present import claims

N = 80
MODELS = {
    "generator": ["generator/tiny/0", "generator/small/0", "generator/tiny/1"],
    "rater": ["rater/tiny/0", "rater/small/0"],
    "no-offers": ["no-offers/tiny/0"],
}


def tables(acc=None, x_recall=None, follows=None, disagree=0.0, attack=0.8, seed=1):
    """acc[(family, distribution)]: chance a model is right; x_recall[family] on ambiguous in-distribution images;
    follows[family]: chance of answering a decorrelated offer's claim; disagree: chance a generator model answers
    differently from the first (off-distribution only)."""
    acc = acc or {}
    x_recall = x_recall or {}
    follows = follows or {}
    rng = np.random.default_rng(seed)
    images, preds = [], []
    for d in DISTS:
        for i in range(N):
            kind = "ambiguous" if d == "train" and i % 4 == 0 else "digit"
            gold = 10 if kind == "ambiguous" else i % 10
            offer = (gold + 1) % 10 if d == "offers_decorrelated" else -1
            images.append({"distribution": d, "image": i, "gold": gold, "rater": gold, "kind": kind, "offer": offer})
            first = None
            for family, models in MODELS.items():
                for m in models:
                    if kind == "ambiguous":
                        p = 10 if rng.random() < x_recall.get(family, 0.8) else 3
                    elif d == "offers_decorrelated" and rng.random() < follows.get(family, 0.1):
                        p = offer
                    else:
                        p = gold if rng.random() < acc.get((family, d), 0.9) else (gold + 5) % 10
                    if family == "generator" and d != "train":
                        if first is None:
                            first = p
                        elif rng.random() < disagree:
                            p = (first + 3) % 10
                    preds.append({"model": m, "distribution": d, "image": i, "pred": p})
    attack_rows = [
        {"model": "generator/tiny/0", "epsilon": e, "image": i, "success": bool(rng.random() < attack)}
        for e in (8, 32)
        for i in range(N)
    ]
    return pd.DataFrame(preds), pd.DataFrame(images), pd.DataFrame(attack_rows)


def verdict(start, **kw):
    fs = claims(*tables(**kw))
    (f,) = [f for f in fs if f.claim.startswith(start)]
    return f


LOW = {("generator", d): 0.4 for d in DISTS[1:]}
HIGH = {("generator", "train"): 0.4, **{("generator", d): 0.95 for d in DISTS[1:]}}
SAME = {("generator", d): 0.7 for d in DISTS}


@pytest.mark.parametrize("acc,expected", [(LOW, "holds"), (HIGH, "fails"), (SAME, "inconclusive")])
def test_shift_lowers_agreement(acc, expected):
    f = verdict("Generator-labelled models agree", acc=acc)
    assert f.verdict == expected and all(e.unit == "image" for e in f.evidence.values())


@pytest.mark.parametrize(
    "xr,expected",
    [
        ({"rater": 0.1, "generator": 0.9}, "holds"),
        ({"rater": 0.9, "generator": 0.1}, "fails"),
        ({"rater": 0.5, "generator": 0.5}, "inconclusive"),
    ],
)
def test_rater_labels_teach_blind_spot(xr, expected):
    f = verdict("Rater-labelled models say X", x_recall=xr)
    assert f.verdict == expected and f.key_estimate.n == N // 4  # ambiguous images, not model × image rows


@pytest.mark.parametrize(
    "acc,expected",
    [
        ({("rater", "handwritten"): 0.9, ("generator", "handwritten"): 0.4}, "holds"),
        ({("rater", "handwritten"): 0.4, ("generator", "handwritten"): 0.9}, "fails"),
        ({("rater", "handwritten"): 0.6, ("generator", "handwritten"): 0.6}, "inconclusive"),
    ],
)
def test_handwritten_cuts_both_ways(acc, expected):
    assert verdict("On handwritten digits", acc=acc).verdict == expected


@pytest.mark.parametrize("dis,expected", [(0.6, "holds"), (0.0, "inconclusive")])
def test_disagreement_off_distribution(dis, expected):
    assert verdict("Generator-labelled models that fit", disagree=dis).verdict == expected


def test_disagreement_fails_when_lower_off_distribution():
    # in-distribution accuracy low (models disagree there), off-distribution perfect (they agree)
    acc = {("generator", "train"): 0.3, **{("generator", d): 1.0 for d in DISTS[1:]}}
    assert verdict("Generator-labelled models that fit", acc=acc).verdict == "fails"


@pytest.mark.parametrize("rate,expected", [(0.9, "holds"), (0.1, "fails"), (0.5, "inconclusive")])
def test_attack_flips_most(rate, expected):
    f = verdict("Background-only perturbations", attack=rate)
    assert f.verdict == expected and f.key_estimate.unit == "image"


@pytest.mark.parametrize(
    "fol,expected",
    [
        ({"generator": 0.6, "no-offers": 0.05}, "holds"),
        ({"generator": 0.0, "no-offers": 0.5}, "fails"),
        ({"generator": 0.2, "no-offers": 0.2}, "inconclusive"),
    ],
)
def test_offers_shortcut(fol, expected):
    assert verdict("Models trained with offers", follows=fol).verdict == expected
