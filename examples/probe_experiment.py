"""A plugin experiment: your own experiment in the catalog without editing goodhartlab.

A plugin is any importable module that calls ``core.registry.register(Experiment(...))`` with a ``Config``
(an ``ExperimentConfig``), a ``run(config, ctx)`` that records through the run context and a
``report(results)`` that returns a ``ReportContent``. Name the module in ``GOODHARTLAB_PLUGINS``::

    PYTHONPATH=examples GOODHARTLAB_PLUGINS=probe_experiment goodhartlab run probe --preset quick
    PYTHONPATH=examples GOODHARTLAB_PLUGINS=probe_experiment goodhartlab sweep probe --grid x=0.5,1 --seeds 3

This one records a small proxy-vs-gold curve (proxy = x·step + noise, gold peaks halfway) so sweep reports
have something to aggregate; the tests also use it to make runs raise, diverge or stall on purpose (``mode``,
``fail_first``, ``sleep``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Literal

from pydantic import Field

from goodhartlab.core.config import ExperimentConfig
from goodhartlab.core.context import Context, Results
from goodhartlab.core.records import Figure, Finding, Measurement, ReportContent
from goodhartlab.core.registry import Experiment, register
from goodhartlab.report.plots import CHANNEL_COLORS, figure


class Config(ExperimentConfig):
    mode: Literal["ok", "raise", "nan"] = Field("ok", description="ok, raise an error, or record NaN at the last step")
    x: float = Field(1.0, description="slope of the proxy")
    steps: int = Field(6, ge=1, description="measurements per run")
    sleep: float = Field(0.0, ge=0, description="seconds to sleep per step (to be killed mid-run)")
    fail_first: int = Field(0, ge=0, description="raise on the first N attempts; attempts are counted in marker_dir")
    marker_dir: str = Field("", description="directory for attempt markers (fail_first)")

    presets = {"quick": {"steps": 4}}


def run(config: Config, ctx: Context) -> None:
    if config.fail_first:
        marker = Path(config.marker_dir) / f"seed{config.seed}-x{config.x}"
        marker.mkdir(parents=True, exist_ok=True)
        attempt = len(list(marker.iterdir()))
        (marker / f"attempt{attempt}-{os.getpid()}").touch()
        if attempt < config.fail_first:
            raise RuntimeError(f"planned failure on attempt {attempt + 1}")
    noise = ctx.rng("noise").normal(0, 0.1, config.steps)
    with ctx.progress("probe steps", config.steps) as advance:
        for step in range(config.steps):
            if config.sleep:
                time.sleep(config.sleep)
            if config.mode == "raise" and step == config.steps - 1:
                raise ValueError("the probe was told to raise")
            proxy = config.x * step + noise[step]
            gold = step * (config.steps - step) / config.steps
            if config.mode == "nan" and step == config.steps - 1:
                gold = float("nan")
            ctx.record(
                Measurement(
                    series="probe",
                    pressure_name="step",
                    pressure=step,
                    proxy=proxy,
                    gold=gold,
                    rater=None,
                    kl=float(step),
                    seed=config.seed,
                    extra={},
                )
            )
            advance()


def report(results: Results) -> ReportContent:
    frame = results.measurements
    fig, axes = figure()
    for channel in ("proxy", "gold"):
        axes[0, 0].plot(frame["pressure"], frame[channel], color=CHANNEL_COLORS[channel], label=channel)
    axes[0, 0].legend()
    return ReportContent(
        title="probe",
        summary="test experiment",
        findings=[Finding("final proxy", f"{frame['proxy'].iloc[-1]:.3f}")],
        figures=[Figure("curve", "proxy and gold", fig)],
    )


register(
    Experiment(
        name="probe",
        summary="Example plugin: a synthetic proxy-vs-gold curve (examples/probe_experiment.py)",
        config=Config,
        run=run,
        report=report,
    )
)
