"""Catalog entry 6: amplification. HCH, imitative vs approval-based distillation, the exact optimum of
each loss, and debate with H as judge.

``measure`` runs everything; ``present`` turns stored results into figures, tables and findings.
"""

from goodhartlab.core.registry import Deferred, Experiment, register
from goodhartlab.experiments.amplification.config import Config

EXPERIMENT = register(
    Experiment(
        name="amplification",
        summary="HCH against depth; imitative vs approval-based amplification against truth and HCH; the exact optimum of each loss.",
        config=Config,
        run=Deferred(f"{__name__}.measure:run"),
        report=Deferred(f"{__name__}.present:report"),
    )
)
