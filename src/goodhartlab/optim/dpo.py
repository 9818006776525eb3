"""Direct alignment on rater comparisons: DPO and IPO, readable top to bottom.

DPO (Rafailov et al. 2023, eq. 7): with h = [log π_θ(y_w|x) − log π_ref(y_w|x)] − [log π_θ(y_l|x) − log π_ref(y_l|x)]
(y_w the chosen, y_l the rejected answer, sequence log-probabilities summed over response tokens),

    L_DPO = −mean log σ(β · h).

IPO (Azar et al. 2023, eq. 17): L_IPO = mean (h − 1/(2β))², which does not push h to infinity on
deterministic preferences. π_ref = π_base; its log-probabilities are computed once. Pressure: 1/β and the epochs
over the comparisons (Rafailov et al. 2024, arXiv 2406.02900, find direct alignment overoptimizes like RLHF,
often within one epoch). Every step: a minibatch of comparisons, one Adam step, gradient norm clipped; the
history row holds the loss, the mean implicit reward margin β·h, the share of pairs with h > 0 and the grad norm.
Nothing but token ids and the picks enters: no gold, no rater score.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

from goodhartlab.models.generation import left_pad, sequence_logprobs

Kind = Literal["dpo", "ipo"]


class DPOConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    beta: float = Field(
        0.1,
        gt=0,
        description="β: strength of the implicit KL constraint (pressure grows as 1/β)",
    )
    kind: Kind = Field("dpo", description="dpo: −log σ(β h); ipo: (h − 1/(2β))²")
    epochs: float = Field(2.0, gt=0, description="passes over the comparisons")
    batch_size: int = Field(32, ge=1)
    lr: float = Field(1e-4, gt=0)
    checkpoint_every: int = Field(10, ge=1, description="steps between checkpoints (step 0 and the last always)")
    max_grad_norm: float = Field(1.0, gt=0)


def preference_loss(
    policy_chosen: torch.Tensor,
    policy_rejected: torch.Tensor,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    beta: float,
    kind: Kind = "dpo",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Loss (scalar) and h [B] from sequence log-probabilities [B] of the chosen and rejected answers."""
    h = (policy_chosen - ref_chosen) - (policy_rejected - ref_rejected)  # [B]
    if kind == "dpo":
        loss = -torch.nn.functional.logsigmoid(beta * h).mean()
    elif kind == "ipo":
        loss = ((h - 1 / (2 * beta)) ** 2).mean()
    else:
        raise ValueError(f"kind: must be 'dpo' or 'ipo', got {kind!r}")
    return loss, h


def pair_batch(prompts: list[list[int]], responses: list[list[int]], eos_id: int, pad_id: int):
    """(sequences, attention_mask, response_mask) [B, T]: left-padded prompt, response + eos, right-padded."""
    ids, mask = left_pad(prompts, pad_id)  # [B, P]
    B, P = ids.shape
    G = max(len(r) for r in responses) + 1
    seq = torch.full((B, P + G), pad_id, dtype=torch.long)
    att = torch.zeros((B, P + G), dtype=torch.long)
    resp = torch.zeros((B, P + G), dtype=torch.long)
    seq[:, :P], att[:, :P] = ids, mask
    for i, r in enumerate(responses):
        y = [*r, eos_id]
        seq[i, P : P + len(y)] = torch.tensor(y, dtype=torch.long)
        att[i, P : P + len(y)] = 1
        resp[i, P : P + len(y)] = 1
    return seq, att, resp


def train_dpo(
    policy,
    ref,
    prompts: list[list[int]],
    chosen: list[list[int]],
    rejected: list[list[int]],
    config: DPOConfig,
    generator: torch.Generator,
    eos_id: int,
    pad_id: int,
    on_checkpoint: Callable | None = None,
    progress: Callable | None = None,
) -> list[dict]:
    """Train ``policy`` in place on (prompt, chosen, rejected) token ids (prompts already start with bos).
    ``on_checkpoint(step, epoch, policy)`` at step 0, every ``checkpoint_every`` steps and after the last."""
    c = config
    n = len(prompts)
    if not n == len(chosen) == len(rejected):
        raise ValueError("prompts, chosen and rejected must have the same length")
    steps = max(1, round(c.epochs * n / c.batch_size))
    was = policy.training, ref.training
    policy.eval(), ref.eval()  # no dropout; gradients still flow
    with torch.no_grad():  # π_ref's log-probabilities, once: [n] each
        ref_c = torch.cat(
            [
                sequence_logprobs(
                    ref,
                    *pair_batch(prompts[s : s + 256], chosen[s : s + 256], eos_id, pad_id),
                )
                for s in range(0, n, 256)
            ]
        )
        ref_r = torch.cat(
            [
                sequence_logprobs(
                    ref,
                    *pair_batch(prompts[s : s + 256], rejected[s : s + 256], eos_id, pad_id),
                )
                for s in range(0, n, 256)
            ]
        )
    opt = torch.optim.Adam([p for p in policy.parameters() if p.requires_grad], lr=c.lr)
    history: list[dict] = []
    order, at = torch.randperm(n, generator=generator), 0
    try:
        for step in range(steps + 1):
            if on_checkpoint is not None and (step % c.checkpoint_every == 0 or step == steps):
                on_checkpoint(step, step * c.batch_size / n, policy)
            if step == steps:
                break
            t0 = time.perf_counter()
            if at + c.batch_size > n:
                order, at = torch.randperm(n, generator=generator), 0
            idx = order[at : at + c.batch_size].tolist()
            at += c.batch_size
            k = len(idx)
            seq, att, resp = pair_batch(
                [prompts[i] for i in idx] * 2,
                [chosen[i] for i in idx] + [rejected[i] for i in idx],
                eos_id,
                pad_id,
            )
            logp = sequence_logprobs(policy, seq, att, resp)  # [2k], with grad
            loss, h = preference_loss(logp[:k], logp[k:], ref_c[idx], ref_r[idx], c.beta, c.kind)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{c.kind} loss became {loss.item()} at step {step}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = float(torch.nn.utils.clip_grad_norm_(policy.parameters(), c.max_grad_norm))
            opt.step()
            history.append(
                {
                    "step": step + 1,
                    "epoch": (step + 1) * c.batch_size / n,
                    "loss": float(loss.detach()),
                    "margin": float(c.beta * h.detach().mean()),
                    "pair_accuracy": float((h > 0).float().mean()),
                    "grad_norm": grad_norm,
                    "seconds": time.perf_counter() - t0,
                }
            )
            if progress is not None:
                progress(1)
    finally:
        policy.train(was[0]), ref.train(was[1])
    return history
