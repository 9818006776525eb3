"""The ``weak-to-strong`` run. Per seed: split the training images in halves A and B; pretrain one model per
width as a denoising autoencoder on all training images (no labels); fine-tune small models on A's ground truth
(weak supervisors), label B with them (soft labels), fine-tune each larger pretrained model on those weak labels
(student; plain cross-entropy and with the auxiliary confidence loss) and on B's ground truth (ceiling).

Ground truth reaches only the weak supervisors (half A) and the ceiling; a student's batches hold images and
weak labels only. Accuracies are against the world's labels on held-out test images.
"""

from __future__ import annotations

import copy
import time

import torch

from goodhartlab.core.context import Context
from goodhartlab.core.records import CONTRASTS, Contrast
from goodhartlab.experiments.weak_to_strong.config import Config
from goodhartlab.experiments.weak_to_strong.text import run_text
from goodhartlab.models.convnet import ConvNet, as_tensor
from goodhartlab.oversight.weak_to_strong import accuracy, finetune, pgr, predict, pretrain, pretrain_contrastive
from goodhartlab.worlds.digits import LABEL_X, DigitsWorld

CLASSES = LABEL_X + 1  # 0-9 and X
LOSSES = {"plain": 0.0, "confidence": None}  # None: the config's c


def run_seed(config: Config, ctx, seed: int, x_train, y_train, x_test, y_test, advance) -> None:
    perm = ctx.rng("split", seed).permutation(len(y_train))
    a, b = perm[: len(perm) // 2], perm[len(perm) // 2 :]
    pretrained = {}
    for w in config.widths:
        model = ConvNet(28, w, CLASSES, ctx.torch_generator("init", w, seed))
        if config.pretraining == "contrastive":
            pretrain_contrastive(
                model,
                x_train,
                config.pretrain_steps,
                config.batch,
                config.lr,
                ctx.rng("pretrain", w, seed),
                progress=advance,
            )
        else:
            pretrain(
                model,
                x_train,
                config.pretrain_steps,
                config.batch,
                config.lr,
                config.mask_drop,
                ctx.rng("pretrain", w, seed),
                advance,
            )
        pretrained[w] = model

    def tuned(w, images, targets, name, c=0.0):
        model = copy.deepcopy(pretrained[w])
        finetune(
            model,
            images,
            targets,
            config.finetune_steps,
            config.batch,
            config.lr,
            ctx.rng(name, w, seed),
            confidence=c,
            warmup=config.warmup,
            progress=advance,
        )
        return model

    y_a, y_b = torch.from_numpy(y_train[a]), torch.from_numpy(y_train[b])
    weak, weak_labels, weak_acc, weak_test_pred = {}, {}, {}, {}
    for w in config.widths[:-1]:
        weak[w] = tuned(w, x_train[a], y_a, "weak")
        weak_labels[w] = predict(weak[w], x_train[b])  # soft labels for half B
        weak_acc[w] = accuracy(weak[w], x_test, y_test)
        weak_test_pred[w] = predict(weak[w], x_test).argmax(1).numpy()
    ceiling = {}
    for w in config.widths[1:]:
        ceiling[w] = accuracy(tuned(w, x_train[b], y_b, "ceiling"), x_test, y_test)
    rows = []
    for ws in config.widths[1:]:
        for ww in [w for w in config.widths if w < ws]:
            label_acc = float((weak_labels[ww].argmax(1).numpy() == y_train[b]).mean())
            for loss, c in LOSSES.items():
                c = config.confidence if c is None else c
                student = tuned(ws, x_train[b], weak_labels[ww], f"student {loss} {ww}", c)
                pred = predict(student, x_test).argmax(1).numpy()
                s_acc = float((pred == y_test).mean())
                agree = float((pred == weak_test_pred[ww]).mean())
                g = pgr(s_acc, weak_acc[ww], ceiling[ws])
                # A size pair is a category, not a pressure: a Contrast row (proxy: agreement with the weak
                # supervisor; gold: accuracy against the world's labels).
                ctx.table(
                    CONTRASTS,
                    [
                        Contrast(
                            series=f"student, {loss}",
                            factor="weak → strong width",
                            level=f"{ww} → {ws}",
                            proxy=agree,
                            gold=s_acc,
                            seed=seed,
                            extra={
                                "weak_width": float(ww),
                                "strong_width": float(ws),
                                "weak_accuracy": weak_acc[ww],
                                "ceiling_accuracy": ceiling[ws],
                                "student_accuracy": s_acc,
                                "pgr": g,
                                "weak_label_accuracy_b": label_acc,
                                "confidence": c,
                                "weak_params": float(pretrained[ww].parameter_count()),
                                "strong_params": float(pretrained[ws].parameter_count()),
                            },
                        ).row()
                    ],
                )
                rows.append(
                    {
                        "seed": seed,
                        "loss": loss,
                        "weak_width": ww,
                        "strong_width": ws,
                        "weak": weak_acc[ww],
                        "student": s_acc,
                        "ceiling": ceiling[ws],
                        "pgr": g,
                        "student_agrees_with_weak": agree,
                    }
                )
    ctx.table("runs", rows)


def run(config: Config, ctx: Context) -> None:
    t0 = time.perf_counter()
    world = DigitsWorld()
    train = world.sample(config.train_images, "train", ctx.rng("data", "train"))
    test = world.sample(config.test_images, "train", ctx.rng("data", "test"))
    x_train, x_test = as_tensor(train.images28), as_tensor(test.images28)
    nw = len(config.widths)
    pairs = nw * (nw - 1) // 2
    per_seed = nw * config.pretrain_steps + ((nw - 1) * 2 + 2 * pairs) * config.finetune_steps
    with ctx.progress("weak-to-strong (pretrain, fine-tune)", per_seed * config.seeds) as advance:
        for seed in range(config.seeds):
            run_seed(config, ctx, seed, x_train, train.labels, x_test, test.labels, advance)
    ctx.table(
        "timing", [{"seconds": time.perf_counter() - t0, "seeds": config.seeds, "steps": per_seed * config.seeds}]
    )
    if config.text_task:
        t0 = time.perf_counter()
        run_text(config, ctx)
        ctx.table("text_timing", [{"seconds": time.perf_counter() - t0, "seeds": config.seeds}])
