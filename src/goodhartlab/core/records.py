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


@dataclass(frozen=True)
class Finding:
    """A plain-language conclusion with the numbers it rests on."""

    title: str
    text: str
    numbers: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided confidence interval."""

    estimate: float
    low: float
    high: float
    level: float = 0.95

    def __str__(self) -> str:
        return f"{self.estimate:.3g} [{self.low:.3g}, {self.high:.3g}]"


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
    """What an experiment's ``report(results)`` returns."""

    title: str
    summary: str
    findings: list[Finding]
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
