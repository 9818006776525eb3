"""Issue 15, items 5b and 5c: ``save_models`` writes the RL and DPO policies, the reward models and π_base into the
run directory in Hugging Face formats that reload to the same samples and scores; ``lm.init_from`` trains a user's
own causal LM (its own tokenizer, fitted to the world's words) on the world instead of using it as it is."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import cli_here
from test_rlhf import TINY_RUN, _run, random_lm

from goodhartlab.experiments.rlhf import measure
from goodhartlab.models.generation import sample
from goodhartlab.models.lm import (
    LMConfig,
    cache_key,
    dir_fingerprint,
    fit_tokenizer,
    gpt2_config,
    load_causal_lm,
    seeded_init,
    sft_tensors,
)
from goodhartlab.models.reward_model import load_reward_model
from goodhartlab.models.tokenizer import build_tokenizer, decode, encode
from goodhartlab.worlds.qa import QAWorld, QAWorldConfig


@pytest.fixture(scope="module")
def user_dir(tmp_path_factory):
    """A tiny random HF model for the default world of seed 0 (tokenizer covering the world's words)."""
    path = tmp_path_factory.mktemp("hf") / "tiny-gpt2"
    model, tok = random_lm(QAWorld(QAWorldConfig(), seed=0))
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def test_saved_policies_and_reward_models_reload_to_the_same_samples_and_scores(user_dir, store, monkeypatch):
    kept: dict[str, object] = {}  # the in-memory models as they were handed to the writers, by directory

    def spy(writer):
        def write(model, tokenizer, path):
            kept[str(path)] = copy.deepcopy(model)
            return writer(model, tokenizer, path)

        return write

    monkeypatch.setattr(measure, "save_causal_lm", spy(measure.save_causal_lm))
    monkeypatch.setattr(measure, "save_reward_model", spy(measure.save_reward_model))
    run_dir, m = _run("rlhf", store, *TINY_RUN, f"policy_model={user_dir}", "save_models=true", in_process=True)
    saved = pd.read_csv(run_dir / "tables" / "saved_models.csv", keep_default_na=False)
    assert sorted(saved.kind) == ["pi_base", "policy", "policy", "reward_model"]
    assert set(saved[saved.kind == "policy"].series) == {"RL β=0.1", "DPO β=0.1"}
    assert set(saved.path) == {
        "models/pi-base",
        "models/seed-0/rl-beta-0.1",
        "models/seed-0/dpo-beta-0.1",
        "models/seed-0/reward-model",
    }
    by_name = {p.split("/")[-1]: v for p, v in kept.items()}  # the run was staged elsewhere, then published
    assert len(by_name) == len(saved) == len(kept)
    assert "Saved models" in (run_dir / "report.html").read_text()

    from transformers import AutoModelForCausalLM, AutoTokenizer

    base, _ = load_causal_lm(user_dir)
    world = QAWorld(QAWorldConfig(), seed=0)
    for path in saved[saved.kind != "reward_model"].path:
        reloaded = AutoModelForCausalLM.from_pretrained(run_dir / path, local_files_only=True).eval()
        tok = AutoTokenizer.from_pretrained(run_dir / path, local_files_only=True)
        prompts = [[tok.bos_token_id, *encode(tok, q.prompt)] for q in world.questions[:6]]
        draws = [
            sample(
                model, prompts, 8, torch.Generator().manual_seed(7), eos_id=tok.eos_token_id, pad_id=tok.pad_token_id
            )
            for model in (by_name[path.split("/")[-1]], reloaded)
        ]
        assert torch.equal(draws[0].sequences, draws[1].sequences), path
        assert torch.equal(draws[0].logprobs, draws[1].logprobs), path
        moved = any(not torch.equal(a, b) for a, b in zip(reloaded.state_dict().values(), base.state_dict().values()))
        assert moved == ("pi-base" not in path), path  # the trained policy was saved, not π_base

    (rm_path,) = saved[saved.kind == "reward_model"].path
    rm, rm_tok = load_reward_model(run_dir / rm_path)
    comparisons = pd.read_csv(run_dir / "tables" / "comparisons.csv", keep_default_na=False)
    prompts = [encode(rm_tok, p) for p in comparisons.prompt]
    answers = [encode(rm_tok, a) for a in comparisons.chosen]
    mine = by_name["reward-model"].score(prompts, answers)
    assert torch.equal(rm.score(prompts, answers), mine) and mine.std() > 0
    meta = json.loads((run_dir / rm_path / "reward_model.json").read_text())
    assert meta["format"] == "goodhartlab-reward-model" and meta["eos_token_id"] == rm_tok.eos_token_id
    from transformers import AutoModel

    assert AutoModel.from_pretrained(run_dir / rm_path, local_files_only=True).config.hidden_size == meta["hidden_size"]


def test_models_are_not_saved_by_default(user_dir, store):
    run_dir, _ = _run("rlhf", store, *TINY_RUN, f"policy_model={user_dir}", "betas=[]", "dpo_betas=[]", in_process=True)
    assert not (run_dir / "models").exists() and not (run_dir / "tables" / "saved_models.csv").exists()


# -- lm.init_from -----------------------------------------------------------------------------------------
INIT_LM = [
    "lm.block_size=48",
    "lm.corpus_documents=60",
    "lm.pretrain_steps=10",
    "lm.sft_examples=60",
    "lm.sft_steps=30",
    "lm.batch_size=8",
]


def own_model(path, world: QAWorld):
    """A user's tiny GPT-2 with a tokenizer of its own: half the world's words and some the world never uses."""
    tok = build_tokenizer(["hello", "there", "zebra", *world.vocabulary()[::2]])
    model = seeded_init(lambda: GPT2(tok), 3)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def GPT2(tok):
    from transformers import GPT2LMHeadModel

    return GPT2LMHeadModel(gpt2_config(len(tok), 1, 2, 16, 64, tok))


def sft_loss(model, tok, world: QAWorld) -> float:
    prompt_of = {q.id: q.prompt for q in world.questions}
    pairs = [(encode(tok, prompt_of[q]), encode(tok, a)) for q, a in world.sft_examples(64, np.random.default_rng(9))]
    ids, mask, labels = sft_tensors(pairs, 48, tok.bos_token_id, tok.eos_token_id, tok.pad_token_id)
    with torch.no_grad():
        return float(model(input_ids=ids, attention_mask=mask, labels=labels).loss)


def test_init_from_trains_a_users_model_and_tokenizer_on_the_world(store, tmp_path, monkeypatch):
    monkeypatch.delenv("GOODHARTLAB_CACHE", raising=False)
    world = QAWorld(QAWorldConfig(), seed=0)
    path = own_model(tmp_path / "my-lm", world)
    before = dir_fingerprint(path)
    run_dir, m = _run("rlhf", store, *TINY_RUN, *INIT_LM, f"lm.init_from={path}", in_process=True)
    assert dir_fingerprint(path) == before  # the user's directory is read, never written
    assert len(json.loads((run_dir / "findings.json").read_text())) >= 5 and m.gold.notna().all()
    base = pd.read_csv(run_dir / "tables" / "base_models.csv")
    assert base.init_from.iloc[0] == str(path.resolve()) and base.tokens_added.iloc[0] > 0
    (cached,) = (store / "cache").glob("lm-*")
    trained, tok = load_causal_lm(cached)
    # Every world word now encodes exactly; the user's own words are still there.
    text = " ".join(world.corpus(20, np.random.default_rng(1)))
    assert decode(tok, encode(tok, text)) == text and "zebra" in tok.get_vocab()
    # Trained: weights moved off the user's, and its loss on the world's Q/A data fell below the start's.
    start, start_tok = load_causal_lm(path)
    fit_tokenizer(start, start_tok, world.vocabulary(), 0)
    assert start_tok.get_vocab() == tok.get_vocab()
    w0, w1 = (x.state_dict()["transformer.h.0.attn.c_attn.weight"] for x in (start, trained))
    assert not torch.allclose(w0, w1)
    assert sft_loss(trained, tok, world) < sft_loss(start, start_tok, world) - 0.5
    # The cache is keyed by the model's content: the same run again loads it, an edited model retrains.
    key = base.cache_key.iloc[0]
    lm = LMConfig(**json.loads((run_dir / "config.json").read_text())["config"]["lm"])
    assert lm.init_from == str(path.resolve())
    assert cache_key(lm, QAWorldConfig().model_dump(mode="json"), world.vocabulary(), 0) == key
    seeded_init(lambda: GPT2(start_tok), 4).save_pretrained(path)
    assert cache_key(lm, QAWorldConfig().model_dump(mode="json"), world.vocabulary(), 0) != key


def test_init_from_unset_keeps_the_cache_key_of_earlier_versions():
    """The key before lm.init_from existed (this formula, frozen here), so existing caches stay valid."""
    import hashlib

    world = QAWorld(QAWorldConfig(n_entities=6, n_attributes=2), seed=0)
    lm = LMConfig(n_layer=1, n_embd=16)
    old = json.dumps(
        {
            "lm": {k: v for k, v in lm.model_dump(mode="json").items() if k != "init_from"},
            "world": world.config.model_dump(mode="json"),
            "seed": 0,
            "vocab": hashlib.sha256("\n".join(world.vocabulary()).encode()).hexdigest(),
            "version": 1,
        },
        sort_keys=True,
        default=str,
    )
    assert (
        cache_key(lm, world.config.model_dump(mode="json"), world.vocabulary(), 0)
        == hashlib.sha256(old.encode()).hexdigest()[:16]
    )


def test_a_byte_level_bpe_tokenizer_covers_the_world_without_new_tokens():
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    world = QAWorld(QAWorldConfig(n_entities=6, n_attributes=2), seed=0)
    core = ByteLevelBPETokenizer()
    core.train_from_iterator(["the cat sat on the mat"], vocab_size=280, special_tokens=["<|endoftext|>"])
    tok = PreTrainedTokenizerFast(tokenizer_object=core._tokenizer, eos_token="<|endoftext|>")
    model = GPT2(tok)
    assert fit_tokenizer(model, tok, world.vocabulary(), 0) == []
    assert tok.bos_token == tok.pad_token == tok.eos_token and model.config.pad_token_id == tok.eos_token_id
    text = " ".join(world.corpus(10, np.random.default_rng(0)))
    assert decode(tok, encode(tok, text)) == text


def test_a_bad_init_from_is_one_line(store, tmp_path, user_dir):
    for value, words in ((tmp_path / "nope", "config.json"), ("x" * 5000, "usable path")):
        proc = cli_here("run", "rlhf", "--set", f"lm.init_from={value}", store=store)
        assert proc.returncode == 2 and "lm.init_from" in proc.stderr and words in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    proc = cli_here(
        "run", "rlhf", "--set", f"lm.init_from={user_dir}", "--set", f"policy_model={user_dir}", store=store
    )
    assert proc.returncode == 2 and "not both" in proc.stderr


TINY_TRAIN = LMConfig(block_size=32, corpus_documents=20, pretrain_steps=3, sft_examples=20, sft_steps=3, batch_size=4)


def _world_data(world: QAWorld):
    prompt_of = {q.id: q.prompt for q in world.questions}
    rng = np.random.default_rng(0)
    corpus = world.corpus(TINY_TRAIN.corpus_documents, rng)
    return corpus, [(prompt_of[q], a) for q, a in world.sft_examples(TINY_TRAIN.sft_examples, rng)]


def test_training_a_users_model_is_seeded_and_leaves_torchs_global_generator_alone(tmp_path):
    """With dropout on (a user's model may have it), two trainings from the same directory give the same weights,
    and torch's global generator is neither read nor changed."""
    from transformers import GPT2LMHeadModel

    from goodhartlab.models.lm import train_base_lm

    world = QAWorld(QAWorldConfig(n_entities=6, n_attributes=2), seed=0)
    tok = build_tokenizer(world.vocabulary()[1::2])
    cfg = gpt2_config(len(tok), 1, 2, 16, 64, tok)
    cfg.resid_pdrop = cfg.embd_pdrop = 0.2
    seeded_init(lambda: GPT2LMHeadModel(cfg), 0).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    corpus, sft = _world_data(world)
    weights = []
    for _ in range(2):
        state = torch.get_rng_state()
        model, t = load_causal_lm(tmp_path)
        fit_tokenizer(model, t, world.vocabulary(), 5)
        model, log = train_base_lm(corpus, sft, t, TINY_TRAIN, 5, model=model)
        assert torch.equal(torch.get_rng_state(), state)
        weights.append(model.state_dict())
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert log["block_size"] == 32 and log["sft_loss_last"] is not None


def test_a_llama_is_trained_on_the_world_and_its_policy_and_reward_model_round_trip(tmp_path):
    """Another architecture than GPT-2 (no fast sampling path, rotary positions, AutoModel → LlamaModel)."""
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    from goodhartlab.models.lm import save_causal_lm, train_base_lm
    from goodhartlab.models.reward_model import RMConfig, new_reward_model, save_reward_model

    world = QAWorld(QAWorldConfig(n_entities=6, n_attributes=2), seed=0)
    tok = build_tokenizer(["hello", *world.vocabulary()[::3]])
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=24,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    model = seeded_init(lambda: LlamaForCausalLM(cfg), 0)
    added = fit_tokenizer(model, tok, world.vocabulary(), 0)
    assert added and model.get_input_embeddings().num_embeddings == len(tok)
    corpus, sft = _world_data(world)
    model, log = train_base_lm(corpus, sft, tok, TINY_TRAIN, 0, model=model)
    assert log["block_size"] == 24  # capped at the model's positions
    save_causal_lm(model.eval(), tok, tmp_path / "policy")
    again = AutoModelForCausalLM.from_pretrained(tmp_path / "policy", local_files_only=True).eval()
    prompts = [[tok.bos_token_id, *encode(tok, q.prompt)] for q in world.questions[:4]]
    a, b = (
        sample(m, prompts, 6, torch.Generator().manual_seed(1), tok.eos_token_id, tok.pad_token_id)
        for m in (model, again)
    )
    assert torch.equal(a.sequences, b.sequences) and torch.equal(a.logprobs, b.logprobs)
    rm = new_reward_model(RMConfig(), model, tok, 0)
    with torch.no_grad():
        rm.head.bias.fill_(0.3)
        rm.scale.fill_(2.0)
    save_reward_model(rm, tok, tmp_path / "rm")
    loaded, _ = load_reward_model(tmp_path / "rm")
    answers = [encode(tok, a) for _, a in sft[:4]]
    assert torch.equal(loaded.score([p[1:] for p in prompts], answers), rm.score([p[1:] for p in prompts], answers))


def test_a_word_the_tokenizer_cannot_write_even_when_added_is_one_user_error(monkeypatch):
    from goodhartlab.core.errors import UserError
    from goodhartlab.models import lm

    world = QAWorld(QAWorldConfig(n_entities=6, n_attributes=2), seed=0)
    tok = build_tokenizer(world.vocabulary())
    monkeypatch.setattr(lm, "_round_trips", lambda tokenizer, word: word != "?")  # e.g. a normalizer eats it
    with pytest.raises(UserError, match=r"lm.init_from: .* '\?'"):
        fit_tokenizer(GPT2(tok), tok, world.vocabulary(), 0)


def test_a_model_too_short_for_the_answers_is_one_line(store, tmp_path):
    from transformers import GPT2LMHeadModel

    world = QAWorld(QAWorldConfig(), seed=0)
    tok = build_tokenizer(world.vocabulary())
    GPT2LMHeadModel(gpt2_config(len(tok), 1, 2, 16, 20, tok)).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    sets = [x for s in [*TINY_RUN, "max_new_tokens=16", f"policy_model={tmp_path}"] for x in ("--set", s)]
    proc = cli_here("run", "rlhf", "--quiet", *sets, store=store)
    assert proc.returncode == 2 and "max_new_tokens" in proc.stderr and "20 positions" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
