"""Config of the ``camera`` experiment; every field documented here once."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from goodhartlab.core.config import ExperimentConfig

Arm = Literal["one_camera", "depth_cue", "second_camera", "oracle"]
ARMS: tuple[str, ...] = ("one_camera", "depth_cue", "second_camera", "oracle")


class Config(ExperimentConfig):
    size: int = Field(
        3, ge=3, le=5, description=("Side of the lattice (cells per axis); the tabular policy has 2·size⁶ states.")
    )
    horizon: int = Field(10, ge=2, le=40, description="Steps per episode; one episode is one clip the rater compares.")
    arms: list[Arm] = Field(
        list(ARMS),
        min_length=1,
        description=(
            "Whose comparisons train the reward model: 'one_camera' (front view only), 'depth_cue' (front view "
            "with a depth map), 'second_camera' (front and side views), 'oracle' (the true state)."
        ),
    )
    seeds: int = Field(
        5,
        ge=1,
        le=100,
        description=(
            "Independent repeats (starts, clips, rater noise, reward-model init, RL); intervals are over seeds."
        ),
    )
    iterations: int = Field(
        10,
        ge=1,
        le=200,
        description=(
            "Rounds of Christiano et al.'s loop: roll out clips, collect comparisons, refit the reward model, run RL."
        ),
    )
    clips_per_iter: int = Field(
        256,
        ge=4,
        le=10_000,
        description=("Episodes rolled out with the current (exploring) policy per round; pairs are drawn among them."),
    )
    comparisons_per_iter: int = Field(256, ge=1, le=10_000, description="Rater comparisons collected per round.")
    clip_epsilon: float = Field(
        0.3, ge=0.0, le=1.0, description=("Exploration of the policy when rolling out clips to compare (ε-greedy).")
    )
    rater_beta: float = Field(
        1.2,
        gt=0.0,
        le=100.0,
        description=(
            "Rater's Boltzmann rationality: P(first) = σ(β·(approved frames₁ − approved frames₂)). 1.2 ≈ "
            "ln(0.77/0.23): on the smallest visible difference (one approved frame) the rater agrees with a "
            "noiseless one 77% of the time, the labeler–researcher agreement of Stiennon et al. 2020; fixed "
            "before any optimization."
        ),
    )
    rm_hidden: int = Field(64, ge=4, le=1024, description="Reward model: hidden width of the frame MLP.")
    rm_members: int = Field(
        1,
        ge=1,
        le=10,
        description=("Reward-model ensemble size (members on bootstrap resamples, mean of standardised rewards)."),
    )
    rm_steps: int = Field(
        100,
        ge=1,
        le=100_000,
        description=("Reward model: Adam steps per round (warm-started from the previous round)."),
    )
    rm_batch: int = Field(
        4096,
        ge=1,
        le=100_000,
        description=("Reward model: comparisons per Adam step (all of them when there are fewer)."),
    )
    rm_lr: float = Field(3e-3, gt=0.0, le=1.0, description="Reward model: Adam learning rate.")
    rl_envs: int = Field(256, ge=1, le=8192, description="Parallel episodes of the Q-learner.")
    rl_steps_per_iter: int = Field(
        80, ge=1, le=100_000, description=("Vector steps of Q-learning per round (transitions = this × rl_envs).")
    )
    rl_epsilon: float = Field(0.2, ge=0.0, le=1.0, description="Q-learning ε-greedy exploration.")
    rl_alpha: float = Field(0.5, gt=0.0, le=1.0, description="Q-learning step size.")
    gamma: float = Field(0.9, gt=0.0, lt=1.0, description="Q-learning discount.")
    eval_episodes: int = Field(
        512, ge=10, le=100_000, description=("Greedy evaluation episodes per checkpoint (the same starts every time).")
    )

    @field_validator("arms")
    @classmethod
    def _arms(cls, v: list[str]) -> list[str]:
        return [a for a in ARMS if a in v]

    @model_validator(mode="after")
    def _pairs(self):
        if self.comparisons_per_iter > self.clips_per_iter * (self.clips_per_iter - 1) // 2:
            raise ValueError("comparisons_per_iter exceeds the distinct pairs of clips_per_iter clips")
        return self

    presets = {
        "quick": {"seeds": 3, "iterations": 6, "eval_episodes": 256, "rm_steps": 60},
        "full": {"seeds": 10, "iterations": 16, "rm_members": 3},
    }
