"""Config of the ``digits`` experiment; every field documented here once."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from goodhartlab.core.config import ExperimentConfig
from goodhartlab.models.classifiers import SIZES
from goodhartlab.worlds.digits import DigitsWorldConfig

Size = Literal["tiny", "small", "medium", "large"]


class Config(ExperimentConfig):
    world: DigitsWorldConfig = Field(
        DigitsWorldConfig(offer_rate=0.5, offer_label_correlation=0.95),
        description="The digits generator (see worlds/digits/config.py); offers on half the training digits, claiming the true digit 95% of the time.",
    )
    resolution: Literal[28, 48, 96] = Field(
        48, description="Side the 96-px images are area-averaged to before the classifiers see them."
    )
    train_images: int = Field(3000, ge=50, le=100_000, description="Size of the finite training set.")
    handwritten_train_share: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of the training set drawn from the handwritten training half (the optional training source).",
    )
    test_images: int = Field(
        1000, ge=20, le=100_000, description="Images per test distribution (in-distribution and each shift)."
    )
    architectures: list[Size] = Field(
        ["tiny", "small", "medium"], min_length=1, description=f"CNN sizes (widths {SIZES})."
    )
    generator_models: int = Field(
        6,
        ge=2,
        le=60,
        description="Models trained on the generator's labels; model i has architecture i mod len(architectures) and seed i div len(architectures).",
    )
    rater_models: int = Field(
        3,
        ge=0,
        le=60,
        description="Models trained on the rater's labels (the first ones of the same architecture/seed sequence: same inits).",
    )
    control_models: int = Field(
        1,
        ge=0,
        le=60,
        description="Models trained on the same images without offer stamps (same sequence): the offers control.",
    )
    rater_flip_rate: float = Field(0.05, ge=0.0, le=0.5, description="Rater noise: chance of a uniformly wrong label.")
    rater_ambiguity_blind: bool = Field(
        True, description="The rater names a digit for superimposed pairs and heavy occlusions instead of X."
    )
    rater_offer_sway: float = Field(
        0.3, ge=0.0, le=1.0, description="On a stamped image, chance the rater writes the offer's claimed digit."
    )
    max_epochs: int = Field(
        40, ge=1, le=1000, description="Training stops here if the model has not fit its labels yet."
    )
    fit_target: float = Field(
        0.99,
        gt=0.0,
        le=1.0,
        description="Training accuracy (on its own labels) at which a model counts as fitting and stops.",
    )
    lr: float = Field(2e-3, gt=0.0, le=1.0, description="Adam learning rate.")
    batch_size: int = Field(64, ge=1, le=4096, description="Minibatch size.")
    attack_images: int = Field(
        200, ge=0, le=10_000, description="Correctly classified in-distribution digits attacked (per attacked model)."
    )
    attack_models: int = Field(2, ge=0, le=20, description="Generator-labelled models attacked (the first ones).")
    attack_budgets: list[int] = Field(
        [2, 4, 8, 16, 32, 64], min_length=1, description="L∞ budgets ε in grey levels (of 255)."
    )
    attack_steps: int = Field(20, ge=1, le=1000, description="Projected signed-gradient steps per budget (step ε/4).")
    ink_threshold: int = Field(
        128,
        ge=32,
        le=250,
        description="A pixel at or above this grey level is ink: the drawn strokes the attack may not touch or create.",
    )
    guard_px: int = Field(
        1, ge=0, le=8, description="Pixels within this distance of ink are frozen too (at model resolution)."
    )
    grid_images: int = Field(10, ge=1, le=40, description="Images per row in the report's image grids.")

    @field_validator("attack_budgets")
    @classmethod
    def _budgets(cls, v: list[int]) -> list[int]:
        if any(not 1 <= b <= 255 for b in v):
            raise ValueError("each budget must be an integer grey level in [1, 255]")
        return sorted(set(v))

    @model_validator(mode="after")
    def _consistent(self):
        if self.attack_models > self.generator_models:
            raise ValueError(f"attack_models ({self.attack_models}) exceeds generator_models ({self.generator_models})")
        return self

    presets = {
        "quick": {
            "resolution": 28,
            "train_images": 1000,
            "test_images": 300,
            "architectures": ["tiny", "small"],
            "generator_models": 4,
            "rater_models": 2,
            "control_models": 1,
            "max_epochs": 30,
            "attack_images": 100,
            "attack_models": 1,
            "attack_budgets": [4, 8, 16, 32, 64],
            "attack_steps": 10,
            "grid_images": 8,
        },
        "full": {
            "resolution": 48,
            "train_images": 3000,
            "test_images": 1500,
            "architectures": ["tiny", "small", "medium"],
            "generator_models": 6,
            "rater_models": 3,
            "control_models": 1,
            "max_epochs": 40,
            "attack_images": 300,
            "attack_models": 2,
        },
    }
