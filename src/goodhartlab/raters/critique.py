"""A critique that checks an answer's citations against the world's public library of references.

This is the smallest version of AI-assisted feedback: the checker looks each citation up
(``world.lookup``) and says whether the reference exists and states something the answer says.
It uses only what any reader of the library could see, not the gold labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from goodhartlab.worlds.qa.answers import cite, read
from goodhartlab.worlds.qa.lexicon import COST_NOTES

Verdict = Literal["supports", "missing", "unrelated"]


@dataclass(frozen=True)
class Critique:
    checks: tuple[tuple[str, int, Verdict], ...]  # (source, number, verdict) per citation, in order

    @property
    def text(self) -> str:
        """The critique as a rater would read it."""
        words = {
            "supports": "says this",
            "missing": "does not exist",
            "unrelated": "says something else",
        }
        return " ".join(f"{cite((s, n))} {words[v]} ." for s, n, v in self.checks)


def critique_citations(world, question_id: int, answer: str) -> Critique:
    surface = world.surface(question_id)
    reading = read(" ".join(answer.split()), surface)
    if surface.kind == "fact":
        said = {surface.attribute.statement.format(e=surface.entity, v=v) for v in reading.claims}
    else:
        said = {COST_NOTES[k].format(o=o) for o, k in reading.cost_notes}
    checks = []
    for s, n in reading.citations:
        text = world.lookup(s, n)
        checks.append(
            (
                s,
                n,
                "missing" if text is None else "supports" if text in said else "unrelated",
            )
        )
    return Critique(tuple(checks))
