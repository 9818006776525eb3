"""RLOO raises a simple reward on a tiny model, and the KL penalty holds KL(π‖π_base) down."""

import copy
import math

import pytest
import torch
from test_generation import tiny_gpt2

from goodhartlab.models.generation import sample
from goodhartlab.optim.kl import estimate_sequence_kl
from goodhartlab.optim.rloo import RLOOConfig, leave_one_out, train_rloo

torch.set_num_threads(1)

V, EOS, PAD, TARGET, LEN = 8, 1, 0, 5, 6
PROMPTS = [[2, 3], [4], [6, 7, 2], [3, 3]]


def tiny_policy(seed: int = 0):
    return tiny_gpt2(V, seed, n_positions=32)


def reward_fn(prompt_indices, responses):
    # fraction of the maximum length spent on the target token: rewards long runs of TARGET
    return torch.tensor([sum(t == TARGET for t in r) / LEN for r in responses])


def mean_reward(model, seed: int, n: int = 400) -> float:
    batch = sample(
        model, [PROMPTS[i % len(PROMPTS)] for i in range(n)], LEN, torch.Generator().manual_seed(seed), EOS, PAD
    )
    return float(reward_fn(None, batch.responses).mean())


CFG = dict(k=4, prompts_per_step=4, steps=25, lr=3e-3, max_new_tokens=LEN, checkpoint_every=10)


def test_leave_one_out():
    r = torch.tensor([1.0, 2.0, 3.0, 10.0, 10.0, 16.0])
    torch.testing.assert_close(leave_one_out(r, 3), torch.tensor([-1.5, 0.0, 1.5, -3.0, -3.0, 6.0]))


@pytest.mark.parametrize("ppo_clip", [None, 0.2])
def test_rloo_raises_reward_and_beta_limits_kl(ppo_clip):
    base = tiny_policy()
    before = mean_reward(base, seed=100)
    results = {}
    for beta in (0.0, 0.1):
        policy = copy.deepcopy(base)
        seen = []
        history = train_rloo(
            policy,
            base,
            PROMPTS,
            reward_fn,
            RLOOConfig(beta=beta, ppo_clip=ppo_clip, ppo_epochs=2, **CFG),
            torch.Generator().manual_seed(1),
            on_checkpoint=lambda s, p: seen.append(s),
        )
        assert seen == [0, 10, 20, 25] and len(history) == 25
        assert all(math.isfinite(h["loss"]) for h in history)
        kl = estimate_sequence_kl(policy, base, PROMPTS, 400, LEN, torch.Generator().manual_seed(2), EOS, PAD)
        results[beta] = (mean_reward(policy, seed=100), kl)
    # Reward: chance level is ~1/8 of the length; unpenalized RLOO must clearly beat the base policy.
    gain, kl0 = results[0.0][0] - before, results[0.0][1]
    assert gain > 0.15, (before, results)
    assert results[0.1][0] > before + 0.1, (before, results)
    # The penalty holds KL down: the β=0.5 policy's KL interval lies below the β=0 one.
    assert results[0.1][1].high < kl0.low, results


def test_nonfinite_loss_raises():
    base = tiny_policy()
    bad = lambda idx, responses: torch.full((len(responses),), float("nan"))  # noqa: E731
    with pytest.raises(FloatingPointError, match="became nan at step 0"):
        train_rloo(
            copy.deepcopy(base),
            base,
            PROMPTS,
            bad,
            RLOOConfig(steps=3, max_new_tokens=4),
            torch.Generator().manual_seed(0),
        )


def test_config_rejects_k1():
    with pytest.raises(ValueError, match="k"):
        RLOOConfig(k=1)
