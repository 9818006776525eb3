"""Config of the ``amplification`` experiment; every field documented here once."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from goodhartlab.core.config import ExperimentConfig

TaskName = Literal["perm", "wild", "path", "arith"]


class Config(ExperimentConfig):
    tasks: list[TaskName] = Field(
        ["perm", "wild", "path", "arith"],
        min_length=1,
        description="Question tasks: permutation powering, wildcard search sum, shortest path, arithmetic.",
    )
    answers: int = Field(
        10, ge=4, le=32, description="Answers are integers in [0, answers); sums and values are taken modulo it."
    )
    perm_elements: int = Field(8, ge=2, le=32, description="Permutation powering: elements of σ (at most `answers`).")
    perm_max_power: int = Field(8, ge=2, le=64, description="Permutation powering: largest k in σ^k(x).")
    wildcard_length: int = Field(
        4, ge=1, le=6, description="Wildcard search: pattern length over {a, b, *} (3^length questions)."
    )
    graph_nodes: int = Field(
        5, ge=3, le=10, description="Shortest path: nodes of the graph (a ring plus random chords, weights 1-3)."
    )
    path_max_edges: int = Field(
        4, ge=2, le=9, description="Shortest path: largest edge budget k in 'shortest u→v path with ≤ k edges'."
    )
    arith_depth: int = Field(3, ge=1, le=5, description="Arithmetic: deepest expression tree (levels of operations).")
    arith_roots: int = Field(
        12, ge=1, le=200, description="Arithmetic: expressions drawn; their subexpressions join the question space."
    )
    error_rate: float = Field(
        0.02, ge=0.0, le=0.5, description="H's benign error rate: chance each answer H gives is corrupted."
    )
    error_kind: Literal["off_by_one", "random"] = Field(
        "off_by_one", description="What H's error does to an answer: +1, or a uniformly chosen other answer."
    )
    max_subquestions: int = Field(
        4,
        ge=2,
        le=16,
        description="H's bandwidth: subquestions per question (shortest path drops extra neighbours; others give up).",
    )
    max_read: int = Field(
        64,
        ge=4,
        le=1000,
        description="H's bandwidth: longest question text (characters) H can read; longer ones it answers 0.",
    )
    blind_spot: Literal["parity", "last_digit", "half"] = Field(
        "parity",
        description="What H's approval check compares with its own reference: parity, last digit, or upper/lower half.",
    )
    rounds: int = Field(8, ge=1, le=100, description="Distillation rounds per scheme.")
    steps: int = Field(150, ge=1, le=10_000, description="Adam steps per round on the targets gathered so far.")
    hidden: int = Field(128, ge=8, le=2048, description="Width of M's two hidden layers.")
    lr: float = Field(3e-3, gt=0.0, le=1.0, description="Adam learning rate.")
    sample_fraction: float = Field(
        1.0, gt=0.0, le=1.0, description="Share of the question space H answers (one H call each) per round."
    )
    seeds: int = Field(3, ge=1, le=100, description="Training seeds (M's init and question sampling) per scheme.")
    supervised_fractions: list[float] = Field(
        [0.1, 0.25, 0.5, 0.75, 1.0],
        min_length=1,
        description="Supervised baseline: shares of the question space given ground-truth labels.",
    )
    supervised_steps: int = Field(
        600, ge=1, le=100_000, description="Supervised baseline: Adam steps on the labelled questions."
    )
    debate_questions: int = Field(
        100, ge=1, le=10_000, description="Compound questions debated (honest truth vs a liar)."
    )
    optimum_answers: int = Field(
        4,
        ge=2,
        le=8,
        description="Exact optimum: answers in the small enumerable spaces (answers^questions models each).",
    )
    optimum_max_models: int = Field(
        300_000, ge=16, le=5_000_000, description="Exact optimum: refuse spaces with more models than this."
    )
    transcripts: int = Field(4, ge=0, le=20, description="Example HCH question trees drawn in the report.")

    @field_validator("supervised_fractions")
    @classmethod
    def _fractions(cls, v: list[float]) -> list[float]:
        if any(not 0.0 < f <= 1.0 for f in v):
            raise ValueError("each fraction must be in (0, 1]")
        return sorted(set(v))

    @model_validator(mode="after")
    def _consistent(self):
        if "perm" in self.tasks and self.perm_elements > self.answers:
            raise ValueError(
                f"perm_elements ({self.perm_elements}) must be at most answers ({self.answers}): σ^k(x) is an answer"
            )
        if self.blind_spot == "last_digit" and self.answers <= 10:
            raise ValueError(
                "blind_spot 'last_digit' needs answers > 10, or the check sees the whole answer and has no blind spot"
            )
        return self

    presets = {
        "quick": {
            "rounds": 6,
            "steps": 100,
            "seeds": 3,
            "hidden": 96,
            "perm_max_power": 6,
            "arith_roots": 8,
            "supervised_fractions": [0.25, 0.5, 0.75, 1.0],
            "supervised_steps": 400,
            "debate_questions": 40,
            "transcripts": 3,
        },
        "full": {
            "rounds": 12,
            "steps": 200,
            "seeds": 8,
            "debate_questions": 300,
            "supervised_steps": 1200,
            "supervised_fractions": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
            "transcripts": 6,
        },
    }
