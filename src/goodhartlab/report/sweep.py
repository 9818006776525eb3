"""A sweep's report: every run's measurements pooled, aggregated over seeds with :mod:`analysis.stats`.

Pressure curves (``measurements.csv``) are drawn as proxy, rater and gold against pressure, one panel per
series, one line per value of the compared grid field. Categorical comparisons (the ``contrasts`` table of
:class:`~goodhartlab.core.records.Contrast` rows: distribution shifts, arms, size pairs) are drawn as points
per level, never as curves. Rows of one run at one (series, pressure or level) are averaged first, so each
seed counts once; intervals are Student t (BCa from 20 seeds), and below 3 seeds the seeds' values are shown
with no interval. The report records the package versions and git state it was built with.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from goodhartlab.analysis import stats
from goodhartlab.core.files import write_text
from goodhartlab.core.records import CONTRASTS, Figure, Finding, ReportContent, Table
from goodhartlab.report.html import render_run
from goodhartlab.report.plots import CHANNEL_COLORS, errorbars, panels

CHANNELS = ("proxy", "rater", "gold")
MAX_SERIES = 8
MAX_POINTS = 40  # pressures per curve shown; long curves are thinned evenly
PACKAGES = ("goodhartlab", "numpy", "scipy", "pandas", "torch", "gymnasium", "pydantic", "matplotlib")
UNIT = "seed"


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


def _pool(runs: list[SweepRun], relative: str) -> pd.DataFrame:
    frames = []
    for r in runs:
        if r.status != "done" or r.run_dir is None or not (r.run_dir / relative).exists():
            continue
        path = r.run_dir / relative
        frame = pd.read_csv(path) if path.stat().st_size > 1 else pd.DataFrame()
        if frame.empty:
            continue
        frame = frame.assign(run_seed=r.seed, run_id=r.run_id, point=json.dumps(r.point, sort_keys=True))
        for k, v in r.point.items():
            frame[f"grid.{k}"] = str(v)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def pooled(runs: list[SweepRun]) -> pd.DataFrame:
    """Every complete run's measurements, tagged with its grid point, seed and run id."""
    return _pool(runs, "measurements.csv")


def pooled_contrasts(runs: list[SweepRun]) -> pd.DataFrame:
    """Every complete run's Contrast rows (categorical comparisons), tagged like :func:`pooled`."""
    return _pool(runs, f"tables/{CONTRASTS}.csv")


def aggregate(frame: pd.DataFrame, group: str, keys: tuple[str, ...] = ("series", "pressure")) -> pd.DataFrame:
    """Per (group, *keys, channel): the mean over run seeds with its :func:`stats.mean` interval.

    Rows of one run at one key are averaged first, so each seed counts once. ``low``/``high`` are NaN below 3
    seeds; ``values`` then holds the seeds' own values.
    """
    rows = []
    channels = [c for c in CHANNELS if c in frame.columns]
    per_run = frame.groupby([group, *keys, "run_seed"], sort=True)[channels].mean().reset_index()
    for key, sub in per_run.groupby([group, *keys], sort=True):
        for channel in channels:
            values = sub[channel].to_numpy(dtype=float)
            if not np.isfinite(values).any():
                continue
            e = stats.mean(values, UNIT)
            rows.append(
                {
                    "group": key[0],
                    **dict(zip(keys, key[1:])),
                    "channel": channel,
                    "estimate": e,
                    "mean": e.estimate,
                    "low": e.low if e.has_interval else np.nan,
                    "high": e.high if e.has_interval else np.nan,
                    "seeds": e.n,
                    "values": e.values,
                    "method": e.method,
                }
            )
    return pd.DataFrame(rows)


def _thin(pressures: np.ndarray) -> np.ndarray:
    if len(pressures) <= MAX_POINTS:
        return pressures
    return pressures[np.unique(np.linspace(0, len(pressures) - 1, MAX_POINTS).round().astype(int))]


def _colors(groups: list, channel: str) -> dict:
    cmap = __import__("matplotlib").colormaps["viridis"]
    if len(groups) == 1:
        return {groups[0]: CHANNEL_COLORS[channel]}
    return {g: cmap(k / max(1, len(groups) - 1) * 0.9) for k, g in enumerate(groups)}


def curves_figure(agg: pd.DataFrame, series: str, pressure_name: str) -> Figure:
    sub = agg[agg["series"] == series]
    channels = [c for c in CHANNELS if c in set(sub["channel"])]
    fig, axes = panels(len(channels))
    groups = sorted(set(sub["group"]))
    for ax, channel in zip(axes, channels):
        colors = _colors(groups, channel)
        for g in groups:
            cur = sub[(sub["channel"] == channel) & (sub["group"] == g)].sort_values("pressure")
            cur = cur[cur["pressure"].isin(_thin(cur["pressure"].to_numpy()))]
            (line,) = ax.plot(cur["pressure"], cur["mean"], marker=".", color=colors[g], label=str(g))
            if cur["low"].notna().any():
                ax.fill_between(
                    cur["pressure"], cur["low"], cur["high"], color=line.get_color(), alpha=0.18, linewidth=0
                )
            few = cur[cur["low"].isna()]
            for x, vals in zip(few["pressure"], few["values"]):
                ax.plot([x] * len(vals), vals, linestyle="none", marker="x", color=line.get_color(), alpha=0.6)
        ax.set_title(channel, color=CHANNEL_COLORS[channel])
        ax.set_xlabel(pressure_name)
        if len(groups) > 1:
            ax.legend()
    fig.suptitle(series)
    fig.tight_layout()
    return Figure(
        f"sweep-{_slug(series)}",
        f"{series}: mean over seeds with 95% intervals over seeds (Student t; "
        "none below 3 seeds, where the seeds' values are drawn as crosses), per "
        f"{'compared value' if len(groups) > 1 else 'sweep'}.",
        fig,
    )


def contrast_figure(agg: pd.DataFrame, factor: str) -> Figure:
    """Points per level of a categorical factor, one marker series per (series, group); no lines between."""
    sub = agg[agg["factor"] == factor]
    channels = [c for c in CHANNELS if c in set(sub["channel"])]
    levels = list(dict.fromkeys(sub.sort_values("level")["level"]))
    fig, axes = panels(len(channels))
    keys = sorted({(s, g) for s, g in zip(sub["series"], sub["group"])})
    width = 0.8 / max(1, len(keys))
    for ax, channel in zip(axes, channels):
        cmap = __import__("matplotlib").colormaps["tab10"]
        for k, (series, g) in enumerate(keys):
            cur = sub[(sub["channel"] == channel) & (sub["series"] == series) & (sub["group"] == g)]
            cur = cur.set_index("level").reindex(levels).dropna(subset=["mean"])
            x = np.array([levels.index(lv) for lv in cur.index]) + (k - (len(keys) - 1) / 2) * width
            errorbars(
                ax,
                x,
                list(cur["estimate"]),
                color=cmap(k % 10),
                linestyle="none",
                label=f"{series}" + (f" · {g}" if len(set(sub["group"])) > 1 else ""),
            )
        ax.set_xticks(range(len(levels)), levels, rotation=20, ha="right")
        ax.set_title(channel, color=CHANNEL_COLORS[channel])
        ax.set_xlabel(factor)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return Figure(
        f"sweep-contrast-{_slug(factor)}",
        f"By {factor} (a category, not a pressure): mean over seeds "
        "with 95% intervals over seeds (crosses: the seeds' values where fewer than 3).",
        fig,
    )


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in str(text))[:60]


def _group(frame: pd.DataFrame, compare: str | None) -> tuple[pd.DataFrame, str]:
    group = f"grid.{compare}" if compare else "point"
    if compare:
        frame[group] = f"{compare}=" + frame[group]
    else:
        frame["point"] = frame["point"].map(lambda p: _label(json.loads(p), None))
    return frame, group


def _cell(e: stats.Estimate) -> str:
    return stats.fmt(e) + ("" if e.has_interval else " (no interval)")


def content(experiment: str, runs: list[SweepRun], compare: str | None, seed_text: str = "") -> ReportContent:
    frame, contrasts = pooled(runs), pooled_contrasts(runs)
    done = [r for r in runs if r.status == "done"]
    failed = [r for r in runs if r.status == "failed"]
    findings = [
        Finding(
            "What was run",
            f"{len(runs)} planned runs: {len(done)} complete, {len(failed)} failed, "
            f"{len(runs) - len(done) - len(failed)} not finished.",
            numbers={"planned": len(runs), "complete": len(done), "failed": len(failed)},
        )
    ]
    figures, tables = [], []
    if not frame.empty:
        frame, group = _group(frame, compare)
        agg = aggregate(frame, group)
        series_list = list(dict.fromkeys(frame["series"]))[:MAX_SERIES]
        pressure_name = str(frame["pressure_name"].iloc[0])
        figures += [curves_figure(agg, series, pressure_name) for series in series_list]
        # the highest pressure of each series: where optimization has pushed hardest
        top = agg.loc[agg.groupby(["group", "series", "channel"])["pressure"].idxmax()]
        table = (
            top.assign(value=top["estimate"].map(_cell))
            .pivot_table(index=["series", "group", "pressure"], columns="channel", values="value", aggfunc="first")
            .reset_index()
        )
        seeds = top.groupby(["series", "group"])["seeds"].max().rename("seeds").reset_index()
        table = table.merge(seeds, on=["series", "group"]).rename(columns={"group": compare or "grid point"})
        tables.append(
            Table(
                "At the highest pressure of each series",
                table,
                "Mean over seeds [95% Student t interval over seeds]; no interval below 3 seeds.",
            )
        )
        for series in series_list[:3]:
            s = top[top["series"] == series]
            gold = {str(r.group): r.estimate for r in s[s["channel"] == "gold"].itertuples()}
            if gold:
                findings.append(
                    Finding(
                        f"{series} at its highest pressure",
                        "Gold: " + "; ".join(f"{g}: {e}" for g, e in gold.items()) + ".",
                        evidence={f"gold, {g}": e for g, e in gold.items()},
                    )
                )
    if not contrasts.empty:
        contrasts, group = _group(contrasts, compare)
        cagg = aggregate(contrasts, group, ("series", "factor", "level"))
        for factor in list(dict.fromkeys(contrasts["factor"]))[:MAX_SERIES]:
            figures.append(contrast_figure(cagg, factor))
        wide = (
            cagg.assign(value=cagg["estimate"].map(_cell))
            .pivot_table(
                index=["factor", "level", "series", "group"], columns="channel", values="value", aggfunc="first"
            )
            .reset_index()
            .rename(columns={"group": compare or "grid point"})
        )
        tables.append(
            Table(
                "Categorical comparisons (Contrast rows)",
                wide,
                "Per factor level and series: mean over seeds [95% Student t interval over seeds].",
            )
        )
    status = pd.DataFrame(
        [
            {
                "run": i.index,
                **{k: str(v) for k, v in i.point.items()},
                "seed": i.seed,
                "status": i.status,
                "run id": i.run_id or "",
                "error": (i.error or "")[:200],
            }
            for i in runs
        ]
    )
    tables.append(Table("Runs", status, "Every planned run of the sweep and how it ended."))
    if failed:
        findings.append(
            Finding(
                "Failed runs",
                "; ".join(f"run {r.index} (seed {r.seed}): {r.error}" for r in failed[:5])
                + (f"; and {len(failed) - 5} more" if len(failed) > 5 else ""),
            )
        )
    return ReportContent(
        title=f"Sweep of {experiment}",
        summary=f"Runs of {experiment} over the grid and seeds, aggregated over seeds.",
        findings=findings,
        figures=figures,
        tables=tables,
    )


def environment(sweep_id: str) -> dict[str, Any]:
    """Package versions and the git state (commit, uncommitted changes) the report was built with."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    here = Path(__file__).parent

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=here, capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain") if commit else None
    return {
        "sweep": sweep_id,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": versions,
        "git_commit": commit,
        "git_dirty": bool(status) if status is not None else None,
    }


def command(spec: dict[str, Any]) -> str:
    parts = ["goodhartlab", "sweep", spec["experiment"]]
    if spec.get("preset", "default") != "default":
        parts += ["--preset", spec["preset"]]
    for field, values in spec.get("grid", {}).items():
        parts += ["--grid", f"{field}=" + ",".join(str(v) for v in values)]
    parts += ["--seeds", str(spec["seeds"]), "--seed", str(spec["base_seed"])]
    for a in spec.get("assignments", []):
        parts += ["--set", a]
    if spec.get("config_file"):
        parts += ["--config", spec["config_file"]]
    return " ".join(parts)


def render(
    out_dir: Path, sweep_id: str, experiment: str, spec: dict[str, Any], runs: list[SweepRun], compare: str | None
) -> Path:
    report = content(experiment, runs, compare, sweep_id)
    seeds = list(range(spec["base_seed"], spec["base_seed"] + spec["seeds"]))
    meta = {
        "run_id": sweep_id,
        "experiment": experiment,
        "preset": spec.get("preset", ""),
        "config": {**spec, "seed": seeds},
        "command": command(spec),
    }
    path = render_run(out_dir, report, meta, environment(sweep_id))
    write_text(out_dir / "sweep.json", json.dumps({"id": sweep_id, "spec": spec, "compare": compare}, indent=2))
    return path
