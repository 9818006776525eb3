"""Catalog entry 7 (issue 12): goal misgeneralization, after Langosco et al. 2022 (ICML, arXiv 2105.14111).
PPO agents trained on CoinRun-like levels with the coin at the exit (but for a share p of levels) learn to
run to the exit; on test levels they keep their skill and leave the coin. The maze variant keeps the cheese
in a top-right square during training.

``measure`` trains and measures; ``present`` turns stored results into figures, tables and findings.
"""

from goodhartlab.core.registry import Deferred, Experiment, register
from goodhartlab.experiments.goal_misgeneralization.config import Config

EXPERIMENT = register(
    Experiment(
        name="goal-misgeneralization",
        summary="PPO on CoinRun-like grid levels and mazes: trained with the coin at the exit, agents run to the exit "
        "at test and leave the coin; misgeneralization against the share p of randomized training levels.",
        config=Config,
        run=Deferred(f"{__name__}.measure:run"),
        report=Deferred(f"{__name__}.present:report"),
    )
)
