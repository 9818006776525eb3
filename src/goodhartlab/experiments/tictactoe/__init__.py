"""Catalog entry 1: does the tic-tac-toe reward capture what I really want?

``measure`` runs the exact checks and trains the learners; ``present`` turns
stored results into figures, tables and findings.
"""

from goodhartlab.core.registry import Deferred, Experiment, register
from goodhartlab.experiments.tictactoe.config import Config

EXPERIMENT = register(
    Experiment(
        name="tictactoe",
        summary="Outer alignment at optimum of the win/lose reward, exactly; then learners on a machine whose reward register they can reach.",
        config=Config,
        run=Deferred(f"{__name__}.measure:run"),
        report=Deferred(f"{__name__}.present:report"),
    )
)
