"""What a sweep worker does with one planned run, on this machine or on a Ray node.

The worker executes an ordinary run (``execute``) and reports how it ended. It
never raises for a failed run: the failure is the run's recorded status.
"""

from __future__ import annotations

import ctypes
import io
import os
import signal
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goodhartlab.core.registry import get
from goodhartlab.runner.store import RunStore


@dataclass(frozen=True)
class Task:
    """One planned run, in a form that pickles cheaply to another process or node."""

    index: int
    attempt: int
    experiment: str
    preset: str
    config: dict[str, Any]
    report: bool = False  # build the run's own report.html too (the sweep report is always built)
    processes: int = 1  # the run's share of processes for ctx.map (cores/W locally, --cpus-per-run on Ray)
    tracker: str | None = None  # "tensorboard" | "mlflow": the run logs there live (local backend)


@dataclass(frozen=True)
class Outcome:
    index: int
    attempt: int
    run_id: str | None
    status: str  # complete | failed
    error: str | None
    payload: bytes | None = None  # the run directory as a tar, when it was made on another machine
    record: dict[str, Any] | None = None


def limit_threads(threads: int) -> None:
    """W workers on C cores: each run gets C // W threads, so runs don't fight over cores."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["MKL_NUM_THREADS"] = str(threads)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass


def die_with_parent() -> None:
    """Linux: the kernel kills this worker when the launcher dies (even by SIGKILL), so no orphan
    goes on writing into the store while a resumed sweep restarts the same run."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)


def run_task(task: Task, store_root: Path, progress=None) -> Outcome:
    """Execute ``task`` into the store at ``store_root``; ``progress(index, description, done, total)``."""
    from goodhartlab.runner.execute import execute

    experiment = get(task.experiment)
    config = experiment.config.model_validate(task.config)
    started: list[str] = []
    sink = None
    if progress is not None:
        last = [0.0]

        def sink(description: str, done: int, total: int) -> None:
            now = time.monotonic()
            if done in (0, total) or now - last[0] > 0.2:  # throttled: a training loop may advance 10⁴×/s
                last[0] = now
                progress(task.index, description, done, total)

    try:
        execute(
            experiment,
            config,
            task.preset,
            RunStore(store_root),
            quiet=True,
            progress_sink=sink,
            on_start=started.append,
            report=task.report,
            processes=task.processes,
            tracker=task.tracker,
        )
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001  (any failure is the run's recorded status)
        return Outcome(
            task.index, task.attempt, started[0] if started else None, "failed", f"{type(exc).__name__}: {exc}"
        )
    return Outcome(task.index, task.attempt, started[0], "complete", None)


def run_task_elsewhere(task: Task) -> Outcome:
    """For a Ray node: run into a private store, then ship the finished run directory back as a tar."""
    with tempfile.TemporaryDirectory(prefix="goodhartlab-") as tmp:
        store = RunStore(Path(tmp))
        outcome = run_task(task, store.root)
        if outcome.run_id is None:
            return outcome
        rec = store.find(outcome.run_id)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(store.path(rec), arcname=rec.id)
        return Outcome(
            outcome.index,
            outcome.attempt,
            outcome.run_id,
            outcome.status,
            outcome.error,
            buf.getvalue(),
            dict(rec.__dict__),
        )
