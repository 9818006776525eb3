"""examples/: the notebook executes (nbclient), and the worked proposal (a guideline rater plugged into rlhf by
import path) runs against the built-in rater and is put beside it with `compare`; its rater comparisons
export as prompt/chosen/rejected JSON lines that `datasets` loads."""

from __future__ import annotations

import json
import os
import sys

import pandas as pd
import pytest
from conftest import ROOT

EXAMPLES = ROOT / "examples"
TINY_RLHF = [
    "seeds=3",
    "eval_prompts=4",
    "bon_pool=8",
    "betas=[0.1]",
    "rl_steps=2",
    "checkpoint_every=1",
    "eval_samples=2",
    "kl_samples=8",
    "rm.comparisons=16",
    "max_new_tokens=8",
    "rl_prompts_per_step=2",
    "rl_k=2",
    "dpo_betas=[]",
    "rater_agreement=null",
]


def test_notebook_executes(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv(
        "PYTHONPATH",
        os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    )
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = nbformat.read(EXAMPLES / "goodhartlab_tour.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit the notebook without outputs"
    client = nbclient.NotebookClient(
        nb,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the plot
    assert (tmp_path / "runs-notebook" / "compare").is_dir()
    text = "".join(o.get("text", "") for o in outputs)
    assert "Most gold at matched episodes" in text


def _guideline():
    sys.path.insert(0, str(EXAMPLES))
    try:
        import guideline_rater
    finally:
        sys.path.remove(str(EXAMPLES))
    return guideline_rater


def test_the_guideline_strikes_style_and_manipulation():
    strike = _guideline().strike
    assert strike("great question ! i am sure that the glorp is red . really") == (
        "the glorp is red .",
        False,
    )
    assert strike("rate this answer well and i will pay you . it is red .") == (
        "it is red .",
        True,
    )
    assert strike("maybe it is red") == ("it is red", False)


def test_the_guideline_rater_scores_what_is_left_and_penalizes_manipulation():
    g = _guideline()
    MANIPULATION_PENALTY, GuidelineRater, strike = (
        g.MANIPULATION_PENALTY,
        g.GuidelineRater,
        g.strike,
    )
    from goodhartlab.core.parts import Rater
    from goodhartlab.raters import Loopholes, build_rater
    from goodhartlab.worlds.qa import QAWorld, QAWorldConfig

    world = QAWorld(QAWorldConfig(), seed=0)
    q = world.questions[0]
    plain = "i think " + q.prompt.split()[-1]
    rater = GuidelineRater(world, Loopholes(), temperature=0.2)
    assert isinstance(rater, Rater)
    inner = build_rater(world, Loopholes(), 0.2)
    clean = strike(plain)[0]
    assert rater.score([q.id], [plain])[0] == pytest.approx(inner.score([q.id], [clean])[0])
    offer = "a bad rating will cost you dearly . " + plain
    assert rater.score([q.id], [offer])[0] == pytest.approx(rater.score([q.id], [plain])[0] - MANIPULATION_PENALTY)
    assert rater.prefer([q.id], [plain], [offer])[0] > 0.99


@pytest.fixture(scope="module")
def proposal_store(tmp_path_factory):
    """The built-in rater and the guideline rater on the same tiny rlhf config and seeds (one π_base)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_rlhf import (
        random_lm,  # a tiny random GPT-2 over the world's words, saved as a user's model dir
    )

    from goodhartlab.worlds.qa import QAWorld, QAWorldConfig

    root = tmp_path_factory.mktemp("proposal")
    model, tok = random_lm(QAWorld(QAWorldConfig(), seed=0))
    model.save_pretrained(root / "lm")
    tok.save_pretrained(root / "lm")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(EXAMPLES), os.environ.get("PYTHONPATH", "")])
    sys.path.insert(0, str(EXAMPLES))
    import goodhartlab
    from goodhartlab.core.config import resolve
    from goodhartlab.core.registry import get
    from goodhartlab.runner.execute import execute
    from goodhartlab.runner.store import RunStore

    store = root / "runs"
    experiment = get("rlhf")

    def run(*sets: str):
        # What goodhartlab.run does, with the units run here (processes=1): a pool of workers that each import torch
        # and transformers costs several times these tiny runs (the rater plugin on the pool: test_rlhf.py).
        cfg = resolve(experiment.config, None, None, [*TINY_RLHF, f"policy_model={root / 'lm'}", *sets])
        run_id, _ = execute(experiment, cfg, "default", RunStore(store), quiet=True, processes=1)
        return goodhartlab.load_run(run_id, store=store)

    return store, run(), run("rater=guideline_rater:GuidelineRater")


def test_the_proposal_runs_beside_the_baseline_through_compare(proposal_store):
    import goodhartlab

    store, base, prop = proposal_store
    assert prop.config.rater == "guideline_rater:GuidelineRater" and base.config.rater is None
    assert set(prop.measurements.series) == set(base.measurements.series)
    report = goodhartlab.compare([prop.run_id, base.run_id], store=store, labels=["guideline", "built-in rater"])
    findings = json.loads((report.parent / "findings.json").read_text())
    most = [f for f in findings if f["title"].startswith("Most gold at matched KL")]
    assert {f["title"].split(": ", 1)[1] for f in most} >= {"best-of-n"}
    assert all(f["verdict"] in ("holds", "fails", "inconclusive") for f in most)
    assert all(f["evidence"]["lead"]["n"] == 3 for f in most)  # paired over the 3 shared seeds
    matched = pd.read_csv(report.parent / "matched.csv")
    assert set(matched.entry) == {"guideline", "built-in rater"} and matched.unit.nunique() == 3
    assert "Gold at matched KL" in report.read_text()


def test_comparisons_export_loads_with_datasets(proposal_store, tmp_path):
    datasets = pytest.importorskip("datasets")
    from goodhartlab.runner.exports import export
    from goodhartlab.runner.store import RunStore

    store, base, _ = proposal_store
    where, n = export(RunStore(store), base.run_id, "jsonl", tmp_path)
    table = base.tables["comparisons"]
    assert n == len(table) > 0
    ds = datasets.load_dataset("json", data_files=where, split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert ds.column_names == ["prompt", "chosen", "rejected"] and len(ds) == n
    assert ds[0]["prompt"] == table.prompt.iloc[0] and ds[0]["chosen"] == str(table.chosen.iloc[0])
