"""Weak-to-strong generalization on text (Burns et al. 2023, their NLP setting) in the QA world.

- weak supervisor: a reader who believes the popular misconceptions. It labels a statement 'the <entity> ...
  <value>' true when the value is what popular sources say: the misconception on facts that have one (so it
  labels the true value false there), the true value elsewhere. It needs no training; its errors are exactly the
  truth and misconception statements of misconception facts.
- strong student: the pretrained LM with a linear classification head (on the last token's hidden state and the
  LM's log-probability of the stated value), trained on the weak labels: the head only (a linear probe) or every
  weight; its pretraining corpus had expert sources stating the truths and popular ones the misconceptions.
- ceiling: the same fine-tuned on the truth labels.

The classification loss is ``oversight.weak_to_strong.confidence_loss`` (plain cross-entropy, or with Burns et
al.'s auxiliary confidence loss), shared with the digits task.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from goodhartlab.oversight.weak_to_strong import class_balance, confidence_loss


def misconception_believer(claims: Sequence) -> np.ndarray:
    """Weak labels int64[n] (1 = true) of ``FactClaim``s from a reader who takes each fact's popular
    misconception for the truth (and the truth for wrong); correct on facts without a misconception."""
    return np.array([c.misconception if c.fact_has_misconception else c.true for c in claims], dtype=np.int64)


class StatementClassifier(nn.Module):
    """A causal LM + linear head: ``forward(ids, mask) -> logits[B, 2]`` of right-padded ``<bos> statement``.

    The head reads the last token's hidden state (the stated value) and the LM's log-probability of that value
    after the statement's prefix ("the zobex eats" → "fish"): the tiny LM holds its knowledge of a fact in
    that next-token prediction, which a linear head on one 64-wide hidden state does not recover for entities
    it was not fine-tuned on (measured: such a ceiling trained on truth fell below predicting 'false' always).
    """

    def __init__(self, lm: nn.Module, generator: torch.Generator, classes: int = 2):
        super().__init__()
        self.lm = lm
        hidden = lm.config.hidden_size
        self.head = nn.Linear(hidden + 1, classes)
        with torch.no_grad():  # seeded init, no global RNG
            self.head.weight.normal_(0.0, hidden**-0.5, generator=generator)
            self.head.bias.zero_()

    def features(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(last token's hidden state [B, H], log p(value | prefix) [B])."""
        h = self.lm.base_model(input_ids=ids, attention_mask=mask).last_hidden_state  # [B, T, H]
        last = mask.sum(dim=1) - 1  # index of the last real token (the value) in each right-padded row
        rows = torch.arange(len(ids))
        logp = self.lm.get_output_embeddings()(h[rows, last - 1]).log_softmax(-1)  # [B, V] prediction of the value
        return h[rows, last], logp[rows, ids[rows, last]]

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h, belief = self.features(ids, mask)
        return self.head(torch.cat([h, belief[:, None]], 1))


def new_classifier(base_lm, generator: torch.Generator, train_lm: bool) -> StatementClassifier:
    """A fresh head on a copy of ``base_lm`` (left untouched); ``train_lm``: fine-tune the LM's weights too,
    else only the head learns (a linear probe of the frozen pretrained LM)."""
    return StatementClassifier(copy.deepcopy(base_lm).requires_grad_(train_lm), generator)


def encode_statements(tokenizer, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, mask) int64[n, T]: ``<bos> statement``, right-padded."""
    from goodhartlab.models.tokenizer import encode

    seqs = [[tokenizer.bos_token_id, *encode(tokenizer, t)] for t in texts]
    T = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), T), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), T), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    return ids, mask


def finetune_classifier(
    model: StatementClassifier,
    ids: torch.Tensor,
    mask: torch.Tensor,
    labels: np.ndarray,
    steps: int,
    batch: int,
    lr: float,
    rng: np.random.Generator,
    confidence: float = 0.0,
    warmup: float = 0.1,
    progress=None,
) -> list[float]:
    """Fine-tune the trainable weights on ``labels`` int[n] (0/1), given as one-hot targets so the confidence loss keeps
    their class balance. Returns the losses."""
    from goodhartlab.models.lm import adam_step

    targets = F.one_hot(torch.as_tensor(labels, dtype=torch.long), 2).float()  # [n, 2]
    balance = class_balance(targets)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    losses = []
    for step in range(steps):
        idx = torch.from_numpy(rng.integers(0, len(ids), min(batch, len(ids))))
        loss = confidence_loss(model(ids[idx], mask[idx]), targets[idx], balance, confidence, step, steps, warmup)
        losses.append(adam_step(opt, model, loss, "statement classifier", step))
        if progress is not None:
            progress()
    model.eval()
    return losses


@torch.no_grad()
def zero_shot(base_lm, ids: torch.Tensor, mask: torch.Tensor, groups: Sequence) -> np.ndarray:
    """The pretrained LM without any labels, int64[n]: a statement is 'true' iff its value is the one the LM
    finds most likely among the statements with the same prefix (``groups``: one key per statement)."""
    belief = StatementClassifier(base_lm, torch.Generator()).features(ids, mask)[1].numpy()
    best = {}
    for g, b in zip(groups, belief):
        best[g] = max(best.get(g, -np.inf), b)
    return np.array([b == best[g] for g, b in zip(groups, belief)], dtype=np.int64)


@torch.no_grad()
def predict_true(model: StatementClassifier, ids: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
    """Predicted labels int64[n] (1 = true)."""
    model.eval()
    return model(ids, mask).argmax(1).numpy()
