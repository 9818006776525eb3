"""The run context: what an experiment's ``run(config, ctx)`` records through.

Everything is held in memory and written when the run finishes, so an
interrupted run leaves no table that looks complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from goodhartlab.core import rng
from goodhartlab.core.records import Measurement


# Receives progress from a run executed by a sweep worker: (description, completed, total).
ProgressSink = Callable[[str, int, int], None]


class RunContext:
    """Collects measurements, tables and artifacts; hands out seeded streams and progress bars."""

    def __init__(
        self,
        seed: int,
        run_dir: Path | None = None,
        console: Console | None = None,
        quiet: bool = False,
        progress_sink: ProgressSink | None = None,
        store_root: Path | None = None,
        tracker: Any = None,
    ):
        self.seed = seed
        self.run_dir = run_dir
        self.store_root = store_root
        self.progress_sink = progress_sink
        self.tracker = tracker  # runner.tracking.Tracker: sees each measurement and table row as it is recorded
        self.measurements: list[Measurement] = []
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.artifacts: dict[str, Any] = {}
        self.console = console or Console(stderr=True)
        self.quiet = quiet
        self._progress: Progress | None = None

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

    def log(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message)
