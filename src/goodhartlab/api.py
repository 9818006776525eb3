"""Use goodhartlab from Python: stored runs as one DataFrame, one run's results, an experiment run from code.

These are exported lazily from the package (``goodhartlab.load_runs`` and so on), so ``import goodhartlab``
stays light; this module imports pandas, and torch only when an experiment that needs it runs.

    import goodhartlab
    results = goodhartlab.run("tictactoe", preset="quick", seeds=2)   # a RunResults, as the report sees it
    frame = goodhartlab.load_runs("runs", experiment="tictactoe")       # measurements × config values
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from goodhartlab.core import config as configs
from goodhartlab.core.errors import UserError
from goodhartlab.core.records import MEASUREMENT_COLUMNS
from goodhartlab.runner import results as stored
from goodhartlab.runner.results import RunResults
from goodhartlab.runner.store import RunRecord, RunStore

RUN_COLUMNS = ("run_id", "experiment", "preset", "status")


def default_store() -> Path:
    """The store the command uses: ``$GOODHARTLAB_STORE`` or ``./runs``."""
    return Path(os.environ.get("GOODHARTLAB_STORE", "runs"))


def _store(store: str | Path | RunStore | None) -> RunStore:
    if isinstance(store, RunStore):
        return store
    return RunStore(default_store() if store is None else Path(store))


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"lm": {"block_size": 64}, "betas": [0.1]}`` -> ``{"lm.block_size": 64, "betas": (0.1,)}``.

    Lists become tuples so that a column of them can be grouped on."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            out[name] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        else:
            out[name] = value
    return out


def _sweep_runs(store: RunStore, sweep: str) -> tuple[str, dict[str, dict[str, Any]]]:
    """The sweep's id and, per run id of its settled items, the item's grid point."""
    from goodhartlab.runner.sweep_store import SweepStore

    sweeps = SweepStore(store)
    rec = sweeps.find(sweep)
    return rec.id, {it.run_id: it.point for it in sweeps.items(rec.id) if it.run_id}


def _measurements(path: Path) -> pd.DataFrame:
    csv = path / "measurements.csv"
    if not csv.exists() or csv.stat().st_size <= 1:
        return pd.DataFrame()
    return pd.read_csv(csv)


def load_runs(
    store: str | Path | RunStore | None = None,
    experiment: str | None = None,
    sweep: str | None = None,
    status: str | tuple[str, ...] | None = "complete",
) -> pd.DataFrame:
    """Every stored run's measurements in one tidy DataFrame, with its config values as columns.

    One row per measurement (series, pressure, seed) as in ``measurements.csv``, plus ``run_id``,
    ``experiment``, ``preset``, ``status`` and one column per config field (nested fields dotted:
    ``lm.block_size``; lists as tuples). A config field whose name is also a measurement column (``seed``:
    the measurement's seed, not the run's) is named ``config.FIELD``. With ``sweep`` (an id, a unique
    prefix or ``latest``) only that sweep's runs are loaded, with a ``sweep`` column and ``grid.FIELD``
    columns for the swept values. ``status`` keeps runs of that status (``None``: all); a run without
    stored measurements (failed, interrupted) gives one row whose measurement columns are empty.
    """
    st = _store(store)
    if not (st.root / "index.sqlite").exists():
        raise UserError(f"no run store at '{st.root}' (no index.sqlite); run an experiment first")
    records = st.list()
    points: dict[str, dict[str, Any]] | None = None
    sweep_id = None
    if sweep is not None:
        sweep_id, points = _sweep_runs(st, sweep)
        records = [r for r in records if r.id in points]
    if experiment is not None:
        known = sorted({r.experiment for r in st.list()})
        if experiment not in known:
            raise UserError(
                f"no runs of experiment '{experiment}' in '{st.root}'; it holds runs of: {', '.join(known) or 'none'}"
            )
        records = [r for r in records if r.experiment == experiment]
    if status is not None:
        wanted = (status,) if isinstance(status, str) else tuple(status)
        records = [r for r in records if r.status in wanted]
    frames = [_one(st, rec, points, sweep_id) for rec in records]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=[*RUN_COLUMNS, *MEASUREMENT_COLUMNS])
    return pd.concat(frames, ignore_index=True, sort=False)


def _one(
    store: RunStore,
    rec: RunRecord,
    points: dict[str, dict[str, Any]] | None,
    sweep_id: str | None,
) -> pd.DataFrame:
    path = store.path(rec)
    frame = _measurements(path)
    if frame.empty:
        frame = pd.DataFrame([{c: math.nan for c in MEASUREMENT_COLUMNS}])
    meta_path = path / "config.json"
    cfg = json.loads(meta_path.read_text())["config"] if meta_path.exists() else {}
    head = {
        "run_id": rec.id,
        "experiment": rec.experiment,
        "preset": rec.preset,
        "status": rec.status,
    }
    if sweep_id is not None:
        head["sweep"] = sweep_id
        head.update({f"grid.{k}": v for k, v in (points or {}).get(rec.id, {}).items()})
    columns = {}
    for key, value in flatten(cfg).items():
        name = f"config.{key}" if key in frame.columns or key in head else key
        columns[name] = [value] * len(frame)
    extra = pd.DataFrame({**{k: [v] * len(frame) for k, v in head.items()}}, index=frame.index)
    return pd.concat([extra, frame, pd.DataFrame(columns, index=frame.index)], axis=1)


def load_run(run: str = "latest", store: str | Path | RunStore | None = None) -> RunResults:
    """One stored run's results (config, measurements, tables, artifacts, environment): exactly what its
    report is built from. ``run`` is an id, a unique prefix, ``latest`` or the run's directory."""
    from goodhartlab.core.registry import get

    st = _store(store)
    rec = st.find(str(run))
    return stored.load(st.path(rec), get(rec.experiment).config, run_id=rec.id)


def assignments(overrides: dict[str, Any]) -> list[str]:
    """Keyword overrides as ``field=value`` strings for :func:`goodhartlab.core.config.resolve`: nested dicts
    become dotted fields (so ``lm={"block_size": 64}`` changes one field of the preset's ``lm``), values JSON
    (a subset of YAML, so they keep their types)."""
    out = []
    for key, value in overrides.items():
        if isinstance(value, dict):
            out += assignments({f"{key}.{k}": v for k, v in value.items()})
        else:
            out.append(f"{key}={json.dumps(value)}")
    return out


def run(
    name: str,
    preset: str = "default",
    *,
    seed: int | None = None,
    store: str | Path | RunStore | None = None,
    config_file: str | Path | None = None,
    quiet: bool = True,
    report: bool = True,
    **overrides: Any,
) -> RunResults:
    """Run experiment ``name`` into the store and return its stored results (a ``RunResults``, what the
    report is built from). Config resolution is the command's: field defaults, ``preset``, ``config_file``
    (YAML, or a run's own ``config.json``), each keyword override, then ``seed``. Bad input raises
    :class:`goodhartlab.core.errors.UserError` naming the field. ``report=False`` skips the HTML report."""
    from goodhartlab.core.registry import get
    from goodhartlab.runner.execute import execute

    experiment = get(name)
    cfg = configs.resolve(
        experiment.config,
        preset,
        Path(config_file) if config_file else None,
        assignments(overrides),
        seed,
    )
    st = _store(store)
    run_id, _ = execute(experiment, cfg, preset, st, quiet=quiet, report=report)
    return stored.load(st.path(st.find(run_id)), experiment.config, run_id=run_id)


# -- an experiment's fields ------------------------------------------------------------------------------
def _type_name(annotation: Any) -> str:
    import typing

    if typing.get_origin(annotation) is typing.Literal:
        return "one of " + ", ".join(str(a) for a in typing.get_args(annotation))
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    text = str(annotation).replace("typing.", "").replace("NoneType", "None")
    return re.sub(r"\b(?:\w+\.)+(\w+)", r"\1", text)  # goodhartlab.models.configs.LMConfig -> LMConfig


def _bounds(field: Any) -> str:
    marks = {
        "ge": "≥",
        "gt": ">",
        "le": "≤",
        "lt": "<",
        "min_length": "length ≥",
        "max_length": "length ≤",
    }
    out = []
    for meta in field.metadata:
        for attr, sign in marks.items():
            value = getattr(meta, attr, None)
            if value is not None:
                out.append(f"{sign} {value:g}" if isinstance(value, float) else f"{sign} {value}")
    return ", ".join(out)


def _doc_bullet(cls: type, name: str) -> str:
    """A field's line in its class docstring (``* ``name``: text``), for models that document fields there."""
    import inspect

    doc = inspect.getdoc(cls) or ""
    match = re.search(rf"``{re.escape(name)}``:\s*(.+?)(?=\n\s*\*|\n\n|\Z)", doc, re.DOTALL)
    return " ".join(match.group(1).split()) if match else ""


def config_fields(cls: type, resolved: Any, default: Any = None, prefix: str = "") -> list[dict[str, Any]]:
    """One row per field (nested models expanded, dotted): field, type, default, value, changed, description.

    ``default`` is the config built from field defaults alone, so a nested field's default is the one its
    parent gives it (e.g. the flagship rater's loopholes), not its class's."""
    from pydantic import BaseModel

    rows = []
    for name, field in cls.model_fields.items():
        value = getattr(resolved, name)
        base = getattr(default, name) if default is not None else field.get_default(call_default_factory=True)
        if isinstance(value, BaseModel) and isinstance(base, BaseModel | None):
            rows += config_fields(type(value), value, base, f"{prefix}{name}.")
            continue
        shown = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in (value, base)]
        bounds = _bounds(field)
        rows.append(
            {
                "field": f"{prefix}{name}",
                "type": _type_name(field.annotation) + (f" ({bounds})" if bounds else ""),
                "default": shown[1],
                "value": shown[0],
                "changed": shown[0] != shown[1],
                "description": field.description or _doc_bullet(cls, name),
            }
        )
    return rows


def describe(
    name: str,
    preset: str = "default",
    *,
    seed: int | None = None,
    config_file: str | Path | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Every field of experiment ``name`` with its type (and bounds), default, resolved value and description,
    resolved as ``run`` would resolve it (preset, config file, overrides, seed)."""
    from goodhartlab.core.registry import get

    cls = get(name).config
    cfg = configs.resolve(
        cls,
        preset,
        Path(config_file) if config_file else None,
        assignments(overrides),
        seed,
    )
    try:
        default = cls()
    except Exception:  # noqa: BLE001  (a config with required fields has no all-defaults instance)
        default = None
    return pd.DataFrame(config_fields(cls, cfg, default))
