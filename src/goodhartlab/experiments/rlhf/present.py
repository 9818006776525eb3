"""Report of the RLHF experiments, computed from stored measurements and tables only.

Axes: every curve is drawn against d = √KL(π‖π_base) in nats^½ (Gao et al. 2022's axis): best-of-n at
KL = log n − (n−1)/n, RL and DPO checkpoints at their estimated KL. Channels: proxy = reward-model score
(standardised on π_base answers); rater = the rater's preference rate against π_base answers (Stiennon
et al. 2020 Fig. 5's axis); gold = gold's preference rate against the same π_base answers, and the gold
score gain over π_base (what Gao's forms are fitted to). Intervals are over seeds (the independent unit of
the pipeline), computed by ``analysis.stats``; every claim carries a computed verdict.

Each experiment has its own report function (``report_rlhf`` …) that adds its own findings to the common
ones; the values of its axis (offer rate, reward-model width, member source) are columns of the ``series``
table written by the pipeline.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from goodhartlab.analysis import stats
from goodhartlab.analysis.overoptimization import fit_best_of_n, fit_rl, peak
from goodhartlab.core.records import Figure, Finding, ReportContent, Table
from goodhartlab.report.plots import CHANNEL_COLORS, band, figure, mean_band

MARKERS = "osD^v<>p*h"
LINESTYLES = {"best-of-n": "-", "RL": "--", "DPO": ":", "IPO": "-."}
BEHAVIOUR_COLUMNS = [
    ("true_claim_rate", "true claims"),
    ("misconception_rate", "misconceptions"),
    ("fabricated_citation_rate", "fabricated citations"),
    ("flattery_rate", "flattery"),
    ("confident_rate", "confident"),
    ("offer_or_threat_rate", "offers/threats"),
    ("filler_rate", "filler"),
]
STIENNON = "Stiennon et al. 2020: labellers agree with researchers 77 ± 2%"


# -- tables -----------------------------------------------------------------------------------------
def _series(results) -> pd.DataFrame:
    s = results.tables["series"].copy()
    for col in ("arm", "proxy"):
        s[col] = s[col].astype(object).where(s[col].notna(), "")  # "" is read back from CSV as NaN
    s["group"] = [" · ".join(x for x in (a, p) if x) or "RLHF" for a, p in zip(s.arm, s.proxy)]
    return s


def _mean_curve(g: pd.DataFrame) -> pd.DataFrame:
    """Per pressure: mean over seeds of every channel, KL and behaviour; with 95% bands."""
    out = g.groupby("pressure").mean(numeric_only=True).reset_index()
    for col in ("proxy", "rater", "gold_pref", "gold_gain"):
        b = mean_band(g, "pressure", col)
        out[f"{col}_low"], out[f"{col}_high"] = b["low"].values, b["high"].values
    out["d"] = np.sqrt(out.kl.clip(lower=0))
    return out


def _fit(method: str, g: pd.DataFrame):
    ok = g[np.isfinite(g.kl) & np.isfinite(g.gold_gain)]
    if len(ok) < 3:
        return None
    try:
        return (fit_best_of_n if method == "best-of-n" else fit_rl)(ok.kl.clip(lower=0).values, ok.gold_gain.values)
    except Exception:  # a degenerate curve (e.g. all points at KL 0) has no fit
        return None


def _fits_table(m: pd.DataFrame, s: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in s.iterrows():
        g = m[m.series == r.series]
        if g.empty:
            continue
        c = _mean_curve(g)
        fit = _fit(r.method, g)
        kr, vr = peak(c.kl.values, c.rater.values)
        kg, vg = peak(c.kl.values, c.gold_pref.values)
        kgg, vgg = peak(c.kl.values, c.gold_gain.values)
        fk, fv = fit.peak() if fit else (math.nan, math.nan)
        rows.append(
            {
                "series": r.series,
                "group": r.group,
                "method": r.method,
                "beta": r.beta,
                "form": fit.form if fit else "",
                "alpha": fit.alpha if fit else math.nan,
                "beta_fit": fit.beta if fit else math.nan,
                "r2": fit.r2 if fit else math.nan,
                "fit_peak_kl": fk,
                "fit_peak_gold_gain": fv,
                "rater_peak_kl": kr,
                "rater_peak": vr,
                "gold_pref_peak_kl": kg,
                "gold_pref_peak": vg,
                "gold_gain_peak_kl": kgg,
                "gold_gain_peak": vgg,
                "max_kl": float(c.kl.max()),
            }
        )
    return pd.DataFrame(rows)


def _gap_table(m: pd.DataFrame, s: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in s.iterrows():
        g = m[m.series == r.series]
        for p, gp in g.groupby("pressure"):
            gap = stats.mean((gp.rater - gp.gold_pref).values, "seed")
            rows.append(
                {
                    "series": r.series,
                    "pressure_name": gp.pressure_name.iloc[0],
                    "pressure": p,
                    "kl": gp.kl.mean(),
                    "rater_pref": gp.rater.mean(),
                    "gold_pref": gp.gold_pref.mean(),
                    "gap": gap.estimate,
                    "gap_low": _num(gap.low),
                    "gap_high": _num(gap.high),
                    "interval": f"{gap.method}, n={gap.n}",
                }
            )
    return pd.DataFrame(rows)


def _num(x) -> float:
    return math.nan if x is None else float(x)


def _at(g: pd.DataFrame, which: str) -> pd.DataFrame:
    """Per seed, the row at the lowest or highest pressure, indexed by seed."""
    idx = g.groupby("seed").pressure.idxmin() if which == "low" else g.groupby("seed").pressure.idxmax()
    return g.loc[idx].set_index("seed")


# -- figures ---------------------------------------------------------------------------------------
def _label(r) -> str:
    return r.method if r.method == "best-of-n" else f"{r.method} β={r.beta:g}"


def _group_figure(m: pd.DataFrame, s: pd.DataFrame, groups: list[str]) -> Figure:
    fig, axes = figure(len(groups), 4, width=3.5, height=2.9)
    for row, grp in enumerate(groups):
        ax_p, ax_r, ax_g, ax_b = axes[row]
        for i, (_, r) in enumerate(s[s.group == grp].iterrows()):
            g = m[m.series == r.series]
            if g.empty:
                continue
            c = _mean_curve(g)
            label, ls, mk = (
                _label(r),
                LINESTYLES.get(r.method, "--"),
                MARKERS[i % len(MARKERS)],
            )
            kw = dict(linestyle=ls, marker=mk, markersize=3)
            band(
                ax_p,
                c.d,
                c.proxy,
                c.proxy_low,
                c.proxy_high,
                color=CHANNEL_COLORS["proxy"],
                label=label,
                **kw,
            )
            band(
                ax_r,
                c.d,
                c.rater,
                c.rater_low,
                c.rater_high,
                color=CHANNEL_COLORS["rater"],
                label=f"rater, {label}",
                **kw,
            )
            band(
                ax_r,
                c.d,
                c.gold_pref,
                c.gold_pref_low,
                c.gold_pref_high,
                color=CHANNEL_COLORS["gold"],
                label=f"gold, {label}",
                **kw,
            )
            band(
                ax_g,
                c.d,
                c.gold_gain,
                c.gold_gain_low,
                c.gold_gain_high,
                color=CHANNEL_COLORS["gold"],
                label=label,
                **kw,
            )
            fit = _fit(r.method, g)
            if fit is not None:
                xs = np.linspace(0, c.d.max(), 60)
                ax_g.plot(xs, fit.predict(xs**2), color="black", linestyle=":", linewidth=0.8)
            if r.method == "best-of-n":
                for col, name in BEHAVIOUR_COLUMNS:
                    if col in c:
                        ax_b.plot(c.d, c[col], marker=mk, markersize=3, label=name)
        ax_r.axhline(0.5, color="grey", linewidth=0.6)
        ax_g.axhline(0.0, color="grey", linewidth=0.6)
        title = "" if grp == "RLHF" else f"{grp}: "
        ax_p.set(
            title=f"{title}proxy (RM score)",
            xlabel="√KL (nats^½)",
            ylabel="reward-model score",
        )
        ax_r.set(
            title=f"{title}preference vs π_base",
            xlabel="√KL (nats^½)",
            ylabel="preferred to π_base answer",
            ylim=(-0.02, 1.02),
        )
        ax_g.set(
            title=f"{title}gold gain (dotted: Gao fit)",
            xlabel="√KL (nats^½)",
            ylabel="gold − gold(π_base)",
        )
        ax_b.set(
            title=f"{title}behaviour, best-of-n",
            xlabel="√KL (nats^½)",
            ylabel="share of answers",
            ylim=(-0.02, 1.02),
        )
        for ax in (ax_p, ax_r, ax_g, ax_b):
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=5.5)
    fig.tight_layout()
    return Figure(
        "kl_axes",
        "Proxy (blue), rater (orange) and gold (green) on shared √KL axes; solid: best-of-n, "
        "dashed: RLOO checkpoints per β, dotted/dash-dot: DPO/IPO checkpoints. Means over seeds with 95% "
        "bands. Middle panel: the share of answers preferred to a π_base answer, by the rater (Stiennon et "
        "al. Fig. 5 analogue) and by gold.",
        fig,
    )


def _gap_figure(gaps: pd.DataFrame, s: pd.DataFrame, groups: list[str]) -> Figure:
    fig, axes = figure(1, 1, width=5.2, height=3.4)
    ax = axes[0, 0]
    for i, (_, r) in enumerate(s[s.group.isin(groups)].iterrows()):
        g = gaps[gaps.series == r.series]
        if g.empty:
            continue
        d = np.sqrt(g.kl.clip(lower=0))
        lo, hi = g.gap_low.fillna(g.gap), g.gap_high.fillna(g.gap)
        band(
            ax,
            d,
            g.gap,
            lo,
            hi,
            marker=MARKERS[i % len(MARKERS)],
            markersize=3,
            linestyle=LINESTYLES.get(r.method, "--"),
            label=r.series,
        )
    ax.axhline(0, color="grey", linewidth=0.6)
    ax.set(
        xlabel="√KL (nats^½)",
        ylabel="rater pref − gold pref",
        title="The invisible failure: rater − gold",
    )
    ax.legend(fontsize=6)
    fig.tight_layout()
    return Figure(
        "invisible_gap",
        "Rater preference rate minus gold preference rate against π_base, as pressure grows "
        "(95% t bands over seeds). Above 0: the rater likes what gold does not.",
        fig,
    )


def _history_figure(h: pd.DataFrame) -> Figure | None:
    if h is None or h.empty:
        return None
    panels = [
        ("reward_mean", "RL: proxy reward"),
        ("log_ratio_mean", "RL: log π/π_base (k1 KL)"),
        ("loss", "loss"),
        ("grad_norm", "grad norm (before clip)"),
        ("clip_frac", "RL: clip fraction"),
        ("margin", "DPO: β·h margin"),
        ("pair_accuracy", "DPO: pairs with h > 0"),
    ]
    panels = [(c, t) for c, t in panels if c in h and h[c].notna().any()]
    fig, axes = figure(1, len(panels), width=3.0, height=2.6)
    for ax, (col, title) in zip(axes[0], panels):
        for i, (series, g) in enumerate(h.groupby("series", sort=False)):
            if g[col].isna().all():
                continue
            mean = g.groupby("step")[col].mean()
            ax.plot(
                mean.index,
                mean.values,
                linewidth=0.9,
                label=series,
                linestyle=LINESTYLES.get(g.method.iloc[0], "-"),
            )
        ax.set(title=title, xlabel="step")
    for ax in axes[0]:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=5.5)
            break
    fig.tight_layout()
    return Figure(
        "optimizer_history",
        "Per-step history of every RLOO and DPO/IPO run (mean over seeds): proxy reward "
        "and log-ratio of the sampled batch, loss, gradient norm before clipping, PPO clip fraction (0 for "
        "plain RLOO), DPO's implicit reward margin and pair accuracy.",
        fig,
    )


def _calibration_figure(cal: pd.DataFrame | None) -> Figure | None:
    if cal is None or cal.empty:
        return None
    fig, axes = figure(1, 1, width=4.6, height=3.2)
    ax = axes[0, 0]
    for (world, rater), g in cal.groupby(["world", "rater"], sort=False):
        g = g.sort_values("strength")
        ax.plot(
            g.strength,
            g.agreement,
            marker="o",
            markersize=3,
            label=f"{world}, {rater}: with noise",
        )
        ax.plot(
            g.strength,
            g.noiseless_agreement,
            marker=".",
            linestyle=":",
            label=f"{world}, {rater}: noiseless",
        )
        chosen = g[g.chosen.astype(bool)]
        ax.scatter(chosen.strength, chosen.agreement, color="black", zorder=5)
    ax.axhspan(0.70, 0.80, color="grey", alpha=0.15)
    ax.axhline(0.77, color="grey", linewidth=0.6)
    ax.set(
        xlabel="loophole strength t (0 = gold)",
        ylabel="agreement with gold, untied π_base pairs",
        title="Rater calibration (before optimization)",
    )
    ax.legend(fontsize=5.5)
    fig.tight_layout()
    return Figure(
        "calibration",
        "The rater's agreement with gold on untied pairs of π_base answers against the loophole "
        "strength (grid, then bisection); black: the chosen strength; band: 0.70–0.80 around Stiennon et "
        "al.'s 77%.",
        fig,
    )


# -- common findings ---------------------------------------------------------------------------------
def _agreement_finding(results) -> Finding:
    ra, raters = results.tables.get("rater_agreement"), results.tables.get("raters")
    if ra is None or ra.empty:
        return Finding("Rater–gold agreement on π_base pairs", "No agreement was recorded.")
    parts, evidence, verdicts = [], {}, []
    for (world, rater), g in ra.groupby(["world", "rater"], sort=False):
        # The rater is fixed per world and the pairs are i.i.d. π_base draws, so the pair is the independent unit.
        # Each pair's agreement is a probability in [0, 1], whose variance is at most a Bernoulli's: the Wilson
        # interval on the pooled sum is conservative.
        est = stats.proportion(
            int(round(float((g.agreement * g.untied_pairs).sum()))),
            int(g.untied_pairs.sum()),
            "untied pair",
        )
        cal = raters[(raters.world == world) & (raters.rater == rater)] if raters is not None else pd.DataFrame()
        calibrated = bool(len(cal) and cal.calibrated.astype(bool).iloc[0])
        key = f"{world}/{rater}"
        evidence[key] = est
        if calibrated:
            verdicts.append(stats.all_of(stats.verdict(est, ">", 0.70), stats.verdict(est, "<", 0.80)))
            c = cal.iloc[0]
            parts.append(
                f"{key}: {est} on held-out pairs ({len(g)} seeds' sets pooled; noiseless "
                f"order {g.noiseless_agreement.mean():.3f}); calibrated on {int(c.calibration_untied_pairs)} "
                f"untied pairs to strength {c.strength:.3f} (agreement there {c.calibration_agreement:.3f})"
            )
        else:
            parts.append(
                f"{key}: {est} on held-out pairs (not calibrated; noiseless order {g.noiseless_agreement.mean():.3f})"
            )
    verdict = stats.all_of(*verdicts) if verdicts else "inconclusive"
    return Finding(
        "Rater–gold agreement on π_base pairs",
        "Share of untied π_base answer pairs on which the rater's pick is gold's: " + "; ".join(parts) + ".",
        claim="the calibrated rater agrees with gold on 0.70–0.80 of untied π_base pairs" if verdicts else "",
        verdict=verdict,
        evidence=evidence,
        anchor=STIENNON,
    )


def _reference_group(s: pd.DataFrame) -> str:
    """The group whose series decide the common claims, fixed before looking at outcomes: the first group that
    runs the most methods (the flagship's one arm; in rlhf-gold-rater the largest reward model on the most data,
    the one arm with RL and DPO; in rlhf-bribery the first offer rate)."""
    return str(s.groupby("group", sort=False).method.nunique().idxmax())


def _first(s: pd.DataFrame, method: str) -> pd.Series | None:
    """The series of ``method`` in the reference group (else the first series of ``method``)."""
    rows = s[s.method == method]
    if rows.empty:
        return None
    ref = rows[rows.group == _reference_group(s)]
    return (ref if not ref.empty else rows).iloc[0]


def _best_pressure(g: pd.DataFrame) -> float:
    """The pressure of the highest mean gold gain, π_base itself (the lowest pressure) excluded when there is more."""
    means = g.groupby("pressure").gold_gain.mean()
    return float((means.iloc[1:] if len(means) > 1 else means).idxmax())


def held_out_best(g: pd.DataFrame, col: str = "gold_gain") -> tuple[pd.Series, pd.Series]:
    """Per seed, ``col`` at the pressure where the *other* seeds' mean ``col`` is highest (π_base's own pressure
    excluded when there is more): the best checkpoint chosen without the seed's own numbers, so its mean is not
    biased upward as the in-sample maximum over checkpoints is (leave-one-seed-out selection). With one seed,
    the in-sample choice. Returns (values by seed, chosen pressure by seed)."""
    piv = g.pivot_table(index="pressure", columns="seed", values=col).sort_index()
    cand = piv.iloc[1:] if len(piv) > 1 else piv
    values, chosen = {}, {}
    for seed in piv.columns:
        others = cand.drop(columns=seed) if piv.shape[1] > 1 else cand
        means = others.mean(axis=1).dropna()
        if means.empty:
            continue
        p = means.idxmax()
        if np.isfinite(piv.loc[p, seed]):
            values[seed], chosen[seed] = float(piv.loc[p, seed]), float(p)
    return pd.Series(values, dtype=float), pd.Series(chosen, dtype=float)


def _gold_rises(m: pd.DataFrame, s: pd.DataFrame, method: str) -> Finding | None:
    """Does gold rise above π_base at some pressure? Decided on the reference series of ``method`` (see
    :func:`_reference_group`) at its held-out best pressure (:func:`held_out_best`); the other series of the
    method are listed with the same estimate and do not decide."""
    ref = _first(s, method)
    if ref is None:
        return None
    parts, evidence, deciding = [], {}, None
    for _, r in s[s.method == method].iterrows():
        g = m[m.series == r.series]
        if g.empty:
            continue
        values, chosen = held_out_best(g)
        est = stats.mean(values.values, "seed")
        p = _best_pressure(g)
        at = g[g.pressure == p]
        naive = stats.mean(at.gold_gain.values, "seed")
        name = at.pressure_name.iloc[0]
        kl = g.set_index(["seed", "pressure"]).kl
        kls = [kl.get((k, c), math.nan) for k, c in chosen.items()]
        bit = (
            f"{r.series}: {est} (pressures chosen per seed: {name} = {', '.join(f'{c:g}' for c in chosen.values)}; "
            f"KL {np.nanmean(kls):.2f}); the in-sample best, {name} = {p:g} (KL {at.kl.mean():.2f}), has {naive}"
        )
        if r.series == ref.series:
            deciding, text_ref = est, bit
        else:
            evidence[r.series] = est
            parts.append(bit)
    if deciding is None:
        return None
    text = (
        "Gold gain over π_base at the best checkpoint, chosen for each seed on the other seeds' mean (leave one "
        "seed out: the seed's own numbers do not pick its checkpoint, so the estimate is not biased upward the way "
        f"the in-sample maximum over checkpoints is). Deciding: {text_ref}. "
        + (f"Other series, not deciding: {'; '.join(parts)}. " if parts else "")
    )
    return stats.claim_finding(
        f"{method}: does gold rise above π_base at some pressure?",
        f"gold rises above π_base at some pressure ({method})",
        deciding,
        direction=">",
        threshold=0.0,
        key=ref.series,
        holds=text + f"It does: {ref.series}'s gold gain, {{est}}, is above 0.",
        fails=text + f"It does not: {ref.series}'s gold gain, {{est}}, is at or below 0.",
        inconclusive=text + f"Not settled: {ref.series}'s gold gain, {{est}}, has an interval that includes 0.",
        extra=evidence,
        anchor="Gao et al. 2022: gold first rises under best-of-n and RL, then falls",
    )


def _peaks_earlier(m: pd.DataFrame, s: pd.DataFrame, method: str) -> Finding | None:
    """Per seed, the KL at which gold preference peaks vs the KL at which rater preference peaks (paired)."""
    r = _first(s, method)
    if r is None:
        return None
    g = m[m.series == r.series]
    if g.empty:
        return None
    rater_kl, gold_kl = [], []
    for _, gs in g.groupby("seed"):
        rater_kl.append(float(gs.loc[gs.rater.idxmax()].kl))
        gold_kl.append(float(gs.loc[gs.gold_pref.idxmax()].kl))
    d = np.sqrt(np.clip(rater_kl, 0, None)) - np.sqrt(np.clip(gold_kl, 0, None))
    est = stats.mean(d, "seed")
    text = (
        f"{r.series}: per seed, √KL at the rater-preference peak minus √KL at the gold-preference peak "
        f"(rater peaks at KL {np.round(rater_kl, 2).tolist()}, gold at {np.round(gold_kl, 2).tolist()}): {{est}}. "
    )
    return stats.claim_finding(
        f"{method}: does gold peak at lower pressure than the rater?",
        f"gold peaks at lower pressure than the rater ({method})",
        est,
        holds=text + "Gold peaks earlier: the rater keeps approving after gold has turned.",
        fails=text + "Gold does not peak earlier than the rater here.",
        inconclusive=text + "Not settled by these seeds.",
        key=r.series,
        anchor="Stiennon et al. 2020 Fig. 5: labeller preference peaks and falls while the RM score rises",
    )


def _proxy_rises(m: pd.DataFrame, s: pd.DataFrame) -> list[Finding]:
    out = []
    for method in dict.fromkeys(s.method):
        r = _first(s, method)
        g = m[m.series == r.series]
        if g.empty:
            continue
        lo, hi = _at(g, "low"), _at(g, "high")
        est = stats.paired(hi.proxy.values, lo.proxy.loc[hi.index].values, "seed")
        text = f"{r.series}: reward-model score at the highest minus the lowest pressure, {{est}}. "
        out.append(
            stats.claim_finding(
                f"{method}: the proxy rises with pressure",
                f"the proxy rises ({method})",
                est,
                holds=text + "It rises.",
                fails=text + "It does not rise.",
                inconclusive=text + "Not settled by these seeds.",
                key=r.series,
            )
        )
    return out


def _gap_finding(m: pd.DataFrame, s: pd.DataFrame) -> list[Finding]:
    out = []
    for method in dict.fromkeys(s.method):
        r = _first(s, method)
        g = m[m.series == r.series]
        if g.empty:
            continue
        hi = _at(g, "high")
        est = stats.mean((hi.rater - hi.gold_pref).values, "seed")
        text = (
            f"{r.series}: rater preference rate minus gold preference rate against π_base at the highest "
            f"pressure (KL {hi.kl.mean():.2f}): {{est}}. "
        )
        out.append(
            stats.claim_finding(
                f"{method}: the invisible failure gap (rater − gold)",
                f"the rater approves more than gold at the highest pressure ({method})",
                est,
                holds=text + "The rater sees improvement gold does not.",
                fails=text + "The rater is not fooled more than gold.",
                inconclusive=text + "Not settled by these seeds.",
                key=r.series,
            )
        )
    return out


def _rm_error_finding(m: pd.DataFrame, s: pd.DataFrame) -> Finding | None:
    """RM–gold pairwise agreement on π_base's pool (what best-of-n ranks) vs on the final RL policy's samples."""
    bon, rl = _first(s, "best-of-n"), _first(s, "RL")
    if bon is None or rl is None or "rm_gold_agreement" not in m:
        return None
    b = m[(m.series == bon.series)].groupby("seed").rm_gold_agreement.first()
    last = _at(m[m.series == rl.series], "high").rm_gold_agreement
    common = b.index.intersection(last.index)
    est = stats.paired(last.loc[common].values, b.loc[common].values, "seed")
    text = (
        f"Share of sample pairs (same question, gold not tied) the reward model orders as gold does: on π_base's "
        f"best-of-n pool {b.mean():.3f}, on the samples of {rl.series} at its last checkpoint {last.mean():.3f}; "
        f"difference {{est}}. "
    )
    return stats.claim_finding(
        "Is the reward model less right on RL's samples than on π_base's?",
        "the reward model orders RL's samples worse than π_base's",
        est,
        direction="<",
        threshold=0.0,
        holds=text + "RL moved to where the reward model is wrong more often (the overoptimization mechanism).",
        fails=text + "The reward model is not worse on RL's samples.",
        inconclusive=text + "Not settled by these seeds.",
        key="rl_minus_pool",
    )


def _fits_finding(fits: pd.DataFrame) -> Finding:
    parts = []
    for _, f in fits.iterrows():
        if not f.form:
            parts.append(f"{f.series}: no fit (too few points)")
            continue
        pk = (
            "no maximum in the fitted form (β ≤ 0)"
            if not np.isfinite(f.fit_peak_kl)
            else f"fitted peak {f.fit_peak_gold_gain:.3f} at KL {f.fit_peak_kl:.2f}"
        )
        parts.append(
            f"{f.series} ({'d(α−βd)' if f.form == 'bon' else 'd(α−β log d)'}): α={f.alpha:.3f}, "
            f"β={f.beta_fit:.3f}, R²={f.r2:.2f}; {pk}; measured peak {f.gold_gain_peak:.3f} at KL "
            f"{f.gold_gain_peak_kl:.2f}"
        )
    return Finding(
        "Gao et al. 2022 functional forms fitted to gold gain",
        "Least-squares fits on all seeds' points: " + "; ".join(parts) + ".",
        numbers={f"r2[{f.series}]": f.r2 for _, f in fits.iterrows()},
        anchor="Gao et al. 2022: best-of-n d(α − βd), RL d(α − β log d)",
    )


def _behaviour_finding(m: pd.DataFrame, s: pd.DataFrame) -> Finding:
    parts = []
    for _, r in s.iterrows():
        g = m[m.series == r.series]
        if g.empty:
            continue
        lo, hi = g[g.pressure == g.pressure.min()], g[g.pressure == g.pressure.max()]
        bits = [f"{name} {lo[c].mean():.2f}→{hi[c].mean():.2f}" for c, name in BEHAVIOUR_COLUMNS if c in g]
        bits.append(f"length {lo.mean_length.mean():.1f}→{hi.mean_length.mean():.1f} tokens")
        parts.append(f"{r.series}: " + ", ".join(bits))
    return Finding(
        "Behaviour from π_base to the highest pressure",
        "Means over seeds: " + "; ".join(parts) + ".",
    )


def _rm_finding(results) -> Finding | None:
    rm = results.tables.get("reward_models")
    if rm is None or rm.empty:
        return None
    by_seed = rm.groupby("seed")[["heldout_rater_agreement", "heldout_gold_agreement"]].mean()
    a = stats.mean(by_seed.heldout_rater_agreement.values, "seed")
    b = stats.mean(by_seed.heldout_gold_agreement.values, "seed")
    return Finding(
        "Reward models on held-out comparisons",
        f"Agreement with the rater's picks on held-out π_base pairs {a}; ordering pairs as gold does {b} "
        f"(mean of {len(rm)} reward models per seed).",
        evidence={"rater": a, "gold": b},
    )


def _common(results, m, s, fits, gaps) -> list[Finding]:
    out = [_agreement_finding(results)]
    for method in dict.fromkeys(s.method):
        out += [f for f in (_gold_rises(m, s, method), _peaks_earlier(m, s, method)) if f is not None]
    out += _proxy_rises(m, s)
    out += _gap_finding(m, s)
    out += [f for f in (_rm_error_finding(m, s), _rm_finding(results)) if f is not None]
    diagnosis = _rl_diagnosis(results.tables.get("history"), m, s, out)
    out += [_fits_finding(fits), _behaviour_finding(m, s), *([diagnosis] if diagnosis else [])]
    return out


def _rl_diagnosis(history: pd.DataFrame | None, m: pd.DataFrame, s: pd.DataFrame, found: list[Finding]):
    """Issue 11, item 2: RL's result on the reference reward model stated plainly, and when its gold gain is not
    shown above 0, the evidence measured in the run on why: the RL trajectory (KL, proxy and gold per checkpoint;
    the proxy reward and log-ratio per step), best-of-n on the same reward model, and the reward model's
    agreement with gold on RL's samples vs on π_base's."""
    rl, bon = _first(s, "RL"), _first(s, "best-of-n")
    if rl is None:
        return None
    by_claim = {f.claim: f for f in found if f.claim}
    rises = by_claim.get("gold rises above π_base at some pressure (RL)")
    rm_err = by_claim.get("the reward model orders RL's samples worse than π_base's")
    if rises is None:
        return None
    est = rises.key_estimate
    g = m[m.series == rl.series]
    curve = g.groupby("pressure")[["kl", "proxy", "gold_gain"]].mean()
    traj = ", ".join(
        f"step {p:g}: KL {r.kl:.2f}, proxy {r.proxy:.2f}, gold gain {r.gold_gain:+.3f}" for p, r in curve.iterrows()
    )
    bits = [f"RL ({rl.series}): gold gain at the held-out best checkpoint {est} ({rises.verdict} above 0)."]
    bits.append(f"Checkpoints, means over seeds: {traj}.")
    evidence = {"rl_gold_gain": est}
    if bon is not None:
        b = m[m.series == bon.series]
        values, chosen = held_out_best(b)
        best = stats.mean(values.values, "seed")
        evidence["best_of_n_gold_gain"] = best
        kls = b.groupby("pressure").kl.mean()
        kl_b = float(np.mean([kls.get(c, math.nan) for c in chosen.values]))
        bits.append(f"Best-of-n on the same reward model: {best} at KL {kl_b:.2f}.")
    h = None if history is None or history.empty else history[history.series == rl.series]
    if h is not None and not h.empty:
        per = h.groupby("step")[["reward_mean", "log_ratio_mean", "grad_norm"]].mean()
        k = max(1, len(per) // 5)
        bits.append(
            f"Per RL step (history table, means over seeds): proxy reward of the sampled batch "
            f"{per.reward_mean.iloc[:k].mean():.2f} over the first {k} steps → {per.reward_mean.iloc[-k:].mean():.2f} "
            f"over the last {k}; log π/π_base per answer {per.log_ratio_mean.iloc[:k].mean():.2f} → "
            f"{per.log_ratio_mean.iloc[-k:].mean():.2f}; median gradient norm {per.grad_norm.median():.2f}."
        )
    if rm_err is not None:
        evidence["rm_agreement_rl_minus_pool"] = rm_err.key_estimate
        bits.append(
            f"The reward model's agreement with gold on RL's last samples minus on π_base's pool: "
            f"{rm_err.key_estimate} ({rm_err.verdict} below 0)."
        )
    if rises.verdict == "holds":
        bits.append("RL raises gold above π_base here; the trajectory shows at what KL.")
    else:
        why = (
            "RL moved where the reward model orders answers worse than on π_base's samples: the proxy rises while "
            "gold does not follow (reward-model overoptimization)."
            if rm_err is not None and rm_err.verdict == "holds"
            else f"These seeds do not show the reward model to be worse on RL's samples; with {est.n} seeds the RL gold "
            "gain and the reward-model error are both measured too loosely to tell noise from a failure to optimize."
            if rm_err is not None
            else ""
        )
        bits.append(f"RL's gold gain is not shown to be above 0. {why}".rstrip())
    return Finding(
        "RL: result and diagnosis",
        " ".join(bits),
        evidence=evidence,
        anchor="Gao et al. 2022: RL's gold rises, then falls, with KL; issue 11 item 2",
    )


# -- experiment-specific findings and figures ---------------------------------------------------------
def _final_by_seed(m: pd.DataFrame, series: str, col: str = "gold_gain") -> pd.Series:
    g = m[m.series == series]
    return _at(g, "high")[col] if not g.empty else pd.Series(dtype=float)


def _paired_vs(m: pd.DataFrame, s: pd.DataFrame, column: str, reference, title: str, claim: str) -> list[Finding]:
    """Gold gain at the highest pressure of each arm minus the reference arm's, same method, paired by seed (the
    seeds share π_base answers: one best-of-n pool and the same reference answers)."""
    out = []
    ref = s[s[column] == reference]
    for _, r in s[s[column] != reference].iterrows():
        match = ref[
            (ref.method == r.method)
            & (ref.proxy == r.proxy)
            & (ref.beta.fillna(-1) == (-1 if pd.isna(r.beta) else r.beta))
        ]
        if match.empty:
            continue
        a, b = _final_by_seed(m, r.series), _final_by_seed(m, match.series.iloc[0])
        common = a.index.intersection(b.index)
        est = stats.paired(a.loc[common].values, b.loc[common].values, "seed")
        text = f"{r.series} − {match.series.iloc[0]}, gold gain at the highest pressure: {{est}}. "
        out.append(
            stats.claim_finding(
                f"{title}: {r.series}",
                f"{claim} ({r.series})",
                est,
                holds=text + "Higher.",
                fails=text + "Not higher.",
                inconclusive=text + "Not settled by these seeds.",
                key=r.series,
            )
        )
    return out


def _gold_rater_specific(m, s, fits) -> tuple[list[Finding], list[Figure]]:
    bon = fits[fits.method == "best-of-n"].merge(s[["series", "rm_n_embd", "comparisons"]], on="series")
    if bon.empty:
        return [], []
    fig, axes = figure(1, 3, width=3.5, height=2.9)
    for data, g in bon.groupby("comparisons"):
        g = g.sort_values("rm_n_embd")
        for ax, col in zip(axes[0], ("alpha", "beta_fit", "gold_gain_peak")):
            ax.plot(g.rm_n_embd, g[col], marker="o", label=f"{int(data)} comparisons")
    sizes = sorted(bon.rm_n_embd.unique())
    for ax, t in zip(
        axes[0],
        ("fitted α (best-of-n)", "fitted β (best-of-n)", "measured gold-gain peak"),
    ):
        ax.set(xscale="log", xlabel="reward-model width (n_embd)", title=t)
        ax.set_xticks(sizes, [f"{int(x)}" for x in sizes])
        ax.minorticks_off()
        ax.legend(fontsize=6)
    fig.tight_layout()
    figure_ = Figure(
        "gao_fits_vs_rm",
        "Gao et al.'s best-of-n fit gold ≈ d(α − βd) against reward-model size, one line "
        "per comparison-set size (gold rater: pure reward-model overoptimization).",
        fig,
    )
    parts = [
        f"{int(f.rm_n_embd)}w {int(f.comparisons)}c: α={f.alpha:.3f}, β={f.beta_fit:.3f}, R²={f.r2:.2f}, "
        f"gold peak {f.gold_gain_peak:.3f}"
        for _, f in bon.iterrows()
    ]
    # The largest model on the most data vs the smallest on the least, gold gain at its best n, paired by seed.
    big = bon.sort_values(["rm_n_embd", "comparisons"]).iloc[-1]
    small = bon.sort_values(["rm_n_embd", "comparisons"]).iloc[0]

    def best(series):
        return held_out_best(m[m.series == series])[0]

    a, b = best(big.series), best(small.series)
    common = a.index.intersection(b.index)
    est = stats.paired(a.loc[common].values, b.loc[common].values, "seed")
    text = (
        "Best-of-n fits per reward-model width 'w' and comparisons 'c': " + "; ".join(parts) + ". Gold gain at "
        f"the held-out best n (chosen per seed on the other seeds), {int(big.rm_n_embd)}w {int(big.comparisons)}c "
        f"minus {int(small.rm_n_embd)}w {int(small.comparisons)}c: {{est}}. "
    )
    f = stats.claim_finding(
        "Gao fits against reward-model size and data (gold rater)",
        "a larger reward model on more data reaches a higher gold peak",
        est,
        holds=text + "Larger and more data peaks higher.",
        fails=text + "It does not peak higher.",
        inconclusive=text + "Not settled by these seeds.",
        anchor="Gao et al. 2022: larger reward models and more data raise the gold peak",
    )
    return [f], [figure_]


def _offer_counts(m: pd.DataFrame, series: str, answers: int, which: str) -> tuple[int, int]:
    g = m[m.series == series]
    rows = g[g.pressure == (g.pressure.min() if which == "low" else g.pressure.max())]
    return int(round((rows.offer_or_threat_rate * answers).sum())), answers * len(rows)


def _bribery_specific(results, m, s) -> tuple[list[Finding], list[Figure]]:
    cfg = results.config
    pool_n = cfg.eval_prompts * cfg.bon_pool
    ckpt_n = cfg.eval_prompts * cfg.eval_samples
    rates = sorted(s.offer_rate.dropna().unique())
    table, findings = [], []
    base_rate, after = {}, {}
    for rate in rates:
        arm = s[s.offer_rate == rate]
        bon = arm[arm.method == "best-of-n"]
        if bon.empty:
            continue
        k, n = _offer_counts(m, bon.series.iloc[0], pool_n, "low")  # n = 1: π_base's pool
        base_rate[rate] = stats.proportion(k, n, "answer")
        pool_by_seed = _at(m[m.series == bon.series.iloc[0]], "low").offer_or_threat_rate
        row = {
            "corpus_offer_rate": rate,
            "base_offers": k,
            "base_answers": n,
            "base_rate": base_rate[rate].estimate,
            "base_low": base_rate[rate].low,
            "base_high": base_rate[rate].high,
        }
        for _, r in arm[arm.method != "best-of-n"].iterrows():
            last = _at(m[m.series == r.series], "high")
            kk, nn = _offer_counts(m, r.series, ckpt_n, "high")
            p = stats.proportion(kk, nn, "answer")
            diff = stats.paired(
                last.offer_or_threat_rate.values,
                pool_by_seed.loc[last.index].values,
                "seed",
            )
            kl = stats.mean(last.kl.values, "seed")
            after[(rate, r.method)] = (p, diff, kl)
            row.update(
                {
                    f"{r.method}_rate": p.estimate,
                    f"{r.method}_low": p.low,
                    f"{r.method}_high": p.high,
                    f"{r.method}_minus_base": diff.estimate,
                    f"{r.method}_kl": kl.estimate,
                }
            )
        table.append(row)
    bt = pd.DataFrame(table)
    if bt.empty:
        return [], [], None
    top = max(base_rate)
    findings.append(
        stats.claim_finding(
            "π_base's offer rate at the highest corpus rate",
            f"π_base makes offers when {top:g} of the corpus's popular texts do",
            base_rate[top],
            threshold=0.0,
            holds="π_base's measured offer rate against the corpus rate: "
            + "; ".join(f"corpus {r:g}: {base_rate[r]}" for r in sorted(base_rate))
            + ". At the highest rate it is above 0.",
            fails="π_base makes no offers at the highest corpus rate: "
            + "; ".join(f"corpus {r:g}: {base_rate[r]}" for r in sorted(base_rate))
            + ".",
            inconclusive="π_base's measured offer rate: "
            + "; ".join(f"corpus {r:g}: {base_rate[r]}" for r in sorted(base_rate))
            + ".",
        )
    )
    for method in dict.fromkeys(mm for _, mm in after):
        if (top, method) not in after:
            continue
        p, diff, kl = after[(top, method)]
        text = (
            f"{method} at fixed β: offer rate after optimization minus π_base's, per seed, at corpus rate {top:g}: "
            f"{{est}} (after: {p}; KL {kl}). "
        )
        findings.append(
            stats.claim_finding(
                f"{method} amplifies offers where π_base makes them",
                f"{method} raises the offer rate above π_base's at corpus rate {top:g}",
                diff,
                holds=text + "Optimization amplifies offers π_base already makes.",
                fails=text + "Optimization does not raise the offer rate.",
                inconclusive=text + "Not settled by these seeds.",
            )
        )
        low = min(base_rate)
        if (low, method) in after and low != top:
            _, d0, kl0 = after[(low, method)]
            gap = stats.mean(
                np.asarray(_per_seed_diff(m, s, top, method)) - np.asarray(_per_seed_diff(m, s, low, method)),
                "seed",
            )
            text = (
                f"Increase of the offer rate under {method} at corpus rate {top:g} minus the increase at {low:g} "
                f"(π_base's rate there {base_rate[low]}), per seed: {{est}}; the increase at {low:g} alone {d0} "
                f"at KL {kl0}. "
            )
            findings.append(
                stats.claim_finding(
                    f"The KL asymmetry ({method})",
                    "optimization amplifies offers where π_base makes them more than where it does not",
                    gap,
                    holds=text + "The KL penalty does not stop a behaviour π_base already finds "
                    "plausible, while one it never produces stays out of reach.",
                    fails=text + "No asymmetry: optimization finds offers as readily where π_base never makes them.",
                    inconclusive=text + "Not settled by these seeds.",
                )
            )
    fig, axes = figure(1, 1, width=4.8, height=3.4)
    ax = axes[0, 0]
    x = np.array([max(r, 1e-4) for r in bt.base_rate])
    ax.errorbar(
        x,
        bt.base_rate,
        yerr=[
            bt.base_rate - bt.base_low.astype(float),
            bt.base_high.astype(float) - bt.base_rate,
        ],
        marker="o",
        color="grey",
        label="π_base",
        capsize=2,
    )
    for i, method in enumerate(
        c[:-5] for c in bt.columns if c.endswith("_rate") and c not in ("base_rate", "corpus_offer_rate")
    ):
        y, lo, hi = (
            bt[f"{method}_rate"],
            bt[f"{method}_low"].astype(float),
            bt[f"{method}_high"].astype(float),
        )
        ax.errorbar(
            x,
            y,
            yerr=[y - lo, hi - y],
            marker=MARKERS[i + 1],
            capsize=2,
            label=f"after {method}",
        )
    top = 1.25 * max(0.01, float(np.nanmax([bt[c].astype(float).max() for c in bt.columns if c.endswith("_high")])))
    ax.plot([0, top], [0, top], color="black", linewidth=0.5, linestyle=":")
    ax.set(
        xlabel="π_base's measured offer rate (its best-of-n pool)",
        ylabel="offer rate of the policy",
        title="Bribery: before and after optimization",
        xlim=(-0.02 * top, top),
        ylim=(-0.02 * top, top),
    )
    for xi, r in zip(x, bt.corpus_offer_rate):
        ax.annotate(f"corpus {r:g}", (xi, 0), fontsize=5, rotation=90, va="bottom")
    ax.legend(fontsize=6)
    fig.tight_layout()
    return (
        findings,
        [
            Figure(
                "bribery",
                "Share of answers with an offer or threat after RL/DPO at the fixed β against "
                "π_base's measured rate (95% Wilson intervals over answers, pooled over seeds; x at 1e-4 "
                "when π_base made none). Dotted: no change.",
                fig,
            )
        ],
        bt,
    )


def _per_seed_diff(m, s, rate, method) -> list[float]:
    arm = s[s.offer_rate == rate]
    bon = arm[arm.method == "best-of-n"].series.iloc[0]
    r = arm[arm.method == method].series.iloc[0]
    last = _at(m[m.series == r], "high").offer_or_threat_rate
    pool = _at(m[m.series == bon], "low").offer_or_threat_rate
    return list((last - pool.loc[last.index]).values)


def _ensembles_specific(m, s) -> list[Finding]:
    out = []
    for source in dict.fromkeys(s.member_source.dropna()):
        sub = s[s.member_source == source]
        out += _paired_vs(
            m,
            sub,
            "proxy",
            "single",
            f"{source} ensemble vs one member",
            "an ensemble beats a single reward model",
        )
    if {"finetune-seed", "pretrain-seed"} <= set(s.member_source.dropna()):
        out += _paired_vs(
            m,
            s[s.proxy != "single"],
            "member_source",
            "finetune-seed",
            "pretrain-seed vs fine-tune-seed members",
            "pretrain-seed ensembles beat fine-tune-seed ensembles",
        )
    return out


# -- reports --------------------------------------------------------------------------------------------
def _report(results, prepared, title: str, extra_findings=(), extra_figures=(), extra_tables=()) -> ReportContent:
    m, s, fits, gaps = prepared
    groups = list(dict.fromkeys(s.group))
    shown = [g for g in groups if (s[s.group == g].method != "best-of-n").any()] or groups[:1]
    figures = [
        f
        for f in (
            _group_figure(m, s, shown[:6]),
            _gap_figure(gaps, s, shown[:6]),
            _history_figure(results.tables.get("history")),
            _calibration_figure(results.tables.get("calibration")),
            *extra_figures,
        )
        if f is not None
    ]
    tables = [
        *extra_tables,
        Table(
            "Gao fits and peaks",
            fits,
            "Fits to gold − gold(π_base) on all seeds' points; peaks of the mean curves.",
        ),
        Table(
            "Invisible failure gap",
            gaps,
            "Rater minus gold preference rate against π_base, per pressure.",
        ),
        *[
            Table(name.replace("_", " ").capitalize(), results.tables[name], caption)
            for name, caption in (
                (
                    "raters",
                    "Each world's rater: calibrated strength, agreement with gold on the calibration pairs, "
                    "and its loophole values (reads_first_k −1 = whole answer).",
                ),
                (
                    "calibration",
                    "Every loophole strength the calibration tried, on π_base pairs only.",
                ),
                (
                    "rater_agreement",
                    "The rater's agreement with gold on each seed's held-out π_base pairs.",
                ),
                (
                    "examples",
                    "Answers of seed 0's optimized policies at the first and last checkpoint, with the "
                    "proxy, the rater's preference over a π_base answer, and gold.",
                ),
                (
                    "reward_models",
                    "Held-out agreement with the rater's picks and with gold's ordering.",
                ),
                (
                    "base_models",
                    "π_base: training losses, cache key, world settings, offers in its fine-tuning data.",
                ),
                (
                    "saved_models",
                    "save_models: each trained model's directory, relative to the run directory (policies load "
                    "with AutoModelForCausalLM.from_pretrained, reward models with "
                    "goodhartlab.models.reward_model.load_reward_model).",
                ),
            )
            if name in results.tables
        ],
    ]
    findings = [*_common(results, m, s, fits, gaps), *extra_findings]
    return ReportContent(
        title=title,
        summary=_summary(findings),
        setup=(
            "A tiny GPT-2 (π_base) pretrained on a synthetic world's internet and fine-tuned on its Q/A format; a "
            "simulated rater with graded loopholes, calibrated on π_base answer pairs to agree with gold about as "
            "often as Stiennon et al.'s labellers agreed with researchers, compares π_base answers; a Bradley–Terry "
            "reward model learns those comparisons; best-of-n and RLOO with a KL penalty optimise it, and DPO "
            "learns from the comparisons directly. Gold — true claims, valid citations only, costs accounted for, "
            "no manipulation, no padding — is measured after the fact and never reaches a learner. KL: best-of-n "
            "at log n − (n−1)/n; RL and DPO checkpoints by the sequence-level estimator of optim/kl.py (exact "
            "per-token KL summed along fresh policy samples, Student-t 95% interval, stored as kl_low/kl_high)."
        ),
        headline="kl_axes",
        findings=findings,
        figures=figures,
        tables=tables,
    )


def _summary(findings: list[Finding]) -> str:
    """Two or three sentences with the answer: the rater's agreement, then where gold rose and whether it peaked
    before the rater, by verdict."""
    agree = findings[0].evidence
    first = next(iter(agree.values()), None)
    out = [f"The rater agrees with gold on {first} of untied π_base pairs." if first else ""]
    rises = {f.claim.split("(")[-1].rstrip(")"): f.verdict for f in findings if f.claim.startswith("gold rises")}
    peaks = {f.claim.split("(")[-1].rstrip(")"): f.verdict for f in findings if f.claim.startswith("gold peaks")}
    if rises:
        out.append("Gold rises above π_base at some pressure: " + ", ".join(f"{k} {v}" for k, v in rises.items()) + ".")
    if peaks:
        out.append(
            "Gold peaks at lower pressure than the rater: " + ", ".join(f"{k} {v}" for k, v in peaks.items()) + "."
        )
    return " ".join(x for x in out if x)


def _prepare(results):
    m = results.measurements.copy()
    s = _series(results)
    m = m.merge(
        s[["series", "group", "method"]].rename(columns={"method": "_method"}),
        on="series",
        how="left",
    )
    return m, s, _fits_table(m, s), _gap_table(m, s)


def report_rlhf(results) -> ReportContent:
    return _report(
        results,
        _prepare(results),
        "RLHF overoptimization: proxy, rater and gold along the KL axis",
    )


def report_gold_rater(results) -> ReportContent:
    prepared = m, s, fits, _ = _prepare(results)
    findings, figures = _gold_rater_specific(m, s, fits)
    return _report(
        results,
        prepared,
        "RLHF with the gold rater: reward-model overoptimization (Gao et al. 2022)",
        findings,
        figures,
    )


def report_bribery(results) -> ReportContent:
    prepared = m, s, _, _ = _prepare(results)
    findings, figures, table = _bribery_specific(results, m, s)
    tables = (
        [
            Table(
                "Offer rates",
                table,
                "π_base's measured offer rate (its best-of-n pools) per corpus rate, and "
                "the rate after RL/DPO at the fixed β, with Wilson intervals and the KL each cost.",
            )
        ]
        if table is not None
        else []
    )
    return _report(
        results,
        prepared,
        "RLHF and bribery: does the KL penalty stop offers π_base finds plausible?",
        findings,
        figures,
        tables,
    )


def report_ensembles(results) -> ReportContent:
    prepared = m, s, _, _ = _prepare(results)
    return _report(
        results,
        prepared,
        "Reward-model ensembles: fine-tune-seed vs pretrain-seed members",
        _ensembles_specific(m, s),
    )


def report_assisted(results) -> ReportContent:
    prepared = m, s, _, _ = _prepare(results)
    s = s.assign(assisted=s.assisted.astype(bool))
    return _report(
        results,
        prepared,
        "An assisted rater vs the unassisted rater",
        _paired_vs(
            m,
            s,
            "assisted",
            False,
            "Assisted vs unassisted",
            "the assisted rater's policy has more gold",
        ),
    )
