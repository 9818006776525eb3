"""bf16 autocast on the RLOO gradient pass stays within a stated tolerance of fp32 (issue 16).

Tolerance: per-sequence log π(y|x) within 0.05 nats · (response tokens / 10) and the gradient's cosine similarity
with the fp32 gradient at least 0.99, on a random GPT-2 of the built-in family; the same log-prob tolerance for
the no-grad pass that gives log π_base. Sampling and log π_old are fp32 in both (optim/rloo.py)."""

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from goodhartlab.models.generation import sample, token_logprobs


def test_bf16_gradient_pass_within_tolerance_of_fp32():
    cfg = GPT2Config(vocab_size=120, n_positions=64, n_embd=64, n_layer=2, n_head=4, eos_token_id=1, pad_token_id=0)
    torch.manual_seed(0)
    m = GPT2LMHeadModel(cfg).eval()
    g = torch.Generator().manual_seed(0)
    prompts = [p for p in torch.randint(2, 120, (4, 8), generator=g).tolist() for _ in range(4)]  # k = 4 per prompt
    b = sample(m, prompts, 20, torch.Generator().manual_seed(1), eos_id=1, pad_id=0)
    args = (b.sequences, b.attention_mask, b.response_mask)
    adv = torch.randn(16, generator=g)

    def grad(bf16: bool):
        m.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logp = token_logprobs(m, *args).sum(-1)
        (-(adv * logp).mean()).backward()
        return logp.detach().float(), torch.cat([p.grad.flatten() for p in m.parameters()])

    lp32, g32 = grad(False)
    lp16, g16 = grad(True)
    tokens = b.response_mask.sum(-1).float()
    assert torch.all((lp16 - lp32).abs() <= 0.05 * tokens / 10 + 0.05)
    assert float(torch.nn.functional.cosine_similarity(g16, g32, dim=0)) >= 0.99
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):  # the reference pass (log π_base)
        ref16 = token_logprobs(m, *args).sum(-1).float()
    assert torch.all((ref16 - lp32).abs() <= 0.05 * tokens / 10 + 0.05)
    assert 0 < float((ref16 - lp32).abs().max())  # bf16 really ran
