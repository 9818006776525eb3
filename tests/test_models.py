"""Tokenizer, tiny LM (training, cache, loading) and Bradley–Terry reward models."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from goodhartlab.models.lm import LMConfig, cache_key, cached_base_lm, load_causal_lm, train_base_lm
from goodhartlab.models.reward_model import Comparisons, RewardEnsemble, RMConfig, pairwise_accuracy, train_ensemble
from goodhartlab.models.tokenizer import SPECIAL_TOKENS, build_tokenizer, decode, encode
from goodhartlab.worlds.qa import QAWorld, QAWorldConfig

TINY = LMConfig(
    n_layer=1,
    n_head=2,
    n_embd=16,
    block_size=32,
    corpus_documents=40,
    pretrain_steps=3,
    sft_examples=40,
    sft_steps=3,
    batch_size=4,
)


@pytest.fixture(scope="module")
def world():
    return QAWorld(QAWorldConfig(n_entities=6, n_attributes=2), seed=0)


@pytest.fixture(scope="module")
def tok(world):
    return build_tokenizer(world.vocabulary())


def test_tokenizer_round_trips_every_world_text(world, tok):
    rng = np.random.default_rng(0)
    texts = world.corpus(30, rng) + [a for _, a in world.sft_examples(30, rng)] + [q.prompt for q in world.questions]
    for text in texts:
        ids = encode(tok, text)
        assert tok.unk_token_id not in ids
        assert decode(tok, ids) == " ".join(text.split())
    assert [tok.convert_ids_to_tokens(i) for i in range(4)] == list(SPECIAL_TOKENS)
    assert len(tok) == 4 + len(set(world.vocabulary()))


def test_tokenizer_rejects_whitespace_words():
    with pytest.raises(ValueError, match="whitespace"):
        build_tokenizer(["fine", "two words"])


def _train(world, tok, seed):
    prompt_of = {q.id: q.prompt for q in world.questions}
    rng = np.random.default_rng(seed)
    corpus = world.corpus(TINY.corpus_documents, rng)
    sft = [(prompt_of[q], a) for q, a in world.sft_examples(TINY.sft_examples, rng)]
    model, log = train_base_lm(corpus, sft, tok, TINY, seed)
    return model, tok, log


def test_training_is_seeded_and_the_cache_reloads_the_same_model(world, tok, tmp_path):
    key = cache_key(TINY, world.config.model_dump(mode="json"), world.vocabulary(), 0)
    calls = []

    def train():
        calls.append(1)
        return _train(world, tok, 0)

    m1, _, info, hit1 = cached_base_lm(tmp_path, key, train, log=lambda s: None)
    m2, tok2, info2, hit2 = cached_base_lm(tmp_path, key, train, log=lambda s: None)
    assert (hit1, hit2, len(calls)) == (False, True, 1) and info == info2
    again, _, _ = _train(world, tok, 0)
    x = torch.tensor([[tok.bos_token_id, *encode(tok, world.questions[0].prompt)]])
    with torch.no_grad():
        a, b, c = (m(input_ids=x).logits for m in (m1, m2, again))
    assert torch.allclose(a, b, atol=1e-6) and torch.allclose(a, c, atol=1e-6)
    assert tok2.get_vocab() == tok.get_vocab()
    # A different world config gives a different key.
    other = QAWorldConfig(n_entities=6, n_attributes=2, offer_rate=0.0)
    assert cache_key(TINY, other.model_dump(mode="json"), world.vocabulary(), 0) != key


def test_load_causal_lm_names_a_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_causal_lm(tmp_path / "nothing")


def test_lm_config_rejects_heads_that_do_not_divide_width():
    with pytest.raises(ValueError, match="divisible"):
        LMConfig(n_embd=30, n_head=4)


def test_reward_model_learns_a_preference_from_comparisons_alone(world, tok):
    """Chosen answers carry 'certainly', rejected ones do not: a fresh RM must rank held-out pairs the same way."""
    model, _, _ = _train(world, tok, 1)
    rng = np.random.default_rng(0)
    answers = [a for _, a in world.sft_examples(160, rng)]
    prompts = [encode(tok, world.questions[i % len(world.questions)].prompt) for i in range(160)]
    plain = [encode(tok, a.replace("certainly ", "")) for a in answers]
    marked = [encode(tok, "certainly " + a.replace("certainly ", "")) for a in answers]
    train = Comparisons(prompts[:120], marked[:120], plain[:120])
    held = Comparisons(prompts[120:], marked[120:], plain[120:])
    cfg = RMConfig(backbone="fresh", n_layer=1, n_embd=16, comparisons=120, epochs=6, batch_size=16, lr=3e-3, members=2)
    ens, log = train_ensemble(cfg, train, model, tok, seed=0)
    assert pairwise_accuracy(ens, held) > 0.9
    # Standardised on the training responses: mean ≈ 0, sd ≈ 1 for each member.
    s = ens.members[0].score(train.prompts + train.prompts, train.chosen + train.rejected)
    assert abs(float(s.mean())) < 1e-3 and abs(float(s.std()) - 1) < 1e-2
    # The "lm" backbone starts from π_base's transformer weights.
    lm_rm, _ = train_ensemble(
        cfg.model_copy(update={"backbone": "lm", "members": 1, "epochs": 0.1}), train, model, tok, seed=0
    )
    assert lm_rm.members[0].backbone.config.n_embd == model.config.n_embd


def test_ensemble_aggregates_follow_coste_et_al():
    scores = torch.tensor([[1.0, 0.0], [3.0, 0.0], [2.0, 0.3]])  # [K=3, B=2]
    dummy = [object()] * 3
    assert torch.allclose(RewardEnsemble(dummy, "mean").combine(scores), torch.tensor([2.0, 0.1]))
    assert torch.allclose(RewardEnsemble(dummy, "min").combine(scores), torch.tensor([1.0, 0.0]))
    var = scores.var(0, unbiased=False)
    got = RewardEnsemble(dummy, "uncertainty", uncertainty_lambda=0.5).combine(scores)
    assert torch.allclose(got, torch.tensor([2.0, 0.1]) - 0.5 * var)
    assert len(RewardEnsemble(dummy, "mean").with_aggregate("min", members=1).members) == 1
