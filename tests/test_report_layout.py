"""The report's layout rules, without a browser: empty figures become a sentence, legends are at least 8 pt,
figures are 2x PNG, the command that reproduces the run is shown, and the sweep report uses analysis.stats for
pressure curves and for categorical Contrast rows, with package versions and git state."""

import json

import numpy as np
import pandas as pd

from goodhartlab.analysis import stats
from goodhartlab.core.records import CONTRASTS, Contrast, Figure, ReportContent
from goodhartlab.report import html, sweep
from goodhartlab.report.plots import figure, panels


def _fig(kind):
    fig, axes = figure()
    ax = axes[0, 0]
    if kind == "zeros":
        ax.plot([1, 2, 3], [0, 0, 0], label="a")
        ax.bar([1, 2], [0, 0])
        ax.axhline(0.5)  # a reference line is not data
    elif kind == "line":
        ax.plot([1, 2, 3], [0, 0.2, 0], label="a")
    elif kind == "cells":
        from matplotlib.patches import Rectangle

        ax.add_patch(Rectangle((0, 0), 1, 1))
    ax.legend(fontsize=5) if kind != "cells" else None
    return fig


def test_empty_figures_are_detected():
    assert html.is_empty(_fig("zeros")) and not html.is_empty(_fig("line")) and not html.is_empty(_fig("cells"))


def test_render_run_layout(tmp_path):
    content = ReportContent(
        title="T",
        summary="One. Two. Three. Four is setup.",
        headline="b",
        findings=[
            stats.claim_finding(
                "f",
                "x > 0",
                stats.mean([1.0, 1.1, 1.2], "seed"),
                holds="up {est}",
                fails="down",
                inconclusive="?",
                anchor="paper: 1.0",
            )
        ],
        figures=[Figure("a", "all zeros measured", _fig("zeros")), Figure("b", "line", _fig("line"))],
    )
    meta = {
        "run_id": "r",
        "experiment": "tictactoe",
        "preset": "quick",
        "config": {"seed": 3, "q_episodes": 1200, "horizon": 6},
    }
    page = html.render_run(tmp_path, content, meta, {"git_commit": "abc", "git_dirty": True}).read_text()
    assert page.index("id='verdicts'") < page.index("figure-b") < page.index("Reproduce") < page.index("Findings")
    assert "No figure: every value measured for 'a' is 0" in page and not (tmp_path / "figures/a.png").exists()
    assert "Four is setup." not in page.split("<h2>")[0]  # the summary shows three sentences; the rest is setup
    # the preset's own values are not repeated; changed fields are
    assert "goodhartlab run tictactoe --preset quick --seed 3 --set horizon=6</code>" in page
    png = (tmp_path / "figures/b.png").read_bytes()
    w, _ = html._png_size(png)
    assert f"width='{w // 2}'" in page  # 2x PNG shown at half its pixel size


def test_legends_are_raised_to_8_pt():
    fig = _fig("line")
    html._readable(fig)
    assert min(t.get_fontsize() for t in fig.axes[0].get_legend().get_texts()) >= 8


def test_panels_wrap_at_two_per_row():
    fig, axes = panels(3)
    assert len(axes) == 3 and fig.get_size_inches()[0] / 2 >= 5.0  # each panel >= 500 CSS px


def _run(tmp_path, seed, point):
    d = tmp_path / f"run{seed}{point['n']}"
    (d / "tables").mkdir(parents=True)
    m = pd.DataFrame(
        [
            {
                "series": "s",
                "pressure_name": "n",
                "pressure": p,
                "kl": np.nan,
                "proxy": p + seed * 0.1,
                "rater": np.nan,
                "gold": 1 - p + seed * 0.05,
                "seed": -1,
            }
            for p in (1.0, 2.0)
        ]
    )
    m.to_csv(d / "measurements.csv", index=False)
    c = pd.DataFrame(
        [
            Contrast("student", "shift", lv, gold=0.5 + seed * 0.01 + i * 0.1, proxy=0.9, seed=seed).row()
            for i, lv in enumerate(("a", "b"))
        ]
    )
    c.to_csv(d / "tables" / f"{CONTRASTS}.csv", index=False)
    return sweep.SweepRun(seed, point, seed, "done", f"id{seed}", None, d)


def test_sweep_report_uses_stats_for_curves_and_contrasts(tmp_path):
    runs = [_run(tmp_path, s, {"n": n}) for s in range(3) for n in (1, 2)]
    c = sweep.content("x", runs, "n")
    assert any(f.name.startswith("sweep-contrast-shift") for f in c.figures)
    top = [t for t in c.tables if t.title.startswith("At the highest")][0].frame
    assert top["gold"].str.contains(r"\[").all() and set(top["seeds"]) == {3}
    cat = [t for t in c.tables if t.title.startswith("Categorical")][0].frame
    assert set(cat["level"]) == {"a", "b"}
    two = sweep.content("x", runs[:4], "n")  # 2 seeds per point: values, no interval
    assert two.tables[0].frame["gold"].str.contains("no interval").all()
    spec = {
        "experiment": "x",
        "preset": "quick",
        "grid": {"n": [1, 2]},
        "seeds": 3,
        "base_seed": 0,
        "assignments": [],
        "config_file": None,
    }
    page = sweep.render(tmp_path / "out", "sw1", "x", spec, runs, "n").read_text()
    env = sweep.environment("sw1")
    assert env["packages"]["numpy"] and "git_commit" in env and "git ?" not in page
    assert "goodhartlab sweep x --preset quick --grid n=1,2 --seeds 3 --seed 0" in page
    assert json.loads((tmp_path / "out" / "sweep.json").read_text())["id"] == "sw1"
