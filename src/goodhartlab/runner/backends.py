"""Where a sweep's runs execute: W local worker processes, or Ray tasks on a cluster.

Both take :class:`~goodhartlab.runner.worker.Task` s and give back
:class:`~goodhartlab.runner.worker.Outcome` s as runs end, in any order.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import tarfile
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from goodhartlab.core.errors import UserError
from goodhartlab.core.registry import PLUGINS_ENV
from goodhartlab.runner import worker
from goodhartlab.runner.store import STAGING, RunRecord, RunStore
from goodhartlab.runner.worker import Outcome, Task

BACKENDS = ("local", "ray")

_progress_queue: Any = None  # set in each local worker by _init_local


def _init_local(progress_queue, threads: int) -> None:
    global _progress_queue
    worker.die_with_parent()
    worker.limit_threads(threads)
    _progress_queue = progress_queue


def _report_progress(index: int, description: str, done: int, total: int) -> None:
    _progress_queue.put((index, description, done, total))


def _run_local(task: Task, store_root: str) -> Outcome:
    return worker.run_task(task, Path(store_root), progress=_report_progress)


class LocalBackend:
    """W worker processes on this machine, each writing its runs straight into the store."""

    name = "local"

    def __init__(self, store: RunStore, workers: int):
        self.store = store
        self.workers = workers
        ctx = multiprocessing.get_context("spawn")  # fork after torch threads exist can deadlock
        self.progress: Any = ctx.Queue()
        threads = max(1, (os.cpu_count() or 1) // workers)
        self._pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_local,
                                         initargs=(self.progress, threads))
        self._futures: dict[Future, Task] = {}

    def submit(self, task: Task) -> None:
        self._futures[self._pool.submit(_run_local, task, str(self.store.root))] = task

    def progress_events(self) -> list[tuple[int, str, int, int]]:
        events = []
        while True:
            try:
                events.append(self.progress.get_nowait())
            except (queue.Empty, OSError, ValueError):
                return events

    def next_outcomes(self, timeout: float) -> list[Outcome]:
        if not self._futures:
            return []
        done, _ = wait(list(self._futures), timeout=timeout, return_when=FIRST_COMPLETED)
        outcomes = []
        for fut in done:
            task = self._futures.pop(fut)
            try:
                outcomes.append(fut.result())
            except BrokenProcessPool as exc:  # a worker died (killed, out of memory); the run failed with it
                outcomes.append(Outcome(task.index, task.attempt, None, "failed", f"worker process died: {exc}"))
        return outcomes

    @property
    def pending(self) -> int:
        return len(self._futures)

    def close(self, cancel: bool = False) -> None:
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)
        self.progress.close()


class RayBackend:
    """One Ray task per run, with ``cpus_per_run`` CPUs; finished run directories come back to this store."""

    name = "ray"

    def __init__(self, store: RunStore, workers: int, address: str | None, cpus_per_run: float = 1.0):
        try:
            import ray
        except ImportError:
            raise UserError("--backend ray needs Ray: pip install 'goodhartlab[ray]' (or `make test`, which "
                            "installs it)") from None
        self.ray = ray
        self.store = store
        env_vars = {k: os.environ[k] for k in (PLUGINS_ENV, "PYTHONPATH") if os.environ.get(k)}
        init: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "ignore_reinit_error": True,
                                "runtime_env": {"env_vars": env_vars} if env_vars else None}
        if address:
            init["address"] = address
        else:
            init["num_cpus"] = workers
        try:
            ray.init(**{k: v for k, v in init.items() if v is not None})
        except ConnectionError as exc:
            raise UserError(f"--address: cannot connect to a Ray cluster at '{address}' ({exc})") from None
        self._remote = ray.remote(num_cpus=cpus_per_run, max_retries=0)(worker.run_task_elsewhere)
        self._refs: dict[Any, Task] = {}

    def submit(self, task: Task) -> None:
        self._refs[self._remote.remote(task)] = task

    def progress_events(self) -> list[tuple[int, str, int, int]]:
        return []

    def next_outcomes(self, timeout: float) -> list[Outcome]:
        if not self._refs:
            return []
        done, _ = self.ray.wait(list(self._refs), num_returns=1, timeout=timeout)
        outcomes = []
        for ref in done:
            task = self._refs.pop(ref)
            try:
                outcome = self.ray.get(ref)
            except Exception as exc:  # noqa: BLE001  (the task itself died: node lost, worker killed)
                outcomes.append(Outcome(task.index, task.attempt, None, "failed", f"Ray task failed: {exc}"))
                continue
            outcomes.append(self._bring_home(outcome))
        return outcomes

    def _bring_home(self, outcome: Outcome) -> Outcome:
        """Unpack the run directory shipped from the node into this store, atomically (unpack, then rename)."""
        if outcome.payload is None or outcome.record is None:
            return outcome
        landing = self.store.root / STAGING / f"incoming-{uuid.uuid4().hex[:12]}"
        landing.mkdir(parents=True)
        import io

        with tarfile.open(fileobj=io.BytesIO(outcome.payload), mode="r:gz") as tar:
            tar.extractall(landing, filter="data")
        rec = self.store.adopt(RunRecord(**outcome.record), landing / outcome.record["id"])
        landing.rmdir()
        return Outcome(outcome.index, outcome.attempt, rec.id, outcome.status, outcome.error)

    @property
    def pending(self) -> int:
        return len(self._refs)

    def close(self, cancel: bool = False) -> None:
        if cancel:
            for ref in self._refs:
                self.ray.cancel(ref, force=True)
        self.ray.shutdown()
