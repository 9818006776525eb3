"""weak-to-strong's claims on synthetic tables built so each claim holds, fails and is inconclusive."""

import math

import pandas as pd
import pytest

from goodhartlab.experiments.weak_to_strong.present import claims, pair_table
from goodhartlab.oversight.weak_to_strong import pgr


def runs(
    student_gain=(0.10, 0.11, 0.12), confidence_extra=(0.05, 0.06, 0.07), pairs=((2, 8), (4, 8)), ceiling_gap=0.2
) -> pd.DataFrame:
    rows = []
    for seed, (g, c) in enumerate(zip(student_gain, confidence_extra)):
        for ww, ws in pairs:
            weak, ceiling = 0.6, 0.6 + ceiling_gap
            for loss, student in (("plain", weak + g), ("confidence", weak + g + c)):
                rows.append(
                    {
                        "seed": seed,
                        "loss": loss,
                        "weak_width": ww,
                        "strong_width": ws,
                        "weak": weak,
                        "student": student,
                        "ceiling": ceiling,
                        "pgr": pgr(student, weak, ceiling),
                        "student_agrees_with_weak": 0.8,
                    }
                )
    return pd.DataFrame(rows)


def text(student_gain=(0.3, 0.32, 0.34), zero_gain=(0.2, 0.21, 0.22), confidence_extra=(0.05, 0.06, 0.07)):
    rows = []
    for seed, (g, z, c) in enumerate(zip(student_gain, zero_gain, confidence_extra)):
        for loss, extra in (("plain", 0.0), ("confidence", c)):
            weak_k, ceil_k = 1 / 3, 0.9
            s_k = weak_k + g + extra
            rows.append(
                {
                    "seed": seed,
                    "loss": loss,
                    "weak": 0.8,
                    "student": 0.8,
                    "ceiling": 0.85,
                    "pgr": 0.0,
                    "weak_contested": weak_k,
                    "student_contested": s_k,
                    "ceiling_contested": ceil_k,
                    "pgr_contested": pgr(s_k, weak_k, ceil_k),
                    "zero_shot": 0.7,
                    "zero_shot_contested": weak_k + z,
                    "student_agrees_with_weak": 0.7,
                }
            )
    return pd.DataFrame(rows)


def verdict(findings, start):
    (f,) = [f for f in findings if f.claim.startswith(start)]
    return f


UP, DOWN, MIXED = (0.10, 0.11, 0.12), (-0.10, -0.11, -0.12), (0.2, -0.2, 0.01)


@pytest.mark.parametrize("gain,expected", [(UP, "holds"), (DOWN, "fails"), (MIXED, "inconclusive")])
def test_student_beats_weak(gain, expected):
    f = verdict(claims(runs(student_gain=gain), None), "A strong student")
    assert f.verdict == expected and f.evidence["student − weak accuracy"].unit == "seed"
    assert f.evidence["student − weak accuracy"].n == 3  # seeds, not seed × pair rows


@pytest.mark.parametrize("gain,expected", [(UP, "holds"), (DOWN, "fails"), (MIXED, "inconclusive")])
def test_pgr_positive(gain, expected):
    assert verdict(claims(runs(student_gain=gain), None), "Plain fine-tuning").verdict == expected


@pytest.mark.parametrize("extra,expected", [(UP, "holds"), (DOWN, "fails"), (MIXED, "inconclusive")])
def test_confidence_loss_recovers_more(extra, expected):
    f = verdict(claims(runs(confidence_extra=extra), None), "The auxiliary confidence loss")
    assert f.verdict == expected and f.anchor


def test_undefined_pgr_seeds_are_counted_not_hidden():
    r = runs()
    r.loc[r.seed == 2, "pgr"] = math.nan  # that seed's ceiling was not above its weak supervisor
    f = verdict(claims(r, None), "Plain fine-tuning")
    assert f.evidence["PGR, plain"].n == 2 and "2 of 3 seeds" in f.text and f.verdict == "inconclusive"
    assert set(pair_table(r)["seeds with a PGR"]) == {2}


@pytest.mark.parametrize(
    "gain,expected", [((0.3, 0.32, 0.34), "holds"), ((-0.2, -0.21, -0.22), "fails"), ((0.3, -0.3, 0.0), "inconclusive")]
)
def test_text_student_beats_weak(gain, expected):
    assert verdict(claims(runs(), text(student_gain=gain)), "On misconception facts, the LM").verdict == expected


@pytest.mark.parametrize(
    "gain,expected", [((0.3, 0.32, 0.34), "holds"), ((-0.2, -0.21, -0.22), "fails"), ((0.3, -0.3, 0.0), "inconclusive")]
)
def test_text_zero_shot(gain, expected):
    assert verdict(claims(runs(), text(zero_gain=gain)), "Without any labels").verdict == expected


@pytest.mark.parametrize("extra,expected", [(UP, "holds"), (DOWN, "fails"), (MIXED, "inconclusive")])
def test_text_confidence_loss(extra, expected):
    assert (
        verdict(claims(runs(), text(confidence_extra=extra)), "On misconception facts, the confidence").verdict
        == expected
    )
