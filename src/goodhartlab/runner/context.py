"""The run context: what an experiment's ``run(config, ctx)`` records through.

Everything is held in memory and written when the run finishes, so an
interrupted run leaves no table that looks complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from goodhartlab.core import rng
from goodhartlab.core.records import Measurement


class RunContext:
    """Collects measurements, tables and artifacts; hands out seeded streams and progress bars."""

    def __init__(self, seed: int, run_dir: Path | None = None, console: Console | None = None, quiet: bool = False):
        self.seed = seed
        self.run_dir = run_dir
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
        self.measurements.extend(measurements)

    def table(self, name: str, rows: Iterable[dict[str, Any]]) -> None:
        """Record a named table (a list of flat rows); appended to if recorded again."""
        self.tables.setdefault(name, []).extend(dict(r) for r in rows)

    def artifact(self, name: str, obj: Any) -> None:
        """Record a JSON-serializable artifact (e.g. counterexample boards) for the report."""
        self.artifacts[name] = obj

    # -- progress ------------------------------------------------------------
    @contextmanager
    def progress(self, description: str, total: int) -> Iterator[Any]:
        """A progress bar; yields a callable ``advance(n=1)``."""
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

    def log(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message)
