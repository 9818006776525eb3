"""Best-of-n from one pool: exact expectations over all n-subsets of each prompt's N samples, no resampling.

Best-of-n draws n samples from π_base and keeps the one the proxy scores highest. Given a pool of N ≥ n i.i.d.
samples for a prompt, the expectation over n-subsets drawn without replacement is an unbiased estimate of the
best-of-n expectation (a U-statistic). Rank the pool by proxy ascending, i = 1..N; the i-th ranked sample is the
winner of a uniformly random n-subset exactly when the subset holds it and n−1 of the i−1 below it:

    P(winner = rank i) = C(i−1, n−1) / C(N, n)

so E[score of best-of-n] = Σ_i C(i−1, n−1)/C(N, n) · score_(i), for the proxy and for any companion score (rater,
gold, behaviour indicators) of the same samples. Gao et al. 2022 use this estimator, as described in Nakano et
al. 2021 (WebGPT), appendix. Weights are computed in log space (gammaln), so N in the thousands is fine.

Ties in the proxy are broken deterministically: among equal proxy scores the sample with the smallest pool index
wins (what ``np.argmax`` over a subset listed in pool order does). The proxy curve does not depend on the rule;
companions do.

KL of best-of-n to the base policy: log n − (n−1)/n (Stiennon et al. 2020, appendix; Gao et al. 2022 §2). It is the
exact KL when the proxy has no ties and the base distribution is continuous, and an upper bound otherwise
(Beirami et al. 2024, "Theoretical guarantees on the best-of-n alignment policy").
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln


def best_of_n_kl(n: int) -> float:
    """KL(best-of-n ‖ base) in nats = log n − (n−1)/n."""
    if n < 1:
        raise ValueError("n: must be at least 1")
    return math.log(n) - (n - 1) / n


def winner_weights(N: int, ns: list[int]) -> np.ndarray:
    """[len(ns), N]: row j, column i (0-based rank ascending) = P(rank i+1 wins a random ns[j]-subset of N)."""
    ns_arr = np.asarray(ns, dtype=int)
    if ns_arr.ndim != 1 or np.any(ns_arr < 1) or np.any(ns_arr > N):
        raise ValueError(f"ns: every n must be in 1..{N} (the pool size)")
    i = np.arange(1, N + 1)[None, :]  # ranks 1..N
    n = ns_arr[:, None]
    valid = i >= n
    # log C(i−1, n−1) − log C(N, n); rows sum to 1 by the hockey-stick identity
    log_c = (gammaln(i) - gammaln(n) - gammaln(np.maximum(i - n + 1, 1))) - (
        gammaln(N + 1) - gammaln(n + 1) - gammaln(N - n + 1)
    )
    return np.where(valid, np.exp(np.where(valid, log_c, 0.0)), 0.0)


def rank_order(proxy: np.ndarray) -> np.ndarray:
    """[P, N] pool indices sorted by proxy ascending; among ties the smallest pool index ranks highest."""
    P, N = proxy.shape
    idx = np.broadcast_to(np.arange(N), (P, N))
    # lexsort: last key primary. Ascending proxy, then descending index, so the lowest index sits last (wins).
    return np.stack([np.lexsort((-idx[p], proxy[p])) for p in range(P)])


def best_of_n_per_prompt(proxy: np.ndarray, others: dict[str, np.ndarray], ns: list[int]) -> dict[str, np.ndarray]:
    """Per-prompt exact best-of-n expectations: {"proxy": [P, len(ns)], name: [P, len(ns)] for each companion}."""
    proxy = np.asarray(proxy, dtype=float)
    if proxy.ndim != 2:
        raise ValueError("proxy: must be a [prompts, pool] array")
    P, N = proxy.shape
    W = winner_weights(N, ns)  # [K, N]
    order = rank_order(proxy)  # [P, N]
    out = {"proxy": np.take_along_axis(proxy, order, 1) @ W.T}
    for name, values in others.items():
        values = np.asarray(values, dtype=float)
        if values.shape != proxy.shape:
            raise ValueError(f"others[{name!r}]: shape {values.shape} must match proxy {proxy.shape}")
        out[name] = np.take_along_axis(values, order, 1) @ W.T  # [P, K]
    return out


def best_of_n_curve(proxy: np.ndarray, others: dict[str, np.ndarray], ns: list[int]) -> dict[str, np.ndarray]:
    """Exact expected best-of-n scores averaged over prompts: {"proxy": [len(ns)], name: [len(ns)], ...}."""
    return {k: v.mean(0) for k, v in best_of_n_per_prompt(proxy, others, ns).items()}
