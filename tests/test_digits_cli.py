"""End to end: the ``digits`` quick preset through the CLI, and the attack's guarantee on a tiny model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import cli, cli_here

from goodhartlab.experiments.digits.attack import pgd, verify
from goodhartlab.experiments.digits.measure import DISTS
from goodhartlab.models.classifiers import CNN, predict


def test_attack_keeps_the_drawn_digit():
    rng = np.random.default_rng(0)
    images = (rng.random((6, 28, 28)) * 90).astype(np.uint8)  # background below the ink threshold
    images[:, 8:20, 12:16] = 220  # a stroke
    model = CNN("tiny", generator=torch.Generator().manual_seed(0))
    labels = predict(model, images)  # start from images the model "gets right", so the search moves
    adv = pgd(model, images, labels, eps=32, steps=5, ink_threshold=128, guard_px=1)
    assert verify(images, adv, 128, 1, 32).all()
    assert (adv[:, 7:21, 11:17] == images[:, 7:21, 11:17]).all()  # stroke and its 1-px guard untouched
    assert (adv != images).any()  # the attack did move background pixels
    tampered = adv.copy()
    tampered[0, 0, 0] = 200  # a new ink pixel changes the drawn image
    assert not verify(images, tampered, 128, 1, 32)[0]


@pytest.mark.slow
def test_digits_quick_run(store):
    proc = cli("run", "digits", "--preset", "quick", "--quiet", store=store)
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = [p for p in store.iterdir() if p.is_dir() and p.name.startswith("digits")]
    assert (run_dir / "report.html").exists()
    for fig in ("agreement", "disagreement", "disagreement_images", "attack_success", "world_samples", "offers"):
        assert (run_dir / "figures" / f"{fig}.png").exists(), fig
    m = pd.read_csv(run_dir / "tables" / "contrasts.csv")  # distributions are categories: Contrast rows
    m["family"] = m.series.str.split("/").str[0]
    m["pressure"] = m.level.map({d: i for i, d in enumerate(DISTS)})
    gen = m[m.family == "generator"]
    # The models fit their labels and agree with the labeler in distribution far above chance (1/11)...
    assert gen.proxy.min() > 0.9 and gen[gen.pressure == 0].gold.mean() > 0.7
    # ...and less on the strong-transforms and handwritten shifts (indices 2 and 3).
    assert gen[gen.pressure == 2].gold.mean() < gen[gen.pressure == 0].gold.mean() - 0.1
    assert gen[gen.pressure == 3].gold.mean() < gen[gen.pressure == 0].gold.mean() - 0.1
    # The ambiguity-blind rater teaches its models to name a digit for ambiguous images.
    rat = m[(m.family == "rater") & (m.pressure == 0)]
    assert rat.x_recall_ambiguous.mean() < gen[gen.pressure == 0].x_recall_ambiguous.mean() - 0.2
    attack = pd.read_csv(run_dir / "tables" / "attack.csv")
    assert (attack.drawn_unchanged == 1.0).all()
    assert attack.success_rate.iloc[-1] > attack.success_rate.iloc[0]


def test_bad_field_is_one_line(store):
    proc = cli_here("run", "digits", "--set", "attack_budgets=[0]", store=store)
    assert proc.returncode == 2 and "attack_budgets" in proc.stderr and "Traceback" not in proc.stderr
