"""The tiny causal LM: a ``transformers`` GPT-2 config trained from scratch, then fine-tuned → π_base.

Two stages, both next-token cross-entropy with Adam:
1. pretraining on the world's corpus (its "internet"), documents packed into blocks as
   ``<bos> doc <eos> <bos> doc <eos> …``;
2. supervised fine-tuning on the Q/A format: ``<bos> prompt answer <eos>`` with the loss on the answer
   and ``<eos>`` only (the prompt is context).
The result is saved with ``save_pretrained`` (model and tokenizer) in a cache directory keyed by a hash
of the LM config, the world config, the vocabulary and the seed, so later runs load it instead of
training again. Any local Hugging Face causal LM directory can stand in for it as it is (``load_causal_lm``),
or be the starting point of the same two stages (``train_base_lm(model=...)``, ``lm.init_from``) once
``fit_tokenizer`` has made its tokenizer able to write every word of the world.

Randomness: data order comes from an explicit ``torch.Generator``; weight init, which ``transformers``
draws from torch's global generator, runs inside ``torch.random.fork_rng`` seeded from the run's named
stream, so global state is neither read nor left changed. Dropout is off (it would draw from the
global generator, and these models are far from overfitting their corpus).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from goodhartlab.models.configs import LMConfig  # noqa: F401  (re-exported)

CACHE_ENV = "GOODHARTLAB_CACHE"
FORMAT_VERSION = 1  # bump when training changes so old cache entries are not reused


def gpt2_config(vocab_size: int, n_layer: int, n_head: int, n_embd: int, n_positions: int, tokenizer):
    from transformers import GPT2Config

    return GPT2Config(
        vocab_size=vocab_size,
        n_layer=n_layer,
        n_head=n_head,
        n_embd=n_embd,
        n_positions=n_positions,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def seeded_init(build: Callable[[], object], seed: int):
    """Call ``build`` (which draws initial weights from torch's global generator) under a private seed."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def cache_root(store_cache: Path | None) -> Path | None:
    """``$GOODHARTLAB_CACHE`` if set, else the run store's cache directory (``<store>/cache``), else None."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return store_cache


def dir_fingerprint(path: str | Path) -> str:
    """sha256 over the relative names and bytes of every file under ``path`` (hidden entries skipped): a model
    directory's identity for the cache, whatever its location or mtime."""
    root, h = Path(path), hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = f.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        h.update(str(rel).encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


def cache_key(lm: LMConfig, world_config: dict, vocabulary: Sequence[str], seed: int) -> str:
    """A hash of what decides the trained π_base. ``lm.init_from`` enters as its directory's content hash
    (so an edited model retrains and a moved one does not); unset, it is left out, so older keys stay valid."""
    config = lm.model_dump(mode="json")
    init = config.pop("init_from", None)
    if init is not None:
        config["init_from_sha256"] = dir_fingerprint(init)
    blob = json.dumps(
        {
            "lm": config,
            "world": world_config,
            "seed": int(seed),
            "vocab": hashlib.sha256("\n".join(vocabulary).encode()).hexdigest(),
            "version": FORMAT_VERSION,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_causal_lm(path: str | Path):
    """(model, tokenizer) from a local Hugging Face directory; nothing is downloaded."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"no Hugging Face model (config.json) in '{path}'")
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    if tokenizer.pad_token_id is None:  # many causal LMs ship without one; padding is masked anyway
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
    model.eval()
    return model, tokenizer


def save_causal_lm(model, tokenizer, path: str | Path) -> Path:
    """``save_pretrained`` of the model and its tokenizer into ``path``: what ``AutoModelForCausalLM`` and
    ``AutoTokenizer.from_pretrained(path)`` (or :func:`load_causal_lm`) load back."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def _round_trips(tokenizer, word: str) -> bool:
    from goodhartlab.models.tokenizer import decode, encode

    ids = encode(tokenizer, word)
    return bool(ids) and tokenizer.unk_token_id not in ids and decode(tokenizer, ids).strip() == word


def fit_tokenizer(model, tokenizer, vocabulary: Sequence[str], seed: int, source: str = "lm.init_from") -> list[str]:
    """Make a user's (model, tokenizer) able to write the world: every word of ``vocabulary`` must encode without
    the unknown token and decode back to itself. Words that do not are added as whole-word tokens and the
    embeddings resized (new rows drawn under a private seed); missing eos/bos/pad become eos (a new ``<eos>``
    if there is none). Changes both in place; returns the words added. UserError if a word still fails."""
    from tokenizers import AddedToken

    from goodhartlab.core.errors import UserError
    from goodhartlab.core.rng import int_seed

    if tokenizer.eos_token is None:
        tokenizer.add_special_tokens({"eos_token": "<eos>"})
    if tokenizer.bos_token is None:  # documents are packed as bos doc eos; GPT-2's own bos is its eos
        tokenizer.bos_token = tokenizer.eos_token
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    words, added = list(dict.fromkeys(vocabulary)), []
    # Added tokens are cut out of the text before the tokenizer's own model sees it, so adding '?' can break
    # its '???': repeat until nothing more breaks (the longest added match wins, so '???' added heals it).
    for _ in range(len(words)):
        missing = [w for w in words if w not in added and not _round_trips(tokenizer, w)]
        if not missing:
            break
        # single_word: an added word is matched only as a whole word, never inside a longer one
        tokenizer.add_tokens([AddedToken(w, single_word=True, normalized=False) for w in missing])
        added += missing
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        seeded_init(lambda: model.resize_token_embeddings(len(tokenizer)), int_seed(seed, "new token embeddings"))
    still = [w for w in words if not _round_trips(tokenizer, w)]
    if still:
        raise UserError(
            f"{source}: its tokenizer cannot encode the world's word '{still[0][:40]}' exactly even as an added "
            f"token ({len(still)} such words)"
        )
    for name in ("bos", "eos", "pad"):
        setattr(model.config, f"{name}_token_id", getattr(tokenizer, f"{name}_token_id"))
    return added


def max_positions(model) -> int | None:
    """The longest sequence a causal LM's position table allows (None: not stated, e.g. rotary without a cap)."""
    cfg = model.config
    for name in ("n_positions", "max_position_embeddings", "n_ctx", "seq_length"):
        if isinstance(getattr(cfg, name, None), int):
            return int(getattr(cfg, name))
    return None


def _lr_at(step: int, steps: int, lr: float) -> float:
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / max(1, steps))))


def adam_step(opt, model, loss, what: str, step: int) -> float:
    """One clipped optimizer step on ``loss``; raises FloatingPointError if it is not finite. Returns the loss."""
    import torch

    if not torch.isfinite(loss):
        raise FloatingPointError(f"{what} loss became {loss.item()} at step {step}")
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return float(loss.detach())


def _train(model, batches: Callable[[], tuple], steps: int, lr: float, stage: str, advance) -> list[float]:
    """Adam on next-token cross-entropy; ``batches()`` gives (input_ids, attention_mask, labels)."""
    import torch

    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    losses = []
    model.train()
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = _lr_at(step, steps, lr)
        ids, mask, labels = batches()
        losses.append(adam_step(opt, model, model(input_ids=ids, attention_mask=mask, labels=labels).loss, stage, step))
        advance()
    model.eval()
    return losses


def pack_blocks(documents: list[list[int]], block_size: int, bos: int, eos: int):
    """LongTensor[n_blocks, block_size]: documents as ``bos doc eos`` concatenated and cut into blocks."""
    import torch

    stream = [t for doc in documents for t in (bos, *doc, eos)]
    n = max(1, len(stream) // block_size)
    stream = stream + [eos] * max(0, n * block_size - len(stream))
    return torch.tensor(stream[: n * block_size], dtype=torch.long).view(n, block_size)


def sft_tensors(pairs: list[tuple[list[int], list[int]]], block_size: int, bos: int, eos: int, pad: int):
    """(input_ids, attention_mask, labels) [N, T] right-padded; labels are -100 except on answer + eos."""
    import torch

    seqs = [([bos, *p], [*a, eos]) for p, a in pairs]
    T = min(block_size, max(len(p) + len(a) for p, a in seqs))
    ids = torch.full((len(seqs), T), pad, dtype=torch.long)
    labels = torch.full((len(seqs), T), -100, dtype=torch.long)
    mask = torch.zeros((len(seqs), T), dtype=torch.long)
    for i, (p, a) in enumerate(seqs):
        full = (p + a)[:T]
        ids[i, : len(full)] = torch.tensor(full)
        mask[i, : len(full)] = 1
        labels[i, len(p) : len(full)] = torch.tensor(full[len(p) :], dtype=torch.long)
    return ids, mask, labels


def train_base_lm(
    corpus: list[str],
    sft: list[tuple[str, str]],
    tokenizer,
    config: LMConfig,
    seed: int,
    progress=None,
    model=None,
) -> tuple[object, dict]:
    """Pretrain on ``corpus`` then fine-tune on (prompt, answer) pairs. Returns (model, training log).

    ``model``: a user's causal LM to train (``lm.init_from``, its tokenizer fitted by :func:`fit_tokenizer`)
    instead of a fresh GPT-2; trained in place, its dropout (if any) drawing from a private seeded stream.
    ``progress(description, total)`` is a context manager yielding ``advance()`` (e.g. ``ctx.progress``).
    """
    import torch
    from transformers import GPT2LMHeadModel

    from goodhartlab.core.rng import int_seed

    if model is not None:
        block = min(config.block_size, max_positions(model) or config.block_size)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int_seed(seed, "lm dropout"))
            model, log = _train_stages(model, corpus, sft, tokenizer, config, seed, block, progress)
        return model, {**log, "block_size": block}
    cfg = gpt2_config(len(tokenizer), config.n_layer, config.n_head, config.n_embd, config.block_size, tokenizer)
    model = seeded_init(lambda: GPT2LMHeadModel(cfg), int_seed(seed, "lm init"))
    return _train_stages(model, corpus, sft, tokenizer, config, seed, config.block_size, progress)


def _train_stages(model, corpus, sft, tokenizer, config: LMConfig, seed: int, block_size: int, progress):
    import contextlib

    import torch

    from goodhartlab.core.rng import int_seed
    from goodhartlab.models.tokenizer import encode

    progress = progress or (lambda desc, total: contextlib.nullcontext(lambda n=1: None))
    bos, eos, pad = tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id
    g = torch.Generator().manual_seed(int_seed(seed, "lm data order"))

    blocks = pack_blocks([encode(tokenizer, d) for d in corpus], block_size, bos, eos)
    ones = torch.ones(config.batch_size, block_size, dtype=torch.long)

    def pretrain_batch():
        ids = blocks[torch.randint(len(blocks), (config.batch_size,), generator=g)]
        return ids, ones[: len(ids)], ids

    ids, mask, labels = sft_tensors(
        [(encode(tokenizer, p), encode(tokenizer, a)) for p, a in sft], block_size, bos, eos, pad
    )

    def sft_batch():
        i = torch.randint(len(ids), (config.batch_size,), generator=g)
        return ids[i], mask[i], labels[i]

    with progress("pretraining π_base on the corpus", config.pretrain_steps) as advance:
        pre = _train(model, pretrain_batch, config.pretrain_steps, config.lr, "pretraining", advance)
    with progress("fine-tuning π_base on Q/A", config.sft_steps) as advance:
        fine = _train(model, sft_batch, config.sft_steps, config.lr, "fine-tuning", advance)
    log = {
        "pretrain_loss_first": pre[0] if pre else None,
        "pretrain_loss_last": _tail(pre),
        "sft_loss_first": fine[0] if fine else None,
        "sft_loss_last": _tail(fine),
        "corpus_tokens": int(blocks.numel()),
        "parameters": int(sum(p.numel() for p in model.parameters())),
    }
    return model, log


def _tail(losses: list[float], k: int = 20) -> float | None:
    return float(sum(losses[-k:]) / len(losses[-k:])) if losses else None


def cached_base_lm(root: Path | None, key: str, train: Callable[[], tuple[object, object, dict]], log=print):
    """Load ``<root>/lm-<key>`` if present, else ``train()`` → (model, tokenizer, info) and save it there.

    Written to a temporary directory and renamed, so a half-written entry is never loaded.
    Returns (model, tokenizer, info, hit).
    """
    if root is not None:
        path = Path(root) / f"lm-{key}"
        if (path / "training.json").is_file():
            model, tokenizer = load_causal_lm(path)
            log(f"π_base loaded from cache {path}")
            return model, tokenizer, json.loads((path / "training.json").read_text()), True
    model, tokenizer, info = train()
    if root is not None:
        tmp = Path(root) / f".lm-{key}.tmp{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "training.json").write_text(json.dumps(info, indent=2, default=str))
        try:
            os.replace(tmp, path)
        except OSError:  # another run saved the same entry first; theirs is identical
            shutil.rmtree(tmp, ignore_errors=True)
        log(f"π_base saved to cache {path}")
    return model, tokenizer, info, False
