"""Config of the ``weak-to-strong`` experiment; every field documented here once."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from goodhartlab.core.config import ExperimentConfig
from goodhartlab.models.configs import QUICK_LM, LMConfig
from goodhartlab.worlds.qa import QAWorldConfig


class Config(ExperimentConfig):
    widths: list[int] = Field(
        [2, 4, 16],
        min_length=2,
        description="Model sizes (channels of the first convolution; parameters grow ~width²). Every pair (smaller = weak supervisor, larger = strong student) is run.",
    )
    train_images: int = Field(
        4000,
        ge=20,
        le=200_000,
        description="Training images (rendered digits and X images at 28×28, 11 classes); half A trains the weak supervisors on ground truth, half B gets weak labels.",
    )
    test_images: int = Field(
        2000,
        ge=10,
        le=100_000,
        description="Held-out test images; every accuracy is against the world's labels on these.",
    )
    pretraining: Literal["contrastive", "autoencoder"] = Field(
        "contrastive",
        description="Self-supervised pretraining of every model on all training images without labels: SimCLR on augmented views, or a denoising autoencoder.",
    )
    pretrain_steps: int = Field(600, ge=0, le=100_000, description="Pretraining steps per model (0: no pretraining).")
    finetune_steps: int = Field(
        300,
        ge=1,
        le=100_000,
        description="Adam steps of each fine-tuning (weak on ground truth, student on weak labels, ceiling on ground truth).",
    )
    batch: int = Field(128, ge=8, le=4096, description="Batch size of pretraining and fine-tuning.")
    lr: float = Field(2e-3, gt=0.0, le=1.0, description="Adam learning rate.")
    mask_drop: float = Field(
        0.3, ge=0.0, lt=1.0, description="Autoencoder pretraining: share of pixels zeroed in its input."
    )
    confidence: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description="Weight c of the auxiliary confidence loss (Burns et al. use 0.5 for their largest students).",
    )
    warmup: float = Field(
        0.1,
        gt=0.0,
        le=1.0,
        description="Share of fine-tuning steps over which the confidence weight ramps from 0 to c.",
    )
    seeds: int = Field(
        3, ge=1, le=100, description="Seeds (data split, initializations, batches); intervals are over seeds."
    )
    # The text task
    text_task: bool = Field(
        True,
        description="Also run the text task: a weak supervisor that believes the QA world's popular misconceptions labels statements for the pretrained tiny LM with a classification head.",
    )
    text_world: QAWorldConfig = Field(
        default_factory=QAWorldConfig,
        description="Text task: the QA world (facts, misconceptions, corpus); seeded by `seed`.",
    )
    text_lm: LMConfig = Field(
        default_factory=LMConfig,
        description="Text task: the tiny GPT-2 pretrained on the world's corpus (then Q/A fine-tuned), cached by config hash; the same as the rlhf experiments' π_base for equal settings.",
    )
    text_statements_per_fact: int = Field(
        3,
        ge=2,
        le=6,
        description="Text task: statements per fact: the true value, the misconception if any, then other wrong values.",
    )
    text_train_lm: bool = Field(
        False,
        description="Text task: fine-tune the LM's weights with the head (Burns et al.'s main setting); false: train the head only, a linear probe of the frozen pretrained LM (their appendix). With ~150 training statements, full fine-tuning of the tiny LM overfits (ceiling below the weak supervisor).",
    )
    text_finetune_steps: int = Field(
        200,
        ge=1,
        le=100_000,
        description="Text task: Adam steps of each classifier fine-tuning (student on weak labels, ceiling on truth).",
    )
    text_batch: int = Field(32, ge=2, le=4096, description="Text task: statements per fine-tuning step.")
    text_lr: float = Field(
        1e-2,
        gt=0.0,
        le=1.0,
        description="Text task: Adam learning rate of the fine-tuning (use ~3e-4 with text_train_lm).",
    )

    @field_validator("widths")
    @classmethod
    def _widths(cls, v: list[int]) -> list[int]:
        if any(not 1 <= w <= 128 for w in v):
            raise ValueError("each width must be in 1..128")
        v = sorted(set(v))
        if len(v) < 2:
            raise ValueError("give at least two different widths: a weak and a strong size")
        return v

    presets = {
        "quick": {
            "widths": [3, 16],
            "train_images": 2000,
            "test_images": 1000,
            "pretrain_steps": 200,
            "finetune_steps": 120,
            "seeds": 3,
            "text_lm": QUICK_LM,
            "text_finetune_steps": 120,
        },
        "full": {
            "widths": [2, 4, 16],
            "train_images": 4000,
            "test_images": 2000,
            "pretrain_steps": 600,
            "finetune_steps": 300,
            "seeds": 4,
        },
    }
