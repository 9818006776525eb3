"""Worker processes the runner owns: spawned once, each imports once and then runs many tasks.

Two users: a sweep's local backend (one run per task) and ``RunContext.map`` (an experiment's independent jobs
inside one run). Experiments never start processes themselves (DESIGN.md, "Threads and processes").

Every worker
- asks the kernel to kill it when its parent dies, even by SIGKILL (``PR_SET_PDEATHSIG``), so none is orphaned;
- ignores Ctrl-C: the terminal sends SIGINT to the whole process group, and the parent decides what stops
  (it SIGKILLs map workers at once, and gives run workers a SIGTERM and a short grace to record `interrupted`);
- is replaced when it dies: only the task it held is lost, reported as :class:`WorkerDied`, and the others go on.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import pickle
import signal
import sys
import time
import traceback
import weakref
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

from goodhartlab.runner import worker as _worker


class WorkerDied(RuntimeError):
    """The worker process running a task died (killed, out of memory) before it returned."""


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _portable(exc: BaseException, tb: str) -> BaseException:
    """The exception itself if it pickles (so the parent can tell FloatingPointError from the rest), with the
    worker's traceback attached as a note (it goes to the run's log.txt); else a RuntimeError naming it."""
    try:
        exc.add_note(f"raised in a worker process:\n{tb}")
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001  (unpicklable exception: keep its type name and message)
        out = RuntimeError(f"{type(exc).__name__}: {exc}")
        out.add_note(f"raised in a worker process:\n{tb}")
        return out


def _exit_now() -> None:
    """Leave at once when told to stop while idle: interpreter shutdown with torch loaded takes 0.5-0.9 s
    (module teardown; benchmarks/results/sweeps.json), which the launcher would wait for at every pool's close.
    Nothing is lost: no task is running, and multiprocessing's own exit hook (what ``Process`` runs before a
    child exits) flushes the queues first."""
    try:
        multiprocessing.util._exit_function()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(0)


def _serve(conn, threads: int, initializer: Callable[..., None] | None, initargs: tuple) -> None:
    _worker.die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker.limit_threads(threads)
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            _exit_now()
        key, fn, arg = message
        stop = False
        try:
            reply = (key, True, fn(arg))
        except BaseException as exc:  # noqa: BLE001  (every failure goes back to the parent, which decides)
            reply = (key, False, _portable(exc, traceback.format_exc()))
            stop = isinstance(exc, (KeyboardInterrupt, SystemExit))  # told to stop (SIGTERM): stop after replying
        try:
            conn.send(reply)
        except Exception as exc:  # noqa: BLE001  (an unpicklable result)
            conn.send((key, False, RuntimeError(f"the result could not be sent back: {type(exc).__name__}: {exc}")))
        if stop:
            return


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Any
    task: tuple | None = None
    started: float = field(default_factory=time.monotonic)


def _kill_all(workers: list[_Worker]) -> None:
    for w in workers:
        if w.process.is_alive():
            w.process.kill()
    for w in workers:
        w.process.join(timeout=2)
        w.conn.close()


class WorkerPool:
    """Up to ``size`` spawned worker processes, started as tasks arrive; tasks are ``fn(arg)`` under a key."""

    def __init__(
        self, size: int, threads: int = 1, initializer: Callable[..., None] | None = None, initargs: tuple = ()
    ):
        self.size = max(1, size)
        self.threads = threads
        self._initializer, self._initargs = initializer, initargs
        self._ctx = multiprocessing.get_context("spawn")  # fork after torch threads exist can deadlock
        self._workers: list[_Worker] = []
        self._queue: deque[tuple[Hashable, Callable[[Any], Any], Any]] = deque()
        # Whatever happens to this object (an exception, interpreter exit), no worker outlives it.
        self._finalizer = weakref.finalize(self, _kill_all, self._workers)

    def _start(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_serve, args=(child, self.threads, self._initializer, self._initargs), name="goodhartlab-worker"
        )
        process.start()
        child.close()
        w = _Worker(process, parent)
        self._workers.append(w)
        return w

    def _feed(self) -> None:
        while self._queue:
            for w in [w for w in self._workers if w.task is None and not w.process.is_alive()]:
                self._drop(w)
            if sum(w.task is not None for w in self._workers) >= self.size:
                return  # `size` tasks at once (a caller may lower it between batches; idle workers then wait)
            idle = next((w for w in self._workers if w.task is None), None)
            if idle is None:
                idle = self._start()
            task = self._queue.popleft()
            idle.task = task
            idle.conn.send(task)

    def prestart(self, count: int | None = None) -> None:
        """Start workers up to ``count`` (default ``size``) now (each imports while others work), not as tasks
        arrive."""
        while len(self._workers) < min(self.size, self.size if count is None else count):
            self._start()

    def _drop(self, w: _Worker) -> None:
        self._workers.remove(w)
        w.process.join(timeout=1)
        w.conn.close()

    def submit(self, key: Hashable, fn: Callable[[Any], Any], arg: Any) -> None:
        """Queue ``fn(arg)``; ``fn`` must be importable by name (a module-level function)."""
        self._queue.append((key, fn, arg))
        self._feed()

    @property
    def pending(self) -> int:
        return len(self._queue) + sum(w.task is not None for w in self._workers)

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers]

    def results(self, timeout: float) -> list[tuple[Hashable, bool, Any]]:
        """Finished tasks as (key, ok, result or exception); a dead worker's task comes back as WorkerDied."""
        busy = [w for w in self._workers if w.task is not None]
        if not busy:
            return []
        ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout))
        out = []
        for w in busy:
            key = w.task[0]
            if w.conn in ready or w.process.sentinel in ready:
                try:
                    if w.conn.poll():
                        out.append(w.conn.recv())
                        w.task = None
                        continue
                except (EOFError, OSError):
                    pass
                if w.process.sentinel in ready or not w.process.is_alive():
                    w.process.join(timeout=1)
                    out.append(
                        (key, False, WorkerDied(f"its worker process died ({_describe_exit(w.process.exitcode)})"))
                    )
                    w.task = None
                    self._drop(w)
        self._feed()
        return out

    def close(self, grace: float = 0.0) -> None:
        """Stop every worker: idle ones are told to exit; busy ones get SIGTERM and ``grace`` seconds, then
        SIGKILL (``grace=0``: SIGKILL at once)."""
        self._queue.clear()
        for w in self._workers:
            if w.task is None and w.process.is_alive():
                try:
                    w.conn.send(None)
                except OSError:
                    pass
            elif grace > 0 and w.process.is_alive():
                w.process.terminate()
            else:
                w.process.kill()
        deadline = time.monotonic() + max(grace, 1.0)
        for w in self._workers:
            w.process.join(timeout=max(0.0, deadline - time.monotonic()))
        _kill_all(self._workers)
        self._workers.clear()
        self._finalizer.detach()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
