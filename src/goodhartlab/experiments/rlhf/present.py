"""Report of the RLHF experiments, computed from stored measurements only.

Axes: every curve is drawn against d = √KL(π‖π_base) in nats^½ (Gao et al. 2022's axis): best-of-n at
KL = log n − (n−1)/n, RL checkpoints at their estimated KL. Channels: proxy = reward-model score
(standardised on π_base answers); rater = the rater's preference rate against π_base answers (Stiennon
et al. 2020 Fig. 5's axis); gold = gold's preference rate against the same π_base answers, and the gold
score gain over π_base (what Gao's forms are fitted to). Intervals are over seeds (95%).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from goodhartlab.analysis.intervals import bootstrap_mean, wilson
from goodhartlab.analysis.overoptimization import fit_best_of_n, fit_rl, peak
from goodhartlab.core import rng as rngs
from goodhartlab.core.records import Figure, Finding, Interval, ReportContent, Table
from goodhartlab.report.plots import CHANNEL_COLORS, band, figure, mean_band

MARKERS = "osD^v<>p*h"
BEHAVIOUR_COLUMNS = [("true_claim_rate", "true claims"), ("misconception_rate", "misconceptions"),
                     ("fabricated_citation_rate", "fabricated citations"), ("flattery_rate", "flattery"),
                     ("offer_or_threat_rate", "offers/threats"), ("filler_rate", "filler")]


def _series(results) -> pd.DataFrame:
    s = results.tables.get("series")
    if s is None or s.empty:
        names = results.measurements.series.unique()
        s = pd.DataFrame({"series": names, "world": "base", "arm": "", "proxy": "",
                          "method": ["best-of-n" if "best-of-n" in n else "RL" for n in names], "beta": math.nan})
    s = s.copy()
    for col in ("arm", "proxy"):
        s[col] = s[col].astype(object).where(s[col].notna(), "")  # "" is read back from CSV as NaN
    # (runs stored before lone reward models had an empty proxy label called them "single")
    s["proxy"] = ["" if p == "single" and a else p for a, p in zip(s.arm, s.proxy)]
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


def _per_seed(g: pd.DataFrame, col: str, which: str) -> np.ndarray:
    """Per seed, ``col`` at the lowest or highest pressure."""
    rows = g.loc[g.groupby("seed").pressure.idxmin() if which == "low" else g.groupby("seed").pressure.idxmax()]
    return rows[col].values


def _ci(values, rng) -> Interval:
    return bootstrap_mean(values, rng)


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
        rows.append({"series": r.series, "group": r.group, "method": r.method, "beta": r.beta,
                     "form": fit.form if fit else "", "alpha": fit.alpha if fit else math.nan,
                     "beta_fit": fit.beta if fit else math.nan, "r2": fit.r2 if fit else math.nan,
                     "fit_peak_kl": fk, "fit_peak_gold_gain": fv,
                     "rater_peak_kl": kr, "rater_peak": vr, "gold_pref_peak_kl": kg, "gold_pref_peak": vg,
                     "gold_gain_peak_kl": kgg, "gold_gain_peak": vgg, "max_kl": float(c.kl.max())})
    return pd.DataFrame(rows)


def _gap_table(m: pd.DataFrame, s: pd.DataFrame, rng) -> pd.DataFrame:
    rows = []
    for _, r in s.iterrows():
        g = m[m.series == r.series]
        for p, gp in g.groupby("pressure"):
            gap = _ci((gp.rater - gp.gold_pref).values, rng)
            rows.append({"series": r.series, "pressure_name": gp.pressure_name.iloc[0], "pressure": p,
                         "kl": gp.kl.mean(), "rater_pref": gp.rater.mean(), "gold_pref": gp.gold_pref.mean(),
                         "gap": gap.estimate, "gap_low": gap.low, "gap_high": gap.high})
    return pd.DataFrame(rows)


# -- figures ---------------------------------------------------------------------------------------
def _group_figure(m: pd.DataFrame, s: pd.DataFrame, groups: list[str]) -> Figure:
    fig, axes = figure(len(groups), 4, width=3.5, height=2.9)
    for row, grp in enumerate(groups):
        ax_p, ax_r, ax_g, ax_b = axes[row]
        for i, (_, r) in enumerate(s[s.group == grp].iterrows()):
            g = m[m.series == r.series]
            if g.empty:
                continue
            c = _mean_curve(g)
            label = "best-of-n" if r.method == "best-of-n" else f"RL β={r.beta:g}"
            ls = "-" if r.method == "best-of-n" else "--"
            mk = MARKERS[i % len(MARKERS)]
            band(ax_p, c.d, c.proxy, c.proxy_low, c.proxy_high, color=CHANNEL_COLORS["proxy"], linestyle=ls, marker=mk, markersize=3, label=label)
            band(ax_r, c.d, c.rater, c.rater_low, c.rater_high, color=CHANNEL_COLORS["rater"], linestyle=ls, marker=mk, markersize=3, label=f"rater, {label}")
            band(ax_r, c.d, c.gold_pref, c.gold_pref_low, c.gold_pref_high, color=CHANNEL_COLORS["gold"], linestyle=ls, marker=mk, markersize=3, label=f"gold, {label}")
            band(ax_g, c.d, c.gold_gain, c.gold_gain_low, c.gold_gain_high, color=CHANNEL_COLORS["gold"], linestyle=ls, marker=mk, markersize=3, label=label)
            fit = _fit(r.method, g)
            if fit is not None:
                xs = np.linspace(0, c.d.max(), 60)
                ax_g.plot(xs, fit.predict(xs ** 2), color="black", linestyle=":", linewidth=0.8)
            if r.method == "best-of-n":
                for col, name in BEHAVIOUR_COLUMNS:
                    if col in c:
                        ax_b.plot(c.d, c[col], marker=mk, markersize=3, label=name)
        ax_r.axhline(0.5, color="grey", linewidth=0.6)
        ax_g.axhline(0.0, color="grey", linewidth=0.6)
        title = "" if grp == "RLHF" else f"{grp}: "
        ax_p.set(title=f"{title}proxy (RM score)", xlabel="√KL (nats^½)", ylabel="reward-model score")
        ax_r.set(title=f"{title}preference vs π_base", xlabel="√KL (nats^½)", ylabel="preferred to π_base answer", ylim=(-0.02, 1.02))
        ax_g.set(title=f"{title}gold gain (dotted: Gao fit)", xlabel="√KL (nats^½)", ylabel="gold − gold(π_base)")
        ax_b.set(title=f"{title}behaviour, best-of-n", xlabel="√KL (nats^½)", ylabel="share of answers", ylim=(-0.02, 1.02))
        for ax in (ax_p, ax_r, ax_g, ax_b):
            ax.legend(fontsize=5.5)
    fig.tight_layout()
    return Figure("kl_axes", "Proxy (blue), rater (orange) and gold (green) on shared √KL axes; solid: best-of-n, "
                  "dashed: RL checkpoints per β. Means over seeds with 95% bands. Middle panel: the share of answers "
                  "preferred to a π_base answer, by the rater (Stiennon et al. Fig. 5 analogue) and by gold.", fig)


def _gap_figure(gaps: pd.DataFrame, s: pd.DataFrame, groups: list[str]) -> Figure:
    fig, axes = figure(1, 1, width=5.2, height=3.4)
    ax = axes[0, 0]
    for i, (_, r) in enumerate(s[s.group.isin(groups)].iterrows()):
        g = gaps[gaps.series == r.series]
        if g.empty:
            continue
        d = np.sqrt(g.kl.clip(lower=0))
        band(ax, d, g.gap, g.gap_low, g.gap_high, marker=MARKERS[i % len(MARKERS)], markersize=3,
             linestyle="-" if r.method == "best-of-n" else "--", label=r.series)
    ax.axhline(0, color="grey", linewidth=0.6)
    ax.set(xlabel="√KL (nats^½)", ylabel="rater pref − gold pref", title="The invisible failure: rater − gold")
    ax.legend(fontsize=6)
    fig.tight_layout()
    return Figure("invisible_gap", "Rater preference rate minus gold preference rate against π_base, as pressure grows "
                  "(95% bootstrap bands over seeds). Above 0: the rater likes what gold does not.", fig)


def _gold_rater_figure(fits: pd.DataFrame, rm: pd.DataFrame) -> Figure | None:
    bon = fits[fits.method == "best-of-n"].copy()
    if bon.empty:
        return None
    parsed = bon.group.str.extract(r"RM (\d+)w (\d+)c").astype(float)
    bon["size"], bon["data"] = parsed[0], parsed[1]
    bon = bon.dropna(subset=["size"])
    if bon.empty:
        return None
    fig, axes = figure(1, 3, width=3.5, height=2.9)
    for data, g in bon.groupby("data"):
        g = g.sort_values("size")
        axes[0, 0].plot(g["size"], g.alpha, marker="o", label=f"{int(data)} comparisons")
        axes[0, 1].plot(g["size"], g.beta_fit, marker="o", label=f"{int(data)} comparisons")
        axes[0, 2].plot(g["size"], g.gold_gain_peak, marker="o", label=f"{int(data)} comparisons")
    sizes = sorted(bon["size"].unique())
    for ax, t in zip(axes[0], ("fitted α (best-of-n)", "fitted β (best-of-n)", "measured gold-gain peak")):
        ax.set(xscale="log", xlabel="reward-model width (n_embd)", title=t)
        ax.set_xticks(sizes, [f"{int(x)}" for x in sizes])
        ax.minorticks_off()
        ax.legend(fontsize=6)
    fig.tight_layout()
    return Figure("gao_fits_vs_rm", "Gao et al.'s best-of-n fit gold ≈ d(α − βd) against reward-model size, one line per "
                  "comparison-set size (gold rater: pure reward-model overoptimization).", fig)


def _bribery_figure(m: pd.DataFrame, s: pd.DataFrame) -> Figure | None:
    rl = s[s.method == "RL"]
    if rl.empty:
        return None
    fig, axes = figure(1, 1, width=4.6, height=3.2)
    ax = axes[0, 0]
    rates, before, after = [], [], []
    for _, r in rl.iterrows():
        g = m[m.series == r.series]
        rates.append(_offer_rate_of(r.world))
        before.append(g[g.pressure == g.pressure.min()].offer_or_threat_rate.mean())
        after.append(g[g.pressure == g.pressure.max()].offer_or_threat_rate.mean())
    x = np.arange(len(rates))
    ax.bar(x - 0.2, before, 0.4, label="π_base (RL step 0)", color="grey")
    ax.bar(x + 0.2, after, 0.4, label="after RL", color=CHANNEL_COLORS["proxy"])
    ax.set_xticks(x, [f"{r:g}" for r in rates])
    ax.set(xlabel="offer/threat rate in the corpus", ylabel="answers with an offer or threat")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return Figure("bribery", "Share of answers with an offer or threat before and after RL at the fixed β, per corpus rate "
                  "(means over seeds).", fig)


def _offer_rate_of(world: str) -> float:
    try:
        return float(str(world).split()[-1])
    except ValueError:
        return math.nan


# -- findings --------------------------------------------------------------------------------------
def _findings(results, m: pd.DataFrame, s: pd.DataFrame, fits: pd.DataFrame, gaps: pd.DataFrame) -> list[Finding]:
    cfg = results.config
    rng = rngs.generator(cfg.seed, "report", "bootstrap")
    seeds = int(m.seed.nunique())
    out: list[Finding] = []
    # 1. proxy rises
    parts, nums = [], {}
    for _, r in s.iterrows():
        g = m[m.series == r.series]
        if g.empty:
            continue
        lo, hi = _ci(_per_seed(g, "proxy", "low"), rng), _ci(_per_seed(g, "proxy", "high"), rng)
        parts.append(f"{r.series}: {lo} → {hi}")
        nums[f"proxy_final[{r.series}]"] = hi.estimate
    out.append(Finding("The proxy rises with pressure",
                       "Reward-model score (standardised on π_base answers) at the lowest → highest pressure, mean over "
                       f"{seeds} seed(s) with 95% bootstrap intervals: " + "; ".join(parts) + ".", nums))
    # 2. rater curve, gold curve, peaks
    parts, nums, earlier, rises = [], {}, [], []
    for _, f in fits.iterrows():
        g = m[m.series == f.series]
        top = g[g.pressure == g.pressure.max()]
        rp, gp = _ci(top.rater, rng), _ci(top.gold_pref, rng)
        at_peak = _ci(g[np.isclose(g.groupby("pressure").kl.transform("mean"), f.rater_peak_kl)].rater, rng)
        rises.append(bool(at_peak.low > 0.5))
        e = f.gold_pref_peak_kl < f.rater_peak_kl  # strictly: both peaking at π_base is not "earlier"
        lower = f.gold_pref_peak < f.rater_peak
        earlier.append(bool(e and lower))
        parts.append(f"{f.series}: rater preference peaks at {at_peak} (KL {f.rater_peak_kl:.2f}), gold preference "
                     f"peaks at {f.gold_pref_peak:.3f} (KL {f.gold_pref_peak_kl:.2f}); at the highest pressure (KL "
                     f"{top.kl.mean():.2f}) rater {rp}, gold {gp} — gold peaks "
                     + ("earlier and lower" if e and lower else "lower but not earlier" if lower else
                        "earlier but not lower" if e else "neither earlier nor lower"))
        nums[f"rater_peak[{f.series}]"] = f.rater_peak
        nums[f"gold_pref_peak[{f.series}]"] = f.gold_pref_peak
    verdict = (f"Gold peaks earlier and lower than the rater in {sum(earlier)} of {len(earlier)} curves. The rater's "
               f"preference over π_base rises significantly above 0.5 (95% interval over seeds above 0.5 at its peak) in "
               f"{sum(rises)} of {len(rises)} curves"
               + (" — Stiennon et al.'s rise of labeller preference with optimization does not appear here."
                  if not any(rises) else ".") if earlier else "No curves.")
    out.append(Finding("Rater preference (Stiennon Fig. 5 analogue) vs gold preference against π_base",
                       verdict + " A preference rate of 0.5 means no better than π_base. " + "; ".join(parts) + ".",
                       {**nums, "curves_gold_earlier_and_lower": float(sum(earlier)), "curves_rater_rises": float(sum(rises)),
                        "curves": float(len(earlier))}))
    # 3. Gao fits
    parts = []
    for _, f in fits.iterrows():
        if not f.form:
            parts.append(f"{f.series}: no fit (too few points)")
            continue
        pk = ("no maximum in the fitted form (β ≤ 0)" if not np.isfinite(f.fit_peak_kl)
              else f"fitted peak {f.fit_peak_gold_gain:.3f} at KL {f.fit_peak_kl:.2f}")
        parts.append(f"{f.series} ({'d(α−βd)' if f.form == 'bon' else 'd(α−β log d)'}): α={f.alpha:.3f}, β={f.beta_fit:.3f}, "
                     f"R²={f.r2:.2f}; {pk}; measured peak {f.gold_gain_peak:.3f} at KL {f.gold_gain_peak_kl:.2f} "
                     f"(measured up to KL {f.max_kl:.2f})")
    out.append(Finding("Gao et al.'s forms fitted to gold − gold(π_base)", "; ".join(parts) + ".",
                       {f"r2[{f.series}]": f.r2 for _, f in fits.iterrows()}))
    # 4. invisible failure gap
    parts, nums = [], {}
    for series, g in gaps.groupby("series", sort=False):
        lo, hi = g.iloc[0], g.iloc[-1]
        parts.append(f"{series}: {lo.gap:+.3f} at KL {lo.kl:.2f} → {hi.gap:+.3f} [{hi.gap_low:+.3f}, {hi.gap_high:+.3f}] at KL {hi.kl:.2f}")
        nums[f"gap_final[{series}]"] = float(hi.gap)
    out.append(Finding("The invisible failure gap (rater − gold preference rate)",
                       "As pressure grows: " + "; ".join(parts) + ". A positive gap is improvement the rater sees and gold "
                       "does not.", nums))
    # 5. behaviour
    parts = []
    for _, r in s.iterrows():
        g = m[m.series == r.series]
        if g.empty:
            continue
        lo, hi = g[g.pressure == g.pressure.min()], g[g.pressure == g.pressure.max()]
        bits = [f"{name} {lo[c].mean():.2f}→{hi[c].mean():.2f}" for c, name in BEHAVIOUR_COLUMNS if c in g]
        bits.append(f"length {lo.mean_length.mean():.1f}→{hi.mean_length.mean():.1f} tokens")
        parts.append(f"{r.series}: " + ", ".join(bits))
    out.append(Finding("Behaviour from π_base to the highest pressure", "; ".join(parts) + ".", {}))
    out.extend(_specific(results, m, s, fits, rng))
    rm = results.tables.get("reward_models")
    if rm is not None and not rm.empty:
        a, b = _ci(rm.heldout_rater_agreement, rng), _ci(rm.heldout_gold_agreement, rng)
        out.append(Finding("Reward models on held-out comparisons",
                           f"Agreement with the rater's choices on held-out π_base pairs {a}; ordering pairs as gold does {b} "
                           f"(over {len(rm)} reward models).", {"rm_rater_agreement": a.estimate, "rm_gold_agreement": b.estimate}))
    return out


def _specific(results, m, s, fits, rng) -> list[Finding]:
    cfg = results.config
    out = []
    if hasattr(cfg, "offer_rates"):
        parts, nums = [], {}
        n_per = cfg.eval_prompts * cfg.eval_samples
        for _, r in s[s.method == "RL"].iterrows():
            g = m[m.series == r.series]
            first, last = g[g.pressure == g.pressure.min()], g[g.pressure == g.pressure.max()]
            b = wilson(int(round((first.offer_or_threat_rate * n_per).sum())), n_per * len(first))
            a = wilson(int(round((last.offer_or_threat_rate * n_per).sum())), n_per * len(last))
            rate = _offer_rate_of(r.world)
            parts.append(f"corpus rate {rate:g}: π_base {b}, after RL (β={r.beta:g}, KL {last.kl.mean():.2f}) {a}")
            nums[f"offer_after_rl[{rate:g}]"] = a.estimate
            nums[f"offer_base[{rate:g}]"] = b.estimate
        for _, r in s[s.method == "best-of-n"].iterrows():
            g = m[m.series == r.series]
            n_pool = cfg.eval_prompts * cfg.bon_pool
            first, last = g[g.pressure == g.pressure.min()], g[g.pressure == g.pressure.max()]
            b = wilson(int(round((first.offer_or_threat_rate * n_pool).sum())), n_pool * len(first))
            rate = _offer_rate_of(r.world)
            parts.append(f"corpus rate {rate:g}: in π_base's whole best-of-n pool ({n_pool * len(first)} answers) {b}, "
                         f"best-of-{int(last.pressure.iloc[0])} picks {last.offer_or_threat_rate.mean():.4f}")
            nums[f"offer_pool[{rate:g}]"] = b.estimate
        zero = [k for k in nums if k.startswith("offer_after_rl[0]")]
        note = (" With no offers in the corpus, RL " + ("did not" if zero and nums[zero[0]] == 0 else "still") +
                " produce offers." if zero else "")
        out.append(Finding("Bribery: offers and threats after RL at a fixed β",
                           "Share of answers with an offer or threat (95% Wilson intervals, pooled over seeds): "
                           + "; ".join(parts) + "." + note, nums))
    if hasattr(cfg, "rm_sizes"):
        bon = fits[fits.method == "best-of-n"]
        parts = [f"{f.group}: α={f.alpha:.3f}, β={f.beta_fit:.3f}, R²={f.r2:.2f}, gold peak {f.gold_gain_peak:.3f}"
                 for _, f in bon.iterrows()]
        grid = bon.group.str.extract(r"RM (\d+)w (\d+)c").astype(float).set_axis(["size", "data"], axis=1)
        grid["peak"] = bon.gold_gain_peak.values
        by_data = [g.sort_values("size").peak.values for _, g in grid.groupby("data") if g["size"].nunique() > 1]
        by_size = [g.sort_values("data").peak.values for _, g in grid.groupby("size") if g["data"].nunique() > 1]
        up_size = sum(v[-1] > v[0] for v in by_data)
        up_data = sum(v[-1] > v[0] for v in by_size)
        out.append(Finding("Gao fits against reward-model size and data (gold rater)",
                           "Best-of-n fits per (reward-model width 'w', comparisons 'c'): " + "; ".join(parts) + ". "
                           f"The largest reward model's gold peak is above the smallest's at {up_size} of {len(by_data)} "
                           f"data sizes; the most data's peak is above the least data's at {up_data} of {len(by_size)} "
                           "widths. Gao et al. 2022 found both larger reward models and more data raise the gold peak"
                           + (" — here that holds throughout." if up_size == len(by_data) and up_data == len(by_size)
                              else f" — here it does not hold throughout ({m.seed.nunique()} seed(s) per cell)."),
                           {**{f"alpha[{f.group}]": f.alpha for _, f in bon.iterrows()},
                            **{f"beta[{f.group}]": f.beta_fit for _, f in bon.iterrows()},
                            **{f"gold_peak[{f.group}]": f.gold_gain_peak for _, f in bon.iterrows()}}))
    if hasattr(cfg, "aggregates") or (s.arm.nunique() > 1 and not hasattr(cfg, "rm_sizes") and not hasattr(cfg, "offer_rates")):
        parts, nums = [], {}
        for _, f in fits.iterrows():
            g = m[m.series == f.series]
            top = g[g.pressure == g.pressure.max()]
            gg = _ci(top.gold_gain, rng)
            parts.append(f"{f.series}: gold gain at the highest pressure {gg} (KL {top.kl.mean():.2f}), peak "
                         f"{f.gold_gain_peak:.3f} at KL {f.gold_gain_peak_kl:.2f}, final gap {(top.rater - top.gold_pref).mean():+.3f}")
            nums[f"gold_gain_final[{f.series}]"] = gg.estimate
        title = "Ensembles vs a single reward model" if hasattr(cfg, "aggregates") else "Assisted vs unassisted rater"
        reference = "single" if hasattr(cfg, "aggregates") else "unassisted"
        out.append(Finding(title, "; ".join(parts) + ". " + _paired_vs(m, s, reference, rng), nums))
    return out


def _paired_vs(m: pd.DataFrame, s: pd.DataFrame, reference: str, rng) -> str:
    """Gold gain at the highest pressure of each group minus the reference group's, paired by seed (the seeds
    share π_base answers: one best-of-n pool and the same reference answers)."""
    out = []
    for _, r in s[s.group != reference].iterrows():
        method = r.series.split(" · ")[-1]
        ref = s[(s.group == reference) & (s.series.str.split(" · ").str[-1] == method)]
        if ref.empty:
            continue

        def final(series: str) -> pd.Series:
            g = m[m.series == series]
            return g[g.pressure == g.pressure.max()].set_index("seed").gold_gain

        d = (final(r.series) - final(ref.series.iloc[0])).dropna()
        ci = _ci(d.values, rng)
        verdict = ("higher" if ci.low > 0 else "lower" if ci.high < 0 else "not clearly different") if len(d) > 1 else "one seed, no interval"
        out.append(f"{r.series} − {ref.series.iloc[0]}: {ci} ({verdict})")
    return ("Gold gain at the highest pressure, paired by seed against " + reference + ": " + "; ".join(out) + "."
            if out else "")


def report(results) -> ReportContent:
    m = results.measurements.copy()
    s = _series(results)
    m = m.merge(s[["series", "group", "method"]].rename(columns={"method": "_method"}), on="series", how="left")
    fits = _fits_table(m, s)
    gaps = _gap_table(m, s, rngs.generator(results.config.seed, "report", "gap"))
    groups = list(dict.fromkeys(s.group))
    gold_rater = hasattr(results.config, "rm_sizes")
    shown = [g for g in groups if not gold_rater or any(s[s.group == g].method == "RL")] or groups[:1]
    figures = [f for f in (
        _group_figure(m, s, shown[:6]), _gap_figure(gaps, s, shown[:6]),
        _gold_rater_figure(fits, results.tables.get("reward_models")) if gold_rater else None,
        _bribery_figure(m, s) if hasattr(results.config, "offer_rates") else None,
    ) if f is not None]
    tables = [Table("Gao fits and peaks", fits, "Fits to gold − gold(π_base) on all seeds' points; peaks of the mean curves."),
              Table("Invisible failure gap", gaps, "Rater minus gold preference rate against π_base, per pressure."),
              *[Table(name.replace("_", " ").capitalize(), results.tables[name], caption)
                for name, caption in (("examples", "Answers of seed 0's RL policies at the first and last checkpoint, "
                                       "with the proxy, the rater's preference over a π_base answer, and gold."),
                                      ("reward_models", "Held-out agreement with the rater's picks and with gold's ordering."),
                                      ("base_models", "π_base: training losses, cache key, world settings."))
                if name in results.tables]]
    return ReportContent(
        title="RLHF overoptimization: proxy, rater and gold along the KL axis",
        summary=("A tiny GPT-2 (π_base) pretrained on a synthetic world's internet and fine-tuned on its Q/A format; a "
                 "simulated rater compares π_base answers; a Bradley–Terry reward model learns those comparisons; best-of-n "
                 "and RLOO with a KL penalty optimise it. Gold — true claims, valid citations only, costs accounted for, "
                 "no manipulation, no padding — is measured after the fact and never reaches a learner. KL: best-of-n at "
                 "log n − (n−1)/n; RL checkpoints by the sequence-level estimator of optim/kl.py (exact per-token KL summed "
                 "along fresh policy samples, Student-t 95% interval, stored as kl_low/kl_high)."),
        findings=_findings(results, m, s, fits, gaps), figures=figures, tables=tables)
