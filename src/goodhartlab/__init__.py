"""goodhartlab: measure how far a model trained on a signal ends up from what was intended.

Every experiment reports the proxy (what training optimized), the rater (what a
rater-based evaluation would see) and the gold (the intended goal, hidden from
every learner) side by side.

From Python: ``goodhartlab.run(name, preset=..., **overrides)`` runs an experiment and returns its results;
``goodhartlab.load_runs(store, experiment=..., sweep=...)`` gives stored measurements as a DataFrame;
``goodhartlab.load_run(run, store)`` one run's results; ``goodhartlab.compare(refs, store)`` writes a
comparison report. They are imported on first use, so ``import goodhartlab`` loads no heavy library.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# name -> module that defines it (imported on first access: PEP 562 module __getattr__)
_LAZY = {
    "run": "goodhartlab.api",
    "load_runs": "goodhartlab.api",
    "load_run": "goodhartlab.api",
    "compare": "goodhartlab.report.compare",
}
__all__ = ["__version__", "compare", "load_run", "load_runs", "run"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'goodhartlab' has no attribute '{name}'")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


# Register the goodhartlab/... Gymnasium ids (imports gymnasium, no world and no torch).
from goodhartlab import envs as _envs  # noqa: E402

_envs.register()
