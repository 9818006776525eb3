"""A test-only experiment for the fault-injection suite (tests/test_faults.py), loaded through GOODHARTLAB_PLUGINS.

It starts in a fraction of a second and can use the runner's worker pool (``ctx.map``) the way tictactoe's
learners do, write a large artifact (to fill a small disk), or sleep (to be killed mid-run). Each map worker
leaves ``pid-<pid>`` in ``marker_dir`` so a test can check that none outlives the run.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Literal

from pydantic import Field

from goodhartlab.core.config import ExperimentConfig
from goodhartlab.core.records import Finding, Measurement, ReportContent
from goodhartlab.core.registry import Experiment, register


class Config(ExperimentConfig):
    mode: Literal["ok", "pool", "big", "sleep"] = Field("ok", description="what the run does")
    items: int = Field(4, ge=1, le=64, description="pool mode: items mapped over the runner's workers")
    sleep: float = Field(0.0, ge=0, le=600, description="seconds each item (pool) or the run (sleep) sleeps")
    big_kb: int = Field(0, ge=0, le=100_000, description="big mode: kilobytes of the artifact written")
    marker_dir: str = Field("", description="where map workers leave pid markers")


def work(arg: tuple[int, float, str]) -> int:
    index, seconds, marker_dir = arg
    if marker_dir:
        Path(marker_dir).mkdir(parents=True, exist_ok=True)
        (Path(marker_dir) / f"pid-{os.getpid()}").touch()
    time.sleep(seconds)
    return index * index


def run(config: Config, ctx) -> None:
    ctx.log(f"fault experiment: mode={config.mode}")
    values = list(range(config.items))
    if config.mode == "pool":
        with ctx.progress("mapping", config.items) as advance:
            values = ctx.map(work, [(i, config.sleep, config.marker_dir) for i in range(config.items)], advance=advance)
    elif config.mode == "sleep":
        time.sleep(config.sleep)
    elif config.mode == "big":
        ctx.artifact("big", "x" * (config.big_kb * 1024))
    for step, value in enumerate(values):
        ctx.record(
            Measurement(
                series="fault",
                pressure_name="step",
                pressure=step,
                proxy=float(value),
                gold=float(-value),
                rater=None,
                kl=None,
                seed=config.seed,
                extra={},
            )
        )


def report(results) -> ReportContent:
    return ReportContent(
        title="fault",
        summary="test experiment",
        findings=[Finding("rows", f"{len(results.measurements)} rows")],
        figures=[],
    )


register(
    Experiment(name="fault", summary="test-only fault-injection experiment", config=Config, run=run, report=report)
)
