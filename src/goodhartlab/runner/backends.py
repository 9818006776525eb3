"""Where a sweep's runs execute: W local worker processes, or Ray tasks on a cluster.

Both take :class:`~goodhartlab.runner.worker.Task` s and give back
:class:`~goodhartlab.runner.worker.Outcome` s as runs end, in any order.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import queue
import socket
import sys
import tarfile
import threading
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from goodhartlab.core.errors import UserError
from goodhartlab.core.registry import PLUGINS_ENV
from goodhartlab.runner import worker
from goodhartlab.runner.pool import WorkerDied, WorkerPool
from goodhartlab.runner.store import STAGING, RunRecord, RunStore
from goodhartlab.runner.worker import Outcome, Task

BACKENDS = ("local", "ray")
RAY_CONNECT_TIMEOUT = 15.0  # seconds for ray.init to reach a cluster (env GOODHARTLAB_RAY_TIMEOUT), then one line
PROBE_TIMEOUT = 5.0  # seconds for a TCP connection to a Ray address, tried before anything is recorded
GRACE = 3.0  # seconds a stopped run worker gets (SIGTERM) to record its run interrupted before SIGKILL

_progress_queue: Any = None  # set in each local worker by _init_local


def _init_local(progress_queue, experiment: str | None = None) -> None:
    global _progress_queue
    _progress_queue = progress_queue
    # Import the run path and the sweep's experiment once per worker, not per run: the launcher starts the workers
    # before it plans, so these seconds of imports overlap its own.
    import goodhartlab.runner.execute  # noqa: F401

    if experiment is not None:
        from goodhartlab.core.registry import get

        try:
            get(experiment)
        except Exception:  # noqa: BLE001  (an unknown or broken experiment is the launcher's one-line error)
            pass


def _report_progress(index: int, description: str, done: int, total: int) -> None:
    _progress_queue.put((index, description, done, total))


def _run_local(arg: tuple[Task, str]) -> Outcome:
    task, store_root = arg
    return worker.run_task(task, Path(store_root), progress=_report_progress)


class LocalBackend:
    """W persistent worker processes on this machine, each writing its runs straight into the store.

    A worker that dies (killed, out of memory) is replaced; only the run it held fails (and is retried like
    any failed run), the others go on. Stopping (Ctrl-C, SIGTERM) gives busy workers SIGTERM and a few
    seconds to record their runs interrupted, then SIGKILL.
    """

    name = "local"

    def __init__(self, store: RunStore, workers: int, warm: str | None = None):
        """``warm``: an experiment name; one worker starts now and imports it while the launcher plans (the others
        start as runs arrive, so a one-run sweep does not start W)."""
        self.store = store
        self.workers = workers
        self.progress: Any = multiprocessing.get_context("spawn").Queue()
        self.threads = max(1, (os.cpu_count() or 1) // workers)
        self._pool = WorkerPool(workers, threads=self.threads, initializer=_init_local, initargs=(self.progress, warm))
        self._tasks: dict[tuple[int, int], Task] = {}
        if warm is not None:
            self._pool.prestart(1)

    def submit(self, task: Task) -> None:
        task = dataclasses.replace(task, processes=self.threads)
        self._tasks[(task.index, task.attempt)] = task
        self._pool.submit((task.index, task.attempt), _run_local, (task, str(self.store.root)))

    def progress_events(self) -> list[tuple[int, str, int, int]]:
        events = []
        while True:
            try:
                events.append(self.progress.get_nowait())
            except (queue.Empty, OSError, ValueError):
                return events

    def next_outcomes(self, timeout: float) -> list[Outcome]:
        outcomes = []
        for key, ok, value in self._pool.results(timeout):
            task = self._tasks.pop(key)
            if ok:
                outcomes.append(value)
            elif isinstance(value, WorkerDied):
                outcomes.append(Outcome(task.index, task.attempt, None, "failed", f"the run's {value}"))
            else:
                outcomes.append(Outcome(task.index, task.attempt, None, "failed", f"{type(value).__name__}: {value}"))
        return outcomes

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def close(self, cancel: bool = False) -> None:
        self._pool.close(grace=GRACE if cancel else 0.0)
        self.progress.close()


def _quiet_native_stderr() -> None:
    """Send file descriptor 2 to /dev/null and keep Python's sys.stderr on a copy of the terminal.

    Ray's C++ core logs connection retries to fd 2 from its own threads, even after ray.init gave up, which
    would break the launcher's one-line messages; Ray keeps its logs in /tmp/ray/session_latest/logs anyway.
    """
    if getattr(sys.stderr, "_goodhartlab_quiet", False):
        return
    try:
        sys.stderr.flush()
        terminal = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        stream = os.fdopen(terminal, "w", buffering=1, encoding=sys.stderr.encoding or "utf-8", errors="replace")
        stream._goodhartlab_quiet = True  # type: ignore[attr-defined]
        sys.stderr = stream
    except (OSError, ValueError, AttributeError):
        pass  # stderr is not a real file (captured by a test harness): nothing to protect


def check_ray_address(address: str) -> None:
    """Refuse an unreachable cluster address in one line, within PROBE_TIMEOUT (ray.init has no timeout)."""
    if address in ("auto", "local"):
        return
    parts = urlsplit(address if "://" in address else f"gcs://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or not port:
        raise UserError(f"--address must be HOST:PORT, ray://HOST:PORT or auto, got '{address}'")
    try:
        socket.create_connection((host, port), timeout=PROBE_TIMEOUT).close()
    except OSError as exc:
        why = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise UserError(
            f"--address: cannot reach a Ray cluster at '{address}' ({why} after at most "
            f"{PROBE_TIMEOUT:g} s); is `ray start --head` running there?"
        ) from None


class RayBackend:
    """One Ray task per run, with ``cpus_per_run`` CPUs; finished run directories come back to this store."""

    name = "ray"

    def __init__(self, store: RunStore, workers: int, address: str | None, cpus_per_run: float = 1.0):
        _quiet_native_stderr()
        try:
            import ray
        except ImportError:
            raise UserError(
                "--backend ray needs Ray: pip install 'goodhartlab[ray]' (or `make test`, which installs it)"
            ) from None
        self.ray = ray
        self.store = store
        env_vars = {k: os.environ[k] for k in (PLUGINS_ENV, "PYTHONPATH") if os.environ.get(k)}
        init: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "ignore_reinit_error": True,
            "logging_level": logging.ERROR,
            "runtime_env": {"env_vars": env_vars} if env_vars else None,
        }
        if address:
            init["address"] = address
        else:
            init["num_cpus"] = workers
        failure: list[BaseException] = []

        def connect() -> None:
            try:
                ray.init(**{k: v for k, v in init.items() if v is not None})
            except BaseException as exc:  # noqa: BLE001  (reported below, in the launcher's thread)
                failure.append(exc)

        if address:
            # ray.init has no timeout: a cluster that accepts TCP but never answers would hang the sweep.
            thread = threading.Thread(target=connect, name="ray-init", daemon=True)
            thread.start()
            limit = float(os.environ.get("GOODHARTLAB_RAY_TIMEOUT", RAY_CONNECT_TIMEOUT))
            thread.join(limit)
            if thread.is_alive():
                raise UserError(
                    f"--address: no answer from a Ray cluster at '{address}' within {limit:g} s; "
                    "the sweep is left interrupted (--resume it later)"
                )
        else:
            # A local instance starts in this (main) thread: Ray's own processes ask the kernel to kill them when
            # the thread that started them ends (PR_SET_PDEATHSIG), so starting them from a helper thread that
            # then exits kills the instance under the driver. No timeout: a loaded machine may start it slowly.
            connect()
        if failure:
            exc = failure[0]
            where = f"at '{address}'" if address else "(a local instance)"
            raise UserError(
                f"--backend ray: cannot start or reach Ray {where}: {type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}"
            ) from None
        self.cpus_per_run = cpus_per_run
        self._remote = ray.remote(num_cpus=cpus_per_run, max_retries=0)(worker.run_task_elsewhere)
        self._refs: dict[Any, Task] = {}

    def submit(self, task: Task) -> None:
        task = dataclasses.replace(task, processes=max(1, int(self.cpus_per_run)))
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
