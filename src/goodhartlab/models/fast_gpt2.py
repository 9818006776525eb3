"""A lean sampler for the built-in GPT-2 family: a preallocated KV cache and one fused loop, no HF call per token.

Why: in the RL loop, sampling 64 responses of 40 tokens from the tiny policy (4 layers, width 128) is ~100 MFLOP
per token step, well under a millisecond of arithmetic; through ``model(...)`` each step costs several ms of
Python and framework overhead (mask building, cache objects, output records). This module runs the same
arithmetic as ``transformers``' GPT-2 (``modeling_gpt2.GPT2Block``: pre-LN attention and MLP blocks, tied LM head)
directly on the model's own parameters, writing keys and values into a cache allocated once per batch.

It reads the weights, never copies them, so it always samples from the model's current parameters. It supports
``GPT2LMHeadModel`` with the defaults our models use (no cross-attention, ``scale_attn_weights=True``, no
``scale_attn_by_inverse_layer_idx`` / ``reorder_and_upcast_attn``, activation ``gelu_new`` or
``gelu_pytorch_tanh``); :func:`supports` says whether a model qualifies, and ``generation.sample`` falls back to
the general path (any HF causal LM) when it does not.

Samples are drawn exactly as in ``generation.sample``: one uniform per row per step from the caller's generator,
token by inverse CDF. The logits agree with HF's to float32 rounding (~1e-6), so the same generator gives the
same tokens except where a uniform falls that close to a CDF boundary (``tests/test_fast_gpt2.py``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

_ACTIVATIONS = {"gelu_new", "gelu_pytorch_tanh"}


def supports(model) -> bool:
    """True when ``model`` is a GPT-2 LM head model whose forward this module reproduces exactly."""
    cfg = getattr(model, "config", None)
    return (
        type(model).__name__ == "GPT2LMHeadModel"
        and getattr(cfg, "model_type", None) == "gpt2"
        and not getattr(cfg, "add_cross_attention", False)
        and getattr(cfg, "scale_attn_weights", True)
        and not getattr(cfg, "scale_attn_by_inverse_layer_idx", False)
        and not getattr(cfg, "reorder_and_upcast_attn", False)
        and getattr(cfg, "activation_function", None) in _ACTIVATIONS
        and model.lm_head.bias is None
        # no dropout here: a model in training mode with dropout must take HF's own forward
        and not (model.training and any(getattr(cfg, k, 0.0) > 0 for k in ("attn_pdrop", "resid_pdrop", "embd_pdrop")))
    )


def _gelu(x: torch.Tensor) -> torch.Tensor:
    # gelu_new (Hendrycks & Gimpel's tanh approximation) == torch's fused gelu(approximate="tanh")
    return F.gelu(x, approximate="tanh")


class _Weights:
    """References to one GPT-2's parameters, in the layout the loop uses (Conv1D weights are [in, out])."""

    def __init__(self, model):
        t = model.transformer
        self.wte, self.wpe = t.wte.weight, t.wpe.weight  # [V, C], [n_positions, C]
        self.ln_f = (t.ln_f.weight, t.ln_f.bias, t.ln_f.eps)
        self.blocks = [
            (
                (b.ln_1.weight, b.ln_1.bias, b.ln_1.eps),
                (b.attn.c_attn.weight, b.attn.c_attn.bias),  # [C, 3C], [3C]
                (b.attn.c_proj.weight, b.attn.c_proj.bias),  # [C, C]
                (b.ln_2.weight, b.ln_2.bias, b.ln_2.eps),
                (b.mlp.c_fc.weight, b.mlp.c_fc.bias),  # [C, 4C]
                (b.mlp.c_proj.weight, b.mlp.c_proj.bias),  # [4C, C]
            )
            for b in t.h
        ]
        self.lm_head = model.lm_head.weight  # [V, C] (tied to wte)
        self.n_head = model.config.n_head
        self.n_positions = model.config.n_positions


def _ln(x, p):
    return F.layer_norm(x, (x.shape[-1],), p[0], p[1], p[2])


def _forward(
    w: _Weights,
    x: torch.Tensor,
    keys: list[torch.Tensor],
    values: list[torch.Tensor],
    start: int,
    allowed: torch.Tensor,
) -> torch.Tensor:
    """Run the blocks on hidden states x [B, S, C] at cache columns start..start+S−1; returns ln_f(h) [B, S, C].

    ``keys[l]``/``values[l]``: [B, H, Tmax, D] caches, written in place; ``allowed``: bool [B, 1, S, start+S],
    True where query s may attend to cache column j.
    """
    B, S, C = x.shape
    H = w.n_head
    D = C // H
    stop = start + S
    for layer, (ln1, attn, proj, ln2, fc, fc_proj) in enumerate(w.blocks):
        qkv = torch.addmm(attn[1], _ln(x, ln1).reshape(B * S, C), attn[0]).view(B, S, 3, H, D)
        q = qkv[:, :, 0].transpose(1, 2)  # [B, H, S, D]
        keys[layer][:, :, start:stop] = qkv[:, :, 1].transpose(1, 2)
        values[layer][:, :, start:stop] = qkv[:, :, 2].transpose(1, 2)
        # plain softmax attention: at these sizes (S = 1 while decoding, T <= 96) it is several times faster on CPU
        # than F.scaled_dot_product_attention's flash kernel, whose per-call set-up dominates
        k, v = keys[layer][:, :, :stop], values[layer][:, :, :stop]  # [B, H, T, D]
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(D))  # [B, H, S, T]
        a = torch.matmul(torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1), v)  # [B, H, S, D]
        a = a.transpose(1, 2).reshape(B * S, C)
        x = x + torch.addmm(proj[1], a, proj[0]).view(B, S, C)
        h = _gelu(torch.addmm(fc[1], _ln(x, ln2).reshape(B * S, C), fc[0]))
        x = x + torch.addmm(fc_proj[1], h, fc_proj[0]).view(B, S, C)
    return _ln(x, w.ln_f)


@torch.no_grad()
def sample_tokens(
    model,
    ids: torch.Tensor,
    mask: torch.Tensor,
    max_new_tokens: int,
    generator: torch.Generator,
    eos_id: int,
    pad_id: int,
    temperature: float,
    choose,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Sample from left-padded prompts ids/mask [B, P]; returns (ids [B, P+G], mask [B, P+G], logprobs [B], G).

    ``choose(logits [B, V], temperature, u [B]) -> (tokens [B], logp [B])`` is ``generation._choose``, so both
    paths share the token rule. Stops when every row has produced eos, or after ``max_new_tokens``.
    """
    w = _Weights(model)
    B, P = ids.shape
    T = P + max_new_tokens
    if T > w.n_positions:
        raise ValueError(f"prompt ({P}) + max_new_tokens ({max_new_tokens}) exceeds n_positions ({w.n_positions})")
    C, H = w.wte.shape[1], w.n_head
    dtype, device = w.wte.dtype, ids.device
    keys = [torch.zeros(B, H, T, C // H, dtype=dtype, device=device) for _ in w.blocks]
    values = [torch.zeros_like(k) for k in keys]
    all_ids = torch.full((B, T), pad_id, dtype=torch.long, device=device)
    all_mask = torch.zeros((B, T), dtype=torch.long, device=device)
    all_ids[:, :P], all_mask[:, :P] = ids, mask
    pos = (mask.cumsum(-1) - 1).clamp(min=0)  # [B, P] positions that ignore left padding

    # prefill: causal and padding mask; a padded query row may see itself so no row is fully masked (its output
    # is never read: pad columns are masked out as keys for every later query)
    real = mask.bool()
    causal = torch.ones(P, P, dtype=torch.bool, device=device).tril()
    allowed = (causal & real[:, None, :]) | torch.eye(P, dtype=torch.bool, device=device)
    x = w.wte[ids] + w.wpe[pos]
    h = _forward(w, x, keys, values, 0, allowed[:, None])[:, -1]  # [B, C]: last prompt column
    next_pos = mask.sum(-1)  # [B] position of the first response token

    done = torch.zeros(B, dtype=torch.bool, device=device)
    logprobs = torch.zeros(B, device=device)
    G = 0
    for t in range(max_new_tokens):
        logits = h @ w.lm_head.t()  # [B, V]
        u = torch.rand(B, generator=generator, device=device)  # drawn for every row, finished or not
        tok, lp = choose(logits, temperature, u)
        tok = torch.where(done, torch.full_like(tok, pad_id), tok)
        logprobs += torch.where(done, torch.zeros_like(lp), lp)
        col = P + t
        all_ids[:, col] = tok
        all_mask[:, col] = (~done).long()  # eos itself is a real token
        done = done | (tok == eos_id)
        G = t + 1
        if bool(done.all()) or t == max_new_tokens - 1:
            break
        # feed the new token at cache column col; it attends to every real column up to and including itself
        x = (w.wte[tok] + w.wpe[next_pos.clamp(max=w.n_positions - 1)])[:, None]  # [B, 1, C]
        allowed = all_mask[:, None, None, : col + 1].bool()
        allowed[:, :, :, col] = True
        h = _forward(w, x, keys, values, col, allowed)[:, -1]
        next_pos = next_pos + (~done).long()
    return all_ids[:, : P + G], all_mask[:, : P + G], logprobs, G


def response_logits(model, ids: torch.Tensor, mask: torch.Tensor, start: int) -> torch.Tensor:
    """Logits predicting columns start..T−1 of ids [B, T]: FloatTensor [B, T−start, V], differentiable.

    The same arithmetic as HF's full forward with a causal + padding mask and positions that ignore left
    padding; the LM head is applied only to the columns that predict response tokens.
    """
    w = _Weights(model)
    B, T = ids.shape
    C, H = w.wte.shape[1], w.n_head
    D = C // H
    real = mask.bool()
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    causal = torch.ones(T, T, dtype=torch.bool, device=ids.device).tril()
    allowed = ((causal & real[:, None, :]) | torch.eye(T, dtype=torch.bool, device=ids.device))[:, None]  # [B,1,T,T]
    x = w.wte[ids] + w.wpe[pos]  # [B, T, C]
    for ln1, attn, proj, ln2, fc, fc_proj in w.blocks:
        qkv = torch.addmm(attn[1], _ln(x, ln1).reshape(B * T, C), attn[0]).view(B, T, 3, H, D).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # [B, H, T, D]
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(D))  # [B, H, T, T]
        a = torch.matmul(torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1), v)
        x = x + torch.addmm(proj[1], a.transpose(1, 2).reshape(B * T, C), proj[0]).view(B, T, C)
        h = _gelu(torch.addmm(fc[1], _ln(x, ln2).reshape(B * T, C), fc[0]))
        x = x + torch.addmm(fc_proj[1], h, fc_proj[0]).view(B, T, C)
    h = _ln(x[:, start - 1 : -1], w.ln_f)  # [B, T−start, C]
    return h @ w.lm_head.t()
