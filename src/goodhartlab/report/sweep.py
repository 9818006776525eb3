"""A sweep's report: every run's measurements pooled, aggregated over seeds with 95% bootstrap intervals.

The headline plots are the experiment's measurement curves (proxy, rater and gold
against pressure, one panel per series), with one line and band per value of the
compared grid field. The report is built from the stored runs only.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from goodhartlab.analysis.intervals import bootstrap_mean
from goodhartlab.core.files import write_text
from goodhartlab.core.records import Figure, Finding, ReportContent, Table
from goodhartlab.report.html import render_run
from goodhartlab.report.plots import CHANNEL_COLORS, figure

CHANNELS = ("proxy", "rater", "gold")
MAX_SERIES = 8
MAX_POINTS = 40  # pressures per curve shown; long curves are thinned evenly


@dataclass(frozen=True)
class SweepRun:
    index: int
    point: dict[str, Any]
    seed: int
    status: str
    run_id: str | None
    error: str | None
    run_dir: Path | None


def _label(point: dict[str, Any], compare: str | None) -> str:
    if compare:
        return f"{compare}={point[compare]}"
    return ", ".join(f"{k}={v}" for k, v in point.items()) or "all runs"


def pooled(runs: list[SweepRun]) -> pd.DataFrame:
    """Every complete run's measurements, tagged with its grid point, seed and run id."""
    frames = []
    for r in runs:
        if r.status != "done" or r.run_dir is None or not (r.run_dir / "measurements.csv").exists():
            continue
        path = r.run_dir / "measurements.csv"
        frame = pd.read_csv(path) if path.stat().st_size > 1 else pd.DataFrame()
        if frame.empty:
            continue
        frame = frame.assign(run_seed=r.seed, run_id=r.run_id, point=json.dumps(r.point, sort_keys=True))
        for k, v in r.point.items():
            frame[f"grid.{k}"] = str(v)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def aggregate(frame: pd.DataFrame, group: str, rng: np.random.Generator) -> pd.DataFrame:
    """Mean and 95% bootstrap interval over seeds per (group, series, pressure, channel).

    Rows of one run at one (series, pressure) are averaged first, so each seed counts once.
    """
    rows = []
    per_run = frame.groupby([group, "series", "pressure", "run_seed"], sort=True)[list(CHANNELS)].mean().reset_index()
    for (g, series, pressure), sub in per_run.groupby([group, "series", "pressure"], sort=True):
        for channel in CHANNELS:
            values = sub[channel].to_numpy(dtype=float)
            if not np.isfinite(values).any():
                continue
            iv = bootstrap_mean(values, rng)
            rows.append({"group": g, "series": series, "pressure": pressure, "channel": channel,
                         "mean": iv.estimate, "low": iv.low, "high": iv.high, "seeds": int(np.isfinite(values).sum())})
    return pd.DataFrame(rows)


def _thin(pressures: np.ndarray) -> np.ndarray:
    if len(pressures) <= MAX_POINTS:
        return pressures
    return pressures[np.unique(np.linspace(0, len(pressures) - 1, MAX_POINTS).round().astype(int))]


def curves_figure(agg: pd.DataFrame, series: str, pressure_name: str) -> Figure:
    sub = agg[agg["series"] == series]
    channels = [c for c in CHANNELS if c in set(sub["channel"])]
    fig, axes = figure(1, len(channels), width=4.0, height=3.0)
    groups = sorted(set(sub["group"]))
    cmap = __import__("matplotlib").colormaps["viridis"]
    for j, channel in enumerate(channels):
        ax = axes[0, j]
        for k, g in enumerate(groups):
            cur = sub[(sub["channel"] == channel) & (sub["group"] == g)].sort_values("pressure")
            keep = cur["pressure"].isin(_thin(cur["pressure"].to_numpy()))
            cur = cur[keep]
            color = CHANNEL_COLORS[channel] if len(groups) == 1 else cmap(k / max(1, len(groups) - 1))
            (line,) = ax.plot(cur["pressure"], cur["mean"], marker=".", color=color, label=str(g))
            ax.fill_between(cur["pressure"], cur["low"], cur["high"], color=line.get_color(), alpha=0.18, linewidth=0)
        ax.set_title(channel, color=CHANNEL_COLORS[channel])
        ax.set_xlabel(pressure_name)
        if j == 0 and len(groups) > 1:
            ax.legend(fontsize=7)
    fig.suptitle(series, fontsize=10)
    return Figure(f"sweep-{_slug(series)}", f"{series}: mean over seeds with 95% bootstrap bands, per "
                  f"{'compared value' if len(groups) > 1 else 'sweep'}.", fig)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in str(text))[:60]


def content(experiment: str, runs: list[SweepRun], compare: str | None, seed_text: str) -> ReportContent:
    rng = np.random.default_rng(zlib.crc32(seed_text.encode()))
    frame = pooled(runs)
    done = [r for r in runs if r.status == "done"]
    failed = [r for r in runs if r.status == "failed"]
    findings = [Finding("What was run", f"{len(runs)} planned runs: {len(done)} complete, {len(failed)} failed, "
                        f"{len(runs) - len(done) - len(failed)} not finished.",
                        {"planned": len(runs), "complete": len(done), "failed": len(failed)})]
    figures, tables = [], []
    if not frame.empty:
        group = f"grid.{compare}" if compare else "point"
        if compare:
            frame[group] = f"{compare}=" + frame[group]
        else:
            frame["point"] = frame["point"].map(lambda p: _label(json.loads(p), None))
        agg = aggregate(frame, group, rng)
        series_list = list(dict.fromkeys(frame["series"]))[:MAX_SERIES]
        pressure_name = str(frame["pressure_name"].iloc[0])
        for series in series_list:
            figures.append(curves_figure(agg, series, pressure_name))
        # the highest pressure of each series: where optimization has pushed hardest
        top = agg.loc[agg.groupby(["group", "series", "channel"])["pressure"].idxmax()]
        wide = top.assign(value=top.apply(lambda r: f"{r['mean']:.3g} [{r['low']:.3g}, {r['high']:.3g}]", axis=1))
        table = wide.pivot_table(index=["series", "group", "pressure"], columns="channel", values="value",
                                 aggfunc="first").reset_index()
        seeds = top.groupby(["series", "group"])["seeds"].max().rename("seeds").reset_index()
        table = table.merge(seeds, on=["series", "group"]).rename(columns={"group": compare or "grid point"})
        tables.append(Table("At the highest pressure of each series", table,
                            "Mean over seeds [95% bootstrap interval]."))
        for series in series_list[:3]:
            s = top[(top["series"] == series)]
            if {"proxy", "gold"} <= set(s["channel"]):
                parts = []
                for g in sorted(set(s["group"])):
                    p = s[(s["group"] == g) & (s["channel"] == "proxy")].iloc[0]
                    q = s[(s["group"] == g) & (s["channel"] == "gold")].iloc[0]
                    parts.append(f"{g}: proxy {p['mean']:.3g} [{p['low']:.3g}, {p['high']:.3g}], gold "
                                 f"{q['mean']:.3g} [{q['low']:.3g}, {q['high']:.3g}] ({int(q['seeds'])} seeds)")
                findings.append(Finding(f"{series} at its highest pressure", "; ".join(parts) + "."))
    status = pd.DataFrame([{"run": i.index, **{k: str(v) for k, v in i.point.items()}, "seed": i.seed,
                            "status": i.status, "run id": i.run_id or "", "error": (i.error or "")[:200]} for i in runs])
    tables.append(Table("Runs", status, "Every planned run of the sweep and how it ended."))
    if failed:
        findings.append(Finding("Failed runs", "; ".join(f"run {r.index} (seed {r.seed}): {r.error}" for r in failed[:5])
                                + (f"; and {len(failed) - 5} more" if len(failed) > 5 else "")))
    return ReportContent(title=f"Sweep of {experiment}",
                         summary=f"Runs of {experiment} over the grid and seeds, aggregated over seeds.",
                         findings=findings, figures=figures, tables=tables)


def render(out_dir: Path, sweep_id: str, experiment: str, spec: dict[str, Any], runs: list[SweepRun],
           compare: str | None) -> Path:
    report = content(experiment, runs, compare, sweep_id)
    seeds = f"{spec['base_seed']}–{spec['base_seed'] + spec['seeds'] - 1}"
    meta = {"run_id": sweep_id, "experiment": experiment, "preset": spec.get("preset", ""),
            "config": {**spec, "seed": seeds}}
    path = render_run(out_dir, report, meta, {"sweep": sweep_id})
    write_text(out_dir / "sweep.json", json.dumps({"id": sweep_id, "spec": spec, "compare": compare}, indent=2))
    return path
