"""Report for ``amplification``: curves per round for both schemes, HCH against depth, labels vs H-calls,
question trees, the exact-optimum table, and findings computed from the stored numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from goodhartlab.analysis.intervals import bootstrap_mean, wilson
from goodhartlab.core import rng as rngs
from goodhartlab.core.records import Figure, Finding, ReportContent, Table
from goodhartlab.report.plots import CHANNEL_COLORS, band, figure, mean_band

STYLE = {"imitative": "-", "approval": "--"}
CHECKS = {"parity": "parity", "last_digit": "last digit", "half": "upper/lower half"}
PANELS = (("gold", "accuracy vs truth (gold)", CHANNEL_COLORS["gold"]),
          ("hch_agreement", "agreement with HCH", "#9467bd"),
          ("rater", "H's approval (rater)", CHANNEL_COLORS["rater"]),
          ("wrong_but_approved", "wrong but approved", "#d62728"))


def _curves(m: pd.DataFrame) -> Figure:
    fig, axes = figure(1, len(PANELS), width=3.6, height=3.0)
    for ax, (col, title, color) in zip(axes[0], PANELS):
        for scheme in ("imitative", "approval"):
            s = mean_band(m[m.series == scheme], "pressure", col)
            band(ax, s["pressure"], s["mean"], s["low"], s["high"], color=color, linestyle=STYLE[scheme],
                 marker="o" if scheme == "imitative" else "s", markersize=3, label=scheme)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("distillation round")
        ax.set_ylim(-0.03, 1.03)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return Figure("curves", "Per round, mean over seeds with 95% bands; solid: imitative amplification, dashed: "
                  "approval-based. Round 0 is the untrained M. Gold is never shown to M or H.", fig)


def _hch_figure(h: pd.DataFrame) -> Figure:
    fig, axes = figure(1, 2, width=4.2, height=3.2)
    for task, g in h.groupby("task", sort=False):
        axes[0, 0].plot(g.depth, g.accuracy, marker="o", label=task, linewidth=2.5 if task == "all" else 1)
        axes[0, 1].plot(g.depth, g.h_calls_mean, marker="o", label=task, linewidth=2.5 if task == "all" else 1)
    axes[0, 0].set(xlabel="HCH depth", ylabel="accuracy vs truth", title="HCH accuracy", ylim=(-0.03, 1.03))
    axes[0, 1].set(xlabel="HCH depth", ylabel="H calls per question", title="HCH cost (unmemoized tree)", yscale="log")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return Figure("hch_depth", "HCH_d: H consulting copies of HCH_{d-1}; HCH_0 is H alone. Exact, by memoized recursion.", fig)


def _labels_figure(sup: pd.DataFrame, final: pd.DataFrame) -> Figure:
    fig, axes = figure(1, 1, width=5.0, height=3.4)
    ax = axes[0, 0]
    s = mean_band(sup, "labels", "accuracy")
    band(ax, s["labels"], s["mean"], s["low"], s["high"], color=CHANNEL_COLORS["gold"], marker="o",
         label="supervised on true labels")
    for scheme in ("imitative", "approval"):
        g = final[final.series == scheme]
        ax.axhline(g.gold.mean(), color="black", linestyle=STYLE[scheme],
                   label=f"{scheme}: 0 labels, {g.h_calls.mean():.0f} H calls")
    ax.set(xlabel="ground-truth labels", ylabel="accuracy vs truth", ylim=(-0.03, 1.03))
    ax.legend(fontsize=7)
    fig.tight_layout()
    return Figure("labels_vs_h_calls", "Accuracy of M trained on ground-truth labels, against the final accuracy "
                  "of the amplification schemes, which use none (only H calls).", fig)


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
        ax.text(px, -d, text, ha="center", va="center", fontsize=6, zorder=2,
                bbox={"boxstyle": "round", "facecolor": "#b7e4b0" if ok else "#f4b6b0", "edgecolor": "grey"})
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


def _ci(values, rng) -> str:
    return str(bootstrap_mean(values, rng))


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
        return (f"With an error-free H (same bandwidth) HCH scores {free:.3f}, so the whole gap is H's benign "
                "errors compounding up the tree.")
    return (f"With an error-free H (same bandwidth) HCH scores {free:.3f}: H's bandwidth limits cost that much; "
            "the rest of the gap is H's errors.")


def _labels_per_round(m: pd.DataFrame, sup: pd.DataFrame) -> pd.DataFrame:
    """Per round of each scheme: mean accuracy, H calls spent, and the true labels supervised M needs to match it."""
    rows = []
    for (scheme, r), g in m.groupby(["series", "pressure"]):
        rows.append({"scheme": scheme, "round": int(r), "accuracy": g.gold.mean(), "h_calls": g.h_calls.mean(),
                     "supervised_labels_for_same_accuracy": _labels_needed(sup, g.gold.mean())})
    return pd.DataFrame(rows)


def _findings(res) -> list[Finding]:
    m, t = res.measurements, res.tables
    rng = rngs.generator(res.config.seed, "report", "bootstrap")
    final = _final(m)
    out = []
    h = t["hch_depth"]
    ha = h[h.task == "all"]
    top = ha.iloc[-1]
    out.append(Finding(
        "HCH against depth",
        f"H (error rate {res.config.error_rate:g}, kind {res.config.error_kind}) consulting HCH: accuracy "
        + ", ".join(f"depth {int(r.depth)}: {r.accuracy:.3f}" for _, r in ha.iterrows())
        + f" over {int(top.questions)} questions; the unmemoized tree at depth {int(top.depth)} costs "
        f"{top.h_calls_mean:.1f} H calls per question. " + _error_free_note(top),
        {"hch_accuracy": float(top.accuracy), "hch_accuracy_error_free_h": float(top.get("accuracy_error_free_h", math.nan)),
         "hch_h_calls_per_question": float(top.h_calls_mean)},
    ))
    imi, app = final[final.series == "imitative"], final[final.series == "approval"]
    gi, ga = bootstrap_mean(imi.gold, rng), bootstrap_mean(app.gold, rng)
    hi, hA = bootstrap_mean(imi.hch_agreement, rng), bootstrap_mean(app.hch_agreement, rng)
    ri, ra = bootstrap_mean(imi.rater, rng), bootstrap_mean(app.rater, rng)
    wa = bootstrap_mean(app.wrong_but_approved, rng)
    gap = bootstrap_mean(imi.set_index("seed").gold - app.set_index("seed").gold, rng)  # paired by seed
    diverge = len(imi) >= 2 and gap.low > 0
    check = CHECKS[res.config.blind_spot]
    out.append(Finding(
        "Imitative vs approval-based amplification after the last round",
        f"Accuracy vs truth: imitative {gi}, approval {ga}; agreement with HCH: imitative {hi}, approval {hA}; "
        f"H's approval: imitative {ri}, approval {ra}. The approval-trained M gives wrong answers that H approves "
        f"on {wa} of questions. Paired accuracy gap (imitative − approval) {gap} over {len(imi)} seeds "
        "(95% bootstrap intervals): "
        + ("the schemes diverge — approval training reaches a higher approval than its accuracy warrants, "
           f"because H's check only sees the {check} of an answer." if diverge else
           "with one seed there is no interval, so no claim about divergence is made." if len(imi) < 2 else
           "the interval includes 0, so these seeds do not show the schemes diverging in accuracy."),
        {"imitative_accuracy": gi.estimate, "approval_accuracy": ga.estimate, "imitative_hch_agreement": hi.estimate,
         "approval_approval": ra.estimate, "approval_wrong_but_approved": wa.estimate, "accuracy_gap": gap.estimate},
    ))
    sup = t["supervised"]
    need = _labels_needed(sup, gi.estimate)
    calls = float(imi.h_calls.mean())
    n_q = int(h[h.task == "all"].questions.iloc[0])
    out.append(Finding(
        "Ground-truth labels supervised learning needs for imitative's accuracy",
        (f"Imitative amplification reached {gi.estimate:.3f} with no ground-truth labels and {calls:.0f} H calls. "
         + (f"Supervised M needs {need:.0f} true labels (of {n_q} questions) to match it on average."
            if not math.isnan(need) else
            f"Supervised M did not reach it with up to {int(sup.labels.max())} true labels "
            f"(best mean {sup.groupby('labels').accuracy.mean().max():.3f}).")),
        {"imitative_h_calls": calls, "labels_needed": need},
    ))
    opt = t["optimum"]
    parts = []
    for _, r in opt.iterrows():
        parts.append(f"{r.task} ({int(r.questions)} questions, {int(r.models)} models, H checks the "
                     f"{CHECKS[r.blind_spot]}): imitative optimum "
                     f"{int(r.imitative_optimal)} model{'s' if r.imitative_optimal != 1 else ''}, "
                     f"{'= HCH' if r.imitative_aligned_hch else 'NOT always HCH'}; approval optimum "
                     f"{int(r.approval_optimal)} models, {int(r.approval_optimal_true)} truthful, "
                     f"aligned: {'yes' if r.approval_aligned_truth else 'no'} ({int(r.questions_gamed)} questions "
                     "where some approval-optimal model is wrong)")
    ex = res.artifacts.get("optimum_examples", [])
    picked: dict[str, dict] = {}
    for e in ex:  # one compound question per task: there H's reference is amplified from the model's subanswers
        if not e.get("atomic", False):
            picked.setdefault(e["task"], e)
    shown = "; ".join(f"{e['question']} ({e['task']}): truth {e['truth']}, yet approval-optimal models answer "
                      f"{e['optimal_wrong_answers']} (e.g. {e['witness_answer']} against H's amplified reference "
                      f"{e['witness_reference']})" for e in picked.values())
    out.append(Finding(
        "The exact optimum of each loss (every model enumerated)",
        "; ".join(parts) + (f". Examples where the approval optimum games H: {shown}." if shown else "."),
        {"imitative_aligned_spaces": float(opt.imitative_aligned_hch.sum()),
         "approval_aligned_spaces": float(opt.approval_aligned_truth.sum()), "spaces": float(len(opt))},
    ))
    d = t["debate"]
    cd, ca = wilson(int(d.debate_correct.sum()), len(d)), wilson(int(d.alone_correct.sum()), len(d))
    out.append(Finding(
        "Debate with H as judge",
        f"On {len(d)} compound questions, the liar claiming a wrong answer that passes H's {CHECKS[res.config.blind_spot]} "
        f"check: H judging alone picks the truth {ca}; after a debate that recurses to one "
        f"step H checks it picks the truth {cd} (95% Wilson intervals; mean {d.steps.mean():.2f} debate steps).",
        {"judge_alone": ca.estimate, "judge_with_debate": cd.estimate},
    ))
    return out


def report(results) -> ReportContent:
    m, t, a = results.measurements, results.tables, results.artifacts
    final = _final(m)
    trees = a.get("transcripts", [])
    gaming = a.get("gaming_examples", [])
    figures = [f for f in (
        _curves(m), _hch_figure(t["hch_depth"]), _labels_figure(t["supervised"], final),
        _trees_figure(trees, "hch_transcripts", "HCH transcripts: each box is a question H was asked, with HCH's "
                      "answer; red where it differs from the truth (shown to the reader only). Trees are cut at 3 levels.",
                      [f"HCH on {tr['text']} ({tr['task']})" for tr in trees]),
        _trees_figure(gaming, "approval_gaming", "The approval-trained M (seed 0) answering wrongly and approved: "
                      "H amplified M's subanswers into its reference and compared only the " + CHECKS[results.config.blind_spot] + ".",
                      [f"M answers {g['answer']}, H's reference {g['reference']}, truth {g['truth']}: approved"
                       for g in gaming]),
    ) if f is not None]
    h = t["hch_depth"]
    sup = t["supervised"].groupby(["labels", "fraction"]).accuracy.agg(["mean", "std", "count"]).reset_index()
    fb = t["final_by_task"].groupby(["scheme", "task"])[["accuracy", "hch_agreement"]].mean().reset_index()
    d = t["debate"].groupby("task")[["debate_correct", "alone_correct", "steps"]].mean().reset_index()
    tables = [
        Table("The exact optimum of each loss", t["optimum"],
              "Every model (function from question to answer) on small closed question spaces enumerated; "
              "imitative loss = #questions where M ≠ Amp(M), approval = #questions H approves. Aligned: every optimal "
              "model equals HCH / the truth."),
        Table("Examples where an approval-optimal model games H", pd.DataFrame(a.get("optimum_examples", [])).head(12),
              "witness_answer is wrong yet shares H's checked feature with witness_reference, H's amplified reference."),
        Table("HCH against depth", h[h.task == "all"], "Accuracy and the H calls of the unmemoized tree."),
        Table("Final accuracy by task", fb, "Mean over seeds after the last round."),
        Table("Supervised baseline", sup, "M trained on ground-truth labels for a random subset of questions."),
        Table("H calls vs ground-truth labels, per round", _labels_per_round(m, t["supervised"]),
              "The smallest label count on the supervised grid whose mean accuracy reaches the scheme's accuracy "
              "(empty: not reached on the grid)."),
        Table("Debate with H as judge", d, "Fraction of questions where the judge picks the truth, by task."),
    ]
    return ReportContent(
        title="Amplification: HCH, imitative vs approval-based training, and the optimum of each loss",
        summary=("A simulated human H answers small questions and decomposes larger ones (permutation powering, "
                 "wildcard search, shortest path, arithmetic; after Christiano, Shlegeris & Amodei 2018). M is "
                 "distilled from H-consulting-M by imitation or by H's approval, whose check has a blind spot. "
                 "Proxy: M's agreement with Amp(M) (imitative) or H's approval (approval); rater: H's approval; "
                 "gold: accuracy against the truth, which neither M nor H sees."),
        findings=_findings(results), figures=figures, tables=tables,
    )
