"""Sampling from any Hugging Face causal LM with an explicit torch.Generator, and sequence log-probabilities.

Written here rather than calling ``model.generate`` because HF's sampler draws from torch's global RNG; every
random number below comes from the ``generator`` argument, so the same generator state gives the same samples.

Layout of a batch (B rows, T = P + G columns; P = longest prompt, G = generation steps actually run):

    [pad pad p1 p2 p3 | r1 r2 eos pad pad]      prompt left-padded, response right-padded after eos
     attention_mask  0 0 1 1 1 | 1 1 1 0 0
     response_mask   0 0 0 0 0 | 1 1 1 0 0

Position ids are computed from the attention mask (cumsum − 1), so left padding does not shift positions.

Token choice is by inverse CDF: one uniform u ~ U[0,1) per row per step from ``generator``, token =
the first index whose cumulative probability exceeds u. The cached and uncached paths draw the same uniforms
in the same order, so they give the same samples, up to float32 rounding: the two paths' logits differ by ~1e-6,
so a token flips when u falls that close to a CDF boundary (rare per token: a few per 10^4 tokens at vocab 600).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch

from goodhartlab.models import fast_gpt2


@dataclass
class SampleBatch:
    sequences: torch.Tensor  # LongTensor[B, T]: left-padded prompt + response, right-padded after eos
    attention_mask: torch.Tensor  # LongTensor[B, T]: 1 on real tokens (prompt and response incl. eos)
    response_mask: torch.Tensor  # LongTensor[B, T]: 1 on response tokens incl. eos
    logprobs: torch.Tensor  # FloatTensor[B]: Σ over response tokens of log p(token) at the sampling temperature
    responses: list[list[int]]  # response ids, eos and pad stripped
    prompt_width: int  # P: responses start at column P

    @property
    def response_lengths(self) -> torch.Tensor:
        return self.response_mask.sum(-1)  # [B], eos counted


def positions(attention_mask: torch.Tensor) -> torch.Tensor:
    """Position ids [B, T] that ignore left padding: 0 at each row's first real token."""
    return (attention_mask.cumsum(-1) - 1).clamp(min=0)


def left_pad(prompts: list[list[int]], pad_id: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Prompts → ids [B, P] and attention mask [B, P], left-padded to the longest prompt."""
    if not prompts or any(len(p) == 0 for p in prompts):
        raise ValueError("prompts: every prompt needs at least one token")
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long, device=device)
    mask = torch.zeros((len(prompts), width), dtype=torch.long, device=device)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p, dtype=torch.long)
        mask[i, width - len(p) :] = 1
    return ids, mask


def _keep_last_kwargs(model) -> dict:
    # Most HF causal LMs can skip the LM head on all but the last position (`logits_to_keep`, transformers ≥4.50;
    # `num_logits_to_keep` before). Both sampling paths use it when available, so the comparison stays fair.
    params = inspect.signature(model.forward).parameters
    for name in ("logits_to_keep", "num_logits_to_keep"):
        if name in params:
            return {name: 1}
    return {}


def _scaled(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    # x / 1.0 == x exactly, so skipping the division at temperature 1 changes no bit and saves a pass over [B, V]
    logits = logits.float()
    return logits if temperature == 1.0 else logits / temperature


def _choose(logits: torch.Tensor, temperature: float, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """logits [B, V], uniforms [B] → tokens [B] and their log-probabilities [B] at ``temperature``."""
    logp = torch.log_softmax(_scaled(logits, temperature), dim=-1)  # [B, V]
    cdf = logp.exp().cumsum(-1)  # [B, V]
    tok = torch.searchsorted(cdf, u.unsqueeze(-1)).squeeze(-1).clamp(max=logits.shape[-1] - 1)  # [B]
    return tok, logp.gather(-1, tok.unsqueeze(-1)).squeeze(-1)


@torch.no_grad()
def sample(
    model,
    prompts: list[list[int]],
    max_new_tokens: int,
    generator: torch.Generator,
    eos_id: int,
    pad_id: int,
    temperature: float = 1.0,
    use_cache: bool = True,
    fast: bool = True,
) -> SampleBatch:
    """Sample one response per prompt, ancestral sampling at ``temperature``, stopping at eos or max_new_tokens.

    ``use_cache=True`` feeds one new token per step with ``past_key_values`` (O(T) work per token);
    ``use_cache=False`` reruns the whole sequence every step (O(T²)); both give the same samples.
    ``fast=True`` takes the lean loop of :mod:`goodhartlab.models.fast_gpt2` (static KV cache, no HF call per
    token) when the model is a built-in-family GPT-2 (``fast_gpt2.supports``); other models use the general path.
    The model is put in eval mode (no dropout) for sampling and restored afterwards.
    """
    if max_new_tokens < 1:
        raise ValueError("max_new_tokens: must be at least 1")
    if temperature <= 0:
        raise ValueError("temperature: must be > 0")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    ids, mask = left_pad(prompts, pad_id, device)  # [B, P]
    B, P = ids.shape
    if fast and use_cache and fast_gpt2.supports(model):
        try:
            ids, mask, logprobs, G = fast_gpt2.sample_tokens(
                model, ids, mask, max_new_tokens, generator, eos_id, pad_id, temperature, _choose
            )
        finally:
            model.train(was_training)
        return _batch(ids, mask, logprobs, P, G, eos_id)
    keep = _keep_last_kwargs(model)
    done = torch.zeros(B, dtype=torch.bool, device=device)
    logprobs = torch.zeros(B, device=device)
    new_tokens: list[torch.Tensor] = []
    past = None
    try:
        for t in range(max_new_tokens):
            if use_cache:
                if past is None:  # prefill: the whole prompt once
                    out = model(
                        input_ids=ids, attention_mask=mask, position_ids=positions(mask), use_cache=True, **keep
                    )
                else:  # one token; its position is the count of real tokens before it
                    pos = mask.sum(-1, keepdim=True) - 1  # [B, 1]
                    out = model(
                        input_ids=ids[:, -1:],
                        attention_mask=mask,
                        position_ids=pos,
                        past_key_values=past,
                        use_cache=True,
                        **keep,
                    )
                past = out.past_key_values
            else:
                out = model(input_ids=ids, attention_mask=mask, position_ids=positions(mask), use_cache=False, **keep)
            u = torch.rand(B, generator=generator, device=device)  # drawn for every row, finished or not
            tok, lp = _choose(out.logits[:, -1, :], temperature, u)
            tok = torch.where(done, torch.full_like(tok, pad_id), tok)
            logprobs += torch.where(done, torch.zeros_like(lp), lp)
            new_tokens.append(tok)
            ids = torch.cat([ids, tok.unsqueeze(-1)], dim=1)
            mask = torch.cat([mask, (~done).long().unsqueeze(-1)], dim=1)  # eos itself is a real token
            done = done | (tok == eos_id)
            if bool(done.all()):
                break
    finally:
        model.train(was_training)
    return _batch(ids, mask, logprobs, P, len(new_tokens), eos_id)


def _batch(ids: torch.Tensor, mask: torch.Tensor, logprobs: torch.Tensor, P: int, G: int, eos_id: int) -> SampleBatch:
    """ids/mask [B, P+G] → a SampleBatch with the response mask and the stripped response ids."""
    B = ids.shape[0]
    response_mask = torch.zeros_like(mask)
    response_mask[:, P:] = mask[:, P:]
    gen = ids[:, P:].tolist()
    responses = []
    for row, m in zip(gen, mask[:, P:].tolist()):
        r = [tok for tok, real in zip(row, m) if real]
        if r and r[-1] == eos_id:
            r = r[:-1]
        responses.append(r)
    assert ids.shape == (B, P + G)
    return SampleBatch(ids, mask, response_mask, logprobs, responses, P)


def token_logprobs(
    model,
    sequences: torch.Tensor,
    attention_mask: torch.Tensor,
    response_mask: torch.Tensor,
    temperature: float = 1.0,
    fast: bool = True,
) -> torch.Tensor:
    """log p(token_t | tokens_<t) for every response token: FloatTensor[B, T], 0 off the response.

    One full forward pass (with grad if grad is enabled). Column t holds the log-prob of ``sequences[:, t]``.
    ``fast=True`` uses :func:`goodhartlab.models.fast_gpt2.response_logits` for built-in-family GPT-2s (the same
    arithmetic, LM head on response columns only); any other model goes through its own forward.
    """
    start = int(response_mask.any(0).long().argmax())  # first column holding any response token
    if start == 0:
        raise ValueError("response_mask: a response cannot start at column 0 (it needs a prompt token before it)")
    if fast and fast_gpt2.supports(model):
        logits = fast_gpt2.response_logits(model, sequences, attention_mask, start)
    else:
        out = model(
            input_ids=sequences, attention_mask=attention_mask, position_ids=positions(attention_mask), use_cache=False
        )
        logits = out.logits[:, start - 1 : -1, :]
    logits = _scaled(logits, temperature)  # [B, T-start, V], predicts columns start..T-1
    logp = torch.log_softmax(logits, dim=-1).gather(-1, sequences[:, start:].unsqueeze(-1)).squeeze(-1)
    result = torch.zeros(sequences.shape, dtype=logp.dtype, device=sequences.device)
    result[:, start:] = logp * response_mask[:, start:]
    return result


def sequence_logprobs(
    model, sequences: torch.Tensor, attention_mask: torch.Tensor, response_mask: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """log π(y|x) = Σ over response tokens: Tensor[B] (with grad if grad is enabled)."""
    return token_logprobs(model, sequences, attention_mask, response_mask, temperature).sum(-1)
