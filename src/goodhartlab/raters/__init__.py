"""Simulated raters: gold plus graded loopholes, with a Boltzmann choice; an assisted rater reads a critique;
calibration of the loopholes' strength on π_base pairs."""

from goodhartlab.raters.calibration import STIENNON_AGREEMENT, Calibration, calibrate
from goodhartlab.raters.critique import Critique, critique_citations
from goodhartlab.raters.loopholes import Loopholes
from goodhartlab.raters.rater import Rater, build_rater

__all__ = [
    "STIENNON_AGREEMENT",
    "Calibration",
    "Critique",
    "Loopholes",
    "Rater",
    "build_rater",
    "calibrate",
    "critique_citations",
]
