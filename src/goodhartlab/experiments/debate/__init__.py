"""Catalog entry (issue 4): debate on digits, after Irving, Christiano & Amodei (2018). A sparse judge sees k
revealed pixels; an honest debater and a precommitted liar reveal them; does debate raise the judge's accuracy?

``measure`` runs the games; ``present`` turns stored results into figures, tables and findings.
"""

from goodhartlab.core.registry import Deferred, Experiment, register
from goodhartlab.experiments.debate.config import Config

EXPERIMENT = register(
    Experiment(
        name="debate",
        summary="Sparse-pixel debate on digits: judge accuracy on random reveals vs after an honest-liar debate (k = 4, 6; handwritten 8×8 at smaller k).",
        config=Config,
        run=Deferred(f"{__name__}.measure:run"),
        report=Deferred(f"{__name__}.present:report"),
    )
)
