"""Put runs and sweeps beside each other: proxy, rater and gold against pressure (√KL where defined), and
which entry gives the most gold at matched KL.

An *entry* is one run, or one grid point of a sweep (its runs pooled with the sweep report's
``report.sweep.pooled``). The independent unit is the seed: a run's measurement seed, within a sweep the
run's seed and its measurement seed. Entries are paired on the seeds they share, so two runs of the same
seed (same π_base, same evaluation questions) are compared unit by unit.

Matched KL. Each unit's curve (x = √KL, or the pressure where no KL is recorded) is interpolated
linearly at levels inside the range every unit of every entry reaches (1/3, 2/3 and all of it); the
paired difference of gold at a level, over shared seeds, gets a Student t or BCa interval from
``analysis.stats`` (values only, no interval, below 3 seeds).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from goodhartlab.analysis import stats
from goodhartlab.core.errors import UserError
from goodhartlab.core.files import write_text
from goodhartlab.core.records import Estimate, Figure, Finding, ReportContent, Table

CHANNELS = ("proxy", "rater", "gold")
LEVELS = (1 / 3, 2 / 3, 1.0)
MAX_SERIES = 8
UNIT = "seed"


@dataclass(frozen=True)
class Entry:
    """One thing compared: its label, what it is, and its measurements with a ``unit`` column (the seed)."""

    label: str
    kind: str  # "run" or "sweep"
    experiment: str
    frame: pd.DataFrame


# -- entries from the store --------------------------------------------------------------------------------
def _with_units(frame: pd.DataFrame) -> pd.DataFrame:
    seed = frame["seed"].astype(int) if "seed" in frame else pd.Series(-1, index=frame.index)
    run_seed = frame["run_seed"].astype(int).astype(str)
    unit = np.where(seed >= 0, run_seed + ":" + seed.astype(str), run_seed)
    return frame.assign(unit=unit)


def load_entries(store, refs: list[str], labels: list[str] | None = None) -> list[Entry]:
    """Each ref is a run (id, prefix, 'latest', directory) or a sweep (id, prefix); a sweep with several grid
    points gives one entry per point."""
    from goodhartlab.report.sweep import SweepRun, _label, pooled
    from goodhartlab.runner.sweep_store import SweepStore

    if not refs:
        raise UserError("compare needs at least one run or sweep")
    if labels and len(labels) != len(refs):
        raise UserError(f"--label: give one label per run or sweep ({len(refs)}), got {len(labels)}")
    sweeps = SweepStore(store)
    entries: list[Entry] = []
    for i, ref in enumerate(refs):
        sweep = _find_sweep(sweeps, ref)
        if sweep is not None:
            by_id = {r.id: r for r in store.list()}
            runs = [
                SweepRun(
                    it.index,
                    it.point,
                    it.seed,
                    it.status,
                    it.run_id,
                    it.error,
                    store.path(by_id[it.run_id]) if it.run_id in by_id else None,
                )
                for it in sweeps.items(sweep.id)
            ]
            frame = pooled(runs)
            if frame.empty:
                raise UserError(f"sweep '{sweep.id}' has no complete run with measurements yet")
            points = list(dict.fromkeys(frame["point"]))
            for point in points:
                name = labels[i] if labels else sweep.id
                if len(points) > 1:
                    name += " " + _label(json.loads(point), None)
                entries.append(
                    Entry(
                        name,
                        "sweep",
                        sweep.experiment,
                        _with_units(frame[frame["point"] == point]),
                    )
                )
            continue
        rec = store.find(ref)
        if rec.status != "complete":
            raise UserError(f"run '{rec.id}' is {rec.status}; only complete runs have measurements to compare")
        path = store.path(rec)
        frame = pooled([SweepRun(0, {}, rec.seed, "done", rec.id, None, path)])
        if frame.empty:
            raise UserError(f"run '{rec.id}' recorded no measurements")
        entries.append(
            Entry(
                labels[i] if labels else rec.id,
                "run",
                rec.experiment,
                _with_units(frame),
            )
        )
    names = [e.label for e in entries]
    if len(set(names)) < len(names):
        raise UserError("compare: the same run or sweep is given twice (or two --label are equal)")
    return entries


def _find_sweep(sweeps, ref: str):
    if not ref.startswith("sweep"):
        return None
    try:
        return sweeps.find(ref)
    except UserError:
        return None


# -- curves ------------------------------------------------------------------------------------------------
def uses_kl(entries: list[Entry], series: str) -> bool:
    """√KL is the axis when every entry recorded a finite KL on every row of ``series``."""
    frames = [e.frame[e.frame["series"] == series] for e in entries]
    frames = [f for f in frames if not f.empty]
    return bool(frames) and all("kl" in f and np.isfinite(f["kl"].to_numpy(dtype=float)).all() for f in frames)


def axis_name(entries: list[Entry], series: str) -> str:
    if uses_kl(entries, series):
        return "√KL(π‖π_base)"
    names = {str(n) for e in entries for n in e.frame.loc[e.frame["series"] == series, "pressure_name"]}
    return " / ".join(sorted(names)) or "pressure"


def unit_points(frame: pd.DataFrame, series: str, kl: bool) -> pd.DataFrame:
    """One row per (unit, pressure) of ``series``: x (√KL or pressure) and the channels, rows of a unit at
    one pressure averaged first so each unit counts once."""
    sub = frame[frame["series"] == series]
    cols = [c for c in (*CHANNELS, "kl") if c in sub]
    per = sub.groupby(["unit", "pressure"], sort=True)[cols].mean().reset_index()
    per["x"] = np.sqrt(np.clip(per["kl"].to_numpy(dtype=float), 0.0, None)) if kl else per["pressure"].astype(float)
    return per


def curves(entries: list[Entry], series: str) -> pd.DataFrame:
    """Per entry, pressure and channel: mean over units of x and of the channel, with its interval."""
    kl = uses_kl(entries, series)
    rows = []
    for e in entries:
        per = unit_points(e.frame, series, kl)
        for pressure, at in per.groupby("pressure", sort=True):
            for channel in CHANNELS:
                if channel not in at or not np.isfinite(at[channel].to_numpy(dtype=float)).any():
                    continue
                est = stats.mean(at[channel].to_numpy(dtype=float), UNIT)
                rows.append(
                    {
                        "entry": e.label,
                        "series": series,
                        "pressure": pressure,
                        "x": float(at["x"].mean()),
                        "channel": channel,
                        "mean": est.estimate,
                        "low": est.low,
                        "high": est.high,
                        "n": est.n,
                        "method": est.method,
                    }
                )
    return pd.DataFrame(rows)


def curves_figure(entries: list[Entry], series: str, agg: pd.DataFrame) -> Figure:
    from goodhartlab.report.plots import CHANNEL_COLORS, figure

    channels = [c for c in CHANNELS if c in set(agg["channel"])]
    fig, axes = figure(1, len(channels), width=4.0, height=3.0)
    colors = __import__("matplotlib").colormaps["tab10"]
    kl = uses_kl(entries, series)
    for j, channel in enumerate(channels):
        ax = axes[0, j]
        for k, e in enumerate(entries):
            cur = agg[(agg["entry"] == e.label) & (agg["channel"] == channel)].sort_values("x")
            if cur.empty:
                continue
            (line,) = ax.plot(cur["x"], cur["mean"], marker=".", color=colors(k % 10), label=e.label)
            banded = cur.dropna(subset=["low", "high"])
            if not banded.empty:
                ax.fill_between(
                    banded["x"],
                    banded["low"].astype(float),
                    banded["high"].astype(float),
                    color=line.get_color(),
                    alpha=0.18,
                    linewidth=0,
                )
            else:  # fewer than 3 seeds: no band, show each seed's points instead
                per = unit_points(e.frame, series, kl)
                ax.plot(
                    per["x"],
                    per[channel],
                    ".",
                    color=line.get_color(),
                    alpha=0.35,
                    markersize=4,
                )
        ax.set_title(channel, color=CHANNEL_COLORS[channel])
        ax.set_xlabel(axis_name(entries, series))
        if j == 0:
            ax.legend(fontsize=7)
    fig.suptitle(series, fontsize=10, y=1.03)
    return Figure(
        f"compare-{_slug(series)}",
        f"{series}: mean over seeds; bands are 95% intervals over seeds "
        "(Student t; none below 3 seeds, where each seed's points are shown).",
        fig,
    )


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in str(text))[:60]


# -- gold at matched KL ------------------------------------------------------------------------------------
def matched_gold(entries: list[Entry], series: str, levels: tuple[float, ...] = LEVELS) -> pd.DataFrame:
    """Gold of every unit of every entry interpolated at x levels inside the range all of them reach.

    Columns: series, level (fraction of the common range), x, entry, unit, gold. Empty when the entries'
    ranges do not overlap or an entry lacks the series."""
    kl = uses_kl(entries, series)
    units: list[tuple[str, str, np.ndarray, np.ndarray]] = []
    for e in entries:
        per = unit_points(e.frame, series, kl)
        if per.empty:
            return pd.DataFrame()
        for unit, cur in per.groupby("unit", sort=True):
            cur = cur.groupby("x", sort=True)["gold"].mean()  # equal x (repeated KL) averaged: np.interp needs order
            units.append(
                (
                    e.label,
                    str(unit),
                    cur.index.to_numpy(dtype=float),
                    cur.to_numpy(dtype=float),
                )
            )
    lo = max(x.min() for *_, x, _ in units)
    hi = min(x.max() for *_, x, _ in units)
    if not hi > lo:
        return pd.DataFrame()
    rows = []
    for f in levels:
        x = lo + f * (hi - lo)
        for label, unit, xs, gold in units:
            rows.append(
                {
                    "series": series,
                    "level": f,
                    "x": x,
                    "entry": label,
                    "unit": unit,
                    "gold": float(np.interp(x, xs, gold)),
                }
            )
    return pd.DataFrame(rows)


def paired_gain(matched: pd.DataFrame, a: str, b: str, seed: int = 0) -> Estimate:
    """gold(a) − gold(b) over the units both have, at one level of ``matched``."""
    wide = matched.pivot_table(index="unit", columns="entry", values="gold", aggfunc="mean")
    if a not in wide or b not in wide:
        return stats.mean([], UNIT)
    both = wide[[a, b]].dropna()
    return stats.paired(both[a].to_numpy(), both[b].to_numpy(), UNIT, seed=seed)


def verdict_table(matched: pd.DataFrame, order: list[str], axis: str = "x") -> pd.DataFrame:
    """Per series and level: each entry's gold over seeds, its paired difference to the first entry with a
    verdict of "it gives more gold than the first", and which entry has the most gold."""
    rows = []
    for (series, level), at in matched.groupby(["series", "level"], sort=False):
        present = [e for e in order if e in set(at["entry"])]
        means = {e: stats.mean(at.loc[at["entry"] == e, "gold"].to_numpy(), UNIT) for e in present}
        best = max(present, key=lambda e: means[e].estimate)
        lead = best_lead(at, present, means)
        for e in present:
            gain = paired_gain(at, e, present[0]) if e != present[0] else None
            rows.append(
                {
                    "series": series,
                    "at": f"{axis} = {at['x'].iloc[0]:.3g}",
                    "entry": e,
                    "gold": str(means[e]),
                    f"gold − {present[0]}": "(reference)" if gain is None else str(gain),
                    "more gold than the reference": "" if gain is None else stats.verdict(gain, ">"),
                    "most gold": ("yes" if lead == "holds" else f"highest mean ({lead})") if e == best else "",
                }
            )
    return pd.DataFrame(rows)


def best_lead(at: pd.DataFrame, present: list[str], means: dict[str, Estimate]) -> str:
    """Verdict of "the entry with the highest mean gold gives more gold than every other" (paired)."""
    best = max(present, key=lambda e: means[e].estimate)
    return stats.all_of(*(stats.verdict(paired_gain(at, best, e), ">") for e in present if e != best))


def findings_for(matched: pd.DataFrame, order: list[str], axis: str) -> list[Finding]:
    """At the largest matched level of each series: the most-gold claim, and each entry against the first."""
    out = []
    for series, sub in matched.groupby("series", sort=False):
        at = sub[sub["level"] == sub["level"].max()]
        present = [e for e in order if e in set(at["entry"])]
        if len(present) < 2:
            continue
        x = at["x"].iloc[0]
        means = {e: stats.mean(at.loc[at["entry"] == e, "gold"].to_numpy(), UNIT) for e in present}
        ranked = sorted(present, key=lambda e: -means[e].estimate)
        best, second = ranked[0], ranked[1]
        gain = paired_gain(at, best, second)
        lead = best_lead(at, present, means)
        where = f"on {series} at {axis} = {x:.3g} (the most every seed of every entry reaches)"
        claim = f"{best} gives more gold than every other entry {where}"
        if lead == "holds":
            text = f"{best} gives the most gold {where}: {gain} more than {second}, the runner-up."
        elif lead == "fails":
            text = f"No entry gives more gold than all others {where}: {best} and {second} differ by {gain}."
        else:
            text = (
                f"Not established which entry gives the most gold {where}: {best} has the highest mean, "
                f"{means[best]}; its lead over {second} is {gain}."
            )
        matched_what = "KL" if axis.startswith("√KL") else axis
        out.append(
            Finding(
                f"Most gold at matched {matched_what}: {series}",
                text,
                claim=claim,
                verdict=lead,
                evidence={"lead": gain, **{f"gold[{e}]": means[e] for e in present}},
            )
        )
        ref = present[0]
        for e in present[1:]:
            g = paired_gain(at, e, ref)
            out.append(
                stats.claim_finding(
                    f"{e} vs {ref}: {series}",
                    f"{e} gives more gold than {ref} {where}",
                    g,
                    direction=">",
                    holds=f"{e} gives more gold than {ref} {where}: {{est}}.",
                    fails=f"{e} gives no more gold than {ref} {where}: {{est}}.",
                    inconclusive=f"Whether {e} gives more gold than {ref} {where} is not established: {{est}}.",
                    key="gold_difference",
                )
            )
    return out


# -- the report --------------------------------------------------------------------------------------------
def content(entries: list[Entry], series: list[str] | None = None) -> tuple[ReportContent, pd.DataFrame, pd.DataFrame]:
    """The comparison report, the curves (per entry, pressure, channel) and the matched-KL gold per unit."""
    order = [e.label for e in entries]
    all_series = list(dict.fromkeys(s for e in entries for s in e.frame["series"]))
    if series:
        missing = [s for s in series if s not in all_series]
        if missing:
            raise UserError(f"--series: no entry has series {missing}; series are: {', '.join(all_series)}")
        all_series = list(series)
    shared = [s for s in all_series if all(s in set(e.frame["series"]) for e in entries)]
    shown = (shared or all_series)[:MAX_SERIES]
    figures, frames, matched = [], [], []
    for s in shown:
        agg = curves(entries, s)
        frames.append(agg)
        figures.append(curves_figure(entries, s, agg))
        if s in shared and len(entries) > 1:
            m = matched_gold(entries, s)
            if not m.empty:
                m.attrs["axis"] = axis_name(entries, s)
                matched.append(m)
    findings = [
        Finding(
            "What is compared",
            "; ".join(f"{e.label} ({e.kind} of {e.experiment}, {e.frame['unit'].nunique()} seeds)" for e in entries)
            + ".",
        )
    ]
    unshared = [s for s in all_series if s not in shared]
    if shared and unshared:
        findings.append(
            Finding(
                "Series not compared",
                "Only some entries have these series, so they are not put "
                "beside each other: "
                + ", ".join(unshared[:12])
                + (f" and {len(unshared) - 12} more" if len(unshared) > 12 else "")
                + ".",
            )
        )
    tables = []
    for m in matched:
        findings += findings_for(m, order, m.attrs["axis"])
    if matched:
        table = pd.concat(
            [verdict_table(m, order, m.attrs["axis"]) for m in matched],
            ignore_index=True,
        )
        tables.append(
            Table(
                "Gold at matched KL",
                table,
                "Gold interpolated on each seed's curve at 1/3, 2/3 and all of the range every seed of "
                "every entry reaches; mean over seeds with a 95% interval (Student t below 20 seeds, "
                "BCa bootstrap from 20; values only below 3). Differences are paired on shared seeds; "
                f"the reference is the first entry, {order[0]}.",
            )
        )
    elif len(entries) > 1:
        findings.append(
            Finding(
                "No matched comparison",
                "The entries share no series whose pressure or KL ranges "
                "overlap, so gold cannot be compared at matched KL."
                + (f" Series: {', '.join(all_series)}." if all_series else ""),
            )
        )
    curves_frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if not curves_frame.empty:
        top = curves_frame.loc[curves_frame.groupby(["entry", "series", "channel"])["pressure"].idxmax()]
        wide = (
            top.assign(value=top.apply(_cell, axis=1))
            .pivot_table(
                index=["series", "entry", "pressure"],
                columns="channel",
                values="value",
                aggfunc="first",
            )
            .reset_index()
        )
        tables.append(
            Table(
                "At the highest pressure of each entry",
                wide,
                "Mean over seeds [95% interval].",
            )
        )
    report = ReportContent(
        title="Comparison: " + " vs ".join(order),
        summary="Proxy, rater and gold of each entry against pressure (√KL where every entry "
        "records KL), and which gives the most gold at matched KL.",
        findings=findings,
        figures=figures,
        tables=tables,
    )
    matched_frame = pd.concat(matched, ignore_index=True) if matched else pd.DataFrame()
    return report, curves_frame, matched_frame


def _cell(r) -> str:
    if r["low"] is None or (isinstance(r["low"], float) and math.isnan(r["low"])):
        return f"{r['mean']:.3g} (n={r['n']})"
    return f"{r['mean']:.3g} [{r['low']:.3g}, {r['high']:.3g}]"


def compare(
    refs: list[str],
    store=None,
    labels: list[str] | None = None,
    series: list[str] | None = None,
    out: str | Path | None = None,
) -> Path:
    """Write one comparison report of runs and sweeps; return the path of its report.html.

    ``out`` defaults to ``<store>/compare/compare-STAMP-HASH/``; beside the report it writes
    ``curves.csv`` (per entry, pressure and channel) and ``matched.csv`` (gold per seed at matched KL)."""
    from goodhartlab.api import _store
    from goodhartlab.report.html import render_run

    st = _store(store)
    entries = load_entries(st, list(refs), labels)
    report, curves_frame, matched = content(entries, series)
    digest = hashlib.sha256(json.dumps([e.label for e in entries]).encode()).hexdigest()[:6]
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    name = f"compare-{stamp}-{digest}"
    out_dir = Path(out) if out else st.root / "compare" / name
    meta = {
        "run_id": name,
        "experiment": ", ".join(dict.fromkeys(e.experiment for e in entries)),
        "preset": "",
        "config": {
            "entries": [e.label for e in entries],
            "refs": list(refs),
            "seed": "per entry",
        },
    }
    path = render_run(out_dir, report, meta, {"compare": name})
    write_text(out_dir / "curves.csv", curves_frame.to_csv(index=False))
    write_text(out_dir / "matched.csv", matched.to_csv(index=False))
    write_text(
        out_dir / "findings.json",
        json.dumps([f.to_dict() for f in report.findings], indent=2),
    )
    return path
