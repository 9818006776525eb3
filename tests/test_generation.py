"""The sampler: cached and uncached paths agree; log-probs match a full forward pass; same generator, same samples."""

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from goodhartlab.models.generation import sample, sequence_logprobs

torch.set_num_threads(1)

EOS, PAD = 1, 0


def tiny_gpt2(vocab: int = 16, seed: int = 0, **overrides) -> GPT2LMHeadModel:
    """A tiny random GPT-2 (2 layers, width 32), built under a local seed so global RNG stays untouched.

    Also used by test_kl.py and test_rloo.py (eos = 1, pad = 0 there too)."""
    kw = dict(n_positions=64, n_embd=32, n_layer=2, n_head=2) | overrides
    cfg = GPT2Config(vocab_size=vocab, bos_token_id=EOS, eos_token_id=EOS, pad_token_id=PAD, **kw)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = GPT2LMHeadModel(cfg)
    return model.eval()


PROMPTS = [[5, 6, 7], [3], [9, 4, 2, 8, 11], [2, 2]]


def test_cached_matches_uncached():
    model = tiny_gpt2()
    a = sample(model, PROMPTS * 4, 12, torch.Generator().manual_seed(3), EOS, PAD, temperature=0.9, use_cache=True)
    b = sample(model, PROMPTS * 4, 12, torch.Generator().manual_seed(3), EOS, PAD, temperature=0.9, use_cache=False)
    assert torch.equal(a.sequences, b.sequences)
    assert torch.equal(a.attention_mask, b.attention_mask) and torch.equal(a.response_mask, b.response_mask)
    assert a.responses == b.responses
    torch.testing.assert_close(a.logprobs, b.logprobs, atol=1e-4, rtol=1e-4)


def test_layout_and_logprobs_match_full_forward():
    model = tiny_gpt2()
    batch = sample(model, PROMPTS * 8, 10, torch.Generator().manual_seed(0), EOS, PAD)
    P = batch.prompt_width
    assert P == 5 and batch.sequences.shape[1] <= P + 10
    for i, prompt in enumerate(PROMPTS * 8):
        row = batch.sequences[i].tolist()
        assert row[P - len(prompt) : P] == prompt and all(t == PAD for t in row[: P - len(prompt)])
        resp = [t for t, m in zip(row, batch.response_mask[i].tolist()) if m]
        # response = stored response (+ eos when it stopped early); nothing real after it
        assert resp[: len(batch.responses[i])] == batch.responses[i]
        assert len(resp) == len(batch.responses[i]) + (resp[-1] == EOS)
        assert EOS not in batch.responses[i]
    assert any(EOS in r for r in batch.sequences.tolist())  # some stopped early, so padding is exercised
    with torch.no_grad():
        full = sequence_logprobs(model, batch.sequences, batch.attention_mask, batch.response_mask)
    torch.testing.assert_close(full, batch.logprobs, atol=1e-4, rtol=1e-4)
    # Left padding must not change a row's log-prob: score one row alone, unpadded.
    i = 1
    keep = batch.attention_mask[i].bool()
    seq = batch.sequences[i][keep].unsqueeze(0)
    resp = batch.response_mask[i][keep].unsqueeze(0)
    with torch.no_grad():
        single = sequence_logprobs(model, seq, torch.ones_like(seq), resp)
    torch.testing.assert_close(single[0], batch.logprobs[i], atol=1e-4, rtol=1e-4)


def test_generator_controls_randomness():
    model = tiny_gpt2()
    a = sample(model, PROMPTS, 8, torch.Generator().manual_seed(7), EOS, PAD)
    torch.manual_seed(123)  # global RNG must not matter
    b = sample(model, PROMPTS, 8, torch.Generator().manual_seed(7), EOS, PAD)
    c = sample(model, PROMPTS * 8, 8, torch.Generator().manual_seed(8), EOS, PAD)
    d = sample(model, PROMPTS * 8, 8, torch.Generator().manual_seed(9), EOS, PAD)
    assert torch.equal(a.sequences, b.sequences)
    assert not torch.equal(c.sequences, d.sequences)
