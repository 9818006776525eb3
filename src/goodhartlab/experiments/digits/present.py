"""Report for ``digits``: agreement with the labeler (gold), the rater and the training labels (proxy) per
distribution; X recall; pairwise disagreement with the images models split on; attack success against the
pixel budget with adversarial examples; offer following.

The independent unit is the test image. Every model is scored on the same images, so models are not
independent draws: per image, the models of a family are averaged (or their pairs, for disagreement), and
intervals resample images. The trained models are held fixed, so an interval says how these models would do
on fresh images from the same distribution, not how another set of trained models would.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from goodhartlab.analysis import stats
from goodhartlab.core.records import Figure, Finding, ReportContent, Table
from goodhartlab.experiments.digits.measure import DISTS, decode
from goodhartlab.report.plots import CHANNEL_COLORS, errorbars, figure, panels

LABEL_X = 10
IMAGE = "image"

NAMES = {
    "train": "in-distribution",
    "fonts_unseen": "unseen fonts",
    "strong_transforms": "strong transforms",
    "handwritten": "handwritten",
    "offers_decorrelated": "offers decorrelated",
}
FAMILY_STYLE = {"generator": ("-", "o"), "rater": ("--", "s"), "no-offers": (":", "^")}
FAMILY_TEXT = {
    "generator": "generator-labelled",
    "rater": "rater-labelled",
    "no-offers": "generator-labelled, no offers",
}


def _label(v: int) -> str:
    return "X" if v == 10 else str(v)


def _with_family(c: pd.DataFrame) -> pd.DataFrame:
    """The stored Contrast rows (one per model and distribution) with family, architecture and distribution."""
    c = c.copy()
    c["family"] = c.series.str.split("/").str[0]
    c["architecture"] = c.series.str.split("/").str[1]
    c["distribution"] = c.level
    return c


def per_image(pred: pd.DataFrame, images: pd.DataFrame) -> pd.DataFrame:
    """One row per (family, distribution, image): the family's models averaged on that image.

    correct: agrees with the labeler; agrees_rater; says_x on non-digits/ambiguous images (X recall) and on
    digits (false alarm); follows_offer on stamped digits whose claim is not the drawn digit (else NaN).
    """
    p = pred.merge(images, on=["distribution", "image"])
    p["family"] = p.model.str.split("/").str[0]
    digit = p.gold < LABEL_X
    conflict = (p.offer >= 0) & (p.offer != p.gold) & digit
    p = p.assign(
        correct=(p.pred == p.gold).astype(float),
        agrees_rater=(p.pred == p.rater).astype(float),
        x_recall=np.where(~digit, (p.pred == LABEL_X).astype(float), np.nan),
        x_false_alarm=np.where(digit, (p.pred == LABEL_X).astype(float), np.nan),
        follows_offer=np.where(conflict, (p.pred == p.offer).astype(float), np.nan),
    )
    cols = ["correct", "agrees_rater", "x_recall", "x_false_alarm", "follows_offer"]
    keys = ["family", "distribution", "image", "kind"]
    return p.groupby(keys, sort=False)[cols].mean().reset_index()


def pair_disagreement(pred: pd.DataFrame, family: str = "generator") -> pd.DataFrame:
    """Per (distribution, image): the share of the family's model pairs that answer differently."""
    p = pred[pred.model.str.startswith(family + "/")]
    wide = p.pivot_table(index=["distribution", "image"], columns="model", values="pred")
    models = list(wide.columns)
    if len(models) < 2:
        return pd.DataFrame(columns=["distribution", "image", "disagreement"])
    v = wide.to_numpy()
    pairs = [(a, b) for a in range(len(models)) for b in range(a + 1, len(models))]
    share = np.mean([v[:, a] != v[:, b] for a, b in pairs], axis=0)
    return pd.DataFrame(
        {"distribution": wide.index.get_level_values(0), "image": wide.index.get_level_values(1), "disagreement": share}
    )


def _col(frame: pd.DataFrame, family: str, dist: str, col: str, kind: str | None = None) -> pd.Series:
    g = frame[(frame.family == family) & (frame.distribution == dist)]
    if kind is not None:
        g = g[g.kind == kind]
    return g.set_index("image")[col]


def _paired_families(frame, a: str, b: str, dist: str, col: str, kind: str | None = None) -> stats.Estimate:
    """Family a − family b on the same images (each image's value averaged over each family's models)."""
    x, y = _col(frame, a, dist, col, kind), _col(frame, b, dist, col, kind)
    both = pd.concat([x, y], axis=1, keys=["a", "b"]).dropna()
    return stats.paired(both.a.to_numpy(), both.b.to_numpy(), IMAGE)


def _shift_claim(img: pd.DataFrame) -> Finding | None:
    if not (img.family == "generator").any():
        return None
    base = _col(img, "generator", "train", "correct")
    ev = {
        f"{NAMES[d]} − in-distribution": stats.difference(_col(img, "generator", d, "correct"), base, IMAGE)
        for d in DISTS[1:]
        if ((img.family == "generator") & (img.distribution == d)).any()
    }
    parts = {k: stats.verdict(e, "<") for k, e in ev.items()}
    verdict = stats.all_of(*parts.values())
    worst = stats.deciding(parts, verdict) if verdict != "holds" else min(ev, key=lambda k: ev[k].estimate)
    return stats.finding(
        "Fitting the training labels is not agreeing with the labeler off-distribution",
        "Generator-labelled models agree with the labeler less on every shift than in distribution",
        verdict,
        ev,
        key=worst,
        holds="Agreement with the labeler, shift minus in-distribution (images resampled, models "
        "averaged per image): {shifts}.",
        fails="Not on every shift: {shifts}.",
        inconclusive="Some shifts' intervals include 0: {shifts}.",
        shifts="; ".join(f"{k}: {stats.fmt(e)}" for k, e in ev.items()),
    )


def _ambiguity_claim(img: pd.DataFrame) -> Finding | None:
    if not {"generator", "rater"} <= set(img.family):
        return None
    e = _paired_families(img, "rater", "generator", "train", "x_recall", kind="ambiguous")
    return stats.claim_finding(
        "Rater labels teach the rater's blind spots",
        "Rater-labelled models say X on ambiguous images less often than generator-labelled ones",
        e,
        direction="<",
        key="X recall on ambiguous images, rater − generator",
        holds="On the same ambiguous in-distribution images (superimposed pairs, heavy occlusions), X recall of "
        "rater-labelled minus generator-labelled models: {est}. The ambiguity-blind rater's labels teach "
        "models to name a digit.",
        fails="X recall on ambiguous images, rater − generator: {est}: rater-labelled models say X more often.",
        inconclusive="X recall on ambiguous images, rater − generator: {est}; the interval includes 0.",
    )


def _handwritten_claim(img: pd.DataFrame) -> Finding | None:
    if not {"generator", "rater"} <= set(img.family) or "handwritten" not in set(img.distribution):
        return None
    e = _paired_families(img, "rater", "generator", "handwritten", "correct")
    fa = _paired_families(img, "rater", "generator", "handwritten", "x_false_alarm")
    return stats.claim_finding(
        "On handwritten digits, saying X cuts both ways",
        "On handwritten digits, rater-labelled models agree with the labeler more often than generator-labelled ones",
        e,
        key="agreement on handwritten digits, rater − generator",
        extra={"X answers on handwritten digits (never X), rater − generator": fa},
        holds="On the same held-out handwritten digits, agreement with the labeler, rater − generator: {est}; X "
        "answers, rater − generator: " + stats.fmt(fa) + ". Models taught that unfamiliar-looking images are "
        "X refuse unfamiliar digits; models taught never to say X guess a digit, here more often right.",
        fails="On handwritten digits, agreement rater − generator: {est}: the generator-labelled models do better.",
        inconclusive="On handwritten digits, agreement rater − generator: {est}; the interval includes 0.",
    )


def _disagreement_claim(pred: pd.DataFrame) -> Finding | None:
    dis = pair_disagreement(pred)
    if dis.empty:
        return None
    base = dis[dis.distribution == "train"].disagreement
    ev = {
        f"{NAMES[d]} − in-distribution": stats.difference(dis[dis.distribution == d].disagreement, base, IMAGE)
        for d in DISTS[1:]
        if (dis.distribution == d).any()
    }
    parts = {k: stats.verdict(e, ">") for k, e in ev.items()}
    verdict = stats.all_of(*parts.values())
    key = stats.deciding(parts, verdict) if verdict != "holds" else max(ev, key=lambda k: ev[k].estimate)
    return stats.finding(
        "Models that all fit the training data disagree off-distribution",
        "Generator-labelled models that fit the same labels disagree more on every shift than in distribution",
        verdict,
        ev,
        key=key,
        holds="Share of model pairs answering differently per image, shift minus in-distribution: {shifts}.",
        fails="Not on every shift: {shifts}.",
        inconclusive="Some shifts' intervals include 0: {shifts}.",
        shifts="; ".join(f"{k}: {stats.fmt(e)}" for k, e in ev.items()),
    )


def _attack_claim(ai: pd.DataFrame | None) -> Finding | None:
    if ai is None or ai.empty:
        return None
    top = ai[ai.epsilon == ai.epsilon.max()]
    per = top.groupby("image").success.agg(["sum", "count"])  # an image attacked on several models is one cluster
    e = stats.clustered_proportion(per["sum"].to_numpy(dtype=float), per["count"].to_numpy(dtype=float), IMAGE)
    eps = int(ai.epsilon.max())
    return stats.claim_finding(
        "Small background perturbations flip the model, not the labeler",
        f"Background-only perturbations of at most {eps} grey levels flip most attacked digits",
        e,
        threshold=0.5,
        key=f"attack success at ε={eps}",
        holds=f"At ε={eps} (of 255, pixels away from the ink only, drawn digit verified unchanged) the model's answer "
        "changes on {est} of attacked digits.",
        fails=f"At ε={eps} the attack flips {{est}} of attacked digits: fewer than half.",
        inconclusive=f"At ε={eps} the attack flips {{est}} of attacked digits; the interval includes one half.",
    )


def _offers_claim(img: pd.DataFrame) -> Finding | None:
    if not {"generator", "no-offers"} <= set(img.family):
        return None
    e = _paired_families(img, "generator", "no-offers", "offers_decorrelated", "follows_offer")
    return stats.claim_finding(
        "Offers as a shortcut",
        "Models trained with offers answer a decorrelated offer's claim more often than models trained without",
        e,
        key="follows the offer, with − without offers in training",
        holds="On the same stamped digits whose claim differs from the drawn digit, share answered with the claim, "
        "offer-trained minus offer-free models: {est}: the offer is a shortcut.",
        fails="Offer-trained minus offer-free models: {est}: the offer-trained models follow the claim less; the "
        "drawn digit dominates.",
        inconclusive="Offer-trained minus offer-free models: {est}; the interval includes 0, so at these settings "
        "the models do not measurably use the offer as a shortcut.",
    )


def claims(pred: pd.DataFrame, images: pd.DataFrame, attack_images: pd.DataFrame | None) -> list[Finding]:
    """Every finding, a claim with a computed verdict; the test image is the resampled unit."""
    img = per_image(pred, images)
    found = (
        _shift_claim(img),
        _ambiguity_claim(img),
        _handwritten_claim(img),
        _disagreement_claim(pred),
        _attack_claim(attack_images),
        _offers_claim(img),
    )
    return [f for f in found if f is not None]


def _disagreement_figure(d: pd.DataFrame, m: pd.DataFrame) -> Figure:
    fig, axes = figure(1, 1, width=6.0, height=3.4)
    ax = axes[0, 0]
    x = np.arange(len(DISTS))
    for family, (ls, mk) in FAMILY_STYLE.items():
        g = d[d.family == family]
        if g.empty:
            continue
        s = g.groupby("distribution").disagreement.agg(["mean", "min", "max"]).reindex(DISTS)
        ax.errorbar(
            x,
            s["mean"],
            yerr=[s["mean"] - s["min"], s["max"] - s["mean"]],
            linestyle=ls,
            marker=mk,
            capsize=3,
            color="#d62728",
            label=f"pairwise disagreement, {FAMILY_TEXT[family]}",
        )
    err = m[m.family == "generator"].groupby("distribution").gold.mean().reindex(DISTS)
    ax.plot(
        x, 1 - err.values, color=CHANNEL_COLORS["gold"], marker="o", label="error vs labeler, generator-labelled (mean)"
    )
    ax.set_xticks(x, [NAMES[v] for v in DISTS], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("share of test images")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return Figure(
        "disagreement",
        "How often two models that both fit the same training labels give different answers, "
        "per distribution (mean over pairs; bars: min–max over pairs).",
        fig,
    )


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
                ax.imshow(
                    decode(img) if isinstance(img, str) else img, cmap="gray", vmin=0, vmax=255, interpolation="nearest"
                )
                ax.set_title(text, fontsize=8)
        axes[r, 0].text(-0.1, 0.5, title, transform=axes[r, 0].transAxes, ha="right", va="center", fontsize=8)
    fig.tight_layout()
    fig.subplots_adjust(left=0.1)
    return Figure(name, caption, fig)


def _disagreement_grid(ex: dict) -> Figure | None:
    rows = []
    for d in DISTS:
        e = ex.get(d, {})
        cells = [
            (img, f"gold {_label(g)} | " + " ".join(_label(p) for p in ps))
            for img, g, ps in zip(e.get("images", []), e.get("gold", []), e.get("preds", []))
        ]
        rows.append((NAMES[d], cells))
    models = next((ex[d]["models"] for d in DISTS if d in ex), [])
    return _image_grid(
        "disagreement_images",
        "Test images on which the generator-labelled models disagree most "
        "(as the models see them). Title: the labeler's label, then each model's answer in the order "
        + ", ".join(models)
        + ".",
        rows,
    )


def _samples_grid(samples: dict) -> Figure | None:
    rows = []
    for d in DISTS:
        s = samples.get(d, {})
        rows.append(
            (
                NAMES[d],
                [
                    (img, _label(lab) + (f" (offer {o})" if o >= 0 else ""))
                    for img, lab, o in zip(s.get("images", []), s.get("labels", []), s.get("offer", []))
                ],
            )
        )
    return _image_grid(
        "world_samples",
        "The first test images of each distribution (48 px) with the generator's label; X = non-digit or ambiguous.",
        rows,
    )


def _adversarial_grid(ex: list) -> Figure | None:
    cells_clean = [(e["clean"], f"clean: {_label(e['label'])}") for e in ex[:12]]
    cells_adv = [(e["adversarial"], f"ε={e['epsilon']}: says {_label(e['pred'])}") for e in ex[:12]]
    cells_diff = [
        ((np.abs(decode(e["adversarial"]).astype(int) - decode(e["clean"])) * 4).clip(0, 255), "|δ| ×4")
        for e in ex[:12]
    ]
    return _image_grid(
        "adversarial_examples",
        "Successful attacks on the first generator-labelled model: the clean "
        "image, the adversarial one, and the perturbation magnified 4×.",
        [("clean", cells_clean), ("adversarial", cells_adv), ("perturbation", cells_diff)],
    )


def _agreement_figure(img: pd.DataFrame, c: pd.DataFrame) -> Figure:
    fig, axes = panels(3)
    x = np.arange(len(DISTS))
    specs = (
        ("correct", "agreement with the labeler (gold)", CHANNEL_COLORS["gold"]),
        ("agrees_rater", "agreement with the rater", CHANNEL_COLORS["rater"]),
        ("x_recall", "X recall (says X for non-digits, ambiguous)", "#9467bd"),
    )
    for ax, (col, title, color) in zip(axes, specs):
        for family, (ls, mk) in FAMILY_STYLE.items():
            g = img[img.family == family]
            if g.empty:
                continue
            ests = [stats.mean(g[g.distribution == d][col].to_numpy(), IMAGE) for d in DISTS]
            errorbars(ax, x, ests, color=color, linestyle=ls, marker=mk, label=FAMILY_TEXT[family])
        if col == "correct":
            for family, (ls, _) in FAMILY_STYLE.items():
                g = c[c.family == family]
                if not g.empty:
                    ax.axhline(
                        g.proxy.mean(),
                        color=CHANNEL_COLORS["proxy"],
                        linestyle=ls,
                        linewidth=1,
                        label=f"proxy: fit to own labels ({FAMILY_TEXT[family]})",
                    )
        ax.set_xticks(x, [NAMES[d] for d in DISTS], rotation=25, ha="right")
        ax.set_title(title)
        ax.set_ylim(-0.03, 1.03)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2)
    fig.tight_layout()
    return Figure(
        "agreement",
        "Per test distribution: per image, the family's models averaged; mean over images "
        "with 95% intervals over images (BCa bootstrap). Blue lines: each family's fit to its own training "
        "labels (the proxy it was trained on). The handwritten shift holds no X images, so no X recall.",
        fig,
    )


def _attack_figure(a: pd.DataFrame) -> Figure:
    fig, axes = figure(1, 1)
    ax = axes[0, 0]
    for model, g in a.groupby("model", sort=False):
        ests = [stats.proportion(int(s), int(n), IMAGE) for s, n in zip(g.successes, g.attacked)]
        errorbars(ax, g.epsilon.to_numpy(), ests, label=model)
    ax.set_xscale("log", base=2)
    eps = sorted(a.epsilon.unique())
    ax.set_xticks(eps, [str(e) for e in eps])
    ax.minorticks_off()
    ax.set_xlabel("budget ε (grey levels of 255, background pixels only)")
    ax.set_ylabel("success: model ≠ labeler")
    ax.set_ylim(-0.03, 1.03)
    ax.legend()
    fig.tight_layout()
    return Figure(
        "attack_success",
        "Projected-gradient search from correctly classified in-distribution digits; "
        "95% Wilson intervals over each model's attacked images. Ink pixels and their neighbours are frozen "
        "and changed pixels stay below the ink threshold, so the drawn digit is unchanged (verified per "
        "image).",
        fig,
    )


def _offers_table(img: pd.DataFrame) -> pd.DataFrame:
    g = img[(img.distribution == "offers_decorrelated") & img.follows_offer.notna()]
    rows = []
    for family, f in g.groupby("family", sort=False):
        rows.append(
            {
                "family": FAMILY_TEXT.get(family, family),
                "conflicting images": len(f),
                "follows_offer": stats.fmt(stats.mean(f.follows_offer.to_numpy(), IMAGE)),
            }
        )
    return pd.DataFrame(rows)


def _offers_figure(img: pd.DataFrame) -> Figure | None:
    g = img[(img.distribution == "offers_decorrelated") & img.follows_offer.notna()]
    fams = [f for f in FAMILY_STYLE if (g.family == f).any()]
    if not fams:
        return None
    fig, axes = figure(1, 1)
    ax = axes[0, 0]
    ests = [stats.mean(g[g.family == f].follows_offer.to_numpy(), IMAGE) for f in fams]
    ax.bar(np.arange(len(fams)), [e.estimate for e in ests], color="#8c564b")
    errorbars(ax, np.arange(len(fams)), ests, color="black", linestyle="none")
    ax.axhline(0.1, color="black", linestyle=":", linewidth=1, label="a uniform guess over the ten digits")
    ax.legend()
    ax.set_xticks(np.arange(len(fams)), [FAMILY_TEXT[f] for f in fams])
    ax.set_ylabel("answers the offer's claim")
    ax.set_title("offers decorrelated: claim ≠ drawn digit")
    fig.tight_layout()
    return Figure(
        "offers",
        "Share of stamped test digits whose claimed digit differs from the drawn one on which the "
        "models answer the claim (per image the family's models averaged; 95% intervals over images). The "
        "no-offers models saw the same training images without stamps.",
        fig,
    )


def _summary_table(img: pd.DataFrame, c: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (family, dist), g in img.groupby(["family", "distribution"], sort=False):
        fit = c[(c.family == family) & (c.distribution == dist)].proxy.mean()
        rows.append(
            {
                "family": family,
                "distribution": NAMES.get(dist, dist),
                "proxy (fit to own labels)": fit,
                **{
                    col: stats.fmt(stats.mean(g[col].to_numpy(), IMAGE))
                    for col in ("correct", "agrees_rater", "x_recall", "follows_offer")
                },
            }
        )
    return pd.DataFrame(rows).rename(columns={"correct": "gold (agrees with labeler)", "agrees_rater": "rater"})


def report(results) -> ReportContent:
    t, a = results.tables, results.artifacts
    c = _with_family(t["contrasts"])
    img = per_image(t["predictions"], t["test_images"])
    findings = claims(t["predictions"], t["test_images"], t.get("attack_images"))
    figures = [
        f
        for f in (
            _agreement_figure(img, c),
            _samples_grid(a.get("samples", {})),
            _disagreement_figure(t["disagreement"], c),
            _disagreement_grid(a.get("disagreement_examples", {})),
            _attack_figure(t["attack"]) if "attack" in t and not t["attack"].empty else None,
            _adversarial_grid(a.get("adversarial_examples", [])),
            _offers_figure(img),
        )
        if f is not None
    ]
    tables = [
        Table(
            "Proxy, rater and gold by family and distribution",
            _summary_table(img, c),
            "Per image the family's models averaged; mean [95% interval over images]. proxy: fit to the model's "
            "own training labels; rater: agreement with the noisy rater's labels of the test images; gold: "
            "agreement with the generator (the labeler).",
        ),
        Table(
            "Models",
            t["models"],
            "labels_vs_gold: how often the training labels equal the generator's; "
            "train_gold: the model's agreement with the generator on its training images.",
        ),
        Table("Distributions", t["distributions"], "rater_vs_gold: the rater's own accuracy on each test set."),
        Table("Attack", t.get("attack", pd.DataFrame()), "to_x: successes where the model answers X."),
        Table(
            "Offers",
            _offers_table(img),
            "Stamped digits whose claim is not the drawn digit; per image the "
            "family's models averaged, 95% interval over images.",
        ),
    ]
    cfg = results.config
    n = {k: sum(f.verdict == k for f in findings) for k in ("holds", "fails", "inconclusive")}
    return ReportContent(
        title="Digits: what the labels capture",
        summary=(
            f"CNNs ({', '.join(cfg.architectures)}) trained until they fit {cfg.train_images} generated images, "
            "labelled by the generator (the Platonic labeler) or by a noisy rater, then scored against the "
            "labeler (gold), the rater and their own training labels (proxy) in distribution and on four shifts. "
            f"Of {len(findings)} claims, {n['holds']} hold, {n['fails']} fail and {n['inconclusive']} are "
            "inconclusive (intervals over test images)."
        ),
        setup=(
            f"Images at {cfg.resolution}×{cfg.resolution}; shifts: unseen fonts, strong transforms, handwritten "
            "digits (scikit-learn's, held out) and decorrelated offers."
        ),
        findings=findings,
        figures=figures,
        tables=tables,
        headline="agreement",
    )
