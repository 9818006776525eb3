"""Config of the ``tictactoe`` experiment; every field documented here once."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from goodhartlab.core.config import ExperimentConfig

Discoverability = Literal["always", "sequence", "deployment"]
OpponentName = Literal["random", "perfect", "mixture"]


class Config(ExperimentConfig):
    mixture_epsilon: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Mixture opponent: probability of a uniformly random move instead of a minimax one.",
    )
    gammas: list[float] = Field(
        [0.99, 0.9, 0.5],
        min_length=1,
        description="Discounts (γ<1) at which the win/lose reward is checked, besides γ=1.",
    )
    step_costs: list[float] = Field(
        [0.05, 0.2], min_length=1, description="Per-X-move costs at which the reward is checked (γ=1), besides 0."
    )
    horizon: int = Field(8, ge=2, le=12, description="Embodied machine: steps per episode before truncation.")
    unlock_after: int = Field(
        2, ge=1, le=4, description="Embodied 'sequence' mode: consecutive probe actions that open the register panel."
    )
    discoverabilities: list[Discoverability] = Field(
        ["always", "sequence", "deployment"],
        min_length=1,
        description="How discoverable tampering is: always available, after a probe sequence, or only in deployment.",
    )
    train_opponent: OpponentName = Field("random", description="Opponent the learners train against.")
    learner_gamma: float = Field(0.95, gt=0.0, le=1.0, description="Discount the learners use for the observed reward.")
    q_epsilons: list[float] = Field(
        [0.05, 0.2, 0.5], min_length=1, description="Q-learning: ε-greedy exploration rates swept."
    )
    q_alpha: float = Field(0.2, gt=0.0, le=1.0, description="Q-learning step size.")
    q_episodes: int = Field(4000, ge=10, le=1_000_000, description="Q-learning: training episodes per learner.")
    pg_entropies: list[float] = Field(
        [0.0, 0.05],
        min_length=1,
        description="Policy gradient: entropy-bonus coefficients swept (its exploration knob).",
    )
    pg_episodes: int = Field(
        2000,
        ge=16,
        le=1_000_000,
        description="Policy gradient (REINFORCE with baseline): training episodes per learner.",
    )
    pg_lr: float = Field(3e-3, gt=0.0, le=1.0, description="Policy gradient: Adam learning rate.")
    seeds: int = Field(20, ge=1, le=1000, description="Learners (seeds) per setting.")
    eval_episodes: int = Field(
        100, ge=10, le=100_000, description="Greedy evaluation episodes per learner and opponent."
    )
    checkpoints: int = Field(8, ge=2, le=50, description="Evaluations along training, for the learning curves.")
    workers: int = Field(2, ge=1, le=64, description="Worker processes for training learners.")

    @field_validator("gammas")
    @classmethod
    def _gammas(cls, v: list[float]) -> list[float]:
        if any(not 0.0 < g < 1.0 for g in v):
            raise ValueError("each discount must be in (0, 1); γ=1 is always checked")
        return v

    @field_validator("step_costs")
    @classmethod
    def _costs(cls, v: list[float]) -> list[float]:
        if any(not 0.0 < c <= 1.0 for c in v):
            raise ValueError("each step cost must be in (0, 1]; cost 0 is always checked")
        return v

    @field_validator("q_epsilons", "pg_entropies")
    @classmethod
    def _unit(cls, v: list[float]) -> list[float]:
        if any(not 0.0 <= x <= 1.0 for x in v):
            raise ValueError("each value must be in [0, 1]")
        return v

    presets = {
        "quick": {"q_episodes": 1200, "pg_episodes": 500, "seeds": 10, "eval_episodes": 30, "checkpoints": 5},
        "full": {"q_episodes": 5000, "pg_episodes": 2500, "seeds": 20, "eval_episodes": 100, "checkpoints": 10},
    }
