"""Figures, tables and findings of the ``weak-to-strong`` experiment, from stored results only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from goodhartlab.analysis.intervals import bootstrap_mean
from goodhartlab.core import rng as rngs
from goodhartlab.core.records import Figure, Finding, ReportContent, Table
from goodhartlab.oversight.weak_to_strong import pgr
from goodhartlab.report.plots import CHANNEL_COLORS, figure

# Burns et al. (2023), NLP tasks: median PGR about 25% with naive fine-tuning on weak labels, about 80% with the
# auxiliary confidence loss for the largest strong students (their figure 3 / section 4.3).
ANCHOR = {"plain": 0.25, "confidence": 0.80}
LOSS_COLORS = {"plain": CHANNEL_COLORS["proxy"], "confidence": "#9467bd"}


def _pair(r) -> str:
    return f"{int(r.weak_width)} → {int(r.strong_width)}"


def _summary(runs: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = rngs.generator(seed, "report", "bootstrap")
    rows = []
    for (ww, ws, loss), g in runs.groupby(["weak_width", "strong_width", "loss"], sort=True):
        iv = {c: bootstrap_mean(g[c], rng) for c in ("weak", "student", "ceiling", "pgr")}
        rows.append({"weak_width": int(ww), "strong_width": int(ws), "loss": loss, "seeds": len(g),
                     **{c: iv[c].estimate for c in iv}, "pgr_low": iv["pgr"].low, "pgr_high": iv["pgr"].high,
                     "pgr_median": float(np.nanmedian(g.pgr)),
                     "pgr_of_means": pgr(g.student.mean(), g.weak.mean(), g.ceiling.mean()),
                     "student_low": iv["student"].low, "student_high": iv["student"].high,
                     "agreement_with_weak": g.student_agrees_with_weak.mean()})
    return pd.DataFrame(rows)


def _accuracy_figure(s: pd.DataFrame) -> Figure:
    pairs = s[["weak_width", "strong_width"]].drop_duplicates().reset_index(drop=True)
    fig, axes = figure(1, 1, width=max(4.5, 1.6 * len(pairs) + 1.5), height=3.4)
    ax = axes[0, 0]
    w = 0.2
    for i, p in pairs.iterrows():
        g = s[(s.weak_width == p.weak_width) & (s.strong_width == p.strong_width)].set_index("loss")
        bars = [("weak supervisor", g.weak.iloc[0], "#7f7f7f"),
                ("student, plain CE", g.loc["plain", "student"], LOSS_COLORS["plain"]),
                ("student, confidence loss", g.loc["confidence", "student"], LOSS_COLORS["confidence"]),
                ("ceiling (ground truth)", g.ceiling.iloc[0], CHANNEL_COLORS["gold"])]
        for j, (name, v, color) in enumerate(bars):
            ax.bar(i + (j - 1.5) * w, v, w, color=color, label=name if i == 0 else None)
    ax.set_xticks(range(len(pairs)), [_pair(p) for p in pairs.itertuples()])
    ax.set(xlabel="weak width → strong width", ylabel="test accuracy vs the world's labels", ylim=(0, 1.05))
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return Figure("accuracy", "Test accuracy (mean over seeds) of the weak supervisor, the strong student fine-tuned "
                  "on its labels (plain cross-entropy; auxiliary confidence loss), and the strong ceiling fine-tuned "
                  "on ground truth.", fig)


def _pgr_figure(s: pd.DataFrame) -> Figure:
    pairs = s[["weak_width", "strong_width"]].drop_duplicates().reset_index(drop=True)
    fig, axes = figure(1, 1, width=max(4.5, 1.4 * len(pairs) + 1.5), height=3.4)
    ax = axes[0, 0]
    for j, loss in enumerate(("plain", "confidence")):
        g = s[s.loss == loss].merge(pairs.reset_index(), on=["weak_width", "strong_width"])
        x = g["index"] + (j - 0.5) * 0.25
        ax.errorbar(x, g.pgr, yerr=[g.pgr - g.pgr_low, g.pgr_high - g.pgr], fmt="o", capsize=3,
                    color=LOSS_COLORS[loss], label=f"{loss}")
        ax.axhline(ANCHOR[loss], color=LOSS_COLORS[loss], linestyle="--", linewidth=1,
                   label=f"anchor median, {loss} (Burns et al., NLP)")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axhline(1, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xticks(range(len(pairs)), [_pair(p) for p in pairs.itertuples()])
    ax.set_xlim(-0.6, len(pairs) - 0.4)
    ax.set(xlabel="weak width → strong width", ylabel="performance gap recovered")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return Figure("pgr", "PGR = (student − weak) / (ceiling − weak), mean over seeds with 95% bootstrap intervals; "
                  "dashed: the anchor medians of Burns et al. (2023) on NLP tasks.", fig)


def _findings(runs: pd.DataFrame, s: pd.DataFrame, seed: int) -> list[Finding]:
    rng = rngs.generator(seed, "report", "findings")
    out = []
    med = {loss: float(np.nanmedian(runs[runs.loss == loss].pgr)) for loss in ("plain", "confidence")}
    mean = {loss: bootstrap_mean(runs[runs.loss == loss].pgr, rng) for loss in ("plain", "confidence")}
    paired = runs.pivot_table(index=["seed", "weak_width", "strong_width"], columns="loss", values="pgr")
    diff = bootstrap_mean(paired["confidence"] - paired["plain"], rng)
    out.append(Finding(
        "Performance gap recovered, plain vs confidence loss",
        f"Over {runs.seed.nunique()} seeds and {len(s) // 2} weak/strong pairs: median PGR {med['plain']:.2f} with "
        f"plain cross-entropy (mean {mean['plain']}), {med['confidence']:.2f} with the auxiliary confidence loss "
        f"(mean {mean['confidence']}); paired difference (confidence − plain) {diff} (95% bootstrap intervals over "
        f"seed × pair). Anchor (Burns et al. 2023, NLP tasks): median ~{ANCHOR['plain']:.0%} plain → "
        f"~{ANCHOR['confidence']:.0%} with the confidence loss. "
        + ("Here too the confidence loss recovers more of the gap." if diff.low > 0 else
           "Here the confidence loss does not recover more of the gap (the paired interval is not above 0)."),
        {"median_pgr_plain": med["plain"], "median_pgr_confidence": med["confidence"], "pgr_gain": diff.estimate},
    ))
    by_pair = []
    for (ww, ws), g in paired.groupby(level=["weak_width", "strong_width"]):
        by_pair.append((ws / ww, int(ww), int(ws), bootstrap_mean(g["confidence"] - g["plain"], rng)))
    by_pair.sort()
    out.append(Finding(
        "The confidence loss against the size gap",
        "Paired PGR difference (confidence − plain) per pair, smallest size ratio first: "
        + "; ".join(f"{ww} → {ws} (×{ratio:g} width): {d}" for ratio, ww, ws, d in by_pair)
        + ". Burns et al. report the confidence loss helping most when the gap between weak and strong is large, "
        "and little or even hurting when it is small.",
        {f"pgr_gain_{ww}_{ws}": d.estimate for _, ww, ws, d in by_pair},
    ))
    for r in s.itertuples():
        out.append(Finding(
            f"Weak width {r.weak_width} → strong width {r.strong_width}, {r.loss}",
            f"weak {r.weak:.3f}, student {r.student:.3f} [{r.student_low:.3f}, {r.student_high:.3f}], ceiling "
            f"{r.ceiling:.3f}; PGR {r.pgr:.2f} [{r.pgr_low:.2f}, {r.pgr_high:.2f}] (median over seeds "
            f"{r.pgr_median:.2f}; PGR of the mean accuracies {r.pgr_of_means:.2f}); the student agrees with its weak "
            f"supervisor on {r.agreement_with_weak:.3f} of test images.",
            {"pgr": r.pgr, "student": r.student, "weak": r.weak, "ceiling": r.ceiling},
        ))
    return out


def report(results) -> ReportContent:
    runs = results.tables["runs"]
    s = _summary(runs, results.config.seed)
    cols = ["weak_width", "strong_width", "loss", "seeds", "weak", "student", "ceiling", "pgr", "pgr_low", "pgr_high",
            "pgr_median", "pgr_of_means", "agreement_with_weak"]
    return ReportContent(
        title="Weak-to-strong generalization on digits",
        summary=("After Burns et al. (2023): a small CNN trained on ground truth for half the images labels the other "
                 "half; a larger CNN, pretrained as a denoising autoencoder without labels, is fine-tuned on those weak "
                 "(soft) labels. Proxy: the student's agreement with its weak supervisor; gold: its accuracy against "
                 "the world's labels (0-9 and X), which it never sees. PGR compares it with the same strong model "
                 "fine-tuned on ground truth. Not here yet: the text task (a weak supervisor that believes popular "
                 "misconceptions, a pretrained language model as the student), which needs the synthetic QA world."),
        findings=_findings(runs, s, results.config.seed),
        figures=[_accuracy_figure(s), _pgr_figure(s)],
        tables=[Table("PGR per weak/strong pair", s[cols].round(4),
                      "Means over seeds; pgr_low/high: 95% bootstrap interval over seeds."),
                Table("Every run", runs.round(4), "One row per seed, pair and loss.")],
    )
