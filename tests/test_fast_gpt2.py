"""The lean GPT-2 sampler reproduces the general (HF) sampling path: same logits to float32 rounding, and with
the same generator the same tokens except where a uniform lands within rounding of a CDF boundary."""

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from goodhartlab.models import fast_gpt2
from goodhartlab.models.generation import sample


def _model(activation="gelu_new"):
    cfg = GPT2Config(
        vocab_size=60,
        n_positions=64,
        n_embd=32,
        n_layer=2,
        n_head=4,
        bos_token_id=1,
        eos_token_id=1,
        pad_token_id=0,
        activation_function=activation,
    )
    torch.manual_seed(0)
    return GPT2LMHeadModel(cfg).eval()


def _prompts(n=24, seed=3):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(2, 12, (n,), generator=g).tolist()
    return [torch.randint(2, 60, (k,), generator=g).tolist() for k in lengths]


def test_supports_only_the_built_in_family():
    assert fast_gpt2.supports(_model())
    assert not fast_gpt2.supports(_model("relu"))


def test_fast_path_matches_general_path_tokens_and_logprobs():
    m, ps = _model(), _prompts()
    same_rows = 0
    for seed in range(5):
        a = sample(m, ps, 20, torch.Generator().manual_seed(seed), eos_id=1, pad_id=0, fast=True)
        b = sample(m, ps, 20, torch.Generator().manual_seed(seed), eos_id=1, pad_id=0, fast=False)
        for i, (ra, rb) in enumerate(zip(a.responses, b.responses)):
            if ra == rb:
                same_rows += 1
                assert abs(float(a.logprobs[i] - b.logprobs[i])) < 1e-3
    # a flip needs u within ~1e-6 of a CDF boundary: rare (issue 16 bar: same samples, or same distribution)
    assert same_rows >= 0.97 * 5 * len(ps)


def test_fast_path_runs_to_eos_and_pads_after():
    m, ps = _model(), _prompts(8)
    out = sample(m, ps, 30, torch.Generator().manual_seed(0), eos_id=1, pad_id=0, fast=True)
    assert out.sequences.shape[1] == out.prompt_width + out.response_mask[:, out.prompt_width :].shape[1]
    for row, resp in zip(out.response_mask.tolist(), out.responses):
        assert sum(row) in (len(resp), len(resp) + 1)  # eos counted in the mask, stripped from the response


def test_fast_logprobs_and_gradients_match_hf_forward():
    from goodhartlab.models.generation import token_logprobs

    m, ps = _model(), _prompts(8)
    b = sample(m, ps, 12, torch.Generator().manual_seed(0), eos_id=1, pad_id=0)
    args = (b.sequences, b.attention_mask, b.response_mask)
    fast = token_logprobs(m, *args, fast=True)
    slow = token_logprobs(m, *args, fast=False)
    assert torch.allclose(fast, slow, atol=1e-5)
    fast.sum().backward()
    g_fast = [p.grad.clone() for p in m.parameters()]
    m.zero_grad()
    token_logprobs(m, *args, fast=False).sum().backward()
    for a, p in zip(g_fast, m.parameters()):
        assert torch.allclose(a, p.grad, atol=1e-4, rtol=1e-3)


def test_a_training_model_with_dropout_takes_the_general_path():
    m = _model()
    m.train()
    assert m.config.resid_pdrop > 0 and not fast_gpt2.supports(m)
    m.eval()
    assert fast_gpt2.supports(m)


def test_the_fused_tanh_gelu_is_hf_gelu_new_to_float_rounding_forward_and_backward():
    from transformers.activations import NewGELUActivation

    x = torch.randn(700, 48, generator=torch.Generator().manual_seed(0)) * 4
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    fast, hf = fast_gpt2._act(a), NewGELUActivation()(b)
    assert (fast - hf).abs().max() < 1e-6  # the same function; only the rounding of the fused kernel differs
    gy = torch.randn(x.shape, generator=torch.Generator().manual_seed(1))
    fast.backward(gy)
    hf.backward(gy)
    assert torch.allclose(a.grad, b.grad, atol=1e-5)


def _repeated_prompts(k=4):
    # RLOO's layout: k contiguous samples per prompt, prompts of different lengths (left padding)
    return [p for p in _prompts(6, seed=5) for _ in range(k)]


def test_shared_prompt_prefixes_match_the_unshared_pass_and_hf():
    from goodhartlab.models.generation import token_logprobs

    m, ps = _model(), _repeated_prompts()
    b = sample(m, ps, 12, torch.Generator().manual_seed(0), eos_id=1, pad_id=0)
    args = (b.sequences, b.attention_mask, b.response_mask)
    assert fast_gpt2._unique_prefixes(b.sequences[:, : b.prompt_width], b.attention_mask[:, : b.prompt_width])
    shared = token_logprobs(m, *args, fast=True)
    slow = token_logprobs(m, *args, fast=False)
    assert torch.allclose(shared, slow, atol=1e-5)
    # the sampler's own log-probs (its prefill also shares prompts) agree with the full pass
    assert torch.allclose(b.logprobs, shared.sum(-1), atol=1e-4)
    shared.sum().backward()
    g_fast = [p.grad.clone() for p in m.parameters()]
    m.zero_grad()
    slow.sum().backward()
    for a, p in zip(g_fast, m.parameters()):
        assert torch.allclose(a, p.grad, atol=1e-4, rtol=1e-3)


def test_shared_prompt_sampling_matches_general_path():
    m, ps = _model(), _repeated_prompts()
    same = 0
    for seed in range(3):
        a = sample(m, ps, 20, torch.Generator().manual_seed(seed), eos_id=1, pad_id=0, fast=True)
        b = sample(m, ps, 20, torch.Generator().manual_seed(seed), eos_id=1, pad_id=0, fast=False)
        same += sum(ra == rb for ra, rb in zip(a.responses, b.responses))
    assert same >= 0.97 * 3 * len(ps)
