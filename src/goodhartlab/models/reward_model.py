"""Bradley–Terry reward models on rater comparisons, and ensembles of them (Coste et al. 2023).

A reward model reads ``<bos> prompt response <eos>`` (token ids only) and outputs a scalar from a linear
head on the last token's final hidden state. It is trained on comparisons — (prompt, chosen, rejected)
token ids, where "chosen" is what the rater preferred — by minimising −log σ(r(chosen) − r(rejected))
(Bradley & Terry 1952; Stiennon et al. 2020 eq. 1). Nothing else enters its training: no gold, no
rater score, no answer text. After training its scores are standardised on the responses it was
trained on (mean 0, sd 1), so members of an ensemble share a scale before they are aggregated.

Backbone: ``"lm"`` copies π_base's transformer (as in Stiennon et al., the RM starts from the policy's
weights); ``"fresh"`` is a new small GPT-2 transformer whose width and depth are config fields, so
reward-model size can be swept independently of the policy (Gao et al. 2022).

Ensembles aggregate their members' standardised scores r_1..r_K per answer by
``mean`` (r̄), ``min`` (worst case), or ``uncertainty`` (r̄ − λ·Var_k r_k), as in Coste et al. 2023
("Reward Model Ensembles Help Mitigate Overoptimization", §3).

Saved (``save_reward_model``, the rlhf experiments' ``save_models``): the backbone by ``save_pretrained``, the head
and standardisation as safetensors, and a small JSON of special-token ids and the score formula;
``load_reward_model`` reads it back to identical scores.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from goodhartlab.models.configs import Aggregate, RMConfig  # noqa: F401  (re-exported)


@dataclass(frozen=True)
class Comparisons:
    """Rater comparisons as token ids only: ``prompts[i]``, the preferred ``chosen[i]``, the other ``rejected[i]``."""

    prompts: list[list[int]]
    chosen: list[list[int]]
    rejected: list[list[int]]

    def __post_init__(self) -> None:
        if not len(self.prompts) == len(self.chosen) == len(self.rejected):
            raise ValueError("prompts, chosen and rejected must have the same length")


def right_pad(
    prompts: Sequence[Sequence[int]],
    responses: Sequence[Sequence[int]],
    bos: int,
    eos: int,
    pad: int,
    max_len: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask) LongTensor[B, T] of ``bos prompt response eos``, right-padded, cut from the
    left to ``max_len`` (the prompt's start is dropped first, so the answer's end is always read)."""
    seqs = [[bos, *p, *r, eos] for p, r in zip(prompts, responses)]
    if max_len is not None:
        seqs = [s[-max_len:] for s in seqs]
    T = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), T), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), T), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids, mask


class RewardModel(nn.Module):
    """Transformer backbone + scalar head on the last real token. ``forward(ids, mask) -> Tensor[B]``."""

    def __init__(self, backbone: nn.Module, hidden: int, bos: int, eos: int, pad: int, max_len: int):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(hidden, 1)
        self.bos, self.eos, self.pad, self.max_len = bos, eos, pad, max_len
        # Standardisation fitted after training (score = (raw − offset) / scale).
        self.register_buffer("offset", torch.zeros(()))
        self.register_buffer("scale", torch.ones(()))

    def raw(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.backbone(input_ids=ids, attention_mask=mask).last_hidden_state  # [B, T, H]
        last = mask.sum(dim=1) - 1  # index of eos in each right-padded row
        return self.head(h[torch.arange(len(ids)), last]).squeeze(-1)  # [B]

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return (self.raw(ids, mask) - self.offset) / self.scale

    @torch.no_grad()
    def score(
        self, prompts: Sequence[Sequence[int]], responses: Sequence[Sequence[int]], batch_size: int = 512
    ) -> torch.Tensor:
        """Standardised scores, Tensor[B], of ``responses`` to ``prompts`` (token ids)."""
        self.eval()
        out = []
        for s in range(0, len(prompts), batch_size):
            ids, mask = right_pad(
                prompts[s : s + batch_size], responses[s : s + batch_size], self.bos, self.eos, self.pad, self.max_len
            )
            out.append(self(ids, mask))
        return torch.cat(out) if out else torch.zeros(0)


RM_FORMAT = "goodhartlab-reward-model"
RM_FORMAT_VERSION = 1


def save_reward_model(model: RewardModel, tokenizer, path) -> Path:
    """A reward model as files another program can load without goodhartlab:

    - the backbone by ``save_pretrained`` (``config.json``, ``model.safetensors``: ``transformers.AutoModel``
      loads it) and the tokenizer by ``save_pretrained``;
    - ``reward_head.safetensors``: ``weight`` [1, H] and ``bias`` [1] of the linear head, and the standardisation
      ``offset`` and ``scale`` (scalars);
    - ``reward_model.json``: the format, the bos/eos/pad ids, ``max_len`` and the formula.

    score = (head(h) − offset) / scale, where h is the backbone's last hidden state at the final ``eos`` of
    ``bos prompt response eos`` (token ids, cut from the left to ``max_len``). :func:`load_reward_model` reads it.
    """
    import json

    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.backbone.save_pretrained(path)
    tokenizer.save_pretrained(path)
    tensors = {
        "weight": model.head.weight.detach().contiguous(),
        "bias": model.head.bias.detach().contiguous(),
        "offset": model.offset.detach().clone(),
        "scale": model.scale.detach().clone(),
    }
    save_file(tensors, str(path / "reward_head.safetensors"))
    meta = {
        "format": RM_FORMAT,
        "version": RM_FORMAT_VERSION,
        "bos_token_id": model.bos,
        "eos_token_id": model.eos,
        "pad_token_id": model.pad,
        "max_len": model.max_len,
        "hidden_size": int(model.head.in_features),
        "score": "(head(h) - offset) / scale; h = backbone last_hidden_state at the final eos of "
        "'bos prompt response eos', right-padded, cut from the left to max_len",
    }
    (path / "reward_model.json").write_text(json.dumps(meta, indent=2) + "\n")
    return path


def load_reward_model(path) -> tuple[RewardModel, object]:
    """(reward model, tokenizer) saved by :func:`save_reward_model`; nothing is downloaded."""
    import json

    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    path = Path(path)
    meta_file = path / "reward_model.json"
    if not meta_file.is_file():
        raise FileNotFoundError(f"no reward model (reward_model.json) in '{path}'")
    meta = json.loads(meta_file.read_text())
    if meta.get("format") != RM_FORMAT or meta.get("version") != RM_FORMAT_VERSION:
        raise ValueError(f"'{path}': not a {RM_FORMAT} v{RM_FORMAT_VERSION} directory")
    backbone = AutoModel.from_pretrained(path, local_files_only=True)
    model = RewardModel(
        backbone,
        meta["hidden_size"],
        meta["bos_token_id"],
        meta["eos_token_id"],
        meta["pad_token_id"],
        meta["max_len"],
    )
    head = load_file(str(path / "reward_head.safetensors"))
    with torch.no_grad():
        model.head.weight.copy_(head["weight"])
        model.head.bias.copy_(head["bias"])
        model.offset.copy_(head["offset"])
        model.scale.copy_(head["scale"])
    return model.eval(), AutoTokenizer.from_pretrained(path, local_files_only=True)


def new_reward_model(config: RMConfig, base_lm, tokenizer, seed: int) -> RewardModel:
    """An untrained reward model: π_base's transformer copied, or a fresh GPT-2 transformer."""
    from transformers import GPT2Model

    from goodhartlab.models.lm import gpt2_config, seeded_init

    max_len = int(
        getattr(base_lm.config, "n_positions", None) or getattr(base_lm.config, "max_position_embeddings", 512)
    )

    def build():
        if config.backbone == "lm":
            backbone = copy.deepcopy(base_lm.base_model)
        else:
            backbone = GPT2Model(
                gpt2_config(len(tokenizer), config.n_layer, config.n_head, config.n_embd, max_len, tokenizer)
            )
        hidden = backbone.config.hidden_size
        return RewardModel(
            backbone, hidden, tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id, max_len
        )

    return seeded_init(build, seed)


def train_reward_model(
    model: RewardModel, data: Comparisons, config: RMConfig, generator: torch.Generator, advance=None
) -> list[float]:
    """Bradley–Terry training on ``data``; then standardise on all responses in ``data``. Returns losses."""
    from goodhartlab.models.lm import adam_step

    n = len(data.prompts)
    steps = max(1, round(config.epochs * n / config.batch_size))
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.0)
    losses = []
    model.train()
    order = torch.randperm(n, generator=generator)
    at = 0
    for step in range(steps):
        if at + config.batch_size > n:
            order, at = torch.randperm(n, generator=generator), 0
        idx = order[at : at + config.batch_size].tolist()
        at += config.batch_size
        prompts = [data.prompts[i] for i in idx]
        ids, mask = right_pad(
            prompts + prompts,
            [data.chosen[i] for i in idx] + [data.rejected[i] for i in idx],
            model.bos,
            model.eos,
            model.pad,
            model.max_len,
        )
        r = model.raw(ids, mask)
        k = len(idx)
        loss = -torch.nn.functional.logsigmoid(r[:k] - r[k:]).mean()  # Bradley–Terry negative log-likelihood
        losses.append(adam_step(opt, model, loss, "reward-model", step))
        if advance:
            advance()
    model.eval()
    with torch.no_grad():
        model.offset.zero_()
        model.scale.fill_(1.0)
        raw = model.score(data.prompts + data.prompts, data.chosen + data.rejected)
        model.offset.fill_(float(raw.mean()))
        model.scale.fill_(float(raw.std().clamp_min(1e-6)))
    return losses


def pairwise_accuracy(model: RewardModel | RewardEnsemble, data: Comparisons) -> float:
    """Share of comparisons where the model scores the chosen answer higher (ties count half)."""
    a = model.score(data.prompts, data.chosen)
    b = model.score(data.prompts, data.rejected)
    return float(((a > b).float() + 0.5 * (a == b).float()).mean())


class RewardEnsemble:
    """K reward models whose standardised scores are combined by ``aggregate`` (Coste et al. 2023)."""

    def __init__(self, members: Sequence[RewardModel], aggregate: Aggregate = "mean", uncertainty_lambda: float = 0.5):
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = list(members)
        self.aggregate = aggregate
        self.uncertainty_lambda = uncertainty_lambda

    def with_aggregate(self, aggregate: Aggregate, members: int | None = None) -> RewardEnsemble:
        """The same trained members (the first ``members`` of them) combined another way."""
        return RewardEnsemble(self.members[: members or len(self.members)], aggregate, self.uncertainty_lambda)

    def member_scores(self, prompts, responses) -> torch.Tensor:
        """Tensor[K, B] of each member's standardised scores."""
        return torch.stack([m.score(prompts, responses) for m in self.members])

    def combine(self, scores: torch.Tensor) -> torch.Tensor:
        """Tensor[K, B] → Tensor[B] by this ensemble's aggregate."""
        if self.aggregate == "mean" or len(scores) == 1:
            return scores.mean(0)
        if self.aggregate == "min":
            return scores.min(0).values
        return scores.mean(0) - self.uncertainty_lambda * scores.var(0, unbiased=False)

    def score(self, prompts, responses) -> torch.Tensor:
        return self.combine(self.member_scores(prompts, responses))


def train_ensemble(
    config: RMConfig, data: Comparisons, base_lm, tokenizer, seed: int, progress=None, backbones: Sequence | None = None
) -> tuple[RewardEnsemble, list[dict]]:
    """Train ``config.members`` reward models on ``data`` (different head inits and data orders).

    ``backbones``: one pretrained LM per member (members whose backbones were pretrained from different
    seeds, Eisenstein et al. 2023); default: every member starts from ``base_lm``."""
    if backbones is not None and len(backbones) < config.members:
        raise ValueError(f"backbones: {len(backbones)} given for {config.members} members")
    import contextlib

    from goodhartlab.core.rng import int_seed, torch_generator

    progress = progress or (lambda desc, total: contextlib.nullcontext(lambda n=1: None))
    members, log = [], []
    steps = max(1, round(config.epochs * len(data.prompts) / config.batch_size))
    with progress(
        f"reward model{'s' if config.members > 1 else ''} on {len(data.prompts)} comparisons", steps * config.members
    ) as advance:
        for k in range(config.members):
            lm = base_lm if backbones is None else backbones[k]
            model = new_reward_model(config, lm, tokenizer, int_seed(seed, "rm init", k))
            losses = train_reward_model(model, data, config, torch_generator(seed, "rm order", k), advance)
            members.append(model)
            log.append(
                {
                    "member": k,
                    "loss_first": losses[0],
                    "loss_last": sum(losses[-10:]) / len(losses[-10:]),
                    "train_accuracy": pairwise_accuracy(RewardEnsemble([model]), data),
                }
            )
    return RewardEnsemble(members, config.aggregate, config.uncertainty_lambda), log
