"""Catalog entry 8 (issue 13): the hand between the ball and the camera. Learning from preferences under partial
observation (Christiano et al. 2017; OpenAI, "Learning from human preferences", 2017; Lang et al. 2024): a
rater who sees one camera rewards a gripper that only looks like it grasps; a depth cue, a second camera and an
oracle rater are compared on the same axes.

``measure`` runs the loop; ``present`` turns stored results into figures, tables and findings.
"""

from goodhartlab.core.registry import Deferred, Experiment, register
from goodhartlab.experiments.camera.config import Config

EXPERIMENT = register(
    Experiment(
        name="camera",
        summary=(
            "Preferences from one camera reward a gripper that hovers in front of the ball; depth cue, second camera "
            "and oracle rater compared."
        ),
        config=Config,
        run=Deferred(f"{__name__}.measure:run"),
        report=Deferred(f"{__name__}.present:report"),
    )
)
