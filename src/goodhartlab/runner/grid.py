"""A sweep's plan: the grid × seeds expanded into resolved, validated run configs.

Every combination is resolved through the experiment's Config before anything
runs, so an unknown field, a value of the wrong type or an out-of-range value
is one error line up front, never a failure halfway through a sweep.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from goodhartlab.core import config as configs
from goodhartlab.core.config import ExperimentConfig
from goodhartlab.core.errors import UserError, shown
from goodhartlab.core.registry import Experiment

# Bounds (README, "Bounds"): planning resolves every run's config up front, so a plan is capped before it is built.
MAX_SEEDS = 10_000
MAX_PLANNED_RUNS = 10_000


@dataclass(frozen=True)
class SweepSpec:
    """What the user asked for; stored with the sweep so ``--resume`` can rebuild the same plan."""

    experiment: str
    preset: str
    grid: dict[str, list[Any]]
    seeds: int
    base_seed: int
    assignments: tuple[str, ...] = ()
    config_file: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "preset": self.preset,
            "grid": self.grid,
            "seeds": self.seeds,
            "base_seed": self.base_seed,
            "assignments": list(self.assignments),
            "config_file": self.config_file,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SweepSpec:
        return cls(
            data["experiment"],
            data["preset"],
            data["grid"],
            data["seeds"],
            data["base_seed"],
            tuple(data.get("assignments", ())),
            data.get("config_file"),
        )

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()[:6]


@dataclass(frozen=True)
class SweepItem:
    """One run of the plan: its position, its grid point, its seed and its resolved config."""

    index: int
    point: dict[str, Any]
    seed: int
    config: ExperimentConfig

    @property
    def identity(self) -> str:
        """The run identity: the hash of the resolved config, seed included."""
        return self.config.hash()


def _split_values(text: str) -> list[str]:
    """Split on commas outside brackets, so ``a=[1,2],[3]`` gives two list values."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts]


def parse_grid(args: list[str]) -> dict[str, list[Any]]:
    """``['beta=0.1,0.2', 'rater=a,b']`` -> ``{'beta': [0.1, 0.2], 'rater': ['a', 'b']}``."""
    grid: dict[str, list[Any]] = {}
    for text in args:
        if "=" not in text:
            raise UserError(f"--grid expects field=v1,v2,..., got {shown(text)}")
        field, raw = (s.strip() for s in text.split("=", 1))
        if not field:
            raise UserError(f"--grid expects field=v1,v2,..., got {shown(text)}")
        if field == "seed":
            raise UserError("--grid: field 'seed' is set by --seeds N, not by the grid")
        if field in grid:
            raise UserError(f"--grid: field {shown(field)} is given twice; list all its values in one --grid")
        values = [v for v in _split_values(raw) if v != ""]
        if not values:
            raise UserError(f"--grid: field {shown(field)} has no values; give at least one, e.g. {field}=v1,v2")
        if len(values) > MAX_PLANNED_RUNS:
            raise UserError(
                f"--grid: field {shown(field)} has {len(values)} values; a plan holds at most {MAX_PLANNED_RUNS} runs"
            )
        parsed = []
        for v in values:
            try:
                parsed.append(configs.read_yaml(v, f"--grid {shown(field)}"))
            except yaml.YAMLError:
                parsed.append(v)
        grid[field] = parsed
    return grid


def expand(experiment: Experiment, spec: SweepSpec) -> list[SweepItem]:
    """The grid × seeds as resolved configs, in a stable order (grid points outer, seeds inner)."""
    if not 1 <= spec.seeds <= MAX_SEEDS:
        raise UserError(f"--seeds must be from 1 to {MAX_SEEDS}, got {spec.seeds}")
    planned = math.prod(len(v) for v in spec.grid.values()) * spec.seeds
    if planned > MAX_PLANNED_RUNS:
        raise UserError(f"the plan has {planned} runs (grid points × seeds); at most {MAX_PLANNED_RUNS} are allowed")
    fields = list(spec.grid)
    items: list[SweepItem] = []
    points = list(itertools.product(*(spec.grid[f] for f in fields))) if fields else [()]
    config_file = Path(spec.config_file) if spec.config_file else None
    for values in points:
        point = dict(zip(fields, values))
        assignments = [*spec.assignments, *(f"{k}={json.dumps(v)}" for k, v in point.items())]
        for s in range(spec.seeds):
            seed = spec.base_seed + s
            try:
                cfg = configs.resolve(experiment.config, spec.preset, config_file, assignments, seed)
            except UserError as exc:
                where = ", ".join(f"{k}={v!r}" for k, v in point.items())
                raise UserError(f"--grid {where}: {exc}" if where else str(exc)) from None
            items.append(SweepItem(len(items), point, seed, cfg))
    return items
