"""Catalog entry (issue 4): weak-to-strong generalization (Burns et al. 2023) on digits. A small supervisor
trained on ground truth labels data for a larger pretrained student; how much of the gap to the student's
ground-truth ceiling does it recover (PGR), with plain cross-entropy and with the auxiliary confidence loss?
And on text (``text_task``): a weak supervisor that believes the QA world's popular misconceptions labels
statements for the pretrained tiny LM with a classification head; does it recover the truth its pretraining saw?

``measure`` trains the models; ``present`` turns stored results into figures, tables and findings.
"""

from goodhartlab.core.registry import Deferred, Experiment, register
from goodhartlab.experiments.weak_to_strong.config import Config

EXPERIMENT = register(
    Experiment(
        name="weak-to-strong",
        summary="Weak-to-strong generalization on digits (PGR of pretrained CNN students fine-tuned on a weak model's labels, per size pair) and text (a misconception-believing supervisor labels facts for a pretrained LM with a head), plain vs auxiliary confidence loss.",
        config=Config,
        run=Deferred(f"{__name__}.measure:run"),
        report=Deferred(f"{__name__}.present:report"),
    )
)
