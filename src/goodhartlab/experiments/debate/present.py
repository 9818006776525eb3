"""Figures, tables and findings of the ``debate`` experiment, from stored results only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from goodhartlab.analysis import stats
from goodhartlab.core.records import Figure, Finding, ReportContent, Table
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
    for off, (col, lo, hi, name, color) in zip(
        (-w, 0, w),
        (
            ("random_accuracy", "random_low", "random_high", "judge on random reveals", CHANNEL_COLORS["rater"]),
            ("debate_accuracy", "debate_low", "debate_high", "judge after debate (precommit)", CHANNEL_COLORS["gold"]),
            (
                "honest_game_wins",
                "games_low",
                "games_high",
                "honest wins per game (vs one lie)",
                CHANNEL_COLORS["proxy"],
            ),
        ),
    ):
        yerr = np.nan_to_num(np.clip([m[col] - m[lo], m[hi] - m[col]], 0, None))
        ax.bar(x + off, m[col], w, yerr=yerr, color=color, label=name, capsize=2)
    for i, r in enumerate(m.itertuples()):
        if r.series.startswith("rendered") and int(r.pressure) in ANCHOR:
            a, b = ANCHOR[int(r.pressure)]
            ax.plot([i - 1.5 * w, i - 0.5 * w], [a, a], color="black", linewidth=2)
            ax.plot(
                [i - 0.5 * w, i + 0.5 * w],
                [b, b],
                color="black",
                linewidth=2,
                label="MNIST anchor (Irving et al. 2018)" if i == 0 else None,
            )
    ax.axhline(0.1, color="grey", linestyle=":", linewidth=1)
    ax.set_xticks(x, [_label(r) for r in m.itertuples()], fontsize=8)
    ax.set(ylabel="accuracy / win rate", ylim=(0, 1.05))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return Figure(
        "accuracy",
        "Judge accuracy on random reveals (orange), after debate with precommit (green: the honest "
        "side beats all 9 lies), 95% Wilson intervals over images, and the honest side's win rate per game "
        "(blue), 95% cluster bootstrap over images. Black "
        "ticks: the MNIST anchor at the same k. Dotted: chance (10 classes).",
        fig,
    )


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
            full.text(c, r, str(order), color="white", fontsize=8, ha="center", va="center", fontweight="bold")
        won = t["margin"] > 0
        full.set_title(f"{t['suite']} k={t['k']}\ntrue {t['label']} vs lie {t['lie']}", fontsize=8)
        view.set_title(
            f"judge sees: {'honest' if won else 'liar'} wins\nmargin {t['margin']:+.2f}",
            fontsize=8,
            color=SIDE_COLORS["honest" if won else "liar"],
        )
        for ax in (full, view):
            ax.set_xlim(-0.5, s - 0.5)
            ax.set_ylim(s - 0.5, -0.5)
    fig.tight_layout()
    return Figure(
        "transcripts",
        "Debate transcripts drawn as revealed pixels. Left of each pair: the image (faint) with "
        "the reveals in order (green: honest, red: liar); right: all the judge sees, the revealed values. "
        "Per image: the lie that did best against the honest side; a lost and a won image per setting. Margin: "
        "judge logit of the true class minus the lie's.",
        fig,
    )


def _square(c, r, edge, value=None):
    from matplotlib.patches import Rectangle

    if value is None:
        return Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor=edge, linewidth=1.5)
    return Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=str(value / 255.0), edgecolor="none")


def _lie_table(g: pd.DataFrame) -> pd.DataFrame:
    g = g.assign(liar_wins=~g.honest_wins.astype(bool))
    return (
        g.groupby(["suite", "k", "first", "lie"])
        .liar_wins.mean()
        .unstack("lie")
        .reset_index()
        .rename(columns=lambda c: f"lie {c}" if isinstance(c, (int, np.integer)) else c)
    )


def _summary_table(m: pd.DataFrame, settings: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in m.itertuples():
        suite, first = r.series.split(", ")
        s = settings[(settings.suite == suite) & (settings.k == r.pressure) & (settings["first"] == first.split()[0])]
        a = ANCHOR.get(int(r.pressure)) if suite == "rendered" else None
        rows.append(
            {
                "suite": suite,
                "first": first,
                "k": int(r.pressure),
                "images": int(r.images),
                "search": s.search.iloc[0] if len(s) else "",
                "judge on random reveals": f"{r.random_accuracy:.3f} [{r.random_low:.3f}, {r.random_high:.3f}]",
                "judge after debate": f"{r.debate_accuracy:.3f} [{r.debate_low:.3f}, {r.debate_high:.3f}]",
                "honest wins per game": f"{r.honest_game_wins:.3f} [{r.games_low:.3f}, {r.games_high:.3f}]",
                "MNIST anchor": f"{a[0]:.3f} → {a[1]:.3f}" if a else "",
                "judge positions/s": round(r.positions_per_second),
            }
        )
    return pd.DataFrame(rows)


def _setting(images: pd.DataFrame, games: pd.DataFrame | None, suite: str, k: int, first: str):
    sel = (images.suite == suite) & (images.k == k) & (images["first"] == first)
    g = None
    if games is not None:
        g = games[(games.suite == suite) & (games.k == k) & (games["first"] == first)]
    return images[sel], g


def setting_claim(images: pd.DataFrame, games: pd.DataFrame | None, suite: str, k: int, first: str) -> Finding:
    """Debate vs random reveals on the same images: the image is the unit (its 9 games are one cluster)."""
    im, g = _setting(images, games, suite, k, first)
    im = im.sort_values("image")
    gain = stats.paired(im.debate_correct.astype(float).to_numpy(), im.random_correct.astype(float).to_numpy(), "image")
    extra = {
        "judge after debate": stats.proportion(int(im.debate_correct.astype(bool).sum()), len(im), "image"),
        "judge on one random reveal": stats.proportion(int(im.random_correct.astype(bool).sum()), len(im), "image"),
    }
    if g is not None and len(g):
        per = g.groupby("image").honest_wins.agg(["sum", "count"])
        extra["honest side's single-game win rate"] = stats.clustered_proportion(
            per["sum"].to_numpy(dtype=float), per["count"].to_numpy(dtype=float), "image"
        )
    a = ANCHOR.get(k) if suite == "rendered" else None
    anchor = f"MNIST, Irving et al. 2018: {a[0]:.1%} → {a[1]:.1%}" if a else ""
    return stats.claim_finding(
        f"Debate on {suite} digits at k = {k} ({first} first)",
        f"Debate raises the judge's accuracy above random reveals ({suite} digits, k = {k}, {first} first)",
        gain,
        key="debate − random reveals, same images",
        anchor=anchor,
        extra=extra,
        holds="On the same images, debate minus one random reveal: {est} (paired over images). After debate the "
        "judge is right on "
        + stats.fmt(extra["judge after debate"])
        + ", alone on "
        + stats.fmt(extra["judge on one random reveal"])
        + ".",
        fails="On the same images, debate minus one random reveal: {est}: debate lowers the judge's accuracy "
        "(debate "
        + stats.fmt(extra["judge after debate"])
        + ", alone "
        + stats.fmt(extra["judge on one random reveal"])
        + ").",
        inconclusive="On the same images, debate minus one random reveal: {est}; the interval includes 0 (debate "
        + stats.fmt(extra["judge after debate"])
        + ", alone "
        + stats.fmt(extra["judge on one random reveal"])
        + ").",
    )


def claims(images: pd.DataFrame, games: pd.DataFrame | None) -> list[Finding]:
    keys = images[["suite", "k", "first"]].drop_duplicates()
    return [setting_claim(images, games, r.suite, int(r.k), r.first) for r in keys.itertuples()]


def report(results) -> ReportContent:
    m, t, a = results.measurements, results.tables, results.artifacts
    findings = claims(t["images"], t.get("games"))
    n = {k: sum(f.verdict == k for f in findings) for k in ("holds", "fails", "inconclusive")}
    figures = [f for f in (_accuracy_figure(m), _transcripts_figure(a.get("transcripts", []))) if f is not None]
    tables = [
        Table(
            "Judge accuracy: random reveals vs debate",
            _summary_table(m, t["settings"]),
            "95% Wilson intervals over images; honest wins per game: cluster bootstrap over images (an image's 9 "
            "games are not independent). 'judge after debate': the honest side wins against every one of the 9 lies "
            "(precommit: the liar wins an image if any lie wins).",
        ),
        Table(
            "Liar's win rate per lie",
            _lie_table(t["games"]),
            "Share of images on which each lie beats the honest side.",
        ),
        Table("Settings", t["settings"], "Search used per suite and k; candidates 0 = every nonzero pixel."),
    ]
    return ReportContent(
        title="Debate on digits: a sparse judge, an honest debater and a precommitted liar",
        summary=(
            "After Irving, Christiano & Amodei (2018): does a debate between an honest and a precommitted "
            "lying debater raise a sparse judge's accuracy above k random revealed pixels? "
            f"Of {len(findings)} settings, debate raises it in {n['holds']}, lowers it in {n['fails']} and is "
            f"inconclusive in {n['inconclusive']} (paired over images)."
        ),
        setup=(
            "A CNN judge sees only k revealed nonzero pixels (a mask and the values). "
            "Two debaters who see the whole image alternate revealing pixels; the judge decides "
            "for the claimed class with the higher logit. The rater is the judge on k random reveals; the proxy "
            "is the honest side's win rate in single games; gold is whether the judge's decision after debate "
            "(honest must beat all 9 precommitted lies) matches the world's label, which the judge never sees."
        ),
        findings=findings,
        figures=figures,
        tables=tables,
        headline="accuracy",
    )
