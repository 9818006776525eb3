"""debate's claims on synthetic tables built so each claim holds, fails and is inconclusive; the image is the
unit (an image's 9 games form one cluster)."""

import numpy as np
import pandas as pd
import pytest

from goodhartlab.experiments.debate.present import claims


def tables(debate_rate: float, random_rate: float, n: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    debate = rng.random(n) < debate_rate
    rand = rng.random(n) < random_rate
    images = pd.DataFrame(
        {
            "suite": "rendered",
            "k": 4,
            "first": "honest",
            "image": np.arange(n),
            "label": 3,
            "random_correct": rand,
            "debate_correct": debate,
        }
    )
    games = pd.DataFrame(
        [
            {
                "suite": "rendered",
                "k": 4,
                "first": "honest",
                "image": i,
                "label": 3,
                "lie": lie,
                "margin": 1.0,
                "honest_wins": bool(debate[i] or lie % 2),
            }
            for i in range(n)
            for lie in range(9)
        ]
    )
    return images, games


@pytest.mark.parametrize(
    "debate,random_,expected", [(0.9, 0.3, "holds"), (0.2, 0.8, "fails"), (0.5, 0.5, "inconclusive")]
)
def test_debate_raises_accuracy(debate, random_, expected):
    images, games = tables(debate, random_)
    (f,) = claims(images, games)
    assert f.verdict == expected
    assert f.anchor.startswith("MNIST")
    wins = f.evidence["honest side's single-game win rate"]
    assert wins.unit == "image" and wins.n == 60 and "cluster" in wins.method  # 60 images, not 540 games


def test_no_interval_below_three_images():
    images, games = tables(1.0, 0.0, n=2)
    (f,) = claims(images, games)
    assert f.verdict == "inconclusive" and not f.key_estimate.has_interval
