"""The types an experiment sees: the run context ``ctx`` that ``run(config, ctx)`` records through, and the
stored ``results`` that ``report(results)`` is built from.

They are Protocols so experiments (below the runner) type against them without importing the runner;
``runner.context.RunContext`` and ``runner.results.RunResults`` are the implementations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import torch

    from goodhartlab.core.config import ExperimentConfig
    from goodhartlab.core.records import Measurement


@runtime_checkable
class Context(Protocol):
    """What ``run(config, ctx)`` records through. Everything is written when ``run`` returns."""

    seed: int

    def rng(self, *names: object) -> np.random.Generator:
        """An independent numpy stream for this run's seed and a path of names (``ctx.rng("pool", seed)``)."""
        ...

    def torch_generator(self, *names: object) -> torch.Generator:
        """The same, as a CPU ``torch.Generator``."""
        ...

    def record(self, measurements: Measurement | Iterable[Measurement]) -> None:
        """Add rows to the tidy measurement table (pressure, proxy, rater, gold, ...)."""
        ...

    def table(self, name: str, rows: Iterable[dict[str, Any]]) -> None:
        """Add flat rows to the named table (``tables/NAME.csv``); appended to if recorded again."""
        ...

    def artifact(self, name: str, obj: Any) -> None:
        """Store a JSON-serializable object (``artifacts/NAME.json``)."""
        ...

    def progress(self, description: str, total: int) -> AbstractContextManager[Callable[..., None]]:
        """A progress bar: ``with ctx.progress("train", n) as advance: ... advance()``."""
        ...

    @property
    def cache_dir(self) -> Path:
        """Where runs of one store share expensive intermediate results (e.g. a pretrained base model)."""
        ...

    def log(self, message: str) -> None:
        """One line for the user (silent under ``--quiet``)."""
        ...


@runtime_checkable
class Results(Protocol):
    """A run's stored results, as loaded back from its directory: what ``report(results)`` reads."""

    experiment: str
    preset: str
    config: ExperimentConfig
    measurements: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    artifacts: dict[str, Any]
    environment: dict[str, Any]
    run_id: str
