"""The ``digits`` run: what the labels capture.

One finite training set from the generator; classifiers trained on it until they fit, either on the
generator's labels (gold used as the training signal) or on a noisy rater's labels; a twin of the set
without offer stamps for the offers control. Every model is scored against the labeler (gold), the rater
and its own training labels (proxy) in distribution and on each shift. Then: pairwise disagreement of the
generator-labelled models, projected-gradient attacks within a budget that keeps the drawn digit, and
how often models follow a decorrelated offer.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from goodhartlab.core.context import Context
from goodhartlab.core.records import CONTRASTS, Contrast
from goodhartlab.experiments.digits.attack import pgd, verify
from goodhartlab.experiments.digits.config import Config
from goodhartlab.models.classifiers import CNN, fit, predict
from goodhartlab.worlds.digits import LABEL_X, SHIFTS, DigitsBatch, DigitsWorld, NoisyRater, downsample

DISTS = ("train", *SHIFTS)  # "train" here is fresh in-distribution test images


def _training_set(config: Config, world: DigitsWorld, ctx) -> tuple[DigitsBatch, DigitsBatch]:
    """The training set and its offer-free twin (same generator stream, so the same images but stamps)."""
    twin_world = DigitsWorld(config.world.model_copy(update={"offer_rate": 0.0}))
    n_hw = int(round(config.handwritten_train_share * config.train_images))
    main = world.sample(config.train_images - n_hw, "train", ctx.rng("train set"))
    twin = twin_world.sample(config.train_images - n_hw, "train", ctx.rng("train set"))
    if n_hw:
        hw = world.sample(n_hw, "train_handwritten", ctx.rng("train handwritten"))
        main, twin = DigitsBatch.concat([main, hw]), DigitsBatch.concat([twin, hw])
    return main, twin


def _metrics(pred: np.ndarray, batch: DigitsBatch, rater_labels: np.ndarray) -> dict[str, float]:
    gold = batch.labels
    x_nd = np.array([k == "nondigit" for k in batch.kind])
    x_amb = np.array([k == "ambiguous" for k in batch.kind])
    digit = gold < LABEL_X
    stamped = (batch.offer >= 0) & (batch.offer != gold) & digit
    nan = float("nan")
    return {
        "gold": float(np.mean(pred == gold)),
        "rater": float(np.mean(pred == rater_labels)),
        "digit_accuracy": float(np.mean(pred[digit] == gold[digit])) if digit.any() else nan,
        "x_recall": float(np.mean(pred[~digit] == LABEL_X)) if (~digit).any() else nan,
        "x_recall_nondigit": float(np.mean(pred[x_nd] == LABEL_X)) if x_nd.any() else nan,
        "x_recall_ambiguous": float(np.mean(pred[x_amb] == LABEL_X)) if x_amb.any() else nan,
        "x_false_alarm": float(np.mean(pred[digit] == LABEL_X)) if digit.any() else nan,
        "follows_offer": float(np.mean(pred[stamped] == batch.offer[stamped])) if stamped.any() else nan,
        "offer_conflicts": float(stamped.sum()),
    }


def encode(image: np.ndarray) -> str:
    """A square uint8 image as a hex string (compact in JSON artifacts); ``decode`` inverts it."""
    return np.ascontiguousarray(image, np.uint8).tobytes().hex()


def decode(text: str) -> np.ndarray:
    flat = np.frombuffer(bytes.fromhex(text), np.uint8)
    side = int(round(np.sqrt(flat.size)))
    return flat.reshape(side, side)


def _grid_rows(images: np.ndarray, idx: np.ndarray) -> list[str]:
    return [encode(images[i]) for i in idx]


def run(config: Config, ctx: Context) -> None:
    world = DigitsWorld(config.world)
    res = config.resolution
    train, twin = _training_set(config, world, ctx)
    rater = NoisyRater(config.rater_flip_rate, config.rater_ambiguity_blind, config.rater_offer_sway)
    rater_train = rater.label(train, ctx.rng("rater", "train set"))
    # The handwritten test set is the held-out half of scikit-learn's digits; never more images than it has.
    sizes = {
        d: min(config.test_images, len(world.handwritten_split[d])) if d == "handwritten" else config.test_images
        for d in DISTS
    }
    tests = {d: world.sample(sizes[d], d, ctx.rng("test", d)) for d in DISTS}
    rater_tests = {d: rater.label(b, ctx.rng("rater", "test", d)) for d, b in tests.items()}
    x_train, x_twin = downsample(train.images, res), downsample(twin.images, res)
    x_tests = {d: downsample(b.images, res) for d, b in tests.items()}
    ctx.log(
        f"training set: {len(train)} images; rater labels agree with the generator on "
        f"{np.mean(rater_train == train.labels):.3f}"
    )

    # Models: (family, architecture, seed). The same (architecture, seed) starts from the same weights and
    # sees the same batch order in every family, so families differ only in their training labels/images.
    archs = config.architectures
    seq = [
        (archs[i % len(archs)], i // len(archs))
        for i in range(max(config.generator_models, config.rater_models, config.control_models))
    ]
    specs = [("generator", *seq[i]) for i in range(config.generator_models)]
    specs += [("rater", *seq[i]) for i in range(config.rater_models)]
    specs += [("no-offers", *seq[i]) for i in range(config.control_models)]
    models, preds, rows = {}, {}, []
    with ctx.progress("training classifiers until they fit", len(specs)) as advance:
        for family, arch, seed in specs:
            name = f"{family}/{arch}/{seed}"
            images, labels = (x_twin, train.labels) if family == "no-offers" else (x_train, train.labels)
            if family == "rater":
                labels = rater_train
            model = CNN(arch, generator=ctx.torch_generator("init", arch, seed))
            result = fit(
                model,
                images,
                labels,
                ctx.torch_generator("order", arch, seed),
                max_epochs=config.max_epochs,
                fit_target=config.fit_target,
                lr=config.lr,
                batch_size=config.batch_size,
            )
            models[name] = model
            preds[name] = {d: predict(model, x_tests[d]) for d in DISTS}
            train_pred = predict(model, images)
            rows.append(
                {
                    "model": name,
                    "family": family,
                    "architecture": arch,
                    "seed": seed,
                    "epochs": result.epochs,
                    "fitted": result.fitted,
                    "train_fit": result.train_accuracy,
                    "train_gold": float(np.mean(train_pred == train.labels)),
                    "labels_vs_gold": float(np.mean(labels == train.labels)),
                    "parameters": sum(p.numel() for p in model.parameters()),
                }
            )
            for d in DISTS:
                # A distribution is a category, not a pressure: one Contrast row per model and distribution.
                m = _metrics(preds[name][d], tests[d], rater_tests[d])
                ctx.table(
                    CONTRASTS,
                    [
                        Contrast(
                            series=f"{family}/{arch}",
                            factor="distribution",
                            level=d,
                            proxy=result.train_accuracy,
                            rater=m.pop("rater"),
                            gold=m.pop("gold"),
                            seed=seed,
                            extra=m,
                        ).row()
                    ],
                )
                # Per image, so the report can resample images (the unit every model is scored on).
                ctx.table(
                    "predictions",
                    [
                        {"model": name, "distribution": d, "image": i, "pred": int(v)}
                        for i, v in enumerate(preds[name][d])
                    ],
                )
            advance()
    ctx.table("models", rows)
    ctx.table(
        "test_images",
        [
            {
                "distribution": d,
                "image": i,
                "gold": int(b.labels[i]),
                "rater": int(rater_tests[d][i]),
                "kind": str(b.kind[i]),
                "offer": int(b.offer[i]),
            }
            for d, b in tests.items()
            for i in range(len(b))
        ],
    )
    ctx.table(
        "distributions",
        [
            {
                "index": k,
                "distribution": d,
                "images": len(tests[d]),
                "x_share": float(np.mean(tests[d].labels == LABEL_X)),
                "rater_vs_gold": float(np.mean(rater_tests[d] == tests[d].labels)),
            }
            for k, d in enumerate(DISTS)
        ],
    )

    _disagreement(config, ctx, preds, tests, x_tests)
    _attacks(config, ctx, models, x_tests["train"], tests["train"])
    # A few images of each distribution for the report (at 96 px, as generated, and as the models see them).
    ctx.artifact(
        "samples",
        {
            d: {
                "images": _grid_rows(downsample(tests[d].images, 48), np.arange(config.grid_images)),
                "labels": tests[d].labels[: config.grid_images].tolist(),
                "offer": tests[d].offer[: config.grid_images].tolist(),
            }
            for d in DISTS
        },
    )


def _disagreement(config: Config, ctx, preds: dict, tests: dict, x_tests: dict) -> None:
    """Pairwise disagreement within each family, and the in-family images the generator-labelled models
    split on most (for the grid)."""
    rows, examples = [], {}
    for family in ("generator", "rater"):
        names = [n for n in preds if n.startswith(family + "/")]
        for a, b in combinations(names, 2):
            for d in DISTS:
                both_wrong = (preds[a][d] != tests[d].labels) & (preds[b][d] != tests[d].labels)
                rows.append(
                    {
                        "family": family,
                        "model_a": a,
                        "model_b": b,
                        "distribution": d,
                        "disagreement": float(np.mean(preds[a][d] != preds[b][d])),
                        "both_wrong": float(np.mean(both_wrong)),
                    }
                )
    names = [n for n in preds if n.startswith("generator/")]
    for d in DISTS:
        p = np.stack([preds[n][d] for n in names], 1)  # [images, models]
        distinct = np.array([len(set(r)) for r in p])
        order = np.argsort(-distinct, kind="stable")
        pick, per_label = [], {}
        for i in order[distinct[order] > 1]:  # most-split first, at most two per true label for variety
            g = int(tests[d].labels[i])
            if per_label.get(g, 0) < 2 and len(pick) < config.grid_images:
                pick.append(i)
                per_label[g] = per_label.get(g, 0) + 1
        pick = np.asarray(pick, np.int64)
        examples[d] = {
            "images": _grid_rows(x_tests[d], pick),
            "gold": tests[d].labels[pick].tolist(),
            "preds": p[pick].tolist(),
            "models": names,
            "split_images": int((distinct > 1).sum()),
        }
    ctx.table("disagreement", rows)
    ctx.artifact("disagreement_examples", examples)


def _attacks(config: Config, ctx, models: dict, x_test: np.ndarray, test: DigitsBatch) -> None:
    rows, examples = [], []
    attacked = [n for n in models if n.startswith("generator/")][: config.attack_models]
    if not attacked or not config.attack_images:
        ctx.table("attack", rows)
        return
    with ctx.progress("projected-gradient attacks", len(attacked) * len(config.attack_budgets)) as advance:
        for name in attacked:
            model = models[name]
            ok = (predict(model, x_test) == test.labels) & (test.labels < LABEL_X)
            idx = np.nonzero(ok)[0][: config.attack_images]
            clean, labels = x_test[idx], test.labels[idx]
            for eps in config.attack_budgets:
                adv = pgd(model, clean, labels, eps, config.attack_steps, config.ink_threshold, config.guard_px)
                p = predict(model, adv)
                unchanged = verify(clean, adv, config.ink_threshold, config.guard_px, eps)
                success = (p != labels) & unchanged
                ctx.table(
                    "attack_images",
                    [
                        {"model": name, "epsilon": eps, "image": int(i), "success": bool(ok_)}
                        for i, ok_ in zip(idx, success)
                    ],
                )
                changed = (adv != clean).sum(axis=(1, 2))
                rows.append(
                    {
                        "model": name,
                        "epsilon": eps,
                        "attacked": len(idx),
                        "successes": int(success.sum()),
                        "success_rate": float(success.mean()) if len(idx) else float("nan"),
                        "drawn_unchanged": float(unchanged.mean()) if len(idx) else float("nan"),
                        "to_x": int(((p == LABEL_X) & success).sum()),
                        "mean_pixels_changed": float(changed.mean()) if len(idx) else 0.0,
                    }
                )
                if name == attacked[0]:
                    hits = np.nonzero(success)[0][:3]
                    examples += [
                        {
                            "epsilon": eps,
                            "label": int(labels[i]),
                            "pred": int(p[i]),
                            "clean": encode(clean[i]),
                            "adversarial": encode(adv[i]),
                        }
                        for i in hits
                    ]
                advance()
    ctx.table("attack", rows)
    ctx.artifact("adversarial_examples", examples)
