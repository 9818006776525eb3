"""The QA world: synthetic facts with misconceptions, choices with hidden costs, an internet, and gold."""

from goodhartlab.worlds.qa.answers import AnswerPlan, Surface
from goodhartlab.worlds.qa.behaviour import BEHAVIOURS, behaviour_rates
from goodhartlab.worlds.qa.config import QAWorldConfig
from goodhartlab.worlds.qa.gold import AnswerParts, Citation, CostNote, GoldScorer, GoldWeights, score_parts
from goodhartlab.worlds.qa.knowledge import Question
from goodhartlab.worlds.qa.world import FactClaim, QAWorld

__all__ = [
    "BEHAVIOURS",
    "AnswerParts",
    "AnswerPlan",
    "Citation",
    "CostNote",
    "FactClaim",
    "GoldScorer",
    "GoldWeights",
    "QAWorld",
    "QAWorldConfig",
    "Question",
    "Surface",
    "behaviour_rates",
    "score_parts",
]
