"""Config of the ``debate`` experiment; every field documented here once."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from goodhartlab.core.config import ExperimentConfig


class Config(ExperimentConfig):
    rendered_ks: list[int] = Field(
        [4, 6], description="Pixels revealed per debate on rendered digits (28×28); one judge per k."
    )
    handwritten_ks: list[int] = Field(
        [2, 3], description="Pixels revealed per debate on handwritten digits at their native 8×8 (empty: skip)."
    )
    first_movers: list[Literal["honest", "liar"]] = Field(
        ["honest"],
        min_length=1,
        description="Who reveals the first pixel; each listed order is played. With 'honest' and even k the liar has the last word.",
    )
    judge_train_images: int = Field(
        12_000,
        ge=100,
        le=200_000,
        description="Rendered training images for the judge (a fresh random reveal each time one is drawn).",
    )
    judge_steps: int = Field(3000, ge=1, le=200_000, description="Adam steps per rendered-digit judge.")
    handwritten_judge_steps: int = Field(
        2000, ge=1, le=200_000, description="Adam steps per handwritten (8×8) judge, on the handwritten training half."
    )
    judge_batch: int = Field(128, ge=8, le=4096, description="Judge training batch.")
    judge_lr: float = Field(3e-3, gt=0.0, le=1.0, description="Judge Adam learning rate (cosine-decayed to 0).")
    judge_width: int = Field(
        16, ge=2, le=128, description="Channels of the judge's first convolution (the second has twice as many)."
    )
    background: int = Field(
        32,
        ge=0,
        le=254,
        description="Pixels below this value (of 255) are set to 0 in the rendered images, so noise is not 'nonzero': only ink can be revealed, as on MNIST's black background.",
    )
    test_images: int = Field(
        200, ge=1, le=20_000, description="Rendered test images debated per k (each against all 9 lies)."
    )
    handwritten_test_images: int = Field(
        200, ge=1, le=899, description="Held-out handwritten test images debated per k."
    )
    random_images: int = Field(
        2000, ge=10, le=100_000, description="Test images for the judge's accuracy on random reveals."
    )
    search: Literal["auto", "mcts", "exhaustive"] = Field(
        "auto",
        description="Debaters' search: minimax over every reveal sequence, UCT Monte-Carlo tree search, or 'auto' (exhaustive when candidates^k ≤ exhaustive_max_leaves).",
    )
    candidates: int = Field(
        16,
        ge=0,
        le=784,
        description="Rendered digits: pixels each debater considers per game, best one-pixel judge margin first (0 = every nonzero pixel).",
    )
    handwritten_candidates: int = Field(
        0, ge=0, le=64, description="Handwritten digits: the same (0 = every nonzero pixel)."
    )
    exhaustive_max_leaves: int = Field(
        5000, ge=1, le=1_000_000, description="'auto' plays exhaustively when a game tree has at most this many leaves."
    )
    sims: int = Field(
        64, ge=1, le=100_000, description="MCTS simulations per reveal (each scores one final position with the judge)."
    )
    c_uct: float = Field(
        1.0, ge=0.0, le=100.0, description="UCB1 exploration constant (values are sigmoid(judge margin) in [0, 1])."
    )
    transcripts: int = Field(
        2,
        ge=0,
        le=24,
        description="Debate transcripts drawn per suite, k and first mover: a lost image and a won one in turn.",
    )

    @field_validator("rendered_ks", "handwritten_ks")
    @classmethod
    def _ks(cls, v: list[int]) -> list[int]:
        if any(not 1 <= k <= 12 for k in v):
            raise ValueError("each k must be in 1..12 (pixels revealed per debate)")
        return sorted(set(v))

    @model_validator(mode="after")
    def _consistent(self):
        if not self.rendered_ks and not self.handwritten_ks:
            raise ValueError("rendered_ks and handwritten_ks are both empty: nothing to debate")
        for name, m in (("candidates", self.candidates), ("handwritten_candidates", self.handwritten_candidates)):
            ks = self.rendered_ks if name == "candidates" else self.handwritten_ks
            if m and ks and m < (max(ks) + 1) // 2:
                raise ValueError(
                    f"{name} ({m}) must be at least ceil(k/2) = {(max(ks) + 1) // 2}: a debater reveals that many pixels"
                )
        return self

    presets = {
        "quick": {
            "rendered_ks": [4, 6],
            "handwritten_ks": [2],
            "judge_train_images": 5000,
            "judge_steps": 1000,
            "handwritten_judge_steps": 600,
            "judge_width": 12,
            "test_images": 150,
            "handwritten_test_images": 100,
            "random_images": 1000,
            "candidates": 10,
            "sims": 24,
        },
        "full": {
            "rendered_ks": [4, 6],
            "handwritten_ks": [2, 3],
            "first_movers": ["honest", "liar"],
            "test_images": 150,
            "handwritten_test_images": 150,
            "sims": 48,
        },
    }
