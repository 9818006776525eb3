"""Report for ``amplification``: curves per round for both schemes, HCH against depth, labels vs H-calls,
question trees, the exact-optimum table, and findings computed from the stored numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from goodhartlab.analysis import stats
from goodhartlab.core.records import Figure, Finding, ReportContent, Table
from goodhartlab.report.plots import CHANNEL_COLORS, curve, figure, panels

STYLE = {"imitative": "-", "approval": "--"}
CHECKS = {"parity": "parity", "last_digit": "last digit", "half": "upper/lower half"}
PANELS = (
    ("gold", "accuracy vs truth (gold)", CHANNEL_COLORS["gold"]),
    ("hch_agreement", "agreement with HCH", "#9467bd"),
    ("rater", "H's approval (rater)", CHANNEL_COLORS["rater"]),
    ("wrong_but_approved", "wrong but approved", "#d62728"),
)


def _curves(m: pd.DataFrame) -> Figure:
    fig, axes = panels(len(PANELS))
    for ax, (col, title, color) in zip(axes, PANELS):
        for scheme in ("imitative", "approval"):
            curve(
                ax,
                m[m.series == scheme],
                "pressure",
                col,
                color=color,
                linestyle=STYLE[scheme],
                marker="o" if scheme == "imitative" else "s",
                markersize=3,
                label=scheme,
            )
        ax.set_title(title)
        ax.set_xlabel("distillation round")
        ax.set_ylim(-0.03, 1.03)
        ax.legend()
    fig.tight_layout()
    return Figure(
        "curves",
        "Per round, mean over seeds with 95% Student t bands (points: the seeds themselves where "
        "fewer than 3); solid: imitative amplification, dashed: approval-based. Round 0 is the untrained M. "
        "Gold is never shown to M or H.",
        fig,
    )


def _hch_figure(h: pd.DataFrame) -> Figure:
    fig, axes = figure(1, 2)
    for task, g in h.groupby("task", sort=False):
        axes[0, 0].plot(g.depth, g.accuracy, marker="o", label=task, linewidth=2.5 if task == "all" else 1)
        axes[0, 1].plot(g.depth, g.h_calls_mean, marker="o", label=task, linewidth=2.5 if task == "all" else 1)
    axes[0, 0].set(xlabel="HCH depth", ylabel="accuracy vs truth", title="HCH accuracy", ylim=(-0.03, 1.03))
    axes[0, 1].set(xlabel="HCH depth", ylabel="H calls per question", title="HCH cost (unmemoized tree)", yscale="log")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return Figure(
        "hch_depth", "HCH_d: H consulting copies of HCH_{d-1}; HCH_0 is H alone. Exact, by memoized recursion.", fig
    )


def _labels_figure(sup: pd.DataFrame, final: pd.DataFrame) -> Figure:
    fig, axes = figure(1, 1)
    ax = axes[0, 0]
    curve(ax, sup, "labels", "accuracy", color=CHANNEL_COLORS["gold"], marker="o", label="supervised on true labels")
    for scheme in ("imitative", "approval"):
        g = final[final.series == scheme]
        ax.axhline(
            g.gold.mean(),
            color="black",
            linestyle=STYLE[scheme],
            label=f"{scheme}: 0 labels, {g.h_calls.mean():.0f} H calls",
        )
    ax.set(xlabel="ground-truth labels", ylabel="accuracy vs truth", ylim=(-0.03, 1.03))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return Figure(
        "labels_vs_h_calls",
        "Accuracy of M trained on ground-truth labels, against the final accuracy "
        "of the amplification schemes, which use none (only H calls).",
        fig,
    )


def _layout(node: dict, depth: int, x: list, out: list) -> float:
    if not node["children"]:
        pos = x[0]
        x[0] += 1
    else:
        pos = float(np.mean([_layout(c, depth + 1, x, out) for c in node["children"]]))
    out.append((pos, depth, node))
    return pos


def _draw_tree(ax, tree: dict, title: str) -> None:
    placed: list = []
    _layout(tree, 0, [0.0], placed)
    where = {id(n): (px, -d) for px, d, n in placed}
    for px, d, n in placed:
        for c in n["children"]:
            cx, cy = where[id(c)]
            ax.plot([px, cx], [-d, cy], color="grey", linewidth=0.7, zorder=1)
    for px, d, n in placed:
        ok = n["answer"] == n["truth"]
        text = f"{n['text']}\n= {n['answer']}" + ("" if ok else f" (true {n['truth']})")
        ax.text(
            px,
            -d,
            text,
            ha="center",
            va="center",
            fontsize=8,
            zorder=2,
            bbox={"boxstyle": "round", "facecolor": "#b7e4b0" if ok else "#f4b6b0", "edgecolor": "grey"},
        )
    xs = [p[0] for p in placed]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(-max(p[1] for p in placed) - 0.6, 0.6)
    ax.axis("off")
    ax.set_title(title, fontsize=8)


def _trees_figure(trees: list[dict], name: str, caption: str, titles: list[str]) -> Figure | None:
    if not trees:
        return None
    fig, axes = figure(len(trees), 1, width=9.0, height=2.4)
    for ax, tree, title in zip(axes[:, 0], trees, titles):
        _draw_tree(ax, tree, title)
    fig.tight_layout()
    return Figure(name, caption, fig)


def _final(m: pd.DataFrame) -> pd.DataFrame:
    last = m.groupby("series").pressure.transform("max")
    return m[m.pressure == last]


def _labels_needed(sup: pd.DataFrame, target: float) -> float:
    means = sup.groupby("labels").accuracy.mean()
    reached = means[means >= target]
    return float(reached.index.min()) if len(reached) else math.nan


def _error_free_note(top: pd.Series) -> str:
    free = top.get("accuracy_error_free_h")
    if top.accuracy == 1.0:
        return "HCH equals the truth."
    if free is None or pd.isna(free):
        return ""  # stored before this column existed
    if free == 1.0:
        return (
            f"With an error-free H (same bandwidth) HCH scores {free:.3f}, so the whole gap is H's benign "
            "errors compounding up the tree."
        )
    return (
        f"With an error-free H (same bandwidth) HCH scores {free:.3f}: H's bandwidth limits cost that much; "
        "the rest of the gap is H's errors."
    )


def _labels_per_round(m: pd.DataFrame, sup: pd.DataFrame) -> pd.DataFrame:
    """Per round of each scheme: mean accuracy, H calls spent, and the true labels supervised M needs to match it."""
    rows = []
    for (scheme, r), g in m.groupby(["series", "pressure"]):
        rows.append(
            {
                "scheme": scheme,
                "round": int(r),
                "accuracy": g.gold.mean(),
                "h_calls": g.h_calls.mean(),
                "supervised_labels_for_same_accuracy": _labels_needed(sup, g.gold.mean()),
            }
        )
    return pd.DataFrame(rows)


def _exact(value: float, n: int, unit: str) -> stats.Estimate:
    return stats.exact(value, n, unit, "exact over the enumerated space")


def claims(m: pd.DataFrame, t: dict, blind_spot: str) -> list[Finding]:
    """Every finding, a claim with a computed verdict. Units: the seed for trained M (paired by seed where both
    schemes share it), the question for debate; HCH and the optimum are exact over their question spaces."""
    final = _final(m)
    out = []
    h = t["hch_depth"]
    ha = h[h.task == "all"].sort_values("depth")
    top, alone = ha.iloc[-1], ha.iloc[0]
    q = int(top.questions)
    out.append(
        stats.claim_finding(
            "HCH against depth",
            "HCH at full depth answers more questions correctly than H alone",
            _exact(top.accuracy - alone.accuracy, q, "question"),
            key="HCH − H alone, accuracy",
            extra={
                "HCH at full depth": _exact(top.accuracy, q, "question"),
                "H alone (depth 0)": _exact(alone.accuracy, q, "question"),
            },
            holds=f"Over all {q} questions: H alone {alone.accuracy:.3f}, HCH at depth {int(top.depth)} "
            f"{top.accuracy:.3f} ({top.h_calls_mean:.1f} H calls per question, unmemoized). " + _error_free_note(top),
            fails=f"Over all {q} questions: HCH at depth {int(top.depth)} ({top.accuracy:.3f}) is no better than H alone "
            f"({alone.accuracy:.3f}). " + _error_free_note(top),
            inconclusive="No questions were answered.",
        )
    )
    imi, app = final[final.series == "imitative"].set_index("seed"), final[final.series == "approval"].set_index("seed")
    seeds = sorted(set(imi.index) & set(app.index))
    gap = stats.paired(imi.loc[seeds, "gold"].to_numpy(), app.loc[seeds, "gold"].to_numpy(), "seed")
    out.append(
        stats.claim_finding(
            "Imitative vs approval-based amplification after the last round",
            "Imitative amplification ends more accurate than approval-based amplification",
            gap,
            key="accuracy, imitative − approval",
            extra={
                "accuracy, imitative": stats.mean(imi.gold.to_numpy(), "seed"),
                "accuracy, approval": stats.mean(app.gold.to_numpy(), "seed"),
                "H's approval of the approval-trained M": stats.mean(app.rater.to_numpy(), "seed"),
            },
            holds="Paired by seed, accuracy against the truth, imitative − approval: {est}.",
            fails="Paired by seed, imitative − approval: {est}: approval-based training ends more accurate.",
            inconclusive="Paired by seed, imitative − approval: {est}; the interval includes 0.",
        )
    )
    wba = stats.mean(app.wrong_but_approved.to_numpy(), "seed")
    check = CHECKS[blind_spot]
    out.append(
        stats.claim_finding(
            "Wrong answers H approves",
            "The approval-trained M gives wrong answers that H approves",
            wba,
            key="share of questions wrong but approved",
            holds=f"Share of questions the approval-trained M answers wrongly and H approves (H checks the {check}): "
            "{est}.",
            fails="The approval-trained M's wrong-but-approved share is {est}: none.",
            inconclusive="Wrong-but-approved share {est}; the interval includes 0.",
        )
    )
    opt = t["optimum"]
    gamed = _exact(float(opt.questions_gamed.sum()), int(opt.questions.sum()), "question")
    spaces = ", ".join(f"{r.task}: {int(r.questions_gamed)} of {int(r.questions)}" for r in opt.itertuples())
    out.append(
        stats.claim_finding(
            "The exact optimum of the approval loss",
            "Every approval-optimal model is truthful on every enumerated question space",
            gamed,
            direction="<",
            threshold=0.5,
            key="questions where an approval-optimal model is wrong",
            holds="Every model enumerated: no approval-optimal model answers any question wrongly ({spaces}).".replace(
                "{spaces}", spaces
            ),
            fails=(
                f"Every model enumerated: approval-optimal models answer wrongly on questions where the wrong answer "
                f"shares H's checked feature (the {check}) with H's reference: {spaces} questions. The optimum of the "
                "approval loss itself games H's check."
            ),
            inconclusive="No question space was enumerated.",
        )
    )
    not_hch = _exact(float((~opt.imitative_aligned_hch.astype(bool)).sum()), len(opt), "question space")
    out.append(
        stats.claim_finding(
            "The exact optimum of the imitative loss",
            "Every imitative-optimal model equals HCH on every enumerated question space",
            not_hch,
            direction="<",
            threshold=0.5,
            key="spaces where the optimum is not HCH",
            holds=f"Every model enumerated: on all {len(opt)} spaces the imitative optimum is HCH.",
            fails="Every model enumerated: on {est} spaces some imitative-optimal model differs from HCH.",
            inconclusive="No question space was enumerated.",
        )
    )
    sup = t["supervised"]
    full = sup[sup.fraction == sup.fraction.max()].set_index("seed").accuracy
    both = sorted(set(full.index) & set(imi.index))
    sgap = stats.paired(full.loc[both].to_numpy(), imi.loc[both, "gold"].to_numpy(), "seed")
    calls = float(imi.h_calls.mean())
    out.append(
        stats.claim_finding(
            "Ground-truth labels vs H calls",
            "M supervised on every true label is more accurate than imitative amplification, which uses none",
            sgap,
            key="accuracy, supervised (all labels) − imitative",
            holds=f"Paired by seed: supervised on all labels minus imitative ({calls:.0f} H calls, 0 labels): {{est}}.",
            fails=f"Paired by seed: supervised minus imitative: {{est}}: imitative amplification, with {calls:.0f} H calls "
            "and no labels, beats M supervised on every label.",
            inconclusive="Paired by seed: supervised minus imitative: {est}; the interval includes 0.",
        )
    )
    d = t["debate"]
    dgain = stats.paired(
        d.debate_correct.astype(float).to_numpy(), d.alone_correct.astype(float).to_numpy(), "question"
    )
    out.append(
        stats.claim_finding(
            "Debate with H as judge",
            "Debate with H as judge picks the truth more often than H judging alone",
            dgain,
            key="debate − judge alone, same questions",
            extra={
                "judge with debate": stats.proportion(int(d.debate_correct.sum()), len(d), "question"),
                "judge alone": stats.proportion(int(d.alone_correct.sum()), len(d), "question"),
            },
            holds=f"On {len(d)} compound questions against a liar whose answer passes H's {check} check, paired over "
            "questions, debate − alone: {est}.",
            fails="Paired over questions, debate − alone: {est}: debate misleads H.",
            inconclusive="Paired over questions, debate − alone: {est}; the interval includes 0.",
        )
    )
    return out


def report(results) -> ReportContent:
    m, t, a = results.measurements, results.tables, results.artifacts
    final = _final(m)
    trees = a.get("transcripts", [])
    gaming = a.get("gaming_examples", [])
    figures = [
        f
        for f in (
            _curves(m),
            _hch_figure(t["hch_depth"]),
            _labels_figure(t["supervised"], final),
            _trees_figure(
                trees,
                "hch_transcripts",
                "HCH transcripts: each box is a question H was asked, with HCH's "
                "answer; red where it differs from the truth (shown to the reader only). Trees are cut at 3 levels.",
                [f"HCH on {tr['text']} ({tr['task']})" for tr in trees],
            ),
            _trees_figure(
                gaming,
                "approval_gaming",
                "The approval-trained M (seed 0) answering wrongly and approved: "
                "H amplified M's subanswers into its reference and compared only the "
                + CHECKS[results.config.blind_spot]
                + ".",
                [
                    f"M answers {g['answer']}, H's reference {g['reference']}, truth {g['truth']}: approved"
                    for g in gaming
                ],
            ),
        )
        if f is not None
    ]
    h = t["hch_depth"]
    sup = t["supervised"].groupby(["labels", "fraction"]).accuracy.agg(["mean", "std", "count"]).reset_index()
    fb = t["final_by_task"].groupby(["scheme", "task"])[["accuracy", "hch_agreement"]].mean().reset_index()
    d = t["debate"].groupby("task")[["debate_correct", "alone_correct", "steps"]].mean().reset_index()
    tables = [
        Table(
            "The exact optimum of each loss",
            t["optimum"],
            "Every model (function from question to answer) on small closed question spaces enumerated; "
            "imitative loss = #questions where M ≠ Amp(M), approval = #questions H approves. Aligned: every optimal "
            "model equals HCH / the truth.",
        ),
        Table(
            "Examples where an approval-optimal model games H",
            pd.DataFrame(a.get("optimum_examples", [])).head(12),
            "witness_answer is wrong yet shares H's checked feature with witness_reference, H's amplified reference.",
        ),
        Table("HCH against depth", h[h.task == "all"], "Accuracy and the H calls of the unmemoized tree."),
        Table("Final accuracy by task", fb, "Mean over seeds after the last round."),
        Table("Supervised baseline", sup, "M trained on ground-truth labels for a random subset of questions."),
        Table(
            "H calls vs ground-truth labels, per round",
            _labels_per_round(m, t["supervised"]),
            "The smallest label count on the supervised grid whose mean accuracy reaches the scheme's accuracy "
            "(empty: not reached on the grid).",
        ),
        Table("Debate with H as judge", d, "Fraction of questions where the judge picks the truth, by task."),
    ]
    findings = claims(m, t, results.config.blind_spot)
    n = {k: sum(f.verdict == k for f in findings) for k in ("holds", "fails", "inconclusive")}
    setup = (
        "A simulated human H answers small questions and decomposes larger ones (permutation powering, "
        "wildcard search, shortest path, arithmetic; after Christiano, Shlegeris & Amodei 2018). M is "
        "distilled from H-consulting-M by imitation or by H's approval, whose check has a blind spot. "
        "Proxy: M's agreement with Amp(M) (imitative) or H's approval (approval); rater: H's approval; "
        "gold: accuracy against the truth, which neither M nor H sees."
    )
    return ReportContent(
        title="Amplification: HCH, imitative vs approval-based training, and the optimum of each loss",
        summary=(
            f"Does distilling a simulated human's amplified answers (imitative) stay truthful where training on "
            f"its approval, whose check has a blind spot, does not? {results.config.seeds} seeds per scheme; "
            f"of {len(findings)} claims, {n['holds']} hold, {n['fails']} fail and {n['inconclusive']} are "
            "inconclusive."
        ),
        findings=findings,
        figures=figures,
        tables=tables,
        headline="curves",
        setup=setup,
    )
