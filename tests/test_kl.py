"""The sequence-KL estimate against the exact KL, enumerated over every response of a tiny vocabulary."""

import itertools

import pytest
import torch
from test_generation import tiny_gpt2

from goodhartlab.models.generation import sequence_logprobs
from goodhartlab.optim.kl import estimate_sequence_kl

torch.set_num_threads(1)

V, EOS, PAD, L = 4, 1, 0, 3  # tokens {0: pad (still sampleable), 1: eos, 2, 3}; responses of ≤ 3 tokens
PROMPTS = [[2, 3], [3]]


def peaked_gpt2(seed: int):
    # A larger init scale makes next-token distributions far from uniform: two seeds differ by ~0.5 nat.
    return tiny_gpt2(V, seed, n_positions=16, n_embd=16, n_layer=1, initializer_range=0.15)


def all_responses():
    """Every complete response: ends with eos at length ≤ L, or has L tokens without eos."""
    for n in range(1, L + 1):
        for y in itertools.product(range(V), repeat=n):
            if EOS in y[:-1]:
                continue
            if y[-1] == EOS or n == L:
                yield list(y)


@torch.no_grad()
def exact_kl(policy, base, temperature=1.0) -> float:
    total = 0.0
    for prompt in PROMPTS:
        mass, kl = 0.0, 0.0
        for y in all_responses():
            seq = torch.tensor([prompt + y])
            att = torch.ones_like(seq)
            resp = torch.tensor([[0] * len(prompt) + [1] * len(y)])
            lp = sequence_logprobs(policy, seq, att, resp, temperature).item()
            lq = sequence_logprobs(base, seq, att, resp, temperature).item()
            mass += torch.tensor(lp).exp().item()
            kl += torch.tensor(lp).exp().item() * (lp - lq)
        assert mass == pytest.approx(1.0, abs=1e-5)  # the enumeration covers the sampling distribution
        total += kl
    return total / len(PROMPTS)


@pytest.mark.parametrize("estimator", ["analytic", "log_ratio"])
def test_estimate_matches_exact_kl(estimator):
    policy, base = peaked_gpt2(1), peaked_gpt2(2)
    truth = exact_kl(policy, base, temperature=0.8)
    assert truth > 0.3
    est = estimate_sequence_kl(
        policy, base, PROMPTS, 3000, L, torch.Generator().manual_seed(0), EOS, PAD, temperature=0.8, estimator=estimator
    )
    assert est.n == 3000 and est.low < est.mean < est.high
    assert est.low - 0.25 * (est.high - est.low) <= truth <= est.high + 0.25 * (est.high - est.low), (est, truth)
    assert (est.high - est.low) < 0.2 * truth
    assert "nats" in est.estimator


def test_kl_to_itself_is_zero_and_analytic_is_tighter():
    policy, base = peaked_gpt2(1), peaked_gpt2(2)
    zero = estimate_sequence_kl(policy, policy, PROMPTS, 50, L, torch.Generator().manual_seed(0), EOS, PAD)
    assert abs(zero.mean) < 1e-5
    g = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    a = estimate_sequence_kl(policy, base, PROMPTS, 500, L, g(), EOS, PAD, estimator="analytic")
    b = estimate_sequence_kl(policy, base, PROMPTS, 500, L, g(), EOS, PAD, estimator="log_ratio")
    assert (a.high - a.low) < (b.high - b.low)  # Rao–Blackwellized: lower variance on the same samples
