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

Where the time went (issue 16; numbers and the candidates tried are in ``benchmarks/results/rloo_trl.json``):
- MLP activation: torch's fused tanh gelu for ``gelu_new`` (the same function as HF's formula up to fp32 rounding,
  2-2.5x faster here forward and backward, in fp32 and bf16).
- Attention: full passes use ``scaled_dot_product_attention`` with an additive mask (fp32 / no-grad), except the
  bf16 gradient pass, where plain bf16 matmuls + fp32 softmax beat torch's bf16 sdpa backward; decoding uses
  ``baddbmm`` on the cache with an additive key mask kept across steps.
- Shared prompt prefixes: RLOO samples k responses per prompt, and a causal model's states at prompt columns depend
  only on the prompt, so the prefill and the full passes compute each distinct prompt once and gather its
  keys/values for each of its rows (``_shared_prefix_blocks``), a quarter of the prompt work at k = 4.

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


def _act(x: torch.Tensor) -> torch.Tensor:
    """The model's MLP activation on x [N, 4C]. HF's ``gelu_new`` (0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))) *is*
    the tanh approximation torch fuses in ``gelu(approximate="tanh")`` (HF's ``gelu_pytorch_tanh``): the same
    function, rounded differently (max |Δ| 4.8e-7 at |x| ≤ 12, ``tests/test_fast_gpt2.py``). The fused kernel, forward
    and backward, is 2-2.5x faster here than HF's chain of eight elementwise ops (quiet machine, 1 thread: 2.8 vs
    6.5 ms on [2944, 512] fp32, 69 vs 178 µs on a decode step's [64, 512]; bf16 3.2 vs 7.3 ms)."""
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


def _additive_mask(mask: torch.Tensor) -> torch.Tensor:
    """Attention mask for a full forward over ids with attention ``mask`` [B, T]: float [B, 1, T, T], 0 where query s
    may attend to key j (causal, j a real token), −inf elsewhere. A padded query row may see itself so no row is
    fully masked (its output is never read: pad columns are masked out as keys for every real query)."""
    B, T = mask.shape
    causal = torch.ones(T, T, dtype=torch.bool, device=mask.device).tril()
    allowed = (causal & mask.bool()[:, None, :]) | torch.eye(T, dtype=torch.bool, device=mask.device)
    bias = torch.zeros(B, 1, T, T, device=mask.device)
    return bias.masked_fill_(~allowed[:, None], float("-inf"))


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Softmax attention of q [B, H, S, D] over k, v [B, H, T, D] with additive mask bias [B, 1, S, T], scale 1/√D
    (scale_attn_weights); returns [B, H, S, D]."""
    if q.requires_grad and torch.is_autocast_enabled("cpu"):
        # bf16 gradient pass: torch's bf16 sdpa backward is ~2-3x slower here than this (bf16 matmuls, the
        # scores promoted to fp32 by the mask for the softmax); measured in benchmarks/results/rloo_trl.json
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1])) + bias  # [B, H, S, T]
        return torch.matmul(torch.softmax(scores, dim=-1), v)
    # sdpa with the float mask: faster here than matmul → mask → softmax → matmul, forward and backward
    with torch.autocast("cpu", enabled=False):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype))


def _full_blocks(w: _Weights, x: torch.Tensor, bias: torch.Tensor, caches=None) -> torch.Tensor:
    """The blocks on hidden states x [B, T, C] with additive attention mask bias [B, 1, T, T]; returns x [B, T, C]
    before ln_f. With ``caches`` (keys, values: per layer [B·H, Tmax, D]) the keys and values fill columns 0..T−1."""
    B, T, C = x.shape
    H = w.n_head
    D = C // H
    for layer, (ln1, attn, proj, ln2, fc, fc_proj) in enumerate(w.blocks):
        qkv = torch.addmm(attn[1], _ln(x, ln1).view(B * T, C), attn[0]).view(B, T, 3, H, D).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # [B, H, T, D]; unbind's backward is one stack, select's three zero-fills
        if caches is not None:
            caches[0][layer].view(B, H, -1, D)[:, :, :T] = k
            caches[1][layer].view(B, H, -1, D)[:, :, :T] = v
        a = _attend(q, k, v, bias)  # [B, H, T, D]
        x = x + torch.addmm(proj[1], a.transpose(1, 2).reshape(B * T, C), proj[0]).view(B, T, C)
        h = _act(torch.addmm(fc[1], _ln(x, ln2).view(B * T, C), fc[0]))
        x = x + torch.addmm(fc_proj[1], h, fc_proj[0]).view(B, T, C)
    return x


def _unique_prefixes(ids: torch.Tensor, mask: torch.Tensor):
    """Rows of (ids, mask) [B, P] that repeat (RLOO samples k responses per prompt): (ids [U, P], mask [U, P],
    inverse [B]) with row b == unique row inverse[b], or None when all B rows differ."""
    u, inverse = torch.unique(torch.cat([ids, mask], 1), dim=0, return_inverse=True)
    if u.shape[0] == ids.shape[0]:
        return None
    P = ids.shape[1]
    return u[:, :P], u[:, P:], inverse


def _shared_prefix_blocks(w: _Weights, ids: torch.Tensor, mask: torch.Tensor, start: int, prefixes) -> torch.Tensor:
    """The full forward of ids/mask [B, T] when the prefixes ids[:, :start] repeat: ln_f(h) [B, T−start, C] at the
    columns start−1..T−2 (those predicting columns start..T−1).

    A causal model's hidden states at columns < start depend only on the prefix, so they are computed once per
    unique prefix ([U, start]) and their keys/values gathered for each row's suffix queries ([B, T−start]). Same
    arithmetic as the full forward, row for row; the two streams share every matmul (rows stacked)."""
    uids, umask, inverse = prefixes
    B, T = ids.shape
    U, P, G = uids.shape[0], start, T - start
    C, H = w.wte.shape[1], w.n_head
    D = C // H
    NP = U * P
    pos_p = (umask.cumsum(-1) - 1).clamp(min=0)
    pos_r = (mask.cumsum(-1) - 1).clamp(min=0)[:, P:]  # [B, G]
    x = torch.cat([(w.wte[uids] + w.wpe[pos_p]).view(NP, C), (w.wte[ids[:, P:]] + w.wpe[pos_r]).view(B * G, C)])
    bias_p = _additive_mask(umask)  # [U, 1, P, P]
    # suffix query g sees prefix key j where real, suffix key g' <= g where real, and itself
    real = mask.bool()
    causal = torch.ones(G, G, dtype=torch.bool, device=ids.device).tril()
    eye = torch.eye(G, dtype=torch.bool, device=ids.device)
    allowed = torch.cat([real[:, None, :P].expand(B, G, P), (causal & real[:, None, P:]) | eye], -1)  # [B, G, T]
    bias_r = torch.zeros(B, 1, G, T, device=ids.device).masked_fill_(~allowed[:, None], float("-inf"))
    for ln1, attn, proj, ln2, fc, fc_proj in w.blocks:
        # split, not slicing: split's backward is one cat, each slice's a zero-fill of the whole [NP + B·G, 3C]
        qkv_p, qkv_r = torch.addmm(attn[1], _ln(x, ln1), attn[0]).split([NP, B * G])
        qp, kp, vp = qkv_p.view(U, P, 3, H, D).permute(2, 0, 3, 1, 4).unbind(0)  # [U, H, P, D]
        qr, kr, vr = qkv_r.view(B, G, 3, H, D).permute(2, 0, 3, 1, 4).unbind(0)  # [B, H, G, D]
        ap = _attend(qp, kp, vp, bias_p)
        ar = _attend(qr, torch.cat([kp[inverse], kr], 2), torch.cat([vp[inverse], vr], 2), bias_r)
        a = torch.cat([ap.transpose(1, 2).reshape(NP, C), ar.transpose(1, 2).reshape(B * G, C)])
        x = x + torch.addmm(proj[1], a, proj[0])
        x = x + torch.addmm(fc_proj[1], _act(torch.addmm(fc[1], _ln(x, ln2), fc[0])), fc_proj[0])
    xp, xr = x.split([NP, B * G])
    last_prefix = xp.view(U, P, C)[:, -1][inverse]  # [B, C]: column start−1
    h = torch.cat([last_prefix[:, None], xr.view(B, G, C)[:, :-1]], 1)  # [B, G, C]
    return _ln(h, w.ln_f)


def _decode_blocks(w: _Weights, x: torch.Tensor, keys, values, col: int, bias: torch.Tensor) -> torch.Tensor:
    """One new token per row: x [B, C] at cache column ``col``; ``bias`` [B·H, 1, Tmax] additive key mask (0 on
    columns the query may see). Writes keys/values (per layer [B·H, Tmax, D]) at ``col``; returns ln_f(x) [B, C]."""
    B, C = x.shape
    H = w.n_head
    D = C // H
    stop = col + 1
    scale = 1.0 / math.sqrt(D)
    b = bias[:, :, :stop]
    for layer, (ln1, attn, proj, ln2, fc, fc_proj) in enumerate(w.blocks):
        qkv = torch.addmm(attn[1], _ln(x, ln1), attn[0]).view(B, 3, H, D)
        kc, vc = keys[layer], values[layer]
        kc.view(B, H, -1, D)[:, :, col] = qkv[:, 1]
        vc.view(B, H, -1, D)[:, :, col] = qkv[:, 2]
        # plain attention on the cache: for one query row this is faster on CPU than sdpa, whose set-up dominates
        scores = torch.baddbmm(b, qkv[:, 0].reshape(B * H, 1, D), kc[:, :stop].transpose(1, 2), alpha=scale)
        a = torch.bmm(torch.softmax(scores, dim=-1), vc[:, :stop]).view(B, C)  # [B·H, 1, D] → [B, C]
        x = torch.addmm(proj[1], a, proj[0]).add_(x)
        h = _act(torch.addmm(fc[1], _ln(x, ln2), fc[0]))
        x = torch.addmm(fc_proj[1], h, fc_proj[0]).add_(x)
    return _ln(x, w.ln_f)


@torch.no_grad()  # not inference_mode: the returned ids feed autograd passes
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
    # every cache column is written before it is read (reads stop at the current column), so no zeroing
    keys = [torch.empty(B * H, T, C // H, dtype=dtype, device=device) for _ in w.blocks]
    values = [torch.empty_like(k) for k in keys]
    all_ids = torch.full((B, T), pad_id, dtype=torch.long, device=device)
    all_mask = torch.zeros((B, T), dtype=torch.long, device=device)
    all_ids[:, :P], all_mask[:, :P] = ids, mask
    pos = (mask.cumsum(-1) - 1).clamp(min=0)  # [B, P] positions that ignore left padding

    prefixes = _unique_prefixes(ids, mask)
    if prefixes is None:
        x = w.wte[ids] + w.wpe[pos]
        h = _ln(_full_blocks(w, x, _additive_mask(mask), (keys, values))[:, -1], w.ln_f)  # [B, C]: last prompt column
    else:  # k samples per prompt: prefill each distinct prompt once, then copy its keys/values to its k rows
        uids, umask, inverse = prefixes
        U = uids.shape[0]
        ukeys = [torch.empty(U * H, P, C // H, dtype=dtype, device=device) for _ in w.blocks]
        uvalues = [torch.empty_like(k) for k in ukeys]
        x = w.wte[uids] + w.wpe[(umask.cumsum(-1) - 1).clamp(min=0)]
        h = _ln(_full_blocks(w, x, _additive_mask(umask), (ukeys, uvalues))[:, -1], w.ln_f)[inverse]
        for cache, ucache in zip(keys + values, ukeys + uvalues):
            cache.view(B, H, T, C // H)[:, :, :P] = ucache.view(U, H, P, C // H)[inverse]
    next_pos = mask.sum(-1)  # [B] position of the first response token
    # additive key mask for decoding, one row per (batch, head): 0 on real prompt columns, −inf on padding and on
    # columns not yet written; column P+t opens when token t is fed for a row still running
    key_bias = torch.full((B, H, 1, T), float("-inf"), dtype=dtype, device=device)
    key_bias[..., :P] = torch.zeros(B, P, dtype=dtype).masked_fill_(~mask.bool(), float("-inf"))[:, None, None, :]
    key_bias_flat = key_bias.view(B * H, 1, T)
    open_, shut = torch.zeros((), dtype=dtype), torch.tensor(float("-inf"), dtype=dtype)
    # position embeddings of the token fed at step t: a running row's count of real tokens so far (a finished
    # row's queries are never read, so its position does not matter); gathered once, not per step
    steps = torch.arange(max_new_tokens, device=device)[:, None]
    wpe_steps = w.wpe[(next_pos[None] + steps).clamp(max=w.n_positions - 1)]  # [max_new_tokens, B, C]

    done = torch.zeros(B, dtype=torch.bool, device=device)
    logprobs = torch.zeros(B, device=device)
    G = 0
    for t in range(max_new_tokens):
        logits = torch.mm(h, w.lm_head.t())  # [B, V]
        u = torch.rand(B, generator=generator, device=device)  # drawn for every row, finished or not
        tok, lp = choose(logits, temperature, u)
        tok = tok.masked_fill_(done, pad_id)
        logprobs += lp.masked_fill_(done, 0.0)
        col = P + t
        all_ids[:, col] = tok
        # a finished row's later queries are never read; it keeps its real columns, so no row is fully masked
        key_bias[:, :, 0, col] = torch.where(done, shut, open_)[:, None]
        done |= tok == eos_id
        G = t + 1
        if t == max_new_tokens - 1 or bool(done.all()):
            break
        # feed the new token at cache column col
        h = _decode_blocks(w, w.wte[tok] + wpe_steps[t], keys, values, col, key_bias_flat)  # x: [B, C]
    # response mask: real up to and including each row's first eos (eos itself is a real token)
    eos = all_ids[:, P : P + G] == eos_id
    all_mask[:, P : P + G] = (eos.long().cumsum(-1) - eos.long()) == 0
    return all_ids[:, : P + G], all_mask[:, : P + G], logprobs, G


def response_logits(model, ids: torch.Tensor, mask: torch.Tensor, start: int) -> torch.Tensor:
    """Logits predicting columns start..T−1 of ids [B, T]: FloatTensor [B, T−start, V], differentiable.

    The same arithmetic as HF's full forward with a causal + padding mask and positions that ignore left
    padding; the LM head is applied only to the columns that predict response tokens.
    """
    w = _Weights(model)
    prefixes = _unique_prefixes(ids[:, :start], mask[:, :start])
    if prefixes is not None:
        return _shared_prefix_blocks(w, ids, mask, start, prefixes) @ w.lm_head.t()
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    x = w.wte[ids] + w.wpe[pos]  # [B, T, C]
    x = _full_blocks(w, x, _additive_mask(mask))
    h = _ln(x[:, start - 1 : -1], w.ln_f)  # [B, T−start, C]
    return h @ w.lm_head.t()
