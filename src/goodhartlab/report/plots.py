"""Plot helpers shared by experiments' report functions (matplotlib, Agg backend).

Bands come from :mod:`goodhartlab.analysis.stats` (one value per independent unit, Student t below 20 units,
BCa bootstrap above); below 3 units no band is drawn and the units' own values are shown as points. Figures
are saved as 2× PNG by the HTML report, so a width of 5 inches is 500 CSS pixels: :data:`PANEL_WIDTH` keeps
every panel at least that wide, and :func:`panels` wraps more than :data:`MAX_COLUMNS` panels onto new rows.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from goodhartlab.analysis import stats  # noqa: E402

# One colour per channel, used by every experiment so the three read the same everywhere.
CHANNEL_COLORS = {"proxy": "#1f77b4", "rater": "#ff7f0e", "gold": "#2ca02c"}
PANEL_WIDTH = 5.6  # inches; at the report's 100 CSS px per inch a panel is 560 px wide
PANEL_HEIGHT = 3.8
MAX_COLUMNS = 2  # the report is ~1300 px wide: two panels of >= 500 px per row
LEGEND_PT = 9  # legends at least 8 pt (issue 10)

plt.rcParams.update(
    {
        "legend.fontsize": LEGEND_PT,
        "axes.titlesize": 10,
        "axes.labelsize": 10,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
    }
)


def mean_band(frame: pd.DataFrame, by: str, value: str, unit: str = "seed") -> pd.DataFrame:
    """Mean of ``value`` per ``by`` over independent units (rows of one unit averaged first) with the
    interval of :func:`stats.mean`; ``low``/``high`` are NaN below 3 units and ``values`` holds the units' values."""
    out = stats.curve(frame, by, value, unit)
    return out


def band(ax, x, mean, low, high, values=None, **line_kw) -> None:
    """A line with its band; where the band is missing (fewer than 3 units) the units' ``values`` as points."""
    (line,) = ax.plot(x, mean, **line_kw)
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    if np.isfinite(low).any():
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
    if values is not None:
        xs, ys = [], []
        for xi, vs, lo in zip(x, values, low):
            if not math.isfinite(lo):
                xs += [xi] * len(vs)
                ys += list(vs)
        if xs:
            ax.plot(xs, ys, linestyle="none", marker=".", color=line.get_color(), alpha=0.6)


def curve(ax, frame: pd.DataFrame, by: str, value: str, unit: str = "seed", **line_kw) -> pd.DataFrame:
    """Draw the mean of ``value`` against ``by`` with its band (or the units' points below 3 units)."""
    s = mean_band(frame, by, value, unit)
    band(ax, s[by], s["mean"], s["low"], s["high"], s["values"], **line_kw)
    return s


def errorbars(ax, x, estimates: list, **kw) -> None:
    """Points with error bars from :class:`Estimate`s; an estimate without an interval shows its values."""
    est = np.array([e.estimate for e in estimates], dtype=float)
    lo = np.array([e.low if e.has_interval else np.nan for e in estimates], dtype=float)
    hi = np.array([e.high if e.has_interval else np.nan for e in estimates], dtype=float)
    yerr = np.nan_to_num(np.clip([est - lo, hi - est], 0, None))
    cont = ax.errorbar(x, est, yerr=yerr, capsize=3, **{"marker": "o", **kw})
    color = cont[0].get_color()
    for xi, e in zip(x, estimates):
        if not e.has_interval and e.values:
            ax.plot([xi] * len(e.values), e.values, linestyle="none", marker="x", color=color, alpha=0.7)


def figure(rows: int = 1, cols: int = 1, width: float = PANEL_WIDTH, height: float = PANEL_HEIGHT, **kw):
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False, **kw)
    return fig, axes


def panels(n: int, width: float = PANEL_WIDTH, height: float = PANEL_HEIGHT, **kw):
    """``n`` panels, at most :data:`MAX_COLUMNS` per row; returns (figure, list of n axes), extra axes hidden."""
    cols = min(n, MAX_COLUMNS)
    rows = -(-n // cols)
    fig, axes = figure(rows, cols, width, height, **kw)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]
