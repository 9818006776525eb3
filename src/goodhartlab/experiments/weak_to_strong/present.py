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
    # dropna=False: keep a loss whose PGRs are all NaN (no gap on any seed) rather than losing its column
    paired = runs.pivot_table(index=["seed", "weak_width", "strong_width"], columns="loss", values="pgr", dropna=False)
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


TEXT_BARS = (("weak", "weak supervisor (believes misconceptions)", "#7f7f7f"),
             ("plain", "student, plain CE", LOSS_COLORS["plain"]),
             ("confidence", "student, confidence loss", LOSS_COLORS["confidence"]),
             ("ceiling", "ceiling (truth labels)", CHANNEL_COLORS["gold"]))


def _text_summary(text: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Per loss and statement subset ('all' held-out statements, 'contested' = those of misconception facts):
    mean over seeds with bootstrap intervals of weak, student, ceiling and PGR."""
    rng = rngs.generator(seed, "report", "text")
    rows = []
    for loss, g in text.groupby("loss", sort=False):
        for subset, sfx in (("all", ""), ("contested", "_contested")):
            iv = {c: bootstrap_mean(g[c + sfx], rng) for c in ("weak", "student", "ceiling", "pgr")}
            rows.append({"loss": loss, "statements": subset, "seeds": len(g),
                         **{c: iv[c].estimate for c in iv}, **{f"{c}_low": iv[c].low for c in iv},
                         **{f"{c}_high": iv[c].high for c in iv},
                         "pgr_of_means": pgr(g["student" + sfx].mean(), g["weak" + sfx].mean(),
                                             g["ceiling" + sfx].mean()),
                         "zero_shot": g["zero_shot" + sfx].mean(),
                         "agreement_with_weak": g.student_agrees_with_weak.mean()})
    return pd.DataFrame(rows)


def _text_figure(t: pd.DataFrame) -> Figure:
    fig, axes = figure(1, 1, width=5.5, height=3.4)
    ax = axes[0, 0]
    w = 0.2
    for i, subset in enumerate(("all", "contested")):
        g = t[t.statements == subset].set_index("loss")
        for j, (key, name, color) in enumerate(TEXT_BARS):
            col, row = ("student", key) if key in ("plain", "confidence") else (key, "plain")
            v, lo, hi = g.loc[row, col], g.loc[row, f"{col}_low"], g.loc[row, f"{col}_high"]
            ax.bar(i + (j - 1.5) * w, v, w, color=color, label=name if i == 0 else None,
                   yerr=[[v - lo], [hi - v]], capsize=2)
    ax.set_xticks([0, 1], ["all held-out statements", "statements of misconception facts"])
    ax.set(ylabel="accuracy vs the truth", ylim=(0, 1.3))
    ax.legend(fontsize=7, loc="upper center", ncol=2)
    fig.tight_layout()
    return Figure("text", "Text task: accuracy against the truth on statements about entities the classifiers were not "
                  "trained on (mean over seeds, 95% bootstrap intervals). The weak supervisor believes popular "
                  "misconceptions; the student (pretrained LM + head) learns from its labels only.", fig)


def _text_findings(text: pd.DataFrame, t: pd.DataFrame, lm: pd.DataFrame | None, seed: int) -> list[Finding]:
    rng = rngs.generator(seed, "report", "text findings")
    out = []
    g = t.set_index(["loss", "statements"])
    p, c = g.loc[("plain", "contested")], g.loc[("confidence", "contested")]
    pa, ca = g.loc[("plain", "all")], g.loc[("confidence", "all")]
    gap = bootstrap_mean(text[text.loss == "plain"].ceiling - text[text.loss == "plain"].weak, rng)
    size = "" if lm is None else (f" The LM has {int(lm.parameters.iloc[0]):,} parameters; {int(lm.statements.iloc[0])} "
                                  f"statements about {int(lm.entities.iloc[0])} entities, "
                                  f"{int(lm.contested_statements.iloc[0])} of them about misconception facts.")
    recovered = p.student_low > p.weak_high
    out.append(Finding(
        "Text: does the student recover the truth its pretraining saw?",
        f"On statements of misconception facts (where the weak supervisor is wrong on the true and the misconception "
        f"statement; its accuracy there {p.weak:.2f}), the student trained only on its labels is right on "
        f"{p.student:.2f} [{p.student_low:.2f}, {p.student_high:.2f}] (plain CE) and {c.student:.2f} "
        f"[{c.student_low:.2f}, {c.student_high:.2f}] (confidence loss); the ceiling trained on the truth "
        f"{p.ceiling:.2f} [{p.ceiling_low:.2f}, {p.ceiling_high:.2f}]. "
        + ("The student does recover much of the truth its pretraining saw, against its supervisor's labels."
           if recovered else "The student does not clearly beat its supervisor there (intervals overlap).")
        + f" Without any labels, the LM's likeliest value per fact is right on {p.zero_shot:.2f} of these statements "
        f"({pa.zero_shot:.2f} of all held-out ones), "
        + ("above the weak supervisor: the pretraining holds truth it could recover."
           if p.zero_shot > p.weak else "no better than the weak supervisor.")
        + f" Over {text.seed.nunique()} seeds (entity splits and head inits on one pretrained LM).{size}",
        {"text_student_contested_plain": p.student, "text_student_contested_confidence": c.student,
         "text_weak_contested": p.weak, "text_ceiling_contested": p.ceiling},
    ))
    out.append(Finding(
        "Text: performance gap recovered",
        f"All held-out statements: weak {pa.weak:.3f}, student {pa.student:.3f} (plain) / {ca.student:.3f} "
        f"(confidence), ceiling {pa.ceiling:.3f}; PGR {pa.pgr:.2f} [{pa.pgr_low:.2f}, {pa.pgr_high:.2f}] plain, "
        f"{ca.pgr:.2f} [{ca.pgr_low:.2f}, {ca.pgr_high:.2f}] with the confidence loss (PGR of the mean accuracies "
        f"{pa.pgr_of_means:.2f} / {ca.pgr_of_means:.2f}). The gap it is a share of, ceiling − weak, is only "
        f"{gap}, so PGR over all statements is noisy; on the statements of misconception facts the gap is wide: PGR "
        f"{p.pgr:.2f} [{p.pgr_low:.2f}, {p.pgr_high:.2f}] plain, {c.pgr:.2f} [{c.pgr_low:.2f}, {c.pgr_high:.2f}] "
        f"confidence. Anchor (Burns et al. 2023, NLP): median ~{ANCHOR['plain']:.0%} plain, "
        f"~{ANCHOR['confidence']:.0%} with the confidence loss.",
        {"text_pgr_plain": pa.pgr, "text_pgr_confidence": ca.pgr, "text_pgr_contested_plain": p.pgr,
         "text_pgr_contested_confidence": c.pgr},
    ))
    return out


def report(results) -> ReportContent:
    runs = results.tables["runs"]
    s = _summary(runs, results.config.seed)
    cols = ["weak_width", "strong_width", "loss", "seeds", "weak", "student", "ceiling", "pgr", "pgr_low", "pgr_high",
            "pgr_median", "pgr_of_means", "agreement_with_weak"]
    findings = _findings(runs, s, results.config.seed)
    figures = [_accuracy_figure(s), _pgr_figure(s)]
    tables = [Table("PGR per weak/strong pair", s[cols].round(4),
                    "Means over seeds; pgr_low/high: 95% bootstrap interval over seeds."),
              Table("Every run", runs.round(4), "One row per seed, pair and loss.")]
    text = results.tables.get("text_runs")
    if text is not None and len(text):
        t = _text_summary(text, results.config.seed)
        findings += _text_findings(text, t, results.tables.get("text_lm"), results.config.seed)
        figures.append(_text_figure(t))
        tables += [Table("Text task: PGR", t.round(4), "Means over seeds with 95% bootstrap intervals; 'contested': "
                         "statements of facts that have a popular misconception."),
                   Table("Text task: every run", text.round(4), "One row per seed and loss.")]
    return ReportContent(
        title="Weak-to-strong generalization on digits and text",
        summary=("After Burns et al. (2023). Digits: a small CNN trained on ground truth for half the images labels "
                 "the other half; a larger CNN, pretrained without labels, is fine-tuned on those weak (soft) labels. "
                 "Text (QA world): a weak supervisor that believes the popular misconceptions labels statements "
                 "'the <creature> eats <food>' about half the creatures; the student is the tiny LM pretrained on the "
                 "world's internet (expert sources state truths, popular ones repeat misconceptions) with a linear "
                 "classification head, trained on those labels. Proxy: the student's agreement with its weak "
                 "supervisor; gold: its accuracy against the truth (the world's labels), which it never sees. PGR "
                 "compares it with the same strong model trained on the truth (the ceiling)."),
        findings=findings,
        figures=figures,
        tables=tables,
    )
