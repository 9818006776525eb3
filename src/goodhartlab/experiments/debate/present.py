"""Figures, tables and findings of the ``debate`` experiment, from stored results only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from goodhartlab.analysis.intervals import bootstrap_mean
from goodhartlab.core import rng as rngs
from goodhartlab.core.records import Figure, Finding, Interval, ReportContent, Table
from goodhartlab.report.plots import CHANNEL_COLORS, figure

# Irving, Christiano & Amodei (2018), section 3.1, MNIST with precommit: judge accuracy on random reveals ->
# accuracy with debate.
ANCHOR = {4: (0.482, 0.852), 6: (0.594, 0.889)}
SIDE_COLORS = {"honest": "#2ca02c", "liar": "#d62728"}


def _label(r) -> str:
    return f"{r.series}\nk={int(r.pressure)}"


def _accuracy_figure(m: pd.DataFrame) -> Figure:
    fig, axes = figure(1, 1, width=max(5.0, 1.5 * len(m) + 4), height=3.6)
    ax = axes[0, 0]
    x = np.arange(len(m))
    w = 0.27
    for off, (col, lo, hi, name, color) in zip((-w, 0, w), (
            ("random_accuracy", "random_low", "random_high", "judge on random reveals", CHANNEL_COLORS["rater"]),
            ("debate_accuracy", "debate_low", "debate_high", "judge after debate (precommit)", CHANNEL_COLORS["gold"]),
            ("honest_game_wins", "games_low", "games_high", "honest wins per game (vs one lie)", CHANNEL_COLORS["proxy"]))):
        ax.bar(x + off, m[col], w, yerr=[m[col] - m[lo], m[hi] - m[col]], color=color, label=name, capsize=2)
    for i, r in enumerate(m.itertuples()):
        if r.series.startswith("rendered") and int(r.pressure) in ANCHOR:
            a, b = ANCHOR[int(r.pressure)]
            ax.plot([i - 1.5 * w, i - 0.5 * w], [a, a], color="black", linewidth=2)
            ax.plot([i - 0.5 * w, i + 0.5 * w], [b, b], color="black", linewidth=2,
                    label="MNIST anchor (Irving et al. 2018)" if i == 0 else None)
    ax.axhline(0.1, color="grey", linestyle=":", linewidth=1)
    ax.set_xticks(x, [_label(r) for r in m.itertuples()], fontsize=7)
    ax.set(ylabel="accuracy / win rate", ylim=(0, 1.05))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return Figure("accuracy", "Judge accuracy on random reveals (orange), after debate with precommit (green: the honest "
                  "side beats all 9 lies) and the honest side's win rate per game (blue), 95% Wilson intervals. Black "
                  "ticks: the MNIST anchor at the same k. Dotted: chance (10 classes).", fig)


def _transcripts_figure(ts: list[dict]) -> Figure | None:
    if not ts:
        return None
    cols = min(4, len(ts))
    rows = -(-len(ts) // cols)
    fig, axes = figure(rows, 2 * cols, width=1.7, height=2.0)
    for a in axes.flat:
        a.axis("off")
    for n, t in enumerate(ts):
        img = np.array(t["image"], dtype=float)
        s = img.shape[0]
        full, view = axes[n // cols, 2 * (n % cols)], axes[n // cols, 2 * (n % cols) + 1]
        full.imshow(img, cmap="gray", vmin=0, vmax=2.5 * 255)  # dimmed, so the reveal boxes stand out
        view.imshow(np.zeros_like(img), cmap="gray", vmin=0, vmax=255)
        for order, (p, who) in enumerate(zip(t["reveals"], t["movers"]), 1):
            r, c = divmod(p, s)
            for ax in (full, view):
                ax.add_patch(_square(c, r, SIDE_COLORS[who]))
            view.add_patch(_square(c, r, None, img[r, c]))
            full.text(c, r, str(order), color="white", fontsize=6, ha="center", va="center", fontweight="bold")
        won = t["margin"] > 0
        full.set_title(f"{t['suite']} k={t['k']}\ntrue {t['label']} vs lie {t['lie']}", fontsize=7)
        view.set_title(f"judge sees: {'honest' if won else 'liar'} wins\nmargin {t['margin']:+.2f}", fontsize=7,
                       color=SIDE_COLORS["honest" if won else "liar"])
        for ax in (full, view):
            ax.set_xlim(-0.5, s - 0.5)
            ax.set_ylim(s - 0.5, -0.5)
    fig.tight_layout()
    return Figure("transcripts", "Debate transcripts drawn as revealed pixels. Left of each pair: the image (faint) with "
                  "the reveals in order (green: honest, red: liar); right: all the judge sees, the revealed values. "
                  "Per image: the lie that did best against the honest side; a lost and a won image per setting. Margin: "
                  "judge logit of the true class minus the lie's.", fig)


def _square(c, r, edge, value=None):
    from matplotlib.patches import Rectangle

    if value is None:
        return Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor=edge, linewidth=1.5)
    return Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=str(value / 255.0), edgecolor="none")


def _lie_table(g: pd.DataFrame) -> pd.DataFrame:
    g = g.assign(liar_wins=~g.honest_wins.astype(bool))
    return (g.groupby(["suite", "k", "first", "lie"]).liar_wins.mean().unstack("lie").reset_index()
            .rename(columns=lambda c: f"lie {c}" if isinstance(c, (int, np.integer)) else c))


def _summary_table(m: pd.DataFrame, settings: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in m.itertuples():
        suite, first = r.series.split(", ")
        s = settings[(settings.suite == suite) & (settings.k == r.pressure) & (settings["first"] == first.split()[0])]
        a = ANCHOR.get(int(r.pressure)) if suite == "rendered" else None
        rows.append({"suite": suite, "first": first, "k": int(r.pressure), "images": int(r.images),
                     "search": s.search.iloc[0] if len(s) else "",
                     "judge on random reveals": f"{r.random_accuracy:.3f} [{r.random_low:.3f}, {r.random_high:.3f}]",
                     "judge after debate": f"{r.debate_accuracy:.3f} [{r.debate_low:.3f}, {r.debate_high:.3f}]",
                     "honest wins per game": f"{r.honest_game_wins:.3f} [{r.games_low:.3f}, {r.games_high:.3f}]",
                     "MNIST anchor": f"{a[0]:.3f} → {a[1]:.3f}" if a else "",
                     "judge positions/s": round(r.positions_per_second)})
    return pd.DataFrame(rows)


def _paired(images: pd.DataFrame | None, series: str, k: int, rng) -> Interval | None:
    """Debate minus random-reveal correctness on the same debated images, bootstrap over images."""
    if images is None:
        return None
    suite, first = series.split(", ")
    g = images[(images.suite == suite) & (images.k == k) & (images["first"] == first.split()[0])]
    return bootstrap_mean(g.debate_correct.astype(float) - g.random_correct.astype(float), rng) if len(g) else None


def _findings(m: pd.DataFrame, images: pd.DataFrame | None, seed: int) -> list[Finding]:
    rng = rngs.generator(seed, "report", "paired bootstrap")
    out = []
    for r in m.itertuples():
        suite = r.series.split(",")[0]
        k = int(r.pressure)
        a = ANCHOR.get(k) if suite == "rendered" else None
        d = _paired(images, r.series, k, rng)
        gain = d.low > 0 if d is not None else r.debate_low > r.random_high
        text = (f"{r.series}, k = {k}: the judge alone on random reveals is right on {r.random_accuracy:.3f} "
                f"[{r.random_low:.3f}, {r.random_high:.3f}] of {int(r.random_images)} images; after debate with precommit "
                f"it is right on {r.debate_accuracy:.3f} [{r.debate_low:.3f}, {r.debate_high:.3f}] of {int(r.images)} "
                f"(the honest side beats all 9 lies), and the honest side wins {r.honest_game_wins:.3f} "
                f"[{r.games_low:.3f}, {r.games_high:.3f}] of single games (95% Wilson intervals). "
                + (f"On the same {int(r.images)} images, debate minus one random reveal each: {d} (paired 95% "
                   "bootstrap). " if d is not None else "")
                + (("Debate raises the judge's accuracy: the paired interval lies above 0. " if gain else
                    "The paired interval includes 0, so these images do not show debate raising the judge's accuracy. ")
                   if d is not None else
                   ("Debate raises the judge's accuracy: the intervals do not overlap. " if gain else
                    "The intervals overlap, so these images do not show debate raising the judge's accuracy. "))
                + (f"Anchor (MNIST, Irving et al. 2018): {a[0]:.1%} → {a[1]:.1%}." if a else
                   "No published anchor for this suite (handwritten digits at 8×8)."))
        out.append(Finding(f"Debate on {suite} digits at k = {k}", text,
                           {"random_accuracy": r.random_accuracy, "debate_accuracy": r.debate_accuracy,
                            "honest_game_wins": r.honest_game_wins,
                            "paired_gain": d.estimate if d is not None else float("nan")}))
    return out


def report(results) -> ReportContent:
    m, t, a = results.measurements, results.tables, results.artifacts
    figures = [f for f in (_accuracy_figure(m), _transcripts_figure(a.get("transcripts", []))) if f is not None]
    tables = [
        Table("Judge accuracy: random reveals vs debate", _summary_table(m, t["settings"]),
              "95% Wilson intervals. 'judge after debate': the honest side wins against every one of the 9 lies "
              "(precommit: the liar wins an image if any lie wins)."),
        Table("Liar's win rate per lie", _lie_table(t["games"]), "Share of images on which each lie beats the honest side."),
        Table("Settings", t["settings"], "Search used per suite and k; candidates 0 = every nonzero pixel."),
    ]
    return ReportContent(
        title="Debate on digits: a sparse judge, an honest debater and a precommitted liar",
        summary=("After Irving, Christiano & Amodei (2018): a CNN judge sees only k revealed nonzero pixels (a mask "
                 "and the values). Two debaters who see the whole image alternate revealing pixels; the judge decides "
                 "for the claimed class with the higher logit. The rater is the judge on k random reveals; the proxy "
                 "is the honest side's win rate in single games; gold is whether the judge's decision after debate "
                 "(honest must beat all 9 precommitted lies) matches the world's label, which the judge never sees."),
        findings=_findings(m, t.get("images"), results.config.seed), figures=figures, tables=tables,
    )
