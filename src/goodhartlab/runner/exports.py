"""Stored runs in the field's formats: rater comparisons as JSON lines, measurements to TensorBoard or MLflow.

- ``jsonl``: the run's ``comparisons`` table (the rater's picks, as text) as ``comparisons.jsonl`` with
  ``prompt``, ``chosen`` and ``rejected`` per line: what ``datasets.load_dataset("json", data_files=...)``
  loads and TRL's ``RewardTrainer`` reads (explicit-prompt preference format).
- ``tensorboard`` / ``mlflow``: the stored measurements and training histories replayed through
  :mod:`goodhartlab.runner.tracking`, as ``--tracker`` would have logged them live.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from goodhartlab.core.errors import UserError
from goodhartlab.core.files import write_text
from goodhartlab.runner.store import RunStore

FORMATS = ("jsonl", "tensorboard", "mlflow")
PREFERENCE_COLUMNS = ("prompt", "chosen", "rejected")


def comparisons_jsonl(run_dir: Path, run_id: str, dest: Path) -> tuple[Path, int]:
    """Write ``dest/comparisons.jsonl`` from the run's comparisons table; return its path and line count."""
    table = run_dir / "tables" / "comparisons.csv"
    if not table.exists():
        raise UserError(
            f"run '{run_id}' recorded no rater comparisons (no tables/comparisons.csv); "
            "the rlhf experiments record them"
        )
    frame = pd.read_csv(table, keep_default_na=False)  # an empty answer is "", not NaN
    missing = [c for c in PREFERENCE_COLUMNS if c not in frame]
    if missing:
        raise UserError(f"run '{run_id}': its comparisons table lacks the columns {missing}")
    lines = [
        json.dumps({c: str(r[c]) for c in PREFERENCE_COLUMNS}, ensure_ascii=False) for r in frame.to_dict("records")
    ]
    path = dest / "comparisons.jsonl"
    write_text(path, "\n".join(lines) + ("\n" if lines else ""))
    return path, len(lines)


def replay(run_dir: Path, tracker) -> int:
    """Send a stored run's measurements and tables to ``tracker``; return the number of rows sent."""
    sent = 0
    csv = run_dir / "measurements.csv"
    if csv.exists() and csv.stat().st_size > 1:
        rows = pd.read_csv(csv).to_dict("records")
        tracker.measurements(rows)
        sent += len(rows)
    for path in sorted((run_dir / "tables").glob("*.csv")):
        rows = pd.read_csv(path).to_dict("records")
        tracker.table(path.stem, rows)
        sent += len(rows)
    return sent


def export(store: RunStore, ref: str, to: str, dest: Path | None = None) -> tuple[str, int]:
    """Export run ``ref`` as ``to``; return where it went (a path or a tracking URI) and how many rows."""
    from goodhartlab.runner import tracking

    if to not in FORMATS:
        raise UserError(f"--to: unknown format '{to}'; formats are: {', '.join(FORMATS)}")
    rec = store.find(ref)
    if rec.status != "complete":
        raise UserError(f"run '{rec.id}' is {rec.status}; only a complete run has stored results to export")
    run_dir = store.path(rec)
    if to == "jsonl":
        path, n = comparisons_jsonl(run_dir, rec.id, Path(dest) if dest else run_dir / "exports")
        return str(path), n
    tracking.require(to)
    config = json.loads((run_dir / "config.json").read_text())["config"]
    tracker = tracking.open_tracker(to, store.root, rec.id, rec.experiment, config, logdir=dest)
    try:
        n = replay(run_dir, tracker)
    finally:
        tracker.close()
    where = str(tracker.logdir) if to == "tensorboard" else f"{tracker.tracking_uri} (MLflow run {tracker.run_id})"
    return where, n
