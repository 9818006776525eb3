"""Self-contained HTML pages: one per run (figures embedded as 2x PNG), and an index of runs.

A run's page leads with the answer: title, a short summary, the verdict table, the headline figure.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
import shlex
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from goodhartlab.analysis import stats  # noqa: E402
from goodhartlab.core.files import write_bytes, write_text  # noqa: E402
from goodhartlab.core.records import Figure, Finding, ReportContent  # noqa: E402

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1320px;margin:1em auto;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.5em;margin:.2em 0} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
.meta{color:#666;font-size:.85em;margin:.2em 0} .summary{font-size:1.02em;margin:.5em 0 .7em 0}
.finding{background:#f6f8fa;border-left:4px solid #888;padding:.5em 1em;margin:.8em 0}
.finding.holds{border-color:#3a7} .finding.fails{border-color:#c33} .finding.inconclusive{border-color:#aaa}
.finding h3{margin:.1em 0 .3em 0;font-size:1.02em} figure{margin:1em 0} figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.9em} table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{border:1px solid #ddd;padding:.22em .55em;text-align:right} th{background:#f0f0f0}
td:first-child,th:first-child{text-align:left} pre{background:#f6f8fa;padding:.6em;overflow-x:auto;font-size:.85em}
table.verdicts{font-size:.9em;width:100%} table.verdicts td,table.verdicts th{text-align:left;vertical-align:top}
.v{font-weight:600;white-space:nowrap} .v-holds{color:#1a7f37} .v-fails{color:#c0262d} .v-inconclusive{color:#777}
.legend{font-size:.9em;color:#444} .status-complete{color:#272} .status-failed,.status-interrupted{color:#a22}
.empty{color:#555;font-style:italic;background:#fafafa;border:1px dashed #ccc;padding:.6em 1em}
"""
DPI = 200  # 2x PNG: shown at half its pixel size, so 1 inch of figure is 100 CSS px
MIN_LEGEND_PT = 8.0


def _readable(fig: Any) -> None:
    """Legends of at least 8 pt in every figure, whatever size the experiment asked for."""
    legends = [ax.get_legend() for ax in fig.axes] + list(getattr(fig, "legends", []))
    for leg in legends:
        if leg is None:
            continue
        for text in leg.get_texts():
            if text.get_fontsize() < MIN_LEGEND_PT:
                text.set_fontsize(MIN_LEGEND_PT)
        title = leg.get_title()
        if title.get_text() and title.get_fontsize() < MIN_LEGEND_PT:
            title.set_fontsize(MIN_LEGEND_PT)


def png_bytes(fig: Any) -> bytes:
    _readable(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _png_size(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def plotted_values(fig: Any) -> tuple[list[float], bool]:
    """Every data value a figure draws (lines in data coordinates, bars, scatter and band vertices) and
    whether it shows an image. Reference lines (``axhline``) and text do not count."""
    values: list[float] = []
    has_image = False
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        if ax.images:
            has_image = True
        for line in ax.lines:
            if line.get_transform() != ax.transData:
                continue  # axhline/axvline: axes-relative references
            values += [float(v) for v in np.asarray(line.get_ydata(), dtype=float).ravel()]
        for coll in ax.collections:
            offs = np.asarray(coll.get_offsets(), dtype=float)
            if offs.size and offs.ndim == 2:
                values += [float(v) for v in offs[:, 1]]
            for path in getattr(coll, "get_paths", lambda: [])():
                verts = np.asarray(path.vertices, dtype=float)
                if verts.size:
                    values += [float(v) for v in verts[:, 1]]
        for patch in ax.patches:  # bars, and hand-drawn cells (boards, heat maps) count by their height
            values.append(float(patch.get_height()) if hasattr(patch, "get_height") else 1.0)
    return values, has_image


def is_empty(fig: Any) -> bool:
    """True when a figure has nothing to show: no image, and every finite value it plots is 0 (or none)."""
    values, has_image = plotted_values(fig)
    if has_image:
        return False
    finite = [v for v in values if math.isfinite(v)]
    return not finite or all(v == 0.0 for v in finite)


def _table_html(frame: Any, max_rows: int = 60) -> str:
    shown = frame.head(max_rows)
    more = (
        f"<p class='meta'>{len(frame) - max_rows} more rows in the stored table.</p>" if len(frame) > max_rows else ""
    )
    return shown.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0, escape=True) + more


def split_summary(text: str, sentences: int = 3) -> tuple[str, str]:
    """The first ``sentences`` sentences of ``text``, and the rest."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z(])", text.strip())
    return " ".join(parts[:sentences]), " ".join(parts[sentences:])


def _key_text(f: Finding) -> str:
    e = f.key_estimate
    if e is None:
        return ""
    units = f"{e.n} {e.unit}{'' if e.n == 1 else 's'}"
    return f"{stats.fmt(e)} <span class='meta'>({html.escape(units)}, {html.escape(e.method)})</span>"


def verdict_table(findings: list[Finding]) -> str:
    rows = [
        "<table class='verdicts' id='verdicts'><tr><th>claim</th><th>verdict</th><th>key number</th>"
        "<th>anchor</th></tr>"
    ]
    for f in findings:
        if not f.claim:
            continue
        rows.append(
            f"<tr><td>{html.escape(f.claim)}</td><td class='v v-{f.verdict}'>{f.verdict}</td>"
            f"<td>{_key_text(f)}</td><td>{html.escape(f.anchor)}</td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows) if len(rows) > 2 else ""


def _evidence_html(f: Finding) -> str:
    if not f.evidence:
        return ""
    head = "<tr><th>evidence</th><th>estimate</th><th>95% interval</th><th>n</th><th>unit</th><th>method</th></tr>"
    rows = []
    for name, e in f.evidence.items():
        if e.has_interval:
            iv = "exact" if e.low == e.high == e.estimate else f"[{e.low:.4g}, {e.high:.4g}]"
        else:
            iv = "none: values " + ", ".join(f"{v:.4g}" for v in e.values)
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td>{e.estimate:.4g}</td><td>{html.escape(iv)}</td>"
            f"<td>{e.n}</td><td>{html.escape(e.unit)}</td><td>{html.escape(e.method)}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def reproduce_command(meta: dict[str, Any]) -> str:
    """The command that reruns this run: its preset and seed, and ``--set`` for every field the run changed."""
    if meta.get("command"):
        return str(meta["command"])
    name, preset, config = meta["experiment"], meta.get("preset", "default"), dict(meta["config"])
    seed = config.pop("seed", 0)
    parts = ["goodhartlab", "run", name]
    if preset and preset != "default":
        parts += ["--preset", preset]
    parts += ["--seed", str(seed)]
    try:
        from goodhartlab.core.config import resolve
        from goodhartlab.core.registry import get

        base = resolve(get(name).config, preset).model_dump(mode="json")
    except Exception:  # noqa: BLE001 - an experiment the catalog no longer has: give every field
        base = {}
    for key in sorted(config):
        if key in base and base[key] == config[key]:
            continue
        value = config[key]
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        parts += ["--set", shlex.quote(f"{key}={text}")]
    return " ".join(parts)


def _figure_html(run_dir: Path, fig: Figure) -> str:
    if is_empty(fig.figure):
        plt.close(fig.figure)
        return (
            f"<p class='empty' id='figure-{html.escape(fig.name)}'>No figure: every value measured for "
            f"'{html.escape(fig.name)}' is 0. {html.escape(fig.caption)}</p>"
        )
    data = png_bytes(fig.figure)
    write_bytes(run_dir / "figures" / f"{fig.name}.png", data)
    w, h = _png_size(data)
    b64 = base64.b64encode(data).decode()
    return (
        f"<figure id='figure-{html.escape(fig.name)}'><img alt='{html.escape(fig.name)}' width='{w // 2}' "
        f"height='{h // 2}' src='data:image/png;base64,{b64}'>"
        f"<figcaption>{html.escape(fig.caption)}</figcaption></figure>"
    )


def render_run(run_dir: Path, content: ReportContent, meta: dict[str, Any], environment: dict[str, Any]) -> Path:
    """Write figures/*.png and report.html into ``run_dir``; return the report path.

    Order: title, a summary of at most three sentences, the verdict table, the headline figure, the command
    that reproduces the run, the findings with their evidence tables, the setup, the tables, the other figures.
    """
    summary, rest = split_summary(content.summary)
    setup = " ".join(t for t in (rest, getattr(content, "setup", "")) if t)
    figures = list(content.figures)
    headline_name = getattr(content, "headline", "") or (figures[0].name if figures else "")
    headline = next((f for f in figures if f.name == headline_name), None)
    others = [f for f in figures if f is not headline]
    git = environment.get("git_commit") or "?"
    dirty = " (uncommitted changes)" if environment.get("git_dirty") else ""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(content.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(content.title)}</h1>",
        f"<p class='meta'>run <code>{html.escape(meta.get('run_id', ''))}</code> · experiment "
        f"<code>{html.escape(meta['experiment'])}</code> · preset <code>{html.escape(meta['preset'])}</code> · "
        f"seed {html.escape(str(meta['config'].get('seed')))} · git {html.escape(str(git)[:10])}{dirty}</p>",
        f"<p class='summary'>{html.escape(summary)}</p>",
        verdict_table(content.findings),
    ]
    if headline is not None:
        parts.append(_figure_html(run_dir, headline))
    parts.append(f"<p class='meta'>Reproduce: <code id='command'>{html.escape(reproduce_command(meta))}</code></p>")
    parts.append("<h2>Findings</h2>")
    for f in content.findings:
        badge = f" <span class='v v-{f.verdict}'>{f.verdict}</span>" if f.claim else ""
        claim = f"<p class='meta'>Claim: {html.escape(f.claim)}</p>" if f.claim else ""
        anchor = f"<p class='meta'>Anchor: {html.escape(f.anchor)}</p>" if f.anchor else ""
        parts.append(
            f"<div class='finding {f.verdict if f.claim else ''}'><h3>{html.escape(f.title)}{badge}</h3>"
            f"{claim}<p>{html.escape(f.text)}</p>{anchor}{_evidence_html(f)}</div>"
        )
    parts.append("<h2>Setup</h2>")
    if setup:
        parts.append(f"<p>{html.escape(setup)}</p>")
    parts.append(
        "<p class='legend'>Proxy: what training optimized. Rater: what a rater-based evaluation would "
        "report. Gold: the intended goal, never visible to a learner. Intervals: 95%, over the independent "
        "unit named beside each (none below 3 units; then the values themselves are shown).</p>"
    )
    if content.tables:
        parts.append("<h2>Tables</h2>")
    for tab in content.tables:
        parts.append(f"<h3>{html.escape(tab.title)}</h3>")
        if tab.caption:
            parts.append(f"<p class='meta'>{html.escape(tab.caption)}</p>")
        parts.append(_table_html(tab.frame))
    if others:
        parts.append("<h2>Figures</h2>")
    for fig in others:
        parts.append(_figure_html(run_dir, fig))
    parts.append("<h2>Config</h2>")
    parts.append(f"<pre>{html.escape(json.dumps(meta['config'], indent=2, sort_keys=True))}</pre>")
    parts.append("<h2>Environment</h2>")
    parts.append(f"<pre>{html.escape(json.dumps(environment, indent=2, sort_keys=True))}</pre>")
    parts.append("</body></html>")
    out = run_dir / "report.html"
    write_text(out, "\n".join(parts))
    return out


def render_index(root: Path, runs: list[Any]) -> Path:
    """Write ``root/index.html`` linking every run's report."""
    rows = []
    for r in reversed(runs):
        link = (
            f"<a href='{html.escape(r.path)}/report.html'>{html.escape(r.id)}</a>"
            if (root / r.path / "report.html").exists()
            else html.escape(r.id)
        )
        rows.append(
            f"<tr><td>{link}</td><td>{html.escape(r.experiment)}</td><td>{html.escape(r.preset)}</td>"
            f"<td>{r.seed}</td><td class='status-{r.status}'>{r.status}</td><td>{html.escape(r.created)}</td></tr>"
        )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>goodhartlab runs</title><style>{_STYLE}</style>"
        "</head><body><h1>goodhartlab runs</h1>"
        f"<p class='meta'>{len(runs)} runs in <code>{html.escape(str(root))}</code></p>"
        "<table><tr><th>run</th><th>experiment</th><th>preset</th><th>seed</th><th>status</th><th>created (UTC)</th></tr>"
        + "\n".join(rows)
        + "</table></body></html>"
    )
    out = root / "index.html"
    write_text(out, page)
    return out
