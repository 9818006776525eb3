"""π_base on a QA world: the world, the tiny LM trained on its internet (or a user's HF model, used as it is or,
with ``lm.init_from``, trained on the world the same way), the tokenizer, and each question's prompt as token
ids. Used by the rlhf experiments and by weak-to-strong's text task.

The trained LM is cached under ``cache_root`` by a hash of the LM config (``init_from`` as its directory's content
hash), the world config, the vocabulary and the seeds (``models.lm.cache_key``), so equal settings share one model
across runs and experiments.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from goodhartlab.models.configs import LMConfig
from goodhartlab.models.lm import (
    cache_key,
    cache_root,
    cached_base_lm,
    fit_tokenizer,
    load_causal_lm,
    train_base_lm,
)
from goodhartlab.models.tokenizer import build_tokenizer, encode
from goodhartlab.worlds.qa import QAWorld, QAWorldConfig

SAMPLE_BATCH = 512  # sequences per sampling call: bounds memory of the KV cache


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

    @property
    def eos_pad(self) -> tuple[int, int]:
        tok = self.tokenizer
        return (
            tok.eos_token_id,
            tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
        )

    def sampler_prompts(self, qids) -> list[list[int]]:
        return [self.lead + self.prompt_ids[q] for q in qids]


def build_base(
    world_config: QAWorldConfig,
    lm: LMConfig,
    seed: int,
    ctx,
    label: str = "base",
    policy_model: str | None = None,
    pretrain_seed: int = 0,
) -> Base:
    """The world of ``seed`` and its π_base: loaded from ``policy_model`` if given, else trained (or loaded from
    the cache) from a fresh GPT-2 or, with ``lm.init_from``, from the user's model. ``pretrain_seed`` > 0 gives
    another LM on the same world, pretrained from other initial weights, data order and corpus draw (the backbones
    of pretrain-seed reward-model ensembles)."""
    from goodhartlab.core.rng import int_seed

    world = QAWorld(world_config, seed=seed)
    prompt_of = {q.id: q.prompt for q in world.questions}
    if policy_model:
        model, tokenizer = load_causal_lm(policy_model)
        info, hit = {"source": str(policy_model)}, True
    else:
        vocab = world.vocabulary()
        wjson = world_config.model_dump(mode="json")
        train_seed = seed if pretrain_seed == 0 else int_seed(seed, "pretrain seed", pretrain_seed)
        streams = (label,) if pretrain_seed == 0 else (label, "pretrain seed", pretrain_seed)
        # pretrain_seed 0 keeps the key of earlier versions, so existing caches stay valid
        key = cache_key(
            lm,
            wjson if pretrain_seed == 0 else {**wjson, "world_seed": seed},
            vocab,
            train_seed,
        )

        def train():
            # lm.init_from: the user's model and tokenizer (fitted to the world's words), else a fresh GPT-2
            user, tok = load_causal_lm(lm.init_from) if lm.init_from else (None, build_tokenizer(vocab))
            added = fit_tokenizer(user, tok, vocab, train_seed) if user is not None else []
            corpus = world.corpus(lm.corpus_documents, ctx.rng("corpus", *streams))
            sft = [(prompt_of[q], a) for q, a in world.sft_examples(lm.sft_examples, ctx.rng("sft", *streams))]
            model, log = train_base_lm(corpus, sft, tok, lm, train_seed, ctx.progress, model=user)
            if user is not None:
                log = {**log, "init_from": lm.init_from, "tokens_added": len(added)}
                ctx.log(f"π_base from {lm.init_from}: {len(added)} world words added to its tokenizer")
            return model, tok, log

        model, tokenizer, info, hit = cached_base_lm(
            cache_root(ctx.cache_dir if ctx.run_dir else None), key, train, ctx.log
        )
        info = {**info, "cache_key": key}
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    prompts = {q: encode(tokenizer, text) for q, text in prompt_of.items()}
    return Base(
        label,
        world,
        model,
        tokenizer,
        prompts,
        {**info, "cache_hit": hit, "pretrain_seed": pretrain_seed},
    )


def draw(base: Base, policy, qids: list[int], generator: torch.Generator, max_new_tokens: int) -> list[list[int]]:
    """One sampled response (token ids, eos stripped) per entry of ``qids``."""
    from goodhartlab.models.generation import sample

    eos, pad = base.eos_pad
    out: list[list[int]] = []
    with torch.no_grad():
        for s in range(0, len(qids), SAMPLE_BATCH):
            batch = sample(
                policy,
                base.sampler_prompts(qids[s : s + SAMPLE_BATCH]),
                max_new_tokens,
                generator,
                eos_id=eos,
                pad_id=pad,
            )
            out.extend(list(map(list, batch.responses)))
    return out
