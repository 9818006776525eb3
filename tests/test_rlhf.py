"""The RLHF experiments: gold unreachable from the optimizer's inputs, any HF causal LM as π_base, and
end-to-end CLI runs (tiny configs of all five; the quick preset of ``rlhf``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import cli, cli_here

from goodhartlab.experiments.rlhf.config import RATER_LOOPHOLES
from goodhartlab.experiments.rlhf.measure import collect_comparisons, reward_fn_for
from goodhartlab.models.lm import gpt2_config, seeded_init
from goodhartlab.models.reward_model import RMConfig, train_ensemble
from goodhartlab.models.tokenizer import build_tokenizer, encode
from goodhartlab.optim.rloo import RLOOConfig, train_rloo
from goodhartlab.pipelines.qa_base import Base
from goodhartlab.raters import Loopholes, build_rater
from goodhartlab.worlds.qa import GoldScorer, QAWorld, QAWorldConfig

TINY_RUN = [
    "seeds=1",
    "eval_prompts=4",
    "bon_pool=8",
    "betas=[0.1]",
    "rl_steps=2",
    "checkpoint_every=1",
    "eval_samples=2",
    "kl_samples=8",
    "rm.comparisons=16",
    "max_new_tokens=6",
    "rl_prompts_per_step=2",
    "rl_k=2",
    "calibration_pairs=40",
    "dpo_betas=[0.1]",
    "dpo_epochs=1",
    "dpo_checkpoint_every=1",
]


def random_lm(world: QAWorld, seed: int = 0):
    """A tiny random GPT-2 over the world's vocabulary (what a user's own HF model directory would hold)."""
    from transformers import GPT2LMHeadModel

    tok = build_tokenizer(world.vocabulary())
    model = seeded_init(lambda: GPT2LMHeadModel(gpt2_config(len(tok), 1, 2, 16, 64, tok)), seed)
    return model.eval(), tok


def test_gold_is_unreachable_from_the_optimizers_inputs(monkeypatch):
    world = QAWorld(QAWorldConfig(n_entities=6, n_attributes=2), seed=0)
    model, tok = random_lm(world)
    base = Base(
        "base",
        world,
        model,
        tok,
        {q.id: encode(tok, q.prompt) for q in world.questions},
        {},
    )
    rater = build_rater(world, Loopholes(**RATER_LOOPHOLES), temperature=0.5)
    qids = [q.id for q in world.questions]
    data = collect_comparisons(
        base,
        rater,
        qids * 2,
        torch.Generator().manual_seed(0),
        np.random.default_rng(0),
        6,
    )
    # The reward model's whole training set is token ids: no text, no scores, nothing from gold.
    for field in (data.prompts, data.chosen, data.rejected):
        assert all(isinstance(t, int) for seq in field for t in seq)

    # From here on any call into gold fails loudly; reward-model training and RL must not notice.
    def boom(*_a, **_k):
        raise AssertionError("gold was reached by a learner")

    monkeypatch.setattr(GoldScorer, "score", boom)
    monkeypatch.setattr(QAWorld, "gold_scorer", boom)
    monkeypatch.setattr(QAWorld, "parse", boom)
    rm, _ = train_ensemble(
        RMConfig(comparisons=len(data.prompts), epochs=1, batch_size=8),
        data,
        model,
        tok,
        seed=0,
    )
    seen = []
    reward = reward_fn_for(rm, [base.prompt_ids[q] for q in qids])

    def spy(idx, responses):
        assert all(isinstance(i, int) for i in idx) and all(isinstance(t, int) for r in responses for t in r)
        seen.append(len(responses))
        return reward(idx, responses)

    import copy

    policy = copy.deepcopy(model).requires_grad_(True)
    hist = train_rloo(
        policy,
        model,
        base.sampler_prompts(qids),
        spy,
        RLOOConfig(
            beta=0.1,
            k=2,
            prompts_per_step=2,
            steps=2,
            max_new_tokens=6,
            checkpoint_every=1,
        ),
        torch.Generator().manual_seed(1),
        eos_id=tok.eos_token_id,
        pad_id=tok.pad_token_id,
    )
    assert len(hist) == 2 and seen == [4, 4]
    # Direct alignment learns from the same token ids and nothing else.
    from goodhartlab.optim.dpo import DPOConfig, train_dpo

    for kind in ("dpo", "ipo"):
        policy = copy.deepcopy(model).requires_grad_(True)
        hist = train_dpo(
            policy,
            model,
            [base.lead + p for p in data.prompts],
            data.chosen,
            data.rejected,
            DPOConfig(beta=0.1, kind=kind, epochs=1, batch_size=8, checkpoint_every=1),
            torch.Generator().manual_seed(2),
            eos_id=tok.eos_token_id,
            pad_id=tok.pad_token_id,
        )
        assert len(hist) == round(len(data.prompts) / 8) and hist[-1]["loss"] != hist[0]["loss"]


@pytest.fixture(scope="module")
def policy_dir(tmp_path_factory):
    """A tiny random HF model for the default world of seed 0, saved as a user's model directory would be."""
    path = tmp_path_factory.mktemp("hf") / "tiny-gpt2"
    model, tok = random_lm(QAWorld(QAWorldConfig(), seed=0))
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def _run(name: str, store, *sets: str, preset: str | None = None, in_process: bool = False, processes=None):
    """Run through the CLI (a subprocess, as a user would) or, for the tiny configs, through the same
    ``execute`` the CLI calls, in this process (saves importing torch and transformers again)."""
    if in_process:
        from goodhartlab.core.config import resolve
        from goodhartlab.core.registry import get
        from goodhartlab.runner.execute import execute
        from goodhartlab.runner.store import RunStore

        experiment = get(name)
        execute(
            experiment,
            resolve(experiment.config, preset, None, list(sets)),
            preset or "default",
            RunStore(store),
            quiet=True,
            processes=processes,
        )
    else:
        args = ["run", name, "--quiet"] + (["--preset", preset] if preset else [])
        for s in sets:
            args += ["--set", s]
        proc = cli(*args, store=store)
        assert proc.returncode == 0, proc.stderr[-3000:]
    (run_dir,) = [p for p in store.iterdir() if p.is_dir() and p.name.startswith(name)]
    assert (run_dir / "report.html").exists()
    return run_dir, pd.read_csv(run_dir / "measurements.csv")


def test_any_local_hf_model_replaces_pi_base(policy_dir, store, monkeypatch):
    monkeypatch.delenv("GOODHARTLAB_CACHE", raising=False)
    run_dir, m = _run("rlhf", store, *TINY_RUN, f"policy_model={policy_dir}")
    assert {"best-of-n", "RL β=0.1", "DPO β=0.1"} == set(m.series)
    bon = m[m.series == "best-of-n"]
    assert list(bon.pressure) == [1, 2, 4, 8] and np.allclose(
        bon.kl, np.log(bon.pressure) - (bon.pressure - 1) / bon.pressure
    )
    rl = m[m.series == "RL β=0.1"]
    assert list(rl.pressure) == [0, 1, 2] and (rl.kl_low <= rl.kl_high).all()
    dpo = m[m.series == "DPO β=0.1"]
    assert dpo.pressure.iloc[0] == 0 and dpo.pressure.iloc[-1] > 0 and (dpo.kl_low <= dpo.kl_high).all()
    history = pd.read_csv(run_dir / "tables" / "history.csv")
    assert set(history.method) == {"RL", "DPO"} and {
        "grad_norm",
        "loss",
        "clip_frac",
        "margin",
    } <= set(history.columns)
    comparisons = pd.read_csv(run_dir / "tables" / "comparisons.csv")
    assert {"prompt", "chosen", "rejected"} <= set(comparisons.columns) and len(comparisons) == 16
    assert comparisons.prompt.str.startswith("q :").all()
    assert (run_dir / "tables" / "calibration.csv").exists() and (
        run_dir / "figures" / "optimizer_history.png"
    ).exists()
    for col in (
        "proxy",
        "rater",
        "gold",
        "gold_pref",
        "misconception_rate",
        "fabricated_citation_rate",
        "offer_or_threat_rate",
        "flattery_rate",
        "filler_rate",
        "true_claim_rate",
        "mean_length",
    ):
        assert m[col].notna().all(), col
    base = pd.read_csv(run_dir / "tables" / "base_models.csv")
    assert base.source.iloc[0] == str(policy_dir.resolve())
    assert not (store / "cache").exists()  # nothing trained, nothing cached


def test_rl_bf16_runs_the_rl_arm_under_bf16_autocast(policy_dir, store, monkeypatch):
    from goodhartlab.optim import rloo

    seen = []
    real = rloo.train_rloo

    def spy(policy, base, prompts, reward_fn, config, *a, **kw):
        seen.append(config.bf16)
        return real(policy, base, prompts, reward_fn, config, *a, **kw)

    monkeypatch.setattr(rloo, "train_rloo", spy)  # measure imports it when the RL arm starts
    _, m = _run("rlhf", store, *TINY_RUN, f"policy_model={policy_dir}", "dpo_betas=[]", "rl_bf16=true", in_process=True)
    assert seen == [True] and m[m.series == "RL β=0.1"].gold.notna().all()


@pytest.mark.parametrize(
    "name,extra",
    [
        ("rlhf-gold-rater", ["rm_sizes=[16,32]", "comparison_counts=[8,16]"]),
        (
            "rlhf-ensembles",
            ["rm.members=2", "member_sources=[finetune-seed]", "dpo_betas=[]"],
        ),
        ("rlhf-assisted", []),
    ],
)
def test_other_experiments_run_on_a_tiny_config(name, extra, policy_dir, store):
    run_dir, m = _run(name, store, *TINY_RUN, f"policy_model={policy_dir}", *extra, in_process=True)
    findings = json.loads((run_dir / "findings.json").read_text())
    assert len(findings) >= 5
    if name == "rlhf-gold-rater":
        assert m.series.str.startswith("RM 16w 8c").any() and m.series.str.startswith("RM 32w 16c · RL").any()
    if name == "rlhf-ensembles":
        assert {s.split(" · ")[1] for s in m.series} == {
            "single",
            "mean",
            "min",
            "uncertainty",
        }
        assert {s.split(" · ")[0] for s in m.series} == {"finetune-seed"}
    if name == "rlhf-assisted":
        assert {s.split(" · ")[0] for s in m.series} == {"assisted", "unassisted"}


TINY_LM = [
    "lm.n_layer=1",
    "lm.n_embd=16",
    "lm.block_size=32",
    "lm.corpus_documents=20",
    "lm.pretrain_steps=2",
    "lm.sft_examples=20",
    "lm.sft_steps=2",
    "lm.batch_size=4",
]


def test_pretrain_seed_ensembles_use_backbones_pretrained_from_other_seeds(store, monkeypatch):
    monkeypatch.delenv("GOODHARTLAB_CACHE", raising=False)
    run_dir, m = _run(
        "rlhf-ensembles",
        store,
        *TINY_RUN,
        *TINY_LM,
        "rm.members=2",
        "aggregates=[single,mean]",
        "betas=[]",
        "dpo_betas=[]",
        in_process=True,
    )
    assert len(list((store / "cache").glob("lm-*"))) == 2  # π_base and one more pretrain seed
    series = pd.read_csv(run_dir / "tables" / "series.csv")
    assert set(series.member_source) == {"finetune-seed", "pretrain-seed"}
    rms = pd.read_csv(run_dir / "tables" / "reward_models.csv")
    assert set(rms.backbones) == {"policy", "pretrain-seed"}
    findings = json.loads((run_dir / "findings.json").read_text())
    assert any("pretrain-seed vs fine-tune-seed" in f["title"] and f["verdict"] == "inconclusive" for f in findings)


def test_bribery_trains_one_base_per_offer_rate(store, tmp_path, monkeypatch):
    monkeypatch.delenv("GOODHARTLAB_CACHE", raising=False)
    sets = [*TINY_RUN, *TINY_LM, "seeds=2", "offer_rates=[0,0.01]", "betas=[0.1]"]
    run_dir, m = _run("rlhf-bribery", store, *sets, in_process=True, processes=2)
    # Worlds and their seeds ran on 2 workers, each world's seeds starting when its π_base was in: the same
    # measurements as one process running everything in order.
    serial = tmp_path / "serial"
    _, m1 = _run("rlhf-bribery", serial, *sets, in_process=True, processes=1)
    pd.testing.assert_frame_equal(m, m1)
    base = pd.read_csv(run_dir / "tables" / "base_models.csv")
    assert list(base.world_offer_rate) == [0.0, 0.01] and base.cache_key.nunique() == 2
    assert len(list((store / "cache").glob("lm-*"))) == 2
    findings = json.loads((run_dir / "findings.json").read_text())
    titles = {f["title"]: f for f in findings}
    assert "π_base's offer rate at the highest corpus rate" in titles
    assert any(t.startswith("The KL asymmetry (RL)") for t in titles)
    assert all(f["verdict"] in ("holds", "fails", "inconclusive") for f in findings)
    html = (run_dir / "report.html").read_text()
    assert "Offer rates" in html and "RL_kl" in html and "DPO_rate" in html
    assert base.sft_offer_share.iloc[0] == 0.0
    assert (run_dir / "figures" / "bribery.png").exists()


@pytest.mark.slow
def test_quick_rlhf_end_to_end_with_pretraining(store, monkeypatch):
    """The quick preset's π_base, rater calibration and optimizers on one seed (the preset's other seeds repeat
    the same stages on other streams; the tiny configs above run several seeds and worlds through the workers)."""
    monkeypatch.delenv("GOODHARTLAB_CACHE", raising=False)
    # One DPO epoch instead of the preset's two: DPO is checked here for being there, not for what it learns.
    run_dir, m = _run("rlhf", store, "seeds=1", "dpo_epochs=1", preset="quick", in_process=True)
    assert (store / "cache").exists()  # π_base was trained and cached
    bon = m[m.series == "best-of-n"].groupby("pressure").mean(numeric_only=True)
    assert bon.index.max() >= 256
    # The proxy rises under best-of-n (exact order statistics: monotone in n) and under RL at the weakest β.
    assert bon.proxy.iloc[-1] > bon.proxy.iloc[0] + 0.5
    rl = m[m.series.str.startswith("RL")]
    assert rl.series.nunique() >= 2 and m.series.str.startswith("DPO").any()
    weakest = rl[rl.beta == rl.beta.min()].groupby("pressure").mean(numeric_only=True)
    # and the policy moves well away from π_base (KL 0 at step 0; 0.98 nats at the last step here, seed 0: the
    # bound was 1.0 until the fused gelu's rounding, 4.8e-7, changed which tokens this one seed samples)
    assert weakest.proxy.iloc[-1] > weakest.proxy.iloc[0] and weakest.kl.iloc[-1] > 0.5
    assert set(m.seed) == {0}
    findings = json.loads((run_dir / "findings.json").read_text())
    titles = [f["title"] for f in findings]
    assert any("Gao" in t for t in titles) and any("invisible" in t for t in titles)
    # Issue 11's claims get computed verdicts (with one seed: no interval, so inconclusive, and said so).
    claims = {f["claim"]: f["verdict"] for f in findings if f["claim"]}
    assert any(c.startswith("gold rises above π_base") for c in claims)
    assert any(c.startswith("gold peaks at lower pressure than the rater") for c in claims)
    assert all(v in ("holds", "fails", "inconclusive") for v in claims.values())
    # The calibrated rater's agreement with gold on π_base pairs is recorded within issue 11's band.
    raters = pd.read_csv(run_dir / "tables" / "raters.csv")
    assert 0.70 <= raters.calibration_agreement.iloc[0] <= 0.80
    assert (run_dir / "figures" / "kl_axes.png").exists()
    from goodhartlab.experiments.rlhf.config import Config

    assert Config.presets["quick"]["seeds"] >= 3  # the preset itself gives the claims their intervals


def test_a_missing_policy_model_is_one_line(store, tmp_path):
    proc = cli_here("run", "rlhf", "--set", f"policy_model={tmp_path / 'nope'}", store=store)
    assert proc.returncode == 2 and "policy_model" in proc.stderr and "config.json" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_rater_plugin_named_by_import_path_replaces_the_rater(policy_dir, store):
    """Issue 14: the config's `rater: module:Class` swaps the rater; the comparisons are that rater's picks."""
    run_dir, m = _run(
        "rlhf",
        store,
        *TINY_RUN,
        f"policy_model={policy_dir}",
        "rater=plugin_rater:ShortAnswerRater",
        "rater_agreement=null",
        "rm.comparisons=24",
        in_process=True,
    )
    comparisons = pd.read_csv(run_dir / "tables" / "comparisons.csv").fillna("")
    chosen = comparisons.chosen.str.split().str.len().fillna(0)
    rejected = comparisons.rejected.str.split().str.len().fillna(0)
    assert (chosen <= rejected).all() and (chosen < rejected).any()
    raters = pd.read_csv(run_dir / "tables" / "raters.csv")
    assert raters.plugin.iloc[0] == "plugin_rater:ShortAnswerRater" and not raters.calibrated.iloc[0]
    assert m.rater.between(0, 1).all()


def test_a_bad_rater_path_is_one_line(store):
    proc = cli_here("run", "rlhf", "--set", "rater=no_such_module:Rater", store=store)
    assert proc.returncode == 2 and "rater" in proc.stderr and "Traceback" not in proc.stderr


def test_calibration_reads_only_pi_base_and_the_rater(policy_dir, tmp_path, monkeypatch):
    """The calibration table does not change with anything downstream of π_base: optimizers, their pressure,
    reward models or the evaluation set; and gold's scorer is called on π_base answers only before optimization."""
    from goodhartlab.experiments.rlhf import measure

    calls = []
    real = measure.calibrate

    def spy(make, profile, ga, gb, qs, a, b, **kw):
        calls.append(len(qs))
        return real(make, profile, ga, gb, qs, a, b, **kw)

    monkeypatch.setattr(measure, "calibrate", spy)
    tables = []
    for i, extra in enumerate(
        (
            ["betas=[0.1]"],
            ["betas=[0.3]", "rl_steps=3", "dpo_betas=[]", "bon_pool=4", "rm.comparisons=8", "eval_prompts=3"],
        )
    ):
        store = tmp_path / f"s{i}"
        store.mkdir()
        run_dir, _ = _run("rlhf", store, *TINY_RUN, f"policy_model={policy_dir}", *extra, in_process=True)
        tables.append(pd.read_csv(run_dir / "tables" / "calibration.csv"))
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert calls == [40, 40]  # calibration_pairs π_base pairs, once per run (before any optimizer)
