"""Experiment tracking: measurements and training histories sent to TensorBoard or MLflow.

During a run (``goodhartlab run NAME --tracker tensorboard``) the run context hands every recorded
measurement and table row to the tracker as it is recorded, so a long run can be watched; after a run,
``goodhartlab export RUN --to tensorboard`` replays its stored measurements and tables the same way.

What is logged, step = pressure (n, RL step, episodes; an index where the pressure is not a whole number):
- per series and seed, the proxy, rater and gold side by side (and KL where defined):
  ``SERIES · seed S/proxy``, ``.../rater``, ``.../gold``, ``.../kl``;
- table rows with a whole-number ``step`` column are training histories (e.g. RLOO's per-step reward, KL and
  loss): each numeric column as ``history · SERIES · seed S/COLUMN`` (``history`` is the table's name).

Where: TensorBoard event files under ``<store>/tensorboard/RUN/`` (``tensorboard --logdir <store>/tensorboard``);
MLflow in ``$MLFLOW_TRACKING_URI`` or else ``sqlite:///<store>/mlflow.db`` (``mlflow ui --backend-store-uri``
that), experiment ``goodhartlab/NAME``, one MLflow run per goodhartlab run with the config as parameters.
Both are optional extras: ``pip install 'goodhartlab[tensorboard]'`` / ``'goodhartlab[mlflow]'``.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from goodhartlab.core.errors import UserError

TRACKERS = ("tensorboard", "mlflow")
CHANNELS = ("proxy", "rater", "gold", "kl")


class Tracker(Protocol):
    def measurements(self, rows: Iterable[dict[str, Any]]) -> None:
        """Rows of the measurement table (``Measurement.row()`` or rows of ``measurements.csv``)."""

    def table(self, name: str, rows: Iterable[dict[str, Any]]) -> None:
        """Rows of a named table; those with a ``step`` column are logged as a history."""

    def close(self) -> None: ...


def _finite(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _seed(row: dict[str, Any]) -> str:
    seed = row.get("seed")
    return f" · seed {int(seed)}" if _finite(seed) is not None and int(seed) >= 0 else ""


class _Scalars(ABC):
    """Turns rows into (tag, value, step) scalars; subclasses write them."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}

    def _step(self, key: str, pressure: Any) -> int:
        x = _finite(pressure)
        if x is not None and x == int(x):
            return int(x)
        self._index[key] = self._index.get(key, -1) + 1  # a fractional pressure (1/β): its order
        return self._index[key]

    def measurements(self, rows: Iterable[dict[str, Any]]) -> None:
        out = []
        for row in rows:
            group = f"{row.get('series', '')}{_seed(row)}"
            step = self._step(group, row.get("pressure"))
            for channel in CHANNELS:
                value = _finite(row.get(channel))
                if value is not None:
                    out.append((f"{group}/{channel}", value, step))
            pressure = _finite(row.get("pressure"))
            if pressure is not None and pressure != int(pressure):  # the step is an index: log the pressure too
                out.append((f"{group}/pressure", pressure, step))
        self.write(out)

    def table(self, name: str, rows: Iterable[dict[str, Any]]) -> None:
        out = []
        for row in rows:
            step = _finite(row.get("step"))
            if step is None or step != int(step):
                continue
            prefix = " · ".join(str(x) for x in (name, row.get("series")) if x not in (None, "")) + _seed(row)
            for col, value in row.items():
                v = _finite(value) if not isinstance(value, bool) else float(value)
                if col not in ("step", "seed") and v is not None:
                    out.append((f"{prefix}/{col}", v, int(step)))
        self.write(out)

    @abstractmethod
    def write(self, scalars: list[tuple[str, float, int]]) -> None:
        """Send (tag, value, step) scalars to the backend (each subclass's one job)."""

    def close(self) -> None:
        pass


class TensorBoardTracker(_Scalars):
    """Event files in ``logdir`` (flushed every few seconds, so TensorBoard shows a run while it goes)."""

    def __init__(self, logdir: Path, config: dict[str, Any] | None = None):
        super().__init__()
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise UserError(
                "--tracker tensorboard needs the tensorboard package: pip install 'goodhartlab[tensorboard]'"
            ) from None
        self.logdir = Path(logdir)
        self._writer = SummaryWriter(log_dir=str(self.logdir), flush_secs=5)
        if config:
            import json

            self._writer.add_text(
                "config",
                "```\n" + json.dumps(config, indent=2, sort_keys=True) + "\n```",
            )

    def write(self, scalars: list[tuple[str, float, int]]) -> None:
        for tag, value, step in scalars:
            self._writer.add_scalar(tag, value, step)

    def close(self) -> None:
        self._writer.flush()
        self._writer.close()


_MLFLOW_KEY = re.compile(r"[^A-Za-z0-9_\-. :/]")
_MLFLOW_WORDS = {"·": "-", "β": "beta", "=": ":", "√": "sqrt ", "π": "pi", "‖": "||"}


def mlflow_key(tag: str) -> str:
    """MLflow names allow letters, digits and ``_-. :/`` only: ``RL β=0.1 · seed 0/gold`` ->
    ``RL beta:0.1 - seed 0/gold``."""
    for a, b in _MLFLOW_WORDS.items():
        tag = tag.replace(a, b)
    return _MLFLOW_KEY.sub("_", tag)


class MLflowTracker(_Scalars):
    """One MLflow run per goodhartlab run; metrics are sent in batches."""

    def __init__(
        self,
        tracking_uri: str,
        experiment: str,
        run_name: str,
        params: dict[str, Any],
        artifacts: Path,
    ):
        super().__init__()
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise UserError("--tracker mlflow needs MLflow: pip install 'goodhartlab[mlflow]'") from None
        self.tracking_uri = tracking_uri
        self._client = MlflowClient(tracking_uri=tracking_uri)
        name = f"goodhartlab/{experiment}"
        found = self._client.get_experiment_by_name(name)
        eid = found.experiment_id if found else self._client.create_experiment(name, artifact_location=str(artifacts))
        self.run_id = self._client.create_run(eid, run_name=run_name, tags={"goodhartlab.run_id": run_name}).info.run_id
        from mlflow.entities import Param

        items = [Param(mlflow_key(k), str(v)[:6000]) for k, v in params.items()]
        for i in range(0, len(items), 100):  # MLflow takes at most 100 params per batch
            self._client.log_batch(self.run_id, params=items[i : i + 100])

    def write(self, scalars: list[tuple[str, float, int]]) -> None:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(mlflow_key(tag), value, now, step) for tag, value, step in scalars]
        for i in range(0, len(metrics), 1000):
            self._client.log_batch(self.run_id, metrics=metrics[i : i + 1000])

    def close(self) -> None:
        self._client.set_terminated(self.run_id)


def require(kind: str) -> None:
    """Fail in one line, before anything runs, when ``kind`` is unknown or its library is not installed."""
    if kind not in TRACKERS:
        raise UserError(f"--tracker: unknown tracker '{kind}'; trackers are: {', '.join(TRACKERS)}")
    import importlib.util

    module, extra = {
        "tensorboard": ("tensorboard", "tensorboard"),
        "mlflow": ("mlflow", "mlflow"),
    }[kind]
    if importlib.util.find_spec(module) is None:
        raise UserError(f"--tracker {kind} needs {module}: pip install 'goodhartlab[{extra}]'")


def mlflow_uri(store_root: Path) -> str:
    import os

    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path(store_root).resolve() / 'mlflow.db'}"


def open_tracker(
    kind: str,
    store_root: Path,
    run_id: str,
    experiment: str,
    config: dict[str, Any],
    logdir: Path | None = None,
) -> Tracker:
    """A tracker of ``kind`` for run ``run_id`` of a store (``logdir`` overrides TensorBoard's directory)."""
    require(kind)
    if kind == "tensorboard":
        return TensorBoardTracker(logdir or Path(store_root) / "tensorboard" / run_id, config)
    from goodhartlab.api import flatten

    return MLflowTracker(
        mlflow_uri(store_root),
        experiment,
        run_id,
        flatten(config),
        Path(store_root) / "mlartifacts",
    )
