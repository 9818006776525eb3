"""A run context for one independent unit of the RLHF pipeline (a world's π_base, or one seed of a world), so
units can run in the runner's worker processes (``ctx.map``) and their records reach the run unchanged.

A :class:`UnitContext` hands out the run's own named random streams (``core.rng`` under the run seed: the same
stream whichever process draws it) and buffers what the unit records; :meth:`UnitContext.replay` writes the
buffer into the run's context in the order it was recorded. Replaying units in input order gives the tables
and measurements a serial run writes. When the unit runs in the run's own process (one unit, or a run given one
process), progress bars and log lines go to the run's context live.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any

from goodhartlab.core import rng


class UnitContext:
    """Implements ``core.context.Context`` for a unit; picklable (the live context is dropped when pickled)."""

    def __init__(self, ctx):
        self.seed = ctx.seed
        self.run_dir = ctx.run_dir
        self._cache_dir = Path(ctx.cache_dir)
        self.live = ctx  # the run's context while the unit runs in its process; None in a worker
        self.events: list[tuple[str, Any, Any]] = []  # ("record", m, None) | ("table", name, rows) | ("log", msg)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "live": None}

    @property
    def cache_dir(self) -> Path:
        return self._cache_dir

    def rng(self, *names: object):
        return rng.generator(self.seed, *names)

    def torch_generator(self, *names: object):
        return rng.torch_generator(self.seed, *names)

    def record(self, measurements) -> None:
        self.events.append(("record", measurements, None))

    def table(self, name: str, rows) -> None:
        self.events.append(("table", name, [dict(r) for r in rows]))

    def artifact(self, name: str, obj: Any) -> None:
        self.events.append(("artifact", name, obj))

    def log(self, message: str) -> None:
        if self.live is not None:
            self.live.log(message)
        else:
            self.events.append(("log", message, None))

    @contextmanager
    def progress(self, description: str, total: int):
        if self.live is not None:
            with self.live.progress(description, total) as advance:
                yield advance
        else:
            yield lambda n=1: None

    def replay(self, ctx) -> None:
        """Write the buffered records into the run's context ``ctx``, in the order they were made."""
        for kind, a, b in self.events:
            if kind == "record":
                ctx.record(a)
            elif kind == "table":
                ctx.table(a, b)
            elif kind == "artifact":
                ctx.artifact(a, b)
            else:
                ctx.log(a)
        self.events = []
