"""Configs of the tiny LM and the reward models: pydantic only, so experiment configs import them without torch."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Aggregate = Literal["mean", "min", "uncertainty"]

# A small, fast π_base for quick presets (rlhf and weak-to-strong text share it, so they share one cache entry).
QUICK_LM = {"block_size": 64, "corpus_documents": 1000, "pretrain_steps": 100, "sft_examples": 2000, "sft_steps": 500}


def hf_model_dir(v: str) -> str:
    """``v`` resolved if it names a local Hugging Face model directory (one with a config.json); else ValueError
    (pydantic turns it into one line naming the field)."""
    try:
        found = (Path(v).expanduser() / "config.json").is_file()
    except OSError as exc:  # a name too long or otherwise unusable as a path (ENAMETOOLONG, ELOOP)
        raise ValueError(f"'{v[:80]}' is not a usable path ({exc.strerror})") from None
    if not found:
        raise ValueError(f"'{v[:80]}' is not a Hugging Face model directory (no config.json there)")
    return str(Path(v).expanduser().resolve())


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
    init_from: str | None = Field(
        None,
        description=(
            "A local Hugging Face causal LM directory to start from instead of a fresh GPT-2: it is trained on the "
            "world's corpus and Q/A format by the two stages above (n_layer, n_head, n_embd are then the model's "
            "own; block_size is capped at its positions). World words its tokenizer cannot encode exactly are "
            "added as new tokens (its embeddings resized); the user's directory is never written. Cached by a "
            "hash of the directory's content. None: a fresh GPT-2. policy_model, by contrast, uses a model as it is."
        ),
    )

    @field_validator("init_from")
    @classmethod
    def _init_dir(cls, v: str | None) -> str | None:
        return None if v is None else hf_model_dir(v)

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
