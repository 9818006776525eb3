"""Catalog entry (issue 4): weak-to-strong generalization (Burns et al. 2023) on digits. A small supervisor
trained on ground truth labels data for a larger pretrained student; how much of the gap to the student's
ground-truth ceiling does it recover (PGR), with plain cross-entropy and with the auxiliary confidence loss?

``measure`` trains the models; ``present`` turns stored results into figures, tables and findings.
"""

from goodhartlab.core.registry import Experiment, register
from goodhartlab.experiments.weak_to_strong import measure, present
from goodhartlab.experiments.weak_to_strong.config import Config

EXPERIMENT = register(Experiment(
    name="weak-to-strong",
    summary="Weak-to-strong generalization on digits: PGR of pretrained strong students fine-tuned on a weak model's labels, plain vs auxiliary confidence loss, per size pair.",
    config=Config,
    run=measure.run,
    report=present.report,
))
