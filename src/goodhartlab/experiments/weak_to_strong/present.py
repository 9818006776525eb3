"""Figures, tables and findings of the ``weak-to-strong`` experiment, from stored results only.

The independent unit is the seed (data split, initializations, batches). Rows of one seed (its weak/strong
pairs) are averaged within the seed before intervals are taken over seeds; a seed whose PGR is undefined
(ceiling not above the weak supervisor) is left out of PGR claims and the n kept is reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from goodhartlab.analysis import stats
from goodhartlab.core.records import Figure, Finding, ReportContent, Table
from goodhartlab.report.plots import CHANNEL_COLORS, errorbars, figure

# Burns et al. (2023), NLP tasks: median PGR about 25% with naive fine-tuning on weak labels, about 80% with the
# auxiliary confidence loss for the largest strong students (their figure 3 / section 4.3).
ANCHOR = {"plain": 0.25, "confidence": 0.80}
ANCHOR_TEXT = "Burns et al. 2023 (NLP): median PGR ~0.25 plain, ~0.80 with the confidence loss"
LOSS_COLORS = {"plain": CHANNEL_COLORS["proxy"], "confidence": "#9467bd"}
SEED = "seed"


def _pair(ww, ws) -> str:
    return f"{int(ww)} → {int(ws)}"


def per_seed(frame: pd.DataFrame, value: str) -> pd.Series:
    """One value per seed: the mean over that seed's rows (pairs); NaN rows (undefined PGR) are skipped."""
    return frame.groupby("seed")[value].mean()


def _seed_mean(frame: pd.DataFrame, value: str) -> stats.Estimate:
    return stats.mean(per_seed(frame, value).to_numpy(), SEED)


def _paired(frame: pd.DataFrame, value: str, a: str, b: str) -> stats.Estimate:
    """Per seed: mean over pairs of value(loss a) − value(loss b), then over seeds."""
    wide = frame.pivot_table(index=["seed", "weak_width", "strong_width"], columns="loss", values=value, dropna=False)
    d = (wide[a] - wide[b]).groupby(level="seed").mean() if {a, b} <= set(wide.columns) else pd.Series(dtype=float)
    return stats.mean(d.to_numpy(), SEED)


def _kept(e: stats.Estimate, total: int) -> str:
    return f"{e.n} of {total} seeds" + (
        "" if e.n == total else " (a seed whose ceiling is not above its weak supervisor has no PGR and is left out)"
    )


def digit_claims(runs: pd.DataFrame) -> list[Finding]:
    n_seeds = runs.seed.nunique()
    plain = runs[runs.loss == "plain"]
    gain = stats.mean((plain.student - plain.weak).groupby(plain.seed).mean().to_numpy(), SEED)
    pgr_plain = _seed_mean(plain, "pgr")
    delta = _paired(runs, "pgr", "confidence", "plain")
    out = [
        stats.claim_finding(
            "Digits: does the student beat its weak supervisor?",
            "A strong student fine-tuned on weak labels is more accurate than its weak supervisor (plain fine-tuning)",
            gain,
            key="student − weak accuracy",
            holds="Student minus weak-supervisor test accuracy, per seed averaged over pairs: {est}. The student "
            "generalizes beyond its labels' errors.",
            fails="Student minus weak-supervisor test accuracy: {est}; the student does no better than its labels.",
            inconclusive="Student minus weak-supervisor test accuracy: {est}; the seeds do not settle the sign.",
        )
    ]
    out.append(
        stats.claim_finding(
            "Digits: performance gap recovered with plain fine-tuning",
            "Plain fine-tuning on weak labels recovers part of the performance gap (PGR > 0)",
            pgr_plain,
            key="PGR, plain",
            anchor=ANCHOR_TEXT,
            holds="PGR with plain cross-entropy {est} over " + _kept(pgr_plain, n_seeds) + ".",
            fails="PGR with plain cross-entropy {est} over " + _kept(pgr_plain, n_seeds) + ": no gap recovered.",
            inconclusive="PGR with plain cross-entropy {est} over " + _kept(pgr_plain, n_seeds) + "; the interval "
            "includes 0.",
        )
    )
    out.append(
        stats.claim_finding(
            "Digits: the auxiliary confidence loss",
            "The auxiliary confidence loss recovers more of the gap than plain fine-tuning",
            delta,
            key="PGR, confidence − plain",
            anchor=ANCHOR_TEXT,
            holds="Paired PGR difference (confidence − plain) {est} over " + _kept(delta, n_seeds) + ": as in Burns et "
            "al., the confidence loss recovers more.",
            fails="Paired PGR difference (confidence − plain) {est} over " + _kept(delta, n_seeds) + ": here the "
            "confidence loss recovers less, unlike Burns et al.'s large-gap result.",
            inconclusive="Paired PGR difference (confidence − plain) {est} over " + _kept(delta, n_seeds) + "; the "
            "interval includes 0.",
        )
    )
    return out


def text_claims(text: pd.DataFrame) -> list[Finding]:
    n_seeds = text.seed.nunique()
    plain = text[text.loss == "plain"].set_index("seed")
    student = stats.mean((plain.student_contested - plain.weak_contested).to_numpy(), SEED)
    zero = stats.mean((plain.zero_shot_contested - plain.weak_contested).to_numpy(), SEED)
    wide = text.pivot_table(index="seed", columns="loss", values="pgr_contested", dropna=False)
    delta = stats.mean(
        (wide["confidence"] - wide["plain"]).to_numpy() if {"confidence", "plain"} <= set(wide) else np.array([]), SEED
    )
    return [
        stats.claim_finding(
            "Text: does the student beat a supervisor that believes misconceptions?",
            "On misconception facts, the LM student trained on weak labels is right more often than its weak "
            "supervisor",
            student,
            key="student − weak accuracy, misconception facts",
            holds="Student minus weak supervisor on statements of misconception facts (held-out entities): {est}. "
            "The student recovers truth its pretraining saw, against its supervisor's labels.",
            fails="Student minus weak supervisor on misconception facts: {est}; the student repeats its labels' "
            "misconceptions.",
            inconclusive="Student minus weak supervisor on misconception facts: {est}; the seeds do not settle it.",
        ),
        stats.claim_finding(
            "Text: what the pretrained LM knows without labels",
            "Without any labels, the pretrained LM's likeliest value is right on misconception facts more often "
            "than the weak supervisor",
            zero,
            key="zero-shot − weak accuracy, misconception facts",
            holds="Zero-shot minus weak supervisor on misconception facts: {est}: the pretraining holds truth a "
            "student could recover.",
            fails="Zero-shot minus weak supervisor on misconception facts: {est}: the pretraining favours the "
            "misconceptions.",
            inconclusive="Zero-shot minus weak supervisor on misconception facts: {est}; the interval includes 0.",
        ),
        stats.claim_finding(
            "Text: the auxiliary confidence loss on misconception facts",
            "On misconception facts, the confidence loss recovers more of the gap than plain fine-tuning",
            delta,
            key="PGR on misconception facts, confidence − plain",
            anchor=ANCHOR_TEXT,
            holds="Paired PGR difference (confidence − plain) on misconception facts {est} over "
            + _kept(delta, n_seeds)
            + ".",
            fails="Paired PGR difference (confidence − plain) on misconception facts {est} over "
            + _kept(delta, n_seeds)
            + ": the confidence loss recovers less.",
            inconclusive="Paired PGR difference (confidence − plain) on misconception facts {est} over "
            + _kept(delta, n_seeds)
            + "; the interval includes 0.",
        ),
    ]


def pair_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per pair and loss: weak, student, ceiling and PGR as mean [95% t interval] over seeds, n seeds kept."""
    rows = []
    for (ww, ws, loss), g in runs.groupby(["weak_width", "strong_width", "loss"], sort=True):
        e = {c: stats.mean(g[c].to_numpy(), SEED) for c in ("weak", "student", "ceiling", "pgr")}
        rows.append(
            {
                "pair": _pair(ww, ws),
                "loss": loss,
                **{c: stats.fmt(x) for c, x in e.items()},
                "seeds": g.seed.nunique(),
                "seeds with a PGR": e["pgr"].n,
                "agreement_with_weak": round(float(g.student_agrees_with_weak.mean()), 4),
            }
        )
    return pd.DataFrame(rows)


def _pgr_figure(runs: pd.DataFrame, text: pd.DataFrame | None) -> Figure:
    pairs = runs[["weak_width", "strong_width"]].drop_duplicates().sort_values(["weak_width", "strong_width"])
    labels = [f"digits {_pair(p.weak_width, p.strong_width)}" for p in pairs.itertuples()]
    if text is not None and len(text):
        labels.append("text, misconception facts")
    fig, axes = figure(1, 1, width=max(6.0, 1.6 * len(labels) + 2.5), height=4.0)
    ax = axes[0, 0]
    for j, loss in enumerate(("plain", "confidence")):
        ests = [
            stats.mean(
                runs[
                    (runs.loss == loss) & (runs.weak_width == p.weak_width) & (runs.strong_width == p.strong_width)
                ].pgr.to_numpy(),
                SEED,
            )
            for p in pairs.itertuples()
        ]
        if text is not None and len(text):
            ests.append(stats.mean(text[text.loss == loss].pgr_contested.to_numpy(), SEED))
        errorbars(
            ax, np.arange(len(ests)) + (j - 0.5) * 0.25, ests, color=LOSS_COLORS[loss], linestyle="none", label=loss
        )
        ax.axhline(
            ANCHOR[loss],
            color=LOSS_COLORS[loss],
            linestyle="--",
            linewidth=1,
            label=f"anchor median, {loss} (Burns et al., NLP)",
        )
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axhline(1, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set(ylabel="performance gap recovered (PGR)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return Figure(
        "pgr",
        "PGR = (student − weak) / (ceiling − weak): mean over seeds with 95% Student t intervals "
        "(crosses: the seeds themselves where fewer than 3 have a PGR); dashed: the anchor medians of Burns "
        "et al. (2023) on NLP tasks.",
        fig,
    )


def _accuracy_figure(runs: pd.DataFrame) -> Figure:
    pairs = runs[["weak_width", "strong_width"]].drop_duplicates().sort_values(["weak_width", "strong_width"])
    fig, axes = figure(1, 1, width=max(6.0, 1.8 * len(pairs) + 3.0), height=4.0)
    ax = axes[0, 0]
    w = 0.2
    for i, p in enumerate(pairs.itertuples()):
        g = runs[(runs.weak_width == p.weak_width) & (runs.strong_width == p.strong_width)]
        bars = [
            ("weak supervisor", g[g.loss == "plain"].weak, "#7f7f7f"),
            ("student, plain CE", g[g.loss == "plain"].student, LOSS_COLORS["plain"]),
            ("student, confidence loss", g[g.loss == "confidence"].student, LOSS_COLORS["confidence"]),
            ("ceiling (ground truth)", g[g.loss == "plain"].ceiling, CHANNEL_COLORS["gold"]),
        ]
        for j, (name, values, color) in enumerate(bars):
            e = stats.mean(values.to_numpy(), SEED)
            ax.bar(i + (j - 1.5) * w, e.estimate, w, color=color, label=name if i == 0 else None)
            errorbars(ax, [i + (j - 1.5) * w], [e], color="black", linestyle="none", markersize=2)
    ax.set_xticks(range(len(pairs)), [_pair(p.weak_width, p.strong_width) for p in pairs.itertuples()])
    ax.set(xlabel="weak width → strong width", ylabel="test accuracy vs the world's labels", ylim=(0, 1.05))
    ax.legend(loc="lower right")
    fig.tight_layout()
    return Figure(
        "accuracy",
        "Digits: test accuracy (mean over seeds, 95% Student t intervals) of the weak "
        "supervisor, the strong student fine-tuned on its labels (plain cross-entropy; auxiliary confidence "
        "loss), and the strong ceiling fine-tuned on ground truth.",
        fig,
    )


TEXT_BARS = (
    ("weak", "weak supervisor (believes misconceptions)", "#7f7f7f"),
    ("plain", "student, plain CE", LOSS_COLORS["plain"]),
    ("confidence", "student, confidence loss", LOSS_COLORS["confidence"]),
    ("ceiling", "ceiling (truth labels)", CHANNEL_COLORS["gold"]),
    ("zero_shot", "pretrained LM, no labels", "#8c564b"),
)


def _text_figure(text: pd.DataFrame) -> Figure:
    fig, axes = figure(1, 1, width=7.0, height=4.0)
    ax = axes[0, 0]
    w = 0.16
    for i, sfx in enumerate(("", "_contested")):
        for j, (key, name, color) in enumerate(TEXT_BARS):
            col, loss = ("student", key) if key in ("plain", "confidence") else (key, "plain")
            e = stats.mean(text[text.loss == loss][col + sfx].to_numpy(), SEED)
            x = i + (j - 2) * w
            ax.bar(x, e.estimate, w, color=color, label=name if i == 0 else None)
            errorbars(ax, [x], [e], color="black", linestyle="none", markersize=2)
    ax.set_xticks([0, 1], ["all held-out statements", "statements of misconception facts"])
    ax.set(ylabel="accuracy vs the truth", ylim=(0, 1.35))
    ax.legend(loc="upper center", ncol=2)
    fig.tight_layout()
    return Figure(
        "text",
        "Text task: accuracy against the truth on statements about entities the classifiers were "
        "not trained on (mean over seeds, 95% Student t intervals). The weak supervisor believes popular "
        "misconceptions; the student (pretrained LM + head) learns from its labels only.",
        fig,
    )


def text_table(text: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for loss, g in text.groupby("loss", sort=False):
        for subset, sfx in (("all", ""), ("misconception facts", "_contested")):
            rows.append(
                {
                    "loss": loss,
                    "statements": subset,
                    "seeds": g.seed.nunique(),
                    **{
                        c: stats.fmt(stats.mean(g[c + sfx].to_numpy(), SEED))
                        for c in ("weak", "student", "ceiling", "pgr", "zero_shot")
                    },
                }
            )
    return pd.DataFrame(rows)


def claims(runs: pd.DataFrame, text: pd.DataFrame | None) -> list[Finding]:
    out = digit_claims(runs)
    if text is not None and len(text):
        out += text_claims(text)
    return out


def report(results) -> ReportContent:
    runs = results.tables["runs"]
    text = results.tables.get("text_runs")
    findings = claims(runs, text)
    figures = [_pgr_figure(runs, text), _accuracy_figure(runs)]
    tables = [
        Table(
            "Digits: accuracy and PGR per weak/strong pair",
            pair_table(runs),
            "Mean [95% Student t interval] over seeds; 'seeds with a PGR': seeds whose ceiling is above the "
            "weak supervisor.",
        ),
        Table("Digits: every run", runs.round(4), "One row per seed, pair and loss."),
    ]
    if text is not None and len(text):
        figures.append(_text_figure(text))
        tables += [
            Table(
                "Text task: accuracy and PGR",
                text_table(text),
                "Mean [95% Student t interval] over "
                "seeds; 'misconception facts': statements of facts that have a popular misconception.",
            ),
            Table("Text task: every run", text.round(4), "One row per seed and loss."),
        ]
    n = {k: sum(f.verdict == k for f in findings) for k in ("holds", "fails", "inconclusive")}
    return ReportContent(
        title="Weak-to-strong generalization on digits and text",
        summary=(
            f"After Burns et al. (2023): strong students fine-tuned on a weak supervisor's labels, compared with "
            f"the supervisor and with the same student trained on the truth, over {runs.seed.nunique()} seeds. "
            f"Of {len(findings)} claims, {n['holds']} hold, {n['fails']} fail and {n['inconclusive']} are "
            "inconclusive."
        ),
        setup=(
            "Digits: a small CNN trained on ground truth for half the images labels the other half; a larger CNN, "
            "pretrained without labels, is fine-tuned on those weak (soft) labels. Text (QA world): a weak "
            "supervisor that believes the popular misconceptions labels statements 'the <creature> eats <food>' "
            "about half the creatures; the student is the tiny LM pretrained on the world's internet with a "
            "linear classification head. Proxy: the student's agreement with its weak supervisor; gold: its "
            "accuracy against the truth, which it never sees. PGR compares it with the same strong model trained "
            "on the truth (the ceiling)."
        ),
        findings=findings,
        figures=figures,
        tables=tables,
        headline="pgr",
    )
