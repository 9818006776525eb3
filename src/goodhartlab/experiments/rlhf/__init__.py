"""Catalog entry 2: RLHF overoptimization — proxy, rater and gold along the KL axis.

Five experiments share one pipeline (``measure.run_arms``) and one report (``present``):
``rlhf`` (a rater with loopholes; best-of-n and an RL sweep over β), ``rlhf-gold-rater`` (Gao et al.'s
setup: the rater is gold; fits against reward-model size and data), ``rlhf-bribery`` (the corpus's
offer/threat rate), ``rlhf-ensembles`` (Coste et al.'s ensembles) and ``rlhf-assisted`` (a rater helped by
a citation-checking critique).
"""

from goodhartlab.core.registry import Experiment, register
from goodhartlab.experiments.rlhf import present
from goodhartlab.experiments.rlhf.config import AssistedConfig, BriberyConfig, Config, EnsemblesConfig, GoldRaterConfig


# The pipeline (torch, transformers) is imported inside each run, so listing the catalog stays fast.


def run_rlhf(config: Config, ctx) -> None:
    from goodhartlab.experiments.rlhf.measure import Arm, run_arms

    run_arms(config, ctx, [Arm("", config.loopholes, config.assisted, config.rm, betas=list(config.betas))],
             {"base": config.world})


def run_gold_rater(config: GoldRaterConfig, ctx) -> None:
    from goodhartlab.experiments.rlhf.measure import Arm, run_arms

    arms = []
    top = (max(config.rm_sizes), max(config.comparison_counts))
    for size in config.rm_sizes:
        heads = config.rm.n_head if size % config.rm.n_head == 0 else 1
        for count in config.comparison_counts:
            rm = config.rm.model_copy(update={"backbone": "fresh", "n_embd": size, "n_head": heads, "comparisons": count})
            arms.append(Arm(f"RM {size}w {count}c", config.loopholes, config.assisted, rm,
                            betas=list(config.betas) if (size, count) == top else []))
    run_arms(config, ctx, arms, {"base": config.world})


def run_bribery(config: BriberyConfig, ctx) -> None:
    from goodhartlab.experiments.rlhf.measure import Arm, run_arms

    worlds = {f"offers {r:g}": config.world.model_copy(update={"offer_rate": r}) for r in config.offer_rates}
    arms = [Arm(label, config.loopholes, config.assisted, config.rm, betas=list(config.betas), base_label=label)
            for label in worlds]
    run_arms(config, ctx, arms, worlds)


def run_ensembles(config: EnsemblesConfig, ctx) -> None:
    from goodhartlab.experiments.rlhf.measure import Arm, ProxySpec, run_arms

    specs = {"single": ProxySpec("single", "mean", 1), "mean": ProxySpec("mean", "mean", None),
             "min": ProxySpec("min", "min", None), "uncertainty": ProxySpec("uncertainty", "uncertainty", None)}
    run_arms(config, ctx, [Arm("", config.loopholes, config.assisted, config.rm,
                               proxies=[specs[a] for a in config.aggregates], betas=list(config.betas))],
             {"base": config.world})


def run_assisted(config: AssistedConfig, ctx) -> None:
    from goodhartlab.experiments.rlhf.measure import Arm, run_arms

    arms = [Arm(name, config.loopholes, assisted, config.rm, betas=list(config.betas))
            for name, assisted in (("unassisted", False), ("assisted", True))]
    run_arms(config, ctx, arms, {"base": config.world})


for name, summary, cfg, run in (
    ("rlhf", "RLHF with a loophole rater: best-of-n and RL over β; proxy, rater preference and gold on one KL axis.",
     Config, run_rlhf),
    ("rlhf-gold-rater", "Gao et al.'s setup (the rater is gold): pure reward-model overoptimization; fits vs RM size and data.",
     GoldRaterConfig, run_gold_rater),
    ("rlhf-bribery", "Offer/threat rate of the corpus swept: does the KL penalty stop a behaviour π_base finds plausible?",
     BriberyConfig, run_bribery),
    ("rlhf-ensembles", "Single reward model vs mean / worst-case / uncertainty-weighted ensembles (Coste et al. 2023).",
     EnsemblesConfig, run_ensembles),
    ("rlhf-assisted", "A rater assisted by a citation-checking critique vs the unassisted rater.", AssistedConfig, run_assisted),
):
    register(Experiment(name=name, summary=summary, config=cfg, run=run, report=present.report))
