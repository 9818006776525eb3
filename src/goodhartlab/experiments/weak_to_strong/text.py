"""The text task of ``weak-to-strong``. One QA world and one pretrained tiny LM (π_base, cached by config hash,
the same path as the rlhf experiments). Statements 'the <entity> ... <value>' about every fact; per seed the
entities are split in halves: the student (LM + head) is fine-tuned on the weak supervisor's labels of the first
half's statements, the ceiling on their truth labels, and all are measured against the truth on the second half's
statements (entities unseen in fine-tuning, but in the pretraining corpus).

Truth labels reach only the ceiling and the measurement; a student's batches hold statements and weak labels only.
"""

from __future__ import annotations

import numpy as np

from goodhartlab.core.records import CONTRASTS, Contrast
from goodhartlab.oversight.weak_to_strong import pgr
from goodhartlab.oversight.weak_to_strong_text import (
    encode_statements,
    finetune_classifier,
    misconception_believer,
    new_classifier,
    predict_true,
    zero_shot,
)

LOSSES = {"plain": 0.0, "confidence": None}  # None: the config's c


def _acc(pred: np.ndarray, truth: np.ndarray) -> float:
    return float((pred == truth).mean()) if len(truth) else float("nan")


def run_text(config, ctx) -> None:
    from goodhartlab.pipelines.qa_base import build_base

    base = build_base(config.text_world, config.text_lm, config.seed, ctx)
    world, lm = base.world, base.model
    claims = world.fact_claims(config.text_statements_per_fact, ctx.rng("text", "claims"))
    truth = np.array([c.true for c in claims], dtype=np.int64)  # gold: the ceiling and measurement only
    weak = misconception_believer(claims)
    contested = np.array([c.fact_has_misconception for c in claims])
    ids, mask = encode_statements(base.tokenizer, [c.text for c in claims])
    entities = sorted({c.entity for c in claims})
    # No labels at all: per fact (statements sharing a prefix, which a reader sees), the value the LM finds likeliest.
    lm_pick = zero_shot(lm, ids, mask, [c.text.rsplit(" ", 1)[0] for c in claims])
    params = float(sum(p.numel() for p in lm.parameters()))
    ctx.table(
        "text_lm",
        [
            {
                **{k: v for k, v in base.info.items() if not isinstance(v, (list, dict))},
                "statements": len(claims),
                "entities": len(entities),
                "contested_statements": int(contested.sum()),
                "backbone_parameters": params,
            }
        ],
    )
    steps = config.text_finetune_steps
    rows = []
    with ctx.progress(
        "weak-to-strong text (fine-tune LM classifiers)", (1 + len(LOSSES)) * steps * config.seeds
    ) as advance:
        for seed in range(config.seeds):
            order = ctx.rng("text", "split", seed).permutation(len(entities))
            train_entities = {entities[i] for i in order[: len(entities) // 2]}
            tr = np.array([c.entity in train_entities for c in claims])
            te = ~tr

            def tuned(labels, name, c=0.0):
                model = new_classifier(lm, ctx.torch_generator("text", "head", name, seed), config.text_train_lm)
                finetune_classifier(
                    model,
                    ids[tr],
                    mask[tr],
                    labels,
                    steps,
                    config.text_batch,
                    config.text_lr,
                    ctx.rng("text", name, seed),
                    confidence=c,
                    warmup=config.warmup,
                    progress=advance,
                )
                return predict_true(model, ids[te], mask[te])

            t, w, k = truth[te], weak[te], contested[te]
            ceiling_pred = tuned(truth[tr], "ceiling")
            weak_acc, ceil_acc = _acc(w, t), _acc(ceiling_pred, t)
            weak_k, ceil_k = _acc(w[k], t[k]), _acc(ceiling_pred[k], t[k])
            z = lm_pick[te]
            common = {
                "seed": seed,
                "test_statements": int(te.sum()),
                "test_contested": int(k.sum()),
                "zero_shot": _acc(z, t),
                "zero_shot_contested": _acc(z[k], t[k]),
            }
            # Contrast rows: the weak supervisor has no proxy (agreement with itself is not a measurement).
            level = f"{int(params):,} parameters"
            ctx.table(
                CONTRASTS,
                [
                    Contrast(
                        series="text, weak supervisor",
                        factor="text task",
                        level=level,
                        gold=weak_acc,
                        seed=seed,
                        extra={"contested_accuracy": weak_k},
                    ).row(),
                    Contrast(
                        series="text, ceiling (truth labels)",
                        factor="text task",
                        level=level,
                        proxy=_acc(ceiling_pred, w),
                        gold=ceil_acc,
                        seed=seed,
                        extra={"contested_accuracy": ceil_k},
                    ).row(),
                ],
            )
            for loss, c in LOSSES.items():
                c = config.confidence if c is None else c
                pred = tuned(weak[tr], f"student {loss}", c)  # weak labels only
                s_acc, s_k, agree = _acc(pred, t), _acc(pred[k], t[k]), _acc(pred, w)
                g, g_k = pgr(s_acc, weak_acc, ceil_acc), pgr(s_k, weak_k, ceil_k)
                ctx.table(
                    CONTRASTS,
                    [
                        Contrast(
                            series=f"text, student {loss}",
                            factor="text task",
                            level=level,
                            proxy=agree,
                            gold=s_acc,
                            seed=seed,
                            extra={
                                "weak_accuracy": weak_acc,
                                "ceiling_accuracy": ceil_acc,
                                "pgr": g,
                                "confidence": c,
                                "contested_accuracy": s_k,
                                "weak_contested_accuracy": weak_k,
                                "ceiling_contested_accuracy": ceil_k,
                                "pgr_contested": g_k,
                            },
                        ).row()
                    ],
                )
                rows.append(
                    {
                        **common,
                        "loss": loss,
                        "weak": weak_acc,
                        "student": s_acc,
                        "ceiling": ceil_acc,
                        "pgr": g,
                        "weak_contested": weak_k,
                        "student_contested": s_k,
                        "ceiling_contested": ceil_k,
                        "pgr_contested": g_k,
                        "student_agrees_with_weak": agree,
                    }
                )
    ctx.table("text_runs", rows)
