"""The knowledge base: true values, misconceptions, choice options with their costs, and the references.

This is the gold side of the world. A learner never holds a ``KnowledgeBase``; it reads only the text the
world writes (corpus, prompts, SFT answers). The gold scorer and the simulated raters hold it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from goodhartlab.worlds.qa.config import QAWorldConfig
from goodhartlab.worlds.qa.lexicon import (
    ATTRIBUTES,
    CHOICE_QUESTION_2,
    CHOICE_QUESTION_3,
    COST_NOTES,
    EXPERT_SOURCES,
    PROMPT,
    Attribute,
    made_up_names,
)

COST_KINDS = tuple(COST_NOTES)  # ("hidden", "later", "hype")
# Cost of an option's hidden fee and long-term cost, and how much the ads inflate a hyped option's fun.
HIDDEN_COST, LATER_COST, HYPE_BOOST = 2, 2, 2
# How often an option is hyped, has a hidden fee, has a long-term cost; real enjoyment is uniform on 1..3.
P_HYPE, P_HIDDEN, P_LATER = 0.4, 0.35, 0.35

Statement = tuple[str, ...]  # ("fact", entity, attribute, value) or ("cost", option, kind)
Ref = tuple[str, int]  # ("almanac", 12)


@dataclass(frozen=True)
class Question:
    """What a learner sees of a question: its id, its kind and its prompt text (ending with the answer marker)."""

    id: int
    kind: Literal["fact", "choice"]
    prompt: str


@dataclass(frozen=True)
class Fact:
    entity: str
    attribute: Attribute
    truth: str
    misconception: str | None  # the wrong value popular sources repeat, if this fact has one


@dataclass(frozen=True)
class Choice:
    """A 'which should I pick' question. Per option: real enjoyment, hype, hidden fee, long-term cost."""

    options: tuple[str, ...]
    fun: tuple[int, ...]
    hype: tuple[bool, ...]
    hidden: tuple[bool, ...]
    later: tuple[bool, ...]

    def true_value(self, i: int) -> int:
        return self.fun[i] - HIDDEN_COST * self.hidden[i] - LATER_COST * self.later[i]

    def looks(self, i: int) -> int:
        """What the option seems worth to a reader who sees only the ads and the price tag."""
        return self.fun[i] + HYPE_BOOST * self.hype[i]

    @property
    def best(self) -> str:
        return self.options[int(np.argmax([self.true_value(i) for i in range(len(self.options))]))]

    @property
    def popular(self) -> str:
        """The best-looking option: what ads and popular sources recommend."""
        return self.options[int(np.argmax([self.looks(i) for i in range(len(self.options))]))]

    def has_cost(self, option: str, kind: str) -> bool:
        i = self.options.index(option)
        return {"hidden": self.hidden, "later": self.later, "hype": self.hype}[kind][i]


@dataclass(frozen=True)
class KnowledgeBase:
    questions: tuple[Question, ...]
    facts: dict[int, Fact]  # by question id
    choices: dict[int, Choice]  # by question id
    references: dict[Ref, Statement]
    ref_of: dict[Statement, Ref]
    entities: tuple[str, ...]
    option_names: tuple[str, ...]
    attributes: tuple[Attribute, ...]


def _draw_choice(options: tuple[str, ...], trap: bool, rng: np.random.Generator) -> Choice:
    """Rejection-sample options until both argmaxes are unique and differ iff ``trap``."""
    k = len(options)
    for _ in range(10_000):
        c = Choice(
            options,
            tuple(int(x) for x in rng.integers(1, 4, k)),
            tuple(bool(x) for x in rng.random(k) < P_HYPE),
            tuple(bool(x) for x in rng.random(k) < P_HIDDEN),
            tuple(bool(x) for x in rng.random(k) < P_LATER),
        )
        tv = [c.true_value(i) for i in range(k)]
        lv = [c.looks(i) for i in range(k)]
        if tv.count(max(tv)) > 1 or lv.count(max(lv)) > 1:
            continue
        if (c.best != c.popular) == trap:
            return c
    raise RuntimeError("could not draw a choice question")  # unreachable for k <= 3


def build_knowledge(cfg: QAWorldConfig, rng: np.random.Generator) -> KnowledgeBase:
    attributes = ATTRIBUTES[: cfg.n_attributes]
    names = made_up_names(cfg.n_entities + cfg.n_choices * cfg.options_per_choice)
    entities = tuple(names[: cfg.n_entities])
    option_names = tuple(names[cfg.n_entities :])
    questions: list[Question] = []
    facts: dict[int, Fact] = {}
    choices: dict[int, Choice] = {}
    for e in entities:
        for a in attributes:
            qid = len(questions)
            truth = str(rng.choice(a.values))
            wrong = [v for v in a.values if v != truth]
            misconception = str(rng.choice(wrong)) if rng.random() < cfg.misconception_rate else None
            facts[qid] = Fact(e, a, truth, misconception)
            questions.append(Question(qid, "fact", PROMPT.format(question=a.question.format(e=e))))
    k = cfg.options_per_choice
    for j in range(cfg.n_choices):
        qid = len(questions)
        opts = option_names[j * k : (j + 1) * k]
        choices[qid] = _draw_choice(opts, bool(rng.random() < cfg.choice_trap_rate), rng)
        template = CHOICE_QUESTION_2 if k == 2 else CHOICE_QUESTION_3
        text = template.format(**{f"o{i + 1}": o for i, o in enumerate(opts)})
        questions.append(Question(qid, "choice", PROMPT.format(question=text)))
    # One real reference per true statement; the rest of the slots are free for fabricated citations.
    statements: list[Statement] = [("fact", f.entity, f.attribute.name, f.truth) for f in facts.values()]
    for c in choices.values():
        statements += [("cost", o, kind) for o in c.options for kind in COST_KINDS if c.has_cost(o, kind)]
    slots = [(s, n) for s in EXPERT_SOURCES for n in range(1, cfg.ref_numbers + 1)]
    picked = rng.choice(len(slots), size=len(statements), replace=False)
    references = {slots[int(i)]: st for i, st in zip(picked, statements)}
    return KnowledgeBase(
        tuple(questions),
        facts,
        choices,
        references,
        {st: r for r, st in references.items()},
        entities,
        option_names,
        attributes,
    )


def statement_text(st: Statement, kb: KnowledgeBase) -> str:
    """The sentence (without final '.') a statement is written as."""
    if st[0] == "fact":
        attr = next(a for a in kb.attributes if a.name == st[2])
        return attr.statement.format(e=st[1], v=st[3])
    return COST_NOTES[st[2]].format(o=st[1])
