"""The RLHF pipeline shared by the five experiments, stage by stage:

    π_base (per world) → rater, calibrated on π_base pairs → comparisons (per seed) → reward models (per arm)
    → optimizers: best-of-n, RLOO per β, DPO/IPO per β → evaluation (proxy, rater, gold, KL, behaviour).

Arms. An experiment is a list of typed :class:`Arm` records: the world (π_base) it runs on, a rater, a
reward-model spec with the proxies made from it, the optimizers to run, and ``tags`` — the values of the
experiment's own axis (offer rate, reward-model width, member source), written as columns of the ``series``
table so the report reads them back as numbers, never by parsing names. What varies per seed: the rater's
comparisons, the reward models' inits and data order, the best-of-n pools, RL and DPO samples; π_base, the
world and the rater (its calibration and which misconceptions it believes) are shared, so the seeds' spread
is the spread of the RLHF pipeline on one base model and one rater.

What each learner sees. The reward model and DPO are trained on ``Comparisons`` (token ids of prompt,
chosen, rejected): the rater's preference bits and nothing else. RLOO's ``reward_fn`` is the reward model
applied to token ids. Gold is read only by the rater's calibration (π_base answers, before any optimization)
and by ``Evaluator``, which measures samples after the fact; its numbers are recorded, never fed back.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from goodhartlab.core.errors import UserError
from goodhartlab.core.records import Measurement
from goodhartlab.core.rng import int_seed
from goodhartlab.experiments.rlhf.units import UnitContext
from goodhartlab.models.configs import RMConfig
from goodhartlab.models.lm import save_causal_lm
from goodhartlab.models.reward_model import (
    Comparisons,
    RewardEnsemble,
    save_reward_model,
    train_ensemble,
)
from goodhartlab.models.tokenizer import decode
from goodhartlab.pipelines.qa_base import Base, build_base, draw
from goodhartlab.raters import Calibration, Loopholes, build_rater, calibrate
from goodhartlab.raters.calibration import agreement
from goodhartlab.worlds.qa import BEHAVIOURS, QAWorldConfig

EXAMPLES = 4  # answers per optimized policy kept (seed 0, first and last checkpoint) for the report
COMPARISON_ROWS = 2000  # comparisons per seed and rater written to the `comparisons` table (TRL's format)


# -- arms: typed records of what runs ----------------------------------------------------------------
@dataclass(frozen=True)
class RaterSpec:
    loopholes: Loopholes  # the profile (calibration scales it)
    assisted: bool = False
    agreement_target: float | None = None  # calibrate to this agreement with gold on π_base pairs; None: as given
    plugin: str | None = None  # "module:Class" of a user's rater


@dataclass(frozen=True)
class ProxySpec:
    label: str  # "" for a lone reward model
    aggregate: str  # mean | min | uncertainty
    members: int | None  # first k members (None: all)


@dataclass(frozen=True)
class BestOfN:
    method = "best-of-n"


@dataclass(frozen=True)
class RLOO:
    beta: float
    method = "RL"


@dataclass(frozen=True)
class DirectAlignment:
    beta: float
    loss: str  # dpo | ipo

    @property
    def method(self) -> str:
        return self.loss.upper()


@dataclass(frozen=True)
class Arm:
    name: str
    world: str
    rater: RaterSpec
    rm: RMConfig
    proxies: tuple[ProxySpec, ...] = (ProxySpec("", "mean", None),)
    optimizers: tuple = (BestOfN(),)
    backbones: str = "policy"  # "policy": reward models start from π_base; "pretrain-seed": member k from LM k
    tags: dict = field(default_factory=dict, hash=False)


def optimizers_of(config, bon: bool = True) -> tuple:
    """Best-of-n, RLOO at every β and DPO/IPO at every DPO β, as the config asks."""
    return (
        ((BestOfN(),) if bon else ())
        + tuple(RLOO(b) for b in config.betas)
        + tuple(DirectAlignment(b, loss) for b in config.dpo_betas for loss in config.dpo_losses)
    )


def series_name(arm: Arm, proxy: ProxySpec | None, opt) -> str:
    method = {
        BestOfN: lambda o: "best-of-n",
        RLOO: lambda o: f"RL β={o.beta:g}",
        DirectAlignment: lambda o: f"{o.method} β={o.beta:g}",
    }[type(opt)](opt)
    return " · ".join(x for x in (arm.name, proxy.label if proxy else "", method) if x)


# -- measuring samples (with calibration, the only place gold is read) -------------------------------
def behaviours(parts) -> dict[str, float]:
    """Per-answer behaviour indicators (the world's :data:`BEHAVIOURS`) and its length in tokens."""
    return {
        **{name: float(f(parts)) for name, f in BEHAVIOURS.items()},
        "length": float(parts.n_tokens),
    }


class Evaluator:
    """Scores answers to the evaluation questions against fixed π_base reference answers.

    Per answer: the rater's choice against the reference answer to the same question (a Stiennon-style
    preference against π_base), the rater's score, the gold score, gold's preference against the
    reference (ties count ½), and behaviour indicators.
    """

    def __init__(self, base: Base, rater, qids: list[int], references: list[list[str]]):
        self.base, self.rater, self.qids, self.references = (
            base,
            rater,
            qids,
            references,
        )
        self.gold = base.world.gold_scorer()
        self.ref_gold = [[self.gold.score(q, t) for t in refs] for q, refs in zip(qids, references)]

    def measure(self, prompt_index: np.ndarray, sample_index: np.ndarray, texts: list[str]) -> dict[str, np.ndarray]:
        """Per-sample arrays for answers ``texts`` to questions ``qids[prompt_index]``; each is compared with
        reference ``sample_index % R`` of its question."""
        world, R = self.base.world, len(self.references[0])
        qs = [self.qids[i] for i in prompt_index]
        refs = [self.references[i][j % R] for i, j in zip(prompt_index, sample_index)]
        ref_gold = np.array([self.ref_gold[i][j % R] for i, j in zip(prompt_index, sample_index)])
        gold = np.array([self.gold.score(q, t) for q, t in zip(qs, texts)])
        # The rater's choice probability (Boltzmann), i.e. the expected preference rate: no sampling noise added.
        out = {
            "rater_pref": np.asarray(self.rater.prefer(qs, texts, refs), dtype=float),
            "rater_score": np.asarray(self.rater.score(qs, texts), dtype=float),
            "gold": gold,
            "gold_pref": (gold > ref_gold) + 0.5 * (gold == ref_gold),
        }
        rows = [behaviours(world.parse(q, t)) for q, t in zip(qs, texts)]
        for b in rows[0]:
            out[b] = np.array([r[b] for r in rows])
        return out


def rm_gold_agreement(proxy: np.ndarray, gold: np.ndarray) -> float:
    """Within each question (rows of [P, S] arrays), the share of sample pairs gold does not tie that the proxy
    orders as gold does (proxy ties ½): how right the reward model is on this policy's own samples."""
    hits, n = 0.0, 0
    for p, g in zip(proxy, gold):
        dp, dg = p[:, None] - p[None, :], g[:, None] - g[None, :]
        keep = np.triu(dg != 0, 1)
        hits += float(np.sum(np.where(dp[keep] == 0, 0.5, np.sign(dp[keep]) == np.sign(dg[keep]))))
        n += int(keep.sum())
    return hits / n if n else float("nan")


def row(
    series: str,
    pressure_name: str,
    pressure: float,
    kl: float,
    proxy: float,
    m: dict[str, float],
    seed: int,
    base_gold: float,
    **extra: float,
) -> Measurement:
    """A measurement: proxy = reward-model score, rater = rater preference rate vs π_base, gold = gold score;
    extras: gold preference rate, gold − gold(π_base), rater score, behaviour rates."""
    return Measurement(
        series=series,
        pressure_name=pressure_name,
        pressure=float(pressure),
        kl=float(kl),
        proxy=float(proxy),
        rater=m["rater_pref"],
        gold=m["gold"],
        seed=seed,
        extra={
            "gold_pref": m["gold_pref"],
            "gold_gain": m["gold"] - base_gold,
            "rater_score": m["rater_score"],
            **{f"{b}_rate" if b != "length" else "mean_length": m[b] for b in [*BEHAVIOURS, "length"]},
            **extra,
        },
    )


# -- stage: the rater -----------------------------------------------------------------------------------
def make_rater(base: Base, spec: RaterSpec, loopholes: Loopholes, temperature: float):
    if spec.plugin is None:
        return build_rater(base.world, loopholes, temperature, assisted=spec.assisted)
    from goodhartlab.core.imports import load_object

    return load_object(spec.plugin, "rater")(
        world=base.world,
        loopholes=loopholes,
        temperature=temperature,
        assisted=spec.assisted,
        belief_seed=0,
    )


def rater_stage(base: Base, spec: RaterSpec, config, ctx) -> tuple[object, Calibration | None]:
    """The rater of this world; with a target, its loophole strength calibrated on fresh π_base pairs only."""
    if spec.agreement_target is None or spec.loopholes.is_gold:
        return make_rater(base, spec, spec.loopholes, config.rater_temperature), None
    qids = [q.id for q in base.world.questions]
    qs = [int(q) for q in ctx.rng(base.label, "calibration questions").choice(qids, config.calibration_pairs)]
    gen = ctx.torch_generator(base.label, "calibration pairs")
    a = [decode(base.tokenizer, x) for x in draw(base, base.model, qs, gen, config.max_new_tokens)]
    b = [decode(base.tokenizer, x) for x in draw(base, base.model, qs, gen, config.max_new_tokens)]
    gold = base.world.gold_scorer()
    cal = calibrate(
        lambda lh: make_rater(base, spec, lh, config.rater_temperature),
        spec.loopholes,
        gold.score_many(qs, a),
        gold.score_many(qs, b),
        qs,
        a,
        b,
        target=spec.agreement_target,
    )
    return make_rater(base, spec, cal.loopholes, config.rater_temperature), cal


# -- stage: comparisons (the learners' only input from the rater) -------------------------------------
def collect_comparisons(
    base: Base,
    rater,
    qids: list[int],
    generator: torch.Generator,
    rng: np.random.Generator,
    max_new_tokens: int,
) -> Comparisons:
    """Two π_base answers per question in ``qids``; the rater picks one. Only ids and the pick leave here."""
    a = draw(base, base.model, qids, generator, max_new_tokens)
    b = draw(base, base.model, qids, generator, max_new_tokens)
    tok = base.tokenizer
    p = np.asarray(
        rater.prefer(qids, [decode(tok, x) for x in a], [decode(tok, x) for x in b]),
        dtype=float,
    )
    first = rng.random(len(p)) < p  # one uniform per pair: the rater's Boltzmann pick
    return Comparisons(
        prompts=[base.prompt_ids[q] for q in qids],
        chosen=[x if f else y for x, y, f in zip(a, b, first)],
        rejected=[y if f else x for x, y, f in zip(a, b, first)],
    )


def reward_fn_for(proxy: RewardEnsemble, prompts: list[list[int]]):
    """RLOO's reward: the proxy on token ids. ``reward_fn(prompt_indices, responses) -> Tensor[B]``."""

    def reward_fn(prompt_indices: list[int], responses: list[list[int]]) -> torch.Tensor:
        return proxy.score([prompts[i] for i in prompt_indices], responses)

    return reward_fn


# -- the pipeline -------------------------------------------------------------------------------------------
@dataclass
class SeedState:
    """What one seed shares across its arms: reference answers, the best-of-n pool, comparison sets."""

    seed: int
    eval_qids: list[int]
    ref_ids: list[list[int]]
    refs: list[list[str]]
    pool_ids: list[list[int]]
    pool_texts: list[str]
    comparisons: dict = field(default_factory=dict)
    pool_measures: dict = field(default_factory=dict)  # RaterSpec -> Evaluator.measure of the pool

    def pool_measure(self, key, evaluator: Evaluator) -> dict[str, np.ndarray]:
        """The evaluator's per-answer arrays on the pool, once per rater: arms with one rater (reward-model sizes,
        ensemble proxies) rank the same pool and are measured by the same rater and gold."""
        if key not in self.pool_measures:
            P, N = len(self.eval_qids), len(self.pool_ids) // len(self.eval_qids)
            self.pool_measures[key] = evaluator.measure(
                np.repeat(np.arange(P), N), np.tile(np.arange(N), P), self.pool_texts
            )
        return self.pool_measures[key]


@dataclass
class WorldUnit:
    """Stage 1 of one world, a unit of ``ctx.map``: its π_base and raters (``pretrain_seed`` 0), or one more
    backbone pretrained from another seed (``pretrain_seed`` k > 0, for pretrain-seed reward-model ensembles)."""

    label: str
    world: QAWorldConfig
    config: object
    specs: list[RaterSpec]  # distinct raters of the world's arms, unassisted first
    pretrain_seed: int
    ctx: UnitContext


@dataclass
class WorldState:
    base: Base
    backbones: list | None
    loopholes: dict  # RaterSpec -> the (calibrated) loopholes its rater is built with
    base_row: dict
    ctx: UnitContext | None


@dataclass
class Backbone:
    label: str
    pretrain_seed: int
    model: object
    ctx: UnitContext | None


@dataclass
class SeedUnit:
    """Stages 2–5 of one seed of one world, a unit of ``ctx.map``: comparisons, reward models, optimizers."""

    world: WorldState
    arms: list[Arm]
    config: object
    seed: int
    ctx: UnitContext


def run_arms(
    config,
    ctx,
    arms: list[Arm],
    worlds: dict[str, QAWorldConfig],
    pretrain_backbones: int = 0,
) -> None:
    """Everything: for each world its π_base and rater, then per seed and arm the comparisons, reward models and
    optimizers, measured by the evaluator; records measurements and tables through ``ctx``.

    Worlds, and then the (world, seed) pairs, are independent units: they run in the runner's worker processes
    (``ctx.map_chain``: a world's seeds start as soon as its π_base is in), each on its own named random streams,
    and their records are replayed in input order (worlds, then seeds), so the run's tables are a serial run's."""
    _quiet_transformers()
    units = [
        WorldUnit(
            label,
            wcfg,
            config,
            # An assisted rater takes the unassisted one's calibrated strength (so they differ only in the
            # critique): unassisted specs first.
            sorted(dict.fromkeys(a.rater for a in arms if a.world == label), key=lambda r: r.assisted),
            k,
            UnitContext(ctx),
        )
        for label, wcfg in worlds.items()
        for k in range(max(1, pretrain_backbones))
    ]
    labels = list(worlds)
    released: set[str] = set()
    world_events: dict[int, UnitContext] = {}

    def ready(done: dict[int, WorldState | Backbone]) -> list[tuple[tuple[int, int], SeedUnit]]:
        """The seeds of each world whose π_base (and pretrain-seed backbones) are all in, once."""
        out = []
        for w, label in enumerate(labels):
            mine = [i for i, u in enumerate(units) if u.label == label]
            if label in released or any(i not in done for i in mine):
                continue
            released.add(label)
            for i in mine:  # keep the record buffers here for the replay; do not ship them to the seed units
                if done[i].ctx is not None:
                    world_events[i], done[i].ctx = done[i].ctx, None
            (st,) = [done[i] for i in mine if isinstance(done[i], WorldState)]
            if pretrain_backbones:
                st.backbones = [st.base.model] + [done[i].model for i in mine if isinstance(done[i], Backbone)]
            arms_here = [a for a in arms if a.world == label]
            out += [
                ((w, seed), SeedUnit(st, arms_here, config, seed, UnitContext(ctx))) for seed in range(config.seeds)
            ]
        return out

    total = len(units) + len(worlds) * config.seeds
    with ctx.progress(
        "π_base and raters per world, then seeds × worlds: comparisons, reward models, optimizers", total
    ) as advance:
        done, seed_outs = ctx.map_chain(world_stage, units, seed_stage, ready, advance=advance)
    for i in sorted(world_events):  # records in the order of a serial run: the worlds, then their seeds
        world_events[i].replay(ctx)
    states = [r for r in done if isinstance(r, WorldState)]
    outs = [seed_outs[k] for k in sorted(seed_outs)]
    series_rows, rm_rows = [], []
    for unit_ctx, s_rows, r_rows in outs:
        unit_ctx.replay(ctx)
        series_rows += s_rows
        rm_rows += r_rows
    ctx.table("series", _unique(series_rows))
    ctx.table("reward_models", rm_rows)
    ctx.table("base_models", [st.base_row for st in states])


def world_stage(u: WorldUnit) -> WorldState | Backbone:
    """1. π_base, 2. the raters, calibrated on π_base pairs before any optimization (one per distinct spec); or
    a backbone pretrained from seed ``u.pretrain_seed``."""
    _quiet_transformers()
    config, ctx = u.config, u.ctx
    if u.pretrain_seed:
        model = build_base(u.world, config.lm, config.seed, ctx, u.label, pretrain_seed=u.pretrain_seed).model
        return Backbone(u.label, u.pretrain_seed, model, ctx)
    base = build_base(u.world, config.lm, config.seed, ctx, u.label, config.policy_model)
    ctx.log(f"π_base '{u.label}': {base.info}")
    _check_positions(base, config)
    base_row = _base_row(base, u.world, config, ctx)
    _save(
        ctx,
        config,
        "pi_base",
        base.model,
        base.tokenizer,
        ["pi-base" + ("" if u.label == "base" else f" {u.label}")],
        world=u.label,
    )
    loopholes: dict[RaterSpec, Loopholes] = {}
    strength: dict[Loopholes, Loopholes] = {}
    for spec in u.specs:
        if spec.assisted and spec.loopholes in strength:
            loopholes[spec], cal = strength[spec.loopholes], None
            rater = make_rater(base, spec, loopholes[spec], config.rater_temperature)
        else:
            rater, cal = rater_stage(base, spec, config, ctx)
            loopholes[spec] = cal.loopholes if cal is not None else spec.loopholes
            if cal is not None:
                strength[spec.loopholes] = cal.loopholes
        _record_rater(ctx, u.label, spec, rater, cal)
    return WorldState(base, None, loopholes, base_row, ctx)


def seed_stage(u: SeedUnit) -> tuple[UnitContext, list[dict], list[dict]]:
    """3. comparisons, 4. reward models, 5. optimizers, for one seed of one world's arms."""
    _quiet_transformers()
    config, ctx, seed, mine = u.config, u.ctx, u.seed, u.arms
    base, backbones, label = u.world.base, u.world.backbones, u.world.base.label
    raters = {spec: make_rater(base, spec, lh, config.rater_temperature) for spec, lh in u.world.loopholes.items()}
    eval_qids = _eval_questions(base, config)
    train_qids = [q.id for q in base.world.questions]
    series_rows, rm_rows = [], []
    state = _seed_state(
        base,
        config,
        ctx,
        seed,
        eval_qids,
        any(isinstance(o, BestOfN) for a in mine for o in a.optimizers),
    )
    for arm in mine:
        rater = raters[arm.rater]
        evaluator = Evaluator(base, rater, eval_qids, state.refs)
        pool = state.pool_measure(arm.rater, evaluator)
        base_gold = float(np.mean(pool["gold"]))  # π_base's mean gold: the zero of gold gain
        # 3. comparisons: arms with the same rater share one set; smaller data sizes use its prefix
        data, held, gold_acc = _comparisons(base, arm, mine, rater, state, config, ctx, train_qids)
        # 4. reward models
        members = backbones if arm.backbones == "pretrain-seed" else None
        ensemble, log = train_ensemble(
            arm.rm,
            data,
            base.model,
            base.tokenizer,
            int_seed(ctx.seed, label, seed, arm.name, "rm"),
            ctx.progress,
            members,
        )
        for k, member in enumerate(ensemble.members):
            _save(
                ctx,
                config,
                "reward_model",
                member,
                base.tokenizer,
                [f"seed {seed}", "reward model" + (f" {arm.name}" if arm.name else "")]
                + ([f"member {k}"] if len(ensemble.members) > 1 else []),
                world=label,
                seed=seed,
                arm=arm.name,
                member=k,
            )
        # 5. optimizers, each measured by the evaluator
        scored = MemberScores(ensemble)
        for spec in arm.proxies:
            proxy = ensemble.with_aggregate(spec.aggregate, spec.members)
            a = scored(proxy, "held chosen", held.prompts, held.chosen)
            b = scored(proxy, "held rejected", held.prompts, held.rejected)
            rm_rows.append(
                {
                    "world": label,
                    "seed": seed,
                    "arm": arm.name,
                    "proxy": spec.label or "single",
                    "members": len(proxy.members),
                    "comparisons": arm.rm.comparisons,
                    "backbone": arm.rm.backbone,
                    "backbones": arm.backbones,
                    "rm_n_embd": arm.rm.n_embd if arm.rm.backbone == "fresh" else int(base.model.config.hidden_size),
                    "train_loss_last": float(np.mean([r["loss_last"] for r in log])),
                    "heldout_rater_agreement": float(((a > b).float() + 0.5 * (a == b).float()).mean()),
                    "heldout_gold_agreement": gold_acc(a.numpy(), b.numpy()),
                }
            )
            for opt in arm.optimizers:
                if isinstance(opt, DirectAlignment):
                    continue
                name = series_name(arm, spec, opt)
                series_rows.append(_series_row(name, arm, spec, opt))
                if isinstance(opt, BestOfN):
                    pool_prompts = [base.prompt_ids[q] for q in eval_qids for _ in range(config.bon_pool)]
                    scores = scored(proxy, "pool", pool_prompts, state.pool_ids)
                    best_of_n(config, ctx, pool, scores.numpy(), state, name, base_gold)
                else:
                    gen = lambda *n, a=arm.name, p=spec.label, b=opt.beta: ctx.torch_generator(label, seed, a, p, b, *n)
                    rloo(config, ctx, evaluator, proxy, base, state, train_qids, opt.beta, name, base_gold, gen)
        for opt in arm.optimizers:
            if isinstance(opt, DirectAlignment):  # on the comparisons themselves: no reward model
                name = series_name(arm, None, opt)
                series_rows.append(_series_row(name, arm, None, opt))
                gen = lambda *n, a=arm.name, o=opt: ctx.torch_generator(label, seed, a, o.loss, o.beta, *n)
                direct(
                    config,
                    ctx,
                    evaluator,
                    ensemble.with_aggregate("mean"),
                    base,
                    state,
                    data,
                    opt,
                    name,
                    base_gold,
                    gen,
                )
    return ctx, series_rows, rm_rows


def _seed_state(base: Base, config, ctx, seed: int, eval_qids: list[int], pool: bool) -> SeedState:
    gen = lambda *names: ctx.torch_generator(base.label, seed, *names)
    tok, R, N = base.tokenizer, config.eval_samples, config.bon_pool
    # Reference π_base answers: R per evaluation question, shared by every arm.
    ref_ids = draw(
        base,
        base.model,
        [q for q in eval_qids for _ in range(R)],
        gen("references"),
        config.max_new_tokens,
    )
    refs = [[decode(tok, ref_ids[i * R + j]) for j in range(R)] for i in range(len(eval_qids))]
    # One best-of-n pool per seed: N π_base answers per evaluation question, shared by every arm; also the zero
    # of gold gain (its mean gold is π_base's).
    ctx.log(f"best-of-n pool: {len(eval_qids)}×{N} π_base answers, seed {seed}")
    pool_ids = draw(
        base,
        base.model,
        [q for q in eval_qids for _ in range(N)],
        gen("pool"),
        config.max_new_tokens,
    )
    return SeedState(seed, eval_qids, ref_ids, refs, pool_ids, [decode(tok, r) for r in pool_ids])


def _comparisons(base, arm, mine, rater, state, config, ctx, train_qids):
    key = arm.rater
    if key not in state.comparisons:
        seed, label = state.seed, base.label
        tag = repr(key)
        most = max(a.rm.comparisons for a in mine if a.rater == key)
        ctx.log(f"{most} rater comparisons ({arm.name or 'rater'}), seed {seed}")
        qs = [int(q) for q in ctx.rng(label, seed, "comparison questions", tag).choice(train_qids, most)]
        data = collect_comparisons(
            base,
            rater,
            qs,
            ctx.torch_generator(label, seed, "comparisons", tag),
            ctx.rng(label, seed, "rater", tag),
            config.max_new_tokens,
        )
        hq = [int(q) for q in ctx.rng(label, seed, "held-out questions").choice(train_qids, config.heldout_pairs)]
        held = collect_comparisons(
            base,
            rater,
            hq,
            ctx.torch_generator(label, seed, "held-out comparisons"),
            ctx.rng(label, seed, "held-out rater", tag),
            config.max_new_tokens,
        )
        state.comparisons[key] = (data, held, _gold_agreement(base, held))
        _record_comparisons(ctx, base, label, seed, arm, rater, data, held, qs)
    data, held, acc = state.comparisons[key]
    return _prefix(data, arm.rm.comparisons), held, acc


def _record_rater(ctx, label: str, spec: RaterSpec, rater, cal: Calibration | None) -> None:
    lh = getattr(rater, "loopholes", spec.loopholes)
    ctx.table(
        "raters",
        [
            {
                "world": label,
                "rater": _rater_label(spec),
                "assisted": spec.assisted,
                "plugin": spec.plugin or "",
                "calibrated": cal is not None,
                "target_agreement": spec.agreement_target if cal else float("nan"),
                "strength": cal.strength if cal else float("nan"),
                "calibration_agreement": cal.agreement if cal else float("nan"),
                "calibration_noiseless_agreement": cal.noiseless_agreement if cal else float("nan"),
                "calibration_untied_pairs": cal.untied_pairs if cal else 0,
                **{f"loophole_{k}": (-1 if v is None else v) for k, v in lh.model_dump().items()},
            }
        ],
    )
    if cal is not None:
        ctx.table(
            "calibration",
            [{"world": label, "rater": _rater_label(spec), **r} for r in cal.table],
        )


def _rater_label(spec: RaterSpec) -> str:
    return ("assisted" if spec.assisted else "unassisted") if not spec.loopholes.is_gold else "gold"


def _record_comparisons(ctx, base, label, seed, arm, rater, data: Comparisons, held: Comparisons, qs) -> None:
    """The comparisons as text (``prompt``, ``chosen``, ``rejected``: the columns TRL's RewardTrainer reads), and
    the rater's agreement with gold on the held-out pairs of this seed (evaluation only)."""
    tok = base.tokenizer
    prompt_of = {q.id: q.prompt for q in base.world.questions}
    n = min(len(qs), COMPARISON_ROWS)
    ctx.table(
        "comparisons",
        [
            {
                "world": label,
                "seed": seed,
                "rater": _rater_label(arm.rater),
                "prompt": prompt_of[q],
                "chosen": decode(tok, c),
                "rejected": decode(tok, r),
            }
            for q, c, r in zip(qs[:n], data.chosen[:n], data.rejected[:n])
        ],
    )
    qid_of = {tuple(v): q for q, v in base.prompt_ids.items()}
    hq = [qid_of[tuple(p)] for p in held.prompts]
    a = [decode(tok, x) for x in held.chosen]
    b = [decode(tok, x) for x in held.rejected]
    gold = base.world.gold_scorer()
    noisy, hard, untied = agreement(rater, gold.score_many(hq, a), gold.score_many(hq, b), hq, a, b)
    ctx.table(
        "rater_agreement",
        [
            {
                "world": label,
                "seed": seed,
                "rater": _rater_label(arm.rater),
                "agreement": noisy,
                "noiseless_agreement": hard,
                "untied_pairs": untied,
            }
        ],
    )


def _series_row(name: str, arm: Arm, proxy: ProxySpec | None, opt) -> dict:
    return {
        "series": name,
        "world": arm.world,
        "arm": arm.name,
        "proxy": proxy.label if proxy else "",
        "method": opt.method,
        "beta": getattr(opt, "beta", float("nan")),
        "rater": _rater_label(arm.rater),
        **arm.tags,
    }


def _base_row(base: Base, wcfg: QAWorldConfig, config, ctx) -> dict:
    """π_base's training log and world settings, and the share of its fine-tuning answers with an offer or
    threat (the same draw as its training data: the same named stream)."""
    row = {
        "world": base.label,
        **{k: v for k, v in base.info.items() if not isinstance(v, dict)},
        **{f"world_{k}": v for k, v in wcfg.model_dump().items() if isinstance(v, (int, float))},
    }
    if not config.policy_model:
        sft = base.world.sft_examples(config.lm.sft_examples, ctx.rng("sft", base.label))
        row["sft_offer_share"] = float(np.mean([base.world.parse(q, a).n_manipulation > 0 for q, a in sft]))
    return row


def _check_positions(base: Base, config) -> None:
    """Samples are the longest prompt plus ``max_new_tokens``: a model with fewer positions (a user's, or a small
    ``lm.block_size``) would fail mid-run with an index error, so say so before anything is sampled."""
    from goodhartlab.models.lm import max_positions

    positions = max_positions(base.model)
    prompt = len(base.lead) + max(len(p) for p in base.prompt_ids.values())
    if positions is not None and prompt + config.max_new_tokens > positions:
        raise UserError(
            f"max_new_tokens: {config.max_new_tokens} tokens after the longest prompt ({prompt} tokens) exceed "
            f"π_base's {positions} positions; lower max_new_tokens or use a model with more positions"
        )


def _quiet_transformers() -> None:
    """Our own progress bars and log lines say what happens; transformers' loading bars and notices would clutter them."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _unique(rows: list[dict]) -> list[dict]:
    seen, out = set(), []
    for r in rows:
        if r["series"] not in seen:
            seen.add(r["series"])
            out.append(r)
    return out


def _prefix(c: Comparisons, n: int) -> Comparisons:
    return Comparisons(c.prompts[:n], c.chosen[:n], c.rejected[:n])


def _eval_questions(base: Base, config) -> list[int]:
    ids = [q.id for q in base.world.questions]
    pick = np.random.default_rng(0).permutation(len(ids))[: config.eval_prompts]  # fixed by the world, not the seed
    return [ids[i] for i in sorted(pick)]


def _gold_agreement(base: Base, held: Comparisons):
    """Evaluation only: a function of the proxy's scores on the held-out pairs' chosen and rejected answers: the
    share of pairs gold does not tie that the proxy orders as gold does."""
    gold = base.world.gold_scorer()
    qid_of = {tuple(v): q for q, v in base.prompt_ids.items()}
    ga = np.array([gold.score(qid_of[tuple(p)], decode(base.tokenizer, c)) for p, c in zip(held.prompts, held.chosen)])
    gb = np.array(
        [gold.score(qid_of[tuple(p)], decode(base.tokenizer, r)) for p, r in zip(held.prompts, held.rejected)]
    )

    def agreement_of(a: np.ndarray, b: np.ndarray) -> float:
        keep = ga != gb
        return float(np.mean((a[keep] > b[keep]) == (ga[keep] > gb[keep]))) if keep.any() else float("nan")

    return agreement_of


class MemberScores:
    """Each reward-model member's scores on a named set of answers, computed once per arm: the arm's proxies
    (one member, or the first k combined by mean, min or mean − λ·var) all combine these."""

    def __init__(self, ensemble: RewardEnsemble):
        self.ensemble, self.cache = ensemble, {}

    def __call__(self, proxy: RewardEnsemble, name: str, prompts, responses) -> torch.Tensor:
        if name not in self.cache:
            self.cache[name] = self.ensemble.member_scores(prompts, responses)  # Tensor[K, B]
        return proxy.combine(self.cache[name][: len(proxy.members)])


# -- optimizers --------------------------------------------------------------------------------------------
def best_of_n(config, ctx, m: dict[str, np.ndarray], scores: np.ndarray, state: SeedState, name, base_gold) -> None:
    """Best-of-n for every n = 2^i ≤ the pool, exactly from the pool ranked by the proxy's ``scores`` (one per
    pool answer); ``m`` is the pool's measurement (:meth:`SeedState.pool_measure`)."""
    from goodhartlab.optim.best_of_n import best_of_n_curve, best_of_n_kl

    P, N = len(state.eval_qids), config.bon_pool
    scores = scores.reshape(P, N)
    agree = rm_gold_agreement(scores, m["gold"].reshape(P, N))
    ns = [n for n in (2**i for i in range(20)) if n <= N]
    curve = best_of_n_curve(scores, {k: v.reshape(P, N) for k, v in m.items()}, ns)
    for i, n in enumerate(ns):
        vals = {k: float(curve[k][i]) for k in m}
        ctx.record(
            row(
                name,
                "n",
                n,
                best_of_n_kl(n),
                float(curve["proxy"][i]),
                vals,
                state.seed,
                base_gold,
                rm_gold_agreement=agree,
            )
        )


def _checkpoint(
    config,
    ctx,
    evaluator,
    proxy,
    base,
    state: SeedState,
    name,
    base_gold,
    gen,
    pressure_name: str,
    pressure: float,
    policy,
    tag: str,
    **extra,
) -> None:
    """Evaluate a policy: samples on the evaluation questions → proxy, rater, gold, behaviour, KL to π_base."""
    from goodhartlab.optim.kl import KLEstimate, estimate_sequence_kl

    qids, S, tok = state.eval_qids, config.eval_samples, base.tokenizer
    rep = [q for q in qids for _ in range(S)]
    eos, pad = base.eos_pad
    with torch.no_grad():
        resp = draw(base, policy, rep, gen("eval", tag), config.max_new_tokens)
        texts = [decode(tok, r) for r in resp]
        per = evaluator.measure(np.repeat(np.arange(len(qids)), S), np.tile(np.arange(S), len(qids)), texts)
        scores = proxy.score([base.prompt_ids[q] for q in rep], resp).numpy()
        if tag == "first":  # step 0: the policy is an unchanged copy of π_base, its KL is exactly 0
            kl = KLEstimate(0.0, 0.0, 0.0, 0, "exact (π_base itself)")
        else:
            kl = estimate_sequence_kl(
                policy,
                base.model,
                base.sampler_prompts(qids),
                config.kl_samples,
                config.max_new_tokens,
                gen("kl", tag),
                eos,
                pad,
            )
    agree = rm_gold_agreement(scores.reshape(len(qids), S), per["gold"].reshape(len(qids), S))
    ctx.record(
        row(
            name,
            pressure_name,
            pressure,
            kl.mean,
            float(scores.mean()),
            {k: float(np.mean(v)) for k, v in per.items()},
            state.seed,
            base_gold,
            kl_low=kl.low,
            kl_high=kl.high,
            rm_gold_agreement=agree,
            **extra,
        )
    )
    if state.seed == 0 and tag in (
        "first",
        "last",
    ):  # a few answers to read, first and last checkpoint
        prompts = {q.id: q.prompt for q in base.world.questions}
        ctx.table(
            "examples",
            [
                {
                    "series": name,
                    "pressure": pressure,
                    "question": prompts[rep[i]],
                    "answer": texts[i],
                    "proxy": float(scores[i]),
                    "rater_pref": per["rater_pref"][i],
                    "gold": per["gold"][i],
                }
                for i in range(0, len(texts), max(1, len(texts) // EXAMPLES))[:EXAMPLES]
            ],
        )


def rloo(
    config,
    ctx,
    evaluator,
    proxy,
    base,
    state: SeedState,
    train_qids,
    beta,
    name,
    base_gold,
    gen,
) -> None:
    from goodhartlab.optim.rloo import RLOOConfig, train_rloo

    policy = copy.deepcopy(base.model).requires_grad_(True)
    eos, pad = base.eos_pad
    train_prompts = [base.prompt_ids[q] for q in train_qids]

    def on_checkpoint(step: int, pol) -> None:
        tag = "first" if step == 0 else "last" if step == config.rl_steps else str(step)
        _checkpoint(
            config,
            ctx,
            evaluator,
            proxy,
            base,
            state,
            name,
            base_gold,
            gen,
            "step",
            step,
            pol,
            tag,
            beta=beta,
        )

    rl = RLOOConfig(
        beta=beta,
        k=config.rl_k,
        prompts_per_step=config.rl_prompts_per_step,
        steps=config.rl_steps,
        lr=config.rl_lr,
        max_new_tokens=config.max_new_tokens,
        checkpoint_every=config.checkpoint_every,
        whiten=config.rl_whiten,
        bf16=config.rl_bf16,
    )
    with ctx.progress(f"RLOO {name}, seed {state.seed}", config.rl_steps) as advance:
        history = train_rloo(
            policy,
            base.model,
            base.sampler_prompts(train_qids),
            reward_fn_for(proxy, train_prompts),
            rl,
            gen("rloo"),
            on_checkpoint=on_checkpoint,
            progress=advance,
            eos_id=eos,
            pad_id=pad,
        )
    _keep_policy(ctx, config, state, base, name, "RL", history, policy)


def direct(
    config,
    ctx,
    evaluator,
    proxy,
    base,
    state: SeedState,
    data: Comparisons,
    opt: DirectAlignment,
    name,
    base_gold,
    gen,
) -> None:
    """DPO/IPO from π_base on the rater's comparisons; checkpoints measured like RL's (the proxy column is the
    arm's reward model, which DPO never sees)."""
    from goodhartlab.optim.dpo import DPOConfig, train_dpo

    policy = copy.deepcopy(base.model).requires_grad_(True)
    eos, pad = base.eos_pad
    dc = DPOConfig(
        beta=opt.beta,
        kind=opt.loss,
        epochs=config.dpo_epochs,
        batch_size=config.rm.batch_size,
        lr=config.dpo_lr,
        checkpoint_every=config.dpo_checkpoint_every,
    )
    steps = max(1, round(dc.epochs * len(data.prompts) / dc.batch_size))

    def on_checkpoint(step: int, epoch: float, pol) -> None:
        tag = "first" if step == 0 else "last" if step == steps else str(step)
        _checkpoint(
            config,
            ctx,
            evaluator,
            proxy,
            base,
            state,
            name,
            base_gold,
            gen,
            "epoch",
            epoch,
            pol,
            tag,
            beta=opt.beta,
        )

    prompts = [base.lead + p for p in data.prompts]
    with ctx.progress(f"{opt.method} {name}, seed {state.seed}", steps) as advance:
        history = train_dpo(
            policy,
            base.model,
            prompts,
            data.chosen,
            data.rejected,
            dc,
            gen("dpo"),
            eos,
            pad,
            on_checkpoint=on_checkpoint,
            progress=advance,
        )
    _keep_policy(ctx, config, state, base, name, opt.method, history, policy)


# -- saved models (save_models) -----------------------------------------------------------------------------
def slug(name: str) -> str:
    """A directory name for a series or arm: 'RL β=0.1' → 'rl-beta-0.1', 'assisted · DPO β=0.1' →
    'assisted-dpo-beta-0.1'."""
    return re.sub(r"[^a-z0-9.]+", "-", name.replace("β", "beta").lower()).strip("-.") or "model"


def _keep_policy(ctx, config, state, base, name: str, method: str, history: list[dict], policy) -> None:
    """An optimized policy's training history into the ``history`` table, and the policy saved if asked."""
    ctx.table("history", [{"series": name, "seed": state.seed, "method": method, **h} for h in history])
    _save(
        ctx,
        config,
        "policy",
        policy,
        base.tokenizer,
        [f"seed {state.seed}", name],
        world=base.label,
        seed=state.seed,
        series=name,
    )


def _save(ctx, config, kind: str, model, tokenizer, parts: list[str], **where) -> None:
    """With ``save_models``, write ``model`` into ``RUN/models/<slug(part)>/…`` (written from where the model
    lives, straight into this run's directory) and list it in the ``saved_models`` table; else nothing."""
    if not getattr(config, "save_models", False):
        return
    run_dir = getattr(ctx, "run_dir", None)
    if run_dir is None:
        raise UserError("save_models: this run has no run directory to save models into")
    path = Path(run_dir, "models", *map(slug, parts))
    if path.exists():  # two series or arms whose names give one directory would overwrite each other
        raise FileExistsError(f"save_models: '{path}' was already written in this run")
    (save_causal_lm if kind != "reward_model" else save_reward_model)(model, tokenizer, path)
    row = {"kind": kind, "world": "", "seed": -1, "series": "", "arm": "", "member": -1, **where}
    ctx.table("saved_models", [{**row, "path": path.relative_to(run_dir).as_posix()}])
