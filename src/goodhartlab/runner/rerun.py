"""Repeat a stored run from its own record and check that it gives the same measurements.

The record is the run's ``config.json`` (experiment, preset and the resolved config, seed included), so
the repeat needs nothing the user typed. Same config and seed on the same machine -> the same
measurements (DESIGN.md, "Randomness"); what differs in ``environment.json`` (package versions, git
commit, dirty tree) is listed beside the verdict, as the likely cause when the measurements differ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from goodhartlab.core.config import describe_error
from goodhartlab.core.errors import UserError
from goodhartlab.runner.store import RunStore


@dataclass(frozen=True)
class Rerun:
    original: str
    repeat: str
    identical: bool
    rows: int
    differences: list[str] = field(default_factory=list)  # "column: max |Δ| = ..." or a shape/row difference
    environment: list[str] = field(default_factory=list)  # "torch: 2.13.0 -> 2.14.0", "git_commit: ..."
    report: Path | None = None


def _frame(run_dir: Path) -> pd.DataFrame:
    path = run_dir / "measurements.csv"
    return pd.read_csv(path) if path.exists() and path.stat().st_size > 1 else pd.DataFrame()


def measurement_differences(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """What differs between two measurement tables (empty: identical, NaN equal to NaN)."""
    if list(a.columns) != list(b.columns):
        return [f"columns differ: {sorted(set(a.columns) ^ set(b.columns)) or 'same names, another order'}"]
    if len(a) != len(b):
        return [f"{len(a)} rows then, {len(b)} now"]
    out = []
    for col in a.columns:
        x, y = a[col], b[col]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            xv, yv = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
            same = (xv == yv) | (np.isnan(xv) & np.isnan(yv))
            if not same.all():
                delta = np.nanmax(np.abs(xv - yv)) if np.isfinite(xv - yv).any() else float("nan")
                out.append(f"{col}: {int((~same).sum())} of {len(x)} rows differ, max |Δ| = {delta:.3g}")
        elif not x.astype(str).equals(y.astype(str)):
            out.append(f"{col}: {int((x.astype(str) != y.astype(str)).sum())} of {len(x)} rows differ")
    return out


def environment_changes(a: dict, b: dict) -> list[str]:
    out = []
    for key in ("python", "platform", "git_commit", "git_dirty"):
        if a.get(key) != b.get(key):
            out.append(f"{key}: {a.get(key)} -> {b.get(key)}")
    pa, pb = a.get("packages", {}), b.get("packages", {})
    for name in sorted(set(pa) & set(pb)):
        if pa[name] != pb[name]:
            out.append(f"{name}: {pa[name]} -> {pb[name]}")
    # Runs recorded before environment.json listed every installed package hold only the main ones.
    for names, word in (
        (set(pb) - set(pa), "now, not recorded then"),
        (set(pa) - set(pb), "then, not now"),
    ):
        if names:
            shown = ", ".join(sorted(names)[:8]) + (", ..." if len(names) > 8 else "")
            out.append(f"{len(names)} packages installed {word}: {shown}")
    return out


def rerun(store: RunStore, ref: str, quiet: bool = False, report: bool = True) -> Rerun:
    """Run ``ref`` again from its ``config.json`` into the same store; compare the measurement tables."""
    from goodhartlab.core.registry import get
    from goodhartlab.runner.execute import execute

    rec = store.find(ref)
    run_dir = store.path(rec)
    if rec.status != "complete":
        raise UserError(f"run '{rec.id}' is {rec.status}; only a complete run has measurements to reproduce")
    meta = json.loads((run_dir / "config.json").read_text())
    experiment = get(meta["experiment"])
    try:
        config = experiment.config(**meta["config"])
    except ValidationError as exc:
        raise UserError(
            f"run '{rec.id}': its stored config no longer validates ({describe_error(exc)}); "
            "the experiment's fields changed since it ran"
        ) from None
    run_id, report_path = execute(
        experiment,
        config,
        meta.get("preset", rec.preset),
        store,
        quiet=quiet,
        report=report,
    )
    new_dir = store.path(store.find(run_id))
    diffs = measurement_differences(_frame(run_dir), _frame(new_dir))
    env = [
        json.loads((d / "environment.json").read_text()) if (d / "environment.json").exists() else {}
        for d in (run_dir, new_dir)
    ]
    changes = environment_changes(*env)
    if config.hash() != rec.config_hash:  # a field was added since: its default now enters the identity
        changes.insert(0, f"config identity: {rec.config_hash} -> {config.hash()}")
    return Rerun(
        rec.id,
        run_id,
        not diffs,
        len(_frame(new_dir)),
        diffs,
        changes,
        report_path if report else None,
    )
