"""amplification's claims on synthetic tables built so each claim holds, fails and is inconclusive."""

import numpy as np
import pandas as pd
import pytest

from goodhartlab.experiments.amplification.present import claims


def tables(
    imi=(0.9, 0.91, 0.92),
    app=(0.5, 0.52, 0.54),
    wba=(0.2, 0.22, 0.24),
    hch=(0.6, 0.95),
    gamed=3,
    not_hch=0,
    sup=(0.95, 0.96, 0.97),
    debate=(0.9, 0.3),
    n_q=60,
):
    m = []
    for seed in range(len(imi)):
        for r in (0, 1):
            for scheme, acc in (("imitative", imi[seed]), ("approval", app[seed])):
                m.append(
                    {
                        "series": scheme,
                        "pressure": r,
                        "seed": seed,
                        "gold": acc if r else 0.1,
                        "rater": 0.8,
                        "hch_agreement": acc,
                        "wrong_but_approved": wba[seed] if scheme == "approval" else 0.0,
                        "h_calls": 100.0,
                    }
                )
    hch_depth = pd.DataFrame(
        [
            {
                "depth": d,
                "task": "all",
                "questions": 50,
                "accuracy": a,
                "accuracy_error_free_h": 1.0,
                "h_calls_mean": 3.0 * (d + 1),
            }
            for d, a in enumerate(hch)
        ]
    )
    optimum = pd.DataFrame(
        [
            {"task": "perm", "questions": 10, "questions_gamed": gamed, "imitative_aligned_hch": True},
            {"task": "wild", "questions": 9, "questions_gamed": 0, "imitative_aligned_hch": not_hch == 0},
        ]
    )
    supervised = pd.DataFrame(
        [{"labels": 50, "fraction": 1.0, "seed": s, "accuracy": a} for s, a in enumerate(sup)]
        + [{"labels": 25, "fraction": 0.5, "seed": s, "accuracy": 0.5} for s in range(len(sup))]
    )
    rng = np.random.default_rng(0)
    d = pd.DataFrame(
        {
            "debate_correct": rng.random(n_q) < debate[0],
            "alone_correct": rng.random(n_q) < debate[1],
            "steps": 2,
            "task": "perm",
        }
    )
    return pd.DataFrame(m), {"hch_depth": hch_depth, "optimum": optimum, "supervised": supervised, "debate": d}


def verdict(start, **kw):
    m, t = tables(**kw)
    (f,) = [f for f in claims(m, t, "parity") if f.claim.startswith(start)]
    return f.verdict


@pytest.mark.parametrize("hch,expected", [((0.6, 0.95), "holds"), ((0.9, 0.8), "fails")])
def test_hch_beats_h_alone_exactly(hch, expected):
    assert verdict("HCH at full depth", hch=hch) == expected  # exact over the question space: never inconclusive


@pytest.mark.parametrize(
    "app,expected", [((0.5, 0.52, 0.54), "holds"), ((0.99, 0.99, 1.0), "fails"), ((0.5, 0.99, 0.95), "inconclusive")]
)
def test_imitative_beats_approval(app, expected):
    assert verdict("Imitative amplification ends", app=app) == expected


@pytest.mark.parametrize(
    "wba,expected", [((0.2, 0.22, 0.24), "holds"), ((0.0, 0.0, 0.0), "fails"), ((0.0, 0.3, 0.0), "inconclusive")]
)
def test_wrong_but_approved(wba, expected):
    assert verdict("The approval-trained M", wba=wba) == expected


@pytest.mark.parametrize("gamed,expected", [(0, "holds"), (3, "fails")])
def test_approval_optimum_truthful(gamed, expected):
    assert verdict("Every approval-optimal model", gamed=gamed) == expected


@pytest.mark.parametrize("not_hch,expected", [(0, "holds"), (1, "fails")])
def test_imitative_optimum_is_hch(not_hch, expected):
    assert verdict("Every imitative-optimal model", not_hch=not_hch) == expected


@pytest.mark.parametrize(
    "sup,expected", [((0.95, 0.96, 0.97), "holds"), ((0.5, 0.52, 0.54), "fails"), ((0.99, 0.5, 0.91), "inconclusive")]
)
def test_supervised_beats_imitative(sup, expected):
    assert verdict("M supervised on every true label", sup=sup) == expected


@pytest.mark.parametrize(
    "debate,expected", [((0.9, 0.3), "holds"), ((0.2, 0.9), "fails"), ((0.5, 0.5), "inconclusive")]
)
def test_debate_helps_h(debate, expected):
    assert verdict("Debate with H as judge", debate=debate) == expected


def test_two_seeds_give_no_interval_and_no_verdict():
    assert (
        verdict("Imitative amplification ends", imi=(0.9, 0.9), app=(0.1, 0.1), wba=(0.1, 0.1), sup=(0.9, 0.9))
        == "inconclusive"
    )
