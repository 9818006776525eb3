"""RLOO with a sequence-level KL penalty (and optional PPO clipping), readable top to bottom.

REINFORCE Leave-One-Out: Kool et al. 2019, "Buy 4 REINFORCE samples, get a baseline for free!"; applied to RLHF
by Ahmadian et al. 2024, "Back to Basics". Every step:

  1. pick ``prompts_per_step`` prompts and sample ``k`` responses y ~ π_θ(·|x) for each (B = prompts_per_step·k);
  2. proxy reward r = reward_fn(prompt indices, responses)   (the reward model; gold never enters);
  3. penalized reward  R = r − β · (log π_θ(y|x) − log π_base(y|x))   (sequence-level log-ratio, one number per y);
  4. leave-one-out advantage within each prompt's k samples:  A_i = R_i − mean_{j≠i} R_j  = k/(k−1)·(R_i − mean R);
  5. loss, with log π_θ(y|x) = Σ_t log π_θ(y_t|x, y_<t):
       plain RLOO (ppo_clip=None):  L = −mean_i A_i · log π_θ(y_i|x_i),   one gradient step;
       PPO-clip (ppo_clip=ε):       sequence ratio ρ_i = π_θ(y_i|x_i) / π_old(y_i|x_i)  (the completion is one action),
                                    L = −mean_i min(ρ_i A_i, clip(ρ_i, 1−ε, 1+ε) A_i),  ``ppo_epochs`` steps
     (at ρ = 1 both give the same gradient); Adam, gradient norm clipped to ``max_grad_norm``.

R and A are constants (no gradient flows through the penalty): the KL enters as part of the reward, as in
Ziegler et al. 2019 and Stiennon et al. 2020. Dropout is off throughout (the policy stays in eval mode, gradients
still flow), so log π_old and log π_θ are the same function before the first update. All log-probabilities are
of the sampling distribution (logits / temperature), for π_θ and π_base alike.

Relation to TRL's RLOO (``trl.RLOOTrainer`` / ``trl.RLOOConfig``, read in TRL 1.16): the same algorithm. TRL's
``num_generations`` (``rloo_k`` in TRL ≤ 0.19) is our ``k``; its ``beta`` (``kl_coef`` before) is our ``beta``, also a
sequence-level penalty subtracted from the reward before the leave-one-out baseline; its sequence-level clipped
ratio (``epsilon``, ``num_iterations``) is our ``ppo_clip``/``ppo_epochs``. Differences: TRL generates with HF
``generate`` (global RNG) inside the HF Trainer/accelerate loop, takes text prompts and text-level reward functions,
and offers advantage normalization (off by default; here ``whiten``), reward clipping and minibatching; here sampling draws from an
explicit torch.Generator, prompts and responses stay token ids, there is one minibatch per step, advantages are
not normalized by default (β keeps its meaning either way: it weighs KL against reward inside R), and every quantity (reward, log-ratio,
loss, clip fraction) is returned per step. ``benchmarks/bench_rloo_trl.py`` times the two on the same model.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from pydantic import BaseModel, ConfigDict, Field

from goodhartlab.models.generation import SampleBatch, sample, token_logprobs


class RLOOConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    beta: float = Field(0.05, ge=0, description="KL penalty coefficient on log π(y|x) − log π_base(y|x)")
    k: int = Field(4, ge=2, description="samples per prompt (leave-one-out needs at least 2)")
    prompts_per_step: int = Field(16, ge=1)
    steps: int = Field(100, ge=0)
    lr: float = Field(1e-4, gt=0)
    max_new_tokens: int = Field(40, ge=1)
    temperature: float = Field(1.0, gt=0)
    ppo_clip: float | None = Field(None, gt=0, description="None = plain RLOO; ε = PPO-clipped ratio")
    ppo_epochs: int = Field(1, ge=1, description="gradient steps per batch when ppo_clip is set")
    checkpoint_every: int = Field(10, ge=1)
    max_grad_norm: float = Field(1.0, gt=0)
    whiten: bool = Field(False, description="divide advantages by their batch sd (TRL's normalize_advantage)")
    bf16: bool = Field(
        False,
        description="bf16 autocast (AMX) for the policy's gradient forward/backward and for log π_base; "
        "sampling and log π_old stay fp32 (tolerance: tests/test_rloo_bf16.py)",
    )


RewardFn = Callable[[list[int], list[list[int]]], torch.Tensor]


def leave_one_out(values: torch.Tensor, k: int) -> torch.Tensor:
    """[B] with B = groups·k (each group's k rows contiguous) → value minus the mean of the other k−1."""
    g = values.view(-1, k)
    return (g - (g.sum(1, keepdim=True) - g) / (k - 1)).view(-1)


def train_rloo(
    policy,
    base,
    prompts: list[list[int]],
    reward_fn: RewardFn,
    config: RLOOConfig,
    generator: torch.Generator,
    on_checkpoint: Callable | None = None,
    progress: Callable | None = None,
    eos_id: int | None = None,
    pad_id: int | None = None,
) -> list[dict]:
    """Train ``policy`` in place; returns one history row per step. See the module docstring.

    ``eos_id``/``pad_id`` default to the policy's ``config.eos_token_id``/``config.pad_token_id``.
    ``on_checkpoint(step, policy)`` is called at step 0 (before any update), every ``checkpoint_every`` steps, and
    after the last step. ``progress(n)`` (e.g. from RunContext.progress) is advanced once per step.
    """
    eos_id = policy.config.eos_token_id if eos_id is None else eos_id
    pad_id = policy.config.pad_token_id if pad_id is None else pad_id
    if eos_id is None or pad_id is None:
        raise ValueError("eos_id/pad_id: pass them or set the policy's config.eos_token_id and pad_token_id")
    c = config
    was_training = policy.training, base.training
    base.eval()  # base log-probs are taken under no_grad; its parameters are left as they are
    policy.eval()  # no dropout: sampling, old and new log-probs are one function (gradients still flow)
    optimizer = torch.optim.Adam([p for p in policy.parameters() if p.requires_grad], lr=c.lr)
    history: list[dict] = []
    n_pick = min(c.prompts_per_step, len(prompts))
    try:
        for step in range(c.steps + 1):
            if on_checkpoint is not None and (step % c.checkpoint_every == 0 or step == c.steps):
                on_checkpoint(step, policy)
            if step == c.steps:
                break
            t0 = time.perf_counter()

            # 1. prompts (without replacement within a step) and k samples each, contiguous per prompt
            picked = torch.randperm(len(prompts), generator=generator)[:n_pick].tolist()
            idx = [i for i in picked for _ in range(c.k)]
            batch: SampleBatch = sample(
                policy,
                [prompts[i] for i in idx],
                c.max_new_tokens,
                generator,
                eos_id,
                pad_id,
                temperature=c.temperature,
            )
            args = (batch.sequences, batch.attention_mask, batch.response_mask, c.temperature)

            # 2.–4. reward, penalty, leave-one-out advantage (all constants for the gradient)
            # log π_old(y|x) is the sampler's own fp32 sum of token log-probs: the policy stays in eval mode, so it is
            # the function the gradient forward computes, and no extra forward pass is needed for it.
            old_logp = batch.logprobs.detach()  # [B]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=c.bf16):
                first_logp = token_logprobs(policy, *args).sum(-1) if c.ppo_clip is None else None  # with grad
            with torch.no_grad():
                reward = torch.as_tensor(reward_fn(idx, batch.responses), dtype=torch.float32).reshape(-1)
                if reward.shape[0] != len(idx):
                    raise ValueError(f"reward_fn returned {reward.shape[0]} rewards for {len(idx)} responses")
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=c.bf16):
                    base_logp = token_logprobs(base, *args).sum(-1).float()
                log_ratio = old_logp - base_logp  # [B] log π_old/π_base
                penalized = reward - c.beta * log_ratio
                advantage = leave_one_out(penalized, c.k)
                if c.whiten:  # a step size independent of the reward's scale; β keeps its meaning inside R
                    advantage = advantage / (advantage.std() + 1e-8)

            # 5. policy-gradient steps
            clip_frac = 0.0
            for _ in range(c.ppo_epochs if c.ppo_clip is not None else 1):
                if c.ppo_clip is None:
                    new_logp = first_logp  # [B] log π_θ(y|x), with grad
                    loss = -(advantage * new_logp).mean()
                else:
                    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=c.bf16):
                        new_logp = token_logprobs(policy, *args).sum(-1).float()  # [B] log π_θ(y|x), with grad
                    ratio = torch.exp(new_logp - old_logp)  # [B]
                    clipped = ratio.clamp(1 - c.ppo_clip, 1 + c.ppo_clip)
                    loss = -torch.minimum(ratio * advantage, clipped * advantage).mean()
                    clip_frac = float(((ratio - 1).abs() > c.ppo_clip).float().mean())
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"rloo loss became {loss.item()} at step {step}")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                grad_norm = float(torch.nn.utils.clip_grad_norm_(policy.parameters(), c.max_grad_norm))
                optimizer.step()

            n = len(idx)
            history.append(
                {
                    "step": step + 1,
                    "samples": n,
                    "seconds": time.perf_counter() - t0,
                    "reward_mean": float(reward.mean()),
                    "reward_std": float(reward.std()) if n > 1 else 0.0,
                    "log_ratio_mean": float(log_ratio.mean()),  # k1 estimate of KL(π_old‖π_base) on this batch
                    "penalized_reward_mean": float(penalized.mean()),
                    "loss": float(loss.detach()),
                    "grad_norm": grad_norm,
                    "clip_frac": clip_frac,
                    "response_len_mean": float(batch.response_lengths.float().mean()),
                }
            )
            if progress is not None:
                progress(1)
    finally:
        policy.train(was_training[0]), base.train(was_training[1])
    return history
