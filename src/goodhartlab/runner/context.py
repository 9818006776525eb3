"""The run context: what an experiment's ``run(config, ctx)`` records through.

Everything is held in memory and written when the run finishes, so an
interrupted run leaves no table that looks complete.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from goodhartlab.core import rng
from goodhartlab.core.records import Measurement

# Receives progress from a run executed by a sweep worker: (description, completed, total).
ProgressSink = Callable[[str, int, int], None]


class RunContext:
    """Collects measurements, tables and artifacts; hands out seeded streams and progress bars.

    The implementation of :class:`goodhartlab.core.context.Context`, the type experiments see.
    """

    def __init__(
        self,
        seed: int,
        run_dir: Path | None = None,
        console: Console | None = None,
        quiet: bool = False,
        progress_sink: ProgressSink | None = None,
        store_root: Path | None = None,
        processes: int | None = None,
        log_file: Path | None = None,
        tracker: Any = None,
    ):
        self.seed = seed
        # The processes this run may use (its share of the runner's budget): the cores for a lone run,
        # cores/W inside a sweep worker. `map` uses at most this many; 1 means it runs in this process.
        self.processes = max(1, processes if processes is not None else (os.cpu_count() or 1))
        self.log_file = log_file
        self.run_dir = run_dir
        self.store_root = store_root
        self.progress_sink = progress_sink
        self.tracker = tracker  # runner.tracking.Tracker: sees each measurement and table row as it is recorded
        self.measurements: list[Measurement] = []
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.artifacts: dict[str, Any] = {}
        self.console = console or Console(stderr=True)
        self.quiet = quiet
        # One set of workers for all of this run's `map` calls: each worker imports torch and the experiment's
        # modules once (about 9 CPU-s for transformers), not once per call. Closed by `close()` at the run's end.
        self._pool = None

    # -- randomness ----------------------------------------------------------
    def rng(self, *names: object):
        """A numpy Generator for the named stream of this run's seed."""
        return rng.generator(self.seed, *names)

    def torch_generator(self, *names: object):
        return rng.torch_generator(self.seed, *names)

    # -- recording -----------------------------------------------------------
    def record(self, measurements: Measurement | Iterable[Measurement]) -> None:
        if isinstance(measurements, Measurement):
            measurements = [measurements]
        measurements = list(measurements)
        self.measurements.extend(measurements)
        if self.tracker is not None:
            self.tracker.measurements([m.row() for m in measurements])

    def table(self, name: str, rows: Iterable[dict[str, Any]]) -> None:
        """Record a named table (a list of flat rows); appended to if recorded again."""
        rows = [dict(r) for r in rows]
        self.tables.setdefault(name, []).extend(rows)
        if self.tracker is not None:
            self.tracker.table(name, rows)

    def artifact(self, name: str, obj: Any) -> None:
        """Record a JSON-serializable artifact (e.g. counterexample boards) for the report."""
        self.artifacts[name] = obj

    # -- progress ------------------------------------------------------------
    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[Any]:
        """A progress bar; yields a callable ``advance(n=1)``."""
        if self.progress_sink is not None:
            done = [0]
            sink = self.progress_sink
            sink(description, 0, total)

            def advance(n: int = 1) -> None:
                done[0] += n
                sink(description, done[0], total)

            yield advance
            return
        if self.quiet:
            yield lambda n=1: None
            return
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        with progress:
            task = progress.add_task(description, total=total)
            yield lambda n=1: progress.advance(task, n)

    @property
    def cache_dir(self) -> Path:
        """Where runs of this store share expensive intermediate results (e.g. a pretrained base model)."""
        root = self.store_root if self.store_root is not None else (self.run_dir or Path(".")).parent
        return Path(root) / "cache"

    # -- processes -----------------------------------------------------------
    def map(
        self,
        fn: Callable[[Any], Any],
        items: Iterable[Any],
        advance: Callable[[], None] | None = None,
        processes: int | None = None,
    ) -> list[Any]:
        """``[fn(item) for item in items]``, in worker processes the runner owns; results in input order.

        ``fn`` must be a module-level function and each item picklable and independent (seeding itself from
        its own fields), so the results do not depend on how many processes ran them. At most
        ``min(self.processes, processes)`` workers; with one, everything runs here, serially. ``advance()`` is
        called as each item finishes. The workers die with this process (SIGKILL included) and are killed at
        once on Ctrl-C or an error; a worker that dies fails the run.
        """
        from goodhartlab.runner.pool import WorkerPool

        items = list(items)
        n = min(self.processes, processes or self.processes, len(items))
        if n <= 1:
            out = []
            for item in items:
                out.append(fn(item))
                if advance is not None:
                    advance()
            return out
        if self._pool is None:
            self._pool = WorkerPool(n, threads=1)
        pool = self._pool
        pool.size = n  # at most n tasks at once; workers start as tasks arrive and are kept for the next call
        results: dict[int, Any] = {}
        try:
            for i, item in enumerate(items):
                pool.submit(i, fn, item)
            while pool.pending:
                for key, ok, value in pool.results(timeout=0.5):
                    if not ok:
                        raise value
                    results[key] = value
                    if advance is not None:
                        advance()
        except BaseException:
            self.close()  # an error or Ctrl-C: the workers are killed at once, with what they were running
            raise
        return [results[i] for i in range(len(items))]

    def map_chain(
        self,
        first: Callable[[Any], Any],
        items: Iterable[Any],
        second: Callable[[Any], Any],
        follow: Callable[[dict[int, Any]], list[tuple[Hashable, Any]]],
        advance: Callable[[], None] | None = None,
    ) -> tuple[list[Any], dict[Hashable, Any]]:
        """Two stages on one set of workers, the second starting as soon as the first results it needs are in.

        ``first(item)`` runs for each item. Each time one finishes, ``follow(done)`` is called here with every
        first-stage result so far (``{index: result}``) and returns the second-stage items that became ready, as
        ``(key, item)`` pairs, each released once; ``second(item)`` runs for each. Returns the first-stage
        results in input order and the second-stage results by key. So a world's seeds start while another
        world's base model is still training, instead of every worker waiting for the slowest first item.
        The same rules as :meth:`map`: module-level functions, picklable independent items, results that do not
        depend on how many processes ran them. With one process, or one first item, the first stage runs here
        (and the second as :meth:`map` runs it).
        """
        from goodhartlab.runner.pool import WorkerPool

        items = list(items)
        done: dict[int, Any] = {}
        seconds: dict[Hashable, Any] = {}
        if self.processes <= 1 or len(items) <= 1:  # one first item runs here, with its live progress bars
            queue: list[tuple[Hashable, Any]] = []
            for i, item in enumerate(items):
                done[i] = first(item)
                queue += follow(done)
                if advance is not None:
                    advance()
            outs = self.map(second, [item for _, item in queue], advance=advance)
            return [done[i] for i in range(len(items))], {key: out for (key, _), out in zip(queue, outs)}
        if self._pool is None:
            self._pool = WorkerPool(self.processes, threads=1)
        pool = self._pool
        pool.size = self.processes
        try:
            for i, item in enumerate(items):
                pool.submit(("first", i), first, item)
            pool.prestart()  # every worker imports while the first items run, not after them
            while pool.pending:
                for (stage, key), ok, value in pool.results(timeout=0.5):
                    if not ok:
                        raise value
                    if stage == "first":
                        done[key] = value
                        for key2, item2 in follow(done):
                            pool.submit(("second", key2), second, item2)
                    else:
                        seconds[key] = value
                    if advance is not None:
                        advance()
        except BaseException:
            self.close()
            raise
        return [done[i] for i in range(len(items))], seconds

    def close(self) -> None:
        """Stop this run's workers (idle ones exit, busy ones are killed); `map` starts new ones if called again."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.close()

    def log(self, message: str) -> None:
        """A line for the user (unless quiet) and for the run's log.txt (always)."""
        if self.log_file is not None:
            try:
                with open(self.log_file, "a", encoding="utf-8") as fh:
                    fh.write(f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} {message}\n")
            except OSError:
                pass  # the log is a convenience; a full disk must not turn a run's message into its failure
        if not self.quiet:
            self.console.print(message)
