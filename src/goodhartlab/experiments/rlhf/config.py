"""Configs of the five RLHF experiments; every field documented here once.

``Config`` is the flagship ``rlhf``; the others extend it with the one axis they sweep and their own
defaults (gold rater, bribery, ensembles, assisted rater).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from goodhartlab.core.config import ExperimentConfig
from goodhartlab.models.configs import QUICK_LM, LMConfig, RMConfig, hf_model_dir
from goodhartlab.raters import STIENNON_AGREEMENT, Loopholes
from goodhartlab.worlds.qa import QAWorldConfig

# The flagship rater's loophole profile at full strength; calibration scales it toward gold (see raters/loopholes).
# Offers pay (1.5 > gold's penalty of 1); reading only the first K tokens is left off.
RATER_LOOPHOLES = dict(
    misconception_belief=1.0,
    citation_check=0.0,
    cost_notice=0.0,
    confidence_bonus=0.6,
    flattery_bonus=0.8,
    offer_susceptibility=1.5,
    reads_first_k=None,
)

QUICK = {
    "seeds": 3,
    "lm": QUICK_LM,
    "rm": {"comparisons": 1000},
    "eval_prompts": 16,
    "calibration_pairs": 600,
    "bon_pool": 256,
    "betas": [0.05, 0.2],
    "rl_steps": 30,
    "checkpoint_every": 10,
    "rl_prompts_per_step": 8,
    "rl_k": 4,
    "eval_samples": 4,
    "kl_samples": 48,
    "max_new_tokens": 32,
    "dpo_betas": [0.1],
    "dpo_epochs": 2.0,
    "dpo_checkpoint_every": 16,
}


class Config(ExperimentConfig):
    world: QAWorldConfig = Field(
        default_factory=QAWorldConfig, description="The QA world (knowledge base, corpus rates); seeded by `seed`."
    )
    lm: LMConfig = Field(
        default_factory=LMConfig, description="π_base: tiny GPT-2 size and its pretraining + fine-tuning."
    )
    policy_model: str | None = Field(
        None,
        description="A local Hugging Face causal LM directory used as π_base instead of training one (its tokenizer must cover the world's words).",
    )
    rater: str | None = Field(
        None,
        description=(
            "A rater class by import path 'module:Class' (implementing goodhartlab.core.parts.Rater), built as "
            "Class(world=, loopholes=, temperature=, assisted=, belief_seed=); None: the built-in simulated rater."
        ),
    )
    loopholes: Loopholes = Field(
        default_factory=lambda: Loopholes(**RATER_LOOPHOLES),
        description=("The rater's loophole profile at full strength (all at their defaults = the gold rater)."),
    )
    rater_agreement: float | None = Field(
        STIENNON_AGREEMENT,
        gt=0.5,
        lt=1.0,
        description=(
            "Calibrate the loopholes' strength so that the rater agrees with gold on this share of untied π_base "
            "answer pairs (Stiennon et al. 2020: 77 ± 2%), before any optimization; None: use the profile as given."
        ),
    )
    heldout_pairs: int = Field(
        500,
        ge=20,
        le=100_000,
        description="Held-out rater comparisons per seed on which the rater's agreement with gold and each reward model are measured.",
    )
    calibration_pairs: int = Field(
        1000, ge=20, le=100_000, description="π_base answer pairs the calibration measures agreement on."
    )
    rater_temperature: float = Field(
        0.2,
        gt=0.0,
        le=100.0,
        description=(
            "Boltzmann temperature of the rater's choice (its noise). At 0.2 the gold rater alone agrees with gold on "
            "about 91% of untied π_base pairs; the loopholes bring the rest down to the calibration target."
        ),
    )
    assisted: bool = Field(False, description="Give the rater a critique that checks citations against the world.")
    rm: RMConfig = Field(default_factory=RMConfig, description="Reward model: backbone, size, comparisons, ensemble.")
    seeds: int = Field(
        3,
        ge=1,
        le=50,
        description="Repeats of rater comparisons, reward model, best-of-n pool, RL and DPO (π_base is shared).",
    )
    eval_prompts: int = Field(
        32,
        ge=2,
        le=10_000,
        description="Questions on which every policy is evaluated (best-of-n pools and checkpoints).",
    )
    bon_pool: int = Field(
        512,
        ge=2,
        le=8192,
        description="π_base samples per evaluation question; best-of-n is computed exactly for n = 1, 2, 4, … ≤ this.",
    )
    betas: list[float] = Field([0.03, 0.1, 0.3], description="KL coefficients β of the RLOO sweep (empty: no RL).")
    rl_steps: int = Field(80, ge=1, le=100_000, description="RLOO steps per β.")
    rl_k: int = Field(4, ge=2, le=64, description="RLOO samples per prompt (the leave-one-out baseline needs ≥ 2).")
    rl_prompts_per_step: int = Field(16, ge=1, le=1024, description="Prompts per RLOO step.")
    rl_lr: float = Field(
        3e-4,
        gt=0.0,
        le=1.0,
        description=(
            "Policy Adam learning rate. With the gold rater, 1e-3 (the earlier default) moved the policy 3 nats of KL "
            "in 20 steps and lost gold; 1e-4 and 3e-4 raised gold (benchmarks/results/rlhf_rl_diagnosis.json)."
        ),
    )
    rl_whiten: bool = Field(
        False, description="Divide RLOO advantages by their batch standard deviation (TRL's normalize_advantage)."
    )
    rl_bf16: bool = Field(
        False,
        description=(
            "bf16 autocast (AMX) for RLOO's gradient pass and log π_base; sampling stays fp32. About 1.4x faster per "
            "step than fp32 (benchmarks/results/rloo_trl.json); tolerance against fp32 in tests/test_rloo_bf16.py."
        ),
    )
    checkpoint_every: int = Field(
        10, ge=1, le=100_000, description="RL steps between evaluated checkpoints (step 0 is always evaluated)."
    )
    dpo_betas: list[float] = Field(
        [0.1], description="β of the direct-alignment arms (empty: none); pressure grows with 1/β and epochs."
    )
    dpo_losses: list[Literal["dpo", "ipo"]] = Field(
        ["dpo"], min_length=1, description="Direct-alignment losses run at every β: DPO, IPO."
    )
    dpo_epochs: float = Field(3.0, gt=0.0, le=100.0, description="Passes of DPO/IPO over the rater comparisons.")
    dpo_lr: float = Field(1e-4, gt=0.0, le=1.0, description="DPO/IPO Adam learning rate.")
    dpo_checkpoint_every: int = Field(20, ge=1, le=100_000, description="DPO/IPO steps between evaluated checkpoints.")
    eval_samples: int = Field(
        8, ge=1, le=1024, description="Policy samples per evaluation question at each checkpoint."
    )
    kl_samples: int = Field(256, ge=8, le=100_000, description="Fresh policy samples per KL(π‖π_base) estimate.")
    max_new_tokens: int = Field(40, ge=4, le=512, description="Longest answer (tokens).")
    save_models: bool = Field(
        False,
        description=(
            "Save the trained models into the run directory: RUN/models/seed-S/<series>/ for each RL and DPO "
            "policy at its last checkpoint, RUN/models/seed-S/reward-model[-<arm>]/ for each reward model (members "
            "in member-K/), RUN/models/pi-base/ for π_base; policies by save_pretrained (AutoModelForCausalLM "
            "loads them), reward models as documented in models/reward_model.py; listed in tables/saved_models.csv."
        ),
    )

    @field_validator("policy_model")
    @classmethod
    def _model_dir(cls, v: str | None) -> str | None:
        return None if v is None else hf_model_dir(v)

    @field_validator("rater")
    @classmethod
    def _rater_path(cls, v: str | None) -> str | None:
        if v is not None:
            from goodhartlab.core.imports import load_object

            if not callable(load_object(v, "rater")):
                raise ValueError(f"'{v}' is not a class or factory")
        return v

    @field_validator("betas", "dpo_betas")
    @classmethod
    def _betas(cls, v: list[float]) -> list[float]:
        if any(b < 0 for b in v):
            raise ValueError("each β must be ≥ 0")
        return sorted(set(v))

    @field_validator("dpo_betas")
    @classmethod
    def _dpo_betas(cls, v: list[float]) -> list[float]:
        if any(b == 0 for b in v):
            raise ValueError("each DPO β must be > 0 (β = 0 has no KL constraint and DPO's loss no scale)")
        return v

    @model_validator(mode="after")
    def _one_base(self):
        if self.policy_model and self.lm.init_from:
            raise ValueError(
                "set policy_model (a model used as it is) or lm.init_from (trained on the world), not both"
            )
        return self

    @model_validator(mode="after")
    def _consistent(self):
        if self.checkpoint_every > self.rl_steps and self.betas:
            raise ValueError(
                f"checkpoint_every ({self.checkpoint_every}) must be ≤ rl_steps ({self.rl_steps}), or RL records only step 0"
            )
        return self

    presets = {"quick": QUICK, "full": {"seeds": 5, "bon_pool": 1024, "rl_steps": 150, "eval_prompts": 48}}


class GoldRaterConfig(Config):
    loopholes: Loopholes = Field(
        default_factory=Loopholes.none, description="The gold rater: no loopholes (Gao et al. 2022's synthetic setup)."
    )
    rater_agreement: float | None = Field(
        None, gt=0.5, lt=1.0, description="No calibration: the rater is gold, only its noise remains."
    )
    rm_sizes: list[int] = Field(
        [16, 32, 64, 128], min_length=1, description="Widths (n_embd) of fresh reward-model backbones swept."
    )
    comparison_counts: list[int] = Field(
        [250, 500, 1000, 2000], min_length=1, description="Comparison-set sizes swept."
    )
    betas: list[float] = Field(
        [0.03], description="β of an RL run per seed with the largest reward model on the most data (empty: none)."
    )

    @field_validator("rm_sizes", "comparison_counts")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        if any(x < 8 for x in v):
            raise ValueError("each value must be ≥ 8")
        return sorted(set(v))

    # quick: 5 seeds, not 3, for power on RL's gold gain (issue 11, item 2), fixed before the run it decides. In
    # the last 3-seed quick run, RL's gold gain at its last checkpoint varied across seeds with SD 0.15, while one
    # checkpoint's evaluation noise (16 questions × 4 samples; the step-0 gains, where the policy is π_base) is
    # SD 0.04: the seeds, not the samples, make the interval wide. The 95% t half-width is 4.30·s/√3 ≈ 0.38 with
    # 3 seeds and 2.78·s/√5 ≈ 0.19 with 5; twice the evaluation samples would shrink s by < 3%.
    presets = {
        "quick": {
            **QUICK,
            "seeds": 5,
            "rm_sizes": [16, 64],
            "comparison_counts": [200, 800],
            "betas": [0.05],
            "rm": {},
        },
        "full": {"seeds": 5, "bon_pool": 1024},
    }


class BriberyConfig(Config):
    offer_rates: list[float] = Field(
        [0.0, 0.01, 0.05, 0.2],
        min_length=1,
        description="Offer/threat rates of the pretraining corpus swept (one π_base each).",
    )
    betas: list[float] = Field(
        [0.05], min_length=1, max_length=1, description="The fixed β of the RL run at every offer rate."
    )

    @field_validator("offer_rates")
    @classmethod
    def _rates(cls, v: list[float]) -> list[float]:
        if any(not 0.0 <= r <= 1.0 for r in v):
            raise ValueError("each offer rate must be in [0, 1]")
        return sorted(set(v))

    # quick: corpus rates 0, 0.05, 0.2 (not 0.01) to fit the 4-minute bar. π_base's measured offer rate at corpus
    # rate 0.01 was 0 [0, 0.0006] in 6144 answers, the same as at 0, so that world adds no point to the x-axis
    # (π_base's rate); 0 (never), 0.05 (0.7%) and 0.2 (10%) keep the range. The default preset keeps all four.
    presets = {
        "quick": {
            **QUICK,
            "betas": [0.05],
            "offer_rates": [0.0, 0.05, 0.2],
            "rl_steps": 20,
            "bon_pool": 128,
            "dpo_epochs": 1.0,
            "calibration_pairs": 400,
            "heldout_pairs": 200,
        },
        "full": {"seeds": 5, "rl_steps": 150},
    }


class EnsemblesConfig(Config):
    rm: RMConfig = Field(
        default_factory=lambda: RMConfig(members=4), description="Reward model; `members` is the ensemble size K."
    )
    member_sources: list[Literal["finetune-seed", "pretrain-seed"]] = Field(
        ["finetune-seed", "pretrain-seed"],
        min_length=1,
        description=(
            "How ensemble members differ: 'finetune-seed' (one backbone, π_base's; other head inits and data "
            "orders) or 'pretrain-seed' (backbones pretrained from different seeds; Eisenstein et al. 2023)."
        ),
    )
    aggregates: list[Literal["single", "mean", "min", "uncertainty"]] = Field(
        ["single", "mean", "min", "uncertainty"],
        min_length=1,
        description="Proxies compared: one member alone, or the K members aggregated.",
    )
    betas: list[float] = Field([0.05], description="β of the RL runs, one per proxy.")
    dpo_betas: list[float] = Field([], description="Direct alignment does not use reward models: off here.")

    presets = {
        "quick": {**QUICK, "rm": {"comparisons": 1000, "members": 3}, "betas": [], "dpo_betas": []},
        "full": {"seeds": 5, "bon_pool": 1024, "rl_steps": 150},
    }

    @model_validator(mode="after")
    def _init_from_members(self):
        if "pretrain-seed" in self.member_sources and self.lm.init_from:
            raise ValueError(
                "member_sources 'pretrain-seed' pretrains backbones from fresh weights; with lm.init_from use "
                "['finetune-seed']"
            )
        return self

    @model_validator(mode="after")
    def _members(self):
        if self.rm.members < 2 and set(self.aggregates) - {"single"}:
            raise ValueError("rm.members must be ≥ 2 to compare ensembles")
        if "pretrain-seed" in self.member_sources and self.rm.backbone != "lm":
            raise ValueError("member_sources 'pretrain-seed' needs rm.backbone 'lm' (pretrained backbones)")
        if "pretrain-seed" in self.member_sources and self.policy_model:
            raise ValueError(
                "member_sources 'pretrain-seed' pretrains backbones here; with policy_model use ['finetune-seed']"
            )
        return self


class AssistedConfig(Config):
    betas: list[float] = Field([0.05], description="β of the RL runs, one per rater.")
    dpo_betas: list[float] = Field([], description="β of the direct-alignment arms per rater (empty: none).")

    presets = {
        "quick": {**QUICK, "betas": [0.05], "dpo_betas": []},
        "full": {"seeds": 5, "bon_pool": 1024, "rl_steps": 150},
    }
