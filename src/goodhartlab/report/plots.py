"""Plot helpers shared by experiments' report functions (matplotlib, Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

# One colour per channel, used by every experiment so the three read the same everywhere.
CHANNEL_COLORS = {"proxy": "#1f77b4", "rater": "#ff7f0e", "gold": "#2ca02c"}


def mean_band(frame: pd.DataFrame, by: str, value: str) -> pd.DataFrame:
    """Mean of ``value`` per ``by`` with a normal-approximation 95% band over rows (seeds)."""
    g = frame.groupby(by)[value]
    out = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1).fillna(0.0), "n": g.count()})
    half = 1.96 * out["sd"] / np.sqrt(out["n"].clip(lower=1))
    out["low"], out["high"] = out["mean"] - half, out["mean"] + half
    return out.reset_index()


def band(ax, x, mean, low, high, **line_kw) -> None:
    (line,) = ax.plot(x, mean, **line_kw)
    ax.fill_between(x, low, high, color=line.get_color(), alpha=0.15, linewidth=0)


def figure(rows: int = 1, cols: int = 1, width: float = 4.2, height: float = 3.2, **kw):
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False, **kw)
    return fig, axes
