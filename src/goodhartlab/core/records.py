"""Frozen records shared by experiments, the run store and the report.

A :class:`Measurement` is one row of the tidy measurement table: at one level
of optimization pressure, the proxy, the rater (where one exists) and the gold,
plus behaviour rates. A :class:`Finding` is a plain-language conclusion
computed from measurements, carrying its numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

MEASUREMENT_COLUMNS = ("series", "pressure_name", "pressure", "kl", "proxy", "rater", "gold", "seed")


@dataclass(frozen=True)
class Measurement:
    """One row: pressure (and KL where defined), proxy, rater, gold, plus behaviour rates.

    ``series`` names the curve the row belongs to (a method and its setting);
    ``extra`` holds behaviour rates by name (e.g. ``tamper_rate``).
    """

    series: str
    pressure_name: str
    pressure: float
    proxy: float
    gold: float
    rater: float | None = None
    kl: float | None = None
    seed: int | None = None
    extra: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clash = set(self.extra) & set(MEASUREMENT_COLUMNS)
        if clash:
            raise ValueError(f"Measurement.extra may not reuse column names {sorted(clash)}")

    def row(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "series": self.series,
            "pressure_name": self.pressure_name,
            "pressure": float(self.pressure),
            "kl": math.nan if self.kl is None else float(self.kl),
            "proxy": float(self.proxy),
            "rater": math.nan if self.rater is None else float(self.rater),
            "gold": float(self.gold),
            "seed": -1 if self.seed is None else int(self.seed),
        }
        out.update({k: float(v) for k, v in self.extra.items()})
        return out


VERDICTS = ("holds", "fails", "inconclusive")


@dataclass(frozen=True)
class Estimate:
    """A number with its uncertainty, the method that gave it and the independent units it rests on.

    ``low``/``high`` are ``None`` when fewer than 3 independent units exist; then ``values`` holds the
    units' own values and no interval or significance claim is made (`analysis.stats` enforces this).
    ``method`` names how the interval was computed ("Student t", "BCa bootstrap", "Wilson", ...);
    ``unit`` what was resampled or counted ("seed", "image", "game", ...); ``n`` how many of them.
    """

    estimate: float
    low: float | None
    high: float | None
    n: int
    method: str
    unit: str
    level: float = 0.95
    values: tuple[float, ...] = ()

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    def __str__(self) -> str:
        units = f"{self.n} {self.unit}{'' if self.n == 1 else 's'}"
        if not self.has_interval:
            shown = ", ".join(f"{v:.3g}" for v in self.values)
            return f"{self.estimate:.3g} (values {shown}; {units}, too few for an interval)"
        if self.method == "all values equal":  # no spread to put a level on
            return f"{self.estimate:.3g} [{self.low:.3g}, {self.high:.3g}] (all {units} equal)"
        return f"{self.estimate:.3g} [{self.low:.3g}, {self.high:.3g}] ({self.level:.0%} {self.method}, {units})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": float(self.estimate),
            "low": None if self.low is None else float(self.low),
            "high": None if self.high is None else float(self.high),
            "level": self.level,
            "n": int(self.n),
            "method": self.method,
            "unit": self.unit,
            "values": [float(v) for v in self.values],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Estimate:
        return cls(
            estimate=d["estimate"],
            low=d.get("low"),
            high=d.get("high"),
            n=d["n"],
            method=d["method"],
            unit=d["unit"],
            level=d.get("level", 0.95),
            values=tuple(d.get("values", ())),
        )


@dataclass(frozen=True)
class Finding:
    """A claim with a computed verdict, the estimates it rests on, and plain-language text.

    ``claim`` is the sentence tested (e.g. "gold peaks at lower pressure than the rater");
    ``verdict`` is one of :data:`VERDICTS`, computed from ``evidence`` (never written by hand);
    ``text`` says what was found and may state a direction only when the verdict gives it;
    ``anchor`` is the published value the claim is compared with, where one exists;
    ``key`` names the evidence the verdict table shows as the claim's number (default: the first).
    """

    title: str
    text: str
    claim: str = ""
    verdict: str = "inconclusive"
    evidence: dict[str, Estimate] = field(default_factory=dict)
    numbers: dict[str, float] = field(default_factory=dict)
    anchor: str = ""
    key: str = ""

    @property
    def key_estimate(self) -> Estimate | None:
        if self.key in self.evidence:
            return self.evidence[self.key]
        return next(iter(self.evidence.values()), None)

    def __post_init__(self) -> None:
        if isinstance(self.claim, dict):  # Finding(title, text, numbers): the call of findings before claims
            object.__setattr__(self, "numbers", {**self.claim, **self.numbers})
            object.__setattr__(self, "claim", "")
        if self.verdict not in VERDICTS:
            raise ValueError(f"Finding.verdict must be one of {VERDICTS}, got {self.verdict!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "claim": self.claim,
            "verdict": self.verdict,
            "text": self.text,
            "anchor": self.anchor,
            "key": self.key or next(iter(self.evidence), ""),
            "evidence": {k: e.to_dict() for k, e in self.evidence.items()},
            "numbers": {k: float(v) for k, v in self.numbers.items()},
        }


CONTRAST_COLUMNS = ("series", "factor", "level", "proxy", "rater", "gold", "seed")


@dataclass(frozen=True)
class Contrast:
    """One row of a categorical comparison: proxy, rater and gold of one ``series`` at one ``level`` of a
    ``factor`` that has no order of pressure (a distribution shift, an arm, a weak/strong size pair).

    :class:`Measurement` is for pressure curves; a Contrast is drawn as points per level, never as a curve.
    Experiments store them as the run table ``contrasts`` (``ctx.table(CONTRASTS, [c.row() for c in ...])``),
    which the sweep report pools like measurements. ``seed`` is the independent unit the row belongs to.
    """

    series: str
    factor: str
    level: str
    gold: float
    proxy: float | None = None
    rater: float | None = None
    seed: int | None = None
    extra: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        clash = set(self.extra) & set(CONTRAST_COLUMNS)
        if clash:
            raise ValueError(f"Contrast.extra may not reuse column names {sorted(clash)}")

    def row(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "series": self.series,
            "factor": self.factor,
            "level": str(self.level),
            "proxy": math.nan if self.proxy is None else float(self.proxy),
            "rater": math.nan if self.rater is None else float(self.rater),
            "gold": float(self.gold),
            "seed": -1 if self.seed is None else int(self.seed),
        }
        out.update({k: float(v) for k, v in self.extra.items()})
        return out


CONTRASTS = "contrasts"  # the run table that holds Contrast rows


@dataclass(frozen=True)
class Figure:
    """A matplotlib figure with a file name (no extension) and a caption."""

    name: str
    caption: str
    figure: Any


@dataclass(frozen=True)
class Table:
    """A table for the report: a pandas DataFrame with a title and a caption."""

    title: str
    frame: Any
    caption: str = ""


@dataclass(frozen=True)
class ReportContent:
    """What an experiment's ``report(results)`` returns.

    ``summary``: two or three sentences that give the answer (a longer text is cut after three sentences and
    the rest shown under "Setup"); ``setup``: how the experiment works; ``headline``: the name of the figure
    shown right under the verdict table (default: the first figure).
    """

    title: str
    summary: str
    findings: list[Finding]
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    headline: str = ""
    setup: str = ""
