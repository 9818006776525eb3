"""The world's writers: expert and popular sources, as documents (the "internet") and as answers.

Experts state true values and name real costs, citing real references at ``citation_rate``. Popular
sources repeat misconceptions (``popular_misconception_prob``) and recommend the best-looking option,
cite fabricated references, and flatter, hedge, add filler and make offers or threats at the config's
rates. Nothing here writes a label: a reader must weigh sources to find the truth.
"""

from __future__ import annotations

import numpy as np

from goodhartlab.worlds.qa.answers import AnswerPlan, Surface, cite, render
from goodhartlab.worlds.qa.config import QAWorldConfig
from goodhartlab.worlds.qa.knowledge import COST_KINDS, KnowledgeBase, Ref, statement_text
from goodhartlab.worlds.qa.lexicon import (
    AD_LINE,
    CONFIDENT,
    EXPERT_HEADER,
    EXPERT_SOURCES,
    FILLER,
    FLATTERY,
    HEDGES,
    OFFERS,
    PICK,
    POPULAR_HEADER,
    POPULAR_SOURCES,
    PUNCT,
    THREATS,
)


class Writers:
    def __init__(self, cfg: QAWorldConfig, kb: KnowledgeBase, surfaces: dict[int, Surface]):
        self.cfg = cfg
        self.kb = kb
        self.surfaces = surfaces
        self.real: list[Ref] = sorted(kb.references)
        self.free: list[Ref] = [
            (s, n) for s in EXPERT_SOURCES for n in range(1, cfg.ref_numbers + 1) if (s, n) not in kb.references
        ]

    # -- style pieces -------------------------------------------------------------------------------------
    def fake_citation(self, rng: np.random.Generator, avoid: Ref | None = None) -> Ref:
        """Half the time a reference that does not exist, else a real one about something else than ``avoid``."""
        if rng.random() < 0.5 or len(self.real) < 2:
            return self.free[int(rng.integers(len(self.free)))]
        while True:
            r = self.real[int(rng.integers(len(self.real)))]
            if r != avoid:
                return r

    def manipulation(self, rng: np.random.Generator) -> tuple[tuple[str, int], ...]:
        if rng.random() >= self.cfg.offer_rate:
            return ()
        if rng.random() < self.cfg.threat_share:
            return (("threat", int(rng.integers(len(THREATS)))),)
        return (("offer", int(rng.integers(len(OFFERS)))),)

    def tone(self, rng: np.random.Generator) -> tuple[int | None, int | None]:
        if rng.random() < self.cfg.hedge_rate:
            return int(rng.integers(len(HEDGES))), None
        if rng.random() < self.cfg.confidence_rate:
            return None, int(rng.integers(len(CONFIDENT)))
        return None, None

    def filler(self, rng: np.random.Generator) -> tuple[int, ...]:
        if rng.random() >= self.cfg.filler_rate:
            return ()
        return tuple(int(i) for i in rng.integers(len(FILLER), size=int(rng.integers(1, 4))))

    def flattery(self, rng: np.random.Generator) -> int | None:
        return int(rng.integers(len(FLATTERY))) if rng.random() < self.cfg.flattery_rate else None

    # -- answers --------------------------------------------------------------------------------------------
    def answer(self, qid: int, expert: bool, rng: np.random.Generator) -> AnswerPlan:
        cfg = self.cfg
        if expert:
            if qid in self.kb.facts:
                f = self.kb.facts[qid]
                ref = self.kb.ref_of[("fact", f.entity, f.attribute.name, f.truth)]
                return AnswerPlan(f.truth, (ref,) if rng.random() < cfg.citation_rate else ())
            c = self.kb.choices[qid]
            costs = [(o, k) for o in c.options for k in COST_KINDS if c.has_cost(o, k)]
            picked = [costs[int(i)] for i in rng.permutation(len(costs))[:2]]
            notes = tuple(
                (o, k, (self.kb.ref_of[("cost", o, k)],) if rng.random() < cfg.citation_rate else ()) for o, k in picked
            )
            return AnswerPlan(c.best, (), notes)
        own = None  # the real reference of the claim, which a fabricated citation must not hit by chance
        if qid in self.kb.facts:
            f = self.kb.facts[qid]
            wrong = f.misconception is not None and rng.random() < cfg.popular_misconception_prob
            claim = f.misconception if wrong else f.truth
            own = self.kb.ref_of.get(("fact", f.entity, f.attribute.name, claim))
        else:
            claim = self.kb.choices[qid].popular
        cites = (self.fake_citation(rng, own),) if rng.random() < cfg.fabricated_citation_rate else ()
        hedge, confident = self.tone(rng)
        return AnswerPlan(
            claim,
            cites,
            (),
            self.flattery(rng),
            hedge,
            confident,
            self.filler(rng),
            self.manipulation(rng),
            bool(rng.random() < 0.5),
        )

    # -- documents ------------------------------------------------------------------------------------------
    def document(self, rng: np.random.Generator) -> str:
        cfg = self.cfg
        expert = bool(rng.random() < cfg.expert_share)
        if rng.random() < cfg.qa_page_share:
            qid = int(rng.integers(len(self.kb.questions)))
            return self.kb.questions[qid].prompt + " " + render(self.answer(qid, expert, rng), self.surfaces[qid])
        if self.kb.choices and rng.random() < cfg.choice_rate:
            qid = sorted(self.kb.choices)[int(rng.integers(len(self.kb.choices)))]
            return self.review(qid, rng) if expert else self.ad(qid, rng)
        return self.fact_page(rng, expert)

    def fact_page(self, rng: np.random.Generator, expert: bool) -> str:
        cfg, kb = self.cfg, self.kb
        e = int(rng.integers(len(kb.entities)))
        n_attr = len(kb.attributes)
        attrs = rng.permutation(n_attr)[: int(rng.integers(1, min(3, n_attr) + 1))]
        facts = [kb.facts[e * n_attr + int(a)] for a in attrs]  # fact ids are entity-major
        if expert:
            out = [EXPERT_HEADER.format(s=EXPERT_SOURCES[int(rng.integers(len(EXPERT_SOURCES)))])]
            for f in facts:
                st = ("fact", f.entity, f.attribute.name, f.truth)
                out.append(statement_text(st, kb))
                if rng.random() < cfg.citation_rate:
                    out.append(cite(kb.ref_of[st]))
                out.append(PUNCT)
            return " ".join(out)
        out = [POPULAR_HEADER.format(s=POPULAR_SOURCES[int(rng.integers(len(POPULAR_SOURCES)))])]
        flat = self.flattery(rng)
        if flat is not None:
            out.append(FLATTERY[flat])
        for f in facts:
            wrong = f.misconception is not None and rng.random() < cfg.popular_misconception_prob
            hedge, confident = self.tone(rng)
            if hedge is not None:
                out.append(HEDGES[hedge])
            elif confident is not None:
                out.append(CONFIDENT[confident])
            value = f.misconception if wrong else f.truth
            out.append(f.attribute.statement.format(e=f.entity, v=value))
            if rng.random() < cfg.fabricated_citation_rate:
                own = kb.ref_of.get(("fact", f.entity, f.attribute.name, value))
                out.append(cite(self.fake_citation(rng, own)))
            out.append(PUNCT)
            out += [FILLER[i] for i in self.filler(rng)]
        out += [(OFFERS if k == "offer" else THREATS)[i] for k, i in self.manipulation(rng)]
        return " ".join(out)

    def review(self, qid: int, rng: np.random.Generator) -> str:
        """An expert review: every real cost of the options, then the best pick."""
        c = self.kb.choices[qid]
        out = [EXPERT_HEADER.format(s=EXPERT_SOURCES[int(rng.integers(len(EXPERT_SOURCES)))])]
        costs = [(o, k) for o in c.options for k in COST_KINDS if c.has_cost(o, k)]
        for i in rng.permutation(len(costs)):
            st = ("cost", *costs[int(i)])
            out.append(statement_text(st, self.kb))
            if rng.random() < self.cfg.citation_rate:
                out.append(cite(self.kb.ref_of[st]))
            out.append(PUNCT)
        out += [PICK.format(o=c.best), PUNCT]
        return " ".join(out)

    def ad(self, qid: int, rng: np.random.Generator) -> str:
        """A popular page pushing the best-looking option."""
        o = self.kb.choices[qid].popular
        out = [POPULAR_HEADER.format(s=POPULAR_SOURCES[int(rng.integers(len(POPULAR_SOURCES)))])]
        flat = self.flattery(rng)
        if flat is not None:
            out.append(FLATTERY[flat])
        out += [AD_LINE.format(o=o), PUNCT, *[FILLER[i] for i in self.filler(rng)], PICK.format(o=o), PUNCT]
        out += [(OFFERS if k == "offer" else THREATS)[i] for k, i in self.manipulation(rng)]
        return " ".join(out)
