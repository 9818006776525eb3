"""Stored results of a run, loaded back from its directory for reporting."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from goodhartlab.core.config import ExperimentConfig
from goodhartlab.core.errors import UserError
from goodhartlab.core.files import write_json, write_text
from goodhartlab.core.records import Measurement


@dataclass
class RunResults:
    """What a report is built from: the config, the measurement table, named tables and artifacts."""

    experiment: str
    preset: str
    config: ExperimentConfig
    measurements: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    artifacts: dict[str, Any]
    environment: dict[str, Any]
    run_id: str = ""


def save(
    run_dir: Path, measurements: list[Measurement], tables: dict[str, list[dict]], artifacts: dict[str, Any]
) -> None:
    frame = pd.DataFrame([m.row() for m in measurements])
    write_text(run_dir / "measurements.csv", frame.to_csv(index=False))
    for name, rows in tables.items():
        write_text(run_dir / "tables" / f"{name}.csv", pd.DataFrame(rows).to_csv(index=False))
    for name, obj in artifacts.items():
        write_json(run_dir / "artifacts" / f"{name}.json", obj)


def load(run_dir: Path, config_cls: type[ExperimentConfig], run_id: str = "") -> RunResults:
    try:
        meta = json.loads((run_dir / "config.json").read_text())
        measurements = (
            pd.read_csv(run_dir / "measurements.csv")
            if (run_dir / "measurements.csv").stat().st_size > 1
            else pd.DataFrame()
        )
    except (OSError, ValueError) as exc:
        raise UserError(
            f"run directory '{run_dir}' is missing stored results ({exc.__class__.__name__}); was the run completed?"
        ) from None
    tables = {p.stem: pd.read_csv(p) for p in sorted((run_dir / "tables").glob("*.csv"))}
    artifacts = {p.stem: json.loads(p.read_text()) for p in sorted((run_dir / "artifacts").glob("*.json"))}
    env_path = run_dir / "environment.json"
    environment = json.loads(env_path.read_text()) if env_path.exists() else {}
    return RunResults(
        experiment=meta["experiment"],
        preset=meta["preset"],
        config=config_cls(**meta["config"]),
        measurements=measurements,
        tables=tables,
        artifacts=artifacts,
        environment=environment,
        run_id=run_id,
    )
