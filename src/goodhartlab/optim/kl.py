"""Sequence-level KL(π ‖ π_base) in nats, estimated from fresh samples of π, with a 95% interval.

The quantity: for prompts x from the given list (each used in turn, round-robin) and responses y ~ π(·|x)
(stopping at eos or after max_new_tokens, at the sampling temperature),

    KL = E_x E_{y~π} [ log π(y|x) − log π_base(y|x) ].

Two unbiased estimators, chosen by ``estimator``:

- ``"analytic"`` (default): the chain rule turns the sequence KL into a sum of per-token KLs along the path,
      KL = E_{y~π} [ Σ_t KL( π(·|x, y_<t) ‖ π_base(·|x, y_<t) ) ],
  each per-token KL computed exactly over the whole vocabulary. Every per-sample value is ≥ 0 and its
  variance is lower than the log-ratio's (it is the log-ratio with each token's sampling noise integrated out:
  a Rao–Blackwellization). Schulman 2020, "Approximating KL divergence", discusses the alternatives.
- ``"log_ratio"``: the plain Monte Carlo estimate log π(y|x) − log π_base(y|x) per sample ("k1"); it can be
  negative on a sample and, in finite samples, on average.

The interval is a Student-t 95% interval over the n per-sample values (mean ± t·sd/√n).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

from goodhartlab.models.generation import SampleBatch, positions, sample

ESTIMATORS = {
    "analytic": "sequence KL(π‖π_base) in nats = E_y~π Σ_t KL(π(·|x,y<t) ‖ π_base(·|x,y<t)), per-token KL exact over "
    "the vocabulary, summed along fresh samples y~π (chain rule); mean over samples, Student-t 95% interval",
    "log_ratio": "sequence KL(π‖π_base) in nats = E_y~π [log π(y|x) − log π_base(y|x)] (k1 Monte Carlo) over fresh "
    "samples y~π; mean over samples, Student-t 95% interval",
}


@dataclass(frozen=True)
class KLEstimate:
    mean: float  # nats
    low: float
    high: float
    n: int
    estimator: str


def t_interval(values: np.ndarray, estimator: str, level: float = 0.95) -> KLEstimate:
    x = np.asarray(values, dtype=float)
    m = float(x.mean())
    if x.size < 2:
        return KLEstimate(m, math.nan, math.nan, int(x.size), estimator)
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return KLEstimate(m, m - half, m + half, int(x.size), estimator)


def response_logps(model, batch: SampleBatch, temperature: float = 1.0) -> torch.Tensor:
    """Log-softmax over the vocabulary at every response step: [B, G, V] (step g predicts column P+g)."""
    P = batch.prompt_width
    out = model(
        input_ids=batch.sequences,
        attention_mask=batch.attention_mask,
        position_ids=positions(batch.attention_mask),
        use_cache=False,
    )
    return torch.log_softmax(out.logits[:, P - 1 : -1, :].float() / temperature, dim=-1)


@torch.no_grad()
def per_sample_kl(
    policy, base, batch: SampleBatch, temperature: float = 1.0, estimator: str = "analytic"
) -> torch.Tensor:
    """Per-sample sequence-KL terms [B] for responses sampled from ``policy`` (see module docstring)."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator: must be one of {sorted(ESTIMATORS)}")
    was = policy.training, base.training
    policy.eval(), base.eval()
    try:
        lp = response_logps(policy, batch, temperature)  # [B, G, V]
        lq = response_logps(base, batch, temperature)
    finally:
        policy.train(was[0]), base.train(was[1])
    mask = batch.response_mask[:, batch.prompt_width :].float()  # [B, G]
    if estimator == "analytic":
        step = (lp.exp() * (lp - lq)).sum(-1)  # [B, G] exact per-token KL
    else:
        tok = batch.sequences[:, batch.prompt_width :].unsqueeze(-1)
        step = (lp.gather(-1, tok) - lq.gather(-1, tok)).squeeze(-1)  # [B, G] log-ratio of the sampled token
    return (step * mask).sum(-1)


def estimate_sequence_kl(
    policy,
    base,
    prompts: list[list[int]],
    n_samples: int,
    max_new_tokens: int,
    generator: torch.Generator,
    eos_id: int,
    pad_id: int,
    temperature: float = 1.0,
    estimator: str = "analytic",
    batch_size: int = 256,
) -> KLEstimate:
    """KL(π ‖ π_base) in nats from ``n_samples`` fresh samples of ``policy``; see the module docstring."""
    if n_samples < 2:
        raise ValueError("n_samples: need at least 2 samples for an interval")
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator: must be one of {sorted(ESTIMATORS)}")
    chosen = [prompts[i % len(prompts)] for i in range(n_samples)]  # round-robin over the prompt list
    values = []
    for start in range(0, n_samples, batch_size):
        batch = sample(
            policy,
            chosen[start : start + batch_size],
            max_new_tokens,
            generator,
            eos_id,
            pad_id,
            temperature=temperature,
        )
        values.append(per_sample_kl(policy, base, batch, temperature, estimator).cpu().numpy())
    return t_interval(np.concatenate(values), ESTIMATORS[estimator])
