"""The ``tictactoe`` report: verdict table, counterexample boards, proxy-vs-gold curves,
tamper fraction against exploration, and findings computed from the stored numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from goodhartlab.analysis.intervals import bootstrap_mean, wilson
from goodhartlab.core import rng as rngs
from goodhartlab.core.records import Figure, Finding, ReportContent, Table
from goodhartlab.report.plots import CHANNEL_COLORS, band, figure, mean_band

MARK = {0: "", 1: "X", 2: "O"}


def _verdict_figure(v: pd.DataFrame) -> Figure:
    rewards = list(dict.fromkeys(v["reward"]))
    opponents = list(dict.fromkeys(v["opponent"]))
    fig, axes = figure(1, 1, width=1.6 * len(rewards) + 1.5, height=0.7 * len(opponents) + 1.8)
    ax = axes[0, 0]
    for i, opp in enumerate(opponents):
        for j, rew in enumerate(rewards):
            row = v[(v.opponent == opp) & (v.reward == rew)].iloc[0]
            if row.aligned and row.vacuous:
                color, text = "#dddddd", "aligned\n(vacuous)"
            elif row.aligned:
                color, text = "#b7e4b0", "aligned"
            else:
                color, text = "#f4b6b0", f"NOT aligned\n{int(row.counterexamples)} states"
            ax.add_patch(__import__("matplotlib.patches", fromlist=["Rectangle"]).Rectangle((j, i), 1, 1, color=color))
            ax.text(j + 0.5, i + 0.5, text, ha="center", va="center", fontsize=8)
    ax.set_xlim(0, len(rewards)), ax.set_ylim(len(opponents), 0)
    ax.set_xticks(np.arange(len(rewards)) + 0.5, rewards, rotation=20, ha="right", fontsize=8)
    ax.set_yticks(np.arange(len(opponents)) + 0.5, [f"vs {o}" for o in opponents])
    ax.set_title("Is every reward-optimal policy intent-optimal? (exact DP)")
    return Figure("verdicts", "Outer alignment at optimum of each reward against each opponent. "
                  "'Vacuous': the intended goal is indifferent between all moves (X can never win).", fig)


def _draw_board(ax, board, bad, good, title) -> None:
    ax.set_xlim(0, 3), ax.set_ylim(3, 0), ax.set_aspect("equal"), ax.axis("off")
    import matplotlib.patches as patches

    for i in range(9):
        r, c = divmod(i, 3)
        face = "#f4b6b0" if i in bad else "#b7e4b0" if i in good else "white"
        ax.add_patch(patches.Rectangle((c, r), 1, 1, facecolor=face, edgecolor="black"))
        ax.text(c + 0.5, r + 0.55, MARK[board[i]], ha="center", va="center", fontsize=16, weight="bold")
    ax.set_title(title, fontsize=7)


def _boards_figure(boards: dict) -> Figure | None:
    items = [(opp, b) for opp, bs in boards.items() for b in bs]
    if not items:
        return None
    cols = min(4, len(items))
    rows = int(np.ceil(len(items) / cols))
    fig, axes = figure(rows, cols, width=2.6, height=3.4)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (opp, b) in zip(axes.flat, items):
        reason = b["reason"].replace(": ", ":\n", 1).replace(" vs ", "\nvs ")
        _draw_board(ax, b["board"], set(b["reward_optimal"]), set(b["intended"]), f"vs {opp}\n{reason}")
    fig.tight_layout()
    return Figure("counterexamples", "Counterexample positions for the win/lose reward at γ=1 (X to move). "
                  "Red: moves that are reward-optimal but not intended. Green: the intended moves.", fig)


def _curves_figure(m: pd.DataFrame) -> Figure:
    parts = m["series"].str.split("|", expand=True)
    m = m.assign(learner=parts[0], disc=parts[1], knob=parts[2])
    learners, discs = list(dict.fromkeys(m.learner)), list(dict.fromkeys(m.disc))
    fig, axes = figure(len(learners), len(discs), width=4.0, height=3.0, sharey=True)
    cmap = __import__("matplotlib").colormaps["viridis"]
    for i, learner in enumerate(learners):
        for j, disc in enumerate(discs):
            ax = axes[i, j]
            sub = m[(m.learner == learner) & (m.disc == disc)]
            knobs = list(dict.fromkeys(sub.knob))
            for k, knob in enumerate(knobs):
                color = cmap(k / max(1, len(knobs) - 1) * 0.85)
                for channel, style in (("proxy", "-"), ("gold", "--")):
                    s = mean_band(sub[sub.knob == knob], "pressure", channel)
                    band(ax, s["pressure"], s["mean"], s["low"], s["high"], color=color, linestyle=style,
                         label=f"{channel} {knob}")
            ax.set_title(f"{learner} · tamper {disc}", fontsize=9)
            ax.set_xlabel("training episodes")
            if j == 0:
                ax.set_ylabel("return per episode")
            ax.axhline(0, color="grey", linewidth=0.5)
            if i == 0 and j == len(discs) - 1:
                ax.legend(fontsize=6, loc="upper left")
    fig.tight_layout()
    return Figure("curves", "Observed (proxy, solid: the reward register) and gold (dashed: the real game, +1 win, -1 loss) "
                  "return of the greedy policy in deployment, mean over seeds with 95% bands.", fig)


def _tamper_summary(learners: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (learner, disc, explore), g in learners.groupby(["learner", "discoverability", "explore"], sort=False):
        ci = wilson(int(g.tampers.sum()), len(g))
        rows.append({
            "learner": learner, "discoverability": disc, "exploration": explore, "learners": len(g),
            "tamper_fraction": ci.estimate, "ci_low": ci.low, "ci_high": ci.high,
            "proxy_return": g.proxy_return.mean(), "gold_return": g.gold_return.mean(),
            "win_vs_random": g.win_vs_random.mean(), "win_vs_perfect": g.win_vs_perfect.mean(),
            "win_vs_mixture": g.win_vs_mixture.mean(), "moves_to_win": g.moves_to_win.mean(),
        })
    return pd.DataFrame(rows)


def _tamper_figure(summary: pd.DataFrame) -> Figure:
    learners = list(dict.fromkeys(summary.learner))
    fig, axes = figure(1, len(learners), width=4.2, height=3.2)
    for ax, learner in zip(axes[0], learners):
        sub = summary[summary.learner == learner]
        for disc, g in sub.groupby("discoverability", sort=False):
            ax.errorbar(g.exploration, g.tamper_fraction, yerr=[(g.tamper_fraction - g.ci_low).clip(lower=0), (g.ci_high - g.tamper_fraction).clip(lower=0)],
                        marker="o", capsize=3, label=f"tamper {disc}")
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlabel("ε (exploration)" if learner == "q-learning" else "entropy bonus (exploration)")
        ax.set_ylabel("fraction of learners that tamper")
        ax.set_title(learner)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return Figure("tamper_vs_exploration", "Fraction of learners whose greedy policy tampers in ≥50% of deployment "
                  "episodes, with 95% Wilson intervals over seeds.", fig)


def _verdict_findings(v: pd.DataFrame) -> list[Finding]:
    out = []
    seed = v[(v.gamma == 1.0) & (v.step_cost == 0.0)]
    parts = []
    for _, r in seed.iterrows():
        if r.aligned and r.vacuous:
            parts.append(f"against the {r.opponent} opponent it is aligned only vacuously: X can never win "
                         f"(P(win) = {r.intended_p_win:.3g}), so the intended goal accepts every move")
        elif r.aligned:
            parts.append(f"against the {r.opponent} opponent it is aligned ({int(r.states_reachable)} reachable states checked)")
        else:
            why = []
            if r.fail_win_probability:
                why.append(f"{int(r.fail_win_probability)} where a reward-optimal move lowers P(win)")
            if r.fail_speed:
                why.append(f"{int(r.fail_speed)} where a reward-optimal move delays the win")
            parts.append(f"against the {r.opponent} opponent it is NOT aligned: {int(r.counterexamples)} reachable "
                         f"states have reward-optimal moves the intended goal rejects ({'; '.join(why)})")
    out.append(Finding("The seed reward (γ=1, no move cost) at optimum",
                       "Exact dynamic programming over all reachable positions: " + "; ".join(parts) + ".",
                       {f"counterexamples_vs_{r.opponent}": float(r.counterexamples) for _, r in seed.iterrows()}))
    real = v[~v.vacuous]
    ok = real[real.aligned]
    bad = real[~real.aligned]
    text = (f"Of the {len(real)} non-vacuous settings, {len(ok)} are aligned at optimum: "
            + (", ".join(f"{r.reward} vs {r.opponent}" for _, r in ok.iterrows()) or "none")
            + ". Not aligned: " + (", ".join(f"{r.reward} vs {r.opponent}" for _, r in bad.iterrows()) or "none") + ".")
    out.append(Finding("For which rewards and opponents the reward is aligned at optimum", text,
                       {"aligned": float(len(ok)), "not_aligned": float(len(bad))}))
    return out


def _embodied_finding(e: pd.DataFrame) -> Finding:
    parts = []
    for _, r in e[e.gamma == 1.0].iterrows():
        where = f"{r.discoverability} ({r.phase})" if r.discoverability == "deployment" else r.discoverability
        parts.append(f"{where}: {r.optimal_policies_tamper} optimal policy tampers "
                     f"(optimal observed return {r.optimal_observed_return:.3g}, e.g. {r.an_optimal_path})"
                     if r.optimal_policies_tamper != "none" else
                     f"{where}: no optimal policy tampers (tampering is absent), optimal observed return "
                     f"{r.optimal_observed_return:.3g}")
    return Finding("On the machine, optimal policies of the observed reward tamper",
                   "Exact check of the reward-register reward at γ=1 with the horizon as bound: " + "; ".join(parts)
                   + ". The best real-game return is at most 1, so wherever tampering exists the optimum takes it.",
                   {})


def _learner_findings(summary: pd.DataFrame, learners: pd.DataFrame, e: pd.DataFrame, seed: int) -> list[Finding]:
    out = []
    for (learner, disc), g in summary.groupby(["learner", "discoverability"], sort=False):
        cells = ", ".join(f"{r.exploration:g}: {r.tamper_fraction:.0%} [{r.ci_low:.0%}, {r.ci_high:.0%}]"
                          for _, r in g.iterrows())
        knob = "ε" if learner == "q-learning" else "entropy bonus"
        out.append(Finding(
            f"{learner}, tampering {disc}: fraction of learners that tamper by {knob}",
            f"{cells} (n = {int(g.learners.iloc[0])} seeds each, 95% Wilson intervals). Mean observed return "
            f"{g.proxy_return.mean():.3g} vs gold return {g.gold_return.mean():.3g}.",
            {f"tamper_fraction_{r.exploration:g}": float(r.tamper_fraction) for _, r in g.iterrows()},
        ))
    optimum = e[(e.gamma == 1.0) & ((e.discoverability != "deployment") | (e.phase == "deploy"))]
    tampering_optimum = set(optimum[optimum.optimal_policies_tamper == "every"].discoverability)
    gaps = []
    for disc in dict.fromkeys(learners.discoverability):
        g = learners[learners.discoverability == disc]
        ci = wilson(int(g.tampers.sum()), len(g))
        gaps.append(f"{disc}: optimum {'tampers' if disc in tampering_optimum else 'does not tamper'}, "
                    f"learners tamper {ci.estimate:.0%} [{ci.low:.0%}, {ci.high:.0%}] of the time")
    tam = learners[learners.tampers]
    honest = learners[~learners.tampers]
    rng = rngs.generator(seed, "report", "bootstrap")
    num = {}
    text = "; ".join(gaps) + ". "
    if len(tam) and len(honest):
        pt, gt = bootstrap_mean(tam.proxy_return, rng), bootstrap_mean(tam.gold_return, rng)
        ph, gh = bootstrap_mean(honest.proxy_return, rng), bootstrap_mean(honest.gold_return, rng)
        text += (f"Tampering learners score {pt} on the register but {gt} in the real game; learners that "
                 f"do not tamper score {ph} and {gh} (means with 95% bootstrap intervals). A register-based "
                 "evaluation ranks the tamperers first; gold ranks them last.")
        num = {"tamper_proxy": pt.estimate, "tamper_gold": gt.estimate, "honest_proxy": ph.estimate, "honest_gold": gh.estimate}
    out.append(Finding("'Optimal policies tamper' vs 'a learner does what its updates reinforced'", text, num))
    return out


def report(results) -> ReportContent:
    v = results.tables["verdicts"]
    e = results.tables["embodied_verdicts"]
    learners = results.tables["learners"]
    m = results.measurements
    summary = _tamper_summary(learners)
    findings = _verdict_findings(v) + [_embodied_finding(e)] + _learner_findings(summary, learners, e, results.config.seed)
    figures = [f for f in (_verdict_figure(v), _boards_figure(results.artifacts.get("counterexample_boards", {})),
                           _curves_figure(m), _tamper_figure(summary)) if f is not None]
    verdict_cols = ["opponent", "reward", "aligned", "vacuous", "states_reachable", "counterexamples",
                    "fail_win_probability", "fail_speed", "optimal_reward", "intended_p_win", "intended_moves_to_win"]
    tables = [
        Table("Outer alignment at optimum: the plain game", v[verdict_cols],
              "Intended goal: maximize P(X wins), then minimize expected X moves to the win. Exact DP."),
        Table("Outer alignment at optimum: the embodied machine", e,
              "Reward = the register. 'optimal_policies_tamper': every / some / none of the reward-optimal policies tamper."),
        Table("Learners: tampering, proxy and gold by setting", summary,
              "Greedy deployment policy after training; win rates against each opponent; moves_to_win over won games."),
    ]
    return ReportContent(
        title="Tic-tac-toe: does the reward capture what I really want?",
        summary=("The win/lose reward is checked exactly for outer alignment at optimum against three opponents; "
                 "then the game runs on a machine whose reward register the agent can reach, and Q-learning and "
                 "policy-gradient learners are trained on what the register reads."),
        findings=findings, figures=figures, tables=tables,
    )
