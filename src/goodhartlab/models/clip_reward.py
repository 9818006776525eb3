"""A Bradley–Terry reward model on rendered frames, fit to comparisons of clips (Christiano et al. 2017, §2.2).

The model r̂(o) scores one rendered frame o (a feature vector of F floats); a clip's return is the sum over its
frames, and P(clip 1 ≻ clip 2) = σ(Σ r̂(o¹_t) − Σ r̂(o²_t)) (their eq. 1). It is fit by minimising the cross
entropy to the rater's picks. An ensemble of K members (optional, Christiano's "ensemble of predictors")
averages the members' rewards, each standardised over the states it is asked about.

Only frames and picks reach it: no state, no gold. Warm starts: :meth:`ClipRewardTrainer.fit` continues from
the previous fit, as Christiano's reward model keeps training while comparisons arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from goodhartlab.core.parts import Comparisons


class FrameReward(nn.Module):
    """MLP F → hidden → hidden → 1 on one frame; ``forward(x: Tensor[..., F]) -> Tensor[...]``."""

    def __init__(self, features: int, hidden: int, generator: torch.Generator):
        super().__init__()
        with torch.random.fork_rng(devices=[]):  # init from the run's stream, leaving torch's global state alone
            torch.manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))
            self.net = nn.Sequential(
                nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def _distinct_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct rows (U, F), index of each row's distinct row (N,)) — exact, by the rows' bytes, in O(N)."""
    first_seen: dict[bytes, int] = {}
    inverse = np.fromiter((first_seen.setdefault(r.tobytes(), len(first_seen)) for r in x), np.int64, len(x))
    keep = np.zeros(len(first_seen), dtype=np.int64)
    keep[inverse[::-1]] = np.arange(len(x))[::-1]  # any row of each group will do; they are equal
    return x[keep], inverse


class ClipRewardTrainer:
    """Fits ``members`` frame-reward MLPs to clip comparisons (each on its own bootstrap resample when K > 1).

    Comparisons hold per clip a float array (T, F) of frame features in ``first``/``second`` and the pick.
    Each Adam step uses ``batch`` comparisons (all of them when there are fewer).
    """

    def __init__(
        self,
        features: int,
        hidden: int = 64,
        members: int = 1,
        steps: int = 200,
        batch: int = 4096,
        lr: float = 3e-3,
        weight_decay: float = 0.0,
        generator: torch.Generator | None = None,
    ):
        if members < 1:
            raise ValueError(f"members must be >= 1, got {members}")
        self.generator = generator or torch.Generator().manual_seed(0)
        self.models = [FrameReward(features, hidden, self.generator) for _ in range(members)]
        # L2 on the weights as Christiano et al. regularise their predictor (decoupled weight decay, AdamW).
        self.optims = [torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=weight_decay) for m in self.models]
        self.steps, self.batch = steps, batch
        self.history: list[dict[str, float]] = []

    def fit(self, comparisons: Comparisons, rng: np.random.Generator) -> EnsembleScorer:
        first, second = np.asarray(comparisons.first, np.float32), np.asarray(comparisons.second, np.float32)
        m, t, f = first.shape
        if m == 0:
            raise ValueError("no comparisons to fit")
        # Clips share frames: score each distinct frame once per step, then sum per clip (same loss, less work).
        frames, inverse = _distinct_rows(np.concatenate([first, second]).reshape(-1, f))
        idx = torch.as_tensor(inverse.reshape(2, m, t))
        x = torch.as_tensor(frames)
        pick = torch.as_tensor(np.asarray(comparisons.pick), dtype=torch.float32)
        for k, (model, opt) in enumerate(zip(self.models, self.optims)):
            pool = np.arange(m) if len(self.models) == 1 else rng.integers(0, m, m)
            model.train()
            loss = torch.tensor(0.0)
            for _ in range(self.steps):
                b = torch.as_tensor(pool if m <= self.batch else pool[rng.integers(0, m, self.batch)])
                r = model(x)  # (U,) reward of every distinct frame
                margin = r[idx[0, b]].sum(1) - r[idx[1, b]].sum(1)
                loss = nn.functional.binary_cross_entropy_with_logits(margin, pick[b])
                if not torch.isfinite(loss):
                    raise FloatingPointError("reward-model loss diverged")
                opt.zero_grad()
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                r = model(x)
                margin = r[idx[0]].sum(1) - r[idx[1]].sum(1)
                agree = float(((margin > 0) == (pick > 0.5)).float().mean())
            self.history.append({"member": k, "comparisons": m, "loss": float(loss.detach()), "train_agreement": agree})
        return EnsembleScorer(self.models)


class EnsembleScorer:
    """A :class:`~goodhartlab.core.parts.Scorer` over frames: ``frame_rewards(x (N, F)) -> (K, N)`` raw
    member rewards; ``__call__(situations, clips (B, T, F)) -> (B,)`` clip returns of the member mean."""

    def __init__(self, models: Sequence[nn.Module]):
        self.models = list(models)

    @torch.no_grad()
    def frame_rewards(self, x: np.ndarray) -> np.ndarray:
        t = torch.as_tensor(np.asarray(x), dtype=torch.float32)
        return np.stack([m(t).numpy() for m in self.models])

    def __call__(self, situations: Sequence[Any] | None, behaviours: np.ndarray) -> np.ndarray:
        b = np.asarray(behaviours)
        r = self.frame_rewards(b.reshape(-1, b.shape[-1])).mean(0)
        return r.reshape(b.shape[:-1]).sum(-1)
