"""Catalog entry 3: digits. What labels capture: generator- vs rater-labelled classifiers against the labeler
in distribution and on shifts, disagreement between interpolating models, attacks within a budget that keeps
the drawn digit, and offers as a shortcut."""

from goodhartlab.core.registry import Deferred, Experiment, register
from goodhartlab.experiments.digits.config import Config

EXPERIMENT = register(
    Experiment(
        name="digits",
        summary="Classifiers fit to generator or rater labels vs the Platonic labeler: shifts, X recall, disagreement, attacks, offers.",
        config=Config,
        run=Deferred(f"{__name__}.measure:run"),
        report=Deferred(f"{__name__}.present:report"),
    )
)
