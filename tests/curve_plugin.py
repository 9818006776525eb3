"""A small, fast experiment for the API, compare, rerun and tracking tests, loaded through GOODHARTLAB_PLUGINS.

Best-of-n against a noisy proxy (regressional vs extremal Goodhart, Manheim & Garrabrant 2018): gold
x ~ N(0, 1), proxy = x + σ·ε with Gaussian or Student-t (3 dof) noise ε; the best of n of a pool by proxy,
averaged over prompts, for n = 1, 2, 4, ... . With Gaussian noise gold rises with n; with heavy-tailed noise
the top proxy scores are mostly noise and gold falls back. KL of best-of-n: log n − (n−1)/n.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from goodhartlab.core.config import ExperimentConfig
from goodhartlab.core.records import Finding, Measurement, ReportContent
from goodhartlab.core.registry import Experiment, register


class Config(ExperimentConfig):
    noise: Literal["gaussian", "t"] = Field("gaussian", description="Proxy noise: Gaussian, or Student t with 3 dof.")
    sigma: float = Field(1.0, gt=0, description="Scale of the proxy noise.")
    pool: int = Field(
        64,
        ge=2,
        le=4096,
        description="Samples per prompt; best-of-n for n = 1, 2, 4, ... <= pool.",
    )
    prompts: int = Field(50, ge=1, description="Prompts averaged over.")
    seeds: int = Field(3, ge=1, description="Repeats (the independent unit).")

    presets: ClassVar[dict[str, dict]] = {"quick": {"pool": 32, "prompts": 20}}


def run(config: Config, ctx) -> None:
    ns = [n for n in (2**i for i in range(13)) if n <= config.pool]
    with ctx.progress("best-of-n", config.seeds) as advance:
        for seed in range(config.seeds):
            rng = ctx.rng("pool", seed)
            gold = rng.normal(size=(config.prompts, config.pool))
            eps = rng.normal(size=gold.shape) if config.noise == "gaussian" else rng.standard_t(3, size=gold.shape)
            proxy = gold + config.sigma * eps
            for n in ns:
                best = np.argmax(proxy[:, :n], axis=1)  # the first n samples: best-of-n of a fresh draw
                rows = np.arange(config.prompts)
                ctx.record(
                    Measurement(
                        "best-of-n",
                        "n",
                        n,
                        proxy=float(proxy[rows, best].mean()),
                        gold=float(gold[rows, best].mean()),
                        kl=float(np.log(n) - (n - 1) / n),
                        seed=seed,
                    )
                )
                ctx.table(
                    "history",
                    [
                        {
                            "series": "best-of-n",
                            "seed": seed,
                            "step": n,
                            "gap": float((proxy[rows, best] - gold[rows, best]).mean()),
                        }
                    ],
                )
            advance()


def report(results) -> ReportContent:
    m = results.measurements
    top = m[m.pressure == m.pressure.max()]
    return ReportContent(
        title="best-of-n against a noisy proxy",
        summary=f"{results.config.noise} noise",
        findings=[
            Finding(
                "At the largest n",
                f"proxy {top.proxy.mean():.3f}, gold {top.gold.mean():.3f}",
            )
        ],
    )


register(Experiment("curve", "best-of-n against a noisy proxy (test plugin)", Config, run, report))
