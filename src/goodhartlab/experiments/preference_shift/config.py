"""Config of the ``preference-shift`` experiment; every field documented here once.

The world's parameters are set before any agent is run, not fitted to the outcome curves: no published
measurement pins them. α = 4 lets a topic's preference weight move its click rate across most of the sigmoid;
the last topic's bias is 1.5 logits above the others (easier to click at equal liking: the higher ceiling).
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from goodhartlab.core.config import ExperimentConfig

MAX_GRID_POINTS = 200_000  # optim.recommenders.Grid.MAX_POINTS


class Config(ExperimentConfig):
    bias: list[float] = Field(
        [-2.0, -2.0, -0.5],
        description="Click bias b per topic (its length is the number of topics, 2..4); P(click) = σ(α·u[a] + b_a).",
    )
    alpha: float = Field(4.0, gt=0.0, le=50.0, description="Click slope α in the shown topic's preference weight.")
    eta: float = Field(
        0.1, ge=0.0, le=5.0, description="Main setting: pull η of one shown item, u' = (u + η·e_a)/(1 + η)."
    )
    horizon: int = Field(20, ge=2, le=200, description="Main setting: recommendations per episode.")
    concentration: float = Field(
        1.0, gt=0.0, le=100.0, description="Users' initial preferences are Dirichlet(concentration·1)."
    )
    users: int = Field(
        40,
        ge=1,
        le=5000,
        description=(
            "Independent simulated users (the unit every interval resamples); every agent meets the same "
            "users and click draws."
        ),
    )
    depths: list[int] = Field(
        [1, 2, 3, 5, 10],
        min_length=1,
        description=(
            "Planning depths of the receding-horizon engagement maximizer (1 = myopic); the full horizon is "
            "always added."
        ),
    )
    etas: list[float] = Field(
        [0.0, 0.05, 0.1, 0.2, 0.4], min_length=1, description="Pulls η swept (at the main horizon)."
    )
    horizons: list[int] = Field([5, 10, 20, 40], min_length=1, description="Horizons swept (at the main η).")
    lambdas: list[float] = Field(
        [0.3, 1.0, 3.0],
        min_length=1,
        description="Weights λ of the Carroll-style penalty λ·TV(u_{t+1}, ū_{t+1}) per step.",
    )
    resolution: int = Field(
        40,
        ge=4,
        le=400,
        description="Grid points per preference axis (minus one) for the planners' backward induction.",
    )
    trajectories: int = Field(
        3, ge=0, le=20, description="Users whose preference trajectories are stored and drawn (main setting)."
    )

    @field_validator("bias")
    @classmethod
    def _bias(cls, v: list[float]) -> list[float]:
        if not 2 <= len(v) <= 4:
            raise ValueError("bias needs one value per topic, 2 to 4 topics (exact planning on a grid)")
        if any(abs(b) > 20 for b in v):
            raise ValueError("each bias must be in [-20, 20]")
        return v

    @field_validator("depths")
    @classmethod
    def _depths(cls, v: list[int]) -> list[int]:
        if any(d < 1 or d > 200 for d in v):  # 200: the longest horizon allowed; a deeper plan sees no more
            raise ValueError("each depth must be in 1..200")
        return sorted(set(v))

    @field_validator("etas", "lambdas")
    @classmethod
    def _nonnegative(cls, v: list[float]) -> list[float]:
        if any(not 0.0 <= x <= 100.0 for x in v):
            raise ValueError("each value must be in [0, 100]")
        return sorted(set(v))

    @field_validator("horizons")
    @classmethod
    def _horizons(cls, v: list[int]) -> list[int]:
        if any(not 1 <= h <= 200 for h in v):
            raise ValueError("each horizon must be in 1..200")
        return sorted(set(v))

    @model_validator(mode="after")
    def _consistent(self):
        if (self.resolution + 1) ** (len(self.bias) - 1) > MAX_GRID_POINTS:
            raise ValueError(
                f"resolution {self.resolution} with {len(self.bias)} topics gives more than "
                f"{MAX_GRID_POINTS} grid points; lower resolution"
            )
        if self.trajectories > self.users:
            raise ValueError(f"trajectories ({self.trajectories}) cannot exceed users ({self.users})")
        return self

    presets = {
        "quick": {
            "users": 12,
            "depths": [1, 2, 5],
            "etas": [0.0, 0.1, 0.3],
            "horizons": [5, 20],
            "lambdas": [0.3, 3.0],
            "resolution": 30,
        },
        "full": {
            "users": 200,
            "depths": [1, 2, 3, 5, 10, 20],
            "etas": [0.0, 0.02, 0.05, 0.1, 0.2, 0.4],
            "horizons": [5, 10, 20, 40, 80],
            "lambdas": [0.1, 0.3, 1.0, 3.0, 10.0],
        },
    }
