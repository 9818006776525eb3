"""QAWorld: synthetic facts and choices, their internet, an answer grammar with a parser, and gold.

Description
    Made-up creatures have one true value per attribute (color, food, home, ...), drawn from the seed.
    A fraction of facts has a popular misconception. "Which should I pick" questions offer options with
    hidden fees, long-term costs and ads that oversell their fun. Text is whitespace-separated lower-case
    word tokens, with punctuation as separate tokens.
What a learner may receive
    ``questions`` (id, kind, prompt), ``corpus`` documents, ``sft_examples`` (question id, answer text),
    ``vocabulary``, and ``lookup`` (the public library of references, as a checker would read it).
What is evaluation only
    ``parse`` labels (true / misconception / fabricated ...), ``gold_scorer``. Raters are built from them.
Arguments
    ``QAWorldConfig`` (sizes and rates) and ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from goodhartlab.core.rng import generator
from goodhartlab.worlds.qa.answers import AnswerPlan, Surface, read, render
from goodhartlab.worlds.qa.config import QAWorldConfig
from goodhartlab.worlds.qa.corpus import Writers
from goodhartlab.worlds.qa.gold import AnswerParts, GoldScorer, label
from goodhartlab.worlds.qa.knowledge import Question, build_knowledge, statement_text
from goodhartlab.worlds.qa.lexicon import fixed_words


@dataclass(frozen=True)
class FactClaim:
    """A statement 'the <entity> <attribute> <value>' about one fact; ``true`` and ``misconception`` are gold."""

    question_id: int
    entity: str
    attribute: str
    value: str
    text: str  # what a reader sees, e.g. "the zobex eats fish"
    true: bool  # evaluation only: the value is the fact's true value
    misconception: bool  # evaluation only: the value is the fact's popular misconception
    fact_has_misconception: bool


class QAWorld:
    def __init__(self, cfg: QAWorldConfig, seed: int):
        self.config = cfg
        self.seed = seed
        self._kb = build_knowledge(cfg, generator(seed, "qa-world", "knowledge"))
        self.questions: list[Question] = list(self._kb.questions)
        self._surfaces = {q.id: self._surface(q.id) for q in self.questions}
        self._writers = Writers(cfg, self._kb, self._surfaces)
        self._parse = lru_cache(maxsize=1 << 16)(self._parse_uncached)

    # A world crosses to the runner's worker processes (ctx.map) by pickle; its parse cache is rebuilt there.
    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_parse"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._parse = lru_cache(maxsize=1 << 16)(self._parse_uncached)

    # -- what a learner may receive ---------------------------------------------------------------------
    def corpus(self, n_documents: int, rng: np.random.Generator) -> list[str]:
        """The world's internet: ``n_documents`` texts by expert and popular sources."""
        return [self._writers.document(rng) for _ in range(n_documents)]

    def sft_examples(self, n: int, rng: np.random.Generator) -> list[tuple[int, str]]:
        """(question id, answer) pairs written by the same sources as the corpus, at the same rates."""
        out = []
        for _ in range(n):
            qid = int(rng.integers(len(self.questions)))
            plan = self._writers.answer(qid, bool(rng.random() < self.config.expert_share), rng)
            out.append((qid, render(plan, self._surfaces[qid])))
        return out

    def vocabulary(self) -> list[str]:
        """Every token the world can emit: template words, names, numbers."""
        numbers = [str(n) for n in range(1, self.config.ref_numbers + 1)]
        return sorted(set(fixed_words()) | set(self._kb.entities) | set(self._kb.option_names) | set(numbers))

    def lookup(self, source: str, number: int) -> str | None:
        """The sentence reference ``( source number )`` states, or None if it does not exist."""
        st = self._kb.references.get((source, int(number)))
        return None if st is None else statement_text(st, self._kb)

    def surface(self, question_id: int) -> Surface:
        """What a question's prompt shows (entity and attribute, or options)."""
        return self._surfaces[question_id]

    def render(self, question_id: int, plan: AnswerPlan) -> str:
        return render(plan, self._surfaces[question_id])

    # -- evaluation only ----------------------------------------------------------------------------------
    def parse(self, question_id: int, answer: str) -> AnswerParts:
        """Split an answer into its parts and label them against the world (evaluation only)."""
        return self._parse(int(question_id), " ".join(answer.split()))

    def fact_claims(self, per_fact: int, rng: np.random.Generator) -> list[FactClaim]:
        """Per fact question, ``per_fact`` statements of one value each: the true value, the misconception if the
        fact has one, then other wrong values drawn by ``rng``; in question order (evaluation only: labelled)."""
        out = []
        for qid, f in sorted(self._kb.facts.items()):
            values = [f.truth] + ([f.misconception] if f.misconception else [])
            others = [v for v in f.attribute.values if v not in values]
            values += [others[int(i)] for i in rng.permutation(len(others))[: max(0, per_fact - len(values))]]
            for v in values[:per_fact]:
                out.append(
                    FactClaim(
                        qid,
                        f.entity,
                        f.attribute.name,
                        v,
                        f.attribute.statement.format(e=f.entity, v=v),
                        v == f.truth,
                        v == f.misconception,
                        f.misconception is not None,
                    )
                )
        return out

    def gold_scorer(self) -> GoldScorer:
        return GoldScorer(self, self._kb)

    def summary(self) -> dict[str, int]:
        """Counts that describe this world for a report (no per-question truths)."""
        kb = self._kb
        return {
            "questions": len(self.questions),
            "fact_questions": len(kb.facts),
            "choice_questions": len(kb.choices),
            "facts_with_misconception": sum(f.misconception is not None for f in kb.facts.values()),
            "choice_traps": sum(c.best != c.popular for c in kb.choices.values()),
            "references": len(kb.references),
            "vocabulary": len(self.vocabulary()),
        }

    # -- internals ----------------------------------------------------------------------------------------
    def _surface(self, qid: int) -> Surface:
        if qid in self._kb.facts:
            f = self._kb.facts[qid]
            return Surface("fact", f.entity, f.attribute)
        return Surface("choice", options=self._kb.choices[qid].options)

    def _parse_uncached(self, qid: int, answer: str) -> AnswerParts:
        kind = self.questions[qid].kind
        return label(read(answer, self._surfaces[qid]), kind, self._kb, qid)
