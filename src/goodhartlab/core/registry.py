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
import re
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


# A name becomes a path component of run directories: letters, digits, '-' and '_' only (no '/', no '..').
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def register(experiment: Experiment) -> Experiment:
    if not isinstance(experiment.name, str) or not NAME.fullmatch(experiment.name):
        raise ValueError(f"experiment name {experiment.name!r:.80} is not allowed: use 1-64 letters, digits, "
                         "'-' or '_', starting with a letter or digit")
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
        except Exception as exc:  # noqa: BLE001  (a plugin is user code: its SyntaxError or raise is one line)
            raise UserError(f"{PLUGINS_ENV}: plugin module '{module}' failed while loading: "
                            f"{type(exc).__name__}: {exc}") from None


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
