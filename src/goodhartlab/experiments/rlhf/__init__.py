"""Catalog entry 2: RLHF overoptimization — proxy, rater and gold along the KL axis.

Five experiments share one pipeline (``measure.run_arms``) and one report (``present``), each building its
list of typed arms here: ``rlhf`` (a calibrated rater with graded loopholes; best-of-n, RLOO over β, DPO),
``rlhf-gold-rater`` (Gao et al.'s setup: the rater is gold; reward-model size and data swept),
``rlhf-bribery`` (the corpus's offer/threat rate swept), ``rlhf-ensembles`` (fine-tune-seed vs pretrain-seed
members, mean/min/uncertainty) and ``rlhf-assisted`` (a rater helped by a citation-checking critique).
"""

from goodhartlab.core.registry import Deferred, Experiment, register
from goodhartlab.experiments.rlhf.config import (
    AssistedConfig,
    BriberyConfig,
    Config,
    EnsemblesConfig,
    GoldRaterConfig,
)


# The pipeline (torch, transformers) is imported inside each run, so listing the catalog stays fast.
def _rater(config, assisted: bool | None = None):
    from goodhartlab.experiments.rlhf.measure import RaterSpec

    return RaterSpec(
        config.loopholes,
        config.assisted if assisted is None else assisted,
        config.rater_agreement,
        config.rater,
    )


def run_rlhf(config: Config, ctx) -> None:
    from goodhartlab.experiments.rlhf.measure import Arm, optimizers_of, run_arms

    run_arms(
        config,
        ctx,
        [Arm("", "base", _rater(config), config.rm, optimizers=optimizers_of(config))],
        {"base": config.world},
    )


def run_gold_rater(config: GoldRaterConfig, ctx) -> None:
    from goodhartlab.experiments.rlhf.measure import (
        Arm,
        BestOfN,
        optimizers_of,
        run_arms,
    )

    arms = []
    top = (max(config.rm_sizes), max(config.comparison_counts))
    for size in config.rm_sizes:
        heads = config.rm.n_head if size % config.rm.n_head == 0 else 1
        for count in config.comparison_counts:
            rm = config.rm.model_copy(
                update={
                    "backbone": "fresh",
                    "n_embd": size,
                    "n_head": heads,
                    "comparisons": count,
                }
            )
            opts = optimizers_of(config) if (size, count) == top else (BestOfN(),)
            arms.append(
                Arm(
                    f"RM {size}w {count}c",
                    "base",
                    _rater(config),
                    rm,
                    optimizers=opts,
                    tags={"rm_n_embd": size, "comparisons": count},
                )
            )
    run_arms(config, ctx, arms, {"base": config.world})


def run_bribery(config: BriberyConfig, ctx) -> None:
    from goodhartlab.experiments.rlhf.measure import Arm, optimizers_of, run_arms

    worlds = {f"offers {r:g}": config.world.model_copy(update={"offer_rate": r}) for r in config.offer_rates}
    arms = [
        Arm(
            label,
            label,
            _rater(config),
            config.rm,
            optimizers=optimizers_of(config),
            tags={"offer_rate": r},
        )
        for label, r in zip(worlds, config.offer_rates)
    ]
    run_arms(config, ctx, arms, worlds)


def run_ensembles(config: EnsemblesConfig, ctx) -> None:
    from goodhartlab.experiments.rlhf.measure import (
        Arm,
        ProxySpec,
        optimizers_of,
        run_arms,
    )

    specs = {
        "single": ProxySpec("single", "mean", 1),
        "mean": ProxySpec("mean", "mean", None),
        "min": ProxySpec("min", "min", None),
        "uncertainty": ProxySpec("uncertainty", "uncertainty", None),
    }
    arms = [
        Arm(
            source,
            "base",
            _rater(config),
            config.rm,
            proxies=tuple(specs[a] for a in config.aggregates),
            optimizers=optimizers_of(config),
            backbones="policy" if source == "finetune-seed" else "pretrain-seed",
            tags={"member_source": source},
        )
        for source in config.member_sources
    ]
    run_arms(
        config,
        ctx,
        arms,
        {"base": config.world},
        pretrain_backbones=config.rm.members if "pretrain-seed" in config.member_sources else 0,
    )


def run_assisted(config: AssistedConfig, ctx) -> None:
    from goodhartlab.experiments.rlhf.measure import Arm, optimizers_of, run_arms

    arms = [
        Arm(
            name,
            "base",
            _rater(config, assisted),
            config.rm,
            optimizers=optimizers_of(config),
            tags={"assisted": assisted},
        )
        for name, assisted in (("unassisted", False), ("assisted", True))
    ]
    run_arms(config, ctx, arms, {"base": config.world})


for name, summary, cfg, run, rep in (
    (
        "rlhf",
        "RLHF with a calibrated loophole rater: best-of-n, RL over β and DPO; proxy, rater and gold on one KL axis.",
        Config,
        run_rlhf,
        Deferred(f"{__name__}.present:report_rlhf"),
    ),
    (
        "rlhf-gold-rater",
        "Gao et al.'s setup (the rater is gold): pure reward-model overoptimization; fits vs RM size and data.",
        GoldRaterConfig,
        run_gold_rater,
        Deferred(f"{__name__}.present:report_gold_rater"),
    ),
    (
        "rlhf-bribery",
        "Offer/threat rate of the corpus swept: does the KL penalty stop a behaviour π_base finds plausible?",
        BriberyConfig,
        run_bribery,
        Deferred(f"{__name__}.present:report_bribery"),
    ),
    (
        "rlhf-ensembles",
        "Fine-tune-seed vs pretrain-seed reward-model ensembles (Eisenstein et al. 2023; Coste et al. 2023).",
        EnsemblesConfig,
        run_ensembles,
        Deferred(f"{__name__}.present:report_ensembles"),
    ),
    (
        "rlhf-assisted",
        "A rater assisted by a citation-checking critique vs the unassisted rater.",
        AssistedConfig,
        run_assisted,
        Deferred(f"{__name__}.present:report_assisted"),
    ),
):
    register(Experiment(name=name, summary=summary, config=cfg, run=run, report=rep))
