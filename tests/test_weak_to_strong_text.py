"""Weak-to-strong, text task: the weak supervisor's errors, the student's batches (weak labels only), and an
end-to-end in-process run on a tiny LM."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from goodhartlab.models.tokenizer import build_tokenizer, decode
from goodhartlab.oversight.weak_to_strong import pgr
from goodhartlab.oversight.weak_to_strong_text import misconception_believer
from goodhartlab.worlds.qa import QAWorld, QAWorldConfig

TINY_TEXT = [
    "widths=[2,4]",
    "train_images=60",
    "test_images=30",
    "pretrain_steps=2",
    "finetune_steps=2",
    "seeds=2",
    "text_world.n_entities=6",
    "text_world.n_attributes=2",
    "text_world.misconception_rate=1.0",
    "text_lm.n_layer=1",
    "text_lm.n_embd=16",
    "text_lm.corpus_documents=40",
    "text_lm.pretrain_steps=3",
    "text_lm.sft_examples=20",
    "text_lm.sft_steps=3",
    "text_lm.batch_size=4",
    "text_finetune_steps=4",
    "text_batch=8",
]


def test_weak_labels_invert_exactly_the_misconception_facts():
    world = QAWorld(QAWorldConfig(n_entities=12, n_attributes=3), seed=1)
    claims = world.fact_claims(3, np.random.default_rng(0))
    weak, truth = misconception_believer(claims), np.array([c.true for c in claims])
    by_fact = pd.DataFrame([{"q": c.question_id, "true": c.true, "mis": c.misconception} for c in claims])
    assert (by_fact.groupby("q").true.sum() == 1).all() and (by_fact.groupby("q").size() == 3).all()
    has = np.array([c.fact_has_misconception for c in claims])
    assert 0 < has.sum() < len(claims)  # both kinds of facts occur
    wrong = weak != truth
    # Exactly the true and the misconception statement of each misconception fact are labelled wrongly.
    assert (wrong == np.array([c.fact_has_misconception and (c.true or c.misconception) for c in claims])).all()
    assert all(weak[i] == 1 for i, c in enumerate(claims) if c.misconception)
    assert all(c.text.split()[-1] == c.value for c in claims)


@pytest.mark.slow
def test_text_task_end_to_end_in_process_students_see_weak_labels_only(store, monkeypatch):
    from goodhartlab.core.config import resolve
    from goodhartlab.core.registry import get
    from goodhartlab.experiments.weak_to_strong import text
    from goodhartlab.runner.execute import execute
    from goodhartlab.runner.store import RunStore

    monkeypatch.setenv("GOODHARTLAB_CACHE", str(store / "lm-cache"))
    world = QAWorld(QAWorldConfig(n_entities=6, n_attributes=2, misconception_rate=1.0), seed=0)
    tok = build_tokenizer(world.vocabulary())
    by_text = {c.text: c for c in world.fact_claims(6, np.random.default_rng(0))}  # every value of every fact
    calls = []
    real = text.finetune_classifier

    def spy(model, ids, mask, labels, *args, **kwargs):
        rows = [by_text[decode(tok, r.tolist())] for r in ids]  # the statements of this fine-tuning
        calls.append(
            (
                np.asarray(labels),
                misconception_believer(rows),
                np.array([c.true for c in rows]),
                kwargs.get("confidence", 0.0),
            )
        )
        return real(model, ids, mask, labels, *args, **kwargs)

    monkeypatch.setattr(text, "finetune_classifier", spy)
    experiment = get("weak-to-strong")
    execute(experiment, resolve(experiment.config, None, None, TINY_TEXT), "default", RunStore(store), quiet=True)
    assert len(calls) == 2 * 3  # per seed: ceiling, student plain, student confidence
    for i, (labels, weak, truth, c) in enumerate(calls):
        assert (weak != truth).any()  # every fact has a misconception: the two label sets differ
        if i % 3 == 0:
            assert (labels == truth).all() and c == 0.0  # the ceiling
        else:
            assert (labels == weak).all(), "a student's fine-tuning got labels other than the weak supervisor's"
            assert (c > 0) == (i % 3 == 2)
    (run_dir,) = [p for p in store.iterdir() if p.is_dir() and p.name.startswith("weak-to-strong")]
    runs = pd.read_csv(run_dir / "tables" / "text_runs.csv")
    assert len(runs) == 4 and set(runs.loss) == {"plain", "confidence"}
    num = runs[
        [
            "weak",
            "student",
            "ceiling",
            "weak_contested",
            "student_contested",
            "ceiling_contested",
            "student_agrees_with_weak",
        ]
    ]
    assert np.isfinite(num.to_numpy()).all() and ((num >= 0) & (num <= 1)).all().all()
    for r in runs.itertuples():
        expect = pgr(r.student, r.weak, r.ceiling)
        assert (math.isnan(expect) and math.isnan(r.pgr)) or r.pgr == pytest.approx(expect)
    assert np.allclose(runs.weak_contested, 1 / 3)  # 3 statements a fact, 2 labelled wrongly
    m = pd.read_csv(run_dir / "tables" / "contrasts.csv")  # a categorical comparison, not a pressure curve
    series = set(m.series)
    assert {
        "text, student plain",
        "text, student confidence",
        "text, weak supervisor",
        "text, ceiling (truth labels)",
    } <= series
    text = m[m.series.str.startswith("text")]
    assert np.isfinite(text.gold).all() and text[text.series == "text, weak supervisor"].proxy.isna().all()
    assert np.isfinite(text[text.series != "text, weak supervisor"].proxy).all()
    assert (run_dir / "figures" / "text.png").exists() and (run_dir / "report.html").exists()
