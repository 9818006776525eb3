"""Weak-to-strong: the PGR arithmetic, hardening by class balance, and an end-to-end run through the CLI (in
process)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
from conftest import cli_here

from goodhartlab.oversight.weak_to_strong import harden, pgr


def test_pgr_arithmetic():
    assert pgr(0.7, 0.6, 0.8) == pytest.approx(0.5)
    assert pgr(0.8, 0.6, 0.8) == pytest.approx(1.0)  # the student reaches the ceiling
    assert pgr(0.6, 0.6, 0.8) == pytest.approx(0.0)  # the student only matches its supervisor
    assert pgr(0.5, 0.6, 0.8) == pytest.approx(-0.5)  # worse than the supervisor
    assert pgr(0.9, 0.6, 0.8) == pytest.approx(1.5)  # better than the ceiling
    assert math.isnan(pgr(0.7, 0.8, 0.8)) and math.isnan(pgr(0.7, 0.8, 0.6))  # no gap to recover


def test_hardening_keeps_the_weak_labels_class_balance():
    # Every image prefers class 0, but the weak labels are half class 0 and half class 1.
    probs = torch.tensor([[0.9, 0.1, 0.0], [0.8, 0.2, 0.0], [0.7, 0.3, 0.0], [0.6, 0.4, 0.0]])
    hard = harden(probs, torch.tensor([0.5, 0.5, 0.0]))
    assert hard.tolist() == [0, 0, 1, 1]  # the least confident class-0 images go to class 1
    assert harden(probs, torch.tensor([1.0, 0.0, 0.0])).tolist() == [0, 0, 0, 0]


@pytest.mark.slow
def test_weak_to_strong_end_to_end(store):
    # A tiny config: the quick preset takes ~1.5-2 min on the shared machine, over this file's test budget.
    args = [
        "run",
        "weak-to-strong",
        "--quiet",
        "--set",
        "widths=[2,8]",
        "--set",
        "train_images=600",
        "--set",
        "test_images=300",
        "--set",
        "pretrain_steps=30",
        "--set",
        "finetune_steps=40",
        "--set",
        "seeds=2",
        "--set",
        "text_task=false",
    ]  # the text task has its own test (test_weak_to_strong_text.py)
    proc = cli_here(*args, store=store)  # in process: the CLI's parsing and run path, without a new interpreter
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = [p for p in store.iterdir() if p.is_dir() and p.name.startswith("weak-to-strong")]
    runs = pd.read_csv(run_dir / "tables" / "runs.csv")
    assert set(runs.loss) == {"plain", "confidence"} and len(runs) == 4
    for r in runs.itertuples():
        expect = pgr(r.student, r.weak, r.ceiling)
        assert (math.isnan(expect) and math.isnan(r.pgr)) or r.pgr == pytest.approx(expect)
    assert (runs.ceiling > 1 / 11).all()  # the ceiling learned something
    html = (run_dir / "report.html").read_text()
    # the PGR figure is drawn, or (all PGRs undefined at this size) replaced by a sentence saying so
    assert (run_dir / "figures" / "pgr.png").exists() or "id='figure-pgr'" in html


def test_bad_width_is_one_line(store):
    proc = cli_here("run", "weak-to-strong", "--set", "widths=[4]", store=store)
    assert proc.returncode == 2 and "width" in proc.stderr and "Traceback" not in proc.stderr
