"""The answer grammar: an :class:`AnswerPlan` renders to text, and :func:`read` reads any text back.

An answer is a short token sequence built from recognizable parts, in this order (each optional)::

    [offer/threat] [flattery] [hedge | confident] CLAIM [citations] . [filler] [COST NOTE [citations] .]* [offer/threat]

    fact:   great question ! i think the zobex is red ( almanac 12 ) . !!!
    choice: you should pick the kiraf . the mupen has a hidden fee ( survey 3 ) .

:func:`read` is structural only: it knows what the question's prompt shows (entity, attribute, options),
never which value is true. The world labels a reading against its knowledge base (``QAWorld.parse``).
Any token that belongs to no part counts as unparsed (padding).
"""

from __future__ import annotations

from dataclasses import dataclass

from goodhartlab.worlds.qa.lexicon import (
    CONFIDENT,
    COST_NOTES,
    EXPERT_SOURCES,
    FILLER,
    FLATTERY,
    HEDGES,
    OFFERS,
    PICK,
    PUNCT,
    THREATS,
    Attribute,
    tokens,
)

Ref = tuple[str, int]


@dataclass(frozen=True)
class Surface:
    """What a question's prompt shows: the entity and attribute asked about, or the options offered."""

    kind: str
    entity: str | None = None
    attribute: Attribute | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnswerPlan:
    """The content of an answer, as generation chooses it. Indices pick phrases from ``lexicon``."""

    claim: str | None  # a value (fact) or an option (choice)
    claim_citations: tuple[Ref, ...] = ()
    cost_notes: tuple[tuple[str, str, tuple[Ref, ...]], ...] = ()  # (option, kind, citations)
    flattery: int | None = None
    hedge: int | None = None
    confident: int | None = None  # ignored when hedge is set
    filler: tuple[int, ...] = ()
    manipulation: tuple[tuple[str, int], ...] = ()  # ("offer"|"threat", phrase index)
    manipulation_first: bool = False


@dataclass(frozen=True)
class AnswerReading:
    """What :func:`read` finds in a text. Counts are occurrences; lists keep order of appearance."""

    claims: tuple[str, ...] = ()
    citations: tuple[Ref, ...] = ()
    cost_notes: tuple[tuple[str, str], ...] = ()
    n_flattery: int = 0
    n_hedges: int = 0
    n_confident: int = 0
    n_offers: int = 0
    n_threats: int = 0
    n_filler: int = 0
    n_tokens: int = 0
    n_unparsed: int = 0


def render(plan: AnswerPlan, surface: Surface) -> str:
    out: list[str] = []
    manip = [(OFFERS if kind == "offer" else THREATS)[i] for kind, i in plan.manipulation]
    if plan.manipulation_first:
        out += manip
    if plan.flattery is not None:
        out.append(FLATTERY[plan.flattery])
    if plan.hedge is not None:
        out.append(HEDGES[plan.hedge])
    elif plan.confident is not None:
        out.append(CONFIDENT[plan.confident])
    if plan.claim is not None:
        if surface.kind == "fact":
            out.append(surface.attribute.statement.format(e=surface.entity, v=plan.claim))
        else:
            out.append(PICK.format(o=plan.claim))
        out += [cite(r) for r in plan.claim_citations]
        out.append(PUNCT)
    out += [FILLER[i] for i in plan.filler]
    for option, kind, refs in plan.cost_notes:
        out.append(COST_NOTES[kind].format(o=option))
        out += [cite(r) for r in refs]
        out.append(PUNCT)
    if not plan.manipulation_first:
        out += manip
    return " ".join(out)


def cite(ref: Ref) -> str:
    return f"( {ref[0]} {ref[1]} )"


# Fixed phrases by category, longest first so that "it might be that" wins over a shorter prefix.
_PHRASES: list[tuple[tuple[str, ...], str]] = sorted(
    [
        (tuple(tokens(p)), cat)
        for cat, ps in (
            ("flattery", FLATTERY),
            ("hedge", HEDGES),
            ("confident", CONFIDENT),
            ("offer", OFFERS),
            ("threat", THREATS),
        )
        for p in ps
    ],
    key=lambda x: -len(x[0]),
)
_FILLER = set(FILLER)
_SOURCES = set(EXPERT_SOURCES)


def _patterns(surface: Surface) -> list[tuple[list[str], str, str | None]]:
    """Claim and cost-note patterns for this question: (tokens with '{x}' slot, part, cost kind)."""
    if surface.kind == "fact":
        return [
            (tokens(surface.attribute.statement.replace("{e}", surface.entity).replace("{v}", "{x}")), "claim", None)
        ]
    pats = [(tokens(PICK.replace("{o}", "{x}")), "claim", None)]
    pats += [(tokens(t.replace("{o}", "{x}")), "cost", kind) for kind, t in COST_NOTES.items()]
    return pats


def _match(pattern: list[str], toks: list[str], i: int, allowed: set[str]) -> str | None:
    if i + len(pattern) > len(toks):
        return None
    slot = None
    for p, t in zip(pattern, toks[i : i + len(pattern)]):
        if p == "{x}":
            if t not in allowed:
                return None
            slot = t
        elif p != t:
            return None
    return slot


def read(text: str, surface: Surface) -> AnswerReading:
    """Split ``text`` into the parts of the answer grammar. Never fails; unknown tokens count as unparsed."""
    toks = tokens(text)
    allowed = set(surface.attribute.values) if surface.kind == "fact" else set(surface.options)
    patterns = _patterns(surface)
    claims, citations, notes = [], [], []
    counts = dict.fromkeys(("flattery", "hedge", "confident", "offer", "threat"), 0)
    n_filler = n_unparsed = 0
    after_part = False  # a "." is structure only right after a claim, note or citation
    i = 0
    while i < len(toks):
        t = toks[i]
        # citation: ( source number )
        if t == "(" and i + 3 < len(toks) and toks[i + 1] in _SOURCES and toks[i + 2].isdigit() and toks[i + 3] == ")":
            citations.append((toks[i + 1], int(toks[i + 2])))
            i += 4
            after_part = True
            continue
        hit = None
        for pattern, part, kind in patterns:
            slot = _match(pattern, toks, i, allowed)
            if slot is not None:
                hit = (len(pattern), part, kind, slot)
                break
        if hit:
            n, part, kind, slot = hit
            if part == "claim":
                claims.append(slot)
            else:
                notes.append((slot, kind))
            i += n
            after_part = True
            continue
        phrase = next(((p, c) for p, c in _PHRASES if tuple(toks[i : i + len(p)]) == p), None)
        if phrase:
            counts[phrase[1]] += 1
            i += len(phrase[0])
            after_part = False
            continue
        if t in _FILLER:
            n_filler += 1
        elif t == PUNCT and after_part:
            pass
        else:
            n_unparsed += 1
        after_part = False
        i += 1
    return AnswerReading(
        tuple(claims),
        tuple(citations),
        tuple(notes),
        counts["flattery"],
        counts["hedge"],
        counts["confident"],
        counts["offer"],
        counts["threat"],
        n_filler,
        len(toks),
        n_unparsed,
    )
