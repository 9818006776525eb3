"""The RLHF pipeline shared by the five experiments: π_base → rater comparisons → reward model(s) →
best-of-n and KL-regularised RL against the reward model → proxy, rater and gold at every pressure.

Arms. An experiment is a list of *arms* (a rater and a reward-model spec, on one world) and each arm has
one or more *proxies* (ways of combining its reward models). Every proxy is optimised by best-of-n and by
RLOO at each β, per seed. What varies per seed: the rater's comparisons, the reward models' inits and
data order, the best-of-n pools and the RL samples; π_base (and the world) are shared, so the seeds'
spread is the spread of the RLHF pipeline on one base model.

What each learner sees. The reward model is trained on ``Comparisons`` (token ids of prompt, chosen,
rejected): the rater's preference bits and nothing else. RLOO's ``reward_fn`` is the reward model
applied to token ids. The gold scorer is called only inside ``Evaluator``, which measures samples after
the fact; its numbers are recorded, never fed back.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch

from goodhartlab.core.records import Measurement
from goodhartlab.models.lm import cache_key, cache_root, cached_base_lm, load_causal_lm, train_base_lm
from goodhartlab.models.reward_model import (Comparisons, RewardEnsemble, RMConfig, pairwise_accuracy,
                                             train_ensemble)
from goodhartlab.models.tokenizer import build_tokenizer, decode, encode
from goodhartlab.raters import Loopholes, build_rater
from goodhartlab.worlds.qa import BEHAVIOURS, QAWorld, QAWorldConfig

SAMPLE_BATCH = 512  # sequences per sampling call: bounds memory of the KV cache
EXAMPLES = 4  # answers per RL run kept (seed 0, first and last checkpoint) for the report
HELD_OUT = 200  # held-out rater comparisons per seed on which each reward model is measured


# -- π_base ------------------------------------------------------------------------------------------
@dataclass
class Base:
    """A world, its π_base and tokenizer, and each question's prompt as token ids (no bos)."""

    label: str
    world: QAWorld
    model: object
    tokenizer: object
    prompt_ids: dict[int, list[int]]
    info: dict

    @property
    def lead(self) -> list[int]:
        bos = self.tokenizer.bos_token_id
        return [] if bos is None else [bos]

    def sampler_prompts(self, qids) -> list[list[int]]:
        return [self.lead + self.prompt_ids[q] for q in qids]


def build_base(config, world_config: QAWorldConfig, ctx, label: str = "base") -> Base:
    world = QAWorld(world_config, seed=config.seed)
    prompt_of = {q.id: q.prompt for q in world.questions}
    if config.policy_model:
        model, tokenizer = load_causal_lm(config.policy_model)
        info, hit = {"source": str(config.policy_model)}, True
    else:
        vocab = world.vocabulary()
        key = cache_key(config.lm, world_config.model_dump(mode="json"), vocab, config.seed)

        def train():
            tok = build_tokenizer(vocab)
            corpus = world.corpus(config.lm.corpus_documents, ctx.rng("corpus", label))
            sft = [(prompt_of[q], a) for q, a in world.sft_examples(config.lm.sft_examples, ctx.rng("sft", label))]
            model, log = train_base_lm(corpus, sft, tok, config.lm, config.seed, ctx.progress)
            return model, tok, log

        model, tokenizer, info, hit = cached_base_lm(cache_root(ctx.cache_dir if ctx.run_dir else None), key, train, ctx.log)
        info = {**info, "cache_key": key}
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    prompts = {q: encode(tokenizer, text) for q, text in prompt_of.items()}
    return Base(label, world, model, tokenizer, prompts, {**info, "cache_hit": hit})


def draw(base: Base, policy, qids: list[int], generator: torch.Generator, max_new_tokens: int) -> list[list[int]]:
    """One sampled response (token ids, eos stripped) per entry of ``qids``."""
    from goodhartlab.models.generation import sample

    tok = base.tokenizer
    eos, pad = tok.eos_token_id, tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    out: list[list[int]] = []
    with torch.no_grad():
        for s in range(0, len(qids), SAMPLE_BATCH):
            batch = sample(policy, base.sampler_prompts(qids[s:s + SAMPLE_BATCH]), max_new_tokens, generator,
                           eos_id=eos, pad_id=pad)
            out.extend(list(map(list, batch.responses)))
    return out


# -- measuring samples (the only place gold is read) -------------------------------------------------
def behaviours(parts) -> dict[str, float]:
    """Per-answer behaviour indicators (the world's :data:`BEHAVIOURS`) and its length in tokens."""
    return {**{name: float(f(parts)) for name, f in BEHAVIOURS.items()}, "length": float(parts.n_tokens)}


class Evaluator:
    """Scores answers to the evaluation questions against fixed π_base reference answers.

    Per answer: the rater's choice against the reference answer to the same question (a Stiennon-style
    preference against π_base), the rater's score, the gold score, gold's preference against the
    reference (ties count ½), and behaviour indicators.
    """

    def __init__(self, base: Base, rater, qids: list[int], references: list[list[str]]):
        self.base, self.rater, self.qids, self.references = base, rater, qids, references
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
        out = {"rater_pref": np.asarray(self.rater.preference_prob(qs, texts, refs), dtype=float),
               "rater_score": np.array([self.rater.score(q, t) for q, t in zip(qs, texts)]),
               "gold": gold, "gold_pref": (gold > ref_gold) + 0.5 * (gold == ref_gold)}
        rows = [behaviours(world.parse(q, t)) for q, t in zip(qs, texts)]
        for b in rows[0]:
            out[b] = np.array([r[b] for r in rows])
        return out


def summary(values: dict[str, np.ndarray]) -> dict[str, float]:
    return {k: float(np.mean(v)) for k, v in values.items()}


def row(series: str, pressure_name: str, pressure: float, kl: float, proxy: float, m: dict[str, float], seed: int,
        base_gold: float, **extra: float) -> Measurement:
    """A measurement: proxy = reward-model score, rater = rater preference rate vs π_base, gold = gold score;
    extras: gold preference rate, gold − gold(π_base), rater score, behaviour rates."""
    return Measurement(series=series, pressure_name=pressure_name, pressure=float(pressure), kl=float(kl),
                       proxy=float(proxy), rater=m["rater_pref"], gold=m["gold"], seed=seed,
                       extra={"gold_pref": m["gold_pref"], "gold_gain": m["gold"] - base_gold,
                              "rater_score": m["rater_score"],
                              **{f"{b}_rate" if b != "length" else "mean_length": m[b] for b in [*BEHAVIOURS, "length"]},
                              **extra})


# -- the learners' inputs: comparisons (rater bits) and the reward function (token ids) ---------------
def collect_comparisons(base: Base, rater, qids: list[int], generator: torch.Generator, rng: np.random.Generator,
                        max_new_tokens: int) -> Comparisons:
    """Two π_base answers per question in ``qids``; the rater picks one. Only ids and the pick leave here."""
    a = draw(base, base.model, qids, generator, max_new_tokens)
    b = draw(base, base.model, qids, generator, max_new_tokens)
    tok = base.tokenizer
    first = np.asarray(rater.prefer_many(qids, [decode(tok, x) for x in a], [decode(tok, x) for x in b], rng)) == 1
    return Comparisons(prompts=[base.prompt_ids[q] for q in qids],
                       chosen=[x if f else y for x, y, f in zip(a, b, first)],
                       rejected=[y if f else x for x, y, f in zip(a, b, first)])


def reward_fn_for(proxy: RewardEnsemble, prompts: list[list[int]]):
    """RLOO's reward: the proxy on token ids. ``reward_fn(prompt_indices, responses) -> Tensor[B]``."""

    def reward_fn(prompt_indices: list[int], responses: list[list[int]]) -> torch.Tensor:
        return proxy.score([prompts[i] for i in prompt_indices], responses)

    return reward_fn


# -- arms ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProxySpec:
    label: str          # "" for a lone reward model
    aggregate: str      # mean | min | uncertainty
    members: int | None  # first k members (None: all)


@dataclass
class Arm:
    name: str
    loopholes: Loopholes
    assisted: bool
    rm: RMConfig
    proxies: list[ProxySpec] = field(default_factory=lambda: [ProxySpec("", "mean", None)])
    betas: list[float] = field(default_factory=list)
    bon: bool = True
    base_label: str = "base"


def series_name(arm: Arm, proxy: ProxySpec, method: str) -> str:
    return " · ".join(x for x in (arm.name, proxy.label, method) if x)


def run_arms(config, ctx, arms: list[Arm], worlds: dict[str, QAWorldConfig]) -> None:
    """Everything: for each world its π_base, then per seed and arm the comparisons, reward models,
    best-of-n curves and RL runs; records measurements and tables through ``ctx``."""
    _quiet_transformers()
    torch.set_num_threads(1)  # under contention from other processes, 1 thread was 6x faster than 2 here
    series_rows, rm_rows, base_rows = [], [], []
    for label, wcfg in worlds.items():
        base = build_base(config, wcfg, ctx, label)
        ctx.log(f"π_base '{label}': {base.info}")
        mine = [a for a in arms if a.base_label == label]
        eval_qids = _eval_questions(base, config)
        train_qids = [q.id for q in base.world.questions]
        base_rows.append({"world": label, **{k: v for k, v in base.info.items() if not isinstance(v, dict)},
                          **{f"world_{k}": v for k, v in wcfg.model_dump().items() if isinstance(v, (int, float))}})
        for seed in range(config.seeds):
            gen = lambda *names: ctx.torch_generator(label, seed, *names)  # noqa: E731
            rng = lambda *names: ctx.rng(label, seed, *names)  # noqa: E731
            tok = base.tokenizer
            # Reference π_base answers: R per evaluation question (R = eval_samples), shared by every arm.
            R = config.eval_samples
            ref_ids = draw(base, base.model, [q for q in eval_qids for _ in range(R)], gen("references"), config.max_new_tokens)
            refs = [[decode(tok, ref_ids[i * R + j]) for j in range(R)] for i in range(len(eval_qids))]
            # One best-of-n pool per seed: N π_base answers per evaluation question, shared by every arm.
            pool_ids, pool_texts = None, None
            if any(a.bon for a in mine):
                N = config.bon_pool
                ctx.log(f"best-of-n pool: {len(eval_qids)}×{N} π_base answers, seed {seed}")
                pool_ids = draw(base, base.model, [q for q in eval_qids for _ in range(N)], gen("pool"), config.max_new_tokens)
                pool_texts = [decode(tok, r) for r in pool_ids]
            comparisons: dict[tuple, Comparisons] = {}
            heldout: dict[tuple, tuple] = {}
            for arm in mine:
                rater = build_rater(base.world, arm.loopholes, temperature=config.rater_temperature, assisted=arm.assisted)
                evaluator = Evaluator(base, rater, eval_qids, refs)
                base_m = {"gold": _base_gold(evaluator, eval_qids, *((pool_texts, config.bon_pool) if pool_texts else
                                                                      ([decode(tok, r) for r in ref_ids], R)))}
                # Arms with the same rater share one comparison set; smaller data sizes use its prefix.
                key = (arm.loopholes, arm.assisted)
                tag = f"{arm.assisted}:{arm.loopholes.model_dump_json()}"
                need = arm.rm.comparisons
                if key not in comparisons:
                    most = max(a.rm.comparisons for a in mine if (a.loopholes, a.assisted) == key)
                    ctx.log(f"{most} rater comparisons ({arm.name or 'rater'}), seed {seed}")
                    qs = [int(q) for q in rng("comparison questions", tag).choice(train_qids, most)]
                    comparisons[key] = collect_comparisons(base, rater, qs, gen("comparisons", tag), rng("rater", tag),
                                                           config.max_new_tokens)
                    # Held-out pairs, labelled by the same rater, to measure each reward model afterwards.
                    held = collect_comparisons(base, rater, [int(q) for q in rng("held-out questions").choice(train_qids, HELD_OUT)],
                                               gen("held-out comparisons"), rng("held-out rater", tag), config.max_new_tokens)
                    heldout[key] = (held, _gold_agreement(base, held))
                data = _prefix(comparisons[key], need)
                ensemble, log = train_ensemble(arm.rm, data, base.model, tok, _int(ctx, label, seed, arm.name, "rm"), ctx.progress)
                held, gold_acc = heldout[key]
                for spec in arm.proxies:
                    proxy = ensemble.with_aggregate(spec.aggregate, spec.members)
                    rm_rows.append({"world": label, "seed": seed, "arm": arm.name, "proxy": spec.label or "single",
                                    "members": len(proxy.members), "comparisons": need, "backbone": arm.rm.backbone,
                                    "rm_n_embd": arm.rm.n_embd if arm.rm.backbone == "fresh" else int(base.model.config.hidden_size),
                                    "train_loss_last": float(np.mean([r["loss_last"] for r in log])),
                                    "heldout_rater_agreement": pairwise_accuracy(proxy, held),
                                    "heldout_gold_agreement": gold_acc(proxy)})
                    if arm.bon:
                        name = series_name(arm, spec, "best-of-n")
                        series_rows.append({"series": name, "world": label, "arm": arm.name, "proxy": spec.label, "method": "best-of-n", "beta": float("nan")})
                        _best_of_n(config, ctx, evaluator, proxy, base, eval_qids, pool_ids, pool_texts, name, seed, base_m)
                    for beta in arm.betas:
                        name = series_name(arm, spec, f"RL β={beta:g}")
                        series_rows.append({"series": name, "world": label, "arm": arm.name, "proxy": spec.label, "method": "RL", "beta": beta})
                        _rl(config, ctx, evaluator, proxy, base, eval_qids, train_qids, beta, name, seed, base_m,
                            lambda *n, a=arm.name, p=spec.label, b=beta: gen(a, p, b, *n))
    ctx.table("series", _unique(series_rows))
    ctx.table("reward_models", rm_rows)
    ctx.table("base_models", base_rows)


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


def _int(ctx, *names) -> int:
    from goodhartlab.core.rng import int_seed

    return int_seed(ctx.seed, *names)


def _prefix(c: Comparisons, n: int) -> Comparisons:
    return Comparisons(c.prompts[:n], c.chosen[:n], c.rejected[:n])


def _eval_questions(base: Base, config) -> list[int]:
    ids = [q.id for q in base.world.questions]
    pick = np.random.default_rng(0).permutation(len(ids))[: config.eval_prompts]  # fixed by the world, not the seed
    return [ids[i] for i in sorted(pick)]


def _base_gold(evaluator: Evaluator, qids: list[int], texts: list[str], per: int) -> float:
    """Mean gold of π_base's answers, ``per`` per question (the best-of-n pool when there is one, the largest
    sample): the zero of gold gain, gold − gold(π_base)."""
    return float(np.mean([evaluator.gold.score(q, t) for q, t in zip(np.repeat(qids, per), texts)]))


def _gold_agreement(base: Base, held: Comparisons):
    """Evaluation only: share of held-out pairs where the proxy orders the answers as gold does (gold ties skipped)."""
    gold = base.world.gold_scorer()
    qid_of = {tuple(v): q for q, v in base.prompt_ids.items()}
    ga = np.array([gold.score(qid_of[tuple(p)], decode(base.tokenizer, c)) for p, c in zip(held.prompts, held.chosen)])
    gb = np.array([gold.score(qid_of[tuple(p)], decode(base.tokenizer, r)) for p, r in zip(held.prompts, held.rejected)])

    def agreement(proxy: RewardEnsemble) -> float:
        a = proxy.score(held.prompts, held.chosen).numpy()
        b = proxy.score(held.prompts, held.rejected).numpy()
        keep = ga != gb
        return float(np.mean((a[keep] > b[keep]) == (ga[keep] > gb[keep]))) if keep.any() else float("nan")

    return agreement


def _best_of_n(config, ctx, evaluator, proxy, base, qids, pool_ids, pool_texts, name, seed, base_m) -> None:
    from goodhartlab.optim.best_of_n import best_of_n_curve, best_of_n_kl

    P, N = len(qids), config.bon_pool
    prompts = [base.prompt_ids[q] for q in qids for _ in range(N)]
    scores = proxy.score(prompts, pool_ids).numpy().reshape(P, N)
    m = evaluator.measure(np.repeat(np.arange(P), N), np.tile(np.arange(N), P), pool_texts)
    ns = [n for n in (2 ** i for i in range(20)) if n <= N]
    curve = best_of_n_curve(scores, {k: v.reshape(P, N) for k, v in m.items()}, ns)
    for i, n in enumerate(ns):
        vals = {k: float(curve[k][i]) for k in m}
        ctx.record(row(name, "n", n, best_of_n_kl(n), float(curve["proxy"][i]), vals, seed, base_m["gold"]))


def _rl(config, ctx, evaluator, proxy, base, qids, train_qids, beta, name, seed, base_m, gen) -> None:
    from goodhartlab.optim.kl import estimate_sequence_kl
    from goodhartlab.optim.rloo import RLOOConfig, train_rloo

    policy = copy.deepcopy(base.model)
    for p in policy.parameters():
        p.requires_grad_(True)
    tok = base.tokenizer
    eos, pad = tok.eos_token_id, tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    train_prompts = [base.prompt_ids[q] for q in train_qids]
    S = config.eval_samples
    eval_rep = [q for q in qids for _ in range(S)]

    def on_checkpoint(step: int, pol) -> None:
        with torch.no_grad():
            resp = draw(base, pol, eval_rep, gen("eval", step), config.max_new_tokens)
            texts = [decode(tok, r) for r in resp]
            per = evaluator.measure(np.repeat(np.arange(len(qids)), S), np.tile(np.arange(S), len(qids)), texts)
            m = summary(per)
            scores = proxy.score([base.prompt_ids[q] for q in eval_rep], resp)
            score = float(scores.mean())
            kl = estimate_sequence_kl(pol, base.model, base.sampler_prompts(qids), config.kl_samples, config.max_new_tokens,
                                      gen("kl", step), eos, pad)
        ctx.record(row(name, "step", step, kl.mean, score, m, seed, base_m["gold"], beta=beta, kl_low=kl.low, kl_high=kl.high))
        if seed == 0 and step in (0, config.rl_steps):  # a few answers to read, first and last checkpoint
            prompts = {q.id: q.prompt for q in base.world.questions}
            ctx.table("examples", [{"series": name, "step": step, "question": prompts[eval_rep[i]], "answer": texts[i],
                                    "proxy": float(scores[i]), "rater_pref": per["rater_pref"][i], "gold": per["gold"][i]}
                                   for i in range(0, len(texts), max(1, len(texts) // EXAMPLES))[:EXAMPLES]])

    rl = RLOOConfig(beta=beta, k=config.rl_k, prompts_per_step=config.rl_prompts_per_step, steps=config.rl_steps,
                    lr=config.rl_lr, max_new_tokens=config.max_new_tokens, checkpoint_every=config.checkpoint_every)
    with ctx.progress(f"RLOO {name}, seed {seed}", config.rl_steps) as advance:
        train_rloo(policy, base.model, base.sampler_prompts(train_qids), reward_fn_for(proxy, train_prompts), rl,
                   gen("rloo"), on_checkpoint=on_checkpoint, progress=advance, eos_id=eos, pad_id=pad)
