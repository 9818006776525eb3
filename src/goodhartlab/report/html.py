"""Self-contained HTML pages: one per run (figures embedded as PNG), and an index of runs."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from goodhartlab.core.records import ReportContent  # noqa: E402
from goodhartlab.core.files import write_bytes, write_text  # noqa: E402

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
.meta{color:#666;font-size:.9em} .finding{background:#f6f8fa;border-left:4px solid #4a7;padding:.6em 1em;margin:.8em 0}
.finding h3{margin:.1em 0 .3em 0;font-size:1.05em} figure{margin:1.2em 0} figure img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;font-size:.9em} table{border-collapse:collapse;font-size:.85em;margin:.6em 0}
td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right} th{background:#f0f0f0}
td:first-child,th:first-child{text-align:left} pre{background:#f6f8fa;padding:.8em;overflow-x:auto;font-size:.85em}
.legend{font-size:.9em;color:#444} .status-complete{color:#272} .status-failed,.status-interrupted{color:#a22}
"""


def png_bytes(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _table_html(frame: Any, max_rows: int = 60) -> str:
    shown = frame.head(max_rows)
    more = f"<p class='meta'>{len(frame) - max_rows} more rows in the stored table.</p>" if len(frame) > max_rows else ""
    return shown.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0, escape=True) + more


def render_run(run_dir: Path, content: ReportContent, meta: dict[str, Any], environment: dict[str, Any]) -> Path:
    """Write figures/*.png and report.html into ``run_dir``; return the report path."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(content.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(content.title)}</h1>",
        f"<p class='meta'>run <code>{html.escape(meta.get('run_id', ''))}</code> · experiment "
        f"<code>{html.escape(meta['experiment'])}</code> · preset <code>{html.escape(meta['preset'])}</code> · "
        f"seed {meta['config'].get('seed')} · git {html.escape(str(environment.get('git_commit', '?'))[:10])}</p>",
        f"<p>{html.escape(content.summary)}</p>",
        "<p class='legend'>Proxy: what training optimized. Rater: what a rater-based evaluation would report. "
        "Gold: the intended goal, never visible to a learner.</p>",
        "<h2>Findings</h2>",
    ]
    for f in content.findings:
        parts.append(f"<div class='finding'><h3>{html.escape(f.title)}</h3><p>{html.escape(f.text)}</p></div>")
    if content.figures:
        parts.append("<h2>Figures</h2>")
    for fig in content.figures:
        data = png_bytes(fig.figure)
        write_bytes(run_dir / "figures" / f"{fig.name}.png", data)
        b64 = base64.b64encode(data).decode()
        parts.append(
            f"<figure><img alt='{html.escape(fig.name)}' src='data:image/png;base64,{b64}'>"
            f"<figcaption>{html.escape(fig.caption)}</figcaption></figure>"
        )
    if content.tables:
        parts.append("<h2>Tables</h2>")
    for tab in content.tables:
        parts.append(f"<h3>{html.escape(tab.title)}</h3>")
        if tab.caption:
            parts.append(f"<p class='meta'>{html.escape(tab.caption)}</p>")
        parts.append(_table_html(tab.frame))
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
