"""Configs of the tiny LM and the reward models: pydantic only, so experiment configs import them without torch."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Aggregate = Literal["mean", "min", "uncertainty"]

# A small, fast π_base for quick presets (rlhf and weak-to-strong text share it, so they share one cache entry).
QUICK_LM = {"block_size": 64, "corpus_documents": 1000, "pretrain_steps": 100, "sft_examples": 2000, "sft_steps": 500}


class LMConfig(BaseModel):
    """Size and training of the tiny LM (π_base)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_layer: int = Field(2, ge=1, le=12, description="Transformer blocks.")
    n_head: int = Field(2, ge=1, le=16, description="Attention heads (must divide n_embd).")
    n_embd: int = Field(64, ge=8, le=768, description="Model width.")
    block_size: int = Field(96, ge=16, le=1024, description="Longest sequence (pretraining block and position table).")
    corpus_documents: int = Field(3000, ge=10, le=1_000_000, description="Corpus documents drawn for pretraining.")
    pretrain_steps: int = Field(300, ge=0, le=100_000, description="Adam steps on the corpus.")
    sft_examples: int = Field(3000, ge=10, le=1_000_000, description="Q/A examples drawn for fine-tuning.")
    sft_steps: int = Field(800, ge=0, le=100_000, description="Adam steps on the Q/A examples.")
    batch_size: int = Field(32, ge=1, le=1024, description="Sequences per step (both stages).")
    lr: float = Field(5e-3, gt=0.0, le=1.0, description="Adam learning rate (cosine decay to 10%).")

    @model_validator(mode="after")
    def _heads_divide_width(self):
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        return self


class RMConfig(BaseModel):
    """Reward-model size, data and training."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backbone: Literal["lm", "fresh"] = Field(
        "lm", description="'lm': start from π_base's transformer; 'fresh': a new small transformer of the size below."
    )
    n_layer: int = Field(2, ge=1, le=12, description="Fresh backbone: transformer blocks.")
    n_head: int = Field(2, ge=1, le=16, description="Fresh backbone: attention heads (must divide n_embd).")
    n_embd: int = Field(64, ge=8, le=768, description="Fresh backbone: width.")
    comparisons: int = Field(
        2000, ge=8, le=1_000_000, description="Rater comparisons (pairs of π_base answers) it is trained on."
    )
    epochs: float = Field(4.0, gt=0.0, le=100.0, description="Passes over the comparisons.")
    batch_size: int = Field(32, ge=1, le=4096, description="Comparisons per Adam step.")
    lr: float = Field(1e-3, gt=0.0, le=1.0, description="Adam learning rate.")
    members: int = Field(
        1, ge=1, le=16, description="Ensemble members (independent inits and data orders, same comparisons)."
    )
    aggregate: Aggregate = Field(
        "mean", description="How an ensemble's member scores combine: mean, min, or uncertainty (mean − λ·var)."
    )
    uncertainty_lambda: float = Field(0.5, ge=0.0, le=100.0, description="λ of the uncertainty-weighted aggregate.")

    @model_validator(mode="after")
    def _heads_divide_width(self):
        if self.n_embd % self.n_head:
            raise ValueError(f"rm n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        return self
