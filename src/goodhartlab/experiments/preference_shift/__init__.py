"""Catalog entry 9 (issue 13): a recommender that changes what its user wants. Engagement maximizers of
growing planning depth, the path-specific agent (Farquhar, Carey & Everitt 2022) and a Carroll et al. (2022)
penalty on the distance from the natural shift, on clicks (proxy), the shifted user's satisfaction (rater)
and satisfaction under the natural preferences plus the induced shift (gold).

``measure`` runs the episodes; ``present`` turns stored results into figures, tables and findings.
"""

from goodhartlab.core.registry import Deferred, Experiment, register
from goodhartlab.experiments.preference_shift.config import Config

EXPERIMENT = register(
    Experiment(
        name="preference-shift",
        summary=(
            "A recommender that shifts its user's preferences: engagement DP vs path-specific objective vs "
            "shift penalty."
        ),
        config=Config,
        run=Deferred(f"{__name__}.measure:run"),
        report=Deferred(f"{__name__}.present:report"),
    )
)
