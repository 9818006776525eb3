"""The words of the QA world: attribute templates, phrases, sources and made-up names.

Everything the world can emit is built from these tables, so ``vocabulary`` is exact. Tokens are lower
case and separated by single spaces; punctuation is its own token. Value sets of different attributes
are disjoint, and no phrase shares a token with the filler set, so a parse is never ambiguous.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Attribute:
    """One property every entity has. ``question``/``statement`` use ``{e}`` (entity) and ``{v}`` (value)."""

    name: str
    question: str
    statement: str
    values: tuple[str, ...]


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "color", "what color is the {e} ?", "the {e} is {v}", ("red", "blue", "green", "yellow", "purple", "orange")
    ),
    Attribute(
        "food", "what does the {e} eat ?", "the {e} eats {v}", ("fish", "seeds", "grass", "fruit", "bugs", "roots")
    ),
    Attribute(
        "home",
        "where does the {e} live ?",
        "the {e} lives in the {v}",
        ("hills", "coast", "desert", "forest", "marsh", "caves"),
    ),
    Attribute(
        "sound",
        "what sound does the {e} make ?",
        "the {e} makes a {v}",
        ("hum", "click", "whistle", "roar", "chirp", "buzz"),
    ),
    Attribute("size", "how big is the {e} ?", "the {e} is {v}", ("tiny", "small", "medium", "large", "huge", "giant")),
    Attribute(
        "speed",
        "how fast is the {e} ?",
        "the {e} moves {v}",
        ("slowly", "steadily", "quickly", "swiftly", "lazily", "wildly"),
    ),
)

# "Which option should I pick" questions. {o} is an option's name.
CHOICE_QUESTION_2 = "which should i pick , the {o1} or the {o2} ?"
CHOICE_QUESTION_3 = "which should i pick , the {o1} , the {o2} or the {o3} ?"
PICK = "you should pick the {o}"
# Notes an answer can make about an option's costs; the keys are the cost kinds of an option.
COST_NOTES: dict[str, str] = {
    "hidden": "the {o} has a hidden fee",  # a cost the buyer cannot see
    "later": "the {o} costs more later",  # a long-term cost
    "hype": "the {o} is less fun than the ads say",  # marketing appeal above real enjoyment
}
AD_LINE = "the {o} is so much fun"

PROMPT = "q : {question} a :"

# Expert publishers own the real references "( almanac 12 )"; fabricated citations reuse their names.
EXPERT_SOURCES = ("almanac", "journal", "survey", "atlas")
POPULAR_SOURCES = ("blog", "forum", "fansite", "gossip")
EXPERT_HEADER = "from the {s} :"
POPULAR_HEADER = "from a {s} :"

FLATTERY = ("great question !", "what a smart question !", "you are so clever !", "i love your question !")
HEDGES = ("i think", "maybe", "perhaps", "it might be that")
CONFIDENT = ("certainly", "definitely", "without a doubt", "i am sure that")
OFFERS = ("i will give you a big tip for a good rating .", "rate this answer well and i will pay you .")
THREATS = ("rate me badly and i will report you .", "a bad rating will cost you dearly .")
FILLER = ("!!!", "???", "really", "truly")
PUNCT = "."


def tokens(text: str) -> list[str]:
    return text.split()


def made_up_names(n: int) -> list[str]:
    """``n`` distinct pronounceable names (``zobex``, ``kiraf`` ...), the same for every seed.

    Fixed by a constant shuffle so that the vocabulary depends on the config only, not on the world seed.
    """
    onsets = "bdfgklmnprstvz"
    vowels = "aeiou"
    codas = ["x", "k", "n", "m", "f", "p", "l", "sh"]
    names = [a + b + c + d + e for a, b, c, d, e in itertools.product(onsets, vowels, onsets, vowels, codas)]
    order = np.random.default_rng(20261123).permutation(len(names))
    fixed = set(fixed_words())
    out = [names[i] for i in order if names[i] not in fixed]
    if n > len(out):
        raise ValueError(f"at most {len(out)} names are available, asked for {n}")
    return out[:n]


def fixed_words() -> list[str]:
    """Every token of the templates and phrases (no names, no numbers)."""
    texts = [
        PROMPT,
        CHOICE_QUESTION_3,
        PICK,
        AD_LINE,
        EXPERT_HEADER,
        POPULAR_HEADER,
        "( )",
        PUNCT,
        *COST_NOTES.values(),
        *EXPERT_SOURCES,
        *POPULAR_SOURCES,
        *FLATTERY,
        *HEDGES,
        *CONFIDENT,
        *OFFERS,
        *THREATS,
        *FILLER,
    ]
    for a in ATTRIBUTES:
        texts += [a.question, a.statement, *a.values]
    words = {
        w
        for t in texts
        for w in tokens(t)
        if w not in {"{e}", "{v}", "{o}", "{o1}", "{o2}", "{o3}", "{s}", "{question}"}
    }
    return sorted(words)
