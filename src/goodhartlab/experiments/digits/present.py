"""Report for ``digits``: agreement with the labeler (gold), the rater and the training labels (proxy) per
distribution; X recall; pairwise disagreement with the images models split on; attack success against the
pixel budget with adversarial examples; offer following. Findings are computed from the stored numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from goodhartlab.analysis.intervals import bootstrap_mean, wilson
from goodhartlab.core import rng as rngs
from goodhartlab.core.records import Figure, Finding, ReportContent, Table
from goodhartlab.experiments.digits.measure import DISTS, decode
from goodhartlab.report.plots import CHANNEL_COLORS, figure

NAMES = {"train": "in-distribution", "fonts_unseen": "unseen fonts", "strong_transforms": "strong transforms",
         "handwritten": "handwritten", "offers_decorrelated": "offers decorrelated"}
FAMILY_STYLE = {"generator": ("-", "o"), "rater": ("--", "s"), "no-offers": (":", "^")}
FAMILY_TEXT = {"generator": "generator-labelled", "rater": "rater-labelled", "no-offers": "generator-labelled, no offers"}


def _label(v: int) -> str:
    return "X" if v == 10 else str(v)


def _with_family(m: pd.DataFrame) -> pd.DataFrame:
    m = m.copy()
    m["family"] = m.series.str.split("/").str[0]
    m["architecture"] = m.series.str.split("/").str[1]
    m["distribution"] = [DISTS[int(p)] for p in m.pressure]
    return m


def _mean_ci(values, rng) -> tuple[float, float, float]:
    i = bootstrap_mean(values, rng)
    return i.estimate, i.low, i.high


def _agreement_figure(m: pd.DataFrame, rng) -> Figure:
    fig, axes = figure(1, 3, width=4.4, height=3.4)
    x = np.arange(len(DISTS))
    panels = (("gold", "agreement with the labeler (gold)", CHANNEL_COLORS["gold"]),
              ("rater", "agreement with the rater", CHANNEL_COLORS["rater"]),
              ("x_recall", "X recall (says X for non-digits, ambiguous)", "#9467bd"))
    for ax, (col, title, color) in zip(axes[0], panels):
        for family, (ls, mk) in FAMILY_STYLE.items():
            g = m[m.family == family]
            if g.empty:
                continue
            stats = [_mean_ci(g[g.distribution == d][col], rng) for d in DISTS]
            mean = np.array([s[0] for s in stats])
            yerr = np.clip([mean - [s[1] for s in stats], [s[2] for s in stats] - mean], 0, None)  # float noise
            ax.errorbar(x, mean, yerr=yerr, color=color,
                        linestyle=ls, marker=mk, capsize=2, label=FAMILY_TEXT[family])
        if col == "gold":
            for family, (ls, _) in FAMILY_STYLE.items():
                g = m[m.family == family]
                if not g.empty:
                    ax.axhline(g.proxy.mean(), color=CHANNEL_COLORS["proxy"], linestyle=ls, linewidth=1,
                               label=f"proxy: fit to own training labels ({FAMILY_TEXT[family]})")
        ax.set_xticks(x, [NAMES[d] for d in DISTS], rotation=30, ha="right", fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.set_ylim(-0.03, 1.03)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    return Figure("agreement", "Per test distribution: mean over models with 95% bootstrap intervals (over models). "
                  "Blue lines: each family's fit to its own training labels (the proxy it was trained on). The "
                  "handwritten shift holds no X images, so it has no X recall.", fig)


def _disagreement_figure(d: pd.DataFrame, m: pd.DataFrame) -> Figure:
    fig, axes = figure(1, 1, width=6.0, height=3.4)
    ax = axes[0, 0]
    x = np.arange(len(DISTS))
    for family, (ls, mk) in FAMILY_STYLE.items():
        g = d[d.family == family]
        if g.empty:
            continue
        s = g.groupby("distribution").disagreement.agg(["mean", "min", "max"]).reindex(DISTS)
        ax.errorbar(x, s["mean"], yerr=[s["mean"] - s["min"], s["max"] - s["mean"]], linestyle=ls, marker=mk,
                    capsize=3, color="#d62728", label=f"pairwise disagreement, {FAMILY_TEXT[family]}")
    err = m[m.family == "generator"].groupby("distribution").gold.mean().reindex(DISTS)
    ax.plot(x, 1 - err.values, color=CHANNEL_COLORS["gold"], marker="o", label="error vs labeler, generator-labelled (mean)")
    ax.set_xticks(x, [NAMES[v] for v in DISTS], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("share of test images")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return Figure("disagreement", "How often two models that both fit the same training labels give different answers, "
                  "per distribution (mean over pairs; bars: min–max over pairs).", fig)


def _image_grid(name: str, caption: str, rows: list[tuple[str, list]]) -> Figure | None:
    """rows: (row title, [(image as nested list, cell title), ...])."""
    rows = [(t, cells) for t, cells in rows if cells]
    if not rows:
        return None
    cols = max(len(c) for _, c in rows)
    fig, axes = figure(len(rows), cols, width=1.25, height=1.45)
    for r, (title, cells) in enumerate(rows):
        for c in range(cols):
            ax = axes[r, c]
            ax.axis("off")
            if c < len(cells):
                img, text = cells[c]
                ax.imshow(decode(img) if isinstance(img, str) else img, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
                ax.set_title(text, fontsize=6)
        axes[r, 0].text(-0.1, 0.5, title, transform=axes[r, 0].transAxes, ha="right", va="center", fontsize=7)
    fig.tight_layout()
    fig.subplots_adjust(left=0.1)
    return Figure(name, caption, fig)


def _disagreement_grid(ex: dict) -> Figure | None:
    rows = []
    for d in DISTS:
        e = ex.get(d, {})
        cells = [(img, f"gold {_label(g)} | " + " ".join(_label(p) for p in ps))
                 for img, g, ps in zip(e.get("images", []), e.get("gold", []), e.get("preds", []))]
        rows.append((NAMES[d], cells))
    models = next((ex[d]["models"] for d in DISTS if d in ex), [])
    return _image_grid("disagreement_images", "Test images on which the generator-labelled models disagree most "
                       "(as the models see them). Title: the labeler's label, then each model's answer in the order "
                       + ", ".join(models) + ".", rows)


def _samples_grid(samples: dict) -> Figure | None:
    rows = []
    for d in DISTS:
        s = samples.get(d, {})
        rows.append((NAMES[d], [(img, _label(lab) + (f" (offer {o})" if o >= 0 else ""))
                                for img, lab, o in zip(s.get("images", []), s.get("labels", []), s.get("offer", []))]))
    return _image_grid("world_samples", "The first test images of each distribution (48 px) with the generator's "
                       "label; X = non-digit or ambiguous.", rows)


def _attack_figure(a: pd.DataFrame) -> Figure:
    fig, axes = figure(1, 1, width=5.2, height=3.4)
    ax = axes[0, 0]
    for model, g in a.groupby("model", sort=False):
        iv = [wilson(int(s), int(n)) for s, n in zip(g.successes, g.attacked)]
        est = np.array([i.estimate for i in iv])
        ax.errorbar(g.epsilon, est, yerr=np.clip([est - [i.low for i in iv], [i.high for i in iv] - est], 0, None), marker="o",
                    capsize=3, label=model)
    ax.set_xscale("log", base=2)
    eps = sorted(a.epsilon.unique())
    ax.set_xticks(eps, [str(e) for e in eps])
    ax.minorticks_off()
    ax.set_xlabel("budget ε (grey levels of 255, background pixels only)")
    ax.set_ylabel("success: model ≠ labeler")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return Figure("attack_success", "Projected-gradient search from correctly classified in-distribution digits; "
                  "95% Wilson intervals. Ink pixels and their neighbours are frozen and changed pixels stay below "
                  "the ink threshold, so the drawn digit is unchanged (verified per image).", fig)


def _adversarial_grid(ex: list) -> Figure | None:
    cells_clean = [(e["clean"], f"clean: {_label(e['label'])}") for e in ex[:12]]
    cells_adv = [(e["adversarial"], f"ε={e['epsilon']}: says {_label(e['pred'])}") for e in ex[:12]]
    cells_diff = [((np.abs(decode(e["adversarial"]).astype(int) - decode(e["clean"])) * 4).clip(0, 255),
                   "|δ| ×4") for e in ex[:12]]
    return _image_grid("adversarial_examples", "Successful attacks on the first generator-labelled model: the clean "
                       "image, the adversarial one, and the perturbation magnified 4×.",
                       [("clean", cells_clean), ("adversarial", cells_adv), ("perturbation", cells_diff)])


def _offers(m: pd.DataFrame) -> pd.DataFrame:
    g = m[(m.distribution == "offers_decorrelated") & (m.offer_conflicts > 0)]
    rows = []
    for family, f in g.groupby("family", sort=False):
        k = int(round((f.follows_offer * f.offer_conflicts).sum()))
        n = int(f.offer_conflicts.sum())
        i = wilson(k, n)
        rows.append({"family": FAMILY_TEXT[family], "models": len(f), "follows_offer": i.estimate, "low": i.low,
                     "high": i.high, "conflicting_images": n,
                     "digit_accuracy_offers_decorrelated": float(f.digit_accuracy.mean()),
                     "digit_accuracy_in_distribution": float(
                         m[(m.family == family) & (m.distribution == "train")].digit_accuracy.mean())})
    return pd.DataFrame(rows)


def _offers_figure(o: pd.DataFrame) -> Figure:
    fig, axes = figure(1, 1, width=5.0, height=3.2)
    ax = axes[0, 0]
    x = np.arange(len(o))
    yerr = np.clip([o.follows_offer - o.low, o.high - o.follows_offer], 0, None)
    ax.bar(x, o.follows_offer, yerr=yerr, capsize=4, color="#8c564b")
    ax.axhline(0.1, color="black", linestyle=":", linewidth=1, label="a uniform guess over the ten digits")
    ax.legend(fontsize=7)
    ax.set_xticks(x, o.family, fontsize=7)
    ax.set_ylabel("answers the offer's claim")
    ax.set_title("offers decorrelated: claim ≠ drawn digit", fontsize=9)
    fig.tight_layout()
    return Figure("offers", "Share of stamped test digits whose claimed digit differs from the drawn one on which the "
                  "model answers the claim (pooled over models, 95% Wilson intervals). The no-offers models saw the "
                  "same training images without stamps.", fig)


def _findings(m: pd.DataFrame, t: dict, o: pd.DataFrame, config) -> list[Finding]:
    rng = rngs.generator(0, "digits report")
    out = []
    gen = m[m.family == "generator"]
    if not gen.empty:
        ind = _mean_ci(gen[gen.distribution == "train"].gold, rng)
        proxy = float(gen.groupby("series").proxy.first().mean())
        shifts = {d: _mean_ci(gen[gen.distribution == d].gold, rng) for d in DISTS[1:]}
        worst = min(shifts, key=lambda d: shifts[d][0])
        out.append(Finding(
            "Fitting the training labels is not agreeing with the labeler off-distribution",
            f"Generator-labelled models fit their training labels to {proxy:.3f} (proxy) and agree with the labeler on "
            f"{ind[0]:.3f} [{ind[1]:.3f}, {ind[2]:.3f}] of fresh in-distribution images; on the shifts: "
            + "; ".join(f"{NAMES[d]} {v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]" for d, v in shifts.items())
            + f". Worst: {NAMES[worst]}. Intervals: 95% bootstrap over {gen.groupby(['series', 'seed']).ngroups} models.",
            {"proxy_fit": proxy, "gold_in_distribution": ind[0], **{f"gold_{d}": v[0] for d, v in shifts.items()}}))
    rat = m[m.family == "rater"]
    if not gen.empty and not rat.empty:
        def at(f, col, d="train"):
            return _mean_ci(f[f.distribution == d][col], rng)
        g_amb, r_amb = at(gen, "x_recall_ambiguous"), at(rat, "x_recall_ambiguous")
        g_gold, r_gold = at(gen, "gold"), at(rat, "gold")
        g_r, r_r = at(gen, "rater"), at(rat, "rater")
        labels_vs_gold = t["models"][t["models"].family == "rater"].labels_vs_gold.iloc[0]
        out.append(Finding(
            "Rater labels teach the rater's blind spots",
            f"The rater's training labels agree with the generator on {labels_vs_gold:.3f} of training images "
            f"(flip rate {config.rater_flip_rate}, ambiguity-blind={config.rater_ambiguity_blind}, offer sway "
            f"{config.rater_offer_sway}). In distribution, rater-labelled models agree with the labeler on "
            f"{r_gold[0]:.3f} [{r_gold[1]:.3f}, {r_gold[2]:.3f}] vs {g_gold[0]:.3f} [{g_gold[1]:.3f}, {g_gold[2]:.3f}] "
            f"for generator-labelled ones, and with the rater on {r_r[0]:.3f} vs {g_r[0]:.3f}. X recall on ambiguous "
            f"images (superimposed pairs, heavy occlusions): {r_amb[0]:.3f} [{r_amb[1]:.3f}, {r_amb[2]:.3f}] vs "
            f"{g_amb[0]:.3f} [{g_amb[1]:.3f}, {g_amb[2]:.3f}].",
            {"rater_gold": r_gold[0], "generator_gold": g_gold[0], "rater_x_recall_ambiguous": r_amb[0],
             "generator_x_recall_ambiguous": g_amb[0], "rater_labels_vs_gold": float(labels_vs_gold)}))
        g_fa, r_fa = at(gen, "x_false_alarm", "handwritten"), at(rat, "x_false_alarm", "handwritten")
        g_hw, r_hw = at(gen, "gold", "handwritten"), at(rat, "gold", "handwritten")
        out.append(Finding(
            "Saying X is learned from the labels: on handwritten digits it cuts both ways",
            f"On held-out handwritten digits (never X), generator-labelled models answer X for {g_fa[0]:.3f} "
            f"[{g_fa[1]:.3f}, {g_fa[2]:.3f}] of them and rater-labelled models for {r_fa[0]:.3f} [{r_fa[1]:.3f}, "
            f"{r_fa[2]:.3f}]; agreement with the labeler there is {g_hw[0]:.3f} vs {r_hw[0]:.3f}. Models taught "
            "that unfamiliar-looking images are X refuse unfamiliar digits; models taught never to say X for "
            "ambiguous images guess a digit, which on this shift is more often right.",
            {"generator_x_on_handwritten": g_fa[0], "rater_x_on_handwritten": r_fa[0],
             "generator_gold_handwritten": g_hw[0], "rater_gold_handwritten": r_hw[0]}))
    dis = t.get("disagreement")
    if dis is not None and not dis.empty:
        g = dis[dis.family == "generator"].groupby("distribution").disagreement.mean().reindex(DISTS)
        worst = g.drop("train").idxmax()
        out.append(Finding(
            "Models that all fit the training data disagree off-distribution",
            f"Mean pairwise disagreement of the generator-labelled models: {g['train']:.3f} in distribution; "
            + "; ".join(f"{NAMES[d]} {g[d]:.3f}" for d in DISTS[1:])
            + f" ({dis[dis.family == 'generator'].model_a.nunique() + 1} models, all pairs). Largest on "
              f"{NAMES[worst]}: {g[worst] / max(g['train'], 1e-9):.1f}× the in-distribution rate.",
            {f"disagreement_{d}": float(g[d]) for d in DISTS}))
    a = t.get("attack")
    if a is not None and not a.empty:
        pooled = a.groupby("epsilon")[["successes", "attacked"]].sum()
        ivs = {int(e): wilson(int(r.successes), int(r.attacked)) for e, r in pooled.iterrows()}
        half = [e for e, i in ivs.items() if i.estimate >= 0.5]
        out.append(Finding(
            "Small background perturbations flip the model, not the labeler",
            "Attack success (model ≠ labeler, drawn digit verified unchanged) by budget ε: "
            + "; ".join(f"ε={e}: {i}" for e, i in ivs.items())
            + f" (Wilson 95%, {int(pooled.attacked.iloc[0])} images over {a.model.nunique()} model(s)). "
            + (f"Half or more succeed from ε={min(half)} grey levels. " if half else "No budget reaches 50%. ")
            + f"Drawn digit unchanged on {a.drawn_unchanged.min():.3f} of attacked images (minimum over budgets): "
              f"only pixels below {config.ink_threshold} and more than {config.guard_px} px from ink change.",
            {f"success_eps{e}": i.estimate for e, i in ivs.items()} | {"drawn_unchanged": float(a.drawn_unchanged.min())}))
    if not o.empty:
        gen_o = o[o.family == FAMILY_TEXT["generator"]]
        ctl = o[o.family == FAMILY_TEXT["no-offers"]]
        text = "; ".join(f"{r.family}: {r.follows_offer:.3f} [{r.low:.3f}, {r.high:.3f}]" for r in o.itertuples())
        numbers = {f"follows_offer_{r.family}": float(r.follows_offer) for r in o.itertuples()}
        verdict = ""
        if not gen_o.empty and not ctl.empty:
            g0, c0 = gen_o.iloc[0], ctl.iloc[0]
            verdict = (" Trained with offers, models follow them more than the control trained without: the offer is "
                       "a shortcut." if g0.low > c0.high else
                       " The intervals of the offer-trained and control models overlap: at these settings the "
                       "models do not measurably use the offer as a shortcut; the drawn digit dominates.")
        out.append(Finding(
            "Offers as a shortcut",
            f"With offers decorrelated, share of conflicting stamped digits answered with the offer's claim: {text}. "
            f"Training offers claimed the true digit with chance {config.world.offer_label_correlation} on "
            f"{config.world.offer_rate:.0%} of digits.{verdict}", numbers))
    return out


def report(results) -> ReportContent:
    m, t, a = _with_family(results.measurements), results.tables, results.artifacts
    rng = rngs.generator(0, "digits figures")
    o = _offers(m)
    figures = [f for f in (
        _samples_grid(a.get("samples", {})), _agreement_figure(m, rng), _disagreement_figure(t["disagreement"], m),
        _disagreement_grid(a.get("disagreement_examples", {})),
        _attack_figure(t["attack"]) if "attack" in t and not t["attack"].empty else None,
        _adversarial_grid(a.get("adversarial_examples", [])),
        _offers_figure(o) if not o.empty else None,
    ) if f is not None]
    summary = (m.groupby(["family", "distribution"], sort=False)
               [["proxy", "rater", "gold", "x_recall", "x_recall_ambiguous", "x_recall_nondigit", "follows_offer"]]
               .mean().reset_index())
    tables = [
        Table("Proxy, rater and gold by family and distribution", summary,
              "Means over models. proxy: fit to the model's own training labels; rater: agreement with the noisy "
              "rater's labels of the test images; gold: agreement with the generator (the labeler)."),
        Table("Models", t["models"], "labels_vs_gold: how often the training labels equal the generator's; "
              "train_gold: the model's agreement with the generator on its training images."),
        Table("Distributions", t["distributions"], "rater_vs_gold: the rater's own accuracy on each test set."),
        Table("Attack", t.get("attack", pd.DataFrame()), "to_x: successes where the model answers X."),
        Table("Offers", o, "Pooled over models; conflicting_images: stamped digits whose claim is not the drawn digit."),
    ]
    c = results.config
    return ReportContent(
        title="Digits: what the labels capture",
        summary=(f"CNNs ({', '.join(c.architectures)}) trained to fit {c.train_images} generated images at "
                 f"{c.resolution}×{c.resolution}, labelled by the generator (the Platonic labeler) or by a noisy "
                 "rater, then scored against the labeler (gold), the rater and their own training labels (proxy) in "
                 "distribution and on four shifts: unseen fonts, strong transforms, handwritten digits "
                 "(scikit-learn's, held out) and decorrelated offers."),
        findings=_findings(m, t, o, c), figures=figures, tables=tables,
    )
