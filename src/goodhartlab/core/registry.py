"""The experiment registry: stable names mapped to (Config, run, report).

Experiments register themselves when :mod:`goodhartlab.experiments` is
imported; the list of catalog modules is written out there, not discovered.
Your own experiments join the catalog through ``GOODHARTLAB_PLUGINS``: a
comma-separated list of importable modules that call :func:`register`. Sweep
workers inherit it, so plugin experiments can be swept too.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from goodhartlab.core.config import ExperimentConfig
from goodhartlab.core.errors import UserError, did_you_mean


@dataclass(frozen=True)
class Experiment:
    """A catalog entry.

    ``run(config, ctx)`` records measurements, tables and artifacts through the
    run context; ``report(results)`` turns stored results into figures, tables
    and findings without re-running anything.
    """

    name: str
    summary: str
    config: type[ExperimentConfig]
    run: Callable[[Any, Any], None]
    report: Callable[[Any], Any]


_REGISTRY: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    if experiment.name in _REGISTRY and _REGISTRY[experiment.name] is not experiment:
        raise ValueError(f"experiment '{experiment.name}' registered twice")
    _REGISTRY[experiment.name] = experiment
    return experiment


PLUGINS_ENV = "GOODHARTLAB_PLUGINS"


def _load_plugins() -> None:
    for module in filter(None, (m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(","))):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise UserError(f"{PLUGINS_ENV}: cannot import plugin module '{module}' ({exc})") from None


def catalog() -> dict[str, Experiment]:
    import goodhartlab.experiments  # noqa: F401  (registers the catalog)

    _load_plugins()

    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> Experiment:
    experiments = catalog()
    if name not in experiments:
        raise UserError(
            f"unknown experiment '{name}'{did_you_mean(name, experiments)}; experiments are: {', '.join(experiments)}"
        )
    return experiments[name]
