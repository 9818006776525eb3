"""Simulated raters: gold plus loopholes, with a Boltzmann choice; an assisted rater reads a critique."""

from goodhartlab.raters.critique import Critique, critique_citations
from goodhartlab.raters.loopholes import Loopholes
from goodhartlab.raters.rater import Rater, build_rater

__all__ = ["Critique", "Loopholes", "Rater", "build_rater", "critique_citations"]
