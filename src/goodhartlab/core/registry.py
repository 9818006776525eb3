"""The experiment catalog: stable names mapped to import strings, loaded only when a run needs them.

As Gymnasium registers ``entry_point="module:attr"`` strings, the catalog below names where each experiment
lives without importing it, so ``goodhartlab list`` and ``--help`` import neither torch nor matplotlib, and
``core`` (the bottom layer) never imports ``experiments`` (the top). An entry point is either
``"package.module:ATTR"`` (ATTR is the :class:`Experiment`) or a bare ``"package.module"`` whose import calls
:func:`register` for the name (one module may register several, as ``experiments.rlhf`` does).

Adding a catalog experiment is one row in :data:`CATALOG`. Your own experiments join through
``GOODHARTLAB_PLUGINS``: a comma-separated list of importable modules that call :func:`register`; sweep workers
inherit it, so plugin experiments can be swept too.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from goodhartlab.core.config import ExperimentConfig
from goodhartlab.core.errors import UserError, did_you_mean
from goodhartlab.core.imports import load_object

if TYPE_CHECKING:
    from goodhartlab.core.context import Context, Results
    from goodhartlab.core.records import ReportContent

C = TypeVar("C", bound=ExperimentConfig)


class Deferred:
    """The function ``"package.module:name"``, imported when called, so that an experiment's package can name its
    ``run`` and ``report`` without importing them: a sweep's launcher only validates configs (no torch), and its
    workers run without a report (no matplotlib or scipy: ~1.7 s of imports a worker; benchmarks/results/sweeps.json).

    Looked up at every call (a dictionary hit once imported), so a patched ``module.name`` is what runs."""

    def __init__(self, target: str):
        self.target = target
        self.__module__, _, self.__qualname__ = target.partition(":")
        self.__name__ = self.__qualname__

    def __call__(self, *args, **kwargs):
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Deferred({self.target!r})"


@dataclass(frozen=True)
class Experiment(Generic[C]):
    """A loaded catalog entry.

    ``run(config, ctx)`` records measurements, tables and artifacts through the run context; it returns
    nothing, everything it found is in ``ctx``. ``report(results)`` turns stored results into figures, tables
    and findings without re-running anything.
    """

    name: str
    summary: str
    config: type[C]
    run: Callable[[C, Context], None]
    report: Callable[[Results], ReportContent]


@dataclass(frozen=True)
class Entry:
    """A catalog row: what ``goodhartlab list`` shows, and where the experiment is imported from by :meth:`load`."""

    name: str
    entry_point: str
    summary: str
    presets: tuple[str, ...] = ("quick", "full")

    def load(self) -> Experiment:
        if self.name in _REGISTRY:
            return _REGISTRY[self.name]
        module, _, attr = self.entry_point.partition(":")
        if attr:
            experiment = load_object(self.entry_point, field=f"experiment '{self.name}'")
            if not isinstance(experiment, Experiment) or experiment.name != self.name:
                raise TypeError(f"catalog entry '{self.name}': {self.entry_point} is not Experiment '{self.name}'")
            return register(experiment)
        importlib.import_module(module)
        if self.name not in _REGISTRY:
            raise LookupError(f"catalog entry '{self.name}': importing {module} did not register it")
        return _REGISTRY[self.name]


def _rows(*rows: Entry) -> dict[str, Entry]:
    return {row.name: row for row in rows}


_X = "goodhartlab.experiments"
# The catalog. One row per experiment: name, entry point, the one-line summary `goodhartlab list` prints
# (the experiment's own `summary`, checked equal by tests/test_catalog.py), and its presets if not quick+full.
CATALOG: dict[str, Entry] = _rows(
    Entry(
        "tictactoe",
        f"{_X}.tictactoe:EXPERIMENT",
        "Outer alignment at optimum of the win/lose reward, exactly; then learners on a machine whose reward "
        "register they can reach.",
    ),
    Entry(
        "amplification",
        f"{_X}.amplification:EXPERIMENT",
        "HCH against depth; imitative vs approval-based amplification against truth and HCH; the exact optimum "
        "of each loss.",
    ),
    Entry(
        "digits",
        f"{_X}.digits:EXPERIMENT",
        "Classifiers fit to generator or rater labels vs the Platonic labeler: shifts, X recall, disagreement, "
        "attacks, offers.",
    ),
    Entry(
        "debate",
        f"{_X}.debate:EXPERIMENT",
        "Sparse-pixel debate on digits: judge accuracy on random reveals vs after an honest-liar debate "
        "(k = 4, 6; handwritten 8×8 at smaller k).",
    ),
    Entry(
        "weak-to-strong",
        f"{_X}.weak_to_strong:EXPERIMENT",
        "Weak-to-strong generalization on digits (PGR of pretrained CNN students fine-tuned on a weak model's "
        "labels, per size pair) and text (a misconception-believing supervisor labels facts for a pretrained LM "
        "with a head), plain vs auxiliary confidence loss.",
    ),
    Entry(
        "rlhf",
        f"{_X}.rlhf",
        "RLHF with a calibrated loophole rater: best-of-n, RL over β and DPO; proxy, rater and gold on one KL axis.",
    ),
    Entry(
        "rlhf-gold-rater",
        f"{_X}.rlhf",
        "Gao et al.'s setup (the rater is gold): pure reward-model overoptimization; fits vs RM size and data.",
    ),
    Entry(
        "rlhf-bribery",
        f"{_X}.rlhf",
        "Offer/threat rate of the corpus swept: does the KL penalty stop a behaviour π_base finds plausible?",
    ),
    Entry(
        "rlhf-ensembles",
        f"{_X}.rlhf",
        "Fine-tune-seed vs pretrain-seed reward-model ensembles (Eisenstein et al. 2023; Coste et al. 2023).",
    ),
    Entry("rlhf-assisted", f"{_X}.rlhf", "A rater assisted by a citation-checking critique vs the unassisted rater."),
    Entry(
        "preference-shift",
        f"{_X}.preference_shift:EXPERIMENT",
        "A recommender that shifts its user's preferences: engagement DP vs path-specific objective vs shift penalty.",
    ),
    Entry(
        "camera",
        f"{_X}.camera:EXPERIMENT",
        "Preferences from one camera reward a gripper that hovers in front of the ball; depth cue, second camera "
        "and oracle rater compared.",
    ),
    Entry(
        "goal-misgeneralization",
        f"{_X}.goal_misgeneralization:EXPERIMENT",
        "PPO on CoinRun-like grid levels and mazes: trained with the coin at the exit, agents run to the exit at "
        "test and leave the coin; misgeneralization against the share p of randomized training levels.",
    ),
)

_REGISTRY: dict[str, Experiment] = {}


# A name becomes a path component of run directories: letters, digits, '-' and '_' only (no '/', no '..').
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def register(experiment: Experiment) -> Experiment:
    if not isinstance(experiment.name, str) or not NAME.fullmatch(experiment.name):
        raise ValueError(
            f"experiment name {experiment.name!r:.80} is not allowed: use 1-64 letters, digits, "
            "'-' or '_', starting with a letter or digit"
        )
    """Add a loaded experiment (a catalog module registering itself, or a plugin). A name is registered once."""
    if experiment.name in _REGISTRY and _REGISTRY[experiment.name] is not experiment:
        raise ValueError(f"experiment '{experiment.name}' registered twice")
    _REGISTRY[experiment.name] = experiment
    return experiment


PLUGINS_ENV = "GOODHARTLAB_PLUGINS"
_loaded_plugins: set[str] = set()


def _load_plugins() -> None:
    for module in filter(None, (m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(","))):
        if module in _loaded_plugins:
            continue
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise UserError(f"{PLUGINS_ENV}: cannot import plugin module '{module}' ({exc})") from None
        except Exception as exc:  # noqa: BLE001  (a plugin is user code: its SyntaxError or raise is one line)
            raise UserError(
                f"{PLUGINS_ENV}: plugin module '{module}' failed while loading: {type(exc).__name__}: {exc}"
            ) from None
        _loaded_plugins.add(module)


def catalog() -> dict[str, Entry]:
    """Every experiment by name, sorted: the catalog rows plus registered plugins. Imports no experiment."""
    _load_plugins()
    entries = dict(CATALOG)
    for name, experiment in _REGISTRY.items():
        if name not in entries:
            entries[name] = Entry(name, experiment.run.__module__, experiment.summary, tuple(experiment.config.presets))
    return dict(sorted(entries.items()))


def get(name: str) -> Experiment:
    """The loaded experiment called ``name``; an unknown name is a UserError with "did you mean"."""
    entries = catalog()
    if name not in entries:
        raise UserError(
            f"unknown experiment '{name}'{did_you_mean(name, entries)}; experiments are: {', '.join(entries)}"
        )
    return entries[name].load()
